"""acreate, afetch, await task, astream and cancellation under asyncio."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import pytest

from chatbotkit_c import (
    APIError,
    BotSessionClient,
    CallCancelledError,
    ConversationSessionClient,
    InvalidArgumentError,
    RequestTimeoutError,
)
from conftest import COMPLETE, words


def run(coro, timeout=30):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def test_acreate_and_afetch(opts, recorded):
    async def main():
        async with ConversationSessionClient(**opts) as client:
            session = await client.acreate("cnv_py_a1", {"expiresIn": 60})
            assert session["token"]
            bot = BotSessionClient(**opts)
            assert (await bot.acreate("bot_py_a1"))["conversationId"]
            reply = await client.afetch(COMPLETE, record={"text": "hi"})
            assert reply["text"] == "You said: hi"
            return session

    run(main())
    assert [r["path"] for r in recorded()][:2] == [
        "/api/v1/conversation/cnv_py_a1/session/create", "/api/v1/bot/bot_py_a1/session/create"]


def test_loop_keeps_running_and_calls_overlap(opts):
    async def main():
        client = ConversationSessionClient(**opts)
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        tick = asyncio.ensure_future(ticker())
        start = time.monotonic()
        results = await asyncio.gather(*(client.acreate("slow-400") for _ in range(10)))
        elapsed = time.monotonic() - start
        tick.cancel()
        assert len({r["token"] for r in results}) == 10
        assert elapsed < 2.0, elapsed  # concurrent, not one after the other
        assert ticks >= 10  # the loop was never blocked

    run(main())


def test_result_arrives_on_the_loop_thread(opts):
    async def main():
        client = ConversationSessionClient(**opts)
        task = client.create_async("cnv_py_thread")
        assert (await task)["token"]
        assert threading.current_thread() is threading.main_thread()
        assert (await task)["token"]  # awaitable again: the stored outcome

    run(main())


def test_errors_raise_from_await(opts):
    async def main():
        client = ConversationSessionClient(**opts, retries=0)
        with pytest.raises(APIError) as info:
            await client.acreate("fail-404")
        assert info.value.http_status == 404
        with pytest.raises(TimeoutError):
            await client.extend(timeout=0.1).acreate("slow-2000")
        with pytest.raises(RequestTimeoutError):
            await client.afetch("/api/v1/bot/slow-2000/session/create", record={},
                                timeout=0.1)
        with pytest.raises(InvalidArgumentError):
            await client.acreate("..")

    run(main())


def test_cancelling_the_asyncio_task_cancels_the_call(opts, caplog, monkeypatch):
    caplog.set_level(logging.WARNING, logger="chatbotkit")
    import chatbotkit_c
    chatbotkit_c.enable_logging()

    async def main():
        client = ConversationSessionClient(**opts)
        created = []
        real = ConversationSessionClient.create_async

        def spy(self, *args):
            task = real(self, *args)
            created.append(task)
            return task

        monkeypatch.setattr(ConversationSessionClient, "create_async", spy)
        job = asyncio.ensure_future(client.acreate("slow-5000"))
        await asyncio.sleep(0.2)
        start = time.monotonic()
        job.cancel()
        with pytest.raises(asyncio.CancelledError):
            await job
        # The C task got CANCELLED at once (not after the 5 s answer).
        with pytest.raises(CallCancelledError):
            await asyncio.get_running_loop().run_in_executor(None, created[0].wait, 3)
        assert time.monotonic() - start < 2.0

        # wait_for's timeout cancels the same way.
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(client.acreate("slow-5000"), 0.1)

    run(main())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and sum("cancelled" in r.getMessage() for r in caplog.records) < 2:
        time.sleep(0.05)
    assert sum("slow-5000" in r.getMessage() and "cancelled" in r.getMessage()
               for r in caplog.records) >= 2


def test_cancelled_call_is_not_an_asyncio_cancellation(opts):
    async def main():
        client = ConversationSessionClient(**opts)
        task = client.create_async("slow-3000")
        task.cancel()
        try:
            await task
        except Exception as e:  # an ordinary exception: `except Exception` sees it
            assert isinstance(e, CallCancelledError)
            assert not isinstance(e, asyncio.CancelledError)
        else:
            pytest.fail("no error")
        # This coroutine itself was not cancelled.
        assert (await client.acreate("cnv_py_after"))["token"]

    run(main())


def test_astream(opts):
    async def main():
        async with ConversationSessionClient(**opts) as client:
            items = [item async for item in client.astream(COMPLETE, record={"text": "a b c"})]
        assert [i["type"] for i in items] == ["token"] * 5 + ["result"]
        assert items[-1]["data"]["text"] == "You said: a b c"
        assert "".join(i["data"]["token"] for i in items[:-1]) == "You said: a b c"

    run(main())


def test_astream_break_stops_the_stream(opts):
    async def main():
        client = ConversationSessionClient(**opts)
        start = time.monotonic()
        async with client.astream(COMPLETE, record={"text": words(300)}) as stream:
            async for item in stream:
                break
        call = stream._call
        done = await asyncio.get_running_loop().run_in_executor(None, call.event.wait, 3)
        assert done and isinstance(call.error, CallCancelledError)
        assert time.monotonic() - start < 3  # the full body takes 6 s
        assert stream.closed

        # Dropping the iterator after `break` stops it too.
        async for item in client.astream(COMPLETE, record={"text": words(300)}):
            break
        # Cancelling the consuming task stops it as well.
        streams = []

        async def consume():
            s = client.astream(COMPLETE, record={"text": words(300)})
            streams.append(s)
            async for _ in s:
                pass

        job = asyncio.ensure_future(consume())
        await asyncio.sleep(0.2)
        job.cancel()
        with pytest.raises(asyncio.CancelledError):
            await job
        assert streams[0].closed
        done = await asyncio.get_running_loop().run_in_executor(
            None, streams[0]._call.event.wait, 3)
        assert done

    run(main())


def test_astream_errors(opts):
    async def main():
        client = ConversationSessionClient(**opts)
        with pytest.raises(APIError) as info:
            async for _ in client.astream("/api/v1/conversation/x/nowhere", method="GET"):
                pass
        assert info.value.http_status == 404
        with pytest.raises(TypeError):
            client.astream(None)

    run(main())
