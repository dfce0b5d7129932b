"""The book's weight files (numpy pickles) without numpy, opened safely.

==============================  =============================================
``load_arrays(path)``           ``-> {name: Array}``: every numeric numpy
                                array of 1 to 4 dimensions, shape kept (the
                                convnets' ``params.pkl`` of chapters 7-8)
``Array``                       ``.shape``, ``.values`` (flat, C order),
                                ``.dtype``, ``.matrix()``
``load_numpy_pickle(path)``     the same, 1-D and 2-D arrays as Matrices
``load_book_weights(path)``     ``-> {"W1": Matrix (784, 50), "b1": (1, 50),
                                ..., "b3": (1, 10)}``: ``sample_weight.pkl``
``BOOK_WEIGHTS_HELP``           how to get the book's file
==============================  =============================================

A pickle is a small program for a stack machine: opening one calls the
functions it names, so an arbitrary pickle can run any code.  Python's
``pickle.Unpickler.find_class`` is the one place a name becomes a function;
here it only knows the few names numpy's arrays are rebuilt from, and each
maps to a harmless stand-in written below.  Any other name is refused with
a ``DataError`` before anything runs.

How numpy pickles an array (``ndarray.__reduce__``)::

    numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), b"b")   # an empty array
      .__setstate__((1, shape, dtype, is_fortran, raw_bytes))       # its content
    numpy.dtype("f4", False, True).__setstate__((3, "<", ...))      # its element type

and with protocol 5, for an array stored in one piece (C or Fortran order)::

    numpy.core.numeric._frombuffer(raw_bytes, dtype, shape, "C")

The book's file holds float32 arrays, the W matrices in Fortran (column by
column) order.  Each float32 converts exactly to a Python float (float64), so
the loaded weights are exactly the book's; the arithmetic after that is
float64 (numpy computes the book's example in float32).
"""
import pickle
import struct

from purenn.errors import DataError
from purenn.files import quote
from purenn.matrix import Matrix

BOOK_WEIGHTS_HELP = (
    "purenn does not ship the book's trained weights. Download sample_weight.pkl from\n"
    "the book's code repository (MIT License, Copyright (c) 2016 Koki Saitoh):\n"
    "  https://github.com/oreilly-japan/deep-learning-from-scratch/raw/master/ch03/"
    "sample_weight.pkl\n"
    "and pass it: python -m purenn mnist --weights sample_weight.pkl")

# numpy dtype strings -> (struct code, numpy's name); the size is implied by the code
_DTYPES = {"f8": ("d", "float64"), "f4": ("f", "float32"), "f2": ("e", "float16"),
           "i1": ("b", "int8"), "u1": ("B", "uint8"), "i2": ("h", "int16"), "u2": ("H", "uint16"),
           "i4": ("i", "int32"), "u4": ("I", "uint32"), "i8": ("q", "int64"),
           "u8": ("Q", "uint64"), "b1": ("?", "bool")}
_BYTE_ORDERS = {"<": "<", ">": ">", "|": "<", "=": "<"}
MAX_DIMS = 4  # the book's arrays: 1-D biases, 2-D matrices, 4-D convolution filters


class _Dtype:
    """Stands in for ``numpy.dtype``: remembers the type and byte order."""

    def __init__(self, spec, align=False, copy=True):
        if spec not in _DTYPES:
            raise DataError("numpy dtype %s: purenn reads numeric arrays only (%s)"
                            % (quote(spec), ", ".join(sorted(_DTYPES))))
        self.code, self.name = _DTYPES[spec]
        self.order = "<"

    def __setstate__(self, state):
        # (version, byte order, subarray, names, fields, elsize, alignment, flags)
        if (not isinstance(state, tuple) or len(state) < 5 or state[1] not in _BYTE_ORDERS
                or any(s is not None for s in state[2:5])):
            raise DataError("numpy dtype state: not a plain numeric type (a structured "
                            "or sub-array dtype?)")
        self.order = _BYTE_ORDERS[state[1]]


class _NdarrayMarker:
    """Stands in for the class ``numpy.ndarray`` (only passed around)."""


class Array:
    """A numpy array read from a pickle, without numpy.

    ``shape``: a tuple of 1 to 4 dimensions, each at least 1; ``values``: the
    elements as a flat list in C order (the last index changes fastest),
    Python floats for float arrays (each float16/float32 converts exactly),
    ints for integer and bool arrays; ``dtype``: numpy's name of the element
    type (``"float32"``, ``"int64"``, ...).  ``matrix()`` gives it as a
    Matrix.

    >>> a = Array((2, 1, 2), [1.0, 2.0, 3.0, 4.0], "float64")
    >>> a.shape, a.size, a.matrix().shape
    ((2, 1, 2), 4, (2, 2))
    """

    def __init__(self, shape=None, values=None, dtype=None):
        self.shape, self.values, self.dtype = shape, values, dtype

    @property
    def size(self):
        """The number of elements (the product of the shape)."""
        return len(self.values)

    def __repr__(self):
        return "Array(shape=%r, dtype=%r)" % (self.shape, self.dtype)

    def __setstate__(self, state):
        # numpy's ndarray.__reduce__: (version, shape, dtype, is_fortran, raw bytes)
        if not isinstance(state, tuple) or len(state) != 5:
            raise DataError("numpy array state: expected 5 items, got %s"
                            % _describe(state))
        _version, shape, dtype, fortran, raw = state
        if isinstance(raw, str):  # a pickle from Python 2, read with latin-1
            raw = raw.encode("latin-1")
        if fortran not in (True, False):  # also 0 and 1, as protocol 0 writes them
            raise DataError("numpy array state: the Fortran-order flag is %s, not a bool"
                            % _describe(fortran))
        self._fill(shape, dtype, bool(fortran), raw)

    def _fill(self, shape, dtype, fortran, raw):
        if not isinstance(dtype, _Dtype):
            raise DataError("numpy array: element type is %s, not a numeric dtype"
                            % _describe(dtype))
        if not isinstance(raw, (bytes, bytearray)):
            raise DataError("numpy array: data is %s, not raw bytes (object arrays are refused)"
                            % _describe(raw))
        if (not isinstance(shape, tuple) or not 1 <= len(shape) <= MAX_DIMS
                or any(type(d) is not int or d < 1 for d in shape)):
            # checked before any arithmetic: a negative or huge rank is no array of ours
            raise DataError("numpy array of shape %s: purenn reads arrays of 1 to %d "
                            "dimensions, every dimension at least 1"
                            % (_describe(shape), MAX_DIMS))
        size = struct.calcsize(dtype.code)
        if len(raw) % size or len(raw) // size != _product(shape):
            raise DataError("numpy array of shape %s (%s) needs %d bytes, the pickle holds %d"
                            % (shape, dtype.name, _product(shape) * size, len(raw)))
        count = len(raw) // size
        values = struct.unpack("%s%d%s" % (dtype.order, count, dtype.code), raw)
        if dtype.code == "?":
            values = [int(v) for v in values]
        if fortran and len(shape) > 1:
            values = _fortran_to_c(values, shape)
        self.shape, self.values, self.dtype = shape, list(values), dtype.name

    def matrix(self):
        """The array as a Matrix: 1-D -> a (1, n) row (a bias), 2-D -> (n, m),
        N-D -> (shape[0], the product of the rest), each row one sub-array
        (a convolution filter (FN, C, FH, FW) -> (FN, C*FH*FW), as the book's
        ``W.reshape(FN, -1)``)."""
        shape, v = self.shape, self.values
        if shape is None:
            raise DataError("numpy array without content")
        if len(shape) == 1:
            return Matrix([v])
        m = len(v) // shape[0]
        return Matrix([v[i * m:(i + 1) * m] for i in range(shape[0])])


def _product(shape):
    count = 1
    for d in shape:
        count *= d
    return count


def _fortran_to_c(values, shape):
    """Fortran (column-major: the first index changes fastest) to C order.

    Element (i0, i1, ..., ik) sits at i0 + n0*(i1 + n1*(i2 + ...)) in Fortran
    order; walking the indices in C order gathers the offsets."""
    strides, step = [], 1
    for d in shape:
        strides.append(step)
        step *= d
    offsets = [0]
    for d, stride in zip(shape, strides):
        offsets = [o + i * stride for o in offsets for i in range(d)]
    return [values[o] for o in offsets]


def _describe(obj):
    """What an object from a pickle is, in a few words: its type, and for a
    string, a number or a short tuple of ints its value, cut short (never the
    whole object: it could be huge, or so nested that printing it would not
    end)."""
    if obj is None:
        return "None"
    if isinstance(obj, (str, bytes, bytearray, int, float)):
        return "a %s %s" % (type(obj).__name__, quote(obj, 40))
    if isinstance(obj, tuple) and len(obj) <= 8 and all(type(x) is int for x in obj):
        return "the tuple %s" % quote(obj, 60)
    if isinstance(obj, (tuple, list, dict)):
        return "a %s of %d items" % (type(obj).__name__, len(obj))
    return "a %s" % type(obj).__name__


def _reconstruct(cls, shape, typecode):
    """Stands in for ``numpy.core.multiarray._reconstruct``: an empty array
    that the pickle's next step (``BUILD``, i.e. ``__setstate__``) fills."""
    if cls is not _NdarrayMarker:
        raise DataError("numpy _reconstruct of %s: only plain ndarrays are accepted"
                        % _describe(cls))
    return Array()


def _frombuffer(buf, dtype, shape, order):
    """Stands in for ``numpy.core.numeric._frombuffer``: protocol 5 pickles
    give a contiguous array as its bytes, dtype, shape and order ("C" or "F")."""
    if order not in ("C", "F"):
        raise DataError("numpy _frombuffer: order %s, expected 'C' or 'F'" % _describe(order))
    array = Array()
    array._fill(shape, dtype, order == "F", buf)
    return array


def _encode(text, encoding="utf-8"):
    """Stands in for ``_codecs.encode``: protocol 0-2 pickles write bytes as
    ``_codecs.encode(text, "latin1")``."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise DataError("_codecs.encode(%s, %s): only latin-1 text to bytes is accepted"
                        % (_describe(text), _describe(encoding)))
    return text.encode("latin-1")


# module, name -> stand-in; numpy 2 pickles say numpy._core
_ALLOWED = {
    ("_codecs", "encode"): _encode,
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy.core.numeric", "_frombuffer"): _frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _frombuffer,
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
                            "arrays (a pickle can run any code it names)"
                            % (quote(module, 40)[1:-1], quote(name, 40)[1:-1]))

    def persistent_load(self, pid):
        raise DataError("refusing a pickle with persistent ids")


def _arrays_of(obj):
    """The book's files are one dict of name -> array: exactly that shape is
    accepted.  No recursion into nested containers, so a small pickle of
    shared references (a list of itself, 2**40 paths deep) cannot hang."""
    if not isinstance(obj, dict):
        raise DataError("expected a dict of name -> numpy array (as the book's "
                        "sample_weight.pkl), got %s" % _describe(obj))
    arrays = {}
    for name, value in obj.items():
        if not isinstance(name, str):
            raise DataError("array names must be strings, got %s" % _describe(name))
        if not isinstance(value, Array) or value.shape is None:
            raise DataError("%s is %s, not a numpy array (nested containers are refused)"
                            % (quote(name, 40), _describe(value)))
        arrays[name] = value
    return arrays


def load_arrays(path):
    """Open a pickle of a dict name -> numpy array (the book's weight files,
    ``sample_weight.pkl`` and the convnets' ``params.pkl``):
    ``-> {name: Array}``, in the file's order.

    Each ``Array`` has ``.shape`` (1 to 4 dimensions), ``.values`` (flat, C
    order), ``.dtype`` and ``.matrix()``.  Numeric arrays of every dtype
    numpy pickles (float64/32/16, signed and unsigned ints, bool), C or
    Fortran order, pickle protocols 0 to 5.  Anything else in the pickle
    (other objects, nested containers, a name of a function that is not
    numpy's array builder), or a file that is no pickle, is a ``DataError``
    naming the file."""
    with open(path, "rb") as f:
        try:
            return _arrays_of(RestrictedUnpickler(f, encoding="latin-1").load())
        except DataError as e:
            raise DataError("%s: %s" % (path, e))
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
                IndexError, KeyError, struct.error, RecursionError, MemoryError) as e:
            raise DataError("%s: not a readable pickle of numpy arrays (%s: %s)"
                            % (path, type(e).__name__, quote(str(e), 80)[1:-1]))


def load_numpy_pickle(path):
    """``load_arrays``, each array as a Matrix: 1-D arrays as one row, 2-D
    as they are.  An array of 3 or 4 dimensions is a ``DataError`` (its
    shape would be lost: use ``load_arrays``)."""
    params = {}
    for name, array in load_arrays(path).items():
        if len(array.shape) > 2:
            raise DataError("%s: %s is a numpy array of shape %s; purenn matrices are 1-D or "
                            "2-D (purenn.pickles.load_arrays keeps every shape)"
                            % (path, quote(name, 40), array.shape))
        params[name] = array.matrix()
    return params


def load_book_weights(path):
    """The book's ``sample_weight.pkl`` (chapter 3.6): ``-> dict`` of Matrices
    W1 (784, 50), b1 (1, 50), W2 (50, 100), b2 (1, 100), W3 (100, 10),
    b3 (1, 10), ready for ``Network.from_dict(params, (sigmoid, sigmoid, softmax))``.

    A file that is not the book's network is a ``DataError`` saying what is
    missing or which shape is wrong.
    """
    params = load_numpy_pickle(path)
    expected = {"W1": (784, 50), "b1": (1, 50), "W2": (50, 100), "b2": (1, 100),
                "W3": (100, 10), "b3": (1, 10)}
    for name, shape in sorted(expected.items()):
        got = params.get(name)
        if got is None:
            raise DataError("%s: no array %r; the book's network has W1, b1, W2, b2, W3, b3"
                            % (path, name))
        if got.shape != shape:
            raise DataError("%s: %s has shape %s, the book's network needs %s"
                            % (path, name, got.shape, shape))
    return dict((name, params[name]) for name in ("W1", "b1", "W2", "b2", "W3", "b3"))
