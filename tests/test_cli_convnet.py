"""``python -m purenn convnet`` and ``train --network simple_convnet`` (chapters 7-8)."""
import os
import xml.etree.ElementTree as ET

import pytest

from purenn.cli import main

pytestmark = pytest.mark.ch7

BOOK = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..",
                    "shared", "book")


def book(name):
    path = os.path.join(BOOK, name)
    if not os.path.isfile(path):
        pytest.skip("the book's %s is not in ../shared/book" % name)
    return path


def test_convnet_names_the_books_file_and_scores_it(capsys):
    assert main(["convnet", "--weights", book("simple_convnet_params_2022.pkl"),
                 "--images", "100"]) == 0
    out = capsys.readouterr().out
    assert "simple_convnet_params_2022.pkl: ch07/params.pkl as the repository has it" in out
    assert "9600 of the 10,000" in out and "98 of 100 test images right" in out


@pytest.mark.parametrize("argv, status, message", [
    (["convnet", "--images", "0"], 2, "--images must be between 1 and 10000"),
    (["convnet", "--weights", "/no/such/file.pkl"], 1, "/no/such/file.pkl: No such file"),
    (["convnet", "activations", "--index", "10000"], 2, "--index must be between 0 and 9999"),
])
def test_convnet_refuses_bad_input_in_one_line(argv, status, message, capsys):
    assert main(argv) == status
    err = capsys.readouterr().err
    assert err.startswith("purenn convnet: ") and message in err and err.count("\n") == 1


def test_convnet_refuses_a_file_that_is_no_convnet(tmp_path, capsys):
    path = tmp_path / "x.json"
    path.write_text("{}")
    assert main(["convnet", "--weights", str(path)]) == 1
    assert "not a purenn weights file" in capsys.readouterr().err


def test_convnet_filters_draws_before_and_after_as_text_and_svg(tmp_path, capsys):
    svg = str(tmp_path / "filters.svg")
    assert main(["convnet", "filters", "--weights", book("simple_convnet_params_2016.pkl"),
                 "--svg", svg]) == 0
    out = capsys.readouterr().out
    assert "30 filters before learning" in out and "after learning" in out
    for i in (1, 2):
        root = ET.parse(str(tmp_path / ("filters-%d.svg" % i))).getroot()
        assert len(root.findall("{http://www.w3.org/2000/svg}g")) == 30


def test_convnet_activations_follows_one_image_to_its_class(capsys):
    assert main(["convnet", "activations", "--weights",
                 book("simple_convnet_params_2016.pkl"), "--index", "0"]) == 0
    out = capsys.readouterr().out
    assert "test image 0 (label 7)" in out and "after Pool1: 30 channels of 12x12" in out
    assert out.rstrip().endswith("predicted 7")


def test_convnet_misclassified_lists_label_and_inference_as_the_book(capsys):
    # the book's code on the 2016 file: image 18 is a 3 seen as 5, image 247 a 4 seen as 2
    assert main(["convnet", "misclassified", "--weights",
                 book("simple_convnet_params_2016.pkl"), "--max", "2"]) == 0
    out = capsys.readouterr().out
    assert "1: (3, 5), 2: (4, 2)" in out and "#18: 3, seen 5" in out


def test_convnet_half_float_table(capsys):
    assert main(["convnet", "half-float", "--images", "30", "--markdown", "--precisions",
                 "float64,float16", "--also", book("simple_convnet_params_2016.pkl")]) == 0
    out = capsys.readouterr().out
    assert "| network | float64 | float16 |" in out
    # 29 of the first 30 (image 18 is a 3 it takes for a 5), at either precision
    assert "| SimpleConvNet (simple_convnet_params_2016.pkl) | 0.9667 | 0.9667 |" in out


def test_convnet_gradcheck_passes_and_fails_by_tolerance(capsys):
    assert main(["convnet", "gradcheck"]) == 0
    assert "OK" in capsys.readouterr().out
    assert main(["convnet", "gradcheck", "--tol", "1e-20"]) == 1
    assert "FAILED" in capsys.readouterr().out


@pytest.mark.parametrize("option", [["--hidden", "5"], ["--activation", "relu"],
                                    ["--dropout", "0.5"]])
def test_train_simple_convnet_refuses_the_mlp_options(option, capsys):
    assert main(["train", "--network", "simple_convnet"] + option) == 2
    assert "for --network mlp" in capsys.readouterr().err


@pytest.mark.slow
def test_train_simple_convnet_saves_after_each_epoch_with_the_command(tmp_path, capsys):
    from purenn.convnet import SimpleConvNet, load_network
    path = str(tmp_path / "convnet.json.gz")
    assert main(["train", "--network", "simple_convnet", "--epochs", "1", "--quiet",
                 "--save", path]) == 0
    net = load_network(path)
    assert isinstance(net, SimpleConvNet) and net.input_dim == (1, 8, 8)
    assert net.notes["epochs"] == 1 and net.notes["command"].startswith(
        "python -m purenn train --network simple_convnet --dataset digits")
    assert "test accuracy" in capsys.readouterr().out
