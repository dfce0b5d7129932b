"""purenn.convolution: im2col, col2im, Convolution and Pooling (chapter 7),
against the direct definitions (the textbook's nested loops), exactly with
Fractions, and by gradient checks (backprop against numerical gradients)."""
import math
from fractions import Fraction

import pytest
from hypothesis import example, given, strategies as st

from purenn.convolution import Convolution, Pooling, col2im, conv_output_size, im2col
from purenn.errors import ShapeError
from purenn.gradients import numerical_gradient, numerical_gradient_params
from purenn.matrix import Matrix
from purenn.testing import assert_allclose, matrices

pytestmark = pytest.mark.ch7


@st.composite
def geometries(draw, max_n=2, max_c=2, max_side=5):
    """(N, C, H, W, FH, FW, stride, pad) of a convolution that fits."""
    n, c = draw(st.integers(1, max_n)), draw(st.integers(1, max_c))
    h, w = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    pad = draw(st.integers(0, 2))
    fh = draw(st.integers(1, h + 2 * pad))
    fw = draw(st.integers(1, w + 2 * pad))
    stride = draw(st.integers(1, 3))
    return n, c, h, w, fh, fw, stride, pad


def pixel(x, n, c, y, x_, C, H, W):
    """Image n's pixel (c, y, x) from the rows of x, 0 outside (the padding)."""
    if 0 <= y < H and 0 <= x_ < W:
        return x[n, c * H * W + y * W + x_]
    return 0


def direct_convolution(x, Wf, b, geometry):
    """The textbook's loops: out[n][f][oy][ox] = b[f] + sum over c, fy, fx of
    W[f][c][fy][fx] * x[n][c][oy*s + fy - p][ox*s + fx - p] (six nested loops)."""
    N, C, H, W, FH, FW, s, p = geometry
    FN = Wf.shape[0]
    OH, OW = (H + 2 * p - FH) // s + 1, (W + 2 * p - FW) // s + 1
    out = []
    for n in range(N):
        row = []
        for f in range(FN):
            for oy in range(OH):
                for ox in range(OW):
                    total = b[0, f]
                    for c in range(C):
                        for fy in range(FH):
                            for fx in range(FW):
                                total += Wf[f, c * FH * FW + fy * FW + fx] * pixel(
                                    x, n, c, oy * s + fy - p, ox * s + fx - p, C, H, W)
                    row.append(total)
        out.append(row)
    return out


def direct_max_pooling(x, geometry):
    N, C, H, W, FH, FW, s, p = geometry
    OH, OW = (H + 2 * p - FH) // s + 1, (W + 2 * p - FW) // s + 1
    return [[max(pixel(x, n, c, oy * s + fy - p, ox * s + fx - p, C, H, W)
                 for fy in range(FH) for fx in range(FW))
             for c in range(C) for oy in range(OH) for ox in range(OW)] for n in range(N)]


@st.composite
def convolutions(draw, kind="int"):
    """A geometry, images x (N, C*H*W), filters W (FN, C*FH*FW) and a bias (1, FN)."""
    g = draw(geometries())
    N, C, H, W, FH, FW, s, p = g
    fn = draw(st.integers(1, 3))
    x = draw(matrices((N, C * H * W), kind=kind, min_value=-5, max_value=5))
    Wf = draw(matrices((fn, C * FH * FW), kind=kind, min_value=-5, max_value=5))
    b = draw(matrices((1, fn), kind=kind, min_value=-5, max_value=5))
    return g, x, Wf, b


def layer_of(g, Wf, b):
    N, C, H, W, FH, FW, s, p = g
    return Convolution({"W": Wf, "b": b}, "W", "b", stride=s, pad=p, input_shape=(C, H, W),
                       filter_size=(FH, FW))


def dot(a, b):
    """The sum of a * b over every element: the inner product of the adjoint law."""
    assert a.shape == b.shape
    return sum(u * v for ra, rb in zip(a.tolist(), b.tolist()) for u, v in zip(ra, rb))


# ------------------------------------------------------------------ geometry

@pytest.mark.parametrize("args, size", [
    ((28, 5), 24), ((24, 2, 2), 12), ((14, 3, 1, 2), 16), ((7, 3, 2, 1), 4),
    ((4, 3), 2),  # figure 7-3
    ((4, 3, 1, 1), 4),  # figure 7-6: padding 1 keeps the size
    ((7, 3, 2), 3),  # figure 7-7: stride 2
])
def test_conv_output_size_follows_equation_7_1(args, size):
    assert conv_output_size(*args) == size


@pytest.mark.parametrize("args, error", [
    ((4, 5), ShapeError), ((0, 1), ValueError), ((4, 3, 0), ValueError),
    ((4, 3, 1, -1), ValueError), ((4.0, 3), ValueError),
])
def test_conv_output_size_refuses_what_does_not_fit(args, error):
    with pytest.raises(error, match="conv_output_size"):
        conv_output_size(*args)


# ------------------------------------------------------------ im2col, col2im

def test_im2col_and_one_product_give_figure_7_3():
    x = Matrix([[1, 2, 3, 0, 0, 1, 2, 3, 3, 0, 1, 2, 2, 3, 0, 1]])
    W = Matrix([[2, 0, 1, 0, 1, 2, 1, 0, 2]])
    assert (im2col(x, (1, 1, 4, 4), 3, 3) @ W.T).reshape(2, 2) == Matrix([[15, 16], [6, 15]])


@given(geometries(), st.data())
def test_im2col_rows_are_the_patches_under_the_filter(g, data):
    N, C, H, W, FH, FW, s, p = g
    x = data.draw(matrices((N, C * H * W), kind="int"))
    OH, OW = (H + 2 * p - FH) // s + 1, (W + 2 * p - FW) // s + 1
    want = [[pixel(x, n, c, oy * s + fy - p, ox * s + fx - p, C, H, W)
             for c in range(C) for fy in range(FH) for fx in range(FW)]
            for n in range(N) for oy in range(OH) for ox in range(OW)]
    assert im2col(x, (N, C, H, W), FH, FW, s, p).tolist() == want


@given(geometries(), st.data())
def test_col2im_is_the_adjoint_of_im2col(g, data):
    # <im2col(x), y> == <x, col2im(y)> exactly (ints): col2im is im2col's backward pass
    N, C, H, W, FH, FW, s, p = g
    x = data.draw(matrices((N, C * H * W), kind="int"))
    col = im2col(x, (N, C, H, W), FH, FW, s, p)
    y = data.draw(matrices(col.shape, kind="int"))
    assert dot(col, y) == dot(x, col2im(y, (N, C, H, W), FH, FW, s, p))


def test_col2im_of_im2col_counts_the_patches_over_each_pixel():
    ones = Matrix.ones(1, 9)
    back = col2im(im2col(ones, (1, 1, 3, 3), 2, 2), (1, 1, 3, 3), 2, 2)
    assert back.reshape(3, 3) == Matrix([[1, 2, 1], [2, 4, 2], [1, 2, 1]])


@pytest.mark.parametrize("call, message", [
    (lambda: im2col(Matrix.ones(2, 9), (1, 1, 3, 3), 2, 2), "input_data is \\(2, 9\\)"),
    (lambda: im2col(Matrix.ones(1, 9), (1, 3, 3), 2, 2), "input_shape must be \\(N, C, H, W\\)"),
    (lambda: col2im(Matrix.ones(4, 3), (1, 1, 3, 3), 2, 2), "col is \\(4, 3\\)"),
])
def test_im2col_and_col2im_name_the_shape_that_does_not_fit(call, message):
    with pytest.raises(ShapeError, match=message):
        call()


# --------------------------------------------------------------- Convolution

@given(convolutions())
@example(((1, 1, 4, 4, 3, 3, 1, 0),
          Matrix([[1, 2, 3, 0, 0, 1, 2, 3, 3, 0, 1, 2, 2, 3, 0, 1]]),
          Matrix([[2, 0, 1, 0, 1, 2, 1, 0, 2]]), Matrix([[3]])))  # figure 7-5: 18 19 9 18
def test_convolution_forward_equals_the_six_nested_loops(case):
    g, x, Wf, b = case
    assert layer_of(g, Wf, b).forward(x).tolist() == direct_convolution(x, Wf, b, g)


@given(convolutions(), st.data())
def test_convolution_backward_is_the_adjoint_of_forward_exactly(case, data):
    # forward is linear in x (and affine in W, b): for any dout,
    # <out(x) - out(0), dout> == <x, dx>, <out(W) - out(W=0), dout> == <W, dW>,
    # and <b-part, dout> == <b, db> -- exactly, with ints
    g, x, Wf, b = case
    conv = layer_of(g, Wf, b)
    out = conv.forward(x)
    dout = data.draw(matrices(out.shape, kind="int", min_value=-5, max_value=5))
    dx = conv.backward(dout)
    zero_x = layer_of(g, Wf, b).forward(x * 0)
    zero_w = layer_of(g, Wf * 0, b).forward(x)
    zero_b = layer_of(g, Wf, b * 0).forward(x)
    assert dot(out - zero_x, dout) == dot(x, dx)
    assert dot(out - zero_w, dout) == dot(Wf, conv.dW)
    assert dot(out - zero_b, dout) == dot(b, conv.db)


@given(convolutions(kind="float"), st.integers(0, 2 ** 32))
def test_convolution_gradients_agree_with_numerical_gradients(case, seed):
    g, x, Wf, b = case
    params = {"W": Wf * 0.1, "b": b * 0.1}
    N, C, H, W, FH, FW, s, p = g
    conv = Convolution(params, "W", "b", stride=s, pad=p, input_shape=(C, H, W),
                       filter_size=(FH, FW))
    x = x * 0.1
    weights = Matrix.uniform(*conv.forward(x).shape, low=-1.0, high=1.0, seed=seed)

    def loss():  # a linear loss: the gradient of out is `weights`
        return (conv.forward(x) * weights).sum()

    conv.forward(x)
    dx = conv.backward(weights)
    dW, db = conv.dW, conv.db
    numerical = numerical_gradient_params(loss, params)
    numerical_x = numerical_gradient(lambda v: (conv.forward(v) * weights).sum(), x)
    # a linear loss: central differences are exact up to rounding (~1e-16 / 1e-4)
    assert_allclose(dW, numerical["W"], rel_tol=1e-6, abs_tol=1e-9)
    assert_allclose(db, numerical["b"], rel_tol=1e-6, abs_tol=1e-9)
    assert_allclose(dx, numerical_x, rel_tol=1e-6, abs_tol=1e-9)


def test_convolution_reads_its_parameters_at_each_forward_pass():
    params = {"W": Matrix([[1.0]]), "b": Matrix([[0.0]])}
    conv = Convolution(params, "W", "b", input_shape=(1, 1, 2), filter_size=1)
    x = Matrix([[1.0, 2.0]])
    first = conv.forward(x)
    params["W"] = Matrix([[3.0]])  # what an optimiser does
    assert (first, conv.forward(x), conv.W) == (x, 3 * x, params["W"])


def test_convolution_keeps_the_books_attributes():
    params = {"W1": Matrix.ones(2, 4), "b1": Matrix.zeros(1, 2)}
    conv = Convolution(params, "W1", "b1", input_shape=(1, 3, 3), filter_size=2)
    x = Matrix.ones(1, 9)
    conv.forward(x)
    conv.backward(Matrix.ones(1, 8))
    assert (conv.x, conv.col.shape, conv.col_W.shape, conv.dW.shape, conv.db.shape,
            conv.W, conv.b, conv.stride, conv.pad) == (
        x, (4, 4), (4, 2), (2, 4), (1, 2), params["W1"], params["b1"], 1, 0)
    assert conv.grads == {"W1": conv.dW, "b1": conv.db}


def test_the_books_call_convolution_w_b_is_a_type_error_that_explains_the_design():
    with pytest.raises(TypeError, match="params dict and its keys.*immutable"):
        Convolution(Matrix.ones(1, 4), Matrix.zeros(1, 1), 1, 0)


@pytest.mark.parametrize("kw, error, message", [
    (dict(input_shape=None, filter_size=2), TypeError, "give input_shape=\\(C, H, W\\)"),
    (dict(input_shape=(1, 3, 3), filter_size=None), TypeError, "give filter_size"),
    (dict(input_shape=(1, 3, 3), filter_size=3), ShapeError, "need \\(1, 9\\)"),
    (dict(input_shape=(1, 3, 3), filter_size=2, stride=0), ValueError, "stride"),
    (dict(input_shape=(1, 1, 1), filter_size=2), ShapeError, "does not fit"),
])
def test_convolution_refuses_a_geometry_that_does_not_fit(kw, error, message):
    with pytest.raises(error, match=message):
        Convolution({"W": Matrix.ones(1, 4), "b": Matrix.zeros(1, 1)}, "W", "b", **kw)


@pytest.mark.parametrize("call, error, message", [
    (lambda c: c.forward(Matrix.ones(1, 8)), ShapeError, "images of 9 numbers"),
    (lambda c: c.backward(Matrix.ones(1, 4)), ValueError, "call forward first"),
    (lambda c: (c.forward(Matrix.ones(1, 9)), c.backward(Matrix.ones(1, 3))), ShapeError,
     "dout is \\(1, 3\\)"),
])
def test_convolution_forward_and_backward_check_their_input(call, error, message):
    conv = Convolution({"W": Matrix.ones(1, 4), "b": Matrix.zeros(1, 1)}, "W", "b",
                       input_shape=(1, 3, 3), filter_size=2)
    with pytest.raises(error, match=message):
        call(conv)


# ------------------------------------------------------------------ Pooling

@given(geometries(max_c=3), st.data())
def test_pooling_forward_is_the_max_of_each_window(g, data):
    N, C, H, W, FH, FW, s, p = g
    x = data.draw(matrices((N, C * H * W), kind="int"))
    pool = Pooling(FH, FW, stride=s, pad=p, input_shape=(C, H, W))
    assert pool.forward(x).tolist() == direct_max_pooling(x, g)


@given(geometries(max_c=3), st.data())
def test_pooling_gradients_agree_with_numerical_gradients(g, data):
    N, C, H, W, FH, FW, s, p = g
    # distinct values at least 0.01 apart: no window has a tie within h of its max
    size = N * C * H * W
    values = data.draw(st.permutations(range(size)))
    x = Matrix([[0.01 * (v + 1) for v in values]]).reshape(N, C * H * W)
    pool = Pooling(FH, FW, stride=s, pad=p, input_shape=(C, H, W))
    weights = data.draw(matrices(pool.forward(x).shape, kind="float", min_value=-1,
                                 max_value=1))
    pool.forward(x)
    dx = pool.backward(weights)
    numerical = numerical_gradient(lambda v: (pool.forward(v) * weights).sum(), x)
    assert_allclose(dx, numerical, rel_tol=1e-6, abs_tol=1e-9)


def test_pooling_backward_sends_the_gradient_to_the_first_maximum_of_a_tie():
    pool = Pooling(2, 2, stride=2, input_shape=(1, 2, 2))
    pool.forward(Matrix([[4.0, 4.0, 1.0, 4.0]]))
    assert (pool.arg_max, pool.backward(Matrix([[1.0]]))) == (
        Matrix([[0]]), Matrix([[1.0, 0.0, 0.0, 0.0]]))


def test_pooling_of_a_window_with_nan_is_nan_as_in_numpy():
    pool = Pooling(2, 1, stride=1, input_shape=(1, 3, 1))
    out = pool.forward(Matrix([[1.0, math.nan, 2.0]]))
    assert [v != v for v in out.tolist()[0]] == [True, True]


def test_pooling_pads_with_zeros_as_the_books_im2col():
    pool = Pooling(2, 2, stride=2, pad=1, input_shape=(1, 2, 2))
    assert pool.forward(Matrix([[-1.0, -2.0, -3.0, -4.0]])) == Matrix([[0.0] * 4])


@pytest.mark.parametrize("call, error, message", [
    (lambda: Pooling(2, 2), TypeError, "input_shape"),
    (lambda: Pooling(0, 2, input_shape=(1, 2, 2)), ValueError, "pool_h"),
    (lambda: Pooling(3, 3, input_shape=(1, 2, 2)), ShapeError, "does not fit"),
    (lambda: Pooling(2, 2, input_shape=(1, 2, 2)).backward(Matrix([[1.0]])), ValueError,
     "call forward first"),
    (lambda: Pooling(2, 2, input_shape=(1, 2, 2)).forward(Matrix.ones(1, 5)), ShapeError,
     "images of 4 numbers"),
])
def test_pooling_refuses_what_does_not_fit(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_fractions_stay_exact_through_convolution_and_pooling():
    x = Matrix([[Fraction(1, 3), Fraction(2, 3), Fraction(-1, 2), Fraction(1, 7)]])
    conv = Convolution({"W": Matrix([[Fraction(1, 2)]]), "b": Matrix([[Fraction(1, 5)]])},
                       "W", "b", input_shape=(1, 2, 2), filter_size=1)
    out = Pooling(2, 2, input_shape=(1, 2, 2)).forward(conv.forward(x))
    assert out == Matrix([[Fraction(1, 3) + Fraction(1, 5)]])


def test_the_layers_module_offers_the_chapter_7_layers():
    # the book's common/layers.py has Convolution and Pooling beside Affine
    from purenn import convolution, layers
    assert (layers.Convolution, layers.Pooling) == (convolution.Convolution, convolution.Pooling)


@given(convolutions(kind="float"))
def test_col_is_im2col_of_the_last_input_on_every_interpreter(case):
    # PyPy and MicroPython skip col in forward (Matrix.gather_product) and
    # make it when it is read: the book's attribute holds the same matrix
    g, x, Wf, b = case
    N, C, H, W, FH, FW, s, p = g
    conv = layer_of(g, Wf, b)
    assert conv.col is None
    out = conv.forward(x)
    assert conv.col == im2col(x, (N, C, H, W), FH, FW, s, p)
    assert out == (conv.col @ Wf.T).transpose_blocks(N, add=b)
