"""purenn against the book's own code (``../shared/book/code``, numpy): the oracle.

Each test feeds the same inputs (drawn by hypothesis) to the book's function,
layer, optimiser or network and to purenn's, and compares with a stated
tolerance and the reason for it.  Where both do the same IEEE operations in
the same order the tolerance is zero: equal to the last bit.  Elsewhere:

- ``EXP``: numpy's vectorised ``exp``/``log``/``tanh`` may differ from the C
  library's by an ulp or two: relative 1e-14.
- ``DOT``: numpy's matrix product (BLAS) adds in another order than purenn's
  kernels: ``|error| <= k * 2**-53 * sum |a_i b_i|`` per element; with inputs
  bounded by 10 and k <= 6 that is below 1e-11.
- ``SUM``: ``np.sum(axis=0)`` adds rows one after another, CPython 3.12's
  ``sum()`` is compensated: relative 1e-12 on sums that do not cancel.
- the loss of ``SoftmaxWithLoss``: the book takes ``-log(y + 1e-7)``, purenn
  the exact ``-log(y)`` (log-sum-exp); the book's loss is purenn's minus
  ``mean(log(1 + 1e-7 / y_t))``, checked to 1e-12.

They skip where numpy or the book's folder is absent, with the reason; the
``numpy-oracle`` row of ``ci/runtimes.py`` runs them with
``PURENN_REQUIRE_ORACLE=1``, where a skip is a failure.
"""
import math

import pytest
from hypothesis import example, given, settings, strategies as st

from book_oracle import (array_of, assert_matches, book_file, book_module, book_rand, matrix_of,
                         require_numpy)
from purenn import activations, gradients, layers, losses, optimizers, rng
from purenn.matrix import Matrix
from purenn.multilayer import MultiLayerNet, TwoLayerNet
from purenn.testing import matrices, shapes

np = require_numpy()
functions = book_module("common.functions")
book_layers = book_module("common.layers")
book_gradient = book_module("common.gradient")
book_optimizer = book_module("common.optimizer")
book_multi = book_module("common.multi_layer_net")
book_extend = book_module("common.multi_layer_net_extend")
book_ch04 = book_file("ch04/two_layer_net.py", "book_ch04_two_layer_net")
book_ch05 = book_file("ch05/two_layer_net.py", "book_ch05_two_layer_net")

EXP = 1e-14
DOT = 1e-11
SUM = 1e-12

def scores(shape=None, bound=10.0):
    """Matrices of moderate numbers (the book's code overflows beyond ~700)."""
    return matrices(shape if shape is not None else shapes(), min_value=-bound, max_value=bound)


@st.composite
def scores_and_labels(draw, min_classes=2):
    n, k = draw(st.integers(1, 5)), draw(st.integers(min_classes, 6))
    x = draw(scores((n, k)))
    t = draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))
    return x, t


def one_hot_array(t, k):
    a = np.zeros((len(t), k))
    a[np.arange(len(t)), t] = 1.0
    return a


# --------------------------------------------------------- common/functions.py

@pytest.mark.ch3
@given(scores())
def test_step_function_and_relu_equal_the_books(x):
    assert_matches(activations.step_function(x), functions.step_function(array_of(x)))
    assert_matches(activations.relu(x), functions.relu(array_of(x)))


@pytest.mark.ch3
@given(scores(bound=700.0))
@example(Matrix([[-700.0, 0.0, 700.0]]))
def test_sigmoid_equals_the_books_to_an_ulp(x):
    assert_matches(activations.sigmoid(x), functions.sigmoid(array_of(x)), rel_tol=EXP)


@pytest.mark.ch3
@given(scores(bound=50.0))
def test_softmax_equals_the_books_row_by_row(x):
    want = functions.softmax(np.array(x.tolist()))      # 2-D: row by row, as purenn
    assert_matches(activations.softmax(x), want, rel_tol=EXP, abs_tol=1e-300)


@pytest.mark.ch3
@given(scores(bound=50.0))
def test_tanh_equals_numpys(x):
    assert_matches(activations.tanh(x), np.tanh(array_of(x)), rel_tol=EXP)


@pytest.mark.ch4
@given(scores_and_labels())
def test_sum_squared_error_of_a_batch_equals_the_books_to_the_bit(case):
    y, t = case
    want = functions.sum_squared_error(np.array(y.tolist()), one_hot_array(t, y.shape[1]))
    assert losses.sum_squared_error(y, t) == want


@pytest.mark.ch4
@given(st.lists(st.floats(-1e6, 1e6), min_size=0, max_size=600))
@example([0.1] * 129)
def test_losses_add_up_in_numpys_order(xs):
    # the pairwise summation behind np.sum, bit for bit (blocks of 8, halves past 128)
    assert losses._sum(xs) == float(np.sum(np.array(xs, dtype=float)))


@pytest.mark.ch4
@given(scores_and_labels().map(lambda c: (activations.softmax(c[0]), c[1])))
def test_cross_entropy_error_equals_the_books(case):
    y, t = case
    want = functions.cross_entropy_error(np.array(y.tolist()), np.array(t))
    assert math.isclose(losses.cross_entropy_error(y, t), want, rel_tol=EXP, abs_tol=1e-15)
    onehot = one_hot_array(t, y.shape[1])
    assert math.isclose(losses.cross_entropy_error(y, onehot.tolist()),
                        functions.cross_entropy_error(np.array(y.tolist()), onehot),
                        rel_tol=EXP, abs_tol=1e-15)


@pytest.mark.ch4
def test_the_books_sum_squared_error_example_section_4_2_1():
    y = [0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0]
    t = [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
    assert losses.sum_squared_error(y, t) == functions.sum_squared_error(np.array(y), np.array(t))


# ---------------------------------------------------------- common/gradient.py

def _same_function(values):
    # one Python function of the elements, so both sides evaluate f identically
    return sum(v * v * v / 3.0 - 2.0 * v for v in values)


@pytest.mark.ch4
@given(scores())
def test_numerical_gradient_equals_the_books_to_the_bit(x):
    # the same nudges (x +- 1e-4), the same differences, the same f: identical bits
    want = book_gradient.numerical_gradient(lambda a: _same_function(a.ravel().tolist()),
                                            np.array(x.tolist()))
    got = gradients.numerical_gradient(lambda m: _same_function([v for row in m.tolist() for v in row]), x)
    assert_matches(got, want)


# ------------------------------------------------------------ common/layers.py

@pytest.mark.ch5
@given(scores().flatmap(lambda x: st.tuples(st.just(x), scores(x.shape))))
def test_relu_layer_forward_and_backward_equal_the_books(case):
    x, dout = case
    mine, book = layers.Relu(), book_layers.Relu()
    assert_matches(mine.forward(x), book.forward(np.array(x.tolist())))
    assert_matches(mine.backward(dout), book.backward(np.array(dout.tolist())))


@pytest.mark.ch5
@given(scores().flatmap(lambda x: st.tuples(st.just(x), scores(x.shape))))
def test_sigmoid_layer_forward_and_backward_equal_the_books(case):
    x, dout = case
    mine, book = layers.Sigmoid(), book_layers.Sigmoid()
    assert_matches(mine.forward(x), book.forward(np.array(x.tolist())), rel_tol=EXP)
    assert_matches(mine.backward(dout), book.backward(np.array(dout.tolist())),
                   rel_tol=1e-13, abs_tol=1e-300)


@st.composite
def affine_cases(draw):
    n, d, m = draw(st.integers(1, 5)), draw(st.integers(1, 6)), draw(st.integers(1, 5))
    return draw(scores((n, d))), draw(scores((d, m))), draw(scores((1, m))), draw(scores((n, m)))


@pytest.mark.ch5
@given(affine_cases())
def test_affine_layer_forward_and_backward_equal_the_books(case):
    x, W, b, dout = case
    mine = layers.Affine({"W": W, "b": b})
    book = book_layers.Affine(np.array(W.tolist()), array_of(b))
    assert_matches(mine.forward(x), book.forward(np.array(x.tolist())), rel_tol=DOT, abs_tol=DOT)
    dx = mine.backward(dout)
    assert_matches(dx, book.backward(np.array(dout.tolist())), rel_tol=DOT, abs_tol=DOT)
    assert_matches(mine.grads["W"], book.dW, rel_tol=DOT, abs_tol=DOT)
    assert_matches(mine.grads["b"], book.db, rel_tol=SUM, abs_tol=DOT)


@pytest.mark.ch5
@given(scores_and_labels(), st.booleans())
@example((Matrix([[10.0, -10.0]]), [1]), False)
def test_softmax_with_loss_differs_from_the_books_by_its_1e_7_only(case, as_one_hot):
    x, t = case
    k = x.shape[1]
    truth = one_hot_array(t, k) if as_one_hot else np.array(t)
    mine, book = layers.SoftmaxWithLoss(), book_layers.SoftmaxWithLoss()
    loss = mine.forward(x, truth.tolist())
    book_loss = book.forward(np.array(x.tolist()), truth)
    assert math.isclose(book_loss, loss + book_minus_purenn_loss(x, t), rel_tol=1e-12,
                        abs_tol=1e-12 * (1 + loss))
    # y - 1 at the true class cancels: the ulp of a y near 1 (2.2e-16) is all
    # that may differ there
    assert_matches(mine.backward(), book.backward(), rel_tol=EXP, abs_tol=1e-15)


@pytest.mark.ch6
@given(scores(), st.sampled_from([0.0, 0.2, 0.5, 0.9]))
def test_dropout_at_test_time_scales_as_the_books(x, ratio):
    mine, book = layers.Dropout(ratio), book_layers.Dropout(ratio)
    assert_matches(mine.forward(x, train_flg=False),
                   book.forward(np.array(x.tolist()), train_flg=False))


@pytest.mark.ch6
@given(scores().flatmap(lambda x: st.tuples(st.just(x), scores(x.shape))), st.integers(0, 99))
def test_dropout_in_training_equals_the_books_with_the_same_masks(case, seed):
    x, dout = case
    mine, book = layers.Dropout(0.5, seed=rng.Random(seed)), book_layers.Dropout(0.5)
    out = mine.forward(x)
    saved = np.random.rand
    np.random.rand = book_rand(rng.Random(seed))
    try:
        book_out = book.forward(np.array(x.tolist()))
    finally:
        np.random.rand = saved
    assert_matches(out, book_out)
    assert_matches(mine.backward(dout), book.backward(np.array(dout.tolist())))


@st.composite
def batchnorm_cases(draw):
    n, d = draw(st.integers(2, 6)), draw(st.integers(1, 4))
    return (draw(scores((n, d))), draw(scores((1, d), bound=3.0)), draw(scores((1, d), bound=3.0)),
            draw(scores((n, d))), draw(scores((n, d))))


def _scale(a):
    return 1.0 + float(np.max(np.abs(a)))


@pytest.mark.ch6
@given(batchnorm_cases())
@example((Matrix([[0.0], [0.001]]), Matrix([[1.0]]), Matrix([[0.0]]), Matrix([[1.0], [1.0]]),
          Matrix([[0.0], [0.0]])))
def test_batchnorm_train_and_test_mode_equal_the_books(case):
    # sums over the batch differ in their last bits (SUM); after dividing by a
    # small std they are compared relative to the largest value
    x, gamma, beta, dout, x_test = case
    mine = layers.BatchNormalization({"gamma": gamma, "beta": beta})
    book = book_layers.BatchNormalization(array_of(gamma), array_of(beta))
    want = book.forward(np.array(x.tolist()), train_flg=True)
    assert_matches(mine.forward(x, train_flg=True), want, rel_tol=1e-9, abs_tol=1e-9 * _scale(want))
    dx = book.backward(np.array(dout.tolist()))
    assert_matches(mine.backward(dout), dx, rel_tol=1e-9, abs_tol=1e-9 * _scale(dx))
    assert_matches(mine.grads["gamma"], book.dgamma, rel_tol=1e-9, abs_tol=1e-9 * _scale(book.dgamma))
    assert_matches(mine.grads["beta"], book.dbeta, rel_tol=SUM, abs_tol=DOT)
    assert_matches(mine.running_mean, book.running_mean, rel_tol=SUM, abs_tol=1e-12)
    assert_matches(mine.running_var, book.running_var, rel_tol=1e-9, abs_tol=1e-12)
    want = book.forward(np.array(x_test.tolist()), train_flg=False)
    assert_matches(mine.forward(x_test, train_flg=False), want,
                   rel_tol=1e-9, abs_tol=1e-9 * _scale(want))


@pytest.mark.ch6
def test_batchnorm_uses_the_books_epsilon_section_6_3():
    # var = 2.5e-7: the book's 10e-7 (1e-6) gives +-0.4472 where 1e-7 gave +-0.8452
    x = Matrix([[0.0], [0.001]])
    mine = layers.BatchNormalization({"gamma": Matrix([[1.0]]), "beta": Matrix([[0.0]])})
    book = book_layers.BatchNormalization(np.ones(1), np.zeros(1))
    assert_matches(mine.forward(x), book.forward(np.array(x.tolist())), rel_tol=1e-12)


# -------------------------------------------------------- common/optimizer.py

OPTIMIZER_NAMES = ["SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam"]


@st.composite
def gradient_runs(draw, steps=20):
    """Two parameters of drawn shapes and ``steps`` gradients for each."""
    shape_w, shape_b = draw(shapes(4, 4)), (1, draw(st.integers(1, 4)))
    params = {"W": draw(scores(shape_w, 2.0)), "b": draw(scores(shape_b, 2.0))}
    grads = [{"W": draw(scores(shape_w, 5.0)), "b": draw(scores(shape_b, 5.0))}
             for _ in range(steps)]
    return params, grads


@pytest.mark.ch6
@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
@settings(max_examples=20, deadline=None)
@given(run=gradient_runs())
def test_twenty_optimizer_steps_equal_the_books_to_the_bit(name, run):
    # elementwise IEEE operations in the book's order, sqrt correctly rounded
    # on both sides: not one bit may differ, at any of the 20 steps
    params, grads = run
    mine, book = getattr(optimizers, name)(), getattr(book_optimizer, name)()
    book_params = {k: np.array(v.tolist()) for k, v in params.items()}
    params = dict(params)
    for step, g in enumerate(grads, 1):
        mine.update(params, g)
        book.update(book_params, {k: np.array(v.tolist()) for k, v in g.items()})
        for key in params:
            assert params[key].tolist() == book_params[key].tolist(), (name, step, key)


@pytest.mark.ch6
@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_nesterov_and_the_others_take_the_books_first_step(name):
    # W = 1, g = 1: the book's Nesterov gives 0.81 (purenn once gave 0.729)
    params, book_params = {"W": Matrix([[1.0]])}, {"W": np.ones((1, 1))}
    kw = {} if name == "Adam" else {"lr": 0.1}
    getattr(optimizers, name)(**kw).update(params, {"W": Matrix([[1.0]])})
    getattr(book_optimizer, name)(**kw).update(book_params, {"W": np.ones((1, 1))})
    assert params["W"].tolist() == book_params["W"].tolist()


# ------------------------------------------------------------------- networks

def _book_weights(net_params):
    """The book's own initial weights (np.random, seeded), for purenn."""
    return {k: matrix_of(v) for k, v in net_params.items()}


@st.composite
def small_batches(draw, classes=None):
    d = draw(st.integers(2, 6))
    k = classes or draw(st.integers(2, 4))
    n = draw(st.integers(1, 4))
    x = draw(matrices((n, d), min_value=0.0, max_value=1.0))
    t = draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))
    return x, t, k, draw(st.integers(0, 2 ** 31 - 1))


def _compare_grads(mine, book, keys, rel_tol=1e-9):
    for key in keys:
        want = book[key]
        assert_matches(mine[key], want, rel_tol=rel_tol, abs_tol=rel_tol * _scale(want))


def _twins(case, book_class, make, hidden):
    """The book's network (of ``book_class``, weights from ``np.random`` seeded
    by the case) and purenn's (``make(inputs, hidden, classes)``) with the same
    weights; and the batch, as Matrix and list and as arrays."""
    x, t, k, seed = case
    np.random.seed(seed)
    book = book_class(input_size=x.shape[1], hidden_size=hidden, output_size=k,
                      weight_init_std=1.0)
    net = make(x.shape[1], hidden, k)
    net.params.update(_book_weights(book.params))
    return book, net, x, t, np.array(x.tolist()), one_hot_array(t, k)


def _sigmoid_net(n_in, hidden, k):
    return MultiLayerNet(n_in, [hidden], k, activation="sigmoid")


TWO_LAYER_NETS = [
    # ch05's TwoLayerNet: Affine, Relu, Affine, SoftmaxWithLoss; predict gives scores
    pytest.param(lambda: book_ch05.TwoLayerNet, TwoLayerNet, lambda y: y, marks=pytest.mark.ch5,
                 id="ch05"),
    # ch04's: sigmoid, softmax and the gradient written out by hand ((y - t) / N
    # backwards); predict gives probabilities.  purenn's MultiLayerNet with a
    # sigmoid computes the same scores and gradients
    pytest.param(lambda: book_ch04.TwoLayerNet, _sigmoid_net, activations.softmax,
                 marks=pytest.mark.ch4, id="ch04"),
]


@pytest.mark.parametrize("book_class, make, output", TWO_LAYER_NETS)
@settings(max_examples=25, deadline=None)
@given(case=small_batches())
def test_the_books_two_layer_nets_equal_purenns(book_class, make, output, case):
    book, net, x, t, xa, ta = _twins(case, book_class(), make, 5)
    assert_matches(output(net.predict(x)), book.predict(xa), rel_tol=DOT, abs_tol=DOT)
    assert net.accuracy(x, t) == book.accuracy(xa, ta)
    _compare_grads(net.gradient(x, t), book.gradient(xa, ta), ["W1", "b1", "W2", "b2"])


@pytest.mark.ch4
@settings(max_examples=10, deadline=None)
@given(small_batches())
def test_numerical_gradient_of_a_network_agrees_with_the_books_backprop(case):
    # purenn's numerical gradient of its exact loss against the gradient the
    # book's ch04 TwoLayerNet writes out by hand, on the same weights (sigmoid:
    # smooth, no ReLU kink).  Central differences with h = 1e-4 are off by
    # O(h**2) ~ 1e-8; the book's own numerical gradient would differ more, by
    # the slope of the 1e-7 in its loss
    book, net, x, t, xa, ta = _twins(case, book_ch04.TwoLayerNet, _sigmoid_net, 4)
    want = book.gradient(xa, ta)
    got = net.numerical_gradient(x, t)
    for key in want:
        assert_matches(got[key], want[key], rel_tol=1e-5, abs_tol=1e-7)


def book_minus_purenn_loss(score_matrix, t):
    """What the book's ``-log(y + 1e-7)`` adds to purenn's exact ``-log(y)``,
    per row of scores: ``-(log(y_t + 1e-7) - log(y_t))``, the batch mean; with
    ``log(y_t)`` from the scores (no underflow even where y_t is 0.0)."""
    total = 0.0
    for row, label in zip(score_matrix.tolist(), t):
        c = max(row)
        log_y = row[label] - c - math.log(sum(math.exp(v - c) for v in row))
        total -= math.log(math.exp(log_y) + 1e-7) - log_y
    return total / len(t)


NETWORK_CONFIGS = [
    ("relu", 0.0, False, False), ("sigmoid", 0.0, False, False), ("relu", 0.1, False, False),
    ("relu", 0.0, True, False), ("sigmoid", 0.05, True, False), ("relu", 0.0, False, True),
    ("relu", 0.1, True, True),
]


@pytest.mark.ch6
@pytest.mark.parametrize("activation,decay,batchnorm,dropout", NETWORK_CONFIGS)
@settings(max_examples=15, deadline=None)
@given(case=small_batches())
def test_multi_layer_net_equals_the_books_extend(activation, decay, batchnorm, dropout, case):
    # MultiLayerNetExtend (and MultiLayerNet without batchnorm and dropout),
    # with the book's initial weights and, for dropout, purenn's masks
    x, t, k, seed = case
    np.random.seed(seed)
    sizes = [4, 3]
    if batchnorm or dropout:
        book = book_extend.MultiLayerNetExtend(x.shape[1], sizes, k, activation=activation,
                                               weight_init_std=activation,
                                               weight_decay_lambda=decay, use_dropout=dropout,
                                               dropout_ration=0.5, use_batchnorm=batchnorm)
    else:
        book = book_multi.MultiLayerNet(x.shape[1], sizes, k, activation=activation,
                                        weight_init_std=activation, weight_decay_lambda=decay)
    net = MultiLayerNet(x.shape[1], sizes, k, activation=activation, weight_decay_lambda=decay,
                        use_dropout=dropout, dropout_ratio=0.5, use_batchnorm=batchnorm,
                        seed=seed % 1000)
    net.params.update(_book_weights(book.params))
    xa, ta = np.array(x.tolist()), one_hot_array(t, k)
    saved = np.random.rand
    np.random.rand = book_rand(rng.Random(seed % 1000 + 1))     # purenn's dropout stream
    try:
        want = book.gradient(xa, ta)
    finally:
        np.random.rand = saved
    got = net.gradient(x, t)
    _compare_grads(got, want, sorted(want), rel_tol=1e-8)
    kwargs = {"train_flg": False} if (batchnorm or dropout) else {}
    want_loss = book.loss(xa, ta, **kwargs)
    loss = net.loss(x, t)
    assert math.isclose(want_loss, loss + book_minus_purenn_loss(net.predict(x), t),
                        rel_tol=1e-9, abs_tol=1e-9 * (1 + abs(loss)))
    assert net.accuracy(x, t) == book.accuracy(xa, ta)


@pytest.mark.slow
@pytest.mark.ch5
def test_the_books_gradient_check_numbers_section_5_7_3():
    # ch05/gradient_check.py: TwoLayerNet(784, 50, 10), the first 3 training
    # images; the book prints the mean |backprop - numerical| per parameter:
    # here 1e-9 for W and b1, 1.4e-7 for b2 (the slope of the 1e-7 in the
    # book's loss, which its numerical gradient sees and backprop does not).
    # purenn's backprop, measured against the book's numerical gradient, must
    # give the same numbers, and equal the book's backprop
    from purenn.datasets import load_mnist
    x, t = load_mnist(kind="test")
    x, t = x[0:3], t[:3]
    np.random.seed(0)
    book = book_ch05.TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
    net = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
    net.params.update(_book_weights(book.params))
    xa, ta = np.array(x.tolist()), one_hot_array(t, 10)
    numerical = book.numerical_gradient(xa, ta)
    book_backprop = book.gradient(xa, ta)
    mine = net.gradient(x, t)
    for key in ("W1", "b1", "W2", "b2"):
        book_diff = np.average(np.abs(book_backprop[key] - numerical[key]))
        my_diff = np.average(np.abs(array_of(mine[key]) - numerical[key]))
        assert book_diff < 1e-6 and my_diff < 1e-6, (key, book_diff, my_diff)
        assert math.isclose(my_diff, book_diff, rel_tol=1e-3, abs_tol=1e-15), (key, my_diff,
                                                                              book_diff)
        assert_matches(mine[key], book_backprop[key], rel_tol=1e-10, abs_tol=1e-16)
