"""The book's own code as the test oracle: how to reach it, how to compare with it.

``tests/test_book_code.py`` (chapters 3-6) and the chapter-7 oracle import
these helpers::

    from book_oracle import require_numpy, book_module, book_file, array_of, assert_matches
    np = require_numpy()                       # at module level: skip (or fail) without it
    layers = book_module("common.layers")      # the book's common/layers.py

=============================  ===================================================
``BOOK_CODE``                  ``../shared/book/code`` (or ``$PURENN_BOOK_CODE``):
                               the book's official code, never copied into purenn
``require_numpy()``            numpy, or skip the calling module with the reason
``book_module(name)``          a module of the book's code, e.g. ``"common.layers"``
``book_file(path, name)``      a script of the book by path (``ch05/two_layer_net.py``),
                               under a module name of its own
``array_of(m)``                a Matrix as a numpy array; a (1, n) row as 1-D (the
                               book's biases and vectors are 1-D)
``matrix_of(a)``               a numpy array (1-D or 2-D) as a Matrix
``assert_matches(m, a, ...)``  a Matrix against an array with a stated tolerance
``book_rand(gen)``             ``np.random.rand`` drawn from a ``purenn.rng.Random``,
                               so the book's Dropout masks are purenn's
=============================  ===================================================

A skipped oracle is no oracle: with ``PURENN_REQUIRE_ORACLE=1`` (set by the
``numpy-oracle`` row of ``ci/runtimes.py``) a missing numpy or book folder is a
failure, not a skip.  That row runs every ``tests/test_book*.py``: name a new
oracle file so (``tests/test_book_convnet.py``) and CI runs it with numpy.
"""
import importlib
import importlib.util
import os
import sys

import pytest

from purenn.matrix import Matrix
from purenn.testing import assert_allclose

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOOK_CODE = os.environ.get("PURENN_BOOK_CODE") or os.path.join(
    os.path.dirname(ROOT), "shared", "book", "code")
REQUIRED = os.environ.get("PURENN_REQUIRE_ORACLE") == "1"


def _unavailable(reason):
    if REQUIRED:
        pytest.fail("%s, and PURENN_REQUIRE_ORACLE=1 says the oracle must run" % reason,
                    pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def require_numpy(book=True):
    """numpy, or skip the calling test module (fail with PURENN_REQUIRE_ORACLE=1);
    with ``book`` the book's code folder must be there too."""
    try:
        import numpy
    except ImportError:
        _unavailable("numpy is not installed; the differential tests need it")
    if book and not os.path.isdir(os.path.join(BOOK_CODE, "common")):
        _unavailable("the book's code is not at %s (the shared folder beside the project)"
                     % BOOK_CODE)
    return numpy


def book_module(name):
    """A module of the book's code by its dotted name (``"common.layers"``)."""
    if BOOK_CODE not in sys.path:
        sys.path.insert(0, BOOK_CODE)
    return importlib.import_module(name)


def book_file(path, name):
    """A script of the book by its path below ``BOOK_CODE``, imported as module
    ``name`` (the book has two ``two_layer_net.py``; their ``sys.path.append``
    of ``os.pardir`` is undone)."""
    if BOOK_CODE not in sys.path:
        sys.path.insert(0, BOOK_CODE)
    saved = list(sys.path)
    spec = importlib.util.spec_from_file_location(name, os.path.join(BOOK_CODE, path))
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = saved
    return module


def array_of(m, np=None):
    """A Matrix as a float64 array; a (1, n) row becomes 1-D, as the book's vectors."""
    np = np or sys.modules["numpy"]
    a = np.array(m.tolist(), dtype=float)
    return a[0] if a.shape[0] == 1 else a


def matrix_of(a):
    """A 1-D (a row) or 2-D numpy array as a Matrix of Python floats (or ints)."""
    values = a.tolist()
    if a.ndim == 0:
        values = [[values]]
    return Matrix(values)


def assert_matches(m, a, rel_tol=0.0, abs_tol=0.0):
    """``m`` (a Matrix, or a number) against ``a`` (an array or number): equal
    shapes (a 1-D array is a row), every pair within ``math.isclose``'s
    tolerances.  The defaults mean "equal to the last bit"."""
    expected = a.tolist() if hasattr(a, "tolist") else a
    if isinstance(expected, list) and expected and not isinstance(expected[0], list):
        expected = [expected]
    assert_allclose(m, expected, rel_tol=rel_tol, abs_tol=abs_tol)


def book_rand(gen):
    """A stand-in for ``np.random.rand(*shape)`` that draws from purenn's
    generator ``gen`` in purenn's order (row by row), so that the book's
    ``Dropout`` draws the masks purenn's ``Dropout`` draws."""
    np = sys.modules["numpy"]

    def rand(*shape):
        return np.array(Matrix.uniform(*shape, seed=gen).tolist())
    return rand
