-- An MLP 64-256-256-10 (ReLU, ReLU, softmax) that scores rows of 64 features.
--
-- Its weights are float32, little-endian, in mlp_weights.bin (written by
-- make_data.py): W1 [256x64], b1 [256], W2 [256x256], b2 [256], W3 [10x256],
-- b3 [10], each row-major. The file is shipped with the script (--files) and
-- found here with sparktorch7_file(). load() runs once per Lua state (--init load).
--
--   predict(x)  x: [N, 64] tensor -> [N, 10] class probabilities (FloatTensor)
--   classify(x) x: [N, 64] tensor -> {label = [N] IntTensor (0-based), p = [N] FloatTensor}
require 'torch'
local ffi = require 'ffi'

local SIZES = {64, 256, 256, 10}
local layers

function load()
  local path = sparktorch7_file('mlp_weights.bin')
  local f = assert(io.open(path, 'rb'))
  local bytes = f:read('*a')
  f:close()
  local pos = 0
  local function take(...)
    local t = torch.FloatTensor(...)
    local nbytes = 4 * t:nElement()
    if pos + nbytes > #bytes then error('mlp_weights.bin is too short (' .. #bytes .. ' bytes)') end
    ffi.copy(t:data(), ffi.cast('const char*', bytes) + pos, nbytes)
    pos = pos + nbytes
    return t
  end
  layers = {}
  for i = 1, #SIZES - 1 do
    layers[i] = {W = take(SIZES[i + 1], SIZES[i]), b = take(SIZES[i + 1])}
  end
  if pos ~= #bytes then error('mlp_weights.bin has ' .. #bytes - pos .. ' bytes too many') end
end

-- y = x W^T + b  (x [N, I], W [O, I], b [O])
local function linear(x, W, b)
  local N, I, O = x:size(1), x:size(2), W:size(1)
  local y = torch.FloatTensor(N, O)
  if y.addmm then                        -- the torch math library: BLAS
    y:copy(b:view(1, O):expand(N, O))
    y:addmm(x, W:t())
    return y
  end
  x = x:contiguous()                     -- plain loops otherwise
  local xd, wd, bd, yd = x:data(), W:data(), b:data(), y:data()
  for n = 0, N - 1 do
    for o = 0, O - 1 do
      local s = bd[o]
      for i = 0, I - 1 do s = s + xd[n * I + i] * wd[o * I + i] end
      yd[n * O + o] = s
    end
  end
  return y
end

local function relu(y)
  if y.cmax then return y:cmax(0) end
  local d = y:data()
  for i = 0, y:nElement() - 1 do if d[i] < 0 then d[i] = 0 end end
  return y
end

local function softmax_rows(y)
  local N, K = y:size(1), y:size(2)
  local d = y:data()
  for n = 0, N - 1 do
    local row = d + n * K
    local m = row[0]
    for k = 1, K - 1 do if row[k] > m then m = row[k] end end
    local s = 0
    for k = 0, K - 1 do local e = math.exp(row[k] - m); row[k] = e; s = s + e end
    for k = 0, K - 1 do row[k] = row[k] / s end
  end
  return y
end

function predict(x)
  if x:dim() ~= 2 or x:size(2) ~= SIZES[1] then
    error(string.format('predict: expected an [N, %d] tensor, got %s of %d dims',
                        SIZES[1], torch.type(x), x:dim()), 2)
  end
  if torch.type(x) ~= 'torch.FloatTensor' then x = x:type('torch.FloatTensor') end
  local h = relu(linear(x, layers[1].W, layers[1].b))
  h = relu(linear(h, layers[2].W, layers[2].b))
  return softmax_rows(linear(h, layers[3].W, layers[3].b))
end

function classify(x)
  local p = predict(x)
  local N, K = p:size(1), p:size(2)
  local label, best = torch.IntTensor(N), torch.FloatTensor(N)
  local pd, ld, bd = p:data(), label:data(), best:data()
  for n = 0, N - 1 do
    local a = 0
    for k = 1, K - 1 do if pd[n * K + k] > pd[n * K + a] then a = k end end
    ld[n], bd[n] = a, pd[n * K + a]
  end
  return {label = label, p = best}
end
