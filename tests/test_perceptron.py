"""Perceptrons and logic gates (chapter 2)."""
import itertools

import pytest
from hypothesis import given, strategies as st

from purenn import AND, NAND, OR, XOR, Perceptron, ShapeError, truth_table

INPUTS = [(0, 0), (1, 0), (0, 1), (1, 1)]


@pytest.mark.parametrize("gate, outputs", [
    (AND, [0, 0, 0, 1]),    # section 2.3.1
    (OR, [0, 1, 1, 1]),     # 2.3.3
    (NAND, [1, 1, 1, 0]),   # 2.3.3
    (XOR, [0, 1, 1, 0]),    # 2.5.2: two layers
])
def test_gate_truth_tables(gate, outputs):
    assert [gate(x1, x2) for x1, x2 in INPUTS] == outputs


def test_slide_parameters():
    assert AND.weights == (0.5, 0.5) and AND.bias == -0.7
    assert OR.weights == (0.5, 0.5) and OR.bias == -0.2
    assert NAND.weights == (-0.5, -0.5) and NAND.bias == 0.7


def test_truth_table_prints_like_the_book():
    assert truth_table(AND) == "(0, 0) -> 0\n(1, 0) -> 0\n(0, 1) -> 0\n(1, 1) -> 1"


def test_perceptron_fires_only_strictly_above_zero():
    p = Perceptron([1, 1], -1)
    assert p(1, 0) == 0 and p(1, 1) == 1 and p([1, 1]) == 1
    assert p.weighted_sum(1, 1) == 1


def test_wrong_number_of_inputs_is_a_shape_error():
    with pytest.raises(ShapeError, match="3 inputs for 2 weights"):
        AND(1, 0, 1)


def test_no_single_perceptron_computes_xor():
    # section 2.4: XOR is not linearly separable.  Search a grid of weights and
    # biases: every single perceptron gets at least one of the four cases wrong.
    grid = [i / 4 for i in range(-8, 9)]
    xor = [XOR(x1, x2) for x1, x2 in INPUTS]
    for w1, w2, b in itertools.product(grid, grid, grid):
        p = Perceptron((w1, w2), b)
        assert [p(x1, x2) for x1, x2 in INPUTS] != xor
    # ... while the same grid does hold AND, OR and NAND
    for gate in (AND, OR, NAND):
        want = [gate(x1, x2) for x1, x2 in INPUTS]
        assert any([Perceptron((w1, w2), b)(x1, x2) for x1, x2 in INPUTS] == want
                   for w1, w2, b in itertools.product(grid, grid, grid))


@given(st.floats(-100, 100), st.floats(-100, 100), st.floats(-100, 100))
def test_xor_is_not_linearly_separable_for_any_weights(w1, w2, b):
    p = Perceptron((w1, w2), b)
    assert [p(x1, x2) for x1, x2 in INPUTS] != [0, 1, 1, 0]


@pytest.mark.parametrize("make", [lambda: Perceptron("ab", 0), lambda: Perceptron([1, None], 0),
                                  lambda: Perceptron([1, 1], "b"), lambda: AND("1", 0)])
def test_non_numbers_are_type_errors(make):
    with pytest.raises(TypeError, match="must be numbers"):
        make()
