# A reentrant lock per LuaState: Lua may call Python which calls Lua again in the
# same thread; another thread waits for it with the GIL released.
#
# GIL policy: the GIL is held while Lua runs. Every Python -> Lua call (lua_pcall) is
# made with the GIL held and Lua never releases it, so Lua code, the Lua -> Python
# callbacks and the conversions touch Python objects safely without re-acquiring it.
# Consequences: two LuaStates in two threads of one process do not run Lua at the same
# time; other Python threads run only while Lua has called back into Python code (whose
# interpreter switches threads as usual) or inside a NumPy/BLAS kernel that releases the
# GIL itself; the one place this module releases the GIL is a thread blocking on another
# thread's state (below). Parallelism comes from processes (Spark's Python workers), not
# threads.
#
# Every field is read and written with the GIL held, so an uncontended acquire is
# a few field updates and never touches the OS lock. The OS lock (`_real`) is only
# taken when a second thread has to wait: the waiter takes it on behalf of the
# owner (`_real_held`), then blocks on it without the GIL; the owner's last
# release hands it over.
cimport cython

@cython.final
cdef class _RLock:
    cdef PyThread_type_lock _real
    cdef long _owner
    cdef int _count
    cdef int _waiters
    cdef bint _real_held

    def __cinit__(self):
        self._real = PyThread_allocate_lock()
        if self._real is NULL:
            raise MemoryError("cannot allocate a lock")
        self._owner = -1
        self._count = 0
        self._waiters = 0
        self._real_held = False

    def __dealloc__(self):
        if self._real is not NULL:
            if self._real_held:
                PyThread_release_lock(self._real)
            PyThread_free_lock(self._real)
            self._real = NULL

    cdef inline void acquire(self):
        cdef long me = PyThread_get_thread_ident()
        if self._count:
            if self._owner == me:
                self._count += 1
                return
        elif self._waiters == 0:
            self._owner = me
            self._count = 1
            return
        self._acquire_contended(me)

    cdef void _acquire_contended(self, long me):
        if not self._real_held and PyThread_acquire_lock(self._real, NOWAIT_LOCK):
            self._real_held = True
            if self._count == 0:
                # free after all (its last owner left just now): ours, OS lock included
                self._owner = me
                self._count = 1
                return
            # now held on behalf of the owner, whose last release hands it over
        self._waiters += 1
        with nogil:
            PyThread_acquire_lock(self._real, WAIT_LOCK)
        self._waiters -= 1
        self._real_held = True
        self._owner = me
        self._count = 1

    cdef inline bint try_acquire(self):
        cdef long me = PyThread_get_thread_ident()
        if self._count:
            if self._owner != me:
                return False
            self._count += 1
            return True
        if self._waiters:
            return False
        self._owner = me
        self._count = 1
        return True

    cdef inline int depth(self):
        """How many times the calling thread holds the lock (0 if another thread or none does)."""
        if self._count and self._owner == <long>PyThread_get_thread_ident():
            return self._count
        return 0

    cdef inline void release(self):
        self._count -= 1
        if self._count == 0:
            self._owner = -1
            if self._real_held:
                self._real_held = False
                PyThread_release_lock(self._real)
