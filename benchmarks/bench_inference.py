"""How fast is purenn's chapter-3 inference, next to what else pure Python can do?

    python benchmarks/bench_inference.py              # about a minute or two on CPython
    python benchmarks/bench_inference.py --markdown   # the same, as README tables

One run prints:

1. million multiply-adds per second (MAC/s) for the chapter-3 shapes
   (100x784 @ 784x50 with real MNIST pixels, 100x50 @ 50x100,
   100x100 @ 100x10, and a 2x3 @ 3x2 call), for
   - purenn: the public API, ``x @ W`` on ``Matrix`` objects;
   - naive: the textbook i-j-k triple loop over lists of lists;
   - hand: the fastest kernel written by hand for this interpreter (below,
     independent of purenn's code: the reference purenn must keep up with);
   - numpy (float64, one thread), when it is installed;
2. the full batch inference over the 10,000 MNIST test images (batch 100,
   sigmoid-sigmoid-softmax, 784-50-100-10) in images per second for the same
   four.  The contenders take turns batch by batch.  The naive loop is slow
   (minutes on CPython), so it does only every 10th batch (``--naive-images``
   1,000 by default; ``--naive-images 10000`` runs it all) and its rate is
   reported.
3. the ratios the project's targets are stated in: purenn time / hand time
   (target <= 1.25) and naive time / purenn time (target >= 3.5 on CPython
   3.8-3.11, >= 5 on 3.12+; not applicable on PyPy, whose JIT makes the naive
   loop fast).

The machine may be shared and noisy: contenders run interleaved, round after
round, and the tables show medians; trust the ratios more than absolute numbers.
With the book's ``sample_weight.pkl`` beside the repository (``../shared/book``)
or given by ``--weights``, the inference also prints the accuracy (0.9352);
otherwise it uses random weights of the same shapes (same speed).
"""
import os

# numpy with one thread: the comparison is with one core of pure Python
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import math
import platform
import sys
import time
from itertools import compress
from operator import add, mul

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from purenn import Matrix, sigmoid, softmax  # noqa: E402
from purenn import kernels  # noqa: E402
from purenn.kernels import matmul_naive  # noqa: E402
from purenn.datasets import load_mnist  # noqa: E402
from purenn.rng import Random  # noqa: E402

try:
    import numpy
except ImportError:
    numpy = None

try:
    from math import sumprod
except ImportError:
    sumprod = None

PYPY = platform.python_implementation() == "PyPy"
BOOK_PKL = os.path.join(HERE, "..", "..", "shared", "book", "sample_weight.pkl")


# ---------------------------------------------------------- naive reference

# the textbook i-j-k index loops, the same reference the tests use
naive_matmul = matmul_naive


def naive_forward(x, net):
    """The chapter-3 forward pass with index loops everywhere."""
    z = x
    for layer in (1, 2, 3):
        a = naive_matmul(z, net["W%d" % layer])
        b = net["b%d" % layer]
        for i in range(len(a)):
            for j in range(len(a[i])):
                a[i][j] += b[j]
                if layer < 3:
                    v = a[i][j]
                    a[i][j] = 1.0 / (1.0 + math.exp(-v)) if v > -700 else math.exp(v)
        z = a
    out = []
    for row in z:
        c = max(row)
        e = [math.exp(v - c) for v in row]
        s = sum(e)
        out.append([v / s for v in e])
    return out


# ------------------------------------------------------------- hand kernels

if sumprod is not None:
    _dot = sumprod
else:
    def _dot(row, col):
        return sum(map(mul, row, col))


def hand_matmul_cpython(a, b, b_t):
    """Rows that are mostly zeros: dot their nonzeros with the matching rows
    of b; other rows: dot with each column (b_t is b transposed)."""
    half = len(b) // 2
    out = []
    for row in a:
        if row.count(0.0) >= half:
            xs = list(compress(row, row))
            out.append([_dot(xs, col) for col in zip(*compress(b, row))])
        else:
            out.append([_dot(row, col) for col in b_t])
    return out


def add_rows_in_threes(acc, row, b, ks):
    """acc += row[k] * b[k] for each k of ks, in that order, three rows of b
    per pass over acc (Python adds left to right: the sums of one at a time,
    a third of the loads and stores).  Shared with bench_training's limit."""
    m = range(len(acc))
    first = len(ks) % 3
    for k in ks[:first]:
        x, bk = row[k], b[k]
        for j in m:
            acc[j] += x * bk[j]
    for t in range(first, len(ks), 3):
        b0, b1, b2 = b[ks[t]], b[ks[t + 1]], b[ks[t + 2]]
        x0, x1, x2 = row[ks[t]], row[ks[t + 1]], row[ks[t + 2]]
        for j in m:
            acc[j] = acc[j] + x0 * b0[j] + x1 * b1[j] + x2 * b2[j]


def hand_matmul_pypy(a, b, b_t):
    """i-k-j order, skipping zero inputs: the loops PyPy's JIT likes best,
    three rows of b per pass over the output row."""
    out = []
    for row in a:
        acc = [0.0] * len(b[0])
        add_rows_in_threes(acc, row, b, [k for k in range(len(row)) if row[k] != 0.0])
        out.append(acc)
    return out


hand_matmul = hand_matmul_pypy if PYPY else hand_matmul_cpython


def hand_forward(x, net, nett):
    exp = math.exp
    z = x
    for layer in (1, 2, 3):
        a = hand_matmul(z, net["W%d" % layer], nett["W%d" % layer])
        b = net["b%d" % layer]
        if layer < 3:
            z = [[1.0 / (1.0 + exp(-v)) if v > -700.0 else exp(v)
                  for v in map(add, row, b)] for row in a]
        else:
            z = [list(map(add, row, b)) for row in a]
    out = []
    for row in z:
        c = max(row)
        e = [exp(v - c) for v in row]
        s = sum(e)
        out.append([v / s for v in e])
    return out


# ------------------------------------------------------------------ purenn

def purenn_forward(x, W1, b1, W2, b2, W3, b3):
    """The book's forward pass, through the public Matrix API."""
    z1 = sigmoid(x @ W1 + b1)
    z2 = sigmoid(z1 @ W2 + b2)
    return softmax(z2 @ W3 + b3)


# ------------------------------------------------------------------- setup

def load_weights(path):
    """The book's weights when available (then accuracy is checked), else
    random ones of the same shapes."""
    if path and os.path.isfile(path):
        from purenn.pickles import load_book_weights
        params = load_book_weights(path)
        return dict((k, v.tolist() if k[0] == "W" else v.tolist()[0]) for k, v in params.items()), True
    r = Random(2016)
    sizes = [784, 50, 100, 10]
    net = {}
    for i in range(3):
        net["W%d" % (i + 1)] = [[r.gauss(0.0, 0.1) for _ in range(sizes[i + 1])]
                                for _ in range(sizes[i])]
        net["b%d" % (i + 1)] = [r.gauss(0.0, 0.1) for _ in range(sizes[i + 1])]
    return net, False


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def timed(fn, repeat=1):
    t = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t) / repeat


def interleaved(contenders, rounds):
    """Median seconds of each contender over rounds, run in turn each round."""
    times = dict((name, []) for name in contenders)
    names = list(contenders)
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            fn, repeat = contenders[name]
            times[name].append(timed(fn, repeat))
    return dict((name, median(ts)) for name, ts in times.items())


def fmt_rate(x):
    if x >= 100:
        return "%.0f" % x
    if x >= 10:
        return "%.1f" % x
    return "%.2f" % x


# -------------------------------------------------------------------- main

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15, help="rounds for the matmul shapes")
    parser.add_argument("--inference-rounds", type=int, default=3,
                        help="rounds for the full inference")
    parser.add_argument("--naive-images", type=int, default=None,
                        help="images for the naive inference (default 1000; 10000 on PyPy)")
    parser.add_argument("--weights", default=BOOK_PKL,
                        help="the book's sample_weight.pkl (default ../shared/book/...)")
    parser.add_argument("--markdown", action="store_true", help="print README tables")
    parser.add_argument("--skip-inference", action="store_true")
    args = parser.parse_args(argv)
    naive_images = args.naive_images or (10000 if PYPY else 1000)

    version = "%s %s" % (platform.python_implementation(), platform.python_version())
    print("# %s on %s (%s), purenn kernel %r%s" % (
        version, platform.machine(), platform.platform(terse=True), kernels.KERNEL,
        ", numpy %s" % numpy.__version__ if numpy else ", numpy not installed"))

    x_all, t_all = load_mnist(kind="test")
    net, is_book = load_weights(args.weights)
    nett = dict((k, [list(c) for c in zip(*v)]) for k, v in net.items() if k[0] == "W")
    rows = x_all.tolist()
    W = dict((k, Matrix(v)) for k, v in net.items())

    # ------------------------------------------------ 1. matmul per shape
    r = Random(7)
    z1 = [[1.0 / (1.0 + math.exp(-r.gauss(0, 1))) for _ in range(50)] for _ in range(100)]
    z2 = [[1.0 / (1.0 + math.exp(-r.gauss(0, 1))) for _ in range(100)] for _ in range(100)]
    tiny_a = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    tiny_b = [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]
    cases = [
        ("100x784 @ 784x50 (MNIST pixels, %d%% zeros)" % round(
            100.0 * sum(row.count(0.0) for row in rows[:100]) / 78400), rows[:100], net["W1"], 5),
        ("100x50 @ 50x100", z1, net["W2"], 10),
        ("100x100 @ 100x10", z2, net["W3"], 10),
        ("2x3 @ 3x2", tiny_a, tiny_b, 2000),
    ]
    table = []
    for label, a, b, repeat in cases:
        n, k, m = len(a), len(b), len(b[0])
        am, bm = Matrix(a), Matrix(b)
        b_t = [list(c) for c in zip(*b)]
        _ = am @ bm  # let purenn cache W's transpose, as it does for a network
        contenders = {
            "purenn": (lambda: am @ bm, repeat),
            "naive": (lambda: naive_matmul(a, b), max(1, repeat // (10 if not PYPY else 1))),
            "hand": (lambda: hand_matmul(a, b, b_t), repeat),
        }
        if numpy is not None:
            an, bn = numpy.array(a), numpy.array(b)
            contenders["numpy"] = (lambda: an @ bn, repeat * 20)
        ref = naive_matmul(a, b)
        got = (am @ bm).tolist()
        assert all(math.isclose(u, v, rel_tol=1e-9, abs_tol=1e-12)
                   for ru, rv in zip(got, ref) for u, v in zip(ru, rv)), label
        t = interleaved(contenders, args.rounds)
        macs = n * k * m
        table.append((label, dict((name, macs / s / 1e6) for name, s in t.items()),
                      t["purenn"] / t["hand"], t["naive"] / t["purenn"]))

    cols = ["purenn", "hand", "naive"] + (["numpy"] if numpy else [])
    print()
    print("## Matrix products, million multiply-adds per second (median of %d rounds)"
          % args.rounds)
    print()
    head = ["shape"] + cols + ["purenn time / hand", "naive time / purenn"]
    _print_table(head, [[label] + [fmt_rate(rates[c]) for c in cols]
                        + ["%.2f" % ratio, "%.1fx" % speedup]
                        for label, rates, ratio, speedup in table], args.markdown)
    if args.skip_inference:
        return 0

    # ----------------------------------------- 2. full inference, 10,000 images
    # Contenders take turns batch by batch (a noisy minute then slows all of
    # them alike); the naive loop only does every naive_every-th batch.
    starts = list(range(0, 10000, 100))
    naive_every = max(1, 10000 // max(100, naive_images))
    xs = [x_all[s:s + 100] for s in starts]
    lists = [rows[s:s + 100] for s in starts]
    labels = [t_all[s:s + 100] for s in starts]
    W1, b1, W2, b2, W3, b3 = (W[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3"))

    def count(predicted, tb):
        return sum(1 for p, t in zip(predicted, tb) if p == t)

    def run_purenn(i):
        return count(purenn_forward(xs[i], W1, b1, W2, b2, W3, b3).argmax(axis=1), labels[i])

    def run_hand(i):
        return count([row.index(max(row)) for row in hand_forward(lists[i], net, nett)],
                     labels[i])

    def run_naive(i):
        return count([row.index(max(row)) for row in naive_forward(lists[i], net)], labels[i])

    contenders = {"purenn": run_purenn, "hand": run_hand, "naive": run_naive}
    if numpy is not None:
        Xn = numpy.array(rows)
        Wn = dict((k, numpy.array(v)) for k, v in net.items())
        Tn = numpy.array(t_all)

        def run_numpy(i):
            s = starts[i]
            a1 = Xn[s:s + 100] @ Wn["W1"] + Wn["b1"]
            z1 = 1 / (1 + numpy.exp(-a1))
            a2 = z1 @ Wn["W2"] + Wn["b2"]
            z2 = 1 / (1 + numpy.exp(-a2))
            a3 = z2 @ Wn["W3"] + Wn["b3"]
            e = numpy.exp(a3 - a3.max(axis=1, keepdims=True))
            y = e / e.sum(axis=1, keepdims=True)
            return int((y.argmax(axis=1) == Tn[s:s + 100]).sum())

        contenders["numpy"] = run_numpy
    names = list(contenders)
    totals = dict((name, []) for name in names)
    results = dict((name, 0) for name in names)
    for r in range(args.inference_rounds):
        spent = dict((name, 0.0) for name in names)
        for i in range(len(starts)):
            for name in names[i % len(names):] + names[:i % len(names)]:
                if name == "naive" and i % naive_every:
                    continue
                t0 = time.perf_counter()
                correct = contenders[name](i)
                spent[name] += time.perf_counter() - t0
                if r == 0:
                    results[name] += correct
        for name in names:
            totals[name].append(spent[name])
    t = dict((name, median(ts)) for name, ts in totals.items())
    images = dict((name, 10000) for name in names)
    images["naive"] = len(range(0, len(starts), naive_every)) * 100
    rates = dict((name, images[name] / s) for name, s in t.items())
    ratio = rates["hand"] / rates["purenn"]
    speedup = rates["purenn"] / rates["naive"]
    print()
    print("## Batch inference over the 10,000 MNIST test images, images per second "
          "(median of %d rounds; naive over %d images)" % (args.inference_rounds, images["naive"]))
    print()
    head = ["inference"] + cols + ["purenn time / hand", "naive time / purenn"]
    row = (["784-50-100-10, batch 100"] + [fmt_rate(rates[c]) for c in cols]
           + ["%.2f" % ratio, "%.1fx" % speedup])
    row2 = (["seconds for 10,000 images"] + ["%.2f" % (10000 / rates[c]) for c in cols] + ["", ""])
    _print_table(head, [row, row2], args.markdown)
    if is_book:
        print()
        print("accuracy with the book's weights: purenn %.4f, hand %.4f%s" % (
            results["purenn"] / 10000.0, results["hand"] / 10000.0,
            ", numpy %.4f" % (results["numpy"] / 10000.0) if numpy else ""))
    print()
    target = 5.0 if sys.version_info >= (3, 12) else 3.5
    print("targets: purenn time / hand <= 1.25: %s (%.2f)" % (
        "met" if ratio <= 1.25 else "NOT MET", ratio))
    if PYPY:
        print("         naive / purenn: not a target on PyPy (%.1fx)" % speedup)
    else:
        print("         naive time / purenn >= %.1fx: %s (%.1fx)" % (
            target, "met" if speedup >= target else "NOT MET", speedup))
    return 0


def _print_table(head, rows, markdown):
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "|".join("---" for _ in head) + "|")
        for r in rows:
            print("| " + " | ".join(r) + " |")
        return
    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    for r in [head] + rows:
        print("  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                        for i, (c, w) in enumerate(zip(r, widths))))


if __name__ == "__main__":
    sys.exit(main())
