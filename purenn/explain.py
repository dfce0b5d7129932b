"""Hand calculation: inference written out step by step, with its numbers.

The slides compute a small network by hand (推論動作を手計算する): the shape
rule of each step, then every element as a sum of products, then the
activation.  ``explain`` does the same for any matmul, layer, network or
perceptron, and returns the text together with the value it computed.

=============================  ===============================================
``explain(A, B)``              a matrix product ``A @ B``
``explain(layer, x)``          one layer ``h(x @ W + b)`` (a ``Layer``)
``explain(init_network(), x)`` the book's ``forward`` over the dict of weights
``explain(network, x)``        a ``Network`` or a trained ``MultiLayerNet``, layer by layer
``explain(AND, (1, 1))``       a perceptron ``w·x + b > 0``; also ``XOR``
=============================  ===============================================

Small results are written element by element; large ones (more than
``SMALL`` elements, or sums longer than ``MAX_TERMS``) are summarised: the
shape rule, one element as an example, and min / mean / max.  Floats are
shown with 10 significant digits; ``int`` and ``fractions.Fraction`` inputs
give exact values (up to the activation, which is a float function).

>>> from purenn import Matrix, init_network
>>> print(explain(AND, (1, 1)))
AND: w·x + b = 0.5×1 + 0.5×1 - 0.7 = 0.3 > 0 -> 1
>>> e = explain(init_network(), [1.0, 0.5])
>>> print("\\n".join(e.lines[:5]))
x = [[1.0, 0.5]]  shape (1,2)
layer 1: a1 = x·W1 + b1   (1,2)·(2,3)+(1,3) -> (1,3)
  a1[0] = 1.0×0.1 + 0.5×0.2 + 0.1 = 0.3
  a1[1] = 1.0×0.3 + 0.5×0.4 + 0.2 = 0.7
  a1[2] = 1.0×0.5 + 0.5×0.6 + 0.3 = 1.1
>>> print(e.lines[5])
  z1 = sigmoid(a1):  z1[0] = sigmoid(0.3) = 0.5744425168
>>> e.result            # the very value forward() returns
Matrix([[0.3168270764110298, 0.6962790898619668]])
"""
import math

from purenn import activations as _act
from purenn.errors import ShapeError
from purenn.matrix import Matrix, as_matrix, format_shape
from purenn.network import Layer, Network
from purenn.perceptron import AND, NAND, OR, Perceptron, XOR

SMALL = 16
"""Results with at most this many elements are written out element by element."""

MAX_TERMS = 8
"""Sums of products longer than this are shortened to their first and last terms."""

DIGITS = 10
"""Significant digits shown for floats."""


class Explanation:
    """A hand calculation: ``lines`` of text and the ``result`` they arrive at.

    ``str()`` (and the REPL) show the text; ``result`` is the value the real
    operation returned, so the explanation can never drift from the code.
    """

    def __init__(self, lines, result):
        self.lines = list(lines)
        self.result = result

    def __str__(self):
        return "\n".join(self.lines)

    __repr__ = __str__

    def to_text(self, charset="unicode"):
        """The text; ``charset="ascii"`` writes × · Σ as * . sum for plain terminals.

        >>> print(explain_matmul([[1, 2]], [[3], [4]]).to_text("ascii"))
        C = A.B   (1,2).(2,1) -> (1,1)
          C[0] = 1*3 + 2*4 = 11
        """
        text = str(self)
        if charset == "ascii":
            for u, a in _ASCII:
                text = text.replace(u, a)
        elif charset != "unicode":
            raise ValueError("to_text: charset must be 'unicode' or 'ascii', got %r" % (charset,))
        return text

    def _repr_html_(self):
        from html import escape
        return "<pre>%s</pre>" % escape(str(self))


# ------------------------------------------------------------ formatting

_ASCII = (("×", "*"), ("·", "."), ("Σ_k ", "sum over k of "))

def number(x, digits=DIGITS):
    """A number as the hand calculation writes it.

    Floats get ``digits`` significant digits and keep a decimal point;
    ints and Fractions are exact.

    >>> number(0.30000000000000004), number(1.0), number(3), number(2.5e-20)
    ('0.3', '1.0', '3', '2.5e-20')
    >>> from fractions import Fraction
    >>> number(Fraction(3, 10))
    '3/10'
    """
    if isinstance(x, float):
        if x != x or x in (math.inf, -math.inf):
            return repr(x)
        s = "%.*g" % (digits, x)
        if "." not in s and "e" not in s:
            s += ".0"
        return s
    return str(x)


def _factor(x):
    s = number(x)
    # a negative number or a fraction inside a product gets parentheses: 1×(-0.5), (1/2)×(1/5)
    return "(%s)" % s if s.startswith("-") or "/" in s else s


def _sum_text(left, right, bias=None):
    """``l0×r0 + l1×r1 + ... + b``, shortened when long."""
    terms = ["%s×%s" % (_factor(a), _factor(b)) for a, b in zip(left, right)]
    if len(terms) > MAX_TERMS:
        terms = terms[:3] + ["... (%d products) ..." % len(terms)] + terms[-1:]
    text = " + ".join(terms)
    if bias is not None:
        s = number(bias)
        text += " - " + s[1:] if s.startswith("-") else " + " + s
    return text


def _shape(m):
    return format_shape(m.shape, sep=",")     # the slides write (1,2)·(2,3)


def _index(m, i, j):
    # the slides index a single row as a vector: a1[0], a1[1], ...
    return "[%d]" % j if m.shape[0] == 1 else "[%d,%d]" % (i, j)


def _summary(name, m):
    values = m.flatten().tolist()[0]
    mean = sum(values) / len(values)
    return "  %s %s: min %s, mean %s, max %s" % (
        name, _shape(m), number(min(values)), number(mean), number(max(values)))


def _matrix(x, what):
    return as_matrix(x, "explain: " + what)


# --------------------------------------------------------- matrix product

def _product_lines(x, W, b, out, names):
    """The element lines of ``out = x @ W (+ b)``."""
    xn, wn, bn, on = names
    n, k = x.shape
    m = W.shape[1]
    xs, cols, outs = x.tolist(), W.T.tolist(), out.tolist()
    bias = b.tolist()[0] if b is not None else None
    lines = []
    if n * m <= SMALL:
        for i in range(n):
            for j in range(m):
                lines.append("  %s%s = %s = %s" % (
                    on, _index(out, i, j),
                    _sum_text(xs[i], cols[j], bias[j] if bias else None),
                    number(outs[i][j])))
        return lines
    rule = "%s[i,j] = Σ_k %s[i,k]×%s[k,j]" % (on, xn, wn) + (" + %s[j]" % bn if bias else "")
    lines.append("  every element: %s   (%d products each, %d×%d×%d = %d multiply-adds)"
                 % (rule, k, n, k, m, n * k * m))
    lines.append("  for example %s%s = %s = %s" % (
        on, _index(out, 0, 0), _sum_text(xs[0], cols[0], bias[0] if bias else None),
        number(outs[0][0])))
    lines.append(_summary(on, out))
    return lines


def explain_matmul(a, b, names=("A", "B", "C")):
    """The product ``C = A @ B``: its shape rule and each element.

    >>> print(explain_matmul([[1, 2]], [[3, 4], [5, 6]]))
    C = A·B   (1,2)·(2,2) -> (1,2)
      C[0] = 1×3 + 2×5 = 13
      C[1] = 1×4 + 2×6 = 16
    """
    a, b = _matrix(a, "the left operand"), _matrix(b, "the right operand")
    out = a @ b  # raises purenn's ShapeError, with both shapes, on a mismatch
    an, bn, cn = names
    lines = ["%s = %s·%s   %s·%s -> %s" % (cn, an, bn, _shape(a), _shape(b), _shape(out))]
    lines += _product_lines(a, b, None, out, (an, bn, None, cn))
    return Explanation(lines, out)


# ------------------------------------------------------------ activations

def _activation_lines(h, a, z, an, zn):
    name = getattr(h, "__name__", "h")
    if not name.isidentifier():  # a lambda's name is "<lambda>"
        name = "h"
    head = "  %s = %s(%s):" % (zn, name, an)
    n, m = a.shape
    if name == "identity_function":
        if n * m <= SMALL:
            return ["  %s = identity_function(%s) = %s" % (zn, an, _rowtext(z))]
        return ["  %s = identity_function(%s) = %s" % (zn, an, an), _summary(zn, z)]
    if name == "softmax":
        return _softmax_lines(a, z, an, zn)
    if n * m > SMALL:
        return [head + " elementwise", _summary(zn, z)]
    parts = ["%s%s = %s(%s) = %s" % (zn, _index(z, i, j), name, number(a[i, j]),
                                     number(z[i, j]))
             for i in range(n) for j in range(m)]
    return [head + "  " + parts[0]] + ["  " + " " * (len(head) - 1) + " " + p for p in parts[1:]]


def _softmax_lines(a, z, an, zn):
    lines = ["  %s = softmax(%s): exp(%s - max) / sum, row by row" % (zn, an, an)]
    n, m = a.shape
    if n * m > SMALL:
        return lines + [_summary(zn, z)]
    for i, row in enumerate(a.tolist()):
        c = max(row)
        e = [math.exp(v - c) for v in row]
        lines.append("    row %d: max = %s, exp(%s - max) = [%s], sum = %s"
                     % (i, number(c), an, ", ".join(number(v) for v in e), number(sum(e))))
        for j in range(m):
            lines.append("    %s%s = %s / %s = %s" % (zn, _index(z, i, j), number(e[j]),
                                                     number(sum(e)), number(z[i, j])))
    return lines


# ----------------------------------------------------------------- layers

def explain_layer(x, W, b, activation=_act.sigmoid, index=1, names=None):
    """One layer ``a = x·W + b``, ``z = h(a)``: shapes, sums, activation.

    ``names`` (input, W, b, a, z) default to ``x, W1, b1, a1, z1`` for
    ``index=1``.

    >>> print(explain_layer([1, 2], [[1], [1]], [-2], _act.relu))
    layer 1: a1 = x·W1 + b1   (1,2)·(2,1)+(1,1) -> (1,1)
      a1[0] = 1×1 + 2×1 - 2 = 1
      z1 = relu(a1):  z1[0] = relu(1) = 1
    """
    x, W, b = _matrix(x, "the input"), _matrix(W, "W"), _matrix(b, "b")
    a = x @ W + b      # purenn's own operations: their checks and their values
    z = activation(a)
    if not isinstance(z, Matrix):
        raise TypeError("explain_layer: the activation %s returned %s for a Matrix; it must "
                        "return a Matrix of the same shape"
                        % (getattr(activation, "__name__", "h"), type(z).__name__))
    if z.shape != a.shape:
        raise ShapeError("explain_layer: activation %s: (%d, %d) -> (%d, %d): an activation "
                         "must keep the shape" % ((getattr(activation, "__name__", "h"),)
                                                  + a.shape + z.shape))
    if names is None:
        names = ("x", "W%d" % index, "b%d" % index, "a%d" % index, "z%d" % index)
    xn, wn, bn, an, zn = names
    lines = ["layer %d: %s = %s·%s + %s   %s·%s+%s -> %s"
             % (index, an, xn, wn, bn, _shape(x), _shape(W), _shape(b), _shape(a))]
    lines += _product_lines(x, W, b, a, (xn, wn, bn, an))
    lines += _activation_lines(activation, a, z, an, zn)
    return Explanation(lines, z)


def explain_network(network, x):
    """A whole forward pass, layer after layer.

    ``network`` is the book's dict (``W1, b1, W2, b2, W3, b3`` with sigmoid,
    sigmoid, identity, as ``forward``), a ``Network``, or a trained
    ``MultiLayerNet`` (anything with the network protocol's ``layer_steps()``).
    The last layer's output is called ``y``.

    >>> from purenn.multilayer import MultiLayerNet
    >>> e = explain_network(MultiLayerNet(2, [2], 2, seed=1), [[1.0, 0.5]])
    >>> e.lines[0], e.lines[4].split(":")[0]
    ('x = [[1.0, 0.5]]  shape (1,2)', '  z1 = relu(a1)')
    """
    if isinstance(network, dict):
        layers = Network.from_dict(network).layers
    elif callable(getattr(network, "layer_steps", None)):
        layers = network.layer_steps()
    else:
        raise TypeError("explain_network: expected the book's dict of weights or a network "
                        "(a Network, a MultiLayerNet), got %s" % type(network).__name__)
    z = _matrix(x, "the input")
    lines = ["x = %s  shape %s" % (_rowtext(z), _shape(z))]
    zname = "x"
    for i, layer in enumerate(layers, 1):
        out = "y" if i == len(layers) else "z%d" % i
        e = explain_layer(z, layer.W, layer.b, layer.activation, i,
                          (zname, "W%d" % i, "b%d" % i, "a%d" % i, out))
        lines += e.lines
        z, zname = e.result, out
    return Explanation(lines, z)


def _rowtext(m):
    if m.shape[0] * m.shape[1] > SMALL:
        return "(%d rows of %d)" % m.shape
    return "[%s]" % ", ".join("[%s]" % ", ".join(number(v) for v in row) for row in m.tolist())


# ------------------------------------------------------------- perceptrons

def explain_perceptron(p, inputs, name=None):
    """``w·x + b`` with its numbers, compared with 0.

    >>> print(explain_perceptron(NAND, (1, 1)))
    NAND: w·x + b = (-0.5)×1 + (-0.5)×1 + 0.7 = -0.3 <= 0 -> 0
    """
    if not isinstance(p, Perceptron):
        raise TypeError("explain_perceptron: expected a Perceptron, got %s" % type(p).__name__)
    if not isinstance(inputs, (list, tuple)):
        raise TypeError("explain_perceptron: inputs must be a list or tuple, got %s"
                        % type(inputs).__name__)
    s = p.weighted_sum(*inputs)   # checks the number of inputs
    y = p(*inputs)
    name = name or _gate_name(p) or "perceptron"
    line = "%s: w·x + b = %s = %s %s 0 -> %d" % (
        name, _sum_text(p.weights, tuple(inputs), p.bias), number(s), ">" if y else "<=", y)
    return Explanation([line], y)


def _gate_name(p):
    for name, gate in (("AND", AND), ("OR", OR), ("NAND", NAND)):
        if p is gate:
            return name
    return None


def explain_xor(x1, x2):
    """XOR as two layers of perceptrons: s1 = NAND, s2 = OR, y = AND(s1, s2).

    >>> print(explain_xor(1, 0))
    XOR(1, 0) = AND(NAND(1, 0), OR(1, 0))
      s1 = NAND: w·x + b = (-0.5)×1 + (-0.5)×0 + 0.7 = 0.2 > 0 -> 1
      s2 = OR: w·x + b = 0.5×1 + 0.5×0 - 0.2 = 0.3 > 0 -> 1
      y = AND: w·x + b = 0.5×1 + 0.5×1 - 0.7 = 0.3 > 0 -> 1
    """
    s1 = explain_perceptron(NAND, (x1, x2))
    s2 = explain_perceptron(OR, (x1, x2))
    y = explain_perceptron(AND, (s1.result, s2.result))
    lines = ["XOR(%s, %s) = AND(NAND(%s, %s), OR(%s, %s))" % ((x1, x2) * 3),
             "  s1 = " + s1.lines[0], "  s2 = " + s2.lines[0], "  y = " + y.lines[0]]
    return Explanation(lines, y.result)


# ---------------------------------------------------------------- explain

def explain(what, *args):
    """Explain one computation; see the module's table.

    Returns an ``Explanation`` (print it; its ``result`` is the value).

    >>> explain(XOR, (1, 1)).result
    0
    >>> explain("sigmoid")
    Traceback (most recent call last):
        ...
    TypeError: explain: cannot explain a str; give a Perceptron, XOR, a Layer, a Network, the book's dict of weights, or two matrices
    """
    if isinstance(what, Perceptron):
        return explain_perceptron(what, _one(args, "the inputs"))
    if what is XOR:
        x = _one(args, "the inputs")
        if not isinstance(x, (list, tuple)) or len(x) != 2:
            raise TypeError("explain(XOR, x): x must be two inputs such as (1, 0), got %r" % (x,))
        return explain_xor(*x)
    if isinstance(what, Layer):
        return explain_layer(_one(args, "the input"), what.W, what.b, what.activation)
    if isinstance(what, dict) or callable(getattr(what, "layer_steps", None)):
        return explain_network(what, _one(args, "the input"))
    if isinstance(what, (Matrix, list, tuple)):
        return explain_matmul(what, _one(args, "the right operand"))
    raise TypeError("explain: cannot explain a %s; give a Perceptron, XOR, a Layer, a Network, "
                    "the book's dict of weights, or two matrices" % type(what).__name__)


def _one(args, what):
    if len(args) != 1:
        raise TypeError("explain: expected one more argument (%s), got %d" % (what, len(args)))
    return args[0]
