"""char-rnn (karpathy/char-rnn, unchanged, in ../shared/fixtures/projects) on our runtime:
its sample.lua runs as a script (-gpuid -1) on a real checkpoint, and its protos'
nngraph LSTM forward equals a NumPy LSTM from the checkpoint's weights. Also the two
small packages sample.lua requires that the runtime now ships: lfs (a subset) and
optim (sgd and adam run)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sparktorch7 import LuaError, LuaState, load_model

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT.parent / "shared" / "fixtures"
CHAR_RNN = FIXTURES / "projects" / "char-rnn"
CHECKPOINT = FIXTURES / "wild" / "char-rnn_lm_lstm_epoch0.16.t7"

pytestmark = pytest.mark.skipif(not CHAR_RNN.is_dir() or not CHECKPOINT.is_file(),
                                reason="char-rnn fixtures missing")


def run_sample(args, capfd):
    """char-rnn's sample.lua in a fresh state, its arguments in the global arg table
    as th sets them (th has loaded torch before the script runs); returns its stdout."""
    st = LuaState(lua_path=[CHAR_RNN])
    try:
        script = CHAR_RNN / "sample.lua"
        st.execute("require 'torch'")
        st.execute("arg = {[0] = %r, %s}" % (str(script), ", ".join(repr(str(a)) for a in args)))
        capfd.readouterr()
        st.dofile(script)
        st.execute("io.stdout:flush()")
        return capfd.readouterr().out
    finally:
        st.close()


def test_sample_lua_runs_unchanged(capfd):
    args = [CHECKPOINT, "-gpuid", "-1", "-length", "150", "-primetext", "thy sky ", "-seed", "5"]
    out = run_sample(args, capfd)
    lines = out.split("\n")
    assert lines[0] == "creating an lstm..."
    assert lines[1] == "seeding with thy sky "
    assert lines[2] == "-" * 26
    text = lines[3]
    assert text.startswith("thy sky ")
    assert len(text) == len("thy sky ") + 150
    # deterministic under -seed, different with another seed
    assert run_sample(args, capfd) == out
    other = run_sample(args[:-1] + ["6"], capfd)
    assert other.split("\n")[3] != text
    # argmax sampling draws nothing at random
    greedy = args[:-2] + ["-sample", "0"]
    assert run_sample(greedy + ["-seed", "1"], capfd) == run_sample(greedy + ["-seed", "2"], capfd)


def test_sample_lua_without_primetext(capfd):
    out = run_sample([CHECKPOINT, "-gpuid", "-1", "-length", "40", "-verbose", "0"], capfd)
    assert len(out.rstrip("\n")) == 40


@pytest.fixture
def char_rnn():
    st = LuaState(lua_path=[CHAR_RNN])
    st.execute("require 'nn'\nrequire 'nngraph'\nrequire 'util.OneHot'\n"
               f"checkpoint = torch.load({str(CHECKPOINT)!r})\n"
               "rnn = checkpoint.protos.rnn\nrnn:evaluate()\n"
               "named = {}\n"
               "for _, node in ipairs(rnn.forwardnodes) do\n"
               "  local name = node.data.annotations.name\n"
               "  if name then named[name] = node.data.module end\n"
               "end\n")
    try:
        yield st
    finally:
        st.close()


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def numpy_char_rnn(weights, tokens, n_layers, rnn_size, vocab):
    """char-rnn's model/LSTM.lua: per layer i2h(x) + h2h(prev_h) reshaped (4, H) as
    in, forget, out gates and the transform; log-softmax of the decoder on top."""
    n, t = tokens.shape
    c = [np.zeros((n, rnn_size)) for _ in range(n_layers)]
    h = [np.zeros((n, rnn_size)) for _ in range(n_layers)]
    outs = []
    for step in range(t):
        x = np.eye(vocab)[tokens[:, step] - 1]
        for layer in range(1, n_layers + 1):
            wi, bi = weights[f"i2h_{layer}"]
            wh, bh = weights[f"h2h_{layer}"]
            a = (x @ wi.T + bi + h[layer - 1] @ wh.T + bh).reshape(n, 4, rnn_size)
            ig, fg, og, g = sigmoid(a[:, 0]), sigmoid(a[:, 1]), sigmoid(a[:, 2]), np.tanh(a[:, 3])
            c[layer - 1] = fg * c[layer - 1] + ig * g
            h[layer - 1] = og * np.tanh(c[layer - 1])
            x = h[layer - 1]
        wd, bd = weights["decoder"]
        z = x @ wd.T + bd
        z = z - z.max(axis=1, keepdims=True)
        outs.append(z - np.log(np.exp(z).sum(axis=1, keepdims=True)))
    return outs, c, h


def test_protos_forward_equals_numpy_lstm(char_rnn):
    st = char_rnn
    n_layers, rnn_size = int(st.eval("checkpoint.opt.num_layers")), int(st.eval("checkpoint.opt.rnn_size"))
    vocab = len(st.eval("checkpoint.vocab"))
    assert (n_layers, rnn_size, vocab) == (2, 128, 48)
    st.execute("rnn:double()")
    weights = {name: (st.eval(f"named[{name!r}].weight"), st.eval(f"named[{name!r}].bias"))
               for name in ("i2h_1", "h2h_1", "i2h_2", "h2h_2", "decoder")}
    rng = np.random.default_rng(3)
    tokens = rng.integers(1, vocab + 1, size=(4, 7))
    expected, c_end, h_end = numpy_char_rnn(weights, tokens, n_layers, rnn_size, vocab)
    st["tokens"] = tokens.astype(np.float64)
    st.execute(f"state = {{}} for i = 1, {2 * n_layers} do state[i] = torch.zeros(4, {rnn_size}) end\n"
               "outs = {}\n"
               "for t = 1, tokens:size(2) do\n"
               "  local lst = rnn:forward{tokens[{{}, t}]:clone(), unpack(state)}\n"
               "  state = {} for i = 1, #lst - 1 do state[i] = lst[i]:clone() end\n"
               "  outs[t] = lst[#lst]:clone()\n"
               "end\n")
    outs = st.eval("outs")
    for step in range(tokens.shape[1]):
        np.testing.assert_allclose(outs[step + 1], expected[step], rtol=0, atol=1e-10)
    state = st.eval("state")
    for layer in range(n_layers):
        np.testing.assert_allclose(state[2 * layer + 1], c_end[layer], rtol=0, atol=1e-10)
        np.testing.assert_allclose(state[2 * layer + 2], h_end[layer], rtol=0, atol=1e-10)


def test_load_model_nested_key(char_rnn):
    st = char_rnn
    model = load_model(CHECKPOINT, key="protos.rnn", state=st)
    weights = {name: (st.eval(f"named[{name!r}].weight:double()"), st.eval(f"named[{name!r}].bias:double()"))
               for name in ("i2h_1", "h2h_1", "i2h_2", "h2h_2", "decoder")}
    model.double()
    tokens = np.array([[3], [40]])
    expected, _, _ = numpy_char_rnn(weights, tokens, 2, 128, 48)
    zeros = np.zeros((2, 128))
    out = model.forward([tokens[:, 0].astype(np.float64), zeros, zeros, zeros, zeros])
    assert isinstance(out, list) and len(out) == 5
    np.testing.assert_allclose(out[4], expected[0], rtol=0, atol=1e-10)
    same = load_model(CHECKPOINT, key=("protos", "rnn"), state=st)
    assert same.tensor_type == "torch.DoubleTensor"     # char-rnn saved it in double (-gpuid -1)
    again = same.forward([tokens[:, 0].astype(np.float64), zeros, zeros, zeros, zeros])
    np.testing.assert_allclose(again[4], expected[0], rtol=0, atol=1e-10)


def test_load_model_hint_names_the_nested_key(char_rnn):
    with pytest.raises(LuaError) as e:
        load_model(CHECKPOINT, state=char_rnn)
    assert 'modules under the keys "protos.rnn"' in str(e.value)
    with pytest.raises(LuaError) as e:
        load_model(CHECKPOINT, key="protos.rnnx", state=char_rnn)
    assert 'has no key "protos.rnnx"' in str(e.value) and '"protos.rnn"' in str(e.value)
    with pytest.raises(LuaError) as e:
        load_model(CHECKPOINT, key="opt.rnn_size", state=char_rnn)
    assert "holds a number at key" in str(e.value) and '"protos.rnn"' in str(e.value)
    with pytest.raises(LuaError, match=r"opt\.rnn_size is a number, not a table"):
        load_model(CHECKPOINT, key="opt.rnn_size.x", state=char_rnn)
    with pytest.raises(TypeError, match="str, an int or a sequence"):
        load_model(CHECKPOINT, key=1.5, state=char_rnn)


def test_without_lua_path_onehot_is_unknown():
    with LuaState() as st:
        with pytest.raises(LuaError, match="unknown Torch class <OneHot>"):
            load_model(CHECKPOINT, key="protos.rnn", state=st)


# ---------------------------------------------------------------- lfs and optim
def test_lfs_subset(tmp_path, lua):
    (tmp_path / "f.txt").write_bytes(b"12345")
    (tmp_path / "d").mkdir()
    lua.execute("require 'lfs'")            # sets the global, as LuaFileSystem does
    assert lua.eval(f"lfs.attributes({str(tmp_path / 'f.txt')!r}, 'mode')") == "file"
    assert lua.eval(f"lfs.attributes({str(tmp_path / 'f.txt')!r}).size") == 5
    assert lua.eval(f"lfs.attributes({str(tmp_path / 'd')!r}, 'mode')") == "directory"
    missing = lua.eval(f"{{lfs.attributes({str(tmp_path / 'nope')!r})}}")
    assert 1 not in missing and "No such file or directory" in missing[2]
    names = lua.eval(f"(function() local t = {{}} for n in lfs.dir({str(tmp_path)!r}) do "
                     f"t[#t + 1] = n end table.sort(t) return t end)()")
    assert list(names.values()) == [".", "..", "d", "f.txt"]
    assert lua.eval("lfs.currentdir()") == str(Path.cwd())
    assert lua.eval(f"lfs.mkdir({str(tmp_path / 'new')!r})") is True
    assert (tmp_path / "new").is_dir()
    with pytest.raises(LuaError, match="knows the attributes 'mode' and 'size', not modification"):
        lua.eval(f"lfs.attributes({str(tmp_path)!r}, 'modification')")
    with pytest.raises(LuaError, match=r"not lfs\.lock"):
        lua.eval("lfs.lock")


def test_optim_loads_and_checks_its_opfunc(lua):
    lua.execute("require 'optim'")
    assert lua.eval("type(optim)") == "table"
    with pytest.raises(LuaError, match=r"<optim\.sgd> opfunc must return f\(x\) and a gradient of 1 elements"):
        lua.execute("require 'torch'; optim.sgd(function() end, torch.zeros(1))")
