"""The two session clients."""

from __future__ import annotations

import ctypes
import json
import threading
from typing import TYPE_CHECKING, Any, Callable, Dict, Mapping, Optional, Tuple, Type, TypeVar, Union

from . import _calls, _library, _options
from ._calls import AsyncStream, Stream, Task
from .errors import take_error

if TYPE_CHECKING:  # pragma: no cover
    from typing_extensions import Unpack

    from ._options import ClientOptions, FetchOptions

__all__ = ["BotSessionClient", "ConversationSessionClient", "SessionClient"]

Request = Union[Mapping[str, Any], str, None]
_C = TypeVar("_C", bound="_SessionClient")


def _take_string(lib: ctypes.CDLL, ptr: int) -> str:
    try:
        return ctypes.string_at(ptr).decode("utf-8")
    finally:
        lib.cbk_string_free(ptr)


def _call_string(lib: ctypes.CDLL, fn: Any, *args: Any) -> str:
    err = ctypes.c_void_p()
    ptr = fn(*args, ctypes.byref(err))
    if not ptr:
        raise take_error(lib, err)
    return _take_string(lib, ptr)


def _request_arg(request: Request) -> Optional[bytes]:
    if request is None:
        return None
    if isinstance(request, str):
        return _options.encode(request, "request")
    if not isinstance(request, Mapping):
        raise TypeError(f"request must be a mapping, a str of JSON or None, not {type(request).__name__}")
    return _options.dumps(request, "request")


def _str_arg(value: Any, name: str) -> bytes:
    # The C API's NULL-argument error cannot happen through this package.
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    return _options.encode(value, name)


class _SessionClient:
    """What the two session clients share: the handle's lifetime and the
    SDK's methods."""

    _kind = ""  # "conversation" or "bot"
    _id_name = ""

    __slots__ = ("_lib", "_fns", "_handle", "_state_lock", "_busy", "_closing", "__weakref__")

    def __init__(self, _options_arg: Optional[Mapping[str, Any]] = None, /,
                 **options: "Unpack[ClientOptions]") -> None:
        self._handle: Optional[int] = None  # so that __del__ works if anything below fails
        what = type(self).__name__
        options_json = _options.dumps(_options.client_options(_options_arg, options, what), "options")
        self._init(_library.library(), lambda fns, err: fns["new"](options_json, err))

    def _init(self, lib: ctypes.CDLL, make: Callable[[Dict[str, Any], Any], Optional[int]]) -> None:
        prefix = f"cbk_{self._kind}_session_client_"
        self._lib = lib
        self._fns = {
            name: getattr(lib, prefix + name)
            for name in ("new", "extend", "create", "create_async", "fetch", "fetch_async",
                         "fetch_stream_async", "options", "free")
        }
        self._state_lock = threading.Lock()
        self._busy = 0
        self._closing = False
        err = ctypes.c_void_p()
        handle = make(self._fns, ctypes.byref(err))
        if not handle:
            raise take_error(lib, err)
        self._handle = handle

    @classmethod
    def _from_maker(cls: Type[_C], lib: ctypes.CDLL, make: Callable[..., Optional[int]]) -> _C:
        self = cls.__new__(cls)
        self._handle = None
        self._init(lib, make)
        return self

    @classmethod
    def from_options_json(cls: Type[_C], options_json: str) -> _C:
        """A client made from the library's own options JSON (JSON names,
        milliseconds), e.g. the text :meth:`options_json` returned."""
        text = _options.encode(options_json, "options_json")
        return cls._from_maker(_library.library(), lambda fns, err: fns["new"](text, err))

    # -- handle lifetime ----------------------------------------------------

    def _acquire(self) -> int:
        with self._state_lock:
            if self._handle is None or self._closing:
                raise ValueError(f"{type(self).__name__} is closed")
            self._busy += 1
            return self._handle

    def _release(self) -> None:
        with self._state_lock:
            self._busy -= 1
            if self._busy or not self._closing or self._handle is None:
                return
            handle, self._handle = self._handle, None
        self._fns["free"](handle)

    def _string(self, fn_name: str, *args: Any) -> str:
        handle = self._acquire()
        try:
            return _call_string(self._lib, self._fns[fn_name], handle, *args)
        finally:
            self._release()

    def _start(self, fn_name: str, *args: Any) -> "_calls._Call":
        handle = self._acquire()
        try:
            return _calls.start(self._lib, self._fns[fn_name], (handle, *args), json.loads)
        finally:
            self._release()

    def close(self) -> None:
        """Frees the handle. Safe to call more than once. When other threads are
        inside a call on this client, the handle is freed when the last of them
        returns; new calls raise ``ValueError`` from now on. Calls already
        started with ``*_async``, ``acreate``/``afetch`` or a stream go on."""
        if getattr(self, "_handle", None) is None:
            return
        with self._state_lock:
            if self._handle is None or self._closing:
                return
            self._closing = True
            if self._busy:
                return
            handle, self._handle = self._handle, None
        self._fns["free"](handle)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._handle is None or self._closing

    def __enter__(self: _C) -> _C:
        if self.closed:
            raise ValueError(f"{type(self).__name__} is closed")
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    async def __aenter__(self: _C) -> _C:
        return self.__enter__()

    async def __aexit__(self, *exc_info: Any) -> None:
        self.close()

    def __del__(self) -> None:
        # No call can be in flight: a call holds a reference to self.
        handle = getattr(self, "_handle", None)
        if handle is not None:
            self._handle = None
            try:
                self._fns["free"](handle)
            except Exception:  # interpreter shutdown
                pass

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {'closed' if self.closed else 'open'}>"

    def __copy__(self) -> None:
        raise TypeError(f"{type(self).__name__} cannot be copied; use .extend()")

    def __deepcopy__(self, memo: Any) -> None:
        raise TypeError(f"{type(self).__name__} cannot be copied; use .extend()")

    def __reduce__(self) -> Any:
        raise TypeError(f"{type(self).__name__} cannot be pickled; pickle .options() instead")

    # -- the SDK's methods --------------------------------------------------

    def extend(self: _C, _options_arg: Optional[Mapping[str, Any]] = None, /,
               **options: "Unpack[ClientOptions]") -> _C:
        """A new, independent client with these options merged over this one's
        (the SDK's ``extend``): shallow, except ``headers`` and ``endpoints``,
        merged key by key; ``None`` resets an option to its default (or
        removes that header / endpoint)."""
        what = f"{type(self).__name__}.extend"
        options_json = _options.dumps(_options.client_options(_options_arg, options, what), "options")
        handle = self._acquire()
        try:
            return self._from_maker(
                self._lib, lambda fns, err: fns["extend"](handle, options_json, err))
        finally:
            self._release()

    def _create(self, ident: str, request: Request) -> Dict[str, Any]:
        text = self._string("create", _str_arg(ident, self._id_name), _request_arg(request))
        data: Dict[str, Any] = json.loads(text)
        return data

    def create_async(self, _id: str, request: Request = None) -> "Task[Dict[str, Any]]":
        """Starts :meth:`create` without blocking; returns a :class:`Task`
        (``.wait(timeout)``, ``.cancel()``, ``await task``). Bad arguments
        raise here, and then nothing is sent."""
        ident = _str_arg(_id, self._id_name)
        return Task(self._start("create_async", ident, _request_arg(request)))

    async def acreate(self, _id: str, request: Request = None) -> Dict[str, Any]:
        """:meth:`create` for asyncio: the event loop runs on meanwhile (the
        result comes back from a library thread through
        ``loop.call_soon_threadsafe``). Cancelling the awaiting task cancels
        the request (``cbk_task_cancel``)."""
        with self.create_async(_id, request) as task:
            return await task

    def fetch(self, path: str, **options: "Unpack[FetchOptions]") -> Any:
        """A raw request (the SDK's ``clientFetch(path, options)``), blocking.

        Options as keywords, snake_case or JSON names: ``method``,
        ``headers``, ``query``, ``record`` (or ``data``), ``buffer``, ``file``,
        ``external``, ``endpoint``, ``timeout`` and ``retry_delay`` (seconds),
        ``retries``, ``retry_timeout``, ``cache``. ``bytes`` given as
        ``buffer`` or ``file["data"]`` are base64-encoded for you. Returns the
        decoded JSON body, or for another 2xx ``{"headers": {...}, "data":
        "<base64>", "encoding": "base64"}``."""
        args = self._fetch_args(path, options, "fetch")
        return json.loads(self._string("fetch", *args))

    def fetch_async(self, path: str, **options: "Unpack[FetchOptions]") -> "Task[Any]":
        """Starts :meth:`fetch` without blocking; returns a :class:`Task`."""
        return Task(self._start("fetch_async", *self._fetch_args(path, options, "fetch_async")))

    async def afetch(self, path: str, **options: "Unpack[FetchOptions]") -> Any:
        """:meth:`fetch` for asyncio; cancelling the awaiting task cancels the request."""
        with self.fetch_async(path, **options) as task:
            return await task

    def stream(self, path: str, **options: "Unpack[FetchOptions]") -> Stream:
        """A raw request whose JSON Lines body is read item by item as it
        arrives (the SDK's ``clientFetch(...).stream()``, sent with ``accept:
        application/jsonl``): an iterator of decoded items. ``with
        client.stream(...) as items:`` (or ``.close()``) stops the reading
        and closes the connection when you leave early. The options are
        :meth:`fetch`'s; ``timeout`` bounds the wait for the headers, then
        each wait for the next line."""
        args = self._fetch_args(path, options, "stream")
        handle = self._acquire()
        try:
            return _calls.start_stream(self._lib, self._fns["fetch_stream_async"], (handle, *args))
        finally:
            self._release()

    def astream(self, path: str, **options: "Unpack[FetchOptions]") -> AsyncStream:
        """:meth:`stream` for asyncio: ``async for item in client.astream(...)``
        (``async with`` / ``aclose()`` to stop early). Call it with an event
        loop running."""
        args = self._fetch_args(path, options, "astream")
        handle = self._acquire()
        try:
            return _calls.start_async_stream(self._lib, self._fns["fetch_stream_async"], (handle, *args))
        finally:
            self._release()

    def _fetch_args(self, path: str, options: Mapping[str, Any], what: str) -> Tuple[bytes, Optional[bytes]]:
        path_arg = _str_arg(path, "path")
        body = _options.dumps(_options.fetch_options(options, what), "options") if options else None
        return (path_arg, body)

    def options(self) -> Dict[str, Any]:
        """The effective options as keywords (snake_case, seconds): ``base_url``
        with ``host``/``protocol`` applied, defaults filled in;
        ``type(client)(**client.options())`` makes an equal client. Contains
        the secret: handle it as such."""
        return _options.from_library(json.loads(self.options_json()))

    def options_json(self) -> str:
        """The effective options as the library gives them (JSON names,
        milliseconds): valid input for :meth:`from_options_json`. Contains
        the secret."""
        return self._string("options")


class ConversationSessionClient(_SessionClient):
    """The SDK's ``ConversationSessionClient``: mints conversation session tokens.

    ``ConversationSessionClient(secret="sk_...", base_url=..., timeout=10.0)``;
    options as keywords in snake_case or as the JSON names, time values in
    seconds. Bad options raise :class:`InvalidJSONError` (wrong type, unknown
    option) or :class:`InvalidArgumentError` (out of range, malformed); both
    are ``ValueError``.
    """

    __slots__ = ()
    _kind = "conversation"
    _id_name = "conversation_id"

    def create(self, conversation_id: str, request: Request = None) -> Dict[str, Any]:
        """Mints a session for ``conversation_id``: ``{"id", "token",
        "expiresAt", ...}``. Blocks until the answer, retries included (the
        GIL is released meanwhile). ``request`` is a mapping, a str of JSON
        text, or None for ``{}``."""
        return self._create(conversation_id, request)


class BotSessionClient(_SessionClient):
    """The SDK's ``BotSessionClient``: mints bot session tokens (each opens a
    new conversation). Same options as :class:`ConversationSessionClient`."""

    __slots__ = ()
    _kind = "bot"
    _id_name = "bot_id"

    def create(self, bot_id: str, request: Request = None) -> Dict[str, Any]:
        """Mints a session for ``bot_id``: ``{"id", "token", "expiresAt",
        "conversationId", ...}``. Blocks as
        :meth:`ConversationSessionClient.create` does."""
        return self._create(bot_id, request)


#: The SDK's pre-2024 name for the bot session client.
SessionClient = BotSessionClient
