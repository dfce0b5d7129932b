"""Training a network: mini-batches, epochs, an optimiser (chapters 4.5, 6.1 - 6.5).

One **epoch** is one pass over the training data.  Each epoch the training
rows are shuffled (purenn's own seeded generator) and cut into mini-batches of
``mini_batch_size`` rows; for each batch the network computes its gradients
by backpropagation and the optimiser takes one step.  After each epoch the
trainer measures the accuracy on the training and the test data.

The same ``seed`` gives the same shuffles, so the same run gives the same
weights, to the last bit, on the same Python.  (The book's ``common/trainer.py``
draws each batch with replacement, ``np.random.choice``; shuffling gives every
sample exactly once an epoch.)  The progress bar is ``purenn.progress.Progress``.

>>> from purenn.multilayer import MultiLayerNet
>>> x = Matrix([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 8)
>>> t = [0, 1, 1, 0] * 8                                   # XOR
>>> net = MultiLayerNet(2, [8], 2, seed=3)
>>> trainer = Trainer(net, x, t, x, t, epochs=60, mini_batch_size=8,
...                   optimizer="adam", optimizer_param={"lr": 0.05}, verbose=False)
>>> trainer.train()["test_acc"][-1]
1.0
>>> trainer.test_acc_list[-1], len(trainer.train_loss_list)     # the book's names
(1.0, 240)
"""
import math
import sys
import time

try:
    import gc as _gc
except ImportError:  # MicroPython builds without the gc module
    _gc = None

from purenn.errors import ShapeError
from purenn.kernels import no_cycle_collection
from purenn.labels import as_labels
from purenn.matrix import Matrix, as_matrix, format_shape
from purenn.optimizers import OPTIMIZERS, make_optimizer
from purenn.progress import Progress
from purenn import rng as _rng


class TrainingDiverged(ArithmeticError):
    """The loss became NaN or infinite: the weights can no longer be trusted."""


class Trainer:
    """Train ``network`` (a ``MultiLayerNet``) on ``(x_train, t_train)``,
    measuring accuracy on ``(x_test, t_test)`` after each epoch.

    ``optimizer`` is a name (``"sgd"``, ``"momentum"``, ``"nesterov"``,
    ``"adagrad"``, ``"rmsprop"``, ``"adam"``) with ``optimizer_param``, or an
    optimiser object.  ``evaluate_sample_num_per_epoch`` limits the accuracy
    measurements to that many rows (None: all).  ``verbose`` prints a progress
    bar with the running loss to ``progress_out`` (default: ``out``), and one
    line per epoch to ``out`` (default ``sys.stderr``).

    ``workers`` > 1 splits every batch (and the accuracy measurements) over
    that many processes (``purenn.parallel``; ``"auto"``: one per core): the
    weights of one worker, sooner, for networks without batch normalisation
    and dropout.
    """

    def __init__(self, network, x_train, t_train, x_test, t_test, epochs=20,
                 mini_batch_size=100, optimizer="sgd", optimizer_param=None,
                 evaluate_sample_num_per_epoch=None, verbose=True, seed=0, out=None,
                 progress_out=None, workers=1):
        self.network = network
        self.x_train = as_matrix(x_train, "Trainer: x_train")
        self.x_test = as_matrix(x_test, "Trainer: x_test")
        classes = getattr(network, "output_size", None)
        self.t_train = as_labels(t_train, classes, "Trainer (train)", n=self.x_train.shape[0])
        self.t_test = as_labels(t_test, classes, "Trainer (test)", n=self.x_test.shape[0])
        if self.x_train.shape[1] != self.x_test.shape[1]:
            raise ShapeError("Trainer: x_train %s and x_test %s: columns must be equal"
                             % (format_shape(self.x_train.shape), format_shape(self.x_test.shape)))
        if type(epochs) is not int or epochs < 1:
            raise ValueError("Trainer: epochs must be an int >= 1, got %r" % (epochs,))
        if type(mini_batch_size) is not int or mini_batch_size < 1:
            raise ValueError("Trainer: mini_batch_size must be a positive int, got %r"
                             % (mini_batch_size,))
        if self.x_train.shape[0] < 1:
            raise ValueError("Trainer: x_train has no rows: nothing to learn from")
        if evaluate_sample_num_per_epoch is not None and (
                type(evaluate_sample_num_per_epoch) is not int
                or evaluate_sample_num_per_epoch < 1):
            raise ValueError("Trainer: evaluate_sample_num_per_epoch must be None (all rows) "
                             "or a positive int, got %r" % (evaluate_sample_num_per_epoch,))
        self.epochs = epochs
        self.batch_size = mini_batch_size
        if isinstance(optimizer, str):
            # make_optimizer names the known optimisers, the optimiser checks lr
            optimizer = make_optimizer(optimizer, **(optimizer_param or {"lr": 0.01}))
        elif optimizer_param is not None:
            raise TypeError("Trainer: optimizer_param goes with an optimiser name; "
                            "%r is already an optimiser object" % (optimizer,))
        if not callable(getattr(optimizer, "update", None)):
            raise TypeError("Trainer: optimizer must be a name (%s) or an object with an "
                            "update(params, grads) method, got %r"
                            % (", ".join(sorted(OPTIMIZERS)), optimizer))
        self.optimizer = optimizer
        self.evaluate_sample_num = evaluate_sample_num_per_epoch
        self.verbose = verbose
        self.gen = _rng.Random(seed)
        self.out = out
        self.progress_out = progress_out
        if workers != 1:
            from purenn.parallel import resolve_workers
            workers = resolve_workers(workers, "Trainer")
        self.workers = workers
        self._parallel = None  # the purenn.parallel.DataParallel of a run with workers
        self.history = {"train_loss": [], "epoch_loss": [], "train_acc": [], "test_acc": [],
                        "seconds": []}
        # the book's names (common/trainer.py) for the same lists
        self.train_loss_list = self.history["train_loss"]
        self.train_acc_list = self.history["train_acc"]
        self.test_acc_list = self.history["test_acc"]
        self._bar = None

    def _streams(self):
        out = self.out if self.out is not None else sys.stderr
        return out, self.progress_out if self.progress_out is not None else out

    def train_step(self, x_batch, t_batch):
        """One step: gradients of the batch, one optimiser update; returns the batch loss."""
        with no_cycle_collection():  # (purenn.kernels) the step's lists: no cycles
            grads = self.network.gradient(x_batch, t_batch)
            self.optimizer.update(self.network.params, grads)
        return self.network.last_layer.loss

    def _evaluate(self, x, t):
        n = x.shape[0] if self.evaluate_sample_num is None else min(self.evaluate_sample_num,
                                                                    x.shape[0])
        if n < x.shape[0]:
            x, t = x[0:n], t[:n]
        if self.workers > 1:
            from purenn.parallel import accuracy
            return accuracy(self.network, x, t, workers=self.workers)
        return self.network.accuracy(x, t)

    def train_epoch(self, epoch):
        """One pass over the shuffled training data; returns the mean batch loss."""
        # Everything alive now (the data set, the network) is still alive after
        # the epoch: ``gc.freeze`` moves it out of the cycle collector's sight
        # for the epoch, so that its collections look only at what the steps
        # make (with 60,000 rows of MNIST a full collection takes ~0.2 s).
        # CPython 3.7+; elsewhere (or when the caller froze objects of its own,
        # which gc.unfreeze would thaw too) nothing changes.
        frozen = _gc is not None and hasattr(_gc, "freeze") and _gc.isenabled() \
            and not _gc.get_freeze_count()
        if frozen:
            _gc.freeze()
        try:
            return self._train_epoch(epoch)
        finally:
            if frozen:
                _gc.unfreeze()

    def _train_epoch(self, epoch):
        n = self.x_train.shape[0]
        order = self.gen.permutation(n)
        batches = [order[i:i + self.batch_size] for i in range(0, n, self.batch_size)]
        total, start = 0.0, time.time()
        bar = None
        if self.verbose:
            bar = Progress(len(batches), "steps", out=self._streams()[1], width=24,
                           prefix="epoch %*d/%d" % (len(str(self.epochs)), epoch, self.epochs))
        self._bar = bar
        for b, idx in enumerate(batches, 1):
            try:
                if self._parallel is not None:
                    loss = self._parallel.step(idx)
                else:
                    loss = self.train_step(self.x_train[idx], [self.t_train[i] for i in idx])
            except OverflowError:  # Python's float ** raises instead of giving inf
                loss = math.inf
            if not -math.inf < loss < math.inf:
                # once a loss is NaN or inf every weight soon is too, and the
                # accuracies measured after it would mean nothing
                if bar is not None:
                    bar.done()  # keep the bar: it shows where it broke
                raise TrainingDiverged(
                    "Trainer: the loss is %r at epoch %d, step %d of %d: training diverged; "
                    "try a smaller learning rate (lr)" % (loss, epoch, b, len(batches)))
            self.history["train_loss"].append(loss)
            total += loss
            if bar is not None:
                mean = total / b
                bar.update(1, note="loss %s  %.1f s" % ("%.4f" % mean if abs(mean) < 1e6
                                                        else "%.3g" % mean, time.time() - start))
        return total / len(batches)

    def train(self):
        """Run every epoch; returns ``history``: per step ``train_loss``, per epoch
        ``epoch_loss`` (the mean of its steps), ``train_acc``, ``test_acc`` and
        ``seconds`` (of training, without the accuracy measurements).

        Raises ``TrainingDiverged`` as soon as a step's loss is NaN or infinite
        (and ``purenn.errors.WorkerError`` when a worker process dies)."""
        if self.workers == 1:
            return self._train()
        from purenn.parallel import DataParallel
        with DataParallel(self.network, self.optimizer, self.x_train, self.t_train,
                          workers=self.workers) as self._parallel:
            try:
                return self._train()
            finally:
                self._parallel = None

    def _train(self):
        for epoch in range(1, self.epochs + 1):
            start = time.time()
            mean_loss = self.train_epoch(epoch)
            seconds = time.time() - start
            train_acc = self._evaluate(self.x_train, self.t_train)
            test_acc = self._evaluate(self.x_test, self.t_test)
            self.history["epoch_loss"].append(mean_loss)
            self.history["train_acc"].append(train_acc)
            self.history["test_acc"].append(test_acc)
            self.history["seconds"].append(seconds)
            if self.verbose:
                self._bar.clear()  # the epoch's line takes the bar's place
                out = self._streams()[0]
                out.write("epoch %*d/%d  loss %.4f  train acc %.4f  test acc %.4f  %.1f s\n"
                          % (len(str(self.epochs)), epoch, self.epochs, mean_loss,
                             train_acc, test_acc, seconds))
                out.flush()
        return self.history
