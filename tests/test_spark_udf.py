"""lua_udf / lua_pandas_udf / score / map_partitions on a real local SparkSession.

Every result is compared with the same computation done with NumPy on the driver.
The tests that take ``any_spark`` run twice: on the classic session and on Spark
Connect (see tests/spark_fixtures.py).
"""
from __future__ import annotations

import os
import uuid

import numpy as np
import pyarrow as pa
import pytest

import sparktorch7 as st
from sparktorch7.broadcast import LuaScript
from sparktorch7.udf import lua_pandas_udf, lua_udf, map_partitions, score

pytestmark = pytest.mark.spark

# A linear layer written with element loops (torch core only): y = x W^T + b,
# W[k][j] = sin(k + 2 j) / 4, b[k] = k / 10 (1-based k, j in Lua).
LINEAR = r"""
require 'torch'

local function weights(K, C)
  local W = torch.DoubleTensor(K, C)
  local wd = W:data()
  for k = 1, K do
    for j = 1, C do wd[(k - 1) * C + (j - 1)] = math.sin(k + 2 * j) / 4 end
  end
  return W
end

-- x: [N, C] (or [N]); returns [N, K] FloatTensor
function linear(x, K)
  K = K or 3
  if x:dim() == 1 then x = x:view(x:size(1), 1) end
  x = x:contiguous()
  local N, C = x:size(1), x:size(2)
  local W = weights(K, C):data()
  local y = torch.FloatTensor(N, K)
  local xd, yd = x:data(), y:data()
  for i = 0, N - 1 do
    for k = 0, K - 1 do
      local s = (k + 1) / 10
      for j = 0, C - 1 do s = s + xd[i * C + j] * W[k * C + j] end
      yd[i * K + k] = s
    end
  end
  return y
end

-- [N, C] -> [N]: first output of linear
function first(x)
  local y = linear(x, 1)
  return y:select(2, 1)
end

-- {label = argmax (0-based), score = max} of a linear layer with 3 outputs
function classify(x)
  local y = linear(x, 3)
  local N = y:size(1)
  local label, best = torch.IntTensor(N), torch.DoubleTensor(N)
  local yd, ld, bd = y:data(), label:data(), best:data()
  for i = 0, N - 1 do
    local m, a = yd[i * 3], 0
    for k = 1, 2 do if yd[i * 3 + k] > m then m, a = yd[i * 3 + k], k end end
    ld[i], bd[i] = a, m
  end
  return {label = label, score = best}
end

-- two tensor arguments: rows of a plus first column of b
function two(a, b)
  a, b = a:contiguous(), b:contiguous()
  local N, C = a:size(1), a:size(2)
  local y = torch.DoubleTensor(N)
  local ad, bd, yd = a:data(), b:data(), y:data()
  local D = b:size(2)
  for i = 0, N - 1 do
    local s = bd[i * D]
    for j = 0, C - 1 do s = s + ad[i * C + j] end
    yd[i] = s
  end
  return y
end

-- 1 for a FloatTensor argument, 2 for a DoubleTensor, 0 else; one per row
function typecode(x)
  local code = ({['torch.FloatTensor'] = 1, ['torch.DoubleTensor'] = 2})[torch.type(x)] or 0
  return torch.IntTensor(x:size(1)):fill(code)
end
"""


def np_linear(x, k=3):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    c = x.shape[1]
    w = np.array([[np.sin(kk + 2 * j) / 4 for j in range(1, c + 1)] for kk in range(1, k + 1)])
    b = np.arange(1, k + 1) / 10
    return x @ w.T + b


@pytest.fixture(scope="module")
def linear_script():
    return LuaScript(LINEAR, name="linear.lua")


@pytest.fixture(scope="module")
def _tables():
    return {}


@pytest.fixture
def table_df(request, _tables):
    """The table on the test's session (``any_spark`` when it takes it), made once per kind."""
    session = request.getfixturevalue("any_spark" if "any_spark" in request.fixturenames else "spark")
    kind = type(session).__module__
    if kind not in _tables:
        _tables[kind] = _make_table(session)
    return _tables[kind]


def _make_table(spark):
    rng = np.random.default_rng(7)
    n = 500
    x = rng.normal(size=(n, 4)).astype(np.float32)
    import pandas as pd

    pdf = pd.DataFrame({
        "id": np.arange(n, dtype=np.int64),
        "a": x[:, 0].astype(np.float64),
        "b": x[:, 1].astype(np.float32),
        "c": (x[:, 2] * 10).astype(np.int32),
        "features": [list(map(float, r)) for r in x],
    })
    df = spark.createDataFrame(pdf, "id bigint, a double, b float, c int, features array<float>").repartition(3, "id").cache()
    df.count()
    return df, x


def by_id(df):
    return sorted(df.collect(), key=lambda r: r["id"])


def collect_sorted(df, *cols):
    rows = by_id(df)
    return [[r[c] for c in cols] for r in rows]


def test_scalar_columns_become_one_2d_tensor(spark, table_df, linear_script):
    df, x = table_df
    f = lua_udf(linear_script, "first", "double")
    out = df.select("id", f("a", "b", "c").alias("y"))
    got = np.array([r[1] for r in collect_sorted(out, "id", "y")])
    ref = np_linear(np.stack([x[:, 0], x[:, 1], (x[:, 2] * 10).astype(np.int32)], axis=1), 1)[:, 0]
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)


def test_array_column_to_array_output(any_spark, table_df, linear_script):
    df, x = table_df
    f = lua_udf(linear_script, "linear", "array<float>", batch_size=37)
    out = df.withColumn("y", f("features"))
    assert out.schema["y"].dataType.simpleString() == "array<float>"
    got = np.array([r[1] for r in collect_sorted(out, "id", "y")], dtype=np.float64)
    np.testing.assert_allclose(got, np_linear(x), rtol=1e-5, atol=1e-5)


def test_single_scalar_column_is_1d_and_struct_output(spark, table_df, linear_script):
    df, x = table_df
    f = lua_udf(linear_script, "classify", "struct<label:int, score:double>")
    rows = by_id(df.select("id", f("a").alias("r")))
    ref = np_linear(x[:, 0].astype(np.float32), 3)
    assert [r.r.label for r in rows] == list(ref.argmax(axis=1))
    np.testing.assert_allclose([r.r.score for r in rows], ref.max(axis=1), rtol=1e-5, atol=1e-6)


def test_scalars_and_array_give_two_tensor_arguments(spark, table_df, linear_script):
    df, x = table_df
    f = lua_udf(linear_script, "two", "double", dtype="float64")
    rows = by_id(df.select("id", f("a", "features", "b").alias("y")))
    ref = x[:, 0].astype(np.float64) + x[:, 1].astype(np.float64) + x[:, 0].astype(np.float64)
    # scalar columns a, b -> one [N, 2] tensor (first argument); features -> second
    ref = x[:, 0].astype(np.float64) + x[:, 1] + x[:, 0]
    np.testing.assert_allclose([r.y for r in rows], ref, rtol=1e-6)


def test_array_tensor_keeps_element_type_and_dtype_casts(spark, table_df, linear_script):
    df, _ = table_df
    f = lua_udf(linear_script, "typecode", "int")
    g = lua_udf(linear_script, "typecode", "int", dtype="float64")
    rows = df.select(f("features").alias("f"), g("features").alias("g"),
                     f("a").alias("a"), f(df.a.cast("float")).alias("b")).collect()
    assert {(r.f, r.g, r.a, r.b) for r in rows} == {(1, 2, 1, 1)}


def test_pandas_flavour_matches_arrow(any_spark, table_df, linear_script):
    df, x = table_df
    f = lua_pandas_udf(linear_script, "linear", "array<double>")
    g = lua_pandas_udf(linear_script, "classify", "struct<label:int, score:double>")
    rows = by_id(df.select("id", f("features").alias("y"), g("features").alias("c")))
    ref = np_linear(x)
    np.testing.assert_allclose(np.array([r.y for r in rows]), ref, rtol=1e-5, atol=1e-5)
    assert [r.c.label for r in rows] == list(ref.argmax(axis=1))


def test_score_keeps_ids_and_splits_batches(any_spark, table_df, linear_script):
    df, x = table_df
    out = score(df, linear_script, "classify", ["features"], "label int, score double",
                keep=["id"], batch_size=64)
    assert out.columns == ["id", "label", "score"]
    rows = by_id(out)
    assert [r.id for r in rows] == list(range(len(x)))
    ref = np_linear(x)
    assert [r.label for r in rows] == list(ref.argmax(axis=1))
    np.testing.assert_allclose([r.score for r in rows], ref.max(axis=1), rtol=1e-5, atol=1e-6)
    one = score(df, linear_script, "linear", "features", "y array<float>", keep=["id"])
    got = np.array([r.y for r in by_id(one)])
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)


def test_scoring_is_deterministic(spark, table_df, linear_script):
    from pyspark.sql.types import ArrayType, FloatType

    df, _ = table_df
    f = lua_udf(linear_script, "linear", ArrayType(FloatType()), batch_size=50)  # a DataType
    a = [r.y for r in by_id(df.select("id", f("features").alias("y")))]
    b = [r.y for r in by_id(df.select("id", f("features").alias("y")))]
    assert a == b


def test_map_partitions(spark, linear_script):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, 5))
    rdd = spark.sparkContext.parallelize([list(map(float, r)) for r in x], 3)
    got = map_partitions(rdd, linear_script, "linear", batch_size=40).collect()
    np.testing.assert_allclose(np.array(got), np_linear(x.astype(np.float32)), rtol=1e-5, atol=1e-5)
    tables = map_partitions(rdd, linear_script, "classify", batch_size=1000).collect()
    assert [t["label"] for t in tables] == list(np_linear(x.astype(np.float32)).argmax(axis=1))


def test_files_are_shipped_and_found(any_spark, tmp_path):
    weights = tmp_path / "scale.txt"
    weights.write_text("2.5\n")
    script = LuaScript(
        """
        local scale
        function load() local f = assert(io.open(sparktorch7_file('scale.txt'))); scale = f:read('*n'); f:close() end
        function scaled(x)
          local y = torch.DoubleTensor(x:size(1))
          for i = 1, x:size(1) do y[i] = x[i] * scale end
          return y
        end
        function missing(x) return sparktorch7_file('nope.t7') end
        """, files=[weights], init="load", name="files.lua")
    assert script.files == ("scale.txt",)
    df = any_spark.range(10).selectExpr("id", "cast(id as double) v")
    rows = by_id(df.select("id", lua_udf(script, "scaled", "double")("v").alias("y")))
    assert [r.y for r in rows] == [2.5 * i for i in range(10)]
    with pytest.raises(Exception, match=r"no file named nope.t7 was shipped with this script \(shipped: scale.txt\)"):
        df.select(lua_udf(script, "missing", "double")("v")).collect()


def test_one_state_per_worker_and_init_once(spark):
    tag = uuid.uuid4().hex
    script = LuaScript(
        f"""
        -- {tag}
        local inits = 0
        function setup() inits = inits + 1 end
        function who(x)
          local n = x:size(1)
          local pid, serial, count = torch.LongTensor(n), torch.LongTensor(n), torch.LongTensor(n)
          pid:fill(sparktorch7_worker.pid); serial:fill(sparktorch7_worker.serial); count:fill(inits)
          return {{pid = pid, serial = serial, inits = count}}
        end
        """, init="setup", name="who.lua")
    f = lua_udf(script, "who", "struct<pid:bigint, serial:bigint, inits:bigint>", batch_size=10)
    df = spark.range(0, 2000, numPartitions=8).selectExpr("cast(id as double) x")
    seen = {}
    for _ in range(2):   # two jobs: the states survive between them
        for r in df.select(f("x").alias("w")).collect():
            seen.setdefault(r.w.pid, set()).add(r.w.serial)
            assert r.w.inits == 1
    # each worker process built the state once and used it for all its tasks and batches
    assert all(len(serials) == 1 for serials in seen.values()), seen
    # 16 tasks of 250 rows, 25 batches each, served by the pool of reused workers
    # (earlier tests with several UDFs in one select leave more than 2 of them):
    # never one state per task, let alone per batch
    assert 1 <= len(seen) < 16, seen
    assert script.states_created == len(seen), (script.states_created, seen)


def test_states_are_cached_in_an_importable_module_bounded():
    from sparktorch7 import _worker

    assert _worker.MAX_STATES >= 1
    made = []

    class Handle:
        def __init__(self, i):
            self.key = f"test-{uuid.uuid4().hex}-{i}"
            self.payload = {"source": b"x = %d" % i, "name": "=t", "files": {}, "init": None}

    before = _worker.states_created()
    handles = [Handle(i) for i in range(_worker.MAX_STATES + 2)]
    for h in handles:
        made.append(_worker.get_entry(h.key, lambda h=h: h.payload))
    assert _worker.states_created() == before + len(handles)
    assert _worker.cache_size() <= _worker.MAX_STATES
    assert made[0].state.closed                      # evicted first
    last = handles[-1]
    assert _worker.get_entry(last.key, lambda: pytest.fail("rebuilt")) is made[-1]
    assert made[-1].state["x"] == len(handles) - 1
    _worker.clear()
