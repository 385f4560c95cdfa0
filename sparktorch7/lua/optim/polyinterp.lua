-- optim.polyinterp(points, xminBound, xmaxBound): Torch7's minimiser of the
-- polynomial that interpolates N points (x, f(x), f'(x)) (an N x 3 tensor):
-- the polynomial of degree 2N - 1 through the values and slopes, and of its
-- critical points, the bounds and the points' x in [xminBound, xmaxBound]
-- (the points' range by default), the one where it is lowest. Two points
-- without bounds take the closed form of the cubic (what the Wolfe line
-- search's zoom uses). Returns the position (and, in the general case, the
-- polynomial's value there).

-- the roots of the polynomial with coefficients c (highest power first), as
-- rows (real, imaginary); nil when every coefficient is 0
local function roots(c)
   c = c:clone()
   c[torch.lt(torch.abs(c), 1e-12)] = 0
   local n = c:size(1)
   local lead = 1
   while lead <= n and c[lead] == 0 do lead = lead + 1 end
   if lead > n then
      return nil
   end
   local last = n
   while c[last] == 0 do last = last - 1 end
   local zeros = n - last                  -- trailing zero coefficients: roots at 0
   c = c:narrow(1, lead, last - lead + 1)
   local degree = c:size(1) - 1
   local found
   if degree == 1 then
      found = c.new({{-c[2] / c[1], 0}})
   elseif degree > 1 then
      -- the eigenvalues of the companion matrix
      local A = torch.diag(c.new(degree - 1):fill(1), -1)
      A[1] = -c:narrow(1, 2, degree) / c[1]
      found = torch.eig(A, 'N')
   end
   if zeros > 0 then
      local z = c.new(zeros, 2):zero()
      found = found and torch.cat(found, z, 1) or z
   end
   return found
end

-- the value at x of the polynomial with coefficients p (highest power first)
local function polyval(p, x)
   local v = 0
   for i = 1, p:size(1) do
      v = v * x + p[i]
   end
   return v
end

-- the closed form for two points and no bounds: the minimum of the cubic,
-- clamped to the points (their mean when it has none)
local function cubicOfTwo(points)
   local _, at = points:select(2, 1):min(1)
   local lo = at[1]
   local hi = 3 - lo
   local x1, f1, g1 = points[lo][1], points[lo][2], points[lo][3]
   local x2, f2, g2 = points[hi][1], points[hi][2], points[hi][3]
   local d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
   local d2 = math.sqrt(d1 * d1 - g1 * g2)
   if d2 == d2 then
      local t = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
      return math.min(math.max(t, x1), x2)
   end
   return (x1 + x2) / 2
end

function optim.polyinterp(points, xminBound, xmaxBound)
   if not torch.isTensor(points) or points:dim() ~= 2 or points:size(2) ~= 3 then
      error('<optim.polyinterp> points must be an N x 3 tensor of (x, f, g) rows', 2)
   end
   local nPoints = points:size(1)
   local order = nPoints * 2 - 1
   if nPoints == 2 and not xminBound and not xmaxBound then
      return cubicOfTwo(points)
   end
   local xs = points:select(2, 1)
   xminBound = xminBound or xs:min()
   xmaxBound = xmaxBound or xs:max()

   -- the coefficients (highest power first) fitting the values and slopes
   local A = points.new(nPoints * 2, order + 1):zero()
   local b = points.new(nPoints * 2, 1):zero()
   for i = 1, nPoints do
      local x = points[i][1]
      for j = order, 0, -1 do
         A[i][order - j + 1] = x ^ j
      end
      b[i][1] = points[i][2]
      for j = 1, order do
         A[nPoints + i][j] = (order - j + 1) * x ^ (order - j)
      end
      b[nPoints + i][1] = points[i][3]
   end
   local params = torch.gels(b, A):narrow(1, 1, nPoints * 2):select(2, 1):clone()
   params[torch.le(torch.abs(params), 1e-12)] = 0

   -- the derivative's coefficients
   local dParams = points.new(order):zero()
   for i = 1, order do
      dParams[i] = params[i] * (order - i + 1)
   end
   local finite = true
   for i = 1, order do
      local v = dParams[i]
      if v ~= v or v == math.huge then finite = false end
   end

   -- candidates: the bounds, the points and the real critical points
   local candidates = {xminBound, xmaxBound}
   for i = 1, nPoints do
      candidates[#candidates + 1] = xs[i]
   end
   if finite then
      local cp = roots(dParams)
      if cp then
         for i = 1, cp:size(1) do
            if cp[i][2] == 0 then
               candidates[#candidates + 1] = cp[i][1]
            end
         end
      end
   end
   local fmin = math.huge
   local minPos = (xminBound + xmaxBound) / 2     -- bisection when no candidate fits
   for _, x in ipairs(candidates) do
      if x >= xminBound and x <= xmaxBound then
         local fx = polyval(params, x)
         if fx < fmin then
            minPos, fmin = x, fx
         end
      end
   end
   return minPos, fmin
end

return optim.polyinterp
