"""A folder for a MicroPython board (purenn.board, purenn/board_main.py,
``python -m purenn export``) and the ``precision`` command: the folder holds
what the board needs and runs, as it is, on CPython too."""
import os
import re
import subprocess
import sys

import pytest

from purenn import compact
from purenn.board import FILES, samples_for
from purenn.cli import main
from purenn.precision import OPTDIGITS_NETWORK, shipped_path

pytestmark = pytest.mark.ch8

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MNIST_RELU = os.path.join(ROOT, "purenn", "data", "mnist-784-50-100-10-relu.json.gz")


def export(tmp_path, *args):
    out = str(tmp_path / "board")
    return main(["export"] + list(args) + [out]), out


def export_txt(out):
    with open(os.path.join(out, "export.txt")) as f:
        return f.read()


def accuracy_in(text, label):
    m = re.search(r"^%s[^:]*: (0\.\d{4}) \((\d+) of (\d+)\)" % re.escape(label), text, re.M)
    assert m, (label, text)
    return float(m.group(1)), int(m.group(2)), int(m.group(3))


def run_folder(out):
    """``python -S main.py`` in the folder: -S (no site-packages) and no
    PYTHONPATH, so that nothing of purenn can be imported but what the
    folder holds."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return subprocess.run([sys.executable, "-S", "main.py"], cwd=out, env=env,
                          capture_output=True, text=True, timeout=600)


# ------------------------------------------------------------ the folder

@pytest.mark.parametrize("dtype", ["int8", "float16", "float32"])
def test_export_writes_the_folder_a_board_needs(tmp_path, capsys, dtype):
    status, out = export(tmp_path, "--dtype", dtype, "--samples", "50")
    assert status == 0
    assert sorted(os.listdir(out)) == sorted(FILES)
    assert compact.load(os.path.join(out, "network.bin")).dtype == dtype
    assert len(list(compact.read_samples(os.path.join(out, "samples.bin")))) == 50
    assert "%s accuracy" % dtype in capsys.readouterr().out


def test_the_folder_carries_purenns_reader_as_it_is(tmp_path):
    status, out = export(tmp_path, "--samples", "5")
    for name, source in (("compact.py", "compact.py"), ("main.py", "board_main.py")):
        with open(os.path.join(out, name), "rb") as a, \
                open(os.path.join(ROOT, "purenn", source), "rb") as b:
            assert a.read() == b.read()


def test_export_txt_records_the_command_and_the_float64_accuracy(tmp_path):
    status, out = export(tmp_path, "--samples", "100")
    text = export_txt(out)
    assert "command: python -m purenn export --dtype int8 --samples 100 " in text
    assert OPTDIGITS_NETWORK in text and "100 optdigits test images" in text
    accuracy, correct, total = accuracy_in(text, "float64 accuracy")
    assert total == 100 and 90 <= correct <= 100


@pytest.mark.processes
def test_the_folder_runs_on_cpython(tmp_path):
    status, out = export(tmp_path, "--samples", "200")
    run = run_folder(out)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "network: CompactNetwork(64-100-10 int8, 8352 bytes), arrays 9160 bytes"
    assert lines[2] == ("heap: not measured (%s has no gc.mem_alloc); 64-bit floats"
                        % sys.implementation.name)
    board, _, total = accuracy_in(run.stdout, "accuracy")
    stored, _, _ = accuracy_in(export_txt(out), "int8 accuracy")
    assert total == 200 and abs(board - stored) <= 0.005, run.stdout


@pytest.mark.slow
@pytest.mark.processes
@pytest.mark.parametrize("dtype", ["int8", "float16", "float32"])
def test_the_folder_runs_on_cpython_within_half_a_point_of_float64(tmp_path, dtype):
    status, out = export(tmp_path, "--dtype", dtype)
    run = run_folder(out)
    board, _, total = accuracy_in(run.stdout, "accuracy")
    reference, _, _ = accuracy_in(export_txt(out), "float64 accuracy")
    assert total == 1797 and abs(board - reference) <= 0.005, run.stdout


@pytest.mark.slow
@pytest.mark.processes
def test_the_mnist_int8_folder_runs_within_half_a_point_of_float64(tmp_path):
    status, out = export(tmp_path, "--weights", MNIST_RELU, "--samples", "300")
    run = run_folder(out)
    board, _, total = accuracy_in(run.stdout, "accuracy")
    reference, _, _ = accuracy_in(export_txt(out), "float64 accuracy")
    assert total == 300 and abs(board - reference) <= 0.005, run.stdout


@pytest.mark.processes
@pytest.mark.parametrize("name, damage, message", [
    ("network.bin", lambda d: d[:-3], "truncated"),
    ("network.bin", lambda d: d[:100] + bytes([d[100] ^ 4]) + d[101:], "checksum does not match"),
    ("samples.bin", lambda d: d[:30] + bytes([d[30] ^ 1]) + d[31:], "checksum does not match"),
    ("samples.bin", lambda d: d[:-1], "truncated"),
])
def test_a_damaged_file_in_the_folder_is_one_error_line(tmp_path, name, damage, message):
    status, out = export(tmp_path, "--samples", "20")
    path = os.path.join(out, name)
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(damage(data))
    run = run_folder(out)
    assert run.returncode == 1 and "Traceback" not in run.stdout + run.stderr
    assert re.match(r"error: \S*/%s: " % name, run.stdout.splitlines()[-1]), run.stdout
    assert message in run.stdout


@pytest.mark.processes
def test_a_missing_network_is_one_error_line(tmp_path):
    status, out = export(tmp_path, "--samples", "5")
    os.remove(os.path.join(out, "network.bin"))
    run = run_folder(out)
    assert run.returncode == 1 and run.stdout.startswith("error: ")


def test_board_main_measures_the_heap_where_gc_can(tmp_path, monkeypatch, capsys):
    from purenn import board_main
    status, out = export(tmp_path, "--samples", "10")
    capsys.readouterr()
    values = iter(range(1000, 100000, 1000))
    monkeypatch.setattr(board_main.gc, "mem_alloc", lambda: next(values), raising=False)
    monkeypatch.setattr(board_main.gc, "mem_free", lambda: 0, raising=False)
    assert board_main.main(out) == 0
    heap = capsys.readouterr().out.splitlines()[-1]
    assert re.match(r"heap: \d+ bytes at most \(gc.mem_alloc\(\) high-water mark\), of \d+; "
                    r"64-bit floats$", heap), heap


# -------------------------------------------------------- the command line

@pytest.mark.parametrize("args, status, message", [
    (["--samples", "0"], 2, "argument --samples: need at least 1, got 0"),
    (["--samples", "5000"], 1, "5000 samples asked for; optdigits has 1 to 1797"),
    (["--weights", "/nonexistent/net.json.gz"], 1, "cannot export /nonexistent/net.json.gz"),
])
def test_export_refuses_with_one_message_line(tmp_path, capsys, args, status, message):
    got, out = export(tmp_path, *args)
    last = capsys.readouterr().err.splitlines()[-1]
    assert got == status and last.startswith("purenn export: ") and message in last, last
    assert not os.path.exists(out)


def test_export_refuses_a_network_without_test_samples(tmp_path, capsys):
    from purenn.multilayer import MultiLayerNet
    path = str(tmp_path / "net.json.gz")
    MultiLayerNet(10, [4], 3).save(path)
    status, out = export(tmp_path, "--weights", path)
    assert status == 1
    assert "network with 10 inputs; the test samples purenn ships are MNIST's (784 inputs) " \
           "and optdigits' (64)" in capsys.readouterr().err


def test_export_into_a_file_is_an_error(tmp_path, capsys):
    path = tmp_path / "board"
    path.write_text("not a folder")
    assert main(["export", "--samples", "5", str(path)]) == 1
    assert "is a file; give a folder" in capsys.readouterr().err


BOOK_WEIGHTS = os.path.join(ROOT, "..", "shared", "book", "sample_weight.pkl")


@pytest.mark.parametrize("weights", [
    os.path.join(ROOT, "purenn", "data", "mnist-784-50-100-10-sigmoid.json.gz"),
    pytest.param(BOOK_WEIGHTS, marks=pytest.mark.skipif(
        not os.path.exists(BOOK_WEIGHTS), reason="the book's sample_weight.pkl is not in "
                                                 "../shared/book/ (it is not purenn's to ship)")),
])
def test_export_takes_a_stack_of_layers_like_the_books(tmp_path, weights):
    status, out = export(tmp_path, "--weights", weights, "--samples", "20")
    assert status == 0
    assert compact.load(os.path.join(out, "network.bin")).sizes == [784, 50, 100, 10]
    assert "20 MNIST test images" in export_txt(out)


def test_samples_for_mnist_are_raw_pixels():
    s = samples_for(784, 3)
    assert [label for label, _ in s.raw] == [7, 2, 1] and max(s.raw[0][1]) == 255
    assert s.input_scale == 1 / 255 and s.x.shape == (3, 784)


def test_precision_command_prints_the_table(capsys):
    assert main(["precision", "--networks", "optdigits", "--limit", "200", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "float64" in out and "int8-layer" in out and "compact file, bytes" in out
    line = [l for l in out.splitlines() if l.startswith("optdigits")][0]
    assert re.search(r"\s200\s+\d+\.\d\d %\s+\d+\.\d\d % \(\d+\)", line), line
    assert "8,352" in out


@pytest.mark.parametrize("args, message", [
    (["--networks", "cifar"], "unknown network cifar; known: optdigits, mnist-sigmoid"),
    (["--limit", "0"], "argument --limit: need at least 1, got 0")])
def test_precision_command_refuses_with_one_message_line(capsys, args, message):
    assert main(["precision"] + args) == 2
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.startswith("purenn precision: ") and message in last, last


# ------------------------------------------- the CI rows under a board's heap

def _runtimes():
    import importlib.util
    spec = importlib.util.spec_from_file_location("runtimes", os.path.join(ROOT, "ci",
                                                                           "runtimes.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RUN = ("network: CompactNetwork(64-100-10 int8, 8352 bytes), arrays 9160 bytes\n"
       "accuracy: %s\nheap: %d bytes at most (gc.mem_alloc() high-water mark), of %d; "
       "64-bit floats\n")
EXPORT_TXT = "precision: int8\nfloat64 accuracy: 0.9722 (1747 of 1797)\n"


@pytest.mark.parametrize("output, ok, says", [
    (RUN % ("0.9716 (1746 of 1797)", 30912, 101120), True,
     "accuracy 0.9716 (1746 of 1797; float64 0.9722), heap 30912 of 101120 bytes"),
    (RUN % ("0.9666 (1737 of 1797)", 30912, 101120), False, "more than 0.5 points"),
    (RUN % ("0.9716 (194 of 200)", 30912, 101120), False, "not the samples"),
    (RUN % ("0.9716 (1746 of 1797)", 30912, 194304), False, "beyond the heap"),
    ("network: ...\naccuracy: 0.9716 (1746 of 1797)\n", False, "no heap line"),
    ("error: ./network.bin: layer 1 (784 x 50 float32) does not fit in the heap\n", False,
     "does not fit in the heap"),
])
def test_a_board_row_passes_only_when_it_fits_and_keeps_its_accuracy(output, ok, says):
    got_ok, summary = _runtimes().board_outcome(output, EXPORT_TXT, 100 * 1024)
    assert got_ok is ok and says in summary, summary


def test_the_board_rows_cover_both_heaps_and_the_int8_mnist_network():
    runs = _runtimes().BOARD_RUNS
    for need in [("192K", "optdigits", "int8"), ("192K", "optdigits", "float32"),
                 ("100K", "optdigits", "int8"), ("100K", "optdigits", "float32"),
                 ("192K", "mnist-sigmoid", "int8")]:
        assert need in runs
