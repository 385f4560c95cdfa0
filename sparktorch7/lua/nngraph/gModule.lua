-- nn.gModule: a module made of a directed acyclic graph of nngraph nodes.
--
-- The graph is given backwards (outputs point at their inputs). A dummy
-- output node gathers the outputs; a dummy input node feeds the inputs (split
-- in as many parts when there are several). fg is the forward graph (edges
-- input -> output), bg the backward one; forwardnodes is fg in topological
-- order, and forward evaluates the nodes in that order, each node passing
-- its output to the data.input of its children at the position its mapindex
-- gives. Files saved by Torch7's nngraph have the same fields and run as they are.
local schema = require('nn.schema')
local gModule, parent = torch.class('nn.gModule', 'nn.Container')

-- forward walks forwardnodes in order: each node's data table says what it runs (a module,
-- a split index, inputs kept by old nngraph files) and where its children take its output
local function nodeList(nodes, self)
   for i = 1, #nodes do
      local node = nodes[i]
      local what = string.format('node %d of forwardnodes', i)
      if not torch.isTypeOf(node, 'graph.Node') then
         return 'a list of nngraph nodes', string.format('%s as %s', schema.holds(node), what)
      end
      local data = rawget(node, 'data')
      if type(data) ~= 'table' or torch.typename(data) then
         return 'nodes whose data is a table', string.format('%s as the data of %s', schema.holds(data), what)
      end
      local module = rawget(data, 'module')
      if module ~= nil and not (torch.isTypeOf(module, 'nn.Module') or schema.isPlaceholder(module)) then
         return 'nodes whose data.module is an nn module', string.format('%s in %s', schema.holds(module), what)
      end
      local nSplit = rawget(data, 'nSplitOutputs')
      if nSplit ~= nil and not (type(nSplit) == 'number' and nSplit >= 1 and nSplit == math.floor(nSplit)) then
         return 'nodes whose data.nSplitOutputs is an integer >= 1', string.format('%s in %s', schema.holds(nSplit), what)
      end
      for _, name in ipairs({'input', 'mapindex', 'reverseMap'}) do
         local v = rawget(data, name)
         if v ~= nil and (type(v) ~= 'table' or torch.typename(v)) then
            return string.format('nodes whose data.%s is a table', name),
                   string.format('%s in %s', schema.holds(v), what)
         end
      end
      local children = rawget(node, 'children')
      if type(children) ~= 'table' or torch.typename(children) then
         return 'nodes whose children are a list', string.format('%s in %s', schema.holds(children), what)
      end
      for j = 1, #children do
         local child = children[j]
         local cdata = torch.isTypeOf(child, 'graph.Node') and rawget(child, 'data')
         if type(cdata) ~= 'table' or torch.typename(cdata) then
            return 'children that are nngraph nodes with a data table',
                   string.format('%s as child %d of %s', schema.holds(child), j, what)
         end
         local map = rawget(cdata, 'mapindex')
         if type(map) ~= 'table' or torch.typename(map) then
            return 'children whose data.mapindex is a table',
                   string.format('%s in child %d of %s', schema.holds(map), j, what)
         end
         -- forward puts the node's output at this index of the child's input
         local at = rawget(map, data)
         if not (type(at) == 'number' and at >= 1 and at <= 2147483647 and at == math.floor(at)) then
            return "children whose data.mapindex gives the node's place among their inputs (an integer >= 1)",
                   string.format('%s in child %d of %s', schema.holds(at), j, what)
         end
      end
   end
   -- (schema.check refuses a cycle through the modules of the nodes)
end

schema.declare(gModule, {
   {'innode', 'node'},
   {'outnode', 'node'},
   {'forwardnodes', 'table', check = nodeList},
   {'backwardnodes', 'table?'},
   {'nInputs', 'natural?'},
   {'verbose', 'boolean?'},
})

local function isNode(v)
   return torch.typename(v) == 'nngraph.Node'
end

function gModule:__init(inputs, outputs)
   parent.__init(self)
   if type(inputs) ~= 'table' or type(outputs) ~= 'table' or torch.typename(inputs) or torch.typename(outputs) then
      error('<nn.gModule> usage: nn.gModule({input nodes}, {output nodes})', 2)
   end
   local outnode = nngraph.Node({input = {}})
   for i = 1, nngraph._maxN(outputs) do
      if not isNode(outputs[i]) then
         error(nngraph._notANode(outputs[i], 'outputs', i), 2)
      end
      outnode:add(outputs[i], true)
   end
   for i = 1, nngraph._maxN(inputs) do
      if not isNode(inputs[i]) then
         error(nngraph._notANode(inputs[i], 'inputs', i), 2)
      end
   end
   if #inputs == 0 then
      error('<nn.gModule> a graph needs at least one input node', 2)
   end
   local innode = nngraph.Node({input = {}})
   if #inputs == 1 then
      inputs[1]:add(innode, true)
   else
      local splits = {innode:split(#inputs)}
      for i = 1, #inputs do
         if #inputs[i].children ~= 0 then
            error(string.format('<nn.gModule> input %d is not a source node (it has inputs itself)', i), 2)
         end
      end
      for i = 1, #inputs do
         inputs[i]:add(splits[i], true)
      end
   end

   self.bg = outnode:graph()
   self.fg = self.bg:reverse()

   local roots = self.fg:roots()
   local found
   for _, root in ipairs(roots) do
      if root.data == innode.data then
         found = root
      elseif not root.data.module then
         error('<nn.gModule> the graph has a source node that is not an input', 2)
      end
   end
   if not found then
      error('<nn.gModule> the input nodes do not reach the outputs', 2)
   end
   self.innode = found
   self.outnode = outnode
   self.verbose = false
   self.nInputs = #inputs

   self.forwardnodes = self.fg:topsort()
   self.backwardnodes = self.bg:topsort()

   local inGraph = {}
   for _, node in ipairs(self.forwardnodes) do
      inGraph[node.data] = true
   end
   for _, node in ipairs(self.forwardnodes) do
      if node.data.nSplitOutputs and node.data.nSplitOutputs ~= #node.children then
         error(string.format('<nn.gModule> %d of split(%d) outputs from the node declared at %s are unused',
                             node.data.nSplitOutputs - #node.children, node.data.nSplitOutputs,
                             tostring(node.data.annotations._debugLabel)), 2)
      end
      for successor in pairs(node.data.reverseMap or {}) do
         if not inGraph[successor.data] then
            error(string.format('<nn.gModule> node declared on %s does not connect to the output',
                                tostring(successor.data.annotations._debugLabel)), 2)
         end
      end
      node.data.forwardNodeId = node.id
      if node.data.module then
         self:add(node.data.module)
      end
   end

   self.output = nil
   self.gradInput = nil
   if #self.outnode.children > 1 then
      self.output = self.outnode.data.input
   end
end

-- calls func(module) on the module of every node, in forward order
function gModule:apply(func)
   func(self)
   for _, node in ipairs(self.forwardnodes) do
      if node.data.module then
         node.data.module:apply(func)
      end
   end
end

function gModule:map(gm, func)
   for i, node in ipairs(self.forwardnodes) do
      local other = gm.forwardnodes[i]
      if node.data.module then
         if not (other and other.data.module) then
            error('<nn.gModule> map: the two graphs have different structures', 2)
         end
         func(node.data.module, other.data.module)
      end
   end
end

-- replaces modules both in self.modules and in the nodes holding them
function gModule:replace(callback)
   local out = callback(self)
   local map = {}
   for i, module in ipairs(self.modules or {}) do
      local new = module:replace(callback)
      map[module] = new
      self.modules[i] = new
   end
   for _, node in ipairs(self.forwardnodes or {}) do
      local m = node.data.module
      if m then
         if map[m] == nil then
            map[m] = m:replace(callback)
         end
         node.data.module = map[m]
      end
   end
   return out
end

function gModule:updateOutput(input)
   return self:runForwardFunction('updateOutput', input)
end

-- Files of old nngraph versions: the input node is a dispatcher whose
-- data.data holds the inputs (data.mapindex maps children data -> position).
local function runOldStyle(self, func, input)
   local innode = self.innode
   innode.data.data = input
   for _, node in ipairs(self.forwardnodes) do
      local inp = node.data.input
      while inp and #inp > 0 do table.remove(inp) end
   end
   for _, node in ipairs(self.forwardnodes) do
      local data = node.data
      local function propagate(x)
         for _, child in ipairs(node.children) do
            child.data.input = child.data.input or {}
            child.data.input[child.data.mapindex[data]] = x
         end
      end
      if data.data then
         for _, child in ipairs(node.children) do
            child.data.input = child.data.input or {}
            table.insert(child.data.input, data.data[data.mapindex[child.data]])
         end
      elseif data.module then
         local x = data.input
         if #x == 1 then x = x[1] end
         propagate(func(data.module, x))
      elseif data.input then
         local x = #data.input == 1 and data.input[1] or data.input
         if data.selectindex then x = x[data.selectindex] end
         propagate(x)
      end
   end
end

-- a graph saved by an old nngraph: its input node dispatches data.data
local function isOldStyle(self)
   local data = self.innode.data
   return data.data ~= nil or (self.nInputs == nil and #data.mapindex > 0 and not data.input)
end

function gModule:runForwardFunction(func, input)
   if type(func) == 'string' then
      local name = func
      func = function(module, x) return module[name](module, x) end
   end
   local innode = self.innode
   local nInputs = self.nInputs or #innode.children
   if isOldStyle(self) then
      -- a graph saved by an old nngraph
      nInputs = #innode.data.mapindex
      if nInputs <= 1 then input = {input} end
      runOldStyle(self, func, input)
   else
      if nInputs <= 1 then
         input = {input}
      elseif type(input) ~= 'table' or torch.typename(input) then
         error(string.format('<nn.gModule> expecting a table of %d inputs', nInputs), 2)
      end
      if #input ~= nInputs then
         error(string.format('<nn.gModule> got %d inputs instead of %d', #input, nInputs), 2)
      end
      for _, node in ipairs(self.forwardnodes) do
         local inp = node.data.input
         while inp and #inp > 0 do table.remove(inp) end
      end
      innode.data.input = innode.data.input or {}
      for i = 1, nInputs do
         innode.data.input[i] = input[i]
      end
      for index, node in ipairs(self.forwardnodes) do
         local data = node.data
         local x
         if data.selectindex then
            if data.module then
               error('<nn.gModule> a split node cannot hold a module', 2)
            end
            local inp = data.input
            if #inp ~= 1 or type(inp[1]) ~= 'table' then
               error('<nn.gModule> the input of a split must be one table', 2)
            end
            x = inp[1][data.selectindex]
         else
            local inp = data.input
            if inp == nil and data.module ~= nil then
               inp = {}
            elseif inp == nil then
               error(string.format('<nn.gModule> node %d of forwardnodes gets no input: no node before it '
                                   .. 'has it as a child', index), 2)
            end
            if #inp == 1 then
               inp = inp[1]
            end
            if data.module then
               x = func(data.module, inp)
            else
               x = inp
            end
            if data.nSplitOutputs and (type(x) ~= 'table' or data.nSplitOutputs ~= #x) then
               error(string.format('<nn.gModule> split(%d) cannot split %s outputs', data.nSplitOutputs,
                                   type(x) == 'table' and tostring(#x) or 'non-table'), 2)
            end
         end
         for _, child in ipairs(node.children) do
            child.data.input = child.data.input or {}
            local at = child.data.mapindex[data]
            child.data.input[at] = x
         end
         if self.verbose then
            print(' V : ' .. node:label())
         end
      end
   end
   self.output = self.outnode.data.input
   if #self.outnode.children == 1 then
      self.output = self.output[1]
   end
   return self.output
end

-- ---------------------------------------------------------------- backward
-- updateGradInput walks backwardnodes (each node after every node that takes
-- its output): a node's data.gradOutput lists the gradients its consumers
-- sent; their sum (kept in data.gradOutputBuffer when there are several) goes
-- back through its module (a node without one passes it on), and each input
-- node receives its part of the gradInput. The split nodes gather the
-- gradients of their elements into one table for the node they split.

local function moduleInput(data)
   local inp = data.input
   if inp == nil then
      inp = {}
   end
   if #inp == 1 then
      inp = inp[1]
   end
   return inp
end

-- the sum of the gradients a node received
local function totalGradOutput(node)
   local data = node.data
   local list = data.gradOutput
   if type(list) ~= 'table' or #list == 0 then
      error(string.format('<nn.gModule> the node declared at %s received no gradient: '
                          .. 'does it reach an output?', tostring(data.annotations and data.annotations._debugLabel)), 4)
   end
   if #list == 1 then
      return list[1]
   end
   data.gradOutputBuffer = nn.utils.recursiveCopy(data.gradOutputBuffer, list[1])
   for k = 2, #list do
      nn.utils.recursiveAdd(data.gradOutputBuffer, list[k])
   end
   return data.gradOutputBuffer
end

-- what accGradParameters passes to a node's module: the sum updateGradInput made
local function summedGradOutput(data)
   local list = data.gradOutput
   if type(list) ~= 'table' or #list == 0 then
      error('<nn.gModule> accGradParameters needs updateGradInput first', 4)
   end
   if #list > 1 then
      return data.gradOutputBuffer
   end
   return list[1]
end

local function checkNewStyle(self, gradOutput)
   if isOldStyle(self) then
      error('<nn.gModule> backward through a graph saved by an old nngraph version is not supported', 3)
   end
   local nOut = #self.outnode.children
   if nOut > 1 and (type(gradOutput) ~= 'table' or torch.typename(gradOutput) or #gradOutput ~= nOut) then
      error(string.format('<nn.gModule> expecting a table of %d gradOutputs, got %s', nOut,
                          type(gradOutput) == 'table' and tostring(#gradOutput) or torch.type(gradOutput)), 3)
   end
end

function gModule:updateGradInput(input, gradOutput)
   checkNewStyle(self, gradOutput)
   for _, node in ipairs(self.backwardnodes) do
      local list = node.data.gradOutput
      while list and #list > 0 do table.remove(list) end
   end
   self.outnode.data.gradOutput = self.outnode.data.gradOutput or {}
   self.outnode.data.gradOutput[1] = gradOutput
   for _, node in ipairs(self.backwardnodes) do
      local data = node.data
      local go = totalGradOutput(node)
      if data.selectindex then
         if data.module or #node.children ~= 1 then
            error('<nn.gModule> a split node must take one input and hold no module', 2)
         end
         local child = node.children[1]
         child.data.gradOutput = child.data.gradOutput or {}
         local cg = child.data.gradOutput
         if cg[1] == nil then
            cg[1] = {}
         elseif #cg > 1 then
            error('<nn.gModule> the output of a split node is used more than once', 2)
         end
         cg[1][data.selectindex] = go
      else
         local gradInput = go
         if data.module then
            gradInput = data.module:updateGradInput(moduleInput(data), go)
         end
         for _, child in ipairs(node.children) do
            child.data.gradOutput = child.data.gradOutput or {}
            local gi = gradInput
            if #node.children > 1 then
               gi = gradInput[data.mapindex[child.data]]
            end
            table.insert(child.data.gradOutput, gi)
         end
      end
      if self.verbose then
         print(' V : ' .. node:label())
      end
   end
   local innodeGrads = self.innode.data.gradOutput
   if type(innodeGrads) ~= 'table' or #innodeGrads ~= 1 then
      error('<nn.gModule> the input node must be used once', 2)
   end
   self.gradInput = innodeGrads[1]
   return self.gradInput
end

-- every module's accGradParameters (or accUpdateGradParameters) with its
-- node's input and summed gradOutput from the last updateGradInput
local function eachModule(self, gradOutput, method, arg)
   checkNewStyle(self, gradOutput)
   for _, node in ipairs(self.backwardnodes) do
      local data = node.data
      if data.module then
         data.module[method](data.module, moduleInput(data), summedGradOutput(data), arg)
      end
      if self.verbose then
         print(' V : ' .. node:label())
      end
   end
end

function gModule:accGradParameters(input, gradOutput, scale)
   eachModule(self, gradOutput, 'accGradParameters', scale or 1)
end

function gModule:accUpdateGradParameters(input, gradOutput, lr)
   eachModule(self, gradOutput, 'accUpdateGradParameters', lr)
end

function gModule:backward(input, gradOutput, scale)
   self:updateGradInput(input, gradOutput)
   self:accGradParameters(input, gradOutput, scale)
   return self.gradInput
end

function gModule:clearState()
   local ret = parent.clearState(self)
   for _, node in ipairs(self.backwardnodes or {}) do
      node.data.gradOutput = nil
      node.data.gradOutputBuffer = nil
   end
   for _, node in ipairs(self.forwardnodes or {}) do
      node.data.input = nil
   end
   return ret
end

function gModule:__tostring__()
   return self.name or torch.type(self)
end

return gModule
