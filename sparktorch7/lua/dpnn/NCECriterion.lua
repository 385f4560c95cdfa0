-- nn.NCECriterion(): the noise-contrastive estimation loss of nn.NCEModule's training output
-- {Pmt (batch), Pms (batch x k), Pnt (batch), Pns (batch x k)} (dpnn, then torch/rnn):
-- -(sum log(Pmt / (Pmt + k Pnt + eps)) + sum log(k Pns / (Pms + k Pns + eps))), eps = 1e-7,
-- divided by the batch size when sizeAverage (the default). The gradient reaches Pmt and Pms
-- (zeros for the noise probabilities).
local schema = require('nn.schema')
local NCECriterion, parent = torch.class('nn.NCECriterion', 'nn.Criterion')

local eps = 0.0000001

schema.declare(NCECriterion, {{'sizeAverage', 'boolean?'}})

function NCECriterion:__init()
   parent.__init(self)
   self.sizeAverage = true
   self.gradInput = {torch.Tensor(), torch.Tensor(), torch.Tensor(), torch.Tensor()}
end

local function unpack4(input)
   local ok = type(input) == 'table' and not torch.typename(input)
   local Pmt, Pms, Pnt, Pns
   if ok then Pmt, Pms, Pnt, Pns = input[1], input[2], input[3], input[4] end
   ok = ok and torch.isTensor(Pmt) and torch.isTensor(Pms) and torch.isTensor(Pnt) and torch.isTensor(Pns)
      and Pmt:dim() == 1 and Pms:dim() == 2 and Pnt:dim() == 1 and Pns:dim() == 2
      and Pms:size(1) == Pmt:size(1) and Pnt:size(1) == Pmt:size(1) and Pns:isSameSizeAs(Pms)
   if not ok then
      local got = torch.type(input)
      if type(input) == 'table' and not torch.typename(input) then
         local parts = {}
         for i = 1, 4 do
            local t = input[i]
            parts[i] = torch.isTensor(t) and table.concat(t:size():totable(), 'x') or torch.type(t)
         end
         got = '{' .. table.concat(parts, ', ') .. '}'
      end
      error('<nn.NCECriterion> input must be nn.NCEModule\'s {Pmt (batch), Pms (batch x k), Pnt (batch), '
            .. 'Pns (batch x k)}, got ' .. got, 3)
   end
   return Pmt, Pms, Pnt, Pns
end

function NCECriterion:updateOutput(input, target)
   local Pmt, Pms, Pnt, Pns = unpack4(input)
   local k = Pms:size(2)
   self._Pomdiv = Pmt:clone():add(k, Pnt):add(eps)
   self._Pondiv = Pms:clone():add(k, Pns):add(eps)
   local lnPom = torch.cdiv(Pmt, self._Pomdiv):log()
   local lnPon = torch.mul(Pns, k):cdiv(self._Pondiv):log()
   self.output = -(lnPom:sum() + lnPon:sum())
   if self.sizeAverage then self.output = self.output / Pmt:size(1) end
   return self.output
end

function NCECriterion:updateGradInput(input, target)
   local Pmt, Pms, Pnt, Pns = unpack4(input)
   if not self._Pomdiv then
      error('<nn.NCECriterion> updateGradInput needs a forward first', 2)
   end
   local k = Pms:size(2)
   local g1 = torch.mul(Pnt, -k):cdiv(self._Pomdiv):cdiv(torch.add(Pmt, eps))
   local g2 = Pms:clone():cdiv(self._Pondiv):cdiv(torch.add(Pms, eps))
   if self.sizeAverage then
      g1:div(Pmt:size(1))
      g2:div(Pmt:size(1))
   end
   self.gradInput = {g1, g2, nn.utils.newLike(Pnt):resizeAs(Pnt):zero(), nn.utils.newLike(Pns):resizeAs(Pns):zero()}
   return self.gradInput
end

return NCECriterion
