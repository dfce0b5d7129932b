"""Training (chapters 4.5, 6.1-6.5): the trainer's loop, its progress and its errors."""
import io
import sys

import pytest

from purenn import ShapeError
from purenn.matrix import Matrix
from purenn.multilayer import MultiLayerNet
from purenn.trainer import Trainer, TrainingDiverged

pytestmark = pytest.mark.ch6


def _xor_data():
    x = Matrix([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 8)
    return x, [0, 1, 1, 0] * 8


def _trained(seed, **kw):
    x, t = _xor_data()
    net = MultiLayerNet(2, [6], 2, use_dropout=True, dropout_ratio=0.1, seed=4)
    Trainer(net, x, t, x, t, epochs=3, mini_batch_size=5, optimizer="momentum",
            optimizer_param={"lr": 0.1}, seed=seed, verbose=False, **kw).train()
    return net.params


def test_the_same_seed_trains_the_same_weights_to_the_bit():
    assert _trained(9) == _trained(9)


def test_another_seed_shuffles_otherwise_and_trains_other_weights():
    assert _trained(9) != _trained(10)


def test_history_has_a_loss_per_step_and_accuracies_per_epoch():
    x, t = _xor_data()
    history = Trainer(MultiLayerNet(2, [4], 2), x, t, x, t, epochs=2, mini_batch_size=8,
                      verbose=False).train()
    assert [len(history[k]) for k in ("train_loss", "epoch_loss", "train_acc", "test_acc")] == \
        [8, 2, 2, 2]


def test_the_books_lists_are_the_history():
    x, t = _xor_data()
    trainer = Trainer(MultiLayerNet(2, [4], 2), x, t, x, t, epochs=2, mini_batch_size=8,
                      verbose=False)
    history = trainer.train()
    assert (trainer.train_loss_list, trainer.train_acc_list, trainer.test_acc_list) == \
        (history["train_loss"], history["train_acc"], history["test_acc"])


def test_one_hot_labels_train_as_labels_do():
    x, t = _xor_data()
    onehot = [[1, 0] if v == 0 else [0, 1] for v in t]
    runs = []
    for truth in (t, onehot):
        net = MultiLayerNet(2, [4], 2, seed=1)
        Trainer(net, x, truth, x, truth, epochs=1, mini_batch_size=8, verbose=False).train()
        runs.append(net.params)
    assert runs[0] == runs[1]


def test_verbose_training_writes_a_bar_and_a_line_per_epoch():
    x, t = _xor_data()
    out = io.StringIO()
    Trainer(MultiLayerNet(2, [4], 2), x, t, x, t, epochs=2, mini_batch_size=8, out=out).train()
    text = out.getvalue()
    assert "epoch 1/2 [" in text and "test acc" in text and "#" in text


def test_the_bar_goes_to_its_own_stream_and_the_lines_stay_clean():
    x, t = _xor_data()
    out, bar = io.StringIO(), io.StringIO()
    Trainer(MultiLayerNet(2, [4], 2), x, t, x, t, epochs=2, mini_batch_size=8,
            out=out, progress_out=bar).train()
    lines = out.getvalue().splitlines()
    assert [line.split()[1] for line in lines] == ["1/2", "2/2"] and "\r" not in out.getvalue()
    assert "#" in bar.getvalue() and "test acc" not in bar.getvalue()


def test_diverging_training_stops_with_a_clear_error():
    x, t = _xor_data()
    trainer = Trainer(MultiLayerNet(2, [4], 2, seed=0), x, t, x, t, epochs=3, mini_batch_size=8,
                      optimizer="sgd", optimizer_param={"lr": 1e300}, out=io.StringIO())
    with pytest.raises(TrainingDiverged, match=r"loss is (nan|inf) at epoch 1, step \d+ of 4: "
                                               r"training diverged; try a smaller learning rate"):
        trainer.train()
    assert trainer.history["test_acc"] == []           # no accuracy of a broken network


def test_labels_of_another_count_than_the_inputs_are_a_shape_error():
    x, t = _xor_data()
    with pytest.raises(ShapeError, match="Trainer \\(train\\): 32 inputs but 3 labels"):
        Trainer(MultiLayerNet(2, [4], 2), x, [0, 1, 1], x, t)


@pytest.mark.parametrize("t", [[[1, 1]] * 32, [[0.3, 0.7]] * 32], ids=["two-ones", "soft"])
def test_label_rows_that_are_not_one_hot_are_refused(t):
    x, _ = _xor_data()
    with pytest.raises(ValueError, match=r"Trainer \(train\): t row 0 is .*, not one-hot"):
        Trainer(MultiLayerNet(2, [4], 2), x, t, x, t)


@pytest.mark.parametrize("kw, message", [
    ({"mini_batch_size": 0}, "mini_batch_size must be a positive int"),
    ({"epochs": 0}, "epochs must be an int >= 1"),
    ({"epochs": -1}, "epochs must be an int >= 1"),
    ({"evaluate_sample_num_per_epoch": 0}, "evaluate_sample_num_per_epoch"),
    ({"evaluate_sample_num_per_epoch": -1}, "evaluate_sample_num_per_epoch"),
    ({"optimizer": "lbfgs"}, "unknown optimiser 'lbfgs'"),
    ({"optimizer_param": {"lr": 0.0}}, "lr must be a finite number > 0"),
    ({"optimizer_param": {"lr": -0.1}}, "lr must be a finite number > 0"),
    ({"optimizer_param": {"lr": float("nan")}}, "lr must be a finite number > 0"),
    ({"optimizer": "adam", "optimizer_param": {"lr": float("inf")}}, "lr must be"),
])
def test_bad_settings_are_refused_before_training(kw, message):
    x, t = _xor_data()
    with pytest.raises(ValueError, match=message):
        Trainer(MultiLayerNet(2, [4], 2), x, t, x, t, **kw)


@pytest.mark.parametrize("optimizer", [None, 3])
def test_an_optimizer_must_be_a_name_or_have_update(optimizer):
    x, t = _xor_data()
    with pytest.raises(TypeError, match="optimizer must be a name"):
        Trainer(MultiLayerNet(2, [4], 2), x, t, x, t, optimizer=optimizer)


def test_a_short_seeded_optdigits_run_beats_90_percent():
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


@pytest.mark.skipif(sys.implementation.name != "cpython",
                    reason="the cycle collector is paused for a step on CPython only")
def test_a_training_step_leaves_no_garbage_for_the_cycle_collector():
    # each step runs with CPython's cycle collector paused (purenn.kernels);
    # that is only sound if its garbage is freed by reference counting alone
    import gc
    from purenn.datasets import load_digits
    from purenn.multilayer import MultiLayerNet
    from purenn.optimizers import Adam
    from purenn.parallel import DataParallel
    x, t = load_digits(kind="train")
    x, t = x[:40], t[:40]
    net = MultiLayerNet(x.shape[1], [8, 6], 10, activation="sigmoid", seed=0)
    trainer = Trainer(net, x, t, x, t, epochs=1, mini_batch_size=10, optimizer="adam",
                      verbose=False)
    dp = DataParallel(net, Adam(), x, t, workers=1)
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        for step in range(3):
            trainer.train_step(x[10 * step:10 * step + 10], t[10 * step:10 * step + 10])
            dp.step(list(range(10 * step, 10 * step + 10)))
            grads = net.gradient(x[:10], t[:10])
            Adam().update(net.params, grads)
            del grads
        assert gc.collect() == 0
    finally:
        if was:
            gc.enable()
