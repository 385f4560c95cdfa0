"""xlua: Torch7's helper package: progress (quiet when stdout is not a terminal), require,
print, unpack, table2string, string.split, error."""
import os
import pty
import subprocess
import sys
import textwrap

import pytest

from sparktorch7 import LuaError


@pytest.fixture
def lua(lua):
    lua.require("torch")
    lua.execute("xlua = require 'xlua'")
    return lua


def test_progress_writes_one_line_when_not_a_terminal(lua, capfd):
    lua.execute("for i = 1, 5000 do xlua.progress(i, 5000) end; io.flush()")
    out = capfd.readouterr().out
    lines = out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("[5000/5000] Tot: ") and "| Step: " in lines[0]
    assert "\r" not in out and "=" not in out
    # a second bar starts over and again writes one line
    lua.execute("for i = 1, 10 do xlua.progress(i, 10) end; io.flush()")
    assert capfd.readouterr().out.splitlines()[0].startswith("[10/10] Tot: ")
    # xlua.progress_interval: a line at most this often while a bar runs
    # (a pause between calls: the clock counts microseconds, two calls may read the same time)
    lua.execute("require 'sys'; xlua.progress_interval = 1e-9; "
                "for i = 1, 4 do sys.sleep(0.002); xlua.progress(i, 4) end; io.flush()")
    lines = capfd.readouterr().out.splitlines()
    assert len(lines) == 3 and lines[-1].startswith("[4/4] Tot: ")      # the first call only starts the bar
    assert all(" ETA: " in line for line in lines[:-1])
    lua.execute("xlua.progress_interval = 0; for i = 1, 3 do xlua.progress(i, 4) end; io.flush()")
    assert capfd.readouterr().out == ""                   # not finished: nothing written
    with pytest.raises(LuaError, match=r"<xlua.progress> expects \(current, goal\) as numbers, got \(string, number\)"):
        lua.execute("xlua.progress('1', 2)")


def test_progress_draws_the_bar_on_a_terminal(tmp_path):
    code = textwrap.dedent("""
        from sparktorch7 import LuaState
        L = LuaState()
        L.require('torch')
        L.execute("xlua = require 'xlua'; for i = 1, 200 do xlua.progress(i, 200) end; io.flush()")
    """)
    master, slave = pty.openpty()
    env = dict(os.environ, COLUMNS="80")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=slave, stderr=subprocess.PIPE, env=env,
                            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(master)
    out = b"".join(chunks).decode()
    assert proc.returncode == 0, proc.stderr.read()
    assert "\r [" in out and "200/200" in out and "Tot: " in out and "=" * 20 in out
    assert out.count("\r") <= 200                      # redrawn at most per call, at most 10 a second


def test_require_and_installed(lua, capfd):
    assert lua.execute("return xlua.require('no_such_package_xyz')") is False
    out = capfd.readouterr().out
    assert "module 'no_such_package_xyz' not found" in out
    assert "warning: <no_such_package_xyz> could not be loaded (is it installed?)" in out
    assert lua.execute("return xlua.require('cjson') == require('cjson')") is True
    found, where = lua.execute("return xlua.installed('cjson')")
    assert found is True and where.endswith("cjson/init.lua")
    assert lua.execute("return xrequire == xlua.require, xprint == xlua.print, xerror == xlua.error") == (True,) * 3


def test_print(lua, capfd):
    lua.execute("xlua.print({a = 1}); xlua.print('x', 2); xlua.print({s = string.rep('y', 50)}); io.flush()")
    out = capfd.readouterr().out.split("\n")
    assert out[0] == "{[a] = 1}"
    assert out[1] == "x    2"
    assert out[2] == "{[s] = " + "y" * 40 + "\x1b[0m ... }"


def test_unpack_named_positional_defaults(lua):
    lua.execute("""
        function f(...)
          local args, size, mode, scale = xlua.unpack({...}, 'f', 'does f',
            {arg = 'size', type = 'number', help = 'the size', req = true},
            {arg = 'mode', type = 'string', help = 'the mode', default = 'fast'},
            {arg = 'scale', type = 'number', help = 'scale', defaulta = 'size'})
          return size, mode, scale, args.size, args[2]
        end
    """)
    assert lua.eval("f(3)") == (3, "fast", 3, 3, "fast")
    assert lua.eval("f(3, 'slow', 0.5)") == (3, "slow", 0.5, 3, "slow")
    assert lua.eval("f{size = 4, scale = 2}") == (4, "fast", 2, 4, "fast")
    with pytest.raises(LuaError, match="<f> missing argument: size"):
        lua.execute("f{mode = 'x'}")
    usage = lua.execute("local args = xlua.unpack({1}, 'g', 'help text', {arg = 'n', type = 'number', help = 'count', "
                        "req = true}); return tostring(args.usage)")
    assert "g{" in usage and "n = number" in usage and "-- count" in usage and "help text" in usage
    assert lua.execute("local o = {}; xlua.unpack_class(o, {{w = 5}}, 'C', nil, {arg = 'w', type = 'number'}, "
                       "{arg = 'h', type = 'number', default = 7}); return o.w, o.h") == (5, 7)


def test_strings_tables_errors(lua):
    assert lua.eval("xlua.table2string({1, 'two', x = 3})") == '{1,"two",x=3}'
    assert lua.eval("xlua.table2string({k = {1}}, true)") == "{\n   k : {1}\n}"
    assert list(lua.eval("string.split('a b  c', ' +')").values()) == ["a", "b", "c"]
    assert list(lua.eval("xlua.string.split('/usr/lib/x', '/')").values()) == ["usr", "lib", "x"]
    assert lua.eval("xlua.formatTime(3723.5)") == "1h2m"
    assert lua.eval("xlua.formatTime(0.25)") == "250ms"
    assert lua.eval("xlua.formatTime(90061)") == "1D1h"
    kept, removed = lua.execute("return table.splice({1, 2, 3, 4}, 2, 2)")
    assert list(kept.values()) == [1, 4] and list(removed.values()) == [2, 3]
    with pytest.raises(LuaError, match="\x1b\\[1;31m<mydomain> it broke\x1b\\[0m\nusage here"):
        lua.execute("xlua.error('it broke', 'mydomain', 'usage here')")
    with pytest.raises(LuaError, match="<string.split> expects a non-empty separator pattern"):
        lua.execute("string.split('abc', '')")


def test_envparams(lua, monkeypatch):
    monkeypatch.setenv("learningRate", "0.5")
    monkeypatch.setenv("nesterov", "false")
    assert lua.execute("local p = xlua.envparams{learningRate = 1e-2, nesterov = true, name = 'x'}; "
                       "return p.learningRate, p.nesterov, p.name") == (0.5, False, "x")
    monkeypatch.setenv("learningRate", "fast")
    with pytest.raises(LuaError, match='<xlua.envparams> learningRate="fast" is not a number'):
        lua.execute("xlua.envparams{learningRate = 1e-2}")


def test_option_parser(lua, capfd):
    lua.execute("arg = {[0] = 'train.lua', '--lr=0.5', '-v', 'data.t7', '--name', 'x'}")
    opt, args = lua.execute("""
        local op = xlua.OptionParser('%prog [options] file')
        op:option{'-l', '--lr', action = 'store', dest = 'lr', help = 'learning rate', default = 1}
        op:option{'-v', '--verbose', action = 'store_true', dest = 'verbose', help = 'talk', default = false}
        op:option{'-n', '--name', dest = 'name', help = 'name'}
        op:option{'-b', '--batch', dest = 'batch', help = 'batch size', default = 32}
        return op:parse()
    """)
    assert (opt["lr"], opt["verbose"], opt["name"], opt["batch"], opt["__main__"]) == ("0.5", True, "x", 32, True)
    assert list(args.values()) == ["data.t7"]
    lua.execute("arg = {[0] = 'train.lua', '--bogus'}")
    with pytest.raises(LuaError, match="<xlua.OptionParser> invalid option --bogus"):
        lua.execute("local op = xlua.OptionParser('%prog'); op:parse()")
    lua.execute("io.flush()")
    out = capfd.readouterr()
    assert "invalid option --bogus" in out.err and "Usage: train.lua" in out.out and "--help" in out.out


def test_profiler(lua, capfd):
    lua.execute("""
        p = xlua.Profiler()
        local t0, c0 = sys.clock(), os.clock()
        p:start('loop', 'fps')
        local x = 0
        for i = 1, 2e7 do x = x + i % 7 end
        r, c = p:lap('loop')
        wall, cpu = sys.clock() - t0, os.clock() - c0
        p:start('nap'); sys.sleep(0.05); nr, nc = p:lap('nap', 2)
    """)
    g = lua.globals()
    # lap gives the wall and CPU seconds since start, bounded by what the test itself measured
    assert 0.5 * g["wall"] < g["r"] <= g["wall"] and 0 < g["c"] <= g["cpu"]
    assert 0.025 <= g["nr"] < 1 and g["nc"] < 0.02           # divided by 2; sleeping takes no CPU
    assert lua.eval("p:real('nap')") > 0.05 and lua.eval("p.events.nap.reald") > 0.05
    report = lua.eval("p:formatAll()").split("\n")
    assert report[0] == "$ profiler report:" and len(report) == 3
    r = lua.eval("p.events.loop.reald")
    assert report[1] == "$ real %f | cpu %f <loop> = %f fps" % (r, lua.eval("p.events.loop.cpud"), 1 / r)
    assert report[2].startswith("$ real ") and report[2].endswith(" <nap>") and "fps" not in report[2]
    assert lua.eval("p:format('nap')").startswith("$ real | cpu: ")
    lua.execute("p:print('loop'); p:printAll(); io.flush()")
    out = capfd.readouterr().out.splitlines()
    assert out[0].startswith("$ real | cpu: ") and out[0].endswith(" <loop>") and out[1] == "$ profiler report:"
    # 'off' prints nothing; verbose writes the event names
    lua.execute("q = xlua.Profiler('off'); q:start('a'); q:lap('a'); q:printAll(); "
                "v = xlua.Profiler(nil, true); v:start('b'); v:lap('b'); io.flush()")
    out = capfd.readouterr().out
    assert out.startswith("<b>\r$ real | cpu: ") and out.count("<a>") == 0
    assert lua.eval("require('xlua.Profiler') == xlua.Profiler") is True
    with pytest.raises(LuaError, match=r"<xlua.Profiler:lap> no event named zz: call start\(zz\) first"):
        lua.execute("p:lap('zz')")
    with pytest.raises(LuaError, match=r"<xlua.Profiler:displayAll> draws on a Qt painter"):
        lua.execute("p:displayAll{}")
    with pytest.raises(LuaError, match=r"<xlua.Profiler:cpu> expects the divider as a number, got string"):
        lua.execute("p:cpu('loop', 'x')")


def test_who_and_clearall(lua, capfd):
    lua.execute("mine = 42; cjson = require 'cjson'; xlua.who(); io.flush()")
    out = capfd.readouterr().out
    libs, user = out.split("Global Vars:")
    assert "cjson" in libs and "torch" in libs and "xlua" in libs and "mine" not in libs
    assert "[mine] = 42" in user and "[torch]" not in user and "[print]" not in user
    lua.execute("xlua.clearall()")
    assert lua.execute("return mine, cjson, package.loaded.cjson, torch ~= nil, xlua ~= nil, print ~= nil") == \
        (None, None, None, True, True, True)
