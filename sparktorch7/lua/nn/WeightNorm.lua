-- nn.WeightNorm(module[, outputDim]): weight normalisation (Salimans & Kingma 2016) of the
-- module's weight: w = g v / ||v||, one length g_i and one direction v_i per output unit i
-- (the slices of w along outputDim, 1 by default), the parameters being v, g and the
-- module's bias. The weight, seen as an nOut x (the other dimensions) matrix, is computed
-- from v and g by every forward in training (and once by evaluate()), with
-- ||v_i|| = sqrt(sum_j v_ij^2 + 1e-4) as in Torch7. A file written by Torch7 leaves out the
-- weight and gradWeight: they are rebuilt from v and g when it is read.
local schema = require('nn.schema')
local WeightNorm, parent = torch.class('nn.WeightNorm', 'nn.Decorator')

local NORM_EPS = 1e-4

schema.declare(WeightNorm, {
   {'outputDim', 'posint'},
   {'viewIn', 'longstorage', check = function(s)
      if s:size() ~= 2 then return 'a LongStorage of 2 sizes (nOut, the other dimensions)' end
   end},
   {'viewOut', 'longstorage', check = schema.naturalStorage},
   {'weightSize', 'longstorage?', check = schema.naturalStorage},
   {'otherDims', 'posint?'},
   {'v', 'tensor', dim = 2},
   {'g', 'tensor', nElement = 'v:size(1)'},
   {'gradV', 'tensor?'}, {'gradG', 'tensor?'}, {'_norm', 'tensor?'}, {'_scale', 'tensor?'},
   {'weight', 'tensor?'}, {'gradWeight', 'tensor?'}, {'bias', 'tensor?'}, {'gradBias', 'tensor?'},
})

function WeightNorm:__init(module, outputDim)
   if not torch.isTypeOf(module, 'nn.Module') or not torch.isTensor(module.weight) then
      error('<nn.WeightNorm> expects a module with a weight at argument 1, got ' .. torch.type(module), 2)
   end
   outputDim = outputDim or 1
   if type(outputDim) ~= 'number' or outputDim < 1 or outputDim > module.weight:dim() then
      error(string.format('<nn.WeightNorm> outputDim must be a dimension of the %dD weight, got %s',
                          module.weight:dim(), tostring(outputDim)), 2)
   end
   parent.__init(self, module)
   self.weight, self.gradWeight = module.weight, module.gradWeight
   self.bias, self.gradBias = module.bias, module.gradBias
   self.outputDim = outputDim
   local w = self.weight
   self.otherDims = w:nElement() / w:size(outputDim)
   self.viewIn = torch.LongStorage({w:size(outputDim), self.otherDims})
   self.weightSize = w:size()
   -- the weight's sizes with outputDim moved to the front
   local out = w:size():totable()
   table.insert(out, 1, table.remove(out, outputDim))
   self.viewOut = torch.LongStorage(out)
   local n = self.viewIn[1]
   self.v = torch.Tensor(n, self.otherDims)
   self.g = torch.Tensor(n)
   self._norm = torch.Tensor(n)
   self._scale = torch.Tensor(n)
   self.gradG = torch.Tensor(n):zero()
   self.gradV = torch.Tensor(n, self.otherDims):zero()
   self:resetInit()
end

-- the weight with outputDim moved to the front, and back
function WeightNorm:permuteIn(t)
   for i = self.outputDim - 1, 1, -1 do
      t = t:transpose(i, i + 1)
   end
   return t
end

function WeightNorm:permuteOut(t)
   for i = 1, self.outputDim - 1 do
      t = t:transpose(i, i + 1)
   end
   return t
end

-- v random (N(0, 2 / the other dimensions)), g its norms (w is then v), the bias 0
function WeightNorm:resetInit()
   self.v:normal(0, math.sqrt(2 / self.viewIn[2]))
   self.g:norm(self.v, 2, 2)
   if self.bias then
      self.bias:zero()
   end
   return self
end

-- _norm = ||v_i||, _scale = g_i / ||v_i||, weight = _scale_i v_i
function WeightNorm:updateWeight()
   local n, v = self.viewIn[1], self.v
   self._norm = self._norm:typeAs(v)
   self._scale = self._scale:typeAs(v)
   self._norm:resize(n):norm(v, 2, 2):resize(n)
   self._norm:pow(2):add(NORM_EPS):sqrt()
   self._scale:resize(n):copy(self.g:contiguous():view(n)):cdiv(self._norm)
   local w2 = torch.cmul(v, self._scale:view(n, 1):expandAs(v))
   self.weight:copy(self:permuteOut(w2:view(self.viewOut)))
end

function WeightNorm:updateOutput(input)
   if self.train ~= false then
      self:updateWeight()
   end
   self.output = self:rethrowErrors(self.modules[1], 1, 'updateOutput', input)
   return self.output
end

function WeightNorm:evaluate()
   if self.train ~= false then
      self:updateWeight()
   end
   return parent.evaluate(self)
end

function WeightNorm:updateGradInput(input, gradOutput)
   self.gradInput = self:rethrowErrors(self.modules[1], 1, 'updateGradInput', input, gradOutput)
   return self.gradInput
end

-- The module accumulates scale dE/dw (and its bias gradient); from dE/dw, seen as d (nOut x
-- the rest): dE/dg_i = sum_j d_ij v_ij / ||v_i||, dE/dv_ij = _scale_i (d_ij - v_ij dE/dg_i / ||v_i||),
-- added to gradG and gradV. gradWeight keeps accumulating dE/dw.
function WeightNorm:accGradParameters(input, gradOutput, scale)
   scale = scale or 1
   local gw = self.modules[1].gradWeight
   self._gradWeight = self._gradWeight and self._gradWeight:typeAs(gw) or gw.new()
   self._gradWeight:resizeAs(gw):copy(gw)
   gw:zero()
   self:rethrowErrors(self.modules[1], 1, 'accGradParameters', input, gradOutput, scale)
   local n, v = self.viewIn[1], self.v
   local d = self:permuteIn(gw):contiguous():view(self.viewIn)
   local norm = self._norm:view(n, 1):expandAs(v)
   local s = self._scale:view(n, 1):expandAs(v)
   local dg = torch.cmul(d, v):cdiv(norm):sum(2)               -- n x 1
   local dv = torch.cmul(d, s):add(-1, torch.cmul(v, s):cdiv(norm):cmul(dg:expandAs(v)))
   self.gradG:add(dg:view(self.gradG:size()))
   self.gradV:add(dv)
   gw:add(self._gradWeight)
end

-- nn.Module's backward (its own updateGradInput and accGradParameters), not the decorators'
-- (the decorated module's backward, which would not update gradV and gradG)
WeightNorm.backward = nn.Module.backward

-- v, g and the bias moved straight down their gradient of this input (w <- w - lr dE/dw)
function WeightNorm:accUpdateGradParameters(input, gradOutput, lr)
   local saved = {}
   local _, grads = self:parameters()
   for i, t in ipairs(grads) do
      saved[i] = t:clone()
      t:zero()
   end
   self:accGradParameters(input, gradOutput, 1)
   local params = self:parameters()
   for i, t in ipairs(params) do
      t:add(-lr, grads[i])
      grads[i]:copy(saved[i])
   end
end

function WeightNorm:zeroGradParameters()
   self.modules[1]:zeroGradParameters()
   self.gradV:zero()
   self.gradG:zero()
end

function WeightNorm:updateParameters(lr)
   self.modules[1]:updateParameters(lr)
   self.g:add(-lr, self.gradG:view(self.g:size()))
   self.v:add(-lr, self.gradV)
end

function WeightNorm:parameters()
   if self.bias then
      return {self.v, self.g, self.bias}, {self.gradV, self.gradG, self.gradBias}
   end
   return {self.v, self.g}, {self.gradV, self.gradG}
end

function WeightNorm:clearState()
   self._gradWeight = nil
   return parent.clearState(self)
end

-- As Torch7: the weight and gradWeight are left out of the file (v and g give them back).
function WeightNorm:write(file)
   local m = self.modules[1]
   local weight, gradWeight = m.weight, m.gradWeight
   self.weightSize = self.weightSize or weight:size()
   self.weight, self.gradWeight, m.weight, m.gradWeight = nil, nil, nil, nil
   local ok, err = pcall(parent.write, self, file)
   self.weight, self.gradWeight, m.weight, m.gradWeight = weight, gradWeight, weight, gradWeight
   if not ok then error(err, 0) end
end

-- Reads the fields (the decorated module may come without its weight and gradWeight), then
-- rebuilds the weight from v and g and gradWeight from gradV.
function WeightNorm:read(file, version)
   schema.withheld(file, {'weight', 'gradWeight'}, parent.read, self, file, version)
   local m = self.modules[1]
   if not torch.isTensor(self.weight) then
      local size = self.weightSize or self:_unpermutedSize()
      m.weight = self.v.new(size)
      m.gradWeight = self.v.new(size):zero()
      self.weight, self.gradWeight = m.weight, m.gradWeight
      self:updateWeight()
      if torch.isTensor(self.gradV) and self.gradV:nElement() == m.gradWeight:nElement() then
         m.gradWeight:copy(self:permuteOut(self.gradV:contiguous():view(self.viewOut)))
      end
   end
end

-- the weight's sizes from viewOut (outputDim moved back from the front)
function WeightNorm:_unpermutedSize()
   local s = {}
   for i = 1, self.viewOut:size() do s[i] = self.viewOut[i] end
   table.insert(s, self.outputDim, table.remove(s, 1))
   return torch.LongStorage(s)
end

function WeightNorm:__tostring__()
   return torch.type(self) .. ' @ ' .. tostring(self.modules[1])
end

return WeightNorm
