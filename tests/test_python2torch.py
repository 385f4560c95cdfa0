"""sparktorch7.PyTorch / sparktorch7.python2torch: python2torch's README example, run as written."""
import ctypes
import textwrap

import numpy
import pytest

import sparktorch7
from sparktorch7 import LuaError

# mah_stuff.lua as python2torch's README gives it
MAH_STUFF = textwrap.dedent('''\
    function Hello()
      print "Is it me you're looking for?"
    end

    function DoIt(anInt, aFloat, aString, anArray, aTensor)
      print(anInt)
      print(aFloat)
      print(aString)
      for k, v in ipairs(anArray) do
        print(k, v)
      end
      print(aTensor:type(), aTensor:size())

      return torch.linspace(1, 10, 10)
    end
    ''')

# The Lua globals python2torch's README shows in dir(torch), but for 'include' (a
# Torch7 global our torch runtime does not define) and 'rawlen' (Lua 5.2's, in
# LuaJIT only when built with 5.2 compatibility).
README_LUA_GLOBALS = [
    'assert', 'collectgarbage', 'dofile', 'error', 'gcinfo', 'getfenv', 'getmetatable',
    'ipairs', 'load', 'loadfile', 'loadstring', 'module', 'newproxy', 'next', 'pairs', 'pcall',
    'print', 'rawequal', 'rawget', 'rawset', 'require', 'select', 'setfenv', 'setmetatable',
    'tonumber', 'tostring', 'type', 'unpack', 'xpcall']


def _flush_c_stdio():
    ctypes.CDLL(None).fflush(None)         # Lua's print writes through C stdio


@pytest.fixture
def script_dir(tmp_path, monkeypatch):
    (tmp_path / "mah_stuff.lua").write_text(MAH_STUFF)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_readme_example_verbatim(script_dir, capfd):
    # The README's Python lines as written, but for Python 2's `print output`
    # (print(output) here); each printout is compared with the README's.
    import sparktorch7.python2torch as python2torch

    torch = python2torch.PyTorch('mah_stuff.lua')
    try:
        print(dir(torch))
        listed = eval(capfd.readouterr().out)
        assert {'DoIt', 'Hello', '__call__', 'function_names'} <= set(listed)
        assert set(README_LUA_GLOBALS) <= set(listed)
        assert listed == sorted(listed)

        output = torch.Hello()
        _flush_c_stdio()
        assert capfd.readouterr().out == "Is it me you're looking for?\n"
        print(output)
        assert capfd.readouterr().out == "[]\n"

        output = torch.DoIt(1, 3.14159, 'boomplesnoot', ['easy', 'as', 123], numpy.random.randn(10))
        _flush_c_stdio()
        # The README prints 3.1415901184082: python2torch passed floats as C floats
        # (single precision); sparktorch7 passes the double.
        assert capfd.readouterr().out == (
            "1\n"
            "3.14159\n"
            "boomplesnoot\n"
            "1\teasy\n"
            "2\tas\n"
            "3\t123\n"
            "torch.DoubleTensor\t\n"
            " 10\n"
            "[torch.LongStorage of size 1]\n"
            "\n")
        print(output)
        assert capfd.readouterr().out == "[array([ 1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10.])]\n"
        assert isinstance(output, list) and len(output) == 1
        numpy.testing.assert_array_equal(output[0], numpy.linspace(1, 10, 10))
    finally:
        torch.close()


def test_call_and_function_names(script_dir, capfd):
    with sparktorch7.PyTorch("mah_stuff.lua") as torch:
        assert torch.function_names == sorted(torch.function_names)
        assert {"DoIt", "Hello", "print", "pairs"} <= set(torch.function_names)
        assert "torch" not in torch.function_names          # a table, not a function
        assert torch("Hello", []) == []
        arr = numpy.arange(4.0)
        out = torch("DoIt", (7, 0.5, "s", [1], arr))
        numpy.testing.assert_array_equal(out[0], numpy.arange(1.0, 11.0))
        _flush_c_stdio()
        assert capfd.readouterr().out.startswith("Is it me you're looking for?\n7\n0.5\ns\n1\t1\n")
        # every global function is a method, Lua's own too, as in python2torch
        assert torch.tostring(12) == ["12"]
        assert torch("type", ["x"]) == ["string"]
        # a function defined by a call is reached through __call__
        torch.state.execute("function Later(x) return x * 2 end")
        assert torch("Later", [21]) == [42]


def test_call_errors(script_dir):
    with sparktorch7.PyTorch("mah_stuff.lua") as torch:
        with pytest.raises(LuaError, match="the global 'Nope' is not a function"):
            torch("Nope", [])
        with pytest.raises(TypeError, match="args must be a list or tuple"):
            torch("Hello", "abc")
        with pytest.raises(TypeError, match="named by a str"):
            torch(3, [])
        with pytest.raises(AttributeError, match="defines no global function 'Nope'"):
            torch.Nope
        with pytest.raises(LuaError, match="attempt to index local 'aTensor'"):
            torch.DoIt(1, 2.0, "s", [])


def test_public_names():
    import sparktorch7.compat
    import sparktorch7.python2torch

    assert "PyTorch" in sparktorch7.__all__
    assert sparktorch7.PyTorch is sparktorch7.python2torch.PyTorch is sparktorch7.compat.PyTorch
    assert sparktorch7.python2torch.__all__ == ["PyTorch"]
