local schema = require('nn.schema')
local SpatialLPPooling, parent = torch.class('nn.SpatialLPPooling', 'nn.Sequential')

schema.declare(SpatialLPPooling, {
   {'pnorm', 'number?'}, {'nInputPlane', 'posint?'},
   {'kW', 'posint?'}, {'kH', 'posint?'}, {'dW', 'posint?'}, {'dH', 'posint?'},
})

-- As in Torch7, a container: x^p, average pooling, times kW*kH, then the 1/p power.
-- Saved files hold these modules, so forward is nn.Sequential's.
function SpatialLPPooling:__init(nInputPlane, pnorm, kW, kH, dW, dH)
   parent.__init(self)
   dW = dW or kW
   dH = dH or kH
   self.kW = kW
   self.kH = kH
   self.dW = dW
   self.dH = dH
   self.nInputPlane = nInputPlane
   self.pnorm = pnorm
   if pnorm == 2 then
      self:add(nn.Square())
   else
      self:add(nn.Power(pnorm))
   end
   self:add(nn.SpatialAveragePooling(kW, kH, dW, dH))
   self:add(nn.MulConstant(kW * kH))
   if pnorm == 2 then
      self:add(nn.Sqrt())
   else
      self:add(nn.Power(1 / pnorm))
   end
end

-- nn.Sequential prints its children; this one prints like a leaf, as Torch7 did.
function SpatialLPPooling:__tostring__()
   return string.format('%s(%d, %s, %dx%d, %d,%d)', torch.type(self), self.nInputPlane or 0,
                        tostring(self.pnorm), self.kW or 0, self.kH or 0, self.dW or 0, self.dH or 0)
end
