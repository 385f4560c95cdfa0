-- nngraph.Node: a graph node whose data holds a module (or a split of a
-- node's table output: nSplitOutputs / selectindex), the inputs in order
-- (data.mapindex: position -> input data and input data -> position) and,
-- during forward, data.input.
local Node, parent = torch.class('nngraph.Node', 'graph.Node')

local here = debug.getinfo(1, 'S').source
local luaDir = here:match('^@(.*)/nngraph/[^/]*$')

-- '[file]:line_' of the first caller outside the sparktorch7 runtime
local function callerLabel()
   for level = 3, 40 do
      local info = debug.getinfo(level, 'Sl')
      if not info then break end
      local src = info.source or ''
      local internal = luaDir and src:sub(1, #luaDir + 1) == '@' .. luaDir
      if not internal and info.what ~= 'C' then
         return string.format('[%s]:%d_', info.short_src, info.currentline)
      end
   end
   return '[?]:0_'
end

function Node:__init(data)
   parent.__init(self, data)
   self.data.annotations = self.data.annotations or {}
   self.data.mapindex = self.data.mapindex or {}
   self.data.reverseMap = self.data.reverseMap or {}
   if not self.data.annotations._debugLabel then
      self.data.annotations._debugLabel = callerLabel()
   end
end

-- Adds an input (the graph is built backwards: a node's children are its
-- inputs); with domap, the input's position is remembered in data.mapindex.
function Node:add(child, domap)
   parent.add(self, child)
   if domap then
      local mapindex = self.data.mapindex
      local data = child.data
      if mapindex[data] then
         error("<nngraph> don't pass the same input twice", 3)
      end
      table.insert(mapindex, data)
      mapindex[data] = #mapindex
      child.data.reverseMap = child.data.reverseMap or {}
      child.data.reverseMap[self] = true
   end
end

-- noutput nodes, each taking one element of this node's (table) output.
function Node:split(noutput)
   if noutput == 1 then
      return nngraph.JustElement()(self)
   end
   local label = self.data.annotations._debugLabel or ''
   local info = debug.getinfo(2, 'Sl')
   local at = info and string.format(' split at [%s]:%d', info.short_src, info.currentline) or ''
   local mnode = nngraph.Node({nSplitOutputs = noutput,
                               annotations = {_debugLabel = label .. at .. '-mnode'}})
   mnode:add(self, true)
   local nodes = {}
   for i = 1, noutput do
      local node = nngraph.Node({selectindex = i, input = {},
                                 annotations = {_debugLabel = label .. '-' .. i}})
      node:add(mnode, true)
      nodes[i] = node
   end
   return (unpack or table.unpack)(nodes)
end

function Node:annotate(annotations)
   for k, v in pairs(annotations) do
      self.data.annotations[k] = v
   end
   return self
end

function Node:graphNodeName()
   if self.data.annotations.name then
      return self.data.annotations.name .. ' (' .. self.id .. ')'
   end
   return 'Node' .. self.id
end

function Node:label()
   local parts = {}
   if self.data.module then
      parts[#parts + 1] = 'module = ' .. tostring(self.data.module):gsub('\n', '\\l')
   end
   if self.data.selectindex then
      parts[#parts + 1] = 'selectindex = ' .. self.data.selectindex
   end
   if self.data.nSplitOutputs then
      parts[#parts + 1] = 'nSplitOutputs = ' .. self.data.nSplitOutputs
   end
   return table.concat(parts, '\\l')
end

return Node
