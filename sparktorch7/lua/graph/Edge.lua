-- graph.Edge: a directed edge from -> to between two graph.Node.
local Edge = torch.class('graph.Edge')

function Edge:__init(from, to)
   self.from = from
   self.to = to
end

return Edge
