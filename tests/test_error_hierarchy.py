"""The exception hierarchy (sparktorch7/errors.py) and the one Lua -> Python mapping:
structured Lua errors (lua/sparktorch7/errors.lua) keep their kind across the boundary and
their classic text inside Lua, context travels as notes, a worker's exception reaches the
driver as its class with its notes, and closing a state with max_memory frees its heap."""
import base64
import json
import resource

import pytest

import sparktorch7 as st
from sparktorch7 import LuaState, _codec, _paths, _spark_errors, errors, udf
from sparktorch7 import _lua

BASES = {
    "LuaError": (Exception,),
    "LuaSyntaxError": (errors.LuaError,),
    "LuaMemoryError": (errors.LuaError, MemoryError),
    "LuaTimeoutError": (errors.LuaError, TimeoutError),
    "LuaClosedError": (errors.LuaError, RuntimeError),
    "T7FormatError": (errors.LuaError, ValueError),
    "ScoringError": (ValueError,),
    "BadRowsError": (errors.ScoringError,),
    "LuaResultError": (errors.ScoringError,),
    "PathOverlapError": (ValueError,),
    "OutputExistsError": (FileExistsError,),
}


# ---------------------------------------------------------------- the hierarchy
@pytest.mark.parametrize("name", sorted(BASES))
def test_bases(name):
    cls = getattr(errors, name)
    assert cls.__bases__ == BASES[name]
    assert name in errors.__all__
    assert getattr(st, name) is cls                   # the package exports the same class
    assert name in errors.__doc__                     # the module docstring is the table


def test_every_class_of_all_is_in_the_table():
    classes = [n for n in errors.__all__ if isinstance(getattr(errors, n), type)]
    assert sorted(classes) == sorted(BASES)


def test_lua_classes_are_the_extensions_and_old_imports_work():
    for name in ("LuaError", "LuaSyntaxError", "LuaMemoryError", "LuaTimeoutError",
                 "LuaClosedError", "T7FormatError"):
        assert getattr(errors, name) is getattr(_lua, name)
    assert udf.BadRowsError is _codec.BadRowsError is errors.BadRowsError
    assert udf.LuaResultError is _codec.LuaResultError is errors.LuaResultError
    assert _paths.PathOverlapError is errors.PathOverlapError
    assert _paths.OutputExistsError is errors.OutputExistsError


def test_scoring_errors_are_caught_as_value_errors():
    for cls in (errors.BadRowsError, errors.LuaResultError):
        with pytest.raises(ValueError, match="row 3"):
            raise cls("row 3 is bad")
        with pytest.raises(errors.ScoringError):
            raise cls("x")


def test_add_note_falls_back_to_dunder_notes():
    class NoAddNote(Exception):
        @property
        def add_note(self):          # as on Python 3.10: no add_note method
            raise AttributeError("add_note")

    e = NoAddNote("x")
    errors.add_note(e, "first")
    errors.add_note(e, "second")
    assert e.__notes__ == ["first", "second"]
    v = ValueError("y")
    errors.add_note(v, "a note")
    assert v.__notes__ == ["a note"]


# ---------------------------------------------------------------- kinds -> classes
@pytest.mark.parametrize("kind, cls", [
    ("t7format", errors.T7FormatError),
    ("memory", errors.LuaMemoryError),
    ("timeout", errors.LuaTimeoutError),
    ("something-else", errors.LuaError),
])
def test_each_kind_maps_to_its_class(lua, kind, cls):
    code = f"local errors = require 'sparktorch7.errors'\nerrors.raise('{kind}', 'it broke')"
    with pytest.raises(errors.LuaError) as info:
        lua.execute(code, name="kinds.lua")
    e = info.value
    assert type(e) is cls
    assert e.lua_message == "kinds.lua:2: it broke"
    assert e.value == "kinds.lua:2: it broke"
    assert e.lua_traceback.startswith("stack traceback:") and "kinds.lua:2" in e.lua_traceback
    assert not hasattr(e, "__notes__")


def test_the_runtimes_own_errors_have_kinds(lua):
    lua.execute("require 'torch'")
    with pytest.raises(errors.LuaMemoryError, match=r"^user.lua:1: <torch.FloatStorage> not enough memory"):
        lua.execute("local x = torch.FloatTensor(2^40)", name="user.lua")
    with pytest.raises(errors.T7FormatError, match="at byte offset") as info:
        lua.execute("torch.deserialize(torch.serialize(torch.DoubleTensor(10)):sub(1, 40))")
    assert isinstance(info.value, ValueError)
    assert not info.value.lua_message.startswith("T7FormatError")
    with pytest.raises(errors.LuaSyntaxError) as info:
        lua.execute("x = = 1", name="bad.lua")
    assert info.value.chunk == "bad.lua" and info.value.line == 1


def test_a_timeout_is_a_timeout_kind_and_is_forgotten_afterwards():
    with LuaState(timeout=0.1) as lua:
        with pytest.raises(errors.LuaTimeoutError, match=r"timed out after 0.1 s in spin.lua:1"):
            lua.execute("while true do end", name="spin.lua")
        with pytest.raises(errors.LuaError) as info:      # the next error is not a timeout
            lua.execute("error('plain')")
        assert type(info.value) is errors.LuaError


def test_max_memory_is_a_memory_error_by_status():
    with LuaState(max_memory=8 << 20) as lua:
        with pytest.raises(errors.LuaMemoryError, match=r"not enough memory \(the state's max_memory is 8388608 bytes\)"):
            lua.execute("local t = {} for i = 1, 1e7 do t[i] = {} end")
        assert lua.eval("1 + 1") == 2


def test_lua_s_own_memory_message_raised_again_keeps_its_class(lua):
    with pytest.raises(errors.LuaMemoryError):
        lua.execute("error('not enough memory', 0)")
    with pytest.raises(errors.LuaError) as info:
        lua.execute("error('a cache with not enough memory left', 0)")
    assert type(info.value) is errors.LuaError


# ---------------------------------------------------------------- inside Lua
CLASSIC = """
local errors = require 'sparktorch7.errors'
local function structured() errors.raise('memory', 'boom') end local function plain() error('boom') end
local _, e = pcall(structured)
local _, s = pcall(plain)
return {
  kind = errors.kind(e), plain_kind = errors.kind(s), type = type(e),
  text = tostring(e), classic = s,
  right = e .. '!', left = '<' .. e, both = e .. e,
  match = e:match('(%d+): boom'), find = e:find('boom', 1, true), upper = e:upper(),
  gsub = (e:gsub('boom', 'bang')), len = e:len(),
  tester = string.find(tostring(e), 'b..m') ~= nil,
  fields = e.kind .. '|' .. e.message .. '|' .. e.position,
}
"""


def test_tostring_concat_and_string_methods_give_the_classic_text(lua):
    r = lua.execute(CLASSIC, name="classic.lua")
    assert r["classic"] == "classic.lua:3: boom"                     # what error() gives
    assert r["text"] == r["classic"]
    assert r["kind"] == "memory" and "plain_kind" not in r and r["type"] == "table"   # (nil: no key)
    assert r["right"] == "classic.lua:3: boom!"
    assert r["left"] == "<classic.lua:3: boom"
    assert r["both"] == "classic.lua:3: boomclassic.lua:3: boom"
    assert r["match"] == "3"
    assert r["find"] == len("classic.lua:3: ") + 1
    assert r["upper"] == "CLASSIC.LUA:3: BOOM"
    assert r["gsub"] == "classic.lua:3: bang"
    assert r["len"] == len("classic.lua:3: boom")
    assert r["tester"] is True
    assert r["fields"] == "memory|boom|classic.lua:3: "


def test_levels_blame_like_error(lua):
    r = lua.execute("""
local errors = require 'sparktorch7.errors'
local function inner(level) errors.raise('x', 'm', level) end
local function outer(level) inner(level) end
local function text(level) local _, e = pcall(outer, level) return tostring(e) end
return text(1), text(2), text(0)
""", name="levels.lua")
    assert r == ("levels.lua:3: m", "levels.lua:4: m", "m")


def test_pcall_and_match_on_runtime_errors(lua):
    lua.execute("require 'torch'")
    ok, found, kind, text = lua.execute("""
local errors = require 'sparktorch7.errors'
local ok, e = pcall(torch.FloatTensor, 2^40)
return ok, e:match('cannot allocate (%d+) elements'), errors.kind(e), 'caught: ' .. e
""")
    assert ok is False and found == "1099511627776" and kind == "memory"
    assert text.startswith("caught: <torch.FloatStorage> not enough memory")
    # a caught structured error that comes back to Python as a value is its text
    ok, value = lua.execute("return pcall(torch.FloatTensor, 2^40)")
    assert ok is False and isinstance(value, str)
    assert value.startswith("<torch.FloatStorage> not enough memory: cannot allocate 1099511627776")


def test_a_caught_structured_error_reaches_fb_python_as_its_text(lua):
    got = lua.execute("""
local fb = require 'fb.python'
local errors = require 'sparktorch7.errors'
local function f() errors.raise('memory', 'no room') end
local ok, e = pcall(f)
return fb.eval('(type(e).__name__, e)', {e = e})
""", name="fb.lua")
    assert got == {1: "str", 2: "fb.lua:4: no room"}          # (a tuple comes back as a table)


def test_torch_tester_matches_structured_errors_by_their_text(lua):
    lua.execute("require 'torch'")
    r = lua.execute("""
local errors = require 'sparktorch7.errors'
local t = torch.Tester()
local function hog() errors.raise('memory', 'no room') end
local function plain() error('no room') end
return {t:assertErrorMsg(hog, 'tester.lua:4: no room'), t:assertErrorMsg(plain, 'tester.lua:5: no room'),
        t:assertErrorPattern(hog, 'no r..m$'), t:assertErrorObj(hog, function(e) return errors.kind(e) == 'memory' end),
        (t:assertErrorMsg(hog, 'tester.lua:4: other'))}
""", name="tester.lua")
    assert r == {1: True, 2: True, 3: True, 4: True, 5: False}


def test_raised_again_keeps_the_kind(lua):
    lua.execute("require 'torch'")
    with pytest.raises(errors.T7FormatError):
        lua.execute("""
local ok, e = pcall(torch.deserialize, torch.serialize(torch.DoubleTensor(10)):sub(1, 40))
error(e, 0)
""")


def test_lua_notes_become_python_notes(lua):
    with pytest.raises(errors.T7FormatError) as info:
        lua.execute("""
local errors = require 'sparktorch7.errors'
local ok, e = pcall(errors.raise, 't7format', 'truncated at byte offset 9', 0)
errors.note(e, 'while loading model.t7')
errors.note(e, 'for user 7')
error(e, 0)
""")
    e = info.value
    assert e.__notes__ == ["while loading model.t7", "for user 7"]
    assert str(e) == "truncated at byte offset 9"


def test_containers_note_the_module_of_a_structured_error(lua):
    lua.execute("""
require 'nn'
local Hog, parent = torch.class('nn.HogForTest', 'nn.Module')
function Hog:updateOutput(input) self.output = torch.FloatTensor(2^40) return self.output end
local Bad, parent2 = torch.class('nn.BadForTest', 'nn.Module')
function Bad:updateOutput(input) error('plain failure') end
""")
    with pytest.raises(errors.LuaMemoryError) as info:
        lua.execute("nn.Sequential():add(nn.Identity()):add(nn.HogForTest()):forward(torch.ones(2))")
    assert info.value.__notes__ == ["In 2 module of nn.Sequential"]
    with pytest.raises(errors.LuaError) as info:
        lua.execute("nn.Sequential():add(nn.BadForTest()):forward(torch.ones(2))")
    assert type(info.value) is errors.LuaError
    assert info.value.lua_message.startswith("In 1 module of nn.Sequential:\n")
    assert "plain failure" in info.value.lua_message


def test_python_exceptions_through_lua_get_the_lua_traceback_as_a_note(lua):
    with pytest.raises(ZeroDivisionError) as info:
        lua.execute("local function f() py.eval('1/0') end\nf()", name="div.lua")
    notes = info.value.__notes__
    assert len(notes) == 1 and notes[0].startswith("Lua stack traceback:")
    assert "div.lua:1" in notes[0]


def test_a_structured_error_in_a_finalizer_is_reported_with_its_text(lua):
    lua.execute("local errors = require 'sparktorch7.errors'\n"
                "local u = newproxy(true)\n"
                "getmetatable(u).__gc = function() errors.raise('memory', 'gone') end", name="fin.lua")
    with pytest.warns(RuntimeWarning, match=r"finalizer \(ignored\): fin.lua:3: gone$"):
        lua.gc()


def test_bad_arguments_to_raise_are_named(lua):
    with pytest.raises(errors.LuaError, match=r"<sparktorch7.errors> new\(kind, msg \[, level\]\) "
                                              r"expects two strings, got string and nil"):
        lua.execute("require('sparktorch7.errors').raise('memory')", name="args.lua")


# ---------------------------------------------------------------- records (worker -> driver)
def _worker_text(exc):
    """What the driver sees of a worker's exception: its class line, notes, JVM frames."""
    import traceback
    body = "".join(traceback.format_exception(exc))
    return ("org.apache.spark.api.python.PythonException: " + body
            + "\tat org.apache.spark.api.python.BasePythonRunner.read(PythonRunner.scala:1)\n")


def test_record_round_trip_keeps_class_message_traceback_and_notes():
    try:
        raise errors.T7FormatError("m.t7 is cut at byte offset 9", "stack traceback:\n\t[C]: in ?")
    except errors.T7FormatError as e:
        errors.add_note(e, "in Lua function 'f' of script 's.lua' on rows 0..9")
        errors.add_note(e, _spark_errors.record_note(e))
        text = _worker_text(e)
    record = _spark_errors._read_record(text)
    assert record["class"] == "sparktorch7._lua.T7FormatError"
    rebuilt = _spark_errors._rebuild(record["class"], record["message"], record["traceback"],
                                     record["notes"])
    assert type(rebuilt) is errors.T7FormatError
    assert str(rebuilt) == "m.t7 is cut at byte offset 9"
    assert rebuilt.lua_traceback == "stack traceback:\n\t[C]: in ?"
    assert rebuilt.__notes__ == ["in Lua function 'f' of script 's.lua' on rows 0..9"]


def test_record_is_capped_and_garbage_is_ignored():
    e = errors.LuaError("x" * 50000, "stack traceback:" + "y" * 50000)
    note = _spark_errors.record_note(e)
    record = json.loads(base64.b64decode(note.split(": ", 1)[1]))
    assert len(record["message"]) + len(record["traceback"] or "") <= _spark_errors._RECORD_MAX
    assert _spark_errors._read_record("sparktorch7-error-record: bm90IGpzb24=") is None   # "not json"
    assert _spark_errors._read_record("no record here") is None


# ---------------------------------------------------------------- through a Spark UDF
UDF_SCRIPT = r"""
require 'torch'
local errors = require 'sparktorch7.errors'
function load_cut(x)
  local bytes = torch.serialize(torch.DoubleTensor(10)):sub(1, 40)
  local ok, e = pcall(torch.deserialize, bytes)
  errors.note(e, 'while loading the weights')
  error(e, 0)
end
function pydiv(x) py.eval('1/0') end
"""


@pytest.mark.spark
def test_t7_format_error_through_a_udf_on_the_driver(spark):
    script = st.LuaScript(UDF_SCRIPT, name="e.lua")
    df = spark.range(0, 4, numPartitions=1).selectExpr("cast(id as double) as v")
    with pytest.raises(ValueError) as info, st.short_errors():
        df.select(st.lua_udf(script, "load_cut", "double")("v")).collect()
    e = info.value
    assert type(e) is errors.T7FormatError
    assert e.lua_message.startswith("Lua function 'load_cut' of script 'e.lua' failed on rows 0..3 "
                                    "of partition 0: ")
    assert "at byte offset" in e.lua_message
    assert e.lua_traceback.startswith("stack traceback:") and "e.lua:8:" in e.lua_traceback   # error(e, 0)
    assert e.__notes__ == ["while loading the weights"]
    assert "sparktorch7-error-record" not in str(e)
    with pytest.raises(ZeroDivisionError) as info, st.short_errors():
        df.select(st.lua_udf(script, "pydiv", "double")("v")).collect()
    notes = info.value.__notes__
    assert any(n.startswith("Lua stack traceback:") for n in notes), notes
    assert "in Lua function 'pydiv' of script 'e.lua' on rows 0..3 of partition 0" in notes


# ---------------------------------------------------------------- max_memory states free their heap
def _rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def test_closing_states_with_max_memory_frees_their_heap():
    fill = "local t = {} for i = 1, 20000 do t[i] = {i} end"
    for _ in range(20):                                   # warm up the allocators
        s = LuaState(max_memory=64 << 20)
        s.execute(fill)
        s.close()
    before = _rss()
    for _ in range(300):
        s = LuaState(max_memory=64 << 20)
        s.execute(fill)
        assert s.memory_used() > 1 << 20                  # each state did use a heap of MBs
        s.close()
    for _ in range(100):
        with LuaState(max_memory=64 << 20) as s:          # and when closed by __exit__ / dealloc
            s.execute(fill)
        LuaState(max_memory=64 << 20).execute(fill)
    grown = _rss() - before
    # 500 heaps of over 1 MiB each: 500 MiB when leaked
    assert grown < 32 << 20, f"RSS grew by {grown / 2**20:.1f} MiB"
