"""A Lua error inside a __gc finalizer is reported as a RuntimeWarning and never ends the
process: interpreted or JIT-compiled, from Lua's collectgarbage(), from GC steps that
Python-side calls trigger, and while the state closes. Each case runs in a subprocess so
that a panic or a crash fails its test instead of the suite."""
import os
import subprocess
import sys
import textwrap
import warnings

import pytest

from sparktorch7 import LuaState

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Lua snippets that register a finalizer raising "boom <n>", one per way Lua code can
REGISTER = {
    "newproxy": "local u = newproxy(true) getmetatable(u).__gc = function() error('boom ' .. i) end",
    "newproxy-shared": "local u = newproxy(base) local v = newproxy(u)",
    "newproxy-reassigned": ("local u = newproxy(true) local mt = getmetatable(u) "
                            "mt.__gc = function() end mt.__gc = function() error('boom ' .. i) end"),
    "debug.setmetatable": "local u = debug.setmetatable(newproxy(), {__gc = function() error('boom ' .. i) end})",
    "debug.setmetatable-later": ("local mt = {} local u = newproxy() debug.setmetatable(u, mt) "
                                 "mt.__gc = function() error('boom ' .. i) end"),
    "debug.getmetatable": ("local u = newproxy(true) debug.getmetatable(u).__gc = function() error('boom ' .. i) end"),
    "ffi.gc": "local c = ffi.gc(ffi.new('int[1]'), function() error('boom ' .. i) end)",
    "ffi.gc-c-function": "local c = ffi.gc(ffi.new('int[1]'), error)",
    "ffi.metatype": "local c = Boom(i)",
    "not-callable": "local u = newproxy(true) getmetatable(u).__gc = true",
}

PRELUDE = """
ffi.cdef 'typedef struct { int n; } boom_t;'
Boom = ffi.metatype('boom_t', {__gc = function(c) error('boom ' .. c.n) end})
base = newproxy(true)
getmetatable(base).__gc = function() error('boom base') end
"""


def run_isolated(code, timeout=120):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-W", "always::RuntimeWarning", "-c", textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=timeout, env=env)


def check(r, marker="done"):
    assert r.returncode == 0, f"exit {r.returncode}\n{r.stderr[-3000:]}"
    assert "PANIC" not in r.stderr
    assert marker in r.stdout, r.stdout + r.stderr[-3000:]


@pytest.mark.parametrize("how", sorted(REGISTER))
@pytest.mark.parametrize("jit", ["interpreted", "jit"])
def test_finalizer_errors_from_every_way_to_register_one(how, jit):
    # 10^5 objects in a loop the JIT compiles (the GC runs their finalizers at trace exits)
    # or with the JIT off; then a full collection from Lua
    r = run_isolated(f"""
        import warnings
        from sparktorch7 import LuaState
        lua = LuaState()
        lua.execute({PRELUDE!r})
        if {jit == "interpreted"!r}:
            lua.execute("jit.off()")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            n = lua.execute("for i = 1, 1e5 do {REGISTER[how]} end collectgarbage() collectgarbage() return 7")
        print("result", n)
        msgs = [str(w.message) for w in caught]
        assert all(w.category is RuntimeWarning for w in caught), [w.category for w in caught]
        print("warnings", len(msgs))
        print("first", msgs[0] if msgs else None)
        print("last", msgs[-1] if msgs else None)
        print("after", lua.eval("1 + 1"))
        lua.close()
        print("done")
    """)
    check(r)
    assert "result 7" in r.stdout
    assert "after 2" in r.stdout
    assert "error in a Lua __gc finalizer (ignored):" in r.stdout, r.stdout
    if how == "not-callable":
        assert "attempt to call a boolean value" in r.stdout
    elif how == "ffi.gc-c-function":
        assert "first error in a Lua __gc finalizer (ignored): (error object is a cdata value)" in r.stdout
    elif how == "newproxy-shared":
        assert "boom base" in r.stdout
    else:
        assert "boom " in r.stdout
    # 10 messages at most per report, then a count of the rest
    count = int(r.stdout.split("warnings ")[1].split()[0])
    assert 1 <= count <= 11
    if count == 11:
        assert "more errors in Lua __gc finalizers (ignored, not shown)" in r.stdout


def test_gc_steps_run_by_python_side_calls():
    # a GC step in a conversion (a big list as argument, a table as result) or in creating
    # a proxy runs the finalizers: a warning after that call, never a LuaError or a panic
    r = run_isolated(f"""
        import warnings
        from sparktorch7 import LuaState, LuaError
        lua = LuaState()
        lua.execute({PRELUDE!r})
        count = lua.eval("function(t) return #t end")
        table = lua.eval("function() local t = {{}} for i = 1, 1000 do t[i] = 's' .. i end return t end")
        make = lua.eval("function(n) for i = 1, n do {REGISTER['newproxy']} {REGISTER['ffi.metatype']} end end")
        errors = 0
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for k in range(200):
                make(200)
                try:
                    assert count(["s%d" % j for j in range(2000)]) == 2000
                    assert count(list(range(5000))) == 5000
                    assert len(table()) == 1000
                    lua.globals()
                    lua["x"] = {{"a": [1, 2, 3]}}
                except LuaError as e:
                    errors += 1
        print("errors", errors, "warnings", len(caught))
        print("boom" in str(caught[0].message))
        lua.close()
        print("done")
    """)
    check(r)
    assert "errors 0 warnings" in r.stdout
    assert int(r.stdout.split("warnings ")[1].split()[0]) > 0
    assert "True" in r.stdout


def test_collect_from_python_and_close():
    r = run_isolated(f"""
        import warnings
        from sparktorch7 import LuaState
        tails = lambda ws: sorted(str(w.message).split("boom ")[1] for w in ws)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lua = LuaState()
            lua.execute({PRELUDE!r})
            lua.execute("for i = 1, 5 do {REGISTER['newproxy']} end")
            lua.gc()
            print("after gc", len(caught), tails(caught))
            del caught[:]
            lua.execute("keep = {{}} for i = 1, 3 do {REGISTER['ffi.gc']} keep[i] = c end")
            lua.close()                         # finalizers of live objects (and `base`) run now
            print("after close", len(caught), tails(caught))
            del caught[:]
            lua2 = LuaState()
            lua2.execute({PRELUDE!r})
            del lua2                            # the same from the state's deallocation
            print("after del", len(caught), tails(caught))
        print("done")
    """)
    check(r)
    assert "after gc 5 ['1', '2', '3', '4', '5']" in r.stdout
    assert "after close 4 ['1', '2', '3', 'base']" in r.stdout
    assert "after del 1 ['base']" in r.stdout


def test_the_report_never_raises():
    # with warnings turned into errors the report goes to sys.unraisablehook instead
    r = run_isolated(f"""
        import sys, warnings
        from sparktorch7 import LuaState
        seen = []
        sys.unraisablehook = lambda u: seen.append(str(u.exc_value))
        warnings.simplefilter("error")
        lua = LuaState()
        lua.execute({PRELUDE!r})
        print("result", lua.execute("for i = 1, 3 do {REGISTER['newproxy']} end collectgarbage() return 1"))
        print("seen", len(seen), seen[0])
        lua.close()
        print("done")
    """)
    check(r)
    assert "result 1" in r.stdout
    assert "seen 3 error in a Lua __gc finalizer (ignored)" in r.stdout


def test_a_python_exception_in_a_finalizer(lua):
    lua.execute("local u = newproxy(true) getmetatable(u).__gc = function() py.eval('1/0') end")
    with pytest.warns(RuntimeWarning, match=r"finalizer \(ignored\): ZeroDivisionError\('division by zero'\)"):
        lua.gc()


def test_finalizers_that_do_not_raise_still_run(lua):
    lua.execute("""
        ran = {}
        local u = newproxy(true) getmetatable(u).__gc = function() ran[#ran + 1] = 'proxy' end
        debug.setmetatable(newproxy(), {__gc = function() ran[#ran + 1] = 'setmetatable' end})
        ffi.gc(ffi.new('int[1]'), function() ran[#ran + 1] = 'ffi.gc' end)
        ffi.cdef 'typedef struct { int n; } fine_t;'
        local Fine = ffi.metatype('fine_t', {__gc = function(c) ran[#ran + 1] = 'metatype ' .. c.n end})
        local c = Fine(5)
    """)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lua.gc()
    assert sorted(lua.eval("ran").values()) == ["ffi.gc", "metatype 5", "proxy", "setmetatable"]
    # a finalizer removed with ffi.gc(c, nil) does not run
    lua.execute("ran = {} local c = ffi.gc(ffi.new('int[1]'), function() ran[1] = 'no' end) ffi.gc(c, nil)")
    lua.gc()
    assert lua.eval("#ran") == 0


def test_proxy_metatables_keep_their_semantics(lua):
    lua.execute("""
        u = newproxy(true)
        mt = getmetatable(u)
        mt.__index = function(_, k) return k .. '!' end
        mt.__len = function() return 42 end
        v = newproxy(u)
        w = newproxy(false)
        debug.setmetatable(w, getmetatable(u))     -- the stand-in stands for the hidden table
    """)
    assert lua.eval("u.x") == "x!"
    assert lua.eval("#u") == 42
    assert lua.eval("getmetatable(v) == mt and getmetatable(w) == mt and debug.getmetatable(u) == mt") is True
    assert lua.eval("w.y") == "y!"
    assert lua.eval("type(mt.__index)") == "function"
    lua.execute("mt.__metatable = 'locked'")
    assert lua.eval("getmetatable(u)") == "locked"
    assert lua.eval("type(newproxy())") == "userdata"
    with pytest.raises(Exception, match="boolean or proxy expected"):
        lua.execute("newproxy({})")


def test_ffi_metatype_keeps_its_index_table(lua):
    lua.execute("""
        ffi.cdef 'typedef struct { double x; } point_t;'
        local methods = {}
        Point = ffi.metatype('point_t', {__index = methods, __gc = function() end,
                                         __add = function(a, b) return a.x + b.x end})
        function methods:twice() return 2 * self.x end     -- the __index table may grow later
    """)
    assert lua.eval("Point(3):twice()") == 6
    assert lua.eval("Point(1) + Point(2)") == 3


def test_runtime_finalizers_still_free_memory(lua):
    # storages' blocks (ffi.gc with ffi.C.free) and Python references (_ref_gc) are freed
    import gc
    import sys as _sys
    lua.execute("require 'torch'")
    obj = object()
    base = _sys.getrefcount(obj)
    keep = lua.eval("function(o) holder = {o, torch.FloatTensor(1000)} end")
    for _ in range(1000):
        keep(obj)
    lua.execute("holder = nil")
    lua.gc()
    gc.collect()
    assert _sys.getrefcount(obj) == base
    import psutil
    lua.execute("for i = 1, 100 do local t = torch.DoubleTensor(10000) end")
    lua.gc()
    before_heap, before_rss = lua.memory_used(), psutil.Process().memory_info().rss
    lua.execute("for i = 1, 10000 do local t = torch.DoubleTensor(10000) end")   # 800 MB in all
    lua.gc()
    assert lua.memory_used() < before_heap + 2 ** 20
    assert psutil.Process().memory_info().rss < before_rss + 100 * 2 ** 20
