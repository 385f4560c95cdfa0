-- torch.AliasMultinomial(probs): torchx's sampler of a discrete distribution by the alias
-- method: setup builds, for K outcomes, the probabilities q (of keeping a uniformly drawn
-- outcome) and the aliases J (taken otherwise), as torchx builds them; draw() gives one
-- outcome, batchdraw(output) fills a LongTensor with outcomes, from torch's generator.
local AM = torch.class('torch.AliasMultinomial')

local function check(probs)
   if not torch.isTensor(probs) or probs:dim() ~= 1 or probs:nElement() == 0 then
      error('<torch.AliasMultinomial> expects the probabilities as a non-empty 1D tensor, got '
            .. (torch.isTensor(probs) and probs:dim() .. 'D' or torch.type(probs)), 3)
   end
end

function AM:__init(probs)
   check(probs)
   self.J, self.q = self:setup(probs)
end

function AM:setup(probs)
   check(probs)
   local K = probs:nElement()
   local q = probs.new(K):zero()
   local J = torch.LongTensor(K):zero()
   local smaller, larger = {}, {}
   for k = 1, K do
      q[k] = K * probs[k]
      if q[k] < 1 then smaller[#smaller + 1] = k else larger[#larger + 1] = k end
   end
   -- each small outcome gets the rest of its column from a large one
   while #smaller > 0 and #larger > 0 do
      local small = table.remove(smaller)
      local large = table.remove(larger)
      J[small] = large
      q[large] = q[large] - (1.0 - q[small])
      if q[large] < 1.0 then smaller[#smaller + 1] = large else larger[#larger + 1] = large end
   end
   if q:min() < 0 then
      error('<torch.AliasMultinomial> the probabilities must not be negative', 2)
   end
   if q:max() > 1 then q:div(q:max()) end
   -- an outcome left without an alias keeps itself
   for k = 1, K do
      if J[k] <= 0 then q[k] = 1 end
   end
   return J, q
end

function AM:draw()
   local K = self.J:nElement()
   local k = torch.random(1, K)
   if torch.uniform() < self.q[k] then return k end
   return math.floor(self.J[k])
end

function AM:batchdraw(output)
   if torch.type(output) ~= 'torch.LongTensor' or output:nElement() == 0 then
      error('<torch.AliasMultinomial> batchdraw expects a non-empty torch.LongTensor to fill, got '
            .. torch.type(output), 2)
   end
   local J = self.J:long()         -- a module's :type() may have converted it
   local K = J:nElement()
   local kk = torch.LongTensor():resize(output:nElement()):random(1, K)
   local qk = self.q:index(1, kk)
   local keep = torch.rand(qk:nElement()):typeAs(qk):lt(qk)
   local alias = J:index(1, kk)
   alias[keep] = kk[keep]
   output:copy(alias:viewAs(output))
   return output
end

return AM
