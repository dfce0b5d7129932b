"""Portability: the MicroPython checks, the portable-subset checker, the runtime matrix.

These run on every runtime of the matrix (CPython 3.8-3.13, PyPy, Pyodide), so
the checks that MicroPython runs as plain asserts are proven here as well.
"""
import ast
import importlib.util
import io
import os
import sys
from contextlib import redirect_stdout

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _load(name, relpath):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, relpath))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mpy_checks = _load("mpy_core_checks", "tests/mpy_core_checks.py")
mpy_doctests = _load("mpy_doctests", "tests/mpy_doctests.py")
check_portable = _load("check_portable", "ci/check_portable.py")
runtimes = _load("runtimes", "ci/runtimes.py")


# ------------------------------------------------- the MicroPython core checks

def test_micropython_core_checks_pass_here_too():
    out = io.StringIO()
    with redirect_stdout(out):
        failed = mpy_checks.main(verbose=False)
    n = len(mpy_checks.checks())
    assert failed == 0, out.getvalue()
    assert out.getvalue().strip().splitlines()[-1] == "%d passed, 0 failed" % n
    assert n >= 20


def test_micropython_core_checks_report_a_failing_check(monkeypatch):
    def check_zzz_broken():
        assert 1 + 1 == 3
    monkeypatch.setattr(mpy_checks, "check_zzz_broken", check_zzz_broken, raising=False)
    out = io.StringIO()
    with redirect_stdout(out):
        failed = mpy_checks.main(verbose=False)
    assert failed == 1
    assert "FAIL check_zzz_broken" in out.getvalue()
    assert out.getvalue().strip().splitlines()[-1].endswith("passed, 1 failed")


def test_micropython_checks_run_in_source_order():
    names = [name for name, _ in mpy_checks.checks()]
    assert names[0] == "check_gate_truth_tables"
    assert names.index("check_softmax_reference_values") < names.index("check_broadcasting")


# ------------------------------------------- the MicroPython doctest runner

def _doctest_examples():
    import doctest
    import importlib
    n = 0
    for name in mpy_doctests.CORE:
        module = importlib.import_module("purenn." + name)
        n += sum(len(t.examples) for t in doctest.DocTestFinder().find(module))
    return n


def test_micropython_doctest_runner_runs_every_core_example():
    out = io.StringIO()
    with redirect_stdout(out):
        failed = mpy_doctests.main()
    assert failed == 0, out.getvalue()
    assert out.getvalue().strip().splitlines()[-1] == "%d passed, 0 failed" % _doctest_examples()


@pytest.mark.parametrize("old, new", [
    ("[0, 1, 1, 0]", "[0, 1, 1, 1]"),                      # a wrong value
    ("columns of the left (2) must equal", "columns (2) must equal"),  # a wrong message
    (">>> sigmoid(-1000), sigmoid(1000)", ">>> sigmoid(-1000), sigmoid(1000), 1 / 0"),
])
def test_micropython_doctest_runner_catches_a_wrong_example(monkeypatch, old, new):
    original = mpy_doctests.module_source

    def patched(name):
        return original(name).replace(old, new)
    monkeypatch.setattr(mpy_doctests, "module_source", patched)
    out = io.StringIO()
    with redirect_stdout(out):
        failed = mpy_doctests.main()
    assert failed >= 1
    assert "FAIL purenn/" in out.getvalue()


# ------------------------------------------------------ the portable subset

def test_core_is_inside_the_portable_subset():
    findings = []
    for path in check_portable.CORE:
        findings += check_portable.check_file(os.path.join(ROOT, path), path)
    assert [str(f) for f in findings] == []


def test_package_init_imports_other_modules_only_with_a_fallback():
    # MicroPython runs ``import purenn``: __init__ may export non-core modules (cli needs
    # argparse, data loaders gzip...) only inside try/except ImportError
    with open(os.path.join(ROOT, "purenn", "__init__.py")) as f:
        tree = ast.parse(f.read())
    guarded = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
                isinstance(h.type, ast.Name) and h.type.id == "ImportError" for h in node.handlers):
            for inner in node.body:
                guarded.update(id(n) for n in ast.walk(inner))
    imported = set()
    for node in ast.walk(tree):
        if id(node) in guarded:
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported.update(a.name for a in node.names)
    own = set(m for m in imported if m.split(".")[0] == "purenn")
    assert own <= check_portable.CORE_MODULES, own - check_portable.CORE_MODULES
    others = set(m.split(".")[0] for m in imported) - {"purenn"}  # sys: the Ctrl-C exit
    assert others <= check_portable.SAFE_MODULES, others - check_portable.SAFE_MODULES


def test_checker_flags_an_unguarded_non_core_import(tmp_path):
    path = tmp_path / "snippet.py"
    path.write_text("from purenn.cli import main\n")
    assert [f.rule for f in check_portable.check_file(str(path))] == ["import"]
    path.write_text("try:\n    from purenn.cli import main\nexcept ImportError:\n    pass\n")
    assert check_portable.check_file(str(path)) == []
    # inside a function the import runs only when it is called (Matrix._repr_html_)
    path.write_text("def view():\n    from purenn.notebook import matrix_html\n")
    assert check_portable.check_file(str(path)) == []


RULE_EXAMPLES = [
    ("from __future__ import annotations\n", "import"),
    ("import typing\n", "import"),
    ("from dataclasses import dataclass\n", "import"),
    ("import abc\n", "import"),
    ("import random\n", "import"),
    ("import operator\n", "import"),
    ("from math import fsum\n", "math"),
    ("import math\nx = math.fsum([1.0])\n", "math"),
    ("def f(a, /, b):\n    pass\n", "posonly"),
    ("def f(a: int):\n    pass\n", "annotation"),
    ("def f(a) -> int:\n    pass\n", "annotation"),
    ("x: int = 1\n", "annotation"),
    ("if (n := 1):\n    pass\n", "walrus"),
    ("a = [1]\nb = [*a, 2]\n", "star-literal"),
    ("a = {}\nb = {**a}\n", "star-literal"),
    ("x = 'a'.ljust(3)\n", "method"),
    ("n = 5\nb = n.bit_length()\n", "method"),
    ("x = 1\ns = f'{x}'\n", "f-string"),
    ("ok = hasattr([], '__iter__')\n", "dunder"),
    ("class A:\n    def __init_subclass__(cls):\n        pass\n", "dunder"),
    ("s = format(1.5, '.2f')\n", "builtin"),
    ("print(1, flush=True)\n", "print"),
    ("import math\ntry:\n    math.exp(1000)\nexcept OverflowError:\n    pass\n", "overflow"),
]


@pytest.mark.parametrize("source, rule", RULE_EXAMPLES)
def test_checker_flags_each_rule(tmp_path, source, rule):
    path = tmp_path / "snippet.py"
    path.write_text(source)
    rules = [f.rule for f in check_portable.check_file(str(path))]
    assert rule in rules, (source, rules)


@pytest.mark.skipif(sys.version_info < (3, 10), reason="match needs a Python 3.10+ ast to parse")
def test_checker_flags_match(tmp_path):
    path = tmp_path / "snippet.py"
    path.write_text("match 1:\n    case 1:\n        pass\n")
    assert "match" in [f.rule for f in check_portable.check_file(str(path))]


ALLOWED_EXAMPLES = [
    "try:\n    from operator import mul\nexcept ImportError:\n    mul = None\n",
    "try:\n    from math import sumprod\nexcept ImportError:\n    sumprod = None\n",
    "n = 5\nb = n.bit_length() if hasattr(n, 'bit_length') else len(bin(n)) - 2\n",
    "def f(x):\n    return getattr(x, '__name__', 'h')\n",
    "a, *b = [1, 2, 3]\n",
    "import math\ntry:\n    math.exp(1000)\nexcept (OverflowError, ValueError):\n    pass\n",
    "s = 'x'.ljust(3)  # portable: method -- a doctest-only helper\n",
    "import math\nfrom purenn.errors import ShapeError\nx = '%5.2f' % math.exp(1.0)\n",
]


@pytest.mark.parametrize("source", ALLOWED_EXAMPLES)
def test_checker_allows_graceful_fallbacks(tmp_path, source):
    path = tmp_path / "snippet.py"
    path.write_text(source)
    assert [str(f) for f in check_portable.check_file(str(path))] == []


def test_checker_main_exits_nonzero_on_findings(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text("import typing\n")
    out = io.StringIO()
    with redirect_stdout(out):
        assert check_portable.main([str(path)]) == 1
        assert check_portable.main([os.path.join(ROOT, p) for p in check_portable.CORE]) == 0
    assert "1 findings" in out.getvalue()


# ------------------------------------------------------------ the matrix

def test_pins_replace_requirements_of_the_same_name():
    got = runtimes.pinned(["pytest>=7", "hypothesis>=6", "numpy; extra == 'x'"],
                          ["pytest<8.4", "hypothesis<=6.113.0"])
    assert got == ["numpy; extra == 'x'", "pytest<8.4", "hypothesis<=6.113.0"]


def test_python_38_gets_versions_that_support_it():
    pins = runtimes.PINS["3.8"]
    assert "pytest<8.4" in pins and "hypothesis<=6.113.0" in pins


def test_test_requirements_come_from_pyproject():
    reqs = runtimes.test_requirements()
    names = [r.split(">")[0].split("<")[0].split("=")[0] for r in reqs]
    assert "pytest" in names and "hypothesis" in names


@pytest.mark.parametrize("output, summary", [
    ("....\n34 passed in 1.23s\n", "34 passed"),
    ("= 2 failed, 30 passed, 1 skipped in 3.1s =\n", "2 failed, 30 passed, 1 skipped"),
    ("no tests ran in 0.01s\n", "no tests ran"),
    ("crash\n", "no pytest summary"),
])
def test_pytest_summary_is_the_closing_count(output, summary):
    assert runtimes.pytest_summary(output) == summary


def test_matrix_fails_when_any_runtime_fails(monkeypatch):
    def broken_setup(args):
        raise runtimes.SetupError("pip exited 1")
    monkeypatch.setattr(runtimes, "plan", lambda: [
        ("good", lambda a: runtimes.Result("good", "X 1.0", "all", "3 passed", 1.0, True)),
        ("bad", lambda a: runtimes.Result("bad", "Y 2.0", "all", "1 failed, 2 passed", 1.0,
                                          False)),
        ("unset", broken_setup),
    ])
    out = io.StringIO()
    with redirect_stdout(out):
        rc = runtimes.main([])
    lines = out.getvalue().strip().splitlines()
    assert rc == 1
    assert lines[-1] == "runtimes: 1 passed, 2 failed"
    assert lines[-2] == "FAILED on: bad, unset"
    assert any("setup failed: pip exited 1" in line for line in lines)


def test_matrix_passes_when_every_runtime_passes(monkeypatch):
    monkeypatch.setattr(runtimes, "plan", lambda: [
        ("good", lambda a: runtimes.Result("good", "X 1.0", "all", "3 passed", 1.0, True))])
    out = io.StringIO()
    with redirect_stdout(out):
        assert runtimes.main([]) == 0
    assert out.getvalue().strip().splitlines()[-1] == "runtimes: 1 passed, 0 failed"


def test_micropython_outcome_needs_both_summaries():
    out = "ok   check_x\n25 passed, 0 failed\n55 passed, 0 failed\n"
    assert runtimes.micropython_outcome(out) == \
        "checks 25 passed, 0 failed; doctests 55 passed, 0 failed"
    assert runtimes.micropython_outcome("25 passed, 0 failed\nMemoryError\n") == "no summary"


@pytest.mark.skipif(sys.platform == "emscripten", reason="Pyodide cannot start processes")
def test_a_hanging_run_is_killed_and_fails():
    rc, out = runtimes.tee([sys.executable, "-c", "import time; print('start', flush=True); "
                            "time.sleep(60)"], timeout=1)
    assert rc != 0
    assert out.startswith("start")
    assert runtimes.pytest_summary(out) == "killed after 1 seconds"
