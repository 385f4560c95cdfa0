-- torch/rnn's zero masks (the successor of Element-Research rnn): a ByteTensor that is 1
-- where a sample (batch x ...) or a sample's step (seqlen x batch) is padding. Version 1
-- finds them as the rows of the input that are all zeros; version 2 gets them from
-- setZeroMask(zeroMask). rnn/extensions.lua puts these on nn.utils under torch/rnn's names
-- (nn.utils.getZeroMaskBatch, getZeroMaskSequence, recursiveZeroMask). Returns its table.
local zeromask = {}

local function first(x)
   while torch.type(x) == 'table' do x = x[1] end
   if not torch.isTensor(x) then
      error('<nn.utils.getZeroMaskBatch> expects a tensor or a table of them, got ' .. torch.type(x), 3)
   end
   return x
end

-- zeroMask[i] = 1 where row i of the (first tensor of the) batch is all zeros
function zeromask.getZeroMaskBatch(batch, zeroMask)
   local x = first(batch)
   if x:dim() < 1 or x:size(1) == 0 then
      error('<nn.utils.getZeroMaskBatch> expects a batch (batchsize x ...), got ' .. torch.type(x)
            .. ' of ' .. x:dim() .. ' dimensions', 2)
   end
   local rows = x:contiguous():view(x:size(1), -1)
   zeroMask = torch.type(zeroMask) == 'torch.ByteTensor' and zeroMask or torch.ByteTensor()
   zeroMask:resize(rows:size(1)):copy(torch.ne(rows, 0):max(2):eq(0))
   return zeroMask
end

-- zeroMask[t][i] = 1 where step t of sample i (sequence: seqlen x batchsize [x ...]) is all zeros
function zeromask.getZeroMaskSequence(sequence, zeroMask)
   if not torch.isTensor(sequence) or sequence:dim() < 2 then
      error('<nn.utils.getZeroMaskSequence> expects a seqlen x batchsize [x ...] tensor, got '
            .. (torch.isTensor(sequence) and sequence:dim() .. 'D' or torch.type(sequence)), 2)
   end
   local T, N = sequence:size(1), sequence:size(2)
   local steps = sequence:contiguous():view(T, N, -1)
   zeroMask = torch.type(zeroMask) == 'torch.ByteTensor' and zeroMask or torch.ByteTensor()
   zeroMask:resize(T, N):copy(torch.ne(steps, 0):max(3):view(T, N):eq(0))
   return zeroMask
end

-- zero, in place, the rows of tensor (or of each tensor of a nested table) where zeroMask
-- is 1: zeroMask batchsize (rows of a step) or seqlen x batchsize (steps of a sequence)
function zeromask.recursiveZeroMask(tensor, zeroMask)
   if torch.type(tensor) == 'table' then
      for _, t in ipairs(tensor) do zeromask.recursiveZeroMask(t, zeroMask) end
      return tensor
   end
   if not torch.isTensor(tensor) or not torch.isTensor(zeroMask) then
      error('<nn.utils.recursiveZeroMask> expects tensors (or tables of them) and a ByteTensor mask, got '
            .. torch.type(tensor) .. ' and ' .. torch.type(zeroMask), 2)
   end
   local md = zeroMask:dim()
   local ok = md >= 1 and md <= 2 and tensor:dim() >= md and tensor:size(1) == zeroMask:size(1)
      and (md == 1 or tensor:size(2) == zeroMask:size(2))
   if not ok then
      local function str(t) return t:dim() == 0 and 'empty' or table.concat(t:size():totable(), 'x') end
      error(string.format('<nn.utils.recursiveZeroMask> a zeroMask of size %s does not fit a tensor of size %s '
                          .. '(batchsize, or seqlen x batchsize, first)', str(zeroMask), str(tensor)), 2)
   end
   if tensor:nElement() == 0 then return tensor end
   local size = tensor:size():fill(1)
   size[1] = tensor:size(1)
   if md == 2 then size[2] = tensor:size(2) end
   local mask = zeroMask
   if torch.type(mask) ~= 'torch.ByteTensor' then mask = torch.ByteTensor(mask:size()):copy(mask) end
   tensor:maskedFill(mask:contiguous():view(size):expandAs(tensor), 0)
   return tensor
end

-- a zeroMask given to setZeroMask: false, or a ByteTensor (any 0/1 tensor is converted)
function zeromask.check(cls, zeroMask)
   if zeroMask == false then return false end
   if not torch.isTensor(zeroMask) then
      error(string.format('<%s> setZeroMask expects a ByteTensor (seqlen x batchsize or batchsize) or false, '
                          .. 'got %s', cls, torch.type(zeroMask)), 3)
   end
   if torch.type(zeroMask) ~= 'torch.ByteTensor' then
      zeroMask = torch.ByteTensor(zeroMask:size()):copy(zeroMask)
   end
   return zeroMask:contiguous()
end

return zeromask
