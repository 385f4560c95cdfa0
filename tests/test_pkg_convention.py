"""Conventions of the rnn, dpnn, nnx, inn and stn packages (lua/<package>/): every class
(nn.X, or <package>.X for inn's and nnx's own namespaces) is named by a package test and
is a class once the packages are required. (That each file defines its class and is
required by the package's init.lua: tests/test_pkg_rnn.py.)"""
import glob
import os
import re

import pytest

import sparktorch7 as st

HERE = os.path.dirname(os.path.abspath(__file__))
LUA = os.path.join(os.path.dirname(HERE), "sparktorch7", "lua")
PACKAGES = ["rnn", "dpnn", "nnx", "inn", "stn"]


def class_files(package):
    """Files named after a class (helpers are lowercase)."""
    names = [os.path.basename(f)[:-4] for f in glob.glob(os.path.join(LUA, package, "*.lua"))]
    return sorted(n for n in names if n[0].isupper())


def defined_class(package, name):
    with open(os.path.join(LUA, package, name + ".lua")) as f:
        m = re.search(r"torch\.class\(['\"]((?:nn|%s)\.%s)['\"]" % (package, re.escape(name)), f.read())
    return m and m.group(1)


@pytest.mark.parametrize("package", PACKAGES)
def test_every_class_is_mentioned_in_a_package_test(package):
    texts = ""
    for path in glob.glob(os.path.join(HERE, "test_pkg_*.py")) + glob.glob(os.path.join(HERE, "test_cudnn*.py")):
        with open(path) as f:
            texts += f.read()
    untested = [n for n in class_files(package) if not re.search(r"\b%s\b" % re.escape(defined_class(package, n)), texts)]
    assert not untested, f"no package test names {package}'s {untested}"


def test_every_class_is_a_class_after_require():
    state = st.LuaState()
    state.execute("require 'rnn'; require 'dpnn'; require 'nnx'; require 'inn'; require 'stn'")
    for package in PACKAGES:
        for name in class_files(package):
            cls = defined_class(package, name)
            assert state.eval(f"torch.getmetatable('{cls}') ~= nil"), f"{cls} is not a class after require"
    state.close()
