"""A worker's exception is rebuilt on the driver as its own class: every
LuaError subclass the package exports, with the message and Lua traceback."""
import pytest

import sparktorch7 as st
from sparktorch7 import _spark_errors


LUA_CLASSES = [getattr(st, n) for n in st.__all__
               if isinstance(getattr(st, n), type) and issubclass(getattr(st, n), st.LuaError)]


def test_every_exported_lua_error_class_is_known():
    assert st.LuaTimeoutError in LUA_CLASSES and len(LUA_CLASSES) >= 5


@pytest.mark.parametrize("cls", LUA_CLASSES, ids=lambda c: c.__name__)
def test_worker_lua_error_rebuilt_as_its_class(cls):
    name = f"sparktorch7._lua.{cls.__name__}"
    text = ("org.apache.spark.api.python.PythonException: Traceback (most recent call last):\n"
            '  File "/x/worker.py", line 1, in main\n'
            f"{name}: s.lua:3: boom on rows 0..9\n"
            "stack traceback:\n\t[C]: in function 'error'\n"
            "\tat org.apache.spark.Foo.bar(Foo.scala:1)\n")
    found = _spark_errors.worker_failure(text)
    assert found is not None and found[0] == name
    exc = _spark_errors._rebuild(*found)
    assert type(exc) is cls
    assert "boom on rows 0..9" in str(exc)
    assert "in function 'error'" in exc.lua_traceback
