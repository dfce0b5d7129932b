"""A trained network in a few kilobytes: the compact weights format and the
forward pass that a microcontroller runs (chapter 8.3.4, "bit precision").

================================  ============================================
``encode(layers, dtype, ...)``    a network as the bytes of a compact file:
                                  ``dtype`` "float32", "float16" or "int8"
``load(path_or_stream)``          ``-> CompactNetwork``, read layer by layer
``CompactNetwork.predict(x)``     the output scores of one sample (an
                                  ``array('f')``, reused by the next call)
``CompactNetwork.classify(x)``    the index of the highest score
``int8_scales(W, per)``           the scale factors of int8 weights: one per
                                  output neuron (``"column"``) or per layer
``encode_samples(samples)``       test samples (a label and 0..255 values) as
                                  the bytes of a samples file
``read_samples(path_or_stream)``  ``-> (label, bytearray)`` one at a time
``DataError``                     a file that is not what it must be
================================  ============================================

This module runs unchanged on CPython, PyPy and MicroPython (it is part of
purenn's portable core; ``python -m purenn export`` copies it to a board).
It imports nothing from purenn that a board would lack: ``struct``,
``array`` and ``binascii`` only, and ``purenn.errors``/``purenn.files`` when
they are there.

Why a format of its own.  purenn's weights files are gzip'd JSON: on a board
with 100-192 KB of heap neither the gunzip window (32 KB) nor the parsed JSON
(a float object per parameter, 20-40 bytes each) fits for a large network.
A compact file is read straight into ``array`` objects, layer by layer, one
buffer at a time: a parameter costs 4 bytes as float32 (float16 is expanded
to float32 when read: a board computes in float32 anyway) and 1 byte as int8.

The format, version 1 (little-endian; every size in bytes)::

    file header, 24 bytes
      0  4s  magic b"PNNC"
      4  B   version (1)
      5  B   dtype of the weights: 1 float32, 2 float16, 3 int8
      6  B   number of layers L (1 to 64)
      7  B   0 (reserved)
      8  I   length of the whole file
     12  f   input scale: the network's input is x = raw value * input scale
             (1/255 for MNIST pixels 0..255, 1/16 for optdigits' 0..16)
     16  I   0 (reserved)
     20  I   CRC-32 of bytes 0..19
    then L layers, each a 24-byte header and its payload
      0  I   rows D (inputs)
      4  I   columns M (outputs)
      8  I   scale factors S: 0 (float weights), 1 (int8, one for the layer)
             or M (int8, one per output neuron, i.e. per column of W)
     12  B   activation: 0 identity, 1 relu, 2 sigmoid, 3 tanh, 4 softmax
     13  3x  0 (reserved)
     16  I   length of the payload: 4 S + D M (size of a weight) + 4 M
     20  I   CRC-32 of the header's bytes 0..19 and the payload
      payload: S float32 scales, then W (D, M) row by row (row i holds
      the weights of input i, as in the book's ``x @ W``), then M float32
      biases b

An int8 weight q stands for ``q * scale``: ``W[i][j] = q[i][j] * s[j]``
(per column) or ``q[i][j] * s`` (per layer), with ``s = max |W| / 127``
(symmetric, q in -127..127).  Biases and scales are float32 whatever the
dtype: they are M numbers a layer, about 1 % of the parameters.

The forward pass is the book's ``a = x @ W + b`` then ``z = h(a)``, computed
without ever building a list of lists: for each input i the row i of W is
streamed and ``x[i] * W[i][j]`` added into the output ``array('f')`` (zero
inputs are skipped: MNIST pixels are 80 % zeros), then each column is
scaled and its bias added.  Batch normalization is folded into W and b when
a network is exported (see ``purenn.precision``), so a board needs neither
sqrt nor the epsilon.

>>> layers = [([[0.5, -1.0], [0.25, 2.0]], [0.0, 0.5], "relu"),
...           ([[1.0], [-1.0]], [0.125], "identity")]
>>> data = encode(layers, "float32")
>>> len(data), data[:4]
(108, b'PNNC')
>>> import io
>>> net = load(io.BytesIO(data))
>>> net
CompactNetwork(2-2-1 float32, 108 bytes)
>>> list(net.predict([1.0, 2.0]))      # a1 = [1.0, 3.5] -> relu -> [1.0, 3.5] -> 1 - 3.5 + 0.125
[-2.375]
>>> load(io.BytesIO(data[:100]))
Traceback (most recent call last):
    ...
purenn.errors.DataError: <stream>: truncated: the header says 108 bytes, the file has 100
"""
import math
import sys

try:
    import struct
except ImportError:  # MicroPython before 1.20 named it ustruct
    import ustruct as struct  # portable: import -- the fallback of an old MicroPython
try:
    from array import array
except ImportError:
    from uarray import array  # portable: import -- the fallback of an old MicroPython
try:
    from binascii import crc32 as _crc32
except ImportError:  # a board built without binascii: crc32 below
    _crc32 = None
try:
    from purenn.errors import DataError
except ImportError:  # on a board, without the purenn package
    class DataError(ValueError):
        """A file's content is not what it must be: truncated, corrupt, or of
        the wrong kind (purenn.errors.DataError on a full purenn)."""

MAGIC = b"PNNC"
SAMPLES_MAGIC = b"PNNS"
VERSION = 1
DTYPES = ("float32", "float16", "int8")            # codes 1, 2, 3 in the header
ACTIVATIONS = ("identity", "relu", "sigmoid", "tanh", "softmax")   # codes 0 .. 4
MAX_LAYERS = 64
MAX_BYTES = 64 * 1024 * 1024  # the largest compact file read (the MNIST int8 one is 46 KB)
_ITEMSIZE = {"float32": 4, "float16": 2, "int8": 1}
_FLOAT32_MAX = 3.4028234663852886e38
_FLOAT32_TINY = 1.1754943508222875e-38   # the smallest normal float32
_FLOAT16_MAX = 65504.0   # 65520 and above round to infinity
_INT8_MAX = 127          # symmetric: -127 .. 127 (-128 is never written)
_LITTLE = sys.byteorder == "little"


# ------------------------------------------------------------ checksums

def _crc32_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = None


def crc32_python(data, crc=0):
    """zlib's CRC-32 (the one of gzip and PNG) in plain Python, for a board
    built without ``binascii.crc32``; ``crc`` continues an earlier value.

    >>> crc32_python(b"hello"), crc32_python(b"lo", crc32_python(b"hel"))
    (907060870, 907060870)
    """
    global _TABLE
    if _TABLE is None:
        _TABLE = _crc32_table()
    table = _TABLE
    c = crc ^ 0xFFFFFFFF
    for byte in bytes(data):
        c = table[(c ^ byte) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def crc32(data, crc=0):
    """CRC-32 of ``data`` (bytes or any buffer), continuing ``crc``: the C one
    of ``binascii`` where the runtime has it, else ``crc32_python``."""
    if _crc32 is not None:
        return _crc32(data, crc) & 0xFFFFFFFF
    return crc32_python(data, crc)


# --------------------------------------------------------------- numbers

def _f32(x):
    """x rounded to the nearest float32 (what an ``array('f')`` stores)."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def _finite(x):
    return x - x == 0.0   # inf - inf and nan - nan are nan


def _zeros(code, n):
    """An ``array(code)`` of n zeros, without a temporary buffer of n items
    where the runtime allows it (MicroPython sizes the array from
    ``len(range(n))`` and fills it in place; its 'b' arrays wrap the values)."""
    try:
        a = array(code, range(n))
    except OverflowError:  # portable: overflow -- CPython's array('b') refuses 128, no exp here
        return array(code, bytes(n))
    for i in range(n):
        a[i] = 0
    return a


def _half_decoder():
    """A function that decodes float16 values from a buffer: struct's 'e'
    where the runtime has it, else a decoder by hand (IEEE 754 binary16)."""
    try:
        struct.calcsize("<e")
        return lambda buf, n: struct.unpack_from("<%de" % n, buf, 0)
    except (ValueError, struct.error):
        return _halves_by_hand


def _halves_by_hand(buf, n):
    """n float16 values from the bytes of ``buf``: sign, 5 exponent bits
    (bias 15), 10 fraction bits; exponent 0 is subnormal, 31 inf/nan.

    >>> _halves_by_hand(b"\\x00\\x3e\\x01\\x00\\x00\\xfc\\xff\\x7b", 4)
    (1.5, 5.960464477539063e-08, -inf, 65504.0)
    """
    out = []
    for k in range(n):
        h = buf[2 * k] | (buf[2 * k + 1] << 8)
        sign = -1.0 if h & 0x8000 else 1.0
        e, m = (h >> 10) & 0x1F, h & 0x3FF
        if e == 0:
            out.append(sign * math.ldexp(m, -24))
        elif e == 31:
            out.append(sign * float("inf") if m == 0 else float("nan"))
        else:
            out.append(sign * math.ldexp(m + 1024, e - 25))
    return tuple(out)


# ---------------------------------------------------------- quantization

def int8_scales(W, per="column"):
    """The scale factors of W (D rows of M numbers) stored as int8: ``max |W|
    / 127`` over each column (``per="column"``: one per output neuron, M
    factors) or over the whole layer (``per="layer"``: one), rounded to
    float32 as the file stores them.  A column of zeros (or of numbers below
    1.5e-36, whose scale would be no normal float32) gets 1.0: its weights
    are stored as 0.

    >>> int8_scales([[0.5, -2.54], [-1.27, 1.0]])
    [0.009999999776482582, 0.019999999552965164]
    >>> int8_scales([[0.5, -2.54], [-1.27, 1.0]], per="layer")
    [0.019999999552965164]
    """
    if per == "column":
        tops = [max(abs(row[j]) for row in W) for j in range(len(W[0]))]
    elif per == "layer":
        tops = [max(max(abs(v) for v in row) for row in W)]
    else:
        raise ValueError("int8_scales: per must be 'column' or 'layer', got %r" % (per,))
    scales = [_f32(top / _INT8_MAX) for top in tops]
    # a scale below float32's smallest normal number would lose its digits (or be 0):
    # weights that small (below 1.5e-36) count as zeros
    return [s if s >= _FLOAT32_TINY else 1.0 for s in scales]


def quantize(w, scale):
    """The int8 that stands for the weight w: ``round(w / scale)``, kept within
    -127..127.

    >>> quantize(0.5, 0.01), quantize(-2.54, 0.02), quantize(9.0, 0.02)
    (50, -127, 127)
    """
    q = int(round(w / scale))
    return -_INT8_MAX if q < -_INT8_MAX else (_INT8_MAX if q > _INT8_MAX else q)


# ---------------------------------------------------------------- writing

def _rows(value, what):
    rows = value.tolist() if hasattr(value, "tolist") else [list(r) for r in value]
    if not rows or not rows[0] or any(len(r) != len(rows[0]) for r in rows):
        raise ValueError("encode: %s must be a non-empty rectangle of numbers" % what)
    return rows


def _vector(value, what):
    if hasattr(value, "tolist"):
        value = value.tolist()
    value = list(value)
    if len(value) == 1 and isinstance(value[0], (list, tuple)):
        value = list(value[0])      # a (1, M) row
    return value


def _check_range(values, limit, dtype, what):
    for v in values:
        if not _finite(v) or abs(v) > limit:
            raise ValueError("encode: %s holds %r, outside %s's range (+-%r)"
                             % (what, v, dtype, limit))


def encode(layers, dtype="int8", input_scale=1.0, per="column"):
    """The bytes of a compact file for ``layers``, a list of ``(W, b,
    activation)``: W has D rows of M numbers (a ``Matrix`` or lists), b M
    numbers (a (1, M) ``Matrix`` or a list), activation a name from
    ``ACTIVATIONS``.  ``dtype`` is how W is stored: "float32", "float16" or
    "int8" (with ``int8_scales(W, per)``).  ``input_scale`` multiplies every
    input (the network then takes raw values, e.g. pixels 0..255).

    A weight that the dtype cannot hold (beyond float16's 65504, say), a
    non-finite number or layers whose shapes do not chain is a ValueError.
    """
    if dtype not in DTYPES:
        raise ValueError("encode: dtype must be one of %s, got %r" % (", ".join(DTYPES), dtype))
    if not 1 <= len(layers) <= MAX_LAYERS:
        raise ValueError("encode: 1 to %d layers, got %d" % (MAX_LAYERS, len(layers)))
    if not (_finite(input_scale) and 0 < input_scale <= _FLOAT32_MAX):
        raise ValueError("encode: input_scale must be a finite number > 0, got %r"
                         % (input_scale,))
    parts = []
    previous = None
    for number, (W, b, activation) in enumerate(layers, 1):
        what = "layer %d" % number
        W, b = _rows(W, what + " W"), _vector(b, what + " b")
        D, M = len(W), len(W[0])
        if previous is not None and previous != D:
            raise ValueError("encode: layer %d has %d inputs but layer %d has %d outputs"
                             % (number, D, number - 1, previous))
        if len(b) != M:
            raise ValueError("encode: layer %d: %d biases for %d columns of W" % (number, len(b), M))
        if activation not in ACTIVATIONS:
            raise ValueError("encode: layer %d: activation %r; known: %s"
                             % (number, activation, ", ".join(ACTIVATIONS)))
        if activation == "softmax" and number != len(layers):
            raise ValueError("encode: layer %d: softmax only ends a network" % number)
        previous = M
        _check_range(b, _FLOAT32_MAX, "float32", what + " b")
        for row in W:
            _check_range(row, _FLOAT16_MAX if dtype == "float16" else _FLOAT32_MAX,
                         "float16" if dtype == "float16" else "float32", what + " W")
        scales = int8_scales(W, per) if dtype == "int8" else []
        payload = [struct.pack("<%df" % len(scales), *scales)]
        for row in W:
            if dtype == "float32":
                payload.append(struct.pack("<%df" % M, *row))
            elif dtype == "float16":
                payload.append(struct.pack("<%de" % M, *row))
            elif len(scales) == 1:
                payload.append(struct.pack("<%db" % M, *[quantize(w, scales[0]) for w in row]))
            else:
                payload.append(struct.pack("<%db" % M, *[quantize(w, s)
                                                         for w, s in zip(row, scales)]))
        payload.append(struct.pack("<%df" % M, *b))
        payload = b"".join(payload)
        head = struct.pack("<IIIB3xI", D, M, len(scales), ACTIVATIONS.index(activation),
                           len(payload))
        parts.append(head + struct.pack("<I", crc32(payload, crc32(head))) + payload)
    body = b"".join(parts)
    head = struct.pack("<4sBBBxIfI", MAGIC, VERSION, DTYPES.index(dtype) + 1, len(layers),
                       24 + len(body), input_scale, 0)
    return head + struct.pack("<I", crc32(head)) + body


# ---------------------------------------------------------------- reading

class _Reader:
    """Reads a stream exactly, counting the bytes, with errors that name the file."""

    def __init__(self, stream, name):
        self.stream, self.name, self.offset = stream, name, 0

    def error(self, text):
        return DataError("%s: %s" % (self.name, text))

    def read(self, n, what):
        data = self.stream.read(n)
        if data is None or len(data) != n:
            raise self.error("truncated: %s needs %d bytes at offset %d, only %d are left"
                             % (what, n, self.offset, len(data or b"")))
        self.offset += n
        return data

    def fill(self, buf, nbytes, what):
        """Read ``nbytes`` straight into ``buf`` (a bytearray or an array)."""
        view = memoryview(buf)
        itemsize = 1
        if hasattr(view, "cast"):
            view = view.cast("B")         # CPython: count in bytes
        elif nbytes:
            itemsize = nbytes // len(view)  # MicroPython: a memoryview counts items
        got = 0
        while got < nbytes:
            n = self.stream.readinto(view[got // itemsize:]) if got % itemsize == 0 else 0
            if not n:
                raise self.error("truncated: %s needs %d bytes at offset %d, only %d are left"
                                 % (what, nbytes, self.offset, got))
            got += n
        self.offset += nbytes
        if not _LITTLE and hasattr(buf, "byteswap"):
            buf.byteswap()  # the file is little-endian, this machine is not

    def end(self, length):
        if self.stream.read(1):
            raise self.error("%d bytes of layers as the header says, then more: not one "
                             "compact file" % length)


def _stream_size(stream):
    """The size of a seekable stream, or None (then the checks come as it is read)."""
    try:
        here = stream.tell()
        size = stream.seek(0, 2)
        stream.seek(here)
        return size - here
    except (AttributeError, OSError, ValueError):
        return None


def _open(source, limit, what):
    """(stream, name, close) for a path or an open binary stream; on a full
    purenn a path is read with ``purenn.files.read_limited`` (a regular file,
    at most ``limit`` bytes)."""
    if not isinstance(source, str):
        return source, "<stream>", False
    try:
        from purenn.files import read_limited
        import io
    except ImportError:  # a board: stream from the file
        return open(source, "rb"), source, True
    return io.BytesIO(read_limited(source, limit, what)), source, False


class CompactLayer:
    """One layer as a compact file holds it: ``out = h(x @ W * factors + b)``.

    ``weights``: W (D, M) row by row, an ``array('f')`` (float32, float16) or
    ``array('b')`` (int8); ``factors``: an ``array('f')`` of M numbers that
    multiply each column's sum (the int8 scales, times the input scale on the
    first layer), or None; ``biases``, ``out``: ``array('f')`` of M.
    """

    def __init__(self, rows, cols, activation, weights, factors, biases, scales):
        self.rows, self.cols, self.activation = rows, cols, activation
        self.weights, self.factors, self.biases = weights, factors, biases
        self.scales = scales      # as stored: an array('f') of 0, 1 or M floats
        self.out = _zeros("f", cols)

    def forward(self, x):
        """``self.out = h(x @ W * factors + b)`` for one sample x of D numbers."""
        out, W, M = self.out, self.weights, self.cols
        for j in range(M):
            out[j] = 0.0
        k = 0
        for i in range(self.rows):
            xi = x[i]
            if xi:                          # most pixels are 0: skip their row
                for j in range(M):
                    out[j] += xi * W[k + j]
            k += M
        b, f = self.biases, self.factors
        if f is None:
            for j in range(M):
                out[j] += b[j]
        else:
            for j in range(M):
                out[j] = out[j] * f[j] + b[j]
        _ACTIVATE[self.activation](out, M)
        return out


def _relu(out, M):
    for j in range(M):
        if out[j] < 0.0:
            out[j] = 0.0


def _sigmoid(out, M):
    # exp(-a) overflows float32 at a < -88.7 (float64: -709.8): this form calls
    # exp on a value <= 0 only, which never overflows in any float width
    exp = math.exp
    for j in range(M):
        a = out[j]
        if a >= 0.0:
            out[j] = 1.0 / (1.0 + exp(-a))
        else:
            e = exp(a)
            out[j] = e / (1.0 + e)


def _tanh(out, M):
    for j in range(M):
        out[j] = math.tanh(out[j])


def _softmax(out, M):
    top = out[0]
    for j in range(M):
        if out[j] > top:
            top = out[j]
    total = 0.0
    for j in range(M):
        out[j] = math.exp(out[j] - top)     # exp of a value <= 0: no overflow
        total += out[j]
    for j in range(M):
        out[j] = out[j] / total


def _identity(out, M):
    pass


_ACTIVATE = {"identity": _identity, "relu": _relu, "sigmoid": _sigmoid, "tanh": _tanh,
             "softmax": _softmax}


class CompactNetwork:
    """A network read from a compact file (``load``): ``predict`` and
    ``classify`` one sample at a time, a list of ``CompactLayer``.

    ``dtype``, ``input_scale`` as stored; ``size``: the file's length;
    ``nbytes``: the bytes its arrays hold.
    """

    def __init__(self, layers, dtype, input_scale, size):
        self.layers, self.dtype, self.input_scale, self.size = layers, dtype, input_scale, size
        self.sizes = [layers[0].rows] + [layer.cols for layer in layers]

    def __repr__(self):
        return "CompactNetwork(%s %s, %d bytes)" % ("-".join("%d" % s for s in self.sizes),
                                                    self.dtype, self.size)

    @property
    def nbytes(self):
        total = 0
        for layer in self.layers:
            total += len(layer.weights) * (1 if self.dtype == "int8" else 4)
            for a in (layer.factors, layer.biases, layer.out, layer.scales):
                total += 4 * len(a) if a is not None else 0
        return total

    def predict(self, x, probe=None):
        """The output scores (after the last activation) of one sample x of D
        raw values (a ``bytes`` of pixels, a list, an array), as the last
        layer's ``array('f')``: the next call overwrites it.  ``probe``, if
        given, is called after each layer (to measure the heap)."""
        if len(x) != self.sizes[0]:
            raise ValueError("CompactNetwork.predict: a sample of %d values for a network "
                             "with %d inputs" % (len(x), self.sizes[0]))
        for layer in self.layers:
            x = layer.forward(x)
            if probe is not None:
                probe()
        return x

    def classify(self, x, probe=None):
        """The index of the highest score (the first of equal ones; -1 when a
        score is nan: no prediction)."""
        scores = self.predict(x, probe)
        best = 0
        for j in range(len(scores)):
            if scores[j] != scores[j]:
                return -1
            if scores[j] > scores[best]:
                best = j
        return best


def load(source, limit=MAX_BYTES, probe=None):
    """A ``CompactNetwork`` from a compact file: a path or an open binary
    stream (with ``read`` and ``readinto``), read layer by layer into arrays.

    Every part is checked as it comes: the magic, the version, the header's
    CRC-32, shapes that chain, lengths, each layer's CRC-32, finite numbers,
    and that the file ends where its header says.  Anything wrong is a
    ``DataError`` naming the file and the problem; a network too large for
    the heap is a ``MemoryError`` that says which layer did not fit.
    ``probe`` (a function) is called after each layer is read.
    """
    stream, name, close = _open(source, limit, "compact weights file")
    try:
        return _read_network(_Reader(stream, name), _stream_size(stream), limit, probe)
    finally:
        if close:
            stream.close()


def _read_network(r, size, limit, probe):
    head = r.read(24, "the header")
    if head[:4] != MAGIC:
        raise r.error("not a purenn compact weights file (it starts with %r, not %r)"
                      % (bytes(head[:4]), MAGIC))
    magic, version, dtype_code, count, _, length, input_scale, _ = struct.unpack(
        "<4sBBBBIfI", head[:20])
    if version != VERSION:
        raise r.error("compact format version %d; this purenn reads version %d"
                      % (version, VERSION))
    if struct.unpack("<I", head[20:24])[0] != crc32(head[:20]):
        raise r.error("the header's checksum does not match: the file is corrupt")
    if not 1 <= dtype_code <= len(DTYPES) or not 1 <= count <= MAX_LAYERS:
        raise r.error("dtype code %d or %d layers: not a valid header" % (dtype_code, count))
    if not (_finite(input_scale) and input_scale > 0):
        raise r.error("input scale %r: must be a finite number > 0" % input_scale)
    if length > limit:
        raise r.error("%d bytes, more than the %d a compact weights file may have"
                      % (length, limit))
    if size is not None and size != length:
        raise r.error("truncated: the header says %d bytes, the file has %d" % (length, size)
                      if size < length else
                      "%d bytes, but the header says %d: not one compact file" % (size, length))
    dtype = DTYPES[dtype_code - 1]
    layers = []
    for number in range(1, count + 1):
        layers.append(_read_layer(r, number, dtype, layers[-1].cols if layers else None,
                                  input_scale if number == 1 else 1.0, length))
        if probe is not None:
            probe()
    r.end(length)
    if layers[-1].activation != "softmax" and any(l.activation == "softmax" for l in layers):
        raise r.error("softmax only ends a network")
    return CompactNetwork(layers, dtype, input_scale, length)


def _read_layer(r, number, dtype, inputs, input_scale, length):
    what = "layer %d" % number
    head = r.read(24, what + "'s header")
    D, M, S, act, payload_length, stored_crc = struct.unpack("<IIIB3xII", head)
    crc = crc32(head[:20])
    if D < 1 or M < 1 or act >= len(ACTIVATIONS):
        raise r.error("%s: %d x %d, activation code %d: not a valid layer" % (what, D, M, act))
    if inputs is not None and D != inputs:
        raise r.error("%s has %d inputs but layer %d has %d outputs"
                      % (what, D, number - 1, inputs))
    if (S != 0) if dtype != "int8" else (S != 1 and S != M):
        raise r.error("%s: %d scale factors for %s weights of %d columns; %s"
                      % (what, S, dtype, M, "none" if dtype != "int8" else "1 or %d" % M))
    itemsize = _ITEMSIZE[dtype]
    if payload_length != 4 * S + D * M * itemsize + 4 * M:
        raise r.error("%s: a payload of %d bytes; %d x %d %s weights need %d"
                      % (what, payload_length, D, M, dtype, 4 * S + D * M * itemsize + 4 * M))
    if r.offset + payload_length > length:
        raise r.error("%s ends at byte %d, after the end the header says (%d)"
                      % (what, r.offset + payload_length, length))
    try:
        scales = _zeros("f", S)
        weights = _zeros("b" if dtype == "int8" else "f", D * M)
        biases = _zeros("f", M)
    except MemoryError:
        raise MemoryError("%s: %s (%d x %d %s) does not fit in the heap"
                          % (r.name, what, D, M, dtype))
    r.fill(scales, 4 * S, what + "'s scales")
    crc = crc32(scales, crc)
    if dtype == "float16":
        crc = _read_halves(r, weights, D, M, crc, what)
    else:
        r.fill(weights, D * M * itemsize, what + "'s weights")
        crc = crc32(weights, crc)
    r.fill(biases, 4 * M, what + "'s biases")
    crc = crc32(biases, crc)
    if crc != stored_crc:
        raise r.error("%s's checksum does not match (stored %08x, computed %08x): the file "
                      "is corrupt" % (what, stored_crc, crc))
    for values, part in ((scales, "scale"), (biases, "bias")):
        for v in values:
            if not _finite(v) or part == "scale" and v <= 0:
                raise r.error("%s: a %s of %r" % (what, part, v))
    if dtype != "int8":
        for v in weights:
            if not _finite(v):
                raise r.error("%s: a weight of %r" % (what, v))
    factors = None
    if S or input_scale != 1.0:
        factors = _zeros("f", M)
        for j in range(M):
            factors[j] = (scales[j] if S == M else (scales[0] if S else 1.0)) * input_scale
    return CompactLayer(D, M, ACTIVATIONS[act], weights, factors, biases, scales)


_decode_halves = _half_decoder()


def _read_halves(r, weights, D, M, crc, what):
    """float16 weights, read one row of W at a time into float32 ``weights``."""
    row = bytearray(2 * M)
    k = 0
    for i in range(D):
        r.fill(row, 2 * M, what + "'s weights")
        crc = crc32(row, crc)
        j = k
        for v in _decode_halves(row, M):
            weights[j] = v
            j += 1
        k += M
    return crc


# ---------------------------------------------------------------- samples

def encode_samples(samples):
    """The bytes of a samples file: ``samples`` is a list of ``(label,
    values)`` with labels 0..255 and the same number of values 0..255 in
    each (raw pixels).  Format: ``b"PNNS"``, version (B), 3 reserved bytes,
    count (I), values per sample (I), CRC-32 of the records (I); then each
    record: the label byte and the value bytes.

    >>> data = encode_samples([(7, [0, 255, 3]), (2, [1, 2, 3])])
    >>> import io
    >>> [(label, list(values)) for label, values in read_samples(io.BytesIO(data))]
    [(7, [0, 255, 3]), (2, [1, 2, 3])]
    """
    if not samples:
        raise ValueError("encode_samples: no samples")
    size = len(samples[0][1])
    records = []
    for number, (label, values) in enumerate(samples, 1):
        if len(values) != size or size < 1:
            raise ValueError("encode_samples: sample %d has %d values, the first %d"
                             % (number, len(values), size))
        try:
            records.append(bytes([label]) + bytes(values))
        except (ValueError, TypeError):
            raise ValueError("encode_samples: sample %d: the label and the values must be "
                             "ints 0..255" % number)
    body = b"".join(records)
    return struct.pack("<4sB3xIII", SAMPLES_MAGIC, VERSION, len(samples), size,
                       crc32(body)) + body


def read_samples(source, limit=MAX_BYTES):
    """``(label, values)`` for each sample of a samples file (a path or a
    stream), one at a time: ``values`` is one ``bytearray`` reused for every
    sample.  A bad header, a short file, extra bytes or a wrong CRC-32 (found
    after the last sample) is a ``DataError``."""
    stream, name, close = _open(source, limit, "samples file")
    try:
        r = _Reader(stream, name)
        head = r.read(20, "the header")
        magic, version, count, size, stored_crc = struct.unpack("<4sB3xIII", head)
        if magic != SAMPLES_MAGIC:
            raise r.error("not a purenn samples file (it starts with %r, not %r)"
                          % (bytes(magic), SAMPLES_MAGIC))
        if version != VERSION or count < 1 or size < 1:
            raise r.error("version %d, %d samples of %d values: not a valid header"
                          % (version, count, size))
        record = bytearray(1 + size)
        values = memoryview(record)[1:]     # no new buffer per sample
        crc = 0
        for number in range(1, count + 1):
            r.fill(record, 1 + size, "sample %d" % number)
            crc = crc32(record, crc)
            yield record[0], values
        r.end(count * (1 + size))
        if crc != stored_crc:
            raise r.error("the samples' checksum does not match (stored %08x, computed "
                          "%08x): the file is corrupt" % (stored_crc, crc))
    finally:
        if close:
            stream.close()
