"""The numpy bridge (sparktorch7/_tensor.pxi): dtypes, shared memory whatever the
strides, lifetimes on both sides, read-only arrays, refused dtypes."""
import gc
import re

import numpy as np
import pytest

from sparktorch7 import LuaError, LuaState

PAIRS = [(np.float64, "torch.DoubleTensor"), (np.float32, "torch.FloatTensor"), (np.int64, "torch.LongTensor"),
         (np.int32, "torch.IntTensor"), (np.int16, "torch.ShortTensor"), (np.int8, "torch.CharTensor"),
         (np.uint8, "torch.ByteTensor")]


@pytest.fixture
def lua():
    state = LuaState()
    state.execute("""require 'torch'
        function ident(x) return x end
        function layout(x)
          return torch.typename(x), x:size():totable(), x:stride():totable(), x:storageOffset()
        end
        function elements(x)   -- row-major values read through t[i]... indexing
          local out = {}
          local function walk(v)
            if v:dim() == 1 then for i = 1, v:size(1) do out[#out + 1] = v[i] end
            else for i = 1, v:size(1) do walk(v[i]) end end
          end
          walk(x)
          return out
        end""")
    yield state
    state.close()


def lua_list(table):
    return [table[i] for i in range(1, len(table) + 1)]


@pytest.mark.parametrize("dtype, tname", PAIRS)
def test_dtypes_map_to_tensor_types_both_ways(lua, dtype, tname):
    arr = (np.arange(12) % 100).astype(dtype).reshape(3, 4)
    name, size, stride, offset = lua.globals().layout(arr)
    assert name == tname and lua_list(size) == [3, 4] and lua_list(stride) == [4, 1] and offset == 1
    assert lua.globals().ident(arr) is arr
    made = lua.execute(f"return {tname}(2, 3)")
    assert made.dtype == dtype and made.shape == (2, 3)


@pytest.mark.parametrize("dtype", [np.float16, np.complex64, np.uint16, np.uint32, np.uint64, object, "U3",
                                   "datetime64[s]"])
def test_other_dtypes_are_a_type_error_naming_the_dtype(lua, dtype):
    arr = np.zeros(3, dtype=dtype)
    with pytest.raises(TypeError, match=re.escape(f"numpy dtype {arr.dtype} has no torch tensor type")):
        lua.globals().ident(arr)


def test_big_endian_is_a_clear_error(lua):
    with pytest.raises(TypeError, match="byte order"):
        lua.globals().ident(np.zeros(3, dtype=">f8"))


def test_bool_becomes_a_byte_tensor_copy(lua):
    arr = np.array([True, False, True])
    name, _, _, _ = lua.globals().layout(arr)
    assert name == "torch.ByteTensor"
    back = lua.globals().ident(arr)
    assert back.dtype == np.uint8 and back.tolist() == [1, 0, 1]
    assert not np.shares_memory(back, arr)


def strided_cases():
    base = np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5)
    return {
        "contiguous": base,
        "sliced": base[:, 1:, ::2, 1:4],
        "negative": base[::-1, :, ::-2],
        "all_negative": base[::-1, ::-1, ::-1, ::-1],
        "transposed": base.transpose(3, 1, 0, 2),
        "broadcast": np.broadcast_to(np.arange(5.0), (3, 4, 5)),
        "fortran": np.asfortranarray(base),
        "float32_slice": base.astype(np.float32)[1, ::-1, 2],
        "int8_step": np.arange(50, dtype=np.int8)[3::7],
    }


@pytest.mark.parametrize("case", list(strided_cases()))
def test_arrays_arrive_as_tensors_sharing_memory_whatever_the_strides(lua, case):
    arr = strided_cases()[case]
    g = lua.globals()
    _, size, stride, _ = g.layout(arr)
    assert lua_list(size) == list(arr.shape)
    assert [s * arr.itemsize for s in lua_list(stride)] == list(arr.strides)
    np.testing.assert_array_equal(lua_list(g.elements(arr)), arr.ravel().tolist())
    back = g.ident(arr)
    assert back.shape == arr.shape and back.strides == arr.strides
    assert np.shares_memory(back, arr)
    np.testing.assert_array_equal(back, arr)


def test_writes_from_lua_show_in_the_array(lua):
    base = np.zeros((4, 6))
    view = base[::-1, 1::2]
    lua.execute("function poke(t) t[1][1] = 5; t[{2, 3}] = 7; t:select(2, 2):fill(-1) end")
    lua.globals().poke(view)
    expect = np.zeros((4, 6))
    expect[3, 1] = 5
    expect[2, 5] = 7
    expect[::-1, 3] = -1
    np.testing.assert_array_equal(base, expect)


def test_tensors_come_back_as_arrays_sharing_memory_with_their_strides(lua):
    t, whole = lua.execute("""local t = torch.FloatTensor(4, 6):zero()
        return t:narrow(2, 2, 3):t(), t""")
    assert t.shape == (3, 4) and t.strides == (4, 24) and t.dtype == np.float32
    assert np.shares_memory(t, whole)
    t[0, 0] = 9
    assert whole[0, 1] == 9
    assert lua.execute("return torch.Tensor(3):fill(2):select(1, 2)") == 2   # a number, not a tensor
    arr = lua.execute("local t = torch.LongTensor(5):zero(); return t:unfold(1, 2, 1)")
    assert arr.shape == (4, 2) and arr.strides == (8, 8)


def test_an_array_changed_in_place_between_crossings_is_seen_as_it_is_now(lua):
    g = lua.globals()
    arr = np.arange(6.0)
    assert g.layout(arr)[0] == "torch.DoubleTensor"
    arr.dtype = np.int64                       # same memory, reinterpreted
    name, size, _, _ = g.layout(arr)
    assert name == "torch.LongTensor" and lua_list(size) == [6]
    arr.shape = (2, 3)
    assert lua_list(g.layout(arr)[1]) == [2, 3]
    arr.flags.writeable = False
    with pytest.raises(LuaError, match="read-only"):
        lua.execute("return function(t) t[1][1] = 0 end")(arr)
    arr.flags.writeable = True
    lua.execute("return function(t) t[1][1] = 9 end")(arr)
    assert arr[0, 0] == 9


def test_storage_comes_back_as_a_1d_array(lua):
    s, t = lua.execute("local t = torch.IntTensor{{1, 2}, {3, 4}}; return t:storage(), t")
    assert s.dtype == np.int32 and s.tolist() == [1, 2, 3, 4]
    assert np.shares_memory(s, t)


def test_empty_tensor_is_an_empty_array(lua):
    arr = lua.execute("return torch.Tensor()")
    assert arr.shape == (0,) and arr.dtype == np.float64
    back = lua.globals().ident(np.zeros((0, 3)))
    assert back.shape == (0, 3)


def test_zero_dim_array_becomes_a_number(lua):
    assert lua.globals().ident(np.float32(2.5)) == 2.5
    assert lua.globals().ident(np.array(7)) == 7


def test_array_made_in_lua_outlives_the_lua_references(lua):
    arr = lua.execute("local t = torch.Tensor(1000):fill(3); return t")
    lua.execute("collectgarbage('collect'); collectgarbage('collect')")
    lua.gc()
    junk = [lua.execute("return torch.Tensor(1000):fill(9)") for _ in range(20)]
    del junk
    assert arr.sum() == 3000


def test_array_made_in_lua_outlives_the_state(lua):
    arr, view = lua.execute("local t = torch.Tensor(100000):fill(3); return t, t:narrow(1, 5, 10)")
    lua.close()
    others = [np.full(100000, 7.0) for _ in range(10)]
    assert arr.sum() == 300000 and view.sum() == 30
    arr[:] = 1
    assert view.sum() == 10 and others[0][0] == 7


def test_lua_keeps_an_array_passed_to_it_alive(lua):
    lua.execute("function keep(x) held = x end")
    arr = np.full(1000, 2.0)
    lua.globals().keep(arr[::2])
    del arr
    gc.collect()
    assert lua.execute("local s = 0; for i = 1, held:size(1) do s = s + held[i] end; return s") == 1000
    assert lua.execute("held[1] = 5; return held[1]") == 5


def test_the_array_dies_when_lua_drops_it(lua):
    import weakref

    class Arr(np.ndarray):
        pass

    arr = np.zeros(10).view(Arr)
    ref = weakref.ref(arr)
    lua.execute("function keep(x) held = x end")
    lua.globals().keep(arr)
    del arr
    gc.collect()
    assert ref() is not None
    lua.execute("held = nil")
    lua.gc()
    gc.collect()
    assert ref() is None


def test_storage_resize_in_lua_leaves_old_arrays_valid(lua):
    old = lua.execute("t = torch.Tensor(10):fill(4); return t")
    lua.execute("t:resize(100000):fill(1); collectgarbage('collect')")
    assert old.sum() == 40


def test_read_only_array_cannot_be_written_from_lua(lua):
    arr = np.arange(4.0)
    arr.flags.writeable = False
    for code in ["t[1] = 5", "t:fill(1)", "t:zero()", "t[{{1, 2}}] = 3", "t:copy(torch.Tensor(4))",
                 "t:apply(function() return 1 end)", "t:narrow(1, 2, 2):fill(0)", "t:storage()[1] = 2",
                 "t:storage():fill(2)"]:
        with pytest.raises(LuaError, match="read-only"):
            lua.execute(f"return function(t) {code} end")(arr)
    np.testing.assert_array_equal(arr, [0, 1, 2, 3])


def test_read_only_array_through_data_pointer_is_const(lua):
    arr = np.arange(4.0)
    arr.flags.writeable = False
    with pytest.raises(LuaError, match="constant"):
        lua.execute("return function(t) t:data()[0] = 5 end")(arr)
    assert lua.execute("return function(t) return t:data()[2] end")(arr) == 2.0
    np.testing.assert_array_equal(arr, [0, 1, 2, 3])


def test_read_only_array_comes_back_read_only(lua):
    arr = np.arange(4.0)
    arr.flags.writeable = False
    back = lua.execute("return function(t) return t:narrow(1, 2, 2) end")(arr)
    assert not back.flags.writeable and np.shares_memory(back, arr)
    assert lua.execute("return function(t) return t:clone() end")(arr).flags.writeable


def test_broadcast_array_is_read_only_in_lua(lua):
    arr = np.broadcast_to(np.arange(3.0), (4, 3))
    with pytest.raises(LuaError, match="read-only"):
        lua.execute("return function(t) t[1][1] = 1 end")(arr)


def test_misaligned_strides_are_refused(lua):
    raw = np.zeros(17, dtype=np.uint8)
    odd = raw[1:].view(np.float64)   # aligned by item size multiples is fine
    lua.globals().ident(odd)
    rec = np.zeros(4, dtype=[("a", np.float64), ("b", np.int8)])["a"]
    with pytest.raises(TypeError, match="not multiples of the item size"):
        lua.globals().ident(rec)


def test_arrays_in_containers_and_many_round_trips(lua):
    arrs = [np.arange(i + 1, dtype=np.float32) for i in range(50)]
    out = lua.execute("return function(t) local r = {} for i = 1, #t do r[i] = t[i] end return r end")(arrs)
    assert all(np.shares_memory(out[i + 1], arrs[i]) for i in range(50))


def test_memory_the_runtime_did_not_malloc_stays_with_lua(lua):
    # a storage over an FFI array (LuaJIT's own memory): exported through a proxy, never freed by Python
    arr = lua.execute("""local ffi = require 'ffi'
        local buf = ffi.new('double[4]', {1, 2, 3, 4})
        local s = torch.DoubleStorage(4)
        s._data, s._addr, s._owner = buf, tonumber(ffi.cast('intptr_t', buf)), buf
        keep = s
        return torch.DoubleTensor(s)""")
    np.testing.assert_array_equal(arr, [1, 2, 3, 4])
    assert lua.execute("return type(keep._owner)") == "cdata"
    del arr
    gc.collect()
    lua.gc()
    assert lua.execute("return keep[4]") == 4


# ---------------------------------------------------------------- leaks: 10**5 crossings
N = 10 ** 5


def rss():
    import psutil
    gc.collect()
    return psutil.Process().memory_info().rss


@pytest.mark.slow
def test_refcounts_of_arrays_come_back(lua):
    import sys
    arr = np.zeros((4, 5))
    view = arr[:, ::2]
    base_arr, base_view = sys.getrefcount(arr), sys.getrefcount(view)
    ident = lua.eval("function(x) return x end")
    keep = lua.eval("function(x) last = x:t() end")
    for _ in range(N):
        assert ident(arr) is arr
        ident(view)
        keep(view)
    lua.execute("last = nil")
    lua.gc()
    gc.collect()
    assert sys.getrefcount(arr) == base_arr and sys.getrefcount(view) == base_view


@pytest.mark.slow
def test_rss_stays_flat_over_many_tensor_crossings():
    lua = LuaState()
    try:
        lua.execute("require 'torch'")
        ident = lua.eval("function(x) return x end")
        make = lua.eval("function(n) return torch.FloatTensor(n):fill(1) end")
        arr = np.ones(1000)

        def run(n):
            for i in range(n):
                ident(arr[i % 7:])
                assert make(1000).sum() == 1000      # a block handed to Python, then freed
            lua.gc()

        run(N // 5)
        before = rss()
        run(N)
        after = rss()
        assert after - before < 20 * 2 ** 20, (before, after)
        assert lua.memory_used() < 8 * 2 ** 20
    finally:
        lua.close()


# ---------------------------------------------------------------- an array crossing again
# The tensor made for an array is reused when the same array crosses again, as long as
# nothing changed it (Lua) or the array's layout (Python); otherwise a new one is made.
def test_the_same_array_crossing_again_is_the_same_tensor(lua):
    lua.execute("function same(x) local r = rawequal(x, LAST); LAST = x; return r end")
    a = np.arange(6.0).reshape(2, 3)
    assert lua.globals().same(a) is False
    assert lua.globals().same(a) is True
    assert lua.globals().same(a.copy()) is False
    assert lua.globals().ident(a) is a


def test_a_tensor_changed_in_lua_is_not_reused(lua):
    lua.execute("function shrink(x) x:resize(2); KEPT = x; return x end")
    a = np.arange(6.0)
    back = lua.globals().shrink(a)
    assert back is not a and back.shape == (2,) and np.shares_memory(back, a)
    # the next crossing gives the array's own layout, not the resized tensor
    assert lua.eval("KEPT:size(1)") == 2
    assert lua_list(lua.globals().layout(a)[1]) == [6]
    assert lua.globals().ident(a) is a
    # a storage resized in Lua: the tensor on it no longer views the array
    lua.execute("function regrow(x) x:storage():resize(2); KEPT2 = x; return x end")
    b = np.arange(4.0)
    with pytest.raises(ValueError, match="views elements 1..4 of a storage of 2 elements"):
        lua.globals().regrow(b)
    assert lua.globals().ident(b) is b and lua_list(lua.globals().layout(b)[1]) == [4]


def test_an_array_reshaped_in_place_crosses_with_its_new_layout(lua):
    lua.execute("function keep(x) KEPT = x; return x end")
    a = np.arange(12.0)
    assert lua.globals().keep(a) is a
    a.shape = (3, 4)
    assert lua_list(lua.globals().layout(a)[1]) == [3, 4]
    assert lua.globals().ident(a) is a and a.shape == (3, 4)
    # the tensor kept from before still views 12 elements in a row: it comes back as such
    old = lua.eval("KEPT")
    assert old is not a and old.shape == (12,) and np.shares_memory(old, a)


def test_an_array_made_read_only_between_crossings_is_read_only_in_lua(lua):
    lua.execute("function keep(x) KEPT = x end; function poke(x) x[1] = 5 end")
    a = np.zeros(3)
    lua.globals().keep(a)
    lua.globals().poke(a)
    assert a[0] == 5
    a.flags.writeable = False
    with pytest.raises(LuaError, match="read-only"):
        lua.globals().poke(a)
    assert a[0] == 5
