"""The `py` module in Lua and Python references held by Lua."""
import math

import pytest

from sparktorch7 import LuaState


def test_py_exec_with_and_without_locals(lua):
    lua.execute("py.exec('made_in_python = 6 * 7')")
    assert lua.py_globals["made_in_python"] == 42
    assert lua.eval("py.eval('made_in_python')") == 42
    # locals: a table converted to a dict, for that call only
    lua.execute("py.exec('box = [a + b]', {a = 1, b = 2})")
    assert "box" not in lua.py_globals
    assert lua.execute("py.exec('x = 1')") is None


def test_py_eval_converts(lua):
    assert lua.eval("py.eval('1 + 1')") == 2
    assert lua.execute("local t = py.eval('[10, 20, 30]') return type(t), #t, t[1], t[3]") == ("table", 3, 10, 30)
    assert lua.execute("local t = py.eval('{\"k\": {\"n\": 1}}') return t.k.n") == 1
    assert lua.eval("py.eval('x * 2', {x = 21})") == 42
    assert lua.eval("py.eval('None')") is None
    assert lua.eval("type(py.eval('\"s\"'))") == "string"


def test_py_eval_with_locals_in_list_mode():
    lua = LuaState(tables="list")
    try:
        assert lua.eval("py.eval('1 + 2', {})") == 3
        assert lua.eval("py.eval('a + 2', {a = 1})") == 3
    finally:
        lua.close()


def test_py_reval_keeps_a_reference(lua):
    r = lua.execute("local r = py.reval('[1, 2, 3]') return type(r), r")
    assert r[0] == "userdata"
    assert r[1] == [1, 2, 3] and type(r[1]) is list
    lua.execute("keep = py.reval('object()')")
    assert lua["keep"] is lua["keep"]           # the same Python object each time


def test_py_import(lua):
    assert lua.eval("py.import('math').sqrt(16)") == 4.0
    assert lua.eval("py.import('math').pi") == math.pi
    assert lua.eval("py.import('os.path').join('a', 'b')") == "a/b"
    with pytest.raises(ModuleNotFoundError):
        lua.eval("py.import('no_such_module_here')")


def test_py_ref_of_a_lua_value(lua):
    r = lua.execute("local r = py.ref({1, 2, x = 3}) return type(r), r")
    assert r == ("userdata", {1: 1, 2: 2, "x": 3})
    assert lua.eval("py.ref('s')") == "s"


def test_reference_call_index_compare(lua):
    class Point:
        def __init__(self, x):
            self.x = x

        def moved(self, dx):
            return Point(self.x + dx)

        def __eq__(self, other):
            return self.x == other.x

        def __lt__(self, other):
            return self.x < other.x

        def __le__(self, other):
            return self.x <= other.x

        def __len__(self):
            return 3

        def __str__(self):
            return f"Point({self.x})"

    lua["Point"] = Point
    lua.execute("p = Point(1); q = p.moved(1); r = Point(1)")
    assert lua.eval("p.x, q.x") == (1, 2)
    assert lua.eval("p == r, p ~= q, p < q, q <= p, p <= r") == (True, True, True, False, True)
    assert lua.eval("#p, tostring(q)") == (3, "Point(2)")
    lua.execute("p.x = 10")
    assert lua["p"].x == 10
    d = {"a": 1}
    lua.py_globals["d"] = d                       # (lua["d"] = d would copy it into a table)
    lua.execute("d = py.reval('d'); d.b = 2; d['c'] = d.a + d.b")
    assert d == {"a": 1, "b": 2, "c": 3}
    assert lua.eval("d.missing") is None
    lst = [5, 6, 7]
    lua.py_globals["lst"] = lst
    lua.execute("lst = py.reval('lst')")
    assert lua.eval("lst[0], lst[2], lst.index(6)") == (5, 7, 1)
    with pytest.raises(AttributeError):
        lua.eval("py.import('math').no_such_attribute")


def test_py_eval_of_a_reference_converts_it(lua):
    lua.execute("r = py.reval('{\"a\": [1, 2]}')")
    assert lua.eval("type(r)") == "userdata"
    assert lua.execute("local t = py.eval(r) return type(t), t.a[2]") == ("table", 2)


def test_py_iter(lua):
    lua.py_globals["items"] = {"a": 1, "b": 2}
    got = lua.execute("local out = {} for k, v in py.iter(py.reval('items').items()) do out[k] = v end return out")
    assert got == {"a": 1, "b": 2}
    assert lua.execute("local n = 0 for x in py.iter(py.reval('range(5)')) do n = n + x end return n") == 10
    with pytest.raises(TypeError, match="py.iter"):
        lua.execute("py.iter({})")


def test_python_results_stay_references_when_containers(lua):
    lua["make"] = lambda: [1, 2]
    assert lua.eval("type(make())") == "userdata"
    assert lua.eval("make()[1]") == 2          # a Python list, indexed as Python does
    lua["num"] = lambda: 3.5
    assert lua.eval("type(num()), num() * 2") == ("number", 7.0)


def test_py_functions_check_their_arguments(lua):
    with pytest.raises(TypeError, match="py.exec: expected Python code as a string"):
        lua.execute("py.exec(42)")
    with pytest.raises(TypeError, match="locals must be a table"):
        lua.execute("py.eval('1', 5)")


def test_big_python_dict_is_indexed_without_copying(lua):
    base = lua.memory_used()
    lua.execute("big = py.reval('{i: i * 2 for i in range(10**6)}')")
    lookup = lua.eval("function(n) local s = 0 for i = 0, n - 1, 7 do s = s + big[i] end return s, big[n - 1] end")
    total, last = lookup(10 ** 6)
    assert total == sum(i * 2 for i in range(0, 10 ** 6, 7))
    assert last == 2 * (10 ** 6 - 1)
    assert lua.eval("#big") == 10 ** 6
    # the dict lives in Python: the Lua heap holds one small userdata for it
    assert lua.memory_used() - base < 512 * 1024
    assert len(lua.py_globals) <= 3
