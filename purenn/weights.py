"""purenn's own weight files: gzip'd JSON, safe to open, exact to the last bit.

==================================  ==========================================
``save_params(path, params, meta)``  write the named matrices (and notes),
                                     atomically (``purenn.files.write_atomic``)
``load_params(path)``                ``-> (params, meta)``
``read_weights(path)``               any weights file, recognised by its
                                     content: purenn's JSON (gzip'd or not) or
                                     a numpy pickle (protocols 0-5, the book's
                                     ``sample_weight.pkl``) ``-> WeightsFile``
``WEIGHTS_LIMIT``, ``VALUES_LIMIT``  the most bytes a weights file (and the JSON
                                     it decompresses to) may hold, 64 MiB, and
                                     the most values in it, 4,194,304
==================================  ==========================================

Why not pickle: a pickle is a program, and opening one runs it.  A JSON file
is only data, any language reads it (MicroPython has ``json``), and a person
can read it too.  Every float is written with ``repr``, the shortest text
that reads back as the very same float, so a round trip is exact.

The format, version 1 (gzip'd UTF-8 JSON; an uncompressed file loads too)::

    {"format": "purenn-weights", "version": 1,
     "meta": {...anything JSON can hold, e.g. the layer sizes...},
     "params": {
      "W1": {"shape": [2, 3], "data": [
       [0.1, 0.3, 0.5],
       [0.2, 0.4, 0.6]]},
      "b1": {"shape": [1, 3], "data": [
       [0.1, 0.2, 0.3]]}}}

- ``params``: name -> a 2-D matrix: its ``shape`` (rows, columns) and its
  ``data``, a list of rows; elements are JSON numbers (ints stay ints).
  The names keep their order.
- ``inf`` and ``nan`` are written as ``Infinity``/``NaN``, as Python's
  ``json`` does (outside strict JSON, but they round-trip).
- The gzip header carries no time stamp: the same weights give the same bytes.

>>> import os, tempfile
>>> from purenn.network import init_network
>>> path = os.path.join(tempfile.mkdtemp(), "net.json.gz")
>>> save_params(path, init_network(), meta={"activations": ["sigmoid", "sigmoid", "identity"]})
>>> params, meta = load_params(path)
>>> params == init_network(), meta["activations"][2]
(True, 'identity')
"""
import gzip
import io
import json
import re
import sys
from itertools import accumulate

from purenn.errors import DataError
from purenn.files import quote, read_data, shown, write_atomic
from purenn.matrix import Matrix

FORMAT = "purenn-weights"
_FLOAT_MAX = sys.float_info.max
VERSION = 1
WEIGHTS_LIMIT = 64 << 20  # bytes of a weights file, and of the JSON it decompresses to
# Values in that JSON (every number, list, string... counts): a tiny gzip'd
# file of "[]," or "1.5," would otherwise become gigabytes of Python objects.
# A 784-1000-1000-10 network has 1.8 million numbers.
VALUES_LIMIT = 1 << 22


def _rows_of(name, value):
    """The rows of a parameter, checked: a Matrix, nested lists or a flat list."""
    try:
        rows = value.tolist() if isinstance(value, Matrix) else Matrix(value).tolist()
    except (TypeError, ValueError) as e:
        raise TypeError("save_params: parameter %s is not a matrix of numbers: %s"
                        % (quote(name, 40), e))
    for row in rows:
        for x in row:
            if type(x) is not int and type(x) is not float:
                raise TypeError("save_params: parameter %s holds %s (%s); the weights format "
                                "stores ints and floats only"
                                % (quote(name, 40), quote(x, 40), type(x).__name__))
    return rows


def save_params(path, params, meta=None):
    """Write ``params`` (name -> Matrix, or anything ``Matrix()`` accepts) and
    the optional ``meta`` (a dict of JSON values) to ``path``, gzip'd JSON.

    Names must be strings.  Elements must be ``int`` or ``float`` (not
    ``bool``, ``Fraction``, ...): a ``TypeError`` says which parameter.
    """
    if not isinstance(params, dict) or not params:
        raise TypeError("save_params: params must be a non-empty dict of name -> matrix")
    if meta is not None and not isinstance(meta, dict):
        raise TypeError("save_params: meta must be a dict or None, got %s" % type(meta).__name__)
    try:
        meta_text = json.dumps(meta or {}, sort_keys=True)
    except (TypeError, ValueError) as e:
        raise TypeError("save_params: meta must hold JSON values only: %s" % e)
    parts = ['{"format": %s, "version": %d,\n "meta": %s,\n "params": {'
             % (json.dumps(FORMAT), VERSION, meta_text)]
    for i, (name, value) in enumerate(params.items()):
        if not isinstance(name, str):
            raise TypeError("save_params: parameter names must be strings, got %s"
                            % quote(name, 40))
        rows = _rows_of(name, value)
        parts.append('%s\n  %s: {"shape": [%d, %d], "data": [\n   %s]}'
                     % ("" if i == 0 else ",", json.dumps(name), len(rows), len(rows[0]),
                        ",\n   ".join(json.dumps(row) for row in rows)))
    parts.append("}}\n")
    data = "".join(parts).encode("utf-8")
    out = io.BytesIO()
    # mtime=0: no time stamp in the header, so equal weights give equal files
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0) as gz:
        gz.write(data)
    # the old file stays whole until the new one is (a kill or a full disk
    # during the save loses nothing)
    write_atomic(path, out.getvalue())


def load_params(path):
    """Read a file written by ``save_params``: ``-> (params, meta)``.

    ``params`` is a dict name -> ``Matrix`` in the saved order, ``meta`` the
    saved dict (``{}`` when none).  Anything else than a purenn weights file
    of a version this purenn knows, or data that does not match its shape,
    is a ``DataError`` naming the file and the problem.  The file, and the
    JSON it decompresses to, may hold at most ``WEIGHTS_LIMIT`` bytes.
    """
    return _from_json(path, read_data(path, WEIGHTS_LIMIT, "weights file"))


def _from_json(path, raw):
    where = shown(path)
    # counted before parsing: every value but the last is followed by a comma,
    # every list or object starts and ends with a bracket, every string has
    # two quotes (in strings too: an upper bound); this also bounds the work
    # of _nesting
    values = (raw.count(b",") + raw.count(b"[") + raw.count(b"{") + raw.count(b"]")
              + raw.count(b"}") + raw.count(b'"') // 2)
    if values > VALUES_LIMIT:
        raise DataError("%s: %d commas, brackets and strings, so up to as many values "
                        "(numbers, lists, ...) in the JSON: more than the %d a purenn weights "
                        "file may have" % (where, values, VALUES_LIMIT))
    depth = _nesting(raw)
    if depth > NESTING_LIMIT:
        # refused before parsing: a JSON parser recurses once a level, and
        # deep nesting overflows its stack (a fatal error in Pyodide)
        raise DataError("%s: JSON nested %d deep; a purenn weights file needs 5 levels (at "
                        "most %d are read)" % (where, depth, NESTING_LIMIT))
    try:
        doc = json.loads(raw.decode("utf-8"), object_pairs_hook=_object, parse_int=_int)
    except UnicodeDecodeError as e:
        raise DataError("%s: not a readable purenn weights file (byte %d is not UTF-8)"
                        % (where, e.start))
    except _Ambiguous as e:
        raise DataError("%s: not a readable purenn weights file (%s)" % (where, e))
    except (ValueError, RecursionError, MemoryError) as e:
        # RecursionError: JSON nested 100,000 deep is no weights file
        raise DataError("%s: not a readable purenn weights file (%s: %s)"
                        % (where, type(e).__name__, quote(str(e), 100)[1:-1]))
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise DataError("%s: not a purenn weights file (no \"format\": %s tag); the book's "
                        "sample_weight.pkl loads with purenn.pickles.load_book_weights"
                        % (where, json.dumps(FORMAT)))
    version = doc.get("version")
    if type(version) is not int or version > VERSION or version < 1:
        raise DataError("%s: weights format version %s; this purenn reads versions 1 to %d"
                        % (where, quote(version), VERSION))
    meta, entries = doc.get("meta", {}), doc.get("params")
    if not isinstance(meta, dict) or not isinstance(entries, dict) or not entries:
        raise DataError("%s: \"meta\" must be an object and \"params\" a non-empty object"
                        % where)
    params = {}
    for name, entry in entries.items():
        params[name] = _matrix_of(where, name, entry)
    return params, meta


NESTING_LIMIT = 100
"""Levels of JSON lists and objects within each other that ``load_params``
reads: the format needs 5 (the document, ``params``, a parameter, its rows,
a row), ``meta`` a few more."""



def _nesting(raw):
    r"""How deep the lists and objects of the JSON text ``raw`` nest (strings
    left out: a bracket in a name is no level), counted without parsing, in
    time linear in the size of ``raw``: every step below is one pass of C
    code, and ``_from_json`` has bounded the strings and brackets to
    ``VALUES_LIMIT`` first.

    Numbers, spaces, commas and colons are dropped first (a weights file is
    mostly numbers; no escape of valid JSON starts with one of them), then
    the escapes ``\\`` and ``\"``: now every string is a quote, what is no
    quote, a quote.  Then the strings go, then everything but brackets.

    >>> _nesting(b'{"W1": [[1, 2]], "note": "[[[ \\"{"}')
    3
    """
    skeleton = raw.translate(None, b"0123456789.+-eE \t\r\n,:")
    skeleton = skeleton.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = _STRING.sub(b"", skeleton).translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    return max(accumulate(_DEPTH_STEP[b] for b in brackets))


_STRING = re.compile(b'"[^"]*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_DEPTH_STEP = [0] * 256
for _b in b"[{":
    _DEPTH_STEP[_b] = 1
for _b in b"]}":
    _DEPTH_STEP[_b] = -1


class _Ambiguous(ValueError):
    """JSON that Python would read, but that says two things at once."""


def _object(pairs):
    """A JSON object as a dict, refusing a key given twice: Python's json
    would silently keep the last value (two "W1" in one file: which is
    meant?)."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise _Ambiguous("the key %s appears twice in one JSON object"
                                 % quote(key, 40))
            seen.add(key)
    return obj


_INT_DIGITS = 400  # the float range ends at 309 digits


def _int(text):
    """A JSON integer: refused beyond ``_INT_DIGITS`` characters, before
    ``int()`` (on Pythons without a digit limit, int() of a 60 MB number
    takes hours: its time grows with the square of the length)."""
    if len(text) > _INT_DIGITS:
        raise _Ambiguous("an integer of %d digits, beyond the float range" % len(text))
    return int(text)


def _matrix_of(where, name, entry):
    try:
        shape, rows = entry["shape"], entry["data"]
        n, m = shape
    except (TypeError, KeyError, ValueError):
        raise DataError("%s: parameter %s must be {\"shape\": [rows, cols], \"data\": [...]}"
                        % (where, quote(name, 40)))
    if (type(n) is not int or type(m) is not int or n < 1 or m < 1
            or not isinstance(rows, list) or len(rows) != n
            or any(not isinstance(r, list) or len(r) != m for r in rows)):
        raise DataError("%s: parameter %s: data is not %s rows of %s numbers as its shape says"
                        % (where, quote(name, 40), quote(n, 20), quote(m, 20)))
    for row in rows:
        for x in row:
            if type(x) is not int and type(x) is not float:
                raise DataError("%s: parameter %s holds %s; elements must be numbers"
                                % (where, quote(name, 40), quote(x, 40)))
            if type(x) is int and not -_FLOAT_MAX <= x <= _FLOAT_MAX:
                # it would overflow the first time it meets a float
                raise DataError("%s: parameter %s holds an int of %d bits, beyond the "
                                "float range (+-%r)" % (where, quote(name, 40), x.bit_length(),
                                                        _FLOAT_MAX))
    return Matrix._wrap(rows)


# ------------------------------------------------------ any weights file

class WeightsFile:
    """What ``read_weights`` found in a file.

    ``kind``: ``"purenn"`` (purenn's JSON) or ``"numpy-pickle"``;
    ``params``: name -> ``Matrix``, in the file's order (an array of a
    pickle as ``Array.matrix()`` gives it: 1-D as a (1, n) row, 4-D filters
    (FN, C, FH, FW) as (FN, C*FH*FW)); ``shapes``: name -> the shape as
    stored (the arrays' 1 to 4 dimensions for a pickle); ``meta``: the
    saved ``meta`` dict (``{}`` for a pickle).  ``params, meta = w`` unpacks
    it as ``load_params`` returns.
    """

    def __init__(self, path, kind, params, shapes, meta):
        self.path, self.kind, self.params, self.shapes, self.meta = (
            path, kind, params, shapes, meta)

    def __iter__(self):
        return iter((self.params, self.meta))

    def __repr__(self):
        return "WeightsFile(%r, kind=%r, params=[%s])" % (
            self.path, self.kind,
            ", ".join("%s %s" % (quote(n, 40), self.shapes[n]) for n in self.params))


_JSON_START = re.compile(b"[ \t\r\n]*{")


def read_weights(path):
    """A weights file of any kind purenn knows, recognised by its content
    (never by its name): ``-> WeightsFile``.

    - gzip'd (it starts with ``1f 8b``): decompressed first, at most
      ``WEIGHTS_LIMIT`` bytes;
    - a JSON object: purenn's format (``load_params``);
    - a pickle (protocols 2-5 start with ``80 0N``, protocols 0-1 with one of
      their opcodes and end with STOP): numpy arrays, read by
      ``purenn.pickles`` (nothing in it runs).

    Anything else is a ``DataError`` naming the file and showing how it
    starts (cut short and escaped).

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "tiny.json.gz")
    >>> save_params(path, {"W1": [[1.0, 2.0]], "b1": [0.5]})
    >>> w = read_weights(path)
    >>> w.kind, w.shapes
    ('purenn', {'W1': (1, 2), 'b1': (1, 1)})
    >>> params, meta = w
    """
    from purenn import pickles  # (pickles imports nothing of this module)
    data = read_data(path, WEIGHTS_LIMIT, "weights file")
    if _JSON_START.match(data):
        params, meta = _from_json(path, data)
        shapes = dict((name, m.shape) for name, m in params.items())
        return WeightsFile(path, "purenn", params, shapes, meta)
    if pickles.is_pickle(data):
        arrays = pickles.arrays_from_bytes(data, shown(path))
        params = dict((name, a.matrix()) for name, a in arrays.items())
        shapes = dict((name, a.shape) for name, a in arrays.items())
        return WeightsFile(path, "numpy-pickle", params, shapes, {})
    raise DataError("%s: not a weights file: neither purenn's JSON (gzip'd or not) nor a numpy "
                    "pickle; it starts with %s" % (shown(path), quote(data[:24], 40)))
