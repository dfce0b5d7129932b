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
``purenn.cli.common``     what they share: the one error convention, the
                          terminal's character set, argument types
========================  ===================================================

A new command lives in a module of its own with ``add_commands(sub)``,
registered by adding the module's name to ``COMMAND_MODULES``.

Every failure is one line on stderr, ``purenn <command>: <message>``, and
an exit status: 2 for bad usage (argparse prints the usage line first), 1
for a job that failed, 130 for Ctrl-C.  A broken pipe
(``python -m purenn | head``) ends quietly.
"""
import argparse
import importlib
import os
import sys

from purenn.cli.common import INTERRUPTED, charset, command_name, run, say

# the command modules, in the order their commands are listed by --help
COMMAND_MODULES = ("tour", "chapters", "mnist", "learn", "export", "convnet")


class _Parser(argparse.ArgumentParser):
    """argparse with purenn's error line: the usage, then
    ``purenn <command>: <message>`` and exit status 2."""

    def error(self, message):
        self.print_usage(sys.stderr)
        words = self.prog.split()
        if words[:3] == ["python", "-m", "purenn"]:  # the name, not how it was started
            words = words[2:]
        self.exit(2, "%s: %s\n" % (" ".join(words), message))


def build_parser(prog="purenn"):
    """The parser of every command; ``prog`` is how the user started it
    (``purenn`` for the console script, ``python -m purenn``).  Its
    ``commands`` is a dict: command name -> that command's parser."""
    from purenn import __version__
    parser = _Parser(
        prog=prog,
        description="purenn: neural networks from first principles in pure Python. "
                    "With no command, runs the whole tour.")
    parser.add_argument("--version", action="version", version="purenn " + __version__)
    parser.set_defaults(func=None, prog=prog)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module("purenn.cli." + name).add_commands(sub)
    parser.commands = sub.choices
    return parser


def main(argv=None, prog="purenn"):
    """Run one command line (``sys.argv[1:]`` when ``argv`` is None) and
    return its exit status; it never raises ``SystemExit``, so a test or a
    notebook can call it: ``main(["gates"])``.

    Run as the program (``argv`` None), a closed stdout or stderr (``>&-``)
    is the null device, and after the first Ctrl-C further ones are ignored:
    a second Ctrl-C while purenn cleans up and says "interrupted", or while
    Python shuts down, must not print a traceback either."""
    command = "tour"
    if argv is None:
        _open_closed_streams()
        _interrupt_once()
    try:
        parser = build_parser(prog)
        try:
            args = parser.parse_args(argv)
        except SystemExit as e:  # --help and --version (0), a usage error (2): printed
            return e.code
        if args.func is None:
            args = parser.parse_args(["tour"])
        command = command_name(args)
        if charset() == "ascii" and hasattr(sys.stdout, "reconfigure"):
            # a terminal without Unicode: print '?' for a stray '·' rather than crash
            sys.stdout.reconfigure(errors="replace")
        return run(args)
    except KeyboardInterrupt:
        sys.stderr.write("\n")  # the progress bar's line (or the terminal's ^C) stays apart
        say(command, "interrupted")
        return INTERRUPTED
    except BrokenPipeError:  # e.g. python -m purenn | head: the reader has what it wanted
        _silence_stdout()
        return 0


def _open_closed_streams():
    """Python sets ``sys.stdout`` (``sys.stderr``) to None when the program
    starts with that descriptor closed; every ``print`` would then be an
    ``AttributeError``.  What nobody can read goes to the null device."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w"))


def _interrupt_once():
    """Ctrl-C raises ``KeyboardInterrupt`` once; from then on SIGINT is
    ignored, so the one-line message and the exit status 130 are what the
    user gets however often the key is pressed."""
    import signal

    def interrupted(signum, frame):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise KeyboardInterrupt

    try:
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, interrupted)
    except (ValueError, AttributeError, OSError):  # not the main thread; no signals here
        pass


def _silence_stdout():
    """Point stdout at the null device, so that Python's final flush of
    the output nobody reads cannot complain about the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file behind stdout (a test)
        pass
