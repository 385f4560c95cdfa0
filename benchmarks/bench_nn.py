"""Forward-pass and training-step throughput of sparktorch7's nn against PyTorch on the CPU.

Two models, built once in Lua (Torch7 nn, float32) whose weights are copied value for
value into PyTorch, run on the same input:

* MLP: 784-512-512-10 (Linear/ReLU), batch 1024        target >= 0.9x PyTorch
* CNN: three 3x3 convolutions (3->64->64->64, pad 1) each with ReLU, 2x2 max
  pooling, Linear(64*16*16, 10), batch 64 of 3x32x32   target >= 0.5x PyTorch

and one training step of each (forward, MSE loss against a fixed target, backward, an
SGD update of all parameters: through getParameters' flat tensors in Lua, torch.optim.SGD
in PyTorch), from the same weights:

* MLP step at batch 256                                 target >= 0.8x PyTorch
* CNN step at batch 64                                  target >= 0.5x PyTorch

Each side of each model is timed in fresh processes (so that one side's memory and
caches do not count for the other), the two sides alternating for --rounds rounds;
PyTorch runs with as many threads as numpy's BLAS (OpenBLAS) uses, so both get the
same cores. Printed per model: samples/s (best run), the ratio sparktorch7 / PyTorch
in wall time and in process CPU time (best run each; the steadier figure on a shared
machine), the peak resident memory added by the passes, and the largest
difference between the two outputs (for a training step: between the losses of the
last step, both sides having taken the same number of steps from the same weights).

Usage: python benchmarks/bench_nn.py [--repeat N] [--rounds N] [--threads N] [--mode forward|train|both]
"""
from __future__ import annotations

import argparse
import ctypes
import multiprocessing as mp
import os
import threading
import time

import numpy as np
import psutil

MLP_LUA = """
local m = nn.Sequential()
m:add(nn.Linear(784, 512)):add(nn.ReLU())
m:add(nn.Linear(512, 512)):add(nn.ReLU())
m:add(nn.Linear(512, 10))
return m:float():evaluate()
"""

CNN_LUA = """
local m = nn.Sequential()
m:add(nn.SpatialConvolution(3, 64, 3, 3, 1, 1, 1, 1)):add(nn.ReLU())
m:add(nn.SpatialConvolution(64, 64, 3, 3, 1, 1, 1, 1)):add(nn.ReLU())
m:add(nn.SpatialConvolution(64, 64, 3, 3, 1, 1, 1, 1)):add(nn.ReLU())
m:add(nn.SpatialMaxPooling(2, 2, 2, 2))
m:add(nn.View(64 * 16 * 16):setNumInputDims(3))
m:add(nn.Linear(64 * 16 * 16, 10))
return m:float():evaluate()
"""

MODELS = {
    # name: (Lua constructor, Lua modules with parameters, input shape, target ratio)
    "mlp": (MLP_LUA, [1, 3, 5], (1024, 784), 0.9),
    "cnn": (CNN_LUA, [1, 3, 5, 9], (64, 3, 32, 32), 0.5),
}

# training steps: model name -> (batch, target ratio)
TRAIN = {"mlp": (256, 0.8), "cnn": (64, 0.5)}
LEARNING_RATE = 0.01

# one step in Lua: gradients zeroed, forward, MSE, backward, w <- w - lr dE/dw
STEP_LUA = """
model:training()
local crit = nn.MSECriterion():float()
local params, grads = model:getParameters()
return function()
   grads:zero()
   local out = model:forward(x)
   local loss = crit:forward(out, target)
   model:backward(x, crit:backward(out, target))
   params:add(-%r, grads)
   return loss
end
""" % LEARNING_RATE


def blas_threads() -> int | None:
    """Threads of the OpenBLAS that numpy loaded, asked through its own API."""
    for path in {m.path for m in psutil.Process().memory_maps() if "openblas" in m.path.lower()}:
        lib = ctypes.CDLL(path)
        for sym in ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
                    "openblas_get_num_threads"):
            fn = getattr(lib, sym, None)
            if fn is not None:
                fn.restype = ctypes.c_int
                return int(fn())
    return None


class PeakRSS:
    """Peak resident set size above the level at entry, sampled every 2 ms."""

    def __init__(self):
        self.proc = psutil.Process()

    def __enter__(self):
        self.base = self.peak = self.proc.memory_info().rss
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self):
        while self.running:
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.002)

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)

    @property
    def mib(self) -> float:
        return (self.peak - self.base) / 2**20


def timed(fn, repeat):
    """Best wall time, best process CPU time (all threads), peak RSS added by the calls
    (the warm-up call included) and the last result."""
    with PeakRSS() as mem:
        out = fn()  # warm-up: allocations, caches, lazy imports
        best, cpu = float("inf"), []
        for _ in range(repeat):
            c0, t0 = time.process_time(), time.perf_counter()
            out = fn()
            best = min(best, time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    return best, min(cpu), mem.mib, out


def build_lua(name):
    import sparktorch7 as st
    lua = st.LuaState()
    lua.require("nn")
    lua.execute(f"model = (function() {MODELS[name][0]} end)()")
    return lua


def lua_params(lua, name):
    return [(np.array(lua.eval(f"model.modules[{i}].weight")),
             np.array(lua.eval(f"model.modules[{i}].bias"))) for i in MODELS[name][1]]


def run_lua(name, params, x, repeat, threads):
    lua = build_lua(name)
    for i, (w, b) in zip(MODELS[name][1], params):
        lua["w"], lua["b"] = w, b
        lua.execute(f"model.modules[{i}].weight:copy(w); model.modules[{i}].bias:copy(b)")
    lua["x"] = x
    fwd = lua.eval("function() return model:forward(x) end")
    best, cpu, mib, out = timed(lambda: fwd(), repeat)
    return best, cpu, mib, np.array(out)


def run_lua_train(name, params, x, t, repeat, threads):
    lua = build_lua(name)
    for i, (w, b) in zip(MODELS[name][1], params):
        lua["w"], lua["b"] = w, b
        lua.execute(f"model.modules[{i}].weight:copy(w); model.modules[{i}].bias:copy(b)")
    lua["x"], lua["target"] = x, t
    step = lua.eval(f"(function() {STEP_LUA} end)()")
    best, cpu, mib, loss = timed(lambda: step(), repeat)
    return best, cpu, mib, np.array([loss])


def torch_model(name, params):
    import torch
    nn = torch.nn
    if name == "mlp":
        tm = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                           nn.Linear(512, 10))
        layers = [0, 2, 4]
    else:
        tm = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.ReLU(),
                           nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
                           nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
                           nn.MaxPool2d(2, 2), nn.Flatten(), nn.Linear(64 * 16 * 16, 10))
        layers = [0, 2, 4, 8]
    with torch.no_grad():
        for j, (w, b) in zip(layers, params):
            tm[j].weight.copy_(torch.from_numpy(w).reshape(tm[j].weight.shape))
            tm[j].bias.copy_(torch.from_numpy(b))
    return tm


def run_torch(name, params, x, repeat, threads):
    import torch
    torch.set_num_threads(threads)
    tm = torch_model(name, params)
    tm.eval()
    xt = torch.from_numpy(x)

    def fwd():
        with torch.inference_mode():
            return tm(xt)

    best, cpu, mib, out = timed(fwd, repeat)
    return best, cpu, mib, out.numpy()


def run_torch_train(name, params, x, t, repeat, threads):
    import torch
    torch.set_num_threads(threads)
    tm = torch_model(name, params)
    tm.train()
    xt, tt = torch.from_numpy(x), torch.from_numpy(t)
    opt = torch.optim.SGD(tm.parameters(), lr=LEARNING_RATE)
    mse = torch.nn.MSELoss()

    def step():
        opt.zero_grad()
        loss = mse(tm(xt), tt)
        loss.backward()
        opt.step()
        return loss.item()

    best, cpu, mib, loss = timed(step, repeat)
    return best, cpu, mib, np.array([loss])


def in_child(fn, *args):
    """Run fn(*args) in a fresh interpreter and return its result."""
    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(fn, args)


def compare(rounds, lua_side, torch_side, *args):
    """Best wall time, best CPU time and peak MiB of each side over `rounds` fresh-process
    runs, the sides alternating so that both see the same changes in machine load; and
    each side's last result."""
    best = {"lua": [float("inf"), float("inf"), 0.0, None], "pt": [float("inf"), float("inf"), 0.0, None]}
    for _ in range(rounds):
        for key, fn in (("lua", lua_side), ("pt", torch_side)):
            t, c, m, y = in_child(fn, *args)
            b = best[key]
            b[0], b[1], b[2], b[3] = min(b[0], t), min(b[1], c), max(b[2], m), y
    return best["lua"], best["pt"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=10, help="timed runs per side (best counts)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="fresh processes per side, alternating sides (best counts)")
    ap.add_argument("--threads", type=int, default=None,
                    help="PyTorch threads (default: the BLAS thread count numpy uses)")
    ap.add_argument("--mode", choices=("forward", "train", "both"), default="both",
                    help="forward passes, training steps, or both (default)")
    args = ap.parse_args(argv)

    nblas = blas_threads()
    threads = args.threads or nblas or os.cpu_count()
    rng = np.random.default_rng(0)
    rows = []
    for name, (_, _, shape, target) in MODELS.items():
        params = lua_params(build_lua(name), name)  # Torch7's default initialisation
        x = rng.standard_normal(shape, dtype=np.float32)
        runs = []
        if args.mode in ("forward", "both"):
            runs.append((name, shape[0], target, run_lua, run_torch, (x,)))
        if args.mode in ("train", "both"):
            n, ttarget = TRAIN[name]
            xt = np.ascontiguousarray(x[:n])
            t = rng.standard_normal((n, 10), dtype=np.float32)
            runs.append((name + " step", n, ttarget, run_lua_train, run_torch_train, (xt, t)))
        for label, n, tgt, lua_side, torch_side, data in runs:
            (t_lua, c_lua, m_lua, y_lua), (t_pt, c_pt, m_pt, y_pt) = compare(
                args.rounds, lua_side, torch_side, name, params, *data, args.repeat, threads)
            err = float(np.abs(y_lua - y_pt).max() / max(1e-30, float(np.abs(y_pt).max())))
            rows.append((label, n, n / t_lua, n / t_pt, t_pt / t_lua, tgt, c_pt / c_lua, m_lua, m_pt, err))

    import torch
    print(f"threads: numpy BLAS {nblas if nblas is not None else '?'}, "
          f"torch.set_num_threads({threads}); torch {torch.__version__}; float32; "
          f"best of {args.rounds}x{args.repeat}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'model':8} {'batch':>5} {'sparktorch7/s':>13} {'pytorch/s':>9} {'ratio':>5} "
          f"{'target':>9} {'cpu ratio':>9} {'peak MiB st7':>12} {'peak MiB pt':>11} "
          f"{'max rel diff':>12}")
    for label, n, s_lua, s_pt, ratio, target, cpu_ratio, m_lua, m_pt, err in rows:
        ok = "ok" if ratio >= target else "MISS"
        print(f"{label:8} {n:5d} {s_lua:13.0f} {s_pt:9.0f} {ratio:5.2f} {target:>4.1f} {ok:4} "
              f"{cpu_ratio:9.2f} {m_lua:12.1f} {m_pt:11.1f} {err:12.1e}")


if __name__ == "__main__":
    main()
