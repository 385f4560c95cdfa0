"""require 'fb.python': facebook/fblualib's fb.python API and semantics (its README and
test/lua_python_test.lua are the specification), and the global `py`'s differences."""
import json
import os
import resource
import sys
import time

import numpy as np
import pytest

from sparktorch7 import LuaError, LuaState


@pytest.fixture
def fb(lua):
    """The lua fixture with `py` bound to fb.python's module (the global py is kept as gpy)."""
    lua.execute("gpy = py; py = require('fb.python')")
    return lua


def test_require_gives_one_module(fb):
    assert fb.eval("require('fb.python') == py, require('fb.python') ~= gpy") == (True, True)
    names = ["exec", "eval", "eval_none", "reval", "ref", "import", "int", "long", "float", "bytes",
             "str", "unicode", "list", "tuple", "dict", "lexec", "leval", "lreval", "get_vars"]
    assert fb.eval("(function(...) for _, n in ipairs({...}) do if py[n] == nil then return n end end end)"
                   f"({', '.join(repr(n) for n in names)})") is None
    assert fb.eval("type(py.None), type(py.args), type(py.kwargs)") == ("userdata", "userdata", "userdata")
    assert fb.eval("py.args ~= py.kwargs")


def test_fundamental_values(fb):
    assert fb.eval("py.eval('True'), py.eval('False'), py.eval('None')") == (True, False, None)
    assert fb.eval("py.eval('a', {a = true}), py.eval('a', {a = false})") == (True, False)
    assert fb.eval("py.eval('a', {a = py.None})") is None
    assert fb.eval("py.eval('42'), py.eval('42.5'), py.eval('a', {a = 42})") == (42, 42.5, 42)
    assert fb.eval("py.eval('\"hello\"'), py.eval('b\"hello\"'), py.eval('a', {a = 'hello'})") == ("hello",) * 3
    # Lua numbers become floats, as fb.python documents; Lua strings Python's native
    # string (fb.python: Python 2's str; here str, or bytes when not UTF-8)
    assert fb.eval("py.eval('isinstance(a, float)', {a = 42})") is True
    assert fb.eval("py.eval('isinstance(a, str)', {a = 'hello'})") is True
    assert fb.eval("py.eval('a == b\"\\\\xffx\"', {a = '\\255x'})") is True
    with pytest.raises(NameError):
        fb.execute("py.exec('print(a)', {a = nil})")      # nil is no value: `a` is undefined


def test_eval_none(fb):
    assert fb.execute("local t = py.eval_none('{\"a\": 2, \"b\": None}') return t.a, t.b == py.None") == (2, True)
    assert fb.execute("local t = py.eval_none('{\"a\": 2, \"b\": {\"c\": None}}') return t.b.c == py.None")
    # round trip: py.None goes back as None
    assert fb.eval("py.eval('a[\"b\"][\"c\"] is None', {a = py.eval_none('{\"a\": 2, \"b\": {\"c\": None}}')})")
    assert fb.eval("py.eval('[1, None, 3]')[3]") == 3
    assert fb.eval("py.eval_none('[1, None, 3]')[2] == py.None")


def test_sequences_become_lists(fb):
    assert fb.eval("py.eval('[2, 3]')") == {1: 2, 2: 3}
    assert fb.eval("py.eval('isinstance(a, list) and a == [2.0, 3.0]', {a = {2, 3}})") is True
    assert fb.eval("py.eval('(2, 3)')") == {1: 2, 2: 3}
    assert fb.eval("next(py.eval('[]')) == nil and next(py.eval('()')) == nil")
    assert fb.eval("py.eval('a', {a = {2, {3, 4}, 5}})") == {1: 2, 2: {1: 3, 2: 4}, 3: 5}
    # the list test is fb.python's: t[1] set, t[0] and t[-1] not; the items stop at the first nil
    assert fb.eval("py.eval('a', {a = {1, 2, nil, 4}})") == {1: 1, 2: 2}
    assert fb.eval("py.eval('repr(a)', {a = {1, 2, x = 3}})") == "[1.0, 2.0]"
    assert fb.eval("py.eval('repr(a)', {a = {[0] = 'z', 'a'}})") == "{0: 'z', 1: 'a'}"
    assert fb.eval("py.eval('repr(sorted(a.items()))', {a = {[-1] = 1, 2}})") == "[(-1, 1.0), (1, 2.0)]"
    # identical tables convert to one object, both ways
    assert fb.execute("local a = {2, 3} return py.eval('id(b[0]) == id(b[1])', {b = {a, a}})") is True
    assert fb.execute("py.exec('ts_a = [2, 3]; ts_b = [ts_a, ts_a]') local r = py.eval('ts_b') return r[1] == r[2]")


def test_mappings(fb):
    assert fb.eval("py.eval('isinstance(a, dict) and not a', {a = {}})") is True
    assert fb.eval("py.eval('{2: 3}')") == {2: 3}
    assert fb.eval("py.eval('a == {2: 3.0}', {a = {[2] = 3}})") is True
    assert fb.eval("py.eval('a[\"foo\"]', {a = {foo = 3}})") == 3
    assert fb.eval("py.eval('repr(a)', {a = {foo = 'bar'}})") == "{'foo': 'bar'}"
    assert fb.eval("py.eval('list(a)', {a = {['\\255'] = 1}})") == {1: b"\xff"}   # not UTF-8: bytes
    # values Python cannot hold are left out of dicts, as fb.python does for methods
    assert fb.eval("py.eval('sorted(a)', {a = {x = 1, f = print}})") == {1: "x"}
    assert fb.execute("local a = {foo = 3} return py.eval('b[\"foo\"] is b[\"bar\"]', {b = {foo = a, bar = a}})")
    assert fb.execute("local t = {} t.self = t return py.eval('a[\"self\"] is a', {a = t})")
    with pytest.raises(TypeError, match="a Lua table cannot be a Python dict key"):
        fb.eval("py.eval('a', {a = {[{}] = 1}})")


def test_data_is_never_evaluated_as_code(fb):
    """fb.python's idiom py.eval(data[i].field) converts the field: a string that is
    Python code comes back as that string, and does not run."""
    payload = "__import__('sys').modules.__setitem__('pwned_by_fbpy_test', 1) or 1"
    fb.py_globals["records"] = [{"field": payload, "n": 3}]
    got = fb.execute("local data = py.reval('records') return py.eval(data[0].field), py.eval(data[0].n)")
    assert got == (payload, 3)
    assert "pwned_by_fbpy_test" not in sys.modules
    got = fb.execute("local data = py.reval('records') local f = data[0].field "
                     "return type(f), py.reval(f) == f, tostring(f)")
    assert got == ("userdata", True, payload)
    assert "pwned_by_fbpy_test" not in sys.modules
    # the same with json, as the blog post reads its file
    fb.py_globals["text"] = json.dumps([{"field": payload}])
    assert fb.eval("py.eval(py.import('json').loads(py.reval('text'))[0].field)") == payload
    assert "pwned_by_fbpy_test" not in sys.modules


def test_tensors_share_memory_both_ways(fb):
    fb.require("torch")
    fb.execute("""
        a = torch.Tensor(10, 10)
        for i = 1, 10 do for j = 1, 10 do a[{i, j}] = i * 10 + j end end
        py.exec([=[
import numpy as np
tt_a = np.ndarray([10, 10])
for i in range(10):
    for j in range(10):
        tt_a[i][j] = (i + 1) * 10 + (j + 1)
]=])
    """)
    assert fb.eval("py.eval('np.array_equal(a, tt_a)', {a = a})") is True
    assert fb.eval("py.eval('a.strides', {a = a})") == {1: 80, 2: 8}
    assert fb.eval("py.eval('a.strides', {a = a:t()})") == {1: 8, 2: 80}
    r = fb.execute("local r = py.eval('tt_a') return r:stride(1), r:stride(2), r:storage():size(), (r - a):sum()")
    assert r == (10, 1, 100, 0)
    # Lua writes reach the array, Python writes reach the tensor
    fb.execute("local r = py.eval('tt_a') r[{1, 1}] = -5")
    assert fb.py_globals["tt_a"][0, 0] == -5
    fb.execute("py.exec('a[1, 2] = 99', {a = a})")
    assert fb.eval("a[{2, 3}]") == 99
    # ndarrays reached through references convert to tensors on the same memory
    fb.execute("np = py.import('numpy'); t1 = np.tri(4).transpose(); t2 = py.eval(t1); t2[{1, 4}] = 7")
    assert fb.eval("py.eval(t1[0][3])") == 7
    assert fb.eval("torch.type(t2), t2:dim(), t2:stride(1), t2:stride(2)") == ("torch.DoubleTensor", 2, 1, 4)
    assert fb.eval("py.eval('b.size', {b = torch.Tensor()})") == 0
    assert fb.eval("py.eval('np.empty(0)'):nElement()") == 0


def test_references(fb):
    assert fb.execute("py.exec('import string') local s = py.reval('string') return py.eval(s.digits)") == "0123456789"
    assert fb.eval("py.eval(py.import('string').digits)") == "0123456789"
    assert fb.eval("py.eval(py.str('hello {0} {1}').format(py.str('world'), py.int(42)))") == "hello world 42"
    assert fb.eval("py.eval(py.str('hello {0}').format(42))") == "hello 42.0"   # numbers are floats
    # every operation gives a reference; py.eval converts, py.reval keeps it
    assert fb.execute("local r = py.reval('[1, 2]') return type(r[0]), type(r.append), type(r.copy())") == \
        ("userdata",) * 3
    assert fb.execute("local r = py.reval('[1, 2]') return rawequal(py.reval(r), r), py.eval(r)") == (True, {1: 1, 2: 2})
    assert fb.eval("tostring(py.reval('[1, 2]'))") == "[1, 2]"
    # a string key is an attribute when the object has one (d.get is dict.get), an item otherwise
    fb.py_globals["d"] = {"get": 1, "k": 2}
    assert fb.execute("local d = py.reval('d') return py.eval(d.k), py.eval('f == d.get', {f = d.get, d = d}), "
                      "py.eval(d.get('k'))") == (2, True, 2)
    with pytest.raises(KeyError, match="missing"):
        fb.eval("py.reval('d').missing")
    with pytest.raises(IndexError):
        fb.eval("py.reval('[1]')[5]")
    with pytest.raises(AttributeError, match="nope"):
        fb.eval("py.import('math').nope")
    # assignment: attributes when the object has one, items otherwise
    fb.execute("local d = py.reval('d') d.new = 5 d[7] = {1, 2}")
    assert fb.py_globals["d"]["new"] == 5.0 and fb.py_globals["d"][7] == [1.0, 2.0]
    fb.execute("py.exec('class C: pass\\nc = C()') local c = py.reval('c') c.x = 'v'")
    assert fb.py_globals["c"].x == "v"
    # py.eval of an object with no Lua value says so
    with pytest.raises(TypeError, match="py.eval: a Python module has no Lua value .py.reval"):
        fb.eval("py.eval(py.import('math'))")


def test_coercions(fb):
    cases = [("bytes", "'hello'", "bytes", "hello"), ("str", "'hello'", "str", "hello"),
             ("unicode", "'hello'", "str", "hello"), ("int", "42", "int", 42), ("long", "42", "int", 42),
             ("float", "42", "float", 42), ("list", "{1, 2}", "list", {1: 1, 2: 2}),
             ("tuple", "{1, 2}", "tuple", {1: 1, 2: 2}), ("dict", "{1, 2}", "dict", {1: 1, 2: 2})]
    for fn, arg, cls, value in cases:
        assert fb.eval(f"py.eval(py.{fn}({arg}))") == value, fn
        assert fb.eval(f"py.eval('type(a).__name__', {{a = py.{fn}({arg})}})") == cls, fn
    assert fb.eval("py.eval('a', {a = py.int(3.7)})") == 3                      # C's truncation
    assert fb.eval("py.eval(py.list(py.reval('range(3)')))") == {1: 0, 2: 1, 3: 2}
    assert fb.eval("py.eval(py.bytes(py.str('é')))") == "é"
    assert fb.eval("py.eval('a', {a = py.str(py.bytes('x'))}) == 'x'")
    with pytest.raises(TypeError, match="py.int: expected a number or a Python reference, got a Lua string"):
        fb.eval("py.int('4')")
    with pytest.raises(TypeError, match="py.dict: expected a reference to a dict, got one to list"):
        fb.eval("py.dict(py.reval('[1]'))")
    with pytest.raises(UnicodeDecodeError):
        fb.eval("py.str('\\255')")


GET_ARGS = """
py.exec([=[
def get_args(*args, **kwargs):
    d = dict(kwargs)
    for i, a in enumerate(args):
        d[i] = a
    return d
]=])
get_args = py.reval('get_args')
"""


def test_args_and_kwargs_markers(fb):
    fb.execute(GET_ARGS)
    ev = lambda call: fb.eval(f"py.eval({call})")
    assert ev("get_args()") == {}
    assert ev("get_args(1, 2)") == {0: 1, 1: 2}
    assert ev("get_args(py.args, {})") == {} and ev("get_args(py.kwargs, {})") == {}
    assert ev("get_args(py.args, {1, 2})") == {0: 1, 1: 2}
    assert ev("get_args(py.kwargs, {a = 'foo', b = 'bar'})") == {"a": "foo", "b": "bar"}
    assert ev("get_args(1, 2, py.args, {3, 4})") == {0: 1, 1: 2, 2: 3, 3: 4}
    assert ev("get_args(1, 2, py.kwargs, {a = 'foo'})") == {0: 1, 1: 2, "a": "foo"}
    assert ev("get_args(1, 2, py.args, {3, 4}, py.kwargs, {a = 'foo'})") == {0: 1, 1: 2, 2: 3, 3: 4, "a": "foo"}
    # the brief's case: f(1, py.args, {2, 3}, py.kwargs, {z = 4}) is f(1, 2, 3, z=4)
    fb.py_globals["seen"] = []
    fb.execute("py.reval('lambda *a, **k: seen.append((a, k))')(1, py.args, {2, 3}, py.kwargs, {z = 4})")
    assert fb.py_globals["seen"] == [((1.0, 2.0, 3.0), {"z": 4.0})]
    # references as the spread values
    fb.execute("py.exec('l = [3, 4]; d = {\"a\": \"foo\"}')")
    assert ev("get_args(1, 2, py.args, py.reval('l'), py.kwargs, py.reval('d'))") == {0: 1, 1: 2, 2: 3, 3: 4, "a": "foo"}


def test_markers_misused(fb):
    fb.execute(GET_ARGS)
    for call, message in [
        ("get_args(py.args, {1}, py.args, {2})", "py.args given twice"),
        ("get_args(py.kwargs, {}, py.args, {1})", "py.args must come before py.kwargs"),
        ("get_args(py.args, {1}, 3)", "argument 3 is a positional argument after py.args"),
        ("get_args(py.args)", "py.args must be followed by a table or a Python sequence"),
        ("get_args(py.kwargs)", "py.kwargs must be followed by a table or a Python dict"),
        ("get_args(py.kwargs, {1})", "keyword names are strings"),
        ("get_args(py.kwargs, 5)", "py.kwargs must be followed by a table or a Python dict, got a Lua number"),
        ("py.eval('a', {a = {py.args}})", "py.args and py.kwargs mark arguments of a call"),
    ]:
        with pytest.raises(TypeError, match=message):
            fb.execute(call)


def test_markers_in_the_global_py(lua):
    lua.py_globals["seen"] = []
    lua.execute("py.reval('lambda *a, **k: seen.append((a, k))')(1, py.args, {2, 3}, py.kwargs, {z = 4})")
    assert lua.py_globals["seen"] == [((1, 2, 3), {"z": 4})]


def test_operators(fb):
    fb.execute("i42 = py.int(42); i2 = py.int(2)")
    for expr, value in [("-i42", -42), ("i42 + i2", 44), ("i42 + 2", 44), ("42 + i2", 44),
                        ("i42 - i2", 40), ("i42 - 2", 40), ("42 - i2", 40), ("i42 * i2", 84), ("42 * i2", 84),
                        ("i42 / i2", 21), ("42 / i2", 21), ("i42 % i2", 0), ("43 % i2", 1),
                        ("i42 ^ i2", 1764), ("42 ^ i2", 1764)]:
        assert fb.eval(f"type({expr}), py.eval({expr})") == ("userdata", value), expr
    assert fb.eval("py.eval('type(a).__name__', {a = i42 + i2})") == "int"
    assert fb.eval("i2 < i42, i42 < i2, i2 > i42, i42 > i2, i2 <= i42, i42 <= i2, i2 >= i42, i42 >= i2") == \
        (True, False, False, True, True, False, False, True)
    assert fb.eval("i2 == i42, i2 ~= i42, i2 == py.int(2), i2 ~= py.int(2), i2 <= py.int(2)") == \
        (False, True, True, False, True)
    fb.execute("ifoo = py.str('foo'); ibar = py.str('bar')")
    assert fb.eval("#ifoo, py.eval(ifoo .. ibar), py.eval(ifoo .. 'bar'), py.eval('foo' .. ibar)") == \
        (3, "foobar", "foobar", "foobar")
    assert fb.eval("#py.bytes('foo'), py.eval(py.bytes('foo') .. py.bytes('bar'))") == (3, "foobar")
    with pytest.raises(TypeError):
        fb.eval("py.int(1) + py.str('a')")


def test_operators_in_the_global_py_convert(lua):
    assert lua.eval("type(py.int(40) + 2), py.int(40) + 2") == ("number", 42)
    assert lua.eval("py.reval('[1]') .. py.reval('[2]')") == [1, 2]


def test_import(fb):
    assert fb.eval("py.eval(py.import('string').digits)") == "0123456789"
    assert fb.eval("py.eval(py.import('os.path').join('a', 'b'))") == "a/b"
    with pytest.raises(ModuleNotFoundError):
        fb.eval("py.import('no_such_module_here')")


def test_exec_and_locals(fb, capsys):
    fb.execute("""
        py.exec([=[
import numpy as np
def foo(x):
  return x + 1
]=])
    """)
    assert fb.eval("py.eval('foo(a) + 10', {a = 42})") == 53
    # data goes by value: Python changes do not come back, Lua changes do not go there
    fb.execute("""
        a = {foo = 'bar'}
        py.exec([=[
a['foo'] = 'baz'
global b
b = a
]=], {a = a})
        a_after = a.foo
        a.foo = 'meow'
    """)
    assert fb.eval("a_after") == "bar"
    assert fb.py_globals["b"] == {"foo": "baz"}
    with pytest.raises(TypeError, match="py.exec: locals must be a table or a Python dict, got a Lua number"):
        fb.execute("py.exec('x = 1', 5)")
    with pytest.raises(TypeError, match="expected Python code as a string"):
        fb.execute("py.exec(42)")
    fb.execute("py.exec('print(a)', {a = py.None})")
    assert capsys.readouterr().out == "None\n"


def test_l_variants_see_lua_variables(fb, capsys):
    fb.execute("a = 42; py.lexec('print(a)')")
    assert capsys.readouterr().out == "42.0\n"
    got = fb.execute("""
        local x, s = 2, 'txt'
        local function f() end
        local r = py.leval('(a * x, s, "f" in dir(), "py" in dir())')
        return r
    """)
    assert got == {1: 84, 2: "txt", 3: False, 4: False}
    assert fb.execute("local n = 5 local r = py.lreval('n + 1') return type(r), py.eval(r)") == ("userdata", 6)
    assert fb.execute("local function g() local q = 7 local r = py.leval('q') return r end return g()") == 7


def test_functions_and_errors(fb):
    # a Lua function given to Python is callable there (fb.python refused it)
    assert fb.eval("py.eval(py.reval('lambda f: f(20) + 1')(function(x) return x * 2 end))") == 41
    ok, msg = fb.execute("return pcall(py.eval, '1 / 0')")
    assert ok is False and isinstance(msg, ZeroDivisionError)
    assert fb.eval("select(2, pcall(py.eval, '1 / 0')) and tostring(select(2, pcall(py.eval, '1 / 0')))") == \
        "Python exception: ZeroDivisionError: division by zero"
    with pytest.raises(TypeError, match="indexed by a string, a number or a reference, not a Lua table"):
        fb.eval("py.reval('{}')[{}]")


def test_iter_gives_references(fb):
    fb.py_globals["items"] = {"a": [1], "b": [2]}
    got = fb.execute("local out = {} for k, v in py.iter(py.reval('items').items()) do "
                     "out[py.eval(k)] = type(v) .. py.eval(v[0]) end return out")
    assert got == {"a": "userdata1", "b": "userdata2"}


def test_no_references_leak(fb):
    import gc
    target = object()
    fb.py_globals["target"] = target
    before = sys.getrefcount(target)
    fb.execute("""
        for i = 1, 2000 do
          local r = py.reval('target')
          local l = py.list({r, r})
          local d = py.dict({k = r})
          local e = py.eval(py.reval('[1, 2]'))
          local n = py.int(100) + py.int(i)
        end
        collectgarbage(); collectgarbage()
    """)
    gc.collect()
    assert sys.getrefcount(target) == before


def test_global_py_differences(lua):
    """The global py keeps converting plain values at once (see README)."""
    lua.py_globals["records"] = [{"field": "1 + 1", "n": 3}]
    assert lua.eval("type(py.reval('records')[0].field), py.reval('records')[0].n") == ("string", 3)
    assert lua.eval("py.eval('isinstance(a, int)', {a = 42}), py.eval('isinstance(a, str)', {a = 'x'})") == \
        (True, True)
    assert lua.eval("py.eval('a', {a = {1, 2}})") == {1: 1, 2: 2}          # tables="dict": {1: 1, 2: 2}
    assert lua.eval("py.eval('type(a).__name__', {a = py.list({1, 2})})") == "list"
    assert lua.eval("py.eval('a is None', {a = py.None})") is True


# ---------------------------------------------------------------- the blog post's code
BLOG = """
local py = require('fb.python')
local json = py.import('json')
local data = py.reval(json.load(py.reval('open(path)', {path = path})))

local count, total, longest, names = 0, 0, 0, {}
local peak = collectgarbage('count')
for i = 0, #data - 1 do
  local record = data[i]
  count = count + 1
  total = total + py.eval(record.score)
  local name = py.eval(record.name)
  if i < 3 then names[#names + 1] = name end
  longest = math.max(longest, #py.eval(record.text))
  if i % 1000 == 0 then peak = math.max(peak, collectgarbage('count')) end
end
return count, total, longest, names, peak
"""


def _write_records(path, n, text_len):
    """A JSON list of n records; record 1's text starts with Python code. Returns the sum of scores."""
    total = 0.0
    filler = "x" * text_len
    with open(path, "w") as f:
        f.write("[")
        for start in range(0, n, 10_000):
            chunk = []
            for i in range(start, min(n, start + 10_000)):
                score = (i % 1000) / 8
                total += score
                text = ("__import__('os').getpid() " if i == 1 else "") + filler
                chunk.append(f'{{"id": {i}, "name": "rec{i}", "score": {score!r}, '
                             f'"tags": ["a", "b", {i}], "text": "{text}"}}')
            f.write(("," if start else "") + ",".join(chunk))
        f.write("]")
    return total


def _run_blog(lua, path):
    lua["path"] = str(path)
    lua.gc()
    base = lua.memory_used() / 1024
    return base, lua.execute(BLOG)


def test_blog_post_json_records(lua, tmp_path):
    path = tmp_path / "records.json"
    total = _write_records(path, 20_000, 150)
    assert path.stat().st_size > 3_000_000
    base, (count, got_total, longest, names, peak) = _run_blog(lua, path)
    assert count == 20_000 and got_total == pytest.approx(total)
    assert names == {1: "rec0", 2: "rec1", 3: "rec2"}
    assert longest == 150 + len("__import__('os').getpid() ")
    # the records stay in Python: the Lua heap grows by far less than the data
    assert (peak - base) * 1024 < path.stat().st_size / 8


@pytest.mark.slow
def test_blog_post_json_records_1gb(lua, tmp_path):
    path = tmp_path / "records.json"
    n = 1_000_000
    total = _write_records(path, n, 980)
    size = path.stat().st_size
    assert size > 10 ** 9
    t0 = time.perf_counter()
    base, (count, got_total, longest, names, peak) = _run_blog(lua, path)
    elapsed = time.perf_counter() - t0
    os.unlink(path)
    assert count == n and got_total == pytest.approx(total)
    assert names == {1: "rec0", 2: "rec1", 3: "rec2"}
    assert (peak - base) * 1024 < 64 * 2 ** 20          # Lua heap bounded: no record copied there
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    assert maxrss < 6 * size                             # Python's json objects, not Lua copies of them
    assert elapsed < 600


def test_locals_as_a_reference_and_reference_keys(fb):
    fb.py_globals["ns"] = {"a": 1}
    fb.execute("py.exec('b = a + 1', py.reval('ns'))")
    assert fb.py_globals["ns"] == {"a": 1, "b": 2}
    fb.py_globals["m"] = {(1, 2): "pair"}
    assert fb.eval("py.eval(py.reval('m')[py.tuple({1, 2})])") == "pair"
    assert fb.eval("py.eval(py.reval('[10, 20, 30]')[py.int(2)])") == 30
    with pytest.raises(TypeError, match="py.exec: locals must be a table or a Python dict, got a Lua userdata"):
        fb.execute("py.exec('x = 1', py.reval('[1]'))")


def test_many_operations_leave_refcounts_and_rss_as_they_were(fb):
    import gc
    import psutil

    payload = "x" * 100
    fb.py_globals["records"] = [{"field": payload, "n": i} for i in range(100)]
    run = fb.eval("""function(n)
        local data, s = py.reval('records'), 0
        for i = 0, n - 1 do
          local r = data[i % 100]
          s = s + py.eval(r.n) + #py.eval(r.field) + py.eval(r.n + py.int(1))
        end
        collectgarbage(); collectgarbage()
        return s
    end""")
    run(10_000)
    gc.collect()
    before_ref, before_rss = sys.getrefcount(payload), psutil.Process().memory_info().rss
    assert run(100_000) == sum(2 * (i % 100) + 1 + 100 for i in range(100_000))
    gc.collect()
    assert sys.getrefcount(payload) == before_ref
    assert psutil.Process().memory_info().rss - before_rss < 8 * 2 ** 20
