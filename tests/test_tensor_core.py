"""The tensor core (lua/torch/Storage.lua, Tensor.lua): types, constructors, layout,
views, indexing, copies and printing, compared with NumPy and with Torch7's rules."""
import numpy as np
import pytest

from sparktorch7 import LuaError

TYPES = ["Double", "Float", "Long", "Int", "Short", "Char", "Byte"]
DTYPES = {"Double": np.float64, "Float": np.float32, "Long": np.int64, "Int": np.int32,
          "Short": np.int16, "Char": np.int8, "Byte": np.uint8}


@pytest.fixture
def lua(lua):
    """conftest's fresh state, with torch loaded."""
    lua.require("torch")
    return lua


def run(lua, code):
    return lua.execute(code)


def lua_error(lua, code):
    with pytest.raises(LuaError) as info:
        lua.execute(code)
    return str(info.value)


# ---------------------------------------------------------------- types
@pytest.mark.parametrize("name", TYPES)
def test_each_type_has_a_tensor_and_a_storage(lua, name):
    tname, sname, size = run(lua, f"""
        local t = torch.{name}Tensor(2, 3)
        local s = torch.{name}Storage(4)
        return torch.typename(t) .. '|' .. t:type(), torch.typename(s), t:elementSize()""")
    assert tname == f"torch.{name}Tensor|torch.{name}Tensor"
    assert sname == f"torch.{name}Storage"
    assert size == np.dtype(DTYPES[name]).itemsize
    arr = run(lua, f"return torch.{name}Tensor(2, 3)")
    assert arr.dtype == DTYPES[name] and arr.shape == (2, 3)


def test_default_tensor_type_drives_torch_Tensor_and_Storage(lua):
    assert run(lua, "return torch.getdefaulttensortype()") == "torch.DoubleTensor"
    assert run(lua, "return torch.Tensor(2):type()") == "torch.DoubleTensor"
    assert run(lua, """torch.setdefaulttensortype('torch.FloatTensor')
        return torch.Tensor(2):type(), torch.typename(torch.Storage(2)), torch.getdefaulttensortype()""") == (
        "torch.FloatTensor", "torch.FloatStorage", "torch.FloatTensor")
    assert "torch.FloatTensor" in lua_error(lua, "torch.setdefaulttensortype('torch.Nope')")


@pytest.mark.parametrize("cuda, cpu", [("Cuda", "Float"), ("CudaDouble", "Double"), ("CudaLong", "Long"),
                                       ("CudaInt", "Int"), ("CudaByte", "Byte"), ("CudaHalf", "Float")])
def test_cuda_names_are_their_cpu_twins(lua, cuda, cpu):
    assert run(lua, f"return torch.{cuda}Tensor == torch.{cpu}Tensor, torch.{cuda}Storage == torch.{cpu}Storage") == (
        True, True)
    assert run(lua, f"return torch.{cuda}Tensor(3):type()") == f"torch.{cpu}Tensor"
    assert run(lua, f"return torch.getmetatable('torch.{cuda}Tensor') == torch.getmetatable('torch.{cpu}Tensor')")


def test_cuda_methods_give_cpu_tensors(lua):
    assert run(lua, "return torch.DoubleTensor(2):cuda():type()") == "torch.FloatTensor"
    assert run(lua, "return torch.FloatTensor(2):cudaDouble():type()") == "torch.DoubleTensor"
    assert run(lua, "return torch.FloatTensor(2):cudaLong():type()") == "torch.LongTensor"
    assert run(lua, "return torch.FloatTensor(2):type('torch.CudaTensor'):type()") == "torch.FloatTensor"


# ---------------------------------------------------------------- constructors
def test_constructor_from_sizes(lua):
    arr = run(lua, "return torch.Tensor(2, 3, 4)")
    assert arr.shape == (2, 3, 4) and arr.strides == (96, 32, 8)
    assert run(lua, "return torch.Tensor():dim(), torch.Tensor():nElement()") == (0, 0)


def test_a_zero_size_ends_the_dimensions_as_in_torch7(lua):
    assert run(lua, "return torch.Tensor(0):dim(), torch.Tensor(3, 0):dim(), torch.Tensor(3, 0, 2):nElement()") == (
        0, 1, 3)
    assert run(lua, "return torch.Tensor(2, 3):resize(0):dim()") == 0


def test_constructor_rejects_bad_sizes(lua):
    assert "size 2 must be a non-negative integer, got -1" in lua_error(lua, "torch.Tensor(2, -1)")
    assert "size 1 must be a non-negative integer, got inf" in lua_error(lua, "torch.Tensor(1/0)")
    assert "sizes must be numbers" in lua_error(lua, "torch.Tensor(2, 'x')")


def test_fractional_sizes_truncate_toward_zero_as_in_torch7(lua):
    # luaL_checklong truncates: torch.Tensor(n / 2) with n odd is common in Torch7 code
    assert run(lua, "return torch.Tensor(2.7, 3.2):size(1), torch.Tensor(2.7, 3.2):size(2)") == (2, 3)
    assert run(lua, "return torch.Tensor(5):resize(1.5, 6.9):size(2)") == 6
    assert run(lua, "return torch.zeros(2.2, 3.9):nElement(), torch.rand(2.9):nElement()") == (6, 2)
    assert run(lua, "return torch.Tensor(2, 2):view(1.5, 4):size(1)") == 1
    assert run(lua, "return torch.Tensor(-0.5):dim()") == 0
    assert run(lua, "return torch.Tensor(2):resize(3.5):nElement()") == 3


def test_constructor_from_long_storage_sizes_and_strides(lua):
    shape, strides = run(lua, """
        local t = torch.Tensor(torch.LongStorage{2, 3})
        local u = torch.Tensor(torch.LongStorage{2, 3}, torch.LongStorage{1, 2})
        return t:size():totable(), u:stride():totable()""")
    assert shape == {1: 2, 2: 3} and strides == {1: 1, 2: 2}


def test_constructor_from_nested_tables(lua):
    arr = run(lua, "return torch.Tensor({{1, 2, 3}, {4, 5, 6}})")
    np.testing.assert_array_equal(arr, [[1, 2, 3], [4, 5, 6]])
    arr = run(lua, "return torch.IntTensor({{{1}, {2}}, {{3}, {4}}})")
    assert arr.dtype == np.int32
    np.testing.assert_array_equal(arr, np.arange(1, 5).reshape(2, 2, 1))
    assert "not rectangular" in lua_error(lua, "torch.Tensor({{1, 2}, {3}})")
    assert "expected a number" in lua_error(lua, "torch.Tensor({1, 'a'})")


def test_constructor_on_a_storage(lua):
    # the whole storage; (offset, LongStorage sizes [, strides]); (offset, size, stride, ...)
    whole, sub, strided, numeric = run(lua, """
        local s = torch.DoubleStorage(12)
        for i = 1, 12 do s[i] = i end
        return torch.Tensor(s), torch.Tensor(s, 3, torch.LongStorage{2, 2}),
               torch.Tensor(s, 2, torch.LongStorage{2, 3}, torch.LongStorage{1, 2}),
               torch.Tensor(s, 1, 3, 4, 4, 1)""")
    base = np.arange(1.0, 13.0)
    np.testing.assert_array_equal(whole, base)
    np.testing.assert_array_equal(sub, base[2:6].reshape(2, 2))
    np.testing.assert_array_equal(strided, np.lib.stride_tricks.as_strided(base[1:], (2, 3), (8, 16)))
    np.testing.assert_array_equal(numeric, base.reshape(3, 4))
    assert np.shares_memory(whole, sub)


def test_numeric_storage_form_fills_missing_strides_like_th(lua):
    # a stride of -1 (or none) is the contiguous one given the following dimensions' strides
    assert run(lua, """local s = torch.DoubleStorage(20)
        return torch.Tensor(s, 1, 2, -1, 3, 2):stride():totable()""") == {1: 6, 2: 2}
    assert run(lua, """local s = torch.DoubleStorage(20)
        return torch.Tensor(s, 1, 2, 5, 3):stride():totable()""") == {1: 5, 2: 1}


def test_constructor_on_a_storage_checks_the_extent(lua):
    assert "past the end of the storage" in lua_error(lua, "torch.Tensor(torch.DoubleStorage(5), 1, 2, 5)")
    assert "past the end of the storage" in lua_error(lua, "torch.Tensor(torch.DoubleStorage(5), 5, 2)")


def test_constructor_from_another_tensor_shares_it(lua):
    same, values = run(lua, """
        local a = torch.Tensor(2, 3):fill(1)
        local b = torch.Tensor(a)
        b[1][2] = 7
        return b:isSetTo(a), a""")
    assert same
    assert values[0, 1] == 7 and values.sum() == 12


# ---------------------------------------------------------------- sizes and layout
def test_size_stride_dim_nelement(lua):
    size, s2, stride, dim, ndim, n = run(lua, """
        local t = torch.Tensor(2, 3, 4)
        return t:size():totable(), t:size(2), t:stride():totable(), t:dim(), t:nDimension(), t:nElement()""")
    assert size == {1: 2, 2: 3, 3: 4} and s2 == 3 and stride == {1: 12, 2: 4, 3: 1}
    assert (dim, ndim, n) == (3, 3, 24)

def test_len_method_and_real(lua):
    assert run(lua, "local t = torch.Tensor(2, 5); return t:__len__():totable()") == {1: 2, 2: 5}
    assert run(lua, """torch.setdefaulttensortype('torch.FloatTensor')
        return torch.IntTensor(2):real():type()""") == "torch.FloatTensor"
    assert run(lua, "local t = torch.Tensor(2, 5); t:empty(); return t:dim(), t:nElement()") == (0, 0)


def test_len_operator_gives_a_long_storage(lua):
    assert run(lua, "local t = torch.Tensor(2, 5); return torch.typename(#t), (#t)[1], (#t)[2]") == (
        "torch.LongStorage", 2, 5)
    assert run(lua, "return (#torch.Tensor()):size(), #torch.FloatStorage(7), (#torch.rand(3, 4):t())[1]") == (0, 7, 4)


def test_tensors_and_storages_are_userdata_as_in_torch7(lua):
    # scripts tell tables of outputs from tensors with type(x) == 'table'
    assert run(lua, "return type(torch.Tensor(2)), type(torch.LongStorage(2)), type(torch.Tensor)") == (
        "userdata", "userdata", "table")
    assert run(lua, "return torch.isTensor(torch.Tensor), torch.isStorage(torch.FloatStorage)") == (False, False)
    assert run(lua, "return getmetatable(torch.Tensor(2)) == torch.getmetatable('torch.DoubleTensor')") is True


def test_size_of_a_missing_dimension_blames_the_caller(lua):
    msg = lua_error(lua, "local t = torch.Tensor(2, 3)\nlocal x = t:size(3)")
    assert "dimension 3 out of range of a 2D tensor" in msg
    assert ":2:" in msg.splitlines()[0]


def test_is_contiguous_ignores_size_one_dimensions(lua):
    assert run(lua, """local t = torch.Tensor(3, 4)
        return t:isContiguous(), t:t():isContiguous(), t:narrow(1, 2, 1):isContiguous(),
               t:select(2, 1):isContiguous()""") == (True, False, True, False)


def test_same_size_and_set_to(lua):
    assert run(lua, """local a, b = torch.Tensor(2, 3), torch.FloatTensor(2, 3)
        local c = torch.Tensor():set(a)
        return a:isSameSizeAs(b), a:isSameSizeAs(a:t()), c:isSetTo(a), a:isSetTo(a:clone()),
               a:t():isSetTo(a), a:isSize(torch.LongStorage{2, 3})""") == (True, False, True, False, False, True)


def test_storage_and_offset(lua):
    assert run(lua, """local t = torch.Tensor(4, 5)
        local v = t:narrow(1, 2, 2):narrow(2, 3, 2)
        return v:storage() == t:storage(), v:storageOffset(), t:storageOffset()""") == (True, 8, 1)


# ---------------------------------------------------------------- type, casts, copy
def test_type_and_type_as(lua):
    assert run(lua, """local t = torch.Tensor{1.5, -2.5}
        return t:type(), t:type('torch.IntTensor'):type(), t:typeAs(torch.ByteTensor()):type(),
               t:type('torch.DoubleTensor') == t""") == ("torch.DoubleTensor", "torch.IntTensor",
                                                       "torch.ByteTensor", True)


VALUES = [1.7, -1.7, 2.5, -2.5, 0.0, 100.9, 127.0, -128.0]


@pytest.mark.parametrize("src", TYPES)
@pytest.mark.parametrize("dst", TYPES)
def test_copy_between_every_pair_of_types_truncates_like_c(lua, src, dst):
    vals = np.array(VALUES)
    src_vals = vals.astype(DTYPES[src]) if src in ("Double", "Float") else np.trunc(vals).astype(
        np.int64).astype(DTYPES[src])
    lua["src_vals"] = src_vals.astype(np.float64).tolist()
    got = run(lua, f"""
        local s = torch.{src}Tensor(src_vals)
        local d = torch.{dst}Tensor({len(VALUES)}):copy(s)
        local strided = torch.{dst}Tensor({len(VALUES)}, 2):select(2, 2):copy(s)
        return d, strided, s:{dst.lower()}()""")
    if dst in ("Double", "Float"):
        expect = src_vals.astype(DTYPES[dst])
    else:
        expect = np.trunc(src_vals.astype(np.float64)).astype(np.int64).astype(DTYPES[dst])
    for arr in got:
        assert arr.dtype == DTYPES[dst]
        np.testing.assert_array_equal(arr, expect)


def test_copy_checks_element_counts_and_types(lua):
    assert "sizes do not match: 4 elements vs 3" in lua_error(lua, "torch.Tensor(2, 2):copy(torch.Tensor(3))")
    assert "expects a tensor, got number" in lua_error(lua, "torch.Tensor(2):copy(3)")


def test_copy_between_differently_strided_views(lua):
    a, b = run(lua, """local a = torch.Tensor(3, 4):zero()
        local b = torch.Tensor({{1, 2, 3}, {4, 5, 6}, {7, 8, 9}, {10, 11, 12}})
        a:copy(b:t())
        return a, b""")
    np.testing.assert_array_equal(a, b.T)


def test_clone_and_contiguous(lua):
    same, cont_is_same, clone, cont = run(lua, """local t = torch.Tensor({{1, 2}, {3, 4}})
        local c = t:clone()
        c[1][1] = 9
        local tt = t:t()
        return t:contiguous() == t, tt:contiguous() == tt, c, tt:contiguous()""")
    assert same and not cont_is_same
    np.testing.assert_array_equal(clone, [[9, 2], [3, 4]])
    np.testing.assert_array_equal(cont, [[1, 3], [2, 4]])
    assert cont.flags.c_contiguous


def test_fill_and_zero_on_views(lua):
    arr = run(lua, """local t = torch.Tensor(3, 4):fill(1)
        t:select(2, 2):fill(5)
        t:narrow(1, 3, 1):zero()
        return t""")
    expect = np.ones((3, 4))
    expect[:, 1] = 5
    expect[2] = 0
    np.testing.assert_array_equal(arr, expect)


def test_resize_and_resize_as(lua):
    shapes = run(lua, """local t = torch.Tensor(2, 3):fill(2)
        local a = t:resize(6):size():totable()
        local b = t:resize(4, 5):size():totable()
        local c = t:resizeAs(torch.Tensor(7)):size():totable()
        local d = t:resize(torch.LongStorage{2, 2}):size():totable()
        return {a, b, c, d}""")
    assert [list(s.values()) for s in shapes.values()] == [[6], [4, 5], [7], [2, 2]]


def test_resize_keeps_the_data_it_can(lua):
    arr = run(lua, "local t = torch.Tensor{1, 2, 3}; t:resize(5); t[4] = 4; t[5] = 5; return t")
    np.testing.assert_array_equal(arr, [1, 2, 3, 4, 5])


def test_set_variants(lua):
    arr, off = run(lua, """local s = torch.DoubleStorage{1, 2, 3, 4, 5, 6}
        local t = torch.Tensor():set(s, 2, torch.LongStorage{2, 2})
        return t, t:storageOffset()""")
    np.testing.assert_array_equal(arr, [[2, 3], [4, 5]])
    assert off == 2
    assert run(lua, "local t = torch.Tensor(3); t:set(); return t:dim(), t:nElement()") == (0, 0)


# ---------------------------------------------------------------- views
@pytest.fixture
def base(lua):
    run(lua, "base = torch.range and torch.range(1, 60) or torch.Tensor(60); "
             "for i = 1, 60 do base[i] = i end; base = base:view(3, 4, 5)")
    return np.arange(1.0, 61.0).reshape(3, 4, 5)


@pytest.mark.parametrize("lua_expr, np_fn", [
    ("base:narrow(2, 2, 3)", lambda a: a[:, 1:4]),
    ("base:select(3, 2)", lambda a: a[:, :, 1]),
    ("base:select(1, -1)", lambda a: a[-1]),
    ("base:sub(1, 2, 2, -1)", lambda a: a[0:2, 1:]),
    ("base:sub(-2, -1, 1, 1, 3, 5)", lambda a: a[1:, 0:1, 2:5]),
    ("base:transpose(1, 3)", lambda a: a.transpose(2, 1, 0)),
    ("base:select(1, 1):t()", lambda a: a[0].T),
    ("base:permute(3, 1, 2)", lambda a: a.transpose(2, 0, 1)),
    ("base:view(12, 5)", lambda a: a.reshape(12, 5)),
    ("base:view(-1, 10)", lambda a: a.reshape(-1, 10)),
    ("base:view(torch.LongStorage{6, -1})", lambda a: a.reshape(6, -1)),
    ("base:viewAs(torch.Tensor(20, 3))", lambda a: a.reshape(20, 3)),
    ("base:narrow(1, 2, 1):view(20)", lambda a: a[1].reshape(20)),
    ("base:unfold(3, 2, 2)", lambda a: np.lib.stride_tricks.sliding_window_view(a, 2, axis=2)[:, :, ::2]),
    ("base:unfold(2, 3, 1)", lambda a: np.lib.stride_tricks.sliding_window_view(a, 3, axis=1)),
    ("base:select(3, 1):unsqueeze(1)", lambda a: a[None, :, :, 0]),
    ("base:unsqueeze(4)", lambda a: a[..., None]),
    ("base:narrow(3, 1, 1):squeeze()", lambda a: a[:, :, 0]),
    ("base:narrow(3, 1, 1):squeeze(3)", lambda a: a[:, :, 0]),
    ("base:narrow(3, 1, 1):squeeze(2)", lambda a: a[:, :, 0:1]),
    ("base:narrow(3, 1, 1):expand(3, 4, 6)", lambda a: np.broadcast_to(a[:, :, 0:1], (3, 4, 6))),
    ("base:narrow(3, 1, 1):expandAs(torch.Tensor(3, 4, 2))", lambda a: np.broadcast_to(a[:, :, 0:1], (3, 4, 2))),
    ("base:select(1, 1):narrow(1, 1, 1):expand(2, 3, 5)", lambda a: np.broadcast_to(a[0, 0:1], (2, 3, 5))),
])
def test_views_match_numpy_and_share_memory(lua, base, lua_expr, np_fn):
    got, whole = run(lua, f"return {lua_expr}, base")
    expect = np_fn(base)
    assert got.shape == expect.shape
    np.testing.assert_array_equal(got, expect)
    assert np.shares_memory(got, whole)


def test_view_of_a_non_contiguous_tensor_is_refused_as_in_torch7(lua, base):
    assert "not contiguous" in lua_error(lua, "local v = base:transpose(1, 2):view(60)")


def test_view_errors(lua, base):
    assert "has 50 elements, the tensor 60" in lua_error(lua, "base:view(10, 5)")
    assert "only one dimension can be inferred" in lua_error(lua, "base:view(-1, -1)")
    assert "cannot infer" in lua_error(lua, "base:view(-1, 7)")


def test_result_forms_of_view_and_expand(lua, base):
    v, e = run(lua, """local r = torch.Tensor()
        r:view(base, 4, 15)
        local e = torch.Tensor()
        e:expand(torch.Tensor(1, 3):fill(2), 4, 3)
        return r, e""")
    np.testing.assert_array_equal(v, base.reshape(4, 15))
    np.testing.assert_array_equal(e, np.full((4, 3), 2.0))
    assert run(lua, "return torch.view(base, 60):dim(), torch.expand(torch.Tensor(1), 5):size(1)") == (1, 5)


def test_squeeze_edge_cases(lua):
    # a one-element result is a number, as Torch7's wrapper returns
    assert run(lua, "return torch.Tensor(1, 1):fill(4):squeeze()") == 4
    assert run(lua, "return torch.LongTensor(1, 1, 1):fill(2^40):squeeze()") == 2 ** 40
    assert run(lua, "return torch.Tensor(1, 1):fill(5):squeeze(1)") == 5
    assert run(lua, "return torch.Tensor(1):fill(6):squeeze(1)") == 6
    assert run(lua, "return torch.squeeze(torch.Tensor(2, 3):narrow(1, 2, 1):narrow(2, 3, 1):fill(7))") == 7
    assert run(lua, "return torch.Tensor(1, 2):squeeze(2):size():totable()") == {1: 1, 2: 2}
    assert run(lua, "return torch.Tensor(2, 3):squeeze(1):size():totable()") == {1: 2, 2: 3}
    assert run(lua, "return torch.Tensor(1, 3, 1):squeeze():size():totable()") == {1: 3}
    assert run(lua, "return torch.Tensor():squeeze():dim()") == 0


def test_unsqueeze_strides_follow_th(lua):
    assert run(lua, "return torch.Tensor(2, 3):unsqueeze(2):stride():totable()") == {1: 3, 2: 3, 3: 1}
    assert run(lua, "return torch.Tensor(2, 3):unsqueeze(3):stride():totable()") == {1: 3, 2: 1, 3: 1}


def test_split_and_chunk(lua, base):
    sizes = run(lua, """local out = {}
        for _, p in ipairs(base:split(2, 2)) do out[#out + 1] = p:size(2) end
        for _, p in ipairs(base:chunk(2, 3)) do out[#out + 1] = p:size(3) end
        for _, p in ipairs(torch.split(base, 1)) do out[#out + 1] = p:size(1) end
        return out""")
    assert list(sizes.values()) == [2, 2, 3, 2, 1, 1, 1]
    parts = run(lua, "return base:chunk(3, 3)")
    np.testing.assert_array_equal(np.concatenate([parts[i] for i in (1, 2, 3)], axis=2), base)


def test_view_errors_blame_the_callers_line(lua):
    msg = lua_error(lua, "local t = torch.Tensor(3, 4)\n\nlocal v = t:narrow(1, 3, 5)")
    assert ":3:" in msg.splitlines()[0] and "narrow" in msg
    msg = lua_error(lua, "local t = torch.Tensor(3, 4)\nlocal v = t:select(3, 1)")
    assert ":2:" in msg.splitlines()[0] and "dimension 3 out of range of a 2D tensor" in msg
    msg = lua_error(lua, "local t = torch.Tensor(3, 4)\nlocal v = t:transpose(1, 5)")
    assert ":2:" in msg.splitlines()[0]


# ---------------------------------------------------------------- indexing
def test_index_numbers_and_negatives(lua, base):
    assert run(lua, "return base[2][3][4], base[-1][-1][-1], base[{2, 3, 4}], base[{-1, 1, -2}]") == (
        base[1, 2, 3], base[-1, -1, -1], base[1, 2, 3], base[-1, 0, -2])
    row = run(lua, "return base[2]")
    np.testing.assert_array_equal(row, base[1])


@pytest.mark.parametrize("lua_idx, np_idx", [
    ("{2}", np.s_[1]),
    ("{{2, 3}}", np.s_[1:3]),
    ("{{}, 2}", np.s_[:, 1]),
    ("{{}, {2, -1}, {1, 1}}", np.s_[:, 1:, 0:1]),
    ("{{-2, -1}, {}, 5}", np.s_[-2:, :, 4]),
    ("{2, {3}}", np.s_[1, 2:3]),
    ("{{3}, 1, {2, 4}}", np.s_[2:3, 0, 1:4]),
])
def test_index_tables_match_numpy(lua, base, lua_idx, np_idx):
    got, whole = run(lua, f"return base[{lua_idx}], base")
    np.testing.assert_array_equal(got, base[np_idx])
    assert np.shares_memory(got, whole)


@pytest.mark.parametrize("lua_idx, np_idx", [
    ("2", np.s_[1]),
    ("-1", np.s_[-1]),
    ("{2, 3}", np.s_[1, 2]),
    ("{{}, 2}", np.s_[:, 1]),
    ("{{}, {2, -1}, {1, 1}}", np.s_[:, 1:, 0:1]),
    ("{1, 2, 3}", np.s_[0, 1, 2]),
])
def test_assignment_of_numbers_and_tensors_through_indices(lua, base, lua_idx, np_idx):
    got = run(lua, f"local t = base:clone(); t[{lua_idx}] = -7; return t")
    expect = base.copy()
    expect[np_idx] = -7
    np.testing.assert_array_equal(got, expect)
    target = expect[np_idx]
    if np.ndim(target):
        src = np.arange(target.size, dtype=float).reshape(target.shape) + 100
        lua["src"] = src
        got = run(lua, f"local t = base:clone(); t[{lua_idx}] = src:clone(); return t")
        expect = base.copy()
        expect[np_idx] = src
        np.testing.assert_array_equal(got, expect)


def test_assign_a_one_element_tensor_to_a_vector_element(lua):
    arr = run(lua, "local t = torch.Tensor(3):zero(); t[2] = torch.Tensor{5}; return t")
    np.testing.assert_array_equal(arr, [0, 5, 0])


def test_index_errors(lua):
    assert "out of range" in lua_error(lua, "local t = torch.Tensor(3); return t[4]")
    assert "out of range" in lua_error(lua, "local t = torch.Tensor(3); return t[-4]")
    assert "out of range" in lua_error(lua, "local t = torch.Tensor(3); t[0] = 1")
    assert "3 indices for a 2D tensor" in lua_error(lua, "local t = torch.Tensor(2, 2); return t[{1, 1, 1}]")
    assert "cannot assign a string" in lua_error(lua, "local t = torch.Tensor(2); t[1] = 'x'")
    msg = lua_error(lua, "local t = torch.Tensor(3)\nlocal x = t[9]")
    assert ":2:" in msg.splitlines()[0]


@pytest.mark.parametrize("tname", ["Double", "Float", "Long", "Byte"])
def test_index_and_assign_through_a_byte_mask_and_a_long_index(lua, tname):
    # t[mask] is t:maskedSelect(mask), t[mask] = v maskedFill/maskedCopy; t[long] is t:index(1, long)
    got = run(lua, f"""local t = torch.{tname}Tensor({{1, 2, 3, 4}}); local m = torch.ByteTensor({{1, 0, 1, 0}})
        local sel, rows = t[m], t[torch.LongTensor({{4, 1}})]
        local a = t:clone(); a[m] = 9; local b = t:clone(); b[m] = torch.{tname}Tensor({{7, 8}})
        return sel, rows, a, b""")
    assert [list(x) for x in got] == [[1, 3], [4, 1], [9, 2, 9, 4], [7, 2, 8, 4]]


def test_index_family_on_vectors(lua):
    # on a 1-D tensor each index names one element (numpy's fancy indexing)
    got = run(lua, """local i = torch.LongTensor({4, 1})
        local t = torch.Tensor({1, 2, 3, 4})
        return t:index(1, i), t:clone():indexFill(1, i, 9), t:clone():indexCopy(1, i, torch.Tensor({7, 8})),
               t:clone():indexAdd(1, i, torch.Tensor({10, 20}))""")
    t, i = np.array([1.0, 2, 3, 4]), [3, 0]
    fill, copy, add = t.copy(), t.copy(), t.copy()
    fill[i] = 9
    copy[i] = [7, 8]
    add[i] += [10, 20]
    for g, want in zip(got, [t[i], fill, copy, add]):
        np.testing.assert_array_equal(g, want)


def test_index_with_a_long_storage(lua, base):
    assert run(lua, "return base[torch.LongStorage{3, 2, 1}]") == base[2, 1, 0]


def test_long_elements_come_back_as_numbers(lua):
    assert run(lua, "local t = torch.LongTensor{2^40, -3}; return type(t[1]), t[1], t[2], t[{2}]") == (
        "number", 2 ** 40, -3, -3)


# ---------------------------------------------------------------- apply, map, map2
def test_apply_map_map2(lua):
    a, b, c = run(lua, """
        local a = torch.Tensor{{1, 2}, {3, 4}}
        a:apply(function(x) return x * 10 end)
        local b = torch.Tensor{{1, 1}, {1, 1}}
        b:map(torch.Tensor{{1, 2}, {3, 4}}:t(), function(x, y) return x + y end)
        local c = torch.IntTensor{1, 2, 3}
        c:map2(torch.Tensor{0.5, 0.5, 0.5}, torch.LongTensor{10, 20, 30}, function(x, y, z) return x + y + z end)
        return a, b, c""")
    np.testing.assert_array_equal(a, [[10, 20], [30, 40]])
    np.testing.assert_array_equal(b, [[2, 4], [3, 5]])
    np.testing.assert_array_equal(c, [11, 22, 33])   # 11.5 truncated into an int


def test_apply_visits_in_row_major_order_and_nil_keeps_values(lua):
    order, kept = run(lua, """local seen = {}
        local t = torch.Tensor{{1, 2}, {3, 4}}
        t:t():apply(function(x) seen[#seen + 1] = x end)
        return seen, t""")
    assert list(order.values()) == [1, 3, 2, 4]
    np.testing.assert_array_equal(kept, [[1, 2], [3, 4]])


def test_apply_map_map2_errors(lua):
    assert "must return a number or nil, got string" in lua_error(
        lua, "torch.Tensor(2):apply(function() return 'x' end)")
    assert "expects a function, got number" in lua_error(lua, "torch.Tensor(2):apply(3)")
    assert "expects (tensor, function)" in lua_error(lua, "torch.Tensor(2):map(3, print)")
    assert "tensors have 2 and 3 elements" in lua_error(
        lua, "torch.Tensor(2):map(torch.Tensor(3), function(a, b) return a end)")


# ---------------------------------------------------------------- new
def test_new_forms(lua):
    assert run(lua, """local t = torch.FloatTensor(2, 3)
        return t.new():type(), t.new():dim(), t.new(4, 5):size(2),
               t.new(t:storage(), 3, torch.LongStorage{2}):storageOffset(), torch.FloatTensor.new():type(),
               torch.getmetatable('torch.IntTensor').new(2):type()""") == (
        "torch.FloatTensor", 0, 5, 3, "torch.FloatTensor", "torch.IntTensor")
    # t:new() passes t to the constructor: as in Torch7, a new tensor on t's storage
    assert run(lua, """local t = torch.FloatTensor(2, 3):zero(); local v = t:new(); v[2][3] = 7
        return v:dim(), v:size(2), t[2][3], torch.pointer(v) ~= torch.pointer(t)""") == (2, 3, 7, True)
    assert run(lua, """local s = torch.ByteStorage(3):fill(1); local v = s:new(); v[2] = 9
        return torch.typename(s.new()), s.new():size(), v:size(), s[2], s.new(7):size()""") == (
        "torch.ByteStorage", 0, 3, 9, 7)


# ---------------------------------------------------------------- storages
def test_storage_basics(lua):
    size, vals, elem = run(lua, """local s = torch.IntStorage{1, 2, 3}
        s[2] = 7.9
        return s:size(), s:totable(), s:elementSize()""")
    assert size == 3 and vals == {1: 1, 2: 7, 3: 3} and elem == 4
    arr = run(lua, "return torch.DoubleStorage(4, 2.5)")
    np.testing.assert_array_equal(arr, [2.5] * 4)
    assert "index 4 out of range [1, 3]" in lua_error(lua, "return torch.FloatStorage(3)[4]")
    assert "index 0 out of range" in lua_error(lua, "local s = torch.FloatStorage(3); s[0] = 1")


def test_storage_fill_copy_resize_string(lua):
    a, b, c, text = run(lua, """local a = torch.ByteStorage(3):fill(300.7)
        local b = torch.CharStorage(3):copy(torch.DoubleStorage{-1.7, 2.9, 127})
        local c = torch.DoubleStorage{1, 2}
        c:resize(4)
        c[3], c[4] = 3, 4
        local s = torch.CharStorage():string('hey')
        return a, b, c, s:string()""")
    np.testing.assert_array_equal(a, np.array([300.7] * 3).astype(np.int64).astype(np.uint8))
    np.testing.assert_array_equal(b, [-1, 2, 127])
    np.testing.assert_array_equal(c, [1, 2, 3, 4])
    assert text == "hey"
    assert "sizes do not match: 2 vs 3" in lua_error(lua, "torch.FloatStorage(2):copy(torch.FloatStorage(3))")


def test_storage_view_of_a_storage(lua):
    base, view = run(lua, """local s = torch.DoubleStorage{1, 2, 3, 4, 5}
        local v = torch.DoubleStorage(s, 2, 3)
        v[1] = 20
        return s, v""")
    np.testing.assert_array_equal(base, [1, 20, 3, 4, 5])
    np.testing.assert_array_equal(view, [20, 3, 4])
    assert np.shares_memory(base, view)
    assert "out of the storage's range" in lua_error(lua, "torch.DoubleStorage(torch.DoubleStorage(3), 2, 5)")


# ---------------------------------------------------------------- data, totable, pointer
def test_data_is_an_ffi_pointer_at_the_first_element(lua):
    assert run(lua, """local t = torch.Tensor{{1, 2, 3}, {4, 5, 6}}
        local v = t:select(2, 2)
        local p = v:data()
        return type(p), tostring(require('ffi').typeof(p)):match('double'), p[0], p[v:stride(1)]""") == (
        "cdata", "double", 2.0, 5.0)


def test_internal_helpers_of_the_layout_contract(lua):
    assert run(lua, """local t = torch.FloatTensor(2, 3):fill(2)
        local p, n = t:narrow(1, 2, 1):_flat()
        return torch._typeof(t).name, torch._typeof(t:storage()).sname, n, p[0], t:t():_flat(),
               torch._typeof(3)""") == ("Float", "torch.FloatStorage", 3, 2.0, None, None)


def test_totable(lua):
    assert run(lua, "return torch.totable(torch.Tensor{{1, 2}, {3, 4}}:t())") == {1: {1: 1, 2: 3}, 2: {1: 2, 2: 4}}
    assert run(lua, "return torch.IntTensor{5, 6}:totable()") == {1: 5, 2: 6}


# ---------------------------------------------------------------- printing (Torch7's Tensor.lua rules)
PRINT_CASES = [
    ("torch.Tensor{1, 2, 3}", " 1\n 2\n 3\n[torch.DoubleTensor of size 3]\n"),
    ("torch.Tensor{-5, 10}", " -5\n 10\n[torch.DoubleTensor of size 2]\n"),
    ("torch.Tensor{-0.0, 1}", " 0\n 1\n[torch.DoubleTensor of size 2]\n"),
    ("torch.Tensor{0.5, 0.25}", " 0.5000\n 0.2500\n[torch.DoubleTensor of size 2]\n"),
    ("torch.Tensor{1.5, -22.25}", "  1.5000\n-22.2500\n[torch.DoubleTensor of size 2]\n"),
    ("torch.Tensor{100000.5, 200000}", "100000 *\n 1.0000\n 2.0000\n[torch.DoubleTensor of size 2]\n"),
    ("torch.Tensor{0.001, 0.002}", "0.001 *\n 1.0000\n 2.0000\n[torch.DoubleTensor of size 2]\n"),
    ("torch.Tensor{1234567, 2345678.5}", "1e+06 *\n 1.2346\n 2.3457\n[torch.DoubleTensor of size 2]\n"),
    ("torch.Tensor{1e10, 1}", " 1.0000e+10\n 1.0000e+00\n[torch.DoubleTensor of size 2]\n"),
    ("torch.Tensor{1.5, 2e6}", " 1.5000e+00\n 2.0000e+06\n[torch.DoubleTensor of size 2]\n"),
    ("torch.Tensor{1/0, 1}", "        inf\n 1.0000e+00\n[torch.DoubleTensor of size 2]\n"),
    ("torch.ByteTensor{1, 200}", "   1\n 200\n[torch.ByteTensor of size 2]\n"),
    ("torch.Tensor{{1, 2}, {3, 4}}", " 1  2\n 3  4\n[torch.DoubleTensor of size 2x2]\n"),
    ("torch.Tensor{{100000.5, 200000}, {300000, 400000}}",
     "100000 *\n  1.0000  2.0000\n  3.0000  4.0000\n[torch.DoubleTensor of size 2x2]\n"),
    ("torch.Tensor(2, 1, 2):fill(1)",
     "(1,.,.) = \n  1  1\n\n(2,.,.) = \n  1  1\n[torch.DoubleTensor of size 2x1x2]\n"),
    ("torch.Tensor(1, 2, 1, 1):fill(3)",
     "(1,1,.,.) = \n  3\n\n(1,2,.,.) = \n  3\n[torch.DoubleTensor of size 1x2x1x1]\n"),
    ("torch.Tensor()", "[torch.DoubleTensor with no dimension]\n"),
    ("torch.FloatTensor(0)", "[torch.FloatTensor with no dimension]\n"),
    ("torch.DoubleStorage{1, 2}", "\n 1\n 2\n[torch.DoubleStorage of size 2]\n"),
    ("torch.FloatStorage()", "\n[torch.FloatStorage of size 0]\n"),
]


@pytest.mark.parametrize("expr, text", PRINT_CASES)
def test_tostring_follows_torch7(lua, expr, text):
    assert run(lua, f"return tostring({expr})") == text


def test_tostring_splits_columns_beyond_80_characters(lua):
    text = run(lua, "return tostring(torch.Tensor(2, 12):fill(1.5))")
    row = " 1.5000" + "  1.5000" * 9 + "\n"
    tail = " 1.5000  1.5000\n"
    assert text == ("Columns 1 to 10\n" + row + row + "\nColumns 11 to 12\n" + tail + tail
                    + "[torch.DoubleTensor of size 2x12]\n")
    # in n-D the matrices are indented by one space
    text = run(lua, "return tostring(torch.Tensor(1, 1, 12):fill(1.5))")
    assert text.startswith("(1,.,.) = \n Columns 1 to 9\n  1.5000  1.5000")


def test_tostring_of_nan_uses_plain_f_format_on_one_line(lua):
    nan = run(lua, "return string.format('%f', 0/0)")
    assert run(lua, "return tostring(torch.Tensor{0/0, 1})") == (
        f"{nan}\n1.000000\n[torch.DoubleTensor of size 2]\n")
    text = run(lua, "local t = torch.Tensor(1, 12):fill(2); t[1][1] = 0/0; return tostring(t)")
    assert text == nan + " 2.000000" * 11 + "\n[torch.DoubleTensor of size 1x12]\n"


def test_print_of_a_view_uses_its_own_values(lua):
    assert run(lua, "local t = torch.Tensor{{1, 2}, {3, 400}}; return tostring(t:select(1, 1))") == (
        " 1\n 2\n[torch.DoubleTensor of size 2]\n")


# ---------------------------------------------------------------- bad input: clear errors, never a crash
BAD_CALLS = [
    ("torch.Tensor(2^31, 2^31)", "cannot allocate"),
    ("torch.DoubleStorage(2^62)", "cannot allocate"),
    ("torch.Tensor(1/0)", "size 1 must be a non-negative integer, got inf"),
    ("torch.Tensor(0/0)", "must be a non-negative integer, got nan"),
    ("torch.Tensor(2):resize(2^61)", "cannot allocate"),
    ("torch.Tensor(3):narrow(1, 0/0, 1)", "out of dimension 1"),
    ("torch.Tensor(3):narrow(1, 1.5, 1)", "out of dimension 1"),
    ("torch.Tensor(3)[0/0]", "index nan out of range"),
    ("torch.Tensor(3)[{0/0}]", "out of range"),
    ("torch.Tensor(2, 2)[{{1, 0/0}}]", "out of dimension 1"),
    ("torch.Tensor(3):select(1, 0/0)", "out of range"),
    ("torch.Tensor(3):view(0/0)", "must be a positive integer or -1"),
    ("torch.Tensor(4):unfold(1, 2, 0/0)", "a step >= 1"),
    ("torch.Tensor(4):unfold(1, 0, 1)", "expects a size in [1, 4]"),
    ("torch.Tensor(4):expand(-5)", "cannot expand to -5"),
    ("torch.Tensor():expand(2)", "cannot expand an empty tensor"),
    ("torch.Tensor(2, 2):permute(1, 1)", "is not a permutation"),
    ("torch.Tensor(2):sub('a', 'b')", "expects numbers"),
    ("torch.Tensor(2):split(0)", "positive integer"),
    ("torch.Tensor(2):chunk(0/0)", "positive integer"),
    ("torch.Tensor(2):transpose(1, 'x')", "dimension x out of range"),
    ("torch.Tensor(3):type('torch.Nope')", "unknown tensor type 'torch.Nope'"),
    ("torch.Tensor(torch.DoubleStorage(3), 1.5)", "storage offset must be an integer"),
    ("torch.Tensor(torch.DoubleStorage(3), 1, torch.LongStorage{2}, torch.LongStorage{1, 1})", "1 sizes but 2 strides"),
    ("torch.DoubleStorage(torch.DoubleStorage(3), 0/0)", "out of the storage's range"),
    ("torch.DoubleStorage(3)[0/0]", "index nan out of range"),
    ("torch.DoubleStorage(3):resize(1.5)", "integer size"),
    ("torch.Tensor(2, 3):set(torch.FloatTensor(2))", "cannot set to a torch.FloatTensor"),
    ("torch.DoubleTensor(torch.FloatStorage(3))", "cannot view a torch.FloatStorage"),
    ("torch.DoubleTensor(torch.IntTensor(3))", "cannot share the storage of a torch.IntTensor"),
    ("torch.DoubleTensor(setmetatable({}, {}))", "expects sizes, a LongStorage"),
    ("torch.DoubleTensor(true)", "expects sizes, a LongStorage, a storage, a tensor or a table, got boolean"),
]


@pytest.mark.parametrize("code, message", BAD_CALLS)
def test_bad_calls_raise_clear_errors(lua, code, message):
    msg = lua_error(lua, f"local x = {code}\nreturn x")
    assert message in msg
    first = msg.splitlines()[0]
    assert first.startswith("[string") and ":1:" in first   # the caller's line, not the runtime's


def test_errors_after_a_tail_call_name_no_runtime_line(lua):
    first = lua_error(lua, "return torch.Tensor(3):narrow(1, 3, 5)").splitlines()[0]
    assert first.startswith("<torch.DoubleTensor.narrow>")


# ---------------------------------------------------------------- property: chains of views, then copies
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402


@st.composite
def view_chains(draw):
    shape = draw(st.lists(st.integers(1, 4), min_size=1, max_size=4))
    ops = []
    cur = list(shape)
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["narrow", "select", "transpose", "unfold", "expand1"]))
        d = draw(st.integers(1, len(cur)))
        if kind == "narrow":
            first = draw(st.integers(1, cur[d - 1]))
            size = draw(st.integers(1, cur[d - 1] - first + 1))
            ops.append(("narrow", d, first, size))
            cur[d - 1] = size
        elif kind == "select" and len(cur) > 1:
            i = draw(st.integers(-cur[d - 1], cur[d - 1]).filter(lambda v: v != 0))
            ops.append(("select", d, i))
            cur.pop(d - 1)
        elif kind == "transpose":
            e = draw(st.integers(1, len(cur)))
            ops.append(("transpose", d, e))
            cur[d - 1], cur[e - 1] = cur[e - 1], cur[d - 1]
        elif kind == "unfold" and len(cur) < 5:
            size = draw(st.integers(1, cur[d - 1]))
            step = draw(st.integers(1, 3))
            ops.append(("unfold", d, size, step))
            cur[d - 1] = (cur[d - 1] - size) // step + 1
            cur.append(size)
        elif kind == "expand1" and len(cur) < 5:
            n = draw(st.integers(1, 3))
            ops.append(("expand1", n))
            cur = [n] + cur
    return shape, ops


def apply_numpy(arr, ops):
    for op in ops:
        if op[0] == "narrow":
            _, d, first, size = op
            arr = arr[(slice(None),) * (d - 1) + (slice(first - 1, first - 1 + size),)]
        elif op[0] == "select":
            _, d, i = op
            arr = arr[(slice(None),) * (d - 1) + (i - 1 if i > 0 else i,)]
        elif op[0] == "transpose":
            _, d, e = op
            arr = np.swapaxes(arr, d - 1, e - 1)
        elif op[0] == "unfold":
            _, d, size, step = op
            win = np.lib.stride_tricks.sliding_window_view(arr, size, axis=d - 1)
            arr = win[(slice(None),) * (d - 1) + (slice(None, None, step),)]
        elif op[0] == "expand1":
            arr = np.broadcast_to(arr[None], (op[1],) + arr.shape)
    return arr


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(view_chains())
def test_view_chains_then_clone_and_copy_match_numpy(lua, chain):
    shape, ops = chain
    base = np.arange(1.0, np.prod(shape) + 1).reshape(shape)
    lua["base"] = base.copy()
    code = ["local v = base"]
    for op in ops:
        if op[0] == "expand1":
            code.append(f"do local s = v:size():totable(); table.insert(s, 1, {op[1]}); "
                        f"v = v:unsqueeze(1):expand(torch.LongStorage(s)) end")
        else:
            code.append(f"v = v:{op[0]}({', '.join(str(x) for x in op[1:])})")
    code.append("local dst = torch.FloatTensor(v:nElement(), 2):zero():select(2, 2)")   # strided
    code.append("dst:copy(v)")
    code.append("return v, v:clone(), dst, v:contiguous(), torch.Tensor(v:totable())")
    view, clone, dst, cont, from_table = lua.execute("\n".join(code))
    expect = apply_numpy(base, ops)
    np.testing.assert_array_equal(view, expect)
    np.testing.assert_array_equal(clone, expect)
    assert clone.flags.c_contiguous and cont.flags.c_contiguous
    np.testing.assert_array_equal(dst, expect.ravel().astype(np.float32))
    np.testing.assert_array_equal(cont, expect)
    np.testing.assert_array_equal(from_table, expect)
