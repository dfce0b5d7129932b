"""Backpropagation (chapter 5): the book's shopping numbers, layer laws, gradient checks."""
import math

import pytest
from hypothesis import given, settings, example, strategies as st

from purenn import ShapeError
from purenn.activations import softmax
from purenn.gradients import numerical_gradient
from purenn.layers import (MulLayer, AddLayer, Relu, Sigmoid, Tanh, Affine, SoftmaxWithLoss,
                           Dropout, BatchNormalization)
from purenn.losses import cross_entropy_error
from purenn.matrix import Matrix
from purenn.gradient_check import max_abs_difference
from purenn.multilayer import MultiLayerNet, TwoLayerNet


# ------------------------------------------------------- book values (5.4)

def test_book_apple():
    mul_apple, mul_tax = MulLayer(), MulLayer()
    price = mul_tax.forward(mul_apple.forward(100, 2), 1.1)
    dapple_price, dtax = mul_tax.backward(1)
    dapple, dapple_num = mul_apple.backward(dapple_price)
    assert math.isclose(price, 220) and dtax == 200
    assert dapple == 2.2 and math.isclose(dapple_num, 110)


def test_book_apple_and_orange():
    mul_apple, mul_orange, add, mul_tax = MulLayer(), MulLayer(), AddLayer(), MulLayer()
    price = mul_tax.forward(add.forward(mul_apple.forward(100, 2),
                                        mul_orange.forward(150, 3)), 1.1)
    dall, dtax = mul_tax.backward(1)
    dapple_price, dorange_price = add.backward(dall)
    dorange, dorange_num = mul_orange.backward(dorange_price)
    dapple, dapple_num = mul_apple.backward(dapple_price)
    assert math.isclose(price, 715) and dtax == 650
    assert dapple == 2.2 and math.isclose(dapple_num, 110)
    assert dorange == 3.3000000000000003 and math.isclose(dorange_num, 165)


# ------------------------------------------- each layer against numerics

def _check_layer(layer, x, dout, tol=1e-7):
    """backward(dout) must equal the numerical gradient of sum(forward(x) * dout)."""
    layer.forward(x)
    dx = layer.backward(dout)
    num = numerical_gradient(lambda m: (layer.forward(m) * dout).sum(), x)
    assert max_abs_difference({"x": dx}, {"x": num}) < tol


@pytest.mark.parametrize("layer", [Relu(), Sigmoid(), Tanh()], ids=["relu", "sigmoid", "tanh"])
def test_activation_layers_backward_is_the_derivative(layer):
    x = Matrix([[0.3, -1.2, 2.0], [-0.4, 0.8, -2.5]])
    dout = Matrix([[1.0, -2.0, 0.5], [0.25, 1.5, -1.0]])
    _check_layer(layer, x, dout)


def test_affine_backward_gives_dx_dW_db():
    params = {"W": Matrix([[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]]), "b": Matrix([0.1, -0.1])}
    x = Matrix([[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]])
    dout = Matrix([[1.0, -1.0], [2.0, 0.5]])
    layer = Affine(params)
    _check_layer(layer, x, dout)
    layer.forward(x)
    layer.backward(dout)
    assert layer.grads["W"].allclose(x.T @ dout)
    assert layer.grads["b"].allclose([[3.0, -0.5]])


def test_affine_sees_rebound_params():
    params = {"W": Matrix([[1.0]]), "b": Matrix([0.0])}
    layer = Affine(params)
    assert layer.forward(Matrix([[2.0]])).tolist() == [[2.0]]
    params["W"] = Matrix([[3.0]])          # what an optimiser does
    assert layer.forward(Matrix([[2.0]])).tolist() == [[6.0]]


def test_softmax_with_loss_equals_cross_entropy_of_softmax():
    x = Matrix([[0.3, 2.9, 4.0], [1.0, -1.0, 0.0]])
    layer = SoftmaxWithLoss()
    loss = layer.forward(x, [2, 0])
    assert math.isclose(loss, cross_entropy_error(softmax(x), [2, 0]), rel_tol=1e-6)
    assert layer.forward(x, Matrix([[0, 0, 1], [1, 0, 0]])) == loss


def test_softmax_with_loss_backward_is_the_derivative():
    x = Matrix([[0.3, 2.9, 4.0], [1.0, -1.0, 0.0]])
    layer = SoftmaxWithLoss()
    layer.forward(x, [1, 0])
    dx = layer.backward()
    num = numerical_gradient(lambda m: SoftmaxWithLoss().forward(m, [1, 0]), x)
    assert max_abs_difference({"x": dx}, {"x": num}) < 1e-8


def test_softmax_with_loss_never_overflows():
    layer = SoftmaxWithLoss()
    assert math.isclose(layer.forward(Matrix([[1000.0, 0.0]]), [1]), 1000.0)
    assert layer.forward(Matrix([[1000.0, 0.0]]), [0]) == 0.0


@st.composite
def scores_and_labels(draw):
    n, k = draw(st.integers(1, 4)), draw(st.integers(2, 5))
    rows = draw(st.lists(st.lists(st.floats(-50, 50), min_size=k, max_size=k),
                         min_size=n, max_size=n))
    labels = draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))
    return Matrix(rows), labels


@settings(max_examples=50, deadline=None)
@given(scores_and_labels())
@example((Matrix([[1000.0, -1000.0]]), [1]))
def test_softmax_with_loss_gradient_rows_sum_to_zero(case):
    x, labels = case
    layer = SoftmaxWithLoss()
    assert layer.forward(x, labels) >= 0
    for row in layer.backward().tolist():
        assert abs(sum(row)) < 1e-12


def test_dropout_is_seeded_and_backward_uses_the_mask():
    x = Matrix.ones(4, 50)
    a, b = Dropout(0.5, seed=7), Dropout(0.5, seed=7)
    out = a.forward(x)
    assert out == b.forward(x)
    dropped = sum(row.count(0.0) for row in out.tolist())
    assert 50 < dropped < 150                                     # about half of 200
    assert a.backward(Matrix.full(4, 50, value=2.0)) == out * 2.0


def test_batchnorm_normalises_columns_and_passes_a_gradient_check():
    params = {"gamma": Matrix([1.5, 0.5, 1.0]), "beta": Matrix([0.1, -0.2, 0.0])}
    x = Matrix([[1.0, 10.0, -3.0], [2.0, 30.0, 0.0], [4.0, 20.0, 1.0], [0.0, 0.0, 2.0]])
    bn = BatchNormalization(params)
    out = bn.forward(x)
    assert ((out - params["beta"]) / params["gamma"]).sum(axis=0).allclose(
        Matrix.zeros(1, 3), abs_tol=1e-9)
    dout = Matrix([[1.0, -1.0, 0.5], [0.0, 2.0, 1.0], [-1.0, 0.5, 0.0], [0.5, 0.5, -2.0]])
    bn.forward(x)
    dx = bn.backward(dout)
    num = numerical_gradient(lambda m: (BatchNormalization(params).forward(m) * dout).sum(), x)
    assert max_abs_difference({"x": dx}, {"x": num}) < 1e-7


def test_layer_errors_name_the_operation_and_shapes():
    layer = Affine({"W": Matrix([[1.0, 2.0]]), "b": Matrix([0.0, 0.0])})
    with pytest.raises(ShapeError, match=r"Affine.forward: x \(1, 3\) @ W \(1, 2\)"):
        layer.forward(Matrix([[1.0, 2.0, 3.0]]))
    with pytest.raises(ShapeError, match=r"Affine: W \(1, 2\) and b \(1, 3\)"):
        Affine({"W": Matrix([[1.0, 2.0]]), "b": Matrix([0.0, 0.0, 0.0])})
    relu = Relu()
    relu.forward(Matrix([[1.0, 2.0]]))
    with pytest.raises(ShapeError, match=r"Relu.backward: dout \(2, 2\) for a forward output \(1, 2\)"):
        relu.backward(Matrix([[1.0, 2.0], [3.0, 4.0]]))
    with pytest.raises(ValueError, match="dropout_ratio"):
        Dropout(1.5)


def test_network_errors():
    net = MultiLayerNet(4, [3], 2)
    with pytest.raises(ShapeError, match=r"MultiLayerNet.predict: x \(1, 3\) for a network with 4 inputs"):
        net.predict(Matrix([[1.0, 2.0, 3.0]]))
    with pytest.raises(ValueError, match="activation"):
        MultiLayerNet(4, [3], 2, activation="softplus")
    with pytest.raises(ValueError, match="positive ints"):
        MultiLayerNet(4, [0], 2)
    with pytest.raises(ValueError, match="dropout"):
        MultiLayerNet(4, [3], 2, use_dropout=True).numerical_gradient(Matrix.ones(1, 4), [0])


def test_weight_init_scales():
    net = MultiLayerNet(400, [100], 10, activation="relu", seed=0)        # He: sqrt(2/400)
    w = [v for row in net.params["W1"].tolist() for v in row]
    std = math.sqrt(sum(v * v for v in w) / len(w))
    assert abs(std - math.sqrt(2 / 400)) < 0.003
    net = MultiLayerNet(400, [100], 10, activation="sigmoid", seed=0)     # Xavier: sqrt(1/400)
    w = [v for row in net.params["W1"].tolist() for v in row]
    assert abs(math.sqrt(sum(v * v for v in w) / len(w)) - 0.05) < 0.002


def test_save_and_load_round_trip_exactly(tmp_path):
    net = MultiLayerNet(5, [4, 3], 2, activation="tanh", use_batchnorm=True,
                        weight_decay_lambda=0.01, seed=2)
    x = Matrix.uniform(6, 5, seed=3)
    net.gradient(x, [0, 1, 1, 0, 1, 0])           # moves batchnorm's running averages
    path = str(tmp_path / "net.json.gz")
    net.save(path, note="test")
    back = MultiLayerNet.load(path)
    assert back.params == net.params and back.config == net.config
    assert back.notes == {"note": "test"}
    assert back.predict(x) == net.predict(x)       # test mode uses the running averages


def test_load_refuses_other_files(tmp_path):
    from purenn.errors import DataError
    from purenn.weights import save_params
    path = str(tmp_path / "other.json.gz")
    save_params(path, {"W1": Matrix([[1.0]])})
    with pytest.raises(DataError, match="not a saved MultiLayerNet"):
        MultiLayerNet.load(path)


def test_saved_network_runs_in_the_inference_network_too(tmp_path):
    from purenn.recognize import load_network
    net = MultiLayerNet(5, [4, 3], 2, activation="sigmoid", seed=2)
    path = str(tmp_path / "net.json.gz")
    net.save(path)
    plain = load_network(path)[0]
    x = Matrix.uniform(3, 5, seed=1)
    from purenn.activations import softmax
    assert plain.predict(x).allclose(softmax(net.predict(x)))


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 4), st.integers(1, 6), st.integers(1, 4), st.data())
@example(2, 3, 2, None)
def test_dW_with_all_zero_input_columns_equals_the_textbook_product(n, d, m, data):
    # dW = x.T @ dout: a pixel that is 0 in every image of the batch makes an
    # all-zero row of x.T, which the kernels short-cut (they must still give 0.0)
    from purenn.kernels import matmul_naive
    if data is None:
        x = [[0.0, 1.0, 0.0], [0.0, 0.5, 0.0]]
        dout = [[-1.0, 2.0], [3.0, -4.0]]
    else:
        col = st.lists(st.sampled_from([0.0, 0.0, 0.25, 1.0]), min_size=n, max_size=n)
        x = [list(r) for r in zip(*data.draw(st.lists(col, min_size=d, max_size=d)))]
        x = [[0.0] + r for r in x]                       # column 0: always zero
        d += 1
        dout = data.draw(st.lists(st.lists(st.floats(-5, 5), min_size=m, max_size=m),
                                  min_size=n, max_size=n))
    dW = Matrix(x).T @ Matrix(dout)
    expected = matmul_naive(Matrix(x).T.tolist(), dout)
    assert dW.allclose(expected)
    assert all(v == 0.0 and str(v) == "0.0" for v in dW.tolist()[0])


@pytest.mark.parametrize("layer", [Relu(), Sigmoid(), Tanh(), Dropout(0.5), SoftmaxWithLoss(),
                                   Affine({"W": Matrix([[1.0]]), "b": Matrix([0.0])}),
                                   BatchNormalization({"gamma": Matrix([1.0]),
                                                       "beta": Matrix([0.0])})],
                         ids=lambda layer: type(layer).__name__)
def test_backward_before_forward_is_a_clear_error(layer):
    with pytest.raises(ValueError, match="forward"):
        layer.backward(Matrix([[1.0]]))


# ------------------------------------------------------------ review fixes

@settings(max_examples=30, deadline=None)
@given(st.lists(st.one_of(st.floats(-5, 5), st.just(float("nan"))), min_size=1, max_size=4))
@example([float("nan"), 2.0])
def test_relu_layer_keeps_nan_like_relu_and_numpy(xs):
    # numpy: maximum(0, nan) is nan; a ReLU that turned NaN into 0 hid broken inputs
    out = Relu().forward(Matrix([xs])).tolist()[0]
    for v, y in zip(xs, out):
        if v != v:
            assert y != y
        else:
            assert y == max(v, 0.0)


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_a_nan_input_gives_a_nan_loss_and_counts_as_wrong(activation):
    # review probe p3: the ReLU net reported loss 0.693 and accuracy 1.0 on [[nan, 2]]
    net = MultiLayerNet(2, [3], 2, activation=activation, seed=0)
    x = [[float("nan"), 2.0]]
    assert math.isnan(net.loss(x, [1]))
    assert net.accuracy(x, [0]) == 0.0 and net.accuracy(x, [1]) == 0.0


def test_network_construction_and_accuracy_errors_are_clear():
    with pytest.raises(TypeError, match="hidden_size_list must be a list"):
        MultiLayerNet(2, 3, 2)
    for lam in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="weight_decay_lambda"):
            MultiLayerNet(2, [3], 2, weight_decay_lambda=lam)
    net = MultiLayerNet(2, [3], 2)
    for bad in (0, -1, 1.5):
        with pytest.raises(ValueError, match="batch_size must be a positive int"):
            net.accuracy([[0.0, 1.0]], [0], batch_size=bad)
