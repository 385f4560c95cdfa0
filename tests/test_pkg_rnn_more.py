"""torch/rnn's NCEModule training forward (`require 'rnn'`): the noise samples drawn from
the unigrams, the model and noise probabilities of targets and samples against NumPy
computed from the module's weights and the drawn samples, float and double, batch noise and
per-row noise, Z estimated from the first batch, and the errors on bad input."""
import numpy as np
import pytest

import sparktorch7 as st
from pkg_helpers import DTYPES, TNAME, package_fixture, tol

lua = package_fixture("rnn")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batchnoise", [True, False])
def test_nce_training_forward(lua, dtype, batchnoise):
    rng = np.random.default_rng(0)
    N, D, V, K = 5, 4, 7, 3
    x = rng.standard_normal((N, D))
    target = np.array([1, 7, 3, 3, 5])
    lua.execute(f"torch.manualSeed(2); m = nn.NCEModule({D}, {V}, {K}, torch.range(1, {V})):type('{TNAME[dtype]}'); "
                f"m.batchnoise = {'true' if batchnoise else 'false'}; m.weight:normal(0, 0.5); m.bias:normal(0, 0.5)")
    f = lua.eval("function(x, t) local o = m:forward({x, t}); return o[1]:clone(), o[2]:clone(), o[3]:clone(), "
                 "o[4]:clone(), m.sampleidx:clone(), m.Z[1] end")
    pmt, pms, pnt, pns, idx, Z = f(x.astype(dtype), target.astype(np.int64))
    W, b = lua.eval("m.weight").astype(np.float64), lua.eval("m.bias").astype(np.float64)
    xd = x.astype(dtype).astype(np.float64)
    uni = np.arange(1, V + 1) / np.arange(1, V + 1).sum()
    if batchnoise:
        samples = np.asarray(idx[:K], dtype=int)
        np.testing.assert_array_equal(idx[K:], target)
        s_lin = np.broadcast_to(xd @ W[samples - 1].T + b[samples - 1], (N, K))
        s_uni = np.broadcast_to(uni[samples - 1], (N, K))
    else:
        idx = np.asarray(idx, dtype=int)
        assert idx.shape == (N, K + 1)
        np.testing.assert_array_equal(idx[:, 0], target)
        samples = idx[:, 1:]
        s_lin = np.einsum("nd,nkd->nk", xd, W[samples - 1]) + b[samples - 1]
        s_uni = uni[samples - 1]
    assert samples.min() >= 1 and samples.max() <= V
    t_lin = (xd * W[target - 1]).sum(1) + b[target - 1]
    # Z was unset (-1): the first batch sets it to mean(exp(sample scores)) * V
    ref_z = (np.exp(s_lin).mean() if batchnoise else np.exp(np.concatenate([t_lin[:, None], s_lin], 1)).mean()) * V
    np.testing.assert_allclose(Z, ref_z, **tol(dtype))
    np.testing.assert_allclose(pmt, np.exp(t_lin) / Z, **tol(dtype))
    np.testing.assert_allclose(pms, np.exp(s_lin) / Z, **tol(dtype))
    np.testing.assert_allclose(pnt, uni[target - 1], **tol(dtype))
    np.testing.assert_allclose(pns, s_uni, **tol(dtype))
    # Z is kept from then on
    pmt2 = f(x.astype(dtype), target.astype(np.int64))[0]
    np.testing.assert_allclose(pmt2, pmt, **tol(dtype))
    assert lua.eval("m.Z[1]") == pytest.approx(Z)


def test_nce_noise_follows_the_unigrams(lua):
    V = 5
    lua.execute(f"torch.manualSeed(3); m = nn.NCEModule(2, {V}, 20000, torch.Tensor{{1, 2, 3, 4, 10}})")
    lua.execute("m:forward({torch.randn(2, 2), torch.LongTensor{1, 2}})")
    samples = np.asarray(lua.eval("m.sampleidx"), dtype=int)[:20000]
    freq = np.bincount(samples, minlength=V + 1)[1:] / 20000
    np.testing.assert_allclose(freq, np.array([1, 2, 3, 4, 10]) / 20, atol=0.01)


def test_nce_training_errors(lua):
    lua.execute("m = nn.NCEModule(3, 6, 2, torch.ones(6))")
    with pytest.raises(st.LuaError, match=r"<nn.NCEModule> training expects the input \{x, target\} \(x batch x 3, "
                                          r"target a LongTensor of classes\), got a 2D torch.DoubleTensor of size 2x3"):
        lua.execute("m:forward(torch.randn(2, 3))")
    with pytest.raises(st.LuaError, match=r"<nn.NCEModule> input\[2\] holds class 9, outside 1..6"):
        lua.execute("m:forward({torch.randn(2, 3), torch.LongTensor{1, 9}})")


@pytest.mark.parametrize("dtype", DTYPES)
def test_reverse_unreverse_and_abstract_sequencer(lua, dtype):
    """nn.ReverseUnreverse runs its module on the reversed sequence and reverses the result
    back: around nn.Narrow(1, 1, 2) (the first two steps of the reversed sequence) it gives
    the last two steps of the input, in their order."""
    x = np.random.default_rng(1).standard_normal((4, 2, 3))
    out = lua.eval(f"function(x) local m = nn.ReverseUnreverse(nn.Narrow(1, 1, 2)):type('{TNAME[dtype]}'); "
                   "return m:forward(x) end")(x.astype(dtype))
    np.testing.assert_array_equal(out, x[2:4].astype(dtype))
    for ctor in ("nn.Sequencer(nn.Linear(2, 2))", "nn.Repeater(nn.Linear(2, 2), 3)",
                 "nn.BiSequencer(nn.Linear(2, 2))"):
        assert lua.eval(f"torch.isTypeOf({ctor}, 'nn.AbstractSequencer')"), ctor
    assert not lua.eval("torch.isTypeOf(nn.Linear(2, 2), 'nn.AbstractSequencer')")
