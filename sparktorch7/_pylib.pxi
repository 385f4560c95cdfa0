# The `py` module that every state's Lua code sees, fb.python's module, and Python references in Lua.
# Each Lua-facing C function is a thin wrapper holding no Python object: its
# _impl does the work, turns any exception into an error value on the Lua stack
# and returns -1; only then does the wrapper call lua_error.
#
# Two flavours of reference share one metatable. Those of the global `py` convert
# what their operations give when it is a plain value (numbers, strings, None) and
# keep containers and objects as references. Those made through `require 'fb.python'`
# (the `fb` flag) follow fblualib's fb.python: every operation gives a reference
# again, and only py.eval converts, so that py.eval(ref.field) turns data into a
# Lua value and never runs it as code. Module functions know their flavour by
# upvalue 2 (a boolean); metamethods by the flag of the reference.

ctypedef struct _PyRef:
    PyObject* obj
    int is_error
    int fb                  # made by fb.python: operations on it give references

cdef const char* PYREF_MT = b"sparktorch7.pyref"

# py.args / py.kwargs: light userdata marking the arguments of a call that are spread
cdef char _ARGS_MARK = 0
cdef char _KWARGS_MARK = 0


cdef int _push_ref(LuaState rt, lua.lua_State* L, object obj, int is_error, int fb) except -1:
    cdef _PyRef* ud = <_PyRef*>lua.lua_newuserdata(L, sizeof(_PyRef))    # ud
    ud.obj = <PyObject*>obj
    ud.is_error = is_error
    ud.fb = fb
    Py_INCREF(obj)
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, rt._pyref_mt_ref)          # ud mt
    lua.lua_setmetatable(L, -2)                                          # ud
    return 0


cdef inline int _push_pyref(LuaState rt, lua.lua_State* L, object obj, int is_error) except -1:
    return _push_ref(rt, L, obj, is_error, 0)


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


cdef inline int _flavor(lua.lua_State* L) noexcept:
    """1 in a function of fb.python's module, 0 in one of the global `py`."""
    return lua.lua_toboolean(L, lua.lua_upvalueindex(2))


cdef int _raise_in_lua(LuaState rt, lua.lua_State* L, BaseException exc) noexcept:
    # Leaves the exception on the stack as the error value; the caller returns -1.
    try:
        _push_pyref(rt, L, exc, 1)
    except BaseException:
        lua.lua_pushstring(L, b"sparktorch7: a Python exception could not be passed to Lua")
    return -1


cdef _PyRef* _pyref_checked(LuaState rt, lua.lua_State* L, int idx, str fname) except NULL:
    cdef _PyRef* ref = _get_pyref(rt, L, idx)
    if ref is NULL:
        raise TypeError(f"{fname}: expected a Python reference, got a Lua "
                        f"{lua.luaL_typename(L, idx).decode()}")
    return ref


cdef object _pyref_arg(LuaState rt, lua.lua_State* L, int idx, str fname):
    return <object>_pyref_checked(rt, L, idx, fname).obj


cdef object _code_arg(LuaState rt, lua.lua_State* L, int idx, str fname):
    if lua.lua_type(L, idx) != lua.LUA_TSTRING:
        raise TypeError(f"{fname}: expected Python code as a string, got a Lua "
                        f"{lua.luaL_typename(L, idx).decode()}")
    cdef size_t size
    cdef const char* s = lua.lua_tolstring(L, idx, &size)
    return s[:size].decode("utf-8")


cdef object _locals_arg(LuaState rt, lua.lua_State* L, int idx, str fname, int fb):
    cdef _PyRef* ref
    if lua.lua_isnoneornil(L, idx):
        return None
    if fb:
        # fb.python: a table of names (str keys; values Python cannot hold are left
        # out), or a reference to a dict
        ref = _get_pyref(rt, L, idx)
        if ref is not NULL:
            loc = <object>ref.obj
        elif lua.lua_type(L, idx) == lua.LUA_TTABLE:
            loc = _table_items(rt, L, idx, None, 1)
        else:
            loc = None
        if not isinstance(loc, dict):
            raise TypeError(f"{fname}: locals must be a table or a Python dict, got a Lua "
                            f"{lua.luaL_typename(L, idx).decode()}")
        return loc
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


cdef inline int _push_result(LuaState rt, lua.lua_State* L, object obj, int fb) except -1:
    """What an operation on a reference gives: a reference (fb.python), or _push_shallow."""
    if fb:
        return _push_ref(rt, L, obj, 0, 1)
    return _push_shallow(rt, L, obj)


cdef inline object _arg_to_py(LuaState rt, lua.lua_State* L, int idx, dict memo, int fb):
    """A Lua value given to Python: fb.python's conversion, or the state's."""
    if fb:
        return _fb_to_py(rt, L, idx, memo, 0, 0)
    return _lua_to_py(rt, L, idx, None, 0)


cdef object _sequence_arg(LuaState rt, lua.lua_State* L, int idx, dict memo, int fb, str fname):
    """A table's items t[1], t[2]... up to the first nil (a list), or a reference's
    object; anything else is a TypeError."""
    cdef _PyRef* ref = _get_pyref(rt, L, idx)
    if ref is not NULL:
        return <object>ref.obj
    if lua.lua_type(L, idx) != lua.LUA_TTABLE:
        raise TypeError(f"{fname}: expected a table or a Python reference, got a Lua "
                        f"{lua.luaL_typename(L, idx).decode()}")
    if fb:
        return _fb_sequence(rt, L, idx, memo, 0)
    cdef int i = 1
    out = []
    while True:
        lua.lua_rawgeti(L, idx, i)                                          # v
        if lua.lua_type(L, -1) == lua.LUA_TNIL:
            lua.lua_pop(L, 1)
            return out
        try:
            out.append(_lua_to_py(rt, L, -1, None, 0))
        finally:
            lua.lua_pop(L, 1)
        i += 1


cdef object _table_items(LuaState rt, lua.lua_State* L, int idx, dict memo, int fb):
    """A table as a dict whatever its keys: strings as str (bytes when not UTF-8),
    integral numbers as int; fb.python leaves out values Python cannot hold."""
    if fb:
        return _fb_dict(rt, L, idx, memo, 0)
    result = {}
    lua.lua_pushnil(L)
    while lua.lua_next(L, idx):                                             # k v
        try:
            k = _fb_to_py(rt, L, -2, None, FB_KEY, 0)
            result[k] = _lua_to_py(rt, L, -1, None, 0)
        except BaseException:
            lua.lua_pop(L, 2)
            raise
        lua.lua_pop(L, 1)                                                   # k
    return result


# ---------------------------------------------------------------- py.exec / eval / reval / import / ref
cdef int _py_exec_impl(lua.lua_State* L) noexcept:
    cdef LuaState rt = _runtime_of(L)
    cdef int fb = _flavor(L)
    try:
        code = _code_arg(rt, L, 1, "py.exec")
        loc = _locals_arg(rt, L, 2, "py.exec", fb)
        exec(compile(code, "<py.exec>", "exec"), rt.py_globals, loc)
        return 0
    except BaseException as e:
        return _raise_in_lua(rt, L, e)

cdef int _py_exec(lua.lua_State* L) noexcept:
    cdef int n = _py_exec_impl(L)
    if n < 0:
        return lua.lua_error(L)  # may not return
    return n


cdef object _eval_arg(LuaState rt, lua.lua_State* L, str fname, int fb):
    cdef _PyRef* ref = _get_pyref(rt, L, 1)
    if ref is not NULL:
        return <object>ref.obj
    code = _code_arg(rt, L, 1, fname)
    loc = _locals_arg(rt, L, 2, fname, fb)
    return eval(compile(code, "<" + fname + ">", "eval"), rt.py_globals, loc)


cdef int _py_eval_impl(lua.lua_State* L, int none_ref) noexcept:
    cdef LuaState rt = _runtime_of(L)
    cdef int fb = _flavor(L)
    cdef int flags = (PUSH_STRICT | PUSH_FB) if fb else 0
    try:
        value = _eval_arg(rt, L, "py.eval_none" if none_ref else "py.eval", fb)
        if none_ref:
            flags |= PUSH_NONE_REF
        _push_converted(rt, L, value, flags)
        return 1
    except BaseException as e:
        return _raise_in_lua(rt, L, e)

cdef int _py_eval(lua.lua_State* L) noexcept:
    cdef int n = _py_eval_impl(L, 0)
    if n < 0:
        return lua.lua_error(L)  # may not return
    return n

cdef int _py_eval_none(lua.lua_State* L) noexcept:
    cdef int n = _py_eval_impl(L, 1)
    if n < 0:
        return lua.lua_error(L)  # may not return
    return n


cdef int _py_reval_impl(lua.lua_State* L) noexcept:
    cdef LuaState rt = _runtime_of(L)
    cdef int fb = _flavor(L)
    try:
        if fb and _get_pyref(rt, L, 1) is not NULL:
            lua.lua_pushvalue(L, 1)                                         # the reference itself
            return 1
        value = _eval_arg(rt, L, "py.reval", fb)
        _push_ref(rt, L, value, 0, fb)
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
        _push_ref(rt, L, importlib.import_module(name), 0, _flavor(L))
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
    cdef int fb = _flavor(L)
    try:
        value = _arg_to_py(rt, L, 1, None, fb)
        _push_ref(rt, L, value, 0, fb)
        return 1
    except BaseException as e:
        return _raise_in_lua(rt, L, e)

cdef int _py_ref(lua.lua_State* L) noexcept:
    cdef int n = _py_ref_impl(L)
    if n < 0:
        return lua.lua_error(L)  # may not return
    return n


# ---------------------------------------------------------------- py.int / float / bytes / str / list / tuple / dict
DEF BUILD_INT = 0
DEF BUILD_FLOAT = 1
DEF BUILD_BYTES = 2
DEF BUILD_STR = 3
DEF BUILD_LIST = 4
DEF BUILD_TUPLE = 5
DEF BUILD_DICT = 6

cdef object _BUILD_NAMES = ("py.int", "py.float", "py.bytes", "py.str", "py.list", "py.tuple", "py.dict")


cdef object _build(LuaState rt, lua.lua_State* L, int kind, int fb):
    """fb.python's coercions: a Lua value (or the object of a reference) as a Python
    int, float, bytes, str, list, tuple or dict."""
    cdef str fname = _BUILD_NAMES[kind]
    cdef int t = lua.lua_type(L, 1)
    cdef _PyRef* ref = _get_pyref(rt, L, 1)
    cdef size_t size
    cdef const char* s
    if kind == BUILD_INT or kind == BUILD_FLOAT:
        if ref is not NULL:
            return int(<object>ref.obj) if kind == BUILD_INT else float(<object>ref.obj)
        if t != lua.LUA_TNUMBER:
            raise TypeError(f"{fname}: expected a number or a Python reference, got a Lua "
                            f"{lua.luaL_typename(L, 1).decode()}")
        if kind == BUILD_INT:
            return int(lua.lua_tonumber(L, 1))                              # truncated, as C's (long)
        return PyFloat_FromDouble(lua.lua_tonumber(L, 1))
    if kind == BUILD_BYTES or kind == BUILD_STR:
        if ref is not NULL:
            obj = <object>ref.obj
            if isinstance(obj, bytes):
                return obj if kind == BUILD_BYTES else (<bytes>obj).decode("utf-8")
            if isinstance(obj, str):
                return obj if kind == BUILD_STR else (<str>obj).encode("utf-8")
            raise TypeError(f"{fname}: expected a reference to bytes or str, got one to "
                            f"{type(obj).__name__}")
        if t != lua.LUA_TSTRING:
            raise TypeError(f"{fname}: expected a string or a Python reference, got a Lua "
                            f"{lua.luaL_typename(L, 1).decode()}")
        s = lua.lua_tolstring(L, 1, &size)
        if kind == BUILD_BYTES:
            return PyBytes_FromStringAndSize(s, size)
        return PyUnicode_DecodeUTF8(s, size, NULL)
    if ref is not NULL:
        obj = <object>ref.obj
        if kind == BUILD_LIST:
            return list(obj)
        if kind == BUILD_TUPLE:
            return tuple(obj)
        if not isinstance(obj, dict):
            raise TypeError(f"py.dict: expected a reference to a dict, got one to {type(obj).__name__}")
        return obj
    if t != lua.LUA_TTABLE:
        raise TypeError(f"{fname}: expected a table or a Python reference, got a Lua "
                        f"{lua.luaL_typename(L, 1).decode()}")
    if kind == BUILD_DICT:
        return _table_items(rt, L, 1, None, fb)
    items = _sequence_arg(rt, L, 1, None, fb, fname)
    return items if kind == BUILD_LIST else tuple(items)


cdef int _py_build_impl(lua.lua_State* L, int kind) noexcept:
    cdef LuaState rt = _runtime_of(L)
    cdef int fb = _flavor(L)
    try:
        _push_ref(rt, L, _build(rt, L, kind, fb), 0, fb)
        return 1
    except BaseException as e:
        return _raise_in_lua(rt, L, e)

cdef int _py_int(lua.lua_State* L) noexcept:
    cdef int n = _py_build_impl(L, BUILD_INT)
    if n < 0:
        return lua.lua_error(L)  # may not return
    return n

cdef int _py_float(lua.lua_State* L) noexcept:
    cdef int n = _py_build_impl(L, BUILD_FLOAT)
    if n < 0:
        return lua.lua_error(L)  # may not return
    return n

cdef int _py_bytes(lua.lua_State* L) noexcept:
    cdef int n = _py_build_impl(L, BUILD_BYTES)
    if n < 0:
        return lua.lua_error(L)  # may not return
    return n

cdef int _py_str(lua.lua_State* L) noexcept:
    cdef int n = _py_build_impl(L, BUILD_STR)
    if n < 0:
        return lua.lua_error(L)  # may not return
    return n

cdef int _py_list(lua.lua_State* L) noexcept:
    cdef int n = _py_build_impl(L, BUILD_LIST)
    if n < 0:
        return lua.lua_error(L)  # may not return
    return n

cdef int _py_tuple(lua.lua_State* L) noexcept:
    cdef int n = _py_build_impl(L, BUILD_TUPLE)
    if n < 0:
        return lua.lua_error(L)  # may not return
    return n

cdef int _py_dict(lua.lua_State* L) noexcept:
    cdef int n = _py_build_impl(L, BUILD_DICT)
    if n < 0:
        return lua.lua_error(L)  # may not return
    return n


# ---------------------------------------------------------------- py.iter
cdef int _py_next_impl(lua.lua_State* L) noexcept:
    cdef LuaState rt = _runtime_of(L)
    cdef _PyRef* ref = <_PyRef*>lua.lua_touserdata(L, lua.lua_upvalueindex(2))
    cdef Py_ssize_t i
    try:
        it = <object>ref.obj
        try:
            item = next(it)
        except StopIteration:
            lua.lua_pushnil(L)
            return 1
        if type(item) is tuple:
            if not lua.lua_checkstack(L, len(item) + 2):
                raise MemoryError("Lua stack overflow")
            for i in range(len(item)):
                _push_result(rt, L, item[i], ref.fb)
            return len(item)
        _push_result(rt, L, item, ref.fb)
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
        _push_ref(rt, L, it, 0, _flavor(L))                                 # rt it
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


cdef object _fb_index_key(LuaState rt, lua.lua_State* L, int idx):
    """fb.python's key of ref[key]: a string (str, attribute first), a number (int
    when integral) or a reference's object."""
    cdef _PyRef* ref
    cdef int t = lua.lua_type(L, idx)
    if t == lua.LUA_TSTRING or t == lua.LUA_TNUMBER or t == lua.LUA_TBOOLEAN:
        return _fb_to_py(rt, L, idx, None, FB_KEY, 0)
    ref = _get_pyref(rt, L, idx)
    if ref is not NULL:
        return <object>ref.obj
    raise TypeError(f"a Python reference is indexed by a string, a number or a reference, "
                    f"not a Lua {lua.luaL_typename(L, idx).decode()}")


cdef object _fb_index(obj, key):
    # Lua does not tell obj.name from obj['name']: a string key is an attribute
    # when the object has one (so d.get is dict.get, as in fb.python), an item otherwise.
    if isinstance(key, str):
        if hasattr(obj, key):
            return getattr(obj, key)
        if not hasattr(type(obj), "__getitem__"):
            return getattr(obj, key)                                        # the AttributeError
        try:
            return obj[key]
        except KeyError:
            pass
        try:
            return obj[(<str>key).encode("utf-8")]                          # a dict with bytes keys
        except (KeyError, TypeError):
            raise KeyError(key) from None
    return obj[key]


cdef int _ref_index_impl(lua.lua_State* L) noexcept:
    cdef LuaState rt = _runtime_of(L)
    cdef _PyRef* ref
    try:
        ref = _pyref_checked(rt, L, 1, "index")
        obj = <object>ref.obj
        if ref.fb:
            _push_ref(rt, L, _fb_index(obj, _fb_index_key(rt, L, 2)), 0, 1)
            return 1
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
    cdef _PyRef* ref
    try:
        ref = _pyref_checked(rt, L, 1, "newindex")
        obj = <object>ref.obj
        if ref.fb:
            key = _fb_index_key(rt, L, 2)
            value = _fb_to_py(rt, L, 3, None, 0, 0)
            if isinstance(key, str) and (hasattr(obj, key) or not hasattr(type(obj), "__setitem__")):
                setattr(obj, key, value)
            else:
                obj[key] = value
            return 0
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


cdef bint _has_marks(lua.lua_State* L, int first, int n) noexcept:
    cdef int i
    cdef void* p
    for i in range(first, n + 1):
        if lua.lua_type(L, i) == lua.LUA_TLIGHTUSERDATA:
            p = lua.lua_touserdata(L, i)
            if p == <void*>&_ARGS_MARK or p == <void*>&_KWARGS_MARK:
                return True
    return False


cdef tuple _marked_args(LuaState rt, lua.lua_State* L, int first, int n, int fb):
    """f(a, b, py.args, seq, py.kwargs, tbl) -> ((a, b, *seq), {**tbl}), as fb.python."""
    cdef int i = first
    cdef void* p
    cdef bint seen_args = False, seen_kwargs = False
    cdef dict memo = {} if fb else None
    args = []
    kwargs = None
    while i <= n:
        p = lua.lua_touserdata(L, i) if lua.lua_type(L, i) == lua.LUA_TLIGHTUSERDATA else NULL
        if p == <void*>&_ARGS_MARK:
            if seen_args:
                raise TypeError("call: py.args given twice")
            if seen_kwargs:
                raise TypeError("call: py.args must come before py.kwargs")
            if i == n:
                raise TypeError("call: py.args must be followed by a table or a Python sequence")
            seen_args = True
            i += 1
            args.extend(_sequence_arg(rt, L, i, memo, fb, "call: py.args"))
        elif p == <void*>&_KWARGS_MARK:
            if seen_kwargs:
                raise TypeError("call: py.kwargs given twice")
            if i == n:
                raise TypeError("call: py.kwargs must be followed by a table or a Python dict")
            seen_kwargs = True
            i += 1
            if _get_pyref(rt, L, i) is not NULL:
                kwargs = <object>_get_pyref(rt, L, i).obj
                if not isinstance(kwargs, dict):
                    raise TypeError(f"call: py.kwargs must be followed by a table or a Python dict, "
                                    f"got a reference to {type(kwargs).__name__}")
            elif lua.lua_type(L, i) == lua.LUA_TTABLE:
                kwargs = _table_items(rt, L, i, memo, fb)
            else:
                raise TypeError(f"call: py.kwargs must be followed by a table or a Python dict, got a Lua "
                                f"{lua.luaL_typename(L, i).decode()}")
            for k in kwargs:
                if not isinstance(k, str):
                    raise TypeError(f"call: py.kwargs: keyword names are strings, not {k!r}")
        elif seen_args or seen_kwargs:
            raise TypeError(f"call: argument {i - first + 1} is a positional argument after py.args / py.kwargs")
        else:
            args.append(_arg_to_py(rt, L, i, memo, fb))
        i += 1
    return tuple(args), kwargs


cdef int _ref_call_impl(lua.lua_State* L) noexcept:
    cdef LuaState rt = _runtime_of(L)
    cdef int i, n = lua.lua_gettop(L)
    cdef _PyRef* ref
    cdef int fb
    cdef dict memo
    try:
        ref = _pyref_checked(rt, L, 1, "call")
        func = <object>ref.obj
        fb = ref.fb
        if _has_marks(L, 2, n):
            args, kwargs = _marked_args(rt, L, 2, n, fb)
            result = func(*args, **kwargs) if kwargs else func(*args)
        else:
            memo = {} if fb else None
            args = PyTuple_New(n - 1)
            for i in range(2, n + 1):
                a = _arg_to_py(rt, L, i, memo, fb)
                Py_INCREF(a)
                PyTuple_SET_ITEM(args, i - 2, a)
            result = func(*args)
        _push_result(rt, L, result, fb)
        return 1
    except BaseException as e:
        return _raise_in_lua(rt, L, e)

cdef int _ref_call(lua.lua_State* L) noexcept:
    cdef int n = _ref_call_impl(L)
    if n < 0:
        return lua.lua_error(L)  # may not return
    return n


cdef inline int _operands_fb(LuaState rt, lua.lua_State* L) noexcept:
    cdef _PyRef* a = _get_pyref(rt, L, 1)
    cdef _PyRef* b = _get_pyref(rt, L, 2)
    return (a is not NULL and a.fb) or (b is not NULL and b.fb)


# Arithmetic on references, as fb.python bridges it: both operands to Python, the
# operator applied there; `..` is Python's + (Python has one operator for both).
DEF OP_ADD = 0
DEF OP_SUB = 1
DEF OP_MUL = 2
DEF OP_DIV = 3
DEF OP_MOD = 4
DEF OP_POW = 5
DEF OP_UNM = 6

cdef int _ref_arith_impl(lua.lua_State* L, int op) noexcept:
    cdef LuaState rt = _runtime_of(L)
    cdef int fb
    try:
        fb = _operands_fb(rt, L)
        a = _arg_to_py(rt, L, 1, None, fb)
        if op == OP_UNM:
            r = -a
        else:
            b = _arg_to_py(rt, L, 2, None, fb)
            if op == OP_ADD:
                r = a + b
            elif op == OP_SUB:
                r = a - b
            elif op == OP_MUL:
                r = a * b
            elif op == OP_DIV:
                r = a / b
            elif op == OP_MOD:
                r = a % b
            else:
                r = a ** b
        _push_result(rt, L, r, fb)
        return 1
    except BaseException as e:
        return _raise_in_lua(rt, L, e)

cdef int _ref_add(lua.lua_State* L) noexcept:
    cdef int n = _ref_arith_impl(L, OP_ADD)
    if n < 0:
        return lua.lua_error(L)  # may not return
    return n

cdef int _ref_sub(lua.lua_State* L) noexcept:
    cdef int n = _ref_arith_impl(L, OP_SUB)
    if n < 0:
        return lua.lua_error(L)  # may not return
    return n

cdef int _ref_mul(lua.lua_State* L) noexcept:
    cdef int n = _ref_arith_impl(L, OP_MUL)
    if n < 0:
        return lua.lua_error(L)  # may not return
    return n

cdef int _ref_div(lua.lua_State* L) noexcept:
    cdef int n = _ref_arith_impl(L, OP_DIV)
    if n < 0:
        return lua.lua_error(L)  # may not return
    return n

cdef int _ref_mod(lua.lua_State* L) noexcept:
    cdef int n = _ref_arith_impl(L, OP_MOD)
    if n < 0:
        return lua.lua_error(L)  # may not return
    return n

cdef int _ref_pow(lua.lua_State* L) noexcept:
    cdef int n = _ref_arith_impl(L, OP_POW)
    if n < 0:
        return lua.lua_error(L)  # may not return
    return n

cdef int _ref_unm(lua.lua_State* L) noexcept:
    cdef int n = _ref_arith_impl(L, OP_UNM)
    if n < 0:
        return lua.lua_error(L)  # may not return
    return n


cdef int _ref_compare_impl(lua.lua_State* L, int op) noexcept:
    cdef LuaState rt = _runtime_of(L)
    cdef int fb
    try:
        fb = _operands_fb(rt, L)
        a = _arg_to_py(rt, L, 1, None, fb)
        b = _arg_to_py(rt, L, 2, None, fb)
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


cdef void _set_pyfunction(LuaState rt, lua.lua_State* L, const char* name, lua.lua_CFunction f, int fb):
    # tbl -> tbl, with tbl[name] = f (upvalues: the runtime, the flavour)
    lua.lua_pushlightuserdata(L, <void*>rt)
    lua.lua_pushboolean(L, fb)
    lua.lua_pushcclosure(L, f, 2)
    lua.lua_setfield(L, -2, name)


cdef int _fill_pymodule(LuaState rt, lua.lua_State* L, int fb) except -1:
    # tbl -> tbl with the module's functions and markers
    _set_pyfunction(rt, L, b"exec", <lua.lua_CFunction>_py_exec, fb)
    _set_pyfunction(rt, L, b"eval", <lua.lua_CFunction>_py_eval, fb)
    _set_pyfunction(rt, L, b"eval_none", <lua.lua_CFunction>_py_eval_none, fb)
    _set_pyfunction(rt, L, b"reval", <lua.lua_CFunction>_py_reval, fb)
    _set_pyfunction(rt, L, b"import", <lua.lua_CFunction>_py_import, fb)
    _set_pyfunction(rt, L, b"ref", <lua.lua_CFunction>_py_ref, fb)
    _set_pyfunction(rt, L, b"iter", <lua.lua_CFunction>_py_iter, fb)
    _set_pyfunction(rt, L, b"int", <lua.lua_CFunction>_py_int, fb)
    _set_pyfunction(rt, L, b"long", <lua.lua_CFunction>_py_int, fb)
    _set_pyfunction(rt, L, b"float", <lua.lua_CFunction>_py_float, fb)
    _set_pyfunction(rt, L, b"bytes", <lua.lua_CFunction>_py_bytes, fb)
    _set_pyfunction(rt, L, b"str", <lua.lua_CFunction>_py_str, fb)
    _set_pyfunction(rt, L, b"unicode", <lua.lua_CFunction>_py_str, fb)
    _set_pyfunction(rt, L, b"list", <lua.lua_CFunction>_py_list, fb)
    _set_pyfunction(rt, L, b"tuple", <lua.lua_CFunction>_py_tuple, fb)
    _set_pyfunction(rt, L, b"dict", <lua.lua_CFunction>_py_dict, fb)
    lua.lua_pushlightuserdata(L, <void*>&_ARGS_MARK)
    lua.lua_setfield(L, -2, b"args")
    lua.lua_pushlightuserdata(L, <void*>&_KWARGS_MARK)
    lua.lua_setfield(L, -2, b"kwargs")
    _push_ref(rt, L, None, 0, fb)
    lua.lua_setfield(L, -2, b"None")
    return 0


cdef int _open_pylib(LuaState rt, lua.lua_State* L) except -1:
    lua.luaL_newmetatable(L, PYREF_MT)                                      # mt
    _set_cfunction(rt, L, b"__index", <lua.lua_CFunction>_ref_index)
    _set_cfunction(rt, L, b"__newindex", <lua.lua_CFunction>_ref_newindex)
    _set_cfunction(rt, L, b"__call", <lua.lua_CFunction>_ref_call)
    _set_cfunction(rt, L, b"__add", <lua.lua_CFunction>_ref_add)
    _set_cfunction(rt, L, b"__sub", <lua.lua_CFunction>_ref_sub)
    _set_cfunction(rt, L, b"__mul", <lua.lua_CFunction>_ref_mul)
    _set_cfunction(rt, L, b"__div", <lua.lua_CFunction>_ref_div)
    _set_cfunction(rt, L, b"__mod", <lua.lua_CFunction>_ref_mod)
    _set_cfunction(rt, L, b"__pow", <lua.lua_CFunction>_ref_pow)
    _set_cfunction(rt, L, b"__unm", <lua.lua_CFunction>_ref_unm)
    _set_cfunction(rt, L, b"__concat", <lua.lua_CFunction>_ref_add)
    _set_cfunction(rt, L, b"__eq", <lua.lua_CFunction>_ref_eq)
    _set_cfunction(rt, L, b"__lt", <lua.lua_CFunction>_ref_lt)
    _set_cfunction(rt, L, b"__le", <lua.lua_CFunction>_ref_le)
    _set_cfunction(rt, L, b"__tostring", <lua.lua_CFunction>_ref_tostring)
    _set_cfunction(rt, L, b"__len", <lua.lua_CFunction>_ref_len)
    _set_cfunction(rt, L, b"__gc", <lua.lua_CFunction>_ref_gc)
    lua.lua_pushstring(L, b"python")
    lua.lua_setfield(L, -2, b"__metatable")
    rt._pyref_mt_ref = lua.luaL_ref(L, lua.LUA_REGISTRYINDEX)               #

    lua.lua_createtable(L, 0, 24)                                           # py
    _fill_pymodule(rt, L, 0)
    lua.lua_pushvalue(L, -1)                                                # py py
    lua.lua_setglobal(L, b"py")                                             # py
    lua.lua_getglobal(L, b"package")                                        # py package
    lua.lua_getfield(L, -1, b"loaded")                                      # py package loaded
    lua.lua_pushvalue(L, -3)
    lua.lua_setfield(L, -2, b"py")
    # fb.python's C part (require 'fb.python' adds the l-variants: lua/fb/python/init.lua)
    lua.lua_createtable(L, 0, 24)                                           # py package loaded lib
    _fill_pymodule(rt, L, 1)
    lua.lua_setfield(L, -2, b"fb.python.lib")                               # py package loaded
    lua.lua_pop(L, 3)
    return 0
