# LuaState: one lua_State with its lock, its options and the Python side of its registry.

cdef object _TABLE_MODES = ("dict", "list", "proxy")
DEF _OUT_CAP = 16384          # bytes of stdout text a state gathers before writing them (_stdio.pxi)

# The state's bootstrap chunks, lua/sparktorch7/boot/*.lua (helpers.lua here, finalizers.lua
# and stdio.lua): they run before package.path is set and take C functions as arguments, so
# they are loaded by path rather than required. Each file is read once per process.
cdef dict _BOOT_SOURCES = {}


cdef int _load_boot_chunk(lua.lua_State* L, str name) except -1:
    # pushes the compiled chunk lua/sparktorch7/boot/<name>.lua                # chunk
    cdef const char* err
    path = os.path.join(LUA_DIR, "sparktorch7", "boot", name + ".lua")
    code = _BOOT_SOURCES.get(name)
    if code is None:
        try:
            with open(path, "rb") as f:
                code = f.read()
        except OSError as e:
            raise LuaError(f"sparktorch7's runtime file {path} cannot be read ({e.strerror}): "
                           "the installation is incomplete") from None
        _BOOT_SOURCES[name] = code
    if lua.luaL_loadbuffer(L, code, len(code), ("@" + path).encode("utf-8")) != 0:
        err = lua.lua_tostring(L, -1)
        msg = (<bytes>err).decode("utf-8", "replace") if err is not NULL else "?"
        lua.lua_pop(L, 1)
        raise LuaError(f"internal: {path} failed to compile: {msg}")
    return 0


cdef int _new_object(lua.lua_State* L) noexcept:
    # Lua-facing (lua/torch/init.lua): newobject(mt, fields) -> a zero-size userdata with
    # metatable mt and fields as its environment, so the fields table lives exactly as long
    # as the object (torch._fields, the fast way to them, is weak both ways).
    if lua.lua_type(L, 1) != lua.LUA_TTABLE or lua.lua_type(L, 2) != lua.LUA_TTABLE:
        return 0
    lua.lua_newuserdata(L, 0)                                               # mt fields u
    lua.lua_pushvalue(L, 1)
    lua.lua_setmetatable(L, -2)
    lua.lua_pushvalue(L, 2)
    lua.lua_setfenv(L, -2)
    return 1


cdef int _gc_collect(lua.lua_State* L) noexcept:
    # Lua-facing, run under lua_pcall: a full collection may run __gc finalizers that raise.
    lua.lua_gc(L, lua.LUA_GCCOLLECT, 0)
    return 0


@cython.no_gc_clear
cdef class LuaState:
    """A LuaJIT 2.1 state with the standard libraries, ``jit``, ``ffi``, the
    ``py`` module and ``package.path`` set to the Torch7-compatible runtime.

    Parameters
    ----------
    encoding : str or None
        Lua strings are decoded with it (invalid ones come back as bytes);
        ``None`` gives bytes always.
    tables : {"dict", "list", "proxy"}
        How Lua tables returned to Python are converted: deep copies as dicts,
        deep copies with sequences ``{1..n}`` as lists, or live :class:`LuaTable`
        proxies.
    timeout : float or None
        Seconds each call from Python may run before it raises
        :class:`LuaTimeoutError` inside Lua (also settable as ``state.timeout``).
        A state with a timeout runs with the JIT compiler off: LuaJIT runs no hooks
        in compiled code. (To bound a block of calls only: :meth:`deadline`.) Ctrl-C
        interrupts a call running on the main thread with ``KeyboardInterrupt``; with
        the JIT on, a loop compiled whole cannot be interrupted, in a state with a
        timeout every loop can.
    max_memory : int or None
        Bytes the Lua heap may grow to; an allocation past it raises
        :class:`LuaMemoryError` and the state goes on. Tensor and numpy memory is
        not counted.
    lua_path : list of paths, optional
        Directories or ``.zip`` files of Lua sources put on ``package.path``
        after the runtime's own folder, so ``require 'LanguageModel'`` or
        ``require 'util.OneHot'`` finds a project's modules (a directory is
        also reachable by its own name: ``require 'torch-rnn.LSTM'``).

    Examples
    --------
    >>> with LuaState() as lua:
    ...     add = lua.eval("function(a, b) return a + b end")
    ...     add(1, 2)
    3
    """
    cdef lua.lua_State* L
    cdef _RLock _lock
    cdef readonly object encoding
    cdef readonly str tables
    cdef list _pending_unrefs
    cdef int _tb_ref
    cdef int _tb_slot            # registry: the last traceback (a string), or false
    cdef int _typename_ref       # registry: the string "__typename", kept interned
    cdef int _ref_fn_ref         # registry: _ref_value, luaL_ref under lua_pcall
    cdef int _pyref_mt_ref
    cdef int _helpers_ref
    cdef int _get_ref
    cdef int _set_ref
    cdef int _tostring_ref
    cdef int _next_ref
    cdef int _fill_ref           # registry: helpers.fill (lists of numbers -> table)
    cdef int _errmt_ref          # registry: the metatable of structured errors (lua/sparktorch7/errors.lua)
    cdef int _pushjob_ref        # registry: _push_job, converts values under lua_pcall
    cdef int _gc_ref             # registry: _gc_collect
    cdef int _bridge_ref         # registry: the numpy bridge table (0 until an array first crosses)
    cdef int _tensor_mts_ref     # registry: torch tensor metatable -> dtype code (set by torch)
    cdef int _torch_ref          # registry: the torch module once required
    cdef readonly dict py_globals
    cdef dict _big_arrays        # id(ndarray) -> [array, nbytes, pyrefs in Lua] (see _tensor.pxi)
    cdef Py_ssize_t _big_pushed  # bytes of big arrays pushed since the last check
    cdef list _gc_errors         # messages of __gc finalizers that raised, not yet reported
    cdef Py_ssize_t _gc_dropped  # ... and how many more there were (_finalizers.pxi)
    cdef char* _out_buf          # stdout text of print/io.write not yet written (_stdio.pxi)
    cdef Py_ssize_t _out_len
    cdef double _out_since       # when its oldest byte came
    cdef object _out_stream      # the sys.stdout it goes to
    cdef _Limits _limits         # timeout, deadline blocks and max_memory (_limits.pxi)
    cdef object _interrupt_exc   # the exception of a SIGINT's Python handler in flight (_interrupt.pxi)
    cdef lua.lua_State* _sig_prev  # st7_sigint_L before this state's outermost call on the main thread
    cdef int _sig_on             # ... which set it
    cdef object __weakref__

    def __cinit__(self, *args, **kwargs):
        self.L = NULL
        self._lock = _RLock()
        self._pending_unrefs = []
        self._big_arrays = {}
        self._big_pushed = 0
        self._gc_errors = []
        self._gc_dropped = 0
        self._out_buf = <char*>malloc(_OUT_CAP)
        if self._out_buf is NULL:
            raise MemoryError("cannot allocate the output buffer of a LuaState")
        self._out_len = 0
        memset(&self._limits, 0, sizeof(_Limits))
        self._limits.owner = <void*>self
        self._sig_prev = NULL
        self._sig_on = 0
        self._tensor_mts_ref = lua.LUA_NOREF
        self._torch_ref = lua.LUA_NOREF

    def __init__(self, *, encoding="utf-8", tables="dict", lua_path=None, timeout=None,
                 max_memory=None):
        if self.L is not NULL:
            raise RuntimeError("this LuaState is already initialised")
        if tables not in _TABLE_MODES:
            raise ValueError(f"tables must be one of {_TABLE_MODES}, not {tables!r}")
        if encoding is not None:
            "".encode(encoding)
        _check_limits(timeout, max_memory)
        self.encoding = encoding
        self.tables = tables
        self.py_globals = {"__builtins__": builtins, "__name__": "__lua__"}
        cdef lua.lua_State* L = lua.luaL_newstate()
        if L is NULL:
            raise LuaMemoryError("cannot create a Lua state: out of memory")
        self.L = L
        lua.luaL_openlibs(L)
        lua.lua_pushlightuserdata(L, &self._limits)
        lua.lua_setfield(L, lua.LUA_REGISTRYINDEX, b"sparktorch7.limits")
        lua.lua_pushboolean(L, 0)
        self._tb_slot = lua.luaL_ref(L, lua.LUA_REGISTRYINDEX)
        lua.lua_pushnumber(L, self._tb_slot)
        lua.lua_pushcclosure(L, <lua.lua_CFunction>_traceback_handler, 1)
        self._tb_ref = lua.luaL_ref(L, lua.LUA_REGISTRYINDEX)
        lua.lua_pushstring(L, b"__typename")
        self._typename_ref = lua.luaL_ref(L, lua.LUA_REGISTRYINDEX)
        lua.lua_pushcclosure(L, <lua.lua_CFunction>_ref_value, 0)
        self._ref_fn_ref = lua.luaL_ref(L, lua.LUA_REGISTRYINDEX)
        lua.lua_pushcclosure(L, <lua.lua_CFunction>_push_job, 0)
        self._pushjob_ref = lua.luaL_ref(L, lua.LUA_REGISTRYINDEX)
        lua.lua_pushcclosure(L, <lua.lua_CFunction>_gc_collect, 0)
        self._gc_ref = lua.luaL_ref(L, lua.LUA_REGISTRYINDEX)
        lua.lua_pushcclosure(L, <lua.lua_CFunction>_new_object, 0)
        lua.lua_setfield(L, lua.LUA_REGISTRYINDEX, b"sparktorch7.newobject")
        self._init_pylib(L)
        _install_safe_finalizers(self, L)
        _install_stdio(self, L)
        self._run_init(L)
        if lua_path is not None:
            from sparktorch7 import _luapath
            _luapath.apply(self, _luapath.local_roots(lua_path, self))
        _set_timeout(&self._limits, L, timeout)
        # (last: building the state makes unprotected allocations, which must not fail)
        _set_max_memory(&self._limits, L, max_memory)
        st7_sigint_start()           # Ctrl-C reaches Lua code (_interrupt.pxi)

    cdef void _run_init(self, lua.lua_State* L) except *:
        # package.path, global ffi, helpers (lua/sparktorch7/boot/helpers.lua)
        _load_boot_chunk(L, "helpers")
        lua_dir = LUA_DIR.replace("\\", "/").encode("utf-8")
        lua.lua_pushlstring(L, lua_dir, len(lua_dir))                           # chunk dir
        if lua.lua_pcall(L, 1, 1, 0) != 0:
            lua.lua_pop(L, 1)
            raise LuaError("internal: helpers failed to run")
        lua.lua_getfield(L, -1, b"get")
        self._get_ref = lua.luaL_ref(L, lua.LUA_REGISTRYINDEX)
        lua.lua_getfield(L, -1, b"set")
        self._set_ref = lua.luaL_ref(L, lua.LUA_REGISTRYINDEX)
        lua.lua_getfield(L, -1, b"tostring")
        self._tostring_ref = lua.luaL_ref(L, lua.LUA_REGISTRYINDEX)
        lua.lua_getfield(L, -1, b"next")
        self._next_ref = lua.luaL_ref(L, lua.LUA_REGISTRYINDEX)
        lua.lua_getfield(L, -1, b"fill")
        self._fill_ref = lua.luaL_ref(L, lua.LUA_REGISTRYINDEX)
        lua.lua_getfield(L, -1, b"error_mt")
        self._errmt_ref = lua.luaL_ref(L, lua.LUA_REGISTRYINDEX)
        self._limits.errmt_ref = self._errmt_ref
        self._helpers_ref = lua.luaL_ref(L, lua.LUA_REGISTRYINDEX)

    def __dealloc__(self):
        cdef lua.lua_State* L = self.L
        if L is not NULL:
            self.L = NULL
            _unhook_for_close(&self._limits, L)
            lua.lua_close(L)
        if self._out_len:
            _flush_output_quietly(self)
        if self._out_buf is not NULL:
            free(self._out_buf)
            self._out_buf = NULL
        if self._gc_errors:
            _report_finalizer_errors(self)

    # ------------------------------------------------------------ lifetime
    def close(self):
        """Close the state; every later use of it or its objects raises LuaClosedError."""
        cdef lua.lua_State* L0
        if self.L is NULL:
            return
        self._lock.acquire()
        try:
            if self._lock.depth() > 1:
                # Lua code of this state is running below us (we are in a callback)
                raise LuaError("a LuaState cannot be closed from Python code that its own Lua code called")
            if self.L is not NULL:
                L0 = self.L
                self.L = NULL
                self._pending_unrefs.clear()
                _unhook_for_close(&self._limits, L0)
                lua.lua_close(L0)
        finally:
            self._leave()

    @property
    def closed(self):
        return self.L is NULL

    @property
    def timeout(self):
        """Seconds each call from Python may run (None: no limit); the JIT is off while set."""
        return self._limits.timeout if self._limits.timeout > 0 else None

    @timeout.setter
    def timeout(self, value):
        cdef lua.lua_State* L = self._enter()
        try:
            if self._lock.depth() > 1:
                raise LuaError("the timeout of a LuaState cannot change while its Lua code runs")
            _set_timeout(&self._limits, L, value)
        finally:
            self._leave()

    def deadline(self, seconds):
        """A context manager that bounds the Lua calls made inside it: each outermost call
        of this state (from any thread) must end within ``seconds`` of the block's start,
        or it raises :class:`LuaTimeoutError` ("timed out after <seconds> s in ...") and
        the state goes on. With a ``timeout`` as well, the earlier end wins; nested blocks
        cannot extend an outer one.

        Like ``timeout``, the block runs Lua with the JIT compiler off (LuaJIT runs no
        hooks in compiled code, so only then does a loop compiled whole end): entering it
        flushes the compiled traces of a state without a timeout, leaving it turns the JIT
        on again. Calls outside a block cost what they did.

        Examples
        --------
        >>> with LuaState() as lua:
        ...     spin = lua.eval("function() while true do end end")
        ...     with lua.deadline(0.1):
        ...         spin()
        Traceback (most recent call last):
        sparktorch7._lua.LuaTimeoutError: timed out after 0.1 s in ...
        """
        if (not isinstance(seconds, (int, float)) or isinstance(seconds, bool)
                or not seconds > 0 or seconds != seconds):
            raise ValueError(f"deadline seconds must be a positive number, not {seconds!r}")
        cdef _Deadline block = _Deadline.__new__(_Deadline)
        block._state = self
        block._seconds = seconds
        return block

    @property
    def max_memory(self):
        """Bytes the Lua heap may grow to (None: no limit), as given to the constructor."""
        return self._limits.limit if self._limits.limit else None

    def __enter__(self):
        self._check_open()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    cdef inline int _check_open(self) except -1:
        if self.L is NULL:
            raise LuaClosedError("this LuaState is closed")
        return 0

    cdef inline lua.lua_State* _enter(self) except NULL:
        """Take the lock of an open state; the caller releases it with _leave."""
        global st7_sigint_L
        if self.L is NULL:
            raise LuaClosedError("this LuaState is closed")
        self._lock.acquire()
        if self.L is NULL:
            self._lock.release()
            raise LuaClosedError("this LuaState is closed")
        if self._pending_unrefs:
            self._flush_unrefs()
        if self._lock._count == 1:
            # the outermost call of this state in this thread
            if self._limits.armed:
                _arm_limits(&self._limits, self.L)
            if self._lock._owner == st7_main_ident:
                self._sig_prev = st7_sigint_L                   # Ctrl-C reaches it (_interrupt.pxi)
                st7_sigint_L = self.L
                self._sig_on = 1
        return self.L

    cdef inline void _leave(self):
        global st7_sigint_L
        if self._sig_on and self._lock._count == 1:
            st7_sigint_L = self._sig_prev
            self._sig_on = 0
        self._lock.release()
        if self._out_len and self._lock.depth() == 0:
            _flush_output_quietly(self)         # what Lua printed (_stdio.pxi)
        if self._gc_errors and self._lock.depth() == 0:
            # finalizers that raised since the outermost call began (_finalizers.pxi)
            _report_finalizer_errors(self)

    cdef void _flush_unrefs(self):
        cdef int ref
        pending = self._pending_unrefs
        self._pending_unrefs = []
        for ref in pending:
            lua.luaL_unref(self.L, lua.LUA_REGISTRYINDEX, ref)

    cdef void _unref(self, int ref):
        # Called from proxies' __dealloc__, maybe on another thread: never block.
        if self.L is NULL or ref == lua.LUA_NOREF or ref == lua.LUA_REFNIL:
            return
        if self._lock.try_acquire():
            lua.luaL_unref(self.L, lua.LUA_REGISTRYINDEX, ref)
            self._lock.release()
        else:
            self._pending_unrefs.append(ref)

    # ------------------------------------------------------------ conversion
    cdef int _push(self, lua.lua_State* L, object obj) except -1:
        """Push obj converted (allocations happen under lua_pcall)."""
        return _push_one(self, L, obj)

    cdef object _to_py(self, lua.lua_State* L, int idx, dict memo, int depth):
        return _lua_to_py(self, L, idx, memo, depth)

    cdef object _pyerror_at(self, lua.lua_State* L, int idx):
        cdef _PyRef* ref = _get_pyref(self, L, idx)
        if ref is not NULL and ref.is_error:
            return <object>ref.obj
        return None

    cdef int _init_pylib(self, lua.lua_State* L) except -1:
        return _open_pylib(self, L)

    # ------------------------------------------------------------ errors
    cdef int _raise_status(self, lua.lua_State* L, int status) except -1:
        """Raise the exception for a non-zero lua_pcall/luaL_load status; the
        error value is on top of the stack."""
        cdef size_t size
        cdef const char* s
        tb = None
        if status == lua.LUA_ERRRUN or status == lua.LUA_ERRERR or status == lua.LUA_ERRMEM:
            lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, self._tb_slot)
            if lua.lua_type(L, -1) == lua.LUA_TSTRING:
                s = lua.lua_tolstring(L, -1, &size)
                tb = s[:size].decode("utf-8", "replace")
            lua.lua_pop(L, 1)
            lua.lua_pushboolean(L, 0)
            lua.lua_rawseti(L, lua.LUA_REGISTRYINDEX, self._tb_slot)
        exc = self._pyerror_at(L, -1)
        if exc is not None:
            if isinstance(exc, MemoryError) and not isinstance(exc, LuaMemoryError):
                # (numpy's MemoryError allocating an array for Lua: says the size it asked for)
                self._collect(L)
                raise LuaMemoryError(f"MemoryError: {exc}", tb, exc) from exc
            if tb:
                exc.lua_traceback = tb
                _add_note(exc, "Lua " + tb)
            raise exc
        kind = None
        notes = None
        record = _error_record(L, -1, self._errmt_ref)
        if record is not None:
            kind, msg, notes = record
            value = msg
        elif lua.lua_type(L, -1) == lua.LUA_TSTRING:
            s = lua.lua_tolstring(L, -1, &size)
            msg = s[:size].decode("utf-8", "replace")
            value = msg
            if status == lua.LUA_ERRRUN and _is_lua_nomem(msg):
                kind = "memory"
        else:
            value = self._to_py_safe(L, -1)
            msg = f"(error object is a {lua.lua_typename(L, lua.lua_type(L, -1)).decode()} value: {value!r})"
        if status == lua.LUA_ERRSYNTAX:
            chunk, line = _parse_syntax_message(msg)
            raise LuaSyntaxError(msg, chunk, line)
        if status == lua.LUA_ERRMEM:
            kind = "memory"
            if self._limits.refused:
                self._limits.refused = 0
                msg = f"{msg} (the state's max_memory is {self._limits.limit} bytes)"
        elif status == lua.LUA_ERRERR:
            msg = "error in the Lua error handler: " + msg
        cls = _KIND_CLASSES.get(kind, LuaError)
        if cls is LuaMemoryError:
            # Lua 5.1 has no emergency collection: collect the garbage the failed
            # code left now, or the next allocation fails as well.
            self._collect(L)
        elif cls is LuaTimeoutError:
            self._limits.timed_out = 0
        exc = cls(msg, tb, value)
        if notes:
            for note in notes:
                _add_note(exc, note)
        raise exc

    cdef int _collect(self, lua.lua_State* L) noexcept:
        """A full GC under lua_pcall; returns its status (its error value is dropped)."""
        cdef int status
        if not lua.lua_checkstack(L, 2):
            return lua.LUA_ERRMEM
        lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, self._gc_ref)
        status = lua.lua_pcall(L, 0, 0, 0)
        if status != 0:
            lua.lua_pop(L, 1)
        return status

    cdef object _to_py_safe(self, lua.lua_State* L, int idx):
        try:
            return self._to_py(L, idx, None, 0)
        except Exception as e:
            return f"<unconvertible: {e}>"

    # ------------------------------------------------------------ running code
    cdef object _call_top(self, lua.lua_State* L, int base, int nargs, int mode):
        """pcall the function at base+1 (handler at base) with nargs values above it.
        mode 0: None/value/tuple; 1: list of all results."""
        cdef int status = lua.lua_pcall(L, nargs, lua.LUA_MULTRET, base)
        if status != 0:
            self._raise_status(L, status)
        return self._results(L, base, mode)

    cdef object _results(self, lua.lua_State* L, int base, int mode):
        cdef int top = lua.lua_gettop(L)
        cdef int n = top - base
        cdef int i
        if mode == 1:
            return [self._to_py(L, base + 1 + i, None, 0) for i in range(n)]
        if n == 0:
            return None
        if n == 1:
            return self._to_py(L, top, None, 0)
        return tuple([self._to_py(L, base + 1 + i, None, 0) for i in range(n)])

    cdef object _load_and_run(self, bytes code, bytes chunkname, int mode):
        cdef lua.lua_State* L = self._enter()
        cdef int base = lua.lua_gettop(L)
        cdef int status
        try:
            lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, self._tb_ref)
            status = lua.luaL_loadbuffer(L, code, len(code), chunkname)
            if status != 0:
                try:
                    self._raise_status(L, status)
                except LuaSyntaxError as e:
                    if chunkname[:1] in (b"=", b"@"):
                        # Lua's message shortens long names to 60 bytes; keep the whole one
                        e.chunk = chunkname[1:].decode("utf-8", "replace")
                    raise
            return self._call_top(L, base + 1, 0, mode)
        finally:
            lua.lua_settop(L, base)
            self._leave()

    def execute(self, code, name=None):
        """Run a chunk of Lua code and return what it returns.

        ``name`` is the chunk name used in error messages and tracebacks."""
        if isinstance(code, str):
            code = (<str>code).encode("utf-8")
        if not isinstance(code, bytes):
            raise TypeError(f"execute() takes Lua code as str or bytes, not {type(code).__name__}")
        return self._load_and_run(code, _chunkname(name, code), 0)

    def eval(self, expr, name=None):
        """Evaluate a Lua expression and return its value(s)."""
        if isinstance(expr, str):
            expr = (<str>expr).encode("utf-8")
        if not isinstance(expr, bytes):
            raise TypeError(f"eval() takes a Lua expression as str or bytes, not {type(expr).__name__}")
        return self._load_and_run(b"return " + expr, _chunkname(name, expr), 0)

    def dofile(self, path):
        """Run a Lua file and return what it returns."""
        path = os.fspath(path)
        with open(path, "rb") as f:
            code = f.read()
        if code.startswith(b"#"):
            # a shebang line, as lua's own loader skips it; keep the line count
            code = b"--" + code
        return self._load_and_run(code, ("@" + str(path)).encode("utf-8"), 0)

    def require(self, name):
        """``require(name)`` in Lua; returns the module."""
        if not isinstance(name, str):
            raise TypeError(f"require() takes a module name as str, not {type(name).__name__}")
        return self.globals()["require"](name)

    def globals(self):
        """A live :class:`LuaTable` proxy of ``_G``."""
        cdef lua.lua_State* L = self._enter()
        try:
            lua.lua_pushvalue(L, lua.LUA_GLOBALSINDEX)
            return _new_proxy(self, L, -1, LuaTable)
        finally:
            lua.lua_pop(L, 1)
            self._leave()

    def table(self, *items, **fields):
        """A new Lua table as a :class:`LuaTable` proxy: sequence items from
        positional arguments (an only list/dict argument is converted), fields from keywords."""
        cdef lua.lua_State* L = self._enter()
        cdef int top = lua.lua_gettop(L)
        try:
            if len(items) == 1 and not fields and isinstance(items[0], (list, tuple, dict)):
                value = items[0]
            elif fields:
                value = {i + 1: item for i, item in enumerate(items)}
                value.update(fields)
            else:
                value = list(items)
            _push_one(self, L, value)
            return _new_proxy(self, L, -1, LuaTable)
        finally:
            lua.lua_settop(L, top)
            self._leave()

    def gc(self):
        """Run a full Lua garbage collection."""
        cdef lua.lua_State* L = self._enter()
        cdef int top = lua.lua_gettop(L)
        cdef int status
        try:
            if not lua.lua_checkstack(L, 2):
                raise LuaError("Lua stack overflow")
            lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, self._tb_ref)
            lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, self._gc_ref)
            status = lua.lua_pcall(L, 0, 0, top + 1)
            if status != 0:
                self._raise_status(L, status)
        finally:
            lua.lua_settop(L, top)
            self._leave()

    def memory_used(self):
        """Bytes in use by the Lua heap."""
        cdef lua.lua_State* L = self._enter()
        try:
            return lua.lua_gc(L, lua.LUA_GCCOUNT, 0) * 1024 + lua.lua_gc(L, lua.LUA_GCCOUNTB, 0)
        finally:
            self._leave()

    # ------------------------------------------------------------ globals as attributes
    cdef object _global(self, str name, bint attribute):
        """_G[name] read under lua_pcall (a metatable on _G may run code that raises)."""
        cdef lua.lua_State* L = self._enter()
        cdef int base = lua.lua_gettop(L)
        cdef int status
        try:
            if not lua.lua_checkstack(L, 6):
                raise LuaError("Lua stack overflow")
            lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, self._tb_ref)             # tb
            lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, self._get_ref)            # tb get
            lua.lua_pushvalue(L, lua.LUA_GLOBALSINDEX)                          # tb get _G
            _push_one(self, L, name)                                            # tb get _G name
            status = lua.lua_pcall(L, 2, 1, base + 1)                           # tb value
            if status != 0:
                self._raise_status(L, status)
            if attribute and lua.lua_type(L, -1) == lua.LUA_TNIL:
                raise AttributeError(f"Lua has no global named {name!r}")
            return _lua_to_py(self, L, -1, None, 0)
        finally:
            lua.lua_settop(L, base)
            self._leave()

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._global(name, True)

    def __getitem__(self, name):
        if not isinstance(name, str):
            raise TypeError(f"globals are named by str, not {type(name).__name__}")
        return self._global(name, False)

    def __setitem__(self, name, value):
        if not isinstance(name, str):
            raise TypeError(f"globals are named by str, not {type(name).__name__}")
        cdef lua.lua_State* L = self._enter()
        cdef int base = lua.lua_gettop(L)
        cdef int status
        try:
            if not lua.lua_checkstack(L, 6):
                raise LuaError("Lua stack overflow")
            lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, self._tb_ref)             # tb
            lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, self._set_ref)            # tb set
            lua.lua_pushvalue(L, lua.LUA_GLOBALSINDEX)                          # tb set _G
            _push_args(self, L, (name, value))                                  # tb set _G name value
            status = lua.lua_pcall(L, 3, 0, base + 1)                           # tb
            if status != 0:
                self._raise_status(L, status)
        finally:
            lua.lua_settop(L, base)
            self._leave()

    def __dir__(self):
        names = set(type(self).__dict__) | set(object.__dir__(self))
        if self.L is not NULL:
            names.update(k for k in self.globals().keys() if isinstance(k, str))
        return sorted(names)

    def __repr__(self):
        state = "closed" if self.L is NULL else "open"
        return f"<sparktorch7.LuaState {state} at 0x{id(self):x}>"


cdef bytes _chunkname(name, bytes code):
    if name is None:
        # Lua's own convention for strings: [string "first line..."]
        return code.split(b"\n", 1)[0][:60]
    name = str(name)
    if name[:1] in ("=", "@"):
        return name.encode("utf-8")
    return ("=" + name).encode("utf-8")


@cython.final
cdef class _Deadline:
    """The context manager of LuaState.deadline(seconds) (see there)."""
    cdef LuaState _state
    cdef double _seconds
    cdef double _prev_end        # the enclosing block's end and seconds, restored on exit
    cdef double _prev_seconds
    cdef int _active

    def __enter__(self):
        cdef LuaState rt = self._state
        cdef lua.lua_State* L = rt._enter()
        cdef _Limits* lim = &rt._limits
        cdef double end
        try:
            if rt._lock.depth() > 1:
                raise LuaError("a deadline block cannot begin inside a Lua call of its own state "
                               "(in Python code that this state's Lua code called)")
            if self._active:
                raise RuntimeError("this deadline block is already open")
            end = _monotonic() + self._seconds
            self._prev_end = lim.block_end
            self._prev_seconds = lim.block_seconds
            if not lim.blocks or end < lim.block_end:
                lim.block_end = end
                lim.block_seconds = self._seconds
            lim.blocks += 1
            self._active = 1
            _watch(lim, L)
        finally:
            rt._leave()
        return self

    def __exit__(self, *exc):
        cdef LuaState rt = self._state
        cdef _Limits* lim = &rt._limits
        if not self._active:
            return False
        self._active = 0
        if rt.L is NULL:
            return False                 # closed inside the block: nothing to undo
        rt._lock.acquire()
        try:
            if rt.L is not NULL:
                lim.blocks -= 1
                lim.block_end = self._prev_end
                lim.block_seconds = self._prev_seconds
                _watch(lim, rt.L)
        finally:
            rt._lock.release()
        return False

    def __repr__(self):
        return f"<LuaState.deadline({self._seconds:g} s){' open' if self._active else ''}>"
