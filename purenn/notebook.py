"""Jupyter views: what a notebook shows for purenn's objects.

Jupyter calls ``_repr_html_`` / ``_repr_svg_`` when a cell's value has them.
``Matrix._repr_html_`` calls ``matrix_html`` here, lazily, so the core never
imports this module (it stays small enough for MicroPython); the plots of
``purenn.plot`` have ``_repr_svg_``; an ``Explanation`` shows as ``<pre>``.

>>> from purenn import Matrix
>>> print(matrix_html(Matrix([[1, 2.5]])))
<table class="purenn-matrix">
<caption>Matrix (1, 2)</caption>
<tr><td>1</td><td>2.5</td></tr>
</table>
"""
from html import escape

EDGE = 3
"""Rows and columns shown at each end of a large matrix."""

LIMIT = 10
"""Matrices up to this many rows (columns) show all of them."""


def _cell(x):
    return repr(x) if type(x) is float else str(x)


def _ids(n):
    return list(range(n)) if n <= LIMIT else list(range(EDGE)) + [None] + list(range(n - EDGE, n))


def matrix_html(m):
    """An HTML table of the matrix with its shape as caption; large matrices
    show ``EDGE`` rows and columns from each end around a ``…``.

    Every cell goes through ``html.escape``: an element whose ``str`` is
    markup (a custom number type) is shown, never run.
    """
    n, k = m.shape
    rows = m._rows
    out = ['<table class="purenn-matrix">',
           "<caption>Matrix (%d, %d)</caption>" % (n, k)]
    for i in _ids(n):
        cells = ["…" if i is None or j is None else escape(_cell(rows[i][j])) for j in _ids(k)]
        out.append("<tr>%s</tr>" % "".join("<td>%s</td>" % c for c in cells))
    out.append("</table>")
    return "\n".join(out)
