-- nn.SpatialNormalization(nInputPlane, kernel, threshold): nnx's (deprecated)
-- local contrast normalisation of a C x H x W image: the local mean (the
-- kernel-weighted average over a padded neighbourhood and over all planes,
-- divided by the same average of ones so borders are not darkened) is
-- subtracted, then the result is divided by its local standard deviation,
-- floored at threshold (by default the mean of that deviation, at least
-- 1e-3). kernel is a 2D kernel or {1D row kernel, 1D column kernel}; the
-- sub-modules built here are what files store and forward runs.
local schema = require('nn.schema')
local SpatialNormalization, parent = torch.class('nn.SpatialNormalization', 'nn.Module')

-- forward runs the sub-modules built here (convo, convostd and the pointwise ones)
schema.declare(SpatialNormalization, {
   {'nfeatures', 'posint'},
   {'kernel', 'tensor|table?'},
   {'fixedThres', 'number?'},
   {'padW', 'natural?'}, {'padH', 'natural?'}, {'pad2W', 'natural?'}, {'pad2H', 'natural?'},
   {'kerWisPair', 'natural?', max = 1}, {'kerHisPair', 'natural?', max = 1},
   {'ker2WisPair', 'natural?', max = 1}, {'ker2HisPair', 'natural?', max = 1},
   {'convo', 'module'}, {'convostd', 'module'},
   {'squareMod', 'module'}, {'sqrtMod', 'module'}, {'subtractMod', 'module'},
   {'meanDiviseMod', 'module'}, {'stdDiviseMod', 'module'}, {'diviseMod', 'module'},
   {'thresMod', 'module'},
   {'coef', 'tensor?'},
})

local function convoOf(ker, nf, padW, padH, wPair, hPair)
   local convo = nn.Sequential()
   convo:add(nn.SpatialPadding(padW, padW - wPair, padH, padH - hPair))
   convo:add(nn.SpatialConvolutionMap(nn.tables.oneToOne(nf), ker:size(2), ker:size(1)))
   convo:add(nn.Sum(1))
   convo:add(nn.Replicate(nf))
   local fb = convo.modules[2].weight
   for i = 1, fb:size(1) do fb[i]:copy(ker) end
   convo.modules[2].bias:zero()
   return convo
end

local function even(n)
   return (n / 2 == math.floor(n / 2)) and 1 or 0
end

function SpatialNormalization:__init(...)
   parent.__init(self)
   local a = {...}
   local nf, ker, thres
   if #a == 1 and type(a[1]) == 'table' and not torch.typename(a[1]) then
      nf, ker, thres = a[1].nInputPlane, a[1].kernel, a[1].threshold
   else
      nf, ker, thres = a[1], a[2], a[3]
   end
   if type(nf) ~= 'number' then
      error('<nn.SpatialNormalization> expects the number of input planes at argument 1', 2)
   end
   if not ker then
      error('<nn.SpatialNormalization> please provide kernel(s) at argument 2', 2)
   end
   self.kernel = ker
   local ker2
   if type(ker) == 'table' and not torch.isTensor(ker) then
      ker, ker2 = ker[1], ker[2]
   end
   if ker:dim() == 1 then ker = ker:view(1, ker:size(1)) end
   if ker2 and ker2:dim() == 1 then ker2 = ker2:view(ker2:size(1), 1) end
   self.nfeatures = nf
   self.fixedThres = thres
   self.padW, self.padH = math.floor(ker:size(2) / 2), math.floor(ker:size(1) / 2)
   self.kerWisPair, self.kerHisPair = even(ker:size(2)), even(ker:size(1))
   if ker2 then
      self.pad2W, self.pad2H = math.floor(ker2:size(2) / 2), math.floor(ker2:size(1) / 2)
      self.ker2WisPair, self.ker2HisPair = even(ker2:size(2)), even(ker2:size(1))
   else
      self.pad2W, self.pad2H, self.ker2WisPair, self.ker2HisPair = 0, 0, 0, 0
   end
   ker:div(ker:sum())
   if ker2 then ker2:div(ker2:sum()) end
   local function pack(k1, k2)
      local c1 = convoOf(k1, nf, self.padW, self.padH, self.kerWisPair, self.kerHisPair)
      if not k2 then return c1 end
      local c2 = convoOf(k2, nf, self.pad2W, self.pad2H, self.ker2WisPair, self.ker2HisPair)
      return nn.Sequential():add(c1):add(c2)
   end
   self.convo = pack(ker, ker2)
   self.convostd = pack(ker, ker2)
   self.squareMod = nn.Square()
   self.sqrtMod = nn.Sqrt()
   self.subtractMod = nn.CSubTable()
   self.meanDiviseMod = nn.CDivTable()
   self.stdDiviseMod = nn.CDivTable()
   self.diviseMod = nn.CDivTable()
   self.thresMod = nn.Threshold()
   self.coef = torch.Tensor(1, 1)
end

function SpatialNormalization:updateOutput(input)
   if not torch.isTensor(input) or (input:dim() ~= 2 and input:dim() ~= 3) then
      error('<nn.SpatialNormalization> input must be 2D (H x W) or 3D (C x H x W), got '
            .. (torch.isTensor(input) and (input:dim() .. 'D') or torch.type(input)), 2)
   end
   local x = input
   if x:dim() == 2 then
      x = input:contiguous():view(1, input:size(1), input:size(2))
   end
   if x:size(1) ~= self.nfeatures then
      error(string.format('<nn.SpatialNormalization> input has %d planes, the module %d', x:size(1),
                          self.nfeatures), 2)
   end
   self.input = x
   if x:size(3) ~= self.coef:size(2) or x:size(2) ~= self.coef:size(1) or torch.type(self.coef) ~= torch.type(x) then
      local ones = nn.utils.newLike(x):resize(self.nfeatures, x:size(2), x:size(3)):fill(1)
      self.coef = self.convo:updateOutput(ones):clone()
   end
   self.inConvo = self.convo:updateOutput(x)
   self.inMean = self.meanDiviseMod:updateOutput({self.inConvo, self.coef})
   self.inputZeroMean = self.subtractMod:updateOutput({x, self.inMean})
   self.inputZeroMeanSq = self.squareMod:updateOutput(self.inputZeroMean)
   self.inConvoVar = self.convostd:updateOutput(self.inputZeroMeanSq)
   self.inStdDevNotUnit = self.sqrtMod:updateOutput(self.inConvoVar)
   self.inStdDev = self.stdDiviseMod:updateOutput({self.inStdDevNotUnit, self.coef})
   local meanstd = self.inStdDev:mean()
   self.thresMod.threshold = self.fixedThres or math.max(meanstd, 1e-3)
   self.thresMod.val = self.fixedThres or math.max(meanstd, 1e-3)
   self.stdDev = self.thresMod:updateOutput(self.inStdDev)
   self.output = self.diviseMod:updateOutput({self.inputZeroMean, self.stdDev})
   return self.output
end

-- Back through the pieces of the forward, last to first (the threshold, taken from the
-- batch's mean deviation, counts as a constant, as in nnx).
function SpatialNormalization:updateGradInput(input, gradOutput)
   local x = self.input
   if not (torch.isTensor(x) and x:nElement() == input:nElement()) then
      error('<nn.SpatialNormalization> no forward for this input: run forward first', 2)
   end
   if not (torch.isTensor(gradOutput) and gradOutput:nElement() == self.output:nElement()) then
      error('<nn.SpatialNormalization> gradOutput must have the size of the last output', 2)
   end
   local go = gradOutput:contiguous():view(self.output:size())
   local gDiv = self.diviseMod:updateGradInput({self.inputZeroMean, self.stdDev}, go)
   local gZeroMean = gDiv[1]:clone()
   local gStd = self.thresMod:updateGradInput(self.inStdDev, gDiv[2])
   local gStdNotUnit = self.stdDiviseMod:updateGradInput({self.inStdDevNotUnit, self.coef}, gStd)[1]
   local gVar = self.sqrtMod:updateGradInput(self.inConvoVar, gStdNotUnit)
   local gZeroMeanSq = self.convostd:updateGradInput(self.inputZeroMeanSq, gVar)
   gZeroMean:add(self.squareMod:updateGradInput(self.inputZeroMean, gZeroMeanSq))
   local gDiff = self.subtractMod:updateGradInput({x, self.inMean}, gZeroMean)
   local gx = gDiff[1]:clone()
   local gConvo = self.meanDiviseMod:updateGradInput({self.inConvo, self.coef}, gDiff[2])[1]
   gx:add(self.convo:updateGradInput(x, gConvo))
   self.gradInput = gx:view(input:size())
   return self.gradInput
end

return SpatialNormalization
