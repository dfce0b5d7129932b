"""What every command of ``python -m purenn`` shares: the terminal's character
set and the argument types."""
import argparse
import sys


def charset():
    """'unicode' when stdout can print braille and box drawing, else 'ascii'."""
    try:
        "⣿│┤└─•▏█".encode(sys.stdout.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return "ascii"
    return "unicode"


def number(text):
    """An argparse type: a float, or a usage error that quotes the text."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not a number: %r" % text)
