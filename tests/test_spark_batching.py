"""The Spark layer's batching without Spark: Arrow columns -> tensors (zero-copy
where the brief says so), Lua results -> Arrow, LuaScript keys and the driver
check. Runs the same code the workers run, in this process."""
from __future__ import annotations

import uuid

import numpy as np
import pyarrow as pa
import pytest

import sparktorch7 as st
from sparktorch7 import _worker
from sparktorch7.broadcast import LuaScript
from sparktorch7.udf import (BadRowsError, LuaResultError, _convert_column, _Feeder, _Runner,
                             _to_arrow)


def address(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


def buffer_address(child: pa.Array, start: int) -> int:
    return child.buffers()[1].address + (child.offset + start) * child.type.bit_width // 8


@pytest.mark.parametrize("make", [
    lambda v: pa.ListArray.from_arrays(pa.array(np.arange(0, 25, 5, dtype=np.int32)), v),
    lambda v: pa.LargeListArray.from_arrays(pa.array(np.arange(0, 25, 5, dtype=np.int64)), v),
    lambda v: pa.FixedSizeListArray.from_arrays(v, 5),
])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64"])
def test_array_column_is_a_view_of_the_arrow_values(make, dtype):
    values = pa.array(np.arange(20).astype(dtype))
    arr = make(values)
    for piece, first in ((arr, 0), (arr.slice(1, 2), 5)):
        feeder = _Feeder(["features"], None)
        parts, bad = feeder.feed([piece], len(piece))
        assert not bad.reasons
        (t,) = feeder.tensors(parts, None, len(piece))
        assert t.shape == (len(piece), 5) and t.dtype == np.dtype(dtype)
        assert address(t) == buffer_address(arr.values, first)      # no copy
        np.testing.assert_array_equal(t.ravel(), np.arange(first, first + t.size))


def test_lua_sees_the_arrow_buffer():
    lua = st.LuaState()
    lua.execute("function addr(x) return tonumber(ffi.cast('intptr_t', x:data())), torch.type(x) end")
    values = pa.array(np.arange(12, dtype=np.float32))
    arr = pa.FixedSizeListArray.from_arrays(values, 4)
    feeder = _Feeder(["f"], None)
    parts, _ = feeder.feed([arr], 3)
    (t,) = feeder.tensors(parts, None, 3)
    where, kind = lua.addr(t)
    assert int(where) == buffer_address(values, 0) and kind == "torch.FloatTensor"
    lua.close()


def test_scalar_columns_stack_into_one_float_tensor():
    a = pa.array([1.0, 2.0, 3.0])
    b = pa.array([4, 5, 6], type=pa.int32())
    c = pa.array([True, False, True])
    arrs = pa.ListArray.from_arrays(pa.array([0, 2, 4, 6], pa.int32()), pa.array(np.arange(6.0)))
    feeder = _Feeder(["a", "arr", "b", "c"], None)
    parts, bad = feeder.feed([a, arrs, b, c], 3)
    x, y = feeder.tensors(parts, None, 3)
    assert x.dtype == np.float32 and x.shape == (3, 3) and x.flags.c_contiguous
    np.testing.assert_array_equal(x, [[1, 4, 1], [2, 5, 0], [3, 6, 1]])
    assert y.dtype == np.float64 and y.shape == (3, 2)
    one = _Feeder(["a"], "float64")
    parts, _ = one.feed([a], 3)
    (x,) = one.tensors(parts, None, 3)
    assert x.shape == (3,) and x.dtype == np.float64


def test_results_to_arrow():
    n = 4
    assert _to_arrow(np.arange(4.0), pa.float32(), n, "r").equals(pa.array(np.arange(4.0), pa.float32()))
    assert _to_arrow(np.arange(4.0).reshape(4, 1), pa.int64(), n, "r").to_pylist() == [0, 1, 2, 3]
    lst = _to_arrow(np.arange(8.0).reshape(4, 2), pa.list_(pa.field("element", pa.float32())), n, "r")
    assert lst.type == pa.list_(pa.field("element", pa.float32()))
    assert lst.to_pylist() == [[0, 1], [2, 3], [4, 5], [6, 7]]
    nested = _to_arrow(np.arange(16.0).reshape(4, 2, 2), pa.list_(pa.list_(pa.float64())), n, "r")
    assert nested.to_pylist()[3] == [[12, 13], [14, 15]]
    st_type = pa.struct([("label", pa.int32()), ("p", pa.list_(pa.float64()))])
    s = _to_arrow({"label": np.array([1, 0, 1, 0]), "p": np.ones((4, 3))}, st_type, n, "r")
    assert s.to_pylist()[0] == {"label": 1, "p": [1.0, 1.0, 1.0]}


@pytest.mark.parametrize("value, t, message", [
    (np.arange(3.0), pa.float64(), "has 3 rows for a batch of 4 rows"),
    (7.0, pa.float64(), "should be a tensor of 4 rows, got a float"),
    (np.ones((4, 2)), pa.float64(), r"should be a tensor of size \[N\]"),
    (np.ones(4), pa.list_(pa.float64()), r"should be a tensor of size \[N, K\]"),
    ({"a": np.ones(4)}, pa.float64(), "should be a tensor of 4 rows, got a table with keys"),
    ({"a": np.ones(4)}, pa.struct([("a", pa.float64()), ("b", pa.float64())]), r"lacks field\(s\) \['b'\]"),
    (np.ones(4), pa.struct([("a", pa.float64())]), r"should be a table with fields \['a'\]"),
])
def test_results_of_the_wrong_shape(value, t, message):
    with pytest.raises(LuaResultError, match=message):
        _to_arrow(value, t, 4, "the result")


class LocalHandle:
    """What a task's _ScriptHandle does, without a broadcast."""

    def __init__(self, script: LuaScript) -> None:
        self.key, self.name, self._payload = script.key, script.name, script._payload()

    def entry(self):
        return _worker.get_entry(self.key, lambda: self._payload)


SCRIPT = LuaScript("""
calls = 0
function total(x)
  calls = calls + 1
  if x:dim() == 1 then x = x:view(x:size(1), 1) end
  local y = torch.DoubleTensor(x:size(1))
  for i = 1, x:size(1) do
    local s = 0
    for j = 1, x:size(2) do s = s + x[i][j] end
    y[i] = s
  end
  return y
end
function two(x) return x, x end
function boom(x) error('no way') end
""", name="local.lua")


def run(function, arrays, *, batch_size=None, policy="error", t=pa.float64(), shapes=None):
    runner = _Runner(LocalHandle(SCRIPT), function, [f"c{i}" for i in range(len(arrays))], None,
                     batch_size, policy, shapes=shapes)
    return pa.concat_arrays(list(runner.score_batches([arrays], _convert_column(t, function))))


def test_runner_splits_batches_and_scores_all_rows():
    v = pa.array(np.arange(10.0))
    entry = LocalHandle(SCRIPT).entry()
    before = entry.state["calls"]
    assert run("total", [v], batch_size=3).to_pylist() == list(np.arange(10.0))
    assert entry.state["calls"] - before == 4
    assert run("total", [v.slice(0, 0)]).to_pylist() == []


def test_runner_bad_rows_both_policies():
    v = pa.array([1.0, None, 3.0, 4.0])
    a = pa.array([[1.0, 1.0], [2.0, 2.0], [3.0], [4.0, None]])
    with pytest.raises(BadRowsError) as info:
        run("total", [v, a], shapes={1: [2]})
    text = str(info.value)
    assert text.startswith("bad input for Lua function 'total' in rows 0..3:")
    assert "column 'c0': expected a number, got null (row 1; 1 bad row)" in text
    assert ("column 'c1': expected arrays of 2 values (input_shapes [2]), got length 1 "
            "(row 2; 1 bad row)") in text
    assert "column 'c1': expected numbers inside the array, got null (row 3; 1 bad row)" in text
    # total(x) sees only its first argument, the scalar column
    assert run("total", [v, a], policy="null", shapes=[None, [2]]).to_pylist() == [1.0, None, None, None]
    assert run("total", [a], policy="null", shapes=[[2]]).to_pylist() == [2.0, 4.0, None, None]
    # without a declared shape, arrays of mixed lengths fail whatever the policy
    for policy in ("error", "null"):
        with pytest.raises(BadRowsError, match=r"column 'c0': arrays of different lengths in one "
                           r"batch \(length 1: 1 row, length 2: 2 rows\).*input_shapes"):
            run("total", [a], policy=policy)
    assert run("total", [pa.array([None, None], pa.float64())], policy="null").to_pylist() == [None, None]
    assert run("total", [pa.nulls(2)], policy="null").to_pylist() == [None, None]


def test_runner_lua_errors_and_extra_results():
    with pytest.raises(st.LuaError) as info:
        run("boom", [pa.array([1.0])])
    assert info.value.lua_message.startswith("Lua function 'boom' of script 'local.lua' failed on rows 0..0: local.lua:")
    assert "no way" in info.value.lua_message
    assert "stack traceback:" in info.value.lua_traceback and "local.lua:15" in info.value.lua_traceback
    with pytest.raises(LuaResultError, match="returned 2 values"):
        run("two", [pa.array([1.0])])
    with pytest.raises(TypeError, match=r"input column 'c0' has Arrow type string.*\(Lua function 'total', rows 0..0\)"):
        run("total", [pa.array(["x"])])


def test_script_key_hashes_everything(tmp_path):
    src = "function f(x) return x end"
    (tmp_path / "m.bin").write_bytes(b"abc")
    keys = {
        LuaScript(src).key,
        LuaScript(src, init="f").key,
        LuaScript(src, name="other").key,
        LuaScript(src, files=[tmp_path / "m.bin"]).key,
        LuaScript(src, files={"m.bin": b"abd"}).key,
        LuaScript(src + " ").key,
    }
    assert len(keys) == 6
    assert LuaScript(src, files={"m.bin": b"abc"}).key == LuaScript(src, files=[tmp_path / "m.bin"]).key
    with pytest.raises(ValueError, match="two files are named"):
        LuaScript(src, files=[tmp_path / "m.bin", tmp_path / "m.bin"])
    with pytest.raises(FileNotFoundError):
        LuaScript(src, files=[tmp_path / "missing.t7"])


def test_script_from_file_open_and_check(tmp_path):
    path = tmp_path / "model.lua"
    path.write_text("#!/usr/bin/env luajit\nn = 0\nfunction init() n = n + 1 end\nfunction f(x) return x end\n")
    script = LuaScript.from_file(path, init="init", files={"w.txt": b"hi"})
    assert script.name == "@model.lua"
    script.check("f")
    lua = script.open()
    assert lua["n"] == 1
    assert open(lua.eval("sparktorch7_file('w.txt')")).read() == "hi"
    assert lua.eval("sparktorch7_worker.driver") is True
    lua.close()
    bad = LuaScript.from_file(path, init="f")
    bad.check("f")   # init exists (it is a function): fine
    with pytest.raises(ValueError, match="Lua function 'g' is not defined by script 'model.lua'"):
        script.check("g")
