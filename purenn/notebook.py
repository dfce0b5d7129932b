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

from purenn.matrix import shown_cells


def matrix_html(m):
    """An HTML table of the matrix with its shape as caption; large matrices
    show the cells ``print(m)`` shows (``purenn.matrix.shown_cells``: the
    first and last ``EDGE`` rows and columns), with ``…`` for the gap.

    Every cell goes through ``html.escape``: an element whose ``str`` is
    markup (a custom number type) is shown, never run.
    """
    n, k = m.shape
    out = ['<table class="purenn-matrix">',
           "<caption>Matrix (%d, %d)</caption>" % (n, k)]
    for row in shown_cells(m):
        cells = ["…" if c is None else escape(c) for c in row]
        out.append("<tr>%s</tr>" % "".join("<td>%s</td>" % c for c in cells))
    out.append("</table>")
    return "\n".join(out)
