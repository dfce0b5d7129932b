"""The learning sub-commands of ``python -m purenn``."""
import os
import subprocess
import sys

import pytest

from purenn.cli import main


@pytest.mark.ch4
def test_gradients_command_shows_divergence(capsys):
    assert main(["gradients"]) == 0
    out = capsys.readouterr().out
    assert "0.1999999999990898" in out and "diverges" in out and "-2.58984e+13" in out


@pytest.mark.ch5
def test_backprop_command_prints_the_book_numbers(capsys):
    assert main(["backprop"]) == 0
    out = capsys.readouterr().out
    assert "715.0000000000001" in out and "3.3000000000000003" in out and "650" in out


@pytest.mark.ch5
def test_gradcheck_command_passes_and_fails_by_tolerance(capsys):
    assert main(["gradcheck"]) == 0
    assert "OK" in capsys.readouterr().out
    assert main(["gradcheck", "--tol", "1e-20"]) == 1       # nothing agrees to 1e-20
    assert "FAILED" in capsys.readouterr().out


@pytest.mark.ch6
def test_optimizers_command_table_and_plot(capsys):
    assert main(["optimizers", "--plot"]) == 0
    out = capsys.readouterr().out
    for name in ("SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam"):
        assert name in out
    assert "(-7.00, 2.00)" in out and "+" in out


@pytest.mark.ch6
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


@pytest.mark.parametrize("option, value", [
    ("--epochs", "-1"), ("--epochs", "0"), ("--weight-decay", "-1"), ("--weight-decay", "nan"),
    ("--lr", "0"), ("--lr", "-1"), ("--lr", "nan"), ("--lr", "inf"), ("--batch-size", "0"),
    ("--dropout", "1"), ("--dropout", "-0.1")])
@pytest.mark.ch6
def test_train_refuses_bad_settings_naming_the_option(capsys, option, value):
    assert main(["train", "%s=%s" % (option, value)]) == 2
    assert "purenn train: argument %s: need " % option in capsys.readouterr().err


@pytest.mark.ch6
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


@pytest.mark.parametrize("target", ["", "fifo"])
@pytest.mark.parametrize("option", ["--save", "--svg"])
@pytest.mark.ch6
def test_train_refuses_an_empty_or_special_target_before_training(tmp_path, capsys, option,
                                                                  target):
    # --save '' trained for minutes and then saved nothing, without a word;
    # a FIFO (or a device) cannot be replaced by the file
    if target == "fifo":
        if not hasattr(os, "mkfifo"):
            pytest.skip("no FIFOs here")
        target = str(tmp_path / "fifo")
        os.mkfifo(target)
    assert main(["train", option, target]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("purenn train: %s %s: " % (option, target))
    assert ("an empty file name" if not target else "not a regular file") in captured.err
    assert captured.out == ""                       # refused before any training


@pytest.mark.ch6
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
@pytest.mark.ch6
def test_optimizers_command_refuses_steps_out_of_range(capsys, steps):
    assert main(["optimizers", "--steps", steps]) == 2
    assert "argument --steps: need 1 to 1000, got %s" % steps in capsys.readouterr().err


@pytest.mark.ch6
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


@pytest.mark.ch6
def test_train_mnist_path_needs_the_mnist_dataset(tmp_path, capsys):
    assert main(["train", "--mnist-path", str(tmp_path)]) == 2
    assert "purenn train: --mnist-path is for --dataset mnist" in capsys.readouterr().err


@pytest.mark.ch6
def test_train_mnist_path_that_is_no_folder_is_a_usage_error(tmp_path, capsys):
    missing = str(tmp_path / "x")
    assert main(["train", "--dataset", "mnist", "--mnist-path", missing]) == 2
    assert capsys.readouterr().err == "purenn train: --mnist-path %s: no such folder\n" % missing


@pytest.mark.ch6
def test_train_mnist_path_without_the_files_answers_in_command_line_words(tmp_path, capsys):
    assert main(["train", "--dataset", "mnist", "--mnist-path", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("purenn train: no MNIST training set in %s: it needs "
                          "train-images-idx3-ubyte and train-labels-idx1-ubyte" % tmp_path)
    assert "`purenn download-mnist --dir %s`" % tmp_path in err
    assert "path=" not in err                       # the Python API's words


@pytest.mark.ch6
def test_train_without_the_mnist_training_set_names_the_options(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PURENN_MNIST_DIR", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert main(["train", "--dataset", "mnist"]) == 1
    err = capsys.readouterr().err
    assert "not in %s (PURENN_MNIST_DIR) nor in %s" % (tmp_path / "env",
                                                       tmp_path / "purenn" / "mnist") in err
    assert "`purenn download-mnist`" in err
    assert "--mnist-path FOLDER" in err and "path=" not in err


# ------------------------------------------ networks that cannot fit

@pytest.mark.ch6
def test_train_refuses_a_network_too_large_for_memory_before_building_it(monkeypatch, capsys):
    from purenn.cli import learn
    built = []
    monkeypatch.setattr(learn, "MultiLayerNet", lambda *a, **kw: built.append(a))
    assert main(["train", "--hidden", "100000000"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("purenn train: a 64-100000000-10 network in batches of 32 needs about "
                          "6.8 TB of memory")
    assert "choose smaller --hidden sizes" in err and built == []


@pytest.mark.ch6
def test_train_measures_the_need_against_this_machines_memory(monkeypatch, capsys):
    from purenn.cli import learn
    monkeypatch.setattr(learn, "memory_size", lambda: 10 ** 6)     # a 1 MB machine
    assert main(["train", "--epochs", "1", "--quiet"]) == 2
    assert "more than this machine's 1.0 MB" in capsys.readouterr().err


@pytest.mark.parametrize("sizes, batch", [([64, 100, 10], 32), ([784, 50, 100, 10], 100),
                                          ([784, 1000, 10], 1)])
@pytest.mark.ch6
def test_training_bytes_grow_with_the_weights_and_the_batch(sizes, batch):
    from purenn.cli.learn import BYTES_PER_ACTIVATION, BYTES_PER_WEIGHT, training_bytes
    weights = sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))
    assert training_bytes(sizes, batch) == (BYTES_PER_WEIGHT * weights + BYTES_PER_ACTIVATION
                                            * max(batch, 100) * sum(sizes[1:]))


# --------------------------------------- a save that fails after training

@pytest.fixture
def full_disk(monkeypatch):
    """MultiLayerNet.save fails for the files named in the returned set."""
    from purenn.multilayer import MultiLayerNet
    real, failing = MultiLayerNet.save, set()

    def save(self, path, **notes):
        if path in failing or "*" in failing:
            raise OSError(28, "No space left on device", path)
        return real(self, path, **notes)

    monkeypatch.setattr(MultiLayerNet, "save", save)
    return failing


@pytest.mark.ch6
def test_a_failed_save_keeps_the_trained_network_in_the_current_folder(
        tmp_path, monkeypatch, capsys, full_disk):
    from purenn.multilayer import MultiLayerNet
    target = str(tmp_path / "out" / "net.json.gz")
    (tmp_path / "out").mkdir()
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    full_disk.add(target)
    assert main(["train", "--epochs", "1", "--hidden", "8", "--quiet", "--save", target]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(
        "purenn train: cannot save to %s: %s: No space left on device; the trained network is "
        "saved in %s" % (target, target, tmp_path / "here" / "purenn-train-"))
    spare = err[0].split("saved in ")[1].split(" instead")[0]
    assert MultiLayerNet.load(spare).sizes == [64, 8, 10]
    if hasattr(os, "umask") and sys.platform not in ("win32", "emscripten"):  # (MEMFS: no umask)
        # the permissions of any new file (it was 0o600, a temporary file's)
        umask = os.umask(0)
        os.umask(umask)
        assert os.stat(spare).st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.ch6
def test_a_save_that_fails_everywhere_says_the_network_is_lost(tmp_path, monkeypatch, capsys,
                                                               full_disk):
    monkeypatch.chdir(tmp_path)
    full_disk.add("*")
    assert main(["train", "--epochs", "1", "--hidden", "8", "--quiet",
                 "--save", str(tmp_path / "net.json.gz")]) == 1
    err = capsys.readouterr().err
    assert err.endswith("nor in the current or the temporary folder: the trained network is "
                        "lost\n")
    assert os.listdir(str(tmp_path)) == []          # no empty spare file left behind


@pytest.mark.ch6
def test_curves_that_cannot_be_written_do_not_stop_the_save(tmp_path, monkeypatch, capsys):
    from purenn import plot
    from purenn.multilayer import MultiLayerNet

    def no_room(self, path):
        raise OSError(28, "No space left on device", path)

    monkeypatch.setattr(plot.LinePlot, "save_svg", no_room)
    save, svg = str(tmp_path / "net.json.gz"), str(tmp_path / "c.svg")
    assert main(["train", "--epochs", "1", "--hidden", "8", "--quiet", "--save", save,
                 "--svg", svg]) == 1
    assert capsys.readouterr().err == ("purenn train: cannot write the curves to %s: %s: No space "
                                       "left on device\n" % (svg, svg))
    assert MultiLayerNet.load(save).sizes == [64, 8, 10]


# ------------------------------------------- a gradient check that cannot be made

@pytest.mark.ch5
def test_gradcheck_that_cannot_be_made_is_one_line_and_status_1(monkeypatch, capsys):
    from purenn.cli import learn

    def cannot(*args, **kw):
        raise ValueError("gradient_check: every ReLU of a sample is dead")

    monkeypatch.setattr(learn, "gradient_check", cannot)
    assert main(["gradcheck", "--seed", "323"]) == 1
    assert capsys.readouterr().err == ("purenn gradcheck: relu, seed 323: gradient_check: every "
                                       "ReLU of a sample is dead\n")


@pytest.mark.processes
@pytest.mark.ch5
def test_gradcheck_seed_323_prints_no_traceback():
    r = subprocess.run([sys.executable, "-m", "purenn", "gradcheck", "--seed", "323"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode in (0, 1) and "Traceback" not in r.stderr


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_train_refuses_a_bad_worker_count(capsys, value):
    assert main(["train", "--workers=%s" % value]) == 2
    assert "purenn train: argument --workers: need a whole number >= 1 or auto" \
        in capsys.readouterr().err


@pytest.mark.parametrize("options", [["--batchnorm"], ["--no-batchnorm", "--dropout", "0.2"]])
def test_train_with_workers_refuses_batchnorm_and_dropout(capsys, options):
    assert main(["train", "--workers", "2", "--epochs", "1"] + options) == 2
    assert "purenn train: --workers 2 splits every batch over processes" \
        in capsys.readouterr().err


@pytest.mark.processes
@pytest.mark.ch6
def test_train_with_two_workers_reports_the_accuracy_of_one(capsys):
    runs = []
    for workers in ("1", "2"):
        assert main(["train", "--epochs", "1", "--hidden", "16", "--no-batchnorm", "--quiet",
                     "--workers", workers]) == 0
        out = capsys.readouterr().out
        runs.append([line.split(";")[0] for line in out.splitlines()
                     if line.startswith("test accuracy")])
    assert runs[0] == runs[1] and runs[0]
