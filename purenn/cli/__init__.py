"""``python -m purenn``: the chapters as a learner runs them.

Each sub-command is one part of the course; with no sub-command, ``tour``
runs the parts one after another.  One module a group of commands, each with
``add_commands(sub)`` that adds its sub-parsers:

========================  ===================================================
``purenn.cli.tour``       ``tour``: every chapter in order (the default)
``purenn.cli.chapters``   chapters 2-3: ``gates``, ``activations``,
                          ``network``, ``plot``, ``explain``
``purenn.cli.mnist``      chapter 3.6: ``mnist``, ``download-mnist``
``purenn.cli.learn``      chapters 4-6: ``gradients``, ``backprop``,
                          ``gradcheck``, ``optimizers``, ``train``
``purenn.cli.common``     what they share: the terminal's character set,
                          argument types
========================  ===================================================
"""
import argparse
import importlib
import sys

from purenn.cli.common import charset

# the command modules, in the order their commands are listed by --help
COMMAND_MODULES = ("tour", "chapters", "mnist", "learn", "convnet")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m purenn",
        description="purenn: neural networks from first principles in pure Python. "
                    "With no command, runs the whole tour.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module("purenn.cli." + name).add_commands(sub)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if charset() == "ascii" and hasattr(sys.stdout, "reconfigure"):
        # a terminal without Unicode: print '?' for a stray '·' rather than crash
        sys.stdout.reconfigure(errors="replace")
    if getattr(args, "func", None) is None:
        from purenn.cli.tour import cmd_tour
        args.func = cmd_tour
    try:
        status = args.func(args)
    except BrokenPipeError:  # e.g. python -m purenn | head
        return 0
    return status or 0
