"""scripts/torch_nn_suite.py, the runner of torch/nn's test.lua, on a small suite of the same
shape written here (torch/nn's own file is not shipped)."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "scripts", "torch_nn_suite.py")

SUITE = """
local mytester = torch.Tester()
local nntest = torch.TestSuite()

local tostringTestModules = {
    nnLinear = nn.Linear(1, 2)}
for test_name, component in pairs(tostringTestModules) do
  nntest['tostring' .. test_name] = function ()
      mytester:assert(tostring(component):find(torch.type(component) .. '(', 1, true) ~= nil, 'tostring')
  end
end

function nntest.Good()
   local m = nn.Linear(3, 2)
   mytester:assertlt(nn.Jacobian.testJacobian(m, torch.randn(4, 3)), 1e-5, 'jacobian')
end

function nntest.Wrong()
   mytester:asserteq(1 + 1, 3, 'arithmetic')
end

function nntest.Raises()
   error('boom')
end

function nntest.Endless()
   while true do end
end

mytester:add(nntest)
function nn.test(tests, seed)
   torch.manualSeed(seed)
   mytester:run(tests)
   return mytester
end
"""


def test_runs_each_test_alone_and_reports_failures(tmp_path):
    path = tmp_path / "test.lua"
    path.write_text(SUITE)
    out = tmp_path / "results.json"
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.run([sys.executable, SCRIPT, str(path), "--timeout", "3", "--json", str(out)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 1, proc.stderr
    results = json.loads(out.read_text())
    assert set(results) == {"Good", "Wrong", "Raises", "Endless", "tostringnnLinear"}
    assert results["Good"]["status"] == "PASS"
    assert results["tostringnnLinear"]["status"] == "PASS"
    assert results["Wrong"]["status"] == "FAIL" and "arithmetic" in results["Wrong"]["detail"]
    assert results["Raises"]["status"] == "FAIL" and "boom" in results["Raises"]["detail"]
    # an endless test is stopped by the time limit and the next test still runs
    assert results["Endless"]["status"] == "ERROR" and "timed out after 3 s" in results["Endless"]["detail"]
    assert "TOTAL 2/5" in proc.stdout


def test_names_select_by_regex(tmp_path):
    path = tmp_path / "test.lua"
    path.write_text(SUITE)
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.run([sys.executable, SCRIPT, str(path), "Go+d", "tostring.*"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "TOTAL 2/2" in proc.stdout
