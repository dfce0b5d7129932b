"""Files, read and written safely: the one place where purenn opens a file.

======================================  =====================================
``write_atomic(path, data)``            write bytes to a temporary file in the
                                        same folder, then move it into place:
                                        the old file stays whole until the
                                        new one is
``read_limited(path, limit, what)``     the bytes of a regular file of at most
                                        ``limit`` bytes, or a ``DataError``
``check_regular(path, what)``           the same refusal of folders, devices
                                        and FIFOs, for a reader of its own
``is_gzip(data)``                       does ``data`` start with gzip's magic?
``gunzip(data, limit, what)``           gzip'd bytes decompressed, at most
                                        ``limit`` of them (never a bomb)
``read_data(path, limit, what)``        ``read_limited``, then ``gunzip`` when
                                        the content is gzip'd
``open_data(path, limit, what)``        the same as a stream: ``read(n)``
                                        decompresses only what it is asked
``read_numbers(path, what, limit)``     a text file of numbers (a pixel file)
``cache_dir()``                         purenn's cache folder,
                                        ``~/.cache/purenn``
``quote(obj, limit)``                   ``repr`` cut at ``limit`` characters:
                                        content from a file, safe to print
``shown(path)``                         a file's name as messages show it:
                                        itself, or escaped when it holds a
                                        new line, an escape sequence, ...
======================================  =====================================

Why so careful: the files purenn reads come from anywhere.  A file can be
``/dev/zero`` (it never ends), a FIFO (``open`` waits for a writer), six
megabytes of gzip that expand to gigabytes, or a name holding a terminal's
escape sequences.  Every reader here refuses what is not a regular file,
stops at a stated size before it has read (or decompressed) more, and turns
every broken byte into one ``DataError`` naming the file; every message that
shows content from a file shows it through ``quote``.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
>>> write_atomic(path, b"first")
>>> write_atomic(path, b"second")
>>> read_limited(path, 100, "notes")
b'second'
>>> import gzip
>>> gunzip(gzip.compress(b"abc" * 10), 30, "example")
b'abcabcabcabcabcabcabcabcabcabc'
>>> gunzip(gzip.compress(b"abc" * 10), 29, "example")
Traceback (most recent call last):
    ...
purenn.errors.DataError: example: more than 29 bytes once decompressed (the limit for a example)
>>> print(quote("a name\\x1b[2J\\n" + "x" * 100, 20))
'a name\\x1b[2J\\nxxxx... (111 characters)
"""
import binascii
import errno
import os
import stat
import zlib

from purenn.errors import DataError

GZIP_MAGIC = b"\x1f\x8b"


# ---------------------------------------------------------------- writing

def write_atomic(path, data):
    """Write ``data`` (bytes) to ``path`` so that ``path`` is always either the
    old file or the whole new one, never a half-written mix.

    The bytes go to a temporary file of a name of its own in the same folder
    (two writers never share one), are flushed to disk, and the temporary
    file is then renamed over ``path`` (``os.replace``, atomic on POSIX and
    Windows).  The new file has the old one's permissions, or for a new file
    the usual ones (``0o666`` less the umask, as ``open`` would give).  On
    any error the temporary file is removed and the error (an ``OSError``)
    propagates; ``path`` is untouched.  (A process killed outright,
    ``kill -9``, can leave its ``.<name>.*.part`` file behind, never a broken
    ``path``.)

    A link is followed: the file it points to is replaced and the link stays
    (as ``open(path, "w")`` would write through it).  A ``path`` that exists
    but is no regular file (a folder, a device such as ``/dev/full``, a FIFO)
    is refused with an ``OSError`` before anything is written: renaming over
    it would replace the device itself (run as root, ``/dev/null`` would
    become a file).
    """
    target = os.path.realpath(path) if path else path  # ("" is no file: refused below)
    try:
        info = os.stat(target)
    except (OSError, ValueError):
        info = None  # a new file: os.open applies the umask to 0o666
    if info is not None and not stat.S_ISREG(info.st_mode):
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
        raise OSError(errno.EINVAL, "not a regular file (a device, a FIFO or a socket); "
                      "purenn writes regular files only", path)
    if not target:
        raise FileNotFoundError(errno.ENOENT, "an empty file name", path)
    mode = stat.S_IMODE(info.st_mode) if info is not None else None
    folder = os.path.dirname(os.path.abspath(target))
    fd, tmp = _create_temporary(folder, os.path.basename(target))
    try:
        if mode is not None and hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:  # KeyboardInterrupt too: never leave the .part behind
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise


def _create_temporary(folder, name):
    """A new file ``folder/.name.<random>.part``, created exclusively (so no
    two writers share one): ``-> (fd, path)``.  Unlike ``tempfile.mkstemp``
    (always 0o600) it gets the permissions a new file gets from ``open``."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = os.path.join(folder, ".%s.%s.part" % (name, binascii.hexlify(os.urandom(6))
                                                    .decode("ascii")))
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError("write_atomic: no free temporary name beside %s"
                          % os.path.join(folder, name))


# ---------------------------------------------------------------- reading

def read_limited(path, limit, what="file"):
    """The bytes of the regular file ``path``, which must hold at most ``limit`` bytes.

    A device, a FIFO or a folder (or a link to one) is refused before it is
    read (``/dev/zero`` would never end, a FIFO would block), and so is a file
    larger than ``limit``: both are a ``DataError`` that names ``what`` and the
    file.  A missing file is the usual ``OSError``.
    """
    fd, info = _open_regular(path, what)
    try:
        if info.st_size > limit:
            raise DataError("%s: %d bytes, more than the %d a %s may have"
                            % (shown(path), info.st_size, limit, what))
        chunks, size = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:  # it grew while we read it
                raise DataError("%s: more than the %d bytes a %s may have"
                                % (shown(path), limit, what))
        return b"".join(chunks)
    finally:
        os.close(fd)


def check_regular(path, what="file"):
    """Refuse, before anything reads it, a ``path`` that is no regular file
    (a folder, a device, a FIFO, or a link to one), with the ``DataError`` of
    ``read_limited``: for a reader that opens the file itself.  Nothing is
    read, nothing waits (a FIFO is opened without waiting for a writer)."""
    fd, _ = _open_regular(path, what)
    os.close(fd)


def _open_regular(path, what):
    """``path`` opened for reading and its ``fstat``, or a ``DataError`` when
    it is no regular file (then nothing stays open)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)  # O_NONBLOCK: opening a FIFO must not wait for a writer
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise DataError("%s: not a regular file; a %s must be a file on disk"
                            % (shown(path), what))
    except BaseException:
        os.close(fd)
        raise
    return fd, info


def is_gzip(data):
    """True when ``data`` starts with gzip's two magic bytes ``1f 8b``: the
    one test purenn uses to tell gzip'd content (whatever a file's name says).

    >>> is_gzip(b"\\x1f\\x8b\\x08..."), is_gzip(b"{...}")
    (True, False)
    """
    return data[:2] == GZIP_MAGIC


class _Raw:
    """``read(n)`` over bytes that are not compressed."""

    def __init__(self, data):
        self._data, self._pos = data, 0

    def read(self, n):
        piece = self._data[self._pos:self._pos + n]
        self._pos += len(piece)
        return piece


_STEP = 1 << 20


class _Gunzip:
    """``read(n)`` over gzip'd bytes: decompresses just enough for ``n`` bytes,
    so a gzip bomb costs what the caller asked for, never what it expands to.

    Several gzip members one after the other are one stream (as ``gzip``
    reads them); anything else after the last member, a stream that stops
    early, a bad checksum or a broken deflate block is a ``DataError``."""

    def __init__(self, data, name):
        self._name = name
        self._pending = data              # compressed bytes not yet given to zlib
        self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)  # 16+: a gzip header

    def _broken(self, why):
        return DataError("%s: broken gzip data (%s); the file is truncated or corrupt"
                         % (self._name, why))

    def read(self, n):
        # at most _STEP bytes a zlib call: a bomb stopped at the limit costs
        # the limit, not twice it (zlib's own output buffer, then the copy)
        pieces, have = [], 0
        while have < n:
            if self._inflate.eof:
                rest = self._inflate.unused_data
                if not rest:
                    break                 # the end of the last member: the end of the data
                if not is_gzip(rest):
                    raise self._broken("%d bytes after the end of the gzip stream" % len(rest))
                self._pending = rest
                self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
            try:
                piece = self._inflate.decompress(self._pending, min(n - have, _STEP))
            except zlib.error as e:
                raise self._broken(e)
            self._pending = self._inflate.unconsumed_tail
            if not piece and not self._pending and not self._inflate.eof:
                raise self._broken("the stream stops early")
            pieces.append(piece)
            have += len(piece)
        return b"".join(pieces)


def open_data(data_or_path, limit, what="file"):
    """A stream over a file's content (or over ``bytes``), gunzipped when it
    is gzip'd: ``stream.read(n)`` gives the next ``n`` bytes (fewer at the
    end), decompressing only those.  A reader that knows how much it needs
    (an IDX header says how many bytes follow) asks for that and no more.

    ``limit`` bounds the file (the compressed bytes); what is decompressed
    is bounded by what the caller reads.

    >>> import gzip
    >>> stream = open_data(gzip.compress(bytes(10 ** 6)), 100, "example")
    >>> len(stream.read(4)), len(stream.read(10))
    (4, 10)
    """
    if isinstance(data_or_path, (bytes, bytearray)):
        data, name = bytes(data_or_path), what
    else:
        data, name = read_limited(data_or_path, limit, what), shown(data_or_path)
    return _Gunzip(data, name) if is_gzip(data) else _Raw(data)


def gunzip(data, limit, what="file", name=None):
    """``data`` decompressed when it is gzip'd (``is_gzip``), else ``data``
    itself; either way at most ``limit`` bytes, or a ``DataError`` saying
    which limit (a gzip bomb stops there: at most ``limit + 1`` bytes are
    ever decompressed).  ``name`` (default ``what``) starts every message:
    the path of the file, when there is one.  The whole gzip stream is
    checked, its CRC-32 included.
    """
    name = shown(name) if name else what
    if not is_gzip(data):
        if len(data) > limit:
            raise DataError("%s: %d bytes, more than the %d a %s may have"
                            % (name, len(data), limit, what))
        return data
    stream, pieces, size = _Gunzip(data, name), [], 0
    while True:
        piece = stream.read(_STEP)
        if not piece:
            return b"".join(pieces)
        size += len(piece)
        if size > limit:  # (refused before the pieces are joined: a bomb costs the limit)
            raise DataError("%s: more than %d bytes once decompressed (the limit for a %s)"
                            % (name, limit, what))
        pieces.append(piece)


def read_data(path, limit, what="file"):
    """The content of the regular file ``path``, gunzipped when it is gzip'd:
    ``read_limited`` then ``gunzip``, ``limit`` bounding both the file and
    what it decompresses to."""
    return gunzip(read_limited(path, limit, what), limit, what, name=path)


def read_numbers(path, what="file of numbers", limit=1 << 20):
    """The numbers in a text file (``plot digit --pixels``): floats separated
    by spaces, commas or new lines, in order, each finite.

    The file is read with ``read_limited`` (a regular file of at most
    ``limit`` bytes, 1 MiB by default: 784 pixels need 5 KB); text that is not
    UTF-8, a word that is no number, ``nan`` or ``inf`` are a ``DataError``
    naming the file and quoting (with a cap) what is wrong.
    """
    raw = read_limited(path, limit, what)
    where = shown(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataError("%s: not a text file (byte %d is not UTF-8); a %s holds numbers "
                        "as text" % (where, e.start, what))
    numbers = []
    for i, word in enumerate(text.replace(",", " ").split()):
        try:
            x = float(word)
        except ValueError:
            x = None
        if x is None or x - x != 0:  # x - x is nan for inf and nan
            raise DataError("%s: number %d is %s, not a finite number"
                            % (where, i + 1, quote(word, 30)))
        numbers.append(x)
    return numbers


# ---------------------------------------------------------------- places

def cache_dir():
    """purenn's cache folder: ``$XDG_CACHE_HOME/purenn``, by default
    ``~/.cache/purenn`` (a relative ``XDG_CACHE_HOME`` is ignored, as the XDG
    rules say).  ``python -m purenn download-mnist`` saves MNIST into its
    ``mnist`` folder; the book's ``sample_weight.pkl`` is looked for here.
    Nothing is created: this only names the folder."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base or not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "purenn")


# --------------------------------------------------------------- messages

def quote(obj, limit=60):
    """``repr(obj)``, cut to ``limit`` characters with the full length said:
    how messages show content that came from a file.  ``repr`` escapes new
    lines, terminal escape sequences and other unprintable characters, so
    what is printed is one line of plain text.  Only strings, bytes and
    numbers are ``repr``'d whole before the cut (they are flat, so that is
    linear); for anything else, only its type is named (a nested object from
    a file could take hours to print).

    >>> quote("W1"), quote(b"\\x00\\x1b" * 50, 12)
    ("'W1'", "b'\\\\x00\\\\x1b\\\\x... (100 bytes)")
    >>> quote([[1, 2], [3]])
    'a list'
    """
    if not isinstance(obj, (str, bytes, bytearray, int, float, tuple)) or (
            isinstance(obj, tuple) and not all(type(x) in (int, float) for x in obj)):
        return "a %s" % type(obj).__name__
    if isinstance(obj, int) and not isinstance(obj, bool) and obj.bit_length() > 4 * limit:
        return "an int of %d bits" % obj.bit_length()  # repr of a huge int is quadratic
    if isinstance(obj, (str, bytes, bytearray)) and len(obj) > limit:
        text = repr(obj[:limit])  # repr of the whole would be as long as the file
        return "%s... (%d %s)" % (text[:limit], len(obj),
                                  "characters" if isinstance(obj, str) else "bytes")
    text = repr(obj)
    if len(text) > limit:
        return "%s... (%d characters)" % (text[:limit], len(text))
    return text


NAME_LIMIT = 200
"""Characters of a file name a message shows at most."""


def shown(path):
    """A file's name as a message shows it: the name itself when every
    character of it is printable (so messages read ``weights.bin: ...``),
    else ``quote``'d: a name holding a new line, a terminal's escape
    sequence or bytes that are not UTF-8 (which Python reads as lone
    surrogates, unprintable on a UTF-8 terminal) cannot break the one line
    of a message, recolour the terminal or fail to print.

    >>> shown("weights.json.gz"), shown("bad\\x1b[2J\\nname")
    ('weights.json.gz', "'bad\\\\x1b[2J\\\\nname'")
    """
    try:
        text = os.fspath(path)
    except TypeError:  # (an open file's number, or anything else)
        return quote(path, NAME_LIMIT)
    if isinstance(text, str) and text.isprintable() and len(text) <= NAME_LIMIT:
        return text
    return quote(text, NAME_LIMIT)
