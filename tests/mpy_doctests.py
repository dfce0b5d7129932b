"""The core's doctests, run by a small doctest runner that works on MicroPython.

    micropython -X heapsize=64M tests/mpy_doctests.py
    node ci/micropython_run.mjs tests/mpy_doctests.py
    python tests/mpy_doctests.py

MicroPython has no ``doctest`` module and usually drops docstrings when it
compiles, so this runner reads the examples from the core's source files:
every ``>>>`` line (with its ``...`` continuation lines) and the output that
follows it, up to a blank line, the next ``>>>`` or the docstring's end.  Each
module's examples run in order in a copy of that module's namespace, as
doctest runs them.  An expression statement's value is shown with ``repr``;
``print`` writes into the example's output.  An expected traceback matches
when the exception's class name and message match its last line.

It prints ``N passed, N failed`` and exits 1 when any example fails.
pytest runs it on every other runtime (tests/test_portability.py).
"""
import sys

if __name__ == "__main__":
    _here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
    sys.path.insert(0, _here + "/..")

CORE = ("errors", "matrix", "kernels", "activations", "perceptron", "network", "rng", "labels",
        "compact")


def examples(source):
    """``(line number, code, expected output)`` for each ``>>>`` example."""
    lines = source.split("\n")
    found = []
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        if not stripped.startswith(">>>"):
            i += 1
            continue
        indent = lines[i].find(">>>")
        start = i + 1
        code = [lines[i][indent + 4:]]
        i += 1
        while i < len(lines) and lines[i].strip().startswith("..."):
            if lines[i].strip() == "..." and code and code[-1].strip().startswith("Traceback"):
                break
            code.append(lines[i][indent + 4:])
            i += 1
        want = []
        while i < len(lines):
            s = lines[i].strip()
            if not s or s.startswith(">>>") or s.startswith('"""'):
                break
            want.append(lines[i][indent:] if len(lines[i]) > indent else s)
            i += 1
        found.append((start, "\n".join(code), "\n".join(want)))
    return found


class Output:
    def __init__(self):
        self.parts = []

    def print(self, *args, **kw):
        sep, end = kw.get("sep", " "), kw.get("end", "\n")
        self.parts.append(sep.join(str(a) for a in args) + end)

    def text(self):
        return "".join(self.parts).rstrip("\n")


def _is_expression(code):
    try:
        compile(code, "<example>", "eval")
    except SyntaxError:
        return False
    return True


def run_example(ns, code, want):
    """None when the example's output matches ``want``, else a message."""
    out = Output()
    ns["print"] = out.print
    try:
        if "\n" not in code and _is_expression(code):
            value = eval(code, ns)
            if value is not None:
                out.print(repr(value))
        else:
            exec(code, ns)
    except Exception as e:
        if not want.startswith("Traceback"):
            return "raised %s: %s" % (type(e).__name__, e)
        last = want.split("\n")[-1]
        name, _, msg = last.partition(": ")
        if name.split(".")[-1] != type(e).__name__ or msg != str(e):
            return "raised %s: %s, wanted %s" % (type(e).__name__, e, last)
        return None
    got = out.text()
    if want.startswith("Traceback"):
        return "raised nothing, wanted " + want.split("\n")[-1]
    if "\n".join(s.rstrip() for s in got.split("\n")) != \
            "\n".join(s.rstrip() for s in want.split("\n")):
        return "got %r, wanted %r" % (got, want)
    return None


def module_source(name):
    here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
    with open(here + "/../purenn/" + name + ".py") as f:
        return f.read()


def main(verbose=True):
    """Run every example of the core modules; return the number that failed."""
    passed, failed = 0, 0
    for name in CORE:
        module = __import__("purenn." + name, None, None, ["*"])
        ns = {}
        for k in dir(module):
            ns[k] = getattr(module, k)
        for line, code, want in examples(module_source(name)):
            problem = run_example(ns, code, want)
            if problem is None:
                passed += 1
            else:
                failed += 1
                print("FAIL purenn/%s.py:%d: %s\n    %s" % (name, line, code, problem))
    print("%d passed, %d failed" % (passed, failed))
    return failed


if __name__ == "__main__":
    sys.exit(1 if main() else 0)
