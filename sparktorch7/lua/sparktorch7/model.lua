-- The Lua side of sparktorch7.model (Model, load_model): load a model file (GPU ones
-- included), walk a key to the module in it, unwrap it, forward, convert its type.
-- require('sparktorch7.model') returns the table of these functions; it creates no globals.
require 'nn'
require 'nngraph'
require 'cunn'
require 'cudnn'
local H = {}

-- dotted paths of the nn modules found in plain tables under v (depth first, a few levels)
local function module_keys(v, prefix, out, depth, seen)
   if depth > 4 or #out >= 12 or type(v) ~= 'table' or torch.typename(v) or seen[v] then return out end
   seen[v] = true
   local names = {}
   for k in pairs(v) do
      if type(k) == 'string' or type(k) == 'number' then names[#names + 1] = k end
   end
   table.sort(names, function(a, b)
      if type(a) == type(b) then return a < b end
      return type(a) == 'number'
   end)
   for _, k in ipairs(names) do
      local x, path = v[k], prefix .. tostring(k)
      if torch.isTypeOf(x, 'nn.Module') then
         out[#out + 1] = string.format('%q', path)
      else
         module_keys(x, path .. '.', out, depth + 1, seen)
      end
   end
   return out
end

local function hint_for(root, prefix)
   local keys = module_keys(root, prefix or '', {}, 1, {})
   if #keys > 0 then
      return ' (it has modules under the keys ' .. table.concat(keys, ', ') .. ': pass key=...)'
   end
   return ''
end

-- t[part], a numeric part also tried as a number ("layers.1")
local function index(t, part)
   local v = t[part]
   if v == nil and type(part) == 'string' and tonumber(part) then v = t[tonumber(part)] end
   return v
end

function H.load(path, key)
   local root = torch.load(path)
   local model = root
   local walked = {}
   if key ~= nil then
      if type(root) ~= 'table' or torch.isTypeOf(root, 'nn.Module') then
         error(string.format('<load_model> %s holds a %s, not a table to take [%q] from',
                             path, torch.type(root), tostring(key)), 0)
      end
      local parts
      if type(key) == 'table' then
         parts = key
      elseif type(key) == 'string' and root[key] == nil then
         parts = {}
         for part in (key .. '.'):gmatch('([^.]*)%.') do parts[#parts + 1] = part end
      else
         parts = {key}
      end
      for _, part in ipairs(parts) do
         if type(model) ~= 'table' or torch.typename(model) then
            error(string.format('<load_model> %s: key %q: %s is a %s, not a table to take [%q] from%s',
                                path, tostring(type(key) == 'table' and table.concat(key, '.') or key),
                                #walked > 0 and table.concat(walked, '.') or 'the file',
                                torch.type(model), tostring(part), hint_for(root)), 0)
         end
         local v = index(model, part)
         if v == nil then
            error(string.format('<load_model> %s has no key %q%s%s', path,
                                tostring(type(key) == 'table' and table.concat(key, '.') or key),
                                #walked > 0 and (' (' .. table.concat(walked, '.') .. ' has no ' ..
                                                 string.format('%q', tostring(part)) .. ')') or '',
                                hint_for(root)), 0)
         end
         walked[#walked + 1] = tostring(part)
         model = v
      end
   end
   if not torch.isTypeOf(model, 'nn.Module') then
      local hint = ''
      if type(model) == 'table' and not torch.typename(model) then
         hint = hint_for(model, key ~= nil and (table.concat(walked, '.') .. '.') or '')
      end
      if hint == '' and key ~= nil then hint = hint_for(root) end
      error(string.format('<load_model> %s holds a %s, not an nn module%s', path,
                          key ~= nil and (torch.type(model) .. ' at key ' .. string.format('%q', tostring(key)))
                          or torch.type(model), hint), 0)
   end
   return H.prepare(model)
end

function H.prepare(model)
   while torch.typename(model) == 'nn.DataParallelTable' do
      model = model.modules[1]
   end
   model:evaluate()
   return model
end

function H.dtype(model)
   local ok, t = pcall(nn.utils.moduleTensorType, model)
   if ok and t then return t end
   return model._type
end

-- outputs are copied here, under the state's lock: a forward from another
-- thread cannot overwrite them before Python has them
local function detach(v)
   if torch.isTensor(v) then
      return v:clone()
   elseif type(v) == 'table' and not torch.typename(v) then
      local t = {}
      for k, x in pairs(v) do t[k] = detach(x) end
      return t
   end
   return v
end

function H.forward(model, input)
   return detach(model:forward(input))
end

function H.float(model) return model:float() end
function H.double(model) return model:double() end
function H.evaluate(model) return model:evaluate() end
function H.training(model) return model:training() end

return H
