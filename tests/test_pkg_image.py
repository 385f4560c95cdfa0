"""image, Torch7's image package: load/save through Pillow, and the geometry and colour
functions against NumPy references written here from torch/image's C code."""
import colorsys
import math

import numpy as np
import pytest
from PIL import Image

from sparktorch7 import LuaError

F = np.float32
TYPES = {"float": ("torch.FloatTensor", np.float32), "double": ("torch.DoubleTensor", np.float64)}


@pytest.fixture
def lua(lua):
    lua.require("torch")
    lua.execute("image = require 'image'")
    return lua


def rgb(h=7, w=9, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def to_lua(lua, name, arr, ttype="double"):
    lua.globals()[name] = np.ascontiguousarray(arr, dtype=TYPES[ttype][1])


# ------------------------------------------------------------------ references (from generic/image.c)
def ref_linear_1d(src, dst_len):
    """Main_scaleLinear_rowcol on one row, C promotion rules through NumPy scalars."""
    real = src.dtype.type
    src_len = len(src)
    dst = np.zeros(dst_len, src.dtype)
    if dst_len > src_len:
        scale = F(src_len - 1) / F(dst_len - 1)
        for di in range(dst_len - 1):
            if src_len == 1:
                dst[di] = src[0]
                continue
            si_f = F(F(di) * scale)
            si_i = int(si_f)
            si_f = F(si_f - F(si_i))
            dst[di] = real((F(1) - si_f) * src[si_i] + si_f * src[si_i + 1])
        dst[dst_len - 1] = src[src_len - 1]
    elif dst_len < src_len:
        scale = F(src_len) / F(dst_len)
        si0_i, si0_f = 0, F(0)
        for di in range(dst_len):
            si1_f = F(F(di + 1) * scale)
            si1_i = int(si1_f)
            si1_f = F(si1_f - F(si1_i))
            acc = F((F(1) - si0_f) * src[si0_i])
            n = F(F(1) - si0_f)
            for si in range(si0_i + 1, si1_i):
                acc = F(acc + src[si])
                n = F(n + F(1))
            if si1_i < src_len:
                acc = F(acc + si1_f * src[si1_i])
                n = F(n + si1_f)
            dst[di] = real(F(acc / n))
            si0_i, si0_f = si1_i, si1_f
    else:
        dst[:] = src
    return dst


def ref_cubic_1d(src, dst_len):
    real = src.dtype.type
    src_len = len(src)
    dst = np.zeros(dst_len, src.dtype)
    if dst_len == src_len:
        return src.copy()
    scale = F(src_len - 1) / F(dst_len - 1)
    for di in range(dst_len - 1):
        si_f = F(F(di) * scale)
        si_i = int(si_f)
        x = real(F(si_f - F(si_i)))
        p1, p2 = src[si_i], src[si_i + 1]
        p0 = src[si_i - 1] if si_i > 0 else real(2 * p1 - p2)
        p3 = src[si_i + 2] if si_i + 2 < src_len else real(2 * p2 - p1)
        a0, a1 = p1, real(p2 - p0)
        a2 = real(2 * p0 - 5 * p1 + 4 * p2 - p3)
        a3 = real(3 * (p1 - p2) + p3 - p0)
        inner = real(a1 + x * real(a2 + x * a3))
        dst[di] = real(np.float64(a0) + np.float64(0.5) * np.float64(x) * np.float64(inner))
    dst[dst_len - 1] = src[src_len - 1]
    return dst


def ref_scale(img, w, h, fn):
    """Rows first into a temporary of the image's type, then columns (as scaleBilinear)."""
    c = img.shape[0]
    tmp = np.stack([np.stack([fn(img[k, j], w) for j in range(img.shape[1])]) for k in range(c)])
    out = np.stack([np.stack([fn(tmp[k, :, i], h) for i in range(w)], axis=1) for k in range(c)])
    return out


def ref_simple(img, w, h):
    sh, sw = img.shape[1:]
    scx, scy = F(sw) / F(w), F(sh) / F(h)
    out = np.zeros((img.shape[0], h, w), img.dtype)
    for j in range(h):
        for i in range(w):
            ii = min(int(F(F(i) * scx)), sw - 1)
            jj = min(int(F(F(j) * scy)), sh - 1)
            out[:, j, i] = img[:, jj, ii].astype(F)
    return out


# ------------------------------------------------------------------ load / save
def test_load_png_as_torch7_does(lua, tmp_path):
    a = rgb()
    Image.fromarray(a).save(tmp_path / "x.png")
    lua.globals().path = str(tmp_path / "x.png")
    chw = np.moveaxis(a, 2, 0)
    d = lua.eval("image.load(path)")
    assert d.dtype == np.float64 and d.shape == (3, 7, 9)
    np.testing.assert_array_equal(d, chw * (1 / 255))
    f = lua.eval("image.load(path, 3, 'float')")
    assert f.dtype == np.float32
    np.testing.assert_array_equal(f, chw.astype(F) * F(1 / 255))
    b = lua.eval("image.load(path, nil, 'byte')")
    assert b.dtype == np.uint8
    np.testing.assert_array_equal(b, chw)
    # depth 1: Y from rgb2y, a 2D image
    y = lua.eval("image.load(path, 1, 'double')")
    assert y.shape == (7, 9)
    np.testing.assert_allclose(y, (0.299 * chw[0] + 0.587 * chw[1] + 0.114 * chw[2]) / 255, atol=1e-12)


def test_load_grey_rgba_and_jpeg(lua, tmp_path):
    a = rgb(5, 6, 1)
    Image.fromarray(a[..., 0]).save(tmp_path / "g.png")
    rgba = np.concatenate([a, np.full((5, 6, 1), 200, np.uint8)], axis=2)
    Image.fromarray(rgba).save(tmp_path / "a.png")
    Image.fromarray(a).save(tmp_path / "j.jpg", quality=90)
    g = str(tmp_path / "g.png")
    lua.globals().g, lua.globals().a, lua.globals().j = g, str(tmp_path / "a.png"), str(tmp_path / "j.jpg")
    assert lua.eval("image.load(g, nil, 'byte')").shape == (1, 5, 6)
    g3 = lua.eval("image.load(g, 3, 'byte')")
    assert g3.shape == (3, 5, 6) and (g3 == a[None, ..., 0]).all()
    four = lua.eval("image.load(a, nil, 'byte')")
    assert four.shape == (4, 5, 6) and (four[3] == 200).all()
    assert lua.eval("image.load(a, 3, 'byte')").shape == (3, 5, 6)
    jpeg = lua.eval("image.load(j, nil, 'byte')")
    np.testing.assert_array_equal(jpeg, np.moveaxis(np.asarray(Image.open(tmp_path / "j.jpg")), 2, 0))


def test_get_size(lua, tmp_path):
    Image.fromarray(rgb(5, 8)).save(tmp_path / "s.jpg")
    Image.fromarray(rgb(5, 8)[..., 0]).save(tmp_path / "g.png")
    lua.globals().d = str(tmp_path)
    size = lua.eval("image.getSize(d .. '/s.jpg')")
    assert size.dtype == np.int64 and size.tolist() == [3, 5, 8]
    assert lua.eval("image.getPNGsize(d .. '/g.png')").tolist() == [1, 5, 8]
    assert lua.eval("torch.type(image.getSize(d .. '/g.png'))") == "torch.LongTensor"


def test_load_16_bit_png(lua, tmp_path):
    a = (np.arange(12).reshape(3, 4) * 5000).astype(np.uint16)
    Image.fromarray(a).save(tmp_path / "d.png")
    lua.globals().path = str(tmp_path / "d.png")
    np.testing.assert_array_equal(lua.eval("image.load(path)"), a[None] * (1 / 65535))    # MAXVAL 65535
    # depth 1 of a one-channel image keeps it 1 x h x w, as Torch7
    np.testing.assert_array_equal(lua.eval("image.load(path, 1, 'float')"), a[None].astype(F) * F(1 / 65535))


def test_save_png_and_jpeg(lua, tmp_path):
    a = rgb(4, 5, 2)
    to_lua(lua, "x", np.moveaxis(a, 2, 0) / 255.0)
    lua.globals().d = str(tmp_path)
    lua.execute("image.save(d .. '/o.png', x); image.save(d .. '/o.jpg', x); "
                "image.save(d .. '/b.png', x:mul(255):byte())")
    x = np.moveaxis(a, 2, 0) / 255.0
    expect = np.trunc(np.clip(x, 0, 1) * 255).astype(np.uint8)        # Torch7's clamp, *255, C cast
    np.testing.assert_array_equal(np.moveaxis(np.asarray(Image.open(tmp_path / "o.png")), 2, 0), expect)
    assert Image.open(tmp_path / "o.jpg").format == "JPEG" and Image.open(tmp_path / "o.jpg").size == (5, 4)
    # out-of-range values saturate
    to_lua(lua, "z", np.array([[[-1.0, 2.0, 0.5]]]))
    lua.execute("image.save(d .. '/z.png', z)")
    assert np.asarray(Image.open(tmp_path / "z.png")).tolist() == [[0, 255, 127]]


def test_load_save_errors(lua, tmp_path):
    (tmp_path / "bad.png").write_bytes(b"not an image at all")
    lua.globals().d = str(tmp_path)
    with pytest.raises(LuaError, match=r"<image.load> no such image file: .*none.png"):
        lua.execute("image.load(d .. '/none.png')")
    with pytest.raises(LuaError, match=r"<image.load> cannot decode .*bad.png. as an image"):
        lua.execute("image.load(d .. '/bad.png')")
    with pytest.raises(LuaError, match=r"<image.load> tensortype must be 'byte', 'float' or 'double', got int"):
        lua.execute("image.load(d .. '/bad.png', 3, 'int')")
    with pytest.raises(LuaError, match=r"<image.save> unknown image type: gif"):
        lua.execute("image.save(d .. '/x.gif', torch.rand(3, 2, 2))")
    with pytest.raises(LuaError, match=r"<image.save> expects the image as a tensor, got table"):
        lua.execute("image.save(d .. '/x.png', {})")


# ------------------------------------------------------------------ scale
@pytest.mark.parametrize("ttype", ["float", "double"])
@pytest.mark.parametrize("size", [(13, 11), (4, 3), (9, 3), (3, 10)])
@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "simple"])
def test_scale_matches_torch7_formula(lua, ttype, size, mode):
    img = np.random.default_rng(3).random((3, 7, 9)).astype(TYPES[ttype][1])
    to_lua(lua, "x", img, ttype)
    w, h = size
    out = lua.eval(f"image.scale(x, {w}, {h}, '{mode}')")
    assert out.dtype == img.dtype and out.shape == (3, h, w)
    if mode == "simple":
        ref = ref_simple(img, w, h)
    else:
        ref = ref_scale(img, w, h, ref_linear_1d if mode == "bilinear" else ref_cubic_1d)
    np.testing.assert_array_equal(out, ref)


def test_scale_forms_and_2d(lua):
    img = np.random.default_rng(4).random((6, 8))
    to_lua(lua, "x", img)
    assert lua.eval("image.scale(x, 16)").shape == (12, 16)            # the longer side
    assert lua.eval("image.scale(x, '4x3')").shape == (3, 4)
    assert lua.eval("image.scale(x, '^3')").shape == (3, 4)            # the shorter side
    assert lua.eval("image.scale(x, '*1/2')").shape == (3, 4)
    assert lua.eval("image.scale(x, '*1.5', 'simple')").shape == (9, 12)
    np.testing.assert_array_equal(lua.eval("image.scale(x, 5, 4)"), ref_scale(img[None], 5, 4, ref_linear_1d)[0])
    lua.execute("dst = torch.DoubleTensor(3, 3)")
    np.testing.assert_array_equal(lua.eval("image.scale(dst, x, 'bicubic')"), ref_scale(img[None], 3, 3, ref_cubic_1d)[0])
    # a linear ramp stays linear when upscaled (corners aligned)
    to_lua(lua, "r", np.arange(4.0)[None, :].repeat(2, 0))
    np.testing.assert_allclose(lua.eval("image.scale(r, 7, 2)")[0], np.linspace(0, 3, 7), atol=1e-6)
    with pytest.raises(LuaError, match="<image.scale> mode must be one of: simple | bicubic | bilinear, got 'nearest'"):
        lua.execute("image.scale(x, 3, 3, 'nearest')")
    with pytest.raises(LuaError, match=r"<image.scale> expects src as a 2D \(height x width\) or 3D"):
        lua.execute("image.scale(torch.rand(4), 3, 3)")


def test_scale_byte_rounds_as_torch7(lua):
    img = np.random.default_rng(5).integers(0, 256, (1, 5, 6), dtype=np.uint8)
    lua.globals().x = img
    out = lua.eval("image.scale(x, 9, 7)")
    assert out.dtype == np.uint8

    def byte_linear(src, n):   # FromIntermediate: +0.5, clamp, truncate
        f = ref_linear_1d(src.astype(np.float64), n)
        return np.clip(f + 0.5, 0, 255).astype(np.uint8) if n != len(src) else src
    # first pass rows (kept as bytes), then columns
    tmp = np.stack([byte_linear(img[0, j], 9) for j in range(5)])
    tmp[:, -1] = img[0, :, -1]
    ref = np.stack([byte_linear(tmp[:, i], 7) for i in range(9)], axis=1)
    ref[-1, :] = tmp[-1, :]
    assert np.abs(out[0].astype(int) - ref.astype(int)).max() <= 1


# ------------------------------------------------------------------ crop, translate, flips, rotate
def test_crop_forms(lua):
    img = np.arange(3 * 6 * 8, dtype=np.float64).reshape(3, 6, 8)
    to_lua(lua, "x", img)
    np.testing.assert_array_equal(lua.eval("image.crop(x, 1, 2, 5, 6)"), img[:, 2:6, 1:5])
    np.testing.assert_array_equal(lua.eval("image.crop(x, 'c', 4, 2)"), img[:, 2:4, 2:6])
    np.testing.assert_array_equal(lua.eval("image.crop(x, 'tl', 3, 2)"), img[:, :2, :3])
    np.testing.assert_array_equal(lua.eval("image.crop(x, 'tr', 3, 2)"), img[:, :2, 5:])
    np.testing.assert_array_equal(lua.eval("image.crop(x, 'bl', 3, 2)"), img[:, 4:, :3])
    np.testing.assert_array_equal(lua.eval("image.crop(x, 'br', 3, 2)"), img[:, 4:, 5:])
    # into a destination: as much as it holds from (x, y)
    lua.execute("d = torch.DoubleTensor(3, 2, 2)")
    np.testing.assert_array_equal(lua.eval("image.crop(d, x, 3, 1)"), img[:, 1:3, 3:5])
    # double values pass through a C float, as in Torch7
    to_lua(lua, "p", np.full((2, 2), 0.1))
    assert lua.eval("image.crop(p, 0, 0, 1, 1)")[0, 0] == np.float64(F(0.1))
    with pytest.raises(LuaError, match=r"<image.crop> crop goes outside bounds of src: \(5, 0\) to \(9, 2\) in a 8x6"):
        lua.execute("image.crop(x, 5, 0, 9, 2)")
    with pytest.raises(LuaError, match='crop format must be "c"|"tl"'):
        lua.execute("image.crop(x, 'middle', 2, 2)")


def test_translate_and_flips(lua):
    img = np.random.default_rng(6).random((3, 5, 7))
    to_lua(lua, "x", img)
    ref = np.zeros_like(img)
    ref[:, 0:4, 2:7] = img[:, 1:5, 0:5]           # x = 2 columns right, y = 1 row up
    np.testing.assert_array_equal(lua.eval("image.translate(x, 2, -1)"), ref)
    np.testing.assert_array_equal(lua.eval("image.hflip(x)"), img[:, :, ::-1])
    np.testing.assert_array_equal(lua.eval("image.vflip(x)"), img[:, ::-1, :])
    np.testing.assert_array_equal(lua.eval("image.hflip(x[1])"), img[0, :, ::-1])
    # in place, as Torch7's C allows (x views img's memory: compare with a copy)
    expect = img[:, ::-1, :].copy()
    np.testing.assert_array_equal(lua.eval("image.vflip(x, x)"), expect)


def ref_rotate(img, theta, bilinear):
    c, sh, sw = img.shape
    out = np.zeros(img.shape, img.dtype)
    theta = F(theta)
    xc, yc = F((sw - 1) / 2.0), F((sh - 1) / 2.0)
    sin_t, cos_t = F(math.sin(theta)), F(math.cos(theta))
    for j in range(sh):
        jd = F(j)
        for i in range(sw):
            idf = F(i)
            if not bilinear:
                u = float(F(F(cos_t * F(idf - xc)) - F(sin_t * F(jd - yc))) + xc)
                v = float(F(F(cos_t * F(jd - yc)) + F(sin_t * F(idf - xc))) + yc)
                ii = int(math.copysign(math.floor(abs(u) + 0.5), u))
                jj = int(math.copysign(math.floor(abs(v) + 0.5), v))
                if 0 <= ii < sw and 0 <= jj < sh:
                    out[:, j, i] = img[:, jj, ii].astype(F)
                continue
            real = img.dtype.type
            ri = real(math.cos(theta) * float(F(idf - xc)) - math.sin(theta) * float(F(jd - yc)))
            rj = real(math.cos(theta) * float(F(jd - yc)) + math.sin(theta) * float(F(idf - xc)))
            i0, j0 = math.floor(ri + xc), math.floor(rj + yc)
            i1, j1 = i0 + 1, j0 + 1
            wi, wj = real(real(ri + xc) - real(i0)), real(real(rj + yc) - real(j0))
            blank = False
            if i1 == sw and wi < 0.5: i1 = i0
            elif i1 >= sw: blank = True
            if j1 == sh and wj < 0.5: j1 = j0
            elif j1 >= sh: blank = True
            if i0 == -1 and wi > 0.5: i0 = i1
            elif i0 < 0: blank = True
            if j0 == -1 and wj > 0.5: j0 = j1
            elif j0 < 0: blank = True
            if blank:
                continue
            wi, wj = float(wi), float(wj)
            for k in range(c):
                v00, v01, v10, v11 = (float(img[k, a, b]) for a, b in ((j0, i0), (j0, i1), (j1, i0), (j1, i1)))
                val = ((1.0 - wi) * (1.0 - wj) * v00 + wi * (1.0 - wj) * v01    # C doubles
                       + (1.0 - wi) * wj * v10 + wi * wj * v11)
                out[k, j, i] = F(val)
    return out


@pytest.mark.parametrize("ttype", ["float", "double"])
@pytest.mark.parametrize("mode", ["simple", "bilinear"])
def test_rotate_matches_torch7_formula(lua, ttype, mode):
    img = np.random.default_rng(7).random((2, 6, 7)).astype(TYPES[ttype][1])
    to_lua(lua, "x", img, ttype)
    for theta in (0.3, -1.1, math.pi / 2):
        out = lua.eval(f"image.rotate(x, {theta!r}, '{mode}')")
        np.testing.assert_array_equal(out, ref_rotate(img, theta, mode == "bilinear"))
    # a quarter turn of a square image is np.rot90 (nearest)
    sq = np.arange(25.0).reshape(1, 5, 5)
    to_lua(lua, "s", sq)
    np.testing.assert_array_equal(lua.eval(f"image.rotate(s, {math.pi / 2!r})"), np.rot90(sq, 1, axes=(1, 2)))
    with pytest.raises(LuaError, match="<image.rotate> in-place rotate not supported"):
        lua.execute("image.rotate(x, x, 0.5)")


# ------------------------------------------------------------------ colour spaces
@pytest.mark.parametrize("ttype", ["float", "double"])
def test_yuv_and_y(lua, ttype):
    dt = TYPES[ttype][1]
    img = np.random.default_rng(8).random((3, 4, 5)).astype(dt)
    to_lua(lua, "x", img, ttype)
    r, g, b = img
    c = dt

    def lin(*terms):   # TH's zero():add(c, t)...: each step in the tensor's type
        acc = np.zeros_like(r)
        for k, t in terms:
            acc = (acc + (t * c(k))).astype(dt)
        return acc
    yuv = np.stack([lin((0.299, r), (0.587, g), (0.114, b)), lin((-0.14713, r), (-0.28886, g), (0.436, b)),
                    lin((0.615, r), (-0.51499, g), (-0.10001, b))])
    np.testing.assert_array_equal(lua.eval("image.rgb2yuv(x)"), yuv)
    yy, u, v = yuv
    back = np.stack([(yy + v * c(1.13983)).astype(dt), ((yy + u * c(-0.39465)).astype(dt) + v * c(-0.58060)).astype(dt),
                     (yy + u * c(2.03211)).astype(dt)])
    np.testing.assert_array_equal(lua.eval("image.yuv2rgb(image.rgb2yuv(x))"), back)
    np.testing.assert_allclose(back, img, atol=1e-3)
    y = lua.eval("image.rgb2y(x)")
    assert y.shape == (1, 4, 5)
    r64, g64, b64 = (ch.astype(np.float64) for ch in img)       # C doubles, stored as real
    np.testing.assert_array_equal(y[0], (0.299 * r64 + 0.587 * g64 + 0.114 * b64).astype(dt))


@pytest.mark.parametrize("ttype", ["float", "double"])
def test_hsl_and_lab(lua, ttype):
    dt = TYPES[ttype][1]
    img = np.random.default_rng(9).random((3, 4, 6)).astype(dt)
    img[:, 0, 0] = 0.5                      # a grey pixel: achromatic
    to_lua(lua, "x", img, ttype)
    hsl = lua.eval("image.rgb2hsl(x)")
    tol = 1e-6 if dt == np.float32 else 1e-12
    for j in range(4):
        for i in range(6):
            h, l, s = colorsys.rgb_to_hls(*map(float, img[:, j, i]))
            np.testing.assert_allclose(hsl[:, j, i], [h, s, l], atol=tol)
    np.testing.assert_allclose(lua.eval("image.hsl2rgb(image.rgb2hsl(x))"), img, atol=10 * tol)
    lab = lua.eval("image.rgb2lab(x)")

    def ref_lab(px):
        lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in map(float, px)]
        X = (0.412453 * lin[0] + 0.357580 * lin[1] + 0.180423 * lin[2]) / 0.950456
        Y = 0.212671 * lin[0] + 0.715160 * lin[1] + 0.072169 * lin[2]
        Z = (0.019334 * lin[0] + 0.119193 * lin[1] + 0.950227 * lin[2]) / 1.088754
        f = lambda t: t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116
        return [116 * f(Y) - 16, 500 * (f(X) - f(Y)), 200 * (f(Y) - f(Z))]
    for j, i in [(0, 0), (1, 3), (3, 5)]:
        np.testing.assert_allclose(lab[:, j, i], ref_lab(img[:, j, i]), atol=1e-4 if dt == np.float32 else 1e-9)
    with pytest.raises(LuaError, match=r"<image.rgb2hsl> expects src as a 3D tensor, got 2D"):
        lua.execute("image.rgb2hsl(torch.rand(3, 3))")


# ------------------------------------------------------------------ gaussian, convolve, minmax
def test_gaussian(lua):
    g = lua.eval("image.gaussian(5)")
    assert g.dtype == np.float64 and g.shape == (5, 5)
    u = np.arange(1, 6)
    mean = 0.5 * 5 + 0.5
    ref = np.exp(-0.5 * (((u[None, :] - mean) / (0.25 * 5)) ** 2 + ((u[:, None] - mean) / (0.25 * 5)) ** 2))
    np.testing.assert_allclose(g, ref, rtol=1e-12)
    assert g[2, 2] == 1.0
    gn = lua.eval("image.gaussian{size=7, sigma=0.3, normalize=true, width=9}")
    assert gn.shape == (7, 9) and abs(gn.sum() - 1) < 1e-12
    assert lua.eval("image.gaussian{size=3, amplitude=2}")[1, 1] == 2.0
    g1 = lua.eval("image.gaussian1D(5)")
    np.testing.assert_allclose(g1, np.exp(-0.5 * ((u - mean) / (0.25 * 5)) ** 2), rtol=1e-12)


def test_convolve_and_minmax(lua):
    img = np.random.default_rng(10).random((2, 6, 7))
    k = np.random.default_rng(11).random((3, 3))
    to_lua(lua, "x", img)
    to_lua(lua, "k", k)

    def conv_full(a, kk):   # true convolution, 'full'
        out = np.zeros((a.shape[0] + kk.shape[0] - 1, a.shape[1] + kk.shape[1] - 1))
        for (p, q), w in np.ndenumerate(kk):
            out[p:p + a.shape[0], q:q + a.shape[1]] += w * a
        return out
    full = np.stack([conv_full(img[c], k) for c in range(2)])
    np.testing.assert_allclose(lua.eval("image.convolve(x, k, 'full')"), full, atol=1e-12)
    np.testing.assert_allclose(lua.eval("image.convolve(x, k)"), full[:, 2:-2, 2:-2], atol=1e-12)
    # 'same': the full result narrowed from ceil(k/2) (1-based), as Torch7
    np.testing.assert_allclose(lua.eval("image.convolve(x, k, 'same')"), full[:, 1:7, 1:8], atol=1e-12)
    mm = lua.eval("image.minmax{tensor=x}")
    np.testing.assert_allclose(mm, (img - img.min()) / (img.max() - img.min()), atol=1e-12)
    sat = lua.eval("image.minmax{tensor=x, min=0.25, max=0.75, saturate=true}")
    np.testing.assert_allclose(sat, np.clip((img - 0.25) / 0.5, 0, 1), atol=1e-12)
    lua.execute("image.minmax{tensor=x, inplace=true}")
    assert lua.eval("x:min()") == 0 and lua.eval("x:max()") == 1
    with pytest.raises(LuaError, match="<image.convolve> mode has to be one of: full | valid | same"):
        lua.execute("image.convolve(x, k, 'wrap')")


# ------------------------------------------------------------------ from and to bytes, more colour spaces
def test_decompress_and_compress(lua, tmp_path):
    a = rgb(6, 5, 12)
    Image.fromarray(a).save(tmp_path / "x.png")
    lua.globals().data = np.frombuffer((tmp_path / "x.png").read_bytes(), dtype=np.uint8).copy()
    np.testing.assert_array_equal(lua.eval("image.decompress(data, 3, 'byte')"), np.moveaxis(a, 2, 0))
    np.testing.assert_array_equal(lua.eval("image.decompressPNG(data)"), np.moveaxis(a, 2, 0) * (1 / 255))
    png = lua.eval("image.compressPNG(image.decompress(data))")
    assert png.dtype == np.uint8 and bytes(png[:4]) == b"\x89PNG"
    import io
    # what Torch7 writes back: v * (1/255) * 255, truncated (so some pixels lose 1)
    expect = np.trunc(np.clip(a * (1 / 255), 0, 1) * 255).astype(np.uint8)
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(png.tobytes()))), expect)
    lossless = lua.eval("image.compressPNG(image.decompress(data, nil, 'byte'))")
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(lossless.tobytes()))), a)
    jpg = lua.eval("image.compressJPG(image.decompress(data), 95)")
    assert bytes(jpg[:3]) == b"\xff\xd8\xff"
    assert lua.eval("image.decompressJPG(image.compressJPG(image.decompress(data), 95)):size(1)") == 3
    with pytest.raises(LuaError, match="<image.decompress> expects the compressed image as a torch.ByteTensor, got torch.DoubleTensor"):
        lua.execute("image.decompress(torch.rand(10))")
    with pytest.raises(LuaError, match="<image.decompress> cannot decode the compressed image as an image"):
        lua.execute("image.decompress(torch.ByteTensor(10):fill(7))")


@pytest.mark.parametrize("ttype", ["float", "double"])
def test_hsv_and_lab2rgb(lua, ttype):
    dt = TYPES[ttype][1]
    img = np.random.default_rng(13).random((3, 4, 5)).astype(dt)
    img[:, 1, 1] = 0.25
    to_lua(lua, "x", img, ttype)
    hsv = lua.eval("image.rgb2hsv(x)")
    tol = 1e-6 if dt == np.float32 else 1e-12
    for j in range(4):
        for i in range(5):
            np.testing.assert_allclose(hsv[:, j, i], colorsys.rgb_to_hsv(*map(float, img[:, j, i])), atol=tol)
    np.testing.assert_allclose(lua.eval("image.hsv2rgb(image.rgb2hsv(x))"), img, atol=10 * tol)
    # Torch7's two matrices are inverses to about 5 digits only
    np.testing.assert_allclose(lua.eval("image.lab2rgb(image.rgb2lab(x))"), img, atol=1e-4)
