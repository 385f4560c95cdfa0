-- The environment a LuaScript's chunk runs in (see sparktorch7/broadcast.py).
-- install{files = {name = local path, ...}, worker = {pid =, serial =, key =, driver =}}
-- sets the two globals the script may use: sparktorch7_file(name) and the
-- table sparktorch7_worker. Nothing else is created.
-- lookup(name) and kind(name) find the script's functions by their (dotted) names.
local worker = {}

local function sorted_names(files)
  local names = {}
  for name in pairs(files) do names[#names + 1] = name end
  table.sort(names)
  return names
end

function worker.install(env)
  if type(env) ~= 'table' or type(env.files) ~= 'table' or type(env.worker) ~= 'table' then
    error('<sparktorch7.worker> install expects a table {files = {...}, worker = {...}}, got '
          .. type(env), 2)
  end
  local files = {}
  for name, path in pairs(env.files) do files[name] = path end
  local names = sorted_names(files)
  function sparktorch7_file(name)
    local path = files[name]
    if path == nil then
      error('sparktorch7_file: no file named ' .. tostring(name) .. ' was shipped with this '
            .. 'script (shipped: ' .. (#names > 0 and table.concat(names, ', ') or 'none') .. ')', 2)
    end
    return path
  end
  local info = {}
  for k, v in pairs(env.worker) do info[k] = v end
  sparktorch7_worker = info
end

-- the value at a global name or a dotted path ('score', 'model.score'), as Lua code
-- naming it would see it; nil when a part on the way is not a table or an object
function worker.lookup(name)
  if type(name) ~= 'string' then
    error('<sparktorch7.worker> lookup expects a name (a string), got ' .. type(name), 2)
  end
  local v = _G
  for part in name:gmatch('[^.]+') do
    local t = type(v)
    if t == 'table' then
      v = v[part]
    elseif t == 'userdata' then   -- a torch object: its fields and methods
      local ok, x = pcall(function() return v[part] end)
      if not ok then return nil end
      v = x
    else
      return nil
    end
  end
  return v
end

-- type(lookup(name)): 'function', 'nil', 'table', ...
function worker.kind(name)
  return type(worker.lookup(name))
end

return worker
