"""Backpropagation, one layer at a time (chapter 5; Dropout and BatchNorm from 6.3 - 6.4).

Every layer has ``forward``, which computes its output and remembers what it
needs, and ``backward(dout)``, which takes the gradient of the loss with
respect to its output and returns the gradient with respect to its input
(the chain rule: multiply by the layer's local derivative).

=============================  ======================  ==========================
layer                          forward                 backward(dout)
=============================  ======================  ==========================
``MulLayer``                   ``x * y``               ``dout * y, dout * x``
``AddLayer``                   ``x + y``               ``dout, dout``
``Relu``                       ``max(0, x)``           ``dout`` where x > 0, else 0
``Sigmoid``                    ``y = 1 / (1 + e^-x)``  ``dout * (1 - y) * y``
``Tanh``                       ``y = tanh(x)``         ``dout * (1 - y**2)``
``Affine``                     ``x @ W + b``           ``dout @ W.T``; ``dW = x.T @ dout``,
                                                       ``db = sum of dout's rows``
``SoftmaxWithLoss``            cross-entropy of        ``(y - t) / N``
                               ``softmax(x)`` and t
``Dropout``                    ``x * mask`` (train)    ``dout * mask``
``BatchNormalization``         ``gamma * x_hat + beta``  see its docstring
=============================  ======================  ==========================

The book's shopping example (section 5.4.1): 2 apples at 100 each, 10 % tax.

>>> mul_apple_layer, mul_tax_layer = MulLayer(), MulLayer()
>>> apple_price = mul_apple_layer.forward(100, 2)
>>> price = mul_tax_layer.forward(apple_price, 1.1)
>>> round(price)
220
>>> dapple_price, dtax = mul_tax_layer.backward(1)
>>> dapple, dapple_num = mul_apple_layer.backward(dapple_price)
>>> dapple, dapple_num, dtax
(2.2, 110.00000000000001, 200)

Layers with parameters (``Affine``, ``BatchNormalization``) read them from a
dict by name, ``Affine(params, "W1", "b1")``: a Matrix is immutable, so an
optimiser updates a network by putting *new* matrices into ``params``, and the
layer picks up the current ones at each forward pass.  Their gradients land
in ``layer.grads``, under the same names.
"""
import math

from purenn.activations import softmax
from purenn.errors import ShapeError
from purenn.losses import _truth
from purenn.matrix import Matrix, as_matrix, sqrt, _fmt
from purenn import rng as _rng


def _matrix(x, op):
    return as_matrix(x, op + ": the input")


# ------------------------------------------------------- simple layers (5.4)

class MulLayer:
    """The multiplication node: ``forward(x, y) = x * y``.

    ``backward`` swaps the inputs: d(xy)/dx = y and d(xy)/dy = x.  Works on
    numbers and (elementwise) on matrices.
    """

    def __init__(self):
        self.x = None
        self.y = None

    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward(self, dout):
        return dout * self.y, dout * self.x


class AddLayer:
    """The addition node: ``forward(x, y) = x + y``; ``backward`` passes dout on to both.

    The apple and orange example (section 5.4.2):

    >>> mul_apple, mul_orange, add, mul_tax = MulLayer(), MulLayer(), AddLayer(), MulLayer()
    >>> price = mul_tax.forward(add.forward(mul_apple.forward(100, 2),
    ...                                     mul_orange.forward(150, 3)), 1.1)
    >>> dall, dtax = mul_tax.backward(1)
    >>> dapple_price, dorange_price = add.backward(dall)
    >>> dorange, dorange_num = mul_orange.backward(dorange_price)
    >>> dapple, dapple_num = mul_apple.backward(dapple_price)
    >>> round(price), dapple, round(dapple_num), dorange, round(dorange_num), dtax
    (715, 2.2, 110, 3.3000000000000003, 165, 650)
    """

    def forward(self, x, y):
        return x + y

    def backward(self, dout):
        return dout, dout


# ------------------------------------------------- activation layers (5.5)

class Relu:
    """``y = max(0, x)``; the gradient flows through where x > 0 and stops elsewhere.

    >>> layer = Relu()
    >>> layer.forward(Matrix([[1.0, -0.5], [-2.0, 3.0]]))
    Matrix([[1.0, 0.0], [0.0, 3.0]])
    >>> layer.backward(Matrix([[10.0, 10.0], [10.0, 10.0]]))
    Matrix([[10.0, 0.0], [0.0, 10.0]])
    """

    def __init__(self):
        self.mask = None  # rows of True where x is not <= 0 (so NaN flows through)

    def forward(self, x):
        # ``not v <= 0`` rather than ``v > 0``: a NaN stays NaN, as in
        # purenn.relu and numpy's maximum(0, x); turning it into 0 would hide it
        x = _matrix(x, "Relu.forward")
        self.mask = [[not v <= 0 for v in row] for row in x._rows]
        return Matrix._wrap([[0.0 if v <= 0 else v for v in row] for row in x._rows])

    def backward(self, dout):
        dout = _same_shape(dout, self.mask, "Relu.backward")
        return Matrix._wrap([[d if keep else 0.0 for d, keep in zip(drow, mrow)]
                             for drow, mrow in zip(dout._rows, self.mask)])


def _sigmoid(v):
    # exp(-v) overflows for v < -709; there 1 / (1 + e^-v) is e^v to every bit
    return 1.0 / (1.0 + math.exp(-v)) if v >= -700.0 else math.exp(v)


class Sigmoid:
    """``y = 1 / (1 + exp(-x))``; its derivative is ``y * (1 - y)``, so backward
    needs only the output it remembered (section 5.5.2).

    >>> layer = Sigmoid()
    >>> layer.forward(Matrix([[0.0]]))
    Matrix([[0.5]])
    >>> layer.backward(Matrix([[1.0]]))
    Matrix([[0.25]])
    """

    def __init__(self):
        self.out = None

    def forward(self, x):
        x = _matrix(x, "Sigmoid.forward")
        self.out = Matrix._wrap([[_sigmoid(v) for v in row] for row in x._rows])
        return self.out

    def backward(self, dout):
        dout = _same_shape(dout, self.out and self.out._rows, "Sigmoid.backward")
        return Matrix._wrap([[d * (1.0 - y) * y for d, y in zip(drow, yrow)]
                             for drow, yrow in zip(dout._rows, self.out._rows)])


class Tanh:
    """``y = tanh(x)``, whose derivative is ``1 - y**2``.

    >>> layer = Tanh()
    >>> layer.forward(Matrix([[0.0]])), layer.backward(Matrix([[2.0]]))
    (Matrix([[0.0]]), Matrix([[2.0]]))
    """

    def __init__(self):
        self.out = None

    def forward(self, x):
        x = _matrix(x, "Tanh.forward")
        self.out = Matrix._wrap([[math.tanh(v) for v in row] for row in x._rows])
        return self.out

    def backward(self, dout):
        dout = _same_shape(dout, self.out and self.out._rows, "Tanh.backward")
        return Matrix._wrap([[d * (1.0 - y * y) for d, y in zip(drow, yrow)]
                             for drow, yrow in zip(dout._rows, self.out._rows)])


def _same_shape(dout, remembered, op):
    """dout as a Matrix, checked to have the shape of what forward remembered
    (its output or its mask: a Matrix, or None before the first forward)."""
    if remembered is None:
        raise ValueError("%s: call forward first (backward needs what it remembered)" % op)
    dout = _matrix(dout, op)
    shape = remembered.shape if isinstance(remembered, Matrix) else (len(remembered),
                                                                     len(remembered[0]))
    if dout.shape != shape:
        raise ShapeError("%s: dout %s for a forward output %s: shapes must be equal"
                         % (op, _fmt(dout.shape), _fmt(shape)))
    return dout


# ------------------------------------------------------------- Affine (5.6)

class Affine:
    """The fully connected layer ``out = x @ W + b`` (section 5.6.2).

    Shapes: x (N, D) @ W (D, M) + b (1, M) -> out (N, M).  Backward, for dout (N, M)::

        dx = dout @ W.T          (N, M) @ (M, D) -> (N, D)
        dW = x.T @ dout          (D, N) @ (N, M) -> (D, M)
        db = dout summed over the batch (axis 0)  -> (1, M)

    ``W`` and ``b`` are read from ``params`` at each forward pass (see the
    module docstring); the gradients go to ``grads[w_key]``, ``grads[b_key]``.

    >>> params = {"W": Matrix([[1.0, 2.0], [3.0, 4.0]]), "b": Matrix([0.5, -0.5])}
    >>> layer = Affine(params)
    >>> layer.forward(Matrix([[1.0, 1.0]]))
    Matrix([[4.5, 5.5]])
    >>> layer.backward(Matrix([[1.0, 0.0]]))
    Matrix([[1.0, 3.0]])
    >>> layer.grads["W"], layer.grads["b"]
    (Matrix([[1.0, 0.0], [1.0, 0.0]]), Matrix([[1.0, 0.0]]))
    """

    def __init__(self, params, w_key="W", b_key="b"):
        self.params, self.w_key, self.b_key = params, w_key, b_key
        W, b = params[w_key], params[b_key]
        if b.shape != (1, W.shape[1]):
            raise ShapeError("Affine: %s %s and %s %s: the bias must be one row with one "
                             "number per column of W, (1, %d)"
                             % (w_key, _fmt(W.shape), b_key, _fmt(b.shape), W.shape[1]))
        self.x = None
        self.W = None
        self.grads = {}

    def forward(self, x):
        x = _matrix(x, "Affine.forward")
        self.W = W = self.params[self.w_key]
        if x.shape[1] != W.shape[0]:
            raise ShapeError("Affine.forward: x %s @ %s %s: columns of x (%d) must equal "
                             "rows of W (%d)" % (_fmt(x.shape), self.w_key, _fmt(W.shape),
                                                 x.shape[1], W.shape[0]))
        self.x = x
        return x @ W + self.params[self.b_key]

    def backward(self, dout, need_dx=True):
        """dW and db into ``grads``; returns dx, or None when ``need_dx`` is
        false (the first layer: nobody needs the gradient of the input, and
        ``dout @ W.T`` would be the most expensive product of the pass)."""
        dout = _matrix(dout, "Affine.backward")
        if self.x is None:
            raise ValueError("Affine.backward: call forward first (backward needs x)")
        expected = (self.x.shape[0], self.W.shape[1])
        if dout.shape != expected:
            raise ShapeError("Affine.backward: dout %s for a forward output %s: shapes must "
                             "be equal" % (_fmt(dout.shape), _fmt(expected)))
        # x.T of an image batch is mostly zeros: the matrix product skips them
        self.grads[self.w_key] = self.x.T @ dout
        self.grads[self.b_key] = dout.sum(axis=0)
        if not need_dx:
            return None
        return dout @ self.W.T


# ------------------------------------------------- Softmax-with-Loss (5.6.3)

class SoftmaxWithLoss:
    """Softmax followed by the cross-entropy error: the output layer for training.

    ``loss = -log(softmax(x)[label])``, the mean over the batch; it equals
    ``cross_entropy_error(softmax(x), t)`` up to that function's 1e-7 guard.

    ``forward(x, t)`` returns the mean loss of the batch; ``t`` is one label
    per row or one-hot rows.  ``backward()`` returns ``(y - t) / N``: the two
    layers' derivatives combine into this simple difference (the reason the
    pair is one layer; section 5.6.3).

    >>> layer = SoftmaxWithLoss()
    >>> round(layer.forward(Matrix([[0.0, 0.0]]), [1]), 6)
    0.693147
    >>> layer.backward()
    Matrix([[0.5, -0.5]])
    """

    def __init__(self):
        self.y = None
        self.labels = None
        self.loss = None

    def forward(self, x, t):
        x = _matrix(x, "SoftmaxWithLoss.forward")
        labels, onehot = _truth(t, x.shape, "SoftmaxWithLoss.forward")
        if labels is None:
            labels = Matrix._wrap(onehot).argmax(axis=1)
            if any(row.count(0) != len(row) - 1 for row in onehot):
                raise ValueError("SoftmaxWithLoss.forward: t must be one-hot rows (one 1, "
                                 "the rest 0) or labels")
        self.labels = labels
        self.y = softmax(x)
        # The cross-entropy of softmax(x), computed from x itself:
        #   -log(softmax(x)[t]) = -(x[t] - c) + log(sum_k exp(x[k] - c)),  c = max(x)
        # Never log(0), and unlike the book's -log(y[t] + 1e-7) it is the exact
        # function whose derivative backward() returns (the 1e-7 would shift
        # the slope by about 1e-7 / y[t] and spoil a tight gradient check).
        total = 0.0
        for row, label in zip(x._rows, labels):
            c = max(row)
            total += math.log(sum([math.exp(v - c) for v in row])) - (row[label] - c)
        self.loss = total / x.shape[0]
        return self.loss

    def backward(self, dout=1):
        if self.y is None:
            raise ValueError("SoftmaxWithLoss.backward: call forward(x, t) first")
        n = self.y.shape[0]
        scale = dout / n
        rows = []
        for row, label in zip(self.y._rows, self.labels):
            d = [v * scale for v in row]
            d[label] = (row[label] - 1) * scale
            rows.append(d)
        return Matrix._wrap(rows)


# -------------------------------------------------------------- Dropout (6.4.3)

class Dropout:
    """Dropout: in training, each neuron is dropped (output 0) with probability
    ``ratio``; at test time every neuron is kept and scaled by ``1 - ratio``, the
    share that was on during training (section 6.4.3, the book's convention).

    The random masks come from purenn's own generator: the same ``seed`` gives
    the same masks.

    >>> layer = Dropout(0.5, seed=1)
    >>> x = Matrix([[1.0, 2.0, 3.0, 4.0]])
    >>> out = layer.forward(x)                 # some entries are now 0.0
    >>> all(v in (0.0, w) for v, w in zip(out[0], x[0]))
    True
    >>> layer.forward(x, train_flg=False)
    Matrix([[0.5, 1.0, 1.5, 2.0]])
    """

    def __init__(self, ratio=0.5, seed=None):
        if not 0 <= ratio < 1:
            raise ValueError("Dropout: ratio must be in [0, 1), got %r" % (ratio,))
        self.ratio = ratio
        self.gen = _rng.generator(seed)
        self.mask = None

    def forward(self, x, train_flg=True):
        x = _matrix(x, "Dropout.forward")
        if not train_flg:
            keep = 1.0 - self.ratio
            return Matrix._wrap([[v * keep for v in row] for row in x._rows])
        random, ratio = self.gen.random, self.ratio
        self.mask = [[random() > ratio for _ in row] for row in x._rows]
        return Matrix._wrap([[v if m else 0.0 for v, m in zip(row, mrow)]
                             for row, mrow in zip(x._rows, self.mask)])

    def backward(self, dout):
        dout = _same_shape(dout, self.mask, "Dropout.backward")
        return Matrix._wrap([[d if m else 0.0 for d, m in zip(drow, mrow)]
                             for drow, mrow in zip(dout._rows, self.mask)])


# ---------------------------------------------------- Batch Normalization (6.3)

class BatchNormalization:
    """Normalise each column over the batch, then scale and shift (section 6.3),
    the book's steps (``common/layers.py``)::

        mu  = mean of x over the batch (axis 0)          (1, D)
        xc  = x - mu
        var = mean of xc**2 over the batch               (1, D)
        std = sqrt(var + 10e-7)                          the book's epsilon: 1e-6
        xn  = xc / std                                   mean 0, variance about 1
        out = gamma * xn + beta                          gamma, beta (1, D) learnt

    At test time (``train_flg=False``) the running averages of mu and var
    from training are used (``momentum`` weighs the old average).  Backward
    follows the computational graph of the book's ``__backward``::

        dbeta  = sum(dout);          dgamma = sum(xn * dout)
        dxn    = gamma * dout
        dxc    = dxn / std
        dstd   = -sum(dxn * xc / (std * std));    dvar = 0.5 * dstd / std
        dxc   += (2 / N) * xc * dvar
        dx     = dxc - sum(dxc) / N

    The epsilon is the book's ``10e-7``, which is 1e-6 (not 1e-7): it matters
    when a column barely varies.  On x = [[0.0], [0.001]] the variance is
    2.5e-7, and the book's epsilon gives +-0.4472:

    >>> params = {"gamma": Matrix([1.0]), "beta": Matrix([0.0])}
    >>> out = BatchNormalization(params).forward(Matrix([[0.0], [0.001]]))
    >>> [round(v, 4) for v in out.tolist()[0] + out.tolist()[1]]
    [-0.4472, 0.4472]
    >>> params = {"gamma": Matrix([1.0, 1.0]), "beta": Matrix([0.0, 0.0])}
    >>> bn = BatchNormalization(params)
    >>> out = bn.forward(Matrix([[1.0, 10.0], [3.0, 30.0]]))
    >>> out.allclose([[-1.0, -1.0], [1.0, 1.0]], rel_tol=1e-5)
    True
    """

    EPS = 10e-7
    """The book's epsilon, written as the book writes it: 10e-7 == 1e-6."""

    def __init__(self, params, gamma_key="gamma", beta_key="beta", momentum=0.9,
                 running_mean=None, running_var=None):
        self.params, self.gamma_key, self.beta_key = params, gamma_key, beta_key
        self.momentum = momentum
        self.running_mean = running_mean
        self.running_var = running_var
        self.grads = {}
        # what backward needs, as the book names it
        self.batch_size = None
        self.xc = None
        self.xn = None
        self.std = None

    def forward(self, x, train_flg=True):
        x = _matrix(x, "BatchNormalization.forward")
        gamma, beta = self.params[self.gamma_key], self.params[self.beta_key]
        if gamma.shape != (1, x.shape[1]):
            raise ShapeError("BatchNormalization.forward: x %s and %s %s: one gamma per "
                             "column of x, (1, %d)" % (_fmt(x.shape), self.gamma_key,
                                                       _fmt(gamma.shape), x.shape[1]))
        if self.running_mean is None:
            self.running_mean = Matrix.zeros(1, x.shape[1])
            self.running_var = Matrix.zeros(1, x.shape[1])
        if train_flg:
            mu = x.mean(axis=0)
            xc = x - mu
            var = (xc ** 2).mean(axis=0)
            std = sqrt(var + self.EPS)
            xn = xc / std
            self.batch_size = x.shape[0]
            self.xc, self.xn, self.std = xc, xn, std
            self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * mu
            self.running_var = self.momentum * self.running_var + (1 - self.momentum) * var
        else:
            xc = x - self.running_mean
            xn = xc / sqrt(self.running_var + self.EPS)
        return gamma * xn + beta

    def backward(self, dout):
        if self.xn is None:
            raise ValueError("BatchNormalization.backward: call forward(x, train_flg=True) first")
        dout = _same_shape(dout, self.xn, "BatchNormalization.backward")
        gamma = self.params[self.gamma_key]
        dbeta = dout.sum(axis=0)
        dgamma = (self.xn * dout).sum(axis=0)
        dxn = gamma * dout
        dxc = dxn / self.std
        dstd = -((dxn * self.xc) / (self.std * self.std)).sum(axis=0)
        dvar = 0.5 * dstd / self.std
        dxc += (2.0 / self.batch_size) * self.xc * dvar
        dmu = dxc.sum(axis=0)
        dx = dxc - dmu / self.batch_size
        self.grads[self.gamma_key] = dgamma
        self.grads[self.beta_key] = dbeta
        return dx
