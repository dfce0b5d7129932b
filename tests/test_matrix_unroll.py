"""Matrix.reshape, gather, scatter_add, gather_max, scatter_at: the primitives
of im2col and col2im (chapter 7.4.3), tested against their definitions and
the adjoint laws that make backpropagation through them correct."""
import math
from fractions import Fraction

import pytest
from hypothesis import example, given, strategies as st

from purenn.errors import ShapeError
from purenn.matrix import Matrix
from purenn.testing import assert_allclose, elements, matrices

pytestmark = pytest.mark.ch7

fractions_ = elements("fraction", -10, 10)


def flat(m):
    return [v for row in m.tolist() for v in row]


@st.composite
def matrix_and_table(draw, kind="fraction", padding=True, max_rows=3, max_cols=6):
    """A matrix (N, M) and an index table of R rows of L entries in 0..M-1 (or None)."""
    n = draw(st.integers(1, max_rows))
    m = draw(st.integers(1, max_cols))
    x = draw(matrices((n, m), kind=kind))
    index = st.integers(0, m - 1)
    if padding:
        index = st.one_of(index, st.none())
    r = draw(st.integers(1, 4))
    length = draw(st.integers(1, 4))
    table = tuple(tuple(draw(index) for _ in range(length)) for _ in range(r))
    return x, table


def gathered(x, table, fill):
    """The definition: row i*R + r is row i read at table[r], None reading fill."""
    return [[fill if k is None else row[k] for k in t] for row in x.tolist() for t in table]


# ------------------------------------------------------------------ reshape

@given(matrices(kind="int"), st.sampled_from([1, 2, 3, 4, 6]))
def test_reshape_keeps_the_elements_in_row_order(x, cols):
    size = x.shape[0] * x.shape[1]
    if size % cols:
        with pytest.raises(ShapeError):
            x.reshape(-1, cols)
        return
    y = x.reshape(-1, cols)
    assert y.shape == (size // cols, cols) and flat(y) == flat(x)


@given(matrices(kind="int"))
def test_reshape_there_and_back_is_the_identity(x):
    n, m = x.shape
    assert x.reshape(1, -1).reshape(n, m) == x


@pytest.mark.parametrize("shape, message", [
    ((4, 2), "(2, 3) has 6 elements, which do not fill (4, 2)"),
    ((-1, 4), "(2, 3) has 6 elements, which do not fill (-1, 4)"),
])
def test_reshape_to_a_shape_of_other_size_is_a_shape_error(shape, message):
    with pytest.raises(ShapeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Matrix([[1, 2, 3], [4, 5, 6]]).reshape(*shape)


@pytest.mark.parametrize("shape, error", [((-1, -1), ShapeError), ((0, 6), ShapeError),
                                          ((2.0, 3), TypeError), ((True, 6), TypeError)])
def test_reshape_refuses_what_is_no_shape(shape, error):
    with pytest.raises(error, match="reshape"):
        Matrix([[1, 2, 3], [4, 5, 6]]).reshape(*shape)


# ------------------------------------------------------------------- gather

@given(matrix_and_table())
def test_gather_reads_each_row_at_the_table(xt):
    x, table = xt
    assert x.gather(table).tolist() == gathered(x, table, 0)


@given(matrix_and_table(kind="float"))
def test_gather_with_a_list_table_equals_the_tuple_table(xt):
    x, table = xt
    assert x.gather([list(t) for t in table]) == x.gather(table)


def test_gather_reads_a_list_table_afresh_at_every_call():
    # a list can change between calls: it is never remembered (a tuple is)
    x = Matrix([[10, 20, 30]])
    table = [[0, 1]]
    first = x.gather(table)
    table[0][1] = 2
    assert (first, x.gather(table)) == (Matrix([[10, 20]]), Matrix([[10, 30]]))


def test_gather_of_one_index_a_row_gives_one_column():
    # itemgetter of one index returns no tuple: the plan must wrap it
    assert Matrix([[1, 2], [3, 4]]).gather(((1,), (None,))) == Matrix([[2], [0.0], [4], [0.0]])


@pytest.mark.parametrize("table, error, message", [
    (((0, 3),), ValueError, "indices must be whole numbers 0..2"),
    (((0, -1),), ValueError, "indices must be whole numbers 0..2"),
    (((0, 1.0),), ValueError, "holds 1.0"),
    (((0, 1), (2,)), ValueError, "row 1 has 1 indices, row 0 has 2"),
    ((), ValueError, "the table is empty"),
    (((),), ValueError, "the table is empty"),
    ("abc", TypeError, "rows of column indices"),
    ((5,), TypeError, "table row 0 is 5"),
])
def test_gather_refuses_a_bad_table_with_a_clear_error(table, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(".", r"\.")):
        Matrix([[1, 2, 3]]).gather(table)


# -------------------------------------------------------------- scatter_add

@given(matrix_and_table(), st.data())
def test_scatter_add_is_the_adjoint_of_gather(xt, data):
    # <gather(x), y> == <x, scatter_add(y)>: exactly, with Fractions.  This
    # identity is why col2im is the backward pass of im2col.
    x, table = xt
    n, m = x.shape
    y = data.draw(matrices((n * len(table), len(table[0])), kind="fraction"))
    left = sum(a * b for a, b in zip(flat(x.gather(table)), flat(y)))
    right = sum(a * b for a, b in zip(flat(x), flat(y.scatter_add(table, m))))
    assert left == right


@given(matrix_and_table(kind="int", padding=False))
def test_scatter_add_of_ones_counts_how_often_each_column_is_read(xt):
    x, table = xt
    n, m = x.shape
    ones = Matrix.ones(n * len(table), len(table[0]))
    counts = [sum(row.count(j) for row in table) for j in range(m)]
    assert ones.scatter_add(table, m).tolist() == [counts] * n


def test_scatter_add_leaves_zero_where_nothing_lands():
    assert Matrix([[5.0]]).scatter_add(((1,),), 3) == Matrix([[0.0, 5.0, 0.0]])


@pytest.mark.parametrize("shape", [(3, 2), (2, 3)])
def test_scatter_add_of_the_wrong_shape_is_a_shape_error(shape):
    with pytest.raises(ShapeError, match="scatter_add"):
        Matrix.ones(*shape).scatter_add(((0, 1), (1, 0)), 2)


# --------------------------------------------------------------- gather_max

finite_or_nan = st.one_of(st.floats(-5, 5), st.just(math.nan), st.sampled_from([0.0, -0.0, 1.0]))


@given(matrix_and_table(kind="float"))
@example((Matrix([[1.0, 1.0, 2.0]]), ((0, 1), (2, 2))))  # ties: the first position
def test_gather_max_is_the_max_and_argmax_of_the_gathered_rows(xt):
    x, table = xt
    g = x.gather(table)
    maxima, where = x.gather_max(table)
    n, r = x.shape[0], len(table)
    assert maxima == g.max(axis=1).reshape(n, r)
    assert where.tolist() == Matrix([g.argmax(axis=1)]).reshape(n, r).tolist()


@given(st.lists(finite_or_nan, min_size=1, max_size=6))
@example([1.0, math.nan, 2.0])  # Python's max would skip this nan
@example([math.nan, 1.0])
def test_gather_max_follows_numpy_a_nan_is_the_largest(values):
    x = Matrix([values])
    maxima, where = x.gather_max((tuple(range(len(values))),))
    nans = [i for i, v in enumerate(values) if v != v]
    if nans:
        assert where[0, 0] == nans[0] and maxima[0, 0] != maxima[0, 0]
    else:
        assert maxima[0, 0] == max(values) and where[0, 0] == values.index(max(values))


def test_gather_max_reads_the_fill_where_the_table_says_none():
    maxima, where = Matrix([[-3.0, -1.0]]).gather_max(((0, None), (1, 0)))
    assert (maxima, where) == (Matrix([[0.0, -1.0]]), Matrix([[1, 0]]))


# --------------------------------------------------------------- scatter_at

@given(matrix_and_table(), st.data())
def test_scatter_at_is_the_adjoint_of_reading_at_the_chosen_positions(xt, data):
    x, table = xt
    n, m = x.shape
    r, length = len(table), len(table[0])
    where = Matrix(data.draw(st.lists(st.lists(st.integers(0, length - 1), min_size=r,
                                               max_size=r), min_size=n, max_size=n)))
    y = data.draw(matrices((n, r), kind="fraction"))
    picked = [[0 if table[j][where[i, j]] is None else x[i, table[j][where[i, j]]]
               for j in range(r)] for i in range(n)]
    left = sum(a * b for a, b in zip([v for row in picked for v in row], flat(y)))
    right = sum(a * b for a, b in zip(flat(x), flat(y.scatter_at(table, where, m))))
    assert left == right


@pytest.mark.parametrize("where", [[[2, 0]], [[-1, 0]]])
def test_scatter_at_refuses_a_position_outside_the_table_row(where):
    with pytest.raises(ValueError, match="positions in a table row are 0..1"):
        Matrix([[1.0, 2.0]]).scatter_at(((0, 1), (1, 0)), Matrix(where), 2)


def test_scatter_at_needs_one_position_per_value():
    with pytest.raises(ShapeError, match="scatter_at"):
        Matrix([[1.0, 2.0]]).scatter_at(((0, 1), (1, 0)), Matrix([[0]]), 2)


# ------------------------------------------- max and argmax: the fast path

@given(matrices(elements=finite_or_nan))
@example(Matrix([[1.0, math.nan, 2.0]]))
@example(Matrix([[-0.0, 0.0]]))
def test_row_max_and_argmax_follow_numpy_with_or_without_nan(x):
    for row, (m,), a in zip(x.tolist(), x.max(axis=1).tolist(), x.argmax(axis=1)):
        nans = [i for i, v in enumerate(row) if v != v]
        if nans:
            assert a == nans[0] and m != m
        else:
            assert m == max(row) and a == row.index(max(row))


@given(matrix_and_table(kind="float"))
def test_gathered_floats_compare_close_to_the_definition(xt):
    x, table = xt
    assert_allclose(x.gather(table), gathered(x, table, 0.0), rel_tol=0, abs_tol=0)


# ----------------------------------------------------------- gather_product
# A convolution's forward pass in one call.  Where plain index loops are the
# fastest kernel (PyPy, MicroPython) it never builds the gathered rows: each
# nonzero number adds into the outputs that read it
# (kernels.gather_matmul_scatter).  The kernel is tested here on every
# interpreter, against the product of the gathered rows that it replaces.

from purenn import kernels  # noqa: E402
from purenn.convolution import _im2col_table  # noqa: E402
from purenn.matrix import _runs_plan  # noqa: E402

sparse_floats = st.one_of(st.just(0.0), st.just(-0.0), st.floats(-5, 5, width=32),
                          st.floats(-1e6, 1e6))


@st.composite
def unrolled_products(draw):
    """x (N, C*H*W) with many zeros, an im2col table, W.T (C*FH*FW, FN), a bias."""
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    h, w = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    pad = draw(st.integers(0, 2))
    fh, fw = draw(st.integers(1, h + 2 * pad)), draw(st.integers(1, w + 2 * pad))
    stride = draw(st.integers(1, 3))
    fn = draw(st.integers(1, 4))
    table = _im2col_table(c, h, w, fh, fw, stride, pad)
    x = draw(matrices((n, c * h * w), elements=sparse_floats))
    wt = draw(matrices((c * fh * fw, fn), elements=sparse_floats))
    bias = draw(matrices((1, fn), elements=sparse_floats))
    return x, table, wt, bias


def three_steps(x, table, wt, bias):
    return (x.gather(table) @ wt).transpose_blocks(x.shape[0], add=bias)


@given(unrolled_products())
@example((Matrix([[0.0, 2.0, 0.0, 3.0]]), _im2col_table(1, 2, 2, 2, 2, 1, 1),
          Matrix([[1.0], [10.0], [100.0], [1000.0]]), Matrix([[0.5]])))  # pad 1: 3x3 outputs
@example((Matrix([[0.1 * (i % 7) + 0.3 for i in range(25)]]), _im2col_table(1, 5, 5, 3, 3, 1, 1),
          Matrix([[0.7 - 0.1 * k, 1.0 / (k + 1)] for k in range(9)]), Matrix([[0.25, -1.5]])))
@example((Matrix([[1.0, 1.0, 1.0, 3.0]]), _im2col_table(2, 2, 1, 2, 3, 1, 1),
          Matrix([[1.0]] * 6 + [[0.1]] * 6), Matrix([[0.0]])))  # review: W = 1, pad 1
def test_the_scatter_kernel_gives_the_product_of_the_gathered_rows(case):
    # (the second example: every pixel nonzero, stride 1, so neighbouring
    # pixels are added two at a time where their runs overlap, and the
    # padding's edges leave runs alone)
    x, table, wt, bias = case
    n = x.shape[0]
    runs = _runs_plan(table, x.shape[1])
    assert runs is not None  # im2col's rows read their columns in increasing order
    got = kernels.gather_matmul_scatter(x.tolist(), runs, wt.tolist(), bias.tolist()[0],
                                        len(table))
    # the same sums as the i-k-j product (zeros skipped) of the gathered rows,
    # added in the same order: the same bits (repr tells -0.0 from 0.0), not
    # only close; a bias of -0.0 may leave a zero sum's sign different
    gathered_rows = x.gather(table).tolist()
    ikj = Matrix(kernels.matmul_ikj(gathered_rows, wt.tolist()))
    want = ikj.transpose_blocks(n, add=bias).tolist()
    if any(repr(v) == "-0.0" for v in bias.tolist()[0]):
        assert got == want
    else:
        assert repr(got) == repr(want)
    assert_allclose(Matrix(got), three_steps(x, table, wt, bias), rel_tol=1e-9, abs_tol=1e-6)


@given(unrolled_products())
@example((Matrix([[-1.0, 2.0]]), ((0,), (1,)), Matrix([[0.0]]), Matrix([[0.5]])))  # review: -0.0
@example((Matrix([[-1.0, 2.0]]), ((0,), (1,)), Matrix([[0.0]]), Matrix([[-0.0]])))
def test_gather_product_is_gather_then_product_then_transpose_blocks_to_the_bit(case):
    # on PyPy and MicroPython the scatter kernel (see above) where it gives the
    # same bits, else the three steps themselves; repr tells -0.0 from 0.0
    x, table, wt, bias = case
    for add in (bias, None):
        want = three_steps(x, table, wt, add)
        assert repr(x.gather_product(table, wt, add=add).tolist()) == repr(want.tolist())


@pytest.mark.parametrize("weight", [math.inf, -math.inf, math.nan])
def test_gather_product_with_weights_not_finite_is_the_three_steps(weight):
    # 0 * inf is nan: zeros cannot be skipped, so the three steps run
    x = Matrix([[0.0, 1.0, 0.0]])
    table, wt = ((0, 1), (1, 2)), Matrix([[weight], [1.0]])
    got, want = x.gather_product(table, wt), three_steps(x, table, wt, None)
    assert got.tolist().__repr__() == want.tolist().__repr__()


def test_gather_product_keeps_ints_and_fractions_exact():
    x = Matrix([[Fraction(1, 3), 0, 2]])
    got = x.gather_product(((0, 1), (1, 2)), Matrix([[3], [1]]), add=Matrix([[1]]))
    assert got == Matrix([[2, 3]]) and type(got[0, 0]) is Fraction


def test_a_table_read_out_of_order_has_no_scatter_plan():
    # adding column after column would then change the order of each sum
    assert _runs_plan(((1, 0),), 2) is None
    x = Matrix([[1.0, 2.0]])
    assert x.gather_product(((1, 0),), Matrix([[1.0], [10.0]])) == Matrix([[12.0]])


@pytest.mark.parametrize("call, error, message", [
    (lambda: Matrix.ones(1, 3).gather_product(((0, 1),), Matrix.ones(3, 1)), ShapeError,
     r"read 2 columns; other is \(3, 1\) and needs 2 rows"),
    (lambda: Matrix.ones(1, 3).gather_product(((0, 1),), Matrix.ones(2, 1),
                                              add=Matrix.ones(1, 2)), ShapeError,
     r"add is \(1, 2\); it must be one row of 1"),
    (lambda: Matrix.ones(1, 3).gather_product(((0, 5),), Matrix.ones(2, 1)), ValueError,
     "indices must be whole numbers 0..2"),
])
def test_gather_product_names_what_does_not_fit(call, error, message):
    with pytest.raises(error, match=message):
        call()
