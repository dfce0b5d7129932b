"""import purenn: the core always, the learning modules where they can import, and
never a hidden ImportError of purenn's own."""
import subprocess
import sys

import pytest

import purenn


@pytest.mark.parametrize("name", ["Matrix", "Trainer", "MultiLayerNet", "one_hot", "accuracy",
                                  "sigmoid_grad", "relu_grad"])
def test_the_package_exports_the_books_names(name):
    assert name in purenn.__all__ and hasattr(purenn, name)


@pytest.mark.processes
def test_an_import_error_of_purenns_own_modules_is_not_swallowed():
    # a typo in gradients.py once imported fine and failed later with no hint
    code = "import sys; sys.modules['purenn.gradients'] = None; import purenn"
    r = subprocess.run([sys.executable, "-c", code], stderr=subprocess.PIPE,
                       universal_newlines=True)
    assert r.returncode != 0 and "purenn.gradients" in r.stderr.splitlines()[-1]


@pytest.mark.parametrize("name, home, old", [
    ("gradient_check", "purenn.gradient_check", "purenn.multilayer"),
    ("plot_paths", "purenn.optimizer_compare", "purenn.optimizers"),
    ("predict_labels", "purenn.labels", "purenn.recognize"),
])
def test_a_moved_idea_has_one_home_and_no_second_name(name, home, old):
    # the split modules kept the old names for a while; copies under two names drift
    import importlib
    assert getattr(importlib.import_module(home), name).__module__ == home
    assert not hasattr(importlib.import_module(old), name)
