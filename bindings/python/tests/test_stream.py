"""client.stream(): the blocking iterator over a JSON Lines response."""

from __future__ import annotations

import gc
import threading
import time

import pytest

from chatbotkit_c import APIError, BotSessionClient, CallCancelledError, ConversationSessionClient
from conftest import COMPLETE, words


def test_items_in_order(opts, recorded):
    with ConversationSessionClient(**opts) as client:
        items = list(client.stream(COMPLETE, record={"text": "hello there"}))
    assert [i["type"] for i in items] == ["token"] * 4 + ["result"]
    assert items[-1]["data"]["text"] == "You said: hello there"
    req = recorded()[-1]
    assert req["headers"]["accept"] == "application/jsonl"
    assert req["method"] == "POST"


def test_items_arrive_as_they_come(opts):
    with BotSessionClient(**opts) as client:
        start = time.monotonic()
        stream = client.stream(COMPLETE, record={"text": words(100)})
        first = next(stream)
        first_at = time.monotonic() - start
        rest = list(stream)
        total = time.monotonic() - start
    assert first["type"] == "token"
    assert len(rest) == 102
    assert first_at < total / 3, (first_at, total)  # not buffered to the end


def test_break_stops_the_stream_and_closes_the_connection(opts, caplog):
    import logging

    import chatbotkit_c
    caplog.set_level(logging.INFO, logger="chatbotkit")
    chatbotkit_c.enable_logging()
    with ConversationSessionClient(**opts) as client:
        start = time.monotonic()
        with client.stream(COMPLETE, record={"text": words(300)}) as stream:
            for item in stream:
                break
        call = stream._call
        assert call.event.wait(3), "the stream did not stop"
        assert isinstance(call.error, CallCancelledError)
        assert time.monotonic() - start < 3  # the whole body takes 6 s
        assert stream.closed
        assert list(stream) == []  # closed: no more items, no error

        # A dropped iterator is stopped too (CPython frees it at once).
        for item in client.stream(COMPLETE, record={"text": words(300)}):
            break
        gc.collect()
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and sum(
                "complete cancelled" in r.getMessage() for r in caplog.records) < 2:
            time.sleep(0.05)
    assert sum("complete cancelled" in r.getMessage() for r in caplog.records) >= 2


def test_close_from_another_thread_while_waiting(opts):
    with ConversationSessionClient(**opts) as client:
        stream = client.stream(COMPLETE, record={"text": words(300)})
        next(stream)
        threading.Timer(0.2, stream.close).start()
        got = list(stream)  # ends when closed, without an error
        assert len(got) < 100
        assert stream._call.event.wait(3)


def test_error_after_retries(opts):
    with ConversationSessionClient(**opts, retries=0) as client:
        with pytest.raises(APIError) as info:
            for _ in client.stream("/api/v1/conversation/cnv/nowhere", method="GET"):
                pass
    assert info.value.http_status == 404


def test_timeout_between_items(opts):
    # `timeout` bounds each wait for the next line; the stand-in's 20 ms gaps
    # fit in 1 s, so a long stream is not cut.
    with ConversationSessionClient(**opts) as client:
        items = list(client.stream(COMPLETE, record={"text": words(80)}, timeout=1))
    assert items[-1]["type"] == "result"


def test_many_streams_at_once(opts):
    with ConversationSessionClient(**opts) as client:
        def one(i):
            return list(client.stream(COMPLETE, record={"text": f"n{i} x"}))[-1]["data"]["text"]

        threads = []
        results = {}
        for i in range(16):
            t = threading.Thread(target=lambda i=i: results.__setitem__(i, one(i)))
            t.start()
            threads.append(t)
        for t in threads:
            t.join(30)
    assert results == {i: f"You said: n{i} x" for i in range(16)}
