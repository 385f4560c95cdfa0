"""The Arrow <-> tensor codec of the Spark layer (runs on the workers).

Arrow (or pandas) columns of one batch become the tensor arguments of a Lua
call (:class:`_Feeder`), and the Lua results become Arrow arrays
(:func:`_to_arrow`) or Python values (:func:`_rows_to_python`). This module
imports no pyspark: it knows Arrow types, numpy and the declared shapes only.
The rules are described in :mod:`sparktorch7.udf`.
"""
from __future__ import annotations

from typing import Any, Iterable, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import pyarrow as pa

from sparktorch7.errors import BadRowsError, LuaResultError  # (defined there; old imports work)


# numpy dtypes a torch tensor can share memory with (DoubleTensor ... ByteTensor)
_TORCH_DTYPES = {np.dtype(t) for t in ("float64", "float32", "int64", "int32", "int16", "int8",
                                       "uint8")}


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
# pandas <-> Arrow, results -> Python values
# ---------------------------------------------------------------------------
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

