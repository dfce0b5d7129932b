"""Loss functions: how wrong is the network's output y for the truth t? (chapter 4.2)

=============================  ==============================================
``sum_squared_error(y, t)``    ``E = 1/2 * sum_k (y_k - t_k)**2``
``cross_entropy_error(y, t)``  ``E = -sum_k t_k * log(y_k + delta)``, delta = 1e-7
=============================  ==============================================

``y`` is the network's output: one row (a flat list or a (1, K) Matrix) or a
batch, an (N, K) Matrix.  ``t`` is the truth, either **one-hot** rows of the
same shape as y, or **labels**: one class index per row (a list of N ints, or
a single int for a single row).

Over a batch the two differ, as in the book's ``common/functions.py``:
``cross_entropy_error`` is the **mean** over the rows (section 4.2.4: the size
of the loss does not depend on the batch size), ``sum_squared_error`` the
**sum** over all elements, ``0.5 * np.sum((y - t)**2)``.  Both add up in
numpy's order (pairwise), so they give the book's numbers to the last bit.

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
    """Sum a list of floats in numpy's order (``np.sum``'s pairwise summation).

    Under 8 numbers: one after another.  Up to 128: eight running sums, added
    pairwise, then the rest.  Beyond: the two halves (split at a multiple of
    8) summed so, then added.  Why not ``sum()``: from CPython 3.12 on it
    rounds differently (it is compensated), and this order reproduces the
    book's numpy values to the last bit on every Python (tested against
    numpy).
    """
    n = len(xs)
    if n < 8:
        total = 0.0
        for x in xs:
            total += x
        return total
    if n > 128:
        half = n // 2
        half -= half % 8
        return _sum(xs[:half]) + _sum(xs[half:])
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
    """``E = 1/2 * sum_k (y_k - t_k)**2``, summed over every row of a batch as
    the book's ``0.5 * np.sum((y - t)**2)``.

    With the 0.6 on the wrong class (index 7), the error is larger:

    >>> y = [0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0]
    >>> sum_squared_error(y, 2)
    0.5975
    >>> sum_squared_error(Matrix([y, y]), [2, 2])      # a batch of two: twice that
    1.195
    """
    y = _outputs(y, "sum_squared_error")
    labels, onehot = _truth(t, y.shape, "sum_squared_error")
    t = one_hot(labels, y.shape[1]) if labels is not None else Matrix._wrap(onehot)
    d = y - t
    return 0.5 * _sum([v for row in (d * d).tolist() for v in row])


def cross_entropy_error(y, t):
    """``E = -sum_k t_k * log(y_k + delta)``, the mean over the rows of a batch.

    Only the true class counts (t is 0 elsewhere), so this is
    ``-log(y[label] + delta)``: 0 for a confident right answer, large for a
    confident wrong one, and never ``log(0)``.  As the book, one-hot rows are
    turned into their labels first, and the batch's sum is divided by N.

    >>> y = [0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0]
    >>> cross_entropy_error(y, 2)
    2.302584092994546
    >>> cross_entropy_error(Matrix([[0.0, 1.0]]), [0])     # log(0 + delta), not -inf
    16.11809565095832
    """
    y = _outputs(y, "cross_entropy_error")
    labels, onehot = _truth(t, y.shape, "cross_entropy_error")
    if labels is None:
        labels = _onehot_labels(onehot, "cross_entropy_error")
    log = math.log
    rows = y.tolist()
    return -_sum([log(row[label] + DELTA) for row, label in zip(rows, labels)]) / y.shape[0]


def _onehot_labels(onehot, op):
    """The label of each one-hot row; a row that is not one-hot is refused."""
    labels = []
    for i, row in enumerate(onehot):
        if row.count(0) != len(row) - 1 or 1 not in row:
            raise ValueError("%s: t row %d is %r, not one-hot (one 1, the rest 0); give "
                             "one-hot rows or class labels" % (op, i, list(row)[:10]))
        labels.append(row.index(1))
    return labels


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
