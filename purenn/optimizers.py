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
from purenn.matrix import Matrix, sqrt, format_shape

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
        for key in params.keys():
            params[key] -= self.lr * grads[key]


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
        self.m = None
        self.v = None

    def update(self, params, grads):
        _check(params, grads, "Adam")
        if self.m is None:
            self.m, self.v = _zeros_like(params), _zeros_like(params)
        self.iter += 1
        lr_t = self.lr * math.sqrt(1.0 - self.beta2 ** self.iter) / (1.0 - self.beta1 ** self.iter)
        step = _adam_rows(self.beta1, self.beta2, lr_t)
        for key in params.keys():
            # the three lines of the docstring, fused into one pass over the
            # elements: Adam is the trainer's default, and one pass is about
            # twice as fast as seven whole-matrix operations
            params[key], self.m[key], self.v[key] = params[key].map_rows(
                step, grads[key], self.m[key], self.v[key], outputs=3)


def _adam_rows(beta1, beta2, lr_t):
    """Adam's update of one row of W, g, m, v (each a list): new rows of W, m, v."""
    sqrt_, c1, c2 = math.sqrt, 1 - beta1, 1 - beta2

    def step(w_row, g_row, m_row, v_row):
        m_row = [m + c1 * (g - m) for m, g in zip(m_row, g_row)]
        v_row = [v + c2 * (g * g - v) for v, g in zip(v_row, g_row)]
        w_row = [w - lr_t * m / (sqrt_(v) + EPS) for w, m, v in zip(w_row, m_row, v_row)]
        return w_row, m_row, v_row
    return step


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


# the book's comparison on x**2/20 + y**2 moved to purenn.optimizer_compare (the
# book's ch06/optimizer_compare_naive.py); the old names still import from here
_MOVED = ("f_compare", "df_compare", "COMPARE_RATES", "compare_optimizers", "plot_paths")


def __getattr__(name):
    if name in _MOVED:
        from purenn import optimizer_compare
        return getattr(optimizer_compare, name)
    raise AttributeError("module 'purenn.optimizers' has no attribute %r" % (name,))
