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


@pytest.mark.processes
@pytest.mark.parametrize("old, new", [
    ("purenn.multilayer import gradient_check", "purenn.gradient_check"),
    ("purenn.optimizers import plot_paths", "purenn.optimizer_compare"),
    ("purenn.recognize import predict_batches", "purenn.labels"),
])
def test_names_that_moved_still_import_from_their_old_module(old, new):
    module, name = old.split(" import ")
    code = "from %s import %s as f; print(f.__module__)" % (module, name)
    r = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE,
                       universal_newlines=True, check=True)
    assert r.stdout.strip() == new
