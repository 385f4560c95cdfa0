"""Bounded calls: LuaState(timeout=...) ends endless loops (interpreted or ones the JIT
would compile) with LuaTimeoutError, LuaState(max_memory=...) bounds the Lua heap with
LuaMemoryError; the state stays usable after either."""
import time

import pytest

from sparktorch7 import LuaError, LuaMemoryError, LuaState, LuaTimeoutError


@pytest.fixture
def limited():
    state = LuaState(timeout=0.3)
    try:
        yield state
    finally:
        state.close()


@pytest.mark.parametrize("code", [
    "while true do end",
    "local x = 0 for i = 1, 1e15 do x = x + i % 7 end",                  # a loop the JIT compiles whole
    "local t = {} while true do t[#t % 100 + 1] = {} end",
    "while true do pcall(function() while true do end end) end",          # catching does not help
    "local function f() return f() end f()",                              # an endless tail call
])
def test_endless_loops_time_out(limited, code):
    t0 = time.monotonic()
    with pytest.raises(LuaTimeoutError, match=r"^timed out after 0\.3 s in loop\.lua:1") as info:
        limited.execute(code, name="loop.lua")
    assert 0.25 < time.monotonic() - t0 < 5
    assert isinstance(info.value, TimeoutError) and isinstance(info.value, LuaError)
    assert limited.eval("1 + 1") == 2                                     # usable, with a fresh deadline
    assert limited.execute("local x = 0 for i = 1, 1e5 do x = x + 1 end return x") == 100000


def test_the_timeout_is_per_outermost_call():
    # (the wait is a sleep in Python, then a loop in which the hook looks at the clock)
    with LuaState(timeout=1.0) as limited:
        f = limited.eval("""function(s)
            py.eval('__import__("time").sleep')(s)
            local x = 0 for i = 1, 1e5 do x = x + 1 end
            return s
        end""")
        for _ in range(4):
            assert f(0.3) == 0.3                     # 4 x 0.3 s > 1 s in all: each call has its own
        with pytest.raises(LuaTimeoutError):
            f(1.5)
        # Python called from Lua runs on the outer call's clock
        limited.py_globals["f"] = f
        with pytest.raises(LuaTimeoutError):
            limited.execute("for i = 1, 10 do py.eval('f')(0.3) end")


def test_timeout_turns_the_jit_off_and_back_on():
    with LuaState() as lua:
        assert lua.timeout is None and lua.eval("(jit.status())") is True
        lua.timeout = 0.2
        assert lua.timeout == 0.2 and lua.eval("(jit.status())") is False
        with pytest.raises(LuaTimeoutError):
            lua.execute("while true do end")
        lua.timeout = None
        assert lua.eval("(jit.status())") is True
        assert lua.execute("local x = 0 for i = 1, 1e7 do x = x + 1 end return x") == 10 ** 7
        with pytest.raises(ValueError, match="timeout must be a positive number"):
            lua.timeout = -1
        with pytest.raises(ValueError, match="timeout must be a positive number"):
            LuaState(timeout="1")


def test_max_memory():
    with LuaState(max_memory=64 * 2 ** 20) as lua:
        assert lua.max_memory == 64 * 2 ** 20
        for _ in range(2):
            with pytest.raises(LuaMemoryError, match=r"not enough memory \(the state's max_memory is 67108864 bytes\)"):
                lua.execute("local t = {} for i = 1, 1e8 do t[i] = {i} end")
            assert lua.memory_used() < 16 * 2 ** 20                       # the garbage was collected
        with pytest.raises(LuaMemoryError):
            lua.eval("string.rep('x', 2^27)")
        assert lua.eval("#string.rep('x', 2^24)") == 2 ** 24               # below the limit: fine
        lua.require("torch")
        assert lua.eval("torch.FloatTensor(10):fill(1):sum()") == 10
        with pytest.raises(LuaMemoryError):                                # a Python value too big for it
            lua.eval("function(s) return #s end")("x" * (100 * 2 ** 20))
    with pytest.raises(ValueError, match="max_memory must be a positive number of bytes"):
        LuaState(max_memory=0)
    assert LuaState().max_memory is None


def test_a_tiny_max_memory_never_ends_the_process():
    import os
    import subprocess
    import sys
    import textwrap
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    r = subprocess.run([sys.executable, "-c", textwrap.dedent("""
        from sparktorch7 import LuaState, LuaMemoryError
        lua = LuaState(max_memory=1000)           # below what a fresh state already uses
        for code in ["1 + 1", "{}", "string.rep('x', 100)"]:
            try:
                lua.eval(code)
            except LuaMemoryError as e:
                print("LuaMemoryError", e.lua_message)
        lua.close()
        print("done")
    """)], capture_output=True, text=True, timeout=60,
        env=dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", "")))
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("LuaMemoryError not enough memory (the state's max_memory is 1000 bytes)") == 3
    assert "done" in r.stdout
