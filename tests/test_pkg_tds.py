"""tds: tds.Hash, tds.Vec and tds.AtomicCounter as classes, created and used in code,
saved as Torch7's tds writes them, and the real Torch7 tds fixtures loading into them."""
import pathlib

import pytest

from sparktorch7 import LuaError

TF = pathlib.Path(__file__).resolve().parents[1] / ".." / "shared" / "fixtures" / "t7" / "torchfile"


@pytest.fixture
def lua(lua):
    lua.require("torch")
    lua.execute("tds = require 'tds'")
    return lua


def test_hash_in_code(lua):
    assert lua.execute("""
        local h = tds.Hash()
        h.a = 1; h[2] = 'two'; h[true] = false; h[2.5] = 3
        local n0 = #h
        h.a = nil; h.missing = nil
        local keys = {}
        for k, v in pairs(h) do keys[#keys + 1] = tostring(k) .. '=' .. tostring(v) end
        table.sort(keys)
        return n0, #h, h.a, h[2], h[true], torch.type(h), type(h), table.concat(keys, ',')
    """) == (4, 3, None, "two", False, "tds.Hash", "userdata", "2.5=3,2=two,true=false")


def test_hash_constructor_converts_tables(lua):
    assert lua.execute("""
        local h = tds.Hash({a = 1, v = {10, 20}, sub = {x = 'y'}})
        return #h, torch.type(h.v), #h.v, h.v[2], torch.type(h.sub), h.sub.x
    """) == (3, "tds.Vec", 2, 20, "tds.Hash", "y")
    # values are what tds stores: numbers, strings, booleans, tds objects, tensors
    assert lua.execute("local h = tds.Hash(); h.t = torch.FloatTensor(3):fill(2); h.h = tds.Hash(); "
                       "return h.t:sum(), torch.type(h.h)") == (6, "tds.Hash")
    with pytest.raises(LuaError, match=r"<tds.Hash> unsupported value type <table> \(set\)"):
        lua.execute("local h = tds.Hash(); h.x = {1}")
    with pytest.raises(LuaError, match="<tds.Hash> unsupported key type <function>"):
        lua.execute("local h = tds.Hash(); h[print] = 1")
    with pytest.raises(LuaError, match="<tds.Hash> hash index is nil"):
        lua.execute("local h = tds.Hash(); h[nil] = 1")
    with pytest.raises(LuaError, match="<tds.Hash> lua table or nothing expected, got number"):
        lua.execute("tds.Hash(3)")


def test_vec_in_code(lua):
    assert lua.execute("""
        local v = tds.Vec(3, 1, 2)
        v:insert(10)                -- append
        v:insert(1, 0)              -- shift up
        local n1 = #v
        v:remove(2)                 -- shift down
        v:remove()                  -- the last
        local seq = {}
        for i, x in ipairs(v) do seq[#seq + 1] = x end
        v:sort()
        local sorted = v:concat(',')
        v:sort(function(a, b) return a > b end)
        return n1, #v, table.concat(seq, ','), sorted, v:concat('|'), v:concat(' ', 2, 3), v[1], v[99]
    """) == (5, 3, "0,1,2", "0,1,2", "2|1|0", "1 0", 2, None)


def test_vec_grows_with_nils_and_resizes(lua):
    assert lua.execute("""
        local v = tds.Vec()
        v[3] = 'c'
        local n = #v
        local seen = {}
        for i, x in pairs(v) do seen[#seen + 1] = i .. ':' .. tostring(x) end
        v:resize(5); local grown = #v
        v:resize(1); local shrunk = #v
        return n, table.concat(seen, ' '), grown, shrunk, v[3]
    """) == (3, "1:nil 2:nil 3:c", 5, 1, None)
    assert lua.execute("local v = tds.Vec({'b', nil, 'a'}); v:sort(function(x, y) "
                       "if x == nil then return false elseif y == nil then return true end return x < y end); "
                       "return v[1], v[2], v[3], #v") == ("a", "b", None, 3)
    with pytest.raises(LuaError, match="<tds.Vec> invalid key \\(number\\) or method name: foo"):
        lua.execute("local v = tds.Vec(); return v.foo")
    with pytest.raises(LuaError, match="<tds.Vec> positive integer expected as index, got 0"):
        lua.execute("local v = tds.Vec(); v[0] = 1")
    with pytest.raises(LuaError, match=r"<tds.Vec:insert> position 5 out of range 1..2"):
        lua.execute("local v = tds.Vec(1); v:insert(5, 1)")
    with pytest.raises(LuaError, match="<tds.Vec> lua table with number keys expected"):
        lua.execute("tds.Vec({a = 1})")


def test_hash_order_survives_removals(lua):
    assert lua.execute("""
        local h = tds.Hash()
        for i = 1, 100 do h['k' .. i] = i end
        for i = 1, 90 do h['k' .. i] = nil end     -- compacts on the way
        h.z = 0
        local seen = {}
        for k, v in pairs(h) do seen[#seen + 1] = v end
        -- removing while iterating is allowed, as for a Lua table
        for k in pairs(h) do h[k] = nil end
        return table.concat(seen, ','), #h, next({}) == nil
    """) == ("91,92,93,94,95,96,97,98,99,100,0", 0, True)


def test_printing(lua):
    assert lua.execute("return tostring(tds.Vec({1, 'x'}))") == "tds.Vec[2]{\n    1 : 1\n    2 : x\n}"
    assert lua.execute("local h = tds.Hash(); h.key = 1; return tostring(h)") == "tds.Hash[1]{\nkey : 1\n}"
    assert lua.execute("local h = tds.Hash(); h.ab = 1; h.c = tds.Vec({5}); return tostring(h)") in (
        "tds.Hash[2]{\nab : 1\nc  : tds.Vec[1]{\n         1 : 5\n     }\n}",
        "tds.Hash[2]{\nc  : tds.Vec[1]{\n         1 : 5\n     }\nab : 1\n}")


def test_atomic_counter(lua):
    assert lua.execute("local a = tds.AtomicCounter(); local before = a:inc(); a:inc(); "
                       "local b = tds.Atomic(); b:set(41); b:inc(); "
                       "return before, a:get(), b:get(), tostring(a), torch.type(b)") == (
        0, 2, 42, "tds.AtomicCounter=2", "tds.AtomicCounter")
    assert lua.execute("local a = tds.AtomicCounter(); a:set(7); "
                       "local b = torch.deserialize(torch.serialize(a)); return torch.type(b), b:get()") == (
        "tds.AtomicCounter", 7)


def test_fixtures_load_into_the_classes(lua):
    lua.globals().hpath, lua.globals().vpath = str(TF / "tds_hash.t7"), str(TF / "tds_vec.t7")
    assert lua.execute("local h = torch.load(hpath); local v = torch.load(vpath); "
                       "return torch.type(h), #h, h[1], h[2], h[10], torch.type(v), #v, v[1], v[2]") == (
        "tds.Hash", 3, 2, 3, 11, "tds.Vec", 2, 123, 456)
    # loaded objects are usable as any other
    assert lua.execute("local v = torch.load(vpath); v:insert(789); return v:concat(',')") == "123,456,789"


def test_saving_writes_what_torch7_tds_writes(lua):
    vec_bytes = (TF / "tds_vec.t7").read_bytes()
    lua.globals().vpath, lua.globals().hpath = str(TF / "tds_vec.t7"), str(TF / "tds_hash.t7")
    # the Vec fixture rewritten, and a Vec built in code, are byte-identical to Torch7's file
    assert bytes(lua.execute("return torch.serialize(torch.load(vpath))")) == vec_bytes
    assert bytes(lua.execute("return torch.serialize(tds.Vec({123, 456}))")) == vec_bytes
    # a Hash keeps its insertion order: the fixture rewritten is byte-identical
    hash_bytes = (TF / "tds_hash.t7").read_bytes()
    assert bytes(lua.execute("return torch.serialize(torch.load(hpath))")) == hash_bytes
    # built in another order: the same header, the same pairs

    ours = bytes(lua.execute("local h = tds.Hash(); h[1] = 2; h[10] = 11; h[2] = 3; return torch.serialize(h)"))
    rec = 2 * (4 + 8)                 # a pair: two numbers, each a type tag and a double
    head = len(hash_bytes) - 3 * rec
    assert len(ours) == len(hash_bytes) and ours[:head] == hash_bytes[:head]
    pairs = lambda b: sorted(b[head + rec * i: head + rec * (i + 1)] for i in range(3))
    assert pairs(ours) == pairs(hash_bytes)
    # nested objects and tensors round-trip
    assert lua.execute("""
        local h = tds.Hash({name = 'x', v = {1, 2, 3}})
        h.t = torch.DoubleTensor({4, 5})
        local back = torch.deserialize(torch.serialize(h))
        return torch.type(back), back.name, torch.type(back.v), back.v:concat(','), back.t:sum()
    """) == ("tds.Hash", "x", "tds.Vec", "1,2,3", 9)


def test_plain_tables_before_tds_is_required():
    """Without `require 'tds'` a state keeps loading tds files as plain tables (as load_t7 does)."""
    from sparktorch7 import LuaState
    state = LuaState()
    try:
        state.require("torch")
        state.globals().hpath = str(TF / "tds_hash.t7")
        assert state.execute("local h = torch.load(hpath); return getmetatable(h) == nil, h[10]") == (True, 11)
    finally:
        state.close()


def test_pairs_override_leaves_other_values_alone(lua):
    assert lua.execute("local n = 0; for k, v in pairs({a = 1, b = 2}) do n = n + v end; "
                       "local m = 0; for i, v in ipairs({5, 6, nil, 8}) do m = m + v end; return n, m") == (3, 11)
    with pytest.raises(LuaError, match="bad argument #1 to 'pairs'"):
        lua.execute("for k in pairs(nil) do end")
