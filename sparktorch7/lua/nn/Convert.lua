-- nn.Convert(inputShape, outputShape): converts between tensor layouts named
-- by letters ('bchw', 'bf', 'b', 'bt', ...; b is the batch axis) and to the
-- module's tensor type. The converter module it builds on the first forward
-- (a transposition, a reshape, a select) is kept in modules[1], as in files.
-- Backward runs the converter's backward and gives the gradient the input's
-- sizes and tensor type.
local unpack = unpack or table.unpack
local schema = require('nn.schema')
local Convert, parent = torch.class('nn.Convert', 'nn.Container')

-- a layout: letters naming axes, one of them b (the batch axis), or 'b*' (any layout)
local function shape(s)
   if not s:find('b', 1, true) or s:find('[^%a*]') or (s:find('*', 1, true) and s ~= 'b*') then
      return "a layout of axis letters with a batch axis b (e.g. 'bchw', 'bf'), or 'b*'"
   end
end

-- the position of the batch axis in its layout (forward inserts and removes it there)
local function batchDim(shapeField)
   return function(d, self)
      local want = self[shapeField]:find('b', 1, true)
      if d ~= want then return string.format('%d (the position of b in %s %q)', want, shapeField, self[shapeField]) end
   end
end

-- the layout's number of axes, -1 for 'b*'
local function nDim(shapeField)
   return function(n, self)
      local s = self[shapeField]
      local want = s == 'b*' and -1 or #s
      if n ~= want then return string.format('%d (the axes of %s %q)', want, shapeField, s) end
   end
end

schema.declare(Convert, {
   {'inputShape', 'string', check = shape},
   {'outputShape', 'string', check = shape},
   {'inputBatchDim', 'posint?', check = batchDim('inputShape')},
   {'outputBatchDim', 'posint?', check = batchDim('outputShape')},
   {'nInputDim', 'int?', check = nDim('inputShape')},
   {'nOutputDim', 'int?', check = nDim('outputShape')},
   {'transposition', 'boolean?'},
   {'batchMode', 'boolean?'},
   {'converter', 'module?'},
   {'_input', 'tensor?'}, {'__input', 'tensor?'}, {'__output', 'tensor?'},
   {'_gradInput', 'tensor?'}, {'__gradInput', 'tensor?'}, {'__gradOutput', 'tensor?'},
})

function Convert:__init(inputShape, outputShape)
   if outputShape and not inputShape then
      error('<nn.Convert> expects an input shape (arg 1) when an output shape (arg 2) is given', 2)
   end
   inputShape = inputShape or 'b*'
   outputShape = outputShape or inputShape
   self.inputShape = inputShape:find('b') and inputShape or ('b' .. inputShape)
   self.outputShape = outputShape:find('b') and outputShape or ('b' .. outputShape)
   self.inputBatchDim = self.inputShape:find('b')
   self.outputBatchDim = self.outputShape:find('b')
   if self.inputShape == 'b*' or self.outputShape == 'b*' then
      if not (self.inputShape == 'b*' and self.outputShape == 'b*') then
         error('<nn.Convert> both or neither shapes must be b*', 2)
      end
      self.nInputDim = -1
      self.nOutputDim = -1
      self.transposition = true
   else
      self.nInputDim = #self.inputShape
      self.nOutputDim = #self.outputShape
      if self.nInputDim == self.nOutputDim then
         self.transposition = true
         for i = 1, self.nInputDim do
            if not self.outputShape:find(self.inputShape:sub(i, i), 1, true) then
               self.transposition = false
               break
            end
         end
      end
   end
   parent.__init(self)
end

function Convert:findAxis(axisChar, shape, silent)
   shape = shape or self.inputShape
   local pos = shape:find(axisChar, 1, true)
   if not silent and not pos then
      error(string.format("<nn.Convert> shape '%s' has no axis '%s'", shape, axisChar), 2)
   end
   return pos
end

function Convert:transpose(newShape)
   if newShape == self.inputShape then
      return nn.Identity()
   end
   local shape = {}
   for i = 1, #self.inputShape do shape[i] = self.inputShape:sub(i, i) end
   local transpositions = {}
   for i = 1, #newShape do
      local j
      for k = 1, #shape do
         if shape[k] == newShape:sub(i, i) then j = k break end
      end
      if j and i ~= j then
         shape[i], shape[j] = shape[j], shape[i]
         transpositions[#transpositions + 1] = {j, i}
      end
   end
   return nn.Transpose(unpack(transpositions))
end

function Convert:bf(input)
   local bPos = self:findAxis('b', self.inputShape)
   local dim = #self.inputShape
   if self.inputShape == 'bt' then
      error('<nn.Convert> conversion of shape bt to bf is not supported', 3)
   end
   if dim == 1 then
      return nn.Reshape(1)
   end
   local m
   if bPos ~= 1 then
      m = nn.Transpose({1, bPos})
   end
   if dim > 2 then
      local sampleSize = input:select(bPos, 1):nElement()
      local reshape = nn.Reshape(sampleSize)
      if m then
         m = nn.Sequential():add(m):add(reshape)
      else
         m = reshape
      end
   end
   return m or nn.Identity()
end

function Convert:b(input)
   if self.inputShape == 'bt' or self.inputShape == 'tb' then
      return nn.Select(self:findAxis('t'), 1)
   elseif self.inputShape == 'bf' or self.inputShape == 'fb' then
      local f = self:findAxis('f')
      if input:size(f) > 1 then
         error('<nn.Convert> cannot convert shape ' .. self.inputShape .. ' to b when feature > 1', 3)
      end
      return nn.Select(f, 1)
   end
   error('<nn.Convert> cannot convert shape ' .. self.inputShape .. ' to shape b', 3)
end

function Convert:bt()
   if self.inputShape == 'b' then
      return nn.Reshape(1)
   end
   error("<nn.Convert> cannot convert shape '" .. self.inputShape .. "' to bt", 3)
end

function Convert:default()
   return nn.Identity()
end

function Convert:buildConverter(input)
   if self.transposition then
      self.converter = self:transpose(self.outputShape)
   else
      if type(self[self.outputShape]) ~= 'function' then
         error(string.format('<nn.Convert> unrecognised conversion of shape %s to %s',
                             self.inputShape, self.outputShape), 3)
      end
      self.converter = self[self.outputShape](self, input)
   end
   self.converter:type(torch.type(self.output))
   self.modules[1] = self.converter
end

-- what the converter sees: the input in the module's tensor type, with a batch axis of
-- one inserted when it has none; and whether it had one (self.batchMode)
local function converterInput(self, input, where)
   if not torch.isTensor(input) then
      error('<nn.Convert> input must be a tensor, got ' .. torch.type(input), where)
   end
   if not torch.isTensor(self.output) then
      self.output = torch.Tensor()
   end
   if torch.type(input) ~= torch.type(self.output) then
      if not torch.isTensor(self._input) or torch.type(self._input) ~= torch.type(self.output) then
         self._input = nn.utils.newLike(self.output)
      end
      self._input:resize(input:size()):copy(input)
      input = self._input
   end
   self.batchMode = true
   if input:dim() < self.nInputDim then
      local size = input:size():totable()
      table.insert(size, self.inputBatchDim, 1)
      if not torch.isTensor(self.__input) or torch.type(self.__input) ~= torch.type(input) then
         self.__input = nn.utils.newLike(input)
      end
      self.__input:set(input:contiguous()):resize(unpack(size))
      input = self.__input
      self.batchMode = false
   end
   return input
end

-- t seen with the given sizes (a contiguous copy first when needed), in buffer self[field]
local function viewAs(self, field, t, sizes)
   if not torch.isTensor(self[field]) or torch.type(self[field]) ~= torch.type(t) then
      self[field] = nn.utils.newLike(t)
   end
   return self[field]:set(t:contiguous()):resize(sizes)
end

function Convert:updateOutput(input)
   input = converterInput(self, input, 3)
   self.converter = self.converter or self.modules[1]
   if not self.converter then
      self:buildConverter(input)
   end
   local output = self:rethrowErrors(self.converter, 1, 'updateOutput', input)
   if not self.batchMode then
      local size = output:size():totable()
      table.remove(size, self.outputBatchDim)
      output = viewAs(self, '__output', output, torch.LongStorage(size))
   end
   self.output = output
   return self.output
end

-- the converter's input and gradOutput (with the batch axis of one the forward added)
local function converterArgs(self, input, gradOutput)
   if not torch.isTensor(gradOutput) then
      error('<nn.Convert> gradOutput must be a tensor, got ' .. torch.type(gradOutput), 4)
   end
   local ci = converterInput(self, input, 4)
   if not self.converter then
      error('<nn.Convert> backward before forward: run forward on this input first', 4)
   end
   local out = self.converter.output
   if not torch.isTensor(out) or out:nElement() ~= gradOutput:nElement() then
      error(string.format('<nn.Convert> gradOutput has %d elements, the output %d', gradOutput:nElement(),
                          torch.isTensor(out) and out:nElement() or 0), 4)
   end
   if torch.type(gradOutput) ~= torch.type(out) then
      gradOutput = nn.utils.newLike(out):resize(gradOutput:size()):copy(gradOutput)
   end
   if not self.batchMode then
      gradOutput = viewAs(self, '__gradOutput', gradOutput, out:size())
   end
   return ci, gradOutput
end

-- dE/dx: the converter's gradient, seen with the input's sizes and in its tensor type
function Convert:updateGradInput(input, gradOutput)
   local ci, go = converterArgs(self, input, gradOutput)
   local gi = self:rethrowErrors(self.converter, 1, 'updateGradInput', ci, go)
   if not self.batchMode then
      gi = viewAs(self, '__gradInput', gi, input:size())
   end
   if torch.type(gi) ~= torch.type(input) then
      if not torch.isTensor(self._gradInput) or torch.type(self._gradInput) ~= torch.type(input) then
         self._gradInput = nn.utils.newLike(input)
      end
      gi = self._gradInput:resize(input:size()):copy(gi)
   end
   self.gradInput = gi
   return self.gradInput
end

function Convert:accGradParameters(input, gradOutput, scale)
   local ci, go = converterArgs(self, input, gradOutput)
   self:rethrowErrors(self.converter, 1, 'accGradParameters', ci, go, scale)
end

function Convert:accUpdateGradParameters(input, gradOutput, lr)
   local ci, go = converterArgs(self, input, gradOutput)
   self:rethrowErrors(self.converter, 1, 'accUpdateGradParameters', ci, go, lr)
end

function Convert:clearState()
   self._input, self.__input, self.__output = nil, nil, nil
   self._gradInput, self.__gradInput, self.__gradOutput = nil, nil, nil
   return parent.clearState(self)
end

function Convert:type(typename, cache)
   if typename and not torch.isTypeOf(self.output, typename) then
      self._input, self.__input, self.__output = nil, nil, nil
      self._gradInput, self.__gradInput, self.__gradOutput = nil, nil, nil
   end
   return parent.type(self, typename, cache)
end

return Convert
