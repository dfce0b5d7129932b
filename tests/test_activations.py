"""Activation functions (chapter 3.2) and softmax (3.5): book values, no overflow, laws."""
import math
from fractions import Fraction

import pytest
from hypothesis import example, given, settings, strategies as st

from purenn import (Matrix, identity_function, leaky_relu, relu, relu_grad, sigmoid,
                    sigmoid_grad, softmax, step_function, tanh)
from purenn.testing import assert_allclose

pytestmark = pytest.mark.ch3

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


# ---------------------------------------------------------- book values

def test_softmax_reference_values_section_3_5_1():
    want = [0.01821127329554753, 0.24519181293507392, 0.7365969137693786]
    assert_allclose([softmax([0.3, 2.9, 4.0])], [want], rel_tol=0, abs_tol=1e-12)


def test_softmax_overflow_example_section_3_5_2():
    want = [0.999954600070331, 4.539786860886666e-05, 2.061060046209062e-09]
    assert_allclose([softmax([1010, 1000, 990])], [want], rel_tol=0, abs_tol=1e-12)


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


@pytest.mark.parametrize("x, y", [(-1000, 0.0), (1000, 1.0),
                                  (Matrix([[-1000.0, 1000.0]]), Matrix([[0.0, 1.0]]))])
def test_sigmoid_saturates_exactly(x, y):
    assert sigmoid(x) == y


def test_softmax_of_huge_scores_is_finite():
    p = softmax(Matrix([[1e300, 1e300, -1e300]]))
    assert p == Matrix([[0.5, 0.5, 0.0]])


@pytest.mark.parametrize("f, x, y", [(tanh, -1e6, -1.0), (relu, float("-inf"), 0.0),
                                     (relu, 1e308, 1e308), (leaky_relu, -1e308, -1e306)])
def test_tanh_and_the_relus_on_extremes(f, x, y):
    assert f(x) == y


# ------------------------------------------------------------ same kind

ALL = [step_function, sigmoid, tanh, relu, leaky_relu, identity_function, softmax]


@pytest.mark.parametrize("f", ALL)
@pytest.mark.parametrize("x, kind", [(Matrix([[0.5, -0.5]]), Matrix), ([0.5, -0.5], list),
                                     (0.5, (int, float))], ids=["matrix", "list", "number"])
def test_each_activation_returns_the_kind_it_was_given(f, x, kind):
    assert isinstance(f(x), kind)


@pytest.mark.parametrize("f", ALL)
def test_nested_lists_give_nested_lists(f):
    assert isinstance(f([[0.5, -0.5]])[0], list)


def test_softmax_of_a_single_number_is_1():
    assert softmax(3.0) == 1.0


def test_softmax_works_row_by_row():
    p = softmax(Matrix([[1.0, 2.0], [5.0, 5.0]]))
    assert_allclose(p, [[1 / (1 + math.e), math.e / (1 + math.e)], [0.5, 0.5]], rel_tol=1e-15)


@pytest.mark.parametrize("x, y", [(Fraction(-1, 2), Fraction(0)), (Fraction(1, 2), Fraction(1, 2)),
                                  (-2, 0)])
def test_relu_keeps_the_kind_of_number(x, y):
    assert relu(x) == y and type(relu(x)) is type(y)


def test_relu_of_a_negative_float_is_a_float_zero():
    assert str(relu(-2.0)) == "0.0"


@pytest.mark.parametrize("x, alpha, y", [(-2.0, 0.01, -0.02),
                                         (Matrix([[-2.0, 3.0]]), 0.5, Matrix([[-1.0, 3.0]]))])
def test_leaky_relu_keeps_a_slope_alpha_below_0(x, alpha, y):
    assert leaky_relu(x, alpha=alpha) == y


# ------------------------------------------------------------------ laws

rows = st.integers(1, 4).flatmap(lambda n: st.lists(
    st.lists(finite, min_size=n, max_size=n), min_size=1, max_size=4))


@given(rows)
@example([[1010.0, 1000.0, 990.0]])
@example([[-1e6, 1e6]])
def test_softmax_rows_sum_to_one(r):
    p = softmax(Matrix(r))
    assert_allclose(p.sum(axis=1), Matrix.ones(p.shape[0], 1), rel_tol=1e-12)
    assert p.min() >= 0.0 and p.max() <= 1.0


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


# --------------------------------------------------- huge ints, nan, wrong types

HUGE = 10 ** 400   # an int too large for any float


@pytest.mark.parametrize("f, x, y", [
    (sigmoid, HUGE, 1.0), (sigmoid, -HUGE, 0.0), (tanh, HUGE, 1.0), (tanh, -HUGE, -1.0),
    (leaky_relu, -HUGE, float("-inf")), (relu, HUGE, HUGE), (softmax, [HUGE, 0], [1.0, 0.0]),
    (softmax, [HUGE, 0.5], [1.0, 0.0]),
    (sigmoid, Matrix([[HUGE, -HUGE, 0]]), Matrix([[1.0, 0.0, 0.5]])),
], ids=["sigmoid", "sigmoid-neg", "tanh", "tanh-neg", "leaky", "relu", "softmax", "softmax-half",
        "sigmoid-matrix"])
def test_huge_ints_saturate_instead_of_overflowing(f, x, y):
    assert f(x) == y


@given(st.one_of(finite, st.integers(-10 ** 400, 10 ** 400)))
@example(HUGE)
@example(-HUGE)
@example(710.5)
@example(-749.9)
def test_sigmoid_never_raises_and_stays_in_0_1(x):
    assert 0.0 <= sigmoid(x) <= 1.0


@pytest.mark.parametrize("f", [sigmoid, tanh, relu, leaky_relu, identity_function])
@pytest.mark.parametrize("x", [float("nan"), Matrix([[float("nan")]])], ids=["number", "matrix"])
def test_nan_propagates_through_every_activation(f, x):
    y = f(x)
    y = y[0, 0] if isinstance(y, Matrix) else y
    assert y != y


def test_a_nan_score_makes_the_whole_softmax_row_nan():
    assert [p != p for p in softmax([1.0, float("nan"), 2.0])] == [True, True, True]


@pytest.mark.parametrize("f", [step_function, sigmoid, tanh, relu, leaky_relu,
                               identity_function, softmax])
def test_a_string_is_a_type_error_naming_the_function(f):
    with pytest.raises(TypeError, match=f.__name__ + ": expected a number"):
        f("abc")


# --------------------------------------------- derivatives (the book's names)

@pytest.mark.parametrize("x, value", [(0.0, 0.25), (1000.0, 0.0), (-1000.0, 0.0)])
def test_sigmoid_grad_is_one_minus_sigmoid_times_sigmoid(x, value):
    assert sigmoid_grad(x) == value


def test_sigmoid_grad_of_a_matrix_is_elementwise():
    x = Matrix([[-1.0, 0.5]])
    assert_allclose(sigmoid_grad(x), (1.0 - sigmoid(x)) * sigmoid(x))


def test_relu_grad_is_1_from_0_on_as_the_book():
    # the book's relu_grad: grad[x >= 0] = 1 (the Relu layer lets nothing through at 0)
    assert relu_grad(Matrix([[-1.0, 0.0, 2.0]])) == Matrix([[0, 1, 1]])


# relu without a branch (PyPy, lists of floats): (v + |v|) * 0.5, or None
# where that would not be exact; tested on every interpreter

from purenn.activations import _relu_floats  # noqa: E402


def _relu_by_branch(row):
    return [v if not v <= 0 else 0.0 for v in row]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(width=64) | st.sampled_from([-0.0, 5e-324, -5e-324, 2.0 ** 1023,
                                                       float.fromhex("0x1.fffffffffffffp+1022"),
                                                       float("-inf"), float("inf")]),
                min_size=1, max_size=20))
@example([-0.0, 0.0, -1.5, 5e-324])                  # zeros come out +0.0, a subnormal stays
@example([float.fromhex("0x1.fffffffffffffp+1022")])   # just below 2**1023: still exact
@example([2.0 ** 1023])                              # v + v overflows: None, the branch runs
@example([1.0, float("-inf")])                       # -inf + inf is nan: None
@example([float("nan"), -1.0])                       # nan stays nan (by the branch)
def test_relu_without_a_branch_is_exact_or_declines(row):
    got = _relu_floats(row)
    if got is not None:
        assert repr(got) == repr(_relu_by_branch(row))
    # it declines only where some result would not be finite
    if all(math.isfinite(v) and v < 2.0 ** 1022 for v in row) and \
            math.isfinite(math.fsum(max(v, 0.0) for v in row)):
        assert got is not None


def test_relu_of_a_float_matrix_is_the_branch_on_every_interpreter():
    rows = [[-2.0, 0.0, -0.0, 3.5, float("nan"), 1e308], [float("-inf"), 1.0, -1e-300, 2.0, 0.5, 1.0]]
    assert repr(relu(Matrix(rows)).tolist()) == repr([_relu_by_branch(r) for r in rows])
