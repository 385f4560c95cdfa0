"""Lua scripts (and the files they load) shipped to Spark executors.

A :class:`LuaScript` is made on the driver from Lua source. Its bytes and the
bytes of its files (``.t7`` models, tables, anything) travel once per
executor as a Spark broadcast; the Lua state itself is never pickled. On a
worker the state is built on first use and cached by :mod:`sparktorch7._worker`
under the content hash made here, so each Python worker process builds it once.

Inside the state the script sees two globals:

``sparktorch7_file(name)``
    The local path of the file shipped as ``name`` (its base name, or the
    relative path given as a ``files`` dict key), e.g.
    ``torch.load(sparktorch7_file('mlp.t7'))``. An unknown name raises an
    error that lists the shipped names.
``sparktorch7_worker``
    A table ``{pid = <process id>, serial = <n-th state built in this
    process>, key = <script hash>, driver = <true during the driver check>}``.

Lua sources (``lua_path=[dir_or_zip, ...]``, and the script's own folder for
:meth:`LuaScript.from_file`) travel with the script and go on ``package.path``
of every state, after the runtime's own folder (see :mod:`sparktorch7._luapath`).
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import threading
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Mapping, Optional, Sequence, Union

from sparktorch7 import _worker
from sparktorch7._build import build_state
from sparktorch7._luapath import LuaTree, check_relative_name, read_trees

if TYPE_CHECKING:
    from sparktorch7._lua import LuaState

__all__ = ["LuaScript"]

PathLike = Union[str, "os.PathLike[str]"]

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def _check_function_name(name: str, what: str) -> str:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ValueError(f"{what} must be a Lua global name such as 'score' or 'model.score', "
                         f"not {name!r}")
    return name


def _read_files(files: Union[Iterable[PathLike], Mapping[str, Union[bytes, PathLike]], None]
                ) -> Dict[str, bytes]:
    out: Dict[str, bytes] = {}
    if files is None:
        return out
    if isinstance(files, (str, bytes, os.PathLike)):
        raise TypeError("files must be a list of paths (or a dict name -> bytes/path), "
                        f"not a single {type(files).__name__}")
    items = files.items() if isinstance(files, Mapping) else ((None, f) for f in files)
    for name, item in items:
        if isinstance(item, (bytes, bytearray, memoryview)):
            if name is None:
                raise TypeError("file contents given as bytes need a name: pass files={name: bytes}")
            data = bytes(item)
        else:
            path = os.fspath(item)
            if not os.path.isfile(path):
                raise FileNotFoundError(f"LuaScript file not found: {path}")
            with open(path, "rb") as f:
                data = f.read()
            if name is None:
                name = os.path.basename(path)
        name = str(name)
        check_relative_name(name, "LuaScript files")
        if name in out:
            raise ValueError(f"two files are named {name!r}; give them distinct base names "
                             "(or pass a dict name -> path)")
        out[name] = data
    for name in out:
        parts = name.split("/")
        for i in range(1, len(parts)):
            if "/".join(parts[:i]) in out:
                raise ValueError(f"LuaScript files: {'/'.join(parts[:i])!r} is both a file and "
                                 f"the folder of {name!r}")
    return out


class LuaScript:
    """Lua scoring code and its files, made on the driver, run on executors.

    Parameters
    ----------
    source : str or bytes
        The Lua chunk. It is run once in each new state; it should define the
        functions that the UDFs call (globals).
    files : list of paths, or dict name -> path or bytes, optional
        Files shipped with the script (``.t7`` models, ...). The script finds
        their local copy with ``sparktorch7_file(name)``, ``name`` being the
        base name of the path (or the dict key, which may be a relative path
        such as ``'data/vocab.t7'``, kept on the executor).
    lua_path : list of paths, optional
        Directories or ``.zip`` files of Lua sources shipped once with the
        script (relative paths kept) and put on ``package.path`` of every
        state, so ``require 'LanguageModel'`` or ``require 'util.OneHot'``
        works there. A directory is also reachable by its own name
        (``require 'torch-rnn.LSTM'``); a zip's top level is its root. Only
        the ``.lua`` files travel; a C module (``.so``) in a tree is an error.
        The runtime's packages (``torch``, ``nn``, ...) cannot be shadowed.
    init : str, optional
        Name of a global Lua function called once after the chunk ran, in each
        new state on the executors (e.g. to ``torch.load`` a model).
    name : str, optional
        Chunk name shown in Lua error messages and tracebacks.

    Examples
    --------
    >>> import numpy as np
    >>> script = LuaScript('''
    ... function score(x) return x * 2 end
    ... ''', name="double.lua")
    >>> script.check("score")         # on the driver: the chunk runs and score is a function
    >>> script.check("predict")
    Traceback (most recent call last):
    ...
    ValueError: the Lua function 'predict' is not defined by script 'double.lua' (found a nil value)
    >>> len(script.key)               # the sha256 of its content: the workers' cache key
    64
    >>> with script.open() as lua:    # a local state with the script loaded, to try it
    ...     lua.score(np.arange(3.0))
    array([0., 2., 4.])

    The script then goes to :func:`sparktorch7.lua_udf`, :func:`sparktorch7.score` or
    :func:`sparktorch7.map_partitions`, which ship it once per SparkContext. A project's
    own Lua modules travel with it: ``LuaScript(source, lua_path=["torch-rnn"])``.
    """

    def __init__(self, source: Union[str, bytes], *,
                 files: Union[Sequence[PathLike], Mapping[str, Union[bytes, PathLike]], None] = None,
                 init: Optional[str] = None, name: Optional[str] = None,
                 lua_path: Optional[Sequence[PathLike]] = None,
                 _script_folder: Optional[str] = None) -> None:
        if isinstance(source, str):
            source = source.encode("utf-8")
        if not isinstance(source, (bytes, bytearray)):
            raise TypeError(f"LuaScript source must be str or bytes, not {type(source).__name__}")
        self._source = bytes(source)
        self._files = _read_files(files)
        self._trees: List[LuaTree] = read_trees(lua_path, "LuaScript lua_path", _script_folder)
        self._init = _check_function_name(init, "init") if init is not None else None
        self._name = str(name) if name is not None else "=script"
        if self._name[:1] not in ("=", "@"):
            self._name = "=" + self._name
        digest = hashlib.sha256()
        for part in (self._source, self._name.encode(), (self._init or "").encode()):
            digest.update(len(part).to_bytes(8, "little"))
            digest.update(part)
        for fname in sorted(self._files):
            digest.update(fname.encode())
            digest.update(hashlib.sha256(self._files[fname]).digest())
        for tree in self._trees:
            digest.update(b"\0tree" + (tree.name or "").encode() + b"\0")
            for rel in sorted(tree.files):
                digest.update(rel.encode() + b"\0")
                digest.update(hashlib.sha256(tree.files[rel]).digest())
        self._key = digest.hexdigest()
        self._lock = threading.Lock()
        self._checked: set = set()        # (function, limits) checked
        self._compiled: set = set()       # limits under which the chunk ran
        self._shipped: Optional[tuple] = None   # (SparkContext, Broadcast, Accumulator)

    @classmethod
    def from_file(cls, path: PathLike, *,
                  files: Union[Sequence[PathLike], Mapping[str, Union[bytes, PathLike]], None] = None,
                  init: Optional[str] = None,
                  lua_path: Optional[Sequence[PathLike]] = None,
                  script_folder: bool = True) -> "LuaScript":
        """A script read from a ``.lua`` file; error messages name the file.

        With ``script_folder`` (the default) the file's own folder goes on
        ``package.path`` first and its ``.lua`` files (subfolders included) are
        shipped, as when ``th`` runs the script from there; then ``lua_path``.
        C modules in that folder are left behind.

        Examples
        --------
        >>> import os, tempfile
        >>> folder = tempfile.TemporaryDirectory()
        >>> with open(os.path.join(folder.name, "helpers.lua"), "w") as f:
        ...     _ = f.write("return {twice = function(x) return 2 * x end}")
        >>> with open(os.path.join(folder.name, "double.lua"), "w") as f:
        ...     _ = f.write("local h = require 'helpers'\\nfunction score(x) return h.twice(x) end")
        >>> script = LuaScript.from_file(os.path.join(folder.name, "double.lua"))
        >>> script.name
        '@double.lua'
        >>> with script.open() as lua:    # helpers.lua, from the script's folder, was shipped
        ...     lua.score(21)
        42
        >>> folder.cleanup()
        """
        path = os.fspath(path)
        with open(path, "rb") as f:
            source = f.read()
        if source.startswith(b"#"):
            source = b"--" + source   # a shebang line; keep the line numbers
        folder = os.path.dirname(os.path.abspath(path)) if script_folder else None
        return cls(source, files=files, init=init, name="@" + os.path.basename(path),
                   lua_path=lua_path, _script_folder=folder)

    # ------------------------------------------------------------ properties
    @property
    def key(self) -> str:
        """Content hash (sha256 hex) of the source, the files, ``init`` and the name:
        the key of the cached state on every worker."""
        return self._key

    @property
    def files(self) -> tuple:
        """Names of the shipped files, as ``sparktorch7_file`` knows them."""
        return tuple(sorted(self._files))

    @property
    def lua_path(self) -> tuple:
        """The ``lua_path`` entries shipped, in ``package.path`` order."""
        return tuple(t.origin for t in self._trees)

    @property
    def init(self) -> Optional[str]:
        return self._init

    @property
    def name(self) -> str:
        return self._name

    @property
    def states_created(self) -> int:
        """How many Lua states the executors built for this script (a Spark
        accumulator; counted once the tasks that built them finished)."""
        shipped = self._shipped
        return int(shipped[2].value) if shipped is not None else 0

    @property
    def rows_scored(self) -> int:
        """How many rows the executors passed through this script's functions
        (a Spark accumulator, like :attr:`states_created`)."""
        shipped = self._shipped
        return int(shipped[3].value) if shipped is not None else 0

    def __repr__(self) -> str:
        return (f"LuaScript(name={self._name[1:]!r}, key={self._key[:12]}, "
                f"files={list(self.files)}, init={self._init!r}, lua_path={list(self.lua_path)})")

    def __reduce__(self):
        raise TypeError("a LuaScript is not pickled into tasks; the UDF factories ship it as a "
                        "broadcast (use lua_udf / score / map_partitions)")

    # ------------------------------------------------------------ driver side
    def _payload(self) -> Dict[str, Any]:
        return {"source": self._source, "name": self._name, "files": dict(self._files),
                "init": self._init, "lua_trees": [t.payload() for t in self._trees]}

    def check(self, *functions: str, limits: Optional[tuple] = None) -> None:
        """Check on the driver that the script compiles and runs, and that
        ``init`` and every name in ``functions`` are Lua functions.

        Raises :class:`sparktorch7.LuaSyntaxError` / :class:`sparktorch7.LuaError`
        from the script, or ``ValueError`` naming a missing function. Results are
        remembered, so each function is checked once per script object. With
        ``limits`` (``(timeout_s, max_memory)``, as the workers' states will have)
        the chunk runs under them: one that would hang or outgrow them fails here
        with :class:`sparktorch7.LuaTimeoutError` / :class:`sparktorch7.LuaMemoryError`.
        """
        for fn in functions:
            _check_function_name(fn, "function")
        limits = None if limits == (None, None) else limits
        with self._lock:
            wanted = [fn for fn in functions if (fn, limits) not in self._checked]
            if limits in self._compiled and not wanted:
                return
            state, files_dir = build_state(self._payload(), prefix="sparktorch7-check-", serial=0,
                                           key=self._key, run_init=False, limits=limits)
            try:
                try:
                    names = list(wanted)
                    if self._init is not None:
                        names.append(self._init)
                    kind_of = state.require("sparktorch7.worker")["kind"]
                    for fn in names:
                        kind = kind_of(fn)
                        if kind != "function":
                            role = "init function" if fn == self._init and fn not in wanted else "function"
                            raise ValueError(f"the Lua {role} {fn!r} is not defined by script "
                                             f"{self._name[1:]!r} (found a {kind} value)")
                finally:
                    state.close()
            finally:
                if files_dir:
                    shutil.rmtree(files_dir, ignore_errors=True)
            self._compiled.add(limits)
            self._checked.update((fn, limits) for fn in wanted)

    def open(self) -> "LuaState":
        """A new :class:`sparktorch7.LuaState` on the driver with the script
        loaded and ``init`` run, for trying the script out. The caller closes it."""
        state, files_dir = build_state(self._payload(), prefix="sparktorch7-open-", serial=0,
                                       key=self._key, run_init=True)
        if files_dir:
            import weakref
            weakref.finalize(state, shutil.rmtree, files_dir, True)
        return state

    def _ship(self, sc: Any) -> "_ScriptHandle":
        """Broadcast the payload with ``sc`` (once per SparkContext) and return the
        small, picklable handle that tasks carry."""
        with self._lock:
            shipped = self._shipped
            if shipped is None or shipped[0] is not sc or sc._jsc is None:
                bc = sc.broadcast(self._payload())
                shipped = self._shipped = (sc, bc, sc.accumulator(0), sc.accumulator(0))
        return _ScriptHandle(self._key, self._name, shipped[1], shipped[2], shipped[3])

    def unpersist(self) -> None:
        """Drop the broadcast copies of the script on the executors."""
        with self._lock:
            shipped, self._shipped = self._shipped, None
        if shipped is not None and shipped[0]._jsc is not None:
            shipped[1].unpersist()


class _ScriptHandle:
    """What a task carries: the key, the broadcast of the payload and the
    accumulator that counts the states built. Never the Lua state."""

    __slots__ = ("key", "name", "_bc", "_acc", "_rows")

    def __init__(self, key: str, name: str, bc: Any, acc: Any, rows: Any = None) -> None:
        self.key = key
        self.name = name
        self._bc = bc
        self._acc = acc
        self._rows = rows

    def __getstate__(self):
        return (self.key, self.name, self._bc, self._acc, self._rows)

    def __setstate__(self, st):
        self.key, self.name, self._bc, self._acc, self._rows = st

    def count_rows(self, n: int) -> None:
        if self._rows is not None and n:
            self._rows.add(n)

    def entry(self, limits: Optional[tuple] = None) -> "_worker.WorkerEntry":
        """The cached :class:`sparktorch7._worker.WorkerEntry` of this process,
        built on first use (with ``limits``, ``(timeout_s, max_memory)``, if given)."""
        def load() -> Mapping[str, Any]:
            payload = self._bc.value
            if self._acc is not None:
                self._acc.add(1)
            return payload

        return _worker.get_entry(self.key, load, limits)

