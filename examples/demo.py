"""Demo: load a Lua scoring script and call it from Python with numpy arrays."""
import os

import numpy as np

import sparktorch7 as st

here = os.path.dirname(os.path.abspath(__file__))
with st.LuaState() as lua:
    lua.dofile(os.path.join(here, "demo.lua"))
    print(lua.describe())
    x = np.random.default_rng(0).normal(size=(5, 3))
    scores = lua.score(x)
    w = np.array([[0.5, -1.0], [2.0, 0.25], [-0.75, 1.5]])
    print("scores from Lua:\n", scores)
    assert np.allclose(scores, x @ w), "Lua and numpy disagree"
    print("matches numpy: yes")
