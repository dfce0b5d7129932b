"""The book's ``sample_weight.pkl`` without numpy, opened safely.

==============================  =============================================
``load_book_weights(path)``     ``-> {"W1": Matrix (784, 50), "b1": (1, 50),
                                ..., "b3": (1, 10)}``, float64 Matrices
``load_numpy_pickle(path)``     a pickle of a dict of numeric numpy arrays
                                (name -> array), the arrays as Matrices
``BOOK_WEIGHTS_HELP``           how to get the book's file
==============================  =============================================

A pickle is a small program for a stack machine: opening one calls the
functions it names, so an arbitrary pickle can run any code.  Python's
``pickle.Unpickler.find_class`` is the one place a name becomes a function;
here it only knows the three names numpy's arrays are rebuilt from, and each
maps to a harmless stand-in written below.  Any other name is refused with
a ``DataError`` before anything runs.

How numpy pickles an array (``ndarray.__reduce__``)::

    numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), b"b")   # an empty array
      .__setstate__((1, shape, dtype, is_fortran, raw_bytes))       # its content
    numpy.dtype("f4", False, True).__setstate__((3, "<", ...))      # its element type

The book's file holds float32 arrays, the W matrices in Fortran (column by
column) order.  Each float32 converts exactly to a Python float (float64), so
the loaded weights are exactly the book's; the arithmetic after that is
float64 (numpy computes the book's example in float32).
"""
import pickle
import struct

from purenn.errors import DataError
from purenn.matrix import Matrix

BOOK_WEIGHTS_HELP = (
    "purenn does not ship the book's trained weights. Download sample_weight.pkl from\n"
    "the book's code repository (MIT License, Copyright (c) 2016 Koki Saitoh):\n"
    "  https://github.com/oreilly-japan/deep-learning-from-scratch/raw/master/ch03/"
    "sample_weight.pkl\n"
    "and pass it: python -m purenn mnist --weights sample_weight.pkl")

# numpy dtype strings -> struct codes (the size is implied by the code)
_STRUCT_CODES = {"f4": "f", "f8": "d", "f2": "e", "i1": "b", "u1": "B", "i2": "h", "u2": "H",
                 "i4": "i", "u4": "I", "i8": "q", "u8": "Q"}
_BYTE_ORDERS = {"<": "<", ">": ">", "|": "<", "=": "<"}


class _Dtype:
    """Stands in for ``numpy.dtype``: remembers the type and byte order."""

    def __init__(self, spec, align=False, copy=True):
        if spec not in _STRUCT_CODES:
            raise DataError("numpy dtype %r: purenn reads numeric arrays only (%s)"
                            % (spec, ", ".join(sorted(_STRUCT_CODES))))
        self.code = _STRUCT_CODES[spec]
        self.order = "<"

    def __setstate__(self, state):
        # (version, byte order, subarray, names, fields, elsize, alignment, flags)
        if (not isinstance(state, tuple) or len(state) < 2 or state[1] not in _BYTE_ORDERS
                or any(s is not None for s in state[2:5])):
            raise DataError("numpy dtype state %r: not a plain numeric type" % (state,))
        self.order = _BYTE_ORDERS[state[1]]


class _NdarrayMarker:
    """Stands in for the class ``numpy.ndarray`` (only passed around)."""


class _Array:
    """Stands in for a numpy array while the pickle builds it; ``matrix()``
    turns it into a purenn Matrix."""

    def __init__(self):
        self.shape, self.values = None, None

    def __setstate__(self, state):
        if not isinstance(state, tuple) or len(state) != 5:
            raise DataError("numpy array state: expected 5 items, got %r" % (type(state),))
        _version, shape, dtype, fortran, raw = state
        if not isinstance(dtype, _Dtype):
            raise DataError("numpy array: element type is not a numeric dtype")
        if isinstance(raw, str):  # a pickle from Python 2, read with latin-1
            raw = raw.encode("latin-1")
        if not isinstance(raw, (bytes, bytearray)) or not isinstance(shape, tuple):
            raise DataError("numpy array: data is not raw bytes (object arrays are refused)")
        if len(shape) > 2 or any(type(d) is not int or d < 1 for d in shape):
            # checked before any arithmetic: a negative or huge rank is no matrix
            raise DataError("numpy array of shape %r: purenn reads 1-D and 2-D arrays with "
                            "every dimension at least 1" % (shape,))
        count = 1
        for d in shape:
            count *= d
        size = struct.calcsize(dtype.code)
        if len(raw) != count * size:
            raise DataError("numpy array of shape %s needs %d bytes, the pickle holds %d"
                            % (shape, count * size, len(raw)))
        values = list(struct.unpack("%s%d%s" % (dtype.order, count, dtype.code), raw))
        if len(shape) == 2 and fortran:
            # column-major: column j is values[j*n:(j+1)*n]; turn columns into rows
            n, m = shape
            cols = [values[j * n:(j + 1) * n] for j in range(m)]
            values = [x for row in zip(*cols) for x in row]
        self.shape, self.values = shape, values

    def matrix(self):
        """2-D -> Matrix (n, m); 1-D -> a (1, n) row (a bias)."""
        shape, v = self.shape, self.values
        if shape is None:
            raise DataError("numpy array without content")
        if len(shape) == 1:
            return Matrix._wrap([v])
        if len(shape) == 2:
            n, m = shape
            return Matrix._wrap([v[i * m:(i + 1) * m] for i in range(n)])
        raise DataError("numpy array of shape %s: purenn matrices are 1-D or 2-D" % (shape,))


def _reconstruct(cls, shape, typecode):
    """Stands in for ``numpy.core.multiarray._reconstruct``."""
    if cls is not _NdarrayMarker:
        raise DataError("numpy _reconstruct of %r: only plain ndarrays are accepted" % (cls,))
    return _Array()


def _encode(text, encoding="utf-8"):
    """Stands in for ``_codecs.encode``: protocol 2 pickles write bytes as
    ``_codecs.encode(text, "latin1")``."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise DataError("_codecs.encode(%r, %r): only latin-1 text to bytes is accepted"
                        % (type(text).__name__, encoding))
    return text.encode("latin-1")


# module, name -> stand-in; numpy 2 pickles say numpy._core
_ALLOWED = {
    ("_codecs", "encode"): _encode,
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): _NdarrayMarker,
    ("numpy", "dtype"): _Dtype,
}


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that can build numpy arrays and nothing else."""

    def find_class(self, module, name):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise DataError("refusing to load %s.%s from a pickle: purenn only rebuilds numpy "
                            "arrays (a pickle can run any code it names)" % (module, name))

    def persistent_load(self, pid):
        raise DataError("refusing a pickle with persistent ids")


def _convert(obj):
    """The book's file is one dict of name -> array: exactly that shape is
    accepted.  No recursion into nested containers, so a small pickle of
    shared references (a list of itself, 2**40 paths deep) cannot hang."""
    if not isinstance(obj, dict):
        raise DataError("expected a dict of name -> numpy array (as the book's "
                        "sample_weight.pkl), got %s" % type(obj).__name__)
    params = {}
    for name, value in obj.items():
        if not isinstance(name, str):
            raise DataError("array names must be strings, got %s" % type(name).__name__)
        if not isinstance(value, _Array):
            raise DataError("%r is a %s, not a numpy array (nested containers are refused)"
                            % (name, type(value).__name__))
        params[name] = value.matrix()
    return params


def load_numpy_pickle(path):
    """Open a pickle of a dict name -> numpy array (the book's
    ``sample_weight.pkl``) and give each array as a Matrix (1-D arrays as one
    row).  Anything else in the pickle (other objects, nested containers,
    arrays that are not 1-D or 2-D), or a file that is no pickle, is a
    ``DataError`` naming the file."""
    with open(path, "rb") as f:
        try:
            obj = RestrictedUnpickler(f, encoding="latin-1").load()
            return _convert(obj)
        except DataError as e:
            raise DataError("%s: %s" % (path, e))
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
                IndexError, KeyError, struct.error, RecursionError, MemoryError) as e:
            raise DataError("%s: not a readable pickle of numpy arrays (%s: %s)"
                            % (path, type(e).__name__, e))


def load_book_weights(path):
    """The book's ``sample_weight.pkl`` (chapter 3.6): ``-> dict`` of Matrices
    W1 (784, 50), b1 (1, 50), W2 (50, 100), b2 (1, 100), W3 (100, 10),
    b3 (1, 10), ready for ``Network.from_dict(params, (sigmoid, sigmoid, softmax))``.

    A file that is not the book's network is a ``DataError`` saying what is
    missing or which shape is wrong.
    """
    params = load_numpy_pickle(path)
    if not isinstance(params, dict):
        raise DataError("%s: expected a dict of arrays W1, b1, ..., got %s"
                        % (path, type(params).__name__))
    expected = {"W1": (784, 50), "b1": (1, 50), "W2": (50, 100), "b2": (1, 100),
                "W3": (100, 10), "b3": (1, 10)}
    for name, shape in sorted(expected.items()):
        got = params.get(name)
        if not isinstance(got, Matrix):
            raise DataError("%s: no array %r; the book's network has W1, b1, W2, b2, W3, b3"
                            % (path, name))
        if got.shape != shape:
            raise DataError("%s: %s has shape %s, the book's network needs %s"
                            % (path, name, got.shape, shape))
    return dict((name, params[name]) for name in ("W1", "b1", "W2", "b2", "W3", "b3"))
