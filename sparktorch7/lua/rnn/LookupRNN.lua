-- nn.LookupRNN(nindex, outputsize [, transfer [, merge]]): torch/rnn's simple RNN over word
-- indices, an nn.Recurrence whose step module is nn.Sequential{ParallelTable{
-- LookupTableMaskZero(nindex, outputsize), Linear(outputsize, outputsize)}, merge
-- (nn.CAddTable), transfer (nn.Sigmoid)}: h(t) = transfer(E[x(t)] + W h(t-1) + b), index 0
-- giving a zero embedding. Input: a batch of indices (N) or one index (a 1-element tensor).
local schema = require('nn.schema')
local LookupRNN, parent = torch.class('nn.LookupRNN', 'nn.Recurrence')

schema.declare(LookupRNN, {
   {'nindex', 'posint?'}, {'outputsize', 'posint?'},
})

function LookupRNN:__init(nindex, outputsize, transfer, merge)
   for i, v in ipairs({nindex, outputsize}) do
      if type(v) ~= 'number' or v < 1 then
         error(string.format('<nn.LookupRNN> expects %s (a number >= 1) at argument %d, got %s',
                             i == 1 and 'nindex' or 'outputsize', i, tostring(v)), 2)
      end
   end
   transfer = transfer or nn.Sigmoid()
   merge = merge or nn.CAddTable()
   local stepmodule = nn.Sequential()
      :add(nn.ParallelTable()
         :add(nn.LookupTableMaskZero(nindex, outputsize))
         :add(nn.Linear(outputsize, outputsize)))
      :add(merge)
      :add(transfer)
   parent.__init(self, stepmodule, outputsize, 0)
   self.nindex = nindex
   self.outputsize = outputsize
end

function LookupRNN:__tostring__()
   return string.format('%s(%s -> %s)', torch.type(self), tostring(self.nindex), tostring(self.outputsize))
end

return LookupRNN
