-- graph.Node: a node holding data and its children (a list, and a reverse
-- map child -> position). visited/marked are scratch flags of the traversals.
local Node = torch.class('graph.Node')

function Node:__init(data)
   self.data = data
   self.id = 0
   self.children = {}
   self.visited = false
   self.marked = false
end

function Node:add(child)
   local children = self.children
   if type(child) == 'table' and not torch.typename(child) then
      for _, c in ipairs(child) do
         self:add(c)
      end
   elseif not children[child] then
      table.insert(children, child)
      children[child] = #children
   end
end

-- depth-first visit: pre(node) before the children, post(node) after
function Node:visit(pre, post)
   if not self.visited then
      if pre then pre(self) end
      for _, child in ipairs(self.children) do
         child:visit(pre, post)
      end
      if post then post(self) end
   end
end

function Node:label()
   return tostring(self.data)
end

-- the graph of the edges reachable from this node
function Node:graph()
   local g = graph.Graph()
   self:bfs(function(node)
      for _, child in ipairs(node.children) do
         g:add(graph.Edge(node, child))
      end
   end)
   return g
end

-- post-order depth-first traversal; flags are reset afterwards
function Node:dfs(func)
   local seen = {}
   self:visit(function(node) node.visited = true end,
              function(node)
                 func(node)
                 seen[#seen + 1] = node
              end)
   for _, node in ipairs(seen) do
      node.visited = false
   end
end

-- breadth-first traversal; flags are reset afterwards
function Node:bfs(func)
   local queue, seen = {self}, {}
   local head = 1
   self.marked = true
   while head <= #queue do
      local node = queue[head]
      head = head + 1
      seen[#seen + 1] = node
      func(node)
      for _, child in ipairs(node.children) do
         if not child.marked then
            child.marked = true
            queue[#queue + 1] = child
         end
      end
   end
   for _, node in ipairs(seen) do
      node.marked = false
   end
end

return Node
