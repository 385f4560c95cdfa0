-- nn.Sequencer(module): applies a module to every step of a sequence, given
-- as a table of steps or as a tensor whose first dimension is time (seqlen x
-- batch x size); the output has the same form. A module that is not an
-- AbstractRecurrent is wrapped in an nn.Recursor, so each step gets its own
-- clone in training. Unless remember()ed, each forward starts a new sequence.
local unpack = unpack or table.unpack
local schema = require('nn.schema')
local Sequencer, parent = torch.class('nn.Sequencer', 'nn.AbstractSequencer')

-- decorates one module (a recurrent one; files of 2015 hold the plain module), run per step
schema.declare(Sequencer, {
   {'modules', 'modules?', check = schema.decorated},
   {'module', 'module?'},
   {'tableoutput', 'table?'}, {'tablegradInput', 'table?'}, {'_output', 'table?'},
   {'isRecurrent', 'boolean?'},
})

function Sequencer:__init(module)
   parent.__init(self)
   if not torch.isTypeOf(module, 'nn.Module') then
      error('<nn.Sequencer> expects an nn.Module at argument 1, got ' .. torch.type(module), 2)
   end
   self.module = (not torch.isTypeOf(module, 'nn.AbstractRecurrent')) and nn.Recursor(module) or module
   self.modules = {self.module}
   self.output = {}
   self.tableoutput = {}
   self.tablegradInput = {}
   self._output = {}
   self._remember = 'neither'
end

function Sequencer:backCompatibility(version)
   parent.backCompatibility(self, version)
   self.module = self.module or self.modules[1]
   -- files of 2015 hold the plain module (isRecurrent false) and clone it per
   -- step themselves: today's Sequencer gives it a Recursor, which does that
   if self.module and not torch.isTypeOf(self.module, 'nn.AbstractRecurrent') then
      self.module = nn.Recursor(self.module)
      self.modules = {self.module}
      self.sharedClones, self.isRecurrent = nil, nil
   end
   self._output = self._output or {}
   self.tableoutput = self.tableoutput or {}
   self._remember = self._remember or 'neither'
end

local function steps(input)
   if torch.isTensor(input) then
      if input:dim() < 1 then
         error('<nn.Sequencer> input tensor must have a time dimension (seqlen x ...), got an empty tensor', 3)
      end
      return input:size(1)
   elseif type(input) == 'table' then
      return #input
   end
   error('<nn.Sequencer> input must be a table of steps or a tensor (seqlen x ...), got ' .. torch.type(input), 3)
end

local function stackSteps(self, outputs, nStep)
   local first = outputs[1]
   if not torch.isTensor(first) then
      error('<nn.Sequencer> a tensor input needs tensor outputs from the module, got ' .. torch.type(first), 3)
   end
   if not torch.isTensor(self.output) or torch.type(self.output) ~= torch.type(first) then
      self.output = nn.utils.newLike(first)
   end
   local size = first:size():totable()
   self.output:resize(nStep, unpack(size))
   return self.output
end

function Sequencer:updateOutput(input)
   local nStep = steps(input)
   self.module:maxBPTTstep(nStep)
   local isTensor = torch.isTensor(input)
   if self.train ~= false then
      if not (self._remember == 'train' or self._remember == 'both') then
         self.module:forget()
      end
      self.tableoutput = {}
      for step = 1, nStep do
         self.tableoutput[step] = self:rethrowErrors(self.module, 1, 'updateOutput', input[step])
      end
      if isTensor then
         local out = stackSteps(self, self.tableoutput, nStep)
         for step = 1, nStep do
            out[step]:copy(self.tableoutput[step])
         end
      else
         self.output = self.tableoutput
      end
   else
      if not (self._remember == 'eval' or self._remember == 'both') then
         self.module:forget()
      end
      if isTensor then
         for step = 1, nStep do
            local output = self:rethrowErrors(self.module, 1, 'updateOutput', input[step])
            if step == 1 then
               stackSteps(self, {output}, nStep)
            end
            self.output[step]:copy(output)
         end
      else
         self.tableoutput = type(self.tableoutput) == 'table' and self.tableoutput or {}
         self._output = self._output or {}
         for step = 1, nStep do
            local output = self:rethrowErrors(self.module, 1, 'updateOutput', input[step])
            self.tableoutput[step] = rnn.recursiveCopy(self.tableoutput[step] or table.remove(self._output, 1), output)
         end
         for i = nStep + 1, #self.tableoutput do
            table.insert(self._output, self.tableoutput[i])
            self.tableoutput[i] = nil
         end
         self.output = self.tableoutput
      end
   end
   return self.output
end

-- backward through time: the steps of the last forward, last first (the module counts them;
-- with remember() they are the last nStep since its last forget)
local function eachStepBack(self, method, input, gradOutput, scale)
   local nStep = steps(input)
   local gsteps = torch.isTensor(gradOutput) and gradOutput:dim() > 0 and gradOutput:size(1)
      or (type(gradOutput) == 'table' and not torch.typename(gradOutput) and #gradOutput)
   if gsteps ~= nStep then
      error(string.format('<nn.Sequencer> gradOutput must have a step per input step (%d), got %s', nStep,
                          gsteps and (gsteps .. ' steps') or torch.type(gradOutput)), 3)
   end
   if torch.isTensor(input) ~= torch.isTensor(gradOutput) then
      error('<nn.Sequencer> gradOutput must be a ' .. (torch.isTensor(input) and 'tensor' or 'table of steps')
            .. ' as the input is, got ' .. torch.type(gradOutput), 3)
   end
   local grads = {}
   for step = nStep, 1, -1 do
      grads[step] = self:rethrowErrors(self.module, 1, method, input[step], gradOutput[step], scale)
   end
   return grads, nStep
end

local function gatherGradInput(self, input, grads, nStep)
   self.tablegradInput = grads
   if not torch.isTensor(input) then
      self.gradInput = grads
      return self.gradInput
   end
   local first = grads[1]
   if not torch.isTensor(self.gradInput) or torch.type(self.gradInput) ~= torch.type(first) then
      self.gradInput = nn.utils.newLike(first)
   end
   self.gradInput:resize(nStep, unpack(first:size():totable()))
   for step = 1, nStep do
      self.gradInput[step]:copy(grads[step])
   end
   return self.gradInput
end

function Sequencer:updateGradInput(input, gradOutput)
   return gatherGradInput(self, input, eachStepBack(self, 'updateGradInput', input, gradOutput))
end

function Sequencer:accGradParameters(input, gradOutput, scale)
   eachStepBack(self, 'accGradParameters', input, gradOutput, scale or 1)
end

function Sequencer:backward(input, gradOutput, scale)
   return gatherGradInput(self, input, eachStepBack(self, 'backward', input, gradOutput, scale or 1))
end

function Sequencer:training()
   if self.train == false then
      self:forget()
      self._output = {}
      self.tableoutput = nil
   end
   return parent.training(self)
end

function Sequencer:evaluate()
   if self.train ~= false then
      self:forget()
      self.tableoutput = {}
   end
   return parent.evaluate(self)
end

function Sequencer:clearState()
   if torch.isTensor(self.output) then
      self.output = nn.utils.newLike(self.output)
   else
      self.output = {}
   end
   self.gradInput = {}
   self._output = {}
   self.tableoutput = {}
   self.tablegradinput = {}
   self.module:clearState()
   return self
end

function Sequencer:__tostring__()
   return torch.type(self) .. ' @ ' .. tostring(self.modules[1])
end

return Sequencer
