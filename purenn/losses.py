"""Loss functions: how wrong is the network's output y for the truth t? (chapter 4.2)

=============================  ==============================================
``sum_squared_error(y, t)``    ``E = 1/2 * sum_k (y_k - t_k)**2``
``cross_entropy_error(y, t)``  ``E = -sum_k t_k * log(y_k + delta)``, delta = 1e-7
=============================  ==============================================

``y`` is the network's output: one row (a flat list or a (1, K) Matrix) or a
batch, an (N, K) Matrix.  ``t`` is the truth, either **one-hot** rows of the
same shape as y, or **labels**: one class index per row (a list of N ints, or
a single int for a single row).  A batch gives the **mean** loss per row, so
the size of the loss does not depend on the batch size (section 4.2.4).

The book's example (section 4.2.1): the network gives 0.6 to class 2.

>>> y = [0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0]
>>> t = [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
>>> sum_squared_error(y, t)
0.09750000000000003
>>> cross_entropy_error(y, t)
0.510825457099338
>>> cross_entropy_error(y, 2)              # the label instead of one-hot
0.510825457099338
"""
import math

from purenn.errors import ShapeError
from purenn.matrix import Matrix, _as_matrix, as_matrix, _fmt

# log(0) is -infinity: a single output of exactly 0 at the true class would make
# the loss infinite and its gradient useless.  The book adds this tiny delta.
DELTA = 1e-7


def _sum(xs):
    """Sum in numpy's order: eight running sums, added pairwise, then the rest.

    Why not ``sum()``: from CPython 3.12 on it rounds differently (it is
    compensated), and this order reproduces the book's printed numpy values to
    the last bit on every Python.  (numpy switches to a recursive split past
    128 items; rows of scores are shorter than that.)
    """
    n = len(xs)
    if n < 8:
        total = 0.0
        for x in xs:
            total += x
        return total
    r = list(xs[:8])
    i = 8
    while i + 8 <= n:
        for j in range(8):
            r[j] += xs[i + j]
        i += 8
    total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    for x in xs[i:]:
        total += x
    return total


def _outputs(y, op):
    return as_matrix(y, op + ": y")


def _truth(t, shape, op):
    """The truth as (labels, None) or (None, one-hot rows), checked against y's shape.

    A flat list is one one-hot row when y is one row of the same length (the
    slide's ``t = [0, 0, 1, ...]``); otherwise it is one label per row of y.
    """
    n, k = shape
    if type(t) is int:
        t = [t]
    flat = isinstance(t, (list, tuple)) and len(t) > 0 and \
        not isinstance(t[0], (list, tuple, Matrix))
    if flat and not (n == 1 and len(t) == k):
        labels = list(t)
        if len(labels) != n:
            raise ShapeError("%s: y %s and %d labels: give one label per row of y (%d)"
                             % (op, _fmt(shape), len(labels), n))
        for v in labels:
            if type(v) is not int or not 0 <= v < k:
                raise ValueError("%s: label %r is not a class of y %s (an int from 0 to %d)"
                                 % (op, v, _fmt(shape), k - 1))
        return labels, None
    tm = _as_matrix(t)
    if tm is None:
        raise TypeError("%s: t must be one-hot rows or class labels, got %s"
                        % (op, type(t).__name__))
    if tm.shape != shape:
        raise ShapeError("%s: y %s and t %s: one-hot t must have the shape of y"
                         % (op, _fmt(shape), _fmt(tm.shape)))
    return None, tm._rows


def sum_squared_error(y, t):
    """``E = 1/2 * sum_k (y_k - t_k)**2``, the mean over the rows of a batch.

    With the 0.6 on the wrong class (index 7), the error is larger:

    >>> y = [0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0]
    >>> sum_squared_error(y, 2)
    0.5975
    """
    y = _outputs(y, "sum_squared_error")
    labels, onehot = _truth(t, y.shape, "sum_squared_error")
    total = 0.0
    for i, row in enumerate(y._rows):
        trow = onehot[i] if labels is None else [1 if j == labels[i] else 0
                                                 for j in range(len(row))]
        total += 0.5 * _sum([(a - b) ** 2 for a, b in zip(row, trow)])
    return total / y.shape[0]


def cross_entropy_error(y, t):
    """``E = -sum_k t_k * log(y_k + delta)``, the mean over the rows of a batch.

    Only the true class counts (t is 0 elsewhere), so with labels this is
    ``-log(y[label] + delta)``: 0 for a confident right answer, large for a
    confident wrong one, and never ``log(0)``.

    >>> y = [0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0]
    >>> cross_entropy_error(y, 2)
    2.302584092994546
    >>> cross_entropy_error(Matrix([[0.0, 1.0]]), [0])     # log(0 + delta), not -inf
    16.11809565095832
    """
    y = _outputs(y, "cross_entropy_error")
    labels, onehot = _truth(t, y.shape, "cross_entropy_error")
    total = 0.0
    log = math.log
    if labels is not None:
        for row, label in zip(y._rows, labels):
            total -= log(row[label] + DELTA)
    else:
        for row, trow in zip(y._rows, onehot):
            total -= _sum([tk * log(yk + DELTA) for yk, tk in zip(row, trow) if tk])
    return total / y.shape[0]


def one_hot(labels, classes):
    """Labels as one-hot rows: ``one_hot([2, 0], 3)`` is ``[[0, 0, 1], [1, 0, 0]]``.

    >>> one_hot([2, 0], 3)
    Matrix([[0, 0, 1], [1, 0, 0]])
    """
    rows = []
    for v in labels:
        if type(v) is not int or not 0 <= v < classes:
            raise ValueError("one_hot: label %r is not a class in 0..%d" % (v, classes - 1))
        rows.append([1 if j == v else 0 for j in range(classes)])
    return Matrix(rows)
