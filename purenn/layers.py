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

Chapter 7's ``Convolution`` and ``Pooling`` live in ``purenn.convolution``
(beside ``im2col``, which they are built on) and can be imported from here
too, as from the book's ``common/layers.py``.

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

**Parameters live in a dict.**  The book writes ``Affine(W, b)`` and the
layer keeps its W; an optimiser then changes that very array in place.  A
purenn Matrix is immutable, so an optimiser *rebinds* ``params["W1"]`` to a
new matrix, and a layer that kept the old one would never learn.  So layers
with parameters (``Affine``, ``BatchNormalization``) are given the dict and
the names, ``Affine(params, "W1", "b1")``, and read the current matrices at
each pass.  The book's attributes are all there: ``layer.W`` and ``layer.b``
are ``params[...]`` of this moment, ``layer.dW`` and ``layer.db`` the
gradients of the last backward (also in ``layer.grads`` under the parameters'
names), and ``x``, ``mask``, ``out``, ``y``, ``t``, ``xc``, ``std`` ... are
what forward remembered, as in the book.

>>> Affine(Matrix([[1.0]]), Matrix([[0.0]]))
Traceback (most recent call last):
    ...
TypeError: Affine(W, b): purenn layers read their parameters from a dict, Affine(params, 'W1', 'b1'), because a Matrix is immutable and an optimiser rebinds params['W1'] to a new one; the layer's W is then params['W1']
"""
import math

from purenn.activations import _shifted_exps, relu, sigmoid, tanh
from purenn.errors import ShapeError
from purenn.labels import as_labels, one_hot
from purenn.matrix import Matrix, affine, as_matrix, sqrt, format_shape
from purenn import rng as _rng


def _matrix(x, op):
    return as_matrix(x, op + ": the input")


def _param(key_attr, doc):
    """A layer's view of one of its parameters, ``params[<its key>]`` now
    (the book's ``self.W``): read-only, since an optimiser rebinds the dict."""
    return property(lambda layer: layer.params[getattr(layer, key_attr)], doc=doc)


def _grad(key_attr, doc):
    """A layer's view of a gradient of its last backward (the book's ``self.dW``)."""
    return property(lambda layer: layer.grads.get(getattr(layer, key_attr)), doc=doc)


def _params_dict(params, op, keys):
    """The parameter dict of a layer; the book's ``Affine(W, b)`` gets the reason why not."""
    if isinstance(params, (Matrix, list, tuple)) or not hasattr(params, "keys"):
        args = ", ".join(repr(k) for k in keys)
        raise TypeError("%s(%s): purenn layers read their parameters from a dict, "
                        "%s(params, %s), because a Matrix is immutable and an optimiser "
                        "rebinds params[%r] to a new one; the layer's %s is then params[%r]"
                        % (op, ", ".join(k.rstrip("1") for k in keys), op, args, keys[0],
                           keys[0].rstrip("1"), keys[0]))
    return params


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

    ``mask`` is the book's: True where ``x <= 0`` (where nothing flows back).

    >>> layer = Relu()
    >>> layer.forward(Matrix([[1.0, -0.5], [-2.0, 3.0]]))
    Matrix([[1.0, 0.0], [0.0, 3.0]])
    >>> layer.mask
    Matrix([[False, True], [True, False]])
    >>> layer.backward(Matrix([[10.0, 10.0], [10.0, 10.0]]))
    Matrix([[10.0, 0.0], [0.0, 10.0]])
    """

    def __init__(self):
        self.out = None

    @property
    def mask(self):
        """The book's ``self.mask = (x <= 0)``, read from the output: relu(x)
        is 0.0 exactly where x <= 0 (and a NaN, which is not <= 0, stays NaN)."""
        return None if self.out is None else self.out <= 0

    def forward(self, x):
        # a NaN is not <= 0: it stays NaN (as numpy's maximum(0, x)), never hidden as 0
        self.out = relu(_matrix(x, "Relu.forward"))
        return self.out

    def backward(self, dout):
        dout = _same_shape(dout, self.out, "Relu.backward")
        # the book's dout[self.mask] = 0; dx = dout, in one pass over the
        # elements, the mask read from the output (no matrix of it is made)
        return dout.map_rows(_relu_backward_row, self.out)


class Sigmoid:
    """``y = 1 / (1 + exp(-x))``; its derivative is ``y * (1 - y)``, so backward
    needs only the output it remembered, ``out`` (section 5.5.2).

    >>> layer = Sigmoid()
    >>> layer.forward(Matrix([[0.0, 10 ** 400]]))
    Matrix([[0.5, 1.0]])
    >>> layer.backward(Matrix([[1.0, 1.0]]))
    Matrix([[0.25, 0.0]])
    """

    def __init__(self):
        self.out = None

    def forward(self, x):
        self.out = sigmoid(_matrix(x, "Sigmoid.forward"))
        return self.out

    def backward(self, dout):
        dout = _same_shape(dout, self.out, "Sigmoid.backward")
        # the book's dx = dout * (1.0 - self.out) * self.out, in one pass over
        # the elements (the hot loop of a sigmoid network's backward pass)
        return dout.map_rows(_sigmoid_backward_row, self.out)


class Tanh:
    """``y = tanh(x)``, whose derivative is ``1 - y**2``.

    >>> layer = Tanh()
    >>> layer.forward(Matrix([[0.0, 10 ** 400]])), layer.backward(Matrix([[2.0, 2.0]]))
    (Matrix([[0.0, 1.0]]), Matrix([[2.0, 0.0]]))
    """

    def __init__(self):
        self.out = None

    def forward(self, x):
        self.out = tanh(_matrix(x, "Tanh.forward"))
        return self.out

    def backward(self, dout):
        dout = _same_shape(dout, self.out, "Tanh.backward")
        # dx = dout * (1.0 - self.out * self.out), in one pass over the elements
        return dout.map_rows(_tanh_backward_row, self.out)


def _relu_backward_row(d_row, y_row):
    return [0.0 if y <= 0 else d for d, y in zip(d_row, y_row)]


def _sigmoid_backward_row(d_row, y_row):
    return [d * (1.0 - y) * y for d, y in zip(d_row, y_row)]


def _tanh_backward_row(d_row, y_row):
    return [d * (1.0 - y * y) for d, y in zip(d_row, y_row)]


def _same_shape(dout, remembered, op):
    """dout as a Matrix, checked to have the shape of what forward remembered
    (its output or its mask: a Matrix, or None before the first forward)."""
    if remembered is None:
        raise ValueError("%s: call forward first (backward needs what it remembered)" % op)
    dout = _matrix(dout, op)
    if dout.shape != remembered.shape:
        raise ShapeError("%s: dout %s for a forward output %s: shapes must be equal"
                         % (op, format_shape(dout.shape), format_shape(remembered.shape)))
    return dout


# ------------------------------------------------------------- Affine (5.6)

class Affine:
    """The fully connected layer ``out = x @ W + b`` (section 5.6.2).

    Shapes: x (N, D) @ W (D, M) + b (1, M) -> out (N, M).  Backward, for dout (N, M)::

        dx = dout @ W.T          (N, M) @ (M, D) -> (N, D)
        dW = x.T @ dout          (D, N) @ (N, M) -> (D, M)
        db = dout summed over the batch (axis 0)  -> (1, M)

    ``W`` and ``b`` are ``params[w_key]`` and ``params[b_key]`` (see the module
    docstring); ``dW`` and ``db`` are ``grads[w_key]`` and ``grads[b_key]``.

    >>> params = {"W": Matrix([[1.0, 2.0], [3.0, 4.0]]), "b": Matrix([0.5, -0.5])}
    >>> layer = Affine(params)
    >>> layer.forward(Matrix([[1.0, 1.0]]))
    Matrix([[4.5, 5.5]])
    >>> layer.backward(Matrix([[1.0, 0.0]]))
    Matrix([[1.0, 3.0]])
    >>> layer.dW, layer.db
    (Matrix([[1.0, 0.0], [1.0, 0.0]]), Matrix([[1.0, 0.0]]))
    """

    def __init__(self, params, w_key="W", b_key="b"):
        self.params = _params_dict(params, "Affine", ("W1", "b1"))
        self.w_key, self.b_key = w_key, b_key
        W, b = params[w_key], params[b_key]
        if b.shape != (1, W.shape[1]):
            raise ShapeError("Affine: %s %s and %s %s: the bias must be one row with one "
                             "number per column of W, (1, %d)"
                             % (w_key, format_shape(W.shape), b_key, format_shape(b.shape), W.shape[1]))
        self.x = None
        self.grads = {}

    W = _param("w_key", "The weights: ``params[w_key]``, whatever matrix is there now.")
    b = _param("b_key", "The bias row: ``params[b_key]``.")
    dW = _grad("w_key", "dL/dW of the last backward (None before it).")
    db = _grad("b_key", "dL/db of the last backward (None before it).")

    def forward(self, x):
        x = _matrix(x, "Affine.forward")
        W = self.W
        if x.shape[1] != W.shape[0]:
            raise ShapeError("Affine.forward: x %s @ %s %s: columns of x (%d) must equal "
                             "rows of W (%d)" % (format_shape(x.shape), self.w_key, format_shape(W.shape),
                                                 x.shape[1], W.shape[0]))
        self.x = x
        # out = np.dot(self.x, self.W) + self.b, the bias added as each row is made
        return affine(x, W, self.b)

    def backward(self, dout, need_dx=True):
        """dW and db; returns dx, or None when ``need_dx`` is false (the
        first layer: nobody needs the gradient of the input, and
        ``dout @ W.T`` would be the most expensive product of the pass)."""
        dout = _matrix(dout, "Affine.backward")
        if self.x is None:
            raise ValueError("Affine.backward: call forward first (backward needs x)")
        expected = (self.x.shape[0], self.W.shape[1])
        if dout.shape != expected:
            raise ShapeError("Affine.backward: dout %s for a forward output %s: shapes must "
                             "be equal" % (format_shape(dout.shape), format_shape(expected)))
        # x.T of an image batch is mostly zeros: the matrix product skips them
        self.grads[self.w_key] = self.x.T @ dout
        self.grads[self.b_key] = dout.sum(axis=0)
        if not need_dx:
            return None
        return dout @ self.W.T


# ------------------------------------------------- Softmax-with-Loss (5.6.3)

class SoftmaxWithLoss:
    """Softmax followed by the cross-entropy error: the output layer for training.

    ``forward(x, t)`` returns the mean loss of the batch, ``-log(softmax(x)[label])``
    averaged over the rows; ``t`` is one label per row or one-hot rows.
    ``backward(dout=1)`` returns ``(y - t) * dout / N``: the two layers'
    derivatives combine into this simple difference (the reason the pair is
    one layer; section 5.6.3).  It remembers the book's ``y`` (the softmax),
    ``t`` (the truth, as one-hot rows whatever form it came in) and ``loss``.

    Two differences from the book's ``common/layers.py``, on purpose:

    - the loss is the exact ``-log(y[label])``, computed from x as
      ``log(sum_k exp(x_k - c)) - (x_label - c)`` with ``c = max(x)`` (never
      ``log(0)``), where the book takes ``cross_entropy_error(y, t)``, that is
      ``-log(y[label] + 1e-7)``.  The book's loss is lower by
      ``log(1 + 1e-7 / y[label])``: about 2e-6 for y = 0.05, up to 16 for a
      y that underflows to 0.  Only this loss is the function whose
      derivative ``backward`` returns (the 1e-7 would shift the slope by
      about 1e-7 / y and spoil a tight gradient check).
    - ``backward(dout)`` multiplies by ``dout`` (the chain rule); the book's
      ignores it (and is only ever called with 1).  At ``dout=1`` both give
      the book's ``(y - t) / N`` to the bit.

    >>> layer = SoftmaxWithLoss()
    >>> round(layer.forward(Matrix([[0.0, 0.0]]), [1]), 6)
    0.693147
    >>> layer.backward()
    Matrix([[0.5, -0.5]])
    >>> layer.t
    Matrix([[0, 1]])
    """

    def __init__(self):
        self.loss = None
        self.y = None
        self.t = None

    def forward(self, x, t):
        x = _matrix(x, "SoftmaxWithLoss.forward")
        labels = as_labels(t, x.shape[1], "SoftmaxWithLoss.forward", n=x.shape[0])
        self.t = one_hot(labels, x.shape[1])
        # y = softmax(x), and from the same exponentials the loss of each row:
        # -log(softmax(x)[t]) = log(sum_k exp(x[k] - c)) - (x[t] - c),  c = max(x)
        losses, log = [], math.log

        def softmax_and_loss(row):
            c, e, s = _shifted_exps(row)
            losses.append(log(s) - (row[labels[len(losses)]] - c))
            return [v / s for v in e]

        self.y = x.map_rows(softmax_and_loss)
        total = 0.0
        for v in losses:  # one after another (sum() of floats is compensated on 3.12+)
            total += v
        self.loss = total / x.shape[0]
        return self.loss

    def backward(self, dout=1):
        if self.y is None:
            raise ValueError("SoftmaxWithLoss.backward: call forward(x, t) first")
        batch_size = self.t.shape[0]
        # dx = (self.y - self.t) / (batch_size / dout), in one pass over the elements: with
        # dout = 1 the book's bits; purenn.parallel picks the dout that makes part of a
        # batch divide by the whole batch's size
        divisor = batch_size / dout if dout else 0.0
        if not divisor:  # dout 0 or infinite: no divisor stands for it
            return self.y.map_rows(lambda y_row, t_row: [(y - t) * dout / batch_size
                                                         for y, t in zip(y_row, t_row)], self.t)
        return self.y.map_rows(lambda y_row, t_row: [(y - t) / divisor
                                                     for y, t in zip(y_row, t_row)], self.t)


# -------------------------------------------------------------- Dropout (6.4.3)

class Dropout:
    """Dropout: in training, each neuron is dropped (output 0) with probability
    ``dropout_ratio``; at test time every neuron is kept and scaled by
    ``1 - dropout_ratio``, the share that was on during training (section 6.4.3,
    the book's convention).  ``mask`` is the book's: True where a neuron is kept.

    The random masks come from purenn's own generator, ``rand(shape) >
    dropout_ratio`` as the book's ``np.random.rand(*x.shape) > self.dropout_ratio``:
    the same ``seed`` gives the same masks.

    >>> layer = Dropout(dropout_ratio=0.5, seed=1)
    >>> x = Matrix([[1.0, 2.0, 3.0, 4.0]])
    >>> out = layer.forward(x)                 # some entries are now 0.0
    >>> out == x * layer.mask
    True
    >>> layer.forward(x, train_flg=False)
    Matrix([[0.5, 1.0, 1.5, 2.0]])
    """

    def __init__(self, dropout_ratio=0.5, seed=None):
        if not 0 <= dropout_ratio < 1:
            raise ValueError("Dropout: dropout_ratio must be in [0, 1), got %r"
                             % (dropout_ratio,))
        self.dropout_ratio = dropout_ratio
        self.gen = _rng.generator(seed)
        self.mask = None

    def forward(self, x, train_flg=True):
        x = _matrix(x, "Dropout.forward")
        if train_flg:
            self.mask = Matrix.uniform(x.shape, seed=self.gen) > self.dropout_ratio
            return x * self.mask
        return x * (1.0 - self.dropout_ratio)

    def backward(self, dout):
        dout = _same_shape(dout, self.mask, "Dropout.backward")
        return dout * self.mask


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
        self.params = _params_dict(params, "BatchNormalization", ("gamma1", "beta1"))
        self.gamma_key, self.beta_key = gamma_key, beta_key
        self.momentum = momentum
        self.running_mean = running_mean
        self.running_var = running_var
        self.grads = {}
        # what backward needs, as the book names it
        self.batch_size = None
        self.xc = None
        self.xn = None
        self.std = None

    gamma = _param("gamma_key", "The scale row: ``params[gamma_key]``.")
    beta = _param("beta_key", "The shift row: ``params[beta_key]``.")
    dgamma = _grad("gamma_key", "dL/dgamma of the last backward (None before it).")
    dbeta = _grad("beta_key", "dL/dbeta of the last backward (None before it).")

    def forward(self, x, train_flg=True):
        x = _matrix(x, "BatchNormalization.forward")
        gamma, beta = self.params[self.gamma_key], self.params[self.beta_key]
        if gamma.shape != (1, x.shape[1]):
            raise ShapeError("BatchNormalization.forward: x %s and %s %s: one gamma per "
                             "column of x, (1, %d)" % (format_shape(x.shape), self.gamma_key,
                                                       format_shape(gamma.shape), x.shape[1]))
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


# ------------------------------------------- chapter 7 (purenn.convolution)
# Imported last: purenn.convolution needs only matrix and errors, never this
# module, so there is no import cycle.
from purenn.convolution import Convolution, Pooling  # noqa: E402,F401
