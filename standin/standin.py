#!/usr/bin/env python3
"""Loopback stand-in of the ChatBotKit session API, for libchatbotkit's tests
and for developing a program against the library without an account.

Python 3 standard library only (plus the `openssl` command for --tls). It
listens on 127.0.0.1 only and answers the routes the library calls, the way
the real API does:

    POST [/api]/v1/conversation/{conversationId}/session/create
        -> 200 {"id": "cs_...", "token": "cbk_ct_...", "expiresAt": <epoch ms>}
    POST [/api]/v1/bot/{botId}/session/create
        -> 200 {"id": "cs_...", "token": "cbk_ct_...", "expiresAt": <epoch ms>,
                "conversationId": "cv_..."}
    POST [/api]/v1/conversation/{conversationId}/complete
        -> the reply, as JSON Lines of tokens with `accept: application/jsonl`

`expiresAt` is now + `durationInSeconds` of the request body (a positive
integer), or now + 3600 s when the body has none.

Checks, in this order: a known route (else 404 NOT_FOUND), the POST method
(else 405 METHOD_NOT_ALLOWED), `authorization: Bearer <secret>` (else 401
NOT_AUTHENTICATED), a body that is a JSON object (else 400 BAD_REQUEST), the
fault hooks below, `durationInSeconds` (else 400 BAD_REQUEST), then the id:
with --conversation-ids / --bot-ids, an id of that kind not in the list is
404 NOT_FOUND; without the list, every id of that kind exists. Errors are
JSON `{"message": ..., "code": ...}` with content-type application/json, as
the real API sends them.

Fault hooks, chosen by the id in the path (percent-decoded); a hook id is
never checked against the lists of known ids:

    fail-<status>   answers <status> (200-599) with {"message", "code"} JSON
    html-<status>   answers <status> (200-599) with an HTML body (text/html)
    slow-<ms>       sleeps <ms> (capped at 30000) and then succeeds
    flaky-<n>       answers 503 SERVICE_UNAVAILABLE to the first <n> requests
                    for that exact id, then succeeds

A 429 or 503 from a hook carries `Retry-After`: --retry-after SECONDS
(default 0, which leaves a client's own retry delay as it is). A hook id may
end in `-retry-after-<s>` (`Retry-After: <s>`) or `-retry-date-<s>` (an
HTTP-date <s> seconds ahead) instead, e.g. `fail-429-retry-after-2`,
`flaky-1-retry-date-3`.

Introspection (never recorded itself):

    GET    /_standin/requests  -> JSON array of the last 1000 requests, oldest
           first: [{"method", "path" (raw, as sent, without the query),
           "query" (raw, "" when none), "headers" (object, lowercased names,
           repeated headers joined with ", "), "body" (text, UTF-8 with
           replacement characters), "bodyBase64" (the exact bytes)}]
    DELETE /_standin/requests  -> 204; clears the list and the flaky-<n> counters

Usage:

    python3 standin/standin.py [--port N] [--port-file FILE] [--secret S]
        [--conversation-ids ID,ID...] [--bot-ids ID,ID...]
        [--retry-after SECONDS] [--tls [--ca-file FILE]] [--verbose]

The secret defaults to $CHATBOTKIT_API_SECRET, else "sk_standin_demo". Once
listening, it prints `chatbotkit stand-in listening on http://127.0.0.1:PORT`
on stdout (https with --tls, after the CA certificate's PEM), and writes the
port to FILE (and the CA to --ca-file) atomically. --tls makes a new CA and a
certificate for 127.0.0.1 and localhost signed by it, with openssl, at every
start; the CA's key is never written anywhere that outlives the start.
SIGTERM and SIGINT stop the server and exit with status 0; so does the end of
stdin with --stop-on-stdin-eof (launcher.py uses it, so that a launcher
killed without a chance to clean up takes its stand-in with it).
"""

from __future__ import annotations

import argparse
import base64
import collections
import email.utils
import http
import http.server
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import string
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

DEFAULT_SECRET = "sk_standin_demo"
MAX_RECORDED = 1000
MAX_BODY_BYTES = 64 * 1024 * 1024
MAX_SLOW_MS = 30000
ALPHANUMERIC = string.ascii_letters + string.digits
DEFAULT_SESSION_SECONDS = 3600
# expiresAt is read by JavaScript clients as a Number: beyond 2^53 - 1 ms it
# would no longer be exact, so longer durations are refused.
MAX_EXPIRES_AT_MS = 2**53 - 1
# A client that connects to the TLS port and never finishes its handshake
# must not hold a thread forever.
HANDSHAKE_TIMEOUT = 10.0
CERT_DAYS = 30

ROUTE = re.compile(r"^(?:/api)?/v1/(conversation|bot)/([^/]+)/session/create$")
# The conversation completion route, modelled on the real API: JSON Lines of
# tokens then the result with `accept: application/jsonl`, else the result.
COMPLETE = re.compile(r"^(?:/api)?/v1/conversation/([^/]+)/complete$")
# Between two tokens, as a model produces them.
TOKEN_DELAY = 0.02
HOOK = re.compile(r"^(fail|html|slow|flaky)-([0-9]{1,9})(?:-retry-(after|date)-([0-9]{1,5}))?$")
# The statuses whose Retry-After the library honours (include/chatbotkit.h).
RETRY_AFTER_STATUSES = (429, 503)

# Codes the stand-in uses for `fail-<status>`; other statuses get a code made
# from the canonical reason phrase (e.g. 418 -> IM_A_TEAPOT).
ERROR_CODES = {
    400: ("Bad request", "BAD_REQUEST"),
    401: ("Not authenticated", "NOT_AUTHENTICATED"),
    403: ("Not authorized", "NOT_AUTHORIZED"),
    404: ("Not found", "NOT_FOUND"),
    405: ("Method not allowed", "METHOD_NOT_ALLOWED"),
    409: ("Conflict", "CONFLICT"),
    413: ("Content too large", "CONTENT_TOO_LARGE"),
    429: ("Too many requests", "TOO_MANY_REQUESTS"),
    500: ("Internal server error", "INTERNAL_SERVER_ERROR"),
    502: ("Bad gateway", "BAD_GATEWAY"),
    503: ("Service unavailable", "SERVICE_UNAVAILABLE"),
    504: ("Gateway timeout", "GATEWAY_TIMEOUT"),
}


def random_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(ALPHANUMERIC) for _ in range(length))


def reason_phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def error_for(status: int) -> tuple[str, str]:
    if status in ERROR_CODES:
        return ERROR_CODES[status]
    phrase = reason_phrase(status)
    code = re.sub(r"[^A-Z0-9]+", "_", phrase.upper().replace("'", "")).strip("_")
    return phrase, code or "ERROR_%d" % status


class State:
    """Everything the handler threads share, behind one lock."""

    def __init__(self, secret: str, verbose: bool, known_ids: dict | None = None,
                 retry_after: int = 0) -> None:
        self.secret = secret
        self.verbose = verbose
        # kind ("conversation", "bot") -> the ids that exist; a kind absent
        # here has every id, so that a bare stand-in accepts whatever a test
        # or a demo makes up.
        self.known_ids: dict[str, frozenset] = dict(known_ids or {})
        self.retry_after = retry_after
        self.lock = threading.Lock()
        self.requests: collections.deque = collections.deque(maxlen=MAX_RECORDED)
        self.flaky_counts: dict[str, int] = {}

    def record(self, entry: dict) -> None:
        with self.lock:
            self.requests.append(entry)

    def snapshot(self) -> list:
        with self.lock:
            return list(self.requests)

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()
            self.flaky_counts.clear()

    def exists(self, kind: str, ident: str) -> bool:
        known = self.known_ids.get(kind)
        return known is None or ident in known

    def flaky_hit(self, ident: str) -> int:
        """Counts a request for `ident`; returns how many came before it."""
        with self.lock:
            seen = self.flaky_counts.get(ident, 0)
            self.flaky_counts[ident] = seen + 1
            return seen


class BodyError(Exception):
    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY, each
    # kept-alive response would wait for a delayed ACK (~40 ms).
    disable_nagle_algorithm = True
    server_version = "chatbotkit-standin/1"
    sys_version = ""

    @property
    def state(self) -> State:
        return self.server.state  # type: ignore[attr-defined]

    # Logging -------------------------------------------------------------

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (base API)
        if self.state.verbose:
            sys.stderr.write("standin: %s - %s\n" % (self.address_string(), format % args))

    # Dispatch ------------------------------------------------------------

    def do_GET(self) -> None:
        self.dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = do_GET

    def dispatch(self) -> None:
        target = self.path
        raw_path, sep, query = target.partition("?")
        raw_path = raw_path.partition("#")[0]
        try:
            body = self.read_body()
        except BodyError as exc:
            # The rest of the connection cannot be trusted after a bad body.
            self.close_connection = True
            self.send_json(exc.status, {"message": str(exc), "code": exc.code})
            return
        except (ConnectionError, TimeoutError, OSError):
            self.close_connection = True
            return

        if raw_path == "/_standin/requests":
            self.introspect()
            return

        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = value if key not in headers else headers[key] + ", " + value
        self.state.record(
            {
                "method": self.command,
                "path": raw_path,
                "query": query if sep else "",
                "headers": headers,
                "body": body.decode("utf-8", errors="replace"),
                "bodyBase64": base64.b64encode(body).decode("ascii"),
            }
        )
        self.route(raw_path, body)

    def introspect(self) -> None:
        if self.command == "GET":
            self.send_json(200, self.state.snapshot())
        elif self.command == "DELETE":
            self.state.clear()
            self.send_empty(204)
        else:
            self.send_json(405, {"message": "Method not allowed", "code": "METHOD_NOT_ALLOWED"},
                           extra={"Allow": "GET, DELETE"})

    def route(self, raw_path: str, body: bytes) -> None:
        complete = COMPLETE.match(raw_path)
        if complete and self.command == "POST":
            self.complete(urllib.parse.unquote(complete.group(1), errors="replace"), body)
            return
        match = ROUTE.match(raw_path)
        if not match:
            self.send_json(404, {"message": "Not found", "code": "NOT_FOUND"})
            return
        kind = match.group(1)
        ident = urllib.parse.unquote(match.group(2), errors="replace")
        if self.command != "POST":
            self.send_json(405, {"message": "Method not allowed", "code": "METHOD_NOT_ALLOWED"},
                           extra={"Allow": "POST"})
            return
        request = self.authorized_json(body)
        if request is None:
            return
        if self.fault(ident):
            return
        seconds = self.session_seconds(request)
        if seconds is None:
            return
        if not HOOK.match(ident) and not self.state.exists(kind, ident):
            self.send_not_found(kind)
            return
        self.send_json(200, self.session(kind, seconds))

    def send_not_found(self, kind: str) -> None:
        self.send_json(404, {"message": "%s not found" % kind.capitalize(), "code": "NOT_FOUND"})

    def session_seconds(self, request: dict) -> int | None:
        """The session's lifetime from `durationInSeconds`; None when it has
        already answered 400 for a value the real API would refuse."""
        if "durationInSeconds" not in request:
            return DEFAULT_SESSION_SECONDS
        value = request["durationInSeconds"]
        # JSON has one number type: 60.0 is the integer 60 to a JavaScript
        # server, while true is not a number at all (bool is an int here).
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            self.send_json(400, {"message": "durationInSeconds must be a positive integer",
                                 "code": "BAD_REQUEST"})
            return None
        if int(time.time() * 1000) + value * 1000 > MAX_EXPIRES_AT_MS:
            self.send_json(400, {"message": "durationInSeconds is too large",
                                 "code": "BAD_REQUEST"})
            return None
        return value

    def complete(self, conversation: str, body: bytes) -> None:
        """POST /v1/conversation/{id}/complete with {"text": ...}: the reply
        streamed token by token (accept: application/jsonl), or its result."""
        request = self.authorized_json(body)
        if request is None:
            return
        if not self.state.exists("conversation", conversation):
            self.send_not_found("conversation")
            return
        if not isinstance(request.get("text"), str):
            self.send_json(400, {"message": "`text` must be a string", "code": "BAD_REQUEST"})
            return
        reply = "You said: " + request["text"]
        tokens = re.findall(r"\S+\s*", reply) or [reply]
        result = {
            "id": random_id("msg_"),
            "text": reply,
            "usage": {"token": len(tokens)},
            "end": {"reason": "stop"},
        }
        if "application/jsonl" not in self.headers.get("accept", ""):
            self.send_json(200, result)
            return
        lines = [{"type": "token", "data": {"token": t}} for t in tokens]
        lines.append({"type": "result", "data": result})
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/jsonl")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for line in lines:
                data = (json.dumps(line, separators=(",", ":")) + "\n").encode("utf-8")
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
                time.sleep(TOKEN_DELAY)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (ConnectionError, OSError):
            self.close_connection = True

    def authorized_json(self, body: bytes) -> dict | None:
        """The request's JSON object body, when the caller is authenticated;
        None when it has already answered (401, or 400 for another body)."""
        if not self.authenticated():
            self.send_json(401, {"message": "Not authenticated", "code": "NOT_AUTHENTICATED"})
            return None
        try:
            request = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            request = None
        if not isinstance(request, dict):
            self.send_json(400, {"message": "The request body must be a JSON object",
                                 "code": "BAD_REQUEST"})
            return None
        return request

    def authenticated(self) -> bool:
        value = self.headers.get("authorization", "")
        scheme, _, credential = value.strip().partition(" ")
        return scheme.lower() == "bearer" and secrets.compare_digest(
            credential.strip().encode("utf-8", "replace"), self.state.secret.encode("utf-8")
        )

    def fault(self, ident: str) -> bool:
        """Applies a fault hook; True when it has already answered."""
        match = HOOK.match(ident)
        if not match:
            return False
        hook, number = match.group(1), int(match.group(2))
        retry = self.retry_after_header(match.group(3), match.group(4))
        if hook == "fail" and 200 <= number <= 599:
            message, code = error_for(number)
            self.send_json(number, {"message": message, "code": code},
                           extra=retry if number in RETRY_AFTER_STATUSES else None)
            return True
        if hook == "html" and 200 <= number <= 599:
            phrase = reason_phrase(number)
            page = (
                "<!DOCTYPE html>\n<html><head><title>%d %s</title></head>\n"
                "<body><h1>%d %s</h1><p>The stand-in answered with an HTML page.</p></body></html>\n"
                % (number, phrase, number, phrase)
            )
            self.send_bytes(number, page.encode("utf-8"), "text/html; charset=utf-8",
                            extra=retry if number in RETRY_AFTER_STATUSES else None)
            return True
        if hook == "slow":
            time.sleep(min(number, MAX_SLOW_MS) / 1000.0)
            return False
        if hook == "flaky":
            if self.state.flaky_hit(ident) < number:
                message, code = error_for(503)
                self.send_json(503, {"message": message, "code": code}, extra=retry)
                return True
            return False
        return False

    def retry_after_header(self, form: str | None, seconds: str | None) -> dict:
        """`Retry-After` for a hook's 429 or 503: the id's own
        `-retry-after-<s>` / `-retry-date-<s>`, else the server's default."""
        if form == "date":
            return {"Retry-After": email.utils.formatdate(time.time() + int(seconds), usegmt=True)}
        if form == "after":
            return {"Retry-After": str(int(seconds))}
        return {"Retry-After": str(self.state.retry_after)}

    @staticmethod
    def session(kind: str, seconds: int) -> dict:
        body = {
            "id": random_id("cs_"),
            "token": random_id("cbk_ct_", 48),
            "expiresAt": int(time.time() * 1000) + seconds * 1000,
        }
        if kind == "bot":
            body["conversationId"] = random_id("cv_")
        return body

    # Reading -------------------------------------------------------------

    def read_body(self) -> bytes:
        encoding = self.headers.get("transfer-encoding", "")
        if encoding:
            if encoding.strip().lower() != "chunked":
                raise BodyError(501, "Transfer-Encoding not supported", "NOT_IMPLEMENTED")
            return self.read_chunked()
        length = self.headers.get("content-length")
        if length is None:
            return b""
        try:
            size = int(length)
        except ValueError:
            raise BodyError(400, "Invalid Content-Length", "BAD_REQUEST") from None
        if size < 0:
            raise BodyError(400, "Invalid Content-Length", "BAD_REQUEST")
        if size > MAX_BODY_BYTES:
            raise BodyError(413, "Request entity too large", "CONTENT_TOO_LARGE")
        data = self.rfile.read(size)
        if len(data) != size:
            raise ConnectionError("truncated request body")
        return data

    def read_chunked(self) -> bytes:
        parts = []
        total = 0
        while True:
            line = self.rfile.readline(65537)
            if not line:
                raise ConnectionError("truncated chunked body")
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise BodyError(400, "Invalid chunked encoding", "BAD_REQUEST") from None
            if size == 0:
                while True:  # trailers, up to the blank line
                    trailer = self.rfile.readline(65537)
                    if trailer in (b"\r\n", b"\n", b""):
                        return b"".join(parts)
            total += size
            if total > MAX_BODY_BYTES:
                raise BodyError(413, "Request entity too large", "CONTENT_TOO_LARGE")
            chunk = self.rfile.read(size)
            if len(chunk) != size:
                raise ConnectionError("truncated chunked body")
            parts.append(chunk)
            self.rfile.readline(3)  # the CRLF after the chunk

    # Writing -------------------------------------------------------------

    def send_json(self, status: int, payload, extra: dict | None = None) -> None:
        data = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        self.send_bytes(status, data, "application/json", extra)

    def send_bytes(self, status: int, data: bytes, content_type: str,
                   extra: dict | None = None) -> None:
        if status in (204, 205, 304):
            self.send_empty(status, extra)
            return
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            self.wfile.flush()
        except (ConnectionError, OSError):
            self.close_connection = True

    def send_empty(self, status: int, extra: dict | None = None) -> None:
        try:
            self.send_response(status)
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            if status != 204:
                self.send_header("Content-Length", "0")
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.flush()
        except (ConnectionError, OSError):
            self.close_connection = True


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # Tests keep thousands of requests in flight; the default backlog of 5
    # would turn bursts into connection resets and SYN retries.
    request_queue_size = 4096

    def __init__(self, port: int, state: State, tls: ssl.SSLContext | None = None) -> None:
        self.state = state
        self.tls = tls
        super().__init__(("127.0.0.1", port), Handler)

    def finish_request(self, request, client_address) -> None:
        if self.tls is None:
            super().finish_request(request, client_address)
            return
        # The handshake runs here, on the connection's own thread, rather
        # than in accept(): one slow or broken client must not stall the
        # listener for everyone else.
        conn = None
        try:
            request.settimeout(HANDSHAKE_TIMEOUT)
            conn = self.tls.wrap_socket(request, server_side=True, do_handshake_on_connect=False)
            conn.do_handshake()
            conn.settimeout(None)
        except (ssl.SSLError, OSError) as exc:
            # wrap_socket took the descriptor over: the caller's shutdown of
            # `request` would no longer close it.
            if conn is not None:
                conn.close()
            # A client that distrusts the certificate ends the handshake with
            # an alert: that is the expected outcome of a test, not a fault.
            if self.state.verbose:
                sys.stderr.write("standin: TLS handshake with %s failed: %s\n" % (client_address[0], exc))
            return
        try:
            super().finish_request(conn, client_address)
        finally:
            try:
                conn.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            conn.close()

    def handle_error(self, request, client_address) -> None:
        # A client that goes away mid-request is normal in tests (timeouts,
        # cancellation); stay quiet about it unless asked to be verbose.
        if self.state.verbose:
            super().handle_error(request, client_address)


class StartError(Exception):
    """The stand-in cannot start; the message says why, for a person."""


def write_file_atomically(path: str, text: str) -> None:
    """Readers poll for these files: they must never see half of one."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".standin-", dir=directory)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_port_file(path: str, port: int) -> None:
    write_file_atomically(path, "%d\n" % port)


# A configuration of our own, so that the certificates do not depend on the
# machine's openssl.cnf (whose defaults differ between distributions).
OPENSSL_CONFIG = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = chatbotkit stand-in
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def make_tls_context() -> tuple[ssl.SSLContext, str]:
    """A server context with a certificate for 127.0.0.1 and localhost,
    signed by a CA made for this start only; returns it and the CA's PEM."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise StartError("--tls needs the openssl command-line tool to make its certificates, "
                         "and there is none on PATH (Debian/Ubuntu: apt-get install openssl)")
    # The CA's key must not outlive this function: whoever holds it could
    # mint certificates that a program trusting the printed CA would accept.
    with tempfile.TemporaryDirectory(prefix="cbk-standin-tls-") as workdir:
        def path(name: str) -> str:
            return os.path.join(workdir, name)

        with open(path("openssl.cnf"), "w") as handle:
            handle.write(OPENSSL_CONFIG)
        # A distinct CA name per start: several stand-in CAs in one trust
        # store must not be mistaken for one another.
        ca_name = "/CN=chatbotkit stand-in CA %s" % secrets.token_hex(4)
        # EC P-256: a key in milliseconds where RSA takes a noticeable while.
        new_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        steps = [
            [openssl, "req", "-x509", "-config", path("openssl.cnf"), *new_key,
             "-subj", ca_name, "-extensions", "ca_ext", "-days", str(CERT_DAYS),
             "-keyout", path("ca.key"), "-out", path("ca.pem")],
            [openssl, "req", "-new", "-config", path("openssl.cnf"), *new_key,
             "-subj", "/CN=127.0.0.1", "-keyout", path("server.key"), "-out", path("server.csr")],
            [openssl, "x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"),
             "-CAkey", path("ca.key"), "-set_serial", "0x" + secrets.token_hex(16),
             "-days", str(CERT_DAYS), "-extfile", path("openssl.cnf"), "-extensions", "server_ext",
             "-out", path("server.pem")],
        ]
        for argv in steps:
            try:
                done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                                      text=True, timeout=60)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise StartError("openssl could not make the TLS certificates: %s" % exc) from None
            if done.returncode != 0:
                raise StartError("openssl could not make the TLS certificates (`%s` exited with "
                                 "status %d):\n%s" % (" ".join(argv[1:3]), done.returncode,
                                                      done.stderr.strip()))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(path("server.pem"), path("server.key"))
        # The library offers h2 through ALPN; this server speaks HTTP/1.1 only.
        context.set_alpn_protocols(["http/1.1"])
        with open(path("ca.pem")) as handle:
            ca_pem = handle.read()
    return context, ca_pem


def id_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not a port number: %r" % text) from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError("not a port number (0-65535): %d" % port)
    return port


def seconds_value(text: str) -> int:
    if not re.fullmatch(r"[0-9]{1,5}", text):
        raise argparse.ArgumentTypeError("not a whole number of seconds (0-99999): %r" % text)
    return int(text)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Loopback stand-in of the ChatBotKit session API.")
    parser.add_argument("--port", type=port_number, default=0,
                        help="TCP port on 127.0.0.1 (default 0: any free port)")
    parser.add_argument("--port-file", help="write the port here once listening")
    parser.add_argument("--secret", default=None,
                        help="accepted bearer secret (default: $CHATBOTKIT_API_SECRET, else %s)"
                        % DEFAULT_SECRET)
    parser.add_argument("--conversation-ids", type=id_list, action="append", metavar="ID,ID...",
                        help="the conversations that exist (repeatable); others are 404. "
                             "Default: every id exists")
    parser.add_argument("--bot-ids", type=id_list, action="append", metavar="ID,ID...",
                        help="the bots that exist (repeatable); others are 404. "
                             "Default: every id exists")
    parser.add_argument("--retry-after", type=seconds_value, default=0, metavar="SECONDS",
                        help="Retry-After of the hooks' 429 and 503 answers (default 0)")
    parser.add_argument("--tls", action="store_true",
                        help="serve https with a certificate from a CA made at start (needs openssl)")
    parser.add_argument("--ca-file", help="with --tls: write the CA certificate (PEM) here")
    parser.add_argument("--stop-on-stdin-eof", action="store_true",
                        help="stop when stdin reaches its end (for launchers)")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    if args.ca_file and not args.tls:
        parser.error("--ca-file needs --tls")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    secret = args.secret
    if secret is None:
        secret = os.environ.get("CHATBOTKIT_API_SECRET") or DEFAULT_SECRET
    known_ids = {}
    if args.conversation_ids is not None:
        known_ids["conversation"] = frozenset(i for ids in args.conversation_ids for i in ids)
    if args.bot_ids is not None:
        known_ids["bot"] = frozenset(i for ids in args.bot_ids for i in ids)
    state = State(secret, args.verbose, known_ids, args.retry_after)

    stop = threading.Event()

    def on_signal(signum, frame) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    try:
        tls, ca_pem = make_tls_context() if args.tls else (None, None)
        try:
            server = Server(args.port, state, tls)
        except OSError as exc:
            raise StartError("cannot listen on 127.0.0.1:%d: %s" % (args.port, exc.strerror or exc)) from None
    except StartError as exc:
        sys.stderr.write("standin: %s\n" % exc)
        return 1
    port = server.server_address[1]
    url = "%s://127.0.0.1:%d" % ("https" if tls else "http", port)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name="standin-server", daemon=True)
    thread.start()

    if args.stop_on_stdin_eof:
        def watch_stdin() -> None:
            try:
                while sys.stdin.buffer.read(4096):
                    pass
            except (OSError, ValueError, AttributeError):
                pass  # stdin closed or absent: that is an end too
            stop.set()

        threading.Thread(target=watch_stdin, name="standin-stdin", daemon=True).start()

    # The CA file goes first: a script that waits for the port file may then
    # read the CA at once.
    if args.ca_file:
        write_file_atomically(args.ca_file, ca_pem)
    if args.port_file:
        write_port_file(args.port_file, port)
    # The listening line comes last, so that whoever reads stdout up to it
    # has the CA too.
    try:
        if ca_pem:
            sys.stdout.write("chatbotkit stand-in CA certificate (trust it as caCertificatePem):\n")
            sys.stdout.write(ca_pem if ca_pem.endswith("\n") else ca_pem + "\n")
        sys.stdout.write("chatbotkit stand-in listening on %s\n" % url)
        sys.stdout.flush()
    except (OSError, ValueError):
        pass  # Nobody reads stdout (closed): the port file still tells.
    try:
        while not stop.wait(0.5):
            if not thread.is_alive():
                return 1
    finally:
        server.shutdown()
        server.server_close()
    if args.verbose:
        sys.stderr.write("standin: stopped\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
