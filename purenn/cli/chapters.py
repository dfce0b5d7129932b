"""Chapters 2 and 3 on the command line: ``gates``, ``activations``,
``network``, ``explain`` and ``plot``."""
import argparse

from purenn import activations as act
from purenn.cli.common import (CommandError, charset as _charset, finite, integer,
                               number as _numbers, shown, usage_error)
from purenn.files import quote
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
        raise usage_error("--x needs 2 numbers (the network has 2 inputs), got %d"
                          % x.shape[1])
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


# ---------------------------------------------------------------- explain

def _exact(values):
    """Fractions for the hand calculation: 0.1 becomes exactly 1/10.
    NaN and infinity have no fraction: a message, not a traceback."""
    import math
    from fractions import Fraction
    for v in values:
        if isinstance(v, float) and not math.isfinite(v):
            raise usage_error("--exact needs finite numbers, got %r (NaN, inf and numbers "
                              "beyond the float range such as 1e400 have no exact fraction)"
                              % v)
    return [Fraction(repr(v)) if isinstance(v, float) else v for v in values]


def cmd_explain(args):
    """The hand calculation: every element with its numbers (``--exact``:
    as fractions, so that 0.1 is exactly 1/10)."""
    from purenn import explain as ex
    charset = _charset()
    what, exact = args.what or "network", args.exact
    if what == "network":
        net = init_network()
        x = args.x or [1.0, 0.5]
        if exact:
            net = {k: Matrix([_exact(r) for r in v.tolist()]) for k, v in net.items()}
            x = _exact(x)
        print(ex.explain(net, x).to_text(charset))
    elif what == "gate":
        print(_explain_gate(args.gate, (args.x1, args.x2), exact).to_text(charset))
    elif what == "gates":
        for name, _ in GATES:
            for pair in ((0, 0), (1, 0), (0, 1), (1, 1)):
                print(_explain_gate(name, pair, exact).to_text(charset))
            print()
    else:  # matmul
        a, b = _literal_matrix(args.a, "A"), _literal_matrix(args.b, "B")
        if exact:
            a, b = [_exact(r) for r in a], [_exact(r) for r in b]
        try:
            print(ex.explain_matmul(a, b).to_text(charset))
        except ValueError as e:  # ShapeError included: the two matrices do not fit
            raise usage_error(str(e))
    print()


def _explain_gate(name, pair, exact):
    """``explain`` of the gate called ``name`` on the inputs ``pair``; with
    ``exact``, of the same gate with its weights as fractions (0.7 = 7/10)."""
    from purenn.explain import Explanation, explain, explain_perceptron
    from purenn.perceptron import Perceptron
    gates = dict(GATES)
    if not exact:
        return explain(gates[name], pair)

    def gate(n, inputs):
        p = gates[n]
        return explain_perceptron(Perceptron(_exact(p.weights), _exact([p.bias])[0]),
                                  inputs, name=n)
    if name != "XOR":
        return gate(name, pair)
    # XOR = AND(NAND, OR), as purenn.explain.explain_xor writes it
    s1, s2 = gate("NAND", pair), gate("OR", pair)
    y = gate("AND", (s1.result, s2.result))
    return Explanation(["XOR(%s, %s) = AND(NAND(%s, %s), OR(%s, %s))" % (pair * 3),
                        "  s1 = " + s1.lines[0], "  s2 = " + s2.lines[0], "  y = " + y.lines[0]],
                       y.result)


def _literal_matrix(text, name):
    """The rows of the matrix written as JSON in ``text`` (``A`` or ``B``)."""
    import json
    if _nesting(text) > 2 or not text.strip():
        rows = None  # deeper than rows of numbers: refused before a parser recurses into it
    else:
        try:
            rows = json.loads(text)
        except ValueError:
            rows = None
    if not isinstance(rows, list):
        raise usage_error("matmul: %s must be a list such as [[1, 2], [3, 4]], got %s"
                          % (name, quote(text)))
    try:
        m = Matrix(rows)
    except (TypeError, ValueError) as e:
        raise usage_error("matmul: %s: %s" % (name, e))
    return m.tolist()


def _nesting(text):
    """How deep the brackets of ``text`` nest: 2 for ``[[1, 2]]``.  A JSON
    parser recurses once a level, and thousands of levels overflow its
    stack (RecursionError on CPython, a fatal error in Pyodide)."""
    depth = deepest = 0
    for c in text:
        if c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth -= 1
    return deepest


# ------------------------------------------------------------------- plot

MAX_TEXT_SIZE = 1000
"""The largest --width and --height of a text plot: a bigger one fills no screen."""


def cmd_plot(args):
    """The slides' figures as text, or as an SVG file with --svg."""
    from purenn import plot
    names = args.names or ["sigmoid", "step_function"]
    charset = "ascii" if args.ascii else _charset()
    if names != ["digit"] and (args.pixels is not None or args.index != 0):
        raise usage_error("--index and --pixels are for 'plot digit'")
    if names != ["softmax"] and args.scores is not None:
        raise usage_error("--scores are for 'plot softmax'")
    if args.svg == "":  # (not a silent fallback to the text plot)
        raise usage_error("--svg '': give the name of the SVG file to write")
    if names == ["digit"]:
        p = _digit(args)
        text = p.to_text(charset=charset)
    else:
        try:
            if names == ["softmax"]:
                p = plot.plot_softmax(args.scores or [0.3, 2.9, 4.0])
                text = p.to_text(charset=charset)
            else:
                if "softmax" in names or "digit" in names:
                    raise usage_error("softmax and digit are plotted on their own")
                p = plot.plot_functions(*names, xmin=args.xmin, xmax=args.xmax)
                text = p.to_text(width=args.width, height=args.height, charset=charset)
        except (ValueError, TypeError) as e:  # ShapeError included: it cannot be drawn
            raise usage_error(str(e))
    if args.svg is not None:
        try:
            p.save_svg(args.svg)
        except OSError as e:  # a folder, a device, a missing parent folder, no permission
            raise CommandError("cannot write %s: %s" % (shown(args.svg), e.strerror or e))
        print("wrote %s" % shown(args.svg))
    else:
        print(text)


def _digit(args):
    """The digit to draw: a bundled MNIST test image (``--index``), or the
    pixels of a file (``--pixels``)."""
    from purenn.plot import plot_digit
    if args.pixels is None:
        from purenn.datasets import load_mnist
        x, t = load_mnist(normalize=False, kind="test")
        if args.index >= x.shape[0]:
            raise usage_error("--index %d: the MNIST test set has %d images, 0 to %d"
                              % (args.index, x.shape[0], x.shape[0] - 1))
        return plot_digit(x[args.index], label="%d (MNIST test image #%d)" % (t[args.index],
                                                                           args.index))
    try:
        return plot_digit(_read_numbers(args.pixels))
    except (ValueError, TypeError) as e:  # ShapeError included: not an image
        raise CommandError("%s: %s" % (shown(args.pixels), e))


def _read_numbers(path):
    """The numbers of a pixel file: ``purenn.files.read_numbers`` refuses a
    file that is not a regular file (``/dev/zero``, a FIFO), is larger than
    1 MB, is not text, or holds a word that is no finite number."""
    from purenn.files import read_numbers
    try:
        return read_numbers(path, "pixel file")
    except OSError as e:
        raise CommandError("digit: cannot read %s: %s" % (shown(path), e.strerror or e))
    except ValueError as e:  # DataError
        raise CommandError("digit: %s" % e)


def _explain_options(parser, x=True, top=False):
    """``--exact`` (and ``--x`` for the network) on ``explain`` and on each
    of its sub-commands, so that both ``explain --exact gates`` and
    ``explain gates --exact`` work.  Only ``explain`` itself has defaults:
    a sub-command's option sets its value only when given (SUPPRESS), so it
    never overwrites what was given before the sub-command's name."""
    parser.add_argument("--exact", action="store_true",
                        default=False if top else argparse.SUPPRESS,
                        help="exact fractions instead of floats (0.1 is 1/10)")
    if x:
        parser.add_argument("--x", type=_numbers, nargs=2, metavar=("X1", "X2"),
                            default=None if top else argparse.SUPPRESS,
                            help="the network's input (default 1.0 0.5)")


def add_commands(sub):
    """The chapter 2-3 sub-commands of ``python -m purenn``."""
    p = sub.add_parser("gates", help="chapter 2: truth tables of AND, OR, NAND, XOR")
    p.set_defaults(func=cmd_gates)
    p = sub.add_parser("activations", help="chapter 3.2: activation values and softmax")
    p.add_argument("--x", type=_numbers, nargs="+", metavar="X", help="inputs to tabulate")
    p.set_defaults(func=cmd_activations)
    p = sub.add_parser("network", help="chapter 3.4: the 3-layer network with every shape")
    p.add_argument("--x", type=_numbers, nargs=2, metavar=("X1", "X2"),
                   help="the input (default 1.0 0.5)")
    p.set_defaults(func=cmd_network)
    p = sub.add_parser("plot", help="figures: activations, softmax bars, a digit (text or SVG)")
    p.add_argument("names", nargs="*", metavar="NAME",
                   help="functions to draw together: step_function (step), sigmoid, tanh, relu, "
                        "leaky_relu, identity_function; or 'softmax' (--scores), or "
                        "'digit' (--index, --pixels) (default: sigmoid step_function)")
    p.add_argument("--svg", metavar="FILE", help="write a standalone SVG file instead")
    p.add_argument("--ascii", action="store_true", help="ASCII characters only")
    p.add_argument("--xmin", type=finite, default=-5.0, help="left end of x (default -5)")
    p.add_argument("--xmax", type=finite, default=5.0, help="right end of x (default 5)")
    p.add_argument("--width", type=integer(8, MAX_TEXT_SIZE), default=60,
                   help="text width in characters, 8 to %d (default 60)" % MAX_TEXT_SIZE)
    p.add_argument("--height", type=integer(3, MAX_TEXT_SIZE), default=15,
                   help="text height in lines, 3 to %d (default 15)" % MAX_TEXT_SIZE)
    p.add_argument("--scores", type=finite, nargs="+", metavar="S",
                   help="scores for 'softmax' (default 0.3 2.9 4.0)")
    digit = p.add_mutually_exclusive_group()
    digit.add_argument("--index", type=integer(0), default=0, metavar="N",
                       help="for 'digit': which of the 10,000 MNIST test images that ship "
                            "with purenn (default 0, a 7)")
    digit.add_argument("--pixels", metavar="FILE",
                       help="for 'digit': a file of pixel values instead (784 numbers, "
                            "0-255 or 0-1, separated by spaces, commas or newlines)")
    p.set_defaults(func=cmd_plot)
    p = sub.add_parser("explain", help="hand calculation: every element with its numbers",
                       description="The hand calculation of the slides: every element with "
                                   "its numbers. WHAT is network (the default), gate, gates "
                                   "or matmul; --exact works with each.")
    _explain_options(p, top=True)
    esub = p.add_subparsers(dest="what", metavar="WHAT")
    e = esub.add_parser("network", help="the book's 3-layer network (the default)")
    _explain_options(e)
    e = esub.add_parser("gate", help="one perceptron gate: w·x + b > 0, e.g. gate NAND 1 1")
    e.add_argument("gate", metavar="GATE", type=str.upper, choices=["AND", "OR", "NAND", "XOR"],
                   help="AND, OR, NAND or XOR (any case)")
    e.add_argument("x1", metavar="X1", type=int, choices=[0, 1], help="the first input, 0 or 1")
    e.add_argument("x2", metavar="X2", type=int, choices=[0, 1], help="the second input, 0 or 1")
    _explain_options(e, x=False)
    e = esub.add_parser("gates", help="every gate on every input pair")
    _explain_options(e, x=False)
    e = esub.add_parser("matmul", help="a matrix product A·B, e.g. '[[1, 2]]' '[[3], [4]]'")
    e.add_argument("a", metavar="A", help="the left matrix as JSON, e.g. '[[1, 2]]'")
    e.add_argument("b", metavar="B", help="the right matrix as JSON")
    _explain_options(e, x=False)
    p.set_defaults(func=cmd_explain)
