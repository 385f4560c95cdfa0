"""Check the demo job's output: every row scored, equal to the same MLP in NumPy."""
import os
import sys

import numpy as np
import pyarrow.parquet as pq

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "jobs", "examples"))
import make_data  # noqa: E402

out = sys.argv[1]
data = pq.read_table(os.path.join(out, "data.parquet")).sort_by("id")
scores = pq.read_table(os.path.join(out, "scores.parquet")).sort_by("id")
assert data.num_rows == scores.num_rows, f"{scores.num_rows} rows scored of {data.num_rows}"
x = np.stack(data.column("features").to_numpy(zero_copy_only=False)).astype(np.float32)
got = np.stack(scores.column("prediction").to_numpy(zero_copy_only=False))
want = make_data.forward(make_data.load_weights(os.path.join(out, "mlp_weights.bin")), x)
np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
print(f"demo: {scores.num_rows} rows scored by the Torch7 model in Lua on Spark; "
      f"scores equal NumPy's (max abs diff {np.abs(got - want).max():.2e})")
