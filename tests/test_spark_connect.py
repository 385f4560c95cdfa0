"""Spark Connect: the payload in the UDF, files by reference, counts from observed
metrics, jobs/score.py --remote.

``any_spark`` runs a test on the classic session and on the Spark Connect
session served by the same test JVM (tests/spark_fixtures.py); the other
UDF, score, error and bad-row tests on Connect are the parametrized ones in
test_spark_udf.py and test_spark_errors.py.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import subprocess
import sys
import uuid

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sparktorch7 import _files
from sparktorch7.broadcast import LuaScript
from sparktorch7.udf import lua_udf, score
from spark_fixtures import ROOT, session_kind, spark_env

pytestmark = pytest.mark.spark

WHO = r"""
-- %s
function total(x)
  local n = x:size(1)
  local out = torch.DoubleTensor(n)
  for i = 1, n do out[i] = x[i]:sum() end
  return out
end
function who(x)
  local n = x:size(1)
  return {pid = torch.LongTensor(n):fill(sparktorch7_worker.pid),
          serial = torch.LongTensor(n):fill(sparktorch7_worker.serial),
          total = total(x)}
end
"""


def _dirty_rows(n=60):
    """Rows with an array of 3 doubles; every 7th row is bad (a null, or 2 values)."""
    rows = []
    for i in range(n):
        arr = [float(i), 1.0, 2.0]
        if i % 7 == 3:
            arr = None
        elif i % 7 == 5:
            arr = [float(i), 1.0]
        rows.append((i, arr))
    return rows


def test_counts_come_from_observed_metrics_on_both_sessions(any_spark):
    rows = _dirty_rows()
    bad = sum(1 for _i, a in rows if a is None or len(a) != 3)
    df = any_spark.createDataFrame(rows, "id bigint, arr array<double>").repartition(3)
    script = LuaScript(WHO % uuid.uuid4().hex, name="who.lua")
    out = score(df, script, "who", "arr", "pid bigint, serial bigint, total double", keep=["id"],
                on_bad_rows="null", input_shapes=[[3]], batch_size=8)
    assert out.columns == ["id", "pid", "serial", "total"]          # the stats column is dropped
    assert script.rows_scored == 0 and script.states_created == 0   # nothing ran yet
    got = sorted(out.collect(), key=lambda r: r.id)
    assert [r.total for r in got] == [None if a is None or len(a) != 3 else sum(a) for _i, a in rows]
    states = {(r.pid, r.serial) for r in got if r.pid is not None}
    assert script.rows_scored == len(rows) - bad
    assert script.states_created == len(states) >= 1               # each state built once, for this run
    assert out.count() == len(rows)                  # a second action: not counted again
    if session_kind(any_spark) == "classic":         # (pyspark 4.1's Connect client cannot
        assert out.union(out).count() == 2 * len(rows)   # self-union an observed DataFrame)
    assert script.rows_scored == len(rows) - bad
    # the classic accumulators (lua_udf) give the same rows on the same data
    if session_kind(any_spark) == "classic":
        twin = LuaScript(WHO % uuid.uuid4().hex, name="who.lua")
        f = lua_udf(twin, "total", "double", on_bad_rows="null", input_shapes=[[3]], batch_size=8)
        df.select(f("arr")).collect()
        assert twin.rows_scored == script.rows_scored


def test_the_payload_travels_in_the_handle_without_a_broadcast(spark_connect, tmp_path):
    weights = tmp_path / "w.txt"
    weights.write_text("0.5\n")
    script = LuaScript("function f(x) return x end", files=[weights], name="h.lua")
    handle = script._ship(spark_connect, count=True)   # Connect: no accumulators, no SparkContext
    assert handle._acc is None and handle._rows is None
    again = pickle.loads(pickle.dumps(handle))
    assert again.key == script.key and again._blob == handle._blob
    payload = pickle.loads(again._blob)
    assert payload["files"] == {"w.txt": b"0.5\n"} and payload["file_refs"] == []
    assert script._blob is script._ship(spark_connect)._blob         # pickled once per script


def _reader(name):
    return f"""
local data
function load()
  local f = assert(io.open(sparktorch7_file('{name}'), 'rb')); data = f:read('*a'); f:close()
end
function size(x)
  local out = torch.DoubleTensor(x:size(1)):fill(#data + data:byte(1) / 1000)
  return out
end
"""


def test_large_local_file_goes_through_spark_files(any_spark, tmp_path, monkeypatch):
    monkeypatch.setattr(_files, "INLINE_FILE_BYTES", 4096)
    blob = bytes([7]) + os.urandom(20000)
    path = tmp_path / f"big-{uuid.uuid4().hex[:6]}.bin"
    path.write_bytes(blob)
    script = LuaScript(_reader(path.name), files=[path], init="load", name="big.lua")
    (ref,) = script.file_refs
    assert ref.via == "sparkfiles" and ref.size == len(blob)
    assert ref.sha256 == hashlib.sha256(blob).hexdigest()
    handle = script._ship(any_spark)
    assert len(handle._blob) < 4096 and blob[:64] not in handle._blob   # not inside the UDF
    got = {r.s for r in any_spark.range(6, numPartitions=2).selectExpr("cast(id as double) x")
           .select(lua_udf(script, "size", "double")("x").alias("s")).collect()}
    assert got == {len(blob) + 7 / 1000}


def test_uri_file_is_read_on_the_executors(any_spark, tmp_path):
    blob = bytes([9]) + b"model" * 100
    path = tmp_path / "m.bin"
    path.write_bytes(blob)
    uri = "file://" + str(path)
    script = LuaScript(_reader("m.bin") + f"-- {uuid.uuid4().hex}", files=[uri], init="load",
                       name="uri.lua")
    (ref,) = script.file_refs
    assert ref.via == "uri" and ref.location == uri and script.files == ("m.bin",)
    df = any_spark.createDataFrame([(float(i),) for i in range(4)], "x double")
    out = score(df, script, "size", "x", "s double")
    assert {r.s for r in out.collect()} == {len(blob) + 9 / 1000}


def test_a_file_that_changed_after_the_script_was_made_is_an_error(tmp_path):
    path = tmp_path / "m.bin"
    path.write_bytes(b"first")
    script = LuaScript(_reader("m.bin") + f"-- {uuid.uuid4().hex}", files=["file://" + str(path)],
                       name="changed.lua")
    path.write_bytes(b"second!")
    with pytest.raises(OSError, match=r"LuaScript file 'm.bin' .* is not the file the script was "
                                      r"made with: expected 5 bytes .* got 7 bytes"):
        script.check("size")
    with pytest.raises(FileNotFoundError, match="LuaScript file not found: file:///nonexistent"):
        LuaScript("x = 1", files=["file:///nonexistent/m.t7"])
    with pytest.raises(OSError, match="cannot open the file system of 'nosuchscheme://a/b'"):
        LuaScript("x = 1", files=["nosuchscheme://a/b"])


def _job_env(**extra):
    env = dict(os.environ)
    env.update(spark_env())
    env.pop("SPARK_CONNECT_MODE_ENABLED", None)
    env.update(extra)
    return env


def test_score_job_runs_on_spark_connect(connect_url, tmp_path):
    """jobs/score.py --remote sc://... and $SPARK_REMOTE: a separate client process
    (no JVM of its own) scores through the test JVM's Connect endpoint."""
    n = 50
    x = np.arange(n * 3, dtype=np.float64).reshape(n, 3)
    x[4] = np.nan
    arr = pa.array([None if i == 7 else list(r) for i, r in enumerate(x)], pa.list_(pa.float64()))
    pq.write_table(pa.table({"id": np.arange(n), "f": arr}), tmp_path / "in.parquet")
    lua = tmp_path / "sum.lua"
    lua.write_text(WHO % "job")
    base = [sys.executable, os.path.join(ROOT, "jobs", "score.py"), "--script", str(lua),
            "--function", "total", "--input", str(tmp_path / "in.parquet"), "--features-col", "f",
            "--output-type", "double", "--on-bad-rows", "null", "--batch-size", "16"]
    runs = {"flag": (base + ["--output", str(tmp_path / "a.parquet"), "--remote", connect_url],
                     _job_env()),
            "env": (base + ["--output", str(tmp_path / "b.parquet")], _job_env(SPARK_REMOTE=connect_url))}
    for name, (cmd, env) in runs.items():
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, (name, proc.stderr[-3000:])
        assert "(mode error) on Spark Connect" in proc.stderr, proc.stderr
        assert "scored 49 rows in" in proc.stderr and "bad rows left out: 1;" in proc.stderr, proc.stderr
        out = pq.read_table(tmp_path / ("a.parquet" if name == "flag" else "b.parquet"))
        got = dict(zip(out["id"].to_pylist(), out["prediction"].to_pylist()))
        assert sorted(got) == list(range(n))
        assert got[7] is None                       # the null row: left out, null result
        assert np.isnan(got[4])                     # a NaN is a number: scored
        assert all(got[i] == x[i].sum() for i in range(n) if i not in (4, 7))


def test_remote_must_be_a_connect_url(capsys):
    sys.path.insert(0, os.path.join(ROOT, "jobs"))
    try:
        import score as job
    finally:
        sys.path.pop(0)
    with pytest.raises(SystemExit):
        job.parse_args(["--script", "s.lua", "--function", "f", "--input", "i", "--output", "o",
                        "--features", "a", "--remote", "http://x:1"])
    assert "--remote must be a Spark Connect URL sc://host:port" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        job.parse_args(["--script", "s.lua", "--function", "f", "--input", "i", "--output", "o",
                        "--features", "a", "--remote", "sc://x:1", "--master", "local[1]"])


def test_score_on_a_stream_runs_on_both_sessions(any_spark, tmp_path):
    """Spark's Observation refuses streams: a streaming score has named metrics in the
    query's progress instead (tests/test_spark_streaming.py), and runs on Connect too."""
    src = tmp_path / "in"
    src.mkdir()
    for part in range(2):
        ids = np.arange(part * 10, part * 10 + 10)
        pq.write_table(pa.table({"id": ids, "arr": [[float(i), 1.0, 2.0] for i in ids]}),
                       src / f"part-{part}.parquet")
    stream = any_spark.readStream.schema("id bigint, arr array<double>").parquet(str(src))
    script = LuaScript(WHO % uuid.uuid4().hex, name="stream.lua")
    out = score(stream, script, "total", "arr", "t double", keep=["id"])
    assert out.isStreaming and out.columns == ["id", "t"]
    query = (out.writeStream.format("parquet").option("path", str(tmp_path / "out"))
             .option("checkpointLocation", str(tmp_path / "ck")).trigger(availableNow=True).start())
    query.awaitTermination(300)
    got = pq.read_table(tmp_path / "out").to_pydict()
    assert sorted(zip(got["id"], got["t"])) == [(i, i + 3.0) for i in range(20)]
    # counted by the accumulators of a classic session; Connect has none
    assert script.rows_scored == (20 if session_kind(any_spark) == "classic" else 0)
