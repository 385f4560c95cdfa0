-- nn.MuFuRu(inputSize, outputSize [, ops [, rho]]): rnn's multi-function recurrent unit
-- (Weissenborn and Rocktaschel, 2016), an nn.GRU whose step module mixes, per unit, the
-- results of several operations on the previous state s(t-1) and a feature vector v(t):
--   r = sigmoid(W_r x + U_r s(t-1)), v = sigmoid(W_v [x, r . s(t-1)]),
--   p = softmax over ops of (W_p [x, s(t-1)]), s(t) = sum_ops p . op(s(t-1), v)
-- with ops from keep, replace, mul, diff, forget, sqrt_diff, max, min (all eight by
-- default, in that order). Batches only (batch x inputSize), as rnn's.
local schema = require('nn.schema')
local MuFuRu, parent = torch.class('nn.MuFuRu', 'nn.GRU')

schema.declare(MuFuRu, {
   {'ops', 'table?'}, {'num_ops', 'posint?'}, {'operations', 'table?'},
})

-- op(s(t-1), v(t)) as a module of the pair
local OPERATIONS = {
   keep = function() return nn.SelectTable(1) end,
   replace = function() return nn.SelectTable(2) end,
   mul = function() return nn.CMulTable() end,
   diff = function() return nn.CSubTable() end,
   forget = function() return nn.Sequential():add(nn.SelectTable(1)):add(nn.MulConstant(0.0)) end,
   sqrt_diff = function()
      return nn.Sequential():add(nn.CSubTable()):add(nn.Abs()):add(nn.Sqrt()):add(nn.MulConstant(0.25))
   end,
   max = function()
      return nn.Sequential():add(nn.MapTable(nn.Unsqueeze(1))):add(nn.JoinTable(1)):add(nn.Max(1))
   end,
   min = function()
      return nn.Sequential():add(nn.MapTable(nn.Unsqueeze(1))):add(nn.JoinTable(1)):add(nn.Min(1))
   end,
}

function MuFuRu:__init(inputSize, outputSize, ops, rho)
   self.ops = ops or {'keep', 'replace', 'mul', 'diff', 'forget', 'sqrt_diff', 'max', 'min'}
   if type(self.ops) ~= 'table' or #self.ops == 0 then
      error('<nn.MuFuRu> expects ops as a list of operation names, got ' .. torch.type(ops), 2)
   end
   self.num_ops = #self.ops
   self.operations = {}
   for i, name in ipairs(self.ops) do
      if not OPERATIONS[name] then
         error(string.format("<nn.MuFuRu> unknown operation '%s' (keep, replace, mul, diff, forget, "
                             .. 'sqrt_diff, max or min)', tostring(name)), 2)
      end
      self.operations[i] = OPERATIONS[name]()
   end
   self.inputSize = inputSize
   self.outputSize = outputSize
   parent.__init(self, inputSize, outputSize, rho or 9999)
end

function MuFuRu:buildModel()
   local D, H = self.inputSize, self.outputSize
   -- input {x, s(t-1)}
   local resetGate = nn.Sequential()
      :add(nn.ParallelTable():add(nn.Linear(D, H)):add(nn.Linear(H, H)))
      :add(nn.CAddTable())
      :add(nn.Sigmoid())
   -- input {x, s(t-1), r}
   local featureVec = nn.Sequential()
      :add(nn.ConcatTable()
         :add(nn.SelectTable(1))
         :add(nn.Sequential():add(nn.NarrowTable(2, 2)):add(nn.CMulTable())))
      :add(nn.JoinTable(2))
      :add(nn.Linear(D + H, H))
      :add(nn.Sigmoid())
   local opWeights = nn.Sequential()
      :add(nn.NarrowTable(1, 2))
      :add(nn.JoinTable(2))
      :add(nn.Linear(D + H, self.num_ops * H))
      :add(nn.View(self.num_ops, H):setNumInputDims(1))
      :add(nn.Transpose({1, 2}))
      :add(nn.SoftMax())
   local allOps = nn.ConcatTable()
   for _, op in ipairs(self.operations) do allOps:add(op) end
   -- input {s(t-1), v, p}: the ops' results stacked (batch x ops x H), weighted by p, summed
   local activations = nn.Sequential()
      :add(nn.NarrowTable(1, 2))
      :add(allOps)
      :add(nn.MapTable(nn.Unsqueeze(1)))
      :add(nn.JoinTable(1, 3))
   local combine = nn.Sequential()
      :add(nn.ConcatTable():add(activations):add(nn.SelectTable(3)))
      :add(nn.CMulTable())
      :add(nn.Sum(1, 3))
   return nn.Sequential()
      :add(nn.ConcatTable():add(nn.SelectTable(1)):add(nn.SelectTable(2)):add(resetGate))
      :add(nn.ConcatTable():add(nn.SelectTable(2)):add(featureVec):add(opWeights))
      :add(combine)
end

function MuFuRu:__tostring__()
   return string.format('%s(%d -> %d) { %s }', torch.type(self), self.inputSize, self.outputSize,
                        table.concat(self.ops or {}, ' '))
end

return MuFuRu
