-- nn.Euclidean: y_j = ||w_j - x||, the distance of the input to each of the
-- outputSize centres w_j (the columns of weight, inputSize x outputSize).
local pointwise = require('nn.pointwise')
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
   local out = pointwise.resultLike(self, input, sizes)
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
-- With gradInput set, fills self.gradInput; else adds scale times the parameter gradients
-- into gradWeight (and gradDiagCov).
function Euclidean._backward(self, input, gradOutput, diag, name, gradInput, scale)
   local W = self.weight
   local nIn, nOut = W:size(1), W:size(2)
   local d = input:dim()
   if (d ~= 1 and d ~= 2) or input:size(d) ~= nIn then
      error(string.format('<%s> input must be 1D or 2D with %d features', name, nIn), 3)
   end
   local rows = d == 2 and input:size(1) or 1
   if not torch.isTensor(gradOutput) or gradOutput:nElement() ~= rows * nOut then
      error(string.format('<%s> gradOutput must hold %d x %d values: run forward on this input first',
                          name, rows, nOut), 3)
   end
   local xp, wp = pointwise.contiguous(input):data(), pointwise.contiguous(W):data()
   local cp = diag and pointwise.paramData(diag, nIn * nOut, name, 'diagCov')
   local y = pointwise.outputData(self, rows * nOut, name)
   local go = pointwise.contiguous(gradOutput):data()
   local gx, gw, gc, gwt, gct
   if gradInput then
      gx = pointwise.zeroGrad(self, input, gradOutput):data()
   else
      for _, f in ipairs(diag and {'gradWeight', 'gradDiagCov'} or {'gradWeight'}) do
         local p = f == 'gradWeight' and W or diag
         if not torch.isTensor(self[f]) or self[f]:nElement() ~= p:nElement() then
            self[f] = p.new():resizeAs(p):zero()
         end
      end
      gwt = pointwise.contiguous(self.gradWeight)
      gw = gwt:data()
      if diag then
         gct = pointwise.contiguous(self.gradDiagCov)
         gc = gct:data()
      end
   end
   for r = 0, rows - 1 do
      for j = 0, nOut - 1 do
         local q = go[r * nOut + j] / (y[r * nOut + j] + 1e-7)
         for i = 0, nIn - 1 do
            local k = i * nOut + j
            local c = cp and cp[k] or 1
            local dv = wp[k] - xp[r * nIn + i]
            if gx then
               gx[r * nIn + i] = gx[r * nIn + i] - q * c * c * dv
            else
               gw[k] = gw[k] + scale * q * c * c * dv
               if gc then gc[k] = gc[k] + scale * q * c * dv * dv end
            end
         end
      end
   end
   if gwt and gwt ~= self.gradWeight then self.gradWeight:copy(gwt) end
   if gct and gct ~= self.gradDiagCov then self.gradDiagCov:copy(gct) end
   return self.gradInput
end

function Euclidean:updateGradInput(input, gradOutput)
   return Euclidean._backward(self, input, gradOutput, nil, 'nn.Euclidean', true)
end

function Euclidean:accGradParameters(input, gradOutput, scale)
   Euclidean._backward(self, input, gradOutput, nil, 'nn.Euclidean', false, scale or 1)
end

return Euclidean
