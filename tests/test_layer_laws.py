"""The laws every layer obeys (chapter 5), over every layer of ``tests/layer_cases.py``.

The one law of backpropagation: ``backward(dout)`` is the derivative of
``sum(forward(x) * dout)`` with respect to each input, and a layer's
``grads`` are its derivative with respect to each parameter.  Measured by
central differences, Richardson-extrapolated (``(4 D(h/2) - D(h)) / 3``,
error O(h**4)), so that a tolerance of 1e-6 times the size of the gradient
leaves room for rounding only: any mistake of backprop is far larger.
"""
import pytest
from hypothesis import given, settings, strategies as st

from layer_cases import LAYER_CASES
from purenn.gradients import numerical_gradient_params
from purenn.matrix import Matrix
from purenn.testing import assert_allclose, matrices

pytestmark = pytest.mark.ch5

H = 1e-3  # Richardson cancels the h**2 term; a larger h keeps more digits of f(x + h) - f(x - h)


def _objective(case, layer, dout):
    """sum(forward(*inputs) * dout): a number whose gradient backward computes."""
    def f(values):
        out = case.forward(layer, *[values["x%d" % k] for k in range(len(values))])
        return out * dout if not isinstance(out, Matrix) else (out * dout).sum()
    return f


def _richardson(f, values, h=H):
    coarse = numerical_gradient_params(f, values, h)
    fine = numerical_gradient_params(f, values, h / 2)
    return {key: (4 * fine[key] - coarse[key]) / 3 for key in coarse}


def _scale(m):
    return 1.0 + abs(m).max()


def _draw_case(case, data):
    layer = case.make(data.draw)
    xs = case.inputs(layer, data.draw)
    out = case.forward(layer, *xs)
    if isinstance(out, Matrix):
        dout = data.draw(matrices(out.shape, min_value=-2.0, max_value=2.0))
    else:
        dout = data.draw(st.floats(-2.0, 2.0))
    return layer, xs, dout


@pytest.mark.parametrize("case", LAYER_CASES, ids=repr)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_backward_is_the_numerical_derivative_of_forward(case, data):
    layer, xs, dout = _draw_case(case, data)
    grads = case.backward(layer, dout)
    values = {"x%d" % k: x for k, x in enumerate(xs)}
    want = _richardson(lambda: _objective(case, layer, dout)(values), values)
    assert len(grads) == len(xs)
    for k, grad in enumerate(grads):
        assert_allclose(grad, want["x%d" % k], rel_tol=1e-6, abs_tol=1e-6 * _scale(want["x%d" % k]))


@pytest.mark.parametrize("case", [c for c in LAYER_CASES if c.has_params], ids=repr)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_parameter_gradients_are_the_numerical_derivative_of_forward(case, data):
    layer, xs, dout = _draw_case(case, data)
    case.backward(layer, dout)
    values = {"x%d" % k: x for k, x in enumerate(xs)}
    want = _richardson(lambda: _objective(case, layer, dout)(values), layer.params)
    assert sorted(layer.grads) == sorted(layer.params)
    for key, grad in layer.grads.items():
        assert_allclose(grad, want[key], rel_tol=1e-6, abs_tol=1e-6 * _scale(want[key]))
