"""Plots with the standard library only: the slides' figures in a terminal or an SVG file.

==============================  ==============================================
``plot_functions(*fs)``         activation curves on one chart: names such as
                                ``"sigmoid"``, ``"step_function"``, or callables
``plot_lines(series)``          any sequences, e.g. loss and accuracy curves
``plot_softmax(scores)``        softmax probabilities as bars
``plot_bars(values)``           any non-negative values as bars
``plot_digit(pixels)``          an MNIST digit: 784 values, or 28 rows of 28;
                                the one text picture of a digit in purenn
                                (``to_text()``, ``text_lines(compact=True)``)
==============================  ==============================================

Every function returns a plot object with two back ends:

* ``str(p)`` / ``p.to_text(width, height, charset)``: text for the terminal,
  drawn with Unicode braille dots (one curve) or one marker character per
  curve (several; where curves share a character, ``◆``, in ASCII ``&``,
  marks the overlap), with axes and labels; ``charset="ascii"`` uses ASCII
  only.
* ``p.to_svg()`` / ``p.save_svg(path)``: a standalone SVG document; Jupyter
  shows it through ``_repr_svg_``.  Each curve is one ``<path>``; the
  second and later ones are dashed, so a curve lying on another shows
  through its gaps.

>>> p = plot_functions("sigmoid", "step_function")
>>> print(p.to_text(width=30, height=6, charset="ascii"))
           sigmoid vs step_function
     1 |               oooooooo&&&&&&&
       |               o ******
   0.5 |              *&**
       |            ***o
       |       ******  o
     0 |&&&&&&&oooooooo
       +------------------------------
          -4    -2    0     2     4
                                     x
        * sigmoid  o step_function  & overlap
>>> svg = p.to_svg()
>>> svg.count("<path ")
2
"""
import math

from purenn import activations as _act
from purenn.errors import ShapeError
from purenn.matrix import Matrix

# --------------------------------------------------------------- data checks


def _sequence(values, what):
    """A list of finite floats from a list, tuple, range or one-row/column Matrix."""
    if isinstance(values, Matrix):
        n, m = values.shape
        if n != 1 and m != 1:
            raise ShapeError("%s: a Matrix of shape (%d, %d): give one row or one column"
                             % (what, n, m))
        values = [v for row in values for v in row]
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError("%s: expected a sequence of numbers, got %s" % (what, type(values).__name__))
    out = []
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, (int, float)) and not hasattr(v, "__float__"):
            raise TypeError("%s: element %d is %r; elements must be real numbers" % (what, i, v))
        f = float(v)
        if f != f or f in (math.inf, -math.inf):
            raise ValueError("%s: element %d is %r; a plot needs finite numbers" % (what, i, v))
        out.append(f)
    if not out:
        raise ValueError("%s: no values to plot" % what)
    return out


def _nice_step(span, count=5):
    """A step of 1, 2 or 5 times a power of ten that cuts ``span`` into about ``count``."""
    raw = span / count
    power = 10.0 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * power >= raw:
            return m * power
    return 10 * power


def _ticks(lo, hi):
    step = _nice_step(hi - lo)
    first = math.ceil(lo / step - 1e-9)
    ticks = []
    k = first
    while k * step <= hi + step * 1e-9:
        ticks.append(float("%.12g" % (k * step)))  # 0.30000000000000004 -> 0.3, at any scale
        k += 1
    return ticks


def _label(v):
    s = "%.3g" % v
    return "0" if s in ("-0", "0") else s


def _clean(text):
    """A label without control characters: they are invalid in XML, and in a
    terminal an escape sequence would recolour or move the cursor."""
    return "".join(c for c in str(text) if c >= " " and c != "\x7f")


def _esc(text):
    """Text safe inside SVG: markup escaped."""
    text = _clean(text)
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


# Colours that stay apart for colour-blind readers (Okabe-Ito).
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
MARKERS = {"unicode": ("•", "o", "+", "x", "*", "#"), "ascii": ("*", "o", "+", "x", "#", "@")}
# Where two or more curves share a character cell (relu on leaky_relu, a
# test accuracy on the training accuracy): none of their markers, this one.
OVERLAP = {"unicode": "◆", "ascii": "&"}


class _Plot:
    """What every plot can do: text, SVG, Jupyter."""

    title = ""

    def __str__(self):
        return self.to_text()

    def _repr_svg_(self):
        return self.to_svg()

    def save_svg(self, path):
        """Write the SVG document to ``path`` (UTF-8) and return the path.
        The write is atomic (``purenn.files.write_atomic``): ``path`` is the
        old file or the whole new one, never half of it."""
        from purenn.files import write_atomic
        write_atomic(path, self.to_svg().encode("utf-8"))
        return path

    def _svg_open(self, width, height):
        return ['<?xml version="1.0" encoding="UTF-8"?>',
                '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
                'viewBox="0 0 %d %d" font-family="DejaVu Sans, Arial, sans-serif" '
                'font-size="12">' % (width, height, width, height),
                "<title>%s</title>" % _esc(self.title or "purenn plot"),
                '<rect class="background" x="0" y="0" width="%d" height="%d" fill="white"/>'
                % (width, height),
                '<text class="title" x="%g" y="20" text-anchor="middle" font-size="14">%s</text>'
                % (width / 2, _esc(self.title))]


def _check_size(width, height, min_w, min_h, what):
    for name, v, least in (("width", width, min_w), ("height", height, min_h)):
        if type(v) is not int or v < least:
            raise ValueError("%s: %s must be an int >= %d, got %r" % (what, name, least, v))


# --------------------------------------------------------------- line plots

class LinePlot(_Plot):
    """Curves ``y = f(x)`` on shared axes.

    ``series`` is a list of ``(label, xs, ys)``; ``ylim`` an optional
    ``(low, high)``.  Build one with ``plot_functions`` or ``plot_lines``.
    """

    def __init__(self, series, title="", xlabel="", ylabel="", ylim=None):
        if not series:
            raise ValueError("LinePlot: needs at least one series")
        self.series = []
        for label, xs, ys in series:
            what = "plot %r" % (label,)
            xs, ys = _sequence(xs, what + " x"), _sequence(ys, what + " y")
            if len(xs) != len(ys):
                raise ShapeError("%s: x has %d values and y has %d: they must be as many"
                                 % (what, len(xs), len(ys)))
            self.series.append((_clean(label), xs, ys))
        self.title, self.xlabel, self.ylabel = _clean(title), _clean(xlabel), _clean(ylabel)
        xs_all = [x for _, xs, _ in self.series for x in xs]
        ys_all = [y for _, _, ys in self.series for y in ys]
        self.xlim = _padded(min(xs_all), max(xs_all), 0.0)
        if ylim is not None:
            lo, hi = (float(v) for v in ylim)
            if not lo < hi:
                raise ValueError("LinePlot: ylim must be (low, high) with low < high, got %r"
                                 % (ylim,))
            self.ylim = (lo, hi)
        else:
            self.ylim = _padded(min(ys_all), max(ys_all), 0.05)

    # ------------------------------------------------------------ text

    def to_text(self, width=60, height=15, charset="unicode", style="auto"):
        """The chart as text: ``width`` x ``height`` characters of plot area.

        ``style`` is ``"braille"`` (2x4 dots per character, fine curves),
        ``"markers"`` (one character per curve, so curves stay apart; where
        two or more share a character it is ``OVERLAP``, ``◆`` or ``&``,
        named in the legend) or ``"auto"``: braille for one curve, markers
        for several.  ASCII has markers only.
        """
        _check_size(width, height, 8, 3, "to_text")
        if charset not in ("unicode", "ascii"):
            raise ValueError("to_text: charset must be 'unicode' or 'ascii', got %r" % (charset,))
        if style not in ("auto", "braille", "markers"):
            raise ValueError("to_text: style must be 'auto', 'braille' or 'markers', got %r"
                             % (style,))
        if style == "auto":
            style = "braille" if len(self.series) == 1 and charset == "unicode" else "markers"
        if style == "braille" and charset == "ascii":
            raise ValueError("to_text: braille needs charset='unicode'")
        if style == "braille":
            grid = _braille(self, width, height)
        else:
            grid = _markers(self, width, height, MARKERS[charset], OVERLAP[charset])
        return _frame(self, grid, charset, style)

    # ------------------------------------------------------------- svg

    def to_svg(self, width=480, height=320):
        """A standalone SVG document: axes with ticks, one ``<path>`` per curve, a legend."""
        _check_size(width, height, 160, 120, "to_svg")
        left, right, top = 56, 16, 32
        bottom = 40 + 16 * _legend_rows([label for label, _, _ in self.series], width - left)
        pw, ph = width - left - right, height - top - bottom
        if ph < 40:
            raise ValueError("to_svg: height %d leaves no room for the plot and its legend" % height)
        (x0, x1), (y0, y1) = self.xlim, self.ylim

        def sx(x):
            return left + (x - x0) / (x1 - x0) * pw

        def sy(y):
            return top + (y1 - y) / (y1 - y0) * ph

        out = self._svg_open(width, height)
        out.append('<g class="grid" stroke="#dddddd" stroke-width="1">')
        xt, yt = _ticks(x0, x1), _ticks(y0, y1)
        for t in xt:
            out.append('<line x1="%.2f" y1="%d" x2="%.2f" y2="%d"/>' % (sx(t), top, sx(t), top + ph))
        for t in yt:
            out.append('<line x1="%d" y1="%.2f" x2="%d" y2="%.2f"/>' % (left, sy(t), left + pw, sy(t)))
        out.append("</g>")
        out.append('<g class="axes" stroke="black" stroke-width="1">')
        out.append('<line class="x-axis" x1="%d" y1="%d" x2="%d" y2="%d"/>'
                   % (left, top + ph, left + pw, top + ph))
        out.append('<line class="y-axis" x1="%d" y1="%d" x2="%d" y2="%d"/>'
                   % (left, top, left, top + ph))
        for t in xt:
            out.append('<line x1="%.2f" y1="%d" x2="%.2f" y2="%d"/>'
                       % (sx(t), top + ph, sx(t), top + ph + 4))
        for t in yt:
            out.append('<line x1="%d" y1="%.2f" x2="%d" y2="%.2f"/>' % (left - 4, sy(t), left, sy(t)))
        out.append("</g>")
        out.append('<g class="tick-labels" fill="black">')
        for t in xt:
            out.append('<text x="%.2f" y="%d" text-anchor="middle">%s</text>'
                       % (sx(t), top + ph + 16, _label(t)))
        for t in yt:
            out.append('<text x="%d" y="%.2f" text-anchor="end">%s</text>'
                       % (left - 6, sy(t) + 4, _label(t)))
        out.append("</g>")
        if self.xlabel:
            out.append('<text class="xlabel" x="%g" y="%d" text-anchor="end">%s</text>'
                       % (left + pw, top + ph + 30, _esc(self.xlabel)))
        if self.ylabel:
            out.append('<text class="ylabel" x="12" y="%d" transform="rotate(-90 12 %d)" '
                       'text-anchor="end">%s</text>' % (top, top, _esc(self.ylabel)))
        # curves are clipped to the plot area, so a fixed ylim can cut them
        out.append('<defs><clipPath id="plot-area"><rect x="%d" y="%d" width="%d" height="%d"/>'
                   '</clipPath></defs>' % (left, top, pw, ph))
        for i, (label, xs, ys) in enumerate(self.series):
            d = " ".join("%s%.2f,%.2f" % ("M" if k == 0 else "L", sx(x), sy(y))
                         for k, (x, y) in enumerate(zip(xs, ys)))
            out.append('<path class="curve" data-label="%s" d="%s" fill="none" stroke="%s" '
                       'stroke-width="2" stroke-linejoin="round" clip-path="url(#plot-area)"%s/>'
                       % (_esc(label), d, COLORS[i % len(COLORS)], _dash(i)))
        out.append('<g class="legend">')
        x, y = left, top + ph + 40
        for i, (label, _, _) in enumerate(self.series):
            w = 36 + 7 * len(label)
            if x + w > width and x > left:  # wrap onto the next legend row
                x, y = left, y + 16
            out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="3"%s/>'
                       % (x, y - 4, x + 18, y - 4, COLORS[i % len(COLORS)], _dash(i)))
            out.append('<text x="%d" y="%d">%s</text>' % (x + 22, y, _esc(label)))
            x += w
        out.append("</g>")
        out.append("</svg>")
        return "\n".join(out) + "\n"


# The second and later curves are dashed, so a curve lying on another one
# (relu on leaky_relu) still shows through its gaps.
_DASHES = ("", "8 4", "2 3", "10 3 2 3", "4 4")


def _dash(i):
    d = _DASHES[i % len(_DASHES)]
    return ' stroke-dasharray="%s"' % d if d else ""


def _legend_rows(labels, room):
    rows, x = 1, 0
    for label in labels:
        w = 36 + 7 * len(label)
        if x + w > room and x > 0:
            rows, x = rows + 1, 0
        x += w
    return rows


def _padded(lo, hi, share):
    """The axis range for data from lo to hi, widened by ``share`` of it on each side."""
    if hi - lo < 1e-290 or hi - lo <= 1e-12 * max(abs(lo), abs(hi)):
        # all (nearly) equal: a window around them, since a zero-width axis has no scale
        half = max(1.0, 0.1 * max(abs(lo), abs(hi)))
        a, b = lo - half, hi + half
    else:
        pad = (hi - lo) * share
        a, b = lo - pad, hi + pad
    if not (abs(a) < math.inf and abs(b) < math.inf and b - a < math.inf):
        raise ValueError("plot: values from %r to %r span more than a float can hold; "
                         "scale them down first" % (lo, hi))
    return (a, b)


def _to_grid(plot, gw, gh):
    """Each curve as the (column, row) dots of a ``gw`` x ``gh`` grid, with
    consecutive samples joined so that steep parts stay connected."""
    (x0, x1), (y0, y1) = plot.xlim, plot.ylim
    curves = []
    for _, xs, ys in plot.series:
        pts = [((x - x0) / (x1 - x0) * (gw - 1), (y1 - y) / (y1 - y0) * (gh - 1))
               for x, y in zip(xs, ys)]
        dots = []
        prev = None
        for p in pts:
            if prev is None:
                dots.append(p)
            else:
                steps = int(max(abs(p[0] - prev[0]), abs(p[1] - prev[1]))) + 1
                for s in range(1, steps + 1):
                    t = s / steps
                    dots.append((prev[0] + (p[0] - prev[0]) * t, prev[1] + (p[1] - prev[1]) * t))
            prev = p
        cells = []
        for c, r in dots:
            c, r = int(round(c)), int(round(r))
            if 0 <= c < gw and 0 <= r < gh:  # outside a fixed ylim: clipped
                cells.append((c, r))
        curves.append(cells)
    return curves


def _markers(plot, width, height, markers, overlap):
    """One marker character per curve; a cell that two or more curves pass
    through gets ``overlap`` instead, so that no curve hides another."""
    curves_at = {}  # (column, row) -> the curves passing through it
    for i, cells in enumerate(_to_grid(plot, width, height)):
        for cell in cells:
            curves_at.setdefault(cell, set()).add(i)
    grid = [[" "] * width for _ in range(height)]
    for (c, r), curves in curves_at.items():
        grid[r][c] = overlap if len(curves) > 1 else markers[min(curves) % len(markers)]
    return ["".join(row) for row in grid]


# Braille: a character is 2 dots wide and 4 high; bit of the dot at (col, row).
_BRAILLE_BITS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))


def _braille(plot, width, height):
    bits = [[0] * width for _ in range(height)]
    for cells in _to_grid(plot, 2 * width, 4 * height):
        for c, r in cells:
            bits[r // 4][c // 2] |= _BRAILLE_BITS[r % 4][c % 2]
    return ["".join(chr(0x2800 + b) if b else " " for b in row) for row in bits]


def _frame(plot, grid, charset, style):
    """Axes, tick labels, title and legend around the drawn grid."""
    height, width = len(grid), len(grid[0])
    (x0, x1), (y0, y1) = plot.xlim, plot.ylim
    vbar, tick, corner, hbar = ("│", "┤", "└", "─") if charset == "unicode" else ("|", "|", "+", "-")
    labels = {}
    dots = 4 if style == "braille" else 1  # braille: 4 dot rows per text row
    for t in _ticks(y0, y1):  # round numbers, on the row that draws them
        r = int(round((y1 - t) / (y1 - y0) * (dots * height - 1))) // dots
        if 0 <= r < height and not any(k in labels for k in (r - 1, r, r + 1)):
            labels[r] = _label(t)
    if not labels:
        labels = {0: _label(y1), height - 1: _label(y0)}
    margin = max(len(s) for s in labels.values()) + 4
    lines = []
    if plot.title:
        lines.append(" " * margin + plot.title.center(width + 1).rstrip())
    for r, row in enumerate(grid):
        label = labels.get(r, "")
        lines.append(label.rjust(margin - 1) + " " + (tick if label and charset == "unicode"
                                                       else vbar) + row)
    lines.append(" " * margin + corner + hbar * width)
    axis = [" "] * (width + 1)

    def put(text, col):
        col = max(0, min(col, len(axis) - len(text)))
        if all(ch == " " for ch in axis[max(0, col - 1):col + len(text) + 1]):
            axis[col:col + len(text)] = list(text)

    for t in _ticks(x0, x1):
        put(_label(t), 1 + int(round((t - x0) / (x1 - x0) * (width - 1))) - len(_label(t)) // 2)
    lines.append(" " * margin + "".join(axis).rstrip())
    if plot.xlabel:
        lines.append(" " * margin + plot.xlabel.rjust(width + 1))
    if len(plot.series) > 1 or plot.series[0][0]:
        if style == "braille":
            legend = "  ".join(label for label, _, _ in plot.series)
        else:
            m = MARKERS[charset]
            legend = "  ".join("%s %s" % (m[i % len(m)], label)
                               for i, (label, _, _) in enumerate(plot.series))
            if any(OVERLAP[charset] in row for row in grid):
                legend += "  %s overlap" % OVERLAP[charset]
        lines.append(" " * (margin + 1) + legend)
    if plot.ylabel:
        lines.insert(1 if plot.title else 0, plot.ylabel)
    return "\n".join(line.rstrip() for line in lines)


# -------------------------------------------------------------- bar charts

class BarPlot(_Plot):
    """Non-negative values as bars, one per label (softmax probabilities)."""

    def __init__(self, values, labels=None, title=""):
        self.values = _sequence(values, "plot_bars")
        if any(v < 0 for v in self.values):
            raise ValueError("plot_bars: values must be >= 0 (bars grow from zero), got %r"
                             % min(self.values))
        if labels is None:
            labels = [str(i) for i in range(len(self.values))]
        labels = [_clean(s) for s in labels]
        if len(labels) != len(self.values):
            raise ShapeError("plot_bars: %d values and %d labels: they must be as many"
                             % (len(self.values), len(labels)))
        self.labels, self.title = labels, _clean(title)

    def to_text(self, width=40, charset="unicode"):
        """One line a bar: label, bar of ``width`` characters at the largest value, value."""
        _check_size(width, 1, 4, 1, "to_text")
        if charset not in ("unicode", "ascii"):
            raise ValueError("to_text: charset must be 'unicode' or 'ascii', got %r" % (charset,))
        top = max(self.values) or 1.0
        lw = max(len(s) for s in self.labels)
        lines = [self.title] if self.title else []
        for label, v in zip(self.labels, self.values):
            lines.append("%s %s %s %s" % (label.rjust(lw), "│" if charset == "unicode" else "|",
                                          _bar(v / top * width, width, charset), _value(v)))
        return "\n".join(lines)

    def to_svg(self, width=480, height=None):
        """Vertical bars with their values on top, labels below, a y axis."""
        n = len(self.values)
        if height is None:
            height = 320
        _check_size(width, height, 160, 120, "to_svg")
        left, right, top, bottom = 56, 16, 40, 40
        pw, ph = width - left - right, height - top - bottom
        vmax = max(self.values) or 1.0
        hi = vmax * 1.12  # room for the value printed above the tallest bar
        if hi == math.inf:
            raise ValueError("plot_bars: values up to %r are too large to draw; scale them down"
                             % vmax)
        out = self._svg_open(width, height)
        out.append('<g class="axes" stroke="black" stroke-width="1">')
        out.append('<line class="x-axis" x1="%d" y1="%d" x2="%d" y2="%d"/>'
                   % (left, top + ph, left + pw, top + ph))
        out.append('<line class="y-axis" x1="%d" y1="%d" x2="%d" y2="%d"/>'
                   % (left, top, left, top + ph))
        out.append("</g>")
        out.append('<g class="tick-labels">')
        for t in _ticks(0.0, hi):
            y = top + ph - t / hi * ph
            out.append('<text x="%d" y="%.2f" text-anchor="end">%s</text>' % (left - 6, y + 4, _label(t)))
        out.append("</g>")
        slot = pw / n
        out.append('<g class="bars" fill="%s">' % COLORS[0])
        for i, (label, v) in enumerate(zip(self.labels, self.values)):
            h = v / hi * ph
            x = left + i * slot + slot * 0.15
            out.append('<rect class="bar" x="%.2f" y="%.2f" width="%.2f" height="%.2f"/>'
                       % (x, top + ph - h, slot * 0.7, h))
        out.append("</g>")
        out.append('<g class="bar-labels" text-anchor="middle">')
        for i, (label, v) in enumerate(zip(self.labels, self.values)):
            cx = left + (i + 0.5) * slot
            out.append('<text x="%.2f" y="%d">%s</text>' % (cx, top + ph + 16, _esc(label)))
            out.append('<text x="%.2f" y="%.2f" font-size="10">%s</text>'
                       % (cx, top + ph - v / hi * ph - 4, _esc(_value(v))))
        out.append("</g>")
        out.append("</svg>")
        return "\n".join(out) + "\n"


def _value(v):
    return "%.4g" % v


def _bar(length, width, charset):
    if charset == "ascii":
        n = int(round(length))
        return ("#" * n).ljust(width)
    eighths = int(round(length * 8))
    full, part = divmod(eighths, 8)
    bar = "█" * full + ("" if part == 0 else " ▏▎▍▌▋▊▉"[part])
    return bar.ljust(width)


# ------------------------------------------------------------------ images

class ImagePlot(_Plot):
    """A grey-scale image such as an MNIST digit: 0 is white paper, ``vmax`` black ink."""

    def __init__(self, rows, vmax, title=""):
        self.rows, self.vmax, self.title = rows, vmax, _clean(title)

    def to_text(self, charset="unicode", compact=False):
        """The picture as text, with its title: see ``text_lines``."""
        lines = [self.title] if self.title else []
        lines += [line.rstrip() for line in self.text_lines(charset, compact)]
        return "\n".join(lines)

    def text_lines(self, charset="unicode", compact=False):
        """The picture as lines of text of equal width, darker for more ink.

        Characters are about twice as tall as wide, so that the image keeps
        its shape: by default each pixel is two characters side by side (28
        lines of 56 for an MNIST digit); ``compact`` makes each character two
        pixels one above the other, shaded by the darker of the two (14
        lines of 28), small enough to show several digits side by side.

        >>> plot_digit([0, 1, 1, 0.5], shape=(2, 2)).text_lines("ascii")
        ['  @@', '@@==']
        >>> plot_digit([0, 1, 1, 0.5], shape=(2, 2)).text_lines("ascii", compact=True)
        ['@@']
        """
        if charset not in ("unicode", "ascii"):
            raise ValueError("text_lines: charset must be 'unicode' or 'ascii', got %r"
                             % (charset,))
        shades = " ░▒▓█" if charset == "unicode" else " .:-=+*#%@"
        top = len(shades) - 1

        def shade(v):
            return shades[int(round(v / self.vmax * top))]

        if not compact:
            return ["".join(shade(v) * 2 for v in row) for row in self.rows]
        pairs = [(self.rows[r], self.rows[r + 1] if r + 1 < len(self.rows) else self.rows[r])
                 for r in range(0, len(self.rows), 2)]
        return ["".join(shade(max(a, b)) for a, b in zip(upper, lower)) for upper, lower in pairs]

    def to_svg(self, width=None, height=None, pixel=10):
        """One square ``<rect>`` per inked pixel, grey level ``1 - v / vmax``."""
        n, m = len(self.rows), len(self.rows[0])
        width = width or m * pixel + 20
        height = height or n * pixel + 40
        out = self._svg_open(width, height)
        out.append('<g class="image" transform="translate(10, 30)">')
        out.append('<rect class="frame" x="0" y="0" width="%d" height="%d" fill="white" '
                   'stroke="#999999"/>' % (m * pixel, n * pixel))
        for i, row in enumerate(self.rows):
            for j, v in enumerate(row):
                if v > 0:
                    g = int(round(255 * (1 - v / self.vmax)))
                    out.append('<rect x="%d" y="%d" width="%d" height="%d" fill="#%02x%02x%02x"/>'
                               % (j * pixel, i * pixel, pixel, pixel, g, g, g))
        out.append("</g>")
        out.append("</svg>")
        return "\n".join(out) + "\n"


# --------------------------------------------------------------- functions

_ALIASES = {"step": "step_function", "identity": "identity_function", "leaky": "leaky_relu"}


def _function(f):
    if callable(f):
        return getattr(f, "__name__", "f"), f
    name = _ALIASES.get(f, f)
    if name not in _act.ACTIVATIONS or name == "softmax":
        choices = sorted(set(_act.ACTIVATIONS) - {"softmax"})
        raise ValueError("plot_functions: unknown function %r; choose from %s (or pass a "
                         "callable); softmax is plotted with plot_softmax" % (f, ", ".join(choices)))
    return name, _act.ACTIVATIONS[name]


def plot_functions(*functions, **kw):
    """Curves of activation functions over ``xmin..xmax`` (default -5..5, as the book).

    Keywords: ``xmin``, ``xmax``, ``samples`` (default 201), ``ylim``, ``title``.

    >>> p = plot_functions("relu", xmin=-1, xmax=1, samples=3)
    >>> p.series
    [('relu', [-1.0, 0.0, 1.0], [0.0, 0.0, 1.0])]
    """
    xmin, xmax = float(kw.pop("xmin", -5.0)), float(kw.pop("xmax", 5.0))
    samples = kw.pop("samples", 201)
    ylim, title = kw.pop("ylim", None), kw.pop("title", None)
    if kw:
        raise TypeError("plot_functions: unexpected arguments %s" % sorted(kw))
    if not functions:
        raise ValueError("plot_functions: name at least one function, e.g. 'sigmoid'")
    if not xmin < xmax:
        raise ValueError("plot_functions: need xmin < xmax, got %r and %r" % (xmin, xmax))
    if type(samples) is not int or samples < 2:
        raise ValueError("plot_functions: samples must be an int >= 2, got %r" % (samples,))
    xs = [xmin + (xmax - xmin) * i / (samples - 1) for i in range(samples)]
    series = []
    for f in functions:
        name, fn = _function(f)
        series.append((name, xs, [fn(x) for x in xs]))
    if title is None:
        title = " vs ".join(name for name, _, _ in series)
    return LinePlot(series, title=title, xlabel="x", ylim=ylim)


def plot_lines(series, x=None, title="", xlabel="", ylabel="", ylim=None):
    """Sequences against their index (or against ``x``): loss and accuracy curves.

    ``series`` is one sequence, or a dict ``{label: values}``.

    >>> p = plot_lines({"loss": [2.3, 1.1, 0.7, 0.5]}, xlabel="epoch")
    >>> p.series[0][1]
    [0.0, 1.0, 2.0, 3.0]
    """
    if isinstance(series, dict):
        items = list(series.items())
    else:
        items = [("", series)]
    out = []
    for label, ys in items:
        ys = _sequence(ys, "plot_lines %r" % (label,))
        xs = list(range(len(ys))) if x is None else x
        out.append((label, xs, ys))
    return LinePlot(out, title=title, xlabel=xlabel, ylabel=ylabel, ylim=ylim)


def plot_bars(values, labels=None, title=""):
    """Non-negative values as bars (see ``BarPlot``)."""
    return BarPlot(values, labels, title)


def plot_softmax(scores, labels=None):
    """The softmax of ``scores`` as bars: scores in, probabilities that sum to 1 out.

    >>> print(plot_softmax([0.3, 2.9, 4.0]).to_text(width=20, charset="ascii"))
    softmax([0.3, 2.9, 4.0])
    0 |                      0.01821
    1 | #######              0.2452
    2 | #################### 0.7366
    """
    scores = _sequence(scores, "plot_softmax")
    return BarPlot(_act.softmax(scores), labels,
                   "softmax([%s])" % ", ".join(_short(s) for s in scores))


def _short(v):
    s = "%.6g" % v
    return s + ".0" if "." not in s and "e" not in s else s


def plot_digit(pixels, label=None, vmax=None, shape=None):
    """An image such as an MNIST digit: 784 values (a flat list, a (1, 784)
    Matrix) or 28 rows of 28; any other square size too (8x8 optdigits).

    ``vmax`` is the value of full ink: by default 1.0 when every pixel is
    <= 1 (the book's ``normalize=True``), else 255 (raw MNIST bytes).

    >>> print(plot_digit([0, 255, 255, 0], shape=(2, 2)).to_text(charset="ascii"))
      @@
    @@
    """
    if isinstance(pixels, Matrix):
        rows = pixels.tolist()
    else:
        rows = list(pixels)
    if rows and isinstance(rows[0], (list, tuple)):
        rows = [_sequence(r, "plot_digit row %d" % i) for i, r in enumerate(rows)]
        if len(rows) == 1:
            flat = rows[0]
            rows = None
        else:
            for i, r in enumerate(rows):
                if len(r) != len(rows[0]):
                    raise ShapeError("plot_digit: row %d has %d pixels and row 0 has %d"
                                     % (i, len(r), len(rows[0])))
    else:
        flat = _sequence(rows, "plot_digit")
        rows = None
    if rows is None:
        if shape is None:
            side = int(round(math.sqrt(len(flat))))
            if side * side != len(flat):
                raise ShapeError("plot_digit: %d pixels are not a square image; give shape="
                                 "(rows, cols), e.g. 784 = (28, 28)" % len(flat))
            shape = (side, side)
        if shape[0] * shape[1] != len(flat):
            raise ShapeError("plot_digit: %d pixels do not fill shape (%d, %d)"
                             % (len(flat), shape[0], shape[1]))
        rows = [flat[i * shape[1]:(i + 1) * shape[1]] for i in range(shape[0])]
    lo = min(min(r) for r in rows)
    hi = max(max(r) for r in rows)
    if lo < 0:
        raise ValueError("plot_digit: pixels must be >= 0, got %r" % lo)
    if vmax is None:
        if hi > 255:
            raise ValueError("plot_digit: pixels above 255 (%r); give vmax=" % hi)
        vmax = 1.0 if hi <= 1 else 255.0
    if not vmax > 0 or hi > vmax:
        raise ValueError("plot_digit: vmax must be > 0 and >= every pixel (max %r), got %r"
                         % (hi, vmax))
    title = "" if label is None else "label: %s" % label
    return ImagePlot(rows, float(vmax), title)
