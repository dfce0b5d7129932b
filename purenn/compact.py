"""A trained network in a few kilobytes: the compact weights format, read
layer by layer, and the forward pass that a microcontroller runs (chapter
8.3.4, "bit precision").

================================  ============================================
``load(path_or_stream)``          ``-> CompactNetwork``, read layer by layer
                                  into arrays, every part checked
``CompactNetwork.predict(x)``     the output scores of one sample (an
                                  ``array('f')``, reused by the next call)
``CompactNetwork.classify(x)``    the index of the highest score
``read_samples(path_or_stream)``  ``-> (label, values)``, one sample at a time
``crc32(data, crc)``              the checksum of the format (zlib's CRC-32)
``DataError``                     a file that is not what it must be
================================  ============================================

This is the module a board runs: ``python -m purenn export`` copies it, as
it is, beside a ``main.py``.  So it runs unchanged on CPython, PyPy and
MicroPython (it is part of purenn's portable core) and imports only
``struct``, ``array`` and ``binascii`` (and ``purenn.errors``/
``purenn.files`` when they are there).  Files are written on a computer by
``purenn.precision.encode`` (the weights) and ``purenn.board.encode_samples``
(test samples), which a board never needs.

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

A file by hand: one layer, 1 input, 2 outputs, float32, relu::

>>> import io, struct
>>> W, b = struct.pack("<2f", 0.5, -1.0), struct.pack("<2f", 0.25, 0.0)
>>> layer = struct.pack("<IIIB3xI", 1, 2, 0, 1, len(W + b))   # 1 x 2, no scales, relu
>>> layer += struct.pack("<I", crc32(W + b, crc32(layer)))
>>> head = struct.pack("<4sBBBxIfI", b"PNNC", 1, 1, 1, 24 + len(layer + W + b), 1.0, 0)
>>> data = head + struct.pack("<I", crc32(head)) + layer + W + b
>>> net = load(io.BytesIO(data))
>>> net
CompactNetwork(1-2 float32, 64 bytes)
>>> list(net.predict([2.0]))        # relu(2 * [0.5, -1.0] + [0.25, 0.0])
[1.25, 0.0]
>>> load(io.BytesIO(data[:40]))
Traceback (most recent call last):
    ...
purenn.errors.DataError: <stream>: truncated: the header says 64 bytes, the file has 40
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
BLOCK_BYTES = 1024   # W is held in blocks of whole rows of at most this size (or one row)
_ITEMSIZE = {"float32": 4, "float16": 2, "int8": 1}
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

    >>> _halves_by_hand(bytes([0x00, 0x3e, 0x01, 0x00, 0x00, 0xfc, 0xff, 0x7b]), 4)
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


# ---------------------------------------------------------------- reading

class _Reader:
    """Reads a stream exactly, counting the bytes, with errors that name the file."""

    def __init__(self, stream, name):
        self.stream, self.name, self.offset = stream, name, 0

    def error(self, text):
        return DataError("%s: %s" % (self.name, text))

    def read(self, n, what):
        data = self.stream.read(n) or b""
        while len(data) < n:         # a short read: the end of the file, a pipe, a socket
            more = self.stream.read(n - len(data))
            if not more:
                raise self.error("truncated: %s needs %d bytes at offset %d, only %d are left"
                                 % (what, n, self.offset, len(data)))
            data += more
        self.offset += n
        return data

    def fill(self, buf, nbytes, what):
        """Read ``nbytes`` straight into ``buf`` (a bytearray or an array)."""
        # the whole buffer in one call (PyPy refuses a slice of a memoryview here)
        got = (self.stream.readinto(buf) or 0) if nbytes else 0
        while got < nbytes:          # a short read: the end of the file, a pipe, a socket
            more = self.stream.read(nbytes - got)
            if not more:
                raise self.error("truncated: %s needs %d bytes at offset %d, only %d are left"
                                 % (what, nbytes, self.offset, got))
            view = memoryview(buf)
            if not hasattr(view, "cast"):   # MicroPython reads a file whole or to its end
                raise self.error("%s: the stream gave %d of %d bytes at once; on MicroPython "
                                 "read a file" % (what, got, nbytes))
            view.cast("B")[got:got + len(more)] = more
            got += len(more)
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

    ``blocks``: W (D, M) row by row, cut into blocks of whole rows of at most
    ``BLOCK_BYTES`` each (a list of ``array('f')`` for float32 and float16,
    ``array('b')`` for int8): MicroPython's heap never moves an object, and
    once the code is compiled its bytecode is scattered over the heap, so a
    board with 60 KB free may have no 25 KB in one piece.  ``factors``: an
    ``array('f')`` of M numbers that multiply each column's sum (the int8
    scales, times the input scale on the first layer), or None; ``biases``,
    ``out``: ``array('f')`` of M; ``scales``: as stored (0, 1 or M floats).
    """

    def __init__(self, rows, cols, activation, blocks, factors, biases, scales):
        self.rows, self.cols, self.activation = rows, cols, activation
        self.blocks, self.factors, self.biases = blocks, factors, biases
        self.scales = scales
        self.out = _zeros("f", cols)

    def forward(self, x):
        """``self.out = h(x @ W * factors + b)`` for one sample x of D numbers:
        ``out[j] += x[i] * W[i][j]`` row by row of W."""
        out, M = self.out, self.cols
        for j in range(M):
            out[j] = 0.0
        i = 0
        for block in self.blocks:
            for k in range(0, len(block), M):    # row i of W is block[k:k + M]
                xi = x[i]
                i += 1
                if xi:                           # most pixels are 0: skip their row
                    for j in range(M):
                        out[j] += xi * block[k + j]
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
            for block in layer.blocks:
                total += len(block) * (1 if self.dtype == "int8" else 4)
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
    rows_per_block = max(1, BLOCK_BYTES // (M * (1 if dtype == "int8" else 4)))
    try:
        scales = _zeros("f", S)
        blocks = [_zeros("b" if dtype == "int8" else "f", M * min(rows_per_block, D - i))
                  for i in range(0, D, rows_per_block)]
        biases = _zeros("f", M)
    except MemoryError:
        raise MemoryError("%s: %s (%d x %d %s) does not fit in the heap"
                          % (r.name, what, D, M, dtype))
    r.fill(scales, 4 * S, what + "'s scales")
    crc = crc32(scales, crc)
    for block in blocks:
        if dtype == "float16":
            crc = _read_halves(r, block, M, crc, what)
        else:
            r.fill(block, len(block) * itemsize, what + "'s weights")
            crc = crc32(block, crc)
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
        for block in blocks:
            for v in block:
                if not _finite(v):
                    raise r.error("%s: a weight of %r" % (what, v))
    factors = None
    if S or input_scale != 1.0:
        factors = _zeros("f", M)
        for j in range(M):
            factors[j] = (scales[j] if S == M else (scales[0] if S else 1.0)) * input_scale
    return CompactLayer(D, M, ACTIVATIONS[act], blocks, factors, biases, scales)


_decode_halves = _half_decoder()


def _read_halves(r, block, M, crc, what):
    """float16 weights, read one row of W at a time into the float32 ``block``."""
    row = bytearray(2 * M)
    for k in range(0, len(block), M):
        r.fill(row, 2 * M, what + "'s weights")
        crc = crc32(row, crc)
        j = k
        for v in _decode_halves(row, M):
            block[j] = v
            j += 1
    return crc


# ---------------------------------------------------------------- samples

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
