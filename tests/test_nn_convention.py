"""Conventions of the Lua runtime: one class per file, the manifests require
every file, and every class is exercised by a test."""
import glob
import os
import re

import pytest

import sparktorch7 as st

HERE = os.path.dirname(os.path.abspath(__file__))
LUA = os.path.join(os.path.dirname(HERE), "sparktorch7", "lua")


def class_files(package):
    """Files of a package named after a class (helpers are lowercase)."""
    files = sorted(glob.glob(os.path.join(LUA, package, "*.lua")))
    return [os.path.basename(f)[:-4] for f in files
            if os.path.basename(f)[0].isupper() and os.path.basename(f)[:-4] not in TABLE_FILES]


# Torch7 names these files after what they define, a table of functions, not a class
TABLE_FILES = {"Jacobian", "SparseJacobian"}


def manifest_names(package):
    """Classes the package's init.lua (its one manifest) requires by name."""
    with open(os.path.join(LUA, package, "init.lua")) as f:
        init = f.read()
    return set(re.findall(r"^require\(['\"]%s\.(\w+)['\"]\)$" % package, init, re.M))


def _test_texts():
    texts = []
    for path in glob.glob(os.path.join(HERE, "test_nn*.py")) + glob.glob(os.path.join(HERE, "test_cudnn*.py")):
        with open(path) as f:
            texts.append(f.read())
    return "\n".join(texts)


PACKAGES = ["nn", "cudnn", "nngraph", "graph"]


@pytest.mark.parametrize("package", PACKAGES)
def test_every_file_defines_its_class(package):
    for name in class_files(package):
        with open(os.path.join(LUA, package, name + ".lua")) as f:
            code = f.read()
        pattern = r"local \w+(, \w+)?\s*=\s*torch\.class\(['\"]%s\.%s['\"]" % (
            re.escape(package), re.escape(name))
        assert re.search(pattern, code), f"{package}/{name}.lua does not define {package}.{name}"


@pytest.mark.parametrize("package", ["nn", "cudnn"])
def test_manifest_requires_every_file(package):
    missing = set(class_files(package)) - manifest_names(package)
    assert not missing, f"{package}/init.lua does not require {sorted(missing)}"


@pytest.mark.parametrize("package", PACKAGES)
def test_every_class_is_mentioned_in_a_test(package):
    texts = _test_texts()
    untested = [n for n in class_files(package)
                if not re.search(r"\b%s\.%s\b" % (package, n), texts)]
    assert not untested, f"no test_nn*.py mentions {package}.{untested}"


def test_every_class_loads():
    state = st.LuaState()
    state.execute("require 'nn'; require 'nngraph'; require 'cudnn'; require 'cunn'")
    check = state.eval("function(name) return torch.getmetatable(name) ~= nil end")
    for package in PACKAGES:
        for name in class_files(package):
            assert check(f"{package}.{name}"), f"{package}.{name} is not a class after require"
    state.close()
