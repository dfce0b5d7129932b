"""Handwritten digits to learn from: MNIST and UCI optdigits, offline.

==============================  ==============================================
``load_mnist(...)``             MNIST, 28x28 pixels 0..255, labels 0..9: the test
                                set (10,000) ships inside purenn; the training
                                set (60,000) is looked up (see ``find_mnist``)
``load_digits(...)``            UCI optdigits, 8x8 pixels 0..16, labels 0..9:
                                3,823 training and 1,797 test samples, shipped
``read_idx(path)``              the IDX file format MNIST is stored in (read
                                header first, never more than it announces)
``find_mnist(kind, path)``      where the MNIST files of one kind are
``mnist_cache_dir()``           where ``python -m purenn download-mnist`` puts them
``verify_mnist(path, name)``    does a file hold the canonical MNIST content?
``DataError``                   a data file is truncated, corrupt or of the
                                wrong kind (``purenn.errors``, a ``ValueError``)
==============================  ==============================================

Both loaders take the book's options (``dataset/mnist.py``) and return what
the book's ``load_mnist`` does, ``(x_train, t_train), (x_test, t_test)``; with
``kind="train"`` or ``kind="test"`` one part, ``(x, t)``.  What you get back:

==================  ==========================  ==============================
option              ``x``                       ``t``
==================  ==========================  ==============================
defaults            ``Matrix`` (N, 784) floats  ``list`` of N ints 0..9
                    in [0, 1] (pixel / 255.0)
``normalize=False`` ints 0..255 instead
``flatten=False``   a ``list`` of N ``Matrix``
                    (28, 28): one per image
``one_hot_label``                               ``Matrix`` (N, 10) of 0.0/1.0,
                                                a 1.0 at the label's column
==================  ==========================  ==============================

(for ``load_digits`` read 64 for 784, (8, 8) for (28, 28), 16.0 for 255.0).

>>> x, t = load_mnist(kind="test")       # the MNIST test set, from inside purenn
>>> x.shape, len(t), t[:10]
((10000, 784), 10000, [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
>>> x.max(), x[0, 202]                   # normalized: pixel / 255.0
(1.0, 0.32941176470588235)
>>> x, t = load_digits(kind="train", one_hot_label=True)
>>> x.shape, t.shape, t[0]
((3823, 64), (3823, 10), Matrix([[1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]))

The data files and their licenses: ``purenn/data/NOTICE`` (MNIST: Y. LeCun and
C. Cortes, CC BY-SA 3.0; optdigits: E. Alpaydin and C. Kaynak, CC BY 4.0).
"""
import gc
import hashlib
import os
import struct

from purenn import files
from purenn.errors import DataError
from purenn.files import quote
from purenn.matrix import Matrix

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")

MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

# sha256 of the *uncompressed* canonical files (gzip headers differ between
# mirrors, the content must not).
MNIST_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

# bytes of the uncompressed canonical files: no MNIST file is ever decompressed
# beyond its size
MNIST_SIZES = {
    "train-images-idx3-ubyte": 47040016,
    "train-labels-idx1-ubyte": 60008,
    "t10k-images-idx3-ubyte": 7840016,
    "t10k-labels-idx1-ubyte": 10008,
}

MNIST_ENV = "PURENN_MNIST_DIR"

# The most data bytes read_idx reads: the MNIST training images (60,000 of
# 28x28), the largest file purenn reads; and the most bytes an IDX or
# optdigits file may have on disk (gzip can grow what it cannot compress).
IDX_LIMIT = 60000 * 28 * 28
FILE_LIMIT = IDX_LIMIT + (1 << 20)

DIGITS_FILES = {"train": "optdigits.tra.gz", "test": "optdigits.tes.gz"}


# ------------------------------------------------------------------ files

def read_idx(path, ndim=None):
    """Read an IDX file (raw or gzip'd): ``-> (dims, data)``.

    The format (http://yann.lecun.com/exdb/mnist/): two zero bytes, a type
    byte (``0x08``: unsigned bytes, the only type MNIST uses), the number of
    dimensions, one big-endian uint32 per dimension, then the elements in row
    major order.  ``data`` is the ``bytes`` of the elements (``data[i]`` is an
    int 0..255), exactly ``dims[0] * dims[1] * ...`` of them: a header that
    does not parse, a short file or extra bytes at the end are a
    ``DataError`` naming the file.  ``ndim`` (if given) is the number of
    dimensions the caller expects.

    The header is read first, and only the bytes it announces are read (or
    decompressed) after it: at most ``IDX_LIMIT`` (47,040,000 bytes: the
    MNIST training images), so a gzip'd file that expands to gigabytes stops
    there, with a message.  The file itself must be a regular file of at most
    ``FILE_LIMIT`` bytes.

    >>> dims, data = read_idx(os.path.join(DATA_DIR, "t10k-labels-idx1-ubyte.gz"))
    >>> dims, list(data[:3])
    ((10000,), [7, 2, 1])
    """
    stream = files.open_data(path, FILE_LIMIT, "data file")
    where = files.shown(path)
    head = stream.read(4)
    if len(head) < 4:
        raise DataError("%s: %d bytes is too short for an IDX header (4 bytes + dimensions)"
                        % (where, len(head)))
    if head[0] != 0 or head[1] != 0:
        raise DataError("%s: not an IDX file: it starts with %02x %02x, IDX starts with 00 00"
                        % (where, head[0], head[1]))
    if head[2] != 0x08:
        raise DataError("%s: IDX element type 0x%02x; purenn reads unsigned bytes (0x08) only"
                        % (where, head[2]))
    n = head[3]
    if ndim is not None and n != ndim:
        raise DataError("%s: IDX file with %d dimensions, expected %d" % (where, n, ndim))
    if n == 0:
        raise DataError("%s: IDX file with 0 dimensions" % where)
    header = stream.read(4 * n)
    if len(header) < 4 * n:
        raise DataError("%s: truncated IDX header: %d dimensions need %d bytes, the file has %d"
                        % (where, n, 4 + 4 * n, 4 + len(header)))
    dims = struct.unpack(">%dI" % n, header)
    size = 1
    for d in dims:
        size *= d
    dims_text = quote(dims, 60)  # (an IDX file may have 255 dimensions: not all in a message)
    if size > IDX_LIMIT:
        raise DataError("%s: dimensions %s make %d data bytes, more than the %d purenn reads "
                        "from an IDX file" % (where, dims_text, size, IDX_LIMIT))
    data = stream.read(size)
    if len(data) < size:
        raise DataError("%s: truncated: dimensions %s need %d data bytes, the file has %d"
                        % (where, dims_text, size, len(data)))
    extra = len(stream.read(1 << 20))  # (to the end of a gzip stream: its checksum too)
    if extra:
        raise DataError("%s: %s%d unexpected bytes after the %d data bytes of dimensions %s"
                        % (where, "at least " if extra == 1 << 20 else "", extra, size,
                           dims_text))
    return dims, data


def content_sha256(data, limit=IDX_LIMIT, what="MNIST file"):
    """The sha256 (hex) of ``data`` after gunzipping it when it is gzip'd
    (``purenn.files.gunzip``: at most ``limit`` bytes, a ``DataError`` past
    that or on broken gzip data).

    >>> import gzip
    >>> content_sha256(gzip.compress(b"abc")) == content_sha256(b"abc")
    True
    """
    return hashlib.sha256(files.gunzip(data, limit, what)).hexdigest()


def verify_mnist(path, name):
    """True when the file ``path`` (gzip'd or not) holds the canonical MNIST
    file ``name`` (its uncompressed content has ``MNIST_SHA256[name]``);
    False when it does not, or cannot be read."""
    try:
        data = files.read_limited(path, FILE_LIMIT, "MNIST file")
        return content_sha256(data, MNIST_SIZES[name]) == MNIST_SHA256[name]
    except (OSError, DataError):
        return False


# ------------------------------------------------------------ MNIST lookup

def mnist_cache_dir():
    """The folder ``python -m purenn download-mnist`` saves MNIST into:
    ``mnist`` in purenn's cache folder (``purenn.files.cache_dir()``), by
    default ``~/.cache/purenn/mnist``."""
    return os.path.join(files.cache_dir(), "mnist")


def _in_dir(folder, name):
    """``folder/name.gz`` or ``folder/name``, whichever is there.  When both
    are, the one that holds the canonical MNIST content wins (a stale or
    broken ``.gz`` must not hide a verified raw file); when neither does (a
    data set of your own in MNIST's format), the newer one."""
    found = [p for p in (os.path.join(folder, name + ".gz"), os.path.join(folder, name))
             if os.path.isfile(p)]
    if len(found) < 2:
        return found[0] if found else None
    for p in found:
        if verify_mnist(p, name):
            return p
    return max(found, key=os.path.getmtime)


def find_mnist(kind="test", path=None):
    """The paths ``(images, labels)`` of the MNIST ``kind`` ("train" or "test").

    Looked for, first hit wins, as ``<name>.gz`` or the raw ``<name>`` (both
    there: the one with the canonical content, else the newer):

    1. in the folder ``path``, when given (and only there);
    2. in the folder named by the environment variable ``PURENN_MNIST_DIR``;
    3. in ``mnist_cache_dir()``, where ``python -m purenn download-mnist`` puts it;
    4. for "test" only: the copy inside purenn (``purenn/data``).

    Not found: ``FileNotFoundError``, one paragraph saying where it looked
    and how to get it.
    """
    if kind not in MNIST_FILES:
        raise ValueError("MNIST kind must be 'train' or 'test', got %s" % quote(kind))
    names = MNIST_FILES[kind]
    if path is not None:
        folders = [path]
    else:
        folders = []
        if os.environ.get(MNIST_ENV):
            folders.append(os.environ[MNIST_ENV])
        folders.append(mnist_cache_dir())
        if kind == "test":
            folders.append(DATA_DIR)
    for folder in folders:
        found = [_in_dir(folder, name) for name in names]
        if None not in found:
            return tuple(found)
    raise FileNotFoundError(
        "MNIST %s set not found: looked for %s (.gz or raw) in %s. Get it with "
        "`python -m purenn download-mnist` (saves into %s), or put the files in a folder "
        "and pass path=FOLDER or set %s=FOLDER.%s"
        % (kind, " and ".join(names), ", ".join(folders), mnist_cache_dir(), MNIST_ENV,
           " Offline, load_mnist(kind=\"test\") gives the test set, which ships inside "
           "purenn." if kind == "train" else ""))


# ----------------------------------------------------------------- loading

def _one_hot(labels, classes=10):
    """Labels 0..classes-1 -> a Matrix (N, classes) of 0.0 with one 1.0 a row
    (``purenn.labels.one_hot``, as floats: the book's ``np.zeros`` rows)."""
    from purenn.labels import one_hot
    return one_hot(labels, classes).map(float)


def _images(flat_rows, side, flatten):
    if flatten:
        return Matrix._wrap(flat_rows)
    return [Matrix._wrap([row[r * side:(r + 1) * side] for r in range(side)])
            for row in flat_rows]


def _pixel_rows(data, count, size, scale):
    """``count`` rows of ``size`` pixels from ``data``; each pixel p becomes
    ``p / scale`` (or stays the int p when ``scale`` is None)."""
    # Python's cycle collector would walk all the new lists again and again
    # while they are built (it triggers on allocations); they hold no cycles,
    # so pause it: loading MNIST takes a third of the time.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        if scale is None:
            return [list(data[o:o + size]) for o in range(0, count * size, size)]
        # 256 divisions instead of 7.8 million: look every pixel up in a table
        table = [p / scale for p in range(256)]
        return [[table[p] for p in data[o:o + size]] for o in range(0, count * size, size)]
    finally:
        if was_enabled:
            gc.enable()


def load_mnist(normalize=True, flatten=True, one_hot_label=False, kind=None, path=None):
    """MNIST as the book's ``load_mnist`` gives it:
    ``(x_train, t_train), (x_test, t_test) = load_mnist(...)``; with
    ``kind="train"`` or ``kind="test"`` only that part, ``-> (x, t)``.

    ``x``: ``Matrix`` (N, 784), rows are images row by row, pixels as floats
    ``p / 255.0`` in [0, 1] (``normalize=False``: ints 0..255); with
    ``flatten=False`` a list of N ``Matrix`` (28, 28).  ``t``: a list of N
    labels 0..9, or with ``one_hot_label`` a ``Matrix`` (N, 10).  N is 10,000
    for "test", 60,000 for "train".  ``path``: a folder holding the files
    (see ``find_mnist``).  The test set ships inside purenn; the training set
    is looked up (``find_mnist``): not found, a ``FileNotFoundError`` says
    where it looked and how to get it (``python -m purenn download-mnist``),
    and that ``kind="test"`` works offline.

    >>> x, t = load_mnist(normalize=False, flatten=False, one_hot_label=True, kind="test")
    >>> len(x), x[0].shape, x[0][7, 6:10], t.shape, t.argmax(axis=1)[:3]
    (10000, (28, 28), Matrix([[84, 185, 159, 151]]), (10000, 10), [7, 2, 1])
    """
    if kind is None:  # the book's pair of pairs; the training set first (it may be missing)
        train = load_mnist(normalize, flatten, one_hot_label, "train", path)
        return train, load_mnist(normalize, flatten, one_hot_label, "test", path)
    if kind not in MNIST_FILES:
        raise ValueError("load_mnist: kind must be 'train' or 'test' (or None: both, as the "
                         "book's load_mnist), got %s" % quote(kind))
    images_path, labels_path = find_mnist(kind, path)
    dims, pixels = read_idx(images_path, ndim=3)
    ldims, labels = read_idx(labels_path, ndim=1)
    count, height, width = dims
    images_name, labels_name = files.shown(images_path), files.shown(labels_path)
    if (height, width) != (28, 28):
        raise DataError("%s: images are %dx%d, MNIST's are 28x28" % (images_name, height, width))
    if ldims[0] != count:
        raise DataError("%s has %d labels but %s has %d images: they must be as many"
                        % (labels_name, ldims[0], images_name, count))
    if count == 0:
        raise DataError("%s: no images" % images_name)
    labels = list(labels)
    if max(labels) > 9:
        raise DataError("%s: label %d; MNIST labels are 0..9" % (labels_name, max(labels)))
    if flatten:
        # one byte a pixel (Matrix.from_bytes), decoded batch by batch as the
        # rows are used: the 60,000 training images in 47 MB, not ~400
        table = [p / 255.0 for p in range(256)] if normalize else None
        return (Matrix.from_bytes(pixels, 784, table),
                _one_hot(labels) if one_hot_label else labels)
    rows = _pixel_rows(pixels, count, 784, 255.0 if normalize else None)
    x = _images(rows, 28, flatten)
    return x, (_one_hot(labels) if one_hot_label else labels)


def load_digits(normalize=True, flatten=True, one_hot_label=False, kind=None):
    """UCI optdigits (8x8 digits, pixels 0..16), shipped with purenn, in the
    book's form: ``(x_train, t_train), (x_test, t_test) = load_digits(...)``;
    with ``kind="train"`` or ``kind="test"`` only that part, ``-> (x, t)``.

    "train": 3,823 samples by 30 writers; "test": 1,797 by 13 other writers.
    ``x``: ``Matrix`` (N, 64) of ``p / 16.0`` in [0, 1] (``normalize=False``:
    ints 0..16; ``flatten=False``: a list of N ``Matrix`` (8, 8)).  ``t``: a
    list of N labels 0..9, or with ``one_hot_label`` a ``Matrix`` (N, 10).

    >>> (x_train, t_train), (x_test, t_test) = load_digits()
    >>> x_train.shape, x_test.shape
    ((3823, 64), (1797, 64))
    >>> x, t = load_digits(normalize=False, kind="test")
    >>> x.shape, t[:5], x[0][0, :8]
    ((1797, 64), [0, 1, 2, 3, 4], Matrix([[0, 0, 5, 13, 9, 1, 0, 0]]))
    """
    if kind is None:
        return (load_digits(normalize, flatten, one_hot_label, "train"),
                load_digits(normalize, flatten, one_hot_label, "test"))
    if kind not in DIGITS_FILES:
        raise ValueError("load_digits: kind must be 'train' or 'test' (or None: both), got %s"
                         % quote(kind))
    path = os.path.join(DATA_DIR, DIGITS_FILES[kind])
    text = files.read_data(path, FILE_LIMIT, "data file")
    try:
        lines = text.decode("ascii").split()
    except UnicodeDecodeError:
        raise DataError("%s: not a text file of comma-separated numbers" % path)
    table = [p / 16.0 for p in range(17)] if normalize else list(range(17))
    rows, labels = [], []
    for number, line in enumerate(lines, 1):
        try:
            values = [int(v) for v in line.split(",")]
        except ValueError:
            raise DataError("%s, line %d: not all numbers: %s" % (path, number, quote(line, 40)))
        if len(values) != 65:
            raise DataError("%s, line %d: %d values; each line is 64 pixels and a label"
                            % (path, number, len(values)))
        label = values.pop()
        if not 0 <= label <= 9 or min(values) < 0 or max(values) > 16:
            raise DataError("%s, line %d: pixels must be 0..16 and the label 0..9"
                            % (path, number))
        rows.append([table[v] for v in values])
        labels.append(label)
    if not rows:
        raise DataError("%s: no samples" % path)
    x = _images(rows, 8, flatten)
    return x, (_one_hot(labels) if one_hot_label else labels)
