"""Matrix (chapter 3.3): construction, access, numpy's habits, products, broadcasting,
reductions, the combinators and the errors.  The algebraic laws: test_matrix_laws.py."""
import copy
import gc
import pickle
import re
import sys
import weakref
from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st

from purenn import Matrix, ShapeError, dot
from purenn.matrix import format_shape, shown_cells, sqrt, where
from purenn.testing import assert_allclose

pytestmark = pytest.mark.ch3

NAN = float("nan")
M = Matrix([[1, 2, 3], [4, 5, 6], [7, 8, 9]])


# ------------------------------------------------------------ construction

def test_a_flat_list_is_a_row_vector_as_on_the_slides():
    assert Matrix([1.0, 0.5]).shape == (1, 2)


def test_nested_lists_are_rows():
    assert Matrix([[1, 2, 3], [4, 5, 6]]).tolist() == [[1, 2, 3], [4, 5, 6]]


def test_rows_given_as_matrices_are_stacked_as_numpys_array_of_rows():
    assert Matrix([M[2], M[0]]) == Matrix([[7, 8, 9], [1, 2, 3]])


def test_the_callers_lists_are_copied_not_aliased():
    rows = [[1, 2], [3, 4]]
    m = Matrix(rows)
    rows[0][0] = 99
    assert m[0, 0] == 1


def test_tolist_gives_lists_of_your_own():
    m = Matrix([[1, 2], [3, 4]])
    m.tolist()[1][1] = -1
    assert m[1, 1] == 4


def test_operations_do_not_change_their_operands():
    a, b = Matrix([[1, 2]]), Matrix([[3, 4]])
    _ = a + b, a * b, -a, a.T, a @ b.T, a.reshape(2, 1), a > 1, where(a > 1, a, b)
    assert a == Matrix([[1, 2]]) and b == Matrix([[3, 4]])


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
    ([Matrix([[1], [2]])], TypeError, "row 0 is a (2, 1) Matrix"),
    ({1: 2}, TypeError, "expected a list of rows"),
    ({2, 1}, TypeError, "expected a list of rows"),
    ([{1, 2}], TypeError, "row 0 is"),
    (frozenset([1]), TypeError, "expected a list of rows"),
])
def test_bad_input_gets_a_clear_error(bad, error, words):
    with pytest.raises(error) as info:
        Matrix(bad)
    assert words in str(info.value)


@pytest.mark.parametrize("rows, copy", [([[1.0, 2.0]], False), ([[1.0, 2.0]], True)])
def test_from_rows_takes_the_lists_over_only_without_copy(rows, copy):
    m = Matrix.from_rows(rows, copy=copy)
    rows[0][0] = 9.0
    assert m[0, 0] == (9.0 if not copy else 1.0)     # copy=False: you promised not to


@pytest.mark.parametrize("rows, text", [
    ([[1.0], [2.0, 3.0]], "row 1 has 2 elements, row 0 has 1"), ([[1.0, "x"]], "is 'x'"),
    ([(1.0, 2.0)], "row 0 is a tuple"), ([], "non-empty list"),
])
def test_from_rows_checks_what_it_takes(rows, text):
    with pytest.raises((TypeError, ValueError), match=re.escape(text)):
        Matrix.from_rows(rows, copy=False)


@pytest.mark.parametrize("made, expected", [
    (Matrix.zeros(2, 3), Matrix([[0.0] * 3] * 2)), (Matrix.zeros((2, 3)), Matrix([[0.0] * 3] * 2)),
    (Matrix.ones(1, 2), Matrix([[1.0, 1.0]])), (Matrix.full(1, 2, 7), Matrix([[7, 7]])),
    (Matrix.full((1, 2), 7), Matrix([[7, 7]])), (Matrix.full(1, 1, value=Fraction(1, 3)),
                                                  Matrix([[Fraction(1, 3)]])),
    (Matrix.identity(2), Matrix([[1, 0], [0, 1]])),
], ids=["zeros", "zeros-tuple", "ones", "full", "full-tuple", "full-fraction", "identity"])
def test_builders_fill_the_shape(made, expected):
    assert made == expected


@pytest.mark.parametrize("call", [
    lambda: Matrix.zeros(0, 3), lambda: Matrix.zeros(2, -1), lambda: Matrix.identity(0)])
def test_builders_refuse_empty_shapes(call):
    with pytest.raises(ValueError, match="at least"):
        call()


def test_builders_refuse_non_integer_shapes():
    with pytest.raises(TypeError, match="whole numbers"):
        Matrix.ones(2.5, 3)


@pytest.mark.parametrize("make", [Matrix.uniform, Matrix.randn])
def test_the_same_seed_gives_the_same_random_matrix(make):
    assert make(3, 4, seed=7) == make(3, 4, seed=7) != make(3, 4, seed=8)


def test_uniform_numbers_lie_in_low_high():
    w = Matrix.uniform(50, 20, low=-2.0, high=3.0, seed=1)
    assert -2.0 <= w.min() and w.max() < 3.0


def test_randn_has_the_mean_and_std_asked_for():
    g = Matrix.randn(100, 100, std=2.0, mean=1.0, seed=3)
    assert abs(g.mean() - 1.0) < 0.06 and abs(((g - g.mean()) ** 2).mean() - 4.0) < 0.25


@pytest.mark.processes
def test_without_a_seed_a_new_interpreter_draws_the_same_numbers():
    # documented on purpose (numpy differs): purenn's shared generator starts from seed 0
    import subprocess
    import sys
    code = "from purenn import Matrix; print(Matrix.randn(1, 3))"
    runs = [subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE,
                           universal_newlines=True, check=True).stdout for _ in range(2)]
    assert runs[0] == runs[1]



# ------------------------------------------------------------------ access

@pytest.mark.parametrize("key, value", [
    ((1, 2), 6), ((-1, -1), 9), (0, Matrix([[1, 2, 3]])), (slice(1, None), Matrix([[4, 5, 6],
                                                                                 [7, 8, 9]])),
    ([2, 0], Matrix([[7, 8, 9], [1, 2, 3]])), ((slice(None), 0), Matrix([[1], [4], [7]])),
    (([0, 2], 1), Matrix([[2], [8]])), ((slice(0, 2), slice(1, None)), Matrix([[2, 3], [5, 6]])),
], ids=["element", "negative", "row", "slice", "list", "column", "list-column", "block"])
def test_indexing_gives_elements_and_matrices(key, value):
    assert M[key] == value


@given(st.integers(1, 4), st.integers(1, 5), st.integers(-6, 6), st.integers(-6, 6),
       st.sampled_from([None, 1, 2, -1]))
@settings(deadline=None, max_examples=200)
def test_column_slices_pick_the_columns_numpy_picks(n, m, start, stop, step):
    x = Matrix([[10 * i + j for j in range(m)] for i in range(n)])
    picked = list(range(m))[start:stop:step]
    key = slice(start, stop, step)
    if not picked:
        with pytest.raises(IndexError):
            x[:, key]
    else:
        assert x[:, key].tolist() == [[10 * i + j for j in picked] for i in range(n)]
        if n > 1:
            assert x[1:, key].tolist() == [[10 * i + j for j in picked] for i in range(1, n)]


def test_a_row_is_a_1_by_m_matrix_so_the_books_reshape_works():
    # ch03/mnist_show.py: img = x_train[0]; img.shape; img.reshape(28, 28)
    img = Matrix([list(range(784))])[0]
    assert img.shape == (1, 784) and img.reshape(28, 28).shape == (28, 28)


def test_iterating_gives_the_rows_as_1_by_m_matrices():
    assert [row for row in M] == [M[0], M[1], M[2]] and len(M) == 3


@pytest.mark.parametrize("key, error", [
    ((3, 0), IndexError), ((0, 3), IndexError), (-4, IndexError),
    ((0.5, 0), TypeError), ("a", TypeError), (slice(5, 9), IndexError),
    ((0, 1, 2), TypeError), ([], IndexError)])
def test_bad_indices_are_index_or_type_errors(key, error):
    with pytest.raises(error):
        M[key]


def test_indexing_a_row_of_a_row_explains_where_its_elements_are():
    # the numpy habit x[0][7] on a (1, M) row
    with pytest.raises(IndexError, match=r"m\[i\] of a matrix is a \(1, M\) row: its elements "
                                         r"are row\[0, j\]"):
        M[0][1]


def test_item_assignment_is_a_type_error_that_says_what_to_do():
    with pytest.raises(TypeError, match="Matrix is immutable: .*m.with_element"):
        M[0, 0] = 5


def test_with_element_changes_one_element_of_a_new_matrix():
    assert M.with_element(1, 2, 0) == Matrix([[1, 2, 3], [4, 5, 0], [7, 8, 9]]) != M


def test_transpose_swaps_the_indices():
    m = Matrix([[1, 2, 3], [4, 5, 6]])
    assert m.T == Matrix([[1, 4], [2, 5], [3, 6]]) and m.T.T == m and m.transpose() == m.T


def test_a_transpose_is_made_once_and_knows_its_matrix():
    m = Matrix([[1.0, 2.0], [3.0, 4.0]])
    t = m.T
    assert m.T is t and t.T is m


def test_a_transpose_outliving_its_matrix_transposes_back():
    t = Matrix([[1.0, 2.0, 3.0]]).T
    gc.collect()   # the matrix is gone (PyPy frees it only when it collects)
    assert t.T == Matrix([[1.0, 2.0, 3.0]]) and t.T.T is t


def test_transposed_matrices_pickle_and_copy():
    m = Matrix([[1.0, 2.0], [3.0, 4.0]])
    t = m.T
    for back in (pickle.loads(pickle.dumps(t)), copy.deepcopy(t), copy.copy(t)):
        assert back == t and back.T == m


class _Tagged(Matrix):
    """A subclass with state of its own: a __dict__ entry and a slot of its own."""
    __slots__ = ("unit", "__dict__")


def test_a_subclass_keeps_its_own_state_through_pickle_and_copy():
    # review: a rows-only __reduce__ dropped it
    m = _Tagged._wrap([[1.0, 2.0]])
    m.unit, m.label = "cm", "digits"
    for back in (pickle.loads(pickle.dumps(m)), copy.deepcopy(m), copy.copy(m)):
        assert type(back) is _Tagged and back == m and (back.unit, back.label) == ("cm", "digits")


def test_a_pickle_made_before_matrices_had_reduce_still_loads():
    # the default reduce of a slotted class: (copyreg.__newobj__, (cls,), (None, slots))
    import copyreg
    old = pickle.dumps((copyreg.__newobj__, (Matrix,), (None, {
        "_rows": [[1.0, 2.0]], "_shape": (1, 2), "_cache": {}})), 2)
    func, args, state = pickle.loads(old)
    m = func(*args)
    m.__setstate__(state)
    assert m == Matrix([[1.0, 2.0]]) and m.T == Matrix([[1.0], [2.0]])


@pytest.mark.skipif(sys.implementation.name != "cpython",
                    reason="reference counting frees objects at once only on CPython")
def test_a_matrix_and_its_transpose_make_no_reference_cycle():
    # a cycle would wait for the cycle collector: every batch and weight of a
    # training step did, and each collection walked them all (3-6 ms a step)
    was = gc.isenabled()
    gc.disable()
    try:
        m = Matrix([[1.0, 2.0], [3.0, 4.0]])
        t = m.T
        gone = weakref.ref(m), weakref.ref(t)
        del m, t
        assert [r() for r in gone] == [None, None]
    finally:
        if was:
            gc.enable()


def test_vstack_puts_the_rows_one_after_another():
    assert Matrix.vstack([M[2], M[0:2]]) == Matrix([[7, 8, 9], [1, 2, 3], [4, 5, 6]])
    with pytest.raises(ShapeError, match="matrix 1 is"):
        Matrix.vstack([M, Matrix([[1, 2]])])
    with pytest.raises(ValueError, match="no matrices"):
        Matrix.vstack([])
    b = Matrix.from_bytes(bytes([1, 2, 3, 4]), 2)   # review: BytesMatrix.vstack raised
    assert type(b).vstack([b, b]) == Matrix([[1, 2], [3, 4], [1, 2], [3, 4]])


# ------------------------------------------------------------- numpy habits

@pytest.mark.parametrize("value, expected", [
    (M.size, 9), (M.ndim, 2), (Matrix([[1, 2], [3, 4]]).reshape(1, 4), Matrix([[1, 2, 3, 4]])),
    (M.reshape(-1, 9).shape, (1, 9)), (M.reshape((9, 1)).shape, (9, 1)),
    (M.flatten(), Matrix([list(range(1, 10))])), (M.copy() is M, True),
    (M.mean(), 5.0), (M.min(axis=0), Matrix([[1, 2, 3]])), (M.argmin(axis=1), [0, 0, 0]),
], ids=["size", "ndim", "reshape", "reshape-minus-1", "reshape-tuple", "flatten", "copy",
        "mean", "min", "argmin"])
def test_numpys_names_mean_what_they_mean_in_numpy(value, expected):
    assert value == expected


@pytest.mark.parametrize("shape", [(2, 5), (-1, 4), (0, 9), (3, -1, 1)])
def test_reshape_to_a_shape_of_another_size_is_refused(shape):
    with pytest.raises((ShapeError, TypeError), match="reshape"):
        M.reshape(*shape)


@pytest.mark.parametrize("mask, expected", [
    (M > 5, Matrix([[False] * 3, [False, False, True], [True] * 3])),
    (M <= 2, Matrix([[True, True, False], [False] * 3, [False] * 3])),
    (2 < M[0], Matrix([[False, False, True]])), (M[0] >= Matrix([[1, 3, 3]]),
                                                 Matrix([[True, False, True]])),
], ids=["gt", "le", "reflected", "matrix"])
def test_comparisons_give_masks_of_booleans(mask, expected):
    assert mask == expected


def test_a_mask_counts_with_sum_and_keeps_with_multiply():
    assert (M > 5).sum() == 4 and M[0] * (M[0] > 1) == Matrix([[0, 2, 3]])


def test_builtin_sum_adds_the_rows_as_numpy():
    assert sum(M) == Matrix([[12, 15, 18]])


def test_equality_stays_the_comparison_of_whole_matrices():
    assert (M == Matrix(M)) is True and (M == M.T) is False


def test_the_truth_of_a_matrix_of_several_elements_is_ambiguous():
    with pytest.raises(ValueError, match=r"the truth value of a \(1, 3\) Matrix is ambiguous"):
        bool(M[0] > 1)


@pytest.mark.parametrize("m, truth", [(Matrix([[1]]), True), (Matrix([[0.0]]), False)])
def test_a_matrix_of_one_element_is_as_true_as_its_element(m, truth):
    assert bool(m) is truth


@pytest.mark.parametrize("name, way", [
    ("astype", "use m.map(float)"), ("ravel", "use m.flatten()"), ("std", "use ((m - m.mean())"),
    ("item", "use m[0, 0]"), ("fill", "Matrix.full(m.shape, value=v)"),
])
def test_other_numpy_names_say_purenns_way(name, way):
    with pytest.raises(AttributeError, match=r"Matrix has no '%s': .*%s" % (name, re.escape(way))):
        getattr(M, name)


def test_a_name_neither_numpy_nor_purenn_knows_is_a_plain_attribute_error():
    with pytest.raises(AttributeError, match="'Matrix' object has no attribute 'weights'"):
        M.weights


@pytest.mark.parametrize("op", ["sum", "max", "min", "mean", "argmax"])
def test_out_is_refused_since_a_matrix_is_never_written_into(op):
    with pytest.raises(TypeError, match="out= is not supported"):
        getattr(M, op)(out=[0])


# ------------------------------------------------------------------- matmul

def test_matmul_by_hand_the_slides_first_example():
    # (1,2)·(2,3) -> (1,3)
    assert Matrix([1, 2]) @ Matrix([[1, 3, 5], [2, 4, 6]]) == Matrix([[5, 11, 17]])


@pytest.mark.parametrize("product", [
    lambda x, W: x.dot(W), lambda x, W: dot(x.tolist(), W.tolist()),
    lambda x, W: x.tolist() @ W, lambda x, W: x @ W.tolist()],
    ids=["dot-method", "dot-lists", "list-left", "list-right"])
def test_every_spelling_of_the_product_is_the_same(product):
    x, W = Matrix([[1, 2]]), Matrix([[1, 3, 5], [2, 4, 6]])
    assert product(x, W) == x @ W


def test_the_matmul_shape_error_names_the_operation_and_both_shapes():
    with pytest.raises(ShapeError) as info:
        Matrix([[1, 2]]) @ Matrix([[1, 2], [3, 4], [5, 6]])
    assert str(info.value) == (
        "matmul: (1, 2) @ (3, 2): columns of the left (2) must equal rows of the right (3)")
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("left, right", [
    ([[0.0, 1.0]], [[float("inf")], [2.0]]), ([[0.0] * 9 + [1.0]], [[NAN]] * 10)])
def test_zero_skipping_keeps_the_nan_of_zero_times_inf(left, right):
    out = Matrix(left) @ Matrix(right)
    assert out[0, 0] != out[0, 0]          # nan, as IEEE 754 says 0 * inf is


def test_a_product_of_zero_rows_gives_float_zeros():
    out = Matrix([[0.0, 0.0]]) @ Matrix([[1.5], [2.5]])
    assert out == Matrix([[0.0]]) and type(out[0, 0]) is float


def test_a_product_of_fractions_is_exact():
    a = Matrix([[Fraction(1, 3), Fraction(1, 7)]])
    assert (a @ Matrix([[Fraction(3)], [Fraction(7, 2)]]))[0, 0] == Fraction(3, 2)


def test_sparse_rows_and_dense_rows_agree_with_the_definition():
    # mostly-zero rows take the zero-skipping path
    a = Matrix([[0.0] * 8 + [0.5, 0.25], [0.5] * 10, [0.0] * 9 + [2.0]])
    b = Matrix.uniform(10, 4, low=-1, high=1, seed=5)
    want = [[sum(a[i, k] * b[k, j] for k in range(10)) for j in range(4)] for i in range(3)]
    assert_allclose(a @ b, want)


# ------------------------------------------------------------ elementwise

X = Matrix([[1, 2, 3], [4, 5, 6]])


@pytest.mark.parametrize("result, expected", [
    (X + Matrix([10, 20, 30]), Matrix([[11, 22, 33], [14, 25, 36]])),
    (Matrix([10, 20, 30]) + X, Matrix([[11, 22, 33], [14, 25, 36]])),
    (X - Matrix([[1], [4]]), Matrix([[0, 1, 2], [0, 1, 2]])),
    (X * Matrix([[2]]), X * 2), (2 * X, X * 2),
    (Matrix([[1], [2]]) + Matrix([[10, 20]]), Matrix([[11, 21], [12, 22]])),
], ids=["bias-row", "bias-row-left", "column", "one-by-one", "scalar-left", "row-and-column"])
def test_broadcasting_stretches_rows_columns_and_scalars(result, expected):
    assert result == expected


@pytest.mark.parametrize("result, expected", [
    (1 - Matrix([[1.0, 2.0]]), Matrix([[0.0, -1.0]])), (2 / Matrix([[1.0, 2.0]]), Matrix([[2.0, 1.0]])),
    (Matrix([[1.0, 2.0]]) / 2, Matrix([[0.5, 1.0]])), (Matrix([[1.0, 2.0]]) ** 2, Matrix([[1.0, 4.0]])),
    (2 ** Matrix([[1.0, 2.0]]), Matrix([[2.0, 4.0]])), (-Matrix([[1.0, -2.0]]), Matrix([[-1.0, 2.0]])),
    (abs(Matrix([[1.0, -2.0]])), Matrix([[1.0, 2.0]])), (+Matrix([[1.0]]), Matrix([[1.0]])),
], ids=["rsub", "rdiv", "div", "pow", "rpow", "neg", "abs", "pos"])
def test_scalars_work_on_either_side(result, expected):
    assert result == expected


@pytest.mark.parametrize("a, b, op, text", [
    ((2, 3), (3, 2), lambda p, q: p + q, "add: (2, 3) + (3, 2): each dimension must be equal or 1"),
    ((2, 3), (1, 2), lambda p, q: p - q, "subtract: (2, 3) - (1, 2)"),
    ((4, 1), (3, 1), lambda p, q: p * q, "multiply: (4, 1) * (3, 1)"),
    ((2, 2), (3, 3), lambda p, q: p / q, "divide: (2, 2) / (3, 3)"),
    ((2, 2), (3, 3), lambda p, q: p > q, "greater: (2, 2) > (3, 3)"),
], ids=["add", "subtract", "multiply", "divide", "greater"])
def test_broadcast_errors_name_the_operation_and_both_shapes(a, b, op, text):
    with pytest.raises(ShapeError) as info:
        op(Matrix.ones(*a), Matrix.ones(*b))
    assert str(info.value).startswith(text)


@pytest.mark.parametrize("op", [lambda m: m + "a", lambda m: m @ 3], ids=["add-str", "matmul-int"])
def test_unsupported_operands_give_a_type_error(op):
    with pytest.raises(TypeError):
        op(Matrix([[1]]))


def test_division_by_zero_raises_as_in_python():
    with pytest.raises(ZeroDivisionError):
        Matrix([[1.0]]) / 0


@pytest.mark.parametrize("power, text", [
    (lambda: Matrix([[4.0, -1.0]]) ** 0.5, r"power: element \[0\]\[1\] is \(-1.0\) \*\* 0.5"),
    (lambda: (-2.0) ** Matrix([[2, 0.5]]), r"\(-2.0\) \*\* 0.5"),
])
def test_a_power_with_no_real_result_is_an_error_not_a_complex_element(power, text):
    with pytest.raises(ValueError, match=text):
        power()


@pytest.mark.parametrize("result, expected", [
    (Matrix([[4.0, 9.0]]) ** 0.5, Matrix([[2.0, 3.0]])), (Matrix([[-2.0]]) ** 2, Matrix([[4.0]]))])
def test_powers_with_real_results_work(result, expected):
    assert result == expected


# ------------------------------------------------------------ combinators

def test_map_applies_a_function_to_each_element():
    assert Matrix([[1, -2]]).map(lambda v: v * 10) == Matrix([[10, -20]])


def test_map_checks_that_the_results_are_numbers():
    with pytest.raises(TypeError, match="real numbers"):
        Matrix([[1]]).map(str)


@pytest.mark.parametrize("cond, a, b, expected", [
    (X > 3, X, 0, Matrix([[0, 0, 0], [4, 5, 6]])), (X > 3, 1, -1, Matrix([[-1] * 3, [1] * 3])),
    (X > 3, Matrix([[9, 9, 9]]), X, Matrix([[1, 2, 3], [9, 9, 9]])),
], ids=["matrix-scalar", "scalars", "broadcast-row"])
def test_where_picks_from_a_where_the_condition_holds_else_from_b(cond, a, b, expected):
    assert where(cond, a, b) == expected


def test_where_refuses_shapes_that_do_not_broadcast():
    with pytest.raises(ShapeError, match=r"where: condition \(2, 3\) and x \(2, 2\)"):
        where(X > 3, Matrix.ones(2, 2), 0)


def test_map_rows_hands_rows_to_f_and_builds_one_matrix_or_several():
    neg, sq = X.map_rows(lambda r: ([-v for v in r], [v * v for v in r]), outputs=2)
    assert (X.map_rows(lambda r, s: [u + v for u, v in zip(r, s)], X), neg, sq) == \
        (2 * X, -X, X * X)


@pytest.mark.parametrize("call, error, text", [
    (lambda: X.map_rows(lambda r: r[:1]), ValueError, "row 0 of the result is list of 1"),
    (lambda: X.map_rows(lambda r: tuple(r)), ValueError, "row 0 of the result is tuple"),
    (lambda: X.map_rows(lambda r, s: r, Matrix.ones(1, 3)), ShapeError,
     r"map_rows: \(2, 3\) and \(1, 3\)"),
    (lambda: X.map_rows(lambda r: [r], outputs=2), TypeError, "must return 2 rows"),
], ids=["short", "tuple", "shape", "outputs"])
def test_map_rows_checks_the_rows_it_gets_back(call, error, text):
    with pytest.raises(error, match=text):
        call()


def test_sqrt_is_correctly_rounded_as_numpys():
    assert sqrt(Matrix([[2.0, 0.01]])) == Matrix([[2.0 ** 0.5, 0.1]])


def test_sqrt_of_a_negative_element_names_it():
    with pytest.raises(ValueError, match=r"sqrt: element \[0\]\[1\] is -1.0"):
        sqrt(Matrix([[1.0, -1.0]]))


# ------------------------------------------------------------- reductions

R = Matrix([[1, 5, 2], [7, 0, 3]])


@pytest.mark.parametrize("value, expected", [
    (R.sum(), 18), (R.max(), 7), (R.argmax(), 3), (R.sum(axis=0), Matrix([[8, 5, 5]])),
    (R.sum(axis=1), Matrix([[8], [10]])), (R.max(axis=0), Matrix([[7, 5, 3]])),
    (R.max(axis=-1), Matrix([[5], [7]])), (R.argmax(axis=0), [1, 0, 1]),
    (R.argmax(axis=1), [1, 0]), (R.mean(axis=1), Matrix([[8 / 3], [10 / 3]])),
], ids=["sum", "max", "argmax", "sum-0", "sum-1", "max-0", "max-minus-1", "argmax-0",
        "argmax-1", "mean-1"])
def test_reductions_over_all_and_each_axis(value, expected):
    assert value == expected


def test_the_kept_dimension_broadcasts_back():
    m = Matrix([[1.0, 3.0], [2.0, 6.0]])
    assert m / m.sum(axis=1) == Matrix([[0.25, 0.75], [0.25, 0.75]])


def test_argmax_takes_the_first_of_ties():
    assert Matrix([[2, 5, 5]]).argmax(axis=1) == [1]


@pytest.mark.parametrize("axis", [2, -3, 0.0, "rows", True])
def test_a_bad_axis_is_a_value_error(axis):
    with pytest.raises(ValueError, match="axis must be None, 0 or 1"):
        Matrix([[1, 2]]).sum(axis=axis)


@pytest.mark.parametrize("row", [[1.0, NAN, 2.0], [NAN, 1.0, 2.0], [1.0, 2.0, NAN]])
@pytest.mark.parametrize("reduce", [lambda m: m.max(), lambda m: m.max(axis=1)[0, 0],
                                    lambda m: m.T.max(axis=0)[0, 0], lambda m: m.min()],
                         ids=["max", "max-1", "max-0", "min"])
def test_a_nan_is_the_maximum_and_the_minimum_wherever_it_stands(row, reduce):
    v = reduce(Matrix([row]))
    assert v != v


@pytest.mark.parametrize("row", [[1.0, NAN, 2.0], [NAN, 1.0, 2.0], [1.0, 2.0, NAN]])
def test_argmax_of_a_row_with_a_nan_is_the_nan_as_numpy(row):
    assert Matrix([row]).argmax(axis=1) == [[v != v for v in row].index(True)]


# -------------------------------------------------------------- comparing

@pytest.mark.parametrize("a, b, close, kw", [
    ([[0.1 + 0.2, 1.0]], [[0.3, 1.0]], True, {}),
    ([[0.3, 1.0]], [[0.3, 1.0 + 1e-6]], False, {}),
    ([[0.3, 1.0]], [[0.3, 1.0 + 1e-6]], True, {"rel_tol": 1e-5}),
    ([[1e-13]], [[0.0]], True, {}),                          # below abs_tol counts as zero
    ([[NAN]], [[NAN]], False, {}),
    ([[float("inf")]], [[1.0]], False, {}),                  # inf was "close" to every number
    ([[1e300]], [[float("-inf")]], False, {}),
    ([[float("inf")]], [[float("inf")]], True, {}),
], ids=["rounding", "beyond", "rel-tol", "abs-tol", "nan", "inf", "minus-inf", "same-inf"])
def test_allclose_has_stated_tolerances(a, b, close, kw):
    assert Matrix(a).allclose(b, **kw) is close


def test_equality_is_exact():
    assert Matrix([[0.1 + 0.2]]) != Matrix([[0.3]]) and Matrix([[1, 2]]) == Matrix([[1.0, 2.0]])


def test_equal_matrices_hash_alike():
    assert hash(Matrix([[1, 2]])) == hash(Matrix([[1.0, 2.0]]))


def test_allclose_needs_equal_shapes():
    with pytest.raises(ShapeError, match=r"allclose: \(1, 2\) vs \(2, 1\)"):
        Matrix([[1, 2]]).allclose([[1], [2]])


def test_dot_names_the_bad_operand_type():
    with pytest.raises(TypeError, match="got int"):
        Matrix([[1]]).dot(3)


# -------------------------------------------------------------- printing

@pytest.mark.parametrize("m", [Matrix([[0.1, -2.5e-300], [3, 1e20]]), Matrix([[Fraction(1, 3), 2]]),
                               Matrix([[float("inf"), float("-inf"), 1.5]])],
                         ids=["floats", "fraction", "inf"])
def test_repr_round_trips(m):
    assert eval(repr(m), {"Matrix": Matrix, "Fraction": Fraction}) == m


def test_repr_round_trips_nan():
    back = eval(repr(Matrix([[NAN]])), {"Matrix": Matrix})
    assert back[0, 0] != back[0, 0]


def test_str_is_an_aligned_grid():
    assert str(Matrix([[1, 22], [333, 4]])) == "[[  1  22]\n [333   4]]"


def test_str_summarises_large_matrices():
    text = str(Matrix.zeros(100, 784))
    assert "..." in text and len(text.splitlines()) == 7


def test_print_and_the_notebook_show_the_same_cells():
    from purenn.notebook import matrix_html
    m = Matrix.uniform(12, 12, seed=1)
    cells = shown_cells(m)
    html = matrix_html(m)
    missing = [c for row in cells for c in row if c is not None and c not in html]
    assert len(cells) == 7 and missing == []


@pytest.mark.parametrize("sep, text", [(", ", "(2, 3)"), (",", "(2,3)")])
def test_format_shape_writes_a_shape_as_the_messages_and_the_slides(sep, text):
    assert format_shape((2, 3), sep=sep) == text
