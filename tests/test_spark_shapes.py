"""Tensor shapes from columns: columns='stack'|'separate', input_shapes= for flat
arrays, nested arrays, and rows that never depend on their batch-mates. The
feeding code runs here as the workers run it, then on a real local Spark."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from sparktorch7 import _worker
from sparktorch7.broadcast import LuaScript
from sparktorch7.udf import BadRowsError, _convert_column, _Feeder, _Runner, lua_udf, score

LUA = r"""
require 'torch'
-- [N, ...] -> [N]: the sum of each row
function row_sum(x)
  local n = x:size(1)
  local y = torch.DoubleTensor(n):zero()
  if n == 0 or x:nElement() == 0 then return y end
  return y:copy(x:contiguous():view(n, x:nElement() / n):sum(2))
end
-- [N, ...] -> [N, dim-1]: the sizes of one row
function sizes(x)
  local n = x:size(1)
  local out = torch.DoubleTensor(n, x:dim() - 1)
  for j = 2, x:dim() do out:select(2, j - 1):fill(x:size(j)) end
  return out
end
function two(a, b) return a * 10 + b end
function nargs(...) return torch.DoubleTensor(select(1, ...):size(1)):fill(select('#', ...)) end
"""
SCRIPT = LuaScript(LUA, name="shapes.lua")


class LocalHandle:
    def __init__(self, script):
        self.key, self.name, self._payload = script.key, script.name, script._payload()

    def entry(self):
        return _worker.get_entry(self.key, lambda: self._payload)


def run(function, arrays, *, policy="error", shapes=None, columns="stack", batch_size=None,
        t=pa.float64()):
    runner = _Runner(LocalHandle(SCRIPT), function, [f"c{i}" for i in range(len(arrays))], None,
                     batch_size, policy, columns=columns, shapes=shapes)
    return pa.concat_arrays(list(runner.score_batches([arrays], _convert_column(t, function))))


def address(a):
    return a.__array_interface__["data"][0]


# ---------------------------------------------------------------- without Spark
def test_flat_array_reshaped_by_input_shapes_without_a_copy():
    values = pa.array(np.arange(4 * 12, dtype=np.float32))
    arr = pa.ListArray.from_arrays(pa.array(np.arange(0, 49, 12, dtype=np.int32)), values)
    feeder = _Feeder(["img"], None, shapes=[[3, 2, 2]])
    parts, bad = feeder.feed([arr], 4)
    assert not bad.reasons
    (t,) = feeder.tensors(parts, None, 4)
    assert t.shape == (4, 3, 2, 2) and t.dtype == np.float32
    assert address(t) == values.buffers()[1].address            # a view of the Arrow buffer
    np.testing.assert_array_equal(t[1, 2], [[20, 21], [22, 23]])
    # by name, and through Lua
    assert run("sizes", [arr], shapes={"c0": [3, 4]}, t=pa.list_(pa.float64())).to_pylist() \
        == [[3.0, 4.0]] * 4


def test_nested_arrays_give_one_dimension_per_level():
    rows = [[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], [[7.0, 8.0, 9.0], [1.0, 1.0, 1.0]]]
    arr = pa.array(rows, type=pa.list_(pa.list_(pa.float64())))
    feeder = _Feeder(["m"], None)
    parts, bad = feeder.feed([arr], 2)
    (t,) = feeder.tensors(parts, None, 2)
    assert t.shape == (2, 2, 3)
    np.testing.assert_array_equal(t, np.array(rows))
    assert run("row_sum", [arr]).to_pylist() == [21.0, 27.0]
    # a row of another shape is bad only against a declared shape ...
    ragged = pa.array(rows + [[[1.0, 2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]], None, [[1.0, None, 3.0], [0.0, 0.0, 0.0]]],
                      type=pa.list_(pa.list_(pa.float64())))
    assert run("row_sum", [ragged], shapes=[[2, 3]], policy="null").to_pylist() \
        == [21.0, 27.0, None, None, None, None]
    with pytest.raises(BadRowsError) as info:
        run("row_sum", [ragged], shapes=[[2, 3]])
    text = str(info.value)
    assert ("column 'c0': expected arrays of shape [2, 3], got length 1 at level 1 (expected 2) "
            "(row 2; 1 bad row)") in text
    assert "got length 2 at level 2 (expected 3) (row 3; 1 bad row)" in text
    assert "expected an array of numbers, got null (row 4" in text
    assert "expected numbers inside the array, got null (row 5" in text
    # ... without one, a batch of mixed shapes is an error asking for one, whatever the policy
    for policy in ("error", "null"):
        with pytest.raises(BadRowsError, match=r"arrays at level 2 of different lengths.*input_shapes"):
            run("row_sum", [pa.array(rows + [[[1.0, 2.0], [3.0, 4.0]]],
                                     type=pa.list_(pa.list_(pa.float64())))], policy=policy)


def test_a_row_never_depends_on_its_batch_mates():
    """800 rows of 16 values score the same alone and in a batch where rows of 4 values
    are the majority (which used to null them under on_bad_rows='null')."""
    rng = np.random.default_rng(0)
    long_rows = [list(rng.normal(size=16)) for _ in range(800)]
    short_rows = [list(rng.normal(size=4)) for _ in range(2000)]
    alone = run("row_sum", [pa.array(long_rows)], shapes=[[16]], policy="null").to_pylist()
    mixed_rows = long_rows + short_rows
    order = rng.permutation(len(mixed_rows))
    mixed = pa.array([mixed_rows[i] for i in order])
    got = run("row_sum", [mixed], shapes=[[16]], policy="null", batch_size=1000).to_pylist()
    by_row = dict(zip(order.tolist(), got))
    assert [by_row[i] for i in range(800)] == alone                 # the same values, none null
    assert all(by_row[i] is None for i in range(800, 2800))          # the others are bad rows
    np.testing.assert_allclose(alone, [sum(r) for r in long_rows], rtol=1e-5)
    # the short rows, declared, score the same whatever the long ones around them
    short_alone = run("row_sum", [pa.array(short_rows)], shapes=[[4]], policy="null").to_pylist()
    got4 = run("row_sum", [mixed], shapes=[[4]], policy="null", batch_size=700).to_pylist()
    by_row4 = dict(zip(order.tolist(), got4))
    assert [by_row4[i] for i in range(800, 2800)] == short_alone
    # undeclared, the mixed batch is an error with either policy (not a silent majority)
    for policy in ("error", "null"):
        with pytest.raises(BadRowsError, match=r"arrays of different lengths in one batch "
                           r"\(length 4: \d+ rows, length 16: \d+ rows\).*whatever on_bad_rows"):
            run("row_sum", [mixed], policy=policy, batch_size=1000)


def test_columns_separate_gives_one_argument_per_column():
    a = pa.array([1.0, 2.0, 3.0])
    b = pa.array([4, 5, 6], type=pa.int32())
    assert run("two", [a, b], columns="separate").to_pylist() == [14.0, 25.0, 36.0]
    assert run("nargs", [a, b], columns="separate").to_pylist() == [2.0] * 3
    assert run("nargs", [a, b]).to_pylist() == [1.0] * 3           # stacked: one [N, 2] tensor
    feeder = _Feeder(["a", "b"], None, columns="separate")
    parts, _ = feeder.feed([a, b], 3)
    x, y = feeder.tensors(parts, None, 3)
    assert x.shape == (3,) and y.shape == (3,) and y.dtype == np.float32


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(input_shapes=[[0]]), ValueError, r"input_shapes\[0\] must be a non-empty list of positive ints"),
    (dict(input_shapes=[[-1, 4]]), ValueError, r"without the batch dimension"),
    (dict(input_shapes=[3]), TypeError, r"input_shapes\[0\] must be a list of positive ints"),
    (dict(input_shapes="3"), TypeError, r"input_shapes must be a list"),
    (dict(columns="split"), ValueError, r"columns must be one of \('stack', 'separate'\)"),
])
def test_options_are_checked_when_the_udf_is_made(kwargs, error, message):
    with pytest.raises(error, match=message):
        lua_udf(SCRIPT, "row_sum", "double", **kwargs)


def test_shapes_that_do_not_fit_the_columns_are_named():
    scalar = pa.array([1.0])
    with pytest.raises(TypeError, match=r"input_shapes gives column 'c0' the shape \[2\], but it is a scalar column"):
        run("row_sum", [scalar], shapes=[[2]])
    nested = pa.array([[[1.0]]])
    with pytest.raises(TypeError, match=r"has 2 levels of arrays; give a shape of 2 dimensions"):
        run("row_sum", [nested], shapes=[[1, 1, 1]])
    with pytest.raises(ValueError, match=r"input_shapes has 2 entries for 1 input columns"):
        run("row_sum", [scalar], shapes=[None, [2]])


# ---------------------------------------------------------------- on Spark
@pytest.mark.spark
def test_shapes_and_separate_columns_on_spark(spark):
    rows = [(i, float(i), i, [float(i)] * 6, [[float(i), 1.0], [2.0, 3.0]]) for i in range(30)]
    df = spark.createDataFrame(rows, "id bigint, a double, b int, flat array<float>, "
                                     "m array<array<double>>").repartition(2)
    sizes = lua_udf(SCRIPT, "sizes", "array<double>", input_shapes={"flat": [2, 3]})
    two = lua_udf(SCRIPT, "two", "double", columns="separate")
    total = lua_udf(SCRIPT, "row_sum", "double")
    out = sorted(df.select("id", sizes("flat").alias("s"), two("a", "b").alias("t"),
                           total("m").alias("m")).collect())
    assert [r.s for r in out] == [[2.0, 3.0]] * 30
    assert [r.t for r in out] == [11.0 * i for i in range(30)]
    assert [r.m for r in out] == [i + 6.0 for i in range(30)]
    # score: the same options, with the types checked on the driver
    scored = sorted(score(df, SCRIPT, "sizes", ["m"], "s array<double>", keep=["id"]).collect())
    assert [r.s for r in scored] == [[2.0, 2.0]] * 30
    with pytest.raises(TypeError, match=r"input_shapes gives column 'a' the shape \[3\], but it is a scalar column \(double\)"):
        score(df, SCRIPT, "row_sum", ["a"], "s double", input_shapes=[[3]])
    with pytest.raises(TypeError, match=r"its type array<array<double>> has 2 levels"):
        score(df, SCRIPT, "row_sum", ["m"], "s double", input_shapes={"m": [4]})
    with pytest.raises(ValueError, match=r"input_shapes names column\(s\) \['nope'\]"):
        score(df, SCRIPT, "row_sum", ["m"], "s double", input_shapes={"nope": [4]})


@pytest.mark.spark
def test_batch_mates_do_not_change_results_on_spark(spark):
    rng = np.random.default_rng(1)
    long_rows = [(i, [float(v) for v in rng.normal(size=16)]) for i in range(800)]
    short_rows = [(800 + i, [float(v) for v in rng.normal(size=4)]) for i in range(1200)]
    schema = "id bigint, x array<double>"
    alone = spark.createDataFrame(long_rows, schema).coalesce(1)
    mixed = spark.createDataFrame(long_rows + short_rows, schema).orderBy("id").coalesce(1)
    f = lua_udf(SCRIPT, "row_sum", "double", on_bad_rows="null", input_shapes=[[16]])
    a = dict(alone.select("id", f("x").alias("y")).collect())
    b = dict(mixed.select("id", f("x").alias("y")).collect())
    assert [b[i] for i in range(800)] == [a[i] for i in range(800)]
    assert all(a[i] is not None for i in range(800))
    assert all(b[i] is None for i in range(800, 2000))
    g = lua_udf(SCRIPT, "row_sum", "double", on_bad_rows="null")
    with pytest.raises(BadRowsError, match=r"arrays of different lengths in one batch.*input_shapes"):
        import sparktorch7 as st

        with st.short_errors():
            mixed.select(g("x")).collect()
