"""Does purenn's SVG really render?  Load it in headless Chromium, screenshot
it, and look at the pixels (a tiny PNG decoder, standard library only).

Skips, with the reason, where no Chromium is installed (Debian:
``apt-get install chromium``).  As a script it writes the screenshots for a
human to look at::

    python tests/test_plot_render.py /tmp/shots    # -> /tmp/shots/*.svg, figures.png
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

import pytest

if __name__ == "__main__":  # run as a script from a clone: use this clone's purenn
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from purenn.plot import COLORS, plot_digit, plot_functions, plot_softmax

BROWSER = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                if shutil.which(n)), None)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]
WIDTH, HEIGHT = 480, 320


def screenshot(path, png_path, width=WIDTH, height=HEIGHT):
    """Render the file at ``path`` in a fresh headless browser profile into ``png_path``."""
    profile = tempfile.mkdtemp(prefix="purenn-chromium-")
    try:
        subprocess.run([BROWSER] + FLAGS + ["--user-data-dir=" + profile,
                                            "--window-size=%d,%d" % (width, height),
                                            "--screenshot=" + png_path,
                                            "file://" + os.path.abspath(path)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120,
                       check=True)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def read_png(path):
    """(width, height, rows of (r, g, b) tuples) of an 8-bit RGB or RGBA PNG."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("%s is not a PNG" % path)
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            w, h, depth, color = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    if depth != 8 or color not in (2, 6):
        raise ValueError("only 8-bit RGB/RGBA PNGs, got depth %d colour type %d" % (depth, color))
    bpp = 3 if color == 2 else 4
    raw, stride = zlib.decompress(idat), w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        ftype, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):  # undo the PNG filter of this scanline
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(w)])
        prev = line
    return w, h, rows


def near(pixel, hex_color, tol=40):
    rgb = tuple(int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return all(abs(p - q) <= tol for p, q in zip(pixel, rgb))


def count(rows, pred):
    """How many pixels satisfy ``pred`` (asked once per distinct colour)."""
    colours = {}
    for row in rows:
        for p in row:
            colours[p] = colours.get(p, 0) + 1
    return sum(n for p, n in colours.items() if pred(p))


FIGURES = {
    "sigmoid_vs_step": lambda: plot_functions("sigmoid", "step_function"),
    "activations": lambda: plot_functions("step", "sigmoid", "tanh", "relu", "leaky_relu",
                                          ylim=(-1.5, 3)),
    "softmax": lambda: plot_softmax([0.3, 2.9, 4.0]),
    "relu_on_leaky_relu": lambda: plot_functions("relu", "leaky_relu"),
    "digit": lambda: plot_digit([255 if 10 <= i % 28 <= 17 and 4 <= i // 28 <= 23 else 0
                                 for i in range(784)], label=1),
}


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    if BROWSER is None:
        pytest.skip("no chromium installed (apt-get install chromium): the SVG render check "
                    "needs a browser; the structural SVG checks in test_plot.py still run")
    out = tmp_path_factory.mktemp("shots")
    return write_shots(str(out))


def write_shots(folder):
    """Each figure as an SVG file, all shown as <img> on one page (one browser
    start), one screenshot, cut back into one picture per figure."""
    names = list(FIGURES)
    cells = []
    for name in names:
        FIGURES[name]().save_svg(os.path.join(folder, name + ".svg"))
        cells.append('<img src="%s.svg" width="%d" height="%d">' % (name, WIDTH, HEIGHT))
    page = os.path.join(folder, "figures.html")
    with open(page, "w", encoding="utf-8") as f:
        f.write("<!DOCTYPE html><html><body style='margin:0;background:white;line-height:0'>"
                "<div style='display:grid;grid-template-columns:%dpx %dpx'>%s</div>"
                "</body></html>" % (WIDTH, WIDTH, "".join(cells)))
    png = os.path.join(folder, "figures.png")
    screenshot(page, png, 2 * WIDTH, (len(names) + 1) // 2 * HEIGHT)
    w, h, rows = read_png(png)
    found = {}
    for k, name in enumerate(names):
        top, left = (k // 2) * HEIGHT, (k % 2) * WIDTH
        found[name] = (WIDTH, HEIGHT, [row[left:left + WIDTH] for row in rows[top:top + HEIGHT]])
    return found


def test_line_chart_renders_each_curve_in_its_colour(shots):
    w, h, rows = shots["sigmoid_vs_step"]
    assert (w, h) == (WIDTH, HEIGHT)
    blue = count(rows, lambda p: near(p, COLORS[0]))
    orange = count(rows, lambda p: near(p, COLORS[1]))
    assert blue > 300 and orange > 300, (blue, orange)
    dark = count(rows, lambda p: max(p) < 80)  # black axes and text
    assert dark > 300
    white = count(rows, lambda p: min(p) > 245)
    assert white > 0.7 * w * h  # a white page, not a black or error screen


def test_sigmoid_is_drawn_where_it_should_be(shots):
    # blue (sigmoid) pixels on the left half sit lower than those on the right half
    w, h, rows = shots["sigmoid_vs_step"]
    left = [y for y, row in enumerate(rows) for x, p in enumerate(row[:w // 2]) if near(p, COLORS[0])]
    right = [y for y, row in enumerate(rows) for x, p in enumerate(row[w // 2:]) if near(p, COLORS[0])]
    assert left and right
    assert sum(left) / len(left) > sum(right) / len(right) + 40


def test_five_curves_five_colours(shots):
    _, _, rows = shots["activations"]
    for color in COLORS[:5]:
        assert count(rows, lambda p: near(p, color, tol=30)) > 50, color


def test_a_curve_lying_on_another_shows_through_its_dashes(shots):
    # x > 0: relu and leaky_relu are the same line; both colours must be seen there
    w, h, rows = shots["relu_on_leaky_relu"]
    right = [row[w // 2 + 20:w - 20] for row in rows]
    # (measured: about 100 blue pixels there with the dashes, none with solid lines)
    assert count(right, lambda p: near(p, COLORS[0], tol=30)) > 40    # relu, underneath
    assert count(right, lambda p: near(p, COLORS[1], tol=30)) > 100   # leaky_relu, dashed


def test_bars_and_digit_render(shots):
    _, _, rows = shots["softmax"]
    assert count(rows, lambda p: near(p, COLORS[0], tol=10)) > 10000  # the three bars
    _, _, rows = shots["digit"]
    black = count(rows, lambda p: max(p) < 30)
    assert black > 8 * 20 * 100 * 0.9  # 8x20 pixels of ink, 10x10 screen pixels each


if __name__ == "__main__":
    if BROWSER is None:
        sys.exit("no chromium found")
    folder = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="purenn-shots-")
    os.makedirs(folder, exist_ok=True)
    write_shots(folder)
    print("screenshots in", folder)
