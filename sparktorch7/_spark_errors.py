"""A failed Spark task as one short error on the driver.

When a Python worker raises, PySpark raises on the driver a
``PythonException`` or a ``Py4JJavaError`` whose text holds the worker's
Python traceback, often several times, between JVM stack traces. This module
finds the worker's exception in that text and raises it again as the class
the worker raised (``LuaError`` and its subclasses, ``BadRowsError``,
``LuaResultError``, a builtin such as ``TypeError``), with the worker's
message only: the Lua message and traceback, the function, the partition and
the row range. The full Spark error is logged at DEBUG on the ``sparktorch7``
logger and stays reachable as the new exception's ``__context__``.
"""
from __future__ import annotations

import builtins
import contextlib
import logging
import re
from typing import Iterator, Optional, Tuple

__all__ = ["worker_failure", "convert", "short_errors"]

_log = logging.getLogger("sparktorch7")

_TRACEBACK = "Traceback (most recent call last):"
_EXC_LINE = re.compile(r"([A-Za-z_][\w.]*)(?:: ?(.*))?$")
# where the worker's message ends in the driver's text: a JVM frame, "... N more",
# PySpark's JVM section
_JVM_LINE = re.compile(r"\s+at [\w$.<>/-]+\(.*\)\s*$|\s+\.\.\. \d+ more\s*$|JVM stacktrace:")


def worker_failure(text: str) -> Optional[Tuple[str, str]]:
    """``(qualified class name, message)`` of the last Python exception in ``text``
    (the string of a PySpark/Py4J exception), or None when it holds none."""
    at = text.rfind(_TRACEBACK)
    if at < 0:
        return None
    lines = text[at + len(_TRACEBACK):].splitlines()
    k = 0
    while k < len(lines) and (not lines[k].strip() or lines[k][:1] in (" ", "\t")):
        k += 1                                  # the frames
    if k == len(lines):
        return None
    m = _EXC_LINE.match(lines[k])
    if m is None:
        return None
    body = [m.group(2) or ""]
    for line in lines[k + 1:]:
        if _JVM_LINE.match(line):
            break
        body.append(line)
    return m.group(1), "\n".join(body).strip()


def _worker_classes() -> dict:
    from sparktorch7 import _lua
    from sparktorch7 import _codec as udf   # where BadRowsError and LuaResultError live

    classes = {f"sparktorch7._lua.{c.__name__}": c
               for c in (_lua.LuaError, _lua.LuaSyntaxError, _lua.LuaMemoryError,
                         _lua.LuaClosedError, _lua.LuaTimeoutError,
                         _lua.T7FormatError)}
    for c in (udf.BadRowsError, udf.LuaResultError):
        classes[f"sparktorch7.udf.{c.__name__}"] = c
    return classes


def _rebuild(name: str, message: str) -> Optional[BaseException]:
    from sparktorch7 import LuaError

    cls = _worker_classes().get(name)
    if cls is not None and issubclass(cls, LuaError):
        head, sep, trace = message.partition("\nstack traceback:")
        if not sep:
            return cls(message)
        exc = cls(head)   # (cls.__new__ alone is refused for MemoryError's subclasses)
        LuaError.__init__(exc, head, "stack traceback:" + trace)
        return exc
    if cls is None:
        short = name.rsplit(".", 1)[-1]
        found = getattr(builtins, short, None)
        if "." not in name and isinstance(found, type) and issubclass(found, Exception):
            cls = found
    if cls is None:
        return RuntimeError(f"a Spark task failed with {name}: {message}")
    try:
        return cls(message)
    except Exception:   # a builtin whose constructor wants more (UnicodeDecodeError...)
        return RuntimeError(f"a Spark task failed with {name}: {message}")


def convert(exc: BaseException) -> Optional[BaseException]:
    """The worker's exception that caused the Spark error ``exc``, rebuilt on
    the driver (see the module docs), or None if ``exc`` is not a task failure."""
    if not _is_spark_error(exc):
        return None
    found = worker_failure(str(exc))
    if found is None:
        return None
    return _rebuild(*found)


def _is_spark_error(exc: BaseException) -> bool:
    try:
        from py4j.protocol import Py4JJavaError
        from pyspark.errors.exceptions.captured import CapturedException
    except ImportError:   # no pyspark: nothing to convert
        return False
    return isinstance(exc, (Py4JJavaError, CapturedException))


@contextlib.contextmanager
def short_errors() -> Iterator[None]:
    """Within the block, a failed Spark task raises the worker's own exception
    (see the module docs) instead of PySpark's long one.

    Examples
    --------
    >>> from sparktorch7 import LuaScript, lua_udf
    >>> f = lua_udf(LuaScript("function f(x) error('no model loaded') end", name="s.lua"), "f", "float")
    >>> df = spark.range(0, 4, numPartitions=1)
    >>> with short_errors():
    ...     df.select(f("id")).collect()
    Traceback (most recent call last):
    ...
    sparktorch7._lua.LuaError: Lua function 'f' of script 's.lua' failed on rows 0..3 of partition 0: ...no model loaded...
    """
    try:
        yield
    except Exception as e:
        short = convert(e)
        if short is None:
            raise
        _log.debug("the Spark error behind %s", type(short).__name__, exc_info=e)
        short.__context__ = e
        raise short from None
