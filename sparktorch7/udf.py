"""Spark UDFs and batch scoring that call Lua functions on torch tensors.

The factories here run on the driver: they check the script, the function,
the types and the columns there, before any task runs, and ship the script as
a broadcast (:class:`sparktorch7.LuaScript`). On the executors each Python
worker builds its Lua state once (:mod:`sparktorch7._worker`) and feeds it
batches of rows as tensors.

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

import logging
import os
import sys
import time
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import pyarrow as pa

from sparktorch7.broadcast import LuaScript, _check_function_name
from sparktorch7._spark_errors import short_errors

__all__ = ["LuaUDF", "lua_udf", "lua_pandas_udf", "register", "score", "map_partitions",
           "score_files", "local_session", "short_errors", "BadRowsError", "LuaResultError"]

_log = logging.getLogger("sparktorch7")

_BAD_ROW_POLICIES = ("error", "null")
_FLAVORS = ("arrow", "pandas")
# numpy dtypes a torch tensor can share memory with (DoubleTensor ... ByteTensor)
_TORCH_DTYPES = {np.dtype(t) for t in ("float64", "float32", "int64", "int32", "int16", "int8",
                                       "uint8")}


class BadRowsError(ValueError):
    """Input rows that cannot be turned into a tensor (with ``on_bad_rows='error'``)."""


class LuaResultError(ValueError):
    """The Lua function returned something that does not fit the declared output."""


# ---------------------------------------------------------------------------
# driver-side helpers
# ---------------------------------------------------------------------------
def _active_sc() -> Any:
    from pyspark import SparkContext

    sc = SparkContext._active_spark_context
    if sc is None:
        raise RuntimeError("sparktorch7's Spark functions need an active SparkSession "
                           "(SparkSession.builder.getOrCreate()) on the driver")
    return sc


def _parse_type(dt: Any, what: str) -> Any:
    from pyspark.sql.types import DataType

    if isinstance(dt, DataType):
        return dt
    if isinstance(dt, str):
        from pyspark.sql.types import _parse_datatype_string

        _active_sc()
        try:
            return _parse_datatype_string(dt)
        except Exception as e:  # ParseException and friends: one line is enough
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ValueError(f"{what} {dt!r} is not a Spark type: {first}") from None
    raise TypeError(f"{what} must be a pyspark DataType or a DDL string, not {type(dt).__name__}")


def _check_output_type(dt: Any, where: str) -> None:
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


def _arrow_type(dt: Any) -> pa.DataType:
    from pyspark.sql.pandas.types import to_arrow_type

    return to_arrow_type(dt)


def _column_name(col: Any) -> str:
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
# Arrow columns -> tensors (runs on the workers)
# ---------------------------------------------------------------------------
def _describe_rows(start: int, n: int, partition: Optional[int]) -> str:
    where = f"rows {start}..{start + n - 1}" if n else f"an empty batch at row {start}"
    return where + (f" of partition {partition}" if partition is not None else "")


def _is_numeric_arrow(t: pa.DataType) -> bool:
    return (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)
            or pa.types.is_decimal(t))


def _numeric_numpy(arr: pa.Array) -> np.ndarray:
    """An Arrow numeric array without nulls as numpy (a view when the type allows it)."""
    t = arr.type
    if pa.types.is_boolean(t):
        return arr.to_numpy(zero_copy_only=False).astype(np.uint8)
    if pa.types.is_decimal(t):
        return arr.cast(pa.float64()).to_numpy(zero_copy_only=False)
    out = arr.to_numpy(zero_copy_only=False)
    if out.dtype not in _TORCH_DTYPES:   # float16, uint16/32/64
        out = out.astype(np.float32 if out.dtype == np.float16 else np.int64)
    return out


def _list_parts(arr: pa.Array) -> Tuple[np.ndarray, pa.Array]:
    """Offsets (int64, length n+1, into the child) and the child of a list-like array."""
    if pa.types.is_fixed_size_list(arr.type):
        d = arr.type.list_size
        offsets = (np.arange(len(arr) + 1, dtype=np.int64) + arr.offset) * d
        return offsets, arr.values
    return arr.offsets.to_numpy().astype(np.int64, copy=False), arr.values


class _Bad:
    """Bad rows of one batch: a mask and the first reason seen per column."""

    __slots__ = ("mask", "reasons")

    def __init__(self, n: int) -> None:
        self.mask = np.zeros(n, dtype=bool)
        self.reasons: List[Tuple[str, str, np.ndarray]] = []

    def add(self, column: str, what: str, rows: np.ndarray) -> None:
        if rows.size:
            self.mask[rows] = True
            self.reasons.append((column, what, rows))

    def mask_for(self, column: str, n: int) -> np.ndarray:
        """The rows found bad so far in ``column``."""
        mask = np.zeros(n, dtype=bool)
        for c, _what, rows in self.reasons:
            if c == column:
                mask[rows] = True
        return mask

    def message(self, function: str, where: str) -> str:
        parts = []
        for column, what, rows in self.reasons:
            shown = ", ".join(str(int(r)) for r in rows[:5]) + (", ..." if rows.size > 5 else "")
            parts.append(f"column {column!r}: {what} (row{'s' if rows.size > 1 else ''} {shown}; "
                         f"{rows.size} bad row{'s' if rows.size > 1 else ''})")
        return (f"bad input for Lua function {function!r} in {where}: " + "; ".join(parts)
                + ". Fix the data or pass on_bad_rows='null' to score those rows as null.")


_COLUMN_MODES = ("stack", "separate")


def _is_list_arrow(t: pa.DataType) -> bool:
    return pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)


def _arrow_depth(t: pa.DataType) -> Tuple[int, pa.DataType]:
    """How many list levels ``t`` has, and its leaf type."""
    depth = 0
    while _is_list_arrow(t):
        depth += 1
        t = t.value_type
    return depth, t


def _check_shape(shape: Any, what: str) -> Optional[Tuple[int, ...]]:
    """A declared per-row shape as a tuple of positive ints (None stays None)."""
    if shape is None:
        return None
    if isinstance(shape, (str, bytes)) or not isinstance(shape, Sequence):
        raise TypeError(f"{what} must be a list of positive ints (the shape of one row, without "
                        f"the batch dimension) or None, not {shape!r}")
    dims = tuple(shape)
    if not dims or any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1
                       for d in dims):
        raise ValueError(f"{what} must be a non-empty list of positive ints (the shape of one "
                         f"row, without the batch dimension), not {shape!r}")
    return tuple(int(d) for d in dims)


def _check_shapes(spec: Any) -> Any:
    """``input_shapes`` as given to the factories: None, a list aligned with the
    input columns (None for a column without a declared shape), or a dict by
    column position or name."""
    if spec is None:
        return None
    if isinstance(spec, Mapping):
        out = {}
        for k, v in spec.items():
            if isinstance(k, bool) or not isinstance(k, (int, str)):
                raise TypeError(f"input_shapes keys must be column positions (int) or names "
                                f"(str), not {k!r}")
            out[k] = _check_shape(v, f"input_shapes[{k!r}]")
        return out
    if isinstance(spec, (str, bytes)) or not isinstance(spec, Sequence):
        raise TypeError(f"input_shapes must be a list (one shape or None per input column) or "
                        f"a dict by column position or name, not {type(spec).__name__}")
    return [_check_shape(v, f"input_shapes[{i}]") for i, v in enumerate(spec)]


def _check_shapes_match(spec: Any, names: Sequence[str], *, strict_names: bool = True) -> None:
    """The input_shapes ``spec`` fits the columns ``names``. A UDF may be called on
    different columns, so there (``strict_names=False``) a dict may name others."""
    if isinstance(spec, list) and len(spec) != len(names):
        raise ValueError(f"input_shapes has {len(spec)} entries for {len(names)} input columns "
                         f"{list(names)}; give one shape (or None) per column")
    if isinstance(spec, dict):
        unknown = [k for k in spec if (isinstance(k, int) and not 0 <= k < len(names))
                   or (strict_names and isinstance(k, str) and k not in names)]
        if unknown:
            raise ValueError(f"input_shapes names column(s) {unknown} that are not among the "
                             f"inputs {list(names)}")


def _shape_for(spec: Any, index: int, name: str) -> Optional[Tuple[int, ...]]:
    if spec is None:
        return None
    if isinstance(spec, list):
        return spec[index] if index < len(spec) else None
    if index in spec:
        return spec[index]
    return spec.get(name)


def _check_shape_fits(name: str, kind: str, depth: int, shape: Optional[Tuple[int, ...]],
                      type_text: str) -> None:
    """A declared shape suits the column: none for a scalar, and for an array
    either any shape (a flat array is reshaped) or one dimension per level."""
    if shape is None or kind == "null":
        return
    if kind == "scalar":
        raise TypeError(f"input_shapes gives column {name!r} the shape {list(shape)}, but it is "
                        f"a scalar column ({type_text}); give None for it")
    if depth > 1 and depth != len(shape):
        raise TypeError(f"input_shapes gives column {name!r} the shape {list(shape)}, but its "
                        f"type {type_text} has {depth} levels of arrays; give a shape of "
                        f"{depth} dimensions (or flatten the column to one array)")


def _rows_of(starts: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """The rows (sorted, unique) holding the elements ``positions`` of a level
    whose row boundaries are ``starts``."""
    return np.unique(np.searchsorted(starts, positions, side="right") - 1)


def _shown(values: Iterable[Any]) -> str:
    vals = [str(int(v)) for v in values]
    return ", ".join(vals[:5]) + (", ..." if len(vals) > 5 else "")


class _Feeder:
    """Turns the input Arrow columns of a batch into tensor arguments.

    ``names`` are the column names (for messages; None: 'argument 1', ... as
    in SQL), ``dtype`` the numpy dtype string or None, ``columns`` 'stack'
    (scalar columns stacked into one ``[N, C]`` tensor) or 'separate' (one
    tensor per column), ``shapes`` the declared per-row shapes (see
    :func:`_check_shapes`). Only the column kinds are remembered across
    batches: a row's tensor never depends on the other rows of its batch.
    """

    def __init__(self, names: Optional[Sequence[str]], dtype: Optional[str], *,
                 columns: str = "stack", shapes: Any = None) -> None:
        self.names = list(names) if names is not None else None
        self.dtype = np.dtype(dtype) if dtype is not None else None
        self.columns = columns
        self.shapes_spec = shapes
        self.kinds: Optional[List[str]] = None
        self.shapes: List[Optional[Tuple[int, ...]]] = []

    def _kinds(self, arrays: Sequence[pa.Array]) -> List[str]:
        if self.kinds is None:
            if self.names is None:
                self.names = [f"argument {i + 1}" for i in range(len(arrays))]
            if len(self.names) != len(arrays):
                raise TypeError(f"{len(arrays)} input columns for the {len(self.names)} names "
                                f"{self.names}")
            _check_shapes_match(self.shapes_spec, self.names, strict_names=False)
            kinds = []
            shapes = []
            for i, (name, arr) in enumerate(zip(self.names, arrays)):
                t = arr.type
                depth, leaf = _arrow_depth(t)
                if depth == 0 and _is_numeric_arrow(t):
                    kind = "scalar"
                elif depth and _is_numeric_arrow(leaf):
                    kind = "array"
                elif pa.types.is_null(t):
                    kind = "null"
                else:
                    raise TypeError(f"input column {name!r} has Arrow type {t}; expected a number "
                                    "or an array (possibly nested) of numbers")
                shape = _shape_for(self.shapes_spec, i, name)
                _check_shape_fits(name, kind, depth, shape, str(t))
                kinds.append(kind)
                shapes.append(shape)
            self.kinds, self.shapes = kinds, shapes
        return self.kinds

    def feed(self, arrays: Sequence[pa.Array], n: int) -> Tuple[List[Any], _Bad]:
        """Check the batch; return the per-column decoded parts and the bad rows."""
        kinds = self._kinds(arrays)
        bad = _Bad(n)
        parts: List[Any] = []
        for i, (name, kind, arr) in enumerate(zip(self.names, kinds, arrays)):
            if kind == "null":
                bad.add(name, "expected a number, got null", np.arange(n))
                parts.append(np.zeros(n, dtype=np.float32))
            elif kind == "scalar":
                if arr.null_count:
                    bad.add(name, "expected a number, got null",
                            np.flatnonzero(arr.is_null().to_numpy(zero_copy_only=False)))
                    arr = arr.fill_null(0)
                parts.append(_numeric_numpy(arr))
            else:
                parts.append(self._array_part(name, self.shapes[i], arr, n, bad))
        return parts, bad

    def _array_part(self, name: str, declared: Optional[Tuple[int, ...]], arr: pa.Array,
                    n: int, bad: _Bad) -> Tuple[Any, ...]:
        """Walk the list levels of an array column: nulls and lengths checked per
        row, against the declared shape or, without one, for equal lengths."""
        starts = np.arange(n + 1, dtype=np.int64)       # each row's span at the current level
        levels: List[Tuple[np.ndarray, np.ndarray]] = []  # (lengths, starts) per level
        level = arr
        while _is_list_arrow(level.type):
            offsets, child = _list_parts(level)
            base = int(offsets[0]) if len(offsets) else 0
            rel = offsets - base
            if level.null_count:
                pos = np.flatnonzero(level.is_null().to_numpy(zero_copy_only=False))
                bad.add(name, "expected an array of numbers, got null" if not levels else
                        "expected arrays inside the array, got null", _rows_of(starts, pos))
            levels.append((np.diff(rel), starts))
            starts = rel[starts]
            level = child.slice(base, int(rel[-1]) if len(rel) else 0)
        if level.null_count:
            pos = np.flatnonzero(~level.is_valid().to_numpy(zero_copy_only=False))
            bad.add(name, "expected numbers inside the array, got null", _rows_of(starts, pos))
            level = level.fill_null(0)
        ok = ~bad.mask_for(name, n)
        if declared is not None:
            shape = self._check_declared(name, declared, levels, ok, bad)
        else:
            shape = self._uniform_shape(name, levels, ok, n)
        return ("array", starts, _numeric_numpy(level), shape)

    @staticmethod
    def _check_declared(name: str, shape: Tuple[int, ...], levels: List[Tuple[np.ndarray, np.ndarray]],
                        ok: np.ndarray, bad: _Bad) -> Tuple[int, ...]:
        if len(levels) == 1:
            want = int(np.prod(shape))
            lengths = levels[0][0]
            wrong = np.flatnonzero(ok & (lengths != want))
            if wrong.size:
                bad.add(name, f"expected arrays of {want} values (input_shapes {list(shape)}), "
                        f"got length {_shown(np.unique(lengths[wrong]))}", wrong)
            return shape
        for j, ((lengths, starts), want) in enumerate(zip(levels, shape)):
            pos = np.flatnonzero(lengths != want)
            if pos.size:
                pos = pos[ok[np.searchsorted(starts, pos, side="right") - 1]]
            if pos.size:
                bad.add(name, f"expected arrays of shape {list(shape)}, got length "
                        f"{_shown(np.unique(lengths[pos]))} at level {j + 1} (expected {want})",
                        _rows_of(starts, pos))
        return shape

    @staticmethod
    def _uniform_shape(name: str, levels: List[Tuple[np.ndarray, np.ndarray]], ok: np.ndarray,
                       n: int) -> Tuple[int, ...]:
        """Without a declared shape every good row must hold arrays of the same shape."""
        shape = []
        for j, (lengths, starts) in enumerate(levels):
            if j == 0:
                seen = lengths[ok]
            else:
                seen = lengths
                if lengths.size and not np.all(lengths == lengths[0]) and not ok.all():
                    rows = np.searchsorted(starts, np.arange(lengths.size), side="right") - 1
                    seen = lengths[ok[rows]]
            if seen.size == 0:
                shape.append(0)
                continue
            first = int(seen[0])
            if not np.all(seen == first):
                counts = np.unique(seen, return_counts=True)
                got = ", ".join(f"length {int(v)}: {int(c)} {'rows' if c > 1 else 'row'}"
                                for v, c in zip(*counts))
                where = "arrays" if j == 0 else f"arrays at level {j + 1}"
                raise BadRowsError(
                    f"column {name!r}: {where} of different lengths in one batch ({got}); "
                    "without a declared shape no length is the right one, whatever on_bad_rows "
                    "says. Declare the shape of one row with input_shapes (e.g. "
                    f"input_shapes={{{name!r}: [{first}]}}): rows of another shape are then bad "
                    "rows")
            shape.append(first)
        return tuple(shape)

    def tensors(self, parts: Sequence[Any], keep: Optional[np.ndarray], n: int) -> List[np.ndarray]:
        """The tensor arguments for the rows ``keep`` (all when None)."""
        args: List[Any] = []
        scalar_at = None
        scalars: List[np.ndarray] = []
        m = n if keep is None else int(keep.size)
        dt = self.dtype if self.dtype is not None else np.dtype(np.float32)
        for kind, part in zip(self.kinds, parts):
            if kind in ("scalar", "null"):
                col = part if keep is None else part[keep]
                if self.columns == "separate":
                    args.append(col.astype(dt) if col.dtype != dt else col)
                    continue
                if scalar_at is None:
                    scalar_at = len(args)
                    args.append(None)  # placeholder
                scalars.append(col)
            else:
                args.append(self._array_tensor(part, keep, n, m))
        if scalar_at is not None:
            if len(scalars) == 1:
                x = scalars[0]
                x = x.astype(dt) if x.dtype != dt else x
            else:
                x = np.empty((m, len(scalars)), dtype=dt)
                for j, col in enumerate(scalars):
                    x[:, j] = col
            args[scalar_at] = x
        return args

    def _array_tensor(self, part: Tuple[Any, ...], keep: Optional[np.ndarray], n: int,
                      m: int) -> np.ndarray:
        _tag, starts, flat, shape = part
        size = int(np.prod(shape)) if shape else 0
        if keep is None and starts[0] == 0 and np.all(np.diff(starts) == size):
            t = flat[: n * size].reshape((n,) + tuple(shape))    # a view of the Arrow buffer
        else:
            rows = np.arange(n) if keep is None else keep
            idx = starts[rows][:, None] + np.arange(size)[None, :]
            t = flat[idx].reshape((m,) + tuple(shape))
        if self.dtype is not None and t.dtype != self.dtype:
            t = t.astype(self.dtype)
        return t


# ---------------------------------------------------------------------------
# results -> Arrow (runs on the workers)
# ---------------------------------------------------------------------------
def _shape_text(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"a {value.dtype} tensor of size {'x'.join(str(s) for s in value.shape) or 'scalar'}"
    if isinstance(value, dict):
        return f"a table with keys {sorted(map(str, value))}"
    if isinstance(value, tuple):
        return f"{len(value)} values"
    return f"a {type(value).__name__} ({value!r:.60})"


def _leaf_numpy_dtype(t: pa.DataType) -> np.dtype:
    if pa.types.is_boolean(t):
        return np.dtype(bool)
    return np.dtype(t.to_pandas_dtype())


def _to_arrow(value: Any, t: pa.DataType, n: int, what: str) -> pa.Array:
    """Convert a Lua result for n rows into an Arrow array of type t."""
    if pa.types.is_struct(t):
        if not isinstance(value, dict):
            raise LuaResultError(f"{what} should be a table with fields "
                                 f"{[f.name for f in t]} (one tensor of {n} rows each), "
                                 f"got {_shape_text(value)}")
        missing = [f.name for f in t if f.name not in value]
        if missing:
            raise LuaResultError(f"{what} lacks field(s) {missing}; it has {sorted(map(str, value))}")
        children = [_to_arrow(value[f.name], f.type, n, f"{what}.{f.name}") for f in t]
        return pa.StructArray.from_arrays(children, fields=list(t))
    if not isinstance(value, np.ndarray):
        raise LuaResultError(f"{what} should be a tensor of {n} rows, got {_shape_text(value)}")
    depth = 0
    leaf = t
    while pa.types.is_list(leaf) or pa.types.is_large_list(leaf) or pa.types.is_fixed_size_list(leaf):
        depth += 1
        leaf = leaf.value_type
    want = 1 + depth
    arr = value
    if arr.ndim == want + 1 and arr.shape[-1] == 1 and depth == 0:
        arr = arr.reshape(arr.shape[:-1])       # [N, 1] for a scalar column
    if arr.ndim == 0 or arr.shape[0] != n:
        rows = arr.shape[0] if arr.ndim else "no"
        raise LuaResultError(f"{what} has {rows} rows for a batch of {n} rows "
                             f"(got {_shape_text(value)}); the function must return one row "
                             "per input row")
    if arr.ndim != want:
        expect = "[N]" if depth == 0 else "[N, " + ", ".join("K" * 1 for _ in range(depth)) + "]"
        raise LuaResultError(f"{what} should be a tensor of size {expect} for type {t}, "
                             f"got {_shape_text(value)}")
    # One copy that also casts and makes the data contiguous: the tensor may be
    # a buffer the Lua code reuses for its next batch (nn modules' output).
    flat = np.array(arr, dtype=_leaf_numpy_dtype(leaf), order="C", copy=True).reshape(-1)
    out: pa.Array = pa.array(flat, type=leaf)
    dims = arr.shape[1:]
    for level in range(depth - 1, -1, -1):
        k = dims[level]
        count = n * int(np.prod(dims[:level], dtype=np.int64)) if level else n
        lt = t
        for _ in range(level):
            lt = lt.value_type
        if pa.types.is_fixed_size_list(lt):
            out = pa.FixedSizeListArray.from_arrays(out, k)
            if out.type != lt:
                out = out.cast(lt)
        else:
            off_type = np.int64 if pa.types.is_large_list(lt) else np.int32
            offsets = pa.array(np.arange(0, count * k + 1, k, dtype=off_type) if k else
                               np.zeros(count + 1, dtype=off_type))
            cls = pa.LargeListArray if pa.types.is_large_list(lt) else pa.ListArray
            out = cls.from_arrays(offsets, out, type=lt)
    return out


def _scatter(valid: pa.Array, keep: np.ndarray, n: int) -> pa.Array:
    """Spread the results of rows ``keep`` over n rows, nulls elsewhere."""
    idx = np.zeros(n, dtype=np.int64)
    idx[keep] = np.arange(keep.size)
    mask = np.ones(n, dtype=bool)
    mask[keep] = False
    if keep.size == 0:
        return pa.nulls(n, type=valid.type)
    return valid.take(pa.array(idx, mask=mask))


# ---------------------------------------------------------------------------
# the per-partition runner (pickled into tasks; holds no Lua state)
# ---------------------------------------------------------------------------
class _Runner:
    """Everything a task needs to score batches; small and picklable."""

    def __init__(self, handle: Any, function: str, names: Optional[Sequence[str]],
                 dtype: Optional[str], batch_size: Optional[int], on_bad_rows: str, *,
                 columns: str = "stack", shapes: Any = None) -> None:
        self.handle = handle
        self.function = function
        self.names = list(names) if names is not None else None
        self.dtype = dtype
        self.batch_size = batch_size
        self.on_bad_rows = on_bad_rows
        self.columns = columns
        self.shapes = shapes

    # -- one call into Lua
    def _call(self, entry: Any, args: List[np.ndarray], where: str) -> Any:
        from sparktorch7 import LuaError

        fn = entry.function(self.function)
        try:
            result = fn(*args)
        except LuaError as e:
            msg = (f"Lua function {self.function!r} of script {self.handle.name[1:]!r} failed on "
                   f"{where}: {e.lua_message}")
            raise LuaError(msg, e.lua_traceback) from None
        except Exception as e:
            if hasattr(e, "add_note"):
                e.add_note(f"in Lua function {self.function!r} of script "
                           f"{self.handle.name[1:]!r} on {where}")
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
                      convert: Any) -> Iterator[Any]:
        """For each input batch (a list of Arrow columns), yield ``convert(result, n, keep)``.

        ``keep`` is None when every row was scored, else the indices of the
        rows that were (the others must get nulls)."""
        from pyspark import TaskContext

        ctx = TaskContext.get()
        partition = ctx.partitionId() if ctx is not None else None
        feeder = _Feeder(self.names, self.dtype, columns=self.columns, shapes=self.shapes)
        entry = None
        start = 0
        for arrays in batches:
            for chunk, n in self._slices(arrays):
                where = _describe_rows(start, n, partition)
                if n == 0:
                    yield convert(None, 0, np.empty(0, dtype=np.int64), where)
                    continue
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
                if entry is None:
                    entry = self.handle.entry()
                if keep is not None and keep.size == 0:
                    yield convert(None, n, keep, where)
                else:
                    args = feeder.tensors(parts, keep, n)
                    result = self._call(entry, args, where)
                    yield convert(result, n, keep, where)
                    _count_rows(self.handle, n if keep is None else int(keep.size))
                start += n


def _count_rows(handle: Any, n: int) -> None:
    count = getattr(handle, "count_rows", None)
    if count is not None:
        count(n)


def _convert_column(out_type: pa.DataType, function: str):
    def convert(result: Any, n: int, keep: Optional[np.ndarray], where: str) -> pa.Array:
        if keep is not None and keep.size == 0:
            return pa.nulls(n, type=out_type)
        m = n if keep is None else int(keep.size)
        arr = _to_arrow(result, out_type, m, f"the result of Lua function {function!r} on {where}")
        return arr if keep is None else _scatter(arr, keep, n)
    return convert


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
                 deterministic: bool = True) -> None:
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
        handle = self.script._ship(_active_sc())
        runner = _Runner(handle, self.function, names, self.dtype, self.batch_size,
                         self.on_bad_rows, columns=self.columns, shapes=self.input_shapes)
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
    # function below, which holds the script's broadcast, not a Lua state).
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


def _series_to_arrow(s: Any) -> pa.Array:
    # Spark hands nulls of numeric columns to pandas as NaN: from_pandas=True maps
    # them back to nulls (a real NaN is then a null too, a limit of the pandas flavour).
    return pa.array(s, from_pandas=True)


def _arrow_to_pandas(arr: pa.Array) -> Any:
    import pandas as pd

    if pa.types.is_struct(arr.type):
        table = pa.Table.from_arrays(arr.flatten(), names=[f.name for f in arr.type])
        return table.to_pandas()
    return pd.Series(arr.to_pandas())


def lua_udf(script: LuaScript, function: str, return_type: Any, *,
            batch_size: Optional[int] = None, on_bad_rows: str = "error",
            dtype: Optional[str] = None, flavor: str = "arrow", columns: str = "stack",
            input_shapes: Any = None) -> LuaUDF:
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

    Returns
    -------
    LuaUDF
        Call it with columns to get a Column, or register it for SQL.

    Examples
    --------
    >>> script = LuaScript("function double(x) return x * 2 end")     # doctest: +SKIP
    >>> f = lua_udf(script, "double", "float")                         # doctest: +SKIP
    >>> df.select(f("value").alias("doubled"))                          # doctest: +SKIP
    """
    if not isinstance(script, LuaScript):
        raise TypeError(f"script must be a LuaScript, not {type(script).__name__}")
    _check_function_name(function, "function")
    dtype = _check_options(batch_size, on_bad_rows, dtype)
    if flavor not in _FLAVORS:
        raise ValueError(f"flavor must be one of {_FLAVORS}, not {flavor!r}")
    _check_columns_option(columns)
    shapes = _check_shapes(input_shapes)
    script.check(function)
    udf = LuaUDF(script, function, return_type, batch_size=batch_size, on_bad_rows=on_bad_rows,
                 dtype=dtype, flavor=flavor, columns=columns, input_shapes=shapes)
    from pyspark import SparkContext

    if isinstance(return_type, str) and SparkContext._active_spark_context is None:
        return udf   # parsed when first called, with a session
    udf._resolve()
    return udf


def lua_pandas_udf(script: LuaScript, function: str, return_type: Any, *,
                   batch_size: Optional[int] = None, on_bad_rows: str = "error",
                   dtype: Optional[str] = None, columns: str = "stack",
                   input_shapes: Any = None) -> LuaUDF:
    """:func:`lua_udf` with ``flavor='pandas'`` (a ``pandas_udf`` over iterators of Series).

    Examples
    --------
    >>> f = lua_pandas_udf(script, "double", "float")                  # doctest: +SKIP
    """
    return lua_udf(script, function, return_type, batch_size=batch_size,
                   on_bad_rows=on_bad_rows, dtype=dtype, flavor="pandas", columns=columns,
                   input_shapes=input_shapes)


def register(spark: Any, name: str, script: LuaScript, function: str, return_type: Any,
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
    >>> register(spark, "double_it", script, "double", "double")       # doctest: +SKIP
    >>> spark.sql("SELECT double_it(CAST(id AS DOUBLE)) AS y FROM range(3)")  # doctest: +SKIP
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, not {name!r}")
    udf = lua_udf(script, function, return_type, **options)
    return spark.udf.register(name, udf)


# ---------------------------------------------------------------------------
# score: mapInArrow with passthrough columns
# ---------------------------------------------------------------------------
def _score_partition(runner: _Runner, in_cols: List[str], keep_cols: List[str],
                     out_fields: List[pa.Field], schema: pa.Schema):
    def convert(result: Any, n: int, keep: Optional[np.ndarray], where: str) -> List[pa.Array]:
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
        pending: List[pa.RecordBatch] = []

        def columns():
            for rb in batches:
                pending.append(rb)
                yield [rb.column(c) for c in in_cols]

        # score_batches may split a record batch; line the outputs up with slices of it
        offset = 0
        for out_cols in runner.score_batches(columns(), convert):
            rb = pending[0]
            n = len(out_cols[0]) if out_cols else 0
            kept = [rb.column(c).slice(offset, n) for c in keep_cols]
            yield pa.RecordBatch.from_arrays(kept + list(out_cols), schema=schema)
            offset += n
            if offset >= rb.num_rows:
                pending.pop(0)
                offset = 0
    return run


def score(df: Any, script: LuaScript, function: str, input_cols: Union[str, Sequence[str]],
          output_schema: Any, *, batch_size: Optional[int] = None,
          keep: Optional[Sequence[str]] = None, on_bad_rows: str = "error",
          dtype: Optional[str] = None, columns: str = "stack", input_shapes: Any = None) -> Any:
    """Score a DataFrame with a Lua function through ``mapInArrow``.

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
    on_bad_rows, dtype, columns, input_shapes
        As in :func:`lua_udf`; here the column types and the declared shapes
        are checked on the driver against the DataFrame's schema.

    Returns
    -------
    pyspark.sql.DataFrame
        ``keep`` columns followed by the output columns.

    Examples
    --------
    >>> out = score(df, script, "predict", ["x1", "x2"], "prediction float",
    ...             keep=["id"])                                        # doctest: +SKIP
    """
    from pyspark.sql.types import StructField, StructType

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
    script.check(function)
    result_schema = StructType([fields[c] for c in keep_cols] + list(out.fields))
    # Arrow schema of the output batches, as Spark expects them
    arrow_schema = pa.schema([pa.field(f.name, _arrow_type(f.dataType), nullable=True)
                              for f in result_schema.fields])
    out_fields = [arrow_schema.field(f.name) for f in out.fields]
    handle = script._ship(df.sparkSession.sparkContext)
    runner = _Runner(handle, function, in_cols, np_dtype, batch_size, on_bad_rows,
                     columns=columns, shapes=shapes)
    fn = _score_partition(runner, in_cols, keep_cols, out_fields, arrow_schema)
    result_schema = StructType([StructField(f.name, f.dataType, True) for f in result_schema.fields])
    return df.mapInArrow(fn, result_schema)


# ---------------------------------------------------------------------------
# map_partitions: plain RDDs
# ---------------------------------------------------------------------------
def _py_value(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, np.generic):
        return x.item()
    return x


def _rows_to_python(result: Any, n: int, where: str, function: str) -> List[Any]:
    what = f"the result of Lua function {function!r} on {where}"
    if isinstance(result, dict):
        cols = {k: _rows_to_python(v, n, where, function) for k, v in result.items()}
        return [{k: cols[k][i] for k in cols} for i in range(n)]
    if not isinstance(result, np.ndarray):
        raise LuaResultError(f"{what} should be a tensor of {n} rows, got {_shape_text(result)}")
    if result.ndim == 0 or result.shape[0] != n:
        rows = result.shape[0] if result.ndim else "no"
        raise LuaResultError(f"{what} has {rows} rows for a batch of {n} rows "
                             f"(got {_shape_text(result)}); the function must return one row per "
                             "input row")
    copy = np.array(result, copy=True)
    return [_py_value(v) for v in copy]


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
                entry = runner.handle.entry()
            result = runner._call(entry, [x], where)
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
        return _rdd_rows(runner, it, index)
    return run


def map_partitions(rdd: Any, script: LuaScript, function: str, *,
                   batch_size: int = 1024, on_bad_rows: str = "error",
                   dtype: Optional[str] = None) -> Any:
    """Score an RDD with a Lua function, batch by batch, in ``mapPartitions``.

    Each element is a sequence of numbers (list, tuple, ndarray, ``Row`` or
    dict of numbers); ``batch_size`` of them are stacked into one ``[N, C]``
    tensor (float32 unless ``dtype`` says otherwise) and passed to the Lua
    function. Each input element gives one output element: a float for a
    result ``[N]``, a list for ``[N, K]``, a dict for a table of tensors, or
    None for a bad row under ``on_bad_rows='null'``.

    Examples
    --------
    >>> rdd = spark.sparkContext.parallelize([[1.0, 2.0], [3.0, 4.0]])  # doctest: +SKIP
    >>> map_partitions(rdd, script, "total").collect()                  # doctest: +SKIP
    [3.0, 7.0]
    """
    if not isinstance(script, LuaScript):
        raise TypeError(f"script must be a LuaScript, not {type(script).__name__}")
    _check_function_name(function, "function")
    np_dtype = _check_options(batch_size, on_bad_rows, dtype)
    if batch_size is None:
        raise ValueError("batch_size must be a positive int")
    script.check(function)
    handle = script._ship(rdd.context)
    runner = _Runner(handle, function, ["row"], np_dtype, batch_size, on_bad_rows)
    return rdd.mapPartitionsWithIndex(_map_partitions_fn(runner))


# ---------------------------------------------------------------------------
# files in, files out: the logic of jobs/score.py
# ---------------------------------------------------------------------------
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


_default_worker_python()


def _package_root() -> str:
    import sparktorch7

    return os.path.dirname(os.path.dirname(os.path.abspath(sparktorch7.__file__)))


def local_session(master: Optional[str] = None, *, app_name: str = "sparktorch7",
                  conf: Optional[Mapping[str, str]] = None) -> Any:
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
    >>> spark = local_session("local[2]")                               # doctest: +SKIP
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

    def __init__(self, sc: Any, every: float = 3.0) -> None:
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


def _read_any(spark: Any, path: str) -> Any:
    low = path.rstrip("/").lower()
    if low.endswith(".csv"):
        return spark.read.csv(path, header=True, inferSchema=True)
    if low.endswith(".json") or low.endswith(".jsonl"):
        return spark.read.json(path)
    return spark.read.parquet(path)


def _write_any(df: Any, path: str, fmt: Optional[str] = None) -> None:
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


def _job_inputs(input_path: str, script_path: str, files: Sequence[str]) -> List[Tuple[str, str]]:
    return ([("input table", input_path), ("script", script_path)]
            + [("shipped file", f) for f in files])


def score_files(input_path: str, output_path: str, script_path: str, function: str, *,
                features: Optional[Sequence[str]] = None, features_col: Optional[str] = None,
                files: Sequence[str] = (), init: Optional[str] = None,
                lua_path: Sequence[str] = (), batch_size: Optional[int] = None, output_col: str = "prediction",
                output_type: str = "array<float>", keep: Optional[Sequence[str]] = None,
                on_bad_rows: str = "error", mode: str = "error", master: Optional[str] = None,
                spark: Any = None) -> Dict[str, Any]:
    """Read a table (Parquet, or CSV/JSON by extension), score it with a Lua
    function and write the result the same way; the logic of ``jobs/score.py``.

    Either ``features`` (numeric columns stacked into one ``[N, C]`` tensor)
    or ``features_col`` (an array column, one ``[N, D]`` tensor). The output
    holds the ``keep`` columns (default: every input column except the
    features) and ``output_col`` of type ``output_type``. Returns the figures
    it logs: rows, seconds, rows_per_s, lua_states.

    The output is never one of the inputs: an ``output_path`` that is, is
    inside or contains ``input_path``, ``script_path`` or one of ``files``
    (compared after resolving: absolute, ``file:`` URIs, symlinks, trailing
    slashes) raises :class:`~sparktorch7._paths.PathOverlapError` (a
    ``ValueError``) before anything is written. ``mode`` is Spark's save mode:
    ``"error"`` (default) refuses an existing output
    (:class:`~sparktorch7._paths.OutputExistsError`, a ``FileExistsError``),
    ``"overwrite"`` replaces it, ``"append"`` adds part files to it. Spark
    writes into a hidden sibling of ``output_path`` that is renamed into place
    only when the whole write succeeded: a failed job leaves no partial output,
    and an old output replaced by ``"overwrite"`` stays intact until then.

    Examples
    --------
    >>> score_files("in.parquet", "out.parquet", "mlp.lua", "predict",
    ...             features_col="features", files=["mlp_weights.bin"])  # doctest: +SKIP
    """
    from sparktorch7 import _paths

    if (features is None) == (features_col is None):
        raise ValueError("give exactly one of features (numeric columns) or features_col (an array column)")
    _paths.check_mode(mode)
    inputs = _job_inputs(input_path, script_path, list(files))
    _paths.check_paths(output_path, inputs)        # before a session: fail fast
    in_cols = list(features) if features is not None else [features_col]
    spark = spark or local_session(master, app_name=f"sparktorch7-score-{os.path.basename(script_path)}")
    fs = _paths.HadoopFS(spark)
    _paths.check_paths(output_path, inputs, qualify=fs.qualify)   # as the file system sees them
    if mode == "error" and fs.exists(output_path):
        raise _paths.OutputExistsError(_paths._exists_message(output_path))
    script = LuaScript.from_file(script_path, files=list(files), init=init, lua_path=list(lua_path))
    df = _read_any(spark, input_path)
    if keep is None:
        keep = [c for c in df.columns if c not in in_cols]
    _log.info("scoring %s with %s:%s (inputs %s) -> %s (mode %s)", input_path, script_path,
              function, in_cols, output_path, mode)
    out = score(df, script, function, in_cols, f"`{output_col}` {output_type}", keep=list(keep),
                batch_size=batch_size, on_bad_rows=on_bad_rows)
    t0 = time.perf_counter()
    with _Progress(spark.sparkContext), short_errors():
        fmt = _format_of(output_path)
        _paths.write_atomically(lambda tmp: _write_any(out, tmp, fmt), output_path, mode, fs)
    seconds = time.perf_counter() - t0
    rows = script.rows_scored
    stats = {"rows": rows, "seconds": seconds, "rows_per_s": rows / seconds if seconds > 0 else 0.0,
             "lua_states": script.states_created}
    _log.info("scored %d rows in %.1f s (%.0f rows/s); Lua states created: %d", rows, seconds,
              stats["rows_per_s"], stats["lua_states"])
    return stats
