"""The review server under hostile or careless clients: deep JSON, oversized, missing,
chunked and slow bodies, clients that vanish mid-answer, and requests for another Host.
Each answer is a status code and a short JSON or text line; the reviewer's terminal
(stderr) stays empty and the server keeps serving."""

from __future__ import annotations

import http.client
import json
import select
import shutil
import socket
import struct
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pytest

from infopack.review.model import load_bundle
from infopack.review.server import MAX_BODY, ReviewApp, make_server, nested_deeper_than


@pytest.fixture(scope="module")
def served(built, tmp_path_factory):
    """A real review server on a copy of the real build, in a thread; yields (server, app)."""
    out = tmp_path_factory.mktemp("hardening") / "out"
    shutil.copytree(built, out)
    app = ReviewApp(load_bundle(out), "ko", "anonymous")
    server = make_server(app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, app
    server.shutdown()
    server.server_close()


@pytest.fixture
def quick_timeouts(served, monkeypatch):
    """Timeouts of a second, so slow clients can be tried in a test."""
    handler = served[0].RequestHandlerClass
    monkeypatch.setattr(handler, "timeout", 1)
    monkeypatch.setattr(handler, "request_seconds", 1)


def port_of(served) -> int:
    return served[0].server_address[1]


def exchange(port: int, data: bytes, *, timeout: float = 10) -> tuple[int, bytes]:
    """Send raw bytes, read until the server closes; (status, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        return read_response(sock)


def read_response(sock: socket.socket) -> tuple[int, bytes]:
    """Everything until the server closes (a reset after the answer, for a body it did not read, ends it too)."""
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        assert received, "reset before any answer"
    head, _, body = received.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def post(port: int, token: str, body: bytes, *, headers: str = "", length: int | None = None) -> bytes:
    declared = f"Content-Length: {len(body) if length is None else length}\r\n" if length != -1 else ""
    return (f"POST /api/decision HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Review-Token: {token}\r\n"
            f"Content-Type: application/json\r\n{declared}{headers}\r\n").encode() + body


def get_status(port: int, path: str, host: str | None = None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers={"Host": host} if host else {})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status


def still_serves(served) -> None:
    server, app = served
    assert get_status(port_of(served), f"/api/decisions?token={app.token}") == 200


def largest_card_file(app: ReviewApp) -> tuple[str, int]:
    name, card_file = max(app.files.items(), key=lambda kv: kv[1].absolute.stat().st_size)
    return quote(name), card_file.absolute.stat().st_size


# --------------------------------------------------------------------------- bodies

def test_json_nested_5000_deep_is_400_and_the_server_stays_quiet_and_up(served, capfd):
    _, app = served
    port = port_of(served)
    for deep in (b"[" * 5000 + b"]" * 5000, b'{"a":' * 5000 + b"1" + b"}" * 5000, b"[" * 21 + b"]" * 21):
        status, body = exchange(port, post(port, app.token, deep))
        assert status == 400 and json.loads(body) == {"error": "JSON nested deeper than 20 levels"}
    shallow = b'{"item": "clip-01", "decision": "approve", "comment": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}'
    status, body = exchange(port, post(port, app.token, shallow, headers="Connection: close\r\n"))
    assert status == 200 and json.loads(body)["decisions"]["clip-01"]["comment"].startswith("[[[")
    still_serves(served)
    assert capfd.readouterr().err == ""


def test_nesting_is_counted_outside_strings_only():
    assert not nested_deeper_than('{"a": "[[[[[[", "b": [["\\"[[[["]]}', 3)
    assert nested_deeper_than('[{"a": [[1]]}]', 3) and not nested_deeper_than('[{"a": [[1]]}]', 4)
    assert nested_deeper_than('["\\\\", [[[[', 3)       # an escaped backslash ends before the quote
    assert not nested_deeper_than('"unclosed [[[[[[', 1)


def test_a_declared_body_over_the_cap_is_refused_before_it_is_sent(served, capfd):
    _, app = served
    port = port_of(served)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(post(port, app.token, b"[" * 4096, length=100_000_000))
        started = time.monotonic()
        status, body = read_response(sock)
    assert status == 413 and json.loads(body) == {"error": f"request body over {MAX_BODY} bytes"}
    assert time.monotonic() - started < 5
    still_serves(served)
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("headers, length, status, error", [
    ("", -1, 411, "a Content-Length is required"),
    ("Transfer-Encoding: chunked\r\n", -1, 411, "send the body with a Content-Length, not chunked"),
    ("Content-Length: 12\r\n", None, 400, "bad Content-Length"),
    ("", "5" * 20, 400, "bad Content-Length"),
])
def test_an_undeclared_chunked_or_ambiguous_body_is_refused(served, capfd, headers, length, status, error):
    _, app = served
    port = port_of(served)
    big = b'{"comment": "' + b"x" * (2 * MAX_BODY) + b'"}'
    request = post(port, app.token, big, headers=headers, length=length)
    got, body = exchange(port, request)
    assert got == status and json.loads(body) == {"error": error}
    still_serves(served)
    assert capfd.readouterr().err == ""


def test_a_body_shorter_than_declared_or_not_json_is_400(served, capfd):
    _, app = served
    port = port_of(served)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(post(port, app.token, b'{"item"', length=50))
        sock.shutdown(socket.SHUT_WR)
        status, body = read_response(sock)
    assert status == 400 and json.loads(body) == {"error": "request body shorter than its Content-Length"}
    for bad, error in ((b"\xff\xfe", "the request body is not UTF-8"), (b"{'a': 1}", "the request body is not JSON")):
        status, body = exchange(port, post(port, app.token, bad))
        assert status == 400 and json.loads(body) == {"error": error}
    assert capfd.readouterr().err == ""


def test_a_slow_body_or_head_does_not_hold_a_thread(served, quick_timeouts, capfd):
    _, app = served
    port = port_of(served)
    for start, trickle in ((post(port, app.token, b"", length=100), b" "),        # a body sent a byte at a time
                           (b"GET /?token=", b"x")):                            # a request line sent the same way
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(start)
            started, closed = time.monotonic(), False
            while not closed and time.monotonic() - started < 8:
                try:
                    sock.sendall(trickle)
                    readable, _, _ = select.select([sock], [], [], 0.3)
                    closed = bool(readable) and not sock.recv(1024)
                except OSError:
                    closed = True
            assert closed and time.monotonic() - started < 4
    still_serves(served)
    assert capfd.readouterr().err == ""


# --------------------------------------------------------------------------- disconnects

def test_fifty_clients_dropping_a_range_request_leave_no_trace(served, capfd):
    _, app = served
    port = port_of(served)
    name, size = largest_card_file(app)
    assert size > 100_000

    def drop_early(_):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.sendall(f"GET /files/{name}?token={app.token} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                         f"Range: bytes=0-\r\n\r\n".encode())
            assert sock.recv(64).startswith(b"HTTP/1.1 206")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))     # close with a reset

    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(drop_early, range(50)))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GE")                     # half a request line, then gone
    time.sleep(0.5)
    still_serves(served)
    assert capfd.readouterr().err == ""


def test_an_unexpected_fault_is_one_line_and_a_500(served, capfd, monkeypatch):
    _, app = served
    port = port_of(served)
    monkeypatch.delenv("INFOPACK_DEBUG", raising=False)

    def broken_page():
        raise RuntimeError("disk on fire \x1b[2J")         # a terminal escape must not reach the terminal
    monkeypatch.setattr(app, "page", broken_page)
    assert get_status(port, f"/?token={app.token}") == 500
    assert capfd.readouterr().err == ("infopack: internal error answering GET /: RuntimeError: disk on fire ?[2J "
                                      "(run with --debug for details)\n")
    monkeypatch.setenv("INFOPACK_DEBUG", "1")
    assert get_status(port, f"/?token={app.token}") == 500
    assert "Traceback" in capfd.readouterr().err
    still_serves(served)


# --------------------------------------------------------------------------- Host

@pytest.mark.parametrize("host", ["evil.example:{port}", "127.0.0.1:{other}", "localhost", "127.0.0.1",
                                  "127.0.0.1:{port}.evil.example", "[::1]:{port}"])
def test_a_request_for_another_host_is_403_before_the_token(served, host):
    _, app = served
    port = port_of(served)
    host = host.format(port=port, other=port + 1 if port < 65535 else port - 1)
    assert get_status(port, f"/?token={app.token}", host) == 403
    status, _ = exchange(port, post(port, app.token, b"{}").replace(f"Host: 127.0.0.1:{port}".encode(),
                                                                     f"Host: {host}".encode()))
    assert status == 403
    status, _ = exchange(port, f"PUT / HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    assert status == 403


def test_a_request_without_host_or_with_two_is_403(served):
    _, app = served
    port = port_of(served)
    for request in (f"GET /?token={app.token} HTTP/1.0\r\n\r\n",
                    f"GET /?token={app.token} HTTP/1.1\r\nConnection: close\r\n\r\n",
                    f"GET /?token={app.token}\r\n\r\n",
                    f"GET /?token={app.token} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nHost: evil.example\r\n\r\n"):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(request.encode())
            received = b""
            while chunk := sock.recv(65536):
                received += chunk
        assert b"forbidden: the Host header" in received and b"<html" not in received
        assert received.startswith((b"HTTP/1.1 403", b"HTTP/1.0 403", b"forbidden"))


def test_expect_100_continue_is_only_granted_to_this_host(served):
    _, app = served
    port = port_of(served)
    body = b'{"item": "clip-02", "decision": "changes", "comment": "expect"}'
    for host, first in (("evil.example", b"HTTP/1.1 403"), (f"localhost:{port}", b"HTTP/1.1 100 Continue\r\n\r\n")):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(post(port, app.token, body, headers="Expect: 100-continue\r\nConnection: close\r\n")
                         [:-len(body)].replace(f"Host: 127.0.0.1:{port}".encode(), f"Host: {host}".encode()))
            assert sock.recv(len(first)) == first
            if first.startswith(b"HTTP/1.1 100"):
                sock.sendall(body)
                status, answer = read_response(sock)
                assert status == 200 and json.loads(answer)["decisions"]["clip-02"]["comment"] == "expect"


def test_an_absolute_form_target_is_refused(served):
    _, app = served
    port = port_of(served)
    status, _ = exchange(port, f"GET http://evil.example/?token={app.token} HTTP/1.1\r\n"
                               f"Host: 127.0.0.1:{port}\r\n\r\n".encode())
    assert status == 400


def test_this_servers_own_names_are_accepted_in_any_case(served):
    _, app = served
    port = port_of(served)
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LocalHost:{port}"):
        assert get_status(port, f"/?token={app.token}", host) == 200
        assert get_status(port, "/", host) == 403                        # the token is still needed
    assert get_status(port, f"/?token={app.token}") == 200               # http.client's own Host header
