"""A failed Spark task as one short error on the driver.

When a Python worker raises, PySpark raises on the driver a
``PythonException`` or a ``Py4JJavaError`` (on Spark Connect, a
``SparkConnectException``) whose text holds the worker's
Python traceback, often several times, between JVM stack traces. This module
finds the worker's exception in that text and raises it again as the class
the worker raised (``LuaError`` and its subclasses, ``BadRowsError``,
``LuaResultError``, every class of :mod:`sparktorch7.errors`, a builtin such as
``TypeError``), with the worker's message only: the Lua message and traceback,
the function, the partition and the row range, and the notes the worker added.
The full Spark error is logged at DEBUG on the ``sparktorch7`` logger and stays
reachable as the new exception's ``__context__``.

The worker's side (:func:`carried`, around the batch loops of the UDFs and
``map_partitions``) adds to an exception leaving a task one more note: a line
``sparktorch7-error-record: <base64 JSON>`` holding its class, message, Lua
traceback and notes, which Python prints with the traceback that PySpark sends
to the driver. The driver rebuilds the exception from that record; from the
traceback's text (class line and message) when it finds none (Python 3.10 prints
no notes).
"""
from __future__ import annotations

import base64
import builtins
import contextlib
import json
import logging
import re
from typing import Any, Iterable, Iterator, Optional, Tuple

__all__ = ["worker_failure", "convert", "short_errors", "carried", "record_note"]

_log = logging.getLogger("sparktorch7")
_RECORD = "sparktorch7-error-record: "
_RECORD_RE = re.compile(re.escape(_RECORD) + r"([A-Za-z0-9+/=]+)")
_RECORD_MAX = 16384     # characters of message + traceback + notes a record carries at most

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
    from sparktorch7 import errors

    classes = (getattr(errors, n) for n in errors.__all__)
    return {f"{c.__module__}.{c.__qualname__}": c for c in classes if isinstance(c, type)}


def record_note(exc: BaseException) -> str:
    """The note that carries ``exc`` to the driver: its class, message, Lua traceback and
    notes as base64 JSON (see the module docs)."""
    from sparktorch7.errors import LuaError

    cls = type(exc)
    if isinstance(exc, LuaError):
        message, trace = str(exc.lua_message), exc.lua_traceback
    else:
        message, trace = str(exc), None
    notes = [str(n) for n in getattr(exc, "__notes__", ()) if not str(n).startswith(_RECORD)]
    budget = _RECORD_MAX
    message = message[:budget]
    budget -= len(message)
    if trace:
        trace = trace[:max(budget, 0)]
        budget -= len(trace)
    kept = []
    for n in notes:
        if len(n) > budget:
            break
        kept.append(n)
        budget -= len(n)
    name = cls.__qualname__     # as the traceback's last line names it: builtins bare
    if cls.__module__ not in ("builtins", "__main__"):
        name = f"{cls.__module__}.{name}"
    record = {"class": name, "message": message,
              "traceback": trace, "notes": kept}
    data = json.dumps(record, ensure_ascii=True).encode("ascii")
    return _RECORD + base64.b64encode(data).decode("ascii")


def _mark(exc: BaseException) -> None:
    from sparktorch7.errors import add_note

    if not any(str(n).startswith(_RECORD) for n in getattr(exc, "__notes__", ())):
        add_note(exc, record_note(exc))


def carried(it: Iterable[Any]) -> Iterator[Any]:
    """Yield the items of ``it``; an exception it raises leaves with its record note
    (the worker's side of :func:`convert`)."""
    try:
        yield from it
    except Exception as e:
        _mark(e)
        raise


def _read_record(text: str) -> Optional[dict]:
    """The last record note in ``text`` (a worker's traceback), or None."""
    found = None
    for m in _RECORD_RE.finditer(text):
        found = m
    if found is None:
        return None
    try:
        record = json.loads(base64.b64decode(found.group(1), validate=True).decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        return None
    if (not isinstance(record, dict) or not isinstance(record.get("class"), str)
            or not isinstance(record.get("message"), str)):
        return None
    return record


def _rebuild(name: str, message: str, trace: Optional[str] = None,
             notes: Iterable[str] = ()) -> Optional[BaseException]:
    from sparktorch7.errors import add_note

    exc = _rebuild_class(name, message, trace)
    for note in notes:
        add_note(exc, str(note))
    return exc


def _rebuild_class(name: str, message: str, trace: Optional[str]) -> BaseException:
    from sparktorch7.errors import LuaError

    cls = _worker_classes().get(name)
    if cls is not None and issubclass(cls, LuaError):
        if trace is None:
            head, sep, rest = message.partition("\nstack traceback:")
            if sep:
                message, trace = head, "stack traceback:" + rest
        exc = cls(message)   # (cls.__new__ alone is refused for MemoryError's subclasses)
        LuaError.__init__(exc, message, trace)
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
    text = str(exc)
    found = worker_failure(text)
    if found is None:
        return None
    record = _read_record(text[text.rfind(_TRACEBACK):])
    if record is not None and record["class"] == found[0]:
        notes = record.get("notes") or []
        return _rebuild(record["class"], record["message"], record.get("traceback"),
                        notes if isinstance(notes, list) else [])
    return _rebuild(*found)


def _is_spark_error(exc: BaseException) -> bool:
    try:
        from py4j.protocol import Py4JJavaError
        from pyspark.errors.exceptions.captured import CapturedException
    except ImportError:   # no pyspark: nothing to convert
        return False
    if isinstance(exc, (Py4JJavaError, CapturedException)):
        return True
    try:   # Spark Connect's errors (needs the grpc client packages)
        from pyspark.errors.exceptions.connect import SparkConnectException
    except ImportError:
        return False
    return isinstance(exc, SparkConnectException)


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
