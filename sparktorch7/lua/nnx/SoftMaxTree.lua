-- nn.SoftMaxTree(inputSize, hierarchy [, rootId = 1, accUpdate, static, verbose]): nnx's
-- hierarchical softmax. hierarchy maps each parent node id to a 1D tensor of its children's
-- ids; every child gets one row of weight (inputSize wide) and of bias. The input is
-- {x (batch x inputSize), targets (batch leaf ids)}; output[i] is log P(target[i] | x[i]),
-- the sum over the path from the target up to rootId of each node's log-softmax over its
-- siblings (nnx computes the log-sum with TH's approximate exp, as here). Forward only.
-- parameters() are the weight and bias as a whole (nnx's 'static' per-node tables are not
-- kept).
local schema = require('nn.schema')
local kernels = require('nn.kernels')
local SoftMaxTree, parent = torch.class('nn.SoftMaxTree', 'nn.Module')

schema.declare(SoftMaxTree, {
   {'inputSize', 'posint'}, {'rootId', 'posint'},
   {'nChildNode', 'posint'},
   {'weight', 'tensor', size = {'nChildNode', 'inputSize'}},
   {'bias', 'tensor', nElement = 'nChildNode'},
   {'parentChildren', 'tensor', dim = 2, check = function(t, m)
      if t:size(2) ~= 2 then return 'a maxParentId x 2 tensor (first row, number of children)' end
      if m.rootId and m.rootId > t:size(1) then return string.format('at least rootId = %d rows', m.rootId) end
   end},
   {'childParent', 'tensor', dim = 2, check = function(t)
      if t:size(2) ~= 2 then return 'a maxChildId x 2 tensor (parent id, child index)' end
   end},
   {'childIds', 'tensor?'}, {'parentIds', 'tensor?'},
})

function SoftMaxTree:__init(inputSize, hierarchy, rootId, accUpdate, static, verbose)
   parent.__init(self)
   if type(inputSize) ~= 'number' or type(hierarchy) ~= 'table' then
      error(string.format('<nn.SoftMaxTree> expects (inputSize, hierarchy [, rootId]), hierarchy a table of '
                          .. 'parent id -> 1D tensor of child ids, got (%s, %s)', type(inputSize),
                          torch.type(hierarchy)), 2)
   end
   self.rootId = rootId or 1
   self.inputSize = inputSize
   self.accUpdate = accUpdate
   local parents = {}
   for parentId, children in pairs(hierarchy) do
      if not torch.isTensor(children) or children:dim() ~= 1 then
         error(string.format('<nn.SoftMaxTree> the children of node %s must be a 1D tensor, got %s',
                             tostring(parentId), torch.type(children)), 2)
      end
      parents[#parents + 1] = parentId
   end
   table.sort(parents)   -- a fixed order: weight rows are laid out parent by parent
   local nChild, maxParent, maxChild, maxFamily, minNode = 0, 0, 0, 0, math.huge
   for _, p in ipairs(parents) do
      local c = hierarchy[p]
      nChild = nChild + c:size(1)
      maxParent = math.max(maxParent, p)
      maxFamily = math.max(maxFamily, c:size(1))
      maxChild = math.max(maxChild, c:max())
      minNode = math.min(minNode, p, c:min())
   end
   if minNode < 1 then
      error('<nn.SoftMaxTree> node ids must be positive, got ' .. minNode, 2)
   end
   self.nChildNode, self.nParentNode = nChild, #parents
   self.minNodeId, self.maxParentId, self.maxChildId = minNode, maxParent, maxChild
   self.maxNodeId = math.max(maxParent, maxChild)
   self.maxFamily = maxFamily
   self.weight = torch.Tensor(nChild, inputSize)
   self.bias = torch.Tensor(nChild)
   if not accUpdate then
      self.gradWeight = torch.Tensor(nChild, inputSize)
      self.gradBias = torch.Tensor(nChild)
   end
   self.childIds = torch.IntTensor(nChild)
   self.parentIds = torch.IntTensor(parents)
   self.parentChildren = torch.IntTensor(maxParent, 2):fill(-1)
   self.childParent = torch.IntTensor(maxChild, 2):fill(-1)
   local start = 1
   for _, p in ipairs(parents) do
      local c = hierarchy[p]
      self.parentChildren[p][1], self.parentChildren[p][2] = start, c:size(1)
      self.childIds:narrow(1, start, c:size(1)):copy(c)
      for k = 1, c:size(1) do
         local id = c[k]
         self.childParent[id][1], self.childParent[id][2] = p, k
      end
      start = start + c:size(1)
   end
   if self.rootId > maxParent or self.parentChildren[self.rootId][2] < 1 then
      error(string.format('<nn.SoftMaxTree> the root %d has no children in the hierarchy', self.rootId), 2)
   end
   -- the longest path (in nodes and in siblings) over the tree, for nnx's buffers
   local depth, family = {[self.rootId] = 1}, {[self.rootId] = self.parentChildren[self.rootId][2]}
   local function walk(id, seen)
      if depth[id] then return depth[id], family[id] end
      if seen[id] or id > maxChild or self.childParent[id][1] < 1 then
         error(string.format('<nn.SoftMaxTree> node %d is not connected to the root %d', id, self.rootId), 3)
      end
      seen[id] = true
      local d, f = walk(self.childParent[id][1], seen)
      depth[id], family[id] = d + 1, f + self.parentChildren[id][2]
      return depth[id], family[id]
   end
   self.maxDept, self.maxFamilyPath = 0, 0
   for _, p in ipairs(parents) do
      local d, f = walk(p, {})
      self.maxDept, self.maxFamilyPath = math.max(self.maxDept, d), math.max(self.maxFamilyPath, f)
   end
   self.updates = {}
   self.batchSize = 0
   self.static = (static == nil) and true or static
   if verbose then
      print(string.format('Hierarchy has %d parent nodes, %d child nodes, %d leaf nodes', #parents, nChild,
                          nChild - #parents))
   end
   self:reset()
end

function SoftMaxTree:reset(stdv)
   stdv = stdv and stdv * math.sqrt(3) or 1 / math.sqrt(self.nChildNode * self.inputSize)
   self.weight:uniform(-stdv, stdv)
   self.bias:uniform(-stdv, stdv)
end

function SoftMaxTree:updateOutput(inputTable)
   if type(inputTable) ~= 'table' or torch.typename(inputTable) or not torch.isTensor(inputTable[1])
      or not torch.isTensor(inputTable[2]) then
      error('<nn.SoftMaxTree> input must be {x (batch x inputSize), targets (batch)}, got '
            .. torch.type(inputTable), 2)
   end
   local input, target = inputTable[1], inputTable[2]
   if input:dim() ~= 2 or input:size(2) ~= self.inputSize then
      error(string.format('<nn.SoftMaxTree> x must be batch x %d, got %s', self.inputSize,
                          table.concat(input:size():totable(), 'x')), 2)
   end
   if target:nElement() ~= input:size(1) then
      error(string.format('<nn.SoftMaxTree> expects one target per row: %d rows, %d targets',
                          input:size(1), target:nElement()), 2)
   end
   nn.utils.checkSameType('nn.SoftMaxTree', input, self.weight)
   local out = kernels.output(self, input, {input:size(1)})
   kernels.soft_max_tree(out, input:contiguous(), target:contiguous(), self.weight, self.bias,
                         self.childParent, self.parentChildren, self.rootId)
   return out
end

-- the tree's index tensors stay integer tensors whatever the module's type
function SoftMaxTree:type(typename, tensorCache)
   local keep = {}
   for _, k in ipairs({'parentChildren', 'childParent', 'childIds', 'parentIds', '_gradTarget'}) do
      keep[k], self[k] = self[k], nil
   end
   parent.type(self, typename, tensorCache)
   for k, v in pairs(keep) do self[k] = v end
   return self
end

return SoftMaxTree
