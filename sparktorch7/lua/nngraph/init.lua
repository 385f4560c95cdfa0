-- nngraph for sparktorch7: graphs of nn modules built by calling modules on
-- nodes (`local h = nn.Linear(3, 4)(x)`) and run by nn.gModule.
require('nn')
require('graph')

nngraph = nngraph or {}

require('nngraph.Node')
require('nngraph.gModule')
require('nngraph.JustElement')
require('nngraph.JustTable')
require('nngraph.ModuleFromCriterion')

local function isNode(v)
   return torch.typename(v) == 'nngraph.Node'
end

-- largest numeric key of a table (so that holes made by nil are seen)
function nngraph._maxN(t)
   local n = 0
   for k in pairs(t) do
      if type(k) == 'number' and k > n then n = k end
   end
   return n
end

function nngraph._notANode(value, what, i)
   return string.format('<nngraph> %s[%d] is a %s, not an nngraph.Node: '
                        .. 'did you pass a module instead of a node, or a misspelled variable?',
                        what, i, torch.type(value))
end

-- Names the nodes held in the caller's local variables after those variables
-- (node.data.annotations.name), as Torch7's nngraph.annotateNodes does.
function nngraph.annotateNodes()
   local i = 1
   while true do
      local name, value = debug.getlocal(2, i)
      if name == nil then break end
      if isNode(value) and value.data.annotations.name == nil then
         value:annotate({name = name})
      end
      i = i + 1
   end
end

-- Torch7 prints graphs of failing nodes in debug mode; here it only records the flag.
function nngraph.setDebug(on)
   nngraph._debug = on and true or false
end

-- Calling a module on nodes (or on nothing) makes a node of the graph; on
-- anything else it runs forward, as in Torch7 without nngraph.
local Module = torch.getmetatable('nn.Module')
local forward = Module.__call__

function Module:__call__(...)
   local nArgs = select('#', ...)
   local input = ...
   local building = nArgs == 0 or isNode(input)
   if type(input) == 'table' and not torch.typename(input) then
      if next(input) == nil then
         error('<nngraph> cannot pass an empty table of inputs; to make a node without '
               .. 'inputs, leave the parentheses empty', 2)
      end
      building = false
      for _, v in pairs(input) do
         if isNode(v) then building = true end
      end
   end
   if not building then
      return forward(self, ...)
   end
   if nArgs > 1 then
      error('<nngraph> use {input1, input2} to pass several inputs', 2)
   end
   if nArgs == 1 and input == nil then
      error(nngraph._notANode(input, 'inputs', 1), 2)
   end
   if isNode(input) then
      input = {input}
   end
   local node = nngraph.Node({module = self})
   if input then
      for i = 1, nngraph._maxN(input) do
         if not isNode(input[i]) then
            error(nngraph._notANode(input[i], 'inputs', i), 2)
         end
         node:add(input[i], true)
      end
   end
   return node
end

-- A criterion called on nodes becomes a node computing the loss.
local Criterion = torch.getmetatable('nn.Criterion')
local criterionForward = Criterion.__call__

function Criterion:__call__(input, target)
   local onNodes = isNode(input)
   if type(input) == 'table' and not torch.typename(input) then
      for _, v in pairs(input) do
         if isNode(v) then onNodes = true end
      end
   end
   if onNodes then
      return nn.ModuleFromCriterion(self)(input)
   end
   return criterionForward(self, input, target)
end

return nngraph
