# Packaging: a self-contained manylinux wheel and a packed virtualenv for spark-submit.
#   make wheel        dist/sparktorch7-*-manylinux_*.whl (LuaJIT linked in)
#   make wheels       the same wheel for every CPython 3.10-3.13 on PATH (PYTHONS= to choose)
#   make cluster-env  dist/sparktorch7-env.tar.gz (venv-pack; see docs/cluster.md)
#   make clean        removes dist/ and build/
# Options: PYTHON=.venv/bin/python  PLAT=auto (manylinux tag)  PYTHON_PREFIX= (interpreter
# prefix on the executors, e.g. /usr). Both targets are rebuilt only when their inputs change.

PYTHON ?= .venv/bin/python
PLAT ?= auto
PYTHON_PREFIX ?=

SOURCES := setup.py pyproject.toml scripts/build_luajit.sh $(wildcard sparktorch7/*.py sparktorch7/*.pyx sparktorch7/*.pxi sparktorch7/*.pxd) \
           $(shell find sparktorch7/lua -name '*.lua')
SHIP_ENV = PYTHON='$(PYTHON)' PLAT='$(PLAT)' PYTHON_PREFIX='$(PYTHON_PREFIX)'

# PYTHON_PREFIX is baked into the archive: a new value must repack it.
PREFIX_STAMP := build/.python-prefix
$(shell mkdir -p build; [ "$$(cat $(PREFIX_STAMP) 2>/dev/null)" = "x$(PYTHON_PREFIX)" ] || echo "x$(PYTHON_PREFIX)" > $(PREFIX_STAMP))

.PHONY: wheel wheels cluster-env clean

PYTHONS ?= $(shell for v in 3.10 3.11 3.12 3.13; do python$$v -c 'import sys; print(sys.executable)' 2>/dev/null; done)

$(PREFIX_STAMP):
	mkdir -p build && echo "x$(PYTHON_PREFIX)" > $@

wheel: dist/.wheel-built

dist/.wheel-built: $(SOURCES) requirements-ship.txt scripts/build_wheel.sh
	$(SHIP_ENV) bash scripts/build_wheel.sh
	touch $@

wheels: $(SOURCES) requirements-ship.txt scripts/build_wheel.sh scripts/build_wheels.sh
	$(SHIP_ENV) bash scripts/build_wheels.sh $(PYTHONS)

cluster-env: dist/sparktorch7-env.tar.gz

dist/sparktorch7-env.tar.gz: dist/.wheel-built requirements.txt requirements-ship.txt scripts/cluster_env.sh $(PREFIX_STAMP)
	$(SHIP_ENV) bash scripts/cluster_env.sh

clean:
	rm -rf dist build sparktorch7.egg-info
