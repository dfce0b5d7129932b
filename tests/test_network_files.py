"""Networks loaded from hostile files: ``recognize.load_network`` and
``MultiLayerNet.load`` (core's modules), and Ctrl-C while ``python -m
purenn`` imports the package.

Each test states what must hold for a hostile file or an ill-timed Ctrl-C:
a one-line error, never a hang, a traceback or a silent wrong answer.
"""
import gzip
import os
import pickle
import subprocess
import sys
import threading

import pytest

from purenn.errors import DataError
from purenn.multilayer import MultiLayerNet
from purenn.recognize import load_network
from purenn.weights import load_params, save_params

from fake_numpy import fake_numpy  # noqa: F401 (a fixture)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.skipif(sys.platform == "emscripten", reason="Pyodide (WebAssembly) has no threads")
def test_load_network_refuses_a_fifo_at_once(tmp_path):
    fifo = str(tmp_path / "fifo")
    os.mkfifo(fifo)
    outcome = []

    def load():
        try:
            load_network(fifo)
        except Exception as e:  # what it raised, checked below
            outcome.append(e)

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(1.0)
    if thread.is_alive():         # blocked in open(): let it go (a writer that writes nothing)
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(5.0)
        pytest.fail("load_network(FIFO) was still blocked after 1 s")
    assert isinstance(outcome[0], DataError) and "not a regular file" in str(outcome[0])


def _book_shaped(np):
    """A network of the book's shapes (784-50-100-10) as numpy arrays."""
    arrays = {}
    for i, (n, m) in enumerate([(784, 50), (50, 100), (100, 10)], 1):
        arrays["W%d" % i] = np.ndarray((n, m), "f4", [0.001 * (k % 7) for k in range(n * m)],
                                       fortran=True)
        arrays["b%d" % i] = np.ndarray((m,), "f4", [0.0] * m)
    return arrays


@pytest.mark.parametrize("kind", ["protocol 0", "protocol 1", "protocol 2, gzip'd"])
def test_load_network_reads_every_numpy_pickle_read_weights_reads(tmp_path, fake_numpy, kind):
    data = pickle.dumps(_book_shaped(fake_numpy), protocol=int(kind[9]))
    path = tmp_path / "weights.pkl"
    path.write_bytes(gzip.compress(data) if "gzip" in kind else data)
    network, description = load_network(str(path))
    assert description.startswith("784-50-100-10 (sigmoid, sigmoid, softmax)")


def _saved(tmp_path, change_params=None, change_config=None):
    """A saved MultiLayerNet (4-3-2), its parameters or config changed."""
    path = str(tmp_path / "net.json.gz")
    MultiLayerNet(4, [3], 2).save(path)
    params, meta = load_params(path)
    rows = dict((name, m.tolist()) for name, m in params.items())
    rows.update(change_params or {})
    meta["config"].update(change_config or {})
    save_params(path, rows, meta)
    return path


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_multilayer_load_refuses_weights_that_are_not_finite(tmp_path, value):
    path = _saved(tmp_path, {"W1": [[value, 0.0, 0.0]] + [[0.5, 0.5, 0.5]] * 3})
    with pytest.raises(DataError, match="W1"):
        MultiLayerNet.load(path)


def test_multilayer_load_of_an_absurd_input_size_is_a_data_error(tmp_path):
    # (10**308: below the 400 digits the JSON reader takes, beyond any float
    # once multiplied)
    path = _saved(tmp_path, change_config={"input_size": 10 ** 308})
    with pytest.raises(DataError):
        MultiLayerNet.load(path)


_INTERRUPTED_IMPORT = """
import runpy, sys

class Interrupt:   # Ctrl-C while the package purenn imports purenn.matrix
    def find_spec(self, name, path=None, target=None):
        if name == "purenn.matrix":
            raise KeyboardInterrupt

sys.meta_path.insert(0, Interrupt())
sys.argv = ["-m", "gates"]       # as python -m purenn gates has it while purenn imports
runpy.run_module("purenn", run_name="__main__", alter_sys=True)
"""


@pytest.mark.processes
def test_ctrl_c_while_purenn_imports_is_one_line_and_status_130():
    proc = subprocess.run([sys.executable, "-c", _INTERRUPTED_IMPORT], cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=60)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 130
