"""image.warp, image.affinetransform, image.lcn and PPM/PGM files (Torch7's libppm),
against per-pixel NumPy references written here from torch/image's C code
(generic/image.c Main_warp, generic/ppm.c) and init.lua (lcn, affinetransform)."""
import math

import numpy as np
import pytest

from sparktorch7 import LuaError

F = np.float32
TYPES = {"float": ("torch.FloatTensor", np.float32), "double": ("torch.DoubleTensor", np.float64)}


@pytest.fixture
def lua(lua):
    lua.require("torch")
    lua.execute("image = require 'image'")
    return lua


# ------------------------------------------------------------------ warp reference, pixel by pixel
def cubic(p0, p1, p2, p3, x, real):
    a0, a1 = p1, real(p2 - p0)
    a2 = real(real(2 * p0) - real(5 * p1) + real(4 * p2) - p3)
    a3 = real(real(3 * (p1 - p2)) + p3 - p0)
    inner = real(a1 + x * real(a2 + x * a3))
    return real(float(a0) + 0.5 * float(x) * float(inner))


def lanczos_l(d):
    d = abs(d)
    if d < F(0.000001):
        return F(1)
    if d > F(3):
        return F(0)
    pd = F(F(math.pi) * d)
    num = 3.0 * math.sin(float(pd)) * math.sin(float(F(pd / F(3))))
    return F(num / float(F(F(F(math.pi * math.pi) * d) * d)))


def ref_warp(src, field, mode="bilinear", offset=True, pad_mode=False, pad=0.0):
    real = src.dtype.type
    c, sh, sw = src.shape
    _, h, w = field.shape
    out = np.zeros((c, h, w), src.dtype)
    for y in range(h):
        for x in range(w):
            iy = F(F(y if offset else 0) + F(field[0, y, x]))
            ix = F(F(x if offset else 0) + F(field[1, y, x]))
            off = iy < 0 or iy > sh - 1 or ix < 0 or ix > sw - 1
            if off and pad_mode:
                out[:, y, x] = pad
                continue
            ix = F(min(max(ix, F(0)), F(sw - 1)))
            iy = F(min(max(iy, F(0)), F(sh - 1)))
            for k in range(c):
                if mode == "simple":
                    out[k, y, x] = src[k, int(math.floor(iy + 0.5)), int(math.floor(ix + 0.5))]
                elif mode == "bilinear":
                    x0, y0 = int(math.floor(ix)), int(math.floor(iy))
                    nw = real(F(F(x0 + 1) - ix) * F(F(y0 + 1) - iy))
                    ne = real(F(ix - F(x0)) * F(F(y0 + 1) - iy))
                    swt = real(F(F(x0 + 1) - ix) * F(iy - F(y0)))
                    se = real(F(ix - F(x0)) * F(iy - F(y0)))
                    x1, y1 = min(x0 + 1, sw - 1), min(y0 + 1, sh - 1)
                    v = real(src[k, y0, x0] * nw)
                    v = real(v + src[k, y0, x1] * ne)
                    v = real(v + src[k, y1, x0] * swt)
                    out[k, y, x] = real(v + src[k, y1, x1] * se)
                elif mode == "bicubic":
                    tx, ty = real(ix), real(iy)
                    xp, yp = int(math.floor(tx)), int(math.floor(ty))
                    dx, dy = real(tx - xp), real(ty - yp)
                    arr = []
                    for i in range(4):
                        v = yp + i - 1
                        p = [src[k, v, xp + j - 1] if 0 <= v < sh and 0 <= xp + j - 1 < sw else real(pad)
                             for j in range(4)]
                        arr.append(cubic(*p, dx, real))
                    out[k, y, x] = cubic(*arr, dy, real)
                else:  # lanczos, radius 3
                    xp, yp = int(math.floor(ix)), int(math.floor(iy))
                    lu = [lanczos_l(F(ix - F(u))) for u in range(xp - 2, xp + 4)]
                    lv = [lanczos_l(F(iy - F(v))) for v in range(yp - 2, yp + 4)]
                    total = F(0)
                    for a in lu:
                        for b in lv:
                            total = F(total + F(a * b))
                    res = real(0)
                    for i, u in enumerate(range(xp - 2, xp + 4)):
                        for j, v in enumerate(range(yp - 2, yp + 4)):
                            s = src[k, min(max(v, 0), sh - 1), min(max(u, 0), sw - 1)]
                            res = real(res + s * real(F(lu[i] * lv[j])))
                    out[k, y, x] = real(res / real(total))
    return out


@pytest.mark.parametrize("ttype", ["float", "double"])
@pytest.mark.parametrize("mode", ["simple", "bilinear", "bicubic", "lanczos"])
def test_warp_matches_the_c_code(lua, ttype, mode):
    tname, dt = TYPES[ttype]
    rng = np.random.default_rng(3)
    src = rng.random((3, 7, 9)).astype(dt)
    field = rng.normal(0, 2.5, (2, 6, 8)).astype(dt)       # some positions fall outside src
    field[:, 0, 0] = (0.25, 0.75)                           # near a corner
    lua.globals()["src"], lua.globals()["field"] = src, field
    out = lua.eval(f"image.warp(src, field, '{mode}')")
    assert lua.eval(f"torch.type(image.warp(src, field, '{mode}'))") == tname
    np.testing.assert_allclose(out, ref_warp(src, field, mode), rtol=0, atol=1e-6 if ttype == "float" else 1e-13)
    # absolute positions (offset_mode false) and padding
    absolute = np.abs(field) * 3
    lua.globals()["absf"] = absolute
    out = lua.eval(f"image.warp(src, absf, '{mode}', false, 'pad', 0.25)")
    np.testing.assert_allclose(out, ref_warp(src, absolute, mode, offset=False, pad_mode=True, pad=0.25),
                               rtol=0, atol=1e-6 if ttype == "float" else 1e-13)


def test_warp_forms_identity_2d_byte_and_errors(lua):
    rng = np.random.default_rng(0)
    src = rng.random((2, 5, 6))
    lua.globals()["src"] = src
    lua.globals()["zero"] = np.zeros((2, 4, 3))
    # a zero flow in offset mode is the identity on the field's extent, in every mode (lanczos
    # nearly: sin(float(pi)) is not 0, so the other taps keep weights of ~1e-8)
    for mode, tol in (("simple", 0), ("bilinear", 0), ("bicubic", 1e-15), ("lanczos", 1e-6)):
        np.testing.assert_allclose(lua.eval(f"image.warp(src, zero, '{mode}')"), src[:, :4, :3], rtol=0, atol=tol)
    # default mode bilinear; a destination; a 2D image gives a 2D result
    fld = rng.normal(0, 1, (2, 5, 6))
    lua.globals()["fld"] = fld
    np.testing.assert_allclose(lua.eval("image.warp(src, fld)"), ref_warp(src, fld), atol=1e-13)
    assert lua.execute("local d = torch.DoubleTensor(); local r = image.warp(d, src, fld, 'simple'); "
                       "return r == d, d:dim(), d:size(1)") == (True, 3, 2)
    out2 = lua.eval("image.warp(src[1], fld, 'bilinear')")
    assert out2.shape == (5, 6)
    np.testing.assert_allclose(out2, ref_warp(src[:1], fld)[0], atol=1e-13)
    # a ByteTensor rounds as FromIntermediate (+0.5, clamped)
    bsrc = rng.integers(0, 256, (1, 5, 6)).astype(np.uint8)
    lua.globals()["bsrc"], lua.globals()["bfld"] = bsrc, np.ones((2, 3, 3), np.uint8)
    half = lua.eval("image.warp(bsrc, bfld)")
    np.testing.assert_array_equal(half, bsrc[:, 1:4, 1:4])
    with pytest.raises(LuaError, match=r"<image.warp> mode must be one of: lanczos \| bicubic \| bilinear \| simple, got 'cubic'"):
        lua.execute("image.warp(src, fld, 'cubic')")
    with pytest.raises(LuaError, match=r"<image.warp> clamp_mode must be one of: clamp \| pad, got 'wrap'"):
        lua.execute("image.warp(src, fld, 'bilinear', true, 'wrap')")
    with pytest.raises(LuaError, match='pad_value can only be specified if clamp_mode = "pad"'):
        lua.execute("image.warp(src, fld, 'bilinear', true, 'clamp', 1)")
    with pytest.raises(LuaError, match=r"<image.warp> expects the flow field as 2 x height x width .*got 3x5x6"):
        lua.execute("image.warp(src, torch.zeros(3, 5, 6))")
    with pytest.raises(LuaError, match=r"the flow field must have the type of src \(torch.DoubleTensor\), got torch.FloatTensor"):
        lua.execute("image.warp(src, fld:float())")
    with pytest.raises(LuaError, match=r"<image.warp> expects the flow field as a 3D tensor, got 2D"):
        lua.execute("image.warp(src, torch.zeros(5, 6))")


def ref_affine(src, matrix, translation=(0.0, 0.0)):
    _, h, w = src.shape
    gy = np.outer(np.linspace(-1, 1, h), np.ones(w)) * ((h - 1) / 2) * -1
    gx = np.outer(np.ones(h), np.linspace(-1, 1, w)) * ((w - 1) / 2) * -1
    grid = np.stack([gy, gx])
    field = grid - (matrix @ grid.reshape(2, -1)).reshape(2, h, w)
    field[0] -= translation[0]
    field[1] -= translation[1]
    return field


@pytest.mark.parametrize("ttype", ["float", "double"])
def test_affinetransform(lua, ttype):
    tname, dt = TYPES[ttype]
    rng = np.random.default_rng(5)
    src = rng.random((3, 6, 8)).astype(dt)
    th = 0.3
    matrix = np.array([[math.cos(th), -math.sin(th)], [math.sin(th), math.cos(th)]])
    lua.globals()["src"], lua.globals()["m"] = src, matrix
    out = lua.eval("image.affinetransform(src, m, 'bilinear', {0.5, -1}, 'pad', 0)")
    field = ref_affine(src, matrix, (0.5, -1)).astype(dt)
    np.testing.assert_allclose(out, ref_warp(src, field, "bilinear", pad_mode=True), atol=2e-6)
    # the identity matrix leaves the image as it is; a pure translation shifts it
    np.testing.assert_allclose(lua.eval("image.affinetransform(src, torch.eye(2))"), src, atol=1e-6)
    shifted = lua.eval("image.affinetransform(src, torch.eye(2), 'simple', {0, 2}, 'pad', 0)")
    np.testing.assert_allclose(shifted[:, :, 2:], src[:, :, :-2], atol=1e-6)
    assert not shifted[:, :, :2].any()
    with pytest.raises(LuaError, match=r"<image.affinetransform> expects a 2x2 matrix, got 3x3"):
        lua.execute("image.affinetransform(src, torch.eye(3))")


# ------------------------------------------------------------------ lcn
def ref_lcn(im, ker):
    im = im.astype(np.float64)
    im = (im - im.mean()) / im.std(ddof=1)
    kh, kw = ker.shape
    oh, ow = im.shape[0] - kh + 1, im.shape[1] - kw + 1
    flipped = ker[::-1, ::-1]                   # torch.conv2 is a true convolution

    def conv(a):
        return np.array([[np.sum(a[i:i + kh, j:j + kw] * flipped) for j in range(ow)] for i in range(oh)])

    lmn = conv(im)
    lvar = np.maximum(conv(im * im) - lmn * lmn, 0)
    lstd = np.maximum(np.sqrt(lvar), 1)
    return (im[kh // 2:kh // 2 + oh, kw // 2:kw // 2 + ow] - lmn) / lstd


@pytest.mark.parametrize("ttype", ["float", "double"])
def test_lcn(lua, ttype):
    tname, dt = TYPES[ttype]
    rng = np.random.default_rng(9)
    im = (rng.random((16, 14)) * 10 + np.arange(14)).astype(dt)
    lua.globals()["im"] = im
    ker = lua.eval("image.gaussian({size = 9, sigma = 1.591 / 9, normalize = true})")
    out = lua.eval("image.lcn(im)")
    assert lua.eval("torch.type(image.lcn(im))") == "torch.DoubleTensor" and out.shape == (8, 6)
    np.testing.assert_allclose(out, ref_lcn(im, ker), rtol=1e-10, atol=1e-10)
    # a 1xHxW image and a kernel of one's own; not grey: an error
    k = rng.random((3, 5))
    lua.globals()["k"] = k
    np.testing.assert_allclose(lua.eval("image.lcn(im:view(1, 16, 14), k)"), ref_lcn(im, k), rtol=1e-10, atol=1e-10)
    with pytest.raises(LuaError, match=r"<image.lcn> grayscale image expected \(HxW or 1xHxW\), got 3x16x14"):
        lua.execute("image.lcn(torch.rand(3, 16, 14))")
    with pytest.raises(LuaError, match=r"<image.lcn> the image \(4x4\) is smaller than the kernel \(9x9\)"):
        lua.execute("image.lcn(torch.rand(4, 4))")


# ------------------------------------------------------------------ PPM / PGM
def test_load_binary_ppm_and_pgm(lua, tmp_path):
    rng = np.random.default_rng(1)
    px = rng.integers(0, 256, (4, 5, 3), dtype=np.uint8)
    p6 = tmp_path / "a.ppm"
    p6.write_bytes(b"P6\n# made by a test\n5 4\n255\n" + px.tobytes())
    for ttype in ("float", "double"):
        img = lua.eval(f"image.load('{p6}', nil, '{ttype}')")
        assert img.dtype == TYPES[ttype][1] and img.shape == (3, 4, 5)
        np.testing.assert_allclose(img, px.transpose(2, 0, 1).astype(np.float64) / 255, rtol=1e-6)
    np.testing.assert_array_equal(lua.eval(f"image.loadPPM('{p6}', 3, 'byte')"), px.transpose(2, 0, 1))
    grey = lua.eval(f"image.load('{p6}', 1, 'byte')")          # depth 1 through rgb2y, as Torch7
    assert grey.shape == (4, 5)
    # P5 with no extension: found by its magic number; 1 channel
    g = rng.integers(0, 256, (3, 6), dtype=np.uint8)
    p5 = tmp_path / "grey_without_ext"
    p5.write_bytes(b"P5 6 3 255\n" + g.tobytes())
    np.testing.assert_array_equal(lua.eval(f"image.load('{p5}', nil, 'byte')"), g[None])
    np.testing.assert_allclose(lua.eval(f"image.loadPGM('{p5}', 3)"), np.repeat(g[None] / 255.0, 3, 0), rtol=1e-12)
    assert lua.execute(f"return image.getPPMsize('{p5}')") == (1, 3, 6)
    assert list(lua.eval(f"image.getSize('{p6}')")) == [3, 4, 5]
    # 16-bit samples: read low byte first and not rescaled, as libppm does
    s16 = np.array([[1, 256, 1000]], dtype="<u2")
    p16 = tmp_path / "deep.pgm"
    p16.write_bytes(b"P5\n3 1\n65535\n" + s16.tobytes())
    np.testing.assert_allclose(lua.eval(f"image.load('{p16}', nil, 'double')")[0, 0], [1 / 255, 256 / 255, 1000 / 255])
    np.testing.assert_array_equal(lua.eval(f"image.load('{p16}', nil, 'byte')")[0, 0], [1, 0, 1000 % 256])


def test_load_ascii_pgm_and_ppm(lua, tmp_path):
    p2 = tmp_path / "a.pgm"
    p2.write_text("P2\n# comment\n4 2\n15\n0 3 7 15\n 15 0 1 2\n")
    img = lua.eval(f"image.load('{p2}', 1, 'byte')")
    np.testing.assert_array_equal(img, [[[0, 51, 119, 255], [255, 0, 17, 34]]])   # 255 * v // 15
    assert lua.eval(f"image.load('{p2}', 1, 'byte')[1][1][2]") == math.floor(255 * 3 / 15)
    p3 = tmp_path / "a.ppm"
    p3.write_text("P3 2 1 255  255 0 0   0 0 255")
    np.testing.assert_allclose(lua.eval(f"image.load('{p3}')")[:, 0, :], [[1, 0], [0, 0], [0, 1]])


def test_save_ppm_pgm_round_trip(lua, tmp_path):
    rng = np.random.default_rng(2)
    img = rng.random((3, 4, 6)) * 1.2 - 0.1                  # outside [0, 1]: clamped
    lua.globals()["img"] = img
    path = tmp_path / "o.ppm"
    lua.execute(f"image.savePPM('{path}', img)")
    data = path.read_bytes()
    head = b"P6\n6 4\n255\n"
    assert data.startswith(head) and len(data) == len(head) + 72
    expect = np.trunc(np.clip(img, 0, 1) * 255).astype(np.uint8)
    np.testing.assert_array_equal(np.frombuffer(data[len(head):], np.uint8).reshape(4, 6, 3).transpose(2, 0, 1), expect)
    np.testing.assert_array_equal(lua.eval(f"image.load('{path}', 3, 'byte')"), expect)
    # image.save by extension; a PGM from 2D or 1xHxW; a ByteTensor as it is
    pgm = tmp_path / "o.pgm"
    lua.execute(f"image.save('{pgm}', img[1]:float())")
    assert pgm.read_bytes().startswith(b"P5\n6 4\n255\n")
    np.testing.assert_array_equal(lua.eval(f"image.load('{pgm}', 1, 'byte')"), expect[:1])
    lua.globals()["b"] = expect[:1].copy()
    lua.execute(f"image.savePGM('{pgm}', b)")
    np.testing.assert_array_equal(lua.eval(f"image.load('{pgm}', nil, 'byte')"), expect[:1])
    with pytest.raises(LuaError, match=r"<image.savePPM> can only save 3xHxW images as PPM, got 1x4x6"):
        lua.execute(f"image.savePPM('{path}', b)")
    with pytest.raises(LuaError, match=r"<image.savePGM> can only save 1xHxW or HxW images as PGM, got 3x4x6"):
        lua.execute(f"image.savePGM('{pgm}', img)")
    with pytest.raises(LuaError, match=r"<image.savePPM> can only save 3xHxW images as PPM"):
        lua.execute(f"image.save('{path}', img[1])")


def test_bad_ppm_files(lua, tmp_path):
    p4 = tmp_path / "a.pbm"
    p4.write_bytes(b"P4\n8 1\n\xff")
    with pytest.raises(LuaError, match=r"<image.loadPPM> unsupported magic number: P4"):
        lua.execute(f"image.loadPPM('{p4}')")
    short = tmp_path / "short.ppm"
    short.write_bytes(b"P6\n100 100\n255\n" + b"\0" * 10)
    with pytest.raises(LuaError, match=r"<image.loadPPM> corrupted file or read error: .* holds 10 bytes of pixels, "
                                       r"a 100x100 P6 with maxval 255 needs 30000"):
        lua.execute(f"image.load('{short}')")
    bad = tmp_path / "bad.pgm"
    bad.write_bytes(b"P5\nab 3\n255\n")
    with pytest.raises(LuaError, match=r"corrupted file .*bad.pgm: expected the width \(a number\) at byte 3, got 'a'"):
        lua.execute(f"image.load('{bad}')")
    endless = tmp_path / "comment.pgm"
    endless.write_bytes(b"P5\n# a comment that never ends")         # libppm loops forever here
    with pytest.raises(LuaError, match=r"expected the width \(a number\) at byte \d+, got the end of the file"):
        lua.execute(f"image.load('{endless}')")
    asc = tmp_path / "few.pgm"
    asc.write_text("P2 3 3 255 1 2 3")
    with pytest.raises(LuaError, match=r"corrupted file or read error: .* holds 3 samples, a 3x3 P2 needs 9"):
        lua.execute(f"image.load('{asc}')")
    with pytest.raises(LuaError, match=r"<image.loadPPM> cannot open file <.*nope.ppm> for reading"):
        lua.execute(f"image.loadPPM('{tmp_path / 'nope.ppm'}')")
