"""Ctrl-C reaches a running Lua call: a child process runs endless Lua loops on its main
thread and the test sends it SIGINT (os.kill); each loop must end with KeyboardInterrupt
within a second, and the state must be usable afterwards. A child that hangs is killed and
the test fails (nothing here can hang the test run)."""
import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Each scenario prints "ready <name>" just before its Lua call; the parent then sends SIGINT.
CHILD = textwrap.dedent(r"""
    import signal, sys, time
    from sparktorch7 import LuaState

    def report(name, fn):
        print("ready", name, flush=True)
        t0 = time.monotonic()
        try:
            result = fn()
        except KeyboardInterrupt as e:
            tb = getattr(e, "lua_traceback", "") or ""
            print("interrupted", name, round(time.monotonic() - t0, 2), "loop.lua" in tb, flush=True)
        else:
            print("returned", name, result, round(time.monotonic() - t0, 2), flush=True)

    # 1. interpreted code (JIT off in this state by the script itself)
    lua = LuaState()
    lua.execute("jit.off()")
    spin = lua.execute("return function() local x = 0 while true do x = x + 1 end end", name="loop.lua")
    report("interpreted", spin)
    print("after", lua.eval("1 + 1"), lua.execute("local x = 0 for i = 1, 1e6 do x = x + 1 end return x"), flush=True)

    # 2. a loop the JIT would compile whole, in a state with a timeout (the JIT is off there)
    timed = LuaState(timeout=60)
    whole = timed.execute("return function() local x = 0 for i = 1, 1e15 do x = x + i % 7 end return x end",
                          name="loop.lua")
    report("jit-loop-with-timeout", whole)
    print("after", timed.eval("2 + 2"), flush=True)

    # 3. Lua code that catches the error with pcall gets it again, up to the outermost call
    lua2 = LuaState()
    lua2.execute("jit.off()")
    catch = lua2.execute("return function() while true do pcall(function() while true do end end) end end",
                         name="loop.lua")
    report("pcall", catch)

    # 4. the JIT on, a loop that calls Python (the interrupt then comes out of Python code)
    lua3 = LuaState()
    lua3.py_globals["one"] = lambda: 1
    leaves = lua3.execute("return function() local n = 0 while true do n = n + py.eval('one')() end end",
                          name="loop.lua")
    report("jit-on-calling-python", leaves)

    # 5. Python code set its own SIGINT handler after the state was made (as IPython does
    #    around each input): the watchdog puts ours in front of it again
    hits = []
    def mine(signum, frame):
        hits.append(signum)
        raise KeyboardInterrupt("mine")
    signal.signal(signal.SIGINT, mine)
    time.sleep(0.05)
    report("replaced-handler", spin)
    print("hits", len(hits), flush=True)

    # 6. a Python handler that raises nothing: the Lua call goes on and returns its value
    signal.signal(signal.SIGINT, lambda s, f: hits.append(s))
    clock = lua.execute("return function() local t = os.clock() while os.clock() - t < 1.5 do end "
                        "return 'done' end", name="loop.lua")
    report("handler-raises-nothing", clock)
    print("hits", len(hits), flush=True)
    print("end", flush=True)
""")


def _reader(proc) -> "queue.Queue":
    """The child's output lines, as they come (a thread reads them)."""
    lines: "queue.Queue" = queue.Queue()

    def read():
        for line in proc.stdout:
            lines.put(line.strip())
        lines.put(None)
    threading.Thread(target=read, daemon=True).start()
    return lines


def _readline(incoming, seconds, lines):
    try:
        line = incoming.get(timeout=seconds)
    except queue.Empty:
        raise AssertionError(f"the child did not answer within {seconds} s (a Lua loop was not "
                             f"interrupted?); it said: {lines}") from None
    return line or ""


def test_sigint_interrupts_running_lua_calls():
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    lines = []
    incoming = _reader(proc)
    try:
        while True:
            line = _readline(incoming, 15, lines)
            if not line:
                break
            lines.append(line)
            if line.startswith("ready"):
                time.sleep(0.3)             # the call is running by now
                os.kill(proc.pid, signal.SIGINT)
            if line == "end":
                break
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = proc.stderr.read()
    out = "\n".join(lines)
    assert proc.returncode == 0, out + "\n" + err[-3000:]

    def result(name):
        found = [ln.split() for ln in lines if ln.split()[1:2] == [name] and not ln.startswith("ready")]
        assert len(found) == 1, out
        return found[0]

    for name in ("interpreted", "jit-loop-with-timeout", "pcall", "jit-on-calling-python", "replaced-handler"):
        kind, _, seconds, lua_tb = result(name)
        assert kind == "interrupted", out
        assert float(seconds) < 2.0, out                      # quickly: signal at 0.3 s
        assert lua_tb == "True", out                          # the Lua traceback says where
    assert lines[lines.index("ready interpreted") + 2] == "after 2 1000000", out
    assert lines[lines.index("ready jit-loop-with-timeout") + 2] == "after 4", out
    assert lines[lines.index("ready replaced-handler") + 2] == "hits 1", out
    kind, _, value, seconds = result("handler-raises-nothing")
    assert kind == "returned" and value == "done" and float(seconds) >= 1.4, out
    assert lines[lines.index("ready handler-raises-nothing") + 2] == "hits 2", out
