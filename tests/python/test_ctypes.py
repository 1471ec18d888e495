"""libchatbotkit through ctypes, against the loopback stand-in.

Run with `python3 -m pytest tests/python -q`. The library is taken from
$CHATBOTKIT_LIB (default: <repo>/target/release/libchatbotkit.so); the test
starts standin/standin.py itself on a free 127.0.0.1 port.
"""

from __future__ import annotations

import ctypes
import json
import os
import pathlib
import sys
import time
import tomllib
import urllib.request
from ctypes import POINTER, byref, c_char_p, c_int, c_void_p

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "standin"))
from launcher import running_standin  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]
LIB_PATH = os.environ.get("CHATBOTKIT_LIB", str(REPO / "target" / "release" / "libchatbotkit.so"))
SECRET = "sk_ctypes_test_3f9Qx7LmZ2"

CBK_OK = 0
CBK_ERROR_INVALID_ARGUMENT = 1
CBK_ERROR_INVALID_JSON = 2
CBK_ERROR_API = 3


# --------------------------------------------------------------------------
# The library
# --------------------------------------------------------------------------


def _declare(lib: ctypes.CDLL) -> ctypes.CDLL:
    """argtypes/restype for every function used. Handles are c_void_p,
    `cbk_error **` is POINTER(c_void_p), returned `char *` is c_void_p so it
    can be handed back to cbk_string_free; borrowed `const char *` is
    c_char_p (ctypes copies it)."""
    err_out = POINTER(c_void_p)
    for kind in ("conversation", "bot"):
        prefix = "cbk_%s_session_client_" % kind
        getattr(lib, prefix + "new").argtypes = [c_char_p, err_out]
        getattr(lib, prefix + "new").restype = c_void_p
        getattr(lib, prefix + "extend").argtypes = [c_void_p, c_char_p, err_out]
        getattr(lib, prefix + "extend").restype = c_void_p
        getattr(lib, prefix + "create").argtypes = [c_void_p, c_char_p, c_char_p, err_out]
        getattr(lib, prefix + "create").restype = c_void_p
        getattr(lib, prefix + "free").argtypes = [c_void_p]
        getattr(lib, prefix + "free").restype = None

    lib.cbk_error_status.argtypes = [c_void_p]
    lib.cbk_error_status.restype = c_int
    lib.cbk_error_code.argtypes = [c_void_p]
    lib.cbk_error_code.restype = c_char_p
    lib.cbk_error_message.argtypes = [c_void_p]
    lib.cbk_error_message.restype = c_char_p
    lib.cbk_error_http_status.argtypes = [c_void_p]
    lib.cbk_error_http_status.restype = c_int
    lib.cbk_error_to_json.argtypes = [c_void_p]
    lib.cbk_error_to_json.restype = c_void_p
    lib.cbk_error_free.argtypes = [c_void_p]
    lib.cbk_error_free.restype = None
    lib.cbk_string_free.argtypes = [c_void_p]
    lib.cbk_string_free.restype = None
    lib.cbk_version.argtypes = []
    lib.cbk_version.restype = c_char_p
    return lib


@pytest.fixture(scope="session")
def lib() -> ctypes.CDLL:
    if not os.path.exists(LIB_PATH):
        pytest.fail("library not found at %s (build it, or set CHATBOTKIT_LIB)" % LIB_PATH)
    return _declare(ctypes.CDLL(LIB_PATH))


def take_string(lib: ctypes.CDLL, ptr: int | None) -> str:
    """Copies a library-owned `char *` and frees it."""
    assert ptr, "expected a string, got NULL"
    try:
        return ctypes.string_at(ptr).decode("utf-8")
    finally:
        lib.cbk_string_free(ptr)


def audit(what: str, text: str) -> None:
    """Appends library output to the suite-wide audit file (CHATBOTKIT_TEST_AUDIT),
    which `make test` scans for every test secret (scripts/check-secrets.sh)."""
    path = os.environ.get("CHATBOTKIT_TEST_AUDIT")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write("python %s: %s\n" % (what, text.replace("\n", "\\n")))


class Error:
    """A copy of a `cbk_error`, read through the accessors."""

    def __init__(self, lib: ctypes.CDLL, ptr: int) -> None:
        self.status = lib.cbk_error_status(ptr)
        self.code = lib.cbk_error_code(ptr).decode("utf-8")
        self.message = lib.cbk_error_message(ptr).decode("utf-8")
        self.http_status = lib.cbk_error_http_status(ptr)
        self.json = json.loads(take_string(lib, lib.cbk_error_to_json(ptr)))
        audit("error", self.message)
        audit("error json", json.dumps(self.json))

    def __repr__(self) -> str:
        return "Error(%r)" % self.json


def take_error(lib: ctypes.CDLL, err: c_void_p) -> Error:
    """Reads and frees the error a failed call stored in `err`."""
    assert err.value, "expected *error to be set"
    try:
        return Error(lib, err.value)
    finally:
        lib.cbk_error_free(err.value)
        err.value = None


class Client:
    """A conversation or bot session client handle, freed on close."""

    def __init__(self, lib: ctypes.CDLL, kind: str, handle: int) -> None:
        assert handle, "expected a handle"
        self.lib, self.kind, self.handle = lib, kind, handle

    def fn(self, name: str):
        return getattr(self.lib, "cbk_%s_session_client_%s" % (self.kind, name))

    @classmethod
    def new(cls, lib: ctypes.CDLL, kind: str, options: dict | str | None) -> "Client":
        err = c_void_p()
        text = options if isinstance(options, str) or options is None else json.dumps(options)
        handle = getattr(lib, "cbk_%s_session_client_new" % kind)(
            None if text is None else text.encode("utf-8"), byref(err))
        if not handle:
            raise AssertionError("_new failed: %r" % take_error(lib, err))
        assert err.value is None
        return cls(lib, kind, handle)

    def extend(self, options: dict) -> "Client":
        err = c_void_p()
        handle = self.fn("extend")(self.handle, json.dumps(options).encode("utf-8"), byref(err))
        if not handle:
            raise AssertionError("_extend failed: %r" % take_error(self.lib, err))
        assert err.value is None
        return Client(self.lib, self.kind, handle)

    def create(self, ident: str | None, request: dict | None = None) -> tuple[dict | None, Error | None]:
        err = c_void_p()
        ptr = self.fn("create")(
            self.handle,
            None if ident is None else ident.encode("utf-8"),
            None if request is None else json.dumps(request).encode("utf-8"),
            byref(err),
        )
        if ptr:
            assert err.value is None, "*error must be left untouched on success"
            return json.loads(take_string(self.lib, ptr)), None
        return None, take_error(self.lib, err)

    def close(self) -> None:
        if self.handle:
            self.fn("free")(self.handle)
            self.handle = None

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --------------------------------------------------------------------------
# The stand-in
# --------------------------------------------------------------------------


class Standin:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def requests(self) -> list[dict]:
        with urllib.request.urlopen(self.base_url + "/_standin/requests", timeout=10) as resp:
            return json.load(resp)

    def clear(self) -> None:
        req = urllib.request.Request(self.base_url + "/_standin/requests", method="DELETE")
        with urllib.request.urlopen(req, timeout=10):
            pass


@pytest.fixture(scope="session")
def standin_server():
    with running_standin(SECRET) as url:
        yield Standin(url)

@pytest.fixture
def standin(standin_server: Standin) -> Standin:
    standin_server.clear()
    return standin_server


def options(standin: Standin, **extra) -> dict:
    return {"secret": SECRET, "baseUrl": standin.base_url, "retryDelay": 10, **extra}


def cargo_version() -> str:
    with open(REPO / "Cargo.toml", "rb") as handle:
        return tomllib.load(handle)["package"]["version"]


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------


def test_conversation_session(lib, standin):
    before = int(time.time() * 1000)
    with Client.new(lib, "conversation", options(standin)) as client:
        session, error = client.create("conv_123", {"note": "from ctypes"})
    assert error is None
    assert session["id"].startswith("cs_")
    assert session["token"].startswith("cbk_ct_")
    assert isinstance(session["expiresAt"], int) and session["expiresAt"] > before

    (recorded,) = standin.requests()
    assert recorded["method"] == "POST"
    assert recorded["path"] == "/api/v1/conversation/conv_123/session/create"
    assert recorded["query"] == ""
    assert recorded["headers"]["authorization"] == "Bearer " + SECRET
    assert recorded["headers"]["content-type"] == "application/json"
    assert recorded["headers"]["user-agent"] == "libchatbotkit/" + cargo_version()
    assert json.loads(recorded["body"]) == {"note": "from ctypes"}


def test_bot_session(lib, standin):
    with Client.new(lib, "bot", options(standin)) as client:
        session, error = client.create("bot_42", None)
    assert error is None
    for key in ("id", "token", "expiresAt", "conversationId"):
        assert key in session, key
    assert session["token"].startswith("cbk_ct_")
    assert session["conversationId"]

    (recorded,) = standin.requests()
    assert recorded["method"] == "POST"
    assert recorded["path"] == "/api/v1/bot/bot_42/session/create"
    assert recorded["headers"]["authorization"] == "Bearer " + SECRET
    assert json.loads(recorded["body"]) == {}


def test_id_is_one_encoded_segment(lib, standin):
    with Client.new(lib, "bot", options(standin)) as client:
        session, error = client.create("a/b c?#%é", None)
    assert error is None and session["token"]
    (recorded,) = standin.requests()
    assert recorded["path"] == "/api/v1/bot/a%2Fb%20c%3F%23%25%C3%A9/session/create"


def test_extend_adds_headers(lib, standin):
    base = Client.new(lib, "conversation", options(standin, headers={"x-base": "1"}))
    try:
        derived = base.extend({"headers": {"x-extra": "hello"}, "timezone": "Europe/London"})
    finally:
        base.close()  # the derived handle must not depend on its parent
    with derived:
        session, error = derived.create("conv_ext")
    assert error is None and session["token"]

    (recorded,) = standin.requests()
    headers = recorded["headers"]
    assert headers["x-base"] == "1"
    assert headers["x-extra"] == "hello"
    assert headers["x-timezone"] == "Europe/London"
    assert headers["authorization"] == "Bearer " + SECRET


def test_api_error(lib, standin):
    with Client.new(lib, "conversation", options(standin)) as client:
        session, error = client.create("fail-404")
    assert session is None
    assert error.status == CBK_ERROR_API
    assert error.code == "NOT_FOUND"
    assert error.http_status == 404
    assert error.message == "Not found"
    assert SECRET not in error.message
    # 404 is not retried.
    assert len(standin.requests()) == 1


def test_error_to_json_round_trip(lib, standin):
    with Client.new(lib, "bot", options(standin)) as client:
        _, error = client.create("fail-404")
    assert error.json == {
        "status": "API",
        "code": error.code,
        "message": error.message,
        "httpStatus": 404,
    }

    err = c_void_p()
    assert not lib.cbk_bot_session_client_new(b'{"retries": "many"}', byref(err))
    error = take_error(lib, err)
    assert error.json["status"] == "INVALID_JSON"
    assert error.json["code"] == error.code == "INVALID_JSON"
    assert error.json["message"] == error.message
    assert error.json["httpStatus"] == error.http_status == 0


@pytest.mark.parametrize(
    "text, key",
    [
        ('{"timeout": "soon"}', "timeout"),
        ('{"retries": true}', "retries"),
        ('{"headers": {"x-a": 1}}', "headers"),
        ('{"noSuchOption": 1}', "noSuchOption"),
        ('{"fetchFn": "x"}', "fetchFn"),
    ],
)
def test_invalid_json_options(lib, text, key):
    for kind in ("conversation", "bot"):
        err = c_void_p()
        handle = getattr(lib, "cbk_%s_session_client_new" % kind)(text.encode(), byref(err))
        assert not handle
        error = take_error(lib, err)
        assert error.status == CBK_ERROR_INVALID_JSON, error
        assert key in error.message, error
        assert error.http_status == 0


@pytest.mark.parametrize("text", ["not json", "[1, 2]", '"a string"', "{"])
def test_options_not_a_json_object(lib, text):
    err = c_void_p()
    assert not lib.cbk_conversation_session_client_new(text.encode(), byref(err))
    assert take_error(lib, err).status == CBK_ERROR_INVALID_JSON


def test_null_id(lib, standin):
    for kind, name in (("conversation", "conversation_id"), ("bot", "bot_id")):
        with Client.new(lib, kind, options(standin)) as client:
            session, error = client.create(None)
        assert session is None
        assert error.status == CBK_ERROR_INVALID_ARGUMENT, error
        assert error.code == "INVALID_ARGUMENT"
        assert name in error.message, error
        assert error.http_status == 0
    assert standin.requests() == []  # nothing was sent


def test_null_error_pointer_is_allowed(lib, standin):
    with Client.new(lib, "conversation", options(standin)) as client:
        assert not lib.cbk_conversation_session_client_create(client.handle, None, None, None)
        assert not lib.cbk_conversation_session_client_create(client.handle, b"fail-404", None, None)
    assert not lib.cbk_conversation_session_client_new(b"not json", None)


def test_free_functions_accept_null(lib):
    lib.cbk_conversation_session_client_free(None)
    lib.cbk_bot_session_client_free(None)
    lib.cbk_string_free(None)
    lib.cbk_error_free(None)


def test_version_matches_cargo_toml(lib):
    assert lib.cbk_version().decode("ascii") == cargo_version()
