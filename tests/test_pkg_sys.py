"""sys, Torch7's small system package."""
import os
import time

import pytest

from sparktorch7 import LuaError


@pytest.fixture
def lua(lua):
    lua.require("torch")
    lua.execute("sys = require 'sys'")
    return lua


def test_clock_tic_toc_sleep(lua):
    t = lua.eval("sys.clock()")
    assert abs(t - time.time()) < 1.0
    ticks = lua.execute("local a = sys.clock(); local b; repeat b = sys.clock() until b ~= a; return b - a")
    assert 0 < ticks < 0.01                          # microsecond resolution, as gettimeofday
    start = time.perf_counter()
    dt = lua.execute("sys.tic(); sys.sleep(0.12); return sys.toc()")
    wall = time.perf_counter() - start
    assert 0.12 <= dt <= wall + 0.01
    start = time.perf_counter()
    lua.execute("sys.usleep(50000)")
    assert time.perf_counter() - start >= 0.05
    with pytest.raises(LuaError, match="<sys.sleep> expects seconds as a number, got string"):
        lua.execute("sys.sleep('1')")


def test_execute_and_ls(lua, tmp_path):
    (tmp_path / "a.t7").write_text("x")
    (tmp_path / "b.lua").write_text("x")
    lua.globals().d = str(tmp_path)
    assert lua.eval("sys.execute('echo \"  hello  \"; echo there')") == "hello  \nthere"   # trimmed ends
    assert "nonexistent_xyz" in lua.eval("sys.execute('ls /nonexistent_xyz')")                 # stderr too
    assert lua.eval("sys.fexecute('printf \"%s\\\\n\" one two')") == "one\ntwo"
    assert lua.eval("sys.ls(d)").split() == ["a.t7", "b.lua"]
    assert "a.t7" in lua.eval("sys.ll(d)") and ".." in lua.eval("sys.la(d)")
    with pytest.raises(LuaError, match="<sys.execute> expects a shell command as a string, got nil"):
        lua.execute("sys.execute()")


def test_os_paths_and_fpath(lua, tmp_path):
    assert lua.execute("return sys.uname(), sys.OS") == ("linux", "linux")
    assert lua.eval("sys.pwd()") == os.getcwd()
    assert lua.execute("return sys.dirname('/a/b/c.t7'), sys.basename('/a/b/c.t7'), sys.concat('/a', 'b')") == (
        "/a/b", "c.t7", "/a/b")
    assert lua.execute("return sys.filep(sys.pwd()), sys.dirp(sys.pwd())") == (False, True)
    script = tmp_path / "sub" / "where.lua"
    script.parent.mkdir()
    script.write_text("local dir, name = sys.fpath(); return dir, name")
    lua.globals().script = str(script)
    assert lua.execute("return dofile(script)") == (str(script.parent), "where.lua")
    assert lua.eval("sys.prefix") == ""


def test_split_nan_colors_and_global(lua):
    assert list(lua.eval("sys.split('a,b,,c', ',')").values()) == ["a", "b", "", "c"]
    assert list(lua.eval("sys.split(',a,b', ',')").values()) == ["a", "b"]        # empty first piece dropped
    assert lua.execute("return sys.isNaN(0/0), sys.isNaN(1)") == (True, False)
    assert lua.execute("return sys.COLORS.red, sys.COLORS.none, sys.COLORS.Green, sys.COLORS._blue") == (
        "\x1b[0;31m", "\x1b[0m", "\x1b[1;32m", "\x1b[44m")
    assert lua.eval("rawget(_G, 'sys') == sys") is True
    with pytest.raises(LuaError, match=r"<sys.toc> called before sys.tic\(\)"):
        lua.execute("package.loaded.sys = nil; sys = require 'sys'; sys.toc()")
