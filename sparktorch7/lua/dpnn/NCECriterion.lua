-- nn.NCECriterion(): the noise-contrastive estimation loss of dpnn / torch/rnn over the output
-- {Pmt, Pms, Pnt, Pns} of an nn.NCEModule (batch, batch x k, batch, batch x k; the target
-- argument is not used). With the probabilities that a class came from the model,
--   Pom = Pmt / (Pmt + k Pnt + eps)   and that a noise class came from the noise,
--   Pon = k Pns / (Pms + k Pns + eps),   eps = 1e-7,
-- the loss is -(sum log Pom + sum log Pon), divided by the batch size with sizeAverage (the
-- default). The gradient reaches Pmt and Pms (Pnt and Pns get zeros):
--   dPmt = -k Pnt / ((Pmt + k Pnt + eps) (Pmt + eps)),  dPms = Pms / ((Pms + k Pns + eps) (Pms + eps)).
local schema = require('nn.schema')
local NCECriterion, parent = torch.class('nn.NCECriterion', 'nn.Criterion')

local eps = 1e-7

schema.declare(NCECriterion, {
   {'_Pom', 'tensor?'}, {'_Pomdiv', 'tensor?'}, {'_Pon', 'tensor?'}, {'_Pondiv', 'tensor?'},
   {'_lnPom', 'tensor?'}, {'_lnPon', 'tensor?'},
})

local BUFFERS = {'_Pom', '_Pomdiv', '_Pon', '_Pondiv', '_lnPom', '_lnPon'}

function NCECriterion:__init()
   parent.__init(self)
   self.sizeAverage = true
   self.gradInput = {torch.Tensor(), torch.Tensor(), torch.Tensor(), torch.Tensor()}
end

-- the four tensors of an NCEModule's output, checked; returns them and k
local function unpackInput(inputTable, level)
   if type(inputTable) ~= 'table' or torch.typename(inputTable) then
      error('<nn.NCECriterion> expects the output {Pmt, Pms, Pnt, Pns} of an nn.NCEModule, got '
            .. nn.utils.describe(inputTable), level)
   end
   local Pmt, Pms, Pnt, Pns = inputTable[1], inputTable[2], inputTable[3], inputTable[4]
   local ok = torch.isTensor(Pmt) and Pmt:dim() == 1 and torch.isTensor(Pms) and Pms:dim() == 2
      and Pms:size(1) == Pmt:size(1) and torch.isTensor(Pnt) and Pnt:dim() == 1 and Pnt:size(1) == Pmt:size(1)
      and torch.isTensor(Pns) and Pns:dim() == 2 and Pns:size(1) == Pmt:size(1) and Pns:size(2) == Pms:size(2)
   if not ok then
      error(string.format('<nn.NCECriterion> expects {Pmt (batch), Pms (batch x k), Pnt (batch), Pns (batch x k)}, '
                          .. 'got {%s, %s, %s, %s}', nn.utils.describe(Pmt), nn.utils.describe(Pms),
                          nn.utils.describe(Pnt), nn.utils.describe(Pns)), level)
   end
   return Pmt, Pms, Pnt, Pns, Pms:size(2)
end

local buffer = nn.utils.buffer

function NCECriterion:updateOutput(inputTable, target)
   local Pmt, Pms, Pnt, Pns, k = unpackInput(inputTable, 3)
   -- the denominators Pm + k Pn + eps, kept for the gradient
   local mdiv = buffer(self, '_Pomdiv', Pmt):resizeAs(Pmt):copy(Pmt):add(k, Pnt):add(eps)
   local ndiv = buffer(self, '_Pondiv', Pms):resizeAs(Pms):copy(Pms):add(k, Pns):add(eps)
   local Pom = buffer(self, '_Pom', Pmt):resizeAs(Pmt):copy(Pmt):cdiv(mdiv)
   local Pon = buffer(self, '_Pon', Pns):resizeAs(Pns):copy(Pns):mul(k):cdiv(ndiv)
   local lnPom = buffer(self, '_lnPom', Pom):log(Pom)
   local lnPon = buffer(self, '_lnPon', Pon):log(Pon)
   self.output = -(lnPom:sum() + lnPon:sum())
   if self.sizeAverage then
      self.output = self.output / Pmt:size(1)
   end
   return self.output
end

function NCECriterion:updateGradInput(inputTable, target)
   local Pmt, Pms, Pnt, Pns, k = unpackInput(inputTable, 3)
   if type(self.gradInput) ~= 'table' or torch.typename(self.gradInput) then self.gradInput = {} end
   local gi = self.gradInput
   for i, like in ipairs{Pmt, Pms, Pnt, Pns} do buffer(gi, i, like) end
   local mdiv = torch.add(Pmt, k, Pnt):add(eps)
   local ndiv = torch.add(Pms, k, Pns):add(eps)
   gi[1]:resizeAs(Pnt):copy(Pnt):mul(-k):cdiv(mdiv):cdiv(torch.add(Pmt, eps))
   gi[2]:resizeAs(Pms):copy(Pms):cdiv(ndiv):cdiv(torch.add(Pms, eps))
   gi[3]:resizeAs(Pnt):zero()
   gi[4]:resize(Pns:size()):zero()
   if self.sizeAverage then
      gi[1]:div(Pmt:size(1))
      gi[2]:div(Pmt:size(1))
   end
   return gi
end

function NCECriterion:clearState()
   for _, name in ipairs(BUFFERS) do self[name] = nil end
   if type(self.gradInput) == 'table' and not torch.typename(self.gradInput) then
      for i, t in ipairs(self.gradInput) do self.gradInput[i] = nn.utils.newLike(t) end
   end
   return self
end

function NCECriterion:type(...)
   for _, name in ipairs(BUFFERS) do self[name] = nil end
   return parent.type(self, ...)
end

return NCECriterion
