"""The spatial, temporal and volumetric nn classes of torch/nn that sparktorch7 lacked
(issue 12, part B), cudnn.torch's TemporalConvolution, cross entropies and base
classes, and nn.SpatialMaxUnpooling after a save/load round trip.

Forward passes are compared with NumPy references written here from THNN's C sources
(plain loops over small sizes), in double and in float; gradients with central finite
differences in double (fd_helpers.check); parameterised modules with a torch.save /
torch.load round trip. Fractional poolings run with fixed samples.
"""
import os

import numpy as np
import pytest

import sparktorch7 as st
from fd_helpers import backward, check, rnd
from gradcheck import install as install_gradcheck

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def lua():
    state = st.LuaState()
    state.require("nn")
    state.require("cudnn")
    install_gradcheck(state)
    yield state
    state.close()


def run(lua, ctor, x, setup="", dtype=np.float64):
    """The output of m = ctor (built with seed 0, then `setup`) on x, in dtype."""
    conv = "" if dtype == np.float64 else "m = m:float()"
    lua.execute(f"torch.manualSeed(0); m = {ctor}\n{conv}\n{setup}")
    lua["x"] = x.astype(dtype)
    y = np.array(lua.eval("m:forward(x)"))
    assert y.dtype == dtype
    return y


def field(lua, name):
    return np.array(lua.eval(f"m.{name}")).astype(np.float64)


def both(lua, ctor, x, ref, setup="", tol=1e-10):
    """m's output on x equals ref(m's fields) in double, and in float to float precision."""
    y = run(lua, ctor, x, setup)
    want = ref(x)
    assert y.shape == want.shape
    np.testing.assert_allclose(y, want, rtol=tol, atol=tol)
    # the same values in a non-contiguous input
    if x.ndim > 1:
        lua.execute("xn = x:transpose(1, x:dim()):clone():transpose(1, x:dim())")
        assert not lua.eval("xn:isContiguous()")
        np.testing.assert_allclose(np.array(lua.eval("m:forward(xn)")), y, rtol=1e-13, atol=1e-13)
    yf = run(lua, ctor, x, setup, np.float32)
    np.testing.assert_allclose(yf, want, rtol=2e-5, atol=2e-5)
    return y


def round_trip(lua, tmp_path, x):
    """m saved with torch.save and read back with torch.load gives the same output."""
    path = str(tmp_path / "m.t7")
    lua["x"], lua["path"] = x, path
    lua.execute("y0 = m:forward(x):clone(); torch.save(path, m); back = torch.load(path)")
    assert lua.eval("torch.type(back) == torch.type(m)")
    np.testing.assert_array_equal(np.array(lua.eval("back:forward(x)")), np.array(lua.eval("y0")))


def lua_error(lua, code):
    with pytest.raises(st.LuaError) as e:
        lua.execute(code)
    return str(e.value)


# --- convolutions -----------------------------------------------------------------------

def pad2(x, ph, pw):
    return np.pad(x, [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)])


def local_ref(x, w, b, kH, kW, dH, dW, pH, pW):
    xp = pad2(x, pH, pW)
    n, c = x.shape[:2]
    oH, oW, o = w.shape[:3]
    out = np.zeros((n, o, oH, oW))
    for h in range(oH):
        for v in range(oW):
            win = xp[:, :, h * dH:h * dH + kH, v * dW:v * dW + kW]
            out[:, :, h, v] = np.einsum("ncij,ocij->no", win, w[h, v]) + b[:, h, v]
    return out


@pytest.mark.parametrize("args,shape", [
    ((2, 3, 5, 4, 3, 2, 1, 1, 1, 0), (2, 2, 4, 5)),
    ((3, 2, 6, 5, 2, 3, 2, 1, 0, 1), (3, 5, 6)),
])
def test_convolution_local(lua, tmp_path, args, shape):
    nin, nout, iW, iH, kW, kH, dW, dH, pW, pH = args
    ctor = "nn.SpatialConvolutionLocal(%s)" % ", ".join(map(str, args))
    x = rnd(shape, 3)
    xb = x if x.ndim == 4 else x[None]

    def ref(_):
        y = local_ref(xb, field(lua, "weight"), field(lua, "bias"), kH, kW, dH, dW, pH, pW)
        return y if x.ndim == 4 else y[0]
    y = both(lua, ctor, x, ref)
    assert y.shape[-2:] == ((iH + 2 * pH - kH) // dH + 1, (iW + 2 * pW - kW) // dW + 1)
    assert field(lua, "weight").shape == (y.shape[-2], y.shape[-1], nout, nin, kH, kW)
    check(lua, ctor, shape)
    lua.execute(f"m = {ctor}")
    round_trip(lua, tmp_path, x)


def test_convolution_local_input_size_is_fixed(lua):
    msg = lua_error(lua, "m = nn.SpatialConvolutionLocal(2, 3, 5, 4, 3, 2); m:forward(torch.randn(2, 5, 5))")
    assert "nn.SpatialConvolutionLocal" in msg and "inconsistent with expected input size" in msg
    assert "2x5x5" in msg and "2x4x5" in msg
    msg = lua_error(lua, "nn.SpatialConvolutionLocal(1, 1, 2, 2, 3, 3)")
    assert "output width or height less than 1" in msg


def full_map_ref(x, conn, w, b, dH, dW):
    c, h, v = x.shape
    kH, kW = w.shape[1:]
    o = b.shape[0]
    out = np.zeros((o, (h - 1) * dH + kH, (v - 1) * dW + kW)) + b[:, None, None]
    for k, (i, j) in enumerate(conn.astype(int) - 1):
        for a in range(h):
            for e in range(v):
                out[j, a * dH:a * dH + kH, e * dW:e * dW + kW] += x[i, a, e] * w[k]
    return out


@pytest.mark.parametrize("table,args,shape", [
    ("nn.tables.full(2, 3)", "3, 2, 2, 1", (2, 4, 3)),
    ("torch.Tensor({{1, 1}, {2, 1}, {2, 2}, {3, 3}, {1, 3}})", "2, 3", (3, 3, 4)),
])
def test_full_convolution_map(lua, tmp_path, table, args, shape):
    ctor = f"nn.SpatialFullConvolutionMap({table}, {args})"
    dW, dH = ([int(a) for a in args.split(", ")] + [1, 1])[2:4]
    x = rnd(shape, 4)
    both(lua, ctor, x, lambda x: full_map_ref(x, field(lua, "connTable"), field(lua, "weight"),
                                              field(lua, "bias"), dH, dW))
    check(lua, ctor, shape)
    # a batch is a stack of images
    xb = rnd((2,) + shape, 5)
    yb = run(lua, ctor, xb)
    for i in range(2):
        np.testing.assert_allclose(yb[i], full_map_ref(xb[i], field(lua, "connTable"), field(lua, "weight"),
                                                       field(lua, "bias"), dH, dW), atol=1e-12)
    round_trip(lua, tmp_path, x)


def depthwise_ref(x, w, b, kH, kW, dH, dW, pH, pW):
    xp = pad2(x, pH, pW)
    n, c = x.shape[:2]
    o = w.shape[0]
    w = w.reshape(o, c, kH, kW)
    oH = (xp.shape[2] - kH) // dH + 1
    oW = (xp.shape[3] - kW) // dW + 1
    out = np.zeros((n, c * o, oH, oW))
    for ci in range(c):
        for oi in range(o):
            for h in range(oH):
                for v in range(oW):
                    win = xp[:, ci, h * dH:h * dH + kH, v * dW:v * dW + kW]
                    out[:, ci * o + oi, h, v] = (win * w[oi, ci]).sum(axis=(1, 2)) + \
                        (0 if b is None else b[oi, ci])
    return out


@pytest.mark.parametrize("args,shape,nobias", [
    ((2, 3, 3, 2, 1, 2, 1, 0), (2, 2, 5, 6), False),
    ((3, 2, 2, 2, 2, 1, 0, 1), (3, 5, 5), False),
    ((2, 2, 3, 3, 1, 1, 1, 1), (1, 2, 4, 5), True),
])
def test_depthwise_convolution(lua, tmp_path, args, shape, nobias):
    nin, nout, kW, kH, dW, dH, pW, pH = args
    ctor = "nn.SpatialDepthWiseConvolution(%s)%s" % (", ".join(map(str, args)), ":noBias()" if nobias else "")
    x = rnd(shape, 6)
    xb = x if x.ndim == 4 else x[None]

    def ref(_):
        y = depthwise_ref(xb, field(lua, "weight"), None if nobias else field(lua, "bias"),
                          kH, kW, dH, dW, pH, pW)
        return y if x.ndim == 4 else y[0]
    both(lua, ctor, x, ref)
    check(lua, ctor, shape, params=("weight",) if nobias else ("weight", "bias"))
    lua.execute(f"m = {ctor}")
    round_trip(lua, tmp_path, x)


def row_conv_ref(x, w, b, kW, dW, feat_first):
    xt = x if feat_first else np.swapaxes(x, -1, -2)
    f, t = xt.shape[-2:]
    n_out = (t - kW) // dW + 1
    out = np.zeros(xt.shape[:-1] + (n_out,))
    for fi in range(f):
        for ti in range(n_out):
            out[..., fi, ti] = (xt[..., fi, ti * dW:ti * dW + kW] * w[fi, 0]).sum(axis=-1) + b[fi]
    return out if feat_first else np.swapaxes(out, -1, -2)


@pytest.mark.parametrize("args,shape,feat_first", [
    ("3, 3, 2", (2, 9, 3), False),
    ("4, 2", (7, 4), False),
    ("3, 2, 1, true", (3, 7), True),
    ("2, 3, 2, true", (2, 2, 8), True),
])
def test_row_convolution(lua, tmp_path, args, shape, feat_first):
    ctor = f"nn.TemporalRowConvolution({args})"
    a = [int(v) for v in args.replace(", true", "").split(", ")]
    kW, dW = a[1], (a[2] if len(a) > 2 else 1)
    x = rnd(shape, 7)
    both(lua, ctor, x, lambda x: row_conv_ref(x, field(lua, "weight"), field(lua, "bias"), kW, dW, feat_first))
    check(lua, ctor, shape)
    lua.execute(f"m = {ctor}")
    round_trip(lua, tmp_path, x)


def test_cudnn_temporal_convolution(lua, tmp_path):
    """cudnn.TemporalConvolution(F, O, kH, dH, padH): frames padded with padH zeros at both
    ends, weight O x (kH*F) as nn.TemporalConvolution lays it out."""
    for args, shape in [((3, 4, 3, 2, 1), (2, 7, 3)), ((2, 3, 2, 1, 0), (6, 2)), ((4, 2, 3, 1, 2), (1, 5, 4))]:
        f, o, kH, dH, pH = args
        ctor = "cudnn.TemporalConvolution(%s)" % ", ".join(map(str, args))
        x = rnd(shape, 8)

        def ref(x):
            xb = x if x.ndim == 3 else x[None]
            xp = np.pad(xb, [(0, 0), (pH, pH), (0, 0)])
            n_out = (xp.shape[1] - kH) // dH + 1
            w = field(lua, "weight").reshape(o, kH * f)
            y = np.stack([xp[:, t * dH:t * dH + kH].reshape(xb.shape[0], -1) @ w.T for t in range(n_out)], 1)
            y = y + field(lua, "bias")
            return y if x.ndim == 3 else y[0]
        both(lua, ctor, x, ref)
        check(lua, ctor, shape)
        lua.execute(f"m = {ctor}")
        round_trip(lua, tmp_path, x)
    assert lua.eval("torch.isTypeOf(cudnn.TemporalConvolution(2, 3, 2), 'nn.TemporalConvolution')")
    # cudnn.convert leaves both temporal convolutions alone (their fields differ), as cudnn.torch
    assert lua.eval("torch.type(cudnn.convert(nn.Sequential():add(cudnn.TemporalConvolution(2, 3, 2)), nn)"
                    ".modules[1])") == "cudnn.TemporalConvolution"
    assert lua.eval("torch.type(cudnn.convert(nn.Sequential():add(nn.TemporalConvolution(2, 3, 2)), cudnn)"
                    ".modules[1])") == "nn.TemporalConvolution"
    msg = lua_error(lua, "cudnn.TemporalConvolution(3, 2, 2):forward(torch.randn(5, 4))")
    assert "invalid input frame size" in msg and "Got: 4, Expected: 3" in msg


# --- poolings ---------------------------------------------------------------------------

def frac_starts(u, isize, osize, pool, dt):
    """THNN's generateIntervals in the tensor's precision."""
    if osize == 1:
        return [isize - pool]
    alpha = dt(isize - pool) / dt(osize - 1)
    seq = [int((dt(i) + dt(u)) * alpha) - int(dt(u) * alpha) for i in range(osize - 1)]
    return seq + [isize - pool]


def frac_ref(x, samples, pools, osizes, dt):
    """Fractional max pooling over the trailing len(pools) axes (pools/osizes in storage
    order; the sample of axis a is nd-1-a), and the 1-based flat indices."""
    nd = len(pools)
    lead = x.shape[:-nd]
    isize = x.shape[-nd:]
    out = np.zeros(lead + tuple(osizes), dtype=dt)
    idx = np.zeros(lead + tuple(osizes), dtype=np.int64)
    for pl in np.ndindex(*lead):
        u = samples[pl]
        starts = [frac_starts(u[nd - 1 - a], isize[a], osizes[a], pools[a], dt) for a in range(nd)]
        for o in np.ndindex(*osizes):
            best, where = -np.inf, None
            for k in np.ndindex(*pools):
                pos = tuple(starts[a][o[a]] + k[a] for a in range(nd))
                if x[pl + pos] > best:
                    best, where = x[pl + pos], pos
            out[pl + o] = best
            idx[pl + o] = np.ravel_multi_index(where, isize) + 1
    return out, idx


@pytest.mark.parametrize("ctor,shape,pools,osizes", [
    ("nn.SpatialFractionalMaxPooling(2, 2, 3, 4)", (2, 2, 7, 6), (2, 2), (4, 3)),
    ("nn.SpatialFractionalMaxPooling(3, 2, 0.5, 0.4)", (2, 9, 11), (2, 3), (3, 5)),
    ("nn.VolumetricFractionalMaxPooling(2, 2, 3, 3, 2, 2)", (1, 2, 6, 5, 7), (3, 2, 2), (2, 2, 3)),
    ("nn.VolumetricFractionalMaxPooling(2, 2, 2, 0.5, 0.5, 0.5)", (2, 6, 7, 5), (2, 2, 2), (3, 3, 2)),
])
def test_fractional_max_pooling(lua, ctor, shape, pools, osizes):
    """Fixed samples (set by the test, fixPoolingRegions): outputs and indices as THNN's
    loops, in double and float; gradients by finite differences."""
    nd = len(pools)
    x = rnd(shape, 9)
    lead = (shape[0], shape[1]) if len(shape) == nd + 2 else (1, shape[0])
    samples = np.random.default_rng(10).uniform(0, 1, lead + (nd,))
    setup = "m:fixPoolingRegions(); m.randomSamples = s:clone()"
    for dt in (np.float64, np.float32):
        lua["s"] = samples.astype(dt)
        y = run(lua, ctor, x, setup, dt)
        want, idx = frac_ref(x.astype(dt).reshape(lead + shape[-nd:]), samples.astype(dt), pools, osizes, dt)
        np.testing.assert_array_equal(y, want.reshape(y.shape))
        np.testing.assert_array_equal(np.array(lua.eval("m.indices")), idx.reshape(y.shape))
        # fixed regions: a second forward keeps the samples
        lua.execute("m:forward(x)")
        np.testing.assert_array_equal(np.array(lua.eval("m.randomSamples")), samples.astype(dt))
    lua["s"] = samples
    check(lua, ctor, shape, params=(), setup=setup)


def test_fractional_pooling_draws_new_regions_unless_fixed(lua):
    lua.execute("torch.manualSeed(1); m = nn.SpatialFractionalMaxPooling(2, 2, 4, 4); x = torch.randn(1, 3, 9, 9)")
    lua.execute("m:forward(x); s1 = m.randomSamples:clone(); m:forward(x)")
    assert lua.eval("m.randomSamples:size(3) == 2 and (m.randomSamples - s1):abs():max() > 0")
    lua.execute("m:fixPoolingRegions(); s2 = m.randomSamples:clone(); m:forward(x)")
    assert lua.eval("(m.randomSamples - s2):abs():max() == 0")
    msg = lua_error(lua, "nn.SpatialFractionalMaxPooling(3, 3, 5, 5):forward(torch.randn(1, 6, 6))")
    assert "poolSizeW (3) too large" in msg
    msg = lua_error(lua, "nn.SpatialFractionalMaxPooling(1, 2, 3, 3)")
    assert "poolSizeW must be an integer >= 2" in msg
    msg = lua_error(lua, "nn.SpatialFractionalMaxPooling(2, 2, 2.5, 3)")
    assert "either output sizes (integers >= 1) or reduction ratios (in (0, 1))" in msg
    msg = lua_error(lua, "nn.VolumetricFractionalMaxPooling(2, 2, 2, 3, 3, 3):forward(torch.randn(4, 5, 5))")
    assert "4D or 5D (batch mode) tensor expected" in msg


def kmax_ref(x, k):
    seq = x.shape[-2]
    out = np.zeros(x.shape[:-2] + (k, x.shape[-1]))
    for lead in np.ndindex(*x.shape[:-2]):
        for f in range(x.shape[-1]):
            col = x[lead + (slice(None), f)]
            top = np.sort(np.argsort(-col, kind="stable")[:k])
            out[lead + (slice(None), f)] = col[top]
    return out


@pytest.mark.parametrize("args,shape,k", [("3", (6, 4), 3), ("2, 0.5", (2, 9, 3), 5), ("4, 0.1", (2, 5, 2), 4)])
def test_dynamic_k_max_pooling(lua, args, shape, k):
    ctor = f"nn.TemporalDynamicKMaxPooling({args})"
    x = rnd(shape, 11)
    y = both(lua, ctor, x, lambda x: kmax_ref(x, k))
    assert y.shape[-2] == k
    check(lua, ctor, shape, params=())
    msg = lua_error(lua, "nn.TemporalDynamicKMaxPooling(5):forward(torch.randn(4, 2))")
    assert "input sequence length (4) too small for desired k value (5)" in msg


def dilated_max_ref(x, k, d, pad, dil):
    """Max over dilated windows; padding never wins."""
    xp = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in pad], constant_values=-np.inf)
    osize = []
    for s, kk, dd, p, di in zip(x.shape[2:], k, d, pad, dil):
        o = (s + 2 * p - (di * (kk - 1) + 1)) // dd + 1
        if p and (o - 1) * dd >= s + p:
            o -= 1
        osize.append(o)
    out = np.zeros(x.shape[:2] + tuple(osize))
    for o in np.ndindex(*osize):
        taps = [xp[(slice(None), slice(None)) + tuple(o[a] * d[a] + t[a] * dil[a] for a in range(3))]
                for t in np.ndindex(*k)]
        out[(slice(None), slice(None)) + o] = np.max(taps, axis=0)
    return out


@pytest.mark.parametrize("args,shape", [
    ((2, 2, 2, 1, 1, 1, 1, 1, 0, 2, 1, 2), (2, 2, 6, 7, 6)),
    ((3, 2, 2, 2, 1, 2, 1, 0, 1, 1, 2, 1), (2, 7, 6, 6)),
    ((2, 3, 2, 2, 2, 2, 0, 0, 0, 1, 1, 1), (1, 1, 5, 6, 7)),
])
def test_volumetric_dilated_max_pooling(lua, args, shape):
    kT, kW, kH, dT, dW, dH, pT, pW, pH, lT, lW, lH = args
    ctor = "nn.VolumetricDilatedMaxPooling(%s)" % ", ".join(map(str, args))
    x = rnd(shape, 12)
    xb = x if x.ndim == 5 else x[None]

    def ref(_):
        y = dilated_max_ref(xb, (kT, kH, kW), (dT, dH, dW), (pT, pH, pW), (lT, lH, lW))
        return y if x.ndim == 5 else y[0]
    both(lua, ctor, x, ref)
    check(lua, ctor, shape, params=())
    assert lua.eval("torch.isTypeOf(m, 'nn.VolumetricMaxPooling')")


def test_volumetric_max_unpooling(lua, tmp_path):
    """The unpooling puts each value back where its maximum came from; the pooling's
    indices are Torch7's packed window taps (t | h << 8 | w << 16)."""
    lua.execute("p = nn.VolumetricMaxPooling(2, 3, 2, 2, 3, 2, 1, 1, 1); u = nn.VolumetricMaxUnpooling(p); "
                "m = nn.Sequential():add(p):add(u)")
    x = rnd((2, 3, 5, 6, 7), 13)
    for dt in (np.float64, np.float32):
        lua["x"] = x.astype(dt)
        if dt == np.float32:
            lua.execute("m:float()")
        y = np.array(lua.eval("m:forward(x)"))
        xp = np.pad(x.astype(dt), [(0, 0), (0, 0), (1, 1), (1, 1), (1, 1)], constant_values=-np.inf)
        pooled = np.array(lua.eval("p.output"))
        idx = np.array(lua.eval("p.indices"))
        want = np.zeros(x.shape, dtype=dt)
        where = np.zeros(pooled.shape + (5,), dtype=np.int64)   # where each maximum lies in x
        for n, c, t, h, w in np.ndindex(*pooled.shape):
            win = xp[n, c, 2 * t:2 * t + 2, 2 * h:2 * h + 2, 3 * w:3 * w + 3]
            mt, mh, mw = np.unravel_index(np.argmax(win), win.shape)
            assert pooled[n, c, t, h, w] == win.max()
            assert idx[n, c, t, h, w] == mt | (mh << 8) | (mw << 16)
            where[n, c, t, h, w] = (n, c, 2 * t + mt - 1, 2 * h + mh - 1, 3 * w + mw - 1)
            want[tuple(where[n, c, t, h, w])] = win.max()
        np.testing.assert_array_equal(y, want)
    lua.execute("m:double()")
    # any input of the pooled size goes to those places; its gradient is read from them
    lua["x"] = x
    lua.execute("p:forward(x)")
    z = rnd(pooled.shape, 14)
    g = rnd(x.shape, 15)
    lua["z"], lua["g"] = z, g
    gin = np.array(lua.eval("(function() u:forward(z); return u:backward(z, g) end)()"))
    out = np.array(lua.eval("u.output"))
    places = tuple(where.reshape(-1, 5).T)
    want = np.zeros(x.shape)
    want[places] = z.reshape(-1)
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(gin, g[places].reshape(z.shape))
    # a round trip keeps the pooling reference and its indices
    path = str(tmp_path / "unpool.t7")
    lua["path"] = path
    lua.execute("torch.save(path, nn.Sequential():add(p):add(u))")
    lua.execute("back = torch.load(path)")
    assert lua.eval("back.modules[2].pooling == back.modules[1]")
    np.testing.assert_array_equal(np.array(lua.eval("back.modules[2]:forward(z)")), out)
    np.testing.assert_array_equal(np.array(lua.eval("back:forward(x)")), np.array(lua.eval("u:forward(p:forward(x))")))
    # Torch7 of 2016 packed the taps into the bytes of a float (or double, or CUDA) tensor
    lua.execute("p:forward(x)")
    packed = np.array(lua.eval("p.indices"))
    for real in (packed.astype(np.int32).view(np.float32), packed.view(np.float64)):
        lua["real"] = real
        lua.execute("p.indices = real; u.indices = real; torch.save(path, nn.Sequential():add(p):add(u))")
        lua.execute("back = torch.load(path)")
        assert lua.eval("torch.type(back.modules[1].indices)") != "torch.LongTensor"
        np.testing.assert_array_equal(np.array(lua.eval("back.modules[2]:forward(z)")), out)
        np.testing.assert_array_equal(np.array(lua.eval("back.modules[1].indices")), packed)
    # indices made floating by a type conversion after the forward keep their values
    lua.execute("p:forward(x); p:float(); u:float(); zf = z:float()")
    assert lua.eval("torch.type(p.indices)") == "torch.FloatTensor"
    np.testing.assert_array_equal(np.array(lua.eval("u:forward(zf)")), out.astype(np.float32))
    lua.execute("p:double(); u:double()")
    msg = lua_error(lua, "nn.VolumetricMaxUnpooling(nn.VolumetricMaxPooling(2, 2, 2, 1, 1, 1))")
    assert "kernel size equals its stride" in msg
    msg = lua_error(lua, "nn.VolumetricMaxUnpooling(nn.SpatialMaxPooling(2, 2))")
    assert "nn.VolumetricMaxPooling" in msg


def lp_ref(x, p, width, stride, batch):
    xv = x if batch else x[None]
    f = xv.shape[1]
    n_out = (f - width) // stride + 1
    out = np.zeros((xv.shape[0], n_out) + xv.shape[2:])
    for o in range(n_out):
        out[:, o] = (xv[:, o * stride:o * stride + width] ** p).sum(axis=1) ** (1.0 / p)
    return out if batch else out[0]


@pytest.mark.parametrize("args,shape,positive", [
    ((3, 2, 2, "true"), (2, 7, 3), False),
    ((2, 1, 3, "false"), (5,), True),
    ((4, 3, 2, "false"), (10, 2, 3), False),
    ((2, 2, 1.5, "true"), (2, 6, 2, 2), True),
])
def test_feature_lp_pooling(lua, args, shape, positive):
    width, stride, power, batch = args
    ctor = "nn.FeatureLPPooling(%d, %d, %s, %s)" % args
    x = rnd(shape, 16)
    if positive:
        x = np.abs(x) + 0.1
    both(lua, ctor, x, lambda x: lp_ref(x, power, width, stride, batch == "true"))
    check(lua, ctor, shape, params=(), x=x)
    msg = lua_error(lua, "nn.FeatureLPPooling(17, 1, 2)")
    assert "width must be within 2 to 16" in msg
    msg = lua_error(lua, "nn.FeatureLPPooling(4, 1, 2):forward(torch.randn(3))")
    assert "feature dimension (3) must be >= width (4)" in msg


# --- padding and up-sampling ------------------------------------------------------------

@pytest.mark.parametrize("pads,shape", [
    ((1, 2, 0, 1, 2, 1), (2, 2, 3, 4, 5)),
    ((2,), (3, 2, 3, 4)),
    ((1, -1, 2, 0, -1, 3), (1, 2, 4, 3, 5)),
])
def test_volumetric_replication_padding(lua, pads, shape):
    ctor = "nn.VolumetricReplicationPadding(%s)" % ", ".join(map(str, pads))
    l, r, t, b, f, k = (pads * 6)[:6] if len(pads) == 1 else pads
    x = rnd(shape, 17)

    def ref(x):
        cropped = x[..., max(0, -f):x.shape[-3] - max(0, -k), max(0, -t):x.shape[-2] - max(0, -b),
                    max(0, -l):x.shape[-1] - max(0, -r)]
        widths = [(0, 0)] * (x.ndim - 3) + [(max(0, f), max(0, k)), (max(0, t), max(0, b)), (max(0, l), max(0, r))]
        return np.pad(cropped, widths, mode="edge")
    both(lua, ctor, x, ref)
    check(lua, ctor, shape, params=())


def bilinear_axis(n1, n2):
    """THNN's coordinates along one axis (float32 arithmetic), as an (n2, n1) matrix."""
    m = np.zeros((n2, n1))
    r = np.float32(n1 - 1) / np.float32(n2 - 1) if n2 > 1 else np.float32(0)
    for i in range(n2):
        pos = np.float32(r * np.float32(i))
        i0 = int(pos)
        i1 = i0 + (1 if i0 < n1 - 1 else 0)
        lam = float(pos) - i0
        m[i, i0] += 1 - lam
        m[i, i1] += lam
    return m


@pytest.mark.parametrize("ctor,shape,out_shape", [
    ("nn.UpSampling(2)", (2, 2, 3, 4), (2, 2, 6, 8)),
    ("nn.UpSampling(3)", (1, 2, 2, 3, 2), (1, 2, 6, 9, 6)),
    ("nn.UpSampling({oheight = 5, owidth = 7}, 'bilinear')", (2, 1, 3, 4), (2, 1, 5, 7)),
    ("nn.UpSampling(2, 'linear')", (1, 2, 3, 3), (1, 2, 6, 6)),
    ("nn.UpSampling({odepth = 3, oheight = 5, owidth = 4}, 'trilinear')", (1, 2, 2, 3, 4), (1, 2, 3, 5, 4)),
])
def test_upsampling(lua, ctor, shape, out_shape):
    x = rnd(shape, 18)

    def ref(x):
        nd = x.ndim - 2
        y = x
        for a in range(nd):
            axis = 2 + a
            if "linear" in ctor:
                m = bilinear_axis(x.shape[axis], out_shape[axis])
                y = np.moveaxis(np.tensordot(y, m, axes=([axis], [1])), -1, axis)
            else:
                y = np.repeat(y, out_shape[axis] // x.shape[axis], axis=axis)
        return y
    y = both(lua, ctor, x, ref, tol=1e-6)
    assert y.shape == out_shape
    check(lua, ctor, shape, params=())
    msg = lua_error(lua, f"m = {ctor}; m:forward(torch.randn(2, 3, 4))")
    assert "only supports 4D or 5D tensors" in msg
    if "odepth" not in ctor and "{" in ctor:
        msg = lua_error(lua, f"m = {ctor}; m:forward(torch.randn(1, 1, 2, 2, 2))")
        assert "no output depth" in msg


# --- criterions -------------------------------------------------------------------------

def log_softmax(x, axis=1):
    z = x - x.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def nll_ref(logp, t, w, size_average=True):
    n, c = logp.shape[:2]
    wt = (np.ones(c) if w is None else w)[t - 1]
    picked = np.take_along_axis(logp, (t - 1)[:, None], axis=1)[:, 0]
    loss = -(picked * wt).sum()
    return loss / wt.sum() if size_average else loss


@pytest.mark.parametrize("weights,size_average", [(None, True), ([1.0, 2.0, 0.5], True), ([0.3, 1.0, 2.0], False)])
def test_spatial_class_nll_criterion(lua, weights, size_average):
    x = rnd((2, 3, 4, 5), 19)
    t = np.random.default_rng(20).integers(1, 4, (2, 4, 5))
    w = "nil" if weights is None else "torch.Tensor({%s})" % ", ".join(map(str, weights))
    lua.execute(f"c = nn.SpatialClassNLLCriterion({w}, {str(size_average).lower()})")
    lua["x"], lua["t"] = x, t
    want = nll_ref(x, t, None if weights is None else np.array(weights), size_average)
    assert abs(lua.eval("(c:forward(x, t))") - want) < 1e-12
    gin = np.array(lua.eval("c:backward(x, t)"))
    wt = (np.ones(3) if weights is None else np.array(weights))[t - 1]
    g = np.zeros(x.shape)
    np.put_along_axis(g, (t - 1)[:, None], -(wt / (wt.sum() if size_average else 1))[:, None], axis=1)
    np.testing.assert_allclose(gin, g, atol=1e-15)
    lua["xf"] = x.astype(np.float32)
    assert abs(lua.eval("(c:float():forward(xf, t))") - want) < 1e-5
    msg = lua_error(lua, "c = nn.SpatialClassNLLCriterion(); c:forward(torch.randn(1, 3, 2, 2), torch.LongTensor(1, 2, 2):fill(4))")
    assert "target 4 out of range [1, 3]" in msg
    msg = lua_error(lua, "nn.SpatialClassNLLCriterion():forward(torch.randn(1, 3, 2, 2), torch.LongTensor(1, 2, 3):fill(1))")
    assert "size mismatch" in msg


def test_cudnn_cross_entropy_criterions(lua, tmp_path):
    """cudnn.SpatialCrossEntropyCriterion = log-softmax over the classes + spatial NLL;
    the volumetric one folds T and H; gradients by finite differences; round trip."""
    x = rnd((2, 3, 4, 5), 21)
    t = np.random.default_rng(22).integers(1, 4, (2, 4, 5))
    lua["x"], lua["t"] = x, t
    lua.execute("c = cudnn.SpatialCrossEntropyCriterion(torch.Tensor({1, 2, 0.5}))")
    want = nll_ref(log_softmax(x), t, np.array([1, 2, 0.5]))
    assert abs(lua.eval("(c:forward(x, t))") - want) < 1e-12
    err, scale = lua.eval("gradcheck.criterion(c, x, t)")
    assert err < 1e-7 and scale > 1e-3
    lua.execute("c.sizeAverage = false")
    assert abs(lua.eval("(c:forward(x, t))") - want * np.array([1, 2, 0.5])[t - 1].sum()) < 1e-10
    x5 = rnd((2, 3, 2, 3, 4), 23)
    t5 = np.random.default_rng(24).integers(1, 4, (2, 2, 3, 4))
    lua["x5"], lua["t5"] = x5, t5
    lua.execute("v = cudnn.VolumetricCrossEntropyCriterion()")
    want5 = nll_ref(log_softmax(x5).reshape(2, 3, -1), t5.reshape(2, -1), None)
    assert abs(lua.eval("v:forward(x5, t5)") - want5) < 1e-12
    err, scale = lua.eval("gradcheck.criterion(v, x5, t5)")
    assert err < 1e-7 and scale > 1e-3
    assert lua.eval("v:backward(x5, t5):dim()") == 5
    lua["path"] = str(tmp_path / "c.t7")
    lua.execute("torch.save(path, v); back = torch.load(path)")
    assert abs(lua.eval("back:forward(x5, t5)") - want5) < 1e-12
    msg = lua_error(lua, "cudnn.SpatialCrossEntropyCriterion():forward(torch.randn(3, 4, 5), torch.ones(4, 5))")
    assert "mini-batch supported only" in msg


# --- cudnn.torch's bases ----------------------------------------------------------------

def test_cudnn_base_classes_run_by_mode(lua, tmp_path):
    """cudnn._Pooling/_Pooling3D/_Pointwise (cudnn.torch's bases): a subclass sets mode, and
    the module runs what that mode names, as cudnn's own classes do."""
    x = rnd((2, 2, 7, 6), 25)
    lua["x"] = x
    lua.execute("""
        local P = torch.class('nnBtest.MaxPool', 'cudnn._Pooling')
        function P:updateOutput(input) self.mode = 'CUDNN_POOLING_MAX'; return cudnn._Pooling.updateOutput(self, input) end
        m = nnBtest.MaxPool(3, 3, 2, 2, 1, 1)
        ref = cudnn.SpatialMaxPooling(3, 3, 2, 2, 1, 1)
    """)
    y = np.array(lua.eval("m:forward(x)"))
    xp = np.pad(x, [(0, 0), (0, 0), (1, 1), (1, 1)], constant_values=-np.inf)
    want = np.array([[[[xp[n, c, 2 * i:2 * i + 3, 2 * j:2 * j + 3].max() for j in range(3)] for i in range(4)]
                      for c in range(2)] for n in range(2)])
    np.testing.assert_array_equal(y, want)
    g = rnd(y.shape, 30)
    lua["g"] = g
    np.testing.assert_array_equal(np.array(lua.eval("m:backward(x, g)")),
                                  np.array(lua.eval("(function() ref:forward(x); return ref:backward(x, g) end)()")))
    assert lua.eval("torch.isTypeOf(m, 'cudnn._Pooling')")
    # average, padding excluded from the count
    lua.execute("a = cudnn._Pooling(2, 2, 2, 2, 1, 1); a.mode = 'CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING'")
    xz = np.pad(x, [(0, 0), (0, 0), (1, 1), (1, 1)])
    ones = np.pad(np.ones(x.shape), [(0, 0), (0, 0), (1, 1), (1, 1)])
    ya = np.array(lua.eval("a:forward(x)"))
    for i, j in np.ndindex(*ya.shape[2:]):
        s = xz[:, :, 2 * i:2 * i + 2, 2 * j:2 * j + 2].sum(axis=(2, 3))
        cnt = ones[:, :, 2 * i:2 * i + 2, 2 * j:2 * j + 2].sum(axis=(2, 3))
        np.testing.assert_allclose(ya[:, :, i, j], s / cnt, atol=1e-12)
    # 3-D max pooling and the pointwise modes
    lua.execute("v = cudnn._Pooling3D(2, 2, 2); v.mode = 'CUDNN_POOLING_MAX'")
    x3 = rnd((1, 2, 4, 4, 6), 26)
    lua["x3"] = x3
    np.testing.assert_array_equal(np.array(lua.eval("v:forward(x3)")),
                                  x3.reshape(1, 2, 2, 2, 2, 2, 3, 2).max(axis=(3, 5, 7)))
    for mode, f in [("RELU", lambda v: np.maximum(v, 0)), ("SIGMOID", lambda v: 1 / (1 + np.exp(-v))),
                    ("TANH", np.tanh), ("CLIPPED_RELU", lambda v: np.clip(v, 0, 0.5))]:
        lua.execute(f"q = cudnn._Pointwise(); q.mode = 'CUDNN_ACTIVATION_{mode}'; q.ceiling = 0.5")
        np.testing.assert_allclose(np.array(lua.eval("q:forward(x)")), f(x), atol=1e-12)
        err, scale = lua.eval("gradcheck.module(q, x)")
        assert err < 1e-6 and scale > 1e-3
    lua["path"] = str(tmp_path / "q.t7")
    lua.execute("torch.save(path, q); back = torch.load(path)")
    np.testing.assert_allclose(np.array(lua.eval("back:forward(x)")), np.clip(x, 0, 0.5))
    msg = lua_error(lua, "cudnn._Pointwise():forward(torch.randn(3))")
    assert "mode is not set" in msg and "cudnn._Pointwise" in msg
    msg = lua_error(lua, "cudnn._Pooling(2, 2):forward(torch.randn(1, 4, 4))")
    assert "mode is not set" in msg
    msg = lua_error(lua, "a = cudnn._Pooling(2, 2, 1, 1, 0, 2); a.mode = 'CUDNN_POOLING_MAX'; a:forward(torch.randn(1, 4, 4))")
    assert "padH (2) must be smaller than the kernel size kH (2)" in msg


# --- nn.SpatialMaxUnpooling after a round trip --------------------------------------------

def unpool_ref(x, k):
    """(pooled, unpooled) of a k x k max pooling with stride k (no padding)."""
    n, c, h, w = x.shape
    pooled = np.zeros((n, c, h // k, w // k))
    unpooled = np.zeros(x.shape)
    for b, ch, i, j in np.ndindex(*pooled.shape):
        win = x[b, ch, i * k:i * k + k, j * k:j * k + k]
        a, e = np.unravel_index(np.argmax(win), win.shape)
        pooled[b, ch, i, j] = win[a, e]
        unpooled[b, ch, i * k + a, j * k + e] = win[a, e]
    return pooled, unpooled


@pytest.mark.parametrize("index_type", ["torch.LongTensor", "torch.DoubleTensor", "torch.FloatTensor",
                                        "torch.CudaTensor"])
def test_spatial_max_unpooling_after_a_round_trip(lua, tmp_path, index_type):
    """A model saved after its forward (Torch7 files of 2016 keep the indices in a tensor
    of the module's floating type, GPU ones in a CudaTensor) is read back: the unpooling
    still finds its pooling (the same object) and the saved indices, with no new forward
    of the pooling; a new forward recomputes them."""
    x = rnd((2, 3, 6, 4), 27)
    pooled, unpooled = unpool_ref(x, 2)
    lua["x"], lua["path"] = x, str(tmp_path / "unpool.t7")
    lua.execute(f"""p = nn.SpatialMaxPooling(2, 2, 2, 2); u = nn.SpatialMaxUnpooling(p)
        m = nn.Sequential():add(p):add(u); m:forward(x)
        p.indices = p.indices:type('{index_type}'); u.indices = p.indices
        torch.save(path, m); back = torch.load(path)""")
    assert lua.eval("back.modules[2].pooling == back.modules[1]")
    np.testing.assert_array_equal(np.array(lua.eval("back.modules[1].output")), pooled)
    np.testing.assert_array_equal(np.array(lua.eval("back.modules[2]:forward(back.modules[1].output)")), unpooled)
    g = rnd(x.shape, 28)
    lua["g"] = g
    gin = np.array(lua.eval("back.modules[2]:backward(back.modules[1].output, g)"))
    np.testing.assert_array_equal(gin, np.where(unpooled != 0, g, 0).reshape(2, 3, 3, 2, 2, 2)
                                  .sum(axis=(3, 5)))
    x2 = rnd((2, 3, 6, 4), 29)
    lua["x2"] = x2
    np.testing.assert_array_equal(np.array(lua.eval("back:forward(x2)")), unpool_ref(x2, 2)[1])
    # after a type conversion of the model (indices floating, as Torch7's type() makes them)
    lua.execute("back:float()")
    assert lua.eval("torch.type(back.modules[1].indices)") == "torch.FloatTensor"
    np.testing.assert_array_equal(np.array(lua.eval("back.modules[2]:forward(back.modules[1].output)")),
                                  unpool_ref(x2, 2)[1].astype(np.float32))


# --- the saved files' fields ----------------------------------------------------------------

@pytest.mark.parametrize("ctor", [
    "nn.SpatialConvolutionLocal(2, 3, 5, 4, 3, 2)", "nn.SpatialFullConvolutionMap(nn.tables.full(2, 2), 2, 2)",
    "nn.SpatialDepthWiseConvolution(2, 2, 3, 3)", "nn.SpatialFractionalMaxPooling(2, 2, 0.5, 0.5)",
    "nn.VolumetricFractionalMaxPooling(2, 2, 2, 3, 3, 3)", "nn.TemporalDynamicKMaxPooling(2)",
    "nn.TemporalRowConvolution(3, 2)", "nn.UpSampling(2)", "nn.VolumetricDilatedMaxPooling(2, 2, 2)",
    "nn.VolumetricReplicationPadding(1)", "nn.FeatureLPPooling(2, 1, 2)", "cudnn.TemporalConvolution(2, 3, 2)",
    "nn.VolumetricMaxUnpooling(nn.VolumetricMaxPooling(2, 2, 2))",
])
def test_fields_that_do_not_fit_are_refused_at_load(lua, tmp_path, ctor):
    """Each class declares its fields: a file whose first numeric field (or whose pooling
    module) is a string is refused with T7FormatError naming the class and the field."""
    lua["path"] = str(tmp_path / "bad.t7")
    name = lua.eval(f"""(function() local m = {ctor}
        local keys = {{}}
        for k, v in pairs(m) do if type(v) == 'number' or k == 'pooling' then keys[#keys + 1] = k end end
        table.sort(keys); m[keys[1]] = 'x'; torch.save(path, m); return keys[1] end)()""")
    with pytest.raises(st.T7FormatError) as e:
        lua.execute("torch.load(path)")
    assert ctor.split("(")[0] + "." + name in str(e.value)
