"""python2torch's interface: a Lua script run after ``require 'torch'``, its state's
global functions as methods of one object (``import sparktorch7.python2torch as python2torch``)."""
from __future__ import annotations

import os
from typing import Any, Callable, Iterable, Sequence

from sparktorch7._lua import LuaError, LuaFunction, LuaState

__all__ = ["PyTorch"]

class PyTorch:
    """python2torch's ``PyTorch``: run a Lua script after ``require 'torch'``; every
    global function of the state (the script's and Lua's own, as python2torch listed
    them) is a method returning a Python list of all its results (``[]`` for none).

    Parameters
    ----------
    path : str or os.PathLike
        The Lua script.
    requires : iterable of str, keyword-only
        Modules required before the script runs (``("torch",)``).
    tables : {"list", "dict", "proxy"}, keyword-only
        How returned Lua tables convert (see :class:`LuaState`): sequences become
        lists by default; ``"dict"`` gives python2torch's dicts.

    Attributes
    ----------
    function_names : list of str
        The global functions once the script has run, sorted.

    Examples
    --------
    python2torch's own example script:

    >>> import os, tempfile, numpy
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = os.path.join(folder.name, "mah_stuff.lua")
    >>> with open(path, "w") as f:
    ...     _ = f.write('''
    ... function Hello() print("Is it me you're looking for?") end
    ... function DoIt(n, x, s, list, tensor)
    ...   return n + x, s .. "!", #list, tensor:sum()
    ... end
    ... ''')
    >>> torch = PyTorch(path)
    >>> torch.Hello()
    Is it me you're looking for?
    []
    >>> torch("DoIt", [1, 3.5, "s", [1, 2], numpy.ones(3)])
    [4.5, 's!', 2, 3]
    >>> torch.DoIt(2, 0.5, "t", [], numpy.zeros(1))
    [2.5, 't!', 0, 0]
    >>> "DoIt" in torch.function_names and "print" in torch.function_names
    True
    >>> torch.close(); folder.cleanup()
    """

    function_names: list[str]

    def __init__(self, path: str | os.PathLike, *, requires: Iterable[str] = ("torch",),
                 tables: str = "list") -> None:
        state = LuaState(tables=tables)
        try:
            for name in requires:
                state.require(name)
            state.dofile(os.fspath(path))
            names = state.require("sparktorch7.python2torch")["function_names"]()
        except BaseException:
            state.close()
            raise
        self._state = state
        self._path = os.fspath(path)
        self.function_names = names.split("\0") if names else []

    @property
    def state(self) -> LuaState:
        """The LuaState the script runs in."""
        return self._state

    def __call__(self, function_name: str, args: Sequence[Any]) -> list:
        """Call the global function ``function_name`` with the items of ``args``
        (python2torch's ``torch('DoIt', [1, 2.5])``); returns the list of its results."""
        if not isinstance(function_name, str):
            raise TypeError(f"PyTorch(): the function is named by a str, not {type(function_name).__name__}")
        if isinstance(args, (str, bytes)) or not hasattr(args, "__iter__"):
            raise TypeError(f"PyTorch({function_name!r}, args): args must be a list or tuple of "
                            f"arguments, not {type(args).__name__}")
        fn = self._state[function_name]
        if not isinstance(fn, LuaFunction):
            got = "nothing" if fn is None else f"a {type(fn).__name__}"
            raise LuaError(f"{self._path}: the global {function_name!r} is not a function ({got})")
        return fn.call_list(*args)

    def __getattr__(self, name: str) -> Callable[..., list]:
        names = self.__dict__.get("function_names")
        if names is None or name not in names:
            raise AttributeError(f"{self.__dict__.get('_path', 'the script')!s} defines no global function {name!r}")

        def method(*args: Any) -> list:
            return self(name, args)

        method.__name__ = name
        method.__qualname__ = f"PyTorch.{name}"
        return method

    def __dir__(self) -> list[str]:
        return sorted(set(object.__dir__(self)) | set(self.function_names))

    def close(self) -> None:
        """Close the Lua state."""
        self._state.close()

    def __enter__(self) -> "PyTorch":
        return self

    def __exit__(self, *exc: object) -> bool:
        self.close()
        return False

    def __repr__(self) -> str:
        return f"<PyTorch {self._path!r}: {len(self.function_names)} global functions>"
