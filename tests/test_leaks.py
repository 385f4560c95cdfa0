"""Python objects held by Lua are released when Lua collects them; 10**5 calls leak nothing."""
import gc
import sys

import psutil
import pytest

from sparktorch7 import LuaError, LuaState

N = 10 ** 5


def rss():
    gc.collect()
    return psutil.Process().memory_info().rss


def test_refcounts_come_back_after_passing_objects_to_lua(lua):
    obj, payload = object(), {"k": [1, 2]}
    base_obj, base_payload = sys.getrefcount(obj), sys.getrefcount(payload)
    identity = lua.eval("function(o) return o end")
    keep = lua.eval("function(o) last = o end")
    for _ in range(N):
        assert identity(obj) is obj
        keep(obj)
    assert sys.getrefcount(obj) > base_obj           # the global `last` still holds it
    lua.execute("last = nil")
    lua.gc()
    assert sys.getrefcount(obj) == base_obj
    assert sys.getrefcount(payload) == base_payload


def test_refcounts_come_back_after_callbacks(lua):
    obj = object()

    def cb(o):
        return o

    base_obj, base_cb = sys.getrefcount(obj), sys.getrefcount(cb)
    through = lua.eval("function(f, o) local r = f(o) return r end")
    for _ in range(N):
        assert through(cb, obj) is obj
    lua.gc()
    assert sys.getrefcount(obj) == base_obj
    assert sys.getrefcount(cb) == base_cb


def test_refcounts_come_back_after_python_exceptions(lua):
    err = ValueError("reused")

    def fail():
        raise err

    call = lua.eval("function(f) f() end")
    catch = lua.eval("function(f) return pcall(f) end")
    base = sys.getrefcount(err)
    for _ in range(N // 10):
        with pytest.raises(ValueError):
            call(fail)
        assert catch(fail)[0] is False
    err.__traceback__ = None
    err.__notes__ = []
    gc.collect()
    lua.gc()
    assert sys.getrefcount(err) == base


def test_proxies_release_their_lua_values(lua):
    make = lua.eval("function(i) return function() return i end end")
    lua.gc()
    base = lua.memory_used()
    for i in range(N):
        f = make(i)
    assert f() == N - 1
    del f
    lua.gc()
    assert lua.memory_used() - base < 64 * 1024


def test_rss_stays_flat_over_many_calls():
    lua = LuaState()
    try:
        echo = lua.eval("function(a, b, c, d) return a, b, c, d end")
        back = lua.eval("function(f, x) return f(x) end")

        class Thing:
            pass

        def run(n):
            for i in range(n):
                echo(i, "text %d" % i, [i, {"k": i}], Thing())
                back(len, "abc")
            lua.gc()

        run(N // 5)                      # warm up allocators and the JIT
        before = rss()
        run(N)
        after = rss()
        assert after - before < 20 * 2 ** 20, (before, after)
        assert lua.memory_used() < 4 * 2 ** 20
    finally:
        lua.close()


def test_states_are_freed():
    before = rss()
    for _ in range(300):
        s = LuaState()
        s.execute("big = {} for i = 1, 20000 do big[i] = i end")
        f = s.eval("function() return 1 end")
        s.close()
        del s, f
    for _ in range(300):
        s = LuaState()                  # dropped without close()
        s.execute("big = {} for i = 1, 20000 do big[i] = i end")
        del s
    assert rss() - before < 30 * 2 ** 20


def test_closed_state_releases_python_objects():
    obj = object()
    base = sys.getrefcount(obj)
    lua = LuaState()
    lua["held"] = obj
    lua.execute("also = {held, held}")              # the same userdata: one reference
    lua["again"] = obj                              # a second userdata
    assert sys.getrefcount(obj) == base + 2
    lua.close()
    assert sys.getrefcount(obj) == base
    with pytest.raises(LuaError):
        lua.eval("held")
