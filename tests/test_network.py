"""The 3-layer network (chapter 3.4) and the general Network class (the network protocol)."""
from fractions import Fraction

import pytest

from purenn import (Layer, Matrix, Network, ShapeError, forward, identity_function,
                    init_network, relu, sigmoid, softmax)
from purenn.testing import assert_allclose

pytestmark = pytest.mark.ch3


def test_init_network_holds_the_book_weights_section_3_4_3():
    assert init_network() == {
        "W1": Matrix([[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]]), "b1": Matrix([0.1, 0.2, 0.3]),
        "W2": Matrix([[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]]), "b2": Matrix([0.1, 0.2]),
        "W3": Matrix([[0.1, 0.3], [0.2, 0.4]]), "b3": Matrix([0.1, 0.2])}


def test_forward_reproduces_the_book_output_section_3_4_3():
    y = forward(init_network(), [1.0, 0.5])
    want = [0.3168270764110298, 0.6962790898619668]
    assert y.shape == (1, 2)
    assert_allclose(y, [want], rel_tol=0, abs_tol=1e-15)


def test_first_layer_weighted_sum_section_3_4_2():
    net = init_network()
    a1 = Matrix([1.0, 0.5]) @ net["W1"] + net["b1"]
    assert a1.allclose([[0.3, 0.7, 1.1]], rel_tol=0, abs_tol=1e-15)


def test_forward_takes_a_batch():
    y = forward(init_network(), [[1.0, 0.5], [0.0, 0.0], [1.0, 0.5]])
    assert y.shape == (3, 2) and y[0] == y[2] != y[1]


def test_network_from_dict_matches_forward():
    net = Network.from_dict(init_network())
    x = Matrix.uniform(5, 2, low=-1, high=1, seed=0)
    assert net.predict(x) == forward(init_network(), x)


def test_batch_and_one_at_a_time_predictions_agree():
    W1 = Matrix.randn(20, 8, seed=1)
    W2 = Matrix.randn(8, 3, seed=2)
    net = Network([Layer(W1, Matrix.zeros(1, 8), relu),
                   Layer(W2, Matrix([0.1, 0.2, 0.3]), softmax)])
    # inputs with many zeros take the zero-skipping path of the product
    x = Matrix.uniform(30, 20, seed=3).map(lambda v: v if v > 0.7 else 0.0)
    batch = net.predict(x)
    for i in range(30):
        assert net.predict(x[i:i + 1]) == batch[i:i + 1]


def _identity_network(k=3):
    # a network that outputs its input: the prediction is the largest input
    return Network([Layer(Matrix.identity(k), Matrix.zeros(1, k), identity_function)])


X = Matrix([[1, 0, 0], [0, 2, 0], [0, 0, 3], [5, 0, 0]])
ONE_HOT = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0]]


@pytest.mark.parametrize("t, batch_size", [
    ([0, 1, 2, 1], 100), (ONE_HOT, 3), (Matrix(ONE_HOT), 1)], ids=["labels", "lists", "matrix"])
def test_accuracy_takes_labels_or_one_hot_rows_in_any_batch_size(t, batch_size):
    assert _identity_network().accuracy(X, t, batch_size=batch_size) == 0.75


def test_the_network_protocol_sizes_and_steps():
    net = Network.from_dict(init_network())
    assert (net.input_size, net.output_size, net.layer_steps()) == (2, 2, net.layers)


@pytest.mark.parametrize("call, error, text", [
    (lambda: Network([Layer(Matrix.ones(2, 3), Matrix.ones(1, 3)),
                      Layer(Matrix.ones(2, 2), Matrix.ones(1, 2))]), ShapeError,
     r"layer 0 W \(2, 3\) feeds layer 1 W \(2, 2\)"),
    (lambda: Layer(Matrix.ones(2, 3), Matrix.ones(1, 2)), ShapeError, "b must be one row"),
    (lambda: Network.from_dict(init_network()).predict([1.0, 2.0, 3.0]), ShapeError,
     r"predict: input \(1, 3\)"),
    (lambda: Network.from_dict(init_network()).accuracy([[1.0, 0.5], [1.0, 0.5]], [0, 1, 0]),
     ShapeError, "2 inputs but 3 labels"),
    (lambda: Network.from_dict(init_network()).accuracy([[1.0, 0.5]], [0], batch_size=0),
     ValueError, "batch_size"),
    (lambda: Network.from_dict({k: v for k, v in init_network().items() if k != "W3"}),
     KeyError, "W3"),
    (lambda: forward(init_network(), "1 2"), TypeError, "network input"),
    (lambda: Network([]), ValueError, "at least one layer"),
    (lambda: Layer(Matrix.ones(2, 3), Matrix.ones(1, 3), activation="relu"), TypeError,
     "activation must be a function"),
], ids=["feeds", "bias", "predict", "labels", "batch", "missing", "input", "empty", "activation"])
def test_bad_networks_and_inputs_get_a_clear_error(call, error, text):
    with pytest.raises(error, match=text):
        call()


def test_a_fraction_network_is_exact_until_the_exponential():
    # the product and the sums are exact with Fractions; sigmoid's exp is float
    a1 = Matrix([Fraction(1), Fraction(1, 2)]) @ Matrix(
        [[Fraction(1, 10), Fraction(3, 10), Fraction(1, 2)],
         [Fraction(1, 5), Fraction(2, 5), Fraction(3, 5)]]) + Matrix(
        [Fraction(1, 10), Fraction(1, 5), Fraction(3, 10)])
    assert a1 == Matrix([[Fraction(3, 10), Fraction(7, 10), Fraction(11, 10)]])
    assert isinstance(sigmoid(a1)[0, 0], float)
