"""Matrix: construction, access, products, broadcasting, reductions, errors."""
from fractions import Fraction

import pytest

from purenn import Matrix, ShapeError, dot

NAN = float("nan")


# ------------------------------------------------------------ construction

def test_flat_list_is_a_row_vector_as_on_the_slides():
    assert Matrix([1.0, 0.5]).shape == (1, 2)


def test_nested_lists_are_rows():
    m = Matrix([[1, 2, 3], [4, 5, 6]])
    assert m.shape == (2, 3)
    assert m.tolist() == [[1, 2, 3], [4, 5, 6]]


def test_callers_lists_are_copied_not_aliased():
    rows = [[1, 2], [3, 4]]
    m = Matrix(rows)
    rows[0][0] = 99
    assert m[0, 0] == 1
    out = m.tolist()
    out[1][1] = -1
    assert m[1, 1] == 4


def test_operations_do_not_change_their_operands():
    a, b = Matrix([[1, 2]]), Matrix([[3, 4]])
    _ = a + b, a * b, -a, a.T, a @ b.T
    assert a == Matrix([[1, 2]]) and b == Matrix([[3, 4]])


def test_matrix_has_no_item_assignment():
    m = Matrix([[1, 2]])
    with pytest.raises(TypeError):
        m[0, 0] = 5


@pytest.mark.parametrize("bad, error, words", [
    ([[1, 2], [3]], ValueError, "row 1 has 1 elements"),
    ([], ValueError, "empty"),
    ([[]], ValueError, "empty row"),
    ([[1, "2"]], TypeError, "element [0][1] is '2'"),
    ([1, None], TypeError, "element [0][1] is None"),
    ([[1, 2j]], TypeError, "real numbers"),
    ("12", TypeError, "expected a list of rows"),
    (5, TypeError, "expected a list of rows"),
    ([[1, 2], 3], TypeError, "row 1 is 3"),
])
def test_bad_input_gets_a_clear_error(bad, error, words):
    with pytest.raises(error) as info:
        Matrix(bad)
    assert words in str(info.value)


def test_builders():
    assert Matrix.zeros(2, 3) == Matrix([[0.0] * 3] * 2)
    assert Matrix.zeros((2, 3)).shape == (2, 3)
    assert Matrix.ones(1, 2) == Matrix([[1.0, 1.0]])
    assert Matrix.full(2, 2, value=Fraction(1, 3))[1, 1] == Fraction(1, 3)
    assert Matrix.full(1, 2, 7) == Matrix.full((1, 2), 7) == Matrix([[7, 7]])
    assert Matrix.identity(3) @ Matrix([[1], [2], [3]]) == Matrix([[1], [2], [3]])


@pytest.mark.parametrize("call", [
    lambda: Matrix.zeros(0, 3), lambda: Matrix.zeros(2, -1), lambda: Matrix.identity(0)])
def test_builders_refuse_empty_shapes(call):
    with pytest.raises(ValueError, match="at least"):
        call()


def test_builders_refuse_non_integer_shapes():
    with pytest.raises(TypeError, match="whole numbers"):
        Matrix.ones(2.5, 3)


def test_seeded_random_matrices_repeat_and_differ_by_seed():
    a = Matrix.uniform(3, 4, seed=7)
    assert a == Matrix.uniform(3, 4, seed=7)
    assert a != Matrix.uniform(3, 4, seed=8)
    assert all(0.0 <= v < 1.0 for row in a.tolist() for v in row)
    w = Matrix.uniform(50, 20, low=-2.0, high=3.0, seed=1)
    assert -2.0 <= w.max() < 3.0 and -2.0 <= -(-w).max()
    g = Matrix.randn(100, 100, std=2.0, mean=1.0, seed=3)
    mean = g.sum() / 10000
    var = ((g - mean) ** 2).sum() / 10000
    assert abs(mean - 1.0) < 0.06 and abs(var - 4.0) < 0.25


# ------------------------------------------------------------------ access

def test_indexing_rows_elements_slices_and_columns():
    m = Matrix([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    assert m[1, 2] == 6 and m[-1, -1] == 9
    assert m[0] == Matrix([[1, 2, 3]]) and m[0].shape == (1, 3)
    assert m[1:] == Matrix([[4, 5, 6], [7, 8, 9]])
    assert m[[2, 0]] == Matrix([[7, 8, 9], [1, 2, 3]])
    assert m[:, 0] == Matrix([[1], [4], [7]])
    assert m[[0, 2], 1] == Matrix([[2], [8]])
    assert m[0:2, 1:] == Matrix([[2, 3], [5, 6]])
    assert [r.tolist()[0] for r in m] == m.tolist()
    assert len(m) == 3


@pytest.mark.parametrize("key, error", [
    ((3, 0), IndexError), ((0, 3), IndexError), (-4, IndexError),
    ((0.5, 0), TypeError), ("a", TypeError), (slice(5, 9), IndexError),
    ((0, 1, 2), TypeError), ([], IndexError)])
def test_bad_indices(key, error):
    with pytest.raises(error):
        Matrix([[1, 2, 3], [4, 5, 6], [7, 8, 9]])[key]


def test_transpose_swaps_indices():
    m = Matrix([[1, 2, 3], [4, 5, 6]])
    assert m.T.shape == (3, 2)
    assert all(m.T[j, i] == m[i, j] for i in range(2) for j in range(3))
    assert m.T.T == m


def test_repr_round_trips_and_str_is_an_aligned_grid():
    for m in (Matrix([[0.1, -2.5e-300], [3, 1e20]]), Matrix([[Fraction(1, 3), 2]])):
        assert eval(repr(m), {"Matrix": Matrix, "Fraction": Fraction}) == m
    assert str(Matrix([[1, 22], [333, 4]])) == "[[  1  22]\n [333   4]]"


def test_str_summarises_large_matrices():
    text = str(Matrix.zeros(100, 784))
    assert "..." in text and len(text.splitlines()) == 7


# ------------------------------------------------------------------- matmul

def test_matmul_by_hand():
    # (1,2)·(2,3) -> (1,3), the slides' first example
    x = Matrix([1, 2])
    W = Matrix([[1, 3, 5], [2, 4, 6]])
    assert x @ W == Matrix([[5, 11, 17]])
    assert x.dot(W) == dot([1, 2], [[1, 3, 5], [2, 4, 6]]) == x @ W


def test_matmul_with_lists_on_either_side():
    assert [[1, 2]] @ Matrix([[1], [1]]) == Matrix([[3]])
    assert Matrix([[1, 2]]) @ [[1], [1]] == Matrix([[3]])


def test_matmul_shape_error_names_operation_and_both_shapes():
    with pytest.raises(ShapeError) as info:
        Matrix([[1, 2]]) @ Matrix([[1, 2], [3, 4], [5, 6]])
    assert str(info.value) == (
        "matmul: (1, 2) @ (3, 2): columns of the left (2) must equal rows of the right (3)")
    assert isinstance(info.value, ValueError)


def test_matmul_keeps_nan_and_inf_of_the_right_operand():
    # zero skipping must not turn 0 * inf into 0
    out = Matrix([[0.0, 1.0]]) @ Matrix([[float("inf")], [2.0]])
    assert out[0, 0] != out[0, 0]  # nan, as IEEE 754 says 0 * inf is
    out = Matrix([[0.0] * 9 + [1.0]]) @ Matrix([[float("nan")]] * 10)
    assert out[0, 0] != out[0, 0]


def test_matmul_of_zero_rows_gives_float_zeros():
    out = Matrix([[0.0, 0.0]]) @ Matrix([[1.5], [2.5]])
    assert out == Matrix([[0.0]]) and type(out[0, 0]) is float


def test_matmul_is_exact_with_fractions():
    a = Matrix([[Fraction(1, 3), Fraction(1, 7)]])
    b = Matrix([[Fraction(3)], [Fraction(7, 2)]])
    assert (a @ b)[0, 0] == Fraction(3, 2)


def test_sparse_rows_and_dense_rows_agree():
    # mostly-zero rows take the zero-skipping path; compare with the definition
    a = Matrix([[0.0] * 8 + [0.5, 0.25], [0.5] * 10, [0.0] * 9 + [2.0]])
    b = Matrix.uniform(10, 4, low=-1, high=1, seed=5)
    want = [[sum(a[i, k] * b[k, j] for k in range(10)) for j in range(4)] for i in range(3)]
    assert (a @ b).allclose(want)


# ------------------------------------------------------------ elementwise

def test_bias_row_broadcasts_over_the_batch():
    x = Matrix([[1, 2, 3], [4, 5, 6]])
    assert x + Matrix([10, 20, 30]) == Matrix([[11, 22, 33], [14, 25, 36]])
    assert Matrix([10, 20, 30]) + x == x + Matrix([10, 20, 30])


def test_column_and_scalar_broadcast():
    x = Matrix([[1, 2], [3, 4]])
    assert x - Matrix([[1], [3]]) == Matrix([[0, 1], [0, 1]])
    assert x * Matrix([[2]]) == x * 2 == 2 * x == Matrix([[2, 4], [6, 8]])
    assert Matrix([[1], [2]]) + Matrix([[10, 20]]) == Matrix([[11, 21], [12, 22]])


def test_scalars_on_either_side():
    x = Matrix([[1.0, 2.0]])
    assert 1 - x == Matrix([[0.0, -1.0]])
    assert 2 / x == Matrix([[2.0, 1.0]])
    assert x / 2 == Matrix([[0.5, 1.0]])
    assert x ** 2 == Matrix([[1.0, 4.0]]) and 2 ** x == Matrix([[2.0, 4.0]])
    assert -x == Matrix([[-1.0, -2.0]]) and abs(-x) == x and +x == x


@pytest.mark.parametrize("a, b, op, text", [
    ((2, 3), (3, 2), "add", "add: (2, 3) + (3, 2): each dimension must be equal or 1"),
    ((2, 3), (1, 2), "subtract", "subtract: (2, 3) - (1, 2)"),
    ((4, 1), (3, 1), "multiply", "multiply: (4, 1) * (3, 1)"),
    ((2, 2), (3, 3), "divide", "divide: (2, 2) / (3, 3)"),
])
def test_broadcast_errors_name_the_operation_and_both_shapes(a, b, op, text):
    ops = {"add": lambda p, q: p + q, "subtract": lambda p, q: p - q,
           "multiply": lambda p, q: p * q, "divide": lambda p, q: p / q}
    with pytest.raises(ShapeError) as info:
        ops[op](Matrix.ones(*a), Matrix.ones(*b))
    assert str(info.value).startswith(text)


def test_unsupported_operands_give_type_error():
    with pytest.raises(TypeError):
        Matrix([[1]]) + "a"
    with pytest.raises(TypeError):
        Matrix([[1]]) @ 3


def test_division_by_zero_raises_like_python():
    with pytest.raises(ZeroDivisionError):
        Matrix([[1.0]]) / 0


def test_map_applies_elementwise_and_checks_results():
    assert Matrix([[1, -2]]).map(lambda v: v * 10) == Matrix([[10, -20]])
    with pytest.raises(TypeError, match="real numbers"):
        Matrix([[1]]).map(str)


# ------------------------------------------------------------- reductions

def test_reductions_over_all_and_each_axis():
    m = Matrix([[1, 5, 2], [7, 0, 3]])
    assert m.sum() == 18 and m.max() == 7 and m.argmax() == 3
    assert m.sum(axis=0) == Matrix([[8, 5, 5]])
    assert m.sum(axis=1) == Matrix([[8], [10]])
    assert m.max(axis=0) == Matrix([[7, 5, 3]]) and m.max(axis=-1) == Matrix([[5], [7]])
    assert m.argmax(axis=0) == [1, 0, 1] and m.argmax(axis=1) == [1, 0]


def test_kept_dimension_broadcasts_back():
    m = Matrix([[1.0, 3.0], [2.0, 6.0]])
    assert m / m.sum(axis=1) == Matrix([[0.25, 0.75], [0.25, 0.75]])


def test_argmax_takes_the_first_of_ties():
    assert Matrix([[2, 5, 5]]).argmax(axis=1) == [1]


@pytest.mark.parametrize("axis", [2, -3, 0.0, "rows", True])
def test_bad_axis_is_a_value_error(axis):
    with pytest.raises(ValueError, match="axis must be None, 0 or 1"):
        Matrix([[1, 2]]).sum(axis=axis)


# -------------------------------------------------------------- comparing

def test_equality_is_exact_and_allclose_has_tolerances():
    a = Matrix([[0.1 + 0.2, 1.0]])
    assert a != Matrix([[0.3, 1.0]])
    assert a.allclose(Matrix([[0.3, 1.0]]))
    assert not a.allclose([[0.3, 1.0 + 1e-6]])
    assert a.allclose([[0.3, 1.0 + 1e-6]], rel_tol=1e-5)
    assert Matrix([[1e-13]]).allclose([[0.0]])  # below abs_tol counts as zero
    assert not Matrix([[float("nan")]]).allclose([[float("nan")]])
    # bug fixed: inf was "close" to every number (inf <= rel_tol * inf)
    assert not Matrix([[float("inf")]]).allclose([[1.0]])
    assert not Matrix([[1e300]]).allclose([[float("-inf")]])
    assert Matrix([[float("inf")]]).allclose([[float("inf")]])
    assert Matrix([[1, 2]]) == Matrix([[1.0, 2.0]])
    assert hash(Matrix([[1, 2]])) == hash(Matrix([[1.0, 2.0]]))


def test_allclose_needs_equal_shapes():
    with pytest.raises(ShapeError, match=r"allclose: \(1, 2\) vs \(2, 1\)"):
        Matrix([[1, 2]]).allclose([[1], [2]])


# ------------------------------------------------- bugs found in review

def test_power_with_no_real_result_is_an_error_not_a_complex_element():
    with pytest.raises(ValueError, match=r"power: element \[0\]\[1\] is \(-1.0\) \*\* 0.5"):
        Matrix([[4.0, -1.0]]) ** 0.5
    with pytest.raises(ValueError, match=r"\(-2.0\) \*\* 0.5"):
        (-2.0) ** Matrix([[2, 0.5]])
    assert Matrix([[4.0, 9.0]]) ** 0.5 == Matrix([[2.0, 3.0]])
    assert Matrix([[-2.0]]) ** 2 == Matrix([[4.0]])


@pytest.mark.parametrize("row", [[1.0, NAN, 2.0], [NAN, 1.0, 2.0], [1.0, 2.0, NAN]])
def test_a_nan_is_the_maximum_wherever_it_stands(row):
    m = Matrix([row])
    assert m.max() != m.max()
    assert m.argmax(axis=1) == [row.index(next(v for v in row if v != v))]
    assert m.max(axis=1)[0, 0] != m.max(axis=1)[0, 0]
    assert m.T.max(axis=0)[0, 0] != m.T.max(axis=0)[0, 0]


def test_repr_round_trips_inf_and_nan():
    m = Matrix([[float("inf"), float("-inf"), 1.5]])
    assert eval(repr(m), {"Matrix": Matrix}) == m
    back = eval(repr(Matrix([[NAN]])), {"Matrix": Matrix})
    assert back[0, 0] != back[0, 0]


@pytest.mark.parametrize("data", [{1: 2}, {2, 1}, [{1, 2}], frozenset([1])])
def test_unordered_containers_are_refused(data):
    with pytest.raises(TypeError):
        Matrix(data)


def test_dot_names_the_bad_operand_type():
    with pytest.raises(TypeError, match="got int"):
        Matrix([[1]]).dot(3)
