#!/usr/bin/env python3
"""A holding HTTP/1.1 server for libchatbotkit's in-flight benchmark.

Python 3 standard library only (asyncio). Listens on 127.0.0.1 on a free port
(written to --port-file once listening), and answers

    POST [/api]/v1/conversation/{id}/session/create
    POST [/api]/v1/bot/{id}/session/create

with a fixed session JSON after holding each response for --hold-ms
(default 1000), so that every request of a burst is in flight at the same
time. Connections are kept alive (HTTP/1.1) until the client closes them.

    GET /_stats  -> {"connections": total accepted, "open": open now,
                     "peakOpen": most open at once, "requests": session
                     requests answered, "peakInFlight": most requests held at
                     once}
    anything else -> 404 JSON

It raises its own open-file limit to the hard limit and listens with a large
backlog, so it takes well over 10,000 concurrent connections. SIGTERM/SIGINT
stop it; the final counts are printed to stderr.

Usage:
    python3 bench/hold_server.py --port-file FILE [--hold-ms 1000] [--port 0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import signal
import sys
import tempfile

ROUTE = re.compile(rb"^(?:/api)?/v1/(conversation|bot)/[^/?#]+/session/create(?:\?.*)?$")
MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 1024 * 1024

CONVERSATION_BODY = json.dumps(
    {"id": "cs_bench", "token": "cbk_ct_bench_token_0123456789", "expiresAt": 4102444800000}
).encode()
BOT_BODY = json.dumps(
    {"id": "cs_bench", "token": "cbk_ct_bench_token_0123456789", "expiresAt": 4102444800000,
     "conversationId": "cv_bench"}
).encode()


class Stats:
    def __init__(self) -> None:
        self.connections = 0
        self.open = 0
        self.peak_open = 0
        self.requests = 0
        self.in_flight = 0
        self.peak_in_flight = 0

    def as_json(self) -> bytes:
        return json.dumps({
            "connections": self.connections,
            "open": self.open,
            "peakOpen": self.peak_open,
            "requests": self.requests,
            "peakInFlight": self.peak_in_flight,
        }).encode()


STATS = Stats()


def response(status: int, reason: str, body: bytes, keep_alive: bool) -> bytes:
    head = (
        "HTTP/1.1 %d %s\r\n"
        "content-type: application/json\r\n"
        "content-length: %d\r\n"
        "connection: %s\r\n"
        "\r\n" % (status, reason, len(body), "keep-alive" if keep_alive else "close")
    )
    return head.encode("ascii") + body


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, hold: float) -> None:
    STATS.connections += 1
    STATS.open += 1
    STATS.peak_open = max(STATS.peak_open, STATS.open)
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                return
            lines = head.split(b"\r\n")
            try:
                method, target, version = lines[0].split(b" ", 2)
            except ValueError:
                writer.write(response(400, "Bad Request", b'{"code":"BAD_REQUEST"}', False))
                await writer.drain()
                return
            length = 0
            keep_alive = version.strip() == b"HTTP/1.1"
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value.strip() or b"0")
                elif name == b"connection":
                    token = value.strip().lower()
                    keep_alive = token != b"close" if version.strip() == b"HTTP/1.1" else token == b"keep-alive"
                elif name == b"transfer-encoding":
                    writer.write(response(501, "Not Implemented", b'{"code":"NOT_IMPLEMENTED"}', False))
                    await writer.drain()
                    return
            if length > MAX_BODY_BYTES:
                writer.write(response(413, "Content Too Large", b'{"code":"CONTENT_TOO_LARGE"}', False))
                await writer.drain()
                return
            if length:
                try:
                    await reader.readexactly(length)
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
            match = ROUTE.match(target)
            if method == b"GET" and target == b"/_stats":
                out = response(200, "OK", STATS.as_json(), keep_alive)
            elif match and method == b"POST":
                STATS.in_flight += 1
                STATS.peak_in_flight = max(STATS.peak_in_flight, STATS.in_flight)
                try:
                    await asyncio.sleep(hold)
                finally:
                    STATS.in_flight -= 1
                STATS.requests += 1
                body = BOT_BODY if match.group(1) == b"bot" else CONVERSATION_BODY
                out = response(200, "OK", body, keep_alive)
            else:
                out = response(404, "Not Found", b'{"message":"Not found","code":"NOT_FOUND"}', keep_alive)
            writer.write(out)
            try:
                await writer.drain()
            except ConnectionError:
                return
            if not keep_alive:
                return
    finally:
        STATS.open -= 1
        writer.close()


def write_port_file(path: str, port: int) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".hold-port-", dir=directory)
    with os.fdopen(fd, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


async def main_async(args) -> None:
    hold = args.hold_ms / 1000.0
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, hold), "127.0.0.1", args.port,
        backlog=args.backlog, limit=MAX_HEADER_BYTES, reuse_address=True,
    )
    port = server.sockets[0].getsockname()[1]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if args.port_file:
        write_port_file(args.port_file, port)
    print("hold_server: listening on 127.0.0.1:%d, holding %d ms" % (port, args.hold_ms), file=sys.stderr)
    async with server:
        await stop.wait()
    print("hold_server: %s" % STATS.as_json().decode(), file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--hold-ms", type=int, default=1000)
    parser.add_argument("--backlog", type=int, default=65535,
                        help="listen backlog (the kernel caps it at net.core.somaxconn)")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
