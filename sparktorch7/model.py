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

def _lua_helpers(state: LuaState) -> Any:
    """The Lua side of a model (``lua/sparktorch7/model.lua``): load, unwrap, forward, type."""
    return state.require("sparktorch7.model")


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
    A module built in Lua, wrapped as it is (:func:`load_model` gives one from a file):

    >>> lua = LuaState(tables="proxy")
    >>> net = lua.eval("require('nn').Sequential():add(nn.Linear(3, 2)):add(nn.Tanh())")
    >>> model = Model(net, lua)
    >>> model.tensor_type, model.float().dtype
    ('torch.DoubleTensor', <class 'numpy.float32'>)
    >>> model.forward(np.zeros((4, 3))).shape, model.forward(np.zeros((4, 3))).dtype
    ((4, 2), dtype('float32'))
    >>> lua.close()
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
    A model file as Torch7 writes one (here by ``torch.save`` in a state of our own):

    >>> import os, tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = os.path.join(folder.name, "mlp.t7")
    >>> with LuaState() as lua:
    ...     lua.execute("require 'nn'")
    ...     save = lua.eval("function(path) torch.save(path, nn.Sequential()"
    ...                     ":add(nn.Linear(4, 3)):add(nn.SoftMax())) end")
    ...     save(path)
    >>> model = load_model(path)
    >>> probs = model.forward(np.random.rand(2, 4))
    >>> probs.shape, np.allclose(probs.sum(axis=1), 1)
    ((2, 3), True)

    A file holding a table: the key of the module in it.

    >>> with LuaState() as lua:
    ...     lua.execute("require 'nn'")
    ...     lua.eval("function(path) torch.save(path, {protos = {rnn = nn.Linear(4, 3)}}) end")(path)
    >>> load_model(path, key="protos.rnn").forward(np.zeros(4)).shape
    (3,)
    >>> load_model(path)
    Traceback (most recent call last):
    ...
    sparktorch7._lua.LuaError: <load_model> ...mlp.t7 holds a table, not an nn module (it has modules under the keys "protos.rnn"...
    >>> folder.cleanup()
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
