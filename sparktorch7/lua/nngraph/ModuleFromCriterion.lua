-- nngraph.ModuleFromCriterion: the name sparktorch7 first gave nn.ModuleFromCriterion
-- (Torch7's nngraph defines it as nn.ModuleFromCriterion, which criterions called on
-- nodes now make); kept so that code and files naming it still work.
local schema = require('nn.schema')
local ModuleFromCriterion, parent = torch.class('nngraph.ModuleFromCriterion', 'nn.ModuleFromCriterion')

schema.inherited(ModuleFromCriterion, "nn.ModuleFromCriterion's fields")

return ModuleFromCriterion
