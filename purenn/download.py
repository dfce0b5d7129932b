"""Fetch the MNIST training set on request, and keep only verified files.

``download_mnist(kind="train")`` downloads the two IDX files of ``kind`` into
``purenn.datasets.mnist_cache_dir()`` (or ``folder``), where ``load_mnist``
finds them.  ``python -m purenn download-mnist`` is the same from the shell.

Every file is checked before it is kept: its *decompressed* content must
have the sha256 of the canonical MNIST file (``datasets.MNIST_SHA256``;
mirrors compress differently, the content is what counts).  The check runs
on the downloaded bytes in memory; only then are they written, with
``purenn.files.write_atomic`` (a temporary file of its own, then renamed), so
neither a broken or tampered download nor an interrupted write is ever left
where ``load_mnist`` would read it, and two downloads into one folder at
once cannot mix their bytes.

Nothing is unbounded: a download stops, with a ``DownloadError`` saying which
limit it hit, when

- the body is larger than the MNIST file can be (``size_limit``: its size,
  plus 0.1 % for a gzip that did not compress), or the server announces so;
- it decompresses to more than the MNIST file's size (a gzip bomb);
- it takes longer than ``deadline`` seconds in all (a server that sends one
  byte every two seconds never trips the per-read ``timeout``, but it hits
  the deadline: a watchdog shuts the connection down);
- the server speaks broken HTTP (a bad status line, a header line over
  64 KB, a chunked body cut short...): ``http.client``'s exceptions become
  one-line messages too.

Mirrors are ``http://`` or ``https://`` URLs only (no ``file://``, ``ftp://``).
Nothing here runs unless asked: purenn never goes online by itself.
"""
import os
import socket
import sys
import threading
import time

from purenn.datasets import (MNIST_ENV, MNIST_FILES, MNIST_SHA256, MNIST_SIZES,
                             content_sha256, mnist_cache_dir, verify_mnist)
from purenn.errors import DataError
from purenn.files import is_gzip, quote, shown, write_atomic
from purenn.progress import Progress

try:  # Python 3 with sockets (not MicroPython, not Pyodide's browser sandbox)
    import http.client as http_client
    import urllib.request as urllib_request
    from urllib.error import URLError
except ImportError:  # pragma: no cover
    http_client = urllib_request = None
    URLError = OSError

# Public mirrors of the original files (yann.lecun.com itself now asks for a login)
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

DEADLINE = 600  # seconds for one file from one mirror: 10 MB at 17 KB/s


class DownloadError(OSError):
    """No mirror delivered a file with the right content, within the limits."""


def size_limit(name):
    """The most bytes a download of the MNIST file ``name`` may have: its
    uncompressed size plus 0.1 % and 1 KB (what gzip adds to data it cannot
    compress; a real ``.gz`` is far smaller).

    >>> size_limit("t10k-labels-idx1-ubyte")
    11042
    """
    size = MNIST_SIZES[name]
    return size + size // 1000 + 1024


# ---------------------------------------------------------- the deadline

class _Deadline:
    """A watchdog for one download: after ``seconds`` it shuts down every
    socket the download opened, which ends any read blocked on it (however
    slowly the server sends).  ``expired`` says whether it fired."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.expired = False
        self.sockets = []
        self.lock = threading.Lock()
        self.timer = threading.Timer(seconds, self._expire)
        self.timer.daemon = True

    def __enter__(self):
        try:
            self.timer.start()
        except RuntimeError:  # "can't start new thread": Pyodide, WASI
            raise DownloadError("downloads need a thread to enforce the deadline, and this "
                                "Python cannot start one (Pyodide, WASI); download the MNIST "
                                "files elsewhere and set %s to their folder" % MNIST_ENV)
        return self

    def __exit__(self, *exc):
        self.timer.cancel()

    def _expire(self):
        with self.lock:
            self.expired = True
            for sock in self.sockets:
                _shut(sock)

    def remaining(self):
        return self.end - time.monotonic()

    def create_connection(self, address, timeout=None, source_address=None):
        """``socket.create_connection``, within the time left, watched."""
        left = self.remaining()
        if self.expired or left <= 0:
            raise socket.timeout("the deadline passed")
        if timeout is None or not isinstance(timeout, (int, float)):
            timeout = left
        sock = socket.create_connection(address, min(timeout, left), source_address)
        with self.lock:
            self.sockets.append(sock)
            if self.expired:
                _shut(sock)
        return sock


def _shut(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _opener(deadline):
    """A urllib opener for http and https only (proxies from the environment
    and redirects as usual), whose connections the deadline watches."""

    def watched(http_class):
        class Watched(http_class):
            def __init__(self, *args, **kwargs):
                http_class.__init__(self, *args, **kwargs)
                self._create_connection = deadline.create_connection
        return Watched

    class HTTP(urllib_request.HTTPHandler):
        def do_open(self, http_class, req, **kwargs):
            return urllib_request.HTTPHandler.do_open(self, watched(http_class), req, **kwargs)

    handlers = [urllib_request.ProxyHandler(), HTTP(), urllib_request.HTTPDefaultErrorHandler(),
                urllib_request.HTTPRedirectHandler(), urllib_request.HTTPErrorProcessor()]
    if hasattr(urllib_request, "HTTPSHandler"):  # (a Python without ssl has none)
        class HTTPS(urllib_request.HTTPSHandler):
            def do_open(self, http_class, req, **kwargs):
                return urllib_request.HTTPSHandler.do_open(self, watched(http_class), req,
                                                           **kwargs)
        handlers.append(HTTPS())
    opener = urllib_request.OpenerDirector()
    for handler in handlers:
        opener.add_handler(handler)
    return opener


# ------------------------------------------------------------ one download

def _fetch(url, limit, timeout, deadline_seconds, out):
    """The bytes at ``url``: at most ``limit`` of them, within the deadline,
    with a progress bar on ``out`` (None: quiet).  Every problem is a
    ``DownloadError`` of one line."""
    with _Deadline(deadline_seconds) as deadline:
        try:
            data = _read_body(_opener(deadline), url, limit, timeout, deadline, out)
        except DownloadError:
            raise
        except (OSError, ValueError, OverflowError, http_client.HTTPException) as e:
            # OSError: URLError, HTTPError, refused, reset, timeout, ssl;
            # ValueError: a URL urllib cannot parse; HTTPException: the
            # server's broken HTTP (BadStatusLine, LineTooLong, IncompleteRead...)
            if deadline.expired:
                raise DownloadError("took longer than the deadline of %s s" % deadline_seconds)
            if hasattr(e, "code"):  # an HTTPError: "HTTP Error 404: Not Found"
                raise DownloadError(quote(str(e), 120)[1:-1])
            reason = getattr(e, "reason", None) or e
            raise DownloadError("%s: %s" % (type(e).__name__, quote(str(reason), 120)[1:-1]))
        if deadline.expired:  # (a shut-down connection may look like a short, whole body)
            raise DownloadError("took longer than the deadline of %s s" % deadline_seconds)
    return data


def _read_body(opener, url, limit, timeout, deadline, out):
    response = opener.open(url, timeout=timeout)
    try:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.strip().isdigit() else None
        if total is not None and total > limit:
            raise DownloadError("the server announces %d bytes, more than the %d an MNIST "
                                "file can have" % (total, limit))
        bar = Progress(total, "bytes " + url.rsplit("/", 1)[-1], out=out) if out else None
        chunks, size = [], 0
        while True:
            chunk = response.read(min(1 << 16, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise DownloadError("more than %d bytes, more than an MNIST file can have"
                                    % limit)
            if bar:
                bar.update(len(chunk))
            if deadline.expired:
                break
        if bar:
            bar.done()
    finally:
        response.close()
    if total is not None and size != total and not deadline.expired:
        raise DownloadError("got %d of %d bytes" % (size, total))
    return b"".join(chunks)


def _check_mirror(base):
    if not isinstance(base, str) or not base.lower().startswith(("http://", "https://")):
        raise DownloadError("mirror %s is not an http:// or https:// URL" % quote(base, 80))
    return base


# ------------------------------------------------------------- the command

def download_mnist(kind="train", folder=None, mirrors=None, timeout=15, out=None,
                   deadline=DEADLINE):
    """Download and verify the MNIST ``kind`` ("train" or "test") into
    ``folder`` (default ``mnist_cache_dir()``): ``-> [images path, labels path]``.

    Files already there (``<name>.gz`` or the raw ``<name>``) with the right
    content are kept, not downloaded again.  ``mirrors`` are base URLs tried
    in turn (default ``MIRRORS``; an empty list is an error, not the
    default); ``timeout`` bounds each network read, ``deadline`` each file
    from each mirror, in seconds; ``out`` is where progress bars go (None: no
    bars).  When no mirror delivers a file whose content has the right
    sha256, ``DownloadError`` says, on one line, what each mirror did and
    what to download and where to put it by hand.
    """
    if kind not in MNIST_FILES:
        raise ValueError("download_mnist: kind must be 'train' or 'test', got %s" % quote(kind))
    if urllib_request is None:  # pragma: no cover
        raise DownloadError("this Python has no urllib: download the files by hand")
    for what, seconds in (("timeout", timeout), ("deadline", deadline)):
        if type(seconds) not in (int, float) or not 0 < seconds < 1e9:
            raise ValueError("download_mnist: %s must be a positive number of seconds, got %s"
                             % (what, quote(seconds)))
    if folder is None:
        folder = mnist_cache_dir()
    elif not folder:  # "" would silently mean the current folder, or the default
        raise ValueError("download_mnist: folder '' is no folder; pass None for %s"
                         % mnist_cache_dir())
    mirrors = list(MIRRORS if mirrors is None else mirrors)
    if not mirrors:
        raise DownloadError("no mirror given: pass at least one base URL (the default mirrors "
                            "are %s)" % ", ".join(MIRRORS))
    for base in mirrors:
        _check_mirror(base)
    try:
        # exist_ok: another download may make the folder between a check and the call
        # (two download-mnist at once: "File exists" failed one of them)
        os.makedirs(folder, exist_ok=True)
    except OSError as e:
        raise DownloadError("cannot create the folder %s: %s" % (shown(folder), e.strerror or e))
    paths = []
    for name in MNIST_FILES[kind]:
        have = [p for p in (os.path.join(folder, name + ".gz"), os.path.join(folder, name))
                if os.path.isfile(p) and verify_mnist(p, name)]
        if have:
            paths.append(have[0])
            continue
        paths.append(_download_one(name, folder, mirrors, timeout, deadline, out, kind))
    return paths


def _download_one(name, folder, mirrors, timeout, deadline, out, kind):
    problems = []
    for base in mirrors:
        url = base.rstrip("/") + "/" + name + ".gz"
        try:
            data = _fetch(url, size_limit(name), timeout, deadline, out)
            try:
                digest = content_sha256(data, MNIST_SIZES[name], "download")
            except DataError as e:
                raise DownloadError(str(e))
            if digest != MNIST_SHA256[name]:
                raise DownloadError("content sha256 %s..., expected %s..."
                                    % (digest[:16], MNIST_SHA256[name][:16]))
        except DownloadError as e:
            problems.append("%s: %s" % (quote(url, 120)[1:-1], e))
            continue
        # a mirror that serves the raw file: keep it raw, under its own name
        target = os.path.join(folder, name + (".gz" if is_gzip(data) else ""))
        try:
            write_atomic(target, data)
        except OSError as e:
            raise DownloadError("downloaded and verified %s, but cannot write %s: %s"
                                % (quote(url, 120)[1:-1], shown(target), e.strerror or e))
        return target
    raise DownloadError(
        "could not get a verified %s.gz (%s). Without this download: get %s (gzip'd or not) "
        "from any MNIST mirror, and put them in %s or in a folder named by the environment "
        "variable %s."
        % (name, "; ".join(problems), " and ".join(n + ".gz" for n in MNIST_FILES[kind]),
           shown(folder), MNIST_ENV))


def main_download(folder=None, kind="train", mirrors=None, quiet=False):
    """The ``download-mnist`` command: 0 when done, 1 with a message when not."""
    try:
        paths = download_mnist(kind, folder, mirrors, out=None if quiet else sys.stderr)
    except DownloadError as e:
        sys.stderr.write("purenn download-mnist: %s\n" % e)
        return 1
    for p in paths:
        print("verified %s" % shown(p))
    return 0
