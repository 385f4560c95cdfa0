-- nn.Balance([nBatch = 10]): nnx's rebalancing of a preceding SoftMax's N x K output so
-- that each category gets an equal mean probability. In training it keeps the last nBatch
-- batches in inputCache (a ring, reset when the batch size changes), P(y) = column sums of
-- the cache over their total, divides each input column by P(y) and renormalises the rows;
-- in evaluation the identity.
local schema = require('nn.schema')
local Balance, parent = torch.class('nn.Balance', 'nn.Module')

schema.declare(Balance, {
   {'nBatch', 'posint'},
   {'batchSize', 'natural?'}, {'startIdx', 'posint?'},
   {'inputCache', 'tensor?'},
})

function Balance:__init(nBatch)
   parent.__init(self)
   self.nBatch = nBatch or 10
   self.inputCache = torch.Tensor()
   self.prob = torch.Tensor()
   self.sum = torch.Tensor()
   self.batchSize = 0
   self.startIdx = 1
   self.train = true
end

function Balance:updateOutput(input)
   if not torch.isTensor(input) or input:dim() ~= 2 then
      error('<nn.Balance> only works with 2D inputs (batch x categories), got '
            .. (torch.isTensor(input) and (input:dim() .. 'D') or torch.type(input)), 2)
   end
   local n, k = input:size(1), input:size(2)
   if not torch.isTensor(self.inputCache) or torch.type(self.inputCache) ~= torch.type(input) then
      self.inputCache = nn.utils.newLike(input)
      self.batchSize = 0
   end
   if self.batchSize ~= n or self.inputCache:dim() ~= 2 or self.inputCache:size(2) ~= k then
      self.inputCache:resize(n * self.nBatch, k):zero()
      self.batchSize = n
      self.startIdx = 1
   end
   if not torch.isTensor(self.output) or torch.type(self.output) ~= torch.type(input) or self.output == input then
      self.output = nn.utils.newLike(input)
   end
   self.output:resizeAs(input):copy(input)
   if not self.train then return self.output end
   self.inputCache:narrow(1, self.startIdx, n):copy(input)
   local prob = self.inputCache:sum(1)
   self.prob = prob:div(prob:sum())
   self.output:cdiv(self.prob:expandAs(input))
   self.sum = self.output:sum(2)
   self.output:cdiv(self.sum:expandAs(self.output))
   self.startIdx = self.startIdx + self.batchSize
   if self.startIdx > self.inputCache:size(1) then self.startIdx = 1 end
   return self.output
end

function Balance:updateGradInput(input, gradOutput)
   self.gradInput = gradOutput:clone()
   if self.train then
      self.gradInput:cdiv(self.sum:expandAs(gradOutput)):cdiv(self.prob:expandAs(gradOutput))
   end
   return self.gradInput
end

return Balance
