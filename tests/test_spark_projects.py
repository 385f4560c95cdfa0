"""A real Torch7 project on Spark: a UDF scores text with the torch-rnn checkpoint, the
project's Lua code (unchanged, ../shared/fixtures/projects/torch-rnn) shipped with
LuaScript(lua_path=...) and the checkpoint with files=; on the local session and on a
local-cluster (executors in their own processes, their own copies of the code)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from spark_fixtures import spark_env

pytestmark = pytest.mark.spark

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT.parent / "shared" / "fixtures"
TORCH_RNN = FIXTURES / "projects" / "torch-rnn"
CHECKPOINT = FIXTURES / "wild" / "torch-rnn_checkpoint_18000.t7"
LENGTH = 24

# Mean log-likelihood of each next character of each row, from torch-rnn's LanguageModel.
SCRIPT = r"""
require 'LanguageModel'

local model, lsm

function load()
  model = torch.load(sparktorch7_file('cv/checkpoint.t7')).model
  model:evaluate()
  lsm = nn.LogSoftMax()
end

-- codes: [N, L] character codes; returns [N], the mean log p(x[t+1] | x[..t])
function loglik(codes)
  local n, len = codes:size(1), codes:size(2)
  local idx = torch.LongTensor(n, len)
  for i = 1, n do
    for t = 1, len do
      local tok = model.token_to_idx[string.char(codes[i][t])]
      if tok == nil then
        error(string.format('row %d: character %q is not in the vocabulary', i, string.char(codes[i][t])))
      end
      idx[i][t] = tok
    end
  end
  model:resetStates()
  local scores = model:forward(idx)
  local logp = lsm:forward(scores:view(n * len, -1)):view(n, len, -1)
  local out = torch.DoubleTensor(n):zero()
  for i = 1, n do
    for t = 1, len - 1 do out[i] = out[i] + logp[i][t][idx[i][t + 1]] end
  end
  model:resetStates()
  return out:div(len - 1)
end
"""


def texts(n: int, seed: int = 0):
    """DNA-like rows (what the model was trained on) and rows of other characters."""
    rng = np.random.default_rng(seed)
    dna = ["".join(rng.choice(list("acgt"), LENGTH)) for _ in range(n)]
    other = ["".join(rng.choice(list("HoMsPyzUWKQ"), LENGTH)) for _ in range(n)]
    return dna, other


def codes_of(rows):
    return np.array([[ord(c) for c in r] for r in rows], dtype=np.int32)


@pytest.fixture(scope="module")
def script():
    from sparktorch7 import LuaScript

    return LuaScript(SCRIPT, files={"cv/checkpoint.t7": CHECKPOINT}, init="load",
                     lua_path=[TORCH_RNN], name="torch_rnn_score.lua")


def local_reference(script, rows):
    with script.open() as st:
        return st.eval("loglik")(codes_of(rows))


def test_udf_scores_text_with_torch_rnn(spark, script):
    from pyspark.sql import functions as F
    from sparktorch7 import lua_udf

    dna, other = texts(30)
    rows = [(i, t, "dna") for i, t in enumerate(dna)] + [(100 + i, t, "other") for i, t in enumerate(other)]
    df = spark.createDataFrame(rows, "id long, text string, kind string").repartition(3)
    codes = F.expr(f"transform(split(rpad(substr(text, 1, {LENGTH}), {LENGTH}, ' '), ''), c -> ascii(c))")
    f = lua_udf(script, "loglik", "double", batch_size=16)
    out = df.select("id", "text", "kind", f(codes).alias("ll")).collect()
    assert len(out) == 60
    got = {r.id: r.ll for r in out}
    expected = local_reference(script, dna + other)
    ids = list(range(30)) + [100 + i for i in range(30)]
    np.testing.assert_allclose([got[i] for i in ids], expected, rtol=1e-6, atol=1e-9)
    # the model knows its genome: DNA-like text is far more likely than the other rows
    dna_ll = np.array([r.ll for r in out if r.kind == "dna"])
    other_ll = np.array([r.ll for r in out if r.kind == "other"])
    assert dna_ll.min() > other_ll.max()
    assert -2.0 < dna_ll.mean() < -1.0          # about log(1/4) per base, a bit better
    assert script.states_created >= 1


def test_score_files_with_lua_path(spark, script, tmp_path):
    """score_files (the logic of jobs/score.py --lua-path): the script is a file in its own
    folder, torch-rnn's code comes through lua_path, the checkpoint through files."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq
    from sparktorch7.udf import score_files

    (tmp_path / "job").mkdir()
    lua_file = tmp_path / "job" / "score_text.lua"
    # a list of files is named by base name
    lua_file.write_text(SCRIPT.replace("sparktorch7_file('cv/checkpoint.t7')",
                                       "sparktorch7_file('torch-rnn_checkpoint_18000.t7')"))
    dna, other = texts(8, seed=2)
    table = pa.table({"id": list(range(16)),
                      "codes": pa.array([list(map(ord, t)) for t in dna + other], pa.list_(pa.int32()))})
    pq.write_table(table, tmp_path / "in.parquet")
    stats = score_files(str(tmp_path / "in.parquet"), str(tmp_path / "out.parquet"), str(lua_file),
                        "loglik", features_col="codes", files=[str(CHECKPOINT)], init="load",
                        lua_path=[str(TORCH_RNN)], output_col="ll", output_type="double",
                        keep=["id"], spark=spark)
    assert stats["rows"] == 16
    out = pd.read_parquet(tmp_path / "out.parquet").sort_values("id")
    np.testing.assert_allclose(out["ll"].to_numpy(), local_reference(script, dna + other),
                               rtol=1e-6, atol=1e-9)


@pytest.mark.slow
def test_local_cluster_executors_get_the_project_code(tmp_path):
    """Executors in their own processes: each writes its own copy of torch-rnn's Lua
    code (not the driver's folder) and scores the same figures."""
    dna, other = texts(12, seed=1)
    (tmp_path / "rows.json").write_text(json.dumps(dna + other))
    code = textwrap.dedent(f"""
        import json, os
        from sparktorch7 import LuaScript, lua_udf, local_session
        from pyspark.sql import functions as F
        spark = local_session("local-cluster[1,1,1024]", conf={{"spark.task.maxFailures": "1"}})
        script = LuaScript({SCRIPT!r} + '''
        function where(x)
          local n = x:size(1)
          local p = package.searchpath('LanguageModel', package.path)
          return {{pid = torch.LongTensor(n):fill(sparktorch7_worker.pid),
                   copy = torch.LongTensor(n):fill(p:find({str(TORCH_RNN)!r}, 1, true) and 0 or 1)}}
        end''', files={{"cv/checkpoint.t7": {str(CHECKPOINT)!r}}}, init="load",
                            lua_path=[{str(TORCH_RNN)!r}], name="lc_torch_rnn.lua")
        rows = json.load(open("rows.json"))
        df = spark.createDataFrame([(i, t) for i, t in enumerate(rows)], "id long, text string")
        codes = F.expr("transform(split(text, ''), c -> ascii(c))")
        ll = lua_udf(script, "loglik", "double")
        wh = lua_udf(script, "where", "struct<pid:bigint, copy:bigint>")
        out = df.repartition(2).select("id", ll(codes).alias("ll"),
                                       wh(F.col("id").cast("double")).alias("w")).collect()
        print(json.dumps({{"ll": {{r.id: r.ll for r in out}}, "pids": sorted({{r.w.pid for r in out}}),
                          "copies": sorted({{r.w.copy for r in out}}), "driver": os.getpid()}}))
        spark.stop()
    """)
    env = dict(os.environ)
    env.update(spark_env())
    proc = subprocess.run([sys.executable, "-c", code], cwd=str(tmp_path), env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["driver"] not in result["pids"]
    assert result["copies"] == [1]               # package.path found the executor's copy
    from sparktorch7 import LuaScript

    ref = local_reference(LuaScript(SCRIPT, files={"cv/checkpoint.t7": CHECKPOINT}, init="load",
                                    lua_path=[TORCH_RNN]), dna + other)
    got = [result["ll"][str(i)] for i in range(len(dna + other))]
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-9)
