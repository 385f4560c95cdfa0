"""paths, Torch7's file-name package, which `require 'torch'` loads as a global."""
import os

import pytest

from sparktorch7 import LuaError


@pytest.fixture
def lua(lua):
    """conftest's fresh state, with torch loaded."""
    lua.require("torch")
    return lua


def test_names(lua, tmp_path):
    assert lua.execute("""return paths.concat('/a/b', '../c', './d.t7'), paths.concat('/a', '/b', 'c'),
        paths.basename('/x/y/model.t7'), paths.basename('/x/y/model.t7', 't7'), paths.basename('/x/y/'),
        paths.dirname('/x/y/model.t7'), paths.dirname('model.t7'), paths.dirname('/model.t7'),
        paths.extname('/x/m.tar.t7'), paths.extname('/x/m')""") == (
        "/a/c/d.t7", "/b/c", "model.t7", "model", "y", "/x/y", ".", "/", "t7", None)
    # relative parts are relative to the working directory, as in Torch7
    assert lua.execute("return paths.concat('m.t7'), paths.cwd()") == (os.path.join(os.getcwd(), "m.t7"), os.getcwd())


def test_files_and_directories(lua, tmp_path):
    (tmp_path / "a.t7").write_bytes(b"x")
    (tmp_path / "b.lua").write_text("return 1")
    (tmp_path / "sub").mkdir()
    lua.globals().d = str(tmp_path)
    assert lua.execute("return paths.filep(d .. '/a.t7'), paths.filep(d), paths.dirp(d), paths.dirp(d .. '/a.t7'), "
                       "paths.filep(d .. '/none')") == (True, False, True, False, False)
    names = lua.execute("local t = {}; for f in paths.files(d, '%.t7$') do t[#t + 1] = f end; return t")
    assert list(names.values()) == ["a.t7"]
    assert sorted(lua.execute("local t = {}; for f in paths.iterfiles(d) do t[#t + 1] = f end; return t").values()) == [
        "a.t7", "b.lua"]
    assert list(lua.execute("local t = {}; for f in paths.iterdirs(d) do t[#t + 1] = f end; return t").values()) == ["sub"]
    assert sorted(lua.execute("return paths.dir(d)").values()) == [".", "..", "a.t7", "b.lua", "sub"]
    assert lua.execute("return paths.mkdir(d .. '/new'), paths.dirp(d .. '/new'), paths.rmdir(d .. '/new')") == (
        True, True, True)
    assert not (tmp_path / "new").exists()
    with pytest.raises(LuaError, match="<paths.filep> expects a path as a string, got nil"):
        lua.execute("paths.filep(nil)")


def test_dofile_and_thisfile_are_relative_to_the_calling_file(lua, tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "helper.lua").write_text("return 41 + 1")
    main = tmp_path / "main.lua"
    main.write_text("return paths.dofile('sub/helper.lua'), paths.thisfile(), paths.thisfile('x.t7')")
    lua.globals().main = str(main)
    assert lua.execute("return dofile(main)") == (42, str(main), str(tmp_path / "x.t7"))
