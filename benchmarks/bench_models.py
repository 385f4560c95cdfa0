"""Forward throughput of three convolutional Torch7 models: sparktorch7 vs PyTorch (CPU).

The models are built in Lua, saved as ``.t7`` and read by both sides, so both run the
same weights:

* vgg:    VGG-style stack on 3x32x32: 2x(conv3x3 64) pool, 2x(conv3x3 128) pool,
          2x(conv3x3 256) pool, Linear(4096, 512), ReLU, Dropout, Linear(512, 10)
* resnet: ResNet-18-shaped at 3x224x224 as fb.resnet.torch saved it: cudnn.Spatial-
          Convolution without bias, cudnn.SpatialBatchNormalization, cudnn.ReLU(true),
          ConcatTable + CAddTable(true) shortcuts (1x1 projections), avg pool, Linear
* face:   face/tracker-style net on 3x46x46: SpatialConvolutionMap (random connection
          tables), Tanh, SpatialLPPooling (p=2), SpatialSubtractiveNormalization
          (gaussian kernel), a second map convolution and LP pooling, Linear, Tanh, Linear

The PyTorch side converts the file by hand (``to_torch``): a map convolution is a dense
convolution whose kernel is zero off the connection table, LP pooling is
(avg_pool(x^p) * kW*kH)^(1/p), subtractive normalization is x minus conv(x, kernel over
all planes) / coef, coef the same estimator run on ones.

Each round starts one fresh process per side, the sides alternating (lua, torch, lua,
...); a process runs every model at batch 1, 8 and 32 (one warm-up forward, then best
of --repeat). Printed per model and batch: samples/s median and range over the rounds
for each side, the ratio sparktorch7 / PyTorch (median of the per-round ratios, and
its range), the peak resident memory the forward passes added (max over rounds), and
the largest difference between the two outputs relative to the largest output.
PyTorch gets as many threads as numpy's BLAS uses.

With --fold the sparktorch7 side folds each evaluation-mode SpatialBatchNormalization
into the convolution before it (``require('nn.batchnorm_fold').enabled = true``; off by
default, see lua/nn/batchnorm_fold.lua).

Usage: python benchmarks/bench_models.py [--rounds N] [--repeat N] [--models vgg,resnet,face]
       [--batches 1,8,32] [--threads N] [--fold]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_nn import PeakRSS, blas_threads  # noqa: E402

VGG_LUA = """
local m = nn.Sequential()
local function block(nin, nout)
   m:add(nn.SpatialConvolution(nin, nout, 3, 3, 1, 1, 1, 1)):add(nn.ReLU(true))
   m:add(nn.SpatialConvolution(nout, nout, 3, 3, 1, 1, 1, 1)):add(nn.ReLU(true))
   m:add(nn.SpatialMaxPooling(2, 2, 2, 2))
end
block(3, 64); block(64, 128); block(128, 256)
m:add(nn.View(256 * 4 * 4):setNumInputDims(3))
m:add(nn.Linear(256 * 4 * 4, 512)):add(nn.ReLU(true)):add(nn.Dropout(0.5))
m:add(nn.Linear(512, 10))
return m
"""

RESNET_LUA = """
require 'cudnn'
local Conv, BN, ReLU = cudnn.SpatialConvolution, cudnn.SpatialBatchNormalization, cudnn.ReLU
local function bn(n)
   local b = BN(n)
   b.weight:uniform(0.5, 1.5); b.bias:uniform(-0.1, 0.1)
   b.running_mean:uniform(-0.1, 0.1); b.running_var:uniform(0.5, 1.5)
   return b
end
local function conv(nin, nout, k, s, p)
   local c = Conv(nin, nout, k, k, s, s, p, p)
   c.weight:normal(0, math.sqrt(2 / (k * k * nout)))
   c.bias = nil; c.gradBias = nil   -- fb.resnet.torch's ConvInit with cudnn >= 4
   return c
end
local function shortcut(nin, nout, s)
   if nin == nout and s == 1 then return nn.Identity() end
   return nn.Sequential():add(conv(nin, nout, 1, s, 0)):add(bn(nout))
end
local function basic(nin, n, s)
   local r = nn.Sequential()
   r:add(conv(nin, n, 3, s, 1)):add(bn(n)):add(ReLU(true))
   r:add(conv(n, n, 3, 1, 1)):add(bn(n))
   return nn.Sequential():add(nn.ConcatTable():add(r):add(shortcut(nin, n, s)))
      :add(nn.CAddTable(true)):add(ReLU(true))
end
local m = nn.Sequential()
m:add(conv(3, 64, 7, 2, 3)):add(bn(64)):add(ReLU(true))
m:add(cudnn.SpatialMaxPooling(3, 3, 2, 2, 1, 1))
local nin = 64
for i, n in ipairs({64, 128, 256, 512}) do
   m:add(basic(nin, n, i == 1 and 1 or 2)):add(basic(n, n, 1))
   nin = n
end
m:add(cudnn.SpatialAveragePooling(7, 7, 1, 1))
m:add(nn.View(512):setNumInputDims(3))
m:add(nn.Linear(512, 1000))
return m
"""

FACE_LUA = """
local g = torch.Tensor(7)
for i = 1, 7 do g[i] = math.exp(-((i - 4) / 2) ^ 2) end
local m = nn.Sequential()
m:add(nn.SpatialConvolutionMap(nn.tables.random(3, 16, 2), 5, 5))
m:add(nn.Tanh())
m:add(nn.SpatialLPPooling(16, 2, 2, 2, 2, 2))
m:add(nn.SpatialSubtractiveNormalization(16, g))
m:add(nn.SpatialConvolutionMap(nn.tables.random(16, 64, 4), 5, 5))
m:add(nn.Tanh())
m:add(nn.SpatialLPPooling(64, 2, 2, 2, 2, 2))
m:add(nn.View(64 * 8 * 8):setNumInputDims(3))
m:add(nn.Linear(64 * 8 * 8, 128)):add(nn.Tanh())
m:add(nn.Linear(128, 10))
return m
"""

MODELS = {  # name: (Lua constructor, one sample's shape)
    "vgg": (VGG_LUA, (3, 32, 32)),
    "resnet": (RESNET_LUA, (3, 224, 224)),
    "face": (FACE_LUA, (3, 46, 46)),
}


def save_models(names, folder):
    """Build each model in Lua (float32) and torch.save it; returns {name: path}."""
    import sparktorch7 as st
    lua = st.LuaState()
    lua.require("nn")
    lua.execute("torch.manualSeed(1)")
    paths = {}
    for name in names:
        path = os.path.join(folder, name + ".t7")
        lua["path"] = path
        lua.execute(f"local m = (function() {MODELS[name][0]} end)(); "
                    "torch.save(path, m:float():evaluate())")
        paths[name] = path
    return paths


# ----------------------------------------------------------------------------
# the PyTorch side: the .t7 file converted by hand
# ----------------------------------------------------------------------------

def to_torch(obj):
    """A torch.nn.Module computing what the Torch7 module ``obj`` (a TorchObject from
    sparktorch7.load_t7) computes in evaluate mode; covers the classes used here."""
    import torch
    import torch.nn.functional as F
    tnn = torch.nn
    t = obj.torch_typename.split(".", 1)[1]

    def kids():
        mods = obj["modules"]
        seq = [mods[k] for k in sorted(mods)] if isinstance(mods, dict) else list(mods)
        return [to_torch(m) for m in seq]

    def param(name):
        return tnn.Parameter(torch.from_numpy(np.ascontiguousarray(obj[name])), False)

    if t == "Sequential":
        return tnn.Sequential(*kids())
    if t == "ConcatTable":
        return _ConcatTable(kids())
    if t == "CAddTable":
        return _CAddTable()
    if t in ("Identity", "Dropout"):
        return tnn.Identity()
    if t == "ReLU":
        return tnn.ReLU(inplace=True)
    if t == "Tanh":
        return tnn.Tanh()
    if t == "View":
        return tnn.Flatten()
    if t == "Linear":
        m = tnn.Linear(1, 1)
        m.weight, m.bias = param("weight"), param("bias")
        return m
    if t == "SpatialConvolution":
        w = param("weight")
        w = tnn.Parameter(w.data.reshape(int(obj["nOutputPlane"]), -1, int(obj["kH"]),
                                         int(obj["kW"])), False)
        m = tnn.Conv2d(1, 1, 1, stride=(int(obj["dH"]), int(obj["dW"])),
                       padding=(int(obj["padH"]), int(obj["padW"])),
                       groups=int(obj.get("groups") or 1), bias=obj.get("bias") is not None)
        m.weight = w
        if obj.get("bias") is not None:
            m.bias = param("bias")
        return m
    if t == "SpatialBatchNormalization":
        m = tnn.BatchNorm2d(int(obj["running_mean"].shape[0]), eps=float(obj["eps"]))
        m.weight, m.bias = param("weight"), param("bias")
        m.running_mean = torch.from_numpy(np.ascontiguousarray(obj["running_mean"]))
        m.running_var = torch.from_numpy(np.ascontiguousarray(obj["running_var"]))
        return m.eval()
    if t == "SpatialMaxPooling":
        return tnn.MaxPool2d((int(obj["kH"]), int(obj["kW"])), (int(obj["dH"]), int(obj["dW"])),
                             (int(obj["padH"]), int(obj["padW"])),
                             ceil_mode=bool(obj.get("ceil_mode")))
    if t == "SpatialAveragePooling":
        return tnn.AvgPool2d((int(obj["kH"]), int(obj["kW"])), (int(obj["dH"]), int(obj["dW"])),
                             (int(obj["padH"]), int(obj["padW"])),
                             ceil_mode=bool(obj.get("ceil_mode")),
                             count_include_pad=obj.get("count_include_pad", True) is not False)
    if t == "SpatialConvolutionMap":
        kh, kw = int(obj["kH"]), int(obj["kW"])
        conn = np.asarray(obj["connTable"]).astype(np.int64) - 1
        dense = np.zeros((int(obj["nOutputPlane"]), int(obj["nInputPlane"]), kh, kw), np.float32)
        np.add.at(dense, (conn[:, 1], conn[:, 0]), np.asarray(obj["weight"]).reshape(-1, kh, kw))
        m = tnn.Conv2d(1, 1, 1, stride=(int(obj["dH"]), int(obj["dW"])))
        m.weight = tnn.Parameter(torch.from_numpy(dense), False)
        m.bias = param("bias")
        return m
    if t == "SpatialLPPooling":
        return _LPPool(float(obj["pnorm"]), int(obj["kW"]), int(obj["kH"]), int(obj["dW"]),
                       int(obj["dH"]))
    if t == "SpatialSubtractiveNormalization":
        return _SubtractiveNorm(np.asarray(obj["kernel"], np.float32), int(obj["nInputPlane"]))
    raise NotImplementedError(f"bench_models: no PyTorch equivalent for {obj.torch_typename}")


def _torch_classes():
    import torch
    import torch.nn.functional as F

    class ConcatTable(torch.nn.Module):
        def __init__(self, mods):
            super().__init__()
            self.mods = torch.nn.ModuleList(mods)

        def forward(self, x):
            return [m(x) for m in self.mods]

    class CAddTable(torch.nn.Module):
        def forward(self, xs):
            out = xs[0]
            for v in xs[1:]:
                out = out + v
            return out

    class LPPool(torch.nn.Module):
        def __init__(self, p, kw, kh, dw, dh):
            super().__init__()
            self.p, self.k, self.d = p, (kh, kw), (dh, dw)

        def forward(self, x):
            a = F.avg_pool2d(x.pow(self.p), self.k, self.d) * (self.k[0] * self.k[1])
            return a.pow(1.0 / self.p)

    class SubtractiveNorm(torch.nn.Module):
        def __init__(self, kernel, nplanes):
            super().__init__()
            k = np.outer(kernel, kernel) if kernel.ndim == 1 else kernel
            k = k / (k.sum() * nplanes)
            self.pad = (k.shape[0] // 2, k.shape[1] // 2)
            w = torch.from_numpy(np.ascontiguousarray(k, np.float32))
            self.weight = w.expand(1, nplanes, *k.shape).contiguous()
            self.coef = {}

        def forward(self, x):
            key = tuple(x.shape[2:])
            if key not in self.coef:
                ones = torch.ones((1,) + tuple(x.shape[1:]), dtype=x.dtype)
                self.coef[key] = F.conv2d(ones, self.weight, padding=self.pad)
            mean = F.conv2d(x, self.weight, padding=self.pad) / self.coef[key]
            return x - mean

    return ConcatTable, CAddTable, LPPool, SubtractiveNorm


# ----------------------------------------------------------------------------
# one side, one process
# ----------------------------------------------------------------------------

def timed(fn, repeat):
    """Best wall time and process CPU time over repeat calls after a warm-up; the peak
    RSS the calls added; the last result."""
    with PeakRSS() as mem:
        out = fn()
        best, cpu = float("inf"), float("inf")
        for _ in range(repeat):
            c0, t0 = time.process_time(), time.perf_counter()
            out = fn()
            best = min(best, time.perf_counter() - t0)
            cpu = min(cpu, time.process_time() - c0)
    return best, cpu, mem.mib, out


def child(side, paths, names, batches, repeat, threads, outdir, fold=False):
    res = {}
    if side == "lua":
        import sparktorch7 as st
        lua = st.LuaState()
        lua.require("nn")
        lua.require("cudnn")
        lua.execute(f"require('nn.batchnorm_fold').enabled = {'true' if fold else 'false'}")
    else:
        import torch
        torch.set_num_threads(threads)
        global _ConcatTable, _CAddTable, _LPPool, _SubtractiveNorm
        _ConcatTable, _CAddTable, _LPPool, _SubtractiveNorm = _torch_classes()
        import sparktorch7 as st
    for name in names:
        if side == "lua":
            lua["path"] = paths[name]
            lua.execute("model = torch.load(path):float():evaluate()")
            fwd_lua = lua.eval("function(x) return model:forward(x) end")
        else:
            tm = to_torch(st.load_t7(paths[name])).eval()
        for n in batches:
            x = np.random.default_rng(n).standard_normal((n,) + MODELS[name][1], dtype=np.float32)
            if side == "lua":
                best, cpu, mib, out = timed(lambda: np.array(fwd_lua(x)), repeat)
            else:
                xt = torch.from_numpy(x)

                def fwd():
                    with torch.inference_mode():
                        return tm(xt).numpy()

                best, cpu, mib, out = timed(fwd, repeat)
            np.save(os.path.join(outdir, f"{side}-{name}-{n}.npy"), out)
            res[f"{name}/{n}"] = (n / best, n / cpu, mib)
    return res


def run_side(side, paths, args, threads, outdir):
    cmd = [sys.executable, os.path.abspath(__file__), "--child", side, "--paths",
           json.dumps(paths), "--models", ",".join(paths), "--batches",
           ",".join(map(str, args.batches)), "--repeat", str(args.repeat), "--threads",
           str(threads), "--outdir", outdir] + (["--fold"] if args.fold else [])
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{side} child failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3, help="fresh processes per side, alternating")
    ap.add_argument("--repeat", type=int, default=1, help="timed forwards per batch (best counts)")
    ap.add_argument("--models", default="vgg,resnet,face")
    ap.add_argument("--batches", default="1,8,32")
    ap.add_argument("--threads", type=int, default=None,
                    help="PyTorch threads (default: the BLAS thread count numpy uses)")
    ap.add_argument("--fold", action="store_true",
                    help="sparktorch7 folds batch normalizations into convolutions")
    ap.add_argument("--child", choices=["lua", "torch"], help=argparse.SUPPRESS)
    ap.add_argument("--paths", help=argparse.SUPPRESS)
    ap.add_argument("--outdir", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    names = [m for m in args.models.split(",") if m]
    args.batches = [int(b) for b in str(args.batches).split(",") if b]
    if args.child:
        res = child(args.child, json.loads(args.paths), names, args.batches, args.repeat,
                    args.threads, args.outdir, args.fold)
        print(json.dumps(res))
        return
    threads = args.threads or blas_threads() or os.cpu_count()
    with tempfile.TemporaryDirectory() as tmp:
        paths = save_models(names, tmp)
        rounds = {"lua": [], "torch": []}
        for r in range(args.rounds):
            for side in ("lua", "torch"):
                rounds[side].append(run_side(side, paths, args, threads, tmp))
                print(f"# round {r + 1}/{args.rounds} {side} done", file=sys.stderr, flush=True)
        errs = {}
        for name in names:
            for n in args.batches:
                a = np.load(os.path.join(tmp, f"lua-{name}-{n}.npy"))
                b = np.load(os.path.join(tmp, f"torch-{name}-{n}.npy"))
                errs[f"{name}/{n}"] = float(np.abs(a - b).max() / max(1e-30, np.abs(b).max()))
    load = os.getloadavg()[0]
    print(f"bench_models: {args.rounds} alternating fresh-process rounds per side, best of "
          f"{args.repeat} forwards each; PyTorch threads {threads}; batch norm folding "
          f"{'on' if args.fold else 'off'}; load average {load:.1f}")
    print(f"{'model/batch':<12} {'sparktorch7 samples/s':>24} {'PyTorch samples/s':>24} "
          f"{'ratio (wall)':>18} {'ratio (cpu)':>12} {'peak MiB lua/pt':>16} {'max rel err':>11}")

    def med_range(v):
        return f"{statistics.median(v):8.1f} [{min(v):.1f}-{max(v):.1f}]"

    for key in errs:
        lw = [r[key][0] for r in rounds["lua"]]
        pw = [r[key][0] for r in rounds["torch"]]
        ratios = [a / b for a, b in zip(lw, pw)]
        rc = statistics.median(a[key][1] / b[key][1] for a, b in zip(rounds["lua"], rounds["torch"]))
        ml = max(r[key][2] for r in rounds["lua"])
        mp = max(r[key][2] for r in rounds["torch"])
        print(f"{key:<12} {med_range(lw):>24} {med_range(pw):>24} "
              f"{statistics.median(ratios):5.2f} [{min(ratios):.2f}-{max(ratios):.2f}] "
              f"{rc:12.2f} {ml:7.0f}/{mp:<8.0f} {errs[key]:11.1e}")


if __name__ == "__main__":
    main()
