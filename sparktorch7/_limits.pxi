# Bounded Lua calls: LuaState(timeout=seconds, max_memory=bytes).
#
# timeout: a count hook (every _HOOK_COUNT VM instructions) compares the clock with the
# deadline of the outermost Python -> Lua call and raises "timed out after X s in
# chunk:line" inside Lua (LuaTimeoutError in Python). LuaJIT runs no hooks inside
# JIT-compiled traces, and a loop compiled whole never leaves its trace: so a state with a
# timeout flushes its traces and runs with the JIT off. Measured (JIT on -> off): a numeric
# loop of 10^7 iterations 1.5-1.8x slower, an nn.Sequential(Linear, ReLU, Linear) forward
# of a 16x64 batch 2.2-2.7x, element access t[i] of a tensor (FFI) ~37x. Reading the clock
# costs nothing measurable (once per 10^4 instructions). Setting `state.timeout = None`
# removes the hook and turns the JIT back on. A Python callback that blocks is not
# interrupted: the hook fires when Lua runs again.
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
    double timeout          # seconds, 0 for none
    double deadline         # of the outermost call running now
    int timed_out           # the hook raised since the call began
    int hurry               # the hook runs at every instruction (past the deadline)
    lua_Alloc allocf        # LuaJIT's allocator and its state, behind the counting one
    void* allocud
    size_t used             # bytes of the Lua heap
    size_t limit            # 0 for none
    int refused             # the counting allocator refused an allocation


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


cdef void _timeout_hook(lua.lua_State* L, lua.lua_Debug* ar) noexcept:
    # Lua-facing, holds no Python object: it may raise the timeout error
    cdef _Limits* lim
    cdef char msg[200]
    lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, b"sparktorch7.limits")
    lim = <_Limits*>lua.lua_touserdata(L, -1)
    lua.lua_pop(L, 1)
    if lim is NULL or lim.timeout <= 0 or _monotonic() < lim.deadline:
        return
    lim.timed_out = 1
    if not lim.hurry:
        # from now on at every instruction: Lua code that catches the error (pcall in a
        # loop) gets it again at its next instruction, up to the outermost call
        lim.hurry = 1
        lua_sethook(L, _timeout_hook, LUA_MASKCOUNT, 1)
    if lua.lua_getinfo(L, b"Sl", ar) and ar.currentline > 0:
        snprintf(msg, 200, b"timed out after %g s in %s:%d", lim.timeout, ar.short_src, ar.currentline)
    else:
        snprintf(msg, 200, b"timed out after %g s", lim.timeout)
    lua.lua_pushstring(L, msg)
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


cdef int _set_timeout(_Limits* lim, lua.lua_State* L, object timeout) except -1:
    """Set the timeout of each outermost call (the registry's "sparktorch7.limits" already
    points at lim: set at the state's creation, as this allocates no Lua memory)."""
    _check_limits(timeout, None)
    if timeout is None:
        if lim.timeout > 0:
            lua_sethook(L, NULL, 0, 0)
            lua.luaJIT_setmode(L, 0, lua.LUAJIT_MODE_ENGINE | lua.LUAJIT_MODE_ON)
        lim.timeout = 0
        return 0
    if lim.timeout <= 0:
        lua.luaJIT_setmode(L, 0, lua.LUAJIT_MODE_ENGINE | lua.LUAJIT_MODE_FLUSH)
        lua.luaJIT_setmode(L, 0, lua.LUAJIT_MODE_ENGINE | lua.LUAJIT_MODE_OFF)
        lua_sethook(L, _timeout_hook, LUA_MASKCOUNT, _HOOK_COUNT)
    lim.timeout = timeout
    lim.deadline = _monotonic() + timeout
    return 0


cdef inline void _arm_timeout(_Limits* lim, lua.lua_State* L) noexcept:
    # at the start of an outermost call of a state with a timeout
    lim.deadline = _monotonic() + lim.timeout
    lim.timed_out = 0
    if lim.hurry:
        lim.hurry = 0
        lua_sethook(L, _timeout_hook, LUA_MASKCOUNT, _HOOK_COUNT)
