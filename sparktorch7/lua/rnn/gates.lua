-- Schema check of the gate layers FastLSTM (4 gates) and GRU (2 gates) build: their i2g/o2g
-- is one layer of cls with weight n*H x cols, or (with dropout) an nn.Sequential whose second
-- module is an nn.ParallelTable of n layers of weight H x cols side by side.
local schema = require('nn.schema')

local gates = {}

-- nil when m fits; else (what was expected, what the file holds), as schema checks return
function gates.check(m, cls, n, H, cols, colsName)
   local explain = n .. ' * outputSize x ' .. colsName
   if torch.type(m) == cls then
      local expected, held = schema.sizeIs(m.weight, {n * H, cols}, explain)
      if expected then return 'an ' .. cls .. ' whose weight is ' .. expected, 'one whose weight is ' .. held end
      return
   end
   local para = torch.type(m) == 'nn.Sequential' and m.modules[2]
   if torch.type(para) == 'nn.ParallelTable' then
      if #para.modules ~= n then
         return string.format('%d %s gate layers (an nn.ParallelTable of %d)', n, cls, n),
                string.format('an nn.ParallelTable of %d modules', #para.modules)
      end
      for i, lin in ipairs(para.modules) do
         if torch.type(lin) ~= cls then
            return string.format('%d %s gate layers', n, cls), string.format('a %s at gate %d', torch.type(lin), i)
         end
         local expected, held = schema.sizeIs(lin.weight, {H, cols}, 'outputSize x ' .. colsName)
         if expected then
            return string.format('gate layers whose weights are %s', expected), string.format('at gate %d %s', i, held)
         end
      end
      return
   end
   return string.format('an %s (or an nn.Sequential of %d side by side)', cls, n), schema.holds(m)
end

return gates
