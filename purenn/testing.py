"""Tools for testing the laws of the slides: hypothesis strategies and ``assert_allclose``.

======================================  =======================================
``elements(kind)``                      one number: ``"float"`` (bounded, never
                                        nan or inf), ``"int"``, ``"fraction"``
``shapes()``                            ``(rows, cols)`` with 1 <= each <= 5
``matrices(shape, kind)``               a Matrix of a given or drawn shape
``matmul_pairs(kind)``                  ``(A, B)`` with ``A @ B`` defined
``matmul_chains(count, kind)``          ``(A, B, C, ...)`` with ``A @ B @ C`` defined
``broadcast_pairs(kind)``               ``(A, B)`` with ``A + B`` defined by
                                        broadcasting (some axes of size 1)
``assert_allclose(actual, expected)``   fails naming the first bad index and
                                        both values
``counterexample(test)``                run a ``@given`` test: None when it
                                        passes, else the error and hypothesis's
                                        falsifying example (for notebooks)
======================================  =======================================

This module needs hypothesis (``pip install "purenn[test]"``); ``import
purenn`` never does.  A law as a test:

>>> from hypothesis import given, settings
>>> @settings(max_examples=25, deadline=None)
... @given(matmul_pairs(kind="fraction"))
... def test_transpose_of_product(pair):
...     A, B = pair
...     assert (A @ B).T == B.T @ A.T        # exact, thanks to Fractions
>>> test_transpose_of_product()
"""
import math
from fractions import Fraction

try:
    from hypothesis import strategies as st
except ImportError:
    raise ImportError(
        "purenn.testing needs hypothesis, which purenn itself does not need; "
        'install it with: pip install "purenn[test]"   (or: pip install hypothesis)') from None

from purenn.matrix import Matrix

KINDS = ("float", "int", "fraction")

MAX_DIM = 5
"""Largest number of rows or columns drawn by default: pure Python is slow,
and small matrices find the same bugs."""


def elements(kind="float", min_value=-1000, max_value=1000):
    """Numbers of one kind between ``min_value`` and ``max_value``.

    Floats never are nan or inf (test those on purpose, separately);
    Fractions have denominators up to 100 so that sums stay readable.
    """
    if kind not in KINDS:
        raise ValueError("elements: kind must be one of %s, got %r" % (", ".join(KINDS), kind))
    if not min_value <= max_value:
        raise ValueError("elements: need min_value <= max_value, got %r and %r"
                         % (min_value, max_value))
    if kind == "float":
        return st.floats(min_value, max_value, allow_nan=False, allow_infinity=False)
    if kind == "int":
        return st.integers(math.ceil(min_value), math.floor(max_value))
    return st.fractions(Fraction(min_value), Fraction(max_value), max_denominator=100)


_elements = elements  # for matrices(), whose argument of that name hides it


def _dim(value, name):
    if type(value) is not int or value < 1:
        raise ValueError("%s must be an int >= 1, got %r" % (name, value))
    return value


def shapes(max_rows=MAX_DIM, max_cols=MAX_DIM):
    """``(rows, cols)`` with ``1 <= rows <= max_rows`` and ``1 <= cols <= max_cols``."""
    return st.tuples(st.integers(1, _dim(max_rows, "shapes: max_rows")),
                     st.integers(1, _dim(max_cols, "shapes: max_cols")))


def _matrix_of(shape, elems):
    n, m = shape
    return st.lists(st.lists(elems, min_size=m, max_size=m), min_size=n, max_size=n).map(Matrix)


def matrices(shape=None, kind="float", min_value=-1000, max_value=1000, elements=None):
    """Matrices of ``shape`` (a tuple, or a strategy of tuples; default
    ``shapes()``) with elements of ``kind`` (or drawn from the strategy
    ``elements``, e.g. ``st.floats(width=32)``).

    The shape is drawn first, then the elements (``flatmap``), so hypothesis
    shrinks a failure to a small matrix with simple numbers.
    """
    elems = elements if elements is not None else _elements(kind, min_value, max_value)
    if shape is None:
        shape = shapes()
    if isinstance(shape, tuple):
        if len(shape) != 2:
            raise ValueError("matrices: shape must be (rows, cols), got %r" % (shape,))
        return _matrix_of((_dim(shape[0], "matrices: rows"), _dim(shape[1], "matrices: cols")),
                          elems)
    return shape.flatmap(lambda s: _matrix_of(s, elems))


def matmul_chains(count=2, kind="float", max_dim=MAX_DIM, min_value=-1000, max_value=1000):
    """``count`` matrices whose product ``M0 @ M1 @ ...`` is defined:
    ``(d0, d1), (d1, d2), ...`` with every ``d`` drawn in ``1..max_dim``."""
    if type(count) is not int or count < 1:
        raise ValueError("matmul_chains: count must be an int >= 1, got %r" % (count,))
    elems = elements(kind, min_value, max_value)
    dims = st.lists(st.integers(1, _dim(max_dim, "matmul_chains: max_dim")),
                    min_size=count + 1, max_size=count + 1)
    return dims.flatmap(lambda d: st.tuples(
        *[_matrix_of((d[i], d[i + 1]), elems) for i in range(count)]))


def matmul_pairs(kind="float", max_dim=MAX_DIM, min_value=-1000, max_value=1000):
    """``(A, B)`` with ``A`` (N, K) and ``B`` (K, M): ``A @ B`` is defined."""
    return matmul_chains(2, kind, max_dim, min_value, max_value)


def broadcast_pairs(kind="float", max_dim=MAX_DIM, min_value=-1000, max_value=1000):
    """``(A, B)`` whose elementwise ``A + B`` is defined by broadcasting: along
    each axis the two sizes are equal, or one of them is 1."""
    elems = elements(kind, min_value, max_value)

    def pair(draw_shapes):
        (n, m), (fa, fb) = draw_shapes
        # fa[axis] / fb[axis]: does that operand keep the full size or shrink to 1?
        sa = (n if fa[0] else 1, m if fa[1] else 1)
        sb = (n if fb[0] else 1, m if fb[1] else 1)
        return st.tuples(_matrix_of(sa, elems), _matrix_of(sb, elems))

    flags = st.tuples(st.booleans(), st.booleans())
    return st.tuples(shapes(max_dim, max_dim), st.tuples(flags, flags)).flatmap(pair)


# ------------------------------------------------------------ comparing

def assert_allclose(actual, expected, rel_tol=1e-9, abs_tol=1e-12):
    """Fail unless ``actual`` and ``expected`` have one shape and every pair
    of elements satisfies ``math.isclose(a, e, rel_tol, abs_tol)``.

    Takes Matrices, (nested) lists or single numbers.  NaN is close to
    nothing, not even NaN; ``inf`` only to the same ``inf``.  The message names
    the first failing index, both values, their difference, what was allowed
    and how many elements failed.

    >>> assert_allclose([[0.1 + 0.2]], [[0.3]])
    >>> assert_allclose([[1.0, 2.0]], [[1.0, 2.1]])
    Traceback (most recent call last):
        ...
    AssertionError: not close at [0, 1]: actual 2.0, expected 2.1 (difference 0.1, allowed 2.1e-09); 1 of 2 elements differ
    """
    a, e = _as_grid(actual, "actual"), _as_grid(expected, "expected")
    if a.shape != e.shape:
        raise AssertionError("shapes differ: actual (%d, %d), expected (%d, %d)"
                             % (a.shape + e.shape))
    bad = []
    for i, (ra, re_) in enumerate(zip(a.tolist(), e.tolist())):
        for j, (x, y) in enumerate(zip(ra, re_)):
            if not math.isclose(x, y, rel_tol=rel_tol, abs_tol=abs_tol):
                bad.append((i, j, x, y))
    if bad:
        i, j, x, y = bad[0]
        allowed = max(rel_tol * max(abs(x), abs(y)), abs_tol)
        raise AssertionError(
            "not close at [%d, %d]: actual %r, expected %r (difference %.3g, allowed %.3g); "
            "%d of %d elements differ" % (i, j, x, y, abs(x - y) if x == x and y == y else math.nan,
                                          allowed, len(bad), a.shape[0] * a.shape[1]))


def _as_grid(x, what):
    if isinstance(x, (int, float, Fraction)) and not isinstance(x, bool):
        return Matrix([[x]])
    if not isinstance(x, (Matrix, list, tuple)):
        raise TypeError("assert_allclose: %s must be a Matrix, (nested) lists or a number, "
                        "got %s" % (what, type(x).__name__))
    return Matrix(x)


# ------------------------------------------------ showing a failure (notebooks)

def counterexample(test):
    """Run ``test`` (a function decorated with ``@given``): ``None`` when it
    passes, else the text of its failure: the error, then the falsifying
    example hypothesis shrank it to (the notes hypothesis adds to the error).

    For notebooks and teaching, where a failing law should be shown, not
    raised.  Any exception counts as a failure, hypothesis's own too (say a
    health check).

    >>> from hypothesis import given, settings, strategies as st
    >>> @settings(database=None, derandomize=True, deadline=None)
    ... @given(st.integers(0, 100))
    ... def test_small(n):
    ...     assert n < 10, "%d is not small" % n
    >>> print(counterexample(test_small).splitlines()[0])
    AssertionError: 10 is not small
    >>> "n=10" in counterexample(test_small)
    True
    >>> counterexample(given(st.integers(0, 9))(lambda n: None)) is None
    True
    """
    try:
        test()
    except Exception as e:  # the point is to show any failure, not to raise it
        notes = [str(n) for n in getattr(e, "__notes__", [])]
        return "\n".join(["%s: %s" % (type(e).__name__, e)] + notes)
    return None
