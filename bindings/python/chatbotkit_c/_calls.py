"""Async calls: the library's callbacks, Task, Stream and AsyncStream.

The C side gets two trampolines made once at import and kept for the life of
the process, so that no ctypes callback object can be collected while a
library thread may still call it. What differs per call travels as
``user_data``: an integer key into ``_registry``, whose entry (a ``_Call``)
lives until the call's completion callback, the last call the C side makes
for that task, has run.
"""

from __future__ import annotations

import asyncio
import atexit
import ctypes
import itertools
import json
import logging
import queue
import threading
import time
from typing import Any, AsyncIterator, Callable, Dict, Generator, Generic, Iterator, List, Optional, Tuple, TypeVar

from .errors import read_error, take_error

__all__ = ["AsyncStream", "Stream", "Task"]

T = TypeVar("T")

_log = logging.getLogger("chatbotkit.callbacks")

_DONE_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p)
_ITEM_TYPE = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p)

_registry: Dict[int, "_Call"] = {}
_registry_lock = threading.Lock()
_keys = itertools.count(1)
# Calls whose handle Python gave up before the completion ran: freed by the
# next sweep after it has (freeing a task from its own callback is avoided),
# and still cancellable at exit.
_orphans: List["_Call"] = []

_END = object()


class _Call:
    """One async call's state, shared by the library's callbacks (on library
    threads) and the Python object that started it."""

    __slots__ = ("lib", "key", "handle", "handle_lock", "released", "parse", "on_item",
                 "stopped", "lock", "event", "value", "error", "done_callbacks")

    def __init__(self, lib: ctypes.CDLL, parse: Callable[[bytes], Any],
                 on_item: Optional[Callable[[bytes], None]] = None) -> None:
        self.lib = lib
        self.key = 0
        self.handle: Optional[int] = None
        # Reentrant: a done callback may cancel its own task.
        self.handle_lock = threading.RLock()
        self.released = False
        self.parse = parse
        self.on_item = on_item
        self.stopped = False
        self.lock = threading.Lock()
        self.event = threading.Event()
        self.value: Any = None
        self.error: Optional[BaseException] = None
        self.done_callbacks: List[Callable[[], None]] = []

    # On a library thread, exactly once.
    def finish(self, response: Optional[bytes], err: Optional[int]) -> None:
        value: Any = None
        error: Optional[BaseException] = None
        try:
            if response is not None:
                value = self.parse(response)
            else:
                error = read_error(self.lib, err)
        except BaseException as e:  # a callback must not raise into C
            error = e
        with self.lock:
            if self.error is not None:  # an item that could not be delivered
                value, error = None, self.error
            self.value, self.error = value, error
            callbacks, self.done_callbacks = self.done_callbacks, []
            self.event.set()
        for callback in callbacks:
            try:
                callback()
            except BaseException:
                _log.exception("a done callback raised")
        with _registry_lock:
            _registry.pop(self.key, None)

    def add_done_callback(self, callback: Callable[[], None]) -> None:
        with self.lock:
            if not self.event.is_set():
                self.done_callbacks.append(callback)
                return
        callback()

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value

    def cancel(self) -> None:
        with self.handle_lock:
            if self.handle is not None:
                self.lib.cbk_task_cancel(self.handle)

    def release(self) -> None:
        with self.handle_lock:
            if self.released:
                return
            self.released = True
            if self.handle is None:
                return
            if self.event.is_set():
                handle, self.handle = self.handle, None
                self.lib.cbk_task_free(handle)
                return
        with _registry_lock:
            _orphans.append(self)


def _sweep() -> None:
    with _registry_lock:
        done = [call for call in _orphans if call.event.is_set()]
        if not done:
            return
        _orphans[:] = [call for call in _orphans if not call.event.is_set()]
    for call in done:
        with call.handle_lock:
            handle, call.handle = call.handle, None
            if handle is not None:
                call.lib.cbk_task_free(handle)


def _on_done(user_data: Optional[int], response_json: Optional[bytes], error: Optional[int]) -> None:
    call = _registry.get(user_data or 0)
    if call is not None:
        call.finish(response_json, error)


def _on_item(user_data: Optional[int], item_json: Optional[bytes]) -> int:
    call = _registry.get(user_data or 0)
    if call is None or call.stopped or call.on_item is None or item_json is None:
        return 1
    try:
        call.on_item(item_json)
    except BaseException as e:  # stop the stream; its completion reports this
        call.stopped = True
        with call.lock:
            if call.error is None:
                call.error = e
        _log.debug("a stream item could not be delivered", exc_info=True)
    return 1 if call.stopped else 0


_ON_DONE = _DONE_TYPE(_on_done)
_ON_ITEM = _ITEM_TYPE(_on_item)
_ON_DONE_PTR = ctypes.cast(_ON_DONE, ctypes.c_void_p)
_ON_ITEM_PTR = ctypes.cast(_ON_ITEM, ctypes.c_void_p)


def start(lib: ctypes.CDLL, fn: Any, args: Tuple[Any, ...], parse: Callable[[bytes], Any],
          on_item: Optional[Callable[[bytes], None]] = None) -> _Call:
    """Starts a C async call: ``fn(*args, [on_item,] on_done, user_data, &err)``."""
    _sweep()
    call = _Call(lib, parse, on_item)
    with _registry_lock:
        call.key = next(_keys)
        _registry[call.key] = call  # before the call: the callback may come first
    err = ctypes.c_void_p()
    try:
        if on_item is None:
            handle = fn(*args, _ON_DONE_PTR, call.key, ctypes.byref(err))
        else:
            handle = fn(*args, _ON_ITEM_PTR, _ON_DONE_PTR, call.key, ctypes.byref(err))
    except BaseException:
        with _registry_lock:
            _registry.pop(call.key, None)
        raise
    if not handle:
        # Refused arguments: the callback never runs.
        with _registry_lock:
            _registry.pop(call.key, None)
        raise take_error(lib, err)
    with call.handle_lock:
        call.handle = handle
    return call


def _parse_summary(response: bytes) -> Any:
    return json.loads(response)


class Task(Generic[T]):
    """An async call in flight or done (a ``cbk_task``).

    ``task.wait(timeout=None)`` blocks (without the GIL) for the result;
    ``await task`` waits without blocking the event loop; ``task.cancel()``
    cancels the call (it then fails with :class:`CallCancelledError`, unless it
    had already finished). :meth:`close` (or the end of a ``with`` block, or
    garbage collection) releases the handle without cancelling; the outcome
    stays readable.
    """

    __slots__ = ("_call", "__weakref__")

    def __init__(self, call: _Call) -> None:
        self._call = call

    def wait(self, timeout: Optional[float] = None) -> T:
        """The result (as the blocking call returns it), or raises the call's
        :class:`ChatBotKitError`. With ``timeout`` (seconds), raises the
        builtin ``TimeoutError`` if the call is not done by then (the call goes
        on). May be called any number of times, from many threads."""
        if not self._call.event.wait(timeout):
            raise TimeoutError(f"the call is not done after {timeout} s")
        return self._call.result()  # type: ignore[no-any-return]

    def done(self) -> bool:
        """Whether the outcome is in (success, failure or cancellation)."""
        return self._call.event.is_set()

    def cancel(self) -> None:
        """Cancels the call unless it is already done (``cbk_task_cancel``)."""
        self._call.cancel()

    def add_done_callback(self, fn: Callable[["Task[T]"], None]) -> None:
        """Calls ``fn(task)`` once the outcome is in: at once if it is, else on
        the library thread that finished the call (keep it short; exceptions
        are logged to the ``chatbotkit.callbacks`` logger)."""
        self._call.add_done_callback(lambda: fn(self))

    def close(self) -> None:
        """Releases the C handle; does not cancel. Safe to call more than once;
        :meth:`wait` and :meth:`done` keep working."""
        self._call.release()

    async def _wait_async(self) -> T:
        loop = asyncio.get_running_loop()
        future: "asyncio.Future[None]" = loop.create_future()

        def settle() -> None:
            try:
                loop.call_soon_threadsafe(_settle, future)
            except RuntimeError:  # the loop is closed: nobody is waiting
                pass

        self._call.add_done_callback(settle)
        try:
            await future
        except asyncio.CancelledError:
            self._call.cancel()
            raise
        return self._call.result()  # type: ignore[no-any-return]

    def __await__(self) -> Generator[Any, None, T]:
        """``await task``: the result without blocking the loop. Cancelling the
        awaiting asyncio task cancels the call."""
        return self._wait_async().__await__()

    def __enter__(self) -> "Task[T]":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self._call.release()
        except Exception:  # interpreter shutdown
            pass

    def __repr__(self) -> str:
        return f"<Task {'done' if self.done() else 'pending'}>"


def _settle(future: "asyncio.Future[None]") -> None:
    if not future.done():
        future.set_result(None)


class Stream(Iterator[Any]):
    """The items of a JSON Lines response, decoded, as they arrive
    (``client.stream(path, ...)``).

    Iterate it (``for item in stream``); leaving the loop early does not stop
    it by itself unless the stream is dropped: use ``with client.stream(...)
    as items:`` or call :meth:`close`, which stops the reading and closes the
    connection at once (``cbk_task_cancel``). A dropped stream is closed when
    garbage collected (at once in CPython, e.g. after ``for item in
    client.stream(...): break``). A failure is raised by the iteration, after
    the items that came before it.

    Items arrive from a library thread into an unbounded buffer: the library
    has no flow control for its async streams, and blocking its thread would
    stall other calls (see the package README).
    """

    __slots__ = ("_call", "_queue", "_finished", "_closed", "__weakref__")

    def __init__(self, call: _Call, items: "queue.SimpleQueue[Any]") -> None:
        self._call = call
        self._queue = items
        self._finished = False
        self._closed = False

    def __iter__(self) -> "Stream":
        return self

    def __next__(self) -> Any:
        if self._finished:
            raise StopIteration
        item = self._queue.get()
        if item is _END:
            self._finished = True
            self._call.release()
            if not self._closed:  # a close() from elsewhere is no failure
                self._call.result()
            raise StopIteration
        return item

    def close(self) -> None:
        """Stops the stream and closes its connection (a no-op once done)."""
        if not self._finished:
            self._finished = self._closed = True
            self._call.stopped = True
            self._call.cancel()
        self._call.release()

    @property
    def closed(self) -> bool:
        """Whether the stream has ended or been closed."""
        return self._finished

    def __enter__(self) -> "Stream":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


class AsyncStream(AsyncIterator[Any]):
    """:class:`Stream` for asyncio (``client.astream(path, ...)``):
    ``async for item in ...``, ``async with``, :meth:`aclose`. Cancelling the
    asyncio task that iterates it stops the stream too."""

    __slots__ = ("_call", "_queue", "_finished", "_closed", "__weakref__")

    def __init__(self, call: _Call, items: "asyncio.Queue[Any]") -> None:
        self._call = call
        self._queue = items
        self._finished = False
        self._closed = False

    def __aiter__(self) -> "AsyncStream":
        return self

    async def __anext__(self) -> Any:
        if self._finished:
            raise StopAsyncIteration
        try:
            item = await self._queue.get()
        except asyncio.CancelledError:
            self._stop()
            raise
        if item is _END:
            self._finished = True
            self._call.release()
            if not self._closed:
                self._call.result()
            raise StopAsyncIteration
        return item

    def _stop(self) -> None:
        if not self._finished:
            self._finished = self._closed = True
            self._call.stopped = True
            self._call.cancel()
        self._call.release()

    async def aclose(self) -> None:
        """Stops the stream and closes its connection (a no-op once done)."""
        self._stop()

    @property
    def closed(self) -> bool:
        """Whether the stream has ended or been closed."""
        return self._finished

    async def __aenter__(self) -> "AsyncStream":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        self._stop()

    def __del__(self) -> None:
        try:
            self._stop()
        except Exception:
            pass


def start_stream(lib: ctypes.CDLL, fn: Any, args: Tuple[Any, ...]) -> Stream:
    items: "queue.SimpleQueue[Any]" = queue.SimpleQueue()

    def on_item(data: bytes) -> None:
        items.put(json.loads(data))

    call = start(lib, fn, args, _parse_summary, on_item)
    call.add_done_callback(lambda: items.put(_END))
    return Stream(call, items)


def start_async_stream(lib: ctypes.CDLL, fn: Any, args: Tuple[Any, ...]) -> AsyncStream:
    loop = asyncio.get_running_loop()
    items: "asyncio.Queue[Any]" = asyncio.Queue()

    def deliver(value: Any) -> None:
        loop.call_soon_threadsafe(items.put_nowait, value)

    def on_item(data: bytes) -> None:
        deliver(json.loads(data))  # RuntimeError when the loop is closed: stops

    def on_done() -> None:
        try:
            deliver(_END)
        except RuntimeError:
            pass

    call = start(lib, fn, args, _parse_summary, on_item)
    call.add_done_callback(on_done)
    return AsyncStream(call, items)


# Functions run at exit after in-flight calls are settled (logging's off switch).
at_shutdown: List[Callable[[], None]] = []


def _shutdown(wait_s: float = 5.0) -> None:
    """Cancels the calls still in flight and waits (bounded) for their
    callbacks: once the interpreter is finalizing, a library thread entering
    Python could not take the GIL."""
    with _registry_lock:
        pending = list(_registry.values())
    for call in pending:
        try:
            call.cancel()
        except Exception:
            pass
    deadline = time.monotonic() + wait_s
    for call in pending:
        call.event.wait(max(0.0, deadline - time.monotonic()))
    for hook in at_shutdown:
        try:
            hook()
        except Exception:
            pass
    _sweep()


atexit.register(_shutdown)
