"""What every command of ``python -m purenn`` shares.

==========================  ==================================================
``CommandError(msg, st)``   a command that cannot do its job: printed as one
                            line ``purenn <command>: <msg>``, exit status
                            ``st`` (``USAGE`` 2 or ``FAILED`` 1)
``usage_error(msg)``        a ``CommandError`` with status 2: the command
                            line asks for something that cannot be
``run(args)``               run the parsed command -> its exit status; every
                            failure becomes its one line here
``say(command, message)``   print ``purenn <command>: <message>`` on stderr,
                            control characters escaped, length capped
``shown(path)``             a file name safe to print (escaped if need be)
``charset()``               'unicode' or 'ascii': what the terminal can show
``number``, ``finite``,     argparse types: a float; a finite float; a
``positive``,               finite float > 0, >= 0; a share in [0, 1); an
``non_negative``, ``ratio`` int in a range
``integer(least, most)``    (``--batch-size``, ...); ``worker_count``: an int >= 1
                            or ``auto``
==========================  ==================================================

The exit statuses: 0 done, 1 the job failed (a file that cannot be read or
written, a check that did not pass), 2 bad usage (argparse's own status for
an unknown option), 130 interrupted (Ctrl-C; 128 + SIGINT, as shells report
it).
"""
import argparse
import math
import sys

DONE, FAILED, USAGE, INTERRUPTED = 0, 1, 2, 130

MAX_MESSAGE = 2000
"""Characters of an error message shown at most: a message that quotes a
file must not flood the terminal."""


class CommandError(Exception):
    """A command that cannot do its job.  ``purenn.cli.main`` prints
    ``purenn <command>: <message>`` on stderr and exits with ``status``:
    ``USAGE`` (2) when the command line asks for something that cannot be,
    ``FAILED`` (1) when the job itself failed."""

    def __init__(self, message, status=FAILED):
        Exception.__init__(self, message)
        self.message, self.status = message, status


def usage_error(message):
    """A ``CommandError`` for a command line that asks the impossible (status 2)."""
    return CommandError(message, USAGE)


def command_name(args):
    """The name a message starts with: ``explain``, ``train``, ... (``tour`` when none)."""
    return getattr(args, "command", None) or "tour"


def run(args):
    """Run the command ``args.func(args)`` and return its exit status.

    A ``CommandError`` is printed as its one line with its status; a library
    error (``ValueError``, which includes purenn's ``ShapeError`` and
    ``DataError``, or ``OSError``: a file that cannot be read or written)
    as one line with status 1.  Commands raise ``CommandError`` where they
    can say more (which option, which file); this is the one place where
    whatever a command lets through becomes a message.  A broken pipe and
    Ctrl-C go on to ``purenn.cli.main``; other exceptions (bugs) keep their
    traceback, so that they are seen and fixed.
    """
    name = command_name(args)
    try:
        return args.func(args) or DONE
    except CommandError as e:
        say(name, e.message)
        return e.status
    except BrokenPipeError:
        raise
    except (ValueError, OSError) as e:
        say(name, describe(e))
        return FAILED


def describe(error):
    """An exception as the words of a message: ``FILE: No such file or
    directory`` for an ``OSError`` with a file name, else its own text."""
    if isinstance(error, OSError) and error.filename is not None and error.strerror:
        return "%s: %s" % (shown(error.filename), error.strerror)
    return str(error) or type(error).__name__


def clean(text, limit=MAX_MESSAGE):
    """``text`` safe to print: control characters other than the newline
    written as escapes (a file name must not move the cursor or recolour the
    terminal), at most ``limit`` characters.

    >>> clean("bad\\x1b[31mname")
    'bad\\\\x1b[31mname'
    >>> clean("x" * 30, limit=10)
    'xxxxxxxxxx... (20 more characters)'
    """
    out = []
    for c in text[:limit]:
        o = ord(c)
        out.append(c if c == "\n" or 32 <= o < 127 or o > 159 else "\\x%02x" % o)
    more = len(text) - limit
    return "".join(out) + ("... (%d more characters)" % more if more > 0 else "")


def shown(path):
    """A file name as the commands print it (``wrote FILE``): the name
    itself, or escaped when it holds a new line, a terminal's escape
    sequence or bytes that are not UTF-8 (``purenn.files.shown``).

    >>> shown("curves.svg"), shown("a\\x1b[31m.svg")
    ('curves.svg', "'a\\\\x1b[31m.svg'")
    """
    from purenn.files import shown as shown_name
    return shown_name(path)


def say(command, message):
    """Print ``purenn <command>: <message>`` on stderr."""
    sys.stderr.write("purenn %s: %s\n" % (command, clean(str(message))))
    sys.stderr.flush()


def charset():
    """'unicode' when stdout can print braille, box drawing and shades, else 'ascii'."""
    try:
        "⣿│┤└─•◆▏█░▒▓".encode(sys.stdout.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return "ascii"
    return "unicode"


# ----------------------------------------------------------- argument types

def number(text):
    """An argparse type: a float, or a usage error that quotes the text."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not a number: %r" % text)


def finite(text):
    """An argparse type: a finite float (no NaN, no infinity)."""
    v = number(text)
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError("need a finite number, got %r" % text)
    return v


def positive(text):
    """An argparse type: a finite float > 0."""
    v = finite(text)
    if not v > 0:
        raise argparse.ArgumentTypeError("need a number > 0, got %r" % text)
    return v


def non_negative(text):
    """An argparse type: a finite float >= 0."""
    v = finite(text)
    if not v >= 0:
        raise argparse.ArgumentTypeError("need a number >= 0, got %r" % text)
    return v


def ratio(text):
    """An argparse type: a share from 0 up to, not including, 1 (a dropout ratio)."""
    v = finite(text)
    if not 0 <= v < 1:
        raise argparse.ArgumentTypeError("need 0 <= ratio < 1, got %r" % text)
    return v


def integer(least, most=None):
    """An argparse type: an int from ``least`` to ``most`` (no upper end if None).

    >>> integer(1)("3"), integer(0, 9).__name__
    (3, 'integer from 0 to 9')
    """
    def parse(text):
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError("not a whole number: %r" % text)
        if v < least or (most is not None and v > most):
            raise argparse.ArgumentTypeError(
                "need %s, got %d" % ("at least %d" % least if most is None
                                     else "%d to %d" % (least, most), v))
        return v
    parse.__name__ = ("integer from %d to %d" % (least, most) if most is not None
                      else "integer >= %d" % least)
    return parse


def worker_count(text):
    """An argparse type for ``--workers``: an int >= 1, or ``auto`` (one per core).

    >>> worker_count("2"), worker_count("auto") >= 1
    (2, True)
    """
    from purenn.parallel import resolve_workers
    try:
        return resolve_workers("auto" if text == "auto" else int(text))
    except ValueError:
        raise argparse.ArgumentTypeError("need a whole number >= 1 or auto, got %r" % text)
