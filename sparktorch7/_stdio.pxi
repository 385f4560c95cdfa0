# Lua's print, io.write and io.stdout/io.stderr writes go to Python's sys.stdout/sys.stderr.
#
# print is a C function (_print) as in Lua; io.write and the files' write and flush
# methods are Lua wrappers around the C function _emit (lua/sparktorch7/boot/stdio.lua).
# So notebooks, pytest's capsys and contextlib.redirect_stdout see them, in order with
# Python's own output (LuaJIT's would go to C's stdout, buffered apart). io.stdout and
# io.stderr stay LuaJIT's file objects (io.type says "file"): the write and flush methods
# that all files share dispatch on the file, so only these two go to Python; io.output(f)
# still redirects io.write to f. What C code writes to the C stdout (ffi.C.printf) does not
# pass through Python. Lua strings are bytes: they are decoded as UTF-8, invalid bytes
# replaced (sys.stdout takes text).
#
# One sys.stdout.write per line costs 2-4x LuaJIT's print (measured: 10^5 short lines),
# so stdout text is gathered in a buffer of the state and written in pieces: when it
# holds 16 KiB, when 0.1 s passed since its oldest byte (progress lines stay timely),
# before Python code runs (a callback from Lua: _runtime_of), before a write to stderr,
# on io.flush / io.stdout:flush(), when sys.stdout is replaced, and when the outermost
# Python -> Lua call returns (LuaState._leave) or the state closes.

from libc.string cimport memmove, strcpy
from libc.math cimport INFINITY

cdef extern from "Python.h":
    PyObject* PySys_GetObject(const char* name)      # borrowed, NULL if unset
    object _decode_utf8_stateful "PyUnicode_DecodeUTF8Stateful"(
        const char* s, Py_ssize_t size, const char* errors, Py_ssize_t* consumed)

cdef double _OUT_DELAY = 0.1  # seconds the oldest gathered byte may wait


cdef int _flush_output(LuaState rt, bint whole) except -1:
    """Write the gathered stdout text to the stream it was gathered for. Unless whole, an
    incomplete UTF-8 sequence at the end stays for the next piece."""
    cdef Py_ssize_t consumed = rt._out_len
    if rt._out_len == 0:
        return 0
    stream = rt._out_stream
    if whole:
        text = PyUnicode_DecodeUTF8(rt._out_buf, rt._out_len, "replace")
    else:
        text = _decode_utf8_stateful(rt._out_buf, rt._out_len, "replace", &consumed)
    if consumed < rt._out_len:
        memmove(rt._out_buf, rt._out_buf + consumed, rt._out_len - consumed)
    rt._out_len -= consumed
    if rt._out_len == 0:
        rt._out_stream = None
    stream.write(text)
    return 0


cdef void _flush_output_quietly(LuaState rt) noexcept:
    # from LuaState._leave and close: an error of sys.stdout goes to sys.unraisablehook
    try:
        _flush_output(rt, True)
    except BaseException as e:
        rt._out_len = 0
        rt._out_stream = None
        try:
            PyErr_SetObject(type(e), e)
            PyErr_WriteUnraisable(rt)
        except BaseException:
            pass


cdef int _gather(LuaState rt, object stream, const char* s, size_t size) except -1:
    cdef size_t room
    if rt._out_len and stream is not rt._out_stream:
        _flush_output(rt, True)                 # sys.stdout was replaced meanwhile
    if rt._out_len == 0:
        rt._out_stream = stream
        rt._out_since = _monotonic()
    while size:
        room = _OUT_CAP - rt._out_len
        if room == 0:
            _flush_output(rt, False)
            rt._out_stream = stream
            continue
        if size < room:
            room = size
        memcpy(rt._out_buf + rt._out_len, s, room)
        rt._out_len += room
        s += room
        size -= room
    return 0


cdef const char* _string_at(lua.lua_State* L, int i, char* num, size_t* size) noexcept:
    """The string at i, or the number at i formatted into num as Lua's tostring does
    (without converting the stack slot, which would allocate)."""
    cdef double d
    if lua.lua_type(L, i) != lua.LUA_TNUMBER:
        return lua.lua_tolstring(L, i, size)
    d = lua.lua_tonumber(L, i)
    if d != d:
        strcpy(num, b"nan")
    elif d == INFINITY or d == -INFINITY:
        strcpy(num, b"inf" if d > 0 else b"-inf")
    else:
        snprintf(num, 40, b"%.14g", d)
    size[0] = strlen(num)
    return num


cdef int _emit_impl(lua.lua_State* L) noexcept:
    # (not _runtime_of, which flushes the output)
    cdef LuaState rt = <LuaState>lua.lua_touserdata(L, lua.lua_upvalueindex(1))
    cdef int kind = <int>lua.lua_tonumber(L, 1)
    cdef int i, t, n = lua.lua_gettop(L)
    cdef size_t size
    cdef const char* s
    cdef char num[40]
    cdef PyObject* stream
    if kind == 2 or kind == 3:
        for i in range(2, n + 1):
            t = lua.lua_type(L, i)
            if t != lua.LUA_TSTRING and t != lua.LUA_TNUMBER:
                lua.lua_pushnumber(L, i - 1)
                return 1                        # the Lua side raises the error
    try:
        if kind == 3 or kind == 5:
            if rt._out_len:
                _flush_output(rt, True)         # what Lua printed before comes first
            stream = PySys_GetObject(b"stderr")
            if stream is NULL or <object>stream is None:
                return 0
            if kind == 5:
                (<object>stream).flush()
                return 0
            for i in range(2, n + 1):
                s = _string_at(L, i, num, &size)
                (<object>stream).write(PyUnicode_DecodeUTF8(s, size, "replace"))
            return 0
        stream = PySys_GetObject(b"stdout")
        if stream is NULL or <object>stream is None:
            return 0                       # (pythonw, or a closed interpreter: nowhere to write)
        if kind == 4:
            _flush_output(rt, True)
            (<object>stream).flush()
            return 0
        for i in range(2, n + 1):
            s = _string_at(L, i, num, &size)
            _gather(rt, <object>stream, s, size)
            if kind == 1:
                _gather(rt, <object>stream, b"\t" if i < n else b"\n", 1)
        if kind == 1 and n == 1:
            _gather(rt, <object>stream, b"\n", 1)
        if rt._out_len and _monotonic() - rt._out_since > _OUT_DELAY:
            _flush_output(rt, False)
        return 0
    except BaseException as e:
        return _raise_in_lua(rt, L, e)


cdef int _emit(lua.lua_State* L) noexcept:
    # Lua-facing: emit(kind, strings...) from the print/io wrappers (only strings reach it,
    # so reading them allocates nothing)
    cdef int n = _emit_impl(L)
    if n < 0:
        return lua.lua_error(L)  # may not return
    return n


cdef int _print(lua.lua_State* L) noexcept:
    # Lua-facing `print` (a C function, as Lua's): the global tostring of each argument,
    # then _emit_impl writes the line. Holds no Python object. Upvalues: the runtime, the
    # original tostring (not called for strings).
    cdef int i, t, n = lua.lua_gettop(L)
    lua.lua_getglobal(L, b"tostring")                                       # args... tostring
    for i in range(1, n + 1):
        t = lua.lua_type(L, i)
        if t == lua.LUA_TSTRING and lua.lua_rawequal(L, -1, lua.lua_upvalueindex(2)):
            continue
        lua.lua_pushvalue(L, -1)
        lua.lua_pushvalue(L, i)
        lua.lua_call(L, 1, 1)  # may not return                              # args... tostring s
        t = lua.lua_type(L, -1)
        if t == lua.LUA_TNUMBER:
            lua.lua_tolstring(L, -1, NULL)      # (in place, as Lua's print accepts numbers)
        elif t != lua.LUA_TSTRING:
            lua.lua_pushstring(L, b"'tostring' must return a string to 'print'")
            return lua.lua_error(L)  # may not return
        lua.lua_replace(L, i)                                               # args... tostring
    lua.lua_pop(L, 1)                                                       # strings...
    lua.lua_pushnumber(L, 1)
    lua.lua_insert(L, 1)                                                    # 1 strings...
    if _emit_impl(L) < 0:
        return lua.lua_error(L)  # may not return
    return 0


cdef int _install_stdio(LuaState rt, lua.lua_State* L) except -1:
    lua.lua_pushlightuserdata(L, <void*>rt)
    lua.lua_getglobal(L, b"tostring")
    lua.lua_pushcclosure(L, <lua.lua_CFunction>_print, 2)
    lua.lua_setglobal(L, b"print")
    _load_boot_chunk(L, "stdio")                                              # chunk
    lua.lua_pushlightuserdata(L, <void*>rt)
    lua.lua_pushcclosure(L, <lua.lua_CFunction>_emit, 1)
    if lua.lua_pcall(L, 1, 0, 0) != 0:
        lua.lua_pop(L, 1)
        raise LuaError("internal: the print/io wrappers failed to install")
    return 0
