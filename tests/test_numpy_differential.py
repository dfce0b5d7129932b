"""purenn against numpy, where numpy happens to be installed (never required)."""
import math

import pytest
from hypothesis import given, strategies as st

from purenn import Matrix, relu, sigmoid, softmax, tanh

np = pytest.importorskip("numpy", reason="numpy is not installed; the differential test needs it")

dims = st.integers(1, 6)
floats = st.floats(-50, 50, allow_nan=False)


def mats(n, m):
    return st.lists(st.lists(floats, min_size=m, max_size=m), min_size=n, max_size=n)


@given(dims.flatmap(lambda n: dims.flatmap(lambda k: dims.flatmap(
    lambda m: st.tuples(mats(n, k), mats(k, m))))))
def test_matmul_matches_numpy(ab):
    a, b = ab
    want = np.array(a) @ np.array(b)
    assert (Matrix(a) @ Matrix(b)).allclose(want.tolist(), rel_tol=1e-9, abs_tol=1e-9)


@given(dims.flatmap(lambda n: dims.flatmap(lambda m: st.tuples(
    mats(n, m), st.sampled_from([(1, m), (n, 1), (1, 1), (n, m)]).flatmap(lambda s: mats(*s))))))
def test_broadcasting_matches_numpy(xb):
    x, b = xb
    for op in ("__add__", "__sub__", "__mul__"):
        want = getattr(np.array(x), op)(np.array(b))
        assert getattr(Matrix(x), op)(Matrix(b)).allclose(want.tolist(), rel_tol=1e-12)


@given(dims.flatmap(lambda n: dims.flatmap(lambda m: mats(n, m))))
def test_activations_match_numpy(x):
    a = np.array(x)
    e = np.exp(a - a.max(axis=1, keepdims=True))
    cases = [(sigmoid, 1 / (1 + np.exp(-a))), (tanh, np.tanh(a)),
             (relu, np.maximum(0, a)), (softmax, e / e.sum(axis=1, keepdims=True))]
    for f, want in cases:
        assert f(Matrix(x)).allclose(want.tolist(), rel_tol=1e-12, abs_tol=1e-15), f.__name__
    assert math.isclose(Matrix(x).sum(), a.sum(), rel_tol=1e-9, abs_tol=1e-9)
