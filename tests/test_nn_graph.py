"""nngraph: graphs of modules built in Lua, run in topological order."""
import numpy as np
import pytest

import sparktorch7 as st


@pytest.fixture
def nnlua():
    state = st.LuaState()
    state.execute("require 'nngraph'")
    yield state
    state.close()


def rng(seed=0):
    return np.random.default_rng(seed)


def test_linear_chain(nnlua):
    x = rng().standard_normal((5, 3))
    out = nnlua.eval("""function(x)
        local inp = nn.Identity()()
        local h = nn.Tanh()(nn.Linear(3, 4)(inp))
        local out = nn.Linear(4, 2)(h)
        local g = nn.gModule({inp}, {out})
        local l1, l2 = g.modules[2], g.modules[4]
        return g:forward(x), l1.weight, l1.bias, l2.weight, l2.bias, #g.modules
    end""")(x)
    y, W1, b1, W2, b2, n = out
    assert n == 4
    np.testing.assert_allclose(y, np.tanh(x @ W1.T + b1) @ W2.T + b2)


def test_several_inputs_and_outputs(nnlua):
    a, b = rng(1).standard_normal((2, 3)), rng(2).standard_normal((2, 3))
    outs = nnlua.eval("""function(a, b)
        local x1, x2 = nn.Identity()(), nn.Identity()()
        local s = nn.CAddTable()({x1, x2})
        local d = nn.CSubTable()({x1, x2})
        local p = nn.CMulTable()({s, nn.Exp()(d)})
        local g = nn.gModule({x1, x2}, {p, s})
        local y = g:forward({a, b})
        return #y, y[1]:clone(), y[2]:clone()
    end""")(a, b)
    n, p, s = outs
    assert n == 2
    np.testing.assert_allclose(s, a + b)
    np.testing.assert_allclose(p, (a + b) * np.exp(a - b))


def test_split(nnlua):
    x = rng(3).standard_normal((4, 6))
    out = nnlua.eval("""function(x)
        local inp = nn.Identity()()
        local parts = nn.SplitTable(2)(nn.Reshape(2, 3)(inp))
        local a, b = parts:split(2)
        local out = nn.JoinTable(2)({b, nn.MulConstant(10)(a)})
        return nn.gModule({inp}, {out}):forward(x)
    end""")(x)
    r = x.reshape(4, 2, 3)
    np.testing.assert_allclose(out, np.concatenate([r[:, 1], 10 * r[:, 0]], 1))


def test_split_of_one_and_table_input(nnlua):
    x = rng(4).standard_normal(3)
    out = nnlua.eval("""function(x)
        local inp = nn.Identity()()
        local t = nn.ConcatTable():add(nn.Tanh())(inp)
        local only = t:split(1)
        return nn.gModule({inp}, {only}):forward(x)
    end""")(x)
    np.testing.assert_allclose(out, np.tanh(x))


def test_graph_inside_sequential_and_diamond(nnlua):
    x = rng(5).standard_normal((3, 4))
    out = nnlua.eval("""function(x)
        local inp = nn.Identity()()
        local left = nn.Square()(inp)
        local right = nn.Abs()(inp)
        local both = nn.CAddTable()({left, right})
        local g = nn.gModule({inp}, {both})
        return nn.Sequential():add(nn.MulConstant(2)):add(g):add(nn.Sqrt()):forward(x)
    end""")(x)
    np.testing.assert_allclose(out, np.sqrt((2 * x) ** 2 + np.abs(2 * x)))


def test_gmodule_type_and_clone(nnlua):
    x = rng(6).standard_normal((2, 3)).astype(np.float32)
    out = nnlua.eval("""function(x)
        local inp = nn.Identity()()
        local out = nn.Linear(3, 2)(inp)
        local g = nn.gModule({inp}, {out}):float()
        local c = g:clone()
        local y1 = g:forward(x):clone()
        local y2 = c:forward(x):clone()
        return y1, y2, torch.type(g.modules[2].weight)
    end""")(x)
    y1, y2, t = out
    assert t == "torch.FloatTensor" and y1.dtype == np.float32
    np.testing.assert_allclose(y1, y2)


def test_errors(nnlua):
    with pytest.raises(st.LuaError, match="not an nngraph.Node"):
        nnlua.eval("nn.gModule({nn.Identity()}, {nn.Identity()()})")
    with pytest.raises(st.LuaError, match="cannot pass an empty table"):
        nnlua.eval("nn.Linear(2, 2)({})")
    with pytest.raises(st.LuaError, match="expecting a table of 2 inputs"):
        nnlua.eval("""(function()
            local a, b = nn.Identity()(), nn.Identity()()
            return nn.gModule({a, b}, {nn.CAddTable()({a, b})}):forward(torch.zeros(2))
        end)()""")
    with pytest.raises(st.LuaError, match="split\\(3\\) outputs .* are unused"):
        nnlua.eval("""(function()
            local a = nn.Identity()()
            local p, q = nn.SplitTable(1)(a):split(3)
            return nn.gModule({a}, {nn.CAddTable()({p, q})})
        end)()""")


def test_graph_package(nnlua):
    r = nnlua.eval("""(function()
        local n1, n2, n3 = graph.Node(1), graph.Node(2), graph.Node(3)
        local g = graph.Graph()
        g:add(graph.Edge(n1, n2))
        g:add(graph.Edge(n2, n3))
        g:add(graph.Edge(n1, n3))
        local order = {}
        for i, n in ipairs(g:topsort()) do order[i] = n.data end
        local roots, leaves = g:roots(), g:leaves()
        return table.concat(order, ','), roots[1].data, leaves[1].data, #g:reverse().nodes, g:todot('t')
    end)()""")
    assert r[:4] == ("1,2,3", 1, 3, 3)
    assert r[4].startswith('digraph G {') and "n1 -> n2;" in r[4] and r[4].endswith("}")


def test_just_element_and_just_table(nnlua):
    x = np.arange(3.0)
    out = nnlua.eval("""function(x)
        local t = nngraph.JustTable():forward(x)
        return #t, nngraph.JustElement():forward(t)
    end""")(x)
    assert out[0] == 1
    np.testing.assert_array_equal(out[1], x)


def test_annotate_nodes(nnlua):
    names = nnlua.eval("""(function()
        local input = nn.Identity()()
        local hidden = nn.Tanh()(input)
        nngraph.annotateNodes()
        nngraph.setDebug(false)
        local g = nn.gModule({input}, {hidden})
        return hidden.data.annotations.name, input:graphNodeName()
    end)()""")
    assert names[0] == "hidden"
    assert names[1].startswith("input (")


def test_cudnn_convert_inside_a_graph(nnlua):
    nnlua.execute("require 'cudnn'")
    x = rng(7).standard_normal((2, 3))
    out = nnlua.eval("""function(x)
        local inp = nn.Identity()()
        local out = cudnn.Tanh()(cudnn.ReLU()(inp))
        local g = nn.gModule({inp}, {out})
        local y1 = g:forward(x):clone()
        cudnn.convert(g, nn)
        local names = {}
        for i, node in ipairs(g.forwardnodes) do
            if node.data.module then names[#names + 1] = torch.type(node.data.module) end
        end
        return y1, g:forward(x):clone(), table.concat(names, ',')
    end""")(x)
    np.testing.assert_allclose(out[0], np.tanh(np.maximum(x, 0)))
    np.testing.assert_allclose(out[1], out[0])
    assert out[2] == "nn.Identity,nn.ReLU,nn.Tanh"


def test_criterion_node(nnlua):
    x, t = rng(8).standard_normal((4, 3)), rng(9).standard_normal((4, 3))
    loss = nnlua.eval("""function(x, t)
        local pred, target = nn.Identity()(), nn.Identity()()
        local l = nn.MSECriterion()({nn.Tanh()(pred), target})
        local g = nn.gModule({pred, target}, {l})
        return g:forward({x, t})[1], torch.type(g.modules[#g.modules]), nn.MSECriterion()(x, t)
    end""")(x, t)
    assert loss[0] == pytest.approx(((np.tanh(x) - t) ** 2).mean())
    assert loss[1] == "nn.ModuleFromCriterion"   # Torch7's name for nngraph's class
    assert loss[2] == pytest.approx(((x - t) ** 2).mean())
