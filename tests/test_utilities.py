"""torch.Tester, torch.TestSuite, torch.CmdLine and torch.Timer (doc/tester.md, cmdline.md, timer.md)."""
import textwrap

import pytest

import sparktorch7 as st


@pytest.fixture
def lua():
    state = st.LuaState(tables="list")
    state.execute(textwrap.dedent("""
        require 'torch'
        -- collect what the Tester writes instead of printing it
        out = {}
        io_write = io.write
        io.write = function(...) for _, s in ipairs({...}) do out[#out + 1] = tostring(s) end end
        function output() return table.concat(out) end
    """))
    yield state
    state.execute("io.write = io_write")
    state.close()


def run(lua, code):
    lua.execute(textwrap.dedent(code))


# ---------------------------------------------------------------------- Tester
def test_tester_passes_and_counts(lua):
    run(lua, """
        tester = torch.Tester()
        tests = torch.TestSuite()
        function tests.numbers() tester:asserteq(2, 2); tester:assertlt(1, 2); tester:assertge(2, 2) end
        function tests.tables() tester:eq({1, 'a', {b = true}}, {1, 'a', {b = true}}, 'deep tables') end
        tester:add(tests):run()
    """)
    assert lua.eval("tester.countasserts") == 4
    assert "Completed 4 asserts in 2 tests with 0 failures" in lua.eval("output()")


def test_tester_failures_and_errors_are_reported(lua):
    run(lua, """
        tester = torch.Tester()
        tests = torch.TestSuite()
        function tests.fails() tester:asserteq(1, 2, 'one is not two') end
        function tests.raises() error('boom') end
        function tests.passes() tester:assert(true) end
        ok, err = pcall(tester.run, tester:add(tests))
    """)
    assert lua.eval("ok") is False and "2 of 3 test(s) failed" in lua.eval("err")
    out = lua.eval("output()")
    assert "fails [FAIL]" in out and "one is not two" in out and "EQ(==) violation: val=1, condition=2" in out
    assert "raises [ERROR]" in out and "boom" in out
    assert "[string" in out          # the line of the failing assert is reported


def test_assert_family_return_values(lua):
    run(lua, """
        t = torch.Tester()
        r = {
          t:assertlt(1, 2), t:assertgt(1, 2), t:assertle(2, 2), t:assertge(1, 2),
          t:assertne(1, 2), t:assertalmosteq(1, 1 + 1e-17), t:assertalmosteq(1, 2, 2),
          t:assertalmosteq(1, 3, 1), t:eq('hi', 'hi'), t:eq('one', 1), t:ne({1}, {2}),
          t:eq({1, 2, 3}, {1, 2}), t:eq(1.0, 1.05, 0.1), (t:eq(1.0, 1.05)),
        }
    """)
    assert lua.eval("r") == [True, False, True, False, True, True, True, False, True, False, True, False,
                             True, False]


def test_tensor_and_storage_asserts(lua):
    run(lua, """
        t = torch.Tester()
        a = torch.DoubleTensor({1, 2, 3})
        b = torch.DoubleTensor({1, 2, 3 + 1e-8})
        r = {
          t:assertTensorEq(a, b, 1e-6), t:assertTensorEq(a, b, 1e-10), t:assertTensorNe(a, b, 1e-10),
          t:assertTensorEq(a, b, 'message first', 1e-6),
          t:eq(a, torch.FloatTensor({1, 2, 3})), t:eq({a}, {b}, 1e-6),
          t:eq(torch.DoubleStorage({1}), torch.DoubleStorage({1})),
          t:eq(torch.DoubleStorage({1}), torch.DoubleStorage({1, 2})),
          (t:assertTensorEq(torch.DoubleTensor(), torch.DoubleTensor())),
        }
    """)
    assert lua.eval("r") == [True, False, True, True, False, True, True, False, True]
    with pytest.raises(st.LuaError, match="Second argument should be a Tensor"):
        lua.execute("t:assertTensorEq(a, 2)")


def test_error_asserts(lua):
    run(lua, """
        t = torch.Tester()
        local function bad() error('muahaha!') end
        local function good() end
        r = {
          t:assertError(bad), t:assertError(good), t:assertNoError(good), t:assertNoError(bad),
          t:assertErrorPattern(bad, 'haha'), t:assertErrorPattern(bad, 'hehe'),
          (t:assertErrorObj(function() error({code = 7}) end, function(e) return e.code == 7 end)),
        }
    """)
    assert lua.eval("r") == [True, False, True, False, True, False, True]


def test_extra_assert_arguments_are_an_error(lua):
    run(lua, """
        t = torch.Tester()
        t:add(function() t:assert(true, 'message', 'extra') end, 'abuse')
        ok = pcall(t.run, t)
    """)
    assert lua.eval("ok") is False and "Unexpected arguments" in lua.eval("output()")


def test_testsuite_refuses_duplicates(lua):
    with pytest.raises(st.LuaError, match="Test testThis is already defined."):
        run(lua, """
            local tests = torch.TestSuite()
            function tests.testThis() end
            function tests.testThis() end
        """)


def test_setup_teardown_abort_disable(lua):
    run(lua, """
        calls = {}
        t = torch.Tester()
        local tests = torch.TestSuite()
        function tests._setUp(name) calls[#calls + 1] = 'setUp ' .. name end
        function tests._tearDown(name) calls[#calls + 1] = 'tearDown ' .. name end
        function tests.a() calls[#calls + 1] = 'a' end
        function tests.b() calls[#calls + 1] = 'b' end
        function tests.c() calls[#calls + 1] = 'c' end
        t:add(tests):disable('b'):run()
        only = {}
        t2 = torch.Tester():setEarlyAbort(true)
        t2:add(function() only[#only + 1] = 1; t2:assert(false) end, 't1')
        t2:add(function() only[#only + 1] = 2 end, 't2')
        pcall(t2.run, t2)
        t3 = torch.Tester():setRethrowErrors(true)
        t3:add(function() error('a throw') end, 'x')
        ok, err = pcall(t3.run, t3)
    """)
    assert lua.eval("calls") == ["setUp a", "a", "tearDown a", "setUp c", "c", "tearDown c"]
    assert lua.eval("only") == [1]
    assert lua.eval("ok") is False and "a throw" in lua.eval("err")
    with pytest.raises(st.LuaError, match="Only one _setUp"):
        lua.execute("local t = torch.Tester(); t:add(function() end, '_setUp'); t:add(function() end, '_setUp')")
    with pytest.raises(st.LuaError, match="Nested sets"):
        lua.execute("torch.Tester():add({{function() end}})")


def test_run_selected_tests(lua):
    run(lua, """
        ran = {}
        t = torch.Tester()
        t:add({x = function() ran[#ran + 1] = 'x' end, y = function() ran[#ran + 1] = 'y' end})
        t:run('y')
    """)
    assert lua.eval("ran") == ["y"]
    assert "use TestSuite rather than plain lua table" in lua.eval("output()")


# ---------------------------------------------------------------------- CmdLine
def test_cmdline_parse(lua):
    run(lua, """
        cmd = torch.CmdLine()
        cmd:text('Training')
        cmd:option('-seed', 123, 'initial random seed')
        cmd:option('-booloption', false, 'boolean option')
        cmd:option('-stroption', 'mystring', 'string option')
        cmd:argument('-model', 'model file')
        p = cmd:parse({'-seed', '456', '-booloption', 'net.t7', '-stroption', 'custom'})
        d = cmd:parse({'x.t7'})
        name = cmd:string('experiment', p, {model = true})
        plain = cmd:string('experiment', d, {model = true})
    """)
    assert lua.eval("p") == {"seed": 456, "booloption": True, "stroption": "custom", "model": "net.t7"}
    assert lua.eval("d") == {"seed": 123, "booloption": False, "stroption": "mystring", "model": "x.t7"}
    assert lua.eval("name") == "experiment,booloption=true,seed=456,stroption=custom"
    assert lua.eval("plain") == "experiment"


def test_cmdline_errors(lua):
    run(lua, "cmd = torch.CmdLine(); cmd:option('-n', 1, 'a number'); cmd:argument('-file', 'input')")
    for args, msg in [("{'-x', 'f'}", "unknown option -x"), ("{'-n', 'abc', 'f'}", "option -n expects a number"),
                      ("{}", "missing argument -file"), ("{'f', 'g'}", 'unexpected argument "g"'),
                      ("{'--help'}", "help requested")]:
        with pytest.raises(st.LuaError, match=msg):
            lua.execute(f"cmd:parse({args})")
    with pytest.raises(st.LuaError, match="must be a string starting with '-'"):
        lua.execute("cmd:option('n', 1, 'no dash')")


def test_cmdline_log(lua, tmp_path):
    log = tmp_path / "log"
    run(lua, f"""
        cmd = torch.CmdLine()
        cmd:option('-lr', 0.1, 'learning rate')
        cmd:silent()
        cmd:log('{log}', cmd:parse({{}}))
        print('hello', 42)
        cmd:closeLog()
    """)
    text = log.read_text()
    assert "[command line arguments]" in text and "lr\t0.1" in text and "hello\t42" in text


# ---------------------------------------------------------------------- Timer
def test_timer(lua):
    run(lua, """
        local t = torch.Timer()
        local x = 0
        for i = 1, 2e7 do x = x + i % 7 end
        t1 = t:time()
        t:stop()
        s1 = t:time().real
        for i = 1, 1e7 do x = x + i % 7 end
        s2 = t:time().real
        t:resume()
        r = t:time().real
        t:reset()
        z = t:time().real
    """)
    t1 = lua.eval("t1")
    assert set(t1) == {"real", "user", "sys"} and t1["real"] > 0 and t1["user"] >= 0
    assert lua.eval("s1") == lua.eval("s2")        # a stopped timer does not advance
    assert lua.eval("r") >= lua.eval("s1")
    assert lua.eval("z") < lua.eval("s1")
