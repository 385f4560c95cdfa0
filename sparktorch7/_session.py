"""Sessions, progress and file jobs: the logic behind ``jobs/``.

:func:`local_session` makes a SparkSession set up for sparktorch7; the table
readers/writers and the progress logger here serve
:func:`sparktorch7.udf.score_files` (``jobs/score.py``). Nothing here runs on the workers; pyspark
is imported inside the functions that need it.
"""
from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING, Any, Mapping, Optional

if TYPE_CHECKING:
    from pyspark import SparkContext
    from pyspark.sql import DataFrame, SparkSession

_log = logging.getLogger("sparktorch7")

# Spark's logging at ERROR; a failed task is not logged by the executor, the task set
# and the writer (three full copies of the worker's traceback): it reaches the driver
# as the exception of the action, where short_errors() shortens it.
_LOG4J_ERROR = """rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
logger.executor.name = org.apache.spark.executor.Executor
logger.executor.level = off
logger.tasks.name = org.apache.spark.scheduler.TaskSetManager
logger.tasks.level = off
logger.utils.name = org.apache.spark.util.Utils
logger.utils.level = off
logger.writer.name = org.apache.spark.sql.execution.datasources.FileFormatWriter
logger.writer.level = off
"""


def _default_worker_python() -> None:
    """Make Spark's Python workers run this interpreter unless told otherwise.

    PySpark starts its workers with ``$PYSPARK_PYTHON`` (else ``python3`` from
    the PATH, often a Python without pyarrow or sparktorch7). So that a plain
    ``SparkSession.builder.getOrCreate()`` after ``import sparktorch7`` works
    from a virtualenv, importing sparktorch7 sets ``PYSPARK_PYTHON`` to
    ``sys.executable`` when it is unset and we are not under spark-submit
    (whose settings, and the cluster's interpreters, are the user's).
    """
    if os.environ.get("PYSPARK_PYTHON") or "PYSPARK_GATEWAY_PORT" in os.environ:
        return
    if sys.executable:
        os.environ["PYSPARK_PYTHON"] = sys.executable



def _package_root() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def local_session(master: Optional[str] = None, *, app_name: str = "sparktorch7",
                  conf: Optional[Mapping[str, str]] = None) -> "SparkSession":
    """A SparkSession set up for sparktorch7 (or the active one, e.g. under spark-submit).

    When run from a source checkout (not under spark-submit), puts the checkout
    on the workers' ``PYTHONPATH`` (also ``spark.executorEnv.PYTHONPATH``); sets them to
    run this interpreter (``PYSPARK_PYTHON`` if set, else ``sys.executable``,
    also as ``spark.pyspark.python``), turns the web UI off, reuses Python
    workers (one Lua state per worker) and keeps Spark's own logging at ERROR
    (a failed task is not logged three times by the executor: it reaches the
    driver as the action's exception).

    Examples
    --------
    >>> spark = local_session("local[2]")     # or the session already running
    >>> spark.range(3).count()
    3
    """
    from pyspark.sql import SparkSession
    from pyspark import SparkContext

    if SparkContext._active_spark_context is not None:
        return SparkSession.builder.getOrCreate()
    import tempfile

    under_submit = "PYSPARK_GATEWAY_PORT" in os.environ
    root = _package_root()
    # Only a source checkout is put on the workers' path: an installed sparktorch7
    # (a wheel, a packed environment shipped with --archives) must win on executors.
    from_checkout = os.path.exists(os.path.join(root, "setup.py"))
    if from_checkout and not under_submit:
        paths = [root] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != root]
        os.environ["PYTHONPATH"] = os.pathsep.join(paths)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    import hashlib

    tag = hashlib.sha1(_LOG4J_ERROR.encode()).hexdigest()[:8]
    log4j = os.path.join(tempfile.gettempdir(), f"sparktorch7-log4j2-{tag}.properties")
    if not os.path.exists(log4j):
        with open(log4j + f".{os.getpid()}", "w") as f:
            f.write(_LOG4J_ERROR)
        os.replace(log4j + f".{os.getpid()}", log4j)
    builder = SparkSession.builder.appName(app_name)
    if master and not under_submit:
        builder = builder.master(master)
    elif not under_submit:
        builder = builder.master("local[*]")
    settings = {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.python.worker.reuse": "true",
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile=file:{log4j}",
        "spark.executor.extraJavaOptions": f"-Dlog4j2.configurationFile=file:{log4j}",
    }
    if from_checkout and not under_submit:
        settings["spark.executorEnv.PYTHONPATH"] = os.environ["PYTHONPATH"]
    if not under_submit:
        settings["spark.pyspark.python"] = os.environ["PYSPARK_PYTHON"]
    settings.update(conf or {})
    for k, v in settings.items():
        builder = builder.config(k, v)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


class _Progress:
    """Logs the progress of the running Spark stages every few seconds."""

    def __init__(self, sc: "SparkContext", every: float = 3.0) -> None:
        import threading

        self.sc = sc
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sparktorch7-progress", daemon=True)

    def __enter__(self) -> "_Progress":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        tracker = self.sc.statusTracker()
        last = None
        while not self._stop.wait(self.every):
            try:
                parts = []
                for sid in sorted(tracker.getActiveStageIds()):
                    info = tracker.getStageInfo(sid)
                    if info is not None:
                        parts.append(f"stage {sid}: {info.numCompletedTasks}/{info.numTasks} tasks done, "
                                     f"{info.numActiveTasks} running")
                line = "; ".join(parts)
                if line and line != last:
                    _log.info("progress: %s", line)
                    last = line
            except Exception:   # the context is stopping
                return


def _read_any(spark: "SparkSession", path: str) -> "DataFrame":
    low = path.rstrip("/").lower()
    if low.endswith(".csv"):
        return spark.read.csv(path, header=True, inferSchema=True)
    if low.endswith(".json") or low.endswith(".jsonl"):
        return spark.read.json(path)
    return spark.read.parquet(path)


def _write_any(df: "DataFrame", path: str, fmt: Optional[str] = None) -> None:
    """Write ``df`` to the new path ``path`` as ``fmt`` (default: Parquet, or
    CSV/JSON by the path's extension)."""
    fmt = fmt or _format_of(path)
    if fmt == "csv":
        from pyspark.sql import functions as F
        from pyspark.sql.types import ArrayType, StructType

        cols = [F.to_json(F.col(f.name)).alias(f.name) if isinstance(f.dataType, (ArrayType, StructType))
                else F.col(f.name) for f in df.schema.fields]
        # RFC 4180 quoting (quotes doubled), which pandas and most readers expect
        df.select(*cols).write.mode("error").csv(path, header=True, escape='"')
    elif fmt == "json":
        df.write.mode("error").json(path)
    else:
        df.write.mode("error").parquet(path)


def _format_of(path: str) -> str:
    low = path.rstrip("/").lower()
    if low.endswith(".csv"):
        return "csv"
    if low.endswith(".json") or low.endswith(".jsonl"):
        return "json"
    return "parquet"
