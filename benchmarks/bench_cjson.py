"""cjson (lua/cjson, Lua with the FFI) beside Python's C ``json`` module.

Run from the repository root after building the extension in place::

    python benchmarks/bench_cjson.py [--records 90000] [--repeat 5]

Builds a JSON document of records (numbers, strings with escapes, booleans, null,
nested lists; about 11 MB with the default 90000 records) and prints MB/s of
``cjson.decode``/``cjson.encode`` and of ``json.loads``/``json.dumps``, and the ratios
cjson / json. Runs alternate and the best of each is kept, so that a loaded machine
slows both alike; the load average is printed with the figures.
"""
import argparse
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sparktorch7 import LuaState  # noqa: E402


def document(records: int) -> str:
    rng = random.Random(0)
    return json.dumps({
        "idx_to_token": {str(i): chr(97 + i % 26) * 3 for i in range(records // 4)},
        "rows": [{"id": i, "x": rng.random(), "name": f"item {i}", "tags": ["a", "b\n", "\u00e9"],
                  "ok": i % 2 == 0, "n": None} for i in range(records)],
    })


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=90000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    text = document(args.records)
    mb = len(text.encode()) / 1e6
    lua = LuaState()
    lua.execute("cjson = require 'cjson'")
    lua.globals().s = text
    lua.execute("t = cjson.decode(s)")
    obj = json.loads(text)
    dec = pdec = enc = penc = float("inf")
    for _ in range(args.repeat):                  # alternate, keep the best of each
        dec = min(dec, timed(lambda: lua.execute("t = cjson.decode(s)")))
        pdec = min(pdec, timed(lambda: json.loads(text)))
        enc = min(enc, timed(lambda: lua.execute("e = cjson.encode(t)")))
        penc = min(penc, timed(lambda: json.dumps(obj)))
    print(f"document: {mb:.1f} MB, load average {os.getloadavg()[0]:.1f}")
    print(f"decode: cjson {mb / dec:7.1f} MB/s   json.loads {mb / pdec:7.1f} MB/s   ratio {pdec / dec:.2f}")
    print(f"encode: cjson {mb / enc:7.1f} MB/s   json.dumps {mb / penc:7.1f} MB/s   ratio {penc / enc:.2f}")
    lua.close()


if __name__ == "__main__":
    main()
