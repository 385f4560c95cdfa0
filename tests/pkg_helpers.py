"""What the package tests (tests/test_pkg_*_more.py) share: the two float types and their
tolerances against the NumPy references, a state with one package required, the save/load
round trip of a module `m`, and Torch7's random draws replayed from MT19937 (numpy's legacy
RandomState seeds MT19937 as Torch7's THRandom does)."""
import numpy as np
import pytest

import sparktorch7 as st

DTYPES = [np.float32, np.float64]
TNAME = {np.float32: "torch.FloatTensor", np.float64: "torch.DoubleTensor"}


def tol(dtype):
    return dict(rtol=2e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)


def package_fixture(package):
    """A `lua` fixture: a fresh LuaState with `require '<package>'` done, closed afterwards."""
    @pytest.fixture
    def lua():
        state = st.LuaState()
        state.execute(f"require '{package}'")
        yield state
        state.close()
    return lua


def roundtrip(lua, x, dtype):
    """The global module m, written and read back as m2, forwards x as m does."""
    lua.execute("local f = torch.MemoryFile(); f:binary(); f:writeObject(m); f:seek(1); m2 = f:readObject()")
    assert lua.eval("torch.type(m2) == torch.type(m)")
    a, b = lua.eval("function(x) local a = m:forward(x):clone(); return a, m2:forward(x) end")(x.astype(dtype))
    np.testing.assert_array_equal(a, b)


def mt_uniforms(seed, n):
    """The first n torch.uniform() draws after torch.manualSeed(seed): raw / 2^32."""
    return np.random.RandomState(seed).randint(0, 2 ** 32, size=n, dtype=np.uint32) / 2 ** 32


def mt_normals(seed, n):
    """THRandom's normal: Box-Muller over pairs of uniforms, cos then sin."""
    u = mt_uniforms(seed, 2 * ((n + 1) // 2))
    out = []
    for i in range(0, len(u), 2):
        rho = np.sqrt(-2 * np.log(1 - u[i + 1]))
        out += [rho * np.cos(2 * np.pi * u[i]), rho * np.sin(2 * np.pi * u[i])]
    return np.array(out[:n])
