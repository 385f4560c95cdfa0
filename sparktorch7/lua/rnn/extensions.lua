-- rnn's extensions of nn.Module, applied by `require 'rnn'` (as Element-Research
-- rnn's Module.lua did): forget/remember/maxBPTTstep reach every child, so a
-- container of recurrent modules can be reset or told to keep its state;
-- stepClone is a sharedClone that keeps inner AbstractRecurrent modules;
-- hidden states are read and set through the children. Returns its table.
local extensions = {}
local Module = nn.Module

local function children(self)
   return type(self.modules) == 'table' and self.modules or {}
end

-- forget the past of every recurrent module inside
function Module:forget()
   for _, module in ipairs(children(self)) do
      module:forget()
   end
   return self
end

-- remember(mode) ('both', 'eval', 'train', 'neither'), passed to the sequencers inside
function Module:remember(remember)
   for _, module in ipairs(children(self)) do
      module:remember(remember)
   end
   return self
end

function Module:stepClone(shareParams, shareGradParams)
   return self:sharedClone(shareParams, shareGradParams, true)
end

function Module:setOutputStep(step)
   for _, module in ipairs(children(self)) do
      module:setOutputStep(step)
   end
end

function Module:maxBPTTstep(rho)
   for _, module in ipairs(children(self)) do
      module:maxBPTTstep(rho)
   end
end

function Module:getHiddenState(step)
   if type(self.modules) == 'table' then
      local state = {}
      for i, module in ipairs(self.modules) do
         state[i] = module:getHiddenState(step)
      end
      return state
   end
end

function Module:setHiddenState(step, hiddenState)
   if type(self.modules) == 'table' then
      if type(hiddenState) ~= 'table' then
         error('<' .. torch.type(self) .. '> setHiddenState expects a table, got '
               .. torch.type(hiddenState), 2)
      end
      for i, module in ipairs(self.modules) do
         module:setHiddenState(step, hiddenState[i])
      end
   end
end

-- the gradients of the hidden states (Element-Research rnn), gathered and given out as
-- getHiddenState/setHiddenState do the states
function Module:getGradHiddenState(step)
   if type(self.modules) == 'table' then
      local grads = {}
      for i, module in ipairs(self.modules) do
         grads[i] = module:getGradHiddenState(step)
      end
      return grads
   end
end

function Module:setGradHiddenState(step, gradHiddenState)
   if type(self.modules) == 'table' then
      if type(gradHiddenState) ~= 'table' then
         error('<' .. torch.type(self) .. '> setGradHiddenState expects a table, got '
               .. torch.type(gradHiddenState), 2)
      end
      for i, module in ipairs(self.modules) do
         module:setGradHiddenState(step, gradHiddenState[i])
      end
   end
end

-- torch/rnn (rnn's successor) adds zero masking to every module: maskZero(v1) and
-- setZeroMask(zeroMask) reach every child (the recurrent modules and MaskZero act on them),
-- setStartState(state) gives each child its part of the state; the mask helpers go on
-- nn.utils under torch/rnn's names
function Module:maskZero(v1)
   for _, module in ipairs(children(self)) do
      module:maskZero(v1)
   end
   return self
end

function Module:setZeroMask(zeroMask)
   for _, module in ipairs(children(self)) do
      module:setZeroMask(zeroMask)
   end
end

function Module:setStartState(startState)
   if startState ~= nil and type(startState) ~= 'table' then
      error('<' .. torch.type(self) .. '> setStartState expects a table (a state per child) or nil, got '
            .. torch.type(startState), 2)
   end
   for i, module in ipairs(children(self)) do
      module:setStartState(startState and startState[i])
   end
end

local zeromask = require('rnn.zeromask')
nn.utils.getZeroMaskBatch = zeromask.getZeroMaskBatch
nn.utils.getZeroMaskSequence = zeromask.getZeroMaskSequence
nn.utils.recursiveZeroMask = zeromask.recursiveZeroMask
function nn.utils.setZeroMask(modules, zeroMask)
   for _, module in ipairs(torch.type(modules) == 'table' and modules or {modules}) do
      module:setZeroMask(zeroMask)
   end
end

-- rnn's nn.Dropout: `lazy` samples the mask once and keeps it until the next
-- backward (each step clone keeps its own), `mono` uses one mask row for the whole batch. Dropouts without those
-- fields (every core nn model) run nn.Dropout as before.
local coreDropout = nn.Dropout.updateOutput

function nn.Dropout:updateOutput(input)
   if not (self.lazy or self.mono) or not (self.p > 0 and self.train) or not torch.isTensor(input) then
      return coreDropout(self, input)
   end
   if self.inplace then
      self.output = input
   else
      if not torch.isTensor(self.output) or torch.type(self.output) ~= torch.type(input) or self.output == input then
         self.output = nn.utils.newLike(input)
      end
      self.output:resizeAs(input):copy(input)
   end
   local size = input:size()
   if self.mono then size[1] = 1 end
   local noise = self.noise
   local fits = torch.isTensor(noise) and torch.type(noise) == torch.type(input) and noise:dim() == input:dim()
   if fits then
      for d = 2, input:dim() do
         if noise:size(d) ~= input:size(d) then fits = false end
      end
      if not self.mono and noise:size(1) ~= input:size(1) then fits = false end
   end
   if not self.lazy or self.flag or not fits then
      noise = nn.utils.newLike(input):resize(size):bernoulli(1 - self.p)
      if self.v2 then noise:div(1 - self.p) end
      self.noise = noise
      self.flag = false
   end
   if self.mono and noise:size(1) ~= input:size(1) then
      noise = noise:narrow(1, 1, 1):expandAs(input)
   end
   self.output:cmul(noise)
   return self.output
end

-- backward of those: the gradient times the mask forward used (already scaled in version 2;
-- mono's one row serves every sample); a lazy dropout samples a new mask at the next forward
local coreDropoutGrad = nn.Dropout.updateGradInput

function nn.Dropout:updateGradInput(input, gradOutput)
   if self.lazy then self.flag = true end
   if not (self.lazy or self.mono) or not (self.p > 0 and self.train) or not torch.isTensor(input) then
      return coreDropoutGrad(self, input, gradOutput)
   end
   local noise = self.noise
   if not torch.isTensor(noise) or noise:dim() ~= input:dim() or (noise:size(1) ~= input:size(1) and noise:size(1) ~= 1)
         or not torch.isTensor(gradOutput) or not gradOutput:isSameSizeAs(input) then
      error(string.format('<%s> backward needs the forward of an input sized as gradOutput (%s) first',
                          torch.type(self), torch.isTensor(gradOutput) and table.concat(gradOutput:size():totable(), 'x')
                          or torch.type(gradOutput)), 2)
   end
   if noise:size(1) ~= input:size(1) then noise = noise:expandAs(input) end
   if self.inplace then
      self.gradInput = gradOutput
   else
      if not torch.isTensor(self.gradInput) or torch.type(self.gradInput) ~= torch.type(input)
            or self.gradInput == gradOutput then
         self.gradInput = nn.utils.newLike(input)
      end
      self.gradInput:resizeAs(gradOutput):copy(gradOutput)
   end
   self.gradInput:cmul(noise)
   return self.gradInput
end

-- The dropout rnn's LSTM/GRU put before their gates: an nn.Dropout with
-- rnn's lazy and mono fields (rnn's Dropout takes them as arguments 4 and 5;
-- sparktorch7's nn.Dropout reads argument 4 as stochastic inference, so they
-- are set as fields).
function extensions.lazyDropout(p, mono)
   local d = nn.Dropout(p, false, false)
   d.lazy = true
   d.mono = mono or false
   d.flag = true
   return d
end

return extensions
