-- nn.Maxout(inputSize, outputSize, maxoutNumber[, preprocess]): a linear layer to
-- outputSize x maxoutNumber units, and the max over each group of maxoutNumber
-- (Goodfellow et al. 2013); preprocess, a module, runs on the groups before the max.
-- An nn.Sequential of nn.Linear, nn.View, (preprocess,) nn.Max, as in Torch7.
local schema = require('nn.schema')
local Maxout, parent = torch.class('nn.Maxout', 'nn.Sequential')

schema.inherited(Maxout, "a Sequential of Linear, View and Max: nn.Sequential's fields")

function Maxout:__init(inputSize, outputSize, maxoutNumber, preprocess)
   local args = {inputSize, outputSize, maxoutNumber}
   for i = 1, 3 do
      local v = args[i]
      if type(v) ~= 'number' or v < 1 or v ~= math.floor(v) then
         error(string.format('<nn.Maxout> usage: nn.Maxout(inputSize, outputSize, maxoutNumber[, preprocess]): ' ..
                             'argument %d must be a positive integer, got %s', i, tostring(v)), 2)
      end
   end
   parent.__init(self)
   self:add(nn.Linear(inputSize, outputSize * maxoutNumber))
   self:add(nn.View(maxoutNumber, outputSize):setNumInputDims(1))
   if preprocess then
      self:add(preprocess)
   end
   self:add(nn.Max(1, 2))
end

return Maxout
