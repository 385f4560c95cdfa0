"""Bounded Lua calls on Spark: timeout_s and max_memory of lua_udf, lua_pandas_udf, score,
map_partitions and jobs/score.py. An endless loop fails the task with LuaTimeoutError
naming the function, the script and the rows (the driver sees that class through
short_errors), a Lua heap past max_memory with LuaMemoryError; the worker's state is
replaced afterwards."""
from __future__ import annotations

import os
import sys
import time

import pyarrow as pa
import pytest

import sparktorch7 as st
from sparktorch7 import _worker
from sparktorch7._batches import _convert_column, _Runner
from sparktorch7.broadcast import LuaScript
from sparktorch7.udf import lua_pandas_udf, lua_udf, map_partitions, score, short_errors

from spark_fixtures import ROOT

pytestmark = pytest.mark.spark

LUA = """
calls = 0
local function forever() while true do end end
-- x: [N] or [N, C]; rows whose first value is negative never end
function spin(x)
  calls = calls + 1
  if x:dim() == 2 then x = x:select(2, 1) end
  local y = torch.DoubleTensor(x:size(1))
  for i = 1, x:size(1) do
    if x[i] < 0 then forever() end
    y[i] = x[i] * 2 + 0 * sparktorch7_worker.serial
  end
  return y
end
function hog(x)
  local t = {}
  for i = 1, 1e8 do t[i] = {i} end
  return x
end
"""


@pytest.fixture(scope="module")
def script():
    return LuaScript(LUA, name="limits.lua")


TIMEOUT = r"timed out after 0\.5 s in limits\.lua:3 \(function 'forever'\)"


class Handle:
    """What a task's _ScriptHandle does, without Spark (the same worker cache)."""

    def __init__(self, script: LuaScript) -> None:
        self.key, self.name, self._payload = script.key, script.name, script._payload()

    def entry(self, limits=None):
        return _worker.get_entry(self.key, lambda: self._payload, limits)


def test_the_runner_keeps_the_class_and_replaces_the_state(script):
    runner = _Runner(Handle(script), "spin", ["x"], None, None, "error", limits=(0.5, 2 ** 26))
    entry = runner.entry()
    assert entry.state.timeout == 0.5 and entry.state.max_memory == 2 ** 26
    assert entry is runner.entry()                                   # cached, under its limits
    assert Handle(script).entry() is not entry                        # no limits: another state
    convert = _convert_column(pa.float64(), "spin")
    ok = list(runner.score_batches([[pa.array([1.0, 2.0])]], convert))
    assert ok[0].to_pylist() == [2.0, 4.0] and entry.state["calls"] == 1
    t0 = time.monotonic()
    with pytest.raises(st.LuaTimeoutError) as info:
        list(runner.score_batches([[pa.array([1.0, -1.0, 3.0])]], convert))
    assert time.monotonic() - t0 < 5
    assert info.value.lua_message.startswith("Lua function 'spin' of script 'limits.lua' failed "
                                             "on rows 0..2: timed out after 0.5 s")
    assert "in function 'forever'" in info.value.lua_traceback
    assert entry.state.closed                                        # dropped from the cache...
    fresh = runner.entry()
    assert fresh is not entry and fresh.serial > entry.serial        # ...the next call builds anew
    assert fresh.state["calls"] == 0
    assert list(runner.score_batches([[pa.array([5.0])]], convert))[0].to_pylist() == [10.0]


def test_options_are_checked_on_the_driver(spark, script):
    df = spark.createDataFrame([(1.0,)], "x double")
    for kwargs, message in [({"timeout_s": -1}, "timeout_s must be a positive number of seconds"),
                            ({"timeout_s": "1"}, "timeout_s must be a positive number of seconds"),
                            ({"max_memory": 0}, "max_memory must be a positive number of bytes"),
                            ({"max_memory": 1.5}, "max_memory must be a positive number of bytes")]:
        with pytest.raises(ValueError, match=message):
            lua_udf(script, "spin", "double", **kwargs)
        with pytest.raises(ValueError, match=message):
            score(df, script, "spin", ["x"], "y double", **kwargs)
        with pytest.raises(ValueError, match=message):
            map_partitions(spark.sparkContext.parallelize([[1.0]]), script, "spin", **kwargs)
    # the driver's check runs the chunk under the limits: a chunk that never ends fails there
    endless = LuaScript("while true do end\nfunction f(x) return x end", name="endless.lua")
    t0 = time.monotonic()
    with pytest.raises(st.LuaTimeoutError, match=r"timed out after 0\.3 s in endless\.lua:1"):
        lua_udf(endless, "f", "double", timeout_s=0.3)
    assert time.monotonic() - t0 < 5


@pytest.mark.parametrize("factory", [lua_udf, lua_pandas_udf], ids=["arrow", "pandas"])
def test_udf_timeout_fails_the_task_with_lua_timeout_error(spark, script, factory):
    f = factory(script, "spin", "double", timeout_s=0.5)
    df = spark.createDataFrame([(float(i),) for i in range(6)] + [(-1.0,)], "x double").coalesce(1)
    t0 = time.monotonic()
    with pytest.raises(st.LuaTimeoutError) as info:
        with short_errors():
            df.select(f("x")).collect()
    assert time.monotonic() - t0 < 60
    msg = str(info.value)
    assert msg.startswith("Lua function 'spin' of script 'limits.lua' failed on rows 0..6 of "
                          "partition 0: timed out after 0.5 s in limits.lua:3 (function 'forever')"), msg
    assert "stack traceback:" in msg
    # the next job on the same session scores (the failed worker's state was replaced)
    good = spark.createDataFrame([(1.5,), (2.5,)], "x double")
    assert [r[0] for r in good.select(f("x")).collect()] == [3.0, 5.0]


def test_score_and_map_partitions_limits(spark, script):
    df = spark.createDataFrame([(1.0,), (2.0,)], "x double").coalesce(1)
    with pytest.raises(st.LuaMemoryError) as info:
        with short_errors():
            score(df, script, "hog", ["x"], "y double", max_memory=32 * 2 ** 20).collect()
    msg = str(info.value)
    assert msg.startswith("Lua function 'hog' of script 'limits.lua' failed on rows 0..1 of "
                          "partition 0: not enough memory (the state's max_memory is 33554432 bytes)"), msg
    out = score(df, script, "spin", ["x"], "y double", timeout_s=5, max_memory=32 * 2 ** 20)
    assert sorted(r.y for r in out.collect()) == [2.0, 4.0]
    rdd = spark.sparkContext.parallelize([[1.0], [-2.0]], 1)
    with pytest.raises(st.LuaTimeoutError, match=r"^Lua function 'spin' of script 'limits\.lua' "
                       r"failed on rows 0\.\.1 of partition 0: " + TIMEOUT):
        with short_errors():
            map_partitions(rdd, script, "spin", timeout_s=0.5).collect()


def test_job_timeout_option(spark, tmp_path, capsys):
    sys.path.insert(0, os.path.join(ROOT, "jobs"))
    try:
        import score as job
    finally:
        sys.path.pop(0)
    lua = tmp_path / "limits.lua"
    lua.write_text(LUA)
    data = str(tmp_path / "in.parquet")
    spark.createDataFrame([(0, 1.0), (1, -1.0)], "id long, x double").coalesce(1).write.parquet(data)
    out = str(tmp_path / "out.parquet")
    args = ["--script", str(lua), "--function", "spin", "--input", data, "--output", out,
            "--features", "x", "--output-type", "double", "--timeout", "0.5",
            "--max-memory", str(2 ** 26)]
    assert job.parse_args(args).timeout == 0.5 and job.parse_args(args).max_memory == 2 ** 26
    assert job.main(args) == 1
    err = capsys.readouterr().err
    assert "score.py: error: LuaTimeoutError: Lua function 'spin' of script 'limits.lua' failed on " \
           "rows 0..1 of partition 0: timed out after 0.5 s in limits.lua:3 (function 'forever')" in err, err
    assert not os.path.exists(out)                                   # nothing written
