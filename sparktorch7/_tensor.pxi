# The numpy bridge: ndarray <-> torch tensor sharing memory. Filled in with the
# tensor library; until then arrays are refused with a clear TypeError.

cdef int _tensor_code(LuaState rt, lua.lua_State* L) noexcept:
    # metatable on top -> dtype code of a torch tensor class, or 0
    return 0


cdef object _tensor_to_numpy(LuaState rt, lua.lua_State* L, int idx, int code):
    raise TypeError("torch tensors are not available yet")


cdef int _push_ndarray(LuaState rt, lua.lua_State* L, object arr) except -1:
    raise TypeError("numpy arrays cannot be passed to Lua until the torch runtime is loaded")
