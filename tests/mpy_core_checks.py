"""The portable core's checks, as plain asserts: they run on MicroPython too.

    micropython -X heapsize=64M tests/mpy_core_checks.py
    node ci/micropython_run.mjs tests/mpy_core_checks.py
    python tests/mpy_core_checks.py

MicroPython has no pytest, so this file is its test suite: each ``check_*``
function asserts one thing about the core (gates, activations, the 3-layer
network, broadcasting, shape errors, the generator), and ``main()`` prints
``N passed, N failed`` and returns the number failed.  pytest runs the same
checks on every other runtime (tests/test_portability.py), so a check that
is wrong fails there too.

Reference values are the book's (section numbers given) or exact values
computed once with CPython and checked against the book's printed digits.
"""
import sys

if __name__ == "__main__":
    # the repository root, so that ``import purenn`` finds this checkout
    _here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
    sys.path.insert(0, _here + "/..")

import math

from purenn import (Matrix, ShapeError, AND, OR, NAND, XOR, Perceptron, step_function, sigmoid,
                    tanh, relu, leaky_relu, identity_function, softmax, init_network, forward,
                    Layer, Network, Random)
from purenn import kernels


def close(a, b, tol=1e-12):
    """|a - b| <= tol for numbers or equal-length (nested) lists of numbers."""
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(close(x, y, tol) for x, y in zip(a, b))
    return abs(a - b) <= tol


def raises(exc, f, *args):
    """The exception ``f(*args)`` raised (failing when it raised none, or another kind)."""
    try:
        f(*args)
    except exc as e:
        return e
    raise AssertionError("%s not raised" % exc.__name__)


# ------------------------------------------------------------- chapter 2

def check_gate_truth_tables():
    # section 2.3: AND, NAND, OR; section 2.5.2: XOR from two layers
    inputs = ((0, 0), (1, 0), (0, 1), (1, 1))
    assert [AND(a, b) for a, b in inputs] == [0, 0, 0, 1]
    assert [NAND(a, b) for a, b in inputs] == [1, 1, 1, 0]
    assert [OR(a, b) for a, b in inputs] == [0, 1, 1, 1]
    assert [XOR(a, b) for a, b in inputs] == [0, 1, 1, 0]


def check_perceptron_takes_a_sequence():
    p = Perceptron((0.5, 0.5), -0.7)
    assert p((1, 1)) == 1 and p([1, 0]) == 0


# ----------------------------------------------------------- chapter 3.2

def check_step_function():
    assert step_function(Matrix([[-1.0, 0.0, 2.0]])) == Matrix([[0, 0, 1]])
    assert step_function(0) == 0


def check_sigmoid_reference_values():
    # section 3.2.4: sigmoid(np.array([-1.0, 1.0, 2.0])) -> [0.26894142 0.73105858 0.88079708]
    y = sigmoid([-1.0, 1.0, 2.0])
    assert close(y, [0.2689414213699951, 0.7310585786300049, 0.8807970779778823])
    assert close(y, [0.26894142, 0.73105858, 0.88079708], 5e-9)
    assert sigmoid(0.0) == 0.5


def check_sigmoid_never_overflows():
    # math.exp(1000) raises OverflowError on CPython and ValueError on MicroPython
    assert sigmoid(-1000.0) == 0.0 and sigmoid(1000.0) == 1.0
    assert sigmoid(Matrix([[-1e308, 1e308]])) == Matrix([[0.0, 1.0]])


def check_tanh_relu_leaky_identity():
    assert tanh(0.0) == 0.0 and tanh(1000.0) == 1.0 and tanh(-1000.0) == -1.0
    assert relu(Matrix([[-2.0, 0.0, 3.0]])) == Matrix([[0.0, 0.0, 3.0]])
    assert close(leaky_relu([-100.0, 5.0], alpha=0.1), [-10.0, 5.0])
    assert close(leaky_relu(-3.0), -0.03)
    m = Matrix([[0.3, -0.7]])
    assert identity_function(m) is m


def check_softmax_reference_values():
    # section 3.5.1: softmax(np.array([0.3, 2.9, 4.0])) -> [0.01821127 0.24519181 0.73659691]
    y = softmax([0.3, 2.9, 4.0])
    assert close(y, [0.01821127, 0.24519181, 0.73659691], 5e-9)
    assert close(y, [0.018211273295547534, 0.24519181293507392, 0.7365969137693786])
    assert close(sum(y), 1.0, 1e-15)


def check_softmax_large_scores_do_not_overflow():
    # section 3.5.2: [1010, 1000, 990] would be nan without subtracting the max
    y = softmax([1010, 1000, 990])
    assert close(y, [0.999954600070331, 4.539786860886666e-05, 2.061060046209062e-09], 1e-15)


def check_softmax_rows_sum_to_one():
    y = softmax(Matrix([[0.0, 0.0], [1.0, 3.0], [-500.0, 500.0]]))
    assert y.shape == (3, 2)
    for row in y.tolist():
        assert close(sum(row), 1.0, 1e-15)
    assert y[0] == Matrix([[0.5, 0.5]])


# ----------------------------------------------------------- chapter 3.4

def check_three_layer_network_output():
    # section 3.4.3: print(y) -> [0.31682708 0.69627909]
    y = forward(init_network(), [1.0, 0.5])
    assert y.shape == (1, 2)
    assert close(y.tolist()[0], [0.3168270764110298, 0.6962790898619668], 1e-12)
    assert close(y.tolist()[0], [0.31682708, 0.69627909], 5e-9)


def check_network_class_matches_forward():
    net = Network.from_dict(init_network())
    x = [[1.0, 0.5], [0.0, 0.0], [-1.0, 2.0]]
    assert net.predict(x).allclose(forward(init_network(), x), rel_tol=0, abs_tol=1e-15)
    assert net.accuracy(x, [1, 1, 1]) == 1.0


def check_layer_shapes_chain():
    net = init_network()
    x = Matrix([1.0, 0.5])
    a1 = x @ net["W1"] + net["b1"]
    assert a1.shape == (1, 3)
    assert a1.allclose([[0.3, 0.7, 1.1]])


# ---------------------------------------------------------------- Matrix

def check_matmul_by_hand():
    a = Matrix([[1, 2], [3, 4]])
    b = Matrix([[5, 6], [7, 8]])
    assert a @ b == Matrix([[19, 22], [43, 50]])
    assert a.dot(b) == a @ b
    assert Matrix([[1, 2]]) @ Matrix([[3], [4]]) == Matrix([[11]])


def check_kernels_agree_with_the_naive_product():
    a = Matrix.randn(6, 9, seed=1)
    b = Matrix.randn(9, 4, seed=2)
    want = kernels.matmul_naive(a.tolist(), b.tolist())
    assert close((a @ b).tolist(), want, 1e-12)
    assert close(kernels.matmul_ikj(a.tolist(), b.tolist()), want, 1e-12)
    sparse = Matrix([[0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0]])
    assert close((sparse @ b).tolist(), kernels.matmul_naive(sparse.tolist(), b.tolist()), 1e-12)


def check_zero_times_inf_is_nan():
    y = Matrix([[0.0, 1.0]]) @ Matrix([[float("inf")], [1.0]])
    assert y[0, 0] != y[0, 0]


def check_broadcasting():
    m = Matrix([[1, 2], [3, 4]])
    assert m + Matrix([10, 20]) == Matrix([[11, 22], [13, 24]])        # a row
    assert m * Matrix([[10], [100]]) == Matrix([[10, 20], [300, 400]])  # a column
    assert Matrix([[1], [2]]) + Matrix([10, 20]) == Matrix([[11, 21], [12, 22]])  # both
    assert 1 + m == Matrix([[2, 3], [4, 5]]) and m - 1 == Matrix([[0, 1], [2, 3]])
    assert 2 - m == Matrix([[1, 0], [-1, -2]]) and 12 / m == Matrix([[12.0, 6.0], [4.0, 3.0]])
    assert m ** 2 == Matrix([[1, 4], [9, 16]]) and -m == Matrix([[-1, -2], [-3, -4]])
    assert m - m.max(axis=1) == Matrix([[-1, 0], [-1, 0]])


def check_reductions_and_indexing():
    m = Matrix([[1, 2, 3], [4, 5, 6]])
    assert m.sum() == 21 and m.sum(axis=0) == Matrix([[5, 7, 9]])
    assert m.sum(axis=1) == Matrix([[6], [15]]) and m.max() == 6
    assert m.argmax(axis=1) == [2, 2] and m.argmax(axis=0) == [1, 1, 1] and m.argmax() == 5
    assert m[1, 2] == 6 and m[0] == Matrix([[1, 2, 3]]) and m[-1] == Matrix([[4, 5, 6]])
    assert m[:, 1] == Matrix([[2], [5]]) and m[[1, 0]] == Matrix([[4, 5, 6], [1, 2, 3]])
    assert m.T == Matrix([[1, 4], [2, 5], [3, 6]]) and m.T.T is m
    assert m.tolist() == [[1, 2, 3], [4, 5, 6]] and m.shape == (2, 3) and len(m) == 2


def check_printing():
    assert repr(Matrix([[1, 2], [3, 4]])) == "Matrix([[1, 2], [3, 4]])"
    assert str(Matrix([[1, 2.5], [-3, 4]])) == "[[ 1  2.5]\n [-3    4]]"


def check_builders():
    assert Matrix.zeros(2, 3).shape == (2, 3) and Matrix.ones((1, 2)) == Matrix([[1.0, 1.0]])
    assert Matrix.identity(2) == Matrix([[1, 0], [0, 1]])
    assert Matrix.full(2, 2, value=7) == Matrix([[7, 7], [7, 7]])
    assert Matrix.uniform(2, 3, seed=1) == Matrix.uniform(2, 3, seed=1)
    u = Matrix.uniform(50, 4, low=-1.0, high=1.0, seed=3)
    assert all(-1.0 <= v < 1.0 for row in u.tolist() for v in row)


# ---------------------------------------------------------------- errors

def check_shape_errors_name_the_operation_and_shapes():
    assert issubclass(ShapeError, ValueError)
    e = raises(ShapeError, lambda: Matrix([[1, 2]]) @ Matrix([[1, 2]]))
    assert str(e) == ("matmul: (1, 2) @ (1, 2): columns of the left (2) must equal "
                      "rows of the right (1)")
    e = raises(ShapeError, lambda: Matrix([[1, 2]]) + Matrix([[1, 2, 3]]))
    assert "add: (1, 2) + (1, 3)" in str(e)
    e = raises(ShapeError, lambda: Matrix([[1, 2], [3, 4]]) * Matrix([[1, 2, 3], [4, 5, 6]]))
    assert "multiply: (2, 2) * (2, 3)" in str(e)
    raises(ShapeError, Layer, [[1, 2]], [1, 2, 3])
    raises(ShapeError, forward, init_network(), [1.0, 0.5, 2.0])
    raises(ShapeError, AND, 1)


def check_bad_input_is_a_clear_error():
    raises(ValueError, Matrix, [[1, 2], [3]])
    raises(ValueError, Matrix, [])
    raises(TypeError, Matrix, "ab")
    raises(TypeError, Matrix, [[1, "a"]])
    raises(TypeError, Matrix, 5)
    raises(IndexError, lambda: Matrix([[1]])[3])
    raises(ValueError, lambda: Matrix([[1]]).sum(axis=2))


def check_bools_are_numbers_everywhere():
    # CPython's bool is an int; MicroPython's is not, but a Matrix accepts it on both
    m = Matrix([True, False])
    assert m.shape == (1, 2) and m * 2 == Matrix([[2, 0]])
    raises(TypeError, Matrix.zeros, True, 2)


def check_the_package_exports_the_public_api():
    import purenn
    assert purenn.__version__
    for name in purenn.__all__:
        assert getattr(purenn, name) is not None, name


# ------------------------------------------------------------------- rng

def check_generator_is_the_same_everywhere():
    assert Random(0).next64() == 0xE220A8397B1DCDAF  # splitmix64's published first value
    g = Random(42)
    assert [g.randrange(10) for _ in range(8)] == [2, 4, 5, 0, 3, 5, 9, 3]
    assert Random(42).random() == 0.7415648787718233
    items = list(range(10))
    Random(1).shuffle(items)
    assert sorted(items) == list(range(10)) and items != list(range(10))
    assert sorted(Random(5).permutation(20)) == list(range(20))
    assert Random(7).randrange(2 ** 70) < 2 ** 70


def check_gauss_is_reproducible_and_plausible():
    a = [Random(3).gauss() for _ in range(1)]
    g = Random(3)
    xs = [g.gauss() for _ in range(2000)]
    assert xs[0] == a[0]
    mean = sum(xs) / len(xs)
    var = sum((x - mean) ** 2 for x in xs) / len(xs)
    assert abs(mean) < 0.1 and abs(var - 1.0) < 0.1
    assert not any(math.isnan(x) or math.isinf(x) for x in xs)


# ------------------------------------ chapter 8.3.4: the compact format

# purenn.precision.encode(COMPACT_LAYERS, "int8", input_scale=0.5) and
# purenn.board.encode_samples(COMPACT_SAMPLES), made on CPython (tests/test_compact.py
# checks that they still are): a 3-4-2 relu/softmax network and two samples
COMPACT_LAYERS = [([[0.5, -1.25, 0.1, 0.0], [2.0, 0.3, -0.7, 1e-3], [-0.05, 0.9, 1.5, -2.5]],
                   [0.1, -0.2, 0.0, 0.3], "relu"),
                  ([[1.0, -1.0], [0.25, 0.5], [-0.3, 0.7], [0.0, 0.0]], [0.05, -0.05], "softmax")]
COMPACT_INT8 = (
    "504e4e43010302008c0000000000003f00000000ea0425b60300000004000000040000000100"
    "00002c000000388b49590402813c8542213c0683413c8542a13c208108007f1ec500fd5b7f81"
    "cdcccc3dcdcc4cbe000000009a99993e0400000002000000020000000400000018000000e30d"
    "32640402013c0402013c7f812040da590000cdcc4c3dcdcc4cbd")
COMPACT_SAMPLES = [(1, [3, 0, 5]), (0, [0, 4, 1])]
COMPACT_SAMPLES_FILE = "504e4e5301000000020000000300000088bfeb430103000500000401"


def _compact_bytes(text):
    import binascii
    return binascii.unhexlify(text)


def _compact_stream(data):
    import io
    return io.BytesIO(data)


def check_compact_network_predicts_as_on_cpython():
    from purenn import compact
    net = compact.load(_compact_stream(_compact_bytes(COMPACT_INT8)))
    assert net.sizes == [3, 4, 2] and net.dtype == "int8" and net.size == 140
    # the stored weights' scores in float64 (purenn.precision.stored_layers, on CPython)
    assert close(list(net.predict([3, 0, 5])), [0.08647082883515098, 0.9135291711648491], 1e-6)
    assert close(list(net.predict(bytes([0, 4, 1]))), [0.9996782805936514, 0.000321719406], 1e-6)
    assert net.classify([3, 0, 5]) == 1 and net.classify([0, 4, 1]) == 0


def check_compact_every_flipped_bit_is_a_data_error():
    from purenn import compact
    data = _compact_bytes(COMPACT_INT8)
    for position in range(len(data)):
        for bit in range(8):
            bad = bytearray(data)
            bad[position] ^= 1 << bit
            raises(compact.DataError, compact.load, _compact_stream(bytes(bad)))


def check_compact_every_truncation_is_a_data_error():
    from purenn import compact
    data = _compact_bytes(COMPACT_INT8)
    for n in range(len(data)):
        e = raises(compact.DataError, compact.load, _compact_stream(data[:n]))
        assert "truncated" in str(e) or "not a purenn compact" in str(e), str(e)
    e = raises(compact.DataError, compact.load, _compact_stream(data + b"x"))
    assert "not one compact file" in str(e)


def check_compact_samples_are_read_and_checked():
    from purenn import compact
    data = _compact_bytes(COMPACT_SAMPLES_FILE)
    got = [(label, list(values)) for label, values in compact.read_samples(_compact_stream(data))]
    assert got == COMPACT_SAMPLES
    bad = bytearray(data)
    bad[-1] ^= 1
    e = raises(compact.DataError, lambda: list(compact.read_samples(_compact_stream(bytes(bad)))))
    assert "checksum" in str(e)
    for n in range(len(data)):
        raises(compact.DataError, lambda: list(compact.read_samples(_compact_stream(data[:n]))))


def check_compact_crc32_by_hand_is_the_runtimes():
    from purenn import compact
    data = _compact_bytes(COMPACT_INT8)
    assert compact.crc32_python(data) == compact.crc32(data) == 0x2DC5D4C8   # zlib's


# ------------------------------------------------------------------ main

def checks():
    """Every ``check_*`` function of this module, in source order."""
    found = [(name, f) for name, f in globals().items() if name.startswith("check_")]
    # dict order is insertion order on CPython, not on every MicroPython: sort by line
    code = [getattr(f, "__code__", None) for _, f in found]
    if all(c is not None and hasattr(c, "co_firstlineno") for c in code):
        found.sort(key=lambda nf: nf[1].__code__.co_firstlineno)
    else:
        found.sort()
    return found


def main(verbose=True):
    """Run every check; print ``N passed, N failed``; return the number failed."""
    passed, failed = 0, 0
    impl = sys.implementation
    version = ".".join(str(v) for v in impl.version[:3])
    if len(impl.version) > 3 and impl.version[3] not in ("", "final"):
        version += "-" + str(impl.version[3])  # e.g. MicroPython's "preview"
    if verbose:
        name = "MicroPython" if impl.name == "micropython" else impl.name
        print("%s: %s %s" % (impl.name, name, version))
    for name, f in checks():
        try:
            f()
        except Exception as e:  # report every failing check, then go on
            failed += 1
            print("FAIL %s: %s: %s" % (name, type(e).__name__, e))
            if hasattr(sys, "print_exception"):
                sys.print_exception(e)
        else:
            passed += 1
            if verbose:
                print("ok   %s" % name)
    print("%d passed, %d failed" % (passed, failed))
    return failed


if __name__ == "__main__":
    sys.exit(1 if main() else 0)
