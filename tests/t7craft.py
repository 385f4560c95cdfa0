"""A small, independent writer (and reader) of binary Torch7 files, for attack tests.

It writes whatever it is given, valid or not: storages whose declared size disagrees
with their data, tensors with any sizes, strides and offset, torch objects of any class
name with any field table, references to any object index. It shares no code with
sparktorch7 (struct only), so the tests do not trust the reader they attack.

Values (``dumps``):
    None, bool, int/float (a Lua number), str/bytes (a Lua string), dict or ``Table``
    (a table), ``Obj`` (a torch object), ``Storage``, ``Tensor``, ``Ref`` (an index only),
    ``Raw`` (bytes written as they are).
The same Python object written twice is written once and then referenced by its index,
as Torch7 does, so shared and cyclic structures can be built.

``loads`` parses a binary file into the same model (tables as ``Table``, objects as
``Obj``, tensors and storages as ``Tensor``/``Storage`` with their raw bytes), so tests
can mutate the fields of real fixtures and write them back.
"""
from __future__ import annotations

import struct

TAG_NIL, TAG_NUMBER, TAG_STRING, TAG_TABLE, TAG_TORCH, TAG_BOOLEAN = 0, 1, 2, 3, 4, 5
TAG_FUNCTION, TAG_LEGACY_RECUR, TAG_RECUR = 6, 7, 8

# element struct format of each storage class (CUDA names as their CPU twin)
_ELEM = {"Double": "d", "Float": "f", "Long": "q", "Int": "i", "Short": "h", "Char": "b", "Byte": "B",
         "Half": "e", "Cuda": "f", "CudaHalf": "e"}


def elem_format(typename: str) -> str:
    """The struct format of one element of ``torch.<T>Storage``/``Tensor`` (``CudaTensor`` as Float)."""
    core = typename.split(".", 1)[-1]
    for suffix in ("Storage", "Tensor"):
        if core.endswith(suffix):
            core = core[: -len(suffix)]
    if core in _ELEM:
        return _ELEM[core]
    if core.startswith("Cuda") and core[4:] in _ELEM:
        return _ELEM[core[4:]]
    raise ValueError(f"no element type for {typename!r}")


class Table:
    """A Lua table as an ordered list of (key, value) pairs (keys of any kind, even tables)."""

    def __init__(self, pairs=None):
        self.pairs = list(pairs.items()) if isinstance(pairs, dict) else list(pairs or [])

    def get(self, key, default=None):
        for k, v in self.pairs:
            if k == key and type(k) is type(key):
                return v
        return default

    def set(self, key, value):
        for i, (k, _) in enumerate(self.pairs):
            if k == key and type(k) is type(key):
                self.pairs[i] = (k, value)
                return
        self.pairs.append((key, value))

    def delete(self, key):
        self.pairs = [(k, v) for k, v in self.pairs if not (k == key and type(k) is type(key))]

    def keys(self):
        return [k for k, _ in self.pairs]


class Obj:
    """A torch object: class name, version and either a field value (normally a Table)
    written with writeObject, or ``body`` bytes written raw after the class name."""

    def __init__(self, typename, fields=None, version=1, body=None):
        self.typename = typename
        self.fields = Table() if fields is None and body is None else (
            Table(fields) if isinstance(fields, dict) else fields)
        self.version = version
        self.body = body


class Storage:
    """``torch.<T>Storage``: ``data`` raw element bytes (or ``values``, packed with the
    class's element type); ``size`` the count written, by default the true one."""

    def __init__(self, typename, values=None, *, data=None, size=None):
        self.typename = typename
        if data is None:
            fmt = elem_format(typename)
            values = list(values or [])
            data = struct.pack(f"<{len(values)}{fmt}", *values)
        self.data = bytes(data)
        self.size = size

    def count(self):
        return len(self.data) // struct.calcsize("<" + elem_format(self.typename))


class Tensor:
    """``torch.<T>Tensor``: sizes, strides, 1-based storage offset and a storage (a
    ``Storage``, ``None`` for nil, or any other value to forge one). ``ndim`` overrides the
    dimension count written (sizes and strides are written as given)."""

    def __init__(self, typename, sizes, strides=None, offset=1, storage=None, ndim=None):
        self.typename = typename
        self.sizes = list(sizes)
        if strides is None:
            strides, acc = [], 1
            for s in reversed(self.sizes):
                strides.insert(0, acc)
                acc *= max(s, 1)
        self.strides = list(strides)
        self.offset = offset
        self.storage = storage
        self.ndim = ndim


class Ref:
    """Only a tag and an object index: a reference to whatever the reader memoized there."""

    def __init__(self, index, tag=TAG_TABLE):
        self.index = index
        self.tag = tag


class Raw:
    def __init__(self, data: bytes):
        self.data = bytes(data)


class Function:
    """A stored Lua function (tag 8): bytecode bytes and an upvalue value."""

    def __init__(self, bytecode: bytes, upvalues=None, tag=TAG_RECUR):
        self.bytecode = bytes(bytecode)
        self.upvalues = upvalues
        self.tag = tag


# ---------------------------------------------------------------------- writing
def _wrap_long(v):
    """An int64 as written: values beyond int64 wrap (a forged file may hold any 8 bytes)."""
    return ((int(v) + 2 ** 63) % 2 ** 64) - 2 ** 63


class Writer:
    def __init__(self, long_size: int = 8):
        self.out = bytearray()
        self.ids: dict[int, int] = {}
        self.keep: list = []
        self.long_size = long_size
        self.n = 0

    def int(self, v):
        self.out += struct.pack("<i", ((int(v) + 2 ** 31) % 2 ** 32) - 2 ** 31)

    def long(self, v):
        if self.long_size == 4:
            self.int(v)
        else:
            self.out += struct.pack("<q", _wrap_long(v))

    def double(self, v):
        self.out += struct.pack("<d", v)

    def string_body(self, s):
        b = s.encode() if isinstance(s, str) else bytes(s)
        self.int(len(b))
        self.out += b

    def _index(self, obj):
        """(index, seen): a new index for obj, or the one it was written under."""
        key = id(obj)
        if key in self.ids:
            return self.ids[key], True
        self.n += 1
        self.ids[key] = self.n
        self.keep.append(obj)
        return self.n, False

    def value(self, v):
        if v is None:
            self.int(TAG_NIL)
        elif isinstance(v, bool):
            self.int(TAG_BOOLEAN)
            self.int(1 if v else 0)
        elif isinstance(v, (int, float)):
            self.int(TAG_NUMBER)
            self.double(float(v))
        elif isinstance(v, (str, bytes)):
            self.int(TAG_STRING)
            self.string_body(v)
        elif isinstance(v, Raw):
            self.out += v.data
        elif isinstance(v, Ref):
            self.int(v.tag)
            self.int(v.index)
        elif isinstance(v, (dict, Table)):
            self.int(TAG_TABLE)
            i, seen = self._index(v)
            self.int(i)
            if seen:
                return
            pairs = list(v.items()) if isinstance(v, dict) else v.pairs
            self.int(len(pairs))
            for k, x in pairs:
                self.value(k)
                self.value(x)
        elif isinstance(v, Function):
            self.int(v.tag)
            i, seen = self._index(v)
            self.int(i)
            if seen:
                return
            self.int(len(v.bytecode))
            self.out += v.bytecode
            self.value(v.upvalues)
        elif isinstance(v, (Obj, Storage, Tensor)):
            self.int(TAG_TORCH)
            i, seen = self._index(v)
            self.int(i)
            if seen:
                return
            version = getattr(v, "version", 1)
            self.string_body(f"V {version}")
            self.string_body(v.typename)
            if isinstance(v, Storage):
                self.long(v.count() if v.size is None else v.size)
                self.out += v.data
            elif isinstance(v, Tensor):
                self.int(len(v.sizes) if v.ndim is None else v.ndim)
                for s in v.sizes:
                    self.long(s)
                for s in v.strides:
                    self.long(s)
                self.long(v.offset)
                self.value(v.storage)
            elif v.body is not None:
                self.out += v.body
            else:
                self.value(v.fields)
        else:
            raise TypeError(f"t7craft cannot write a {type(v).__name__}")


def dumps(value, *, long_size: int = 8) -> bytes:
    """The bytes of a binary Torch7 file holding ``value`` (see the module docstring)."""
    w = Writer(long_size)
    w.value(value)
    return bytes(w.out)


# ---------------------------------------------------------------------- reading
class _Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0
        self.memo: dict[int, object] = {}

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError(f"t7craft: truncated at {self.pos}")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def int(self):
        return struct.unpack("<i", self.take(4))[0]

    def long(self):
        return struct.unpack("<q", self.take(8))[0]

    def string(self):
        return self.take(self.int())

    def value(self):
        tag = self.int()
        if tag == TAG_NIL:
            return None
        if tag == TAG_NUMBER:
            v = struct.unpack("<d", self.take(8))[0]
            return int(v) if v == int(v) and abs(v) < 2 ** 53 else v
        if tag == TAG_BOOLEAN:
            return self.int() == 1
        if tag == TAG_STRING:
            b = self.string()
            try:
                return b.decode()
            except UnicodeDecodeError:
                return b
        index = self.int()
        if index in self.memo:
            return self.memo[index]
        if tag == TAG_TABLE:
            t = Table()
            self.memo[index] = t
            for _ in range(self.int()):
                k = self.value()
                t.pairs.append((k, self.value()))
            return t
        if tag in (TAG_RECUR, TAG_LEGACY_RECUR):
            f = Function(b"", None, tag)
            self.memo[index] = f
            f.bytecode = self.string()
            f.upvalues = self.value()
            return f
        if tag != TAG_TORCH:
            raise ValueError(f"t7craft: tag {tag} at {self.pos - 8}")
        version = self.string().decode()
        if not version.startswith("V "):
            raise ValueError("t7craft: files before class versions are not supported")
        typename = self.string().decode()
        if typename.endswith("Storage"):
            n = self.long()
            size = struct.calcsize("<" + elem_format(typename))
            s = Storage(typename, data=self.take(n * size))
            self.memo[index] = s
            return s
        if typename.endswith("Tensor"):
            t = Tensor(typename, [], [])
            self.memo[index] = t
            nd = self.int()
            t.sizes = [self.long() for _ in range(nd)]
            t.strides = [self.long() for _ in range(nd)]
            t.offset = self.long()
            t.storage = self.value()
            return t
        o = Obj(typename, Table(), int(version[2:]))
        self.memo[index] = o
        o.fields = self.value()
        return o


def loads(data: bytes):
    """Parse a binary (8-byte long) Torch7 file into t7craft values."""
    return _Reader(bytes(data)).value()


def walk(value):
    """Every t7craft value reachable from ``value`` (each once), parents before children."""
    seen, order, stack = set(), [], [value]
    while stack:
        v = stack.pop()
        if not isinstance(v, (Table, Obj, Tensor, Storage, Function)) or id(v) in seen:
            continue
        seen.add(id(v))
        order.append(v)
        if isinstance(v, Table):
            for k, x in reversed(v.pairs):
                stack.append(x)
                stack.append(k)
        elif isinstance(v, Obj):
            stack.append(v.fields)
        elif isinstance(v, Tensor):
            stack.append(v.storage)
        elif isinstance(v, Function):
            stack.append(v.upvalues)
    return order
