"""The compact data path: ``Matrix.from_bytes`` (a ``BytesMatrix``, one byte an
element) and ``load_mnist``, which gives one.

A BytesMatrix must be indistinguishable from the Matrix of the same numbers:
every comparison here is exact (``==``), and a network trained on it must end
with the same weights (and so the same accuracy) as on rows of floats.
"""
import pickle

import pytest
from hypothesis import given, settings, strategies as st

from purenn.datasets import load_mnist, _pixel_rows, read_idx, find_mnist
from purenn.matrix import BytesMatrix, Matrix, _bytes_transpose
from purenn.multilayer import MultiLayerNet
from purenn.trainer import Trainer

TABLE = [p / 255.0 for p in range(256)]


@st.composite
def byte_rows(draw):
    rows, cols = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    return draw(st.binary(min_size=rows * cols, max_size=rows * cols)), cols


def _pair(data, cols, table=TABLE):
    compact = Matrix.from_bytes(data, cols, table)
    plain = Matrix([[table[b] for b in data[i:i + cols]] for i in range(0, len(data), cols)])
    return compact, plain


@settings(deadline=None, max_examples=50)
@given(byte_rows())
def test_from_bytes_equals_the_matrix_of_its_values(case):
    compact, plain = _pair(*case)
    assert isinstance(compact, BytesMatrix) and compact == plain and compact.shape == plain.shape


@settings(deadline=None, max_examples=50)
@given(byte_rows(), st.data())
def test_rows_sliced_and_picked_equal_the_plain_matrix(case, data):
    compact, plain = _pair(*case)
    n = plain.shape[0]
    a = data.draw(st.integers(0, n - 1))
    b = data.draw(st.integers(a + 1, n))
    picked = data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=5))
    assert (compact[a:b], compact[::-1], compact[picked], compact[a]) == \
        (plain[a:b], plain[::-1], plain[picked], plain[a])


def _index_keys(n):
    ints = st.integers(-n - 1, n)
    slices = st.builds(slice, st.none() | ints, st.none() | ints, st.sampled_from([None, 1, 2, -1]))
    return ints | slices | st.lists(ints, max_size=4)


def _outcome(m, key):
    try:
        return m[key]
    except Exception as e:  # the error must be the plain matrix's, word for word
        return (type(e), str(e))


@settings(deadline=None, max_examples=200)
@given(byte_rows(), st.data())
def test_rows_and_columns_equal_the_plain_matrix(case, data):
    compact, plain = _pair(*case)
    n, m = plain.shape
    key = (data.draw(_index_keys(n)), data.draw(_index_keys(m)))
    assert _outcome(compact, key) == _outcome(plain, key)


def test_rows_and_columns_decode_only_the_rows_asked_for():
    # review: b[rows, a:b] decoded the whole data set first (3.3 s on MNIST's
    # 60,000 rows; b[rows][:, a:b] took 0.2 ms)
    compact = Matrix.from_bytes(bytes(range(256)) * 40, 16, TABLE)  # 640 rows
    assert compact[[3, 600], 2:5] == Matrix([[TABLE[50], TABLE[51], TABLE[52]],
                                             [TABLE[130], TABLE[131], TABLE[132]]])
    assert compact[5, 3] == TABLE[83] and compact[0:2, [0, 15]].shape == (2, 2)
    assert "rows" not in compact._cache  # nothing else was decoded


@settings(deadline=None, max_examples=50)
@given(byte_rows())
def test_iteration_and_tolist_equal_the_plain_matrix(case):
    compact, plain = _pair(*case)
    assert (list(compact), compact.tolist()) == (list(plain), plain.tolist())


@settings(deadline=None, max_examples=50)
@given(byte_rows())
def test_arithmetic_on_a_bytes_matrix_equals_the_plain_matrix(case):
    compact, plain = _pair(*case)
    assert (compact * 2 + 1, compact.T, compact.sum(axis=0)) == \
        (plain * 2 + 1, plain.T, plain.sum(axis=0))


@settings(deadline=None, max_examples=50)
@given(byte_rows())
def test_the_transpose_decoded_from_the_bytes_is_the_plain_transpose(case):
    # PyPy's BytesMatrix.T decodes columns from the bytes; tested here on every Python
    compact, plain = _pair(*case)
    picked = compact[list(range(compact.shape[0]))[::-1]]
    for m, reference in ((compact, plain.T), (picked, Matrix(plain.tolist()[::-1]).T)):
        t = _bytes_transpose(m)
        assert type(t) is Matrix and t == reference and t.tolist() == reference.tolist()
        assert _bytes_transpose(m) is t and t.T is m   # made once, as Matrix.T


def test_an_element_is_its_table_value():
    m = Matrix.from_bytes(bytes([0, 255, 51, 7]), 2, TABLE)
    assert (m[0, 1], m[1, 0], m[-1, -1]) == (1.0, 0.2, 7 / 255.0)


def test_without_a_table_the_elements_are_the_bytes():
    assert Matrix.from_bytes(b"\x00\x10\xff\x01", 2) == Matrix([[0, 16], [255, 1]])


@settings(deadline=None, max_examples=20)
@given(byte_rows())
def test_a_bytes_matrix_survives_pickle(case):
    compact, plain = _pair(*case)
    back = pickle.loads(pickle.dumps(compact))
    assert isinstance(back, BytesMatrix) and back == plain


@pytest.mark.parametrize("data, cols, table, message", [
    (b"\x01\x02\x03", 2, None, "3 bytes do not make rows of 2"),
    (b"", 2, None, "0 bytes do not make rows of 2"),
    (b"\x01\x02", 0, None, "2 bytes do not make rows of 0"),
    (b"\x01\x02", 1, [0.0] * 255, "the table needs 256 numbers, got 255"),
])
def test_from_bytes_refuses_what_does_not_make_a_matrix(data, cols, table, message):
    with pytest.raises(ValueError, match=message):
        Matrix.from_bytes(data, cols, table)


def test_from_bytes_refuses_a_table_of_non_numbers():
    with pytest.raises(TypeError, match="real numbers"):
        Matrix.from_bytes(b"\x01", 1, ["a"] * 256)


def test_a_row_index_out_of_range_is_an_index_error():
    with pytest.raises(IndexError, match="row 2 is out of range"):
        Matrix.from_bytes(b"\x01\x02", 1)[2]


# ------------------------------------------------------------ load_mnist

def _float_rows(normalize):
    """The MNIST test images as the float rows load_mnist made before (the reference)."""
    images, _ = find_mnist("test")
    (count, _, _), pixels = read_idx(images, ndim=3)
    return _pixel_rows(pixels, count, 784, 255.0 if normalize else None)


@pytest.mark.slow
@pytest.mark.parametrize("normalize", [True, False])
def test_load_mnist_gives_the_values_of_the_float_rows(normalize):
    x, _ = load_mnist(kind="test", normalize=normalize)
    assert isinstance(x, BytesMatrix) and x.tolist() == _float_rows(normalize)


@pytest.mark.slow
@pytest.mark.ch6
def test_training_on_the_compact_set_gives_the_weights_and_accuracy_of_float_rows():
    x, t = load_mnist(kind="test")
    x, t = x[:2000], t[:2000]
    plain = Matrix(x.tolist())
    results = []
    for data in (x, plain):
        net = MultiLayerNet(784, [30], 10, seed=1)
        history = Trainer(net, data, t, data[:500], t[:500], epochs=1, mini_batch_size=100,
                          optimizer="adam", optimizer_param={"lr": 0.01}, verbose=False).train()
        results.append((net.params, history["train_acc"], history["test_acc"]))
    assert results[0] == results[1]
