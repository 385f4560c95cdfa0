-- nn.ClassSimplexCriterion(nClasses): classification as regression onto fixed class
-- embeddings. Class k is the k-th vertex of a regular simplex of unit vectors centred at
-- the origin (nClasses points in nClasses - 1 dimensions, padded with a zero column to
-- nClasses), and the loss is nn.MSECriterion between the input (nClasses values, or a
-- batch of rows) and the vertices of the target classes (a number, or a 1D tensor of
-- one class per row). Reference: http://arxiv.org/abs/1506.08230.
local schema = require('nn.schema')
local ClassSimplexCriterion, parent = torch.class('nn.ClassSimplexCriterion', 'nn.MSECriterion')

schema.declare(ClassSimplexCriterion, {
   {'nClasses', 'posint'},
   {'simplex', 'tensor', size = {'nClasses', 'nClasses'}},
   {'_target', 'tensor?'}, {'output_tensor', 'tensor?'},
})

local NAME = '<nn.ClassSimplexCriterion>'

-- The n + 1 vertices (rows) of a regular simplex in n dimensions, of norm 1, centred at
-- the origin: vertex k is zero after coordinate k, its k-th coordinate makes its norm
-- 1, and every later vertex shares its first k coordinates' pattern so that all
-- pairwise dot products are -1/n.
local function simplexVertices(n)
   local v = torch.zeros(n + 1, n)
   for k = 1, n do
      local sq = 0
      for j = 1, k - 1 do
         sq = sq + v[k][j] ^ 2
      end
      local diag = math.sqrt(1 - sq)
      v[k][k] = diag
      local c = (diag ^ 2 - 1 - 1 / n) / diag
      for r = k + 1, n + 1 do
         v[r][k] = c
      end
   end
   return v
end

function ClassSimplexCriterion:__init(nClasses)
   parent.__init(self)
   if type(nClasses) ~= 'number' or nClasses < 2 or nClasses ~= math.floor(nClasses) then
      error(string.format('%s nClasses must be an integer > 1, not %s', NAME, tostring(nClasses)), 2)
   end
   self.nClasses = nClasses
   self.simplex = torch.cat(simplexVertices(nClasses - 1), torch.zeros(nClasses, 1), 2)
   self._target = torch.Tensor(nClasses)
end

local function checkClass(self, k)
   if type(k) ~= 'number' or k < 1 or k > self.nClasses or k ~= math.floor(k) then
      error(string.format('%s target %s out of range [1, %d]', NAME, tostring(k), self.nClasses), 4)
   end
   return k
end

-- self._target: the vertices of the target classes, of the simplex's type
function ClassSimplexCriterion:_vertices(target)
   local t = self._target
   if not torch.isTensor(t) or torch.type(t) ~= torch.type(self.simplex) then
      t = self.simplex.new()
      self._target = t
   end
   if type(target) == 'number' then
      t:resize(self.nClasses):copy(self.simplex[checkClass(self, target)])
   elseif torch.isTensor(target) and target:dim() == 1 then
      local n = target:size(1)
      t:resize(n, self.nClasses)
      for i = 1, n do
         t[i]:copy(self.simplex[checkClass(self, target[i])])
      end
   else
      error(string.format('%s target must be a class number or a 1D tensor of classes, not %s', NAME,
                          nn.utils.describe(target)), 3)
   end
   return t
end

function ClassSimplexCriterion:updateOutput(input, target)
   return parent.updateOutput(self, input, self:_vertices(target))
end

function ClassSimplexCriterion:updateGradInput(input, target)
   return parent.updateGradInput(self, input, self:_vertices(target))
end

-- the input's dot products with every class vertex (a row per sample)
function ClassSimplexCriterion:getPredictions(input)
   if input:dim() == 1 then
      input = input:view(1, -1)
   end
   return torch.mm(input, self.simplex:t())
end

-- the class of the largest prediction of every sample (a 1D LongTensor)
function ClassSimplexCriterion:getTopPrediction(input)
   local predictions = self:getPredictions(input)
   local _, top = predictions:max(predictions:dim())
   return top:view(-1)
end

return ClassSimplexCriterion
