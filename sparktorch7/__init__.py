"""sparktorch7: Torch7 models and Lua scoring code, embedded in Python and run on Spark."""
from sparktorch7._lua import (
    LUAJIT_VERSION,
    LuaClosedError,
    LuaError,
    LuaFunction,
    LuaMemoryError,
    LuaObject,
    LuaState,
    LuaSyntaxError,
    LuaTable,
    T7FormatError,
)
from sparktorch7.model import Model, load_model
from sparktorch7.t7 import TableKey, TorchObject, load_t7, save_t7

__all__ = [
    "LUAJIT_VERSION",
    "LuaClosedError",
    "LuaError",
    "LuaFunction",
    "LuaMemoryError",
    "LuaObject",
    "LuaState",
    "LuaSyntaxError",
    "LuaTable",
    "Model",
    "T7FormatError",
    "TableKey",
    "TorchObject",
    "load_model",
    "load_t7",
    "save_t7",
]
__version__ = "0.1.0"
