"""sparktorch7.compat.PyTorch: the python2torch interface over tests/data/mah_stuff.lua."""
import os

import numpy as np
import pytest

import sparktorch7
from sparktorch7 import LuaError, LuaState
from sparktorch7.compat import PyTorch

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
SCRIPT = os.path.join(DATA, "mah_stuff.lua")


def torch_available():
    lua = LuaState()
    try:
        lua.require("torch")
        return True
    except LuaError:
        return False
    finally:
        lua.close()


HAS_TORCH = torch_available()
# Until the Lua torch runtime ships, the script runs without `require 'torch'`.
REQUIRES = ("torch",) if HAS_TORCH else ()


@pytest.fixture
def mah_stuff():
    t = PyTorch(SCRIPT, requires=REQUIRES)
    yield t
    t.close()


def test_global_functions_become_methods(mah_stuff):
    # as in python2torch, every global function is one (Lua's own too)
    assert {"DoIt", "Greeting", "Hello", "print", "close", "state", "function_names"} <= set(dir(mah_stuff))
    assert mah_stuff.print("x") == []
    with pytest.raises(AttributeError, match="greeting"):
        mah_stuff.greeting               # a local of the script


def test_calls_return_lists(mah_stuff):
    assert mah_stuff.Hello() == []
    assert mah_stuff.Hello() == []
    assert mah_stuff.Greeting() == ["Hello from Lua", 2]


def test_doit_with_numbers_string_and_array(mah_stuff):
    out = mah_stuff.DoIt(41, 1.25, "abc", [1.5, 2.5, 3])
    assert out == [42, 2.5, "ABC!", 3, 7.0, [3.0, 5.0, 6]]


def test_doit_errors_come_back(mah_stuff):
    with pytest.raises(LuaError, match="attempt to perform arithmetic"):
        mah_stuff.DoIt("not a number", 1.0, "s", [])
    assert mah_stuff.DoIt(0, 0.0, "", []) == [1, 0, "!", 0, 0, []]


@pytest.mark.skipif(not HAS_TORCH, reason="the Lua torch runtime is not in this tree yet")
def test_doit_with_a_tensor():
    with PyTorch(SCRIPT) as t:
        arr = np.arange(6, dtype=np.float64).reshape(2, 3)
        out = t.DoIt(1, 2.0, "x", [1], arr)
        assert out[:6] == [2, 4.0, "X!", 1, 1, [2]]
        assert out[6:8] == [15.0, 2]
        assert out[8] is arr


def test_script_errors_close_the_state(tmp_path):
    bad = tmp_path / "bad.lua"
    bad.write_text("error('broken script')")
    with pytest.raises(LuaError, match="broken script"):
        PyTorch(bad, requires=())
    with pytest.raises(FileNotFoundError):
        PyTorch(tmp_path / "missing.lua", requires=())


def test_redefined_builtin_is_a_method(tmp_path):
    script = tmp_path / "redef.lua"
    script.write_text("function print(x) return 'mine', x end\nfunction NoResult() end")
    with PyTorch(script, requires=()) as t:
        assert t.print(1) == ["mine", 1]
        assert t.NoResult() == []
        assert "print" in dir(t)
    assert t.state.closed


def test_public_api():
    assert "PyTorch" in sparktorch7.compat.__all__
