"""Python keyword options to the library's options JSON, and back.

Keywords may be spelt in snake_case (``base_url``) or as the JSON option
(``baseUrl``). Time values are seconds (``int``, ``float`` or
``datetime.timedelta``), as in the official ChatBotKit Python SDK (whose
``timeout`` is httpx's, in seconds); the library takes milliseconds, so they
are multiplied by 1000 here. A value of another type is passed on unchanged,
so that the library names the option in its error.
"""

from __future__ import annotations

import base64
import datetime
import json
import re
import sys
from typing import Any, Dict, Mapping, Optional, Union

if sys.version_info >= (3, 8):
    from typing import TypedDict
else:  # pragma: no cover
    from typing_extensions import TypedDict

__all__ = ["ClientOptions", "FetchOptions", "FileUpload", "Seconds"]

#: A duration: seconds as a number, or a ``datetime.timedelta``.
Seconds = Union[int, float, datetime.timedelta]

# The options the library takes in milliseconds (README's option table and
# the fetch options of cbk_*_fetch).
_CLIENT_TIME_KEYS = frozenset({"timeout", "retryDelay", "connectTimeout"})
_FETCH_TIME_KEYS = frozenset({"timeout", "retryDelay"})


class ClientOptions(TypedDict, total=False):
    """The options of a session client, as keywords (either spelling).

    Time values are seconds. ``None`` is JSON ``null``: "not set" for a new
    client, "reset to the default" (or "remove this header / endpoint") in
    ``extend``.
    """

    secret: Optional[str]
    token: Optional[str]
    base_url: Optional[str]
    baseUrl: Optional[str]
    host: Optional[str]
    protocol: Optional[str]
    endpoints: Optional[Mapping[str, Optional[str]]]
    headers: Optional[Mapping[str, Optional[str]]]
    run_as_user_id: Optional[str]
    runAsUserId: Optional[str]
    run_as_child_user_email: Optional[str]
    runAsChildUserEmail: Optional[str]
    timezone: Optional[str]
    timeout: Optional[Seconds]
    retries: Optional[int]
    retry_delay: Optional[Seconds]
    retryDelay: Optional[Seconds]
    retry_timeout: Optional[bool]
    retryTimeout: Optional[bool]
    max_response_bytes: Optional[int]
    maxResponseBytes: Optional[int]
    connect_timeout: Optional[Seconds]
    connectTimeout: Optional[Seconds]
    ca_certificate_pem: Optional[str]
    caCertificatePem: Optional[str]
    user_agent: Optional[str]
    userAgent: Optional[str]
    proxy: Optional[str]
    http2: Optional[bool]


class FileUpload(TypedDict, total=False):
    """A fetch's ``file``: sent as multipart form data. ``data`` may be
    ``bytes`` (base64-encoded for you) or base64 text."""

    name: str
    type: str
    data: Union[bytes, str]


class FetchOptions(TypedDict, total=False):
    """The options of a raw request (``fetch``, ``stream``), as keywords
    (either spelling). Time values are seconds."""

    method: str
    headers: Mapping[str, str]
    query: Mapping[str, Any]
    record: Any
    data: Any
    buffer: Union[bytes, str]
    file: FileUpload
    external: bool
    endpoint: str
    timeout: Optional[Seconds]
    retries: int
    retry_delay: Optional[Seconds]
    retryDelay: Optional[Seconds]
    retry_timeout: bool
    retryTimeout: bool
    cache: str


def json_name(name: str) -> str:
    """``base_url`` -> ``baseUrl``; a name without ``_`` is kept as given."""
    if "_" not in name:
        return name
    first, *rest = name.split("_")
    return first + "".join(part[:1].upper() + part[1:] for part in rest)


_UPPER = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def python_name(name: str) -> str:
    """``baseUrl`` -> ``base_url``, ``caCertificatePem`` -> ``ca_certificate_pem``."""
    return _UPPER.sub("_", name).lower()


def _to_ms(value: Any) -> Any:
    if isinstance(value, datetime.timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value  # the library names the option in its INVALID_JSON error
    ms = value * 1000
    # Whole milliseconds go out as integers: 1.5 s is 1500, not 1500.0.
    if isinstance(ms, float) and ms == ms and abs(ms) < 2 ** 53 and abs(ms - round(ms)) < 1e-6:
        return int(round(ms))
    return ms


def to_library(options: Mapping[str, Any], time_keys: "frozenset[str]", what: str) -> Dict[str, Any]:
    """Keyword options -> the library's JSON object (JSON names, milliseconds)."""
    out: Dict[str, Any] = {}
    given: Dict[str, str] = {}
    for key, value in options.items():
        if not isinstance(key, str):
            raise TypeError(f"{what}: option names must be str, not {type(key).__name__}")
        name = json_name(key)
        if name in given:
            raise TypeError(f"{what}: {given[name]!r} and {key!r} are the same option")
        given[name] = key
        out[name] = _to_ms(value) if name in time_keys else value
    return out


def client_options(positional: Optional[Mapping[str, Any]], keywords: Mapping[str, Any],
                   what: str) -> Dict[str, Any]:
    """A client's options: a mapping and/or keywords (keywords win)."""
    if positional is None:
        return to_library(keywords, _CLIENT_TIME_KEYS, what)
    if not isinstance(positional, Mapping):
        raise TypeError(f"{what}: options must be a mapping, not {type(positional).__name__}")
    out = to_library(positional, _CLIENT_TIME_KEYS, what)
    out.update(to_library(keywords, _CLIENT_TIME_KEYS, what))
    return out


def _b64(data: Union[bytes, bytearray, memoryview]) -> str:
    return base64.b64encode(bytes(data)).decode("ascii")


def fetch_options(keywords: Mapping[str, Any], what: str) -> Dict[str, Any]:
    """A fetch's keywords -> its options JSON; ``bytes`` in ``buffer`` and
    ``file["data"]`` are base64-encoded, as the C API takes them."""
    out = to_library(keywords, _FETCH_TIME_KEYS, what)
    if isinstance(out.get("buffer"), (bytes, bytearray, memoryview)):
        out["buffer"] = _b64(out["buffer"])
    file = out.get("file")
    if isinstance(file, Mapping) and isinstance(file.get("data"), (bytes, bytearray, memoryview)):
        file = dict(file)
        file["data"] = _b64(file["data"])
        out["file"] = file
    return out


def from_library(options: Mapping[str, Any]) -> Dict[str, Any]:
    """The library's options JSON -> Python keywords (snake_case, seconds).
    ``headers`` and ``endpoints`` keep their keys as they are."""
    out: Dict[str, Any] = {}
    for key, value in options.items():
        if key in _CLIENT_TIME_KEYS and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = value / 1000
        out[python_name(key)] = value
    return out


def dumps(value: Any, name: str) -> bytes:
    """A mapping as JSON bytes for the C API. Values JSON cannot hold raise
    TypeError or ValueError (NaN, infinity), as json.dumps does."""
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise type(e)(f"{name} cannot be sent as JSON: {e}") from None
    return encode(text, name)


def encode(value: str, name: str) -> bytes:
    """A str argument as UTF-8. NUL cannot cross the C API: ValueError, as
    ``open()`` raises for it. Lone surrogates go through as invalid UTF-8, so
    that the library refuses them (InvalidArgumentError, naming the argument)."""
    if "\x00" in value:
        raise ValueError(f"{name} contains a NUL character")
    return value.encode("utf-8", "surrogatepass")
