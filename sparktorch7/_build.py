"""Building a LuaState from a script payload: the one place that does it.

A payload (:meth:`sparktorch7.LuaScript._payload`) holds the Lua source, its
shipped files and Lua trees. :func:`build_state` writes the files to a private
directory, opens a :class:`sparktorch7.LuaState` with the trees on
``package.path``, installs the script environment (``lua/sparktorch7/worker.lua``:
``sparktorch7_file`` and ``sparktorch7_worker``), runs the chunk and, when
asked, its init function. Used by the worker cache (:mod:`sparktorch7._worker`)
and by the driver's checks (:meth:`sparktorch7.LuaScript.check`).
"""
from __future__ import annotations

import os
import shutil
import tempfile
from typing import TYPE_CHECKING, Any, List, Mapping, Optional, Sequence, Tuple

if TYPE_CHECKING:
    from sparktorch7._lua import LuaState

__all__ = ["build_state", "open_state", "write_files", "file_path", "lua_roots"]


def build_state(payload: Mapping[str, Any], *, prefix: str, serial: int, key: str,
                run_init: bool, limits: Optional[Tuple[Optional[float], Optional[int]]] = None
                ) -> Tuple["LuaState", Optional[str]]:
    """A new state for ``payload`` and the directory of its files (None when it has
    none; the caller deletes it). ``limits`` is ``(timeout_s, max_memory)`` of the
    state (see :class:`sparktorch7.LuaState`), which bound the chunk and init too.
    On failure nothing is left behind."""
    files_dir = write_files(payload["files"], prefix=prefix, lua_trees=payload.get("lua_trees", ()))
    try:
        state = open_state(payload, files_dir, serial=serial, key=key, run_init=run_init,
                           limits=limits)
    except BaseException:
        if files_dir:
            shutil.rmtree(files_dir, ignore_errors=True)
        raise
    return state, files_dir


def _files_root() -> str:
    # SPARK_LOCAL_DIRS is set for executors' Python workers and cleaned by Spark.
    local_dirs = os.environ.get("SPARK_LOCAL_DIRS")
    if local_dirs:
        root = local_dirs.split(",")[0]
        if os.path.isdir(root):
            return root
    return tempfile.gettempdir()


def write_files(files: Mapping[str, bytes], prefix: str, lua_trees: Sequence[Any] = ()
                ) -> Optional[str]:
    """Write ``files`` (name -> bytes, names relative paths) under ``files/`` and
    ``lua_trees`` under ``lua/`` of a new private directory; return it (None when
    there is nothing to write). See :func:`file_path` and :func:`lua_roots`."""
    if not files and not lua_trees:
        return None
    from sparktorch7._luapath import check_relative_name, write_trees

    directory = tempfile.mkdtemp(prefix=prefix, dir=_files_root())
    try:
        for name, data in files.items():
            target = file_path(directory, check_relative_name(name, "LuaScript files"))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as f:
                f.write(data)
        if lua_trees:
            write_trees(lua_trees, os.path.join(directory, "lua"))
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return directory


def file_path(directory: Optional[str], name: str) -> str:
    """Where :func:`write_files` put the file ``name``."""
    if not directory:
        return name
    return os.path.join(directory, "files", *name.split("/"))


def lua_roots(directory: Optional[str], lua_trees: Sequence[Any]) -> List[str]:
    """The ``package.path`` roots of the trees :func:`write_files` wrote, in order."""
    if not directory or not lua_trees:
        return []
    from sparktorch7._luapath import tree_roots

    return tree_roots(lua_trees, os.path.join(directory, "lua"))



def open_state(payload: Mapping[str, Any], files_dir: Optional[str], *, serial: int, key: str,
               run_init: bool, limits: Optional[Tuple[Optional[float], Optional[int]]] = None
               ) -> "LuaState":
    """A new LuaState with the helper globals set, the chunk run and, when asked, init called."""
    from sparktorch7 import _luapath
    from sparktorch7._lua import LuaState

    timeout, max_memory = limits or (None, None)
    state = LuaState(timeout=timeout, max_memory=max_memory)
    try:
        _luapath.apply(state, lua_roots(files_dir, payload.get("lua_trees", ())))
        files = {fname: file_path(files_dir, fname) for fname in payload["files"]}
        worker = {"pid": os.getpid(), "serial": int(serial), "key": key, "driver": serial == 0}
        script_env = state.require("sparktorch7.worker")
        script_env["install"]({"files": files, "worker": worker})
        state.execute(payload["source"], name=payload["name"])
        init = payload.get("init")
        if run_init and init:
            fn = script_env["lookup"](init)
            if not callable(fn):
                raise ValueError(f"the Lua init function {init!r} is not defined by script "
                                 f"{payload['name'][1:]!r}")
            fn()
    except BaseException:
        state.close()
        raise
    return state
