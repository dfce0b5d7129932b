"""The command line's one error convention: every failure is one line
``purenn <command>: <message>`` on stderr and an exit status (2 bad usage,
1 a failed job, 130 Ctrl-C), never a traceback; a broken pipe is quiet."""
import os
import signal
import socket
import subprocess
import sys

import pytest

from purenn import DataError, ShapeError
from purenn.cli import chapters, main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def failure(capsys, argv):
    """Run the CLI in this process -> (exit status, the lines it wrote on stderr)."""
    status = main(argv)
    return status, capsys.readouterr().err.splitlines()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()                                   # nothing listens there now
    return port


def child(*args, **kw):
    """``python -m purenn ARGS`` as a Popen, with Ctrl-C delivered as in a
    terminal (a parent that ignores SIGINT would pass that on)."""
    return subprocess.Popen([sys.executable, "-m", "purenn"] + list(args), cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"),
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL), **kw)


# -------------------------------------------------------- the one line

def test_a_failed_job_is_one_line_naming_the_command_and_status_1(tmp_path, capsys):
    status, lines = failure(capsys, ["plot", "sigmoid", "--svg", str(tmp_path)])
    assert status == 1
    assert lines == ["purenn plot: cannot write %s: Is a directory" % tmp_path]


def test_a_usage_error_of_a_command_is_one_line_and_status_2(capsys):
    status, lines = failure(capsys, ["explain", "matmul", "[[1, 2]]", "[[1, 2]]"])
    assert status == 2
    assert lines == ["purenn explain: matmul: (1, 2) @ (1, 2): columns of the left (2) must "
                     "equal rows of the right (1)"]


@pytest.mark.parametrize("argv, line", [
    (["bogus"], "purenn: argument COMMAND: invalid choice: 'bogus'"),
    (["network", "--x", "1"], "purenn network: argument --x: expected 2 arguments"),
    (["explain", "gate", "NOR", "1", "1"], "purenn explain gate: argument GATE: invalid choice"),
])
def test_argparse_errors_print_the_usage_then_the_same_one_line(capsys, argv, line):
    status, lines = failure(capsys, argv)
    assert status == 2
    assert lines[0].startswith("usage: purenn")
    assert lines[-1].startswith(line)


def _raising(error):
    def cmd(args):
        raise error
    return cmd


@pytest.mark.parametrize("error, line", [
    (DataError("x.idx: truncated after 16 bytes"), "purenn gates: x.idx: truncated after 16 bytes"),
    (ShapeError("matmul: (1, 2) @ (3, 2)"), "purenn gates: matmul: (1, 2) @ (3, 2)"),
    (ValueError("gradient_check: cannot check"), "purenn gates: gradient_check: cannot check"),
    (FileNotFoundError(2, "No such file or directory", "w.pkl"),
     "purenn gates: w.pkl: No such file or directory"),
    (PermissionError(13, "Permission denied"), "purenn gates: [Errno 13] Permission denied"),
])
def test_a_library_error_a_command_lets_through_is_one_line_and_status_1(
        monkeypatch, capsys, error, line):
    monkeypatch.setattr(chapters, "cmd_gates", _raising(error))
    assert failure(capsys, ["gates"]) == (1, [line])


def test_a_bug_keeps_its_traceback(monkeypatch):
    # a TypeError from purenn's own code is a bug to fix, not a message to read
    monkeypatch.setattr(chapters, "cmd_gates", _raising(TypeError("a bug")))
    with pytest.raises(TypeError, match="a bug"):
        main(["gates"])


def test_control_characters_in_a_message_are_escaped(monkeypatch, capsys):
    monkeypatch.setattr(chapters, "cmd_gates", _raising(DataError("bad\x1b[2J\rname")))
    assert failure(capsys, ["gates"]) == (1, ["purenn gates: bad\\x1b[2J\\x0dname"])


def test_a_long_message_is_cut_short(monkeypatch, capsys):
    monkeypatch.setattr(chapters, "cmd_gates", _raising(DataError("x" * 10 ** 6)))
    status, lines = failure(capsys, ["gates"])
    assert len(lines) == 1 and len(lines[0]) < 2100
    assert lines[0].endswith("... (998000 more characters)")


def test_help_returns_0_instead_of_raising_systemexit(capsys):
    assert main(["mnist", "--help"]) == 0
    assert "usage: purenn mnist" in capsys.readouterr().out


# ---------------------------------------------------------- the cases

def test_plot_svg_in_a_missing_folder_is_a_message(tmp_path, capsys):
    target = tmp_path / "no" / "such" / "folder" / "a.svg"
    status, lines = failure(capsys, ["plot", "sigmoid", "--svg", str(target)])
    assert status == 1 and lines[0].startswith("purenn plot: cannot write")
    assert not target.exists()


def test_plot_svg_still_writes(tmp_path, capsys):
    target = tmp_path / "a.svg"
    assert main(["plot", "sigmoid", "--svg", str(target)]) == 0
    assert target.read_text().startswith("<?xml")


@pytest.mark.parametrize("a, b", [("[[NaN]]", "[[1]]"), ("[[1e400]]", "[[1]]"),
                                  ("[[-Infinity, 1]]", "[[1], [2]]")])
def test_explain_exact_of_nan_or_inf_is_a_usage_error(capsys, a, b):
    status, lines = failure(capsys, ["explain", "matmul", a, b, "--exact"])
    assert status == 2 and "--exact needs finite numbers" in lines[0]


def test_explain_network_exact_of_nan_is_a_usage_error(capsys):
    status, lines = failure(capsys, ["explain", "network", "--x", "nan", "1", "--exact"])
    assert status == 2 and "--exact needs finite numbers, got nan" in lines[0]


def test_explain_matmul_of_brackets_nested_too_deep_is_a_usage_error(capsys):
    deep = "[" * 50000 + "]" * 50000
    status, lines = failure(capsys, ["explain", "matmul", deep, "[[1]]"])
    assert status == 2
    assert lines == ["purenn explain: matmul: A must be a list such as [[1, 2], [3, 4]], got "
                     "'%s... (100000 characters)" % ("[" * 59)]


def test_explain_exact_still_works(capsys):
    main(["explain", "matmul", "[[0.1]]", "[[3]]", "--exact"])
    assert "3/10" in capsys.readouterr().out


@pytest.mark.processes
def test_download_into_a_folder_that_cannot_be_made_is_a_message(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    status = main(["download-mnist", "--dir", str(blocker / "mnist"), "--quiet",
                   "--mirror", "http://127.0.0.1:%d/" % free_port()])
    assert status == 1
    assert "cannot create the folder %s" % (blocker / "mnist") in capsys.readouterr().err


# ------------------------------------------------ Ctrl-C and broken pipes

def test_ctrl_c_in_a_command_is_one_line_and_status_130(monkeypatch, capsys):
    monkeypatch.setattr(chapters, "cmd_gates", _raising(KeyboardInterrupt()))
    status, lines = failure(capsys, ["gates"])
    assert status == 130
    assert [l for l in lines if l] == ["purenn gates: interrupted"]


def _interrupt_when(proc, words):
    """Wait for stdout to show ``words``, then press Ctrl-C; -> (status, stdout, stderr)."""
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if words in line:
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, "".join(seen) + out, err


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a child process is POSIX")
@pytest.mark.processes
def test_ctrl_c_in_mnist_exits_130_with_one_line_and_no_traceback():
    code, out, err = _interrupt_when(child("mnist"), "MNIST test set: 10000 images")
    assert code == 130
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert err.rstrip("\n").split("\n")[-1] == "purenn mnist: interrupted"
    assert err.count("purenn mnist") == 1
    assert "Accuracy" not in out                    # it stopped mid-run


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a child process is POSIX")
@pytest.mark.processes
def test_ctrl_c_in_train_leaves_the_old_save_file_as_it_was(tmp_path):
    save, svg = tmp_path / "net.json.gz", tmp_path / "curves.svg"
    save.write_bytes(b"the weights of an earlier run")
    code, out, err = _interrupt_when(
        child("train", "--epochs", "50", "--save", str(save), "--svg", str(svg)),
        "digits: 3823 training")
    assert code == 130 and "Traceback" not in err
    assert save.read_bytes() == b"the weights of an earlier run"
    assert sorted(os.listdir(str(tmp_path))) == ["net.json.gz"]   # no svg, no temporary file


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a child process is POSIX")
@pytest.mark.processes
def test_ctrl_c_in_the_tour_exits_130_with_one_line():
    code, out, err = _interrupt_when(child(), "Chapter 3.2")
    assert code == 130 and "Traceback" not in err
    assert err.rstrip("\n").split("\n")[-1] == "purenn tour: interrupted"
    assert err.count("purenn tour") == 1


@pytest.mark.processes
def test_a_broken_pipe_ends_quietly():
    # far more output than a pipe holds: the reader's close breaks the pipe mid-write
    proc = child("activations", "--x", *["1"] * 20000)
    proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read()
    proc.wait(timeout=60)
    assert proc.returncode == 0 and err == ""


# ------------------------------------------- empty names, special files, names

@pytest.mark.parametrize("argv, words", [
    (["mnist", "--weights", ""], "purenn mnist: --weights '': give the name of a weights file"),
    (["plot", "--svg", ""], "purenn plot: --svg '': give the name of the SVG file to write"),
    (["download-mnist", "--dir", ""], "purenn download-mnist: --dir '': give a folder"),
])
def test_an_empty_file_name_is_a_usage_error_not_the_default(capsys, argv, words):
    # each silently did something else: the default weights, the text plot,
    # the cache folder
    status, lines = failure(capsys, argv)
    assert status == 2 and len(lines) == 1 and lines[0].startswith(words)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_plot_svg_to_a_fifo_is_refused_and_the_fifo_stays(tmp_path, capsys):
    fifo = str(tmp_path / "fifo")
    os.mkfifo(fifo)
    status, lines = failure(capsys, ["plot", "--svg", fifo])
    assert status == 1 and lines == ["purenn plot: cannot write %s: not a regular file (a "
                                     "device, a FIFO or a socket); purenn writes regular files "
                                     "only" % fifo]
    assert os.listdir(str(tmp_path)) == ["fifo"]


@pytest.mark.skipif(not hasattr(os, "mkfifo") or os.name != "posix", reason="FIFOs are POSIX")
@pytest.mark.processes
def test_mnist_with_a_fifo_as_weights_is_a_message_not_a_hang(tmp_path):
    # recognize.load_network opens the file itself: open() of a FIFO waits
    # for a writer forever
    fifo = str(tmp_path / "fifo")
    os.mkfifo(fifo)
    proc = child("mnist", "--weights", fifo)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert err == "purenn mnist: cannot use %s as weights: %s: not a regular file; a weights " \
                  "file must be a file on disk\n" % (fifo, fifo)


@pytest.mark.parametrize("name, shown", [
    ("a\x1b[31m\nb.svg", "'a\\x1b[31m\\nb.svg'"),
    pytest.param("\udcff\udcfe.svg", "'\\udcff\\udcfe.svg'",   # bytes that are not UTF-8
                 marks=pytest.mark.skipif(sys.platform == "emscripten", reason=(
                     "Pyodide's file system keeps names as UTF-8 text: no such name there"))),
])
def test_a_file_name_is_printed_escaped(tmp_path, monkeypatch, capsys, name, shown):
    # raw, it recoloured the terminal, or (not UTF-8, PYTHONIOENCODING=utf-8)
    # failed to print after the file was written
    monkeypatch.chdir(tmp_path)
    assert main(["plot", "--svg", name]) == 0
    assert capsys.readouterr().out == "wrote %s\n" % shown
    assert os.listdir(".") == [name]


@pytest.mark.skipif(os.name != "posix", reason="closing a child's descriptors is POSIX")
@pytest.mark.processes
@pytest.mark.parametrize("closed, argv, status", [
    (1, ["gates"], 0),                                       # was an AttributeError traceback
    (2, ["mnist", "--limit", "10", "--show", "0"], 0),       # (its progress bar): status 1
    (2, ["plot", "digit", "--pixels", os.devnull], 1),       # the message goes nowhere
])
def test_a_closed_stdout_or_stderr_is_no_traceback(closed, argv, status):
    proc = subprocess.Popen([sys.executable, "-m", "purenn"] + argv, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True, preexec_fn=lambda: os.close(closed))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == status
    assert "Traceback" not in out + err


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a child process is POSIX")
@pytest.mark.processes
def test_ctrl_c_pressed_three_times_is_still_one_line_and_status_130():
    # the second press came while purenn printed "interrupted" or while
    # Python shut down: a KeyboardInterrupt traceback from threading, or
    # death by SIGINT (6 of 8 runs)
    proc = child("mnist")
    for line in proc.stdout:
        if "MNIST test set" in line:
            break
    for _ in range(3):
        proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert err.rstrip("\n").split("\n")[-1] == "purenn mnist: interrupted"
