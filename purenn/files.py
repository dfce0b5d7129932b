"""Files, read and written safely: the one place where purenn opens a file.

=================================  ==========================================
``write_atomic(path, data)``       write bytes to a temporary file in the
                                   same folder, then move it into place: the
                                   old file stays whole until the new one is
``read_limited(path, limit, what)``  the bytes of a regular file of at most
                                   ``limit`` bytes, or a ``DataError``
=================================  ==========================================

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
>>> write_atomic(path, b"first")
>>> write_atomic(path, b"second")
>>> read_limited(path, 100, "notes")
b'second'
"""
import os
import stat
import tempfile

from purenn.errors import DataError


def write_atomic(path, data):
    """Write ``data`` (bytes) to ``path`` so that ``path`` is always either the
    old file or the whole new one, never a half-written mix.

    The bytes go to a temporary file of a name of its own in the same folder
    (two writers never share one), are flushed to disk, and the temporary
    file is then renamed over ``path`` (``os.replace``, atomic on POSIX and
    Windows).  On any error the temporary file is removed and the error
    (an ``OSError``) propagates; ``path`` is untouched.
    """
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".part",
                               dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:  # KeyboardInterrupt too: never leave the .part behind
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise


def read_limited(path, limit, what="file"):
    """The bytes of the regular file ``path``, which must hold at most ``limit`` bytes.

    A device, a FIFO or a folder (or a link to one) is refused before it is
    read (``/dev/zero`` would never end, a FIFO would block), and so is a file
    larger than ``limit``: both are a ``DataError`` that names ``what`` and the
    file.  A missing file is the usual ``OSError``.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)  # O_NONBLOCK: opening a FIFO must not wait for a writer
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise DataError("%s: not a regular file; a %s must be a file on disk" % (path, what))
        if info.st_size > limit:
            raise DataError("%s: %d bytes, more than the %d a %s may have"
                            % (path, info.st_size, limit, what))
        chunks, size = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:  # it grew while we read it
                raise DataError("%s: more than the %d bytes a %s may have" % (path, limit, what))
        return b"".join(chunks)
    finally:
        os.close(fd)
