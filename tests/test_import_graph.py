"""The package's import graph: no cycle, and a plain ``import sparktorch7``
loads neither pyspark nor pyarrow (the Spark names load on first use)."""
import ast
import os
import subprocess
import sys

import sparktorch7

PKG = os.path.dirname(os.path.abspath(sparktorch7.__file__))


def _module_imports(path: str, name: str) -> set:
    """The sparktorch7 modules ``name`` imports at any level (functions included)."""
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)   # from pkg import module
    return {m for m in out if m.startswith("sparktorch7.")}


def _graph() -> dict:
    modules = {}
    for fname in sorted(os.listdir(PKG)):
        if fname.endswith(".py") and fname != "__init__.py":
            modules[f"sparktorch7.{fname[:-3]}"] = os.path.join(PKG, fname)
    return {m: _module_imports(p, m) & set(modules) - {m} for m, p in modules.items()}


def _find_cycle(graph: dict):
    state, stack = {}, []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == "open":
                return stack[stack.index(n):] + [n]
            if n not in state:
                found = visit(n)
                if found:
                    return found
        state[m] = "done"
        stack.pop()
        return None

    for m in sorted(graph):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def test_the_graph_sees_real_edges():
    graph = _graph()
    assert "sparktorch7._codec" in graph["sparktorch7.udf"]
    assert "sparktorch7._build" in graph["sparktorch7._worker"]
    assert "sparktorch7._session" in graph["sparktorch7.udf"]   # score_files uses its helpers
    assert "sparktorch7.udf" not in graph["sparktorch7._session"]


def test_no_import_cycle_between_modules():
    cycle = _find_cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_cycle_finder_finds_a_cycle():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_codec_imports_no_pyspark():
    tree = ast.parse(open(os.path.join(PKG, "_codec.py"), encoding="utf-8").read())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not [m for m in names if m.split(".")[0] == "pyspark"]


def _run(code: str) -> str:
    env = dict(os.environ, PYTHONPATH=os.path.dirname(PKG))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_import_sparktorch7_loads_no_spark_layer():
    out = _run("import sys, sparktorch7\n"
               "print(sorted(m for m in ('pyspark', 'pyarrow', 'sparktorch7.udf') if m in sys.modules))\n"
               "print(sparktorch7.LuaState().eval('1 + 1'))")
    assert out.splitlines() == ["[]", "2"]


def test_spark_names_load_on_first_use():
    out = _run("import sys, sparktorch7\n"
               "f = sparktorch7.lua_udf\n"
               "from sparktorch7.udf import lua_udf\n"
               "print(f is lua_udf, 'pyarrow' in sys.modules, 'lua_udf' in dir(sparktorch7))\n"
               "try:\n    sparktorch7.no_such_name\nexcept AttributeError as e:\n    print(e)")
    assert out.splitlines() == ["True True True", "module 'sparktorch7' has no attribute 'no_such_name'"]
