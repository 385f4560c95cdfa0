-- nn.SpatialClassifier([classifier]): nnx's way of running a classifier of K-vectors at every
-- location of a K x H x W map: the map is read as HW rows of K values, the classifier maps
-- them to HW x N, and (spatialOutput, the default) the result is read back as N x H x W;
-- with spatialOutput = false the HW x N rows are the output.
local schema = require('nn.schema')
local Classifier, parent = torch.class('nn.SpatialClassifier', 'nn.Module')

schema.declare(Classifier, {
   {'classifier', 'module'},
   {'spatialOutput', 'boolean?'},
})

function Classifier:__init(classifier)
   parent.__init(self)
   self.classifier = classifier or nn.Sequential()
   self.spatialOutput = true
   self.modules = {self.classifier}
end

function Classifier:add(module)
   self.classifier:add(module)
   return self
end

function Classifier:updateOutput(input)
   if not torch.isTensor(input) or input:dim() ~= 3 then
      error('<nn.SpatialClassifier> input should be 3D: K x H x W, got '
            .. (torch.isTensor(input) and (input:dim() .. 'D') or torch.type(input)), 2)
   end
   local K, H, W = input:size(1), input:size(2), input:size(3)
   self.inputT = input:contiguous():view(K, H * W):t():contiguous()
   local out = self.classifier:updateOutput(self.inputT)
   if not torch.isTensor(out) or out:dim() ~= 2 or out:size(1) ~= H * W then
      error(string.format('<nn.SpatialClassifier> the classifier must map %d x %d rows to %d x N, it gave %s',
                          H * W, K, H * W, torch.isTensor(out) and table.concat(out:size():totable(), 'x')
                          or torch.type(out)), 2)
   end
   if self.spatialOutput ~= false then
      self.output = out:t():contiguous():view(out:size(2), H, W)
   else
      self.output = out
   end
   return self.output
end

-- the backward runs the classifier's on the same HW x K rows, its gradInput read back as K x H x W
local function rowsOf(self, input, gradOutput)
   local K, H, W = input:size(1), input:size(2), input:size(3)
   local inputT = input:contiguous():view(K, H * W):t():contiguous()
   local gradT = gradOutput
   if self.spatialOutput ~= false then
      gradT = gradOutput:contiguous():view(gradOutput:size(1), H * W):t():contiguous()
   end
   return inputT, gradT, K, H, W
end

function Classifier:updateGradInput(input, gradOutput)
   local inputT, gradT, K, H, W = rowsOf(self, input, gradOutput)
   local g = self.classifier:updateGradInput(inputT, gradT)
   self.gradInput = g:t():contiguous():view(K, H, W)
   return self.gradInput
end

function Classifier:accGradParameters(input, gradOutput, scale)
   local inputT, gradT = rowsOf(self, input, gradOutput)
   self.classifier:accGradParameters(inputT, gradT, scale)
end

-- the modules list is the classifier (nnx keeps both names)
function Classifier:type(typename, tensorCache)
   self.inputT = nil
   return parent.type(self, typename, tensorCache)
end

return Classifier
