"""torch.File, torch.DiskFile and torch.MemoryFile (doc/file.md, diskfile.md, memoryfile.md)."""
import textwrap
import time

import numpy as np
import pytest

import sparktorch7 as st


@pytest.fixture
def lua():
    state = st.LuaState()
    state.execute("require 'torch'")
    yield state
    state.close()


def q(path) -> str:
    return "'" + str(path).replace("\\", "\\\\").replace("'", "\\'") + "'"


def run(lua, code):
    lua.execute(textwrap.dedent(code))


def contents(lua, expr="f:_string()"):
    lua.execute(f"_s = {expr}")
    return bytes.fromhex(lua.eval("(_s:gsub('.', function(c) return string.format('%02x', c:byte()) end))"))


TYPES = ["Byte", "Char", "Short", "Int", "Long", "Float", "Double"]
VALUES = {"Byte": [0, 7, 255], "Char": [-128, 0, 127], "Short": [-32768, 5, 32767],
          "Int": [-2 ** 31, 9, 2 ** 31 - 1], "Long": [-2 ** 40, 0, 2 ** 50],
          "Float": [1.5, -0.25, 3e38], "Double": [0.1, -1e-300, 1e300]}


@pytest.mark.parametrize("mode", ["binary", "ascii"])
@pytest.mark.parametrize("name", TYPES)
def test_scalars_and_storages(lua, mode, name):
    vals = VALUES[name]
    lit = "{" + ", ".join(repr(v) if name in ("Float", "Double") else str(v) for v in vals) + "}"
    run(lua, f"""
        f = torch.MemoryFile():{mode}()
        f:write{name}({vals[1]!r})
        f:write{name}(torch.{name}Storage({lit}))
        f:seek(1)
        one = f:read{name}()
        s = f:read{name}(3)
        f:seek(1)
        f:read{name}()
        into = torch.{name}Storage(3)
        n = f:read{name}(into)
        pos = f:position()
        f:seekEnd()
        last = f:position()
    """)
    assert lua.eval("one") == vals[1]
    assert lua.eval(f"torch.typename(s)") == f"torch.{name}Storage" and lua.eval("s:size()") == 3
    got = lua.eval("s").tolist()
    if name == "Float":
        np.testing.assert_allclose(got, vals, rtol=1e-7)
    else:
        assert got == vals
    assert lua.eval("n") == 3 and lua.eval("into").tolist() == got
    assert lua.eval("pos == last") is True


def test_binary_layout(lua):
    run(lua, """
        f = torch.MemoryFile():binary()
        f:writeInt(1); f:writeDouble(1); f:writeBool(true); f:writeBool(false); f:writeLong(-2)
        f:writeString('ab')
    """)
    assert contents(lua) == (b"\x01\x00\x00\x00" + np.float64(1).tobytes() + b"\x01\x00\x00\x00" +
                             b"\x00\x00\x00\x00" + np.int64(-2).tobytes() + b"ab")


def test_ascii_layout(lua):
    run(lua, """
        f = torch.MemoryFile()   -- ASCII is the default
        f:writeInt(3); f:writeDouble(0.1); f:writeFloat(0.1); f:writeInt(torch.IntStorage({1, 2, 3}))
        f:writeChar(torch.CharStorage():string('V 1')); f:writeBool(true)
    """)
    assert contents(lua) == b"3\n0.10000000000000001\n0.100000001\n1 2 3\nV 1\n1\n"
    run(lua, """
        f:noAutoSpacing(); g = torch.MemoryFile(); g:noAutoSpacing(); g:writeInt(5); g:writeInt(6)
    """)
    assert contents(lua, "g:_string()") == b"56"
    assert lua.eval("f:isAutoSpacing()") is False


def test_ascii_special_numbers(lua):
    run(lua, """
        f = torch.MemoryFile()
        f:writeDouble(torch.DoubleStorage({1/0, -1/0, 0/0, -0.0}))
        f:seek(1)
        d = f:readDouble(4)
    """)
    vals = lua.eval("d")
    assert vals[0] == np.inf and vals[1] == -np.inf and np.isnan(vals[2]) and vals[3] == 0


def test_long_size(lua):
    run(lua, """
        f = torch.MemoryFile():binary():longSize(4)
        f:writeLong(torch.LongStorage({5, -6}))
        four = f:position()
        f:longSize(8); f:writeLong(7); eight = f:position()
        f:seek(1); f:longSize(4)
        a = f:readLong(2)
        f:longSize(0)
        b = f:readLong()
    """)
    assert lua.eval("four") == 9 and lua.eval("eight") == 17
    assert lua.eval("a").tolist() == [5, -6] and lua.eval("b") == 7
    with pytest.raises(st.LuaError, match="longSize must be 0, 4 or 8, got 3"):
        lua.execute("f:longSize(3)")


def test_endianness(lua):
    run(lua, """
        f = torch.MemoryFile():binary():bigEndianEncoding()
        f:writeInt(1); f:writeShort(torch.ShortStorage({0x0102})); f:writeDouble(1)
        f:seek(1)
        a = f:readInt(); b = f:readShort(); c = f:readDouble()
    """)
    assert contents(lua) == b"\x00\x00\x00\x01\x01\x02" + np.float64(1).byteswap().tobytes()
    assert (lua.eval("a"), lua.eval("b"), lua.eval("c")) == (1, 0x0102, 1)


def test_strings(lua):
    run(lua, """
        f = torch.MemoryFile()
        f:writeString('first line\\nsecond\\n\\0third')
        f:seek(1)
        l1 = f:readString('*l'); l2 = f:readString('*l'); rest = f:readString('*a')
        f:quiet()
        empty = f:readString('*a')
        err = f:hasError()
    """)
    assert lua.eval("l1") == "first line" and lua.eval("l2") == "second"
    assert lua.eval("rest") == "\0third"
    assert lua.eval("empty") == "" and lua.eval("err") is True
    with pytest.raises(st.LuaError, match="format must be '\\*a' or '\\*l'"):
        lua.execute("f:readString('*n')")


def test_read_past_end_pedantic_and_quiet(lua):
    run(lua, "f = torch.MemoryFile():binary(); f:writeInt(1); f:seek(1); f:readInt()")
    # a Lua error whose message starts with "T7FormatError:" (sparktorch7.load_t7 raises it
    # as st.T7FormatError; LuaState maps it too once the core does)
    with pytest.raises(st.T7FormatError, match=r"expected 1 Int values, got 0 at byte offset 4 of <memory>"):
        lua.execute("f:readInt()")
    run(lua, """
        f:seek(1); f:quiet()
        s = f:readInt(5)        -- only one available: a storage of what was read
        q = f:isQuiet(); e = f:hasError()
        f:clearError(); e2 = f:hasError()
    """)
    assert lua.eval("s:size()") == 1 and lua.eval("s[1]") == 1
    assert lua.eval("q") is True and lua.eval("e") is True and lua.eval("e2") is False


def test_disk_file_round_trip(lua, tmp_path):
    path = tmp_path / "data.bin"
    run(lua, f"""
        local f = torch.DiskFile({q(path)}, 'w'):binary()
        f:writeInt(42); f:writeFloat(torch.FloatStorage({{1, 2, 3}})); f:writeString('tail')
        w = f:isWritable() and not f:isReadable()
        f:close()
        local g = torch.DiskFile({q(path)}, 'r'):binary()
        a = g:readInt(); b = g:readFloat(3); c = g:readString('*a')
        g:seek(5); b2 = g:readFloat()
        g:close()
    """)
    assert lua.eval("w") is True
    assert path.read_bytes() == (b"\x2a\x00\x00\x00" + np.array([1, 2, 3], np.float32).tobytes() + b"tail")
    assert lua.eval("a") == 42 and lua.eval("b").tolist() == [1, 2, 3] and lua.eval("c") == "tail"
    assert lua.eval("b2") == 1


def test_disk_file_rw_mode(lua, tmp_path):
    path = tmp_path / "rw.txt"
    run(lua, f"""
        local f = torch.DiskFile({q(path)}, 'rw')
        f:writeInt(7); f:writeInt(8)
        f:seek(1)
        x = f:readInt()
        f:seekEnd(); f:writeInt(9)
        f:seek(1); all = f:readString('*a')
        f:close()
    """)
    assert lua.eval("x") == 7 and lua.eval("all") == "7\n8\n9\n"


def test_disk_file_errors(lua, tmp_path):
    with pytest.raises(st.LuaError, match=r"cannot open </nonexistent/dir/x> in mode r: No such file"):
        lua.execute("torch.DiskFile('/nonexistent/dir/x', 'r')")
    with pytest.raises(st.LuaError, match=r"file mode must be 'r', 'rw', 'w', got a"):
        lua.execute(f"torch.DiskFile({q(tmp_path / 'x')}, 'a')")
    run(lua, f"quietf = torch.DiskFile('/nonexistent/dir/x', 'r', true)")
    assert lua.eval("quietf:hasError() and not quietf:isOpened()") is True
    path = tmp_path / "ro.bin"
    path.write_bytes(b"1234")
    run(lua, f"ro = torch.DiskFile({q(path)}, 'r')")
    with pytest.raises(st.LuaError, match="attempt to write in a read-only file"):
        lua.execute("ro:writeInt(1)")
    run(lua, "ro:close()")
    with pytest.raises(st.LuaError, match="attempt to use a closed file"):
        lua.execute("ro:readInt()")
    with pytest.raises(st.LuaError, match="readFloat expects nothing, a count or a torch.FloatStorage, got torch.IntStorage"):
        lua.execute("torch.MemoryFile():readFloat(torch.IntStorage(2))")


def test_memory_file_storage(lua):
    run(lua, """
        f = torch.MemoryFile('rw'):binary()
        f:writeInt(258)
        s = f:storage()
        g = torch.MemoryFile(s, 'r'):binary()
        v = g:readInt()
        ro = g:isWritable()
    """)
    assert lua.eval("torch.typename(s)") == "torch.CharStorage"
    assert lua.eval("s:size()") == 5 and lua.eval("s[5]") == 0      # contents and a trailing '\0'
    assert lua.eval("v") == 258 and lua.eval("ro") is False


def test_object_clone_through_memory_file(lua):
    run(lua, """
        local x = torch.DoubleTensor({1, 2, 3})
        local f = torch.MemoryFile()
        f:writeObject({x, x})
        f:seek(1)
        y = f:readObject()
    """)
    assert lua.eval("y[1] == y[2]") is True
    assert lua.eval("y[1]").tolist() == [1, 2, 3]


@pytest.mark.slow
def test_big_storage_reads_at_disk_speed(lua, tmp_path):
    """100 MB of floats are read with one fread into the storage, not element by element."""
    path = tmp_path / "big.bin"
    n = 25 * 1024 * 1024
    np.arange(n, dtype=np.float32).tofile(path)
    t0 = time.perf_counter()
    run(lua, f"""
        local f = torch.DiskFile({q(path)}, 'r'):binary()
        big = f:readFloat({n})
        f:close()
    """)
    elapsed = time.perf_counter() - t0
    arr = lua.eval("big")
    assert arr.shape == (n,) and arr[12345] == 12345 and arr[-1] == n - 1
    assert elapsed < 5, f"reading 100 MB took {elapsed:.1f}s"
    run(lua, "big = nil; collectgarbage()")


def test_big_storage_claim_is_checked_before_allocating(lua, tmp_path):
    path = tmp_path / "small.bin"
    path.write_bytes(b"\x00" * 16)
    with pytest.raises(st.T7FormatError, match=r"expected 1000000000 Double values, got 2 at byte offset 0"):
        lua.execute(f"torch.DiskFile({q(path)}, 'r'):binary():readDouble(1e9)")


def test_pipe_file(lua, tmp_path):
    out = tmp_path / "pipe.txt"
    run(lua, f"""
        local p = torch.PipeFile('printf "12 34\\\\n"', 'r')
        a = p:readInt(); b = p:readInt()
        p:close()
        local w = torch.PipeFile('cat > {out}', 'w')
        w:writeDouble(0.5)
        w:close()
    """)
    assert (lua.eval("a"), lua.eval("b")) == (12, 34)
    assert out.read_text() == "0.5\n"
    with pytest.raises(st.LuaError, match="mode must be 'r' or 'w'"):
        lua.execute("torch.PipeFile('true', 'rw')")


def test_directory_is_refused(lua, tmp_path):
    with pytest.raises(st.LuaError, match="Is a directory"):
        lua.execute(f"torch.DiskFile({q(tmp_path)}, 'r')")
    with pytest.raises(IsADirectoryError):
        st.load_t7(tmp_path)


# ---------------------------------------------------------------- storages mapped from files
# doc/storage.md: torch.<T>Storage(filename [, shared [, size [, sharedMem]]])

def test_mapped_storage_reads_the_file(lua, tmp_path):
    path = tmp_path / "data.bin"
    ref = np.arange(6, dtype=np.float64) * 1.5
    ref.tofile(path)
    run(lua, f"""
        s = torch.DoubleStorage({q(path)})              -- whole file, private mapping
        part = torch.DoubleStorage({q(path)}, false, 4)
        s[1] = 100                                        -- stays in memory
    """)
    assert lua.eval("s:size()") == 6 and lua.eval("part:size()") == 4
    assert lua.eval("torch.DoubleTensor(s)").tolist() == [100] + ref[1:].tolist()
    assert lua.eval("torch.DoubleTensor(part)").tolist() == ref[:4].tolist()
    run(lua, "s = nil; part = nil; collectgarbage(); collectgarbage()")
    np.testing.assert_array_equal(np.fromfile(path), ref)
    with pytest.raises(st.LuaError, match=r"size \(48 bytes\) is smaller than the required mapping size <80>"):
        lua.execute(f"torch.DoubleStorage({q(path)}, false, 10)")
    with pytest.raises(st.LuaError, match="unable to open file <.*missing.bin> in read-only mode"):
        lua.execute(f"torch.FloatStorage({q(tmp_path / 'missing.bin')})")


def test_shared_mapped_storage_writes_through(lua, tmp_path):
    path = tmp_path / "shared.bin"
    run(lua, f"""
        s = torch.FloatStorage({q(path)}, true, 5)      -- created, grown to 5 floats
        t = torch.FloatTensor(s, 1, torch.LongStorage{{5}})
        t:copy(torch.FloatTensor({{1, 2, 3, 4, 5}}))
        s2 = torch.FloatStorage({q(path)}, true)         -- a second mapping of the same file
    """)
    np.testing.assert_array_equal(np.fromfile(path, dtype=np.float32), [1, 2, 3, 4, 5])
    lua.execute("s2[2] = -7")
    assert lua.eval("t[2]") == -7
    with pytest.raises(st.LuaError, match="maps file .*: its size cannot change"):
        lua.execute("s:resize(10)")
    arr = lua.eval("t")          # shares the mapping, which outlives the state
    lua.close()
    arr[0] = 42
    del arr
    np.testing.assert_array_equal(np.fromfile(path, dtype=np.float32), [42, -7, 3, 4, 5])


def test_shared_memory_storage_is_unlinked_when_collected(lua, tmp_path):
    import os
    name = f"sparktorch7_test_{os.getpid()}_{time.monotonic_ns()}"
    shm = f"/dev/shm/{name}"
    if not os.path.isdir("/dev/shm"):
        pytest.skip("no /dev/shm")
    run(lua, f"""
        s = torch.DoubleStorage('{name}', true, 4, true)
        s:fill(0.25)
        other = torch.DoubleStorage('{shm}', true, 4)   -- the same memory through its file
    """)
    assert os.path.exists(shm) and os.path.getsize(shm) == 32
    np.testing.assert_array_equal(np.fromfile(shm), [0.25] * 4)
    assert lua.eval("other[3]") == 0.25
    run(lua, "s = nil; collectgarbage(); collectgarbage()")
    assert not os.path.exists(shm)
    assert lua.eval("other[3]") == 0.25     # a mapping outlives the name


@pytest.mark.parametrize("mode", ["binary", "ascii"])
def test_read_write_pointer(lua, mode):
    run(lua, f"""
        local f = torch.MemoryFile():{mode}():longSize(4)
        f:writePointer(2^47 + 12345)
        f:writePointer(torch.pointer({{}}))
        f:seek(1)
        p1 = f:readPointer(); p2 = f:readPointer()
        n = f:position() - 1
    """)
    assert lua.eval("p1") == 2 ** 47 + 12345
    assert lua.eval("p2 ~= 0 and p2 == math.floor(p2)") is True
    if mode == "binary":
        assert lua.eval("n") == 16       # 8 bytes each, whatever longSize
