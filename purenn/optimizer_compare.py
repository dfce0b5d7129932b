"""The book's comparison of the optimisers (section 6.1.7, ``ch06/optimizer_compare_naive.py``).

=================================  ============================================
``f_compare(x, y)``                ``x**2 / 20 + y**2``: a long, flat valley
``df_compare(x, y)``               its gradient ``(x / 10, 2 y)``
``compare_optimizers(start, ...)`` each optimiser's path from (-7, 2)
``plot_paths(paths)``              the paths as a text picture (figure 6-8)
``COMPARE_RATES``                  the learning rates of the book's figure
=================================  ============================================

>>> paths = compare_optimizers(steps=30)
>>> sorted(paths) == sorted(name for name, _ in COMPARE_RATES)
True
"""
import math

from purenn.matrix import Matrix
from purenn.optimizers import OPTIMIZERS


def f_compare(x, y):
    """The book's test function ``f(x, y) = x**2 / 20 + y**2``: a long, flat valley."""
    return x * x / 20.0 + y * y


def df_compare(x, y):
    """Its gradient ``(x / 10, 2 * y)``."""
    return x / 10.0, 2.0 * y


# learning rates of the book's figure 6-8 (ch06/optimizer_compare_naive.py);
# Nesterov and RMSprop are not in that figure: we chose rates that show them well
COMPARE_RATES = (("SGD", 0.95), ("Momentum", 0.1), ("Nesterov", 0.1),
                 ("AdaGrad", 1.5), ("RMSprop", 0.1), ("Adam", 0.3))


def compare_optimizers(start=(-7.0, 2.0), steps=30, rates=COMPARE_RATES):
    """Each optimiser's path on ``f_compare`` from ``start``: a dict name -> list of
    ``steps + 1`` points (x, y).

    >>> paths = compare_optimizers()
    >>> [len(p) for p in paths.values()]
    [31, 31, 31, 31, 31, 31]
    >>> all(f_compare(*p[-1]) < f_compare(-7.0, 2.0) for p in paths.values())
    True
    """
    paths = {}
    for name, lr in rates:
        opt = OPTIMIZERS[name.lower()](lr=lr)
        params = {"x": Matrix([[float(start[0])]]), "y": Matrix([[float(start[1])]])}
        path = [(params["x"][0, 0], params["y"][0, 0])]
        for _ in range(steps):
            gx, gy = df_compare(params["x"][0, 0], params["y"][0, 0])
            opt.update(params, {"x": Matrix([[gx]]), "y": Matrix([[gy]])})
            path.append((params["x"][0, 0], params["y"][0, 0]))
        paths[name] = path
    return paths


def plot_paths(paths, width=61, height=21, xlim=(-10.0, 10.0), ylim=(-5.0, 5.0)):
    """A text picture of the paths: contour bands of ``f_compare`` in dots,
    each optimiser's points as the first letter of its name, the minimum as ``+``."""
    grid = []
    for r in range(height):
        y = ylim[1] - (ylim[1] - ylim[0]) * r / (height - 1)
        row = []
        for c in range(width):
            x = xlim[0] + (xlim[1] - xlim[0]) * c / (width - 1)
            band = int(math.sqrt(f_compare(x, y)) * 2)
            row.append("." if band % 2 == 0 else " ")
        grid.append(row)

    def cell(x, y):
        c = int(round((x - xlim[0]) / (xlim[1] - xlim[0]) * (width - 1)))
        r = int(round((ylim[1] - y) / (ylim[1] - ylim[0]) * (height - 1)))
        return (r, c) if 0 <= r < height and 0 <= c < width else None

    pictures = []
    for name, path in paths.items():
        pic = [list(row) for row in grid]
        rc = cell(0.0, 0.0)
        pic[rc[0]][rc[1]] = "+"
        for x, y in path:
            rc = cell(x, y)
            if rc is not None:
                pic[rc[0]][rc[1]] = name[0]
        pictures.append(name + "\n" + "\n".join("".join(row) for row in pic))
    return "\n\n".join(pictures)
