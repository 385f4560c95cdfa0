# Ctrl-C reaches running Lua code: a C SIGINT handler in front of Python's.
#
# As lua.c does: while an outermost Lua call runs on the main thread, st7_sigint_L names
# its lua_State; the handler sets that state's hook to run at the next instruction
# (lua_sethook only stores a few fields, which is safe in a signal handler), then calls
# the handler it replaced, Python's, which sets Python's own flag. At that instruction
# _limits_hook (_limits.pxi) runs Python's signal handlers (PyErr_CheckSignals): the
# KeyboardInterrupt of the default one travels out of Lua as a Python exception and is
# raised again at every instruction until the outermost call has ended (Lua code that
# catches it with pcall gets it again), and the state stays usable. A Python handler that
# raises nothing lets the Lua code go on.
#
# Cost per call: two stores of a pointer at the outermost call (the handler is installed
# once, not per call: a sigaction pair costs ~700 ns, three calls' worth). Python code
# that sets a SIGINT handler (signal.signal, as IPython and ipykernel do around each
# input) replaces ours with Python's; a watchdog thread (C, no GIL, signals blocked) looks
# every 100 ms while a Lua call runs and puts ours back in front. Python's handler is
# chained, never dropped; SIG_DFL and SIG_IGN are left alone (nothing to chain to).
#
# Limits: a hook runs only in interpreted code. A loop that the JIT compiled whole never
# leaves its trace (`while true do end`, and most loops of arithmetic, table access and
# built-ins: even one calling os.clock() was compiled so), so in a state with the JIT on
# Ctrl-C ends only loops that leave their trace (a loop calling Python: Python raises the
# KeyboardInterrupt itself); a state with a timeout (or inside a deadline() block) runs
# with the JIT off, and there every loop is interruptible. A call on another thread is not
# interrupted (Python runs signal handlers on the main thread).

cdef extern from *:
    """
    #include <signal.h>
    #include <pthread.h>
    #include <errno.h>
    #include <string.h>
    #include <time.h>

    static lua_State* volatile st7_sigint_L = NULL;      /* the state running on the main thread */
    static volatile sig_atomic_t st7_sigint_hit = 0;      /* a SIGINT came while it ran */
    static lua_Hook st7_sigint_hook = NULL;               /* _limits_hook */
    static long st7_main_ident = 0;                       /* PyThread_get_thread_ident() of the main thread */
    static struct sigaction st7_prev_slots[2];            /* the handler we chain to, published ... */
    static struct sigaction* volatile st7_prev = NULL;    /* ... by this pointer */
    static int st7_watchdog_on = 0;
    static int st7_atfork_set = 0;

    static void st7_on_sigint(int sig, siginfo_t* info, void* ctx) {
        int saved = errno;
        lua_State* L = st7_sigint_L;
        struct sigaction* prev = st7_prev;
        if (L != NULL && st7_sigint_hook != NULL) {
            st7_sigint_hit = 1;
            lua_sethook(L, st7_sigint_hook, LUA_MASKCOUNT, 1);
        }
        if (prev != NULL) {
            if (prev->sa_flags & SA_SIGINFO)
                prev->sa_sigaction(sig, info, ctx);
            else if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN)
                prev->sa_handler(sig);
        }
        errno = saved;
    }

    static int st7_is_ours(const struct sigaction* a) {
        return (a->sa_flags & SA_SIGINFO) && a->sa_sigaction == st7_on_sigint;
    }

    static int st7_is_handler(const struct sigaction* a) {
        if (a->sa_flags & SA_SIGINFO) return a->sa_sigaction != NULL && !st7_is_ours(a);
        return a->sa_handler != SIG_DFL && a->sa_handler != SIG_IGN;
    }

    static void st7_publish_prev(const struct sigaction* a) {
        struct sigaction* slot = (st7_prev == &st7_prev_slots[0]) ? &st7_prev_slots[1] : &st7_prev_slots[0];
        *slot = *a;
        st7_prev = slot;
    }

    /* Put st7_on_sigint in front of the SIGINT handler there now: 0 when ours is there
       already, 1 when it was put there, -1 when there is no handler to chain to. */
    static int st7_sigint_install(void) {
        struct sigaction cur, ours, old;
        if (sigaction(SIGINT, NULL, &cur) != 0) return -1;
        if (st7_is_ours(&cur)) return 0;
        if (!st7_is_handler(&cur)) return -1;
        st7_publish_prev(&cur);
        memset(&ours, 0, sizeof ours);
        ours.sa_sigaction = st7_on_sigint;
        ours.sa_mask = cur.sa_mask;
        ours.sa_flags = (cur.sa_flags & ~SA_RESETHAND) | SA_SIGINFO;
        if (sigaction(SIGINT, &ours, &old) != 0) return -1;
        if (old.sa_handler != cur.sa_handler || old.sa_flags != cur.sa_flags) {
            /* changed between the two calls */
            if (st7_is_ours(&old)) return 0;
            if (!st7_is_handler(&old)) { sigaction(SIGINT, &old, NULL); return -1; }
            st7_publish_prev(&old);
        }
        return 1;
    }

    static void* st7_watchdog(void* arg) {
        struct timespec ts;
        (void)arg;
        ts.tv_sec = 0;
        ts.tv_nsec = 100000000;
        for (;;) {
            nanosleep(&ts, NULL);
            if (st7_sigint_L != NULL) st7_sigint_install();
        }
        return NULL;
    }

    static void st7_atfork_child(void) {
        st7_watchdog_on = 0;                       /* threads do not survive a fork */
        st7_main_ident = (long)pthread_self();     /* the forking thread is the child's main one */
    }

    /* Install the handler and start the watchdog (once per process): 0, or -1 when the
       thread could not start (the handler still works until something replaces it). */
    static int st7_sigint_start(void) {
        pthread_t t;
        pthread_attr_t attr;
        sigset_t all, saved;
        int rc;
        st7_sigint_install();
        if (st7_watchdog_on) return 0;
        if (!st7_atfork_set && pthread_atfork(NULL, NULL, st7_atfork_child) == 0) st7_atfork_set = 1;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &saved);   /* the thread inherits: it gets no signal */
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 65536);
        rc = pthread_create(&t, &attr, st7_watchdog, NULL);
        pthread_attr_destroy(&attr);
        pthread_sigmask(SIG_SETMASK, &saved, NULL);
        if (rc != 0) return -1;
        st7_watchdog_on = 1;
        return 0;
    }
    """
    lua.lua_State* st7_sigint_L
    int st7_sigint_hit
    lua_Hook st7_sigint_hook
    long st7_main_ident
    int st7_sigint_start() nogil
    int st7_sigint_install() nogil


cdef extern from "Python.h":
    int PyErr_CheckSignals() except -1


st7_sigint_hook = _limits_hook
st7_main_ident = <long>threading.main_thread().ident


cdef int _interrupt_step(_Limits* lim, lua.lua_State* L) noexcept:
    # Lua-facing (from _limits_hook): 0 to go on, or -1 with an exception of a Python
    # signal handler on the stack as the error value (the caller raises it).
    global st7_sigint_hit
    cdef LuaState rt = <LuaState>lim.owner
    if lim.interrupted:
        # Lua code caught it: again, up to the outermost call
        return _raise_in_lua(rt, L, rt._interrupt_exc)
    st7_sigint_hit = 0
    if not lim.hurry:
        _rehook(lim, L)                 # the SIGINT handler's hook at every instruction: undone
    try:
        if rt._out_len:
            _flush_output_quietly(rt)   # what Lua printed, before Python's handler runs
        PyErr_CheckSignals()
        return 0
    except BaseException as e:
        rt._interrupt_exc = e
        lim.interrupted = 1
        lim.armed = 1
        lim.hurry = 1
        lua_sethook(L, _limits_hook, LUA_MASKCOUNT, 1)
        return _raise_in_lua(rt, L, e)


cdef void _interrupt_clear(_Limits* lim) noexcept:
    # at the next outermost call, or at close: the exception has left
    cdef LuaState rt = <LuaState>lim.owner
    lim.interrupted = 0
    rt._interrupt_exc = None


cdef void _unhook_for_close(_Limits* lim, lua.lua_State* L) noexcept:
    # before lua_close: finalizers run without our hook (no timeout, no interrupt) and
    # without the memory limit, on LuaJIT's allocator, which then frees its heap
    _restore_allocator(lim, L)
    lua_sethook(L, NULL, 0, 0)
    lim.hurry = 0
    lim.watching = 0
    lim.armed = 0
    if lim.interrupted:
        _interrupt_clear(lim)
