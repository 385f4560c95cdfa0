# Python proxies of Lua values: LuaObject (any value), LuaTable, LuaFunction.

cdef int _ref_value(lua.lua_State* L) noexcept:
    # Lua-facing, under lua_pcall: registry ref of argument 1 (luaL_ref may grow
    # the registry, and a failed allocation outside lua_pcall ends the process).
    lua.lua_pushnumber(L, lua.luaL_ref(L, lua.LUA_REGISTRYINDEX))
    return 1


cdef object _new_proxy(LuaState rt, lua.lua_State* L, int idx, type cls):
    cdef int status, ref
    if rt.L is NULL:
        # Lua finalizers running inside lua_close: a proxy made now would outlive
        # the state (and, from __dealloc__, resurrect it)
        raise LuaClosedError("this LuaState is closing")
    if not lua.lua_checkstack(L, 3):
        raise LuaError("Lua stack overflow")
    if idx < 0 and idx > lua.LUA_REGISTRYINDEX:
        idx = lua.lua_gettop(L) + idx + 1
    cdef LuaObject obj = cls.__new__(cls)
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, rt._ref_fn_ref)                   # fn
    lua.lua_pushvalue(L, idx)                                                  # fn value
    status = lua.lua_pcall(L, 1, 1, 0)                                         # ref | err
    if status != 0:
        try:
            rt._raise_status(L, status)
        finally:
            lua.lua_pop(L, 1)
    ref = <int>lua.lua_tonumber(L, -1)
    lua.lua_pop(L, 1)
    obj._ref = ref
    obj._runtime = rt
    if cls is LuaFunction:
        (<LuaFunction>obj)._vectorcall = <void*>_lua_vectorcall
    return obj


cdef inline LuaState _state_of(LuaObject obj):
    if obj._runtime is None:
        raise LuaClosedError(f"this {type(obj).__name__} belongs to no LuaState")
    return obj._runtime


# no_gc_clear: a proxy in a reference cycle keeps its state until its __dealloc__
# has given its registry slot back (and the state keeps its lock and lua_State).
@cython.no_gc_clear
cdef class LuaObject:
    """A Lua value kept alive in its LuaState: a coroutine, userdata, cdata, or
    (in ``tables="proxy"`` mode) a table. It can be passed back to Lua as itself."""
    cdef LuaState _runtime
    cdef int _ref

    def __cinit__(self):
        self._ref = lua.LUA_NOREF

    def __init__(self):
        raise TypeError("Lua objects come from a LuaState; they cannot be made directly")

    def __dealloc__(self):
        if self._runtime is not None:
            self._runtime._unref(self._ref)
            self._ref = lua.LUA_NOREF

    cdef inline lua.lua_State* _push_self(self) except NULL:
        """Take the state's lock and push this object; the caller pops and leaves."""
        cdef lua.lua_State* L = _state_of(self)._enter()
        lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, self._ref)
        return L

    @property
    def lua_type(self):
        """Lua's name for the type of this value ("table", "thread", "userdata", ...)."""
        cdef lua.lua_State* L = self._push_self()
        try:
            if lua.lua_type(L, -1) == 10:
                return "cdata"
            return lua.lua_typename(L, lua.lua_type(L, -1)).decode()
        finally:
            lua.lua_pop(L, 1)
            self._runtime._leave()

    def _index(self, key):
        cdef LuaState rt = _state_of(self)
        cdef lua.lua_State* L = rt._enter()
        cdef int base = lua.lua_gettop(L)
        try:
            if not lua.lua_checkstack(L, 6):
                raise LuaError("Lua stack overflow")
            lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, rt._tb_ref)
            lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, rt._get_ref)
            lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, self._ref)
            _push_one(rt, L, key)
            return rt._call_top(L, base + 1, 2, 0)
        finally:
            lua.lua_settop(L, base)
            rt._leave()

    def _setindex(self, key, value):
        cdef LuaState rt = _state_of(self)
        cdef lua.lua_State* L = rt._enter()
        cdef int base = lua.lua_gettop(L)
        try:
            if not lua.lua_checkstack(L, 6):
                raise LuaError("Lua stack overflow")
            lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, rt._tb_ref)
            lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, rt._set_ref)
            lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, self._ref)
            _push_args(rt, L, (key, value))
            rt._call_top(L, base + 1, 3, 0)
        finally:
            lua.lua_settop(L, base)
            rt._leave()

    def __getitem__(self, key):
        return self._index(key)

    def __setitem__(self, key, value):
        self._setindex(key, value)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._index(name)

    def __setattr__(self, name, value):
        if name.startswith("__"):
            raise AttributeError(f"cannot set {name!r} on a {type(self).__name__}")
        self._setindex(name, value)

    def __delattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(f"cannot delete {name!r} of a {type(self).__name__}")
        self._setindex(name, None)

    def __call__(self, *args):
        return _call(self, args, 0)

    def __str__(self):
        cdef LuaState rt = _state_of(self)
        cdef lua.lua_State* L = rt._enter()
        cdef int base = lua.lua_gettop(L)
        try:
            lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, rt._tb_ref)
            lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, rt._tostring_ref)
            lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, self._ref)
            r = rt._call_top(L, base + 1, 1, 0)
            return r if isinstance(r, str) else repr(r)
        finally:
            lua.lua_settop(L, base)
            rt._leave()

    def __repr__(self):
        if self._runtime is None or self._runtime.L is NULL:
            return f"<{type(self).__name__} of a closed LuaState>"
        return f"<{type(self).__name__} {self}>"

    def __eq__(self, other):
        if not isinstance(other, LuaObject):
            return NotImplemented
        cdef LuaObject o = <LuaObject>other
        if o._runtime is not self._runtime or self._runtime is None:
            return False
        cdef lua.lua_State* L = self._push_self()
        try:
            lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, o._ref)
            return bool(lua.lua_rawequal(L, -1, -2))
        finally:
            lua.lua_pop(L, 2)
            self._runtime._leave()

    def __hash__(self):
        cdef lua.lua_State* L = self._push_self()
        try:
            return hash(<intptr_t>lua.lua_topointer(L, -1))
        finally:
            lua.lua_pop(L, 1)
            self._runtime._leave()


@cython.no_gc_clear
cdef class LuaTable(LuaObject):
    """A live Lua table: ``t[k]``, ``t[k] = v``, ``len(t)`` (Lua's ``#``),
    ``keys()``, ``values()``, ``items()``; iteration yields keys.

    Examples
    --------
    >>> lua = LuaState(tables="proxy")
    >>> t = lua.eval("{10, 20, name = 'x'}")
    >>> len(t), t[1], t["name"]
    (2, 10, 'x')
    >>> t[3] = 30
    >>> lua.eval("function(t) return #t end")(t), sorted(t.values(), key=str)
    (3, [10, 20, 30, 'x'])
    >>> t.to_python() == {1: 10, 2: 20, 3: 30, "name": "x"}
    True
    >>> lua.eval("{1, {2, 3}}").to_python(tables="list")
    [1, [2, 3]]
    >>> lua.close()
    """

    def __len__(self):
        cdef lua.lua_State* L = self._push_self()
        try:
            return lua.lua_objlen(L, -1)
        finally:
            lua.lua_pop(L, 1)
            self._runtime._leave()

    cdef list _pairs(self, int what):
        # what: 0 (key, value) pairs, 1 keys, 2 values; only what is asked is converted
        cdef LuaState rt = _state_of(self)
        cdef lua.lua_State* L = self._push_self()
        cdef int top = lua.lua_gettop(L)
        out = []
        try:
            if lua.lua_type(L, -1) != lua.LUA_TTABLE:
                raise TypeError("not a Lua table")
            if _is_registry(L, top):
                # every proxy made while traversing it adds a registry entry
                raise TypeError("the Lua registry cannot be listed from Python")
            lua.lua_pushnil(L)                                                  # tbl nil
            while lua.lua_next(L, top):                                         # tbl k v
                if what == 0:
                    out.append((_lua_to_py(rt, L, -2, None, 0), _lua_to_py(rt, L, -1, None, 0)))
                elif what == 1:
                    out.append(_lua_to_py(rt, L, -2, None, 0))
                else:
                    out.append(_lua_to_py(rt, L, -1, None, 0))
                lua.lua_pop(L, 1)                                               # tbl k
            return out
        finally:
            lua.lua_settop(L, top - 1)
            rt._leave()

    def items(self):
        """The (key, value) pairs, in Lua's ``next`` order, without metamethods."""
        return self._pairs(0)

    def keys(self):
        """The keys, in Lua's ``next`` order."""
        return self._pairs(1)

    def values(self):
        """The values, in Lua's ``next`` order."""
        return self._pairs(2)

    def __iter__(self):
        return iter(self.keys())

    def __contains__(self, key):
        return self._index(key) is not None

    def to_python(self, *, tables="dict"):
        """A deep copy as Python values (``tables`` is "dict" or "list")."""
        cdef LuaState rt = self._runtime
        cdef lua.lua_State* L = self._push_self()
        cdef str saved = rt.tables
        try:
            if tables not in ("dict", "list"):
                raise ValueError(f"tables must be 'dict' or 'list', not {tables!r}")
            rt.tables = tables
            return rt._to_py(L, -1, None, 0)
        finally:
            rt.tables = saved
            lua.lua_pop(L, 1)
            rt._leave()


@cython.no_gc_clear
cdef class LuaFunction(LuaObject):
    """A Lua function; calling it runs it under ``lua_pcall``. Arguments are
    converted from Python; none, one or several results come back as ``None``,
    the value, or a tuple."""
    cdef void* _vectorcall       # CPython's vectorcall slot of this object (see below)

    def __call__(self, *args):
        return _call(self, args, 0)

    def call_list(self, *args):
        """Call and return a list of all results (``[]`` for none).

        >>> with LuaState() as lua:
        ...     f = lua.eval("function(a, b) return a + b, a * b end")
        ...     f(2, 3), f.call_list(2, 3), lua.eval("function() end").call_list()
        ((5, 6), [5, 6], [])
        """
        return _call(self, args, 1)


cdef inline object _call(LuaObject f, tuple args, int mode):
    return _call_argv(f, (<_PyTupleObject*>args).ob_item, <int>len(args), mode)


cdef object _call_argv(LuaObject f, PyObject** argv, int n, int mode):
    # The hot path of every Python -> Lua call: LuaState._enter/_leave inlined,
    # numbers and booleans straight onto the stack, a single number straight back.
    global st7_sigint_L
    cdef LuaState rt = _state_of(f)
    cdef lua.lua_State* L
    cdef int base, status, top
    if rt.L is NULL:
        raise LuaClosedError("this LuaState is closed")
    rt._lock.acquire()
    L = rt.L
    if L is NULL:
        rt._lock.release()
        raise LuaClosedError("this LuaState is closed")
    base = lua.lua_gettop(L)
    if rt._lock._count == 1:
        # the outermost call of this state in this thread (LuaState._enter, inlined)
        if rt._limits.armed:
            _arm_limits(&rt._limits, L)                             # (_limits.pxi)
        if rt._lock._owner == st7_main_ident:
            rt._sig_prev = st7_sigint_L                             # (_interrupt.pxi)
            st7_sigint_L = L
            rt._sig_on = 1
    try:
        if rt._pending_unrefs:
            rt._flush_unrefs()
        if not lua.lua_checkstack(L, n + lua.LUA_MINSTACK):
            raise LuaError(f"too many arguments for a Lua call: {n}")
        lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, rt._tb_ref)                 # tb
        lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, f._ref)                     # tb f
        if n:
            _push_argv(rt, L, argv, n)                                        # tb f args...
        status = lua.lua_pcall(L, n, lua.LUA_MULTRET, base + 1)               # tb results...
        if status != 0:
            rt._raise_status(L, status)
        top = lua.lua_gettop(L)
        if mode == 0 and top == base + 2:
            if lua.lua_type(L, top) == lua.LUA_TNUMBER:
                return _lua_number(lua.lua_tonumber(L, top))
            return _lua_to_py(rt, L, top, None, 0)
        return rt._results(L, base + 1, mode)
    finally:
        lua.lua_settop(L, base)
        rt._leave()


# Calls of LuaFunction objects made by a state skip the argument tuple: CPython's
# vectorcall protocol hands _lua_vectorcall the arguments as a C array. The slot
# is a C field of each LuaFunction, set by _new_proxy (NULL otherwise, and then
# CPython falls back to __call__).
cdef extern from "Python.h":
    ctypedef struct _PyTupleObject "PyTupleObject":
        PyObject* ob_item[1]
    ctypedef struct _TypeSlots "PyTypeObject":
        Py_ssize_t tp_vectorcall_offset
        unsigned long tp_flags
    Py_ssize_t PyVectorcall_NARGS(size_t nargsf)
    unsigned long Py_TPFLAGS_HAVE_VECTORCALL
    void PyType_Modified(_TypeSlots* tp)


cdef object _lua_vectorcall(PyObject* callable, PyObject** args, size_t nargsf, PyObject* kwnames):
    if kwnames is not NULL and len(<tuple>kwnames):
        raise TypeError("Lua functions take no keyword arguments")
    return _call_argv(<LuaObject>callable, args, <int>PyVectorcall_NARGS(nargsf), 0)


cdef int _enable_vectorcall() except -1:
    cdef LuaFunction probe = LuaFunction.__new__(LuaFunction)
    cdef _TypeSlots* tp = <_TypeSlots*>LuaFunction
    tp.tp_vectorcall_offset = <char*>&probe._vectorcall - <char*><PyObject*>probe
    tp.tp_flags |= Py_TPFLAGS_HAVE_VECTORCALL
    PyType_Modified(tp)
    return 0


_enable_vectorcall()
