"""Every docstring example in the package runs: those that need no Spark here, the
Spark layer's against the session fixture (given to them as ``spark``, as PySpark's
own docs assume). No example is skipped (a test greps for ``+SKIP``)."""
from __future__ import annotations

import doctest
import importlib
import os
import re

import pytest

import sparktorch7

PKG = os.path.dirname(os.path.abspath(sparktorch7.__file__))

# the modules whose examples need no Spark session, and those that do
PURE = ["sparktorch7._lua", "sparktorch7.model", "sparktorch7.t7", "sparktorch7.python2torch",
        "sparktorch7.broadcast", "sparktorch7._paths", "sparktorch7.errors"]
SPARK = ["sparktorch7.udf", "sparktorch7._session", "sparktorch7._spark_errors"]
# examples that take more than a few seconds (a Spark job writing and reading files)
SLOW = {"sparktorch7.udf.score_files"}

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def find(modules: list) -> list:
    """The doctests of ``modules`` with at least one example, once each (Cython's
    ``__test__`` dict repeats the docstrings of methods)."""
    out, seen = [], set()
    for name in modules:
        for test in doctest.DocTestFinder().find(importlib.import_module(name)):
            examples = tuple((e.source, e.want) for e in test.examples)
            if examples and examples not in seen:
                seen.add(examples)
                out.append(test)
    return sorted(out, key=lambda t: t.name)


def run(test: doctest.DocTest, **globs) -> None:
    test.globs.update(globs)
    report = []
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    result = runner.run(test, out=report.append, clear_globs=True)
    assert result.failed == 0, "".join(report)
    assert result.attempted == len(test.examples)


def _param(test: doctest.DocTest):
    marks = [pytest.mark.slow] if test.name in SLOW else []
    return pytest.param(test, id=test.name, marks=marks)


@pytest.mark.parametrize("test", [_param(t) for t in find(PURE)])
def test_example(test):
    run(test)


@pytest.mark.spark
@pytest.mark.parametrize("test", [_param(t) for t in find(SPARK)])
def test_spark_example(test, spark):
    run(test, spark=spark)


def _sources():
    for dirpath, _dirs, files in os.walk(PKG):
        if os.sep + "lua" in dirpath[len(PKG):]:
            continue
        for name in sorted(files):
            if name.endswith((".py", ".pyx", ".pxi")):
                path = os.path.join(dirpath, name)
                yield os.path.relpath(path, PKG), open(path, encoding="utf-8").read()


def test_no_example_is_skipped():
    skipped = [f"{rel}:{text.count(chr(10), 0, m.start()) + 1}"
               for rel, text in _sources() for m in re.finditer(r"doctest:\s*\+SKIP", text)]
    assert skipped == []


def test_every_module_with_examples_is_run():
    listed = set(PURE) | set(SPARK)
    with_examples = set()
    for rel, text in _sources():
        if re.search(r"^\s*>>> ", text, flags=re.M):
            module = rel[:-3].replace(os.sep, ".") if rel.endswith(".py") else "_lua"
            with_examples.add("sparktorch7." + module)
    assert with_examples <= listed, f"examples not run: {sorted(with_examples - listed)}"
    # and each module listed still has examples for the tests above to run
    for name in sorted(listed):
        assert find([name]), f"{name} lost its examples"


def test_the_public_api_has_examples():
    # the objects of __all__ users start from each show how they are called
    names = ["LuaState", "LuaTable", "Model", "load_model", "load_t7", "save_t7", "TorchObject",
             "PyTorch", "LuaScript", "lua_udf", "lua_pandas_udf", "register", "score",
             "map_partitions", "score_files", "local_session", "short_errors"]
    missing = [n for n in names if ">>> " not in (getattr(sparktorch7, n).__doc__ or "")]
    assert missing == []
