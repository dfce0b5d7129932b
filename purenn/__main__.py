"""``python -m purenn``: see ``purenn.cli``."""
import sys

from purenn.cli import main

if __name__ == "__main__":
    sys.exit(main())
