-- nn.LinearRNN(inputsize, outputsize [, transfer]): torch/rnn's simple RNN, an nn.Recurrence
-- whose step module is nn.Sequential{JoinTable(1, 1), Linear(inputsize + outputsize,
-- outputsize), transfer (nn.Sigmoid by default)}: h(t) = transfer(W [x(t), h(t-1)] + b).
local schema = require('nn.schema')
local LinearRNN, parent = torch.class('nn.LinearRNN', 'nn.Recurrence')

schema.declare(LinearRNN, {
   {'inputsize', 'posint?'}, {'outputsize', 'posint?'},
})

function LinearRNN:__init(inputsize, outputsize, transfer)
   for i, v in ipairs({inputsize, outputsize}) do
      if type(v) ~= 'number' or v < 1 then
         error(string.format('<nn.LinearRNN> expects %s (a number >= 1) at argument %d, got %s',
                             i == 1 and 'inputsize' or 'outputsize', i, tostring(v)), 2)
      end
   end
   transfer = transfer or nn.Sigmoid()
   local stepmodule = nn.Sequential()
      :add(nn.JoinTable(1, 1))
      :add(nn.Linear(inputsize + outputsize, outputsize))
      :add(transfer)
   parent.__init(self, stepmodule, outputsize, 1)
   self.inputsize = inputsize
   self.outputsize = outputsize
end

function LinearRNN:__tostring__()
   return string.format('%s(%s -> %s)', torch.type(self), tostring(self.inputsize), tostring(self.outputsize))
end

return LinearRNN
