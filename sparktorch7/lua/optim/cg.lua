-- optim.cg: Torch7's nonlinear conjugate gradients (Rasmussen's minimize.m):
-- Polack-Ribiere directions, each line search by cubic interpolation and
-- extrapolation under the Wolfe-Powell conditions (rho, sig), at most
-- maxEval evaluations in all. config: rho (0.01), sig (0.5), int (0.1), ext
-- (3), maxIter (20), ratio (100), maxEval (1.25 maxIter). State: the buffers
-- df0..df3, s, x0 (reused when given). Returns x, the f values (f before, then
-- after each successful line search) and the evaluations made.
local checks = require('optim.checks')

local function notFinite(v)
   return v ~= v or v == math.huge or v == -math.huge
end

-- the coefficients A, B of the cubic through points 2 and 3 (values f, slopes
-- d, point 3 at z3 from point 2) that the interpolations solve
local function cubic(f2, f3, d2, d3, z3)
   return 6 * (f2 - f3) / z3 + 3 * (d2 + d3), 3 * (f3 - f2) - z3 * (d3 + 2 * d2)
end

function optim.cg(opfunc, x, config, state)
   config = config or {}
   state = state or config
   local rho = config.rho or 0.01
   local sig = config.sig or 0.5
   local int = config.int or 0.1
   local ext = config.ext or 3.0
   local maxIter = config.maxIter or 20
   local ratio = config.ratio or 100
   local maxEval = config.maxEval or maxIter * 1.25
   local red = 1
   opfunc = checks.wrap('cg', opfunc, x)

   local i = 0
   local fx = {}
   local z1, z2, z3 = 0, 0, 0
   local d1, d2, d3 = 0, 0, 0
   local f1, f2, f3 = 0, 0, 0
   local df1 = (state.df1 or x.new()):resizeAs(x)
   local df2 = (state.df2 or x.new()):resizeAs(x)
   local df3 = (state.df3 or x.new()):resizeAs(x)
   local s = (state.s or x.new()):resizeAs(x)          -- the search direction
   local x0 = (state.x0 or x.new()):resizeAs(x)
   local df0 = (state.df0 or x.new()):resizeAs(x)
   local f0 = 0
   local tdf

   -- x moved by z along s, evaluated there: f2, df2 and the slope d2 along s
   local function moveBy(z)
      x:add(z, s)
      f2, tdf = opfunc(x)
      df2:copy(tdf)
      i = i + 1
      d2 = df2:dot(s)
   end

   f1, tdf = opfunc(x)
   fx[#fx + 1] = f1
   df1:copy(tdf)
   i = i + 1
   s:copy(df1):mul(-1)
   d1 = -s:dot(s)             -- the slope
   z1 = red / (1 - d1)        -- the first step

   while i < math.abs(maxEval) do
      x0:copy(x)
      f0 = f1
      df0:copy(df1)
      moveBy(z1)
      f3, d3, z3 = f1, d1, -z1     -- point 3 starts as point 1
      local m = math.min(maxIter, maxEval - i)
      local success = false
      local limit = -1
      while true do
         -- interpolate back while the point is too far or too steep
         while (f2 > f1 + z1 * rho * d1 or d2 > -sig * d1) and m > 0 do
            limit = z1
            if f2 > f1 then
               z2 = z3 - (0.5 * d3 * z3 * z3) / (d3 * z3 + f2 - f3)     -- quadratic fit
            else
               local A, B = cubic(f2, f3, d2, d3, z3)                  -- cubic fit
               z2 = (math.sqrt(B * B - A * d2 * z3 * z3) - B) / A
            end
            if notFinite(z2) then
               z2 = z3 / 2
            end
            z2 = math.max(math.min(z2, int * z3), (1 - int) * z3)
            z1 = z1 + z2
            moveBy(z2)
            m = m - 1
            z3 = z3 - z2
         end
         if f2 > f1 + z1 * rho * d1 or d2 > -sig * d1 then
            break                  -- failure
         elseif d2 > sig * d1 then
            success = true
            break
         elseif m == 0 then
            break
         end
         -- extrapolate by a cubic, within limits
         local A, B = cubic(f2, f3, d2, d3, z3)
         z2 = -d2 * z3 * z3 / (B + math.sqrt(B * B - A * d2 * z3 * z3))
         if notFinite(z2) or z2 < 0 then
            if limit < -0.5 then
               z2 = z1 * (ext - 1)
            else
               z2 = (limit - z1) / 2
            end
         elseif limit > -0.5 and z2 + z1 > limit then
            z2 = (limit - z1) / 2
         elseif limit < -0.5 and z2 + z1 > z1 * ext then
            z2 = z1 * (ext - 1)
         elseif z2 < -z3 * int then
            z2 = -z3 * int
         elseif limit > -0.5 and z2 < (limit - z1) * (1 - int) then
            z2 = (limit - z1) * (1 - int)
         end
         f3, d3, z3 = f2, d2, -z2
         z1 = z1 + z2
         moveBy(z2)
         m = m - 1
      end
      if success then
         f1 = f2
         fx[#fx + 1] = f1
         -- Polack-Ribiere direction
         local ss = (df2:dot(df2) - df2:dot(df1)) / df1:dot(df1)
         s:mul(ss):add(-1, df2)
         local swap = df1:clone()
         df1:copy(df2)
         df2:copy(swap)
         d2 = df1:dot(s)
         if d2 > 0 then
            -- not a descent direction: steepest descent
            s:copy(df1):mul(-1)
            d2 = -s:dot(s)
         end
         z1 = z1 * math.min(ratio, d1 / (d2 - 1e-320))
         d1 = d2
      else
         -- back to the best point, and stop: Torch7 means to retry once
         -- along -g, but its test of the failure flag is on a number (0 or
         -- 1, both true in Lua), so it always stops here; kept as it runs
         x:copy(x0)
         f1 = f0
         df1:copy(df0)
         break
      end
   end
   state.df0, state.df1, state.df2, state.df3 = df0, df1, df2, df3
   state.x0, state.s = x0, s
   return x, fx, i
end

return optim.cg
