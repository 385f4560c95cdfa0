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
from typing import TYPE_CHECKING, Any, Callable, Dict, Mapping, Optional, Tuple

from sparktorch7 import _blas
from sparktorch7._build import build_state

if TYPE_CHECKING:
    from sparktorch7._lua import LuaFunction, LuaState

__all__ = ["WorkerEntry", "get_entry", "discard", "states_created", "cache_size", "clear",
           "MAX_STATES"]

#: How many Lua states one process keeps at most.
MAX_STATES = 4

_lock = threading.RLock()
_cache: "OrderedDict[str, WorkerEntry]" = OrderedDict()
_created = 0


class WorkerEntry:
    """A Lua state built from one script, with the local copies of its files
    and the Lua functions already looked up in it."""

    __slots__ = ("key", "slot", "state", "files_dir", "serial", "_functions")

    def __init__(self, key: str, state: "LuaState", files_dir: Optional[str], serial: int) -> None:
        self.key = key
        self.slot = key            # the cache's key: the script's, and the state's limits
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


def get_entry(key: str, load: Callable[[], Mapping[str, Any]],
              limits: Optional[Tuple[Optional[float], Optional[int]]] = None) -> WorkerEntry:
    """The cached entry for ``key``, built on first use.

    ``load()`` is called only when the state must be built; it returns the
    script payload (see :meth:`sparktorch7.LuaScript._payload`). A state that
    fails to build is not cached, so the error is raised again by the next
    task rather than leaving a half-initialised state behind. ``limits``
    (``(timeout_s, max_memory)``) are the state's; states of one script with
    other limits are other entries.
    """
    global _created
    _blas.limit_to_task_cpus()  # spark.task.cpus math threads per task
    slot = key
    if limits and limits != (None, None):
        slot = f"{key}:timeout={limits[0]}:max_memory={limits[1]}"
    with _lock:
        entry = _cache.get(slot)
        if entry is not None:
            _cache.move_to_end(slot)
            return entry
        payload = load()
        serial = _created + 1
        entry = _build(key, payload, serial, limits)
        entry.slot = slot
        _created = serial
        _cache[slot] = entry
        while len(_cache) > MAX_STATES:
            _old_key, old = _cache.popitem(last=False)
            old.close()
        return entry


def discard(entry: WorkerEntry) -> bool:
    """Close ``entry`` and drop it from the cache (if it is still there), so that the
    next task builds a new state; True if it was cached."""
    with _lock:
        cached = _cache.get(entry.slot) is entry
        if cached:
            del _cache[entry.slot]
    entry.close()
    return cached


def _build(key: str, payload: Mapping[str, Any], serial: int,
           limits: Optional[Tuple[Optional[float], Optional[int]]] = None) -> WorkerEntry:
    state, files_dir = build_state(payload, prefix=f"sparktorch7-{key[:12]}-", serial=serial,
                                   key=key, run_init=True, limits=limits)
    return WorkerEntry(key, state, files_dir, serial)
