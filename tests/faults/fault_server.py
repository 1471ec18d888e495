#!/usr/bin/env python3
"""A misbehaving HTTP server for libchatbotkit's fault tests (stdlib only).

    python3 fault_server.py --port-file FILE [--cert CERT --key KEY]
                            [--leaf-cert CERT --leaf-key KEY]

Listens on 127.0.0.1 on free ports and writes them to FILE, one
"name port" pair per line, once everything is listening:

    main    plain HTTP; the behaviour is chosen by the id in the request path
    other   plain HTTP on another port, i.e. another origin (redirect target)
    tls     HTTPS with CERT/KEY (only with --cert/--key), same behaviours
    tls-leaf  the same with the --leaf-cert/--leaf-key pair
    closed  a port with a bound socket that never listens: connections to it
            are refused, and nothing else can take the port meanwhile

Requests to /api/v1/conversation/<scenario>/session/create (or /v1/...,
or the bot route) behave as SCENARIOS below says; each one counts as an
attempt of <scenario>. Other counters: "_garbage" counts connections on
main/other whose first bytes are not HTTP (a TLS ClientHello, say);
"_tls_conn" ("_tls-leaf_conn") counts every TCP connection accepted on the
tls (tls-leaf) listener, whether or not its handshake succeeds.

Introspection, on any plain listener (these are not counted):

    GET  /_faults/attempts                  JSON: every scenario's counters
    GET  /_faults/attempts?scenario=X       JSON: {"scenario":X,"attempts":N,...}
    GET  /_faults/stat?scenario=X&key=K     text: one integer (0 when unset)
    POST /_faults/reset                     clear every counter
    GET  /_faults/target/<scenario>         a redirect target (counted as
                                            target.requests, target.with_auth,
                                            target.other)

Counters per scenario: attempts, done (handlers finished), target.requests,
target.with_auth, target.other, body.bytes (body bytes the server managed to
send), body.disconnected (the client went away while the body was being
sent), body.completed (the whole body was sent).

Every response carries "connection: close", so one attempt is one
connection. Loops are bounded: the biggest body is 50 MB, the slowest
trickle about 10 s, and every socket has a timeout.
"""

import argparse
import email.utils
import json
import os
import re
import signal
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse

SOCKET_TIMEOUT = 20.0
MAX_REQUEST = 1 << 20

LOCK = threading.Lock()
STATS = {}  # scenario -> {counter: int}
PORTS = {}


def bump(scenario, key, by=1):
    with LOCK:
        s = STATS.setdefault(scenario, {})
        s[key] = s.get(key, 0) + by
        return s[key]


def stat(scenario, key):
    with LOCK:
        return STATS.get(scenario, {}).get(key, 0)


# --------------------------------------------------------------------------
# Request reading and plain responses


class NotHttp(Exception):
    pass


def read_request(conn):
    """Read one request: (method, target, headers dict lowercased, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            if not data:
                return None
            raise NotHttp("connection closed inside the headers")
        data += chunk
        # A TLS ClientHello (or anything else that is not HTTP) never sends
        # CRLF CRLF: decide on the first bytes instead of waiting for it.
        if not re.match(rb"^[A-Z]{1,16}( |$)", data[:17]):
            raise NotHttp("not an HTTP request")
        if len(data) > MAX_REQUEST:
            raise NotHttp("request headers too large")
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"^([A-Z]+) (\S+) HTTP/1\.[01]$", lines[0])
    if not m:
        raise NotHttp("bad request line")
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or "0")
    if headers.get("transfer-encoding", "").lower() == "chunked":
        # The library sends sized bodies; read a chunked one crudely, to its end.
        while not body.endswith(b"0\r\n\r\n") and len(body) < MAX_REQUEST:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
    else:
        while len(body) < min(length, MAX_REQUEST):
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
    return m.group(1), m.group(2), headers, body


def respond(conn, status, reason, headers, body=b""):
    if isinstance(body, str):
        body = body.encode()
    out = ["HTTP/1.1 %d %s" % (status, reason)]
    names = {k.lower() for k, _ in headers}
    for k, v in headers:
        out.append("%s: %s" % (k, v))
    if "content-length" not in names and "transfer-encoding" not in names:
        out.append("content-length: %d" % len(body))
    out.append("connection: close")
    conn.sendall(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + body)


def respond_json(conn, status, obj, reason=None):
    reason = reason or {200: "OK", 404: "Not Found", 400: "Bad Request",
                        429: "Too Many Requests", 503: "Service Unavailable"}.get(status, "Status")
    respond(conn, status, reason, [("content-type", "application/json")], json.dumps(obj))


def session_json(scenario):
    return {"id": "cnv_session_" + scenario, "token": "tok_" + scenario,
            "expiresAt": int(time.time() * 1000) + 3600000}


def reset_hard(conn):
    """Close with SO_LINGER 0: the peer gets a RST, not a FIN."""
    try:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    conn.close()


def finish_write(conn):
    """Close gracefully (FIN)."""
    try:
        conn.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    conn.close()


def send_body(conn, scenario, pieces, total, pace=0.0):
    """Send body pieces (an iterator of bytes) counting what went out; stop
    when the client goes away. `total` is the number of pieces' bytes that
    make the whole body (for body.completed)."""
    sent = 0
    try:
        for piece in pieces:
            conn.sendall(piece)
            sent += len(piece)
            bump(scenario, "body.bytes", len(piece))
            if pace:
                time.sleep(pace)
        if sent >= total:
            bump(scenario, "body.completed")
    except OSError:
        bump(scenario, "body.disconnected")


# --------------------------------------------------------------------------
# Scenarios: each takes (conn, scenario, method, headers, body, listener)


def sc_ok(conn, sc, *_):
    respond_json(conn, 200, session_json(sc))


def sc_reset_before_status(conn, sc, *_):
    reset_hard(conn)


def sc_close_before_status(conn, sc, *_):
    finish_write(conn)


def sc_reset_mid_body(conn, sc, *_):
    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                 b"content-length: 1000\r\nconnection: close\r\n\r\n" + b'{"id":"cnv')
    bump(sc, "body.bytes", 10)
    # Let the client read the headers before the reset, so the failure is
    # one of the body read, not of the headers.
    time.sleep(0.3)
    reset_hard(conn)


def sc_short_body(conn, sc, *_):
    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                 b"content-length: 100\r\nconnection: close\r\n\r\n" + b'{"id":"cnv')
    bump(sc, "body.bytes", 10)
    time.sleep(0.1)
    finish_write(conn)


def sc_bad_chunked(conn, sc, *_):
    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                 b"transfer-encoding: chunked\r\nconnection: close\r\n\r\n"
                 b"5\r\n{\"id\"\r\nzz-not-hex\r\n:\"x\"}\r\n0\r\n\r\n")
    time.sleep(0.1)
    finish_write(conn)


def trickle(conn, sc, data, every):
    try:
        for i in range(len(data)):
            conn.sendall(data[i:i + 1])
            bump(sc, "body.bytes")
            time.sleep(every)
        bump(sc, "body.completed")
    except OSError:
        bump(sc, "body.disconnected")


def sc_trickle_headers(conn, sc, *_):
    body = json.dumps(session_json(sc)).encode()
    head = ("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
            "content-length: %d\r\nconnection: close\r\n\r\n" % len(body)).encode()
    trickle(conn, sc, head, 0.1)
    if stat(sc, "body.disconnected") == 0:
        try:
            conn.sendall(body)
        except OSError:
            pass


def sc_trickle_body(conn, sc, *_):
    body = json.dumps(session_json(sc)).encode()
    conn.sendall(("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                  "content-length: %d\r\nconnection: close\r\n\r\n" % len(body)).encode())
    trickle(conn, sc, body, 0.1)


def sc_huge_content_length(conn, sc, *_):
    total = 10 * 1024 * 1024
    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                 b"content-length: %d\r\nconnection: close\r\n\r\n" % total)
    piece = b" " * 16384
    # Paced (about 1.6 MB/s): a client that read it all would take ~6 s.
    send_body(conn, sc, (piece for _ in range(total // len(piece))), total, pace=0.01)


def sc_endless_chunked(conn, sc, *_):
    total = 50 * 1024 * 1024
    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                 b"transfer-encoding: chunked\r\nconnection: close\r\n\r\n")
    data = b" " * 65536
    frame = b"%x\r\n" % len(data) + data + b"\r\n"

    def pieces():
        for _ in range(total // len(data)):
            yield frame
        yield b"0\r\n\r\n"

    send_body(conn, sc, pieces(), (total // len(data)) * len(frame) + 5)


def sc_invalid_json(conn, sc, *_):
    respond(conn, 200, "OK", [("content-type", "application/json")], '{"id":"cnv_1","token":')


def sc_html_json_ct(conn, sc, *_):
    respond(conn, 200, "OK", [("content-type", "application/json; charset=utf-8")],
            "<!DOCTYPE html><html><body><h1>Welcome</h1></body></html>")


def sc_no_content_type(conn, sc, *_):
    respond(conn, 200, "OK", [], json.dumps(session_json(sc)))


def sc_redirect_same(conn, sc, *_):
    respond(conn, 302, "Found", [("location", "/_faults/target/" + sc)])


def sc_redirect_other(conn, sc, *_):
    respond(conn, 302, "Found",
            [("location", "http://127.0.0.1:%d/_faults/target/%s" % (PORTS["other"], sc))])


def sc_retry_after_seconds(conn, sc, *_):
    if stat(sc, "attempts") == 1:
        respond(conn, 429, "Too Many Requests",
                [("content-type", "application/json"), ("retry-after", "1")],
                json.dumps({"message": "slow down", "code": "TOO_MANY_REQUESTS"}))
    else:
        sc_ok(conn, sc)


def sc_retry_after_date(conn, sc, *_):
    if stat(sc, "attempts") == 1:
        # Two seconds ahead; the date has whole seconds, so the wait asked
        # for is between 1 and 2 s.
        when = email.utils.formatdate(time.time() + 2, usegmt=True)
        respond(conn, 503, "Service Unavailable",
                [("content-type", "application/json"), ("retry-after", when)],
                json.dumps({"message": "busy", "code": "SERVICE_UNAVAILABLE"}))
    else:
        sc_ok(conn, sc)


def sc_always_503(conn, sc, *_):
    respond(conn, 503, "Service Unavailable",
            [("content-type", "application/json"), ("retry-after", "0")],
            json.dumps({"message": "down for good", "code": "SERVICE_UNAVAILABLE"}))


SCENARIOS = {
    "ok": sc_ok,
    "reset-before-status": sc_reset_before_status,
    "close-before-status": sc_close_before_status,
    "reset-mid-body": sc_reset_mid_body,
    "short-body": sc_short_body,
    "bad-chunked": sc_bad_chunked,
    "trickle-headers": sc_trickle_headers,
    "trickle-body": sc_trickle_body,
    "huge-content-length": sc_huge_content_length,
    "endless-chunked": sc_endless_chunked,
    "invalid-json": sc_invalid_json,
    "html-json-ct": sc_html_json_ct,
    "no-content-type": sc_no_content_type,
    "redirect-same": sc_redirect_same,
    "redirect-other": sc_redirect_other,
    "retry-after-seconds": sc_retry_after_seconds,
    "retry-after-date": sc_retry_after_date,
    "always-503": sc_always_503,
}

SESSION_ROUTE = re.compile(r"^(?:/api)?/v1/(?:conversation|bot)/([^/?#]+)/session/create$")


def scenario_of(id_segment):
    """The scenario named by an id; a "-<suffix>" after a known name is
    allowed (e.g. ok-tls), so several rows can share one behaviour while
    keeping separate counters."""
    sc = urllib.parse.unquote(id_segment)
    name = sc
    while name and name not in SCENARIOS:
        name = name.rpartition("-")[0]
    return sc, SCENARIOS.get(name)


def control(conn, method, target, headers):
    url = urllib.parse.urlsplit(target)
    q = dict(urllib.parse.parse_qsl(url.query))
    if url.path == "/_faults/reset" and method in ("POST", "DELETE"):
        with LOCK:
            STATS.clear()
        respond_json(conn, 200, {"reset": True})
    elif url.path == "/_faults/attempts" and method == "GET":
        with LOCK:
            if "scenario" in q:
                obj = dict(STATS.get(q["scenario"], {}))
                obj.setdefault("attempts", 0)
                obj["scenario"] = q["scenario"]
            else:
                obj = {k: dict(v) for k, v in STATS.items()}
        respond_json(conn, 200, obj)
    elif url.path == "/_faults/stat" and method == "GET":
        respond(conn, 200, "OK", [("content-type", "text/plain")],
                "%d\n" % stat(q.get("scenario", ""), q.get("key", "attempts")))
    else:
        respond_json(conn, 404, {"message": "no such control route", "code": "NOT_FOUND"})


def handle(conn, listener):
    try:
        conn.settimeout(SOCKET_TIMEOUT)
        if listener in CONTEXTS:
            key = "_%s_conn" % listener
            bump(key, "attempts")
            try:
                conn = CONTEXTS[listener].wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError):
                bump(key, "done")
                conn.close()
                return
            bump(key, "done")
        try:
            req = read_request(conn)
        except NotHttp:
            bump("_garbage", "attempts")
            try:
                respond(conn, 400, "Bad Request", [("content-type", "text/plain")], "not HTTP\n")
            except OSError:
                pass
            bump("_garbage", "done")
            finish_write(conn)
            return
        if req is None:
            conn.close()
            return
        method, target, headers, body = req
        path = urllib.parse.urlsplit(target).path
        m = SESSION_ROUTE.match(path)
        if m:
            sc, fn = scenario_of(m.group(1))
            bump(sc, "attempts")
            try:
                if fn is None:
                    respond_json(conn, 404, {"message": "unknown scenario", "code": "NOT_FOUND"})
                else:
                    fn(conn, sc, method, headers, body, listener)
            except OSError:
                pass
            finally:
                bump(sc, "done")
                try:
                    conn.close()
                except OSError:
                    pass
            return
        if path.startswith("/_faults/target/"):
            sc = urllib.parse.unquote(path[len("/_faults/target/"):])
            bump(sc, "target.requests")
            if "authorization" in headers:
                bump(sc, "target.with_auth")
            if listener == "other":
                bump(sc, "target.other")
            respond_json(conn, 200, session_json(sc))
            finish_write(conn)
            return
        if path.startswith("/_faults/") and listener not in CONTEXTS:
            control(conn, method, target, headers)
            finish_write(conn)
            return
        respond_json(conn, 404, {"message": "not found", "code": "NOT_FOUND"})
        finish_write(conn)
    except Exception:  # a client that went away, a timeout: drop it
        try:
            conn.close()
        except OSError:
            pass


def serve(sock, listener):
    while True:
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        threading.Thread(target=handle, args=(conn, listener), daemon=True).start()


def listen():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(128)
    return s


CONTEXTS = {}  # TLS listener name -> ssl.SSLContext


def tls_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--leaf-cert")
    ap.add_argument("--leaf-key")
    args = ap.parse_args()

    socks = {"main": listen(), "other": listen()}
    if args.cert:
        CONTEXTS["tls"] = tls_context(args.cert, args.key)
        socks["tls"] = listen()
    if args.leaf_cert:
        CONTEXTS["tls-leaf"] = tls_context(args.leaf_cert, args.leaf_key)
        socks["tls-leaf"] = listen()
    # Bound, never listening: a connect gets a RST (connection refused).
    closed = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    closed.bind(("127.0.0.1", 0))
    for name, s in socks.items():
        PORTS[name] = s.getsockname()[1]
    PORTS["closed"] = closed.getsockname()[1]

    for name, s in socks.items():
        threading.Thread(target=serve, args=(s, name), daemon=True).start()

    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        for name in ("main", "other", "tls", "tls-leaf", "closed"):
            if name in PORTS:
                f.write("%s %d\n" % (name, PORTS[name]))
    os.replace(tmp, args.port_file)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    # Bounded lifetime: an orphaned server goes away by itself.
    stop.wait(1800)
    for s in socks.values():
        s.close()
    closed.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
