-- inn.SpatialSameResponseNormalization(size, alpha, beta): normalisation
-- within each channel, y = x / (1 + alpha * avg_{size x size}(x^2))^beta (the
-- average over a zero-padded window that counts the padding), built from nn
-- modules as inn builds it.
local schema = require('nn.schema')
local SpatialSameResponseNormalization, parent = torch.class('inn.SpatialSameResponseNormalization',
                                                             'nn.Sequential')

-- a Sequential of the modules built here; size, alpha and beta describe them
schema.declare(SpatialSameResponseNormalization, {
   {'size', 'posint?'}, {'alpha', 'number?'}, {'beta', 'number?'},
})

function SpatialSameResponseNormalization:__init(size, alpha, beta)
   parent.__init(self)
   self.size = size or 3
   self.alpha = alpha or 5e-5
   self.beta = beta or 0.75
   local pad = math.floor(self.size / 2)
   local denominator = nn.Sequential()
      :add(nn.Square())
      :add(nn.SpatialAveragePooling(self.size, self.size, 1, 1, pad, pad))
      :add(nn.MulConstant(self.alpha, true))
      :add(nn.AddConstant(1, true))
      :add(nn.Power(self.beta))
   self:add(nn.ConcatTable():add(nn.Identity()):add(denominator))
   self:add(nn.CDivTable())
end

function SpatialSameResponseNormalization:__tostring__()
   return string.format('%s(%d, %g, %g)', torch.type(self), self.size, self.alpha, self.beta)
end

return SpatialSameResponseNormalization
