-- nn.MixtureTable: input {gater, experts} gives sum_i gater_i * expert_i.
-- gater is a vector (or a batch of them); experts is a table of tensors, or
-- one tensor whose dimension dim (default: 1, or 2 for a batch) runs over
-- the experts.
local pointwise = require('nn.pointwise')
local kernels = require('nn.kernels')
local tablegrad = require('nn.tablegrad')
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

-- The checked layout of a call: whether experts is a table, the rows, the
-- experts' count, the gater pointer, the experts (tensors, views for a tensor
-- of experts) and the dimension running over them.
function MixtureTable:_layout(input)
   if type(input) ~= 'table' then
      error('<nn.MixtureTable> input must be {gater, experts}', 3)
   end
   local gater, experts = input[1], input[2]
   if not torch.isTensor(gater) or experts == nil then
      error('<nn.MixtureTable> input must be {gater, experts}', 3)
   end
   local batched = gater:dim() == 2
   local rows = batched and gater:size(1) or 1
   local n = gater:size(gater:dim())
   local list, dim = {}, nil
   local isTable = type(experts) == 'table' and not torch.isTensor(experts)
   if isTable then
      if #experts ~= n then
         error(string.format('<nn.MixtureTable> %d gater values for %d experts', n, #experts), 3)
      end
      for i = 1, n do
         list[i] = experts[i]
      end
   else
      dim = self.dim or (batched and 2 or 1)
      if experts:dim() < dim or experts:size(dim) ~= n then
         error(string.format('<nn.MixtureTable> %d gater values for %d experts', n,
                             experts:dim() < dim and 0 or experts:size(dim)), 3)
      end
      for i = 1, n do
         list[i] = experts:select(dim, i)
      end
   end
   if not torch.isTensor(list[1]) then
      error('<nn.MixtureTable> the experts must be tensors', 3)
   end
   if batched and (list[1]:dim() < 1 or list[1]:size(1) ~= rows) then
      error(string.format('<nn.MixtureTable> a gater of %d rows for experts of %s rows', rows,
                          list[1]:dim() < 1 and 'no' or tostring(list[1]:size(1))), 3)
   end
   for i = 1, n do
      list[i] = pointwise.sameShape(list[i], list[1], i, 'nn.MixtureTable')
   end
   return isTable, rows, n, pointwise.contiguous(gater):data(), list, dim
end

function MixtureTable:updateOutput(input)
   local _, rows, n, g, list = self:_layout(input)
   local first = list[1]
   local out = kernels.output(self, first, first:size())
   local yp = out:data()
   local count = first:nElement()
   local per = count / rows
   for k = 0, count - 1 do
      yp[k] = 0
   end
   for i = 1, n do
      local ep = list[i]:data()
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

-- d/dgater[r][i] = sum over row r of gradOutput * expert i;
-- d/dexpert i = gater[r][i] * gradOutput (row by row)
function MixtureTable:updateGradInput(input, gradOutput)
   local isTable, rows, n, g, list, dim = self:_layout(input)
   local count = list[1]:nElement()
   local per = count / rows
   local go = tablegrad.gradOutput(gradOutput, count, 'nn.MixtureTable'):data()
   tablegrad.table(self, 2)
   local _, gg = tablegrad.like(self, 1, input[1])
   local gradExperts
   if isTable then
      gradExperts = type(self.gradInput[2]) == 'table' and not torch.isTensor(self.gradInput[2])
                    and self.gradInput[2] or {}
      for i = #gradExperts, n + 1, -1 do gradExperts[i] = nil end
   else
      gradExperts = self.gradInput[2]
      if not torch.isTensor(gradExperts) or torch.type(gradExperts) ~= torch.type(input[2])
            or gradExperts == input[2] then
         gradExperts = nn.utils.newLike(input[2])
      end
      gradExperts:resizeAs(input[2])
   end
   self.gradInput[2] = gradExperts
   -- a contiguous buffer for each expert's gradient
   self._expertGrad = (torch.isTensor(self._expertGrad) and torch.type(self._expertGrad) == torch.type(list[1]))
                      and self._expertGrad or nn.utils.newLike(list[1])
   for i = 1, n do
      local ep = list[i]:data()
      local ge
      if isTable then
         local _, p = tablegrad.slot(gradExperts, i, input[2][i])
         ge = p
      else
         ge = self._expertGrad:resize(list[1]:size()):data()
      end
      for r = 0, rows - 1 do
         local w = g[r * n + i - 1]
         local base = r * per
         local s = 0
         for k = base, base + per - 1 do
            s = s + go[k] * ep[k]
            ge[k] = w * go[k]
         end
         gg[r * n + i - 1] = s
      end
      if not isTable then
         gradExperts:select(dim, i):copy(self._expertGrad)
      end
   end
   return self.gradInput
end

function MixtureTable:clearState()
   nn.utils.clear(self, '_expertGrad')
   return parent.clearState(self)
end

return MixtureTable
