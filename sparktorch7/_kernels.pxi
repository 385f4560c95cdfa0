# C loops under the NumPy nn kernels (_nn_ops.py): im2col and 2-D max pooling.
#
# Both take float32 or float64 arrays of any strides (negative too), check every size
# they are given against the arrays they write and read, and run without the GIL.
# Positions outside the input (padding) read as zero (im2col) or never win (pooling).

from libc.math cimport INFINITY, NAN

ctypedef fused _real:
    float
    double


cdef inline Py_ssize_t _estride(cnp.ndarray a, int axis):
    """a's stride along axis in elements (a's itemsize divides it for aligned arrays)."""
    return a.strides[axis] // a.itemsize


cdef void _im2col_plane(const _real* x, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t H, Py_ssize_t W,
                        _real* cols, Py_ssize_t ldc, Py_ssize_t kH, Py_ssize_t kW,
                        Py_ssize_t dH, Py_ssize_t dW, Py_ssize_t padH, Py_ssize_t padW,
                        Py_ssize_t dilH, Py_ssize_t dilW, Py_ssize_t oh0, Py_ssize_t oH,
                        Py_ssize_t oW) noexcept nogil:
    """The kH*kW rows of one input plane: row (i, j) holds x[(oh0+oh)*dH - padH + i*dilH,
    ow*dW - padW + j*dilW] over (oh, ow), zero outside the plane."""
    cdef Py_ssize_t i, j, oh, ow, ih, iw, lo, hi, off
    cdef _real* row
    cdef _real* dst
    cdef const _real* src
    for i in range(kH):
        for j in range(kW):
            row = cols + (i * kW + j) * ldc
            off = j * dilW - padW
            # the ow with 0 <= ow*dW + off < W: [lo, hi)
            lo = 0 if off >= 0 else (-off + dW - 1) // dW
            hi = 0 if W - off <= 0 else (W - off + dW - 1) // dW
            if hi > oW:
                hi = oW
            if lo > hi:
                lo = hi
            for oh in range(oH):
                dst = row + oh * oW
                ih = (oh0 + oh) * dH - padH + i * dilH
                if ih < 0 or ih >= H:
                    memset(dst, 0, oW * sizeof(_real))
                    continue
                if lo > 0:
                    memset(dst, 0, lo * sizeof(_real))
                if hi < oW:
                    memset(dst + hi, 0, (oW - hi) * sizeof(_real))
                if hi == lo:
                    continue
                src = x + ih * sh + (lo * dW + off) * sw
                if dW == 1 and sw == 1:
                    memcpy(dst + lo, src, (hi - lo) * sizeof(_real))
                else:
                    for ow in range(lo, hi):
                        dst[ow] = src[0]
                        src += dW * sw


cdef void _im2col(const _real* x, Py_ssize_t sc, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t C,
                  Py_ssize_t H, Py_ssize_t W, _real* cols, Py_ssize_t ldc, Py_ssize_t kH,
                  Py_ssize_t kW, Py_ssize_t dH, Py_ssize_t dW, Py_ssize_t padH, Py_ssize_t padW,
                  Py_ssize_t dilH, Py_ssize_t dilW, Py_ssize_t oh0, Py_ssize_t oH,
                  Py_ssize_t oW) noexcept nogil:
    cdef Py_ssize_t c
    for c in range(C):
        _im2col_plane(x + c * sc, sh, sw, H, W, cols + c * kH * kW * ldc, ldc, kH, kW, dH, dW,
                      padH, padW, dilH, dilW, oh0, oH, oW)


cdef _check_real_pair(cnp.ndarray a, cnp.ndarray b, str where):
    if a.dtype != b.dtype or a.dtype.num not in (cnp.NPY_FLOAT32, cnp.NPY_FLOAT64):
        raise TypeError(f"{where}: expected two float32 or two float64 arrays, got {a.dtype} "
                        f"and {b.dtype}")
    if not (cnp.PyArray_ISALIGNED(a) and cnp.PyArray_ISALIGNED(b)):
        raise ValueError(f"{where}: arrays must be aligned")


def im2col2d(cnp.ndarray x, cnp.ndarray cols, Py_ssize_t kH, Py_ssize_t kW, Py_ssize_t dH,
             Py_ssize_t dW, Py_ssize_t padH, Py_ssize_t padW, Py_ssize_t dilH, Py_ssize_t dilW,
             Py_ssize_t oH, Py_ssize_t oW, Py_ssize_t oh0=0):
    """cols (C*kH*kW, oH*oW) := the convolution windows of the image x (C, H, W) for the
    output rows oh0 .. oh0+oH-1, rows in (plane, kernel row, kernel column) order, zero
    where a window reaches into the padding. cols' rows must be contiguous (its row
    stride is free)."""
    if x.ndim != 3 or cols.ndim != 2:
        raise ValueError(f"im2col2d: expected x (C, H, W) and cols (C*kH*kW, oH*oW), got "
                         f"shapes {(<object>x).shape} and {(<object>cols).shape}")
    _check_real_pair(x, cols, "im2col2d")
    if min(kH, kW, dH, dW, dilH, dilW) < 1 or min(padH, padW, oH, oW) < 0:
        raise ValueError(f"im2col2d: kernel {kH}x{kW}, stride {dH}x{dW}, dilation {dilH}x{dilW} "
                         f"must be >= 1 and padding {padH}x{padW}, output {oH}x{oW} from row {oh0} >= 0")
    cdef Py_ssize_t C = x.shape[0], H = x.shape[1], W = x.shape[2]
    if cols.shape[0] != C * kH * kW or cols.shape[1] != oH * oW:
        raise ValueError(f"im2col2d: cols has shape {(<object>cols).shape}, expected "
                         f"({C * kH * kW}, {oH * oW}) for {C} planes, a {kH}x{kW} kernel and "
                         f"a {oH}x{oW} output")
    if cols.shape[1] > 1 and cols.strides[1] != cols.itemsize:
        raise ValueError("im2col2d: the rows of cols must be contiguous")
    if not cols.flags.writeable:
        raise ValueError("im2col2d: cols is read-only")
    if C == 0 or oH == 0 or oW == 0:
        return
    cdef Py_ssize_t sc = _estride(x, 0), sh = _estride(x, 1), sw = _estride(x, 2)
    cdef Py_ssize_t ldc = _estride(cols, 0)
    if H == 0 or W == 0:  # every window in the padding
        sc = sh = sw = 0
    if x.dtype.num == cnp.NPY_FLOAT32:
        with nogil:
            _im2col(<const float*>cnp.PyArray_DATA(x), sc, sh, sw, C, H, W,
                    <float*>cnp.PyArray_DATA(cols), ldc, kH, kW, dH, dW, padH, padW, dilH,
                    dilW, oh0, oH, oW)
    else:
        with nogil:
            _im2col(<const double*>cnp.PyArray_DATA(x), sc, sh, sw, C, H, W,
                    <double*>cnp.PyArray_DATA(cols), ldc, kH, kW, dH, dW, padH, padW, dilH,
                    dilW, oh0, oH, oW)


cdef inline Py_ssize_t _first_inside(Py_ssize_t start, Py_ssize_t dil) noexcept nogil:
    """The first window offset k >= 0 with start + k*dil >= 0."""
    return 0 if start >= 0 else (-start + dil - 1) // dil


cdef inline Py_ssize_t _end_inside(Py_ssize_t start, Py_ssize_t dil, Py_ssize_t size,
                                   Py_ssize_t k) noexcept nogil:
    """One past the last window offset (at most k) with start + offset*dil < size."""
    cdef Py_ssize_t e = 0 if start >= size else (size - start + dil - 1) // dil
    return e if e < k else k


cdef void _max_pool_plane(const _real* x, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t H,
                          Py_ssize_t W, _real* out, Py_ssize_t soh, Py_ssize_t sow,
                          Py_ssize_t oH, Py_ssize_t oW, Py_ssize_t kH, Py_ssize_t kW,
                          Py_ssize_t dH, Py_ssize_t dW, Py_ssize_t padH, Py_ssize_t padW,
                          Py_ssize_t dilH, Py_ssize_t dilW, _real lowest) noexcept nogil:
    """out[oh, ow] := the largest x in the window, NaN if the window holds one, lowest
    when it lies wholly in the padding. Only the window positions inside the plane are
    visited, without a branch per element (v > m ? v : m is one max instruction)."""
    cdef Py_ssize_t oh, ow, i, j, h0, w0, i0, i1, j0, j1
    cdef _real m, v
    cdef bint nan
    cdef const _real* r
    for oh in range(oH):
        h0 = oh * dH - padH
        i0 = _first_inside(h0, dilH)
        i1 = _end_inside(h0, dilH, H, kH)
        for ow in range(oW):
            w0 = ow * dW - padW
            j0 = _first_inside(w0, dilW)
            j1 = _end_inside(w0, dilW, W, kW)
            m = lowest
            nan = False
            for i in range(i0, i1):
                r = x + (h0 + i * dilH) * sh + w0 * sw
                for j in range(j0, j1):
                    v = r[j * dilW * sw]
                    m = v if v > m else m
                    nan = nan | (v != v)
            if nan:
                m = m - m + <_real>NAN
            out[oh * soh + ow * sow] = m


cdef void _max_pool(const _real* x, Py_ssize_t sp, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t P,
                    Py_ssize_t H, Py_ssize_t W, _real* out, Py_ssize_t sop, Py_ssize_t soh,
                    Py_ssize_t sow, Py_ssize_t oH, Py_ssize_t oW, Py_ssize_t kH, Py_ssize_t kW,
                    Py_ssize_t dH, Py_ssize_t dW, Py_ssize_t padH, Py_ssize_t padW,
                    Py_ssize_t dilH, Py_ssize_t dilW, _real lowest) noexcept nogil:
    cdef Py_ssize_t p
    for p in range(P):
        _max_pool_plane(x + p * sp, sh, sw, H, W, out + p * sop, soh, sow, oH, oW, kH, kW,
                        dH, dW, padH, padW, dilH, dilW, lowest)


def max_pool2d_planes(cnp.ndarray x, cnp.ndarray out, Py_ssize_t kH, Py_ssize_t kW,
                      Py_ssize_t dH, Py_ssize_t dW, Py_ssize_t padH, Py_ssize_t padW,
                      Py_ssize_t dilH, Py_ssize_t dilW):
    """out (P, oH, oW) := max pooling of the planes x (P, H, W): out[p, oh, ow] is the
    largest x[p, oh*dH - padH + i*dilH, ow*dW - padW + j*dilW] over the kH x kW window
    positions inside the plane (NaN if one is NaN, -inf if none is inside)."""
    if x.ndim != 3 or out.ndim != 3 or x.shape[0] != out.shape[0]:
        raise ValueError(f"max_pool2d_planes: expected x (P, H, W) and out (P, oH, oW), got "
                         f"shapes {(<object>x).shape} and {(<object>out).shape}")
    _check_real_pair(x, out, "max_pool2d_planes")
    if min(kH, kW, dH, dW, dilH, dilW) < 1 or min(padH, padW) < 0:
        raise ValueError(f"max_pool2d_planes: kernel {kH}x{kW}, stride {dH}x{dW}, dilation "
                         f"{dilH}x{dilW} must be >= 1 and padding {padH}x{padW} >= 0")
    if not out.flags.writeable:
        raise ValueError("max_pool2d_planes: out is read-only")
    cdef Py_ssize_t P = x.shape[0], H = x.shape[1], W = x.shape[2]
    cdef Py_ssize_t oH = out.shape[1], oW = out.shape[2]
    if P == 0 or oH == 0 or oW == 0:
        return
    cdef Py_ssize_t sp = _estride(x, 0), sh = _estride(x, 1), sw = _estride(x, 2)
    cdef Py_ssize_t sop = _estride(out, 0), soh = _estride(out, 1), sow = _estride(out, 2)
    if x.dtype.num == cnp.NPY_FLOAT32:
        with nogil:
            _max_pool(<const float*>cnp.PyArray_DATA(x), sp, sh, sw, P, H, W,
                      <float*>cnp.PyArray_DATA(out), sop, soh, sow, oH, oW, kH, kW, dH, dW,
                      padH, padW, dilH, dilW, <float>(-INFINITY))
    else:
        with nogil:
            _max_pool(<const double*>cnp.PyArray_DATA(x), sp, sh, sw, P, H, W,
                      <double*>cnp.PyArray_DATA(out), sop, soh, sow, oH, oW, kH, kW, dH, dW,
                      padH, padW, dilH, dilW, -INFINITY)


cdef void _affine_row(const _real* xp, _real* op, Py_ssize_t L, _real s, _real m, _real a,
                      bint with_add) noexcept nogil:
    """op[l] := (xp[l] - s) * m (+ a) over a contiguous row. Blocks of 16 go through a local
    array: the compiler then knows op cannot alias what it reads and vectorizes them at
    -O2 (SSE2, every x86_64)."""
    cdef _real t[16]
    cdef Py_ssize_t l0 = 0, j
    while l0 + 16 <= L:
        if with_add:
            for j in range(16):
                t[j] = (xp[l0 + j] - s) * m + a
        else:
            for j in range(16):
                t[j] = (xp[l0 + j] - s) * m
        for j in range(16):
            op[l0 + j] = t[j]
        l0 += 16
    for j in range(l0, L):
        op[j] = (xp[j] - s) * m + a if with_add else (xp[j] - s) * m


cdef void _channel_affine(const _real* x, Py_ssize_t sxn, Py_ssize_t sxc, Py_ssize_t sxl,
                          _real* out, Py_ssize_t son, Py_ssize_t soc, Py_ssize_t sol,
                          Py_ssize_t N, Py_ssize_t C, Py_ssize_t L, const _real* sub,
                          const _real* mul, const _real* add) noexcept nogil:
    cdef Py_ssize_t n, c, l
    cdef _real s, m, a
    cdef const _real* xp
    cdef _real* op
    for n in range(N):
        for c in range(C):
            s, m = sub[c], mul[c]
            a = 0 if add is NULL else add[c]
            xp = x + n * sxn + c * sxc
            op = out + n * son + c * soc
            if sxl == 1 and sol == 1:
                _affine_row(xp, op, L, s, m, a, add is not NULL)
            elif add is NULL:
                for l in range(L):
                    op[l * sol] = (xp[l * sxl] - s) * m
            else:
                for l in range(L):
                    op[l * sol] = (xp[l * sxl] - s) * m + a


def channel_affine(cnp.ndarray x, cnp.ndarray out, cnp.ndarray sub, cnp.ndarray mul, add=None):
    """out[n, c, l] := (x[n, c, l] - sub[c]) * mul[c] (+ add[c]) for x and out (N, C, L) of
    any strides, each operation rounded in their type (as the same three numpy ufuncs
    would): a batch normalization in evaluation mode in one pass. out may be x."""
    if x.ndim != 3 or out.ndim != 3 or (<object>x).shape != (<object>out).shape:
        raise ValueError(f"channel_affine: expected x and out (N, C, L) of one shape, got "
                         f"{(<object>x).shape} and {(<object>out).shape}")
    _check_real_pair(x, out, "channel_affine")
    if not out.flags.writeable:
        raise ValueError("channel_affine: out is read-only")
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], L = x.shape[2]
    vecs = [sub, mul] + ([] if add is None else [add])
    for v in vecs:
        if v.dtype != x.dtype or v.ndim != 1 or v.shape[0] != C or not v.flags.c_contiguous:
            raise ValueError(f"channel_affine: per-channel vectors must be contiguous "
                             f"{x.dtype} of {C} elements, got {v.dtype} {v.shape}")
    if N == 0 or C == 0 or L == 0:
        return
    cdef Py_ssize_t sxn = _estride(x, 0), sxc = _estride(x, 1), sxl = _estride(x, 2)
    cdef Py_ssize_t son = _estride(out, 0), soc = _estride(out, 1), sol = _estride(out, 2)
    cdef cnp.ndarray av = None if add is None else add
    # the optional added vector as a typed pointer (NULL without it): a conditional expression
    # of const pointers would make gcc warn about a dropped qualifier
    cdef const float* addf = NULL
    cdef const double* addd = NULL
    if x.dtype.num == cnp.NPY_FLOAT32:
        if av is not None:
            addf = <const float*>cnp.PyArray_DATA(av)
        with nogil:
            _channel_affine(<const float*>cnp.PyArray_DATA(x), sxn, sxc, sxl,
                            <float*>cnp.PyArray_DATA(out), son, soc, sol, N, C, L,
                            <const float*>cnp.PyArray_DATA(sub), <const float*>cnp.PyArray_DATA(mul),
                            addf)
    else:
        if av is not None:
            addd = <const double*>cnp.PyArray_DATA(av)
        with nogil:
            _channel_affine(<const double*>cnp.PyArray_DATA(x), sxn, sxc, sxl,
                            <double*>cnp.PyArray_DATA(out), son, soc, sol, N, C, L,
                            <const double*>cnp.PyArray_DATA(sub), <const double*>cnp.PyArray_DATA(mul),
                            addd)
