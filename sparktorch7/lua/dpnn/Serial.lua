-- nn.Serial: a decorator that chooses how its module is written (dpnn's
-- light/medium/heavy serialisation); forward goes through the module. A file
-- holding one stores the decorated module's state as its own fields.
local schema = require('nn.schema')
local Serial, parent = torch.class('nn.Serial', 'nn.Decorator')

schema.declare(Serial, {
   {'tensortype', 'string?'},
})

function Serial:__init(module, tensortype)
   if not torch.isTypeOf(module, 'nn.Module') then
      error('<nn.Serial> expects an nn.Module to decorate, got ' .. torch.type(module), 2)
   end
   parent.__init(self, module)
   if tensortype ~= nil and not (type(tensortype) == 'string' and tensortype:find('torch%..*Tensor')) then
      error('<nn.Serial> tensortype must name a tensor type (e.g. torch.FloatTensor), got '
            .. tostring(tensortype), 2)
   end
   self.tensortype = tensortype
end

-- Modules inside that set dpnn_serialEmpty (light/mediumSerial) are written
-- with those fields empty, as dpnn does; the live model keeps them.
function Serial:write(file)
   local emptied = {}
   local seen = {}
   local function walk(v)
      if type(v) ~= 'table' or seen[v] then return end
      seen[v] = true
      if torch.isTypeOf(v, 'nn.Module') and type(rawget(v, 'dpnn_serialEmpty')) == 'table' then
         for _, k in ipairs(v.dpnn_serialEmpty) do
            local x = rawget(v, k)
            if torch.isTensor(x) then
               emptied[#emptied + 1] = {v, k, x}
               v[k] = nn.utils.newLike(x)
            elseif type(x) == 'table' and not torch.typename(x) then
               emptied[#emptied + 1] = {v, k, x}
               v[k] = {}
            end
         end
      end
      for _, x in pairs(v) do walk(x) end
   end
   walk(self)
   local ok, err = pcall(nn.Module.write, self, file)
   for i = #emptied, 1, -1 do
      local e = emptied[i]
      e[1][e[2]] = e[3]
   end
   if not ok then error(err, 0) end
end

return Serial
