# The numpy bridge: ndarray <-> torch tensor sharing memory (docs/design-tensor.md).

cdef extern from "numpy/arrayobject.h":
    bint PyArray_ISBYTESWAPPED(cnp.ndarray arr)
    object PyArray_NewFromDescr(PyObject* subtype, cnp.dtype descr, int nd, cnp.npy_intp* dims,
                                cnp.npy_intp* strides, void* data, int flags, PyObject* obj)
    PyObject* PyArray_Type_ptr "(PyTypeObject*)&PyArray_Type"

from libc.stdlib cimport free as _c_free
from posix.mman cimport munmap as _c_munmap


def _shm_unlink(name):
    try:
        import _posixshmem
        _posixshmem.shm_unlink(name)
    except Exception:
        pass


cdef class _HeapBlock:
    """Memory handed over by the Lua runtime when a Lua-made storage first becomes an
    ndarray: Lua keeps it through a Python reference, the arrays through their base, and
    the last of them frees it (so arrays outlive even a closed state). A malloc'd block,
    or a file mapping of `mapped` bytes (munmap), of a shared-memory object `shm_name`
    that is then unlinked (lua/torch/filemap.lua)."""
    cdef void* ptr
    cdef size_t mapped
    cdef object shm_name

    def __dealloc__(self):
        if self.ptr is not NULL:
            if self.mapped:
                _c_munmap(self.ptr, self.mapped)
            else:
                _c_free(self.ptr)
            self.ptr = NULL
        if self.shm_name is not None:
            _shm_unlink(self.shm_name)
            self.shm_name = None


cdef int _MAX_DIMS = 32
cdef double _EXACT = 9007199254740992.0     # 2^53: integers beyond it are not exact in a double
# dtype code (lua/torch/init.lua) <-> numpy type number
cdef int[8] _CODE_TO_NPY
_CODE_TO_NPY[:] = [0, cnp.NPY_FLOAT64, cnp.NPY_FLOAT32, cnp.NPY_INT64, cnp.NPY_INT32,
                   cnp.NPY_INT16, cnp.NPY_INT8, cnp.NPY_UINT8]


cdef int[8] _CODE_TO_ITEMSIZE
_CODE_TO_ITEMSIZE[:] = [0, 8, 4, 8, 4, 2, 1, 1]


cdef int _npy_to_code(int num) noexcept:
    if num == cnp.NPY_FLOAT64: return 1
    if num == cnp.NPY_FLOAT32: return 2
    if num == cnp.NPY_INT64 or (num == cnp.NPY_LONGLONG and sizeof(long long) == 8): return 3
    if num == cnp.NPY_INT32: return 4
    if num == cnp.NPY_INT16: return 5
    if num == cnp.NPY_INT8: return 6
    if num == cnp.NPY_UINT8: return 7
    return 0


# Slots of the registry table "sparktorch7.bridge" (built by lua/torch/Tensor.lua): the
# field names, interned once, and the tensor/storage metatables by dtype code.
DEF K_STORAGE = 1
DEF K_OFFSET = 2
DEF K_SIZE = 3
DEF K_STRIDE = 4
DEF K_DIM = 5
DEF K_ADDR = 6
DEF K_OWNER = 7
DEF K_READONLY = 8
DEF K_ESIZE = 9
DEF K_TENSOR_MT = 10      # + code
DEF K_STORAGE_MT = 20     # + code
DEF K_CACHE = 30          # weak-valued: lightuserdata(ndarray) -> its storage
DEF K_FIELDS = 31         # weak both ways: tensor or storage (userdata) -> its fields table
DEF K_TCACHE = 32         # weak-valued: lightuserdata(ndarray) -> the last tensor made for it
DEF K_PRISTINE = 33       # weak both ways: unchanged bridge tensor -> storage, storage -> owner
DEF K_CODES = 34          # tensor/storage metatable -> code (as registry "sparktorch7.tensor_mts")


cdef int _tensor_code(LuaState rt, lua.lua_State* L) noexcept:
    # metatable on top -> 1..7 for a tensor class, 11..17 for a storage class, 0 otherwise
    cdef int code = 0
    if rt._bridge_ref:
        lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, rt._bridge_ref)          # mt K
        lua.lua_rawgeti(L, -1, K_CODES)                                     # mt K codes
        lua.lua_remove(L, -2)                                               # mt codes
    else:
        lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, b"sparktorch7.tensor_mts")  # mt codes
    if lua.lua_type(L, -1) == lua.LUA_TTABLE:
        lua.lua_pushvalue(L, -2)                                            # mt codes mt
        lua.lua_rawget(L, -2)                                               # mt codes code
        if lua.lua_type(L, -1) == lua.LUA_TNUMBER:
            code = <int>lua.lua_tonumber(L, -1)
        lua.lua_pop(L, 1)
    lua.lua_pop(L, 1)                                                       # mt
    return code




# The Python reference owning an array's memory (a storage's _owner) also keeps the
# array's layout as it was when the storage was made. A tensor the bridge made, whose
# fields and whose storage's fields nothing has written since (torch._pristine), views
# exactly that layout; so while the array still has it, the tensor still views exactly
# the array, and crossing either way needs no look at the fields.
ctypedef struct _ArraySnap:
    void* data
    int nd
    int typenum
    int writeable
    int unused


cdef inline size_t _owner_size(int nd) noexcept:
    return sizeof(_PyRef) + sizeof(_ArraySnap) + 2 * nd * sizeof(cnp.npy_intp)


cdef int _push_array_owner(LuaState rt, lua.lua_State* L, cnp.ndarray arr) except -1:
    cdef int nd = cnp.PyArray_NDIM(arr), i
    cdef _PyRef* ud = <_PyRef*>lua.lua_newuserdata(L, _owner_size(nd))    # ud
    cdef _ArraySnap* snap = <_ArraySnap*>(<char*>ud + sizeof(_PyRef))
    cdef cnp.npy_intp* ds = <cnp.npy_intp*>(<char*>snap + sizeof(_ArraySnap))
    ud.obj = <PyObject*>arr
    ud.is_error = 0
    ud.fb = 0
    Py_INCREF(arr)
    snap.data = cnp.PyArray_DATA(arr)
    snap.nd = nd
    snap.typenum = cnp.PyArray_TYPE(arr)
    snap.writeable = cnp.PyArray_ISWRITEABLE(arr)
    for i in range(nd):
        ds[i] = cnp.PyArray_DIMS(arr)[i]
        ds[nd + i] = cnp.PyArray_STRIDES(arr)[i]
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, rt._pyref_mt_ref)             # ud mt
    lua.lua_setmetatable(L, -2)                                             # ud
    return 0


cdef bint _owner_matches(lua.lua_State* L, int idx, PyObject* obj) noexcept:
    """Is the userdata at idx an array owner (made by _push_array_owner) of obj, an
    exact ndarray whose layout is still the one it recorded?"""
    cdef _PyRef* ref = <_PyRef*>lua.lua_touserdata(L, idx)
    cdef cnp.ndarray arr
    cdef _ArraySnap* snap
    cdef cnp.npy_intp* ds
    cdef int nd, i
    if ref is NULL or ref.obj != obj or obj is NULL or not cnp.PyArray_CheckExact(<object>obj):
        return False
    arr = <cnp.ndarray>obj
    nd = cnp.PyArray_NDIM(arr)
    if lua.lua_type(L, idx) != lua.LUA_TUSERDATA or lua.lua_objlen(L, idx) != _owner_size(nd):
        return False
    snap = <_ArraySnap*>(<char*>ref + sizeof(_PyRef))
    if (snap.nd != nd or snap.data != cnp.PyArray_DATA(arr) or snap.typenum != cnp.PyArray_TYPE(arr)
            or snap.writeable != cnp.PyArray_ISWRITEABLE(arr)):
        return False
    ds = <cnp.npy_intp*>(<char*>snap + sizeof(_ArraySnap))
    for i in range(nd):
        if ds[i] != cnp.PyArray_DIMS(arr)[i] or ds[nd + i] != cnp.PyArray_STRIDES(arr)[i]:
            return False
    return True


cdef inline PyObject* _pristine_obj_in(lua.lua_State* L, int K, int idx) noexcept:
    """The array (borrowed) that the tensor at idx, made by the bridge and unchanged since,
    still views exactly; NULL if none. K is the bridge table's stack index. Allocates
    nothing; leaves the stack as it was."""
    cdef int top = lua.lua_gettop(L)
    cdef PyObject* obj = NULL
    lua.lua_rawgeti(L, K, K_PRISTINE)                                       # P
    lua.lua_pushvalue(L, idx)
    lua.lua_rawget(L, -2)                                                   # P s
    if lua.lua_type(L, -1) == lua.LUA_TUSERDATA:
        lua.lua_rawget(L, -2)                                               # P owner
        if lua.lua_type(L, -1) == lua.LUA_TUSERDATA:
            obj = (<_PyRef*>lua.lua_touserdata(L, -1)).obj
            if not _owner_matches(L, lua.lua_gettop(L), obj):
                obj = NULL
    lua.lua_settop(L, top)
    return obj


cdef PyObject* _pristine_obj(LuaState rt, lua.lua_State* L, int idx) noexcept:
    """_pristine_obj_in with the bridge table fetched here."""
    cdef PyObject* obj
    if rt._bridge_ref == 0:
        return NULL
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, rt._bridge_ref)              # K
    obj = _pristine_obj_in(L, lua.lua_gettop(L), idx)
    lua.lua_pop(L, 1)
    return obj


cdef inline int _bridge_table(LuaState rt, lua.lua_State* L) except -1:
    """Push the registry's bridge table; returns its stack index."""
    lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, b"sparktorch7.bridge")      # K
    if lua.lua_type(L, -1) != lua.LUA_TTABLE:
        lua.lua_pop(L, 1)
        _require_torch(rt, L)
        lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, b"sparktorch7.bridge")  # K
        if lua.lua_type(L, -1) != lua.LUA_TTABLE:
            lua.lua_pop(L, 1)
            raise RuntimeError("the torch runtime did not set up the numpy bridge")
    return lua.lua_gettop(L)


cdef inline int _push_fields(lua.lua_State* L, int K, int obj) except -1:
    """Push the fields table of the tensor or storage at obj; returns its stack index."""
    lua.lua_rawgeti(L, K, K_FIELDS)                                         # F
    lua.lua_pushvalue(L, obj)
    lua.lua_rawget(L, -2)                                                   # F fields
    lua.lua_remove(L, -2)                                                   # fields
    if lua.lua_type(L, -1) != lua.LUA_TTABLE:
        raise TypeError("a torch tensor or storage without its fields")
    return lua.lua_gettop(L)


cdef inline double _kget(lua.lua_State* L, int K, int t, int key):
    # t[K[key]] as a number (0 when absent), without metamethods
    cdef double v
    lua.lua_rawgeti(L, K, key)                                              # key
    lua.lua_rawget(L, t)                                                    # value
    v = lua.lua_tonumber(L, -1)
    lua.lua_pop(L, 1)
    return v


cdef object _tensor_to_numpy(LuaState rt, lua.lua_State* L, int idx, int code):
    """A tensor (code 1..7) or storage (11..17) at idx -> ndarray sharing its memory."""
    cdef int nd, i, s, sf, tf, K, szt
    cdef double lo, hi
    cdef cnp.npy_intp dims[32]
    cdef cnp.npy_intp strides[32]
    cdef double offset, dsz, dst
    cdef Py_ssize_t itemsize
    cdef char* data
    cdef int top = lua.lua_gettop(L)
    cdef bint readonly
    cdef _PyRef* oref
    cdef cnp.ndarray owner_arr
    cdef int npy = _CODE_TO_NPY[code % 10]
    cdef cnp.dtype descr
    itemsize = _CODE_TO_ITEMSIZE[code % 10]
    if idx < 0:
        idx = top + idx + 1
    if not lua.lua_checkstack(L, 10):
        raise MemoryError("Lua stack overflow while converting a tensor")
    try:
        if rt._bridge_ref:
            lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, rt._bridge_ref)       # K
            K = lua.lua_gettop(L)
        else:
            K = _bridge_table(rt, L)                                        # K
        if code > 10:
            s = idx
            sf = _push_fields(L, K, s)                                      # K sf
            offset = 0
            nd = 1
            dims[0] = <cnp.npy_intp>_kget(L, K, sf, K_SIZE)
            strides[0] = itemsize
        else:
            tf = _push_fields(L, K, idx)                                    # K tf
            lua.lua_rawgeti(L, K, K_STORAGE)
            lua.lua_rawget(L, tf)                                           # K tf storage
            s = lua.lua_gettop(L)
            if lua.lua_type(L, s) != lua.LUA_TUSERDATA:
                raise TypeError("a torch tensor without a storage")
            sf = _push_fields(L, K, s)                                      # K tf storage sf
            offset = _kget(L, K, tf, K_OFFSET)
            nd = <int>_kget(L, K, tf, K_DIM)
            if nd > _MAX_DIMS or nd < 0:
                raise ValueError(f"a tensor of {nd} dimensions has more than numpy's {_MAX_DIMS}")
            lua.lua_rawgeti(L, K, K_SIZE)
            lua.lua_rawget(L, tf)                                           # ... sf size
            lua.lua_rawgeti(L, K, K_STRIDE)
            lua.lua_rawget(L, tf)                                           # ... sf size stride
            szt = lua.lua_gettop(L) - 1
            if not (0 <= offset <= _EXACT and offset == <double><long long>offset):
                raise ValueError(f"a tensor with the invalid storage offset {offset!r}")
            for i in range(nd):
                lua.lua_rawgeti(L, szt, i + 1)
                lua.lua_rawgeti(L, szt + 1, i + 1)
                # checked as doubles before any cast: a size or stride beyond 2^53 (a forged
                # file, t:set) must not wrap into a small npy_intp
                dsz = lua.lua_tonumber(L, -2)
                dst = lua.lua_tonumber(L, -1)
                lua.lua_pop(L, 2)
                if not (0 <= dsz <= _EXACT and dsz == <double><long long>dsz
                        and -_EXACT <= dst <= _EXACT and dst == <double><long long>dst):
                    raise ValueError(f"a tensor with the invalid size {dsz!r} or stride {dst!r} in "
                                     f"dimension {i + 1}")
                dims[i] = <cnp.npy_intp>dsz
                strides[i] = <cnp.npy_intp>dst * itemsize
            lua.lua_pop(L, 2)                                               # ... sf
            if nd == 0:
                # Torch7's empty tensor
                nd = 1
                dims[0] = 0
                strides[0] = itemsize
            # the elements it views must lie in its storage (Lua code can shrink a storage
            # under a tensor): numpy must never read or write past the memory
            lo = hi = offset
            for i in range(nd):
                if dims[i] == 0:
                    lo, hi = 0, -1
                    break
                # in doubles: both factors are <= 2^53, so the product cannot overflow
                if strides[i] < 0:
                    lo += <double>(dims[i] - 1) * <double>(strides[i] // itemsize)
                else:
                    hi += <double>(dims[i] - 1) * <double>(strides[i] // itemsize)
            if hi >= lo and (lo < 0 or hi >= _kget(L, K, sf, K_SIZE)):
                raise ValueError(
                    f"this tensor views elements {<Py_ssize_t>lo + 1}..{<Py_ssize_t>hi + 1} of a storage of "
                    f"{<Py_ssize_t>_kget(L, K, sf, K_SIZE)} elements; it cannot become an array "
                    "(was its storage resized under it?)")
        data = <char*><intptr_t>_kget(L, K, sf, K_ADDR) + <Py_ssize_t>offset * itemsize
        lua.lua_rawgeti(L, K, K_READONLY)
        lua.lua_rawget(L, sf)
        readonly = lua.lua_toboolean(L, -1)
        lua.lua_pop(L, 1)
        lua.lua_rawgeti(L, K, K_OWNER)
        lua.lua_rawget(L, sf)                                               # ... owner
        while lua.lua_type(L, -1) == lua.LUA_TUSERDATA and _get_pyref(rt, L, -1) is NULL:
            # a view of another storage: its owner
            _push_fields(L, K, lua.lua_gettop(L))                           # ... storage fields
            lua.lua_rawgeti(L, K, K_OWNER)
            lua.lua_rawget(L, -2)                                           # ... storage fields owner
            lua.lua_replace(L, -3)                                          # ... owner fields
            lua.lua_pop(L, 1)                                               # ... owner
        base = None
        if lua.lua_type(L, -1) == 10:
            # LUA_TCDATA: memory malloc'd by the Lua runtime
            base = _adopt_block(rt, L, s)
        oref = _get_pyref(rt, L, -1)
        if oref is not NULL:
            if isinstance(<object>oref.obj, cnp.ndarray):
                owner_arr = <cnp.ndarray>oref.obj
                base = owner_arr
                if (cnp.PyArray_DATA(owner_arr) == <void*>data and cnp.PyArray_NDIM(owner_arr) == nd
                        and cnp.PyArray_TYPE(owner_arr) == npy):
                    for i in range(nd):
                        if (cnp.PyArray_DIMS(owner_arr)[i] != dims[i]
                                or cnp.PyArray_STRIDES(owner_arr)[i] != strides[i]):
                            break
                    else:
                        return owner_arr          # exactly the array it came from
            elif isinstance(<object>oref.obj, _HeapBlock):
                base = <object>oref.obj
        if base is None:
            base = _new_proxy(rt, L, s, LuaObject)  # the Lua storage keeps the memory alive
        descr = cnp.PyArray_DescrFromType(npy)
        Py_INCREF(descr)   # stolen by PyArray_NewFromDescr
        arr = PyArray_NewFromDescr(PyArray_Type_ptr, descr, nd, dims, strides, <void*>data,
                                   0 if readonly else cnp.NPY_ARRAY_WRITEABLE, NULL)
        cnp.set_array_base(arr, base)
        return arr
    finally:
        lua.lua_settop(L, top)


cdef object _adopt_block(LuaState rt, lua.lua_State* L, int s):
    """Hand the malloc'd block of the storage at s over to a _HeapBlock; None if Lua
    keeps it (then a proxy of the storage is the arrays' base)."""
    cdef _HeapBlock blk = _HeapBlock.__new__(_HeapBlock)
    cdef int top = lua.lua_gettop(L)
    cdef int status
    cdef double addr
    try:
        lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, b"sparktorch7.adopt")   # adopt
        if lua.lua_type(L, -1) != lua.LUA_TFUNCTION:
            return None
        lua.lua_pushvalue(L, s)                                             # adopt storage
        _push_pyref(rt, L, blk, 0)                                          # adopt storage blk
        status = lua.lua_pcall(L, 2, 3, 0)                                  # addr bytes shm
        if status != 0:
            rt._raise_status(L, status)
        addr = lua.lua_tonumber(L, -3)
        if addr == 0:
            return None
        blk.ptr = <void*><intptr_t>addr
        blk.mapped = <size_t>lua.lua_tonumber(L, -2)      # 0 (nil) for a malloc'd block
        if lua.lua_type(L, -1) == lua.LUA_TSTRING:
            blk.shm_name = (<bytes>lua.lua_tostring(L, -1)).decode('utf-8', 'surrogateescape')
        return blk
    finally:
        lua.lua_settop(L, top)


cdef bint _push_cached_storage(lua.lua_State* L, int K, cnp.ndarray arr, char* base,
                               cnp.npy_intp n, int code) noexcept:
    """Push the storage made earlier for this very array, if it still describes it
    (same owner, type, extent and writability); False (nothing pushed) otherwise."""
    cdef bint ok = False
    cdef int top = lua.lua_gettop(L)
    cdef int si = top + 2, sf = top + 3
    lua.lua_rawgeti(L, K, K_CACHE)                                          # cache
    lua.lua_pushlightuserdata(L, <void*>arr)
    lua.lua_rawget(L, -2)                                                   # cache s
    if lua.lua_type(L, -1) == lua.LUA_TUSERDATA:
        lua.lua_rawgeti(L, K, K_FIELDS)
        lua.lua_pushvalue(L, si)
        lua.lua_rawget(L, -2)                                               # cache s F sf
        lua.lua_remove(L, -2)                                               # cache s sf
        if lua.lua_type(L, sf) == lua.LUA_TTABLE:
            lua.lua_rawgeti(L, K, K_OWNER)
            lua.lua_rawget(L, sf)                                           # cache s sf owner
            ok = (_owner_matches(L, lua.lua_gettop(L), <PyObject*>arr)
                  and _kget(L, K, sf, K_ADDR) == <double><intptr_t>base
                  and _kget(L, K, sf, K_SIZE) == <double>n)
            lua.lua_pop(L, 1)                                               # cache s sf
            if ok:
                lua.lua_rawgeti(L, K, K_READONLY)
                lua.lua_rawget(L, sf)
                ok = lua.lua_toboolean(L, -1) != cnp.PyArray_ISWRITEABLE(arr)
                lua.lua_pop(L, 1)
            # (the owner's record also pins the dtype, which can be reassigned in place,
            # so the storage's class still fits the array)
    if ok:
        lua.lua_pushvalue(L, si)
        lua.lua_replace(L, top + 1)
        lua.lua_settop(L, top + 1)                                          # s
        return True
    lua.lua_settop(L, top)
    return False


cdef int _push_ndarray(LuaState rt, lua.lua_State* L, object obj) except -1:
    """Push a tensor sharing the memory of an ndarray (a copy only for bool). The storage
    and tensor tables are built here, in the layout of docs/design-tensor.md; the
    storage's `_data` pointer is made by Lua on first use."""
    cdef cnp.ndarray arr = <cnp.ndarray>obj
    cdef int nd = cnp.PyArray_NDIM(arr)
    cdef int code, i, K
    cdef Py_ssize_t itemsize
    cdef cnp.npy_intp lo = 0, hi = 0, size, stride
    cdef bint empty = False
    cdef char* base
    if nd == 0:
        return _push_value(rt, L, arr.item(), None, 0)
    if cnp.PyArray_TYPE(arr) == cnp.NPY_BOOL:
        arr = arr.astype(np.uint8)
    code = _npy_to_code(cnp.PyArray_TYPE(arr))
    if code == 0:
        raise TypeError(
            f"numpy dtype {arr.dtype} has no torch tensor type; use float64, float32, int64, int32, "
            "int16, int8, uint8 (or bool, copied to a ByteTensor)")
    if PyArray_ISBYTESWAPPED(arr):
        raise TypeError(f"numpy dtype {arr.dtype.str} is not in the machine's byte order; "
                        "use arr.astype(arr.dtype.newbyteorder('='))")
    if nd > _MAX_DIMS:
        raise ValueError(f"an array of {nd} dimensions")
    itemsize = cnp.PyArray_ITEMSIZE(arr)
    for i in range(nd):
        size = cnp.PyArray_DIMS(arr)[i]
        stride = cnp.PyArray_STRIDES(arr)[i]
        if stride % itemsize:
            raise TypeError(f"array strides {obj.strides} are not multiples of the item size {itemsize}; "
                            "a tensor cannot share this memory (pass np.ascontiguousarray(a))")
        if size == 0:
            empty = True
        elif stride < 0:
            lo += (size - 1) * (stride // itemsize)
        else:
            hi += (size - 1) * (stride // itemsize)
    base = <char*>cnp.PyArray_DATA(arr) + lo * itemsize
    if not lua.lua_checkstack(L, 12):
        raise MemoryError("Lua stack overflow while converting an array")
    K = _bridge_table(rt, L)                                                # K
    if rt._bridge_ref == 0:
        lua.lua_pushvalue(L, K)
        rt._bridge_ref = lua.luaL_ref(L, lua.LUA_REGISTRYINDEX)
    lua.lua_rawgeti(L, K, K_FIELDS)                                         # K F
    if not _push_cached_storage(L, K, arr, base, 0 if empty else hi - lo + 1, code):
        # the storage (a userdata): the array's memory extent, owned by the array
        lua.lua_newuserdata(L, 0)                                           # K F s
        lua.lua_rawgeti(L, K, K_STORAGE_MT + code)
        lua.lua_setmetatable(L, -2)
        lua.lua_pushvalue(L, -1)                                            # K F s s
        lua.lua_createtable(L, 0, 6)                                        # K F s s sf
        lua.lua_pushvalue(L, -1)
        lua.lua_setfenv(L, -3)                                              # (s's environment)
        lua.lua_rawgeti(L, K, K_ADDR)
        lua.lua_pushnumber(L, <double><intptr_t>base)
        lua.lua_rawset(L, -3)
        lua.lua_rawgeti(L, K, K_SIZE)
        lua.lua_pushnumber(L, 0 if empty else <double>(hi - lo + 1))
        lua.lua_rawset(L, -3)
        lua.lua_rawgeti(L, K, K_ESIZE)
        lua.lua_pushnumber(L, <double>itemsize)
        lua.lua_rawset(L, -3)
        if not cnp.PyArray_ISWRITEABLE(arr):
            lua.lua_rawgeti(L, K, K_READONLY)
            lua.lua_pushboolean(L, 1)
            lua.lua_rawset(L, -3)
        lua.lua_rawgeti(L, K, K_OWNER)
        _push_array_owner(rt, L, arr)                                       # K F s s sf key owner
        if cnp.PyArray_NBYTES(arr) >= _BIG_ARRAY:
            _array_pushed(rt, L, arr, cnp.PyArray_NBYTES(arr))
        lua.lua_pushvalue(L, -1)
        lua.lua_insert(L, K + 3)                                            # K F s owner s sf key owner
        lua.lua_rawset(L, -3)
        lua.lua_rawset(L, K + 1)                                            # K F s owner   (F[s] = sf)
        lua.lua_rawgeti(L, K, K_PRISTINE)                                   # K F s owner P
        lua.lua_pushvalue(L, K + 2)
        lua.lua_pushvalue(L, K + 3)
        lua.lua_rawset(L, -3)                                               # (P[s] = owner)
        lua.lua_settop(L, K + 2)                                            # K F s
        # remember it for the next time this array crosses
        lua.lua_rawgeti(L, K, K_CACHE)                                      # K F s cache
        lua.lua_pushlightuserdata(L, <void*>arr)
        lua.lua_pushvalue(L, -3)
        lua.lua_rawset(L, -3)
        lua.lua_pop(L, 1)                                                   # K F s
    # the tensor (a userdata)
    lua.lua_newuserdata(L, 0)                                               # K F s t
    lua.lua_rawgeti(L, K, K_TENSOR_MT + code)
    lua.lua_setmetatable(L, -2)
    lua.lua_pushvalue(L, -1)                                                # K F s t t
    lua.lua_createtable(L, 0, 5)                                            # K F s t t tf
    lua.lua_pushvalue(L, -1)
    lua.lua_setfenv(L, -3)                                                  # (t's environment)
    lua.lua_rawgeti(L, K, K_STORAGE)
    lua.lua_pushvalue(L, K + 2)
    lua.lua_rawset(L, -3)
    lua.lua_rawgeti(L, K, K_OFFSET)
    lua.lua_pushnumber(L, <double>(-lo))
    lua.lua_rawset(L, -3)
    lua.lua_rawgeti(L, K, K_DIM)
    lua.lua_pushnumber(L, nd)
    lua.lua_rawset(L, -3)
    lua.lua_rawgeti(L, K, K_SIZE)
    lua.lua_createtable(L, nd, 0)
    for i in range(nd):
        lua.lua_pushnumber(L, <double>cnp.PyArray_DIMS(arr)[i])
        lua.lua_rawseti(L, -2, i + 1)
    lua.lua_rawset(L, -3)
    lua.lua_rawgeti(L, K, K_STRIDE)
    lua.lua_createtable(L, nd, 0)
    for i in range(nd):
        lua.lua_pushnumber(L, <double>(cnp.PyArray_STRIDES(arr)[i] // itemsize))
        lua.lua_rawseti(L, -2, i + 1)
    lua.lua_rawset(L, -3)
    lua.lua_rawset(L, K + 1)                                                # K F s t   (F[t] = tf)
    # remember it: the next crossing of this array reuses it if it still views the array
    lua.lua_rawgeti(L, K, K_TCACHE)                                         # K F s t cache
    lua.lua_pushlightuserdata(L, <void*>arr)
    lua.lua_pushvalue(L, -3)
    lua.lua_rawset(L, -3)
    lua.lua_pop(L, 1)                                                       # K F s t
    lua.lua_rawgeti(L, K, K_PRISTINE)                                       # K F s t P
    lua.lua_pushvalue(L, -2)
    lua.lua_pushvalue(L, -4)
    lua.lua_rawset(L, -3)                                                   # (P[t] = s)
    lua.lua_pop(L, 1)                                                       # K F s t
    lua.lua_replace(L, K)                                                   # t F s
    lua.lua_pop(L, 2)                                                       # t
    return 0


cdef int _push_cached_tensor(LuaState rt, lua.lua_State* L, object obj) noexcept:
    """Push the tensor made the last time this very array crossed, if Lua still holds it,
    nothing changed its fields or its storage's, and the array kept its layout (so the
    tensor still views exactly the array); 0 (nothing pushed) otherwise. It allocates no
    Lua memory, so it runs outside lua_pcall; the caller made room for LUA_MINSTACK values."""
    cdef int top
    if rt._bridge_ref == 0 or cnp.PyArray_NDIM(<cnp.ndarray>obj) == 0:
        return 0
    top = lua.lua_gettop(L)
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, rt._bridge_ref)              # K
    lua.lua_rawgeti(L, -1, K_TCACHE)
    lua.lua_pushlightuserdata(L, <void*>obj)
    lua.lua_rawget(L, -2)                                                   # K cache t
    if lua.lua_type(L, -1) == lua.LUA_TUSERDATA and _pristine_obj_in(L, top + 1, top + 3) == <PyObject*>obj:
        lua.lua_replace(L, top + 1)
        lua.lua_settop(L, top + 1)                                          # t
        return 1
    lua.lua_settop(L, top)
    return 0


# Memory of arrays that only Lua still references is freed when Lua's GC
# collects their references, and Lua does not see those bytes. So big arrays
# pushed into Lua are remembered; after every 256 MB of them, the ones that
# nothing but Lua holds are counted, and past 256 MB a full collection runs.
# An array that Python also holds costs no collection, whatever its size.
cdef Py_ssize_t _BIG_ARRAY = 1 << 20
cdef Py_ssize_t _GC_AFTER = 256 << 20


cdef extern from "Python.h":
    Py_ssize_t Py_REFCNT(PyObject* o)
    PyObject* PyList_GET_ITEM(object lst, Py_ssize_t i)


cdef int _array_pushed(LuaState rt, lua.lua_State* L, object arr, Py_ssize_t nbytes) except -1:
    # entry: [array, nbytes, number of Lua references]
    cdef Py_ssize_t lua_only = 0
    cdef PyObject* p
    key = id(arr)
    entry = rt._big_arrays.get(key)
    if entry is None:
        rt._big_arrays[key] = [arr, nbytes, 1]
    else:
        entry[2] += 1
    rt._big_pushed += nbytes
    if rt._big_pushed < _GC_AFTER:
        return 0
    rt._big_pushed = 0
    for entry in rt._big_arrays.values():
        p = PyList_GET_ITEM(entry, 0)
        if Py_REFCNT(p) == <Py_ssize_t>entry[2] + 1:     # held by the entry and Lua only
            lua_only += <Py_ssize_t>entry[1]
    if lua_only >= _GC_AFTER:
        lua.lua_getglobal(L, b"collectgarbage")
        if lua.lua_pcall(L, 0, 0, 0) != 0:
            lua.lua_pop(L, 1)
    return 0


cdef void _array_released(LuaState rt, PyObject* obj) noexcept:
    if rt is None or rt._big_arrays is None or not rt._big_arrays:
        return
    try:
        key = id(<object>obj)
        entry = rt._big_arrays.get(key)
        if entry is not None and PyList_GET_ITEM(entry, 0) == obj:
            entry[2] -= 1
            if entry[2] <= 0:
                del rt._big_arrays[key]
    except BaseException:
        pass


cdef int _require_torch(LuaState rt, lua.lua_State* L) except -1:
    cdef int status
    lua.lua_getglobal(L, b"require")
    lua.lua_pushstring(L, b"torch")
    status = lua.lua_pcall(L, 1, 0, 0)
    if status != 0:
        rt._raise_status(L, status)
    return 0
