"""Per-process cache of Lua states for the Spark layer.

A Python worker (and the driver, for its checks) builds one :class:`LuaState`
per script the first time a task needs it and keeps it here, keyed by the
content hash that :class:`sparktorch7.LuaScript` made on the driver. With
``spark.python.worker.reuse`` on, a worker process serves many tasks, so the
state is built once per process and reused across tasks and batches.

The cache is bounded (least recently used states are closed first) and lives
in an importable module, never in ``__main__``, so that every task running in
the same process finds it.
"""
from __future__ import annotations

import atexit
import shutil
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Callable, Dict, Mapping, Optional

from sparktorch7 import _blas
from sparktorch7._build import build_state

if TYPE_CHECKING:
    from sparktorch7._lua import LuaFunction, LuaState

__all__ = ["WorkerEntry", "get_entry", "states_created", "cache_size", "clear", "MAX_STATES"]

#: How many Lua states one process keeps at most.
MAX_STATES = 4

_lock = threading.RLock()
_cache: "OrderedDict[str, WorkerEntry]" = OrderedDict()
_created = 0


class WorkerEntry:
    """A Lua state built from one script, with the local copies of its files
    and the Lua functions already looked up in it."""

    __slots__ = ("key", "state", "files_dir", "serial", "_functions")

    def __init__(self, key: str, state: "LuaState", files_dir: Optional[str], serial: int) -> None:
        self.key = key
        self.state = state
        self.files_dir = files_dir
        self.serial = serial
        self._functions: Dict[str, "LuaFunction"] = {}

    def function(self, name: str) -> "LuaFunction":
        """The Lua function ``name`` (a global, or a dotted path such as ``M.score``)."""
        fn = self._functions.get(name)
        if fn is None:
            fn = self.state.require("sparktorch7.worker")["lookup"](name)
            self._functions[name] = fn
        return fn

    def close(self) -> None:
        self._functions.clear()
        try:
            self.state.close()
        finally:
            if self.files_dir:
                shutil.rmtree(self.files_dir, ignore_errors=True)


def states_created() -> int:
    """How many Lua states this process has built through the cache."""
    return _created


def cache_size() -> int:
    """How many Lua states this process holds now."""
    return len(_cache)


def clear() -> None:
    """Close every cached state (and delete its local files)."""
    with _lock:
        while _cache:
            _key, entry = _cache.popitem(last=False)
            entry.close()


atexit.register(clear)


def get_entry(key: str, load: Callable[[], Mapping[str, Any]]) -> WorkerEntry:
    """The cached entry for ``key``, built on first use.

    ``load()`` is called only when the state must be built; it returns the
    script payload (see :meth:`sparktorch7.LuaScript._payload`). A state that
    fails to build is not cached, so the error is raised again by the next
    task rather than leaving a half-initialised state behind.
    """
    global _created
    _blas.limit_to_task_cpus()  # spark.task.cpus math threads per task
    with _lock:
        entry = _cache.get(key)
        if entry is not None:
            _cache.move_to_end(key)
            return entry
        payload = load()
        serial = _created + 1
        entry = _build(key, payload, serial)
        _created = serial
        _cache[key] = entry
        while len(_cache) > MAX_STATES:
            _old_key, old = _cache.popitem(last=False)
            old.close()
        return entry


def _build(key: str, payload: Mapping[str, Any], serial: int) -> WorkerEntry:
    state, files_dir = build_state(payload, prefix=f"sparktorch7-{key[:12]}-", serial=serial,
                                   key=key, run_init=True)
    return WorkerEntry(key, state, files_dir, serial)
