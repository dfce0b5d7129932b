"""Losses (4.2) and numerical gradients (4.3 - 4.4): the book's values and laws."""
import math

import pytest
from hypothesis import given, settings, example, strategies as st

from purenn import ShapeError
from purenn.activations import softmax
from purenn.gradients import (
    numerical_diff, numerical_gradient, numerical_gradient_params, gradient_descent)
from purenn.losses import sum_squared_error, cross_entropy_error, one_hot
from purenn.matrix import Matrix

Y_RIGHT = [0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0]   # section 4.2.1
Y_WRONG = [0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0]
T = [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]


# ------------------------------------------------------------ golden values

def test_book_sum_squared_error():
    assert sum_squared_error(Y_RIGHT, T) == 0.09750000000000003
    assert sum_squared_error(Y_WRONG, T) == 0.5975


def test_book_cross_entropy_error():
    assert cross_entropy_error(Y_RIGHT, T) == 0.510825457099338
    assert cross_entropy_error(Y_WRONG, T) == 2.302584092994546


def test_labels_and_one_hot_give_the_same_loss():
    y = Matrix([Y_RIGHT, Y_WRONG])
    t = one_hot([2, 2], 10)
    for loss in (sum_squared_error, cross_entropy_error):
        assert loss(y, [2, 2]) == loss(y, t)
        assert loss(Y_RIGHT, 2) == loss(Y_RIGHT, T)


def test_batch_gives_the_mean():
    y = Matrix([Y_RIGHT, Y_WRONG])
    mean = (cross_entropy_error(Y_RIGHT, 2) + cross_entropy_error(Y_WRONG, 2)) / 2
    assert math.isclose(cross_entropy_error(y, [2, 2]), mean, rel_tol=1e-15)


def test_cross_entropy_never_takes_log_of_zero():
    loss = cross_entropy_error([0.0, 1.0], [1, 0])
    assert math.isfinite(loss) and math.isclose(loss, -math.log(1e-7))


def test_book_numerical_diff():
    def function_1(x):
        return 0.01 * x ** 2 + 0.1 * x
    assert numerical_diff(function_1, 5) == 0.1999999999990898
    assert numerical_diff(function_1, 10) == 0.2999999999986347


def function_2(x):
    return x[0, 0] ** 2 + x[0, 1] ** 2


def test_book_numerical_gradient():
    assert numerical_gradient(function_2, [3.0, 4.0]).tolist() == [[6.00000000000378, 7.999999999999119]]
    assert numerical_gradient(function_2, [0.0, 2.0]).allclose([[0.0, 4.0]], abs_tol=1e-9)


def test_numerical_gradient_leaves_x_unchanged():
    x = Matrix([[3.0, 4.0]])
    numerical_gradient(function_2, x)
    assert x.tolist() == [[3.0, 4.0]]


def test_gradient_descent_reaches_the_minimum():
    x = gradient_descent(function_2, [-3.0, 4.0], lr=0.1, step_num=100)
    assert abs(x[0, 0]) < 1e-9 and abs(x[0, 1]) < 1e-9


def test_gradient_descent_diverges_with_a_large_rate_and_stalls_with_a_tiny_one():
    far = gradient_descent(function_2, [-3.0, 4.0], lr=10.0, step_num=100)
    assert abs(far[0, 0]) > 1e12                       # book: -2.58983747e+13
    stuck = gradient_descent(function_2, [-3.0, 4.0], lr=1e-10, step_num=100)
    assert stuck.allclose([[-3.0, 4.0]], rel_tol=1e-6)


def test_gradient_descent_history_has_every_step():
    history = []
    gradient_descent(function_2, [-3.0, 4.0], lr=0.1, step_num=5, history=history)
    assert len(history) == 6 and history[0].tolist() == [[-3.0, 4.0]]


def test_numerical_gradient_params_restores_every_entry():
    W, b = Matrix([[1.0, 2.0], [3.0, 4.0]]), Matrix([0.5, -0.5])
    params = {"W": W, "b": b}

    def loss():
        return ((Matrix([[1.0, 1.0]]) @ params["W"] + params["b"]) ** 2).sum()
    grads = numerical_gradient_params(loss, params)
    assert params["W"] is W and params["b"] is b
    # d/db of sum((x W + b)^2) is 2 (x W + b) = 2 * [4.5, 5.5]
    assert grads["b"].allclose([[9.0, 11.0]], rel_tol=1e-7)
    assert grads["W"].allclose([[9.0, 11.0], [9.0, 11.0]], rel_tol=1e-7)


def test_numerical_gradient_params_restores_when_f_raises():
    W = Matrix([[1.0]])
    params = {"W": W}

    def boom():
        raise RuntimeError("boom")
    with pytest.raises(RuntimeError):
        numerical_gradient_params(boom, params)
    assert params["W"] is W


# ------------------------------------------------------------------- errors

def test_loss_errors_name_the_operation_and_shapes():
    with pytest.raises(ShapeError, match=r"cross_entropy_error: 2 inputs but t has 1 one-hot rows \(1, 3\)"):
        cross_entropy_error(Matrix([[0.1, 0.2, 0.7]] * 2), Matrix([[0, 0, 1]]))
    with pytest.raises(ShapeError, match=r"sum_squared_error: 2 inputs but 3 labels"):
        sum_squared_error(Matrix([[0.1, 0.2, 0.7]] * 2), [0, 1, 2])
    with pytest.raises(ValueError, match="label 0 is 3; a class label is an int from 0 to 1"):
        cross_entropy_error([0.5, 0.5], [3])
    with pytest.raises(TypeError):
        cross_entropy_error("abc", [0])


# --------------------------------------------------------------- properties

def _probability_rows(draw, n, k):
    scores = draw(st.lists(st.lists(st.floats(-20, 20), min_size=k, max_size=k),
                           min_size=n, max_size=n))
    return softmax(Matrix(scores))


@st.composite
def outputs_and_labels(draw):
    n, k = draw(st.integers(1, 4)), draw(st.integers(2, 6))
    y = _probability_rows(draw, n, k)
    labels = draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))
    return y, labels


@settings(max_examples=50, deadline=None)
@given(outputs_and_labels())
def test_losses_are_non_negative(case):
    y, labels = case
    assert sum_squared_error(y, labels) >= 0
    assert cross_entropy_error(y, labels) >= -1e-7   # log(1 + delta) is a hair above 0


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 8), st.integers(0, 7))
@example(2, 0)
def test_losses_are_zero_at_a_perfect_prediction(k, label):
    # the other half, positive at every imperfect one, is drawn below
    label %= k
    perfect = one_hot([label], k)
    assert sum_squared_error(perfect, [label]) == 0
    assert cross_entropy_error(perfect, [label]) < 1e-6      # -log(1 + 1e-7)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-10, 10), min_size=1, max_size=4))
def test_numerical_gradient_of_a_quadratic_is_twice_x(xs):
    grad = numerical_gradient(lambda m: (m ** 2).sum(), xs)
    assert grad.allclose([[2 * v for v in xs]], rel_tol=1e-6, abs_tol=1e-6)


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 8), st.integers(0, 7), st.data())
@example(2, 0, None)
def test_losses_are_positive_at_any_imperfect_prediction(k, label, data):
    # any probability row that gives the true class at most 0.999 (the rest spread anyhow)
    label %= k
    if data is None:
        rest = [1.0] * (k - 1)
        p = 0.5
    else:
        rest = data.draw(st.lists(st.floats(0.0, 1.0), min_size=k - 1, max_size=k - 1))
        p = data.draw(st.floats(0.0, 0.999))
    total = sum(rest)
    others = [(1 - p) * r / total for r in rest] if total > 0 else [(1 - p) / (k - 1)] * (k - 1)
    y = others[:label] + [p] + others[label:]
    assert sum_squared_error(Matrix([y]), [label]) > 0
    assert cross_entropy_error(Matrix([y]), [label]) > 1e-6
