"""Every matmul kernel is accurate to its documented bound (exact: Fraction)."""
import math
from fractions import Fraction

import pytest
from hypothesis import example, given, settings, strategies as st

from purenn import Matrix, kernels

U = 2.0 ** -53          # unit roundoff of float64

KERNELS = {
    "naive": lambda a, b: kernels.matmul_naive(a, b),
    "ikj": lambda a, b: kernels.matmul_ikj(a, b),
    "ikj-dense": lambda a, b: kernels.matmul_ikj(a, b, skip_zeros=False),
    "dense": lambda a, b: kernels.matmul_dense(a, [list(c) for c in zip(*b)]),
    "mixed": lambda a, b: kernels.matmul_mixed(a, b, [list(c) for c in zip(*b)]),
    "dispatch": lambda a, b: kernels.matmul(a, b),
}
if kernels.compress is None:
    del KERNELS["mixed"]

# floats of unit scale and some zeros (zero skipping must not change results)
elements = st.floats(-1e3, 1e3, allow_nan=False, width=64) | st.just(0.0)


def products(k_max=40):
    """(a, b) with a (n, k), b (k, m), shapes drawn first."""
    return st.tuples(st.integers(1, 3), st.integers(1, k_max), st.integers(1, 3)).flatmap(
        lambda s: st.tuples(
            st.lists(st.lists(elements, min_size=s[1], max_size=s[1]), min_size=s[0],
                     max_size=s[0]),
            st.lists(st.lists(elements, min_size=s[2], max_size=s[2]), min_size=s[1],
                     max_size=s[1])))


def exact(a, b, i, j):
    return sum(Fraction(a[i][t]) * Fraction(b[t][j]) for t in range(len(b)))


def magnitude(a, b, i, j):
    return math.fsum(abs(a[i][t] * b[t][j]) for t in range(len(b)))


@pytest.mark.parametrize("name", sorted(KERNELS))
@settings(max_examples=40, deadline=None)
@given(ab=products())
@example(ab=([[1e3, 1.0, -1e3]], [[1.0], [1e-3], [1.0]]))        # cancellation
@example(ab=([[0.0, 0.0, 0.0, 0.1]], [[1.0], [2.0], [3.0], [3.0]]))  # a sparse row
@example(ab=([[1.5]], [[5e-324]]))                                  # underflow
def test_every_kernel_is_within_the_recursive_summation_bound(name, ab):
    # |computed - exact| <= gamma_k * sum |a_t * b_t| + k * eta, gamma_k = k*u / (1 - k*u):
    # the classic bound for a dot product of length k summed in any order; eta
    # (half the smallest subnormal) is what a product can lose to underflow
    a, b = ab
    got = KERNELS[name](a, b)
    k = len(b)
    gamma = k * U / (1 - k * U)
    for i in range(len(a)):
        for j in range(len(b[0])):
            err = abs(Fraction(got[i][j]) - exact(a, b, i, j))
            bound = Fraction(gamma) * Fraction(magnitude(a, b, i, j)) * Fraction(10 ** 12 + 1, 10 ** 12)
            assert err <= bound + k * Fraction(1, 2 ** 1075)


@pytest.mark.skipif(kernels.sumprod is None, reason="math.sumprod is new in Python 3.12")
@settings(max_examples=60, deadline=None)
@given(ab=products(k_max=100))
@example(ab=([[1e3, 1.0, -1e3]], [[1.0], [1e-3], [1.0]]))
@example(ab=([[1.75]], [[2.225073858507e-311]]))  # found on Pyodide: a subnormal product
def test_sumprod_kernel_is_nearly_correctly_rounded(ab):
    # math.sumprod accumulates in extended precision: the error is about one
    # rounding of the result, whatever the cancellation.  Its error-free
    # products (Dekker's splitting) no longer hold once a product underflows
    # into the subnormals, where Pyodide's build was off by one subnormal unit
    # (2**-1074); so each product may add that much.
    a, b = ab
    b_t = [list(c) for c in zip(*b)]
    got = kernels.matmul_dense(a, b_t)
    for i in range(len(a)):
        for j in range(len(b[0])):
            e = exact(a, b, i, j)
            err = abs(Fraction(got[i][j]) - e)
            assert err <= 2 * U * abs(e) + len(b) * Fraction(1, 2 ** 1074)


def test_int_and_fraction_elements_are_exact_in_every_kernel():
    a = [[Fraction(1, 3), 0, 2], [Fraction(-1, 7), 5, 0]]
    b = [[1, Fraction(1, 2)], [Fraction(2, 3), 0], [3, -1]]
    want = [[sum(a[i][t] * b[t][j] for t in range(3)) for j in range(2)] for i in range(2)]
    for name, kernel in KERNELS.items():
        assert kernel(a, b) == want, name


def test_zero_times_inf_is_nan_through_the_public_api():
    # 0 * inf is nan, so skipping the zero would silently give a number
    y = Matrix([[0.0, 1.0]]) @ Matrix([[float("inf")], [1.0]])
    assert math.isnan(y[0, 0])


def test_sparse_and_dense_rows_give_the_same_matrix():
    a = [[0.0] * 70 + [0.5] * 10, [0.25] * 80, [0.0] * 80]
    b = [[(t * 7 + j) % 11 / 8.0 for j in range(3)] for t in range(80)]
    got = kernels.matmul(a, b)
    want = kernels.matmul_naive(a, b)
    assert got == want                       # exact: multiples of 1/32 add exactly
    assert all(type(x) is float for x in got[2])


def _ikj_one_row_at_a_time(a, b, skip_zeros=True, bias=None):
    """The i-k-j product as the book would write it: each kept term added
    into the output row on its own, the row starting at the first term."""
    out = []
    for row in a:
        acc = None
        for k, x in enumerate(row):
            if skip_zeros and not x:
                continue
            if acc is None:
                acc = [x * v for v in b[k]]
            else:
                acc = [s + x * v for s, v in zip(acc, b[k])]
        if acc is None:
            acc = [abs(row[0] * v) for v in b[0]]
        if bias is not None:
            acc = [s + c for s, c in zip(acc, bias)]
        out.append(acc)
    return out


signed = st.floats(-1e6, 1e6, allow_nan=False, width=64) | st.sampled_from([0.0, -0.0, 1e-310])


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 3), k=st.integers(1, 10), m=st.integers(1, 4), data=st.data())
@example(n=1, k=2, m=1, data=None)    # a -0.0 sum: -0.0 * 1 + ... must keep its sign
def test_ikj_threes_add_the_same_bits_as_one_row_at_a_time(n, k, m, data):
    # matmul_ikj adds three rows of b per loop (acc + x*b[k] + y*b[l] + z*b[q]):
    # Python adds left to right, so the bits must be those of one row at a time
    if data is None:
        a, b, bias = [[-0.0, -0.0]], [[1.0], [1.0]], None
    else:
        row = st.lists(signed, min_size=k, max_size=k)
        a = data.draw(st.lists(row, min_size=n, max_size=n))
        b = data.draw(st.lists(st.lists(signed, min_size=m, max_size=m), min_size=k,
                               max_size=k))
        bias = data.draw(st.none() | st.lists(signed, min_size=m, max_size=m))
    for skip in (True, False):
        want = _ikj_one_row_at_a_time(a, b, skip, bias)
        assert repr(kernels.matmul_ikj(a, b, skip, bias)) == repr(want)


# ------------------------------------------------------ the cycle collector

def test_no_cycle_collection_pauses_cpythons_collector_and_restores_it():
    import gc
    import sys
    was = gc.isenabled()
    gc.enable()
    try:
        with kernels.no_cycle_collection():
            paused = not gc.isenabled()
            with kernels.no_cycle_collection():  # nested: the outer block restores
                pass
            still = not gc.isenabled()
        assert gc.isenabled()
        assert paused == still == (sys.implementation.name == "cpython")
        with pytest.raises(ZeroDivisionError):
            with kernels.no_cycle_collection():
                1 / 0
        assert gc.isenabled()
        gc.disable()
        with kernels.no_cycle_collection():  # a caller's own pause stays
            pass
        assert not gc.isenabled()
        gc.enable()
        pause = kernels.no_cycle_collection()  # review: one instance entered inside itself
        with pause:
            with pause:
                pass
        assert gc.isenabled()
    finally:
        if was:
            gc.enable()
        else:
            gc.disable()
