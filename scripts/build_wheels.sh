#!/usr/bin/env bash
# Builds the manylinux2014 wheel (scripts/build_wheel.sh) for each CPython given, e.g.
#   bash scripts/build_wheels.sh python3.10 python3.11 python3.12 python3.13
# Each interpreter gets a build virtualenv (build/wheel-env-cpXY) with Cython, NumPy and
# setuptools at the versions below; LuaJIT is built once for all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -eq 0 ]; then
    echo "build_wheels: name the interpreters, e.g. python3.10 python3.12" >&2
    exit 2
fi
for py in "$@"; do
    cp=$("$py" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
    env=build/wheel-env-$cp
    # NumPy 2.3+ needs Python 3.11+; 2.2 is the last NumPy 2 for 3.10 (a wheel built against
    # NumPy 2 runs with any NumPy 2 at run time)
    case $cp in cp310) numpy=numpy==2.2.6 ;; *) numpy=numpy==2.4.6 ;; esac
    if [ ! -x "$env/bin/python" ]; then
        "$py" -m venv "$env"
        "$env/bin/python" -m pip install -q cython==3.3.1 "$numpy" "setuptools>=70" wheel
    fi
    PYTHON=$env/bin/python bash scripts/build_wheel.sh
done
ls -1 dist/sparktorch7-*.whl
