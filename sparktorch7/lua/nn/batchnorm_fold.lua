-- BatchNormalization folded into the convolution before it, for nn.Sequential in
-- evaluation mode: conv(x, W) then (y - mean) / sqrt(var + eps) * gamma + beta is
-- conv(x, W * s) + (b - mean) * s + beta with s = gamma / sqrt(var + eps), one kernel
-- call and one pass over the activations fewer.
--
-- The modules' fields stay as they are: the folded weight and bias live in a cache
-- keyed (weakly) by the convolution, with copies of every tensor they were made from;
-- each forward compares those bytes with the current fields (and eps) and folds again
-- when anything changed, so in-place edits of weights or running statistics are seen.
-- The convolution's `output` then holds the normalised result and the batch normalization's
-- `output` is the same tensor (as after an in-place ReLU): code that reads a convolution's
-- output (feature extraction) would see other values than in Torch7, so folding is off
-- unless asked for: require('nn.batchnorm_fold').enabled = true (measured gain ~5%).
local kernels = require 'nn.kernels'

-- minRatio: fold only when the output has at least minRatio x the weight's elements
local fold = { enabled = false, minRatio = 1 }

local CONV = {
   ['nn.SpatialConvolution'] = true, ['nn.SpatialConvolutionMM'] = true,
   ['cudnn.SpatialConvolution'] = true,
}
local BN = { ['nn.SpatialBatchNormalization'] = true, ['cudnn.SpatialBatchNormalization'] = true }

local cache = setmetatable({}, { __mode = 'k' })

-- Can bn (the module after conv) be folded into conv for this input?
function fold.foldable(conv, bn, input)
   if not (fold.enabled and CONV[torch.type(conv)] and BN[torch.type(bn)]) then
      return false
   end
   local ty = torch.type(input)
   if not (torch.isTensor(input) and (input:dim() == 3 or input:dim() == 4)
           and torch.isTensor(conv.weight)) then
      return false
   end
   -- worth it when the pass over the output that folding saves outweighs the check of
   -- the weights' bytes (measured: a loss at batch 1 in ResNet-18's deep layers)
   local d = input:dim()
   local n = d == 4 and input:size(1) or 1
   local outElems = n * conv.nOutputPlane * (input:size(d - 1) / (conv.dH or 1))
      * (input:size(d) / (conv.dW or 1))
   if outElems < fold.minRatio * conv.weight:nElement() then
      return false
   end
   return bn.train ~= true and kernels.available
      and torch.type(conv.weight) == ty and (conv.bias == nil or torch.type(conv.bias) == ty)
      and torch.isTensor(bn.running_mean) and torch.isTensor(bn.running_var)
      and bn.running_mean:nElement() == conv.nOutputPlane
      and bn.running_var:nElement() == conv.nOutputPlane
      and (bn.weight == nil or bn.weight:nElement() == conv.nOutputPlane)
      and (bn.bias == nil or bn.bias:nElement() == conv.nOutputPlane)
end

-- A batch normalization whose output is its input (left shared by an earlier folded
-- forward) gets a tensor of its own before it runs by itself.
function fold.unshare(module, input)
   if BN[torch.type(module)] and rawequal(module.output, input) then
      module.output = input.new()
   end
end

local function sources(conv, bn)
   return { conv.weight, conv.bias or false, bn.weight or false, bn.bias or false,
            bn.running_mean, bn.running_var }
end

local function folded(conv, bn)
   local src = sources(conv, bn)
   local e = cache[conv]
   if e and e.bn == bn and e.eps == bn.eps then
      local args = {}
      for k = 1, #src do
         args[2 * k - 1], args[2 * k] = src[k], e.refs[k]
      end
      if kernels.same_bytes(unpack(args, 1, 2 * #src)) then
         return e
      end
   end
   e = { bn = bn, eps = bn.eps, refs = {} }
   for k = 1, #src do
      e.refs[k] = src[k] and src[k]:clone() or false
   end
   e.weight = conv.weight.new():resizeAs(conv.weight)
   e.bias = conv.weight.new(conv.nOutputPlane)
   kernels.bn_fold(e.weight, e.bias, conv.weight, conv.bias, bn.weight, bn.bias,
                   bn.running_mean, bn.running_var, bn.eps or 1e-5)
   cache[conv] = e
   return e
end

-- conv then bn on input as one folded convolution; returns the output. (Called as
-- fold:forward(...) through Container.rethrowErrors.)
function fold.forward(_, conv, bn, input)
   if conv.backCompatibility then conv:backCompatibility() end
   local e = folded(conv, bn)
   local w, b = conv.weight, conv.bias
   conv.weight, conv.bias = e.weight, e.bias
   local ok, out = pcall(conv.updateOutput, conv, input)
   conv.weight, conv.bias = w, b
   if not ok then error(out, 0) end
   bn.output = out
   return out
end

return fold
