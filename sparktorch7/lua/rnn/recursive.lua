-- rnn's recursive helpers on nested tables of tensors (rnn.recursiveCopy etc.);
-- rnn/init.lua copies them into the rnn table. Returns its table.
local recursive = {}

local function bad(name, a, b)
   error(string.format('<rnn.%s> expecting nested tensors or tables, got %s and %s',
                       name, torch.type(a), torch.type(b)), 3)
end

function recursive.recursiveResizeAs(t1, t2)
   if torch.type(t2) == 'table' then
      t1 = (torch.type(t1) == 'table') and t1 or {t1}
      for key in pairs(t2) do
         t1[key], t2[key] = recursive.recursiveResizeAs(t1[key], t2[key])
      end
   elseif torch.isTensor(t2) then
      t1 = (torch.isTensor(t1) and torch.type(t1) == torch.type(t2)) and t1 or nn.utils.newLike(t2)
      t1:resizeAs(t2)
   else
      bad('recursiveResizeAs', t1, t2)
   end
   return t1, t2
end

function recursive.recursiveSet(t1, t2)
   if torch.type(t2) == 'table' then
      t1 = (torch.type(t1) == 'table') and t1 or {t1}
      for key in pairs(t2) do
         t1[key], t2[key] = recursive.recursiveSet(t1[key], t2[key])
      end
   elseif torch.isTensor(t2) then
      t1 = (torch.isTensor(t1) and torch.type(t1) == torch.type(t2)) and t1 or nn.utils.newLike(t2)
      t1:set(t2)
   else
      bad('recursiveSet', t1, t2)
   end
   return t1, t2
end

function recursive.recursiveCopy(t1, t2)
   if torch.type(t2) == 'table' then
      t1 = (torch.type(t1) == 'table') and t1 or {t1}
      for key in pairs(t2) do
         t1[key], t2[key] = recursive.recursiveCopy(t1[key], t2[key])
      end
   elseif torch.isTensor(t2) then
      t1 = (torch.isTensor(t1) and torch.type(t1) == torch.type(t2)) and t1 or nn.utils.newLike(t2)
      t1:resizeAs(t2):copy(t2)
   else
      bad('recursiveCopy', t1, t2)
   end
   return t1, t2
end

function recursive.recursiveAdd(t1, t2)
   if torch.type(t2) == 'table' then
      t1 = (torch.type(t1) == 'table') and t1 or {t1}
      for key in pairs(t2) do
         t1[key], t2[key] = recursive.recursiveAdd(t1[key], t2[key])
      end
   elseif torch.isTensor(t1) and torch.isTensor(t2) then
      t1:add(t2)
   else
      bad('recursiveAdd', t1, t2)
   end
   return t1, t2
end

function recursive.recursiveFill(t2, val)
   if torch.type(t2) == 'table' then
      for key in pairs(t2) do
         t2[key] = recursive.recursiveFill(t2[key], val)
      end
   elseif torch.isTensor(t2) then
      t2:fill(val)
   else
      bad('recursiveFill', t2, val)
   end
   return t2
end

function recursive.recursiveNew(t2)
   if torch.type(t2) == 'table' then
      local t1 = {}
      for key in pairs(t2) do
         t1[key] = recursive.recursiveNew(t2[key])
      end
      return t1
   elseif torch.isTensor(t2) then
      return nn.utils.newLike(t2)
   end
   bad('recursiveNew', t2, nil)
end

function recursive.recursiveSum(t2)
   if torch.type(t2) == 'table' then
      local sum = 0
      for key in pairs(t2) do
         sum = sum + recursive.recursiveSum(t2[key])
      end
      return sum
   elseif torch.isTensor(t2) then
      return t2:sum()
   end
   bad('recursiveSum', t2, nil)
end

function recursive.recursiveTensorEq(t1, t2)
   if torch.type(t2) == 'table' then
      if torch.type(t1) ~= 'table' then return false end
      for key in pairs(t2) do
         if not recursive.recursiveTensorEq(t1[key], t2[key]) then return false end
      end
      return true
   elseif torch.isTensor(t1) and torch.isTensor(t2) then
      return (t1 - t2):abs():max() < 0.00001
   end
   bad('recursiveTensorEq', t1, t2)
end

return recursive
