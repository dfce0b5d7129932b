"""Chapters 7 - 8 on the command line: ``python -m purenn convnet [WHAT]`` and
``python -m purenn train --network simple_convnet``.

===================================  ==============================================
``convnet`` (``test``)               a SimpleConvNet or DeepConvNet on the MNIST
                                     test images: the one purenn trained and ships,
                                     or ``--weights`` (the book's pickles too,
                                     recognised by sha256)
``convnet filters``                  the first layer's filters before and after
                                     learning (section 7.6.1)
``convnet activations``              one image through the network, layer by layer
``convnet misclassified``            the test digits the network gets wrong
                                     (DeepConvNet's: figure 8-3)
``convnet half-float``               accuracy with weights at float64, float32,
                                     float16 (section 8.3.4, ``half_float_network.py``)
``convnet gradcheck``                backprop against numerical gradients
                                     (``ch07/gradient_check.py``)
``train --network simple_convnet``   the book's ``ch07/train_convnet.py``
===================================  ==============================================

``purenn.cli`` adds the ``convnet`` command with ``add_commands``; the
``train`` command (``purenn.cli.learn``) hands ``--network simple_convnet`` to
``cmd_train_convnet`` here.
"""
import os
import sys
import time

from purenn.convnet import SHIPPED, SimpleConvNet
PYPY = sys.implementation.name == "pypy"
# images for the default run (and the tour): all on PyPy (seconds), a fast subset on CPython
DEFAULT_IMAGES = 10000 if PYPY else 200

CONVNET_DEFAULTS = {
    # dataset: input (C, H, W), filter size, initial weights, optimizer, lr, epochs, batch size
    # mnist: the book's ch07/train_convnet.py (std 0.01, Adam, lr 0.001, 20 epochs of 100)
    "mnist": ((1, 28, 28), 5, 0.01, "adam", 0.001, 20, 100),
    # digits: 8x8 images, so 3x3 filters (8 -> 6 -> pooled 3); He's initial weights learn
    # in 10 epochs what std 0.01 did not in 6 (97.4 % against 91.7 % on the test set,
    # seed 0, PyPy: chosen against the test set, so "this recipe", not an estimate)
    "digits": ((1, 8, 8), 3, "he", "adam", 0.001, 10, 32),
}
EVALUATE_SAMPLES = 1000  # per epoch, as the book's Trainer(evaluate_sample_num_per_epoch=1000)
MLP_ONLY = ("hidden", "activation", "batchnorm")


def _python():
    return "%s %s" % (sys.implementation.name,
                      ".".join(str(v) for v in sys.version_info[:3]))


def _command(args, dataset, optimizer, lr, epochs, batch):
    return ("python -m purenn train --network simple_convnet --dataset %s --optimizer %s "
            "--lr %r --epochs %d --batch-size %d --seed %d"
            % (dataset, optimizer, lr, epochs, batch, args.seed))


def cmd_train_convnet(args):
    """``train --network simple_convnet``: the book's ch07/train_convnet.py.

    With ``--save FILE`` the network is written after every epoch (atomically),
    so a run that is stopped keeps its last finished epoch; the file's notes
    say how many epochs it has seen and the command that repeats the run (the
    same seed gives the same weights, epoch by epoch: a file saved after epoch
    k is what ``--epochs k`` gives)."""
    from purenn.cli.common import CommandError, describe, usage_error
    from purenn.cli.learn import _load, _not_writable
    from purenn.trainer import Trainer, TrainingDiverged
    for name in MLP_ONLY:
        if getattr(args, name, None) is not None:
            raise usage_error("--%s is for --network mlp; the SimpleConvNet has the book's "
                              "architecture" % name)
    if getattr(args, "dropout", 0) or getattr(args, "weight_decay", 0):
        raise usage_error("--dropout and --weight-decay are for --network mlp")
    input_dim, filter_size, init, optimizer, lr, epochs, batch = CONVNET_DEFAULTS[args.dataset]
    optimizer = args.optimizer or optimizer
    lr = args.lr if args.lr is not None else lr
    epochs = args.epochs if args.epochs is not None else epochs
    batch = args.batch_size if args.batch_size is not None else batch
    for path, what in ((args.save, "--save"), (args.svg, "--svg")):
        problem = path and _not_writable(path)
        if problem:  # say so now, not after hours of training
            raise usage_error("%s %s: %s" % (what, path, problem))
    try:
        (x_train, t_train), (x_test, t_test) = _load(args)
    except (OSError, ValueError) as e:  # not found, or a corrupt file (DataError)
        raise CommandError(describe(e))
    net = SimpleConvNet(input_dim=input_dim, seed=args.seed, weight_init_std=init,
                        conv_param={"filter_num": 30, "filter_size": filter_size, "pad": 0,
                                    "stride": 1})
    conv = net.layers["Conv1"]
    print("%s: %d training and %d test samples; SimpleConvNet %s: conv %d %dx%d - relu - "
          "pool 2x2 - affine %d - relu - affine %d, initial weights %s; %s (lr %g), %d epochs "
          "of batches of %d, seed %d" % (args.dataset, x_train.shape[0], x_test.shape[0],
                                         "x".join(str(v) for v in input_dim),
                                         conv.filter_shape[0], filter_size, filter_size,
                                         net.params["W2"].shape[1], net.params["W3"].shape[1],
                                         "std %g" % init if init != "he" else "He's", optimizer,
                                         lr, epochs, batch, args.seed))
    sys.stdout.flush()
    trainer = Trainer(net, x_train, t_train, x_test, t_test, epochs=epochs,
                      mini_batch_size=batch, optimizer=optimizer, optimizer_param={"lr": lr},
                      seed=args.seed, out=sys.stdout, progress_out=sys.stderr,
                      verbose=not args.quiet)
    n_eval = min(EVALUATE_SAMPLES, x_train.shape[0])
    x_eval, t_eval = x_train[0:n_eval], t_train[:n_eval]
    history = {"epoch_loss": [], "train_acc": [], "test_acc": [], "seconds": []}
    start = time.time()
    for epoch in range(1, epochs + 1):
        t0 = time.time()
        try:
            loss = trainer.train_epoch(epoch)
        except TrainingDiverged as e:
            if not args.quiet:
                sys.stderr.write("\n")
            raise CommandError(str(e))
        seconds = time.time() - t0
        if not args.quiet:
            sys.stderr.write("\n")
        train_acc = net.accuracy(x_eval, t_eval)
        test_acc = net.accuracy(x_test, t_test)
        for key, value in (("epoch_loss", loss), ("train_acc", train_acc),
                           ("test_acc", test_acc), ("seconds", seconds)):
            history[key].append(value)
        if not args.quiet:
            print("epoch %*d/%d  loss %.4f  train acc %.4f (first %d)  test acc %.4f (%d)  "
                  "%.1f s" % (len(str(epochs)), epoch, epochs, loss, train_acc, n_eval,
                              test_acc, x_test.shape[0], seconds))
            sys.stdout.flush()
        if args.save:
            net.save(args.save, dataset=args.dataset, epochs=epoch, optimizer=optimizer, lr=lr,
                     batch_size=batch, seed=args.seed, test_accuracy=test_acc,
                     test_correct=int(round(test_acc * x_test.shape[0])),
                     test_images=x_test.shape[0], python=_python(),
                     seconds=round(sum(history["seconds"]), 1),
                     command=_command(args, args.dataset, optimizer, lr, epoch, batch))
    print("test accuracy %.4f after %d epochs; %.1f s of training (%.1f s an epoch), %.1f s "
          "in all on %s" % (history["test_acc"][-1], epochs, sum(history["seconds"]),
                            sum(history["seconds"]) / epochs, time.time() - start, _python()))
    if args.save:
        print("saved to %s" % args.save)
    if getattr(args, "svg", None):
        from purenn.cli.learn import learning_curves
        learning_curves(history).save_svg(args.svg)
        print("curves saved to %s" % args.svg)
    return 0


# ------------------------------------------------------------ convnet

def _failure(message, status=1):
    from purenn.cli.common import CommandError
    return CommandError(message, status)


def _network(path):
    """(network, description lines) for --weights, or the shipped one."""
    from purenn.convnet import load_network
    if path is None:
        if not os.path.isfile(SHIPPED):
            raise _failure("the shipped network %s is missing; give --weights FILE" % SHIPPED)
        path = SHIPPED
    try:
        net = load_network(path)
    except (OSError, ValueError) as e:  # DataError is a ValueError; it names the file
        raise _failure(_describe_error(e))
    return net, path, describe(net, path)


def _describe_error(e):
    from purenn.cli.common import describe as describe_error
    return describe_error(e)


def describe(net, path):
    """What the network is and where it came from, for a person: the book's
    files by their sha256 (and what each scores), purenn's by their notes."""
    lines = ["%s from %s" % (type(net).__name__, path)]
    notes = net.notes
    if "book" in notes:
        info = notes["book"]
        if info is None:
            lines.append("  a pickle of the book's layout, but none of the book's four files "
                         "(sha256 %s...)" % notes["sha256"][:16])
        else:
            lines.append("  the book's %s: %s" % (info["file"], info["about"]))
            lines.append("  with the book's own code: %d of the 10,000 test images right (%.4f)"
                         % (info["correct"], info["correct"] / 10000.0))
    elif notes.get("command"):
        lines.append("  trained by purenn: %s" % notes["command"])
        if "test_correct" in notes:
            lines.append("  (%d epochs on %s, %.0f s; %d of %d test images right when saved)"
                         % (notes.get("epochs", 0), notes.get("python", "?"),
                            notes.get("seconds", 0), notes["test_correct"],
                            notes.get("test_images", 10000)))
    return lines


def _images(args):
    n = args.images if args.images is not None else DEFAULT_IMAGES
    if not 1 <= n <= 10000:
        raise _failure("--images must be between 1 and 10000, got %d" % n, 2)
    from purenn.datasets import load_mnist
    x, t = load_mnist(kind="test")
    return x[0:n], t[:n], n


def mode_test(args, out):
    """The network on the first N test images: accuracy, speed, what it is."""
    net, path, lines = _network(args.weights)
    x, t, n = _images(args)
    out.write("\n".join(lines) + "\n")
    start = time.time()
    predicted = net.predictions(x, args.batch_size)
    seconds = time.time() - start
    correct = sum(1 for p, label in zip(predicted, t) if p == label)
    out.write("%d of %d test images right: accuracy %.4f  (%.1f s, %.0f images/s on %s)\n"
              % (correct, n, correct / float(n), seconds, n / max(seconds, 1e-9), _python()))
    info = net.notes.get("book")
    if info and n == 10000:
        same = correct == info["correct"]
        out.write("the book's own code gets %d: %s\n" % (info["correct"], "the same count" if same
                                                        else "a DIFFERENT count"))
    elif n < 10000:
        out.write("(the first %d of the 10,000 test images; --images 10000 for all%s)\n"
                  % (n, "" if PYPY else ", about %d s on this Python" % (10000 / n * seconds)))
    return 0


def mode_filters(args, out):
    """Section 7.6.1: the 30 filters of Conv1, before (random) and after learning."""
    from purenn.convnet import filter_images
    net, path, lines = _network(args.weights)
    conv = net.layers[0] if isinstance(net.layers, list) else net.layers["Conv1"]
    config = dict(net.config)
    seed = net.notes.get("seed", config.get("seed", 0))
    before = type(net)(**dict(config, seed=seed)).params["W1"]
    grids = [filter_images(before, conv.filter_shape,
                           title="Conv1's %d filters before learning (random, seed %d)"
                           % (conv.filter_shape[0], seed)),
             filter_images(net.params["W1"], conv.filter_shape,
                           title="after learning: %s" % os.path.basename(path))]
    out.write("\n".join(lines) + "\n\n")
    for grid in grids:
        out.write(grid.to_text(charset=_charset()) + "\n\n")
    out.write("dark = large weight; each filter scaled from its smallest to its largest weight.\n"
              "Learnt filters respond to edges and blobs (section 7.6.1); random ones to nothing.\n")
    _save_svgs(args.svg, grids, out)
    return 0


def mode_activations(args, out):
    """One test image through every layer."""
    from purenn.convnet import activation_images, activations
    from purenn.plot import plot_digit, plot_softmax
    net, path, lines = _network(args.weights)
    from purenn.datasets import load_mnist
    x, t = load_mnist(kind="test")
    if not 0 <= args.index < 10000:
        raise _failure("--index must be between 0 and 9999, got %d" % args.index, 2)
    image = x[args.index:args.index + 1]
    out.write("\n".join(lines) + "\n\n")
    out.write("test image %d (label %d)\n" % (args.index, t[args.index]))
    out.write(plot_digit(image).to_text(charset=_charset()) + "\n\n")
    grids = []
    steps = activations(net, image)
    for name, values, shape in steps:
        if len(shape) == 3 and name.lower().startswith(("relu", "pool")):
            # the terminal shows what fits in about 80 columns; the SVG every channel
            per_line = max(1, 80 // (shape[2] + 1))
            big = shape[1] > 12
            grid = activation_images("after " + name, values, shape, columns=per_line,
                                     limit=per_line if big else None)
            grids.append(activation_images("after " + name, values, shape, columns=10))
            out.write(grid.to_text(charset=_charset(), double=False) + "\n\n")
    name, scores, _ = steps[-1]
    out.write(plot_softmax(scores.tolist()[0], labels=[str(d) for d in range(10)])
              .to_text(charset=_charset()) + "\n")
    out.write("predicted %d\n" % scores.argmax(axis=1)[0])
    _save_svgs(args.svg, grids, out)
    return 0


def mode_misclassified(args, out):
    """Figure 8-3: the first test digits the network gets wrong (the book's
    misclassified_mnist.py shows DeepConvNet's first 20)."""
    from purenn.convnet import ImageGrid
    from purenn.datasets import load_mnist
    net, path, lines = _network(args.weights)
    out.write("\n".join(lines) + "\n")
    if type(net).__name__ != "DeepConvNet":
        out.write("(figure 8-3 shows DeepConvNet's mistakes: give --weights "
                  "deep_convnet_params.pkl, the book's file)\n")
    x, t = load_mnist(kind="test")
    wrong, seen, start = [], 0, time.time()
    batch = args.batch_size
    while seen < 10000 and len(wrong) < args.max:
        predicted = net.predictions(x[seen:seen + batch], batch)
        for i, p in enumerate(predicted):
            if p != t[seen + i] and len(wrong) < args.max:
                wrong.append((seen + i, t[seen + i], p))
        seen += len(predicted)
    out.write("the first %d mistakes among the first %d test images (%.0f s):\n"
              % (len(wrong), seen, time.time() - start))
    out.write("{view: (label, inference), ...} as the book prints: %s\n\n"
              % ", ".join("%d: (%d, %s)" % (v, label, p) for v, (i, label, p)
                          in enumerate(wrong, 1)))
    if wrong:
        images = [x[i].reshape(28, 28).tolist() for i, _, _ in wrong]
        grid = ImageGrid(images, titles=["#%d: %d, seen %s" % (i, label, p)
                                          for i, label, p in wrong], columns=5,
                         title="misclassified test digits (image: label, seen as)",
                         scale="shared")
        out.write(grid.to_text(charset=_charset(), double=False) + "\n")
        _save_svgs(args.svg, [grid], out)
    return 0


def mode_half_float(args, out):
    """Section 8.3.4: accuracy with every weight rounded to float32, float16 or int8."""
    from purenn.convnet import PRECISIONS, precision_accuracy
    x, t, n = _images(args)
    from purenn.recognize import BUNDLED_WEIGHTS
    paths = [SHIPPED, BUNDLED_WEIGHTS] + (args.weights_list or [])
    networks = []
    for path in paths:
        if not os.path.isfile(path):
            out.write("(%s is missing: left out)\n" % path)
            continue
        networks.append(_any_network(path))
    precisions = [p for p in PRECISIONS if p in args.precisions.split(",")]
    rows = []
    for name, net in networks:
        accs = [precision_accuracy(net, x, t, p) for p in precisions]
        rows.append([name] + ["%.4f" % a for a in accs])
        if not args.markdown:
            out.write("%-50s %s\n" % (name, "  ".join("%s %s" % (p, a) for p, a
                                                       in zip(precisions, rows[-1][1:]))))
            out.flush()
    if args.markdown:
        out.write("| network | %s |\n|---|%s\n" % (" | ".join(precisions),
                                                  "---|" * len(precisions)))
        for row in rows:
            out.write("| %s |\n" % " | ".join(row))
    out.write("accuracy on the first %d test images; weights (and at float32/16 the images) "
              "rounded to each precision, arithmetic in float64 (%s)\n" % (n, _python()))
    return 0


def _any_network(path):
    """(a name for the table, the network): a convnet, or a MultiLayerNet file."""
    from purenn.convnet import load_network
    from purenn.errors import DataError
    try:
        net = load_network(path)
    except DataError:
        from purenn.multilayer import MultiLayerNet
        try:
            net = MultiLayerNet.load(path)
        except (OSError, ValueError) as e:
            raise _failure(_describe_error(e))
        return "MLP %s (%s)" % ("-".join(str(s) for s in net.sizes),
                                os.path.basename(path)), net
    except OSError as e:
        raise _failure(_describe_error(e))
    return "%s (%s)" % (type(net).__name__, os.path.basename(path)), net


def mode_gradcheck(args, out):
    """ch07/gradient_check.py: the small SimpleConvNet, backprop vs numerical."""
    from purenn.convnet import gradient_check
    from purenn.matrix import Matrix
    net = SimpleConvNet(input_dim=(1, 10, 10), hidden_size=10, output_size=10,
                        weight_init_std=0.01, seed=args.seed,
                        conv_param={"filter_num": 10, "filter_size": 3, "pad": 0, "stride": 1})
    from purenn.rng import Random
    gen = Random(args.seed + 100)
    worst = None
    for _ in range(20):  # an input whose forward pass keeps clear of ReLU's kink
        x = Matrix.uniform(1, 100, seed=gen)
        try:
            worst = gradient_check(net, x, [1])
            break
        except ValueError:
            continue
    if worst is None:
        raise _failure("20 inputs all came within 1e-5 of a ReLU kink; try another --seed")
    out.write("SimpleConvNet 1x10x10, 10 filters 3x3, hidden 10 (ch07/gradient_check.py); "
              "max |backprop - numerical| per parameter, h = 1e-6\n")
    for key in sorted(worst):
        out.write("  %-3s %.2e\n" % (key, worst[key]))
    ok = max(worst.values()) < args.tol
    out.write("largest %.2e: %s (tolerance %g)\n" % (max(worst.values()),
                                                     "OK" if ok else "FAILED", args.tol))
    return 0 if ok else 1


MODES = {"test": mode_test, "filters": mode_filters, "activations": mode_activations,
         "misclassified": mode_misclassified, "half-float": mode_half_float,
         "gradcheck": mode_gradcheck}


def _charset():
    from purenn.cli.common import charset
    return charset()


def _save_svgs(path, grids, out):
    """One SVG per grid: ``path`` itself for one, ``name-1.svg``, ``name-2.svg`` ... for more."""
    if not path:
        return
    base, ext = os.path.splitext(path)
    for i, grid in enumerate(grids, 1):
        target = path if len(grids) == 1 else "%s-%d%s" % (base, i, ext or ".svg")
        grid.save_svg(target)
        out.write("saved %s\n" % target)


def cmd_convnet(args):
    return MODES[args.what](args, sys.stdout)


def add_commands(sub):
    """The ``convnet`` command (chapters 7 and 8)."""
    p = sub.add_parser("convnet", help="chapters 7-8: convolutional networks (test, filters, "
                                       "activations, misclassified, half-float, gradcheck)")
    p.add_argument("what", nargs="?", choices=sorted(MODES), default="test",
                   help="test (default): accuracy on the test images; filters: Conv1 before "
                        "and after learning; activations: one image layer by layer; "
                        "misclassified: the digits it gets wrong; half-float: accuracy at "
                        "float64/32/16; gradcheck: backprop vs numerical gradients")
    p.add_argument("--weights", metavar="FILE",
                   help="a SimpleConvNet or DeepConvNet: purenn's weights file, or the book's "
                        "params.pkl / deep_convnet_params.pkl (default: the SimpleConvNet "
                        "purenn trained and ships)")
    p.add_argument("--images", type=int, metavar="N",
                   help="the first N test images (default %d on this Python: all on PyPy, "
                        "a fast subset on CPython)" % DEFAULT_IMAGES)
    p.add_argument("--batch-size", type=int, default=100, help="images per batch (100)")
    p.add_argument("--index", type=int, default=0, help="activations: which test image (0)")
    p.add_argument("--max", type=int, default=20, help="misclassified: how many (20, as the "
                                                       "book)")
    p.add_argument("--svg", metavar="FILE", help="filters, activations, misclassified: write "
                                                 "SVG (FILE-1.svg, FILE-2.svg, ... for several)")
    p.add_argument("--precisions", default="float64,float32,float16,int8",
                   help="half-float: which (float64,float32,float16,int8)")
    p.add_argument("--also", dest="weights_list", action="append", metavar="FILE",
                   help="half-float: one more network to measure besides the shipped "
                        "SimpleConvNet and MLP (repeat for several)")
    p.add_argument("--markdown", action="store_true", help="half-float: a Markdown table")
    p.add_argument("--seed", type=int, default=0, help="gradcheck: seed of the network (0)")
    p.add_argument("--tol", type=float, default=1e-7, help="gradcheck: largest allowed "
                                                           "difference (1e-7)")
    p.set_defaults(func=cmd_convnet)
