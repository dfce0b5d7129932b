"""The gradient check: backpropagation against numerical differentiation (section 5.7.3).

========================================  ============================================
``gradient_check(activation, ...)``       ``{param: max |backprop - numerical|}`` on a
                                          small random network
``max_abs_difference(grads_a, grads_b)``  the largest difference over two dicts of
                                          gradients: the check's number
``relu_inputs(net, x)``                   every value entering a ReLU on a batch
``KINK_MARGIN``                           how far (100 h) each must stay from 0
``GradientCheckError``                    a check that cannot be made, and why
========================================  ============================================

Backprop is fast and easy to get wrong; the central difference
``(L(p + h) - L(p - h)) / 2h`` is slow and hard to get wrong.  On the same
network and batch they must agree to about 1e-7 (the book: section 5.7.3).

>>> worst = gradient_check("relu", seed=323)
>>> max(worst.values()) < 1e-7
True
"""
from purenn.gradients import H
from purenn.layers import BatchNormalization, Dropout, Relu
from purenn.matrix import Matrix, format_shape
from purenn.errors import ShapeError
from purenn.multilayer import MultiLayerNet
from purenn import rng as _rng

KINK_MARGIN = 100 * H
"""How far every ReLU input must stay from its kink at 0 (1e-2)."""

SHIFT = 0.5
"""The biases and betas of the checked network are drawn from [-SHIFT, SHIFT)."""


class GradientCheckError(ValueError):
    """A gradient check that cannot be made (e.g. no draw keeps the ReLU inputs off the kink)."""


def max_abs_difference(grads_a, grads_b):
    """The largest ``|a - b|`` over every element of every matrix in two dicts of
    gradients with the same keys: the gradient check's number (nan if any
    difference is nan).

    >>> max_abs_difference({"W": Matrix([[1.0, 2.0]])}, {"W": Matrix([[1.5, 2.0]])})
    0.5
    """
    worst = 0.0
    for key in grads_a:
        a, b = grads_a[key], grads_b[key]
        if a.shape != b.shape:
            raise ShapeError("max_abs_difference: %r is %s in one and %s in the other"
                             % (key, format_shape(a.shape), format_shape(b.shape)))
        d = abs(a - b).max()
        if d > worst or d != d:
            worst = d
    return worst


def relu_inputs(net, x):
    """Every value that enters a ReLU layer of ``net`` on the batch ``x``
    (training mode, as ``gradient`` runs; batchnorm's running averages are
    left as they were), as one flat list."""
    values = []
    for layer in net.layers.values():
        if isinstance(layer, Relu):
            values.extend(x.flatten().tolist()[0])
        if isinstance(layer, BatchNormalization):
            saved = (layer.running_mean, layer.running_var)
            x = layer.forward(x, True)
            layer.running_mean, layer.running_var = saved
        elif isinstance(layer, Dropout):
            continue
        else:
            x = layer.forward(x)
    return values


def _draw_shifts(net, gen):
    """New biases and betas for ``net`` (its weights stay as initialised)."""
    for key in net.params:
        if key[0] == "b":  # b1, b2, ... and beta1, beta2, ...
            net.params[key] = Matrix.uniform(net.params[key].shape, low=-SHIFT, high=SHIFT,
                                             seed=gen)


def gradient_check(activation="relu", use_batchnorm=False, weight_decay_lambda=0.0,
                   sizes=(6, [5, 4], 3), batch=4, seed=0, h=H, tries=100,
                   extrapolate=True):
    """Backprop against numerical gradients (step ``h``) on a small random
    network: ``{param: max |backprop - numerical|}``.

    The network is ``MultiLayerNet(*sizes, activation, use_batchnorm,
    weight_decay_lambda, seed=seed)``; the batch (inputs in [0, 1), like
    pixels, and labels) and the network's biases and betas (in [-0.5, 0.5))
    are drawn from ``seed`` too.

    **The ReLU kink.**  ReLU has a kink at 0: if an input of a ReLU lies within
    ``h`` of 0, the central difference straddles the kink and measures the
    mean of two different slopes, a "failure" that is no bug of backprop.  So
    batch and shifts are redrawn (up to ``tries`` times) until every ReLU
    input is at least ``KINK_MARGIN`` (100 h) away from 0.  The shifts are
    drawn, not left at their initial 0, because a sample whose every
    first-layer ReLU is off would otherwise feed exact zeros into the next
    layer, whose inputs would then sit on the kink whatever batch is drawn
    (seed 323 did, once: ``tests/test_gradient_check.py``).  If no draw of
    ``tries`` works, the check cannot be made: ``GradientCheckError``.

    **The h² error.**  The central difference itself is off by about
    ``h**2 / 6`` times the third derivative of the loss.  That is tiny for
    most networks, but batch normalization over a batch of 4 divides by a
    standard deviation of 4 numbers, which can be small: then the third
    derivative is large and plain central differences miss by up to 1e-4,
    shrinking 100-fold for each 10-fold smaller h.  So by default
    (``extrapolate``) the numerical gradient is Richardson-extrapolated,
    ``(4 D(h/2) - D(h)) / 3``, which cancels the ``h**2`` term;
    ``extrapolate=False`` gives the plain ``D(h)``.

    >>> worst = gradient_check("sigmoid")
    >>> sorted(worst) == ["W1", "W2", "W3", "b1", "b2", "b3"], max(worst.values()) < 1e-7
    (True, True)
    """
    if type(tries) is not int or tries < 1:
        raise ValueError("gradient_check: tries must be an int >= 1, got %r" % (tries,))
    gen = _rng.Random(seed + 100)
    net = MultiLayerNet(sizes[0], sizes[1], sizes[2], activation=activation,
                        use_batchnorm=use_batchnorm, weight_decay_lambda=weight_decay_lambda,
                        seed=seed)
    for _ in range(tries):
        _draw_shifts(net, gen)
        x = Matrix.uniform(batch, sizes[0], seed=gen)
        t = [gen.randrange(sizes[2]) for _ in range(batch)]
        if all(abs(v) >= KINK_MARGIN for v in relu_inputs(net, x)):
            break
    else:
        raise GradientCheckError(
            "gradient_check: %d draws of the batch and the biases (seed %d) all put a ReLU "
            "input within %g of its kink at 0, where a central difference measures no slope; "
            "try another seed" % (tries, seed, KINK_MARGIN))
    grad_backprop = net.gradient(x, t)
    grad_numerical = net.numerical_gradient(x, t, h)
    if extrapolate:
        # Richardson: the central difference is g + c h^2 + O(h^4), so
        # (4 D(h/2) - D(h)) / 3 cancels the h^2 term
        half = net.numerical_gradient(x, t, h / 2)
        grad_numerical = {key: (4 * half[key] - grad_numerical[key]) / 3 for key in half}
    return {key: max_abs_difference({key: grad_backprop[key]}, {key: grad_numerical[key]})
            for key in net.params}
