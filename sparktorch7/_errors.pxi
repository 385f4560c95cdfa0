# Exceptions of the Lua runtime and the one mapping of a Lua error value to one of them.
#
# The classes are defined here (they are raised from Cython); sparktorch7/errors.py is their
# documented home and re-exports them with the package's other exceptions.

class LuaError(Exception):
    """An error raised by Lua code. ``lua_message`` is Lua's message and
    ``lua_traceback`` the Lua stack traceback at the point of the error."""

    def __init__(self, message, lua_traceback=None, value=None):
        self.lua_message = message
        self.lua_traceback = lua_traceback
        self.value = value
        Exception.__init__(self, self._text())

    def _text(self):
        # str(exc): the message, then the Lua traceback
        tb = self.lua_traceback
        return self.lua_message if not tb else f"{self.lua_message}\n{tb}"

    def _reword(self, message):
        # the same exception (class, notes, traceback kept) with a message that says more
        # (the Spark layer puts the function and the rows in front)
        self.lua_message = message
        self.args = (self._text(),)


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

    def _text(self):
        return self.lua_message


# The kind of a structured Lua error (lua/sparktorch7/errors.lua: errors.raise(kind, msg))
# -> its class: the one mapping of run-time errors. Another kind, or a plain string, is a
# LuaError; a Lua status says the rest (LUA_ERRSYNTAX, LUA_ERRMEM: _raise_status).
_KIND_CLASSES = {
    "t7format": T7FormatError,
    "memory": LuaMemoryError,
    "timeout": LuaTimeoutError,
}


def _add_note(exc, str note):
    """``exc.add_note(note)``; on Python 3.10 appends to ``exc.__notes__`` as it does."""
    try:
        exc.add_note(note)
    except AttributeError:
        notes = getattr(exc, "__notes__", None)
        if not isinstance(notes, list):
            notes = []
            exc.__notes__ = notes
        notes.append(note)


def _is_lua_nomem(str msg):
    # Lua's own LUA_ERRMEM message, caught by Lua code and raised again with error(), which
    # may have put a position in front ("chunk:3: "): it keeps the kind "memory"
    if msg == "not enough memory":
        return True
    head, sep, tail = msg.rpartition(": ")
    return tail == "not enough memory" and head.rpartition(":")[2].isdigit() and "\n" not in msg


cdef inline str _raw_string(lua.lua_State* L, int idx):
    # the string at idx, or None for any other type (no conversion: never allocates)
    cdef size_t size
    cdef const char* s
    if lua.lua_type(L, idx) != lua.LUA_TSTRING:
        return None
    s = lua.lua_tolstring(L, idx, &size)
    return s[:size].decode("utf-8", "replace")


cdef object _error_record(lua.lua_State* L, int idx, int errmt_ref):
    """``(kind, text, notes)`` of the structured error value at idx (a table whose metatable
    is errors.Error, registry slot errmt_ref), or None for any other value. Reads with
    lua_next and rawgeti only: no metamethod runs and nothing is allocated."""
    cdef int same
    cdef size_t n, i
    if idx < 0:
        idx = lua.lua_gettop(L) + idx + 1
    if lua.lua_type(L, idx) != lua.LUA_TTABLE or not lua.lua_getmetatable(L, idx):
        return None
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, errmt_ref)                   # mt Error
    same = lua.lua_rawequal(L, -1, -2)
    lua.lua_pop(L, 2)
    if not same or not lua.lua_checkstack(L, 4):
        return None
    kind = message = position = None
    notes = []
    lua.lua_pushnil(L)
    while lua.lua_next(L, idx):                                             # k v
        key = _raw_string(L, -2)
        if key == "kind":
            kind = _raw_string(L, -1)
        elif key == "message":
            message = _raw_string(L, -1)
        elif key == "position":
            position = _raw_string(L, -1)
        elif key == "notes" and lua.lua_type(L, -1) == lua.LUA_TTABLE:
            n = lua.lua_objlen(L, -1)
            for i in range(1, n + 1):
                lua.lua_rawgeti(L, -1, <int>i)                              # k notes note
                note = _raw_string(L, -1)
                if note is not None:
                    notes.append(note)
                lua.lua_pop(L, 1)
        lua.lua_pop(L, 1)                                                   # k
    text = (position or "") + (message if message is not None else "(a structured error without a message)")
    return kind, text, notes


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
