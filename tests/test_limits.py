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


# ---------------------------------------------------------------- deadline(seconds): one block
SPIN = "function(n) local x = 0 for i = 1, n do x = x + i % 7 end return x end"   # the JIT compiles it whole


def spin_ref(n):
    """What SPIN returns: sum(i % 7 for i in 1..n)."""
    n = int(n)
    return n // 7 * 21 + (n % 7) * (n % 7 + 1) // 2


def test_deadline_bounds_a_block_of_a_state_without_timeout(lua):
    spin = lua.eval(SPIN)
    assert spin(1e6) == spin_ref(1e6) and lua.eval("(jit.status())") is True
    t0 = time.monotonic()
    with pytest.raises(LuaTimeoutError, match=r"^timed out after 0\.2 s in .*:1 \(function defined at line 1\)"):
        with lua.deadline(0.2):
            assert lua.eval("(jit.status())") is False                    # off inside the block
            spin(1e15)
    assert 0.15 < time.monotonic() - t0 < 5
    assert lua.timeout is None and lua.eval("(jit.status())") is True     # back on after it
    assert spin(1e6) == spin_ref(1e6)                                          # usable, unbounded again
    assert spin(1e8) == spin_ref(1e8)                                        # (longer than 0.2 s off the JIT too)


def test_deadline_is_for_the_whole_block_and_names_the_function(lua):
    lua.execute("""
        local function inner() while true do end end
        function outer() inner() end
        function quick(n) local x = 0 for i = 1, n do x = x + 1 end return x end
    """, name="fns.lua")
    with lua.deadline(0.5):
        t0 = time.monotonic()
        while time.monotonic() - t0 < 0.3:
            assert lua.globals().quick(1000) == 1000                      # many calls, each fine
        with pytest.raises(LuaTimeoutError, match=r"^timed out after 0\.5 s in fns\.lua:2 \(function 'inner'\)"):
            lua.globals().outer()
        assert time.monotonic() - t0 < 0.8                               # the block's clock, not the call's
        with pytest.raises(LuaTimeoutError):                             # the block is over: every long call fails
            lua.globals().quick(1e12)
        assert lua.globals().quick(10) == 10                             # short ones still end
    assert lua.globals().quick(1e7) == 10 ** 7


def test_deadline_nests_and_combines_with_the_timeout():
    with LuaState(timeout=5) as lua:
        spin = lua.eval(SPIN)
        with lua.deadline(1):
            t0 = time.monotonic()
            with pytest.raises(LuaTimeoutError, match=r"^timed out after 0\.2 s"):
                with lua.deadline(0.2):                                  # the inner, earlier end
                    spin(1e15)
            assert time.monotonic() - t0 < 0.8
            with pytest.raises(LuaTimeoutError, match=r"^timed out after 1 s"):
                with lua.deadline(30):                                   # cannot extend the outer one
                    spin(1e15)
        with pytest.raises(LuaTimeoutError, match=r"^timed out after 0\.1 s"):
            with lua.deadline(0.1):                                      # earlier than the timeout
                spin(1e15)
        assert lua.timeout == 5 and lua.eval("(jit.status())") is False  # the state's own mode kept
        lua.timeout = None
        assert lua.eval("(jit.status())") is True


def test_deadline_checks(lua):
    for bad in (0, -1, "1", None, True, float("nan")):
        with pytest.raises(ValueError, match="deadline seconds must be a positive number"):
            lua.deadline(bad)
    block = lua.deadline(1)
    assert repr(block) == "<LuaState.deadline(1 s)>"
    lua.py_globals["enter"] = block.__enter__
    with pytest.raises(LuaError, match="cannot begin inside a Lua call of its own state"):
        lua.execute("py.eval('enter')()")
    with block:
        assert repr(block) == "<LuaState.deadline(1 s) open>"
        with pytest.raises(RuntimeError, match="already open"):
            block.__enter__()
    with block:                                                          # reusable once closed
        assert lua.eval("(jit.status())") is False
    assert lua.eval("(jit.status())") is True
    lua.close()
    with pytest.raises(st_closed()):
        with block:
            pass


def st_closed():
    from sparktorch7 import LuaClosedError
    return LuaClosedError
