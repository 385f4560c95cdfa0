"""NumPy kernels behind modules of the Torch7 packages sparktorch7 ships (inn, nnx).

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
