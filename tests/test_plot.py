"""purenn.plot: structure of the SVG and the text charts, and clear errors.

Whether the SVG really renders is checked in a browser by test_plot_render.py.
"""
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from hypothesis import example, given, settings, strategies as st

from purenn import Matrix, ShapeError
from purenn.plot import (plot_bars, plot_digit, plot_functions, plot_lines, plot_softmax)

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg):
    root = ET.fromstring(svg.encode("utf-8"))  # raises on invalid XML
    assert root.tag == SVG + "svg"
    return root


def curves(root):
    return root.findall(".//%spath" % SVG)


def path_points(d):
    return [(float(x), float(y)) for x, y in re.findall(r"[ML]([-\d.]+),([-\d.]+)", d)]


# ------------------------------------------------------------------ SVG

ALL = ["step_function", "sigmoid", "tanh", "relu", "leaky_relu", "identity_function"]


@pytest.mark.parametrize("n", [1, 2, 6])
def test_svg_is_valid_xml_with_axes_and_one_path_per_curve(n):
    root = parse(plot_functions(*ALL[:n]).to_svg())
    paths = curves(root)
    assert len(paths) == n
    assert [p.get("data-label") for p in paths] == ALL[:n]
    assert root.find(".//%sline[@class='x-axis']" % SVG) is not None
    assert root.find(".//%sline[@class='y-axis']" % SVG) is not None
    ticks = [t.text for t in root.findall(".//%sg[@class='tick-labels']/%stext" % (SVG, SVG))]
    assert "0" in ticks and "-4" in ticks and "4" in ticks
    legend = [t.text for t in root.findall(".//%sg[@class='legend']/%stext" % (SVG, SVG))]
    assert legend == ALL[:n]


def test_svg_curve_follows_the_function():
    # sigmoid: 201 samples, increasing, so the path's y (downwards in SVG) decreases
    root = parse(plot_functions("sigmoid").to_svg(width=480, height=320))
    pts = path_points(curves(root)[0].get("d"))
    assert len(pts) == 201
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    assert xs == sorted(xs)
    assert ys == sorted(ys, reverse=True)
    assert all(0 <= x <= 480 and 0 <= y <= 320 for x, y in pts)


def test_svg_labels_are_escaped():
    p = plot_lines({"<b>a&b</b>": [1, 2, 3]}, title='x < y & "z"')
    root = parse(p.to_svg())
    assert curves(root)[0].get("data-label") == "<b>a&b</b>"
    assert root.find("%stitle" % SVG).text == 'x < y & "z"'


def test_repr_svg_is_the_svg():
    p = plot_functions("relu")
    assert p._repr_svg_() == p.to_svg()


def test_save_svg(tmp_path):
    path = str(tmp_path / "sig.svg")
    assert plot_functions("sigmoid").save_svg(path) == path
    with open(path, encoding="utf-8") as f:
        parse(f.read())


def test_bar_svg_one_rect_per_bar_heights_proportional():
    root = parse(plot_softmax([0.3, 2.9, 4.0]).to_svg())
    bars = root.findall(".//%srect[@class='bar']" % SVG)
    assert len(bars) == 3
    heights = [float(b.get("height")) for b in bars]
    assert heights[0] < heights[1] < heights[2]
    assert heights[1] / heights[2] == pytest.approx(0.2452 / 0.7366, rel=1e-3)


def test_digit_svg_one_rect_per_inked_pixel():
    pixels = [0] * 784
    pixels[0], pixels[29], pixels[783] = 255, 128, 1
    root = parse(plot_digit(pixels).to_svg())
    image = root.find(".//%sg[@class='image']" % SVG)
    rects = [r for r in image if r.get("class") != "frame"]
    assert len(rects) == 3
    assert rects[0].get("fill") == "#000000"


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=30), min_size=1, max_size=4))
def test_any_finite_series_gives_valid_svg_inside_the_picture(series):
    p = plot_lines({"s%d" % i: ys for i, ys in enumerate(series)})
    root = parse(p.to_svg(width=400, height=300))
    paths = curves(root)
    assert len(paths) == len(series)
    for path, ys in zip(paths, series):
        pts = path_points(path.get("d"))
        assert len(pts) == len(ys)
        assert all(0 <= x <= 400 and 0 <= y <= 300 for x, y in pts)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=6))
@example([-1e308, 1e308])     # the span overflowed to inf: was "cannot convert NaN"
@example([0.0, 5e-324])       # a subnormal span: was "math domain error"
@example([1e300, 1e300])      # constant and huge: ±1 vanished, was ZeroDivisionError
def test_whole_float_range_draws_or_says_why(ys):
    try:
        p = plot_lines(ys)
    except ValueError as e:
        assert "span more than a float can hold" in str(e)
        return
    svg = p.to_svg()
    assert "nan" not in svg and "inf" not in svg
    parse(svg)
    assert len(p.to_text(width=20, height=5).split("\n")) >= 6


# ----------------------------------------------------------------- text

def test_text_braille_for_one_curve_with_axes_and_labels():
    text = plot_functions("sigmoid").to_text(width=40, height=10)
    assert any(0x2801 <= ord(c) <= 0x28FF for c in text)
    assert "└" + "─" * 40 in text
    assert "┤" in text and "sigmoid" in text


def test_text_ascii_only_ascii():
    text = plot_functions("sigmoid", "tanh").to_text(charset="ascii")
    assert all(ord(c) < 128 for c in text)
    assert "* sigmoid" in text and "o tanh" in text


@settings(max_examples=20, deadline=None)
@given(st.integers(8, 100), st.integers(3, 30), st.sampled_from(["unicode", "ascii"]))
def test_text_fits_its_size(width, height, charset):
    p = plot_functions("sigmoid", "relu")
    lines = p.to_text(width=width, height=height, charset=charset).split("\n")
    plot_rows = [l for l in lines if "|" in l or "│" in l or "┤" in l]
    assert len(plot_rows) == height
    margin = lines[-1].index("*" if charset == "ascii" else "•") - 1
    # the plot rows and the axis are exactly the asked size (title and legend may be longer)
    axis = [l for l in lines if "+-" in l or "└" in l]
    assert all(len(l) <= margin + width + 1 for l in plot_rows + axis)
    assert len(axis[0]) == margin + width + 1


def _marker_rows(text, marker):
    """Row of the marker in each column (top row first) from an ASCII chart."""
    rows = [l for l in text.split("\n") if "|" in l]
    start = rows[0].index("|") + 1
    found = {}
    for r, line in enumerate(rows):
        for c, ch in enumerate(line[start:]):
            if ch == marker:
                found.setdefault(c, []).append(r)
    return found, len(rows)


def test_text_step_is_low_left_and_high_right_sigmoid_rises():
    text = plot_functions("step_function", "sigmoid").to_text(width=40, height=10,
                                                              charset="ascii")
    step, n = _marker_rows(text, "*")
    # where sigmoid does not cover it: the bottom row left of 0, the top row right of it
    assert all(step[c] == [n - 1] for c in step if c < 19) and any(c < 19 for c in step)
    assert all(step[c] == [0] for c in step if c > 20) and any(c > 20 for c in step)
    sig, _ = _marker_rows(text, "o")
    tops = [min(sig[c]) for c in sorted(sig)]
    assert tops == sorted(tops, reverse=True)  # a rising curve climbs to lower rows


@pytest.mark.parametrize("charset, overlap", [("unicode", "◆"), ("ascii", "&")])
def test_curves_on_top_of_each_other_are_drawn_with_the_overlap_marker(charset, overlap):
    # relu and leaky_relu share every character cell at this size: neither may hide
    # the other, and the legend says what the marker means
    text = plot_functions("relu", "leaky_relu").to_text(width=30, height=6, charset=charset)
    plot_rows = text.split("\n")[1:7]
    drawn = set("".join(re.split("[│┤|]", row, maxsplit=1)[1] for row in plot_rows)) - {" "}
    assert drawn == {overlap}
    assert text.split("\n")[-1].endswith("  %s overlap" % overlap)


def test_only_the_shared_cells_get_the_overlap_marker():
    # train acc and test acc: apart in the first epochs, together later
    text = plot_lines({"train": [0.1, 0.5, 0.9, 0.9], "test": [0.3, 0.7, 0.9, 0.9]}).to_text(
        width=20, height=8, charset="ascii")
    assert "*" in text and "o" in text and "&" in text
    assert text.split("\n")[-1] == " " * text.split("\n")[-1].index("*") + \
        "* train  o test  & overlap"


def test_curves_that_never_meet_have_no_overlap_in_the_legend():
    text = plot_lines({"a": [0, 0, 0], "b": [5, 5, 5]}).to_text(width=20, height=8)
    assert "◆" not in text and "overlap" not in text


def test_svg_dashes_the_later_curves_so_a_curve_underneath_shows_through():
    root = parse(plot_functions("relu", "leaky_relu", "tanh").to_svg())
    dashes = [p.get("stroke-dasharray") for p in curves(root)]
    assert dashes[0] is None and dashes[1] and dashes[2] and dashes[1] != dashes[2]


def test_text_of_a_constant_series_does_not_divide_by_zero():
    text = plot_lines([3, 3, 3]).to_text(width=20, height=5)
    assert "3" in text


def test_bars_text_proportional():
    text = plot_bars([1, 2, 4], labels=["a", "b", "c"]).to_text(width=8, charset="ascii")
    lines = text.split("\n")
    assert [l.count("#") for l in lines] == [2, 4, 8]


def test_bars_text_unicode_eighths():
    text = plot_bars([1, 8]).to_text(width=4)
    assert "▌" in text.split("\n")[0]  # 1/8 of 4 characters is half a block


def test_softmax_bars_are_probabilities():
    p = plot_softmax([1010, 1000, 990])
    assert sum(p.values) == pytest.approx(1.0)
    assert p.title == "softmax([1010.0, 1000.0, 990.0])"


def test_digit_text_from_flat_nested_and_matrix():
    pixels = [0.0] * 784
    for i in range(28):
        pixels[i * 28 + 14] = 1.0  # a vertical stroke: a "1"
    a = plot_digit(pixels).to_text(charset="ascii")
    b = plot_digit([pixels[i * 28:(i + 1) * 28] for i in range(28)]).to_text(charset="ascii")
    c = plot_digit(Matrix(pixels)).to_text(charset="ascii")
    assert a == b == c
    lines = a.split("\n")
    assert len(lines) == 28 and all(l == " " * 28 + "@@" for l in lines)


def test_compact_digit_is_half_as_tall_and_half_as_wide():
    from purenn.datasets import load_mnist
    x, _ = load_mnist(kind="test")
    lines = plot_digit(x[0]).text_lines("ascii", compact=True)
    assert len(lines) == 14 and {len(l) for l in lines} == {28}


@pytest.mark.parametrize("upper, lower, shade", [(0.0, 1.0, "@"), (1.0, 0.0, "@"),
                                                 (0.5, 0.0, "="), (0.0, 0.0, " ")])
def test_compact_digit_shades_a_character_by_the_darker_of_its_two_pixels(upper, lower, shade):
    assert plot_digit([[upper], [lower]], vmax=1.0).text_lines("ascii", compact=True) == [shade]


def test_compact_digit_of_an_odd_height_keeps_its_last_row():
    lines = plot_digit([[0, 0], [0, 0], [1, 0]], vmax=1.0).text_lines("ascii", compact=True)
    assert lines == ["  ", "@ "]


def test_full_digit_lines_are_two_characters_a_pixel_of_equal_width():
    assert plot_digit([[0, 1], [0, 0]], vmax=1).text_lines("unicode") == ["  ██", "    "]


def test_digit_8x8_optdigits_with_vmax():
    text = plot_digit([16] * 64, vmax=16).to_text()
    assert text.split("\n") == ["█" * 16] * 8


def test_real_mnist_digit_seven():
    from purenn.datasets import load_mnist     # the test set ships inside purenn
    x, t = load_mnist(normalize=False, kind="test")
    assert t[0] == 7
    text = plot_digit(x[0], label=7).to_text()
    lines = text.split("\n")
    assert lines[0] == "label: 7" and len(lines) == 29
    inked = sum(ch != " " for l in lines[1:] for ch in l)
    assert 100 < inked < 600


# --------------------------------------------------------------- errors

@pytest.mark.parametrize("bad,error,match", [
    ([], ValueError, "no values"),
    ([1.0, float("nan")], ValueError, "element 1 is nan"),
    ([1.0, float("inf")], ValueError, "finite"),
    (["a"], TypeError, "real numbers"),
    ("abc", TypeError, "sequence of numbers"),
    (Matrix([[1, 2], [3, 4]]), ShapeError, r"\(2, 2\)"),
])
def test_bad_series(bad, error, match):
    with pytest.raises(error, match=match):
        plot_lines(bad)


def test_x_and_y_lengths_must_match():
    with pytest.raises(ShapeError, match="x has 2 values and y has 3"):
        plot_lines([1, 2, 3], x=[0, 1])


def test_unknown_function_lists_the_choices():
    with pytest.raises(ValueError, match="unknown function 'sigmod'.*sigmoid"):
        plot_functions("sigmod")
    with pytest.raises(ValueError, match="plot_softmax"):
        plot_functions("softmax")


@pytest.mark.parametrize("kw", [dict(xmin=1, xmax=1), dict(samples=1), dict(ylim=(1, 0))])
def test_bad_ranges(kw):
    with pytest.raises(ValueError):
        plot_functions("relu", **kw)


def test_bad_sizes():
    p = plot_functions("relu")
    with pytest.raises(ValueError, match="width"):
        p.to_text(width=2)
    with pytest.raises(ValueError, match="charset"):
        p.to_text(charset="ebcdic")
    with pytest.raises(ValueError, match="height"):
        p.to_svg(height=10)


def test_bad_bars_and_digits():
    with pytest.raises(ValueError, match=">= 0"):
        plot_bars([1, -1])
    with pytest.raises(ShapeError, match="2 values and 3 labels"):
        plot_bars([1, 2], labels="abc")
    with pytest.raises(ShapeError, match="not a square"):
        plot_digit([0] * 783)
    with pytest.raises(ValueError, match=">= 0"):
        plot_digit([-1] * 4)
    with pytest.raises(ValueError, match="above 255"):
        plot_digit([256] * 4)
    with pytest.raises(ShapeError, match="row 1 has 1 pixels"):
        plot_digit([[0, 1], [1]])


# ------------------------------------------------------------------ CLI

def _cli(*args):
    return subprocess.run([sys.executable, "-m", "purenn", "plot"] + list(args),
                          capture_output=True, text=True, timeout=120)


@pytest.mark.processes
def test_cli_text_default_and_ascii():
    r = _cli("sigmoid", "relu", "--ascii")
    assert r.returncode == 0
    assert "* sigmoid  o relu" in r.stdout


@pytest.mark.processes
def test_cli_svg(tmp_path):
    out = str(tmp_path / "out.svg")
    r = _cli("sigmoid", "relu", "--svg", out)
    assert r.returncode == 0 and "wrote" in r.stdout
    with open(out, encoding="utf-8") as f:
        assert len(curves(parse(f.read()))) == 2


@pytest.mark.processes
def test_cli_softmax_and_digit(tmp_path):
    assert "0.7366" in _cli("softmax").stdout
    f = tmp_path / "digit.txt"
    f.write_text(" ".join(["0"] * 783 + ["255"]))
    r = _cli("digit", "--pixels", str(f), "--ascii")
    assert r.returncode == 0 and r.stdout.rstrip().endswith("@@")


@pytest.mark.processes
def test_cli_digit_draws_a_bundled_test_image_by_index():
    r = _cli("digit", "--index", "8", "--ascii")
    assert r.returncode == 0
    lines = r.stdout[:-1].split("\n")              # print's newline off: 28 rows, blank ones too
    assert lines[0] == "label: 5 (MNIST test image #8)" and len(lines) == 29
    assert 100 < sum(ch != " " for l in lines[1:] for ch in l) < 800


def test_cli_digit_by_default_draws_test_image_0(capsys):
    from purenn.cli import main
    assert main(["plot", "digit"]) == 0
    assert capsys.readouterr().out.startswith("label: 7 (MNIST test image #0)\n")


@pytest.mark.parametrize("args, words", [
    (["digit", "--index", "10000"],
     "--index 10000: the MNIST test set has 10000 images, 0 to 9999"),
    (["digit", "--index", "-1"], "argument --index: need at least 0, got -1"),
    (["digit", "--index", "1", "--pixels", "f"], "not allowed with argument --index"),
    (["relu", "--index", "3"], "--index and --pixels are for 'plot digit'"),
    (["relu", "--scores", "1"], "--scores are for 'plot softmax'"),
])
def test_cli_digit_options_out_of_place_are_usage_errors(capsys, args, words):
    from purenn.cli import main
    assert main(["plot"] + args) == 2
    assert words in capsys.readouterr().err


@pytest.mark.parametrize("args", [["sigmod"], ["sigmoid", "--width", "2"],
                                  ["digit", "--pixels", "/nonexistent/file"]])
@pytest.mark.processes
def test_cli_errors_are_messages(args):
    r = _cli(*args)
    assert r.returncode != 0 and r.stderr and "Traceback" not in r.stderr


def test_control_characters_never_reach_the_terminal_or_the_xml():
    p = plot_lines({"a\x00b": [1, 2]}, title="t\x1b[31mred", xlabel="x\x7f")
    text = p.to_text(width=20, height=5)
    assert "\x1b" not in text and "\x00" not in text and "\x7f" not in text
    assert "t[31mred" in text
    parse(p.to_svg())
    b = plot_bars([1], labels=["\x1b[2J"], title="\x07")
    assert "\x1b" not in b.to_text() and "\x07" not in b.to_text()
    parse(b.to_svg())


def test_ticks_at_tiny_scales_keep_their_values():
    text = plot_lines([1e-20, 3e-20, 2e-20]).to_text(width=20, height=5)
    assert "3e-20" in text and "1e-20" in text


# ------------------------------------------ files written and read safely

def test_save_svg_that_fails_leaves_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "curves.svg"
    path.write_text("the old picture")

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError):
        plot_functions("relu").save_svg(str(path))
    assert path.read_text() == "the old picture"
    assert os.listdir(str(tmp_path)) == ["curves.svg"]    # no temporary file left


def _cli_in_process(capsys, *args):
    from purenn.cli import main
    status = main(["plot"] + list(args))
    return status, capsys.readouterr().err


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero here")
def test_plot_digit_refuses_a_device_as_pixel_file(capsys):
    status, err = _cli_in_process(capsys, "digit", "--pixels", "/dev/zero")
    assert status == 1
    assert err == ("purenn plot: digit: /dev/zero: not a regular file; a pixel file must be a "
                   "file on disk\n")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_plot_digit_refuses_a_fifo_without_waiting_for_a_writer(tmp_path, capsys):
    fifo = str(tmp_path / "pixels")
    os.mkfifo(fifo)
    status, err = _cli_in_process(capsys, "digit", "--pixels", fifo)
    assert status == 1 and "not a regular file" in err


def test_plot_digit_refuses_a_pixel_file_beyond_the_limit(tmp_path, capsys):
    big = tmp_path / "big.txt"
    big.write_text("0 " * (1 << 19) + "0")          # one byte more than 1 MiB
    status, err = _cli_in_process(capsys, "digit", "--pixels", str(big))
    assert status == 1 and "more than the %d a pixel file may have" % (1 << 20) in err


@pytest.mark.parametrize("content, words", [
    (b"\xff\xfe\x00\x01", "not a text file (byte 0 is not UTF-8)"),
    (b"0 1 two", "number 3 is 'two', not a finite number"),
    (b"0 1 nan", "number 3 is 'nan', not a finite number"),
    (b"0 1 2", "3 pixels are not a square image"),
])
def test_plot_digit_says_what_is_wrong_with_a_pixel_file(tmp_path, capsys, content, words):
    path = tmp_path / "pixels.txt"
    path.write_bytes(content)
    status, err = _cli_in_process(capsys, "digit", "--pixels", str(path))
    assert status == 1 and words in err and len(err.splitlines()) == 1
