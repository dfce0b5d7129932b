"""The MNIST download, for real, from a local HTTP server on 127.0.0.1."""
import contextlib
import gzip
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler

try:
    from http.server import ThreadingHTTPServer as HTTPServer
except ImportError:  # Python < 3.7
    from http.server import HTTPServer

import pytest

from purenn import DataError, datasets
from purenn.download import (DownloadError, content_sha256, download_mnist, main_download,
                             size_limit)

from servers import (announces_a_terabyte, bad_status_line, endless, gzip_bomb, hangs_up,
                     huge_header, many_headers, misbehaving, not_found, redirects_to_a_local_file,
                     slow_body, slow_headers, truncated_chunks)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# every test here runs an HTTP server on 127.0.0.1
pytestmark = pytest.mark.processes

SHARED_MNIST = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "..", "..", "shared", "data", "mnist")
# the mirror serves ../shared/data/mnist; without it, the same test-set files
# that ship inside purenn
SOURCE = (SHARED_MNIST if os.path.isfile(os.path.join(SHARED_MNIST, "t10k-labels-idx1-ubyte.gz"))
          else datasets.DATA_DIR)


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serving(folder):
    """An HTTP server on 127.0.0.1 (a free port) serving ``folder``."""
    server = HTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "http://127.0.0.1:%d/" % server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def mirror(tmp_path):
    """A copy of the MNIST files (the small test set) to serve."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    for name in datasets.MNIST_FILES["test"]:
        shutil.copy(os.path.join(SOURCE, name + ".gz"), str(folder))
    return folder


def test_download_verifies_and_caches_then_load_mnist_finds_it(tmp_path, mirror, monkeypatch,
                                                               capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(datasets.MNIST_ENV, raising=False)
    with serving(mirror) as url:
        assert main_download(kind="test", mirrors=[url]) == 0
    out, err = capsys.readouterr()
    assert "verified" in out and "100%" in err          # the progress bar went to stderr
    cached = datasets.mnist_cache_dir()
    assert sorted(os.listdir(cached)) == ["t10k-images-idx3-ubyte.gz",
                                          "t10k-labels-idx1-ubyte.gz"]
    images, labels = datasets.find_mnist("test")
    assert images.startswith(cached)
    x, t = datasets.load_mnist(kind="test")
    assert x.shape == (10000, 784) and t[:3] == [7, 2, 1]


def test_a_verified_file_is_not_downloaded_again(tmp_path, mirror):
    with serving(mirror) as url:
        first = download_mnist("test", str(tmp_path / "d"), [url])
    # the server is gone: only the files already verified can satisfy this
    assert download_mnist("test", str(tmp_path / "d"), [url], timeout=2) == first


def test_a_corrupted_file_is_rejected_and_not_cached(tmp_path, mirror):
    name = "t10k-labels-idx1-ubyte"
    content = bytearray(gzip.decompress((mirror / (name + ".gz")).read_bytes()))
    content[100] = (content[100] + 1) % 10               # one label changed: still a valid IDX
    (mirror / (name + ".gz")).write_bytes(gzip.compress(bytes(content)))
    target = tmp_path / "cache"
    with serving(mirror) as url:
        with pytest.raises(DownloadError) as e:
            download_mnist("test", str(target), [url])
    message = str(e.value)
    assert "content sha256" in message and name in message and datasets.MNIST_ENV in message
    assert not (target / (name + ".gz")).exists()
    assert [f for f in os.listdir(str(target)) if f.endswith(".part")] == []


def test_truncated_download_is_rejected(tmp_path, mirror):
    name = "t10k-labels-idx1-ubyte.gz"
    data = (mirror / name).read_bytes()
    (mirror / name).write_bytes(data[:len(data) // 2])
    with serving(mirror) as url:
        with pytest.raises(DownloadError, match="broken gzip"):
            download_mnist("test", str(tmp_path / "c"), [url])
    assert not (tmp_path / "c" / name).exists()


def test_falls_back_to_the_next_mirror(tmp_path, mirror):
    empty = tmp_path / "empty"
    empty.mkdir()
    with serving(empty) as bad, serving(mirror) as good:
        paths = download_mnist("test", str(tmp_path / "d"), [bad, good])
    assert len(paths) == 2


def test_offline_fails_fast_with_what_to_do(tmp_path, capsys):
    # nothing listens on this port: the connection is refused at once
    with serving(tmp_path) as url:
        pass
    assert main_download(str(tmp_path / "d"), "train", [url]) == 1
    err = capsys.readouterr().err
    assert "train-images-idx3-ubyte.gz" in err and str(tmp_path / "d") in err
    assert datasets.MNIST_ENV in err


def test_content_sha256_is_of_the_decompressed_bytes():
    assert content_sha256(gzip.compress(b"x", compresslevel=1)) == \
        content_sha256(gzip.compress(b"x", compresslevel=9))
    with pytest.raises(DataError):
        content_sha256(gzip.compress(b"xyz" * 100)[:20])


@pytest.mark.skipif(SOURCE != SHARED_MNIST,
                    reason="the MNIST training set is not in ../shared/data/mnist")
def test_training_set_download_is_verified_and_found(tmp_path, monkeypatch):
    folder = tmp_path / "mirror"
    folder.mkdir()
    for name in datasets.MNIST_FILES["train"]:
        shutil.copy(os.path.join(SHARED_MNIST, name + ".gz"), str(folder))
    monkeypatch.setenv(datasets.MNIST_ENV, str(tmp_path / "mine"))
    with serving(folder) as url:
        assert main_download(str(tmp_path / "mine"), "train", [url], quiet=True) == 0
    images, labels = datasets.find_mnist("train")
    assert datasets.read_idx(labels, ndim=1)[0] == (60000,)


def test_a_verified_file_that_cannot_be_written_is_a_message(tmp_path, mirror, capsys):
    folder = tmp_path / "d"
    folder.mkdir()
    # the file's name is taken by a folder: the write fails after the check
    (folder / "t10k-images-idx3-ubyte.gz").mkdir()
    with serving(mirror) as url:
        assert main_download(str(folder), "test", [url], quiet=True) == 1
    err = capsys.readouterr().err
    assert "verified" in err and "cannot write" in err and "t10k-images-idx3-ubyte.gz" in err
    assert [f for f in os.listdir(str(folder)) if f.endswith(".part")] == []



@pytest.mark.parametrize("behaviour, words", [
    (slow_body, "took longer than the deadline of 1.5 s"),
    (slow_headers, "took longer than the deadline of 1.5 s"),
    (endless, "more than %d bytes, more than an MNIST file can have"
              % size_limit("t10k-labels-idx1-ubyte")),
    (announces_a_terabyte, "announces 1000000000000 bytes, more than the"),
    (truncated_chunks, "IncompleteRead"),
    (bad_status_line, r"BadStatusLine: .*GARBAGE \\x1b\[2J"),
    (huge_header, "LineTooLong"),
    (many_headers, "got more than 100 headers"),
    (hangs_up, "RemoteDisconnected"),
    (redirects_to_a_local_file, "(?i)redirection to url 'file:///etc/passwd' is not allowed"),
    (not_found, "HTTP Error 404: Not Found"),
    (gzip_bomb, "more than 10008 bytes once decompressed"),
], ids=lambda x: getattr(x, "__name__", ""))
def test_a_misbehaving_server_is_a_one_line_download_error(tmp_path, behaviour, words):
    # the images are there already, verified: only the labels are fetched
    # (the smallest limits: 10,008 bytes)
    folder = tmp_path / "d"
    folder.mkdir()
    shutil.copy(os.path.join(datasets.DATA_DIR, "t10k-images-idx3-ubyte.gz"), str(folder))
    start = time.monotonic()
    with misbehaving(behaviour) as url:
        with pytest.raises(DownloadError) as e:
            download_mnist("test", str(folder), [url], timeout=5, deadline=1.5)
    message = str(e.value)
    assert time.monotonic() - start < 10
    assert re.search(words, message), message
    assert "\n" not in message and message.isprintable()
    assert os.listdir(str(folder)) == ["t10k-images-idx3-ubyte.gz"]



@pytest.mark.parametrize("mirror, words", [
    ("http://127.0.0.1:abc/", "InvalidURL: nonnumeric port"),
    ("", "mirror '' is not an http:// or https:// URL"),
    ("file:///etc/", "mirror 'file:///etc/' is not an http:// or https:// URL"),
    ("ftp://127.0.0.1/", "is not an http:// or https:// URL"),
    ("http://\x1b[2J/", r"http://\\x1b\[2J"),
])
def test_a_bad_mirror_url_is_a_one_line_download_error(tmp_path, mirror, words):
    with pytest.raises(DownloadError, match=words) as e:
        download_mnist("test", str(tmp_path / "d"), [mirror], timeout=2, deadline=5)
    assert str(e.value).isprintable()


def test_an_empty_list_of_mirrors_is_an_error_not_the_default(tmp_path):
    with pytest.raises(DownloadError, match="no mirror given"):
        download_mnist("test", str(tmp_path / "d"), [])


TWO_AT_ONCE = """
import sys
sys.path.insert(0, sys.argv[1])
from purenn.download import main_download
sys.exit(main_download(sys.argv[2], "test", [sys.argv[3]], quiet=True))
"""


def test_two_downloads_into_one_folder_at_once_both_succeed(tmp_path, mirror):
    # each writer has a temporary file of its own; a shared .part file made
    # one of them fail in 4 of 8 trials
    folder = str(tmp_path / "d")
    with serving(mirror) as url:
        for _ in range(3):
            children = [subprocess.Popen([sys.executable, "-c", TWO_AT_ONCE, REPO, folder, url],
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                        for _ in range(2)]
            results = [child.communicate(timeout=120) + (child.returncode,)
                       for child in children]
            assert [r[2] for r in results] == [0, 0], results
            names = sorted(os.listdir(folder))
            assert names == [n + ".gz" for n in datasets.MNIST_FILES["test"]]
            for name in names:
                assert datasets.verify_mnist(os.path.join(folder, name), name[:-3])
                os.remove(os.path.join(folder, name))   # the next round downloads again


@pytest.mark.parametrize("limits", [{"timeout": 0}, {"deadline": -1}, {"deadline": float("nan")},
                                    {"timeout": "15"}, {"deadline": float("inf")}])
def test_time_limits_must_be_positive_numbers(tmp_path, limits):
    with pytest.raises(ValueError, match="must be a positive number of seconds"):
        download_mnist("test", str(tmp_path / "d"), ["http://127.0.0.1:9/"], **limits)


def test_a_folder_made_by_another_download_meanwhile_is_no_error(tmp_path, monkeypatch, mirror):
    # two download-mnist at once: the other one made the folder between our check and
    # our makedirs, and ours failed with "File exists" (1 run in CI)
    folder = str(tmp_path / "d")
    real_makedirs = os.makedirs

    def other_download_first(path, *args, **kw):
        real_makedirs(path)  # the other process wins the race
        return real_makedirs(path, *args, **kw)
    monkeypatch.setattr(os, "makedirs", other_download_first)
    with serving(mirror) as url:
        download_mnist("test", folder, [url])
    assert sorted(os.listdir(folder)) == [n + ".gz" for n in datasets.MNIST_FILES["test"]]
