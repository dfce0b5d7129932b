"""Numerical differentiation and gradient descent (chapter 4.3 - 4.4).

=====================================  =========================================
``numerical_diff(f, x, h)``            ``(f(x + h) - f(x - h)) / 2h``, h = 1e-4
``numerical_gradient(f, x)``           every partial derivative of f at Matrix x
``numerical_gradient_params(f, p)``    the same for a dict of Matrix parameters
``gradient_descent(f, x, lr, steps)``  ``x <- x - lr * grad f(x)``, repeated
=====================================  =========================================

A Matrix is immutable, so "nudge one element" means: build a copy with that one
element changed (``m.with_element(i, j, v)``), evaluate f on the copy, and
drop it.  The copy shares every row but the changed one, so a nudge costs one
row, not the whole matrix.

>>> def function_2(x):                       # f(x0, x1) = x0**2 + x1**2
...     return x[0, 0] ** 2 + x[0, 1] ** 2
>>> numerical_gradient(function_2, Matrix([3.0, 4.0]))
Matrix([[6.00000000000378, 7.999999999999119]])
"""
from purenn.matrix import Matrix, as_matrix

H = 1e-4  # small enough for a good slope, large enough that f(x+h) - f(x-h) keeps its digits


def numerical_diff(f, x, h=H):
    """The central difference ``(f(x + h) - f(x - h)) / (2 * h)`` with h = 1e-4.

    The one home of the formula: ``numerical_gradient`` and
    ``numerical_gradient_params`` take it along each element in turn.

    The book's example (section 4.3.2), f(x) = 0.01x**2 + 0.1x, whose true
    derivative 0.02x + 0.1 is 0.2 at 5 and 0.3 at 10:

    >>> def function_1(x):
    ...     return 0.01 * x ** 2 + 0.1 * x
    >>> numerical_diff(function_1, 5), numerical_diff(function_1, 10)
    (0.1999999999990898, 0.2999999999986347)
    """
    return (f(x + h) - f(x - h)) / (2 * h)


def numerical_gradient(f, x):
    """The gradient of f at x: a Matrix of x's shape whose [i, j] element is
    ``(f(x with x[i,j]+h) - f(x with x[i,j]-h)) / 2h``.

    ``f`` takes a Matrix and returns a number; ``x`` is a Matrix or lists (a
    flat list is one row).  ``x`` itself is never changed: each nudged copy is
    ``x.with_element(i, j, x[i, j] + h)``, the book's ``x[idx] = tmp_val + h``.

    >>> numerical_gradient(lambda x: (x ** 2).sum(), [[1.0, -2.0], [0.5, 0.0]]).allclose(
    ...     [[2.0, -4.0], [1.0, 0.0]], abs_tol=1e-9)
    True
    """
    m = as_matrix(x, "numerical_gradient: x")
    n, k = m.shape
    return Matrix([[numerical_diff(lambda v: f(m.with_element(i, j, v)), m[i, j])
                    for j in range(k)] for i in range(n)])


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

        def nudged(value, i, j):
            params[key] = original.with_element(i, j, value)
            return f()
        try:
            grads[key] = Matrix([[numerical_diff(lambda v: nudged(v, i, j), original[i, j], h)
                                  for j in range(k)] for i in range(n)])
        finally:
            params[key] = original  # restore, even when f raises
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
