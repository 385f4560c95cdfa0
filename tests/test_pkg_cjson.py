"""cjson: lua-cjson 2.1's API, output and error messages, written in Lua."""
import json
import math
import pathlib
import random

import pytest

from sparktorch7 import LuaError

TORCH_RNN = pathlib.Path(__file__).resolve().parents[1] / ".." / "shared" / "fixtures" / "projects" / "torch-rnn"


@pytest.fixture
def lua(lua):
    lua.execute("cjson = require 'cjson'")
    return lua


def enc(lua, expr):
    return lua.execute(f"return cjson.encode({expr})")


def err(lua, code):
    """The error message a pcall gets (lua-cjson's have no position prefix)."""
    ok, msg = lua.execute(f"return pcall(function() {code} end)")
    assert ok is False
    return msg


def test_encode_values(lua):
    assert enc(lua, "{1, 2, 3}") == "[1,2,3]"
    assert enc(lua, "{}") == "{}"
    assert enc(lua, "'x'") == '"x"'
    assert enc(lua, "true") == "true" and enc(lua, "nil") == "null" and enc(lua, "cjson.null") == "null"
    assert enc(lua, "{a = {b = {true, false}}}") == '{"a":{"b":[true,false]}}'
    # every escape lua-cjson writes: \" \\ \/ \b \t \n \f \r, \u00XX for other controls and DEL
    assert enc(lua, r"'q\"b\\s/\b\t\n\f\r\1\31\127é'") == r'"q\"b\\s\/\b\t\n\f\r\u0001\u001f\u007fé"'
    # holes in an array are null; number keys of an object are strings
    assert enc(lua, "{1, nil, 3}") == "[1,null,3]"
    assert json.loads(enc(lua, "{[1] = 'a', x = 1}")) == {"1": "a", "x": 1}
    assert enc(lua, "{[1.5] = 1}") == '{"1.5":1}'
    assert enc(lua, "{[0] = 1}") == '{"0":1}'


def test_numbers_as_lua_cjson_writes_them(lua):
    assert enc(lua, "{0.1, 1/3, 1e15, 123456789012345678, -0.0, 5, 2^53}") == (
        "[0.1,0.33333333333333,1e+15,1.2345678901235e+17,-0,5,9.007199254741e+15]")
    assert lua.execute("return cjson.encode_number_precision(3), cjson.encode(1/3), cjson.encode(1234567)") == (
        3, "0.333", "1.23e+06")
    assert err(lua, "cjson.encode_number_precision(15)") == (
        "bad argument #1 to 'encode_number_precision' (expected integer between 1 and 14)")
    assert err(lua, "cjson.encode(0/0)") == "Cannot serialise number: must not be NaN or Infinity"
    assert err(lua, "cjson.encode({1/0})") == "Cannot serialise number: must not be NaN or Infinity"
    assert lua.execute("return cjson.encode_invalid_numbers(true), cjson.encode({0/0, 1/0, -1/0})") == (
        True, "[NaN,Infinity,-Infinity]")
    assert lua.execute("return cjson.encode_invalid_numbers('null'), cjson.encode({0/0, 1/0})") == ("null", "[null,null]")
    assert lua.execute("return cjson.encode_invalid_numbers('off')") is False


def test_encode_errors(lua):
    assert err(lua, "cjson.encode(print)") == "Cannot serialise function: type not supported"
    assert err(lua, "cjson.encode({f = function() end})") == "Cannot serialise function: type not supported"
    assert err(lua, "cjson.encode(io.stdout)") == "Cannot serialise userdata: type not supported"
    assert err(lua, "cjson.encode({[true] = 1})") == "Cannot serialise boolean: table key must be a number or string"
    assert err(lua, "cjson.encode({[1] = 1, [20] = 2})") == "Cannot serialise table: excessively sparse array"
    assert err(lua, "cjson.encode()") == "bad argument #1 to 'encode' (expected 1 argument)"
    assert err(lua, "cjson.encode(1, 2)") == "bad argument #1 to 'encode' (expected 1 argument)"
    assert err(lua, "local t = {}; t[1] = t; cjson.encode(t)") == "Cannot serialise, excessive nesting (1001)"
    assert lua.execute("return cjson.encode_max_depth(3), pcall(cjson.encode, {{{{1}}}})") == (
        3, False, "Cannot serialise, excessive nesting (4)")
    assert enc(lua, "{{{1}}}") == "[[[1]]]"


def test_sparse_arrays(lua):
    assert lua.execute("return cjson.encode_sparse_array()") == (False, 2, 10)
    assert enc(lua, "{[10] = 1}") == "[null,null,null,null,null,null,null,null,null,1]"   # max <= safe
    assert enc(lua, "{[1] = 1, [3] = 3, [12] = 1, [11] = 1, [10] = 1, [9] = 1}") == (
        "[1,null,3,null,null,null,null,null,1,1,1,1]")                                  # 12 <= 6 * 2
    assert lua.execute("return cjson.encode_sparse_array(true)") == (True, 2, 10)
    assert json.loads(enc(lua, "{[1] = 'a', [20] = 'b'}")) == {"1": "a", "20": "b"}
    lua.execute("cjson.encode_sparse_array(false, 0)")                                  # ratio 0: always arrays
    assert enc(lua, "{[3] = 1}") == "[null,null,1]"
    assert err(lua, "cjson.encode_sparse_array('maybe')") == "bad argument #1 to 'encode_sparse_array' (invalid option 'maybe')"


def test_decode_values(lua):
    doc = {"a": [1, 2.5, -3e-7, True, False, None, "x\ny\u00e9\u20ac\U0001F600"], "b": {"c": {}}, "d": [], "e": ""}
    lua.globals().s = json.dumps(doc)
    assert lua.execute("local t = cjson.decode(s); return t.a[1], t.a[2], t.a[3], t.a[4], t.a[5], t.a[6] == cjson.null, "
                       "t.a[7], t.e, next(t.b.c), #t.d") == (1, 2.5, -3e-7, True, False, True,
                                                              "x\ny\u00e9\u20ac\U0001F600", "", None, 0)
    # a decode/encode round trip keeps the document, except that an empty array comes back
    # as an empty table, which lua-cjson encodes as an object
    assert json.loads(lua.execute("return cjson.encode(cjson.decode(s))")) == dict(doc, d={})
    assert lua.execute(r"""return cjson.decode('"\\u0041\\/\\b\\f\\t\\r\\n\\"\\\\"')""") == 'A/\b\f\t\r\n"\\'
    # what strtod takes while decode_invalid_numbers is on (the default)
    assert lua.execute("return cjson.decode('[0x10, +1, 01, 1.]')[1], cjson.decode('[0x10, +1, 01, 1.]')[2], "
                       "cjson.decode('01'), cjson.decode('1.')") == (16, 1, 1, 1)
    assert math.isnan(lua.execute("return cjson.decode('NaN')"))
    assert lua.execute("return cjson.decode('[Infinity, -inf]')[1], cjson.decode('-inf')") == (math.inf, -math.inf)
    # the C parser stops at a NUL byte
    assert lua.execute(r"return cjson.decode('[1]\0garbage')[1]") == 1
    assert lua.execute("return cjson.decode(' 42 '), cjson.decode(12)") == (42, 12)


@pytest.mark.parametrize("text, message", [
    ("", "Expected value but found T_END at character 1"),
    ("x", "Expected value but found invalid token at character 1"),
    ("  nul", "Expected value but found invalid token at character 3"),
    ("[1,]", "Expected value but found T_ARR_END at character 4"),
    ("[1 2]", "Expected comma or array end but found T_NUMBER at character 4"),
    ('{"a" 1}', "Expected colon but found T_NUMBER at character 6"),
    ("{1: 2}", "Expected object key string but found T_NUMBER at character 2"),
    ('{"a": 1,}', "Expected object key string but found T_OBJ_END at character 9"),
    ('{"a": 1 "b"}', "Expected comma or object end but found T_STRING at character 9"),
    ('"abc', "Expected value but found unexpected end of string at character 5"),
    (r'"ab\q"', "Expected value but found invalid escape code at character 4"),
    (r'"\u12"', "Expected value but found invalid unicode escape code at character 2"),
    (r'"\udc00"', "Expected value but found invalid unicode escape code at character 2"),
    (r'"\ud800x"', "Expected value but found invalid unicode escape code at character 2"),
    ("[1] x", "Expected the end but found invalid token at character 5"),
    ("truex", "Expected the end but found invalid token at character 5"),
    ("-", "Expected value but found invalid number at character 1"),
    ("[1] [2]", "Expected the end but found T_ARR_BEGIN at character 5"),
])
def test_decode_errors(lua, text, message):
    lua.globals().s = text
    assert err(lua, "cjson.decode(s)") == message


def test_decode_options_and_limits(lua):
    assert lua.execute("return cjson.decode_invalid_numbers(false)") is False
    for text in ("0x10", "01", "-Infinity", "-nan"):
        lua.globals().s = text
        assert err(lua, "cjson.decode(s)") == "Expected value but found invalid number at character 1"
    for text in ("NaN", "+1", "Infinity"):       # not a number's first character any more
        lua.globals().s = text
        assert err(lua, "cjson.decode(s)") == "Expected value but found invalid token at character 1"
    assert lua.execute("return cjson.decode('10')") == 10
    lua.globals().s = "[" * 1001 + "]" * 1001
    assert err(lua, "cjson.decode(s)") == "Found too many nested data structures (1001) at character 1001"
    lua.globals().s = "[" * 1000 + "]" * 1000
    assert lua.execute("return type(cjson.decode(s))") == "table"
    assert lua.execute("return cjson.decode_max_depth(2), pcall(cjson.decode, '[[[1]]]')") == (
        2, False, "Found too many nested data structures (3) at character 3")
    assert err(lua, "cjson.decode('\\0a')") == "JSON parser does not support UTF-16 or UTF-32"
    assert err(lua, "cjson.decode({})") == "bad argument #1 to 'decode' (string expected, got table)"
    assert err(lua, "cjson.decode('1', 2)") == "bad argument #1 to 'decode' (expected 1 argument)"
    assert err(lua, "cjson.decode_max_depth(1, 2)") == "bad argument #2 to 'decode_max_depth' (found too many arguments)"
    assert err(lua, "cjson.decode_max_depth('x')") == "bad argument #1 to 'decode_max_depth' (number expected, got string)"
    assert lua.execute("return cjson.encode_keep_buffer(), cjson.encode_keep_buffer('off')") == (True, False)


def test_new_and_safe(lua):
    # each cjson.new() has its own configuration; all share cjson.null
    assert lua.execute("local c = cjson.new(); c.encode_number_precision(2); "
                       "return c.encode(1/3), cjson.encode(1/3), c.null == cjson.null, c.decode('null') == cjson.null, "
                       "cjson._NAME, cjson._VERSION") == ("0.33", "0.33333333333333", True, True, "cjson", "2.1devel")
    assert lua.execute("local safe = require 'cjson.safe'; local v, e = safe.decode('[1,'); local w, f = safe.encode(print); "
                       "return v, e, w, f, safe.decode('[7]')[1], safe.new().encode({1}), safe.null == cjson.null") == (
        None, "Expected value but found T_END at character 4", None, "Cannot serialise function: type not supported",
        7, "[1]", True)
    assert err(lua, "require('cjson.safe').decode()") == "bad argument #1 to 'decode' (expected 1 argument)"


def test_large_document_matches_python(lua):
    rng = random.Random(0)
    doc = [{"id": i, "x": rng.random(), "name": f"w{i} \"q\"", "tags": ["a", None, True], "n": {"k": -i}}
           for i in range(20000)]
    s = json.dumps(doc)
    lua.globals().s = s
    out = lua.execute("return cjson.encode(cjson.decode(s))")
    back = json.loads(out)
    assert len(back) == len(doc) and back[123]["name"] == doc[123]["name"] and back[-1]["n"] == {"k": -19999}
    for a, b in zip(back[:200], doc[:200]):
        assert a["x"] == pytest.approx(b["x"], rel=1e-13)      # %.14g


def test_torch_rnn_reads_and_writes_json_with_it(lua, tmp_path):
    lua.globals().utils_file = str(TORCH_RNN / "util" / "utils.lua")
    lua.globals().path = str(tmp_path / "vocab.json")
    assert lua.execute("local utils = dofile(utils_file); "
                       "utils.write_json(path, {idx_to_token = {'a', 'b'}, token_to_idx = {a = 1, b = 2}}); "
                       "local v = utils.read_json(path); return v.idx_to_token[2], v.token_to_idx.a") == ("b", 1)
    assert json.loads((tmp_path / "vocab.json").read_text()) == {"idx_to_token": ["a", "b"], "token_to_idx": {"a": 1, "b": 2}}
