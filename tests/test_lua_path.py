"""lua_path: a project's Lua folders and zips on package.path, locally and in the
executor-side state of a LuaScript (built by sparktorch7._worker as on a worker)."""
from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

import sparktorch7
from sparktorch7 import LuaError, LuaScript, LuaState
from sparktorch7 import _worker

ROOT = Path(__file__).resolve().parents[1]
LUA_DIR = ROOT / "sparktorch7" / "lua"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def project(tmp_path):
    """A small project: top-level modules, a subfolder, an init.lua, and a module
    named like a runtime package (which must not win)."""
    root = tmp_path / "myproj"
    write(root / "Greeter.lua", "local M = {} function M.hi(n) return 'hi ' .. n end\n"
                                "M.where = 'top' return M\n")
    write(root / "util" / "strings.lua", "return {upper = string.upper, where = 'util'}\n")
    write(root / "init.lua", "return {name = 'myproj init'}\n")
    write(root / "nn.lua", "error('the project nn.lua must never be loaded')\n")
    write(root / "README.md", "not Lua\n")
    return root


# ---------------------------------------------------------------- LuaState(lua_path=...)
def test_local_state_requires_project_modules(project):
    with LuaState(lua_path=[project]) as lua:
        assert lua.eval("require('Greeter').hi('x')") == "hi x"
        assert lua.eval("require('util.strings').upper('ab')") == "AB"
        # the folder is reachable by its own name too, as a rock of that name
        assert lua.eval("require('myproj.util.strings').where") == "util"
        assert lua.eval("require('myproj').name") == "myproj init"


def test_runtime_packages_are_not_shadowed(project):
    with LuaState(lua_path=[project]) as lua:
        lua.execute("require 'nn'")   # the project's nn.lua raises if it were loaded
        assert lua.eval("type(nn.Linear)") == "table"
        path = lua.eval("package.path").split(";")
        assert path[0] == str(LUA_DIR) + "/?.lua"
        assert path[1] == str(LUA_DIR) + "/?/init.lua"
        assert path[2] == str(project) + "/?.lua"


def test_entries_in_order_first_wins(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    write(a / "Same.lua", "return 'from a'")
    write(b / "Same.lua", "return 'from b'")
    write(b / "OnlyB.lua", "return 'only b'")
    with LuaState(lua_path=[a, b]) as lua:
        assert lua.eval("require 'Same'") == "from a"
        assert lua.eval("require 'OnlyB'") == "only b"
    with LuaState(lua_path=[b, a]) as lua:
        assert lua.eval("require 'Same'") == "from b"


def test_local_zip_is_extracted_and_removed(tmp_path):
    z = tmp_path / "lib.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("Zipped.lua", "return 'zipped'")
        zf.writestr("pkg/init.lua", "return 'pkg init'")
        zf.writestr("pkg/sub.lua", "return 'pkg sub'")
    lua = LuaState(lua_path=[z])
    assert lua.eval("require 'Zipped'") == "zipped"
    assert lua.eval("require 'pkg'") == "pkg init"
    assert lua.eval("require 'pkg.sub'") == "pkg sub"
    extracted = [p for p in lua.eval("package.path").split(";") if "sparktorch7-luapath-" in p]
    assert extracted
    folder = extracted[0].rsplit("/", 1)[0]
    assert os.path.isdir(folder)
    lua.close()
    del lua
    import gc
    gc.collect()
    assert not os.path.exists(folder)


def test_missing_module_lists_the_project_folder(project):
    with LuaState(lua_path=[project]) as lua:
        with pytest.raises(LuaError) as e:
            lua.execute("require 'NoSuchModule'")
    assert "module 'NoSuchModule' not found" in str(e.value)
    assert str(project) + "/NoSuchModule.lua" in str(e.value)


@pytest.mark.parametrize("bad, exc, words", [
    ("just/a/string", TypeError, "not a single str"),
    ([42], TypeError, "not int"),
    (["/no/such/folder"], FileNotFoundError, "/no/such/folder"),
])
def test_local_bad_entries(bad, exc, words):
    with pytest.raises(exc, match=words.replace("/", ".")):
        LuaState(lua_path=bad)


def test_local_plain_file_entry(tmp_path):
    f = write(tmp_path / "Mod.lua", "return 1")
    with pytest.raises(ValueError, match="neither.*put its folder on lua_path"):
        LuaState(lua_path=[f])


# ---------------------------------------------------------------- LuaScript(lua_path=...)
def worker_state(script: LuaScript):
    """The state a Python worker builds from the shipped payload (no Spark needed)."""
    entry = _worker._build(script.key, script._payload(), serial=1)
    return entry


def test_script_ships_folder_to_worker_state(project):
    script = LuaScript("G = require 'Greeter'\nU = require 'myproj.util.strings'\n"
                       "function f(x) return G.hi(U.upper(x)) end", lua_path=[project])
    assert script.lua_path == (str(project),)
    payload = script._payload()
    (name, files), = payload["lua_trees"]
    assert name == "myproj"
    assert sorted(files) == ["Greeter.lua", "init.lua", "nn.lua", "util/strings.lua"]   # no README
    entry = worker_state(script)
    try:
        assert entry.function("f")("ab") == "hi AB"
        # the executor's copy, not the driver's folder
        path = entry.state.eval("package.path")
        assert str(project) not in path
        assert entry.files_dir in path
        entry.state.execute("require 'nn'")
        assert os.path.isfile(os.path.join(entry.files_dir, "lua", "0", "myproj", "util", "strings.lua"))
    finally:
        entry.close()
    assert not os.path.exists(entry.files_dir)


def test_script_check_and_open_see_lua_path(project):
    script = LuaScript("local G = require 'Greeter'\nfunction f(x) return G.where end",
                       lua_path=[project])
    script.check("f")
    with script.open() as st:
        assert st.eval("f()") == "top"


def test_script_without_lua_path_cannot_require(project):
    script = LuaScript("require 'Greeter'")
    with pytest.raises(LuaError, match="module 'Greeter' not found"):
        script.check()


def test_script_zip_entry(tmp_path):
    z = tmp_path / "code.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("lib/Zipped.lua", "return {v = 7}")
        zf.writestr("lib/data.bin", b"\x00\x01")
    script = LuaScript("function f() return require('lib.Zipped').v end", lua_path=[z])
    (name, files), = script._payload()["lua_trees"]
    assert name is None and list(files) == ["lib/Zipped.lua"]
    entry = worker_state(script)
    try:
        assert entry.function("f")() == 7
    finally:
        entry.close()


def test_native_module_in_shipped_tree_is_an_error(project):
    write(project / "clib" / "fast.so", "ELF")
    with pytest.raises(ValueError) as e:
        LuaScript("x = 1", lua_path=[project])
    assert "C module 'clib/fast.so'" in str(e.value)
    assert str(project) in str(e.value)


def test_native_module_in_zip_is_an_error(tmp_path):
    z = tmp_path / "code.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("ok.lua", "return 1")
        zf.writestr("lib/luajit_ext.dylib", b"\xcf\xfa")
    with pytest.raises(ValueError, match=r"C module 'lib/luajit_ext\.dylib'"):
        LuaScript("x = 1", lua_path=[z])


@pytest.mark.parametrize("bad", ["../evil.lua", "/abs/evil.lua"])
def test_zip_with_escaping_names_is_an_error(tmp_path, bad):
    z = tmp_path / "code.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr(bad, "return 1")
    with pytest.raises(ValueError, match="relative path"):
        LuaScript("x = 1", lua_path=[z])


def test_folder_without_lua_is_an_error(tmp_path):
    write(tmp_path / "docs" / "a.md", "x")
    with pytest.raises(ValueError, match="holds no .lua file"):
        LuaScript("x = 1", lua_path=[tmp_path / "docs"])


def test_key_follows_the_shipped_code(project):
    k1 = LuaScript("x = 1", lua_path=[project]).key
    assert LuaScript("x = 1", lua_path=[project]).key == k1
    (project / "util" / "strings.lua").write_text("return {where = 'changed'}")
    assert LuaScript("x = 1", lua_path=[project]).key != k1
    assert LuaScript("x = 1").key != k1


def test_from_file_puts_script_folder_first(project, tmp_path):
    other = tmp_path / "other"
    write(other / "Greeter.lua", "return {where = 'other'}")
    script_path = write(project / "run.lua", "#!/usr/bin/env th\n"
                                             "function f() return require('Greeter').where .. "
                                             "require('util.strings').where end")
    write(project / "build" / "native.so", "ELF")   # the script's folder: left behind, no error
    script = LuaScript.from_file(script_path, lua_path=[other])
    assert script.lua_path == (str(project), str(other))
    (_, files), _ = script._payload()["lua_trees"]
    assert "run.lua" in files and not any(f.endswith(".so") for f in files)
    entry = worker_state(script)
    try:
        assert entry.function("f")() == "toputil"
    finally:
        entry.close()
    bare = LuaScript.from_file(script_path, script_folder=False)
    assert bare.lua_path == ()


# ---------------------------------------------------------------- files= with relative paths
def test_files_keep_relative_paths(tmp_path):
    src = write(tmp_path / "v.txt", "vocab")
    script = LuaScript(
        "function f(name) local h = io.open(sparktorch7_file(name)) local s = h:read('*a') "
        "h:close() return s end",
        files={"data/vocab.txt": src, "top.txt": b"top"})
    assert script.files == ("data/vocab.txt", "top.txt")
    entry = worker_state(script)
    try:
        assert entry.function("f")("data/vocab.txt") == "vocab"
        assert entry.function("f")("top.txt") == "top"
        where = entry.state.eval("sparktorch7_file('data/vocab.txt')")
        assert where.endswith("/data/vocab.txt") and where.startswith(entry.files_dir)
        with pytest.raises(LuaError, match=r"shipped: data/vocab.txt, top.txt"):
            entry.state.eval("sparktorch7_file('vocab.txt')")
    finally:
        entry.close()


@pytest.mark.parametrize("name", ["../up.txt", "/abs.txt", "a\\b.txt", "a//b.txt", "a/./b", ""])
def test_files_bad_relative_names(name):
    with pytest.raises(ValueError, match="relative path|non-empty"):
        LuaScript("x = 1", files={name: b"x"})


def test_files_file_and_folder_clash():
    with pytest.raises(ValueError, match="both a file and the folder"):
        LuaScript("x = 1", files={"a": b"1", "a/b": b"2"})


def test_files_list_keeps_base_names(tmp_path):
    src = write(tmp_path / "sub" / "m.txt", "m")
    assert LuaScript("x = 1", files=[src]).files == ("m.txt",)


# ---------------------------------------------------------------- jobs/score.py
def test_score_job_parses_lua_path():
    import importlib.util

    spec = importlib.util.spec_from_file_location("score_job", ROOT / "jobs" / "score.py")
    job = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(job)
    args = job.parse_args(["--script", "s.lua", "--function", "f", "--input", "i", "--output", "o",
                           "--features", "a", "--lua-path", "proj,lib.zip"])
    assert args.lua_path == ["proj", "lib.zip"]
    assert job.parse_args(["--script", "s.lua", "--function", "f", "--input", "i", "--output", "o",
                           "--features", "a"]).lua_path == []


