"""NumPy kernels behind modules of the Torch7 packages sparktorch7 ships (inn, nnx).

Called from Lua as ``torch._np.callmod('sparktorch7._pkg_ops', name, out, ...)``; each
kernel writes into ``out``. The Lua modules check the arguments first.
"""
from __future__ import annotations

import math

import numpy as np


def _cround(x):
    """C's round(): halves away from zero."""
    return int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


def roi_pooling(out, data, rois, W, H, scale, v2):
    """inn.ROIPooling: out (R, C, H, W) from data (N, C, h, w) and rois (R, 5), 1-based
    image index and corners. v2 rounds bin edges and ends the region one pixel earlier;
    v1 floors bin starts and ceils bin ends (inn's ROIPoolForward / ROIPoolForwardV2)."""
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
                else:
                    out[n, :, ph, pw] = data[b, :, hs:he, ws:we].max(axis=(1, 2))
