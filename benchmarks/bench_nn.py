"""Forward-pass throughput of sparktorch7's nn against PyTorch on the CPU.

Two models, built once in Lua (Torch7 nn, float32) whose weights are copied value for
value into PyTorch, run on the same input:

* MLP: 784-512-512-10 (Linear/ReLU), batch 1024        target >= 0.9x PyTorch
* CNN: three 3x3 convolutions (3->64->64->64, pad 1) each with ReLU, 2x2 max
  pooling, Linear(64*16*16, 10), batch 64 of 3x32x32   target >= 0.5x PyTorch

Each side of each model is timed in fresh processes (so that one side's memory and
caches do not count for the other), the two sides alternating for --rounds rounds;
PyTorch runs with as many threads as numpy's BLAS (OpenBLAS) uses, so both get the
same cores. Printed per model: samples/s (best run), the ratio sparktorch7 / PyTorch
in wall time and in process CPU time (best run each; the steadier figure on a shared
machine), the peak resident memory added by the forward passes, and the largest
difference between the two outputs.

Usage: python benchmarks/bench_nn.py [--repeat N] [--rounds N] [--threads N]
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


def run_torch(name, params, x, repeat, threads):
    import torch
    torch.set_num_threads(threads)
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
    tm.eval()
    xt = torch.from_numpy(x)

    def fwd():
        with torch.inference_mode():
            return tm(xt)

    best, cpu, mib, out = timed(fwd, repeat)
    return best, cpu, mib, out.numpy()


def in_child(fn, *args):
    """Run fn(*args) in a fresh interpreter and return its result."""
    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(fn, args)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=10, help="timed runs per side (best counts)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="fresh processes per side, alternating sides (best counts)")
    ap.add_argument("--threads", type=int, default=None,
                    help="PyTorch threads (default: the BLAS thread count numpy uses)")
    args = ap.parse_args(argv)

    nblas = blas_threads()
    threads = args.threads or nblas or os.cpu_count()
    rng = np.random.default_rng(0)
    rows = []
    for name, (_, _, shape, target) in MODELS.items():
        params = lua_params(build_lua(name), name)  # Torch7's default initialisation
        x = rng.standard_normal(shape, dtype=np.float32)
        # alternate the sides so that both see the same changes in machine load
        t_lua = c_lua = t_pt = c_pt = float("inf")
        m_lua = m_pt = 0.0
        for _ in range(args.rounds):
            t, c, m, y_lua = in_child(run_lua, name, params, x, args.repeat, threads)
            t_lua, c_lua, m_lua = min(t_lua, t), min(c_lua, c), max(m_lua, m)
            t, c, m, y_pt = in_child(run_torch, name, params, x, args.repeat, threads)
            t_pt, c_pt, m_pt = min(t_pt, t), min(c_pt, c), max(m_pt, m)
        err = float(np.abs(y_lua - y_pt).max() / max(1e-30, float(np.abs(y_pt).max())))
        n = shape[0]
        rows.append((name, n, n / t_lua, n / t_pt, t_pt / t_lua, target, c_pt / c_lua, m_lua, m_pt, err))

    import torch
    print(f"threads: numpy BLAS {nblas if nblas is not None else '?'}, "
          f"torch.set_num_threads({threads}); torch {torch.__version__}; float32; "
          f"best of {args.rounds}x{args.repeat}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'model':5} {'batch':>5} {'sparktorch7/s':>13} {'pytorch/s':>9} {'ratio':>5} "
          f"{'target':>9} {'cpu ratio':>9} {'peak MiB st7':>12} {'peak MiB pt':>11} "
          f"{'max rel diff':>12}")
    for name, n, s_lua, s_pt, ratio, target, cpu_ratio, m_lua, m_pt, err in rows:
        ok = "ok" if ratio >= target else "MISS"
        print(f"{name:5} {n:5d} {s_lua:13.0f} {s_pt:9.0f} {ratio:5.2f} {target:>4.1f} {ok:4} "
              f"{cpu_ratio:9.2f} {m_lua:12.1f} {m_pt:11.1f} {err:12.1e}")


if __name__ == "__main__":
    main()
