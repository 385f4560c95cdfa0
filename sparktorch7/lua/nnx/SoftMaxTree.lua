-- nn.SoftMaxTree(inputSize, hierarchy [, rootId = 1, accUpdate, static, verbose]): nnx's
-- hierarchical softmax. hierarchy maps each parent node id to a 1D tensor of its children's
-- ids; every child gets one row of weight (inputSize wide) and of bias. The input is
-- {x (batch x inputSize), targets (batch leaf ids)}; output[i] is log P(target[i] | x[i]),
-- the sum over the path from the target up to rootId of each node's log-softmax over its
-- siblings (nnx computes the log-sum with TH's approximate exp, as here). Backward as nnx's
-- C code: gradInput = {dE/dx, zeros for the targets}; accGradParameters(input, gradOutput,
-- scale) adds into gradWeight and gradBias on the rows of the nodes on the paths and adds
-- scale to self.updates[parentId] for each (nnx's record of the nodes touched).
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

-- {x, targets} checked (and gradOutput, one value per row, when given)
local function unpackInput(self, inputTable, gradOutput)
   if type(inputTable) ~= 'table' or torch.typename(inputTable) or not torch.isTensor(inputTable[1])
      or not torch.isTensor(inputTable[2]) then
      error('<nn.SoftMaxTree> input must be {x (batch x inputSize), targets (batch)}, got '
            .. torch.type(inputTable), 3)
   end
   local input, target = inputTable[1], inputTable[2]
   if input:dim() ~= 2 or input:size(2) ~= self.inputSize then
      error(string.format('<nn.SoftMaxTree> x must be batch x %d, got %s', self.inputSize,
                          table.concat(input:size():totable(), 'x')), 3)
   end
   if target:nElement() ~= input:size(1) then
      error(string.format('<nn.SoftMaxTree> expects one target per row: %d rows, %d targets',
                          input:size(1), target:nElement()), 3)
   end
   nn.utils.checkSameType('nn.SoftMaxTree', input, self.weight)
   if gradOutput ~= nil then
      if not torch.isTensor(gradOutput) or gradOutput:dim() ~= 1 or gradOutput:size(1) ~= input:size(1) then
         error(string.format('<nn.SoftMaxTree> gradOutput must be a 1D tensor of %d values (one per row), got %s',
                             input:size(1), torch.isTensor(gradOutput)
                             and table.concat(gradOutput:size():totable(), 'x') or torch.type(gradOutput)), 3)
      end
      nn.utils.checkSameType('nn.SoftMaxTree', gradOutput, input)
      gradOutput = gradOutput:contiguous()
   end
   return input:contiguous(), target:contiguous(), gradOutput
end

function SoftMaxTree:updateOutput(inputTable)
   local input, target = unpackInput(self, inputTable)
   local out = kernels.output(self, input, {input:size(1)})
   kernels.soft_max_tree(out, input, target, self.weight, self.bias,
                         self.childParent, self.parentChildren, self.rootId)
   return out
end

function SoftMaxTree:updateGradInput(inputTable, gradOutput)
   local input, target
   input, target, gradOutput = unpackInput(self, inputTable, gradOutput)
   if type(self.gradInput) ~= 'table' or torch.typename(self.gradInput) then self.gradInput = {} end
   local gi = kernels.output(self.gradInput, input, nil, 1)
   kernels.soft_max_tree_grad(gi, input, target, self.weight, self.bias, self.childParent,
                              self.parentChildren, self.rootId, gradOutput)
   -- the targets get a zero gradient of their own size (nnx's _gradTarget)
   if not torch.isTensor(self._gradTarget) then self._gradTarget = torch.IntTensor() end
   self._gradTarget:resize(target:size()):zero()
   self.gradInput[2] = self._gradTarget
   return self.gradInput
end

function SoftMaxTree:accGradParameters(inputTable, gradOutput, scale)
   scale = scale or 1
   local input, target
   input, target, gradOutput = unpackInput(self, inputTable, gradOutput)
   if not torch.isTensor(self.gradWeight) or not torch.isTensor(self.gradBias) then
      error('<nn.SoftMaxTree> accGradParameters needs gradWeight and gradBias (this tree was built with '
            .. 'accUpdate: use accUpdateGradParameters)', 2)
   end
   kernels.soft_max_tree_acc(self.gradWeight, self.gradBias, input, target, self.weight, self.bias,
                             self.childParent, self.parentChildren, self.rootId, gradOutput, scale)
   -- the parents on each target's path (a walk over ids: the batch times the depth)
   self.updates = self.updates or {}
   local updates, tg = self.updates, target:view(-1)
   for i = 1, tg:nElement() do
      local child = tg[i]
      while true do
         local p = self.childParent[child][1]
         updates[p] = (updates[p] or 0) + scale
         if p == self.rootId then break end
         child = p
      end
   end
end

-- the tree's gradients are zeroed and its record of updated nodes cleared (nnx's)
function SoftMaxTree:zeroGradParameters()
   parent.zeroGradParameters(self)
   for k in pairs(self.updates or {}) do self.updates[k] = nil end
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
