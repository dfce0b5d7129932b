"""The compact weights format and its forward pass (purenn.compact): exact
storage at each dtype, every corruption a DataError, the same math as
Network.predict within each precision's error."""
import io
import math
import os
import struct
import zlib

import pytest
from hypothesis import example, given, settings, strategies as st

from purenn import DataError, Matrix, compact
from purenn.board import encode_samples
from purenn.precision import encode, error_bound, int8_scales, stored_layers, to_network
from purenn.testing import assert_allclose

pytestmark = pytest.mark.ch8

ACTS = ["identity", "relu", "sigmoid", "tanh"]


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def f16(x):
    return struct.unpack("<e", struct.pack("<e", x))[0]


def small_layers():
    """A 3-4-2 network with every kind of value the formats meet."""
    W1 = [[0.5, -1.25, 0.1, 0.0], [2.0, 0.3, -0.7, 1e-3], [-0.05, 0.9, 1.5, -2.5]]
    W2 = [[1.0, -1.0], [0.25, 0.5], [-0.3, 0.7], [0.0, 0.0]]
    return [(W1, [0.1, -0.2, 0.0, 0.3], "relu"), (W2, [0.05, -0.05], "softmax")]


SMALL = {dtype: encode(small_layers(), dtype, input_scale=0.5) for dtype in compact.DTYPES}


def weights(net, k=0):
    """Layer k's W, row by row, as one list (out of its blocks)."""
    return [v for block in net.layers[k].blocks for v in block]


class Unseekable:
    """A stream with read and readinto only (a socket, a pipe): the reader
    cannot learn the size up front and must find truncation as it reads."""

    def __init__(self, data):
        self._f = io.BytesIO(data)
        self.read, self.readinto = self._f.read, self._f.readinto


class Dribble(io.RawIOBase):
    """A stream that gives at most 3 bytes a call (a slow pipe)."""

    def __init__(self, data):
        self.data, self.at = data, 0

    def readable(self):
        return True

    def readinto(self, b):
        chunk = self.data[self.at:self.at + min(3, len(memoryview(b).cast("B")))]
        self.at += len(chunk)
        memoryview(b).cast("B")[:len(chunk)] = chunk
        return len(chunk)


# ----------------------------------------------------------- the layout

# header + per layer: its header, scales, weights, biases
@pytest.mark.parametrize("dtype, size", [("float32", 24 + (24 + 0 + 48 + 16) + (24 + 0 + 32 + 8)),
                                         ("float16", 24 + (24 + 0 + 24 + 16) + (24 + 0 + 16 + 8)),
                                         ("int8", 24 + (24 + 16 + 12 + 16) + (24 + 8 + 8 + 8))])
def test_file_size_is_headers_plus_scales_weights_biases(dtype, size):
    assert len(SMALL[dtype]) == size


def test_header_fields_are_where_the_format_says():
    data = SMALL["int8"]
    magic, version, dtype, layers, _, length, input_scale, _, crc = \
        struct.unpack("<4sBBBBIfII", data[:24])
    assert (magic, version, dtype, layers, length, input_scale) == (b"PNNC", 1, 3, 2,
                                                                    len(data), 0.5)
    assert crc == zlib.crc32(data[:20])
    D, M, S, act, payload, layer_crc = struct.unpack("<IIIB3xII", data[24:48])
    assert (D, M, S, compact.ACTIVATIONS[act], payload) == (3, 4, 4, "relu", 16 + 12 + 16)
    assert layer_crc == zlib.crc32(data[24:44] + data[48:48 + payload])


def test_crc32_python_is_zlibs():
    data = bytes(range(256)) * 3 + b"purenn"
    assert compact.crc32_python(data) == zlib.crc32(data)
    assert compact.crc32_python(data[100:], compact.crc32_python(data[:100])) == zlib.crc32(data)


def test_reading_without_binascii_uses_the_python_crc(monkeypatch):
    monkeypatch.setattr(compact, "_crc32", None)
    assert compact.load(io.BytesIO(SMALL["float32"])).sizes == [3, 4, 2]


def test_halves_by_hand_decode_every_float16_like_struct():
    data = b"".join(struct.pack("<H", h) for h in range(65536))
    by_hand = compact._halves_by_hand(data, 65536)
    by_struct = struct.unpack("<65536e", data)
    same = [a == b or (a != a and b != b) for a, b in zip(by_hand, by_struct)]
    assert all(same), same.index(False)


# ------------------------------------------------------- what is stored

def layer_strategy():
    dims = st.tuples(st.integers(1, 5), st.integers(1, 5))
    weights = st.floats(-4, 4, allow_nan=False, width=64)
    return dims.flatmap(lambda s: st.tuples(
        st.lists(st.lists(weights, min_size=s[1], max_size=s[1]), min_size=s[0], max_size=s[0]),
        st.lists(weights, min_size=s[1], max_size=s[1]),
        st.sampled_from(ACTS)))


@settings(max_examples=40, deadline=None)
@given(layer=layer_strategy())
@example(layer=([[0.1, -0.0], [1e-9, 3.0]], [0.5, -0.5], "relu"))
def test_float32_stores_each_weight_rounded_to_float32(layer):
    net = compact.load(io.BytesIO(encode([layer], "float32")))
    W = layer[0]
    assert weights(net) == [f32(v) for row in W for v in row]
    assert list(net.layers[0].biases) == [f32(v) for v in layer[1]]


@settings(max_examples=40, deadline=None)
@given(layer=layer_strategy())
@example(layer=([[1e-7], [65504.0 / 65536]], [0.0], "identity"))  # a float16 subnormal
def test_float16_stores_each_weight_rounded_to_float16(layer):
    net = compact.load(io.BytesIO(encode([layer], "float16")))
    assert weights(net) == [f16(v) for row in layer[0] for v in row]


@settings(max_examples=40, deadline=None)
@given(layer=layer_strategy(), per=st.sampled_from(["column", "layer"]))
@example(layer=([[0.0, 1.0], [0.0, -1.0]], [0.0, 0.0], "relu"), per="column")  # a zero column
@example(layer=([[4.645386328334962e-42]], [0.0], "identity"), per="column")  # a subnormal scale
@example(layer=([[1e-300, 1.0]], [0.0, 0.0], "identity"), per="column")  # scale 0 in float32
def test_int8_weights_are_within_half_a_scale(layer, per):
    net = compact.load(io.BytesIO(encode([layer], "int8" if per == "column" else "int8-layer")))
    (V, _, _), = stored_layers(net)
    W = layer[0]
    scales = int8_scales(W, per)
    for i, row in enumerate(W):
        for j, w in enumerate(row):
            s = scales[j] if per == "column" else scales[0]
            assert abs(V[i, j] - w) <= s / 2 * (1 + 1e-6), (i, j, w, V[i, j], s)


@pytest.mark.parametrize("per, count", [("column", 4), ("layer", 1)])
def test_int8_scales_are_one_per_column_or_one_per_layer(per, count):
    net = compact.load(io.BytesIO(encode(small_layers(), "int8" if per == "column"
                                         else "int8-layer")))
    assert len(net.layers[0].scales) == count


def test_int8_largest_weight_of_a_column_is_127():
    net = compact.load(io.BytesIO(SMALL["int8"]))
    w = weights(net)
    assert [max(abs(w[i * 4 + j]) for i in range(3)) for j in range(4)] == [127, 127, 127, 127]


@pytest.mark.parametrize("block_bytes, rows", [(1024, [3]), (32, [2, 1]), (16, [1, 1, 1]),
                                               (1, [1, 1, 1])])
def test_w_is_held_in_blocks_of_whole_rows(monkeypatch, block_bytes, rows):
    monkeypatch.setattr(compact, "BLOCK_BYTES", block_bytes)
    net = compact.load(io.BytesIO(SMALL["float32"]))
    assert [len(block) // 4 for block in net.layers[0].blocks] == rows
    assert weights(net) == [f32(v) for row in small_layers()[0][0] for v in row]


@pytest.mark.parametrize("dtype", compact.DTYPES)
@pytest.mark.parametrize("block_bytes", [1, 16, 1024])
def test_predict_does_not_depend_on_the_blocks(monkeypatch, dtype, block_bytes):
    one = list(compact.load(io.BytesIO(SMALL[dtype])).predict([3, 0, 5]))
    monkeypatch.setattr(compact, "BLOCK_BYTES", block_bytes)
    assert list(compact.load(io.BytesIO(SMALL[dtype])).predict([3, 0, 5])) == one


# ------------------------------------------------------------ bad files

@pytest.mark.parametrize("dtype", compact.DTYPES)
def test_every_flipped_bit_is_a_data_error(dtype):
    data = SMALL[dtype]
    for position in range(len(data)):
        for bit in range(8):
            bad = bytearray(data)
            bad[position] ^= 1 << bit
            with pytest.raises(DataError):
                compact.load(io.BytesIO(bytes(bad)))


@pytest.mark.parametrize("stream", [io.BytesIO, Unseekable, Dribble])
@pytest.mark.parametrize("dtype", compact.DTYPES)
def test_every_truncation_is_a_data_error_that_says_so(dtype, stream):
    data = SMALL[dtype]
    for n in range(len(data)):
        with pytest.raises(DataError, match="truncated|not a purenn compact"):
            compact.load(stream(data[:n]))


@pytest.mark.parametrize("dtype", compact.DTYPES)
def test_a_stream_that_gives_a_few_bytes_at_a_time_is_read_whole(dtype):
    assert weights(compact.load(Dribble(SMALL[dtype]))) == weights(compact.load(
        io.BytesIO(SMALL[dtype])))


@pytest.mark.parametrize("stream", [io.BytesIO, Unseekable, Dribble])
def test_bytes_after_the_last_layer_are_a_data_error(stream):
    with pytest.raises(DataError, match="not one compact file"):
        compact.load(stream(SMALL["float32"] + b"\x00"))


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=200))
@example(data=b"PNNC")
@example(data=b"PNNC\x01\x03\x01\x00" + b"\xff" * 16)
def test_random_bytes_are_a_data_error(data):
    with pytest.raises(DataError):
        compact.load(io.BytesIO(data))


def rewrite(data, offset, fmt, *values):
    """data with ``struct.pack(fmt, *values)`` at offset and every CRC made
    right again: a file that only its checks of meaning can refuse."""
    out = bytearray(data)
    struct.pack_into(fmt, out, offset, *values)
    struct.pack_into("<I", out, 20, zlib.crc32(bytes(out[:20])))
    at = 24
    while at < len(out):
        payload = struct.unpack_from("<I", out, at + 16)[0]
        end = at + 24 + payload
        crc = zlib.crc32(bytes(out[at + 24:end]), zlib.crc32(bytes(out[at:at + 20])))
        struct.pack_into("<I", out, at + 20, crc)
        at = end
    return bytes(out)


@pytest.mark.parametrize("offset, fmt, value, message", [
    (4, "<B", 2, "version 2"),
    (5, "<B", 9, "dtype code 9"),
    (6, "<B", 0, "0 layers"),
    (12, "<f", float("nan"), "input scale nan"),
    (12, "<f", -1.0, "input scale -1.0"),
    (8, "<I", 2 ** 31, "more than the"),
    (24, "<I", 2 ** 20, "payload of 44 bytes"),       # 1,048,576 rows: no huge allocation
    (28, "<I", 0, "not a valid layer"),
    (32, "<I", 2, "2 scale factors"),
    (36, "<B", 7, "activation code 7"),
])
def test_headers_that_make_no_sense_are_data_errors(offset, fmt, value, message):
    with pytest.raises(DataError, match=message):
        compact.load(io.BytesIO(rewrite(SMALL["int8"], offset, fmt, value)))


def test_layers_that_do_not_chain_are_a_data_error():
    data = rewrite(SMALL["float32"], 24 + 24 + 64, "<I", 5)   # layer 2's rows
    with pytest.raises(DataError, match="layer 2 has 5 inputs but layer 1 has 4 outputs"):
        compact.load(io.BytesIO(data))


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_weight_that_is_not_finite_is_a_data_error(value):
    data = rewrite(SMALL["float32"], 48, "<f", value)
    with pytest.raises(DataError, match="layer 1: a weight of"):
        compact.load(io.BytesIO(data))


def test_an_int8_scale_of_zero_is_a_data_error():
    with pytest.raises(DataError, match="a scale of 0.0"):
        compact.load(io.BytesIO(rewrite(SMALL["int8"], 48, "<f", 0.0)))


def test_a_gzip_file_is_not_a_compact_file():
    with pytest.raises(DataError, match="not a purenn compact weights file"):
        compact.load(io.BytesIO(b"\x1f\x8b\x08\x00" + b"\x00" * 40))


def test_load_refuses_a_folder(tmp_path):
    with pytest.raises(DataError, match="not a regular file"):
        compact.load(str(tmp_path))


def test_load_reads_a_file_on_disk(tmp_path):
    path = tmp_path / "net.bin"
    path.write_bytes(SMALL["int8"])
    assert compact.load(str(path)).size == len(SMALL["int8"])


def test_load_refuses_a_file_above_the_limit(tmp_path):
    path = tmp_path / "net.bin"
    path.write_bytes(SMALL["int8"])
    with pytest.raises(DataError, match="more than the 100"):
        compact.load(str(path), limit=100)


# ----------------------------------------------------------- writing

@pytest.mark.parametrize("layers, dtype, message", [
    ([([[70000.0]], [0.0], "relu")], "float16", "outside float16's range"),
    ([([[1e39]], [0.0], "relu")], "float32", "outside float32's range"),
    ([([[float("nan")]], [0.0], "relu")], "int8", "holds nan"),
    ([([[1.0]], [float("inf")], "relu")], "int8", "layer 1 b holds inf"),
    ([([[1.0]], [0.0], "step")], "int8", "activation 'step'"),
    ([([[1.0]], [0.0], "softmax"), ([[1.0]], [0.0], "relu")], "int8", "softmax only ends"),
    ([([[1.0, 2.0]], [0.0, 0.0], "relu"), ([[1.0]], [0.0], "relu")], "int8", "has 1 inputs"),
    ([([[1.0, 2.0]], [0.0], "relu")], "int8", "1 biases for 2 columns"),
    ([([[1.0]], [0.0], "relu")], "int4", "precision must be one of"),
    ([([[1.0]], [0.0], "relu")], "float64", "stores float32, float16 or int8"),
    ([], "int8", "1 to 64 layers"),
])
def test_encode_refuses_what_no_file_can_hold(layers, dtype, message):
    with pytest.raises(ValueError, match=message):
        encode(layers, dtype)


def test_encode_takes_matrices():
    W, b, act = small_layers()[0]
    assert encode([(Matrix(W), Matrix([b]), act)], "int8") == encode([(W, b, act)], "int8")


def test_encode_is_deterministic():
    assert encode(small_layers(), "float16") == encode(small_layers(), "float16")


# -------------------------------------------------------------- samples

SAMPLES = encode_samples([(3, [0, 1, 2, 255]), (9, [7, 7, 7, 7]), (0, [0] * 4)])


def test_samples_come_back_in_order():
    got = [(label, bytes(v)) for label, v in compact.read_samples(io.BytesIO(SAMPLES))]
    assert got == [(3, b"\x00\x01\x02\xff"), (9, b"\x07" * 4), (0, b"\x00" * 4)]


@pytest.mark.parametrize("stream", [io.BytesIO, Unseekable])
def test_every_truncated_samples_file_is_a_data_error(stream):
    for n in range(len(SAMPLES)):
        with pytest.raises(DataError):
            list(compact.read_samples(stream(SAMPLES[:n])))


def test_a_corrupt_sample_is_a_data_error_after_the_last():
    bad = bytearray(SAMPLES)
    bad[25] ^= 0x10
    with pytest.raises(DataError, match="samples' checksum does not match"):
        list(compact.read_samples(io.BytesIO(bytes(bad))))


@pytest.mark.parametrize("samples, message", [
    ([], "no samples"), ([(1, [1, 2]), (2, [1])], "sample 2 has 1 values"),
    ([(256, [1])], "ints 0..255"), ([(1, [1.5])], "ints 0..255"),
])
def test_encode_samples_refuses_what_is_not_bytes(samples, message):
    with pytest.raises(ValueError, match=message):
        encode_samples(samples)


# ----------------------------------------------- the forward pass, checked

def board_float32(stored, x, input_scale):
    """What a float32 board computes (MICROPY_FLOAT_IMPL_FLOAT): the same
    steps as CompactLayer.forward with every product, sum and function value
    rounded through struct 'f' on its own."""
    z = [float(v) for v in x]
    first = True
    for W, b, name in stored:
        W, b = W.tolist(), b.tolist()[0]
        M = len(b)
        out = [0.0] * M
        for i, zi in enumerate(z):
            if zi:
                for j in range(M):
                    out[j] = f32(out[j] + f32(zi * W[i][j]))
        scale = f32(input_scale) if first else 1.0
        out = [f32(f32(v * scale) + f32(c)) for v, c in zip(out, b)]
        first = False
        if name == "relu":
            out = [v if v > 0 else 0.0 for v in out]
        elif name == "sigmoid":
            out = [f32(1 / (1 + f32(math.exp(-v)))) if v >= 0
                   else f32(f32(math.exp(v)) / (1 + f32(math.exp(v)))) for v in out]
        elif name == "tanh":
            out = [f32(math.tanh(v)) for v in out]
        elif name == "softmax":
            top = max(out)
            e = [f32(math.exp(f32(v - top))) for v in out]
            total = 0.0
            for v in e:
                total = f32(total + v)
            out = [f32(v / total) for v in e]
        z = out
    return z


def network_strategy():
    sizes = st.lists(st.integers(1, 6), min_size=2, max_size=4)
    weights = st.floats(-3, 3, allow_nan=False)
    return sizes.flatmap(lambda s: st.tuples(*[
        st.tuples(st.lists(st.lists(weights, min_size=s[k + 1], max_size=s[k + 1]),
                           min_size=s[k], max_size=s[k]),
                  st.lists(weights, min_size=s[k + 1], max_size=s[k + 1]),
                  st.sampled_from(ACTS + (["softmax"] if k == len(s) - 2 else [])))
        for k in range(len(s) - 1)]))


inputs = st.lists(st.integers(0, 255), min_size=6, max_size=6)


@settings(max_examples=40, deadline=None)
@given(layers=network_strategy(), x=inputs, dtype=st.sampled_from(compact.DTYPES))
@example(layers=(([[100.0]], [-100.0], "sigmoid"), ([[1.0, -1.0]], [0.0, 0.0], "softmax")),
         x=[255, 0, 0, 0, 0, 0], dtype="float32")  # exp(-a) beyond float32 at a = -100
@example(layers=(([[1.401298464324817e-45]], [0.0], "identity"),), x=[1, 0, 0, 0, 0, 0],
         dtype="float32")  # 1.4e-45 / 255 is below float32's smallest subnormal: 0
def test_compact_predict_is_network_predict_within_the_stated_error(layers, x, dtype):
    layers = [(Matrix(W), Matrix([b]), name) for W, b, name in layers]
    x = x[:layers[0][0].shape[0]]
    net = compact.load(io.BytesIO(encode(layers, dtype, input_scale=1 / 255)))
    stored = stored_layers(net)
    got = list(net.predict(bytes(x)))
    want = to_network(layers).predict(Matrix([x]) * (1 / 255)).tolist()[0]
    bound = error_bound(layers, stored, [x], 1 / 255).tolist()[0]
    for g, w, d in zip(got, want, bound):
        assert abs(g - w) <= d, (got, want, bound)


@settings(max_examples=40, deadline=None)
@given(layers=network_strategy(), x=inputs, dtype=st.sampled_from(compact.DTYPES))
def test_a_float32_board_computes_the_compact_scores_within_float32_rounding(layers, x, dtype):
    layers = [(Matrix(W), Matrix([b]), name) for W, b, name in layers]
    x = x[:layers[0][0].shape[0]]
    net = compact.load(io.BytesIO(encode(layers, dtype, input_scale=1 / 255)))
    stored = stored_layers(net)
    board = board_float32(stored, x, 1 / 255)
    want = to_network(stored).predict(Matrix([x]) * (1 / 255)).tolist()[0]
    bound = error_bound(stored, stored, [x], 1 / 255).tolist()[0]
    for g, w, d in zip(board, want, bound):
        assert abs(g - w) <= d, (board, want, bound)


def test_sigmoid_of_large_negative_sums_is_exp_not_overflow():
    layers = [([[1.0]], [-120.0], "sigmoid")]
    net = compact.load(io.BytesIO(encode(layers, "float32")))
    assert list(net.predict([0.0])) == [f32(math.exp(-120.0))]
    assert list(net.predict([1000.0])) == [1.0]


def test_softmax_of_large_scores_sums_to_one():
    layers = [([[1000.0, 0.0, -1000.0]], [0.0, 0.0, 0.0], "softmax")]
    net = compact.load(io.BytesIO(encode(layers, "float32")))
    assert_allclose(list(net.predict([1.0])), [1.0, 0.0, 0.0], abs_tol=1e-30)


def test_classify_is_the_first_highest_score():
    layers = [([[1.0, 1.0, 0.5]], [0.0, 0.0, 0.0], "identity")]
    net = compact.load(io.BytesIO(encode(layers, "float32")))
    assert net.classify([1.0]) == 0


def test_classify_of_a_nan_score_is_no_prediction():
    layers = [([[1.0, -1.0]], [0.0, 0.0], "identity"), ([[1.0], [1.0]], [0.0], "identity")]
    net = compact.load(io.BytesIO(encode(layers, "float32")))
    assert net.classify([float("inf")]) == -1           # inf - inf


def test_predict_refuses_a_sample_of_the_wrong_size():
    net = compact.load(io.BytesIO(SMALL["int8"]))
    with pytest.raises(ValueError, match="a sample of 2 values for a network with 3 inputs"):
        net.predict([1, 2])


def test_the_probe_is_called_after_each_layer():
    calls = []
    net = compact.load(io.BytesIO(SMALL["int8"]), probe=lambda: calls.append("load"))
    net.predict([1, 2, 3], probe=lambda: calls.append("layer"))
    assert calls == ["load", "load", "layer", "layer"]


@pytest.mark.parametrize("dtype, nbytes", [("float32", 4 * (12 + 8) + 4 * (4 + 4 + 4 + 2 + 2)),
                                           ("int8", 12 + 8 + 4 * 3 * (4 + 2) + 4 * (4 + 2))])
def test_nbytes_counts_the_arrays(dtype, nbytes):
    assert compact.load(io.BytesIO(SMALL[dtype])).nbytes == nbytes


# ------------------------------------------ the bytes MicroPython checks

def _mpy_checks():
    import importlib.util
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mpy_core_checks.py")
    spec = importlib.util.spec_from_file_location("mpy_core_checks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_micropython_checks_hold_the_bytes_purenn_writes():
    checks = _mpy_checks()
    assert bytes.fromhex(checks.COMPACT_INT8) == encode(checks.COMPACT_LAYERS, "int8",
                                                        input_scale=0.5)
    assert bytes.fromhex(checks.COMPACT_SAMPLES_FILE) == encode_samples(checks.COMPACT_SAMPLES)


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float32", "int8"])
def test_a_float32_board_classifies_the_optdigits_test_set_as_float64_does(dtype):
    # the shipped network on its 1,797 test images, every operation rounded to float32
    from purenn.datasets import load_digits
    from purenn.precision import DenseModel, OPTDIGITS_NETWORK, shipped_path
    from purenn.recognize import load_network
    model = DenseModel.from_network(load_network(shipped_path(OPTDIGITS_NETWORK))[0], 1 / 16)
    raw, t = load_digits(normalize=False, kind="test")
    net = compact.load(io.BytesIO(encode(model.layers, dtype, 1 / 16)))
    stored = stored_layers(net)
    board = [max(range(10), key=board_float32(stored, x, 1 / 16).__getitem__)
             for x in raw.tolist()]
    x = raw * (1 / 16)
    same_weights = model.classes_at(dtype, x)       # float64 arithmetic, the stored weights
    assert sum(1 for b, e in zip(board, same_weights) if b != e) <= 1   # a near tie at most
    float64 = model.classes_at("float64", x)
    correct = [sum(1 for c, label in zip(cs, t) if c == label) for cs in (board, float64)]
    assert abs(correct[0] - correct[1]) / len(t) <= 0.005, correct
