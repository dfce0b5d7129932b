"""The restricted unpickler: numpy arrays in, Matrices out, nothing else runs."""
import os
import pickle
import struct

import pytest
from hypothesis import example, given, settings, strategies as st

from purenn import DataError, Matrix, Network, sigmoid, softmax
from purenn.datasets import load_mnist
from purenn.pickles import load_arrays, load_book_weights, load_numpy_pickle

from fake_numpy import fake_numpy  # noqa: F401 (a fixture)

BOOK_PKL = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "..", "..", "shared", "book", "sample_weight.pkl")


# numpy-shaped pickles without numpy: the fake_numpy fixture (tests/fake_numpy.py)


def dump(tmp_path, obj, protocol=3):
    p = tmp_path / "x.pkl"
    p.write_bytes(pickle.dumps(obj, protocol=protocol))
    return str(p)


@pytest.mark.parametrize("protocol", [0, 1, 2, 3, 4, 5])
def test_c_and_fortran_order_give_the_same_matrix(tmp_path, fake_numpy, protocol):
    a = fake_numpy.ndarray((2, 3), "f8", [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    # the same matrix [[1, 2, 3], [4, 5, 6]] stored column by column
    f = fake_numpy.ndarray((2, 3), "f8", [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], fortran=True)
    assert f.raw() == struct.pack("<6d", 1.0, 4.0, 2.0, 5.0, 3.0, 6.0)
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


# ----------------------------------------- N-D arrays: the convnets' weights

def _c_values(shape, spec):
    """Distinct values for an array of ``shape``, each exact in ``spec``."""
    count = 1
    for d in shape:
        count *= d
    if spec == "b1":
        return [i % 3 == 0 for i in range(count)]
    if spec[0] == "f":
        return [(i - count / 2) / 4 for i in range(count)]
    return [i % 100 for i in range(count)]


SHAPES = [(5,), (2, 3), (2, 3, 4), (3, 1, 2, 2), (1, 1, 1, 1)]


@pytest.mark.parametrize("protocol", range(6))
@pytest.mark.parametrize("fortran", [False, True])
@pytest.mark.parametrize("shape", SHAPES)
def test_load_arrays_keeps_the_shape_and_gives_c_order(tmp_path, fake_numpy, protocol,
                                                        fortran, shape):
    values = _c_values(shape, "f8")
    path = dump(tmp_path, {"W": fake_numpy.ndarray(shape, "f8", values, fortran)}, protocol)
    array = load_arrays(path)["W"]
    assert array.shape == shape and array.dtype == "float64"
    assert array.values == values


@pytest.mark.parametrize("spec, name", [
    ("f8", "float64"), ("f4", "float32"), ("f2", "float16"), ("i1", "int8"), ("u1", "uint8"),
    ("i2", "int16"), ("u2", "uint16"), ("i4", "int32"), ("u4", "uint32"), ("i8", "int64"),
    ("u8", "uint64"), ("b1", "bool")])
@pytest.mark.parametrize("order", ["<", ">"])
def test_every_numeric_dtype_loads_exactly(tmp_path, fake_numpy, spec, name, order):
    values = _c_values((2, 3), spec)
    path = dump(tmp_path, {"a": fake_numpy.ndarray((2, 3), spec, values, order=order)})
    array = load_arrays(path)["a"]
    assert array.dtype == name
    assert array.values == [int(v) for v in values] if spec == "b1" else array.values == values
    assert all(type(v) is (float if spec[0] == "f" else int) for v in array.values)


@pytest.mark.parametrize("shape, matrix_shape", [
    ((5,), (1, 5)), ((2, 3), (2, 3)), ((2, 3, 4), (2, 12)), ((3, 1, 2, 2), (3, 4))])
def test_matrix_of_an_array_has_one_row_per_first_index(tmp_path, fake_numpy, shape,
                                                        matrix_shape):
    values = _c_values(shape, "f8")
    array = load_arrays(dump(tmp_path, {"W": fake_numpy.ndarray(shape, "f8", values)}))["W"]
    m = array.matrix()
    assert m.shape == matrix_shape
    assert [x for row in m.tolist() for x in row] == values   # W.reshape(FN, -1)


def test_arrays_of_five_dimensions_are_refused(tmp_path, fake_numpy):
    shape = (1, 2, 1, 2, 1)
    path = dump(tmp_path, {"W": fake_numpy.ndarray(shape, "f8", _c_values(shape, "f8"))})
    with pytest.raises(DataError, match="1 to 4 dimensions"):
        load_arrays(path)


def test_load_numpy_pickle_refuses_a_4d_array_pointing_to_load_arrays(tmp_path, fake_numpy):
    shape = (2, 1, 2, 2)
    path = dump(tmp_path, {"W1": fake_numpy.ndarray(shape, "f4", _c_values(shape, "f4"))})
    with pytest.raises(DataError, match=r"'W1' is a numpy array of shape \(2, 1, 2, 2\).*"
                                        r"load_arrays"):
        load_numpy_pickle(path)


def test_complex_and_other_dtypes_are_refused(tmp_path):
    # numpy.dtype("c8", False, True), as a complex64 array's pickle names it
    p = tmp_path / "c.pkl"
    p.write_bytes(b"\x80\x02cnumpy\ndtype\nX\x02\x00\x00\x00c8\x89\x88\x87R.")
    with pytest.raises(DataError, match="numpy dtype 'c8': purenn reads numeric arrays only"):
        load_arrays(str(p))


BOOK = os.path.dirname(BOOK_PKL)
BOOK_FILES = {
    "sample_weight.pkl": {"W1": (784, 50), "b1": (50,), "W2": (50, 100), "b2": (100,),
                          "W3": (100, 10), "b3": (10,)},
    "simple_convnet": {"W1": (30, 1, 5, 5), "b1": (30,), "W2": (4320, 100), "b2": (100,),
                       "W3": (100, 10), "b3": (10,)},
    "deep_convnet": dict([("W%d" % (i + 1), s) for i, s in enumerate(
        [(16, 1, 3, 3), (16, 16, 3, 3), (32, 16, 3, 3), (32, 32, 3, 3), (64, 32, 3, 3),
         (64, 64, 3, 3), (1024, 50), (50, 10)])]
        + [("b%d" % (i + 1), (n,)) for i, n in enumerate([16, 16, 32, 32, 64, 64, 50, 10])]),
}


@pytest.mark.parametrize("name, layout, dtype", [
    pytest.param("sample_weight.pkl", "sample_weight.pkl", "float32", marks=pytest.mark.ch3),
    pytest.param("simple_convnet_params_2016.pkl", "simple_convnet", "float64",
                 marks=pytest.mark.ch7),
    pytest.param("simple_convnet_params_2022.pkl", "simple_convnet", "float64",
                 marks=pytest.mark.ch7),
    pytest.param("deep_convnet_params_2016.pkl", "deep_convnet", "float64", marks=pytest.mark.ch8),
    pytest.param("deep_convnet_params_2022.pkl", "deep_convnet", "float64", marks=pytest.mark.ch8),
])
def test_the_books_weight_files_load_with_their_shapes(name, layout, dtype):
    path = os.path.join(BOOK, name)
    if not os.path.isfile(path):
        pytest.skip("the book's %s is not in ../shared/book" % name)
    arrays = load_arrays(path)
    assert dict((k, a.shape) for k, a in arrays.items()) == BOOK_FILES[layout]
    assert set(a.dtype for a in arrays.values()) == {dtype}


@pytest.mark.skipif(not os.path.isfile(BOOK_PKL), reason="the book's sample_weight.pkl is not "
                                                         "in ../shared/book")
def test_fortran_order_book_matrices_match_their_arrays():
    # sample_weight.pkl stores W1 column by column; load_arrays gives C order
    arrays, params = load_arrays(BOOK_PKL), load_book_weights(BOOK_PKL)
    for name in ("W1", "b1", "W3"):
        assert arrays[name].matrix() == params[name]
    assert params["W1"][0, 1] == arrays["W1"].values[1]


def test_load_arrays_agrees_with_numpy_for_every_protocol_dtype_and_order(tmp_path):
    np = pytest.importorskip("numpy")
    base = np.arange(1, 2 * 3 * 2 * 2 + 1).reshape(2, 3, 2, 2)
    cases = []
    for dt in ("f8", "f4", "f2", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "?", ">f8",
               ">i4"):
        for ndim in (1, 2, 3, 4):
            a = (base.reshape(-1)[:[5, 6, 12, 24][ndim - 1]].reshape(
                [(5,), (2, 3), (2, 3, 2), (2, 3, 2, 2)][ndim - 1]) * 0.75 - 3).astype(dt)
            cases += [a, np.asfortranarray(a), a.T, a[::-1]]   # C, Fortran, views
    arrays = dict(("a%d" % i, a) for i, a in enumerate(cases))
    for protocol in range(6):
        p = tmp_path / ("p%d.pkl" % protocol)
        p.write_bytes(pickle.dumps(arrays, protocol=protocol))
        got = load_arrays(str(p))
        for name, a in arrays.items():
            assert got[name].shape == a.shape
            assert got[name].values == a.ravel(order="C").tolist()


# ------------------------------------ only the book's layout: name -> array
# The book's file is one dict of arrays.  Anything else is refused at once,
# so a small pickle cannot make the loader walk a huge structure.

def test_shared_references_do_not_hang(tmp_path):
    # 30 levels of x = [x, x]: a few hundred bytes, 2**30 paths to walk
    x = []
    for _ in range(30):
        x = [x, x]
    path = dump(tmp_path, {"W1": x}, protocol=2)
    with pytest.raises(DataError, match="'W1' is a list of 2 items, not a numpy array"):
        load_numpy_pickle(path)


@pytest.mark.parametrize("pickled", [
    # 5,000 nested lists (]]]...aaa.): deeper than Python's recursion limit
    b"\x80\x02" + b"]" * 5000 + b"a" * 4999 + b".",
    # 5,000 nested MARKs
    b"\x80\x02" + b"(" * 5000 + b"t" * 5000 + b".",
    # each list appended to its parent, then fetched back from the memo and
    # filled: nesting that grows after the fact
    b"\x80\x02]" + b"".join(b"]q%cah%c" % (i, i) for i in range(60)) + b".",
])
def test_nesting_past_the_depth_limit_is_a_data_error(tmp_path, pickled):
    p = tmp_path / "deep.pkl"
    p.write_bytes(pickled)
    with pytest.raises(DataError, match="nested more than 32 deep|fills a container already"):
        load_numpy_pickle(str(p))


@pytest.mark.parametrize("obj, words", [
    ([1.0], "got a list"),
    ((1.0,), "got a tuple"),
    ({"W1": {"inner": 1}}, "'W1' is a dict"),
    ({"W1": 1.5}, "'W1' is a float"),
    ({1: 1.5}, "keys must be strings"),
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
@pytest.mark.ch3
def test_book_network_gets_9352_of_the_mnist_test_set():
    # Chapter 3.6.3, neuralnet_mnist_batch.py: sigmoid, sigmoid, softmax,
    # pixels / 255.0, batch size 100 -> "Accuracy:0.9352".
    params = load_book_weights(BOOK_PKL)
    assert params["W1"].shape == (784, 50) and params["b3"].shape == (1, 10)
    net = Network.from_dict(params, (sigmoid, sigmoid, softmax))
    x, t = load_mnist(kind="test")
    predictions = []
    for start in range(0, 10000, 100):
        predictions += net.predict(x[start:start + 100]).argmax(axis=1)
    assert sum(p == label for p, label in zip(predictions, t)) == 9352
    # the ninth image is a 5 the network takes for a 6 (the book's famous miss)
    assert predictions[:10] == [7, 2, 1, 0, 4, 1, 4, 9, 6, 9] and t[8] == 5


# ------------------------------------------ purenn's pickle machine vs Python's

from purenn import pickles  # noqa: E402

plain = st.recursive(
    st.none() | st.booleans() | st.integers(-2 ** 120, 2 ** 120)
    | st.floats(allow_nan=False) | st.text(max_size=20) | st.binary(min_size=1, max_size=20),
    lambda inner: (st.lists(inner, max_size=4) | st.tuples(inner, inner)
                   | st.dictionaries(st.text(max_size=5), inner, max_size=4)),
    max_leaves=20)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(obj=plain, protocol=st.integers(0, 5))
@example(obj={"a": [1, 2.5, "\n\\\x00é\u20ac"], "b": (None, True, b"\x00\xff")}, protocol=0)
@example(obj=[2 ** 63, -2 ** 63 - 1, 10 ** 30], protocol=0)     # LONG as text
@example(obj=[{"x": (1,)}] * 3, protocol=2)                     # memo GETs
def test_the_machine_rebuilds_plain_values_as_pickle_does(obj, protocol):
    data = pickle.dumps(obj, protocol=protocol)
    assert pickles._Machine(data).run() == pickle.loads(data) == obj


def test_python2_strings_read_as_latin1(tmp_path):
    # protocol 2 pickles of Python 2 str: SHORT_BINSTRING, BINSTRING and STRING
    data = b"\x80\x02(U\x03a\xe9bT\x02\x00\x00\x00\xff\x00S'x\\ny'\nt."
    assert pickles._Machine(data).run() == ("a\xe9b", "\xff\x00", "x\ny")


# ---------------------------------------------- small pickles, big demands

def _write(tmp_path, data):
    p = tmp_path / "attack.pkl"
    p.write_bytes(data)
    return str(p)


def _nested_tuple_key(levels):
    """{t: 1} where t = (t', t') nested ``levels`` deep: a few hundred bytes,
    2**levels tuples to hash."""
    body = b")q\x000" + b"h\x00h\x00\x86q\x000" * levels   # memo[0] = (memo[0], memo[0])
    return b"\x80\x02}" + body + b"h\x00K\x01s."


HOSTILE = [
    # memo index 2**28-1: Python's unpickler allocates a 2 GB memo (4 GB, 13 s, measured)
    (b"\x80\x02Nr\xff\xff\xff\x0f.", "expected a dict"),
    # length fields of 2**63 and more: Python's unpickler raised OverflowError
    (b"\x80\x04\x8e" + struct.pack("<Q", 2 ** 63) + b"abc.", "truncated: BINBYTES8"),
    (b"\x80\x04\x8e" + struct.pack("<Q", 2 ** 64 - 1) + b"abc.", "truncated: BINBYTES8"),
    (b"\x80\x04\x8d" + struct.pack("<Q", 2 ** 63) + b"abc.", "truncated: BINUNICODE8"),
    (b"\x80\x05\x96" + struct.pack("<Q", 2 ** 63) + b"abc.", "truncated: BYTEARRAY8"),
    (b"\x80\x04\x95" + struct.pack("<Q", 2 ** 63) + b"N.", "FRAME longer than the rest"),
    (b"\x80\x02T\xff\xff\xff\xffabc.", "truncated: BINSTRING of -1 bytes"),
    (b"\x80\x02\x8b\xff\xff\xff\x7f.", "LONG4: an integer of 2147483647 bytes"),
    (b"\x80\x02L" + b"9" * 100000 + b"\n.", "LONG at offset 3: 100000 characters"),
    # data after STOP was silently ignored
    (b"\x80\x02}.\x80\x02cos\nsystem\n.", "bytes after the pickle's STOP"),
    (b"\x80\x02}.\n", "1 bytes after the pickle's STOP"),
    (_nested_tuple_key(30), "dict keys must be strings"),
    (b"\x80\x06}.", "protocol 6"),
    (b"\x80\x04\x8f.", "EMPTY_SET"),
    (b"\x80\x05\x97.", "NEXT_BUFFER"),
    (b"\x80\x02" + b"N0" * 150000 + b"}.", "more than 200000 pickle operations"),
    (b"\x80\x02}K\x01K\x02s.", "dict keys must be strings"),
    (b"\x80\x02}X\x01\x00\x00\x00a\x85s.", "the stack is empty"),
    (b"\x80\x02t.", "no MARK"),
    (b"\x80\x02h\x05.", "memo entry 5 was never stored"),
    (b"\x80\x02\xff.", r"invalid pickle opcode b'\\xff'"),
    (b"\x80\x02}", "without its STOP"),
    (b"", "without its STOP"),
]


@pytest.mark.parametrize("data, words", HOSTILE, ids=["%02d" % i for i in range(len(HOSTILE))])
def test_hostile_small_pickles_are_data_errors(tmp_path, data, words):
    with pytest.raises(DataError, match=words):
        load_arrays(_write(tmp_path, data))


def test_an_array_of_more_elements_than_the_limit_is_refused_before_it_is_built(tmp_path):
    from purenn.pickles import ELEMENTS_LIMIT
    shape = (ELEMENTS_LIMIT + 1,)
    p = tmp_path / "big.pkl"
    p.write_bytes(_array_pickle(shape, bytes(4 * (ELEMENTS_LIMIT + 1))))
    with pytest.raises(DataError, match="more than the 4194304 elements"):
        load_arrays(str(p))


# -------------------------- what numpy writes, and what it would refuse

RECONSTRUCT = b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87R"
DTYPE_CALL = b"cnumpy\ndtype\nX\x02\x00\x00\x00f8\x89\x88\x87R"
DTYPE_STATE = b"(K\x03X\x01\x00\x00\x00>NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t"


def _numpy_pickle(reconstruct=RECONSTRUCT, dtype_call=DTYPE_CALL, dtype_state=DTYPE_STATE,
                  version=b"K\x01"):
    """A protocol-2 pickle of {"W": a big-endian float64 array [1.5, -2.0]},
    written opcode by opcode as numpy writes it; each part can be changed."""
    return (b"\x80\x02}(X\x01\x00\x00\x00W" + reconstruct + b"(" + version + b"K\x02\x85"
            + dtype_call + dtype_state + b"b\x89" + pickle.dumps(struct.pack(">2d", 1.5, -2.0),
                                                                 3)[2:-1]
            + b"tbu.")


def test_the_pickle_numpy_writes_loads(tmp_path):
    arrays = load_arrays(_write(tmp_path, _numpy_pickle()))
    assert arrays["W"].shape == (2,) and arrays["W"].values == [1.5, -2.0]


# Each change below is something numpy never writes, found by fuzzing
# purenn against numpy 2.4: numpy refuses most of them, crashes on some
# (flags 91: a SystemError; elsize -27137 in a float32 array: a MemoryError)
# and reads others as other numbers than the bytes mean (dtype("f8") is
# numpy's shared built-in dtype: its state does not set the byte order, so
# numpy reads big-endian bytes as little-endian).  purenn refuses them all.
NOT_AS_NUMPY_WRITES = {   # what is changed: (the parts changed, the words of the message)
    "dtype state version -1": (
        dict(dtype_state=DTYPE_STATE.replace(b"K\x03", b"J\xff\xff\xff\xff")),
        "numpy dtype state"),
    "dtype flags 91": (dict(dtype_state=DTYPE_STATE[:-3] + b"K\x5bt"), "numpy dtype state"),
    "dtype elsize -27137": (
        dict(dtype_state=DTYPE_STATE.replace(b"J\xff\xff\xff\xffJ", b"J\xff\x95\xff\xffJ", 1)),
        "numpy dtype state"),
    "dtype state of 6 items": (
        dict(dtype_state=b"(K\x03X\x01\x00\x00\x00>NNNJ\xff\xff\xff\xfft"), "numpy dtype state"),
    "dtype(spec)": (
        dict(dtype_call=b"cnumpy\ndtype\nX\x02\x00\x00\x00f8\x85R"),
        r"numpy dtype\('f8', align=False, copy=False\)"),
    "dtype(spec, True, False)": (
        dict(dtype_call=b"cnumpy\ndtype\nX\x02\x00\x00\x00f8\x88\x89\x87R"),
        r"numpy dtype\('f8', align=True, copy=False\)"),
    "_reconstruct type code '('": (
        dict(reconstruct=RECONSTRUCT.replace(b"C\x01b", b"C\x01(")), "numpy _reconstruct"),
    "_reconstruct shape ('',)": (
        dict(reconstruct=RECONSTRUCT.replace(b"K\x00\x85", b"X\x00\x00\x00\x00\x85")),
        "numpy _reconstruct"),
    "array state version 2": (dict(version=b"K\x02"),
                              "numpy array state: version 2; numpy writes 1"),
}


@pytest.mark.parametrize("change", sorted(NOT_AS_NUMPY_WRITES))
def test_a_numpy_pickle_numpy_never_writes_is_refused(tmp_path, change):
    parts, words = NOT_AS_NUMPY_WRITES[change]
    with pytest.raises(DataError, match="attack.pkl: " + words):
        load_arrays(_write(tmp_path, _numpy_pickle(**parts)))


def _named(names, n):
    """A protocol-2 pickle storing one uint8 array of ``n`` elements once
    (memo slot 1) and naming it ``names`` times: a few bytes a name."""
    body = (b"X\x02\x00\x00\x00a0" + RECONSTRUCT + b"(K\x01J" + struct.pack("<i", n) + b"\x85"
            + b"cnumpy\ndtype\nX\x02\x00\x00\x00u1\x89\x88\x87R"
            + b"(K\x03X\x01\x00\x00\x00|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
            + b"\x89B" + struct.pack("<I", n) + bytes(n) + b"tbr\x01\x00\x00\x00")
    for i in range(1, names):
        key = b"a%d" % i
        body += b"X" + struct.pack("<I", len(key)) + key + b"j\x01\x00\x00\x00"
    return b"\x80\x02}(" + body + b"u."


def test_one_array_under_two_names_loads_under_both(tmp_path):
    params = load_numpy_pickle(_write(tmp_path, _named(2, 3)))
    assert params == {"a0": Matrix([[0, 0, 0]]), "a1": Matrix([[0, 0, 0]])}


def test_an_array_named_many_times_counts_each_time_toward_the_element_limit(tmp_path):
    # a 4 MB pickle naming one 4-million-element array 1000 times: each name
    # became a matrix of its own (measured: a MemoryError after 53 s and 4 GB)
    with pytest.raises(DataError, match="its 1000 names hold more than the 4194304 array "
                                        "elements"):
        load_numpy_pickle(_write(tmp_path, _named(1000, 4000000)))


def test_an_array_beyond_the_element_limit_is_refused_before_it_is_built(tmp_path, monkeypatch,
                                                                         fake_numpy):
    from purenn import pickles
    monkeypatch.setattr(pickles, "ELEMENTS_LIMIT", 10)
    built = []
    fill = pickles.Array._fill
    monkeypatch.setattr(pickles.Array, "_fill", lambda self, shape, *rest: (
        built.append(shape), fill(self, shape, *rest)))
    six = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    path = dump(tmp_path, {"a": fake_numpy.ndarray((6,), "f8", six),
                           "b": fake_numpy.ndarray((2, 3), "f8", six)}, protocol=5)
    with pytest.raises(DataError, match=r"shape \(2, 3\): more than the 10 elements purenn reads "
                                        r"from a pickle \(with the 6 of the arrays before it\)"):
        load_arrays(path)
    assert built == [(6,)]
