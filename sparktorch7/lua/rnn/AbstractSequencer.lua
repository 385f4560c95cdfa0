-- nn.AbstractSequencer: the base of the modules that take a whole sequence
-- per forward (Sequencer, Repeater, BiSequencer, RecurrentAttention), with
-- remember(mode): whether the state carries over from one forward to the next
-- in training, evaluation, both or neither (the default).
local schema = require('nn.schema')
local AbstractSequencer, parent = torch.class('nn.AbstractSequencer', 'nn.Container')

schema.declare(AbstractSequencer, {
   {'_remember', 'string?', check = schema.oneOf('both', 'eval', 'train', 'neither')},
})

local MODES = {both = true, eval = true, train = true, neither = true}

function AbstractSequencer:getStepModule()
   error('<' .. torch.type(self) .. '> getStepModule is deprecated: wrap the modules in an nn.Recursor', 2)
end

function AbstractSequencer:sharedClone(shareParams, shareGradParams, clones, pointers, stepClone)
   return parent.sharedClone(self, shareParams, shareGradParams)
end

function AbstractSequencer:maxBPTTstep(rho)
end

function AbstractSequencer:remember(remember)
   self._remember = (remember == nil) and 'both' or remember
   if not MODES[self._remember] then
      error(string.format("<%s> remember expects 'both', 'eval', 'train' or 'neither', got %s",
                          torch.type(self), tostring(self._remember)), 2)
   end
   return self
end

function AbstractSequencer:hasMemory()
   local r = self._remember or 'neither'
   if self.train ~= false then
      return r == 'both' or r == 'train'
   end
   return r == 'both' or r == 'eval'
end

-- accUpdateGradParameters as Torch7 does it for modules sharing their parameters (the step
-- clones share them): the gradient on its own (zeroGradParameters, accGradParameters), then
-- updateParameters(lr)
AbstractSequencer.accUpdateGradParameters = nn.Module.sharedAccUpdateGradParameters

return AbstractSequencer
