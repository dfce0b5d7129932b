"""purenn.parallel: every core, the same answers, no hang when a worker dies.

Tolerances: inference with W workers computes every batch exactly as one
worker does, and so does data-parallel training of a MultiLayerNet (each
worker computes the gradient of its rows of the parameters over the whole
batch): predictions and weights are compared with ``==``.  The losses it
reports are the workers' mean losses weighted by their share of the batch:
within 1e-12 of one worker's.  The generic path (any network with
``gradient`` and ``params``) adds the W gradients of parts of the batch, in
another order than one worker: after the 20 steps checked here its weights
agree with one worker's within 1e-12 (absolute; weights of size 0.1 to 1).
For a given number of workers two runs are identical (``==``).
"""
import pickle
import os
from fractions import Fraction
import subprocess
import sys
import textwrap
import time

import pytest
from hypothesis import given, example, strategies as st

from purenn.datasets import load_digits
from purenn.errors import WorkerError
from purenn.matrix import Matrix
from purenn.gradient_check import max_abs_difference
from purenn.multilayer import MultiLayerNet
from purenn.optimizers import Adam, SGD, Momentum, OPTIMIZERS
from purenn import parallel
from purenn.parallel import DataParallel, Packed, accuracy, predict_batches, resolve_workers
from purenn.testing import matrices

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
START_METHODS = ["fork", "spawn"] if sys.platform != "win32" else ["spawn"]
# runs of a few hundred rows: enough batches to share out, quick on every Python
X, T = load_digits(kind="test")
X, T = X[:600], T[:600]


def _net(seed=0, **kw):
    return MultiLayerNet(64, [30], 10, seed=seed, **kw)


def _train(net, optimizer, workers, steps=20, start_method=None, batch=32):
    losses = []
    with DataParallel(net, optimizer, X, T, workers=workers, start_method=start_method) as dp:
        for s in range(steps):
            rows = [(s * batch + i) % X.shape[0] for i in range(batch)]
            losses.append(dp.step(rows))
    return losses


# ---------------------------------------------------- without any process

def test_resolve_workers_refuses_zero():
    with pytest.raises(ValueError, match='workers must be an int >= 1 or "auto", got 0'):
        resolve_workers(0)


def test_resolve_workers_auto_is_at_least_one():
    assert resolve_workers("auto") >= 1


@pytest.mark.parametrize("platform, name", [("emscripten", "Pyodide"), ("wasi", "WASI")])
def test_workers_on_a_python_without_processes_say_so(monkeypatch, platform, name):
    monkeypatch.setattr(sys, "platform", platform)
    with pytest.raises(WorkerError, match="workers=2 needs worker processes, but %s" % name):
        predict_batches(_net(), X, workers=2)


def test_one_worker_needs_no_processes(monkeypatch):
    monkeypatch.setattr(sys, "platform", "emscripten")
    net = _net()
    assert predict_batches(net, X, workers=1) == net.predict(X).argmax(axis=1)


def test_data_parallel_refuses_batchnorm():
    with pytest.raises(ValueError, match="batch normalisation uses the mean and variance"):
        DataParallel(_net(use_batchnorm=True), Adam(), X, T, workers=2)


def test_data_parallel_refuses_dropout():
    with pytest.raises(ValueError, match="dropout draws its random masks in one process"):
        DataParallel(_net(use_dropout=True), Adam(), X, T, workers=2)


def test_data_parallel_refuses_an_optimizer_it_cannot_split():
    class Mine:
        def update(self, params, grads):
            pass
    with pytest.raises(ValueError, match="the optimiser must be one of purenn's"):
        DataParallel(_net(), Mine(), X, T, workers=2)


def test_one_worker_is_gradient_plus_update():
    a, b = _net(), _net()
    _train(a, Adam(), workers=1, steps=3)
    opt = Adam()
    for s in range(3):
        rows = [s * 32 + i for i in range(32)]
        opt.update(b.params, b.gradient(X[rows], [T[i] for i in rows]))
    assert a.params == b.params


def test_shard_plan_covers_every_row_once():
    shapes = [("W1", (784, 50)), ("b1", (1, 50)), ("W2", (50, 100)), ("b2", (1, 100)),
              ("W3", (100, 10)), ("b3", (1, 10))]
    for workers in (2, 3, 8):
        plan = parallel._shard_plan(shapes, workers)
        for key, (rows, _) in shapes:
            owned = sorted(r for entries in plan for k, r0, r1 in entries if k == key
                           for r in range(r0, r1))
            assert owned == list(range(rows)), (workers, key)


@given(matrices(kind="float"))
@example(Matrix([[0.0, 1.0 / 255, 1.0]]))
def test_packed_gives_back_equal_rows(m):
    p = Packed.from_matrix(m)
    assert p.rows(range(m.shape[0])) == m.tolist()


@pytest.mark.parametrize("rows, kind", [
    ([[p / 255.0 for p in range(256)]], "table"),
    ([[p / 255.0 for p in range(257)]], "float64"),
    ([[1, 2], [3, 4]], "table"),
])
def test_packed_chooses_the_compact_form(rows, kind):
    assert Packed.from_matrix(Matrix(rows)).kind == kind


def test_packed_keeps_fractions_exactly():
    from fractions import Fraction
    m = Matrix([[Fraction(1, 3)] * 300])
    p = Packed.from_matrix(m)
    assert (p.kind, p.rows([0])) == ("tuples", m.tolist())


def test_packed_mnist_row_is_one_byte_a_pixel():
    from purenn.datasets import load_mnist
    x, _ = load_mnist(kind="test")
    p = Packed.from_matrix(x, 0, 100)
    assert (p.kind, len(p.data)) == ("table", 100 * 784)


# ------------------------------------------------------------ with processes

@pytest.mark.processes
@pytest.mark.parametrize("start_method", START_METHODS)
def test_predict_batches_with_two_workers_equals_one(start_method):
    net = _net(seed=3)
    one = predict_batches(net, X, batch_size=50)
    assert predict_batches(net, X, batch_size=50, workers=2, start_method=start_method) == one


@pytest.mark.processes
def test_predict_batches_with_more_workers_than_batches():
    net = _net()
    assert predict_batches(net, X[:30], batch_size=100, workers=3) == \
        net.predict(X[:30]).argmax(axis=1)


@pytest.mark.processes
def test_predict_batches_tells_progress_about_every_row():
    class Count:
        count = 0

        def update(self, n):
            self.count += n
    progress = Count()
    predict_batches(_net(), X, batch_size=64, workers=2, progress=progress)
    assert progress.count == X.shape[0]


@pytest.mark.processes
def test_accuracy_with_two_workers_equals_the_networks():
    net = _net(seed=5)
    rows = X.tolist()
    rows[7] = [float("nan")] * 64  # scores with a nan: never a right answer
    x = Matrix(rows)
    assert accuracy(net, x, T, batch_size=50, workers=2) == net.accuracy(x, T, batch_size=50)


class Opaque:
    """A network seen only through ``gradient``, ``params`` and ``last_layer``:
    DataParallel's generic path."""

    def __init__(self, net):
        self.net, self.params, self.last_layer = net, net.params, net.last_layer

    def gradient(self, x, t):
        return self.net.gradient(x, t)


@pytest.mark.processes
@pytest.mark.parametrize("start_method", START_METHODS)
@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_data_parallel_gives_the_weights_of_one_worker(start_method, activation):
    a, b = _net(activation=activation), _net(activation=activation)
    _train(a, Adam(lr=0.01), workers=1)
    _train(b, Adam(lr=0.01), workers=2, start_method=start_method)
    assert a.params == b.params


@pytest.mark.processes
def test_data_parallel_with_weight_decay_gives_the_weights_of_one_worker():
    a, b = _net(weight_decay_lambda=0.1), _net(weight_decay_lambda=0.1)
    _train(a, SGD(lr=0.1), workers=1, steps=8)
    _train(b, SGD(lr=0.1), workers=2, steps=8)
    assert a.params == b.params


@pytest.mark.processes
def test_data_parallel_losses_within_1e_12_of_one_worker():
    losses_1 = _train(_net(), Adam(lr=0.01), workers=1)
    losses_2 = _train(_net(), Adam(lr=0.01), workers=2)
    assert max(abs(u - v) for u, v in zip(losses_1, losses_2)) <= 1e-12


@pytest.mark.processes
@pytest.mark.parametrize("start_method", START_METHODS)
def test_data_parallel_of_any_network_stays_within_1e_12_of_one_worker(start_method):
    a, b = _net(), _net()
    _train(a, Adam(lr=0.01), workers=1)
    _train(Opaque(b), Adam(lr=0.01), workers=2, start_method=start_method)
    assert max_abs_difference(a.params, b.params) <= 1e-12


@pytest.mark.processes
@pytest.mark.parametrize("workers", [2, 3])
def test_data_parallel_is_deterministic(workers):
    a, b = _net(), _net()
    assert _train(a, Momentum(lr=0.05), workers, steps=8) == \
        _train(b, Momentum(lr=0.05), workers, steps=8)
    assert a.params == b.params


@pytest.mark.processes
def test_data_parallel_with_three_workers_gives_the_weights_of_one():
    # batches of 32 split 11 + 11 + 10: each part's softmax gradient is scaled
    # by 1 / 32, the whole batch's, to the bit
    a, b = _net(), _net()
    _train(a, SGD(lr=0.1), workers=1, steps=10)
    _train(b, SGD(lr=0.1), workers=3, steps=10)
    assert a.params == b.params


@pytest.mark.processes
def test_data_parallel_hands_back_the_optimizer_state():
    a, b = _net(), _net()
    opt_1, opt_2 = Adam(lr=0.01), Adam(lr=0.01)
    _train(a, opt_1, workers=1, steps=5)
    _train(b, opt_2, workers=2, steps=5)
    assert opt_2.iter == 5
    assert (opt_2.m, opt_2.v) == (opt_1.m, opt_1.v)
    _train(b, opt_2, workers=1, steps=1)  # and one worker carries on with it
    assert opt_2.iter == 6


@pytest.mark.processes
def test_data_parallel_splits_state_it_already_has():
    a, b = _net(), _net()
    opt_1, opt_2 = Adam(lr=0.01), Adam(lr=0.01)
    _train(a, opt_1, workers=1, steps=3)
    _train(b, opt_2, workers=1, steps=3)
    _train(a, opt_1, workers=1, steps=3)
    _train(b, opt_2, workers=2, steps=3)
    assert a.params == b.params


@pytest.mark.processes
def test_data_parallel_batch_smaller_than_the_workers():
    a, b = _net(), _net()
    _train(a, SGD(), workers=1, steps=2, batch=1)
    _train(b, SGD(), workers=2, steps=2, batch=1)
    assert a.params == b.params


@pytest.mark.processes
def test_an_error_in_a_worker_is_raised_here():
    t = list(T)
    t[20] = 10  # no class 10: the second worker's half of the batch fails
    with pytest.raises(ValueError, match="is 10; a class label is an int from 0 to 9"):
        with DataParallel(_net(), SGD(), X, t, workers=2) as dp:
            dp.step(list(range(24)))


@pytest.mark.processes
def test_a_closed_data_parallel_refuses_steps():
    dp = DataParallel(_net(), SGD(), X, T, workers=2)
    dp.close()
    with pytest.raises(WorkerError, match="closed"):
        dp.step([0, 1])


# ---------------------------------------------------------- a worker dies

def _run_script(tmp_path, code, timeout=120):
    """Run code as a script in a fresh Python (a file, so that spawn's children
    can import its classes); (returncode, stdout + stderr, seconds).  The
    timeout turns a hang into a failed test instead of a stuck test run."""
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(code))
    env = dict(os.environ, PYTHONPATH=ROOT)
    started = time.time()
    proc = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=timeout)
    return proc.returncode, proc.stdout, time.time() - started


DYING_NETWORK = """
import multiprocessing, os, signal, sys
from purenn.datasets import load_digits
from purenn.errors import WorkerError
from purenn.multilayer import MultiLayerNet
from purenn.optimizers import SGD
from purenn.parallel import DataParallel, predict_batches


class DyingNet(MultiLayerNet):
    "In a worker, dies at its third prediction or training step, as if killed by the system."
    calls = {"predict": 0, "train": 0}

    def _maybe_die(self, what):
        DyingNet.calls[what] += 1
        if multiprocessing.parent_process() is not None and DyingNet.calls[what] == 3:
            os.kill(os.getpid(), signal.SIGKILL)

    def predict(self, x, train_flg=False):
        if not train_flg:
            self._maybe_die("predict")
        return MultiLayerNet.predict(self, x, train_flg)

    def loss(self, x, t, train_flg=False):
        if train_flg:  # every training step's forward pass
            self._maybe_die("train")
        return MultiLayerNet.loss(self, x, t, train_flg)
"""


@pytest.mark.processes
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
@pytest.mark.parametrize("start_method", START_METHODS)
def test_a_worker_killed_during_inference_is_a_clear_error(tmp_path, start_method):
    code, out, seconds = _run_script(tmp_path, DYING_NETWORK + """
if __name__ == "__main__":
    x, t = load_digits(kind="test")
    try:
        predict_batches(DyingNet(64, [30], 10), x, batch_size=20, workers=2,
                        start_method=%r)
    except WorkerError as e:
        print("WorkerError:", e)
""" % start_method)
    assert "WorkerError: predict_batches: worker 1 (pid" in out, out
    assert "was killed by signal 9" in out, out
    assert seconds < 60


@pytest.mark.processes
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
@pytest.mark.parametrize("start_method", START_METHODS)
def test_a_worker_killed_during_training_is_a_clear_error(tmp_path, start_method):
    code, out, seconds = _run_script(tmp_path, DYING_NETWORK + """
if __name__ == "__main__":
    x, t = load_digits(kind="test")
    dp = DataParallel(DyingNet(64, [30], 10), SGD(), x, t, workers=2, start_method=%r)
    try:
        for s in range(10):
            dp.step(list(range(s * 32, s * 32 + 32)))
    except WorkerError as e:
        print("WorkerError at step %%d:" %% s, e)
    try:
        dp.step([0, 1])
    except WorkerError as e:
        print("then:", e)
""" % start_method)
    assert "WorkerError at step 2: DataParallel: worker 1 (pid" in out, out
    assert "was killed by signal 9" in out, out
    assert "then: DataParallel.step: closed" in out, out
    assert seconds < 60


@pytest.mark.processes
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs POSIX processes")
def test_workers_exit_when_the_main_process_is_killed(tmp_path):
    code, out, _ = _run_script(tmp_path, """
import os, signal, sys
from purenn.datasets import load_digits
from purenn.multilayer import MultiLayerNet
from purenn.optimizers import SGD
from purenn.parallel import DataParallel

if __name__ == "__main__":
    x, t = load_digits(kind="test")
    dp = DataParallel(MultiLayerNet(64, [30], 10), SGD(), x, t, workers=3)
    dp.step(list(range(32)))
    print("pids", *dp.pids)
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)
""")
    pids = [int(p) for p in out.split("pids", 1)[1].split()]
    deadline = time.time() + 20
    alive = pids
    while alive and time.time() < deadline:
        alive = [p for p in alive if _running(p)]
        time.sleep(0.1)
    assert alive == [], "workers still running 20 s after their main process died"


def _running(pid):
    """True while pid is a live process (a zombie is not)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            return "\nState:\tZ" not in f.read()
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return not os.path.isdir("/proc")


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_state_goes_to_shards_and_back(name):
    # the data-parallel step relies on each optimiser updating element by
    # element, its state kept per parameter: cut into shards and put back
    # together, the state must be what it was
    params = {"W": Matrix([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), "b": Matrix([[0.5, 0.5]])}
    opt = OPTIMIZERS[name]()
    opt.update(params, {"W": Matrix([[0.1, -0.1], [0.2, 0.3], [0.0, 1.0]]),
                        "b": Matrix([[1.0, -1.0]])})
    plan = parallel._shard_plan([(k, p.shape) for k, p in params.items()], 2)
    copies = parallel._scatter_optimizer(opt, plan, list(params))
    states = [parallel._optimizer_state(c, entries) for c, entries in zip(copies, plan)]
    names = parallel._state_names(opt, list(params))
    for state_name in names:
        for key in params:
            rows = []
            for (shards, _), entries in zip(states, plan):
                if any(k == key for k, _, _ in entries):
                    rows += parallel._unpacked_rows(shards[state_name][key])
            assert rows == parallel._rows_of(getattr(opt, state_name)[key]), (state_name, key)


@pytest.mark.parametrize("rows", [
    [[0.5, -0.0, float("inf")], [float("nan"), 1e-300, -2.5]],   # floats: sent as bytes
    [[1, 2], [3, 4]],                                             # ints stay ints
    [[Fraction(1, 3), 0.5]],                                      # a Fraction stays exact
    [[1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0]],                     # review: ragged rows
    [],
])
def test_optimizer_state_rows_are_sent_as_they_are(rows):
    back = parallel._unpacked_rows(pickle.loads(pickle.dumps(parallel._packed_rows(rows))))
    assert repr(back) == repr(rows) and [list(map(type, r)) for r in back] == \
        [list(map(type, r)) for r in rows]


# ------------------------------------------------ Trainer(workers=N)

def _trainer(workers, **kw):
    from purenn.trainer import Trainer
    net = _net(activation="relu")
    return net, Trainer(net, X, T, X[:200], T[:200], epochs=2, mini_batch_size=50,
                        optimizer="adam", optimizer_param={"lr": 0.01}, verbose=False,
                        workers=workers, **kw)


@pytest.mark.processes
def test_trainer_with_two_workers_gives_the_weights_of_one():
    (a, one), (b, two) = _trainer(1), _trainer(2)
    one.train(), two.train()
    assert a.params == b.params


@pytest.mark.processes
def test_trainer_with_two_workers_gives_the_accuracies_of_one():
    one, two = _trainer(1)[1], _trainer(2)[1]
    h1, h2 = one.train(), two.train()
    assert (h1["train_acc"], h1["test_acc"]) == (h2["train_acc"], h2["test_acc"])


@pytest.mark.processes
def test_trainer_with_two_workers_losses_within_1e_12_of_one():
    h1, h2 = _trainer(1)[1].train(), _trainer(2)[1].train()
    assert max(abs(p - q) for p, q in zip(h1["train_loss"], h2["train_loss"])) <= 1e-12


@pytest.mark.processes
def test_trainer_with_two_workers_hands_back_the_optimizer_state():
    (_, one), (_, two) = _trainer(1), _trainer(2)
    one.train(), two.train()
    assert (two.optimizer.iter, two.optimizer.m, two.optimizer.v) == \
        (one.optimizer.iter, one.optimizer.m, one.optimizer.v)


@pytest.mark.parametrize("workers", [0, -1, 1.5, "two"])
def test_trainer_refuses_a_bad_worker_count(workers):
    with pytest.raises(ValueError, match="Trainer"):
        _trainer(workers)


@pytest.mark.processes
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_worker_killed_during_a_trainer_run_is_a_clear_error(tmp_path):
    code, out, seconds = _run_script(tmp_path, DYING_NETWORK + """
from purenn.trainer import Trainer

if __name__ == "__main__":
    x, t = load_digits(kind="test")
    trainer = Trainer(DyingNet(64, [30], 10), x, t, x, t, epochs=1, mini_batch_size=32,
                      verbose=False, workers=2)
    try:
        trainer.train()
    except WorkerError as e:
        print("WorkerError after %d steps:" % len(trainer.train_loss_list), e)
""")
    assert "WorkerError after 2 steps: DataParallel: worker 1 (pid" in out, out
    assert "was killed by signal 9" in out, out
    assert seconds < 60
