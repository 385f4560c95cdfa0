-- A scoring function as users write them: a tensor in, a tensor out.
require 'torch'

local weights = torch.DoubleTensor({{0.5, -1.0}, {2.0, 0.25}, {-0.75, 1.5}})

function score(x)
  -- x: N x 3 features; returns N x 2 scores (x * weights), computed element by element
  local n = x:size(1)
  local out = torch.DoubleTensor(n, 2):zero()
  for i = 1, n do
    for j = 1, 2 do
      local s = 0
      for k = 1, 3 do s = s + x[i][k] * weights[k][j] end
      out[i][j] = s
    end
  end
  return out
end

function describe()
  return "demo scorer on " .. _VERSION .. " / " .. jit.version
end
