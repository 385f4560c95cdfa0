-- nn.Dictionary: dpnn's old (2015) lookup table of embeddings, an
-- nn.LookupTable as far as the forward pass goes.
local schema = require('nn.schema')
local Dictionary, parent = torch.class('nn.Dictionary', 'nn.LookupTable')

schema.inherited(Dictionary, "nn.LookupTable's fields")

function Dictionary:__init(dictSize, embeddingSize, accUpdate)
   parent.__init(self, dictSize, embeddingSize)
   if accUpdate then
      self:accUpdateOnly()
   end
end

return Dictionary
