-- nngraph.JustTable: wraps its input in a one-element table.
local JustTable, parent = torch.class('nngraph.JustTable', 'nn.Module')

function JustTable:__init()
   parent.__init(self)
   self.output = {}
end

function JustTable:updateOutput(input)
   self.output = {input}
   return self.output
end

return JustTable
