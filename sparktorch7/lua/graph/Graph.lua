-- graph.Graph: lists of nodes and edges (each also a reverse map
-- element -> position), with reverse, roots, leaves and topological sort.
local Graph = torch.class('graph.Graph')

-- a new object of obj's class (a node or an edge), built with the arguments
local function newLike(obj, ...)
   return torch.getconstructortable(torch.typename(obj))(...)
end

function Graph:__init()
   self.nodes = {}
   self.edges = {}
end

function Graph:add(edge)
   if type(edge) ~= 'table' then
      error('<graph.Graph> add expects a graph.Edge or a list of them', 2)
   end
   if not torch.typename(edge) then
      for _, e in ipairs(edge) do
         self:add(e)
      end
      return
   end
   if not self.edges[edge] then
      table.insert(self.edges, edge)
      self.edges[edge] = #self.edges
   end
   for _, node in ipairs({edge.from, edge.to}) do
      if not self.nodes[node] then
         table.insert(self.nodes, node)
         self.nodes[node] = #self.nodes
      end
   end
   edge.from:add(edge.to)
   edge.from.id = self.nodes[edge.from]
   edge.to.id = self.nodes[edge.to]
end

-- new nodes sharing the data, same edges
function Graph:clone()
   local copy = graph.Graph()
   local nodes = {}
   for i, n in ipairs(self.nodes) do
      nodes[i] = newLike(n, n.data)
   end
   for _, e in ipairs(self.edges) do
      copy:add(newLike(e, nodes[self.nodes[e.from]], nodes[self.nodes[e.to]]))
   end
   return copy
end

-- the graph with every edge reversed (new nodes sharing the data), and the
-- map old node -> new node
function Graph:reverse()
   local rg, map = graph.Graph(), {}
   for _, e in ipairs(self.edges) do
      map[e.from] = map[e.from] or newLike(e.from, e.from.data)
      map[e.to] = map[e.to] or newLike(e.to, e.to.data)
      rg:add(newLike(e, map[e.to], map[e.from]))
   end
   return rg, map
end

-- nodes in an order where every node comes after all nodes it has edges from
function Graph:topsort()
   local rg, map = self:reverse()
   local back = {}
   for k, v in pairs(map) do
      back[v] = k
   end
   local sorted = {}
   local roots = rg:roots()
   if #roots == 0 then
      error('<graph.Graph> graph has cycles', 2)
   end
   for _, root in ipairs(roots) do
      root:dfs(function(node) table.insert(sorted, back[node]) end)
   end
   if #sorted ~= #self.nodes then
      error('<graph.Graph> graph has cycles', 2)
   end
   return sorted, rg, roots
end

local function ends(self, fromField, toField)
   local found = {}
   for _, e in ipairs(self.edges) do
      found[e[fromField]] = true
   end
   for _, e in ipairs(self.edges) do
      found[e[toField]] = nil
   end
   local list = {}
   for node in pairs(found) do
      list[#list + 1] = node
   end
   table.sort(list, function(a, b) return self.nodes[a] < self.nodes[b] end)
   return list
end

-- nodes no edge goes into
function Graph:roots()
   return ends(self, 'from', 'to')
end

-- nodes no edge comes out of
function Graph:leaves()
   return ends(self, 'to', 'from')
end

-- The graph in Graphviz's dot language (node labels from node:label()).
function Graph:todot(title)
   local function quote(str)
      return '"' .. tostring(str):gsub('\\', '\\\\'):gsub('\n', '\\n'):gsub('"', '\\"') .. '"'
   end
   local out = {'digraph G {\n'}
   if title then
      out[#out + 1] = 'labelloc="t";\nlabel=' .. quote(title) .. ';\n'
   end
   out[#out + 1] = 'node [shape = oval]; '
   for _, node in ipairs(self.nodes) do
      local name = node.graphNodeName and node:graphNodeName() or ('Node' .. node.id)
      out[#out + 1] = string.format('\nn%d[label=%s];', node.id, quote(name .. '\n' .. node:label()))
   end
   out[#out + 1] = '\n'
   for _, e in ipairs(self.edges) do
      out[#out + 1] = string.format('n%d -> n%d;\n', e.from.id, e.to.id)
   end
   out[#out + 1] = '}'
   return table.concat(out)
end

return Graph
