"""score and lua_udf on Structured Streaming: a folder of Parquet files read with
readStream, written with a file sink and with foreachBatch, restarted from its checkpoint.

Each Python worker keeps ONE Lua state across the micro-batches (and across the restart):
every row carries the state's pid, serial and a Lua call counter. The results equal the
batch run and a NumPy reference; a restart with the same checkpoint writes no duplicate
and loses no row.
"""
from __future__ import annotations

import os
import uuid
from collections import defaultdict

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sparktorch7.broadcast import LuaScript
from sparktorch7.udf import _stream_metrics_name, lua_udf, score

pytestmark = pytest.mark.spark

ROWS = 40          # per file: one micro-batch per file (maxFilesPerTrigger=1)

# p = [x . W1, x . W2] for x of 3 values; `calls` counts the calls this state served
LUA = """
-- %s
calls = 0
local W = {{0.5, -1.0, 2.0}, {1.5, 0.25, -0.75}}
local function linear(x)
  local n = x:size(1)
  local p = torch.DoubleTensor(n, 2)
  for i = 1, n do
    for k = 1, 2 do
      local s = 0
      for j = 1, 3 do s = s + W[k][j] * x[i][j] end
      p[i][k] = s
    end
  end
  return p
end
function predict(x)
  calls = calls + 1
  local n = x:size(1)
  return {p = linear(x), calls = torch.IntTensor(n):fill(calls),
          serial = torch.IntTensor(n):fill(sparktorch7_worker.serial),
          pid = torch.IntTensor(n):fill(sparktorch7_worker.pid)}
end
function first(x) return linear(x):select(2, 1) end
function both(x) return linear(x) end
"""
W = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
OUT = "p array<double>, calls int, serial int, pid int"


def features(ids: np.ndarray) -> np.ndarray:
    return np.stack([ids * 0.1, np.sin(ids), np.cos(ids)], axis=1)


def write_file(folder: str, k: int) -> None:
    ids = np.arange(k * ROWS, (k + 1) * ROWS, dtype=np.int64)
    table = pa.table({"id": ids, "x": pa.array(list(features(ids)), pa.list_(pa.float64()))})
    tmp = os.path.join(folder, f".part-{k}.parquet.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, os.path.join(folder, f"part-{k}.parquet"))   # whole files only


def script() -> LuaScript:
    # a fresh script key per test: its states are built by this test alone
    return LuaScript(LUA % uuid.uuid4().hex, name="stream.lua")


def stream(spark, folder: str):
    schema = "id bigint, x array<double>"
    return spark.readStream.schema(schema).option("maxFilesPerTrigger", 1).parquet(folder)


def batches_of(query) -> list:
    return [p for p in query.recentProgress if p["numInputRows"] > 0]


def test_score_stream_to_a_file_sink_restarts_exactly_once(spark, tmp_path):
    src, out, ck = (str(tmp_path / n) for n in ("in", "out", "checkpoint"))
    os.makedirs(src)
    for k in range(2):
        write_file(src, k)
    lua = script()
    scored = score(stream(spark, src), lua, "predict", ["x"], OUT, keep=["id"])
    assert scored.isStreaming

    def run():
        query = (scored.writeStream.format("parquet").option("path", out)
                 .option("checkpointLocation", ck).trigger(availableNow=True).start())
        query.awaitTermination(120)
        assert not query.isActive and query.exception() is None
        return batches_of(query)

    first = run()
    assert [p["numInputRows"] for p in first] == [ROWS] * 2          # one micro-batch per file
    # the counts of each micro-batch, from the query's progress: no action needed
    name = _stream_metrics_name("predict", "p")
    assert [p["observedMetrics"][name].asDict() for p in first] == [{"rows": ROWS, "scored": ROWS}] * 2
    assert lua.rows_scored == 2 * ROWS

    write_file(src, 2)                                               # the query is stopped: a new file
    second = run()                                                   # same checkpoint
    assert [p["numInputRows"] for p in second] == [ROWS]             # only the new file
    assert lua.rows_scored == 3 * ROWS

    rows = spark.read.parquet(out).collect()
    ids = sorted(r.id for r in rows)
    assert ids == list(range(3 * ROWS))                               # no duplicate, no loss
    by_id = {r.id: r for r in rows}
    got = np.array([by_id[i].p for i in range(3 * ROWS)])
    np.testing.assert_allclose(got, features(np.arange(3 * ROWS)) @ W.T, rtol=1e-12)

    # one state per worker process, across the 3 micro-batches and the restart: a worker that
    # served several micro-batches did so on one state, its call counter running 1, 2, ...
    # (how many workers PySpark forks is its own choice: a fresh one may serve a later batch)
    serials, calls = defaultdict(set), defaultdict(set)
    for r in rows:
        serials[r.pid].add(r.serial)
        calls[r.pid].add(r.calls)
    assert all(len(s) == 1 for s in serials.values()), dict(serials)
    assert lua.states_created == len(serials)
    # each state counted the micro-batches it served, 1, 2, ..., without restarting
    assert sum(len(c) for c in calls.values()) == 3
    assert all(sorted(c) == list(range(1, len(c) + 1)) for c in calls.values()), dict(calls)

    # the batch run over the same files gives the same results, bit for bit
    batch = score(spark.read.parquet(src), lua, "predict", ["x"], OUT, keep=["id"])
    assert not batch.isStreaming
    assert {r.id: r.p for r in batch.collect()} == {r.id: r.p for r in rows}


def test_lua_udf_stream_through_foreach_batch_restarts_exactly_once(spark, tmp_path):
    src, out, ck = (str(tmp_path / n) for n in ("in", "out", "checkpoint"))
    os.makedirs(src)
    for k in range(2):
        write_file(src, k)
    lua = script()
    first_col = lua_udf(lua, "first", "double")
    source = stream(spark, src).select("id", "x", first_col("x").alias("y"))
    assert source.isStreaming
    seen = []

    def write_batch(batch_df, batch_id):
        # a static DataFrame per micro-batch: score works on it as on any; the write is
        # idempotent by batch id, so a re-run batch would replace its own output
        seen.append(batch_id)
        scored = score(batch_df, lua, "both", ["x"], "p array<double>", keep=["id", "y"])
        scored.write.mode("overwrite").parquet(os.path.join(out, f"batch_id={batch_id}"))

    def run():
        query = (source.writeStream.foreachBatch(write_batch).option("checkpointLocation", ck)
                 .trigger(availableNow=True).start())
        query.awaitTermination(120)
        assert not query.isActive and query.exception() is None

    run()
    write_file(src, 2)
    run()
    assert seen == [0, 1, 2]                                         # the restart went on at batch 2
    rows = spark.read.parquet(out).collect()
    assert sorted(r.id for r in rows) == list(range(3 * ROWS))
    assert sorted({r.batch_id for r in rows}) == [0, 1, 2]
    ref = features(np.arange(3 * ROWS)) @ W.T
    by_id = {r.id: r for r in rows}
    np.testing.assert_allclose([by_id[i].y for i in range(3 * ROWS)], ref[:, 0], rtol=1e-12)
    np.testing.assert_allclose([by_id[i].p for i in range(3 * ROWS)], ref, rtol=1e-12)
    batch = spark.read.parquet(src).select("id", first_col("x").alias("y")).collect()
    assert {r.id: r.y for r in batch} == {r.id: r.y for r in rows}    # equal to the batch run
