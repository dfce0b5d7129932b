"""Chapter 3.6 on the command line: ``mnist`` (batch inference over the MNIST
test set) and ``download-mnist`` (the training set, on request)."""
import os
import platform
import sys
import time

from purenn import kernels
from purenn.cli.common import (CommandError, charset, describe, integer, shown, usage_error,
                               worker_count)
from purenn.errors import WorkerError
from purenn.files import check_regular
from purenn.datasets import load_mnist, mnist_cache_dir
from purenn.pickles import BOOK_WEIGHTS_HELP
from purenn.progress import Progress
from purenn.plot import plot_digit
from purenn.labels import predict_labels
from purenn.recognize import WEIGHTS_ENV, find_weights, load_network


def cmd_mnist(args):
    """Chapter 3.6: batch inference over the 10,000 MNIST test images."""
    return main_mnist(args.weights, args.batch_size, args.limit, args.show,
                      workers=args.workers)


def cmd_download_mnist(args):
    """Download and verify the MNIST training set."""
    from purenn.download import DownloadError, download_mnist
    mirrors = None if args.mirror is None else [args.mirror]
    if args.dir == "":  # (not a silent fallback to the cache folder)
        raise usage_error("--dir '': give a folder (without --dir: %s)" % mnist_cache_dir())
    try:
        paths = download_mnist(args.kind, args.dir, mirrors,
                               out=None if args.quiet else sys.stderr)
    except (DownloadError, OSError, ValueError) as e:
        raise CommandError(describe(e))
    for p in paths:
        print("verified %s" % shown(p))


def _side_by_side(blocks, gap="   "):
    """Blocks of lines (each block's lines of one width) next to each other."""
    return [gap.join(parts).rstrip() for parts in zip(*blocks)]


def main_mnist(weights=None, batch_size=100, limit=None, show=3, workers=1):
    """``python -m purenn mnist``: the report on stdout, the progress bar on
    stderr; a ``CommandError`` when there are no weights or they do not fit."""
    out = sys.stdout
    if weights == "":
        raise usage_error("--weights '': give the name of a weights file (without --weights, "
                          "purenn finds one itself)")
    path = weights or find_weights()
    if path is None:
        raise CommandError("no trained weights.\n%s\n(or set %s=FILE, or put the file at "
                           "~/.cache/purenn/sample_weight.pkl; purenn's own weight files work "
                           "too)" % (BOOK_WEIGHTS_HELP, WEIGHTS_ENV))
    try:
        # (load_network opens the file itself: a FIFO would block it forever)
        check_regular(path, "weights file")
        network, description = load_network(path)
    except (OSError, ValueError, KeyError) as e:  # DataError is a ValueError
        raise CommandError("cannot use %s as weights: %s" % (shown(path), describe(e)))
    if network.input_size != 784:
        raise CommandError("the network in %s takes %d inputs; MNIST images have 784"
                           % (shown(path), network.input_size))
    try:
        x, t = load_mnist(kind="test")
    except (OSError, ValueError) as e:  # DataError is a ValueError
        raise CommandError("cannot read the MNIST test set: %s" % describe(e))
    if limit:
        x, t = x[:limit], t[:limit]
    n = x.shape[0]
    out.write("MNIST test set: %d images; network %s from %s\n"
              % (n, description, shown(os.path.basename(path))))
    out.flush()
    bar = Progress(n, "images", out=sys.stderr)
    started = time.perf_counter()
    if workers == 1:
        predicted = predict_labels(network, x, batch_size, bar)
    else:  # the batches shared out among processes: the same predictions, sooner
        from purenn import parallel
        try:
            predicted = parallel.predict_batches(network, x, batch_size, workers=workers,
                                                 progress=bar)
        except WorkerError as e:  # a worker died, or this Python has no processes
            bar.done()
            raise CommandError(str(e))
    seconds = time.perf_counter() - started
    bar.done()
    correct = sum(1 for p, label in zip(predicted, t) if p == label)
    out.write("Accuracy: %.4f (%d of %d correct, batch size %d)\n"
              % (correct / float(n), correct, n, batch_size))
    out.write("Speed: %.0f images/s (%.2f s; %s %s, kernel %r%s)\n"
              % (n / seconds, seconds, platform.python_implementation(),
                 platform.python_version(), kernels.KERNEL,
                 ", %d workers" % workers if workers > 1 else ""))
    wrong = [i for i in range(n) if predicted[i] != t[i]][:show]
    if wrong:
        out.write("\nThe first misclassified digits:\n")
        width = 28
        titles = [("#%d: is %d, seen %s" % (i, t[i], "nothing" if predicted[i] is None
                                            else predicted[i])).ljust(width) for i in wrong]
        drawings = [plot_digit(x[i], vmax=1.0).text_lines(charset(), compact=True)
                    for i in wrong]
        out.write("\n".join(_side_by_side([[s] for s in titles])) + "\n")
        out.write("\n".join(_side_by_side(drawings)) + "\n")


def _mirror(text):
    """An argparse type: an http:// or https:// URL with a host (and a valid
    port).  An empty one is refused: it must not fall back to the built-in
    internet mirrors without a word."""
    import argparse
    from urllib.parse import urlsplit
    parts = urlsplit(text)
    try:
        parts.port  # a ValueError for a port that is no number, or out of range
    except ValueError:
        raise argparse.ArgumentTypeError("%r: the port must be a number from 0 to 65535" % text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError("need an http:// or https:// URL such as "
                                         "https://example.org/mnist/, got %r" % text)
    return text


def add_commands(sub):
    """The ``mnist`` and ``download-mnist`` sub-commands."""
    p = sub.add_parser("mnist", help="chapter 3.6: batch inference over the 10,000 MNIST test "
                                     "images with trained weights")
    p.add_argument("--weights", metavar="FILE",
                   help="the book's sample_weight.pkl or a purenn weights file "
                        "(default: $PURENN_WEIGHTS, then ~/.cache/purenn/sample_weight.pkl, "
                        "then the network purenn trained itself and ships)")
    p.add_argument("--batch-size", type=integer(1), default=100, metavar="N",
                   help="images per batch (100)")
    p.add_argument("--limit", type=integer(1), metavar="N", help="only the first N test images")
    p.add_argument("--workers", type=worker_count, default=1, metavar="N",
                   help="processes to share the batches out among (1; auto: one per core)")
    p.add_argument("--show", type=integer(0), default=3, metavar="N",
                   help="misclassified digits to draw, 0 for none (3)")
    p.set_defaults(func=cmd_mnist)
    p = sub.add_parser("download-mnist", help="download the MNIST training set (60,000 images) "
                                              "and verify its sha256")
    p.add_argument("--dir", metavar="DIR",
                   help="where to put it (default: ~/.cache/purenn/mnist, where load_mnist "
                        "looks)")
    p.add_argument("--kind", choices=["train", "test"], default="train",
                   help="which part (the test set ships with purenn already)")
    p.add_argument("--mirror", metavar="URL", type=_mirror,
                   help="base URL of an MNIST mirror to use instead of the built-in ones "
                        "(http:// or https://)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_download_mnist)
