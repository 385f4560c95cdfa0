# The `py` module that every state's Lua code sees, and Python references in Lua.
# Each Lua-facing C function is a thin wrapper holding no Python object: its
# _impl does the work, turns any exception into an error value on the Lua stack
# and returns -1; only then does the wrapper call lua_error.

ctypedef struct _PyRef:
    PyObject* obj
    int is_error

cdef const char* PYREF_MT = b"sparktorch7.pyref"


cdef int _push_pyref(LuaState rt, lua.lua_State* L, object obj, int is_error) except -1:
    cdef _PyRef* ud = <_PyRef*>lua.lua_newuserdata(L, sizeof(_PyRef))    # ud
    ud.obj = <PyObject*>obj
    ud.is_error = is_error
    Py_INCREF(obj)
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, rt._pyref_mt_ref)          # ud mt
    lua.lua_setmetatable(L, -2)                                          # ud
    return 0


cdef inline bint _is_pyref_mt(LuaState rt, lua.lua_State* L) noexcept:
    """Is the metatable on top of the stack the one of Python references? (stack kept)"""
    cdef bint same
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, rt._pyref_mt_ref)          # mt pymt
    same = lua.lua_rawequal(L, -1, -2)
    lua.lua_pop(L, 1)                                                    # mt
    return same


cdef _PyRef* _get_pyref(LuaState rt, lua.lua_State* L, int idx) noexcept:
    cdef void* p = lua.lua_touserdata(L, idx)
    cdef bint same
    if p is NULL or lua.lua_type(L, idx) != lua.LUA_TUSERDATA:
        return NULL
    if not lua.lua_getmetatable(L, idx):                                 # mt
        return NULL
    same = _is_pyref_mt(rt, L)
    lua.lua_pop(L, 1)
    return <_PyRef*>p if same else NULL


cdef inline LuaState _runtime_of(lua.lua_State* L):
    cdef LuaState rt = <LuaState>lua.lua_touserdata(L, lua.lua_upvalueindex(1))
    if rt._out_len:
        _flush_output_quietly(rt)    # Lua's print output before Python code runs (_stdio.pxi)
    return rt


cdef int _raise_in_lua(LuaState rt, lua.lua_State* L, BaseException exc) noexcept:
    # Leaves the exception on the stack as the error value; the caller returns -1.
    try:
        _push_pyref(rt, L, exc, 1)
    except BaseException:
        lua.lua_pushstring(L, b"sparktorch7: a Python exception could not be passed to Lua")
    return -1


cdef object _pyref_arg(LuaState rt, lua.lua_State* L, int idx, str fname):
    cdef _PyRef* ref = _get_pyref(rt, L, idx)
    if ref is NULL:
        raise TypeError(f"{fname}: expected a Python reference, got a Lua "
                        f"{lua.luaL_typename(L, idx).decode()}")
    return <object>ref.obj


cdef object _code_arg(LuaState rt, lua.lua_State* L, int idx, str fname):
    if lua.lua_type(L, idx) != lua.LUA_TSTRING:
        raise TypeError(f"{fname}: expected Python code as a string, got a Lua "
                        f"{lua.luaL_typename(L, idx).decode()}")
    cdef size_t size
    cdef const char* s = lua.lua_tolstring(L, idx, &size)
    return s[:size].decode("utf-8")


cdef object _locals_arg(LuaState rt, lua.lua_State* L, int idx, str fname):
    if lua.lua_isnoneornil(L, idx):
        return None
    loc = _lua_to_py(rt, L, idx, None, 0)
    if isinstance(loc, LuaTable):
        loc = (<LuaTable>loc).to_python()
    elif isinstance(loc, list) and not loc:
        loc = {}                                                            # {} in tables="list" mode
    if not isinstance(loc, dict):
        raise TypeError(f"{fname}: locals must be a table or a Python dict, got {type(loc).__name__}")
    return loc


cdef int _push_shallow(LuaState rt, lua.lua_State* L, object obj) except -1:
    """Results of Python calls and indexing: plain values and arrays convert,
    containers and other objects stay in Python as references."""
    if (obj is None or PyFloat_Check(obj) or PyLong_Check(obj) or PyUnicode_Check(obj)
            or PyBytes_Check(obj) or isinstance(obj, (LuaObject, cnp.ndarray, np.generic))):
        return _push_value(rt, L, obj, None, 0)
    return _push_pyref(rt, L, obj, 0)


# ---------------------------------------------------------------- py.exec / eval / reval / import / ref
cdef int _py_exec_impl(lua.lua_State* L) noexcept:
    cdef LuaState rt = _runtime_of(L)
    try:
        code = _code_arg(rt, L, 1, "py.exec")
        loc = _locals_arg(rt, L, 2, "py.exec")
        exec(compile(code, "<py.exec>", "exec"), rt.py_globals, loc)
        return 0
    except BaseException as e:
        return _raise_in_lua(rt, L, e)

cdef int _py_exec(lua.lua_State* L) noexcept:
    cdef int n = _py_exec_impl(L)
    if n < 0:
        return lua.lua_error(L)  # may not return
    return n


cdef object _eval_arg(LuaState rt, lua.lua_State* L, str fname):
    cdef _PyRef* ref = _get_pyref(rt, L, 1)
    if ref is not NULL:
        return <object>ref.obj
    code = _code_arg(rt, L, 1, fname)
    loc = _locals_arg(rt, L, 2, fname)
    return eval(compile(code, "<" + fname + ">", "eval"), rt.py_globals, loc)

cdef int _py_eval_impl(lua.lua_State* L) noexcept:
    cdef LuaState rt = _runtime_of(L)
    try:
        value = _eval_arg(rt, L, "py.eval")
        _push_value(rt, L, value, None, 0)
        return 1
    except BaseException as e:
        return _raise_in_lua(rt, L, e)

cdef int _py_eval(lua.lua_State* L) noexcept:
    cdef int n = _py_eval_impl(L)
    if n < 0:
        return lua.lua_error(L)  # may not return
    return n


cdef int _py_reval_impl(lua.lua_State* L) noexcept:
    cdef LuaState rt = _runtime_of(L)
    try:
        value = _eval_arg(rt, L, "py.reval")
        _push_pyref(rt, L, value, 0)
        return 1
    except BaseException as e:
        return _raise_in_lua(rt, L, e)

cdef int _py_reval(lua.lua_State* L) noexcept:
    cdef int n = _py_reval_impl(L)
    if n < 0:
        return lua.lua_error(L)  # may not return
    return n


cdef int _py_import_impl(lua.lua_State* L) noexcept:
    cdef LuaState rt = _runtime_of(L)
    try:
        import importlib
        name = _code_arg(rt, L, 1, "py.import")
        _push_pyref(rt, L, importlib.import_module(name), 0)
        return 1
    except BaseException as e:
        return _raise_in_lua(rt, L, e)

cdef int _py_import(lua.lua_State* L) noexcept:
    cdef int n = _py_import_impl(L)
    if n < 0:
        return lua.lua_error(L)  # may not return
    return n


cdef int _py_ref_impl(lua.lua_State* L) noexcept:
    cdef LuaState rt = _runtime_of(L)
    try:
        value = _lua_to_py(rt, L, 1, None, 0)
        _push_pyref(rt, L, value, 0)
        return 1
    except BaseException as e:
        return _raise_in_lua(rt, L, e)

cdef int _py_ref(lua.lua_State* L) noexcept:
    cdef int n = _py_ref_impl(L)
    if n < 0:
        return lua.lua_error(L)  # may not return
    return n


# ---------------------------------------------------------------- py.iter
cdef int _py_next_impl(lua.lua_State* L) noexcept:
    cdef LuaState rt = _runtime_of(L)
    cdef Py_ssize_t i
    try:
        it = <object>(<_PyRef*>lua.lua_touserdata(L, lua.lua_upvalueindex(2))).obj
        try:
            item = next(it)
        except StopIteration:
            lua.lua_pushnil(L)
            return 1
        if type(item) is tuple:
            if not lua.lua_checkstack(L, len(item) + 2):
                raise MemoryError("Lua stack overflow")
            for i in range(len(item)):
                _push_shallow(rt, L, item[i])
            return len(item)
        _push_shallow(rt, L, item)
        return 1
    except BaseException as e:
        return _raise_in_lua(rt, L, e)

cdef int _py_next(lua.lua_State* L) noexcept:
    cdef int n = _py_next_impl(L)
    if n < 0:
        return lua.lua_error(L)  # may not return
    return n


cdef int _py_iter_impl(lua.lua_State* L) noexcept:
    cdef LuaState rt = _runtime_of(L)
    try:
        obj = _pyref_arg(rt, L, 1, "py.iter")
        it = iter(obj)
        lua.lua_pushlightuserdata(L, <void*>rt)                             # rt
        _push_pyref(rt, L, it, 0)                                           # rt it
        lua.lua_pushcclosure(L, <lua.lua_CFunction>_py_next, 2)             # next
        return 1
    except BaseException as e:
        return _raise_in_lua(rt, L, e)

cdef int _py_iter(lua.lua_State* L) noexcept:
    cdef int n = _py_iter_impl(L)
    if n < 0:
        return lua.lua_error(L)  # may not return
    return n


# ---------------------------------------------------------------- metamethods of references
cdef bint _item_access(obj):
    return hasattr(type(obj), "__getitem__") and not isinstance(obj, type)


cdef int _ref_index_impl(lua.lua_State* L) noexcept:
    cdef LuaState rt = _runtime_of(L)
    try:
        obj = _pyref_arg(rt, L, 1, "index")
        key = _lua_to_py(rt, L, 2, None, 0)
        if _item_access(obj):
            try:
                value = obj[key]
            except (KeyError, IndexError):
                if isinstance(key, str) and hasattr(obj, key):
                    value = getattr(obj, key)
                else:
                    lua.lua_pushnil(L)
                    return 1
            except TypeError:
                if isinstance(key, str):
                    value = getattr(obj, key)
                else:
                    raise
        elif isinstance(key, str):
            value = getattr(obj, key)
        else:
            raise TypeError(f"{type(obj).__name__} object is not subscriptable (index {key!r})")
        _push_shallow(rt, L, value)
        return 1
    except BaseException as e:
        return _raise_in_lua(rt, L, e)

cdef int _ref_index(lua.lua_State* L) noexcept:
    cdef int n = _ref_index_impl(L)
    if n < 0:
        return lua.lua_error(L)  # may not return
    return n


cdef int _ref_newindex_impl(lua.lua_State* L) noexcept:
    cdef LuaState rt = _runtime_of(L)
    try:
        obj = _pyref_arg(rt, L, 1, "newindex")
        key = _lua_to_py(rt, L, 2, None, 0)
        value = _lua_to_py(rt, L, 3, None, 0)
        if _item_access(obj) and hasattr(type(obj), "__setitem__"):
            obj[key] = value
        elif isinstance(key, str):
            setattr(obj, key, value)
        else:
            raise TypeError(f"{type(obj).__name__} object does not support item assignment")
        return 0
    except BaseException as e:
        return _raise_in_lua(rt, L, e)

cdef int _ref_newindex(lua.lua_State* L) noexcept:
    cdef int n = _ref_newindex_impl(L)
    if n < 0:
        return lua.lua_error(L)  # may not return
    return n


cdef int _ref_call_impl(lua.lua_State* L) noexcept:
    cdef LuaState rt = _runtime_of(L)
    cdef int i, n = lua.lua_gettop(L)
    try:
        func = _pyref_arg(rt, L, 1, "call")
        args = PyTuple_New(n - 1)
        for i in range(2, n + 1):
            a = _lua_to_py(rt, L, i, None, 0)
            Py_INCREF(a)
            PyTuple_SET_ITEM(args, i - 2, a)
        result = func(*args)
        _push_shallow(rt, L, result)
        return 1
    except BaseException as e:
        return _raise_in_lua(rt, L, e)

cdef int _ref_call(lua.lua_State* L) noexcept:
    cdef int n = _ref_call_impl(L)
    if n < 0:
        return lua.lua_error(L)  # may not return
    return n


cdef int _ref_compare_impl(lua.lua_State* L, int op) noexcept:
    cdef LuaState rt = _runtime_of(L)
    try:
        a = _lua_to_py(rt, L, 1, None, 0)
        b = _lua_to_py(rt, L, 2, None, 0)
        if op == 0:
            r = a == b
        elif op == 1:
            r = a < b
        else:
            r = a <= b
        lua.lua_pushboolean(L, bool(r))
        return 1
    except BaseException as e:
        return _raise_in_lua(rt, L, e)

cdef int _ref_eq(lua.lua_State* L) noexcept:
    cdef int n = _ref_compare_impl(L, 0)
    if n < 0:
        return lua.lua_error(L)  # may not return
    return n

cdef int _ref_lt(lua.lua_State* L) noexcept:
    cdef int n = _ref_compare_impl(L, 1)
    if n < 0:
        return lua.lua_error(L)  # may not return
    return n

cdef int _ref_le(lua.lua_State* L) noexcept:
    cdef int n = _ref_compare_impl(L, 2)
    if n < 0:
        return lua.lua_error(L)  # may not return
    return n


cdef int _ref_tostring_impl(lua.lua_State* L) noexcept:
    cdef LuaState rt = _runtime_of(L)
    cdef _PyRef* ref
    try:
        ref = _get_pyref(rt, L, 1)
        if ref is NULL or ref.obj is NULL:
            raise TypeError("__tostring: expected a Python reference")
        obj = <object>ref.obj
        if ref.is_error:
            text = f"Python exception: {type(obj).__name__}: {obj}"
        else:
            text = str(obj)
        b = text.encode("utf-8", "replace")
        lua.lua_pushlstring(L, b, len(b))
        return 1
    except BaseException as e:
        return _raise_in_lua(rt, L, e)

cdef int _ref_tostring(lua.lua_State* L) noexcept:
    cdef int n = _ref_tostring_impl(L)
    if n < 0:
        return lua.lua_error(L)  # may not return
    return n


cdef int _ref_len_impl(lua.lua_State* L) noexcept:
    cdef LuaState rt = _runtime_of(L)
    try:
        obj = _pyref_arg(rt, L, 1, "len")
        lua.lua_pushnumber(L, len(obj))
        return 1
    except BaseException as e:
        return _raise_in_lua(rt, L, e)

cdef int _ref_len(lua.lua_State* L) noexcept:
    cdef int n = _ref_len_impl(L)
    if n < 0:
        return lua.lua_error(L)  # may not return
    return n


cdef int _ref_gc(lua.lua_State* L) noexcept:
    # May run inside lua_close, when the LuaState is going away: it checks the
    # userdata against the metatable registered by name, not through the runtime.
    cdef _PyRef* ref = <_PyRef*>lua.lua_touserdata(L, 1)
    cdef PyObject* obj
    cdef bint ours
    if ref is NULL or lua.lua_type(L, 1) != lua.LUA_TUSERDATA or lua.lua_objlen(L, 1) < sizeof(_PyRef):
        return 0
    if not lua.lua_getmetatable(L, 1):                                       # mt
        return 0
    lua.luaL_getmetatable(L, PYREF_MT)                                      # mt pymt
    ours = lua.lua_rawequal(L, -1, -2)
    lua.lua_pop(L, 2)
    if ours and ref.obj is not NULL:
        obj = ref.obj
        ref.obj = NULL
        _array_released(_runtime_of(L), obj)
        Py_DECREF(<object>obj)
    return 0


cdef void _set_cfunction(LuaState rt, lua.lua_State* L, const char* name, lua.lua_CFunction f):
    # tbl -> tbl, with tbl[name] = f (upvalue 1: the runtime)
    lua.lua_pushlightuserdata(L, <void*>rt)
    lua.lua_pushcclosure(L, f, 1)
    lua.lua_setfield(L, -2, name)


cdef int _open_pylib(LuaState rt, lua.lua_State* L) except -1:
    lua.luaL_newmetatable(L, PYREF_MT)                                      # mt
    _set_cfunction(rt, L, b"__index", <lua.lua_CFunction>_ref_index)
    _set_cfunction(rt, L, b"__newindex", <lua.lua_CFunction>_ref_newindex)
    _set_cfunction(rt, L, b"__call", <lua.lua_CFunction>_ref_call)
    _set_cfunction(rt, L, b"__eq", <lua.lua_CFunction>_ref_eq)
    _set_cfunction(rt, L, b"__lt", <lua.lua_CFunction>_ref_lt)
    _set_cfunction(rt, L, b"__le", <lua.lua_CFunction>_ref_le)
    _set_cfunction(rt, L, b"__tostring", <lua.lua_CFunction>_ref_tostring)
    _set_cfunction(rt, L, b"__len", <lua.lua_CFunction>_ref_len)
    _set_cfunction(rt, L, b"__gc", <lua.lua_CFunction>_ref_gc)
    lua.lua_pushstring(L, b"python")
    lua.lua_setfield(L, -2, b"__metatable")
    rt._pyref_mt_ref = lua.luaL_ref(L, lua.LUA_REGISTRYINDEX)               #

    lua.lua_createtable(L, 0, 8)                                            # py
    _set_cfunction(rt, L, b"exec", <lua.lua_CFunction>_py_exec)
    _set_cfunction(rt, L, b"eval", <lua.lua_CFunction>_py_eval)
    _set_cfunction(rt, L, b"reval", <lua.lua_CFunction>_py_reval)
    _set_cfunction(rt, L, b"import", <lua.lua_CFunction>_py_import)
    _set_cfunction(rt, L, b"ref", <lua.lua_CFunction>_py_ref)
    _set_cfunction(rt, L, b"iter", <lua.lua_CFunction>_py_iter)
    lua.lua_pushvalue(L, -1)                                                # py py
    lua.lua_setglobal(L, b"py")                                             # py
    lua.lua_getglobal(L, b"package")                                        # py package
    lua.lua_getfield(L, -1, b"loaded")                                      # py package loaded
    lua.lua_pushvalue(L, -3)
    lua.lua_setfield(L, -2, b"py")
    lua.lua_pop(L, 3)
    return 0
