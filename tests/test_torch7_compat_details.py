"""Details of Torch7's behaviour that its own test suite (torch7/test/test.lua) relies on."""
import pytest

import sparktorch7 as st


@pytest.fixture
def torch(lua):
    lua.require("torch")
    return lua


def test_select_on_a_vector_reads_the_element_whatever_the_dimension(torch):
    assert torch.eval("torch.Tensor({4, 5, 6}):select(2, 3)") == 6
    assert torch.eval("torch.Tensor({4, 5, 6}):select(1, -1)") == 6
    with pytest.raises(st.LuaError, match="out of range"):
        torch.eval("torch.Tensor({4, 5, 6}):select(1, 4)")


def test_half_names_are_float_twins(torch):
    assert torch.eval("torch.typename(torch.HalfTensor(2))") == "torch.FloatTensor"
    assert torch.eval("torch.typename(torch.HalfStorage(2))") == "torch.FloatStorage"


def test_is_type_of_plain_names_match_whole_type_names(torch):
    assert torch.eval("torch.isTypeOf(torch.LongTensor(), 'torch.LongTensor')") is True
    assert torch.eval("torch.isTypeOf(torch.LongTensor(), 'torch.Long')") is False
    assert torch.eval("torch.isTypeOf(torch.LongTensor(), 'torch.*Tensor')") is True
    torch.execute("torch.class('TorchDummy'); torch.class('OtherTorchDummy')")
    assert torch.eval("torch.isTypeOf(OtherTorchDummy(), 'TorchDummy')") is False


def test_is_tensor_method_cdata_and_heap_tracking(torch):
    assert torch.eval("torch.Tensor.isTensor(torch.Tensor())") is True
    assert torch.eval("torch.Tensor.isTensor({})") is False
    assert torch.execute("local t = torch.Tensor(2); return t:cdata() == t:cdata()") is True
    assert torch.eval("torch.Tensor(2):cdata() ~= torch.Tensor(2):cdata()") is True
    torch.execute("torch.setheaptracking(true)")
    assert torch.eval("torch._heaptracking") is True
    torch.execute("torch.setheaptracking(false)")
    assert torch.eval("torch._heaptracking") is False
