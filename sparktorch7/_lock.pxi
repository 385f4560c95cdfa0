# A reentrant lock per LuaState: Lua may call Python which calls Lua again in the
# same thread; another thread waits for it with the GIL released.

cdef class _RLock:
    cdef PyThread_type_lock _lock
    cdef long _owner
    cdef int _count

    def __cinit__(self):
        self._lock = PyThread_allocate_lock()
        if self._lock is NULL:
            raise MemoryError("cannot allocate a lock")
        self._owner = -1
        self._count = 0

    def __dealloc__(self):
        if self._lock is not NULL:
            PyThread_free_lock(self._lock)
            self._lock = NULL

    cdef inline void acquire(self):
        cdef long me = PyThread_get_thread_ident()
        if self._count and self._owner == me:
            self._count += 1
            return
        if not PyThread_acquire_lock(self._lock, NOWAIT_LOCK):
            with nogil:
                PyThread_acquire_lock(self._lock, WAIT_LOCK)
        self._owner = me
        self._count = 1

    cdef inline bint try_acquire(self):
        cdef long me = PyThread_get_thread_ident()
        if self._count and self._owner == me:
            self._count += 1
            return True
        if not PyThread_acquire_lock(self._lock, NOWAIT_LOCK):
            return False
        self._owner = me
        self._count = 1
        return True

    cdef inline void release(self):
        self._count -= 1
        if self._count == 0:
            self._owner = -1
            PyThread_release_lock(self._lock)
