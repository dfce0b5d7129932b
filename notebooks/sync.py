"""Make the chapter notebooks (.ipynb) from their text sources (.py), or check them.

    python notebooks/sync.py            # write notebooks/chNN_*.ipynb from notebooks/chNN_*.py
    python notebooks/sync.py --check    # exit 1 (naming the files) when an .ipynb is stale

The ``.py`` files are the source of truth: plain text that diffs and reviews
well.  Their format is jupytext's "percent" format, so jupytext and editors
that know it (VS Code, PyCharm, Spyder) open them as notebooks too:

==============================  =================================================
``# %%``                        a code cell starts
``# %% [markdown]``             a markdown cell starts; each of its lines is
                                ``# text`` (the ``# `` is removed)
``# %% tags=["long"]``          a cell with tags: ``long`` marks a slow cell
                                (training), which has a small default
``# ---`` ... ``# ---``         an optional header at the top (ignored)
==============================  =================================================

The ``.ipynb`` files are written without outputs, with cell ids made from
the file name, and in nbformat's own layout (sorted keys, indent 1), so the
same source always gives the same bytes; ``tests/test_notebooks.py`` checks
that the committed ones are in sync.  Standard library only.
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # purenn from this checkout

from purenn.files import write_atomic  # noqa: E402

SOURCE = re.compile(r"^ch\d+_[a-z0-9_]+\.py$")
"""Chapter sources: ch02_perceptron.py, ch03_neural_network.py, ... (book order)."""

CELL = re.compile(r"^# %%(?P<kind> \[markdown\])?(?P<meta>.*)$")

KERNELSPEC = {"display_name": "Python (Pyodide)", "language": "python", "name": "python"}
"""JupyterLite's Pyodide kernel; ``notebooks/execute.py`` runs them with ``python3``."""


class SourceError(ValueError):
    """A notebook source that does not follow the percent format."""


def sources(folder=HERE):
    """The chapter sources in the book's order."""
    return [os.path.join(folder, f) for f in sorted(os.listdir(folder)) if SOURCE.match(f)]


def _tags(meta, where):
    meta = meta.strip()
    if not meta:
        return []
    m = re.match(r"^tags=(\[.*\])$", meta)
    if not m:
        raise SourceError("%s: cell options %r: only tags=[...] is understood" % (where, meta))
    tags = json.loads(m.group(1))
    if not all(isinstance(t, str) for t in tags):
        raise SourceError("%s: tags must be strings, got %r" % (where, tags))
    return tags


def _strip(lines):
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def parse(text, name="notebook"):
    """Cells of a percent-format source: a list of (kind, tags, source text)."""
    lines = text.splitlines()
    if lines and lines[0] == "# ---":
        try:
            end = lines.index("# ---", 1)
        except ValueError:
            raise SourceError("%s: the header '# ---' is never closed" % name) from None
        lines = lines[end + 1:]
    cells = []
    current = None
    for number, line in enumerate(lines, 1):
        m = CELL.match(line)
        if m:
            where = "%s, line %d" % (name, number)
            current = ("markdown" if m.group("kind") else "code", _tags(m.group("meta"), where), [])
            cells.append(current)
        elif current is None:
            if line.strip():
                raise SourceError("%s, line %d: text before the first '# %%%%' cell marker"
                                  % (name, number))
        elif current[0] == "markdown":
            if line and line != "#" and not line.startswith("# "):
                raise SourceError("%s, line %d: a markdown line must start with '# '"
                                  % (name, number))
            current[2].append(line[2:])
        else:
            current[2].append(line)
    out = []
    for kind, tags, body in cells:
        body = _strip(body)
        if body:
            out.append((kind, tags, "\n".join(body)))
    if not out:
        raise SourceError("%s: no cells" % name)
    return out


def to_notebook(cells, stem):
    """The nbformat 4.5 document (a dict) of parsed cells."""
    nb_cells = []
    for i, (kind, tags, text) in enumerate(cells):
        lines = text.split("\n")
        cell = {"cell_type": kind, "id": "%s-%02d" % (stem.replace("_", "-"), i),
                "metadata": {"tags": tags} if tags else {},
                "source": [l + "\n" for l in lines[:-1]] + [lines[-1]]}
        if kind == "code":
            cell["execution_count"] = None
            cell["outputs"] = []
        nb_cells.append(cell)
    return {"cells": nb_cells, "nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": dict(KERNELSPEC),
                         "language_info": {"name": "python"}}}


def render(source_path):
    """The .ipynb text that ``source_path`` makes."""
    with open(source_path, encoding="utf-8") as f:
        text = f.read()
    stem = os.path.splitext(os.path.basename(source_path))[0]
    nb = to_notebook(parse(text, os.path.basename(source_path)), stem)
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def target(source_path):
    return os.path.splitext(source_path)[0] + ".ipynb"


def stale(folder=HERE):
    """(source, notebook) pairs whose notebook is missing or differs."""
    out = []
    for src in sources(folder):
        nb = target(src)
        have = None
        if os.path.exists(nb):
            with open(nb, encoding="utf-8") as f:
                have = f.read()
        if have != render(src):
            out.append((src, nb))
    return out


def orphans(folder=HERE):
    """Notebooks without a source (a renamed or deleted chapter)."""
    srcs = {target(s) for s in sources(folder)}
    return [os.path.join(folder, f) for f in sorted(os.listdir(folder))
            if f.endswith(".ipynb") and os.path.join(folder, f) not in srcs]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv not in ([], ["--check"]):
        print("usage: python notebooks/sync.py [--check]", file=sys.stderr)
        return 2
    try:
        bad = stale()
    except SourceError as e:
        print("notebooks/sync.py: %s" % e, file=sys.stderr)
        return 1
    extra = orphans()
    if argv == ["--check"]:
        for src, nb in bad:
            print("notebooks/sync.py: %s is not what %s makes; run: python notebooks/sync.py"
                  % (os.path.relpath(nb), os.path.relpath(src)), file=sys.stderr)
        for nb in extra:
            print("notebooks/sync.py: %s has no source .py" % os.path.relpath(nb), file=sys.stderr)
        if not bad and not extra:
            print("notebooks/sync.py: %d notebooks in sync with their sources" % len(sources()))
        return 1 if bad or extra else 0
    for src, nb in bad:
        write_atomic(nb, render(src).encode("utf-8"))
        print("wrote %s" % os.path.relpath(nb))
    for nb in extra:
        print("notebooks/sync.py: %s has no source .py (left alone)" % os.path.relpath(nb))
    return 0


if __name__ == "__main__":
    sys.exit(main())
