"""The one batch loop of the Spark layer (runs on the workers).

:class:`_Runner` is what a task carries (small, picklable, no Lua state). Its
:meth:`_Runner.score_batches` turns each input batch (a list of Arrow columns)
into exactly one output, splitting it into Lua calls of at most
``batch_size`` rows and putting the pieces back together, so
:func:`sparktorch7.lua_udf`, :func:`sparktorch7.score` and
:func:`sparktorch7.map_partitions` all line their outputs up with their inputs
one to one.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import pyarrow as pa

from sparktorch7._codec import _describe_rows, _Feeder, _scatter, _to_arrow
from sparktorch7._spark_errors import carried
from sparktorch7.errors import BadRowsError, LuaResultError

if TYPE_CHECKING:
    from sparktorch7._worker import WorkerEntry
    from sparktorch7.broadcast import _ScriptHandle

#: What one Lua call gives back after ``convert``: an Arrow array, a list of
#: them (one per output column), or a list of Python values.
Output = Any
#: ``convert(result, n, keep, where)``: a Lua result for ``n`` rows (``keep``
#: the rows that were scored, None for all) as the caller's output.
Convert = Callable[[Any, int, Optional[np.ndarray], str], Output]


class _Runner:
    """Everything a task needs to score batches; small and picklable."""

    def __init__(self, handle: "_ScriptHandle", function: str, names: Optional[Sequence[str]],
                 dtype: Optional[str], batch_size: Optional[int], on_bad_rows: str, *,
                 columns: str = "stack", shapes: Any = None,
                 limits: Optional[Tuple[Optional[float], Optional[int]]] = None) -> None:
        self.handle = handle
        self.function = function
        self.names = list(names) if names is not None else None
        self.dtype = dtype
        self.batch_size = batch_size
        self.on_bad_rows = on_bad_rows
        self.columns = columns
        self.shapes = shapes
        #: ``(timeout_s, max_memory)`` of the worker's state, or None for none
        self.limits = None if limits == (None, None) else limits

    def entry(self) -> "WorkerEntry":
        """The worker's cached state for this script and these limits."""
        return self.handle.entry(self.limits) if self.limits else self.handle.entry()

    # -- one call into Lua
    def call(self, entry: "WorkerEntry", args: Sequence[np.ndarray], where: str) -> Any:
        """Call the Lua function with the tensor arguments ``args`` of the rows ``where``.

        A Lua error keeps its class (a :class:`T7FormatError` stays one), its message
        begins with the function and the rows; after a :class:`LuaTimeoutError` (the
        state's ``timeout_s``) or a :class:`LuaMemoryError` the worker's state is closed
        and dropped from the cache: the next task builds a new one (the failed call may
        have left the script's globals half updated). Any other exception gets the
        function and the rows as a note."""
        from sparktorch7 import _worker
        from sparktorch7.errors import LuaError, LuaMemoryError, LuaTimeoutError, add_note

        fn = entry.function(self.function)
        try:
            result = fn(*args)
        except LuaError as e:
            if isinstance(e, (LuaTimeoutError, LuaMemoryError)):
                _worker.discard(entry)
            e._reword(f"Lua function {self.function!r} of script {self.handle.name[1:]!r} failed "
                      f"on {where}: {e.lua_message}")
            raise
        except Exception as e:
            add_note(e, f"in Lua function {self.function!r} of script {self.handle.name[1:]!r} "
                        f"on {where}")
            raise
        if isinstance(result, tuple):
            raise LuaResultError(f"Lua function {self.function!r} returned {len(result)} values on "
                                 f"{where}; return one tensor (or one table of tensors)")
        return result

    def _slices(self, arrays: Sequence[pa.Array]) -> Iterator[Tuple[List[pa.Array], int]]:
        n = len(arrays[0]) if arrays else 0
        size = self.batch_size or n or 1
        if n <= size:
            yield list(arrays), n
            return
        for start in range(0, n, size):
            m = min(size, n - start)
            yield [a.slice(start, m) for a in arrays], m

    def score_batches(self, batches: Iterable[Sequence[pa.Array]],
                      convert: Convert) -> Iterator[Output]:
        """For each input batch (a list of Arrow columns), yield ONE output.

        A batch longer than ``batch_size`` is scored in several Lua calls;
        their outputs ``convert(result, n, keep, where)`` are joined back into
        one (Arrow arrays concatenated, lists of columns column by column,
        lists of values chained), so outputs line up with inputs one to one.
        ``keep`` is None when every row was scored, else the indices of the
        rows that were (the others must get nulls). An exception leaves with the
        note that carries it to the driver (:func:`sparktorch7._spark_errors.carried`)."""
        return carried(self._score_all(batches, convert))

    def _score_all(self, batches: Iterable[Sequence[pa.Array]],
                   convert: Convert) -> Iterator[Output]:
        from pyspark import TaskContext

        ctx = TaskContext.get()
        partition = ctx.partitionId() if ctx is not None else None
        feeder = _Feeder(self.names, self.dtype, columns=self.columns, shapes=self.shapes)
        cache: List["WorkerEntry"] = []
        start = 0
        for arrays in batches:
            pieces = []
            for chunk, n in self._slices(arrays):
                pieces.append(self._score_chunk(feeder, cache, chunk, n, start, partition, convert))
                start += n
            yield pieces[0] if len(pieces) == 1 else _join(pieces)

    def _score_chunk(self, feeder: _Feeder, cache: List["WorkerEntry"], chunk: List[pa.Array],
                     n: int, start: int, partition: Optional[int], convert: Convert) -> Output:
        where = _describe_rows(start, n, partition)
        if n == 0:
            return convert(None, 0, np.empty(0, dtype=np.int64), where)
        try:
            parts, bad = feeder.feed(chunk, n)
        except TypeError as e:
            raise TypeError(f"{e} (Lua function {self.function!r}, {where})") from None
        except BadRowsError as e:
            raise BadRowsError(f"bad input for Lua function {self.function!r} in {where}: "
                               f"{e}") from None
        keep = None
        if bad.reasons:
            if self.on_bad_rows == "error":
                raise BadRowsError(bad.message(self.function, where))
            keep = np.flatnonzero(~bad.mask)
        if not cache:
            cache.append(self.entry())
        if keep is not None and keep.size == 0:
            return convert(None, n, keep, where)
        args = feeder.tensors(parts, keep, n)
        result = self.call(cache[0], args, where)
        out = convert(result, n, keep, where)
        _count_rows(self.handle, n if keep is None else int(keep.size))
        return out


def _join(pieces: List[Output]) -> Output:
    """The outputs of the Lua calls of one input batch, as one output."""
    first = pieces[0]
    if isinstance(first, pa.Array):
        return pa.concat_arrays(pieces)
    if first and all(isinstance(c, pa.Array) for c in first):
        return [pa.concat_arrays([p[j] for p in pieces]) for j in range(len(first))]
    return [v for p in pieces for v in p]


def _count_rows(handle: "_ScriptHandle", n: int) -> None:
    count = getattr(handle, "count_rows", None)
    if count is not None:
        count(n)


def _convert_column(out_type: pa.DataType, function: str) -> Convert:
    def convert(result: Any, n: int, keep: Optional[np.ndarray], where: str) -> pa.Array:
        if keep is not None and keep.size == 0:
            return pa.nulls(n, type=out_type)
        m = n if keep is None else int(keep.size)
        arr = _to_arrow(result, out_type, m, f"the result of Lua function {function!r} on {where}")
        return arr if keep is None else _scatter(arr, keep, n)
    return convert

