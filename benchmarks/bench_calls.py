"""Call overhead and list conversion: sparktorch7 beside lupa's LuaJIT runtime.

Run from the repository root after building the extension in place::

    python benchmarks/bench_calls.py [--calls 20000] [--call-repeat 101] [--items 1000000] [--repeat 11]

Prints ns per Python -> Lua call of ``function(a, b) return a + b end`` and ms to
convert a list of floats into a Lua table and sum it in Lua, for both runtimes, and
the ratio sparktorch7 / lupa (targets: calls <= 0.5, list <= 0.8). With ``--big-dict``
it also times Lua indexing a Python dict of 10**7 entries through ``py.reval``
(no copy into the Lua heap).

Runs of the two runtimes alternate and the best of each is kept, so that a
loaded machine slows both alike; the load average is printed with the figures.
"""
import argparse
import gc
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

try:
    import lupa.luajit21  # noqa: E402
except ImportError:       # the peer is optional (scripts/setup.sh --bench installs it): our figures alone
    lupa = None

from sparktorch7 import LuaState  # noqa: E402

ADD = "function(a, b) return a + b end"
SUM = "function(t) local s = 0 for i = 1, #t do s = s + t[i] end return s end"


def timed(fn):
    """Seconds of one run of fn(), with Python's GC off."""
    gc.collect()
    gc.disable()
    try:
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0
    finally:
        gc.enable()


def best_pair(repeat, fn_a, fn_b):
    """Best of `repeat` runs of each, interleaved so that both see the same machine load."""
    best_a = best_b = float("inf")
    for _ in range(repeat):
        best_a = min(best_a, timed(fn_a))
        best_b = min(best_b, timed(fn_b))
    return best_a, best_b


def call_loop(add, n):
    assert add(1, 2.5) == 3.5

    def run():
        for i in range(n):
            add(i, 2.5)
    return run


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--calls", type=int, default=20_000, help="calls per timed window")
    p.add_argument("--call-repeat", type=int, default=101,
                   help="timed windows of calls (short windows, many: the best one misses the machine's other load)")
    p.add_argument("--items", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=11)
    p.add_argument("--big-dict", type=int, default=0, metavar="N",
                   help="also time indexing a Python dict of N entries from Lua (e.g. 10000000)")
    args = p.parse_args(argv)

    st = LuaState()
    lu = lupa.luajit21.LuaRuntime() if lupa is not None else None
    nothing = lambda: None  # noqa: E731  (the peer's turn when there is no peer)

    t_st, t_lu = best_pair(args.call_repeat, call_loop(st.eval(ADD), args.calls),
                           call_loop(lu.eval(ADD), args.calls) if lu is not None else nothing)
    calls_st, calls_lu = t_st / args.calls * 1e9, t_lu / args.calls * 1e9

    data = [float(i) * 0.5 for i in range(args.items)]
    expect = sum(data)
    sum_st = st.eval(SUM)
    assert sum_st(data) == expect
    if lu is not None:
        sum_lu = lu.eval(SUM)
        assert sum_lu(lu.table_from(data)) == expect
    t_st, t_lu = best_pair(args.repeat, lambda: sum_st(data),
                           (lambda: sum_lu(lu.table_from(data))) if lu is not None else nothing)
    list_st, list_lu = t_st * 1e3, t_lu * 1e3

    peer = f"lupa {lupa.__version__} ({lu.eval('jit.version')})" if lu is not None else "no peer (lupa is not installed)"
    print(f"sparktorch7 {st.eval('jit.version')} vs {peer}, "
          f"best of {args.call_repeat} windows of {args.calls:,} calls / {args.repeat} list runs, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'measure':<44}{'sparktorch7':>12}{'lupa':>12}{'ratio':>8}{'target':>8}")
    rows = [
        ("call add(a, b), ns/call", calls_st, calls_lu, 0.5),
        (f"list of {args.items:,} floats -> table + sum, ms", list_st, list_lu, 0.8),
    ]
    for name, a, b, target in rows:
        if lu is None:
            print(f"{name:<44}{a:>12.1f}{'-':>12}{'-':>8}{'<= ' + str(target):>8}")
            continue
        ratio = a / b
        flag = "ok" if ratio <= target else "MISSED"
        print(f"{name:<44}{a:>12.1f}{b:>12.1f}{ratio:>8.2f}{'<= ' + str(target):>8} {flag}")

    if args.big_dict:
        n = args.big_dict
        st.gc()
        before = st.memory_used()
        st.execute(f"big = py.reval('{{i: i * 2 for i in range({n})}}')")
        look = st.eval("function(n) local s = 0 for i = 0, n - 1, 97 do s = s + big[i] end return s end")
        t = timed(lambda: look(n))
        print(f"py.reval dict of {n:,} entries: {n // 97 + 1:,} lookups from Lua in {t * 1e3:.1f} ms, "
              f"Lua heap {before / 2**20:.2f} MiB -> {st.memory_used() / 2**20:.2f} MiB")
    st.close()


if __name__ == "__main__":
    main()
