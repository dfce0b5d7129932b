"""Activation functions h(a): what a neuron does with its weighted sum (chapter 3.2).

=====================  ==============================================  ==========
``step_function(x)``   1 if x > 0 else 0  (step(0) = 0, as in the book)  perceptron
``sigmoid(x)``         1 / (1 + exp(-x))                                 hidden
``tanh(x)``            (exp(x) - exp(-x)) / (exp(x) + exp(-x))           hidden
``relu(x)``            max(0, x)                                         hidden
``leaky_relu(x, a)``   x if x > 0 else a·x   (a = 0.01 by default)        hidden
``identity_function``  x                                                 regression output
``softmax(x)``         exp(x_k - max x) / sum_i exp(x_i - max x)         classification output
``sigmoid_grad(x)``    (1 - sigmoid(x)) * sigmoid(x)                     derivative
``relu_grad(x)``       1 if x >= 0 else 0  (as the book)                 derivative
=====================  ==============================================  ==========

Each takes a number, a Matrix, or (nested) lists, and returns the same kind:
a number for a number, a Matrix for a Matrix (elementwise, and softmax row by
row), lists for lists.  None of them overflows: ``sigmoid(-1000) == 0.0``,
``softmax([1010, 1000, 990])`` is finite.  They are the one home of these
formulas: the layers of ``purenn.layers`` (``Sigmoid``, ``Tanh``, ``Relu``)
call them.

>>> sigmoid(0.0), step_function(0.0), relu(-3.0), leaky_relu(-3.0)
(0.5, 0, 0.0, -0.03)
>>> [round(p, 4) for p in softmax([0.3, 2.9, 4.0])]
[0.0182, 0.2452, 0.7366]
"""
import math

from purenn.matrix import Matrix, is_number

_exp = math.exp


def _apply(x, scalar, row, name):
    """Call ``scalar`` on a number, ``row`` on each row of a Matrix (or lists)."""
    if isinstance(x, Matrix):
        return x.map_rows(row)
    if isinstance(x, (list, tuple)):
        out = Matrix(x).map_rows(row).tolist()
        nested = len(x) > 0 and isinstance(x[0], (list, tuple, Matrix))
        return out if nested else out[0]
    if not is_number(x):
        raise TypeError("%s: expected a number, a Matrix or (nested) lists, got %s"
                        % (name, type(x).__name__))
    return scalar(x)


def _elementwise(f):
    return lambda row: [f(v) for v in row]


# ------------------------------------------------------------------- step

def _step(x):
    return 1 if x > 0 else 0


def step_function(x):
    """The perceptron's activation: ``1 if x > 0 else 0``; step(0) = 0.

    >>> step_function(Matrix([[-1.0, 0.0, 2.0]]))
    Matrix([[0, 0, 1]])
    """
    return _apply(x, _step, _elementwise(_step), "step_function")


# ---------------------------------------------------------------- sigmoid

def _sigmoid(x):
    # On [-700, 710] this is the book's formula.  Below -700, exp(-x) would
    # overflow, and 1 / (1 + e**-x) equals e**x to every bit of a float; below
    # -750 that is 0.0, above 710 the formula gives 1.0: saying so directly
    # also covers ints too large for a float.  nan falls through to exp(nan).
    if -700.0 <= x <= 710.0:
        return 1.0 / (1.0 + _exp(-x))
    if x > 710.0:
        return 1.0
    if x < -750.0:
        return 0.0
    return _exp(x)


def _sigmoid_row(row):
    # inlined: the hot loop of every sigmoid network (the rare rest: _sigmoid)
    return [1.0 / (1.0 + _exp(-v)) if -700.0 <= v <= 710.0 else _sigmoid(v) for v in row]


def sigmoid(x):
    """The logistic function ``1 / (1 + exp(-x))``, in (0, 1); sigmoid(0) = 0.5.

    Never overflows: it saturates to exactly 0.0 and 1.0.

    >>> sigmoid(-1000), sigmoid(1000)
    (0.0, 1.0)
    >>> sigmoid(Matrix([[-1.0, 1.0, 2.0]]))
    Matrix([[0.2689414213699951, 0.7310585786300049, 0.8807970779778823]])
    """
    return _apply(x, _sigmoid, _sigmoid_row, "sigmoid")


# ------------------------------------------------------------------- tanh

def tanh(x):
    """The hyperbolic tangent ``(e^x - e^-x) / (e^x + e^-x)``, in (-1, 1); odd.

    >>> tanh(0.0), tanh(1000.0), tanh(-1000.0)
    (0.0, 1.0, -1.0)
    """
    return _apply(x, _tanh, _elementwise(_tanh), "tanh")


def _tanh(x):
    try:
        return math.tanh(x)
    except (OverflowError, ValueError):  # an int too large for a float
        return 1.0 if x > 0 else -1.0


# ------------------------------------------------------------------- relu

def _relu(x):
    # the zero keeps the element's kind (0.0, 0, Fraction(0)); nan stays nan
    if x > 0 or x != x:
        return x
    return 0.0 if isinstance(x, float) else x * 0


def _relu_row(row):
    if _list_strategy is not None and _list_strategy(row) == "FloatListStrategy":
        out = _relu_floats(row)
        if out is not None:
            return out
    # inlined for ReLU networks: ``not v <= 0`` keeps positives and nan as they are
    return [v if not v <= 0 else (0.0 if type(v) is float else _relu(v)) for v in row]


def _relu_floats(row):
    """relu of a list of floats without a branch per element, or None.

    ``(v + |v|) * 0.5`` is exactly v for 0 < v < 2**1023 (``v + v`` is exact,
    and so is halving it) and +0.0 for v <= 0 (``v + -v`` is +0.0, also for
    -0.0).  It is wrong only where the result is not finite: nan for -inf,
    inf for v >= 2**1023 (and a nan input stays nan); so when the sum of
    the results is finite they are all right, else None (the caller takes
    the branch).  On PyPy a branch that goes either way at random (a
    convolution's outputs) costs more than this: the SimpleConvNet's ReLU
    is 1.5x faster (``benchmarks/bench_convnet.py``).
    """
    out = [(v + abs(v)) * 0.5 for v in row]
    s = sum(out)
    return out if s - s == 0 else None


try:  # PyPy tells how a list is stored: "FloatListStrategy" holds floats only
    from __pypy__ import strategy as _list_strategy
except ImportError:
    _list_strategy = None


def relu(x):
    """The rectified linear unit ``max(0, x)``.

    >>> relu(Matrix([[-2.0, 0.0, 3.0]]))
    Matrix([[0.0, 0.0, 3.0]])
    """
    return _apply(x, _relu, _relu_row, "relu")


def leaky_relu(x, alpha=0.01):
    """``x if x > 0 else alpha * x``: a ReLU whose negative side keeps a small
    slope ``alpha`` (default 0.01, the common choice) so its gradient is never 0.

    >>> leaky_relu([-100.0, 5.0], alpha=0.1)
    [-10.0, 5.0]
    """
    def f(v):
        if v > 0 or v != v:
            return v
        try:
            return alpha * v
        except (OverflowError, ValueError):  # an int too large for a float: infinite
            return float("-inf") if alpha > 0 else float("inf")
    return _apply(x, f, _elementwise(f), "leaky_relu")


# ----------------------------------------------------------------- output

def identity_function(x):
    """The output activation for regression: ``x`` unchanged.

    >>> identity_function(Matrix([[0.3, -0.7]]))
    Matrix([[0.3, -0.7]])
    """
    if isinstance(x, Matrix):
        return x  # matrices never change, so the very same one will do
    return _apply(x, lambda v: v, list, "identity_function")


def _softmax_row(row):
    c, e, s = _shifted_exps(row)
    return [v / s for v in e]


def _shifted_exps(row):
    """softmax's parts: ``c = max(row)``, ``e = exp(row - c)``, ``s = sum(e)``
    (``SoftmaxWithLoss`` takes its loss from the same ones).  Shifting by
    the row's maximum changes nothing mathematically (the factor exp(-max)
    cancels) but keeps every exp() argument <= 0: no overflow."""
    c = max(row)
    e = [_exp_shifted(v, c) for v in row]
    return c, e, sum(e)


def _exp_shifted(v, c):
    """exp(v - c) for v <= c: 0.0 once v - c < -750 (where exp underflows
    anyway), also when v - c is too large for a float (ints); nan stays nan."""
    try:
        d = v - c
    except (OverflowError, ValueError):  # an int too large for a float
        return 0.0
    return 0.0 if d < -750.0 else _exp(d)


def softmax(x):
    """``y_k = exp(x_k) / sum_i exp(x_i)``, row by row: probabilities that sum to 1.

    Computed as ``exp(x_k - max(x))`` so that large scores do not overflow.
    A single number gives 1.0.

    >>> softmax([1010, 1000, 990])
    [0.999954600070331, 4.539786860886666e-05, 2.061060046209062e-09]
    >>> softmax(Matrix([[0.0, 0.0], [1.0, 1.0]]))
    Matrix([[0.5, 0.5], [0.5, 0.5]])
    """
    return _apply(x, lambda v: _softmax_row([v])[0], _softmax_row, "softmax")


# ------------------------------------------- derivatives (the book's names)

def sigmoid_grad(x):
    """The derivative of sigmoid at x: ``(1 - sigmoid(x)) * sigmoid(x)``, the
    book's ``sigmoid_grad`` (``common/functions.py``; ch04's TwoLayerNet).

    >>> sigmoid_grad(0.0), sigmoid_grad(Matrix([[0.0, 1000.0]]))
    (0.25, Matrix([[0.25, 0.0]]))
    """
    y = sigmoid(x)
    if isinstance(y, Matrix):
        return (1.0 - y) * y
    if isinstance(y, list):
        return sigmoid_grad(Matrix(y)).tolist() if y and isinstance(y[0], list) else \
            [(1.0 - v) * v for v in y]
    return (1.0 - y) * y


def _relu_grad(v):
    return 1 if v >= 0 else 0


def relu_grad(x):
    """The derivative of relu at x: 1 where ``x >= 0``, else 0, as the book's
    ``relu_grad`` (which counts 0 as the positive side; the ``Relu`` layer's
    backward, also as the book's, lets no gradient through at 0).

    >>> relu_grad(Matrix([[-1.0, 0.0, 2.0]]))
    Matrix([[0, 1, 1]])
    """
    return _apply(x, _relu_grad, _elementwise(_relu_grad), "relu_grad")


ACTIVATIONS = {
    "step_function": step_function,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "identity_function": identity_function,
    "softmax": softmax,
}
