"""The 3-layer network (chapter 3.4) and the general Network class."""
import pytest

from purenn.testing import assert_allclose

from purenn import (Layer, Matrix, Network, ShapeError, forward, identity_function,
                    init_network, relu, sigmoid, softmax)


def test_init_network_holds_the_book_weights_section_3_4_3():
    net = init_network()
    assert net["W1"] == Matrix([[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]])
    assert net["b1"] == Matrix([0.1, 0.2, 0.3])
    assert net["W2"] == Matrix([[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]])
    assert net["b2"] == Matrix([0.1, 0.2])
    assert net["W3"] == Matrix([[0.1, 0.3], [0.2, 0.4]])
    assert net["b3"] == Matrix([0.1, 0.2])


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


def test_accuracy_with_labels_or_one_hot_and_any_batch_size():
    # a network that outputs its input: the prediction is the largest input
    net = Network([Layer(Matrix.identity(3), Matrix.zeros(1, 3), identity_function)])
    x = Matrix([[1, 0, 0], [0, 2, 0], [0, 0, 3], [5, 0, 0]])
    assert net.accuracy(x, [0, 1, 2, 1]) == 0.75
    onehot = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0]]
    assert net.accuracy(x, onehot, batch_size=3) == 0.75
    assert net.accuracy(x, Matrix(onehot), batch_size=1) == 0.75


def test_network_shape_errors():
    with pytest.raises(ShapeError, match=r"layer 0 W \(2, 3\) feeds layer 1 W \(2, 2\)"):
        Network([Layer(Matrix.ones(2, 3), Matrix.ones(1, 3)),
                 Layer(Matrix.ones(2, 2), Matrix.ones(1, 2))])
    with pytest.raises(ShapeError, match=r"b must be one row"):
        Layer(Matrix.ones(2, 3), Matrix.ones(1, 2))
    net = Network.from_dict(init_network())
    with pytest.raises(ShapeError, match=r"predict: input \(1, 3\)"):
        net.predict([1.0, 2.0, 3.0])
    with pytest.raises(ShapeError, match="2 inputs but 3 labels"):
        net.accuracy([[1.0, 0.5], [1.0, 0.5]], [0, 1, 0])
    with pytest.raises(ValueError, match="batch_size"):
        net.accuracy([[1.0, 0.5]], [0], batch_size=0)


def test_missing_weights_and_bad_inputs():
    with pytest.raises(KeyError, match="W3"):
        Network.from_dict({k: v for k, v in init_network().items() if k != "W3"})
    with pytest.raises(TypeError, match="network input"):
        forward(init_network(), "1 2")
    with pytest.raises(ValueError):
        Network([])


def test_sigmoid_network_output_is_exact_with_fraction_inputs_until_exp():
    # the product and the sums are exact with Fractions; sigmoid's exp is float
    from fractions import Fraction
    net = init_network()
    a1 = Matrix([Fraction(1), Fraction(1, 2)]) @ Matrix(
        [[Fraction(1, 10), Fraction(3, 10), Fraction(1, 2)],
         [Fraction(1, 5), Fraction(2, 5), Fraction(3, 5)]]) + Matrix(
        [Fraction(1, 10), Fraction(1, 5), Fraction(3, 10)])
    assert a1 == Matrix([[Fraction(3, 10), Fraction(7, 10), Fraction(11, 10)]])
    assert isinstance(sigmoid(a1)[0, 0], float)
    assert net["W1"].shape == (2, 3)


@pytest.mark.parametrize("labels, error, words", [
    ([[0, 0, 0, 1]], ShapeError, r"one-hot t \(1, 4\) for 2 classes"),
    (["1"], ValueError, "label 0 is '1'"),
    ([1.0], ValueError, "label 0 is 1.0"),
    ([2], ValueError, "an int from 0 to 1"),
    ([-1], ValueError, "label 0 is -1"),
    ([[1, 1]], ValueError, r"t row 0 is \[1, 1\], not one-hot"),
    ([[0.3, 0.7]], ValueError, r"t row 0 is \[0.3, 0.7\], not one-hot"),
])
def test_accuracy_refuses_labels_that_are_not_classes(labels, error, words):
    # found in review: these all gave accuracy 0.0 without a word
    net = Network.from_dict(init_network())
    with pytest.raises(error, match=words):
        net.accuracy([[1.0, 0.5]], labels)


def test_a_row_of_nan_scores_is_never_a_correct_prediction():
    # argmax of [nan, nan] is 0 (numpy's rule); accuracy must not count it as class 0
    net = Network([Layer(Matrix.identity(2), Matrix.zeros(1, 2), identity_function)])
    nan = float("nan")
    assert net.accuracy([[nan, nan], [1.0, 0.0]], [0, 0]) == 0.5
