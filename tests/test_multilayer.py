"""MultiLayerNet and TwoLayerNet (chapters 5.7, 6.2-6.4): the book's structure and
names, initialisation, saving and loading, and what they refuse."""
import math

import pytest

from purenn import ShapeError
from purenn.activations import softmax
from purenn.errors import DataError
from purenn.matrix import Matrix
from purenn.multilayer import MultiLayerNet, TwoLayerNet, parameter_count
from purenn.testing import assert_allclose
from purenn.weights import load_params, save_params

pytestmark = pytest.mark.ch6


# ------------------------------------------------------- the book's structure

@pytest.mark.ch5
def test_two_layer_net_names_its_layers_as_the_book():
    net = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
    assert list(net.layers) == ["Affine1", "Relu1", "Affine2"]
    assert net.layers["Affine1"].W is net.params["W1"] and net.lastLayer is net.last_layer


@pytest.mark.parametrize("kw, names", [
    ({}, ["Affine1", "Activation_function1", "Affine2", "Activation_function2", "Affine3"]),
    ({"use_batchnorm": True, "use_dropout": True},
     ["Affine1", "BatchNorm1", "Activation_function1", "Dropout1",
      "Affine2", "BatchNorm2", "Activation_function2", "Dropout2", "Affine3"]),
], ids=["plain", "batchnorm-dropout"])
def test_multi_layer_net_names_its_layers_as_the_books_extend(kw, names):
    assert list(MultiLayerNet(4, [3, 3], 2, **kw).layers) == names


def test_multi_layer_net_has_the_books_attributes():
    net = MultiLayerNet(4, [5, 3], 2, use_dropout=True)
    assert (net.input_size, net.output_size, net.hidden_size_list, net.hidden_layer_num,
            net.use_dropout, net.use_batchnorm) == (4, 2, [5, 3], 2, True, False)


@pytest.mark.parametrize("sizes, batchnorm, count", [
    ([784, 50, 100, 10], False, 45360), ([4, 3, 2], False, 23), ([4, 3, 2], True, 29)])
def test_parameter_count_is_every_w_and_b_and_gamma_beta(sizes, batchnorm, count):
    net = MultiLayerNet(sizes[0], sizes[1:-1], sizes[-1], use_batchnorm=batchnorm)
    assert parameter_count(sizes, batchnorm) == count == sum(p.size for p in net.params.values())


@pytest.mark.parametrize("activation, std", [("relu", math.sqrt(2 / 400)), ("sigmoid", 0.05)],
                         ids=["he", "xavier"])
def test_initial_weights_have_the_he_or_xavier_scale_section_6_2(activation, std):
    w = MultiLayerNet(400, [100], 10, activation=activation, seed=0).params["W1"]
    assert abs(math.sqrt((w * w).mean()) - std) < 0.003


def test_the_network_protocol_gives_the_fully_connected_steps():
    net = MultiLayerNet(3, [4], 2, activation="tanh", seed=1)
    x = Matrix([[0.1, 0.2, 0.3]])
    y = x
    for step in net.layer_steps():
        y = step(y)
    assert_allclose(y, net.predict(x))


def test_layer_steps_of_a_batchnorm_network_is_a_type_error():
    with pytest.raises(TypeError, match="batch normalization or dropout"):
        MultiLayerNet(3, [4], 2, use_batchnorm=True).layer_steps()


# ------------------------------------------------------------------- accuracy

@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_a_nan_input_gives_a_nan_loss_and_counts_as_wrong(activation):
    # the ReLU net once reported loss 0.693 and accuracy 1.0 on [[nan, 2]]
    net = MultiLayerNet(2, [3], 2, activation=activation, seed=0)
    x = [[float("nan"), 2.0]]
    assert math.isnan(net.loss(x, [1]))
    assert net.accuracy(x, [0]) == net.accuracy(x, [1]) == 0.0


@pytest.mark.parametrize("t", [[[1, 1]], [[0.3, 0.7]]], ids=["two-ones", "soft"])
def test_accuracy_refuses_rows_that_are_not_one_hot(t):
    with pytest.raises(ValueError, match=r"MultiLayerNet.accuracy: t row 0 is .*, not one-hot"):
        MultiLayerNet(2, [3], 2).accuracy([[0.0, 1.0]], t)


@pytest.mark.parametrize("bad", [0, -1, 1.5])
def test_accuracy_batch_size_must_be_a_positive_int(bad):
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        MultiLayerNet(2, [3], 2).accuracy([[0.0, 1.0]], [0], batch_size=bad)


# --------------------------------------------------------------------- errors

@pytest.mark.parametrize("make, error, text", [
    (lambda: MultiLayerNet(4, [3], 2).predict(Matrix([[1.0, 2.0, 3.0]])), ShapeError,
     r"MultiLayerNet.predict: x \(1, 3\) for a network with 4 inputs"),
    (lambda: MultiLayerNet(4, [3], 2, activation="softplus"), ValueError, "activation must be"),
    (lambda: MultiLayerNet(4, [0], 2), ValueError, "positive ints"),
    (lambda: MultiLayerNet(2, 3, 2), TypeError, "hidden_size_list must be a list"),
    (lambda: MultiLayerNet(2, [3], 2, weight_decay_lambda=-1.0), ValueError, "weight_decay"),
    (lambda: MultiLayerNet(2, [3], 2, weight_decay_lambda=float("nan")), ValueError,
     "weight_decay"),
    (lambda: MultiLayerNet(4, [3], 2, use_dropout=True).numerical_gradient(
        Matrix.ones(1, 4), [0]), ValueError, "dropout draws new masks"),
], ids=["predict-shape", "activation", "size", "hidden-list", "decay", "decay-nan",
        "numerical-dropout"])
def test_bad_arguments_get_a_clear_error(make, error, text):
    with pytest.raises(error, match=text):
        make()


@pytest.mark.parametrize("hidden", [[100000000], [7100, 7100]], ids=["train-hidden-1e8", "2x7100"])
def test_a_network_too_big_to_fit_is_refused_before_allocating(hidden):
    # 784-100000000-10 would need 80 billion parameters (2,500 GB)
    with pytest.raises(ValueError) as info:
        MultiLayerNet(784, hidden, 10)
    message = str(info.value)
    assert message.startswith("MultiLayerNet: 784-%s-10 has " % "-".join(map(str, hidden)))
    assert "purenn builds at most 50,000,000 parameters" in message and "\n" not in message


# ---------------------------------------------------------------- save, load

def _trained_batchnorm_net():
    net = MultiLayerNet(5, [4, 3], 2, activation="tanh", use_batchnorm=True,
                        weight_decay_lambda=0.01, seed=2)
    net.gradient(Matrix.uniform(6, 5, seed=3), [0, 1, 1, 0, 1, 0])  # moves the running averages
    return net


def test_save_and_load_round_trip_every_bit(tmp_path):
    net = _trained_batchnorm_net()
    path = str(tmp_path / "net.json.gz")
    net.save(path, note="test")
    back = MultiLayerNet.load(path)
    x = Matrix.uniform(6, 5, seed=3)
    assert (back.params, back.config, back.notes) == (net.params, net.config, {"note": "test"})
    assert back.predict(x) == net.predict(x)       # test mode uses the running averages


def test_load_refuses_a_file_that_is_no_saved_network(tmp_path):
    path = str(tmp_path / "other.json.gz")
    save_params(path, {"W1": Matrix([[1.0]])})
    with pytest.raises(DataError, match="not a saved MultiLayerNet"):
        MultiLayerNet.load(path)


def _edited(tmp_path, edit):
    """A saved batchnorm network with its parameters changed by ``edit(params, meta)``."""
    path = str(tmp_path / "net.json.gz")
    _trained_batchnorm_net().save(path)
    params, meta = load_params(path)
    edit(params, meta)
    save_params(path, params, meta)
    return path


@pytest.mark.parametrize("edit, text", [
    (lambda p, m: p.update(running_var1=-p["running_var1"]), "running_var1 holds .*; a variance is >= 0"),
    (lambda p, m: p.update(running_mean2=Matrix([[0.0, 0.0, 0.0, 0.0]])),
     r"running_mean2 is \(1, 4\); BatchNormalization 2 needs one number per neuron, \(1, 3\)"),
    (lambda p, m: p.update(running_var2=Matrix([[1.0, float("nan"), 1.0]])),
     "running_var2 holds nan; running averages must be finite"),
    (lambda p, m: p.pop("running_var1"), "running_mean1 and running_var1 go together"),
    (lambda p, m: m["config"].update(hidden_size_list=[10 ** 9]),
     "the saved config is no MultiLayerNet: MultiLayerNet: 5-1000000000-2 has"),
], ids=["negative-variance", "wrong-shape", "nan", "half-missing", "huge-config"])
def test_load_refuses_batchnorm_statistics_that_cannot_be_used(tmp_path, edit, text):
    with pytest.raises(DataError, match=text):
        MultiLayerNet.load(_edited(tmp_path, edit))


def test_a_saved_plain_network_runs_in_the_chapter_3_network_too(tmp_path):
    from purenn.recognize import load_network
    net = MultiLayerNet(5, [4, 3], 2, activation="sigmoid", seed=2)
    path = str(tmp_path / "net.json.gz")
    net.save(path)
    x = Matrix.uniform(3, 5, seed=1)
    assert_allclose(load_network(path)[0].predict(x), softmax(net.predict(x)))


def test_a_saved_batchnorm_network_loads_as_itself_for_the_mnist_command(tmp_path):
    from purenn.recognize import load_network
    net = _trained_batchnorm_net()
    path = str(tmp_path / "net.json.gz")
    net.save(path)
    loaded, description = load_network(path)
    assert isinstance(loaded, MultiLayerNet) and loaded.input_size == 5
    assert description == "5-4-3-2 (tanh, batchnorm)"
