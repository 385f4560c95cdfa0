"""Forward-pass throughput of sparktorch7's nn against PyTorch on the CPU.

Two models, each built once in Lua (Torch7 nn) and copied weight for weight into
PyTorch, run on the same input in one process:

* MLP: 784-512-512-10 (Linear/ReLU), batch 1024        target >= 0.9x PyTorch
* CNN: three 3x3 convolutions (3->64->64->64, pad 1) each with ReLU, 2x2 max
  pooling, Linear(64*16*16, 10), batch 64 of 3x32x32   target >= 0.5x PyTorch

PyTorch runs with as many threads as numpy's BLAS (OpenBLAS) uses, so both sides
get the same cores. Prints samples/s, the peak resident memory added during each
timed loop, and the ratio sparktorch7 / PyTorch.

Usage: python benchmarks/bench_nn.py [--repeat N] [--threads N]
"""
from __future__ import annotations

import argparse
import ctypes
import os
import threading
import time

import numpy as np
import psutil
import torch

import sparktorch7 as st


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
    """Best wall time, median process CPU time (all threads) and peak added RSS.
    The CPU time is the steadier figure on a machine shared with other jobs."""
    fn()  # warm-up: allocations, caches, lazy imports
    best, cpu = float("inf"), []
    with PeakRSS() as mem:
        for _ in range(repeat):
            c0, t0 = time.process_time(), time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    return best, float(np.median(cpu)), mem.mib


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
m:add(nn.Reshape(64 * 16 * 16))
m:add(nn.Linear(64 * 16 * 16, 10))
return m:float():evaluate()
"""


def torch_mlp(lua):
    tm = torch.nn.Sequential(
        torch.nn.Linear(784, 512), torch.nn.ReLU(),
        torch.nn.Linear(512, 512), torch.nn.ReLU(),
        torch.nn.Linear(512, 10))
    copy_params(lua, "mlp", tm, [(1, 0), (3, 2), (5, 4)])
    return tm.eval()


def torch_cnn(lua):
    tm = torch.nn.Sequential(
        torch.nn.Conv2d(3, 64, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(64, 64, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(64, 64, 3, padding=1), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2, 2), torch.nn.Flatten(),
        torch.nn.Linear(64 * 16 * 16, 10))
    copy_params(lua, "cnn", tm, [(1, 0), (3, 2), (5, 4), (9, 8)])
    return tm.eval()


def copy_params(lua, name, tm, pairs):
    """Lua module i (1-based) -> PyTorch layer j: the same weight and bias values."""
    with torch.no_grad():
        for i, j in pairs:
            w = np.array(lua.eval(f"{name}.modules[{i}].weight"))
            b = np.array(lua.eval(f"{name}.modules[{i}].bias"))
            tm[j].weight.copy_(torch.from_numpy(w).reshape(tm[j].weight.shape))
            tm[j].bias.copy_(torch.from_numpy(b))


def bench(lua, name, tm, x, repeat):
    lua["x_" + name] = x
    run_lua = lua.eval(f"function() return {name}:forward(x_{name}) end")
    xt = torch.from_numpy(x)

    def run_torch():
        with torch.inference_mode():
            return tm(xt)

    ours = np.array(run_lua())
    with torch.inference_mode():
        ref = tm(xt).numpy()
    err = float(np.abs(ours - ref).max() / max(1e-30, np.abs(ref).max()))
    t_lua, c_lua, m_lua = timed(run_lua, repeat)
    t_torch, c_torch, m_torch = timed(run_torch, repeat)
    n = x.shape[0]
    return dict(name=name, batch=n, lua=n / t_lua, torch=n / t_torch, mem_lua=m_lua,
                mem_torch=m_torch, ratio=t_torch / t_lua, cpu_ratio=c_torch / c_lua, err=err)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=10, help="timed runs per side (best counts)")
    ap.add_argument("--threads", type=int, default=None,
                    help="PyTorch threads (default: the BLAS thread count numpy uses)")
    args = ap.parse_args(argv)

    nblas = blas_threads()
    threads = args.threads or nblas or os.cpu_count()
    torch.set_num_threads(threads)

    lua = st.LuaState()
    lua.require("nn")
    lua.execute("torch.manualSeed(1)")
    lua.execute(f"mlp = (function() {MLP_LUA} end)()")
    lua.execute(f"cnn = (function() {CNN_LUA} end)()")
    rng = np.random.default_rng(0)
    results = [
        bench(lua, "mlp", torch_mlp(lua), rng.standard_normal((1024, 784), dtype=np.float32), args.repeat),
        bench(lua, "cnn", torch_cnn(lua), rng.standard_normal((64, 3, 32, 32), dtype=np.float32), args.repeat),
    ]
    targets = {"mlp": 0.9, "cnn": 0.5}
    print(f"threads: numpy BLAS {nblas if nblas is not None else '?'}, "
          f"torch.set_num_threads({threads}); torch {torch.__version__}, float32, "
          f"best of {args.repeat}")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
          "(wall ratios are only meaningful on an idle machine; see the CPU-time ratio)")
    print(f"{'model':5} {'batch':>5} {'sparktorch7/s':>14} {'pytorch/s':>10} {'ratio':>6} "
          f"{'target':>9} {'cpu ratio':>9} {'peak MiB st7':>12} {'peak MiB pt':>11} "
          f"{'max rel err':>11}")
    for r in results:
        ok = "ok" if r["ratio"] >= targets[r["name"]] else "MISS"
        print(f"{r['name']:5} {r['batch']:5d} {r['lua']:14.0f} {r['torch']:10.0f} "
              f"{r['ratio']:6.2f} {targets[r['name']]:>4.1f} {ok:4} {r['cpu_ratio']:9.2f} "
              f"{r['mem_lua']:12.1f} {r['mem_torch']:11.1f} {r['err']:11.1e}")


if __name__ == "__main__":
    main()
