"""``python -m purenn mnist`` and ``download-mnist`` as a user runs them."""
import os
import subprocess
import sys

import pytest

from purenn import Matrix, Network, sigmoid, softmax
from purenn.cli import main
from purenn.pickles import load_book_weights
from purenn.recognize import draw_digit, load_network, predict_batches
from purenn.weights import save_params

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
    x, t = load_mnist()
    x = x[:200]
    net_pkl, _ = load_network(BOOK_PKL)
    net_json, description = load_network(path)
    assert description == "784-50-100-10 (sigmoid, sigmoid, softmax)"
    assert predict_batches(net_pkl, x) == predict_batches(net_json, x)
    for a, b in zip(net_pkl.layers, net_json.layers):
        assert a.W == b.W and a.b == b.b                      # exact, bit for bit


def test_default_activations_and_bad_names(tmp_path):
    path = str(tmp_path / "tiny.json.gz")
    save_params(path, {"W1": [[1.0, 0.0], [0.0, 1.0]], "b1": [0.0, 0.0],
                       "W2": [[1.0, 0.0], [0.0, 1.0]], "b2": [0.0, 0.0]})
    net, description = load_network(path)
    assert description == "2-2-2 (sigmoid, softmax)"
    assert predict_batches(net, Matrix([[3.0, 1.0], [0.0, 2.0]]), batch_size=1) == [0, 1]
    save_params(path, {"W1": [[1.0]], "b1": [0.0]}, meta={"activations": ["swish"]})
    with pytest.raises(ValueError, match="unknown activation swish"):
        load_network(path)


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
    assert main(["mnist", "--weights", small, "--batch-size", "0"]) == 1
