"""backCompatibility repairs of core nn modules for old files: written with fields
removed or reshaped as older Torch7 versions stored them, read back, and compared with
the module as it is today."""
import numpy as np
import pytest

import sparktorch7 as st


def test_old_files_of_subsampling_lppooling_and_convolutionmm():
    lua = st.LuaState()
    try:
        lua.execute("require 'nn'")
        f = lua.eval("""function(x)
          local function reread(m)
             local f = torch.MemoryFile(); f:binary(); f:writeObject(m); f:seek(1)
             local r = f:readObject(); f:close(); return r
          end
          torch.manualSeed(1)
          local s = nn.SpatialSubSampling(3, 2, 2, 2, 2)
          local ref = s:forward(x):clone()
          local old = s:clone(); old.weight = old.weight:view(3, 1, 1); old.gradWeight = old.gradWeight:view(3, 1, 1)
          local a = reread(old):forward(x):clone()
          local lp = nn.SpatialLPPooling(3, 2, 2, 2, 2, 2)
          local lpref = lp:forward(x):clone()
          local oldlp = lp:clone()
          for _, m in ipairs(oldlp:findModules('nn.SpatialSubSampling')) do m.weight = m.weight:view(3, 1, 1) end
          local b = reread(oldlp):forward(x):clone()
          local c = nn.SpatialConvolutionMM(3, 4, 3, 3)
          local cref = c:forward(x):clone()
          local oldc = c:clone(); oldc.dW = nil; oldc.dH = nil; oldc.padW = nil; oldc.padH = nil
          oldc.weight = oldc.weight:view(4, 27)
          local d = reread(oldc):forward(x):clone()
          return ref, a, lpref, b, cref, d
        end""")
        x = np.random.default_rng(0).standard_normal((2, 3, 6, 6))
        ref, a, lpref, b, cref, d = f(x)
        np.testing.assert_array_equal(a, ref)
        np.testing.assert_array_equal(b, lpref)
        np.testing.assert_array_equal(d, cref)
    finally:
        lua.close()


def test_a_numpy_error_inside_a_module_is_a_lua_error_naming_module_and_shapes():
    lua = st.LuaState()
    try:
        lua.execute("require 'nn'")
        # a module whose stored weight does not fit what it computes: the kernel's
        # ValueError comes back as a Lua error naming the module, kernel and shapes
        lua.execute("m = nn.Sequential():add(nn.SpatialConvolution(3, 4, 3, 3)); "
                    "local c = m.modules[1]; c.nInputPlane = 5; c.weight = torch.randn(4, 5, 3, 3)")
        with pytest.raises(st.LuaError) as info:
            lua.execute("m:forward(torch.randn(2, 3, 8, 8))")
        assert "nn.SpatialConvolution" in str(info.value)
        # direct kernel misuse from a module method
        lua.execute("L = nn.Linear(100, 100); L.weight = torch.zeros(100, 50); "
                    "function L:updateOutput(x) torch._np.callmod('sparktorch7._nn_ops', 'linear', "
                    "self.output:resize(10, 100), x, self.weight, self.bias); return self.output end")
        try:
            lua.execute("nn.Sequential():add(L):forward(torch.zeros(10, 100))")
        except ValueError:
            raise AssertionError("the NumPy ValueError leaked out of the module")
        except st.LuaError as e:
            msg = str(e)
            assert "<nn.Linear> the NumPy kernel sparktorch7._nn_ops:linear failed on (DoubleTensor 10x100, " \
                   "DoubleTensor 10x100, DoubleTensor 100x50, DoubleTensor 100): ValueError: matmul" in msg
            assert "In 1 module of nn.Sequential" in msg
    finally:
        lua.close()
