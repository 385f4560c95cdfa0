-- dpnn's training helpers of nn.Module (Element-Research dpnn's Module.lua), installed on
-- nn.Module (and nn.LookupTable) when dpnn is required; the rnn/dpnn example scripts call
-- them between backward and updateParameters:
--   module:maxParamNorm(maxOutNorm [, maxInNorm])  renorm the rows (and columns) of 2D+ params
--   module:gradParamClip(cutoffNorm [, moduleLocal]) rescale the gradients to that L2 norm
--   module:updateGradParameters(momFactor [, momDamp, momNesterov])  momentum on the gradients
--   module:momentumGradParameters()  the momentum buffers; module:checkParameters() (NaN check)
-- Containers recurse into their modules; a module's own maxOutNorm, cutoffNorm, momFactor,
-- momDamp, momNesterov, moduleLocal fields override the arguments, as in dpnn.
local training = {}

local Module = nn.Module

local function isEmpty(t)
   return t == nil or next(t) == nil
end

function Module:maxParamNorm(maxOutNorm, maxInNorm)
   maxOutNorm = self.maxOutNorm or maxOutNorm
   maxInNorm = self.maxInNorm or maxInNorm
   if not (maxOutNorm or maxInNorm) then return end
   if self.modules then
      for _, module in ipairs(self.modules) do module:maxParamNorm(maxOutNorm, maxInNorm) end
      return
   end
   local params = self:parameters()
   if not params then return end
   for _, param in pairs(params) do
      if param:dim() > 1 then
         if maxOutNorm and maxOutNorm > 0 then param:renorm(2, 1, maxOutNorm) end
         if maxInNorm and maxInNorm > 0 then param:renorm(2, param:dim(), maxInNorm) end
      end
   end
end

-- a LookupTable's rows are its inputs' embeddings: the roles of the two norms swap
function nn.LookupTable:maxParamNorm(maxOutNorm, maxInNorm)
   maxOutNorm = self.maxOutNorm or maxOutNorm or self.maxInNorm or maxInNorm
   if not (maxOutNorm or maxInNorm) then return end
   if maxOutNorm and maxOutNorm > 0 then self.weight:renorm(2, 2, maxOutNorm) end
   if maxInNorm and maxInNorm > 0 then self.weight:renorm(2, 1, maxInNorm) end
end

-- returns the L2 norm of the gradients before clipping
function Module:gradParamClip(cutoffNorm, moduleLocal)
   cutoffNorm = self.cutoffNorm or cutoffNorm
   if type(cutoffNorm) ~= 'number' then
      error('<' .. torch.type(self) .. ':gradParamClip> expects the cutoff norm as a number, got '
            .. type(cutoffNorm), 2)
   end
   if cutoffNorm <= 0 then return end
   if self.moduleLocal ~= nil then moduleLocal = self.moduleLocal end
   local norm = 0
   if moduleLocal and self.modules then
      for _, module in ipairs(self.modules) do
         norm = norm + (module:gradParamClip(cutoffNorm, moduleLocal) or 0) ^ 2
      end
      return math.sqrt(norm)
   end
   local params, gradParams = self:parameters()
   if not (params and gradParams) then return norm end
   for _, g in pairs(gradParams) do norm = norm + g:norm() ^ 2 end
   norm = math.sqrt(norm)
   if norm > cutoffNorm then
      for _, g in pairs(gradParams) do g:mul(cutoffNorm / norm) end
   end
   return norm
end

function Module:momentumGradParameters()
   if isEmpty(self.momGradParams) then
      local _, gradParams = self:parameters()
      if isEmpty(gradParams) then return end
      self.momGradParams = {}
      for i, g in pairs(gradParams) do self.momGradParams[i] = g:clone() end
   end
   return self.momGradParams
end

function Module:updateGradParameters(momFactor, momDamp, momNesterov)
   momFactor = self.momFactor or momFactor
   if type(momFactor) ~= 'number' then
      error('<' .. torch.type(self) .. ':updateGradParameters> expects the momentum factor as a number, got '
            .. type(momFactor), 2)
   end
   if momFactor <= 0 then return end
   momDamp = self.momDamp or momDamp or momFactor
   if self.momNesterov ~= nil then momNesterov = self.momNesterov end
   if self.modules then
      for _, module in ipairs(self.modules) do module:updateGradParameters(momFactor, momDamp, momNesterov) end
      return
   end
   local params, gradParams = self:parameters()
   if isEmpty(params) then return end
   local mom = self:momentumGradParameters()
   for i, g in pairs(gradParams) do
      mom[i]:mul(momFactor):add(1 - momDamp, g)
   end
   for i, g in pairs(gradParams) do
      if momNesterov then g:add(momFactor, mom[i]) else g:copy(mom[i]) end
   end
end

function Module:checkParameters()
   for k, param in pairs(self:parameters() or {}) do
      local s = param:sum()
      if s ~= s then
         error(string.format('<%s:checkParameters> NaN Error for param at index %s', torch.type(self), tostring(k)), 2)
      end
   end
end

return training
