-- nn.tables: connection tables for nn.SpatialConvolutionMap (rows {input, output},
-- 1-based), as Torch7 builds them.
nn.tables = nn.tables or {}
local tables = nn.tables

-- every input plane to every output plane
function tables.full(nin, nout)
   local ft = torch.Tensor(nin * nout, 2)
   local p = 1
   for j = 1, nout do
      for i = 1, nin do
         ft[p][1] = i
         ft[p][2] = j
         p = p + 1
      end
   end
   return ft
end

-- plane i to plane i
function tables.oneToOne(nfeat)
   local ft = torch.Tensor(nfeat, 2)
   for i = 1, nfeat do
      ft[i][1] = i
      ft[i][2] = i
   end
   return ft
end

-- each output plane fed by nto input planes drawn at random (balanced use of inputs)
function tables.random(nin, nout, nto)
   local nker = nto * nout
   local tbl = torch.Tensor(nker, 2)
   local fi = torch.randperm(nin)
   local frcntr = 1
   local nfi = math.floor(nin / nto)
   local totbl = tbl:select(2, 2)
   local frtbl = tbl:select(2, 1)
   local fitbl = fi:narrow(1, 1, nfi * nto)
   local ufrtbl = frtbl:unfold(1, nto, nto)
   local utotbl = totbl:unfold(1, nto, nto)
   local ufitbl = fitbl:unfold(1, nto, nto)
   for i = 1, nout do
      utotbl[i]:fill(i)
   end
   for i = 1, nout do
      ufrtbl[i]:copy(ufitbl[frcntr])
      frcntr = frcntr + 1
      if frcntr - 1 == nfi then
         fi = torch.randperm(nin)
         fitbl = fi:narrow(1, 1, nfi * nto)
         ufitbl = fitbl:unfold(1, nto, nto)
         frcntr = 1
      end
   end
   return tbl
end

return tables
