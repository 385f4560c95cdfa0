"""Helpers of the schema tests (test_nn_schema, test_pkg_schema): craft a module file in Lua
and read the error its load gives."""
import pytest

from sparktorch7 import T7FormatError
from sparktorch7.model import load_model


def craft(lua, path, build):
    """Runs the Lua statements `build` (which end in `return module`) and saves the result."""
    lua.eval("function(path) local m = (function() %s end)(); torch.save(path, m) end" % build)(path)
    return path


def load_error(lua, tmp_path, build):
    path = craft(lua, str(tmp_path / "m.t7"), build)
    with pytest.raises(T7FormatError) as info:
        load_model(path, state=lua)
    return str(info.value)


def expect(message, *parts):
    for p in parts:
        assert p in message, f"{p!r} not in {message!r}"
