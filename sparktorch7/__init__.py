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
    LuaTimeoutError,
    T7FormatError,
)
from sparktorch7.model import Model, load_model
from sparktorch7.t7 import TableKey, TorchObject, load_t7, save_t7
from sparktorch7.broadcast import LuaScript
from sparktorch7.python2torch import PyTorch
from sparktorch7.udf import (
    BadRowsError,
    LuaResultError,
    LuaUDF,
    local_session,
    lua_pandas_udf,
    lua_udf,
    map_partitions,
    register,
    score,
    score_files,
    short_errors,
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
    "LuaTimeoutError",
    "Model",
    "PyTorch",
    "T7FormatError",
    "TableKey",
    "TorchObject",
    "load_model",
    "load_t7",
    "save_t7",
    # Spark layer (pyspark is imported only when these are used)
    "BadRowsError",
    "LuaResultError",
    "LuaScript",
    "LuaUDF",
    "local_session",
    "lua_pandas_udf",
    "lua_udf",
    "map_partitions",
    "register",
    "score",
    "score_files",
    "short_errors",
]
__version__ = "0.1.0"
