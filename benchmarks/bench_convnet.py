"""How fast are purenn's convolutions (chapter 7), next to what else pure Python can do?

    python benchmarks/bench_convnet.py                 # conv layer + SimpleConvNet inference
    python benchmarks/bench_convnet.py --markdown      # the same, as README tables
    pypy3 benchmarks/bench_convnet.py --deep           # + DeepConvNet over the 10,000 images
    python benchmarks/bench_convnet.py --train-steps 60   # + training steps, peak memory
    /tmp/np/bin/python benchmarks/bench_convnet.py --only book   # the book's numpy code alone

One run prints, each contender taking turns round after round (medians; the
machine may be shared and noisy, trust the ratios more than the seconds):

1. **The convolution layer**, forward, on the SimpleConvNet's first layer
   (30 filters 5x5 over a batch of 100 MNIST images, 43 million multiply-adds):
   - purenn: ``Convolution.forward`` through the public API;
   - hand: the fastest kernel written by hand for this interpreter (below,
     independent of purenn) -- the reference purenn must keep up with
     (target: purenn time / hand <= 1.25).  On CPython: im2col into lists by
     itemgetter, each patch through its nonzeros, bias and channels-first in
     one pass.  On PyPy: no col at all, each nonzero pixel scattered into the
     outputs that read it, two neighbours in one pass where they overlap
     (faster there than any im2col kernel we wrote; the best of those, index
     loops in i-k-j order, is shown as "hand im2col");
   - direct: the textbook's six nested loops (target: direct / purenn >= 5),
     timed on the first ``--direct-images`` images of the batch;
   - numpy: the book's ``common.layers.Convolution``, when numpy is installed.
2. **SimpleConvNet inference** over the 10,000 test images (batch 100) with the
   book's 2016 weights (``../shared/book``, else random ones): images per second
   for purenn and, with numpy, the book's own ``SimpleConvNet``; the accuracy.
3. ``--deep``: the same for DeepConvNet (slow on CPython: ``--deep-images``).
4. ``--train-steps N``: N training steps of the SimpleConvNet (batch 100, Adam,
   the MNIST training set loaded as ``train`` loads it), seconds a step, the
   epoch (600 steps) that makes, and the peak memory of the process.

On PyPy purenn should beat the book's numpy code.  numpy is not installed for
PyPy, so name a Python that has it: ``pypy3 benchmarks/bench_convnet.py --only
inference --numpy-python /tmp/np/bin/python`` runs the book's code in that
Python as a child process, taking turns with purenn batch by batch on the same
images (each side timed in its own process, the pipe between them not counted).
"""
import os

# numpy with one thread: the comparison is with one core of pure Python
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import platform
import sys
import time
from itertools import compress
from operator import add, itemgetter, mul

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from purenn.convolution import Convolution  # noqa: E402
from purenn.convnet import DeepConvNet, SimpleConvNet, load_network  # noqa: E402
from purenn.datasets import load_mnist  # noqa: E402
from purenn.matrix import Matrix  # noqa: E402

try:
    import numpy
except ImportError:
    numpy = None

try:
    from math import sumprod as _dot
except ImportError:
    def _dot(a, b):
        return sum(map(mul, a, b))

PYPY = platform.python_implementation() == "PyPy"
BOOK = os.path.join(ROOT, "..", "shared", "book")
BOOK_CODE = os.path.join(BOOK, "code")


# ---------------------------------------------------------- the references

def direct_convolution(images, W, b, C, H, Wd, FH, FW):
    """The textbook's six nested loops (stride 1, no padding), output channels first."""
    FN = len(W)
    OH, OW = H - FH + 1, Wd - FW + 1
    out = []
    for x in images:
        row = []
        for f in range(FN):
            for oy in range(OH):
                for ox in range(OW):
                    total = b[f]
                    for c in range(C):
                        for fy in range(FH):
                            for fx in range(FW):
                                total += (W[f][c * FH * FW + fy * FW + fx]
                                          * x[c * H * Wd + (oy + fy) * Wd + ox + fx])
                    row.append(total)
        out.append(row)
    return out


def im2col_table(H, Wd, F):
    OH, OW = H - F + 1, Wd - F + 1
    return [tuple((oy + fy) * Wd + ox + fx for fy in range(F) for fx in range(F))
            for oy in range(OH) for ox in range(OW)]


def hand_conv_cpython(rows, getters, W, colW, b, P):
    """im2col by itemgetter; each patch through its nonzeros (zero patches
    free); one pass for channels first and the bias."""
    FN, K = len(W), len(colW)
    zero = (0.0,) * FN
    half = K // 2
    out = []
    for row in rows:
        res = []
        for g in getters:
            patch = list(g(row))
            z = patch.count(0.0)
            if z == K:
                res.append(zero)
            elif z >= half:
                xs = list(compress(patch, patch))
                res.append([_dot(xs, c) for c in zip(*compress(colW, patch))])
            else:
                res.append([_dot(patch, w) for w in W])
        flat = []
        for f, chan in enumerate(zip(*res)):
            flat.extend(map(add, chan, [b[f]] * P))
        out.append(flat)
    return out


def hand_conv_pypy(rows, table, colW, b, P):
    """Index loops in i-k-j order with the bias as the start of each sum,
    written straight into the channels-first output: what PyPy's JIT likes."""
    FN, K = len(b), len(colW)
    out = []
    for row in rows:
        col = [[row[k] for k in idx] for idx in table]  # im2col
        o = [0.0] * (FN * P)
        for p in range(P):
            patch = col[p]
            acc = list(b)
            for k in range(K):
                v = patch[k]
                if v != 0.0:
                    wk = colW[k]
                    for f in range(FN):
                        acc[f] += v * wk[f]
            for f in range(FN):
                o[f * P + p] = acc[f]
        out.append(o)
    return out


def scatter_runs(table, width):
    """For each input column i, the runs (p0, k0, n): output positions p0 + j
    read column i at patch element k0 - j, j < n (the im2col table read the
    other way; a pixel is read by consecutive outputs along a filter row)."""
    reads = [[] for _ in range(width)]
    for p, idx in enumerate(table):
        for k, i in enumerate(idx):
            reads[i].append((p, k))
    runs = []
    for pairs in reads:
        rs = []
        for p, k in pairs:
            if rs and rs[-1][0] + rs[-1][2] == p and rs[-1][1] - rs[-1][2] == k:
                rs[-1][2] += 1
            else:
                rs.append([p, k, 1])
        runs.append(rs)
    return runs


def hand_scatter_plan(runs, FN):
    """What the scatter kernel needs of the runs, made once per geometry (the
    weights are laid per call): the distinct (k0, n), and for each pixel i its
    runs alone and with pixel i + 1 as (start, number of the (k0, n))."""
    keys = sorted(set((k0, n) for rs in runs for _, k0, n in rs))
    number = dict((key, q) for q, key in enumerate(keys))
    single = [[(p0 * FN, number[k0, n]) for p0, k0, n in rs] for rs in runs]
    together = []  # i with i + 1: (shared runs, i's other runs, i + 1's other runs)
    for i in range(len(runs) - 1):
        nxt = set(tuple(r) for r in runs[i + 1])
        moved = [(p0 + 1, k0, n) for p0, k0, n in runs[i]]
        shared = [(p0 * FN, number[k0, n]) for (p0, k0, n), m in zip(runs[i], moved) if m in nxt]
        left = [(p0 * FN, number[k0, n]) for (p0, k0, n), m in zip(runs[i], moved)
                if m not in nxt]
        right = [(p0 * FN, number[k0, n]) for p0, k0, n in runs[i + 1]
                 if (p0, k0, n) not in set(moved)]
        together.append((shared, left, right))
    return keys, single, together


def hand_conv_pypy_scatter(rows, plan, colW, b, P):
    """No col at all: each nonzero pixel adds v * W[:, k] into every output
    position whose patch holds it (position-major; a run's filter columns
    laid end to end, one loop each), then channels first with the bias: the
    fastest formulation found for PyPy (a fifth of the multiply-adds of
    im2col's product on MNIST, no patch lists).  Two nonzero neighbours in
    a row go together: the right one's run along a filter row is the left
    one's shifted by one output, so where they overlap one pass adds both
    (left first, the order of the sums is unchanged)."""
    FN = len(b)
    keys, single, together = plan
    laid = [[w for j in range(n) for w in colW[k0 - j]] for k0, n in keys]
    out = []
    for row in rows:
        acc = [0.0] * (P * FN)
        i, last = 0, len(row) - 1
        while i <= last:
            v = row[i]
            if v == 0.0:
                i += 1
                continue
            if i < last and row[i + 1] != 0.0:
                u = row[i + 1]
                shared, left, right = together[i]
                for start, q in left:
                    ws = laid[q]
                    for j in range(len(ws)):
                        acc[start + j] += v * ws[j]
                for start, q in shared:
                    ws = laid[q]
                    L = len(ws)
                    for j in range(FN):
                        acc[start + j] += v * ws[j]
                    for j in range(FN, L):
                        acc[start + j] = acc[start + j] + v * ws[j] + u * ws[j - FN]
                    for j in range(L, L + FN):
                        acc[start + j] += u * ws[j - FN]
                for start, q in right:
                    ws = laid[q]
                    for j in range(len(ws)):
                        acc[start + j] += u * ws[j]
                i += 2
            else:
                for start, q in single[i]:
                    ws = laid[q]
                    for j in range(len(ws)):
                        acc[start + j] += v * ws[j]
                i += 1
        o = [0.0] * (FN * P)
        for p in range(P):
            base = p * FN
            for f in range(FN):
                o[f * P + p] = acc[base + f] + b[f]
        out.append(o)
    return out


# ------------------------------------------------------------------- timing
# (the same helpers as the chapter-3 benchmark: one copy, there)
from bench_inference import _print_table, interleaved, median  # noqa: E402


def _book(name):
    path = os.path.join(BOOK, name)
    return path if os.path.isfile(path) else None


def _book_numpy_nets():
    """The book's SimpleConvNet and DeepConvNet classes (needs numpy)."""
    sys.path[:0] = [BOOK_CODE, os.path.join(BOOK_CODE, "ch07"), os.path.join(BOOK_CODE, "ch08")]
    from simple_convnet import SimpleConvNet as BookSimple
    from deep_convnet import DeepConvNet as BookDeep
    return BookSimple, BookDeep


def peak_memory_mb():
    try:
        import resource
    except ImportError:
        return float("nan")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024.0 if sys.platform != "darwin" else rss / 1048576.0


# ------------------------------------------------------------------ the parts

def bench_layer(args, x, t, version):
    """Part 1: one convolution layer forward, purenn vs hand vs direct (vs numpy)."""
    path = _book("simple_convnet_params_2016.pkl")
    net = load_network(path) if path else SimpleConvNet(seed=1)
    W1, b1 = net.params["W1"], net.params["b1"]
    W, b = W1.tolist(), b1.tolist()[0]
    colW = [list(c) for c in zip(*W)]
    xb = x[0:100]
    rows = xb.tolist()
    table = im2col_table(28, 28, 5)
    getters = [itemgetter(*tt) for tt in table]
    conv = Convolution({"W": W1, "b": b1}, "W", "b", input_shape=(1, 28, 28), filter_size=5)
    if PYPY:
        plan = hand_scatter_plan(scatter_runs(table, 784), len(b))  # once, as purenn's

        def hand():
            return hand_conv_pypy_scatter(rows, plan, colW, b, 576)

        def hand_im2col():
            return hand_conv_pypy(rows, table, colW, b, 576)
    else:
        def hand():
            return hand_conv_cpython(rows, getters, W, colW, b, 576)
    k = args.direct_images

    def direct():
        return direct_convolution(rows[:k], W, b, 1, 28, 28, 5, 5)

    # every contender gets the same float rows (the data set's compact rows
    # would add their decoding to purenn's time only: that is the loader's)
    xb = Matrix(rows)
    want = conv.forward(xb).tolist()
    contenders = {"purenn": lambda: conv.forward(xb), "hand": hand, "direct": direct}
    if PYPY:
        contenders["hand im2col"] = hand_im2col
    for name, fn in contenders.items():
        if name != "purenn":
            got = fn()
            assert all(abs(u - v) <= 1e-9 * max(1.0, abs(v)) for r1, r2 in zip(got, want)
                       for u, v in zip(r1, r2)), "%s disagrees with purenn" % name
    if numpy is not None:
        sys.path.insert(0, BOOK_CODE)
        from common.layers import Convolution as BookConvolution
        book = BookConvolution(numpy.array(W).reshape(30, 1, 5, 5), numpy.array(b))
        xn = numpy.array(rows).reshape(100, 1, 28, 28)
        contenders["numpy"] = lambda: book.forward(xn)
    t = interleaved(dict((name, (fn, 1)) for name, fn in contenders.items()), args.rounds)
    t["direct"] *= 100.0 / k  # per 100 images, as the others
    macs = 100 * 576 * 30 * 25
    ratio, speedup = t["purenn"] / t["hand"], t["direct"] / t["purenn"]
    print()
    print("## Convolution forward, 30 filters 5x5 over 100 MNIST images (%.0f M multiply-adds),"
          " %s; median of %d rounds (direct: %d images, scaled)" % (macs / 1e6, version,
                                                                   args.rounds, k))
    print()
    cols = list(contenders)
    _print_table(["conv layer"] + cols + ["purenn / hand", "direct / purenn"],
                 [["ms per 100 images"] + ["%.1f" % (1000 * t[c]) for c in cols]
                  + ["%.2f" % ratio, "%.1fx" % speedup],
                  ["M multiply-adds/s"] + ["%.1f" % (macs / t[c] / 1e6) for c in cols]
                  + ["", ""]], args.markdown)
    print()
    print("targets: purenn time / hand <= 1.25: %s (%.2f); direct time / purenn >= 5: %s (%.1fx)"
          % ("met" if ratio <= 1.25 else "NOT MET", ratio,
             "met" if speedup >= 5 else "NOT MET", speedup))


def _timed(f):
    """A contender timed here: returns (predictions, seconds)."""
    def run(i):
        t0 = time.perf_counter()
        predicted = f(i)
        return predicted, time.perf_counter() - t0
    return run


def _book_predict(book, xn, deep):
    """The book's network on images xn (N, 1, 28, 28): the predicted classes."""
    scores = book.predict(xn, train_flg=False) if deep else book.predict(xn)
    return [int(v) for v in numpy.argmax(scores, axis=1)]


def _book_network(path, deep):
    BookSimple, BookDeep = _book_numpy_nets()
    book = (BookDeep if deep else BookSimple)()
    if path:
        book.load_params(path)
    return book


class _BookInChild:
    """The book's numpy code in another Python (``--numpy-python``), one batch at
    a time when asked, so that it takes turns with purenn in this process as if
    it ran here.  The child times its own ``predict`` (the pipe is not counted)."""

    def __init__(self, python, deep, n):
        import subprocess
        self.child = subprocess.Popen(
            [python, os.path.abspath(__file__), "--serve-book", "deep" if deep else "simple",
             "--images", str(n)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, universal_newlines=True)
        ready = self.child.stdout.readline()
        if not ready.startswith("ready"):
            raise SystemExit("the book's code did not start in %s: %r" % (python, ready))

    def __call__(self, i):
        self.child.stdin.write("%d\n" % i)
        self.child.stdin.flush()
        line = self.child.stdout.readline()
        if not line:
            raise SystemExit("the book's code stopped in its child Python (exit %s) at batch %d; "
                             "its error is printed above" % (self.child.wait(), i))
        seconds, _, predicted = line.partition(" ")
        return [int(v) for v in predicted.split(",")], float(seconds)

    def close(self):
        self.child.stdin.close()
        self.child.wait()


def serve_book(kind, n):
    """The child's side of ``_BookInChild``: batch numbers in, times and classes out."""
    deep = kind == "deep"
    path = _book("deep_convnet_params_2016.pkl" if deep else "simple_convnet_params_2016.pkl")
    book = _book_network(path, deep)
    x, _ = load_mnist(kind="test")
    xn = numpy.array(x[0:n].tolist()).reshape(n, 1, 28, 28)
    print("ready", flush=True)
    for line in sys.stdin:
        s = int(line) * 100
        t0 = time.perf_counter()
        predicted = _book_predict(book, xn[s:s + 100], deep)
        seconds = time.perf_counter() - t0
        print("%r %s" % (seconds, ",".join(map(str, predicted))), flush=True)
    return 0


def bench_inference(args, x, t, version, deep=False):
    """Parts 2 and 3: a whole network over the test images, purenn (and numpy)."""
    name = "deep_convnet_params_2016.pkl" if deep else "simple_convnet_params_2016.pkl"
    path = _book(name)
    cls = DeepConvNet if deep else SimpleConvNet
    net = load_network(path) if path else cls(seed=1)
    n = args.deep_images if deep else args.images
    starts = list(range(0, n, 100))
    batches = [x[s:s + 100] for s in starts]
    contenders = {"purenn": _timed(lambda i: net.predictions(batches[i]))}
    child = None
    if numpy is not None and args.only != "purenn":
        book = _book_network(path, deep)
        xn = numpy.array(x[0:n].tolist()).reshape(n, 1, 28, 28)
        contenders["numpy (the book)"] = _timed(
            lambda i: _book_predict(book, xn[starts[i]:starts[i] + 100], deep))
    elif args.numpy_python and args.only != "purenn":
        child = _BookInChild(args.numpy_python, deep, n)
        contenders["numpy (the book, %s)" % _python_name(args.numpy_python)] = child
    if args.only == "book":
        contenders.pop("purenn")
    names = list(contenders)
    totals = dict((k, []) for k in names)
    correct = dict((k, 0) for k in names)
    for r in range(args.inference_rounds):
        spent = dict((k, 0.0) for k in names)
        for i in range(len(starts)):
            for k in names[i % len(names):] + names[:i % len(names)]:
                predicted, seconds = contenders[k](i)
                spent[k] += seconds
                if r == 0:
                    correct[k] += sum(1 for p, label in zip(predicted, t[starts[i]:]) if p == label)
        for k in names:
            totals[k].append(spent[k])
    if child is not None:
        child.close()
    seconds = dict((k, median(v)) for k, v in totals.items())
    print()
    print("## %s inference over %d MNIST test images, batch 100, %s (median of %d rounds)%s"
          % (cls.__name__, n, version, args.inference_rounds,
             "" if path else " -- random weights (the book's file is not in ../shared/book)"))
    print()
    _print_table(["%s, batch 100" % cls.__name__, "images/s", "seconds", "correct"],
                 [[k, "%.0f" % (n / seconds[k]), "%.1f" % seconds[k],
                   "%d of %d" % (correct[k], n)] for k in names], args.markdown)
    if len(names) == 2:
        print()
        print("purenn / numpy speed: %.2f (purenn %s)" % (
            seconds[names[1]] / seconds[names[0]],
            "faster" if seconds[names[0]] < seconds[names[1]] else "slower"))


def _python_name(python):
    """"CPython 3.11.7" for the interpreter at path python."""
    import subprocess
    return subprocess.check_output(
        [python, "-c", "import platform; print(platform.python_implementation(), "
                       "platform.python_version())"], universal_newlines=True).strip()


def bench_training(args, version):
    """Part 4: training steps of the SimpleConvNet, as ``train`` runs them."""
    from purenn.trainer import Trainer
    x_train, t_train = load_mnist(kind="train", path=args.mnist_path)
    x_test, t_test = load_mnist(kind="test")
    net = SimpleConvNet()
    trainer = Trainer(net, x_train, t_train, x_test, t_test, epochs=1, mini_batch_size=100,
                      optimizer="adam", optimizer_param={"lr": 0.001}, verbose=False)
    order = trainer.gen.permutation(x_train.shape[0])
    times, cpu = [], []
    for s in range(args.train_steps):
        idx = order[s * 100:(s + 1) * 100]
        t0, c0 = time.perf_counter(), time.process_time()
        trainer.train_step(x_train[idx], [t_train[i] for i in idx])
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    step = median(times[1:] if len(times) > 1 else times)
    cpu_step = median(cpu[1:] if len(cpu) > 1 else cpu)
    print()
    print("## SimpleConvNet training, batch 100, Adam, %s" % version)
    print()
    _print_table(["training", "s a step (median of %d)" % len(times), "CPU s a step",
                  "epoch (600 steps, CPU)", "peak memory"],
                 [["SimpleConvNet, 60,000 images loaded", "%.2f" % step, "%.2f" % cpu_step,
                   "%.0f min" % (600 * cpu_step / 60), "%.0f MB" % peak_memory_mb()]],
                 args.markdown)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds for the conv layer (5)")
    parser.add_argument("--direct-images", type=int, default=None,
                        help="images for the six nested loops (default 10; 100 on PyPy)")
    parser.add_argument("--images", type=int, default=10000, help="SimpleConvNet inference "
                                                                  "images (10000)")
    parser.add_argument("--inference-rounds", type=int, default=1)
    parser.add_argument("--deep", action="store_true", help="DeepConvNet inference too")
    parser.add_argument("--deep-images", type=int, default=None,
                        help="DeepConvNet images (default 10000 on PyPy, 1000 on CPython)")
    parser.add_argument("--train-steps", type=int, default=0, help="training steps to time")
    parser.add_argument("--mnist-path", help="folder of the MNIST training set")
    parser.add_argument("--only", choices=["layer", "inference", "book", "purenn", "none"],
                        help="one part: the layer, the inference, the book's numpy code alone, "
                             "or purenn alone (none: only what --deep / --train-steps ask)")
    parser.add_argument("--markdown", action="store_true", help="README tables")
    parser.add_argument("--numpy-python", metavar="PYTHON",
                        help="where numpy is not installed (PyPy): run the book's code in this "
                             "Python, taking turns with purenn batch by batch")
    parser.add_argument("--serve-book", choices=["simple", "deep"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_book:
        return serve_book(args.serve_book, args.images)
    args.direct_images = args.direct_images or (100 if PYPY else 10)
    args.deep_images = args.deep_images or (10000 if PYPY else 1000)
    if args.only == "book" and numpy is None:
        parser.error("--only book needs numpy (the book's code)")
    version = "%s %s" % (platform.python_implementation(), platform.python_version())
    print("# %s on %s, %s" % (version, platform.machine(),
                              "numpy %s" % numpy.__version__ if numpy else "numpy not installed"))
    x, t = load_mnist(kind="test")
    if args.only in (None, "layer"):
        bench_layer(args, x, t, version)
    if args.only in (None, "inference", "book", "purenn"):
        bench_inference(args, x, t, version)
        if args.deep:
            bench_inference(args, x, t, version, deep=True)
    if args.train_steps:
        bench_training(args, version)
    return 0


if __name__ == "__main__":
    sys.exit(main())
