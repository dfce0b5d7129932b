"""purenn.convnet: the book's SimpleConvNet (7.5) and DeepConvNet (8.1), their
gradient checks, saving and loading, and the book's trained weights."""
import os
import sys

import pytest

from purenn.convnet import (BOOK_FILES, DeepConvNet, SimpleConvNet, gradient_check,
                            identify_book_file, kink_distance, load_network)
from purenn.convolution import Convolution
from purenn.datasets import load_mnist
from purenn.errors import DataError, ShapeError
from purenn.layers import Affine, Dropout
from purenn.matrix import Matrix

pytestmark = pytest.mark.ch7

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOOK = os.path.join(ROOT, "..", "shared", "book")
PYPY = sys.implementation.name == "pypy"

# the book's ch07/gradient_check.py network
BOOK_CHECK = dict(input_dim=(1, 10, 10), hidden_size=10, output_size=10, weight_init_std=0.01,
                  conv_param={"filter_num": 10, "filter_size": 3, "pad": 0, "stride": 1})


def small_deep(**kw):
    """DeepConvNet's architecture (its pads, poolings, dropouts) with few filters."""
    convs = [{"filter_num": n, "filter_size": 3, "pad": p, "stride": 1}
             for n, p in ((2, 1), (2, 1), (3, 1), (3, 2), (4, 1), (4, 1))]
    return DeepConvNet(input_dim=(1, 8, 8), hidden_size=5, output_size=3,
                       **dict(zip(["conv_param_%d" % i for i in range(1, 7)], convs)), **kw)


def book_path(name):
    path = os.path.join(BOOK, name)
    if not os.path.isfile(path):
        pytest.skip("the book's %s is not in ../shared/book (purenn does not ship it)" % name)
    return path


# ------------------------------------------------------------ architecture

def test_simple_convnet_has_the_books_layers_and_shapes():
    net = SimpleConvNet()
    assert list(net.layers) == ["Conv1", "Relu1", "Pool1", "Affine1", "Relu2", "Affine2"]
    assert dict((k, v.shape) for k, v in net.params.items()) == {
        "W1": (30, 25), "b1": (1, 30), "W2": (4320, 100), "b2": (1, 100),
        "W3": (100, 10), "b3": (1, 10)}
    assert (net.layers["Conv1"].output_shape, net.layers["Pool1"].output_shape) == (
        (30, 24, 24), (30, 12, 12))


def test_deep_convnet_has_the_books_layers_and_shapes():
    net = DeepConvNet()
    shapes = [(16, 9), (16, 144), (32, 144), (32, 288), (64, 288), (64, 576), (1024, 50), (50, 10)]
    assert [net.params["W%d" % i].shape for i in range(1, 9)] == shapes
    kinds = [type(layer).__name__ for layer in net.layers]
    assert kinds == ["Convolution", "Relu", "Convolution", "Relu", "Pooling"] * 3 + [
        "Affine", "Relu", "Dropout", "Affine", "Dropout"]
    # the parameterised layers sit where the book's gradient() reads them
    assert all(isinstance(net.layers[i], (Convolution, Affine)) for i in DeepConvNet.PARAM_LAYERS)
    assert [net.layers[i].output_shape for i in (4, 9, 14)] == [(16, 14, 14), (32, 8, 8),
                                                               (64, 4, 4)]


def test_deep_convnet_starts_with_hes_weights():
    net = DeepConvNet(seed=3)
    W1 = net.params["W1"]
    std = ((W1 * W1).sum() / (16 * 9)) ** 0.5
    assert abs(std - (2.0 / 9) ** 0.5) < 0.1  # 144 draws of N(0, 2/9): within ~2.5 sigma


def test_the_same_seed_gives_the_same_network():
    assert SimpleConvNet(seed=5, **BOOK_CHECK).params == SimpleConvNet(seed=5, **BOOK_CHECK).params
    assert SimpleConvNet(seed=5, **BOOK_CHECK).params["W1"] != SimpleConvNet(
        seed=6, **BOOK_CHECK).params["W1"]


def test_predict_refuses_images_of_another_size():
    with pytest.raises(ShapeError, match="images of 1x10x10 = 100 numbers"):
        SimpleConvNet(**BOOK_CHECK).predict(Matrix.ones(2, 784))


@pytest.mark.parametrize("kw, message", [
    (dict(input_dim=(28, 28)), "input_dim must be \\(C, H, W\\)"),
    (dict(conv_param={"filter_num": 30}), "conv_param must be a dict"),
    (dict(hidden_size=0), "hidden_size must be a positive int"),
])
def test_simple_convnet_refuses_bad_arguments(kw, message):
    with pytest.raises(ValueError, match=message):
        SimpleConvNet(**kw)


# ---------------------------------------------------------- gradient check

def test_simple_convnet_backprop_agrees_with_numerical_gradients_as_in_ch07():
    net = SimpleConvNet(seed=1, **BOOK_CHECK)
    x = Matrix.uniform(1, 100, seed=2)  # the book: np.random.rand(100).reshape((1, 1, 10, 10))
    worst = gradient_check(net, x, [1])
    assert sorted(worst) == ["W1", "W2", "W3", "b1", "b2", "b3"]
    assert max(worst.values()) < 1e-8


def test_deep_convnet_backprop_agrees_with_numerical_gradients_through_its_dropouts():
    net = small_deep(seed=4)
    x = Matrix.uniform(2, 64, seed=5)
    worst = gradient_check(net, x, [0, 2])
    assert len(worst) == 16 and max(worst.values()) < 1e-7
    # the check used real masks: some units were dropped
    masks = [m for layer in net.layers if isinstance(layer, Dropout)
             for row in Matrix(layer.mask).tolist() for m in row]
    assert 0 < masks.count(False) < len(masks)


def test_gradient_check_refuses_a_point_on_a_kink():
    net = SimpleConvNet(seed=1, **BOOK_CHECK)
    with pytest.raises(ValueError, match="kink"):
        gradient_check(net, Matrix.zeros(1, 100), [1])  # every ReLU input is the bias, 0


def test_kink_distance_is_the_smallest_relu_input_or_pooling_gap():
    net = SimpleConvNet(seed=1, **BOOK_CHECK)
    x = Matrix.uniform(1, 100, seed=2)
    net.gradient(x, [1])
    conv_out = net.layers["Conv1"].forward(x)
    assert kink_distance(net, x, [1]) <= min(abs(v) for v in conv_out.tolist()[0])


# ------------------------------------------------------------ save and load

@pytest.mark.parametrize("make", [lambda: SimpleConvNet(seed=2, **BOOK_CHECK),
                                  lambda: small_deep(seed=2)])
def test_save_and_load_give_the_same_network_to_the_last_bit(make, tmp_path):
    net = make()
    path = str(tmp_path / "net.json.gz")
    net.save(path, note="hello")
    again = load_network(path)
    C, H, W = net.input_dim
    x = Matrix.uniform(3, C * H * W, seed=1)
    assert (type(again), again.params, again.notes) == (type(net), net.params, {"note": "hello"})
    assert again.predict(x) == net.predict(x)


def test_save_with_digits_rounds_each_weight_and_says_so(tmp_path):
    net = SimpleConvNet(seed=2, **BOOK_CHECK)
    path = str(tmp_path / "net.json.gz")
    net.save(path, digits=3)
    again = load_network(path)
    w, v = net.params["W2"][0, 0], again.params["W2"][0, 0]
    assert v == float("%.3g" % w) and again.notes == {"digits": 3}


def test_load_network_refuses_a_file_of_another_network(tmp_path):
    from purenn.multilayer import MultiLayerNet
    path = str(tmp_path / "mlp.json.gz")
    MultiLayerNet(4, [3], 2).save(path)
    with pytest.raises(DataError, match="not a saved SimpleConvNet or DeepConvNet"):
        load_network(path)


def test_load_network_refuses_parameters_of_the_wrong_shape(tmp_path):
    from purenn.weights import save_params
    net = SimpleConvNet(**BOOK_CHECK)
    params = dict(net.params)
    params["W2"] = Matrix.ones(3, 3)
    path = str(tmp_path / "bad.json.gz")
    save_params(path, params, {"class": "SimpleConvNet", "config": net.config})
    with pytest.raises(DataError, match="'W2' is \\(3, 3\\)"):
        load_network(path)


# --------------------------------------------------- the book's weight files

@pytest.mark.parametrize("digest", sorted(BOOK_FILES))
def test_each_book_file_is_recognised_by_its_sha256(digest):
    info = BOOK_FILES[digest]
    assert identify_book_file(book_path(info["file"])) == (digest, info)


def test_a_file_that_is_none_of_the_four_is_not_recognised(tmp_path):
    path = tmp_path / "params.pkl"
    path.write_bytes(b"not the book's")
    assert identify_book_file(str(path))[1] is None


# correct answers of the book's own code (numpy) on the first 100 test images
FIRST_100 = {"simple_convnet_params_2016.pkl": 99, "simple_convnet_params_2022.pkl": 98,
             "deep_convnet_params_2016.pkl": 100, "deep_convnet_params_2022.pkl": 99}


@pytest.mark.parametrize("name", ["simple_convnet_params_2016.pkl",
                                  "simple_convnet_params_2022.pkl"])
def test_book_simple_convnet_first_100_test_images_as_the_books_code(name):
    net = load_network(book_path(name))
    x, t = load_mnist(kind="test")
    assert isinstance(net, SimpleConvNet) and net.notes["book"]["file"] == name
    assert round(net.accuracy(x[0:100], t[:100]) * 100) == FIRST_100[name]


@pytest.mark.slow
@pytest.mark.ch8
@pytest.mark.parametrize("name", ["deep_convnet_params_2016.pkl", "deep_convnet_params_2022.pkl"])
def test_book_deep_convnet_first_100_test_images_as_the_books_code(name):
    net = load_network(book_path(name))
    x, t = load_mnist(kind="test")
    assert isinstance(net, DeepConvNet) and net.notes["book"]["file"] == name
    assert round(net.accuracy(x[0:100], t[:100]) * 100) == FIRST_100[name]


_PREDICTED = {}


def _predicted(name):
    """The file's prediction for each of the 10,000 test images and the labels
    (remembered: figure 8-3's test reads the same DeepConvNet run)."""
    if name not in _PREDICTED:
        net = load_network(book_path(name))
        x, t = load_mnist(kind="test")
        _PREDICTED[name] = (net.predictions(x), t)
    return _PREDICTED[name]


def _full_count(name):
    predicted, t = _predicted(name)
    return sum(1 for p, label in zip(predicted, t) if p == label)


# Too slow for CPython's main test command: they run on PyPy, in
# ci/runtimes.py's pypy3-slow row (pypy3 -m pytest -m pypy), where a skip fails.
DEEP_ON_PYPY = ("DeepConvNet over 10,000 images takes about half an hour on CPython; "
                "ci/runtimes.py --only pypy3-slow runs it on PyPy")
SIMPLE_2022_ON_PYPY = ("the 2022 file's full count costs CPython another 2-3 minutes; "
                       "ci/runtimes.py --only pypy3-slow runs it on PyPy")
SIMPLE_ON_PYPY = ("a SimpleConvNet over 10,000 images costs CPython about 3 minutes, more "
                  "than CI's time allows beside everything else; ci/runtimes.py --only "
                  "pypy3-slow runs it on PyPy in 20 s (the first 100 images run everywhere)")


def on_pypy(reason):
    """A test for PyPy only: slow, marked ``pypy`` (the pypy3-slow row), skipped elsewhere."""
    def mark(test):
        return pytest.mark.slow(pytest.mark.pypy(pytest.mark.skipif(not PYPY, reason=reason)(test)))
    return mark


@on_pypy(SIMPLE_ON_PYPY)
def test_book_simple_convnet_2016_scores_the_books_9890_of_10000():
    # the book's printed 0.9890 (section 7.5), as a count: exactly
    assert _full_count("simple_convnet_params_2016.pkl") == 9890


@on_pypy(SIMPLE_2022_ON_PYPY)
def test_book_simple_convnet_2022_scores_9600_of_10000():
    assert _full_count("simple_convnet_params_2022.pkl") == 9600


@pytest.mark.ch8
@on_pypy(DEEP_ON_PYPY)
@pytest.mark.parametrize("name, correct", [("deep_convnet_params_2016.pkl", 9935),
                                           ("deep_convnet_params_2022.pkl", 9797)])
def test_book_deep_convnet_scores_its_count_of_10000(name, correct):
    # 9935: the book's printed 0.9935 (section 8.1)
    assert _full_count(name) == correct


# the book's misclassified_mnist.py with the 2016 file: (test image, label, inference)
BOOK_MISTAKES = [(445, 6, 0), (449, 3, 5), (450, 3, 5), (582, 8, 3), (726, 7, 3), (900, 1, 3),
                 (947, 8, 9), (1014, 6, 0), (1182, 6, 5), (1226, 7, 2), (1232, 9, 4),
                 (1260, 7, 1), (1393, 5, 3), (1527, 1, 3), (1621, 0, 6), (1901, 9, 4),
                 (2070, 7, 9), (2118, 6, 0), (2129, 9, 8), (2130, 4, 9)]


@pytest.mark.ch8
@on_pypy(DEEP_ON_PYPY)
def test_deep_convnet_misclassifies_the_books_first_20_digits():
    # figure 8-3: the first 20 mistakes lie in the first 2,200 test images
    predicted, t = _predicted("deep_convnet_params_2016.pkl")
    wrong = [(i, t[i], p) for i, p in enumerate(predicted) if p != t[i]][:20]
    assert wrong == BOOK_MISTAKES


# ------------------------------------------------- the network purenn ships

def shipped():
    from purenn.convnet import SHIPPED
    return load_network(SHIPPED)


def test_the_shipped_simple_convnet_says_how_purenn_trained_it():
    net = shipped()
    assert isinstance(net, SimpleConvNet) and net.input_dim == (1, 28, 28)
    assert net.notes["command"].startswith(
        "python -m purenn train --network simple_convnet --dataset mnist")
    assert net.notes["digits"] == 7 and net.notes["test_images"] == 10000


def test_the_shipped_simple_convnet_gets_the_first_100_test_images_as_recorded():
    net = shipped()
    x, t = load_mnist(kind="test")
    assert round(net.accuracy(x[0:100], t[:100]) * 100) == net.notes["first_100_correct"]


@on_pypy(SIMPLE_ON_PYPY)
def test_the_shipped_simple_convnet_scores_at_least_98_5_percent_of_10000():
    net = shipped()
    x, t = load_mnist(kind="test")
    correct = sum(1 for p, label in zip(net.predictions(x), t) if p == label)
    assert correct >= 9850 and correct == net.notes["test_correct"]
