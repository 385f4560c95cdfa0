"""Tensor bridge and core, side by side: one run prints every figure and ratio.

(a) an ndarray of 1 KB and of 1 GB through a Lua identity function (sparktorch7),
    against lupa (luajit21) passing an ndarray through a Lua function;
(b) torch.mm of two 1024x1024 float32 tensors called from Lua, against numpy.matmul;
(c) summing 10^6 elements in a Lua loop through t[i], and through t:data().

Usage: python benchmarks/bench_tensor.py
"""
import time

import numpy as np

from sparktorch7 import LuaState


# Single-threaded work is timed in CPU time of this thread, so that other processes
# sharing the machine do not count; multi-threaded BLAS is timed on the wall clock.
def best_per_call(fn, *args, calls=2000, rounds=100, clock=time.thread_time):
    """The best, over `rounds`, of the mean time of `calls` back-to-back calls (seconds)."""
    fn(*args)
    best = float("inf")
    for _ in range(rounds):
        t0 = clock()
        for _ in range(calls):
            fn(*args)
        best = min(best, (clock() - t0) / calls)
    return best


def best_once(fn, *args, rounds=5, clock=time.thread_time):
    fn(*args)
    best = float("inf")
    for _ in range(rounds):
        t0 = clock()
        fn(*args)
        best = min(best, clock() - t0)
    return best


def verdict(ok):
    return "ok" if ok else "MISSED"


def bench_identity(lua):
    ident = lua.eval("function(x) return x end")
    small = np.zeros(128)                 # 1 KB
    big = np.zeros(2 ** 27)               # 1 GB (calloc: pages untouched)
    assert ident(small) is small and ident(big) is big
    t_small = best_per_call(ident, small)
    t_big = best_per_call(ident, big)
    try:
        import lupa.luajit21 as lupa
    except ImportError:
        lupa = None
    print("(a) ndarray through a Lua identity function")
    print(f"    1 KB: {t_small * 1e6:8.3f} us    1 GB: {t_big * 1e6:8.3f} us    "
          f"1 GB / 1 KB = {t_big / t_small:.2f}  (target <= 2: {verdict(t_big / t_small <= 2)})")
    if lupa is None:
        print("    lupa is not installed: no comparison")
        return
    runtime = lupa.LuaRuntime()
    lupa_ident = runtime.eval("function(x) return x end")
    t_lupa = best_per_call(lupa_ident, small)
    ratio = max(t_small, t_big) / t_lupa
    print(f"    lupa: {t_lupa * 1e6:8.3f} us    sparktorch7 / lupa = {ratio:.2f}  "
          f"(target <= 0.5: {verdict(ratio <= 0.5)})")
    # the same array again reuses its tensor; a new array each call makes one (as a Spark
    # batch does): both figures, the second not a target
    t_fresh, t_lupa_fresh = best_fresh(ident), best_fresh(lupa_ident)
    print(f"    a new 1 KB array each call: {t_fresh * 1e6:8.3f} us    lupa: {t_lupa_fresh * 1e6:8.3f} us    "
          f"sparktorch7 / lupa = {t_fresh / t_lupa_fresh:.2f}")


def best_fresh(fn, calls=2000, rounds=30, clock=time.thread_time):
    """best_per_call over arrays made before each round, each passed once."""
    best = float("inf")
    for _ in range(rounds):
        arrays = [np.zeros(128) for _ in range(calls)]
        t0 = clock()
        for a in arrays:
            fn(a)
        best = min(best, (clock() - t0) / calls)
        del arrays
    return best


def bench_mm(lua):
    has_mm = lua.eval("torch.mm ~= nil")
    print("(b) torch.mm of two 1024x1024 float32 tensors vs numpy.matmul")
    if not has_mm:
        print("    torch.mm is not available in this build (TensorMath not merged): skipped")
        return
    rng = np.random.default_rng(0)
    a = rng.standard_normal((1024, 1024), dtype=np.float32)
    b = rng.standard_normal((1024, 1024), dtype=np.float32)
    lua.execute("function mm_setup(a, b) A = a:clone(); B = b:clone(); C = torch.mm(A, B) end")
    lua.globals().mm_setup(a, b)
    run = lua.eval("function() C = torch.mm(A, B) end")
    run_into = lua.eval("function() torch.mm(C, A, B) end")
    out = np.empty((1024, 1024), np.float32)
    # interleaved rounds, best of each: a loaded machine slows both sides alike
    fns = {"torch": run, "into": run_into, "np": lambda: np.matmul(a, b),
           "np_into": lambda: np.matmul(a, b, out=out)}
    best = {k: float("inf") for k in fns}
    for _ in range(9):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            best[k] = min(best[k], time.perf_counter() - t0)
    t_torch, t_into, t_np, t_np_into = best["torch"], best["into"], best["np"], best["np_into"]
    np.testing.assert_allclose(lua.eval("C"), a @ b, rtol=1e-3, atol=1e-3)
    ratio = t_np / t_torch
    print(f"    torch.mm(A, B): {t_torch * 1e3:8.2f} ms   torch.mm(C, A, B): {t_into * 1e3:8.2f} ms")
    print(f"    numpy.matmul:   {t_np * 1e3:8.2f} ms   matmul(out=):      {t_np_into * 1e3:8.2f} ms")
    print(f"    speed relative to numpy = {ratio:.2f} (into: {t_np_into / t_into:.2f})  "
          f"(target >= 0.9: {verdict(ratio >= 0.9)})")


def bench_loops(lua):
    n = 10 ** 6
    lua.execute(f"""
        N = {n}
        T = torch.Tensor(N)
        for i = 1, N do T[i] = i % 7 end
        function sum_index(t)
          local s = 0
          for i = 1, t:size(1) do s = s + t[i] end
          return s
        end
        function sum_data(t)
          local p, s = t:data(), 0
          for i = 0, t:size(1) - 1 do s = s + p[i] end
          return s
        end
        function sum_index_of_T() return sum_index(T) end
        function sum_data_of_T() return sum_data(T) end""")
    g = lua.globals()
    expect = float(sum(i % 7 for i in range(1, n + 1)))
    assert g.sum_index_of_T() == expect and g.sum_data_of_T() == expect
    t_index = best_once(g.sum_index_of_T) / n
    t_data = best_once(g.sum_data_of_T) / n
    arr = np.arange(n, dtype=np.float64) % 7
    t_index_np = best_once(g.sum_index, arr) / n
    print(f"(c) summing 10^6 elements in a Lua loop")
    print(f"    t[i]:        {t_index * 1e9:6.2f} ns/element (target <= 50: {verdict(t_index <= 50e-9)}); "
          f"on an ndarray from Python: {t_index_np * 1e9:6.2f} ns/element")
    print(f"    t:data()[i]: {t_data * 1e9:6.2f} ns/element (target <= 5: {verdict(t_data <= 5e-9)})")


def main():
    with LuaState() as lua:
        lua.execute("require 'torch'")
        bench_identity(lua)
        bench_mm(lua)
        bench_loops(lua)


if __name__ == "__main__":
    main()
