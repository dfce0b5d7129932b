"""Reduced precision (purenn.precision): dense layers that compute what the
network computes, batchnorm and dropout folded; the precision table; the
shipped networks at each precision, within the issue's 0.5 points."""
import io
import struct

import pytest
from hypothesis import given, settings, strategies as st

from purenn import Matrix, compact, precision
from purenn.datasets import load_digits, load_mnist
from purenn.multilayer import MultiLayerNet
from purenn.network import Layer, Network, init_network
from purenn.activations import step_function
from purenn.precision import (DenseModel, ParamsModel, at_precision, dense_layers, encode,
                              error_bound, rounded_matrix, stored_layers, to_network)
from purenn.recognize import load_network
from purenn.testing import assert_allclose

pytestmark = pytest.mark.ch8

FOLD_TOL = 1e-12   # folding batchnorm reorders float64 operations: a few ulps


def batchnorms(net):
    from purenn.layers import BatchNormalization
    layers = net.layers.values() if hasattr(net.layers, "values") else net.layers
    return [layer for layer in layers if isinstance(layer, BatchNormalization)]


def trained_like(net, seed):
    """``net`` with batchnorm's parameters and running averages as training
    leaves them (not 1 and 0): gamma, beta, mean, var drawn from ``seed``."""
    from purenn.rng import Random
    gen = Random(seed)
    for layer in batchnorms(net):
        cols = net.params[layer.gamma_key].shape[1]
        net.params[layer.gamma_key] = Matrix([[gen.uniform(0.5, 2.0) for _ in range(cols)]])
        net.params[layer.beta_key] = Matrix([[gen.uniform(-1, 1) for _ in range(cols)]])
        layer.running_mean = Matrix([[gen.uniform(-1, 1) for _ in range(cols)]])
        layer.running_var = Matrix([[gen.uniform(0.01, 3.0) for _ in range(cols)]])
    return net


# ------------------------------------------------------ dense layers

@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10 ** 6), activation=st.sampled_from(["relu", "sigmoid", "tanh"]),
       batchnorm=st.booleans(), dropout=st.sampled_from([0.0, 0.2, 0.5]))
def test_dense_layers_compute_what_multilayernet_predicts(seed, activation, batchnorm, dropout):
    net = MultiLayerNet(5, [4, 3], 2, activation=activation, use_batchnorm=batchnorm,
                        use_dropout=dropout > 0, dropout_ratio=dropout or 0.5, seed=seed % 1000)
    trained_like(net, seed)
    x = Matrix.uniform(6, 5, seed=seed)
    want = net.predict(x, train_flg=False)
    got = to_network(dense_layers(net)).predict(x)
    assert_allclose(got, want, rel_tol=FOLD_TOL, abs_tol=FOLD_TOL)


def test_dense_layers_of_a_network_keep_its_activations():
    p = init_network()
    net = Network.from_dict(p)
    layers = dense_layers(net)
    assert [name for _, _, name in layers] == ["sigmoid", "sigmoid", "identity"]
    assert to_network(layers).predict([[1.0, 0.5]]) == net.predict([[1.0, 0.5]])


def test_dense_layers_of_a_batchnorm_net_end_without_softmax():
    net = MultiLayerNet(3, [2], 2, use_batchnorm=True)
    net.predict(Matrix.uniform(4, 3, seed=1), train_flg=True)   # running averages
    assert [name for _, _, name in dense_layers(net)] == ["relu", "identity"]


def test_a_step_function_network_cannot_be_exported():
    net = Network([Layer([[1.0]], [[0.0]], step_function)])
    with pytest.raises(ValueError, match="activation step_function cannot be exported"):
        dense_layers(net)


def test_dense_layers_refuse_what_is_no_network():
    with pytest.raises(TypeError, match="give a purenn Network or MultiLayerNet"):
        dense_layers(object())


def test_batchnorm_never_run_cannot_be_folded():
    net = MultiLayerNet(3, [2], 2, use_batchnorm=True)
    with pytest.raises(ValueError, match="no running averages"):
        dense_layers(net)


@pytest.mark.parametrize("eps", [1e-7, 1e-6, 0.5])
def test_folding_uses_the_layers_own_epsilon(eps):
    net = trained_like(MultiLayerNet(3, [2], 2, use_batchnorm=True), 5)
    bn = batchnorms(net)[0]
    bn.EPS = eps                                   # what BatchNormalization.forward adds
    bn.running_var = Matrix([[0.0, 1e-6]])        # where eps matters most
    x = Matrix.uniform(3, 3, seed=2)
    assert_allclose(to_network(dense_layers(net)).predict(x), net.predict(x), rel_tol=FOLD_TOL,
                    abs_tol=FOLD_TOL)


# ------------------------------------------------------------ precisions

def test_float64_is_the_layers_themselves():
    layers = dense_layers(Network.from_dict(init_network()))
    assert at_precision(layers, "float64") == layers


@pytest.mark.parametrize("name, code", [("float32", "<f"), ("float16", "<e")])
def test_at_precision_rounds_every_weight(name, code):
    layers = dense_layers(Network.from_dict(init_network()))
    got = at_precision(layers, name)
    for (W, b, _), (V, c, _) in zip(layers, got):
        assert V.tolist() == [[struct.unpack(code, struct.pack(code, v))[0] for v in row]
                              for row in W.tolist()]
        assert c.tolist() == [[struct.unpack("<f", struct.pack("<f", v))[0]
                               for v in b.tolist()[0]]]  # biases: float32 always


def test_unknown_precision_is_a_value_error():
    with pytest.raises(ValueError, match="precision must be one of"):
        at_precision([], "bfloat16")


def test_rounded_matrix_per_row_is_per_column_of_the_transpose():
    m = Matrix([[1.0, 0.01], [-0.5, 0.002], [0.25, 3.0]])
    assert rounded_matrix(m, "int8", "row") == rounded_matrix(m.T, "int8", "column").T


def test_rounded_matrix_int8_is_what_a_compact_file_stores():
    W = Matrix([[1.0, 0.01], [-0.5, 0.002], [0.25, 3.0]])
    stored = at_precision([(W, Matrix([[0.0, 0.0]]), "identity")], "int8")[0][0]
    assert rounded_matrix(W, "int8") == stored


def test_error_bound_refuses_layers_that_differ():
    layers = dense_layers(Network.from_dict(init_network()))
    with pytest.raises(Exception, match="differ"):
        error_bound(layers, layers[:1] + [(layers[2][0], layers[2][1], "relu")], [[1.0, 0.5]])


# --------------------------------------------------------------- models

def test_params_model_rounds_in_place_and_puts_the_weights_back():
    net = trained_like(MultiLayerNet(64, [20], 10, use_batchnorm=True, seed=3), 3)
    before = dict(net.params)
    x, t = load_digits(kind="test")
    x = x[:50]
    model = ParamsModel(net)
    assert model.classes_at("float64", x) == net.predict(x).argmax(axis=1)
    model.classes_at("int8", x)
    assert all(net.params[k] is before[k] for k in before)


def test_params_model_at_int8_is_the_dense_model_without_batchnorm():
    net = MultiLayerNet(64, [20], 10, seed=4)       # no batchnorm: nothing to fold
    x, t = load_digits(kind="test")
    x = x[:200]
    dense = DenseModel.from_network(net, 1 / 16)
    assert ParamsModel(net).classes_at("int8", x) == dense.classes_at("int8", x)


def test_registering_a_key_twice_is_an_error():
    with pytest.raises(ValueError, match="registered already"):
        precision.register("optdigits", "again", lambda: None, lambda: None)


def test_an_unknown_key_is_an_error():
    with pytest.raises(ValueError, match="no network 'cifar'"):
        precision.precision_table(["cifar"])


def test_a_registered_network_gets_a_row(monkeypatch):
    net = MultiLayerNet(64, [8], 10, seed=1)
    monkeypatch.setattr(precision, "NETWORKS", [])
    precision.register("tiny", "tiny 64-8-10", lambda: ParamsModel(net),
                      lambda: load_digits(kind="test"))
    row, = precision.precision_table(limit=30)
    assert (row.entry.key, row.count, row.changed["float64"], row.size["int8"]) == \
        ("tiny", 30, 0, None)


# -------------------------------------------- the shipped networks, measured

def shipped(key):
    return [e for e in precision.NETWORKS if e.key == key][0]


def test_the_optdigits_network_ships_with_the_command_that_made_it():
    net = MultiLayerNet.load(precision.shipped_path(precision.OPTDIGITS_NETWORK))
    assert net.notes["command"].startswith("python -m purenn train --dataset digits")
    assert net.config["use_batchnorm"] and net.sizes == [64, 100, 10]


def test_the_optdigits_table_row_at_float64_is_the_networks_own_accuracy():
    net = MultiLayerNet.load(precision.shipped_path(precision.OPTDIGITS_NETWORK))
    x, t = load_digits(kind="test")
    row, = precision.precision_table(["optdigits"], ["float64"])
    assert row.accuracy["float64"] == net.accuracy(x, t)


# all of optdigits' test set; the first 2,000 MNIST test images (the whole
# 10,000 are the table's, ``python -m purenn precision``: 40 s a network)
@pytest.mark.slow
@pytest.mark.parametrize("key, limit", [("optdigits", None), ("mnist-sigmoid", 2000),
                                        ("mnist-relu", 2000)])
def test_int8_float16_float32_stay_within_half_a_point_of_float64(key, limit):
    precisions = ("float64", "float32", "float16", "int8")
    row, = precision.precision_table([key], precisions, limit=limit)
    for p in precisions:
        assert abs(row.accuracy[p] - row.accuracy["float64"]) <= 0.005, (p, row.accuracy)
    assert row.changed["float32"] <= 2     # a near tie may flip; more would be a bug


@pytest.mark.parametrize("key, size", [("optdigits", {"float32": 30112, "float16": 15312,
                                                      "int8": 8352}),
                                       ("mnist-relu", {"float32": 181536, "float16": 91136,
                                                       "int8": 46576})])
def test_compact_file_sizes(key, size):
    model = shipped(key).model()
    assert {p: model.file_size(p) for p in size} == size


def _scores_within_bound(key, dtype, count):
    """The compact network's scores on CPython (float32 arrays) against the
    shipped network's own float64 predict, on ``count`` test images."""
    entry = shipped(key)
    model = entry.model()
    path = precision.shipped_path(precision.OPTDIGITS_NETWORK if key == "optdigits" else
                                  "mnist-784-50-100-10-%s.json.gz" % key.split("-")[1])
    original = load_network(path)[0]
    if key == "optdigits":
        raw, t = load_digits(normalize=False, kind="test")
    else:
        raw, t = load_mnist(normalize=False, kind="test")
    raw = raw[:count]
    x = raw * model.input_scale
    net = compact.load(io.BytesIO(encode(model.layers, dtype, model.input_scale)))
    bound = error_bound(model.layers, stored_layers(net), raw, model.input_scale)
    want = original.predict(x)
    got = Matrix([list(net.predict(bytes(row))) for row in raw.tolist()])
    over = [(i, j, got[i, j], want[i, j], bound[i, j]) for i in range(count) for j in range(10)
            if abs(got[i, j] - want[i, j]) > bound[i, j] + FOLD_TOL]
    assert over == []


@pytest.mark.parametrize("dtype", compact.DTYPES)
def test_shipped_optdigits_on_a_board_scores_within_the_bound(dtype):
    _scores_within_bound("optdigits", dtype, 100)


@pytest.mark.slow
@pytest.mark.parametrize("key", ["mnist-sigmoid", "mnist-relu"])
@pytest.mark.parametrize("dtype", compact.DTYPES)
def test_shipped_mnist_on_a_board_scores_within_the_bound(key, dtype):
    _scores_within_bound(key, dtype, 100)
