"""Optimisers and training (chapter 6): laws, the book's comparison, a short seeded run."""
import io

import pytest
from hypothesis import given, settings, example, strategies as st

from purenn import ShapeError
from purenn.matrix import Matrix
from purenn.multilayer import MultiLayerNet
from purenn.optimizers import (SGD, Momentum, Nesterov, AdaGrad, RMSprop, Adam, make_optimizer,
                               compare_optimizers, f_compare, plot_paths, OPTIMIZERS)
from purenn.trainer import Trainer

ALL = [SGD, Momentum, Nesterov, AdaGrad, RMSprop, Adam]


def test_book_defaults():
    assert SGD().lr == 0.01
    assert (Momentum().lr, Momentum().momentum) == (0.01, 0.9)
    assert (Nesterov().lr, Nesterov().momentum) == (0.01, 0.9)
    assert AdaGrad().lr == 0.01
    assert (RMSprop().lr, RMSprop().decay_rate) == (0.01, 0.99)
    assert (Adam().lr, Adam().beta1, Adam().beta2) == (0.001, 0.9, 0.999)


def test_sgd_step_by_hand():
    params = {"W": Matrix([[1.0, -2.0]])}
    SGD(lr=0.1).update(params, {"W": Matrix([[10.0, -10.0]])})
    assert params["W"].allclose([[0.0, -1.0]])


def test_adam_first_step_moves_each_weight_by_about_lr():
    # bias correction: the first step is lr * g / |g| (up to the 1e-7)
    params = {"W": Matrix([[1.0, 1.0]])}
    Adam(lr=0.001).update(params, {"W": Matrix([[5.0, -0.01]])})
    assert params["W"].allclose([[0.999, 1.001]], rel_tol=1e-6)


def test_update_rebinds_and_leaves_old_matrices_alone():
    W = Matrix([[1.0]])
    params = {"W": W}
    Momentum().update(params, {"W": Matrix([[1.0]])})
    assert params["W"] is not W and W.tolist() == [[1.0]]


def test_update_errors():
    with pytest.raises(ShapeError, match=r"SGD.update: 'W' is \(1, 2\) but its gradient is \(2, 1\)"):
        SGD().update({"W": Matrix([[1.0, 2.0]])}, {"W": Matrix([[1.0], [2.0]])})
    with pytest.raises(KeyError, match="no gradient"):
        Adam().update({"W": Matrix([[1.0]])}, {})
    with pytest.raises(ValueError, match="unknown optimiser"):
        make_optimizer("lbfgs")


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(sorted(OPTIMIZERS)),
       st.lists(st.floats(-5, 5).filter(lambda v: abs(v) > 1e-3), min_size=1, max_size=4),
       st.floats(0.5, 4))
@example("sgd", [1.0], 1.0)
def test_a_small_step_on_a_convex_quadratic_lowers_the_loss(name, xs, a):
    # f(W) = a * sum(W**2), gradient 2 a W; a rate of 1e-3 is small enough for all six
    params = {"W": Matrix([xs])}
    loss = lambda: a * (params["W"] ** 2).sum()
    before = loss()
    make_optimizer(name, lr=1e-3).update(params, {"W": 2 * a * params["W"]})
    assert loss() < before


def test_book_comparison_paths():
    paths = compare_optimizers()
    assert list(paths) == ["SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam"]
    for name, path in paths.items():
        assert path[0] == (-7.0, 2.0) and len(path) == 31
        assert f_compare(*path[-1]) < 0.2 * f_compare(-7.0, 2.0), name
    # SGD zigzags in y: the sign of y flips at every step (figure 6-3)
    ys = [y for _, y in paths["SGD"][:6]]
    assert all(a * b < 0 for a, b in zip(ys, ys[1:]))
    picture = plot_paths({"SGD": paths["SGD"]})
    assert "S" in picture and "+" in picture


# -------------------------------------------------------------- training

def _xor_data():
    x = Matrix([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 8)
    return x, [0, 1, 1, 0] * 8


def test_training_is_identical_for_the_same_seed():
    x, t = _xor_data()
    runs = []
    for _ in range(2):
        net = MultiLayerNet(2, [6], 2, use_dropout=True, dropout_ratio=0.1, seed=4)
        Trainer(net, x, t, x, t, epochs=3, mini_batch_size=5, optimizer="momentum",
                optimizer_param={"lr": 0.1}, seed=9, verbose=False).train()
        runs.append(net.params)
    assert runs[0] == runs[1]
    net = MultiLayerNet(2, [6], 2, use_dropout=True, dropout_ratio=0.1, seed=4)
    Trainer(net, x, t, x, t, epochs=3, mini_batch_size=5, optimizer="momentum",
            optimizer_param={"lr": 0.1}, seed=10, verbose=False).train()
    assert net.params != runs[0]                     # another shuffle, other weights


def test_trainer_progress_output():
    x, t = _xor_data()
    out = io.StringIO()
    history = Trainer(MultiLayerNet(2, [4], 2), x, t, x, t, epochs=2, mini_batch_size=8,
                      out=out).train()
    text = out.getvalue()
    assert "epoch 1/2" in text and "test acc" in text and "#" in text
    assert len(history["train_loss"]) == 8 and len(history["test_acc"]) == 2


def test_trainer_errors():
    x, t = _xor_data()
    net = MultiLayerNet(2, [4], 2)
    with pytest.raises(ShapeError, match="32 inputs but 3 labels"):
        Trainer(net, x, [0, 1, 1], x, t)
    for kw, message in (
            ({"mini_batch_size": 0}, "mini_batch_size must be a positive int"),
            ({"epochs": 0}, "epochs must be an int >= 1"),
            ({"epochs": -1}, "epochs must be an int >= 1"),
            ({"evaluate_sample_num_per_epoch": 0}, "evaluate_sample_num_per_epoch"),
            ({"evaluate_sample_num_per_epoch": -1}, "evaluate_sample_num_per_epoch"),
            ({"optimizer": "lbfgs"}, "unknown optimiser 'lbfgs'"),
            ({"optimizer_param": {"lr": 0.0}}, "lr must be a finite number > 0"),
            ({"optimizer_param": {"lr": -0.1}}, "lr must be a finite number > 0"),
            ({"optimizer_param": {"lr": float("nan")}}, "lr must be a finite number > 0"),
            ({"optimizer": "adam", "optimizer_param": {"lr": float("inf")}}, "lr must be")):
        with pytest.raises(ValueError, match=message):
            Trainer(net, x, t, x, t, **kw)
    for kw in ({"optimizer": None}, {"optimizer": 3}):
        with pytest.raises(TypeError, match="optimizer must be a name"):
            Trainer(net, x, t, x, t, **kw)


@pytest.mark.parametrize("cls", ALL)
def test_optimizers_refuse_a_learning_rate_that_cannot_learn(cls):
    for lr in (0, 0.0, -0.01, float("nan"), float("inf"), "0.1", True):
        with pytest.raises(ValueError, match="%s: the learning rate lr" % cls.__name__):
            cls(lr=lr)


def test_diverging_training_stops_with_a_clear_error():
    x, t = _xor_data()
    net = MultiLayerNet(2, [4], 2, seed=0)
    out = io.StringIO()
    trainer = Trainer(net, x, t, x, t, epochs=3, mini_batch_size=8, optimizer="sgd",
                      optimizer_param={"lr": 1e300}, out=out)
    with pytest.raises(ArithmeticError, match=r"loss is (nan|inf) at epoch 1, step \d+ of 4: "
                                              r"training diverged; try a smaller learning rate"):
        trainer.train()
    assert trainer.history["test_acc"] == []           # no accuracy of a broken network


def test_progress_bar_goes_to_its_own_stream_and_lines_stay_clean():
    x, t = _xor_data()
    out, bar = io.StringIO(), io.StringIO()
    history = Trainer(MultiLayerNet(2, [4], 2), x, t, x, t, epochs=2, mini_batch_size=8,
                      out=out, progress_out=bar).train()
    lines = out.getvalue().splitlines()
    assert [line.split()[1] for line in lines] == ["1/2", "2/2"] and "\r" not in out.getvalue()
    assert "#" in bar.getvalue() and "test acc" not in bar.getvalue()
    assert len(history["epoch_loss"]) == 2


def test_short_seeded_optdigits_run_beats_90_percent():
    # 2 epochs of a 64-32-10 ReLU network (a few seconds): 93.3% with these seeds;
    # 90% leaves room for another interpreter's last bits, none for a broken backprop
    from purenn.datasets import load_digits
    x_train, t_train = load_digits(kind="train")
    x_test, t_test = load_digits(kind="test")
    net = MultiLayerNet(64, [32], 10, seed=0)
    history = Trainer(net, x_train, t_train, x_test, t_test, epochs=2, mini_batch_size=50,
                      optimizer="adam", optimizer_param={"lr": 0.01}, seed=0,
                      evaluate_sample_num_per_epoch=500, verbose=False).train()
    assert net.accuracy(x_test, t_test) > 0.90
    assert history["train_loss"][-1] < history["train_loss"][0] / 3


# ------------------------------------------------------- the shipped networks

def _shipped(name):
    import os
    import purenn
    return os.path.join(os.path.dirname(purenn.__file__), "data", name)


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_shipped_mnist_networks_load_and_say_how_they_were_made(activation):
    net = MultiLayerNet.load(_shipped("mnist-784-50-100-10-%s.json.gz" % activation))
    assert net.sizes == [784, 50, 100, 10] and net.config["activation"] == activation
    assert net.notes["command"] == (
        "python -m purenn train --dataset mnist --hidden 50,100 --activation %s --optimizer "
        "adam --lr 0.001 --epochs 20 --batch-size 100 --seed 0 --no-batchnorm" % activation)


@pytest.mark.slow
@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_shipped_networks_score_97_percent_on_the_mnist_test_set(activation):
    # measured on the 10,000 bundled test images, not read from the file's notes
    from purenn.datasets import load_mnist
    x, t = load_mnist(kind="test")
    net = MultiLayerNet.load(_shipped("mnist-784-50-100-10-%s.json.gz" % activation))
    accuracy = net.accuracy(x, t)
    assert accuracy >= 0.97
    # and the note the file carries is that measurement, to the digit
    assert abs(net.notes["test_accuracy"] - accuracy) < 1e-4
