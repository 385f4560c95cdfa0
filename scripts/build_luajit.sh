#!/usr/bin/env bash
# Builds the LuaJIT 2.1 that sparktorch7 links, into build/luajit (a static, position-independent
# libluajit-5.1.a, its headers, the luajit command and its jit.* modules).
#
# The source is Debian's `luajit` source package of trixie (2.1.0+openresty20250117: LuaJIT's v2.1
# branch as of January 2025, with OpenResty's additions), fetched from Debian's archive and checked
# against the SHA-256 that the archive's signed Sources index gives; nothing of it is committed.
# Debian 12's libluajit-5.1-dev is the 2.1.0-beta3 snapshot of March 2022, which crashes when a
# __gc finalizer raises during a trace exit (LuaJIT PR #946, fixed in 2023); see docs/luajit.md.
#
#   LUAJIT_SOURCE=path.tar.xz  use this tarball instead of downloading (same SHA-256 required)
#   LUAJIT_PREFIX=dir          where to install (default build/luajit)
#   CC=...                     the C compiler for the library. With any other compiler than the
#                              default gcc (scripts/build_wheel.sh passes a zig cc that targets
#                              glibc 2.17), only the library and headers are built: LuaJIT's host
#                              tools are still built with gcc, and no luajit command.
# Safe to re-run: skipped when the prefix holds this version built with this compiler.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=2.1.0+openresty20250117
TARBALL=luajit_${VERSION}.orig.tar.xz
SHA256=99ad5fdfa85e08a291454f797f625fbb53f4d2129cac063922255a1fe34ccf1c
URL=${LUAJIT_URL:-http://deb.debian.org/debian/pool/main/l/luajit/${TARBALL//+/%2B}}
PREFIX=${LUAJIT_PREFIX:-$PWD/build/luajit}
CC=${CC:-gcc}
STAMP="$PREFIX/.built"
want="$VERSION $SHA256 $CC"

if [ "$(cat "$STAMP" 2>/dev/null)" = "$want" ] && [ -f "$PREFIX/lib/libluajit-5.1.a" ]; then
    exit 0
fi

mkdir -p build/luajit-src
src_tar=${LUAJIT_SOURCE:-build/luajit-src/$TARBALL}
if [ ! -f "$src_tar" ]; then
    echo "build_luajit: downloading $URL"
    python3 - "$URL" "$src_tar.part" <<'PY'
import sys, urllib.request
url, out = sys.argv[1], sys.argv[2]
try:
    with urllib.request.urlopen(url, timeout=120) as r, open(out, "wb") as f:
        while chunk := r.read(1 << 16):
            f.write(chunk)
except OSError as e:
    sys.exit(f"build_luajit: cannot download {url}: {e}")
PY
    mv "$src_tar.part" "$src_tar"
fi
got=$(sha256sum "$src_tar" | cut -d' ' -f1)
if [ "$got" != "$SHA256" ]; then
    echo "build_luajit: $src_tar has SHA-256 $got, expected $SHA256; refusing to build it" >&2
    exit 1
fi

work=build/luajit-src/tree
rm -rf "$work" "$PREFIX"
mkdir -p "$work"
python3 - "$src_tar" "$work" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    try:
        t.extractall(sys.argv[2], filter="data")
    except TypeError:          # an interpreter older than tarfile's filters (3.11.4)
        t.extractall(sys.argv[2])
PY
top=$(ls "$work")
# BUILDMODE=static: one archive, linked into the extension (no libluajit to find at run time);
# -fPIC so that archive can go into a shared object. GC64 is LuaJIT 2.1's default on x86-64.
jobs=$(nproc 2>/dev/null || echo 2)
log=build/luajit-src/build.log
echo "build_luajit: building LuaJIT $VERSION with $CC (-j$jobs) into $PREFIX"
fail() { tail -30 "$log" >&2; exit 1; }
if [ "$CC" = gcc ]; then
    make -C "$work/$top" -j"$jobs" BUILDMODE=static CFLAGS="-fPIC" PREFIX="$PREFIX" >"$log" 2>&1 || fail
    make -C "$work/$top" install PREFIX="$PREFIX" >>"$log" 2>&1 || fail
else
    make -C "$work/$top/src" -j"$jobs" libluajit.a BUILDMODE=static CC="$CC" HOST_CC=gcc \
        CFLAGS="-fPIC" >"$log" 2>&1 || fail
    mkdir -p "$PREFIX/include/luajit-2.1" "$PREFIX/lib"
    for h in lua.h lualib.h lauxlib.h luaconf.h lua.hpp luajit.h; do
        cp "$work/$top/src/$h" "$PREFIX/include/luajit-2.1/"
    done
    cp "$work/$top/src/libluajit.a" "$PREFIX/lib/libluajit-5.1.a"
fi
rm -rf "$work"
echo "$want" > "$STAMP"
echo "build_luajit: $(grep -o 'LUAJIT_VERSION[[:space:]]*"[^"]*"' "$PREFIX/include/luajit-2.1/luajit.h")"
