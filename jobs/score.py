#!/usr/bin/env python
"""Score a table with a Lua function on Spark.

    spark-submit jobs/score.py --script S.lua --function F --input IN --output OUT \\
        (--features c1,c2,... | --features-col ARRAYCOL) [--files m.t7,...] [--init NAME] \\
        [--lua-path DIR_OR_ZIP,...] \\
        [--batch-size N] [--output-col prediction] [--output-type 'array<float>'] \\
        [--keep id,...] [--on-bad-rows error|null] [--mode error|overwrite|append] \\
        [--timeout SECONDS] [--max-memory BYTES] [--master local[*]]

Also runs as ``python jobs/score.py ...`` (local Spark by default). Parquet in
and out; ``.csv`` / ``.json`` paths are read and written as such. The logic is
:func:`sparktorch7.udf.score_files`.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys


def _csv(value: str) -> list:
    return [v.strip() for v in value.split(",") if v.strip()]


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Score a table with a Lua function on Spark.",
        epilog="Data safety: an --output that is, is inside or contains the --input, the --script "
               "or one of the --files (after resolving symlinks, file: URIs, relative paths) is "
               "refused before anything is written. --mode error (the default, as in Spark) "
               "refuses an existing output; overwrite replaces it and append adds part files to "
               "it. The job writes into a hidden sibling of --output, renamed into place only "
               "when the whole write succeeded: a failed job leaves no partial output, and an "
               "output being overwritten stays intact.")
    p.add_argument("--script", required=True, help="the Lua script (.lua)")
    p.add_argument("--function", required=True, help="Lua function called per batch")
    p.add_argument("--input", required=True, help="input table (Parquet; .csv/.json by extension)")
    p.add_argument("--output", required=True, help="output table (Parquet; .csv/.json by extension)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--features", type=_csv, help="numeric columns, comma separated: one [N, C] tensor")
    src.add_argument("--features-col", help="one array column: an [N, D] tensor")
    p.add_argument("--files", type=_csv, default=[], help="files shipped with the script (models...)")
    p.add_argument("--init", help="Lua function called once per state after loading")
    p.add_argument("--lua-path", type=_csv, default=[],
                   help="folders or .zip files of Lua sources shipped and put on package.path "
                        "(the script's own folder is always on it)")
    p.add_argument("--batch-size", type=int, help="rows per Lua call at most")
    p.add_argument("--output-col", default="prediction")
    p.add_argument("--output-type", default="array<float>", help="Spark type of the output column")
    p.add_argument("--keep", type=_csv, help="columns carried to the output (default: all but the features)")
    p.add_argument("--on-bad-rows", choices=("error", "null"), default="error")
    p.add_argument("--timeout", type=float, metavar="SECONDS",
                   help="seconds each Lua call (one batch) may run; past it the job fails with "
                        "LuaTimeoutError naming the function and the rows (the workers' Lua "
                        "states then run with the JIT off)")
    p.add_argument("--max-memory", type=int, metavar="BYTES",
                   help="bytes the Lua heap of each worker's state may grow to (tensors not "
                        "counted); past it the job fails with LuaMemoryError")
    p.add_argument("--mode", choices=("error", "overwrite", "append"), default="error",
                   help="when --output exists: error (default, as in Spark), overwrite, append")
    p.add_argument("--debug", action="store_true",
                   help="log at DEBUG (on failure, Spark's whole error, not only the task's)")
    p.add_argument("--master", help="Spark master when not run by spark-submit (default local[*])")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("py4j").setLevel(logging.WARNING)
    try:
        import sparktorch7  # noqa: F401
    except ImportError:   # run from a checkout: use it
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from pyspark.errors import PySparkException

    from sparktorch7 import LuaError
    from sparktorch7.udf import score_files

    try:
        score_files(args.input, args.output, args.script, args.function,
                    features=args.features, features_col=args.features_col, files=args.files,
                    init=args.init, lua_path=args.lua_path, batch_size=args.batch_size, output_col=args.output_col,
                    output_type=args.output_type, keep=args.keep, on_bad_rows=args.on_bad_rows,
                    mode=args.mode, master=args.master, timeout_s=args.timeout,
                    max_memory=args.max_memory)
    except (LuaError, ValueError, TypeError, OSError, RuntimeError, PySparkException) as e:
        # one error, not Spark's pages: the whole trace is logged at DEBUG
        logging.getLogger("sparktorch7").debug("the job failed", exc_info=True)
        text = str(e).strip()
        if isinstance(e, PySparkException) and not isinstance(e, (ValueError, TypeError)):
            text = text.split("\n\nJVM stacktrace:")[0]   # e.g. [PATH_NOT_FOUND] ...
        print(f"score.py: error: {type(e).__name__}: {text}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
