-- nn.StochasticGradient(module, criterion): Torch7's plain SGD trainer. train(dataset)
-- runs maxIteration epochs (0: without end) over a dataset that has dataset:size() and
-- dataset[i] = {input, target}: for each example in turn (a random order drawn once, with
-- shuffleIndices) forward, backward and module:accUpdateGradParameters with the current
-- learning rate, which is learningRate / (1 + epoch * learningRateDecay) from the second
-- epoch on. hookExample(self, example) runs after each example, hookIteration(self,
-- epoch, meanError) after each epoch; with verbose the mean error is printed.
local schema = require('nn.schema')
local StochasticGradient = torch.class('nn.StochasticGradient')

schema.declare(StochasticGradient, {
   {'module', 'module'}, {'criterion', 'criterion'},
   {'learningRate', 'number'}, {'learningRateDecay', 'number'}, {'maxIteration', 'number'},
   {'shuffleIndices', 'boolean?'}, {'verbose', 'boolean?'},
   {'hookExample', 'function?'}, {'hookIteration', 'function?'},
})

local NAME = '<nn.StochasticGradient>'

-- a trainer read from a file has its fields checked, as a criterion's
StochasticGradient.read = nn.Criterion.read
StochasticGradient.write = nn.Criterion.write

function StochasticGradient:__init(module, criterion)
   if not torch.isTypeOf(module, 'nn.Module') then
      error(string.format('%s expects an nn.Module to train, not %s', NAME, nn.utils.describe(module)), 2)
   end
   if not torch.isTypeOf(criterion, 'nn.Criterion') then
      error(string.format('%s expects an nn.Criterion, not %s', NAME, nn.utils.describe(criterion)), 2)
   end
   self.learningRate = 0.01
   self.learningRateDecay = 0
   self.maxIteration = 25
   self.shuffleIndices = true
   self.module = module
   self.criterion = criterion
   self.verbose = true
end

-- the dataset's size, checked
local function sizeOf(dataset)
   local ok, n = pcall(function() return dataset:size() end)
   if not ok or type(n) ~= 'number' or n < 1 or n ~= math.floor(n) then
      error(string.format('%s train(dataset): the dataset must have a method size() giving its number '
                          .. 'of examples (> 0), and dataset[i] = {input, target}; got %s%s', NAME,
                          nn.utils.describe(dataset), ok and (', size() = ' .. tostring(n)) or ''), 3)
   end
   return n
end

local function example(dataset, i)
   local e = dataset[i]
   if type(e) ~= 'table' or e[1] == nil then
      error(string.format('%s train(dataset): dataset[%d] must be {input, target}, not %s', NAME, i,
                          nn.utils.describe(e)), 3)
   end
   return e
end

function StochasticGradient:train(dataset)
   local n = sizeOf(dataset)
   local module, criterion = self.module, self.criterion
   local order = torch.randperm(n, 'torch.LongTensor')
   if not self.shuffleIndices then
      for i = 1, n do order[i] = i end
   end
   local rate = self.learningRate
   local epoch = 1
   print('# StochasticGradient: training')
   while true do
      local sum = 0
      for i = 1, n do
         local e = example(dataset, order[i])
         local input, target = e[1], e[2]
         sum = sum + criterion:forward(module:forward(input), target)
         module:updateGradInput(input, criterion:updateGradInput(module.output, target))
         module:accUpdateGradParameters(input, criterion.gradInput, rate)
         if self.hookExample then
            self.hookExample(self, e)
         end
      end
      local err = sum / n
      if self.hookIteration then
         self.hookIteration(self, epoch, err)
      end
      if self.verbose then
         print('# current error = ' .. err)
      end
      epoch = epoch + 1
      rate = self.learningRate / (1 + epoch * self.learningRateDecay)
      if self.maxIteration > 0 and epoch > self.maxIteration then
         print('# StochasticGradient: you have reached the maximum number of iterations')
         print('# training error = ' .. err)
         break
      end
   end
end

return StochasticGradient
