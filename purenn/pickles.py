"""The book's weight files (numpy pickles) without numpy, opened safely.

==============================  =============================================
``load_arrays(path)``           ``-> {name: Array}``: every numeric numpy
                                array of 1 to 4 dimensions, shape kept (the
                                convnets' ``params.pkl`` of chapters 7-8)
``Array``                       ``.shape``, ``.values`` (flat, C order),
                                ``.dtype``, ``.matrix()``
``arrays_from_bytes(data)``     ``load_arrays`` of a pickle in memory
``load_numpy_pickle(path)``     ``load_arrays``, 1-D and 2-D arrays as Matrices
``is_pickle(data)``             does ``data`` look like a pickle (any protocol)?
``load_book_weights(path)``     ``-> {"W1": Matrix (784, 50), "b1": (1, 50),
                                ..., "b3": (1, 10)}``: ``sample_weight.pkl``
``BOOK_WEIGHTS_HELP``           how to get the book's file
==============================  =============================================

A pickle is a small program for a stack machine: opening one with Python's
``pickle`` calls the functions it names, so an arbitrary pickle can run any
code, and even a harmless one can ask for gigabytes (a memo slot 2**28) or
an ``OverflowError`` (a length of 2**63).  purenn runs pickles on a machine
of its own (``_Machine``, below): the opcodes of protocols 0 to 5, each
checked, within stated limits (``PICKLE_LIMIT`` bytes, ``OPERATIONS_LIMIT``
opcodes, ``DEPTH_LIMIT`` levels of nesting, ``ELEMENTS_LIMIT`` array
elements), one pickle a file (nothing after STOP).  A name in the pickle
becomes a function only through ``_ALLOWED``: the few names numpy's arrays
are rebuilt from, each mapped to a harmless stand-in written below.  Any
other name is refused with a ``DataError`` before anything runs.

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
import codecs
import struct

from purenn.errors import DataError
from purenn.files import quote, read_limited, shown
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

    def __init__(self, spec, align=False, copy=False):  # numpy.dtype's defaults
        if not isinstance(spec, str) or spec not in _DTYPES:  # (str first: never hash a tuple)
            raise DataError("numpy dtype %s: purenn reads numeric arrays only (%s)"
                            % (quote(spec), ", ".join(sorted(_DTYPES))))
        # numpy pickles a dtype as dtype(spec, False, True) (0, 1 before
        # numpy 1.16): a new dtype, which its state then sets.  Another call
        # means something else to numpy (copy=False: the shared built-in
        # dtype, whose byte order the state does not change).
        if type(align) not in (bool, int) or align != 0 or type(copy) not in (bool, int) \
                or copy != 1:
            raise DataError("numpy dtype(%s, align=%s, copy=%s): numpy pickles a dtype as "
                            "dtype(spec, False, True)" % (quote(spec), quote(align, 20),
                                                          quote(copy, 20)))
        self.code, self.name = _DTYPES[spec]
        self.order = "<"

    def __setstate__(self, state):
        # (version, byte order, subarray, names, fields, elsize, alignment,
        # flags[, metadata]): numpy writes version 3, or 4 with metadata
        if (not isinstance(state, tuple) or len(state) not in (8, 9)
                or type(state[0]) is not int or (state[0], len(state)) not in ((3, 8), (4, 9))
                or not isinstance(state[1], str) or state[1] not in _BYTE_ORDERS
                or any(s is not None for s in state[2:5])
                or state[5:8] != (-1, -1, 0)):
            # elsize and alignment -1, flags 0: what numpy writes for every
            # numeric type (numpy crashes on some other values)
            raise DataError("numpy dtype state: not a plain numeric type (a structured "
                            "or sub-array dtype, or a broken state: %s)" % _describe(state))
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
        version, shape, dtype, fortran, raw = state
        if version not in (0, 1) or type(version) not in (bool, int):  # as numpy reads it
            raise DataError("numpy array state: version %s; numpy writes 1"
                            % quote(version if type(version) in (bool, int) else type(version)
                                    .__name__))
        if isinstance(raw, str):  # a pickle from Python 2, read with latin-1
            raw = _latin1(raw)
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
        if _product(shape) > ELEMENTS_LIMIT:  # (before a list of them is built)
            raise DataError("numpy array of shape %s: more than the %d elements purenn reads "
                            "from a pickle" % (shape, ELEMENTS_LIMIT))
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

    In Fortran order, the elements whose first index is ``i`` are every
    ``shape[0]``-th from ``i`` on (``values[i::n]``), themselves the
    sub-array ``shape[1:]`` in Fortran order: C order is these, one ``i``
    after the other, each put in C order the same way (slices: C speed, and
    no list of offsets as long as the array).

    >>> _fortran_to_c([1, 4, 2, 5, 3, 6], (2, 3))    # [[1, 2, 3], [4, 5, 6]]
    [1, 2, 3, 4, 5, 6]
    """
    if len(shape) == 1:
        return list(values)
    n, rest = shape[0], shape[1:]
    out = []
    for i in range(n):
        out.extend(_fortran_to_c(values[i::n], rest))
    return out


def _describe(obj):
    """What an object from a pickle is, in a few words: its type, and for a
    string, a number or a short tuple of ints its value, cut short (never the
    whole object: it could be huge, or so nested that printing it would not
    end)."""
    if obj is None:
        return "None"
    if isinstance(obj, (str, bytes, bytearray, int, float)):
        return "%s %s %s" % ("an" if type(obj) is int else "a", type(obj).__name__,
                             quote(obj, 40))
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
    if typecode not in (b"b", "b") or not isinstance(shape, tuple) or shape != (0,):
        # what numpy writes (the state fills in the real shape and type; "b":
        # from Python 2, read as text)
        raise DataError("numpy _reconstruct(ndarray, %s, %s); numpy writes (0,), b'b'"
                        % (_describe(shape), _describe(typecode)))
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
    return _latin1(text)


def _latin1(text):
    """Text of code points 0..255 as the bytes it stands for (how pickles of
    protocols 0-2 carry bytes)."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError as e:
        raise DataError("bytes written as text hold the character U+%04X, beyond latin-1"
                        % ord(text[e.start]))


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


# ------------------------------------------------ the pickle machine, bounded
# Python's own unpickler (C code) cannot be bounded from outside: a 9-byte
# pickle that stores into memo slot 2**28 makes it allocate gigabytes, a
# length field of 2**63 is an OverflowError, and it ignores whatever follows
# the STOP opcode.  So purenn runs pickles on its own small machine: the
# opcodes of protocols 0 to 5 that numpy arrays need (and the plain values
# around them), each step checked, every limit below stated.

PICKLE_LIMIT = 64 << 20        # bytes in a pickle file (the book's largest: 3.5 MB)
OPERATIONS_LIMIT = 200000      # opcodes (a numpy array takes about 25)
DEPTH_LIMIT = 32               # containers within containers, MARKs within MARKs
ELEMENTS_LIMIT = 1 << 22       # array elements in one file (4.2 million; the convnet: 0.45)
_TEXT_NUMBER_LIMIT = 40        # characters of a protocol-0 INT, LONG, FLOAT, PUT, GET
_LONG_BYTES_LIMIT = 64         # bytes of a LONG1/LONG4 integer (numpy's need 8 at most)


class _Mark:
    """A MARK on the stack of stacks (never a value)."""


class _Machine:
    """Runs one pickle, opcode by opcode, on a stack (``self.stack``), a
    stack of stacks for MARK (``self.marks``) and a memo (a dict: a huge
    index costs one entry, not a huge array).  Values are the plain Python
    ones (None, bool, int, float, str, bytes, tuple, list, dict) and the
    stand-ins of ``_ALLOWED``; nothing else can be built, nothing from the
    file is hashed but strings (dict keys must be strings) and nothing is
    walked recursively."""

    def __init__(self, data):
        self.data, self.pos = data, 0
        self.frame_end = None     # where the current FRAME ends (protocol 4+), if in one
        self.stack, self.marks, self.memo = [], [], {}
        self.depths = {}          # id(container) -> nesting depth (containers are kept alive)
        self.keep = []
        self.nested = set()       # ids of lists and dicts already inside another container
        self.elements = 0

    # -------------------------------------------------- reading arguments
    def take(self, n, what):
        if n < 0 or n > len(self.data) - self.pos:
            raise DataError("truncated: %s of %d bytes at offset %d, the file has %d more"
                            % (what, n, self.pos, len(self.data) - self.pos))
        self.within_frame(self.pos + n, what)
        piece = self.data[self.pos:self.pos + n]
        self.pos += n
        return piece

    def unpack(self, fmt, what):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), what))[0]

    def line(self, what, limit=None):
        end = self.data.find(b"\n", self.pos)
        if end < 0:
            raise DataError("truncated: %s at offset %d has no end of line" % (what, self.pos))
        if limit is not None and end - self.pos > limit:
            raise DataError("%s at offset %d: %d characters, more than the %d purenn reads"
                            % (what, self.pos, end - self.pos, limit))
        self.within_frame(end + 1, what)
        text = self.data[self.pos:end]
        self.pos = end + 1
        return text

    def within_frame(self, end, what):
        """An argument ending at ``end`` must not cross the end of its frame
        (as Python's unpickler says: the frame's length was a lie)."""
        if self.frame_end is not None and end > self.frame_end:
            raise DataError("%s at offset %d runs past the end of its FRAME at offset %d"
                            % (what, self.pos, self.frame_end))

    def text_int(self, what, base=10):
        """An integer written as a line of text (protocol 0), as Python's
        unpickler reads it: INT ``00``/``01`` are False/True, LONG ends in
        ``L``; INT and LONG are read in ``base`` 0 (``0x..`` too)."""
        text = self.line(what, _TEXT_NUMBER_LIMIT)
        if what == "INT" and text in (b"00", b"01"):
            return text == b"01"
        if what == "LONG" and text.endswith(b"L"):
            text = text[:-1]
        try:
            return int(text, base)
        except ValueError:
            raise DataError("%s: %s is not an integer" % (what, quote(text, 40)))

    def decode(self, raw, encoding, what):
        try:
            return raw.decode(encoding, "surrogatepass" if encoding == "utf-8" else "strict")
        except UnicodeDecodeError as e:
            raise DataError("%s at offset %d: not %s text (%s)" % (what, self.pos, encoding,
                                                                    e.reason))

    # ------------------------------------------------------- the stacks
    def push(self, value):
        self.stack.append(value)

    def pop(self, what):
        if not self.stack:
            raise DataError("%s at offset %d: the stack is empty (a broken pickle)"
                            % (what, self.pos - 1))
        return self.stack.pop()

    def top(self, what):
        if not self.stack:
            raise DataError("%s at offset %d: the stack is empty (a broken pickle)"
                            % (what, self.pos - 1))
        return self.stack[-1]

    def pop_mark(self, what):
        if not self.marks:
            raise DataError("%s at offset %d: no MARK to go back to (a broken pickle)"
                            % (what, self.pos - 1))
        items, self.stack = self.stack, self.marks.pop()
        return items

    def _holding(self, items):
        """The depth of a container holding ``items`` (one more than the
        deepest), checked; the lists and dicts among them are now nested."""
        depth = 1 + max([self.depths.get(id(x), 0) for x in items] or [0])
        if depth > DEPTH_LIMIT:
            raise DataError("containers nested more than %d deep at offset %d: nested "
                            "containers are refused (numpy's arrays need 4 levels)"
                            % (DEPTH_LIMIT, self.pos - 1))
        for x in items:
            if isinstance(x, (list, dict)):
                self.nested.add(id(x))
        return depth

    def container(self, value, items):
        """A new container ``value`` of ``items``, its depth recorded."""
        self.depths[id(value)] = self._holding(items)
        self.keep.append(value)
        return value

    def fill(self, target, items, what):
        """Items go into a list or dict that is not yet inside another one
        (a pickler always fills a container before it nests it; filling it
        later could hide how deep it gets)."""
        if id(target) in self.nested:
            raise DataError("%s at offset %d: fills a container already inside another"
                            % (what, self.pos - 1))
        self.depths[id(target)] = max(self.depths.get(id(target), 1), self._holding(items))

    # --------------------------------------------------------- running
    def run(self):
        operations = 0
        while True:
            operations += 1
            if operations > OPERATIONS_LIMIT:
                raise DataError("more than %d pickle operations; a dict of numpy arrays "
                                "needs about 25 an array" % OPERATIONS_LIMIT)
            if self.pos >= len(self.data):
                raise DataError("truncated: the pickle ends at offset %d without its STOP "
                                "opcode" % self.pos)
            if self.pos == self.frame_end:
                self.frame_end = None
            code = self.data[self.pos:self.pos + 1]
            self.pos += 1
            step = _OPCODES.get(code)
            if step is None:
                raise DataError("invalid pickle opcode %s at offset %d"
                                % (quote(code), self.pos - 1))
            name, method = step
            if method is None:
                raise DataError("refusing the pickle opcode %s at offset %d: a pickle of numpy "
                                "arrays does not need it" % (name, self.pos - 1))
            if getattr(self, method)(name):
                break
        if self.pos != len(self.data):
            raise DataError("%d bytes after the pickle's STOP opcode (offset %d); a pickle "
                            "file holds one pickle" % (len(self.data) - self.pos, self.pos - 1))
        if self.stack or self.marks:
            raise DataError("the pickle stops with values left on its stack (a broken pickle)")
        return self.result

    # ------------------------------------------------ opcodes: framing
    def op_proto(self, name):
        protocol = self.unpack("<B", name)
        if protocol > 5:
            raise DataError("pickle protocol %d; purenn reads protocols 0 to 5" % protocol)

    def op_frame(self, name):
        if self.frame_end is not None:
            raise DataError("a FRAME at offset %d inside the FRAME that ends at offset %d"
                            % (self.pos - 1, self.frame_end))
        size = self.unpack("<Q", name)
        if size > len(self.data) - self.pos:
            raise DataError("truncated: a FRAME longer than the rest of the file at offset %d"
                            % self.pos)
        self.frame_end = self.pos + size

    def op_stop(self, name):
        self.result = self.pop(name)
        return True

    # ----------------------------------------------- opcodes: values
    def op_none(self, name):
        self.push(None)

    def op_true(self, name):
        self.push(True)

    def op_false(self, name):
        self.push(False)

    def op_int(self, name):  # INT and LONG
        self.push(self.text_int(name, 0))

    def op_binint(self, name):
        self.push(self.unpack("<i", name))

    def op_binint1(self, name):
        self.push(self.unpack("<B", name))

    def op_binint2(self, name):
        self.push(self.unpack("<H", name))

    def _long_bytes(self, n, name):
        if n > _LONG_BYTES_LIMIT:
            raise DataError("%s: an integer of %d bytes at offset %d; purenn reads up to %d"
                            % (name, n, self.pos, _LONG_BYTES_LIMIT))
        raw = self.take(n, name)
        value = 0
        for byte in reversed(raw):          # little-endian, two's complement
            value = value * 256 + byte
        if raw and raw[-1] >= 0x80:
            value -= 1 << (8 * n)
        self.push(value)

    def op_long1(self, name):
        self._long_bytes(self.unpack("<B", name), name)

    def op_long4(self, name):
        self._long_bytes(self.unpack("<i", name), name)

    def op_float(self, name):
        text = self.line(name, _TEXT_NUMBER_LIMIT)
        try:
            self.push(float(text))
        except ValueError:
            raise DataError("%s: %s is not a number" % (name, quote(text, 40)))

    def op_binfloat(self, name):
        self.push(self.unpack(">d", name))

    def op_string(self, name):
        text = self.line(name)
        if len(text) < 2 or text[:1] != text[-1:] or text[:1] not in (b"'", b'"'):
            raise DataError("%s at offset %d: the argument must be quoted" % (name, self.pos))
        try:
            raw = codecs.escape_decode(text[1:-1])[0]
        except ValueError as e:
            raise DataError("%s at offset %d: %s" % (name, self.pos, quote(str(e), 60)))
        self.push(raw.decode("latin-1"))  # Python 2's str: bytes, read as latin-1

    def op_binstring(self, name):
        self.push(self.take(self.unpack("<i", name), name).decode("latin-1"))

    def op_short_binstring(self, name):
        self.push(self.take(self.unpack("<B", name), name).decode("latin-1"))

    def op_binbytes(self, name):
        self.push(self.take(self.unpack("<I", name), name))

    def op_short_binbytes(self, name):
        self.push(self.take(self.unpack("<B", name), name))

    def op_binbytes8(self, name):
        self.push(self.take(self.unpack("<Q", name), name))

    def op_bytearray8(self, name):
        self.push(bytearray(self.take(self.unpack("<Q", name), name)))

    def op_unicode(self, name):
        self.push(self.decode(self.line(name), "raw-unicode-escape", name))

    def op_binunicode(self, name):
        self.push(self.decode(self.take(self.unpack("<I", name), name), "utf-8", name))

    def op_short_binunicode(self, name):
        self.push(self.decode(self.take(self.unpack("<B", name), name), "utf-8", name))

    def op_binunicode8(self, name):
        self.push(self.decode(self.take(self.unpack("<Q", name), name), "utf-8", name))

    # ------------------------------------------- opcodes: containers
    def op_mark(self, name):
        if len(self.marks) >= DEPTH_LIMIT:
            raise DataError("MARKs nested more than %d deep at offset %d: nested containers "
                            "are refused (numpy's arrays need 4 levels)"
                            % (DEPTH_LIMIT, self.pos - 1))
        self.marks.append(self.stack)
        self.stack = []

    def op_pop(self, name):
        if self.stack:
            self.stack.pop()
        else:
            self.pop_mark(name)

    def op_pop_mark(self, name):
        self.pop_mark(name)

    def op_dup(self, name):
        self.push(self.top(name))

    def op_empty_tuple(self, name):
        self.push(())

    def _tuple(self, items):
        self.push(self.container(tuple(items), items))

    def op_tuple(self, name):
        self._tuple(self.pop_mark(name))

    def op_tuple1(self, name):
        self._tuple([self.pop(name)])

    def op_tuple2(self, name):
        b = self.pop(name)
        self._tuple([self.pop(name), b])

    def op_tuple3(self, name):
        c = self.pop(name)
        b = self.pop(name)
        self._tuple([self.pop(name), b, c])

    def op_empty_list(self, name):
        self.push(self.container([], []))

    def op_list(self, name):
        items = self.pop_mark(name)
        self.push(self.container(list(items), items))

    def _append(self, items, name):
        target = self.top(name)
        if not isinstance(target, list):
            raise DataError("%s at offset %d: appends to %s, not a list"
                            % (name, self.pos - 1, _describe(target)))
        self.fill(target, items, name)
        target.extend(items)

    def op_append(self, name):
        self._append([self.pop(name)], name)

    def op_appends(self, name):
        self._append(self.pop_mark(name), name)

    def op_empty_dict(self, name):
        self.push(self.container({}, []))

    def _set_items(self, target, items, name):
        if not isinstance(target, dict):
            raise DataError("%s at offset %d: sets items of %s, not a dict"
                            % (name, self.pos - 1, _describe(target)))
        if len(items) % 2:
            raise DataError("%s at offset %d: an odd number of keys and values"
                            % (name, self.pos - 1))
        keys = items[0::2]
        for key in keys:
            if not isinstance(key, str):  # never hash what a pickle built: it may not end
                raise DataError("dict keys must be strings (array names), got %s at offset %d"
                                % (_describe(key), self.pos - 1))
        self.fill(target, items[1::2], name)
        for key, value in zip(keys, items[1::2]):
            target[key] = value

    def op_dict(self, name):
        items = self.pop_mark(name)
        self._set_items(self.container({}, []), items, name)
        self.push(self.keep[-1])

    def op_setitem(self, name):
        value = self.pop(name)
        key = self.pop(name)
        self._set_items(self.top(name), [key, value], name)

    def op_setitems(self, name):
        items = self.pop_mark(name)
        self._set_items(self.top(name), items, name)

    # ------------------------------------------------- opcodes: memo
    def _get(self, index, name):
        try:
            self.push(self.memo[index])
        except KeyError:
            raise DataError("%s at offset %d: memo entry %s was never stored (a broken pickle)"
                            % (name, self.pos - 1, quote(index)))

    def op_get(self, name):
        self._get(self.text_int(name), name)

    def op_binget(self, name):
        self._get(self.unpack("<B", name), name)

    def op_long_binget(self, name):
        self._get(self.unpack("<I", name), name)

    def _put(self, index, name):
        if index < 0:
            raise DataError("%s at offset %d: a negative memo index" % (name, self.pos - 1))
        self.memo[index] = self.top(name)

    def op_put(self, name):
        self._put(self.text_int(name), name)

    def op_binput(self, name):
        self._put(self.unpack("<B", name), name)

    def op_long_binput(self, name):
        self._put(self.unpack("<I", name), name)

    def op_memoize(self, name):
        self._put(len(self.memo), name)

    # ------------------------------------ opcodes: names and calls
    def _global(self, module, qualname):
        try:
            self.push(_ALLOWED[(module, qualname)])
        except KeyError:
            raise DataError("refusing to load %s.%s from a pickle: purenn only rebuilds numpy "
                            "arrays (a pickle can run any code it names)"
                            % (quote(module, 40)[1:-1], quote(qualname, 40)[1:-1]))

    def op_global(self, name):
        module = self.decode(self.line(name, 200), "utf-8", name)
        self._global(module, self.decode(self.line(name, 200), "utf-8", name))

    def op_stack_global(self, name):
        qualname = self.pop(name)
        module = self.pop(name)
        if not isinstance(module, str) or not isinstance(qualname, str):
            raise DataError("%s at offset %d: the module and name must be strings"
                            % (name, self.pos - 1))
        self._global(module, qualname)

    def op_reduce(self, name):
        args = self.pop(name)
        func = self.pop(name)
        if not any(func is f for f in _ALLOWED.values()) or func is _NdarrayMarker:
            raise DataError("%s at offset %d: calls %s, not one of numpy's array builders"
                            % (name, self.pos - 1, _describe(func)))
        if not isinstance(args, tuple) or len(args) > 4:
            raise DataError("%s at offset %d: the arguments are %s, not a short tuple"
                            % (name, self.pos - 1, _describe(args)))
        if func is _frombuffer and len(args) == 4:
            self.reserve(args[2])
        try:
            value = func(*args)
        except TypeError:
            raise DataError("%s at offset %d: %d arguments do not fit %s"
                            % (name, self.pos - 1, len(args), func.__name__))
        self.count(value)
        self.push(value)

    def op_build(self, name):
        state = self.pop(name)
        target = self.top(name)
        if not isinstance(target, (Array, _Dtype)):
            raise DataError("%s at offset %d: sets the state of %s, not of a numpy array or "
                            "dtype" % (name, self.pos - 1, _describe(target)))
        if isinstance(target, Array) and isinstance(state, tuple) and len(state) == 5:
            self.reserve(state[1])
        target.__setstate__(state)
        self.count(target)

    def reserve(self, shape):
        """Before an array of ``shape`` is built: would its elements, with
        those already built, pass ``ELEMENTS_LIMIT``?  (Checked before, so
        that a second big array is never built only to be refused.)"""
        if (isinstance(shape, tuple) and len(shape) <= MAX_DIMS
                and all(type(d) is int for d in shape)):
            wanted = _product(shape)
            if self.elements + max(wanted, 0) > ELEMENTS_LIMIT:
                raise DataError("numpy array of shape %s: more than the %d elements purenn "
                                "reads from a pickle%s"
                                % (quote(shape, 60), ELEMENTS_LIMIT,
                                   " (with the %d of the arrays before it)" % self.elements
                                   if self.elements else ""))

    def count(self, value):
        if isinstance(value, Array) and value.values is not None:
            self.elements += len(value.values)
            if self.elements > ELEMENTS_LIMIT:
                raise DataError("more than %d array elements in one pickle" % ELEMENTS_LIMIT)


# opcode -> (its name in pickletools, the method that runs it; None: refused)
_OPCODES = dict((code.encode("latin-1"), (name, method)) for code, name, method in [
    ("\x80", "PROTO", "op_proto"), ("\x95", "FRAME", "op_frame"), (".", "STOP", "op_stop"),
    ("N", "NONE", "op_none"), ("\x88", "NEWTRUE", "op_true"), ("\x89", "NEWFALSE", "op_false"),
    ("I", "INT", "op_int"), ("L", "LONG", "op_int"), ("J", "BININT", "op_binint"),
    ("K", "BININT1", "op_binint1"), ("M", "BININT2", "op_binint2"),
    ("\x8a", "LONG1", "op_long1"), ("\x8b", "LONG4", "op_long4"),
    ("F", "FLOAT", "op_float"), ("G", "BINFLOAT", "op_binfloat"),
    ("S", "STRING", "op_string"), ("T", "BINSTRING", "op_binstring"),
    ("U", "SHORT_BINSTRING", "op_short_binstring"), ("B", "BINBYTES", "op_binbytes"),
    ("C", "SHORT_BINBYTES", "op_short_binbytes"), ("\x8e", "BINBYTES8", "op_binbytes8"),
    ("\x96", "BYTEARRAY8", "op_bytearray8"), ("V", "UNICODE", "op_unicode"),
    ("X", "BINUNICODE", "op_binunicode"), ("\x8c", "SHORT_BINUNICODE", "op_short_binunicode"),
    ("\x8d", "BINUNICODE8", "op_binunicode8"),
    ("(", "MARK", "op_mark"), ("0", "POP", "op_pop"), ("1", "POP_MARK", "op_pop_mark"),
    ("2", "DUP", "op_dup"), (")", "EMPTY_TUPLE", "op_empty_tuple"), ("t", "TUPLE", "op_tuple"),
    ("\x85", "TUPLE1", "op_tuple1"), ("\x86", "TUPLE2", "op_tuple2"),
    ("\x87", "TUPLE3", "op_tuple3"), ("]", "EMPTY_LIST", "op_empty_list"),
    ("l", "LIST", "op_list"), ("a", "APPEND", "op_append"), ("e", "APPENDS", "op_appends"),
    ("}", "EMPTY_DICT", "op_empty_dict"), ("d", "DICT", "op_dict"),
    ("s", "SETITEM", "op_setitem"), ("u", "SETITEMS", "op_setitems"),
    ("g", "GET", "op_get"), ("h", "BINGET", "op_binget"), ("j", "LONG_BINGET", "op_long_binget"),
    ("p", "PUT", "op_put"), ("q", "BINPUT", "op_binput"), ("r", "LONG_BINPUT", "op_long_binput"),
    ("\x94", "MEMOIZE", "op_memoize"), ("c", "GLOBAL", "op_global"),
    ("\x93", "STACK_GLOBAL", "op_stack_global"), ("R", "REDUCE", "op_reduce"),
    ("b", "BUILD", "op_build"),
    # refused: sets (their items would be hashed), objects of classes,
    # extension registries, persistent ids, out-of-band buffers
    ("\x8f", "EMPTY_SET", None), ("\x90", "ADDITEMS", None), ("\x91", "FROZENSET", None),
    ("i", "INST", None), ("o", "OBJ", None), ("\x81", "NEWOBJ", None),
    ("\x92", "NEWOBJ_EX", None), ("\x82", "EXT1", None), ("\x83", "EXT2", None),
    ("\x84", "EXT4", None), ("P", "PERSID", None), ("Q", "BINPERSID", None),
    ("\x97", "NEXT_BUFFER", None), ("\x98", "READONLY_BUFFER", None),
])

_PROTOCOL_0_OPCODES = frozenset(code for code in _OPCODES if code < b"\x80")


def is_pickle(data):
    """Does ``data`` look like a pickle?  Protocols 2 to 5 start with PROTO
    (``80 0N``); protocols 0 and 1 have no header, so: the first byte is one
    of their opcodes and the last is STOP (``.``).  (A JSON object starts
    with ``{``, which is no opcode, so the two are never confused.)

    >>> is_pickle(b"\\x80\\x04\\x95..."), is_pickle(b"(dp0\\nVW1\\n..."), is_pickle(b'{"a": 1}')
    (True, True, False)
    """
    if data[:1] == b"\x80":
        return data[1:2] in [bytes([n]) for n in range(6)]
    return data[:1] in _PROTOCOL_0_OPCODES and data[-1:] == b"."


def _arrays_of(obj):
    """The book's files are one dict of name -> array: exactly that shape is
    accepted.  No recursion into nested containers, so a small pickle of
    shared references (a list of itself, 2**40 paths deep) cannot hang.

    One array may be stored once and named many times (the memo): each name
    counts its elements toward ``ELEMENTS_LIMIT``, for each becomes a matrix
    of its own (a 4 MB pickle naming one 4-million-element array 1000 times
    asked for 4 billion elements)."""
    if not isinstance(obj, dict):
        raise DataError("expected a dict of name -> numpy array (as the book's "
                        "sample_weight.pkl), got %s" % _describe(obj))
    arrays, elements = {}, 0
    for name, value in obj.items():
        if not isinstance(name, str):
            raise DataError("array names must be strings, got %s" % _describe(name))
        if not isinstance(value, Array) or value.shape is None:
            raise DataError("%s is %s, not a numpy array (nested containers are refused)"
                            % (quote(name, 40), _describe(value)))
        elements += len(value.values)
        if elements > ELEMENTS_LIMIT:
            raise DataError("its %d names hold more than the %d array elements purenn reads "
                            "from one pickle (an array named twice counts twice)"
                            % (len(obj), ELEMENTS_LIMIT))
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
    return arrays_from_bytes(read_limited(path, PICKLE_LIMIT, "numpy pickle"), shown(path))


def arrays_from_bytes(data, name="pickle"):
    """``load_arrays`` of a pickle already in memory (``bytes``); ``name``
    (the file's path) starts every message."""
    try:
        return _arrays_of(_Machine(data).run())
    except DataError as e:
        raise DataError("%s: %s" % (name, e))


def load_numpy_pickle(path):
    """``load_arrays``, each array as a Matrix: 1-D arrays as one row, 2-D
    as they are.  An array of 3 or 4 dimensions is a ``DataError`` (its
    shape would be lost: use ``load_arrays``)."""
    params = {}
    for name, array in load_arrays(path).items():
        if len(array.shape) > 2:
            raise DataError("%s: %s is a numpy array of shape %s; purenn matrices are 1-D or "
                            "2-D (purenn.pickles.load_arrays keeps every shape)"
                            % (shown(path), quote(name, 40), array.shape))
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
                            % (shown(path), name))
        if got.shape != shape:
            raise DataError("%s: %s has shape %s, the book's network needs %s"
                            % (shown(path), name, got.shape, shape))
    return dict((name, params[name]) for name in ("W1", "b1", "W2", "b2", "W3", "b3"))
