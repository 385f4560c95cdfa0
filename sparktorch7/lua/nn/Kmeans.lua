-- nn.Kmeans(k, dim[, scale]): online hard k-means. weight holds the k centres (k x dim);
-- forward on a batch of rows (n x dim) gives each row's nearest centre (squared Euclidean
-- distance; the first of equal ones), and sets self.loss to the sum of those distances.
-- Backward gives a zero gradInput; accGradParameters adds to gradWeight, for each centre c,
-- -scale / count(c) * sum over its rows x of (x - c), so that updateParameters(1) moves
-- each centre to scale of the way towards its rows' mean (self.scale, when set, wins).
local schema = require('nn.schema')
local Kmeans, parent = torch.class('nn.Kmeans', 'nn.Module')

schema.declare(Kmeans, {
   {'k', 'posint'}, {'dim', 'posint'},
   {'weight', 'tensor', size = {'k', 'dim'}},
   {'gradWeight', 'tensor?'},
   {'scale', 'number?'}, {'loss', 'number?'}, {'p', 'number?', min = 0, max = 1},
   {'clusterSampleCount', 'tensor?', nElement = 'k'},
})

function Kmeans:__init(k, dim, scale)
   parent.__init(self)
   if type(k) ~= 'number' or k < 1 or type(dim) ~= 'number' or dim < 1 then
      error(string.format('<nn.Kmeans> usage: nn.Kmeans(k, dim[, scale]) with k and dim positive, got %s and %s',
                          tostring(k), tostring(dim)), 2)
   end
   self.k, self.dim, self.scale = k, dim, scale
   self.weight = torch.Tensor(k, dim)
   self.gradWeight = torch.Tensor(k, dim):zero()
   self.loss = 0
   self.clusterSampleCount = torch.Tensor(k):zero()
   self:reset()
end

function Kmeans:reset(stdev)
   stdev = stdev or 1
   self.weight:uniform(-stdev, stdev)
   return self
end

local function checkInput(self, input, need, level)
   if not torch.isTensor(input) or input:dim() ~= 2 or input:size(2) ~= self.dim then
      error(string.format('<nn.Kmeans> input must be a 2D batch of rows of %d features, got %s', self.dim,
                          torch.isTensor(input) and table.concat(input:size():totable(), 'x') or torch.type(input)),
            level)
   end
   if need and input:size(1) < need then
      error(string.format('<nn.Kmeans> initialising %d centres needs at least %d rows, got %d', self.k, self.k,
                          input:size(1)), level)
   end
end

-- squared Euclidean distances of every row to every centre: n x k, sum_j (x_j - c_j)^2
local function distances(centres, input)
   local x = input:typeAs(centres)
   local n, k = x:size(1), centres:size(1)
   local d = centres.new(n, k)
   for c = 1, k do
      local diff = x:clone():add(-1, centres[c]:view(1, centres:size(2)):expandAs(x))
      d:select(2, c):copy(diff:cmul(diff):sum(2))
   end
   return d
end

-- the centres: k distinct random rows of input
function Kmeans:initRandom(input)
   checkInput(self, input, self.k, 3)
   local perm = torch.randperm(input:size(1))
   for i = 1, self.k do
      self.weight[i]:copy(input[perm[i]])
   end
   return self
end

-- k-means++-like initialisation (Torch7's): the first centre a random row; each next one a
-- random row among the ceil((1 - p) n) rows farthest from the centres chosen so far
function Kmeans:initKmeansPlus(input, p)
   self.p = p or self.p or 0.95
   if self.p < 0 or self.p > 1 then
      error('<nn.Kmeans> p must be in [0, 1], got ' .. tostring(self.p), 2)
   end
   checkInput(self, input, nil, 3)
   local n = input:size(1)
   local pcount = math.max(1, math.ceil((1 - self.p) * n))
   self.weight[1]:copy(input[torch.random(n)])
   local nearest = torch.Tensor(n):typeAs(self.weight):fill(math.huge)
   for c = 2, self.k do
      local d = distances(self.weight:narrow(1, c - 1, 1), input):view(n)
      nearest:cmin(d)
      local _, order = nearest:sort(1, true)
      self.weight[c]:copy(input[order[torch.random(pcount)]])
   end
   return self
end

function Kmeans:updateOutput(input)
   checkInput(self, input, nil, 3)
   local d = distances(self.weight, input)
   local minDist, minIndex = d:min(2)
   self._minIndx = minIndex:view(input:size(1)):long()
   if not torch.isTensor(self.output) or torch.type(self.output) ~= torch.type(self.weight) then
      self.output = nn.utils.newLike(self.weight)
   end
   self.output:resize(input:size(1)):copy(self._minIndx)
   self.loss = minDist:sum()
   return self.output
end

-- the loss is its own: no gradient flows to the input
function Kmeans:updateGradInput(input, gradOutput)
   if not torch.isTensor(self.gradInput) or torch.type(self.gradInput) ~= torch.type(input) then
      self.gradInput = nn.utils.newLike(input)
   end
   self.gradInput:resizeAs(input):zero()
   return self.gradInput
end

function Kmeans:accGradParameters(input, gradOutput, scale)
   scale = self.scale or scale or 1
   if scale <= 0 then
      error('<nn.Kmeans> the scale must be positive, got ' .. tostring(scale), 2)
   end
   if not self._minIndx or self._minIndx:nElement() ~= input:size(1) then
      error('<nn.Kmeans> accGradParameters before forward: run forward on this input first', 2)
   end
   local idx = self._minIndx
   self.clusterSampleCount = self.clusterSampleCount:typeAs(self.weight):resize(self.k):zero()
   self.clusterSampleCount:indexAdd(1, idx, torch.ones(input:size(1)):typeAs(self.weight))
   -- -scale (x - c[nearest]) per row, summed per centre, over the centre's row count
   local diff = input:typeAs(self.weight):clone():add(-1, self.weight:index(1, idx)):mul(-scale)
   local sums = self.weight.new(self.k, self.dim):zero():indexAdd(1, idx, diff)
   local counts = self.clusterSampleCount:clone():add(1e-7)
   sums:cdiv(counts:view(self.k, 1):expandAs(sums))
   self.gradWeight:add(sums)
end

function Kmeans:clearState()
   self._minIndx = nil
   return parent.clearState(self)
end

function Kmeans:type(typename, tensorCache)
   if typename then self._minIndx = nil end
   return parent.type(self, typename, tensorCache)
end

return Kmeans
