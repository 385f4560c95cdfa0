"""Nothing a user does by mistake loses data: score_files and jobs/score.py refuse
an output that overlaps an input, respect Spark's save modes, and write into a
hidden sibling renamed into place only on success. Real local Spark, real files."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from spark_fixtures import ROOT, spark_env
from sparktorch7 import LuaError
from sparktorch7._paths import (OutputExistsError, PathOverlapError, check_mode, check_paths,
                                resolve)

JOB = os.path.join(ROOT, "jobs", "score.py")

SCRIPT = r"""
require 'torch'
function double(x) return x * 2 end
local function explode(x) error('kaboom on ' .. x:size(1) .. ' rows') end
function fail(x) explode(x) end
"""


def tree(path) -> dict:
    """Every file under ``path`` (or the file itself) -> sha1 of its bytes."""
    out = {}
    if os.path.isfile(path):
        with open(path, "rb") as f:
            return {"": hashlib.sha1(f.read()).hexdigest()}
    for root, _dirs, files in os.walk(path):
        for name in files:
            full = os.path.join(root, name)
            with open(full, "rb") as f:
                out[os.path.relpath(full, path)] = hashlib.sha1(f.read()).hexdigest()
    return out


def parquet_rows(path):
    return pq.read_table(path).sort_by("id").to_pydict()


@pytest.fixture
def work(tmp_path):
    """A directory holding a 40-row Parquet table (id, features[3]) and the script."""
    x = np.arange(120, dtype=np.float32).reshape(40, 3)
    table = pa.table({"id": pa.array(np.arange(40)),
                      "features": pa.array(list(x), type=pa.list_(pa.float32()))})
    data = tmp_path / "data.parquet"
    pq.write_table(table, data)
    script = tmp_path / "double.lua"
    script.write_text(SCRIPT)
    return tmp_path, str(data), str(script)


# ---------------------------------------------------------------- path resolution, no Spark
def test_resolve_makes_paths_comparable(tmp_path, monkeypatch):
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    monkeypatch.chdir(tmp_path)
    want = os.path.realpath(str(real))
    for spelling in [str(real), str(real) + "/", str(real) + "//", "real", "./real/", "link",
                     str(link) + "/", f"file:{real}", f"file://{real}/", f"file://localhost{real}",
                     "real/../real"]:
        assert resolve(spelling) == want, spelling
    assert resolve("hdfs://NN:8020/a/b/../c/") == "hdfs://nn:8020/a/c"
    with pytest.raises(ValueError, match="must be local"):
        resolve("file://otherhost/x")


@pytest.mark.parametrize("output, how", [
    ("in", "is the same path as"),
    ("in/part", "is inside"),
    (".", "contains"),
    ("link_to_in/", "is the same path as"),
])
def test_check_paths_refuses_overlap_naming_both(tmp_path, monkeypatch, output, how):
    (tmp_path / "in").mkdir()
    (tmp_path / "link_to_in").symlink_to(tmp_path / "in")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PathOverlapError) as info:
        check_paths(output, [("script", "../s.lua"), ("input table", "in")])
    text = str(info.value)
    assert f"refusing to write output {output!r}" in text
    assert f"it {how} the input table 'in' (= {os.path.realpath(tmp_path / 'in')})" in text
    assert "Nothing was written" in text


def test_check_paths_allows_neighbours_and_checks_mode(tmp_path):
    # a common prefix is not containment
    assert check_paths(str(tmp_path / "data2"), [("input table", str(tmp_path / "data"))]) \
        == os.path.realpath(tmp_path / "data2")
    assert check_paths("hdfs://nn/out", [("input table", "hdfs://nn/output")]) == "hdfs://nn/out"
    with pytest.raises(PathOverlapError, match="is inside"):
        check_paths("hdfs://nn/in/x", [("input table", "hdfs://nn/in/")])
    assert check_mode("append") == "append"
    with pytest.raises(ValueError, match=r"mode must be one of \('error', 'overwrite', 'append'\)"):
        check_mode("ignore")


# ---------------------------------------------------------------- score_files on local Spark
@pytest.mark.spark
@pytest.mark.parametrize("make_output", [
    lambda d, data, script: data,                               # the input itself
    lambda d, data, script: data + "/",
    lambda d, data, script: "file://" + data,
    lambda d, data, script: os.path.join(d, "alias.parquet"),  # a symlink to the input
    lambda d, data, script: str(d),                             # the folder holding it
    lambda d, data, script: script,                             # the script
])
def test_score_files_refuses_to_overwrite_inputs(spark, work, make_output):
    from sparktorch7.udf import score_files

    d, data, script = work
    os.symlink(data, os.path.join(d, "alias.parquet"))
    before = tree(str(d))
    output = make_output(d, data, script)
    for mode in ("error", "overwrite", "append"):
        with pytest.raises(PathOverlapError, match="refusing to write output") as info:
            score_files(data, output, script, "double", features_col="features", mode=mode,
                        spark=spark)
        assert repr(output) in str(info.value)
    assert tree(str(d)) == before                 # nothing written, nothing deleted
    assert sorted(os.listdir(d)) == ["alias.parquet", "data.parquet", "double.lua"]


@pytest.mark.spark
def test_score_files_refuses_output_inside_a_shipped_file_folder(spark, work, tmp_path_factory):
    from sparktorch7.udf import score_files

    d, data, script = work
    models = tmp_path_factory.mktemp("models")
    (models / "w.bin").write_bytes(b"\x00" * 8)
    with pytest.raises(PathOverlapError, match=r"contains the shipped file"):
        score_files(data, str(models), script, "double", features_col="features",
                    files=[str(models / "w.bin")], mode="overwrite", spark=spark)
    assert (models / "w.bin").read_bytes() == b"\x00" * 8


@pytest.mark.spark
def test_modes_error_overwrite_append(spark, work):
    from sparktorch7.udf import score_files

    d, data, script = work
    out = str(d / "scores.parquet")
    stats = score_files(data, out, script, "double", features_col="features", keep=["id"],
                        spark=spark)
    assert stats["rows"] == 40
    first = parquet_rows(out)
    assert first["id"] == list(range(40))
    assert first["prediction"][5] == [30.0, 32.0, 34.0]
    before = tree(out)
    # error (the default): the existing output is refused and left alone
    with pytest.raises(OutputExistsError, match=r"exists and mode is 'error'.*'overwrite'.*'append'"):
        score_files(data, out, script, "double", features_col="features", spark=spark)
    assert tree(out) == before
    # append: the rows are added
    score_files(data, out, script, "double", features_col="features", keep=["id"],
                mode="append", spark=spark)
    assert parquet_rows(out)["id"] == sorted(list(range(40)) * 2)
    # overwrite: replaced by the new result (the features kept this time)
    score_files(data, out, script, "double", features_col="features", keep=["id", "features"],
                mode="overwrite", spark=spark)
    again = parquet_rows(out)
    assert again["id"] == list(range(40)) and "features" in again
    assert sorted(n for n in os.listdir(d) if n.startswith(".")) == []   # no temporaries left


@pytest.mark.spark
def test_failed_job_leaves_old_output_intact_and_no_partial_output(spark, work):
    from sparktorch7.udf import score_files

    d, data, script = work
    out = str(d / "scores.parquet")
    score_files(data, out, script, "double", features_col="features", keep=["id"], spark=spark)
    before = tree(out)
    with pytest.raises(LuaError) as info:
        score_files(data, out, script, "fail", features_col="features", mode="overwrite",
                    spark=spark)
    # the worker's error itself, short: message, function, rows, Lua traceback
    text = str(info.value)
    assert "Lua function 'fail' of script 'double.lua' failed on rows 0..39 of partition 0" in text
    assert "double.lua:4: kaboom on 40 rows" in text
    assert "in function 'explode'" in info.value.lua_traceback
    assert "at org.apache" not in text and text.count("kaboom") == 1
    assert tree(out) == before                       # the old output is untouched
    fresh = str(d / "never.parquet")
    with pytest.raises(LuaError):
        score_files(data, fresh, script, "fail", features_col="features", spark=spark)
    assert not os.path.exists(fresh)                 # no half-written output
    assert [n for n in os.listdir(d) if "sparktorch7" in n] == []   # temporaries removed


@pytest.mark.spark
def test_csv_output_goes_through_the_temporary_path(spark, work):
    from sparktorch7.udf import score_files

    d, data, script = work
    out = str(d / "scores.csv")
    score_files(data, out, script, "double", features_col="features", keep=["id"], spark=spark)
    parts = [n for n in os.listdir(out) if n.endswith(".csv")]
    assert parts, os.listdir(out)
    import pandas as pd

    frame = pd.concat(pd.read_csv(os.path.join(out, p)) for p in parts)
    assert sorted(frame["id"]) == list(range(40))


# ---------------------------------------------------------------- the job
def run_job(args, cwd, timeout=600):
    env = dict(os.environ)
    env.update(spark_env())
    return subprocess.run([sys.executable, JOB] + args, cwd=str(cwd), env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_job_help_documents_the_modes_and_the_safety():
    proc = subprocess.run([sys.executable, JOB, "--help"], capture_output=True, text=True,
                          env={**os.environ, **spark_env()}, timeout=120)
    assert proc.returncode == 0
    text = " ".join(proc.stdout.split())
    assert "--mode {error,overwrite,append}" in text
    assert "error (default, as in Spark)" in text
    assert "is inside or contains the --input" in text
    assert "renamed into place only when the whole write succeeded" in text


def test_job_refuses_output_equal_to_input_before_starting_spark(work):
    d, data, script = work
    before = tree(str(d))
    proc = run_job(["--script", script, "--function", "double", "--input", data,
                    "--output", data + "/", "--features-col", "features", "--mode", "overwrite"],
                   d, timeout=120)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("score.py: error: PathOverlapError: refusing to write output")
    assert f"the input table {data!r}" in lines[0]
    assert tree(str(d)) == before


@pytest.mark.spark
def test_failing_job_prints_one_short_error(work):
    d, data, script = work
    out = str(d / "out.parquet")
    proc = run_job(["--script", script, "--function", "fail", "--input", data, "--output", out,
                    "--features-col", "features", "--master", "local[1]"], d)
    assert proc.returncode == 1
    err = proc.stderr
    assert err.count("kaboom") == 1, err[-3000:]
    assert "at org.apache" not in err and "Traceback" not in err
    assert ("score.py: error: LuaError: Lua function 'fail' of script 'double.lua' failed on "
            "rows 0..39 of partition 0: double.lua:4: kaboom on 40 rows") in err
    assert "in function 'explode'" in err
    assert len(err.strip().splitlines()) < 20, err
    assert not os.path.exists(out)


@pytest.mark.spark
def test_job_with_a_missing_input_prints_sparks_one_line(work):
    d, data, script = work
    proc = run_job(["--script", script, "--function", "double", "--input", str(d / "nope.parquet"),
                    "--output", str(d / "out.parquet"), "--features-col", "features",
                    "--master", "local[1]"], d)
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1, proc.stderr[-3000:]
    assert errors[0].startswith("score.py: error: AnalysisException: [PATH_NOT_FOUND]")
    assert "nope.parquet" in errors[0] and "at org.apache" not in proc.stderr
