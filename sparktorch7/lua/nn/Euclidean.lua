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
-- the weight, its sizes and the input's row count, checked; errors at `level` above
local function operands(self, input, name, level)
   local W = self.weight
   local nIn, nOut = W:size(1), W:size(2)
   local d = torch.isTensor(input) and input:dim() or 0
   if (d ~= 1 and d ~= 2) or input:size(d) ~= nIn then
      error(string.format('<%s> size mismatch: input must be 1D or 2D with %d features', name, nIn), level + 1)
   end
   return W, nIn, nOut, d == 2 and input:size(1) or 1
end

function Euclidean._distances(self, input, diag, name)
   local W, nIn, nOut, rows = operands(self, input, name, 3)
   local d = input:dim()
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

-- The backward of y[r][j] = sqrt(sum_i (c_ij (w_ij - x_ri))^2) (c = 1 when diag is nil):
-- with q = dE/dy / (y + 1e-7) (Torch7's guard against y = 0),
-- dE/dx_ri = sum_j q c^2 (x - w), dE/dw_ij = sum_r q c^2 (w - x), dE/dc_ij = sum_r q c (w - x)^2.
-- updateGradInput fills self.gradInput and keeps the parameter gradients it implies (at
-- the parameters of that moment, as Torch7's cached buffers do); accGradParameters adds
-- scale times them when it gets the same input and gradOutput, else computes them anew.
local function backward(self, input, gradOutput, diag, name, wantInput)
   local W, nIn, nOut, rows = operands(self, input, name, 4)
   if not torch.isTensor(gradOutput) or gradOutput:nElement() ~= rows * nOut then
      error(string.format('<%s> gradOutput must hold %d x %d values: run forward on this input first',
                          name, rows, nOut), 4)
   end
   local xp, wp = pointwise.contiguous(input):data(), pointwise.contiguous(W):data()
   local cp = diag and pointwise.paramData(diag, nIn * nOut, name, 'diagCov')
   local y = pointwise.outputData(self, rows * nOut, name)
   local go = pointwise.contiguous(gradOutput):data()
   local gx = wantInput and pointwise.zeroGrad(self, input, gradOutput):data()
   local gwt = W.new():resizeAs(W):zero()
   local gct = diag and diag.new():resizeAs(diag):zero()
   local gw, gc = gwt:data(), gct and gct:data()
   for r = 0, rows - 1 do
      for j = 0, nOut - 1 do
         local q = go[r * nOut + j] / (y[r * nOut + j] + 1e-7)
         for i = 0, nIn - 1 do
            local k = i * nOut + j
            local c = cp and cp[k] or 1
            local dv = wp[k] - xp[r * nIn + i]
            local t = q * c * c * dv
            if gx then gx[r * nIn + i] = gx[r * nIn + i] - t end
            gw[k] = gw[k] + t
            if gc then gc[k] = gc[k] + q * c * dv * dv end
         end
      end
   end
   return gwt, gct
end

-- module -> the parameter gradients its last updateGradInput implied (weak: never saved)
local lastGrads = setmetatable({}, {__mode = 'k'})

function Euclidean._updateGradInput(self, input, gradOutput, diag, name)
   local gw, gc = backward(self, input, gradOutput, diag, name, true)
   lastGrads[self] = {input = input, gradOutput = gradOutput, gw, gc}
   return self.gradInput
end

function Euclidean._accGradParameters(self, input, gradOutput, diag, name, scale)
   local cache = lastGrads[self]
   local gw, gc
   if type(cache) == 'table' and cache.input == input and cache.gradOutput == gradOutput then
      gw, gc = cache[1], cache[2]
   else
      gw, gc = backward(self, input, gradOutput, diag, name, false)
   end
   for _, f in ipairs(diag and {{'gradWeight', self.weight}, {'gradDiagCov', diag}} or {{'gradWeight', self.weight}}) do
      if not torch.isTensor(self[f[1]]) or self[f[1]]:nElement() ~= f[2]:nElement() then
         self[f[1]] = f[2].new():resizeAs(f[2]):zero()
      end
   end
   self.gradWeight:add(scale or 1, gw)
   if diag then
      self.gradDiagCov:add(scale or 1, gc)
   end
end

function Euclidean:updateGradInput(input, gradOutput)
   return Euclidean._updateGradInput(self, input, gradOutput, nil, 'nn.Euclidean')
end

function Euclidean:accGradParameters(input, gradOutput, scale)
   Euclidean._accGradParameters(self, input, gradOutput, nil, 'nn.Euclidean', scale)
end

return Euclidean
