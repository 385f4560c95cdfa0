"""What goes wrong, and how it is reported: driver-side checks (no task runs),
Lua errors on executors, bad input rows under both policies, results of the
wrong shape."""
from __future__ import annotations

import uuid

import numpy as np
import pytest

import sparktorch7 as st
from sparktorch7.broadcast import LuaScript
from sparktorch7.udf import BadRowsError, LuaResultError, lua_udf, map_partitions, score

pytestmark = pytest.mark.spark

SCRIPT = r"""
require 'torch'
-- x: [N] or [N, C] -> [N] row sums
function total(x)
  if x:dim() == 1 then x = x:view(x:size(1), 1) end
  x = x:contiguous()
  local N, C = x:size(1), x:size(2)
  local y = torch.DoubleTensor(N)
  local xd, yd = x:data(), y:data()
  for i = 0, N - 1 do
    local s = 0
    for j = 0, C - 1 do s = s + xd[i * C + j] end
    yd[i] = s
  end
  return y
end

local function check(x)
  if x:size(1) > 0 then error('kaboom: ' .. x:size(1) .. ' rows') end
end

function explode(x)
  check(x)
end

function short(x) return total(x):narrow(1, 1, x:size(1) - 1) end
function number(x) return 42 end
function two(x) return total(x), total(x) end
function table_not_tensor(x) return {total(x)} end
"""


@pytest.fixture(scope="module")
def script():
    return LuaScript(SCRIPT, name="errs.lua")


def _on_session(request, cache, make):
    """``make(session)`` once per session kind: the test's ``any_spark`` when it
    takes it (classic and Spark Connect), else the classic ``spark``."""
    session = request.getfixturevalue("any_spark" if "any_spark" in request.fixturenames else "spark")
    kind = type(session).__module__
    if kind not in cache:
        cache[kind] = make(session)
    return cache[kind]


@pytest.fixture(scope="module")
def _frames():
    return {}


@pytest.fixture
def df(request, _frames):
    rows = [(i, float(i), [float(i)] * 3, "s%d" % i) for i in range(20)]
    return _on_session(request, _frames, lambda s: s.createDataFrame(
        rows, "id bigint, v double, arr array<double>, s string"))


@pytest.fixture
def no_jobs(spark):
    """Asserts that the block it guards started no Spark job."""
    sc = spark.sparkContext
    group = "check-" + uuid.uuid4().hex
    sc.setJobGroup(group, "driver-side checks")
    yield
    assert list(sc.statusTracker().getJobIdsForGroup(group)) == []
    sc.setLocalProperty("spark.jobGroup.id", None)


def by_id(df):
    return sorted(df.collect(), key=lambda r: r["id"])


# ---------------------------------------------------------------- driver checks
def test_syntax_error_is_raised_on_the_driver(spark, no_jobs):
    bad = LuaScript("function f(x) return x +  end", name="broken.lua")
    with pytest.raises(st.LuaSyntaxError, match=r"broken.lua:1:"):
        lua_udf(bad, "f", "double")


def test_runtime_error_while_loading_is_raised_on_the_driver(spark, no_jobs):
    bad = LuaScript("local t = nil\nprint(t.x)", name="load.lua")
    with pytest.raises(st.LuaError, match=r"load.lua:2: attempt to index"):
        score(spark.range(3), bad, "f", ["id"], "y double")


def test_missing_functions_are_named(spark, df, script, no_jobs):
    with pytest.raises(ValueError, match=r"Lua function 'nope' is not defined by script 'errs.lua' \(found a nil value\)"):
        lua_udf(script, "nope", "double")
    with pytest.raises(ValueError, match=r"init function 'setup' is not defined"):
        lua_udf(LuaScript("function f(x) return x end", init="setup"), "f", "double")
    with pytest.raises(ValueError, match="function must be a Lua global name"):
        lua_udf(script, "total(x)", "double")


def test_types_and_columns_are_checked_on_the_driver(spark, df, script, no_jobs):
    with pytest.raises(ValueError, match=r"return_type 'floot' is not a Spark type"):
        lua_udf(script, "total", "floot")
    with pytest.raises(TypeError, match=r"output of the UDF has type string"):
        lua_udf(script, "total", "string")
    with pytest.raises(ValueError, match=r"input column 'nope' is not in the DataFrame"):
        score(df, script, "total", ["nope"], "y double")
    with pytest.raises(TypeError, match=r"input column 's' has type string; expected a number"):
        score(df, script, "total", ["v", "s"], "y double")
    with pytest.raises(ValueError, match=r"clash with kept columns"):
        score(df, script, "total", ["v"], "v double")
    with pytest.raises(ValueError, match="on_bad_rows must be one of"):
        lua_udf(script, "total", "double", on_bad_rows="skip")
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        lua_udf(script, "total", "double", batch_size=0)
    with pytest.raises(TypeError, match="not pickled"):
        import pickle
        pickle.dumps(script)


# ---------------------------------------------------------------- Lua errors
def test_short_errors_give_the_workers_exception_alone(spark, df, script):
    with pytest.raises(st.LuaError) as info, st.short_errors():
        df.select(lua_udf(script, "explode", "double")("v")).collect()
    e = info.value
    assert type(e) is st.LuaError
    assert e.lua_message.startswith("Lua function 'explode' of script 'errs.lua' failed on rows 0..")
    assert "of partition " in e.lua_message and "errs.lua:" in e.lua_message and "kaboom:" in e.lua_message
    assert e.lua_traceback.startswith("stack traceback:") and "in function 'check'" in e.lua_traceback
    assert "at org.apache" not in str(e) and "Traceback" not in str(e)
    assert str(e).count("kaboom") == 1
    assert e.__suppress_context__ and e.__context__ is not None     # Spark's error kept behind it
    with pytest.raises(LuaResultError, match="has 9 rows for a batch of 10 rows"), st.short_errors():
        df.select(lua_udf(script, "short", "double", batch_size=10)("v")).collect()
    with pytest.raises(st.LuaError, match=r"(?s)Lua function 'explode'.*rows 0..4 of partition 0"), \
            st.short_errors():
        map_partitions(spark.sparkContext.parallelize([[1.0]] * 5, 1), script, "explode").collect()
    with pytest.raises(ZeroDivisionError), st.short_errors():    # not a Spark error: unchanged
        1 / 0


def test_lua_error_reaches_the_driver_with_message_traceback_and_function(any_spark, df, script):
    with pytest.raises(Exception) as info:
        df.select(lua_udf(script, "explode", "double")("v")).collect()
    text = str(info.value)
    assert "LuaError" in text
    assert "Lua function 'explode' of script 'errs.lua' failed on rows 0.." in text
    assert "errs.lua:" in text and "kaboom:" in text
    assert "stack traceback:" in text
    assert "in function 'check'" in text or "check" in text.split("stack traceback:")[1]


def test_lua_error_in_map_partitions(spark, df, script):
    rdd = spark.sparkContext.parallelize([[1.0, 2.0]] * 5, 1)
    with pytest.raises(Exception, match=r"(?s)Lua function 'explode'.*rows 0..4 of partition 0.*kaboom"):
        map_partitions(rdd, script, "explode", batch_size=10).collect()


# ---------------------------------------------------------------- wrong results
def test_result_with_too_few_rows_is_an_error(spark, df, script):
    # (the other wrong shapes are covered without Spark in test_spark_batching.py)
    with pytest.raises(Exception) as info:
        df.select(lua_udf(script, "short", "double", batch_size=10)("v")).collect()
    text = str(info.value)
    assert "LuaResultError" in text
    assert "the result of Lua function 'short' on rows 0..9 of partition" in text
    assert "has 9 rows for a batch of 10 rows" in text


# ---------------------------------------------------------------- bad rows
@pytest.fixture(scope="module")
def _dirty_frames():
    return {}


@pytest.fixture
def dirty(request, _dirty_frames):
    rows = [
        (0, 1.0, [1.0, 2.0, 3.0]),
        (1, None, [1.0, 2.0, 3.0]),        # null scalar
        (2, 2.0, [1.0, 2.0]),              # short array
        (3, 3.0, None),                    # null array
        (4, 4.0, [1.0, None, 3.0]),        # null inside the array
        (5, 5.0, [4.0, 5.0, 6.0]),
    ] + [(i, float(i), [float(i), 0.0, 1.0]) for i in range(6, 12)]
    return _on_session(request, _dirty_frames, lambda s: s.createDataFrame(
        rows, "id bigint, v double, arr array<double>").coalesce(1))


def test_bad_rows_error_names_column_problem_and_rows(any_spark, dirty, script):
    f = lua_udf(script, "total", "double", input_shapes={"arr": [3]})
    with pytest.raises(Exception) as info:
        dirty.select(f("v", "arr")).collect()
    text = str(info.value)
    assert "BadRowsError" in text
    assert "bad input for Lua function 'total' in rows 0..11 of partition 0" in text
    assert "column 'v': expected a number, got null (row 1; 1 bad row)" in text
    assert "column 'arr': expected an array of numbers, got null (row 3; 1 bad row)" in text
    assert "expected arrays of 3 values (input_shapes [3]), got length 2 (row 2; 1 bad row)" in text
    assert "expected numbers inside the array, got null (row 4; 1 bad row)" in text
    assert "on_bad_rows='null'" in text


def test_mixed_lengths_without_a_shape_fail_whatever_the_policy(any_spark, dirty, script):
    for policy in ("error", "null"):
        f = lua_udf(script, "total", "double", on_bad_rows=policy)
        with pytest.raises(BadRowsError) as info, st.short_errors():
            dirty.select(f("arr")).collect()
        text = str(info.value)
        assert ("bad input for Lua function 'total' in rows 0..11 of partition 0: column 'arr': "
                "arrays of different lengths in one batch (length 2: 1 row, length 3: 9 rows)") in text
        assert "Declare the shape of one row with input_shapes" in text


def test_bad_rows_null_policy_scores_the_rest(any_spark, dirty, script):
    f = lua_udf(script, "total", "double", on_bad_rows="null", batch_size=4,
                input_shapes={"arr": [3]})
    rows = by_id(dirty.select("id", f("v").alias("a"), f("arr").alias("b"), f("v", "arr").alias("c")))
    a = [r.a for r in rows]
    b = [r.b for r in rows]
    c = [r.c for r in rows]
    assert a == [1.0, None] + [float(i) for i in range(2, 12)]
    exp_b = [6.0, 6.0, None, None, None, 15.0] + [float(i) + 1.0 for i in range(6, 12)]
    assert b == exp_b
    # total(x) sees its first argument (the scalar v); rows bad in either column are null
    assert c == [None if (x is None or y is None) else x for x, y in zip(a, exp_b)]
    out = by_id(score(dirty, script, "total", ["arr"], "s double", keep=["id"],
                      on_bad_rows="null", batch_size=5, input_shapes=[[3]]))
    assert [r.s for r in out] == exp_b
    # the pandas flavour sees the same nulls
    p = lua_udf(script, "total", "double", on_bad_rows="null", flavor="pandas",
                input_shapes=[[3]])
    assert [r.p for r in by_id(dirty.select("id", p("arr").alias("p")))] == exp_b


def test_non_numeric_column_in_udf_is_named(spark, df, script):
    with pytest.raises(Exception, match=r"(?s)TypeError: input column 's' has Arrow type string.*expected a number"):
        df.select(lua_udf(script, "total", "double")("s")).collect()


def test_map_partitions_bad_rows(spark, script):
    rdd = spark.sparkContext.parallelize([[1.0, 2.0], [3.0], None, [1.0, "x"], [4.0, 5.0]], 1)
    with pytest.raises(Exception) as info:
        map_partitions(rdd, script, "total", batch_size=10).collect()
    text = str(info.value)
    assert "row 1: expected 2 values, got 1" in text
    assert "row 2: expected a sequence of numbers, got a null" in text
    assert "row 3: expected a sequence of numbers" in text
    got = map_partitions(rdd, script, "total", batch_size=10, on_bad_rows="null").collect()
    assert got == [3.0, None, None, None, 9.0]


def test_workers_keep_working_after_errors(spark, df, script):
    f = lua_udf(script, "total", "double")
    rows = by_id(df.select("id", f("arr").alias("t")))
    assert [r.t for r in rows] == [3.0 * i for i in range(20)]
