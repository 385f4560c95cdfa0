# Conversion of values, Python -> Lua (_push_value) and Lua -> Python (_lua_to_py).
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from libc.stdlib cimport malloc, free

cdef int _int_overflow(object obj) except -1:
    raise OverflowError(f"int {obj} is beyond ±2**53, the range a Lua number (a double) holds exactly")


cdef inline int _push_number_int(lua.lua_State* L, object obj) except -1:
    cdef int overflow = 0
    cdef long long v = PyLong_AsLongLongAndOverflow(obj, &overflow)
    if overflow or v > 9007199254740992LL or v < -9007199254740992LL:
        return _int_overflow(obj)
    lua.lua_pushnumber(L, <double>v)
    return 0


cdef inline int _push_simple(LuaState rt, lua.lua_State* L, object obj) except -1:
    """Push obj if it needs no Lua memory (number, boolean, nil, a proxy): 1 if
    pushed, 0 if not (it must go through _push_value under lua_pcall)."""
    if PyFloat_CheckExact(obj):
        lua.lua_pushnumber(L, PyFloat_AS_DOUBLE(obj))
    elif PyLong_CheckExact(obj):
        _push_number_int(L, obj)
    elif obj is None:
        lua.lua_pushnil(L)
    elif PyBool_Check(obj):
        lua.lua_pushboolean(L, obj is True)
    elif isinstance(obj, LuaObject):
        _push_proxy(rt, L, <LuaObject>obj)
    elif cnp.PyArray_CheckExact(obj):
        return _push_cached_tensor(rt, L, obj)
    else:
        return 0
    return 1


# Pushing a string, table or userdata allocates, and an allocation may fail
# (LUA_ERRMEM) or run a GC step whose __gc finalizer raises: outside lua_pcall
# either one is an unprotected error that ends the process. So the Python side
# (calls, indexing, globals) pushes such values inside lua_pcall of _push_job,
# which converts job.values[job.start:] and returns them as its results.
ctypedef struct _PushJob:
    PyObject* rt
    PyObject* values        # a tuple
    Py_ssize_t start
    PyObject* error         # a new reference to the exception raised while converting, or NULL


cdef int _push_job_impl(lua.lua_State* L, _PushJob* job) noexcept:
    cdef LuaState rt = <LuaState>job.rt
    cdef tuple values = <tuple>job.values
    cdef Py_ssize_t i
    try:
        if not lua.lua_checkstack(L, <int>(len(values) - job.start) + lua.LUA_MINSTACK):
            raise LuaError(f"too many values for the Lua stack: {len(values) - job.start}")
        for i in range(job.start, len(values)):
            _push_value(rt, L, values[i], None, 0)
        return 0
    except BaseException as e:
        Py_INCREF(e)
        job.error = <PyObject*>e
        return -1


cdef int _push_job(lua.lua_State* L) noexcept:
    # Lua-facing: holds no Python object; a Python exception is handed back in the job.
    cdef _PushJob* job = <_PushJob*>lua.lua_touserdata(L, 1)
    if job is NULL or _push_job_impl(L, job) < 0:
        return 0
    return lua.lua_gettop(L) - 1


cdef int _push_protected(LuaState rt, lua.lua_State* L, tuple values, Py_ssize_t start) except -1:
    """Push values[start:] converted to Lua, under lua_pcall."""
    cdef _PushJob job
    cdef int top = lua.lua_gettop(L)
    cdef int status
    job.rt = <PyObject*>rt
    job.values = <PyObject*>values
    job.start = start
    job.error = NULL
    if not lua.lua_checkstack(L, 2):
        raise LuaError("Lua stack overflow")
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, rt._pushjob_ref)             # fn
    lua.lua_pushlightuserdata(L, &job)                                     # fn job
    status = lua.lua_pcall(L, 1, lua.LUA_MULTRET, 0)                       # values... | err
    if job.error is not NULL:
        exc = <object>job.error
        Py_DECREF(exc)
        lua.lua_settop(L, top)
        raise exc
    if status != 0:
        try:
            rt._raise_status(L, status)
        finally:
            lua.lua_settop(L, top)
    return 0


cdef inline int _push_args(LuaState rt, lua.lua_State* L, tuple values) except -1:
    """Push all values of a tuple (the caller made room with lua_checkstack)."""
    cdef Py_ssize_t i
    for i in range(len(values)):
        if not _push_simple(rt, L, values[i]):
            return _push_protected(rt, L, values, i)
    return 0


cdef inline int _push_argv(LuaState rt, lua.lua_State* L, PyObject** argv, int n) except -1:
    """Push n values from a C array (the caller made room with lua_checkstack)."""
    cdef int i, j
    cdef tuple rest
    for i in range(n):
        if not _push_simple(rt, L, <object>argv[i]):
            rest = PyTuple_New(n - i)
            for j in range(i, n):
                Py_INCREF(<object>argv[j])
                PyTuple_SET_ITEM(rest, j - i, <object>argv[j])
            return _push_protected(rt, L, rest, 0)
    return 0


cdef inline int _push_one(LuaState rt, lua.lua_State* L, object obj) except -1:
    if _push_simple(rt, L, obj):
        return 0
    return _push_protected(rt, L, (obj,), 0)


# How py.eval converts (_push_converted): the flags ride in the memo of one push, under
# the key 0 (never an id()), so that nothing outlives the push, even a Lua error's unwinding.
DEF PUSH_STRICT = 1       # an object with no Lua value is a TypeError, not a reference (fb.python)
DEF PUSH_NONE_REF = 2     # None becomes py.None (py.eval_none), not nil
DEF PUSH_FB = 4           # references made on the way are fb.python's


cdef inline int _memo_flags(dict memo):
    return 0 if memo is None else <int>memo.get(0, 0)


cdef int _push_other(LuaState rt, lua.lua_State* L, object obj, int flags) except -1:
    """An object with no Lua value (or None under PUSH_NONE_REF): a reference, or
    under PUSH_STRICT a TypeError."""
    if flags & PUSH_STRICT and obj is not None:
        raise TypeError(f"py.eval: a Python {type(obj).__name__} has no Lua value "
                        "(py.reval keeps it as a reference)")
    return _push_ref(rt, L, obj, 0, flags & PUSH_FB)


cdef int _push_converted(LuaState rt, lua.lua_State* L, object obj, int flags) except -1:
    """_push_value with the flags (py.eval of fb.python, py.eval_none)."""
    if not flags:
        return _push_value(rt, L, obj, None, 0)
    if obj is None:
        if flags & PUSH_NONE_REF:
            return _push_other(rt, L, obj, flags)
        lua.lua_pushnil(L)
        return 0
    if not isinstance(obj, (list, tuple, dict)):
        return _push_value(rt, L, obj, {0: flags}, 0)
    if not lua.lua_checkstack(L, 8):
        raise MemoryError("Lua stack overflow while converting a container")
    lua.lua_newtable(L)                                                     # memo
    _fill_container(rt, L, obj, {None: lua.lua_gettop(L), 0: flags}, 0)     # memo tbl
    lua.lua_remove(L, -2)                                                   # tbl
    return 0


cdef int _push_value(LuaState rt, lua.lua_State* L, object obj, dict memo, int depth) except -1:
    """Push obj converted to a Lua value (deep for list/tuple/dict).

    It allocates in Lua: call it inside lua_pcall (a Lua C function, or
    _push_protected), never straight from the Python side."""
    cdef Py_ssize_t size
    cdef const char* s
    if PyFloat_Check(obj):
        lua.lua_pushnumber(L, PyFloat_AS_DOUBLE(obj))
    elif PyBool_Check(obj):
        lua.lua_pushboolean(L, obj is True)
    elif PyLong_Check(obj):
        _push_number_int(L, obj)
    elif obj is None:
        if memo is not None and _memo_flags(memo) & PUSH_NONE_REF:
            _push_other(rt, L, obj, _memo_flags(memo))
        else:
            lua.lua_pushnil(L)
    elif PyUnicode_Check(obj):
        s = PyUnicode_AsUTF8AndSize(obj, &size)
        lua.lua_pushlstring(L, s, size)
    elif PyBytes_Check(obj):
        lua.lua_pushlstring(L, PyBytes_AS_STRING(obj), PyBytes_GET_SIZE(obj))
    elif isinstance(obj, LuaObject):
        _push_proxy(rt, L, <LuaObject>obj)
    elif isinstance(obj, (list, tuple, dict)):
        _push_container(rt, L, obj, memo, depth)
    elif isinstance(obj, cnp.ndarray):
        _push_ndarray(rt, L, obj)
    elif isinstance(obj, np.generic):
        if isinstance(obj, (np.bool_, np.integer, np.floating)):
            return _push_value(rt, L, obj.item(), memo, depth)
        _push_other(rt, L, obj, _memo_flags(memo))
    elif isinstance(obj, bytearray):
        lua.lua_pushlstring(L, <bytes>bytes(obj), len(obj))
    else:
        _push_other(rt, L, obj, _memo_flags(memo))
    return 0


cdef int _push_proxy(LuaState rt, lua.lua_State* L, LuaObject obj) except -1:
    if obj._runtime is not rt:
        if obj._runtime is None or obj._runtime.L is NULL:
            raise LuaClosedError(f"this {type(obj).__name__} belongs to a closed LuaState")
        raise ValueError(
            f"this {type(obj).__name__} belongs to another LuaState; values cannot move between states "
            "(convert it to Python first)")
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, obj._ref)
    return 0


# Containers already converted in one top-level push are remembered, so that a
# shared sub-object becomes one shared table and a cycle stays a cycle. The memo
# dict maps id(container) -> (n, container) (keeping it alive, so ids stay unique)
# and the key None -> the stack index of a Lua table whose [n] is the Lua table
# made for it. Being on the stack, the memo goes away with it if a Lua error
# unwinds the conversion.
cdef int _push_container(LuaState rt, lua.lua_State* L, object obj, dict memo, int depth) except -1:
    if memo is not None:
        return _fill_container(rt, L, obj, memo, depth)
    if not lua.lua_checkstack(L, 8):
        raise MemoryError("Lua stack overflow while converting a container")
    lua.lua_newtable(L)                                                     # memo
    memo = {None: lua.lua_gettop(L)}
    _fill_container(rt, L, obj, memo, depth)                                # memo tbl
    lua.lua_remove(L, -2)                                                   # tbl
    return 0


# A list of numbers is copied into a C array and stored into the table by a
# JIT-compiled Lua loop (the `fill` helper of _state.pxi), several times faster
# than one lua_pushnumber + lua_rawseti per item.
cdef Py_ssize_t _BULK_MIN = 32


cdef Py_ssize_t _fill_numbers(LuaState rt, lua.lua_State* L, list lst) except -1:
    """Store the leading run of floats and exact ints of lst into the table on
    top ([1..k]); returns k (0 when the run is too short to bother)."""
    cdef Py_ssize_t k = 0, n = PyList_GET_SIZE(lst)
    cdef PyObject* item
    cdef int overflow, status
    cdef long long v
    cdef double* buf = <double*>malloc(n * sizeof(double))
    if buf is NULL:
        return 0
    try:
        while k < n:
            item = PyList_GET_ITEM(lst, k)
            if PyFloat_CheckExact(<object>item):
                buf[k] = PyFloat_AS_DOUBLE(<object>item)
            elif PyLong_CheckExact(<object>item):
                overflow = 0
                v = PyLong_AsLongLongAndOverflow(<object>item, &overflow)
                if overflow or v > 9007199254740992LL or v < -9007199254740992LL:
                    break                                   # the item-by-item path raises
                buf[k] = <double>v
            else:
                break
            k += 1
        if k < _BULK_MIN:
            return 0
        lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, rt._fill_ref)                # tbl fill
        lua.lua_pushvalue(L, -2)                                               # tbl fill tbl
        lua.lua_pushlightuserdata(L, buf)
        lua.lua_pushnumber(L, <double>k)                                       # tbl fill tbl buf k
        status = lua.lua_pcall(L, 3, 0, 0)                                     # tbl | tbl err
        if status != 0:
            try:
                rt._raise_status(L, status)
            finally:
                lua.lua_pop(L, 1)                                              # tbl
        return k
    finally:
        free(buf)


cdef int _fill_container(LuaState rt, lua.lua_State* L, object obj, dict memo, int depth) except -1:
    cdef Py_ssize_t i, n
    cdef int flags
    cdef int memo_idx = <int>memo[None]
    cdef int slot
    cdef object key = id(obj)
    found = memo.get(key)
    if found is not None:
        lua.lua_rawgeti(L, memo_idx, <int>(<tuple>found)[0])                # the shared table
        return 0
    if depth >= MAX_DEPTH:
        raise RecursionError(f"a container nested deeper than {MAX_DEPTH} levels cannot be converted to Lua")
    if not lua.lua_checkstack(L, 6):
        raise MemoryError("Lua stack overflow while converting a container")
    n = len(obj)
    if PyDict_CheckExact(obj) or isinstance(obj, dict):
        lua.lua_createtable(L, 0, <int>n)                                  # tbl
    else:
        lua.lua_createtable(L, <int>n, 0)                                  # tbl
    slot = <int>len(memo)
    memo[key] = (slot, obj)
    lua.lua_pushvalue(L, -1)                                               # tbl tbl
    lua.lua_rawseti(L, memo_idx, slot)                                     # tbl
    if PyList_CheckExact(obj):
        i = _fill_numbers(rt, L, <list>obj) if n >= _BULK_MIN else 0          # tbl
        while i < PyList_GET_SIZE(obj):                                    # Python code run by a push may shrink it
            item = <object>PyList_GET_ITEM(obj, i)
            if PyFloat_CheckExact(item):
                lua.lua_pushnumber(L, PyFloat_AS_DOUBLE(item))              # tbl v
            else:
                _push_value(rt, L, item, memo, depth + 1)                   # tbl v
            lua.lua_rawseti(L, -2, <int>(i + 1))                            # tbl
            i += 1
    elif isinstance(obj, dict):
        flags = _memo_flags(memo)
        for k, v in (<dict>obj).items():
            if v is None and not (flags & PUSH_NONE_REF):
                continue
            if k is None:
                raise TypeError("a dict key None cannot become a Lua table key (nil)")
            if PyFloat_Check(k) and k != k:
                raise ValueError("a dict key NaN cannot become a Lua table key")
            _push_value(rt, L, k, memo, depth + 1)                          # tbl k
            _push_value(rt, L, v, memo, depth + 1)                          # tbl k v
            lua.lua_rawset(L, -3)                                           # tbl
    else:
        for i in range(n):
            _push_value(rt, L, obj[i], memo, depth + 1)                     # tbl v
            lua.lua_rawseti(L, -2, <int>(i + 1))                            # tbl
    return 0


cdef inline object _lua_number(double d):
    if d == floor(d) and fabs(d) <= MAX_EXACT:
        return PyLong_FromLongLong(<long long>d)
    return PyFloat_FromDouble(d)


cdef object _lua_string(LuaState rt, lua.lua_State* L, int idx):
    cdef size_t size
    cdef const char* s = lua.lua_tolstring(L, idx, &size)
    if rt.encoding is None:
        return PyBytes_FromStringAndSize(s, size)
    if rt.encoding == "utf-8":
        try:
            return PyUnicode_DecodeUTF8(s, size, NULL)
        except UnicodeDecodeError:
            return PyBytes_FromStringAndSize(s, size)
    b = PyBytes_FromStringAndSize(s, size)
    try:
        return b.decode(rt.encoding)
    except UnicodeDecodeError:
        return b


cdef object _lua_to_py(LuaState rt, lua.lua_State* L, int idx, dict memo, int depth):
    cdef int t = lua.lua_type(L, idx)
    cdef int code
    cdef PyObject* obj
    cdef _PyRef* ref
    if t == lua.LUA_TNUMBER:
        return _lua_number(lua.lua_tonumber(L, idx))
    if t == lua.LUA_TSTRING:
        return _lua_string(rt, L, idx)
    if t == lua.LUA_TNIL or t == lua.LUA_TNONE:
        return None
    if t == lua.LUA_TBOOLEAN:
        return lua.lua_toboolean(L, idx) != 0
    if idx < 0 and idx > lua.LUA_REGISTRYINDEX:
        idx = lua.lua_gettop(L) + idx + 1
    if t == lua.LUA_TTABLE:
        return _table_to_py(rt, L, idx, memo, depth)
    if t == lua.LUA_TFUNCTION:
        return _new_proxy(rt, L, idx, LuaFunction)
    if t == lua.LUA_TUSERDATA:
        if lua.lua_getmetatable(L, idx):                                    # mt
            # one look at the metatable: a Python reference, or a tensor or storage
            if _is_pyref_mt(rt, L):
                lua.lua_pop(L, 1)
                ref = <_PyRef*>lua.lua_touserdata(L, idx)
                if ref is not NULL and ref.obj is not NULL:
                    return <object>ref.obj
                return None
            code = _tensor_code(rt, L)                                      # mt
            lua.lua_pop(L, 1)
            if code:
                if code < 10:
                    obj = _pristine_obj(rt, L, idx)
                    if obj is not NULL:
                        return <object>obj
                return _tensor_to_numpy(rt, L, idx, code)
    return _new_proxy(rt, L, idx, LuaObject)


cdef object _error_text(LuaState rt, lua.lua_State* L, int idx):
    # a structured error that Lua code caught (pcall) comes to Python as its text, as a
    # string error does (lua/sparktorch7/errors.lua); None for any other value
    record = _error_record(L, idx, rt._errmt_ref)
    return None if record is None else record[1]


cdef inline bint _is_registry(lua.lua_State* L, int idx) noexcept:
    return lua.lua_topointer(L, idx) == lua.lua_topointer(L, lua.LUA_REGISTRYINDEX)


cdef object _table_to_py(LuaState rt, lua.lua_State* L, int idx, dict memo, int depth):
    cdef int code
    cdef Py_ssize_t n, i, count
    cdef double d
    if lua.lua_getmetatable(L, idx):                                        # mt
        code = _tensor_code(rt, L)                                          # mt
        if code:
            lua.lua_pop(L, 1)
            return _tensor_to_numpy(rt, L, idx, code)
        # rawget with the anchored key string: no metamethod, no allocation
        lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, rt._typename_ref)           # mt "__typename"
        lua.lua_rawget(L, -2)                                               # mt name
        t = lua.lua_type(L, -1)
        lua.lua_pop(L, 2)
        if t == lua.LUA_TSTRING:
            # an instance of a torch class (an nn module...): keep it live
            return _new_proxy(rt, L, idx, LuaTable)
        text = _error_text(rt, L, idx)
        if text is not None:
            return text
    if rt.tables == "proxy" or _is_registry(L, idx):
        # (converting the registry would add to it while traversing it: never ends)
        return _new_proxy(rt, L, idx, LuaTable)
    if memo is None:
        memo = {}
    key = <intptr_t>lua.lua_topointer(L, idx)
    found = memo.get(key)
    if found is not None:
        return found
    if depth >= MAX_DEPTH:
        raise RecursionError(f"a Lua table nested deeper than {MAX_DEPTH} levels cannot be converted")
    if not lua.lua_checkstack(L, 6):
        raise MemoryError("Lua stack overflow while converting a table")
    if rt.tables == "list":
        n = lua.lua_objlen(L, idx)
        count = 0
        lua.lua_pushnil(L)
        while lua.lua_next(L, idx):                                         # k v
            lua.lua_pop(L, 1)
            count += 1
            if count > n or lua.lua_type(L, -1) != lua.LUA_TNUMBER:
                lua.lua_pop(L, 1)
                count = -1
                break
            d = lua.lua_tonumber(L, -1)
            if d != floor(d) or d < 1 or d > n:
                lua.lua_pop(L, 1)
                count = -1
                break
        if count == n:
            lst = PyList_New(0)
            memo[key] = lst
            for i in range(1, n + 1):
                lua.lua_rawgeti(L, idx, <int>i)
                try:
                    lst.append(_lua_to_py(rt, L, -1, memo, depth + 1))
                finally:
                    lua.lua_pop(L, 1)
            return lst
    result = {}
    memo[key] = result
    lua.lua_pushnil(L)
    while lua.lua_next(L, idx):                                             # k v
        try:
            k = _lua_to_py(rt, L, -2, memo, depth + 1)
            try:
                hash(k)
            except TypeError:
                k = _new_proxy(rt, L, -2, LuaTable)
            result[k] = _lua_to_py(rt, L, -1, memo, depth + 1)
        except BaseException:
            lua.lua_pop(L, 2)
            raise
        lua.lua_pop(L, 1)                                                   # k
    return result


# ---------------------------------------------------------------- fb.python's Lua -> Python
# As fblualib's fb.python (LuaToPython.cpp) converts, for `require 'fb.python'`:
# numbers are floats (but ints as table keys), strings Python's native string (str,
# as fb.python gave Python 2's str; bytes when not UTF-8, so no byte is lost), a table
# is a list when t[1] is set and t[0] and t[-1] are not (its items up to the first
# nil), a dict otherwise, whose values Python cannot hold (functions...) are left
# out. Tensors become ndarrays
# sharing their memory. Where fb.python raised, a function or other userdata becomes
# a proxy (LuaFunction, LuaObject), as in the rest of sparktorch7.
DEF FB_KEY = 1        # a dict key: integral numbers as int; no tables
DEF FB_IGNORE = 2     # a value Python cannot hold comes back as _SKIP

cdef object _SKIP = object()


cdef object _fb_to_py(LuaState rt, lua.lua_State* L, int idx, dict memo, int flags, int depth):
    cdef int t = lua.lua_type(L, idx)
    cdef size_t size
    cdef const char* s
    cdef double d
    cdef int code
    cdef void* p
    cdef PyObject* obj
    cdef _PyRef* ref
    if t == lua.LUA_TNUMBER:
        d = lua.lua_tonumber(L, idx)
        if flags & FB_KEY and d == floor(d) and fabs(d) <= MAX_EXACT:
            return PyLong_FromLongLong(<long long>d)
        return PyFloat_FromDouble(d)
    if t == lua.LUA_TSTRING:
        s = lua.lua_tolstring(L, idx, &size)
        try:
            return PyUnicode_DecodeUTF8(s, size, NULL)
        except UnicodeDecodeError:
            return PyBytes_FromStringAndSize(s, size)
    if t == lua.LUA_TNIL or t == lua.LUA_TNONE:
        return None
    if t == lua.LUA_TBOOLEAN:
        return lua.lua_toboolean(L, idx) != 0
    if idx < 0 and idx > lua.LUA_REGISTRYINDEX:
        idx = lua.lua_gettop(L) + idx + 1
    if (t == lua.LUA_TUSERDATA or t == lua.LUA_TTABLE) and lua.lua_getmetatable(L, idx):   # mt
        if t == lua.LUA_TUSERDATA and _is_pyref_mt(rt, L):
            lua.lua_pop(L, 1)
            ref = <_PyRef*>lua.lua_touserdata(L, idx)
            return <object>ref.obj if ref.obj is not NULL else None
        code = _tensor_code(rt, L)                                          # mt
        lua.lua_pop(L, 1)
        if code:
            if t == lua.LUA_TUSERDATA and code < 10:
                obj = _pristine_obj(rt, L, idx)
                if obj is not NULL:
                    return <object>obj
            return _tensor_to_numpy(rt, L, idx, code)
    if t == lua.LUA_TTABLE and not (flags & FB_KEY) and not _is_registry(L, idx):
        text = _error_text(rt, L, idx)
        return text if text is not None else _fb_table(rt, L, idx, memo, depth)
    if t == lua.LUA_TLIGHTUSERDATA:
        p = lua.lua_touserdata(L, idx)
        if p == <void*>&_ARGS_MARK or p == <void*>&_KWARGS_MARK:
            raise TypeError("py.args and py.kwargs mark arguments of a call to a Python reference "
                            "(f(a, py.args, {b, c}, py.kwargs, {d = 1})); they have no Python value")
    if flags & FB_IGNORE:
        return _SKIP
    if flags & FB_KEY:
        raise TypeError(f"a Lua {lua.luaL_typename(L, idx).decode()} cannot be a Python dict key")
    if t == lua.LUA_TFUNCTION:
        return _new_proxy(rt, L, idx, LuaFunction)
    return _new_proxy(rt, L, idx, LuaTable if t == lua.LUA_TTABLE else LuaObject)


cdef bint _fb_is_list(lua.lua_State* L, int idx) noexcept:
    """fb.python's test: t[1] is set, t[0] and t[-1] are not (Lua's `arg` table has both)."""
    cdef bint yes
    lua.lua_rawgeti(L, idx, 1)
    yes = lua.lua_type(L, -1) != lua.LUA_TNIL
    lua.lua_rawgeti(L, idx, 0)
    yes = yes and lua.lua_type(L, -1) == lua.LUA_TNIL
    lua.lua_rawgeti(L, idx, -1)
    yes = yes and lua.lua_type(L, -1) == lua.LUA_TNIL
    lua.lua_pop(L, 3)
    return yes


cdef inline dict _fb_memo_check(LuaState rt, lua.lua_State* L, int idx, dict memo, int depth):
    if depth >= MAX_DEPTH:
        raise RecursionError(f"a Lua table nested deeper than {MAX_DEPTH} levels cannot be converted")
    if not lua.lua_checkstack(L, 6):
        raise MemoryError("Lua stack overflow while converting a table")
    return {} if memo is None else memo


cdef object _fb_table(LuaState rt, lua.lua_State* L, int idx, dict memo, int depth):
    if memo is not None:
        found = memo.get(<intptr_t>lua.lua_topointer(L, idx))
        if found is not None:
            return found                  # one Python object for one table, cycles kept
    if _fb_is_list(L, idx):
        return _fb_sequence(rt, L, idx, memo, depth)
    return _fb_dict(rt, L, idx, memo, depth)


cdef object _fb_sequence(LuaState rt, lua.lua_State* L, int idx, dict memo, int depth):
    """t[1], t[2]... up to the first nil, as a list."""
    cdef int i = 1
    memo = _fb_memo_check(rt, L, idx, memo, depth)
    lst = []
    memo[<intptr_t>lua.lua_topointer(L, idx)] = lst
    while True:
        lua.lua_rawgeti(L, idx, i)                                          # v
        if lua.lua_type(L, -1) == lua.LUA_TNIL:
            lua.lua_pop(L, 1)
            return lst
        try:
            lst.append(_fb_to_py(rt, L, lua.lua_gettop(L), memo, 0, depth + 1))
        finally:
            lua.lua_pop(L, 1)
        i += 1


cdef object _fb_dict(LuaState rt, lua.lua_State* L, int idx, dict memo, int depth):
    """All of a table's pairs as a dict (values Python cannot hold left out)."""
    memo = _fb_memo_check(rt, L, idx, memo, depth)
    result = {}
    memo[<intptr_t>lua.lua_topointer(L, idx)] = result
    lua.lua_pushnil(L)
    while lua.lua_next(L, idx):                                             # k v
        try:
            k = _fb_to_py(rt, L, lua.lua_gettop(L) - 1, memo, FB_KEY, depth + 1)
            v = _fb_to_py(rt, L, lua.lua_gettop(L), memo, FB_IGNORE, depth + 1)
            if v is not _SKIP:
                result[k] = v
        except BaseException:
            lua.lua_pop(L, 2)
            raise
        lua.lua_pop(L, 1)                                                   # k
    return result
