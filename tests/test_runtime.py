"""LuaState: opening, running code, globals, proxies, closing, several states."""
import copy
import gc
import os
import subprocess
import sys
import textwrap

import pytest

import sparktorch7
from sparktorch7 import LuaClosedError, LuaError, LuaFunction, LuaObject, LuaState, LuaTable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_isolated(code, timeout=60):
    """Run Python code in a fresh interpreter (for things that used to kill the process)."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout, env=env)


# ---------------------------------------------------------------- a fresh state
def test_standard_libraries_jit_and_ffi(lua):
    for lib in ("string", "table", "math", "io", "os", "coroutine", "debug", "package", "bit", "jit"):
        assert lua.eval(f"type({lib})") == "table", lib
    assert lua.eval("jit.version").startswith("LuaJIT 2.1")
    assert lua.eval("(jit.status())") is True
    assert sparktorch7.LUAJIT_VERSION.startswith("LuaJIT 2.1")
    assert lua.eval("ffi == require('ffi')") is True
    assert lua.eval("ffi.sizeof('double')") == 8


def test_package_path_has_the_shipped_lua_folder(lua):
    lua_dir = os.path.join(os.path.dirname(os.path.abspath(sparktorch7.__file__)), "lua")
    path = lua.eval("package.path").split(";")
    assert path[0] == lua_dir + "/?.lua"
    assert path[1] == lua_dir + "/?/init.lua"


def test_py_module_is_global_and_loaded(lua):
    assert lua.eval("type(py)") == "table"
    assert lua.eval("require('py') == py") is True


def test_states_are_independent():
    a, b = LuaState(), LuaState()
    try:
        a.execute("x = 1")
        assert b["x"] is None
        assert a["x"] == 1
    finally:
        a.close()
        b.close()


# ---------------------------------------------------------------- running code
def test_execute_results_none_one_several(lua):
    assert lua.execute("local x = 1") is None
    assert lua.execute("return 42") == 42
    assert lua.execute("return 1, 'two', nil, true") == (1, "two", None, True)
    assert lua.execute("return nil") is None


def test_execute_passes_no_arguments_and_accepts_bytes(lua):
    assert lua.execute("return select('#', ...)") == 0
    assert lua.execute(b"return 'bytes code'") == "bytes code"
    with pytest.raises(TypeError, match="str or bytes"):
        lua.execute(123)


def test_execute_chunk_name_shows_in_errors(lua):
    with pytest.raises(LuaError, match=r"^myscript:2: oops"):
        lua.execute("local a = 1\nerror('oops')", name="myscript")
    with pytest.raises(LuaError, match=r"^/some/file.lua:1: oops"):
        lua.execute("error('oops')", name="@/some/file.lua")


def test_eval(lua):
    assert lua.eval("1 + 2") == 3
    assert lua.eval("'a' .. 'b'") == "ab"
    assert lua.eval("1, 2") == (1, 2)
    assert isinstance(lua.eval("function() end"), LuaFunction)


def test_dofile(lua, tmp_path):
    script = tmp_path / "script.lua"
    script.write_text("#!/usr/bin/env luajit\nfunction twice(x) return 2 * x end\nreturn 'loaded', ...\n")
    assert lua.dofile(script) == "loaded"
    assert lua.twice(21) == 42
    bad = tmp_path / "bad.lua"
    bad.write_text("\n\nerror('in file')\n")
    with pytest.raises(LuaError, match=r"bad\.lua:3: in file"):
        lua.dofile(str(bad))
    with pytest.raises(FileNotFoundError):
        lua.dofile(tmp_path / "missing.lua")


def test_require(lua, tmp_path):
    (tmp_path / "mymod.lua").write_text("loads = (loads or 0) + 1\nreturn {answer = 42}\n")
    lua.execute(f"package.path = '{tmp_path}/?.lua;' .. package.path")
    assert lua.require("mymod") == {"answer": 42}
    assert lua.require("mymod") == {"answer": 42}
    assert lua["loads"] == 1
    assert lua.eval("package.loaded.mymod.answer") == 42
    with pytest.raises(LuaError, match="module 'nosuchmod' not found"):
        lua.require("nosuchmod")
    with pytest.raises(TypeError):
        lua.require(42)


# ---------------------------------------------------------------- globals
def test_globals_as_attributes_and_items(lua):
    lua.execute("function Hello() return 'hello' end\n"
                "function DoIt(a, b) return a + b, a * b end\n"
                "x = 7")
    assert lua.Hello() == "hello"
    assert lua.DoIt(1, 2) == (3, 2)
    assert lua["x"] == 7
    assert lua["missing"] is None
    with pytest.raises(AttributeError, match="no global named 'missing'"):
        lua.missing
    lua["y"] = [1, 2]
    assert lua.eval("y[2]") == 2
    with pytest.raises(TypeError):
        lua[1]


def test_globals_proxy_is_live(lua):
    g = lua.globals()
    assert isinstance(g, LuaTable)
    g["fromPython"] = 5
    assert lua.eval("fromPython") == 5
    g.viaAttr = "attr"
    assert lua.eval("viaAttr") == "attr"
    lua.execute("fromLua = 'late'")
    assert g["fromLua"] == "late"
    assert g.fromLua == "late"
    assert "fromLua" in g.keys()
    snapshot = g["_G"]                 # tables="dict": a deep copy, cycles kept
    assert snapshot["_G"] is snapshot and snapshot["fromLua"] == "late"
    del g.viaAttr
    assert lua.eval("viaAttr") is None


def test_globals_with_a_strict_metatable(lua):
    # reading an unknown global runs __index: its error must come back, not abort
    lua.execute("setmetatable(_G, {__index = function(_, k) error('undeclared ' .. k, 2) end,"
                "                  __newindex = function(t, k, v) rawset(t, k, v * 10) end})")
    with pytest.raises(LuaError, match="undeclared nope"):
        lua.nope
    with pytest.raises(LuaError, match="undeclared nope"):
        lua["nope"]
    lua["z"] = 2
    assert lua["z"] == 20


def test_dir_lists_globals(lua):
    lua.execute("function Hello() end; someValue = 1")
    names = dir(lua)
    for name in ("Hello", "someValue", "print", "execute", "close"):
        assert name in names


# ---------------------------------------------------------------- proxies
def test_table_proxy_operations():
    lua = LuaState(tables="proxy")
    try:
        t = lua.eval("{10, 20, 30, name = 'n'}")
        assert isinstance(t, LuaTable)
        assert len(t) == 3
        assert t[1] == 10 and t.name == "n"
        t[4] = 40
        t.extra = {"a": 1}
        assert lua.eval("function(t) return t[4], t.extra.a end")(t) == (40, 1)
        assert sorted(map(str, t.keys())) == ["1", "2", "3", "4", "extra", "name"]
        assert "name" in t and "nothing" not in t
        assert t.to_python() == {1: 10, 2: 20, 3: 30, 4: 40, "name": "n", "extra": {"a": 1}}
        assert t.to_python(tables="list") == {1: 10, 2: 20, 3: 30, 4: 40, "name": "n", "extra": {"a": 1}}
        assert lua.eval("{1, 2}").to_python(tables="list") == [1, 2]
        assert lua.table(1, 2, x=3).to_python() == {1: 1, 2: 2, "x": 3}
        assert lua.table([5, 6]).to_python(tables="list") == [5, 6]
    finally:
        lua.close()


def test_proxy_identity_equality_hash(lua):
    lua.execute("t = {}; u = {}")
    g = lua.globals()
    lua_t = LuaState(tables="proxy")
    try:
        lua_t.execute("t = {}; u = {}")
        a, b, c = lua_t["t"], lua_t["t"], lua_t["u"]
        assert a == b and hash(a) == hash(b)
        assert a != c
        assert lua_t.eval("function(x) return x == t end")(a) is True
        assert a != g
    finally:
        lua_t.close()


def test_coroutine_is_a_lua_object(lua):
    co = lua.eval("coroutine.create(function(a) local b = coroutine.yield(a + 1) return b * 2 end)")
    assert type(co) is LuaObject
    assert co.lua_type == "thread"
    resume = lua.eval("coroutine.resume")
    assert resume(co, 1) == (True, 2)
    assert resume(co, 5) == (True, 10)
    assert lua.eval("coroutine.status")(co) == "dead"


def test_userdata_is_a_lua_object(lua):
    ud = lua.eval("newproxy(true)")
    assert type(ud) is LuaObject and ud.lua_type == "userdata"
    assert lua.eval("function(u) return type(u) end")(ud) == "userdata"


def test_call_list_returns_all_results(lua):
    f = lua.eval("function(n) return unpack({1, 2, 3}, 1, n) end")
    assert f.call_list(0) == []
    assert f.call_list(1) == [1]
    assert f.call_list(3) == [1, 2, 3]
    assert f(0) is None and f(1) == 1 and f(3) == (1, 2, 3)


def test_many_arguments_and_results(lua):
    f = lua.eval("function(...) return select('#', ...), ... end")
    args = tuple(range(5000))
    assert f(*args) == (5000,) + args


def test_objects_cannot_be_made_or_copied_directly(lua):
    with pytest.raises(TypeError):
        LuaFunction()
    orphan = LuaFunction.__new__(LuaFunction)
    with pytest.raises(LuaClosedError):
        orphan()
    with pytest.raises(LuaClosedError):
        orphan.x
    f = lua.eval("function() return 1 end")
    with pytest.raises(TypeError):
        copy.copy(f)
    assert f() == 1


def test_init_twice_is_refused(lua):
    with pytest.raises(RuntimeError, match="already"):
        lua.__init__()
    assert lua.eval("1") == 1


def test_options_are_checked():
    with pytest.raises(ValueError, match="tables"):
        LuaState(tables="set")
    with pytest.raises(LookupError):
        LuaState(encoding="no-such-codec")


# ---------------------------------------------------------------- closing
def test_close_and_context_manager():
    with LuaState() as lua:
        f = lua.eval("function() return 1 end")
        t = lua.globals()
        co = lua.eval("coroutine.create(function() end)")
        assert f() == 1
    assert lua.closed
    for use in (lambda: lua.execute("return 1"), lambda: lua.eval("1"), lambda: lua["x"],
                lambda: lua.x, lambda: lua.globals(), lambda: lua.require("string"),
                lambda: lua.gc(), lambda: lua.memory_used(), lambda: f(), lambda: f.call_list(),
                lambda: t["print"], lambda: t.keys(), lambda: len(t), lambda: str(co),
                lambda: co.lua_type):
        with pytest.raises(LuaClosedError, match="closed"):
            use()
    with pytest.raises(LuaClosedError):
        lua["x"] = 1
    assert "closed" in repr(f) and "closed" in repr(lua)
    lua.close()                      # a second close is fine
    del f, t, co
    gc.collect()


def test_closed_error_is_a_lua_error_and_runtime_error():
    assert issubclass(LuaClosedError, LuaError) and issubclass(LuaClosedError, RuntimeError)


def test_close_from_inside_a_callback_is_refused(lua):
    lua.py_globals["state"] = lua
    with pytest.raises(LuaError, match="cannot be closed"):
        lua.execute("py.exec('state.close()')")
    assert lua.eval("1 + 1") == 2
    del lua.py_globals["state"]


def test_passing_objects_between_states_is_refused():
    a, b = LuaState(), LuaState()
    try:
        fa = a.eval("function() end")
        f_b = b.eval("function(x) return x end")
        with pytest.raises(ValueError, match="another LuaState"):
            f_b(fa)
        with pytest.raises(ValueError, match="another LuaState"):
            f_b([1, {"k": fa}])
        b["g"] = 1
        with pytest.raises(ValueError, match="another LuaState"):
            b["g"] = fa
        a.close()
        with pytest.raises(LuaClosedError):
            f_b(fa)
        assert f_b(3) == 3
    finally:
        a.close()
        b.close()


def test_many_states_coexist():
    states = [LuaState() for _ in range(50)]
    try:
        for i, s in enumerate(states):
            s["i"] = i
        assert [s["i"] for s in states] == list(range(50))
    finally:
        for s in states:
            s.close()


# ---------------------------------------------------------------- things that used to end the process
def test_reference_cycle_through_the_state_is_collected_safely():
    r = run_isolated("""
        import gc
        from sparktorch7 import LuaState
        for _ in range(20):
            lua = LuaState()
            f = lua.eval("function() return 1 end")
            lua.py_globals["f"] = f
            lua.py_globals["lua"] = lua
            lua["keep"] = lua.py_globals
            del f, lua
            gc.collect()
        print("survived")
    """)
    assert r.returncode == 0, r.stderr
    assert "survived" in r.stdout


def test_finalizer_error_during_a_python_call_is_a_warning():
    # a __gc that raises runs in the GC step of some later allocation; outside
    # lua_pcall that was an unprotected error (process exit), then a LuaError raised
    # from whatever call happened to allocate; now a RuntimeWarning (tests/test_finalizers.py)
    r = run_isolated("""
        import warnings
        from sparktorch7 import LuaState, LuaError
        lua = LuaState()
        lua.execute("local p = newproxy(true) getmetatable(p).__gc = function() error('in gc') end")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lua.gc()
        print("gc:", [str(w.message) for w in caught])
        lua.execute("for i = 1, 3 do local p = newproxy(true) getmetatable(p).__gc = function() error('in gc') end end")
        f = lua.eval("function(t) return #t end")
        errors = 0
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for i in range(300):
                try:
                    f(["s%d" % j for j in range(1000)])
                except LuaError as e:
                    errors += 1
        print("errors:", errors, "warnings:", len(caught), "then", f(["a", "b"]))
    """)
    assert r.returncode == 0, r.stderr
    assert "gc: ['error in a Lua __gc finalizer (ignored): " in r.stdout and "in gc" in r.stdout
    assert "errors: 0 warnings: 3 then 2" in r.stdout


def test_debug_library_cannot_misuse_the_reference_metamethods(lua):
    with pytest.raises(TypeError, match="expected a Python reference"):
        lua.execute("return debug.getmetatable(py.ref(1)).__tostring({})")
    # __gc on a foreign userdata is ignored instead of freeing garbage
    lua.execute("debug.getmetatable(py.ref(1)).__gc(io.stdout)")
    assert lua.eval("io.type(io.stdout)") == "file"


def test_the_registry_is_never_traversed(lua):
    # every proxy made while converting the registry would add an entry to it
    reg = lua.eval("debug.getregistry()")
    assert isinstance(reg, LuaTable)
    with pytest.raises(TypeError, match="registry"):
        reg.items()
    assert isinstance(lua.eval("{r = debug.getregistry()}")["r"], LuaTable)


def test_dir_does_not_convert_global_values(lua):
    lua.execute("huge = {} for i = 1, 200000 do huge[i] = {i} end")
    keys = lua.globals().keys()
    assert "huge" in keys and "string" in keys
    assert "huge" in dir(lua)


def test_finalizers_calling_python_while_the_state_closes():
    # Lua __gc finalizers run inside lua_close; they may call Python, but no new
    # proxy of the closing state may escape (it would outlive, or resurrect, it)
    r = run_isolated("""
        import gc
        from sparktorch7 import LuaState
        kept = []
        for mode in ("proxy", "dict", "proxy"):
            lua = LuaState(tables=mode)
            lua.py_globals["keep"] = kept.append
            lua.execute('''
              local p = newproxy(true)
              getmetatable(p).__gc = function()
                py.eval('keep')({1, 2})
                py.eval('keep')(function() end)
              end
              holder = p''')
            if mode == "dict":
                lua.close()
            del lua
            gc.collect()
        print("kept", kept)
    """)
    assert r.returncode == 0, r.stderr
    assert "kept [{1: 1, 2: 2}]" in r.stdout


def test_function_call_protocols(lua):
    import functools
    f = lua.eval("function(...) return select('#', ...), ... end")
    assert f() == 0
    assert f(*range(4)) == (4, 0, 1, 2, 3)
    assert functools.partial(f, "a")("b") == (2, "a", "b")
    assert list(map(lua.eval("function(x) return x * 2 end"), [1, 2, 3])) == [2, 4, 6]
    assert f.__call__(1) == (1, 1)
    with pytest.raises(TypeError, match="keyword"):
        f(x=1)
