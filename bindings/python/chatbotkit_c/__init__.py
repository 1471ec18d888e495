"""chatbotkit_c: the ChatBotKit session clients for Python, over libchatbotkit's C API.

A small pure-Python package (ctypes, no other dependencies) that mints
ChatBotKit conversation and bot session tokens through libchatbotkit, with the
official Node SDK's option names and behaviour::

    from chatbotkit_c import ConversationSessionClient, ChatBotKitError

    with ConversationSessionClient(secret="sk_...") as client:
        try:
            session = client.create("cnv_123")   # {"id": ..., "token": ..., "expiresAt": ...}
        except ChatBotKitError as e:
            print(e.status.name, e.code, e.message, e.http_status)

Finding the library
-------------------
The shared library is loaded on first use, from the first of:

1. the path given to :func:`load` (call it before making a client);
2. the environment variable ``CHATBOTKIT_LIB`` (a path to the file; when it
   is set and cannot be loaded, that is an error, nothing else is tried);
3. ``ctypes.util.find_library("chatbotkit")`` (an installed library);
4. ``libchatbotkit.so`` (``.so.0``; ``.dylib`` on macOS, ``chatbotkit.dll``
   on Windows) inside this package's directory or next to it.

When none is found, :class:`LibraryNotFoundError` (an ``OSError``) says what
was tried.

Conventions
-----------
- Options are keyword arguments named exactly as the JSON options
  (``secret``, ``token``, ``baseUrl``, ``headers``, ``timeout``, ``retries``,
  ...; see the library's README). ``None`` is JSON ``null``: "not set" for a
  new client, "reset to the default" (or "remove this header") for
  :meth:`extend`. A mapping may also be passed positionally; keywords win.
- Ids must be ``str``. Anything else, ``None`` included, raises
  ``TypeError`` before the library is called (the C API's NULL-argument error
  cannot happen through this package). An id that contains a NUL character
  raises :class:`ChatBotKitError` with status ``INVALID_ARGUMENT``, as does
  any other argument that contains one (the C API could not see past it).
- A request body is a mapping (sent as JSON), a ``str`` of JSON text, or
  ``None`` for ``{}``.
- Every library failure raises :class:`ChatBotKitError`. Using a client after
  :meth:`close` raises ``ValueError``.

Threads
-------
A client may be used from many threads at once: the library's handles are
thread-safe, ctypes releases the GIL during each call (so calls really run in
parallel), and :meth:`close` while other threads are inside a call defers the
release until the last of those calls returns.

Memory
------
Every library string and error is freed as soon as it has been copied into
Python. Each client frees its handle on :meth:`close`, at the end of a
``with`` block, or when it is garbage collected.
"""

from __future__ import annotations

import base64
import ctypes
import ctypes.util
import enum
import json
import os
import sys
import threading
from typing import Any, Dict, Mapping, Optional, Union

__all__ = [
    "BotSessionClient",
    "ChatBotKitError",
    "ConversationSessionClient",
    "LibraryNotFoundError",
    "SessionClient",
    "Status",
    "Task",
    "load",
    "version",
]

__version__ = "0.1.0"


# ---------------------------------------------------------------------------
# Errors


class Status(enum.IntEnum):
    """``cbk_status``: the kind of failure. Names as ``cbk_error_to_json`` spells them."""

    OK = 0
    INVALID_ARGUMENT = 1
    INVALID_JSON = 2
    API = 3
    TIMEOUT = 4
    NETWORK = 5
    INVALID_RESPONSE = 6
    CANCELLED = 7
    INTERNAL = 8


class ChatBotKitError(Exception):
    """A failed library call.

    Attributes:
        status: a :class:`Status` (an ``int``: ``e.status == 3``,
            ``e.status.name == "API"``); a plain ``int`` for a status this
            package does not know.
        status_name: the status's name (``"API"``, ``"INVALID_JSON"``, ...).
        code: the SDK's code string (``"NOT_FOUND"``, ``"ERROR_500"``,
            ``"TimeoutError"``, ``"INVALID_JSON"``, ...).
        message: the message, for people; never the secret.
        http_status: the HTTP status the error was made from; 0 when there
            was no HTTP response.
    """

    def __init__(self, status: int, code: str, message: str, http_status: int = 0) -> None:
        super().__init__(message)
        try:
            self.status: Union[Status, int] = Status(status)
        except ValueError:
            self.status = int(status)
        self.code = code
        self.message = message
        self.http_status = http_status

    @property
    def status_name(self) -> str:
        return self.status.name if isinstance(self.status, Status) else "UNKNOWN"

    def __str__(self) -> str:
        text = f"{self.code}: {self.message}"
        if self.http_status:
            text += f" (HTTP {self.http_status})"
        return text

    def __repr__(self) -> str:
        return (
            f"ChatBotKitError(status={self.status_name}, code={self.code!r}, "
            f"message={self.message!r}, http_status={self.http_status})"
        )

    def __reduce__(self):  # picklable, e.g. across multiprocessing
        return (type(self), (int(self.status), self.code, self.message, self.http_status))


class LibraryNotFoundError(OSError):
    """libchatbotkit could not be found or loaded."""


# ---------------------------------------------------------------------------
# Loading the library

_c_char_p = ctypes.c_char_p
_c_void_p = ctypes.c_void_p
_err_pp = ctypes.POINTER(ctypes.c_void_p)

# (name, restype, argtypes). Pointers the library returns are kept as
# c_void_p so they can be freed; strings are read with ctypes.string_at.
_SIGNATURES = [
    ("cbk_version", _c_char_p, []),
    ("cbk_string_free", None, [_c_void_p]),
    ("cbk_error_status", ctypes.c_int, [_c_void_p]),
    ("cbk_error_code", _c_char_p, [_c_void_p]),
    ("cbk_error_message", _c_char_p, [_c_void_p]),
    ("cbk_error_http_status", ctypes.c_int, [_c_void_p]),
    ("cbk_error_free", None, [_c_void_p]),
    ("cbk_task_wait", _c_void_p, [_c_void_p, _err_pp]),
    ("cbk_task_cancel", None, [_c_void_p]),
    ("cbk_task_free", None, [_c_void_p]),
]
for _kind in ("conversation", "bot"):
    _p = f"cbk_{_kind}_session_client_"
    _SIGNATURES += [
        (_p + "new", _c_void_p, [_c_char_p, _err_pp]),
        (_p + "extend", _c_void_p, [_c_void_p, _c_char_p, _err_pp]),
        (_p + "create", _c_void_p, [_c_void_p, _c_char_p, _c_char_p, _err_pp]),
        (_p + "create_async", _c_void_p, [_c_void_p, _c_char_p, _c_char_p, _c_void_p, _c_void_p, _err_pp]),
        (_p + "fetch", _c_void_p, [_c_void_p, _c_char_p, _c_char_p, _err_pp]),
        (_p + "options", _c_void_p, [_c_void_p, _err_pp]),
        (_p + "free", None, [_c_void_p]),
    ]
del _kind, _p

_lock = threading.Lock()
_lib: Optional[ctypes.CDLL] = None


def _library_file_names():
    if sys.platform == "darwin":
        return ["libchatbotkit.dylib", "libchatbotkit.0.dylib"]
    if sys.platform == "win32":
        return ["chatbotkit.dll", "libchatbotkit.dll"]
    return ["libchatbotkit.so", "libchatbotkit.so.0"]


def _open(path: str) -> ctypes.CDLL:
    """Loads `path` and declares every function's signature."""
    lib = ctypes.CDLL(path)
    try:
        for name, restype, argtypes in _SIGNATURES:
            fn = getattr(lib, name)
            fn.restype = restype
            fn.argtypes = argtypes
    except AttributeError as e:
        raise LibraryNotFoundError(f"{path} is not libchatbotkit (or too old a version): {e}") from None
    return lib


def load(path: Union[str, "os.PathLike[str]"]) -> ctypes.CDLL:
    """Loads libchatbotkit from `path` and uses it for every client made from now on.

    Clients made before keep the library they were made with. Raises
    :class:`LibraryNotFoundError` when `path` cannot be loaded. Returns the
    ``ctypes.CDLL``.
    """
    global _lib
    path = os.fspath(path)
    try:
        lib = _open(path)
    except OSError as e:
        if isinstance(e, LibraryNotFoundError):
            raise
        raise LibraryNotFoundError(f"cannot load libchatbotkit from {path!r}: {e}") from None
    with _lock:
        _lib = lib
    return lib


def _find_and_load() -> ctypes.CDLL:
    tried = []
    env = os.environ.get("CHATBOTKIT_LIB")
    if env:
        try:
            return _open(env)
        except OSError as e:
            raise LibraryNotFoundError(
                f"CHATBOTKIT_LIB={env!r} cannot be loaded: {e}") from None
    tried.append("CHATBOTKIT_LIB (not set)")

    found = ctypes.util.find_library("chatbotkit")
    if found:
        try:
            return _open(found)
        except OSError as e:
            tried.append(f"ctypes.util.find_library('chatbotkit') -> {found!r}: {e}")
    else:
        tried.append("ctypes.util.find_library('chatbotkit') (nothing)")

    here = os.path.dirname(os.path.abspath(__file__))
    for directory in (here, os.path.dirname(here)):
        for name in _library_file_names():
            candidate = os.path.join(directory, name)
            if os.path.exists(candidate):
                try:
                    return _open(candidate)
                except OSError as e:
                    tried.append(f"{candidate}: {e}")
            else:
                tried.append(f"{candidate} (absent)")

    raise LibraryNotFoundError(
        "libchatbotkit not found. Build it (make build), then call "
        "chatbotkit_c.load('/path/to/libchatbotkit.so') or set CHATBOTKIT_LIB to that path, "
        "install it where the system linker finds it, or put it next to the chatbotkit_c "
        "package. Tried: " + "; ".join(tried))


def _library() -> ctypes.CDLL:
    global _lib
    lib = _lib
    if lib is not None:
        return lib
    with _lock:
        if _lib is None:
            _lib = _find_and_load()
        return _lib


def version() -> str:
    """The library version, e.g. ``"0.1.0"`` (``cbk_version()``)."""
    return _library().cbk_version().decode("utf-8")


# ---------------------------------------------------------------------------
# Marshalling


def _take_error(lib: ctypes.CDLL, err: ctypes.c_void_p, what: str) -> ChatBotKitError:
    """Copies a cbk_error into a ChatBotKitError and frees it."""
    if not err.value:
        return ChatBotKitError(Status.INTERNAL, "INTERNAL_ERROR", f"{what} failed without an error", 0)
    try:
        code = (lib.cbk_error_code(err) or b"").decode("utf-8", "replace")
        message = (lib.cbk_error_message(err) or b"").decode("utf-8", "replace")
        return ChatBotKitError(lib.cbk_error_status(err), code, message, lib.cbk_error_http_status(err))
    finally:
        lib.cbk_error_free(err)


def _take_string(lib: ctypes.CDLL, ptr: Optional[int]) -> str:
    """Copies a library-owned string and frees it."""
    try:
        return ctypes.string_at(ptr).decode("utf-8")
    finally:
        lib.cbk_string_free(ptr)


def _call_string(lib: ctypes.CDLL, fn, what: str, *args) -> str:
    err = ctypes.c_void_p()
    ptr = fn(*args, ctypes.byref(err))
    if not ptr:
        raise _take_error(lib, err, what)
    if err.value:  # never on success, per the contract; free it anyway
        lib.cbk_error_free(err)
    return _take_string(lib, ptr)


def _arg(value: str, name: str) -> bytes:
    """A str argument as UTF-8 bytes; NUL characters are refused.

    Lone surrogates are passed through as (invalid) UTF-8 so that the library
    reports them as it does invalid UTF-8 (INVALID_ARGUMENT naming the argument).
    """
    if "\x00" in value:
        raise ChatBotKitError(Status.INVALID_ARGUMENT, "INVALID_ARGUMENT", f"`{name}` contains a NUL character", 0)
    return value.encode("utf-8", "surrogatepass")


def _json_arg(value: Any, name: str) -> Optional[bytes]:
    """A mapping (dumped), a str of JSON text (as is), or None (NULL: `{}`)."""
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("utf-8", "surrogateescape")
    if not isinstance(value, str):
        try:
            value = json.dumps(value, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise ChatBotKitError(Status.INVALID_JSON, "INVALID_JSON", f"`{name}` cannot be sent as JSON: {e}", 0) from None
    return _arg(value, name)


def _id_arg(value: Any, name: str) -> bytes:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    return _arg(value, name)


def _merge_options(positional: Optional[Mapping[str, Any]], options: Dict[str, Any]) -> Dict[str, Any]:
    if positional is None:
        return options
    if not isinstance(positional, Mapping):
        raise TypeError(f"options must be a mapping, not {type(positional).__name__}")
    merged = dict(positional)
    merged.update(options)
    return merged


def _b64(data: Union[bytes, bytearray, memoryview]) -> str:
    return base64.b64encode(bytes(data)).decode("ascii")


def _fetch_options(options: Dict[str, Any]) -> Dict[str, Any]:
    """Bytes for `buffer` and `file["data"]` are base64-encoded, as the C API takes them."""
    out = dict(options)
    if isinstance(out.get("buffer"), (bytes, bytearray, memoryview)):
        out["buffer"] = _b64(out["buffer"])
    file = out.get("file")
    if isinstance(file, Mapping) and isinstance(file.get("data"), (bytes, bytearray, memoryview)):
        file = dict(file)
        file["data"] = _b64(file["data"])
        out["file"] = file
    return out


# ---------------------------------------------------------------------------
# Clients


class _SessionClient:
    """The shared implementation of the two session clients."""

    _kind = ""  # "conversation" or "bot"
    _id_name = ""

    __slots__ = ("_lib", "_fns", "_handle", "_state_lock", "_busy", "_closing", "__weakref__")

    def __init__(self, _options: Optional[Mapping[str, Any]] = None, /, **options: Any) -> None:
        self._handle = None  # so that __del__ works if anything below fails
        lib = _library()
        options_json = _json_arg(_merge_options(_options, options), "options_json")
        self._init(lib, lambda fns, err: fns["new"](options_json, err))

    def _init(self, lib: ctypes.CDLL, make) -> None:
        prefix = f"cbk_{self._kind}_session_client_"
        self._lib = lib
        self._fns = {
            name: getattr(lib, prefix + name)
            for name in ("new", "extend", "create", "create_async", "fetch", "options", "free")
        }
        self._state_lock = threading.Lock()
        self._busy = 0
        self._closing = False
        err = ctypes.c_void_p()
        handle = make(self._fns, ctypes.byref(err))
        if not handle:
            raise _take_error(lib, err, f"{type(self).__name__}()")
        self._handle = handle

    @classmethod
    def _from_handle_maker(cls, lib: ctypes.CDLL, make):
        self = cls.__new__(cls)
        self._handle = None
        self._init(lib, make)
        return self

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

    def _call(self, what: str, fn_name: str, *args) -> str:
        handle = self._acquire()
        try:
            return _call_string(self._lib, self._fns[fn_name], what, handle, *args)
        finally:
            self._release()

    def close(self) -> None:
        """Frees the handle. Safe to call more than once. When other threads are
        inside a call on this client, the handle is freed when the last of them
        returns; new calls raise ``ValueError`` from now on."""
        handle = getattr(self, "_handle", None)
        if handle is None:
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
        return self._handle is None or self._closing

    def __enter__(self):
        if self.closed:
            raise ValueError(f"{type(self).__name__} is closed")
        return self

    def __exit__(self, *exc_info) -> None:
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

    def __copy__(self):
        raise TypeError(f"{type(self).__name__} cannot be copied; use .extend()")

    def __deepcopy__(self, memo):
        raise TypeError(f"{type(self).__name__} cannot be copied; use .extend()")

    def __reduce__(self):
        raise TypeError(f"{type(self).__name__} cannot be pickled; pickle .options() instead")

    # -- the SDK's methods --------------------------------------------------

    def extend(self, _options: Optional[Mapping[str, Any]] = None, /, **options: Any):
        """A new, independent client with these options merged over this one's
        (the SDK's ``extend``): shallow, except ``headers`` and ``endpoints``,
        merged key by key; ``None`` resets an option to its default (or
        removes that header / endpoint)."""
        options_json = _json_arg(_merge_options(_options, options), "options_json")
        handle = self._acquire()
        try:
            return self._from_handle_maker(
                self._lib, lambda fns, err: fns["extend"](handle, options_json, err))
        finally:
            self._release()

    def create(self, _id: str, request: Union[Mapping[str, Any], str, None] = None) -> Dict[str, Any]:
        """Mints a session and returns the response, e.g.
        ``{"id": ..., "token": ..., "expiresAt": ...}`` (a bot session also has
        ``conversationId``). Blocks until the answer, retries included (the
        GIL is released meanwhile)."""
        ident = _id_arg(_id, self._id_name)
        body = _json_arg(request, "request_json")
        return json.loads(self._call("create", "create", ident, body))

    def create_async(self, _id: str, request: Union[Mapping[str, Any], str, None] = None) -> "Task":
        """Starts :meth:`create` without blocking; returns a :class:`Task`.
        Bad arguments raise here, and then nothing is sent."""
        ident = _id_arg(_id, self._id_name)
        body = _json_arg(request, "request_json")
        handle = self._acquire()
        try:
            err = ctypes.c_void_p()
            task = self._fns["create_async"](handle, ident, body, None, None, ctypes.byref(err))
            if not task:
                raise _take_error(self._lib, err, "create_async")
            return Task(self._lib, task)
        finally:
            self._release()

    def fetch(self, path: str, **fetch_options: Any) -> Any:
        """A raw request (the SDK's ``clientFetch(path, options)``), with the
        fetch options as keywords: ``method``, ``headers``, ``query``,
        ``record``, ``buffer``, ``file``, ``external``, ``endpoint``,
        ``timeout``, ``retries``, ``retryDelay``, ``retryTimeout``. ``bytes``
        given as ``buffer`` or ``file["data"]`` are base64-encoded for you.
        Returns the decoded JSON body, or for another 2xx
        ``{"headers": {...}, "data": "<base64>", "encoding": "base64"}``."""
        if not isinstance(path, str):
            raise TypeError(f"path must be a str, not {type(path).__name__}")
        options_json = _json_arg(_fetch_options(fetch_options), "options_json")
        return json.loads(self._call("fetch", "fetch", _arg(path, "path"), options_json))

    def options(self) -> Dict[str, Any]:
        """The effective options (``baseUrl`` with ``host``/``protocol``
        applied, defaults filled in), valid keywords for a new client. Contains
        the secret: handle it as such."""
        return json.loads(self._call("options", "options"))


class ConversationSessionClient(_SessionClient):
    """The SDK's ``ConversationSessionClient``: mints conversation session tokens.

    ``ConversationSessionClient(secret="sk_...", baseUrl=..., ...)``; raises
    :class:`ChatBotKitError` (``INVALID_JSON`` / ``INVALID_ARGUMENT``) for bad
    options.
    """

    __slots__ = ()
    _kind = "conversation"
    _id_name = "conversation_id"

    def create(self, conversation_id: str, request: Union[Mapping[str, Any], str, None] = None) -> Dict[str, Any]:
        """Mints a session for `conversation_id`: ``{"id", "token", "expiresAt"}``."""
        return super().create(conversation_id, request)


class BotSessionClient(_SessionClient):
    """The SDK's ``BotSessionClient``: mints bot session tokens (each opens a
    new conversation). Same options as :class:`ConversationSessionClient`."""

    __slots__ = ()
    _kind = "bot"
    _id_name = "bot_id"

    def create(self, bot_id: str, request: Union[Mapping[str, Any], str, None] = None) -> Dict[str, Any]:
        """Mints a session for `bot_id`: ``{"id", "token", "expiresAt", "conversationId"}``."""
        return super().create(bot_id, request)


#: The SDK's pre-2024 name for the bot session client.
SessionClient = BotSessionClient


class Task:
    """An async :meth:`create` in flight or done (``cbk_task``).

    :meth:`wait` blocks (without the GIL) for the result; :meth:`cancel`
    cancels it; :meth:`close` (or the end of a ``with`` block, or garbage
    collection) releases the handle without cancelling.
    """

    __slots__ = ("_lib", "_handle", "_state_lock", "_busy", "_closing", "__weakref__")

    def __init__(self, lib: ctypes.CDLL, handle: int) -> None:
        self._lib = lib
        self._handle = handle
        self._state_lock = threading.Lock()
        self._busy = 0
        self._closing = False

    def _acquire(self) -> int:
        with self._state_lock:
            if self._handle is None or self._closing:
                raise ValueError("Task is closed")
            self._busy += 1
            return self._handle

    def _release(self) -> None:
        with self._state_lock:
            self._busy -= 1
            if self._busy or not self._closing or self._handle is None:
                return
            handle, self._handle = self._handle, None
        self._lib.cbk_task_free(handle)

    def wait(self) -> Dict[str, Any]:
        """The response (as :meth:`create` returns it), or raises
        :class:`ChatBotKitError` (status ``CANCELLED`` after :meth:`cancel`).
        May be called any number of times, from many threads."""
        handle = self._acquire()
        try:
            return json.loads(_call_string(self._lib, self._lib.cbk_task_wait, "wait", handle))
        finally:
            self._release()

    def cancel(self) -> None:
        """Cancels the call unless it is already done."""
        handle = self._acquire()
        try:
            self._lib.cbk_task_cancel(handle)
        finally:
            self._release()

    def close(self) -> None:
        """Releases the handle (does not cancel). Safe to call more than once."""
        with self._state_lock:
            if self._handle is None or self._closing:
                return
            self._closing = True
            if self._busy:
                return
            handle, self._handle = self._handle, None
        self._lib.cbk_task_free(handle)

    def __enter__(self) -> "Task":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __del__(self) -> None:
        handle = getattr(self, "_handle", None)
        if handle is not None:
            self._handle = None
            try:
                self._lib.cbk_task_free(handle)
            except Exception:
                pass
