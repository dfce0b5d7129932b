"""``python -m purenn``: the tour and its parts."""
import os
import re
import subprocess
import sys

import pytest

from purenn.cli import build_parser, main
from purenn.cli.tour import TOUR

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(*args):
    return subprocess.run([sys.executable, "-m", "purenn"] + list(args), cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_gates_prints_the_truth_tables(capsys):
    assert main(["gates"]) == 0
    out = capsys.readouterr().out
    assert "XOR" in out and out.count("(1, 1) -> 0") == 2  # NAND and XOR


def test_activations_table_and_softmax(capsys):
    main(["activations", "--x", "-1000", "0", "1000"])
    out = capsys.readouterr().out
    assert "sigmoid" in out and "softmax([-1000.0, 0.0, 1000.0])" in out


def test_network_shows_every_shape(capsys):
    main(["network"])
    out = capsys.readouterr().out
    assert "(1,2)·(2,3)+(1,3) -> (1,3)" in out
    assert "(1,3)·(3,2)+(1,2) -> (1,2)" in out
    assert "0.3168270764110298" in out


@pytest.mark.processes
def test_the_default_tour_runs_from_a_fresh_clone():
    r = run()
    assert r.returncode == 0, r.stderr
    assert "Chapter 2" in r.stdout and "(1,2)·(2,3)+(1,3) -> (1,3)" in r.stdout


@pytest.mark.parametrize("args", [["bogus"], ["network", "--x", "1"], ["activations", "--x", "a"]])
@pytest.mark.processes
def test_bad_arguments_get_usage_and_exit_2_not_a_traceback(args):
    r = run(*args)
    assert r.returncode == 2
    assert "usage:" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.processes
def test_help():
    r = run("--help")
    assert r.returncode == 0 and "gates" in r.stdout and "network" in r.stdout


@pytest.mark.parametrize("words", [w for _, lines in TOUR for w in lines], ids=" ".join)
def test_every_part_of_the_tour_is_a_command_line_the_parser_accepts(words):
    # the tour runs command lines, so every setting it uses is its command's default
    args = build_parser().parse_args(words)
    assert args.command == words[0] and callable(args.func)


# --------------------------------------------- what a newcomer types first

@pytest.mark.parametrize("argv", [["explain", "--exact"], ["explain", "network", "--exact"],
                                  ["explain", "gates", "--exact"],
                                  ["explain", "gate", "NAND", "1", "1", "--exact"],
                                  ["explain", "--exact", "gate", "NAND", "1", "1"],
                                  ["explain", "matmul", "[[0.1]]", "[[3]]", "--exact"]],
                         ids=" ".join)
def test_explain_takes_exact_with_every_what(capsys, argv):
    assert main(argv) == 0
    assert "/10" in capsys.readouterr().out           # 0.1 and 0.7 as tenths


@pytest.mark.parametrize("gate, x, line", [
    ("NAND", ("1", "1"), "NAND: w·x + b = (-1/2)×1 + (-1/2)×1 + 7/10 = -3/10 <= 0 -> 0"),
    ("and", ("1", "1"), "AND: w·x + b = (1/2)×1 + (1/2)×1 - 7/10 = 3/10 > 0 -> 1"),
    ("XOR", ("1", "0"), "  y = AND: w·x + b = (1/2)×1 + (1/2)×1 - 7/10 = 3/10 > 0 -> 1"),
])
def test_explain_gate_exact_writes_the_weights_as_fractions(capsys, gate, x, line):
    assert main(["explain", "gate", gate, x[0], x[1], "--exact"]) == 0
    assert line in capsys.readouterr().out.split("\n")


def test_explain_network_exact_keeps_the_input_given_before_the_word_network(capsys):
    assert main(["explain", "--x", "0.1", "0.2", "network", "--exact"]) == 0
    assert "x = [[1/10, 1/5]]" in capsys.readouterr().out


def test_explain_gate_help_names_its_inputs(capsys):
    assert main(["explain", "gate", "--help"]) == 0
    out = capsys.readouterr().out
    assert "GATE X1 X2" in out and "AND, OR, NAND or XOR" in out
    assert "the first input, 0 or 1" in out and "the second input, 0 or 1" in out


def test_version_is_the_version_in_pyproject(capsys):
    import re
    with open(os.path.join(ROOT, "pyproject.toml")) as f:
        version = re.search(r'^version = "([^"]+)"', f.read(), re.M).group(1)
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == "purenn %s\n" % version


def test_the_console_script_says_usage_purenn(capsys):
    assert main(["--help"]) == 0                      # what the `purenn` script runs
    assert capsys.readouterr().out.startswith("usage: purenn [-h]")


@pytest.mark.processes
def test_python_m_purenn_says_usage_python_m_purenn():
    r = run("--help")
    assert r.returncode == 0 and r.stdout.startswith("usage: python -m purenn [-h]")


@pytest.mark.parametrize("tol", ["-1", "0", "nan", "inf", "-inf"])
def test_gradcheck_refuses_a_tolerance_that_is_not_a_positive_number(capsys, tol):
    assert main(["gradcheck", "--tol=" + tol]) == 2
    assert "purenn gradcheck: argument --tol: need a" in capsys.readouterr().err


# --------------------------------------- the README's command table stays true

def readme_commands():
    """(command, the table's first cell) for each row of the README's command table."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    table = text[text.index("## The main job"):]
    table = table[:table.index("\n\n", table.index("| command |"))]
    rows = re.findall(r"^\| `python -m purenn ([a-z-]+)([^`]*)`", table, re.M)
    return [(name, name + rest) for name, rest in rows]


# a short run of each (the README's commands with their defaults take minutes)
QUICK = {"mnist": ["--limit", "200"], "train": ["--epochs", "1", "--hidden", "8", "--quiet"],
         "precision": ["--networks", "optdigits", "--limit", "100", "--quiet"],
         "export": ["--samples", "5", "{tmp_path}"]}


@pytest.mark.parametrize("name", [n for n, _ in readme_commands() if n != "download-mnist"])
def test_every_command_of_the_readme_table_runs(capsys, tmp_path, name):
    args = [a.replace("{tmp_path}", str(tmp_path / "out")) for a in QUICK.get(name, [])]
    assert main([name] + args) == 0, capsys.readouterr().err


@pytest.mark.processes
def test_the_readme_download_command_runs(tmp_path, capsys):
    # from a mirror on 127.0.0.1 that serves the test set purenn ships
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
    from purenn.datasets import DATA_DIR

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=DATA_DIR))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        status = main(["download-mnist", "--kind", "test", "--dir", str(tmp_path), "--quiet",
                       "--mirror", "http://127.0.0.1:%d/" % server.server_address[1]])
    finally:
        server.shutdown()
        server.server_close()
    assert status == 0, capsys.readouterr().err
    assert sorted(os.listdir(str(tmp_path))) == ["t10k-images-idx3-ubyte.gz",
                                                 "t10k-labels-idx1-ubyte.gz"]


@pytest.mark.parametrize("name, cell", readme_commands(), ids=[n for n, _ in readme_commands()])
def test_every_option_the_readme_table_shows_exists(capsys, name, cell):
    assert main([name, "--help"]) == 0
    shown = capsys.readouterr().out
    for option in re.findall(r"--[a-z][a-z-]*", cell):
        assert option in shown, option


def test_the_readme_table_lists_every_command():
    commands = set(build_parser().commands) - {"tour"}
    assert sorted(n for n, _ in readme_commands()) == sorted(commands)
