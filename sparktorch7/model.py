"""Torch7 models as Python objects: ``load_model(path).forward(ndarray) -> ndarray``."""
from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np

from sparktorch7._lua import LuaState, LuaTable

__all__ = ["Model", "load_model"]

_NUMPY_OF = {
    "torch.DoubleTensor": np.float64,
    "torch.FloatTensor": np.float32,
}

# Lua side of a model: load (GPU files included), unwrap, forward, type.
_HELPERS = r"""
if package.loaded['sparktorch7.model'] then
   return package.loaded['sparktorch7.model']
end
require 'nn'
require 'nngraph'
require 'cunn'
require 'cudnn'
local H = {}
package.loaded['sparktorch7.model'] = H

-- dotted paths of the nn modules found in plain tables under v (depth first, a few levels)
local function module_keys(v, prefix, out, depth, seen)
   if depth > 4 or #out >= 12 or type(v) ~= 'table' or torch.typename(v) or seen[v] then return out end
   seen[v] = true
   local names = {}
   for k in pairs(v) do
      if type(k) == 'string' or type(k) == 'number' then names[#names + 1] = k end
   end
   table.sort(names, function(a, b)
      if type(a) == type(b) then return a < b end
      return type(a) == 'number'
   end)
   for _, k in ipairs(names) do
      local x, path = v[k], prefix .. tostring(k)
      if torch.isTypeOf(x, 'nn.Module') then
         out[#out + 1] = string.format('%q', path)
      else
         module_keys(x, path .. '.', out, depth + 1, seen)
      end
   end
   return out
end

local function hint_for(root, prefix)
   local keys = module_keys(root, prefix or '', {}, 1, {})
   if #keys > 0 then
      return ' (it has modules under the keys ' .. table.concat(keys, ', ') .. ': pass key=...)'
   end
   return ''
end

-- t[part], a numeric part also tried as a number ("layers.1")
local function index(t, part)
   local v = t[part]
   if v == nil and type(part) == 'string' and tonumber(part) then v = t[tonumber(part)] end
   return v
end

function H.load(path, key)
   local root = torch.load(path)
   local model = root
   local walked = {}
   if key ~= nil then
      if type(root) ~= 'table' or torch.isTypeOf(root, 'nn.Module') then
         error(string.format('<load_model> %s holds a %s, not a table to take [%q] from',
                             path, torch.type(root), tostring(key)), 0)
      end
      local parts
      if type(key) == 'table' then
         parts = key
      elseif type(key) == 'string' and root[key] == nil then
         parts = {}
         for part in (key .. '.'):gmatch('([^.]*)%.') do parts[#parts + 1] = part end
      else
         parts = {key}
      end
         for _, part in ipairs(parts) do
         if type(model) ~= 'table' or torch.typename(model) then
            error(string.format('<load_model> %s: key %q: %s is a %s, not a table to take [%q] from%s',
                                path, tostring(type(key) == 'table' and table.concat(key, '.') or key),
                                #walked > 0 and table.concat(walked, '.') or 'the file',
                                torch.type(model), tostring(part), hint_for(root)), 0)
         end
         local v = index(model, part)
         if v == nil then
            error(string.format('<load_model> %s has no key %q%s%s', path,
                                tostring(type(key) == 'table' and table.concat(key, '.') or key),
                                #walked > 0 and (' (' .. table.concat(walked, '.') .. ' has no ' ..
                                                 string.format('%q', tostring(part)) .. ')') or '',
                                hint_for(root)), 0)
         end
         walked[#walked + 1] = tostring(part)
         model = v
      end
   end
   if not torch.isTypeOf(model, 'nn.Module') then
      local hint = ''
      if type(model) == 'table' and not torch.typename(model) then
         hint = hint_for(model, key ~= nil and (table.concat(walked, '.') .. '.') or '')
      end
      if hint == '' and key ~= nil then hint = hint_for(root) end
      error(string.format('<load_model> %s holds a %s, not an nn module%s', path,
                          key ~= nil and (torch.type(model) .. ' at key ' .. string.format('%q', tostring(key)))
                          or torch.type(model), hint), 0)
   end
   return H.prepare(model)
end

function H.prepare(model)
   while torch.typename(model) == 'nn.DataParallelTable' do
      model = model.modules[1]
   end
   model:evaluate()
   return model
end

function H.dtype(model)
   local ok, t = pcall(nn.utils.moduleTensorType, model)
   if ok and t then return t end
   return model._type
end

-- outputs are copied here, under the state's lock: a forward from another
-- thread cannot overwrite them before Python has them
local function detach(v)
   if torch.isTensor(v) then
      return v:clone()
   elseif type(v) == 'table' and not torch.typename(v) then
      local t = {}
      for k, x in pairs(v) do t[k] = detach(x) end
      return t
   end
   return v
end

function H.forward(model, input)
   return detach(model:forward(input))
end

function H.float(model) return model:float() end
function H.double(model) return model:double() end
function H.evaluate(model) return model:evaluate() end
function H.training(model) return model:training() end

return H
"""


def _lua_helpers(state: LuaState):
    return state.execute(_HELPERS, name="=sparktorch7.model")


def _to_python(value: Any) -> Any:
    """Outputs (already copies of the module's buffers) as Python values: Lua
    sequences as lists, other tables as dicts."""
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, LuaTable):
        value = dict(value.items())
    if isinstance(value, dict):
        items = {k: _to_python(v) for k, v in value.items()}
        if items and all(isinstance(k, int) for k in items) and sorted(items) == list(range(1, len(items) + 1)):
            return [items[i] for i in range(1, len(items) + 1)]
        return items
    if isinstance(value, (list, tuple)):
        return [_to_python(v) for v in value]
    return value


class Model:
    """A Torch7 module loaded in a :class:`LuaState`, in evaluation mode.

    Parameters
    ----------
    module : LuaTable
        The live nn module.
    state : LuaState
        The state holding it.

    Examples
    --------
    >>> model = load_model("mnist_mlp.t7")          # doctest: +SKIP
    >>> model.forward(np.zeros((2, 784), np.float32)).shape  # doctest: +SKIP
    (2, 10)
    """

    def __init__(self, module: LuaTable, state: LuaState):
        self.module = module
        self.state = state
        self._helpers = _lua_helpers(state)
        self._refresh_dtype()

    def _refresh_dtype(self) -> None:
        self.tensor_type = self._helpers["dtype"](self.module)
        self.dtype = _NUMPY_OF.get(self.tensor_type)

    def _prepare_input(self, x: Any) -> Any:
        if isinstance(x, np.ndarray):
            if self.dtype is not None and x.dtype.kind == "f" and x.dtype != self.dtype:
                x = x.astype(self.dtype)
            return x
        if isinstance(x, (list, tuple)):
            return [self._prepare_input(v) for v in x]
        if isinstance(x, dict):
            return {k: self._prepare_input(v) for k, v in x.items()}
        return x

    def forward(self, x: Any) -> Any:
        """Run the model on x (an ndarray, or a list/dict of them for table
        inputs); floating inputs are cast to the model's type. Returns an
        ndarray, or lists/dicts of them for table outputs."""
        out = self._helpers["forward"](self.module, self._prepare_input(x))
        return _to_python(out)

    __call__ = forward

    def float(self) -> "Model":
        """Convert the model's tensors to float32 (torch.FloatTensor)."""
        self._helpers["float"](self.module)
        self._refresh_dtype()
        return self

    def double(self) -> "Model":
        """Convert the model's tensors to float64 (torch.DoubleTensor)."""
        self._helpers["double"](self.module)
        self._refresh_dtype()
        return self

    def evaluate(self) -> "Model":
        self._helpers["evaluate"](self.module)
        return self

    def training(self) -> "Model":
        self._helpers["training"](self.module)
        return self

    def __repr__(self) -> str:
        return str(self.module)


def load_model(path: str | os.PathLike, *, key: str | int | Sequence[str | int] | None = None,
               state: LuaState | None = None) -> Model:
    """Load a Torch7 model file (``torch.save`` of an nn module, GPU ones
    included) and return it in evaluation mode.

    Parameters
    ----------
    path : str or PathLike
        The ``.t7`` file.
    key : str, int or sequence, optional
        When the file holds a table (``torch.save(f, {model = net, ...})``),
        the key of the module in it; a dotted key walks nested tables
        (``"protos.rnn"`` for char-rnn's checkpoints, ``"layers.1"`` takes
        ``[1]``), as does a sequence of keys (``("protos", "rnn")``). An
        error names the keys that hold modules.
    state : LuaState, optional
        The state to load it in (classes defined there are used); a new one
        by default.

    Examples
    --------
    >>> model = load_model("model.t7")   # doctest: +SKIP
    >>> probs = model.forward(batch)     # doctest: +SKIP
    """
    if state is None:
        state = LuaState()
    helpers = _lua_helpers(state)
    if isinstance(key, (list, tuple)):
        if not key or not all(isinstance(k, (str, int)) for k in key):
            raise TypeError(f"load_model key: a sequence of keys holds str or int items, not {key!r}")
        key = state.table(list(key))
    elif key is not None and not isinstance(key, (str, int)):
        raise TypeError(f"load_model key must be a str, an int or a sequence of them, not {type(key).__name__}")
    module = helpers["load"](os.fspath(path), key)
    return Model(module, state)
