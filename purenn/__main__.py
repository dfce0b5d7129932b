"""``python -m purenn``: see ``purenn.cli``."""
import sys

try:
    from purenn.cli import main
except KeyboardInterrupt:  # Ctrl-C while Python is still importing: no traceback either
    sys.exit(130)

if __name__ == "__main__":
    sys.exit(main(prog="python -m purenn"))
