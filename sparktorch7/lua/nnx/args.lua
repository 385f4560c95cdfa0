-- nnx constructors take their options positionally or as one table of named
-- fields (xlua.unpack_class): args.unpack(self, {...}, 'nn.X', spec) sets
-- self[name] for each {name, default, required} of spec. Returns its table.
local args = {}

function args.unpack(self, given, classname, spec)
   local named = #given == 1 and type(given[1]) == 'table' and not torch.typename(given[1])
   for i, s in ipairs(spec) do
      local name, default, required = s[1], s[2], s[3]
      local v
      if named then v = given[1][name] else v = given[i] end
      if v == nil then v = default end
      if v == nil and required then
         local names = {}
         for j, t in ipairs(spec) do names[j] = t[1] end
         error(string.format('<%s> missing argument %s (arguments: %s)', classname, name,
                             table.concat(names, ', ')), 3)
      end
      self[name] = v
   end
end

-- The (A, H, W, B) view nnx's C kernels work on: A the dimensions before yDim, B those after xDim.
function args.planes4(input, yDim, xDim)
   local size = input:size()
   local a, b = 1, 1
   for i = 1, yDim - 1 do a = a * size[i] end
   for i = xDim + 1, input:dim() do b = b * size[i] end
   local x = input:contiguous():view(a, size[yDim], size[xDim], b)
   return x, a, b
end

-- The module's gradInput shaped like input, with gradOutput checked against the output of the
-- last forward; returns the (A, H, W, B) views of both for the adjoint kernels.
function args.gradPlanes(self, input, gradOutput, yDim, xDim, classname)
   if not (torch.isTensor(gradOutput) and torch.isTensor(self.output) and gradOutput:isSameSizeAs(self.output)) then
      error(string.format('<%s> gradOutput of size %s expected (the output of the last forward), got %s',
                          classname, torch.isTensor(self.output) and table.concat(self.output:size():totable(), 'x') or '?',
                          torch.isTensor(gradOutput) and table.concat(gradOutput:size():totable(), 'x') or torch.type(gradOutput)), 3)
   end
   local kernels = require('nn.kernels')
   local gi = kernels.output(self, input, nil, 'gradInput')
   local _, a, b = args.planes4(input, yDim, xDim)
   local gin = gi:view(a, input:size(yDim), input:size(xDim), b)
   local gout = args.planes4(gradOutput, yDim, xDim)
   return gin, gout
end

-- module:type(typename) converting every field but `skip` (PushTable's pulls, PullTable's
-- push: each is converted where it sits in the model)
function args.typeExcept(skip)
   return function(self, typename, tensorCache)
      tensorCache = tensorCache or {}
      for key, param in pairs(self) do
         if key ~= skip then self[key] = nn.utils.recursiveType(param, typename, tensorCache) end
      end
      return self
   end
end

return args
