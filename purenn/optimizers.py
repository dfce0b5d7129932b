"""Optimisers: how to step the parameters downhill (chapter 6.1; the book's ``common/optimizer.py``).

Each has ``update(params, grads)``: ``params`` and ``grads`` are dicts of
matrices with the same keys.

==============  =============================================================  ===========
``SGD``         ``W <- W - lr * g``                                            lr=0.01
``Momentum``    ``v <- momentum * v - lr * g;  W <- W + v``                    lr=0.01, 0.9
``Nesterov``    ``W <- W + momentum**2 * v - (1 + momentum) * lr * g``, then   lr=0.01, 0.9
                ``v <- momentum * v - lr * g`` (the old v, as the book)
``AdaGrad``     ``h <- h + g*g;  W <- W - lr * g / (sqrt(h) + 1e-7)``          lr=0.01
``RMSprop``     ``h <- d*h + (1-d) * g*g;  W <- W - lr * g / (sqrt(h) + 1e-7)`` lr=0.01, d=0.99
``Adam``        momentum and RMSprop, bias-corrected                           lr=0.001, 0.9, 0.999
==============  =============================================================  ===========

(The book's defaults, and the book's update rules line for line: one step of
each is pinned in the tests, 20 steps are compared with the book's own code.)
``make_optimizer("adam", lr=0.01)`` makes one by name; the book's comparison
of their paths is ``purenn.optimizer_compare``.

**The book's line works.**  The book writes ``params[key] -= lr * grads[key]``.
A Matrix is immutable, so there is no in-place ``-=``; Python then runs
``params[key] = params[key] - lr * grads[key]``: a *new* matrix is put into
the dict under the same key.  That is what every optimiser here does, and why
layers read their weights from the dict (``Affine(params, "W1", "b1")``):
after an update they see the new matrix.  So the optimisers' bodies are the
book's lines; only Adam, the trainer's default, runs its three lines fused
in one pass over the elements (``Matrix.map_rows``), for speed.

>>> params = {"W": Matrix([[1.0, 2.0]])}
>>> SGD(lr=0.5).update(params, {"W": Matrix([[1.0, 1.0]])})
>>> params["W"]
Matrix([[0.5, 1.5]])
>>> params["W"] -= 0.5 * Matrix([[1.0, 1.0]])        # the book's own line
>>> params["W"]
Matrix([[0.0, 1.0]])
"""
import math

from purenn.errors import ShapeError
from purenn.kernels import no_cycle_collection
from purenn.matrix import Matrix, as_matrix, sqrt, format_shape

EPS = 1e-7  # the book's 1e-7: keeps g / sqrt(h) finite when h is still 0


def _check_lr(lr, op):
    """A learning rate must be a finite number > 0: 0 never moves, a negative
    rate climbs the loss, NaN or inf turns every weight into NaN."""
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr < float("inf"):
        raise ValueError("%s: the learning rate lr must be a finite number > 0, got %r" % (op, lr))
    return lr


def _check(params, grads, op):
    for key in params:
        if key not in grads:
            raise KeyError("%s.update: no gradient for parameter %r" % (op, key))
        if grads[key].shape != params[key].shape:
            raise ShapeError("%s.update: %r is %s but its gradient is %s: shapes must be equal"
                             % (op, key, format_shape(params[key].shape), format_shape(grads[key].shape)))


def _zeros_like(params):
    """The book's ``{key: np.zeros_like(val)}``: a zero matrix per parameter."""
    return {key: Matrix.zeros(val.shape) for key, val in params.items()}


class SGD:
    """Stochastic gradient descent: ``W <- W - lr * dL/dW``."""

    def __init__(self, lr=0.01):
        self.lr = _check_lr(lr, "SGD")

    def update(self, params, grads):
        _check(params, grads, "SGD")
        step = _sgd_rows(self.lr)
        with no_cycle_collection():
            for key in params.keys():
                params[key] = params[key].map_rows(step, grads[key])


class Momentum:
    """A ball rolling downhill: the velocity v keeps ``momentum`` of itself and
    adds the new slope: ``v <- momentum * v - lr * g;  W <- W + v``."""

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = _check_lr(lr, "Momentum")
        self.momentum = momentum
        self.v = None

    def update(self, params, grads):
        _check(params, grads, "Momentum")
        if self.v is None:
            self.v = _zeros_like(params)
        for key in params.keys():
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]


class Nesterov:
    """Nesterov's accelerated gradient in the book's form (``common/optimizer.py``,
    after Bengio et al. 2012, http://arxiv.org/abs/1212.0901)::

        W <- W + momentum**2 * v - (1 + momentum) * lr * g      (v: the old velocity)
        v <- momentum * v - lr * g

    From W = 1 with g = 1, lr = 0.1, momentum = 0.9 the first step gives
    1 - 1.9 * 0.1 = 0.81, as the book's code does:

    >>> params = {"W": Matrix([[1.0]])}
    >>> Nesterov(lr=0.1).update(params, {"W": Matrix([[1.0]])})
    >>> round(params["W"][0, 0], 12)
    0.81
    """

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = _check_lr(lr, "Nesterov")
        self.momentum = momentum
        self.v = None

    def update(self, params, grads):
        _check(params, grads, "Nesterov")
        if self.v is None:
            self.v = _zeros_like(params)
        for key in params.keys():
            params[key] += self.momentum * self.momentum * self.v[key]
            params[key] -= (1 + self.momentum) * self.lr * grads[key]
            self.v[key] *= self.momentum
            self.v[key] -= self.lr * grads[key]


class AdaGrad:
    """A learning rate per parameter that shrinks as its squared gradients add up:
    ``h <- h + g*g;  W <- W - lr * g / (sqrt(h) + 1e-7)``."""

    def __init__(self, lr=0.01):
        self.lr = _check_lr(lr, "AdaGrad")
        self.h = None

    def update(self, params, grads):
        _check(params, grads, "AdaGrad")
        if self.h is None:
            self.h = _zeros_like(params)
        for key in params.keys():
            self.h[key] += grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (sqrt(self.h[key]) + EPS)


class RMSprop:
    """AdaGrad that forgets: h is a moving average of g*g (``decay_rate`` of
    the old, the rest new), so the rate does not shrink to nothing."""

    def __init__(self, lr=0.01, decay_rate=0.99):
        self.lr = _check_lr(lr, "RMSprop")
        self.decay_rate = decay_rate
        self.h = None

    def update(self, params, grads):
        _check(params, grads, "RMSprop")
        if self.h is None:
            self.h = _zeros_like(params)
        for key in params.keys():
            self.h[key] *= self.decay_rate
            self.h[key] += (1 - self.decay_rate) * grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (sqrt(self.h[key]) + EPS)


class Adam:
    """Momentum (m, the mean of g) plus RMSprop (v, the mean of g*g), with the
    bias correction of Kingma and Ba (2015), as in the book::

        lr_t = lr * sqrt(1 - beta2**t) / (1 - beta1**t)
        m <- m + (1 - beta1) * (g - m)
        v <- v + (1 - beta2) * (g**2 - v)
        W <- W - lr_t * m / (sqrt(v) + 1e-7)

    The first step moves every weight by about ``lr`` (``m / sqrt(v)`` is
    ``g / |g|`` then):

    >>> params = {"W": Matrix([[1.0, 1.0]])}
    >>> Adam(lr=0.001).update(params, {"W": Matrix([[5.0, -0.01]])})
    >>> params["W"].allclose([[0.999, 1.001]], rel_tol=1e-6)
    True
    """

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr = _check_lr(lr, "Adam")
        self.beta1, self.beta2 = beta1, beta2
        self.iter = 0
        self._m = None  # the optimiser's own rows of m and v (lists), changed in place
        self._v = None

    # The book's ``self.m`` and ``self.v``: dicts of matrices.  Read, they are
    # snapshots (matrices never change, so one read stays as it was); set, the
    # matrices' numbers become the private rows the next update starts from.
    m = property(lambda self: _snapshot(self._m),
                 lambda self, value: setattr(self, "_m", _private(value)))
    v = property(lambda self: _snapshot(self._v),
                 lambda self, value: setattr(self, "_v", _private(value)))

    def update(self, params, grads):
        _check(params, grads, "Adam")
        if self._m is None:
            self._m, self._v = _private(_zeros_like(params)), _private(_zeros_like(params))
        self.iter += 1
        lr_t = self.lr * math.sqrt(1.0 - self.beta2 ** self.iter) / (1.0 - self.beta1 ** self.iter)
        with no_cycle_collection():
            for key in params.keys():
                # the three lines of the docstring, fused into one pass over the
                # elements, m and v changed in place: Adam is the trainer's
                # default, and one pass is about twice as fast as seven
                # whole-matrix operations making new matrices
                step = _adam_rows(self.beta1, self.beta2, lr_t, self._m[key], self._v[key])
                params[key] = params[key].map_rows(step, grads[key])


# The two hot updates below are index loops over the rows: as fast as list
# comprehensions on CPython 3.11 and 3.12, and 3 to 5 times faster on PyPy,
# whose JIT turns them into machine code.

def _sgd_rows(lr):
    """SGD's update of one row of W and g (lists): the new row of W."""
    def step(w_row, g_row):
        new = [0.0] * len(w_row)
        for j in range(len(w_row)):
            # params[key] -= self.lr * grads[key]
            new[j] = w_row[j] - lr * g_row[j]
        return new
    return step


def _adam_rows(beta1, beta2, lr_t, m_rows, v_rows):
    """Adam's update of one row of W and g (lists, given in row order): the new
    row of W; the rows of m and v (``m_rows``, ``v_rows``) are changed in place."""
    sqrt_, c1, c2 = math.sqrt, 1 - beta1, 1 - beta2
    state = iter(zip(m_rows, v_rows))

    def step(w_row, g_row):
        m_row, v_row = next(state)
        new = [0.0] * len(w_row)
        for j in range(len(w_row)):
            g = g_row[j]
            # self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            m = m_row[j] = m_row[j] + c1 * (g - m_row[j])
            # self.v[key] += (1 - self.beta2) * (grads[key]**2 - self.v[key])
            v = v_row[j] = v_row[j] + c2 * (g * g - v_row[j])
            # params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)
            new[j] = w_row[j] - lr_t * m / (sqrt_(v) + EPS)
        return new
    return step


def _snapshot(state):
    """Private rows of an optimiser -> a dict of matrices (copies: yours to keep)."""
    if state is None:
        return None
    return dict((key, Matrix(rows)) for key, rows in state.items())


def _private(value):
    """A dict of matrices (or None) -> the optimiser's own rows (new lists)."""
    if value is None:
        return None
    return dict((key, as_matrix(m, "Adam: state %r" % (key,)).tolist())
                for key, m in value.items())


OPTIMIZERS = {
    "sgd": SGD, "momentum": Momentum, "nesterov": Nesterov,
    "adagrad": AdaGrad, "rmsprop": RMSprop, "adam": Adam,
}


def make_optimizer(name, **kw):
    """An optimiser by name (``"sgd"``, ``"adam"``, ...; case does not matter)."""
    try:
        cls = OPTIMIZERS[name.lower()]
    except (KeyError, AttributeError):  # AttributeError: not a str
        raise ValueError("make_optimizer: unknown optimiser %r; choose from %s"
                         % (name, ", ".join(sorted(OPTIMIZERS))))
    return cls(**kw)

