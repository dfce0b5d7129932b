"""purenn's weight format: exact round trips, safe loading, clear errors."""
import gzip
import json
import math
import os
import pickle
import struct
import subprocess
import sys
import time

import pytest
from hypothesis import example, given, settings, strategies as st

from purenn import DataError, Matrix, weights
from purenn.network import init_network
from purenn.weights import load_params, read_weights, save_params

from fake_numpy import fake_numpy  # noqa: F401 (a fixture)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOOK_PKL = os.path.join(REPO, "..", "shared", "book", "sample_weight.pkl")

# any float64 bit pattern that is not NaN: every one must come back unchanged
floats = st.floats(allow_nan=False, allow_infinity=True)


def matrices(elements):
    return st.tuples(st.integers(1, 4), st.integers(1, 4)).flatmap(
        lambda s: st.lists(st.lists(elements, min_size=s[1], max_size=s[1]),
                           min_size=s[0], max_size=s[0]))


def bits(x):
    return struct.pack(">d", x)


@settings(max_examples=60, deadline=None)
@given(rows=matrices(floats | st.integers(-2 ** 70, 2 ** 70)))
@example(rows=[[0.1, -0.0, 5e-324, 1.7976931348623157e308, float("-inf")]])
@example(rows=[[2 ** 53 + 1, 1.0000000000000002, 0.30000000000000004]])
def test_round_trip_is_bit_exact(tmp_path_factory, rows):
    path = str(tmp_path_factory.mktemp("w") / "w.json.gz")
    save_params(path, {"W": Matrix(rows)})
    back = load_params(path)[0]["W"].tolist()
    assert [[type(x) for x in r] for r in back] == [[type(x) for x in r] for r in rows]
    assert [[bits(x) if type(x) is float else x for x in r] for r in back] == \
        [[bits(x) if type(x) is float else x for x in r] for r in rows]


def test_nan_round_trips(tmp_path):
    path = str(tmp_path / "w.gz")
    save_params(path, {"b": [float("nan"), 1.0]})
    assert math.isnan(load_params(path)[0]["b"][0, 0])


def test_names_order_and_meta_survive(tmp_path):
    path = str(tmp_path / "net.json.gz")
    params = {"W2": [[1.5]], "W1": [[1, 2], [3, 4]], "b1": [0.5, 0.25]}
    meta = {"sizes": [2, 2, 1], "command": "python -m purenn train", "note": "ü"}
    save_params(path, params, meta)
    back, back_meta = load_params(path)
    assert list(back) == ["W2", "W1", "b1"]
    assert back["W1"] == Matrix([[1, 2], [3, 4]]) and back["b1"].shape == (1, 2)
    assert back_meta == meta


def test_file_is_gzip_json_with_format_tag_and_is_reproducible(tmp_path):
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    save_params(a, init_network())
    save_params(b, init_network())
    assert open(a, "rb").read() == open(b, "rb").read()
    doc = json.loads(gzip.open(a).read().decode())
    assert doc["format"] == "purenn-weights" and doc["version"] == 1
    assert doc["params"]["W1"] == {"shape": [2, 3], "data": [[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]]}


def test_uncompressed_json_loads_too(tmp_path):
    a = str(tmp_path / "a.gz")
    save_params(a, {"x": [1.0]})
    plain = tmp_path / "a.json"
    plain.write_bytes(gzip.open(a).read())
    assert load_params(str(plain))[0]["x"] == Matrix([1.0])


@pytest.mark.parametrize("params, words", [
    ({}, "non-empty dict"),
    ({"W": [[1, "a"]]}, "'W'"),
    ({"W": [[True, 1]]}, "bool"),
    ({1: [[1.0]]}, "names must be strings"),
])
def test_save_rejects_what_the_format_cannot_hold(tmp_path, params, words):
    with pytest.raises(TypeError, match=words):
        save_params(str(tmp_path / "x"), params)


def test_save_rejects_fractions_and_bad_meta(tmp_path):
    from fractions import Fraction
    with pytest.raises(TypeError, match="Fraction"):
        save_params(str(tmp_path / "x"), {"W": [[Fraction(1, 3)]]})
    with pytest.raises(TypeError, match="meta"):
        save_params(str(tmp_path / "x"), {"W": [[1.0]]}, meta={"f": object()})


def dump(tmp_path, doc):
    p = tmp_path / "bad.json"
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return str(p)


GOOD = {"shape": [1, 2], "data": [[1.0, 2.0]]}


@pytest.mark.parametrize("doc, words", [
    ("{not json", "not a readable"),
    ({"params": {"W": GOOD}}, "not a purenn weights file"),
    ({"format": "purenn-weights", "version": 2, "params": {"W": GOOD}}, "version 2"),
    ({"format": "purenn-weights", "version": 1, "params": {}}, "non-empty"),
    ({"format": "purenn-weights", "version": 1, "params": {"W": {"shape": [2, 2],
                                                                 "data": [[1.0, 2.0]]}}},
     "not 2 rows of 2"),
    ({"format": "purenn-weights", "version": 1, "params": {"W": {"data": [[1.0]]}}},
     "must be {"),
    ({"format": "purenn-weights", "version": 1, "params": {"W": {"shape": [1, 1],
                                                                 "data": [["1"]]}}},
     "must be numbers"),
])
def test_load_rejects_broken_files_naming_the_file(tmp_path, doc, words):
    path = dump(tmp_path, doc)
    with pytest.raises(DataError) as e:
        load_params(path)
    assert path in str(e.value) and words in str(e.value)


def test_a_pickle_is_not_loaded(tmp_path):
    import pickle
    p = tmp_path / "w.pkl"
    p.write_bytes(pickle.dumps({"W1": [[1.0]]}))
    with pytest.raises(DataError, match="not a readable"):
        load_params(str(p))


@pytest.mark.parametrize("levels", [101, 5000, 100000])
def test_json_nested_deeper_than_the_nesting_limit_is_refused_before_parsing(tmp_path, levels):
    # counted before the parser runs: 5000 levels are a RecursionError in
    # CPython's parser and 100,000 overflowed Pyodide's WebAssembly stack (a
    # fatal error, not an exception); now both are the same one-line message
    path = dump(tmp_path, '{"format": "purenn-weights", "version": 1, "params": '
                + "[" * levels + "]" * levels + "}")
    with pytest.raises(DataError, match=r"bad\.json: JSON nested %d deep; a purenn weights "
                                        r"file needs 5 levels \(at most 100" % (levels + 1)):
        load_params(path)


def test_json_nesting_is_counted_outside_strings(tmp_path):
    # brackets in a name or a note are no level: the file loads
    note = "[[[{" * 200 + '\\"' + "]" * 50
    path = dump(tmp_path, {"format": "purenn-weights", "version": 1, "meta": {"note": note},
                           "params": {"[[[[": {"shape": [1, 1], "data": [[0.5]]}}})
    params, meta = load_params(path)
    assert meta["note"] == note and params["[[[["].tolist() == [[0.5]]


@pytest.mark.parametrize("where", ["params", "W1", "document"])
def test_a_key_given_twice_in_a_json_object_is_a_data_error(tmp_path, where):
    # Python's json keeps the last value silently: which W1 is meant?
    entry = '{"shape": [1, 1], "data": [[1.0]]}'
    params = ('{"W1": %s, "W1": %s}' % (entry, entry) if where == "params" else
              '{"W1": {"shape": [1, 1], "data": [[1.0]], "data": [[2.0]]}}' if where == "W1"
              else '{"W1": %s}' % entry)
    head = '"version": 1, ' * (2 if where == "document" else 1)
    path = dump(tmp_path, '{"format": "purenn-weights", %s"params": %s}' % (head, params))
    key = {"params": "W1", "W1": "data", "document": "version"}[where]
    with pytest.raises(DataError, match="bad\\.json: .*the key '%s' appears twice in one JSON "
                                        "object" % key):
        load_params(path)


def test_a_json_integer_longer_than_any_float_is_refused_before_int_reads_it(tmp_path):
    # int() of a long number takes time growing with the square of its
    # length where Python has no digit limit (before 3.11, 3.10.7, 3.9.14, 3.8.14)
    path = dump(tmp_path, '{"format": "purenn-weights", "version": 1, "params": '
                '{"W": {"shape": [1, 1], "data": [[%s]]}}}' % ("9" * 401))
    with pytest.raises(DataError, match="an integer of 401 digits, beyond the float range"):
        load_params(path)


def _int_file(tmp_path, x):
    # written by hand: save_params would write it too, the file is what matters
    return dump(tmp_path, {"format": "purenn-weights", "version": 1,
                           "params": {"W": {"shape": [1, 2], "data": [[x, 1.0]]}}})


@settings(max_examples=40, deadline=None)
@given(st.integers(-2 ** 1100, 2 ** 1100))
@example(10 ** 400)                    # overflowed in the first product with a float
@example(-10 ** 309)
@example(int(1.7976931348623157e308))  # the largest float, as an int: fits
def test_ints_load_only_within_the_float_range(tmp_path_factory, x):
    path = _int_file(tmp_path_factory.mktemp("int"), x)
    if abs(x) <= 1.7976931348623157e308:
        W = load_params(path)[0]["W"]
        assert W[0, 0] == x and type(W[0, 0]) is int
        float(W[0, 0]) * 0.5          # usable with floats
    else:
        with pytest.raises(DataError, match="beyond the float range"):
            load_params(path)


# ------------------------------------------------------ saving is atomic

def test_a_failed_save_leaves_the_old_file_and_no_temporary_file(tmp_path):
    path = tmp_path / "net.json.gz"
    save_params(str(path), {"W": [[1.0]]})
    old = path.read_bytes()
    with pytest.raises(TypeError):          # refused before anything is written
        save_params(str(path), {"W": [["x"]]})
    target = tmp_path / "folder.json.gz"
    target.mkdir()                          # os.replace cannot put a file over a folder
    with pytest.raises(OSError):
        save_params(str(target), {"W": [[2.0]]})
    assert path.read_bytes() == old
    assert sorted(os.listdir(str(tmp_path))) == ["folder.json.gz", "net.json.gz"]


KILLED_WRITER = r"""
import os, sys, time
sys.path.insert(0, sys.argv[1])
import purenn.files
from purenn.weights import save_params

real_fsync = os.fsync
def slow_disk(fd):              # the bytes are in the temporary file: say so, then hang
    real_fsync(fd)
    sys.stdout.write("writing\n")
    sys.stdout.flush()
    time.sleep(60)
purenn.files.os.fsync = slow_disk
save_params(sys.argv[2], {"W1": [[2.0] * 100] * 100})
"""


@pytest.mark.processes
def test_a_save_killed_while_it_writes_leaves_the_old_file_whole(tmp_path):
    path = str(tmp_path / "net.json.gz")
    save_params(path, {"W1": [[1.0]]})
    old = open(path, "rb").read()
    child = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, REPO, path],
                             stdout=subprocess.PIPE, universal_newlines=True)
    try:
        assert child.stdout.readline() == "writing\n"
    finally:
        child.kill()
        child.wait(30)
        child.stdout.close()
    assert open(path, "rb").read() == old
    assert load_params(path)[0]["W1"] == Matrix([[1.0]])


@pytest.mark.processes
@pytest.mark.slow
def test_saves_killed_at_any_moment_leave_one_whole_file(tmp_path):
    # a writer saving two networks in turn, killed at 8 different moments:
    # the file is always one of the two, whole
    path = str(tmp_path / "net.json.gz")
    a, b = {"W1": [[1.0] * 300] * 300}, {"W1": [[2.0] * 300] * 300}
    save_params(path, a)
    loop = ("import sys; sys.path.insert(0, sys.argv[1])\n"
            "from purenn.weights import save_params\n"
            "a, b = {'W1': [[1.0] * 300] * 300}, {'W1': [[2.0] * 300] * 300}\n"
            "while True:\n    save_params(sys.argv[2], a); save_params(sys.argv[2], b)\n")
    for delay in (0.3, 0.45, 0.6, 0.75, 0.9, 1.05, 1.2, 1.35):
        child = subprocess.Popen([sys.executable, "-c", loop, REPO, path])
        time.sleep(delay)
        child.kill()
        child.wait(30)
        W1 = load_params(path)[0]["W1"]
        assert W1 in (Matrix(a["W1"]), Matrix(b["W1"]))


# ------------------------------------------------- reading is bounded

def test_a_corrupt_deflate_block_is_a_data_error(tmp_path):
    path = tmp_path / "w.json.gz"
    save_params(str(path), {"W": [[0.5] * 50] * 20})
    data = bytearray(path.read_bytes())
    data[12] ^= 0xFF                        # the first byte of the deflate stream
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match="broken gzip data"):
        load_params(str(path))


def test_a_gzip_bomb_stops_at_the_weights_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(weights, "WEIGHTS_LIMIT", 1 << 20)
    path = tmp_path / "bomb.json.gz"
    path.write_bytes(gzip.compress(b'{"format": "purenn-weights", ' + b" " * (8 << 20) + b"}"))
    with pytest.raises(DataError, match="more than 1048576 bytes once decompressed"):
        load_params(str(path))


def test_messages_quote_file_content_with_a_cap(tmp_path):
    path = dump(tmp_path, {"format": "purenn-weights", "version": 1,
                           "params": {"W": {"shape": [1, 1], "data": [["x" * 100000]]}}})
    with pytest.raises(DataError) as e:
        load_params(path)
    assert "holds 'xxxx" in str(e.value) and len(str(e.value)) < 300


@pytest.mark.parametrize("name", ["\x1b[2J\x1b[31mred", "two\nlines", "\u202eevil", "x" * 10000])
def test_names_from_a_file_are_printed_escaped(tmp_path, name):
    path = dump(tmp_path, {"format": "purenn-weights", "version": 1,
                           "params": {name: {"shape": [1, 1], "data": [["?"]]}}})
    with pytest.raises(DataError) as e:
        load_params(path)
    message = str(e.value)
    assert message.isprintable() and len(message) < 300
    assert repr(name)[:20] in message


# ------------------------------------------------- any kind of weights file

def test_read_weights_reads_purenn_files_gzipd_or_not(tmp_path):
    a = str(tmp_path / "a.json.gz")
    save_params(a, {"W1": [[1.0, 2.0]], "b1": [0.5]}, meta={"activations": ["sigmoid"]})
    plain = tmp_path / "a.json"
    plain.write_bytes(gzip.open(a).read())
    for path in (a, str(plain)):
        w = read_weights(path)
        assert w.kind == "purenn" and w.meta == {"activations": ["sigmoid"]}
        assert w.params == {"W1": Matrix([[1.0, 2.0]]), "b1": Matrix([[0.5]])}
        assert w.shapes == {"W1": (1, 2), "b1": (1, 1)}
        params, meta = w
        assert params is w.params and meta is w.meta


@pytest.mark.parametrize("protocol", range(6))
@pytest.mark.parametrize("gz", [False, True])
def test_read_weights_recognises_numpy_pickles_of_every_protocol(tmp_path, fake_numpy,
                                                                 protocol, gz):
    arrays = {"W1": fake_numpy.ndarray((2, 3), "f4", [0.5, 1, 2, 3, 4, 5], fortran=True),
              "b1": fake_numpy.ndarray((3,), "f8", [0.25, 0.5, 0.75]),
              "F": fake_numpy.ndarray((2, 1, 1, 2), "f8", [1, 2, 3, 4])}
    data = pickle.dumps(arrays, protocol=protocol)
    path = tmp_path / "w.pkl"
    path.write_bytes(gzip.compress(data) if gz else data)
    w = read_weights(str(path))
    assert w.kind == "numpy-pickle" and w.meta == {}
    assert w.params["W1"] == Matrix([[0.5, 1, 2], [3, 4, 5]])
    assert w.params["b1"] == Matrix([[0.25, 0.5, 0.75]])
    assert w.params["F"] == Matrix([[1, 2], [3, 4]])
    assert w.shapes == {"W1": (2, 3), "b1": (3,), "F": (2, 1, 1, 2)}


def test_read_weights_of_the_books_file_matches_load_book_weights():
    from purenn.pickles import load_book_weights
    if not os.path.isfile(BOOK_PKL):
        pytest.skip("the book's sample_weight.pkl is not in ../shared/book")
    w = read_weights(BOOK_PKL)
    assert w.kind == "numpy-pickle" and w.shapes["W1"] == (784, 50)
    assert dict((k, w.params[k]) for k in ("W1", "b1", "W2", "b2", "W3", "b3")) == \
        load_book_weights(BOOK_PKL)


@pytest.mark.parametrize("content", [b"", b"\x1b[2J\x1b[31mhello\n", b"PK\x03\x04zip", b"[1, 2]",
                                     b"\x00" * 100])
def test_read_weights_refuses_other_content_quoting_its_start(tmp_path, content):
    path = tmp_path / "w.bin"
    path.write_bytes(content)
    with pytest.raises(DataError, match="not a weights file: neither purenn's JSON") as e:
        read_weights(str(path))
    assert str(e.value).isprintable()


@pytest.mark.parametrize("item", [b"[],", b"1.5,", b'"ab",', b"{},"])
def test_a_small_file_of_many_tiny_values_is_refused_before_parsing(tmp_path, item):
    # 1 KB of gzip that would be millions of Python objects
    path = tmp_path / "many.json.gz"
    count = weights.VALUES_LIMIT + 1
    path.write_bytes(gzip.compress(b'{"format": "purenn-weights", "x": [' + item * count
                                   + b"0]}"))
    with pytest.raises(DataError, match="more than the 4194304 a purenn weights file"):
        load_params(str(path))
