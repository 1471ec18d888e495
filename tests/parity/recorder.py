#!/usr/bin/env python3
"""Request recorder for the parity test (Python 3 standard library only).

Listens on 127.0.0.1 (a free port unless one is given), answers every request
that is not a control request with

    200 application/json {"id":"x","token":"t","expiresAt":1}

and records, for each such request:

    {"method": "POST",
     "path": "/api/v1/...",        # raw request target up to the first '?', exactly as sent
     "query": "a=b" | null,         # raw text after the first '?', null when there is no '?'
     "target": "/api/v1/...?a=b",   # the raw request target
     "headers": {"name": "value"},  # names lowercased; repeated headers joined with ", "
     "header_list": [["Name", "value"], ...],  # as received, original case and order
     "body": "..."}                 # body decoded as UTF-8 (invalid bytes replaced)

A request whose path ends with /error-with-bom is recorded and answered
    400 application/json <UTF-8 BOM>{"code":"BOM_CODE","message":"behind a BOM"}
A request whose path ends with one of STREAMS' names is answered 200
application/jsonl with that body (JSON Lines for the `stream()` cases).
Any method is recorded as sent, letter case included (`patch` as well as PATCH).

Control requests (not recorded):
    GET    /_recorder/requests  -> JSON array of the recorded requests
    DELETE /_recorder/requests  -> clears the list, answers 204

Use from Python:   rec = Recorder(); rec.start(); ... rec.port ... rec.stop()
Or from the shell: python3 recorder.py [--port 0] [--port-file FILE]
"""

import argparse
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CONTROL_PATH = "/_recorder/requests"
RESPONSE_BODY = b'{"id":"x","token":"t","expiresAt":1}'
BOM_ERROR_SUFFIX = "/error-with-bom"
BOM_ERROR_BODY = b'\xef\xbb\xbf{"code":"BOM_CODE","message":"behind a BOM"}'
# JSON Lines bodies: CRLF and LF line ends, a multibyte character and a last
# line without a newline, which both sides must read alike; a blank line,
# which the SDK throws on and the library skips.
STREAMS = {
    "/stream-lines": ('{"type":"token","data":{"token":"H\u00e9"}}\n'
                      '{"type":"token","data":{"token":"llo"}}\r\n'
                      '  {"type":"token","data":{"token":" \u2603"}}  \n'
                      '{"type":"result","data":{"text":"H\u00e9llo \u2603","end":{"reason":"stop"}}}').encode("utf-8"),
    "/stream-blank": b'{"n":1}\n\n{"n":2}\n',
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "parity-recorder"
    sys_version = ""

    def log_message(self, fmt, *args):  # keep test output quiet
        if os.environ.get("PARITY_RECORDER_VERBOSE"):
            sys.stderr.write("recorder: " + (fmt % args) + "\n")

    # -- helpers -----------------------------------------------------------
    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            while True:
                line = self.rfile.readline()
                if not line:
                    break
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    # trailers up to the empty line
                    while True:
                        trailer = self.rfile.readline()
                        if trailer in (b"\r\n", b"\n", b""):
                            break
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()  # CRLF after the chunk
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status, body=b"", content_type="application/json"):
        self.send_response(status)
        if body or status != 204:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        # A HEAD answer announces the length but carries no body.
        if body and self.command.upper() != "HEAD":
            self.wfile.write(body)

    def _handle(self):
        body = self._read_body()
        target = self.path
        path, sep, query = target.partition("?")
        if path == CONTROL_PATH and self.command in ("GET", "DELETE"):
            if self.command == "GET":
                with self.server.lock:
                    data = json.dumps(self.server.records).encode("utf-8")
                self._send(200, data)
            else:
                with self.server.lock:
                    self.server.records.clear()
                self._send(204)
            return
        headers = {}
        header_list = []
        for name, value in self.headers.items():
            header_list.append([name, value])
            key = name.lower()
            headers[key] = value if key not in headers else headers[key] + ", " + value
        record = {
            "method": self.command,
            "path": path,
            "query": query if sep else None,
            "target": target,
            "headers": headers,
            "header_list": header_list,
            "body": body.decode("utf-8", errors="replace"),
        }
        with self.server.lock:
            self.server.records.append(record)
        stream = next((body for name, body in STREAMS.items() if path.endswith(name)), None)
        if path.endswith(BOM_ERROR_SUFFIX):
            self._send(400, BOM_ERROR_BODY)
        elif stream is not None:
            self._send(200, stream, "application/jsonl")
        else:
            self._send(200, RESPONSE_BODY)

    # http.server dispatches to do_<METHOD> with the method exactly as sent;
    # a method fetch does not normalise (`patch`) must be recorded too.
    def __getattr__(self, name):
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)


class Recorder:
    """The recorder as an object: start() binds 127.0.0.1 and serves in a thread."""

    def __init__(self, port=0):
        self._port = port
        self.server = None
        self.thread = None

    def start(self):
        server = ThreadingHTTPServer(("127.0.0.1", self._port), _Handler)
        server.daemon_threads = True
        server.lock = threading.Lock()
        server.records = []
        self.server = server
        self.thread = threading.Thread(target=server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def port(self):
        return self.server.server_address[1]

    @property
    def base_url(self):
        return "http://127.0.0.1:%d" % self.port

    def records(self):
        with self.server.lock:
            return json.loads(json.dumps(self.server.records))

    def clear(self):
        with self.server.lock:
            self.server.records.clear()

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    args = parser.parse_args()
    rec = Recorder(args.port).start()
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(rec.port))
        os.replace(tmp, args.port_file)
    print("recorder listening on %s" % rec.base_url, flush=True)
    try:
        rec.thread.join()
    except KeyboardInterrupt:
        pass
    finally:
        rec.stop()


if __name__ == "__main__":
    main()
