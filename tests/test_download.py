"""The MNIST download, for real, from a local HTTP server on 127.0.0.1."""
import contextlib
import gzip
import os
import shutil
import threading
from functools import partial
from http.server import HTTPServer, SimpleHTTPRequestHandler

import pytest

from purenn import DataError, datasets
from purenn.download import DownloadError, content_sha256, download_mnist, main_download

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
    x, t = datasets.load_mnist()
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
    # the .part file's name is taken by a folder: the write fails after the check
    (folder / "t10k-images-idx3-ubyte.gz.part").mkdir()
    with serving(mirror) as url:
        assert main_download(str(folder), "test", [url], quiet=True) == 1
    err = capsys.readouterr().err
    assert "verified" in err and "cannot write" in err and "t10k-images-idx3-ubyte.gz.part" in err
