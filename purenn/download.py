"""Fetch the MNIST training set on request, and keep only verified files.

``download_mnist(kind="train")`` downloads the two IDX files of ``kind`` into
``purenn.datasets.mnist_cache_dir()`` (or ``folder``), where ``load_mnist``
finds them.  ``python -m purenn download-mnist`` is the same from the shell.

Every file is checked before it is kept: its *decompressed* content must
have the sha256 of the canonical MNIST file (``datasets.MNIST_SHA256``;
mirrors compress differently, the content is what counts).  The check runs
on the downloaded bytes in memory; only then are they written to
``<name>.part`` and renamed, so neither a broken or tampered download nor an
interrupted write is ever left where ``load_mnist`` would read it.

Nothing here runs unless asked: purenn never goes online by itself.
"""
import gzip
import hashlib
import os
import sys
import zlib

from purenn.datasets import MNIST_ENV, MNIST_FILES, MNIST_SHA256, mnist_cache_dir
from purenn.errors import DataError
from purenn.progress import Progress

try:  # Python 3
    from urllib.request import urlopen
    from urllib.error import URLError
except ImportError:  # pragma: no cover - MicroPython has no urllib
    urlopen = None
    URLError = OSError

# Public mirrors of the original files (yann.lecun.com itself now asks for a login)
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)


class DownloadError(OSError):
    """No mirror delivered a file with the right content."""


def content_sha256(data):
    """The sha256 (hex) of ``data`` after gunzipping it when it is gzip'd.

    >>> import gzip
    >>> content_sha256(gzip.compress(b"abc")) == content_sha256(b"abc")
    True
    """
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise DataError("broken gzip data (%s)" % e)
    return hashlib.sha256(data).hexdigest()


def _fetch(url, timeout, out):
    """The bytes at ``url``, with a progress bar on ``out`` (None: quiet)."""
    response = urlopen(url, timeout=timeout)
    try:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        bar = Progress(total, "bytes " + url.rsplit("/", 1)[-1], out=out) if out else None
        chunks = []
        while True:
            chunk = response.read(1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
            if bar:
                bar.update(len(chunk))
        if bar:
            bar.done()
    finally:
        response.close()
    data = b"".join(chunks)
    if total is not None and len(data) != total:
        raise DataError("got %d of %d bytes" % (len(data), total))
    return data


def _verified(path, name):
    """True when the file at ``path`` has the canonical content of ``name``."""
    try:
        with open(path, "rb") as f:
            return content_sha256(f.read()) == MNIST_SHA256[name]
    except (OSError, DataError):
        return False


def download_mnist(kind="train", folder=None, mirrors=None, timeout=15, out=None):
    """Download and verify the MNIST ``kind`` ("train" or "test") into
    ``folder`` (default ``mnist_cache_dir()``): ``-> [images path, labels path]``.

    Files already there with the right content are kept, not downloaded
    again.  ``mirrors`` are base URLs tried in turn (default ``MIRRORS``);
    ``out`` is where progress bars go (None: no bars).  When no mirror
    delivers a file whose content has the right sha256, ``DownloadError``
    says what to download and where to put it by hand.
    """
    if kind not in MNIST_FILES:
        raise ValueError("download_mnist: kind must be 'train' or 'test', got %r" % (kind,))
    if urlopen is None:  # pragma: no cover
        raise DownloadError("this Python has no urllib: download the files by hand")
    folder = folder or mnist_cache_dir()
    mirrors = list(mirrors or MIRRORS)
    try:
        if not os.path.isdir(folder):
            os.makedirs(folder)
    except OSError as e:
        raise DownloadError("cannot create the folder %s: %s" % (folder, e.strerror or e))
    paths = []
    for name in MNIST_FILES[kind]:
        target = os.path.join(folder, name + ".gz")
        if os.path.isfile(target) and _verified(target, name):
            paths.append(target)
            continue
        problems = []
        for base in mirrors:
            url = base.rstrip("/") + "/" + name + ".gz"
            try:
                data = _fetch(url, timeout, out)
                digest = content_sha256(data)
                if digest != MNIST_SHA256[name]:
                    raise DataError("content sha256 %s..., expected %s..."
                                    % (digest[:16], MNIST_SHA256[name][:16]))
            except (URLError, OSError, DataError, ValueError) as e:
                problems.append("%s: %s" % (url, getattr(e, "reason", e)))
                continue
            if data[:2] != b"\x1f\x8b":  # a mirror that serves the raw file
                target = os.path.join(folder, name)
            part = target + ".part"
            try:
                with open(part, "wb") as f:
                    f.write(data)
                os.replace(part, target)
            except OSError as e:
                try:  # a half-written .part (a full disk) is no use to anyone
                    os.remove(part)
                except OSError:
                    pass
                raise DownloadError("downloaded and verified %s, but cannot write %s: %s"
                                    % (url, part, e.strerror or e))
            paths.append(target)
            break
        else:
            raise DownloadError(
                "could not get a verified %s.gz:\n  %s\nWithout this download: get %s "
                "(gzip'd or not) from any MNIST mirror, and put them in %s or in a folder "
                "named by the environment variable %s."
                % (name, "\n  ".join(problems), " and ".join(n + ".gz" for n in MNIST_FILES[kind]),
                   folder, MNIST_ENV))
    return paths


def main_download(folder=None, kind="train", mirrors=None, quiet=False):
    """The ``download-mnist`` command: 0 when done, 1 with a message when not."""
    try:
        paths = download_mnist(kind, folder, mirrors, out=None if quiet else sys.stderr)
    except DownloadError as e:
        sys.stderr.write("purenn download-mnist: %s\n" % e)
        return 1
    for p in paths:
        print("verified %s" % p)
    return 0
