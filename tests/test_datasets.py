"""The dataset loaders: the bundled files, the IDX checks, the MNIST lookup."""
import gzip
import os
import struct

import pytest

from purenn import datasets
from purenn.datasets import DataError, find_mnist, load_digits, load_mnist, read_idx

SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared")
SHARED_MNIST = os.path.join(SHARED, "data", "mnist")
needs_shared_mnist = pytest.mark.skipif(
    not os.path.isfile(os.path.join(SHARED_MNIST, "train-images-idx3-ubyte.gz")),
    reason="the MNIST training set is not in ../shared/data/mnist beside the repository")


def idx_bytes(dims, data, typecode=0x08):
    return bytes([0, 0, typecode, len(dims)]) + struct.pack(">%dI" % len(dims), *dims) + data


def write(tmp_path, name, content, gz=False):
    p = tmp_path / name
    p.write_bytes(gzip.compress(content) if gz else content)
    return str(p)


# ------------------------------------------------------------- the IDX reader

@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_reads_raw_and_gzip(tmp_path, gz):
    p = write(tmp_path, "a.idx", idx_bytes((2, 3), bytes(range(6))), gz)
    dims, data = read_idx(p)
    assert dims == (2, 3)
    assert list(data) == [0, 1, 2, 3, 4, 5]


@pytest.mark.parametrize("content, words", [
    (b"", "too short"),
    (b"\x00\x00", "too short"),
    (b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\x00", "not an IDX file"),
    (idx_bytes((2,), b"\x00" * 8, typecode=0x0D), "element type 0x0d"),
    (idx_bytes((), b""), "0 dimensions"),
    (b"\x00\x00\x08\x03" + struct.pack(">I", 10), "truncated IDX header"),
    (idx_bytes((10, 2), b"\x00" * 19), "truncated"),
    (idx_bytes((10, 2), b"\x00" * 21), "1 unexpected bytes"),
])
def test_read_idx_rejects_broken_files_naming_file_and_problem(tmp_path, content, words):
    p = write(tmp_path, "broken.idx", content)
    with pytest.raises(DataError) as e:
        read_idx(p)
    assert p in str(e.value) and words in str(e.value)


def test_read_idx_checks_the_number_of_dimensions(tmp_path):
    p = write(tmp_path, "labels.idx", idx_bytes((3,), b"\x01\x02\x03"))
    with pytest.raises(DataError, match="1 dimensions, expected 3"):
        read_idx(p, ndim=3)


def test_truncated_gzip_is_an_error_not_a_short_dataset(tmp_path):
    whole = gzip.compress(idx_bytes((100, 10), bytes(1000)))
    p = write(tmp_path, "cut.gz", whole[:len(whole) // 2])
    with pytest.raises(DataError, match="broken gzip"):
        read_idx(p)


def test_gzip_with_a_bad_checksum_is_rejected(tmp_path):
    whole = bytearray(gzip.compress(idx_bytes((4,), b"\x01\x02\x03\x04")))
    whole[-8] ^= 0xFF                                    # the CRC32 of the content
    p = write(tmp_path, "crc.gz", bytes(whole))
    with pytest.raises(DataError, match="broken gzip"):
        read_idx(p)


def test_datasets_errors_are_value_errors():
    assert issubclass(DataError, ValueError)


# ------------------------------------------------------------- bundled MNIST

@pytest.mark.ch3
def test_bundled_mnist_test_set_has_the_book_shapes_and_labels():
    x, t = load_mnist(kind="test")
    assert x.shape == (10000, 784)
    assert len(t) == 10000 and set(t) == set(range(10))
    # the first ten labels of the MNIST test set (the book's figure 3-24 row)
    assert t[:10] == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert x.max() == 1.0 and x.min() == 0.0


def test_mnist_normalize_is_pixel_over_255():
    raw, _ = load_mnist(normalize=False, kind="test")
    x, _ = load_mnist(kind="test")
    for i in (0, 1, 9999):
        assert all(type(p) is int and 0 <= p <= 255 for p in raw[i].tolist()[0])
        assert x[i].tolist()[0] == [p / 255.0 for p in raw[i].tolist()[0]]


def test_mnist_flatten_false_gives_28x28_images_of_the_same_pixels():
    flat, _ = load_mnist(normalize=False, kind="test")
    images, _ = load_mnist(normalize=False, flatten=False, kind="test")
    assert len(images) == 10000 and images[5].shape == (28, 28)
    assert images[5].reshape(1, 784) == flat[5]


def test_one_hot_rows_have_a_single_one_at_the_label():
    _, t = load_mnist(kind="test")
    _, oh = load_mnist(one_hot_label=True, kind="test")
    assert oh.shape == (10000, 10)
    assert oh.argmax(axis=1) == t
    assert oh.sum(axis=1).tolist() == [[1.0]] * 10000


def test_mnist_test_set_content_is_the_canonical_one():
    import hashlib
    for name in datasets.MNIST_FILES["test"]:
        with gzip.open(os.path.join(datasets.DATA_DIR, name + ".gz")) as f:
            assert hashlib.sha256(f.read()).hexdigest() == datasets.MNIST_SHA256[name]


def test_mnist_kind_must_be_train_or_test():
    with pytest.raises(ValueError, match="'train' or 'test'"):
        load_mnist(kind="validation")


# ------------------------------------------------------------ MNIST lookup

def make_mnist(folder, count=3, kind="test", labels=None, gz=True):
    images, label_file = datasets.MNIST_FILES[kind]
    folder.mkdir(parents=True, exist_ok=True)
    ext = ".gz" if gz else ""
    pixels = bytes((i * 7) % 256 for i in range(count * 784))
    write(folder, images + ext, idx_bytes((count, 28, 28), pixels), gz)
    labels = bytes(labels if labels is not None else [i % 10 for i in range(count)])
    write(folder, label_file + ext, idx_bytes((len(labels),), labels), gz)
    return str(folder)


def test_path_argument_is_the_only_place_looked_in(tmp_path):
    folder = make_mnist(tmp_path / "mine", count=3, gz=False)
    x, t = load_mnist(path=folder, normalize=False, kind="test")
    assert x.shape == (3, 784) and t == [0, 1, 2]
    assert x[1, 0] == 7 * 784 % 256
    with pytest.raises(FileNotFoundError, match="download-mnist"):
        load_mnist(path=str(tmp_path / "empty"), kind="test")


def test_environment_variable_then_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(datasets.MNIST_ENV, raising=False)
    with pytest.raises(FileNotFoundError) as e:
        find_mnist("train")
    message = str(e.value)
    assert "train-images-idx3-ubyte" in message and datasets.MNIST_ENV in message
    assert datasets.mnist_cache_dir() == str(tmp_path / "cache" / "purenn" / "mnist")
    make_mnist(tmp_path / "cache" / "purenn" / "mnist", count=2, kind="train")
    assert find_mnist("train")[0].startswith(str(tmp_path / "cache"))
    make_mnist(tmp_path / "env", count=4, kind="train")
    monkeypatch.setenv(datasets.MNIST_ENV, str(tmp_path / "env"))
    x, t = load_mnist(kind="train")
    assert x.shape == (4, 784)


def test_label_count_must_match_image_count(tmp_path):
    folder = make_mnist(tmp_path, count=3, labels=[1, 2])
    with pytest.raises(DataError, match="2 labels but .* 3 images"):
        load_mnist(path=folder, kind="test")


def test_labels_above_nine_are_rejected(tmp_path):
    folder = make_mnist(tmp_path, count=2, labels=[1, 12])
    with pytest.raises(DataError, match="label 12"):
        load_mnist(path=folder, kind="test")


@needs_shared_mnist
def test_training_set_from_shared_folder():
    x, t = load_mnist(kind="train", path=SHARED_MNIST, normalize=False)
    assert x.shape == (60000, 784) and len(t) == 60000
    assert t[:5] == [5, 0, 4, 1, 9]


# ------------------------------------------------------------------ optdigits

@pytest.mark.parametrize("kind, n", [("train", 3823), ("test", 1797)])
def test_digits_sizes_and_ranges(kind, n):
    x, t = load_digits(kind=kind, normalize=False)
    assert x.shape == (n, 64) and len(t) == n and set(t) == set(range(10))
    assert x.max() == 16 and x.min() == 0
    xn, _ = load_digits(kind=kind)
    assert xn[0].tolist()[0] == [p / 16.0 for p in x[0].tolist()[0]]


def test_digits_unflattened_and_one_hot():
    images, t = load_digits(flatten=False, one_hot_label=True, kind="test")
    assert len(images) == 1797 and images[0].shape == (8, 8)
    assert t.shape == (1797, 10) and t.argmax(axis=1)[:3] == [0, 1, 2]


def test_digits_corrupt_line_names_file_and_line(tmp_path, monkeypatch):
    good = ",".join(["0"] * 64 + ["3"])
    (tmp_path / "optdigits.tes.gz").write_bytes(
        gzip.compress((good + "\n" + ",".join(["0"] * 63 + ["3"]) + "\n").encode()))
    monkeypatch.setattr(datasets, "DATA_DIR", str(tmp_path))
    with pytest.raises(DataError, match="line 2: 64 values"):
        load_digits(kind="test")


# --------------------------------------------------------------- properties

from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=50, deadline=None)
@given(dims=st.lists(st.integers(1, 5), min_size=1, max_size=3), data=st.data())
def test_idx_round_trip_and_every_cut_is_an_error(tmp_path_factory, dims, data):
    size = 1
    for d in dims:
        size *= d
    payload = bytes(data.draw(st.lists(st.integers(0, 255), min_size=size, max_size=size)))
    whole = idx_bytes(tuple(dims), payload)
    folder = tmp_path_factory.mktemp("idx")
    assert read_idx(write(folder, "ok", whole)) == (tuple(dims), payload)
    cut = data.draw(st.integers(0, len(whole) - 1), label="cut")
    with pytest.raises(DataError):
        read_idx(write(folder, "cut", whole[:cut]))



# -------------------------------------------------- the book's load_mnist form

@pytest.mark.ch3
def test_load_mnist_gives_the_books_pair_of_pairs(tmp_path, monkeypatch):
    make_mnist(tmp_path / "mine", count=3, kind="train")
    monkeypatch.setenv(datasets.MNIST_ENV, str(tmp_path / "mine"))
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)
    assert x_train.shape == (3, 784) and t_train.shape == (3, 10)
    assert x_test.shape == (10000, 784) and t_test.shape == (10000, 10)
    assert t_train.argmax(axis=1) == [0, 1, 2] and t_test.argmax(axis=1)[:3] == [7, 2, 1]


def test_without_the_training_set_the_book_form_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(datasets.MNIST_ENV, raising=False)
    with pytest.raises(FileNotFoundError) as e:
        load_mnist()
    message = str(e.value)
    assert "\n" not in message
    for words in ("train-images-idx3-ubyte", str(tmp_path / "cache"),
                  "python -m purenn download-mnist", datasets.MNIST_ENV, 'kind="test"'):
        assert words in message


@needs_shared_mnist
@pytest.mark.slow
@pytest.mark.ch3
def test_the_book_form_with_the_real_training_set(monkeypatch):
    monkeypatch.setenv(datasets.MNIST_ENV, SHARED_MNIST)
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=False)
    assert x_train.shape == (60000, 784) and t_train[:3] == [5, 0, 4]
    assert x_test.shape == (10000, 784) and t_test[:3] == [7, 2, 1]


def test_load_digits_gives_both_parts_offline():
    (x_train, t_train), (x_test, t_test) = load_digits(one_hot_label=True)
    assert x_train.shape == (3823, 64) and t_train.shape == (3823, 10)
    assert x_test.shape == (1797, 64) and t_test.shape == (1797, 10)


@pytest.mark.parametrize("loader", [load_mnist, load_digits])
def test_kind_must_be_train_test_or_none_and_is_quoted(loader):
    with pytest.raises(ValueError, match=r"kind must be 'train' or 'test'.*'\\x1b\[2J'"):
        loader(kind="\x1b[2J")


# -------------------------------------------- bounded reads of data files

def _gzip_of_zeros(header, megabytes):
    """``header`` and ``megabytes`` MiB of zeros as gzip members one after the
    other (one gzip stream to a reader): 1 KB of file per MiB of data."""
    member = gzip.compress(bytes(1 << 20))
    return gzip.compress(header) + member * megabytes


def test_a_gzip_bomb_idx_file_stops_after_its_header_says(tmp_path):
    p = tmp_path / "bomb-idx3.gz"
    p.write_bytes(_gzip_of_zeros(idx_bytes((1, 28, 28), b""), 1024))   # 1 GiB of zeros
    with pytest.raises(DataError, match="at least 1048576 unexpected bytes after the 784"):
        read_idx(str(p))


def test_a_header_announcing_gigabytes_is_refused_before_reading(tmp_path):
    p = write(tmp_path, "huge.idx", idx_bytes((2 ** 32 - 1, 2 ** 32 - 1, 2 ** 32 - 1), b"\0"))
    with pytest.raises(DataError, match="more than the 47040000 purenn reads"):
        read_idx(p)


def test_a_corrupt_deflate_block_is_a_data_error(tmp_path):
    data = bytearray(gzip.compress(idx_bytes((100,), bytes(range(100)))))
    data[10] ^= 0x55                                     # the first deflate byte
    with pytest.raises(DataError, match="broken gzip data"):
        read_idx(write(tmp_path, "x.gz", bytes(data)))


def test_bytes_after_the_gzip_stream_are_refused(tmp_path):
    data = gzip.compress(idx_bytes((2,), b"\x01\x02")) + b"trailing"
    with pytest.raises(DataError, match="8 bytes after the end of the gzip stream"):
        read_idx(write(tmp_path, "x.gz", data))


def test_a_broken_digits_line_is_quoted_escaped(tmp_path, monkeypatch):
    (tmp_path / "optdigits.tes.gz").write_bytes(gzip.compress(b"1,2,\x1b[2J" + b"9" * 500))
    monkeypatch.setattr(datasets, "DATA_DIR", str(tmp_path))
    with pytest.raises(DataError) as e:
        load_digits(kind="test")
    assert "\\x1b[2J" in str(e.value) and str(e.value).isprintable()
    assert len(str(e.value)) < 200


# ------------------------------------- a folder with both name.gz and name

def _canonical_test_set(folder, gz):
    """The MNIST test set in ``folder``: the bundled .gz files, or (``gz``
    False) their raw content."""
    for name in datasets.MNIST_FILES["test"]:
        data = open(os.path.join(datasets.DATA_DIR, name + ".gz"), "rb").read()
        write(folder, name + (".gz" if gz else ""), data if gz else gzip.decompress(data))


def test_a_stale_gz_does_not_hide_a_verified_raw_file(tmp_path):
    _canonical_test_set(tmp_path, gz=False)        # verified raw files
    stale = gzip.compress(b"half a download")[:12]
    for name in datasets.MNIST_FILES["test"]:
        write(tmp_path, name + ".gz", stale)
    images, labels = find_mnist("test", path=str(tmp_path))
    assert not images.endswith(".gz") and not labels.endswith(".gz")
    assert load_mnist(path=str(tmp_path), kind="test")[1][:3] == [7, 2, 1]


def test_a_verified_gz_wins_over_a_broken_raw_file(tmp_path):
    _canonical_test_set(tmp_path, gz=True)
    for name in datasets.MNIST_FILES["test"]:
        write(tmp_path, name, b"\x00\x00\x08\x01broken")
    images, labels = find_mnist("test", path=str(tmp_path))
    assert images.endswith(".gz") and labels.endswith(".gz")


def test_when_neither_form_is_canonical_the_newer_wins(tmp_path):
    folder = make_mnist(tmp_path / "own", count=2, gz=True)
    make_mnist(tmp_path / "own", count=5, gz=False)
    names = datasets.MNIST_FILES["test"]
    for name in names:                                   # the raw files are older
        os.utime(os.path.join(folder, name), (1000000000, 1000000000))
    assert load_mnist(path=folder, kind="test")[0].shape == (2, 784)
    for name in names:                                   # now the .gz files are
        os.utime(os.path.join(folder, name + ".gz"), (900000000, 900000000))
    assert load_mnist(path=folder, kind="test")[0].shape == (5, 784)


def test_verify_mnist_checks_the_uncompressed_content(tmp_path):
    name = "t10k-labels-idx1-ubyte"
    assert datasets.verify_mnist(os.path.join(datasets.DATA_DIR, name + ".gz"), name)
    assert not datasets.verify_mnist(os.path.join(datasets.DATA_DIR, name + ".gz"),
                                     "t10k-images-idx3-ubyte")
    assert not datasets.verify_mnist(str(tmp_path / "missing"), name)


def test_the_cache_folder_is_purenns_cache_folder(tmp_path, monkeypatch):
    from purenn.files import cache_dir
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert datasets.mnist_cache_dir() == os.path.join(cache_dir(), "mnist") == \
        str(tmp_path / "purenn" / "mnist")
