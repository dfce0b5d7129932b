"""purenn.testing: the strategies draw what they promise; assert_allclose
reports the failing index and both values; purenn works without hypothesis."""
import math
import os
import struct
import subprocess
import sys
import textwrap
from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st

from purenn import Matrix
from purenn.testing import (assert_allclose, broadcast_pairs, elements, matmul_chains,
                            matmul_pairs, matrices, shapes)

FEW = settings(max_examples=30, deadline=None)


@FEW
@given(st.sampled_from(["float", "int", "fraction"]).flatmap(
    lambda k: st.tuples(st.just(k), elements(k, -5, 5))))
def test_elements_are_of_their_kind_and_in_bounds(kind_x):
    kind, x = kind_x
    assert type(x) is {"float": float, "int": int, "fraction": Fraction}[kind]
    assert -5 <= x <= 5 and not (isinstance(x, float) and math.isnan(x))


@FEW
@given(matrices(shape=(2, 3), kind="int"))
def test_given_shape(m):
    assert m.shape == (2, 3)
    assert {type(x) for row in m.tolist() for x in row} == {int}


@FEW
@given(matrices(shape=shapes(max_rows=2, max_cols=7)))
def test_drawn_shape_within_limits(m):
    assert 1 <= m.shape[0] <= 2 and 1 <= m.shape[1] <= 7


@FEW
@given(matrices(shape=(1, 4), elements=st.floats(width=32, allow_nan=False,
                                                  allow_infinity=False)))
def test_custom_element_strategy(m):
    # every element survives a round trip through a 32-bit float
    row = m.tolist()[0]
    assert [struct.unpack("f", struct.pack("f", x))[0] for x in row] == row


@FEW
@given(matmul_pairs(kind="fraction"))
def test_matmul_pairs_multiply(pair):
    A, B = pair
    assert A.shape[1] == B.shape[0]
    assert (A @ B).shape == (A.shape[0], B.shape[1])


@FEW
@given(matmul_chains(3, kind="fraction", max_dim=3))
def test_chains_give_exact_associativity(chain):
    A, B, C = chain
    assert (A @ B) @ C == A @ (B @ C)


@settings(max_examples=60, deadline=None)
@given(broadcast_pairs(kind="int"))
def test_broadcast_pairs_broadcast(pair):
    A, B = pair
    (n1, m1), (n2, m2) = A.shape, B.shape
    assert n1 == n2 or 1 in (n1, n2)
    assert m1 == m2 or 1 in (m1, m2)
    assert (A + B).shape == (max(n1, n2), max(m1, m2))


def test_broadcast_pairs_reach_every_case():
    # both operands full, a row, a column, a scalar-like (1, 1): all show up
    seen = set()

    @settings(max_examples=200, deadline=None, database=None)
    @given(broadcast_pairs(kind="int", max_dim=3))
    def collect(pair):
        A, B = pair
        seen.add((A.shape[0] == 1, A.shape[1] == 1, B.shape[0] == 1, B.shape[1] == 1))

    collect()
    assert len(seen) >= 10


def test_bad_strategy_arguments():
    with pytest.raises(ValueError, match="kind"):
        elements("complex")
    with pytest.raises(ValueError, match="min_value <= max_value"):
        elements("float", 1, 0)
    with pytest.raises(ValueError, match="rows"):
        matrices(shape=(0, 2))
    with pytest.raises(ValueError, match="count"):
        matmul_chains(0)


# ----------------------------------------------------------- assert_allclose

def test_allclose_passes_within_tolerance():
    assert_allclose(Matrix([[0.1 + 0.2, 1e-13]]), [[0.3, 0.0]])
    assert_allclose(1.0, 1.0 + 1e-12)
    assert_allclose([Fraction(1, 3)], [1 / 3])


def test_allclose_names_index_and_values():
    with pytest.raises(AssertionError) as e:
        assert_allclose([[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.0], [3.5, 4.5]])
    msg = str(e.value)
    assert "at [1, 0]" in msg and "actual 3.0" in msg and "expected 3.5" in msg
    assert "2 of 4 elements differ" in msg


def test_allclose_shapes():
    with pytest.raises(AssertionError, match=r"shapes differ: actual \(1, 2\), expected \(2, 1\)"):
        assert_allclose([[1, 2]], [[1], [2]])


def test_allclose_nan_is_close_to_nothing():
    with pytest.raises(AssertionError, match="actual nan"):
        assert_allclose([float("nan")], [float("nan")])
    assert_allclose([math.inf], [math.inf])
    with pytest.raises(AssertionError):
        assert_allclose([math.inf], [-math.inf])


def test_allclose_rejects_other_things():
    with pytest.raises(TypeError, match="actual must be"):
        assert_allclose("1", 1)


@pytest.mark.processes
def test_purenn_without_hypothesis_and_a_clear_message(tmp_path):
    # a fake 'hypothesis' that cannot be imported, first on the path
    (tmp_path / "hypothesis").mkdir()
    (tmp_path / "hypothesis" / "__init__.py").write_text("raise ImportError('no hypothesis')")
    code = textwrap.dedent("""
        import purenn
        assert purenn.forward(purenn.init_network(), [1.0, 0.5]).shape == (1, 2)
        import purenn.plot, purenn.explain, purenn.notebook
        try:
            import purenn.testing
        except ImportError as e:
            print(e)
    """)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), root]))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert 'pip install "purenn[test]"' in r.stdout and "pip install hypothesis" in r.stdout
