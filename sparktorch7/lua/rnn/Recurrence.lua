-- nn.Recurrence(recurrentModule, outputSize, nInputDim, rho): any module
-- mapping {x(t), h(t-1)} to h(t) made recurrent; the first step gets zeros
-- of outputSize (a number, a size table, or a table of them for table states), or
-- torch/rnn's setStartState(state). In evaluation the step module reads a copy of its own
-- last output (as torch/rnn), so modules that write their output before reading all of their
-- input still see h(t-1).
local unpack = unpack or table.unpack
local schema = require('nn.schema')
local Recurrence, parent = torch.class('nn.Recurrence', 'nn.AbstractRecurrent')

-- the sizes of one step's output (the zero state of the first step is made of them)
local function sizes(v)
   if type(v) == 'number' then return end
   local n = torch.isStorage(v) and v:size() or #v
   for i = 1, n do
      local x = v[i]
      if not (type(x) == 'number' and x >= 1 and x <= 2147483647 and x == math.floor(x)) then
         return 'sizes that are integers >= 1', string.format('%s at index %d', schema.holds(x), i)
      end
   end
end

schema.declare(Recurrence, {
   {'outputSize', 'table|longstorage|posint', check = sizes},
   {'nInputDim', 'natural'},
   {'module', 'module?'},
   {'typeTensor', 'tensor?'}, {'zeroTensor', 'tensor|table?'}, {'_prevOutput', 'tensor|table?'},
})

function Recurrence:__init(recurrentModule, outputSize, nInputDim, rho)
   parent.__init(self, rho or 9999)
   local ts = torch.type(outputSize)
   if ts ~= 'table' and ts ~= 'torch.LongStorage' and ts ~= 'number' then
      error('<nn.Recurrence> outputSize (arg 2) must be a number, a table or a torch.LongStorage, got ' .. ts, 2)
   end
   self.outputSize = ts == 'number' and {outputSize} or outputSize
   if type(nInputDim) ~= 'number' then
      error('<nn.Recurrence> nInputDim (arg 3) must be a number, got ' .. torch.type(nInputDim), 2)
   end
   self.nInputDim = nInputDim
   if not torch.isTypeOf(recurrentModule, 'nn.Module') then
      error('<nn.Recurrence> recurrentModule (arg 1) must be an nn.Module, got ' .. torch.type(recurrentModule), 2)
   end
   self.recurrentModule = recurrentModule
   self.module = recurrentModule
   self.modules[1] = recurrentModule
   self.sharedClones[1] = recurrentModule
   self.typeTensor = torch.Tensor()
end

function Recurrence:recursiveResizeZero(tensor, size, batchSize)
   local isTable = torch.type(size) == 'table'
   if isTable and torch.type(size[1]) ~= 'number' then
      tensor = (torch.type(tensor) == 'table') and tensor or {}
      for k, v in ipairs(size) do
         tensor[k] = self:recursiveResizeZero(tensor[k], v, batchSize)
      end
      return tensor
   end
   local dims = torch.type(size) == 'torch.LongStorage' and size:totable() or size
   if not torch.isTensor(tensor) or torch.type(tensor) ~= torch.type(self.typeTensor) then
      tensor = nn.utils.newLike(self.typeTensor)
   end
   if batchSize then
      tensor:resize(batchSize, unpack(dims))
   else
      tensor:resize(unpack(dims))
   end
   return tensor:zero()
end

function Recurrence:getBatchSize(input, nInputDim)
   nInputDim = nInputDim or self.nInputDim
   if torch.type(input) == 'table' then
      return self:getBatchSize(input[1])
   end
   if input:dim() == nInputDim then
      return nil
   elseif input:dim() - 1 == nInputDim then
      return input:size(1)
   end
   error(string.format('<nn.Recurrence> input has %d dimensions, expected %d (or %d for a batch)',
                       input:dim(), nInputDim, nInputDim + 1), 3)
end

function Recurrence:getHiddenState(step, input)
   local prevOutput
   if step == 0 then
      if input then
         local first = input
         while torch.type(first) == 'table' do first = first[1] end
         -- zeros of the input's type, unless it holds indices (LookupRNN)
         local ft = torch.type(first)
         if torch.isTensor(first) and ft ~= torch.type(self.typeTensor)
               and (ft == 'torch.FloatTensor' or ft == 'torch.DoubleTensor') then
            self.typeTensor = nn.utils.newLike(first)
         end
         self.zeroTensor = self:recursiveResizeZero(self.zeroTensor, self.outputSize, self:getBatchSize(input))
      end
      prevOutput = self.userPrevOutput or self.startState or self.outputs[step] or self.zeroTensor
   else
      prevOutput = self.outputs[step]
   end
   return {prevOutput, nn.Container.getHiddenState(self, step)}
end

function Recurrence:setHiddenState(step, hiddenState)
   if type(hiddenState) ~= 'table' or torch.typename(hiddenState) then
      error('<' .. torch.type(self) .. '> setHiddenState expects {output [, the children\'s states]}', 2)
   end
   if step == 0 then
      self:setStartState(hiddenState[1])
   else
      self.outputs[step] = hiddenState[1]
   end
   if hiddenState[2] then
      nn.Container.setHiddenState(self, step, hiddenState[2])
   end
end

function Recurrence:updateOutput(input)
   local prevOutput = self:getHiddenState(self.step - 1, input)[1]
   local m = self:_stepModule()
   if self.train == false and self.step > 1 then
      self._prevOutput = rnn.recursiveCopy(self._prevOutput, prevOutput)
      prevOutput = self._prevOutput
   end
   local output = self:rethrowErrors(m, 1, 'updateOutput', {input, prevOutput})
   return self:_stepDone(output)
end


-- backward: Element-Research rnn's BPTT (AbstractRecurrent), the state as {x, h}
parent.useHooks(Recurrence, parent.hStateHooks)

-- {grad h(step), the children's}, as its getHiddenState
function Recurrence:getGradHiddenState(step)
   return {parent.hStateHooks.getGradHiddenState(self, step), nn.Container.getGradHiddenState(self, step)}
end

function Recurrence:setGradHiddenState(step, gradHiddenState)
   if type(gradHiddenState) ~= 'table' or torch.typename(gradHiddenState) then
      error('<' .. torch.type(self) .. "> setGradHiddenState expects {gradOutput [, the children's]}", 2)
   end
   parent.hStateHooks.setGradHiddenState(self, step, gradHiddenState[1])
   if gradHiddenState[2] then
      nn.Container.setGradHiddenState(self, self:_resolveGradStep(step), gradHiddenState[2])
   end
end

-- its getHiddenState is {h(t-1), the children's states}: the step module got h(t-1)
function Recurrence:_stepCall(step, input)
   return self:getStepModule(step), {input, self:getHiddenState(step - 1, input)[1]}
end

return Recurrence
