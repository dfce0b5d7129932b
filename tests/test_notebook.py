"""Jupyter views: Matrix._repr_html_, plots' _repr_svg_, Explanation's HTML."""
import subprocess
import sys
import xml.etree.ElementTree as ET
from fractions import Fraction

import pytest

from purenn import AND, Matrix
from purenn.explain import explain
from purenn.plot import plot_functions


def table(html):
    return ET.fromstring(html.encode("utf-8"))  # well-formed markup, or this raises


def test_small_matrix_table_with_shape_caption():
    t = table(Matrix([[1, 2.5, -3], [Fraction(1, 3), 0.1, 7]])._repr_html_())
    assert t.find("caption").text == "Matrix (2, 3)"
    cells = [[td.text for td in tr] for tr in t.findall("tr")]
    assert cells == [["1", "2.5", "-3"], ["1/3", "0.1", "7"]]


def test_large_matrix_is_summarised():
    t = table(Matrix.zeros(100, 784)._repr_html_())
    assert t.find("caption").text == "Matrix (100, 784)"
    rows = t.findall("tr")
    assert len(rows) == 7 and all(len(tr) == 7 for tr in rows)
    assert rows[3][0].text == "…" and rows[0][3].text == "…"


class Sneaky(float):
    """A number whose str is markup."""

    def __str__(self):
        return "<script>alert(1)</script>"


def test_cells_are_escaped():
    html = Matrix([[Sneaky(1.0)]])._repr_html_()
    assert "<script>" not in html
    assert table(html).find("tr/td").text == "<script>alert(1)</script>"


def test_plot_repr_svg_and_explanation_html():
    assert plot_functions("tanh")._repr_svg_().lstrip().startswith("<?xml")
    html = explain(AND, (1, 1))._repr_html_()
    assert html.startswith("<pre>") and "0.3 &gt; 0 -&gt; 1" in html


@pytest.mark.processes
def test_import_purenn_loads_no_view_module_and_no_hypothesis():
    code = ("import sys, purenn; purenn.Matrix([[1]]) @ purenn.Matrix([[2]]); "
            "print(sorted(m for m in sys.modules if m.startswith(('purenn.', 'hypothesis'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    for name in ("purenn.notebook", "purenn.plot", "purenn.explain", "purenn.testing",
                 "hypothesis"):
        assert "'%s'" % name not in out
