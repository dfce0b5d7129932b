"""The restricted unpickler: numpy arrays in, Matrices out, nothing else runs."""
import os
import pickle
import struct
import sys
import types

import pytest
from hypothesis import example, given, settings, strategies as st

from purenn import DataError, Matrix, Network, sigmoid, softmax
from purenn.datasets import load_mnist
from purenn.pickles import load_book_weights, load_numpy_pickle

BOOK_PKL = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "..", "..", "shared", "book", "sample_weight.pkl")


# ---------------------------------------------- numpy-shaped pickles, no numpy
# A stand-in "numpy" module whose objects pickle exactly as numpy's arrays do
# (ndarray.__reduce__), so the tests need no numpy.

@pytest.fixture
def fake_numpy(monkeypatch):
    np = types.ModuleType("numpy")
    core = types.ModuleType("numpy.core")
    multiarray = types.ModuleType("numpy.core.multiarray")

    class ndarray:
        def __init__(self, shape, spec, values, fortran=False, order="<"):
            self.shape, self.spec, self.values = shape, spec, values
            self.fortran, self.order = fortran, order

        def __reduce__(self):
            code = {"f4": "f", "f8": "d", "i8": "q"}[self.spec]
            raw = struct.pack("%s%d%s" % (self.order, len(self.values), code), *self.values)
            return (multiarray._reconstruct, (ndarray, (0,), b"b"),
                    (1, self.shape, dtype(self.spec, order=self.order), self.fortran, raw))

    class dtype:
        def __init__(self, spec, order="<"):
            self.spec, self.order = spec, order

        def __reduce__(self):
            return (dtype, (self.spec, False, True),
                    (3, self.order, None, None, None, -1, -1, 0))

    def _reconstruct(cls, shape, typecode):
        raise AssertionError("never called when pickling")

    for obj, mod in ((ndarray, "numpy"), (dtype, "numpy"), (_reconstruct, "numpy.core.multiarray")):
        obj.__module__, obj.__qualname__ = mod, obj.__name__
    np.ndarray, np.dtype, np.core = ndarray, dtype, core
    multiarray._reconstruct = _reconstruct
    core.multiarray = multiarray
    for name, mod in (("numpy", np), ("numpy.core", core), ("numpy.core.multiarray", multiarray)):
        monkeypatch.setitem(sys.modules, name, mod)
    return np


def dump(tmp_path, obj, protocol=3):
    p = tmp_path / "x.pkl"
    p.write_bytes(pickle.dumps(obj, protocol=protocol))
    return str(p)


@pytest.mark.parametrize("protocol", [2, 3, 4])
def test_c_and_fortran_order_give_the_same_matrix(tmp_path, fake_numpy, protocol):
    a = fake_numpy.ndarray((2, 3), "f8", [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    # the same matrix [[1, 2, 3], [4, 5, 6]] stored column by column
    f = fake_numpy.ndarray((2, 3), "f8", [1.0, 4.0, 2.0, 5.0, 3.0, 6.0], fortran=True)
    got = load_numpy_pickle(dump(tmp_path, {"a": a, "f": f}, protocol))
    assert got["a"] == Matrix([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]) == got["f"]


def test_float32_values_are_exact_and_big_endian_works(tmp_path, fake_numpy):
    x = struct.unpack("<f", struct.pack("<f", 0.1))[0]    # 0.1 rounded to float32
    arrays = {"b": fake_numpy.ndarray((3,), "f4", [0.1, -2.5, 1e-3]),
              "i": fake_numpy.ndarray((1, 2), "i8", [7, -3], order=">")}
    got = load_numpy_pickle(dump(tmp_path, arrays))
    b, i = got["b"], got["i"]
    assert b.shape == (1, 3) and b[0, 0] == x and b[0, 0] != 0.1
    assert i == Matrix([[7, -3]])


def test_arbitrary_code_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (os.mkdir, (str(marker),))

    path = dump(tmp_path, {"W1": Evil()})
    with pytest.raises(DataError, match="refusing to load posix.mkdir|refusing to load nt.mkdir"):
        load_numpy_pickle(path)
    assert not marker.exists()


def test_builtins_are_refused_too(tmp_path):
    path = dump(tmp_path, {"f": print})
    with pytest.raises(DataError, match="builtins.print"):
        load_numpy_pickle(path)


def test_a_truncated_pickle_is_an_error(tmp_path, fake_numpy):
    path = dump(tmp_path, {"a": fake_numpy.ndarray((2,), "f8", [1.0, 2.0])})
    data = open(path, "rb").read()
    open(path, "wb").write(data[:len(data) // 2])
    with pytest.raises(DataError, match=str(path).replace("\\", "\\\\")):
        load_numpy_pickle(path)


def test_empty_arrays_are_refused(tmp_path, fake_numpy):
    path = dump(tmp_path, {"b": fake_numpy.ndarray((0,), "f8", [])})
    with pytest.raises(DataError, match="every dimension at least 1"):
        load_numpy_pickle(path)


# ------------------------------------ only the book's layout: name -> array
# The book's file is one dict of arrays.  Anything else is refused at once,
# so a small pickle cannot make the loader walk a huge structure.

def test_shared_references_do_not_hang(tmp_path):
    # 40 levels of x = [x, x]: a few hundred bytes, 2**40 paths to walk
    x = []
    for _ in range(40):
        x = [x, x]
    path = dump(tmp_path, {"W1": x}, protocol=2)
    with pytest.raises(DataError, match="'W1' is a list, not a numpy array"):
        load_numpy_pickle(path)


def test_deeply_nested_lists_are_a_data_error_not_a_recursion_error(tmp_path):
    p = tmp_path / "deep.pkl"
    # deeper than Python's recursion limit (1000), so a recursive walk of it
    # would fail; not far deeper, because freeing a 200,000-deep list
    # overflowed Pyodide's WebAssembly stack (a fatal error of the interpreter)
    depth = 5000
    p.write_bytes(b"\x80\x02" + b"]" * depth + b"a" * (depth - 1) + b".")
    with pytest.raises(DataError, match="expected a dict of name -> numpy array"):
        load_numpy_pickle(str(p))


@pytest.mark.parametrize("obj, words", [
    ([1.0], "got list"),
    ((1.0,), "got tuple"),
    ({"W1": {"inner": 1}}, "'W1' is a dict"),
    ({"W1": 1.5}, "'W1' is a float"),
    ({1: 1.5}, "names must be strings"),
])
def test_other_layouts_are_refused(tmp_path, obj, words):
    with pytest.raises(DataError, match=words):
        load_numpy_pickle(dump(tmp_path, obj))


def _array_pickle(shape, raw):
    """A protocol-2 pickle {"W1": array} written opcode by opcode, so any
    shape (even a negative one) can be stated."""
    body = (b"cnumpy.core.multiarray\n_reconstruct\n" + b"cnumpy\nndarray\n" + b"K\x00\x85"
            + b"C\x01b" + b"\x87R" + b"(K\x01" + pickle.dumps(tuple(shape), 2)[2:-1]
            + b"cnumpy\ndtype\nX\x02\x00\x00\x00f4\x89\x88\x87R"
            + b"(K\x03X\x01\x00\x00\x00<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
            + b"\x89" + pickle.dumps(raw, 3)[2:-1] + b"tb")
    return b"\x80\x02}(X\x02\x00\x00\x00W1" + body + b"u."


def test_the_hand_made_pickle_reads_when_its_shape_is_right(tmp_path):
    p = tmp_path / "ok.pkl"
    p.write_bytes(_array_pickle((2, 2), struct.pack("<4f", 1, 2, 3, 4)))
    assert load_numpy_pickle(str(p)) == {"W1": Matrix([[1.0, 2.0], [3.0, 4.0]])}


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(-3, 3), min_size=0, max_size=4))
@example([-2, -2])       # 4 values would fit (-2)*(-2) bytes: was an IndexError
@example([])             # 0-D: a number, no matrix
@example([2, 0])
@example([1, 2, 2])
def test_every_shape_that_is_no_matrix_is_a_data_error(tmp_path_factory, shape):
    count = 1
    for d in shape:
        count *= d
    p = tmp_path_factory.mktemp("shape") / "s.pkl"
    p.write_bytes(_array_pickle(shape, struct.pack("<%df" % abs(count), *[1.0] * abs(count))))
    if 1 <= len(shape) <= 2 and all(d >= 1 for d in shape):
        got = load_numpy_pickle(str(p))["W1"]
        assert got.shape == (tuple(shape) if len(shape) == 2 else (1, shape[0]))
    else:
        with pytest.raises(DataError, match="shape"):
            load_numpy_pickle(str(p))


def test_wrong_network_is_named(tmp_path, fake_numpy):
    path = dump(tmp_path, {"W1": fake_numpy.ndarray((2, 2), "f4", [1.0] * 4)})
    with pytest.raises(DataError, match="W1 has shape \\(2, 2\\)"):
        load_book_weights(path)


# ---------------------------------------------------------- the book's result

@pytest.mark.skipif(not os.path.isfile(BOOK_PKL),
                    reason="the book's sample_weight.pkl is not in ../shared/book "
                           "(it is not shipped with purenn; see purenn.pickles.BOOK_WEIGHTS_HELP)")
def test_book_network_gets_9352_of_the_mnist_test_set():
    # Chapter 3.6.3, neuralnet_mnist_batch.py: sigmoid, sigmoid, softmax,
    # pixels / 255.0, batch size 100 -> "Accuracy:0.9352".
    params = load_book_weights(BOOK_PKL)
    assert params["W1"].shape == (784, 50) and params["b3"].shape == (1, 10)
    net = Network.from_dict(params, (sigmoid, sigmoid, softmax))
    x, t = load_mnist()
    predictions = []
    for start in range(0, 10000, 100):
        predictions += net.predict(x[start:start + 100]).argmax(axis=1)
    assert sum(p == label for p, label in zip(predictions, t)) == 9352
    # the ninth image is a 5 the network takes for a 6 (the book's famous miss)
    assert predictions[:10] == [7, 2, 1, 0, 4, 1, 4, 9, 6, 9] and t[8] == 5
