"""HTTP servers on 127.0.0.1 that misbehave, for the downloader's tests.

``misbehaving(behaviour)`` is a context manager giving the base URL of a raw
TCP server on 127.0.0.1 (loopback only, a free port) that answers every
request with ``behaviour(conn, done)``: one bad behaviour each, below.  Every
behaviour stops by itself (after ``SERVER_SECONDS`` at most, or when the
client hangs up) and the server stops when the ``with`` block ends.
"""
import contextlib
import gzip
import socket
import threading
import time

SERVER_SECONDS = 20


@contextlib.contextmanager
def misbehaving(behaviour):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.1)
    stop = threading.Event()
    end = time.monotonic() + SERVER_SECONDS

    def handle(conn):
        try:
            conn.settimeout(SERVER_SECONDS)
            request = b""
            while b"\r\n\r\n" not in request and len(request) < 65536:
                piece = conn.recv(4096)
                if not piece:
                    return
                request += piece
            behaviour(conn, lambda: stop.is_set() or time.monotonic() > end)
        except OSError:
            pass                                    # the client hung up: done
        finally:
            conn.close()

    def serve():
        while not stop.is_set() and time.monotonic() < end:
            try:
                conn, _ = listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield "http://127.0.0.1:%d/" % listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def slow_body(conn, done):        # one byte every 0.2 s: never a read timeout
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10008\r\n\r\n")
    while not done():
        conn.sendall(b"\0")
        time.sleep(0.2)


def slow_headers(conn, done):     # the status line, one byte every 0.2 s
    for byte in b"HTTP/1.1 200 OK\r\n" * 100:
        if done():
            return
        conn.sendall(bytes([byte]))
        time.sleep(0.2)


def endless(conn, done):          # no Content-Length, zeros until the client leaves
    conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
    while not done():
        conn.sendall(bytes(1 << 16))


def announces_a_terabyte(conn, done):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n" + bytes(1000))


def truncated_chunks(conn, done):
    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n100\r\n" + bytes(10))


def bad_status_line(conn, done):
    conn.sendall(b"GARBAGE \x1b[2J\x1b[31m not http\r\n\r\n")


def huge_header(conn, done):
    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n")


def many_headers(conn, done):
    conn.sendall(b"HTTP/1.1 200 OK\r\n" + b"X-H: 1\r\n" * 150 + b"\r\n")


def hangs_up(conn, done):
    pass


def redirects_to_a_local_file(conn, done):
    conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: file:///etc/passwd\r\nContent-Length: 0\r\n\r\n")


def not_found(conn, done):
    conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")


BOMB = gzip.compress(bytes(8 << 20))        # 8 KB that expand to 8 MB


def gzip_bomb(conn, done):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BOMB) + BOMB)
