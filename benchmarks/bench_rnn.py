"""torch-rnn's LSTM on sparktorch7 against PyTorch's nn.LSTM, and LanguageModel:sample.

* Forward: torch-rnn's own nn.LSTM (jcjohnson/torch-rnn, unchanged, found through
  lua_path in ../shared/fixtures/projects/torch-rnn), two layers of 512, batch 32,
  sequence 128, float32, against torch.nn.LSTM(512, 512, num_layers=2) holding the
  same weights (torch-rnn's [Wx; Wh] with gates i, f, o, g reordered into PyTorch's
  i, f, g, o).                                                  target >= 0.7x PyTorch
* Sampling: characters/s of torch-rnn's LanguageModel:sample from the real checkpoint
  ../shared/fixtures/wild/torch-rnn_checkpoint_18000.t7 (2 layers of 128), one
  character per forward as torch-rnn samples.

Each side runs in fresh processes, the sides alternating for --rounds rounds; PyTorch
gets as many threads as numpy's BLAS uses. Printed: sequences/s (best run), the ratio
sparktorch7 / PyTorch in wall time and in process CPU time (the steadier figure on a
shared machine), and the largest difference between the outputs.

PyTorch is a benchmark-only peer (requirements-bench.txt), never a runtime dependency.

Usage: python benchmarks/bench_rnn.py [--repeat N] [--rounds N] [--threads N] [--length N]
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
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


def run_lua(params, x, repeat, threads):
    import sparktorch7 as st

    lua = st.LuaState(lua_path=[TORCH_RNN])
    lua.execute("require 'nn'\nrequire 'LSTM'\nnet = nn.Sequential()")
    for layer, (w, b) in enumerate(params):
        lua["w"], lua["b"] = w, b
        lua.execute(f"local l = nn.LSTM({D if layer == 0 else H}, {H}):float()\n"
                    "l.weight:copy(w) l.bias:copy(b) net:add(l)")
    lua.execute("net:evaluate()")
    lua["x"] = x
    fwd = lua.eval("function() return net:forward(x) end")
    best, cpu, mib, out = timed(lambda: fwd(), repeat)
    return best, cpu, mib, np.array(out)


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

    best, cpu, mib, out = timed(fwd, repeat)
    return best, cpu, mib, out.numpy()


def run_sample(length, repeat):
    import sparktorch7 as st

    lua = st.LuaState(lua_path=[TORCH_RNN])
    lua.execute("require 'LanguageModel'\n"
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
    args = ap.parse_args(argv)

    nblas = blas_threads()
    threads = args.threads or nblas or os.cpu_count()
    params = torch_rnn_weights()
    x = np.random.default_rng(1).standard_normal((N, T, D), dtype=np.float32)
    t_lua = c_lua = t_pt = c_pt = float("inf")
    for _ in range(args.rounds):
        t, c, _, y_lua = in_child(run_lua, params, x, args.repeat, threads)
        t_lua, c_lua = min(t_lua, t), min(c_lua, c)
        t, c, _, y_pt = in_child(run_torch, params, x, args.repeat, threads)
        t_pt, c_pt = min(t_pt, t), min(c_pt, c)
    err = float(np.abs(y_lua - y_pt).max())
    t_s = c_s = float("inf")
    for _ in range(args.rounds):
        t, c = in_child(run_sample, args.length, args.repeat)
        t_s, c_s = min(t_s, t), min(c_s, c)

    import torch

    print(f"threads: numpy BLAS {nblas if nblas is not None else '?'}, torch.set_num_threads({threads}); "
          f"torch {torch.__version__}; float32; best of {args.rounds}x{args.repeat}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    ratio = t_pt / t_lua
    print(f"{'LSTM forward':28} {'seq/s st7':>9} {'seq/s pt':>9} {'ratio':>5} {'target':>10} "
          f"{'cpu ratio':>9} {'max abs diff':>12}")
    print(f"{f'{LAYERS}x{H}, batch {N}, seq {T}':28} {N / t_lua:9.2f} {N / t_pt:9.2f} {ratio:5.2f} "
          f"{TARGET:>5.1f} {'ok' if ratio >= TARGET else 'MISS':4} {c_pt / c_lua:9.2f} {err:12.1e}")
    print(f"LanguageModel:sample (checkpoint, 2x128): {args.length / t_s:.0f} chars/s "
          f"({args.length / c_s:.0f} per CPU second)")


if __name__ == "__main__":
    main()
