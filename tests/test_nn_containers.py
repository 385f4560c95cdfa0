"""Containers, the nn.Module API and Torch7's printouts."""
import numpy as np
import pytest

import sparktorch7 as st


@pytest.fixture
def nnlua():
    state = st.LuaState()
    state.execute("require 'nn'")
    yield state
    state.close()


def rng(seed=0):
    return np.random.default_rng(seed)


def test_container_base(nnlua):
    r = nnlua.eval("""(function()
        local c = nn.Container():add(nn.Tanh()):add(nn.ReLU())
        return c:size(), torch.type(c:get(2)), torch.isTypeOf(nn.Sequential(), 'nn.Container')
    end)()""")
    assert r == (2, "nn.ReLU", True)


def test_sequential(nnlua):
    f = nnlua.eval("""function(x)
        local m = nn.Sequential():add(nn.Linear(4, 3)):add(nn.Tanh())
        local lin = m:get(1)
        return m:forward(x):clone(), lin.weight, lin.bias, m:size(), m.output == m.modules[2].output
    end""")
    x = rng().standard_normal((5, 4))
    y, W, b, size, same = f(x)
    np.testing.assert_allclose(y, np.tanh(x @ W.T + b))
    assert size == 2 and same


def test_sequential_insert_remove(nnlua):
    out = nnlua.eval("""(function()
        local m = nn.Sequential():add(nn.Identity()):add(nn.Tanh())
        m:insert(nn.ReLU(), 2)
        m:remove(1)
        return tostring(m)
    end)()""")
    assert out == "nn.Sequential {\n  [input -> (1) -> (2) -> output]\n  (1): nn.ReLU\n  (2): nn.Tanh\n}"


def test_errors_name_the_module_and_container(nnlua):
    with pytest.raises(st.LuaError) as err:
        nnlua.eval("nn.Sequential():add(nn.Identity()):add(nn.Linear(3, 2)):forward(torch.zeros(4))")
    msg = str(err.value)
    assert "In 2 module of nn.Sequential:" in msg
    assert "<nn.Linear> size mismatch: input has 4 features, the module expects 3" in msg


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_concat_depthconcat_parallel(nnlua, dtype):
    x = rng(1).standard_normal((3, 4)).astype(dtype)
    out = nnlua.eval("""function(x)
        local c = nn.Concat(2):add(nn.Identity()):add(nn.MulConstant(2)):add(nn.Narrow(2, 1, 1))
        return c:forward(x)
    end""")(x)
    np.testing.assert_allclose(out, np.concatenate([x, 2 * x, x[:, :1]], 1), rtol=1e-6)
    img = rng(2).standard_normal((2, 3, 5)).astype(dtype)
    out = nnlua.eval("""function(x)
        local c = nn.DepthConcat(1):add(nn.Identity()):add(nn.Narrow(3, 2, 3))
        return c:forward(x)
    end""")(img)
    ref = np.zeros((4, 3, 5), dtype)
    ref[:2] = img
    ref[2:, :, 1:4] = img[:, :, 1:4]
    np.testing.assert_allclose(out, ref)
    out = nnlua.eval("""function(x)
        local p = nn.Parallel(1, 1):add(nn.MulConstant(3)):add(nn.Exp()):add(nn.Identity())
        return p:forward(x)
    end""")(x)
    np.testing.assert_allclose(out, np.concatenate([3 * x[0], np.exp(x[1]), x[2]]), rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_table_containers(nnlua, dtype):
    x = rng(3).standard_normal((2, 3)).astype(dtype)
    outs = nnlua.eval("""function(x)
        local ct = nn.ConcatTable():add(nn.Identity()):add(nn.Exp())
        local pt = nn.ParallelTable():add(nn.Tanh()):add(nn.Abs())
        local mt = nn.MapTable(nn.MulConstant(2))
        local seq = nn.Sequential():add(ct):add(pt):add(nn.CAddTable())
        local y = seq:forward(x):clone()
        local m = mt:forward({x, x, x})
        return y, #m, m[3]:clone(), #mt.modules
    end""")(x)
    y, n, m3, nmods = outs
    assert y.dtype == dtype and m3.dtype == dtype
    np.testing.assert_allclose(y, np.tanh(x) + np.abs(np.exp(x)), rtol=1e-6)
    assert n == 3 and nmods == 3
    np.testing.assert_allclose(m3, 2 * x)


def test_map_table_shares_parameters(nnlua):
    shared = nnlua.eval("""(function()
        local mt = nn.MapTable(nn.Linear(3, 2))
        mt:forward({torch.zeros(3), torch.zeros(3)})
        mt.modules[1].weight:fill(1)
        return mt.modules[2].weight[1][1]
    end)()""")
    assert shared == 1


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bottle(nnlua, dtype):
    x = rng(4).standard_normal((2, 5, 3)).astype(dtype)
    out, W, b = nnlua.eval(f"""function(x)
        local lin = nn.Linear(3, 4):type('{'torch.FloatTensor' if dtype == np.float32 else 'torch.DoubleTensor'}')
        local y = nn.Bottle(lin):forward(x)
        return y, lin.weight, lin.bias
    end""")(x)
    assert out.shape == (2, 5, 4) and out.dtype == dtype
    np.testing.assert_allclose(out, x @ W.T + b, rtol=1e-5, atol=1e-6)
    out = nnlua.eval("function(x) return nn.Bottle(nn.Tanh()):forward(x) end")(x[0])
    np.testing.assert_allclose(out, np.tanh(x[0]))


PRINT_TREE = """nn.Sequential {
  [input -> (1) -> (2) -> (3) -> (4) -> output]
  (1): nn.View(-1, 784)
  (2): nn.ConcatTable {
    input
      |`-> (1): nn.Linear(784 -> 10)
      |`-> (2): nn.Sequential {
      |      [input -> (1) -> (2) -> output]
      |      (1): nn.Linear(784 -> 5) without bias
      |      (2): nn.Dropout(0.500000)
      |    }
       `-> (3): nn.Identity
       ... -> output
  }
  (3): nn.ParallelTable {
    input
      |`-> (1): nn.BatchNormalization (2D) (10)
       `-> (2): nn.ELU (alpha:1.000000)
       ... -> output
  }
  (4): nn.JoinTable
}"""


def test_printout_is_torch7s(nnlua):
    s = nnlua.eval("""tostring(nn.Sequential()
        :add(nn.View(-1, 784))
        :add(nn.ConcatTable():add(nn.Linear(784, 10))
               :add(nn.Sequential():add(nn.Linear(784, 5, false)):add(nn.Dropout()))
               :add(nn.Identity()))
        :add(nn.ParallelTable():add(nn.BatchNormalization(10)):add(nn.ELU()))
        :add(nn.JoinTable(2)))""")
    assert s == PRINT_TREE


def test_printouts_of_single_modules(nnlua):
    cases = {
        "nn.Reshape(3, 4)": "nn.Reshape(3x4)",
        "nn.Normalize(2)": "nn.Normalize(2)",
        "nn.Normalize(1.5)": "nn.Normalize(1.500000)",
        "nn.Bilinear(3, 4, 5)": "nn.Bilinear(3x4 -> 5) ",
        "nn.RReLU()": "nn.RReLU (l:0.125000, u:0.333333, channel-wise:false)",
        "nn.SpatialDropout(0.2)": "nn.SpatialDropout(0.200000)",
        "nn.ReLU()": "nn.ReLU",
        "nn.MapTable(nn.Tanh())": "nn.MapTable {\n  nn.Tanh\n}",
        "nn.Parallel(1, 1):add(nn.Tanh()):add(nn.ReLU())":
            "nn.Parallel {\n  input\n    |`-> (1): nn.Tanh\n    |`-> (2): nn.ReLU\n     ... -> output\n}",
        "nn.Concat(1):add(nn.Tanh())":
            "nn.Concat {\n  input\n     `-> (1): nn.Tanh\n     ... -> output\n}",
    }
    for ctor, expected in cases.items():
        assert nnlua.eval(f"tostring({ctor})") == expected, ctor


def test_type_conversion_keeps_sharing(nnlua):
    r = nnlua.eval("""(function()
        local m = nn.Sequential():add(nn.Linear(3, 2)):add(nn.Linear(2, 2))
        m.modules[2].weight:set(m.modules[1].weight:narrow(2, 1, 2))
        m:float()
        local a, b = m.modules[1].weight, m.modules[2].weight
        a:fill(7)
        return torch.type(a), m:type(), b[1][1], torch.type(m.modules[2].bias), torch.type(m.output)
    end)()""")
    assert r == ("torch.FloatTensor", "torch.FloatTensor", 7, "torch.FloatTensor", "torch.FloatTensor")
    assert nnlua.eval("nn.Linear(2, 2):double():cuda():type()") == "torch.FloatTensor"


def test_float_model_forward(nnlua):
    x = rng(5).standard_normal((3, 4)).astype(np.float32)
    out = nnlua.eval("""function(x)
        local m = nn.Sequential():add(nn.Linear(4, 3)):add(nn.ReLU()):add(nn.Linear(3, 2)):float()
        return m:forward(x), m.modules[1].weight, m.modules[1].bias, m.modules[3].weight, m.modules[3].bias
    end""")(x)
    y, W1, b1, W2, b2 = out
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, np.maximum(x @ W1.T + b1, 0) @ W2.T + b2, rtol=1e-5, atol=1e-6)


def test_parameters_list_find_apply_replace(nnlua):
    r = nnlua.eval("""(function()
        local inner = nn.Sequential():add(nn.Linear(2, 3)):add(nn.Tanh())
        local m = nn.Sequential():add(nn.Linear(4, 2)):add(inner):add(nn.Linear(3, 1, false))
        local params, grads = m:parameters()
        local names = {}
        for i, mod in ipairs(m:listModules()) do names[i] = torch.type(mod) end
        local found, containers = m:findModules('nn.Linear')
        local count = 0
        m:apply(function(mod) count = count + 1 end)
        m:replace(function(mod)
            if torch.type(mod) == 'nn.Tanh' then return nn.Sigmoid() end
            return mod
        end)
        return #params, #grads, table.concat(names, ','), #found, containers[2] == inner,
               count, torch.type(inner:get(2))
    end)()""")
    assert r == (5, 5, "nn.Sequential,nn.Linear,nn.Sequential,nn.Linear,nn.Tanh,nn.Linear",
                 3, True, 6, "nn.Sigmoid")


def test_training_evaluate(nnlua):
    r = nnlua.eval("""(function()
        local m = nn.Sequential():add(nn.Dropout()):add(nn.Concat(1):add(nn.Dropout()))
        m:evaluate()
        local a = m.train == false and m.modules[1].train == false and m.modules[2].modules[1].train == false
        m:training()
        local b = m.train and m.modules[2].modules[1].train
        return a, b
    end)()""")
    assert r == (True, True)


def test_clone_and_share(nnlua):
    r = nnlua.eval("""(function()
        local m = nn.Sequential():add(nn.Linear(3, 2)):add(nn.Tanh())
        local c = m:clone()
        c.modules[1].weight:fill(5)
        local independent = m.modules[1].weight[1][1] ~= 5
        local s = m:clone('weight', 'bias')
        s.modules[1].weight:fill(9)
        local shared = m.modules[1].weight[1][1] == 9
        return independent, shared, torch.type(c), torch.type(c.modules[1].weight), tostring(c)
    end)()""")
    assert r[:4] == (True, True, "nn.Sequential", "torch.DoubleTensor")
    assert r[4].startswith("nn.Sequential {")


def test_clear_state(nnlua):
    r = nnlua.eval("""(function()
        local m = nn.Sequential():add(nn.Linear(3, 2)):add(nn.Tanh())
        local x = torch.zeros(4, 3)
        m:forward(x)
        local before = m.modules[1].output:nElement()
        m:clearState()
        return before, m.modules[1].output:nElement(), m.modules[2].output:nElement(), x:nElement()
    end)()""")
    assert r == (8, 0, 0, 12)


def test_get_parameters_flattens(nnlua):
    r = nnlua.eval("""(function()
        local m = nn.Sequential():add(nn.Linear(3, 2)):add(nn.Linear(2, 4, false))
        local before = m:forward(torch.ones(1, 3)):clone()
        local w = m.modules[1].weight:clone()
        local p, g = m:getParameters()
        local same = (m:forward(torch.ones(1, 3)) - before):abs():max()
        p:fill(0.5)
        return p:nElement(), g:nElement(), same, m.modules[1].weight[2][3], m.modules[2].weight[4][1],
               m.modules[1].bias[1]
    end)()""")
    assert r == (3 * 2 + 2 + 2 * 4, 16, 0, 0.5, 0.5, 0.5)


def test_learning_methods_run(nnlua):
    # Torch7's defaults: a module's gradient methods exist and containers recurse into children
    r = nnlua.eval("""(function()
        local m = nn.Sequential():add(nn.Linear(2, 2))
        m:zeroGradParameters()
        local gi = m:backward(torch.ones(2), torch.ones(2))
        local before = m.modules[1].weight:clone()
        m:updateParameters(1)
        return gi:nElement(), (before - m.modules[1].weight):abs():sum() > 0
    end)()""")
    assert r == (2, True)


def test_call_runs_forward(nnlua):
    x = np.array([-1.0, 1.0])
    np.testing.assert_array_equal(nnlua.eval("function(x) return nn.ReLU()(x) end")(x), [0, 1])


def test_read_hook_repairs_old_files(nnlua):
    # an old nn.Concat kept its output size in self.size, hiding size()
    r = nnlua.eval("""(function()
        local c = nn.Concat(1):add(nn.Identity()):add(nn.Identity())
        c.size = torch.LongStorage({1})
        c.outputSize = nil
        c._type = 'torch.CudaTensor'
        c:backCompatibility()
        return c:size(), c._type, c:forward(torch.ones(2)):nElement()
    end)()""")
    assert r == (2, "torch.FloatTensor", 4)


def test_decorators(nnlua):
    x = rng(6).standard_normal((2, 3))
    out = nnlua.eval("""function(x)
        local d = nn.Decorator(nn.Tanh())
        local dc = nn.DontCast(nn.Linear(3, 2):float(), true)
        local y2 = dc:forward(x)
        nn.Sequential():add(dc):double()
        local inc = nn.Inception(nn.Sequential():add(nn.Abs()))
        return d:forward(x), tostring(d), torch.type(y2), torch.type(dc.modules[1].weight),
               inc:forward(x), tostring(nn.NaN(nn.Tanh(), 7))
    end""")(x)
    y, printed, t2, wt, yi, nanprinted = out
    np.testing.assert_allclose(y, np.tanh(x))
    assert printed == "nn.Decorator @ nn.Tanh"
    assert t2 == "torch.DoubleTensor" and wt == "torch.FloatTensor"
    np.testing.assert_allclose(yi, np.abs(x))
    assert nanprinted == "nn.NaN 7 @ nn.Tanh"
    with pytest.raises(st.LuaError, match=r"<nn.NaN> NaN found in the output of module nn.Log \(id 3\)"):
        nnlua.eval("nn.NaN(nn.Log(), 3):forward(torch.Tensor({-1, 1}))")
