"""Tests of the stand-in as a server a developer runs, and of its launcher.

    standin/test.sh                 (or: python3 -m pytest -q standin/tests)

Every test starts standin/standin.py (or launcher.py) as a subprocess and
talks to it with urllib. The TLS and Retry-After round trips through the
library load $CHATBOTKIT_LIB, default target/release/libchatbotkit.so
(`make build` at the root first).
"""

from __future__ import annotations

import contextlib
import ctypes
import email.utils
import json
import os
import pathlib
import queue
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from ctypes import POINTER, byref, c_char_p, c_int, c_void_p

import pytest

HERE = pathlib.Path(__file__).resolve().parent
STANDIN_DIR = HERE.parent
REPO = STANDIN_DIR.parent
STANDIN = STANDIN_DIR / "standin.py"
LAUNCHER = STANDIN_DIR / "launcher.py"
WITH_STANDIN = REPO / "scripts" / "with-standin.sh"
LIB_PATH = os.environ.get("CHATBOTKIT_LIB") or str(REPO / "target" / "release" / "libchatbotkit.so")
SECRET = "sk_standintest_Qm7Rv2Xc9L"

sys.path.insert(0, str(STANDIN_DIR))
from launcher import running_standin, started_standin  # noqa: E402

LISTENING = re.compile(r"^chatbotkit stand-in listening on (https?)://127\.0\.0\.1:([0-9]+)$")
CBK_ERROR_NETWORK = 5


# ---------------------------------------------------------------------------
# The stand-in as a subprocess


class Running:
    def __init__(self, proc: subprocess.Popen, lines: list[str], url: str, port: int) -> None:
        self.proc, self.lines, self.url, self.port = proc, lines, url, port

    @property
    def stdout(self) -> str:
        return "".join(line + "\n" for line in self.lines)


def _pump(stream, sink: queue.Queue) -> None:
    for line in stream:
        sink.put(line.rstrip("\n"))
    sink.put(None)


@contextlib.contextmanager
def standin(*args: str, port: int = 0, port_file: str | None = None, env: dict | None = None,
            timeout: float = 15.0):
    """standin.py with ARGS; yields once its listening line is out."""
    argv = [sys.executable, str(STANDIN), "--port", str(port), "--secret", SECRET, *args]
    if port_file:
        argv += ["--port-file", port_file]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True).start()
    seen: list[str] = []
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail("no listening line within %s s; stdout so far: %r" % (timeout, seen))
            if line is None:
                proc.wait(timeout=5)
                pytest.fail("the stand-in exited (%s) before listening: %s"
                            % (proc.returncode, proc.stderr.read()))
            seen.append(line)
            match = LISTENING.match(line)
            if match:
                break
        yield Running(proc, seen, "%s://127.0.0.1:%s" % match.groups(), int(match.group(2)))
    finally:
        if proc.poll() is None:
            proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        proc.stdout.close()
        proc.stderr.close()


def fails_to_start(*args: str, env: dict | None = None) -> tuple[int, str]:
    done = subprocess.run([sys.executable, str(STANDIN), "--secret", SECRET, *args],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30, env=env)
    assert not LISTENING.search(done.stdout or ""), done.stdout
    return done.returncode, done.stderr


@pytest.fixture(scope="module")
def plain():
    with standin() as server:
        yield server


def call(url: str, path: str, body=None, *, secret: str | None = SECRET, method: str = "POST",
         context: ssl.SSLContext | None = None, raw: bytes | None = None):
    """(status, headers, parsed JSON or text) of one request; errors too."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(url + path, data=data, method=method)
    if data is not None:
        request.add_header("content-type", "application/json")
    if secret is not None:
        request.add_header("authorization", "Bearer " + secret)
    try:
        resp = urllib.request.urlopen(request, timeout=15, context=context)
    except urllib.error.HTTPError as exc:
        resp = exc
    with resp:
        payload = resp.read().decode()
        kind = resp.headers.get("content-type", "")
        return resp.status, resp.headers, json.loads(payload) if "json" in kind else payload


def session(url: str, kind: str, ident: str, body=None, **kw):
    return call(url, "/api/v1/%s/%s/session/create" % (kind, ident), {} if body is None else body, **kw)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def refused(url: str) -> bool:
    host, port = url.rsplit("/", 1)[-1].split(":")
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except OSError:
        return True
    return False


def wait_until_refused(url: str, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if refused(url):
            return True
        time.sleep(0.1)
    return False


# ---------------------------------------------------------------------------
# The library, through ctypes (as tests/python/test_ctypes.py does)


@pytest.fixture(scope="module")
def lib() -> ctypes.CDLL:
    if not os.path.exists(LIB_PATH):
        pytest.fail("%s not found: run `make build` at the repository root first (or set CHATBOTKIT_LIB)"
                    % LIB_PATH)
    lib = ctypes.CDLL(LIB_PATH)
    err_out = POINTER(c_void_p)
    lib.cbk_conversation_session_client_new.argtypes = [c_char_p, err_out]
    lib.cbk_conversation_session_client_new.restype = c_void_p
    lib.cbk_conversation_session_client_create.argtypes = [c_void_p, c_char_p, c_char_p, err_out]
    lib.cbk_conversation_session_client_create.restype = c_void_p
    lib.cbk_conversation_session_client_free.argtypes = [c_void_p]
    lib.cbk_conversation_session_client_free.restype = None
    lib.cbk_error_status.argtypes = [c_void_p]
    lib.cbk_error_status.restype = c_int
    lib.cbk_error_message.argtypes = [c_void_p]
    lib.cbk_error_message.restype = c_char_p
    lib.cbk_error_free.argtypes = [c_void_p]
    lib.cbk_error_free.restype = None
    lib.cbk_string_free.argtypes = [c_void_p]
    lib.cbk_string_free.restype = None
    return lib


def audit(text: str) -> None:
    """Library output goes to the file `make test` scans for test secrets."""
    path = os.environ.get("CHATBOTKIT_TEST_AUDIT")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write("standin error: %s\n" % text.replace("\n", "\\n"))


def lib_create(lib, options: dict, ident: str, request: dict | None = None):
    """({session}, None) or (None, (status, message)) of one blocking create."""
    err = c_void_p()
    client = lib.cbk_conversation_session_client_new(json.dumps(options).encode(), byref(err))
    if not client:
        message = lib.cbk_error_message(err.value).decode()
        lib.cbk_error_free(err.value)
        raise AssertionError("_new failed: %s" % message)
    try:
        ptr = lib.cbk_conversation_session_client_create(
            client, ident.encode(), None if request is None else json.dumps(request).encode(), byref(err))
        if ptr:
            try:
                return json.loads(ctypes.string_at(ptr).decode()), None
            finally:
                lib.cbk_string_free(ptr)
        status, message = lib.cbk_error_status(err.value), lib.cbk_error_message(err.value).decode()
        lib.cbk_error_free(err.value)
        audit(message)
        return None, (status, message)
    finally:
        lib.cbk_conversation_session_client_free(client)


# ---------------------------------------------------------------------------
# Start-up: the URL on stdout, the port file, fixed ports


def test_prints_its_url_and_writes_the_port_file(tmp_path):
    port_file = tmp_path / "port"
    with standin(port_file=str(port_file)) as server:
        assert server.lines == ["chatbotkit stand-in listening on http://127.0.0.1:%d" % server.port]
        assert port_file.read_text() == "%d\n" % server.port
        status, _, body = session(server.url, "conversation", "cnv_1")
        assert status == 200 and body["token"].startswith("cbk_ct_")


def test_the_url_line_is_flushed_while_it_runs(tmp_path):
    # standin() reads the line through a pipe while the server keeps running:
    # an unflushed line would sit in the pipe's buffer until exit.
    with standin() as server:
        assert server.proc.poll() is None


def test_a_fixed_port():
    port = free_port()
    with standin(port=port) as server:
        assert server.port == port
        assert server.url == "http://127.0.0.1:%d" % port
        assert session(server.url, "bot", "bot_1")[0] == 200


def test_a_fixed_port_in_use_fails_with_a_message():
    with standin() as first:
        status, stderr = fails_to_start("--port", str(first.port))
    assert status == 1
    assert "cannot listen on 127.0.0.1:%d" % first.port in stderr


@pytest.mark.parametrize("port", ["-1", "65536", "http"])
def test_a_bad_port_is_refused(port):
    status, stderr = fails_to_start("--port", port)
    assert status == 2 and "--port" in stderr


def test_stops_at_the_end_of_stdin_when_asked():
    proc = subprocess.Popen([sys.executable, str(STANDIN), "--stop-on-stdin-eof"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert LISTENING.match(line.strip()), line
        proc.stdin.close()
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()


# ---------------------------------------------------------------------------
# durationInSeconds


@pytest.mark.parametrize("kind", ["conversation", "bot"])
def test_expires_at_defaults_to_an_hour(plain, kind):
    before = int(time.time() * 1000)
    status, _, body = session(plain.url, kind, "x_1")
    after = int(time.time() * 1000)
    assert status == 200
    assert before + 3600_000 <= body["expiresAt"] <= after + 3600_000


@pytest.mark.parametrize("kind", ["conversation", "bot"])
@pytest.mark.parametrize("seconds", [1, 90, 86400 * 365])
def test_expires_at_follows_duration_in_seconds(plain, kind, seconds):
    before = int(time.time() * 1000)
    status, _, body = session(plain.url, kind, "x_1", {"durationInSeconds": seconds})
    after = int(time.time() * 1000)
    assert status == 200, body
    assert isinstance(body["expiresAt"], int)
    assert before + seconds * 1000 <= body["expiresAt"] <= after + seconds * 1000


def test_an_integral_float_is_an_integer(plain):
    # 60.0 and 60 are the same JSON number to a JavaScript server.
    before = int(time.time() * 1000)
    status, _, body = session(plain.url, "conversation", "x_1", raw=b'{"durationInSeconds":60.0}')
    assert status == 200 and body["expiresAt"] >= before + 60_000


@pytest.mark.parametrize("kind", ["conversation", "bot"])
@pytest.mark.parametrize("value", [0, -1, -3600, 1.5, 0.5, "60", True, False, None, [60], {"s": 60}])
def test_a_bad_duration_is_a_400(plain, kind, value):
    status, headers, body = session(plain.url, kind, "x_1", {"durationInSeconds": value})
    assert status == 400
    assert headers["content-type"] == "application/json"
    assert body == {"message": "durationInSeconds must be a positive integer", "code": "BAD_REQUEST"}


def test_a_duration_past_javascripts_safe_integers_is_a_400(plain):
    status, _, body = session(plain.url, "bot", "x_1", {"durationInSeconds": 2**53})
    assert status == 400 and body["code"] == "BAD_REQUEST"


def test_authentication_comes_before_the_duration(plain):
    status, _, body = session(plain.url, "bot", "x_1", {"durationInSeconds": -1}, secret="sk_wrong_123456")
    assert status == 401 and body["code"] == "NOT_AUTHENTICATED"


# ---------------------------------------------------------------------------
# Known ids


@pytest.fixture(scope="module")
def with_ids():
    with standin("--conversation-ids", "cnv_a,cnv_b", "--conversation-ids", "cnv_c",
                 "--bot-ids", "bot_x") as server:
        yield server


@pytest.mark.parametrize("kind,ident", [("conversation", "cnv_a"), ("conversation", "cnv_b"),
                                        ("conversation", "cnv_c"), ("bot", "bot_x")])
def test_a_known_id_gets_a_session(with_ids, kind, ident):
    status, _, body = session(with_ids.url, kind, ident)
    assert status == 200 and body["id"].startswith("cs_")


@pytest.mark.parametrize("kind,ident,message", [
    ("conversation", "cnv_z", "Conversation not found"),
    ("conversation", "bot_x", "Conversation not found"),
    ("conversation", "cnv_a,cnv_b", "Conversation not found"),
    ("bot", "bot_y", "Bot not found"),
    ("bot", "cnv_a", "Bot not found"),
])
def test_an_unknown_id_is_a_404(with_ids, kind, ident, message):
    status, headers, body = session(with_ids.url, kind, ident)
    assert status == 404
    assert headers["content-type"] == "application/json"
    assert body == {"message": message, "code": "NOT_FOUND"}


def test_the_completion_route_knows_the_same_conversations(with_ids):
    assert call(with_ids.url, "/v1/conversation/cnv_a/complete", {"text": "hi"})[0] == 200
    status, _, body = call(with_ids.url, "/v1/conversation/cnv_z/complete", {"text": "hi"})
    assert status == 404 and body["code"] == "NOT_FOUND"


def test_the_id_check_comes_after_authentication_and_the_body(with_ids):
    assert session(with_ids.url, "bot", "bot_y", secret=None)[0] == 401
    assert session(with_ids.url, "bot", "bot_y", {"durationInSeconds": 0})[0] == 400


def test_fault_hooks_work_with_a_list(with_ids):
    assert session(with_ids.url, "conversation", "fail-503")[0] == 503
    assert session(with_ids.url, "bot", "slow-1")[0] == 200


def test_without_a_list_every_id_is_known(plain):
    for kind in ("conversation", "bot"):
        assert session(plain.url, kind, "anything_%d" % time.time_ns())[0] == 200


def test_a_list_of_one_kind_leaves_the_other_open():
    with standin("--bot-ids", "bot_x") as server:
        assert session(server.url, "conversation", "cnv_whatever")[0] == 200
        assert session(server.url, "bot", "bot_x")[0] == 200
        assert session(server.url, "bot", "bot_y")[0] == 404


def test_an_empty_list_knows_no_id():
    with standin("--conversation-ids", "") as server:
        assert session(server.url, "conversation", "cnv_a")[0] == 404


# ---------------------------------------------------------------------------
# Retry-After on the hooks' 429 and 503


@pytest.mark.parametrize("ident,status", [("fail-429", 429), ("fail-503", 503), ("html-503", 503),
                                          ("html-429", 429)])
def test_429_and_503_hooks_send_retry_after_zero_by_default(plain, ident, status):
    got, headers, _ = session(plain.url, "conversation", ident)
    assert got == status
    assert headers["retry-after"] == "0"


def test_a_flaky_503_sends_retry_after(plain):
    ident = "flaky-1"
    call(plain.url, "/_standin/requests", method="DELETE", secret=None)  # resets the counters
    status, headers, _ = session(plain.url, "bot", ident)
    assert status == 503 and headers["retry-after"] == "0"
    status, headers, _ = session(plain.url, "bot", ident)
    assert status == 200 and "retry-after" not in headers


@pytest.mark.parametrize("ident", ["fail-500", "fail-404", "fail-502", "html-500", "fail-200"])
def test_other_statuses_send_no_retry_after(plain, ident):
    _, headers, _ = session(plain.url, "conversation", ident)
    assert "retry-after" not in headers


def test_an_id_chooses_retry_after_in_seconds(plain):
    status, headers, body = session(plain.url, "conversation", "fail-429-retry-after-7")
    assert status == 429 and body["code"] == "TOO_MANY_REQUESTS"
    assert headers["retry-after"] == "7"


def test_an_id_chooses_retry_after_as_an_http_date(plain):
    status, headers, _ = session(plain.url, "bot", "fail-503-retry-date-30")
    assert status == 503
    value = headers["retry-after"]
    assert re.fullmatch(r"[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} GMT", value), value
    ahead = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
    assert 27 <= ahead <= 31


def test_the_server_default_retry_after():
    with standin("--retry-after", "4") as server:
        assert session(server.url, "bot", "fail-503")[1]["retry-after"] == "4"
        assert session(server.url, "bot", "fail-503-retry-after-1")[1]["retry-after"] == "1"
        assert "retry-after" not in session(server.url, "bot", "fail-500")[1]


def test_the_library_waits_as_retry_after_says(lib, plain):
    options = {"secret": SECRET, "baseUrl": plain.url, "retries": 1, "retryDelay": 10}
    call(plain.url, "/_standin/requests", method="DELETE", secret=None)
    # Retry-After: 0 leaves the 10 ms retry delay alone: what every caller of
    # the hooks from before Retry-After relies on.
    started = time.monotonic()
    created, error = lib_create(lib, options, "flaky-1")
    assert error is None and created["token"]
    assert time.monotonic() - started < 0.9

    for ident in ("flaky-1-retry-after-1", "flaky-1-retry-date-2"):
        started = time.monotonic()
        created, error = lib_create(lib, options, ident)
        assert error is None and created["token"], (ident, error)
        # An HTTP-date has whole seconds: now + 2 s can be as little as 1 s off.
        assert time.monotonic() - started >= 0.95, ident


# ---------------------------------------------------------------------------
# TLS


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    ca_file = tmp_path_factory.mktemp("tls") / "ca.pem"
    with standin("--tls", "--ca-file", str(ca_file)) as server:
        yield server, ca_file


def printed_ca(server: Running) -> str:
    match = re.search(r"-----BEGIN CERTIFICATE-----\n.*?-----END CERTIFICATE-----\n", server.stdout, re.S)
    assert match, server.stdout
    return match.group(0)


def test_tls_prints_the_ca_and_an_https_url(tls):
    server, ca_file = tls
    assert server.url.startswith("https://127.0.0.1:")
    assert server.lines[-1] == "chatbotkit stand-in listening on " + server.url
    assert printed_ca(server) == ca_file.read_text()


def test_tls_serves_https_to_a_client_trusting_the_ca(tls):
    server, ca_file = tls
    context = ssl.create_default_context(cafile=str(ca_file))
    status, _, body = session(server.url, "conversation", "cnv_1", {"durationInSeconds": 5}, context=context)
    assert status == 200 and body["token"]
    # The certificate names localhost too.
    status, _, _ = session(server.url.replace("127.0.0.1", "localhost"), "bot", "b", context=context)
    assert status == 200


def test_tls_certificate_is_a_leaf_for_127_0_0_1_and_localhost(tls):
    server, ca_file = tls
    context = ssl.create_default_context(cafile=str(ca_file))
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as conn:
            cert = conn.getpeercert()
    assert ("IP Address", "127.0.0.1") in cert["subjectAltName"]
    assert ("DNS", "localhost") in cert["subjectAltName"]
    issuer = dict(part[0] for part in cert["issuer"])
    assert issuer["commonName"].startswith("chatbotkit stand-in CA ")


def test_tls_is_refused_without_the_ca(tls):
    server, _ = tls
    with pytest.raises(urllib.error.URLError) as caught:
        session(server.url, "conversation", "cnv_1", context=ssl.create_default_context())
    assert isinstance(caught.value.reason, ssl.SSLCertVerificationError)


def test_every_start_makes_a_new_ca(tls):
    server, _ = tls
    with standin("--tls") as other:
        assert printed_ca(other) != printed_ca(server)


def test_the_library_creates_a_session_over_https_with_the_printed_ca(lib, tls):
    server, _ = tls
    options = {"secret": SECRET, "baseUrl": server.url, "retries": 0,
               "caCertificatePem": printed_ca(server)}
    created, error = lib_create(lib, options, "cnv_tls", {"durationInSeconds": 120})
    assert error is None, error
    assert created["id"].startswith("cs_") and created["token"].startswith("cbk_ct_")
    assert created["expiresAt"] > int(time.time() * 1000) + 100_000


def test_the_library_refuses_the_certificate_without_the_ca(lib, tls):
    server, _ = tls
    options = {"secret": SECRET, "baseUrl": server.url, "retries": 0}
    created, error = lib_create(lib, options, "cnv_tls")
    assert created is None
    status, message = error
    assert status == CBK_ERROR_NETWORK
    assert "certificate" in message.lower(), message


def test_tls_without_openssl_says_so(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path))  # an empty directory: no openssl
    status, stderr = fails_to_start("--tls", env=env)
    assert status == 1
    assert "openssl" in stderr and "PATH" in stderr


def test_ca_file_needs_tls(tmp_path):
    status, stderr = fails_to_start("--ca-file", str(tmp_path / "ca.pem"))
    assert status == 2 and "--ca-file needs --tls" in stderr


# ---------------------------------------------------------------------------
# The launcher: from Python, from the command line, through with-standin.sh


def test_running_standin_yields_the_base_url_as_before():
    with running_standin(SECRET) as url:
        assert re.fullmatch(r"http://127\.0\.0\.1:[0-9]+", url)
        assert session(url, "conversation", "cnv_1")[0] == 200
    assert wait_until_refused(url)


def test_started_standin_passes_every_option_on():
    with started_standin(SECRET, tls=True, conversation_ids=["cnv_a"], bot_ids=[],
                         retry_after=2) as server:
        assert server.base_url == "https://127.0.0.1:%d" % server.port
        assert server.ca_pem == pathlib.Path(server.ca_file).read_text()
        context = ssl.create_default_context(cadata=server.ca_pem)
        assert session(server.base_url, "conversation", "cnv_a", context=context)[0] == 200
        assert session(server.base_url, "conversation", "cnv_b", context=context)[0] == 404
        assert session(server.base_url, "bot", "bot_a", context=context)[0] == 404
        assert session(server.base_url, "bot", "fail-429", context=context)[1]["retry-after"] == "2"
    assert wait_until_refused(server.base_url)


def test_started_standin_on_a_fixed_port():
    port = free_port()
    with started_standin(SECRET, port=port) as server:
        assert server.base_url == "http://127.0.0.1:%d" % port
        assert session(server.base_url, "bot", "b")[0] == 200


PRINT_ENV = ("import os; print(os.environ['CHATBOTKIT_API_BASE_URL'], os.environ['CHATBOTKIT_API_SECRET'], "
             "os.environ.get('CHATBOTKIT_STANDIN_CA_FILE', '-'))")


def test_with_standin_exports_the_url_and_the_secret_and_passes_the_status_on():
    env = dict(os.environ)
    env.pop("CHATBOTKIT_API_SECRET", None)
    done = subprocess.run([str(WITH_STANDIN), sys.executable, "-c", PRINT_ENV + "; raise SystemExit(7)"],
                          capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 7, done.stderr
    url, secret, ca_file = done.stdout.split()
    assert re.fullmatch(r"http://127\.0\.0\.1:[0-9]+", url)
    assert secret == "sk_standin_demo" and ca_file == "-"
    assert done.stderr == ""


def test_with_standin_takes_the_callers_secret():
    env = dict(os.environ, CHATBOTKIT_API_SECRET=SECRET)
    code = ("import json, os, urllib.request as u; b = os.environ['CHATBOTKIT_API_BASE_URL']; "
            "r = u.Request(b + '/v1/bot/b/session/create', data=b'{}', method='POST', "
            "headers={'authorization': 'Bearer ' + os.environ['CHATBOTKIT_API_SECRET']}); "
            "print(json.load(u.urlopen(r))['token'][:7])")
    done = subprocess.run([str(WITH_STANDIN), sys.executable, "-c", code],
                          capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "cbk_ct_"


def test_with_standin_passes_launcher_options_before_the_separator():
    code = PRINT_ENV + ("; import ssl, urllib.request as u; b = os.environ['CHATBOTKIT_API_BASE_URL']; "
                        "c = ssl.create_default_context(cafile=os.environ['CHATBOTKIT_STANDIN_CA_FILE']); "
                        "r = u.Request(b + '/v1/conversation/nope/session/create', data=b'{}', method='POST', "
                        "headers={'authorization': 'Bearer ' + os.environ['CHATBOTKIT_API_SECRET']})\n"
                        "try: u.urlopen(r, context=c)\n"
                        "except u.HTTPError as e: print(e.code)")
    done = subprocess.run([str(WITH_STANDIN), "--tls", "--conversation-ids", "cnv_a", "--",
                           sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    first, status = done.stdout.splitlines()
    url, _, ca_file = first.split()
    assert url.startswith("https://127.0.0.1:") and ca_file.endswith("ca.pem")
    assert status == "404"


def test_with_standin_leaves_a_commands_own_options_alone():
    # Without a caller's option first, everything is the command: --tls here
    # is an argument of the program's, not the launcher's.
    done = subprocess.run([str(WITH_STANDIN), sys.executable, "-c", "import sys; print(sys.argv[1:])",
                           "--tls", "--", "x"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['--tls', '--', 'x']"


def test_the_launcher_command_line_without_a_command():
    done = subprocess.run([sys.executable, str(LAUNCHER), "--tls"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "no command" in done.stderr


def test_a_command_that_does_not_exist_is_127():
    done = subprocess.run([str(WITH_STANDIN), "/nonexistent/program"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 127 and "/nonexistent/program" in done.stderr


SLEEPER = ("import os, sys, time; print(os.environ['CHATBOTKIT_API_BASE_URL'], os.getpid(), flush=True); "
           "time.sleep(60)")


@contextlib.contextmanager
def launcher_running_a_sleeper():
    proc = subprocess.Popen([str(WITH_STANDIN), sys.executable, "-c", SLEEPER],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, CHATBOTKIT_API_SECRET=SECRET))
    child = None
    try:
        url, child = proc.stdout.readline().split()
        child = int(child)
        assert session(url, "bot", "b")[0] == 200
        yield proc, url, child
    finally:
        for pid in (proc.pid, child):
            if pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()


def test_sigterm_reaches_the_command_and_stops_the_standin():
    with launcher_running_a_sleeper() as (proc, url, child):
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 143
        assert wait_until_refused(url)
        with pytest.raises(ProcessLookupError):
            os.kill(child, 0)


def test_a_launcher_killed_outright_leaves_no_standin_behind():
    with launcher_running_a_sleeper() as (proc, url, child):
        proc.kill()
        proc.wait(timeout=10)
        assert wait_until_refused(url)
