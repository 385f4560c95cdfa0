"""torch-rnn's LSTM on sparktorch7 against PyTorch's nn.LSTM, and LanguageModel:sample.

* Forward: torch-rnn's own nn.LSTM (jcjohnson/torch-rnn, unchanged, found through
  lua_path in ../shared/fixtures/projects/torch-rnn), two layers of 512, batch 32,
  sequence 128, float32, against torch.nn.LSTM(512, 512, num_layers=2) holding the
  same weights (torch-rnn's [Wx; Wh] with gates i, f, o, g reordered into PyTorch's
  i, f, g, o).                                                  target >= 0.7x PyTorch
  The runtime recognizes torch-rnn's LSTM:updateOutput (lua/nn/fastpaths.lua) and runs
  it as one NumPy kernel; --as-written adds a side running the project's Lua as written
  (nn.fastpaths.enabled = false).
* Sampling: characters/s of torch-rnn's LanguageModel:sample from the real checkpoint
  ../shared/fixtures/wild/torch-rnn_checkpoint_18000.t7 (2 layers of 128), one
  character per forward as torch-rnn samples.

* GEMM floor: numpy doing exactly the GEMMs torch-rnn's LSTM.lua makes (per layer and
  time step x[:, t] @ Wx into gates[:, t] and h[:, t-1] @ Wh, same layouts, same BLAS)
  and nothing else: what LSTM.lua's algorithm costs on numpy's BLAS before its gate
  arithmetic (the runtime's fast path beats it by projecting all steps in one GEMM).

Each side runs in fresh processes, the sides alternating for --rounds rounds; PyTorch
gets as many threads as numpy's BLAS uses. Printed: sequences/s (best run), the ratio
to PyTorch in wall time and in process CPU time (the steadier figure on a shared
machine), best and median over all runs, and the largest difference between the outputs.

PyTorch is a benchmark-only peer (requirements-bench.txt), never a runtime dependency.

Usage: python benchmarks/bench_rnn.py [--repeat N] [--rounds N] [--threads N] [--length N] [--no-sample]
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_nn import blas_threads, timed  # noqa: E402

ROOT = os.path.dirname(HERE)
FIXTURES = os.path.join(os.path.dirname(ROOT), "shared", "fixtures")
TORCH_RNN = os.path.join(FIXTURES, "projects", "torch-rnn")
CHECKPOINT = os.path.join(FIXTURES, "wild", "torch-rnn_checkpoint_18000.t7")

N, T, D, H, LAYERS = 32, 128, 512, 512, 2
TARGET = 0.7

def torch_rnn_weights(seed=0):
    """Weights as torch-rnn initialises them (normal(0, 1/sqrt(D+H)), forget bias 1)."""
    rng = np.random.default_rng(seed)
    out = []
    for layer in range(LAYERS):
        d = D if layer == 0 else H
        w = rng.normal(0, 1 / np.sqrt(d + H), size=(d + H, 4 * H)).astype(np.float32)
        b = np.zeros(4 * H, np.float32)
        b[H:2 * H] = 1
        out.append((w, b))
    return out


def samples(fn, repeat):
    """Wall and process CPU seconds of each of `repeat` calls after a warm-up, the last result."""
    out = fn()
    wall, cpu = [], []
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return wall, cpu, out


def run_floor(params, x, repeat, threads):
    """torch-rnn's per-step GEMMs alone, in numpy, into views laid out as LSTM.lua's."""
    n, t_steps, _ = x.shape
    layers = []
    for w, _b in params:
        d = w.shape[0] - H
        layers.append((w[:d], w[d:], np.zeros((n, t_steps, 4 * H), np.float32),
                       np.zeros((n, t_steps, H), np.float32), np.empty((n, 4 * H), np.float32)))
    h0 = np.zeros((n, H), np.float32)

    def fwd():
        inp = x
        for wx, wh, gates, h, rec in layers:
            prev = h0
            for t in range(t_steps):
                np.matmul(inp[:, t], wx, out=gates[:, t])
                np.matmul(prev, wh, out=rec)
                prev = h[:, t]
            inp = h
        return inp

    wall, cpu, _ = samples(fwd, repeat)
    return wall, cpu, None


def run_lua(params, x, repeat, threads, fast=True):
    import sparktorch7 as st

    lua = st.LuaState(lua_path=[TORCH_RNN])
    lua.execute("require 'nn'\nrequire 'LSTM'\nnet = nn.Sequential()")
    assert lua.eval("nn.fastpaths.installed['nn.LSTM.updateOutput']") == "torch-rnn LSTM"
    lua.execute(f"nn.fastpaths.enabled = {'true' if fast else 'false'}")
    for layer, (w, b) in enumerate(params):
        lua["w"], lua["b"] = w, b
        lua.execute(f"local l = nn.LSTM({D if layer == 0 else H}, {H}):float()\n"
                    "l.weight:copy(w) l.bias:copy(b) net:add(l)")
    lua.execute("net:evaluate()")
    lua["x"] = x
    fwd = lua.eval("function() return net:forward(x) end")
    wall, cpu, out = samples(lambda: fwd(), repeat)
    return wall, cpu, np.array(out)


def run_lua_written(params, x, repeat, threads):
    return run_lua(params, x, repeat, threads, fast=False)


def run_torch(params, x, repeat, threads):
    import torch

    torch.set_num_threads(threads)
    m = torch.nn.LSTM(D, H, num_layers=LAYERS, batch_first=True)
    order = np.concatenate([np.arange(0, H), np.arange(H, 2 * H), np.arange(3 * H, 4 * H),
                            np.arange(2 * H, 3 * H)])   # torch-rnn i, f, o, g -> PyTorch i, f, g, o
    with torch.no_grad():
        for layer, (w, b) in enumerate(params):
            d = w.shape[0] - H
            getattr(m, f"weight_ih_l{layer}").copy_(torch.from_numpy(np.ascontiguousarray(w[:d, order].T)))
            getattr(m, f"weight_hh_l{layer}").copy_(torch.from_numpy(np.ascontiguousarray(w[d:, order].T)))
            getattr(m, f"bias_ih_l{layer}").copy_(torch.from_numpy(b[order]))
            getattr(m, f"bias_hh_l{layer}").zero_()
    m.eval()
    xt = torch.from_numpy(x)

    def fwd():
        with torch.inference_mode():
            return m(xt)[0]

    wall, cpu, out = samples(fwd, repeat)
    return wall, cpu, out.numpy()


def run_sample(length, repeat, fast=True):
    import sparktorch7 as st

    lua = st.LuaState(lua_path=[TORCH_RNN])
    lua.execute("require 'LanguageModel'\n"
                f"nn.fastpaths.enabled = {'true' if fast else 'false'}\n"
                f"model = torch.load({CHECKPOINT!r}).model\nmodel:evaluate()")
    fn = lua.eval(f"function() torch.manualSeed(1) return model:sample{{length = {length}, "
                  "start_text = 'ACGT'} end")
    best, cpu, _, text = timed(lambda: fn(), repeat)
    assert len(text) == length
    return best, cpu


def in_child(fn, *args):
    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(fn, args)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per side (best counts)")
    ap.add_argument("--rounds", type=int, default=2, help="fresh processes per side, alternating")
    ap.add_argument("--threads", type=int, default=None,
                    help="PyTorch threads (default: the BLAS thread count numpy uses)")
    ap.add_argument("--length", type=int, default=1000, help="characters per LanguageModel:sample")
    ap.add_argument("--no-sample", dest="sample", action="store_false", help="skip LanguageModel:sample")
    ap.add_argument("--as-written", action="store_true",
                    help="also run torch-rnn's Lua as written (the runtime's fast path off)")
    args = ap.parse_args(argv)

    nblas = blas_threads()
    threads = args.threads or nblas or os.cpu_count()
    params = torch_rnn_weights()
    x = np.random.default_rng(1).standard_normal((N, T, D), dtype=np.float32)
    sides = [("lua", run_lua), ("torch", run_torch), ("floor", run_floor)]
    if args.as_written:
        sides.append(("written", run_lua_written))
    runs = {side: ([], []) for side, _ in sides}
    for _ in range(args.rounds):
        for side, fn in sides:
            wall, cpu, y = in_child(fn, params, x, args.repeat, threads)
            runs[side][0].extend(wall)
            runs[side][1].extend(cpu)
            if side == "lua":
                y_lua = y
            elif side == "torch":
                y_pt = y
    err = float(np.abs(y_lua - y_pt).max())
    t_s = c_s = tw_s = cw_s = float("inf")
    if args.sample:
        for _ in range(args.rounds):
            t, c = in_child(run_sample, args.length, args.repeat)
            t_s, c_s = min(t_s, t), min(c_s, c)
            if args.as_written:
                t, c = in_child(run_sample, args.length, args.repeat, False)
                tw_s, cw_s = min(tw_s, t), min(cw_s, c)

    import torch

    def stat(side, which, f):
        return f(runs[side][which])

    print(f"threads: numpy BLAS {nblas if nblas is not None else '?'}, torch.set_num_threads({threads}); "
          f"torch {torch.__version__}; float32; {args.rounds} rounds x {args.repeat} runs per side; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'LSTM forward ' + f'{LAYERS}x{H}, batch {N}, seq {T}':40} {'seq/s':>7} {'wall ratio':>16} "
          f"{'cpu ratio':>16}   vs PyTorch, best / median")
    names = [("torch", "PyTorch nn.LSTM"), ("lua", "sparktorch7 (torch-rnn LSTM.lua)"),
             ("floor", "numpy GEMM floor (same GEMMs only)")]
    if args.as_written:
        names.append(("written", "sparktorch7, LSTM.lua as written"))
    for side, name in names:
        wb = stat("torch", 0, min) / stat(side, 0, min)
        wm = stat("torch", 0, statistics.median) / stat(side, 0, statistics.median)
        cb = stat("torch", 1, min) / stat(side, 1, min)
        cm = stat("torch", 1, statistics.median) / stat(side, 1, statistics.median)
        print(f"{name:40} {N / stat(side, 0, min):7.2f} {wb:7.2f} / {wm:6.2f} {cb:7.2f} / {cm:6.2f}")
    ratio = stat("torch", 0, min) / stat("lua", 0, min)
    print(f"target {TARGET} (best wall): {'ok' if ratio >= TARGET else 'MISS'}; sparktorch7 / floor (CPU, median) "
          f"{stat('floor', 1, statistics.median) / stat('lua', 1, statistics.median):.2f}; "
          f"max abs diff {err:.1e}")
    if not args.sample:
        return
    print(f"LanguageModel:sample (checkpoint, 2x128): {args.length / t_s:.0f} chars/s "
          f"({args.length / c_s:.0f} per CPU second)")
    if args.as_written:
        print(f"  as written: {args.length / tw_s:.0f} chars/s ({args.length / cw_s:.0f} per CPU second)")


if __name__ == "__main__":
    main()
