# Lua __gc finalizers that cannot raise: errors in them are reported as Python warnings.
#
# The LuaJIT we build against (Debian's 2.1.0-beta3 snapshot of 2022-03) re-throws an
# error raised by a finalizer from the GC step that ran it (gc_call_finalizer: lj_vm_pcall
# then lj_err_throw). A GC step runs at any allocation, so the error surfaces at a random
# place: as a LuaError from unrelated code, as a panic ("unprotected error in call to Lua
# API", process exit) when the step ran inside an unprotected C API call, and as signal 11
# when the step ran at a trace exit of JIT-compiled code (lj_trace_exit -> lj_gc_step; the
# throw cannot unwind through the exit handler). LuaJIT since 2023 ignores such errors
# (vmevent ERRFIN); we cannot change the library, so no finalizer may raise: every Lua way
# to register one wraps it in a function that calls it under pcall and files the error
# (lua/sparktorch7/boot/finalizers.lua, run when a state is created):
#
#   newproxy(true)        the proxy's metatable stays hidden: getmetatable(u) gives a stand-in
#                         table whose __newindex stores into it (a __gc wrapped), so
#                         `getmetatable(u).__gc = f` and any later reassignment are covered
#   debug.setmetatable    the table's __gc is wrapped when it is set, and a __gc added to it
#                         later is wrapped by a guard metatable (when it had none)
#   debug.getmetatable    gives the stand-in for a hidden metatable
#   ffi.gc(cd, f)         f wrapped (one wrapper per finalizer value, cached weakly)
#   ffi.metatype(ct, mt)  a copy of mt with __gc wrapped goes to LuaJIT (LuaJIT's rule is
#                         that a metatype's table is not modified afterwards; its __index
#                         table may be, and stays the same table)
#
# Measured instead of this, and not enough alone: running every allocating C API call of
# ours under lua_pcall (it is, _convert.pxi) turns the panics into LuaErrors raised from
# unrelated calls, but not the crash at a trace exit, which happens inside Lua code. What
# stays open: a raw store of a raising function into a metatable Lua code already holds
# (rawset on a table given to debug.setmetatable, or on a library's metatable such as
# FILE*'s). LuaJIT's own lua_close runs finalizers under a protected call, so closing is
# safe even then.
#
# The wrapper hands the error value to _finalizer_error (a C function that only appends a
# message to the state's list, it never raises); the messages become RuntimeWarnings when
# the outermost Python -> Lua call returns, or when the state closes, as Python reports
# an exception in __del__: never by raising into the code that happened to allocate.

import warnings as _warnings

cdef extern from "Python.h":
    void PyErr_SetObject(object type, object value)
    void PyErr_WriteUnraisable(object obj)

cdef Py_ssize_t _MAX_GC_ERRORS = 10     # messages kept per report; the rest are counted


cdef int _finalizer_error(lua.lua_State* L) noexcept:
    # Lua-facing (the wrappers of lua/sparktorch7/boot/finalizers.lua, under pcall): files a message, never raises.
    # May run inside lua_close, when the LuaState is being deallocated (its fields still live).
    cdef LuaState rt = <LuaState>lua.lua_touserdata(L, lua.lua_upvalueindex(1))
    cdef size_t size
    cdef const char* s
    cdef _PyRef* ref
    try:
        t = lua.lua_type(L, 1)
        if t == lua.LUA_TSTRING or t == lua.LUA_TNUMBER:
            s = lua.lua_tolstring(L, 1, &size)
            msg = s[:size].decode("utf-8", "replace")
        else:
            ref = _get_pyref(rt, L, 1)
            record = _error_record(L, 1, rt._errmt_ref)
            if ref is not NULL and ref.obj is not NULL:
                msg = repr(<object>ref.obj)       # a Python exception raised in the finalizer
            elif record is not None:
                msg = record[1]                   # a structured error (lua/sparktorch7/errors.lua)
            else:
                msg = f"(error object is a {lua.lua_typename(L, t).decode()} value)"
        if len(rt._gc_errors) < _MAX_GC_ERRORS:
            rt._gc_errors.append(msg)
        else:
            rt._gc_dropped += 1
    except BaseException:
        pass
    return 0


cdef int _install_safe_finalizers(LuaState rt, lua.lua_State* L) except -1:
    _load_boot_chunk(L, "finalizers")                                         # chunk
    lua.lua_pushlightuserdata(L, <void*>rt)
    lua.lua_pushcclosure(L, <lua.lua_CFunction>_finalizer_error, 1)
    if lua.lua_pcall(L, 1, 0, 0) != 0:
        lua.lua_pop(L, 1)
        raise LuaError("internal: the finalizer wrappers failed to install")
    return 0


cdef void _report_finalizer_errors(LuaState rt) noexcept:
    """Warn about the finalizer errors filed since the last report. Never raises: a
    warning that a filter turns into an exception goes to sys.unraisablehook."""
    cdef Py_ssize_t dropped
    try:
        errors = rt._gc_errors
        dropped = rt._gc_dropped
        rt._gc_errors = []
        rt._gc_dropped = 0
        messages = [f"error in a Lua __gc finalizer (ignored): {msg}" for msg in errors]
        if dropped:
            messages.append(f"{dropped} more errors in Lua __gc finalizers (ignored, not shown)")
        for msg in messages:
            try:
                _warnings.warn(msg, RuntimeWarning, stacklevel=1)
            except BaseException as e:
                PyErr_SetObject(type(e), e)
                PyErr_WriteUnraisable(rt)
    except BaseException:
        pass
