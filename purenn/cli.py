"""``python -m purenn``: the chapters as a learner runs them.

Each sub-command is one part of the course; with no sub-command, ``tour``
runs the parts one after another.
"""
import argparse
import sys

from purenn import activations as act
from purenn import cli_learn
from purenn.matrix import Matrix
from purenn.network import init_network
from purenn.perceptron import GATES, truth_table


# ------------------------------------------------------------------ gates

def cmd_gates(args):
    """Chapter 2: the truth tables of AND, OR, NAND and XOR."""
    for name, gate in GATES:
        print(name + (" (two layers: AND(NAND(x1, x2), OR(x1, x2)))" if name == "XOR" else ""))
        print(truth_table(gate))
        print()


# ------------------------------------------------------------ activations

def cmd_activations(args):
    """Chapter 3.2: a table of activation values."""
    xs = args.x or [-5.0, -1.0, -0.5, 0.0, 0.5, 1.0, 5.0]
    names = ["step_function", "sigmoid", "tanh", "relu", "leaky_relu", "identity_function"]
    header = "%8s" % "x" + "".join("%19s" % n for n in names)
    print(header)
    print("-" * len(header))
    for x in xs:
        print("%8g" % x + "".join("%19.6g" % act.ACTIVATIONS[n](x) for n in names))
    print()
    scores = xs[:3] if args.x else [0.3, 2.9, 4.0]
    probs = act.softmax(scores)
    print("softmax(%s)" % scores)
    print("  = %s" % ["%.6f" % p for p in probs])
    print("  sums to %r" % sum(probs))
    print()


# ---------------------------------------------------------------- network

def _shape(m):
    return "(%d,%d)" % m.shape


def cmd_network(args):
    """Chapter 3.4: the 3-layer network, with the shape of every step."""
    net = init_network()
    x = Matrix(args.x or [1.0, 0.5])
    if x.shape[1] != 2:
        raise SystemExit("purenn network: --x needs 2 numbers (the network has 2 inputs), "
                         "got %d" % x.shape[1])
    print("x = %s  shape %s" % (x.tolist(), _shape(x)))
    z = x
    hs = [("sigmoid", act.sigmoid), ("sigmoid", act.sigmoid),
          ("identity_function", act.identity_function)]
    for i, (hname, h) in enumerate(hs, 1):
        W, b = net["W%d" % i], net["b%d" % i]
        a = z @ W + b
        zin = "x" if i == 1 else "z%d" % (i - 1)
        print("layer %d: a%d = %s·W%d + b%d   %s·%s+%s -> %s"
              % (i, i, zin, i, i, _shape(z), _shape(W), _shape(b), _shape(a)))
        print("         a%d = %s" % (i, a.tolist()))
        z = h(a)
        out = "y" if i == len(hs) else "z%d" % i
        print("         %s = %s(a%d) = %s" % (out, hname, i, z.tolist()))
    print()


# ------------------------------------------------------------------ mnist

def cmd_mnist(args):
    """Chapter 3.6: batch inference over the 10,000 MNIST test images."""
    from purenn.recognize import main_mnist
    return main_mnist(args.weights, args.batch_size, args.limit, args.show)


def cmd_download_mnist(args):
    """Download and verify the MNIST training set."""
    from purenn.download import main_download
    return main_download(args.dir, args.kind, args.mirror and [args.mirror], args.quiet)


# ------------------------------------------------------------------- tour

def cmd_tour(args):
    """Every part, in the order of the course."""
    def run(parts):
        for title, fn in parts:
            print("=" * 72)
            print(title)
            print("=" * 72)
            fn(argparse.Namespace(x=None, tol=1e-7, seed=0, steps=30, plot=False))
    run((("Chapter 2: perceptrons and logic gates", cmd_gates),
         ("Chapter 3.2: activation functions", cmd_activations),
         ("Chapter 3.4: a 3-layer network", cmd_network)))
    _tour_mnist()
    run((("Chapter 4: numerical gradients and gradient descent", cli_learn.cmd_gradients),
         ("Chapter 5.4: backpropagation by hand", cli_learn.cmd_backprop),
         ("Chapter 5.7: gradient check", cli_learn.cmd_gradcheck),
         ("Chapter 6.1: optimisers", cli_learn.cmd_optimizers)))


def _tour_mnist():
    """The chapter-3.6 step, when trained weights are at hand."""
    try:
        from purenn.recognize import find_weights, main_mnist
    except ImportError:  # a Python without gzip/json/pickle: the tour ends here
        return
    print("=" * 72)
    print("Chapter 3.6: handwritten digit recognition (MNIST)")
    print("=" * 72)
    weights = find_weights()
    if weights is None:
        print("(skipped: no trained weights. To include it, get the book's sample_weight.pkl\n"
              " and set PURENN_WEIGHTS=/path/to/sample_weight.pkl; see python -m purenn mnist)")
        return
    main_mnist(weights)


def _numbers(text):
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not a number: %r" % text)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m purenn",
        description="purenn: neural networks from first principles in pure Python. "
                    "With no command, runs the whole tour.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("tour", help="every part below, in order (the default)")
    p.set_defaults(func=cmd_tour)
    p = sub.add_parser("gates", help="chapter 2: truth tables of AND, OR, NAND, XOR")
    p.set_defaults(func=cmd_gates)
    p = sub.add_parser("activations", help="chapter 3.2: activation values and softmax")
    p.add_argument("--x", type=_numbers, nargs="+", metavar="X", help="inputs to tabulate")
    p.set_defaults(func=cmd_activations)
    p = sub.add_parser("network", help="chapter 3.4: the 3-layer network with every shape")
    p.add_argument("--x", type=_numbers, nargs=2, metavar=("X1", "X2"),
                   help="the input (default 1.0 0.5)")
    p.set_defaults(func=cmd_network)
    p = sub.add_parser("mnist", help="chapter 3.6: batch inference over the 10,000 MNIST test "
                                     "images with trained weights")
    p.add_argument("--weights", metavar="FILE",
                   help="the book's sample_weight.pkl or a purenn weights file "
                        "(default: $PURENN_WEIGHTS, then ~/.cache/purenn/sample_weight.pkl)")
    p.add_argument("--batch-size", type=int, default=100, help="images per batch (100)")
    p.add_argument("--limit", type=int, metavar="N", help="only the first N test images")
    p.add_argument("--show", type=int, default=3, metavar="N",
                   help="misclassified digits to draw (3)")
    p.set_defaults(func=cmd_mnist)
    p = sub.add_parser("download-mnist", help="download the MNIST training set (60,000 images) "
                                              "and verify its sha256")
    p.add_argument("--dir", metavar="DIR",
                   help="where to put it (default: ~/.cache/purenn/mnist, where load_mnist "
                        "looks)")
    p.add_argument("--kind", choices=["train", "test"], default="train",
                   help="which part (the test set ships with purenn already)")
    p.add_argument("--mirror", metavar="URL", help="base URL of an MNIST mirror to use")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_download_mnist)
    cli_learn.add_commands(sub)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", cmd_tour)
    try:
        status = func(args)
    except BrokenPipeError:  # e.g. python -m purenn | head
        return 0
    return status or 0
