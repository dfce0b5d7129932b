"""The learning sub-commands of ``python -m purenn``."""
import subprocess
import sys

import pytest

from purenn.cli import main


def test_gradients_command_shows_divergence(capsys):
    assert main(["gradients"]) == 0
    out = capsys.readouterr().out
    assert "0.1999999999990898" in out and "diverges" in out and "-2.58984e+13" in out


def test_backprop_command_prints_the_book_numbers(capsys):
    assert main(["backprop"]) == 0
    out = capsys.readouterr().out
    assert "715.0000000000001" in out and "3.3000000000000003" in out and "650" in out


def test_gradcheck_command_passes_and_fails_by_tolerance(capsys):
    assert main(["gradcheck"]) == 0
    assert "OK" in capsys.readouterr().out
    assert main(["gradcheck", "--tol", "1e-20"]) == 1       # nothing agrees to 1e-20
    assert "FAILED" in capsys.readouterr().out


def test_optimizers_command_table_and_plot(capsys):
    assert main(["optimizers", "--plot"]) == 0
    out = capsys.readouterr().out
    for name in ("SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam"):
        assert name in out
    assert "(-7.00, 2.00)" in out and "+" in out


def test_train_command_tiny_run_saves_a_loadable_network(tmp_path, capsys):
    from purenn.multilayer import MultiLayerNet
    path = str(tmp_path / "digits.json.gz")
    assert main(["train", "--epochs", "1", "--hidden", "8", "--quiet", "--save", path]) == 0
    out = capsys.readouterr().out
    assert "test accuracy" in out and "saved to" in out
    net = MultiLayerNet.load(path)
    assert net.sizes == [64, 8, 10]
    assert net.notes["command"].startswith("python -m purenn train --dataset digits --hidden 8")


@pytest.mark.processes
def test_python_m_purenn_runs_the_learning_chapters_in_the_tour():
    out = subprocess.run([sys.executable, "-m", "purenn"], capture_output=True, text=True,
                         check=True).stdout
    assert "Chapter 5.7: gradient check" in out and "Chapter 6.1: optimisers" in out


def test_train_without_the_mnist_training_set_says_where_to_get_it(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("PURENN_MNIST_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert main(["train", "--dataset", "mnist", "--epochs", "1"]) == 1
    assert "download-mnist" in capsys.readouterr().err


def test_train_refuses_bad_settings(capsys):
    assert main(["train", "--epochs", "-1"]) == 2
    assert "--epochs >= 0" in capsys.readouterr().err
