"""The manylinux wheel (`make wheel`): LuaJIT is linked into its extension and it carries the
Lua runtime; once installed into a fresh virtualenv it scores a batch without any system LuaJIT.

The proof that no LuaJIT library is needed is made three ways: the extension has no DT_NEEDED
entry for a libluajit; a running interpreter maps none (``/proc/self/maps``) and reports the
LuaJIT that scripts/build_luajit.sh built; and, where a private mount namespace is allowed
(root, ``unshare -m``), a system ``libluajit-5.1.so.2`` is covered by ``/dev/null`` and the
installed package still scores a batch.
"""
from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SYSTEM_LUAJIT = "libluajit-5.1.so.2"

# Runs inside the fresh virtualenv: import the installed package, score a batch in Lua,
# and report where the package and every libluajit mapped into the process come from.
SCORE_BATCH = textwrap.dedent("""
    import json, sys
    import numpy as np
    import sparktorch7

    with sparktorch7.LuaState() as lua:
        lua.require("torch")
        lua.execute('''
            function score(x)
              local y = torch.DoubleTensor(x:size(1))
              for i = 1, x:size(1) do
                local s = 0
                for j = 1, x:size(2) do s = s + x[i][j] * j end
                y[i] = s
              end
              return y
            end''')
        x = np.arange(12.0).reshape(4, 3)
        y = np.array(lua.score(x))    # a copy that outlives the state
        jit = lua.eval("jit.version")
    with open("/proc/self/maps") as maps:
        luajit = sorted({line.split()[-1] for line in maps if "luajit" in line})
    print(json.dumps({"module": sparktorch7.__file__, "prefix": sys.prefix, "jit": jit,
                      "x": x.tolist(), "y": y.tolist(), "luajit": luajit}))
""")


def run(cmd, **kwargs):
    """Run a command, failing the test with its output when it fails."""
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(map(str, cmd))} exited {proc.returncode}\n"
                    f"--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-4000:]}")
    return proc


@pytest.fixture(scope="module")
def wheel() -> Path:
    """dist/sparktorch7-*.whl, built by `make wheel` (a no-op when the sources did not change)."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    run(["make", "wheel", f"PYTHON={sys.executable}"], cwd=ROOT)
    cp = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    wheels = glob.glob(str(ROOT / "dist" / f"sparktorch7-*-{cp}-{cp}-*.whl"))
    assert len(wheels) == 1, wheels
    return Path(wheels[0])


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh virtualenv (no system site-packages) with the wheel installed from dist/."""
    path = tmp_path_factory.mktemp("wheel") / "venv"
    run([sys.executable, "-m", "venv", str(path)])
    # --no-compile: byte-compiling pandas and pyarrow would be most of this fixture's time
    # without PYTHONPATH: a checkout on it (scripts/test.sh puts one there) would look installed
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run([str(path / "bin" / "python"), "-m", "pip", "install", "-q", "--no-compile",
         "-c", str(ROOT / "requirements.txt"), str(wheel)], env=clean)
    return path


def site_packages(venv: Path) -> Path:
    (found,) = venv.glob("lib/python3*/site-packages")
    return found


def extension(venv: Path) -> Path:
    (found,) = (site_packages(venv) / "sparktorch7").glob("_lua.*.so")
    return found


def score_in(venv: Path, tmp_path: Path, prefix=()) -> dict:
    """Run SCORE_BATCH with the venv's Python, from outside the checkout, with an empty
    LD_LIBRARY_PATH and -I (no PYTHONPATH, no current directory on sys.path)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LD_LIBRARY_PATH", "LD_PRELOAD")}
    proc = run([*prefix, str(venv / "bin" / "python"), "-I", "-c", SCORE_BATCH], cwd=tmp_path, env=env)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def built_luajit_version() -> str:
    """What the luajit command of build/luajit (the build linked into the extension) prints."""
    out = run([str(ROOT / "build" / "luajit" / "bin" / "luajit"), "-v"]).stdout
    return " ".join(out.split()[:2])          # "LuaJIT 2.1.<release>"


def test_wheel_is_manylinux_and_carries_the_lua_runtime_and_no_shared_library(wheel):
    # manylinux2014: glibc 2.17, what RHEL/CentOS 7, Amazon Linux 2 and every later system have
    assert re.fullmatch(r"sparktorch7-[\w.]+-cp3\d+-cp3\d+-manylinux2014_x86_64\.manylinux_2_17_x86_64\.whl",
                        wheel.name), wheel.name
    names = set(zipfile.ZipFile(wheel).namelist())

    bundled = [n for n in names if n.startswith("sparktorch7.libs/") and not n.endswith("/")]
    assert bundled == [], bundled                     # LuaJIT is inside the extension

    # every Lua file of the tree, in every subfolder (torch/, nn/, ...), is package data
    lua_dir = ROOT / "sparktorch7" / "lua"
    in_tree = {f"sparktorch7/lua/{p.relative_to(lua_dir).as_posix()}" for p in lua_dir.rglob("*.lua")}
    assert "sparktorch7/lua/torch/init.lua" in in_tree
    # (the state's bootstrap and the Python modules' Lua helpers are among them)
    assert {"sparktorch7/lua/sparktorch7/boot/helpers.lua", "sparktorch7/lua/sparktorch7/model.lua"} <= in_tree
    assert in_tree <= names, sorted(in_tree - names)
    extensions = [n for n in names if n.endswith(".so")]
    assert len(extensions) == 1, extensions
    assert re.fullmatch(r"sparktorch7/_lua\.cpython-3\d+-x86_64-linux-gnu\.so", extensions[0]), extensions

    tools = ROOT / "build" / "ship-tools" / "bin" / "auditwheel"
    shown = run([str(tools), "show", str(wheel)]).stdout
    assert 'consistent with the following platform tag: "manylinux_2_17_x86_64"' in " ".join(shown.split()), shown


def test_extension_needs_no_luajit_library(venv):
    ext = extension(venv)
    dynamic = run(["readelf", "-d", str(ext)]).stdout
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", dynamic)
    assert needed and not [n for n in needed if "luajit" in n], needed
    # only the C runtime: what any manylinux system has
    assert set(needed) <= {"libm.so.6", "libc.so.6", "libgcc_s.so.1", "libdl.so.2", "libpthread.so.0",
                           "ld-linux-x86-64.so.2"}, needed


def test_extension_asks_for_nothing_newer_than_glibc_2_17(venv):
    """Every versioned symbol the extension imports (objdump -T) exists in glibc 2.17."""
    table = run(["objdump", "-T", str(extension(venv))]).stdout
    versions = set(re.findall(r"\bGLIBC_(\d+(?:\.\d+)+)\b", table))
    assert versions, table[:2000]
    newest = max(versions, key=lambda v: tuple(map(int, v.split("."))))
    assert tuple(map(int, newest.split("."))) <= (2, 17), sorted(versions)
    assert not re.search(r"\bGCC_(?:[5-9]|\d\d)", table)      # nor a libgcc_s newer than GCC 4


def test_installed_wheel_scores_a_batch_with_its_own_luajit(venv, tmp_path):
    out = score_in(venv, tmp_path)
    assert Path(out["module"]).resolve().is_relative_to(site_packages(venv).resolve()), out["module"]
    assert out["jit"] == built_luajit_version()
    assert out["y"] == [8.0, 26.0, 44.0, 62.0]          # x @ [1, 2, 3], computed in Lua
    assert out["luajit"] == [], out["luajit"]           # no libluajit mapped at all


# Errors unwound out of JIT-compiled traces, from LuaJIT itself (out of memory inside a trace's
# allocation), from an FFI call and from Python code Lua called: each must come back to pcall, not
# end the process. (An extension linked with the wrong unwinder panics on the first.)
UNWIND = textwrap.dedent('''
    import json, warnings
    import sparktorch7
    warnings.simplefilter("ignore")
    def boom(i):
        if i == 250:
            raise KeyError(i)
        return i
    with sparktorch7.LuaState(max_memory=40_000_000) as lua:
        lua.globals()["boom"] = boom
        counts = lua.execute("""
            local ffi = require 'ffi'
            local oom, ffierr, pyerr = 0, 0, 0
            for k = 1, 20 do
              local ok, e = pcall(function()
                local t = {}
                for i = 1, 1e9 do t[i] = {i} end
              end)
              if not ok and tostring(e):find('not enough memory') then oom = oom + 1 end
              collectgarbage()
            end
            for k = 1, 100 do
              if not pcall(function()
                for i = 1, 300 do if i == 250 then ffi.new('char[?]', -1) end end
              end) then ffierr = ffierr + 1 end
              if not pcall(function()
                local s = 0
                for i = 1, 300 do s = s + boom(i) end
              end) then pyerr = pyerr + 1 end
            end
            return {oom = oom, ffi = ffierr, py = pyerr}""")
    print(json.dumps(counts))
''')


def test_installed_wheel_unwinds_errors_out_of_jit_traces(venv, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LD_LIBRARY_PATH", "LD_PRELOAD")}
    proc = run([str(venv / "bin" / "python"), "-I", "-c", UNWIND], cwd=tmp_path, env=env)
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {"oom": 20, "ffi": 100, "py": 100}


def test_installed_wheel_scores_a_batch_with_the_system_luajit_hidden(venv, tmp_path):
    """In a private mount namespace, cover the system libluajit with /dev/null: first show the
    covering works (loading it by soname fails), then score with the installed wheel."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare is not installed")
    found = [p for p in ("/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib")
             if os.path.exists(os.path.join(p, SYSTEM_LUAJIT))]
    if not found:
        # nothing to hide: the machine has no system LuaJIT, the previous test already proves it
        return test_installed_wheel_scores_a_batch_with_its_own_luajit(venv, tmp_path)
    real = os.path.realpath(os.path.join(found[0], SYSTEM_LUAJIT))
    hide = f"mount --bind /dev/null {real} && exec \"$@\""
    prefix = ["unshare", "--mount", "--propagation", "private", "sh", "-c", hide, "hide-luajit"]
    probe = subprocess.run(["unshare", "--mount", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"no private mount namespace here: {probe.stderr.strip()}")

    control = subprocess.run(
        [*prefix, sys.executable, "-I", "-c", f"import ctypes; ctypes.CDLL({SYSTEM_LUAJIT!r})"],
        capture_output=True, text=True)
    assert control.returncode != 0 and "OSError" in control.stderr, (control.returncode, control.stderr)

    out = score_in(venv, tmp_path, prefix)
    assert out["y"] == [8.0, 26.0, 44.0, 62.0]
    assert out["luajit"] == [] and out["jit"] == built_luajit_version(), out
