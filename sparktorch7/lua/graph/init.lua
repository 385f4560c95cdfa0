-- The graph package of Torch7 (torch/graph) as nngraph uses it: nodes with
-- children, edges, and graphs with reverse, roots and topological sort.
require('torch')

graph = graph or {}

require('graph.Node')
require('graph.Edge')
require('graph.Graph')

return graph
