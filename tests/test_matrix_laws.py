"""Laws of matrix algebra (chapter 3.3), property-tested with purenn.testing's
strategies: exactly with Fractions, within a stated tolerance with floats."""
import math
from fractions import Fraction

import pytest
from hypothesis import example, given, strategies as st

from purenn import Matrix, ShapeError
from purenn.testing import assert_allclose, broadcast_pairs, matmul_chains, matrices, shapes

pytestmark = pytest.mark.ch3

# Floats in [-100, 100]: each product term is at most 1e4, at most 5 terms a
# dot product and a few roundings each, so 1e-9 absolute error is ample.
FLOATS = dict(kind="float", min_value=-100, max_value=100)
FRACTIONS = dict(kind="fraction", min_value=-10, max_value=10)


@given(matmul_chains(2, **FRACTIONS))
def test_the_transpose_of_a_product_is_the_product_of_the_transposes_reversed(ab):
    a, b = ab
    assert (a @ b).T == b.T @ a.T


@given(matmul_chains(3, **FRACTIONS))
def test_matmul_is_associative_exactly_with_fractions(abc):
    a, b, c = abc
    assert (a @ b) @ c == a @ (b @ c)


@given(matmul_chains(3, **FLOATS))
def test_matmul_is_associative_within_tolerance_with_floats(abc):
    a, b, c = abc
    # three factors of up to 100: the values reach 5 * 5 * 1e6, so the tolerance scales
    assert_allclose((a @ b) @ c, a @ (b @ c), rel_tol=1e-9, abs_tol=1e-6)


@given(matmul_chains(2, **FRACTIONS).flatmap(
    lambda ab: st.tuples(st.just(ab[0]), st.just(ab[1]), matrices(ab[1].shape, **FRACTIONS))))
def test_matmul_distributes_over_addition_exactly(abc):
    a, b, c = abc
    assert a @ (b + c) == a @ b + a @ c


@given(matmul_chains(2, **FLOATS))
def test_matmul_agrees_with_its_definition_for_floats(ab):
    a, b = ab
    want = [[sum(a[i, t] * b[t, j] for t in range(a.shape[1])) for j in range(b.shape[1])]
            for i in range(a.shape[0])]
    assert_allclose(a @ b, want, rel_tol=1e-9, abs_tol=1e-9)


@given(matrices(**FRACTIONS))
def test_the_identity_is_neutral_for_matmul(a):
    assert a @ Matrix.identity(a.shape[1]) == a == Matrix.identity(a.shape[0]) @ a


@given(broadcast_pairs(**FLOATS))
def test_broadcasting_equals_adding_the_tiled_matrix(ab):
    a, b = ab
    n, m = max(a.shape[0], b.shape[0]), max(a.shape[1], b.shape[1])

    def tiled(x):
        rows = x.tolist() * (n // x.shape[0])
        return Matrix([row * (m // x.shape[1]) for row in rows])
    assert a + b == tiled(a) + tiled(b)


@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 5), st.integers(1, 5))
@example(1, 2, 3, 2)  # the slide example with the operands swapped
def test_mismatched_shapes_always_raise_a_shape_error(n, k1, k2, m):
    if k1 == k2:
        k2 += 1
    with pytest.raises(ShapeError) as info:
        Matrix.ones(n, k1) @ Matrix.ones(k2, m)
    assert "matmul" in str(info.value) and str((n, k1)) in str(info.value)


@given(matrices(kind="int", min_value=-20, max_value=20))
def test_sums_over_either_axis_agree_with_the_sum(a):
    assert a.sum(axis=0).sum() == a.sum(axis=1).sum() == a.sum()


@given(matrices(shape=shapes(), **FRACTIONS))
def test_reshape_keeps_the_elements_in_row_order(a):
    assert a.reshape(1, a.size) == a.flatten() and a.flatten().reshape(*a.shape) == a


@given(st.floats(allow_nan=True, allow_infinity=True), st.floats(allow_nan=True,
                                                                 allow_infinity=True))
@example(float("inf"), 1.0)   # inf was once close to every number
@example(1e300, float("-inf"))
def test_allclose_agrees_with_math_isclose(a, b):
    assert Matrix([[a]]).allclose([[b]]) == math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


@given(matrices(**FRACTIONS))
def test_fraction_sums_are_exact(a):
    assert a.sum() == sum(Fraction(v) for row in a.tolist() for v in row)
