"""chatbotkit_c: the ChatBotKit session clients for Python, over libchatbotkit's C API.

The wheel bundles libchatbotkit (``chatbotkit_c/libchatbotkit.so``); this
package talks to it through ``ctypes`` and has no other dependency::

    from chatbotkit_c import ConversationSessionClient, APIError

    with ConversationSessionClient(secret="sk_...", timeout=10.0) as client:
        try:
            session = client.create("cnv_123")   # {"id": ..., "token": ..., "expiresAt": ...}
        except APIError as e:
            print(e.code, e.message, e.http_status)

    async def main():
        async with ConversationSessionClient(secret="sk_...") as client:
            session = await client.acreate("cnv_123")
            async for item in client.astream("/api/v1/conversation/c1/complete",
                                             record={"text": "Hi"}):
                print(item)

Options are keywords in snake_case (``base_url``, ``retry_delay``) or as
the library's JSON names (``baseUrl``); time values are seconds, as in the
official ChatBotKit Python SDK. Every library failure raises a
:class:`ChatBotKitError` subclass (see :mod:`chatbotkit_c.errors`). The
library's log lines go to ``logging.getLogger("chatbotkit")``
(:func:`enable_logging`).

The library is found, in this order: the path given to :func:`load`;
``$CHATBOTKIT_LIB``; the copy bundled in this package;
``ctypes.util.find_library("chatbotkit")``; a ``libchatbotkit.so`` next to
the package directory. :func:`library_path` says which one is in use.
"""

from __future__ import annotations

from ._calls import AsyncStream, Stream, Task
from ._client import BotSessionClient, ConversationSessionClient, SessionClient
from ._library import LibraryNotFoundError, library_path, load, status_name, version
from ._log import disable_logging, enable_logging
from ._options import ClientOptions, FetchOptions, FileUpload, Seconds
from .errors import (
    APIError,
    CallCancelledError,
    ChatBotKitError,
    InternalError,
    InvalidArgumentError,
    InvalidJSONError,
    InvalidResponseError,
    NetworkError,
    RequestTimeoutError,
)

__all__ = [
    "APIError",
    "AsyncStream",
    "BotSessionClient",
    "CallCancelledError",
    "ChatBotKitError",
    "ClientOptions",
    "ConversationSessionClient",
    "FetchOptions",
    "FileUpload",
    "InternalError",
    "InvalidArgumentError",
    "InvalidJSONError",
    "InvalidResponseError",
    "LibraryNotFoundError",
    "NetworkError",
    "RequestTimeoutError",
    "Seconds",
    "SessionClient",
    "Stream",
    "Task",
    "disable_logging",
    "enable_logging",
    "library_path",
    "load",
    "status_name",
    "version",
]

#: This package's version (the library's is :func:`version`).
__version__ = "0.1.0"
