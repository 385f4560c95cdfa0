"""Lua source trees on ``package.path``: ``LuaState(lua_path=...)`` and ``LuaScript(lua_path=...)``.

An entry of ``lua_path`` is a directory or a ``.zip`` file of Lua sources.

- A directory ``D`` is a search root twice over: ``require 'LSTM'`` finds
  ``D/LSTM.lua`` (as when a project is run from its folder) and
  ``require 'torch-rnn.LSTM'`` finds it too when ``D`` is named ``torch-rnn``
  (as when the project was installed as a rock of that name).
- A zip is one search root, its top level (as Spark's ``--py-files``).

In both, ``require 'a.b'`` finds ``a/b.lua`` or ``a/b/init.lua``.

Order: the runtime's own ``lua/`` folder first, so the packages it ships
(``torch``, ``nn``, ``nngraph``, ``cudnn``, ...) are never shadowed by a
project's copy; the runtime has no top-level modules, so every other name
(``LanguageModel``, ``util.OneHot``) resolves in the entries, in the order
given, and only then in Lua's default ``package.path``.

Shipped to executors, only the ``.lua`` files of a tree travel (data files go
through ``files=``); a C module (``.so``/``.dylib``/``.dll``) in a shipped tree
is an error naming it: no native code is shipped this way.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import weakref
import zipfile
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

__all__ = ["LuaTree", "read_trees", "tree_roots", "write_trees", "local_roots", "apply", "check_relative_name"]

PathLike = Union[str, "os.PathLike[str]"]

_NATIVE_RE = re.compile(r"\.(so(\.\d+)*|dylib|dll)$", re.IGNORECASE)
#: At most this many files are looked at in one directory entry, and this many bytes of Lua shipped.
MAX_FILES = 20000
MAX_BYTES = 64 << 20


class LuaTree:
    """The ``.lua`` files of one ``lua_path`` entry: relative POSIX path -> bytes.
    ``name`` is the directory's own name (None for a zip)."""

    __slots__ = ("origin", "name", "files")

    def __init__(self, origin: str, name: Optional[str], files: Dict[str, bytes]) -> None:
        self.origin = origin
        self.name = name
        self.files = files

    def payload(self) -> Tuple[Optional[str], Dict[str, bytes]]:
        return (self.name, self.files)


def check_relative_name(name: str, what: str) -> str:
    """``name`` as a relative POSIX path kept on the executor (``a/b.t7``); raises
    ValueError for an absolute path, ``..``, empty parts or backslashes."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"{what}: a file name must be a non-empty str, not {name!r}")
    if "\\" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise ValueError(f"{what}: file name {name!r} must be a relative path with '/' "
                         "(such as 'model.t7' or 'data/vocab.json')")
    parts = name.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"{what}: file name {name!r} must be a relative path without empty, "
                         "'.' or '..' parts")
    return name


def _entries(lua_path: Any, what: str) -> List[str]:
    if lua_path is None:
        return []
    if isinstance(lua_path, (str, bytes, os.PathLike)):
        raise TypeError(f"{what} must be a list of directories or .zip files, not a single "
                        f"{type(lua_path).__name__} (write lua_path=[{os.fsdecode(lua_path)!r}])")
    out = []
    for entry in lua_path:
        if not isinstance(entry, (str, os.PathLike)):
            raise TypeError(f"{what} entries are paths (str or PathLike), not {type(entry).__name__}")
        path = os.fspath(entry)
        if not os.path.exists(path):
            raise FileNotFoundError(f"{what}: no directory or .zip file at {path!r}")
        if not os.path.isdir(path) and not zipfile.is_zipfile(path):
            hint = (" (to ship one module, put its folder on lua_path)"
                    if path.endswith(".lua") else "")
            raise ValueError(f"{what} entries are directories or .zip files of Lua sources; "
                             f"{path!r} is neither{hint}")
        out.append(path)
    return out


def _native_error(what: str, origin: str, rel: str) -> ValueError:
    return ValueError(f"{what}: {origin!r} holds the C module {rel!r}; lua_path ships Lua "
                      "sources only (no native code runs in the sparktorch7 runtime): remove it "
                      "from the tree, or ship a folder without it")


def _read_dir(path: str, what: str, strict: bool = True) -> Optional[LuaTree]:
    """The ``.lua`` files under ``path``. Not ``strict`` (a script's own folder, not
    named by the user): C modules are left behind and no ``.lua`` file gives None."""
    root = os.path.abspath(path)
    files: Dict[str, bytes] = {}
    seen = size = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for fname in sorted(filenames):
            seen += 1
            if seen > MAX_FILES:
                hint = ("put the script in a folder of its own, or pass script_folder=False"
                        if not strict else "put a folder of Lua sources on lua_path, not a whole tree")
                raise ValueError(f"{what}: {path!r} holds more than {MAX_FILES} files; {hint}")
            if fname.startswith("."):
                continue
            full = os.path.join(dirpath, fname)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            if _NATIVE_RE.search(fname):
                if not strict:
                    continue
                raise _native_error(what, path, rel)
            if not fname.endswith(".lua"):
                continue
            with open(full, "rb") as f:
                data = f.read()
            size += len(data)
            if size > MAX_BYTES:
                raise ValueError(f"{what}: the .lua files of {path!r} exceed {MAX_BYTES >> 20} MB")
            files[rel] = data
    if not files:
        if not strict:
            return None
        raise ValueError(f"{what}: {path!r} holds no .lua file")
    name = os.path.basename(root)
    return LuaTree(path, name or None, files)


def _read_zip(path: str, what: str) -> LuaTree:
    files: Dict[str, bytes] = {}
    size = 0
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        raise ValueError(f"{what}: {path!r} is not a readable zip file ({e})") from None
    with zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            rel = info.filename
            try:
                check_relative_name(rel, f"{what}: zip {path!r}")
            except ValueError as e:
                raise ValueError(f"{e}; the zip's entries must be relative paths") from None
            base = rel.rsplit("/", 1)[-1]
            if _NATIVE_RE.search(base):
                raise _native_error(what, path, rel)
            if not base.endswith(".lua") or any(p.startswith(".") for p in rel.split("/")):
                continue
            size += info.file_size
            if size > MAX_BYTES:
                raise ValueError(f"{what}: the .lua files of {path!r} exceed {MAX_BYTES >> 20} MB")
            files[rel] = zf.read(info)
    if not files:
        raise ValueError(f"{what}: the zip {path!r} holds no .lua file")
    return LuaTree(path, None, files)


def read_trees(lua_path: Optional[Iterable[PathLike]], what: str = "lua_path",
               script_folder: Optional[str] = None) -> List[LuaTree]:
    """Read every entry of ``lua_path`` (on the driver) into a :class:`LuaTree`;
    ``script_folder`` (a script's own folder) comes first, read leniently."""
    trees = []
    if script_folder is not None:
        tree = _read_dir(script_folder, f"{what} (the script's own folder)", strict=False)
        if tree is not None:
            trees.append(tree)
    for p in _entries(lua_path, what):
        trees.append(_read_dir(p, what) if os.path.isdir(p) else _read_zip(p, what))
    return trees


def tree_roots(trees: Sequence[Tuple[Optional[str], Dict[str, bytes]]], directory: str) -> List[str]:
    """The search roots, in order, of ``trees`` written under ``directory`` by
    :func:`write_trees`: a tree's top and, for a named one, the folder holding it."""
    roots: List[str] = []
    for i, (name, _files) in enumerate(trees):
        base = os.path.join(directory, str(i))
        roots.append(os.path.join(base, name) if name else base)
        if name:
            roots.append(base)
    return roots


def write_trees(trees: Sequence[Tuple[Optional[str], Dict[str, bytes]]], directory: str) -> List[str]:
    """Write shipped trees under ``directory`` (one numbered folder each); return
    :func:`tree_roots`."""
    for i, (name, files) in enumerate(trees):
        base = os.path.join(directory, str(i))
        if name is not None and (name in (".", "..") or "/" in name or os.sep in name):
            raise ValueError(f"lua_path: bad folder name {name!r}")
        top = os.path.join(base, name) if name else base
        for rel, data in files.items():
            check_relative_name(rel, "lua_path")
            target = os.path.join(top, *rel.split("/"))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as f:
                f.write(data)
    return tree_roots(trees, directory)


def local_roots(lua_path: Optional[Iterable[PathLike]], owner: Any = None,
                what: str = "LuaState lua_path") -> List[str]:
    """Search roots for a local state: directories are used in place (their own name
    reachable through a private folder holding a link to them), zips are extracted.
    The private folders are removed when ``owner`` is collected."""
    roots: List[str] = []
    for path in _entries(lua_path, what):
        if os.path.isdir(path):
            full = os.path.abspath(path)
            roots.append(full)
            name = os.path.basename(full)
            if name:
                tmp = tempfile.mkdtemp(prefix="sparktorch7-luapath-")
                _cleanup(owner, tmp)
                try:
                    os.symlink(full, os.path.join(tmp, name), target_is_directory=True)
                except OSError:   # no symlinks here: the folder by its name is not reachable
                    continue
                roots.append(tmp)
        else:
            tree = _read_zip(path, what)
            tmp = tempfile.mkdtemp(prefix="sparktorch7-luapath-")
            _cleanup(owner, tmp)
            roots.extend(write_trees([tree.payload()], tmp))
    return roots


def _cleanup(owner: Any, directory: str) -> None:
    if owner is not None:
        weakref.finalize(owner, shutil.rmtree, directory, True)


def apply(state: Any, roots: Sequence[str]) -> None:
    """Put ``roots`` on ``state``'s ``package.path`` after the runtime's own folder."""
    if not roots:
        return
    from sparktorch7._lua import LUA_DIR

    for r in roots:
        if ";" in r or "?" in r:
            raise ValueError(f"lua_path: the folder {r!r} cannot go on package.path "
                             "(its path holds ';' or '?')")
    lua_dir = LUA_DIR.replace("\\", "/")
    state.require("sparktorch7.luapath")["add"](lua_dir, [r.replace(os.sep, "/") for r in roots])
