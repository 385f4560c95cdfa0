"""Allocations that cannot be satisfied are LuaMemoryError (a MemoryError), saying what
size was asked for: tensors and storages of the torch runtime, numpy's MemoryError in
Python code that Lua called, and Lua's own memory errors even when Lua code raised them
again. The state stays usable afterwards."""
import os
import subprocess
import sys
import textwrap

import pytest

from sparktorch7 import LuaError, LuaMemoryError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def torch(lua):
    lua.execute("require 'torch'")
    return lua


@pytest.mark.parametrize("code, asked", [
    ("torch.FloatTensor(2^40)", "1099511627776 elements of 4 bytes (4.0 TiB)"),
    ("torch.FloatTensor(2^20, 2^20)", "1099511627776 elements of 4 bytes (4.0 TiB)"),
    ("torch.DoubleStorage(2^50)", "1125899906842624 elements of 8 bytes (8.0 PiB)"),
    ("torch.DoubleStorage(2^45)", "35184372088832 elements of 8 bytes (256.0 TiB)"),   # calloc fails
    ("torch.ByteTensor(10):resize(2^50, 2^10)", "1152921504606846976 elements of 1 bytes (1.0 EiB)"),
    ("torch.LongStorage(3):resize(2^47)", "140737488355328 elements of 8 bytes (1.0 PiB)"),
    ("torch.zeros(2^42)", "4398046511104 elements of 8 bytes (32.0 TiB)"),
    ("torch.FloatTensor(2^40, 2^40)", "1208925819614629174706176 elements of 4 bytes (4.0 YiB)"),
])
def test_tensor_and_storage_allocations(torch, code, asked):
    with pytest.raises(LuaMemoryError) as info:
        torch.execute(f"local x = {code}", name="user.lua")
    e = info.value
    assert isinstance(e, MemoryError) and isinstance(e, LuaError)
    assert "not enough memory: cannot allocate " + asked in e.lua_message
    assert e.lua_message.startswith("user.lua:1: <torch."), e.lua_message     # blames the caller
    assert torch.eval("torch.FloatTensor(3):fill(2):sum()") == 6


def test_bad_sizes_stay_plain_lua_errors(torch):
    for code in ("torch.FloatTensor(-5)", "torch.FloatTensor(0/0)", "torch.DoubleStorage(1.5)"):
        with pytest.raises(LuaError) as info:
            torch.execute(f"local x = {code}")
        assert not isinstance(info.value, MemoryError), code


def test_caught_in_lua_like_any_error(torch):
    ok, msg = torch.execute("return pcall(torch.FloatTensor, 2^40)")
    assert ok is False and "not enough memory: cannot allocate 1099511627776 elements" in msg


@pytest.mark.parametrize("code", [
    "py.eval('__import__(\"numpy\").empty(2**50)')",
    "torch._np.callmod('numpy', 'zeros', 2^50)",
])
def test_numpy_memory_error_from_lua(torch, code):
    with pytest.raises(LuaMemoryError, match=r"MemoryError: Unable to allocate 8\.00 [PE]iB") as info:
        torch.execute(code)
    assert isinstance(info.value.value, MemoryError)
    assert info.value.__cause__ is info.value.value
    assert "in main chunk" in info.value.lua_traceback


def test_other_python_exceptions_stay_themselves(torch):
    with pytest.raises(ZeroDivisionError):
        torch.execute("py.eval('1/0')")


def test_lua_memory_errors_raised_again_by_lua_code(lua):
    # LUA_ERRMEM is LuaMemoryError; the same message raised again by error() stays one
    with pytest.raises(LuaMemoryError):
        lua.execute("error('not enough memory', 0)")
    with pytest.raises(LuaMemoryError, match="chunk:1: not enough memory"):
        lua.execute("error('not enough memory')", name="chunk")
    with pytest.raises(LuaError) as info:
        lua.execute("error('the cache has not enough memory left')")
    assert not isinstance(info.value, MemoryError)


def run_isolated(code, timeout=120):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout, env=env)


def test_under_an_address_space_limit():
    # real failures: calloc for a tensor, numpy for an array that Lua asked for, Lua's own
    # allocator for a string; then a real Lua ERRMEM caught in Lua and raised again
    r = run_isolated("""
        import resource
        import psutil
        from sparktorch7 import LuaMemoryError, LuaState
        lua = LuaState()
        lua.execute("require 'torch'")
        vms = psutil.Process().memory_info().vms
        resource.setrlimit(resource.RLIMIT_AS, (vms + 300 * 2**20, resource.RLIM_INFINITY))
        for label, code in [
            ("tensor", "local t = torch.FloatTensor(2^28)"),
            ("numpy", "local a = torch._np.callmod('numpy', 'ones', 2^27)"),
            ("string", "local s = string.rep('x', 2^29)"),
            ("again", "local ok, e = pcall(string.rep, 'x', 2^29) error(e, 0)"),
        ]:
            for attempt in range(2):
                try:
                    lua.execute(code)
                    print(label, "no error")
                except LuaMemoryError as e:
                    print(label, "->", e.lua_message.replace(chr(10), " "))
            print("after", lua.eval("torch.FloatTensor(1000):fill(1):sum()"))
        print("done")
    """)
    assert r.returncode == 0, r.stderr[-3000:]
    out = r.stdout
    assert out.count("tensor -> ") == 2 and "cannot allocate 268435456 elements of 4 bytes (1.0 GiB)" in out, out
    assert out.count("numpy -> MemoryError: Unable to allocate 1.00 GiB") == 2, out
    assert out.count("string -> not enough memory") == 2, out
    assert out.count("again -> not enough memory") == 2, out
    assert out.count("after 1000") == 4 and "done" in out
