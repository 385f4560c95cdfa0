"""jobs/score.py end to end, score_files on CSV, and executors in separate
processes (local-cluster)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pyarrow.parquet as pq
import pytest

from spark_fixtures import ROOT, spark_env

sys.path.insert(0, os.path.join(ROOT, "jobs", "examples"))
import make_data  # noqa: E402

pytestmark = pytest.mark.spark

JOB = os.path.join(ROOT, "jobs", "score.py")
MLP = os.path.join(ROOT, "jobs", "examples", "mlp.lua")


def child_env() -> dict:
    env = dict(os.environ)
    env.update(spark_env())
    return env


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    paths = make_data.write_data(str(out), 1500, csv=True)
    x = make_data.make_features(1500)
    ref = make_data.forward(make_data.load_weights(paths["weights"]), x)
    return out, paths, ref


def test_job_end_to_end_on_parquet(demo):
    out, paths, ref = demo
    scores = os.path.join(out, "scores.parquet")
    proc = subprocess.run(
        [sys.executable, JOB, "--script", MLP, "--function", "predict", "--init", "load",
         "--files", paths["model"], "--input", paths["data"], "--output", scores,
         "--features-col", "features", "--keep", "id", "--batch-size", "500", "--master", "local[1]"],
        cwd=str(out), env=child_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    table = pq.read_table(scores).sort_by("id")
    assert table.column_names == ["id", "prediction"]
    assert table.column("id").to_pylist() == list(range(1500))
    got = np.array(table.column("prediction").to_pylist(), dtype=np.float64)
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-6)
    log = proc.stderr
    assert "scored 1500 rows in" in log and "rows/s" in log
    assert "Lua states created: 1" in log   # local[1]: one Python worker, one state


def test_score_files_csv_with_scalar_columns(spark, demo, tmp_path):
    from sparktorch7.udf import score_files

    out, paths, ref = demo
    target = str(tmp_path / "labels.csv")
    stats = score_files(paths["csv"], target, MLP, "classify", init="load", files=[paths["model"]],
                        features=[f"f{i}" for i in range(64)], output_col="best",
                        output_type="struct<label:int, p:float>", keep=["id"], spark=spark)
    assert stats["rows"] == 1500 and stats["lua_states"] >= 1 and stats["rows_per_s"] > 0
    import pandas as pd

    frame = pd.concat(pd.read_csv(os.path.join(target, f)) for f in os.listdir(target)
                      if f.endswith(".csv")).sort_values("id")
    best = [json.loads(s) for s in frame["best"]]
    assert [b["label"] for b in best] == list(ref.argmax(axis=1))
    # CSV went through doubles: compare loosely
    np.testing.assert_allclose([b["p"] for b in best], ref.max(axis=1), rtol=1e-3)


@pytest.mark.slow
def test_local_cluster_executors_build_their_own_states(tmp_path):
    """Two executor JVMs, each with its Python worker importing sparktorch7 from
    this checkout (PYTHONPATH) and building its own Lua state."""
    code = textwrap.dedent("""
        import json, os
        from sparktorch7 import LuaScript, lua_udf, local_session
        spark = local_session("local-cluster[2,1,1024]", conf={"spark.task.maxFailures": "1"})
        script = LuaScript('''
        function who(x)
          local n = x:size(1)
          return {pid = torch.LongTensor(n):fill(sparktorch7_worker.pid), y = x * 2}
        end''', name="lc.lua")
        f = lua_udf(script, "who", "struct<pid:bigint, y:double>")
        df = spark.range(0, 400, numPartitions=4).selectExpr("id", "cast(id as double) x")
        rows = df.select("id", f("x").alias("r")).collect()
        print(json.dumps({"pids": sorted({r.r.pid for r in rows}),
                          "ok": all(r.r.y == 2 * r.id for r in rows),
                          "driver": os.getpid(), "states": script.states_created}))
        spark.stop()
    """)
    proc = subprocess.run([sys.executable, "-c", code], cwd=str(tmp_path), env=child_env(),
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["ok"]
    assert result["driver"] not in result["pids"]
    assert len(result["pids"]) == 2          # one Python worker per executor
    assert result["states"] == 2             # each built its own state, once
