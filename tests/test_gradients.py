"""Numerical differentiation and gradient descent (chapter 4.3-4.4): the book's values and laws."""
import pytest
from hypothesis import given, settings, strategies as st

from purenn.gradients import (numerical_diff, numerical_gradient, numerical_gradient_params,
                              gradient_descent)
from purenn.matrix import Matrix
from purenn.testing import assert_allclose, matrices

pytestmark = pytest.mark.ch4


def function_1(x):
    return 0.01 * x ** 2 + 0.1 * x


def function_2(x):
    return x[0, 0] ** 2 + x[0, 1] ** 2


@pytest.mark.parametrize("x, value", [(5, 0.1999999999990898), (10, 0.2999999999986347)])
def test_the_books_numerical_diff_section_4_3_2(x, value):
    assert numerical_diff(function_1, x) == value


def test_the_books_numerical_gradient_section_4_4():
    assert numerical_gradient(function_2, [3.0, 4.0]) == Matrix([[6.00000000000378,
                                                                 7.999999999999119]])


def test_numerical_gradient_at_zero_is_zero():
    assert_allclose(numerical_gradient(function_2, [0.0, 2.0]), [[0.0, 4.0]], abs_tol=1e-9)


def test_numerical_gradient_leaves_x_unchanged():
    x = Matrix([[3.0, 4.0]])
    numerical_gradient(function_2, x)
    assert x == Matrix([[3.0, 4.0]])


@settings(max_examples=30, deadline=None)
@given(matrices(min_value=-10, max_value=10))
def test_the_numerical_gradient_of_a_sum_of_squares_is_twice_x(x):
    assert_allclose(numerical_gradient(lambda m: (m ** 2).sum(), x), 2 * x,
                    rel_tol=1e-6, abs_tol=1e-6)


def test_gradient_descent_reaches_the_minimum_section_4_4_1():
    assert_allclose(gradient_descent(function_2, [-3.0, 4.0], lr=0.1, step_num=100),
                    [[0.0, 0.0]], abs_tol=1e-9)


def test_a_learning_rate_too_large_runs_away():
    far = gradient_descent(function_2, [-3.0, 4.0], lr=10.0, step_num=100)
    assert abs(far[0, 0]) > 1e12                       # book: -2.58983747e+13


def test_a_learning_rate_too_small_hardly_moves():
    stuck = gradient_descent(function_2, [-3.0, 4.0], lr=1e-10, step_num=100)
    assert_allclose(stuck, [[-3.0, 4.0]], rel_tol=1e-6)


def test_gradient_descent_history_has_every_step():
    history = []
    gradient_descent(function_2, [-3.0, 4.0], lr=0.1, step_num=5, history=history)
    assert len(history) == 6 and history[0] == Matrix([[-3.0, 4.0]])


@pytest.mark.parametrize("steps", [-1, 1.5, "3"])
def test_step_num_must_be_an_int_of_at_least_0(steps):
    with pytest.raises(ValueError, match="step_num must be an int >= 0"):
        gradient_descent(function_2, [-3.0, 4.0], step_num=steps)


def test_numerical_gradient_params_of_a_layer_loss_and_the_same_entries_after():
    W, b = Matrix([[1.0, 2.0], [3.0, 4.0]]), Matrix([0.5, -0.5])
    params = {"W": W, "b": b}

    def loss():
        return ((Matrix([[1.0, 1.0]]) @ params["W"] + params["b"]) ** 2).sum()
    grads = numerical_gradient_params(loss, params)
    assert params["W"] is W and params["b"] is b
    # d/db of sum((x W + b)^2) is 2 (x W + b) = 2 * [4.5, 5.5]
    assert_allclose(grads["b"], [[9.0, 11.0]], rel_tol=1e-7)
    assert_allclose(grads["W"], [[9.0, 11.0], [9.0, 11.0]], rel_tol=1e-7)


def test_numerical_gradient_params_restores_the_entries_when_f_raises():
    W = Matrix([[1.0]])
    params = {"W": W}

    def boom():
        raise RuntimeError("boom")
    with pytest.raises(RuntimeError):
        numerical_gradient_params(boom, params)
    assert params["W"] is W
