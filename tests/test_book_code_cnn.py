"""Chapters 7-8 against the book's own code (``../shared/book/code``, numpy): the oracle.

The same inputs (drawn by hypothesis) go to the book's ``im2col``, ``col2im``,
``Convolution``, ``Pooling``, ``SimpleConvNet`` and ``DeepConvNet`` and to
purenn's; a 4-D array of the book is the Matrix (N, C*H*W) of its rows
(``purenn.convolution``).  Tolerances, and why:

- im2col, max pooling, pooling's backward without overlaps: copies and
  comparisons only, so equal to the last bit.
- ``SUM``: col2im adds in the book's order (filter position by filter
  position); CPython 3.12's ``sum()`` is compensated: relative 1e-12.
- ``DOT``: numpy's products (BLAS) add in another order than purenn's
  kernels, ``|error| <= k * 2**-53 * sum |a_i b_i|``; with inputs bounded by
  5 and k <= 50 terms, below 1e-11 absolute.
- the networks: the same, through a few layers: relative 1e-9 (scores and
  gradients of unit scale); the book's loss takes ``-log(y + 1e-7)``, purenn
  the exact ``-log(y)``: the book's is purenn's minus ``mean(log(1 + 1e-7 / y_t))``,
  checked to 1e-12.

They skip where numpy or the book's folder is absent, with the reason; the
``numpy-oracle`` row of ``ci/runtimes.py`` runs them with
``PURENN_REQUIRE_ORACLE=1``, where a skip is a failure.
"""
import os

import pytest
from hypothesis import given, settings, strategies as st

book_oracle = pytest.importorskip(
    "book_oracle", reason="tests/book_oracle.py (the shared oracle helpers) is not here")
from book_oracle import (assert_matches, book_file, book_module, book_rand,  # noqa: E402
                         matrix_of, require_numpy)
from purenn.convnet import DeepConvNet, SimpleConvNet, load_network  # noqa: E402
from purenn.convolution import Convolution, Pooling, col2im, im2col  # noqa: E402
from purenn.matrix import Matrix  # noqa: E402
from purenn.rng import Random  # noqa: E402

np = require_numpy()
util = book_module("common.util")
book_layers = book_module("common.layers")
book_simple = book_file("ch07/simple_convnet.py", "book_ch07_simple_convnet")
book_deep = book_file("ch08/deep_convnet.py", "book_ch08_deep_convnet")

SUM = 1e-12
DOT = 1e-11
NET = 1e-9
BOOK = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..",
                    "shared", "book")

pytestmark = [pytest.mark.ch7]


def rows_of(a):
    """A 4-D (or 2-D) array as purenn holds it: one row per image, C*H*W numbers."""
    return matrix_of(a.reshape(a.shape[0], -1))


@st.composite
def geometries(draw, max_n=2, max_c=2, max_side=6, pad=True):
    n, c = draw(st.integers(1, max_n)), draw(st.integers(1, max_c))
    h, w = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    p = draw(st.integers(0, 2)) if pad else 0
    fh, fw = draw(st.integers(1, h + 2 * p)), draw(st.integers(1, w + 2 * p))
    s = draw(st.integers(1, 3))
    return n, c, h, w, fh, fw, s, p


def arrays(shape, seed):
    """Numbers in [-5, 5) from purenn's generator (hypothesis draws the seed)."""
    count = 1
    for d in shape:
        count *= d
    values = Matrix.uniform(1, count, low=-5.0, high=5.0, seed=seed).tolist()[0]
    return np.array(values).reshape(shape)


seeds = st.integers(0, 2 ** 32)


# ------------------------------------------------------------ im2col, col2im

@given(geometries(), seeds)
def test_im2col_is_the_books_to_the_last_bit(g, seed):
    N, C, H, W, FH, FW, s, p = g
    x = arrays((N, C, H, W), seed)
    assert_matches(im2col(rows_of(x), (N, C, H, W), FH, FW, s, p), util.im2col(x, FH, FW, s, p))


@given(geometries(), seeds)
def test_col2im_is_the_books(g, seed):
    N, C, H, W, FH, FW, s, p = g
    OH, OW = (H + 2 * p - FH) // s + 1, (W + 2 * p - FW) // s + 1
    col = arrays((N * OH * OW, C * FH * FW), seed)
    want = util.col2im(col, (N, C, H, W), FH, FW, s, p)
    assert_matches(col2im(matrix_of(col), (N, C, H, W), FH, FW, s, p), want.reshape(N, -1),
                   rel_tol=SUM, abs_tol=SUM)


# --------------------------------------------------------------- Convolution

@given(geometries(), st.integers(1, 3), seeds)
def test_convolution_forward_and_backward_are_the_books(g, fn, seed):
    N, C, H, W, FH, FW, s, p = g
    x, Wb, b = arrays((N, C, H, W), seed), arrays((fn, C, FH, FW), seed + 1), arrays((fn,), seed + 2)
    book = book_layers.Convolution(Wb, b, s, p)
    out = book.forward(x)
    params = {"W1": rows_of(Wb), "b1": matrix_of(b)}
    conv = Convolution(params, "W1", "b1", s, p, input_shape=(C, H, W), filter_size=(FH, FW))
    assert_matches(conv.forward(rows_of(x)), out.reshape(N, -1), rel_tol=DOT, abs_tol=DOT)
    dout = arrays(out.shape, seed + 3)
    dx = book.backward(dout.copy())
    assert_matches(conv.backward(rows_of(dout)), dx.reshape(N, -1), rel_tol=DOT, abs_tol=DOT)
    assert_matches(conv.dW, book.dW.reshape(fn, -1), rel_tol=DOT, abs_tol=DOT)
    assert_matches(conv.db, book.db, rel_tol=DOT, abs_tol=DOT)
    assert_matches(conv.col, book.col)
    assert_matches(conv.col_W, book.col_W)


# ------------------------------------------------------------------ Pooling

def both_poolings(g, seed):
    """The book's Pooling after a forward pass on x, purenn's (not run yet), x, the output."""
    N, C, H, W, FH, FW, s, p = g
    x = arrays((N, C, H, W), seed)
    book = book_layers.Pooling(FH, FW, s, p)
    return book, Pooling(FH, FW, s, p, input_shape=(C, H, W)), x, book.forward(x)


@given(geometries(max_c=3, pad=False), seeds)
def test_pooling_forward_and_its_arg_max_are_the_books_to_the_last_bit(g, seed):
    # the book's Pooling sizes its output without the padding: pad 0, as the book uses it
    N, C, H, W, FH, FW, s, p = g
    book, pool, x, out = both_poolings(g, seed)
    assert_matches(pool.forward(rows_of(x)), out.reshape(N, -1))
    # the book's arg_max runs (image, oy, ox, channel); purenn's is channels first
    OH, OW = out.shape[2], out.shape[3]
    book_arg = book.arg_max.reshape(N, OH, OW, C).transpose(0, 3, 1, 2).reshape(N, -1)
    assert pool.arg_max.tolist() == book_arg.tolist()


@given(geometries(max_c=3, pad=False), seeds)
def test_pooling_backward_is_the_books(g, seed):
    N, C, H, W, FH, FW, s, p = g
    book, pool, x, out = both_poolings(g, seed)
    pool.forward(rows_of(x))
    dout = arrays(out.shape, seed + 1)
    want = book.backward(dout.copy())
    assert_matches(pool.backward(rows_of(dout)), want.reshape(N, -1), rel_tol=SUM, abs_tol=SUM)


# --------------------------------------------------------------- the networks

def same_params(purenn_net, book_net):
    """Give the book's network purenn's initial weights (4-D where the book has them)."""
    for key, value in purenn_net.params.items():
        shape = book_net.params[key].shape
        book_net.params[key] = np.array(value.tolist()).reshape(shape)
    layers = (book_net.layers.values() if isinstance(book_net.layers, dict)
              else book_net.layers)
    params = [layer for layer in layers if hasattr(layer, "W")]
    for i, layer in enumerate(params, 1):
        layer.W, layer.b = book_net.params["W%d" % i], book_net.params["b%d" % i]


SMALL = dict(input_dim=(1, 10, 10), hidden_size=10, output_size=10, weight_init_std=0.3,
             conv_param={"filter_num": 4, "filter_size": 3, "pad": 0, "stride": 1})


@settings(max_examples=15)
@given(st.integers(1, 3), seeds)
def test_simple_convnet_scores_loss_and_gradients_are_the_books(n, seed):
    net = SimpleConvNet(seed=seed % 1000, **SMALL)
    book = book_simple.SimpleConvNet(**SMALL)
    same_params(net, book)
    x = arrays((n, 1, 10, 10), seed) / 10 + 0.5
    t = [int(v) for v in Random(seed).permutation(10)[:n]]
    assert_matches(net.predict(rows_of(x)), book.predict(x), rel_tol=NET, abs_tol=NET)
    # the book's -log(y + 1e-7) is purenn's exact -log(y) minus log(1 + 1e-7 / y)
    y = book_layers.softmax(book.predict(x))
    shift = np.mean(np.log(1 + 1e-7 / y[np.arange(n), t]))
    assert abs(net.loss(rows_of(x), t) - shift - book.loss(x, np.array(t))) < 1e-12
    grads, want = net.gradient(rows_of(x), t), book.gradient(x, np.array(t))
    for key in want:
        assert_matches(grads[key], want[key].reshape(grads[key].shape), rel_tol=NET,
                       abs_tol=NET)


def book_file_or_skip(name):
    path = os.path.join(BOOK, name)
    if not os.path.isfile(path):
        pytest.skip("the book's %s is not in ../shared/book" % name)
    return path


@pytest.mark.parametrize("name, cls, book_cls", [
    ("simple_convnet_params_2016.pkl", SimpleConvNet, book_simple.SimpleConvNet),
    ("deep_convnet_params_2016.pkl", DeepConvNet, book_deep.DeepConvNet)])
def test_the_books_trained_networks_score_as_the_books_code(name, cls, book_cls):
    # purenn reads the pickle without numpy; the book's code with it
    path = book_file_or_skip(name)
    net = load_network(path)
    book = book_cls()
    book.load_params(path)
    x = arrays((2, 1, 28, 28), 7) / 10 + 0.5
    want = book.predict(x, train_flg=False) if cls is DeepConvNet else book.predict(x)
    assert isinstance(net, cls)
    assert_matches(net.predict(rows_of(x)), want, rel_tol=NET, abs_tol=NET)


@pytest.mark.ch8
def test_deep_convnet_gradients_through_the_same_dropout_masks_are_the_books(monkeypatch):
    path = book_file_or_skip("deep_convnet_params_2016.pkl")
    net = load_network(path)
    book = book_deep.DeepConvNet()
    book.load_params(path)
    # the book draws its masks with np.random.rand; give it purenn's stream
    monkeypatch.setattr(book_layers.np.random, "rand", book_rand(Random(net.config["seed"] + 1)))
    x = arrays((1, 1, 28, 28), 3) / 10 + 0.5
    grads, want = net.gradient(rows_of(x), [3]), book.gradient(x, np.array([3]))
    for key in want:
        assert_matches(grads[key], want[key].reshape(grads[key].shape), rel_tol=NET,
                       abs_tol=1e-12)
