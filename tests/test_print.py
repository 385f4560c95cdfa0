"""Lua's print, io.write and io.stdout:write go to Python's sys.stdout (io.stderr:write to
sys.stderr), with Lua's formatting, in order with Python's own output."""
import contextlib
import io
import time

import pytest

from sparktorch7 import LuaError, LuaState


def test_print_formats_as_lua(lua, capsys):
    lua.execute("""
        print('a', 1, 2.5, nil, true, false, 2^53, -0.0, 1/0, 0/0)
        print()
        print(setmetatable({}, {__tostring = function() return 'custom' end}))
        print(setmetatable({}, {__tostring = function() return 42 end}))
        print('x')
    """)
    assert capsys.readouterr().out == (
        "a\t1\t2.5\tnil\ttrue\tfalse\t9.007199254741e+15\t-0\tinf\tnan\n"
        "\ncustom\n42\nx\n")


def test_print_uses_the_global_tostring(lua, capsys):
    lua.execute("local old = tostring  tostring = function(v) return '<' .. old(v) .. '>' end  print(1, 'a')")
    assert capsys.readouterr().out == "<1>\t<a>\n"
    with pytest.raises(LuaError, match="'tostring' must return a string to 'print'"):
        lua.execute("tostring = function() return {} end  print(1)")


def test_io_write_and_stdout_write(lua, capsys):
    lua.execute(r"""
        io.write('x', 1, ' ', 0.1, ' ', 2^63, '\n')
        io.stdout:write('y', 2, '\n')
        io.stderr:write('to stderr ', 3, '\n')
    """)
    out, err = capsys.readouterr()
    assert out == "x1 0.1 9.2233720368548e+18\ny2\n"
    assert err == "to stderr 3\n"
    assert lua.eval("io.write('')") is True           # as LuaJIT's io.write (Lua 5.1 mode)
    assert lua.eval("io.type(io.stdout)") == "file"


def test_write_errors_blame_the_caller(lua, capsys):
    with pytest.raises(LuaError, match=r"^user\.lua:1: bad argument #1 to 'write' \(string expected, got table\)"):
        lua.execute("io.write({})", name="user.lua")
    with pytest.raises(LuaError, match=r"^user\.lua:2: bad argument #2 to 'write' \(string expected, got nil\)"):
        lua.execute("\nio.stdout:write('ok', nil)", name="user.lua")
    assert capsys.readouterr().out == ""                # nothing written by a failed write


def test_redirect_stdout_sees_lua_output(lua):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        lua.execute("print('inside') io.write('more\\n')")
    lua.eval("function() print('outside') end")          # not into buf
    assert buf.getvalue() == "inside\nmore\n"


def test_order_with_python_output(lua, capsys):
    lua.py_globals["say"] = lambda s: print("py", s)
    lua.execute("""
        print('lua 1')
        py.eval('say')('a')
        io.write('lua 2\\n')
        io.stderr:write('err\\n')
        print('lua 3')
    """)
    print("after")
    out, err = capsys.readouterr()
    assert out == "lua 1\npy a\nlua 2\nlua 3\nafter\n"
    assert err == "err\n"


def test_io_output_redirects_io_write(lua, tmp_path, capsys):
    path = tmp_path / "out.txt"
    lua.execute(f"""
        io.output({str(path)!r})
        io.write('to the file ', 1, '\\n')
        io.output():write('again\\n')
        io.output():close()
        io.output(io.stdout)
        io.write('back\\n')
    """)
    assert path.read_text() == "to the file 1\nagain\n"
    assert capsys.readouterr().out == "back\n"


def test_long_output_and_utf8(lua, capsys):
    # more than the 16 KiB gathered at a time, with a 2-byte character across every boundary
    lua.execute("for i = 1, 5000 do io.write('\\195\\169abcdefg') end io.write('\\n', '\\255', '\\n')")
    out = capsys.readouterr().out
    assert out == "éabcdefg" * 5000 + "\n\ufffd\n"


class Recorder:
    def __init__(self):
        self.writes, self.flushes = [], 0

    def write(self, text):
        self.writes.append((time.monotonic(), text))
        return len(text)

    def flush(self):
        self.flushes += 1


def test_output_of_a_long_call_is_not_held_back(lua):
    rec = Recorder()
    with contextlib.redirect_stdout(rec):
        t0 = time.monotonic()
        lua.execute("""
            local function wait(s) local t = os.clock() + s while os.clock() < t do end end
            print('started') wait(0.15) print('progress') wait(0.4)
        """)
        t1 = time.monotonic()
    text = "".join(t for _, t in rec.writes)
    assert text == "started\nprogress\n"
    assert rec.writes[0][0] < t1 - 0.3                   # written while the call still ran


def test_flush(lua):
    rec = Recorder()
    with contextlib.redirect_stdout(rec):
        lua.execute("io.write('a') io.flush() io.write('b') io.stdout:flush()")
    assert [t for _, t in rec.writes] == ["a", "b"] and rec.flushes == 2


def test_a_failing_stdout_becomes_a_lua_error(lua, monkeypatch):
    seen = []
    monkeypatch.setattr("sys.unraisablehook", lambda u: seen.append(u.exc_value))

    class Broken:
        def write(self, text):
            raise OSError("disk full")

        def flush(self):
            pass

    with contextlib.redirect_stdout(Broken()):
        with pytest.raises(OSError, match="disk full"):
            lua.execute("for i = 1, 10000 do print('line', i) end")   # when its buffer fills
        lua.execute("print('short')")                                  # at the call's end: not raised
    assert [str(e) for e in seen] == ["disk full"]                     # ... but reported


def test_print_in_finalizers_and_on_close(capsys):
    lua = LuaState()
    lua.execute("holder = newproxy(true) getmetatable(holder).__gc = function() print('finalized') end print('open')")
    lua.close()
    assert capsys.readouterr().out == "open\nfinalized\n"
