-- nn.NormStabilizer(beta): the norm-stabilisation regulariser of recurrent
-- hidden states (Krueger & Memisevic): the identity in the forward pass, one
-- step per forward; the penalty it adds is a training matter.
local schema = require('nn.schema')
local NormStabilizer, parent = torch.class('nn.NormStabilizer', 'nn.AbstractRecurrent')

schema.declare(NormStabilizer, {
   {'beta', 'number?'},
})

function NormStabilizer:__init(beta)
   parent.__init(self, 99999)
   self.beta = beta or 1
   self.recurrentModule = nn.CopyGrad()
   self.modules[1] = self.recurrentModule
   self.sharedClones[1] = self.recurrentModule
end

function NormStabilizer:updateOutput(input)
   if not torch.isTensor(input) or input:dim() ~= 2 then
      error('<nn.NormStabilizer> input must be a batch (2D tensor), got '
            .. (torch.isTensor(input) and (input:dim() .. 'D') or torch.type(input)), 2)
   end
   local output
   if self.train ~= false then
      self:recycle()
      local rm = self:getStepModule(self.step)
      output = rm:updateOutput(input)
      rm.norm = (torch.isTensor(rm.norm) and torch.type(rm.norm) == torch.type(output)) and rm.norm
         or nn.utils.newLike(output)
      rm.norm:norm(output, 2, 2)
   else
      output = self.recurrentModule:updateOutput(input)
   end
   self.outputs[self.step] = output
   self.output = output
   self.step = self.step + 1
   return self.output
end

return NormStabilizer
