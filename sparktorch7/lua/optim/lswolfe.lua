-- optim.lswolfe(opfunc, x, t, d, f, g, gtd, options): Torch7's line search
-- along d from x satisfying the strong Wolfe conditions (sufficient decrease
-- c1, curvature c2), for optim.lbfgs's lineSearch. A bracketing phase grows
-- the step (cubic extrapolation by optim.polyinterp) until an interval
-- holding an acceptable step is found, then a zoom phase shrinks it.
-- options: c1 (1e-4), c2 (0.9), tolX (1e-9), maxIter (20), verbose.
-- Returns f and g at the step taken, x (moved there, in place), the step t
-- and the number of function evaluations.
local checks = require('optim.checks')

function optim.lswolfe(opfunc, x, t, d, f, g, gtd, options)
   options = options or {}
   local c1 = options.c1 or 1e-4
   local c2 = options.c2 or 0.9
   local tolX = options.tolX or 1e-9
   local maxIter = options.maxIter or 20
   local isverbose = options.verbose or false
   local function verbose(...)
      if isverbose then print('<optim.lswolfe> ', ...) end
   end
   opfunc = checks.wrap('lswolfe', opfunc, x)
   local abs = math.abs

   local x0 = x:clone()
   x:add(t, d)
   local fNew, gNew = opfunc(x)
   local evals = 1
   local gtdNew = gNew:dot(d)

   -- bracketing: an interval [bracket[1], bracket[2]] holding an acceptable step
   local iter, tPrev, done = 0, 0, false
   local fPrev, gPrev, gtdPrev = f, g:clone(), gtd
   local bracket, bracketF, bracketG
   local function bracketOf(ts, fs, gs)
      bracket, bracketF = x.new(ts), x.new(fs)
      bracketG = x.new(#gs, gNew:size(1))
      for i = 1, #gs do bracketG[i] = gs[i] end
   end
   while iter < maxIter do
      if fNew > f + c1 * t * gtd or (iter > 1 and fNew >= fPrev) then
         bracketOf({tPrev, t}, {fPrev, fNew}, {gPrev, gNew})
         break
      elseif abs(gtdNew) <= -c2 * gtd then
         bracketOf({t}, {fNew}, {gNew})
         done = true
         break
      elseif gtdNew >= 0 then
         bracketOf({tPrev, t}, {fPrev, fNew}, {gPrev, gNew})
         break
      end
      -- extrapolate between 1.01 and 10 times the step
      local before = tPrev
      tPrev = t
      local minStep = t + 0.01 * (t - before)
      local maxStep = t * 10
      t = optim.polyinterp(x.new({{before, fPrev, gtdPrev}, {t, fNew, gtdNew}}), minStep, maxStep)
      fPrev, gPrev, gtdPrev = fNew, gNew:clone(), gtdNew
      x:copy(x0):add(t, d)
      fNew, gNew = opfunc(x)
      evals = evals + 1
      gtdNew = gNew:dot(d)
      iter = iter + 1
   end
   if iter == maxIter then
      bracketOf({0, t}, {f, fNew}, {g, gNew})
   end

   -- zoom: shrink the bracket until a step satisfies the conditions
   local insufficientProgress = false
   while not done and iter < maxIter do
      local fLo, at = bracketF:min(1)
      local lo = at[1]
      fLo = fLo[1]
      local hi = 3 - lo
      t = optim.polyinterp(x.new({{bracket[1], bracketF[1], bracketG[1]:dot(d)},
                                  {bracket[2], bracketF[2], bracketG[2]:dot(d)}}))
      local bmax, bmin = bracket:max(), bracket:min()
      if math.min(bmax - t, t - bmin) / (bmax - bmin) < 0.1 then
         -- too close to an end: move it in unless the last step also was
         if insufficientProgress or t >= bmax or t <= bmin then
            if abs(t - bmax) < abs(t - bmin) then
               t = bmax - 0.1 * (bmax - bmin)
            else
               t = bmin + 0.1 * (bmax - bmin)
            end
            insufficientProgress = false
         else
            insufficientProgress = true
         end
      else
         insufficientProgress = false
      end
      x:copy(x0):add(t, d)
      fNew, gNew = opfunc(x)
      evals = evals + 1
      gtdNew = gNew:dot(d)
      iter = iter + 1
      if fNew > f + c1 * t * gtd or fNew >= fLo then
         -- no sufficient decrease, or not below the low end: the new high end
         bracket[hi], bracketF[hi] = t, fNew
         bracketG[hi] = gNew
      else
         if abs(gtdNew) <= -c2 * gtd then
            done = true
         elseif gtdNew * (bracket[hi] - bracket[lo]) >= 0 then
            -- the old low end becomes the high end
            bracket[hi], bracketF[hi] = bracket[lo], bracketF[lo]
            bracketG[hi] = bracketG[lo]
         end
         bracket[lo], bracketF[lo] = t, fNew
         bracketG[lo] = gNew
      end
      if not done and abs((bracket[1] - bracket[2]) * gtdNew) < tolX then
         break
      end
   end
   if iter == maxIter then
      verbose('reached max number of iterations')
   end

   local _, at = bracketF:min(1)
   local lo = at[1]
   t = bracket[lo]
   fNew = bracketF[lo]
   gNew = bracketG[lo]
   x:copy(x0):add(t, d)
   return fNew, gNew, x, t, evals
end

return optim.lswolfe
