"""Reduced precision, measured: a trained network at float64, float32, float16
and int8 (chapter 8.3.4, "bit precision"; the book's ``half_float_network.py``).

==========================================  =====================================
``dense_layers(net)``                       a fully connected network as a list of
                                            ``(W, b, activation)`` (Matrix, Matrix,
                                            name), batch normalization folded in
``fold_batchnorm(W, b, bn)``                ``W * k`` and ``(b - mean) * k + beta``
                                            with ``k = gamma / sqrt(var + eps)``
``int8_scales(W, per)``, ``quantize(w, s)``  int8: ``s = max |W| / 127`` per
                                            column or per layer, ``q = round(w/s)``
``encode(layers, precision, input_scale)``  the bytes of a compact file
                                            (``purenn.compact`` reads them)
``at_precision(layers, precision, ...)``    the layers as a compact file of that
                                            precision stores them, read back as
                                            float64 matrices: the weights a board
                                            runs, exactly
``DenseModel(layers, input_scale)``         a network to measure and to export:
                                            ``classes_at(precision, x)``
``ParamsModel(net, per)``                   any network with ``params`` (a dict of
                                            Matrix) and ``predict(x)``, e.g. a
                                            convnet: each weight rounded in place
``PRECISIONS``                              "float64", "float32", "float16",
                                            "int8" (one scale per output neuron),
                                            "int8-layer" (one scale per layer)
``NETWORKS``, ``register(key, name, ...)``  the networks of ``python -m purenn
                                            precision``
``precision_table(keys, precisions, ...)``  their test accuracy at each precision
``error_bound(layers, stored, x, ...)``     how far the scores of the stored
                                            weights can be from float64's
==========================================  =====================================

What a precision keeps (IEEE 754; u is the unit roundoff, half the gap between
1 and the next float):

=========  =====  =========  ===============  ==============================
precision  bytes  u          largest          smallest normal (subnormals below)
=========  =====  =========  ===============  ==============================
float64    8      1.1e-16    1.8e308          2.2e-308
float32    4      6.0e-8     3.4e38           1.2e-38
float16    2      4.9e-4     65504            6.1e-5 (subnormal down to 6e-8)
int8       1      --         127 scales       --  (q * scale, q in -127..127:
                                              error at most scale / 2)
=========  =====  =========  ===============  ==============================

A trained network's weights are small numbers (|w| < 3 here) whose exact
digits do not matter: float32 changes no prediction, float16 a handful, int8
(with a scale per output neuron) a few dozen of 10,000 (see
``docs/microcontroller.md`` for the measured table).

>>> from purenn.network import init_network
>>> p = init_network()
>>> layers = [(p["W1"], p["b1"], "sigmoid"), (p["W2"], p["b2"], "sigmoid"),
...           (p["W3"], p["b3"], "identity")]
>>> [round(v, 12) for v in at_precision(layers, "float16")[0][0].tolist()[0]]
[0.099975585938, 0.300048828125, 0.5]
>>> at_precision(layers, "int8")[0][0].tolist()[0]     # q * (max |column| / 127)
[0.10078740119934082, 0.29921259731054306, 0.5007873997092247]
"""
import io
import math
import struct

from purenn import activations, compact
from purenn.errors import ShapeError
from purenn.matrix import Matrix
from purenn.network import Layer, Network

PRECISIONS = ("float64", "float32", "float16", "int8", "int8-layer")

_FLOAT32_MAX = 3.4028234663852886e38
_FLOAT32_TINY = 1.1754943508222875e-38   # the smallest normal float32
_FLOAT16_MAX = 65504.0   # 65520 and above round to infinity
_INT8_MAX = 127          # symmetric: -127 .. 127 (-128 is never written)

# precision -> (dtype of the compact file, how int8 scales are shared)
_STORAGE = {"float32": ("float32", "column"), "float16": ("float16", "column"),
            "int8": ("int8", "column"), "int8-layer": ("int8", "layer")}

# the activations a compact file knows, as purenn.activations names them
_NAMES = {"identity": "identity_function", "relu": "relu", "sigmoid": "sigmoid",
          "tanh": "tanh", "softmax": "softmax"}


def _f32(x):
    """x rounded to the nearest float32 (what an ``array('f')`` stores)."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def _finite(x):
    return x - x == 0.0   # inf - inf and nan - nan are nan


def _check_precision(precision, what):
    if precision not in PRECISIONS:
        raise ValueError("%s: precision must be one of %s, got %r"
                         % (what, ", ".join(PRECISIONS), precision))


# ------------------------------------------------- a network as dense layers

def fold_batchnorm(W, b, bn):
    """Fold a test-mode ``BatchNormalization`` into the Affine before it::

        gamma * (x W + b - mean) / sqrt(var + eps) + beta  =  x (W k) + (b - mean) k + beta
        with k = gamma / sqrt(var + eps)         (1, M), one factor per column

    ``W`` (D, M), ``b`` (1, M); ``bn`` a ``purenn.layers.BatchNormalization``
    with its running averages; its own ``EPS``.  Returns ``(W k, b')``.
    """
    gamma, beta = bn.params[bn.gamma_key], bn.params[bn.beta_key]
    if bn.running_mean is None:
        raise ValueError("fold_batchnorm: the BatchNormalization has no running averages "
                         "(it never saw a training batch)")
    k = gamma / (bn.running_var + bn.EPS) ** 0.5
    return W * k, (b - bn.running_mean) * k + beta


def dense_layers(net):
    """``[(W, b, activation name), ...]`` for a fully connected network:

    - a ``purenn.network.Network`` (its layers' W, b and activation);
    - a ``MultiLayerNet`` (or what ``purenn.recognize.load_network`` returns
      for one): Affine, then BatchNormalization folded into it
      (``fold_batchnorm``), the activation; Dropout at test time multiplies
      by ``1 - ratio``, which is folded into the next W; the last Affine's
      activation is "identity" (``predict`` gives the scores before softmax).

    The result computes what ``net.predict`` computes, to float64 rounding.
    """
    from purenn.layers import Affine, BatchNormalization, Dropout, Relu, Sigmoid, Tanh
    net = getattr(net, "net", net)   # recognize's wrapper of a MultiLayerNet
    if isinstance(net, Network):
        names = dict((f, name) for name, f in activations.ACTIVATIONS.items())
        out = []
        for i, layer in enumerate(net.layers, 1):
            name = names.get(layer.activation)
            short = [k for k, v in _NAMES.items() if v == name]
            if not short:
                raise ValueError("dense_layers: layer %d's activation %s cannot be exported; "
                                 "known: %s" % (i, getattr(layer.activation, "__name__", "?"),
                                                ", ".join(sorted(_NAMES))))
            out.append((layer.W, layer.b, short[0]))
        return out
    kinds = {Relu: "relu", Sigmoid: "sigmoid", Tanh: "tanh"}
    out, keep = [], 1.0
    layers = getattr(net, "layers", None) or []
    if hasattr(layers, "values"):   # the book's OrderedDict of layers, name -> layer
        layers = list(layers.values())
    for layer in layers:
        if isinstance(layer, Affine):
            W = layer.params[layer.w_key]
            out.append([W * keep if keep != 1.0 else W, layer.params[layer.b_key], "identity"])
            keep = 1.0
        elif isinstance(layer, BatchNormalization):
            out[-1][0], out[-1][1] = fold_batchnorm(out[-1][0], out[-1][1], layer)
        elif type(layer) in kinds:
            out[-1][2] = kinds[type(layer)]
        elif isinstance(layer, Dropout):
            # the book names it dropout_ratio
            keep *= 1.0 - getattr(layer, "dropout_ratio", getattr(layer, "ratio", None))
        else:
            raise ValueError("dense_layers: a %s layer cannot be exported"
                             % type(layer).__name__)
    if not out:
        raise TypeError("dense_layers: give a purenn Network or MultiLayerNet, got %s"
                        % type(net).__name__)
    return [tuple(layer) for layer in out]


def to_network(layers):
    """The ``purenn.network.Network`` of dense layers (float64 inference)."""
    return Network([Layer(W, b, activations.ACTIVATIONS[_NAMES[name]])
                    for W, b, name in layers])


# --------------------------------------------------------- precisions

# ------------------------------------------ int8 and the compact file

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


def encode(layers, precision="int8", input_scale=1.0):
    """The bytes of a compact file (``purenn.compact``) for ``layers``, a list
    of ``(W, b, activation)``: W has D rows of M numbers (a ``Matrix`` or
    lists), b M numbers (a (1, M) ``Matrix`` or a list), activation a name
    from ``compact.ACTIVATIONS``.  ``precision`` is how W is stored:
    "float32", "float16", "int8" (``int8_scales(W, "column")``) or
    "int8-layer" (``int8_scales(W, "layer")``).  ``input_scale`` multiplies
    every input (the network then takes raw values, e.g. pixels 0..255).

    A weight that the precision cannot hold (beyond float16's 65504, say), a
    non-finite number or layers whose shapes do not chain is a ValueError.
    """
    _check_precision(precision, "encode")
    if precision == "float64":
        raise ValueError("encode: a compact file stores float32, float16 or int8 weights")
    dtype, per = _STORAGE[precision]
    if not 1 <= len(layers) <= compact.MAX_LAYERS:
        raise ValueError("encode: 1 to %d layers, got %d" % (compact.MAX_LAYERS, len(layers)))
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
        if activation not in compact.ACTIVATIONS:
            raise ValueError("encode: layer %d: activation %r; known: %s"
                             % (number, activation, ", ".join(compact.ACTIVATIONS)))
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
        head = struct.pack("<IIIB3xI", D, M, len(scales), compact.ACTIVATIONS.index(activation),
                           len(payload))
        parts.append(head + struct.pack("<I", compact.crc32(payload, compact.crc32(head))) + payload)
    body = b"".join(parts)
    head = struct.pack("<4sBBBxIfI", compact.MAGIC, compact.VERSION, compact.DTYPES.index(dtype) + 1, len(layers),
                       24 + len(body), input_scale, 0)
    return head + struct.pack("<I", compact.crc32(head)) + body


def stored_layers(net):
    """The weights a ``CompactNetwork`` holds, as float64 matrices ``[(W, b,
    activation)]``: int8 as ``q * scale`` (the input scale is not in them)."""
    out = []
    for layer in net.layers:
        D, M, s = layer.rows, layer.cols, layer.scales
        w = [v for block in layer.blocks for v in block]
        scale = [s[j] if len(s) == M else (s[0] if len(s) else 1.0) for j in range(M)]
        rows = [[w[i * M + j] * scale[j] for j in range(M)] for i in range(D)]
        out.append((Matrix(rows), Matrix([list(layer.biases)]), layer.activation))
    return out


def at_precision(layers, precision, input_scale=1.0):
    """``layers`` as a compact file of ``precision`` stores them, read back as
    float64 matrices (``stored_layers``): the values a board computes with.
    "float64" returns ``layers`` as they are."""
    _check_precision(precision, "at_precision")
    if precision == "float64":
        return list(layers)
    return stored_layers(compact.load(io.BytesIO(encode(layers, precision, input_scale))))


def classes(scores):
    """The predicted class of each row of scores (a Matrix): the index of its
    highest score, or -1 when the row holds a nan (no prediction)."""
    return [-1 if any(v != v for v in row) else p
            for p, row in zip(scores.argmax(axis=1), scores.tolist())]


class DenseModel:
    """A fully connected network to measure and to export: its dense layers
    (``dense_layers``) and the scale of its raw inputs (1/255 for MNIST
    pixels, 1/16 for optdigits).

    ``classes_at(precision, x)`` runs ``at_precision``'s weights in float64
    (purenn's Matrix, batches of 100) and gives the predicted classes;
    ``file_size(precision)`` is the size of the compact file.
    """

    def __init__(self, layers, input_scale=1.0):
        self.layers, self.input_scale = list(layers), input_scale

    @classmethod
    def from_network(cls, net, input_scale=1.0):
        return cls(dense_layers(net), input_scale)

    def classes_at(self, precision, x, batch_size=100):
        net = to_network(at_precision(self.layers, precision, self.input_scale))
        out = []
        for start in range(0, x.shape[0], batch_size):
            out += classes(net.predict(x[start:start + batch_size]))
        return out

    def file_size(self, precision):
        return None if precision == "float64" else len(encode(self.layers, precision,
                                                               self.input_scale))


def round_value(v, precision):
    """One number rounded to float32 or float16 (through ``struct``, as the
    book's ``astype``); float64 unchanged.

    >>> round_value(0.1, "float32"), round_value(0.1, "float16")
    (0.10000000149011612, 0.0999755859375)
    """
    if precision == "float64":
        return v
    code = {"float32": "<f", "float16": "<e"}[precision]
    return struct.unpack(code, struct.pack(code, v))[0]


def rounded_matrix(m, precision, per="column"):
    """A Matrix with every element as ``precision`` stores it: float32 or
    float16 (``round_value``), or int8 ``q * scale`` with one scale per
    column, per row or for the whole matrix (``per``: "column", "row",
    "layer"; "int8-layer" is int8 with ``per="layer"``)."""
    _check_precision(precision, "rounded_matrix")
    rows = m.tolist()
    if precision in ("float64", "float32", "float16"):
        return Matrix([[round_value(v, precision) for v in row] for row in rows])
    if precision == "int8-layer":
        per = "layer"
    if per == "row":
        return rounded_matrix(Matrix(rows).T, "int8", "column").T
    scales = int8_scales(rows, per)
    if len(scales) == 1:
        scales = scales * len(rows[0])
    return Matrix([[quantize(v, s) * s for v, s in zip(row, scales)] for row in rows])


class ParamsModel:
    """Any network with ``params`` (a dict name -> Matrix that its layers read
    at every forward pass) and ``predict(x)``, measured the way of the book's
    ``half_float_network.py``: every weight rounded in place, ``predict``,
    then the weights put back.

    ``per(name, matrix)`` says how a parameter is stored at int8: "column",
    "row" or "layer" (its scales), or None to keep it float32; at float16 and
    float32 every parameter with a ``per`` is rounded, the others stay float32.
    By default the weights ``W...`` of an Affine have a scale per column and
    everything else stays float32 (as ``export`` stores them).  A convnet's
    filters (FN, C*FH*FW as a Matrix) would take ``per="row"``: one scale
    per filter.
    """

    def __init__(self, net, per=None):
        self.net = net
        self.per = per or (lambda name, m: "column" if name.startswith("W") else None)

    def classes_at(self, precision, x, batch_size=100):
        _check_precision(precision, "ParamsModel.classes_at")
        params = self.net.params
        saved = dict(params)
        try:
            if precision != "float64":
                for name in sorted(saved):
                    per = self.per(name, saved[name])
                    target = precision if per is not None else "float32"
                    params[name] = rounded_matrix(saved[name], target, per or "column")
            out = []
            for start in range(0, len(x), batch_size):
                out += classes(self.net.predict(x[start:start + batch_size]))
            return out
        finally:
            params.update(saved)


# ---------------------------------------------------- the networks measured

class Entry:
    """A network of the precision table: ``key`` (a short name for the
    command line), ``name``, ``model()`` that builds something with
    ``classes_at(precision, x)`` (a ``DenseModel``, a ``ParamsModel``) and
    ``data()`` that gives its test set ``(x, t)``."""

    def __init__(self, key, name, model, data, note=""):
        self.key, self.name, self.model, self.data, self.note = key, name, model, data, note


NETWORKS = []


def register(key, name, model, data, note=""):
    """Add a network to the precision table (``python -m purenn precision``):
    ``model`` and ``data`` are functions of no arguments, called when the
    table is made (so that registering loads nothing).

    >>> [e.key for e in NETWORKS]
    ['optdigits', 'mnist-sigmoid', 'mnist-relu', 'mnist-convnet']
    """
    if any(e.key == key for e in NETWORKS):
        raise ValueError("register: a network %r is registered already" % key)
    NETWORKS.append(Entry(key, name, model, data, note))


def shipped_path(filename):
    """The path of a network file that ships in ``purenn/data/``."""
    import os
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", filename)


def shipped_model(filename, input_scale):
    """A function that loads the shipped network ``filename`` as a DenseModel."""
    def model():
        from purenn.recognize import load_network
        return DenseModel.from_network(load_network(shipped_path(filename))[0], input_scale)
    return model


def _mnist():
    from purenn.datasets import load_mnist
    return load_mnist(kind="test")


def _digits():
    from purenn.datasets import load_digits
    return load_digits(kind="test")


OPTDIGITS_NETWORK = "optdigits-64-100-10-relu-batchnorm.json.gz"
MNIST_INPUT_SCALE = 1.0 / 255.0
DIGITS_INPUT_SCALE = 1.0 / 16.0

register("optdigits", "optdigits 64-100-10 relu + batchnorm",
         shipped_model(OPTDIGITS_NETWORK, DIGITS_INPUT_SCALE), _digits,
         "1,797 optdigits test images")
register("mnist-sigmoid", "MNIST 784-50-100-10 sigmoid",
         shipped_model("mnist-784-50-100-10-sigmoid.json.gz", MNIST_INPUT_SCALE), _mnist,
         "10,000 MNIST test images")
register("mnist-relu", "MNIST 784-50-100-10 relu",
         shipped_model("mnist-784-50-100-10-relu.json.gz", MNIST_INPUT_SCALE), _mnist,
         "10,000 MNIST test images")


def _convnet():
    """Chapter 7's SimpleConvNet that purenn trained (purenn.convnet)."""
    from purenn.convnet import SHIPPED, load_network, precision_model
    return precision_model(load_network(SHIPPED))


register("mnist-convnet", "MNIST SimpleConvNet (chapter 7)", _convnet, _mnist,
         "10,000 MNIST test images; slow on CPython (--limit)")


class Measured:
    """One network of the table: ``accuracy``, ``changed`` (test samples
    whose predicted class differs from float64's) and ``size`` (bytes of
    the compact file, None for float64 or a model that has none), each a
    dict precision -> number; ``count``: the test samples."""

    def __init__(self, entry, count):
        self.entry, self.count = entry, count
        self.accuracy, self.changed, self.size = {}, {}, {}


def precision_table(keys=None, precisions=PRECISIONS, limit=None, progress=None):
    """A ``Measured`` for each registered network (``keys``: all by default)
    on its test set (the first ``limit`` samples).  ``progress(measured,
    precision)`` is called after each measurement."""
    chosen = NETWORKS if keys is None else [_entry(k) for k in keys]
    for p in precisions:
        _check_precision(p, "precision_table")
    rows = []
    data_cache = {}
    for entry in chosen:
        model = entry.model()
        if entry.data not in data_cache:
            data_cache.clear()       # one test set in memory at a time
            data_cache[entry.data] = entry.data()
        x, t = data_cache[entry.data]
        if limit is not None:
            x, t = x[:limit], t[:limit]
        row = Measured(entry, len(t))
        reference = model.classes_at("float64", x)
        for p in precisions:
            got = reference if p == "float64" else model.classes_at(p, x)
            row.accuracy[p] = sum(1 for c, label in zip(got, t) if c == label) / float(len(t))
            row.changed[p] = sum(1 for c, r in zip(got, reference) if c != r)
            row.size[p] = model.file_size(p) if hasattr(model, "file_size") else None
            if progress is not None:
                progress(row, p)
        rows.append(row)
    return rows


def _entry(key):
    for e in NETWORKS:
        if e.key == key:
            return e
    raise ValueError("precision_table: no network %r; registered: %s"
                     % (key, ", ".join(e.key for e in NETWORKS)))


# ------------------------------------------------------ how far off, at most

_U32 = 2.0 ** -24     # float32's unit roundoff
_ETA32 = 2.0 ** -149  # float32's smallest subnormal: what a rounding near 0 may lose


def _gamma(n):
    """gamma_n = n u / (1 - n u): the relative error bound of n float32
    operations in a row (Higham, Accuracy and Stability, 3.1)."""
    return n * _U32 / (1.0 - n * _U32)


def error_bound(layers, stored, x, input_scale=1.0, arithmetic="float32"):
    """A bound on ``|scores(stored) - scores(layers)|``, elementwise, for the
    raw inputs ``x`` (N, D): ``layers`` are the float64 weights, ``stored``
    those of a compact file (``stored_layers``), run by
    ``CompactNetwork.predict`` with float32 arithmetic (``"float32"``: its
    arrays round every value they store) or exactly (``"exact"``).

    Layer by layer, with z the float64 input, z' the stored network's and
    |z' - z| <= d::

        |a' - a| <= d |V| + |z| |V - W| + |b' - b| + gamma(n) (|z'| |V| + |b'|) + n eta

    (V the stored W; the last terms are the float32 rounding of n = D + 5
    operations: a sum of D products, the scale, the bias and the stores;
    ``eta`` = 2**-149 for results below float32's normal range), then through the
    activation: relu and tanh are 1-Lipschitz, sigmoid 1/4-Lipschitz (each
    plus a rounding of its value), and softmax moves each probability p by
    at most ``p (exp(2 max|a' - a|) - 1)``.
    """
    if arithmetic not in ("float32", "exact"):
        raise ValueError("error_bound: arithmetic must be 'float32' or 'exact'")
    z = Matrix(x) * input_scale
    d = Matrix.zeros(z.shape[0], z.shape[1])
    for (W, b, name), (V, c, stored_name) in zip(layers, stored):
        if W.shape != V.shape or name != stored_name:
            raise ShapeError("error_bound: layer %s %s and stored %s %s differ"
                             % (W.shape, name, V.shape, stored_name))
        a = z @ W + b
        zs = abs(z) + d                       # a bound on |z'|
        da = d @ abs(V) + abs(z) @ abs(V - W) + abs(c - b)
        if arithmetic == "float32":
            n = W.shape[0] + 5
            da = da + _gamma(n) * (zs @ abs(V) + abs(c)) + n * _ETA32
        z = activations.ACTIVATIONS[_NAMES[name]](a)
        u = _U32 + _ETA32 if arithmetic == "float32" else 0.0
        if name == "relu":
            d = da
        elif name == "sigmoid":
            d = da * 0.25 + u
        elif name == "tanh":
            d = da + u
        elif name == "identity":
            d = da
        else:  # softmax
            widest = da.max(axis=1)
            d = z * widest.map(lambda v: math.expm1(2 * v)) + 4 * u
    return d
