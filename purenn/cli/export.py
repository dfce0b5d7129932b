"""Chapter 8.3.4 on the command line: ``precision`` (the test accuracy of the
shipped networks at float64, float32, float16 and int8) and ``export`` (a
folder that a MicroPython board runs as it is).

``purenn.cli`` adds these sub-commands with ``add_commands``.
"""
import os
import sys

from purenn import board, precision
from purenn.cli.common import CommandError, describe, integer, usage_error

DTYPES = ("int8", "float16", "float32")


def cmd_precision(args):
    """The precision table: accuracy, and predictions that differ from float64's."""
    keys = [k.strip() for k in args.networks.split(",")] if args.networks else None
    known = [e.key for e in precision.NETWORKS]
    unknown = [k for k in keys or [] if k not in known]
    if unknown:
        raise usage_error("unknown network %s; known: %s" % (", ".join(unknown),
                                                             ", ".join(known)))

    def progress(row, p):
        if not args.quiet:
            sys.stderr.write("  %s at %s: %.4f\n" % (row.entry.key, p, row.accuracy[p]))
    try:
        rows = precision.precision_table(keys, precision.PRECISIONS, args.limit, progress)
    except (OSError, ValueError) as e:  # a data file missing or corrupt (DataError)
        raise CommandError(describe(e))
    print(precision_text(rows))


def precision_text(rows):
    """The precision table as text: a line per network, in each cell the test
    accuracy and (in brackets) the test samples predicted differently from
    float64; then the sizes of the compact files."""
    names = precision.PRECISIONS
    width = max(len(r.entry.name) for r in rows)
    head = "%-*s  %7s" % (width, "network", "samples") + "".join("%15s" % n for n in names)
    lines = ["Test accuracy at each precision (in brackets: test samples whose predicted",
             "class differs from float64's). Weights as a compact file stores them, biases",
             "and scales float32; int8: one scale per output neuron, int8-layer: one per layer.",
             "", head, "-" * len(head)]
    for r in rows:
        cells = "".join("%15s" % ("%.2f %%" % (100 * r.accuracy[n]) if n == "float64" else
                                  "%.2f %% (%d)" % (100 * r.accuracy[n], r.changed[n]))
                        for n in names)
        lines.append("%-*s  %7d" % (width, r.entry.name, r.count) + cells)
    lines += ["", "compact file, bytes", "-" * len(head)]
    for r in rows:
        lines.append("%-*s  %7s" % (width, r.entry.name, "") + "".join(
            "%15s" % ("-" if r.size[n] is None else "{:,}".format(r.size[n])) for n in names))
    return "\n".join(lines)


def cmd_export(args):
    """Write a folder that a MicroPython board runs: network, samples, code."""
    from purenn.recognize import load_network
    path = args.weights or precision.shipped_path(precision.OPTDIGITS_NETWORK)
    try:
        net, description = load_network(path)
        inputs = net.input_size
        samples = board.samples_for(inputs, args.samples or board.DEFAULT_SAMPLES.get(inputs))
        model = precision.DenseModel.from_network(net, samples.input_scale)
    except (OSError, ValueError, KeyError) as e:  # DataError is a ValueError
        raise CommandError("cannot export %s: %s" % (path, describe(e)))
    command = "python -m purenn export --dtype %s%s%s %s" % (
        args.dtype, " --weights %s" % args.weights if args.weights else "",
        " --samples %d" % args.samples if args.samples is not None else "", args.out_dir)
    # the board runs batch normalization folded into the affine weights
    description = description.replace("batchnorm", "batchnorm folded into W and b")
    try:
        lines = board.export(args.out_dir, model, args.dtype, samples,
                             "%s, %s" % (os.path.basename(path), description), command)
    except (OSError, ValueError) as e:
        raise CommandError(describe(e))
    print("\n".join(lines[2:-1]))
    print("wrote %s: %s" % (args.out_dir, ", ".join(board.FILES)))
    print("on a board:  cd %s && %s" % (args.out_dir, board.MPREMOTE))
    print("here:        cd %s && micropython -X heapsize=100K main.py   (or python main.py)"
          % args.out_dir)


def add_commands(sub):
    """The ``precision`` and ``export`` sub-commands."""
    p = sub.add_parser("precision", help="chapter 8.3.4: test accuracy of the shipped "
                                         "networks at float64, float32, float16 and int8")
    p.add_argument("--networks", metavar="KEY,...",
                   help="some of: %s (default: all)" % ", ".join(e.key for e in
                                                                  precision.NETWORKS))
    p.add_argument("--limit", type=integer(1), metavar="N", help="only the first N test samples")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=cmd_precision)
    p = sub.add_parser("export", help="a folder that a MicroPython board runs: the network "
                                      "as a compact file, test samples, main.py")
    p.add_argument("--dtype", choices=DTYPES, default="int8",
                   help="how the weights are stored (int8: one scale per output neuron)")
    p.add_argument("--weights", metavar="FILE",
                   help="a purenn weights file or the book's sample_weight.pkl (default: the "
                        "shipped optdigits network, %s)" % precision.OPTDIGITS_NETWORK)
    p.add_argument("--samples", type=integer(1), metavar="N",
                   help="test samples to pack (default: all 1,797 for optdigits, the first "
                        "%d for MNIST)" % board.DEFAULT_SAMPLES[784])
    p.add_argument("out_dir", metavar="OUT_DIR", help="the folder to write (made if missing)")
    p.set_defaults(func=cmd_export)
