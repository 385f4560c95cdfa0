"""Shared fixtures and marks of the sparktorch7 test suite."""
import pytest

from sparktorch7 import LuaState

pytest_plugins = ["spark_fixtures"]


def pytest_configure(config):
    config.addinivalue_line("markers", "spark: needs a local Spark session (the session `spark` fixture)")
    config.addinivalue_line("markers", "slow: takes more than a few seconds; deselect with -m 'not slow'")


@pytest.fixture
def lua():
    """A fresh LuaState for one test, closed afterwards."""
    state = LuaState()
    try:
        yield state
    finally:
        state.close()
