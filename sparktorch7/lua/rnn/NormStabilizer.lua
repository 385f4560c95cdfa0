-- nn.NormStabilizer(beta): the norm-stabilisation regulariser of recurrent
-- hidden states (Krueger & Memisevic): the identity in the forward pass, one
-- step per forward; backward adds to each step's gradient that of the penalty
-- beta * sum over t of mean over the batch of (||h(t)|| - ||h(t-1)||)^2 (Element-Research
-- rnn's gradient; the penalty itself is not part of any output).
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
   self.updateGradInputStep, self.accGradParametersStep = nil, nil
   return self.output
end

-- the penalty's gradient for h(t), added to the step's CopyGrad gradInput: for each
-- neighbour step s (t - 1 and t + 1, those that ran) 2 beta (||h(t)|| - ||h(s)||) h(t) /
-- (||h(t)|| batchsize)
function NormStabilizer:_stepGradInput(step, gradInput)
   local m = self:getStepModule(step)
   local h = self.outputs[step]
   local n = h:size(1)
   for _, s in ipairs({step - 1, step + 1}) do
      if s >= 1 and s <= self.step - 1 then
         local other = self:getStepModule(s)
         local coef = (m.norm - other.norm):mul(2 * self.beta / n):cdiv(m.norm)
         gradInput:add(torch.cmul(h, coef:expandAs(h)))
      end
   end
   return gradInput
end

return NormStabilizer
