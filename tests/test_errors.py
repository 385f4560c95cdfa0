"""Errors across the boundary: class, message, traceback; nothing ends the process."""
import os
import pickle
import subprocess
import sys
import textwrap

import pytest

from sparktorch7 import LuaError, LuaMemoryError, LuaState, LuaSyntaxError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_isolated(code, timeout=120):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout, env=env)


# ---------------------------------------------------------------- Lua runtime errors
def test_runtime_error_message_and_traceback(lua):
    lua.execute("function explode(x)\n  error('kaboom ' .. x)\nend\n"
                "function caller(x) explode(x) end", name="=bombs")
    with pytest.raises(LuaError) as info:
        lua.caller("now")
    e = info.value
    assert type(e) is LuaError
    assert e.lua_message == "bombs:2: kaboom now"
    assert e.lua_traceback.startswith("stack traceback:")
    assert "in function 'explode'" in e.lua_traceback
    assert "bombs:4" in e.lua_traceback              # the caller's line
    assert str(e).startswith("bombs:2: kaboom now\nstack traceback:")


def test_error_with_a_non_string_value(lua):
    with pytest.raises(LuaError) as info:
        lua.execute("error({code = 7})")
    assert info.value.value == {"code": 7}
    assert "table value" in info.value.lua_message
    with pytest.raises(LuaError, match="nil value"):
        lua.execute("error()")


def test_builtin_errors(lua):
    with pytest.raises(LuaError, match=r"attempt to call global 'undefined_function' \(a nil value\)"):
        lua.execute("undefined_function()")
    with pytest.raises(LuaError, match="attempt to perform arithmetic on a table value"):
        lua.execute("return {} + 1")
    with pytest.raises(LuaError, match=r"attempt to index local 'x' \(a number value\)"):
        lua.eval("function(x) return x.field end")(1)


def test_calling_a_non_function_proxy(lua):
    co = lua.eval("coroutine.create(function() end)")
    with pytest.raises(LuaError, match="attempt to call a thread value"):
        co()


def test_errors_pickle(lua):
    with pytest.raises(LuaError) as info:
        lua.execute("error('to pickle')")
    again = pickle.loads(pickle.dumps(info.value))
    assert type(again) is LuaError and "to pickle" in str(again)


# ---------------------------------------------------------------- syntax errors
def test_syntax_error_names_chunk_and_line(lua):
    with pytest.raises(LuaSyntaxError) as info:
        lua.execute("x = 1\ny = = 2\n", name="myscript")
    e = info.value
    assert isinstance(e, LuaError)
    assert e.chunk == "myscript" and e.line == 2
    assert "unexpected symbol near '='" in e.lua_message


def test_syntax_error_default_chunk_name(lua):
    with pytest.raises(LuaSyntaxError) as info:
        lua.eval("1 +")
    assert info.value.chunk == '[string "1 +"]' and info.value.line == 1


def test_syntax_error_in_file(lua, tmp_path):
    f = tmp_path / "broken.lua"
    f.write_text("local a = 1\n\nfunction (\n")
    with pytest.raises(LuaSyntaxError) as info:
        lua.dofile(f)
    assert info.value.chunk == str(f) and info.value.line == 3
    # (Lua's own message shortens a long chunk name to 60 bytes: "...tail/broken.lua:3:")
    assert "broken.lua:3:" in info.value.lua_message


# ---------------------------------------------------------------- Python exceptions through Lua
def test_python_exception_comes_back_as_itself(lua):
    raised = []

    def fail(x):
        err = KeyError(f"missing {x}")
        raised.append(err)
        raise err

    lua.execute("function middle(f, x) local y = f(x) return y end\n"
                "function outer(f, x) local y = middle(f, x) return y end")
    with pytest.raises(KeyError) as info:
        lua.outer(fail, "thing")
    e = info.value
    assert e is raised[0]
    assert "in function 'middle'" in e.lua_traceback
    assert any("in function 'middle'" in note for note in e.__notes__)


def test_exception_from_py_exec_and_py_eval(lua):
    with pytest.raises(ZeroDivisionError):
        lua.execute("py.exec('1 / 0')")
    with pytest.raises(NameError, match="nothing_here"):
        lua.execute("return py.eval('nothing_here')")
    with pytest.raises(SyntaxError):
        lua.execute("py.exec('def (')")


def test_lua_can_catch_a_python_exception(lua):
    def fail():
        raise ValueError("caught in Lua")

    ok, msg = lua.eval("function(f) local ok, e = pcall(f) return ok, tostring(e) end")(fail)
    assert ok is False
    assert msg == "Python exception: ValueError: caught in Lua"
    # rethrown by Lua: still the same exception class in Python
    with pytest.raises(ValueError, match="caught in Lua"):
        lua.eval("function(f) local ok, e = pcall(f) error(e) end")(fail)


def test_nested_lua_error_inside_python_inside_lua(lua):
    inner = lua.eval("function() error('deep') end")
    with pytest.raises(LuaError, match="deep"):
        lua.eval("function(f) f() end")(inner)


def test_base_exceptions_pass_through(lua):
    def stop():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        lua.eval("function(f) f() end")(stop)
    assert lua.eval("1") == 1


# ---------------------------------------------------------------- no sequence of calls crashes
def test_failed_conversions_keep_the_stack_balanced(lua):
    f = lua.eval("function(...) return select('#', ...) end")
    for _ in range(20000):
        with pytest.raises(OverflowError):
            f(1, "two", [3], 2 ** 60)
    assert f(1, 2, 3) == 3
    assert lua.execute("return 1") == 1


def test_errors_keep_the_stack_balanced(lua):
    f = lua.eval("function() error('x') end")
    for _ in range(20000):
        with pytest.raises(LuaError):
            f()
    assert lua.eval("select('#', 1, 2)") == 2


def test_deep_recursion_between_python_and_lua(lua):
    f = lua.eval("function(g, n) return g(n) end")

    def g(n):
        return 0 if n == 0 else f(g, n - 1)

    assert g(50) == 0
    with pytest.raises((RecursionError, LuaError)):
        g(100000)
    assert g(10) == 0


def test_lua_stack_overflow(lua):
    with pytest.raises(LuaError, match="stack overflow"):
        lua.execute("local function r() return 1 + r() end return r()")
    assert lua.eval("1") == 1


def test_yield_across_python_is_an_error(lua):
    with pytest.raises(LuaError, match="yield across"):
        lua.execute("local co = coroutine.wrap(function() py.ref(coroutine.yield)(1) end) return co()")


# ---------------------------------------------------------------- out of memory
@pytest.mark.parametrize("code", [
    "return string.rep('x', 2^30)",
    "local t = {} for i = 1, 1e9 do t[i] = {i} end",
    "local s = 'x' for i = 1, 40 do s = s .. s end",
], ids=["string.rep", "table-growth", "concat"])
def test_out_of_memory_is_lua_memory_error_and_the_process_survives(code):
    r = run_isolated(f"""
        import resource
        import psutil
        from sparktorch7 import LuaMemoryError, LuaState
        lua = LuaState()
        vms = psutil.Process().memory_info().vms
        resource.setrlimit(resource.RLIMIT_AS, (vms + 400 * 2**20, resource.RLIM_INFINITY))
        for attempt in range(2):
            try:
                lua.execute({code!r})
            except LuaMemoryError as e:
                assert isinstance(e, MemoryError), type(e).__mro__
                print("LuaMemoryError:", e.lua_message)
            else:
                print("no error")
            # the garbage of the failed chunk is collected: the state works again
            print("after:", lua.eval("1 + 1"), lua.memory_used() < 100 * 2**20)
        lua.close()
        print("done")
    """)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.count("LuaMemoryError: not enough memory") == 2, r.stdout
    assert r.stdout.count("after: 2 True") == 2, r.stdout
    assert "done" in r.stdout


def test_out_of_memory_while_converting_between_python_and_lua():
    # allocations made while converting (a result of Python code that Lua called,
    # an argument from Python) fail inside lua_pcall, never as unprotected errors
    r = run_isolated("""
        import resource
        import psutil
        from sparktorch7 import LuaMemoryError, LuaState
        lua = LuaState()
        big = "x" * (300 * 2**20)
        lua.py_globals["big"] = big
        vms = psutil.Process().memory_info().vms
        resource.setrlimit(resource.RLIMIT_AS, (vms + 200 * 2**20, resource.RLIM_INFINITY))
        for label, run in [
            ("callback result", lambda: lua.execute("local s = py.eval('big') return #s")),
            ("argument", lambda: lua.eval("function(s) return #s end")(big)),
            ("argument in a list", lambda: lua.eval("function(t) return #t[2] end")([1, big])),
        ]:
            try:
                run()
            except LuaMemoryError as e:
                print(label, "->", e.lua_message)
            print("after:", lua.eval("1 + 1"))
    """)
    assert r.returncode == 0, r.stderr[-2000:]
    for label in ("callback result", "argument", "argument in a list"):
        assert f"{label} -> not enough memory" in r.stdout, r.stdout
    assert r.stdout.count("after: 2") == 3
