"""libchatbotkit's async API through ctypes: sessions minted with
cbk_*_create_async and a CFUNCTYPE callback, cbk_task_wait, cbk_task_cancel,
and the log callback.

Run with `python3 -m pytest tests/python -q`. The library is taken from
$CHATBOTKIT_LIB (default: <repo>/target/release/libchatbotkit.so); the test
starts its own standin/standin.py on a free 127.0.0.1 port.

Two ctypes rules matter here:
- the library is loaded with ctypes.CDLL, which releases the GIL around every
  foreign call, so a thread blocked in cbk_task_wait does not keep the
  library's threads from running the Python callbacks;
- a CFUNCTYPE object must stay alive for as long as the library may call it:
  the callbacks here are module-level objects, and every test waits until
  all of its callbacks ran before it returns.
"""

from __future__ import annotations

import ctypes
import json
import os
import pathlib
import sys
import threading
import time
from ctypes import CFUNCTYPE, POINTER, byref, c_char_p, c_int, c_void_p

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "standin"))
from launcher import running_standin  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]
LIB_PATH = os.environ.get("CHATBOTKIT_LIB", str(REPO / "target" / "release" / "libchatbotkit.so"))
SECRET = "sk_pyasync_test_Jw4r8TbN1q"
WAIT_S = 20.0  # every wait is bounded

CBK_OK = 0
CBK_ERROR_INVALID_ARGUMENT = 1
CBK_ERROR_API = 3
CBK_ERROR_CANCELLED = 7
CBK_LOG_ERROR, CBK_LOG_WARN, CBK_LOG_INFO, CBK_LOG_DEBUG = 1, 2, 3, 4

# void (*cbk_callback)(void *user_data, const char *response_json, const cbk_error *error)
# response_json is declared c_void_p (not c_char_p) so that NULL and "" stay
# distinct; it is copied with ctypes.string_at inside the callback.
CALLBACK = CFUNCTYPE(None, c_void_p, c_void_p, c_void_p)
# void (*cbk_log_callback)(void *user_data, cbk_log_level level, const char *message)
LOG_CALLBACK = CFUNCTYPE(None, c_void_p, c_int, c_char_p)


# --------------------------------------------------------------------------
# The library
# --------------------------------------------------------------------------


def _declare(lib: ctypes.CDLL) -> ctypes.CDLL:
    err_out = POINTER(c_void_p)
    for kind in ("conversation", "bot"):
        prefix = "cbk_%s_session_client_" % kind
        getattr(lib, prefix + "new").argtypes = [c_char_p, err_out]
        getattr(lib, prefix + "new").restype = c_void_p
        getattr(lib, prefix + "create").argtypes = [c_void_p, c_char_p, c_char_p, err_out]
        getattr(lib, prefix + "create").restype = c_void_p
        getattr(lib, prefix + "create_async").argtypes = [c_void_p, c_char_p, c_char_p, CALLBACK, c_void_p, err_out]
        getattr(lib, prefix + "create_async").restype = c_void_p
        getattr(lib, prefix + "free").argtypes = [c_void_p]
        getattr(lib, prefix + "free").restype = None
    lib.cbk_task_wait.argtypes = [c_void_p, err_out]
    lib.cbk_task_wait.restype = c_void_p
    lib.cbk_task_cancel.argtypes = [c_void_p]
    lib.cbk_task_cancel.restype = None
    lib.cbk_task_free.argtypes = [c_void_p]
    lib.cbk_task_free.restype = None
    lib.cbk_error_status.argtypes = [c_void_p]
    lib.cbk_error_status.restype = c_int
    lib.cbk_error_code.argtypes = [c_void_p]
    lib.cbk_error_code.restype = c_char_p
    lib.cbk_error_message.argtypes = [c_void_p]
    lib.cbk_error_message.restype = c_char_p
    lib.cbk_error_http_status.argtypes = [c_void_p]
    lib.cbk_error_http_status.restype = c_int
    lib.cbk_error_free.argtypes = [c_void_p]
    lib.cbk_error_free.restype = None
    lib.cbk_string_free.argtypes = [c_void_p]
    lib.cbk_string_free.restype = None
    lib.cbk_set_log_callback.argtypes = [c_int, LOG_CALLBACK, c_void_p]
    lib.cbk_set_log_callback.restype = None
    return lib


@pytest.fixture(scope="module")
def lib() -> ctypes.CDLL:
    if not os.path.exists(LIB_PATH):
        pytest.fail("library not found at %s (build it, or set CHATBOTKIT_LIB)" % LIB_PATH)
    return _declare(ctypes.CDLL(LIB_PATH))


@pytest.fixture(scope="module")
def base_url() -> str:
    """Starts standin/standin.py on a free port; stops it afterwards."""
    with running_standin(SECRET) as url:
        yield url

def take_string(lib, ptr) -> str:
    assert ptr, "expected a string, got NULL"
    try:
        return ctypes.string_at(ptr).decode("utf-8")
    finally:
        lib.cbk_string_free(ptr)


def read_error(lib, ptr) -> dict:
    """A copy of a (borrowed or owned) cbk_error's fields."""
    return {
        "status": lib.cbk_error_status(ptr),
        "code": lib.cbk_error_code(ptr).decode("utf-8"),
        "message": lib.cbk_error_message(ptr).decode("utf-8"),
        "http": lib.cbk_error_http_status(ptr),
    }


def take_error(lib, err: c_void_p) -> dict:
    assert err.value, "expected *error to be set"
    try:
        return read_error(lib, err.value)
    finally:
        lib.cbk_error_free(err.value)
        err.value = None


class Client:
    def __init__(self, lib, kind: str, base_url: str, **extra) -> None:
        self.lib, self.kind = lib, kind
        options = dict(secret=SECRET, baseUrl=base_url, **extra)
        err = c_void_p()
        self.handle = getattr(lib, "cbk_%s_session_client_new" % kind)(json.dumps(options).encode(), byref(err))
        assert self.handle, take_error(lib, err)

    def create_async(self, ident, callback=None, user_data=None, err=None):
        fn = getattr(self.lib, "cbk_%s_session_client_create_async" % self.kind)
        return fn(self.handle, None if ident is None else ident.encode(), None,
                  callback if callback is not None else CALLBACK(), user_data,
                  byref(err) if err is not None else None)

    def close(self) -> None:
        getattr(self.lib, "cbk_%s_session_client_free" % self.kind)(self.handle)
        self.handle = None


# --------------------------------------------------------------------------
# Callbacks: module-level CFUNCTYPE objects, alive for the whole run
# --------------------------------------------------------------------------


class Outcomes:
    """What the callbacks received, keyed by user_data (an int token)."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.results: dict[int, list] = {}
        self.threads: set[int] = set()
        self.times: dict[int, float] = {}

    def record(self, token: int, outcome) -> None:
        with self.cond:
            self.times.setdefault(token, time.perf_counter())
            self.results.setdefault(token, []).append(outcome)
            self.threads.add(threading.get_ident())
            self.cond.notify_all()

    def wait_for(self, tokens, timeout: float = WAIT_S) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: all(t in self.results for t in tokens), timeout=timeout)


OUTCOMES = Outcomes()
_LIB_FOR_CALLBACK: list = []  # the CDLL, for reading errors inside the callback


def _on_done(user_data, response_json, error) -> None:
    # Runs on a library thread. Copy everything: both pointers are borrowed.
    try:
        lib = _LIB_FOR_CALLBACK[0]
        if response_json:
            outcome = ("ok", ctypes.string_at(response_json).decode("utf-8"), error is not None)
        else:
            outcome = ("error", read_error(lib, error) if error else None, response_json is not None)
        OUTCOMES.record(user_data or 0, outcome)
    except BaseException as exc:  # never let an exception vanish silently
        OUTCOMES.record(user_data or 0, ("exception", repr(exc), False))


ON_DONE = CALLBACK(_on_done)

_token_lock = threading.Lock()
_next_token = [1000]


def new_tokens(n: int) -> list[int]:
    with _token_lock:
        first = _next_token[0]
        _next_token[0] += n
    return list(range(first, first + n))


@pytest.fixture(autouse=True)
def _callback_lib(lib):
    _LIB_FOR_CALLBACK[:] = [lib]
    yield


def task_wait(lib, task):
    """cbk_task_wait on a helper thread, bounded by WAIT_S."""
    box: dict = {}

    def run():
        err = c_void_p()
        ptr = lib.cbk_task_wait(task, byref(err))
        box["json"] = take_string(lib, ptr) if ptr else None
        box["error"] = take_error(lib, err) if err.value else None

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(WAIT_S)
    assert not t.is_alive(), "cbk_task_wait did not return within %s s" % WAIT_S
    return box["json"], box["error"]


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------

N_SESSIONS = 50


def test_mint_sessions_async(lib, base_url):
    client = Client(lib, "conversation", base_url)
    tokens = new_tokens(N_SESSIONS)
    tasks = []
    try:
        for i, token in enumerate(tokens):
            err = c_void_p()
            task = client.create_async("conv_py_%d" % i, ON_DONE, token, err)
            assert task, take_error(lib, err)
            tasks.append(task)
        assert OUTCOMES.wait_for(tokens), "not every callback ran within %s s" % WAIT_S
        assert threading.main_thread().ident not in OUTCOMES.threads
        seen_tokens = set()
        for token, task in zip(tokens, tasks):
            (kind, payload, other_set), = OUTCOMES.results[token]  # exactly once
            assert kind == "ok" and not other_set, (kind, payload)
            session = json.loads(payload)
            assert session["token"] and session["id"] and session["expiresAt"] > 0
            seen_tokens.add(session["token"])
            # cbk_task_wait returns a copy of what the callback got.
            got, error = task_wait(lib, task)
            assert error is None and got == payload
        assert len(seen_tokens) == N_SESSIONS
    finally:
        for task in tasks:
            lib.cbk_task_free(task)
        client.close()


def test_bot_session_async_and_client_freed_first(lib, base_url):
    client = Client(lib, "bot", base_url)
    tokens = new_tokens(3)
    tasks = [client.create_async("slow-200", ON_DONE, t) for t in tokens]
    client.close()  # the tasks keep going
    try:
        assert all(tasks)
        assert OUTCOMES.wait_for(tokens)
        for token in tokens:
            (kind, payload, _), = OUTCOMES.results[token]
            assert kind == "ok", payload
            assert "conversationId" in json.loads(payload)
    finally:
        for task in tasks:
            lib.cbk_task_free(task)


def test_api_error_async(lib, base_url):
    client = Client(lib, "conversation", base_url)
    (token,) = new_tokens(1)
    task = client.create_async("fail-404", ON_DONE, token)
    try:
        assert task
        assert OUTCOMES.wait_for([token])
        (kind, error, response_set), = OUTCOMES.results[token]
        assert kind == "error" and not response_set
        assert error["status"] == CBK_ERROR_API and error["code"] == "NOT_FOUND" and error["http"] == 404
        got, werr = task_wait(lib, task)
        assert got is None and werr == error
    finally:
        lib.cbk_task_free(task)
        client.close()


def test_cancel(lib, base_url):
    client = Client(lib, "conversation", base_url)
    (token,) = new_tokens(1)
    started = time.monotonic()
    task = client.create_async("slow-3000", ON_DONE, token)
    try:
        assert task
        time.sleep(0.2)
        lib.cbk_task_cancel(task)
        assert OUTCOMES.wait_for([token])
        elapsed = time.monotonic() - started
        (kind, error, _), = OUTCOMES.results[token]
        assert kind == "error"
        assert error["status"] == CBK_ERROR_CANCELLED and error["code"] == "CANCELLED" and error["http"] == 0
        assert elapsed < 2.0, "cancelled after %.2f s; the server holds 3 s" % elapsed
        lib.cbk_task_cancel(task)  # again: nothing happens
        got, werr = task_wait(lib, task)
        assert got is None and werr["status"] == CBK_ERROR_CANCELLED
        time.sleep(0.1)
        assert len(OUTCOMES.results[token]) == 1
    finally:
        lib.cbk_task_free(task)
        client.close()


def test_cancel_immediately_and_free_before_completion(lib, base_url):
    client = Client(lib, "conversation", base_url)
    t_cancel, t_free = new_tokens(2)
    before = time.perf_counter()
    cancelled = client.create_async("conv_py_cancel_now", ON_DONE, t_cancel)
    created = time.perf_counter()
    lib.cbk_task_cancel(cancelled)
    cancel_returned = time.perf_counter()
    lib.cbk_task_free(cancelled)
    freed = client.create_async("slow-300", ON_DONE, t_free)
    lib.cbk_task_free(freed)  # does not cancel: the callback still runs
    client.close()
    assert OUTCOMES.wait_for([t_cancel, t_free])
    (kind, error, _), = OUTCOMES.results[t_cancel]
    timing = "create_async took %.0f us; cancel returned %.0f us after it; the callback ran %.0f us after it" % (
        (created - before) * 1e6, (cancel_returned - created) * 1e6,
        (OUTCOMES.times[t_cancel] - created) * 1e6)
    if kind == "ok":
        # Only legitimate when the whole request completed before
        # cbk_task_cancel returned: returning from create_async needs the GIL,
        # which the library thread running the callback may take first.
        assert OUTCOMES.times[t_cancel] < cancel_returned, ("completed after the cancel", timing)
    else:
        assert error["code"] == "CANCELLED", (kind, error, timing)
    (kind, payload, _), = OUTCOMES.results[t_free]
    assert kind == "ok" and json.loads(payload)["token"]


def test_wait_without_callback_from_many_threads(lib, base_url):
    client = Client(lib, "conversation", base_url)
    task = client.create_async("slow-300")  # NULL callback
    try:
        assert task
        results = []
        threads = [threading.Thread(target=lambda: results.append(task_wait(lib, task))) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(WAIT_S + 1)
        assert len(results) == 8
        payloads = {json_text for json_text, error in results if error is None}
        assert len(payloads) == 1 and json.loads(payloads.pop())["token"]
    finally:
        lib.cbk_task_free(task)
        client.close()


def test_bad_input_never_calls_back(lib, base_url):
    client = Client(lib, "conversation", base_url)
    token_null_client, token_null_id = new_tokens(2)
    try:
        err = c_void_p()
        task = lib.cbk_conversation_session_client_create_async(None, b"x", None, ON_DONE, token_null_client,
                                                                byref(err))
        assert not task
        assert take_error(lib, err)["status"] == CBK_ERROR_INVALID_ARGUMENT
        task = client.create_async(None, ON_DONE, token_null_id, err)
        assert not task
        error = take_error(lib, err)
        assert error["status"] == CBK_ERROR_INVALID_ARGUMENT and "conversation_id" in error["message"]
        lib.cbk_task_cancel(None)
        lib.cbk_task_free(None)
        assert not lib.cbk_task_wait(None, byref(err))
        assert take_error(lib, err)["status"] == CBK_ERROR_INVALID_ARGUMENT
        time.sleep(0.3)
        assert token_null_client not in OUTCOMES.results and token_null_id not in OUTCOMES.results
    finally:
        client.close()


LOG_LINES: list = []
_log_lock = threading.Lock()


def _on_log(user_data, level, message) -> None:
    with _log_lock:
        LOG_LINES.append((user_data, level, message.decode("utf-8")))


ON_LOG = LOG_CALLBACK(_on_log)


def test_log_callback(lib, base_url):
    client = Client(lib, "conversation", base_url, retries=1, retryDelay=10)
    (token,) = new_tokens(1)
    LOG_LINES.clear()
    lib.cbk_set_log_callback(CBK_LOG_DEBUG, ON_LOG, 4242)
    try:
        task = client.create_async("fail-503", ON_DONE, token)
        assert OUTCOMES.wait_for([token])
        lib.cbk_task_free(task)
    finally:
        lib.cbk_set_log_callback(CBK_LOG_DEBUG, LOG_CALLBACK(), None)  # NULL: off
        client.close()
    with _log_lock:
        everything = list(LOG_LINES)
    # DEBUG lines (connections opened and reused) come and go with the
    # transport; the attempts are the contract.
    lines = [line for line in everything if line[1] != CBK_LOG_DEBUG]
    assert [(ud, lvl) for ud, lvl, _ in lines] == [(4242, CBK_LOG_WARN), (4242, CBK_LOG_ERROR)], everything
    for _, _, text in lines:
        assert text.startswith("POST ") and "503" in text
        assert "/api/v1/conversation/fail-503/session/create" in text
    for _, _, text in everything:
        assert SECRET not in text and "Bearer" not in text
    assert "attempt 1" in lines[0][2] and "attempt 2" in lines[1][2]
