-- nn.Cosine: y_j = (x . w_j) / ((||w_j|| + 1e-12) (||x|| + 1e-12)), the cosine
-- similarity of the input to each row w_j of weight (outputSize x inputSize).
local pointwise = require('nn.pointwise')
local kernels = require('nn.kernels')
local schema = require('nn.schema')
local Cosine, parent = torch.class('nn.Cosine', 'nn.Module')

schema.declare(Cosine, {
   {'weight', 'tensor', dim = 2},
   {'gradWeight', 'tensor?'},
})

function Cosine:__init(inputSize, outputSize)
   parent.__init(self)
   self.weight = torch.Tensor(outputSize, inputSize)
   self.gradWeight = torch.Tensor(outputSize, inputSize)
   self:reset()
end

function Cosine:reset(stdv)
   if stdv then
      stdv = stdv * math.sqrt(3)
   else
      stdv = 1 / math.sqrt(self.weight:size(1))
   end
   self.weight:uniform(-stdv, stdv)
   return self
end

function Cosine:updateOutput(input)
   local W = self.weight
   local nOut, nIn = W:size(1), W:size(2)
   local d = input:dim()
   if (d ~= 1 and d ~= 2) or input:size(d) ~= nIn then
      error(string.format('<nn.Cosine> input must be 1D or 2D with %d features', nIn), 2)
   end
   local rows = d == 2 and input:size(1) or 1
   local x = pointwise.contiguous(input)
   local out = kernels.output(self, input,
      d == 2 and torch.LongStorage({rows, nOut}) or torch.LongStorage({nOut}))
   local xp, wp, yp = x:data(), pointwise.contiguous(W):data(), out:data()
   local sqrt = math.sqrt
   local wnorm = {}
   for j = 0, nOut - 1 do
      local s = 0
      for i = 0, nIn - 1 do
         local v = wp[j * nIn + i]
         s = s + v * v
      end
      wnorm[j] = sqrt(s) + 1e-12
   end
   for r = 0, rows - 1 do
      local base = r * nIn
      local s = 0
      for i = 0, nIn - 1 do
         local v = xp[base + i]
         s = s + v * v
      end
      local xnorm = sqrt(s) + 1e-12
      for j = 0, nOut - 1 do
         local dot = 0
         for i = 0, nIn - 1 do
            dot = dot + xp[base + i] * wp[j * nIn + i]
         end
         yp[r * nOut + j] = dot / (wnorm[j] * xnorm)
      end
   end
   return out
end

return Cosine
