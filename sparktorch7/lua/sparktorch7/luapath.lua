-- package.path for a project's own Lua folders (sparktorch7/_luapath.py, LuaState(lua_path=),
-- LuaScript(lua_path=)). Creates no globals.
local M = {}

-- the two templates of a folder: dir/?.lua and dir/?/init.lua, each ending in ';'
local function templates(dir)
  return dir .. '/?.lua;' .. dir .. '/?/init.lua;'
end

-- add(runtime_dir, roots): put the folders of the sequence roots on package.path, in order,
-- right after the runtime's own folder when package.path begins with it (so the runtime's
-- torch/nn still win), else in front
function M.add(runtime_dir, roots)
  if type(runtime_dir) ~= 'string' or type(roots) ~= 'table' then
    error('<sparktorch7.luapath> add expects (runtime folder, {folders...}), got ('
          .. type(runtime_dir) .. ', ' .. type(roots) .. ')', 2)
  end
  local user = {}
  for i, dir in ipairs(roots) do
    if type(dir) ~= 'string' then
      error('<sparktorch7.luapath> folder ' .. i .. ' is a ' .. type(dir) .. ', not a string', 2)
    end
    user[i] = templates(dir)
  end
  local runtime, p = templates(runtime_dir), package.path
  if p:sub(1, #runtime) == runtime then
    package.path = runtime .. table.concat(user) .. p:sub(#runtime + 1)
  else
    package.path = table.concat(user) .. p
  end
end

return M
