-- nngraph.JustTable: wraps its input in a one-element table.
local schema = require('nn.schema')
local JustTable, parent = torch.class('nngraph.JustTable', 'nn.Module')

schema.parameterless(JustTable, 'wraps its input in a table: no fields of its own')

function JustTable:__init()
   parent.__init(self)
   self.output = {}
end

function JustTable:updateOutput(input)
   self.output = {input}
   return self.output
end

function JustTable:updateGradInput(input, gradOutput)
   if type(gradOutput) ~= 'table' or torch.typename(gradOutput) then
      error('<nngraph.JustTable> gradOutput must be a table of one element', 2)
   end
   self.gradInput = gradOutput[1]
   return self.gradInput
end

return JustTable
