"""The README's Spark examples run as written: the ```python blocks of its
"Scoring on Spark" section are taken from README.md itself, run by this
interpreter in a fresh process without PYSPARK_PYTHON (as a user of the
project's .venv would), and each ``# [Row(...)]`` comment under a print is
compared with what was printed."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from spark_fixtures import ROOT

README = os.path.join(ROOT, "README.md")


def section_blocks(title: str, lang: str = "python") -> list:
    text = open(README, encoding="utf-8").read()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    body = text[start:end if end >= 0 else None]
    return re.findall(rf"```{lang}\n(.*?)```", body, flags=re.S)


def user_env() -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON", "PYSPARK_GATEWAY_PORT")}
    env["PYTHONPATH"] = ROOT            # a checkout, as the README's commands run it
    env["SPARK_LOCAL_IP"] = "127.0.0.1"
    return env


def test_the_spark_section_has_examples_with_expected_output():
    blocks = section_blocks("Scoring on Spark")
    assert blocks, "README.md's 'Scoring on Spark' section lost its python example"
    code = "\n".join(blocks)
    assert "SparkSession.builder" in code and "getOrCreate()" in code
    assert code.count("print(") == len(re.findall(r"^# \[", code, flags=re.M)) >= 4


def test_importing_sparktorch7_points_workers_at_this_interpreter():
    code = "import os, sys, sparktorch7; print(os.environ['PYSPARK_PYTHON'] == sys.executable)"
    proc = subprocess.run([sys.executable, "-c", code], env=user_env(), capture_output=True,
                          text=True, timeout=120)
    assert proc.stdout.strip() == "True", proc.stderr[-2000:]
    # a value the user set wins
    env = dict(user_env(), PYSPARK_PYTHON="/opt/python")
    code = "import os, sparktorch7; print(os.environ['PYSPARK_PYTHON'])"
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.stdout.strip() == "/opt/python", proc.stderr[-2000:]


@pytest.mark.spark
def test_readme_spark_example_runs_as_written(tmp_path):
    code = "\n".join(section_blocks("Scoring on Spark"))
    proc = subprocess.run([sys.executable, "-c", code], cwd=str(tmp_path), env=user_env(),
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    expected = [line[2:] for line in code.splitlines() if line.startswith("# [")]
    printed = [line for line in proc.stdout.splitlines() if line.startswith("[")]
    assert printed == expected
