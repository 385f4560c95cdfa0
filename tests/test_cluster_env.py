"""The packed environment (`make cluster-env`) used by spark-submit through --archives.

The job runs on a `local-cluster[1,1,1024]` master: a standalone master, a worker and an
executor in their own JVMs, the executor in its own working directory, as on YARN, Kubernetes
or a standalone cluster. (Plain `local[N]` runs tasks inside the driver's JVM, whose working
directory is not where Spark unpacks archives, so `./environment/bin/python` cannot be found
there.) The executors' Python workers report `sys.executable`, `sys.prefix`,
`sparktorch7.__file__` and any libluajit they mapped: the first three must lie inside the
unpacked `environment/` of the executor's working directory, and no libluajit may be mapped at
all (LuaJIT is linked into the extension, so no system copy can be picked up).

Two jobs report them: tests/data/env_probe_job.py (a mapInPandas job that returns them as
rows) and `jobs/score.py` (its Lua script, tests/data/env_probe.lua, records them through
`py`). The scores are checked too.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.spark]

ROOT = Path(__file__).resolve().parents[1]
ARCHIVE = ROOT / "dist" / "sparktorch7-env.tar.gz"
PROBE_JOB = ROOT / "tests" / "data" / "env_probe_job.py"
PROBE_SCRIPT = ROOT / "tests" / "data" / "env_probe.lua"
SCORE_JOB = ROOT / "jobs" / "score.py"
# A standalone master, one worker and one executor JVM on this machine, UI off.
SUBMIT_OPTIONS = ["--master", "local-cluster[1,1,1024]", "--conf", "spark.ui.enabled=false",
                  "--conf", "spark.executor.memory=512m"]


def run(cmd, **kwargs):
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(map(str, cmd))} exited {proc.returncode}\n"
                    f"--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-6000:]}")
    return proc


@pytest.fixture(scope="module")
def archive() -> Path:
    """dist/sparktorch7-env.tar.gz, made by `make cluster-env` (a no-op when up to date)."""
    run(["make", "cluster-env", f"PYTHON={sys.executable}"], cwd=ROOT)
    assert ARCHIVE.is_file()
    return ARCHIVE


@pytest.fixture(scope="module")
def spark_home(tmp_path_factory) -> Path:
    """A SPARK_HOME mirroring the installed pyspark by symlinks, so that the local-cluster
    worker writes its `work/` directory here and not into site-packages."""
    pyspark = pytest.importorskip("pyspark")
    real = Path(pyspark.__file__).parent
    if not (real / "bin" / "spark-submit").exists():
        pytest.skip(f"no bin/spark-submit in {real}")
    home = tmp_path_factory.mktemp("spark_home")
    for entry in real.iterdir():
        if entry.name != "work":
            (home / entry.name).symlink_to(entry)
    return home


def submit_env(spark_home: Path) -> dict:
    """The caller's environment without anything that would let executors find sparktorch7
    elsewhere (PYTHONPATH: the `spark` fixture adds the checkout to it)."""
    drop = ("PYTHONPATH", "PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON", "SPARK_HOME", "SPARK_CONF_DIR")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update({
        "SPARK_HOME": str(spark_home),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYSPARK_DRIVER_PYTHON": sys.executable,      # the driver needs pyspark: this venv's
        "PYSPARK_PYTHON": "./environment/bin/python",  # the executors: the unpacked archive's
    })
    return env


def test_archive_is_a_venv_with_the_wheel_and_without_pyspark(archive):
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        python = tar.getmember("bin/python")
    assert "pyvenv.cfg" in names and python.issym()
    site = {n.split("/")[3] for n in names if n.startswith("lib/python3") and n.count("/") >= 4}
    assert {"sparktorch7", "numpy", "pyarrow", "pandas"} <= site, sorted(site)
    assert "sparktorch7.libs" not in site           # LuaJIT is linked into the extension
    assert "pyspark" not in site                    # the cluster provides it
    assert any(n.endswith("sparktorch7/lua/torch/init.lua") for n in names)


def run_score_job(archive: Path, spark_home: Path, tmp_path: Path) -> tuple:
    """jobs/score.py over a small Parquet table, scored by tests/data/env_probe.lua, which
    records the executors' environment into probe files. The driver runs the packed
    environment too (build/cluster-env, its unpacked twin; pyspark comes from SPARK_HOME)."""
    import pandas as pd

    table = tmp_path / "in.parquet"
    pd.DataFrame({"id": range(8), "x": [i / 2 for i in range(8)]}).to_parquet(table)
    probes = tmp_path / "probes"
    probes.mkdir()
    env = submit_env(spark_home)
    env["PYSPARK_DRIVER_PYTHON"] = str(ROOT / "build" / "cluster-env" / "bin" / "python")
    cmd = [str(spark_home / "bin" / "spark-submit"), *SUBMIT_OPTIONS,
           "--archives", f"{archive}#environment",
           "--conf", f"spark.executorEnv.SPARKTORCH7_PROBE_DIR={probes}",
           str(SCORE_JOB), "--script", str(PROBE_SCRIPT), "--function", "score",
           "--input", str(table), "--output", str(tmp_path / "out.parquet"),
           "--features", "x", "--output-col", "y", "--output-type", "double", "--keep", "id"]
    run(cmd, cwd=tmp_path, env=env, timeout=600)
    out = pd.read_parquet(tmp_path / "out.parquet").sort_values("id")
    scored = [{"id": int(i), "y": float(y)} for i, y in zip(out["id"], out["y"])]
    facts = [json.loads(p.read_text()) for p in sorted(probes.glob("*.json"))]
    assert facts, "no executor wrote a probe file"
    return scored, facts


def run_probe_job(archive: Path, spark_home: Path, tmp_path: Path) -> tuple:
    """tests/data/env_probe_job.py: a mapInPandas job that reports the same facts per row."""
    out = tmp_path / "rows.json"
    cmd = [str(spark_home / "bin" / "spark-submit"), *SUBMIT_OPTIONS,
           "--archives", f"{archive}#environment", str(PROBE_JOB), str(out)]
    run(cmd, cwd=tmp_path, env=submit_env(spark_home), timeout=600)
    rows = json.loads(out.read_text())
    return [{"id": r["id"], "y": r["y"]} for r in rows], rows


class ForeignPackageError(AssertionError):
    """An executor ran the archive's Python but imported sparktorch7 from somewhere else."""


def check_scores_and_facts(scored: list, facts: list, spark_home: Path) -> None:
    scored = sorted(scored, key=lambda r: r["id"])
    assert [r["id"] for r in scored] == list(range(8))
    assert [r["y"] for r in scored] == [r["id"] + 1.0 for r in scored]   # 2 * (id / 2) + 1

    work = (spark_home / "work").resolve()
    for fact in facts:
        env = Path(fact["prefix"])
        assert env.name == "environment" and env.parent == Path(fact["cwd"]), fact
        assert env.is_relative_to(work), fact          # .../work/app-<id>/<executor>/environment
        assert fact["executable"] == str(env / "bin" / "python"), fact
        module = Path(fact["module"])
        if not module.is_relative_to(env):
            raise ForeignPackageError(f"executor imported {module}, not {env}'s sparktorch7")
        module = module.relative_to(env).parts
        assert module[0] == "lib" and module[2:] == ("site-packages", "sparktorch7", "__init__.py"), fact
        assert fact["luajit"] == "", fact              # no shared libluajit: it is linked in


def test_executors_run_the_packed_environment(archive, spark_home, tmp_path):
    scored, facts = run_probe_job(archive, spark_home, tmp_path)
    check_scores_and_facts(scored, facts, spark_home)
    assert all(Path(f["prefix"]) != Path(sys.prefix) for f in facts)   # not the driver's Python


@pytest.mark.skipif(not SCORE_JOB.exists(), reason="jobs/score.py is not in this checkout")
def test_score_job_runs_on_the_packed_environment(archive, spark_home, tmp_path):
    scored, facts = run_score_job(archive, spark_home, tmp_path)
    check_scores_and_facts(scored, facts, spark_home)
