# Conversion of values, Python -> Lua (_push_value) and Lua -> Python (_lua_to_py).

cdef inline int _push_number_int(lua.lua_State* L, object obj) except -1:
    cdef int overflow = 0
    cdef long long v = PyLong_AsLongLongAndOverflow(obj, &overflow)
    if overflow or v > 9007199254740992LL or v < -9007199254740992LL:
        raise OverflowError(
            f"int {obj} is beyond ±2**53, the range a Lua number (a double) holds exactly")
    lua.lua_pushnumber(L, <double>v)
    return 0


cdef int _push_value(LuaState rt, lua.lua_State* L, object obj, dict memo, int depth) except -1:
    """Push obj converted to a Lua value (deep for list/tuple/dict)."""
    cdef Py_ssize_t size
    cdef const char* s
    if PyFloat_Check(obj):
        lua.lua_pushnumber(L, PyFloat_AS_DOUBLE(obj))
    elif PyBool_Check(obj):
        lua.lua_pushboolean(L, obj is True)
    elif PyLong_Check(obj):
        _push_number_int(L, obj)
    elif obj is None:
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
        _push_pyref(rt, L, obj, 0)
    elif isinstance(obj, bytearray):
        lua.lua_pushlstring(L, <bytes>bytes(obj), len(obj))
    else:
        _push_pyref(rt, L, obj, 0)
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


cdef int _push_container(LuaState rt, lua.lua_State* L, object obj, dict memo, int depth) except -1:
    cdef bint top_level = memo is None
    cdef Py_ssize_t i, n
    if top_level:
        memo = {}
    try:
        _fill_container(rt, L, obj, memo, depth)
    finally:
        if top_level:
            for ref in memo.values():
                lua.luaL_unref(L, lua.LUA_REGISTRYINDEX, <int>ref)
    return 0


cdef int _fill_container(LuaState rt, lua.lua_State* L, object obj, dict memo, int depth) except -1:
    cdef Py_ssize_t i, n
    cdef object key = id(obj)
    ref = memo.get(key)
    if ref is not None:
        lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, <int>ref)   # the shared table
        return 0
    if depth >= MAX_DEPTH:
        raise RecursionError(f"a container nested deeper than {MAX_DEPTH} levels cannot be converted to Lua")
    if not lua.lua_checkstack(L, 6):
        raise MemoryError("Lua stack overflow while converting a container")
    n = len(obj)
    if isinstance(obj, dict):
        lua.lua_createtable(L, 0, <int>n)                                  # tbl
    else:
        lua.lua_createtable(L, <int>n, 0)                                  # tbl
    lua.lua_pushvalue(L, -1)
    memo[key] = lua.luaL_ref(L, lua.LUA_REGISTRYINDEX)
    if isinstance(obj, dict):
        for k, v in (<dict>obj).items():
            if v is None:
                continue
            if k is None:
                raise TypeError("a dict key None cannot become a Lua table key (nil)")
            if PyFloat_Check(k) and k != k:
                raise ValueError("a dict key NaN cannot become a Lua table key")
            _push_value(rt, L, k, memo, depth + 1)                          # tbl k
            _push_value(rt, L, v, memo, depth + 1)                          # tbl k v
            lua.lua_rawset(L, -3)                                           # tbl
    elif PyList_CheckExact(obj) or PyTuple_CheckExact(obj) or isinstance(obj, (list, tuple)):
        for i in range(n):
            _push_value(rt, L, obj[i], memo, depth + 1)                     # tbl v
            lua.lua_rawseti(L, -2, <int>(i + 1))                            # tbl
    return 0


cdef object _lua_number(double d):
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
        ref = _get_pyref(rt, L, idx)
        if ref is not NULL:
            return <object>ref.obj
    return _new_proxy(rt, L, idx, LuaObject)


cdef object _table_to_py(LuaState rt, lua.lua_State* L, int idx, dict memo, int depth):
    cdef int code
    cdef Py_ssize_t n, i, count
    cdef double d
    if lua.lua_getmetatable(L, idx):                                        # mt
        code = _tensor_code(rt, L)                                          # mt
        if code:
            lua.lua_pop(L, 1)
            return _tensor_to_numpy(rt, L, idx, code)
        lua.lua_getfield(L, -1, b"__typename")                              # mt name
        t = lua.lua_type(L, -1)
        lua.lua_pop(L, 2)
        if t == lua.LUA_TSTRING:
            # an instance of a torch class (an nn module...): keep it live
            return _new_proxy(rt, L, idx, LuaTable)
    if rt.tables == "proxy":
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
