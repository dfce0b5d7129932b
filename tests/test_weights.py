"""purenn's weight format: exact round trips, safe loading, clear errors."""
import gzip
import json
import math
import struct

import pytest
from hypothesis import example, given, settings, strategies as st

from purenn import DataError, Matrix
from purenn.network import init_network
from purenn.weights import load_params, save_params

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


def test_json_nested_beyond_the_recursion_limit_is_a_data_error(tmp_path):
    # deeper than Python's recursion limit (1000); not much deeper, because
    # 100,000 levels overflowed Pyodide's WebAssembly stack (a fatal error)
    path = dump(tmp_path, '{"format": "purenn-weights", "version": 1, "params": '
                + "[" * 5000 + "]" * 5000 + "}")
    # CPython's parser gives up (RecursionError) and load_params says the file
    # is not readable; Pyodide's parses the nesting, and then the layout is
    # refused.  A DataError naming the file either way, never a RecursionError.
    with pytest.raises(DataError, match=r"bad\.json: (not a readable purenn weights file|"
                                        r'"meta" must be an object and "params")'):
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
