#!/usr/bin/env bash
# Installs what is missing (scripts/setup.sh), builds, and runs the main job end to end on
# bundled sample data: jobs/examples/make_data.py writes rows and a Torch7 model (mlp.t7),
# then jobs/score.py scores them on local Spark with jobs/examples/mlp.lua and checks the
# scores against the same MLP in NumPy.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
out="${SPARKTORCH7_DEMO_DIR:-${TMPDIR:-/tmp}/sparktorch7-demo}"
rows="${SPARKTORCH7_DEMO_ROWS:-100000}"
.venv/bin/python jobs/examples/make_data.py --rows "$rows" --out "$out" >/dev/null
rm -rf "$out/scores.parquet"
.venv/bin/python jobs/score.py --script jobs/examples/mlp.lua --function predict --init load \
    --files "$out/mlp.t7" --input "$out/data.parquet" --output "$out/scores.parquet" \
    --features-col features --keep id "$@"
exec .venv/bin/python examples/check_demo.py "$out"
