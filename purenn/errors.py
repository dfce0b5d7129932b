"""purenn's one error family.

``ShapeError`` is raised whenever the shapes of the operands of an operation
do not fit together.  It is a ``ValueError``, so ``except ValueError`` catches
it too.  Its message names the operation, shows both shapes and says what must
match, for example::

    matmul: (1, 2) @ (3, 2): columns of the left (2) must equal rows of the right (3)
"""


class ShapeError(ValueError):
    """The shapes of the operands do not fit the operation."""


class DataError(ValueError):
    """A file's content is not what it must be: truncated, corrupt, or of the
    wrong kind (a data set, a weights file).  The message names the file and
    the problem."""


class WorkerError(RuntimeError):
    """A worker process of ``purenn.parallel`` died, could not start, or cannot
    exist on this Python (Pyodide, MicroPython).  The message names the
    worker and what happened to it."""
