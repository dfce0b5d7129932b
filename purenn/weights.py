"""purenn's own weight files: gzip'd JSON, safe to open, exact to the last bit.

==================================  ==========================================
``save_params(path, params, meta)``  write the named matrices (and notes)
``load_params(path)``                ``-> (params, meta)``
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
import sys

from purenn.errors import DataError
from purenn.matrix import Matrix

FORMAT = "purenn-weights"
_FLOAT_MAX = sys.float_info.max
VERSION = 1


def _rows_of(name, value):
    """The rows of a parameter, checked: a Matrix, nested lists or a flat list."""
    try:
        rows = value.tolist() if isinstance(value, Matrix) else Matrix(value).tolist()
    except (TypeError, ValueError) as e:
        raise TypeError("save_params: parameter %r is not a matrix of numbers: %s" % (name, e))
    for row in rows:
        for x in row:
            if type(x) is not int and type(x) is not float:
                raise TypeError("save_params: parameter %r holds %r (%s); the weights format "
                                "stores ints and floats only" % (name, x, type(x).__name__))
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
            raise TypeError("save_params: parameter names must be strings, got %r" % (name,))
        rows = _rows_of(name, value)
        parts.append('%s\n  %s: {"shape": [%d, %d], "data": [\n   %s]}'
                     % ("" if i == 0 else ",", json.dumps(name), len(rows), len(rows[0]),
                        ",\n   ".join(json.dumps(row) for row in rows)))
    parts.append("}}\n")
    data = "".join(parts).encode("utf-8")
    with open(path, "wb") as f:
        # mtime=0: no time stamp in the header, so equal weights give equal files
        with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0) as gz:
            gz.write(data)


def load_params(path):
    """Read a file written by ``save_params``: ``-> (params, meta)``.

    ``params`` is a dict name -> ``Matrix`` in the saved order, ``meta`` the
    saved dict (``{}`` when none).  Anything else than a purenn weights file
    of a version this purenn knows, or data that does not match its shape,
    is a ``DataError`` naming the file and the problem.
    """
    with open(path, "rb") as f:
        raw = f.read()
    try:
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.GzipFile(fileobj=io.BytesIO(raw)).read()
        doc = json.loads(raw.decode("utf-8"))
    except (OSError, EOFError, ValueError, RecursionError, MemoryError) as e:
        # RecursionError: JSON nested 100,000 deep is no weights file
        raise DataError("%s: not a readable purenn weights file (%s: %s)"
                        % (path, type(e).__name__, e))
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise DataError("%s: not a purenn weights file (no \"format\": %s tag); the book's "
                        "sample_weight.pkl loads with purenn.pickles.load_book_weights"
                        % (path, json.dumps(FORMAT)))
    version = doc.get("version")
    if type(version) is not int or version > VERSION or version < 1:
        raise DataError("%s: weights format version %r; this purenn reads versions 1 to %d"
                        % (path, version, VERSION))
    meta, entries = doc.get("meta", {}), doc.get("params")
    if not isinstance(meta, dict) or not isinstance(entries, dict) or not entries:
        raise DataError("%s: \"meta\" must be an object and \"params\" a non-empty object" % path)
    params = {}
    for name, entry in entries.items():
        params[name] = _matrix_of(path, name, entry)
    return params, meta


def _matrix_of(path, name, entry):
    try:
        shape, rows = entry["shape"], entry["data"]
        n, m = shape
    except (TypeError, KeyError, ValueError):
        raise DataError("%s: parameter %r must be {\"shape\": [rows, cols], \"data\": [...]}"
                        % (path, name))
    if (not isinstance(rows, list) or len(rows) != n or n < 1 or m < 1
            or any(not isinstance(r, list) or len(r) != m for r in rows)):
        raise DataError("%s: parameter %r: data is not %r rows of %r numbers as its shape says"
                        % (path, name, n, m))
    for row in rows:
        for x in row:
            if type(x) is not int and type(x) is not float:
                raise DataError("%s: parameter %r holds %r; elements must be numbers"
                                % (path, name, x))
            if type(x) is int and not -_FLOAT_MAX <= x <= _FLOAT_MAX:
                # it would overflow the first time it meets a float
                raise DataError("%s: parameter %r holds an int of %d bits, beyond the "
                                "float range (+-%r)" % (path, name, x.bit_length(), _FLOAT_MAX))
    return Matrix._wrap(rows)
