"""The LuaJIT sparktorch7 runs: LuaJIT's maintained v2.1 branch, built by scripts/build_luajit.sh
from Debian's source package and linked into the extension, not Debian 12's 2.1.0-beta3 snapshot
of 2022.

The beta3 snapshot segfaults when a __gc finalizer raises during a GC step run at a trace exit
(LuaJIT pull request #946; fixed upstream in 2023). The repro below is that report's script, run
by the luajit command of the same build (the embedded state also guards finalizers itself, see
tests/test_finalizers.py, so the bare command is where the fix shows).
"""
from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path


from sparktorch7 import LuaState

ROOT = Path(__file__).resolve().parents[1]
LUAJIT = ROOT / "build" / "luajit" / "bin" / "luajit"
# the first v2.1 release of Debian's trixie source package: LuaJIT numbers its 2.1 releases by
# the commit's Unix time, beta3 reports no number at all
OLDEST_RELEASE = 1737090214

TRACE_EXIT_GC_ERROR = textwrap.dedent("""
    local ffi = require 'ffi'
    local function new_bad_cdata()
      return ffi.gc(ffi.new('char [?]', 1024), 'uncallable string')
    end
    local function test_f()
      collectgarbage('collect')
      collectgarbage('setstepmul', 400)   -- finish the atomic phase before the trace exits
      for _ = 1, 200 do new_bad_cdata() end
    end
    jit.opt.start('hotloop=1')
    local ok, err = pcall(test_f)
    collectgarbage('stop')                -- every later step would raise again
    return ok, err
""")


def release_of(version: str) -> int:
    m = re.fullmatch(r"LuaJIT 2\.1\.(\d+)", version)
    assert m, f"not a LuaJIT 2.1 release: {version!r}"
    return int(m.group(1))


def test_the_extension_runs_the_built_luajit():
    with LuaState() as lua:
        version = lua.eval("jit.version")
        assert lua.eval("(jit.status())") is True
        assert lua.eval("jit.arch") == "x64"
    assert release_of(version) >= OLDEST_RELEASE
    built = subprocess.run([str(LUAJIT), "-v"], capture_output=True, text=True, check=True).stdout
    assert built.split()[:2] == version.split(), (built, version)


def test_the_extension_needs_no_luajit_library():
    import sparktorch7._lua as ext
    needed = subprocess.run(["readelf", "-d", ext.__file__], capture_output=True, text=True,
                            check=True).stdout
    assert "Shared library" in needed and "luajit" not in needed, needed
    with open("/proc/self/maps") as maps:
        assert not [line for line in maps if "libluajit" in line]


def test_gc_error_during_a_trace_exit_does_not_crash_luajit(tmp_path):
    script = tmp_path / "trace_exit.lua"
    script.write_text(TRACE_EXIT_GC_ERROR.replace("return ok, err", "print(ok, err)"))
    proc = subprocess.run([str(LUAJIT), str(script)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])   # beta3: -11 (SIGSEGV)
    assert proc.stdout.split() == ["true", "nil"]
    assert "attempt to call a string value" in proc.stderr      # the finalizers' own errors


def test_gc_error_during_a_trace_exit_in_a_state(tmp_path):
    code = f"""
import warnings, sparktorch7
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    with sparktorch7.LuaState() as lua:
        print(lua.execute({TRACE_EXIT_GC_ERROR!r}))
        print(lua.eval("1 + 1"))
print(len(caught) > 0)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    assert proc.stdout.split("\n")[:3] == ["(True, None)", "2", "True"], proc.stdout
