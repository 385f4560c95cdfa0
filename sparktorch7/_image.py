"""NumPy kernels and the Pillow codec of the Lua ``image`` package (lua/image/init.lua).

Called from Lua as ``torch._np.callmod("sparktorch7._image", name, ...)``: tensors arrive
as ndarray views of their memory, and each kernel writes into the ``out`` view it is
given. The geometry kernels follow torch/image's C code (generic/image.c) operation by
operation, including where it computes in single precision (``float`` variables in the
C) whatever the tensor type, so results match Torch7's to the last bit for float and
double tensors (ByteTensors round as its ``FromIntermediate``: +0.5, clamped to 0..255).
"""
from __future__ import annotations

import numpy as np

__all__: list[str] = []

_F32 = np.float32


def _work_dtype(dt: np.dtype) -> np.dtype:
    """The C code's temp_t: real for float/double, float for integer types."""
    return dt if dt in (np.float32, np.float64) else np.dtype(np.float32)


def _store(out: np.ndarray, value: np.ndarray) -> None:
    """FromIntermediate, then the C assignment to real."""
    if out.dtype == np.uint8:
        out[...] = np.clip(np.asarray(value, dtype=np.float32) + _F32(0.5), 0, 255).astype(np.uint8)
    elif out.dtype.kind in "iu":
        out[...] = np.trunc(value)
    else:
        out[...] = value


def _pil():
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("image.load and image.save need Pillow (pip install pillow, "
                          "pinned in requirements.txt)") from None
    return Image


def _chw(a: np.ndarray) -> np.ndarray:
    return a[None] if a.ndim == 2 else a


# ---------------------------------------------------------------- codec (Pillow)
def load(path):
    """Decode a PNG/JPEG file (a path, or the file's bytes as a uint8 array) into channels x
    height x width: uint8, or int32 for 16-bit samples."""
    Image = _pil()
    import io

    what = "the compressed image" if isinstance(path, np.ndarray) else repr(path)
    try:
        img = Image.open(io.BytesIO(path.tobytes()) if isinstance(path, np.ndarray) else path)
        img.load()
    except FileNotFoundError:
        raise FileNotFoundError(f"no such image file: {path!r}") from None
    except Exception as e:  # Pillow raises UnidentifiedImageError, OSError, SyntaxError ...
        raise ValueError(f"cannot decode {what} as an image: {e}") from None
    mode = img.mode
    maxval = 255
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img)
        if mode == "I":
            maxval = 65535 if arr.max(initial=0) > 255 else 255
        else:
            maxval = 65535
        arr = arr.astype(np.int32)[None]          # an IntTensor in Lua: 16-bit samples
    else:
        if mode == "P":
            img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        elif mode == "PA":
            img = img.convert("RGBA")
        elif mode == "1":
            img = img.convert("L")
        elif mode not in ("L", "LA", "RGB", "RGBA"):
            img = img.convert("RGB")
        arr = np.asarray(img)
        arr = arr[None] if arr.ndim == 2 else np.moveaxis(arr, 2, 0)
    if maxval == 255 and arr.dtype != np.uint8:
        arr = arr.astype(np.uint8)
    return np.ascontiguousarray(arr)


_BANDS = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4, "1": 1, "I": 1, "I;16": 1, "I;16B": 1, "I;16L": 1, "PA": 4}


def size(path: str) -> np.ndarray:
    """(channels, height, width) of an image file as image.load would return it, read
    from its header (the pixels are not decoded)."""
    Image = _pil()
    try:
        with Image.open(path) as img:
            mode, (w, h) = img.mode, img.size
            bands = _BANDS.get(mode)
            if mode == "P":
                bands = 4 if "transparency" in img.info else 3
    except FileNotFoundError:
        raise FileNotFoundError(f"no such image file: {path!r}") from None
    except Exception as e:
        raise ValueError(f"cannot read {path!r} as an image: {e}") from None
    return np.array([bands or 3, h, w], dtype=np.int64)


def save(path, arr: np.ndarray, fmt: str, quality: int = 75):
    """Encode an image (height x width, or channels x height x width) as PNG or JPEG: a
    uint8 array as it is, a float one (already clamped and scaled to 0..255) truncated.
    With path None, returns the encoded bytes as a uint8 array."""
    Image = _pil()

    a = np.asarray(arr)
    if a.dtype != np.uint8:
        a = a.astype(np.uint8)      # C's conversion to png_byte/JSAMPLE: truncation
    if a.ndim == 3:
        c = a.shape[0]
        if c == 1:
            a = a[0]
        elif c in (2, 3, 4):
            a = np.ascontiguousarray(np.moveaxis(a, 0, 2))
        else:
            raise ValueError(f"an image has 1, 2, 3 or 4 channels, got {c}")
    if fmt == "jpg" and a.ndim == 3 and a.shape[2] not in (3,):
        raise ValueError(f"a JPEG holds 1 or 3 channels, got {a.shape[2]}")
    img = Image.fromarray(np.ascontiguousarray(a))
    import io

    target = io.BytesIO() if path is None else path
    if fmt == "png":
        img.save(target, format="PNG")
    else:
        if not 0 <= int(quality) <= 100:
            raise ValueError(f"quality should be between 0 and 100, got {quality}")
        img.save(target, format="JPEG", quality=int(quality))
    if path is None:
        return np.frombuffer(target.getvalue(), dtype=np.uint8).copy()
    return None


# ---------------------------------------------------------------- scale
def _linear_axis(src: np.ndarray, dst_len: int, wt) -> np.ndarray:
    """Main_scaleLinear_rowcol along the last axis of src (…, src_len) -> (…, dst_len)."""
    src_len = src.shape[-1]
    out = np.empty(src.shape[:-1] + (dst_len,), dtype=src.dtype)
    if dst_len > src_len:
        if src_len == 1:
            out[...] = src[..., :1]
        else:
            scale = _F32(src_len - 1) / _F32(dst_len - 1)
            di = np.arange(dst_len - 1, dtype=np.float32)
            si_f = di * scale
            si_i = si_f.astype(np.int64)
            frac = si_f - si_i.astype(np.float32)
            a = src[..., si_i].astype(wt)
            b = src[..., si_i + 1].astype(wt)
            val = (_F32(1) - frac).astype(wt) * a + frac.astype(wt) * b
            _store(out[..., :-1], val)
            out[..., -1] = src[..., -1]
    elif dst_len < src_len:
        # the scaled axis first, so that each step reads one contiguous slice
        a = np.ascontiguousarray(np.moveaxis(src, -1, 0))
        res = np.empty((dst_len,) + a.shape[1:], dtype=np.float32)
        scale = _F32(src_len) / _F32(dst_len)
        si0_i, si0_f = 0, _F32(0)
        acc = np.empty(a.shape[1:], dtype=np.float32)        # acc and n are C floats
        for di in range(dst_len):
            si1_f = _F32(di + 1) * scale
            si1_i = int(si1_f)
            si1_f = _F32(si1_f - _F32(si1_i))
            np.multiply(a[si0_i], _F32(1) - si0_f, out=acc, casting="unsafe")
            n = _F32(1) - si0_f
            for si in range(si0_i + 1, si1_i):
                np.add(acc, a[si], out=acc, casting="unsafe")
                n = _F32(n + 1)
            if si1_i < src_len:
                np.add(acc, a[si1_i] * si1_f, out=acc, casting="unsafe")
                n = _F32(n + si1_f)
            np.divide(acc, n, out=res[di])
            si0_i, si0_f = si1_i, si1_f
        _store(out, np.moveaxis(res, 0, -1))
    else:
        out[...] = src
    return out


def _cubic(p0, p1, p2, p3, x, wt):
    """Main_cubicInterpolate on arrays of the C's temp_t (wt)."""
    a0 = p1
    a1 = p2 - p0
    a2 = 2 * p0 - 5 * p1 + 4 * p2 - p3
    a3 = 3 * (p1 - p2) + p3 - p0
    inner = a1 + x * (a2 + x * a3)                          # temp_t arithmetic
    # `a0 + 0.5 * x * inner`: 0.5 is a C double, so this part is computed in double
    return (a0.astype(np.float64) + (0.5 * x.astype(np.float64)) * inner.astype(np.float64)).astype(wt)


def _cubic_axis(src: np.ndarray, dst_len: int, wt) -> np.ndarray:
    """Main_scaleCubic_rowcol along the last axis."""
    src_len = src.shape[-1]
    out = np.empty(src.shape[:-1] + (dst_len,), dtype=src.dtype)
    if dst_len == src_len:
        out[...] = src
        return out
    if src_len == 1:
        out[...] = src[..., :1]
        return out
    scale = _F32(src_len - 1) if dst_len == 1 else _F32(src_len - 1) / _F32(dst_len - 1)
    di = np.arange(dst_len - 1, dtype=np.float32)
    si_f = di * scale
    si_i = si_f.astype(np.int64)
    x = (si_f - si_i.astype(np.float32)).astype(wt)
    p1 = src[..., si_i].astype(wt)
    p2 = src[..., si_i + 1].astype(wt)
    p0 = np.where(si_i > 0, src[..., np.maximum(si_i - 1, 0)].astype(wt), 2 * p1 - p2)
    p3 = np.where(si_i + 2 < src_len, src[..., np.minimum(si_i + 2, src_len - 1)].astype(wt), 2 * p2 - p1)
    _store(out[..., :-1], _cubic(p0, p1, p2, p3, x, wt))
    out[..., -1] = src[..., -1]
    return out


def _separable(out: np.ndarray, src: np.ndarray, axis_fn) -> None:
    s, o = _chw(src), _chw(out)
    wt = _work_dtype(s.dtype)
    tmp = axis_fn(s, o.shape[2], wt)                        # rows first: (C, H_src, W_dst)
    res = axis_fn(np.swapaxes(tmp, 1, 2), o.shape[1], wt)   # then columns: (C, W_dst, H_dst)
    o[...] = np.swapaxes(res, 1, 2)


def scale_bilinear(out, src):
    _separable(out, src, _linear_axis)


def scale_bicubic(out, src):
    _separable(out, src, _cubic_axis)


def scale_simple(out, src):
    s, o = _chw(src), _chw(out)
    sh, sw = s.shape[1], s.shape[2]
    dh, dw = o.shape[1], o.shape[2]
    scx, scy = _F32(sw) / _F32(dw), _F32(sh) / _F32(dh)
    ii = np.minimum((np.arange(dw, dtype=np.float32) * scx).astype(np.int64), sw - 1)
    jj = np.minimum((np.arange(dh, dtype=np.float32) * scy).astype(np.int64), sh - 1)
    # through a C float, as the C code does
    _store(o, s[:, jj][:, :, ii].astype(np.float32))


# ---------------------------------------------------------------- rotate, crop, translate, flips
def _round_away(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64)
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def rotate(out, src, theta, bilinear):
    s, o = _chw(src), _chw(out)
    sh, sw = s.shape[1], s.shape[2]
    dh, dw = o.shape[1], o.shape[2]
    theta = _F32(theta)
    xc = _F32((sw - 1) / 2.0)
    yc = _F32((sh - 1) / 2.0)
    jd = np.arange(dh, dtype=np.float32)[:, None]
    id_ = np.arange(dw, dtype=np.float32)[None, :]
    if not bilinear:
        sin_t, cos_t = _F32(np.sin(np.float64(theta))), _F32(np.cos(np.float64(theta)))
        ii = _round_away(cos_t * (id_ - xc) - sin_t * (jd - yc) + xc).astype(np.int64)
        jj = _round_away(cos_t * (jd - yc) + sin_t * (id_ - xc) + yc).astype(np.int64)
        blank = (ii > sw - 1) | (jj > sh - 1) | (ii < 0) | (jj < 0)
        vals = s[:, np.clip(jj, 0, sh - 1), np.clip(ii, 0, sw - 1)].astype(np.float32)
        vals[:, blank] = 0
        _store(o, vals)
        return
    wt = _work_dtype(s.dtype)
    c, sn = np.cos(np.float64(theta)), np.sin(np.float64(theta))
    ri = (c * (id_ - xc).astype(np.float64) - sn * (jd - yc).astype(np.float64)).astype(wt)
    rj = (c * (jd - yc).astype(np.float64) + sn * (id_ - xc).astype(np.float64)).astype(wt)
    ri, rj = np.broadcast_arrays(ri, rj)
    ii0 = np.floor(ri + xc).astype(np.int64)
    jj0 = np.floor(rj + yc).astype(np.int64)
    ii1, jj1 = ii0 + 1, jj0 + 1
    wi = (ri + xc) - ii0.astype(wt)
    wj = (rj + yc) - jj0.astype(wt)
    blank = np.zeros(ri.shape, dtype=bool)
    m = (ii1 == sw) & (wi < 0.5)
    ii1 = np.where(m, ii0, ii1)
    blank |= ~m & (ii1 >= sw)
    m = (jj1 == sh) & (wj < 0.5)
    jj1 = np.where(m, jj0, jj1)
    blank |= ~m & (jj1 >= sh)
    m = (ii0 == -1) & (wi > 0.5)
    ii0 = np.where(m, ii1, ii0)
    blank |= ~m & (ii0 < 0)
    m = (jj0 == -1) & (wj > 0.5)
    jj0 = np.where(m, jj1, jj0)
    blank |= ~m & (jj0 < 0)
    cl = lambda a, n: np.clip(a, 0, n - 1)
    ii0, ii1, jj0, jj1 = cl(ii0, sw), cl(ii1, sw), cl(jj0, sh), cl(jj1, sh)
    wi64, wj64 = wi.astype(np.float64), wj.astype(np.float64)
    sd = s.astype(np.float64)
    val = ((1.0 - wi64) * (1.0 - wj64) * sd[:, jj0, ii0] + wi64 * (1.0 - wj64) * sd[:, jj0, ii1]
           + (1.0 - wi64) * wj64 * sd[:, jj1, ii0] + wi64 * wj64 * sd[:, jj1, ii1])
    val = val.astype(np.float32)                            # `float val`
    val[:, blank] = 0
    _store(o, val)


def crop(out, src, x, y):
    s, o = _chw(src), _chw(out)
    h, w = o.shape[1], o.shape[2]
    _store(o, s[:, y:y + h, x:x + w].astype(np.float32))   # through a C float


def translate(out, src, x, y):
    s, o = _chw(src), _chw(out)
    sh, sw = s.shape[1], s.shape[2]
    dh, dw = o.shape[1], o.shape[2]
    o[...] = 0
    # source pixel (j, i) goes to (j + y, i + x) when that is inside dst
    i0, i1 = max(0, -x), min(sw, dw - x)
    j0, j1 = max(0, -y), min(sh, dh - y)
    if i0 < i1 and j0 < j1:
        o[:, j0 + y:j1 + y, i0 + x:i1 + x] = s[:, j0:j1, i0:i1]


def hflip(out, src):
    out[...] = np.array(src[..., ::-1])


def vflip(out, src):
    out[...] = np.array(src[..., ::-1, :])


# ---------------------------------------------------------------- colour spaces
def rgb2y(out, src):
    wt = _work_dtype(src.dtype)
    r, g, b = (src[i].astype(np.float64) for i in range(3))
    _store(out, (0.299 * r + 0.587 * g + 0.114 * b).astype(wt))


def rgb2nrgb(out, src):
    """Each of R, G, B over R + G + B + 1e-6, summed in the tensor's precision in that order
    (torch/image's Lua: sum:copy(r):add(g):add(b):add(1e-6), then cdiv)."""
    wt = _work_dtype(src.dtype)
    r, g, b = (src[i].astype(wt) for i in range(3))
    total = ((r + g) + b + wt.type(1e-6)).astype(wt)
    for i in range(3):
        _store(out[i], (src[i].astype(wt) / total).astype(wt))


def _lin(out_rows, src, coeffs):
    """TH's y:zero():add(c1, a):add(c2, b)...: each add in the tensor's type."""
    dt = out_rows.dtype
    for row, cs in zip(out_rows, coeffs):
        acc = np.zeros(src.shape[1:], dtype=dt)
        for c, ch in cs:
            if isinstance(ch, str):     # 'copy' of a channel
                acc = src[c].copy()
            else:
                term = src[ch] * (dt.type(c) if dt.kind == "f" else c)
                acc = (acc + term).astype(dt) if dt.kind == "f" else (acc + np.trunc(term)).astype(dt)
        row[...] = acc


def rgb2yuv(out, src):
    _lin(out, src, [[(0.299, 0), (0.587, 1), (0.114, 2)],
                    [(-0.14713, 0), (-0.28886, 1), (0.436, 2)],
                    [(0.615, 0), (-0.51499, 1), (-0.10001, 2)]])


def yuv2rgb(out, src):
    _lin(out, src, [[(0, "copy"), (1.13983, 2)],
                    [(0, "copy"), (-0.39465, 1), (-0.58060, 2)],
                    [(0, "copy"), (2.03211, 1)]])


def rgb2hsl(out, src):
    wt = _work_dtype(src.dtype)
    r, g, b = (src[i].astype(wt) for i in range(3))
    if src.dtype == np.uint8:
        r, g, b = r / wt.type(255), g / wt.type(255), b / wt.type(255)
    mx = np.maximum(np.maximum(r, g), b)
    mn = np.minimum(np.minimum(r, g), b)
    d = mx - mn
    same = mx == mn
    dd = np.where(same, wt.type(1), d)
    h = np.where(mx == r, (g - b) / dd + np.where(g < b, wt.type(6), wt.type(0)),
                 np.where(mx == g, (b - r) / dd + wt.type(2), (r - g) / dd + wt.type(4)))
    h = (h / wt.type(6)).astype(wt)
    lum = ((mx + mn) / wt.type(2)).astype(wt)
    den_hi = np.where(same, wt.type(1), wt.type(2) - mx - mn)
    den_lo = np.where(same, wt.type(1), mx + mn)
    s = np.where(lum > 0.5, d / den_hi, d / den_lo).astype(wt)
    h = np.where(same, wt.type(0), h)
    s = np.where(same, wt.type(0), s)
    lum = np.where(same, mx, lum)
    if src.dtype == np.uint8:
        h, s, lum = h * wt.type(255), s * wt.type(255), lum * wt.type(255)
    for i, v in enumerate((h, s, lum)):
        _store(out[i], v)


def _hue2rgb(p, q, t, wt):
    t64 = t.astype(np.float64)
    t64 = np.where(t64 < 0.0, (t + wt.type(1)).astype(np.float64), t64)
    t64 = np.where(t64 > 1.0, (t64.astype(wt) - wt.type(1)).astype(np.float64), t64)
    p64, q64 = p.astype(np.float64), q.astype(np.float64)
    qp = (q - p).astype(np.float64)
    res = np.where(t64 < 1.0 / 6, p64 + qp * 6.0 * t64,
                   np.where(t64 < 1.0 / 2, q64,
                            np.where(t64 < 2.0 / 3, p64 + qp * (2.0 / 3 - t64) * 6.0, p64)))
    return res.astype(wt)


def hsl2rgb(out, src):
    wt = _work_dtype(src.dtype)
    h, s, lum = (src[i].astype(wt) for i in range(3))
    if src.dtype == np.uint8:
        h, s, lum = h / wt.type(255), s / wt.type(255), lum / wt.type(255)
    q = np.where(lum < 0.5, lum * (wt.type(1) + s), lum + s - lum * s).astype(wt)
    p = (wt.type(2) * lum - q).astype(wt)
    hr = (h.astype(np.float64) + 1.0 / 3).astype(wt)
    hb = (h.astype(np.float64) - 1.0 / 3).astype(wt)
    rgb = [_hue2rgb(p, q, t, wt) for t in (hr, h, hb)]
    grey = s == 0
    for i, v in enumerate(rgb):
        v = np.where(grey, lum, v)
        if src.dtype == np.uint8:
            v = v * wt.type(255)
        _store(out[i], v)


def rgb2lab(out, src):
    dt = src.dtype
    if dt == np.uint8:
        raise TypeError("image.rgb2lab: not supported for torch.ByteTensor")

    def expand(c):
        c64 = c.astype(np.float64)
        return np.where(c64 <= 0.04045, c64 / 12.92, np.power((c64 + 0.055) / 1.055, 2.4)).astype(dt)

    r, g, b = (expand(src[i]).astype(np.float64) for i in range(3))
    eps, k = 216.0 / 24389.0, 24389.0 / 27.0
    X = (0.412453 * r + 0.357580 * g + 0.180423 * b) / 0.950456
    Y = 0.212671 * r + 0.715160 * g + 0.072169 * b
    Z = (0.019334 * r + 0.119193 * g + 0.950227 * b) / 1.088754
    f = lambda t: np.where(t > eps, np.power(t, 1 / 3.0), (k * t + 16) / 116)
    fx, fy, fz = f(X), f(Y), f(Z)
    out[0] = (116 * fy - 16).astype(dt)
    out[1] = (500 * (fx - fy)).astype(dt)
    out[2] = (200 * (fy - fz)).astype(dt)


def rgb2hsv(out, src):
    wt = _work_dtype(src.dtype)
    r, g, b = (src[i].astype(wt) for i in range(3))
    if src.dtype == np.uint8:
        r, g, b = r / wt.type(255), g / wt.type(255), b / wt.type(255)
    mx = np.maximum(np.maximum(r, g), b)
    mn = np.minimum(np.minimum(r, g), b)
    same = mx == mn
    d = np.where(same, wt.type(1), mx - mn)
    h = np.where(mx == r, (g - b) / d + np.where(g < b, wt.type(6), wt.type(0)),
                 np.where(mx == g, (b - r) / d + wt.type(2), (r - g) / d + wt.type(4)))
    h = np.where(same, wt.type(0), (h / wt.type(6)).astype(wt))
    sat = np.where(same, wt.type(0), (mx - mn) / np.where(mx == 0, wt.type(1), mx))
    v = mx
    if src.dtype == np.uint8:
        h, sat, v = h * wt.type(255), sat * wt.type(255), v * wt.type(255)
    for i, c in enumerate((h, sat, v)):
        _store(out[i], c.astype(wt))


def hsv2rgb(out, src):
    wt = _work_dtype(src.dtype)
    T = wt.type
    h, s, v = (src[i].astype(wt) for i in range(3))
    if src.dtype == np.uint8:
        h, s, v = h / T(255), s / T(255), v / T(255)
    i = np.floor(h.astype(np.float64) * 6.0).astype(np.int64)
    f = (h * T(6) - i.astype(wt)).astype(wt)
    p = (v * (T(1) - s)).astype(wt)
    q = (v * (T(1) - f * s)).astype(wt)
    t = (v * (T(1) - (T(1) - f) * s)).astype(wt)
    sector = np.fmod(i, 6)                 # C's %: negative for negative i (then all 0)
    zero = np.zeros_like(v)
    choose = lambda *c: np.select([sector == k for k in range(6)], list(c), default=zero)
    rgb = (choose(v, q, p, p, t, v), choose(t, v, v, q, p, p), choose(p, p, t, v, v, q))
    for k, c in enumerate(rgb):
        if src.dtype == np.uint8:
            c = c * T(255)
        _store(out[k], c)


def lab2rgb(out, src):
    dt = src.dtype
    if dt == np.uint8:
        raise TypeError("image.lab2rgb: not supported for torch.ByteTensor")
    T = dt.type
    l, a, b = src[0], src[1], src[2]
    eps, k = 216.0 / 24389.0, 24389.0 / 27.0
    fy = ((l + T(16)) / T(116)).astype(np.float64)
    fz = fy - (b / T(200)).astype(np.float64)
    fx = (a / T(500)).astype(np.float64) + fy
    X = np.power(fx, 3)
    X = np.where(X <= eps, (116 * fx - 16) / k, X)
    Y = np.where(l.astype(np.float64) > k * eps, np.power(((l + T(16)) / T(116)).astype(np.float64), 3),
                 l.astype(np.float64) / k)
    Z = np.power(fz, 3)
    Z = np.where(Z <= eps, (116 * fz - 16) / k, Z)
    X, Z = X * 0.950456, Z * 1.088754
    lin = ((3.2404542 * X - 1.5371385 * Y - 0.4985314 * Z).astype(dt),
           (-0.9692660 * X + 1.8760108 * Y + 0.0415560 * Z).astype(dt),
           (0.0556434 * X - 0.2040259 * Y + 1.0572252 * Z).astype(dt))
    for i, c in enumerate(lin):
        c64 = c.astype(np.float64)
        with np.errstate(invalid="ignore"):
            out[i] = np.where(c64 <= 0.0031308, 12.92 * c64, 1.055 * np.power(c64, 1.0 / 2.4) - 0.055).astype(dt)


# ---------------------------------------------------------------- gaussian
def gaussian(out, amplitude, normalize, sigma_u, sigma_v, mean_u, mean_v):
    wt = _work_dtype(out.dtype)
    T = wt.type
    height, width = out.shape
    amplitude, sigma_u, sigma_v = T(amplitude), T(sigma_u), T(sigma_v)
    mean_u = T(np.float64(T(T(mean_u) * T(width))) + 0.5)
    mean_v = T(np.float64(T(T(mean_v) * T(height))) + 0.5)
    over_u = T(1.0 / np.float64(T(sigma_u * T(width))))
    over_v = T(1.0 / np.float64(T(sigma_v * T(height))))
    du = ((np.arange(width) + 1).astype(wt) - mean_u) * over_u
    dv = ((np.arange(height) + 1).astype(wt) - mean_v) * over_v
    r2 = (du[None, :] * du[None, :] + dv[:, None] * dv[:, None]).astype(wt)
    value = (np.float64(amplitude) * np.exp(-0.5 * r2.astype(np.float64))).astype(wt)
    _store(out, value)
    if normalize:
        flat = out.astype(wt).ravel()
        total = np.cumsum(flat, dtype=wt)[-1] if flat.size else T(0)   # C's sequential sum
        inv = T(1.0 / np.float64(total))
        out[...] = (out * inv).astype(out.dtype)


# ---------------------------------------------------------------- warp
def _c_max0(v):
    """MAX(v, 0) as the C macro: v > 0 ? v : 0 (a NaN becomes 0)."""
    return np.where(v > 0, v, np.float32(0)).astype(np.float32)


def _c_min(v, hi):
    """MIN(v, hi): v < hi ? v : hi."""
    return np.where(v < hi, v, hi).astype(np.float32)


_LANCZOS_RAD = 3


def _lanczos_weights(pos, base):
    """The C's Lu (or Lv): float L(x) of the 2*rad taps base-rad+1 .. base+rad of each
    float32 sample position; shape (2*rad,) + pos.shape."""
    rad = _LANCZOS_RAD
    pi_f = _F32(np.pi)
    pi2_f = _F32(np.pi * np.pi)
    out = []
    for i in range(2 * rad):
        tap = (base + (i - rad + 1)).astype(np.float32)
        d = np.abs((pos - tap).astype(np.float32))
        with np.errstate(divide="ignore", invalid="ignore"):
            num = (np.float64(rad) * np.sin((pi_f * d).astype(np.float64))
                   * np.sin(((pi_f * d) / _F32(rad)).astype(np.float64)))
            den = (pi2_f * d * d).astype(np.float32).astype(np.float64)
            w = (num / den).astype(np.float32)
        w = np.where(d > _F32(rad), _F32(0), w)
        w = np.where(d < _F32(0.000001), _F32(1), w)
        out.append(w.astype(np.float32))
    return out


def warp(out, src, field, mode, offset, pad_mode, pad_value):
    """Main_warp: out (C, H, W) := src (C, h, w) sampled at the (y, x) positions of field
    (2, H, W) (added to each pixel's own (y, x) when offset). mode 'simple' (nearest),
    'bilinear', 'bicubic' or 'lanczos'; with pad_mode, positions outside the source give
    pad_value, else they are clamped to its border. Computed as the C does: positions in
    single precision, weights in the tensor's precision (float for integer types)."""
    dt = out.dtype
    wt = _work_dtype(dt)
    channels, height, width = out.shape
    sh, sw = src.shape[1], src.shape[2]
    if channels == 0 or height == 0 or width == 0:
        return
    if sh == 0 or sw == 0:
        raise ValueError(f"the source image is empty ({src.shape[0]}x{sh}x{sw})")
    pad = np.array(pad_value, dtype=np.float64)
    pad = (np.trunc(pad).astype(np.int64).astype(dt) if dt.kind in "iu" else pad.astype(dt))
    flow_y = field[0].astype(np.float32)
    flow_x = field[1].astype(np.float32)
    if offset:
        iy = np.arange(height, dtype=np.float32)[:, None] + flow_y
        ix = np.arange(width, dtype=np.float32)[None, :] + flow_x
    else:
        iy, ix = flow_y, flow_x
    iy, ix = np.broadcast_arrays(iy.astype(np.float32), ix.astype(np.float32))
    off = (iy < 0) | (iy > _F32(sh - 1)) | (ix < 0) | (ix > _F32(sw - 1))
    ix = _c_min(_c_max0(ix), _F32(sw - 1))
    iy = _c_min(_c_max0(iy), _F32(sh - 1))
    s = src
    if mode == "simple":
        xn = np.floor(ix.astype(np.float64) + 0.5).astype(np.int64)
        yn = np.floor(iy.astype(np.float64) + 0.5).astype(np.int64)
        res = s[:, yn, xn]
        res = np.where(off[None], pad, res) if pad_mode else res
        out[...] = res
        return
    if mode == "bilinear":
        x0 = np.floor(ix).astype(np.int64)
        y0 = np.floor(iy).astype(np.int64)
        fx0, fy0 = x0.astype(np.float32), y0.astype(np.float32)
        fx1, fy1 = (x0 + 1).astype(np.float32), (y0 + 1).astype(np.float32)
        nw = ((fx1 - ix) * (fy1 - iy)).astype(wt)
        ne = ((ix - fx0) * (fy1 - iy)).astype(wt)
        sw_ = ((fx1 - ix) * (iy - fy0)).astype(wt)
        se = ((ix - fx0) * (iy - fy0)).astype(wt)
        x1, y1 = np.minimum(x0 + 1, sw - 1), np.minimum(y0 + 1, sh - 1)
        val = (s[:, y0, x0].astype(wt) * nw + s[:, y0, x1].astype(wt) * ne
               + s[:, y1, x0].astype(wt) * sw_ + s[:, y1, x1].astype(wt) * se)
    elif mode == "bicubic":
        tix, tiy = ix.astype(wt), iy.astype(wt)
        xp = np.floor(tix).astype(np.int64)
        yp = np.floor(tiy).astype(np.int64)
        dx = (tix - xp.astype(wt)).astype(wt)
        dy = (tiy - yp.astype(wt)).astype(wt)
        padw = pad.astype(wt)
        rows = []
        for i in range(4):
            v = yp + i - 1
            taps = []
            for j in range(4):
                u = xp + j - 1
                inside = (v >= 0) & (v < sh) & (u >= 0) & (u < sw)
                p = s[:, np.clip(v, 0, sh - 1), np.clip(u, 0, sw - 1)].astype(wt)
                taps.append(np.where(inside[None], p, padw))
            rows.append(_cubic(*taps, dx[None], wt))
        val = _cubic(*rows, dy[None], wt)
    elif mode == "lanczos":
        rad = _LANCZOS_RAD
        xp = np.floor(ix).astype(np.int64)
        yp = np.floor(iy).astype(np.int64)
        lu = _lanczos_weights(ix, xp)
        lv = _lanczos_weights(iy, yp)
        total = np.zeros(ix.shape, np.float32)
        for a in lu:
            for b in lv:
                total += a * b                               # float sum_weights, u outer, v inner
        val = np.zeros((channels,) + ix.shape, wt)
        for i in range(2 * rad):
            cu = np.clip(xp + (i - rad + 1), 0, sw - 1)
            for j in range(2 * rad):
                cv = np.clip(yp + (j - rad + 1), 0, sh - 1)
                weight = (lu[i] * lv[j]).astype(wt)
                val += s[:, cv, cu].astype(wt) * weight
        val = (val / total.astype(wt)).astype(wt)
    else:
        raise ValueError(f"mode must be simple | bilinear | bicubic | lanczos, got {mode!r}")
    if pad_mode:
        res = np.empty(out.shape, dt)
        _store(res, val)
        out[...] = np.where(off[None], pad, res)
    else:
        _store(out, val)


# ---------------------------------------------------------------- PPM / PGM (libppm)
class _Netpbm:
    """Reads a Netpbm header as libppm does: a number after any run of ' ', ',', tabs and
    line ends, '#' comments skipped to the end of their line; the character that ends a
    number is consumed."""

    def __init__(self, data: bytes, path):
        self.data, self.pos, self.path = data, 0, path

    def getc(self):
        if self.pos >= len(self.data):
            return None
        ch = self.data[self.pos:self.pos + 1]
        self.pos += 1
        if ch == b"#":
            while True:
                if self.pos >= len(self.data):
                    return None
                ch = self.data[self.pos:self.pos + 1]
                self.pos += 1
                if ch in (b"\n", b"\r"):
                    break
        return ch

    def number(self, what):
        ch = self.getc()
        while ch in (b" ", b",", b"\t", b"\n", b"\r"):
            ch = self.getc()
        if ch is None or not ch.isdigit():
            got = "the end of the file" if ch is None else repr(ch.decode("latin-1"))
            raise ValueError(f"corrupted file {self.path}: expected the {what} (a number) at byte "
                             f"{self.pos - (ch is not None)}, got {got}")
        n = 0
        while ch is not None and ch.isdigit():
            n = n * 10 + int(ch)
            ch = self.getc()
        return n


def _ppm_header(data: bytes, path):
    if data[:1] != b"P":
        raise ValueError(f"corrupted file {path}: a PPM/PGM file begins with 'P', got {data[:2]!r}")
    kind = data[1:2].decode("latin-1")
    if kind not in ("2", "3", "5", "6"):
        raise ValueError(f"unsupported magic number: P{kind} in {path} (P2, P3, P5 or P6 expected)")
    rd = _Netpbm(data, path)
    rd.pos = 2
    w = rd.number("width")
    h = rd.number("height")
    return rd, kind, (3 if kind in ("3", "6") else 1), h, w


def _read(path) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise FileNotFoundError(f"cannot open file <{path}> for reading: {e.strerror}") from None


def ppm_size(path):
    """(channels, height, width) from a PPM/PGM header."""
    _, _, c, h, w = _ppm_header(_read(path), path)
    return np.array([c, h, w], dtype=np.int64)


def ppm_load(path):
    """libppm's load: channels x height x width as int32 samples. Binary files (P5, P6)
    give their samples as stored, 16-bit ones (maxval > 255) read low byte first as
    libppm reads them; ASCII files (P2, P3) give 255 * sample / maxval (C integer
    division, kept to 8 bits as libppm's bytes)."""
    data = _read(path)
    rd, kind, c, h, w = _ppm_header(data, path)
    maxval = rd.number("maximum value")
    n = c * h * w
    if kind in ("5", "6"):
        bpc = 2 if maxval > 255 else 1
        start = rd.pos
        if len(data) - start < n * bpc:
            raise ValueError(f"corrupted file or read error: {path} holds {len(data) - start} bytes of "
                             f"pixels, a {w}x{h} P{kind} with maxval {maxval} needs {n * bpc}")
        raw = np.frombuffer(data, dtype="<u2" if bpc == 2 else np.uint8, count=n, offset=start)
        samples = raw.astype(np.int32)
    else:
        if maxval == 0:
            raise ValueError(f"corrupted file {path}: the maximum value of an ASCII P{kind} is 0")
        tokens = data[rd.pos:].split()
        if len(tokens) < n:
            raise ValueError(f"corrupted file or read error: {path} holds {len(tokens)} samples, "
                             f"a {w}x{h} P{kind} needs {n}")
        try:
            vals = np.array([int(t) for t in tokens[:n]], dtype=np.int64)
        except ValueError:
            raise ValueError(f"corrupted file or read error: {path} has a sample that is not an integer") from None
        q = (np.abs(255 * vals) // maxval) * np.sign(vals)           # C's division truncates
        samples = (q & 0xFF).astype(np.int32)
    return np.ascontiguousarray(samples.reshape(h, w, c).transpose(2, 0, 1))


def ppm_save(path, arr):
    """libppm's save: 3 channels as P6, 1 as P5, maxval 255, samples converted to bytes as
    C converts (truncated)."""
    a = np.asarray(arr)
    if a.ndim == 2:
        a = a[None]
    c, h, w = a.shape
    b = a if a.dtype == np.uint8 else np.trunc(a).astype(np.int64).astype(np.uint8)
    body = np.ascontiguousarray(b.transpose(1, 2, 0)).tobytes()
    header = f"P{6 if c == 3 else 5}\n{w} {h}\n255\n".encode()
    try:
        with open(path, "wb") as f:
            f.write(header + body)
    except OSError as e:
        raise OSError(f"cannot open file <{path}> for writing: {e.strerror}") from None


# ---------------------------------------------------------------- polar, log-polar, rectangles
def polar(out, src, full, log, bilinear):
    """image.polar / image.logpolar: out rows are angles 2 pi j / rows, columns radii (m i /
    cols, or exp(i log(m) / cols) for log-polar), read from src around its centre (H/2, W/2);
    m is half the smaller side ('valid') or half the diagonal ('full'). Positions and weights
    in the C code's single precision; the value passes through a C float, as torch/image's
    kernels do; nearest when a bilinear neighbour falls outside; 0 outside the image."""
    s, o = _chw(src), _chw(out)
    sh, sw = s.shape[1], s.shape[2]
    dh, dw = o.shape[1], o.shape[2]
    mid_y, mid_x = _F32(sh / 2.0), _F32(sw / 2.0)
    if full:
        m = _F32(np.sqrt(np.float64(_F32(sw) * _F32(sw) + _F32(sh) * _F32(sh))) / 2.0)
    else:
        m = mid_x if sw < sh else mid_y
    a = ((2 * np.pi * np.arange(dh, dtype=np.float64)) / np.float64(_F32(dh))).astype(np.float32)[:, None]
    i = np.arange(dw, dtype=np.float32)[None, :]
    if log:
        fw = _F32(np.log(np.float64(m)) / np.float64(_F32(dw)))
        r = np.exp((i * fw).astype(np.float64)).astype(np.float32)
    else:
        r = ((m * i) / _F32(dw)).astype(np.float32)
    y = r.astype(np.float64) * np.cos(a.astype(np.float64)) + np.float64(mid_y)
    x = -r.astype(np.float64) * np.sin(a.astype(np.float64)) + np.float64(mid_x)
    # the positions are kept in temp_t (real) by polarBilinear, in float by the others
    pt = _work_dtype(s.dtype) if bilinear and not log else np.dtype(np.float32)
    if bilinear:
        y, x = y.astype(pt), x.astype(pt)
    y0, x0 = np.floor(y).astype(np.int64), np.floor(x).astype(np.int64)
    outside = (x0 > sw - 1) | (y0 > sh - 1) | (x0 < 0) | (y0 < 0)
    near = s[:, np.clip(y0, 0, sh - 1), np.clip(x0, 0, sw - 1)].astype(np.float32)
    near[:, outside] = 0
    if not bilinear:
        _store(o, near)
        return
    edge = (x0 + 1 > sw - 1) | (y0 + 1 > sh - 1) | (x0 < 0) | (y0 < 0)
    wi = (x - x0.astype(pt)).astype(np.float64)
    wj = (y - y0.astype(pt)).astype(np.float64)
    ya, yb = np.clip(y0, 0, sh - 1), np.clip(y0 + 1, 0, sh - 1)
    xa, xb = np.clip(x0, 0, sw - 1), np.clip(x0 + 1, 0, sw - 1)
    sd = s.astype(np.float64)
    val = ((1.0 - wi) * (1.0 - wj) * sd[:, ya, xa] + wi * (1.0 - wj) * sd[:, ya, xb]
           + (1.0 - wi) * wj * sd[:, yb, xa] + wi * wj * sd[:, yb, xb]).astype(np.float32)
    _store(o, np.where(edge[None], near, val))


def draw_rect(out, x1, y1, x2, y2, line_width, cr, cg, cb):
    """image.drawRect: the four sides of the rectangle with corners (x1, y1), (x2, y2)
    (0-based pixels as the C code takes them), each line_width pixels wide, clipped to the
    image; colour (cr, cg, cb) in 0..255, stored as c / 255 (a C float) unless bytes."""
    H, W = out.shape[1], out.shape[2]
    lo = line_width // 2 + 1
    up = line_width - lo - 1
    x1l, y1l = max(0, x1 - lo), max(0, y1 - lo)
    x1u, y1u = min(W, x1 + up + 1), min(H, y1 + up + 1)
    x2l, y2l = max(0, x2 - lo), max(0, y2 - lo)
    x2u, y2u = min(W, x2 + up + 1), min(H, y2 + up + 1)
    if out.dtype == np.uint8:
        colour = np.array([cr, cg, cb], dtype=np.int64)
    else:
        colour = np.array([cr, cg, cb], dtype=np.float32) / _F32(255.0)
    colour = colour.astype(out.dtype)[:, None, None]

    def paint(ys, ye, xs, xe):
        if ye > ys and xe > xs:
            out[:, ys:ye, xs:xe] = colour

    paint(y1l, y2u, x1l, x1u)
    paint(y1l, y2u, x2l, x2u)
    paint(y1l, y1u, x1l, x2u)
    paint(y2l, y2u, x1l, x2u)
