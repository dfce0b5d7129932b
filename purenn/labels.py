"""Class labels, one-hot rows and accuracy: the truth a classifier is measured by (3.6, 4.2).

==========================================  ==========================================
``one_hot(labels, classes)``                labels -> one-hot rows, a Matrix (N, classes)
``as_labels(t, classes, op, n)``            one class label per row, from labels or
                                            one-hot rows
``targets(t, shape, op)``                   the truth as a Matrix of target rows (for
                                            ``sum_squared_error``)
``predict_labels(network, x, batch_size)``  the predicted class of every row of x,
                                            ``batch_size`` rows at a time
``accuracy(predicted, t)``                  the share of rows predicted right
==========================================  ==========================================

The truth ``t`` comes in two forms, as in the book: **labels**, one class
index per row (``[7, 2, 1]``), or **one-hot rows** (``[[0, 1, 0], ...]``, a
Matrix or nested lists, ``one_hot_label=True``).  One rule holds everywhere a
row names a class (the losses, ``SoftmaxWithLoss``, ``accuracy``, the
``Trainer``): a one-hot row has exactly one 1 and zeros elsewhere.  Anything
else (``[1, 1]``, ``[0.3, 0.7]``) is refused with the same message, never
quietly turned into its argmax.

>>> one_hot([2, 0], 3)
Matrix([[0, 0, 1], [1, 0, 0]])
>>> as_labels(Matrix([[0, 0, 1], [1, 0, 0]]), 3, "accuracy")
[2, 0]
>>> as_labels([[0.3, 0.7]], 2, "accuracy")
Traceback (most recent call last):
    ...
ValueError: accuracy: t row 0 is [0.3, 0.7], not one-hot (one 1, the rest 0); give class labels (ints) or one-hot rows
>>> accuracy([1, 2, 0, None], [1, 2, 1, 0])     # None: a row with no prediction (nan scores)
0.5
"""
from purenn.errors import ShapeError
from purenn.matrix import Matrix, as_matrix, format_shape


def _is_label(v, classes):
    # bool is no label (True is an int on CPython, not on MicroPython)
    return type(v) is int and (classes is None or 0 <= v < classes)


def _check_label(v, i, classes, op):
    if not _is_label(v, classes):
        span = "an int" if classes is None else "an int from 0 to %d" % (classes - 1)
        raise ValueError("%s: label %d is %r; a class label is %s (or give one-hot rows)"
                         % (op, i, v, span))
    return v


def one_hot(labels, classes):
    """Labels as one-hot rows: ``one_hot([2, 0], 3)`` is ``[[0, 0, 1], [1, 0, 0]]``.

    >>> one_hot([1], 2)
    Matrix([[0, 1]])
    """
    if type(classes) is not int or classes < 1:
        raise ValueError("one_hot: classes must be an int >= 1, got %r" % (classes,))
    rows = []
    for i, v in enumerate(labels):
        _check_label(v, i, classes, "one_hot")
        row = [0] * classes
        row[v] = 1
        rows.append(row)
    if not rows:
        raise ValueError("one_hot: no labels")
    return Matrix.from_rows(rows, copy=False)   # rows built here, handed over


def _row_label(row, i, op):
    """The class of one one-hot row; any other row is refused (the one rule)."""
    ones = [j for j, v in enumerate(row) if v == 1]
    if len(ones) != 1 or row.count(0) != len(row) - 1:
        shown = list(row[:10]) + (["..."] if len(row) > 10 else [])
        raise ValueError("%s: t row %d is %s, not one-hot (one 1, the rest 0); give class "
                         "labels (ints) or one-hot rows" % (op, i, "[%s]" % ", ".join(
                             str(v) for v in shown)))
    return ones[0]


def _is_flat(t):
    return isinstance(t, (list, tuple)) and len(t) > 0 and \
        not isinstance(t[0], (list, tuple, Matrix))


def as_labels(t, classes, op, n=None):
    """One class label per row, from labels or from one-hot rows.

    ``t``: a list (or tuple) of ints, a single int (one row), or one-hot
    rows (a Matrix or nested lists with ``classes`` columns).  ``classes``
    (or None: unchecked) bounds the labels; ``n``, when given, is the number
    of rows the labels must match.  A flat list is the labels, except that
    for a single row (``n == 1``) a list of ``classes`` numbers is that row's
    one-hot row (the slides' ``t = [0, 0, 1, 0, ...]``).  ``op`` names the
    caller in the messages.

    >>> as_labels(2, 10, "loss"), as_labels([0, 0, 1], 3, "loss", n=1)
    ([2], [2])
    """
    if type(t) is int:
        t = [t]
    if _is_flat(t) and not (n == 1 and classes is not None and len(t) == classes != 1):
        labels = [_check_label(v, i, classes, op) for i, v in enumerate(t)]
    else:
        if _is_flat(t):
            t = [t]
        if not isinstance(t, (Matrix, list, tuple)):
            raise TypeError("%s: t must be class labels (ints) or one-hot rows, got %s"
                            % (op, type(t).__name__))
        m = as_matrix(t, op + ": t")
        if classes is not None and m.shape[1] != classes:
            raise ShapeError("%s: one-hot t %s for %d classes: each row must have %d columns"
                             % (op, format_shape(m.shape), classes, classes))
        if n is not None and m.shape[0] != n:
            raise ShapeError("%s: %d inputs but t has %d one-hot rows %s: they must be as many"
                             % (op, n, m.shape[0], format_shape(m.shape)))
        labels = [_row_label(row, i, op) for i, row in enumerate(m.tolist())]
    if n is not None and len(labels) != n:
        raise ShapeError("%s: %d inputs but %d labels: they must be as many"
                         % (op, n, len(labels)))
    return labels


def targets(t, shape, op):
    """The truth as a Matrix of ``shape`` (N, K): one-hot rows for labels,
    or target rows as given (any numbers: ``sum_squared_error`` also measures
    regression).

    >>> targets([1, 0], (2, 2), "sum_squared_error")
    Matrix([[0, 1], [1, 0]])
    """
    n, k = shape
    if type(t) is int or (_is_flat(t) and not (n == 1 and len(t) == k != 1)):
        return one_hot(as_labels(t, k, op, n), k)
    m = as_matrix([t] if _is_flat(t) else t, op + ": t")
    if m.shape != shape:
        raise ShapeError("%s: y %s and t %s: target rows must have the shape of y"
                         % (op, format_shape(shape), format_shape(m.shape)))
    return m


def _labels_of(scores):
    """The predicted class of each row of scores (its argmax); None for a row
    with a nan score (no prediction at all: numpy's argmax would say "the
    first nan", and its max is nan)."""
    maxima = scores.max(axis=1).flatten().tolist()[0]
    return [None if m != m else p for p, m in zip(scores.argmax(axis=1), maxima)]


def predict_labels(network, x, batch_size=100, progress=None):
    """The predicted class of every row of x (a list; None for a row whose
    scores hold a nan), from ``network.predict`` on ``batch_size`` rows at a
    time, as the book's batch inference (section 3.6.3)::

        for i in range(0, len(x), batch_size):
            y_batch = predict(network, x[i:i+batch_size])
            p = np.argmax(y_batch, axis=1)

    ``progress`` (a ``purenn.progress.Progress``), if given, counts the rows.
    """
    x = as_matrix(x, "predict_labels: x")
    if type(batch_size) is not int or batch_size < 1:
        raise ValueError("predict_labels: batch_size must be a positive int, got %r"
                         % (batch_size,))
    predicted = []
    for start in range(0, x.shape[0], batch_size):
        batch = x[start:start + batch_size]
        predicted += _labels_of(network.predict(batch))
        if progress is not None:
            progress.update(batch.shape[0])
    return predicted


def accuracy(predicted, t):
    """The share of the predictions that are the true label (a float in [0, 1]).

    ``predicted`` is a list of labels (``None`` counts as wrong); ``t`` the
    true labels (or one-hot rows), as many.

    >>> accuracy([7, 2, 1, 0], [7, 2, 1, 4])
    0.75
    """
    labels = as_labels(t, None, "accuracy", n=len(predicted))
    if not labels:
        raise ValueError("accuracy: no predictions to measure")
    return sum(1 for p, label in zip(predicted, labels) if p == label) / float(len(labels))
