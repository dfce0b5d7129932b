"""The tour: every chapter in the order of the course (``python -m purenn``
with no command, or ``python -m purenn tour``)."""
import argparse

from purenn.cli import chapters, learn
from purenn.cli.common import charset as _charset


def _tour_by_hand(args):
    """Chapter 2 by hand: w·x + b for the gates, and XOR as two layers."""
    from purenn.explain import explain
    from purenn.perceptron import AND, NAND, XOR
    for gate, x in ((AND, (1, 1)), (NAND, (1, 1)), (XOR, (1, 0))):
        print(explain(gate, x).to_text(_charset()))
    print()


def _tour_plot(args):
    """Chapter 3.2.5: sigmoid and step on one chart."""
    from purenn.plot import plot_functions
    print(plot_functions("sigmoid", "step_function").to_text(height=12, charset=_charset()))
    print()


def cmd_tour(args):
    """Every part, in the order of the course."""
    def run(parts):
        for title, fn in parts:
            print("=" * 72)
            print(title)
            print("=" * 72)
            fn(argparse.Namespace(x=None, tol=1e-7, seed=0, steps=30, plot=False))
    run((("Chapter 2: perceptrons and logic gates", chapters.cmd_gates),
         ("Chapter 2 by hand: w.x + b > 0 for each gate", _tour_by_hand),
         ("Chapter 3.2: activation functions", chapters.cmd_activations),
         ("Chapter 3.2.5: sigmoid and step function on one chart", _tour_plot),
         ("Chapter 3.4: a 3-layer network", chapters.cmd_network),
         ("Chapter 3.4.3: the same network by hand, element by element", chapters.cmd_explain)))
    _tour_mnist()
    run((("Chapter 4: numerical gradients and gradient descent", learn.cmd_gradients),
         ("Chapter 5.4: backpropagation by hand", learn.cmd_backprop),
         ("Chapter 5.7: gradient check", learn.cmd_gradcheck),
         ("Chapter 6.1: optimisers", learn.cmd_optimizers)))
    _tour_convnet()


def _tour_convnet():
    """Chapter 7: the shipped SimpleConvNet on the test images (purenn/cli/convnet.py;
    all 10,000 on PyPy, the first 100 on CPython: it says how many)."""
    from purenn.cli import build_parser
    print("=" * 72)
    print("Chapter 7: a convolutional network (SimpleConvNet) on MNIST")
    print("=" * 72)
    from purenn.cli.convnet import PYPY
    args = build_parser().parse_args(["convnet"] + ([] if PYPY else ["--images", "100"]))
    args.func(args)


def _tour_mnist():
    """The chapter-3.6 step, when trained weights are at hand."""
    try:
        from purenn.recognize import find_weights
        from purenn.cli.mnist import main_mnist
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


def add_commands(sub):
    """The ``tour`` sub-command (also what runs with no command at all)."""
    p = sub.add_parser("tour", help="every part below, in order (the default)")
    p.set_defaults(func=cmd_tour)
