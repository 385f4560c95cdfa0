#!/usr/bin/env bash
# Installs what sparktorch7 needs on a Debian/Ubuntu machine (run as root) and builds it in place.
# Safe to re-run: each step is skipped when its result is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v java >/dev/null 2>&1 || need_apt+=(openjdk-17-jre-headless)
command -v gcc >/dev/null 2>&1 || need_apt+=(gcc)
command -v make >/dev/null 2>&1 || need_apt+=(make)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need_apt+=(python3-venv)
python3 -c 'import sysconfig, os, sys; sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")) else 1)' \
    || need_apt+=(python3-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "setup: installing ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
stamp=.venv/.requirements.sha
want=$(cat requirements.txt | sha1sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -r requirements.txt
    echo "$want" > "$stamp"
fi
if [ "${1:-}" = "--bench" ]; then
    .venv/bin/python -m pip install -q -r requirements-bench.txt
fi
# LuaJIT: the 2.1 that scripts/build_luajit.sh builds from Debian's source package, linked
# statically. Should it fail (no archive to download from), fall back loudly to the system's
# shared LuaJIT (Debian 12: the 2.1.0-beta3 snapshot of 2022).
if [ "${SPARKTORCH7_LUAJIT:-bundled}" != system ] && ! bash scripts/build_luajit.sh; then
    echo "setup: WARNING: could not build LuaJIT 2.1 from source; linking the system LuaJIT instead" >&2
    export SPARKTORCH7_LUAJIT=system
fi
if [ "${SPARKTORCH7_LUAJIT:-bundled}" = system ] && ! pkg-config --exists luajit 2>/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq libluajit-5.1-dev pkg-config >/dev/null
fi
# The extension is relinked whenever the LuaJIT it links changes (build_ext alone would keep an
# extension linked against another one).
if [ "${SPARKTORCH7_LUAJIT:-bundled}" = system ]; then
    linked="system $(pkg-config --modversion luajit)"
else
    linked="bundled $(cat build/luajit/.built)"
fi
force=()
if [ "$(cat build/.linked-luajit 2>/dev/null)" != "$linked" ]; then
    force=(--force)
fi
.venv/bin/python setup.py -q build_ext --inplace "${force[@]}"
echo "$linked" > build/.linked-luajit
