"""moses 1.6.1 (Yonaba's utility belt, `local _ = require 'moses'` in dpnn, rnn and torch/nn's
tests): every documented function against what 1.6.1's tutorial and specs say and against
Python computations, the f(key, value) order of 1.6.x, chaining, the aliases, import, and the
errors for bad arguments."""
import itertools
import math
import random
from collections import Counter

import pytest

from sparktorch7 import LuaError


@pytest.fixture
def lua(lua):
    lua.execute("_ = require 'moses'")
    return lua


def fn(lua, body):
    """A Lua function of the given body with `_` in scope."""
    return lua.eval(f"function(...) {body} end")


def array(d):
    """A Lua array that came back as a dict {1: a, 2: b, ...} as a Python list."""
    assert set(d) == set(range(1, len(d) + 1)), d
    return [d[i] for i in range(1, len(d) + 1)]


# ---------------------------------------------------------------------------- the module
def test_require_gives_one_module_and_no_globals(lua):
    same, version, source = lua.execute("""
        local m = require 'moses'
        return m == _ and package.loaded.moses == m, m._VERSION, debug.getinfo(m.map, 'S').source
    """)
    assert same is True and version == "Moses v1.6.1"
    assert source.replace("\\", "/").endswith("/lua/moses/init.lua")
    # a fresh state: requiring creates no global, and the state has its own id counter
    other = type(lua)()
    try:
        names = other.eval("function() local t = {} for k in pairs(_G) do t[#t + 1] = k end return t end")
        before = set(names().values())
        other.execute("local m = require 'moses'; m.uniqueId()")
        assert set(names().values()) == before
        assert other.eval("require('moses').uniqueId()") == 1
        assert lua.eval("_.uniqueId()") == 0
    finally:
        other.close()


# ---------------------------------------------------------------------------- f(key, value)
def test_iteratees_get_key_then_value_then_extra_args(lua):
    # each: every pair once, as (k, v, extra...)
    seen = lua.execute("""
        local seen = {}
        _.each({'a', 'b', x = 'c'}, function(k, v, e1, e2) seen[#seen + 1] = {k, v, e1, e2} end, 'E', 7)
        return seen
    """)
    assert sorted((str(r[1]), r[2], r[3], r[4]) for r in seen.values()) == [
        ("1", "a", "E", 7), ("2", "b", "E", 7), ("x", "c", "E", 7)]
    # 2.x's f(value, key) would give 'aa'.. and 1..; 1.6.1 gives key .. value
    assert lua.eval("_.map({a = 1, b = 2}, function(k, v) return k .. v end)") == {"a": "a1", "b": "b2"}
    values = [10, 11, 12, 13, 15, 16]
    even_keys = [v for i, v in enumerate(values, 1) if i % 2 == 0]
    odd_keys = [v for i, v in enumerate(values, 1) if i % 2 == 1]
    on_keys = fn(lua, """
        local t, name = ...
        return _[name](t, function(k, v, m) return k % m == 0 end, 2)
    """)
    assert array(on_keys(values, "select")) == even_keys
    assert array(on_keys(values, "reject")) == odd_keys
    assert on_keys(values, "countf") == len(even_keys)
    assert on_keys(values, "all") is False and on_keys([7, 8], "all") is False
    assert on_keys({2: "x", 4: "y"}, "all") is True
    assert array(on_keys(values, "selectWhile")) == []          # key 1 is odd
    assert array(on_keys(values, "dropWhile")) == values
    assert on_keys(values, "findIndex") == 2
    groups = on_keys(values, "groupBy")
    assert array(groups[True]) == even_keys and array(groups[False]) == odd_keys
    assert on_keys(values, "countBy") == {True: 3, False: 3}
    # reduce's function gets (state, value)
    assert lua.eval("_.reduce({'a', 'b', 'c'}, function(s, v) return s .. '<' .. v end)") == "a<b<c"


# ---------------------------------------------------------------------------- table functions
def test_clear_each_eachi_at(lua):
    assert lua.execute("local t = {1, 2, 'hello', true, x = 1}; local r = _.clear(t) return r == t, next(t)") == (
        True, None)
    t = lua.execute("""
        local t = {'a', 'b', 'c'}
        _.each(t, function(i, v, n) t[i] = v:rep(n) end, 2)
        return t
    """)
    assert array(t) == ["aa", "bb", "cc"]
    # eachi: the integer keys only, in increasing order, including 0 and negatives
    pairs = lua.execute("""
        local out = {}
        _.eachi({a = 1, b = 2, [0] = 1, [-1] = 6, [2.5] = 9, 3, x = 4, 5, [10] = 'ten'},
                function(i, v) out[#out + 1] = i .. '=' .. v end)
        return table.concat(out, ' ')
    """)
    assert pairs == "-1=6 0=1 1=3 2=5 10=ten"
    assert array(lua.eval("_.at({4, 5, 6}, 1, 3)")) == [4, 6]
    assert array(lua.eval("_.at({a = 4, bb = true, ccc = false}, 'a', 'ccc', 'zz')")) == [4, False]


def test_count_countf_size(lua):
    data = [1, 1, 2, 3, 3, 3, 2, 4, 3, 2]
    count = fn(lua, "return _.count(...)")
    for v in (1, 2, 3, 4, 5):
        assert count(data, v) == data.count(v)
    assert count([False, False, True], False) == 2 and count([False, False, True], True) == 1
    assert lua.eval("_.count({{1, 1}, {1, 1}, {1, 1}, {2, 2}}, {1, 1})") == 3          # isEqual
    assert count(data) == len(data)
    assert lua.eval("_.countf({1, 2, 3, 4, 5, 6}, function(i, v) return v % 2 == 0 end)") == 3
    assert lua.eval("_.countf({print, pairs, os, assert, ipairs}, function(i, v) return type(v) == 'function' end)") == 4
    # countf counts results that are exactly true (through map and count(..., true))
    assert lua.eval("_.countf({1, 2, 3}, function(i, v) return v end)") == 0
    assert lua.eval("_.size({1, 2, 3, {4, 5}})") == 4
    assert lua.eval("_.size({one = 1, 2, b = 3, [{}] = 'nil', 'c', [print] = 'foo'})") == 6
    assert lua.eval("_.size({1, 2}, 3, 4, 5)") == 2
    assert lua.eval("_.size(1, 3, 4, 5)") == 4 and lua.eval("_.size(nil, 1, 3, 4, nil, 5)") == 4
    assert lua.eval("_.size()") == 0 and lua.eval("_.size('a', 'b', {}, print)") == 4


def test_cycle(lua):
    visits = lua.execute("""
        local seen = {}
        for k, v in _.cycle({'a', 'b', 'c'}, 3) do seen[#seen + 1] = k .. v end
        return table.concat(seen, ' ')
    """)
    assert visits == " ".join(["1a 2b 3c"] * 3)
    assert lua.execute("local n = 0 for k in _.cycle({x = 1, y = 2}) do n = n + 1 end return n") == 2
    assert lua.execute("local n = 0 for k in _.loop({x = 1, y = 2}, 10) do n = n + 1 end return n") == 20
    assert lua.execute("local n = 0 for k in _.cycle({1, 2}, 0) do n = n + 1 end "
                       "for k in _.cycle({1, 2}, -2) do n = n + 1 end return n") == 0
    assert lua.execute("local n = 0 for k in _.cycle({}, 5) do n = n + 1 end return n") == 0


def test_map(lua):
    assert array(lua.eval("_.map({1, 2, 3}, function(i, v, add) return v + add end, 10)")) == [11, 12, 13]
    # two results: a new key and its value (the old key when the new one is falsy)
    assert lua.eval("_.map({a = 1, b = 2}, function(k, v) return k .. k, v * 2 end)") == {"aa": 2, "bb": 4}
    assert lua.eval("_.map({a = 1}, function(k, v) return nil, v + 1 end)") == {"a": 2}
    assert lua.eval("_.map({a = 1}, function(k, v) return 'new', false end)") == {"a": "new"}
    # a nil result leaves no entry
    assert lua.eval("_.map({1, 2, 3}, function(i, v) if v ~= 2 then return v end end)") == {1: 1, 3: 3}


def test_reduce_family(lua):
    rng = random.Random(3)
    nums = [rng.randint(-50, 50) for _ in range(40)]
    add = "function(memo, v) return memo + v end"
    assert lua.eval(f"function(t) return _.reduce(t, {add}) end")(nums) == sum(nums)
    assert lua.eval(f"function(t) return _.reduce(t, {add}, 1000) end")(nums) == 1000 + sum(nums)
    assert lua.eval("_.reduce({'a', 'b', 'c', 'd'}, function(m, v) return m .. v end)") == "abcd"
    assert lua.eval("_.reduce({true, false, true}, function(m, v) return m and v end)") is False
    assert lua.eval("_.reduce({false, false, true}, function(m, v) return m or v end)") is True
    assert lua.eval("_.reduce({}, function() return 1 end)") is None
    val = [-1, 8, 0, -6, 3, -1, 7, 1, -9]
    reduceby = lua.eval(f"""function(t, sign)
        return _.reduceby(t, {add}, 0, function(_, v) return v * sign >= 0 end) end""")
    assert reduceby(val, -1) == sum(v for v in val if v <= 0) == -17
    assert reduceby(val, 1) == sum(v for v in val if v >= 0) == 19
    assert lua.eval("_.reduceRight({1, 2, 4, 16}, function(m, v) return m / v end, 256)") == 256 / 16 / 4 / 2 / 1
    assert lua.eval("_.reduceRight({'a', 'b', 'c'}, function(m, v) return m .. v end)") == "cba"
    assert array(lua.eval("_.mapReduce({'a', 'b', 'c'}, function(m, v) return m .. v end)")) == ["a", "ab", "abc"]
    assert array(lua.eval("_.mapReduce({1, 2, 4, 16}, function(m, v) return m * v end, 0)")) == [0, 0, 0, 0]
    # a falsy state (false too) takes the value, as 1.6.1's `not state and value or f(state, value)`
    join = "function(s, v) return (s and s .. ',' or 'start') .. v end"
    assert array(lua.eval(f"_.mapReduce({{1, 2}}, {join}, false)")) == [1, "1,2"]
    assert array(lua.eval("_.mapReduceRight({'a', 'b', 'c'}, function(m, v) return m .. v end)")) == ["c", "cb", "cba"]
    states, s = [], 256
    for v in reversed([1, 2, 4, 16]):
        s /= v
        states.append(s)
    assert array(lua.eval("_.mapReduceRight({1, 2, 4, 16}, function(m, v) return m / v end, 256)")) == states


def test_include_detect_where_findWhere(lua):
    assert lua.eval("_.include({6, 8, 10, 16, 29}, 16)") is True
    assert lua.eval("_.include({6, 8, 10, 16, 29}, 1)") is False
    assert lua.eval("_.include({6, {18, {2, 6}}, 10, {18, {2, {3}}}, 29}, {18, {2, {3}}})") is True
    assert lua.eval("_.include({'a', 'B', 'c'}, function(v) return v:upper() == v end)") is True
    assert lua.eval("_.include({'a', 'b'}, function(v) return v:upper() == v end)") is False
    assert lua.eval("_.detect({6, 8, 10, 16}, 8)") == 2
    assert lua.eval("_.detect({nil, true, 0, true, true}, false)") is None
    assert lua.eval("_.detect({6, {18, {2, 6}}, 10, {18, {2, {3}}}, 29}, {18, {2, 6}})") == 2
    assert lua.eval("_.detect({'a', 'B', 'c'}, function(v) return v:upper() == v end)") == 2
    found = lua.execute("""
        local tA, tB, tC, tD = {a = 1, b = 2, c = 0}, {a = 1, b = 4, c = 1}, {a = 4, b = 4, c = 3}, {a = 1, b = 2, c = 3}
        local all = {tA, tB, tC, tD}
        local function names(r)
           if r == nil then return 'nil' end
           return table.concat(_.map(r, function(_, t) return t == tA and 'A' or t == tB and 'B' or t == tC and 'C' or 'D' end))
        end
        return names(_.where(all, {a = 1})), names(_.where(all, {b = 4})), names(_.where(all, {b = 4, c = 3})),
               names(_.where(all, {a = 9})), _.findWhere(all, {b = 4}) == tB, _.findWhere(all, {a = 2}) == nil
    """)
    assert found == ("ABD", "BC", "C", "nil", True, True)


def test_select_reject_all_invoke_pluck(lua):
    seq = list(range(1, 8))
    select = fn(lua, "local t, name, m = ... return _[name](t, function(k, v) return v % 2 == m end)")
    assert array(select(seq, "select", 0)) == [v for v in seq if v % 2 == 0]
    assert array(select(seq, "filter", 1)) == [v for v in seq if v % 2 == 1]
    assert array(select(seq, "reject", 0)) == [v for v in seq if v % 2 != 0]
    assert array(select(seq, "discard", 1)) == [v for v in seq if v % 2 != 1]
    # a test that returns nil fails: the value stays (1.6.1 dropped it, see init.lua)
    assert array(lua.eval("_.reject({1, 2, 3}, function(k, v) if v == 2 then return true end end)")) == [1, 3]
    assert lua.eval("_.all({2, 4, 6}, function(k, v) return v % 2 == 0 end)") is True
    assert lua.eval("_.all({false, true, false}, function(k, v) return v == false end)") is False
    assert lua.eval("_.every({}, function() return false end)") is True
    # all calls f on every pair
    assert lua.execute("local n = 0; _.all({1, 2, 3}, function() n = n + 1 return false end) return n") == 3
    assert array(lua.eval("_.invoke({'a', 'bea', 'cdhza'}, string.len)")) == [1, 3, 5]
    sorted_ = lua.eval("_.invoke({{2, 3, 2}, {13, 8, 10}, {0, -5}}, _.sort)")
    assert [array(sorted_[i]) for i in (1, 2, 3)] == [[2, 2, 3], [8, 10, 13], [-5, 0]]
    assert array(lua.eval("_.invoke({{x = 1, y = 2}, {x = 3, y = 4}}, 'x')")) == [1, 3]
    assert lua.execute("""
        local a = {}; function a:call(n) self.got = n return self end
        local b, c = {call = a.call}, {call = a.call}
        local r = _.invoke({a, b, c}, 'call', 5)
        return r[1] == a and r[2] == b and r[3] == c and c.got == 5
    """) is True
    # (two results make a key and a value, as map's do)
    assert lua.eval("_.invoke({'xbz', 'b'}, string.find, 'b')") == {2: 2, 1: 1}
    assert array(lua.eval("_.invoke({'ab', 'cde'}, 'len')")) == []      # strings are not tables
    peoples = "{{name = 'John', age = 23}, {name = 'Peter', age = 17}, {name = 'Steve', age = 15}, {age = 33}}"
    assert array(lua.eval(f"_.pluck({peoples}, 'age')")) == [23, 17, 15, 33]
    assert array(lua.eval(f"_.pluck({peoples}, 'name')")) == ["John", "Peter", "Steve"]
    assert array(lua.eval("_.pluck({{f = false}, {f = true}, {}}, 'f')")) == [False, True]


def test_max_min_same_sort_sortBy(lua):
    rng = random.Random(5)
    nums = [rng.uniform(-10, 10) for _ in range(25)]
    ext = fn(lua, "local t, name = ... return _[name](t)")
    assert ext(nums, "max") == max(nums) and ext(nums, "min") == min(nums)
    assert lua.eval("_.max({'a', 'b', 'c'})") == "c" and lua.eval("_.min({'a', 'b', 'c'})") == "a"
    peoples = "{{name = 'John', age = 23}, {name = 'Peter', age = 17}, {name = 'Steve', age = 15}, {age = 33}}"
    assert lua.eval(f"_.max({peoples}, function(p) return p.age end)") == 33
    assert lua.eval(f"_.min({peoples}, function(p, k) return p[k] end, 'age')") == 15
    assert lua.eval("_.max({})") is None
    assert lua.eval("_.same({'a', 'b', 'c', 'd'}, {'b', 'a', 'd', 'c'})") is True
    assert lua.eval("_.same({'a', 'b', 'c', 'd'}, {'b', 'a', 'd', 'c', 'e'})") is False
    assert lua.eval("_.same({{1}, 2}, {2, {1}})") is True
    words = ["pear", "fig", "apple", "kiwi", "banana"]
    assert array(lua.eval("function(t) return _.sort(t) end")(words)) == sorted(words)
    assert lua.execute("local t = {3, 1, 2}; return _.sort(t) == t") is True             # in place
    assert array(lua.eval("_.sort({'b', 'a', 'd', 'c'}, function(a, b) return a:byte() > b:byte() end)")) == list("dcba")
    ints = list(range(1, 6))
    assert array(lua.eval("_.sortBy({1, 2, 3, 4, 5}, math.sin)")) == sorted(ints, key=math.sin) == [5, 4, 3, 1, 2]
    assert array(lua.eval("_.sortBy({3, 1, 2})")) == [1, 2, 3]
    people = lua.execute("""
        local people = {{name = 'albert', age = 40}, {name = 'louis', age = 55},
                        {name = 'steve', age = 35}, {name = 'henry', age = 19}}
        local up = _.map(_.sortBy(people, 'age'), function(_, p) return p.name end)
        local down = _.map(_.sortBy(people, 'age', function(a, b) return a > b end), function(_, p) return p.name end)
        return table.concat(up, ' '), table.concat(down, ' '), people[1].name
    """)
    assert people == ("henry steve albert louis", "louis albert steve henry", "albert")     # a new array


def test_shuffle_sample_sampleProb_follow_math_random(lua):
    """With a seed: the draws math.random() gives after math.randomseed(seed), used the way
    1.6.1 uses them (an inside-out shuffle, a slice of it, one draw per value)."""
    data = list(range(101, 121))
    draws = fn(lua, "local seed, n = ... math.randomseed(seed) local d = {} for i = 1, n do d[i] = math.random() end return d")

    def inside_out(values, u):
        out = {}
        for k, v in enumerate(values, 1):
            j = math.floor(u[k - 1] * k) + 1
            out[k] = out.get(j)
            out[j] = v
        return [out[k] for k in range(1, len(values) + 1)]

    for seed in (1, 42, 2024):
        u = array(draws(seed, len(data)))
        expected = inside_out(data, u)
        shuffled = array(lua.eval("function(t, s) return _.shuffle(t, s) end")(data, seed))
        assert shuffled == expected and sorted(shuffled) == data
        assert array(lua.eval("function(t, s) return _.sample(t, 5, s) end")(data, seed)) == expected[:5]
        assert lua.eval("function(t, s) return _.sample(t, 1, s) end")(data, seed) == data[math.floor(u[0] * len(data))]
        assert lua.eval("function(t, s) return _.sample(t, nil, s) end")(data, seed) == data[math.floor(u[0] * len(data))]
        kept = array(lua.eval("function(t, s) return _.sampleProb(t, 0.3, s) end")(data, seed))
        assert kept == [v for v, d in zip(data, u) if d < 0.3]
    assert lua.eval("_.sample({1, 2, 3}, 0)") is None
    assert lua.execute("local t = {1, 2, 3}; local s = _.shuffle(t) return s ~= t") is True   # a copy


def test_groupBy_countBy_containsKeys_sameKeys(lua):
    groups = lua.eval("_.groupBy({0, 1, 2, 3, 4, 5, 6}, function(i, v) return v % 2 == 0 and 'even' or 'odd' end)")
    assert array(groups["even"]) == [0, 2, 4, 6] and array(groups["odd"]) == [1, 3, 5]
    words = ["one", "two", "three", "four", "five"]
    by_len = lua.eval("function(t) return _.groupBy(t, function(i, v) return #v end) end")(words)
    assert {k: array(v) for k, v in by_len.items()} == {n: [w for w in words if len(w) == n] for n in (3, 4, 5)}
    by_mod = lua.eval("_.groupBy({3, 9, 10, 12, 15}, function(k, v, x) return v % x == 0 end, 3)")
    assert array(by_mod[True]) == [3, 9, 12, 15] and array(by_mod[False]) == [10]
    rng = random.Random(9)
    letters = [rng.choice("abcde") for _ in range(60)]
    counts = lua.eval("function(t) return _.countBy(t, function(i, v) return v:upper() end) end")(letters)
    assert counts == {k.upper(): n for k, n in Counter(letters).items()}
    assert lua.eval("_.containsKeys({1, 2, 3, 4}, {4, 5, 6})") is True                  # keys, not values
    assert lua.eval("_.containsKeys({1, 2, 3}, {4, 5, 6, 7})") is False
    assert lua.eval("_.containsKeys({x = 1, y = 2, z = 5}, {x = 4, y = -1})") is True
    assert lua.eval("_.containsKeys({x = 1, y = 2}, {x = 4, y = -1, z = 0})") is False
    assert lua.eval("_.sameKeys({1, 2, 'd', 'b'}, {1, 2, 3, 5})") is True
    assert lua.eval("_.sameKeys({1, 2, 3, 4}, {1, 2, 3})") is False
    assert lua.eval("_.sameKeys({x = 1, y = 2}, {x = 1, y = 2, z = 3})") is False


# ---------------------------------------------------------------------------- array functions
def test_toArray_find_reverse_fill(lua):
    assert array(lua.eval("_.toArray(1, 2, 8, 'd', 'a', 0)")) == [1, 2, 8, "d", "a", 0]
    assert lua.eval("_.find({4, 3, 2, 1}, 2)") == 3
    assert lua.eval("_.find({{4}, {3}, {2}, {1}}, {3})") == 2
    assert lua.eval("_.find({4, 4, 3, 3, 2, 1, 2, 1, 1}, 2, 6)") == 7
    assert lua.eval("_.find({1, 2}, 5)") is None
    assert array(lua.eval("_.reverse({1, 2, 3, 'd'})")) == ["d", 3, 2, 1]
    fill = fn(lua, "return _.fill(_.range(1, 5), ...)")
    for args in [(0,), (0, 3), (0, 2, 4), (0, 3, 8), (0, 5, 10)]:
        ref = list(range(1, 6))
        lo = args[1] if len(args) > 1 else 1
        hi = args[2] if len(args) > 2 else 5
        ref += [None] * (hi - len(ref))
        for i in range(lo, hi + 1):
            ref[i - 1] = args[0]
        assert array(fill(*args)) == ref


def test_selectWhile_dropWhile_sortedIndex_indexOf(lua):
    assert array(lua.eval("_.selectWhile({2, 4, 6, 8, 9, 10, 12}, function(i, v) return v % 2 == 0 end)")) == [2, 4, 6, 8]
    assert array(lua.eval("_.takeWhile({2, 4, 5, 8}, function(i, v) return v % 2 == 0 end)")) == [2, 4]
    assert array(lua.eval("_.dropWhile({2, 4, 6, 8, 9, 10, 12}, function(i, v) return v % 2 == 0 end)")) == [9, 10, 12]
    assert array(lua.eval("_.rejectWhile({2, 4, 6, 8}, function(i, v) return v % 2 == 0 end)")) == []
    rng = random.Random(11)
    import bisect
    sorted_nums = sorted(rng.randint(0, 30) for _ in range(20))
    for x in (-1, 0, 7, 15, 30, 31):
        assert lua.eval("function(t, x) return _.sortedIndex(t, x) end")(sorted_nums, x) == bisect.bisect_left(sorted_nums, x) + 1
    assert lua.eval("_.sortedIndex({-5, 0, 4, 4}, 3, function(a, b) return a < b end)") == 3
    assert lua.execute("local t = {0, 10, 3, -5}; return _.sortedIndex(t, 4, nil, true), t[1], t[4]") == (4, -5, 10)
    assert lua.eval("_.sortedIndex({'a', 'd', 'e', 'z'}, 'b')") == 2
    assert lua.eval("_.indexOf({'a', 'd', 'd', 'z'}, 'd')") == 2 and lua.eval("_.indexOf({1}, 2)") is None
    assert lua.eval("_.lastIndexOf({'a', 'd', 'd', 'z'}, 'd')") == 3 and lua.eval("_.lastIndexOf({1}, 2)") is None
    assert lua.eval("_.indexOf({{1}}, {1})") is None                        # == , not isEqual
    mult3 = "function(_, v) return v % 3 == 0 end"
    assert lua.eval(f"_.findIndex({{1, 2, 3, 4, 5, 6}}, {mult3})") == 3
    assert lua.eval(f"_.findLastIndex({{1, 2, 3, 4, 5, 6}}, {mult3})") == 6
    assert lua.eval("_.findLastIndex({1, 2, 3, 4, 5}, function(_, v) return v > 5 end)") is None


def test_addTop_push_pop_unshift_pull_removeRange(lua):
    assert array(lua.eval("_.addTop({1}, 1, 2, 3, 4)")) == [4, 3, 2, 1, 1]
    assert array(lua.eval("_.push({1}, 1, 2, 3, 4)")) == [1, 1, 2, 3, 4]
    assert lua.execute("local a = {1, 2, 3}; local p = _.pop(a) return p, #a, a[1]") == (1, 2, 2)
    assert lua.execute("local a = {1, 2, 3, 4}; return _.shift(a, 3)") == (1, 2, 3)
    assert lua.execute("local a = {1, 2, 3}; local v = _.unshift(a) return v, #a, a[2]") == (3, 2, 2)
    assert lua.execute("local a = {1, 2, 3}; return _.unshift(a, 5)") == (3, 2, 1)
    assert lua.execute("return select('#', _.pop({}))") == 0
    assert array(lua.eval("_.pull({1, 2, 1, 2, 3, 4, 3}, 1, 2, 3)")) == [4]
    assert array(lua.eval("_.remove({{1}, {2}, {1}}, {1})")) == [{1: 2}]
    data = list(range(1, 10))
    rr = fn(lua, "local t, a, b = ... local r = _.removeRange(t, a, b) return r, #t")
    for a, b in [(3, 8), (2, 4), (3, None), (None, None), (0, 100), (4, 2), (9, 9)]:
        lo = 1 if a is None else max(1, min(a, 9))
        hi = 9 if b is None else max(1, min(b, 9))
        expected = data if hi < lo else data[:lo - 1] + data[hi:]
        result, left = rr(data, a, b)
        assert (array(result) if result else []) == expected and left == 9        # the input is untouched
    assert lua.execute("local t = {{1}, {2}}; local r = _.rmRange(t, 2) return r[1] ~= t[1] and r[1][1] == 1") is True


def test_chunk_slice_first_initial_last_rest_nth(lua):
    chunks = lua.eval("_.chunk({1, 1, 2, 3, 3, 4}, function(k, v) return v % 2 == 0 end)")
    assert [array(chunks[i]) for i in range(1, len(chunks) + 1)] == [[1, 1], [2], [3, 3], [4]]
    # numbered from 1 also when f's first result is truthy (1.6.1 started at 0, see init.lua)
    chunks = lua.eval("_.chunk({2, 4, 1, 6}, function(k, v) return v % 2 == 0 end)")
    assert set(chunks) == {1, 2, 3} and [array(chunks[i]) for i in (1, 2, 3)] == [[2, 4], [1], [6]]
    assert lua.execute("local t = {a = 1}; return _.chunk(t, print) == t") is True
    chunks = lua.eval("_.chunk({1, 2, 3, 4}, function(k, v) if v > 1 then return v < 4 end end)")
    assert [array(chunks[i]) for i in range(1, len(chunks) + 1)] == [[1], [2, 3], [4]]      # nil is a result too
    data = list(range(1, 10))
    slice_ = fn(lua, "local name, t, a, b = ... local r = _[name](t, a, b) return r")

    def arr(x):
        return None if x is None else (array(x) if x else [])
    for a, b in [(3, 6), (2, 3), (3, None), (None, None), (0, 4), (5, 100), (7, 2)]:
        lo = 1 if a is None else a
        hi = 9 if b is None else b
        assert arr(slice_("slice", data, a, b)) == [v for v in data if lo <= v <= hi]
        assert arr(slice_("sub", data, a, b)) == [v for v in data if lo <= v <= hi]
    for n in [None, 0, 1, 3, 9, 12]:
        k = 1 if n is None else n
        assert arr(slice_("first", data, n)) == data[:k]
        assert arr(slice_("take", data, n)) == data[:k]
    for n in [None, 0, 1, 5, 9, 12]:
        assert arr(slice_("initial", data, n)) == (data[:-1] if n is None else data[:max(len(data) - n, 0)])
    assert slice_("initial", data, -1) is None
    for n in [None, 1, 3, 9, 12]:
        assert arr(slice_("last", data, n)) == (data[1:] if n is None else data[-min(n, 9):])
    assert slice_("last", data, 0) is None and slice_("skip", data, -2) is None
    for i in [None, -1, 0, 1, 6, 9, 10]:
        assert arr(slice_("rest", data, i)) == ([] if i is not None and i > 9 else data[max(1, i or 1) - 1:])
    assert lua.eval("_.nth({1, 2, 3, 4, 5, 6}, 3)") == 3


def test_compact_flatten_and_set_operations(lua):
    assert array(lua.eval("_.compact({nil, 'aa', false, 'bb', true})")) == ["aa", "bb", True]
    assert array(lua.eval("_.flatten({1, {2, 3}, {4, 5, {6, 7}}})")) == [1, 2, 3, 4, 5, 6, 7]
    shallow = lua.eval("_.flatten({1, {2, 3}, {4, 5, {6, 7}}}, true)")
    assert array(shallow)[:5] == [1, 2, 3, 4, 5] and array(shallow[6]) == [6, 7]
    assert array(lua.eval("_.difference({1, 2, 'a', 4, 5}, {1, 'a', 'b'})")) == [2, 4, 5]
    assert array(lua.eval("_.without({1, 2, 'a', 4, 5})")) == [1, 2, "a", 4, 5]
    assert array(lua.eval("_.union({'a'}, {'a', 1, 2, 3}, {2, 10})")) == ["a", 1, 2, 3, 10]
    assert array(lua.eval("_.union({'a', {'b', 'c'}}, {1, {2}, 3}, {2, 10})")) == ["a", "b", "c", 1, 2, 3, 10]
    assert array(lua.eval("_.intersection({'a'}, {'a', 1, 2, 3}, {2, 10, 1, 'a'})")) == ["a"]
    assert array(lua.eval("_.intersection({1, 2, 3, 4}, {4, 2, 3}, {2, 3, 10, 4})")) == [2, 3, 4]
    assert lua.eval("_.intersection({1, {3}}, {4, 2, 3}, {2, 3, 10})") == {}
    rng = random.Random(13)
    a = list(dict.fromkeys(rng.randint(0, 20) for _ in range(12)))
    b = list(dict.fromkeys(rng.randint(0, 20) for _ in range(12)))
    sym = lua.eval("function(a, b) return _.symmetricDifference(a, b) end")(a, b)
    assert sorted(sym.values()) == sorted(set(a) ^ set(b)) and len(sym) == len(set(a) ^ set(b))
    assert sorted(lua.eval("function(a, b) return _.xor(a, b) end")(a, b).values()) == sorted(set(a) ^ set(b))
    dup = [rng.randint(0, 6) for _ in range(30)]
    assert array(lua.eval("function(t) return _.unique(t) end")(dup)) == list(dict.fromkeys(dup))
    assert lua.eval("_.isunique({1, 2, 3, 4, 5})") is True and lua.eval("_.isuniq({1, 2, 3, 4, 4})") is False


def test_zip_append_interleave_interpose(lua):
    z = lua.eval("_.zip({'Bob', 'Alice', 'James'}, {22, 23})")
    assert [array(z[i]) for i in (1, 2, 3)] == [["Bob", 22], ["Alice", 23], ["James"]]
    assert lua.eval("_.transpose()") == {}
    rows = [[1, 2, 3], [4, 5, 6]]
    cols = lua.eval("function(a, b) return _.transpose(a, b) end")(*rows)
    assert [array(cols[i]) for i in (1, 2, 3)] == [list(c) for c in zip(*rows)]
    assert array(lua.eval("_.append({1, 2, 3}, {'a', 'b'})")) == [1, 2, 3, "a", "b"]
    assert array(lua.eval("_.interleave({1, 2, 3}, {'a', 'b', 'c'})")) == [1, "a", 2, "b", 3, "c"]
    assert array(lua.eval("_.interleave({1}, {'a', 'b', 'c'})")) == [1, "a", "b", "c"]
    assert array(lua.eval("_.interpose('a', {1, 2, 3})")) == [1, "a", 2, "a", 3]
    assert array(lua.eval("_.interpose(false, {5, 5, 5, 5})")) == [5, False, 5, False, 5, False, 5]


def test_range_rep(lua):
    rng = fn(lua, "return _.range(...)")

    def ref(*args):
        if not args:
            return []
        start, stop, step = (0, args[0], 1) if len(args) == 1 else (args[0], args[1], args[2] if len(args) > 2 else 1)
        if step == 0:
            return []
        steps = max(math.floor((stop - start) / step), 0)
        return [start + step * i for i in range(steps + 1)] if steps > 0 else []
    cases = [(), (3,), (1, 4), (1, 5, 1), (-2, 5, 1), (1, 5, 2), (1, 5, 0), (1, 5, -1), (3.2, 5, 0.5),
             (0, 2, 0.7), (5, 1, -1), (10, 0, -3), (1, 1), (0, 1, 0.1), (-1.5, 2.25, 0.25)]
    for args in cases:
        got = rng(*args)
        assert (array(got) if got else []) == ref(*args), args
    assert array(rng(0, 2, 0.7)) == [0, 0.7, 1.4] and array(rng(3)) == [0, 1, 2, 3]
    assert array(lua.eval("_.rep(4, 3)")) == [4, 4, 4] and array(lua.eval("_.rep(false, 2)")) == [False, False]
    assert lua.eval("_.rep('x', 0)") == {}


def test_partition_sliding_permutation(lua):
    parts = fn(lua, """
        local name, t, n, pad = ...
        local out = {}
        for p in _[name](t, n, pad) do out[#out + 1] = table.concat(p, ',') end
        return table.concat(out, ' ')
    """)
    data = list(range(1, 11))

    def ref_partition(n, pad=None):
        out = []
        for i in range(0, len(data), n):
            p = data[i:i + n]
            if pad is not None:
                p += [pad] * (n - len(p))
            out.append(",".join(map(str, p)))
        return " ".join(out)

    def ref_sliding(n, pad=None):
        out = []
        for i in range(0, len(data) + 1, n - 1):
            p = data[i:i + n]
            if p and i + 1 < len(data):
                if pad is not None:
                    p += [pad] * (n - len(p))
                out.append(",".join(map(str, p)))
        return " ".join(out)
    for n in (1, 2, 3, 4, 5, 10, 12):
        assert parts("partition", data, n) == ref_partition(n)
        assert parts("part", data, n, 0) == ref_partition(n, 0)
    assert parts("partition", data) == ref_partition(1)
    for n in (2, 3, 4, 5, 9, 10, 12):
        assert parts("sliding", data, n) == ref_sliding(n)
        assert parts("sliding", data, n, 0) == ref_sliding(n, 0)
    assert parts("sliding", data, 3) == "1,2,3 3,4,5 5,6,7 7,8,9 9,10"
    assert parts("sliding", data) == ref_sliding(2)
    perms = lua.execute("""
        local t, out = {'a', 'b', 'c'}, {}
        for p in _.permutation(t) do out[#out + 1] = table.concat(p) end
        return table.concat(out, ' '), table.concat(t)
    """)
    assert perms == ("bca cba cab acb bac abc", "abc")           # the tutorial's order; t restored
    letters = list("abcde")
    got = lua.eval("""function(t) local out = {} for p in _.perm(t) do out[#out + 1] = table.concat(p) end
                      return out end""")(letters)
    assert sorted(got.values()) == sorted("".join(p) for p in itertools.permutations(letters))


def test_invert_concat(lua):
    assert lua.eval("_.invert({'a', 'b', 'c'})") == {"a": 1, "b": 2, "c": 3}
    assert lua.eval("_.mirror({x = 'y'})") == {"y": "x"}
    assert lua.eval("_.concat({'a', 1, 0, 1, 'b'})") == "a101b"
    assert lua.eval("_.concat({1, true, 3, false})") == "1true3false"
    assert lua.eval("_.join({1, 3, false, 'A'}, ', ')") == "1, 3, false, A"
    assert lua.eval("_.concat({1, 3, false, 'A', 'K'}, ' ', 2)") == "3 false A K"
    assert lua.eval("_.concat({1, 3, false, 'A'}, ' ', 2, 3)") == "3 false"


# ---------------------------------------------------------------------------- utility functions
def test_noop_identity_constant_memoize(lua):
    assert lua.execute("return select('#', _.noop(1, 2))") == 0
    assert lua.execute("local v = {}; return _.identity(v) == v, _.identity(false)") == (True, False)
    assert lua.execute("local g = _.constant(9.81); return g(), g(10), g(nil)") == (9.81, 9.81, 9.81)
    calls = lua.execute("""
        local calls = 0
        local function fib(n) calls = calls + 1 return n < 2 and n or fib(n - 1) + fib(n - 2) end
        local mfib = _.memoize(fib)
        local a = mfib(20); local c1 = calls
        local b = mfib(20); local c2 = calls
        local sq = _.cache(function(a, b) calls = calls + 1 return a * b end, function(a, b) return a .. ':' .. b end)
        calls = 0
        local r = {sq(2, 3), sq(2, 3), sq(3, 2), sq(2, 4)}
        return a, b, c1 > 0 and c2 == c1, calls, r[1], r[3], r[4], _.memoize(function() return 7 end)()
    """)
    assert calls == (6765, 6765, True, 3, 6, 6, 8, 7)


def test_once_before_after(lua):
    assert lua.execute("""
        local n = 0
        local sq = _.once(function(a) n = n + 1 return a * a end)
        return sq(1), sq(2), sq(3), n
    """) == (1, 1, 1, 3)                                          # f runs each time, with the first call's args
    assert lua.execute("""
        local greet = _.before(function(s) return 'hello ' .. s end, 3)
        return greet('John'), greet('Moe'), greet('James'), greet('Joseph'), greet('Allan')
    """) == ("hello John", "hello Moe", "hello James", "hello James", "hello James")
    got = lua.execute("local f = _.after(_.identity, 3) local r = {} for i = 1, 6 do r[i] = f(i) or 0 end return r")
    assert array(got) == [0, 0, 3, 4, 5, 6]


def test_compose_pipe_complement_juxtapose_wrap(lua):
    lua.execute("f = function(x) return x ^ 2 end; g = function(x) return x + 1 end; h = function(x) return x / 2 end")
    for x in (10, 20, 3.5):
        assert lua.eval("_.compose(f, g, h)")(x) == (x / 2 + 1) ** 2
        assert lua.eval("function(x) return _.pipe(x, f, g, h) end")(x) == (x / 2 + 1) ** 2
    assert lua.execute("""
        local function a(s) return (s or '') .. 'f' end
        local function b(s) return (s or '') .. 'g' end
        local function c(s) return (s or '') .. 'h' end
        return _.compose(a, b, c)(), _.compose(c, b, a)(), _.compose(a, c, b)()
    """) == ("hgf", "fgh", "ghf")
    assert lua.execute("return _.compose(math.max)(3, 9, 4), _.compose()(1)") == (9, None)
    assert lua.execute("return _.complement(function() return true end)(), _.complement(function() end)()") == (False, True)
    assert lua.execute("return _.juxtapose(10, f, g, h)") == (100, 11, 5)
    assert lua.execute("return _.juxt(10, g)") == 11
    assert lua.execute("""
        local greet = function(name) return 'hi: ' .. name end
        return _.wrap(greet, function(f, arg) return f(arg) .. '\\nhi: ' .. arg:reverse() end)('John')
    """) == "hi: John\nhi: nhoJ"


def test_times_bind_bindn_bindAll(lua):
    assert array(lua.eval("_.times(3, ('Lua programming'):gmatch('.'))")) == ["L", "u", "a"]
    assert array(lua.eval("_.times(4, function(i, m) return i * m end, 10)")) == [10, 20, 30, 40]
    assert lua.eval("_.bind(math.sqrt, 2)()") == math.sqrt(2)
    assert array(lua.eval("_.bind2(_.last, 2)({1, 2, 3, 4, 5, 6})")) == [5, 6]
    assert lua.execute("""
        local out = _.bindn(function(...) return table.concat({...}) end, 'OutPut', ':', ' ')
        return out(1, 2, 3), out('a', 'b', 'c', 'd')
    """) == ("OutPut: 123", "OutPut: abcd")
    assert lua.execute("return _.bindn(function(...) return select('#', ...), ... end, nil, 2)(nil)") == (3, None, 2, None)
    assert lua.execute("""
        local window = {
           setPos = function(w, x, y) w.x, w.y = x, y end,
           setName = function(w, name) w.name = name end,
           getName = function(w) return w.name end,
        }
        window = _.bindAll(window, 'setPos', 'setName', 'getName', 'missing')
        window.setPos(10, 15); window.setName('fooApp')
        return window.x, window.y, window.getName(), window.missing
    """) == (10, 15, "fooApp", None)


def test_uniqueId_iterator_array_flip(lua):
    ids = lua.execute("return _.uniqueId(), _.uniqueId('ID%s'), _.uid(function(id, s) return s .. id .. s end, '$')")
    assert ids == (0, "ID1", "$2$")
    assert array(lua.eval("{_.uniqueId(), _.uniqueId(), _.uniqueId()}")) == [3, 4, 5]
    assert lua.execute("local po2 = _.iterator(function(x) return x * 2 end, 1) return po2(), po2(), po2()") == (2, 4, 8)
    assert lua.execute("local it = _.iter(function(x) return x + 2 end, 0) it() it() return it()") == 6
    assert array(lua.eval("_.array(('letters'):gmatch('.'))")) == list("letters")
    assert sorted(lua.eval("_.array(pairs({a = 1, b = 2, c = 3}))").values()) == ["a", "b", "c"]
    assert lua.eval("_.flip(function(...) return table.concat({...}) end)('a', 'b', 'c')") == "cba"
    assert lua.execute("return _.flip(function(a, b, c) return a, b, c end)(1, nil, 3)") == (3, None, 1)


def test_over_overEvery_overSome_overArgs(lua):
    rng = random.Random(17)
    nums = [rng.randint(-20, 20) for _ in range(7)]
    assert array(lua.eval("function(t) return _.over(math.min, math.max)(unpack(t)) end")(nums)) == [min(nums), max(nums)]
    assert array(lua.eval("_.over(math.max, math.min)(5, 10, 12, 4, 3)")) == [12, 3]
    lua.execute("""
        alleven = function(...) for _, v in ipairs({...}) do if v % 2 ~= 0 then return false end end return true end
        allpositive = function(...) for _, v in ipairs({...}) do if v < 0 then return false end end return true end
    """)
    every = lua.eval("function(t) return _.overEvery(alleven, allpositive)(unpack(t)) end")
    some = lua.eval("function(t) return _.overSome(alleven, allpositive)(unpack(t)) end")
    for args in ([2, 4, -1, 8], [10, 3, 2, 6], [8, 4, 6, 10], [-1, -5, -3], [-2, -4]):
        even, pos = all(v % 2 == 0 for v in args), all(v >= 0 for v in args)
        assert every(args) is (even and pos) and some(args) is (even or pos)
    new_f = "_.overArgs(function(...) return ... end, function(x) return x * 3 end, function(x) return x ^ 2 end)"
    assert lua.execute(f"return {new_f}(1, 2)") == (3, 4)
    assert lua.execute(f"return {new_f}(10, 10, 10, 10)") == (30, 100, 10, 10)
    assert lua.execute(f"return {new_f}(false, 3)") == (False, 9)       # falsy arguments are left alone


def test_partial_partialRight_curry_time(lua):
    lua.execute("diff = function(a, b) return a - b end; cat = function(...) return table.concat({...}, ',') end")
    for x in (5, 10, -5):
        assert lua.eval("_.partial(diff, 20)")(x) == 20 - x
        assert lua.eval("_.partial(diff, '_', 10)")(x) == x - 10
    assert lua.eval("_.partialRight(cat, 'a', 'b', 'c')('d')") == "d,a,b,c"
    assert lua.eval("_.partialRight(cat, 'a', 'b')('c', 'd')") == "c,d,a,b"
    assert lua.eval("_.partialRight(cat, 'a', '_', 'c')('d', 'b')") == "b,a,d,c"
    assert lua.eval("_.partialRight(cat, 'a', 'b', '_')('c', 'd')") == "d,a,b,c"
    assert lua.eval("_.partialRight(cat, '_', 'a')('b', 'c', 'd')") == "c,d,b,a"
    assert lua.eval("_.partial(cat, '_', 'x', '_')(1, 2, 3)") == "1,x,2,3"
    assert lua.execute("return _.partial(function(...) return select('#', ...) end, '_', 2)()") == 2   # nil for the hole
    assert lua.execute("""
        local sum5 = _.curry(function(a, b, c, d, e) return a + b + c + d + e end, 5)
        local c1 = sum5(1); local c2 = c1(2)
        return type(c1), type(c2), c2(3)(4)(5), sum5(8)(-2)(4)(-10)(1)
    """) == ("function", "function", 15, 1)
    assert lua.execute("local p = _.curry(function(x, y) return x * y end) return p(5)(4), p(3)(-5)") == (20, -15)
    assert lua.execute("local id = _.curry(_.identity, 1) return id('value'), id(false)") == ("value", False)
    with pytest.raises(LuaError, match="attempt to call a number value"):
        lua.execute("local add = _.curry(function(a, b) return a + b end, 2); add(1)(2)(3)")
    got = lua.execute("""
        local function spin(n) local i = 0 while i < n do i = i + 1 end return i, 'done', nil end
        local d, i, s, z = _.time(spin, 3e6)
        return type(d), d >= 0, i, s, z, select('#', _.time(spin, 1))
    """)
    assert got == ("number", True, 3000000, "done", None, 4)


# ---------------------------------------------------------------------------- object functions
def test_keys_values_kvpairs_toObj_property(lua):
    obj = {"x": 1, "y": 2, "z": 3, 1: "one"}
    assert sorted(map(str, lua.eval("function(t) return _.keys(t) end")(obj).values())) == sorted(map(str, obj))
    assert sorted(map(str, lua.eval("function(t) return _.values(t) end")(obj).values())) == sorted(map(str, obj.values()))
    assert array(lua.eval("_.keys({4, 5, 6})")) == [1, 2, 3] and array(lua.eval("_.values({4, 5, 6})")) == [4, 5, 6]
    pairs = lua.eval("_.kvpairs({x = 1, y = 2, z = 3})")
    assert sorted(tuple(array(p)) for p in pairs.values()) == [("x", 1), ("y", 2), ("z", 3)]
    assert lua.eval("_.toObj({{'x', 1}, {'y', 2}, {'z', 3}})") == {"x": 1, "y": 2, "z": 3}
    assert lua.execute("return _.property('sin')(math) == math.sin, _.property('name')({name = 'Henry'})") == (True, "Henry")
    assert lua.execute("return _.propertyOf(string)('char') == string.char, _.propertyOf(_)('propertyOf') == _.propertyOf") == (
        True, True)


def test_toBoolean_extend_functions(lua):
    assert lua.execute("return _.toBoolean(true), _.toBoolean(1), _.toBoolean({}), _.toBoolean(false), _.toBoolean(nil)") == (
        True, True, True, False, False)
    assert lua.eval("_.extend({a = 'a'}, {a = 'b', c = 'd'}, nil, 5, {e = 'f', a = 'z'})") == {"a": "z", "c": "d", "e": "f"}
    assert lua.execute("local s = {i = 'i'}; _.extend({}, s) return _.isEqual(s, {i = 'i'})") is True
    co = lua.eval("(function() local t = {} for k, v in pairs(coroutine) do if type(v) == 'function' then t[#t + 1] = k end end return t end)()")
    assert array(lua.eval("_.functions(coroutine)")) == sorted(co.values()) and "resume" in co.values()
    assert lua.execute("""
        local x = {}; x.__index = x
        function x.a() end; function x.b() end
        local xx = setmetatable({c = function() end, d = 5}, x)
        return table.concat(_.functions(xx), ','), table.concat(_.methods(xx, true), ',')
    """) == ("c", "a,b,c")
    names = array(lua.eval("_.functions()"))
    assert names == sorted(names) and {"map", "collect", "each", "isNaN", "curry", "compare"} <= set(names)
    assert not {"chain", "value", "import"} & set(names)                # as 1.6.1: the library's own
    assert lua.eval("function(names) for __, n in ipairs(names) do if type(_[n]) ~= 'function' then return n end end end")(names) is None


def test_clone_tap_has_pick_omit_template(lua):
    assert lua.execute("""
        local particle = {position = {x = 0, y = 0}, mass = 1}
        local deep, shallow = _.clone(particle), _.clone(particle, true)
        deep.position.x = 3
        local deepOk = particle.position.x == 0 and deep ~= particle
        shallow.position.x = 4
        return deepOk, particle.position.x, _.isEqual(_.clone({1, {2, {3}}}), {1, {2, {3}}})
    """) == (True, 4, True)
    assert lua.execute("return _.clone(1), _.clone(false), _.clone(nil), _.clone('hello'), _.clone(print) == print") == (
        1, False, None, "hello", True)
    assert lua.execute("local mt = {}; local c = _.clone(setmetatable({1}, mt)) return getmetatable(c)") is None
    assert lua.execute("local t = {}; t.me = t; return _.clone(t, true).me == t") is True
    # a table met twice (not a cycle) is copied at each place, as 1.6.1 does
    assert lua.execute("local s = {1}; local c = _.clone({a = s, b = {s}}) "
                       "return c.a ~= s and c.b[1] ~= s and c.a ~= c.b[1] and c.b[1][1] == 1") is True
    assert lua.execute("""
        local seen = {}
        local r = _.tap({1, 2}, function(t, extra) seen[1] = #t; seen[2] = extra end, 'x')
        return r[2], seen[1], seen[2]
    """) == (2, 2, "x")
    assert lua.execute("return _.has(_, 'has'), _.has(math, 'random'), _.has({a = false}, 'a'), _.has({}, 'b')") == (
        True, True, True, False)
    assert lua.eval("_.pick({a = 1, b = 2, c = 3}, 'a', 'c')") == {"a": 1, "c": 3}
    assert lua.eval("_.choose({a = 1, b = 2, c = 3}, {{'b', 'a'}}, 'c', 'k')") == {"a": 1, "b": 2, "c": 3}
    assert lua.eval("_.pick({a = false, b = false, c = true}, 'a', 'b')") == {"a": False, "b": False}
    assert lua.eval("_.omit({a = 1, b = 2, c = 3}, 'a', 'c')") == {"b": 2}
    assert lua.eval("_.drop({a = 1, b = 2, c = 3}, {{'b'}}, 'k')") == {"a": 1, "c": 3}
    assert lua.eval("_.template({a = 0}, {a = 1, b = 2, c = 3})") == {"a": 0, "b": 2, "c": 3}
    assert lua.eval("_.defaults({a = false, b = 10})") == {"a": False, "b": 10}
    assert lua.eval("_.template({a = false}, {a = 1})") == {"a": 1}       # a false value is replaced


def test_isEqual_result(lua):
    eq = fn(lua, "return _.isEqual(...)")
    assert eq(1, 1) is True and eq(1.0, 1) is True and eq(2, 2.0001) is False
    assert eq(3.14, math.pi) is False and eq("a", "b") is False and eq(None, False) is False
    assert lua.eval("_.isEqual({3, 4, 5}, {3, 4, {5}})") is False
    assert lua.eval("_.isEqual({x = 0, {x1 = 0, {x2 = 0}}}, {x = 0, {x1 = 0, {x2 = 0}}})") is True
    assert lua.eval("_.isEqual({x = 0, {x1 = 0, {x2 = 0}}}, {x = 0, {x1 = 0, {x2 = 1}}})") is False
    assert lua.eval("_.isEqual({a = 1}, {a = 1, b = 2})") is False and lua.eval("_.compare({}, {})") is True
    # b's keys are looked up in a too (here b only seems to have a's key through __index)
    assert lua.eval("_.isEqual({a = 1}, setmetatable({b = 1}, {__index = {a = 1}}))") is False
    assert lua.execute("""
        local a, b = {x = 1, y = 2}, {x = 2, y = 1}
        local mt = {__eq = function(a, b) return (a.x and b.x and a.y and b.y) ~= nil end}
        setmetatable(a, mt)
        local one_sided = _.isEqual(a, b, true)
        setmetatable(b, mt)
        return _.isEqual(a, b), one_sided, _.isEqual(a, b, true), _.isEqual(a, {x = 2}, true), _.isEqual(a, {x = 2, y = 7}, true)
    """) == (False, True, True, False, True)
    assert lua.execute("return _.result('abc', 'len'), _.result('hello', 'reverse'), _.result('Hello', 'match', '%u')") == (
        3, "olleh", "H")
    assert lua.execute("return _.result({'a', 'b', 'c'}, table.concat, ' '), _.result({size = 0}, 'size')") == ("a b c", 0)
    assert lua.execute("return _.result({}, 'nothing')") is None


def test_type_predicates(lua):
    cases = {
        "isTable": {"{}": True, "string": True, "1": False, "''": False, "print": False, "nil": False},
        "isCallable": {"print": True, "function() end": True, "setmetatable({}, {__call = print})": True,
                       "setmetatable({}, {__index = string}).upper": True, "{}": False, "1": False, "nil": False},
        "isArray": {"{}": True, "{1, 2, 3}": True, "{false, true}": True, "{1, nil}": True, "{1, nil, 2}": False,
                    "{a = 1, 1, 2, 3}": False, "{[1] = true, [10] = false}": False, "''": False, "nil": False},
        "isIterable": {"{}": True, "function() end": False, "false": False, "1": False},
        "isEmpty": {"''": True, "{}": True, "nil": True, "true": True, "print": True, "{'a'}": False,
                    "' '": False, "{nil, false, true}": False},
        "isString": {"''": True, "'Hello'": True, "{}": False, "nil": False},
        "isFunction": {"print": True, "function() end": True, "{}": False, "'a'": False},
        "isNil": {"nil": True, "false": False, "{}": False},
        "isNumber": {"math.pi": True, "math.huge": True, "0/0": True, "nil": False, "'1'": False},
        "isNaN": {"0/0": True, "1": False, "1/0": False, "'0'": False, "nil": False},
        "isFinite": {"99e99": True, "math.pi": True, "math.huge": False, "-1/0": False, "0/0": False, "''": False},
        "isBoolean": {"true": True, "false": True, "1 == 1": True, "print": False, "0": False},
        "isInteger": {"1": True, "-1": True, "0": True, "math.pi": False, "1/0": True, "0/0": False, "'1'": False},
    }
    for name, table in cases.items():
        for expr, want in table.items():
            assert lua.eval(f"_.{name}({expr})") is want, (name, expr)
    assert lua.execute("return _.isNil()") is True


# ---------------------------------------------------------------------------- chaining
def test_chaining_counts_the_lyrics(lua):
    lyrics = ["I am a lumberjack and I am okay", "I sleep all night and I work all day",
              "He is a lumberjack and he is okay", "He sleeps all night and he works all day"]
    stats = lua.eval("""function(lyrics)
        return _.chain(lyrics)
           :map(function(k, line) local t = {} for w in line:gmatch('(%w+)') do t[#t + 1] = w end return t end)
           :flatten()
           :countBy(function(i, v) return v:lower() end)
           :value()
    end""")(lyrics)
    assert stats == Counter(w.lower() for line in lyrics for w in line.split())


def test_chaining_forms_tap_and_value(lua):
    assert lua.eval("_.chain({1, 2, 3, 4}):filter(function(i, k) return k % 2 ~= 0 end):max():value()") == 3
    assert lua.eval("_({1, 2, 3, 4}):select(function(i, k) return k % 2 ~= 0 end):max():value()") == 3
    assert lua.execute("local t = {1, 2, 3}; return _.chain(t):value() == t, _(t):value() == t") == (True, True)
    assert lua.execute("""
        local caught = {}
        local v = _.chain({1, 2, 3})
           :map(function(i, j) return j * 2 end)
           :tap(function(t) caught[1] = _.max(t) end)
           :map(function(i, k) return k ^ 2 end)
           :tap(function(t) caught[2] = _.min(t) end)
           :value()
        return caught[1], caught[2], v[3]
    """) == (6, 4, 36)
    # a library function called on a chained value runs on the wrapped one and wraps its result
    assert lua.execute("local c = _.size(_.chain({1, 2})); return getmetatable(c) == getmetatable(_.chain(1)), c:value()") == (
        True, 2)
    assert lua.execute("return _.chain('abc'):result('upper'):value()") == "ABC"
    assert lua.execute("return _.chain({5, 6}):collect(function(k, v) return k + v end):reverse():value()[1]") == 8


# ---------------------------------------------------------------------------- aliases, import
ALIASES = {
    "forEach": "each", "forEachi": "eachi", "loop": "cycle", "collect": "map", "inject": "reduce",
    "foldl": "reduce", "injectr": "reduceRight", "foldr": "reduceRight", "mapr": "mapReduce",
    "maprr": "mapReduceRight", "any": "include", "some": "include", "contains": "include",
    "filter": "select", "discard": "reject", "every": "all", "takeWhile": "selectWhile",
    "rejectWhile": "dropWhile", "shift": "pop", "remove": "pull", "rmRange": "removeRange",
    "chop": "removeRange", "sub": "slice", "head": "first", "take": "first", "tail": "rest",
    "skip": "last", "without": "difference", "diff": "difference", "symdiff": "symmetricDifference",
    "xor": "symmetricDifference", "uniq": "unique", "isuniq": "isunique", "transpose": "zip",
    "part": "partition", "perm": "permutation", "mirror": "invert", "join": "concat",
    "cache": "memoize", "juxt": "juxtapose", "uid": "uniqueId", "iter": "iterator",
    "methods": "functions", "choose": "pick", "drop": "omit", "defaults": "template",
    "compare": "isEqual",
}


def test_aliases_are_the_functions_they_name(lua):
    same = lua.eval("function(a, n) return type(_[a]) == 'function' and _[a] == _[n] end")
    for alias, name in ALIASES.items():
        assert same(alias, name) is True, alias
    assert lua.eval("_.collect == _.each") is False
    assert lua.eval("_.any({1, 2}, 2)") is True and lua.eval("_.head({7, 8})")[1] == 7
    assert array(lua.eval("_.tail({5, 8, 12, 20}, 2)")) == [8, 12, 20]
    assert array(lua.eval("_.chop({1, 2, 3, 4, 5, 6}, 2, 4)")) == [1, 5, 6]
    assert array(lua.eval("_.mapr({1, 2, 3}, function(m, v) return m + v end)")) == [1, 3, 6]


def test_import(lua):
    ok = lua.execute("""
        local funcs = _.functions()
        local ctx = _.import({})
        for __, n in ipairs(funcs) do if ctx[n] ~= _[n] then return n end end
        local kept = _.import({each = 1, all = 2}, true)
        local over = _.import({each = 1})
        return true, kept.each, kept.all, kept.eachi == _.eachi, over.each == _.each, kept.chain, kept.import
    """)
    assert ok == (True, 1, 2, True, True, None, None)
    assert lua.execute("""
        local r = _.import()
        return r == _G, each == _.each, type(isNaN), map({1}, function(k, v) return v + 1 end)[1]
    """) == (True, True, "function", 2)


# ---------------------------------------------------------------------------- with torch and tds
def test_with_tensors_and_tds(lua):
    lua.require("torch")
    got = lua.execute("""
        local ts = {torch.randn(3, 4), torch.randn(3, 4)}
        local fs = _.map(ts, function(k, v) return v:float() end)
        local c = _.clone({w = ts[1], n = {ts[2]}})
        local s = torch.Tensor(2):zero():log():log():sum()
        return torch.type(fs[1]), torch.type(fs[2]), (fs[2]:double() - ts[2]):abs():max(),
               c.w == ts[1], c.n[1] == ts[2], _.isNaN(s), _.isFinite(ts[1]:sum()), _.isEqual(ts[1], ts[1]),
               _.isEqual(ts[1], ts[1]:clone())
    """)
    assert got[:2] == ("torch.FloatTensor", "torch.FloatTensor") and got[2] < 1e-6
    assert got[3:] == (True, True, True, True, True, False)
    lua.execute("tds = require 'tds'")
    assert lua.execute("""
        local h = tds.Hash(); h.a = 1; h.b = 2; h.c = 3
        local keys = _.sort(_.keys(h))
        return table.concat(keys, ','), _.reduce(h, function(s, v) return s + v end), _.size(h)
    """) == ("a,b,c", 6, 1)       # size counts the arguments for anything but a table, as 1.6.1


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize("code, message", [
    ("_.map(nil, print)", r"<moses.map> expects a table as argument #1 \(t\), got nil"),
    ("_.each({1}, 42)", r"<moses.each> expects a function as argument #2 \(f\), got number"),
    ("_.collect({1}, 'f')", r"<moses.map> expects a function as argument #2 \(f\), got string"),
    ("_.reduce({1})", r"<moses.reduce> expects a function as argument #2 \(f\), got nil"),
    ("_.reduceby({1}, math.max, 0, 3)", r"<moses.reduceby> expects a function as argument #4 \(pred\), got number"),
    ("_.range(1, 'a')", r"<moses.range> expects a number or nil as argument #2 \(stop\), got string"),
    ("_.rep('a')", r"<moses.rep> expects a number as argument #2 \(n\), got nil"),
    ("_.partition({1, 2}, 0)", r"<moses.partition> expects a size of at least 1 or nil as argument #2 \(n\), got number"),
    ("_.sliding({1, 2}, 1)", r"<moses.sliding> expects a size of at least 2 or nil as argument #2 \(n\), got number"),
    ("_.compose(print, 3)", r"<moses.compose> expects a function as argument #2, got number"),
    ("_.zip({1}, 'ab')", r"<moses.zip> expects a table as argument #2, got string"),
    ("_.sortBy({1}, 3)", r"<moses.sortBy> expects a function or a key string or nil as argument #2 \(transform\), got number"),
    ("_.sort({2, 1}, {})", r"<moses.sort> expects a function or nil as argument #2 \(comp\), got table"),
    ("_.chain({1, 2}):select()", r"<moses.select> expects a function as argument #2 \(f\), got nil"),
    ("_.map({1}, torch.Tensor(2))", r"<moses.map> expects a function as argument #2 \(f\), got torch.DoubleTensor"),
    ("_.has(nil, 'x')", r"<moses.has> expects a table or a string as argument #1 \(obj\), got nil"),
    ("_.sample({})", r"<moses.sample> cannot draw a value from an empty array"),
    ("local t = {}; t.t = {t}; _.clone(t)", r"<moses.clone> cannot deep-copy a table that contains itself"),
    ("_.value({})", r"<moses.value> expects a chained value \(from _.chain\(v\) or _\(v\)\), got table"),
    ("_.import(5)", r"<moses.import> expects a table or nil as argument #1 \(context\), got number"),
    ("_.chain({}):nosuch()", r"<moses.chain> a chained value has no method nosuch"),
])
def test_bad_arguments_are_clear_errors_at_the_caller(lua, code, message):
    lua.require("torch")
    with pytest.raises(LuaError, match=message) as err:
        lua.execute(code, name="@user.lua")
    text = str(err.value)
    assert text.startswith("user.lua:1: <moses."), text          # blames the calling line
    assert "user.lua:1: in main chunk" in text                  # and the traceback shows it


def test_errors_of_the_callbacks_come_through(lua):
    with pytest.raises(LuaError, match=r"user.lua:1: boom") as err:
        lua.execute("_.map({1}, function() error('boom') end)", name="@user.lua")
    assert "in function 'map'" in str(err.value)
    # a Python callable is accepted as a function (its metatable is protected)
    assert array(lua.eval("function(f) return _.map({1, 2}, f) end")(lambda k, v: v * 3)) == [3, 6]
