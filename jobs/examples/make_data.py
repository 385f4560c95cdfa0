#!/usr/bin/env python
"""Sample data and weights for jobs/examples/mlp.lua.

    python jobs/examples/make_data.py --rows 100000 --out /tmp/st7-demo

writes ``data.parquet`` (``id`` bigint, ``features`` array<float> of 64),
``mlp.t7`` (the MLP as a Torch7 ``nn.Sequential``, saved with ``torch.save``),
``mlp_weights.bin`` (the same weights, raw float32, for NumPy) and, with ``--csv``, also
``data.csv`` (``id``, ``f0`` .. ``f63``); then prints the command that scores
it. ``forward()`` is the same MLP in NumPy (tests and benchmarks use it).
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

if __name__ == "__main__":   # run from a checkout: import sparktorch7 from it
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

SIZES = (64, 256, 256, 10)


def make_weights(seed: int = 1) -> list:
    """[(W1, b1), (W2, b2), (W3, b3)], float32, He-scaled."""
    rng = np.random.default_rng(seed)
    layers = []
    for i, o in zip(SIZES[:-1], SIZES[1:]):
        w = (rng.standard_normal((o, i)) * np.sqrt(2.0 / i)).astype(np.float32)
        b = (rng.standard_normal(o) * 0.1).astype(np.float32)
        layers.append((w, b))
    return layers


def save_weights(layers: list, path: str) -> None:
    with open(path, "wb") as f:
        for w, b in layers:
            f.write(np.ascontiguousarray(w, dtype="<f4").tobytes())
            f.write(np.ascontiguousarray(b, dtype="<f4").tobytes())


_BUILD_T7 = """
require 'nn'
local sizes = {64, 256, 256, 10}
function build(path, weights)
  local model = nn.Sequential()
  for i = 1, 3 do
    local linear = nn.Linear(sizes[i], sizes[i + 1])
    linear.weight:copy(weights[2 * i - 1])
    linear.bias:copy(weights[2 * i])
    model:add(linear)
    model:add(i < 3 and nn.ReLU() or nn.SoftMax())
  end
  model:float()
  torch.save(path, model)
end
"""


def save_t7(layers: list, path: str) -> None:
    """The same MLP as an nn.Sequential in a Torch7 file, written by torch.save."""
    from sparktorch7 import LuaState

    with LuaState() as lua:
        lua.execute(_BUILD_T7, name="make_data.build")
        flat = []
        for w, b in layers:
            flat += [np.ascontiguousarray(w), np.ascontiguousarray(b)]
        lua.build(path, flat)


def load_weights(path: str) -> list:
    flat = np.fromfile(path, dtype="<f4")
    layers, pos = [], 0
    for i, o in zip(SIZES[:-1], SIZES[1:]):
        w = flat[pos:pos + o * i].reshape(o, i)
        pos += o * i
        b = flat[pos:pos + o]
        pos += o
        layers.append((w, b))
    assert pos == flat.size, "weights file of the wrong size"
    return layers


def forward(layers: list, x: np.ndarray) -> np.ndarray:
    """The MLP in NumPy (float32): [N, 64] -> [N, 10] probabilities."""
    h = np.asarray(x, dtype=np.float32)
    for k, (w, b) in enumerate(layers):
        h = h @ w.T + b
        if k < len(layers) - 1:
            np.maximum(h, 0, out=h)
    h = h - h.max(axis=1, keepdims=True)
    np.exp(h, out=h)
    h /= h.sum(axis=1, keepdims=True)
    return h


def make_features(rows: int, seed: int = 2) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((rows, SIZES[0]), dtype=np.float32)


def write_data(out: str, rows: int, *, csv: bool = False, seed: int = 2, files: int = 4) -> dict:
    import pyarrow as pa
    import pyarrow.parquet as pq

    os.makedirs(out, exist_ok=True)
    weights = os.path.join(out, "mlp_weights.bin")
    layers = make_weights()
    save_weights(layers, weights)
    model = os.path.join(out, "mlp.t7")
    save_t7(layers, model)
    x = make_features(rows, seed)
    data = os.path.join(out, "data.parquet")
    os.makedirs(data, exist_ok=True)
    per = max(1, -(-rows // files))
    for part, start in enumerate(range(0, rows, per)):
        chunk = x[start:start + per]
        feats = pa.ListArray.from_arrays(
            pa.array(np.arange(0, chunk.size + 1, SIZES[0], dtype=np.int32)), pa.array(chunk.ravel()))
        table = pa.table({"id": pa.array(np.arange(start, start + len(chunk), dtype=np.int64)),
                          "features": feats})
        pq.write_table(table, os.path.join(data, f"part-{part:05d}.parquet"))
    paths = {"data": data, "weights": weights, "model": model}
    if csv:
        import pandas as pd

        frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(SIZES[0])])
        frame.insert(0, "id", np.arange(rows))
        paths["csv"] = os.path.join(out, "data.csv")
        frame.to_csv(paths["csv"], index=False)
    return paths


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--out", default="/tmp/sparktorch7-demo")
    p.add_argument("--csv", action="store_true", help="also write data.csv (id, f0..f63)")
    p.add_argument("--seed", type=int, default=2)
    args = p.parse_args(argv)
    paths = write_data(args.out, args.rows, csv=args.csv, seed=args.seed)
    here = os.path.dirname(os.path.abspath(__file__))
    job = os.path.join(os.path.dirname(here), "score.py")
    print(f"wrote {args.rows} rows to {paths['data']} and the model to {paths['model']}")
    print("score them with:")
    print(f"  {sys.executable} {job} --script {os.path.join(here, 'mlp.lua')} --function predict "
          f"--init load --files {paths['model']} --input {paths['data']} "
          f"--output {os.path.join(args.out, 'scores.parquet')} --features-col features --keep id")
    return 0


if __name__ == "__main__":
    sys.exit(main())
