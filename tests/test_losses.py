"""Loss functions (chapter 4.2): the book's values, labels and one-hot alike, and laws."""
import math

import pytest
from hypothesis import example, given, settings, strategies as st

from purenn import ShapeError
from purenn.activations import softmax
from purenn.losses import cross_entropy_error, one_hot, sum_squared_error
from purenn.matrix import Matrix
from purenn.testing import matrices

pytestmark = pytest.mark.ch4

Y_RIGHT = [0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0]   # section 4.2.1
Y_WRONG = [0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0]
T = [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]


@pytest.mark.parametrize("loss, y, value", [
    (sum_squared_error, Y_RIGHT, 0.09750000000000003), (sum_squared_error, Y_WRONG, 0.5975),
    (cross_entropy_error, Y_RIGHT, 0.510825457099338),
    (cross_entropy_error, Y_WRONG, 2.302584092994546),
], ids=["sse-right", "sse-wrong", "cee-right", "cee-wrong"])
def test_the_books_values_section_4_2(loss, y, value):
    assert loss(y, T) == value


@pytest.mark.parametrize("loss", [sum_squared_error, cross_entropy_error])
@pytest.mark.parametrize("t", [2, [2], T], ids=["int", "labels", "one-hot"])
def test_a_label_and_a_one_hot_row_give_the_same_loss(loss, t):
    assert loss(Y_RIGHT, t) == loss(Y_RIGHT, T)


@pytest.mark.parametrize("loss", [sum_squared_error, cross_entropy_error])
def test_labels_and_one_hot_rows_of_a_batch_give_the_same_loss(loss):
    y = Matrix([Y_RIGHT, Y_WRONG])
    assert loss(y, [2, 2]) == loss(y, one_hot([2, 2], 10))


def test_sum_squared_error_of_a_batch_is_the_sum_over_its_rows_as_the_book():
    y = Matrix([Y_RIGHT, Y_WRONG])
    assert math.isclose(sum_squared_error(y, [2, 2]),
                        sum_squared_error(Y_RIGHT, 2) + sum_squared_error(Y_WRONG, 2), rel_tol=1e-15)


def test_cross_entropy_error_of_a_batch_is_the_mean_over_its_rows():
    y = Matrix([Y_RIGHT, Y_WRONG])
    mean = (cross_entropy_error(Y_RIGHT, 2) + cross_entropy_error(Y_WRONG, 2)) / 2
    assert math.isclose(cross_entropy_error(y, [2, 2]), mean, rel_tol=1e-15)


def test_sum_squared_error_also_measures_targets_that_are_not_classes():
    assert math.isclose(sum_squared_error([[0.5, 1.0]], [[0.3, 0.7]]), 0.5 * (0.04 + 0.09))


def test_cross_entropy_never_takes_the_log_of_zero():
    assert math.isclose(cross_entropy_error([0.0, 1.0], [1, 0]), -math.log(1e-7))


@pytest.mark.parametrize("call, error, text", [
    (lambda: cross_entropy_error(Matrix([[0.1, 0.2, 0.7]] * 2), Matrix([[0, 0, 1]])), ShapeError,
     r"cross_entropy_error: 2 inputs but t has 1 one-hot rows \(1, 3\)"),
    (lambda: sum_squared_error(Matrix([[0.1, 0.2, 0.7]] * 2), [0, 1, 2]), ShapeError,
     "sum_squared_error: 2 inputs but 3 labels"),
    (lambda: cross_entropy_error([0.5, 0.5], [3]), ValueError,
     "label 0 is 3; a class label is an int from 0 to 1"),
    (lambda: cross_entropy_error([0.5, 0.5], [[0.3, 0.7]]), ValueError, "not one-hot"),
    (lambda: cross_entropy_error("abc", [0]), TypeError, "cross_entropy_error: y must be"),
], ids=["cee-rows", "sse-labels", "cee-label", "cee-soft", "cee-str"])
def test_errors_name_the_loss_and_the_problem(call, error, text):
    with pytest.raises(error, match=text):
        call()


@st.composite
def outputs_and_labels(draw):
    n, k = draw(st.integers(1, 4)), draw(st.integers(2, 6))
    y = softmax(draw(matrices((n, k), min_value=-20, max_value=20)))
    return y, draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))


@settings(max_examples=50, deadline=None)
@given(outputs_and_labels())
def test_losses_are_never_negative(case):
    y, labels = case
    assert sum_squared_error(y, labels) >= 0
    assert cross_entropy_error(y, labels) >= -1e-7   # log(1 + delta) is a hair above 0


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 8), st.integers(0, 7))
@example(2, 0)
def test_losses_are_zero_at_a_perfect_prediction(k, label):
    label %= k
    perfect = one_hot([label], k)
    assert sum_squared_error(perfect, [label]) == 0
    assert cross_entropy_error(perfect, [label]) < 1e-6      # -log(1 + 1e-7)


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 8), st.integers(0, 7), st.data())
@example(2, 0, None)
def test_losses_are_positive_at_any_imperfect_prediction(k, label, data):
    # any probability row that gives the true class at most 0.999 (the rest spread anyhow)
    label %= k
    if data is None:
        rest, p = [1.0] * (k - 1), 0.5
    else:
        rest = data.draw(st.lists(st.floats(0.0, 1.0), min_size=k - 1, max_size=k - 1))
        p = data.draw(st.floats(0.0, 0.999))
    total = sum(rest)
    others = [(1 - p) * r / total for r in rest] if total > 0 else [(1 - p) / (k - 1)] * (k - 1)
    y = Matrix([others[:label] + [p] + others[label:]])
    assert sum_squared_error(y, [label]) > 0
    assert cross_entropy_error(y, [label]) > 1e-6
