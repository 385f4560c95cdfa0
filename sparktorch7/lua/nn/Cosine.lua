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

-- the weight, the input's rows and its row count, checked
local function operands(self, input, level)
   local W = self.weight
   local nOut, nIn = W:size(1), W:size(2)
   local d = torch.isTensor(input) and input:dim() or 0
   if (d ~= 1 and d ~= 2) or input:size(d) ~= nIn then
      error(string.format('<nn.Cosine> input must be 1D or 2D with %d features', nIn), level + 1)
   end
   return W, nOut, nIn, d == 2 and input:size(1) or 1
end

-- sqrt(sum of squares) of the n values from p[base]
local function norm(p, base, n)
   local s = 0
   for i = base, base + n - 1 do
      local v = p[i]
      s = s + v * v
   end
   return math.sqrt(s)
end

function Cosine:updateOutput(input)
   local W, nOut, nIn, rows = operands(self, input, 2)
   local x = pointwise.contiguous(input)
   local out = kernels.output(self, input,
      input:dim() == 2 and torch.LongStorage({rows, nOut}) or torch.LongStorage({nOut}))
   local xp, wp, yp = x:data(), pointwise.contiguous(W):data(), out:data()
   local wnorm = {}
   for j = 0, nOut - 1 do
      wnorm[j] = norm(wp, j * nIn, nIn) + 1e-12
   end
   for r = 0, rows - 1 do
      local base = r * nIn
      local xnorm = norm(xp, base, nIn) + 1e-12
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

-- With a = ||x|| + 1e-12 and b_j = ||w_j|| + 1e-12 (forward's norms), y_j = x.w_j / (a b_j):
-- dy_j/dx_i = w_ji / (a b_j) - y_j x_i / (a ||x||),
-- dy_j/dw_ji = x_i / (a b_j) - y_j w_ji / (b_j ||w_j||).
-- Calls visit(r, j, i, dydx, dydw) for every row r, output j and feature i.
local function eachPartial(self, input, gradOutput, visit)
   -- (called through gradients() from updateGradInput/accGradParameters: level 4 is their caller)
   local W, nOut, nIn, rows = operands(self, input, 4)
   if not torch.isTensor(gradOutput) or gradOutput:nElement() ~= rows * nOut then
      error(string.format('<nn.Cosine> gradOutput must hold %d x %d values: run forward on this input first',
                          rows, nOut), 4)
   end
   local xp, wp = pointwise.contiguous(input):data(), pointwise.contiguous(W):data()
   local y = pointwise.outputData(self, rows * nOut, 'nn.Cosine')
   local wraw = {}
   for j = 0, nOut - 1 do
      wraw[j] = norm(wp, j * nIn, nIn)
   end
   for r = 0, rows - 1 do
      local base = r * nIn
      local xraw = norm(xp, base, nIn)
      local a = xraw + 1e-12
      for j = 0, nOut - 1 do
         local b, yj = wraw[j] + 1e-12, y[r * nOut + j]
         local cx = xraw > 0 and yj / (a * xraw) or 0
         local cw = wraw[j] > 0 and yj / (b * wraw[j]) or 0
         for i = 0, nIn - 1 do
            local xi, wi = xp[base + i], wp[j * nIn + i]
            visit(r, j, i, wi / (a * b) - cx * xi, xi / (a * b) - cw * wi)
         end
      end
   end
   return rows, nOut, nIn
end

-- module -> the weight gradient its last updateGradInput implied (weak: never saved)
local lastGrads = setmetatable({}, {__mode = 'k'})

-- dE/dweight (unscaled) for this input and gradOutput; with gi, dE/dx added into it too
local function gradients(self, input, gradOutput, gi)
   local gwt = self.weight.new():resizeAs(self.weight):zero()
   local gw, go = gwt:data(), pointwise.contiguous(gradOutput):data()
   local nOut, nIn = self.weight:size(1), self.weight:size(2)
   eachPartial(self, input, gradOutput, function(r, j, i, dydx, dydw)
      local g = go[r * nOut + j]
      if gi then gi[r * nIn + i] = gi[r * nIn + i] + g * dydx end
      gw[j * nIn + i] = gw[j * nIn + i] + g * dydw
   end)
   return gwt
end

-- updateGradInput keeps the weight gradient it implies (at the weight of that moment, as
-- Torch7's buffers do); accGradParameters adds scale times it when it gets the same input
-- and gradOutput, else computes it anew.
function Cosine:updateGradInput(input, gradOutput)
   local gi = pointwise.zeroGrad(self, input, gradOutput)
   lastGrads[self] = {input = input, gradOutput = gradOutput, gradients(self, input, gradOutput, gi:data())}
   return gi
end

function Cosine:accGradParameters(input, gradOutput, scale)
   local cache = lastGrads[self]
   local gw
   if type(cache) == 'table' and cache.input == input and cache.gradOutput == gradOutput then
      gw = cache[1]
   else
      gw = gradients(self, input, gradOutput, nil)
   end
   if not torch.isTensor(self.gradWeight) or self.gradWeight:nElement() ~= self.weight:nElement() then
      self.gradWeight = self.weight.new():resizeAs(self.weight):zero()
   end
   self.gradWeight:add(scale or 1, gw)
end

return Cosine
