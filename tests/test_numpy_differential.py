"""purenn against numpy itself (chapter 3): the same operation on the same
numbers.  Skips without numpy; the numpy-oracle row of ci/runtimes.py runs it
with numpy and fails on a skip.

Tolerances: elementwise arithmetic, comparisons, reshapes and maxima are the
same IEEE operations, so equal to the bit; products and sums add in another
order (BLAS, pairwise), relative 1e-9 on inputs bounded by 50; exp and tanh
are numpy's own implementations, relative 1e-12.
"""
import math

import pytest
from hypothesis import given, strategies as st

from book_oracle import require_numpy
from purenn import Matrix, relu, sigmoid, softmax, tanh
from purenn.testing import assert_allclose, broadcast_pairs, matmul_pairs, matrices

np = require_numpy(book=False)
pytestmark = pytest.mark.ch3

BOUNDED = dict(min_value=-50, max_value=50)


@given(matmul_pairs(**BOUNDED))
def test_matmul_matches_numpy(ab):
    a, b = ab
    assert_allclose(a @ b, (np.array(a) @ np.array(b)).tolist(), rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.parametrize("op", ["__add__", "__sub__", "__mul__"])
@given(xb=broadcast_pairs(**BOUNDED))
def test_broadcasting_matches_numpy_to_the_bit(op, xb):
    x, b = xb
    assert getattr(x, op)(b).tolist() == getattr(np.array(x), op)(np.array(b)).tolist()


@pytest.mark.parametrize("op", ["__lt__", "__le__", "__gt__", "__ge__"])
@given(xb=broadcast_pairs(kind="int", min_value=-3, max_value=3))
def test_comparisons_give_numpys_masks(op, xb):
    x, b = xb
    assert getattr(x, op)(b).tolist() == getattr(np.array(x), op)(np.array(b)).tolist()


@given(matrices(**BOUNDED))
def test_activations_match_numpy(x):
    a = np.array(x)
    e = np.exp(a - a.max(axis=1, keepdims=True))
    for f, want in [(sigmoid, 1 / (1 + np.exp(-a))), (tanh, np.tanh(a)), (relu, np.maximum(0, a)),
                    (softmax, e / e.sum(axis=1, keepdims=True))]:
        assert_allclose(f(x), want.tolist(), rel_tol=1e-12, abs_tol=1e-15)


@given(matrices(**BOUNDED))
def test_reductions_match_numpy(x):
    a = np.array(x)
    assert math.isclose(x.sum(), a.sum(), rel_tol=1e-9, abs_tol=1e-9)
    assert_allclose(x.mean(axis=0), a.mean(axis=0, keepdims=True).tolist(), rel_tol=1e-9,
                    abs_tol=1e-9)
    assert (x.max(axis=1).tolist(), x.min(axis=0).tolist()) == \
        (a.max(axis=1, keepdims=True).tolist(), a.min(axis=0, keepdims=True).tolist())
    assert (x.argmax(axis=1), x.argmin(axis=0)) == \
        (a.argmax(axis=1).tolist(), a.argmin(axis=0).tolist())


@given(matrices(**BOUNDED))
def test_reshape_flatten_and_transpose_match_numpy(x):
    a = np.array(x)
    assert x.flatten().tolist()[0] == a.flatten().tolist()
    assert x.reshape(x.shape[1], x.shape[0]).tolist() == a.reshape(a.shape[1], a.shape[0]).tolist()
    assert x.T.tolist() == a.T.tolist()


@given(matrices(**BOUNDED))
def test_numpy_reads_a_matrix_as_its_array(x):
    # np.array(m) (Matrix.__array__), np.sum(m) and np.argmax(m, axis=1) (the methods)
    assert np.array(x).shape == x.shape and np.array(x).tolist() == x.tolist()
    assert np.sum(x) == x.sum() and list(np.argmax(x, axis=1)) == x.argmax(axis=1)
