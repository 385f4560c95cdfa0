-- The environment a LuaScript's chunk runs in (see sparktorch7/broadcast.py).
-- install{files = {name = local path, ...}, worker = {pid =, serial =, key =, driver =}}
-- sets the two globals the script may use: sparktorch7_file(name) and the
-- table sparktorch7_worker. Nothing else is created.
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

return worker
