"""spark-submit job for tests/test_cluster_env.py: reports, from inside the executors' Python
workers, which interpreter, sparktorch7 and libluajit they run, and a batch scored in Lua.

    spark-submit --archives dist/sparktorch7-env.tar.gz#environment env_probe_job.py OUT.json
"""
import argparse
import json


SCORE = """
function score(x)
  local y = torch.DoubleTensor(x:size(1))
  for i = 1, x:size(1) do y[i] = 2 * x[i] + 1 end
  return y
end
"""


def probe(batches):
    """mapInPandas body, run by the executors: the environment's facts, one row per input row."""
    import os
    import sys

    import numpy as np
    import pandas as pd
    import sparktorch7

    with open("/proc/self/maps") as maps:
        luajit = sorted({line.split()[-1] for line in maps if "libluajit" in line})
    with sparktorch7.LuaState() as lua:
        lua.require("torch")
        lua.execute(SCORE)
        for pdf in batches:
            y = lua.score(np.ascontiguousarray(pdf["x"].to_numpy(dtype=np.float64)))
            yield pd.DataFrame({
                "id": pdf["id"],
                "y": np.array(y, dtype=np.float64),   # a copy, owned by Python
                "executable": sys.executable,
                "prefix": sys.prefix,
                "module": sparktorch7.__file__,
                "luajit": ";".join(luajit),
                "cwd": os.getcwd(),
            })


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="JSON file for the collected rows")
    parser.add_argument("--rows", type=int, default=8)
    args = parser.parse_args(argv)

    from pyspark.sql import SparkSession

    spark = SparkSession.builder.appName("sparktorch7-env-probe").getOrCreate()
    try:
        df = spark.range(args.rows, numPartitions=2).selectExpr("id", "CAST(id AS DOUBLE) / 2 AS x")
        schema = "id long, y double, executable string, prefix string, module string, luajit string, cwd string"
        rows = [r.asDict() for r in df.mapInPandas(probe, schema).collect()]
    finally:
        spark.stop()
    with open(args.out, "w") as out:
        json.dump(rows, out, indent=1)


if __name__ == "__main__":
    main()
