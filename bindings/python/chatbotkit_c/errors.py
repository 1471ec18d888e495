"""The exceptions a library call raises: one class per ``cbk_status``.

Every one is a :class:`ChatBotKitError`; several are also the builtin
exception a Python program would catch for that kind of failure, so that
``except TimeoutError`` or ``except ConnectionError`` work unchanged::

    ChatBotKitError
    ├── APIError               (non-2xx answer)
    ├── RequestTimeoutError    (also builtins.TimeoutError)
    ├── NetworkError           (also builtins.ConnectionError)
    ├── InvalidArgumentError   (also ValueError)
    ├── InvalidJSONError       (also ValueError)
    ├── InvalidResponseError
    ├── CallCancelledError     (NOT asyncio.CancelledError, see below)
    └── InternalError

``CallCancelledError`` is what a call cancelled with :meth:`Task.cancel`
reports. It is deliberately not an ``asyncio.CancelledError``: that one is a
``BaseException`` which asyncio takes as "this coroutine was cancelled" and
``except Exception`` does not catch. When an asyncio task awaiting a call is
itself cancelled, it gets asyncio's own ``CancelledError``, as any
coroutine does, and the library call is cancelled along with it.

The class is chosen by the status's name as the library spells it
(``cbk_status_name``), so this module holds no copy of the status numbers.
"""

from __future__ import annotations

import ctypes
from typing import Any, Dict, Optional, Tuple, Type

__all__ = [
    "APIError",
    "CallCancelledError",
    "ChatBotKitError",
    "InternalError",
    "InvalidArgumentError",
    "InvalidJSONError",
    "InvalidResponseError",
    "NetworkError",
    "RequestTimeoutError",
]


class ChatBotKitError(Exception):
    """A failed library call (a ``cbk_error``).

    Attributes:
        status: the ``cbk_status`` number (an ``int``, part of the C ABI).
        status_name: its name as the library spells it (``"API"``,
            ``"TIMEOUT"``, ``"INVALID_JSON"``, ...).
        code: the SDK's code string (``"NOT_FOUND"``, ``"ERROR_500"``,
            ``"TimeoutError"``, ``"NETWORK_ERROR"``, ...).
        message: the message, for people; never the secret.
        http_status: the HTTP status the error was made from; 0 when there was
            no HTTP response.
        json: the error as the library writes it (``cbk_error_to_json``):
            ``{"status", "code", "message", "httpStatus"}``, for logs and
            other processes; ``""`` for an error the package made itself.
    """

    status: int
    status_name: str
    code: str
    message: str
    http_status: int
    json: str

    def __init__(self, status: int, status_name: str, code: str, message: str,
                 http_status: int = 0, json: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.status_name = status_name
        self.code = code
        self.message = message
        self.http_status = http_status
        self.json = json

    def __str__(self) -> str:
        text = f"{self.code}: {self.message}"
        if self.http_status:
            text += f" (HTTP {self.http_status})"
        return text

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(status={self.status_name}, code={self.code!r}, "
                f"message={self.message!r}, http_status={self.http_status})")

    def __reduce__(self) -> Tuple[Any, Tuple[Any, ...]]:  # picklable (multiprocessing), whatever the bases' rules
        return (type(self), (self.status, self.status_name, self.code, self.message,
                             self.http_status, self.json))


class APIError(ChatBotKitError):
    """The server answered non-2xx (after retries): see ``http_status`` and ``code``."""


class RequestTimeoutError(ChatBotKitError, TimeoutError):
    """An attempt took longer than ``timeout`` (or ``connect_timeout``). Also a
    builtin ``TimeoutError``."""


class NetworkError(ChatBotKitError, ConnectionError):
    """DNS, connect, TLS, a reset, a truncated body. Also a builtin ``ConnectionError``."""


class InvalidArgumentError(ChatBotKitError, ValueError):
    """An argument or option value the library refused before sending anything
    (an empty or unsafe id, an out-of-range option, invalid UTF-8...). Also a
    ``ValueError``."""


class InvalidJSONError(ChatBotKitError, ValueError):
    """Options or a request that is not a JSON object, an option of the wrong
    type, or an unknown option. Also a ``ValueError``."""


class InvalidResponseError(ChatBotKitError):
    """A 2xx answer whose body is not what the call returns, or one over
    ``max_response_bytes``."""


class CallCancelledError(ChatBotKitError):
    """The call was cancelled (:meth:`Task.cancel`). Not an
    ``asyncio.CancelledError``: see the module's documentation."""


class InternalError(ChatBotKitError):
    """A bug caught inside the library, or a runtime that could not start."""


_BY_NAME: Dict[str, Type[ChatBotKitError]] = {
    "API": APIError,
    "TIMEOUT": RequestTimeoutError,
    "NETWORK": NetworkError,
    "INVALID_ARGUMENT": InvalidArgumentError,
    "INVALID_JSON": InvalidJSONError,
    "INVALID_RESPONSE": InvalidResponseError,
    "CANCELLED": CallCancelledError,
    "INTERNAL": InternalError,
}


def read_error(lib: ctypes.CDLL, err: Optional[int]) -> ChatBotKitError:
    """A ChatBotKitError copied from a borrowed ``cbk_error *`` (not freed)."""
    if not err:
        return InternalError(-1, "INTERNAL", "INTERNAL_ERROR",
                             "the library reported a failure without an error", 0)
    status = int(lib.cbk_error_status(err))
    name = lib.cbk_status_name(status).decode("ascii", "replace")
    code = (lib.cbk_error_code(err) or b"").decode("utf-8", "replace")
    message = (lib.cbk_error_message(err) or b"").decode("utf-8", "replace")
    raw = lib.cbk_error_to_json(err)
    try:
        text = ctypes.string_at(raw).decode("utf-8", "replace") if raw else ""
    finally:
        lib.cbk_string_free(raw)
    cls = _BY_NAME.get(name, ChatBotKitError)
    return cls(status, name, code, message, int(lib.cbk_error_http_status(err)), text)


def take_error(lib: ctypes.CDLL, err: ctypes.c_void_p) -> ChatBotKitError:
    """A ChatBotKitError copied from an owned ``cbk_error *``, which is freed."""
    try:
        return read_error(lib, err.value)
    finally:
        if err.value:
            lib.cbk_error_free(err)


def error_classes() -> Tuple[Type[ChatBotKitError], ...]:
    """Every subclass, for documentation and tests."""
    return tuple(_BY_NAME.values())
