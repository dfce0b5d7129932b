"""Every core: batch inference and data-parallel training over processes.

Pure Python computes on one core.  This module shares the work of a batch
inference, or of each training step, out among ``workers`` processes, with the
standard library's ``multiprocessing`` only.  ``workers=1`` (the default
everywhere) starts no process and runs the ordinary one-core code.

=================================  ================================================
``predict_batches(net, x, ...)``   the predicted class of every row of x, the
                                   batches shared out among ``workers`` processes
``accuracy(net, x, t, ...)``       the share of rows predicted right, the same way
``DataParallel(net, opt, x, t)``   training with every batch split over the workers:
                                   ``step(rows) -> loss``, then ``close()``
``available()``                    ``(True, "")``, or ``(False, why)`` on a Python
                                   that cannot start processes
``resolve_workers(n)``             ``n`` checked; ``"auto"`` is one per core
``Packed``                         rows of numbers in a compact form to send
``WorkerError``                    a worker died, could not start, or cannot exist
=================================  ================================================

**Inference.**  The batches (``batch_size`` rows each, cut exactly as with one
worker) are dealt out in ``workers`` contiguous runs: the first run is
computed in this process, the others in child processes.  Each batch is
computed exactly as one worker computes it, so the predictions are the same,
bit for bit.

**Training** (``DataParallel``): one step on a batch of n rows, W workers.
The parameters are cut into W shards (rows of each matrix), and each worker
gets the gradient of its shard over the whole batch.  For a network of
``Affine`` layers and activations (a ``MultiLayerNet`` without batchnorm or
dropout)::

    1. worker s runs the forward pass and the backward dx chain on its n/W rows
       of the batch: dout -> dout . W^T -> h'(a) * ... (the book's backward)
    2. the workers swap the deltas d and the inputs x of every Affine layer
    3. worker s computes dW = x^T . d and db = sum of d for its rows of W only,
       over the whole batch
    4. worker s runs the optimiser on its shard (purenn's optimisers work
       element by element, so that is the update of those elements)
    5. the workers swap their updated shards: each now has all the parameters

Every number is computed exactly as one worker computes it (the same rows
through the same kernels, the same sums in the same order), so the weights
are **the same, bit for bit**, as with one worker (``tests/test_parallel.py``
checks it).  Each worker does ``1 / W`` of the products and of the
optimiser's work, and sends about 300 floats a sample of its rows plus its
shard of the parameters a step.  Any other network with ``gradient`` and
``params`` is trained the plain way: each worker computes the whole gradient
of its rows and the shards of the W gradients are added up, weighted by
their share of the batch; that changes the order of the additions, so the
weights agree with one worker's to a few units in the last place (within
1e-12 over the steps tested).  Either way every result is **deterministic**
for a given number of workers.  Batch normalisation (statistics over the
whole batch) and dropout (random masks drawn per process) are refused.

**Start methods.**  With ``fork`` (Linux's default) the children inherit the
network and the rows.  With ``spawn`` (macOS and Windows) the network is
pickled and the rows are sent as ``Packed``: with at most 256 distinct values
(images: 0 .. 255 / 255.0) one byte a value, 784 bytes an MNIST image instead
of 6 KB of pointers.  (Under ``spawn`` a script that starts workers must do so
inside ``if __name__ == "__main__":``, as for every ``multiprocessing`` program.)

**Failures.**  A worker that dies (killed, out of memory) is noticed at once:
every wait also watches the processes' sentinels, so the call raises
``WorkerError`` naming the worker and the other workers are stopped; nothing
hangs.  An exception inside a worker (e.g. ``OverflowError``) is raised again
here.  Where there are no processes at all (Pyodide, MicroPython), ``workers``
above 1 raises ``WorkerError`` saying so; ``workers=1`` works everywhere.
"""
import os
import struct
import sys
from array import array

try:
    from itertools import chain
except ImportError:  # MicroPython builds without itertools (they have no processes either)
    chain = None

from purenn.errors import WorkerError
from purenn.kernels import no_cycle_collection
from purenn.matrix import Matrix, as_matrix

# -------------------------------------------------------------- can we at all

def available():
    """``(True, "")`` where this Python can start worker processes, else
    ``(False, why)``.

    >>> ok, why = available()
    >>> ok in (True, False) and isinstance(why, str)
    True
    """
    if sys.platform == "emscripten":
        return False, "Pyodide (WebAssembly in a browser or Node.js) cannot start processes"
    if sys.platform == "wasi":
        return False, "WASI (WebAssembly) cannot start processes"
    if sys.implementation.name == "micropython":
        return False, "MicroPython has no multiprocessing"
    try:
        import multiprocessing.connection  # noqa: F401
    except ImportError as e:
        return False, "this Python has no multiprocessing (%s)" % e
    return True, ""


def cpu_count():
    """The number of cores this process may run on (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def resolve_workers(workers, op="workers"):
    """``workers`` as an int >= 1: an int is checked, ``"auto"`` is one per
    core (1 where there are no processes).

    >>> resolve_workers(2)
    2
    >>> resolve_workers(0)
    Traceback (most recent call last):
        ...
    ValueError: workers: workers must be an int >= 1 or "auto", got 0
    """
    if workers == "auto":
        return cpu_count() if available()[0] else 1
    if type(workers) is not int or workers < 1:
        raise ValueError('%s: workers must be an int >= 1 or "auto", got %r' % (op, workers))
    return workers


def _require_processes(workers, op):
    ok, why = available()
    if not ok:
        raise WorkerError("%s: workers=%d needs worker processes, but %s; use workers=1"
                          % (op, workers, why))


def _context(start_method):
    import multiprocessing
    try:
        return multiprocessing.get_context(start_method)
    except ValueError:
        raise ValueError("start_method must be None (the platform's default), %s; got %r"
                         % (", ".join(repr(m) for m in multiprocessing.get_all_start_methods()),
                            start_method))


def _split(items, parts):
    """``items`` cut into ``parts`` contiguous runs whose lengths differ by at most 1.

    >>> _split(list(range(7)), 3)
    [[0, 1, 2], [3, 4], [5, 6]]
    """
    n = len(items)
    out, start = [], 0
    for p in range(parts):
        size = n // parts + (1 if p < n % parts else 0)
        out.append(items[start:start + size])
        start += size
    return out


# ------------------------------------------------------------ compact rows

class Packed:
    """Rows of numbers in a compact form, to send to a process.

    With at most 256 distinct values, each value is one byte: its index in
    ``table`` (MNIST images: 784 bytes a row instead of 784 pointers); else
    ``array('d')`` (8 bytes a value); anything else (e.g. ``Fraction``) is
    kept as tuples.  Decoding gives back numbers equal (``==``) to the
    originals; equal numbers share one entry of the table, so ``-0.0`` may come
    back as ``0.0`` and ``1`` as ``1.0`` (the first one seen).

    >>> p = Packed.from_matrix(Matrix([[0.0, 0.5], [1.0, 0.0]]))
    >>> p.kind, len(p), p.rows([1, 0])
    ('table', 2, [[1.0, 0.0], [0.0, 0.5]])
    """

    def __init__(self, kind, width, count, data, table=None):
        self.kind, self.width, self.count, self.data, self.table = kind, width, count, data, table

    @classmethod
    def from_matrix(cls, x, first=0, stop=None):
        """Rows ``first`` to ``stop`` (all by default) of the Matrix ``x``."""
        x = as_matrix(x, "Packed.from_matrix: x")
        stop = x.shape[0] if stop is None else stop
        width = x.shape[1]
        # as lists: iterating a Matrix gives (1, M) matrices, as numpy gives its rows
        rows = (x[first:stop] if (first, stop) != (0, x.shape[0]) else x).tolist()
        for make in (cls._table, cls._float64):
            packed = make(rows, width)
            if packed is not None:
                return packed
        return cls("tuples", width, len(rows), list(rows))

    @classmethod
    def _table(cls, rows, width):
        index, table, chunks = {}, [], []
        lookup = index.__getitem__
        for row in rows:
            try:
                chunks.append(bytes(map(lookup, row)))
            except KeyError:
                for v in row:
                    if v not in index:
                        if len(table) == 256 or type(v) not in (int, float):
                            return None
                        index[v] = len(table)
                        table.append(v)
                chunks.append(bytes(map(lookup, row)))
        return cls("table", width, len(chunks), b"".join(chunks), table)

    @classmethod
    def _float64(cls, rows, width):
        data = array("d")
        plain = set((int, float))
        for row in rows:
            if not set(map(type, row)) <= plain:  # array("d") would round a Fraction
                return None
            data.extend(row)
        return cls("float64", width, len(data) // width, data.tobytes())

    def __len__(self):
        return self.count

    def rows(self, indices):
        """The rows at ``indices`` (positions in this Packed), as lists."""
        w = self.width
        if self.kind == "table":
            table, data = self.table, self.data
            return [[table[p] for p in data[i * w:(i + 1) * w]] for i in indices]
        if self.kind == "float64":
            values = self.__dict__.get("_values")
            if values is None:
                values = self._values = array("d", self.data)  # once, then shared
            return [values[i * w:(i + 1) * w].tolist() for i in indices]
        return [list(self.data[i]) for i in indices]

    def __getstate__(self):
        return dict((k, v) for k, v in self.__dict__.items() if k != "_values")


# ------------------------------------------------- processes and messages

class _Remote(Exception):
    """An exception raised in another worker, carried here to be raised again."""


class _Link:
    """This process's pipes to the other workers (``peer -> Connection``),
    with every wait also watching ``watch`` (process sentinels) so that a dead
    process is an error, never a hang."""

    def __init__(self, rank, conns, watch, timeout, op, describe):
        self.rank, self.conns, self.watch, self.timeout = rank, conns, watch, timeout
        self.op, self.describe = op, describe  # peer or sentinel -> "worker 1 (pid 42) ..."

    def _gone(self, peer, how):
        return WorkerError("%s: %s%s" % (self.op, self.describe(peer), how))

    def send(self, peer, message):
        conn = self.conns[peer]
        try:
            conn.send(message)
        except (OSError, EOFError, ValueError):  # BrokenPipe, reset, closed
            # a peer that failed says why before it goes: read that first
            try:
                if conn.poll():
                    last = conn.recv()
                    if last[0] == "error":
                        raise _Remote(last[1])
            except (OSError, EOFError):
                pass
            raise self._gone(peer, " (its pipe is closed)")

    def recv(self, peer):
        from multiprocessing.connection import wait
        conn = self.conns[peer]
        ready = wait([conn] + list(self.watch), self.timeout)
        if conn in ready:
            try:
                message = conn.recv()
            except (OSError, EOFError):
                raise self._gone(peer, "")
            except Exception as e:  # it arrived but cannot be unpickled here
                raise WorkerError("%s: a message from worker %s cannot be read here (%s: %s)"
                                  % (self.op, peer, type(e).__name__, e))
            if message[0] == "error":
                raise _Remote(message[1])
            return message
        if ready:
            raise self._gone(ready[0], "")
        raise WorkerError("%s: no answer from %s within %s s"
                          % (self.op, self.describe(peer), self.timeout))

    def exchange(self, outgoing):
        """Send ``outgoing[peer]`` to each peer and receive one message from
        each.  Pairs take turns in one global order (the lower rank sends
        first), so two large messages never wait on each other."""
        incoming = {}
        for q in sorted(self.conns):
            if self.rank < q:
                self.send(q, outgoing[q])
                incoming[q] = self.recv(q)
            else:
                incoming[q] = self.recv(q)
                self.send(q, outgoing[q])
        return incoming

    def tell_error(self, exc):
        """Best effort: pass an exception on to every peer."""
        try:
            import pickle
            pickle.dumps(exc)
        except Exception:
            exc = WorkerError("%s failed: %s: %s" % (self.op, type(exc).__name__, exc))
        for conn in self.conns.values():
            try:
                conn.send(("error", exc))
            except Exception:
                pass

    def close(self):
        for conn in self.conns.values():
            try:
                conn.close()
            except OSError:
                pass


def _freeze_inherited():
    """CPython 3.7+: move everything alive now (under fork: all the parent had,
    the data set too) out of the cycle collector's sight.  Its collections
    would walk those objects and, by writing to each one's header, copy every
    page the child shares with the parent."""
    try:
        import gc
        gc.freeze()
    except (ImportError, AttributeError):
        pass


def _child_main(rank, conns, foreign, timeout, target, args):
    """The entry of every child process: keep only our own pipe ends, ignore
    Ctrl-C (the parent stops us), run ``target(link, *args)``.  ``args`` is
    None under spawn: they come as the first message (see ``_Group``)."""
    import signal
    import multiprocessing
    for conn in foreign:  # fork: ends that belong to other processes
        conn.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _freeze_inherited()
    parent = multiprocessing.parent_process()
    watch = [parent.sentinel] if parent is not None else []

    def describe(what):
        if what == 0 or what in watch:
            return "the main process exited"
        return "worker %d is gone" % what

    link = _Link(rank, conns, watch, timeout, "purenn worker %d" % rank, describe)
    try:
        if args is None:
            try:
                args = link.recv(0)[1]
            except (_Remote, WorkerError):
                raise
            except Exception as e:
                raise WorkerError(
                    "purenn worker %d: could not unpickle what it was sent (%s: %s); under "
                    "the spawn start method every class must be importable: define it in a "
                    "module or a script file, not in `python -c` or an interactive session"
                    % (rank, type(e).__name__, e))
        target(link, *args)
    except _Remote:
        pass  # another process failed first and says so itself
    except WorkerError as e:
        if "could not unpickle" in str(e):
            link.tell_error(e)
    except BaseException as e:
        link.tell_error(e)
    finally:
        link.close()


class _Group:
    """Child processes for ranks 1 .. size-1 (this process is rank 0), with a
    pipe between every two of them (``mesh``) or only to rank 0."""

    def __init__(self, size, target, args_of, start_method, timeout, op, mesh):
        self.op, self.procs = op, {}
        ctx = _context(start_method)
        fork = ctx.get_start_method() == "fork"
        ends = {}
        for a in range(size):
            for b in range(a + 1, size):
                if mesh or a == 0:
                    ends[a, b], ends[b, a] = ctx.Pipe(duplex=True)
        try:
            for r in range(1, size):
                own = dict((b, c) for (a, b), c in ends.items() if a == r)
                foreign = [c for (a, b), c in ends.items() if a != r] if fork else []
                # Under spawn the arguments are pickled into a pipe that the
                # parent itself keeps open until they are written: a child
                # that died reading them would block start() for ever.  So
                # spawn gets small arguments, and the rest follows through
                # our own pipes, where a death is noticed.
                proc = ctx.Process(target=_child_main, name="purenn-worker-%d" % r,
                                   args=(r, own, foreign, timeout, target,
                                         args_of(r) if fork else None))
                proc.daemon = True  # never outlives this process
                proc.start()
                self.procs[r] = proc
        except BaseException:
            self.procs_close(ends)
            raise
        for (a, b), c in ends.items():
            if a != 0:
                c.close()  # the child's copy is the only one left: its death closes it
        self.sentinels = dict((p.sentinel, r) for r, p in self.procs.items())
        self.link = _Link(0, dict((b, c) for (a, b), c in ends.items() if a == 0),
                          list(self.sentinels), timeout, op, self.describe)
        if not fork:
            try:
                for r in self.procs:
                    self.link.send(r, ("setup", args_of(r)))
            except BaseException:
                self.close(stop=False)
                raise

    def describe(self, what):
        rank = self.sentinels.get(what, what)
        proc = self.procs.get(rank)
        if proc is None:
            return "worker %r" % (rank,)
        proc.join(0.5)  # it has exited or is exiting: collect its exit code
        code = proc.exitcode
        if code is None:
            state = "is not answering"
        elif code < 0:
            state = "was killed by signal %d" % -code
        else:
            state = "exited with code %d" % code
        return "worker %d (pid %s) %s" % (rank, proc.pid, state)

    def procs_close(self, ends):
        for c in ends.values():
            c.close()
        for proc in self.procs.values():
            proc.terminate()
            proc.join()

    def close(self, stop=True):
        """Ask the children to stop, then make sure they have."""
        if stop:
            for r in self.procs:
                try:
                    self.link.conns[r].send(("stop",))
                except Exception:
                    pass
        self.link.close()
        for proc in self.procs.values():
            proc.join(2.0 if stop else 0.1)
            if proc.exitcode is None:
                proc.terminate()
                proc.join(2.0)
            if proc.exitcode is None and hasattr(proc, "kill"):
                proc.kill()
                proc.join()


def _raise_remote(e):
    """Raise a worker's own exception here (an OverflowError stays one)."""
    exc = e.args[0]
    if isinstance(exc, BaseException):
        raise exc
    raise WorkerError(str(exc))


# --------------------------------------------------------------- inference

def _classify(network, batch):
    """(the predicted class of each row, the rows whose scores hold a nan)."""
    scores = network.predict(batch)
    classes = scores.argmax(axis=1)
    nans = [i for i, row in enumerate(scores) if any(v != v for v in row)]
    return classes, nans


# A child sends its finished batches at most this often (seconds): a message
# costs both processes ~0.4 ms on PyPy (measured), about a third of a batch.
_REPORT_EVERY = 0.1


def _inference_worker(link, network, data, first, starts, batch_size, total):
    """A child's share of ``predict_batches``: batch after batch, the results
    sent a few batches at a time (a message once ``_REPORT_EVERY`` s have
    passed since the last, and one at the end)."""
    import time
    done, sent = [], time.monotonic()
    for s in starts:
        stop = min(s + batch_size, total)
        if isinstance(data, Packed):
            batch = Matrix(data.rows(range(s - first, stop - first)))
        else:
            batch = data[s:stop]
        done.append((s,) + _classify(network, batch))
        if time.monotonic() - sent >= _REPORT_EVERY:
            link.send(0, ("batches", done))
            done, sent = [], time.monotonic()
    if done:
        link.send(0, ("batches", done))
    link.send(0, ("done",))
    # stay until told to stop: an exit now would look like a death.  No time
    # bound here (review: a child done long before the parent gave up after
    # ``timeout`` and exited, which the parent then reported as a dead worker);
    # the parent's death is still noticed through its sentinel.
    link.timeout = None
    link.recv(0)


def _classify_all(network, x, batch_size, workers, progress, start_method, timeout, op):
    """{batch start: (classes, nan rows)} for every batch of x."""
    if type(batch_size) is not int or batch_size < 1:
        raise ValueError("%s: batch_size must be a positive int, got %r" % (op, batch_size))
    workers = resolve_workers(workers, op)
    if workers > 1:
        _require_processes(workers, op)
    n = x.shape[0]
    starts = list(range(0, n, batch_size))
    workers = min(workers, len(starts))
    results = {}

    def tell(s):
        if progress is not None:
            progress.update(min(batch_size, n - s))

    if workers == 1:
        for s in starts:
            results[s] = _classify(network, x[s:s + batch_size])
            tell(s)
        return results
    runs = _split(starts, workers)
    fork = _context(start_method).get_start_method() == "fork"

    def args_of(r):
        first, last = runs[r][0], min(runs[r][-1] + batch_size, n)
        data = x if fork else Packed.from_matrix(x, first, last)
        return (network, data, first, runs[r], batch_size, n)

    group = _Group(workers, _inference_worker, args_of, start_method, timeout, op, mesh=False)
    group.pending = set(group.procs)  # the children not done yet
    ok = False
    try:
        for s in runs[0]:
            results[s] = _classify(network, x[s:s + batch_size])
            tell(s)
            _drain(group, results, tell, block=False)
        _drain(group, results, tell, block=True)
        ok = True
    except _Remote as e:
        _raise_remote(e)
    finally:
        group.close(stop=ok)
    return results


def _drain(group, results, tell, block):
    """Take the children's finished batches: those ready now, or (``block``)
    all of them.  A sentinel that fires is a dead worker: ``WorkerError``."""
    from multiprocessing.connection import wait
    link = group.link
    pending = group.pending
    while pending:
        conns = dict((link.conns[r], r) for r in pending)
        ready = wait(list(conns) + list(group.sentinels), link.timeout if block else 0)
        if not ready:
            if block:
                raise WorkerError("%s: no answer from the workers within %s s"
                                  % (group.op, link.timeout))
            return
        answered = [conns[c] for c in ready if c in conns]
        if not answered:
            raise WorkerError("%s: %s" % (group.op, group.describe(ready[0])))
        for r in sorted(answered):
            message = link.recv(r)
            if message[0] == "done":
                pending.discard(r)
            else:
                for s, classes, nans in message[1]:
                    results[s] = (classes, nans)
                    tell(s)


def predict_batches(network, x, batch_size=100, workers=1, progress=None, start_method=None,
                    timeout=None):
    """The class with the highest score for every row of x (a list of ints),
    ``batch_size`` rows at a time, the batches shared out among ``workers``
    processes (``"auto"``: one per core).  The same answer as one worker, to
    the bit.  ``progress`` (a ``purenn.progress.Progress``) is told about each
    batch; ``start_method`` is ``None`` (the platform's), ``"fork"`` or
    ``"spawn"``; ``timeout`` (seconds) bounds each wait for a worker that is
    alive but silent (``None``: no bound; a dead worker is always noticed).

    >>> from purenn.network import Network, init_network
    >>> predict_batches(Network.from_dict(init_network()), [[1.0, 0.5], [-1.0, 2.0]])
    [1, 1]
    """
    x = as_matrix(x, "predict_batches: x")
    results = _classify_all(network, x, batch_size, workers, progress, start_method, timeout,
                            "predict_batches")
    predicted = []
    for s in sorted(results):
        predicted += results[s][0]
    return predicted


def accuracy(network, x, t, batch_size=100, workers=1, start_method=None, timeout=None):
    """The share of rows of x whose highest score is at the label t (ints, or
    one-hot rows), as ``MultiLayerNet.accuracy`` computes it (a row whose scores
    hold a nan counts as wrong), the batches shared out among ``workers``.

    >>> from purenn.network import Network, init_network
    >>> accuracy(Network.from_dict(init_network()), [[1.0, 0.5], [-1.0, 2.0]], [1, 0])
    0.5
    """
    x = as_matrix(x, "accuracy: x")
    if isinstance(t, Matrix) or (len(t) and isinstance(t[0], (list, tuple))):
        t = as_matrix(t, "accuracy: t").argmax(axis=1)
    t = list(t)
    if len(t) != x.shape[0]:
        raise ValueError("accuracy: %d rows but %d labels: they must be as many"
                         % (x.shape[0], len(t)))
    results = _classify_all(network, x, batch_size, workers, None, start_method, timeout,
                            "accuracy")
    correct = 0
    for s, (classes, nans) in results.items():
        correct += sum(1 for i, p in enumerate(classes) if p == t[s + i])
        correct -= sum(1 for i in nans if classes[i] == t[s + i])
    return correct / x.shape[0]


# ----------------------------------------------------------------- training

def _shard_plan(shapes, size):
    """For each worker, the rows of each parameter it owns: ``[[(key, r0, r1),
    ...], ...]``.  A matrix with at least ``size`` rows is cut into ``size``
    runs of rows; a smaller one (a bias row) goes whole to one worker, in turn.

    >>> _shard_plan([("W1", (4, 3)), ("b1", (1, 3)), ("W2", (3, 2)), ("b2", (1, 2))], 2)
    [[('W1', 0, 2), ('b1', 0, 1), ('W2', 0, 2)], [('W1', 2, 4), ('W2', 2, 3), ('b2', 0, 1)]]
    """
    plan = [[] for _ in range(size)]
    turn = 0
    for key, (rows, _) in shapes:
        if rows >= size:
            start = 0
            for r, run in enumerate(_split(list(range(rows)), size)):
                plan[r].append((key, start, start + len(run)))
                start += len(run)
        else:
            plan[turn % size].append((key, 0, rows))
            turn += 1
    return plan


def _pack(matrices, entries):
    """The rows ``r0:r1`` of ``matrices[key]`` for each entry, as float64 bytes."""
    data = array("d")
    for key, r0, r1 in entries:
        for row in matrices[key][r0:r1].tolist():
            data.extend(row)
    return data.tobytes()


def _unpack(raw, entries, widths):
    """``_pack``'s bytes back to ``{key: rows}``."""
    values = array("d")
    values.frombytes(raw)
    out, at = {}, 0
    for key, r0, r1 in entries:
        w = widths[key]
        out[key] = [values[at + i * w:at + (i + 1) * w].tolist() for i in range(r1 - r0)]
        at += (r1 - r0) * w
    return out


def _is_state(value):
    """A Matrix, or rows as lists: the forms an optimiser keeps per parameter."""
    return isinstance(value, Matrix) or (isinstance(value, list) and
                                         all(isinstance(r, list) for r in value))


def _state_names(optimizer, keys):
    """The optimiser's per-parameter state: attributes that are dicts with
    the parameters' keys, each value a Matrix or rows (Adam's m and v ...)."""
    names = []
    for name, value in sorted(vars(optimizer).items()):
        if isinstance(value, dict) and set(value) == set(keys) and \
                all(_is_state(m) for m in value.values()):
            names.append(name)
    return names


def _rows_of(value, r0=0, r1=None):
    """Rows r0:r1 of a Matrix or of a list of rows, as new lists."""
    rows = value.tolist() if isinstance(value, Matrix) else value
    return [list(r) for r in rows[r0:r1]]


def _scatter_optimizer(optimizer, plan, keys):
    """One copy of the optimiser per worker, holding its shard of the state."""
    import copy
    names = _state_names(optimizer, keys)
    copies = []
    for entries in plan:
        mine = copy.deepcopy(optimizer)
        for name in names:
            full = getattr(optimizer, name)
            shard = {}
            for key, r0, r1 in entries:
                rows = _rows_of(full[key], r0, r1)
                shard[key] = Matrix(rows) if isinstance(full[key], Matrix) else rows
            setattr(mine, name, shard)
        copies.append(mine)
    return copies


def _optimizer_state(optimizer, entries):
    """What a worker's optimiser holds: its shard of the state (as rows, and
    whether they were matrices), and the rest of its attributes (the step
    count ...), to gather into the original."""
    keys = [key for key, _, _ in entries]
    names = _state_names(optimizer, keys)
    shards = {}
    for name in names:
        value = getattr(optimizer, name)
        shards[name] = dict((key, _packed_rows(_rows_of(value[key]))) for key in keys)
        shards[name][None] = any(isinstance(m, Matrix) for m in value.values())
    others = dict((k, v) for k, v in vars(optimizer).items() if k not in names)
    return shards, others


def _packed_rows(rows):
    """Rows to send: as float bytes when every value is a float (pickling
    lists of floats is slow on PyPy: Adam's state of a 784-50-100-10 network
    took 60-100 ms there, measured), else as they are (ints, Fractions)."""
    if rows and rows[0] and all(len(row) == len(rows[0]) for row in rows) and \
            all(type(v) is float for row in rows for v in row):
        return ("floats", len(rows), len(rows[0]), _float_bytes([Matrix._wrap(rows)]))
    return ("rows", rows)


def _unpacked_rows(packed):
    """``_packed_rows`` undone: the rows as new lists."""
    if packed[0] == "floats":
        _, count, cols, raw = packed
        return _FloatReader(raw).matrix(count, cols).tolist()
    return packed[1]


# Floats to bytes and back, the fastest way on each interpreter (measured, 22,700
# floats: struct.pack 0.33 ms and array.extend 1.3 ms on CPython 3.12, 1.5 and
# 0.14 ms on PyPy; back to rows, array slices 0.69 ms on CPython and
# struct.unpack_from 0.03 ms on PyPy, 0.78 and 0.25 the other way round).
_ON_PYPY = sys.implementation.name == "pypy"


def _float_bytes(matrices):
    """The rows of the matrices, one after another, as float64 bytes in this
    machine's byte order (every worker runs on this machine)."""
    rows = [row for m in matrices for row in m.tolist()]
    if not _ON_PYPY:
        return struct.pack("=%dd" % sum(map(len, rows)), *chain.from_iterable(rows))
    data = array("d")
    for row in rows:
        data.extend(row)
    return data.tobytes()


class _FloatReader:
    """Matrices one after another out of ``_float_bytes``' bytes."""

    def __init__(self, raw):
        self.raw, self.at = raw, 0
        if not _ON_PYPY:
            self.values = array("d")
            self.values.frombytes(raw)

    def matrix(self, count, cols):
        """The next ``count`` rows of ``cols`` floats, as a Matrix."""
        at, self.at = self.at, self.at + count * cols
        if _ON_PYPY:
            unpack, raw = struct.Struct("=%dd" % cols).unpack_from, self.raw
            return Matrix._wrap([list(unpack(raw, 8 * (at + i * cols))) for i in range(count)])
        values = self.values
        return Matrix._wrap([list(values[at + i * cols:at + (i + 1) * cols])
                             for i in range(count)])


def _first(pair):
    return pair[0]


def _layer_list(network):
    layers = getattr(network, "layers", None)
    return list(layers.values()) if isinstance(layers, dict) else list(layers or [])


def _stack_of_affines(network):
    """True for a network that is Affine layers and elementwise activations
    ending in SoftmaxWithLoss (a MultiLayerNet without batchnorm or dropout):
    its backward pass can be shared out by parameter rows (``_Trainee``)."""
    from purenn.layers import Affine, Relu, Sigmoid, Tanh, SoftmaxWithLoss
    layers = _layer_list(network)
    return (bool(layers) and isinstance(layers[0], Affine)
            and all(isinstance(layer, (Affine, Relu, Sigmoid, Tanh)) for layer in layers)
            and isinstance(getattr(network, "last_layer", None), SoftmaxWithLoss)
            and callable(getattr(network, "loss", None)))


def _dout_for(part, n):
    """The ``dout`` that makes SoftmaxWithLoss.backward on ``part`` rows divide
    by ``n`` (the whole batch's size), to the bit when floats allow (checked)."""
    # SoftmaxWithLoss.backward divides by batch_size / dout: it must be n exactly
    for dout in (part / n, part * (1 / n)):
        if part / dout == n:
            return dout, True
    return part / n, False


class _Trainee:
    """What every worker holds for training: the network, the rows, the labels,
    its optimiser, the shard plan; ``step`` is one training step, run by every
    worker at once.

    Two ways to get each worker the gradient of its shard of the parameters:

    - ``_shard_backprop`` (a stack of Affine layers and activations, as
      MultiLayerNet): each worker runs the forward pass and the backward
      ``dx`` chain on its rows of the batch, the workers swap the deltas
      ``d`` and the inputs ``x`` of every Affine layer, and each computes
      ``dW = x.T @ d`` and ``db`` for its own rows of W over the whole batch.
      Every number is computed as one worker computes it: the same bits.
    - ``_summed_gradients`` (any network with ``gradient`` and ``params``):
      each worker computes the whole gradient of its rows, and the shards of
      the workers' gradients are added up, weighted by their share of rows.
    """

    def __init__(self, network, data, labels, optimizer, plan):
        self.network, self.data, self.labels = network, data, labels
        self.optimizer, self.plan = optimizer, plan
        params = network.params
        self.keys = list(params)
        self.widths = dict((k, params[k].shape[1]) for k in self.keys)
        self.by_rows = _stack_of_affines(network)

    def batch(self, rows):
        if isinstance(self.data, Packed):
            return Matrix(self.data.rows(rows))
        return self.data[rows]

    def step(self, link, parts):
        """One step on the batch ``parts`` (a list of row indices per worker);
        returns the batch loss."""
        with no_cycle_collection():  # as network.gradient and optimizer.update do
            return self._step(link, parts)

    def _step(self, link, parts):
        rank = link.rank
        params = self.network.params
        if self.by_rows:
            grads, loss = self._shard_backprop(link, parts)
        else:
            grads, loss = self._summed_gradients(link, parts)
        # the optimiser on my shard, then every worker gets every new shard
        shard = dict((key, params[key][r0:r1]) for key, r0, r1 in self.plan[rank])
        self.optimizer.update(shard, grads)
        mine = _float_bytes(shard[key] for key, _, _ in self.plan[rank])
        got = link.exchange(dict((q, ("params", mine)) for q in link.conns))
        # my shards as they are; the others' from their floats
        blocks = dict((key, [(r0, shard[key])]) for key, r0, _ in self.plan[rank])
        for q, (_, raw) in got.items():
            reader = _FloatReader(raw)
            for key, r0, r1 in self.plan[q]:
                blocks.setdefault(key, []).append((r0, reader.matrix(r1 - r0,
                                                                     self.widths[key])))
        for key in self.keys:
            params[key] = Matrix.vstack([m for _, m in sorted(blocks[key], key=_first)])
        return loss

    def _shard_backprop(self, link, parts):
        from purenn.layers import Affine
        rank, size = link.rank, len(parts)
        net = self.network
        n = sum(len(p) for p in parts)
        mine = parts[rank]
        layers = _layer_list(net)
        affines = [layer for layer in layers if isinstance(layer, Affine)]
        loss, deltas, inputs = 0.0, [None] * len(affines), [None] * len(affines)
        if mine:
            # forward and the dx chain on my rows, the book's backward without dW
            net.loss(self.batch(mine), [self.labels[i] for i in mine], train_flg=True)
            loss = net.last_layer.loss
            dout = net.last_layer.backward(_dout_for(len(mine), n)[0])
            i = len(affines)
            for layer in reversed(layers):
                if isinstance(layer, Affine):
                    i -= 1
                    deltas[i], inputs[i] = dout, layer.x
                    if i == 0:
                        break
                    dout = dout @ layer.W.T            # dx = dout . W^T
                else:
                    dout = layer.backward(dout)
        # every worker's deltas and layer inputs (not the first layer's: the data)
        own = deltas + inputs[1:]
        mine_values = _float_bytes(own) if mine else None
        got = link.exchange(dict((q, ("rows", loss, mine_values)) for q in link.conns))
        shapes = [net.params[a.w_key].shape for a in affines]  # a.W: set by forward only
        widths = [m for _, m in shapes] + [d for d, _ in shapes[1:]]
        readers = dict((q, raw and _FloatReader(raw)) for q, (_, _, raw) in got.items())
        total = 0.0
        for s in range(size):
            if parts[s]:
                total += len(parts[s]) / n * (loss if s == rank else got[s][1])
        every = [i for s in range(size) if parts[s] for i in parts[s]]
        # every worker's rows in the order of the workers: mine as they are,
        # the others' from their floats
        full = []
        for j, w in enumerate(widths):
            full.append(Matrix.vstack([own[j] if s == rank else readers[s].matrix(len(parts[s]), w)
                                       for s in range(size) if parts[s]]))
        d_full = full[:len(affines)]
        x_full = [self.batch(every)] + full[len(affines):]
        # dW = x.T @ d and db for my rows only, over the whole batch
        lam = getattr(net, "weight_decay_lambda", 0.0)
        grads = {}
        for key, r0, r1 in self.plan[rank]:
            for i, a in enumerate(affines):
                if key == a.w_key:
                    g = x_full[i].T[r0:r1] @ d_full[i]
                    if lam:
                        g = g + lam * net.params[key][r0:r1]
                    grads[key] = g
                elif key == a.b_key:
                    grads[key] = d_full[i].sum(axis=0)
        return grads, total

    def _summed_gradients(self, link, parts):
        rank, size = link.rank, len(self.plan)
        net = self.network
        n = sum(len(p) for p in parts)
        mine = parts[rank]
        grads, loss = None, 0.0
        if mine:
            grads = net.gradient(self.batch(mine), [self.labels[i] for i in mine])
            loss = net.last_layer.loss
        # everyone's gradient for my shard, added up in the order of the workers
        got = link.exchange(dict((q, ("grad", loss, grads and _pack(grads, self.plan[q])))
                                 for q in link.conns))
        pieces = {}
        for q, (_, q_loss, raw) in got.items():
            pieces[q] = (q_loss, raw and _unpack(raw, self.plan[rank], self.widths))
        if grads is not None:
            pieces[rank] = (loss, dict((key, grads[key][r0:r1].tolist())
                                       for key, r0, r1 in self.plan[rank]))
        total = 0.0
        combined = {}
        for s in range(size):
            if not parts[s]:
                continue
            w = len(parts[s]) / n
            total += w * pieces[s][0]
            for key, rows in pieces[s][1].items():
                acc = combined.get(key)
                if acc is None:
                    combined[key] = [[w * v for v in row] for row in rows]
                else:
                    combined[key] = [[a + w * v for a, v in zip(arow, row)]
                                     for arow, row in zip(acc, rows)]
        return dict((key, Matrix(rows)) for key, rows in combined.items()), total


def _training_worker(link, trainee):
    """A child's loop: one step per ``("step", parts)`` until ``("stop",)``."""
    while True:
        message = link.recv(0)
        if message[0] == "step":
            trainee.step(link, message[1])
        elif message[0] == "state":
            link.send(0, ("state",) + _optimizer_state(trainee.optimizer,
                                                       trainee.plan[link.rank]))
        else:
            return


def _refuse_batch_dependent(network, op):
    config = getattr(network, "config", {}) or {}
    if config.get("use_batchnorm"):
        raise ValueError("%s: batch normalisation uses the mean and variance of the whole "
                         "batch, which no worker sees; train it with workers=1" % op)
    if config.get("use_dropout"):
        raise ValueError("%s: dropout draws its random masks in one process; train it "
                         "with workers=1" % op)


class DataParallel:
    """Training steps with every batch split over ``workers`` processes (the
    module docstring shows the four stages of a step).

    ``network`` is a ``MultiLayerNet`` (without batchnorm or dropout),
    ``optimizer`` one of purenn's optimisers, ``x`` the training rows (a
    Matrix) and ``t`` their labels (ints).  ``step(rows)`` trains on the batch
    ``x[rows]`` and returns its loss, as ``Trainer.train_step`` does; the
    network's ``params`` hold the new weights after each step.  ``close()``
    (or the end of a ``with`` block) stops the workers and puts the
    optimiser's whole state back into ``optimizer``, so training can go on
    with one worker.  ``workers=1`` starts nothing and is exactly
    ``network.gradient`` + ``optimizer.update``.

    >>> from purenn.multilayer import MultiLayerNet
    >>> from purenn.optimizers import SGD
    >>> x, t = Matrix([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]), [1, 0, 0]
    >>> net, ref = MultiLayerNet(2, [3], 2, seed=1), MultiLayerNet(2, [3], 2, seed=1)
    >>> with DataParallel(net, SGD(lr=0.1), x, t, workers=1) as dp:
    ...     loss = dp.step([0, 2])
    >>> SGD(lr=0.1).update(ref.params, ref.gradient(x[[0, 2]], [1, 0]))
    >>> net.params == ref.params
    True
    """

    def __init__(self, network, optimizer, x, t, workers=2, start_method=None, timeout=None):
        from purenn.optimizers import OPTIMIZERS
        op = "DataParallel"
        self.workers = resolve_workers(workers, op)
        self.x = as_matrix(x, "DataParallel: x")
        self.t = list(t)
        if len(self.t) != self.x.shape[0]:
            raise ValueError("DataParallel: %d rows but %d labels: they must be as many"
                             % (self.x.shape[0], len(self.t)))
        self.network, self.optimizer = network, optimizer
        self.group = None
        self.closed = False
        if self.workers == 1:
            return
        _refuse_batch_dependent(network, op)
        if type(optimizer) not in OPTIMIZERS.values():
            raise ValueError("DataParallel: the optimiser must be one of purenn's (%s), which "
                             "update element by element; %r may not, so it cannot be split "
                             "over workers" % (", ".join(sorted(c.__name__ for c in
                                                                OPTIMIZERS.values())),
                                               optimizer))
        _require_processes(self.workers, op)
        params = network.params
        self.keys = list(params)
        self.plan = _shard_plan([(k, params[k].shape) for k in self.keys], self.workers)
        copies = _scatter_optimizer(optimizer, self.plan, self.keys)
        fork = _context(start_method).get_start_method() == "fork"
        data = self.x if fork else Packed.from_matrix(self.x)
        self.trainee = _Trainee(network, self.x, self.t, copies[0], self.plan)

        def args_of(r):
            return (_Trainee(network, data, self.t, copies[r], self.plan),)

        self.group = _Group(self.workers, _training_worker, args_of, start_method, timeout,
                            op, mesh=True)

    @property
    def pids(self):
        """The process ids of the child workers (none with ``workers=1``)."""
        return [] if self.group is None else [p.pid for p in self.group.procs.values()]

    def step(self, rows):
        """Train on the batch ``x[rows]`` (a list of row indices): one step of
        the optimiser; returns the batch's mean loss."""
        rows = list(rows)
        if not rows:
            raise ValueError("DataParallel.step: an empty batch")
        if self.closed:
            raise WorkerError("DataParallel.step: closed (after close() or an error)")
        if self.group is None:
            with no_cycle_collection():  # as in each worker's step
                grads = self.network.gradient(self.x[rows], [self.t[i] for i in rows])
                self.optimizer.update(self.network.params, grads)
            return self.network.last_layer.loss
        parts = _split(rows, self.workers)
        try:
            for q in self.group.procs:
                self.group.link.send(q, ("step", parts))
            return self.trainee.step(self.group.link, parts)
        except _Remote as e:
            self._fail()
            _raise_remote(e)
        except BaseException as e:
            if not isinstance(e, WorkerError):
                self.group.link.tell_error(e)
            self._fail()
            raise

    def _fail(self):
        self.closed = True
        self.group.close(stop=False)

    def close(self):
        """Stop the workers; the optimiser you gave gets the whole state back."""
        if self.closed or self.group is None:
            self.closed = True
            return
        self.closed = True
        link = self.group.link
        try:
            states = {0: _optimizer_state(self.trainee.optimizer, self.plan[0])}
            for q in self.group.procs:
                link.send(q, ("state",))
                states[q] = link.recv(q)[1:]
        except (_Remote, WorkerError):
            self.group.close(stop=False)
            raise
        self.group.close()
        for name, value in states[0][1].items():
            setattr(self.optimizer, name, value)
        names = set(name for shards, _ in states.values() for name in shards)
        for name in sorted(names):
            as_matrices = any(shards[name][None] for shards, _ in states.values()
                              if name in shards)
            full = {}
            for key in self.keys:
                blocks = []
                for q, (shards, _) in states.items():
                    for k, r0, r1 in self.plan[q]:
                        if k == key:
                            blocks.append((r0, _unpacked_rows(shards[name][key])))
                rows = []
                for _, part in sorted(blocks, key=lambda b: b[0]):
                    rows += part
                full[key] = Matrix(rows) if as_matrices else rows
            setattr(self.optimizer, name, full)

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        if kind is None:
            self.close()
        elif not self.closed and self.group is not None:
            self._fail()
        return False
