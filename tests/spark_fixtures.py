"""The one session-scoped SparkSession of the test run (a pytest plugin).

Registered from tests/conftest.py with ``pytest_plugins = ["spark_fixtures"]``
(or ``-p spark_fixtures`` with ``tests`` on the path). ``local[2]``, UI off,
Python workers reused (so a Lua state is built once per worker), no task
retries (a failing task fails the job at once), Spark logging at ERROR.
"""
from __future__ import annotations

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LOG4J = os.path.join(HERE, "log4j2.properties")


def spark_env() -> dict:
    """The environment the driver and its Python workers need: this interpreter,
    the loopback address, and the checkout on PYTHONPATH (the workers import
    sparktorch7 from it)."""
    env = {
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
        "SPARK_LOCAL_IP": "127.0.0.1",
    }
    paths = [ROOT] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != ROOT]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def pytest_configure(config):
    config.addinivalue_line("markers", "spark: needs a local SparkSession (the `spark` fixture)")
    config.addinivalue_line("markers", "slow: takes more than a minute")


@pytest.fixture(scope="session")
def spark():
    """``local[2]`` SparkSession shared by every Spark test."""
    pyspark = pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    os.environ.update(spark_env())
    session = (
        SparkSession.builder.master("local[2]")
        .appName("sparktorch7-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.python.worker.reuse", "true")
        .config("spark.task.maxFailures", "1")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{LOG4J}")
        .config("spark.executor.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{LOG4J}")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    assert pyspark.__version__ >= "4.1"
    yield session
    session.stop()
