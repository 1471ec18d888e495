#!/usr/bin/env python3
"""The one way to start the loopback stand-in (standin.py) for a while and
stop it afterwards: from Python code, and from the command line (which is
what scripts/with-standin.sh runs).

From Python (the test suites):

    from launcher import running_standin, started_standin
    with running_standin(secret="sk_...") as base_url:
        ...   # http://127.0.0.1:PORT
    with started_standin(secret="sk_...", tls=True, conversation_ids=["cnv_a"]) as s:
        ...   # s.base_url (https://...), s.ca_pem, s.ca_file, s.port

From the command line: run CMD against a stand-in, then stop it.

    python3 standin/launcher.py [OPTIONS --] CMD [ARGS...]

OPTIONS are standin.py's (--port, --tls, --conversation-ids, --bot-ids,
--retry-after, --secret, --verbose). CMD runs with CHATBOTKIT_API_BASE_URL
(http[s]://127.0.0.1:PORT) and CHATBOTKIT_API_SECRET (--secret, else the
caller's CHATBOTKIT_API_SECRET, else "sk_standin_demo") exported, and with
--tls CHATBOTKIT_STANDIN_CA_FILE, the CA certificate's PEM file. The exit
status is CMD's (128 + N when a signal N ended it). SIGTERM and SIGHUP are
passed on to CMD; SIGINT is not, since a terminal sends it to CMD itself.

The stand-in listens on a free 127.0.0.1 port unless --port says otherwise.
It runs in a session of its own, so a Ctrl-C meant for CMD leaves it serving
CMD's last requests, and it stops when this launcher's end of its stdin
closes: a launcher killed outright does not leave it behind.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time

STANDIN = pathlib.Path(__file__).resolve().parent / "standin.py"
DEFAULT_SECRET = "sk_standin_demo"


class StandinError(RuntimeError):
    """The stand-in did not start."""


@dataclasses.dataclass(frozen=True)
class Standin:
    base_url: str
    port: int
    secret: str
    pid: int
    # With tls=True only; ca_file exists while the stand-in runs.
    ca_pem: str | None = None
    ca_file: str | None = None


@contextlib.contextmanager
def started_standin(secret: str | None = None, *, port: int = 0, tls: bool = False,
                    conversation_ids=None, bot_ids=None, retry_after: int | None = None,
                    verbose: bool = False, start_timeout: float = 10.0,
                    python: str | None = None):
    """Starts standin.py, waits until it listens, yields a Standin, stops it.

    conversation_ids / bot_ids: the ids that exist (others are 404); None
    means every id exists. secret None: $CHATBOTKIT_API_SECRET, else the
    stand-in's default.
    """
    if secret is None:
        secret = os.environ.get("CHATBOTKIT_API_SECRET") or DEFAULT_SECRET
    with tempfile.TemporaryDirectory(prefix="cbk-standin-") as workdir:
        port_file = pathlib.Path(workdir) / "port"
        ca_file = pathlib.Path(workdir) / "ca.pem"
        argv = [python or sys.executable, str(STANDIN), "--port", str(port),
                "--port-file", str(port_file), "--secret", secret, "--stop-on-stdin-eof"]
        if tls:
            argv += ["--tls", "--ca-file", str(ca_file)]
        if conversation_ids is not None:
            argv += ["--conversation-ids", ",".join(conversation_ids)]
        if bot_ids is not None:
            argv += ["--bot-ids", ",".join(bot_ids)]
        if retry_after is not None:
            argv += ["--retry-after", str(retry_after)]
        if verbose:
            argv.append("--verbose")
        # stdout: the port file says when it listens, and the listening line
        # must not land in the output of the program under test.
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                start_new_session=True)
        try:
            deadline = time.monotonic() + start_timeout
            while not (port_file.exists() and port_file.read_text().strip()):
                if proc.poll() is not None:
                    raise StandinError("the stand-in exited with status %s before listening" % proc.returncode)
                if time.monotonic() > deadline:
                    raise StandinError("the stand-in did not start within %s s" % start_timeout)
                time.sleep(0.05)
            bound = int(port_file.read_text().strip())
            yield Standin(
                base_url="%s://127.0.0.1:%d" % ("https" if tls else "http", bound),
                port=bound,
                secret=secret,
                pid=proc.pid,
                ca_pem=ca_file.read_text() if tls else None,
                ca_file=str(ca_file) if tls else None,
            )
        finally:
            _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    """Bounded: SIGTERM, 5 s, then SIGKILL."""
    try:
        proc.stdin.close()
    except OSError:
        pass
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@contextlib.contextmanager
def running_standin(secret: str, start_timeout: float = 10.0, **options):
    """started_standin, yielding only the base URL (what most tests need)."""
    with started_standin(secret, start_timeout=start_timeout, **options) as standin:
        yield standin.base_url


# ---------------------------------------------------------------------------
# Command line


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="launcher.py",
        usage="%(prog)s [OPTIONS --] CMD [ARGS...]",
        description="Run CMD against the loopback stand-in of the ChatBotKit session API, "
                    "exporting CHATBOTKIT_API_BASE_URL and CHATBOTKIT_API_SECRET.")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--secret", help="the secret the stand-in accepts and CMD gets "
                        "(default: $CHATBOTKIT_API_SECRET, else %s)" % DEFAULT_SECRET)
    parser.add_argument("--tls", action="store_true", help="serve https; CMD gets CHATBOTKIT_STANDIN_CA_FILE")
    parser.add_argument("--conversation-ids", action="append", default=None, metavar="ID,ID...",
                        help="the conversations that exist; others are 404")
    parser.add_argument("--bot-ids", action="append", default=None, metavar="ID,ID...",
                        help="the bots that exist; others are 404")
    parser.add_argument("--retry-after", type=int, default=None, metavar="SECONDS",
                        help="Retry-After of the fault hooks' 429 and 503 answers")
    parser.add_argument("--verbose", action="store_true", help="the stand-in logs every request to stderr")
    parser.add_argument("--start-timeout", type=float, default=10.0, metavar="SECONDS",
                        help="how long to wait for the stand-in to listen (default 10)")
    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="CMD [ARGS...]")
    return parser


def _split_ids(values):
    if values is None:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    command = args.command
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        _parser().print_usage(sys.stderr)
        sys.stderr.write("launcher.py: no command to run\n")
        return 2

    received: list[int] = []
    child: list[subprocess.Popen] = []

    def on_signal(signum, frame) -> None:
        received.append(signum)
        if signum != signal.SIGINT and child and child[0].poll() is None:
            child[0].send_signal(signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        # An ignored signal stays ignored, for CMD too (it inherits that), as
        # a shell leaves it: `nohup` and background jobs rely on it.
        if signal.getsignal(signum) != signal.SIG_IGN:
            signal.signal(signum, on_signal)

    try:
        with started_standin(args.secret, port=args.port, tls=args.tls,
                             conversation_ids=_split_ids(args.conversation_ids),
                             bot_ids=_split_ids(args.bot_ids), retry_after=args.retry_after,
                             verbose=args.verbose, start_timeout=args.start_timeout) as standin:
            if args.verbose:
                sys.stderr.write("with-standin: stand-in listening on %s\n" % standin.base_url)
            env = dict(os.environ)
            env["CHATBOTKIT_API_BASE_URL"] = standin.base_url
            env["CHATBOTKIT_API_SECRET"] = standin.secret
            if standin.ca_file:
                env["CHATBOTKIT_STANDIN_CA_FILE"] = standin.ca_file
            if received:  # a signal came while the stand-in was starting
                return 128 + received[0]
            try:
                child.append(subprocess.Popen(command, env=env))
            except OSError as exc:
                sys.stderr.write("with-standin: cannot run %s: %s\n" % (command[0], exc.strerror or exc))
                return 127 if isinstance(exc, FileNotFoundError) else 126
            status = child[0].wait()
    except StandinError as exc:
        sys.stderr.write("with-standin: %s\n" % exc)
        return 1
    if received:
        return 128 + received[0]
    # As a shell reports it: 128 + N for a child ended by signal N.
    return 128 - status if status < 0 else status


if __name__ == "__main__":
    sys.exit(main())
