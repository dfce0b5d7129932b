"""Chapters 4 - 6 on the command line: ``gradients``, ``backprop``,
``gradcheck``, ``optimizers`` and ``train``.

==============================  ==============================================
``cmd_gradients`` ...           one function a command, ``cmd_<name>(args)``
``TRAIN_DEFAULTS``              ``train``'s settings for each data set
``training_bytes(sizes, n)``    about how much memory training a network of
                                ``sizes`` in batches of ``n`` takes
``memory_size()``               the machine's memory (None: unknown)
``learning_curves(history)``    the loss and accuracy curves of a run
``add_commands(sub)``           adds the sub-commands to ``python -m purenn``
==============================  ==============================================
"""
import errno
import os
import sys
import tempfile
import time

from purenn.cli.common import (CommandError, describe, integer, non_negative, positive, ratio,
                               shown, usage_error, worker_count)
from purenn.errors import WorkerError
from purenn.gradients import numerical_diff, numerical_gradient, gradient_descent
from purenn.layers import MulLayer, AddLayer
from purenn.gradient_check import gradient_check
from purenn.multilayer import ACTIVATION_LAYERS, MultiLayerNet, memory_size
from purenn.optimizer_compare import COMPARE_RATES, compare_optimizers, f_compare, plot_paths
from purenn.trainer import Trainer, TrainingDiverged


# -------------------------------------------------------------- chapter 4

def _function_1(x):
    return 0.01 * x ** 2 + 0.1 * x


def _function_2(x):
    return x[0, 0] ** 2 + x[0, 1] ** 2


def cmd_gradients(args):
    """Chapter 4.3 - 4.4: numerical derivatives and gradient descent, good and bad rates."""
    print("f(x) = 0.01x^2 + 0.1x    numerical_diff at 5: %r   at 10: %r   (exact: 0.2, 0.3)"
          % (numerical_diff(_function_1, 5), numerical_diff(_function_1, 10)))
    print("f(x0, x1) = x0^2 + x1^2  numerical_gradient at (3, 4): %r   (exact: 6, 8)"
          % (numerical_gradient(_function_2, [3.0, 4.0]).tolist()[0],))
    print()
    print("gradient_descent from (-3, 4), 100 steps:")
    print("%10s  %-44s  %s" % ("lr", "x after 100 steps", ""))
    for lr, verdict in ((0.1, "reaches the minimum (0, 0)"), (10.0, "diverges: every step overshoots"),
                        (1e-10, "too small: hardly moves")):
        x = gradient_descent(_function_2, [-3.0, 4.0], lr=lr, step_num=100)
        print("%10g  %-44s  %s" % (lr, "(%.6g, %.6g)" % (x[0, 0], x[0, 1]), verdict))
    print()


# -------------------------------------------------------------- chapter 5

def cmd_backprop(args):
    """Chapter 5.4: the apple and orange example, forward and backward."""
    mul_apple, mul_orange, add, mul_tax = MulLayer(), MulLayer(), AddLayer(), MulLayer()
    apple_price = mul_apple.forward(100, 2)
    orange_price = mul_orange.forward(150, 3)
    all_price = add.forward(apple_price, orange_price)
    price = mul_tax.forward(all_price, 1.1)
    dall_price, dtax = mul_tax.backward(1)
    dapple_price, dorange_price = add.backward(dall_price)
    dorange, dorange_num = mul_orange.backward(dorange_price)
    dapple, dapple_num = mul_apple.backward(dapple_price)
    print("2 apples at 100, 3 oranges at 150, tax 1.1")
    print("  price        %r" % price)
    print("  d apple      %r   d apple_num  %r" % (dapple, dapple_num))
    print("  d orange     %r   d orange_num %r" % (dorange, dorange_num))
    print("  d tax        %r" % dtax)
    print()


def cmd_gradcheck(args):
    """Chapter 5.7.3: backprop against numerical gradients, for each activation."""
    tol = args.tol
    plain = args.plain
    worst_all = 0.0
    names = None
    rows = []
    for activation in sorted(ACTIVATION_LAYERS):
        for bn in (False, True):
            try:
                worst = gradient_check(activation, use_batchnorm=bn, weight_decay_lambda=0.1,
                                       seed=args.seed, extrapolate=not plain)
            except ValueError as e:  # a check that cannot be made says why
                raise CommandError("%s%s, seed %d: %s" % (activation, " + batchnorm" if bn
                                                          else "", args.seed, e))
            if names is None:
                names = [k for k in worst if k[0] in "Wb"]
            label = activation + (" + batchnorm" if bn else "")
            rows.append((label, worst))
            worst_all = max(worst_all, max(worst.values()))
    print("max |backprop - numerical| per parameter; network 6-5-4-3, batch 4, "
          "weight decay 0.1")
    print("numerical: central differences, h = 1e-4%s; inputs drawn so that no ReLU "
          "input is within 1e-2 of its kink"
          % (" (plain)" if plain else ", extrapolated (4 D(h/2) - D(h)) / 3 to cancel "
             "their h^2 error"))
    print("%-20s" % "activation" + "".join("%10s" % n for n in names) + "%12s" % "gamma/beta")
    for label, worst in rows:
        extra = [v for k, v in worst.items() if k not in names]
        print("%-20s" % label + "".join("%10.1e" % worst[n] for n in names)
              + ("%12.1e" % max(extra) if extra else "%12s" % "-"))
    ok = worst_all < tol
    print("largest difference %.2e: %s (tolerance %g)" % (worst_all, "OK" if ok else "FAILED", tol))
    print()
    return 0 if ok else 1


# -------------------------------------------------------------- chapter 6

MAX_COMPARE_STEPS = 1000


def cmd_optimizers(args):
    """Chapter 6.1.7: six optimisers on f(x, y) = x^2/20 + y^2 from (-7, 2)."""
    paths = compare_optimizers(steps=args.steps)
    rates = dict(COMPARE_RATES)
    print("f(x, y) = x^2/20 + y^2 from (-7, 2), %d steps; (x, y) every 5 steps" % args.steps)
    marks = list(range(0, args.steps + 1, 5))
    if marks[-1] != args.steps:
        marks.append(args.steps)
    print("%-9s %5s  " % ("optimizer", "lr") + "".join("%18s" % ("step %d" % m) for m in marks)
          + "%12s" % "f at end")
    for name, path in paths.items():
        cells = "".join("%18s" % ("(%.2f, %.2f)" % path[m]) for m in marks)
        print("%-9s %5g  %s%12.3g" % (name, rates[name], cells, f_compare(*path[-1])))
    print()
    if args.plot:
        print(plot_paths(paths))
        print()


def _load(args):
    """((x_train, t_train), (x_test, t_test)) of the data set ``args`` ask for."""
    from purenn.datasets import load_digits, load_mnist
    if args.dataset == "digits":
        return load_digits(kind="train"), load_digits(kind="test")
    try:
        train = load_mnist(kind="train", path=args.mnist_path)
    except FileNotFoundError:  # not in the folders find_mnist looked in
        raise CommandError(_no_mnist(args))
    return train, load_mnist(kind="test")


def _no_mnist(args):
    """Where the MNIST training set was looked for, and how to get it, in
    the command line's words (the API's message speaks of ``path=``)."""
    from purenn.datasets import MNIST_ENV, MNIST_FILES, mnist_cache_dir
    files = " and ".join(MNIST_FILES["train"]) + " (.gz or raw)"
    if args.mnist_path:
        return ("no MNIST training set in %s: it needs %s. Get it with `%s download-mnist "
                "--dir %s`" % (args.mnist_path, files, args.prog, args.mnist_path))
    folders = [mnist_cache_dir()]
    if os.environ.get(MNIST_ENV):
        folders.insert(0, "%s (%s)" % (os.environ[MNIST_ENV], MNIST_ENV))
    return ("the MNIST training set is not in %s: it needs %s. Get it with `%s download-mnist`, "
            "or name the folder that has it with --mnist-path FOLDER (or %s=FOLDER)"
            % (" nor in ".join(folders), files, args.prog, MNIST_ENV))


TRAIN_DEFAULTS = {
    # dataset: hidden sizes, activation, optimizer, lr, epochs, batch size, batchnorm
    # digits: batchnorm lifts the writer-independent test accuracy from about
    # 95.6 % to about 97 % (mean of 3 seeds), and 15 epochs fit in 2 minutes
    "digits": ([100], "relu", "adam", 0.002, 15, 32, True),
    # mnist: the book's 784-50-100-10 sigmoid network
    "mnist": ([50, 100], "sigmoid", "adam", 0.001, 20, 100, False),
}


def cmd_train(args):
    """Chapter 6: train a MultiLayerNet on optdigits (bundled) or MNIST."""
    if getattr(args, "network", "mlp") == "simple_convnet":  # chapter 7: purenn/cli/convnet.py
        from purenn.cli.convnet import cmd_train_convnet
        return cmd_train_convnet(args)
    hidden, activation, optimizer, lr, epochs, batch, batchnorm = TRAIN_DEFAULTS[args.dataset]
    if args.batchnorm is not None:
        batchnorm = args.batchnorm
    hidden = args.hidden if args.hidden is not None else hidden
    activation = args.activation or activation
    optimizer = args.optimizer or optimizer
    lr = args.lr if args.lr is not None else lr
    epochs = args.epochs if args.epochs is not None else epochs
    batch = args.batch_size if args.batch_size is not None else batch
    if args.mnist_path is not None:
        if args.dataset != "mnist":
            raise usage_error("--mnist-path is for --dataset mnist (the default data set, "
                              "digits, ships with purenn)")
        if not os.path.isdir(args.mnist_path):
            raise usage_error("--mnist-path %s: no such folder" % shown(args.mnist_path))
    if args.workers > 1 and (batchnorm or args.dropout):
        raise usage_error("--workers %d splits every batch over processes; batch "
                          "normalisation and dropout need the whole batch in one: add "
                          "--no-batchnorm --dropout 0, or use --workers 1" % args.workers)
    for path, what in ((args.save, "--save"), (args.svg, "--svg")):
        problem = _not_writable(path) if path is not None else None
        if problem:  # say so now, not after minutes of training
            raise usage_error("%s %s: %s" % (what, shown(path), problem))
    start = time.time()
    try:
        (x_train, t_train), (x_test, t_test) = _load(args)
    except (OSError, ValueError) as e:  # not found, or a corrupt file (DataError)
        raise CommandError(describe(e))
    _check_fits([x_train.shape[1]] + hidden + [10], batch)
    net = MultiLayerNet(x_train.shape[1], hidden, 10, activation=activation,
                        weight_decay_lambda=args.weight_decay,
                        use_dropout=args.dropout > 0, dropout_ratio=args.dropout or 0.5,
                        use_batchnorm=batchnorm, seed=args.seed)
    print("%s: %d training and %d test samples; network %s %s%s, %s (lr %g), %d epochs of "
          "batches of %d, seed %d" % (args.dataset, x_train.shape[0], x_test.shape[0],
                                      "-".join(str(s) for s in net.sizes), activation,
                                      " + batchnorm" if batchnorm else "", optimizer, lr,
                                      epochs, batch, args.seed))
    sys.stdout.flush()
    trainer = Trainer(net, x_train, t_train, x_test, t_test, epochs=epochs,
                      mini_batch_size=batch, optimizer=optimizer,
                      optimizer_param={"lr": lr}, seed=args.seed, out=sys.stdout,
                      progress_out=sys.stderr, verbose=not args.quiet, workers=args.workers)
    try:
        history = trainer.train()
    except (TrainingDiverged, WorkerError) as e:  # WorkerError: a worker process died
        raise CommandError(str(e))
    seconds = time.time() - start
    print("test accuracy %.4f after %d epochs; %.1f s of training (%.1f s an epoch), "
          "%.1f s in all on %s %s" % (history["test_acc"][-1], epochs, sum(history["seconds"]),
                                     sum(history["seconds"]) / epochs, seconds,
                                     sys.implementation.name,
                                     ".".join(str(v) for v in sys.version_info[:3])))
    curves = learning_curves(history)
    if not args.quiet:
        print()
        print(curves.to_text())
        print()
    problems = []  # the network first: it is the result of the run
    if args.save:
        problems.append(_save(net, args.save, dict(
            dataset=args.dataset, epochs=epochs, optimizer=optimizer, lr=lr, batch_size=batch,
            test_accuracy=history["test_acc"][-1],
            python="%s %s" % (sys.implementation.name,
                              ".".join(str(v) for v in sys.version_info[:3])),
            command=_command(args.dataset, hidden, activation, optimizer, lr, epochs, batch,
                             batchnorm, args))))
    if args.svg:
        try:
            curves.save_svg(args.svg)
            print("curves saved to %s" % shown(args.svg))
        except OSError as e:
            problems.append("cannot write the curves to %s: %s" % (shown(args.svg), describe(e)))
    problems = [p for p in problems if p]
    if problems:
        raise CommandError("; ".join(problems))
    return 0


def learning_curves(history):
    """The loss and accuracy curves of a training run (issue 5): per epoch the
    mean training loss, the training and the test accuracy, as one
    ``purenn.plot.LinePlot`` (``to_text()``, ``to_svg()``).

    >>> p = learning_curves({"epoch_loss": [0.9, 0.4], "train_acc": [0.7, 0.9],
    ...                      "test_acc": [0.6, 0.8]})
    >>> [label for label, xs, ys in p.series], p.series[2][1]
    (['train loss', 'train acc', 'test acc'], [1.0, 2.0])
    """
    from purenn.plot import plot_lines
    epochs = list(range(1, len(history["train_acc"]) + 1))
    return plot_lines({"train loss": history["epoch_loss"], "train acc": history["train_acc"],
                       "test acc": history["test_acc"]}, x=epochs,
                      title="loss and accuracy per epoch", xlabel="epoch",
                      ylabel="loss / accuracy")


def _not_writable(path):
    """Why ``path`` cannot be written (a str), or None if it can.  Nothing
    is created to find out: purenn writes a file as a temporary file in the
    same folder, then renames it, so the folder must exist and be writable."""
    if not path:
        return "an empty file name"
    if os.path.isdir(path):
        return "is a folder; give a file name"
    if os.path.exists(path) and not os.path.isfile(path):
        return "not a regular file (a device, a FIFO or a socket); give a file name"
    folder = os.path.dirname(os.path.abspath(os.path.realpath(path)))
    if not os.path.isdir(folder):
        return os.strerror(errno.ENOENT)  # "No such file or directory"
    if not os.access(folder, os.W_OK | os.X_OK):
        return os.strerror(errno.EACCES)  # "Permission denied"
    return None


# ------------------------------------------------- how large a network fits

BYTES_PER_WEIGHT = 500
"""Memory a weight costs at the peak of training: measured 430-480 bytes
(CPython 3.11, 64-20000-10 ReLU + batchnorm, Adam): the weight, its gradient,
Adam's two moments and the new value while it is rebound, each a Python float
(24 bytes) in a list (8)."""

BYTES_PER_ACTIVATION = 300
"""Memory one value of a layer's output costs for one sample of a batch:
measured 270 bytes (64-2000-10 ReLU + batchnorm, batches of 1000): the
values each layer keeps for its backward pass."""


def training_bytes(sizes, batch_size):
    """About how much memory training a ``MultiLayerNet`` of ``sizes``
    (input, hidden..., output) in batches of ``batch_size`` takes (bytes);
    accuracy is measured 100 rows at a time.

    >>> training_bytes([64, 100, 10], 32) / 1e6          # the digits default, in MB
    7.055
    """
    weights = sum((n_in + 1) * n_out for n_in, n_out in zip(sizes, sizes[1:]))
    return (BYTES_PER_WEIGHT * weights
            + BYTES_PER_ACTIVATION * max(batch_size, 100) * sum(sizes[1:]))


MEMORY_WITHOUT_SIZE = 8 << 30
"""The memory assumed where the machine's size is unknown (8 GB)."""


def _check_fits(sizes, batch_size):
    """A usage error, before anything is allocated, when the network cannot
    be trained in this machine's memory."""
    need, have = training_bytes(sizes, batch_size), memory_size() or MEMORY_WITHOUT_SIZE
    if need > have:
        raise usage_error(
            "a %s network in batches of %d needs about %s of memory to train in pure Python "
            "(%d bytes a weight, %d a value of a layer's output per sample), more than this "
            "machine's %s: choose smaller --hidden sizes (or --batch-size)"
            % ("-".join(str(s) for s in sizes), batch_size, _bytes(need), BYTES_PER_WEIGHT,
               BYTES_PER_ACTIVATION, _bytes(have)))


def _bytes(n):
    """A size in bytes for people: '3.7 TB'."""
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return ("%d %s" if unit == "bytes" else "%.1f %s") % (n, unit)
        n /= 1000.0


# ---------------------------------------------------------- saving the result

def _save(net, path, notes):
    """Save the trained network to ``path``; -> the problem (a str), or None.

    When ``path`` cannot be written after the training (the disk filled up,
    the folder went away), the network is saved under a new name in the
    current folder, else in the temporary folder, and the problem says where:
    a long run is never lost for want of a file."""
    try:
        net.save(path, **notes)
        print("saved to %s" % shown(path))
        return None
    except OSError as e:
        problem = "cannot save to %s: %s" % (shown(path), describe(e))
    for folder in _unique([os.getcwd(), tempfile.gettempdir()]):
        spare = _spare_name(folder)
        try:
            net.save(spare, **notes)
        except OSError:
            continue
        print("saved to %s instead" % shown(spare))
        return "%s; the trained network is saved in %s instead" % (problem, shown(spare))
    return "%s, nor in the current or the temporary folder: the trained network is lost" % problem


def _spare_name(folder):
    """A name for a new file in ``folder``, ``purenn-train-<random>.json.gz``
    (not created here: the save creates it, with the usual permissions)."""
    import binascii
    while True:
        name = os.path.join(folder, "purenn-train-%s.json.gz"
                            % binascii.hexlify(os.urandom(4)).decode("ascii"))
        if not os.path.lexists(name):
            return name


def _unique(folders):
    seen, out = set(), []
    for f in folders:
        if os.path.realpath(f) not in seen:
            seen.add(os.path.realpath(f))
            out.append(f)
    return out


def _command(dataset, hidden, activation, optimizer, lr, epochs, batch, batchnorm, args):
    """The command line that repeats this run, every setting spelled out."""
    words = ["python -m purenn train --dataset", dataset,
             "--hidden", ",".join(str(h) for h in hidden), "--activation", activation,
             "--optimizer", optimizer, "--lr", repr(lr), "--epochs", str(epochs),
             "--batch-size", str(batch), "--seed", str(args.seed)]
    if args.weight_decay:
        words += ["--weight-decay", repr(args.weight_decay)]
    if args.dropout:
        words += ["--dropout", repr(args.dropout)]
    words.append("--batchnorm" if batchnorm else "--no-batchnorm")
    return " ".join(words)


def _defaults(k, show=str):
    """Setting ``k`` of TRAIN_DEFAULTS for each data set, as --help says it
    (e.g. 'digits: 100, mnist: 50,100')."""
    return ", ".join("%s: %s" % (name, show(TRAIN_DEFAULTS[name][k]))
                     for name in sorted(TRAIN_DEFAULTS))


def _hidden(text):
    import argparse
    try:
        sizes = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError("hidden sizes are ints separated by commas, e.g. 50,100")
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("hidden sizes must be positive")
    return sizes


def add_commands(sub):
    """Add the learning sub-commands to ``python -m purenn``'s sub-parsers."""
    p = sub.add_parser("gradients", help="chapter 4: numerical gradients and gradient descent")
    p.set_defaults(func=cmd_gradients)
    p = sub.add_parser("backprop", help="chapter 5.4: the apple and orange example, backwards")
    p.set_defaults(func=cmd_backprop)
    p = sub.add_parser("gradcheck", help="chapter 5.7: backprop vs numerical gradients")
    p.add_argument("--tol", type=positive, default=1e-7,
                   help="largest allowed difference, a number > 0 (1e-7)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random network (0)")
    p.add_argument("--plain", action="store_true",
                   help="plain central differences, without the extrapolation: with "
                        "batchnorm they miss by up to about 1e-4")
    p.set_defaults(func=cmd_gradcheck)
    p = sub.add_parser("optimizers", help="chapter 6.1: SGD ... Adam on x^2/20 + y^2")
    # the table has a column every 5 steps: more than MAX_COMPARE_STEPS helps nobody
    p.add_argument("--steps", type=integer(1, MAX_COMPARE_STEPS), default=30,
                   help="number of steps, 1 to %d (30)" % MAX_COMPARE_STEPS)
    p.add_argument("--plot", action="store_true", help="draw each path in text")
    p.set_defaults(func=cmd_optimizers)
    p = sub.add_parser("train", help="chapter 6: train a network on optdigits or MNIST")
    p.add_argument("--network", choices=["mlp", "simple_convnet"], default="mlp",
                   help="mlp: a MultiLayerNet (default); simple_convnet: the book's chapter-7 "
                        "ConvNet (purenn.cli.convnet)")
    p.add_argument("--dataset", choices=sorted(TRAIN_DEFAULTS), default="digits",
                   help="digits: UCI optdigits 8x8, bundled (default); mnist: needs the "
                        "training set (see download-mnist / PURENN_MNIST_DIR)")
    p.add_argument("--mnist-path", metavar="FOLDER",
                   help="for --dataset mnist: the folder with the MNIST training set "
                        "(default: $PURENN_MNIST_DIR, then ~/.cache/purenn/mnist)")
    p.add_argument("--hidden", type=_hidden, metavar="N,N,...",
                   help="hidden layer sizes (%s)" % _defaults(0, lambda h: ",".join(map(str, h))))
    p.add_argument("--activation", choices=sorted(ACTIVATION_LAYERS), help="(%s)" % _defaults(1))
    p.add_argument("--optimizer", choices=["sgd", "momentum", "nesterov", "adagrad",
                                           "rmsprop", "adam"], help="(%s)" % _defaults(2))
    p.add_argument("--lr", type=positive, help="learning rate, a number > 0 (%s)" % _defaults(3))
    p.add_argument("--epochs", type=integer(1), metavar="N", help="(%s)" % _defaults(4))
    p.add_argument("--batch-size", type=integer(1), metavar="N", help="(%s)" % _defaults(5))
    p.add_argument("--weight-decay", type=non_negative, default=0.0, help="lambda >= 0 (0)")
    p.add_argument("--dropout", type=ratio, default=0.0,
                   help="dropout ratio, 0 <= ratio < 1 (0: none)")
    p.add_argument("--batchnorm", dest="batchnorm", action="store_true", default=None,
                   help="batch normalization after each hidden Affine (default for digits)")
    p.add_argument("--no-batchnorm", dest="batchnorm", action="store_false",
                   help="no batch normalization (default for mnist)")
    p.add_argument("--workers", type=worker_count, default=1, metavar="N",
                   help="processes to split every batch over (1; auto: one per core); "
                        "needs --no-batchnorm and no dropout")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the initial weights and the shuffling (0)")
    p.add_argument("--save", metavar="FILE", help="save the trained network (.json.gz)")
    p.add_argument("--svg", metavar="FILE", help="write the loss and accuracy curves as SVG")
    p.add_argument("--quiet", action="store_true",
                   help="no progress bar, epoch lines or text curves")
    p.set_defaults(func=cmd_train)
