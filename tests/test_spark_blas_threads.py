"""Math threads per Spark task: numpy's BLAS in a Python worker runs spark.task.cpus
threads (sparktorch7._blas, applied when a task takes its Lua state)."""
from __future__ import annotations

import numpy as np
import pytest

from sparktorch7 import _blas
from sparktorch7.broadcast import LuaScript
from sparktorch7.udf import lua_udf

# reports the BLAS threads the task runs with, then changes them (as a library might):
# the next task in the same worker must get spark.task.cpus threads again
THREADS = r"""
function threads(x)
  local n = torch._np.callmod('sparktorch7._blas', 'get_threads') or -1
  torch._np.callmod('sparktorch7._blas', 'set_threads', 3)
  return torch.FloatTensor(x:size(1)):fill(n)
end
"""


def test_set_and_get_threads():
    before = _blas.get_threads()
    if before is None:
        pytest.skip("numpy's BLAS is not OpenBLAS")
    try:
        assert _blas.set_threads(1)
        assert _blas.get_threads() == 1
    finally:
        _blas.set_threads(before)
    with pytest.raises(ValueError, match="int >= 1"):
        _blas.set_threads(0)


def test_outside_spark_nothing_changes():
    before = _blas.get_threads()
    _blas.limit_to_task_cpus()
    assert _blas.get_threads() == before


@pytest.mark.spark
def test_task_gets_task_cpus_threads(spark):
    if _blas.get_threads() is None:
        pytest.skip("numpy's BLAS is not OpenBLAS")
    cpus = int(spark.sparkContext.getConf().get("spark.task.cpus", "1"))
    # more partitions than workers: reused workers run several tasks one after another
    df = spark.range(64).selectExpr("cast(id as float) as x").repartition(8)
    f = lua_udf(LuaScript(THREADS, name="threads.lua"), "threads", "float")
    got = {r[0] for r in df.select(f("x")).collect()}
    assert got == {float(cpus)}
