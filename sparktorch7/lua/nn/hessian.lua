-- nn.hessian: Torch7's estimate of the Hessian's diagonal (LeCun's "diag-Hessian" pass), an
-- experimental extension switched on by nn.hessian.enable(): it adds updateDiagHessianInput,
-- accDiagHessianParameters and initDiagHessianParameters to the modules that have them in
-- Torch7, and makes parameters()/getParameters() return the diagHessian tensors third.
--
-- The pass is the backward pass run on squares: for a module linear in its input and
-- weights, d2E/dx2 = (W^2)^T d2E/dy2 and d2E/dW2 = d2E/dy2 (x^2)^T, i.e. updateGradInput
-- with squared weights and accGradParameters on the squared input.
local hessian = {}
nn.hessian = hessian

-- swaps module[a[i]] and module[b[i]] for each i
local function swapFields(module, a, b)
   for i = 1, #a do
      module[a[i]], module[b[i]] = module[b[i]], module[a[i]]
   end
end

-- updateGradInput with each weight w[i] replaced by its square (kept in wsq[i]), into
-- module.diagHessianInput
function hessian.updateDiagHessianInput(module, input, diagHessianOutput, w, wsq)
   if #w ~= #wsq then
      error(string.format('<%s> updateDiagHessianInput: %d weights but %d squared-weight fields',
                          torch.type(module), #w, #wsq), 2)
   end
   module.diagHessianInput = module.diagHessianInput or input.new()
   module.diagHessianInput:resizeAs(input):zero()
   for i = 1, #w do
      local weight = module[w[i]]
      local sq = module[wsq[i]] or weight.new()
      module[wsq[i]] = torch.cmul(sq:resizeAs(weight), weight, weight)
   end
   local gradInput = module.gradInput
   module.gradInput = module.diagHessianInput
   swapFields(module, w, wsq)
   local ok, err = pcall(module.updateGradInput, module, input, diagHessianOutput)
   swapFields(module, w, wsq)
   -- updateGradInput may have replaced the tensor it was given
   module.diagHessianInput, module.gradInput = module.gradInput, gradInput
   if not ok then error(err, 0) end
end

-- accGradParameters on the squared input with each gradient gw[i] replaced by its
-- diagHessian hw[i] (created on first use), the module's output left as it was
function hessian.accDiagHessianParameters(module, input, diagHessianOutput, gw, hw)
   if #gw ~= #hw then
      error(string.format('<%s> accDiagHessianParameters: %d gradients but %d hessians',
                          torch.type(module), #gw, #hw), 2)
   end
   module.inputSq = module.inputSq or input.new()
   torch.cmul(module.inputSq:resizeAs(input), input, input)
   for i = 1, #gw do
      local g = module[gw[i]]
      if g ~= nil and module[hw[i]] == nil then module[hw[i]] = g.new():resizeAs(g):zero() end
   end
   local output = module.output
   module.output = output.new():resizeAs(output)
   swapFields(module, gw, hw)
   local ok, err = pcall(function()
      module:forward(module.inputSq)
      module:accGradParameters(module.inputSq, diagHessianOutput, 1)
   end)
   swapFields(module, gw, hw)
   module.output = output
   if not ok then error(err, 0) end
end

-- a pointwise module: its derivative squared times diagHessianOutput
function hessian.updateDiagHessianInputPointWise(module, input, diagHessianOutput)
   local ones = diagHessianOutput.new():resizeAs(diagHessianOutput):fill(1)
   hessian.updateDiagHessianInput(module, input, ones, {}, {})
   module.diagHessianInput:cmul(module.diagHessianInput):cmul(diagHessianOutput)
end

function hessian.initDiagHessianParameters(module, gw, hw)
   module.diagHessianInput = module.diagHessianInput or module.gradInput.new()
   for i = 1, #gw do
      local g = module[gw[i]]
      if g ~= nil then module[hw[i]] = module[hw[i]] or g.new():resizeAs(g):zero() end
   end
end

local GRADS, HESSIANS = {'gradWeight', 'gradBias'}, {'diagHessianWeight', 'diagHessianBias'}

-- the modules linear in input and weights: Torch7's list (those sparktorch7 ships)
local function linearInWeights(className, squared)
   local cls = nn[className]
   if cls == nil then return end
   local wsq = {}
   for i, name in ipairs(squared) do wsq[i] = name .. 'Sq' end
   function cls:updateDiagHessianInput(input, diagHessianOutput)
      hessian.updateDiagHessianInput(self, input, diagHessianOutput, squared, wsq)
      return self.diagHessianInput
   end
   function cls:accDiagHessianParameters(input, diagHessianOutput)
      hessian.accDiagHessianParameters(self, input, diagHessianOutput, GRADS, HESSIANS)
   end
   function cls:initDiagHessianParameters()
      hessian.initDiagHessianParameters(self, GRADS, HESSIANS)
   end
end

local function pointwise(className)
   local cls = nn[className]
   if cls == nil then return end
   function cls:updateDiagHessianInput(input, diagHessianOutput)
      hessian.updateDiagHessianInputPointWise(self, input, diagHessianOutput)
      return self.diagHessianInput
   end
end

local enabled = false

function hessian.enable()
   if enabled then return end
   enabled = true
   local Module, Container, Criterion = nn.Module, nn.Container, nn.Criterion

   function Module:updateDiagHessianInput(input, diagHessianOutput)
      error(string.format('<%s> updateDiagHessianInput is not defined for this module',
                          torch.type(self)), 2)
   end
   function Module:accDiagHessianParameters(input, diagHessianOutput) end
   function Module:initDiagHessianParameters() end

   -- containers chain the pass through their children as backward does
   function nn.Sequential:initDiagHessianParameters()
      for _, m in ipairs(self.modules) do m:initDiagHessianParameters() end
   end
   function nn.Sequential:updateDiagHessianInput(input, diagHessianOutput)
      local d = diagHessianOutput
      for i = #self.modules, 2, -1 do
         d = self.modules[i]:updateDiagHessianInput(self.modules[i - 1].output, d)
      end
      self.diagHessianInput = self.modules[1]:updateDiagHessianInput(input, d)
      return self.diagHessianInput
   end
   function nn.Sequential:accDiagHessianParameters(input, diagHessianOutput)
      local d = diagHessianOutput
      for i = #self.modules, 2, -1 do
         local m = self.modules[i]
         m:accDiagHessianParameters(self.modules[i - 1].output, d)
         d = m.diagHessianInput
      end
      self.modules[1]:accDiagHessianParameters(input, d)
   end

   function Criterion:updateDiagHessianInput(input, target)
      error(string.format('<%s> updateDiagHessianInput is not defined for this criterion',
                          torch.type(self)), 2)
   end
   function nn.MSECriterion:updateDiagHessianInput(input, target)
      self.diagHessianInput = self.diagHessianInput or input.new()
      local v = self.sizeAverage and 2 / input:nElement() or 2
      self.diagHessianInput:resizeAs(input):fill(v)
      return self.diagHessianInput
   end
   if nn.WeightedMSECriterion then
      nn.WeightedMSECriterion.updateDiagHessianInput = nn.MSECriterion.updateDiagHessianInput
   end
   if nn.L1Cost then
      function nn.L1Cost:updateDiagHessianInput(input)
         self.diagHessianInput = self.diagHessianInput or input.new()
         self.diagHessianInput:resizeAs(input):fill(1)
         self.diagHessianInput[torch.eq(input, 0)] = 0
         return self.diagHessianInput
      end
   end

   linearInWeights('Linear', {'weight'})
   linearInWeights('SpatialConvolution', {'weight'})
   linearInWeights('SpatialConvolutionLocal', {'weight'})
   linearInWeights('SpatialFullConvolution', {'weight'})
   linearInWeights('SpatialConvolutionMap', {'weight', 'bias'})
   linearInWeights('SpatialFullConvolutionMap', {'weight'})
   pointwise('Tanh')
   pointwise('Square')
   pointwise('Sqrt')

   function nn.TanhShrink:updateDiagHessianInput(input, diagHessianOutput)
      self.tanh = self.tanh or nn.Tanh()
      self.tanh:forward(input)
      hessian.updateDiagHessianInputPointWise(self.tanh, input, diagHessianOutput)
      self.diagHessianInput = self.diagHessianInput or input.new()
      torch.add(self.diagHessianInput:resizeAs(input), self.tanh.diagHessianInput, diagHessianOutput)
      return self.diagHessianInput
   end

   function nn.Reshape:updateDiagHessianInput(input, diagHessianOutput)
      self.diagHessianInput = self.diagHessianInput or input.new()
      self.diagHessianInput:set(diagHessianOutput:contiguous()):resizeAs(input)
      return self.diagHessianInput
   end

   -- parameters() and getParameters() give the diagHessian tensors third
   local plainParameters = Module.parameters
   function Module:parameters()
      local w, gw = plainParameters(self)
      if w == nil then return nil end
      local h = {}
      if self.weight and self.bias then
         h = {self.diagHessianWeight, self.diagHessianBias}
      elseif self.weight then
         h = {self.diagHessianWeight}
      elseif self.bias then
         h = {self.diagHessianBias}
      end
      return w, gw, h
   end
   function Container:parameters()
      local w, gw, h = {}, {}, {}
      for _, module in ipairs(self.modules) do
         local mw, mgw, mh = module:parameters()
         if mw then
            nn.utils.flattenInto(w, mw)
            nn.utils.flattenInto(gw, mgw or {})
            nn.utils.flattenInto(h, mh or {})
         end
      end
      return w, gw, h
   end
   local plainGetParameters = Module.getParameters
   function Module:getParameters()
      local p, g = plainGetParameters(self)
      local _, _, h = self:parameters()
      if h and h[1] then
         return p, g, Module.flatten(h)
      end
      return p, g
   end
end

return hessian
