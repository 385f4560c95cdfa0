-- nn.ReverseUnreverse(sequencer): torch/rnn's decorator running a sequence module on the
-- reversed sequence and reversing its output back: Sequential{ReverseSequence, sequencer,
-- ReverseSequence}; setZeroMask reverses the mask too. The backward half of a BiSequencer.
local schema = require('nn.schema')
local ReverseUnreverse, parent = torch.class('nn.ReverseUnreverse', 'nn.Decorator')

schema.declare(ReverseUnreverse, {
   {'_zeroMask', 'tensor?'}, {'_range', 'tensor?'},
})

function ReverseUnreverse:__init(sequencer)
   if not torch.isTypeOf(sequencer, 'nn.Module') then
      error('<nn.ReverseUnreverse> expects a sequence module (a Sequencer, SeqLSTM, SeqGRU...) at argument 1, got '
            .. torch.type(sequencer), 2)
   end
   parent.__init(self, nn.Sequential()
      :add(nn.ReverseSequence())
      :add(sequencer)
      :add(nn.ReverseSequence()))
end

function ReverseUnreverse:setZeroMask(zeroMask)
   if zeroMask == false then
      return self.modules[1]:setZeroMask(false)
   end
   if not torch.isTensor(zeroMask) or zeroMask:dim() < 2 then
      error('<' .. torch.type(self) .. '> setZeroMask expects a seqlen x batchsize ByteTensor or false, got '
            .. (torch.isTensor(zeroMask) and zeroMask:dim() .. 'D' or torch.type(zeroMask)), 2)
   end
   local T = zeroMask:size(1)
   if not torch.isTensor(self._range) or self._range:nElement() ~= T then
      self._range = torch.range(T, 1, -1):long()
   end
   self._zeroMask = torch.isTensor(self._zeroMask) and torch.type(self._zeroMask) == torch.type(zeroMask)
      and self._zeroMask or nn.utils.newLike(zeroMask)
   self._zeroMask:index(zeroMask, 1, self._range)
   self.modules[1]:setZeroMask(self._zeroMask)
end

function ReverseUnreverse:getModule()
   return self.modules[1].modules[2]
end

function ReverseUnreverse:clearState()
   self._zeroMask = nil
   return parent.clearState(self)
end

return ReverseUnreverse
