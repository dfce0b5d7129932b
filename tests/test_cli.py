"""``python -m purenn``: the tour and its parts."""
import os
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
