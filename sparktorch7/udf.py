"""Spark UDFs and batch scoring that call Lua functions on torch tensors.

The factories here run on the driver: they check the script, the function,
the types and the columns there, before any task runs, and put the script's
payload inside the function Spark runs (:class:`sparktorch7.LuaScript`). They
work the same on a classic session and on Spark Connect (``sc://...``): nothing
needs a SparkContext. On the executors each Python worker builds its Lua state
once (:mod:`sparktorch7._worker`) and feeds it batches of rows as tensors.

The rooms behind them: the Arrow <-> tensor codec is :mod:`sparktorch7._codec`
(no pyspark), the one batch loop :mod:`sparktorch7._batches`, sessions and table
I/O :mod:`sparktorch7._session` (see ``docs/architecture.md``).

How columns become tensor arguments (one call per batch of N rows):

* numeric scalar columns (integers, floats, booleans, decimals) are stacked
  into ONE contiguous tensor ``[N, C]`` (a single column gives ``[N]``), given
  at the position of the first scalar column; with ``columns='separate'``
  each is its own ``[N]`` tensor. Their type is ``dtype``, float32
  (``torch.FloatTensor``) by default;
* every array column of numbers (``array<float|double|int|bigint|...>``)
  becomes its own ``[N, D]`` tensor, a view of the Arrow values buffer (no
  copy) in the column's element type, unless ``dtype`` asks for another type.
  ``input_shapes`` declares the shape of one row (a flat array of
  ``prod(shape)`` values is reshaped to ``[N, *shape]``); nested arrays
  (``array<array<...>>``) give one dimension per level. With a declared shape
  a row of another shape is a bad row; without one, the rows of a batch must
  share one shape, or the batch fails asking for ``input_shapes`` (no length
  is ever taken from the other rows, so a row's result never depends on its
  batch-mates).

How results become columns: a tensor ``[N]`` gives a scalar column, ``[N, K]``
an array column (``[N, K, L]`` an array of arrays), a Lua table of named
tensors a struct column (or, in :func:`score`, several columns). Values are
cast to the declared Spark type.

Bad rows (a null, a null inside an array, an array not of the declared
shape, a non-numeric value) raise an error naming the column, what was expected and
the rows of the batch with ``on_bad_rows='error'``; with ``on_bad_rows='null'``
they are left out of the Lua call and get null results.
"""
from __future__ import annotations

import os
import time
import uuid
from typing import (TYPE_CHECKING, Any, Dict, Iterable, Iterator, List, Mapping,
                    Optional, Sequence, Tuple, Union)

import numpy as np
import pyarrow as pa

from sparktorch7._batches import _convert_column, _count_rows, _Runner
from sparktorch7._codec import (  # noqa: F401 (_Feeder, _to_arrow: used by tests from here)
                                _COLUMN_MODES, _TORCH_DTYPES,
                                _arrow_to_pandas, _check_shape_fits, _check_shapes,
                                _check_shapes_match, _describe_rows, _Feeder, _rows_to_python,
                                _scatter, _series_to_arrow, _shape_for, _to_arrow)
from sparktorch7._session import _format_of, _log, _Progress, _read_any, _write_any, local_session
from sparktorch7._spark_errors import carried, short_errors
from sparktorch7.errors import BadRowsError, LuaResultError
from sparktorch7.broadcast import LuaScript, _check_function_name

if TYPE_CHECKING:
    from pyspark import RDD, SparkContext
    from pyspark.sql import Column, DataFrame, SparkSession
    from pyspark.sql.types import DataType, StructType

__all__ = ["LuaUDF", "lua_udf", "lua_pandas_udf", "register", "score", "map_partitions",
           "score_files", "local_session", "short_errors", "BadRowsError", "LuaResultError"]

_BAD_ROW_POLICIES = ("error", "null")
_FLAVORS = ("arrow", "pandas")


# ---------------------------------------------------------------------------
# driver-side helpers
# ---------------------------------------------------------------------------
def _is_connect(obj: Any) -> bool:
    """True for a Spark Connect session or DataFrame."""
    return type(obj).__module__.startswith("pyspark.sql.connect")


def _active_target(required: bool = True) -> Any:
    """The session a column function is made for: the active Spark Connect session
    when pyspark is in Connect mode (as pyspark's own ``arrow_udf`` decides), else
    the classic SparkContext. None (or RuntimeError when ``required``) without one."""
    from pyspark.sql.utils import is_remote

    if is_remote():
        from pyspark.sql.connect.session import SparkSession as ConnectSession

        target = ConnectSession.getActiveSession()
    else:
        from pyspark import SparkContext

        target = SparkContext._active_spark_context
    if target is None and required:
        raise RuntimeError("sparktorch7's Spark functions need an active SparkSession "
                           "(SparkSession.builder.getOrCreate(), or .remote('sc://...') for "
                           "Spark Connect) on the driver")
    return target


def _parse_type(dt: Union["DataType", str], what: str) -> "DataType":
    from pyspark.sql.types import DataType

    if isinstance(dt, DataType):
        return dt
    if isinstance(dt, str):
        from pyspark.sql.types import _parse_datatype_string

        _active_target()
        try:
            return _parse_datatype_string(dt)
        except Exception as e:  # ParseException and friends: one line is enough
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ValueError(f"{what} {dt!r} is not a Spark type: {first}") from None
    raise TypeError(f"{what} must be a pyspark DataType or a DDL string, not {type(dt).__name__}")


def _check_output_type(dt: "DataType", where: str) -> None:
    """Only numbers, booleans, arrays of them and structs of those can come from tensors."""
    from pyspark.sql.types import ArrayType, BooleanType, NumericType, StructType, DecimalType

    if isinstance(dt, StructType):
        for f in dt.fields:
            _check_output_type(f.dataType, f"{where}.{f.name}")
    elif isinstance(dt, ArrayType):
        _check_output_type(dt.elementType, f"{where}[]")
    elif isinstance(dt, DecimalType) or not isinstance(dt, (NumericType, BooleanType)):
        raise TypeError(f"output {where} has type {dt.simpleString()}: a Lua tensor can only give "
                        "numbers (tinyint..bigint, float, double), booleans, arrays of them or "
                        "structs of those")


def _arrow_type(dt: "DataType") -> pa.DataType:
    from pyspark.sql.pandas.types import to_arrow_type

    return to_arrow_type(dt)


def _column_name(col: Union[str, "Column"]) -> str:
    if isinstance(col, str):
        return col
    try:
        return str(col._jc.toString())
    except Exception:
        return str(col)


def _check_options(batch_size: Optional[int], on_bad_rows: str, dtype: Optional[str]) -> Optional[str]:
    if batch_size is not None and (not isinstance(batch_size, int) or isinstance(batch_size, bool)
                                   or batch_size < 1):
        raise ValueError(f"batch_size must be a positive int or None, not {batch_size!r}")
    if on_bad_rows not in _BAD_ROW_POLICIES:
        raise ValueError(f"on_bad_rows must be one of {_BAD_ROW_POLICIES}, not {on_bad_rows!r}")
    if dtype is None:
        return None
    try:
        np_dtype = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"dtype {dtype!r} is not a numpy dtype") from None
    if np_dtype not in _TORCH_DTYPES:
        raise ValueError(f"dtype must be one of {sorted(str(d) for d in _TORCH_DTYPES)}, not {dtype!r}")
    return np_dtype.str


def _check_limits_options(timeout_s: Optional[float], max_memory: Optional[int]
                          ) -> Optional[Tuple[Optional[float], Optional[int]]]:
    """``(timeout_s, max_memory)`` for the workers' states, or None for no limits."""
    if timeout_s is not None and (isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float))
                                  or not timeout_s > 0 or timeout_s == float("inf")):
        raise ValueError(f"timeout_s must be a positive number of seconds or None, not {timeout_s!r}")
    if max_memory is not None and (isinstance(max_memory, bool) or not isinstance(max_memory, int)
                                   or max_memory <= 0):
        raise ValueError(f"max_memory must be a positive number of bytes or None, not {max_memory!r}")
    if timeout_s is None and max_memory is None:
        return None
    return (float(timeout_s) if timeout_s is not None else None, max_memory)


def _input_kind_from_spark(name: str, dt: Any) -> str:
    """'scalar' or 'array' for a usable Spark input type; TypeError otherwise."""
    return _spark_kind_depth(name, dt)[0]


def _spark_kind_depth(name: str, dt: Any) -> Tuple[str, int]:
    """('scalar', 0) or ('array', levels) for a usable Spark input type; TypeError otherwise."""
    from pyspark.sql.types import ArrayType, BooleanType, NumericType

    if isinstance(dt, (NumericType, BooleanType)):
        return "scalar", 0
    depth, leaf = 0, dt
    while isinstance(leaf, ArrayType):
        depth, leaf = depth + 1, leaf.elementType
    if depth and isinstance(leaf, (NumericType, BooleanType)):
        return "array", depth
    raise TypeError(f"input column {name!r} has type {dt.simpleString()}; expected a number "
                    "(tinyint..bigint, float, double, decimal, boolean) or an array (possibly "
                    "nested) of numbers")


def _check_columns_option(columns: str) -> str:
    if columns not in _COLUMN_MODES:
        raise ValueError(f"columns must be one of {_COLUMN_MODES} ('stack': numeric columns in one "
                         f"[N, C] tensor; 'separate': one tensor per column), not {columns!r}")
    return columns


def _check_inputs_on_driver(fields: Mapping[str, Any], in_cols: Sequence[str], shapes: Any) -> None:
    """With the DataFrame's schema at hand: every input column exists, has a
    usable type, and suits its declared shape."""
    _check_shapes_match(shapes, in_cols)
    for i, c in enumerate(in_cols):
        if c not in fields:
            raise ValueError(f"input column {c!r} is not in the DataFrame (columns: {list(fields)})")
        dt = fields[c].dataType
        kind, depth = _spark_kind_depth(c, dt)
        _check_shape_fits(c, kind, depth, _shape_for(shapes, i, c), dt.simpleString())


# ---------------------------------------------------------------------------
# lua_udf
# ---------------------------------------------------------------------------
class LuaUDF:
    """A column function that calls a Lua function on batches of rows.

    Made by :func:`lua_udf`; call it with columns (names or ``Column``) to get
    a ``Column``: ``df.select(f("features"))``, or register it for SQL with
    ``spark.udf.register("name", f)`` (or :func:`register`). The script, the
    function and the return type were checked when the UDF was made; column
    types cannot be known before Spark runs it (a ``Column`` is not bound to a
    DataFrame), so they are checked on the executors, on the first batch, with
    the same messages as :func:`score` gives on the driver.
    """

    def __init__(self, script: LuaScript, function: str, return_type: Any, *,
                 batch_size: Optional[int], on_bad_rows: str, dtype: Optional[str],
                 flavor: str, columns: str = "stack", input_shapes: Any = None,
                 deterministic: bool = True,
                 limits: Optional[Tuple[Optional[float], Optional[int]]] = None) -> None:
        self.script = script
        self.function = function
        self._return_type = return_type
        self.batch_size = batch_size
        self.on_bad_rows = on_bad_rows
        self.dtype = dtype
        self.flavor = flavor
        self.columns = columns
        self.input_shapes = input_shapes
        self.deterministic = deterministic
        self.limits = limits
        self._resolved: Optional[Tuple[Any, pa.DataType]] = None
        self.__name__ = f"lua_{function.replace('.', '_')}"

    @property
    def return_type(self) -> Any:
        """The Spark return type (parsed on first use if given as a string)."""
        return self._resolve()[0]

    def _resolve(self) -> Tuple[Any, pa.DataType]:
        if self._resolved is None:
            dt = _parse_type(self._return_type, "return_type")
            _check_output_type(dt, "of the UDF")
            self._resolved = (dt, _arrow_type(dt))
        return self._resolved

    def _spark_udf(self, names: Optional[Sequence[str]]) -> Any:
        """The pyspark UDF (arrow_udf or pandas_udf) for inputs ``names`` (None: from SQL)."""
        dt, at = self._resolve()
        handle = self.script._ship(_active_target(), count=True)
        runner = _Runner(handle, self.function, names, self.dtype, self.batch_size,
                         self.on_bad_rows, columns=self.columns, shapes=self.input_shapes,
                         limits=self.limits)
        if self.flavor == "arrow":
            from pyspark.sql.functions import arrow_udf

            udf = arrow_udf(_make_arrow_fn(runner, at, self.__name__), dt)
        else:
            from pyspark.sql.functions import pandas_udf

            udf = pandas_udf(_make_pandas_fn(runner, at, self.__name__), dt)
        return udf if self.deterministic else udf.asNondeterministic()

    def __call__(self, *cols: Any) -> Any:
        if not cols:
            raise TypeError(f"{self.__name__}() needs at least one input column")
        names = [_column_name(c) for c in cols]
        _check_shapes_match(self.input_shapes, names, strict_names=False)
        return self._spark_udf(names)(*cols)

    # What spark.udf.register reads from a UserDefinedFunction: with these a
    # LuaUDF registers for SQL as it is (nothing of it is pickled but the
    # function below, which holds the script's payload, not a Lua state).
    @property
    def func(self) -> Any:
        """The Python function Spark runs (for ``spark.udf.register``)."""
        return self._spark_udf(None).func

    @property
    def returnType(self) -> Any:  # noqa: N802 (pyspark's name)
        return self.return_type

    @property
    def evalType(self) -> int:  # noqa: N802 (pyspark's name)
        from pyspark.util import PythonEvalType

        return (PythonEvalType.SQL_SCALAR_ARROW_ITER_UDF if self.flavor == "arrow"
                else PythonEvalType.SQL_SCALAR_PANDAS_ITER_UDF)

    def asNondeterministic(self) -> "LuaUDF":  # noqa: N802 (pyspark's name)
        """This UDF marked non-deterministic (Spark then never re-runs or merges its calls)."""
        self.deterministic = False
        return self

    def __repr__(self) -> str:
        return (f"LuaUDF({self.function!r}, {self._return_type!r}, script={self.script!r}, "
                f"flavor={self.flavor!r})")


def _make_arrow_fn(runner: _Runner, out_type: pa.DataType, name: str):
    convert = _convert_column(out_type, runner.function)

    def lua_arrow_udf(batches: Iterator[pa.Array]) -> Iterator[pa.Array]:
        def columns():
            for b in batches:
                yield b if isinstance(b, tuple) else (b,)
        return runner.score_batches(columns(), convert)

    lua_arrow_udf.__name__ = name
    return lua_arrow_udf


def _make_pandas_fn(runner: _Runner, out_type: pa.DataType, name: str):
    import pandas as pd

    convert = _convert_column(out_type, runner.function)

    def lua_pandas_udf(batches: Iterator[pd.Series]) -> Iterator[pd.Series]:
        def columns():
            for b in batches:
                series = b if isinstance(b, tuple) else (b,)
                yield tuple(_series_to_arrow(s) for s in series)
        for arr in runner.score_batches(columns(), convert):
            yield _arrow_to_pandas(arr)

    lua_pandas_udf.__name__ = name
    # real objects, not strings: pandas is imported here, not at module level
    lua_pandas_udf.__annotations__ = {"batches": Iterator[pd.Series], "return": Iterator[pd.Series]}
    return lua_pandas_udf


def lua_udf(script: LuaScript, function: str, return_type: Any, *,
            batch_size: Optional[int] = None, on_bad_rows: str = "error",
            dtype: Optional[str] = None, flavor: str = "arrow", columns: str = "stack",
            input_shapes: Any = None, timeout_s: Optional[float] = None,
            max_memory: Optional[int] = None) -> LuaUDF:
    """A column function that scores batches of rows with a Lua function.

    Parameters
    ----------
    script : LuaScript
        The Lua code (and files) that defines ``function``.
    function : str
        Name of the Lua global function called as ``function(t1, t2, ...)``
        with one tensor per input (see the module docs for how columns map to
        tensors); it returns a tensor ``[N]`` / ``[N, K]`` or a table of named
        tensors (for a struct ``return_type``).
    return_type : pyspark DataType or DDL str
        ``"float"``, ``"array<float>"``, ``"struct<label:int, p:array<float>>"``...
    batch_size : int, optional
        Rows per Lua call at most (Arrow batches are split; they are never
        merged: see ``spark.sql.execution.arrow.maxRecordsPerBatch``).
    on_bad_rows : {"error", "null"}
        What bad input rows do: fail the task with a message naming the column,
        the problem and the rows, or get a null result.
    dtype : str, optional
        numpy dtype of the tensors; by default scalar columns are stacked into
        float32 and array columns keep their element type (no copy).
    flavor : {"arrow", "pandas"}
        ``arrow_udf`` with iterators of ``pyarrow.Array`` (default) or
        ``pandas_udf`` with iterators of ``pandas.Series``.
    columns : {"stack", "separate"}
        ``"stack"`` (default): the numeric scalar columns are stacked into one
        ``[N, C]`` tensor; ``"separate"``: one ``[N]`` tensor per scalar
        column, so ``function two(a, b)`` gets one argument per column.
    input_shapes : list or dict, optional
        The shape of one row of each array column, without the batch
        dimension (as ``predict_batch_udf``'s ``input_tensor_shapes``): a list
        with one shape or None per input column, or a dict by column position
        or name (names not among a call's columns are ignored, so one UDF
        serves several calls). A flat array of 784 values with shape ``[1, 28, 28]`` gives a
        ``[N, 1, 28, 28]`` tensor; nested arrays (``array<array<double>>``)
        give one dimension per level. Rows of another shape are bad rows.
        Without a declared shape, the rows of a batch must all have the same
        shape, or the batch fails asking for one.
    timeout_s : float, optional
        Seconds each Lua call (one batch of at most ``batch_size`` rows) may run: an
        endless loop fails the task with :class:`sparktorch7.LuaTimeoutError` naming the
        function, the script, the rows and the Lua line (rebuilt as itself on the driver
        by :func:`short_errors`). The worker's state then runs with the JIT compiler off
        (LuaJIT runs no hooks in compiled code): numeric Lua code 1.5-3x slower,
        element-wise tensor access much more. The chunk and ``init`` are bounded too.
    max_memory : int, optional
        Bytes the Lua heap of the worker's state may grow to (tensor storage is not
        counted): past it the call fails with :class:`sparktorch7.LuaMemoryError`.
        After either error the worker's state is closed and the next task builds a new one.

    Returns
    -------
    LuaUDF
        Call it with columns to get a Column, or register it for SQL.

    Examples
    --------
    With ``spark`` a SparkSession:

    >>> script = LuaScript("function double(x) return x * 2 end")
    >>> f = lua_udf(script, "double", "float")
    >>> df = spark.createDataFrame([(1.5,), (2.0,)], "value double")
    >>> df.select(f("value").alias("doubled")).collect()
    [Row(doubled=3.0), Row(doubled=4.0)]
    >>> lua_udf(script, "triple", "float")
    Traceback (most recent call last):
    ...
    ValueError: the Lua function 'triple' is not defined by script 'script' (found a nil value)
    """
    if not isinstance(script, LuaScript):
        raise TypeError(f"script must be a LuaScript, not {type(script).__name__}")
    _check_function_name(function, "function")
    dtype = _check_options(batch_size, on_bad_rows, dtype)
    if flavor not in _FLAVORS:
        raise ValueError(f"flavor must be one of {_FLAVORS}, not {flavor!r}")
    _check_columns_option(columns)
    shapes = _check_shapes(input_shapes)
    limits = _check_limits_options(timeout_s, max_memory)
    script.check(function, limits=limits)
    udf = LuaUDF(script, function, return_type, batch_size=batch_size, on_bad_rows=on_bad_rows,
                 dtype=dtype, flavor=flavor, columns=columns, input_shapes=shapes, limits=limits)
    if isinstance(return_type, str) and _active_target(required=False) is None:
        return udf   # parsed when first called, with a session
    udf._resolve()
    return udf


def lua_pandas_udf(script: LuaScript, function: str, return_type: Any, *,
                   batch_size: Optional[int] = None, on_bad_rows: str = "error",
                   dtype: Optional[str] = None, columns: str = "stack",
                   input_shapes: Any = None, timeout_s: Optional[float] = None,
                   max_memory: Optional[int] = None) -> LuaUDF:
    """:func:`lua_udf` with ``flavor='pandas'`` (a ``pandas_udf`` over iterators of Series).

    Examples
    --------
    >>> script = LuaScript("function double(x) return x * 2 end")
    >>> f = lua_pandas_udf(script, "double", "float")
    >>> spark.range(3).select(f("id").alias("y")).collect()
    [Row(y=0.0), Row(y=2.0), Row(y=4.0)]
    """
    return lua_udf(script, function, return_type, batch_size=batch_size,
                   on_bad_rows=on_bad_rows, dtype=dtype, flavor="pandas", columns=columns,
                   input_shapes=input_shapes, timeout_s=timeout_s, max_memory=max_memory)


def register(spark: "SparkSession", name: str, script: LuaScript, function: str, return_type: Any,
             **options: Any) -> Any:
    """Register a Lua function for SQL as ``name``: ``spark.sql("SELECT name(x) ...")``.

    The same as ``spark.udf.register(name, lua_udf(script, function,
    return_type, **options))``. SQL gives the arguments no names, so messages
    call them ``argument 1``, ``argument 2``... and ``input_shapes`` can only
    be a list or a dict by position. Their types are checked on the first
    batch each task scores (SQL resolves them after this call).

    Returns
    -------
    pyspark UserDefinedFunction
        Also usable on DataFrames.

    Examples
    --------
    >>> script = LuaScript("function double(x) return x * 2 end")
    >>> _ = register(spark, "double_it", script, "double", "double")
    >>> spark.sql("SELECT double_it(CAST(id AS DOUBLE)) AS y FROM range(3)").collect()
    [Row(y=0.0), Row(y=2.0), Row(y=4.0)]
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, not {name!r}")
    udf = lua_udf(script, function, return_type, **options)
    return spark.udf.register(name, udf)


# ---------------------------------------------------------------------------
# score: mapInArrow with passthrough columns
# ---------------------------------------------------------------------------
#: The column that carries score()'s counts from the workers to its Observation
#: (dropped from the result): bit 0, the row was scored; bit 1 (first row of a
#: batch), a Lua state was built for that batch.
_STATS_COL = "__sparktorch7_stats"


def _stats_flags(runner: _Runner, n: int, keep: Optional[np.ndarray]) -> pa.Array:
    flags = np.zeros(n, dtype=np.int8)
    if keep is None:
        flags[:] = 1
    else:
        flags[keep] = 1
    if n and runner.handle.take_built():
        flags[0] |= 2
    return pa.array(flags)


def _score_partition(runner: _Runner, in_cols: List[str], keep_cols: List[str],
                     out_fields: List[pa.Field], schema: pa.Schema):
    def convert(result: Any, n: int, keep: Optional[np.ndarray], where: str) -> List[pa.Array]:
        return outputs(result, n, keep, where) + [_stats_flags(runner, n, keep)]

    def outputs(result: Any, n: int, keep: Optional[np.ndarray], where: str) -> List[pa.Array]:
        what = f"the result of Lua function {runner.function!r} on {where}"
        if keep is not None and keep.size == 0:
            return [pa.nulls(n, type=f.type) for f in out_fields]
        m = n if keep is None else int(keep.size)
        only = out_fields[0] if len(out_fields) == 1 else None
        if only is not None and isinstance(result, dict) and list(result) == [only.name]:
            result = result[only.name]          # {prediction = tensor}
        if only is not None:
            cols = [_to_arrow(result, only.type, m, what)]
        else:
            struct = pa.struct(out_fields)
            cols = _to_arrow(result, struct, m, what).flatten()
        if keep is not None:
            cols = [_scatter(c, keep, n) for c in cols]
        return cols

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        held: List[pa.RecordBatch] = []

        def columns() -> Iterator[List[pa.Array]]:
            for rb in batches:
                held.append(rb)
                yield [rb.column(c) for c in in_cols]

        # one output per record batch: the kept columns come from that batch
        for out_cols in runner.score_batches(columns(), convert):   # outputs + the stats column
            rb = held.pop(0)
            kept = [rb.column(c) for c in keep_cols]
            yield pa.RecordBatch.from_arrays(kept + list(out_cols), schema=schema)
    return run


def _observed_metrics(obs: Any, wait: float = 0.0) -> Optional[Dict[str, int]]:
    """The metrics of the Observation ``obs`` once its first action finished, else None.

    A classic Observation is completed by a query listener, on Spark's listener
    bus, a moment after the action returned: this waits up to ``wait`` seconds
    for it (never for ever, as its ``get`` would for a DataFrame never run)."""
    try:
        jo = getattr(obs, "_jo", None)
        if jo is not None:                        # classic: the JVM Observation's future
            deadline = time.monotonic() + wait
            while not jo.future().isCompleted():
                if time.monotonic() >= deadline:
                    return None
                time.sleep(0.02)
            got = obs.get
        else:                                     # Spark Connect: filled by the action's response
            got = getattr(obs, "_result", None)
    except Exception:   # the session is gone
        return None
    return {k: int(v or 0) for k, v in got.items()} if got else None


def _observe_scores(df: "DataFrame", script: LuaScript) -> Tuple["DataFrame", Any]:
    """``df`` (the mapInArrow output with the stats column) observed: rows, rows
    scored, bad rows and Lua states built; the stats column dropped."""
    from pyspark.sql import Observation
    from pyspark.sql import functions as F

    obs = Observation(f"sparktorch7-{script.key[:12]}-{uuid.uuid4().hex[:12]}")
    flags = F.col(_STATS_COL)
    scored = F.coalesce(F.sum(flags.bitwiseAND(F.lit(1))), F.lit(0))
    observed = df.observe(obs, F.count(F.lit(1)).alias("rows"), scored.alias("rows_scored"),
                          (F.count(F.lit(1)) - scored).alias("bad_rows"),
                          F.coalesce(F.sum(F.shiftright(flags, 1)), F.lit(0)).alias("lua_states"))
    memo: List[Dict[str, int]] = []

    def read(wait: float = 0.0) -> Optional[Dict[str, int]]:
        if not memo:
            got = _observed_metrics(obs, wait)
            if got is None:
                return None
            memo.append(got)
        return memo[0]

    script._observe(read)
    return observed.drop(_STATS_COL), read


def score(df: "DataFrame", script: LuaScript, function: str, input_cols: Union[str, Sequence[str]],
          output_schema: Any, *, batch_size: Optional[int] = None,
          keep: Optional[Sequence[str]] = None, on_bad_rows: str = "error",
          dtype: Optional[str] = None, columns: str = "stack", input_shapes: Any = None,
          timeout_s: Optional[float] = None, max_memory: Optional[int] = None) -> "DataFrame":
    """Score a DataFrame with a Lua function through ``mapInArrow``.

    Works on a classic session and on Spark Connect alike. The result is
    observed (``DataFrame.observe``): once its first action finished,
    ``script.rows_scored`` and ``script.states_created`` include the rows it
    scored and the Lua states it built (later actions on the same DataFrame are
    not counted again). Spark's ``Observation`` does not support streams: a
    streaming result is counted as below.

    Parameters
    ----------
    df : pyspark.sql.DataFrame
    script : LuaScript
    function : str
        Lua function called once per batch with the tensors of ``input_cols``
        (numeric columns stacked into one ``[N, C]`` tensor, each array column
        its own ``[N, D]`` tensor). It returns one tensor when
        ``output_schema`` has one field, else a table of tensors named by the fields.
    input_cols : str or list of str
        Columns fed to Lua.
    output_schema : StructType or DDL str
        The output columns, e.g. ``"prediction float"`` or
        ``"label int, probs array<float>"``.
    batch_size : int, optional
        Rows per Lua call at most.
    keep : list of str, optional
        Columns carried through unchanged (ids...). Default: every column of ``df``.
    on_bad_rows, dtype, columns, input_shapes, timeout_s, max_memory
        As in :func:`lua_udf`; here the column types and the declared shapes
        are checked on the driver against the DataFrame's schema.

    Returns
    -------
    pyspark.sql.DataFrame
        ``keep`` columns followed by the output columns. For a streaming ``df``
        (``df.isStreaming``) a streaming DataFrame, to start with ``writeStream``
        (a file sink, ``foreachBatch``, ...); each micro-batch's counts need no
        action: ``query.lastProgress["observedMetrics"]["sparktorch7 <function>
        -> <first output column>"]`` holds ``rows`` and ``scored`` (non-null
        results), and ``script.rows_scored`` grows as micro-batches finish.

    Examples
    --------
    >>> script = LuaScript('''
    ... function predict(x)            -- x: [N, 2], the columns x1 and x2
    ...   return x:select(2, 1) + x:select(2, 2) * 10
    ... end''')
    >>> df = spark.createDataFrame([(1, 1.0, 2.0), (2, 3.0, 4.0)], "id int, x1 double, x2 double")
    >>> out = score(df, script, "predict", ["x1", "x2"], "prediction float", keep=["id"])
    >>> out.collect()
    [Row(id=1, prediction=21.0), Row(id=2, prediction=43.0)]
    """
    return _score(df, script, function, input_cols, output_schema, batch_size=batch_size,
                  keep=keep, on_bad_rows=on_bad_rows, dtype=dtype, columns=columns,
                  input_shapes=input_shapes, timeout_s=timeout_s, max_memory=max_memory)[0]


def _score(df: "DataFrame", script: LuaScript, function: str, input_cols: Union[str, Sequence[str]],
           output_schema: Any, *, batch_size: Optional[int], keep: Optional[Sequence[str]],
           on_bad_rows: str, dtype: Optional[str], columns: str, input_shapes: Any,
           timeout_s: Optional[float] = None, max_memory: Optional[int] = None
           ) -> Tuple["DataFrame", Any]:
    """:func:`score`, and the reader of its observed counts (None until its first action ended)."""
    from pyspark.sql.types import ByteType, StructField, StructType

    if not isinstance(script, LuaScript):
        raise TypeError(f"script must be a LuaScript, not {type(script).__name__}")
    _check_function_name(function, "function")
    np_dtype = _check_options(batch_size, on_bad_rows, dtype)
    _check_columns_option(columns)
    shapes = _check_shapes(input_shapes)
    in_cols = [input_cols] if isinstance(input_cols, str) else list(input_cols)
    if not in_cols:
        raise ValueError("input_cols must name at least one column")
    fields = {f.name: f for f in df.schema.fields}
    _check_inputs_on_driver(fields, in_cols, shapes)
    keep_cols = list(fields) if keep is None else ([keep] if isinstance(keep, str) else list(keep))
    for c in keep_cols:
        if c not in fields:
            raise ValueError(f"keep column {c!r} is not in the DataFrame (columns: {list(fields)})")
    out = _parse_type(output_schema, "output_schema")
    if not isinstance(out, StructType):
        raise TypeError(f"output_schema must be a struct of output columns such as "
                        f"'prediction float', not {out.simpleString()}")
    if not out.fields:
        raise ValueError("output_schema has no fields")
    _check_output_type(out, "column")
    clash = [f.name for f in out.fields if f.name in keep_cols]
    if clash:
        raise ValueError(f"output column(s) {clash} clash with kept columns; rename them or "
                         "drop them from keep")
    limits = _check_limits_options(timeout_s, max_memory)
    script.check(function, limits=limits)
    result_schema = StructType([fields[c] for c in keep_cols] + list(out.fields))
    # Arrow schema of the output batches, as Spark expects them
    if _STATS_COL in fields or _STATS_COL in out.fieldNames():
        raise ValueError(f"the column name {_STATS_COL!r} is reserved by sparktorch7.score")
    stats = StructField(_STATS_COL, ByteType(), True)
    arrow_schema = pa.schema([pa.field(f.name, _arrow_type(f.dataType), nullable=True)
                              for f in list(result_schema.fields) + [stats]])
    out_fields = [arrow_schema.field(f.name) for f in out.fields]
    streaming = df.isStreaming
    # a batch result is counted by its Observation; a stream (no Observation) by the
    # accumulators of a classic session
    handle = script._ship(df.sparkSession, count=streaming)
    runner = _Runner(handle, function, in_cols, np_dtype, batch_size, on_bad_rows,
                     columns=columns, shapes=shapes, limits=limits)
    fn = _score_partition(runner, in_cols, keep_cols, out_fields, arrow_schema)
    mapped_schema = StructType([StructField(f.name, f.dataType, True) for f in result_schema.fields]
                               + [stats])
    mapped = df.mapInArrow(fn, mapped_schema)
    if streaming:   # Observation refuses streams: named metrics in the query's progress
        return _observe_stream(mapped.drop(_STATS_COL), function, out.fields[0].name), _never
    return _observe_scores(mapped, script)


def _never(wait: float = 0.0) -> None:
    return None


def _observe_stream(result: "DataFrame", function: str, first_output: str) -> "DataFrame":
    """The counts of each micro-batch, in the query's progress (no action needed)."""
    from pyspark.sql import functions as F

    return result.observe(_stream_metrics_name(function, first_output),
                          F.count(F.lit(1)).alias("rows"),
                          F.count(F.col(f"`{first_output}`")).alias("scored"))


def _stream_metrics_name(function: str, first_output: str) -> str:
    return f"sparktorch7 {function} -> {first_output}"


# ---------------------------------------------------------------------------
# map_partitions: plain RDDs
# ---------------------------------------------------------------------------
def _rdd_rows(runner: _Runner, it: Iterable[Any], partition: Optional[int]) -> Iterator[Any]:
    size = runner.batch_size or 1024
    dt = np.dtype(runner.dtype) if runner.dtype is not None else np.dtype(np.float32)
    entry = None
    start = 0
    buf: List[Any] = []

    def flush(rows: List[Any], start: int) -> List[Any]:
        nonlocal entry
        n = len(rows)
        where = _describe_rows(start, n, partition)
        width = None
        bad: List[int] = []
        reasons: List[str] = []
        vecs: List[Optional[np.ndarray]] = []
        for i, row in enumerate(rows):
            try:
                if isinstance(row, Mapping):
                    row = list(row.values())
                if row is None or (isinstance(row, (list, tuple)) and any(x is None for x in row)):
                    raise ValueError("a null (None)")
                v = np.asarray(row, dtype=np.float64)
                if v.ndim == 0:
                    v = v.reshape(1)
                if v.ndim != 1:
                    raise ValueError(f"a nested sequence of shape {v.shape}")
            except (TypeError, ValueError) as e:
                bad.append(start + i)
                reasons.append(f"row {start + i}: expected a sequence of numbers, got {e}"
                               if isinstance(e, ValueError) else
                               f"row {start + i}: expected a sequence of numbers, got "
                               f"{type(row).__name__}")
                vecs.append(None)
                continue
            if width is None:
                width = v.size
            if v.size != width:
                bad.append(start + i)
                reasons.append(f"row {start + i}: expected {width} values, got {v.size}")
                vecs.append(None)
                continue
            vecs.append(v)
        if bad and runner.on_bad_rows == "error":
            raise BadRowsError(f"bad input for Lua function {runner.function!r} in {where}: "
                               + "; ".join(reasons[:5])
                               + (f"; ... ({len(bad)} bad rows)" if len(bad) > 5 else "")
                               + ". Fix the data or pass on_bad_rows='null'.")
        good = [j for j, v in enumerate(vecs) if v is not None]
        out: List[Any] = [None] * n
        if good:
            x = np.empty((len(good), width), dtype=dt)
            for k, j in enumerate(good):
                x[k] = vecs[j]
            if entry is None:
                entry = runner.entry()
            result = runner.call(entry, [x], where)
            values = _rows_to_python(result, len(good), where, runner.function)
            _count_rows(runner.handle, len(good))
            for k, j in enumerate(good):
                out[j] = values[k]
        return out

    for row in it:
        buf.append(row)
        if len(buf) >= size:
            yield from flush(buf, start)
            start += len(buf)
            buf = []
    if buf:
        yield from flush(buf, start)


def _map_partitions_fn(runner: _Runner):
    def run(index: int, it: Iterable[Any]) -> Iterator[Any]:
        return carried(_rdd_rows(runner, it, index))
    return run


def map_partitions(rdd: "RDD", script: LuaScript, function: str, *,
                   batch_size: int = 1024, on_bad_rows: str = "error",
                   dtype: Optional[str] = None, timeout_s: Optional[float] = None,
                   max_memory: Optional[int] = None) -> "RDD":
    """Score an RDD with a Lua function, batch by batch, in ``mapPartitions``.

    Each element is a sequence of numbers (list, tuple, ndarray, ``Row`` or
    dict of numbers); ``batch_size`` of them are stacked into one ``[N, C]``
    tensor (float32 unless ``dtype`` says otherwise) and passed to the Lua
    function. Each input element gives one output element: a float for a
    result ``[N]``, a list for ``[N, K]``, a dict for a table of tensors, or
    None for a bad row under ``on_bad_rows='null'``. ``timeout_s`` and ``max_memory``
    bound each Lua call as in :func:`lua_udf`.

    Examples
    --------
    >>> script = LuaScript("function total(x) return x:sum(2):view(-1) end")
    >>> rdd = spark.sparkContext.parallelize([[1.0, 2.0], [3.0, 4.0]])
    >>> map_partitions(rdd, script, "total").collect()
    [3.0, 7.0]
    """
    if not isinstance(script, LuaScript):
        raise TypeError(f"script must be a LuaScript, not {type(script).__name__}")
    _check_function_name(function, "function")
    np_dtype = _check_options(batch_size, on_bad_rows, dtype)
    if batch_size is None:
        raise ValueError("batch_size must be a positive int")
    limits = _check_limits_options(timeout_s, max_memory)
    script.check(function, limits=limits)
    handle = script._ship(rdd.context, count=True)
    runner = _Runner(handle, function, ["row"], np_dtype, batch_size, on_bad_rows, limits=limits)
    return rdd.mapPartitionsWithIndex(_map_partitions_fn(runner))


# ---------------------------------------------------------------------------
# files in, files out: the logic of jobs/score.py (helpers in sparktorch7._session)
# ---------------------------------------------------------------------------
def _job_inputs(input_path: str, script_path: str, files: Sequence[str]) -> List[Tuple[str, str]]:
    return ([("input table", input_path), ("script", script_path)]
            + [("shipped file", f) for f in files])


def score_files(input_path: str, output_path: str, script_path: str, function: str, *,
                features: Optional[Sequence[str]] = None, features_col: Optional[str] = None,
                files: Sequence[str] = (), init: Optional[str] = None,
                lua_path: Sequence[str] = (), batch_size: Optional[int] = None, output_col: str = "prediction",
                output_type: str = "array<float>", keep: Optional[Sequence[str]] = None,
                on_bad_rows: str = "error", mode: str = "error", master: Optional[str] = None,
                spark: Optional["SparkSession"] = None, remote: Optional[str] = None,
                timeout_s: Optional[float] = None, max_memory: Optional[int] = None
                ) -> Dict[str, Any]:
    """Read a table (Parquet, or CSV/JSON by extension), score it with a Lua
    function and write the result the same way; the logic of ``jobs/score.py``.

    Either ``features`` (numeric columns stacked into one ``[N, C]`` tensor)
    or ``features_col`` (an array column, one ``[N, D]`` tensor). The output
    holds the ``keep`` columns (default: every input column except the
    features) and ``output_col`` of type ``output_type``; ``timeout_s`` and
    ``max_memory`` bound each Lua call as in :func:`lua_udf`. Returns the figures
    it logs: rows (scored by Lua), bad_rows (left out by ``on_bad_rows='null'``),
    seconds, rows_per_s, lua_states, observed on the scored DataFrame (the
    same on a classic session and on Spark Connect).

    ``remote`` (``sc://host:port``; default ``$SPARK_REMOTE`` when no
    ``master`` is given) runs the job on a Spark Connect session. The paths are
    then read and written by the server, and checked and renamed by this
    client through ``pyarrow.fs``: give paths both see alike (a local server,
    a shared mount, ``s3://``...).

    The output is never one of the inputs: an ``output_path`` that is, is
    inside or contains ``input_path``, ``script_path`` or one of ``files``
    (compared after resolving: absolute, ``file:`` URIs, symlinks, trailing
    slashes) raises :class:`~sparktorch7.errors.PathOverlapError` (a
    ``ValueError``) before anything is written. ``mode`` is Spark's save mode:
    ``"error"`` (default) refuses an existing output
    (:class:`~sparktorch7.errors.OutputExistsError`, a ``FileExistsError``),
    ``"overwrite"`` replaces it, ``"append"`` adds part files to it. Spark
    writes into a hidden sibling of ``output_path`` that is renamed into place
    only when the whole write succeeded: a failed job leaves no partial output,
    and an old output replaced by ``"overwrite"`` stays intact until then.

    Examples
    --------
    >>> import os, tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> with open(os.path.join(folder.name, "sum.lua"), "w") as f:
    ...     _ = f.write("function predict(x) return x:sum(2) end")   # [N, 1]: array<float>
    >>> inp, out = os.path.join(folder.name, "in.parquet"), os.path.join(folder.name, "out.parquet")
    >>> spark.createDataFrame([(1, [1.0, 2.0]), (2, [3.0, 4.5])], "id int, features array<double>"
    ...                       ).write.parquet(inp)
    >>> figures = score_files(inp, out, os.path.join(folder.name, "sum.lua"), "predict",
    ...                       features_col="features", spark=spark)
    >>> figures["rows"]
    2
    >>> sorted(spark.read.parquet(out).collect())
    [Row(id=1, prediction=[3.0]), Row(id=2, prediction=[7.5])]
    >>> score_files(inp, inp, os.path.join(folder.name, "sum.lua"), "predict", features_col="features")
    Traceback (most recent call last):
    ...
    sparktorch7.errors.PathOverlapError: refusing to write output '...in.parquet': it is the same path as the input table ...
    >>> folder.cleanup()
    """
    from sparktorch7 import _paths

    if (features is None) == (features_col is None):
        raise ValueError("give exactly one of features (numeric columns) or features_col (an array column)")
    _paths.check_mode(mode)
    _check_limits_options(timeout_s, max_memory)
    inputs = _job_inputs(input_path, script_path, list(files))
    _paths.check_paths(output_path, inputs)        # before a session: fail fast
    in_cols = list(features) if features is not None else [features_col]
    spark = spark or local_session(master, app_name=f"sparktorch7-score-{os.path.basename(script_path)}",
                                   remote=remote)
    fs = _paths.file_system(spark)
    _paths.check_paths(output_path, inputs, qualify=fs.qualify)   # as the file system sees them
    if mode == "error" and fs.exists(output_path):
        raise _paths.OutputExistsError(_paths._exists_message(output_path))
    script = LuaScript.from_file(script_path, files=list(files), init=init, lua_path=list(lua_path))
    df = _read_any(spark, input_path)
    if keep is None:
        keep = [c for c in df.columns if c not in in_cols]
    _log.info("scoring %s with %s:%s (inputs %s) -> %s (mode %s)%s", input_path, script_path,
              function, in_cols, output_path, mode, " on Spark Connect" if _is_connect(spark) else "")
    out, observed = _score(df, script, function, in_cols, f"`{output_col}` {output_type}",
                           keep=list(keep), batch_size=batch_size, on_bad_rows=on_bad_rows,
                           dtype=None, columns="stack", input_shapes=None, timeout_s=timeout_s,
                           max_memory=max_memory)
    t0 = time.perf_counter()
    with _Progress(spark), short_errors():
        fmt = _format_of(output_path)
        _paths.write_atomically(lambda tmp: _write_any(out, tmp, fmt), output_path, mode, fs)
    seconds = time.perf_counter() - t0
    counts = observed(30.0)
    if counts is None:   # the write ran, so its metrics were reported
        raise RuntimeError("the scored table was written but Spark reported no counts for it")
    rows = counts["rows_scored"]
    stats = {"rows": rows, "bad_rows": counts["bad_rows"], "seconds": seconds,
             "rows_per_s": rows / seconds if seconds > 0 else 0.0, "lua_states": counts["lua_states"]}
    _log.info("scored %d rows in %.1f s (%.0f rows/s); bad rows left out: %d; Lua states created: %d",
              rows, seconds, stats["rows_per_s"], stats["bad_rows"], stats["lua_states"])
    return stats
