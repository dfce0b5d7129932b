"""The hot loops: matrix products, written once per interpreter.

A matrix product ``(N, K) @ (K, M) -> (N, M)`` is ``N * K * M`` multiply-adds
(MACs).  In pure Python the *formulation* of that loop decides the speed, and
the fastest one differs between interpreters (see ``benchmarks/``):

==================  ========================================================
``sumprod``         ``math.sumprod(row, col)`` over the columns of the right
                    operand (CPython 3.12+; extended precision, see below)
``summap``          ``sum(map(mul, row, col))`` (CPython 3.8 - 3.11)
``ikj``             plain loops in i-k-j order: ``out[j] += a[i][k] * b[k][j]``
                    (PyPy, whose JIT compiles them; MicroPython, which may lack
                    ``operator`` and ``itertools``)
==================  ========================================================

On top of that, a left row that is mostly zeros (MNIST pixels are about 80 %
zeros) is multiplied through only its nonzero entries ("zero skipping").  That
is exact except for ``0 * inf`` and ``0 * nan``, which are ``nan``; so
``matmul`` only skips zeros when the right operand is all finite.

Every kernel takes and returns plain lists of rows.  ``no_cycle_collection``
(below) is the one place that pauses CPython's cycle collector while those
lists are made (layers, optimisers, a training step).

Accuracy (``tests/test_kernels.py`` checks each bound against the exact
``fractions.Fraction`` result, with hypothesis):

- ``naive``, ``ikj``, ``summap`` and the sparse path add the products one
  after another (recursive summation, in different orders), so a length-k
  dot product is within ``gamma_k * sum(|a_t * b_t|)`` of the exact value,
  ``gamma_k = k * 2**-53 / (1 - k * 2**-53)`` (plus at most ``2**-1075`` a
  product lost to underflow).  Relative to the result this is tiny unless
  the products cancel: ``1e3 + 1e-3 - 1e3`` is ``0.0009999999999763531``
  (about 10 correct digits of 16).  On CPython 3.12+ ``sum()`` of floats
  is compensated, so ``summap`` is more accurate there than the bound.
- ``sumprod`` (``math.sumprod``, CPython 3.12+) accumulates in extended
  precision: within ``2 * 2**-53 * |exact|`` (tested), about one rounding
  of the result, even under cancellation; like ``math.fsum``.  (Once
  products underflow into the subnormals, add up to ``2**-1074`` a product:
  seen on Pyodide.)
- With ``int`` or ``Fraction`` elements every kernel is exact.

So results differ between interpreters in the last bits (different
kernels, different summation orders); compare with a tolerance such as
``Matrix.allclose``, never with ``==``.
"""
import sys

try:
    from operator import mul
except ImportError:  # MicroPython builds without the operator module
    def mul(a, b):
        return a * b

try:
    from itertools import compress
except ImportError:
    compress = None

try:
    from math import sumprod
except ImportError:  # before CPython 3.12
    sumprod = None

try:
    import gc as _gc
except ImportError:  # MicroPython builds without the gc module
    _gc = None

IMPLEMENTATION = sys.implementation.name

# A left row is "sparse" when at most this share of it is nonzero; below it,
# gathering the nonzero entries first pays for itself (measured on CPython
# 3.8 - 3.13 with MNIST-like rows, see benchmarks/bench_inference.py).
SPARSE_SHARE = 0.5


# ------------------------------------------------------ the cycle collector

class no_cycle_collection:
    """``with no_cycle_collection():`` CPython's cycle collector paused for the block.

    Every operation on matrices makes new row lists (a training step of
    784-50-100-10 on 100 images makes some 10**4, a convolution pass 10**6),
    and each 700 new containers wake CPython's collector, which then walks the
    young ones and now and then everything alive (with 60,000 decoded MNIST
    rows a full walk takes ~0.2 s).  Those lists hold no reference cycles (a
    transpose knows its matrix only weakly on CPython: ``purenn.matrix``), so
    reference counting frees them; a cycle made in the block anyway waits
    only for the first collection after it.

    CPython only: PyPy's collector walks no lists, and with it disabled PyPy
    skips its major collections, so a DeepConvNet pass kept ~450 MB per 100
    images (10,000 images would have needed 45 GB; with it on, 1 GB at most).
    Elsewhere, and inside a block already paused, nothing changes.

    >>> with no_cycle_collection():
    ...     rows = [[0.0] * 3 for _ in range(1000)]
    >>> len(rows)
    1000
    """

    def __init__(self):
        self.paused = []  # one flag a block: one instance may be entered again inside itself

    def __enter__(self):
        paused = _CPYTHON and _gc is not None and _gc.isenabled()
        self.paused.append(paused)
        if paused:
            _gc.disable()
        return self

    def __exit__(self, *exc):
        if self.paused.pop():
            _gc.enable()
        return False


_CPYTHON = IMPLEMENTATION == "cpython"


# ---------------------------------------------------------------- references

def matmul_naive(a, b):
    """The textbook triple loop: ``c[i][j] = sum_k a[i][k] * b[k][j]``."""
    n, k, m = len(a), len(b), len(b[0])
    c = [[0] * m for _ in range(n)]
    for i in range(n):
        for j in range(m):
            s = 0
            for t in range(k):
                s += a[i][t] * b[t][j]
            c[i][j] = s
    return c


# ------------------------------------------------------------------ kernels

def _zero_row(row, b):
    """The product of an all-zero row with a finite b: zeros of the type the
    full sum would have (``abs`` drops the sign of ``0 * -1.5 == -0.0``).

    Worth a shortcut: in ``dW = x.T @ dout`` on MNIST about a third of the
    rows of ``x.T`` (border pixels, across a batch of 100) are all zero."""
    z = row[0]
    return [abs(z * v) for v in b[0]]


def _value(x):
    """A flag or a matrix given lazily, as a function: called the first time
    a kernel needs it (``matmul``'s ``b_t`` and ``skip_zeros``)."""
    return x() if callable(x) else x


def matmul_ikj(a, b, skip_zeros=True, bias=None):
    """i-k-j loops: add ``a[i][k] * (row k of b)`` into output row i.

    With ``skip_zeros``, zero entries of a row of ``a`` are skipped.  The
    output row starts as the first term kept, ``a[i][k] * b[k]``, not as
    zeros: so its elements have the type of the products (PyPy's JIT keeps
    a list of floats unboxed); a row of ``a`` that is all zeros gives zeros
    of that type without multiplying (``_zero_row``).  ``skip_zeros`` may be
    a function, asked the first time a zero is met.  ``bias`` (a list) is
    added to each output row once it is complete: ``(a @ b) + bias``.

    The terms after the first are added three rows of ``b`` at a time,
    ``acc[j] = acc[j] + x * b[k][j] + y * b[l][j] + z * b[q][j]``: Python
    adds left to right, so these are the same additions in the same order
    as one row at a time (the same bits), with a third of the loads and
    stores of ``acc``: 1.4x faster on PyPy (the SimpleConvNet's affine layer,
    ``benchmarks/bench_convnet.py``).
    """
    m = range(len(b[0]))
    skip = None if callable(skip_zeros) else skip_zeros
    out = []
    for row in a:
        ks = _kept(row, skip)
        if ks is None:  # a zero met, and the flag still to be asked
            skip = bool(skip_zeros())  # (a falsy None must not read as 'unknown')
            ks = _kept(row, skip)
        if not ks:  # every entry was a zero (and skipped)
            acc = _zero_row(row, b)
        else:
            x = row[ks[0]]
            acc = [x * v for v in b[ks[0]]]
            threes = 1 + (len(ks) - 1) % 3
            for t in range(1, threes):  # one or two alone, then the rest in threes
                x, bk = row[ks[t]], b[ks[t]]
                for j in m:
                    acc[j] += x * bk[j]
            for t in range(threes, len(ks), 3):
                x, bk, y, bl = row[ks[t]], b[ks[t]], row[ks[t + 1]], b[ks[t + 1]]
                z, bq = row[ks[t + 2]], b[ks[t + 2]]
                for j in m:
                    acc[j] = acc[j] + x * bk[j] + y * bl[j] + z * bq[j]
        if bias is not None:
            for j in m:
                acc[j] += bias[j]
        out.append(acc)
    return out


def _kept(row, skip):
    """The k whose terms ``row[k] * b[k]`` are added: the nonzero entries
    when skipping zeros, else all; None when there is a zero and ``skip``
    is still unknown (None)."""
    if skip:
        return [k for k in range(len(row)) if row[k]]
    if skip is None:
        for v in row:
            if not v:
                return None
    return range(len(row))


def _dot_function():
    if sumprod is not None:
        return sumprod
    return lambda row, col: sum(map(mul, row, col))


dot = _dot_function()


def matmul_dense(a, b_t):
    """``c[i][j] = dot(row i of a, column j of b)``, given ``b_t`` = bᵀ."""
    return [[dot(row, col) for col in b_t] for row in a]


def matmul_sparse_row(row, b):
    """One output row from only the nonzero entries of ``row``.

    ``compress(b, row)`` keeps the rows of ``b`` whose weight is nonzero;
    ``zip(*...)`` turns them into shortened columns.
    """
    xs = list(compress(row, row))
    return [dot(xs, col) for col in zip(*compress(b, row))]


def matmul_mixed(a, b, b_t, skip_zeros=True, bias=None):
    """Dense dot products, but sparse rows of ``a`` go through their nonzeros.

    ``b_t`` (bᵀ) and ``skip_zeros`` may be functions, called the first time a
    row needs them: a product whose rows are all sparse (an MNIST batch @ W1)
    never builds bᵀ, one whose rows have few zeros never asks whether b is
    finite.  ``bias`` (a list) is added to each output row: ``(a @ b) + bias``.
    """
    limit = SPARSE_SHARE * len(b)
    skip = None if callable(skip_zeros) else skip_zeros
    cols = None
    out = []
    for row in a:
        nonzero = len(row) - row.count(0)
        if nonzero <= limit:
            if skip is None:
                skip = skip_zeros()
            if skip:
                if nonzero == 0:
                    new = _zero_row(row, b)
                else:
                    new = matmul_sparse_row(row, b)
                out.append(new if bias is None else [v + c for v, c in zip(new, bias)])
                continue
        if cols is None:
            cols = _value(b_t)
        if bias is None:
            out.append([dot(row, col) for col in cols])
        else:
            out.append([dot(row, col) + c for col, c in zip(cols, bias)])
    return out


# ------------------------------------- a convolution without its ``col``

def gather_matmul_scatter(rows, plan, b, bias, blocks):
    """``gather(rows, table) @ b``, each block of ``blocks`` product rows
    transposed into one row, ``+ bias``: a convolution's forward pass
    (``purenn.convolution``) without building the gathered rows (``col``).

    The table read the other way: input column i is read by table row r
    (an output position) at entry k (a patch element), for the pairs
    ``(r0 + j, k0 - j), j < n`` of each run ``(r0, k0, n)`` in ``runs[i]``
    (a pixel under a filter sliding right is read by consecutive outputs
    at consecutive patch elements, so a run is one row of the filter).
    Each nonzero input number v adds ``v * b[k0 - j]`` into output r0 + j:
    one loop over the run's weights laid end to end, ``N * nonzeros * FH *
    FW * FN`` multiply-adds, no patch list made; on MNIST (~80 % zero
    pixels) a fifth of the work of ``col @ W.T``.

    The sums are the ikj product's (``matmul_ikj``) of the gathered rows:
    each output's terms are added in the order of k (a table row reads its
    columns in increasing order, as im2col's do), zeros skipped; only a sum
    that is zero may differ in sign (this one starts at 0.0, ikj at its
    first term), which the bias then settles unless it is -0.0.  So ``b``
    must be all finite (``0 * inf``) and the bias given;
    ``Matrix.gather_product`` checks both.
    Two neighbouring nonzero pixels i, i + 1 are added in one pass where
    their runs overlap: i + 1's run along a filter row is i's moved one
    output on, ``(r0 + 1, k0, n)``, so in the overlap each output gets
    ``acc + v * w_i + u * w_i+1``, i's term first as before (the same
    bits), with one load and store of ``acc`` for two multiply-adds.
    Plain index loops: the formulation PyPy's JIT compiles best (measured in
    ``benchmarks/bench_convnet.py``); on CPython ``col @ W.T`` is faster.
    ``plan`` is ``scatter_plan(runs)``, worked out once per table.
    """
    fn = len(bias)
    _, keys, alone, paired = plan
    laid = []  # for each (k0, n): b[k0] + b[k0 - 1] + ... (n rows end to end)
    for k0, n in keys:
        weights = []
        for j in range(n):
            weights.extend(b[k0 - j])
        laid.append(weights)
    out = []
    for row in rows:
        acc = [0.0] * (blocks * fn)  # position-major: acc[r * fn + f]
        i, last = 0, len(row) - 1
        while i <= last:
            v = row[i]
            if not v:
                i += 1
            elif i == last or not row[i + 1] or paired[i] is None:
                _add_runs(acc, v, alone[i], laid, fn)
                i += 1
            else:  # i and i + 1: the overlaps in one pass, the rest alone
                u = row[i + 1]
                both, mine, theirs = paired[i]
                _add_runs(acc, v, mine, laid, fn)
                for t in range(0, len(both), 2):
                    start, weights = both[t] * fn, laid[both[t + 1]]
                    end = len(weights)
                    for j in range(fn):  # an output only i reads
                        acc[start + j] += v * weights[j]
                    for j in range(fn, end):  # outputs both read, i's term first
                        acc[start + j] = acc[start + j] + v * weights[j] + u * weights[j - fn]
                    for j in range(end, end + fn):  # an output only i + 1 reads
                        acc[start + j] += u * weights[j - fn]
                _add_runs(acc, u, theirs, laid, fn)
                i += 2
        o = [0.0] * (fn * blocks)  # channels first: o[f * blocks + r]
        for r in range(blocks):
            base = r * fn
            for f in range(fn):
                o[f * blocks + r] = acc[base + f] + bias[f]
        out.append(o)
    return out


def scatter_plan(runs):
    """``runs`` (``purenn.matrix._runs_plan``) as ``gather_matmul_scatter``
    reads them: ``(runs, keys, alone, paired)``.  ``keys`` are the distinct
    ``(k0, n)`` (the rows of ``b`` a run reads, laid end to end once a
    call); ``alone[i]`` the runs of column i, flat ``(r0, key number, ...)``;
    ``paired[i]`` those of columns i and i + 1 as ``(both, i's others, i +
    1's others)``: ``both`` the runs of i that i + 1 has one output on,
    ``(r0 + 1, k0, n)``; None where pairing would change the order of a
    sum's terms (then i is added alone)."""
    number = {}
    alone = []
    for column in runs:
        mine = []
        for t in range(0, len(column), 3):
            r0, key = column[t], (column[t + 1], column[t + 2])
            if key not in number:
                number[key] = len(number)
            mine.extend((r0, number[key]))
        alone.append(tuple(mine))
    keys = sorted(number, key=number.get)
    paired = []
    for i in range(len(alone) - 1):
        mine, theirs = _pairs_of(alone[i]), _pairs_of(alone[i + 1])
        both, others, taken = [], [], set()
        for r0, key in mine:
            if (r0 + 1, key) in theirs:
                both.extend((r0, key))
                taken.add((r0 + 1, key))
            else:
                others.extend((r0, key))
        # the output just after a shared run gets i + 1's term in that pass; if
        # i reads it too (an image one pixel wide: i + 1 is the pixel below),
        # i's term would come second: then no pairing for i (found by review)
        read_by_i = set(r0 + j for r0, key in mine for j in range(keys[key][1]))
        if any(both[t] + keys[both[t + 1]][1] in read_by_i for t in range(0, len(both), 2)):
            paired.append(None)
            continue
        rest = [v for run in theirs if run not in taken for v in run]
        paired.append((tuple(both), tuple(others), tuple(rest)))
    return runs, keys, tuple(alone), tuple(paired)


def _pairs_of(flat):
    # (a, b, c, d, ...) -> [(a, b), (c, d), ...] (MicroPython has no slices with a step)
    return [(flat[t], flat[t + 1]) for t in range(0, len(flat), 2)]


def _add_runs(acc, v, runs, laid, fn):
    for t in range(0, len(runs), 2):
        start, weights = runs[t] * fn, laid[runs[t + 1]]
        for j in range(len(weights)):
            acc[start + j] += v * weights[j]


# ---------------------------------------------------------------- dispatch

if IMPLEMENTATION == "cpython" and compress is not None:
    KERNEL = "sumprod" if sumprod is not None else "summap"
else:
    KERNEL = "ikj"


def matmul(a, b, b_t=None, skip_zeros=True, bias=None):
    """``a @ b`` (``+ bias``, a list, when given) with the fastest kernel for
    this interpreter.

    ``b_t`` is ``b`` transposed, or a function that returns it (called only
    when a dense row needs it); ``skip_zeros`` must be false when ``b`` holds
    ``inf`` or ``nan`` (or a function that says, asked only when it matters).
    """
    if KERNEL == "ikj":
        return matmul_ikj(a, b, skip_zeros, bias)
    if b_t is None:
        b_t = lambda: [list(col) for col in zip(*b)]  # noqa: E731 (made only if needed)
    return matmul_mixed(a, b, b_t, skip_zeros, bias)
