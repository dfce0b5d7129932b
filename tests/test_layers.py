"""Layers (chapter 5; Dropout and BatchNormalization from 6.3-6.4): the book's
numbers, the book's names, what each layer remembers, and the errors.

That every backward is the derivative of its forward is one law over every
layer: ``tests/test_layer_laws.py``.
"""
import math

import pytest
from hypothesis import example, given, settings, strategies as st

from purenn import ShapeError
from purenn.activations import softmax
from purenn.layers import (MulLayer, AddLayer, Relu, Sigmoid, Tanh, Affine, SoftmaxWithLoss,
                           Dropout, BatchNormalization)
from purenn.losses import cross_entropy_error
from purenn.matrix import Matrix
from purenn.testing import assert_allclose, matrices

pytestmark = pytest.mark.ch5

HUGE = 10 ** 400   # an int too large for any float


# ------------------------------------------------------- the book's values (5.4)

def test_buying_apples_gives_the_books_prices_and_derivatives_section_5_4_1():
    mul_apple, mul_tax = MulLayer(), MulLayer()
    price = mul_tax.forward(mul_apple.forward(100, 2), 1.1)
    dapple_price, dtax = mul_tax.backward(1)
    dapple, dapple_num = mul_apple.backward(dapple_price)
    assert_allclose([[price, dapple, dapple_num, dtax]], [[220, 2.2, 110, 200]])


def test_buying_apples_and_oranges_gives_the_books_numbers_section_5_4_2():
    mul_apple, mul_orange, add, mul_tax = MulLayer(), MulLayer(), AddLayer(), MulLayer()
    price = mul_tax.forward(add.forward(mul_apple.forward(100, 2),
                                        mul_orange.forward(150, 3)), 1.1)
    dall, dtax = mul_tax.backward(1)
    dapple_price, dorange_price = add.backward(dall)
    dorange, dorange_num = mul_orange.backward(dorange_price)
    dapple, dapple_num = mul_apple.backward(dapple_price)
    assert_allclose([[price, dapple, dapple_num, dorange, dorange_num, dtax]],
                    [[715, 2.2, 110, 3.3, 165, 650]])


# -------------------------------------------------- activation layers (5.5)

def test_relu_mask_is_the_books_true_where_x_is_at_most_0():
    layer = Relu()
    layer.forward(Matrix([[1.0, -0.5, 0.0]]))
    assert layer.mask == Matrix([[False, True, True]])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.one_of(st.floats(-5, 5), st.just(float("nan"))), min_size=1, max_size=4))
@example([float("nan"), 2.0])   # a ReLU that turned NaN into 0 hid broken inputs
def test_relu_keeps_nan_as_numpys_maximum_does(xs):
    out = Relu().forward(Matrix([xs])).tolist()[0]
    for v, y in zip(xs, out):
        assert (y != y) if v != v else y == max(v, 0.0)


@pytest.mark.parametrize("layer, saturated", [(Sigmoid(), [[1.0, 0.0]]), (Tanh(), [[1.0, -1.0]])],
                         ids=["Sigmoid", "Tanh"])
def test_sigmoid_and_tanh_layers_saturate_on_huge_inputs_as_the_functions(layer, saturated):
    # the saturation of purenn.activations reaches the layers, which call them
    assert layer.forward(Matrix([[HUGE, -HUGE]])) == Matrix(saturated)


@pytest.mark.parametrize("layer", [Sigmoid(), Tanh()], ids=["Sigmoid", "Tanh"])
def test_sigmoid_and_tanh_remember_their_output_as_out(layer):
    y = layer.forward(Matrix([[0.5, -1.0]]))
    assert layer.out is y


# ----------------------------------------------------------------- Affine (5.6)

def _affine():
    return Affine({"W": Matrix([[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]]), "b": Matrix([0.1, -0.1])})


def test_affine_gradients_are_x_T_dout_and_the_column_sums_of_dout():
    layer = _affine()
    x = Matrix([[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]])
    dout = Matrix([[1.0, -1.0], [2.0, 0.5]])
    layer.forward(x)
    dx = layer.backward(dout)
    assert_allclose(layer.dW, x.T @ dout)
    assert_allclose(layer.db, [[3.0, -0.5]])
    assert_allclose(dx, dout @ layer.W.T)


def test_affine_w_and_b_are_the_current_entries_of_params():
    params = {"W": Matrix([[1.0]]), "b": Matrix([0.0])}
    layer = Affine(params)
    assert layer.forward(Matrix([[2.0]])) == Matrix([[2.0]])
    params["W"] = Matrix([[3.0]])          # what an optimiser does
    assert layer.W is params["W"] and layer.forward(Matrix([[2.0]])) == Matrix([[6.0]])


def test_affine_dw_and_db_are_its_grads():
    layer = _affine()
    layer.forward(Matrix([[1.0, 2.0, 3.0]]))
    layer.backward(Matrix([[1.0, 1.0]]))
    assert layer.dW is layer.grads["W"] and layer.db is layer.grads["b"]


def test_affine_backward_of_the_first_layer_skips_dx():
    layer = _affine()
    layer.forward(Matrix([[1.0, 2.0, 3.0]]))
    assert layer.backward(Matrix([[1.0, 1.0]]), need_dx=False) is None
    assert layer.dW is not None


@pytest.mark.parametrize("make, text", [
    (lambda: Affine(Matrix([[1.0]]), Matrix([[0.0]])),
     "Affine(W, b): purenn layers read their parameters from a dict, Affine(params, 'W1', 'b1'),"
     " because a Matrix is immutable and an optimiser rebinds params['W1'] to a new one"),
    (lambda: BatchNormalization(Matrix([[1.0]]), Matrix([[0.0]])),
     "BatchNormalization(gamma, beta): purenn layers read their parameters from a dict, "
     "BatchNormalization(params, 'gamma1', 'beta1')"),
], ids=["Affine", "BatchNormalization"])
def test_the_books_call_with_arrays_explains_the_params_dict(make, text):
    with pytest.raises(TypeError) as info:
        make()
    assert str(info.value).startswith(text)


@st.composite
def bits_of_zero(draw):
    # dW = x.T @ dout: a pixel that is 0 in every image of the batch makes an
    # all-zero row of x.T, which the kernels short-cut (they must still give 0.0)
    n, d, m = draw(st.integers(1, 4)), draw(st.integers(1, 6)), draw(st.integers(1, 4))
    x = draw(matrices((n, d), elements=st.sampled_from([0.0, 0.0, 0.25, 1.0])))
    x = Matrix([[0.0] + row for row in x.tolist()])          # column 0: always zero
    return x, draw(matrices((n, m), min_value=-5, max_value=5))


@settings(max_examples=40, deadline=None)
@given(bits_of_zero())
@example((Matrix([[0.0, 1.0, 0.0], [0.0, 0.5, 0.0]]), Matrix([[-1.0, 2.0], [3.0, -4.0]])))
def test_dw_of_an_all_zero_input_column_is_a_row_of_float_zeros(case):
    from purenn.kernels import matmul_naive
    x, dout = case
    dW = x.T @ dout
    assert_allclose(dW, matmul_naive(x.T.tolist(), dout.tolist()))
    assert [str(v) for v in dW.tolist()[0]] == ["0.0"] * dout.shape[1]


# ------------------------------------------------------ SoftmaxWithLoss (5.6.3)

def test_softmax_with_loss_is_the_cross_entropy_of_the_softmax():
    x = Matrix([[0.3, 2.9, 4.0], [1.0, -1.0, 0.0]])
    loss = SoftmaxWithLoss().forward(x, [2, 0])
    assert math.isclose(loss, cross_entropy_error(softmax(x), [2, 0]), rel_tol=1e-6)


def test_softmax_with_loss_takes_labels_or_one_hot_rows_alike():
    x = Matrix([[0.3, 2.9, 4.0], [1.0, -1.0, 0.0]])
    assert SoftmaxWithLoss().forward(x, [2, 0]) == SoftmaxWithLoss().forward(
        x, Matrix([[0, 0, 1], [1, 0, 0]]))


@pytest.mark.parametrize("label, loss", [(1, 1000.0), (0, 0.0)])
def test_softmax_with_loss_never_overflows(label, loss):
    assert math.isclose(SoftmaxWithLoss().forward(Matrix([[1000.0, 0.0]]), [label]), loss)


def test_softmax_with_loss_remembers_y_t_and_loss_as_the_book():
    layer = SoftmaxWithLoss()
    loss = layer.forward(Matrix([[0.0, 0.0]]), [1])
    assert (layer.y, layer.t, layer.loss) == (Matrix([[0.5, 0.5]]), Matrix([[0, 1]]), loss)


def test_softmax_with_loss_backward_honours_dout():
    # the book's backward ignores dout (always called with 1); the chain rule does not
    layer = SoftmaxWithLoss()
    layer.forward(Matrix([[0.0, 0.0]]), [1])
    assert layer.backward(2.0) == Matrix([[1.0, -1.0]]) == 2 * layer.backward()


@settings(max_examples=50, deadline=None)
@given(matrices(st.tuples(st.integers(1, 4), st.integers(2, 5)), min_value=-50, max_value=50),
       st.data())
@example(Matrix([[1000.0, -1000.0]]), None)
def test_softmax_with_loss_is_positive_and_its_gradient_rows_sum_to_zero(x, data):
    labels = [1] * x.shape[0] if data is None else data.draw(
        st.lists(st.integers(0, x.shape[1] - 1), min_size=x.shape[0], max_size=x.shape[0]))
    layer = SoftmaxWithLoss()
    assert layer.forward(x, labels) >= 0
    assert_allclose(layer.backward().sum(axis=1), Matrix.zeros(x.shape[0], 1), abs_tol=1e-12)


@pytest.mark.parametrize("t", [[[1, 1]], [[0.3, 0.7]]], ids=["two-ones", "soft"])
def test_softmax_with_loss_refuses_rows_that_are_not_one_hot(t):
    with pytest.raises(ValueError, match="SoftmaxWithLoss.forward: t row 0 is .*, not one-hot"):
        SoftmaxWithLoss().forward(Matrix([[0.0, 0.0]]), t)


# ------------------------------------------------------------------ Dropout (6.4.3)

@pytest.mark.ch6
def test_dropout_with_the_same_seed_drops_the_same_neurons():
    x = Matrix.ones(4, 50)
    assert Dropout(0.5, seed=7).forward(x) == Dropout(0.5, seed=7).forward(x)


@pytest.mark.ch6
def test_dropout_drops_about_its_ratio():
    out = Dropout(dropout_ratio=0.5, seed=7).forward(Matrix.ones(4, 50))
    dropped = (out < 0.5).sum()               # each output is 0.0 (dropped) or 1.0
    assert 50 < dropped < 150                 # about half of 200


@pytest.mark.ch6
def test_dropout_backward_lets_through_what_forward_kept():
    layer = Dropout(0.5, seed=7)
    out = layer.forward(Matrix.ones(4, 50))
    assert layer.backward(Matrix.full(4, 50, value=2.0)) == out * 2.0


@pytest.mark.ch6
def test_dropout_at_test_time_scales_by_the_share_kept():
    assert Dropout(0.2).forward(Matrix([[1.0, 2.0]]), train_flg=False) == Matrix([[0.8, 1.6]])


@pytest.mark.parametrize("ratio", [1.0, 1.5, -0.1])
@pytest.mark.ch6
def test_dropout_ratio_must_be_in_0_1(ratio):
    with pytest.raises(ValueError, match="dropout_ratio must be in"):
        Dropout(dropout_ratio=ratio)


# ------------------------------------------------------ BatchNormalization (6.3)

def _bn(gamma=(1.5, 0.5, 1.0), beta=(0.1, -0.2, 0.0)):
    return BatchNormalization({"gamma": Matrix(list(gamma)), "beta": Matrix(list(beta))})


BN_X = Matrix([[1.0, 10.0, -3.0], [2.0, 30.0, 0.0], [4.0, 20.0, 1.0], [0.0, 0.0, 2.0]])


@pytest.mark.ch6
def test_batchnorm_gives_each_column_mean_beta():
    out = _bn().forward(BN_X)
    assert_allclose(out.mean(axis=0), [[0.1, -0.2, 0.0]], abs_tol=1e-12)


@pytest.mark.ch6
def test_batchnorm_gives_each_column_the_variance_gamma_squared_up_to_epsilon():
    bn = _bn(beta=(0.0, 0.0, 0.0))
    out = bn.forward(BN_X)
    var = (out ** 2).mean(axis=0)
    assert_allclose(var, [[2.25, 0.25, 1.0]], rel_tol=1e-5)


@pytest.mark.ch6
def test_batchnorm_epsilon_is_the_books_10e_7():
    assert BatchNormalization.EPS == 1e-6


@pytest.mark.ch6
def test_batchnorm_remembers_the_books_xc_xn_std_and_batch_size():
    bn = _bn()
    bn.forward(BN_X)
    assert bn.batch_size == 4 and bn.xc.shape == bn.xn.shape == (4, 3) and bn.std.shape == (1, 3)


@pytest.mark.ch6
def test_batchnorm_running_averages_move_by_one_minus_momentum():
    bn = _bn()
    bn.forward(BN_X)
    assert_allclose(bn.running_mean, 0.1 * BN_X.mean(axis=0))


@pytest.mark.ch6
def test_batchnorm_at_test_time_uses_the_running_averages():
    bn = BatchNormalization({"gamma": Matrix([1.0]), "beta": Matrix([0.0])},
                            running_mean=Matrix([2.0]), running_var=Matrix([4.0]))
    assert_allclose(bn.forward(Matrix([[6.0]]), train_flg=False), [[4.0 / math.sqrt(4.000001)]])


@pytest.mark.ch6
def test_batchnorm_dgamma_and_dbeta_are_its_grads():
    bn = _bn()
    bn.forward(BN_X)
    bn.backward(Matrix.ones(4, 3))
    assert bn.dgamma is bn.grads["gamma"] and bn.dbeta is bn.grads["beta"]


# ---------------------------------------------------------------------- errors

@pytest.mark.parametrize("call, error, text", [
    (lambda: _affine().forward(Matrix([[1.0, 2.0]])), ShapeError,
     r"Affine.forward: x \(1, 2\) @ W \(3, 2\): columns of x \(2\) must equal rows of W \(3\)"),
    (lambda: Affine({"W": Matrix([[1.0, 2.0]]), "b": Matrix([0.0, 0.0, 0.0])}), ShapeError,
     r"Affine: W \(1, 2\) and b \(1, 3\): the bias must be one row"),
    (lambda: _bn().forward(Matrix([[1.0, 2.0]])), ShapeError,
     r"BatchNormalization.forward: x \(1, 2\) and gamma \(1, 3\)"),
], ids=["affine-x", "affine-b", "batchnorm-x"])
def test_shape_errors_name_the_layer_and_both_shapes(call, error, text):
    with pytest.raises(error, match=text):
        call()


def test_backward_with_a_dout_of_another_shape_is_a_shape_error():
    relu = Relu()
    relu.forward(Matrix([[1.0, 2.0]]))
    with pytest.raises(ShapeError, match=r"Relu.backward: dout \(2, 2\) for a forward output "
                                         r"\(1, 2\): shapes must be equal"):
        relu.backward(Matrix([[1.0, 2.0], [3.0, 4.0]]))


@pytest.mark.parametrize("layer", [Relu(), Sigmoid(), Tanh(), Dropout(0.5), SoftmaxWithLoss(),
                                   Affine({"W": Matrix([[1.0]]), "b": Matrix([0.0])}),
                                   BatchNormalization({"gamma": Matrix([1.0]),
                                                       "beta": Matrix([0.0])})],
                         ids=lambda layer: type(layer).__name__)
def test_backward_before_forward_is_a_clear_error(layer):
    with pytest.raises(ValueError, match="call forward"):
        layer.backward(Matrix([[1.0]]))


def test_softmax_with_loss_backward_divides_by_the_batch_size_as_the_book_and_takes_dout_zero():
    # the book: dx = (self.y - self.t) / batch_size, to the bit; dout = 0 gave a
    # ZeroDivisionError once the line became (y - t) / (batch_size / dout)
    layer = SoftmaxWithLoss()
    layer.forward(Matrix([[0.3, -1.2, 2.0], [0.1, 0.1, 0.1], [5.0, 0.0, -5.0]]), [2, 0, 1])
    y, t = layer.y.tolist(), layer.t.tolist()
    assert layer.backward().tolist() == [[(a - b) / 3 for a, b in zip(r, s)] for r, s in zip(y, t)]
    assert layer.backward(0.0).tolist() == [[0.0] * 3] * 3
