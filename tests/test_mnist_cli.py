"""``python -m purenn mnist`` and ``download-mnist`` as a user runs them."""
import os
import shutil
import subprocess
import sys

import pytest

from purenn import DataError, Matrix
from purenn.cli import main
from purenn.datasets import DATA_DIR
from purenn.pickles import load_book_weights
from purenn.labels import predict_labels
from purenn.recognize import draw_digit, load_network
from purenn.weights import save_params

pytestmark = pytest.mark.ch3        # chapter 3.6: handwritten digit recognition

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOOK_PKL = os.path.join(REPO, "..", "shared", "book", "sample_weight.pkl")
needs_book = pytest.mark.skipif(
    not os.path.isfile(BOOK_PKL),
    reason="the book's sample_weight.pkl is not in ../shared/book (it is not shipped)")


@pytest.fixture
def no_default_weights(tmp_path, monkeypatch):
    from purenn import recognize
    monkeypatch.delenv("PURENN_WEIGHTS", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))
    monkeypatch.setattr(recognize, "BUNDLED_WEIGHTS", str(tmp_path / "no-bundled.json.gz"))


def test_without_weights_it_explains_how_to_get_them(no_default_weights, capsys):
    assert main(["mnist"]) == 1
    err = capsys.readouterr().err
    assert "sample_weight.pkl" in err and "deep-learning-from-scratch" in err
    assert "--weights" in err and "PURENN_WEIGHTS" in err


def test_tour_says_how_to_include_the_mnist_step(no_default_weights, capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "Chapter 3.6" in out and "skipped: no trained weights" in out


@needs_book
def test_mnist_with_the_book_pickle(capsys):
    assert main(["mnist", "--weights", BOOK_PKL, "--limit", "300", "--show", "2"]) == 0
    captured = capsys.readouterr()
    assert "784-50-100-10 (sigmoid, sigmoid, softmax)" in captured.out
    assert "images/s" in captured.out
    # image 8 is the book's famous miss: a 5 taken for a 6
    assert "#8: is 5, seen 6" in captured.out
    assert "300/300 images 100%" in captured.err


@needs_book
def test_purenn_format_gives_the_same_predictions_as_the_pickle(tmp_path):
    params = load_book_weights(BOOK_PKL)
    path = str(tmp_path / "book.json.gz")
    save_params(path, params, meta={"activations": ["sigmoid", "sigmoid", "softmax"],
                                    "source": "the book's sample_weight.pkl"})
    from purenn.datasets import load_mnist
    x, t = load_mnist(kind="test")
    x = x[:200]
    net_pkl, _ = load_network(BOOK_PKL)
    net_json, description = load_network(path)
    assert description == "784-50-100-10 (sigmoid, sigmoid, softmax)"
    assert predict_labels(net_pkl, x) == predict_labels(net_json, x)
    for a, b in zip(net_pkl.layers, net_json.layers):
        assert a.W == b.W and a.b == b.b                      # exact, bit for bit


def test_default_activations_and_bad_names(tmp_path):
    path = str(tmp_path / "tiny.json.gz")
    save_params(path, {"W1": [[1.0, 0.0], [0.0, 1.0]], "b1": [0.0, 0.0],
                       "W2": [[1.0, 0.0], [0.0, 1.0]], "b2": [0.0, 0.0]})
    net, description = load_network(path)
    assert description == "2-2-2 (sigmoid, softmax)"
    assert predict_labels(net, Matrix([[3.0, 1.0], [0.0, 2.0]]), batch_size=1) == [0, 1]
    save_params(path, {"W1": [[1.0]], "b1": [0.0]}, meta={"activations": ["swish"]})
    with pytest.raises(ValueError, match="unknown activation swish"):
        load_network(path)


def test_mnist_draws_misclassified_digits_with_purenn_plot(capsys):
    # one digit renderer: the mnist command's pictures are plot_digit's compact text
    from purenn.datasets import load_mnist
    from purenn.plot import plot_digit
    assert main(["mnist", "--limit", "10", "--show", "1"]) == 0
    out = capsys.readouterr().out
    assert "#8: is 5, seen 6" in out                  # the bundled network's first miss
    x, _ = load_mnist(kind="test")
    picture = [l.rstrip() for l in plot_digit(x[8]).text_lines("unicode", compact=True)]
    assert "\n".join(picture) in out


def test_draw_digit_shades_and_halves_rows():
    image = [0.0] * 28 + [1.0] * 28 + [0.5] * 28 + [0.0] * (28 * 25)
    lines = draw_digit(image)
    assert len(lines) == 14
    assert lines[:3] == ["@" * 28, "=" * 28, " " * 28]


@pytest.mark.processes
def test_python_dash_m_purenn_mnist_runs_from_a_clone(no_default_weights):
    # the README's command, in a fresh interpreter, from the project folder: with
    # no weights of the user's, it runs the network purenn trained and ships
    result = subprocess.run([sys.executable, "-m", "purenn", "mnist", "--limit", "1000"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True, env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    assert "mnist-784-50-100-10-sigmoid.json.gz" in result.stdout
    assert "Accuracy: 0.9" in result.stdout


@pytest.mark.skipif(sys.platform == "emscripten",
                    reason="Pyodide has no threads: the test below is what it gets")
def test_download_command_fails_fast_offline(tmp_path, capsys):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()                                   # nothing listens there now
    code = main(["download-mnist", "--dir", str(tmp_path / "d"),
                 "--mirror", "http://127.0.0.1:%d/" % port, "--quiet"])
    assert code == 1
    err = capsys.readouterr().err
    assert "train-images-idx3-ubyte.gz" in err and "PURENN_MNIST_DIR" in err


def test_unusable_weights_get_a_message_not_a_traceback(tmp_path, capsys):
    bad = tmp_path / "bad.pkl"
    bad.write_bytes(b"\x80\x03cos\nsystem\nq\x00.")
    assert main(["mnist", "--weights", str(bad)]) == 1
    assert "refusing to load os.system" in capsys.readouterr().err
    assert main(["mnist", "--weights", str(tmp_path / "missing.pkl")]) == 1
    assert "cannot use" in capsys.readouterr().err
    small = str(tmp_path / "small.json.gz")
    save_params(small, {"W1": [[1.0, 0.0], [0.0, 1.0]], "b1": [0.0, 0.0]})
    assert main(["mnist", "--weights", small]) == 1
    assert "takes 2 inputs" in capsys.readouterr().err
    assert main(["mnist", "--weights", small, "--batch-size", "0"]) == 2   # bad usage


# ----------------------------------------- files that are not what they claim

def test_a_multilayernet_with_batchnorm_or_dropout_loads_as_itself(tmp_path):
    # MultiLayerNet.save writes no "activations" for these: the old loader took
    # sigmoid and dropped gamma, beta and the running averages without a word
    from purenn.multilayer import MultiLayerNet
    x = Matrix.uniform(5, 12, seed=1)
    for kw, words in (({"use_batchnorm": True}, "(relu, batchnorm)"),
                      ({"use_dropout": True, "dropout_ratio": 0.5}, "(relu, dropout 0.5")):
        net = MultiLayerNet(12, [6], 3, activation="relu", seed=0, **kw)
        if kw.get("use_batchnorm"):
            net.predict(Matrix.uniform(8, 12, seed=3), train_flg=True)  # running averages
        path = str(tmp_path / "net.json.gz")
        net.save(path)
        loaded, description = load_network(path)
        assert description.startswith("12-6-3 ") and words in description
        assert loaded.input_size == 12
        assert loaded.predict(x) == net.predict(x)               # inference mode, exact
        assert predict_labels(loaded, x, 2) == net.predict(x).argmax(axis=1)


def test_a_multilayernet_config_must_fit_its_weights(tmp_path):
    from purenn.multilayer import MultiLayerNet
    from purenn.weights import load_params
    net = MultiLayerNet(4, [3], 2, seed=0, use_batchnorm=True)
    path = str(tmp_path / "net.json.gz")
    net.save(path)
    params, meta = load_params(path)
    meta["config"]["hidden_size_list"] = [10 ** 6]      # would build a huge matrix
    save_params(path, params, meta)
    with pytest.raises(DataError, match="do not fit the saved W matrices"):
        load_network(path)


@pytest.mark.parametrize("params, meta, words", [
    ({"W1": [[1.0]], "b1": [0.0], "gamma1": [1.0]}, {}, "gamma1 are not layer weights"),
    ({"W1": [[1.0]], "b1": [0.0], "W3": [[1.0]], "b3": [0.0]}, {}, "without gaps"),
    ({"W1": [[1.0]], "b1": [0.0], "W2": [[1.0]]}, {}, "without gaps"),
    ({"W1": [[1.0]], "b1": [0.0]}, {"activations": [["sigmoid"]]}, "must be a list of names"),
    ({"W1": [[1.0]], "b1": [0.0]}, {"activations": "softmax"}, "must be a list of names"),
    ({"W1": [[1.0]], "b1": [0.0]}, {"activations": ["sigmoid", "softmax"]},
     "2 activations for 1 layers"),
    ({"W1": [[float("nan")]], "b1": [0.0]}, {}, "needs finite weights"),
    ({"W1": [[1.0]], "b1": [float("inf")]}, {}, "needs finite weights"),
])
def test_weights_that_are_not_a_plain_network_are_refused(tmp_path, params, meta, words):
    path = str(tmp_path / "w.json.gz")
    save_params(path, params, meta)
    with pytest.raises(DataError, match=words):
        load_network(path)


def test_weights_nested_too_deep_are_a_message(tmp_path, capsys):
    path = tmp_path / "deep.json"
    # 100,000 levels: a fatal stack overflow of Pyodide's JSON parser, and a
    # RecursionError of CPython's, unless refused before parsing (as now)
    path.write_text('{"format": "purenn-weights", "version": 1, "params": '
                    + "[" * 100000 + "]" * 100000 + "}")
    assert main(["mnist", "--weights", str(path)]) == 1
    err = capsys.readouterr().err
    assert "cannot use" in err and "JSON nested 100001 deep" in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_ints_beyond_the_float_range_are_a_message_not_an_overflow(tmp_path, capsys):
    path = str(tmp_path / "huge.json.gz")
    save_params(path, {"W1": [[10 ** 400]] * 784, "b1": [0.0]})
    assert main(["mnist", "--weights", path, "--limit", "5"]) == 1
    err = capsys.readouterr().err
    assert "cannot use" in err and "beyond the float range" in err


@pytest.mark.processes
def test_a_tiny_pickle_of_shared_lists_does_not_hang_mnist(tmp_path):
    import pickle
    x = []
    for _ in range(40):
        x = [x, x]
    path = tmp_path / "dag.pkl"
    path.write_bytes(pickle.dumps({"W1": x}, 2))
    result = subprocess.run([sys.executable, "-m", "purenn", "mnist", "--weights", str(path)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True, timeout=60)
    assert result.returncode == 1
    assert "nested containers are refused" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def broken_mnist(tmp_path, monkeypatch):
    folder = tmp_path / "badmnist"
    folder.mkdir()
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(b"garbage")
    shutil.copy(os.path.join(DATA_DIR, "t10k-labels-idx1-ubyte.gz"), str(folder))
    monkeypatch.setenv("PURENN_MNIST_DIR", str(folder))
    return folder


def test_a_broken_mnist_test_set_is_a_message(broken_mnist, capsys):
    assert main(["mnist", "--limit", "10"]) == 1
    err = capsys.readouterr().err
    assert "cannot read the MNIST test set" in err and "t10k-images-idx3-ubyte.gz" in err


def test_the_tour_goes_on_past_a_broken_mnist_test_set(broken_mnist, capsys, monkeypatch):
    from purenn.cli import mnist as mnist_cli
    real, calls = mnist_cli.main_mnist, []

    def first_ten(weights, batch_size, limit, show, **options):   # the tour runs all 10,000
        calls.append(weights)
        return real(weights, batch_size, 10, show, **options)

    monkeypatch.setattr(mnist_cli, "main_mnist", first_ten)
    assert main([]) == 1                          # a part failed
    captured = capsys.readouterr()
    assert calls and "purenn mnist: cannot read the MNIST test set" in captured.err
    assert "Chapter 6.1" in captured.out          # the tour went on after the message


def test_mnist_help_names_the_bundled_default(capsys):
    assert main(["mnist", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "PURENN_WEIGHTS" in out and "sample_weight.pkl" in out
    assert "the network purenn trained itself and ships" in out


# ------------------------------------------------ options that cannot be

@pytest.mark.parametrize("mirror, words", [
    ("", "need an http:// or https:// URL"),
    ("ftp://example.org/mnist/", "need an http:// or https:// URL"),
    ("example.org/mnist", "need an http:// or https:// URL"),
    ("http://127.0.0.1:abc/", "the port must be a number from 0 to 65535"),
])
def test_download_refuses_a_mirror_that_is_no_http_url(tmp_path, capsys, mirror, words):
    # an empty --mirror used to fall back to the internet mirrors without a word
    assert main(["download-mnist", "--dir", str(tmp_path), "--mirror", mirror]) == 2
    assert "purenn download-mnist: argument --mirror: " in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("show", ["-1", "-100"])
def test_mnist_refuses_a_negative_number_of_digits_to_show(capsys, show):
    assert main(["mnist", "--show=" + show]) == 2
    assert "purenn mnist: argument --show: need at least 0, got %s" % show in \
        capsys.readouterr().err


def test_mnist_show_0_draws_no_digit(capsys):
    assert main(["mnist", "--limit", "300", "--show", "0"]) == 0
    assert "misclassified" not in capsys.readouterr().out


def test_mnist_show_draws_that_many_misclassified_digits(capsys):
    assert main(["mnist", "--limit", "300", "--show", "2"]) == 0
    out = capsys.readouterr().out
    assert out.count(", seen ") == 2


@needs_book
@pytest.mark.processes
def test_mnist_with_two_workers_reports_what_one_worker_reports(capsys):
    reports = []
    for workers in ("1", "2"):
        assert main(["mnist", "--weights", BOOK_PKL, "--limit", "300", "--show", "2",
                     "--workers", workers]) == 0
        out = capsys.readouterr().out
        reports.append([line for line in out.splitlines() if not line.startswith("Speed")])
    assert reports[0] == reports[1]


def test_mnist_refuses_a_bad_worker_count(capsys):
    assert main(["mnist", "--workers", "0"]) == 2
    assert "purenn mnist: argument --workers: need a whole number >= 1 or auto" \
        in capsys.readouterr().err


def test_download_command_without_threads_is_one_line(tmp_path, capsys, monkeypatch):
    # Pyodide: threading.Timer.start raised "can't start new thread" as a traceback
    import threading

    def no_threads(self):
        raise RuntimeError("can't start new thread")
    monkeypatch.setattr(threading.Timer, "start", no_threads)
    code = main(["download-mnist", "--dir", str(tmp_path / "d"),
                 "--mirror", "http://127.0.0.1:9/", "--quiet"])
    err = capsys.readouterr().err
    assert code == 1 and len(err.splitlines()) == 1
    assert "cannot start one (Pyodide, WASI)" in err and "PURENN_MNIST_DIR" in err
