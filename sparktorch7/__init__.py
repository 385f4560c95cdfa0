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
from sparktorch7.errors import (
    BadRowsError,
    LuaResultError,
    OutputExistsError,
    PathOverlapError,
    ScoringError,
)
from sparktorch7.model import Model, load_model
from sparktorch7.t7 import TableKey, TorchObject, load_t7, save_t7
from sparktorch7.python2torch import PyTorch
from sparktorch7._session import _default_worker_python

# The Spark layer (pyarrow, pyspark) is imported on first use of one of its
# names (PEP 562), so a plain LuaState user does not pay for it.
_LAZY = {
    "LuaScript": "sparktorch7.broadcast",
    **{name: "sparktorch7.udf" for name in (
        "LuaUDF", "local_session", "lua_pandas_udf",
        "lua_udf", "map_partitions", "register", "score", "score_files", "short_errors")},
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sparktorch7' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


_default_worker_python()   # the Python workers run this interpreter (see _session)

__all__ = [
    "LUAJIT_VERSION",
    "BadRowsError",
    "LuaClosedError",
    "LuaError",
    "LuaFunction",
    "LuaMemoryError",
    "LuaObject",
    "LuaResultError",
    "LuaState",
    "LuaSyntaxError",
    "LuaTable",
    "LuaTimeoutError",
    "Model",
    "OutputExistsError",
    "PathOverlapError",
    "PyTorch",
    "ScoringError",
    "T7FormatError",
    "TableKey",
    "TorchObject",
    "load_model",
    "load_t7",
    "save_t7",
    # Spark layer (imported on first use, see _LAZY)
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
