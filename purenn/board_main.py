"""The ``main.py`` of a folder written by ``python -m purenn export``: classify
the test samples beside it with the network beside it, and say how much heap
that took.

On a board it runs at every reset (``main.py`` is what MicroPython runs after
``boot.py``), or now with ``mpremote run main.py``; anywhere else run it in
the folder: ``micropython main.py`` (``-X heapsize=100K`` to play an ESP32)
or ``python main.py``.  It prints::

    network: CompactNetwork(64-100-10 int8, 8352 bytes), arrays 9320 bytes
    accuracy: 0.9716 (1746 of 1797)
    heap: 39648 bytes at most (gc.mem_alloc() high-water mark), of 102400; 64-bit floats

The heap line: the most ``gc.mem_alloc()`` reported after a collection
(``gc.collect()``), probed after each layer is read and after each layer of
the first samples' forward passes: what the program holds at once (the
interpreter's own objects, this code, the network, the buffers), not the
garbage that a collection would free.  On CPython there is no
``gc.mem_alloc`` and the line says so.  "32-bit floats" means the board
computes in float32 (``MICROPY_FLOAT_IMPL_FLOAT``), "64-bit" in float64 (the
unix port, CPython).

Exit status (where there is one): 0, or 1 when a file is missing or corrupt
(``error: ...`` says which).
"""
import gc  # portable: import -- every MicroPython port has gc, and so has CPython
import sys

try:
    import compact                    # on a board: compact.py beside this file
except ImportError:
    from purenn import compact        # run from the purenn package (its tests)

NETWORK = "network.bin"
SAMPLES = "samples.bin"
PROBED_SAMPLES = 3   # the forward passes whose heap is probed (all are the same)


class HighWater:
    """Called after a step: collects the garbage and keeps the largest
    ``gc.mem_alloc()`` seen."""

    def __init__(self):
        self.most = 0

    def __call__(self):
        gc.collect()
        used = gc.mem_alloc()
        if used > self.most:
            self.most = used


def folder_of(path):
    return path.rsplit("/", 1)[0] if "/" in path else "."


def float_bits():
    """32 when floats are float32 (1 + 1e-10 rounds to 1), else 64."""
    return 32 if 1.0 + 1e-10 == 1.0 else 64


def main(folder="."):
    """Classify every sample of ``folder``/samples.bin; 0, or 1 on an error."""
    probe = HighWater() if hasattr(gc, "mem_alloc") else None
    if probe is not None:
        probe()
    correct = total = 0
    try:
        net = compact.load(folder + "/" + NETWORK, probe=probe)
        print("network: %r, arrays %d bytes" % (net, net.nbytes))
        for label, values in compact.read_samples(folder + "/" + SAMPLES):
            guess = net.classify(values, probe if total < PROBED_SAMPLES else None)
            if guess == label:
                correct += 1
            total += 1
    except (compact.DataError, OSError, MemoryError, ValueError) as e:
        print("error: %s" % (e,))
        return 1
    print("accuracy: %.4f (%d of %d)" % (correct / total, correct, total))
    if probe is not None:
        print("heap: %d bytes at most (gc.mem_alloc() high-water mark), of %d; %d-bit floats"
              % (probe.most, gc.mem_alloc() + gc.mem_free(), float_bits()))
    else:
        print("heap: not measured (%s has no gc.mem_alloc); %d-bit floats"
              % (sys.implementation.name, float_bits()))
    return 0


if __name__ == "__main__":
    status = main(folder_of(globals().get("__file__", "")))
    if status:
        sys.exit(status)
