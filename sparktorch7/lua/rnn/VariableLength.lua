-- nn.VariableLength(seqrnn [, lastOnly]): torch/rnn's decorator feeding a table of
-- variable-length sequences (sample i a length_i x ... tensor) to a zero-masked sequence
-- module (SeqLSTM, SeqGRU, Sequencer, ...; maskZero is called on it, version 2). The samples
-- are packed as torch/rnn packs them, longest first, several per column of a maxlength x
-- columns x ... tensor, one masked step between two of them; the zeroMask of the padding
-- is given to the module, so each sample runs from a fresh state. The output is the table
-- of each sample's outputs (views of the module's output), or with lastOnly an
-- nsamples x ... tensor of each sample's last step.
local schema = require('nn.schema')
local zeromask = require('rnn.zeromask')
local VariableLength, parent = torch.class('nn.VariableLength', 'nn.Decorator')

schema.declare(VariableLength, {
   {'lastOnly', 'boolean?'},
   {'indexes', 'table?'}, {'mappedLengths', 'table?'},
   {'_input', 'tensor?'}, {'_mask', 'tensor?'}, {'_gradOutput', 'tensor?'},
})

function VariableLength:__init(module, lastOnly)
   if not torch.isTypeOf(module, 'nn.Module') then
      error('<nn.VariableLength> expects a sequence module at argument 1, got ' .. torch.type(module), 2)
   end
   parent.__init(self, module:maskZero(false))
   self.lastOnly = lastOnly and true or false
   self.gradInput = {}
end

local function sizeStr(t)
   return t:dim() == 0 and 'an empty tensor' or table.concat(t:size():totable(), 'x')
end

-- the rows of the packing: lists of sample indexes and their lengths (torch/rnn's layout)
local function pack(lengths)
   local order = {}
   for i = 1, #lengths do order[i] = i end
   -- by length, ties in input order (glibc's qsort of torch/rnn is a stable merge sort)
   table.sort(order, function(a, b)
      if lengths[a] ~= lengths[b] then return lengths[a] < lengths[b] end
      return a < b
   end)
   local maxlen = lengths[order[#order]]
   local assigned, indexes, mapped = {}, {}, {}
   local count, row, rowLens, available = 0, {}, {}, maxlen
   while count < #order do
      local added = false
      for k = #order, 1, -1 do
         local i = order[k]
         if not assigned[i] and lengths[i] <= available then
            row[#row + 1], rowLens[#rowLens + 1] = i, lengths[i]
            assigned[i] = true
            available = available - lengths[i] - 1
            count = count + 1
            added = true
         end
      end
      if not added then
         indexes[#indexes + 1], mapped[#mapped + 1] = row, rowLens
         row, rowLens, available = {}, {}, maxlen
      end
   end
   indexes[#indexes + 1], mapped[#mapped + 1] = row, rowLens
   return indexes, mapped, maxlen
end

function VariableLength:updateOutput(input)
   local cls = torch.type(self)
   if type(input) ~= 'table' or torch.typename(input) or #input == 0 then
      error('<' .. cls .. '> input must be a non-empty table of sequences (each seqlen_i x ...), got '
            .. (type(input) == 'table' and not torch.typename(input) and 'an empty table' or torch.type(input)), 2)
   end
   local first = input[1]
   local lengths = {}
   for i, x in ipairs(input) do
      if not torch.isTensor(x) or x:dim() < 1 or x:size(1) < 1 then
         error(string.format('<%s> sample %d must be a tensor of at least one step (seqlen x ...), got %s', cls, i,
                             torch.isTensor(x) and sizeStr(x) or torch.type(x)), 2)
      end
      local same = torch.type(x) == torch.type(first) and x:dim() == first:dim()
      for d = 2, x:dim() do
         if same and x:size(d) ~= first:size(d) then same = false end
      end
      if not same then
         error(string.format('<%s> got tensors of different sizes: sample 1 is a %s of %s, sample %d a %s of %s',
                             cls, torch.type(first), sizeStr(first), i, torch.type(x), sizeStr(x)), 2)
      end
      lengths[i] = x:size(1)
   end
   local indexes, mapped, maxlen = pack(lengths)
   self.indexes, self.mappedLengths = indexes, mapped
   local size = first:size():totable()
   size[1] = maxlen
   table.insert(size, 2, #indexes)
   self._input = torch.isTensor(self._input) and torch.type(self._input) == torch.type(first) and self._input
      or nn.utils.newLike(first)
   self._input:resize(torch.LongStorage(size)):zero()
   self._mask = torch.type(self._mask) == 'torch.ByteTensor' and self._mask or torch.ByteTensor()
   self._mask:resize(maxlen, #indexes):fill(1)
   for r, row in ipairs(indexes) do
      local start = 1
      for j, i in ipairs(row) do
         local len = mapped[r][j]
         self._input:select(2, r):narrow(1, start, len):copy(input[i])
         self._mask:select(2, r):narrow(1, start, len):fill(0)
         start = start + len + 1
      end
   end
   zeromask.recursiveZeroMask(self._input, self._mask)
   self.modules[1]:setZeroMask(self._mask)
   local output = self:rethrowErrors(self.modules[1], 1, 'updateOutput', self._input)
   if not torch.isTensor(output) or output:dim() < 2 or output:size(1) ~= maxlen or output:size(2) ~= #indexes then
      error(string.format('<%s> the decorated module must return a %d x %d x ... tensor (seqlen x columns), got %s',
                          cls, maxlen, #indexes, torch.isTensor(output) and sizeStr(output) or torch.type(output)), 2)
   end
   if self.lastOnly then
      local osize = output:size():totable()
      table.remove(osize, 1)
      osize[1] = #input
      self.output = torch.isTensor(self.output) and torch.type(self.output) == torch.type(output) and self.output
         or nn.utils.newLike(output)
      self.output:resize(torch.LongStorage(osize))
      for r, row in ipairs(indexes) do
         local start = 1
         for j, i in ipairs(row) do
            local len = mapped[r][j]
            self.output[i]:copy(output:select(2, r)[start + len - 1])
            start = start + len + 1
         end
      end
   else
      self.output = {}
      for r, row in ipairs(indexes) do
         local start = 1
         for j, i in ipairs(row) do
            local len = mapped[r][j]
            self.output[i] = output:select(2, r):narrow(1, start, len)
            start = start + len + 1
         end
      end
   end
   return self.output
end

-- backward: gradOutput packed as the output was (zeros on the padding, and with lastOnly
-- everywhere but each sample's last step), the module's backward on the packed input, and
-- each sample's gradient cut out of the packed gradInput (copies)
local function packedGrad(self, gradOutput)
   local cls = torch.type(self)
   if not (self.indexes and torch.isTensor(self._input)) then
      error('<' .. cls .. '> backward needs a forward first', 3)
   end
   local out = self.modules[1].output
   self._gradOutput = torch.isTensor(self._gradOutput) and torch.type(self._gradOutput) == torch.type(out)
      and self._gradOutput or nn.utils.newLike(out)
   local g = self._gradOutput:resizeAs(out):zero()
   local n = 0
   for _, row in ipairs(self.indexes) do n = n + #row end
   local function wrong(i, what)
      error(string.format('<%s> gradOutput %s, sized as the output', cls, i and ('[' .. i .. '] ' .. what) or what), 4)
   end
   if self.lastOnly then
      if not torch.isTensor(gradOutput) or gradOutput:dim() < 1 or gradOutput:size(1) ~= n then
         wrong(nil, string.format('must be a tensor of %d rows (one per sample)', n))
      end
   elseif type(gradOutput) ~= 'table' or torch.typename(gradOutput) or #gradOutput ~= n then
      wrong(nil, string.format('must be a table of %d tensors (one per sample)', n))
   end
   for r, row in ipairs(self.indexes) do
      local start = 1
      for j, i in ipairs(row) do
         local len = self.mappedLengths[r][j]
         local col = g:select(2, r)
         if self.lastOnly then
            col[start + len - 1]:copy(gradOutput[i])
         else
            local gi, dst = gradOutput[i], col:narrow(1, start, len)
            if not torch.isTensor(gi) or gi:nElement() ~= dst:nElement() then wrong(i, 'does not fit') end
            dst:copy(gi)
         end
         start = start + len + 1
      end
   end
   return g
end

local function unpacked(self, input, gradInput)
   if not torch.isTensor(gradInput) or not gradInput:isSameSizeAs(self._input) then
      error('<' .. torch.type(self) .. '> the decorated module must give a gradInput sized as its packed input', 3)
   end
   if type(self.gradInput) ~= 'table' or torch.typename(self.gradInput) then self.gradInput = {} end
   for r, row in ipairs(self.indexes) do
      local start = 1
      for j, i in ipairs(row) do
         local len = self.mappedLengths[r][j]
         local piece = gradInput:select(2, r):narrow(1, start, len)
         self.gradInput[i] = rnn.recursiveCopy(self.gradInput[i], piece)
         start = start + len + 1
      end
   end
   for i = #input + 1, #self.gradInput do self.gradInput[i] = nil end
   return self.gradInput
end

function VariableLength:updateGradInput(input, gradOutput)
   local g = packedGrad(self, gradOutput)
   return unpacked(self, input, self:rethrowErrors(self.modules[1], 1, 'updateGradInput', self._input, g))
end

function VariableLength:accGradParameters(input, gradOutput, scale)
   self:rethrowErrors(self.modules[1], 1, 'accGradParameters', self._input, packedGrad(self, gradOutput), scale or 1)
end

function VariableLength:backward(input, gradOutput, scale)
   local g = packedGrad(self, gradOutput)
   return unpacked(self, input, self:rethrowErrors(self.modules[1], 1, 'backward', self._input, g, scale or 1))
end

function VariableLength:setZeroMask()
   error('<' .. torch.type(self) .. '> makes the zeroMask of its module itself: setZeroMask is not supported', 2)
end

function VariableLength:clearState()
   self.gradInput = {}
   if torch.isTensor(self.output) then self.output = nn.utils.newLike(self.output) else self.output = {} end
   self._gradOutput, self._input = nil, nil
   return parent.clearState(self)
end

return VariableLength
