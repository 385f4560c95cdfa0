#!/usr/bin/env bash
# Packs dist/sparktorch7-env.tar.gz, a virtualenv holding the wheel (dist/) and its dependencies,
# for `spark-submit --archives dist/sparktorch7-env.tar.gz#environment` with
# PYSPARK_PYTHON=./environment/bin/python. pyspark itself is left out: the cluster provides it.
#
#   PYTHON=.venv/bin/python   interpreter the environment is made from. venv-pack does not copy
#                             the interpreter: environment/bin/python links to it, so the same
#                             Python (version and path) must exist on every executor.
#   PYTHON_PREFIX=            prefix of that interpreter on the executors when it differs from
#                             here (e.g. /usr for /usr/bin/python3.11); see docs/cluster.md
#   TOOLS=build/ship-tools    virtualenv for venv-pack (requirements-ship.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
# a checkout on PYTHONPATH would look installed to pip and shadow what is packed
unset PYTHONPATH

PYTHON=${PYTHON:-.venv/bin/python}
PYTHON_PREFIX=${PYTHON_PREFIX:-}
TOOLS=${TOOLS:-build/ship-tools}
out=dist/sparktorch7-env.tar.gz
env=build/cluster-env
if [ ! -x "$PYTHON" ]; then
    echo "cluster_env: no interpreter at $PYTHON; run scripts/setup.sh or set PYTHON=" >&2
    exit 1
fi
want=$(sha1sum requirements-ship.txt | cut -d' ' -f1)
if [ "$(cat "$TOOLS/.requirements.sha" 2>/dev/null)" != "$want" ]; then
    rm -rf "$TOOLS"
    "$PYTHON" -m venv "$TOOLS"
    "$TOOLS/bin/python" -m pip install -q -r requirements-ship.txt
    echo "$want" > "$TOOLS/.requirements.sha"
fi
cp=$("$PYTHON" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
wheel=$(ls dist/sparktorch7-*-"$cp"-*.whl 2>/dev/null || true)
if [ -z "$wheel" ]; then
    bash scripts/build_wheel.sh
    wheel=$(ls dist/sparktorch7-*-"$cp"-*.whl)
fi

rm -rf "$env"
"$PYTHON" -m venv "$env"
# requirements.txt as constraints: numpy, pyarrow and pandas at the versions the tests ran with.
"$env/bin/python" -m pip install -q -c requirements.txt "$wheel"
# nothing on an executor installs packages: pip and setuptools stay behind
"$env/bin/python" -m pip uninstall -q -y pip setuptools
ver=$("$env/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
"$env/bin/python" -I -c 'import sparktorch7, numpy, pyarrow, pandas; print("cluster_env:", sparktorch7.__file__)'

if [ -n "$PYTHON_PREFIX" ]; then
    # Point the environment at the executors' interpreter. (venv-pack 0.2.0 --python-prefix
    # rewrites bin/python3.X by string replacement into a dangling python3.X3.X: not used.)
    ln -sfn "$PYTHON_PREFIX/bin/python$ver" "$env/bin/python$ver"
    sed -i -e "s|^home = .*|home = $PYTHON_PREFIX/bin|" \
           -e "s|^executable = .*|executable = $PYTHON_PREFIX/bin/python$ver|" "$env/pyvenv.cfg"
fi

# The packages' own test suites (~60 MB unpacked) are not needed to score: left out of the archive.
args=(--prefix "$env" --output "$out" --force --quiet
      --exclude 'lib/python3*/site-packages/pandas/tests/*'
      --exclude 'lib/python3*/site-packages/pyarrow/tests/*'
      --exclude 'lib/python3*/site-packages/pyarrow/include/*'
      --exclude 'lib/python3*/site-packages/numpy/tests/*'
      --exclude 'lib/python3*/site-packages/numpy/*/tests/*')
"$TOOLS/bin/venv-pack" "${args[@]}"
chmod 644 "$out"
echo "cluster_env: $out ($(du -h "$out" | cut -f1)), interpreter $(readlink "$env/bin/python$ver")"
