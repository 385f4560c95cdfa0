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
    "T7FormatError",
]
__version__ = "0.1.0"
