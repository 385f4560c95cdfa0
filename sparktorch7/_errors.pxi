# Exceptions of the Lua runtime and the one function that maps a Lua status to one.

class LuaError(Exception):
    """An error raised by Lua code. ``lua_message`` is Lua's message and
    ``lua_traceback`` the Lua stack traceback at the point of the error."""

    def __init__(self, message, lua_traceback=None, value=None):
        self.lua_message = message
        self.lua_traceback = lua_traceback
        self.value = value
        text = message if not lua_traceback else f"{message}\n{lua_traceback}"
        Exception.__init__(self, text)


class LuaSyntaxError(LuaError):
    """A Lua chunk failed to compile. ``chunk`` and ``line`` say where."""

    def __init__(self, message, chunk=None, line=None):
        LuaError.__init__(self, message)
        self.chunk = chunk
        self.line = line


class LuaMemoryError(LuaError, MemoryError):
    """An allocation failed: the Lua allocator's (``not enough memory``), a tensor's or
    storage's memory (the message says how much was asked for), or a Python
    ``MemoryError`` raised in code that Lua called (then ``value`` is that exception)."""


class LuaTimeoutError(LuaError, TimeoutError):
    """A call ran past the state's ``timeout``; the message names the chunk and line
    it was running."""


class LuaClosedError(LuaError, RuntimeError):
    """The LuaState was closed; its objects cannot be used any more."""


class T7FormatError(LuaError, ValueError):
    """A .t7 file is truncated, corrupt or not a Torch7 file; the message names the file, the
    byte offset and what was expected. ``str(exc)`` is that message alone: the Lua traceback
    (the reader's own frames) stays available as ``lua_traceback``."""

    def __init__(self, message, lua_traceback=None, value=None):
        LuaError.__init__(self, message, lua_traceback, value)
        self.args = (message,)


def _is_memory_message(str msg):
    # "not enough memory" is Lua's message for LUA_ERRMEM; raised again by Lua code it
    # comes back as a run-time error, maybe after a position ("chunk:3: ") or a class
    # ("<torch.FloatStorage> ", the runtime's allocation failures, as Torch7's "Torch: ")
    import re
    return re.match(r"^(?:.*?(?::\d+:|>|Torch:) )?not enough memory", msg.split("\n", 1)[0]) is not None


def _parse_syntax_message(str msg):
    # Lua says `chunk:line: message`; the chunk may itself hold colons ([string "a:b"]).
    import re
    m = re.match(r'^(.*?):(\d+): ', msg)
    if m is None:
        return None, None
    return m.group(1), int(m.group(2))


cdef int _traceback_handler(lua.lua_State* L) noexcept:
    # The pcall message handler: keeps the error value as it is (so a Python
    # exception travelling through Lua stays itself) and files the traceback in
    # the registry slot given as upvalue 1, where _raise_status reads it right
    # after lua_pcall. (An integer slot that always holds a value: writing it
    # never allocates, so reading and clearing it outside lua_pcall is safe.)
    cdef int slot = <int>lua.lua_tonumber(L, lua.lua_upvalueindex(1))
    lua.luaL_traceback(L, L, NULL, 1)                                       # err tb
    lua.lua_rawseti(L, lua.LUA_REGISTRYINDEX, slot)                         # err
    return 1
