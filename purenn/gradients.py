"""Numerical differentiation and gradient descent (chapter 4.3 - 4.4).

=====================================  =========================================
``numerical_diff(f, x)``               ``(f(x + h) - f(x - h)) / 2h``, h = 1e-4
``numerical_gradient(f, x)``           every partial derivative of f at Matrix x
``numerical_gradient_params(f, p)``    the same for a dict of Matrix parameters
``gradient_descent(f, x, lr, steps)``  ``x <- x - lr * grad f(x)``, repeated
=====================================  =========================================

A Matrix is immutable, so "nudge one element" means: build a copy with that one
element changed, evaluate f on the copy, and drop it.  The copy shares every
row but the changed one, so a nudge costs one row, not the whole matrix.

>>> def function_2(x):                       # f(x0, x1) = x0**2 + x1**2
...     return x[0, 0] ** 2 + x[0, 1] ** 2
>>> numerical_gradient(function_2, Matrix([3.0, 4.0]))
Matrix([[6.00000000000378, 7.999999999999119]])
"""
from purenn.matrix import Matrix, as_matrix

H = 1e-4  # small enough for a good slope, large enough that f(x+h) - f(x-h) keeps its digits


def numerical_diff(f, x):
    """The central difference ``(f(x + h) - f(x - h)) / (2 * h)`` with h = 1e-4.

    The book's example (section 4.3.2), f(x) = 0.01x**2 + 0.1x, whose true
    derivative 0.02x + 0.1 is 0.2 at 5 and 0.3 at 10:

    >>> def function_1(x):
    ...     return 0.01 * x ** 2 + 0.1 * x
    >>> numerical_diff(function_1, 5), numerical_diff(function_1, 10)
    (0.1999999999990898, 0.2999999999986347)
    """
    return (f(x + H) - f(x - H)) / (2 * H)


def _with_element(m, i, j, value):
    """A copy of Matrix m with element [i, j] replaced (the other rows are shared)."""
    rows = list(m._rows)
    row = list(rows[i])
    row[j] = value
    rows[i] = row
    return Matrix._wrap(rows)


def _slope(f, m, i, j):
    """The central difference of f along element [i, j] of Matrix m."""
    x = m._rows[i][j]
    fxh1 = f(_with_element(m, i, j, x + H))
    fxh2 = f(_with_element(m, i, j, x - H))
    return (fxh1 - fxh2) / (2 * H)


def numerical_gradient(f, x):
    """The gradient of f at x: a Matrix of x's shape whose [i, j] element is
    ``(f(x with x[i,j]+h) - f(x with x[i,j]-h)) / 2h``.

    ``f`` takes a Matrix and returns a number; ``x`` is a Matrix or lists (a
    flat list is one row).  ``x`` itself is never changed.

    >>> numerical_gradient(lambda x: (x ** 2).sum(), [[1.0, -2.0], [0.5, 0.0]]).allclose(
    ...     [[2.0, -4.0], [1.0, 0.0]], abs_tol=1e-9)
    True
    """
    m = as_matrix(x, "numerical_gradient: x")
    n, k = m.shape
    return Matrix._wrap([[_slope(f, m, i, j) for j in range(k)] for i in range(n)])


def numerical_gradient_params(f, params, h=H):
    """The gradient of ``f()`` with respect to every Matrix in the dict ``params``.

    ``f`` takes no arguments: it reads the parameters from the dict (a
    network's loss).  For each element, the entry ``params[key]`` is swapped for
    a nudged copy (by ``+h`` and ``-h``), ``f()`` is called, and the original is
    put back; when this returns, ``params`` holds exactly the matrices it held
    before.  Returns a dict with the same keys.

    >>> params = {"W": Matrix([[1.0, 2.0]]), "b": Matrix([3.0])}
    >>> loss = lambda: (params["W"] ** 2).sum() + params["b"][0, 0]
    >>> grads = numerical_gradient_params(loss, params)
    >>> grads["W"].allclose([[2.0, 4.0]], abs_tol=1e-9), grads["b"].allclose([[1.0]])
    (True, True)
    """
    grads = {}
    for key in list(params):
        original = params[key]
        n, k = original.shape
        rows = []
        try:
            for i in range(n):
                row = []
                for j in range(k):
                    x = original._rows[i][j]
                    params[key] = _with_element(original, i, j, x + h)
                    fxh1 = f()
                    params[key] = _with_element(original, i, j, x - h)
                    fxh2 = f()
                    row.append((fxh1 - fxh2) / (2 * h))
                rows.append(row)
        finally:
            params[key] = original  # restore, even when f raises
        grads[key] = Matrix._wrap(rows)
    return grads


def gradient_descent(f, init_x, lr=0.01, step_num=100, history=None):
    """Follow the slope downhill: ``x <- x - lr * numerical_gradient(f, x)``,
    ``step_num`` times from ``init_x``; returns the last x.

    ``lr`` is the learning rate.  Pass a list as ``history`` to collect every
    x on the way (the start included).

    From (-3, 4) the minimum (0, 0) of x0**2 + x1**2 is reached (section
    4.4.1); with lr = 10 every step overshoots further and x runs away:

    >>> def function_2(x):
    ...     return x[0, 0] ** 2 + x[0, 1] ** 2
    >>> x = gradient_descent(function_2, [-3.0, 4.0], lr=0.1, step_num=100)
    >>> abs(x[0, 0]) < 1e-9 and abs(x[0, 1]) < 1e-9
    True
    >>> far = gradient_descent(function_2, [-3.0, 4.0], lr=10.0, step_num=100)
    >>> abs(far[0, 0]) > 1e6
    True
    """
    x = as_matrix(init_x, "gradient_descent: init_x")
    if type(step_num) is not int or step_num < 0:
        raise ValueError("gradient_descent: step_num must be an int >= 0, got %r" % (step_num,))
    if history is not None:
        history.append(x)
    for _ in range(step_num):
        grad = numerical_gradient(f, x)
        x = x - lr * grad
        if history is not None:
            history.append(x)
    return x
