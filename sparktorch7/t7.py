"""Torch7 ``.t7`` files as Python values: :func:`load_t7` and :func:`save_t7`.

Both go through the one reader and writer of the embedded runtime
(``lua/torch/serialization.lua``), in a fresh :class:`LuaState` per call. Values map as

==========================  =====================================================
Torch7 / Lua                Python
==========================  =====================================================
number                      ``int`` when integral, else ``float``
string                      ``str`` (UTF-8), ``bytes`` when not valid UTF-8
boolean, nil                ``bool``, ``None``
table                       ``dict`` (keys as Python values; see :class:`TableKey`)
``tds.Hash``, ``tds.Vec``   ``dict``
tensor                      ``numpy.ndarray`` (a view of its storage's array)
storage                     1-D ``numpy.ndarray``
other torch object          :class:`TorchObject` (a dict of its fields)
Lua function                ``TorchObject('torch.SerializedFunction')``, inert
==========================  =====================================================

Objects referenced several times in a file (shared or cyclic) come back as the same Python
object, and tensors that share a storage share memory. An empty Torch7 tensor (no
dimensions) becomes an array of shape ``(0,)``.
"""
from __future__ import annotations

import os
import re
from typing import Any

import numpy as np

from sparktorch7._lua import LuaState

__all__ = ["TorchObject", "TableKey", "load_t7", "save_t7"]

_FORMATS = ("binary", "ascii", "b32", "b64")
_TAG_NUMBER, _TAG_STRING, _TAG_BOOLEAN, _TAG_REF = 1, 2, 3, 4
_TENSOR_CLASS = re.compile(r"^torch\.\w*(Tensor|Storage)$")

# numpy dtype -> Torch7 element type (what save_t7 writes)
_DTYPES = {
    np.dtype(np.float64): "Double",
    np.dtype(np.float32): "Float",
    np.dtype(np.int64): "Long",
    np.dtype(np.int32): "Int",
    np.dtype(np.int16): "Short",
    np.dtype(np.int8): "Char",
    np.dtype(np.uint8): "Byte",
}
# dtypes written as the nearest Torch7 type that holds every value
_WIDEN = {
    np.dtype(np.bool_): np.uint8,
    np.dtype(np.float16): np.float32,
    np.dtype(np.uint16): np.int32,
    np.dtype(np.uint32): np.int64,
}


class TorchObject(dict):
    """An object of a Torch7 class (``nn.Linear``, ...): a dict of its fields, with the
    class name in ``torch_typename``.

    >>> m = TorchObject("nn.Identity", train=True)
    >>> m.torch_typename, m["train"]
    ('nn.Identity', True)
    """

    __slots__ = ("torch_typename",)

    def __init__(self, torch_typename: str, *args: Any, **fields: Any) -> None:
        if not isinstance(torch_typename, str) or not torch_typename:
            raise TypeError(f"TorchObject needs a class name (str), got {torch_typename!r}")
        dict.__init__(self, *args, **fields)
        self.torch_typename = torch_typename

    def __repr__(self) -> str:
        return f"TorchObject({self.torch_typename!r}, {dict.__repr__(self)})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TorchObject):
            return self.torch_typename == other.torch_typename and dict.__eq__(self, other)
        return NotImplemented if not isinstance(other, dict) else False

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self):
        return (TorchObject, (self.torch_typename, dict(self)))


class TableKey:
    """A table (dict, TorchObject or array) used as a key of a Lua table.

    Python dicts cannot be dict keys, so such a key comes back wrapped: ``key.value`` is the
    object itself (the same Python object as everywhere else in the result), and keys
    compare and hash by that object's identity. The fixture ``recursive_kv_table.t7``
    (a table ``t`` with ``t[t] = t``) loads as ``d`` with ``d == {TableKey(d): d}``.
    ``save_t7`` writes a ``TableKey`` back as the table it wraps.
    """

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TableKey) and other.value is self.value

    def __hash__(self) -> int:
        return id(self.value)

    def __repr__(self) -> str:
        v = self.value
        kind = getattr(v, "torch_typename", None) or type(v).__name__
        return f"TableKey(<{kind} at {id(v):#x}>)"


def _check_format(format: str | None, *, allow_none: bool) -> None:
    if format is None and allow_none:
        return
    if format not in _FORMATS:
        raise ValueError(f"format must be one of {_FORMATS}{' or None' if allow_none else ''}, got {format!r}")


def _new_state(entry: str) -> tuple[LuaState, Any]:
    """A fresh state (strings as bytes, sequences as lists) and one function of
    torch/serialization.lua."""
    state = LuaState(encoding=None, tables="list")
    state.execute("require('torch')", name="=sparktorch7.t7")
    entry_of = state.eval("function(name) return require('torch.serialization')[name] end",
                          name="=sparktorch7.t7")
    return state, entry_of(entry)


# ---------------------------------------------------------------------- load
def load_t7(path_or_bytes: str | os.PathLike | bytes | bytearray | memoryview, *,
            allow_functions: bool = False, format: str | None = None) -> Any:
    """Read a Torch7 file (a path, or the bytes of one) into Python values.

    Parameters
    ----------
    path_or_bytes
        A file path, or the contents of a file (``bytes``, e.g. from ``torch.serialize``).
    allow_functions
        Lua functions stored in the file are bytecode, which LuaJIT loads without any
        verification: by default they come back as inert
        ``TorchObject('torch.SerializedFunction')`` holding ``bytecode`` and ``upvalues``.
        With ``True`` (only for files you trust) they are loaded and returned as callable
        :class:`LuaFunction` objects; bytecode from another LuaJIT version raises
        :class:`LuaError`.
    format
        ``'binary'``, ``'ascii'``, ``'b32'`` (binary, 4-byte longs) or ``'b64'``; ``None``
        (default) detects ASCII vs binary and 8- vs 4-byte longs.

    Returns
    -------
    The stored value: see the module docstring for the mapping. Objects of every class
    (``nn.*`` and others) come back as :class:`TorchObject`, whether or not the class is
    defined anywhere.

    Raises
    ------
    T7FormatError
        The file is truncated or corrupt; the message names the byte offset.

    Examples
    --------
    >>> import sparktorch7 as st
    >>> st.load_t7(st.save_t7({"hello": 123}, None))
    {'hello': 123}
    """
    _check_format(format, allow_none=True)
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        source, is_bytes = bytes(path_or_bytes), True
    else:
        source, is_bytes = os.fspath(path_or_bytes), False
        if isinstance(source, bytes):
            source = os.fsdecode(source)
        if not os.path.exists(source):
            raise FileNotFoundError(f"no such .t7 file: {source!r}")
        if os.path.isdir(source):
            raise IsADirectoryError(f"a .t7 file is expected, got the directory {source!r}")
    # The state is not closed: the arrays returned are views of its storages (no copy),
    # and it lives as long as they do.
    _state, load_flat = _new_state("loadFlat")
    opts = {"allow_functions": bool(allow_functions), "raw": True}
    rtag, rval, nodes = load_flat(source, is_bytes, format, opts)
    return _build(rtag, rval, nodes)


def _text(b):
    if isinstance(b, bytes):
        try:
            return b.decode("utf-8")
        except UnicodeDecodeError:
            return b
    return b


def _build(rtag, rval, nodes):
    n = len(nodes)
    objs: list[Any] = [None] * (n + 1)
    # storages first, then the tensors viewing them, then empty containers, then fill
    for i, node in enumerate(nodes, 1):
        if node[0] == b"s":
            arr = node[2]
            if not isinstance(arr, np.ndarray):
                raise TypeError(f"internal: a storage came back as {type(arr).__name__}")
            objs[i] = arr
    for i, node in enumerate(nodes, 1):
        kind = node[0]
        if kind == b"T":
            objs[i] = _tensor(node, objs)
        elif kind == b"t":
            objs[i] = {}
        elif kind == b"o":
            objs[i] = TorchObject(_text(node[1]))
        elif kind == b"F":
            objs[i] = node[2]

    def dec(tag, v, key=False):
        if tag == _TAG_REF:
            obj = objs[v]
            if key and (isinstance(obj, (dict, np.ndarray)) or obj is None):
                return TableKey(obj)
            return obj
        if tag == _TAG_STRING:
            return _text(v)
        return v

    for i, node in enumerate(nodes, 1):
        if node[0] in (b"t", b"o"):
            obj, items = objs[i], node[2]
            serialized_fn = node[0] == b"o" and obj.torch_typename == "torch.SerializedFunction"
            for j in range(0, len(items), 4):
                k = dec(items[j], items[j + 1], key=True)
                if serialized_fn and k == "bytecode":
                    obj[k] = items[j + 3]  # always bytes
                else:
                    obj[k] = dec(items[j + 2], items[j + 3])
    return dec(rtag, rval)


def _tensor(node, objs):
    _, _tn, sid, offset, sizes, strides = node
    if sid == 0 or objs[sid] is None:
        base = np.empty(0, dtype=np.float64)
    else:
        base = objs[sid]
    if len(sizes) == 0 or 0 in sizes:
        return np.empty(tuple(sizes) if sizes else (0,), dtype=base.dtype)
    item = base.itemsize
    shape = tuple(int(s) for s in sizes)
    strides = tuple(int(s) * item for s in strides)
    # the reader checked that the view stays inside the storage; a view made with
    # np.ndarray(buffer=) keeps the storage array as its .base, so save_t7 finds the sharing
    try:
        return np.ndarray(shape, dtype=base.dtype, buffer=base, offset=int(offset) * item, strides=strides)
    except (ValueError, TypeError):
        return np.lib.stride_tricks.as_strided(base[offset:], shape=shape, strides=strides)


# ---------------------------------------------------------------------- save
def save_t7(obj: Any, path: str | os.PathLike | None, *, format: str = "binary") -> bytes | None:
    """Write Python values as a Torch7 file that ``torch.load`` and :func:`load_t7` read.

    Parameters
    ----------
    obj
        ``dict``, ``list``/``tuple`` (a table with keys 1..n), ``numpy.ndarray`` (a tensor
        of the matching type; bool as Byte, float16 as Float), numbers, ``str``, ``bytes``,
        ``bool``, ``None``, :class:`TorchObject` (an object of its class) and
        :class:`TableKey` keys. Objects that appear several times, and cycles, are written
        once and come back shared. ``None`` values in dicts and lists are left out, as in Lua.
    path
        The file to write, or ``None`` to return the bytes instead.
    format
        ``'binary'`` (default), ``'ascii'``, ``'b32'`` (binary with 4-byte longs) or ``'b64'``.

    Examples
    --------
    >>> import numpy as np, sparktorch7 as st
    >>> data = st.save_t7({"w": np.eye(2, dtype=np.float32)}, None)
    >>> st.load_t7(data)["w"].dtype
    dtype('float32')
    """
    _check_format(format, allow_none=False)
    if path is not None:
        path = os.fsdecode(os.fspath(path))
        folder = os.path.dirname(path) or "."
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"cannot write {path!r}: no such directory {folder!r}")
    rtag, rval, nodes, keep = _flatten(obj)
    state, save_flat = _new_state("saveFlat")
    try:
        out = save_flat(path, format, rtag, rval, nodes)
    finally:
        state.close()
        del keep
    return out


def _path(where) -> str:
    """A readable path from the lazy (parent, key) chain _flatten keeps for error messages."""
    parts = []
    while where is not None:
        where, key = where
        parts.append(f".{key}" if isinstance(key, (str, int)) else ("[key]" if key is not None else ""))
    return "<root>" + "".join(reversed(parts))


def _flatten(root):
    ids: dict[Any, int] = {}
    nodes: list[list] = []
    keep: list[Any] = []          # every object whose id() is in ids stays alive
    queue: list[tuple[int, Any, Any]] = []

    def ref(o, where):
        i = ids.get(id(o))
        if i is None:
            keep.append(o)
            nodes.append(None)
            i = len(nodes)
            ids[id(o)] = i
            queue.append((i, o, where))
        return _TAG_REF, i

    def enc(v, where, key=False):
        t = type(v)
        # the common cases first, by exact type
        if t is float:
            if key and v != v:
                raise ValueError(f"NaN cannot be a Lua table key (at {_path(where)})")
            return _TAG_NUMBER, v
        if t is int:
            return _TAG_NUMBER, v
        if t is str:
            return _TAG_STRING, v
        if t is bool:
            return _TAG_BOOLEAN, v
        if t is dict or t is list or t is tuple or t is TorchObject or t is np.ndarray:
            return ref(v, where)
        if isinstance(v, TableKey):
            if not key:
                raise TypeError(f"a TableKey may only be a dict key, found one at {_path(where)}")
            return enc(v.value, where, key)
        if v is None:
            raise TypeError(f"None cannot be a Lua table key (at {_path(where)})")
        if isinstance(v, (bool, np.bool_)):
            return _TAG_BOOLEAN, bool(v)
        if isinstance(v, (int, np.integer)):
            return _TAG_NUMBER, int(v)
        if isinstance(v, (float, np.floating)):
            return enc(float(v), where, key)
        if isinstance(v, str):
            return _TAG_STRING, str(v)
        if isinstance(v, (bytes, bytearray, memoryview)):
            return _TAG_STRING, bytes(v)
        if isinstance(v, (dict, list, tuple, np.ndarray)):
            return ref(v, where)
        raise TypeError(f"save_t7 cannot write a {type(v).__name__} (at {_path(where)}): use dict, list, "
                        f"tuple, TorchObject, numpy.ndarray, numbers, str, bytes, bool or None")

    def storage_id(flat_root):
        # one storage node per root array: every view of it shares the storage in the file
        key = ("storage", id(flat_root.base if flat_root.base is not None else flat_root))
        i = ids.get(key)
        if i is None:
            keep.append(flat_root)
            nodes.append(["S", False, flat_root])
            i = len(nodes)
            ids[key] = i
        return i

    if root is None:
        rtag, rval = 0, None
    else:
        rtag, rval = enc(root, None)
    pos = 0
    while pos < len(queue):
        i, o, where = queue[pos]
        pos += 1
        if isinstance(o, np.ndarray):
            nodes[i - 1] = _array_node(o, _path(where), storage_id)
            continue
        items: list[Any] = []
        append = items.append
        pairs = o.items() if isinstance(o, dict) else enumerate(o, 1)
        for k, v in pairs:
            if v is None:
                continue
            here = (where, k)
            kt, kv = enc(k, here, True)
            vt, vv = enc(v, here)
            append(kt)
            append(kv)
            append(vt)
            append(vv)
        if isinstance(o, TorchObject):
            if _TENSOR_CLASS.match(o.torch_typename):
                raise ValueError(f"a TorchObject cannot be a {o.torch_typename} (at {_path(where)}): "
                                 "pass a numpy.ndarray for a tensor")
            nodes[i - 1] = ["o", o.torch_typename, items]
        else:
            nodes[i - 1] = ["t", False, items]
    return rtag, rval, nodes, keep


def _array_node(a: np.ndarray, what: str, storage_id) -> list:
    """A tensor node: a view of its root array's storage when the memory allows it (so that
    arrays sharing memory share a storage in the file), else a contiguous copy."""
    root = a
    while isinstance(root.base, np.ndarray):
        root = root.base
    item = a.itemsize
    if (a.ndim > 0 and a.size > 0 and a.dtype in _DTYPES and a.dtype.isnative and root.dtype == a.dtype
            and root.flags.c_contiguous and root.size > 0):
        delta = a.__array_interface__["data"][0] - root.__array_interface__["data"][0]
        # (negative strides are copied: Torch7 itself never writes them)
        if delta % item == 0 and all(st % item == 0 and st >= 0 for st in a.strides):
            offset = delta // item
            strides = [st // item for st in a.strides]
            hi = offset + sum((n - 1) * st for n, st in zip(a.shape, strides))
            if 0 <= offset and hi < root.size:
                sid = storage_id(root.reshape(-1))
                return ["V", False, sid, offset, list(a.shape), strides]
    return ["T", False, _tensor_for_save(a, what)]


def _tensor_for_save(a: np.ndarray, what: str) -> np.ndarray:
    dt = a.dtype
    if dt.byteorder not in ("=", "|") and dt.newbyteorder("=") != dt:
        a = a.astype(dt.newbyteorder("="))
        dt = a.dtype
    if dt in _WIDEN:
        a = a.astype(_WIDEN[dt])
    elif dt not in _DTYPES:
        raise TypeError(f"save_t7 cannot write an array of dtype {dt} (at {what}): Torch7 tensors hold "
                        "float64, float32, int64, int32, int16, int8 or uint8")
    if a.ndim == 0:
        a = a.reshape(1)
    if a.ndim > 32:
        raise ValueError(f"save_t7 cannot write an array of {a.ndim} dimensions (at {what})")
    return np.ascontiguousarray(a)
