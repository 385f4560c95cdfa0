-- inn.SpatialPyramidPooling({w1, h1}, {w2, h2}, ...): adaptive max pooling to
-- each grid size, each result flattened, all concatenated (per sample).
local SpatialPyramidPooling, parent = torch.class('inn.SpatialPyramidPooling', 'nn.Concat')

function SpatialPyramidPooling:__init(...)
   parent.__init(self, 1)
   local pyr = {...}
   self.pyr = torch.type(pyr[1][1]) == 'table' and pyr[1] or pyr
   for _, v in ipairs(self.pyr) do
      parent.add(self, nn.Sequential()
         :add(nn.SpatialAdaptiveMaxPooling(v[1], v[2]))
         :add(nn.View(-1):setNumInputDims(3))
         :add(nn.Contiguous()))
   end
end

function SpatialPyramidPooling:updateOutput(input)
   if not torch.isTensor(input) or (input:dim() ~= 3 and input:dim() ~= 4) then
      error('<inn.SpatialPyramidPooling> input must be a 3D or 4D tensor, got '
            .. (torch.isTensor(input) and (input:dim() .. 'D') or torch.type(input)), 2)
   end
   self.dimension = input:dim() - 2
   return parent.updateOutput(self, input)
end

return SpatialPyramidPooling
