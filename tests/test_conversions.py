"""Values both ways: Python -> Lua, Lua -> Python, and round trips (hypothesis)."""
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sparktorch7 import LuaFunction, LuaObject, LuaState, LuaTable

MAX_EXACT = 2 ** 53


@pytest.fixture(scope="module")
def shared():
    """One state for the property tests (hypothesis runs many examples per test)."""
    states = {mode: LuaState(tables=mode) for mode in ("dict", "list")}
    yield states
    for s in states.values():
        s.close()


# ---------------------------------------------------------------- Python -> Lua
def test_scalars_to_lua_types(lua):
    ltype = lua.eval("function(...) local out = {} for i = 1, select('#', ...) do out[i] = type((select(i, ...))) end return out end")
    assert ltype(None, True, False, 1, 1.5, "s", b"b") == {
        1: "nil", 2: "boolean", 3: "boolean", 4: "number", 5: "number", 6: "string", 7: "string"}
    assert lua.eval("function(a, b) return a == true and b == false end")(True, False) is True


def test_ints_exact_up_to_2_53(lua):
    check = lua.eval("function(x, s) return x == tonumber(s), string.format('%.0f', x) end")
    for v in (0, 1, -1, 2 ** 31, 2 ** 32 + 1, MAX_EXACT - 1, MAX_EXACT, -MAX_EXACT):
        assert check(v, str(v)) == (True, str(v))
    with pytest.raises(OverflowError, match=str(MAX_EXACT + 1)):
        check(MAX_EXACT + 1, "")
    with pytest.raises(OverflowError, match=str(-MAX_EXACT - 1)):
        check(-MAX_EXACT - 1, "")
    with pytest.raises(OverflowError, match=str(10 ** 30)):
        check(10 ** 30, "")
    with pytest.raises(OverflowError, match=str(10 ** 30)):
        check([1, {"deep": 10 ** 30}], "")
    assert check(5, "5") == (True, "5")          # the state is fine afterwards


def test_floats_at_full_precision(lua):
    same = lua.eval("function(x) return x end")
    fmt = lua.eval("function(x) return string.format('%.17g', x) end")
    assert same(3.14159) == 3.14159
    assert fmt(3.14159) == "3.1415899999999999"
    assert fmt(0.1) == "0.10000000000000001"
    for v in (1e-300, 5e-324, 1.7976931348623157e308, -2.5, 1 / 3):
        assert same(v) == v
        assert float(fmt(v)) == v
    assert same(math.inf) == math.inf and same(-math.inf) == -math.inf
    assert math.isnan(same(math.nan))


def test_strings_are_utf8_and_bytes_raw(lua):
    length = lua.eval("function(s) return #s, s:byte(1, -1) end")
    assert length("é") == (2, 0xC3, 0xA9)
    assert length("") == 0
    assert length(b"\x00\xff") == (2, 0, 255)
    assert lua.eval("function(s) return s end")("a\x00b") == "a\x00b"
    assert length(bytearray(b"ab")) == (2, 97, 98)


def test_sequences_are_1_based(lua):
    get = lua.eval("function(t, i) return t[i], #t end")
    assert get([10, 20, 30], 1) == (10, 3)
    assert get((10, 20, 30), 3) == (30, 3)
    assert get([10, 20, 30], 0) == (None, 3)


def test_dicts_become_tables_and_none_leaves_the_key_out(lua):
    keys = lua.eval("function(t) local n = 0 for k in pairs(t) do n = n + 1 end return n, t.a, t[2], t[true] end")
    assert keys({"a": 1, 2: "two", True: "yes", "gone": None}) == (3, 1, "two", "yes")
    with pytest.raises(ValueError, match="NaN"):
        keys({math.nan: 1})


def test_nested_and_shared_containers(lua):
    shared = [1, 2]
    check = lua.eval("function(t) return t[1] == t[2], t[1] == t[3].inner, t[1][2] end")
    assert check([shared, shared, {"inner": shared}]) == (True, True, 2)
    # the same list passed as two arguments: two separate conversions
    assert lua.eval("function(a, b) return a == b end")(shared, shared) is False


def test_cycles_are_preserved_not_hung(lua):
    d = {"name": "d"}
    d["self"] = d
    lst = [1]
    lst.append(lst)
    check = lua.eval("function(d, l) return d.self == d, d.self.self.name, l[2] == l, l[2][2][1] end")
    assert check(d, lst) == (True, "d", True, 1)
    same = lua.eval("function(x) return x end")
    back = same(d)
    assert back["self"] is back and back["name"] == "d"


def test_numpy_scalars_become_numbers(lua):
    show = lua.eval("function(x) return type(x), x end")
    assert show(np.float64(0.25)) == ("number", 0.25)
    assert show(np.float32(0.5)) == ("number", 0.5)
    assert show(np.int64(-7)) == ("number", -7)
    assert show(np.uint8(200)) == ("number", 200)
    assert show(np.bool_(True)) == ("boolean", True)
    with pytest.raises(OverflowError):
        show(np.uint64(2 ** 64 - 1))


def test_proxies_go_back_as_the_same_lua_object(lua):
    lua.execute("t = {}")
    proxy_state = LuaState(tables="proxy")
    try:
        proxy_state.execute("t = {}")
        t = proxy_state["t"]
        f = proxy_state.eval("function() end")
        assert proxy_state.eval("function(a, b) return a == t, b end")(t, f) == (True, f)
        assert proxy_state.eval("function(x) return rawequal(x, t) end")([t][0]) is True
    finally:
        proxy_state.close()


def test_other_objects_are_references(lua):
    class Thing:
        def __init__(self):
            self.value = 41

        def bump(self, n):
            self.value += n
            return self.value

    thing = Thing()
    use = lua.eval("function(o) return type(o), o.value, o.bump(1), o end")
    kind, value, bumped, back = use(thing)
    assert (kind, value, bumped) == ("userdata", 41, 42)
    assert back is thing
    assert lua.eval("function(f, x) return f(x) end")(len, [1, 2, 3]) == 3
    assert lua.eval("function(o) return o end")({1, 2}) == {1, 2}    # a set is a reference
    s = {1, 2}
    assert lua.eval("function(o) return o end")(s) is s


# ---------------------------------------------------------------- Lua -> Python
def test_lua_scalars_to_python(lua):
    assert lua.eval("nil") is None
    assert lua.eval("true") is True and lua.eval("false") is False
    assert lua.eval("3") == 3 and type(lua.eval("3")) is int
    assert type(lua.eval("3.0")) is int
    assert lua.eval("0.5") == 0.5
    assert lua.eval("2^53") == MAX_EXACT and type(lua.eval("2^53")) is int
    assert lua.eval("-2^53") == -MAX_EXACT and type(lua.eval("-2^53")) is int
    assert type(lua.eval("2^53 * 2")) is float
    assert lua.eval("1e300") == 1e300
    assert lua.eval("1/0") == math.inf
    assert math.isnan(lua.eval("0/0"))
    assert lua.eval("'text'") == "text"
    assert lua.eval("'\\195\\169'") == "é"


def test_invalid_utf8_comes_back_as_bytes(lua):
    assert lua.eval("'\\255\\254'") == b"\xff\xfe"
    raw = LuaState(encoding=None)
    try:
        assert raw.eval("'text'") == b"text"
        assert raw.eval("{a = 'x'}") == {b"a": b"x"}
    finally:
        raw.close()
    latin = LuaState(encoding="latin-1")
    try:
        assert latin.eval("'\\233'") == "é"
        assert latin.eval("function(s) return #s end")("é") == 2    # Python -> Lua is always UTF-8
    finally:
        latin.close()


def test_tables_to_dicts_deep_and_shared(lua):
    assert lua.eval("{1, 2, x = {y = {3}}}") == {1: 1, 2: 2, "x": {"y": {1: 3}}}
    t = lua.execute("local s = {1} return {a = s, b = s}")
    assert t["a"] is t["b"]
    c = lua.execute("local t = {} t.me = t t[t] = 1 return t")
    assert c["me"] is c
    table_keys = [k for k in c if isinstance(k, LuaTable)]
    assert len(table_keys) == 1                  # a table key stays a live table (dicts are unhashable)


def test_tables_list_mode():
    lua = LuaState(tables="list")
    try:
        assert lua.eval("{1, 2, {3, {4}}}") == [1, 2, [3, [4]]]
        assert lua.eval("{}") == []
        assert lua.eval("{1, 2, x = 3}") == {1: 1, 2: 2, "x": 3}
        assert lua.eval("{[1] = 'a', [3] = 'c'}") == {1: "a", 3: "c"}
        assert lua.eval("{[2] = 'b'}") == {2: "b"}
        assert lua.eval("{[1.5] = 1}") == {1.5: 1}
        c = lua.execute("local t = {1} t[2] = t return t")
        assert c[1] is c
    finally:
        lua.close()


def test_tables_proxy_mode():
    lua = LuaState(tables="proxy")
    try:
        t = lua.eval("{1, {2}}")
        assert isinstance(t, LuaTable) and isinstance(t[2], LuaTable)
        assert t[2][1] == 2
    finally:
        lua.close()


def test_functions_coroutines_userdata(lua):
    assert isinstance(lua.eval("print"), LuaFunction)
    assert isinstance(lua.eval("function() end"), LuaFunction)
    co = lua.eval("coroutine.create(print)")
    assert type(co) is LuaObject and co.lua_type == "thread"
    assert lua.eval("ffi.new('int[3]')").lua_type == "cdata"
    assert type(lua.eval("newproxy()")) is LuaObject


def test_torch_class_instances_stay_live(lua):
    # a table whose metatable has __typename (torch.class instances) is not copied
    obj = lua.execute("return setmetatable({weight = 1}, {__typename = 'nn.Fake', __index = {kind = 'fake'}})")
    assert isinstance(obj, LuaTable)
    assert obj.weight == 1 and obj.kind == "fake"


# ---------------------------------------------------------------- round trips (hypothesis)
FINITE = st.floats(allow_nan=False, allow_infinity=True)
EXACT_INT = st.integers(min_value=-MAX_EXACT, max_value=MAX_EXACT)
SCALARS = st.one_of(st.booleans(), EXACT_INT, FINITE, st.text())
# tables="list": a non-empty dict with string keys stays a dict, a list a list;
# None cannot sit in a sequence (a hole) nor be a dict value (the key is left out)
NESTED = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=6),
                            st.dictionaries(st.text(min_size=1, max_size=5), inner, min_size=1, max_size=6)),
    max_leaves=30)


def same_value(a, b):
    """Equality that tells bools from numbers and checks the shapes."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b and (type(b) is int) == (float(a).is_integer() and abs(a) <= MAX_EXACT)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(same_value, a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(NESTED)
def test_round_trip_nested(shared, value):
    identity = shared["list"].eval("function(x) return x end")
    assert same_value(value, identity(value))


@settings(max_examples=100, deadline=None)
@given(st.lists(SCALARS, min_size=1, max_size=20), st.data())
def test_lists_are_1_based_in_lua(shared, items, data):
    i = data.draw(st.integers(min_value=0, max_value=len(items) - 1))
    get = shared["list"].eval("function(t, i) return t[i], #t end")
    got, n = get(items, i + 1)
    assert n == len(items)
    assert same_value(items[i], got)


@settings(max_examples=200, deadline=None)
@given(EXACT_INT)
def test_round_trip_ints(shared, v):
    back = shared["dict"].eval("function(x) return x end")(v)
    assert back == v and type(back) is int


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False))
def test_round_trip_floats(shared, v):
    back = shared["dict"].eval("function(x) return x, string.format('%.17g', x) end")(v)
    assert back[0] == v
    assert float(back[1]) == v


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_round_trip_text(shared, s):
    back, n = shared["dict"].eval("function(x) return x, #x end")(s)
    assert back == s and n == len(s.encode("utf-8"))


@settings(max_examples=100, deadline=None)
@given(st.binary())
def test_bytes_come_back_as_str_when_utf8(shared, b):
    back = shared["dict"].eval("function(x) return x end")(b)
    try:
        expected = b.decode("utf-8")
    except UnicodeDecodeError:
        expected = b
    assert back == expected and type(back) is type(expected)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.one_of(st.text(min_size=1), st.integers(-1000, 1000)), SCALARS, max_size=8))
def test_round_trip_dicts_in_dict_mode(shared, d):
    back = shared["dict"].eval("function(x) return x end")(d)
    assert back.keys() == d.keys()
    assert all(same_value(d[k], back[k]) for k in d)


def test_nesting_limit_both_ways(lua):
    deep = []
    for _ in range(500):
        deep = [deep]
    with pytest.raises(RecursionError, match="deeper than"):
        lua.eval("function(x) return x end")(deep)
    with pytest.raises(RecursionError, match="deeper than"):
        lua.execute("local t = {} for i = 1, 500 do t = {t} end return t")
    ok = []
    for _ in range(100):
        ok = [ok]
    assert lua.eval("function(x) return x end")(ok) is not None
    assert lua.eval("1") == 1
