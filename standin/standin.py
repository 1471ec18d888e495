#!/usr/bin/env python3
"""Loopback stand-in of the ChatBotKit session API, for libchatbotkit's tests.

Python 3 standard library only. It listens on 127.0.0.1 only and answers the
two session routes the library calls, the way the real API does:

    POST [/api]/v1/conversation/{conversationId}/session/create
        -> 200 {"id": "cs_...", "token": "cbk_ct_...", "expiresAt": <epoch ms>}
    POST [/api]/v1/bot/{botId}/session/create
        -> 200 {"id": "cs_...", "token": "cbk_ct_...", "expiresAt": <epoch ms>,
                "conversationId": "cv_..."}

Checks, in this order: a known route (else 404 NOT_FOUND), the POST method
(else 405 METHOD_NOT_ALLOWED), `authorization: Bearer <secret>` (else 401
NOT_AUTHENTICATED), a body that is a JSON object (else 400 BAD_REQUEST), then
the fault hooks below. Errors are JSON `{"message": ..., "code": ...}` with
content-type application/json, as the real API sends them.

Fault hooks, chosen by the id in the path (percent-decoded):

    fail-<status>   answers <status> (200-599) with {"message", "code"} JSON
    html-<status>   answers <status> (200-599) with an HTML body (text/html)
    slow-<ms>       sleeps <ms> (capped at 30000) and then succeeds
    flaky-<n>       answers 503 SERVICE_UNAVAILABLE to the first <n> requests
                    for that exact id, then succeeds

Introspection (never recorded itself):

    GET    /_standin/requests  -> JSON array of the last 1000 requests, oldest
           first: [{"method", "path" (raw, as sent, without the query),
           "query" (raw, "" when none), "headers" (object, lowercased names,
           repeated headers joined with ", "), "body" (text, UTF-8 with
           replacement characters), "bodyBase64" (the exact bytes)}]
    DELETE /_standin/requests  -> 204; clears the list and the flaky-<n> counters

Usage:

    python3 standin/standin.py --port 0 --port-file FILE [--secret S] [--verbose]

The secret defaults to $CHATBOTKIT_API_SECRET, else "sk_standin_demo". Once
listening, the chosen port is written to FILE atomically (a temporary file
renamed into place). SIGTERM and SIGINT stop the server and exit with status 0.
"""

from __future__ import annotations

import argparse
import base64
import collections
import http
import http.server
import json
import os
import re
import secrets
import signal
import string
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

ROUTE = re.compile(r"^(?:/api)?/v1/(conversation|bot)/([^/]+)/session/create$")
# The conversation completion route, modelled on the real API: JSON Lines of
# tokens then the result with `accept: application/jsonl`, else the result.
COMPLETE = re.compile(r"^(?:/api)?/v1/conversation/([^/]+)/complete$")
# Between two tokens, as a model produces them.
TOKEN_DELAY = 0.02
HOOK = re.compile(r"^(fail|html|slow|flaky)-([0-9]{1,9})$")

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

    def __init__(self, secret: str, verbose: bool) -> None:
        self.secret = secret
        self.verbose = verbose
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
        if self.authorized_json(body) is None:
            return
        if self.fault(ident):
            return
        self.send_json(200, self.session(kind))

    def complete(self, conversation: str, body: bytes) -> None:
        """POST /v1/conversation/{id}/complete with {"text": ...}: the reply
        streamed token by token (accept: application/jsonl), or its result."""
        request = self.authorized_json(body)
        if request is None:
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
        if hook == "fail" and 200 <= number <= 599:
            message, code = error_for(number)
            self.send_json(number, {"message": message, "code": code})
            return True
        if hook == "html" and 200 <= number <= 599:
            phrase = reason_phrase(number)
            page = (
                "<!DOCTYPE html>\n<html><head><title>%d %s</title></head>\n"
                "<body><h1>%d %s</h1><p>The stand-in answered with an HTML page.</p></body></html>\n"
                % (number, phrase, number, phrase)
            )
            self.send_bytes(number, page.encode("utf-8"), "text/html; charset=utf-8")
            return True
        if hook == "slow":
            time.sleep(min(number, MAX_SLOW_MS) / 1000.0)
            return False
        if hook == "flaky":
            if self.state.flaky_hit(ident) < number:
                message, code = error_for(503)
                self.send_json(503, {"message": message, "code": code})
                return True
            return False
        return False

    @staticmethod
    def session(kind: str) -> dict:
        body = {
            "id": random_id("cs_"),
            "token": random_id("cbk_ct_", 48),
            "expiresAt": int(time.time() * 1000) + 3600 * 1000,
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

    def __init__(self, port: int, state: State) -> None:
        self.state = state
        super().__init__(("127.0.0.1", port), Handler)

    def handle_error(self, request, client_address) -> None:
        # A client that goes away mid-request is normal in tests (timeouts,
        # cancellation); stay quiet about it unless asked to be verbose.
        if self.state.verbose:
            super().handle_error(request, client_address)


def write_port_file(path: str, port: int) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".standin-port-", dir=directory)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write("%d\n" % port)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Loopback stand-in of the ChatBotKit session API.")
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--port-file", help="write the port here once listening")
    parser.add_argument("--secret", default=None,
                        help="accepted bearer secret (default: $CHATBOTKIT_API_SECRET, else %s)"
                        % DEFAULT_SECRET)
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)

    secret = args.secret
    if secret is None:
        secret = os.environ.get("CHATBOTKIT_API_SECRET") or DEFAULT_SECRET
    state = State(secret, args.verbose)

    stop = threading.Event()

    def on_signal(signum, frame) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    server = Server(args.port, state)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name="standin-server", daemon=True)
    thread.start()
    if args.port_file:
        write_port_file(args.port_file, port)
    if args.verbose:
        sys.stderr.write("standin: listening on http://127.0.0.1:%d\n" % port)
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
