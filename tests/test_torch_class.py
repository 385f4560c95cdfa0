"""torch.class and the type utilities of Torch7 (doc/utility.md), lua/torch/class.lua."""
import pytest

from sparktorch7 import LuaError, LuaState


@pytest.fixture
def lua():
    state = LuaState()
    state.execute("require 'torch'")
    state.execute("""
        local Animal = torch.class('zoo.Animal')
        function Animal:__init(name) self.name = name; self.inits = (self.inits or 0) + 1 end
        function Animal:speak() return 'generic ' .. self.name end
        function Animal:kind() return 'animal' end
        function Animal:__tostring__() return 'Animal(' .. self.name .. ')' end

        local Dog, parent = torch.class('zoo.Dog', 'zoo.Animal')
        function Dog:__init(name, breed)
          parent.__init(self, name)
          self.breed = breed
        end
        function Dog:speak() return 'woof from ' .. self.name end
    """)
    yield state
    state.close()


def test_class_constructor_runs_init(lua):
    assert lua.execute("local a = zoo.Animal('cat'); return a.name, a:speak(), a.inits") == ("cat", "generic cat", 1)


def test_subclass_inherits_and_overrides(lua):
    assert lua.execute("""local d = zoo.Dog('rex', 'collie')
        return d.name, d.breed, d:speak(), d:kind(), d.inits""") == ("rex", "collie", "woof from rex", "animal", 1)


def test_class_returns_metatable_and_parent(lua):
    assert lua.execute("""local mt, parent = torch.class('zoo.Cat', 'zoo.Animal')
        return mt == torch.getmetatable('zoo.Cat'), parent == torch.getmetatable('zoo.Animal')""") == (True, True)


def test_tostring_dispatches_to___tostring__(lua):
    assert lua.execute("return tostring(zoo.Dog('rex'))") == "Animal(rex)"
    assert lua.execute("torch.class('zoo.Plain'); return tostring(zoo.Plain())") == "zoo.Plain"


def test_typename_and_type(lua):
    assert lua.execute("""return torch.typename(zoo.Dog('a')), torch.type(zoo.Dog('a')), torch.type(3),
        torch.type('s'), torch.type({}), torch.typename({}), torch.typename(torch.FloatTensor())""") == (
        "zoo.Dog", "zoo.Dog", "number", "string", "table", None, "torch.FloatTensor")


def test_is_type_of_with_names_patterns_and_constructors(lua):
    assert lua.execute("""local d = zoo.Dog('a')
        return torch.isTypeOf(d, 'zoo.Dog'), torch.isTypeOf(d, 'zoo.Animal'), torch.isTypeOf(d, zoo.Animal),
               torch.isTypeOf(d, 'zoo%..*'), torch.isTypeOf(zoo.Animal('x'), 'zoo.Dog'),
               torch.isTypeOf(d, 'torch.Tensor'), torch.isTypeOf(torch.FloatTensor(), 'torch.*Tensor'),
               torch.isTypeOf(3, 'zoo.Dog')""") == (True, True, True, True, False, False, True, False)


def test_is_type_of_rejects_a_bad_spec(lua):
    with pytest.raises(LuaError, match="class name"):
        lua.execute("return torch.isTypeOf(zoo.Dog('a'), 3)")


def test_is_tensor_and_is_storage(lua):
    assert lua.execute("""return torch.isTensor(torch.ByteTensor()), torch.isTensor(torch.ByteStorage()),
        torch.isStorage(torch.ByteStorage()), torch.isTensor(zoo.Dog('a')), torch.isTensor(nil)""") == (
        True, False, True, False, False)


def test_factory_makes_an_instance_without_init(lua):
    assert lua.execute("""local f = torch.factory('zoo.Dog')
        local d = f()
        return torch.typename(d), d.name, d.inits, d:kind()""") == ("zoo.Dog", None, None, "animal")
    assert lua.execute("return torch.factory('zoo.Nothing')") is None


def test_factory_of_tensor_types_gives_empty_tensors(lua):
    assert lua.execute("local t = torch.factory('torch.FloatTensor')(); return torch.typename(t), t:dim()") == (
        "torch.FloatTensor", 0)
    assert lua.execute("local t = torch.factory('torch.CudaTensor')(); return torch.typename(t), t:dim()") == (
        "torch.FloatTensor", 0)
    assert lua.execute("return torch.getconstructortable('torch.CudaLongTensor') == torch.LongTensor")


def test_constructor_table(lua):
    assert lua.execute("""return torch.getconstructortable('zoo.Dog') == zoo.Dog,
        torch.getconstructortable('torch.DoubleTensor') == torch.DoubleTensor""") == (True, True)


def test_getmetatable(lua):
    assert lua.execute("""return torch.getmetatable('zoo.Dog') == getmetatable(zoo.Dog('a')),
        torch.getmetatable('torch.IntTensor') == getmetatable(torch.IntTensor()),
        torch.getmetatable('no.Such')""") == (True, True, None)


def test_methods_added_to_the_constructor_reach_instances(lua):
    assert lua.execute("function zoo.Dog:fetch() return 'ball' end; return zoo.Dog('a'):fetch()") == "ball"


def test_class_into_a_module_table(lua):
    assert lua.execute("""local M = {}
        torch.class('wild.Fox', M)
        torch.class('wild.Cub', 'wild.Fox', M)
        return torch.typename(M.Fox()), torch.typename(M.Cub()), torch.isTypeOf(M.Cub(), 'wild.Fox'),
               rawget(_G, 'wild')""") == ("wild.Fox", "wild.Cub", True, None)


def test_unknown_parent_is_an_error_naming_it(lua):
    with pytest.raises(LuaError, match="parent class 'zoo.Nope' of 'zoo.Bird' does not exist"):
        lua.execute("torch.class('zoo.Bird', 'zoo.Nope')")


def test_pointer_is_an_identity_not_the_data_address(lua):
    same, view, storage, num, cdata = lua.execute("""local t = torch.Tensor(3)
        local v = t:view(3)
        return torch.pointer(t) == torch.pointer(t), torch.pointer(t) == torch.pointer(v),
               torch.pointer(t:storage()) == torch.pointer(v:storage()), type(torch.pointer(t)),
               torch.pointer(t:data()) == torch.pointer(v:data())""")
    assert same and not view and storage and num == "number" and cdata


def test_pointer_does_not_print_the_object(lua):
    assert lua.execute("""local printed = 0
        torch.class('zoo.Loud')
        function zoo.Loud:__tostring__() printed = printed + 1; return 'x' end
        local p = torch.pointer(zoo.Loud())
        return printed, type(p)""") == (0, "number")


def test_totable_of_a_non_tensor_is_an_error(lua):
    with pytest.raises(LuaError, match="expects a tensor or a storage, got number"):
        lua.execute("torch.totable(3)")


def test_equality_is_identity_unless___eq__(lua):
    assert lua.execute("""local a, b = zoo.Dog('a'), zoo.Dog('a')
        return a == b, a == a, a ~= b""") == (False, True, True)
    assert lua.execute("""function zoo.Animal:__eq__(other) return self.name == other.name end
        return zoo.Dog('a') == zoo.Dog('a'), zoo.Dog('a') == zoo.Dog('b')""") == (True, False)


def test_operators_dispatch_to_methods_and_missing_ones_are_errors(lua):
    assert lua.execute("""function zoo.Animal:__add__(other) return self.name .. '+' .. other.name end
        function zoo.Animal:__call__(x) return 'called ' .. x end
        local a = zoo.Animal('a')
        return a + zoo.Dog('d'), a(3)""") == ("a+d", "called 3")
    with pytest.raises(LuaError, match="does not define __sub__"):
        lua.execute("local x = zoo.Animal('a') - zoo.Animal('b')")
    with pytest.raises(LuaError, match="attempt to call a zoo.Rock"):
        lua.execute("torch.class('zoo.Rock'); local x = zoo.Rock()(1)")
