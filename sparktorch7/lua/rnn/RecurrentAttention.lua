-- nn.RecurrentAttention(rnn, action, nStep, hiddenSize): the recurrent model
-- of visual attention: for nStep steps the action module (a location
-- policy) reads the previous rnn output (zeros of hiddenSize at the first
-- step) and the rnn reads {input, action}. The output is the table of the
-- rnn's step outputs; forwardActions makes each {output, action}.
local unpack = unpack or table.unpack
local schema = require('nn.schema')
local RecurrentAttention, parent = torch.class('nn.RecurrentAttention', 'nn.AbstractSequencer')

schema.declare(RecurrentAttention, {
   {'rnn', 'module'},
   {'action', 'module'},
   {'nStep', 'natural'},
   {'hiddenSize', 'table|longstorage', check = function(v)
      local n = torch.isStorage(v) and v:size() or #v
      for i = 1, n do
         local x = v[i]
         if not (type(x) == 'number' and x >= 1 and x <= 2147483647 and x == math.floor(x)) then
            return 'sizes that are integers >= 1', string.format('%s at index %d', schema.holds(x), i)
         end
      end
   end},
   {'actions', 'table?'}, {'forwardActions', 'boolean?'}, {'gradHidden', 'table?'},
   {'_initInput', 'tensor?'},
})

function RecurrentAttention:__init(rnnModule, action, nStep, hiddenSize)
   parent.__init(self)
   if not torch.isTypeOf(action, 'nn.Module') then
      error('<nn.RecurrentAttention> expects an nn.Module (action) at argument 2, got ' .. torch.type(action), 2)
   end
   if type(nStep) ~= 'number' then
      error('<nn.RecurrentAttention> expects the number of steps at argument 3, got ' .. torch.type(nStep), 2)
   end
   if type(hiddenSize) ~= 'table' or type(hiddenSize[1]) ~= 'number' then
      error('<nn.RecurrentAttention> expects the hidden size as a table of numbers at argument 4', 2)
   end
   self.rnn = (not torch.isTypeOf(rnnModule, 'nn.AbstractRecurrent')) and nn.Recursor(rnnModule) or rnnModule
   self.action = (not torch.isTypeOf(action, 'nn.AbstractRecurrent')) and nn.Recursor(action) or action
   self.hiddenSize = hiddenSize
   self.nStep = nStep
   self.modules = {self.rnn, self.action}
   self.output = {}
   self.actions = {}
   self.forwardActions = false
   self.gradHidden = {}
end

function RecurrentAttention:updateOutput(input)
   if not torch.isTensor(input) then
      error('<nn.RecurrentAttention> input must be a tensor (a batch), got ' .. torch.type(input), 2)
   end
   self.rnn:forget()
   self.action:forget()
   self.actions = self.actions or {}
   if type(self.output) ~= 'table' or torch.isTensor(self.output) then self.output = {} end
   for step = 1, self.nStep do
      if step == 1 then
         if not torch.isTensor(self._initInput) or torch.type(self._initInput) ~= torch.type(input) then
            self._initInput = nn.utils.newLike(input)
         end
         self._initInput:resize(input:size(1), unpack(self.hiddenSize)):zero()
         self.actions[1] = self:rethrowErrors(self.action, 2, 'updateOutput', self._initInput)
      else
         -- the action reads the previous rnn output (not the {output, action} pair that
         -- forwardActions makes the module's output)
         self.actions[step] = self:rethrowErrors(self.action, 2, 'updateOutput', self:_hidden(step - 1))
      end
      local output = self:rethrowErrors(self.rnn, 1, 'updateOutput', {input, self.actions[step]})
      self.output[step] = self.forwardActions and {output, self.actions[step]} or output
   end
   for i = self.nStep + 1, #self.output do self.output[i] = nil end
   return self.output
end

-- Back through time, last step first (Element-Research rnn): a step's rnn output gets its
-- gradOutput plus the gradient the next step's action sent back into it; the action modules
-- (REINFORCE, which ignore the gradOutput they are given) get zeros unless forwardActions
-- gives them one. The input's gradient sums over the steps.
-- the rnn's output of step
function RecurrentAttention:_hidden(step)
   local o = self.output[step]
   if self.forwardActions then return o[1] end
   return o
end

local function checkBackward(self, gradOutput)
   if self.rnn.step - 1 ~= self.nStep then
      error(string.format('<nn.RecurrentAttention> the rnn ran %d steps, not %d: run forward first',
                          self.rnn.step - 1, self.nStep), 3)
   end
   if type(gradOutput) ~= 'table' or torch.isTensor(gradOutput) or #gradOutput ~= self.nStep then
      error(string.format('<nn.RecurrentAttention> gradOutput must be a table of %d steps, got %s',
                          self.nStep, type(gradOutput) == 'table' and (#gradOutput .. ' entries') or torch.type(gradOutput)), 3)
   end
end

local function actionGrad(self, gradOutput, step)
   if self.forwardActions then return gradOutput[step][2] end
   local out = self.action.output
   if not (torch.isTensor(self._gradAction) and self._gradAction:isSameSizeAs(out)
           and torch.type(self._gradAction) == torch.type(out)) then
      self._gradAction = nn.utils.newLike(out):resizeAs(out):zero()
   end
   return self._gradAction
end

function RecurrentAttention:updateGradInput(input, gradOutput)
   checkBackward(self, gradOutput)
   local gradInput
   for step = self.nStep, 1, -1 do
      local gOut = self.forwardActions and gradOutput[step][1] or gradOutput[step]
      local gAction = actionGrad(self, gradOutput, step)
      if step == self.nStep then
         self.gradHidden[step] = rnn.recursiveCopy(self.gradHidden[step], gOut)
      else
         rnn.recursiveAdd(self.gradHidden[step], gOut)
      end
      if step == 1 then
         self.action:updateGradInput(self._initInput, gAction)
      else
         local g = self.action:updateGradInput(self:_hidden(step - 1), gAction)
         self.gradHidden[step - 1] = rnn.recursiveCopy(self.gradHidden[step - 1], g)
      end
      local gi = self.rnn:updateGradInput({input, self.actions[step]}, self.gradHidden[step])[1]
      if gradInput == nil then
         if not (torch.isTensor(self.gradInput) and torch.type(self.gradInput) == torch.type(gi)) then
            self.gradInput = nn.utils.newLike(gi)
         end
         gradInput = self.gradInput:resizeAs(gi):copy(gi)
      else
         gradInput:add(gi)
      end
   end
   return self.gradInput
end

function RecurrentAttention:accGradParameters(input, gradOutput, scale)
   checkBackward(self, gradOutput)
   for step = self.nStep, 1, -1 do
      local gAction = actionGrad(self, gradOutput, step)
      self.action:accGradParameters(step == 1 and self._initInput or self:_hidden(step - 1), gAction, scale)
      self.rnn:accGradParameters({input, self.actions[step]}, self.gradHidden[step], scale)
   end
end

function RecurrentAttention:__tostring__()
   return string.format('%s {action: %s, rnn: %s}', torch.type(self), tostring(self.action), tostring(self.rnn))
end

return RecurrentAttention
