-- nn.SeqLSTMP(inputsize, hiddensize, outputsize): nn.SeqLSTM with a
-- projection: the hidden state (hiddensize) is multiplied by weightO
-- (hiddensize x outputsize) to give h(t), which is both the output and the
-- recurrent input.
local schema = require('nn.schema')
local SeqLSTMP, parent = torch.class('nn.SeqLSTMP', 'nn.SeqLSTM')

schema.declare(SeqLSTMP, {
   {'hiddensize', 'posint'},
   {'weightO', 'tensor', size = {'hiddensize', 'outputsize'}},
   {'gradWeightO', 'tensor?'},
})

SeqLSTMP.dpnn_parameters = {'weight', 'bias', 'weightO'}
SeqLSTMP.dpnn_gradParameters = {'gradWeight', 'gradBias', 'gradWeightO'}

function SeqLSTMP:__init(inputsize, hiddensize, outputsize)
   if not (inputsize and hiddensize and outputsize) then
      error('<nn.SeqLSTMP> expects inputsize, hiddensize and outputsize', 2)
   end
   self.weightO = torch.Tensor(hiddensize, outputsize)
   self.gradWeightO = torch.Tensor(hiddensize, outputsize)
   parent.__init(self, inputsize, hiddensize, outputsize)
end

function SeqLSTMP:reset(std)
   self.bias:zero()
   self.bias[{{self.outputsize + 1, 2 * self.outputsize}}]:fill(1)
   if not std then
      self.weight:normal(0, 1.0 / math.sqrt(self.hiddensize + self.inputsize))
      self.weightO:normal(0, 1.0 / math.sqrt(self.outputsize + self.hiddensize))
   else
      self.weight:normal(0, std)
      self.weightO:normal(0, std)
   end
   return self
end

function SeqLSTMP:updateOutput(input)
   local W = self.weightO
   if not torch.isTensor(W) or W:dim() ~= 2 or W:size(1) ~= self.hiddensize or W:size(2) ~= self.outputsize then
      error(string.format('<nn.SeqLSTMP> weightO must be %dx%d', self.hiddensize, self.outputsize), 2)
   end
   return parent.updateOutput(self, input)
end

function SeqLSTMP:parameters()
   return {self.weight, self.bias, self.weightO}, {self.gradWeight, self.gradBias, self.gradWeightO}
end

return SeqLSTMP
