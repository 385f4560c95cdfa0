"""Torch7 serialization: the fixtures real Torch7 wrote, round trips, functions, corrupt files."""
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import sparktorch7 as st
from sparktorch7 import TableKey, TorchObject, load_t7, save_t7


def _fixtures() -> Path:
    here = Path(__file__).resolve()
    for base in (here.parents[2] / "shared", Path("/work/shared")):
        if (base / "fixtures" / "t7").is_dir():
            return base / "fixtures" / "t7"
    pytest.skip("the shared Torch7 fixtures are not available", allow_module_level=True)


T7 = _fixtures()
TF = T7 / "torchfile"
MODELS = T7 / "models"


@pytest.fixture
def lua():
    state = st.LuaState()
    state.execute("require 'torch'")
    yield state
    state.close()


def lua_str(path) -> str:
    return "'" + str(path).replace("\\", "\\\\").replace("'", "\\'") + "'"


# ---------------------------------------------------------------------- fixtures, from Python
def test_hello():
    assert load_t7(TF / "hello=123.t7") == {"hello": 123}


def test_list_and_map_tables():
    assert load_t7(TF / "list_table.t7") == {1: "hello", 2: "world", 3: "third item", 4: 123}
    m1 = load_t7(TF / "map_table1.t7")
    m2 = load_t7(TF / "map_table2.t7")
    assert m1 == {0: "zero", 1: "hello", 2: "world", 3: "third item", 4: 123}
    assert m2 == {1: "hello", 2: "world", 3: "third item", 4: 123, "a": "non number key"}


def test_doubletensor():
    x = load_t7(TF / "doubletensor.t7")
    assert isinstance(x, np.ndarray) and x.dtype == np.float64
    np.testing.assert_array_equal(x, [[1, 2, 3], [4, 5, 6.9]])


def test_floattensor():
    x = load_t7(TF / "floattensor.t7")
    assert x.dtype == np.float32 and x.shape == (2, 3, 4)
    assert abs(float(x.sum()) - 12.97241666913) < 1e-5


def test_ascii_doubletensor():
    x = load_t7(MODELS / "ascii_doubletensor.t7")
    assert x.dtype == np.float64 and x.shape == (5,)
    np.testing.assert_allclose(x[:2], [0.67622879380360246, 0.73758130380883813], rtol=0, atol=0)
    np.testing.assert_array_equal(x, load_t7(MODELS / "ascii_doubletensor.t7", format="ascii"))


def test_custom_class():
    obj = load_t7(TF / "custom_class.t7")
    assert isinstance(obj, TorchObject) and obj.torch_typename == "Blah" and obj == TorchObject("Blah")


def test_recursive_class():
    a = load_t7(TF / "recursive_class.t7")
    assert a.torch_typename == "A"
    assert a["a"] is a


def test_recursive_kv_table():
    t = load_t7(TF / "recursive_kv_table.t7")
    assert len(t) == 1
    (key, value), = t.items()
    assert isinstance(key, TableKey) and key.value is t and value is t
    assert t[TableKey(t)] is t


def test_tds():
    assert load_t7(TF / "tds_hash.t7") == {1: 2, 2: 3, 10: 11}
    assert load_t7(TF / "tds_vec.t7") == {1: 123, 2: 456}


def test_nngraph_node():
    node = load_t7(TF / "nngraph_node.t7")
    assert node.torch_typename == "nngraph.Node"
    assert node["data"]["annotations"]["hello"] == 123


def test_gmodule():
    g = load_t7(TF / "gmodule_with_linear_identity.t7")
    assert g.torch_typename == "nn.gModule"
    kinds = {m.torch_typename for m in g["modules"].values()}
    assert {"nn.Identity", "nn.Linear"} <= kinds
    assert all(n.torch_typename == "nngraph.Node" for n in g["forwardnodes"].values())


def test_functions_are_inert_by_default():
    for name in ("function.t7", "function_upvals.t7"):
        f = load_t7(TF / name)
        assert f.torch_typename == "torch.SerializedFunction"
        assert isinstance(f["bytecode"], bytes) and f["bytecode"].startswith(b"\x1bLJ")
    up = load_t7(TF / "function_upvals.t7")["upvalues"]
    assert up == {1: {"name": "asdf", "value": 123}}


def test_functions_of_luajit20_fail_cleanly_when_allowed():
    # these fixtures hold LuaJIT 2.0 bytecode, which LuaJIT 2.1 refuses: a clear error
    for name in ("function.t7", "function_upvals.t7"):
        with pytest.raises(st.LuaError, match="cannot load the Lua function stored at byte offset 0 .*incompatible bytecode"):
            load_t7(TF / name, allow_functions=True)


def test_mnist_cuda_model():
    m = load_t7(MODELS / "mnist_mlp_cuda.t7")
    assert m.torch_typename == "nn.Sequential"
    mods = [m["modules"][i] for i in range(1, 8)]
    assert [x.torch_typename for x in mods] == [
        "nn.View", "nn.Linear", "nn.ReLU", "nn.Linear", "nn.ReLU", "nn.Linear", "nn.LogSoftMax"]
    shapes = [(mods[i]["weight"].shape, mods[i]["bias"].shape) for i in (1, 3, 5)]
    assert shapes == [((64, 784), (64,)), ((128, 64), (128,)), ((10, 128), (10,))]
    for i in (1, 3, 5):
        assert mods[i]["weight"].dtype == np.float32      # CudaTensor -> FloatTensor
    # the saved outputs chain: Linear(ReLU output) reproduces the next output
    h = mods[2]["output"]
    lin = mods[3]
    np.testing.assert_allclose(h @ lin["weight"].T + lin["bias"], lin["output"], rtol=1e-4, atol=1e-4)
    # log-softmax rows sum to 1 in probability
    np.testing.assert_allclose(np.exp(mods[6]["output"]).sum(axis=1), 1, rtol=1e-4)


# ---------------------------------------------------------------------- fixtures, from Lua
def test_torch_load_tensor_in_lua(lua):
    lua.execute(f"x = torch.load({lua_str(TF / 'doubletensor.t7')})")
    assert lua.eval("torch.typename(x)") == "torch.DoubleTensor"
    assert lua.eval("x:size(1) * 10 + x:size(2)") == 23
    assert lua.eval("x[2][3]") == 6.9
    np.testing.assert_array_equal(lua.eval("x"), [[1, 2, 3], [4, 5, 6.9]])


def test_torch_load_unknown_class_is_a_clear_error(lua):
    with pytest.raises(st.LuaError) as e:
        lua.execute(f"torch.load({lua_str(TF / 'custom_class.t7')})")
    msg = str(e.value)
    assert "unknown Torch class <Blah>" in msg and "torch.class('Blah')" in msg
    # once the class exists, it loads as an instance of it
    lua.execute(f"torch.class('Blah'); b = torch.load({lua_str(TF / 'custom_class.t7')})")
    assert lua.eval("torch.typename(b)") == "Blah"
    assert lua.eval("torch.isTypeOf(b, 'Blah')") is True


def test_torch_load_unknown_classes_as_tables(lua):
    lua.execute(f"m = torch.load({lua_str(MODELS / 'mnist_mlp_cuda.t7')}, nil, {{unknown_classes='table'}})")
    assert lua.eval("torch.typename(m)") == "nn.Sequential"
    assert lua.eval("torch.typename(m.modules[2].weight)") == "torch.FloatTensor"
    assert lua.eval("m.modules[2].weight:size(2)") == 784
    # weights of all the Linear layers share one flat storage (getParameters)
    assert lua.eval("m.modules[2].weight:storage() == m.modules[4].bias:storage()") is True


def test_recursion_in_lua(lua):
    lua.execute(f"torch.class('A'); a = torch.load({lua_str(TF / 'recursive_class.t7')})")
    assert lua.eval("a.a == a") is True
    lua.execute(f"t = torch.load({lua_str(TF / 'recursive_kv_table.t7')})")
    assert lua.eval("t[t] == t") is True


def test_tds_in_lua(lua):
    lua.execute(f"h = torch.load({lua_str(TF / 'tds_hash.t7')})")
    assert lua.eval("getmetatable(h) == nil and h[1] == 2 and h[10] == 11 and h[2] == 3") is True


def test_inert_function_raises_when_called(lua):
    lua.execute(f"f = torch.load({lua_str(TF / 'function.t7')})")
    assert lua.eval("torch.typename(f)") == "torch.SerializedFunction"
    with pytest.raises(st.LuaError, match="inert.*allow_functions=true"):
        lua.execute("f(1, 2)")


@pytest.mark.parametrize("name", ["hello=123", "doubletensor", "list_table", "floattensor",
                                  "custom_class", "recursive_class", "recursive_kv_table"])
def test_rewrite_is_byte_identical(lua, name):
    """Our writer produces exactly the bytes real Torch7 wrote."""
    orig = (TF / f"{name}.t7").read_bytes()
    lua.execute("torch.class('Blah'); torch.class('A')")
    lua.execute(f"obj = torch.load({lua_str(TF / (name + '.t7'))})")
    assert lua_bytes(lua, "torch.serialize(obj)") == orig


def lua_bytes(lua, expr):
    lua.execute(f"_bytes = {expr}")
    hexs = lua.eval("(_bytes:gsub('.', function(c) return string.format('%02x', c:byte()) end))")
    return bytes.fromhex(hexs)


def test_ascii_rewrite_is_byte_identical(lua):
    orig = (MODELS / "ascii_doubletensor.t7").read_bytes()
    lua.execute(f"x = torch.load({lua_str(MODELS / 'ascii_doubletensor.t7')}, 'ascii')")
    assert lua_bytes(lua, "torch.serialize(x, 'ascii')") == orig


# ---------------------------------------------------------------------- round trips (Lua)
@pytest.mark.parametrize("mode", ["binary", "ascii", "b32", "b64"])
def test_lua_save_load_round_trip(lua, tmp_path, mode):
    path = tmp_path / f"x_{mode}.t7"
    lua.execute(textwrap.dedent(f"""
        local s = torch.DoubleStorage({{1.5, -2, 1e300, 0}})
        x = {{
          num = 3.25, neg = -7, str = 'bytes\\0and\\255', yes = true, no = false,
          list = {{10, 20, 30}},
          d = torch.DoubleTensor(s, 1, torch.LongStorage({{2, 2}})),
          f = torch.FloatTensor({{{{1, 2, 3}}, {{4, 5, 6}}}}),
          l = torch.LongTensor({{-3, {'2^30' if mode == 'b32' else '2^40'}, 7}}),
          b = torch.ByteTensor({{0, 255}}), c = torch.CharTensor({{-128, 127}}),
          sh = torch.ShortTensor({{-32768, 32767}}), i = torch.IntTensor({{-2^31, 2^31 - 1}}),
          st = s, empty = torch.FloatTensor(),
        }}
        x.same = x.f
        x.view = x.f:select(1, 2)
        x.self = x
        torch.save({lua_str(path)}, x, '{mode}')
        y = torch.load({lua_str(path)}, '{mode}')
    """))
    assert lua.eval("y.self == y and y.same == y.f") is True
    assert lua.eval("y.view:storage() == y.f:storage() and y.d:storage() == y.st") is True
    assert lua.eval("y.str == x.str and y.yes == true and y.no == false and y.num == 3.25") is True
    assert lua.eval("y.list[3] == 30 and #y.list == 3") is True
    np.testing.assert_array_equal(lua.eval("y.f"), [[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(lua.eval("y.view"), [4, 5, 6])
    np.testing.assert_array_equal(lua.eval("y.d"), [[1.5, -2], [1e300, 0]])
    for k in ("b", "c", "sh", "i", "l"):
        np.testing.assert_array_equal(lua.eval(f"y.{k}"), lua.eval(f"x.{k}"))
        assert lua.eval(f"torch.typename(y.{k}) == torch.typename(x.{k})") is True
    assert lua.eval("y.empty:dim()") == 0


def test_serialize_to_storage(lua):
    lua.execute("""
        s = torch.serializeToStorage({a = torch.FloatTensor({1, 2})}, 'ascii')
        r = torch.deserializeFromStorage(s, 'ascii')
    """)
    assert lua.eval("torch.typename(s)") == "torch.CharStorage"
    # exactly the serialized bytes: Torch7 drops the MemoryFile's trailing '\\0'
    assert lua.eval("s:size() == #torch.serialize({a = torch.FloatTensor({1, 2})}, 'ascii')") is True
    assert lua.eval("s:string() == torch.serialize({a = torch.FloatTensor({1, 2})}, 'ascii')") is True
    assert lua.eval("r.a").tolist() == [1, 2]


def test_bad_modes(lua):
    with pytest.raises(st.LuaError, match="mode must be 'binary', 'ascii', 'b32' or 'b64', got json"):
        lua.execute("torch.load('x.t7', 'json')")
    with pytest.raises(st.LuaError, match="third argument must be a boolean"):
        lua.execute("torch.deserialize('', nil, 'yes')")
    with pytest.raises(st.LuaError, match="unknown_classes must be 'error' or 'table'"):
        lua.execute("torch.MemoryFile():serializationOptions({unknown_classes = 'skip'})")


def test_b32_long_overflow_is_an_error(lua, tmp_path):
    with pytest.raises(st.LuaError, match="does not fit the 4-byte longs"):
        lua.execute(f"torch.save({lua_str(tmp_path / 'x.t7')}, torch.LongTensor({{2^40}}), 'b32')")


def test_b32_long_storage_at_the_end(lua, tmp_path):
    # the size check of a LongStorage must use the file's 4-byte longs
    path = tmp_path / "l.t7"
    lua.execute(f"torch.save({lua_str(path)}, torch.LongStorage({{1, 2, 3}}), 'b32')")
    lua.execute(f"l = torch.load({lua_str(path)}, 'b32')")
    assert lua.eval("l").tolist() == [1, 2, 3]
    assert load_t7(path).tolist() == [1, 2, 3]


def test_b32_is_detected(lua, tmp_path):
    path = tmp_path / "x.t7"
    lua.execute(f"torch.save({lua_str(path)}, {{t = torch.FloatTensor({{1, 2}}), n = 3}}, 'b32')")
    out = load_t7(path)
    assert out["n"] == 3 and out["t"].tolist() == [1, 2]
    assert load_t7(path, format="b32")["n"] == 3


def test_referenced_false_writes_copies(lua):
    lua.execute("t = {1, 2}; s = torch.serialize({a = t, b = t})")
    lua.execute("r = torch.deserialize(s)")
    assert lua.eval("r.a == r.b") is True
    lua.execute("""
        local f = torch.MemoryFile():binary()
        f:referenced(false)
        f:writeObject({a = t, b = t})
        f:seek(1)
        r2 = f:readObject()
    """)
    assert lua.eval("r2.a ~= r2.b and r2.a[2] == 2") is True


def test_custom_read_write_hooks(lua):
    lua.execute(textwrap.dedent("""
        local P = torch.class('test.Point')
        function P:__init(x, y) self.x, self.y = x, y end
        function P:write(f) f:writeDouble(self.x); f:writeDouble(self.y) end
        function P:read(f, version) self.x = f:readDouble(); self.y = f:readDouble(); self.version = version end
        p = test.Point(1.5, -2)
        s = torch.serialize({p, p})
        q = torch.deserialize(s)
    """))
    assert lua.eval("q[1] == q[2] and q[1].x == 1.5 and q[1].y == -2 and q[1].version == 1") is True
    assert lua.eval("torch.typename(q[1])") == "test.Point"


def test_pre_versioning_class_form(lua):
    # a torch object written before class versions existed: no "V n" string
    lua.execute(textwrap.dedent("""
        torch.class('Old')
        local f = torch.MemoryFile():binary()
        f:writeInt(4); f:writeInt(1)
        f:writeInt(3); f:writeChar('Old')
        -- its fields: a table (index 2) {v = 5}
        f:writeInt(3); f:writeInt(2); f:writeInt(1)
        f:writeObject('v'); f:writeObject(5)
        o = torch.deserialize(f:_string())
    """))
    assert lua.eval("torch.typename(o) == 'Old' and o.v == 5") is True


def test_cuda_half_storage_loads_as_float(lua):
    lua.execute(textwrap.dedent("""
        local f = torch.MemoryFile():binary()
        f:writeInt(4); f:writeInt(1)
        f:writeInt(3); f:writeChar('V 1')
        local name = 'torch.CudaHalfStorage'
        f:writeInt(#name); f:writeChar(name)
        f:writeLong(4)
        -- 1.0, -2.0, 0.5, 65504 as IEEE half floats
        f:writeShort(torch.ShortStorage({0x3C00, -16384, 0x3800, 0x7BFF}))
        h = torch.deserialize(f:_string())
    """))
    assert lua.eval("torch.typename(h)") == "torch.FloatStorage"
    np.testing.assert_array_equal(lua.eval("h"), [1.0, -2.0, 0.5, 65504.0])


@pytest.mark.parametrize("name,cpu", [("torch.CudaTensor", "Float"), ("torch.CudaDoubleTensor", "Double"),
                                      ("torch.CudaLongTensor", "Long"), ("torch.CudaByteTensor", "Byte")])
def test_cuda_tensor_names_map_to_cpu(lua, name, cpu):
    sname = name.replace("Tensor", "Storage")
    lua.execute(textwrap.dedent(f"""
        local x = torch.{cpu}Tensor({{1, 2, 3}})
        local s = torch.serialize(x)
        s = s:gsub('torch.{cpu}Tensor', '{name}', 1):gsub('torch.{cpu}Storage', '{sname}', 1)
        -- fix the two name lengths (the int32 just before each name)
        local function fix(str, old, new)
          local at = str:find(new, 1, true)
          return str:sub(1, at - 5) .. string.char(#new, 0, 0, 0) .. str:sub(at)
        end
        s = fix(fix(s, 'torch.{cpu}Tensor', '{name}'), 'torch.{cpu}Storage', '{sname}')
        y = torch.deserialize(s)
    """))
    assert lua.eval("torch.typename(y)") == f"torch.{cpu}Tensor"
    assert lua.eval("y:storage()[3]") == 3


# ---------------------------------------------------------------------- functions (opt-in)
def test_functions_round_trip_with_opt_in(lua):
    lua.execute(textwrap.dedent("""
        local k = 10
        local function addk(a) return a + k end
        s = torch.serialize({f = addk, g = addk})
        inert = torch.deserialize(s)
        live = torch.deserialize(s, nil, {allow_functions = true})
    """))
    assert lua.eval("torch.typename(inert.f) == 'torch.SerializedFunction' and inert.f == inert.g") is True
    with pytest.raises(st.LuaError, match="inert"):
        lua.execute("inert.f(1)")
    assert lua.eval("live.f(5)") == 15
    assert lua.eval("live.f == live.g") is True
    # an inert function converts when asked, and writes back as the same function
    assert lua.eval("inert.f:toFunction()(1)") == 11
    assert lua.eval("torch.deserialize(torch.serialize(inert), nil, {allow_functions=true}).f(2)") == 12


def test_load_t7_allow_functions_returns_callables(lua):
    data = lua_bytes(lua, "torch.serialize({f = function(a, b) return a * b end})")
    f = load_t7(data)["f"]
    assert f.torch_typename == "torch.SerializedFunction"
    live = load_t7(data, allow_functions=True)["f"]
    assert live(6, 7) == 42


def test_c_functions_cannot_be_saved(lua):
    with pytest.raises(st.LuaError, match=r"cannot write a C function \(at <\?>\.fn\)"):
        lua.execute("torch.serialize({fn = print})")


def test_unwritable_value_path_names_upvalues(lua):
    """The path in the error is Torch7's: '<?>' for the root, an upvalue by its name."""
    lua.execute(textwrap.dedent("""
        local helper = {cfn = print}
        local inner = {f = function() return helper end}
        function g() return inner end
    """))
    with pytest.raises(st.LuaError, match=r"cannot write a C function \(at <\?>\.inner\.f\.helper\.cfn\)"):
        lua.execute("torch.serialize(g)")
    with pytest.raises(st.LuaError, match=r"\(at <\?>\.t\.<\?>\)"):
        lua.execute("torch.serialize({t = {[{}] = io.stdout}})")
    # the failed write left no stale path behind
    with pytest.raises(st.LuaError, match=r"\(at <\?>\.fn\)"):
        lua.execute("torch.serialize({fn = print})")


def test_write_object_hook(lua):
    """writeObject(obj, name, hook) writes hook(v) for every value v, references kept."""
    lua.execute(textwrap.dedent("""
        torch.class('test.HookA'); torch.class('test.HookB')
        function test.HookB:__init() self.b = 'yes' end
        local a = test.HookA()
        local obj = {s1 = a, s2 = a, v = 'test', n = {t = torch.DoubleTensor({1, 2}), gone = 'x'}}
        local function hook(x)
           if torch.typename(x) == 'test.HookA' then return test.HookB() end
           if torch.typename(x) == 'torch.DoubleTensor' then return x:float() end
           if x == 'x' then return nil end
           return x
        end
        local f = torch.MemoryFile('rw'):binary()
        f:writeObject(obj, nil, hook)
        s = f:_string()
        f:seek(1)
        clone = f:readObject()
    """))
    assert lua.eval("torch.typename(clone.s1)") == "test.HookB"
    assert lua.eval("clone.s1 == clone.s2 and clone.s1.b == 'yes' and clone.v == 'test'") is True
    assert lua.eval("clone.n.gone == nil and torch.typename(clone.n.t)") == "torch.FloatTensor"
    out = load_t7(lua_bytes(lua, "s"))
    assert out["n"]["t"].dtype == np.float32 and out["n"]["t"].tolist() == [1, 2]


# ---------------------------------------------------------------------- round trips (Python)
@pytest.mark.parametrize("fmt", ["binary", "ascii", "b32", "b64"])
def test_python_round_trip(tmp_path, fmt):
    arr = np.arange(12, dtype=np.float32).reshape(3, 4)
    obj = {
        "ints": [1, -2, 3],
        "float": 0.1,
        "inf": float("inf"),
        "text": "héllo",
        "raw": b"\xff\x00\x01",
        "flags": {True: "t", False: "f"},
        2.5: "float key",
        "arr": arr,
        "again": arr,
        "t": arr.T,
        "dtypes": {str(dt): np.array([1, 2, 3], dtype=dt)
                   for dt in ("float64", "float32", "int64", "int32", "int16", "int8", "uint8")},
        "mod": TorchObject("nn.Linear", weight=np.ones((2, 3)), train=False),
        "none": None,
    }
    obj["cycle"] = obj
    path = tmp_path / "obj.t7"
    assert save_t7(obj, path, format=fmt) is None
    back = load_t7(path)
    assert back["ints"] == {1: 1, 2: -2, 3: 3}
    assert back["float"] == 0.1 and back["inf"] == float("inf")
    assert back["text"] == "héllo" and back["raw"] == b"\xff\x00\x01"
    assert back["flags"] == {True: "t", False: "f"} and back[2.5] == "float key"
    assert back["cycle"] is back
    assert back["arr"] is back["again"]
    np.testing.assert_array_equal(back["arr"], arr)
    np.testing.assert_array_equal(back["t"], arr.T)
    for dt, a in back["dtypes"].items():
        assert a.dtype == np.dtype(dt) and a.tolist() == [1, 2, 3]
    assert back["mod"].torch_typename == "nn.Linear" and back["mod"]["train"] is False
    np.testing.assert_array_equal(back["mod"]["weight"], np.ones((2, 3)))
    assert "none" not in back


def test_python_bytes_and_path_agree(tmp_path):
    obj = {"a": np.linspace(0, 1, 7), "b": "x"}
    data = save_t7(obj, None)
    save_t7(obj, tmp_path / "o.t7")
    assert (tmp_path / "o.t7").read_bytes() == data
    np.testing.assert_array_equal(load_t7(data)["a"], obj["a"])


def test_python_save_is_read_by_torch_load(lua, tmp_path):
    path = tmp_path / "m.t7"
    lin = TorchObject("nn.Linear", weight=np.eye(3, dtype=np.float32), bias=np.zeros(3, np.float32))
    save_t7({"modules": [lin, lin], "name": "net"}, path)
    lua.execute(f"m = torch.load({lua_str(path)}, nil, {{unknown_classes='table'}})")
    assert lua.eval("torch.typename(m.modules[1]) == 'nn.Linear' and m.modules[1] == m.modules[2]") is True
    assert lua.eval("torch.typename(m.modules[1].weight)") == "torch.FloatTensor"
    assert lua.eval("m.name") == "net"


def test_python_special_arrays():
    back = load_t7(save_t7({
        "bool": np.array([True, False]),
        "half": np.array([1.5, -2], dtype=np.float16),
        "scalar": np.array(7.0),
        "empty": np.zeros((0, 4), np.float32),
        "strided": np.arange(20.0)[::3],
        "big_endian": np.array([1, 2], dtype=">i4"),
    }, None))
    assert back["bool"].dtype == np.uint8 and back["bool"].tolist() == [1, 0]
    assert back["half"].dtype == np.float32 and back["half"].tolist() == [1.5, -2]
    assert back["scalar"].tolist() == [7.0]
    assert back["empty"].shape == (0, 4)
    assert back["strided"].tolist() == list(np.arange(20.0)[::3])
    assert back["big_endian"].tolist() == [1, 2]


def test_python_views_share_a_storage(lua):
    a = np.arange(12.0).reshape(3, 4)
    obj = {"a": a, "t": a.T, "row": a[1], "col": a[:, 2], "rev": a[::-1]}
    data = save_t7(obj, None)
    back = load_t7(data)
    for k, v in obj.items():
        np.testing.assert_array_equal(back[k], v)
    assert np.shares_memory(back["a"], back["t"]) and np.shares_memory(back["a"], back["col"])
    assert not np.shares_memory(back["a"], back["rev"])      # negative strides are copied
    lua.execute(f"x = torch.deserialize({lua_str_bytes(data)})")
    assert lua.eval("x.a:storage() == x.t:storage() and x.row:storageOffset() == 5") is True


def lua_str_bytes(data: bytes) -> str:
    return '"' + "".join(f"\\{b:03d}" for b in data) + '"'


def test_model_resave_keeps_shared_parameters():
    m = load_t7(MODELS / "mnist_mlp_cuda.t7")
    data = save_t7(m, None)
    assert abs(len(data) - (MODELS / "mnist_mlp_cuda.t7").stat().st_size) < 1000
    m2 = load_t7(data)
    w, b = m2["modules"][2]["weight"], m2["modules"][6]["bias"]
    assert w.base is b.base
    np.testing.assert_array_equal(w, m["modules"][2]["weight"])


def test_python_table_keys_round_trip():
    d = {}
    d[TableKey(d)] = d
    back = load_t7(save_t7(d, None))
    (k, v), = back.items()
    assert k.value is back and v is back


def test_save_t7_rejects_bad_values():
    with pytest.raises(TypeError, match=r"cannot write a set \(at <root>\.s\)"):
        save_t7({"s": {1, 2}}, None)
    with pytest.raises(TypeError, match="complex"):
        save_t7({"c": np.zeros(2, complex)}, None)
    with pytest.raises(ValueError, match="format must be one of"):
        save_t7({}, None, format="json")
    with pytest.raises(ValueError, match="TorchObject cannot be a torch.FloatTensor"):
        save_t7(TorchObject("torch.FloatTensor"), None)
    with pytest.raises(TypeError, match="class name"):
        TorchObject("")


def test_load_t7_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such .t7 file"):
        load_t7(tmp_path / "nope.t7")
    with pytest.raises(FileNotFoundError, match="no such directory"):
        save_t7({}, tmp_path / "missing" / "x.t7")
    with pytest.raises(st.T7FormatError):
        load_t7((TF / "hello=123.t7").read_bytes(), format="ascii")


def test_tensor_views_share_memory(lua):
    data = lua_bytes(lua, "torch.serialize((function() local x = torch.FloatTensor(4, 3):fill(1); "
                          "return {x = x, row = x:select(1, 2), col = x:select(2, 3)} end)())")
    t = load_t7(data)
    assert np.shares_memory(t["x"], t["row"]) and np.shares_memory(t["x"], t["col"])
    t["row"][:] = 7
    assert t["x"][1].tolist() == [7, 7, 7] and t["col"].tolist() == [1, 7, 1, 1]
    # in the model, the Linear weights and biases are views of one flat storage
    m = load_t7(MODELS / "mnist_mlp_cuda.t7")
    w, b = m["modules"][2]["weight"], m["modules"][2]["bias"]
    addr = lambda a: a.__array_interface__["data"][0]
    assert addr(b) == addr(w) + w.size * 4


# ---------------------------------------------------------------------- corrupt input
def test_truncations_raise_t7formaterror():
    for name in ("hello=123.t7", "doubletensor.t7", "list_table.t7", "recursive_class.t7",
                 "tds_hash.t7", "function_upvals.t7", "nngraph_node.t7"):
        data = (TF / name).read_bytes()
        for cut in range(len(data)):
            with pytest.raises(st.T7FormatError, match=r"at byte offset \d+ of <serialized string>"):
                load_t7(data[:cut])


def test_truncated_ascii_raises_t7formaterror():
    data = (MODELS / "ascii_doubletensor.t7").read_bytes()
    for cut in range(2, len(data) - 1, 3):
        with pytest.raises(st.T7FormatError):
            load_t7(data[:cut], format="ascii")


def test_truncated_model_file(tmp_path):
    data = (MODELS / "mnist_mlp_cuda.t7").read_bytes()
    path = tmp_path / "cut.t7"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(st.T7FormatError) as e:
        load_t7(path)
    assert "truncated" in str(e.value) and str(path) in str(e.value)
    assert isinstance(e.value, ValueError) and isinstance(e.value, st.LuaError)


def test_corrupt_sizes_are_checked_before_allocating():
    data = bytearray((TF / "doubletensor.t7").read_bytes())
    # the storage size (an int64 at offset 0x77) claims 2**60 elements
    data[0x77:0x7F] = (2 ** 60).to_bytes(8, "little")
    with pytest.raises(st.T7FormatError, match="needs .* bytes, .* left"):
        load_t7(bytes(data))
    data = bytearray((TF / "hello=123.t7").read_bytes())
    data[8:12] = (0x7FFFFFFF).to_bytes(4, "little")           # the table's pair count
    with pytest.raises(st.T7FormatError, match="invalid table size"):
        load_t7(bytes(data))
    data = bytearray((TF / "hello=123.t7").read_bytes())
    data[0:4] = (77).to_bytes(4, "little")
    with pytest.raises(st.T7FormatError, match="unknown object type tag 77 .* at byte offset 0"):
        load_t7(bytes(data))


def test_tensor_outside_its_storage_is_refused():
    data = bytearray((TF / "doubletensor.t7").read_bytes())
    data[73:81] = (5).to_bytes(8, "little")                   # storage offset 5 of a 2x3 tensor: 4 too far
    with pytest.raises(st.T7FormatError, match="reaches element"):
        load_t7(bytes(data))


def test_deep_nesting_is_refused():
    # 10000 tables, each the value of key 1 of the previous: refused, no stack overflow
    def i32(v):
        return int(v).to_bytes(4, "little", signed=True)
    number_one = i32(1) + np.float64(1.0).tobytes()
    body = b"".join(i32(3) + i32(i + 1) + i32(1) + number_one for i in range(10000)) + i32(0)
    with pytest.raises(st.T7FormatError, match="nested deeper than"):
        load_t7(body)


_FUZZ = r"""
import random, sys
import sparktorch7 as st
paths = sys.argv[2:]
rng = random.Random(int(sys.argv[1]))
ok = failed = 0
for n in range(300):
    data = bytearray(open(paths[n % len(paths)], 'rb').read())
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(data))
        data[i] ^= 1 << rng.randrange(8)
    try:
        st.load_t7(bytes(data))
        ok += 1
    except st.LuaError:
        failed += 1
print(ok, failed)
"""


@pytest.mark.slow
def test_bit_flips_never_crash():
    paths = [str(TF / n) for n in ("hello=123.t7", "doubletensor.t7", "floattensor.t7", "list_table.t7",
                                   "map_table2.t7", "recursive_class.t7", "tds_hash.t7", "tds_vec.t7",
                                   "function_upvals.t7", "nngraph_node.t7", "gmodule_with_linear_identity.t7",
                                   "custom_class.t7")]
    paths += [str(MODELS / "ascii_doubletensor.t7"), str(MODELS / "mnist_mlp_cuda.t7")]
    # in a child process, so that a crash fails this test instead of the whole run
    proc = subprocess.run([sys.executable, "-c", _FUZZ, "1234", *paths], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ok, failed = map(int, proc.stdout.split())
    assert ok + failed == 300 and failed > 0, proc.stdout
