-- nn.poolindices: where each maximum of a max pooling came from (its `indices`, which an
-- unpooling module reads) costs time, so the max poolings (nn.SpatialMaxPooling,
-- nn.VolumetricMaxPooling and their subclasses) compute them only for modules an
-- unpooling module reads (it registers when built or read from a file). Should one ask
-- after a forward that skipped them, they are computed from that forward's input if it
-- is still alive (weak reference). Kept out of the modules' fields so that nothing of it
-- is serialized.
local ops = require 'nn.spatial_ops'

local poolindices = {}

local wanted = setmetatable({}, {__mode = 'k'})
local lastInput = setmetatable({}, {__mode = 'kv'})
local fresh = setmetatable({}, {__mode = 'k'})  -- m.indices belong to the last forward

local function longIndices(m, sizes)
   if not (torch.isTensor(m.indices) and torch.type(m.indices) == 'torch.LongTensor') then
      m.indices = torch.LongTensor()
   end
   return m.indices:resize(unpack(sizes))
end

-- m's indices are to be computed from now on
function poolindices.want(m)
   wanted[m] = true
end

-- m's forward: run(indices) with a LongTensor of the output's sizes when they are
-- wanted, else run(nil) (the input is then kept weakly, to compute them late)
function poolindices.forward(m, input, sizes, run)
   if wanted[m] then
      lastInput[m] = nil
      fresh[m] = true
      run(longIndices(m, sizes))
   else
      lastInput[m] = input
      fresh[m] = nil
      run(nil)
   end
end

-- the indices of m's last forward when it computed them, else nil
function poolindices.fresh(m)
   return fresh[m] and m.indices or nil
end

-- m.indices for the last forward (a LongTensor of the output's size), computing them
-- with run(out, input, indices) if that forward did not. A module read from a file
-- serves the indices of the forward it was saved after. Indices in a floating tensor
-- (Torch7 files of 2016; or converted by :float() or :double(), as Torch7's type() does)
-- are read by fromReal(longs, saved), by default as values.
local function asLong(m, fromReal)
   local saved = m.indices
   if torch.type(saved) ~= 'torch.LongTensor' then
      m.indices = torch.LongTensor():resize(saved:size())
      if fromReal then fromReal(m.indices, saved) else m.indices:copy(saved) end
   end
   return m.indices
end

function poolindices.get(m, run, fromReal)
   wanted[m] = true
   -- (a :float() or :double() since the forward made them floating too)
   if fresh[m] and torch.isTensor(m.indices) then
      return asLong(m, fromReal)
   end
   local input = lastInput[m]
   if input == nil then
      local saved = m.indices
      if torch.isTensor(saved) and saved:nElement() > 0 and torch.isTensor(m.output)
            and saved:nElement() == m.output:nElement() then
         return asLong(m, fromReal)
      end
      ops.fail(m, 'the indices of the last forward are gone: run forward again')
   end
   lastInput[m] = nil
   local sizes = ops.sizes(m.output)
   local out = nn.utils.newLike(input):resize(unpack(sizes))
   m.indices = torch.LongTensor()
   run(out, input, longIndices(m, sizes))
   fresh[m] = true
   return m.indices
end

return poolindices
