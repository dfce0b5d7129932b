"""Activation functions (chapter 3.2) and softmax (3.5): book values, no overflow, laws."""
import math

import pytest
from hypothesis import example, given, strategies as st

from purenn import (Matrix, identity_function, leaky_relu, relu, sigmoid, softmax,
                    step_function, tanh)

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


# ---------------------------------------------------------- book values

def test_softmax_reference_values_section_3_5_1():
    want = [0.01821127329554753, 0.24519181293507392, 0.7365969137693786]
    got = softmax([0.3, 2.9, 4.0])
    assert all(abs(g - w) <= 1e-12 for g, w in zip(got, want))


def test_softmax_overflow_example_section_3_5_2():
    want = [0.999954600070331, 4.539786860886666e-05, 2.061060046209062e-09]
    got = softmax([1010, 1000, 990])
    assert all(abs(g - w) <= 1e-12 for g, w in zip(got, want))


def test_step_function_section_3_2_3_with_step_of_zero_zero():
    assert step_function(Matrix([[-1.0, 0.0, 1.0, 2.0]])) == Matrix([[0, 0, 1, 1]])
    assert step_function(0) == 0


def test_sigmoid_section_3_2_4():
    got = sigmoid(Matrix([[-1.0, 1.0, 2.0]]))
    assert got.allclose([[0.26894142, 0.73105858, 0.88079708]], rel_tol=1e-8)


# ------------------------------------------------------- extreme inputs

@pytest.mark.parametrize("x", [-1000, -1e308, -709.79, -745.2, float("-inf")])
def test_sigmoid_of_very_negative_is_zero_without_overflow(x):
    assert sigmoid(x) == 0.0 or sigmoid(x) < 1e-300


def test_sigmoid_saturates_exactly():
    assert sigmoid(-1000) == 0.0 and sigmoid(1000) == 1.0
    assert sigmoid(Matrix([[-1000.0, 1000.0]])) == Matrix([[0.0, 1.0]])


def test_softmax_of_huge_scores_is_finite():
    p = softmax(Matrix([[1e300, 1e300, -1e300]]))
    assert p == Matrix([[0.5, 0.5, 0.0]])


def test_tanh_and_relus_on_extremes():
    assert tanh(-1e6) == -1.0 and relu(float("-inf")) == 0.0 and relu(1e308) == 1e308
    assert leaky_relu(-1e308) == -1e306


# ------------------------------------------------------------ same kind

def test_each_activation_returns_the_kind_it_was_given():
    for f in (step_function, sigmoid, tanh, relu, leaky_relu, identity_function, softmax):
        assert isinstance(f(Matrix([[0.5, -0.5]])), Matrix)
        assert isinstance(f([0.5, -0.5]), list) and isinstance(f([[0.5, -0.5]])[0], list)
        assert isinstance(f(0.5), (int, float))
    assert softmax(3.0) == 1.0


def test_softmax_works_row_by_row():
    p = softmax(Matrix([[1.0, 2.0], [5.0, 5.0]]))
    assert p[1] == Matrix([[0.5, 0.5]])
    assert abs(p[0, 1] - math.e / (1 + math.e)) < 1e-15


def test_relu_keeps_type_and_nan():
    from fractions import Fraction
    assert relu(Fraction(-1, 2)) == 0 and relu(Fraction(1, 2)) == Fraction(1, 2)
    assert type(relu(-2.0)) is float and str(relu(-2.0)) == "0.0"
    assert relu(float("nan")) != relu(float("nan"))


def test_leaky_relu_slope_parameter():
    assert leaky_relu(-2.0) == -0.02
    assert leaky_relu(Matrix([[-2.0, 3.0]]), alpha=0.5) == Matrix([[-1.0, 3.0]])


# ------------------------------------------------------------------ laws

rows = st.integers(1, 4).flatmap(lambda n: st.lists(
    st.lists(finite, min_size=n, max_size=n), min_size=1, max_size=4))


@given(rows)
@example([[1010.0, 1000.0, 990.0]])
@example([[-1e6, 1e6]])
def test_softmax_rows_sum_to_one(r):
    for row in softmax(Matrix(r)).tolist():
        assert math.isclose(sum(row), 1.0, rel_tol=1e-12)
        assert all(0.0 <= p <= 1.0 for p in row)


@given(rows, st.floats(min_value=-1e3, max_value=1e3))
def test_softmax_is_invariant_to_adding_a_constant_to_a_row(r, c):
    x = Matrix(r)
    # for |x| up to 1e6, x + c can lose up to ulp(1e6) ~ 1e-10 of the score,
    # which moves a probability by at most that much
    assert softmax(x + c).allclose(softmax(x), rel_tol=1e-6, abs_tol=1e-9)


@given(finite)
@example(-1000.0)
@example(-700.5)   # the switch between the two formulas
def test_sigmoid_is_in_0_1_and_symmetric(x):
    s = sigmoid(x)
    assert 0.0 <= s <= 1.0
    assert math.isclose(sigmoid(-x), 1.0 - s, rel_tol=1e-12, abs_tol=1e-15)


@given(finite)
def test_relu_is_idempotent(x):
    assert relu(relu(x)) == relu(x) >= 0


@given(finite)
def test_tanh_is_odd(x):
    assert tanh(-x) == -tanh(x)


fracs = st.fractions(min_value=-5, max_value=5, max_denominator=8)


def frac_matrix(n, m):
    return st.lists(st.lists(fracs, min_size=m, max_size=m), min_size=n, max_size=n).map(Matrix)


@given(fracs, st.lists(st.integers(1, 4), min_size=4, max_size=4).flatmap(
    lambda d: st.tuples(*[frac_matrix(d[i], d[i + 1]) for i in range(3)] + [frac_matrix(2, d[0])])))
def test_a_linear_activation_collapses_layers_slide_30(c, mats):
    W1, W2, W3, x = mats

    def h(a):
        return a * c
    # three layers with h(x) = c·x are one layer with W = c³·W1·W2·W3:
    # a linear activation gains nothing from depth (exact, with Fractions)
    assert h(h(h(x @ W1) @ W2) @ W3) == x @ (W1 @ W2 @ W3 * c ** 3)


# ------------------------------------------------- bugs found in review

HUGE = 10 ** 400   # an int too large for any float


def test_huge_ints_saturate_instead_of_overflowing():
    assert sigmoid(HUGE) == 1.0 and sigmoid(-HUGE) == 0.0
    assert tanh(HUGE) == 1.0 and tanh(-HUGE) == -1.0
    assert leaky_relu(-HUGE) == float("-inf") and relu(HUGE) == HUGE
    assert softmax([HUGE, 0]) == [1.0, 0.0] == softmax([HUGE, 0.5])
    assert sigmoid(Matrix([[HUGE, -HUGE, 0]])) == Matrix([[1.0, 0.0, 0.5]])


@given(st.one_of(finite, st.integers(-10 ** 400, 10 ** 400)))
@example(HUGE)
@example(-HUGE)
@example(710.5)
@example(-749.9)
def test_sigmoid_never_raises_and_stays_in_0_1(x):
    assert 0.0 <= sigmoid(x) <= 1.0


def test_nan_propagates_through_every_activation():
    nan = float("nan")
    for f in (sigmoid, tanh, relu, leaky_relu, identity_function):
        assert f(nan) != f(nan), f.__name__
        assert f(Matrix([[nan]]))[0, 0] != f(Matrix([[nan]]))[0, 0], f.__name__
    assert all(p != p for p in softmax([1.0, nan, 2.0]))


@pytest.mark.parametrize("f", [step_function, sigmoid, tanh, relu, leaky_relu,
                               identity_function, softmax])
def test_a_string_is_a_type_error_naming_the_function(f):
    with pytest.raises(TypeError, match=f.__name__ + ": expected a number"):
        f("abc")
