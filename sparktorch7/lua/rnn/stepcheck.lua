-- The checks and zero masking shared by torch/rnn's one-step modules (nn.StepLSTM,
-- nn.StepGRU): an input {x, state...} of tensors of the module's type, x a batch
-- (N x inputsize) or one sample (inputsize), each state N x size (or size); the masked rows
-- of the results zeroed. Returns its table.
local zeromask = require('rnn.zeromask')
local stepcheck = {}

local function sizeStr(t)
   if not torch.isTensor(t) then return torch.type(t) end
   if t:dim() == 0 then return 'an empty tensor' end
   return table.concat(t:size():totable(), 'x')
end

-- input = {x, s1, s2, ...} with the states of sizes `sizes` (names `names`): returns N and,
-- as 2D tensors (views of one sample's vectors), x and the states, and whether it is one sample
function stepcheck.input(self, input, sizes, names)
   local cls = torch.type(self)
   local want = '{x' .. (#names > 0 and ', ' .. table.concat(names, ', ') or '') .. '}'
   if type(input) ~= 'table' or torch.typename(input) or #input ~= #sizes + 1 then
      error(string.format('<%s> input must be the table %s (%d tensors), got %s', cls, want, #sizes + 1,
                          type(input) == 'table' and not torch.typename(input) and #input .. ' values'
                          or torch.type(input)), 3)
   end
   local x = input[1]
   local wtype = torch.type(self.weight)
   if not torch.isTensor(x) or (x:dim() ~= 1 and x:dim() ~= 2) or x:size(x:dim()) ~= self.inputsize then
      error(string.format('<%s> x must be a batch (N x %d) or one sample (%d), got %s', cls, self.inputsize,
                          self.inputsize, sizeStr(x)), 3)
   end
   local single = x:dim() == 1
   local N = single and 1 or x:size(1)
   local out = {single and x:view(1, self.inputsize) or x}
   for i, size in ipairs(sizes) do
      local s = input[i + 1]
      local ok = torch.isTensor(s) and s:nElement() == N * size and s:dim() == (single and 1 or 2)
         and s:size(s:dim()) == size
      if not ok then
         error(string.format('<%s> %s must be %s, got %s', cls, names[i],
                             single and tostring(size) or N .. 'x' .. size, sizeStr(s)), 3)
      end
      out[i + 1] = single and s:contiguous():view(1, size) or s
   end
   for i, t in ipairs(out) do
      if torch.type(t) ~= wtype then
         error(string.format('<%s> %s is a %s, the module is a %s (convert one of them)', cls,
                             i == 1 and 'x' or names[i - 1], torch.type(t), wtype), 3)
      end
   end
   return N, single, out
end

-- a tensor of the module's type kept in self[key] (replaced when the type changed)
function stepcheck.buffer(self, t)
   if torch.isTensor(t) and torch.type(t) == torch.type(self.weight) then return t end
   return nn.utils.newLike(self.weight)
end

-- torch/rnn's masking after a step: with maskzero, the rows where the zeroMask (version 2,
-- set by setZeroMask) or the all-zero rows of x (v1) are 1 are zeroed in each tensor
function stepcheck.mask(self, tensors, x)
   if not self.maskzero or self.zeroMask == false then return end
   if self.v2 ~= false then
      if self.zeroMask == nil then
         error('<' .. torch.type(self) .. '> zero masking version 2 needs a zeroMask: call setZeroMask(zeroMask) '
               .. '(batchsize, 1 where padded; or false) before forward; a recurrent module around it does so '
               .. 'from its own setZeroMask(seqlen x batchsize)', 3)
      end
   else
      self.zeroMask = zeromask.getZeroMaskBatch(x, torch.isTensor(self.zeroMask) and self.zeroMask or nil)
   end
   local n = tensors[1]:size(1)
   if self.zeroMask:dim() ~= 1 or self.zeroMask:size(1) ~= n then
      error(string.format('<%s> the zeroMask of a step must have batchsize (%d) elements, got %s', torch.type(self),
                          n, sizeStr(self.zeroMask)), 3)
   end
   zeromask.recursiveZeroMask(tensors, self.zeroMask)
end

-- the gradOutput of a step: tensors (one, or a table of them) sized as the outputs, as 2D
-- views (N x size); the rows the forward masked are zero in a copy (nothing reaches back
-- through them). Returns the list of 2D gradients.
function stepcheck.gradOutput(self, gradOutput, outputs, N, single)
   local cls = torch.type(self)
   local list = torch.isTensor(gradOutput) and {gradOutput} or gradOutput
   if type(list) ~= 'table' or torch.typename(list) or #list ~= #outputs then
      error(string.format('<%s> gradOutput must be %s like the output, got %s', cls,
                          #outputs == 1 and 'a tensor' or ('a table of ' .. #outputs .. ' tensors'),
                          torch.type(gradOutput)), 3)
   end
   local out = {}
   for i, o in ipairs(outputs) do
      local g = list[i]
      if not torch.isTensor(g) or g:nElement() ~= o:nElement() or torch.type(g) ~= torch.type(o) then
         error(string.format('<%s> gradOutput[%d] must be a %s of %d elements (as output %d), got %s', cls, i,
                             torch.type(o), o:nElement(), i, torch.isTensor(g) and (torch.type(g) .. ' of '
                             .. g:nElement() .. ' elements') or torch.type(g)), 3)
      end
      out[i] = g:contiguous():view(N, o:nElement() / math.max(N, 1))
   end
   if self.maskzero and torch.isTensor(self.zeroMask) and self.zeroMask:dim() == 1 then
      for i, g in ipairs(out) do
         out[i] = zeromask.recursiveZeroMask(g:clone(), self.zeroMask)
      end
   end
   return out
end

-- maskZero([v1]) / setZeroMask(zeroMask) of the step modules
function stepcheck.maskZero(self, v1)
   self.maskzero = true
   self.v2 = not v1
   return self
end

function stepcheck.setZeroMask(self, zeroMask)
   self.zeroMask = zeromask.check(torch.type(self), zeroMask)
end

return stepcheck
