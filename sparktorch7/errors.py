"""Every exception sparktorch7 raises, in one place.

Each class inherits the builtin a user would catch, so ``except MemoryError`` or
``except ValueError`` works without knowing sparktorch7:

=====================  ==================================  ==========================================
class                  bases                               raised when
=====================  ==================================  ==========================================
``LuaError``           ``Exception``                       Lua code raised an error (``lua_message``,
                                                           ``lua_traceback``, ``value``)
``LuaSyntaxError``     ``LuaError``                        a chunk does not compile (``chunk``, ``line``)
``LuaMemoryError``     ``LuaError``, ``MemoryError``       an allocation failed: Lua's heap (or its
                                                           ``max_memory``), a tensor's or storage's
                                                           memory, numpy's for Lua
``LuaTimeoutError``    ``LuaError``, ``TimeoutError``      a call ran past its ``timeout`` or deadline
``LuaClosedError``     ``LuaError``, ``RuntimeError``      the LuaState is closed
``T7FormatError``      ``LuaError``, ``ValueError``        a .t7 file is truncated, corrupt, forged or
                                                           not a Torch7 file (names the byte offset)
``ScoringError``       ``ValueError``                      base of the Spark layer's data errors:
``BadRowsError``       ``ScoringError``                    input rows do not make a tensor
``LuaResultError``     ``ScoringError``                    the Lua result does not fit the output
``PathOverlapError``   ``ValueError``                      a job's output is, is in or holds an input
``OutputExistsError``  ``FileExistsError``                 a job's output exists (mode ``error``)
=====================  ==================================  ==========================================

How a Lua error becomes one of them: Lua code raises a structured error with
``require('sparktorch7.errors').raise(kind, msg [, level])`` (a table with ``kind``,
``message`` and ``position`` whose ``tostring`` is the classic ``"chunk:line: msg"``), and
the extension maps the kind through one table: ``'t7format'`` to :class:`T7FormatError`,
``'memory'`` to :class:`LuaMemoryError`, ``'timeout'`` to :class:`LuaTimeoutError`, any other
kind or a plain string to :class:`LuaError`. Lua's own statuses give
:class:`LuaSyntaxError` (a chunk that does not compile) and :class:`LuaMemoryError` (its
allocator failed; Lua's message ``not enough memory`` raised again by Lua code stays one). A
Python exception raised in code that Lua called comes back as itself. Context is added as
notes (:func:`add_note`; ``errors.note(err, text)`` in Lua), never by raising another class,
and a failed Spark task raises the worker's exception on the driver as its own class, with
its notes (:func:`sparktorch7.short_errors`).

The Lua classes are defined in the extension (``sparktorch7._lua``, where they are raised);
the others here. Old import paths keep working: ``sparktorch7.udf.BadRowsError``,
``sparktorch7._paths.PathOverlapError``, ...

>>> from sparktorch7 import LuaState
>>> with LuaState() as lua:
...     lua.execute("require('sparktorch7.errors').raise('t7format', 'm.t7 holds no module')",
...                 name="load.lua")
Traceback (most recent call last):
sparktorch7._lua.T7FormatError: load.lua:1: m.t7 holds no module
"""
from __future__ import annotations

from sparktorch7._lua import (
    LuaClosedError,
    LuaError,
    LuaMemoryError,
    LuaSyntaxError,
    LuaTimeoutError,
    T7FormatError,
    _add_note as add_note,
)

__all__ = [
    "LuaError",
    "LuaSyntaxError",
    "LuaMemoryError",
    "LuaTimeoutError",
    "LuaClosedError",
    "T7FormatError",
    "ScoringError",
    "BadRowsError",
    "LuaResultError",
    "PathOverlapError",
    "OutputExistsError",
    "add_note",
]


class ScoringError(ValueError):
    """Data that the Spark layer cannot score: bad input rows or a Lua result of the wrong
    shape. The message names the Lua function, the column and the rows."""


class BadRowsError(ScoringError):
    """Input rows that cannot be turned into a tensor (with ``on_bad_rows='error'``)."""


class LuaResultError(ScoringError):
    """The Lua function returned something that does not fit the declared output."""


class PathOverlapError(ValueError):
    """The output path is, is inside or contains an input path."""


class OutputExistsError(FileExistsError):
    """The output exists and the mode is ``error``."""
