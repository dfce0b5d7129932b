"""A folder that a MicroPython board runs as it is (``python -m purenn export``).

======================================  ======================================
``export(out_dir, model, precision,``   write the folder: the network at that
``samples, ...)``                       precision, test samples, the code
``samples_for(input_size, count)``     the first ``count`` test samples of
                                        MNIST (784 inputs) or optdigits (64)
``encode_samples(samples)``             the bytes of a samples file
``FILES``                               what the folder holds
======================================  ======================================

The folder::

    main.py       classifies the samples and prints the accuracy and the heap
                  (purenn/board_main.py)
    compact.py    the compact format's reader and the forward pass
                  (purenn/compact.py, as it is)
    network.bin   the network as a compact file (purenn.precision.encode)
    samples.bin   test samples: a label and the raw values (pixels) each
    export.txt    what was exported, by which command, and the accuracy that
                  float64 and the stored weights have on these samples

Copy it to a board and run it (``mpremote``, MicroPython's own tool:
``pip install mpremote``; ``:`` is the board's current folder, its root)::

    cd OUT_DIR
    mpremote cp main.py compact.py network.bin samples.bin : + run main.py

``run`` shows main.py's output here; on the board main.py also runs at every
reset (``mpremote rm :main.py`` stops that).

>>> samples = [(7, [0, 255, 3]), (2, [1, 2, 3])]
>>> import io
>>> from purenn import compact
>>> [(label, list(values)) for label, values in
...  compact.read_samples(io.BytesIO(encode_samples(samples)))]
[(7, [0, 255, 3]), (2, [1, 2, 3])]
"""
import os
import struct
import sys

from purenn import compact
from purenn.files import read_limited, write_atomic
from purenn.precision import encode

FILES = ("main.py", "compact.py", "network.bin", "samples.bin", "export.txt")
# copy the four files the board needs, then run main.py (inside the folder)
MPREMOTE = "mpremote cp main.py compact.py network.bin samples.bin : + run main.py"
_HERE = os.path.dirname(os.path.abspath(__file__))

# the data sets whose test samples a folder can carry: input size -> (name,
# loader, the largest raw value: the input scale of the networks is its inverse)
DATASETS = {784: ("MNIST", "mnist", 255), 64: ("optdigits", "digits", 16)}
# what ``export`` packs by default: all of optdigits' test set (114 KB), the
# first 1,000 MNIST test images (785 KB: a board's flash holds 1-2 MB)
DEFAULT_SAMPLES = {64: 1797, 784: 1000}


def encode_samples(samples):
    """The bytes of a samples file (``purenn.compact``'s format): ``samples``
    is a list of ``(label, values)`` with labels 0..255 and the same number
    of values 0..255 in each (raw pixels)."""
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
    return struct.pack("<4sB3xIII", compact.SAMPLES_MAGIC, compact.VERSION, len(samples),
                       size, compact.crc32(body)) + body


class Samples:
    """Test samples for a folder: ``raw`` (a list of ``(label, values)``, the
    values ints as the data set stores them), ``x`` and ``t`` (the same,
    normalized as the networks were trained: a Matrix and a list of labels),
    ``input_scale`` (x = raw * input_scale) and a description."""

    def __init__(self, raw, x, t, input_scale, what):
        self.raw, self.x, self.t, self.input_scale, self.what = raw, x, t, input_scale, what


def samples_for(input_size, count=None):
    """The first ``count`` (default: all) test samples of the data set whose
    images have ``input_size`` values: MNIST's 10,000 (784) or optdigits'
    1,797 (64), both shipped with purenn."""
    from purenn.datasets import load_digits, load_mnist
    if input_size not in DATASETS:
        raise ValueError("samples_for: a network with %d inputs; the test samples purenn "
                         "ships are MNIST's (784 inputs) and optdigits' (64)" % input_size)
    name, kind, top = DATASETS[input_size]
    load = load_mnist if kind == "mnist" else load_digits
    raw, labels = load(normalize=False, kind="test")
    x, t = load(kind="test")
    total = len(labels)
    count = total if count is None else count
    if not 1 <= count <= total:
        raise ValueError("samples_for: %d samples asked for; %s has 1 to %d test samples"
                         % (count, name, total))
    rows = raw[:count].tolist()
    what = "%d %s test images (%s of %d), %d values 0..%d each" % (
        count, name, "all" if count == total else "the first %d" % count, total,
        input_size, top)
    return Samples(list(zip(labels[:count], rows)), x[:count], t[:count], 1.0 / top, what)


def _accuracy_line(label, classes, t):
    correct = sum(1 for p, label_ in zip(classes, t) if p == label_)
    return "%s: %.4f (%d of %d)" % (label, correct / float(len(t)), correct, len(t))


def export(out_dir, model, precision, samples, network_name="", command=""):
    """Write the folder ``out_dir`` (made if missing; its other files are
    left alone): ``model`` (a ``purenn.precision.DenseModel``) at
    ``precision`` ("float32", "float16", "int8"), ``samples`` (a ``Samples``).
    Every file is written with ``purenn.files.write_atomic``.  Returns the
    lines of export.txt."""
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise ValueError("export: %s is a file; give a folder (new or existing)" % out_dir)
    network = encode(model.layers, precision, model.input_scale)
    data = encode_samples(samples.raw)
    lines = [
        "purenn export: a network and test samples for a MicroPython board",
        "command: %s" % (command or "(purenn.board.export)"),
        "network: %s" % (network_name or "-".join(str(s) for s in _sizes(model.layers))),
        "precision: %s%s" % (precision, " (one scale per output neuron)"
                             if precision == "int8" else ""),
        "network.bin: %d bytes" % len(network),
        "samples.bin: %s (%d bytes)" % (samples.what, len(data)),
        _accuracy_line("float64 accuracy", model.classes_at("float64", samples.x), samples.t),
        _accuracy_line("%s accuracy (stored weights, float64 arithmetic)" % precision,
                       model.classes_at(precision, samples.x), samples.t),
        "made with: %s %s" % (sys.implementation.name,
                              ".".join(str(v) for v in sys.version_info[:3])),
        "on a board: cd %s && %s" % (out_dir, MPREMOTE),
    ]
    os.makedirs(out_dir, exist_ok=True)
    for name, source in (("main.py", "board_main.py"), ("compact.py", "compact.py")):
        code = read_limited(os.path.join(_HERE, source), 1 << 20, "purenn module")
        write_atomic(os.path.join(out_dir, name), code)
    write_atomic(os.path.join(out_dir, "network.bin"), network)
    write_atomic(os.path.join(out_dir, "samples.bin"), data)
    write_atomic(os.path.join(out_dir, "export.txt"), ("\n".join(lines) + "\n").encode("utf-8"))
    return lines


def _sizes(layers):
    return [layers[0][0].shape[0]] + [W.shape[1] for W, b, name in layers]
