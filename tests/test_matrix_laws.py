"""Laws of matrix algebra, property-tested: exactly with Fractions, within a
stated tolerance with floats."""
from fractions import Fraction

from hypothesis import example, given, strategies as st

from purenn import Matrix, ShapeError

dims = st.integers(min_value=1, max_value=5)
small_ints = st.integers(min_value=-20, max_value=20)
fractions_ = st.fractions(min_value=-10, max_value=10, max_denominator=12)
floats = st.floats(min_value=-100, max_value=100, allow_nan=False, allow_infinity=False)

# Floats: each product term is at most 100 * 100, at most 5 terms a dot
# product and a couple of roundings each, so 1e-9 absolute error is ample.
FLOAT_TOL = dict(rel_tol=1e-9, abs_tol=1e-9)


def matrices(rows, cols, elements):
    return st.lists(st.lists(elements, min_size=cols, max_size=cols),
                    min_size=rows, max_size=rows).map(Matrix)


def chain(elements, count):
    """Matrices of shapes (d0, d1), (d1, d2), ... that can be multiplied."""
    return st.lists(dims, min_size=count + 1, max_size=count + 1).flatmap(
        lambda d: st.tuples(*[matrices(d[i], d[i + 1], elements) for i in range(count)]))


@given(chain(fractions_, 2))
def test_transpose_of_product_is_product_of_transposes_reversed(ab):
    a, b = ab
    assert (a @ b).T == b.T @ a.T


@given(chain(fractions_, 3))
def test_matmul_is_associative_exactly_with_fractions(abc):
    a, b, c = abc
    assert (a @ b) @ c == a @ (b @ c)


@given(chain(floats, 3))
def test_matmul_is_associative_within_tolerance_with_floats(abc):
    a, b, c = abc
    # three factors of up to 100: the values reach 5 * 5 * 1e6, scale the tolerance
    assert ((a @ b) @ c).allclose(a @ (b @ c), rel_tol=1e-9, abs_tol=1e-6)


@given(dims.flatmap(lambda n: dims.flatmap(lambda k: dims.flatmap(lambda m: st.tuples(
    matrices(n, k, fractions_), matrices(k, m, fractions_), matrices(k, m, fractions_))))))
def test_matmul_distributes_over_addition_exactly(abc):
    a, b, c = abc
    assert a @ (b + c) == a @ b + a @ c


@given(dims.flatmap(lambda n: dims.flatmap(lambda k: st.tuples(
    matrices(n, k, floats), matrices(k, 1, floats)))))
def test_matmul_agrees_with_the_definition_for_floats(ab):
    a, b = ab
    want = [[sum(a[i, t] * b[t, 0] for t in range(a.shape[1]))] for i in range(a.shape[0])]
    assert (a @ b).allclose(want, **FLOAT_TOL)


@given(dims.flatmap(lambda n: dims.flatmap(lambda m: matrices(n, m, small_ints))))
def test_identity_is_neutral_for_matmul(a):
    n, m = a.shape
    assert Matrix.identity(n) @ a == a == a @ Matrix.identity(m)


@given(dims.flatmap(lambda n: dims.flatmap(lambda m: st.tuples(
    matrices(n, m, floats), matrices(1, m, floats), matrices(n, 1, floats)))))
def test_broadcasting_equals_adding_the_tiled_matrix(xbc):
    x, b, c = xbc
    n, m = x.shape
    assert x + b == x + Matrix(b.tolist() * n)
    assert x * c == x * Matrix([[c[i, 0]] * m for i in range(n)])


@given(dims, dims, dims, dims)
@example(1, 2, 3, 2)  # the slide example with the operands swapped
def test_mismatched_shapes_always_raise_shape_error(n, k1, k2, m):
    if k1 == k2:
        k2 += 1
    try:
        Matrix.ones(n, k1) @ Matrix.ones(k2, m)
    except ShapeError as e:
        assert "matmul" in str(e) and str((n, k1)) in str(e) and str((k2, m)) in str(e)
    else:
        raise AssertionError("no ShapeError")


@given(dims.flatmap(lambda n: dims.flatmap(lambda m: matrices(n, m, small_ints))))
def test_sums_over_axes_agree(a):
    assert a.sum(axis=0).sum() == a.sum(axis=1).sum() == a.sum()
    assert Fraction(a.sum()) == sum(Fraction(v) for row in a.tolist() for v in row)


any_float = st.floats(allow_nan=True, allow_infinity=True)


@given(any_float, any_float)
@example(float("inf"), 1.0)   # bug fixed: inf counted as close to every number
@example(1e300, float("-inf"))
def test_allclose_agrees_with_math_isclose(a, b):
    import math
    assert Matrix([[a]]).allclose([[b]]) == math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
