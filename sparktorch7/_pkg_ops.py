"""NumPy kernels behind modules of the Torch7 packages sparktorch7 ships (inn, nnx, stn).

Called from Lua as ``nn.kernels.<name>(out, ...)`` (bound by ``lua/nn/kernels.lua``); each
kernel writes into ``out``. The Lua modules check the arguments first.
"""
from __future__ import annotations

import math

import numpy as np


def _cround(x):
    """C's round(): halves away from zero."""
    return int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


def roi_pooling(out, data, rois, W, H, scale, v2, argmax=None):
    """inn.ROIPooling: out (R, C, H, W) from data (N, C, h, w) and rois (R, 5), 1-based
    image index and corners. v2 rounds bin edges and ends the region one pixel earlier;
    v1 floors bin starts and ceils bin ends (inn's ROIPoolForward / ROIPoolForwardV2).
    argmax (R, C, H, W), when given, receives each maximum's place in its image plane
    (row * w + column, 0-based; -1 for an empty bin), what backward routes gradients by."""
    height, width = data.shape[2], data.shape[3]
    for n in range(rois.shape[0]):
        b = int(rois[n, 0]) - 1
        sw = _cround((rois[n, 1] - 1) * scale)
        sh = _cround((rois[n, 2] - 1) * scale)
        ew = _cround((rois[n, 3] - 1) * scale) - (1 if v2 else 0)
        eh = _cround((rois[n, 4] - 1) * scale) - (1 if v2 else 0)
        rw = max(ew - sw + 1, 1)
        rh = max(eh - sh + 1, 1)
        bh = np.float32(rh) / np.float32(H)
        bw = np.float32(rw) / np.float32(W)
        for ph in range(H):
            if v2:
                hs, he = _cround(ph * bh), _cround((ph + 1) * bh)
            else:
                hs, he = int(math.floor(ph * bh)), int(math.ceil((ph + 1) * bh))
            hs = min(max(hs + sh, 0), height)
            he = min(max(he + sh, 0), height)
            for pw in range(W):
                if v2:
                    ws, we = _cround(pw * bw), _cround((pw + 1) * bw)
                else:
                    ws, we = int(math.floor(pw * bw)), int(math.ceil((pw + 1) * bw))
                ws = min(max(ws + sw, 0), width)
                we = min(max(we + sw, 0), width)
                if he <= hs or we <= ws:
                    out[n, :, ph, pw] = 0
                    if argmax is not None:
                        argmax[n, :, ph, pw] = -1
                elif argmax is None:
                    out[n, :, ph, pw] = data[b, :, hs:he, ws:we].max(axis=(1, 2))
                else:
                    region = data[b, :, hs:he, ws:we].reshape(data.shape[1], -1)
                    k = region.argmax(axis=1)
                    out[n, :, ph, pw] = region[np.arange(region.shape[0]), k]
                    argmax[n, :, ph, pw] = (hs + k // (we - ws)) * width + ws + k % (we - ws)


def roi_pooling_grad(gdata, gout, rois, argmax):
    """The gradient of roi_pooling: each bin's gradient added at its maximum's place in the
    image its roi reads; gdata (N, C, h, w) is overwritten."""
    gdata[...] = 0
    N, C = gdata.shape[0], gdata.shape[1]
    flat = gdata.reshape(N, C, -1)
    for n in range(rois.shape[0]):
        b = int(rois[n, 0]) - 1
        idx = argmax[n].reshape(C, -1).astype(np.int64)
        g = gout[n].reshape(C, -1)
        keep = idx >= 0
        rows = np.broadcast_to(np.arange(C)[:, None], idx.shape)
        np.add.at(flat[b], (rows[keep], idx[keep]), g[keep])
    if not np.shares_memory(flat, gdata):
        gdata[...] = flat.reshape(gdata.shape)


# ----------------------------------------------------------------------------
# nnx resampling; images as 4-D views (A, H, W, B): planes A and B around the two
# spatial axes, as nnx's C code sees them
# ----------------------------------------------------------------------------

def _ratio(i, o):
    # nnx computes (float)(i - 1) / (o - 1); one output row or column reads the first
    return np.float32(0.0) if o == 1 else np.float32(i - 1) / np.float32(o - 1)


def _bilinear_taps(iH, iW, oH, oW, dtype):
    # resample_bilinear's four source rows/columns and their weights
    iy = _ratio(iH, oH) * np.arange(oH, dtype=np.float32)
    ix = _ratio(iW, oW) * np.arange(oW, dtype=np.float32)
    y0 = np.floor(iy).astype(np.int64)
    x0 = np.floor(ix).astype(np.int64)
    y1 = np.minimum(y0 + 1, iH - 1)
    x1 = np.minimum(x0 + 1, iW - 1)
    dy = (iy - y0.astype(np.float32))[:, None]
    dx = (ix - x0.astype(np.float32))[None, :]
    one = np.float32(1)
    weights = [((one - dx) * (one - dy)).astype(dtype), (dx * (one - dy)).astype(dtype),
               ((one - dx) * dy).astype(dtype), (dx * dy).astype(dtype)]
    return (y0, y1, x0, x1), weights


def resample_bilinear(out, x):
    """nnx SpatialReSampling(Ex, 'bilinear'): corner-aligned bilinear interpolation with
    float32 positions and weights as in nnx; out (A, oH, oW, B), x (A, iH, iW, B)."""
    (y0, y1, x0, x1), w = _bilinear_taps(x.shape[1], x.shape[2], out.shape[1], out.shape[2], out.dtype)
    w_nw, w_ne, w_sw, w_se = (wt[None, :, :, None] for wt in w)
    r0, r1 = x[:, y0], x[:, y1]
    res = r0[:, :, x0] * w_nw + r0[:, :, x1] * w_ne + r1[:, :, x0] * w_sw + r1[:, :, x1] * w_se
    np.copyto(out, res)


def resample_average(out, x, dH, dW):
    """Averages of dH x dW blocks (nnx SpatialDownSampling, SpatialReSamplingEx 'average')."""
    oH, oW = out.shape[1], out.shape[2]
    blocks = x[:, :oH * dH, :oW * dW].reshape(x.shape[0], oH, dH, oW, dW, x.shape[3])
    s = blocks.sum(axis=(2, 4), dtype=out.dtype)
    np.multiply(s, out.dtype.type(1.0 / (dH * dW)), out=out)


def resample_pick(out, x, dH, dW, up):
    """Nearest neighbour: up, out[y, x] = x[y // dH, x // dW]; down, x[y * dH, x * dW]."""
    oH, oW = out.shape[1], out.shape[2]
    if up:
        iy, ix = np.arange(oH) // dH, np.arange(oW) // dW
    else:
        iy, ix = np.arange(oH) * dH, np.arange(oW) * dW
    np.copyto(out, x[:, iy][:, :, ix])


def resample_bilinear_grad(gin, gout):
    """The adjoint of resample_bilinear: each output's gradient goes to its four source
    pixels with the forward's weights; gin (A, iH, iW, B) is overwritten."""
    iH, iW = gin.shape[1], gin.shape[2]
    oH, oW = gout.shape[1], gout.shape[2]
    (y0, y1, x0, x1), w = _bilinear_taps(iH, iW, oH, oW, gin.dtype)
    A, B = gin.shape[0], gin.shape[3]
    flat = np.zeros((A, iH * iW, B), dtype=gin.dtype)
    for ys, xs, wt in ((y0[:, None], x0[None, :], w[0]), (y0[:, None], x1[None, :], w[1]),
                       (y1[:, None], x0[None, :], w[2]), (y1[:, None], x1[None, :], w[3])):
        idx = (ys * iW + xs).ravel()          # the tap's source pixel of each output
        np.add.at(flat, (slice(None), idx), (gout * wt[None, :, :, None]).reshape(A, oH * oW, B))
    np.copyto(gin, flat.reshape(gin.shape))


def resample_average_grad(gin, gout, dH, dW):
    """The adjoint of resample_average: each block's gradient spread evenly over its dH x dW
    inputs; inputs past the last whole block get zero."""
    oH, oW = gout.shape[1], gout.shape[2]
    gin[...] = 0
    share = gout * gout.dtype.type(1.0 / (dH * dW))
    view = gin[:, :oH * dH, :oW * dW].reshape(gin.shape[0], oH, dH, oW, dW, gin.shape[3])
    view[...] = share[:, :, None, :, None, :]


def resample_pick_grad(gin, gout, dH, dW, up):
    """The adjoint of resample_pick: up, each input sums the outputs that copied it; down,
    each picked input gets its output's gradient and the others zero."""
    oH, oW = gout.shape[1], gout.shape[2]
    gin[...] = 0
    if up:
        iy, ix = np.arange(oH) // dH, np.arange(oW) // dW
        rows = np.zeros((gin.shape[0], gin.shape[1], oW, gin.shape[3]), dtype=gin.dtype)
        np.add.at(rows, (slice(None), iy), gout)
        np.add.at(gin, (slice(None), slice(None), ix), rows)
    else:
        iy, ix = np.arange(oH) * dH, np.arange(oW) * dW
        gin[:, iy[:, None], ix[None, :]] = gout


def max_sampling(out, indices, x):
    """nnx SpatialMaxSampling: out (C, oH, oW) the maxima of x (C, H, W) over windows whose
    edges are truncated multiples of dH = H / oH, dW = W / oW (single precision, as nnx);
    indices (2, C, oH, oW) the 1-based row, then column, of each max within its window
    (the first maximum in row-major order)."""
    C, H, W = x.shape
    oH, oW = out.shape[1], out.shape[2]
    dH, dW = np.float32(H) / np.float32(oH), np.float32(W) / np.float32(oW)
    for i in range(oH):
        ys = int(np.float32(i) * dH)
        ye = max(ys + 1, int(np.float32(i + 1) * dH))
        for j in range(oW):
            xs = int(np.float32(j) * dW)
            xe = max(xs + 1, int(np.float32(j + 1) * dW))
            win = x[:, ys:ye, xs:xe].reshape(C, -1)
            k = win.argmax(axis=1)
            out[:, i, j] = win[np.arange(C), k]
            indices[0, :, i, j] = k // (xe - xs) + 1
            indices[1, :, i, j] = k % (xe - xs) + 1


def stochastic_pool(out, idx, x, kW, kH, dW, dH, train):
    """inn SpatialStochasticPooling on x (N, C, H, W): out (N, C, oH, oW), windows clipped at
    the edge. Evaluation: sum(x^2) / (FLT_MIN + sum(x)). Training: idx holds u ~ U(0, 1) per
    output on entry; the first pixel (row-major) where the running sum reaches u * sum is
    taken, and idx then holds its 0-based offset into x, as inn's CUDA kernel computes it."""
    N, C, H, W = x.shape
    oH, oW = out.shape[2], out.shape[3]
    dt = x.dtype.type
    base = (np.arange(N)[:, None] * C + np.arange(C)[None, :]) * H       # (N, C)
    for ph in range(oH):
        hs, he = ph * dH, min(ph * dH + kH, H)
        for pw in range(oW):
            ws, we = pw * dW, min(pw * dW + kW, W)
            win = x[:, :, hs:he, ws:we].reshape(N, C, -1)
            if win.shape[2] == 0:
                out[:, :, ph, pw] = 0
                continue
            if not train:
                # running sums from FLT_MIN, in the input's precision, as the kernel adds
                s = np.cumsum(win, axis=2, dtype=dt)[:, :, -1] + dt(np.finfo(np.float32).tiny)
                out[:, :, ph, pw] = np.cumsum(win * win, axis=2, dtype=dt)[:, :, -1] / s
                continue
            csum = np.cumsum(win, axis=2, dtype=dt)
            thres = idx[:, :, ph, pw] * csum[:, :, -1]
            hit = csum >= thres[:, :, None]
            k = hit.argmax(axis=2)
            found = hit.any(axis=2)
            kw = we - ws
            r, q = hs + k // kw, ws + k % kw
            val = np.take_along_axis(win, k[:, :, None], axis=2)[:, :, 0]
            out[:, :, ph, pw] = np.where(found, val, 0)
            idx[:, :, ph, pw] = np.where(found, (base + r) * W + q, -1)


def _exp_minus_approx(x):
    """TH's THExpMinusApprox: exp(-x) for x >= 0 by (1 + x/8 + ... )^-8, 0 from 13 on."""
    y = 1.0 + x * (0.125 + x * (0.0078125 + x * (0.00032552083 + x * 1.0172526e-5)))
    y = y * y
    y = y * y
    y = y * y
    return np.where(x < 13.0, 1.0 / y, 0.0)


def soft_max_tree(out, x, target, weight, bias, child_parent, parent_children, root_id):
    """nnx SoftMaxTree: out[i] = the sum, along the path from target[i] up to the root, of
    the log-softmax (over a node's children, W x + b of their rows) at the child taken.
    child_parent (maxChildId, 2): parentId, child index; parent_children (maxParentId, 2):
    first row, number of children; all 1-based. Linear maps in the tensors' precision, the
    log-sum with TH's approximate exp(-x) in double, as nnx's C code."""
    for i, path in _soft_max_tree_paths(x, target, weight, bias, child_parent, parent_children, root_id):
        out[i] = sum(float(logsoft[k]) for _, _, _, k, logsoft in path)


def spatial_matching(out, x1, x2, full):
    """nnx SpatialMatching: out (H1, W1, maxh, maxw), out[y, x, dy, dx] the squared distance
    over channels between x1[:, y, x] and x2[:, y + dy - oy, x + dx - ox] (oy = ox = 0; with
    full, the window is centred: oy = ceil(maxh / 2) - 1, ox alike, and places outside x2 stay
    1e30), summed channel by channel in the tensors' precision."""
    C, H1, W1 = x1.shape
    H2, W2 = x2.shape[1], x2.shape[2]
    maxh, maxw = out.shape[2], out.shape[3]
    dt = x1.dtype.type
    out.fill(dt(1e30))
    oy = int(math.ceil(maxh / 2)) - 1 if full else 0
    ox = int(math.ceil(maxw / 2)) - 1 if full else 0
    for dy in range(maxh):
        ys = np.arange(H1) + dy - oy
        vy = (ys >= 0) & (ys < H2)
        for dx in range(maxw):
            xs = np.arange(W1) + dx - ox
            vx = (xs >= 0) & (xs < W2)
            if not vy.any() or not vx.any():
                continue
            a = x1[:, vy][:, :, vx]
            b = x2[:, ys[vy]][:, :, xs[vx]]
            d = np.zeros(a.shape[1:], dtype=dt)
            for k in range(C):
                d += (a[k] - b[k]) ** 2
            out[np.ix_(np.nonzero(vy)[0], np.nonzero(vx)[0], [dy], [dx])] = d[:, :, None, None]


def bilinear_sampler_bhwd(out, images, grids):
    """stnbhwd's BilinearSamplerBHWD: images (B, H, W, C), grids (B, oH, oW, 2) of normalised
    (y, x) in [-1, 1] (the corners' centres); out (B, oH, oW, C) the bilinear interpolation,
    a corner outside the image counting 0. Positions and weights in the tensors' precision
    as the C code computes them."""
    B, H, W, C = images.shape
    dt = images.dtype.type
    yf, xf = grids[..., 0].astype(dt), grids[..., 1].astype(dt)
    xc = ((xf + dt(1)) * dt(W - 1) / dt(2)).astype(dt)
    yc = ((yf + dt(1)) * dt(H - 1) / dt(2)).astype(dt)
    x0, y0 = np.floor(xc).astype(np.int64), np.floor(yc).astype(np.int64)
    wx = (dt(1) - (xc - x0.astype(dt))).astype(dt)[..., None]
    wy = (dt(1) - (yc - y0.astype(dt))).astype(dt)[..., None]
    b = np.arange(B)[:, None, None]

    def corner(yy, xx):
        inside = (xx >= 0) & (xx <= W - 1) & (yy >= 0) & (yy <= H - 1)
        v = images[b, np.clip(yy, 0, H - 1), np.clip(xx, 0, W - 1)]
        return np.where(inside[..., None], v, dt(0))

    one = dt(1)
    res = (wx * wy * corner(y0, x0) + (one - wx) * wy * corner(y0, x0 + 1)
           + wx * (one - wy) * corner(y0 + 1, x0) + (one - wx) * (one - wy) * corner(y0 + 1, x0 + 1))
    out[...] = res.astype(dt)


def max_sampling_grad(grad_in, indices, grad_out):
    """nnx SpatialMaxSampling's backward: grad_in (C, H, W) zero but for each output's
    gradient added at its window's maximum (indices from the forward)."""
    C, H, W = grad_in.shape
    oH, oW = grad_out.shape[1], grad_out.shape[2]
    dH, dW = np.float32(H) / np.float32(oH), np.float32(W) / np.float32(oW)
    grad_in[...] = 0
    ys = np.array([int(np.float32(i) * dH) for i in range(oH)])
    xs = np.array([int(np.float32(j) * dW) for j in range(oW)])
    rows = indices[0].astype(np.int64) - 1 + ys[None, :, None]
    cols = indices[1].astype(np.int64) - 1 + xs[None, None, :]
    planes = np.broadcast_to(np.arange(C)[:, None, None], rows.shape)
    np.add.at(grad_in, (planes, rows, cols), grad_out)


def bilinear_sampler_bhwd_grad(gimages, ggrids, images, grids, gout):
    """The backward of bilinear_sampler_bhwd (stnbhwd's C code): gimages (B, H, W, C) gets
    each output gradient spread over its four corners with the forward's weights (corners
    outside the image get nothing); ggrids (B, oH, oW, 2) the derivative along y and x,
    scaled by (H - 1) / 2 and (W - 1) / 2 from normalised coordinates. Both are
    overwritten; arithmetic in the tensors' precision."""
    B, H, W, C = images.shape
    dt = images.dtype.type
    yf, xf = grids[..., 0].astype(dt), grids[..., 1].astype(dt)
    xc = ((xf + dt(1)) * dt(W - 1) / dt(2)).astype(dt)
    yc = ((yf + dt(1)) * dt(H - 1) / dt(2)).astype(dt)
    x0, y0 = np.floor(xc).astype(np.int64), np.floor(yc).astype(np.int64)
    wx = (dt(1) - (xc - x0.astype(dt))).astype(dt)
    wy = (dt(1) - (yc - y0.astype(dt))).astype(dt)
    b = np.broadcast_to(np.arange(B)[:, None, None], x0.shape)
    one = dt(1)
    flat = np.zeros((B * H * W, C), dtype=images.dtype)
    dots = {}
    for name, yy, xx, w in (('tl', y0, x0, wx * wy), ('tr', y0, x0 + 1, (one - wx) * wy),
                            ('bl', y0 + 1, x0, wx * (one - wy)), ('br', y0 + 1, x0 + 1, (one - wx) * (one - wy))):
        inside = (xx >= 0) & (xx <= W - 1) & (yy >= 0) & (yy <= H - 1)
        v = images[b, np.clip(yy, 0, H - 1), np.clip(xx, 0, W - 1)]
        dots[name] = np.where(inside, (v * gout).sum(axis=-1, dtype=images.dtype), dt(0))
        idx = ((b * H + yy) * W + xx)[inside]
        np.add.at(flat, idx, (w[..., None] * gout)[inside].astype(images.dtype))
    gimages[...] = flat.reshape(gimages.shape)
    gy = -wx * dots['tl'] + wx * dots['bl'] - (one - wx) * dots['tr'] + (one - wx) * dots['br']
    gx = -wy * dots['tl'] + wy * dots['tr'] - (one - wy) * dots['bl'] + (one - wy) * dots['br']
    ggrids[..., 0] = gy * dt(H - 1) / dt(2)
    ggrids[..., 1] = gx * dt(W - 1) / dt(2)


def spatial_matching_grad(g1, g2, x1, x2, gout, full):
    """The backward of spatial_matching (nnx's C code): with d = x1[:, y, x] - x2[:, y', x']
    for each matched pair, g1 gets 2 d gout and g2 -2 d gout; pairs outside x2 (full mode)
    give nothing. g1 and g2 are overwritten."""
    C, H1, W1 = x1.shape
    H2, W2 = x2.shape[1], x2.shape[2]
    maxh, maxw = gout.shape[2], gout.shape[3]
    dt = x1.dtype.type
    g1[...] = 0
    g2[...] = 0
    oy = int(math.ceil(maxh / 2)) - 1 if full else 0
    ox = int(math.ceil(maxw / 2)) - 1 if full else 0
    for dy in range(maxh):
        ys = np.arange(H1) + dy - oy
        vy = np.nonzero((ys >= 0) & (ys < H2))[0]
        for dx in range(maxw):
            xs = np.arange(W1) + dx - ox
            vx = np.nonzero((xs >= 0) & (xs < W2))[0]
            if vy.size == 0 or vx.size == 0:
                continue
            a = x1[:, vy[:, None], vx[None, :]]
            b = x2[:, ys[vy][:, None], xs[vx][None, :]]
            p = (dt(2) * (a - b) * gout[vy[:, None], vx[None, :], dy, dx][None]).astype(x1.dtype)
            g1[:, vy[:, None], vx[None, :]] += p
            g2[:, ys[vy][:, None], xs[vx][None, :]] -= p


def spatial_graph_grad(gin, x, out, gout, cosine, normalize):
    """The backward of nnx's SpatialGraph (its C code): x (K, H, W), out and gout (2, H, W),
    plane 1 the edge to the right, plane 2 the edge down. Euclidean: each pair's difference
    over the edge's distance (0 where the difference is 0), times gout and 1/K when
    normalised (out holds the 1/sqrt(K) already); cosine (unnormalised): minus the other
    end's features times gout. gin is overwritten."""
    K = x.shape[0]
    gin[...] = 0
    norm = 1.0 / K if normalize else 1.0
    for plane, axis in ((0, 2), (1, 1)):
        n = x.shape[axis]
        if n < 2:
            continue
        a = x.take(np.arange(n - 1), axis=axis)
        b = x.take(np.arange(1, n), axis=axis)
        go = gout[plane].take(np.arange(n - 1), axis=axis - 1)[None]
        if cosine:
            ga, gb = -b * go, -a * go
        else:
            d = a - b
            o = out[plane].take(np.arange(n - 1), axis=axis - 1)[None]
            with np.errstate(divide='ignore', invalid='ignore'):
                ga = np.where(d != 0, d / o, 0) * go * norm
            gb = -ga
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[axis], hi[axis] = slice(0, n - 1), slice(1, n)
        gin[tuple(lo)] += ga.astype(gin.dtype)
        gin[tuple(hi)] += gb.astype(gin.dtype)


def _soft_max_tree_paths(x, target, weight, bias, child_parent, parent_children, root_id):
    """Per row i, the nodes of soft_max_tree's path: (parent, first row - 1, number of
    children, child index - 1, the log-softmax over the siblings), as the forward computes."""
    cp = np.asarray(child_parent).astype(np.int64)
    pc = np.asarray(parent_children).astype(np.int64)
    tg = np.asarray(target).astype(np.int64).reshape(-1)
    real = x.dtype.type
    for i in range(x.shape[0]):
        child = int(tg[i])
        path = []
        while True:
            if child < 1 or child > cp.shape[0] or cp[child - 1, 0] < 1:
                raise ValueError(f"node {child} (on the path of target {int(tg[i])}, row {i + 1}) "
                                 "has no parent in the tree")
            parent, idx = int(cp[child - 1, 0]), int(cp[child - 1, 1])
            start, n = int(pc[parent - 1, 0]) - 1, int(pc[parent - 1, 1])
            z = (bias[start:start + n] + weight[start:start + n] @ x[i]).astype(real)
            zmax = z.max()
            logsum = float(zmax) + np.log(_exp_minus_approx((zmax - z).astype(np.float64)).sum())
            path.append((parent, start, n, idx - 1, (z.astype(np.float64) - logsum).astype(real)))
            if parent == root_id:
                break
            child = parent
            if len(path) > cp.shape[0]:
                raise ValueError(f"the tree has a cycle through node {parent}")
        yield i, path


def _soft_max_tree_linear_grads(x, target, weight, bias, child_parent, parent_children, root_id, gout):
    # per row, per node of its path: dE/d(W x + b) of the siblings, -exp(logsoftmax) g plus
    # g at the child taken (nnx's backward, exact exp of the approximate log-softmax)
    for i, path in _soft_max_tree_paths(x, target, weight, bias, child_parent, parent_children, root_id):
        g = gout.dtype.type(gout[i])
        nodes = []
        for parent, start, n, k, logsoft in path:
            lg = (-np.exp(logsoft) * g).astype(x.dtype)
            lg[k] += g
            nodes.append((start, n, lg))
        yield i, nodes


def soft_max_tree_grad(gin, x, target, weight, bias, child_parent, parent_children, root_id, gout):
    """The gradient of soft_max_tree with respect to x: each path node's siblings' rows of
    weight times their linear gradient; gin (batch, inputSize) is overwritten."""
    gin[...] = 0
    for i, nodes in _soft_max_tree_linear_grads(x, target, weight, bias, child_parent, parent_children,
                                                root_id, gout):
        for start, n, lg in nodes:
            gin[i] += lg @ weight[start:start + n]


def soft_max_tree_acc(gweight, gbias, x, target, weight, bias, child_parent, parent_children, root_id,
                      gout, scale):
    """soft_max_tree's accGradParameters: for each path node, gweight's siblings' rows get
    scale times the outer product of their linear gradient and x[i], gbias's the gradient.
    The gradients are all computed before any is added: with accUpdate, gweight and gbias
    are weight and bias themselves (nnx keeps them from updateGradInput)."""
    s = x.dtype.type(scale)
    grads = list(_soft_max_tree_linear_grads(x, target, weight, bias, child_parent, parent_children,
                                             root_id, gout))
    for i, nodes in grads:
        for start, n, lg in nodes:
            gweight[start:start + n] += s * np.outer(lg, x[i])
            gbias[start:start + n] += s * lg
