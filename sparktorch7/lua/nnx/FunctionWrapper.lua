-- nn.FunctionWrapper(init, updateOutput, updateGradInput): nnx's module made of three Lua
-- functions: init(self) at construction, then forward is updateOutput(self, input) and
-- backward updateGradInput(self, input, gradOutput).
local schema = require('nn.schema')
local FunctionWrapper, parent = torch.class('nn.FunctionWrapper', 'nn.Module')

schema.declare(FunctionWrapper, {
   {'fn_updateOutput', 'function'}, {'fn_updateGradInput', 'function?'},
})

function FunctionWrapper:__init(init, updateOutput, updateGradInput)
   if type(init) ~= 'function' or type(updateOutput) ~= 'function' then
      error(string.format('<nn.FunctionWrapper> expects (init, updateOutput [, updateGradInput]) functions, '
                          .. 'got (%s, %s)', type(init), type(updateOutput)), 2)
   end
   parent.__init(self)
   init(self)
   self.fn_updateOutput = updateOutput
   self.fn_updateGradInput = updateGradInput
end

function FunctionWrapper:updateOutput(input)
   self.output = self.fn_updateOutput(self, input)
   return self.output
end

function FunctionWrapper:updateGradInput(input, gradOutput)
   if not self.fn_updateGradInput then
      error('<nn.FunctionWrapper> was built without an updateGradInput function', 2)
   end
   self.gradInput = self.fn_updateGradInput(self, input, gradOutput)
   return self.gradInput
end

return FunctionWrapper
