-- nn.ZipTable: {{a1, a2, ...}, {b1, b2, ...}} -> {{a1, b1}, {a2, b2}, ...}, the same
-- tensors regrouped. An nn.Module as in torch/nn (old dpnn made it an nn.Container: its
-- files' empty `modules` list still loads).
local schema = require('nn.schema')
local ZipTable, parent = torch.class('nn.ZipTable', 'nn.Module')

schema.parameterless(ZipTable, 'zips a table of tables: no fields of its own')

function ZipTable:__init()
   parent.__init(self)
   self.output = {}
   self.gradInput = {}
end

function ZipTable:updateOutput(inputTable)
   if type(inputTable) ~= 'table' or torch.isTensor(inputTable) then
      error('<nn.ZipTable> input must be a table of tables, got ' .. torch.type(inputTable), 2)
   end
   self.output = {}
   for i, inTable in ipairs(inputTable) do
      if type(inTable) ~= 'table' or torch.isTensor(inTable) then
         error(string.format('<nn.ZipTable> input[%d] must be a table, got %s', i, torch.type(inTable)), 2)
      end
      for j, input in ipairs(inTable) do
         local out = self.output[j] or {}
         out[i] = input
         self.output[j] = out
      end
   end
   return self.output
end

-- zips gradOutput back: gradInput[i][j] = gradOutput[j][i] (the same tensors)
function ZipTable:updateGradInput(inputTable, gradOutputTable)
   if type(gradOutputTable) ~= 'table' or torch.isTensor(gradOutputTable) then
      error('<nn.ZipTable> gradOutput must be a table of tables, got ' .. torch.type(gradOutputTable), 2)
   end
   self.gradInput = {}
   for j, gradOutTable in ipairs(gradOutputTable) do
      if type(gradOutTable) ~= 'table' or torch.isTensor(gradOutTable) then
         error(string.format('<nn.ZipTable> gradOutput[%d] must be a table, got %s', j,
                             torch.type(gradOutTable)), 2)
      end
      for i, gradOutput in ipairs(gradOutTable) do
         local g = self.gradInput[i] or {}
         g[j] = gradOutput
         self.gradInput[i] = g
      end
   end
   return self.gradInput
end

return ZipTable
