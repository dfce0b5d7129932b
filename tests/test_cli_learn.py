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


@pytest.mark.parametrize("option, value", [
    ("--epochs", "-1"), ("--epochs", "0"), ("--weight-decay", "-1"), ("--weight-decay", "nan"),
    ("--lr", "0"), ("--lr", "-1"), ("--lr", "nan"), ("--lr", "inf"), ("--batch-size", "0"),
    ("--dropout", "1"), ("--dropout", "-0.1")])
def test_train_refuses_bad_settings_naming_the_option(capsys, option, value):
    assert main(["train", "%s=%s" % (option, value)]) == 2
    assert "purenn train: argument %s: need " % option in capsys.readouterr().err


def test_train_checks_the_save_and_svg_targets_before_training(tmp_path, capsys):
    missing = str(tmp_path / "no-such-folder" / "x.json.gz")
    for option in ("--save", "--svg"):
        assert main(["train", option, missing]) == 2
        captured = capsys.readouterr()
        assert "%s %s: No such file or directory" % (option, missing) in captured.err
        assert captured.out == ""                   # refused before any training
    assert main(["train", "--save", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []           # the check leaves nothing behind


def test_train_stops_with_an_error_when_training_diverges(capsys):
    # lr 1e308 overflows to inf/nan within a few steps on every interpreter.
    # (With 1e300, PyPy's summation order kept the loss huge but finite, about
    # 1e299, for the whole epoch: a bad network, honestly measured at ~10 %,
    # but not a non-finite loss, so nothing to stop for.)
    assert main(["train", "--lr", "1e308", "--optimizer", "sgd", "--epochs", "1",
                 "--hidden", "8", "--quiet"]) == 1
    captured = capsys.readouterr()
    assert "training diverged; try a smaller learning rate" in captured.err
    assert "test accuracy" not in captured.out


@pytest.mark.parametrize("steps", ["-3", "0", "100000000"])
def test_optimizers_command_refuses_steps_out_of_range(capsys, steps):
    assert main(["optimizers", "--steps", steps]) == 2
    assert "argument --steps: need 1 to 1000, got %s" % steps in capsys.readouterr().err


def test_train_shows_the_curves_and_writes_them_as_svg(tmp_path, capsys):
    import xml.etree.ElementTree as ET
    path = str(tmp_path / "curves.svg")
    assert main(["train", "--epochs", "2", "--hidden", "8", "--svg", path]) == 0
    captured = capsys.readouterr()
    # stdout: the epoch lines and the text chart, no progress bar; that is on stderr
    assert "loss and accuracy per epoch" in captured.out and "test acc" in captured.out
    assert "\r" not in captured.out and "[####" not in captured.out
    assert "#" in captured.err
    root = ET.parse(path).getroot()                 # valid XML
    curves = [e for e in root.iter("{http://www.w3.org/2000/svg}path")
              if e.get("class") == "curve"]
    assert [c.get("data-label") for c in curves] == ["train loss", "train acc", "test acc"]


def test_train_mnist_path_needs_the_mnist_dataset(tmp_path, capsys):
    assert main(["train", "--mnist-path", str(tmp_path)]) == 2
    assert "purenn train: --mnist-path is for --dataset mnist" in capsys.readouterr().err


def test_train_mnist_path_that_is_no_folder_is_a_usage_error(tmp_path, capsys):
    missing = str(tmp_path / "x")
    assert main(["train", "--dataset", "mnist", "--mnist-path", missing]) == 2
    assert capsys.readouterr().err == "purenn train: --mnist-path %s: no such folder\n" % missing


def test_train_mnist_path_without_the_files_answers_in_command_line_words(tmp_path, capsys):
    assert main(["train", "--dataset", "mnist", "--mnist-path", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("purenn train: no MNIST training set in %s: it needs "
                          "train-images-idx3-ubyte and train-labels-idx1-ubyte" % tmp_path)
    assert "`purenn download-mnist --dir %s`" % tmp_path in err
    assert "path=" not in err                       # the Python API's words


def test_train_without_the_mnist_training_set_names_the_options(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PURENN_MNIST_DIR", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert main(["train", "--dataset", "mnist"]) == 1
    err = capsys.readouterr().err
    assert "not in %s (PURENN_MNIST_DIR) nor in %s" % (tmp_path / "env",
                                                       tmp_path / "purenn" / "mnist") in err
    assert "--mnist-path FOLDER" in err and "path=" not in err
