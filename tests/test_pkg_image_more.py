"""image: polar and log-polar resampling, erosion and dilation, drawRect, colour maps,
Laplacian kernels, Gaussian pyramids, flip, toDisplayTensor and the file-type table,
against NumPy references written here from torch/image's C and Lua code, float and double."""
import math

import numpy as np
import pytest

from pkg_helpers import TNAME, package_fixture
from sparktorch7 import LuaError

F = np.float32
TYPES = {"float": (TNAME[np.float32], np.float32), "double": (TNAME[np.float64], np.float64)}

lua = package_fixture("image")


def call(lua, expr, *arrays, ttype="double"):
    dt = TYPES[ttype][1]
    names = ", ".join(f"a{i}" for i in range(len(arrays)))
    return lua.eval(f"function({names}) return {expr} end")(*[np.ascontiguousarray(a, dtype=dt) for a in arrays])


# ------------------------------------------------------------------ polar / logpolar
def ref_polar(src, dst_hw, full, log, bilinear):
    """generic/image.c's Main_polar, Main_polarBilinear, Main_logPolar, Main_logPolarBilinear,
    pixel by pixel: float positions where the C code has floats, the value through a C float."""
    s = src if src.ndim == 3 else src[None]
    sh, sw = s.shape[1:]
    dh, dw = dst_hw
    out = np.zeros((s.shape[0], dh, dw), src.dtype)
    mid_y, mid_x = F(sh / 2.0), F(sw / 2.0)
    m = F(math.sqrt(float(F(sw) * F(sw) + F(sh) * F(sh))) / 2.0) if full else (mid_x if sw < sh else mid_y)
    fw = F(math.log(float(m)) / float(F(dw)))
    temp = src.dtype.type if (bilinear and not log) else F
    for j in range(dh):
        a = F((2 * math.pi * float(F(j))) / float(F(dh)))
        for i in range(dw):
            r = F(math.exp(float(F(F(i) * fw)))) if log else F(F(m * F(i)) / F(dw))
            y = float(r) * math.cos(float(a)) + float(mid_y)
            x = -float(r) * math.sin(float(a)) + float(mid_x)
            if bilinear:
                y, x = temp(y), temp(x)
            y0, x0 = math.floor(y), math.floor(x)
            inside = 0 <= x0 <= sw - 1 and 0 <= y0 <= sh - 1
            for k in range(s.shape[0]):
                val = F(s[k, y0, x0]) if inside else F(0)
                if bilinear and inside and x0 + 1 <= sw - 1 and y0 + 1 <= sh - 1:
                    wi, wj = float(temp(x - temp(x0))), float(temp(y - temp(y0)))
                    val = F((1.0 - wi) * (1.0 - wj) * float(s[k, y0, x0]) + wi * (1.0 - wj) * float(s[k, y0, x0 + 1])
                            + (1.0 - wi) * wj * float(s[k, y0 + 1, x0]) + wi * wj * float(s[k, y0 + 1, x0 + 1]))
                out[k, j, i] = val
    return out if src.ndim == 3 else out[0]


@pytest.mark.parametrize("ttype", ["float", "double"])
@pytest.mark.parametrize("fname, log", [("polar", False), ("logpolar", True)])
@pytest.mark.parametrize("interp", ["simple", "bilinear"])
@pytest.mark.parametrize("mode", ["valid", "full"])
def test_polar_logpolar(lua, ttype, fname, log, interp, mode):
    dt = TYPES[ttype][1]
    src = np.random.default_rng(0).random((3, 9, 12)).astype(dt)
    out = call(lua, f"image.{fname}(a0, '{interp}', '{mode}')", src, ttype=ttype)
    assert out.shape == (3, 12, 12)                           # depth x max(H, W) x max(H, W)
    np.testing.assert_array_equal(out, ref_polar(src, (12, 12), mode == "full", log, interp == "bilinear"))
    grey = call(lua, f"image.{fname}(a0, '{interp}', '{mode}')", src[1], ttype=ttype)
    np.testing.assert_array_equal(grey, out[1])
    dst = call(lua, f"image.{fname}(torch.Tensor():typeAs(a0):resize(3, 5, 7), a0, '{interp}', '{mode}')", src, ttype=ttype)
    np.testing.assert_array_equal(dst, ref_polar(src, (5, 7), mode == "full", log, interp == "bilinear"))


def test_polar_geometry_and_errors(lua):
    """Row 0 (angle 0) walks down the column through the centre; the defaults are simple/valid."""
    src = np.arange(10 * 10, dtype=np.float64).reshape(10, 10)
    out = call(lua, "image.polar(a0)", src)
    for i in range(10):
        np.testing.assert_equal(out[0, i], src[5 + math.floor(5 * i / 10), 5])
    with pytest.raises(LuaError, match=r"<image.polar> interpolation must be one of: simple \| bilinear, got 'cubic'"):
        call(lua, "image.polar(a0, 'cubic')", src)
    with pytest.raises(LuaError, match=r"<image.logpolar> mode must be one of: valid \| full, got 'same'"):
        call(lua, "image.logpolar(a0, 'simple', 'same')", src)
    with pytest.raises(LuaError, match=r"<image.polar> src and dst depths do not match"):
        call(lua, "image.polar(torch.Tensor(2, 4, 4), a0)", src)


# ------------------------------------------------------------------ morphology
def ref_morph(im, kern, pad, dilate):
    kh, kw = kern.shape
    hp, wp = kh // 2, kw // 2
    padded = np.full((im.shape[0] + 2 * hp, im.shape[1] + 2 * wp), float(pad))
    padded[hp:hp + im.shape[0], wp:wp + im.shape[1]] = im
    out = np.zeros(im.shape)
    for y in range(im.shape[0]):
        for x in range(im.shape[1]):
            win = padded[y:y + kh, x:x + kw]
            if dilate:      # any set pixel under the kernel (correlation)
                out[y, x] = float((win * kern).sum() > 0)
            else:           # every pixel under the flipped kernel set (torch.conv2 flips)
                out[y, x] = float((win * kern[::-1, ::-1]).sum() == kern.sum())
    return out


@pytest.mark.parametrize("ttype", ["float", "double"])
def test_erode_dilate(lua, ttype):
    dt = TYPES[ttype][1]
    im = (np.random.default_rng(1).random((7, 9)) > 0.4).astype(dt)
    kern = np.array([[0, 1, 0], [1, 1, 1], [0, 0, 0]], dtype=dt)        # not symmetric
    square = np.ones((3, 3))
    np.testing.assert_array_equal(call(lua, "image.erode(a0)", im, ttype=ttype), ref_morph(im, square, 1, False))
    np.testing.assert_array_equal(call(lua, "image.dilate(a0)", im, ttype=ttype), ref_morph(im, square, 0, True))
    np.testing.assert_array_equal(call(lua, "image.erode(a0, a1, 0)", im, kern, ttype=ttype), ref_morph(im, kern, 0, False))
    np.testing.assert_array_equal(call(lua, "image.dilate(a0, a1, 1)", im, kern, ttype=ttype), ref_morph(im, kern, 1, True))
    big = np.ones((5, 3), dtype=dt)
    np.testing.assert_array_equal(call(lua, "image.erode(a0, a1)", im, big, ttype=ttype), ref_morph(im, big, 1, False))
    with pytest.raises(LuaError, match=r"<image.erode> expects a kernel of odd sizes, got 2x3"):
        call(lua, "image.erode(a0, a1)", im, np.ones((2, 3)), ttype=ttype)
    with pytest.raises(LuaError, match=r"<image.dilate> expects the image as a 2D tensor, got 3D"):
        call(lua, "image.dilate(a0)", im[None], ttype=ttype)


# ------------------------------------------------------------------ drawRect
@pytest.mark.parametrize("ttype", ["float", "double"])
def test_draw_rect(lua, ttype):
    dt = TYPES[ttype][1]
    src = np.zeros((3, 10, 12), dt)
    out = call(lua, "image.drawRect(a0, 2, 3, 8, 7)", src, ttype=ttype)
    # 1-pixel lines on Lua's 1-based columns 2 and 8 (rows 3..7) and rows 3 and 7 (columns 2..8)
    ref = np.zeros((10, 12), bool)
    ref[2:7, [1, 7]] = True
    ref[[2, 6], 1:8] = True
    colour = np.array([255, 0, 0], np.float32) / F(255)
    np.testing.assert_array_equal(out, np.where(ref[None], colour[:, None, None], 0).astype(dt))
    np.testing.assert_array_equal(src, 0)                              # a copy unless inplace
    out = call(lua, "image.drawRect(a0, 3, 3, 9, 20, {lineWidth = 3, color = {0, 128, 255}, inplace = true})", src,
               ttype=ttype)
    ref = np.zeros((10, 12), bool)
    ref[1:10, 1:4] = ref[1:10, 7:10] = True                            # 3 wide around columns 3 and 9
    ref[1:4, 1:10] = True                                              # the bottom edge is off the image
    colour = np.array([0, 128, 255], np.float32) / F(255)
    np.testing.assert_array_equal(out, np.where(ref[None], colour[:, None, None], 0).astype(dt))
    with pytest.raises(LuaError, match=r"<image.drawRect> input image has to be a 3D tensor of shape 3 x H x W, got 10x12"):
        call(lua, "image.drawRect(a0, 1, 1, 2, 2)", src[0], ttype=ttype)


def test_draw_rect_bytes(lua):
    src = np.zeros((3, 5, 5), np.uint8)
    lua.globals()["b"] = src
    out = lua.eval("image.drawRect(b, 2, 2, 4, 4, {color = {10, 20, 30}})")
    ring = np.zeros((5, 5), bool)
    ring[1:4, [1, 3]] = ring[[1, 3], 1:4] = True
    np.testing.assert_array_equal(out, np.where(ring[None], np.array([10, 20, 30])[:, None, None], 0))


# ------------------------------------------------------------------ colour maps, kernels
def test_colormaps_and_y2jet(lua):
    n = 12
    got = lua.eval(f"image.colormap({n})")
    ref = []
    for k in range(n):
        hue, sat = math.fmod(39 * k, 360), math.fmod(k / 9, 0.7) + 0.3
        c = sat                                              # (1 - |2 l - 1|) sat, l = 0.5
        hp = hue / 60
        x = c * (1 - abs(math.fmod(hp, 2) - 1))
        r, g, b = [(c, x, 0), (x, c, 0), (0, c, x), (0, x, c), (x, 0, c), (c, 0, x)][min(int(hp), 5)]
        ref.append([r + 0.5 - c / 2, g + 0.5 - c / 2, b + 0.5 - c / 2])
    np.testing.assert_allclose(got, ref, rtol=1e-12)
    jet = lua.eval("image.jetColormap(8)")
    f = 4 * np.arange(1, 9) / 8
    ref = np.stack([np.clip(np.minimum(f - 1.5, -f + 4.5), 0, 1), np.clip(np.minimum(f - 0.5, -f + 3.5), 0, 1),
                    np.clip(np.minimum(f + 0.5, -f + 2.5), 0, 1)], 1)
    np.testing.assert_allclose(jet, ref, rtol=1e-12)
    levels = np.array([[1, 3, 8], [8, 2, 5]], dtype=np.float64)
    out = call(lua, "image.y2jet(a0)", levels)
    np.testing.assert_allclose(out, ref[levels.astype(int) - 1].transpose(2, 0, 1), rtol=1e-12)
    lua.globals()["lv"] = levels.astype(np.uint8)
    outb = lua.eval("image.y2jet(lv)")
    np.testing.assert_array_equal(outb, np.round(ref * 255)[levels.astype(int) - 1].transpose(2, 0, 1))


def test_laplacian(lua):
    got = lua.eval("image.laplacian{size = 5, sigma = 0.3, amplitude = 2}")
    i, j = np.meshgrid(np.arange(1, 6), np.arange(1, 6), indexing="ij")
    xsq = ((i - 3.0) / (0.3 * 5)) ** 2 / 2
    ysq = ((j - 3.0) / (0.3 * 5)) ** 2 / 2
    ref = (1 - (xsq + ysq)) * 2 * np.exp(-(xsq + ysq))
    np.testing.assert_allclose(got, ref, rtol=1e-12)
    np.testing.assert_allclose(lua.eval("image.laplacian{size = 5, sigma = 0.3, normalize = true}"),
                               ref / ref.sum(), rtol=1e-12)


@pytest.mark.parametrize("ttype", ["float", "double"])
def test_gaussianpyramid(lua, ttype):
    dt = TYPES[ttype][1]
    src = np.random.default_rng(2).random((2, 6, 8)).astype(dt)
    levels = call(lua, "image.gaussianpyramid(a0, {1, 1, 0.5})", src, ttype=ttype)
    k = lua.eval("image.gaussian{width = 3, normalize = true}").astype(np.float64)

    def same(img):                                           # 'same' 2D convolution, zero borders
        p = np.pad(img.astype(np.float64), ((0, 0), (1, 1), (1, 1)))
        win = np.lib.stride_tricks.sliding_window_view(p, (3, 3), axis=(1, 2))
        return np.einsum("chwij,ij->chw", win, k[::-1, ::-1])

    tol = dict(rtol=1e-5, atol=1e-6) if dt == np.float32 else dict(rtol=1e-12)
    np.testing.assert_array_equal(levels[1], src)
    np.testing.assert_allclose(levels[2], same(src), **tol)
    assert levels[3].shape == (2, 3, 4)
    with pytest.raises(LuaError, match=r"<image.gaussianpyramid> expects the scales as a list of numbers, got number"):
        call(lua, "image.gaussianpyramid(a0, 2)", src, ttype=ttype)


# ------------------------------------------------------------------ flip, grids, file types
@pytest.mark.parametrize("ttype", ["float", "double"])
def test_flip(lua, ttype):
    x = np.random.default_rng(3).random((2, 3, 4, 5)).astype(TYPES[ttype][1])
    for d in range(1, 5):
        np.testing.assert_array_equal(call(lua, f"image.flip(a0, {d})", x, ttype=ttype), np.flip(x, d - 1))
    np.testing.assert_array_equal(call(lua, "image.flip(a0, 1)", x[0, 0, 0], ttype=ttype), x[0, 0, 0, ::-1])
    with pytest.raises(LuaError, match=r"<image.flip> bad flip dimension 5 for a 4D tensor"):
        call(lua, "image.flip(a0, 5)", x, ttype=ttype)


def test_to_display_tensor(lua):
    rng = np.random.default_rng(4)
    pack = rng.random((5, 3, 4, 4))
    grid = call(lua, "image.toDisplayTensor{input = a0, padding = 2, nrow = 3}", pack)
    ref = np.full((3, 2 * 6, 3 * 6), pack.max())
    for k in range(5):
        y, x = divmod(k, 3)
        ref[:, y * 6 + 1:y * 6 + 5, x * 6 + 1:x * 6 + 5] = pack[k]
    ref = (ref - ref.min()) / (ref.max() - ref.min())
    np.testing.assert_allclose(grid, ref, rtol=1e-12)
    maps = rng.random((4, 3, 5)) * 10
    grid = call(lua, "image.toDisplayTensor{input = a0, nrow = 2, scaleeach = true}", maps)
    ref = np.zeros((6, 10))
    for k in range(4):
        y, x = divmod(k, 2)
        m = maps[k]
        ref[y * 3:(y + 1) * 3, x * 5:(x + 1) * 5] = (m - m.min()) / (m.max() - m.min())
    np.testing.assert_allclose(grid, ref, rtol=1e-12)
    listed = lua.eval("function(a, b) return image.toDisplayTensor({a, b}) end")(pack[0], pack[1])
    both = np.concatenate([pack[0], pack[1]], axis=2)
    np.testing.assert_allclose(listed, (both - both.min()) / (both.max() - both.min()), rtol=1e-12)


def test_file_types_and_display(lua):
    assert lua.eval("image.is_supported('JPEG')") and lua.eval("image.is_supported('pgm')")
    assert not lua.eval("image.is_supported('gif')")
    assert lua.eval("image.supported_filetypes.png.loader == image.loadPNG")
    with pytest.raises(LuaError, match=r"<image.display> opens a window \(qt\) in Torch7: there is no display"):
        lua.execute("image.display(torch.rand(3, 4, 4))")


@pytest.mark.parametrize("fname, why", [("drawText", r"torch/image's own bitmap font"),
                                        ("lena", r"the sample image bundled with torch/image"),
                                        ("fabio", r"the sample image bundled with torch/image")])
def test_not_shipped_functions_say_so(lua, fname, why):
    with pytest.raises(LuaError, match=rf"<image.{fname}> .*{why}"):
        lua.execute(f"image.{fname}(torch.rand(3, 8, 8), 'hi', 1, 1)")
