"""Bombs: small inputs that ask for gigabytes or forever, and what they cost.

Each case builds its input (a file, a FIFO, a local server), loads it with a
purenn reader in a fresh process and measures the wall time and the growth
of the process's peak resident memory (``resource.getrusage``: what the
machine pays).  ``tests/test_fuzz.py`` asserts the bounds; run this file to
print the table of measured costs (docs/guarantees.md quotes it)::

    python tests/bombs.py            # every case, one line each
"""
import gzip
import json
import os
import struct
import subprocess
import sys
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


# ------------------------------------------------------------- the inputs

def idx_header(dims):
    return bytes([0, 0, 8, len(dims)]) + struct.pack(">%dI" % len(dims), *dims)


def gzip_of_zeros(head, mebibytes):
    """One gzip member: ``head``, then ``mebibytes`` MiB of zeros, in about
    1 KB of file per MiB (the deflate block of a full-flushed MiB of zeros
    repeats, so it is computed once)."""
    z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    first = z.compress(head) + z.compress(bytes(1 << 20)) + z.flush(zlib.Z_FULL_FLUSH)
    block = z.compress(bytes(1 << 20)) + z.flush(zlib.Z_FULL_FLUSH)
    return first + block * (mebibytes - 1) + z.flush()   # (no one reads to the CRC)


def gzip_of_repeats(head, item, count):
    return gzip.compress(head + item * count, compresslevel=1)


def nested_tuple_key(levels):
    return (b"\x80\x02}" + b")q\x000" + b"h\x00h\x00\x86q\x000" * levels + b"h\x00K\x01s.")


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


def fifo(path):
    os.mkfifo(path)
    return path


def sparse(path, size):
    with open(path, "wb") as f:
        f.truncate(size)
    return path


# case: (what it is, how to make it in a folder, the call, the words the
# error must have, the bound on memory growth in MB)
WEIGHTS_HEAD = b'{"format": "purenn-weights", "version": 1, "params": '
CASES = {
    "idx-gzip-1GiB": (
        "a 1 MB gzip'd IDX file: a 1-image header, then 1 GiB of zeros",
        lambda d: write(os.path.join(d, "bomb-idx3-ubyte.gz"),
                        gzip_of_zeros(idx_header((1, 28, 28)), 1024)),
        "read_idx", "unexpected bytes after the 784 data bytes", 32),
    "idx-header-2**96": (
        "an IDX header announcing (2**32-1)**3 bytes",
        lambda d: write(os.path.join(d, "huge-idx3-ubyte"), idx_header((2 ** 32 - 1,) * 3)),
        "read_idx", "more than the 47040000 purenn reads", 16),
    "weights-gzip-1GiB": (
        "a 1 MB .json.gz that expands to 1 GiB",
        lambda d: write(os.path.join(d, "bomb.json.gz"), gzip_of_zeros(WEIGHTS_HEAD, 1024)),
        "read_weights", "more than 67108864 bytes once decompressed", 160),
    "weights-many-floats": (
        "a .json.gz of 64 MiB of '1.5,' (16 million floats)",
        lambda d: write(os.path.join(d, "floats.json.gz"),
                        gzip_of_repeats(WEIGHTS_HEAD + b"[", b"1.5,", (64 << 20) // 4 - 20)),
        "load_params", "more than the 4194304 a purenn weights file may have", 160),
    "weights-deep-lists": (
        "a .json.gz of 60 million '['",
        lambda d: write(os.path.join(d, "deep.json.gz"),
                        gzip_of_repeats(WEIGHTS_HEAD, b"[", 60 << 20)),
        "load_params", "more than the 4194304 a purenn weights file may have", 160),
    "pickle-memo-2**32": (
        "a 9-byte pickle storing into memo slot 2**32-1",
        lambda d: write(os.path.join(d, "memo.pkl"), b"\x80\x02Nr\xff\xff\xff\xff."),
        "load_arrays", "expected a dict", 16),
    "pickle-shared-tuple-key": (
        "a 300-byte pickle: a dict keyed by a tuple of 2**30 shared tuples",
        lambda d: write(os.path.join(d, "key.pkl"), nested_tuple_key(30)),
        "load_arrays", "dict keys must be strings", 16),
    "pickle-length-2**63": (
        "a pickle whose BINBYTES8 says 2**63 bytes",
        lambda d: write(os.path.join(d, "len.pkl"),
                        b"\x80\x04\x8e" + struct.pack("<Q", 2 ** 63) + b"abc."),
        "load_arrays", "truncated: BINBYTES8", 16),
    "pickle-many-opcodes": (
        "a 300 KB pickle of 150,000 NONE, POP pairs",
        lambda d: write(os.path.join(d, "ops.pkl"), b"\x80\x02" + b"N0" * 150000 + b"}."),
        "load_arrays", "more than 200000 pickle operations", 16),
    "pickle-huge-array": (
        "a pickle of a 4,194,305-element float32 array (16 MB)",
        lambda d: write(os.path.join(d, "big.pkl"), _array_pickle((4194305,), 4 * 4194305)),
        "load_arrays", "more than the 4194304 elements", 64),
    "dev-zero-weights": (
        "/dev/zero as a weights file", lambda d: "/dev/zero",
        "read_weights", "not a regular file", 16),
    "dev-urandom-pixels": (
        "/dev/urandom as a pixel file", lambda d: "/dev/urandom",
        "read_numbers", "not a regular file", 16),
    "fifo-data-file": (
        "a FIFO (no writer) as an IDX file", lambda d: fifo(os.path.join(d, "fifo")),
        "read_idx", "not a regular file", 16),
    "sparse-1GiB-pixels": (
        "a 1 GiB sparse file as a pixel file", lambda d: sparse(os.path.join(d, "px"), 1 << 30),
        "read_numbers", "more than the 1048576", 16),
    "download-endless": (
        "a server sending zeros without end (the labels file)", lambda d: "endless",
        "download", "more than an MNIST file can have", 48),
    "download-gzip-bomb": (
        "a server sending 8 KB of gzip that expand to 8 MiB", lambda d: "gzip_bomb",
        "download", "once decompressed", 48),
    "download-slow": (
        "a server sending one byte every 0.2 s (deadline 2 s)", lambda d: "slow_body",
        "download", "took longer than the deadline of 2 s", 48),
}


def _array_pickle(shape, nbytes):
    """{"W1": numpy float32 array of ``shape``} as numpy pickles it (protocol 4)."""
    dims = b"".join(b"J" + struct.pack("<i", n) for n in shape)
    return (b"\x80\x04}X\x02\x00\x00\x00W1cnumpy.core.multiarray\n_reconstruct\n"
            b"cnumpy\nndarray\nK\x00\x85C\x01b\x87R(K\x01(" + dims + b"t"
            b"cnumpy\ndtype\nX\x02\x00\x00\x00f4\x89\x88\x87R"
            b"(K\x03X\x01\x00\x00\x00<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89"
            b"\x8e" + struct.pack("<Q", nbytes) + bytes(nbytes) + b"tbs.")


# --------------------------------------------------------- the measurement

def _call(call, target, folder):
    """Run the purenn reader of a case on ``target``; DataError and
    DownloadError are the expected outcome."""
    if call == "download":
        import servers
        from purenn.download import download_mnist
        with servers.misbehaving(getattr(servers, target)) as url:
            return download_mnist("test", folder, [url], timeout=5, deadline=2)
    from purenn.datasets import read_idx
    from purenn.files import read_numbers
    from purenn.pickles import load_arrays
    from purenn.weights import load_params, read_weights
    return {"read_idx": read_idx, "read_numbers": read_numbers, "load_arrays": load_arrays,
            "load_params": load_params, "read_weights": read_weights}[call](target)


def _status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024        # kB
    raise KeyError(field)


def _reset_peak():
    """Start counting the peak from now: ``-> bytes resident now``.  On Linux
    the high-water mark VmHWM is reset (``clear_refs``; ``ru_maxrss`` would
    keep the parent's peak across ``exec``); elsewhere ``ru_maxrss``."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return _status("VmRSS")
    except (OSError, KeyError):
        return _max_rss()


def _peak():
    try:
        return _status("VmHWM")
    except (OSError, KeyError):
        return _max_rss()


def _max_rss():
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024   # (Linux counts KiB)


def child(name, target, folder):
    """In the measuring process: load the input, print a JSON line."""
    sys.path[:0] = [REPO, HERE]
    from purenn.errors import DataError
    from purenn.download import DownloadError
    import purenn.datasets, purenn.weights, purenn.pickles, purenn.files  # noqa: E401,F401
    call = CASES[name][2]
    if call == "download":  # the images are there, verified: only the labels are fetched
        import shutil
        shutil.copy(os.path.join(purenn.datasets.DATA_DIR, "t10k-images-idx3-ubyte.gz"), folder)
        purenn.datasets.verify_mnist(os.path.join(folder, "t10k-images-idx3-ubyte.gz"),
                                     "t10k-images-idx3-ubyte")
    before = _reset_peak()
    start = time.perf_counter()
    try:
        _call(call, target, folder)
        outcome = "returned"
    except (DataError, DownloadError) as e:
        outcome = "%s: %s" % (type(e).__name__, e)
    seconds = time.perf_counter() - start
    print(json.dumps({"case": name, "seconds": seconds,
                      "peak_growth_mb": (_peak() - before) / float(1 << 20),
                      "outcome": outcome}))


def measure(name, folder, timeout=120):
    """Make the input of one case in ``folder``, then load it in a fresh
    Python: ``-> dict`` (case, seconds, peak_growth_mb, outcome); the child
    is killed after ``timeout`` s."""
    target = CASES[name][1](folder)
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", name, target,
                          folder], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True, timeout=timeout)
    if out.returncode != 0:
        raise AssertionError("the measuring process failed:\n" + out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    import tempfile
    print("| case | input | time (s) | peak memory growth (MB) | outcome |")
    print("|---|---|---|---|---|")
    for name in CASES:
        folder = tempfile.mkdtemp(prefix="purenn-bomb-")
        r = measure(name, folder)
        print("| %s | %s | %.3f | %.1f | %s |" % (name, CASES[name][0], r["seconds"],
                                                 r["peak_growth_mb"], r["outcome"][:90]))
        sys.stdout.flush()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        main()
