"""torch's small utilities of Torch7's utils.c (doc/utility.md) and table.unpack."""
import time

import pytest

import sparktorch7 as st


@pytest.fixture(scope="module")
def lua():
    with st.LuaState() as state:
        state.require("nn")
        yield state


def test_table_unpack_is_unpack(lua):
    assert lua.eval("table.unpack == unpack") is True
    assert lua.eval("select('#', table.unpack({1, 2, 3}))") == 3


def test_tic_is_wall_clock_seconds_and_toc_the_difference(lua):
    before = time.time()
    t0 = lua.eval("torch.tic()")
    after = time.time()
    assert before - 0.01 <= t0 <= after + 0.01
    lua.execute("t0 = torch.tic(); local x = 0; for i = 1, 2e6 do x = x + i end; dt = torch.toc(t0)")
    assert 0 < lua.eval("dt") < 5
    with pytest.raises(st.LuaError, match=r"<torch.toc> expects the number torch.tic\(\) returned, got nil"):
        lua.execute("torch.toc()")


def test_numthreads_set_and_read_back(lua):
    saved = lua.eval("torch.getnumthreads()")
    try:
        lua.execute("torch.setnumthreads(1)")
        assert lua.eval("torch.getnumthreads()") == 1
        lua.execute("torch.setnumthreads(2)")
        assert lua.eval("torch.getnumthreads()") == 2
    finally:
        lua.execute(f"torch.setnumthreads({saved})")
    assert lua.eval("torch.getnumcores()") >= 1
    with pytest.raises(st.LuaError, match=r"<torch.setnumthreads> expects an integer number of threads, got 1.5"):
        lua.execute("torch.setnumthreads(1.5)")


def test_isatty_isequal_version(lua):
    assert lua.eval("torch.isatty(io.stdout)") in (True, False)
    with pytest.raises(st.LuaError, match=r"<torch.isatty> expects an open Lua file handle, got number"):
        lua.execute("torch.isatty(1)")
    assert lua.eval("(function() local t = {} return torch.isequal(t, t) end)()") is True
    assert lua.eval("torch.isequal({}, {})") is False
    assert lua.eval("torch.isequal(1, 1)") is False
    lua.execute("local C = torch.class('utilsTestVersioned'); C.__version = 3")
    assert lua.eval("torch.version(utilsTestVersioned())") == 3
    assert lua.eval("torch.version(torch.FloatTensor())") is None


def test_getenv_setenv(lua):
    lua.execute("envf = function() return marker end; torch.setenv(envf, {marker = 42})")
    assert lua.eval("envf()") == 42
    assert lua.eval("torch.getenv(envf).marker") == 42
    # a tensor's environment holds its fields: replacing it is refused, not done
    with pytest.raises(st.LuaError, match=r"<torch.setenv> cannot replace the environment of a torch.FloatTensor"):
        lua.execute("torch.setenv(torch.FloatTensor(2), {})")


def test_newmetatable_makes_a_class_once(lua):
    lua.execute("""
      local mt = torch.newmetatable('utilsTestPoint')
      function utilsTestPoint:__init(x) self.x = x end
      same = torch.newmetatable('utilsTestPoint') == mt
      p = utilsTestPoint(7)""")
    assert lua.eval("same") is True
    assert lua.eval("torch.type(p)") == "utilsTestPoint"
    assert lua.eval("p.x") == 7
