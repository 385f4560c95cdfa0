-- nn.Euclidean: y_j = ||w_j - x||, the distance of the input to each of the
-- outputSize centres w_j (the columns of weight, inputSize x outputSize).
local pointwise = require('nn.pointwise')
local kernels = require('nn.kernels')
local schema = require('nn.schema')
local Euclidean, parent = torch.class('nn.Euclidean', 'nn.Module')

schema.declare(Euclidean, {
   {'weight', 'tensor', dim = 2},
   {'gradWeight', 'tensor?'}, {'fastBackward', 'boolean?'},
})

function Euclidean:__init(inputSize, outputSize)
   parent.__init(self)
   self.weight = torch.Tensor(inputSize, outputSize)
   self.gradWeight = torch.Tensor(inputSize, outputSize)
   self.fastBackward = true
   self:reset()
end

function Euclidean:reset(stdv)
   if stdv then
      stdv = stdv * math.sqrt(3)
   else
      stdv = 1 / math.sqrt(self.weight:size(1))
   end
   self.weight:uniform(-stdv, stdv)
   return self
end

-- y[r][j] = sqrt(sum_i (c_ij (w_ij - x_ri))^2), with c = 1 when diag is nil
function Euclidean._distances(self, input, diag, name)
   local W = self.weight
   local nIn, nOut = W:size(1), W:size(2)
   local d = input:dim()
   if (d ~= 1 and d ~= 2) or input:size(d) ~= nIn then
      error(string.format('<%s> input must be 1D or 2D with %d features', name, nIn), 3)
   end
   local rows = d == 2 and input:size(1) or 1
   local x = pointwise.contiguous(input)
   local sizes = d == 2 and torch.LongStorage({rows, nOut}) or torch.LongStorage({nOut})
   local out = kernels.output(self, input, sizes)
   local xp, wp, yp = x:data(), pointwise.contiguous(W):data(), out:data()
   local cp = diag and pointwise.paramData(diag, nIn * nOut, name, 'diagCov')
   local sqrt = math.sqrt
   for r = 0, rows - 1 do
      for j = 0, nOut - 1 do
         local s = 0
         for i = 0, nIn - 1 do
            local dv = wp[i * nOut + j] - xp[r * nIn + i]
            if cp then dv = dv * cp[i * nOut + j] end
            s = s + dv * dv
         end
         yp[r * nOut + j] = sqrt(s)
      end
   end
   return out
end

function Euclidean:updateOutput(input)
   return Euclidean._distances(self, input, nil, 'nn.Euclidean')
end

return Euclidean
