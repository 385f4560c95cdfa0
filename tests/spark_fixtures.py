"""The one session-scoped SparkSession of the test run (a pytest plugin).

Registered from tests/conftest.py with ``pytest_plugins = ["spark_fixtures"]``
(or ``-p spark_fixtures`` with ``tests`` on the path). ``local[2]``, UI off,
Python workers reused (so a Lua state is built once per worker), no task
retries (a failing task fails the job at once), Spark logging at ERROR.

Spark Connect: the same JVM also serves a Spark Connect endpoint (started on
first use of ``connect_session``, on an ephemeral loopback port with a random
token), and ``connect_session`` is a real Connect client session to it (gRPC,
its own Python workers), as ``SparkSession.builder.remote("local[2]")`` makes
one, without a second JVM. pyspark picks its Connect or classic functions
(``F.col``, ``arrow_udf``, ``Observation``...) by the environment variable
``SPARK_CONNECT_MODE_ENABLED``; ``spark_connect`` and ``any_spark`` set it for
the tests that use Connect only, so classic and Connect tests mix in one run.
"""
from __future__ import annotations

import contextlib
import os
import sys
import uuid

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
    # the Connect endpoint's token (read by the server and by pyspark's Connect client)
    os.environ.setdefault("SPARK_CONNECT_AUTHENTICATE_TOKEN", uuid.uuid4().hex)
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
        .config("spark.connect.grpc.binding.address", "127.0.0.1")
        .config("spark.connect.grpc.binding.port", "0")
        .config("spark.connect.authenticate.token", os.environ["SPARK_CONNECT_AUTHENTICATE_TOKEN"])
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    assert pyspark.__version__ >= "4.1"
    yield session
    session.stop()


@contextlib.contextmanager
def connect_mode():
    """pyspark in Spark Connect mode within the block (see the module docs)."""
    old = os.environ.get("SPARK_CONNECT_MODE_ENABLED")
    os.environ["SPARK_CONNECT_MODE_ENABLED"] = "1"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("SPARK_CONNECT_MODE_ENABLED", None)
        else:
            os.environ["SPARK_CONNECT_MODE_ENABLED"] = old


def _connect_service(spark):
    jvm = spark.sparkContext._jvm
    return getattr(getattr(jvm.org.apache.spark.sql.connect.service, "SparkConnectService$"),
                   "MODULE$")


@pytest.fixture(scope="session")
def connect_url(spark):
    """``sc://localhost:PORT`` of the Spark Connect endpoint served by the test JVM
    (the token is in ``SPARK_CONNECT_AUTHENTICATE_TOKEN``)."""
    pytest.importorskip("grpc")
    service = _connect_service(spark)
    service.start(spark.sparkContext._jsc.sc())
    yield f"sc://localhost:{service.localPort()}"
    try:
        none = spark.sparkContext._jvm.scala.Option.empty()
        service.stop(none, none)
    except Exception:   # the JVM is going down anyway
        pass


@pytest.fixture(scope="session")
def connect_session(connect_url):
    """A Spark Connect client session (the pyspark Connect client over gRPC)."""
    from pyspark.sql.connect.session import SparkSession as ConnectSession

    with connect_mode():
        session = ConnectSession.builder.remote(connect_url).getOrCreate()
        assert type(session).__module__ == "pyspark.sql.connect.session"
    yield session
    with connect_mode():
        session.stop()


@pytest.fixture
def spark_connect(connect_session):
    """The Connect session, with pyspark in Connect mode for the test."""
    with connect_mode():
        yield connect_session


@pytest.fixture(params=["classic", "connect"])
def any_spark(request):
    """The test runs twice: on the classic session and on the Connect session."""
    if request.param == "classic":
        yield request.getfixturevalue("spark")
        return
    session = request.getfixturevalue("connect_session")   # (made outside Connect mode)
    with connect_mode():
        yield session


def session_kind(session) -> str:
    """'connect' or 'classic'."""
    return "connect" if type(session).__module__.startswith("pyspark.sql.connect") else "classic"
