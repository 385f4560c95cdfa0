"""Real Torch7 files: the GPU-saved MNIST MLP, nngraph files, load_model, cudnn."""
import os

import numpy as np
import pytest

import sparktorch7 as st

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "fixtures", "t7")
if not os.path.isdir(FIXTURES):
    FIXTURES = "/work/shared/fixtures/t7"
MNIST = os.path.join(FIXTURES, "models", "mnist_mlp_cuda.t7")
GMODULE = os.path.join(FIXTURES, "torchfile", "gmodule_with_linear_identity.t7")
NODE = os.path.join(FIXTURES, "torchfile", "nngraph_node.t7")

MNIST_PRINTOUT = """nn.Sequential {
  [input -> (1) -> (2) -> (3) -> (4) -> (5) -> (6) -> (7) -> output]
  (1): nn.View(784)
  (2): nn.Linear(784 -> 64)
  (3): nn.ReLU
  (4): nn.Linear(64 -> 128)
  (5): nn.ReLU
  (6): nn.Linear(128 -> 10)
  (7): nn.LogSoftMax
}"""


@pytest.fixture
def nnlua():
    state = st.LuaState()
    state.execute("require 'nn'; require 'nngraph'; require 'cudnn'")
    yield state
    state.close()


@pytest.fixture
def mnist(nnlua):
    return nnlua.eval(f"torch.load({MNIST!r})")


def test_mnist_loads_as_cpu_float_modules(nnlua, mnist):
    assert str(mnist) == MNIST_PRINTOUT
    types = nnlua.eval("""function(m)
        local t = {}
        for i, mod in ipairs(m.modules) do t[i] = torch.type(mod.output) end
        return t, torch.type(m.modules[2].weight), m:type()
    end""")(mnist)
    assert set(types[0].values()) == {"torch.FloatTensor"}
    assert types[1] == "torch.FloatTensor"
    assert types[2] == "torch.FloatTensor"


def test_mnist_each_module_reproduces_the_saved_outputs(nnlua, mnist):
    # module i's saved output fed to module i+1 gives module i+1's saved output
    saved = nnlua.eval("""function(m)
        local outs = {}
        for i, mod in ipairs(m.modules) do outs[i] = mod.output:clone() end
        return outs
    end""")(mnist)
    step = nnlua.eval("function(m, i, x) return m.modules[i]:forward(x):clone() end")
    for i in range(2, 8):
        mine = step(mnist, i, saved[i - 1])
        assert mine.shape == saved[i].shape
        assert mine.dtype == np.float32
        # float32 GPU results: cuBLAS sums in another order
        np.testing.assert_allclose(mine, saved[i], rtol=1e-5, atol=5e-5, err_msg=f"module {i}")
        if i in (3, 5):
            np.testing.assert_array_equal(mine, saved[i], err_msg=f"ReLU module {i} is exact")


def test_mnist_full_forward(nnlua, mnist):
    f = nnlua.eval("""function(m)
        -- the View's saved output is the flattened input of the whole model
        local x = m.modules[1].output:clone():view(128, 28, 28)
        local expected = m.modules[7].output:clone()
        local y = m:forward(x)
        return y:clone(), expected
    end""")
    out, expected = f(mnist)
    assert out.shape == (128, 10)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)
    # log-probabilities
    np.testing.assert_allclose(np.exp(out).sum(1), 1, rtol=1e-5)


def test_mnist_matches_numpy(nnlua, mnist):
    get = nnlua.eval("""function(m)
        return m.modules[1].output:clone(), m.modules[2].weight, m.modules[2].bias,
               m.modules[4].weight, m.modules[4].bias, m.modules[6].weight, m.modules[6].bias
    end""")
    x, W1, b1, W2, b2, W3, b3 = [np.asarray(a, np.float64) for a in get(mnist)]
    h = np.maximum(x @ W1.T + b1, 0)
    h = np.maximum(h @ W2.T + b2, 0)
    z = h @ W3.T + b3
    ref = z - np.log(np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True)) - z.max(1, keepdims=True)
    out = nnlua.eval("function(m, x) return m:forward(x):clone() end")(mnist, x.astype(np.float32))
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)


def test_load_model(tmp_path):
    model = st.load_model(MNIST)
    assert repr(model) == MNIST_PRINTOUT
    assert model.dtype == np.float32
    x = np.random.default_rng(0).random((5, 28, 28))
    out = model.forward(x)
    assert isinstance(out, np.ndarray) and out.shape == (5, 10) and out.dtype == np.float32
    # outputs are the caller's: the next forward does not overwrite them
    out2 = model.forward(x[:2])
    assert out.shape == (5, 10)
    np.testing.assert_allclose(out[:2], out2, rtol=1e-5, atol=1e-6)
    # evaluation mode is set
    assert model.state.eval("function(m) return m.train end")(model.module) is False
    model.double()
    assert model.dtype == np.float64
    out64 = model.forward(x)
    assert out64.dtype == np.float64
    np.testing.assert_allclose(out64, out, rtol=1e-4, atol=1e-4)
    model.float()
    assert model.forward(x).dtype == np.float32
    single = model.forward(x[0].reshape(784))
    assert single.shape == (10,)


def test_gmodule_fixture_runs(nnlua):
    g = nnlua.eval(f"torch.load({GMODULE!r})")
    assert str(g) == "nn.gModule"
    # mod = nn.gModule({a, b}, {nn.CAddTable(){b, c}}), c = nn.Linear(1, 2)(a)
    f = nnlua.eval("""function(g, a, b)
        local lin
        for _, m in ipairs(g.modules) do if torch.type(m) == 'nn.Linear' then lin = m end end
        local y = g:forward({a, b})
        return y:clone(), lin.weight:clone(), lin.bias:clone()
    end""")
    a = np.array([[0.5], [-2.0], [3.0]])
    b = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    y, W, bias = f(g, a, b)
    np.testing.assert_allclose(y, b + a @ W.T + bias)


def test_nngraph_node_fixture(nnlua):
    node = nnlua.eval(f"torch.load({NODE!r})")
    assert nnlua.eval("torch.typename")(node) == "nngraph.Node"
    assert nnlua.eval("function(n) return n.data.annotations.hello end")(node) == 123


def test_gmodule_fixture_through_load_model():
    model = st.load_model(GMODULE)
    a = np.array([[1.0]])
    b = np.array([[2.0, 3.0]])
    out = model.forward([a, b])
    assert out.shape == (1, 2)


def test_user_class_defined_before_loading(tmp_path, nnlua):
    path = str(tmp_path / "custom.t7")
    nnlua.execute(f"""
        local Twice, parent = torch.class('nn.Twice', 'nn.Module')
        function Twice:updateOutput(input)
           self.output:resizeAs(input):copy(input):mul(2)
           return self.output
        end
        torch.save({path!r}, nn.Sequential():add(nn.Twice()):add(nn.Tanh()))
    """)
    other = st.LuaState()
    other.execute("""require 'nn'
        local Twice, parent = torch.class('nn.Twice', 'nn.Module')
        function Twice:updateOutput(input)
           self.output = input * 2
           return self.output
        end""")
    model = st.load_model(path, state=other)
    x = np.array([0.1, -0.3, 0.7])
    np.testing.assert_allclose(model.forward(x), np.tanh(2 * x))


def test_unknown_class_is_a_clear_error(tmp_path, nnlua):
    path = str(tmp_path / "custom.t7")
    nnlua.execute(f"""
        local Mystery = torch.class('nn.Mystery', 'nn.Module')
        torch.save({path!r}, nn.Sequential():add(nn.Mystery()))
    """)
    with pytest.raises(st.LuaError, match="nn.Mystery"):
        st.load_model(path)


def test_save_and_load_round_trip_keeps_outputs(tmp_path, nnlua):
    path = str(tmp_path / "m.t7")
    f = nnlua.eval(f"""function(x)
        local m = nn.Sequential():add(nn.Linear(4, 3)):add(nn.ReLU()):add(nn.Linear(3, 2)):add(nn.SoftMax())
        local y = m:forward(x):clone()
        torch.save({path!r}, m)
        return y
    end""")
    x = np.random.default_rng(1).standard_normal((6, 4))
    expected = f(x)
    model = st.load_model(path)
    np.testing.assert_allclose(model.forward(x), expected, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cudnn_modules_run_and_convert(nnlua, dtype):
    f = nnlua.eval("""function(x)
        local m = nn.Sequential()
        m:add(cudnn.ReLU()):add(cudnn.Tanh()):add(cudnn.Sigmoid())
         :add(cudnn.ClippedReLU(0.6)):add(cudnn.SoftMax()):add(cudnn.LogSoftMax())
        local y1 = m:forward(x):clone()
        local n = cudnn.convert(m, nn)
        local names = {}
        for i, mod in ipairs(n.modules) do names[i] = torch.type(mod) end
        local y2 = n:forward(x):clone()
        return y1, y2, names
    end""")
    x = np.random.default_rng(2).standard_normal((4, 5)).astype(dtype)
    y1, y2, names = f(x)
    assert y1.dtype == dtype and y2.dtype == dtype
    x = x.astype(np.float64)
    h = np.clip(1 / (1 + np.exp(-np.tanh(np.maximum(x, 0)))), 0, 0.6)
    e = np.exp(h - h.max(1, keepdims=True))
    s = e / e.sum(1, keepdims=True)
    ref = s - np.log(np.exp(s).sum(1, keepdims=True))
    rtol = 1e-5 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(y1, ref, rtol=rtol)
    np.testing.assert_allclose(y2, ref, rtol=rtol)
    single = nnlua.eval("function(x) return cudnn.LogSoftMax():forward(cudnn.ReLU():forward(x)) end")(x[0].astype(dtype))
    r0 = np.maximum(x[0], 0)
    np.testing.assert_allclose(single, r0 - np.log(np.exp(r0).sum()), rtol=rtol, atol=1e-6)
    assert list(names.values()) == ["nn.ReLU", "nn.Tanh", "nn.Sigmoid", "nn.HardTanh", "nn.SoftMax", "nn.LogSoftMax"]


def test_cudnn_softmax_instance_and_channel_modes(nnlua):
    x = np.random.default_rng(3).standard_normal((2, 3, 4, 5))
    inst = nnlua.eval("function(x) return cudnn.SoftMax():forward(x) end")(x)
    flat = x.reshape(2, -1)
    e = np.exp(flat - flat.max(1, keepdims=True))
    np.testing.assert_allclose(inst, (e / e.sum(1, keepdims=True)).reshape(x.shape), rtol=1e-10)
    chan = nnlua.eval("""function(x) local m = cudnn.LogSoftMax(); m.mode = 'CUDNN_SOFTMAX_MODE_CHANNEL'
                         return m:forward(x) end""")(x)
    e = np.exp(x - x.max(1, keepdims=True))
    np.testing.assert_allclose(chan, np.log(e / e.sum(1, keepdims=True)), rtol=1e-10, atol=1e-12)


def test_cudnn_batch_normalization(nnlua):
    r = np.random.default_rng(4)
    x, mean, var, w, b = r.standard_normal((5, 3)), r.standard_normal(3), r.uniform(1, 2, 3), r.standard_normal(3), r.standard_normal(3)
    f = nnlua.eval("""function(x, mean, var, w, b)
        local m = cudnn.BatchNormalization(3)
        m.running_mean, m.running_var, m.weight, m.bias = mean, var, w, b
        m:evaluate()
        local y = m:forward(x):clone()
        local n = cudnn.convert(m, nn)
        return y, n:forward(x):clone(), torch.type(n)
    end""")
    y, y2, name = f(x, mean, var, w, b)
    ref = (x - mean) / np.sqrt(var + 1e-5) * w + b
    np.testing.assert_allclose(y, ref, rtol=1e-10)
    np.testing.assert_allclose(y2, ref, rtol=1e-10)
    assert name == "nn.BatchNormalization"


def test_data_parallel_table_gives_its_module(tmp_path, nnlua):
    path = str(tmp_path / "dpt.t7")
    nnlua.execute(f"""require 'cunn'
        local inner = nn.Sequential():add(nn.Linear(3, 2)):add(nn.Tanh())
        local dpt = nn.DataParallelTable(1):add(inner, {{1, 2}})
        torch.save({path!r}, dpt)
    """)
    model = st.load_model(path)
    assert repr(model).startswith("nn.Sequential {")
    assert model.forward(np.ones((4, 3))).shape == (4, 2)
    f = nnlua.eval(f"""function(x)
        local dpt = torch.load({path!r})
        return dpt:forward(x), tostring(dpt), #dpt.gpuAssignments, torch.type(dpt.impl)
    end""")
    y, printed, ngpus, impl = f(np.ones((4, 3)))
    assert y.shape == (4, 2)
    assert printed.startswith("DataParallelTable: 2 x nn.Sequential {")
    assert ngpus == 2 and impl == "nn.DataParallelTable.Basic"


def test_data_parallel_table_file_layout_of_cunn(tmp_path, nnlua):
    # cunn writes version 3: "V 3", the class, the GPU assignments, then the fields
    path = str(tmp_path / "dpt.t7")
    nnlua.execute(f"torch.save({path!r}, nn.DataParallelTable(1):add(nn.Tanh(), {{1, 2, 3}}))")
    with open(path, "rb") as f:
        data = f.read()
    assert b"V 3" in data[:40] and b"nn.DataParallelTable" in data[:60]
    assert b"nn.DataParallelTable.Basic" in data


def test_requires_of_gpu_packages_succeed(nnlua):
    nnlua.execute("require 'cutorch'; require 'cunn'; require 'cudnn'")
    assert nnlua.eval("cutorch.getDeviceCount()") == 0
    assert nnlua.eval("torch.type(nn.Linear(2, 3):cuda().weight)") == "torch.FloatTensor"


def test_batch_normalization_version_1_file(tmp_path, nnlua):
    # Torch7 before BatchNormalization version 2 saved running_std = 1/sqrt(var + eps)
    path = str(tmp_path / "bn1.t7")
    std = np.array([0.5, 1.0, 2.0])
    nnlua.eval(f"""function(std)
        local bn = nn.BatchNormalization(3)
        bn.running_var = nil
        bn.running_std = std
        bn:evaluate()
        local saved = nn.BatchNormalization.__version
        nn.BatchNormalization.__version = 1
        torch.save({path!r}, bn)
        nn.BatchNormalization.__version = saved
    end""")(std)
    f = nnlua.eval(f"""function(x)
        local bn = torch.load({path!r})
        return bn.running_var, bn.running_std == nil, bn:forward(x), bn.weight, bn.bias
    end""")
    x = np.random.default_rng(5).standard_normal((4, 3))
    var, gone, y, w, b = f(x)
    assert gone
    np.testing.assert_allclose(var, 1 / std ** 2 - 1e-5)
    np.testing.assert_allclose(y, x * std * w + b, rtol=1e-9)


def test_load_model_table_outputs(tmp_path, nnlua):
    path = str(tmp_path / "tables.t7")
    nnlua.execute(f"""torch.save({path!r}, nn.ConcatTable():add(nn.Identity())
        :add(nn.Sequential():add(nn.SplitTable(2)):add(nn.NarrowTable(1, 2))))""")
    model = st.load_model(path)
    x = np.arange(6.0).reshape(2, 3)
    out = model.forward(x)
    assert isinstance(out, list) and len(out) == 2
    np.testing.assert_array_equal(out[0], x)
    assert isinstance(out[1], list) and len(out[1]) == 2
    np.testing.assert_array_equal(out[1][1], x[:, 1])


def test_load_model_from_a_table(tmp_path, nnlua):
    path = str(tmp_path / "checkpoint.t7")
    nnlua.execute(f"torch.save({path!r}, {{model = nn.Sequential():add(nn.Tanh()), epoch = 3}})")
    with pytest.raises(st.LuaError, match=r'holds a table, not an nn module \(it has modules under the keys "model"'):
        st.load_model(path)
    model = st.load_model(path, key="model")
    np.testing.assert_allclose(model.forward(np.array([0.5])), np.tanh([0.5]))


def test_gpu_module_file_in_a_fresh_state(tmp_path, nnlua):
    # a model of cudnn modules saved with float (ex-CUDA) tensors loads where only load_model ran
    path = str(tmp_path / "cudnn.t7")
    nnlua.execute(f"""
        local m = nn.Sequential():add(nn.Linear(4, 3)):add(cudnn.ReLU(true))
            :add(cudnn.BatchNormalization(3)):add(cudnn.LogSoftMax()):cuda()
        m:evaluate()
        torch.save({path!r}, m)
    """)
    model = st.load_model(path)
    assert model.dtype == np.float32
    x = np.random.default_rng(6).standard_normal((5, 4))
    out = model.forward(x)
    assert out.shape == (5, 3) and out.dtype == np.float32
    np.testing.assert_allclose(np.exp(out).sum(1), 1, rtol=1e-5)
    assert "cudnn.ReLU" in repr(model)


def test_load_model_forward_from_threads():
    import threading
    model = st.load_model(MNIST)
    rng = np.random.default_rng(7)
    inputs = [rng.random((n, 784), dtype=np.float32) for n in (3, 5, 7, 11)]
    expected = [model.forward(x) for x in inputs]
    results, errors = {}, []

    def work(i):
        try:
            for _ in range(20):
                out = model.forward(inputs[i])
                if not np.array_equal(out, expected[i]):
                    errors.append(i)
            results[i] = True
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 4
