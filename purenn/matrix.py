"""A 2-D matrix of numbers, written out by hand: purenn's ``numpy.ndarray``.

=========================  ================================================
build                      ``Matrix(rows)``, ``Matrix([1, 2])`` (a (1, 2) row),
                           ``zeros``, ``ones``, ``full``, ``identity``,
                           ``uniform``, ``randn`` (purenn's own seeded generator),
                           ``from_rows`` (rows handed over, not copied)
look                       ``shape``, ``size``, ``ndim``, ``m[i, j]``, ``m[i]``
                           (a (1, M) row), ``m[a:b]``, ``m[:, j]``, ``for row
                           in m``, ``tolist()``, ``T``, ``reshape``, ``flatten``
multiply                   ``a @ b``, ``a.dot(b)``, ``dot(a, b)``:
                           ``(N, K) @ (K, M) -> (N, M)``
elementwise                ``+ - * / **`` and unary ``-`` with a scalar on either
                           side, or with a matrix by numpy's broadcasting rules;
                           ``sqrt``, ``map``, ``where(mask, a, b)``,
                           ``with_element``
reduce                     ``sum``, ``mean``, ``max``, ``min``, ``argmax``,
                           ``argmin`` over all, axis 0 or axis 1
compare                    ``< <= > >=`` (masks of booleans), ``==`` (whole
                           matrices, exact), ``allclose`` (with tolerances)
hot loops                  ``map_rows``: the one door to the rows themselves
print                      ``str``, ``repr``; ``shown_cells``, ``format_shape``
=========================  ================================================

A Matrix is **immutable**: no operation changes a matrix, every operation
returns a new one, and the lists you build a matrix from are copied, never
kept.  So a weight matrix you hand to a network cannot change behind your
back, one matrix can be shared freely (rows and slices share their lists),
and the transpose a product needs can be computed once and cached.  The
numpy names the book uses are here with numpy's meaning where a 2-D,
immutable matrix of Python numbers can have it; ``docs/numpy.md`` lists them.

Elements are ``int``, ``float`` or any other real number such as
``fractions.Fraction`` (exact arithmetic: hand calculations come out exact).

>>> x = Matrix([1.0, 0.5])                      # (1, 2): a row, as on the slides
>>> W1 = Matrix([[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]])
>>> b1 = Matrix([0.1, 0.2, 0.3])
>>> a1 = x @ W1 + b1                            # (1,2)·(2,3)+(1,3) -> (1,3)
>>> a1.shape
(1, 3)
>>> a1.allclose([[0.3, 0.7, 1.1]])
True
"""
import math as _math
import sys as _sys

# A transpose knows its matrix weakly on CPython only (see _remember_transpose):
# there reference counting frees what holds no cycle at once.  PyPy's and
# MicroPython's collectors trace, so a cycle costs them nothing, and a weak
# reference costs PyPy's collector work at every minor collection.
try:
    from weakref import ref as _weak_ref
except ImportError:  # MicroPython builds without weakref
    _weak_ref = None
if _sys.implementation.name != "cpython":
    _weak_ref = None

from purenn import kernels
from purenn.errors import ShapeError
from purenn import rng as _rng

try:
    from operator import add, sub, mul, truediv, pow as _pow, lt, le, gt, ge
except ImportError:  # MicroPython builds without the operator module
    def add(a, b):
        return a + b

    def lt(a, b):
        return a < b

    def le(a, b):
        return a <= b

    def gt(a, b):
        return a > b

    def ge(a, b):
        return a >= b

    def sub(a, b):
        return a - b

    def mul(a, b):
        return a * b

    def truediv(a, b):
        return a / b

    def _pow(a, b):
        return a ** b

try:
    from numbers import Real as _Real
except ImportError:  # MicroPython: no numbers module, int and float only
    _Real = (int, float)

# bool is listed because MicroPython's bool is no subclass of int (nor Real):
# without it, Matrix([True, False]) would work on CPython and fail there.
_FAST_TYPES = (int, float, bool)
_SUM_TYPES = (int, float)


def is_number(x):
    """True for a real number a Matrix can hold: int, float, bool, Fraction, ...
    (not a str, not complex)."""
    return type(x) in _FAST_TYPES or (isinstance(x, _Real) and not isinstance(x, (str, bytes)))


def _is_iterable(x):
    # not hasattr(x, "__iter__"): MicroPython's built-in types have no such attribute
    try:
        iter(x)
    except TypeError:
        return False
    return True


def _is_int(n):
    """A whole number for a shape or an index (``True`` is not one)."""
    return isinstance(n, int) and not isinstance(n, bool)


def _check_row(row, r):
    # The common case at C speed: a row of ints, floats and bools sums to an
    # int or a float (a str, None, a list or a complex number would not);
    # anything else takes the element-by-element look, which names the culprit.
    try:
        if type(sum(row)) in _SUM_TYPES:
            return
    except (TypeError, OverflowError, ValueError):
        pass
    for c, x in enumerate(row):
        if type(x) not in _FAST_TYPES and not is_number(x):
            raise TypeError(
                "Matrix: element [%d][%d] is %r (%s); elements must be real numbers"
                % (r, c, x, type(x).__name__))


def _shape_of(args, name):
    """``f(2, 3)`` and ``f((2, 3))`` both mean shape (2, 3)."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    if len(args) != 2:
        raise TypeError("%s: give a shape as rows, cols or (rows, cols), got %r" % (name, args))
    rows, cols = args
    for n in (rows, cols):
        if not _is_int(n):
            raise TypeError("%s: shape must be whole numbers, got %r" % (name, args))
        if n < 1:
            raise ValueError("%s: shape must be at least (1, 1), got (%r, %r)" % (name, rows, cols))
    return rows, cols


def _axis(axis, op):
    if axis is None:
        return None
    if axis in (0, -2) and type(axis) is int:
        return 0
    if axis in (1, -1) and type(axis) is int:
        return 1
    raise ValueError("%s: axis must be None, 0 or 1 (or -2, -1), got %r" % (op, axis))


_SYMBOL = {add: "+", sub: "-", mul: "*", truediv: "/", _pow: "**",
           lt: "<", le: "<=", gt: ">", ge: ">="}


class Matrix:
    """A 2-D matrix of real numbers with value semantics.

    ``Matrix([[1, 2], [3, 4]])`` has shape (2, 2); a flat list gives a row
    vector, ``Matrix([1, 2, 3])`` of shape (1, 3); another Matrix is copied.

    >>> Matrix([[1, 2], [3, 4]])
    Matrix([[1, 2], [3, 4]])
    >>> print(Matrix([[1, 2.5], [-3, 4]]))
    [[ 1  2.5]
     [-3    4]]
    >>> Matrix([[1, 2], [3]])
    Traceback (most recent call last):
        ...
    ValueError: Matrix: row 1 has 1 elements, row 0 has 2; all rows must have the same length
    """

    __slots__ = ("_rows", "_shape", "_cache", "__weakref__")

    def __init__(self, data):
        if isinstance(data, Matrix):
            rows = [list(r) for r in data._rows]
        elif isinstance(data, (str, bytes, dict, set, frozenset)) or not _is_iterable(data):
            # (a dict or a set has no order of its own: which would be row 0?)
            raise TypeError(
                "Matrix: expected a list of rows (or a flat list), got %s" % type(data).__name__)
        else:
            items = list(data)
            if not items:
                raise ValueError("Matrix: empty input; a matrix needs at least one element")
            if is_number(items[0]):
                rows = [items]
            else:
                rows = []
                for r, row in enumerate(items):
                    if isinstance(row, Matrix):
                        # a row of another matrix, m[i]: its one row (np.array([x[0], x[5]]))
                        if row._shape[0] != 1:
                            raise TypeError("Matrix: row %d is a %s Matrix; rows given as "
                                            "matrices must be (1, M) rows"
                                            % (r, format_shape(row._shape)))
                        rows.append(list(row._rows[0]))
                        continue
                    if isinstance(row, (str, bytes, dict, set, frozenset)) or not _is_iterable(row):
                        raise TypeError(
                            "Matrix: row %d is %r; give either all numbers (one row) "
                            "or all rows" % (r, row))
                    rows.append(list(row))
            width = len(rows[0])
            if width == 0:
                raise ValueError("Matrix: empty row; a matrix needs at least one column")
            for r, row in enumerate(rows):
                if len(row) != width:
                    raise ValueError(
                        "Matrix: row %d has %d elements, row 0 has %d; "
                        "all rows must have the same length" % (r, len(row), width))
                _check_row(row, r)
        self._rows = rows
        self._shape = (len(rows), len(rows[0]))
        self._cache = {}

    @classmethod
    def from_rows(cls, rows, copy=True):
        """A Matrix of ``rows``, a list of lists of real numbers, checked as
        ``Matrix(rows)`` checks them.  With ``copy=False`` the lists are not
        copied: the matrix takes them over, and you promise never to change
        them again (for data loaders that have just built 60,000 rows: no
        second copy of every row, half the memory).

        >>> rows = [[1.0, 2.0], [3.0, 4.0]]
        >>> Matrix.from_rows(rows, copy=False).shape
        (2, 2)
        >>> Matrix.from_rows([[1.0], "ab"], copy=False)
        Traceback (most recent call last):
            ...
        TypeError: Matrix.from_rows: row 1 is a str; give a list of lists of numbers
        """
        if copy:
            return cls(rows)
        if type(rows) is not list or not rows:
            raise TypeError("Matrix.from_rows: give a non-empty list of rows (lists), got %s"
                            % type(rows).__name__)
        width = len(rows[0]) if type(rows[0]) is list else 0
        for r, row in enumerate(rows):
            if type(row) is not list:
                raise TypeError("Matrix.from_rows: row %d is a %s; give a list of lists of "
                                "numbers" % (r, type(row).__name__))
            if len(row) != width or not width:
                raise ValueError("Matrix.from_rows: row %d has %d elements, row 0 has %d; all "
                                 "rows must have the same length (at least 1)"
                                 % (r, len(row), width))
            _check_row(row, r)
        return cls._wrap(rows)

    @classmethod
    def _wrap(cls, rows):
        """A Matrix around ``rows`` with no checks and no copy: purenn's own
        operations use it for lists they have just built and checked."""
        m = object.__new__(cls)
        m._rows = rows
        m._shape = (len(rows), len(rows[0]))
        m._cache = {}
        return m

    # ----------------------------------------------------------- builders

    @classmethod
    def full(cls, *shape, **kw):
        """A matrix of one value: ``full(2, 3, value=7)``, ``full(2, 3, 7)`` or
        ``full((2, 3), 7)``.

        >>> Matrix.full(2, 3, value=7)
        Matrix([[7, 7, 7], [7, 7, 7]])
        """
        if "value" in kw:
            value = kw.pop("value")
        elif len(shape) == 2 and isinstance(shape[0], (tuple, list)):
            shape, value = (shape[0],), shape[1]
        elif len(shape) == 3:
            shape, value = shape[:2], shape[2]
        else:
            raise TypeError("full: give value=..., e.g. Matrix.full(2, 3, value=0.5)")
        if kw:
            raise TypeError("full: unexpected arguments %s" % sorted(kw))
        rows, cols = _shape_of(shape, "full")
        if not is_number(value):
            raise TypeError("full: value must be a real number, got %r" % (value,))
        return cls._wrap([[value] * cols for _ in range(rows)])

    @classmethod
    def zeros(cls, *shape):
        """A matrix of ``0.0``: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
        return cls.full(*shape, value=0.0)

    @classmethod
    def ones(cls, *shape):
        """A matrix of ``1.0``: ``ones(2, 3)`` or ``ones((2, 3))``."""
        return cls.full(*shape, value=1.0)

    @classmethod
    def identity(cls, n):
        """The n×n identity matrix I, with ``A @ I == A``.

        >>> Matrix.identity(2)
        Matrix([[1, 0], [0, 1]])
        """
        _shape_of((n, n), "identity")
        return cls._wrap([[1 if i == j else 0 for j in range(n)] for i in range(n)])

    @classmethod
    def uniform(cls, *shape, **kw):
        """Uniform random numbers in [low, high) from purenn's own generator.

        ``uniform(2, 3, low=-1.0, high=1.0, seed=42)``; ``seed`` is an int or a
        ``purenn.rng.Random``; without it purenn's shared generator is used.
        The same seed gives the same numbers on every Python.

        >>> Matrix.uniform(1, 2, seed=1) == Matrix.uniform(1, 2, seed=1)
        True
        """
        low, high = kw.pop("low", 0.0), kw.pop("high", 1.0)
        return cls._drawn(shape, kw, "uniform", lambda gen: gen.uniform(low, high))

    @classmethod
    def randn(cls, *shape, **kw):
        """Gaussian random numbers (``mean`` 0.0, ``std`` 1.0 by default).

        ``randn(784, 50, std=0.01, seed=0)``: like ``np.random.randn`` but from
        purenn's own generator (see ``uniform``).

        **Without a seed the numbers are the same in every new interpreter**:
        purenn's shared generator starts from seed 0 when purenn is imported
        (numpy's ``np.random.randn`` starts from fresh entropy and differs
        each run).  That is on purpose: an example, a lesson or a test gives
        the same numbers on every machine and every Python.  For other numbers
        pass ``seed=``, or reseed the shared generator with
        ``purenn.rng.seed(n)`` (e.g. ``seed(int(time.time()))`` for a new run
        each time; print n to repeat it).

        >>> Matrix.randn(1, 3, seed=7) == Matrix.randn(1, 3, seed=7)
        True
        """
        mean, std = kw.pop("mean", 0.0), kw.pop("std", 1.0)
        return cls._drawn(shape, kw, "randn", lambda gen: gen.gauss(mean, std))

    @classmethod
    def _drawn(cls, shape, kw, op, draw):
        """A matrix of ``draw(gen)`` numbers, row by row, from ``kw``'s seed."""
        gen = _rng.generator(kw.pop("seed", None))
        if kw:
            raise TypeError("%s: unexpected arguments %s" % (op, sorted(kw)))
        rows, cols = _shape_of(shape, op)
        return cls._wrap([[draw(gen) for _ in range(cols)] for _ in range(rows)])

    @classmethod
    def from_floats(cls, values, cols):
        """A matrix of ``len(values) // cols`` rows from an ``array('d')`` (or
        the bytes of one, float64 in this machine's byte order): all floats
        already, so no element needs checking (``purenn.parallel`` rebuilds
        the matrices it receives this way).

        >>> from array import array
        >>> Matrix.from_floats(array("d", [1.0, 2.0, 3.0, 4.0]), 2)
        Matrix([[1.0, 2.0], [3.0, 4.0]])
        """
        try:
            from array import array
        except ImportError:  # a MicroPython build without array: check each element
            return cls([list(values[i:i + cols]) for i in range(0, len(values), cols)])
        if not isinstance(values, array):
            raw, values = values, array("d")
            values.frombytes(raw)
        if hasattr(values, "typecode") and values.typecode != "d":
            raise TypeError("Matrix.from_floats: needs an array('d'), got typecode %r"
                            % values.typecode)
        n = len(values)
        if not _is_int(cols) or cols < 1 or n == 0 or n % cols:
            raise ValueError("Matrix.from_floats: %d numbers do not make rows of %r"
                             % (n, cols))
        return cls._wrap([list(values[i:i + cols]) for i in range(0, n, cols)])

    @classmethod
    def vstack(cls, matrices):
        """The rows of the matrices one after another (numpy's ``np.vstack``):
        (n1, M), (n2, M), ... -> (n1 + n2 + ..., M).  The rows are shared, not
        copied: no matrix ever changes them.

        >>> Matrix.vstack([Matrix([[1, 2]]), Matrix([[3, 4], [5, 6]])])
        Matrix([[1, 2], [3, 4], [5, 6]])
        >>> Matrix.vstack([Matrix([[1, 2]]), Matrix([[3]])])
        Traceback (most recent call last):
            ...
        purenn.errors.ShapeError: Matrix.vstack: matrix 1 is (1, 1) but matrix 0 has 2 columns: all need the same number
        """
        matrices = [as_matrix(m, "Matrix.vstack: matrix %d" % i) for i, m in enumerate(matrices)]
        if not matrices:
            raise ValueError("Matrix.vstack: no matrices")
        cols = matrices[0]._shape[1]
        rows = []
        for i, m in enumerate(matrices):
            if m._shape[1] != cols:
                raise ShapeError("Matrix.vstack: matrix %d is %s but matrix 0 has %d columns: "
                                 "all need the same number" % (i, format_shape(m._shape), cols))
            rows += m._rows
        return Matrix._wrap(rows)  # a plain Matrix, as every operation gives

    # ---------------------------------------------------------- looking in

    @property
    def shape(self):
        """``(rows, columns)``."""
        return self._shape

    def tolist(self):
        """The elements as a new list of row lists (yours to change)."""
        return [list(r) for r in self._rows]

    def __len__(self):
        return self._shape[0]

    def __iter__(self):
        """Iterate over the rows, each a (1, M) Matrix (as ``m[i]``)."""
        for r in self._rows:
            yield Matrix._wrap([r])

    def __setitem__(self, key, value):
        raise TypeError("Matrix is immutable: m[%r] = ... cannot change it; make a new matrix, "
                        "e.g. m.with_element(i, j, value), or change m.tolist() and build "
                        "Matrix(rows) from it" % (key,))

    def _row_index(self, i):
        n = self._shape[0]
        if not _is_int(i):
            raise TypeError("Matrix index: row index must be an int or slice, got %r" % (i,))
        if not -n <= i < n:
            hint = ("; m[i] of a matrix is a (1, M) row: its elements are row[0, j]"
                    if n == 1 else "")
            raise IndexError("Matrix index: row %d is out of range for shape %s%s"
                             % (i, self._shape, hint))
        return i % n

    def _col_index(self, j):
        m = self._shape[1]
        if not _is_int(j):
            raise TypeError("Matrix index: column index must be an int or slice, got %r" % (j,))
        if not -m <= j < m:
            raise IndexError("Matrix index: column %d is out of range for shape %s" % (j, self._shape))
        return j % m

    def _select(self, key, n, one):
        if isinstance(key, slice):
            picked = list(range(*key.indices(n)))
        elif isinstance(key, list):
            picked = [one(k) for k in key]
        else:
            return None
        if not picked:
            raise IndexError("Matrix index: %r selects nothing from shape %s" % (key, self._shape))
        return picked

    def __getitem__(self, key):
        """``m[i, j]`` an element; ``m[i]`` row i as a (1, M) Matrix; ``m[a:b]``,
        ``m[[3, 1]]``, ``m[:, j]`` and ``m[a:b, c:d]`` new matrices.

        A row is a (1, M) Matrix, not a tuple, so that the book's
        ``img = x_train[0]; img.reshape(28, 28)`` works (numpy gives a 1-D
        array of shape (784,) there; a Matrix is always 2-D: (1, 784)).

        >>> m = Matrix([[1, 2, 3], [4, 5, 6]])
        >>> m[1, 2], m[0], m[-1].shape
        (6, Matrix([[1, 2, 3]]), (1, 3))
        >>> m[:, 1]
        Matrix([[2], [5]])
        """
        if isinstance(key, tuple):
            if len(key) != 2:
                raise TypeError("Matrix index: give m[i], m[i, j] or a list of rows, got %r" % (key,))
            rk, ck = key
        else:
            rk, ck = key, None
        rows = self._select(rk, self._shape[0], self._row_index)
        if ck is None:
            # rows are shared, not copied: no matrix ever changes them
            if rows is None:
                return Matrix._wrap([self._rows[self._row_index(rk)]])
            return Matrix._wrap([self._rows[i] for i in rows])
        if rows is not None and isinstance(ck, slice) and ck.step in (None, 1):
            c0, c1, _ = ck.indices(self._shape[1])
            if c0 < c1:  # a run of columns: slices of the rows
                return Matrix._wrap([row[c0:c1] for row in self._picked_rows(rows)])
        cols = self._select(ck, self._shape[1], self._col_index)
        if rows is None and cols is None:
            return self._picked_rows([self._row_index(rk)])[0][self._col_index(ck)]
        if rows is None:
            rows = [self._row_index(rk)]
        if cols is None:
            cols = [self._col_index(ck)]
        return Matrix._wrap([[row[j] for j in cols] for row in self._picked_rows(rows)])

    def _picked_rows(self, picked):
        """The rows numbered ``picked`` (valid indices), as the lists they are:
        only read them.  (A ``BytesMatrix`` decodes these rows only.)"""
        rows = self._rows
        return [rows[i] for i in picked]

    def with_element(self, i, j, value):
        """A new matrix equal to this one but for element [i, j], which is
        ``value`` (what ``m[i, j] = value`` would do, were matrices mutable).
        The other rows are shared, not copied: a nudge costs one row.

        >>> Matrix([[1, 2], [3, 4]]).with_element(0, 1, 9)
        Matrix([[1, 9], [3, 4]])
        """
        i, j = self._row_index(i), self._col_index(j)
        if not is_number(value):
            raise TypeError("with_element: value must be a real number, got %r" % (value,))
        rows = list(self._rows)
        row = list(rows[i])
        row[j] = value
        rows[i] = row
        return Matrix._wrap(rows)

    @property
    def T(self):
        """The transpose: element [i, j] becomes [j, i]; (N, M) -> (M, N).

        >>> Matrix([[1, 2, 3]]).T
        Matrix([[1], [2], [3]])
        """
        t = _known_transpose(self)
        if t is None:
            t = Matrix._wrap([list(col) for col in zip(*self._rows)])
            _remember_transpose(self, t)
        return t

    def transpose(self):
        """Same as ``m.T``."""
        return self.T

    def __reduce__(self):
        # the rows, not the cache (it may hold a weak reference), and whatever
        # a subclass keeps of its own
        state = _own_state(self)
        return (_unpickled_matrix, (type(self), self._rows)) + ((state,) if state else ())

    def __setstate__(self, state):
        if isinstance(state, tuple):  # pickled before purenn had __reduce__: (dict, slots)
            state = dict(state[0] or {}, **(state[1] or {}))
        for name, value in state.items():
            setattr(self, name, value)

    # -------------------------------------------------------------- printing

    def __repr__(self):
        """``Matrix([[...], ...])``, which ``eval`` turns back into an equal matrix
        (``inf`` and ``nan`` are written ``float('inf')`` and ``float('nan')``)."""
        return "Matrix([%s])" % ", ".join(
            "[%s]" % ", ".join(_repr_cell(x) for x in row) for row in self._rows)

    def __str__(self):
        return _grid(self)

    def _repr_html_(self):
        """Jupyter's view: a table with the shape as caption (``purenn.notebook``)."""
        from purenn.notebook import matrix_html  # only when a notebook asks
        return matrix_html(self)

    # ------------------------------------------------------- matrix product

    def __matmul__(self, other):
        """The matrix product: ``c[i][j] = sum over k of a[i][k] * b[k][j]``.

        Shapes: ``(N, K) @ (K, M) -> (N, M)``.

        >>> Matrix([[1, 2]]) @ Matrix([[3], [4]])
        Matrix([[11]])
        >>> Matrix([[1, 2]]) @ Matrix([[1, 2]])
        Traceback (most recent call last):
            ...
        purenn.errors.ShapeError: matmul: (1, 2) @ (1, 2): columns of the left (2) must equal rows of the right (1)
        """
        other = _as_matrix(other)
        if other is None:
            return NotImplemented
        return _matmul(self, other)

    def __rmatmul__(self, other):
        other = _as_matrix(other)
        if other is None:
            return NotImplemented
        return _matmul(other, self)

    def dot(self, other):
        """``a.dot(b)`` is ``a @ b`` (numpy's spelling, used in the book)."""
        return _matmul(self, as_matrix(other, "dot: the right operand"))

    def _all_finite(self):
        """True when no element is inf or nan (cached: matrices never change)."""
        fin = self._cache.get("finite")
        if fin is None:
            # x - x is 0 for every finite number, nan for inf and nan.  Checked
            # on the row sums (one C-speed sum a row): a row with an inf or a
            # nan sums to inf or nan; a sum that overflows only makes us say
            # "not finite" wrongly, which costs speed (no zero skipping), never
            # correctness.
            fin = all(s - s == 0 for s in map(sum, self._rows))
            self._cache["finite"] = fin
        return fin

    def _has_nan(self):
        """True when an element is nan (cached).  With no nan, Python's ``max``
        agrees with numpy's (it only skips a nan it meets after the first element)."""
        nan = self._cache.get("nan")
        if nan is None:
            nan = not self._all_finite() and any(v != v for row in self._rows for v in row)
            self._cache["nan"] = nan
        return nan

    # ------------------------------------------------------------ elementwise

    def map(self, f):
        """A new matrix with ``f(x)`` for each element x.

        >>> Matrix([[1, -2]]).map(abs)
        Matrix([[1, 2]])
        """
        rows = [[f(x) for x in row] for row in self._rows]
        for r, row in enumerate(rows):
            _check_row(row, r)
        return Matrix._wrap(rows)

    def _elementwise(self, other, op, name, reflected=False):
        if is_number(other):
            if reflected:
                rows = [[op(other, x) for x in row] for row in self._rows]
            else:
                rows = [[op(x, other) for x in row] for row in self._rows]
            return Matrix._wrap(rows)
        other = _as_matrix(other)
        if other is None:
            return NotImplemented
        a, b = (other, self) if reflected else (self, other)
        return _broadcast(a, b, op, name)

    def __add__(self, other):
        """Elementwise ``a + b``; a scalar, a (1, M) row or an (N, 1) column
        stretches to fit (numpy's broadcasting).

        >>> Matrix([[1, 2], [3, 4]]) + Matrix([10, 20])
        Matrix([[11, 22], [13, 24]])
        >>> 1 + Matrix([[1, 2]])
        Matrix([[2, 3]])
        """
        return self._elementwise(other, add, "add")

    def __radd__(self, other):
        return self._elementwise(other, add, "add", True)

    def __sub__(self, other):
        """Elementwise ``a - b`` with broadcasting."""
        return self._elementwise(other, sub, "subtract")

    def __rsub__(self, other):
        return self._elementwise(other, sub, "subtract", True)

    def __mul__(self, other):
        """Elementwise (Hadamard) ``a * b`` with broadcasting; not the matrix product.

        >>> Matrix([[1, 2], [3, 4]]) * Matrix([[10], [100]])
        Matrix([[10, 20], [300, 400]])
        """
        return self._elementwise(other, mul, "multiply")

    def __rmul__(self, other):
        return self._elementwise(other, mul, "multiply", True)

    def __truediv__(self, other):
        """Elementwise ``a / b`` with broadcasting; dividing by zero raises
        ``ZeroDivisionError`` as in plain Python."""
        return self._elementwise(other, truediv, "divide")

    def __rtruediv__(self, other):
        return self._elementwise(other, truediv, "divide", True)

    def __pow__(self, other):
        """Elementwise ``a ** b`` with broadcasting (``m ** 2`` squares each element).

        A negative base with a fractional exponent has no real result: that is
        a ``ValueError``, not a complex number inside the matrix.

        >>> Matrix([[-1.0]]) ** 0.5
        Traceback (most recent call last):
            ...
        ValueError: power: element [0][0] is (-1.0) ** 0.5, which is not a real number
        """
        return _real_powers(self._elementwise(other, _pow, "power"), self, other, False)

    def __rpow__(self, other):
        return _real_powers(self._elementwise(other, _pow, "power", True), self, other, True)

    def __neg__(self):
        return Matrix._wrap([[-x for x in row] for row in self._rows])

    def __pos__(self):
        return self

    def __abs__(self):
        return Matrix._wrap([[abs(x) for x in row] for row in self._rows])

    # ------------------------------------------- the door for hot loops

    def map_rows(self, f, *others, **kw):
        """Row by row: ``f(row, other_row, ...)`` -> a new row, for loops that
        must run at the speed of plain lists.

        ``f`` is given the i-th row of this matrix and of each of ``others``
        (matrices of the same shape) as **lists**, row 0 first and each row
        once, and returns a new list of the same length; with ``outputs=n`` it returns n such lists and
        ``map_rows`` returns n matrices.

        This is purenn's one door into a matrix's storage, and a narrow one:
        the rows ``f`` sees are the matrices' own (no copy, that is the
        point), so ``f`` must only read them and must return *new* lists;
        and the elements of those lists are not checked one by one (only
        their count is): ``f`` promises real numbers.  Elementwise code that
        can be written as matrix expressions (``a * b + c``, ``where``,
        ``map``) should be; this is for the few hot loops that cannot, such as
        Adam's fused update (``purenn.optimizers``) and the activation
        functions (``purenn.activations``).

        >>> a, b = Matrix([[1, 2], [3, 4]]), Matrix([[10, 20], [30, 40]])
        >>> a.map_rows(lambda x, y: [u + v for u, v in zip(x, y)], b)
        Matrix([[11, 22], [33, 44]])
        >>> a.map_rows(lambda x: ([-v for v in x], [v * v for v in x]), outputs=2)
        (Matrix([[-1, -2], [-3, -4]]), Matrix([[1, 4], [9, 16]]))
        """
        outputs = kw.pop("outputs", 1)
        if kw:
            raise TypeError("map_rows: unexpected arguments %s" % sorted(kw))
        if type(outputs) is not int or outputs < 1:
            raise ValueError("map_rows: outputs must be an int >= 1, got %r" % (outputs,))
        for other in others:
            if not isinstance(other, Matrix):
                raise TypeError("map_rows: expected matrices, got %s" % type(other).__name__)
            if other._shape != self._shape:
                raise ShapeError("map_rows: %s and %s: shapes must be equal"
                                 % (format_shape(self._shape), format_shape(other._shape)))
        width = self._shape[1]
        if others:
            results = list(map(f, self._rows, *[o._rows for o in others]))
        else:
            results = list(map(f, self._rows))
        if outputs == 1:
            return Matrix._wrap(_rows_checked(results, width))
        for r, rows in enumerate(results):
            if type(rows) is not tuple or len(rows) != outputs:
                raise TypeError("map_rows: f must return %d rows (a tuple) with outputs=%d; "
                                "row %d gave %r" % (outputs, outputs, r, type(rows).__name__))
        return tuple(Matrix._wrap(_rows_checked([rows[k] for rows in results], width))
                     for k in range(outputs))

    # ------------------------------------------------------------ reductions

    def sum(self, axis=None, out=None):
        """Sum of all elements (a number), of each column (``axis=0``, shape
        (1, M)) or of each row (``axis=1``, shape (N, 1)).

        The reduced axis is kept with size 1 (numpy's ``keepdims=True``), so
        the result broadcasts back: ``x / x.sum(axis=1)`` normalises rows.

        >>> m = Matrix([[1, 2], [3, 4]])
        >>> m.sum(), m.sum(axis=0), m.sum(axis=1)
        (10, Matrix([[4, 6]]), Matrix([[3], [7]]))
        """
        _no_out(out, "sum")
        axis = _axis(axis, "sum")
        if axis is None:
            return sum(sum(row) for row in self._rows)
        if axis == 0:
            return Matrix._wrap([[sum(col) for col in zip(*self._rows)]])
        return Matrix._wrap([[sum(row)] for row in self._rows])

    def mean(self, axis=None, out=None):
        """The mean of all elements (a number), of each column (``axis=0``,
        (1, M)) or of each row (``axis=1``, (N, 1)): ``sum / count``, as
        ``np.mean`` (with ``keepdims=True`` for an axis).

        >>> m = Matrix([[1.0, 2.0], [3.0, 6.0]])
        >>> m.mean(), m.mean(axis=0), m.mean(axis=1)
        (3.0, Matrix([[2.0, 4.0]]), Matrix([[1.5], [4.5]]))
        """
        _no_out(out, "mean")
        axis = _axis(axis, "mean")
        n, m = self._shape
        if axis is None:
            return self.sum() / (n * m)
        return self.sum(axis) / (n if axis == 0 else m)

    def max(self, axis=None, out=None):
        """Largest element overall (a number), per column (``axis=0``, (1, M))
        or per row (``axis=1``, (N, 1)).  A nan anywhere in the group makes the
        maximum nan (as in numpy), whatever its position.

        >>> Matrix([[1, 5], [7, 2]]).max(axis=1)
        Matrix([[5], [7]])
        """
        return self._reduced(axis, _max, "max", out, fast=max)

    def min(self, axis=None, out=None):
        """Smallest element overall (a number), per column (``axis=0``) or per
        row (``axis=1``); a nan in the group makes it nan, as ``max``.

        >>> Matrix([[1, 5], [7, 2]]).min(), Matrix([[1, 5], [7, 2]]).min(axis=0)
        (1, Matrix([[1, 2]]))
        """
        return self._reduced(axis, _min, "min", out, fast=min)

    def argmin(self, axis=None, out=None):
        """Index of the smallest element (first one on ties; see ``argmax``)."""
        return self._indices(axis, _argmin, "argmin", out, fast=min)

    def argmax(self, axis=None, out=None):
        """Index of the largest element (first one on ties).

        ``axis=None``: the flat index ``i * columns + j`` (as numpy);
        ``axis=0``: a list with the row index of each column's maximum;
        ``axis=1``: a list with the column index of each row's maximum
        (the predicted class of each sample).  A nan counts as the maximum
        (the first nan), as in numpy.

        >>> Matrix([[0.1, 0.8, 0.1], [0.3, 0.1, 0.6]]).argmax(axis=1)
        [1, 2]
        """
        return self._indices(axis, _argmax, "argmax", out, fast=max)

    def _reduced(self, axis, f, op, out, fast):
        """``f`` (max, min) of all elements, of each column (a (1, M) row) or of
        each row (an (N, 1) column).  ``fast`` is the built-in (``max``,
        ``min``): with no nan it agrees with numpy and runs at C speed, so the
        rows of a matrix without nan use it (a network's predictions, pooling)."""
        _no_out(out, op)
        axis = _axis(axis, op)
        if axis is None:
            return f([f(row) for row in self._rows])
        if axis == 0:
            return Matrix._wrap([[f(list(col)) for col in zip(*self._rows)]])
        if not self._has_nan():
            return Matrix._wrap([[v] for v in map(fast, self._rows)])
        return Matrix._wrap([[f(row)] for row in self._rows])

    def _indices(self, axis, f, op, out, fast):
        """``f`` (argmax, argmin): a flat index, or a list per column / per row;
        ``fast`` as in ``_reduced`` (the built-in keeps the first on ties, and
        ``index`` finds that first one)."""
        _no_out(out, op)
        axis = _axis(axis, op)
        if axis is None:
            return f(self._flat())
        if axis == 0:
            return [f(list(col)) for col in zip(*self._rows)]
        if not self._has_nan():
            return [row.index(v) for row, v in zip(self._rows, map(fast, self._rows))]
        return [f(row) for row in self._rows]

    # -------------------------------------------------------- numpy habits
    # The names the book's chapters 3-6 call on arrays, with numpy's meaning
    # where a 2-D, immutable matrix of Python numbers can have it (docs/numpy.md).

    @property
    def size(self):
        """The number of elements, ``rows * columns`` (numpy's ``a.size``)."""
        return self._shape[0] * self._shape[1]

    @property
    def ndim(self):
        """Always 2: a Matrix is 2-D (a vector is a (1, n) row)."""
        return 2

    def reshape(self, *shape):
        """The same elements, row by row, in a new shape: ``m.reshape(28, 28)``
        or ``m.reshape((28, 28))``; one size may be ``-1`` (worked out).

        >>> img = Matrix([list(range(6))])           # a (1, 6) row
        >>> img.reshape(2, 3)
        Matrix([[0, 1, 2], [3, 4, 5]])
        >>> img.reshape(-1, 2).shape
        (3, 2)
        """
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        if len(shape) != 2 or not all(_is_int(n) for n in shape):
            raise TypeError("reshape: give rows, cols (ints; one may be -1), got %r" % (shape,))
        rows, cols = shape
        size = self.size
        if rows == -1 and cols > 0 and size % cols == 0:
            rows = size // cols
        elif cols == -1 and rows > 0 and size % rows == 0:
            cols = size // rows
        if rows < 1 or cols < 1 or rows * cols != size:
            raise ShapeError("reshape: %s has %d elements, which do not fill (%d, %d)"
                             % (format_shape(self._shape), size, shape[0], shape[1]))
        if (rows, cols) == self._shape:
            return self  # immutable: the same matrix will do
        return Matrix._wrap(_reshape_rows(self._rows, self._shape[0], self._shape[1], cols))

    def flatten(self):
        """All elements, row by row, as one (1, size) row (numpy gives 1-D).

        >>> Matrix([[1, 2], [3, 4]]).flatten()
        Matrix([[1, 2, 3, 4]])
        """
        return Matrix._wrap([self._flat()])

    def _flat(self):
        if self._shape[0] == 1:
            return list(self._rows[0])
        return [x for row in self._rows for x in row]

    def copy(self):
        """The matrix itself: it never changes, so it is its own copy."""
        return self

    def __array__(self, dtype=None, copy=None):
        """``np.array(m)`` gives the (N, M) array (numpy calls this; purenn never does)."""
        import numpy  # portable: import -- only numpy itself calls __array__
        return numpy.array(self.tolist(), dtype=dtype)

    def __lt__(self, other):
        """Elementwise ``a < b`` with broadcasting: a Matrix of ``True``/``False``
        (a mask, as numpy's), so ``(m > 0).sum()`` counts and ``x * mask``
        keeps what is True.  ``==`` stays the comparison of whole matrices.

        >>> m = Matrix([[-1.0, 0.0, 2.0]])
        >>> m > 0
        Matrix([[False, False, True]])
        >>> (m <= 0).sum(), m * (m > 0)
        (2, Matrix([[-0.0, 0.0, 2.0]]))
        """
        return self._elementwise(other, lt, "less")

    def __le__(self, other):
        return self._elementwise(other, le, "less-equal")

    def __gt__(self, other):
        return self._elementwise(other, gt, "greater")

    def __ge__(self, other):
        return self._elementwise(other, ge, "greater-equal")

    def __bool__(self):
        """As numpy: a (1, 1) matrix is true when its element is; any other is
        ambiguous (which element?), a ``ValueError``, so that ``min(rows)``
        or ``if m > 0:`` cannot quietly give a wrong answer."""
        if self._shape == (1, 1):
            return bool(self._rows[0][0])
        raise ValueError("the truth value of a %s Matrix is ambiguous: compare whole matrices "
                         "with ==, count a mask with (m > 0).sum(), or test elements with "
                         "any(m.flatten().tolist()[0])" % format_shape(self._shape))

    def __getattr__(self, name):
        # called only for names a Matrix does not have: numpy's get a hint
        way = _NUMPY_WAYS.get(name)
        if way is None:
            raise AttributeError("'Matrix' object has no attribute %r" % (name,))
        raise AttributeError("Matrix has no %r: %s" % (name, way))

    # ------------------------------------------------------------- comparing

    def __eq__(self, other):
        """Exact equality: same shape and equal elements (``1 == 1.0``)."""
        if not isinstance(other, Matrix):
            return NotImplemented
        return self._shape == other._shape and self._rows == other._rows

    def __ne__(self, other):
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self):
        return hash(tuple(tuple(r) for r in self._rows))

    def allclose(self, other, rel_tol=1e-9, abs_tol=1e-12):
        """True when the shapes match and every pair of elements is close:
        ``|a - b| <= max(rel_tol * max(|a|, |b|), abs_tol)`` (``math.isclose``).

        The defaults suit unit-scale data: about 7 significant digits of
        float64 to spare, and anything below ``1e-12`` counts as zero.  NaN is
        close to nothing; ``inf`` only to the same ``inf``.

        >>> Matrix([[0.1 + 0.2]]).allclose([[0.3]])
        True
        >>> Matrix([[0.1 + 0.2]]) == Matrix([[0.3]])
        False
        """
        other_m = _as_matrix(other)
        if other_m is None:
            raise TypeError("allclose: expected a Matrix or nested lists, got %s"
                            % type(other).__name__)
        if other_m._shape != self._shape:
            raise ShapeError("allclose: %s vs %s: shapes must be equal"
                             % (format_shape(self._shape), format_shape(other_m._shape)))
        if rel_tol < 0 or abs_tol < 0:
            raise ValueError("allclose: tolerances must be >= 0")
        for ra, rb in zip(self._rows, other_m._rows):
            for a, b in zip(ra, rb):
                if a == b:
                    continue
                if a - a != 0 or b - b != 0:  # inf or nan, and not equal
                    return False
                d = abs(a - b)
                if not d <= max(rel_tol * max(abs(a), abs(b)), abs_tol):
                    return False
        return True


    # ----------------------------------- gather, scatter_add (chapter 7.4.3)
    # A convolution is a matrix product after unrolling the input: im2col is
    # a *gather* by an index table, and col2im the *scatter-add* that is its
    # adjoint.  ``purenn.convolution`` builds the tables; these move numbers.

    def transpose_blocks(self, n, add=None):
        """``(n * P, C) -> (n, C * P)``: each block of P rows, transposed, as one
        row (numpy's ``m.reshape(n, P, C).transpose(0, 2, 1).reshape(n, -1)``).

        With ``add``, a (1, C) row, ``add[0, c]`` is added to every number of
        column c on the way (a bias per channel).  A convolution's product
        gives one row per output position and one column per filter; this
        makes it one row per image, filter after filter (section 7.4.3).

        >>> Matrix([[1, 10], [2, 20], [3, 30], [4, 40]]).transpose_blocks(2)
        Matrix([[1, 2, 10, 20], [3, 4, 30, 40]])
        >>> Matrix([[1, 10], [2, 20]]).transpose_blocks(1, add=Matrix([[0.5, -1]]))
        Matrix([[1.5, 2.5, 9, 19]])
        """
        rows, c = self._shape
        if not _is_int(n) or n < 1 or rows % n:
            raise ShapeError("transpose_blocks: %s cannot be cut into %r blocks of equal rows"
                             % (format_shape(self._shape), n))
        bias = _bias_row(add, c, "transpose_blocks")
        return Matrix._wrap(_transpose_blocks(self._rows, n, rows // n, c, bias))

    def gather(self, table, fill=None):
        """Unroll each row by an index table: ``(N, M) -> (N * R, L)`` for a
        ``table`` of R rows of L column indices (each in ``0..M-1``, or ``None``).

        Row ``i * R + r`` of the result is row i of self read at the columns
        ``table[r]``: ``[self[i, k] for k in table[r]]``, where an index
        ``None`` reads ``fill`` (zero padding; by default ``0.0`` in a matrix
        of floats, else ``0``, so that ints and Fractions stay exact).
        ``im2col`` is this gather,
        with one table row per output position of a filter.

        A table given as a tuple of tuples is compiled once and remembered
        (it cannot change); a list is compiled at every call.

        >>> x = Matrix([[10, 20, 30], [40, 50, 60]])
        >>> x.gather(((2, 0), (1, None)))
        Matrix([[30, 10], [20, 0], [60, 40], [50, 0]])
        """
        n, m = self._shape
        plan = _gather_plan(table, m, "gather")
        return Matrix._wrap(_gather_rows(self._rows, plan, _zero_of(self, fill)))

    def gather_product(self, table, other, add=None):
        """``(self.gather(table) @ other).transpose_blocks(N, add=add)`` in one
        call: ``(N, M) -> (N, K * R)`` for a table of R rows of L indices and
        ``other`` (L, K); ``add``, a (1, K) row, is added to column block k.

        A convolution's forward pass: ``gather`` is im2col, ``other`` the
        filters ``W.T``, ``transpose_blocks`` makes it channels first.  On
        PyPy and MicroPython (``kernels.KERNEL == "ikj"``), given a bias, the
        gathered rows are never built: each nonzero number of a row adds its
        products into the outputs that read it (``kernels.gather_matmul_scatter``),
        a fifth of the work on MNIST, and the results are the three steps' to
        the bit.  The three steps run everywhere else, and whenever ``other``
        is not all finite floats, ``add`` is not a row of floats without -0.0,
        or a table row reads its columns out of order.

        >>> x = Matrix([[1.0, 2.0, 3.0]])
        >>> x.gather_product(((0, 1), (1, 2)), Matrix([[1.0], [10.0]]), add=Matrix([[0.5]]))
        Matrix([[21.5, 32.5]])
        """
        n, m = self._shape
        other = as_matrix(other, "gather_product: other")
        plan = _gather_plan(table, m, "gather_product")
        r, length = len(plan[2]), len(plan[2][0])
        k = other._shape[1]
        if other._shape[0] != length:
            raise ShapeError("gather_product: the table's rows read %d columns; other is %s "
                             "and needs %d rows" % (length, format_shape(other._shape), length))
        bias = _bias_row(add, k, "gather_product")
        scatter = None
        # the scatter's sums start at 0.0, the product's at its first term: they
        # differ only where a sum is a zero (-0.0 or 0.0), which adding a bias
        # other than -0.0 makes the same 0.0 (so: a bias, and no -0.0 in it)
        if kernels.KERNEL == "ikj" and bias is not None and _floats_only([bias]) \
                and not any(v == 0.0 and _math.copysign(1.0, v) < 0 for v in bias) \
                and _floats_only(other._rows) and other._all_finite():
            scatter = _runs_plan(table, m)
        if scatter is not None:
            return Matrix._wrap(kernels.gather_matmul_scatter(self._rows, scatter, other._rows,
                                                              bias, r))
        # the three steps, on the plan and bias checked above
        col = Matrix._wrap(_gather_rows(self._rows, plan, _zero_of(self, None)))
        return Matrix._wrap(_transpose_blocks(_matmul(col, other)._rows, n, r, k, bias))

    def scatter_add(self, table, cols, zero=None):
        """The adjoint of ``gather``: ``(N * R, L) -> (N, cols)``, every element
        ``[i * R + r, l]`` added into ``[i, table[r][l]]`` (``None``: dropped).

        Each output element is ``zero`` plus what lands on it, added in the
        order of l, then r (for im2col's table: the order of the book's
        col2im loops); where nothing lands it is ``zero`` (by default ``0.0``
        in a matrix of floats, else ``0``: ints and Fractions stay exact).
        ``col2im`` is this scatter-add.

        Adjoint means: ``(x.gather(T) * y).sum() == (x * y.scatter_add(T, M)).sum()``
        for every x (N, M) and y (N * R, L) (exactly, with Fractions): the
        backward pass of a gather is this scatter-add.

        >>> y = Matrix([[30, 10], [20, 5], [60, 40], [50, 5]])
        >>> y.scatter_add(((2, 0), (1, None)), 3)
        Matrix([[10, 20, 30], [40, 50, 60]])
        >>> Matrix([[1, 2]]).scatter_add(((0, 0),), 2)
        Matrix([[3, 0]])
        """
        n, length = self._shape
        if type(cols) is not int or cols < 1:
            raise ValueError("scatter_add: cols must be a whole number >= 1, got %r" % (cols,))
        plan = _scatter_plan(table, cols, "scatter_add")
        r, width = plan[0], plan[1]
        if width != length or n % r:
            raise ShapeError("scatter_add: %s for a table of %d rows of %d indices: the "
                             "columns must be %d and the rows a multiple of %d"
                             % (format_shape(self._shape), r, width, width, r))
        return Matrix._wrap(_scatter_rows(self._rows, plan, _zero_of(self, zero)))

    def gather_max(self, table, fill=None):
        """The largest number of each gathered table row, and where it is:
        ``(N, M) -> (maxima (N, R), where (N, R))`` for a table of R rows.

        ``maxima[i, r]`` is the largest of row i read at ``table[r]`` (as
        ``gather``, ``None`` reads ``fill``), ``where[i, r]`` its position in
        ``table[r]`` (the first, on ties; a nan is the largest, as in numpy).
        So ``maxima`` is ``self.gather(table).max(axis=1)`` and ``where`` its
        ``argmax(axis=1)``, each reshaped to (N, R), without building the
        gathered rows: max pooling.

        >>> maxima, at = Matrix([[1, 7, 3, 5]]).gather_max(((0, 1), (2, 3), (3, None)))
        >>> maxima, at
        (Matrix([[7, 5, 5]]), Matrix([[1, 1, 0]]))
        """
        n, m = self._shape
        plan = _gather_plan(table, m, "gather_max")
        maxima, where = _gather_max_rows(self._rows, plan[2], plan[0], _zero_of(self, fill))
        return Matrix._wrap(maxima), Matrix._wrap(where)

    def scatter_at(self, table, where, cols, zero=None):
        """The adjoint of reading at ``table[r][where[i, r]]``: ``(N, R) -> (N, cols)``,
        element ``[i, r]`` added into ``[i, table[r][where[i, r]]]`` (``None``: dropped).

        The backward pass of max pooling: each window's gradient goes to the
        position of its maximum (``where`` from ``gather_max``), nothing to
        the others; where windows overlap, what lands on one element adds up.

        >>> windows, at = ((0, 1), (2, 3), (3, None)), Matrix([[1, 1, 0]])
        >>> Matrix([[10, 20, 30]]).scatter_at(windows, at, 4)
        Matrix([[0, 10, 0, 50]])
        """
        n, r = self._shape
        if type(cols) is not int or cols < 1:
            raise ValueError("scatter_at: cols must be a whole number >= 1, got %r" % (cols,))
        plan = _plan(table, cols, "scatter_at", lambda checked: checked)
        where = as_matrix(where, "scatter_at: where")
        if len(plan) != r or where.shape != self._shape:
            raise ShapeError("scatter_at: %s with where %s for a table of %d rows: both must "
                             "be (N, %d)" % (format_shape(self._shape), format_shape(where.shape), len(plan),
                                             len(plan)))
        length = len(plan[0])
        for row in where._rows:  # (a float position fails when it indexes a table row)
            if min(row) < 0 or max(row) >= length:
                raise ValueError("scatter_at: where holds %r; positions in a table row "
                                 "are 0..%d" % (min(row) if min(row) < 0 else max(row),
                                                length - 1))
        return Matrix._wrap(_scatter_at_rows(self._rows, where._rows, plan, cols,
                                             _zero_of(self, zero)))


# ------------------------------------------ compact rows (data sets, uint8)

# How a row of bytes becomes numbers, decided once (measured on batches of
# 100 MNIST rows): ``list(map(table.__getitem__,
# part))`` on CPython before 3.11, where it is 1.3x faster than a
# comprehension; the comprehension everywhere else (CPython 3.11+: 1.1 -
# 1.4x faster, PyPy: 2 - 3x; MicroPython's lists have no ``__getitem__`` to map).
_MAP_DECODE = kernels.IMPLEMENTATION == "cpython" and _sys.version_info < (3, 11)
# On PyPy the transpose of a batch (``x.T`` in ``dW = x.T @ dout``) is
# decoded column by column from the bytes, ``data[j::cols]``: 4 - 6x faster
# there than zipping the decoded rows (0.3 ms instead of 1.5 for 100 MNIST
# rows, of a ~12 ms training step); on CPython the zip is the faster.
_T_FROM_BYTES = kernels.IMPLEMENTATION == "pypy"


class BytesMatrix(Matrix):
    """A Matrix kept as one ``bytes`` object, one byte an element, the byte b
    standing for ``table[b]``: a data set of images in 1/8 of the memory of
    rows of floats (MNIST's 60,000 training images: 47 MB instead of ~400).
    Made by ``Matrix.from_bytes``; ``purenn.datasets.load_mnist`` gives one.

    It is a Matrix like any other, with the same values.  Rows are decoded
    when they are asked for: ``m[i]``, ``m[a:b]``, ``m[[i, j, ...]]``,
    ``m[i, j]``, ``for row in m`` and ``tolist()`` decode only what they
    return (``m[a:b]`` and ``m[[...]]`` stay bytes until their rows are used:
    a mini-batch costs the decoding of its own rows, ~1 ms for 100 MNIST
    images).  Any other operation decodes every row once, and keeps them.

    >>> m = Matrix.from_bytes(bytes([0, 255, 51, 0]), 2, [p / 255.0 for p in range(256)])
    >>> m.shape, m[0], m[1:2]
    ((2, 2), Matrix([[0.0, 1.0]]), Matrix([[0.2, 0.0]]))
    >>> type(m[1:2]).__name__, m[1, 0], m + 1
    ('BytesMatrix', 0.2, Matrix([[1.0, 2.0], [1.2, 1.0]]))
    """

    __slots__ = ("_data", "_table", "_width")

    def _decode(self, i):
        w = self._width
        part = self._data[i * w:(i + 1) * w]
        if _MAP_DECODE:
            return list(map(self._table.__getitem__, part))
        table = self._table
        return [table[b] for b in part]

    if _T_FROM_BYTES:  # (elsewhere Matrix.T: the decoded rows, transposed)
        T = property(lambda self: _bytes_transpose(self),
                     doc="The transpose, made once as ``Matrix.T`` is, from the bytes.")

    @property
    def _rows(self):
        rows = self._cache.get("rows")
        if rows is None:
            rows = self._cache["rows"] = [self._decode(i) for i in range(self._shape[0])]
        return rows

    def __getitem__(self, key):
        if isinstance(key, (slice, list)):
            picked = self._select(key, self._shape[0], self._row_index)
            w, data = self._width, self._data
            if isinstance(key, slice) and key.step in (None, 1):
                part = data[picked[0] * w:(picked[-1] + 1) * w]
            else:
                part = b"".join([data[i * w:(i + 1) * w] for i in picked])
            return _bytes_matrix(part, w, self._table)
        if _is_int(key):
            return Matrix._wrap([self._decode(self._row_index(key))])
        if isinstance(key, tuple) and len(key) == 2 and _is_int(key[0]) and _is_int(key[1]):
            return self._table[self._data[self._row_index(key[0]) * self._width
                                          + self._col_index(key[1])]]
        return Matrix.__getitem__(self, key)

    def _picked_rows(self, picked):
        rows = self._cache.get("rows")  # decoded already: use them
        if rows is not None:
            return [rows[i] for i in picked]
        return [self._decode(i) for i in picked]  # m[rows, cols]: only the rows asked for

    def __iter__(self):
        for i in range(self._shape[0]):
            yield Matrix._wrap([self._decode(i)])

    def tolist(self):
        return [self._decode(i) for i in range(self._shape[0])]

    def _all_finite(self):
        return all(v - v == 0 for v in self._table)

    def __reduce__(self):  # pickled as its bytes (for worker processes)
        return (_bytes_matrix, (self._data, self._width, self._table))


def _bytes_matrix(data, cols, table):
    m = object.__new__(BytesMatrix)
    m._data, m._table, m._width = data, table, cols
    m._shape = (len(data) // cols, cols)
    m._cache = {}
    return m


def _bytes_transpose(m):
    """``m.T`` of a BytesMatrix, a Matrix (not bytes): its row j is column j's
    bytes, ``data[j::cols]``, decoded (PyPy's ``BytesMatrix.T``)."""
    t = _known_transpose(m)
    if t is None:
        data, table, w = m._data, m._table, m._width
        t = Matrix._wrap([[table[b] for b in data[j::w]] for j in range(w)])
        _remember_transpose(m, t)
    return t


def _unpickled_matrix(cls, rows):
    return cls._wrap(rows)


_MATRIX_SLOTS = ("_rows", "_shape", "_cache", "__weakref__")


def _own_state(m):
    """What a subclass of Matrix keeps besides the rows: its ``__dict__`` and
    its own slots."""
    state = dict(getattr(m, "__dict__", None) or {})
    classes = [type(m)]
    while classes:
        cls = classes.pop()
        if cls is Matrix or cls is object:
            continue
        classes.extend(cls.__bases__)
        slots = cls.__dict__.get("__slots__", ())
        for name in ((slots,) if isinstance(slots, str) else slots):
            if name not in _MATRIX_SLOTS and name != "__dict__" and hasattr(m, name):
                state[name] = getattr(m, name)
    return state


def _remember_transpose(m, t):
    """``m.T`` is made once: m keeps t, and t knows m, so that ``m.T.T is m``.
    t knows m only weakly where Python has weak references: a strong link
    both ways would be a reference cycle, which reference counting never
    frees, so on CPython every transposed matrix (a batch, a weight in each
    step of training) would wait for the cycle collector, and each collection
    would walk them all (measured: 3-6 ms a training step of 784-50-100-10)."""
    m._cache["T"] = t
    if _weak_ref is None:
        t._cache["T"] = m
    else:
        t._cache["T of"] = _weak_ref(m)


def _known_transpose(m):
    """The transpose of m made before (or the matrix m is the transpose of,
    while it lives), else None."""
    cache = m._cache
    t = cache.get("T")
    if t is None:
        of = cache.get("T of")
        if of is not None:
            t = of()
    return t


def _from_bytes(cls, data, cols, table=None):
    """``Matrix.from_bytes(data, cols, table=None)``: a ``BytesMatrix`` of
    ``len(data) // cols`` rows whose element [i, j] is ``table[data[i * cols +
    j]]`` (``table``: 256 numbers; by default the byte itself, 0..255).

    >>> Matrix.from_bytes(bytes([1, 2, 3, 4]), 2)
    Matrix([[1, 2], [3, 4]])
    >>> Matrix.from_bytes(bytes([1, 2, 3]), 2)
    Traceback (most recent call last):
        ...
    ValueError: Matrix.from_bytes: 3 bytes do not make rows of 2
    """
    data = bytes(data)
    if not _is_int(cols) or cols < 1 or not data or len(data) % cols:
        raise ValueError("Matrix.from_bytes: %d bytes do not make rows of %r" % (len(data), cols))
    table = list(range(256)) if table is None else list(table)
    if len(table) != 256:
        raise ValueError("Matrix.from_bytes: the table needs 256 numbers, got %d" % len(table))
    _check_row(table, 0)
    return _bytes_matrix(data, cols, table)


Matrix.from_bytes = classmethod(_from_bytes)


# ---------------------------------------------------------------- helpers

def _rows_checked(rows, width):
    """The rows ``map_rows``'s function returned: lists of ``width`` elements."""
    for r, row in enumerate(rows):
        if type(row) is not list or len(row) != width:
            raise ValueError("map_rows: row %d of the result is %s of %s elements; every row "
                             "must be a new list of %d" % (r, type(row).__name__,
                                                           len(row) if type(row) is list else "?",
                                                           width))
    return rows



def format_shape(shape, sep=", "):
    """A shape as the messages write it, ``(2, 3)``; ``sep=","`` gives the
    slides' compact ``(2,3)`` (``purenn.explain``).

    >>> format_shape((2, 3)), format_shape((2, 3), sep=",")
    ('(2, 3)', '(2,3)')
    """
    return "(%d%s%d)" % (shape[0], sep, shape[1])


def as_matrix(x, what):
    """``x`` as a Matrix (a Matrix as it is, lists converted), or a TypeError
    that says ``what`` needed a matrix: ``as_matrix(x, "predict: x")``."""
    m = _as_matrix(x)
    if m is None:
        raise TypeError("%s must be a Matrix or (nested) lists, got %s"
                        % (what, type(x).__name__))
    return m


def _as_matrix(x):
    """A Matrix for x, or None when x cannot be one (so operators can
    return NotImplemented).  Lists and tuples are converted."""
    if isinstance(x, Matrix):
        return x
    if isinstance(x, (list, tuple)):
        return Matrix(x)
    return None


def _first_best(values, better):
    """Index of the first value no other is ``better`` than (``gt``: the
    largest, ``lt``: the smallest); a nan wins (the first nan), as in numpy."""
    best, best_i = values[0], 0
    if best != best:
        return 0
    for i, v in enumerate(values):
        if better(v, best):
            best, best_i = v, i
        elif v != v:
            return i
    return best_i


def _argmax(values):
    return _first_best(values, gt)


def _argmin(values):
    return _first_best(values, lt)


def _no_out(out, op):
    """numpy's ``np.sum(m)`` calls ``m.sum(axis=None, out=None)``: ``out`` must
    stay None (a Matrix is never written into)."""
    if out is not None:
        raise TypeError("%s: out= is not supported: a Matrix is immutable, use the result"
                        % op)


# numpy names a Matrix does not have, and what to do instead (Matrix.__getattr__)
_NUMPY_WAYS = {
    "astype": "purenn matrices hold Python numbers; use m.map(float) (or m.map(int))",
    "dtype": "elements are Python numbers (int, float, Fraction), there is no dtype; "
             "m.map(float) makes them floats",
    "ravel": "use m.flatten(), a (1, size) row",
    "squeeze": "a Matrix is always 2-D; use m.flatten() for one row, or m.tolist()",
    "item": "use m[0, 0] (or m[i, j])",
    "fill": "a Matrix is immutable; use Matrix.full(m.shape, value=v)",
    "resize": "a Matrix is immutable; use m.reshape(rows, cols)",
    "sort": "a Matrix is immutable; use sorted(m.flatten().tolist()[0])",
    "argsort": "use sorted(range(m.size), key=m.flatten().tolist()[0].__getitem__)",
    "clip": "use m.map(lambda v: min(max(v, low), high))",
    "std": "use ((m - m.mean()) ** 2).mean() ** 0.5",
    "var": "use ((m - m.mean()) ** 2).mean()",
    "prod": "use math.prod(m.flatten().tolist()[0]) (or a loop)",
    "cumsum": "use itertools.accumulate(m.flatten().tolist()[0])",
    "any": "use any(m.flatten().tolist()[0])",
    "all": "use all(m.flatten().tolist()[0])",
    "nonzero": "use [(i, j) for i, row in enumerate(m.tolist()) for j, v in enumerate(row) if v]",
    "round": "use m.map(round) (or m.map(lambda v: round(v, 3)))",
    "swapaxes": "use m.T",
    "diagonal": "use [m[i, i] for i in range(min(m.shape))]",
    "trace": "use sum(m[i, i] for i in range(min(m.shape)))",
    "flat": "use m.flatten() (a (1, size) row) or m.tolist()",
    "nbytes": "a Matrix holds Python objects, not a buffer of bytes",
    "itemsize": "a Matrix holds Python objects, not a buffer of bytes",
    "strides": "a Matrix holds Python objects, not a buffer of bytes",
    "data": "a Matrix holds Python objects, not a buffer of bytes; use m.tolist()",
    "real": "elements are real numbers already",
    "imag": "elements are real numbers: there is no imaginary part",
    "conj": "elements are real numbers: the conjugate is m itself",
}


def _max(values):
    """The largest value; nan if there is a nan (plain ``max`` depends on order)."""
    return values[_argmax(values)]


def _min(values):
    """The smallest value; nan if there is a nan."""
    return values[_argmin(values)]


def _real_powers(result, m, other, reflected):
    """Check that ``**`` gave real numbers (Python gives complex ones for a
    negative base and a fractional exponent)."""
    if result is NotImplemented:
        return result
    for i, row in enumerate(result._rows):
        for j, v in enumerate(row):
            if type(v) not in _FAST_TYPES and not is_number(v):
                a = m._rows[min(i, m._shape[0] - 1)][min(j, m._shape[1] - 1)]
                b = other
                if isinstance(other, Matrix):
                    b = other._rows[min(i, other._shape[0] - 1)][min(j, other._shape[1] - 1)]
                elif not is_number(other):
                    b = "?"
                if reflected:
                    a, b = b, a
                raise ValueError("power: element [%d][%d] is (%r) ** %r, which is not a real number"
                                 % (i, j, a, b))
    return result


def _matmul(a, b, bias=None):
    k, k2 = a._shape[1], b._shape[0]
    if k != k2:
        raise ShapeError(
            "matmul: %s @ %s: columns of the left (%d) must equal rows of the right (%d)"
            % (format_shape(a._shape), format_shape(b._shape), k, k2))
    # bᵀ and the finiteness of b only if the kernel needs them (an MNIST batch
    # @ W1 goes through sparse rows only: it never needs W1ᵀ)
    return Matrix._wrap(kernels.matmul(a._rows, b._rows, lambda: b.T._rows, b._all_finite,
                                       bias))


# ------------------------------------------ affine (x @ W + b in one pass)

def affine(x, W, b):
    """``x @ W + b`` for a (1, M) bias row b, the bias added to each row of the
    product as it is made (one pass less, the same numbers): what
    ``purenn.layers.Affine`` computes.  Any other b broadcasts as in ``+``.

    >>> affine(Matrix([[1.0, 2.0]]), Matrix([[1.0, 0.0], [0.0, 1.0]]), Matrix([[0.5, -0.5]]))
    Matrix([[1.5, 1.5]])
    >>> affine(Matrix([[1.0, 2.0]]), Matrix([[1.0, 0.0], [0.0, 1.0]]), Matrix([[1.0, 2.0, 3.0]]))
    Traceback (most recent call last):
        ...
    purenn.errors.ShapeError: add: (1, 2) + (1, 3): each dimension must be equal or 1 (broadcasting)
    """
    x, W, b = (as_matrix(m, "affine: " + name) for m, name in ((x, "x"), (W, "W"), (b, "b")))
    if b._shape != (1, W._shape[1]):
        return _matmul(x, W) + b
    return _matmul(x, W, b._rows[0])


def _stretch(rows, shape, target):
    """Repeat a size-1 dimension to reach the target shape (broadcasting)."""
    (n, m), (tn, tm) = shape, target
    if m != tm:
        rows = [row * tm for row in rows]
    if n != tn:
        rows = rows * tn
    return rows


def _broadcast(a, b, op, name):
    """Elementwise ``op`` of two matrices by numpy's broadcasting rules for
    2-D: along each axis the sizes must be equal, or one of them must be 1
    (that one is repeated to fit)."""
    (n1, m1), (n2, m2) = a._shape, b._shape
    if (n1 != n2 and 1 not in (n1, n2)) or (m1 != m2 and 1 not in (m1, m2)):
        raise ShapeError(
            "%s: %s %s %s: each dimension must be equal or 1 (broadcasting)"
            % (name, format_shape(a._shape), _SYMBOL[op], format_shape(b._shape)))
    target = (max(n1, n2), max(m1, m2))
    ra, rb = a._rows, b._rows
    if b._shape == (1, target[1]) and a._shape == target:
        # the bias row of x @ W + b: the common case, without copying b
        row = rb[0]
        return Matrix._wrap([list(map(op, r, row)) for r in ra])
    ra = _stretch(ra, a._shape, target)
    rb = _stretch(rb, b._shape, target)
    return Matrix._wrap([list(map(op, x, y)) for x, y in zip(ra, rb)])


def _repr_cell(x):
    if type(x) is float and x - x != 0:  # inf, -inf or nan: repr gives no Python literal
        return "float('%r')" % x
    return repr(x)


EDGE = 3
"""Rows and columns a printout shows at each end of a large matrix."""

LIMIT = 10
"""Matrices up to this many rows (columns) are printed in full."""


def cell_text(x):
    """How a printout writes one element: ``repr`` for a float, else ``str``."""
    return repr(x) if type(x) is float else str(x)


def shown_cells(m, edge=EDGE, limit=LIMIT):
    """The cells a printout of ``m`` shows, as rows of strings (``cell_text``);
    a matrix larger than ``limit`` along an axis keeps ``edge`` rows (columns)
    from each end, with ``None`` for the gap between.  ``print(m)`` and the
    notebook's table (``purenn.notebook``) both draw these.

    >>> shown_cells(Matrix([[1, 2.5]]))
    [['1', '2.5']]
    >>> [row[:4] for row in shown_cells(Matrix.zeros(2, 20))]
    [['0.0', '0.0', '0.0', None], ['0.0', '0.0', '0.0', None]]
    """
    n, k = m.shape
    rows = m._rows
    return [[None if i is None or j is None else cell_text(rows[i][j])
             for j in _shown_ids(k, edge, limit)] for i in _shown_ids(n, edge, limit)]


def _shown_ids(n, edge, limit):
    return list(range(n)) if n <= limit else list(range(edge)) + [None] + list(range(n - edge, n))


def _grid(m):
    """Rows of right-aligned cells in brackets, like numpy (``shown_cells``)."""
    cells = [["..." if c is None else c for c in row] for row in shown_cells(m)]
    widths = [max(len(r[c]) for r in cells) for c in range(len(cells[0]))]
    lines = []
    for i, r in enumerate(cells):
        body = "  ".join(" " * (w - len(s)) + s for s, w in zip(r, widths))
        lines.append(("[[" if i == 0 else " [") + body + "]")
    return "\n".join(lines) + "]"


def dot(a, b):
    """The matrix product of a and b (Matrices or nested lists), as ``np.dot``.

    >>> dot([1.0, 0.5], [[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]]).shape
    (1, 3)
    """
    return _matmul(as_matrix(a, "dot: the left operand"), as_matrix(b, "dot: the right operand"))


# ------------------------------------------------- elementwise math (np.sqrt)

def sqrt(x):
    """The square root of every element, as ``np.sqrt``: correctly rounded
    (``math.sqrt``), so ``sqrt(h) + 1e-7`` is the book's number to the bit.

    A negative element has no real square root: a ``ValueError`` naming it
    (numpy gives nan and a warning).

    >>> sqrt(Matrix([[4.0, 2.0]]))
    Matrix([[2.0, 1.4142135623730951]])
    >>> sqrt(Matrix([[1.0, -1.0]]))
    Traceback (most recent call last):
        ...
    ValueError: sqrt: element [0][1] is -1.0; a negative number has no real square root
    """
    m = as_matrix(x, "sqrt: x")
    root = _math.sqrt
    try:
        return Matrix._wrap([[root(v) for v in row] for row in m._rows])
    except ValueError:
        for i, row in enumerate(m._rows):
            for j, v in enumerate(row):
                if v < 0:
                    raise ValueError("sqrt: element [%d][%d] is %r; a negative number has "
                                     "no real square root" % (i, j, v))
        raise


# ------------------------------------------------------ where (np.where)

def where(condition, x, y):
    """Elementwise ``x if condition else y``, as ``np.where``: ``condition`` a
    Matrix (a mask such as ``m > 0``), ``x`` and ``y`` matrices or numbers;
    shapes broadcast as in ``+``.  The ReLU layer's backward is
    ``where(mask, 0.0, dout)``: no gradient where the input was <= 0.

    >>> m = Matrix([[-1.0, 2.0], [3.0, -4.0]])
    >>> where(m > 0, m, 0.0)
    Matrix([[0.0, 2.0], [3.0, 0.0]])
    """
    c = as_matrix(condition, "where: condition")
    shape = c._shape
    operands = []
    for v, what in ((x, "x"), (y, "y")):
        if is_number(v):
            operands.append(v)
            continue
        m = as_matrix(v, "where: " + what)
        (n1, m1), (n2, m2) = shape, m._shape
        if (n1 != n2 and 1 not in (n1, n2)) or (m1 != m2 and 1 not in (m1, m2)):
            raise ShapeError("where: condition %s and %s %s: each dimension must be equal "
                             "or 1 (broadcasting)" % (format_shape(c._shape), what, format_shape(m._shape)))
        shape = (max(n1, n2), max(m1, m2))
        operands.append(m)
    crows = _stretch(c._rows, c._shape, shape)
    a, b = [v if is_number(v) else _stretch(v._rows, v._shape, shape) for v in operands]
    if is_number(a) and is_number(b):
        rows = [[a if k else b for k in cr] for cr in crows]
    elif is_number(a):
        rows = [[a if k else v for k, v in zip(cr, br)] for cr, br in zip(crows, b)]
    elif is_number(b):
        rows = [[v if k else b for k, v in zip(cr, ar)] for cr, ar in zip(crows, a)]
    else:
        rows = [[u if k else v for k, u, v in zip(cr, ar, br)]
                for cr, ar, br in zip(crows, a, b)]
    return Matrix._wrap(rows)


# --------------------------------------- index tables: gather, scatter_add
# The hot loops of im2col and col2im.  On CPython ``operator.itemgetter``
# reads a whole table row in one call (C speed); PyPy's JIT compiles the
# plain index loops, which are faster there; MicroPython has only those.

try:
    from operator import itemgetter as _itemgetter
except ImportError:  # MicroPython builds without the operator module
    _itemgetter = None

_GETTERS = _itemgetter is not None and kernels.IMPLEMENTATION == "cpython"
_PLANS = {}  # compiled tuple-of-tuples tables: id -> (table, plan); see _plan
_PLANS_MAX = 64


def _zero_of(m, value):
    """``value``, or by default the zero of m's elements: 0.0 for floats, else 0."""
    if value is not None:
        return value
    return 0.0 if type(m._rows[0][0]) is float else 0


def _reshape_rows(data, n, m, cols):
    """The rows of ``reshape``: whole rows joined or split where the widths
    allow it (one ``extend`` or slice a row), else read flat."""
    if cols % m == 0:  # k whole rows make one new row
        k = cols // m
        out = []
        for i in range(0, n, k):
            row = []
            for r in data[i:i + k]:
                row.extend(r)
            out.append(row)
        return out
    if m % cols == 0:  # each row splits into whole new rows
        return [r[j:j + cols] for r in data for j in range(0, m, cols)]
    flat = []
    for r in data:
        flat.extend(r)
    return [flat[i:i + cols] for i in range(0, len(flat), cols)]


def _table_rows(table, limit, what):
    """The table as a tuple of tuples of ints in ``0..limit-1`` or None,
    all of one length; a ValueError naming the first bad entry."""
    if isinstance(table, (str, bytes)) or not _is_iterable(table):
        raise TypeError("%s: the table must be rows of column indices, got %s"
                        % (what, type(table).__name__))
    rows = []
    for r, row in enumerate(table):
        if isinstance(row, (str, bytes)) or not _is_iterable(row):
            raise TypeError("%s: table row %d is %r, not a sequence of indices" % (what, r, row))
        row = tuple(row)
        for k in row:
            if k is not None and (not _is_int(k) or not 0 <= k < limit):
                raise ValueError("%s: table row %d holds %r; indices must be whole numbers "
                                 "0..%d (or None)" % (what, r, k, limit - 1))
        if rows and len(row) != len(rows[0]):
            raise ValueError("%s: table row %d has %d indices, row 0 has %d; all rows must "
                             "have the same length" % (what, r, len(row), len(rows[0])))
        rows.append(row)
    if not rows or not rows[0]:
        raise ValueError("%s: the table is empty; it needs at least one index" % what)
    return rows


def _plan(table, limit, what, build):
    """``build(rows)`` for the checked table, remembered when the table is
    a tuple of tuples (immutable, so the plan can never go stale; the cache
    keeps the table alive, so its id is not reused while cached)."""
    key = (id(table), limit, what)
    hit = _PLANS.get(key)
    if hit is not None and hit[0] is table:
        return hit[1]
    plan = build(_table_rows(table, limit, what))
    if type(table) is tuple and all(type(row) is tuple for row in table):
        if len(_PLANS) >= _PLANS_MAX:
            _PLANS.clear()
        _PLANS[key] = (table, plan)
    return plan


def _gather_plan(table, m, what):
    """``(padded, getters, indices)``: whether the table reads the fill value
    (a None, which reads index m of a copy of the row with the fill appended),
    one getter per table row (an ``itemgetter`` on CPython, the index tuple
    elsewhere) and the index tuples themselves."""
    def build(rows):
        padded = any(k is None for row in rows for k in row)
        idx = [tuple(m if k is None else k for k in row) for row in rows]
        if not _GETTERS:
            return padded, idx, idx
        if len(idx[0]) == 1:  # an itemgetter of one index gives no tuple
            getters = [_itemgetter(row[0], row[0]) for row in idx]
            return padded, [lambda r, g=g: g(r)[:1] for g in getters], idx
        return padded, [_itemgetter(*row) for row in idx], idx
    return _plan(table, m, what, build)


def _bias_row(add, cols, op):
    """``add`` as a bias row (a list of ``cols`` numbers), or None without one."""
    if add is None:
        return None
    add = as_matrix(add, op + ": add")
    if add._shape != (1, cols):
        raise ShapeError("%s: add is %s; it must be one row of %d, (1, %d)"
                         % (op, format_shape(add._shape), cols, cols))
    return add._rows[0]


def _runs_plan(table, m):
    """The table read the other way (``kernels.gather_matmul_scatter``): for
    each column i, flat triples ``(r0, k0, n, ...)``: ``table[r0 + j][k0 - j]
    == i`` for j < n (None entries read nothing), as ``kernels.scatter_plan``
    lays them out for the kernel (the runs are its first item).  None unless every table
    row reads its columns in increasing order (as im2col's do): only then
    does adding column after column add each sum's terms in the order of k,
    as the product of the gathered rows does."""
    def build(rows):
        reads = [[] for _ in range(m)]
        for r, row in enumerate(rows):
            last = -1
            for k, i in enumerate(row):
                if i is not None:
                    if i <= last:
                        return None
                    last = i
                    reads[i].append((r, k))
        runs = []
        for pairs in reads:  # in the order of r
            column = []
            for r, k in pairs:
                if column and column[-3] + column[-1] == r and column[-2] - column[-1] == k:
                    column[-1] += 1
                else:
                    column.extend((r, k, 1))
            runs.append(tuple(column))
        return kernels.scatter_plan(runs)
    return _plan(table, m, "gather_product (runs)", build)


def _floats_only(rows):
    for row in rows:
        for v in row:
            if type(v) is not float:
                return False
    return True


def _gather_rows(data, plan, fill):
    padded, getters = plan[0], plan[1]
    out = []
    extend = out.extend
    if _GETTERS:
        for row in data:
            if padded:
                row = row + [fill]
            extend([list(g(row)) for g in getters])
    else:
        for row in data:
            if padded:
                row = row + [fill]
            extend([[row[k] for k in idx] for idx in getters])
    return out


def _scatter_plan(table, cols, what):
    def build(rows):
        r, length = len(rows), len(rows[0])
        # where each output column's numbers are, in a block of r rows read
        # flat: position p * length + l, listed in the order of l, then p
        sources = [[] for _ in range(cols)]
        for l in range(length):
            for p in range(r):
                k = rows[p][l]
                if k is not None:
                    sources[k].append(p * length + l)
        if _GETTERS:
            # two indices at least, so that every getter gives a tuple: the
            # extra ones read a zero appended at position r * length
            z = r * length
            sources = [_itemgetter(*(s + [z] * (2 - len(s)))) for s in sources]
        return r, length, sources
    return _plan(table, cols, what, build)


def _scatter_rows(data, plan, zero):
    r, length, sources = plan
    out = []
    for i in range(0, len(data), r):
        flat = []
        for row in data[i:i + r]:
            flat.extend(row)
        if _GETTERS:
            flat.append(zero)
            out.append([sum(g(flat), zero) for g in sources])
        else:
            acc = []
            for s in sources:
                v = zero
                for p in s:
                    v += flat[p]
                acc.append(v)
            out.append(acc)
    return out


def _gather_max_rows(data, idx, padded, fill):
    """Window position by window position: one long loop over every window
    for each of the L positions (no short loop per window, which PyPy's JIT
    enters and leaves 4,320 times an image for a 2x2 pooling): twice as fast
    on PyPy, 1.4x on CPython 3.11, 0.9x on 3.12 (measured with the
    SimpleConvNet's pooling).  Positions are compared in order with ``>``,
    so the first largest wins, as ``np.argmax``."""
    windows = len(idx)
    by_position = [[w[i] for w in idx] for i in range(len(idx[0]))]
    first, rest = by_position[0], list(enumerate(by_position))[1:]
    maxima, where = [], []
    for row in data:
        if padded:
            row = row + [fill]
        s = sum(row)
        if s - s == 0:  # no nan (nor inf): the first largest by plain comparisons
            big = [row[k] for k in first]
            best_at = [0] * windows
            for i, ks in rest:
                for r in range(windows):
                    v = row[ks[r]]
                    if v > big[r]:
                        big[r] = v
                        best_at[r] = i
        else:  # numpy's rule: a nan is the largest
            big, best_at = [], []
            for w in idx:
                at = _argmax([row[k] for k in w])
                big.append(row[w[at]])
                best_at.append(at)
        maxima.append(big)
        where.append(best_at)
    return maxima, where


def _scatter_at_rows(data, where, table, cols, zero):
    out = []
    for drow, wrow in zip(data, where):
        acc = [zero] * cols
        for r in range(len(drow)):
            k = table[r][wrow[r]]
            if k is not None:
                acc[k] += drow[r]
        out.append(acc)
    return out


def _transpose_blocks(data, n, p, c, bias):
    out = []
    if _GETTERS:  # zip(*block) transposes at C speed
        for i in range(n):
            row = []
            if bias is None:
                for col in zip(*data[i * p:(i + 1) * p]):
                    row.extend(col)
            else:
                for col, b in zip(zip(*data[i * p:(i + 1) * p]), bias):
                    row.extend([v + b for v in col])
            out.append(row)
        return out
    for i in range(n):
        block = data[i * p:(i + 1) * p]
        row = [block[0][0]] * (p * c)
        for q in range(p):
            r = block[q]
            if bias is None:
                for j in range(c):
                    row[j * p + q] = r[j]
            else:
                for j in range(c):
                    row[j * p + q] = r[j] + bias[j]
        out.append(row)
    return out
