-- nn.PartialLinear(inputSize, outputSize[, bias]): a linear layer that can be restricted
-- to a subset of its output units (setPartition(indices)): forward then computes only those
-- columns, y = x W[partition]^T + b[partition], for a batch of rows x (2D). All parameters
-- are kept; resetPartition() gives back the full layer. As in Torch7, the weight is the
-- nn.LookupTable of a small network {x, partition} -> nn.MM(x, rows^T), and the bias a
-- 1 x outputSize tensor.
local schema = require('nn.schema')
local PartialLinear, parent = torch.class('nn.PartialLinear', 'nn.Module')

schema.declare(PartialLinear, {
   {'network', 'module'},
   {'inputsize', 'posint'}, {'outputsize', 'posint'},
   {'bias', 'tensor?', nElement = 'outputsize'}, {'gradBias', 'tensor?'},
   {'allcolumns', 'tensor', nElement = 'outputsize'},
   {'partition', 'tensor', dim = 1},
   {'addBuffer', 'tensor?'}, {'buffer', 'tensor?'},
})

function PartialLinear:__init(inputsize, outputsize, bias)
   parent.__init(self)
   local args = {inputsize, outputsize}
   for i = 1, 2 do
      local v = args[i]
      if type(v) ~= 'number' or v < 1 or v ~= math.floor(v) then
         error(string.format('<nn.PartialLinear> usage: nn.PartialLinear(inputSize, outputSize[, bias]): ' ..
                             'argument %d must be a positive integer, got %s', i, tostring(v)), 2)
      end
   end
   if bias == nil then bias = true end
   local pt = nn.ParallelTable()
   pt:add(nn.Identity()):add(nn.LookupTable(outputsize, inputsize))
   self.network = nn.Sequential():add(pt):add(nn.MM(false, true))
   if bias then
      self.bias = torch.Tensor(1, outputsize):zero()
      self.gradBias = torch.Tensor(1, outputsize):zero()
   end
   self.inputsize = inputsize
   self.outputsize = outputsize
   self.allcolumns = torch.range(1, outputsize)
   self:resetPartition()
end

function PartialLinear:lookup()
   return self.network:get(1):get(2)
end

-- indices: a 1D tensor of output units (1..outputSize)
function PartialLinear:setPartition(indices)
   if not torch.isTensor(indices) or indices:dim() ~= 1 or indices:nElement() == 0 then
      error('<nn.PartialLinear> setPartition expects a 1D tensor of output indices, got ' ..
            (torch.isTensor(indices) and indices:dim() .. 'D tensor' or torch.type(indices)), 2)
   end
   local lo, hi = indices:min(), indices:max()
   if lo < 1 or hi > self.outputsize then
      error(string.format('<nn.PartialLinear> partition indices must be in [1, %d], got [%s, %s]',
                          self.outputsize, tostring(lo), tostring(hi)), 2)
   end
   self.partition = indices:type(self.allcolumns:type())
   return self
end

function PartialLinear:resetPartition()
   self.partition = self.allcolumns
   return self
end

function PartialLinear:parameters()
   local lt = self:lookup()
   if self.bias then
      return {lt.weight, self.bias}, {lt.gradWeight, self.gradBias}
   end
   return {lt.weight}, {lt.gradWeight}
end

function PartialLinear:reset(stdv)
   local lt = self:lookup()
   stdv = stdv and stdv * math.sqrt(3) or 1 / math.sqrt(self.inputsize)
   lt.weight:uniform(-stdv, stdv)
   if self.bias then self.bias:uniform(-stdv, stdv) end
   return self
end

local function checkInput(self, input, level)
   if not torch.isTensor(input) or input:dim() ~= 2 or input:size(2) ~= self.inputsize then
      error(string.format('<nn.PartialLinear> input must be a 2D batch of rows of %d features, got %s',
                          self.inputsize, torch.isTensor(input) and table.concat(input:size():totable(), 'x')
                          or torch.type(input)), level)
   end
end

function PartialLinear:updateOutput(input)
   checkInput(self, input, 3)
   local out = self.network:forward({input, self.partition})
   if not torch.isTensor(self.output) or self.output == out or torch.type(self.output) ~= torch.type(out) then
      self.output = nn.utils.newLike(out)
   end
   self.output:resizeAs(out):copy(out)
   if self.bias then
      self.output:add(self.bias:index(2, self.partition:long()):expandAs(self.output))
   end
   return self.output
end

function PartialLinear:updateGradInput(input, gradOutput)
   checkInput(self, input, 3)
   self.network:updateGradInput({input, self.partition}, gradOutput)
   self.gradInput = self.network.gradInput[1]
   return self.gradInput
end

-- the rows of the partition get scale dE/dy^T x; the bias's columns there the sum of dE/dy
function PartialLinear:accGradParameters(input, gradOutput, scale)
   scale = scale or 1
   self.network:accGradParameters({input, self.partition}, gradOutput, scale)
   if self.bias then
      local colSums = gradOutput:sum(1):mul(scale)
      self.gradBias:indexAdd(2, self.partition:long(), colSums:view(1, colSums:nElement()))
   end
end

-- accGradParameters with the parameters standing in for their gradients
function PartialLinear:accUpdateGradParameters(input, gradOutput, lr)
   local lt = self:lookup()
   local gradWeight, gradBias = lt.gradWeight, self.gradBias
   lt.gradWeight, self.gradBias = lt.weight, self.bias
   local ok, err = pcall(self.accGradParameters, self, input, gradOutput, -lr)
   lt.gradWeight, self.gradBias = gradWeight, gradBias
   if not ok then error(err, 0) end
end

function PartialLinear:sharedAccUpdateGradParameters(input, gradOutput, lr)
   self:defaultAccUpdateGradParameters(input, gradOutput, lr)
end

function PartialLinear:zeroGradParameters()
   self.network:zeroGradParameters()
   if self.gradBias then self.gradBias:zero() end
end

function PartialLinear:updateParameters(learningRate)
   self.network:updateParameters(learningRate)
   if self.bias then self.bias:add(-learningRate, self.gradBias) end
end

function PartialLinear:clearState()
   self.network:clearState()
   self.addBuffer, self.buffer = nil, nil
   return parent.clearState(self)
end

function PartialLinear:__tostring__()
   return torch.type(self) .. string.format('(%d -> %d)', self.inputsize, self.outputsize) ..
          (self.bias == nil and ' without bias' or '')
end

return PartialLinear
