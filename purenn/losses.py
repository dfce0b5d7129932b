"""Loss functions: how wrong is the network's output y for the truth t? (chapter 4.2)

=============================  ==============================================
``sum_squared_error(y, t)``    ``E = 1/2 * sum_k (y_k - t_k)**2``
``cross_entropy_error(y, t)``  ``E = -sum_k t_k * log(y_k + delta)``, delta = 1e-7
``one_hot(labels, classes)``   labels as one-hot rows (from ``purenn.labels``)
=============================  ==============================================

``y`` is the network's output: one row (a flat list or a (1, K) Matrix) or a
batch, an (N, K) Matrix.  ``t`` is the truth, either **one-hot** rows of the
same shape as y, or **labels**: one class index per row (a list of N ints, or
a single int for a single row); ``purenn.labels`` turns one into the other
and refuses rows that are not one-hot.

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

from purenn.labels import as_labels, one_hot, targets
from purenn.matrix import Matrix, as_matrix

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
    d = y - targets(t, y.shape, "sum_squared_error")
    return 0.5 * _sum((d * d).flatten().tolist()[0])


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
    labels = as_labels(t, y.shape[1], "cross_entropy_error", n=y.shape[0])
    log = math.log
    rows = y.tolist()
    return -_sum([log(row[label] + DELTA) for row, label in zip(rows, labels)]) / y.shape[0]
