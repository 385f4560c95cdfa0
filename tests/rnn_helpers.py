"""What the recurrent-layer tests share: the two float types, their tolerances against the NumPy
references, the logistic function, and a state with rnn required."""
import numpy as np
import pytest

import sparktorch7 as st

DTYPES = [np.float32, np.float64]
TNAME = {np.float32: "torch.FloatTensor", np.float64: "torch.DoubleTensor"}


def tol(dtype):
    return dict(rtol=2e-4, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-11)


def sig(x):
    return 1 / (1 + np.exp(-x))


@pytest.fixture
def rnn_lua():
    """A fresh LuaState with `require 'rnn'` done, closed afterwards."""
    state = st.LuaState()
    state.execute("require 'rnn'")
    yield state
    state.close()
