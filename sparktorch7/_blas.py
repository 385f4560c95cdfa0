"""The math threads of the BLAS numpy loaded (OpenBLAS), through its own C API.

Under Spark each task gets ``spark.task.cpus`` of them (:func:`limit_to_task_cpus`, run
by the worker whenever a task takes its Lua state), not one per core in every Python
worker: with several tasks per executor, per-core pools oversubscribe the machine.
Where no OpenBLAS is found (another BLAS, another OS) the functions do nothing.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import threading
from typing import Iterator, Optional

_SET = ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_",
        "openblas_set_num_threads")
_GET = ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
        "openblas_get_num_threads")
_funcs = None


def _api():
    """(set, get) of the loaded OpenBLAS, or (None, None)."""
    global _funcs
    if _funcs is None:
        import numpy  # noqa: F401  (loads its BLAS)
        setter = getter = None
        try:
            with open("/proc/self/maps") as f:
                paths = {ln.split()[-1] for ln in f if "openblas" in ln.lower() and ".so" in ln}
        except OSError:
            paths = set()
        for path in sorted(paths):
            lib = ctypes.CDLL(path)
            setter = next((getattr(lib, s) for s in _SET if hasattr(lib, s)), None)
            getter = next((getattr(lib, s) for s in _GET if hasattr(lib, s)), None)
            if setter is not None and getter is not None:
                setter.argtypes, setter.restype = [ctypes.c_int], None
                getter.argtypes, getter.restype = [], ctypes.c_int
                break
            setter = getter = None
        _funcs = (setter, getter)
    return _funcs


def get_threads() -> Optional[int]:
    """The BLAS thread count, or None without OpenBLAS."""
    getter = _api()[1]
    return None if getter is None else int(getter())


def set_threads(n: int) -> bool:
    """Set the BLAS thread count (n >= 1); False without OpenBLAS."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"BLAS threads must be an int >= 1, got {n!r}")
    setter = _api()[0]
    if setter is None:
        return False
    setter(n)
    return True


_single_lock = threading.Lock()
_single_depth = 0
_single_saved: Optional[int] = None


@contextlib.contextmanager
def single_threaded() -> Iterator[Optional[int]]:
    """Inside: the BLAS runs one thread, for callers that split their work over threads
    of their own. Yields the thread count before (None without OpenBLAS). The count is
    process-wide: nested or concurrent holders share one saved count, restored when the
    last of them leaves."""
    global _single_depth, _single_saved
    with _single_lock:
        if _single_depth == 0:
            _single_saved = get_threads()
            if _single_saved is not None and _single_saved > 1:
                set_threads(1)
        _single_depth += 1
        before = _single_saved
    try:
        yield before
    finally:
        with _single_lock:
            _single_depth -= 1
            if _single_depth == 0 and _single_saved is not None and _single_saved > 1:
                set_threads(_single_saved)


def _after_fork_in_child() -> None:
    """A child forked while some thread held single_threaded() starts with no holder:
    a fresh lock (the parent's may have been held) and the saved count back."""
    global _single_lock, _single_depth, _single_saved
    _single_lock = threading.Lock()
    if _single_depth and _single_saved is not None and _single_saved > 1:
        set_threads(_single_saved)
    _single_depth, _single_saved = 0, None


os.register_at_fork(after_in_child=_after_fork_in_child)


def limit_to_task_cpus() -> None:
    """In a Spark task: BLAS threads := the task's cpus (spark.task.cpus); elsewhere
    (driver, plain Python) nothing changes."""
    try:
        from pyspark import TaskContext
    except ImportError:
        return
    ctx = TaskContext.get()
    if ctx is None:
        return
    n = max(1, int(ctx.cpus()))
    if get_threads() != n:  # one ctypes call when nothing changed
        set_threads(n)
