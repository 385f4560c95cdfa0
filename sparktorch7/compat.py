"""python2torch compatibility: a Lua script's global functions as methods of one object."""
from __future__ import annotations

import os
from typing import Any, Callable, Iterable

from sparktorch7._lua import LuaFunction, LuaState

__all__ = ["PyTorch"]

# The global functions of a state, by name (functions stay live LuaFunction proxies).
_FUNCTIONS = """
local out = {}
for name, value in pairs(_G) do
  if type(name) == 'string' and type(value) == 'function' then out[name] = value end
end
return out
"""


class PyTorch:
    """The interface of python2torch's ``PyTorch``: run a Lua script after
    ``require 'torch'``; each global function the script defined becomes a method
    that returns a Python list of all its results (``[]`` for none).

    Parameters
    ----------
    path : str or os.PathLike
        The Lua script.
    requires : iterable of str, keyword-only
        Modules required before the script runs (``("torch",)``).
    tables : {"list", "dict", "proxy"}, keyword-only
        How returned Lua tables convert (see :class:`LuaState`); sequences
        become lists by default.

    Examples
    --------
    >>> t = PyTorch("mah_stuff.lua")          # doctest: +SKIP
    >>> t.DoIt(1, 2.5, "abc", [1, 2, 3])      # doctest: +SKIP
    [2, 5.0, 'ABC!', 3, 6, [2, 4, 6]]
    """

    def __init__(self, path: str | os.PathLike, *, requires: Iterable[str] = ("torch",),
                 tables: str = "list") -> None:
        state = LuaState(tables=tables)
        try:
            for name in requires:
                state.require(name)
            before = state.execute(_FUNCTIONS)
            state.dofile(os.fspath(path))
            after = state.execute(_FUNCTIONS)
        except BaseException:
            state.close()
            raise
        self._state = state
        self._path = os.fspath(path)
        # new names, and names the script redefined
        self._functions: dict[str, LuaFunction] = {
            name: fn for name, fn in after.items() if name not in before or before[name] != fn
        }

    @property
    def state(self) -> LuaState:
        """The LuaState the script runs in."""
        return self._state

    def __getattr__(self, name: str) -> Callable[..., list]:
        functions = self.__dict__.get("_functions")
        if functions is None or name not in functions:
            raise AttributeError(f"{self.__dict__.get('_path', 'the script')!s} defines no global function {name!r}")
        fn = functions[name]

        def method(*args: Any) -> list:
            return fn.call_list(*args)

        method.__name__ = name
        method.__qualname__ = f"PyTorch.{name}"
        return method

    def __dir__(self) -> list[str]:
        return sorted(set(self._functions) | {"close", "state"})

    def close(self) -> None:
        """Close the Lua state."""
        self._state.close()

    def __enter__(self) -> "PyTorch":
        return self

    def __exit__(self, *exc: object) -> bool:
        self.close()
        return False

    def __repr__(self) -> str:
        return f"<PyTorch {self._path!r}: {', '.join(sorted(self._functions))}>"
