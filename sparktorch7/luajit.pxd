# Declarations of the LuaJIT 2.1 C API used by sparktorch7, in the order of the headers.
# C names are unchanged; cimport as a namespace: `from sparktorch7 cimport luajit as lua`.

# ---------------------------------------------------------------- lua.h
cdef extern from "lua.h":
    ctypedef struct lua_State
    # Without nogil, so that Cython accepts GIL-holding callbacks of this type.
    ctypedef int (*lua_CFunction)(lua_State* L)

cdef extern from "lua.h" nogil:
    ctypedef double lua_Number
    ctypedef ptrdiff_t lua_Integer

    enum:
        LUA_MULTRET
        LUA_REGISTRYINDEX
        LUA_ENVIRONINDEX
        LUA_GLOBALSINDEX
        LUA_YIELD
        LUA_ERRRUN
        LUA_ERRSYNTAX
        LUA_ERRMEM
        LUA_ERRERR
        LUA_TNONE
        LUA_TNIL
        LUA_TBOOLEAN
        LUA_TLIGHTUSERDATA
        LUA_TNUMBER
        LUA_TSTRING
        LUA_TTABLE
        LUA_TFUNCTION
        LUA_TUSERDATA
        LUA_TTHREAD
        LUA_MINSTACK
        LUA_GCSTOP
        LUA_GCRESTART
        LUA_GCCOLLECT
        LUA_GCCOUNT
        LUA_GCCOUNTB
        LUA_GCSTEP

    int lua_upvalueindex(int i)

    void lua_close(lua_State* L)
    lua_State* lua_newthread(lua_State* L)

    # basic stack manipulation
    int lua_gettop(lua_State* L)
    void lua_settop(lua_State* L, int idx)
    void lua_pushvalue(lua_State* L, int idx)
    void lua_remove(lua_State* L, int idx)
    void lua_insert(lua_State* L, int idx)
    void lua_replace(lua_State* L, int idx)
    int lua_checkstack(lua_State* L, int sz)
    void lua_xmove(lua_State* src, lua_State* dst, int n)

    # access functions (stack -> C)
    int lua_isnumber(lua_State* L, int idx)
    int lua_isstring(lua_State* L, int idx)
    int lua_iscfunction(lua_State* L, int idx)
    int lua_isuserdata(lua_State* L, int idx)
    int lua_type(lua_State* L, int idx)
    const char* lua_typename(lua_State* L, int tp)
    int lua_equal(lua_State* L, int idx1, int idx2)
    int lua_rawequal(lua_State* L, int idx1, int idx2)
    int lua_lessthan(lua_State* L, int idx1, int idx2)
    lua_Number lua_tonumber(lua_State* L, int idx)
    lua_Integer lua_tointeger(lua_State* L, int idx)
    int lua_toboolean(lua_State* L, int idx)
    const char* lua_tolstring(lua_State* L, int idx, size_t* len)
    size_t lua_objlen(lua_State* L, int idx)
    lua_CFunction lua_tocfunction(lua_State* L, int idx)
    void* lua_touserdata(lua_State* L, int idx)
    lua_State* lua_tothread(lua_State* L, int idx)
    const void* lua_topointer(lua_State* L, int idx)

    # push functions (C -> stack)
    void lua_pushnil(lua_State* L)
    void lua_pushnumber(lua_State* L, lua_Number n)
    void lua_pushinteger(lua_State* L, lua_Integer n)
    void lua_pushlstring(lua_State* L, const char* s, size_t l)
    void lua_pushstring(lua_State* L, const char* s)
    void lua_pushcclosure(lua_State* L, lua_CFunction fn, int n)
    void lua_pushboolean(lua_State* L, int b)
    void lua_pushlightuserdata(lua_State* L, void* p)
    int lua_pushthread(lua_State* L)

    # get functions (Lua -> stack)
    void lua_gettable(lua_State* L, int idx)
    void lua_getfield(lua_State* L, int idx, const char* k)
    void lua_rawget(lua_State* L, int idx)
    void lua_rawgeti(lua_State* L, int idx, int n)
    void lua_createtable(lua_State* L, int narr, int nrec)
    void* lua_newuserdata(lua_State* L, size_t sz)
    int lua_getmetatable(lua_State* L, int objindex)
    void lua_getfenv(lua_State* L, int idx)

    # set functions (stack -> Lua)
    void lua_settable(lua_State* L, int idx)
    void lua_setfield(lua_State* L, int idx, const char* k)
    void lua_rawset(lua_State* L, int idx)
    void lua_rawseti(lua_State* L, int idx, int n)
    int lua_setmetatable(lua_State* L, int objindex)
    int lua_setfenv(lua_State* L, int idx)

    # load and call
    void lua_call(lua_State* L, int nargs, int nresults)
    int lua_pcall(lua_State* L, int nargs, int nresults, int errfunc)
    int lua_cpcall(lua_State* L, lua_CFunction func, void* ud)

    # coroutines
    int lua_yield(lua_State* L, int nresults)
    int lua_resume(lua_State* L, int narg)
    int lua_status(lua_State* L)

    # garbage collection
    int lua_gc(lua_State* L, int what, int data)

    # miscellaneous
    int lua_error(lua_State* L)
    int lua_next(lua_State* L, int idx)
    void lua_concat(lua_State* L, int n)

    # macros
    void lua_pop(lua_State* L, int n)
    void lua_newtable(lua_State* L)
    void lua_register(lua_State* L, const char* n, lua_CFunction f)
    void lua_pushcfunction(lua_State* L, lua_CFunction f)
    bint lua_isfunction(lua_State* L, int n)
    bint lua_istable(lua_State* L, int n)
    bint lua_islightuserdata(lua_State* L, int n)
    bint lua_isnil(lua_State* L, int n)
    bint lua_isboolean(lua_State* L, int n)
    bint lua_isthread(lua_State* L, int n)
    bint lua_isnone(lua_State* L, int n)
    bint lua_isnoneornil(lua_State* L, int n)
    void lua_pushliteral(lua_State* L, const char* s)
    void lua_setglobal(lua_State* L, const char* s)
    void lua_getglobal(lua_State* L, const char* s)
    const char* lua_tostring(lua_State* L, int i)

    # debug API
    ctypedef struct lua_Debug:
        int event
        const char* name
        const char* namewhat
        const char* what
        const char* source
        int currentline
        int nups
        int linedefined
        int lastlinedefined
        char short_src[60]
    int lua_getstack(lua_State* L, int level, lua_Debug* ar)
    int lua_getinfo(lua_State* L, const char* what, lua_Debug* ar)

# ---------------------------------------------------------------- lauxlib.h
cdef extern from "lauxlib.h" nogil:
    enum:
        LUA_NOREF
        LUA_REFNIL

    int luaL_newmetatable(lua_State* L, const char* tname)
    void luaL_getmetatable(lua_State* L, const char* tname)
    int luaL_loadbuffer(lua_State* L, const char* buff, size_t sz, const char* name)
    int luaL_loadstring(lua_State* L, const char* s)
    int luaL_loadfile(lua_State* L, const char* filename)
    lua_State* luaL_newstate()
    int luaL_ref(lua_State* L, int t)
    void luaL_unref(lua_State* L, int t, int ref)
    void luaL_traceback(lua_State* L, lua_State* L1, const char* msg, int level)
    const char* luaL_typename(lua_State* L, int i)

# ---------------------------------------------------------------- lualib.h
cdef extern from "lualib.h" nogil:
    void luaL_openlibs(lua_State* L)

# ---------------------------------------------------------------- luajit.h
cdef extern from "luajit.h" nogil:
    const char* LUAJIT_VERSION
    enum:
        LUAJIT_MODE_ENGINE
        LUAJIT_MODE_ON
        LUAJIT_MODE_OFF
        LUAJIT_MODE_FLUSH
    int luaJIT_setmode(lua_State* L, int idx, int mode)
