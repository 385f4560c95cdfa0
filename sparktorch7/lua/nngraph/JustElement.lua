-- nngraph.JustElement: the only element of a one-element input table
-- (what node:split(1) uses).
local schema = require('nn.schema')
local JustElement, parent = torch.class('nngraph.JustElement', 'nn.Module')

schema.parameterless(JustElement, 'takes the one element of its input table: no fields of its own')

function JustElement:__init()
   parent.__init(self)
   self.gradInput = {}
end

function JustElement:updateOutput(input)
   if type(input) ~= 'table' or #input ~= 1 then
      error('<nngraph.JustElement> input must be a table of one element', 2)
   end
   self.output = input[1]
   return self.output
end

function JustElement:updateGradInput(input, gradOutput)
   if type(self.gradInput) ~= 'table' or torch.typename(self.gradInput) then
      self.gradInput = {}
   end
   self.gradInput[1] = gradOutput
   return self.gradInput
end

return JustElement
