"""How fast does purenn learn, next to a naive loop, numpy, and the limit?

    python benchmarks/bench_training.py                  # a few minutes on CPython
    python benchmarks/bench_training.py --only limit     # purenn / limit only
    python benchmarks/bench_training.py --only limit --pythons 3.11,3.12,pypy3
                                   # the same on each interpreter, ratios side by side
    python benchmarks/bench_training.py --only memory    # peak RSS (needs the MNIST
                                   # training set: PURENN_MNIST_DIR or --mnist-dir)

Three sections (``--only`` picks one; by default ``naive`` and ``limit``):

**naive**: two workloads, each the same algorithm in three implementations:

1. **one optdigits epoch**: 3,823 training samples, network 64-100-10, ReLU,
   softmax-with-loss, Adam (lr 0.001), mini-batches of 32, in a fixed order
   (``python -m purenn train``'s network without its batchnorm, which the
   naive and numpy versions here do not have);
2. **MNIST mini-batch steps** (``--mnist-steps``, 5): batches of 100 MNIST
   images (from the bundled test set; the training set has the same
   statistics), network 784-50-100-10, sigmoid (the book's), Adam: forward,
   backward, update; from it, the seconds one 60,000-image epoch would take.

Implementations: purenn (``MultiLayerNet.gradient`` + ``Adam.update`` on
``Matrix`` objects); naive (the same steps over plain lists with the textbook
i-j-k triple loop for every matrix product, written out below, independent of
purenn); numpy (float64, one thread), when it is installed.  Before timing,
each implementation's loss after one step is compared with purenn's (they
must agree to 1e-9).

**limit**: purenn against the fastest training step written by hand on plain
lists (``LimitNet`` below, outside purenn like the inference benchmark's hand
kernel): MNIST 784-50-100-10, batch 100, sigmoid and relu, Adam (lr 0.001)
and SGD (lr 0.1), through ``MultiLayerNet.gradient`` + ``optimizer.update``
and through ``Trainer.train_epoch``.  The limit makes the same kernel
decisions as purenn (zero, sparse and dense rows) and adds in the same order,
so its gradients, losses and weights are **bit-identical** to purenn's (that
is checked: ``==`` on every element after the first step, and again after all
timed steps; where they are not identical the largest relative difference is
printed and must stay below 1e-9).  What it saves: the bias and the
activation in one pass, each transpose made once and only where a kernel
reads it (``W1.T`` never: MNIST rows take the sparse path), softmax's
exponentials computed once for the loss and the gradient, the optimiser
updating its own lists (no new matrices), no checks and no ``Matrix``
objects.  What the rows give each side: the MultiLayerNet rows, the same
batches of float rows (purenn's as new matrices every round, made untimed,
so that nothing cached in them from the round before comes free); the
Trainer rows, purenn's ``Trainer`` over the images as ``load_mnist`` gives
them (a ``BytesMatrix``: decoding each batch is purenn's cost), the limit
over the same images as float rows.  CPU time (``time.process_time``),
interleaved rounds after warm-up rounds, medians; the ratio is purenn time / limit time (the issue's goal:
<= 1.10 for every row).

**memory**: the peak resident memory (``VmHWM`` of ``/proc/self/status``, else
``resource.getrusage``) of ``python -m purenn mnist``, of loading the MNIST
training set, and of a one-epoch MNIST training run on the 60,000 images
(``python -m purenn train --dataset mnist --epochs 1 --quiet``), each in a
fresh process that reports its own peak.

Rounds are interleaved and the tables show medians (the machine may be
shared); read the ratios more than the absolute numbers.
"""
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import gc
import glob
import json
import math
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from itertools import compress
from operator import add, mul

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)

from purenn.kernels import matmul_naive  # noqa: E402
from purenn.matrix import Matrix  # noqa: E402
from purenn.datasets import load_digits, load_mnist  # noqa: E402
from purenn.multilayer import MultiLayerNet  # noqa: E402
from purenn.optimizers import Adam, make_optimizer  # noqa: E402
from purenn.rng import Random  # noqa: E402
from purenn.trainer import Trainer  # noqa: E402
from bench_inference import add_rows_in_threes  # noqa: E402  (the limit's PyPy loop)

try:
    import numpy as np
except ImportError:
    np = None

try:
    from math import sumprod
except ImportError:  # before CPython 3.12
    sumprod = None


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


def naive_section(args):
    """purenn next to the naive loop and numpy (the first table)."""
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


# ------------------------------------------------------------------ the limit

# The fastest training step we could write by hand on plain lists, for this
# interpreter, with purenn's arithmetic: the same kernel decision per row
# (all zero, sparse: through its nonzeros, dense: dot products with the
# columns), the same summation order and the same formulas, so that its
# gradients are bit-identical to purenn's.  Independent of purenn's code.

PYPY = platform.python_implementation() == "PyPy"

if PYPY:
    def limit_transpose(rows):
        return [list(col) for col in zip(*rows)]   # PyPy keeps lists of floats unboxed
else:
    def limit_transpose(rows):
        return list(zip(*rows))                     # tuples: one allocation fewer a column


class Later:
    """A matrix made only when a kernel first needs it (e.g. a transpose)."""
    __slots__ = ("rows", "make")

    def __init__(self, rows=None, make=None):
        self.rows, self.make = rows, make

    def get(self):
        if self.rows is None:
            self.rows = self.make()
        return self.rows


def limit_matmul_ikj(a, b, b_t):
    """PyPy: i-k-j loops skipping zero inputs; a row starts as its first
    product, the other rows of b are added three at a time (the inference
    benchmark's loop: the same bits as one at a time)."""
    b = b.get()
    out = []
    for row in a:
        ks = [k for k in range(len(row)) if row[k]]
        if not ks:
            z = row[0]
            out.append([abs(z * v) for v in b[0]])
            continue
        x = row[ks[0]]
        acc = [x * v for v in b[ks[0]]]
        add_rows_in_threes(acc, row, b, ks[1:])
        out.append(acc)
    return out


def limit_matmul_sumprod(a, b, b_t):
    """CPython 3.12+: all-zero rows, sparse rows through their nonzeros, dense rows."""
    half = 0.5 * len(a[0])
    out = []
    for row in a:
        nz = len(row) - row.count(0)
        if nz == 0:
            z = row[0]
            out.append([abs(z * v) for v in b.get()[0]])
        elif nz <= half:
            xs = list(compress(row, row))
            out.append([sumprod(xs, col) for col in zip(*compress(b.get(), row))])
        else:
            out.append([sumprod(row, col) for col in b_t.get()])
    return out


def limit_matmul_summap(a, b, b_t):
    """CPython up to 3.11: the same with ``sum(map(mul, ...))`` written inline."""
    half = 0.5 * len(a[0])
    out = []
    for row in a:
        nz = len(row) - row.count(0)
        if nz == 0:
            z = row[0]
            out.append([abs(z * v) for v in b.get()[0]])
        elif nz <= half:
            xs = list(compress(row, row))
            out.append([sum(map(mul, xs, col)) for col in zip(*compress(b.get(), row))])
        else:
            out.append([sum(map(mul, row, col)) for col in b_t.get()])
    return out


limit_matmul = (limit_matmul_ikj if PYPY else
                limit_matmul_sumprod if sumprod is not None else limit_matmul_summap)


class LimitNet:
    """A 784-50-100-10 (any depth) MLP over plain lists, at the limit.

    ``W[i]`` rows, ``b[i]`` a list; SGD or Adam state updated in place.
    ``gradient(x, labels) -> (gW, gb)`` and ``update(gW, gb)``, as purenn's
    ``MultiLayerNet.gradient`` and ``optimizer.update``.
    """

    def __init__(self, params, kind, optimizer, lr):
        n = len(params) // 2
        self.W = [params["W%d" % i].tolist() for i in range(1, n + 1)]
        self.b = [params["b%d" % i].tolist()[0] for i in range(1, n + 1)]
        self.kind, self.optimizer, self.lr = kind, optimizer, lr
        self.iter = 0
        self.loss = None
        if optimizer == "adam":
            self.mW = [[[0.0] * len(r) for r in w] for w in self.W]
            self.vW = [[[0.0] * len(r) for r in w] for w in self.W]
            self.mb = [[0.0] * len(b) for b in self.b]
            self.vb = [[0.0] * len(b) for b in self.b]

    def gradient(self, x, labels):
        W, B, relu, exp = self.W, self.b, self.kind == "relu", math.exp
        last = len(W) - 1
        zs = [x]
        z = x
        for i in range(last + 1):
            Wi = W[i]
            a = limit_matmul(z, Later(Wi), Later(make=lambda: limit_transpose(Wi)))
            if i == last:
                break
            b = B[i]
            # the bias and the activation in one pass
            if relu:
                z = [[0.0 if v <= 0.0 else v for v in map(add, row, b)] for row in a]
            else:
                z = [[1.0 / (1.0 + exp(-v)) if v >= -700.0 else exp(v)
                      for v in map(add, row, b)] for row in a]
            zs.append(z)
        # the last bias, softmax, the loss and its gradient (y - t) / n in one
        # pass: the exponentials once for both
        n = len(x)
        b_last = B[last]
        total = 0.0
        d = []
        for row, t in zip(a, labels):
            row = list(map(add, row, b_last))
            c = max(row)
            e = [exp(v - c) for v in row]
            s = sum(e)
            total += math.log(s) - (row[t] - c)
            # purenn's (y - t) / (batch_size / dout), dout = 1 (the book's bits)
            dr = [v / s / n for v in e]
            dr[t] = (e[t] / s - 1) / n
            d.append(dr)
        self.loss = total / n
        gW, gb = [None] * (last + 1), [None] * (last + 1)
        for i in range(last, -1, -1):
            di = d
            gW[i] = limit_matmul(limit_transpose(zs[i]), Later(di),
                                 Later(make=lambda: limit_transpose(di)))
            gb[i] = [sum(col) for col in zip(*d)]
            if i:
                Wi = W[i]
                dz = limit_matmul(d, Later(make=lambda: limit_transpose(Wi)), Later(Wi))
                if relu:
                    d = [[0.0 if y <= 0.0 else g for g, y in zip(gr, yr)]
                         for gr, yr in zip(dz, zs[i])]
                else:
                    d = [[g * (1.0 - y) * y for g, y in zip(gr, yr)]
                         for gr, yr in zip(dz, zs[i])]
        return gW, gb

    def update(self, gW, gb):
        if PYPY:
            return self._update_loops(gW, gb)
        if self.optimizer == "sgd":
            lr = self.lr
            for W, G in zip(self.W, gW):
                for r in range(len(W)):
                    W[r] = [p - lr * g for p, g in zip(W[r], G[r])]
            for k, g in enumerate(gb):
                self.b[k] = [p - lr * q for p, q in zip(self.b[k], g)]
            return
        lr_t, c1, c2, eps = self._adam_step()
        sqrt = math.sqrt  # the book's np.sqrt (correctly rounded; ** 0.5 need not be)
        for W, G, M, V in zip(self.W + [self.b], gW + [gb], self.mW + [self.mb],
                              self.vW + [self.vb]):
            for r in range(len(W)):
                g = G[r]
                M[r] = m = [mi + c1 * (gi - mi) for mi, gi in zip(M[r], g)]
                V[r] = v = [vi + c2 * (gi * gi - vi) for vi, gi in zip(V[r], g)]
                W[r] = [p - lr_t * mi / (sqrt(vi) + eps) for p, mi, vi in zip(W[r], m, v)]

    def _adam_step(self):
        self.iter += 1
        b1, b2 = 0.9, 0.999
        lr_t = self.lr * math.sqrt(1.0 - b2 ** self.iter) / (1.0 - b1 ** self.iter)
        return lr_t, 1 - b1, 1 - b2, 1e-7

    def _update_loops(self, gW, gb):
        """PyPy: index loops over the lists in place (its JIT compiles them)."""
        if self.optimizer == "sgd":
            lr = self.lr
            for W, G in zip(self.W + [self.b], gW + [gb]):
                for r in range(len(W)):
                    p, g = W[r], G[r]
                    for j in range(len(p)):
                        p[j] = p[j] - lr * g[j]
            return
        lr_t, c1, c2, eps = self._adam_step()
        sqrt = math.sqrt
        for W, G, M, V in zip(self.W + [self.b], gW + [gb], self.mW + [self.mb],
                              self.vW + [self.vb]):
            for r in range(len(W)):
                p, g, m, v = W[r], G[r], M[r], V[r]
                for j in range(len(p)):
                    gj = g[j]
                    mj = m[j] + c1 * (gj - m[j])
                    vj = v[j] + c2 * (gj * gj - v[j])
                    m[j], v[j] = mj, vj
                    p[j] = p[j] - lr_t * mj / (sqrt(vj) + eps)

    def params(self):
        """The weights in purenn's layout: name -> list of rows."""
        out = {}
        for i, (W, b) in enumerate(zip(self.W, self.b), 1):
            out["W%d" % i], out["b%d" % i] = [list(r) for r in W], [list(b)]
        return out


def limit_epoch(net, rows, labels, batch_size, gen):
    """``Trainer.train_epoch`` by hand: the same shuffle, the same batches."""
    n = len(rows)
    order = gen.permutation(n)
    total, steps = 0.0, 0
    for i in range(0, n, batch_size):
        idx = order[i:i + batch_size]
        gW, gb = net.gradient([rows[j] for j in idx], [labels[j] for j in idx])
        net.update(gW, gb)
        if not -math.inf < net.loss < math.inf:
            raise SystemExit("limit: the loss diverged")
        total += net.loss
        steps += 1
    return total / steps


# ----------------------------------------------------------- the limit rows

OPTIMIZER_LR = {"adam": 0.001, "sgd": 0.1}


def _largest_difference(a, b):
    """0.0 when the two name -> rows dicts are equal element by element
    (``==``), else the largest relative difference."""
    worst = 0.0
    for key in a:
        for ra, rb in zip(a[key], b[key]):
            for u, v in zip(ra, rb):
                if u != v:
                    worst = max(worst, abs(u - v) / max(abs(u), abs(v), 1e-300))
    return worst


def _grads_as_rows(gW, gb):
    out = {}
    for i, (w, b) in enumerate(zip(gW, gb), 1):
        out["W%d" % i], out["b%d" % i] = [list(r) for r in w], [list(b)]
    return out


def _agreement(what, worst):
    """'bit-identical' or the relative difference (<= 1e-9, else stop)."""
    if worst == 0.0:
        return "bit-identical"
    if worst > 1e-9:
        raise SystemExit("limit: %s differ from purenn's by %.3g (relative): not the same "
                         "computation" % (what, worst))
    return "within %.1e" % worst


def check_limit(kind, optimizer, batch):
    """The limit's first-step gradients, loss and weights against purenn's."""
    xb, tb = batch
    net = MultiLayerNet(784, [50, 100], 10, activation=kind, seed=0)
    opt = make_optimizer(optimizer, lr=OPTIMIZER_LR[optimizer])
    lim = LimitNet(net.params, kind, optimizer, OPTIMIZER_LR[optimizer])
    grads = net.gradient(xb, tb)
    gW, gb = lim.gradient(xb.tolist(), tb)
    worst = _largest_difference({k: g.tolist() for k, g in grads.items()}, _grads_as_rows(gW, gb))
    if net.last_layer.loss != lim.loss:
        worst = max(worst, abs(net.last_layer.loss - lim.loss) / abs(lim.loss))
    opt.update(net.params, grads)
    lim.update(gW, gb)
    worst_step = _largest_difference({k: p.tolist() for k, p in net.params.items()},
                                     lim.params())
    return _agreement("gradients", worst), _agreement("weights after one step", worst_step)


def _gc_collections():
    """Collections so far (CPython's cycle collector; 0 elsewhere: PyPy's GC differs)."""
    if platform.python_implementation() != "CPython":
        return 0
    return sum(s["collections"] for s in gc.get_stats())


def _without_gc(run):
    """``run`` with the cycle collector off (``--gc off``: what the collector costs)."""
    def quiet():
        gc.disable()
        try:
            run()
        finally:
            gc.enable()
    return quiet


def limit_rows(args):
    """Each row: median CPU ms a step of purenn and of the limit, interleaved."""
    x, t = load_mnist(kind="test")
    steps = args.limit_steps
    batches = [(x[i * 100:(i + 1) * 100], t[i * 100:(i + 1) * 100]) for i in range(steps)]
    lists = [(xb.tolist(), tb) for xb, tb in batches]
    n_train = args.trainer_images
    x_train, t_train = x[:n_train], t[:n_train]
    rows_train = x_train.tolist()
    results = []
    for kind in ("sigmoid", "relu"):
        for optimizer in ("adam", "sgd"):
            lr = OPTIMIZER_LR[optimizer]
            same_grad, same_step = check_limit(kind, optimizer, batches[0])
            for api in ("MultiLayerNet", "Trainer"):
                net = MultiLayerNet(784, [50, 100], 10, activation=kind, seed=0)
                lim = LimitNet(net.params, kind, optimizer, lr)
                opt = make_optimizer(optimizer, lr=lr)
                spent = {"purenn": [], "limit": [], "purenn grad": [], "purenn update": [],
                         "limit grad": [], "limit update": []}
                gcs = {"purenn": 0, "limit": 0}
                if api == "Trainer":
                    trainer = Trainer(net, x_train, t_train, x[:100], t[:100], epochs=1,
                                      mini_batch_size=100, optimizer=opt, verbose=False, seed=0)
                    gen = Random(0)
                    nsteps = (n_train + 99) // 100

                    def run_purenn():
                        trainer.train_epoch(1)

                    def run_limit():
                        limit_epoch(lim, rows_train, t_train, 100, gen)
                else:
                    nsteps = steps
                    mine = []

                    def before_purenn():
                        # new batch matrices each round (untimed), as a training loop
                        # meets each batch anew: else the transpose (x.T in dW1) and
                        # the decoded rows, cached in the matrices, would come free
                        # after the first round, and the limit makes them every step
                        mine[:] = [(Matrix(rows), tb) for rows, tb in lists]

                    def run_purenn():
                        for xb, tb in mine:
                            t0 = time.process_time()
                            grads = net.gradient(xb, tb)
                            t1 = time.process_time()
                            opt.update(net.params, grads)
                            spent["purenn grad"].append(t1 - t0)
                            spent["purenn update"].append(time.process_time() - t1)

                    def run_limit():
                        for xb, tb in lists:
                            t0 = time.process_time()
                            gW, gb = lim.gradient(xb, tb)
                            t1 = time.process_time()
                            lim.update(gW, gb)
                            spent["limit grad"].append(t1 - t0)
                            spent["limit update"].append(time.process_time() - t1)
                if args.gc == "off":
                    run_purenn, run_limit = _without_gc(run_purenn), _without_gc(run_limit)
                order = [("purenn", run_purenn), ("limit", run_limit)]
                for r in range(args.warmup + args.limit_rounds):
                    for name, run in (order if r % 2 == 0 else order[::-1]):
                        if name == "purenn" and api == "MultiLayerNet":
                            before_purenn()
                        g0 = _gc_collections()
                        t0 = time.process_time()
                        run()
                        dt = time.process_time() - t0
                        if r >= args.warmup:
                            spent[name].append(dt / nsteps)
                            gcs[name] += _gc_collections() - g0
                    if r + 1 == args.warmup:  # only timed rounds count
                        for key in spent:
                            del spent[key][:]
                # after every step of every round, still the same weights?
                same_after = _agreement("weights after %d rounds" % (args.warmup
                                                                     + args.limit_rounds),
                                        _largest_difference(
                                            {k: p.tolist() for k, p in net.params.items()},
                                            lim.params()))
                med = dict((k, statistics.median(v) * 1e3) for k, v in spent.items() if v)
                results.append({
                    "kind": kind, "optimizer": optimizer, "api": api,
                    "purenn_ms": med["purenn"], "limit_ms": med["limit"],
                    "ratio": med["purenn"] / med["limit"],
                    # on a busy machine the fastest rounds are the least disturbed
                    "ratio_min": min(spent["purenn"]) / min(spent["limit"]),
                    # each round's two runs are next to each other in time: their
                    # ratio cancels the drift of a virtual machine's speed (measured
                    # here: one pure-Python loop took 0.11 - 0.21 s within a minute)
                    "ratio_paired": statistics.median(
                        p / q for p, q in zip(spent["purenn"], spent["limit"])),
                    "detail": dict((k, med[k]) for k in med if " " in k),
                    "gc_per_step": dict((k, gcs[k] / float(nsteps * args.limit_rounds))
                                        for k in gcs),
                    "gradients": same_grad, "one_step": same_step, "after": same_after,
                })
                if not args.json:
                    _print_limit_row(results[-1])
    return results


def _print_limit_row(r):
    d = r["detail"]
    split = ("  (gradient %.1f vs %.1f, update %.2f vs %.2f)" % (
        d["purenn grad"], d["limit grad"], d["purenn update"], d["limit update"])
        if d else "")
    print("  %-7s %-4s %-13s purenn %7.2f ms  limit %7.2f ms  purenn/limit %.2f (round by "
          "round %.2f, of the minima %.2f)%s" % (r["kind"], r["optimizer"], r["api"],
                                                 r["purenn_ms"], r["limit_ms"], r["ratio"],
                                                 r["ratio_paired"], r["ratio_min"], split))
    sys.stdout.flush()


def limit_section(args):
    version = "%s %s" % (platform.python_implementation(), platform.python_version())
    if not args.json:
        print("## purenn / limit, MNIST 784-50-100-10, batch 100, CPU ms a step (%s; "
              "median of %d rounds after %d warm-up; MultiLayerNet: %d steps a round, "
              "Trainer: an epoch of %d images; cycle collector %s)"
              % (version, args.limit_rounds, args.warmup, args.limit_steps,
                 args.trainer_images, args.gc))
        print()
    results = limit_rows(args)
    if not args.json:
        print()
        checks = sorted(set((r["gradients"], r["one_step"], r["after"]) for r in results))
        print("limit vs purenn: gradients and loss of the first step %s; weights after one "
              "step %s; weights after every timed step %s"
              % tuple(", ".join(sorted(set(c[i] for c in checks))) for i in range(3)))
        if platform.python_implementation() == "CPython":
            print("gc collections a step, purenn / limit: " + ", ".join(
                "%s %s %s %.1f / %.1f" % (r["kind"], r["optimizer"], r["api"],
                                          r["gc_per_step"]["purenn"],
                                          r["gc_per_step"]["limit"])
                for r in results))
        _verdict(results)
    return results


# ------------------------------------------------------------------- memory

# Run in a fresh interpreter: the command, then its own peak resident memory
# (VmHWM: the high-water mark of this process alone, not of whoever started it).
MEMORY_CHILD = r'''
import sys

def peak_kb():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak

status = 1
try:
    if sys.argv[1] == "load":
        from purenn.datasets import load_mnist
        load_mnist(kind="train")
        load_mnist(kind="test")
        status = 0
    elif sys.argv[1] == "decode":  # CPU ms to turn a batch of 100 images into floats
        import random, statistics, time
        from purenn.datasets import load_mnist
        x, _ = load_mnist(kind="test")
        gen, spent = random.Random(0), []
        for r in range(60):
            idx = gen.sample(range(x.shape[0]), 100)
            t0 = time.process_time()
            x[idx].tolist()  # a BytesMatrix decodes its rows here; float rows are copied
            spent.append(time.process_time() - t0)
        sys.stderr.write("decode-ms %.3f %s\n" % (statistics.median(spent[10:]) * 1e3,
                                                   type(x).__name__))
        status = 0
    else:
        from purenn.cli import main
        status = main(sys.argv[1:])
finally:
    sys.stderr.write("\npeak-rss-kb %d status %r\n" % (peak_kb(), status))
'''

MEMORY_RUNS = [
    ("python -m purenn mnist", ["mnist", "--show", "0"], False),
    ("load the MNIST training + test sets", ["load"], True),
    ("one MNIST training epoch (python -m purenn train --dataset mnist --epochs 1 --quiet)",
     ["train", "--dataset", "mnist", "--epochs", "1", "--quiet"], True),
]


def mnist_dir(args):
    for folder in (args.mnist_dir, os.environ.get("PURENN_MNIST_DIR")):
        if folder and os.path.isfile(os.path.join(folder, "train-images-idx3-ubyte.gz")):
            return folder
    return None


def measure_memory(python, args):
    """[(label, peak MB or None, seconds, note)] for each run of MEMORY_RUNS."""
    folder = mnist_dir(args)
    env = dict(os.environ)
    if folder:
        env["PURENN_MNIST_DIR"] = folder
    out = []
    for label, argv, needs_train in MEMORY_RUNS:
        if needs_train and folder is None:
            out.append((label, None, 0.0, "no MNIST training set (--mnist-dir or "
                                          "PURENN_MNIST_DIR)"))
            continue
        t0 = time.perf_counter()
        proc = subprocess.run([python, "-c", MEMORY_CHILD] + argv, cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              universal_newlines=True)
        seconds = time.perf_counter() - t0
        found = [line.split() for line in proc.stderr.splitlines()
                 if line.startswith("peak-rss-kb ")]
        if not found or found[-1][3] != "0":
            out.append((label, None, seconds, "failed: " + proc.stderr.strip()[-300:]))
        else:
            out.append((label, int(found[-1][1]) / 1024.0, seconds, ""))
    return out


def memory_section(args, pythons):
    print("## Peak resident memory (VmHWM of each run's own process)")
    print()
    table = {}
    for name, python in pythons:
        table[name] = measure_memory(python, args)
    labels = [label for label, _, _ in MEMORY_RUNS]
    names = [name for name, _ in pythons]
    head = ["run"] + ["%s MB (s)" % name for name in names]
    rows = []
    notes = []
    for i, label in enumerate(labels):
        cells = [label]
        for name in names:
            _, mb, seconds, note = table[name][i]
            cells.append("%.0f (%.0f s)" % (mb, seconds) if mb is not None else "-")
            if note:
                notes.append("%s, %s: %s" % (name, label, note))
        rows.append(cells)
    _table(head, rows)
    for note in notes:
        print("  " + note)
    print("targets: one training epoch <= 300 MB on CPython; python -m purenn mnist "
          "<= ~94 MB")
    for name, python in pythons:
        proc = subprocess.run([python, "-c", MEMORY_CHILD, "decode"], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              universal_newlines=True)
        found = [line.split() for line in proc.stderr.splitlines()
                 if line.startswith("decode-ms ")]
        if found:
            print("  %s: a batch of 100 images as floats (x[rows].tolist() of a %s): "
                  "%s ms CPU" % (name, found[-1][2], found[-1][1]))
    print()


# ------------------------------------------------------ several interpreters

def find_python(spec):
    """An interpreter for '3.12' (a pyenv version), 'pypy3', 'python3.11' or a path."""
    if os.sep in spec:
        return spec
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    if re.match(r"^[0-9.]+$", spec):
        found = sorted(glob.glob(os.path.join(root, "versions", spec + "*", "bin", "python")),
                       key=lambda p: [int(v) for v in re.findall(r"[0-9]+",
                                                                 p.split(os.sep)[-3])])
        if found:
            return found[-1]
    for name in (spec, "python" + spec):
        found = shutil.which(name)
        if found and os.sep + "shims" + os.sep not in found:  # pyenv's shims may refuse
            return found
    raise SystemExit("bench_training: no interpreter %r (give a path, a name on PATH, or a "
                     "pyenv version)" % spec)


def _version_of(python):
    return subprocess.check_output(
        [python, "-c", "import platform; print(platform.python_implementation(), "
                       "platform.python_version())"], universal_newlines=True).strip()


def limit_on_pythons(args, pythons):
    """Run the limit rows on each interpreter (one after another: the machine
    has few cores) and print the ratios side by side."""
    results = {}
    for name, python in pythons:
        cmd = [python, os.path.abspath(__file__), "--only", "limit", "--json",
               "--limit-steps", str(args.limit_steps),
               "--trainer-images", str(args.trainer_images), "--gc", args.gc]
        if args.given["rounds"] is not None:
            cmd += ["--limit-rounds", str(args.given["rounds"])]
        if args.given["warmup"] is not None:
            cmd += ["--warmup", str(args.given["warmup"])]
        sys.stdout.write("  running the limit rows on %s ...\n" % name)
        sys.stdout.flush()
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, universal_newlines=True)
        if proc.returncode != 0:
            raise SystemExit("bench_training: %s failed (exit %d)" % (name, proc.returncode))
        results[name] = json.loads(proc.stdout.strip().splitlines()[-1])
        for r in results[name]:  # as they come: a later failure loses nothing
            _print_limit_row(r)
    names = [name for name, _ in pythons]
    print()
    print("## purenn / limit, CPU time a step (median of %s interleaved rounds; cycle "
          "collector %s); in brackets the median of the rounds' own ratios (each round runs "
          "both, one after the other), ms purenn vs limit, and the ratio of the fastest "
          "rounds" % (args.given["rounds"] or "7 (PyPy: 31)", args.gc))
    print()
    head = ["row"] + names
    keys = [(r["kind"], r["optimizer"], r["api"]) for r in results[names[0]]]
    rows = []
    for key in keys:
        cells = ["%s %s %s" % key]
        for name in names:
            r = [r for r in results[name] if (r["kind"], r["optimizer"], r["api"]) == key][0]
            cells.append("%.2f (%.2f; %.1f vs %.1f; min %.2f)" % (
                r["ratio"], r["ratio_paired"], r["purenn_ms"], r["limit_ms"], r["ratio_min"]))
        rows.append(cells)
    _table(head, rows)
    print()
    for name in names:
        checks = sorted(set(r[k] for r in results[name] for k in ("gradients", "one_step",
                                                                   "after")))
        print("  %s: limit vs purenn %s" % (name, ", ".join(checks)))
    _verdict([r for name in names for r in results[name]])
    print()
    return results


def _verdict(results):
    """The target, judged both ways: the ratio of the medians, and the median
    of each round's own ratio (the steadier one on a machine whose speed drifts)."""
    for what, key in (("ratio of the medians", "ratio"), ("round by round", "ratio_paired")):
        above = [r for r in results if r[key] > 1.10]
        print("target purenn / limit <= 1.10 for every row, %s: %s (worst %.2f%s)"
              % (what, "met" if not above else "NOT MET", max(r[key] for r in results),
                 "; %d of %d rows above" % (len(above), len(results)) if above else ""))


def _table(head, rows):
    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    for r in [head] + rows:
        print("  " + "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                               for i, (c, w) in enumerate(zip(r, widths))))


# --------------------------------------------------------------------- main

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=["naive", "limit", "memory"],
                        help="run one section (default: naive and limit)")
    parser.add_argument("--memory", action="store_true",
                        help="also the memory section (minutes: a whole MNIST epoch)")
    parser.add_argument("--pythons", metavar="LIST",
                        help="interpreters for the limit and memory sections, e.g. "
                             "3.11,3.12,pypy3 (names on PATH, pyenv versions or paths); "
                             "default: this one")
    parser.add_argument("--rounds", type=int, default=3, help="naive: timed rounds (3)")
    parser.add_argument("--naive-batches", type=int, default=10,
                        help="naive: optdigits batches the naive loop runs per round (10 of "
                             "120: its rate is extrapolated; 0 = the whole epoch)")
    parser.add_argument("--mnist-steps", type=int, default=5,
                        help="naive: MNIST mini-batch steps per round (5; the naive loop "
                             "does 1)")
    parser.add_argument("--limit-rounds", type=int, default=None,
                        help="limit: timed rounds (median; 7, on PyPy 31: its steps take "
                             "~6 ms, so a round of 5 is short and a collection weighs)")
    parser.add_argument("--limit-steps", type=int, default=5,
                        help="limit: MultiLayerNet steps a round (5)")
    parser.add_argument("--warmup", type=int, default=None,
                        help="limit: untimed rounds first (2, on PyPy 10: its JIT warms up)")
    parser.add_argument("--trainer-images", type=int, default=1000,
                        help="limit: images of the Trainer epoch a round (1000: 10 steps)")
    parser.add_argument("--gc", choices=["on", "off"], default="on",
                        help="limit: the cycle collector during the timed rounds (on: as "
                             "users run; off: to see what it costs)")
    parser.add_argument("--mnist-dir", metavar="FOLDER",
                        help="memory: folder with the MNIST training set (default: "
                             "$PURENN_MNIST_DIR)")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    given = dict(rounds=args.limit_rounds, warmup=args.warmup)  # None: each interpreter's own
    if args.limit_rounds is None:
        args.limit_rounds = 31 if PYPY else 7
    if args.warmup is None:
        args.warmup = 10 if PYPY else 2
    args.given = given
    sections = [args.only] if args.only else ["naive", "limit"] + (["memory"] if args.memory
                                                                    else [])
    if args.json:  # a child of --pythons: the limit rows as JSON, nothing else
        print(json.dumps(limit_rows(args)))
        return 0
    print("purenn training benchmark: %s %s on %s" % (
        platform.python_implementation(), platform.python_version(), platform.machine()))
    if hasattr(os, "getloadavg"):
        print("load average %.2f %.2f %.2f on %d cores (a busy machine slows every row alike)"
              % (os.getloadavg() + (os.cpu_count() or 1,)))
    print()
    if args.pythons:
        pythons = [(spec, find_python(spec)) for spec in args.pythons.split(",")]
        pythons = [(_version_of(python), python) for spec, python in pythons]
    else:
        pythons = [("%s %s" % (platform.python_implementation(), platform.python_version()),
                    sys.executable)]
    if "naive" in sections:
        naive_section(args)
    if "limit" in sections:
        if args.pythons:
            limit_on_pythons(args, pythons)
        else:
            limit_section(args)
            print()
    if "memory" in sections:
        memory_section(args, pythons)
    return 0


if __name__ == "__main__":
    sys.exit(main())
