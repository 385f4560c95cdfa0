-- nn.MixtureTable: input {gater, experts} gives sum_i gater_i * expert_i.
-- gater is a vector (or a batch of them); experts is a table of tensors, or
-- one tensor whose dimension dim (default: 1, or 2 for a batch) runs over
-- the experts.
local pointwise = require('nn.pointwise')
local kernels = require('nn.kernels')
local schema = require('nn.schema')
local MixtureTable, parent = torch.class('nn.MixtureTable', 'nn.Module')

schema.declare(MixtureTable, {
   {'dim', 'int?'}, {'batchSize', 'natural?'}, {'size', 'longstorage?'},
})

function MixtureTable:__init(dim)
   parent.__init(self)
   self.dim = dim
   self.size = torch.LongStorage()
   self.batchSize = 0
   self.gradInput = {}
end

function MixtureTable:updateOutput(input)
   local gater, experts = input[1], input[2]
   if not torch.isTensor(gater) or experts == nil then
      error('<nn.MixtureTable> input must be {gater, experts}', 2)
   end
   local batched = gater:dim() == 2
   local rows = batched and gater:size(1) or 1
   local n = gater:size(gater:dim())
   local g = pointwise.contiguous(gater):data()
   local list = {}
   if type(experts) == 'table' and not torch.isTensor(experts) then
      if #experts ~= n then
         error(string.format('<nn.MixtureTable> %d gater values for %d experts', n, #experts), 2)
      end
      for i = 1, n do
         list[i] = experts[i]
      end
   else
      local dim = self.dim or (batched and 2 or 1)
      if experts:size(dim) ~= n then
         error(string.format('<nn.MixtureTable> %d gater values for %d experts', n, experts:size(dim)), 2)
      end
      for i = 1, n do
         list[i] = experts:select(dim, i)
      end
   end
   local first = list[1]
   local out = kernels.output(self, first, first:size())
   local yp = out:data()
   local count = first:nElement()
   local per = count / rows
   for k = 0, count - 1 do
      yp[k] = 0
   end
   for i = 1, n do
      local e = pointwise.sameShape(list[i], first, i, 'nn.MixtureTable')
      local ep = e:data()
      for r = 0, rows - 1 do
         local w = g[r * n + i - 1]
         local base = r * per
         for k = base, base + per - 1 do
            yp[k] = yp[k] + w * ep[k]
         end
      end
   end
   return out
end

return MixtureTable
