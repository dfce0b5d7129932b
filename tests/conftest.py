"""Shared test settings: hypothesis profiles sized for pure Python, and the
tests that Pyodide cannot run."""
import os
import sys

import pytest
from hypothesis import settings

# Pure Python is slow and CI runs the suite on several interpreters: no
# deadline (timing is not what we test), a modest number of examples.
settings.register_profile("default", deadline=None, max_examples=60)
settings.register_profile("thorough", deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("PURENN_HYPOTHESIS_PROFILE", "default"))

# Pyodide (CPython compiled to WebAssembly) has no processes and no sockets:
# tests marked ``processes`` (they run ``python -m purenn`` or an HTTP server)
# are skipped there, with this reason, and run everywhere else.
NO_PROCESSES = sys.platform == "emscripten"


def pytest_collection_modifyitems(config, items):
    if not NO_PROCESSES:
        return
    skip = pytest.mark.skip(reason="Pyodide (WebAssembly) cannot start processes or open sockets")
    for item in items:
        if "processes" in item.keywords:
            item.add_marker(skip)
