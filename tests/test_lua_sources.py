"""The package's Lua code lives in .lua files, required by name (or, for the state's
bootstrap, loaded by path from lua/sparktorch7/boot/); the Python side passes data to
it as arguments and never builds Lua source out of values."""
from __future__ import annotations

import ast
import os
import re

import numpy as np
import pytest

import sparktorch7
from sparktorch7 import LuaError, LuaScript, LuaState, load_model

PKG = os.path.dirname(os.path.abspath(sparktorch7.__file__))
LUA = os.path.join(PKG, "lua", "sparktorch7")
MNIST = "/work/shared/fixtures/t7/models/mnist_mlp_cuda.t7"

# What Lua source looks like, and English prose does not.
_LUA_SIGNS = [
    re.compile(r"\blocal\s+[A-Za-z_]\w*(\s*,\s*[A-Za-z_]\w*)*\s*="),
    re.compile(r"\bfunction\b[\w.:\s]*\([\w\s,.]*\)[\s\S]*\bend\b"),
    re.compile(r"\b[A-Za-z_][\w.]*\s*=\s*[^=\n]*\s\.\.\s"),
    re.compile(r"\bthen\b[\s\S]*\bend\b"),
    re.compile(r"\brequire\s*\(?\s*['\"]"),
    re.compile(r"\breturn\s+[A-Za-z_]\w*\s*(\.\.|\[|\()"),
]
_LUA_CALLS = {"execute", "eval"}


def looks_like_lua(text: str) -> bool:
    return any(p.search(text) for p in _LUA_SIGNS)


def _docstring_ids(tree: ast.AST) -> set:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def _str_parts(node: ast.AST) -> str:
    """The literal text in an expression that builds a string (f-string parts, both
    sides of + and %, the receiver of .format)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
        v = node.value
        return v.decode("latin-1") if isinstance(v, bytes) else v
    if isinstance(node, ast.JoinedStr):   # (an interpolated value as a mark no sign matches)
        return "".join(_str_parts(v) if isinstance(v, ast.Constant) else "\x00" for v in node.values)
    if isinstance(node, ast.BinOp):
        return _str_parts(node.left) + " " + _str_parts(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _str_parts(node.func.value)
    return ""


def _is_built(node: ast.AST) -> bool:
    """An expression that makes a string out of values."""
    if isinstance(node, ast.JoinedStr):
        return any(not isinstance(v, ast.Constant) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
            node.func.attr in ("format", "join", "replace"):
        return True
    return False


def python_findings(source: str, where: str) -> list:
    """Lua source held in a multi-line Python string, Lua source built from values, and
    execute/eval calls given a built string, in one Python file's text."""
    tree = ast.parse(source, where)
    docs = _docstring_ids(tree)
    found = []
    for node in ast.walk(tree):
        line = f"{where}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)) and id(node) not in docs:
            text = _str_parts(node)
            if "\n" in text.strip() and looks_like_lua(text):
                found.append(f"{line}: Lua source in a multi-line string")
        elif _is_built(node) and looks_like_lua(_str_parts(node)):
            found.append(f"{line}: Lua source built from values")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr in _LUA_CALLS and node.args and _is_built(node.args[0]):
            found.append(f"{line}: {node.func.attr}() given a string built from values")
    return found


_TRIPLE = re.compile(r'(?P<prefix>[rRbBuUfF]{0,2})(?P<q>"""|\'\'\')(?P<body>.*?)(?P=q)', re.S)
_CY_BUILT = re.compile(r"\.(execute|eval)\(\s*([rR]?[fF][rR]?['\"]|[^)]*(%|\.format\(|\+ ))")


def cython_findings(source: str, where: str) -> list:
    """The same for a .pyx/.pxi file: triple-quoted literals that are not docstrings
    (the previous code line does not end a def/class header) and hold Lua, f-strings
    holding Lua, and execute/eval given a formatted string."""
    found = []
    for m in _TRIPLE.finditer(source):
        before = source[:m.start()].rstrip().rsplit("\n", 1)[-1].strip()
        is_doc = before.endswith(":") and not before.endswith("=") and \
            source[:m.start()].rsplit("\n", 1)[-1].strip() == ""
        if not is_doc and looks_like_lua(m.group("body")):
            found.append(f"{where}:{source.count(chr(10), 0, m.start()) + 1}: "
                         "Lua source in a multi-line string")
    for m in _CY_BUILT.finditer(source):
        found.append(f"{where}:{source.count(chr(10), 0, m.start()) + 1}: "
                     "execute/eval given a formatted string")
    for lineno, text in enumerate(source.splitlines(), 1):
        for fm in re.finditer(r"\b[rR]?[fF][rR]?(\"[^\"\n]*\"|'[^'\n]*')", text):
            if looks_like_lua(fm.group(1)):
                found.append(f"{where}:{lineno}: Lua source in an f-string")
    return found


def package_findings(root: str) -> list:
    found = []
    lua_root = os.path.join(root, "lua")
    for dirpath, _dirs, files in os.walk(root):
        if dirpath == lua_root or dirpath.startswith(lua_root + os.sep):
            continue
        for name in sorted(files):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            if name.endswith(".py"):
                found += python_findings(open(path, encoding="utf-8").read(), rel)
            elif name.endswith((".pyx", ".pxi")):
                found += cython_findings(open(path, encoding="utf-8").read(), rel)
    return found


# ---------------------------------------------------------------- the scanner itself
@pytest.mark.parametrize("code", [
    # the shapes the package used to have: Lua in a Python string, Lua formatted with values
    'H = r"""\nlocal H = {}\nfunction H.f(x) return x end\nreturn H\n"""\n',
    'def f(state, p):\n    state.execute(f"local runtime = {p}\\npackage.path = runtime")\n',
    'def f(state, fn):\n    return state.eval(f"type({fn})")\n',
    'def f(p):\n    return "if type(v) ~= \'table\' then return nil end v = v[%s]" % p\n',
    'def f(s, e):\n    return s.eval("require(\'torch.serialization\').{}".format(e))\n',
    'def f(s, code):\n    return s.execute("local x = " + code)\n',
])
def test_the_scanner_flags_lua_in_python_strings(code):
    assert python_findings(code, "sample.py")


@pytest.mark.parametrize("code", [
    'cdef bytes _H = b"""\nlocal rawget = rawget\nreturn {get = function(t, k) return t[k] end}\n"""\n',
    'def f(self, q):\n    self.execute(\n        f"package.path = {q} .. package.path\\n")\n',
    '    self.execute(f"package.path = {q} .. package.path")\n',
])
def test_the_scanner_flags_lua_in_cython_strings(code):
    assert cython_findings(code, "sample.pxi")


@pytest.mark.parametrize("code", [
    # prose about Lua, docstrings with Lua examples, and trivial constant one-liners are fine
    'def f(n):\n    raise ValueError(f"Lua function {n!r} returned 2 values; return one tensor")\n',
    'def f():\n    """Example:\n\n    >>> lua.eval("function(a, b) return a + b end")\n    """\n',
    'def f(s):\n    s.execute("require(\'torch\')")\n',
    'def f(s, name):\n    return s.require("sparktorch7.worker")["lookup"](name)\n',
])
def test_the_scanner_passes_prose_docstrings_and_constants(code):
    assert python_findings(code, "sample.py") == []


def test_no_lua_source_in_python_strings_and_none_built_from_values():
    assert package_findings(PKG) == []


# ---------------------------------------------------------------- the files themselves
@pytest.mark.parametrize("name, function", [
    ("model", "forward"), ("python2torch", "function_names"), ("luapath", "add"), ("worker", "lookup"),
])
def test_helper_modules_are_required_by_name_and_create_no_globals(name, function):
    with LuaState() as lua:
        globals_now = lua.eval("function() local t = {} for k in pairs(_G) do t[#t + 1] = k end return t end")
        before = set(globals_now().values())
        module = lua.require(f"sparktorch7.{name}")
        after = set(globals_now().values())
        source = lua.eval("function(f) return debug.getinfo(f, 'S').source end")(module[function])
    assert source == "@" + os.path.join(LUA, f"{name}.lua")
    # requiring nn and friends (model.lua does) creates their globals, and nothing else
    assert after - before <= {"nn", "nngraph", "cunn", "cudnn", "cutorch", "torch", "graph", "paths"}


def test_the_bootstrap_comes_from_its_files():
    with LuaState() as lua:
        source = lua.eval("function(f) return debug.getinfo(f, 'S').source end")
        assert source(lua.eval("io.write")) == "@" + os.path.join(LUA, "boot", "stdio.lua")
        assert source(lua.eval("newproxy")) == "@" + os.path.join(LUA, "boot", "finalizers.lua")
        assert source(lua.eval("ffi.gc")) == "@" + os.path.join(LUA, "boot", "finalizers.lua")
        # helpers.lua put the runtime first on package.path and set the global ffi
        runtime = sparktorch7._lua.LUA_DIR.replace("\\", "/")
        assert lua.eval("package.path").startswith(f"{runtime}/?.lua;{runtime}/?/init.lua;")
        assert lua.eval("ffi == require('ffi')") is True
        # and no chunk of ours is left on package.loaded under a boot name
        assert lua.eval("package.loaded['sparktorch7.boot.stdio']") is None


def test_model_helpers_come_from_model_lua():
    model = load_model(MNIST)
    out = model.forward(np.zeros((2, 784), np.float32))
    assert out.shape == (2, 10)
    loaded = model.state.eval("package.loaded['sparktorch7.model'].forward")
    assert loaded is not None
    # an error raised in model.lua names the file it came from in the traceback
    with pytest.raises(LuaError) as info:
        load_model(MNIST, key="protos", state=model.state)
    assert "holds a nn.Sequential, not a table to take" in str(info.value)
    assert os.path.join(LUA, "model.lua") in info.value.lua_traceback


def test_luapath_add_takes_folders_as_arguments(tmp_path):
    odd = tmp_path / "it's \"quoted\" ]]"
    odd.mkdir()
    (odd / "oddmod.lua").write_text("return {answer = 42}\n")
    with LuaState(lua_path=[str(odd)]) as lua:
        # a folder whose name holds quotes and brackets needs no Lua quoting any more
        assert lua.eval("require('oddmod').answer") == 42
        path = lua.eval("package.path")
        runtime = sparktorch7._lua.LUA_DIR.replace("\\", "/")
        assert path.startswith(f"{runtime}/?.lua;{runtime}/?/init.lua;{odd}/?.lua;{odd}/?/init.lua;")
        add = lua.eval("require('sparktorch7.luapath').add")
        with pytest.raises(LuaError, match=r"<sparktorch7.luapath> folder 2 is a number, not a string"):
            add(runtime, ["/tmp", 3])


def test_worker_lookup_finds_dotted_names_without_source_formatting():
    script = LuaScript(
        "require 'torch'\n"
        "local C = torch.class('LookupScorer')\n"
        "function C:__init() self.k = 2 end\n"
        "function C:score(x) return x * self.k end\n"
        "scorer = LookupScorer()\n"
        "M = {inner = {f = function(x) return x + 1 end}, n = 3}\n"
        "function plain(x) return x end\n",
        name="lookup.lua")
    script.check("plain", "M.inner.f", "scorer.score")
    for name, found in [("M.n", "number"), ("M.inner", "table"), ("M.nope.f", "nil"),
                        ("plain.x", "nil"), ("nope", "nil")]:
        with pytest.raises(ValueError, match=rf"the Lua function '{re.escape(name)}' is not defined "
                                             rf"by script 'lookup.lua' \(found a {found} value\)"):
            script.check(name)
    lua = script.open()
    try:
        lookup = lua.require("sparktorch7.worker")["lookup"]
        assert lookup("M.inner.f")(4) == 5
        assert lookup("scorer.k") == 2
        assert lookup("M.n.x") is None
        with pytest.raises(LuaError, match=r"<sparktorch7.worker> lookup expects a name \(a string\), got number"):
            lookup(7)
    finally:
        lua.close()
