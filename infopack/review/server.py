"""`infopack review serve`: the review app on 127.0.0.1, behind a random token.

Only four kinds of thing are ever read from disk for a request: the card files listed
in the signed manifests (looked up by exact name in a table made at start, never by
joining the request path to a folder), thumbnails and review copies (review/proxy.py)
made from those files, and the reviewer's own decisions. Anything else is 404; any
request without the token is 403. The page itself carries its CSS and script, and a Content-Security-Policy that
forbids the browser from contacting anything but this server.

Before the token, every request must name this server in its Host header (127.0.0.1 or
localhost with the real port), so a page on another site that rebinds its own name to
127.0.0.1 cannot talk to it. Bodies are bounded (size, JSON nesting, time), and a client
that goes away mid-answer (a seek in a video, a closed tab) is not an error: the
reviewer's terminal stays quiet.
"""

from __future__ import annotations

import hmac
import io
import json
import mimetypes
import os
import re
import secrets
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from http import HTTPStatus
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

from infopack.errors import InfopackError
from infopack.notes import Note, localise
from infopack.release.glossary_review import DECISIONS as GLOSSARY_DECISIONS
from infopack.release.glossary_review import load_review, record
from infopack.release.minisign import PublicKey
from infopack.release.trust import REVIEWER
from infopack.review import decisions as dec
from infopack.review.model import SIDECAR, SOFT, BundleView, CardFile, ItemView, vtt_for
from infopack.review.proxy import PROXY_DIR, ProxyCache, browser_plays
from infopack.review.render import SERVE, render_page
from infopack.review.signoff import sign_review, signed_items, withdraw_approval
from infopack.review.thumbs import ThumbCache
from infopack.subtitles.lint import load_glossary

HOST = "127.0.0.1"
COOKIE = "infopack_review"
CHUNK = 256 * 1024
MAX_BODY = 64 * 1024
MAX_JSON_DEPTH = 20
IO_TIMEOUT = 10             # seconds one read or write on a connection may wait
REQUEST_SECONDS = 10        # seconds from a request's first byte to its last
GONE = (ConnectionError, TimeoutError)      # the client went away or stalled: nothing to report
CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data: blob:; "
       "media-src 'self' blob:; connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'")
MEDIA_TYPES = {".mp4": "video/mp4", ".m4v": "video/mp4", ".m4a": "audio/mp4", ".mp3": "audio/mpeg",
               ".avi": "video/x-msvideo", ".mkv": "video/x-matroska", ".webm": "video/webm",
               ".srt": "text/plain; charset=utf-8", ".smi": "text/plain", ".jpg": "image/jpeg", ".png": "image/png"}
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_THUMB = re.compile(r"^/thumbs/(?P<item>[^/]+)/(?P<what>poster|sheet|pages)\.png$")
_VTT = re.compile(r"^/subs/(?P<item>[^/]+)\.vtt$")
_PROXY = re.compile(r"^/proxy/(?P<item>[^/]+)\.mp4$")
_CONTENT_LENGTH = re.compile(r"[0-9]{1,12}")
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[][{}]', re.S)    # a string (maybe unclosed) or a bracket
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def nested_deeper_than(text: str, limit: int) -> bool:
    """Whether JSON `text` opens more than `limit` arrays/objects inside each other.

    Checked before `json.loads`, whose C scanner recurses once per level and raises
    RecursionError near the interpreter's limit (about 1,000). Brackets inside strings
    do not count; a valid prefix is split into strings exactly as the parser splits it,
    so the parser can never be deeper than this count.
    """
    depth = 0
    for token in _JSON_TOKEN.finditer(text):
        bracket = token.group()
        if bracket in ("[", "{"):
            depth += 1
            if depth > limit:
                return True
        elif bracket in ("]", "}"):
            depth -= 1
    return False


class Refused(Exception):
    """A request body this server will not take: the status and one line for the client."""

    def __init__(self, status: HTTPStatus, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def report_unexpected(doing: str) -> None:
    """One line on the reviewer's terminal for a server fault (the traceback with INFOPACK_DEBUG)."""
    kind, error, _ = sys.exc_info()
    if os.environ.get("INFOPACK_DEBUG"):
        traceback.print_exc()
        return
    line = f"infopack: internal error {doing}: {kind.__name__}: {error} (run with --debug for details)"
    print(_CONTROL.sub("?", line), file=sys.stderr, flush=True)


class _DeadlineInput(io.RawIOBase):
    """A connection's input that gives each request `seconds` from its first byte to its last.

    The socket timeout bounds each wait; this bounds their sum, so a client trickling a
    byte at a time cannot hold a thread for ever.
    """

    def __init__(self, connection, seconds: float):
        self._socket_input = connection.makefile("rb", buffering=0)
        self.seconds = seconds
        self.deadline: float | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int | None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise TimeoutError("request not received in time")
        count = self._socket_input.readinto(buffer)
        if count and self.deadline is None:
            self.deadline = time.monotonic() + self.seconds
        return count

    def close(self) -> None:
        self._socket_input.close()
        super().close()


@dataclass
class ReviewApp:
    """Everything a request handler may use; built once when the server starts."""
    view: BundleView
    lang: str
    reviewer: str
    signing_key: object | None = None           # infopack.release.keys.SigningKey, when the reviewer gave one
    public_key: PublicKey | None = None         # the reviewer's, to check their own sign-off (a .pub is enough)
    role: str = REVIEWER
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    thumbs: ThumbCache | None = None
    files: dict = field(default_factory=dict)
    proxied: dict[str, CardFile] = field(default_factory=dict)     # item -> card file played from a review copy
    proxies: ProxyCache | None = None
    glossary_pairs: set[tuple[str, str]] = field(default_factory=set)     # (sk, nk) of every glossary entry
    sign_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self):
        self.files = self.view.served_files()
        if self.public_key is None and self.signing_key is not None:
            self.public_key, self.role = self.signing_key.public, self.signing_key.role
        if self.thumbs is None:
            self.thumbs = ThumbCache(dec.reviews_dir(self.view.out) / ".thumbs")
        if self.proxies is None:
            self.proxies = ProxyCache(dec.reviews_dir(self.view.out) / PROXY_DIR)
        self.proxied = {item.id: item.main for item in self.view.items
                        if item.kind_handler.player and item.main is not None and not browser_plays(item.main)}
        self.glossary_pairs = {(e.sk, e.nk) for e in load_glossary()}

    def make_proxies(self) -> threading.Thread | None:
        """Start making every review copy in the background (a request for one waits for it)."""
        if not self.proxied:
            return None
        thread = threading.Thread(target=self._make_all_proxies, daemon=True)
        thread.start()
        return thread

    def _make_all_proxies(self) -> None:
        for item_id in sorted(self.proxied):
            self.proxies.get(self.proxied[item_id], self.view.item(item_id).duration)

    def signed(self) -> set[str] | None:
        """Items the reviewer's valid approval signatures cover (None without their public key)."""
        return None if self.public_key is None else signed_items(self.view.out, self.public_key, self.role)

    def page(self) -> str:
        return render_page(
            self.view, mode=SERVE, lang=self.lang, token=self.token, reviewer=self.reviewer,
            decisions=dec.load_decisions(self.view.out, self.reviewer), can_sign=self.signing_key is not None,
            thumb=lambda item, what: (f"thumbs/{quote(item.id)}/{what}.png"
                                      if item.main is not None and what in item.kind_handler.thumbnails else None),
            media_src=lambda item: (f"proxy/{quote(item.id)}.mp4" if item.id in self.proxied
                                    else f"files/{quote(item.main.url_path)}" if item.main is not None else None),
            track_src=lambda item: f"subs/{quote(item.id)}.vtt" if item.transcript_source in (SIDECAR, SOFT) else None,
            signed=self.signed(), proxied=frozenset(self.proxied),
            glossary=None if self.reviewer == dec.ANONYMOUS else load_review(self.view.out, self.reviewer).decisions)


class ReviewServer(ThreadingHTTPServer):
    """One thread per connection; a fault outside a request's action is one line, a client gone is nothing."""
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], GONE):
            report_unexpected("with a request")


def make_server(app: ReviewApp, port: int = 0) -> ReviewServer:
    handler = type("Handler", (ReviewHandler,), {"app": app})
    try:
        return ReviewServer((HOST, port), handler)
    except OSError as exc:
        raise InfopackError(None, f"cannot listen on {HOST}:{port}: {exc.strerror}; choose another --port") from None


def url_for(server: ThreadingHTTPServer, app: ReviewApp) -> str:
    return f"http://{HOST}:{server.server_address[1]}/?token={app.token}"


class ReviewHandler(BaseHTTPRequestHandler):
    app: ReviewApp
    server_version = "review"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    timeout = IO_TIMEOUT
    request_seconds = REQUEST_SECONDS

    def log_message(self, format, *args):      # noqa: A002 - the reviewer's terminal stays quiet
        pass

    # ------------------------------------------------------------------ connection

    def setup(self) -> None:
        super().setup()
        self.rfile.close()                      # replaced by an input that keeps to the request deadline
        self._input = _DeadlineInput(self.connection, self.request_seconds)
        self.rfile = io.BufferedReader(self._input)

    def handle_one_request(self) -> None:
        self._input.deadline = None
        self._response_started = False
        super().handle_one_request()

    def send_response(self, code, message=None) -> None:
        self._response_started = True
        super().send_response(code, message)

    def parse_request(self) -> bool:
        """http.server's parsing, then the Host check before anything else looks at the request."""
        if not (super().parse_request() and self._check_host()):
            return False
        if not self.path.startswith("/"):           # absolute-form targets would name another host
            self.close_connection = True
            self._send_text(HTTPStatus.BAD_REQUEST, "bad request target", head=self.command == "HEAD")
            return False
        return True

    def handle_expect_100(self) -> bool:
        return self._check_host() and super().handle_expect_100()

    def _check_host(self) -> bool:
        """Only requests for this very server: a DNS-rebinding page sends its own name as Host."""
        port = self.server.server_address[1]
        allowed = {f"127.0.0.1:{port}", f"localhost:{port}"} | ({"127.0.0.1", "localhost"} if port == 80 else set())
        hosts = self.headers.get_all("Host") or []
        if len(hosts) == 1 and hosts[0].strip().lower() in allowed:
            return True
        self.close_connection = True
        self._send_text(HTTPStatus.FORBIDDEN, f"forbidden: the Host header must be 127.0.0.1:{port}",
                        head=self.command == "HEAD")
        return False

    def _answer(self, action, *args) -> None:
        """Run one request's action. A client that goes away mid-answer (the browser seeks in a
        video by dropping the connection) is not an error; any other fault is one line on the
        terminal and a 500 if the response had not started."""
        try:
            action(*args)
        except GONE:
            self.close_connection = True
        except Exception:                       # noqa: BLE001 - the reviewer sees one line, not a traceback
            self.close_connection = True
            report_unexpected(f"answering {self.command} {urlsplit(self.path).path}")
            if not self._response_started:
                try:
                    self._send_json(HTTPStatus.INTERNAL_SERVER_ERROR,
                                    {"error": "internal error: see the terminal running `infopack review serve`"})
                except GONE:
                    pass

    # ------------------------------------------------------------------ access

    def _authorised(self) -> bool:
        query = parse_qs(urlsplit(self.path).query)
        given = (query.get("token") or [""])[0] or self.headers.get("X-Review-Token", "")
        if not given:
            cookie = SimpleCookie()
            try:
                cookie.load(self.headers.get("Cookie", ""))
            except Exception:                   # noqa: BLE001 - a malformed cookie is no token
                return False
            given = cookie[COOKIE].value if COOKIE in cookie else ""
        return bool(given) and hmac.compare_digest(given.encode(), self.app.token.encode())

    def _path(self) -> str:
        return unquote(urlsplit(self.path).path, errors="strict")

    def do_GET(self):                           # noqa: N802 - http.server's naming
        self._answer(self._dispatch, False)

    def do_HEAD(self):                          # noqa: N802
        self._answer(self._dispatch, True)

    def _dispatch(self, head: bool) -> None:
        if not self._authorised():
            return self._send_text(HTTPStatus.FORBIDDEN, "forbidden: open the URL that `infopack review serve` printed")
        try:
            path = self._path()
        except UnicodeDecodeError:
            return self._not_found()
        if path == "/":
            body = self.app.page().encode("utf-8")
            return self._send(HTTPStatus.OK, body, "text/html; charset=utf-8", head=head, cookie=True)
        if path == "/api/decisions":
            return self._send_json(HTTPStatus.OK, self._decisions_body())
        if path.startswith("/files/"):
            card_file = self.app.files.get(path[len("/files/"):])
            return self._send_file(card_file.absolute, head) if card_file else self._not_found()
        match = _THUMB.match(path)
        if match:
            return self._send_thumb(match["item"], match["what"], head)
        match = _PROXY.match(path)
        if match:
            item = self.app.view.item(match["item"])
            card_file = self.app.proxied.get(match["item"])
            proxy = self.app.proxies.get(card_file, item.duration) if card_file else None
            return self._send_file(proxy, head) if proxy else self._not_found()
        match = _VTT.match(path)
        if match:
            item = self.app.view.item(match["item"])
            text = vtt_for(item) if item else None
            if text is None:
                return self._not_found()
            return self._send(HTTPStatus.OK, text.encode("utf-8"), "text/vtt; charset=utf-8", head=head)
        return self._not_found()

    def do_POST(self):                          # noqa: N802
        self._answer(self._post)

    def _post(self) -> None:
        # POSTs need the token in a header: a cookie alone is what a forged form would carry.
        given = self.headers.get("X-Review-Token", "")
        if not given or not hmac.compare_digest(given.encode(), self.app.token.encode()):
            self.close_connection = True        # its body stays unread
            return self._send_text(HTTPStatus.FORBIDDEN, "forbidden")
        path = urlsplit(self.path).path
        try:
            body = self._read_json()
            if path == "/api/decision":
                return self._post_decision(body)
            if path == "/api/signoff":
                return self._post_signoff()
            if path == "/api/withdraw":
                return self._post_withdraw(body)
            if path == "/api/glossary":
                return self._post_glossary(body)
        except Refused as exc:
            self.close_connection = True        # what is left of the body must not be read as a request
            return self._send_json(exc.status, {"error": exc.message})
        except InfopackError as exc:
            return self._send_json(HTTPStatus.BAD_REQUEST, {"error": localise(exc.problem, self.app.lang)})
        return self._not_found()

    # ------------------------------------------------------------------ actions

    def _decisions_body(self) -> dict:
        found = dec.load_decisions(self.app.view.out, self.app.reviewer)
        return {"reviewer": self.app.reviewer, "decisions": {k: v.to_dict() for k, v in sorted(found.items())}}

    def _post_decision(self, body) -> None:
        known = {i.id for i in self.app.view.items}
        if not isinstance(body, dict) or not isinstance(body.get("item"), str):
            raise InfopackError(None, "expected {\"item\": ID, \"decision\": ..., \"comment\": ...}")
        decision = dec.parse_decision(body["item"], {"decision": body.get("decision"),
                                                     "comment": body.get("comment", "")}, None, known)
        dec.record(self.app.view.out, self.app.reviewer, self.app.view.bundle, body["item"], decision)
        self._send_json(HTTPStatus.OK, self._decisions_body())

    def _signing_key(self):
        if self.app.signing_key is None:
            raise InfopackError(None, Note("review-no-key"))
        return self.app.signing_key

    def _post_signoff(self) -> None:
        with self.app.sign_lock:
            items = sign_review(self.app.view.out, self._signing_key())
            self._send_json(HTTPStatus.OK, {"items": items, "signed": sorted(self.app.signed() or ())})

    def _post_withdraw(self, body) -> None:
        if not isinstance(body, dict) or self.app.view.item(body.get("item")) is None:
            raise InfopackError(None, "expected {\"item\": ID} of an item in this build")
        with self.app.sign_lock:
            withdrawn = withdraw_approval(self.app.view.out, self._signing_key(), self.app.view.bundle,
                                          [body["item"]])
            self._send_json(HTTPStatus.OK, {"withdrawn": withdrawn, "signed": sorted(self.app.signed() or ()),
                                            **self._decisions_body()})

    def _post_glossary(self, body) -> None:
        if self.app.reviewer == dec.ANONYMOUS:
            raise InfopackError(None, Note("review-no-key"))
        if not isinstance(body, dict) or body.get("decision") not in (*GLOSSARY_DECISIONS, None):
            raise InfopackError(None, "expected {\"sk\": ..., \"nk\": ..., \"decision\": \"confirm\", "
                                      "\"reject\" or null}")
        pair = (body.get("sk"), body.get("nk"))
        if pair not in self.app.glossary_pairs:
            raise InfopackError(None, Note("review-glossary-unknown", sk=str(pair[0])[:80], nk=str(pair[1])[:80]))
        with self.app.sign_lock:
            review = record(self.app.view.out, self.app.reviewer, pair, body["decision"], self.app.signing_key)
        self._send_json(HTTPStatus.OK, {"glossary": {f"{sk}\t{nk}": d for (sk, nk), d in review.decisions.items()},
                                        "signed": self.app.signing_key is not None})

    # ------------------------------------------------------------------ responses

    def _read_json(self):
        """The body as JSON, refused unless its length is declared, within MAX_BODY, and its
        nesting within MAX_JSON_DEPTH; nothing past the declared length is read."""
        if "Transfer-Encoding" in self.headers:
            raise Refused(HTTPStatus.LENGTH_REQUIRED, "send the body with a Content-Length, not chunked")
        declared = self.headers.get_all("Content-Length") or []
        if not declared:
            raise Refused(HTTPStatus.LENGTH_REQUIRED, "a Content-Length is required")
        if len(declared) != 1 or not _CONTENT_LENGTH.fullmatch(declared[0].strip()):
            raise Refused(HTTPStatus.BAD_REQUEST, "bad Content-Length")
        length = int(declared[0])
        if length > MAX_BODY:
            raise Refused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"request body over {MAX_BODY} bytes")
        data = self.rfile.read(length)
        if len(data) < length:
            raise Refused(HTTPStatus.BAD_REQUEST, "request body shorter than its Content-Length")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise Refused(HTTPStatus.BAD_REQUEST, "the request body is not UTF-8") from None
        if nested_deeper_than(text, MAX_JSON_DEPTH):
            raise Refused(HTTPStatus.BAD_REQUEST, f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        try:
            return json.loads(text or "null")
        except ValueError:
            raise Refused(HTTPStatus.BAD_REQUEST, "the request body is not JSON") from None

    def _send_thumb(self, item_id: str, what: str, head: bool) -> None:
        item: ItemView | None = self.app.view.item(item_id)
        main = item.main if item else None
        data = self.app.thumbs.get(item.kind_handler, main.absolute, main.sha256, item.duration, what) if main else None
        if data is None:
            return self._not_found()
        self._send(HTTPStatus.OK, data, "image/png", head=head)

    def _send_file(self, path: Path, head: bool) -> None:
        """A card file, with byte ranges so the browser can seek in the video."""
        try:
            handle = path.open("rb")
        except OSError:
            return self._not_found()
        with handle:
            size = path.stat().st_size
            start, end, status = 0, size - 1, HTTPStatus.OK
            wanted = self.headers.get("Range")
            if wanted:
                match = _RANGE.match(wanted.strip())
                first, last = (match.group(1), match.group(2)) if match else ("", "")
                if not match or (not first and not last):
                    return self._range_not_satisfiable(size)
                if first:
                    start, end = int(first), min(int(last), size - 1) if last else size - 1
                else:
                    start = max(0, size - int(last))
                if start > end or start >= size:
                    return self._range_not_satisfiable(size)
                status = HTTPStatus.PARTIAL_CONTENT
            self.send_response(status)
            self.send_header("Content-Type", MEDIA_TYPES.get(path.suffix.lower())
                             or mimetypes.guess_type(path.name)[0] or "application/octet-stream")
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(end - start + 1))
            if status == HTTPStatus.PARTIAL_CONTENT:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            self._common_headers()
            self.end_headers()
            if head:
                return
            handle.seek(start)
            left = end - start + 1
            while left > 0:
                chunk = handle.read(min(CHUNK, left))
                if not chunk:
                    break
                self.wfile.write(chunk)
                left -= len(chunk)
            if left:
                self.close_connection = True    # the file shrank under us: the answer is short

    def _range_not_satisfiable(self, size: int) -> None:
        self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
        self.send_header("Content-Range", f"bytes */{size}")
        self.send_header("Content-Length", "0")
        self._common_headers()
        self.end_headers()

    def _common_headers(self) -> None:
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-store")

    def _send(self, status: int, body: bytes, content_type: str, *, head: bool = False, cookie: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if cookie:
            self.send_header("Set-Cookie", f"{COOKIE}={self.app.token}; Path=/; HttpOnly; SameSite=Strict")
        self._common_headers()
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _send_text(self, status: int, text: str, *, head: bool = False) -> None:
        self._send(status, (text + "\n").encode("utf-8"), "text/plain; charset=utf-8", head=head)

    def _send_json(self, status: int, value) -> None:
        self._send(status, json.dumps(value, ensure_ascii=False).encode("utf-8"), "application/json")

    def _not_found(self) -> None:
        self._send_text(HTTPStatus.NOT_FOUND, "not found")
