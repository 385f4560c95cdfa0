"""nn.fastpaths: torch-rnn's nn.LSTM:updateOutput (the project's own LSTM.lua, unchanged, from
../shared/fixtures/projects/torch-rnn) is recognized by its source text and runs as one NumPy
kernel; every field its forward leaves (output, cell, gates, h0, c0, the flags backward reads)
equals what the project's own code computes with the fast path turned off, in every input
form, and anything else (an edited copy, mixed types) runs as written."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sparktorch7 import LuaError, LuaState

ROOT = Path(__file__).resolve().parents[1]
TORCH_RNN = ROOT.parent / "shared" / "fixtures" / "projects" / "torch-rnn"

FIELDS = ("output", "cell", "gates", "h0", "c0")


@pytest.fixture
def lua():
    st = LuaState(lua_path=[TORCH_RNN])
    st.execute("require 'nn'; require 'LSTM'")
    yield st
    st.close()


def runs(lua):
    return lua.eval("nn.fastpaths.runs['torch-rnn LSTM'] or 0")


def both(lua, code):
    """Run code (which sets `out`) with the fast path and as written; the fields of m after each
    (the fast body must have computed the first itself, and not the second)."""
    res = []
    for enabled in ("true", "false"):
        before = runs(lua)
        lua.execute(f"nn.fastpaths.enabled = {enabled}; torch.manualSeed(3); {code}")
        assert (runs(lua) > before) == (enabled == "true")
        res.append({k: np.array(lua.eval(f"m.{k}"), dtype=np.float64) for k in FIELDS}
                   | {"out": np.array(lua.eval("out"), dtype=np.float64),
                      "first": np.array(lua.eval("first or torch.zeros(1)"), dtype=np.float64),
                      "flags": lua.execute("return m.recompute_backward, m._return_grad_c0, m._return_grad_h0")})
    return res


def assert_same(a, b, tol):
    for k in FIELDS + ("out",):
        assert a[k].shape == b[k].shape, k
        np.testing.assert_allclose(a[k], b[k], rtol=0, atol=tol, err_msg=k)
    assert a["flags"] == b["flags"]


def test_the_torch_rnn_lstm_gets_the_fast_body(lua):
    assert lua.eval("nn.fastpaths.installed['nn.LSTM.updateOutput']") == "torch-rnn LSTM"


@pytest.mark.parametrize("dtype, tol", [("double", 1e-12), ("float", 2e-6)])
def test_fast_forward_equals_the_projects_code(lua, dtype, tol):
    setup = f"m = nn.LSTM(5, 7):{dtype}(); x = torch.randn(3, 6, 5):{dtype}(); "
    # x only; {h0, x}; {c0, h0, x}
    assert_same(*both(lua, setup + "out = m:forward(x):clone()"), tol)
    assert_same(*both(lua, setup + f"out = m:forward({{torch.randn(3, 7):{dtype}(), x}}):clone()"), tol)
    a, b = both(lua, setup + f"out = m:forward({{torch.randn(3, 7):{dtype}(), torch.randn(3, 7):{dtype}(), x}}):clone()")
    assert_same(a, b, tol)
    assert a["flags"] == (True, True, True)
    # remember_states: the second forward starts from the first one's last step
    a, b = both(lua, setup + "m.remember_states = true; first = m:forward(x):clone(); "
                "out = m:forward(x:narrow(2, 1, 2)):clone()")
    assert_same(a, b, tol)
    np.testing.assert_allclose(a["h0"], a["first"][:, -1], rtol=0, atol=tol)   # h0: the first forward's last h
    lua.execute("first = nil")
    # one step at a time, as LanguageModel:sample does
    a, b = both(lua, "m = nn.LSTM(4, 3):" + dtype + "(); m.remember_states = true; local xs = torch.randn(1, 5, 4):"
                + dtype + "(); for t = 1, 5 do out = m:forward(xs:narrow(2, t, 1)):clone() end")
    assert_same(a, b, tol)


def test_what_the_fast_body_does_not_cover_runs_as_written(lua):
    # a float input into a double LSTM: the project's own code runs (and fails as it does)
    lua.execute("m = nn.LSTM(5, 7); nn.fastpaths.enabled = true")
    before = runs(lua)
    with pytest.raises(LuaError) as fast_err:
        lua.execute("m:forward(torch.randn(2, 3, 5):float())")
    assert runs(lua) == before                  # handed back to the project's code
    lua.execute("nn.fastpaths.enabled = false")
    with pytest.raises(LuaError) as slow_err:
        lua.execute("m:forward(torch.randn(2, 3, 5):float())")
    assert str(fast_err.value).splitlines()[0] == str(slow_err.value).splitlines()[0]
    # the project's own checks still run first: a wrong input size fails in its _get_sizes
    lua.execute("nn.fastpaths.enabled = true")
    with pytest.raises(LuaError, match="assertion failed"):
        lua.execute("m:forward(torch.randn(2, 3, 4))")
    # remember_states with another batch size: torch-rnn's own assertion
    lua.execute("m.remember_states = true; m:forward(torch.randn(2, 3, 5))")
    with pytest.raises(LuaError, match="batch sizes must be constant to remember states"):
        lua.execute("m:forward(torch.randn(4, 3, 5))")


def test_an_edited_copy_is_not_replaced(tmp_path):
    src = (TORCH_RNN / "LSTM.lua").read_text()
    edited = src.replace("next_h:tanh(next_c):cmul(o)", "next_h:tanh(next_c):cmul(o):mul(2)")
    assert edited != src
    (tmp_path / "LSTM.lua").write_text(edited)
    st = LuaState(lua_path=[tmp_path])
    try:
        st.execute("require 'nn'; require 'LSTM'")
        assert st.eval("nn.fastpaths.installed['nn.LSTM.updateOutput']") is None
        st.execute("torch.manualSeed(1); m = nn.LSTM(3, 4); x = torch.randn(2, 2, 3); y = m:forward(x)")
        # the edit is in effect: h = 2 * o * tanh(c)
        h = np.array(st.eval("y"))
        c = np.array(st.eval("m.cell"))
        o = np.array(st.eval("m.gates"))[:, :, 8:12]
        np.testing.assert_allclose(h, 2 * o * np.tanh(c), rtol=1e-12)
    finally:
        st.close()


def test_step_products_run_on_one_blas_thread_and_the_count_comes_back():
    from sparktorch7 import _blas, _rnn_ops

    seen = []
    real_matmul = np.matmul

    def spy(*a, **kw):
        seen.append(_blas.get_threads())
        return real_matmul(*a, **kw)

    before = _blas.get_threads()
    if before is None:
        pytest.skip("numpy's BLAS is not OpenBLAS: no thread count to set")
    _blas.set_threads(2)
    try:
        N, T, D, H = 3, 4, 5, 6
        rng = np.random.default_rng(0)
        args = [np.empty((N, T, H)), np.empty((N, T, H)), np.empty((N, T, 4 * H)), rng.standard_normal((N, T, D)),
                np.zeros((N, H)), np.zeros((N, H)), rng.standard_normal((D + H, 4 * H)), np.zeros(4 * H)]
        np.matmul = spy
        try:
            _rnn_ops.torch_rnn_lstm(*args)
        finally:
            np.matmul = real_matmul
        assert seen and set(seen) == {1}                  # 12 rows: every product on one thread
        assert _blas.get_threads() == 2
        with pytest.raises(ValueError):                   # a failure inside still restores the count
            _rnn_ops.torch_rnn_lstm(*args[:4], np.zeros((N, H + 1)), *args[5:])
        assert _blas.get_threads() == 2
    finally:
        _blas.set_threads(before)
