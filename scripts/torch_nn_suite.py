"""Runs torch/nn's own test suite (its test.lua) on sparktorch7's nn, test by test.

torch/nn's code is not shipped here: give the path of a test.lua from a checkout of
https://github.com/torch/nn. Each test runs alone (nn.test{name}) with a time limit; a test
that crashes the state gets a fresh one. Prints PASS/FAIL per test with its first failure and
the total; --json writes the results.

    python scripts/torch_nn_suite.py path/to/nn/test.lua            # every test
    python scripts/torch_nn_suite.py path/to/nn/test.lua 'Spatial.*' # names matching regexes
"""
from __future__ import annotations

import argparse
import json
import re
import time

import sparktorch7 as st

_RUN_ONE = """
function sparktorch7_nn_suite_run(name, seed)
  local ok, err = pcall(nn.test, {name}, seed)
  local e = mytester.errors[name]
  return ok, e and table.concat(e, ' | ') or tostring(err)
end"""


def test_names(source: str) -> list[str]:
    names = re.findall(r"^\s*function nntest\.([A-Za-z0-9_]+)\s*\(", source, re.M)
    # the tostring tests test.lua generates from a table
    m = re.search(r"local tostringTestModules = \{(.*?)\}\s*\n", source, re.S)
    if m:
        names += ["tostring" + k for k in re.findall(r"(\w+)\s*=", m.group(1))]
    return names


class Suite:
    def __init__(self, source: str, timeout: float):
        # the tester made global, so that its per-test failures can be read
        self.source = source.replace("local mytester = torch.Tester()", "mytester = torch.Tester()", 1)
        self.timeout = timeout
        self.lua = None
        self.fresh()

    def fresh(self):
        if self.lua is not None:
            self.lua.close()
        self.lua = st.LuaState()
        self.lua.require("nn")
        self.lua.execute("io.write = function() end; print = function() end")
        self.lua.execute(self.source, name="@test.lua")
        self.lua.execute(_RUN_ONE)

    def run(self, name: str, seed: int):
        t0 = time.time()
        try:
            self.lua.timeout = self.timeout
            ok, detail = self.lua.sparktorch7_nn_suite_run(name, seed)
            status = "PASS" if ok else "FAIL"
        except st.LuaError as exc:     # a timeout or a broken state: start afresh
            status, detail = "ERROR", str(exc).split("\n", 1)[0]
            self.fresh()
        return status, ("" if status == "PASS" else detail), time.time() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("test_lua", help="torch/nn's test.lua")
    ap.add_argument("names", nargs="*", help="regexes of test names (default: all)")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--timeout", type=float, default=300, help="seconds per test")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args(argv)
    with open(args.test_lua) as f:
        source = f.read()
    names = test_names(source)
    if args.names:
        names = [n for n in names if any(re.fullmatch(p, n) for p in args.names)]
    suite = Suite(source, args.timeout)
    results = {}
    for name in names:
        status, detail, dt = suite.run(name, args.seed)
        results[name] = {"status": status, "detail": detail[:600], "seconds": round(dt, 2)}
        print(f"{status:5s} {name:45s} {dt:7.2f}s {detail[:200]}", flush=True)
    passed = sum(r["status"] == "PASS" for r in results.values())
    print(f"TOTAL {passed}/{len(results)}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
