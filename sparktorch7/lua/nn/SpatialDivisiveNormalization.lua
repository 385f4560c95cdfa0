local schema = require('nn.schema')
local SpatialDivisiveNormalization, parent =
   torch.class('nn.SpatialDivisiveNormalization', 'nn.Module')

schema.declare(SpatialDivisiveNormalization, {
   {'nInputPlane', 'posint'}, {'kernel', 'tensor', dim = {1, 2}},
   {'threshold', 'number?'}, {'thresval', 'number?'},
})

-- Divides each plane by the local standard deviation over all planes (weighted by an
-- odd 1-D or 2-D kernel, corrected at the borders), replaced by thresval where it is
-- not above threshold.
function SpatialDivisiveNormalization:__init(nInputPlane, kernel, threshold, thresval)
   nn.SpatialSubtractiveNormalization.__init(self, nInputPlane, kernel)
   self.threshold = threshold or 1e-4
   self.thresval = thresval or 1e-4
end

function SpatialDivisiveNormalization:_normalizeKernel()
   if self.kernel:dim() == 2 then
      self.kernel:div(self.kernel:sum() * self.nInputPlane)
   else
      self.kernel:div(self.kernel:sum() * math.sqrt(self.nInputPlane))
   end
end

SpatialDivisiveNormalization._mode = 'divisive'
SpatialDivisiveNormalization.updateOutput = nn.SpatialSubtractiveNormalization.updateOutput

SpatialDivisiveNormalization.updateGradInput = nn.SpatialSubtractiveNormalization.updateGradInput
