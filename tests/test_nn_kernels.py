"""nn.kernels, the one binding of the nn packages to their NumPy kernels (made when nn
is required, as torch/nn's THNN.lua binds THNN), its thresholds table and output
helper; and the one manifest per package: a missing file fails `require` loudly."""
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import sparktorch7 as st

LUA = Path(__file__).resolve().parents[1] / "sparktorch7" / "lua"
# the packages whose modules call NumPy kernels, all through nn/kernels.lua
NN_FAMILY = ["nn", "cudnn", "rnn", "nnx", "inn", "dpnn", "nngraph", "cunn"]
KERNELS = LUA / "nn" / "kernels.lua"
# the torch runtime's own cut-overs (it cannot require nn): torch/numpy.lua's table
TORCH_TABLE = LUA / "torch" / "numpy.lua"


def lua_files(packages=None):
    roots = [LUA / p for p in packages] if packages else [LUA]
    for root in roots:
        yield from sorted(root.rglob("*.lua"))


def code_lines(path):
    """(line number, text) of a Lua file with comments removed."""
    for i, line in enumerate(path.read_text().splitlines(), 1):
        yield i, re.sub(r"--.*$", "", line)


# ---------------------------------------------------------------- one route
def test_no_kernel_route_outside_nn_kernels():
    routes = re.compile(r"callmod|\bops\.call\(|torch\._np\b|rawget\(torch, *'_np'\)|py\.import")
    found = [f"{p.relative_to(LUA)}:{i}: {text.strip()}"
             for p in lua_files(NN_FAMILY) if p != KERNELS
             for i, text in code_lines(p) if routes.search(text)]
    assert not found, "kernels called outside nn/kernels.lua:\n" + "\n".join(found)


def test_callmod_is_only_defined_by_the_torch_bridge():
    found = [f"{p.relative_to(LUA)}:{i}" for p in lua_files() if p != TORCH_TABLE
             for i, text in code_lines(p) if "callmod" in text]
    assert not found, found


def test_no_threshold_constants_outside_the_tables():
    # a named cut-over (NUMPY_MIN = 32768 ...) or a size compared with a literal of
    # 256 or more next to the numpy bridge, anywhere in the Lua tree
    named = re.compile(r"\b[A-Z_]*(NUMPY|_MIN\b|MIN_|THRESH)[A-Z_]*\s*=\s*\{?\s*\d")
    inline = re.compile(r"(nElement\(\)|\bwork\b|\bn\b|\bk\b)\s*>=?\s*\d{3,}")
    found = []
    for p in lua_files():
        if p in (KERNELS, TORCH_TABLE):
            continue
        for i, text in code_lines(p):
            if named.search(text) or ("_np" in text and inline.search(text)):
                found.append(f"{p.relative_to(LUA)}:{i}: {text.strip()}")
    assert not found, "cut-over thresholds outside the tables:\n" + "\n".join(found)


def test_no_second_output_buffer_helper():
    found = [f"{p.relative_to(LUA)}:{i}" for p in lua_files(NN_FAMILY)
             for i, text in code_lines(p)
             if re.search(r"resultLike|\bops\.output\(|\bops\.gradInput\(|\bops\.newLike\(", text)]
    assert not found, found


# ---------------------------------------------------------------- the binding
@pytest.fixture
def nnlua():
    state = st.LuaState()
    state.execute("require 'nn'; require 'cudnn'; require 'rnn'; require 'nnx'; require 'inn'")
    try:
        yield state
    finally:
        state.close()


def manifest_names():
    text = KERNELS.read_text()
    body = text[text.index("local MANIFEST"):text.index("kernels.thresholds =")]
    return re.findall(r"'([a-z][a-z0-9_]*)'", re.sub(r"'sparktorch7\._\w+'", "", body))


def test_every_listed_kernel_is_a_lua_function(nnlua):
    names = manifest_names()
    assert len(names) > 60 and "conv2d" in names and "seq_lstm" in names and "roi_pooling" in names
    kinds = nnlua.eval("function(names) local r = {} for i, n in ipairs(names) do "
                       "r[i] = type(nn.kernels[n]) end return r end")(names)
    assert list(kinds.values()) == ["function"] * len(names)
    assert nnlua.eval("nn.kernels.available") is True
    assert nnlua.eval("require('nn.kernels') == nn.kernels")


def test_every_kernel_a_lua_module_calls_is_listed():
    listed = set(manifest_names())
    called = set()
    for p in lua_files(NN_FAMILY):
        for _, text in code_lines(p):
            called |= {m for m in re.findall(r"\bkernels\.([a-z][a-z0-9_]*)\(", text)
                       if m not in ("output", "faster")}
    assert called and called <= listed, sorted(called - listed)


def test_a_kernel_call_gives_one_result_and_writes_its_output(nnlua):
    f = nnlua.eval("""function()
        local out, x = torch.zeros(2, 3), torch.Tensor({{1, 2, 3}, {4, 5, 6}})
        local W, b = torch.eye(3), torch.Tensor({10, 20, 30})
        local n = select('#', nn.kernels.linear(out, x, W, b))
        return n, out, select('#', nn.kernels.same_bytes(x, x:clone())), nn.kernels.same_bytes(x, x:clone())
    end""")
    n, out, n2, same = f()
    assert n == 1 and n2 == 1 and same is True
    np.testing.assert_array_equal(out, [[11, 22, 33], [14, 25, 36]])


def test_a_kernel_error_names_the_module_kernel_and_shapes(nnlua):
    nnlua.execute("L = nn.Linear(4, 3); function L:updateOutput(x) "
                  "nn.kernels.linear(self.output:resize(2, 3), x, torch.zeros(3, 5), self.bias) "
                  "return self.output end")
    with pytest.raises(st.LuaError) as info:
        nnlua.execute("nn.Sequential():add(L):forward(torch.zeros(2, 4))")
    msg = str(info.value)
    assert ("<nn.Linear> the NumPy kernel sparktorch7._nn_ops:linear failed on (DoubleTensor 2x3, "
            "DoubleTensor 2x4, DoubleTensor 3x5, DoubleTensor 3): ValueError") in msg


def copy_tree(tmp_path):
    root = tmp_path / "lua"
    shutil.copytree(LUA, root)
    return root


def state_on(root):
    """A LuaState whose require finds only the Lua tree at root."""
    state = st.LuaState()
    state.eval("function(p) package.path = p .. '/?.lua;' .. p .. '/?/init.lua' end")(str(root))
    return state


def test_a_kernel_the_python_side_lacks_fails_require_nn(tmp_path):
    root = copy_tree(tmp_path)
    path = root / "nn" / "kernels.lua"
    text = path.read_text()
    path.write_text(text.replace("'linear', 'threshold_max',", "'linear', 'threshold_max', 'no_such_kernel',", 1))
    state = state_on(root)
    try:
        with pytest.raises(st.LuaError) as info:
            state.execute("require 'nn'")
        msg = str(info.value)
        assert "<nn.kernels> cannot bind the NumPy kernel sparktorch7._nn_ops:no_such_kernel" in msg
        assert "has no attribute 'no_such_kernel'" in msg
        assert state.eval("rawget(_G, 'nn') == nil or nn.SpatialConvolution == nil")
    finally:
        state.close()


def test_without_python_the_kernels_say_what_they_need_and_lua_loops_run():
    state = st.LuaState()
    try:
        # a Lua state without the numpy bridge (as a bare luajit): nn binds no kernel
        state.execute("require 'torch'; torch._np = nil; require 'nn'")
        assert state.eval("nn.kernels.available") is False
        assert state.eval("nn.kernels.faster('linear', torch.zeros(1), 1e9)") is False
        y = state.eval("(function() local m = nn.Linear(64, 64); m.weight:fill(0.5); m.bias:fill(1) "
                       "return nn.ReLU():forward(m:forward(torch.ones(128, 64))) end)()")
        np.testing.assert_array_equal(y, np.full((128, 64), 33.0))
        with pytest.raises(st.LuaError) as info:
            state.execute("nn.SpatialConvolution(3, 4, 3, 3):forward(torch.zeros(3, 8, 8))")
        msg = str(info.value)
        assert "<nn> the NumPy kernel sparktorch7._nn_ops:conv2d runs only inside a sparktorch7.LuaState" in msg
        assert "SpatialConvolution.lua" in msg
    finally:
        state.close()


# ---------------------------------------------------------------- thresholds
COUNTING = """function(name)
    local real = nn.kernels[name]
    local calls = 0
    nn.kernels[name] = function(...) calls = calls + 1; return real(...) end
    return function() local n = calls; calls = 0; return n end
end"""


def test_the_thresholds_table_decides_numpy_or_lua(nnlua):
    thresholds = nnlua.eval("nn.kernels.thresholds")
    assert thresholds == {"linear": 4096, "threshold_max": 32768}
    relu_calls = nnlua.eval(COUNTING)("threshold_max")
    run = nnlua.eval("function(ctor, n, tname) local m = loadstring('return ' .. ctor)() "
                     "return m:forward(torch.randn(n):type(tname)) end")
    for ctor in ("nn.ReLU()", "nn.Threshold(0.5, 0.5)", "cudnn.ReLU()", "nn.ReLU(true)"):
        x = run(ctor, 32768, "torch.FloatTensor")
        assert relu_calls() == 1, ctor
        run(ctor, 32767, "torch.FloatTensor")
        assert relu_calls() == 0, ctor
        run(ctor, 40000, "torch.IntTensor")   # integers stay in Lua
        assert relu_calls() == 0, ctor
    assert x.dtype == np.float32
    run("nn.Threshold(0.5, 0)", 40000, "torch.DoubleTensor")   # val ~= threshold: no kernel
    assert relu_calls() == 0
    nnlua.execute("nn.kernels.thresholds.threshold_max = 10")
    run("nn.ReLU()", 10, "torch.DoubleTensor")
    assert relu_calls() == 1

    linear_calls = nnlua.eval(COUNTING)("linear")
    fwd = nnlua.eval("function(rows, nIn, nOut) return nn.Linear(nIn, nOut):forward(torch.randn(rows, nIn)) end")
    fwd(16, 16, 16)            # 4096 multiply-adds
    assert linear_calls() == 1
    fwd(15, 16, 17)            # 4080
    assert linear_calls() == 0
    with pytest.raises(st.LuaError, match=r"<nn.kernels> no threshold for op conv2d"):
        nnlua.eval("nn.kernels.faster('conv2d', torch.zeros(1), 10)")


def test_both_sides_of_a_threshold_agree(nnlua):
    f = nnlua.eval("""function(x, W, b)
        local m = nn.Sequential():add(nn.Linear(96, 48)):add(nn.ReLU())
        m.modules[1].weight:copy(W); m.modules[1].bias:copy(b)
        local viaNumpy = m:forward(x):clone()
        local saved = {}
        for op, v in pairs(nn.kernels.thresholds) do saved[op] = v; nn.kernels.thresholds[op] = math.huge end
        local viaLua = m:forward(x):clone()
        for op, v in pairs(saved) do nn.kernels.thresholds[op] = v end
        return viaNumpy, viaLua
    end""")
    r = np.random.default_rng(3)
    a, b = f(r.standard_normal((700, 96)), r.standard_normal((48, 96)), r.standard_normal(48))
    assert a.shape == (700, 48) and (a == 0).any() and (a > 0).any()
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- the output helper
def test_output_helper_reuses_fits_and_never_returns_its_input(nnlua):
    f = nnlua.eval("""function()
        local K, owner, x = nn.kernels, {}, torch.randn(2, 3)
        local a = K.output(owner, x)
        local same = K.output(owner, x, {3, 2}) == a and owner.output == a
        local sizes = a:size():totable()
        local b = K.output(owner, x, torch.LongStorage({4}), 'gradInput')
        owner.output = x                         -- an in-place module's output is its input
        local c = K.output(owner, x)
        owner.output = torch.randn(3, 4):t()     -- not contiguous
        local d = K.output(owner, x)
        local e = K.output(owner, x:float())     -- another type
        return same, sizes, b:dim(), b:size(1), owner.gradInput == b, c ~= x, c:isSameSizeAs(x),
               d:isContiguous(), torch.type(e), owner.output == e
    end""")
    same, sizes, bdim, bsize, kept, not_input, sized, contiguous, tname, stored = f()
    assert same and list(sizes.values()) == [3, 2]
    assert (bdim, bsize, kept) == (1, 4, True)
    assert not_input and sized and contiguous and stored and tname == "torch.FloatTensor"


# ---------------------------------------------------------------- one manifest per package
@pytest.mark.parametrize("package,missing,classname", [
    ("nn", "nn/SpatialConvolution.lua", "nn.SpatialConvolution"),   # listed by the old second manifest
    ("nn", "nn/Linear.lua", "nn.Linear"),
    ("nn", "nn/kernels.lua", "nn.kernels"),
    ("cudnn", "cudnn/SpatialMaxPooling.lua", "cudnn.SpatialMaxPooling"),
    ("torch", "torch/Timer.lua", "torch.Timer"),                      # probed for, before
    ("torch", "torch/serialization.lua", "torch.serialization"),
])
def test_a_missing_file_fails_require_naming_it(tmp_path, package, missing, classname):
    root = copy_tree(tmp_path)
    (root / missing).unlink()
    state = state_on(root)
    try:
        with pytest.raises(st.LuaError) as info:
            state.execute(f"require '{package}'")
        assert f"module '{classname}' not found" in str(info.value)
    finally:
        state.close()
    # the intact copy loads (so the failure above is the missing file's)
    shutil.copy(LUA / missing, root / missing)
    state = state_on(root)
    try:
        state.execute(f"require '{package}'")
        assert state.eval(f"package.loaded['{classname}'] ~= nil")
    finally:
        state.close()
