"""The tour: every chapter in the order of the course (``python -m purenn``
with no command, or ``python -m purenn tour``).

The tour is a list of command lines, each run as if typed: its settings are
the defaults of that command's parser, written once, where the command is.
"""
from purenn.cli.common import run

TOUR = (
    ("Chapter 2: perceptrons and logic gates", [["gates"]]),
    ("Chapter 2 by hand: w.x + b > 0 for each gate",
     [["explain", "gate", "AND", "1", "1"], ["explain", "gate", "NAND", "1", "1"],
      ["explain", "gate", "XOR", "1", "0"]]),
    ("Chapter 3.2: activation functions", [["activations"]]),
    ("Chapter 3.2.5: sigmoid and step function on one chart", [["plot", "--height", "12"]]),
    ("Chapter 3.4: a 3-layer network", [["network"]]),
    ("Chapter 3.4.3: the same network by hand, element by element", [["explain"]]),
    ("Chapter 3.6: handwritten digit recognition (MNIST)", [["mnist"]]),
    ("Chapter 4: numerical gradients and gradient descent", [["gradients"]]),
    ("Chapter 5.4: backpropagation by hand", [["backprop"]]),
    ("Chapter 5.7: gradient check", [["gradcheck"]]),
    ("Chapter 6.1: optimisers", [["optimizers"]]),
    ("Chapter 7: a convolutional network (SimpleConvNet) on MNIST", [["convnet"]]),
)
"""(title, command lines) of each part, in the order of the book."""


def cmd_tour(args):
    """Every part, in the order of the course.  A part that fails says so
    in its one line and the tour goes on; the status is then 1 (or 2)."""
    from purenn.cli import build_parser
    parser = build_parser()
    status = 0
    for title, command_lines in TOUR:
        print("=" * 72)
        print(title)
        print("=" * 72)
        if command_lines[0][0] == "mnist" and not _have_weights():
            continue
        for words in command_lines:
            status = max(status, run(parser.parse_args(words)))
    return status


def _have_weights():
    """True when the mnist step has weights to run; else say how to get them."""
    from purenn.recognize import find_weights
    if find_weights() is not None:
        return True
    print("(skipped: no trained weights. To include it, get the book's sample_weight.pkl\n"
          " and set PURENN_WEIGHTS=/path/to/sample_weight.pkl; see python -m purenn mnist)")
    return False


def add_commands(sub):
    """The ``tour`` sub-command (also what runs with no command at all)."""
    p = sub.add_parser("tour", help="every part below, in order (the default)")
    p.set_defaults(func=cmd_tour)
