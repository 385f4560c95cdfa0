-- Scores rows of 64 features with a Torch7 MLP 64-256-256-10 (ReLU, ReLU, SoftMax)
-- saved as mlp.t7 (make_data.py writes it with torch.save). The model file is shipped
-- with the script (--files .../mlp.t7) and found with sparktorch7_file().
-- load() runs once per Lua state (--init load).
--
--   predict(x)  x: [N, 64] tensor -> [N, 10] class probabilities (FloatTensor)
--   classify(x) x: [N, 64] tensor -> {label = [N] IntTensor (0-based), p = [N] FloatTensor}
require 'nn'

local model

function load()
  model = torch.load(sparktorch7_file('mlp.t7'))
  model:evaluate()
end

function predict(x)
  if x:dim() ~= 2 or x:size(2) ~= 64 then
    error(string.format('predict: expected an [N, 64] tensor, got %s of size %s',
                        torch.type(x), table.concat(x:size():totable(), 'x')), 2)
  end
  if torch.type(x) ~= 'torch.FloatTensor' then x = x:type('torch.FloatTensor') end
  return model:forward(x)
end

function classify(x)
  local p = predict(x)
  local best, index = p:max(2)                -- [N, 1] values and 1-based indices
  local N = p:size(1)
  return {label = index:view(N):int():add(-1), p = best:view(N)}
end
