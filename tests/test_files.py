"""purenn.files: atomic writes, bounded reads, bounded gunzip, safe quoting."""
import gzip
import os
import sys
import threading
import zlib

import pytest
from hypothesis import example, given, settings, strategies as st

from purenn import files
from purenn.datasets import read_idx
from purenn.errors import DataError
from purenn.pickles import load_arrays
from purenn.weights import load_params, read_weights
from purenn.files import (cache_dir, gunzip, open_data, quote, read_data, read_limited,
                          read_numbers, write_atomic)


def leftovers(folder):
    return [name for name in os.listdir(str(folder)) if name.endswith(".part")]


# ------------------------------------------------------------ write_atomic

def test_write_atomic_replaces_the_whole_file(tmp_path):
    path = str(tmp_path / "f.bin")
    write_atomic(path, b"x" * 1000)
    write_atomic(path, b"short")
    assert open(path, "rb").read() == b"short" and leftovers(tmp_path) == []


def test_an_interrupted_write_keeps_the_old_file_and_removes_its_temporary(tmp_path,
                                                                          monkeypatch):
    path = str(tmp_path / "f.bin")
    write_atomic(path, b"old")

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(path, b"new")
    assert open(path, "rb").read() == b"old" and leftovers(tmp_path) == []


@pytest.mark.skipif(sys.platform == "emscripten", reason="Pyodide (WebAssembly) has no threads")
def test_writers_at_once_each_write_a_whole_file(tmp_path):
    path = str(tmp_path / "shared.bin")
    contents = [bytes([i]) * (1 << 18) for i in range(8)]
    threads = [threading.Thread(target=write_atomic, args=(path, c)) for c in contents]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert open(path, "rb").read() in contents and leftovers(tmp_path) == []


def test_a_missing_folder_is_an_os_error(tmp_path):
    with pytest.raises(OSError):
        write_atomic(str(tmp_path / "no" / "such" / "f"), b"x")


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links here")
def test_write_atomic_writes_through_a_link_and_keeps_it(tmp_path):
    # renaming over the link itself would leave the file it points to stale
    target, link = tmp_path / "real.json.gz", tmp_path / "link.json.gz"
    target.write_bytes(b"old")
    os.symlink(str(target), str(link))
    write_atomic(str(link), b"new")
    assert os.path.islink(str(link)) and target.read_bytes() == b"new"
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("through_a_link", [False, True])
def test_write_atomic_refuses_to_replace_what_is_no_regular_file(tmp_path, through_a_link):
    # a FIFO stands for every device: renaming over /dev/full or /dev/null
    # (run as root) replaced the device itself with a regular file
    fifo = str(tmp_path / "fifo")
    os.mkfifo(fifo)
    path = fifo
    if through_a_link:
        path = str(tmp_path / "link")
        os.symlink(fifo, path)
    with pytest.raises(OSError, match="not a regular file"):
        write_atomic(path, b"data")
    assert files.stat.S_ISFIFO(os.stat(fifo).st_mode) and leftovers(tmp_path) == []


@pytest.mark.parametrize("path", ["", "folder"])
def test_write_atomic_refuses_an_empty_name_and_a_folder(tmp_path, path):
    (tmp_path / "folder").mkdir()
    with pytest.raises(OSError):
        write_atomic(str(tmp_path / path) if path else "", b"data")
    assert (tmp_path / "folder").is_dir() and leftovers(tmp_path) == []


# ------------------------------------------------------------ read_limited

@pytest.fixture
def specials(tmp_path):
    """Paths that are no regular files: a folder, devices, a FIFO, a link to one."""
    found = {"folder": str(tmp_path)}
    for device in ("/dev/zero", "/dev/urandom", "/dev/null"):
        if os.path.exists(device):
            found[device] = device
    if hasattr(os, "mkfifo"):
        found["fifo"] = str(tmp_path / "fifo")
        os.mkfifo(found["fifo"])
    if hasattr(os, "symlink") and os.path.exists("/dev/zero"):
        found["link"] = str(tmp_path / "link")
        os.symlink("/dev/zero", found["link"])
    return found


@pytest.mark.parametrize("kind", ["folder", "/dev/zero", "/dev/urandom", "/dev/null", "fifo",
                                  "link"])
@pytest.mark.parametrize("reader", [
    lambda p: read_limited(p, 100, "data file"),
    lambda p: read_data(p, 100, "data file"),
    lambda p: open_data(p, 100, "data file"),
    read_numbers, read_idx, load_params, read_weights, load_arrays,
    lambda p: files.check_regular(p, "weights file"),
], ids=["read_limited", "read_data", "open_data", "read_numbers", "read_idx", "load_params",
        "read_weights", "load_arrays", "check_regular"])
def test_what_is_not_a_regular_file_is_refused_at_once(specials, kind, reader):
    if kind not in specials:
        pytest.skip("no %s on this system" % kind)
    with pytest.raises(DataError, match="not a regular file"):
        reader(specials[kind])


def test_a_file_over_the_limit_is_refused_naming_it(tmp_path):
    path = tmp_path / "big"
    path.write_bytes(b"x" * 101)
    with pytest.raises(DataError, match="big: 101 bytes, more than the 100 a pixel file"):
        read_limited(str(path), 100, "pixel file")
    assert read_limited(str(path), 101) == b"x" * 101


def test_a_missing_file_is_the_usual_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_limited(str(tmp_path / "missing"), 100)


# ------------------------------------------------------------------ gunzip

@settings(max_examples=60, deadline=None, derandomize=True)
@given(data=st.binary(max_size=2000), level=st.integers(0, 9))
def test_gunzip_gives_back_what_gzip_compressed(data, level):
    assert gunzip(gzip.compress(data, compresslevel=level), len(data)) == data


@settings(max_examples=60, deadline=None, derandomize=True)
@given(data=st.binary(min_size=1, max_size=500), cut=st.integers(0, 10 ** 6))
def test_every_truncated_gzip_is_a_data_error(data, cut):
    whole = gzip.compress(data)
    cut = 2 + cut % (len(whole) - 2)     # it still starts with gzip's magic
    with pytest.raises(DataError, match="broken gzip data"):
        gunzip(whole[:cut], 10 ** 6)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(data=st.binary(min_size=1, max_size=500), at=st.integers(2, 10 ** 6),
       flip=st.integers(1, 255))
@example(data=b"abc" * 50, at=10, flip=0x55)          # the first deflate byte: was zlib.error
def test_a_corrupted_gzip_gives_the_data_or_a_data_error(data, at, flip):
    mangled = bytearray(gzip.compress(data))
    mangled[at % len(mangled)] ^= flip
    try:
        out = gunzip(bytes(mangled), 10 ** 6)
    except DataError:
        return
    if not files.is_gzip(mangled):   # the magic itself changed: not gzip, given back as is
        assert out == mangled
    else:                   # only header bytes (time stamp, OS) may change unnoticed
        assert out == data


def test_gunzip_stops_a_bomb_at_its_limit():
    bomb = gzip.compress(bytes(64 << 20))      # 64 KB of gzip, 64 MiB of zeros
    with pytest.raises(DataError, match="more than 1000 bytes once decompressed"):
        gunzip(bomb, 1000, "weights file")


def test_several_gzip_members_are_one_stream():
    assert gunzip(gzip.compress(b"ab") + gzip.compress(b"cd"), 10) == b"abcd"


@pytest.mark.parametrize("tail, words", [(b"garbage", "7 bytes after the end of the gzip"),
                                         (b"\x00" * 4, "4 bytes after the end of the gzip")])
def test_bytes_after_the_gzip_stream_are_refused(tail, words):
    with pytest.raises(DataError, match=words):
        gunzip(gzip.compress(b"data") + tail, 100)


def test_data_that_is_not_gzipd_is_returned_within_the_limit():
    assert gunzip(b"plain", 5) == b"plain"
    with pytest.raises(DataError, match="6 bytes, more than the 5"):
        gunzip(b"plain!", 5)


def test_open_data_decompresses_only_what_is_read():
    stream = open_data(gzip.compress(b"0123456789" * 1000), 10 ** 6, "example")
    assert stream.read(3) == b"012" and stream.read(4) == b"3456"
    assert len(stream.read(10 ** 6)) == 10000 - 7 and stream.read(1) == b""


# ------------------------------------------------------------ read_numbers

def write(tmp_path, content):
    path = tmp_path / "pixels.txt"
    path.write_bytes(content)
    return str(path)


@pytest.mark.parametrize("content, numbers", [
    (b"0 0.5 1\n", [0.0, 0.5, 1.0]),
    (b"1,2,3", [1.0, 2.0, 3.0]),
    (b"  1e-3\t-2\r\n+4  ", [0.001, -2.0, 4.0]),
    (b"", []),
])
def test_read_numbers_reads_numbers_separated_by_spaces_or_commas(tmp_path, content, numbers):
    assert read_numbers(write(tmp_path, content)) == numbers


@pytest.mark.parametrize("content, words", [
    (b"1 nan 2", "number 2 is 'nan', not a finite number"),
    (b"1 2 inf", "number 3 is 'inf'"),
    (b"1e999", "number 1 is '1e999'"),
    (b"1 two", "number 2 is 'two'"),
    (b"1 \x1b[2J", r"number 2 is '\\x1b\[2J'"),
    (b"1 " + b"9" * 5000 + b"x", r"number 2 is '99999.*\(5001 characters\)"),
    (b"\x89PNG\r\n\x1a\n\xff", "not a text file"),
])
def test_read_numbers_refuses_what_is_not_a_finite_number_quoting_it(tmp_path, content, words):
    with pytest.raises(DataError, match=words) as e:
        read_numbers(write(tmp_path, content), "pixel file")
    assert str(e.value).isprintable() and len(str(e.value)) < 300


def test_read_numbers_is_bounded(tmp_path):
    with pytest.raises(DataError, match="more than the 1048576"):
        read_numbers(write(tmp_path, b"1 " * (1 << 20)))


# ------------------------------------------------------------------- quote

@pytest.mark.parametrize("obj, text", [
    ("W1", "'W1'"),
    ("a\nb", "'a\\nb'"),
    ("\x1b[31m", "'\\x1b[31m'"),
    ("\u202e", "'\\u202e'"),
    ("x" * 100, "'" + "x" * 59 + "... (100 characters)"),
    (b"\x00" * 100, repr(b"\x00" * 60)[:60] + "... (100 bytes)"),
    (2 ** 1000, "an int of 1001 bits"),
    (1.5, "1.5"),
    ((2, 3), "(2, 3)"),
    ([[1], [2]], "a list"),
    ({"a": 1}, "a dict"),
    (((), ()), "a tuple"),
], ids=lambda v: type(v).__name__)
def test_quote_shows_content_escaped_and_short(obj, text):
    assert quote(obj) == text


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.text() | st.binary(), st.integers(1, 80))
def test_quote_is_always_one_printable_line_of_bounded_length(obj, limit):
    text = quote(obj, limit)
    assert text.isprintable() and len(text) <= limit + 30


# --------------------------------------------------------------- cache_dir

@pytest.mark.parametrize("name, text", [
    ("weights.json.gz", "weights.json.gz"),
    ("my weights/é.pkl", "my weights/é.pkl"),
    ("a\x1b[2Jb", "'a\\x1b[2Jb'"),
    ("two\nlines", "'two\\nlines'"),
    ("\udcff\udcfe.svg", "'\\udcff\\udcfe.svg'"),       # bytes that are not UTF-8
    ("x" * 300, "'%s... (300 characters)" % ("x" * 199)),
])
def test_shown_gives_a_printable_name_itself_and_escapes_any_other(name, text):
    assert files.shown(name) == text


@pytest.mark.parametrize("reader", [read_idx, load_params, read_weights, load_arrays,
                                    read_numbers])
def test_a_file_name_with_escapes_is_escaped_in_the_message(tmp_path, reader):
    path = tmp_path / "a\x1b[31m\nb"
    path.write_bytes(b"\x1b[2J not what any reader reads\n")
    with pytest.raises(DataError) as e:
        reader(str(path))
    assert "\x1b" not in str(e.value) and "\n" not in str(e.value)
    assert "a\\x1b[31m\\nb" in str(e.value)


def test_the_cache_folder_follows_xdg_cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == str(tmp_path / "purenn")


def test_a_relative_xdg_cache_home_is_ignored(monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    assert cache_dir() == os.path.join(os.path.expanduser("~"), ".cache", "purenn")


def test_zlib_errors_never_escape_gunzip():
    # a valid header, then a deflate block of the reserved type 3
    broken = gzip.compress(b"x")[:10] + bytes([0x07]) + b"\x00" * 20
    with pytest.raises(DataError, match="broken gzip data"):
        gunzip(broken, 100)
    assert issubclass(DataError, ValueError) and not issubclass(zlib.error, DataError)


@pytest.mark.skipif(not hasattr(os, "umask") or sys.platform in ("win32", "emscripten"),
                    reason="POSIX permissions (Pyodide's in-memory file system ignores the umask)")
def test_a_new_file_gets_the_usual_permissions_and_a_rewritten_one_keeps_its_own(tmp_path):
    old_umask = os.umask(0o022)
    try:
        fresh = str(tmp_path / "fresh.bin")
        write_atomic(fresh, b"x")
        assert os.stat(fresh).st_mode & 0o777 == 0o644      # as open() makes it, not 0o600
        kept = str(tmp_path / "kept.bin")
        write_atomic(kept, b"x")
        os.chmod(kept, 0o640)
        write_atomic(kept, b"y")
        assert os.stat(kept).st_mode & 0o777 == 0o640
    finally:
        os.umask(old_umask)
