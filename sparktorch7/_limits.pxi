# Bounded Lua calls: LuaState(timeout=seconds, max_memory=bytes) and `with state.deadline(s):`.
#
# timeout: a count hook (every _HOOK_COUNT VM instructions) compares the clock with the
# deadline of the outermost Python -> Lua call and raises "timed out after X s in
# chunk:line (function ...)" inside Lua (LuaTimeoutError in Python). LuaJIT runs no hooks
# inside JIT-compiled traces, and a loop compiled whole never leaves its trace: so a state
# with a timeout flushes its traces and runs with the JIT off. Measured (JIT on -> off): a
# numeric loop of 10^7 iterations 1.5-1.8x slower, an nn.Sequential(Linear, ReLU, Linear)
# forward of a 16x64 batch 2.2-2.7x, element access t[i] of a tensor (FFI) ~37x. Reading
# the clock costs nothing measurable (once per 10^4 instructions). Setting `state.timeout =
# None` removes the hook and turns the JIT back on. A Python callback that blocks is not
# interrupted: the hook fires when Lua runs again.
#
# deadline(seconds): a block in which every outermost call must end before the block's
# end (the earlier of it and the call's own timeout); the hook and JIT-off mode of a
# timeout, for the block only (entering it flushes the traces; leaving it turns the JIT
# on again when the state has no timeout). Ordinary calls outside any block pay one test
# of `armed` at the outermost call, as before.
#
# The same hook serves Ctrl-C (_interrupt.pxi): a SIGINT sets it to run at the next
# instruction, where it runs Python's signal handlers.
#
# max_memory: LuaJIT allocates its heap with its own allocator (GC64 on x64). A state made
# by luaL_newstate keeps it, and lua_setallocf puts a counting wrapper in front of it,
# which refuses growth past the limit: LuaJIT then raises "not enough memory"
# (LuaMemoryError), the collection after it frees the failed code's garbage, and the state
# goes on. (lua_newstate with an allocator of ours would also work on GC64 x64, but
# LuaJIT's own allocator is the fast one.) The limit covers the Lua heap: tables, strings,
# closures, userdata; not the memory of tensors and storages (C calloc) nor numpy arrays.

from posix.time cimport clock_gettime, timespec, CLOCK_MONOTONIC
from libc.stdio cimport snprintf
from libc.math cimport INFINITY

cdef extern from "lua.h" nogil:
    ctypedef void* (*lua_Alloc)(void* ud, void* ptr, size_t osize, size_t nsize)
    lua_Alloc lua_getallocf(lua.lua_State* L, void** ud)
    void lua_setallocf(lua.lua_State* L, lua_Alloc f, void* ud)

cdef extern from "lua.h":
    ctypedef void (*lua_Hook)(lua.lua_State* L, lua.lua_Debug* ar)
    int lua_sethook(lua.lua_State* L, lua_Hook func, int mask, int count)
    enum:
        LUA_MASKCOUNT

cdef int _HOOK_COUNT = 10000


cdef inline double _monotonic() noexcept nogil:
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec + ts.tv_nsec * 1e-9

ctypedef struct _Limits:
    double timeout          # seconds, 0 for none: the state's timeout
    double deadline         # of the outermost call running now
    double budget           # the seconds a timeout message names (a timeout's, or a block's)
    double block_end        # when the innermost deadline() block ends, 0 for none
    double block_seconds    # ... and the seconds it was given
    int blocks              # deadline() blocks open
    int watching            # the count hook is on and the JIT off (a timeout or a block)
    int armed               # an outermost call must call _arm_limits first
    int timed_out           # the hook raised since the call began
    int hurry               # the hook runs at every instruction (past the deadline, interrupted)
    int interrupted         # an exception of a signal handler travels (_interrupt.pxi)
    void* owner             # the LuaState (borrowed: it owns this struct)
    lua_Alloc allocf        # LuaJIT's allocator and its state, behind the counting one
    void* allocud
    size_t used             # bytes of the Lua heap
    size_t limit            # 0 for none
    int refused             # the counting allocator refused an allocation
    int errmt_ref           # registry: the metatable of structured errors (the timeout's kind)


cdef void* _limited_alloc(void* ud, void* ptr, size_t osize, size_t nsize) noexcept nogil:
    cdef _Limits* lim = <_Limits*>ud
    cdef void* p
    if nsize > osize and lim.limit and lim.used + (nsize - osize) > lim.limit:
        lim.refused = 1
        return NULL
    p = lim.allocf(lim.allocud, ptr, osize, nsize)
    if p is not NULL or nsize == 0:
        lim.used = lim.used + nsize - osize
    return p


cdef void _limits_hook(lua.lua_State* L, lua.lua_Debug* ar) noexcept:
    # Lua-facing, holds no Python object: it may raise the timeout error, or the
    # exception of a SIGINT's Python handler (_interrupt.pxi)
    cdef _Limits* lim
    cdef char msg[200]
    lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, b"sparktorch7.limits")
    lim = <_Limits*>lua.lua_touserdata(L, -1)
    lua.lua_pop(L, 1)
    if lim is NULL:
        return
    if st7_sigint_hit or lim.interrupted:
        if _interrupt_step(lim, L) < 0:         # the exception is on the stack
            lua.lua_error(L)  # may not return
    if not lim.watching or _monotonic() < lim.deadline:
        return
    lim.timed_out = 1
    if not lim.hurry:
        # from now on at every instruction: Lua code that catches the error (pcall in a
        # loop) gets it again at its next instruction, up to the outermost call
        lim.hurry = 1
        lua_sethook(L, _limits_hook, LUA_MASKCOUNT, 1)
    if not lua.lua_getinfo(L, b"Sln", ar) or ar.currentline <= 0:
        snprintf(msg, 200, b"timed out after %g s", lim.budget)
    elif ar.name is not NULL:
        snprintf(msg, 200, b"timed out after %g s in %s:%d (function '%s')", lim.budget,
                 ar.short_src, ar.currentline, ar.name)
    elif ar.what is not NULL and ar.what[0] == b'L':
        snprintf(msg, 200, b"timed out after %g s in %s:%d (function defined at line %d)", lim.budget,
                 ar.short_src, ar.currentline, ar.linedefined)
    else:
        snprintf(msg, 200, b"timed out after %g s in %s:%d", lim.budget, ar.short_src, ar.currentline)
    # a structured error of kind "timeout" (lua/sparktorch7/errors.lua), its position in msg
    lua.lua_createtable(L, 0, 3)                                            # err
    lua.lua_pushstring(L, b"timeout")
    lua.lua_setfield(L, -2, b"kind")
    lua.lua_pushstring(L, msg)
    lua.lua_setfield(L, -2, b"message")
    lua.lua_pushstring(L, b"")
    lua.lua_setfield(L, -2, b"position")
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, lim.errmt_ref)               # err Error
    lua.lua_setmetatable(L, -2)                                             # err
    lua.lua_error(L)  # may not return


cdef int _check_limits(object timeout, object max_memory) except -1:
    if timeout is not None and (not isinstance(timeout, (int, float)) or isinstance(timeout, bool)
                                or not timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds or None, not {timeout!r}")
    if max_memory is not None and (not isinstance(max_memory, int) or isinstance(max_memory, bool)
                                   or max_memory <= 0):
        raise ValueError(f"max_memory must be a positive number of bytes or None, not {max_memory!r}")
    return 0


cdef int _set_max_memory(_Limits* lim, lua.lua_State* L, object max_memory) except -1:
    """Put the counting allocator in front of LuaJIT's (once, at the state's creation:
    the heap used so far counts against the limit)."""
    if max_memory is None:
        return 0
    lim.allocf = lua_getallocf(L, &lim.allocud)
    lim.used = lua.lua_gc(L, lua.LUA_GCCOUNT, 0) * 1024 + lua.lua_gc(L, lua.LUA_GCCOUNTB, 0)
    lim.limit = max_memory
    lua_setallocf(L, _limited_alloc, lim)
    return 0


cdef void _restore_allocator(_Limits* lim, lua.lua_State* L) noexcept:
    """Before lua_close: LuaJIT's own allocator back in front. LuaJIT releases its heap
    (lj_alloc_destroy) only when the state's allocator is its own; behind the counting
    one, lua_close freed every block into the heap and left the heap mapped: a state
    made with max_memory leaked its whole heap on close."""
    if lim.allocf is not NULL:
        lua_setallocf(L, lim.allocf, lim.allocud)
        lim.allocf = NULL


cdef void _watch(_Limits* lim, lua.lua_State* L) noexcept:
    """Turn the count hook on and the JIT off while a timeout or a deadline block needs
    them, and back when none does; keeps `armed` in step."""
    cdef int want = lim.timeout > 0 or lim.blocks > 0
    if want and not lim.watching:
        lua.luaJIT_setmode(L, 0, lua.LUAJIT_MODE_ENGINE | lua.LUAJIT_MODE_FLUSH)
        lua.luaJIT_setmode(L, 0, lua.LUAJIT_MODE_ENGINE | lua.LUAJIT_MODE_OFF)
        lim.watching = 1
        if not lim.hurry:
            lua_sethook(L, _limits_hook, LUA_MASKCOUNT, _HOOK_COUNT)
    elif not want and lim.watching:
        lim.watching = 0
        if not lim.hurry:
            lua_sethook(L, NULL, 0, 0)
        lua.luaJIT_setmode(L, 0, lua.LUAJIT_MODE_ENGINE | lua.LUAJIT_MODE_ON)
    lim.armed = lim.watching or lim.interrupted or lim.hurry


cdef inline void _rehook(_Limits* lim, lua.lua_State* L) noexcept:
    # the hook of a state that no longer hurries: every 10^4 instructions, or none
    lim.hurry = 0
    if lim.watching:
        lua_sethook(L, _limits_hook, LUA_MASKCOUNT, _HOOK_COUNT)
    else:
        lua_sethook(L, NULL, 0, 0)


cdef int _set_timeout(_Limits* lim, lua.lua_State* L, object timeout) except -1:
    """Set the timeout of each outermost call (the registry's "sparktorch7.limits" already
    points at lim: set at the state's creation, as this allocates no Lua memory)."""
    _check_limits(timeout, None)
    lim.timeout = 0 if timeout is None else timeout
    _watch(lim, L)
    lim.deadline = _monotonic() + lim.timeout
    lim.budget = lim.timeout
    return 0


cdef void _arm_limits(_Limits* lim, lua.lua_State* L) noexcept:
    # at the start of an outermost call of a state whose lim.armed is set: the deadline of
    # this call, and what the last call left (hurrying hook, an interrupt) cleared
    cdef double now
    if lim.interrupted:
        _interrupt_clear(lim)                                       # (_interrupt.pxi)
    if lim.hurry:
        _rehook(lim, L)
    lim.timed_out = 0
    if lim.watching:
        now = _monotonic()
        lim.deadline = now + lim.timeout if lim.timeout > 0 else INFINITY
        lim.budget = lim.timeout
        if lim.blocks and lim.block_end < lim.deadline:
            lim.deadline = lim.block_end
            lim.budget = lim.block_seconds
    lim.armed = lim.watching
