-- optim.lbfgs: Torch7's limited-memory BFGS (after minFunc). Each iteration
-- steps along -H g, H the inverse Hessian approximated from the last
-- nCorrection (step, gradient change) pairs, by a fixed step learningRate
-- (the first iteration's scaled by min(1, 1 / |g|_1)) or by
-- config.lineSearch (e.g. optim.lswolfe, with lineSearchOptions).
-- config: maxIter (20), maxEval (1.25 maxIter), tolFun (1e-5), tolX (1e-9),
-- nCorrection (100), lineSearch, lineSearchOptions, learningRate (1), verbose.
-- State (kept between calls): funcEval, nIter, d, t, old_dirs, old_stps,
-- Hdiag, g_old, f_old and buffers. Returns x, the f values (f before the
-- first step, then after each) and the evaluations this call made.
local checks = require('optim.checks')

function optim.lbfgs(opfunc, x, config, state)
   config = config or {}
   state = state or config
   local maxIter = tonumber(config.maxIter) or 20
   local maxEval = tonumber(config.maxEval) or maxIter * 1.25
   local tolFun = config.tolFun or 1e-5
   local tolX = config.tolX or 1e-9
   local nCorrection = config.nCorrection or 100
   local lineSearch = config.lineSearch
   local lineSearchOpts = config.lineSearchOptions
   local learningRate = config.learningRate or 1
   local isverbose = config.verbose or false
   local function verbose(...)
      if isverbose then print('<optim.lbfgs> ', ...) end
   end
   if lineSearch ~= nil and type(lineSearch) ~= 'function' then
      error(string.format('<optim.lbfgs> config.lineSearch must be a function (e.g. optim.lswolfe), not a %s',
                          type(lineSearch)), 2)
   end
   opfunc = checks.wrap('lbfgs', opfunc, x)

   state.funcEval = state.funcEval or 0
   state.nIter = state.nIter or 0

   local f, g = opfunc(x)
   local fHist = {f}
   local evals = 1
   state.funcEval = state.funcEval + 1
   local p = g:nElement()

   -- optimal already?
   state.tmp1 = state.tmp1 or g.new(g:size()):zero()
   local tmp1 = state.tmp1
   tmp1:copy(g):abs()
   if tmp1:sum() <= tolFun then
      verbose('optimality condition below tolFun')
      return x, fHist
   end

   -- a pool of reusable vectors for the (step, gradient change) pairs
   if not state.dir_bufs then
      state.dir_bufs, state.stp_bufs = {}, {}
      for i = 1, nCorrection + 1 do
         state.dir_bufs[i] = g.new(p)
         state.stp_bufs[i] = g.new(p)
      end
   end

   local d, t = state.d, state.t
   local oldDirs, oldStps = state.old_dirs, state.old_stps
   local Hdiag = state.Hdiag
   local gOld, fOld = state.g_old, state.f_old

   local nIter = 0
   while nIter < maxIter do
      nIter = nIter + 1
      state.nIter = state.nIter + 1

      -- the descent direction
      if state.nIter == 1 then
         d = g:clone():mul(-1)
         oldDirs, oldStps = {}, {}
         Hdiag = 1
      else
         local y = table.remove(state.dir_bufs)
         local s = table.remove(state.stp_bufs)
         y:add(g, -1, gOld)          -- the gradient's change
         s:mul(d, t)                 -- the step taken
         local ys = y:dot(s)
         if ys > 1e-10 then
            if #oldDirs == nCorrection then
               -- forget the oldest pair
               table.insert(state.dir_bufs, table.remove(oldDirs, 1))
               table.insert(state.stp_bufs, table.remove(oldStps, 1))
            end
            table.insert(oldDirs, s)
            table.insert(oldStps, y)
            Hdiag = ys / y:dot(y)
         else
            table.insert(state.dir_bufs, y)
            table.insert(state.stp_bufs, s)
         end

         -- two-loop recursion: d = -H g
         local k = #oldDirs
         state.ro = state.ro or torch.Tensor(nCorrection)
         state.al = state.al or torch.zeros(nCorrection)
         local ro, al = state.ro, state.al
         for i = 1, k do
            ro[i] = 1 / oldStps[i]:dot(oldDirs[i])
         end
         local q = tmp1
         q:mul(g, -1)
         for i = k, 1, -1 do
            al[i] = oldDirs[i]:dot(q) * ro[i]
            q:add(-al[i], oldStps[i])
         end
         d:mul(q, Hdiag)
         for i = 1, k do
            local be = oldStps[i]:dot(d) * ro[i]
            d:add(al[i] - be, oldDirs[i])
         end
      end
      gOld = gOld or g:clone()
      gOld:copy(g)
      fOld = f

      -- the directional derivative: stop when no progress can be made along d
      local gtd = g:dot(d)
      if gtd > -tolX then
         break
      end

      -- the step
      if state.nIter == 1 then
         tmp1:copy(g):abs()
         t = math.min(1, 1 / tmp1:sum()) * learningRate
      else
         t = learningRate
      end
      local lsEvals = 0
      if lineSearch then
         f, g, x, t, lsEvals = lineSearch(opfunc, x, t, d, f, g, gtd, lineSearchOpts)
         table.insert(fHist, f)
      else
         x:add(t, d)
         if nIter ~= maxIter then
            -- (the last iteration does not evaluate again: in a stochastic
            -- setting the next call does)
            f, g = opfunc(x)
            lsEvals = 1
            table.insert(fHist, f)
         end
      end
      evals = evals + lsEvals
      state.funcEval = state.funcEval + lsEvals

      -- stop?
      if nIter == maxIter then
         verbose('reached max number of iterations')
         break
      end
      if evals >= maxEval then
         verbose('max nb of function evals')
         break
      end
      tmp1:copy(g):abs()
      if tmp1:sum() <= tolFun then
         verbose('optimality condition below tolFun')
         break
      end
      tmp1:copy(d):mul(t):abs()
      if tmp1:sum() <= tolX then
         verbose('step size below tolX')
         break
      end
      if math.abs(f - fOld) < tolX then
         verbose('function value changing less than tolX')
         break
      end
   end

   state.old_dirs, state.old_stps = oldDirs, oldStps
   state.Hdiag = Hdiag
   state.g_old, state.f_old = gOld, fOld
   state.t, state.d = t, d
   return x, fHist, evals
end

return optim.lbfgs
