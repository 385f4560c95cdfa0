"""Lua functions in Spark SQL: spark.udf.register(name, lua_udf(...)) and
sparktorch7.register(spark, name, script, function, return_type), run by
spark.sql on a real local Spark."""
from __future__ import annotations

import pytest

import sparktorch7 as st
from sparktorch7 import LuaScript, lua_udf

pytestmark = pytest.mark.spark

LUA = r"""
require 'torch'
function double(x) return x * 2 end
function two(a, b) return a * 10 + b end
function stats(x)   -- [N, D] -> {mean = [N], n = [N]}
  local n = x:size(1)
  return {mean = x:mean(2):view(n), n = torch.IntTensor(n):fill(x:size(2))}
end
local function deep(x) error('sql kaboom ' .. x:size(1)) end
function fail(x) deep(x) end
"""


@pytest.fixture(scope="module")
def script():
    return LuaScript(LUA, name="sql.lua")


def test_spark_udf_register_takes_a_lua_udf(spark, script):
    registered = spark.udf.register("lua_double", lua_udf(script, "double", "double"))
    rows = spark.sql("SELECT id, lua_double(CAST(id AS DOUBLE)) AS y FROM range(6) ORDER BY id").collect()
    assert [r.y for r in rows] == [2.0 * i for i in range(6)]
    # what register returns works on DataFrames too
    df = spark.range(3).selectExpr("CAST(id AS DOUBLE) AS x")
    assert sorted(r[0] for r in df.select(registered("x")).collect()) == [0.0, 2.0, 4.0]


def test_register_helper_with_separate_columns_arrays_and_structs(spark, script):
    st.register(spark, "lua_two", script, "two", "double", columns="separate")
    st.register(spark, "lua_stats", script, "stats", "struct<mean:double, n:int>")
    spark.createDataFrame([(1, 2.0, [1.0, 3.0]), (2, 5.0, [2.0, 4.0])],
                          "a int, b double, v array<double>").createOrReplaceTempView("sql_t")
    rows = spark.sql("SELECT lua_two(a, b) AS t, lua_stats(v) AS s FROM sql_t ORDER BY a").collect()
    assert [r.t for r in rows] == [12.0, 25.0]
    assert [(r.s.mean, r.s.n) for r in rows] == [(2.0, 2), (3.0, 2)]
    # SQL's array literals are accepted too
    (row,) = spark.sql("SELECT lua_stats(array(1.0D, 2.0D, 6.0D)) AS s").collect()
    assert (row.s.mean, row.s.n) == (3.0, 3)


def test_errors_from_sql_name_the_argument_and_the_rows(spark, script):
    st.register(spark, "lua_fail", script, "fail", "double")
    with pytest.raises(st.LuaError) as info, st.short_errors():
        spark.sql("SELECT lua_fail(CAST(id AS DOUBLE)) FROM range(0, 4, 1, 1)").collect()
    assert "Lua function 'fail' of script 'sql.lua' failed on rows 0..3 of partition 0" in str(info.value)
    assert "sql kaboom 4" in info.value.lua_message
    assert "in function 'deep'" in info.value.lua_traceback
    # column types are checked on the first batch (SQL resolves them after register)
    st.register(spark, "lua_double2", script, "double", "double")
    with pytest.raises(TypeError, match=r"input column 'argument 1' has Arrow type string"), st.short_errors():
        spark.sql("SELECT lua_double2('x')").collect()


def test_register_checks_on_the_driver(spark, script):
    with pytest.raises(ValueError, match=r"Lua function 'nope' is not defined by script 'sql.lua'"):
        st.register(spark, "lua_nope", script, "nope", "double")
    with pytest.raises(ValueError, match="name must be a non-empty string"):
        st.register(spark, "", script, "double", "double")
    with pytest.raises(TypeError, match="output of the UDF has type string"):
        st.register(spark, "lua_str", script, "double", "string")
