"""One LuaState used from several Python threads; many states at once."""
import gc
import threading
import time

import pytest

from sparktorch7 import LuaClosedError, LuaState

JOIN = 30  # seconds: a thread still alive after this is a deadlock


def run_threads(targets):
    threads = [threading.Thread(target=t) for t in targets]
    for th in threads:
        th.start()
    for th in threads:
        th.join(JOIN)
    assert not any(th.is_alive() for th in threads), "deadlock"


def test_calls_from_threads_are_serialized(lua):
    # read-modify-write of a Lua global around a callback that releases the GIL:
    # without the state's lock, threads would interleave inside Lua
    lua.execute("counter = 0\n"
                "function bump(pause) local v = counter; pause(0.0002); counter = v + 1 end")
    bump = lua.bump
    errors = []

    def worker():
        try:
            for _ in range(100):
                bump(time.sleep)
        except BaseException as e:      # pragma: no cover - reported below
            errors.append(e)

    run_threads([worker] * 4)
    assert not errors
    assert lua["counter"] == 400


def test_reentrant_calls_in_many_threads(lua):
    inner = lua.eval("function(x) return x * 2 end")
    outer = lua.eval("function(g, x) return g(x) + 1 end")
    results = {}

    def worker(k):
        def g(x):
            time.sleep(0)
            return inner(x)
        results[k] = [outer(g, i) for i in range(200)]

    run_threads([lambda k=k: worker(k) for k in range(4)])
    for k in range(4):
        assert results[k] == [2 * i + 1 for i in range(200)]


def test_other_thread_waits_for_a_long_call(lua):
    order = []
    started = threading.Event()

    def slow_callback():
        started.set()
        time.sleep(0.3)                 # releases the GIL while holding the state
        order.append("long call done")

    slow = lua.eval("function(cb) cb() return 'slow' end")
    quick = lua.eval("function() return 'quick' end")

    def long_call():
        order.append(slow(slow_callback))

    def other():
        started.wait()
        order.append(quick())

    run_threads([long_call, other])
    assert order == ["long call done", "slow", "quick"]


def test_freeing_a_proxy_on_another_thread_never_blocks(lua):
    lua.execute("weak = setmetatable({}, {__mode = 'k'})")
    holder = [lua.execute("local f = function() end weak[f] = true return f")]
    assert lua.eval("next(weak) ~= nil") is True
    started, release = threading.Event(), threading.Event()
    timing = {}

    def in_lua():
        started.set()
        release.wait(JOIN)              # GIL released; the state stays locked by this thread

    long_call = lua.eval("function(cb) cb() return 1 end")

    def owner():
        long_call(in_lua)

    def freer():
        started.wait()
        t0 = time.monotonic()
        holder.clear()                  # the proxy's __dealloc__ runs here, on this thread
        gc.collect()
        timing["free"] = time.monotonic() - t0
        timing["owner still inside"] = not release.is_set()
        release.set()

    run_threads([owner, freer])
    assert timing["owner still inside"] is True
    assert timing["free"] < 5
    # the registry slot was handed back once the state was free again
    lua.gc()
    assert lua.eval("next(weak) == nil") is True


def test_close_from_another_thread_waits_for_the_running_call(lua):
    started = threading.Event()
    result = []

    def callback():
        started.set()
        time.sleep(0.2)
        return 7

    f = lua.eval("function(cb) return cb() * 6 end")

    def caller():
        result.append(f(callback))

    def closer():
        started.wait()
        lua.close()
        result.append("closed")

    run_threads([caller, closer])
    assert result == [42, "closed"]
    with pytest.raises(LuaClosedError):
        f(callback)


def test_many_states_in_many_threads():
    states = [LuaState() for _ in range(8)]
    out = {}

    def worker(i):
        s = states[i]
        s.execute(f"function work(n) local t = 0 for k = 1, n do t = t + k * {i} end return t end")
        work = s.work
        out[i] = [work(n) for n in range(300)]

    try:
        run_threads([lambda i=i: worker(i) for i in range(8)])
        for i in range(8):
            assert out[i] == [i * n * (n + 1) // 2 for n in range(300)]
    finally:
        for s in states:
            s.close()


def test_proxies_dropped_from_threads_are_released(lua):
    lua.execute("weak = setmetatable({}, {__mode = 'k'})")
    make = lua.eval("function() local f = function() end weak[f] = true return f end")
    count = lua.eval("function() local n = 0 for _ in pairs(weak) do n = n + 1 end return n end")
    barrier = threading.Barrier(4)

    def worker():
        barrier.wait()
        for _ in range(500):
            f = make()
            del f

    run_threads([worker] * 4)
    gc.collect()
    lua.gc()
    assert count() == 0
