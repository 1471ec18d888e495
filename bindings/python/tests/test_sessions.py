"""Blocking calls, options, errors, lifetime and threads, against the stand-in."""

from __future__ import annotations

import concurrent.futures
import copy
import datetime
import gc
import json
import pickle
import threading
import time
import weakref

import pytest

import chatbotkit_c
from chatbotkit_c import (
    APIError,
    BotSessionClient,
    CallCancelledError,
    ChatBotKitError,
    ConversationSessionClient,
    InvalidArgumentError,
    InvalidJSONError,
    NetworkError,
    RequestTimeoutError,
    SessionClient,
    Task,
)


def test_version():
    assert chatbotkit_c.version() == chatbotkit_c.__version__ == "0.1.0"


def test_session_client_alias():
    assert SessionClient is BotSessionClient


def test_status_names_come_from_the_library():
    assert [chatbotkit_c.status_name(i) for i in range(9)] == [
        "OK", "INVALID_ARGUMENT", "INVALID_JSON", "API", "TIMEOUT", "NETWORK",
        "INVALID_RESPONSE", "CANCELLED", "INTERNAL"]
    assert chatbotkit_c.status_name(99) == "UNKNOWN"


def test_conversation_create(opts, recorded, secret):
    client = ConversationSessionClient(**opts)
    session = client.create("cnv_py_1")
    assert session["token"] and session["id"] and isinstance(session["expiresAt"], int)
    assert client.create("cnv_py_1", {"expiresIn": 60})["token"] != session["token"]
    assert client.create("cnv_py_1", '{"raw": true}')["token"]
    reqs = recorded()
    assert [r["path"] for r in reqs] == ["/api/v1/conversation/cnv_py_1/session/create"] * 3
    assert [json.loads(r["body"]) for r in reqs] == [{}, {"expiresIn": 60}, {"raw": True}]
    assert reqs[0]["headers"]["authorization"] == f"Bearer {secret}"
    client.close()


def test_bot_create(opts, recorded):
    with BotSessionClient(**opts) as client:
        assert client.create("bot_py_1", {})["conversationId"]
    assert [r["path"] for r in recorded()] == ["/api/v1/bot/bot_py_1/session/create"]


def test_ids_are_one_segment(opts, recorded):
    with ConversationSessionClient(**opts) as client:
        assert client.create("a/b?c#d é")["token"]
    assert recorded()[0]["path"] == "/api/v1/conversation/a%2Fb%3Fc%23d%20%C3%A9/session/create"


# ---------------------------------------------------------------------------
# Options


def test_snake_case_and_json_names(opts, base_url, secret):
    snake = ConversationSessionClient(secret=secret, base_url=base_url, retry_delay=0.25,
                                      retry_timeout=False, max_response_bytes=1000,
                                      run_as_user_id="u1", user_agent="ua/1")
    camel = ConversationSessionClient(secret=secret, baseUrl=base_url, retryDelay=0.25,
                                      retryTimeout=False, maxResponseBytes=1000,
                                      runAsUserId="u1", userAgent="ua/1")
    assert snake.options_json() == camel.options_json()
    raw = json.loads(snake.options_json())
    assert raw["retryDelay"] == 250 and raw["retryTimeout"] is False
    assert raw["runAsUserId"] == "u1" and raw["userAgent"] == "ua/1"
    assert raw["maxResponseBytes"] == 1000
    with pytest.raises(TypeError, match="same option"):
        ConversationSessionClient(base_url=base_url, baseUrl=base_url)


@pytest.mark.parametrize("given, ms", [
    (10, 10000), (1.5, 1500), (0.001, 1), (0.0005, 0.5),
    (datetime.timedelta(milliseconds=2500), 2500),
])
def test_times_are_seconds(given, ms):
    client = ConversationSessionClient(timeout=given, connect_timeout=given, retry_delay=given)
    raw = json.loads(client.options_json())
    assert raw["timeout"] == raw["connectTimeout"] == raw["retryDelay"] == ms
    assert client.options()["timeout"] == ms / 1000
    # 0 is "no timeout", as in the library.
    assert "timeout" not in ConversationSessionClient(timeout=0).options()


def test_options_round_trip(opts, base_url, secret):
    client = ConversationSessionClient(**opts, timeout=2.5, headers={"X-Keep": "1"})
    o = client.options()
    assert o["secret"] == secret
    assert o["base_url"].rstrip("/") == base_url
    assert o["timeout"] == 2.5 and o["retry_delay"] == 0.001 and o["retries"] == 3
    assert o["headers"] == {"X-Keep": "1"}  # header names as given
    assert "baseUrl" not in o and "retryDelay" not in o
    again = ConversationSessionClient(**o)
    assert again.options() == o
    assert again.create("cnv_py_options")["token"]
    from_json = ConversationSessionClient.from_options_json(client.options_json())
    assert from_json.options_json() == client.options_json()
    # A mapping positionally; keywords win, whichever spelling either uses.
    mixed = BotSessionClient({"baseUrl": base_url, "retries": 2}, retries=1, secret=secret)
    assert mixed.options()["retries"] == 1
    assert ConversationSessionClient().options()["base_url"].startswith("https://api.chatbotkit.com")


def test_extend(opts, recorded, secret):
    parent = ConversationSessionClient(**opts)
    child = parent.extend(headers={"x-py-test": "yes"}, timezone="Europe/London", retries=1,
                          timeout=3)
    assert isinstance(child, ConversationSessionClient)
    co = child.options()
    assert co["headers"] == {"x-py-test": "yes"} and co["timezone"] == "Europe/London"
    assert co["retries"] == 1 and co["timeout"] == 3 and co["secret"] == secret
    grandchild = child.extend(headers={"x-other": "1"})
    assert grandchild.options()["headers"] == {"x-py-test": "yes", "x-other": "1"}
    reset = grandchild.extend(retries=None, timeout=None, headers={"x-py-test": None})
    assert reset.options()["retries"] == 3 and reset.options().get("timeout") is None
    assert reset.options()["headers"] == {"x-other": "1"}
    parent.close()
    del parent
    gc.collect()
    assert child.create("cnv_py_extend")["token"]
    headers = recorded()[-1]["headers"]
    assert headers["x-py-test"] == "yes" and headers["x-timezone"] == "Europe/London"


def test_fetch(opts, recorded):
    with ConversationSessionClient(**opts) as client:
        r = client.fetch("/api/v1/bot/bot_py_fetch/session/create", method="POST",
                         record={"a": 1}, headers={"x-fetch": "1"}, retry_delay=0.001, timeout=5)
        assert r["token"]
        last = recorded()[-1]
        assert json.loads(last["body"]) == {"a": 1} and last["headers"]["x-fetch"] == "1"
        with pytest.raises(APIError) as info:
            client.fetch("/api/v1/nowhere", method="GET")
        assert info.value.code == "NOT_FOUND" and info.value.http_status == 404


# ---------------------------------------------------------------------------
# Errors


@pytest.mark.parametrize("cls", [ConversationSessionClient, BotSessionClient])
def test_api_error(cls, opts, secret):
    with cls(**opts) as client:
        with pytest.raises(APIError) as info:
            client.create("fail-404")
    e = info.value
    assert isinstance(e, ChatBotKitError)
    assert e.status == 3 and e.status_name == "API"
    assert e.code == "NOT_FOUND" and e.http_status == 404
    assert e.message and secret not in e.message and secret not in repr(e)
    assert "NOT_FOUND" in str(e) and "HTTP 404" in str(e)
    # The library's own JSON of the error (cbk_error_to_json), kept with it.
    as_json = json.loads(e.json)
    assert as_json["code"] == "NOT_FOUND" and as_json["message"] == e.message
    assert secret not in e.json
    assert pickle.loads(pickle.dumps(e)).json == e.json


def test_api_error_after_retries(opts):
    with ConversationSessionClient(**opts, retries=1) as client:
        with pytest.raises(APIError) as info:
            client.create("fail-503")
    assert info.value.http_status == 503


def test_timeout_error_is_a_builtin_timeout(opts):
    with ConversationSessionClient(**opts, timeout=0.2, retries=0) as client:
        start = time.monotonic()
        with pytest.raises(TimeoutError) as info:
            client.create("slow-3000")
        assert time.monotonic() - start < 2.5
    assert isinstance(info.value, RequestTimeoutError)
    assert info.value.status_name == "TIMEOUT" and info.value.http_status == 0


def test_network_error_is_a_connection_error():
    import socket
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with ConversationSessionClient(secret="x", base_url=f"http://127.0.0.1:{port}",
                                   retries=0) as client:
        with pytest.raises(ConnectionError) as info:
            client.create("cnv")
    assert isinstance(info.value, NetworkError) and info.value.status_name == "NETWORK"


def test_error_pickles(opts):
    with ConversationSessionClient(**opts) as client:
        with pytest.raises(APIError) as info:
            client.create("fail-404")
    e = info.value
    c = pickle.loads(pickle.dumps(e))
    assert type(c) is APIError
    assert (c.status, c.status_name, c.code, c.message, c.http_status) == (
        e.status, e.status_name, e.code, e.message, e.http_status)


@pytest.mark.parametrize("cls", [ConversationSessionClient, BotSessionClient])
@pytest.mark.parametrize("options, error, name", [
    ({"timeout": "soon"}, InvalidJSONError, "timeout"),
    ({"no_such_option": 1}, InvalidJSONError, "noSuchOption"),
    ({"headers": ["x"]}, InvalidJSONError, "headers"),
    ({"retries": -1}, InvalidArgumentError, "retries"),
    ({"timeout": -1}, InvalidArgumentError, "timeout"),
    ({"base_url": "ftp://example.com"}, InvalidArgumentError, "baseUrl"),
    ({"secret": "sk_line\nbreak"}, InvalidArgumentError, "secret"),
])
def test_bad_options(cls, options, error, name):
    with pytest.raises(error) as info:
        cls(**options)
    e = info.value
    assert isinstance(e, ValueError)
    assert e.code == e.status_name and e.http_status == 0
    assert name in e.message and "sk_line" not in e.message


def test_bad_options_extend(opts):
    client = BotSessionClient(**opts)
    with pytest.raises(InvalidJSONError, match="retries"):
        client.extend(retries="many")
    assert client.create("bot_py_after_bad_extend")["token"]


def test_values_json_cannot_hold():
    with pytest.raises(TypeError):
        ConversationSessionClient(headers={"x": object()})
    with pytest.raises(ValueError):
        ConversationSessionClient(timeout=float("nan"))


def test_bad_ids(opts):
    with ConversationSessionClient(**opts) as client:
        with pytest.raises(TypeError, match="conversation_id"):
            client.create(None)
        with pytest.raises(TypeError):
            client.create(b"cnv")
        for ident in ("", ".", ".."):
            with pytest.raises(InvalidArgumentError):
                client.create(ident)
        with pytest.raises(ValueError, match="NUL"):
            client.create("cnv\x00x")
        with pytest.raises(InvalidArgumentError):
            client.create("cnv\udc80")  # reaches the library as invalid UTF-8
        with pytest.raises(InvalidJSONError):
            client.create("cnv_py", "[1]")
        with pytest.raises(TypeError):
            client.create("cnv_py", 5)
    with BotSessionClient(**opts) as bot:
        with pytest.raises(TypeError, match="bot_id"):
            bot.create(None)


# ---------------------------------------------------------------------------
# Lifetime


def test_context_manager(opts):
    with ConversationSessionClient(**opts) as client:
        assert not client.closed
    assert client.closed
    with pytest.raises(ValueError, match="closed"):
        client.create("cnv_py_with")
    for method in (client.options, client.extend, client.create_async):
        with pytest.raises((ValueError, TypeError)):
            method()
    client.close()
    with pytest.raises(ValueError):
        with client:
            pass


def _count_frees(client):
    calls = []
    real = client._fns["free"]

    def counting(handle):
        calls.append(handle)
        real(handle)

    client._fns = dict(client._fns, free=counting)
    return calls


def test_handles_freed_once(opts):
    client = ConversationSessionClient(**opts)
    frees = _count_frees(client)
    client.close()
    client.close()
    del client
    gc.collect()
    assert len(frees) == 1

    client = BotSessionClient(**opts)
    frees = _count_frees(client)
    ref = weakref.ref(client)
    del client
    gc.collect()
    assert ref() is None and len(frees) == 1


def test_close_while_in_use(opts):
    client = ConversationSessionClient(**opts)
    frees = _count_frees(client)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        slow = pool.submit(client.create, "slow-500")
        deadline = time.monotonic() + 10
        while client._busy == 0:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        client.close()
        assert frees == []  # deferred until the call returns
        assert slow.result(timeout=30)["token"]
    assert len(frees) == 1


def test_not_copyable(opts):
    client = ConversationSessionClient(**opts)
    with pytest.raises(TypeError):
        copy.copy(client)
    with pytest.raises(TypeError):
        pickle.dumps(client)


# ---------------------------------------------------------------------------
# Threads and tasks


def test_threads_run_in_parallel(opts):
    with ConversationSessionClient(**opts) as client:
        start = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda i: client.create("slow-400"), range(8)))
        elapsed = time.monotonic() - start
    assert len({r["token"] for r in results}) == 8
    assert elapsed < 2.5, elapsed


def test_task(opts):
    with ConversationSessionClient(**opts) as client:
        with client.create_async("cnv_py_async") as task:
            assert isinstance(task, Task)
            first = task.wait()
            assert first["token"] and task.done() and task.wait(0) == first

        failing = client.create_async("fail-404")
        with pytest.raises(APIError):
            failing.wait(10)
        failing.close()

        slow = client.create_async("slow-3000")
        with pytest.raises(TimeoutError) as info:
            slow.wait(timeout=0.05)  # Python's wait, not the request's
        assert not isinstance(info.value, ChatBotKitError)
        assert not slow.done()
        slow.cancel()
        with pytest.raises(CallCancelledError) as cancelled:
            slow.wait(5)
        assert cancelled.value.code == "CANCELLED" and cancelled.value.status_name == "CANCELLED"
        slow.close()
        slow.close()
        with pytest.raises(CallCancelledError):
            slow.wait()  # the outcome outlives the handle

        with pytest.raises(InvalidArgumentError):
            client.create_async("")

        fetched = client.fetch_async("/api/v1/bot/bot_py_fa/session/create", method="POST",
                                     record={})
        assert fetched.wait(10)["conversationId"]

    # The client may go before its task; a dropped task still completes.
    bot = BotSessionClient(**opts)
    task = bot.create_async("bot_py_async")
    bot.close()
    assert task.wait(10)["conversationId"]
    seen = threading.Event()
    client = ConversationSessionClient(**opts)
    client.create_async("slow-100").add_done_callback(lambda t: seen.set())
    gc.collect()
    assert seen.wait(10)


def test_done_callback_thread_and_order(opts):
    with ConversationSessionClient(**opts) as client:
        task = client.create_async("slow-100")
        got = []
        done = threading.Event()
        task.add_done_callback(lambda t: (got.append((t is task, threading.current_thread())),
                                          done.set()))
        assert done.wait(10)
        assert got[0][0] and got[0][1] is not threading.main_thread()
        late = []
        task.add_done_callback(late.append)  # already done: runs at once, here
        assert late == [task]


def test_many_tasks_from_many_threads(opts):
    with ConversationSessionClient(**opts) as client:
        def work(i):
            tasks = [client.create_async(f"cnv_py_many_{i}_{j}") for j in range(20)]
            return [t.wait(30)["token"] for t in tasks]

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            tokens = [t for r in pool.map(work, range(8)) for t in r]
    assert len(set(tokens)) == 160
