"""How fast does purenn learn, next to a naive loop and numpy?

    python benchmarks/bench_training.py             # a few minutes on CPython
    python benchmarks/bench_training.py --rounds 1  # quicker, noisier

Two workloads, each the same algorithm in three implementations:

1. **one optdigits epoch**: 3,823 training samples, network 64-100-10, ReLU,
   softmax-with-loss, Adam (lr 0.001), mini-batches of 32, in a fixed order
   (``python -m purenn train``'s network without its batchnorm, which the
   naive and numpy versions here do not have);
2. **MNIST mini-batch steps** (``--mnist-steps``, 5): batches of 100 MNIST
   images (from the bundled test set; the training set has the same
   statistics), network 784-50-100-10, sigmoid (the book's), Adam: forward,
   backward, update; from it, the seconds one 60,000-image epoch would take.

Implementations:

- purenn: ``MultiLayerNet.gradient`` + ``Adam.update`` on ``Matrix`` objects;
- naive: the same steps over plain lists with the textbook i-j-k triple loop
  for every matrix product (written out below, independent of purenn);
- numpy (float64, one thread), when it is installed.

Before timing, each implementation's loss after one step is compared with
purenn's (they must agree to 1e-9): the three compute the same thing.
Rounds are interleaved and the table shows medians (the machine may be
shared); read the ratios more than the absolute numbers.
"""
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import math
import platform
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from purenn.kernels import matmul_naive  # noqa: E402
from purenn.datasets import load_digits, load_mnist  # noqa: E402
from purenn.multilayer import MultiLayerNet  # noqa: E402
from purenn.optimizers import Adam  # noqa: E402

try:
    import numpy as np
except ImportError:
    np = None


# ------------------------------------------------------------ the naive loop

# the textbook i-j-k index loops, the same reference the tests use
naive_matmul = matmul_naive


def naive_transpose(a):
    return [[a[i][j] for i in range(len(a))] for j in range(len(a[0]))]


def _act(v, kind):
    if kind == "relu":
        return v if v > 0 else 0.0
    return 1.0 / (1.0 + math.exp(-v)) if v >= -700 else math.exp(v)


def _dact(y, kind):
    if kind == "relu":
        return 1.0 if y > 0 else 0.0
    return y * (1.0 - y)


class NaiveNet:
    """An MLP over lists of lists: W[i] (D, M), b[i] (M), Adam state alongside."""

    def __init__(self, params, kind, lr=0.001):
        n = len(params) // 2
        self.W = [params["W%d" % i].tolist() for i in range(1, n + 1)]
        self.b = [params["b%d" % i].tolist()[0] for i in range(1, n + 1)]
        self.kind, self.lr, self.t = kind, lr, 0
        self.m = [[[0.0] * len(r) for r in w] for w in self.W] + [[0.0] * len(b) for b in self.b]
        self.v = [[[0.0] * len(r) for r in w] for w in self.W] + [[0.0] * len(b) for b in self.b]

    def step(self, x, labels):
        zs = [x]
        for i, (W, b) in enumerate(zip(self.W, self.b)):
            a = naive_matmul(zs[-1], W)
            a = [[a[r][c] + b[c] for c in range(len(b))] for r in range(len(a))]
            zs.append(a if i == len(self.W) - 1
                      else [[_act(v, self.kind) for v in row] for row in a])
        n = len(x)
        loss, dout = 0.0, []
        for row, label in zip(zs[-1], labels):
            c = max(row)
            e = [math.exp(v - c) for v in row]
            s = sum(e)
            loss += math.log(s) - (row[label] - c)
            d = [v / s / n for v in e]
            d[label] -= 1.0 / n
            dout.append(d)
        loss /= n
        gW, gb = [None] * len(self.W), [None] * len(self.W)
        for i in range(len(self.W) - 1, -1, -1):
            gW[i] = naive_matmul(naive_transpose(zs[i]), dout)
            gb[i] = [sum(dout[r][c] for r in range(n)) for c in range(len(dout[0]))]
            if i:
                dz = naive_matmul(dout, naive_transpose(self.W[i]))
                dout = [[dz[r][c] * _dact(zs[i][r][c], self.kind) for c in range(len(dz[0]))]
                        for r in range(n)]
        self.t += 1
        lr_t = self.lr * math.sqrt(1 - 0.999 ** self.t) / (1 - 0.9 ** self.t)
        k = len(self.W)
        for i in range(k):
            self.W[i] = self._adam(self.W[i], gW[i], self.m[i], self.v[i], lr_t)
            self.b[i] = self._adam([self.b[i]], [gb[i]], [self.m[k + i]], [self.v[k + i]],
                                   lr_t)[0]
        return loss

    @staticmethod
    def _adam(p, g, m, v, lr_t):
        out = []
        for r in range(len(p)):
            row = []
            for c in range(len(p[r])):
                m[r][c] += 0.1 * (g[r][c] - m[r][c])
                v[r][c] += 0.001 * (g[r][c] * g[r][c] - v[r][c])
                row.append(p[r][c] - lr_t * m[r][c] / (v[r][c] ** 0.5 + 1e-7))
            out.append(row)
        return out


# ------------------------------------------------------------------ numpy

class NumpyNet:
    def __init__(self, params, kind, lr=0.001):
        n = len(params) // 2
        self.p = [np.array(params["W%d" % i].tolist()) for i in range(1, n + 1)]
        self.p += [np.array(params["b%d" % i].tolist()[0]) for i in range(1, n + 1)]
        self.kind, self.lr, self.t = kind, lr, 0
        self.m = [np.zeros_like(q) for q in self.p]
        self.v = [np.zeros_like(q) for q in self.p]

    def step(self, x, labels):
        k = len(self.p) // 2
        zs = [x]
        for i in range(k):
            a = zs[-1] @ self.p[i] + self.p[k + i]
            if i < k - 1:
                a = np.maximum(a, 0) if self.kind == "relu" else 1 / (1 + np.exp(-a))
            zs.append(a)
        n = x.shape[0]
        s = zs[-1] - zs[-1].max(axis=1, keepdims=True)
        e = np.exp(s)
        y = e / e.sum(axis=1, keepdims=True)
        loss = -np.mean(s[np.arange(n), labels] - np.log(e.sum(axis=1)))
        dout = y.copy()
        dout[np.arange(n), labels] -= 1
        dout /= n
        grads = [None] * len(self.p)
        for i in range(k - 1, -1, -1):
            grads[i] = zs[i].T @ dout
            grads[k + i] = dout.sum(axis=0)
            if i:
                dz = dout @ self.p[i].T
                dout = dz * (zs[i] > 0) if self.kind == "relu" else dz * zs[i] * (1 - zs[i])
        self.t += 1
        lr_t = self.lr * math.sqrt(1 - 0.999 ** self.t) / (1 - 0.9 ** self.t)
        for q, g, m, v in zip(self.p, grads, self.m, self.v):
            m += 0.1 * (g - m)
            v += 0.001 * (g * g - v)
            q -= lr_t * m / (np.sqrt(v) + 1e-7)
        return float(loss)


# ------------------------------------------------------------------ workloads

def digits_workload():
    x, t = load_digits(kind="train")
    batches = [(x[i:i + 32], t[i:i + 32]) for i in range(0, x.shape[0], 32)]
    return "optdigits epoch (64-100-10 relu, batch 32)", (64, [100], 10, "relu"), batches


def mnist_workload(steps):
    x, t = load_mnist(kind="test")
    return ("MNIST steps (784-50-100-10 sigmoid, batch 100)", (784, [50, 100], 10, "sigmoid"),
            [(x[i * 100:(i + 1) * 100], t[i * 100:(i + 1) * 100]) for i in range(steps)])


def make_runners(arch, batches):
    """name -> (fresh-state factory, run(state) -> last loss)."""
    d, hidden, k, kind = arch

    def fresh_purenn():
        return MultiLayerNet(d, hidden, k, activation=kind, seed=0), Adam(lr=0.001)

    def run_purenn(state):
        net, opt = state
        for xb, tb in batches:
            opt.update(net.params, net.gradient(xb, tb))
        return net.last_layer.loss

    params0 = MultiLayerNet(d, hidden, k, activation=kind, seed=0).params
    lists = [(xb.tolist(), tb) for xb, tb in batches]

    def run_lists(state):
        loss = None
        for xb, tb in lists:
            loss = state.step(xb, tb)
        return loss

    runners = {"purenn": (fresh_purenn, run_purenn),
               "naive": (lambda: NaiveNet(params0, kind), run_lists)}
    if np is not None:
        arrays = [(np.array(xb), np.array(tb)) for xb, tb in lists]

        def run_numpy(state):
            loss = None
            for xb, tb in arrays:
                loss = state.step(xb, tb)
            return loss
        runners["numpy"] = (lambda: NumpyNet(params0, kind), run_numpy)
    return runners


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds (median; 3)")
    parser.add_argument("--naive-batches", type=int, default=10,
                        help="optdigits batches the naive loop runs per round (10 of 120: "
                             "its rate is extrapolated; 0 = the whole epoch)")
    parser.add_argument("--mnist-steps", type=int, default=5,
                        help="MNIST mini-batch steps per round (5; the naive loop does 1)")
    args = parser.parse_args(argv)
    print("purenn training benchmark: %s %s on %s" % (
        platform.python_implementation(), platform.python_version(), platform.machine()))
    print("numpy %s" % (np.__version__ + " (1 thread)" if np is not None else "not installed"))
    print()
    for title, arch, batches in (digits_workload(), mnist_workload(args.mnist_steps)):
        runners = make_runners(arch, batches)
        samples = sum(len(tb) for _, tb in batches)
        # the same computation? compare the loss of the first step
        first = {}
        for name, (fresh, run) in runners.items():
            first[name] = make_runners(arch, batches[:1])[name][1](fresh())
        for name, loss in first.items():
            if not math.isclose(loss, first["purenn"], rel_tol=1e-9):
                raise SystemExit("%s: loss %r differs from purenn's %r" % (name, loss,
                                                                           first["purenn"]))
        partial = {}
        if arch[0] == 784:
            partial["naive"] = 1
        elif args.naive_batches and len(batches) > args.naive_batches:
            partial["naive"] = args.naive_batches
        times = {name: [] for name in runners}
        for _ in range(args.rounds):
            for name, (fresh, run) in runners.items():
                part = batches[:partial[name]] if name in partial else batches
                runner = make_runners(arch, part)[name][1] if name in partial else run
                state = fresh()
                t0 = time.perf_counter()
                runner(state)
                dt = time.perf_counter() - t0
                n = sum(len(tb) for _, tb in part)
                times[name].append(dt * samples / n)   # seconds for the whole workload
        med = {name: statistics.median(ts) for name, ts in times.items()}
        print(title + ": %d samples, first-step losses agree (%.12g)" % (samples,
                                                                        first["purenn"]))
        print("  %-8s %12s %14s %22s" % ("", "seconds", "samples/s", "vs purenn"))
        for name in runners:
            note = " (extrapolated from %d batches)" % partial[name] if name in partial else ""
            r = med[name] / med["purenn"]
            ratio = ("-" if name == "purenn" else
                     "%.1fx slower" % r if r >= 1 else "%.0fx faster" % (1 / r))
            print("  %-8s %12.4f %14.0f %22s%s" % (name, med[name], samples / med[name], ratio,
                                                   note))
        if arch[0] == 784:
            print("  one MNIST epoch (60,000 samples, 600 steps) would take: "
                  + ", ".join("%s %.0f s" % (name, med[name] * 60000 / samples)
                              for name in runners))
        print()


if __name__ == "__main__":
    main()
