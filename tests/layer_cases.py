"""Every layer, as a case of the laws all layers obey (``tests/test_layer_laws.py``).

A ``LayerCase`` says how to make a layer with drawn parameters, how to draw
its inputs, and how to call its ``forward`` and ``backward``; the laws are
written once, over ``LAYER_CASES``.  A new layer joins by appending a case
(the chapter-7 layers ``Convolution`` and ``Pooling`` do, from their own
module)::

    from layer_cases import LAYER_CASES, LayerCase
    LAYER_CASES.append(LayerCase("Convolution", make=..., inputs=...))

=========================  ===================================================
``name``                   the id of the case in pytest's output
``make(draw)``             a fresh layer; ``draw`` is hypothesis's (for params)
``inputs(layer, draw)``    a tuple of input matrices for ``forward``
``forward(layer, *xs)``    the output (a Matrix, or a number for a loss layer)
``backward(layer, dout)``  the gradients of the inputs, a tuple (one per input)
``smooth``                 False for kinks (ReLU): inputs are drawn away from them
``has_params``             True when the layer learns ``params`` (its ``grads``
                           are checked too)
=========================  ===================================================
"""
from hypothesis import strategies as st

from purenn import rng
from purenn.layers import (Affine, AddLayer, BatchNormalization, Dropout, MulLayer, Relu,
                           Sigmoid, SoftmaxWithLoss, Tanh)
from purenn.matrix import Matrix
from purenn.testing import matrices

BOUND = 3.0
"""Inputs and parameters are drawn in [-BOUND, BOUND]."""


def batch(draw, n=None, d=None, bound=BOUND):
    n = n or draw(st.integers(1, 4))
    d = d or draw(st.integers(1, 4))
    return draw(matrices((n, d), min_value=-bound, max_value=bound))


def away_from_zero(draw, shape, margin=0.05):
    """A matrix whose elements are at least ``margin`` from 0 (ReLU's kink)."""
    magnitudes = draw(matrices(shape, min_value=margin, max_value=BOUND))
    signs = draw(matrices(shape, kind="int", min_value=0, max_value=1))
    return magnitudes * (2 * signs - 1)


def _single(layer, dout):
    return (layer.backward(dout),)


class LayerCase:
    """One layer for the laws: see the module docstring."""

    def __init__(self, name, make, inputs, forward=None, backward=_single, smooth=True,
                 has_params=False):
        self.name, self.make, self.inputs, self.smooth = name, make, inputs, smooth
        self.has_params = has_params
        self.forward = forward or (lambda layer, *xs: layer.forward(*xs))
        self.backward = backward

    def __repr__(self):
        return self.name


def _affine(draw):
    d, m = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    return Affine({"W": draw(matrices((d, m), min_value=-BOUND, max_value=BOUND)),
                   "b": draw(matrices((1, m), min_value=-BOUND, max_value=BOUND))})


def _batchnorm(draw):
    d = draw(st.integers(1, 3))
    return BatchNormalization({"gamma": draw(matrices((1, d), min_value=0.5, max_value=2.0)),
                               "beta": draw(matrices((1, d), min_value=-1.0, max_value=1.0))})


def _spread_batch(layer, draw):
    # a batch of 3 to 5 rows whose columns vary (batch normalization divides by
    # their standard deviation): the rows are 0, 1, 2, ... times a step per column
    d = layer.params["gamma"].shape[1]
    n = draw(st.integers(3, 5))
    noise = draw(matrices((n, d), min_value=-0.3, max_value=0.3))
    return (Matrix([[float(i)] * d for i in range(n)]) + noise,)


class _SeededDropout(Dropout):
    """Dropout whose every training forward draws the same masks (its seed
    again), so that its forward is a function the central difference can take."""

    def forward(self, x, train_flg=True):
        self.gen = rng.Random(self.seed)
        return Dropout.forward(self, x, train_flg)


def _dropout(draw):
    layer = _SeededDropout(draw(st.sampled_from([0.2, 0.5])))
    layer.seed = draw(st.integers(0, 1000))
    return layer


def _softmax_loss_inputs(layer, draw):
    x = batch(draw, d=draw(st.integers(2, 5)))
    layer.labels_for_test = draw(st.lists(st.integers(0, x.shape[1] - 1),
                                          min_size=x.shape[0], max_size=x.shape[0]))
    return (x,)


def _two_same(layer, draw):
    x = batch(draw)
    return x, draw(matrices(x.shape, min_value=-BOUND, max_value=BOUND))


LAYER_CASES = [
    LayerCase("MulLayer", make=lambda draw: MulLayer(), inputs=_two_same,
              backward=lambda layer, dout: layer.backward(dout)),
    LayerCase("AddLayer", make=lambda draw: AddLayer(), inputs=_two_same,
              backward=lambda layer, dout: layer.backward(dout)),
    LayerCase("Relu", make=lambda draw: Relu(), smooth=False,
              inputs=lambda layer, draw: (away_from_zero(draw, (draw(st.integers(1, 4)),
                                                                 draw(st.integers(1, 4)))),)),
    LayerCase("Sigmoid", make=lambda draw: Sigmoid(), inputs=lambda layer, draw: (batch(draw),)),
    LayerCase("Tanh", make=lambda draw: Tanh(), inputs=lambda layer, draw: (batch(draw),)),
    LayerCase("Affine", make=_affine, has_params=True,
              inputs=lambda layer, draw: (batch(draw, d=layer.W.shape[0]),)),
    LayerCase("SoftmaxWithLoss", make=lambda draw: SoftmaxWithLoss(),
              inputs=_softmax_loss_inputs,
              forward=lambda layer, x: layer.forward(x, layer.labels_for_test)),
    LayerCase("Dropout", make=_dropout, inputs=lambda layer, draw: (batch(draw),)),
    LayerCase("BatchNormalization", make=_batchnorm, inputs=_spread_batch, has_params=True),
]
