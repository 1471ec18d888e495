"""Tests of the chatbotkit_c package against the loopback stand-in.

    make build                                   # at the repository root
    python3 -m pytest -q bindings/python/tests

The library is CHATBOTKIT_LIB when set, else the repository's
target/release/libchatbotkit.so. The stand-in (standin/standin.py) is started
by a fixture on a free port with a secret of its own.

Choice documented in the package: an id that is not a str (None included)
raises TypeError before the library is called.
"""

from __future__ import annotations

import concurrent.futures
import gc
import json
import os
import pickle
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
import weakref
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
PACKAGE_ROOT = HERE.parent                      # bindings/python
REPO = PACKAGE_ROOT.parent.parent               # the repository
STANDIN = REPO / "standin" / "standin.py"
sys.path.insert(0, str(STANDIN.parent))
from launcher import running_standin  # noqa: E402
SECRET = "sk_pypkg_STANDIN_r8Nd3Qz"

sys.path.insert(0, str(PACKAGE_ROOT))
import chatbotkit_c  # noqa: E402
from chatbotkit_c import (  # noqa: E402
    BotSessionClient,
    ChatBotKitError,
    ConversationSessionClient,
    LibraryNotFoundError,
    SessionClient,
    Status,
    Task,
)

LIB = os.environ.get("CHATBOTKIT_LIB") or str(REPO / "target" / "release" / "libchatbotkit.so")


def setup_module(module):
    if not os.path.exists(LIB):
        pytest.exit(f"{LIB} not found: run `make build` at the repository root first", returncode=1)
    chatbotkit_c.load(LIB)


# ---------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def base_url():
    """Starts the stand-in on a free port; yields its base URL."""
    with running_standin(SECRET) as url:
        yield url

@pytest.fixture
def opts(base_url):
    """Options for a client of the stand-in (no long retry waits)."""
    return {"secret": SECRET, "baseUrl": base_url, "retryDelay": 1}


@pytest.fixture
def recorded(base_url):
    """Clears the stand-in's request log; returns a function reading it."""
    req = urllib.request.Request(base_url + "/_standin/requests", method="DELETE")
    urllib.request.urlopen(req, timeout=5).close()

    def read():
        with urllib.request.urlopen(base_url + "/_standin/requests", timeout=5) as r:
            return json.load(r)

    return read


# ---------------------------------------------------------------------------
# Basics


def test_version():
    v = chatbotkit_c.version()
    assert isinstance(v, str)
    assert v == chatbotkit_c.__version__ == "0.1.0"


def test_session_client_alias():
    assert SessionClient is BotSessionClient


def test_conversation_create(opts, recorded):
    client = ConversationSessionClient(**opts)
    session = client.create("cnv_py_1")
    assert isinstance(session, dict)
    assert session["token"] and session["id"]
    assert isinstance(session["expiresAt"], int)

    again = client.create("cnv_py_1", {"expiresIn": 60})
    assert again["token"] != session["token"]
    text = client.create("cnv_py_1", '{"raw": true}')
    assert text["token"]

    reqs = recorded()
    assert [r["path"] for r in reqs] == ["/api/v1/conversation/cnv_py_1/session/create"] * 3
    assert [json.loads(r["body"]) for r in reqs] == [{}, {"expiresIn": 60}, {"raw": True}]
    assert reqs[0]["headers"]["authorization"] == f"Bearer {SECRET}"
    assert reqs[0]["headers"]["content-type"] == "application/json"
    client.close()


def test_bot_create(opts, recorded):
    with BotSessionClient(**opts) as client:
        session = client.create("bot_py_1", {})
        assert session["token"] and session["conversationId"]
    with SessionClient(**opts) as old_name:
        assert old_name.create("bot_py_2")["conversationId"]
    assert [r["path"] for r in recorded()] == [
        "/api/v1/bot/bot_py_1/session/create",
        "/api/v1/bot/bot_py_2/session/create",
    ]


def test_ids_are_one_segment(opts, recorded):
    with ConversationSessionClient(**opts) as client:
        assert client.create("a/b?c#d é")["token"]
    assert recorded()[0]["path"] == "/api/v1/conversation/a%2Fb%3Fc%23d%20%C3%A9/session/create"


def test_options(opts, base_url):
    client = ConversationSessionClient(**opts)
    o = client.options()
    assert o["secret"] == SECRET
    assert o["baseUrl"].rstrip("/") == base_url
    assert o["retries"] == 3
    assert o["retryDelay"] == 1
    assert o["headers"] == {} and o["endpoints"] == {}

    # The options are valid keywords for a new client.
    copy = ConversationSessionClient(**o)
    assert copy.options() == o
    assert copy.create("cnv_py_options")["token"]

    # A mapping positionally; keywords win.
    mixed = BotSessionClient(opts, retries=1)
    assert mixed.options()["retries"] == 1
    assert mixed.options()["secret"] == SECRET

    # No options at all: the real API's defaults, no secret.
    default = ConversationSessionClient()
    d = default.options()
    assert d["baseUrl"].startswith("https://api.chatbotkit.com")
    assert "secret" not in d


def test_extend(opts, recorded):
    parent = ConversationSessionClient(**opts)
    child = parent.extend(headers={"x-py-test": "yes"}, timezone="Europe/London", retries=1)
    assert isinstance(child, ConversationSessionClient)
    co = child.options()
    assert co["headers"] == {"x-py-test": "yes"}
    assert co["timezone"] == "Europe/London"
    assert co["retries"] == 1
    assert co["secret"] == SECRET  # inherited
    po = parent.options()
    assert po["headers"] == {} and po["retries"] == 3 and "timezone" not in po

    # headers merge key by key; None resets an option / removes a header.
    grandchild = child.extend(headers={"x-other": "1"})
    assert grandchild.options()["headers"] == {"x-py-test": "yes", "x-other": "1"}
    reset = grandchild.extend(retries=None, headers={"x-py-test": None})
    assert reset.options()["retries"] == 3
    assert reset.options()["headers"] == {"x-other": "1"}

    # Independent: close the parent first; the child still works and sends its headers.
    parent.close()
    del parent
    gc.collect()
    assert child.create("cnv_py_extend")["token"]
    headers = recorded()[-1]["headers"]
    assert headers["x-py-test"] == "yes"
    assert headers["x-timezone"] == "Europe/London"

    bot = BotSessionClient(**opts)
    bot_copy = bot.extend()
    assert isinstance(bot_copy, BotSessionClient)
    assert bot_copy.options() == bot.options()


def test_fetch(opts, recorded):
    with ConversationSessionClient(**opts) as client:
        client.create("cnv_py_fetch")
        log = client.fetch("/_standin/requests", method="GET")
        assert isinstance(log, list)
        assert log[-1]["path"] == "/api/v1/conversation/cnv_py_fetch/session/create"

        # A POST through fetch, with a record body and extra headers.
        r = client.fetch("/api/v1/bot/bot_py_fetch/session/create", method="POST", record={"a": 1},
                         headers={"x-fetch": "1"})
        assert r["token"]
        last = recorded()[-1]
        assert json.loads(last["body"]) == {"a": 1}
        assert last["headers"]["x-fetch"] == "1"

        with pytest.raises(ChatBotKitError) as info:
            client.fetch("/api/v1/nowhere", method="GET")
        assert info.value.status == Status.API
        assert info.value.code == "NOT_FOUND"
        assert info.value.http_status == 404


# ---------------------------------------------------------------------------
# Errors


@pytest.mark.parametrize("cls", [ConversationSessionClient, BotSessionClient])
def test_api_error_404(cls, opts):
    with cls(**opts) as client:
        with pytest.raises(ChatBotKitError) as info:
            client.create("fail-404")
    e = info.value
    assert e.status == Status.API
    assert e.status == 3 and isinstance(e.status, int)
    assert e.status.name == "API" and e.status_name == "API"
    assert e.code == "NOT_FOUND"
    assert e.http_status == 404
    assert e.message and SECRET not in e.message
    assert "NOT_FOUND" in str(e) and e.message in str(e)
    assert SECRET not in repr(e)
    assert isinstance(e, Exception)


def test_api_error_after_retries(opts):
    with ConversationSessionClient(**opts, retries=1) as client:
        with pytest.raises(ChatBotKitError) as info:
            client.create("fail-503")
    assert info.value.status == Status.API
    assert info.value.http_status == 503


def test_error_pickles(opts):
    with ConversationSessionClient(**opts) as client:
        with pytest.raises(ChatBotKitError) as info:
            client.create("fail-404")
    copy = pickle.loads(pickle.dumps(info.value))
    assert (copy.status, copy.code, copy.message, copy.http_status) == (
        info.value.status, info.value.code, info.value.message, info.value.http_status)
    assert copy.status is Status.API


@pytest.mark.parametrize("cls", [ConversationSessionClient, BotSessionClient])
@pytest.mark.parametrize(
    "options, status, names",
    [
        ({"timeout": "soon"}, Status.INVALID_JSON, "timeout"),
        ({"noSuchOption": 1}, Status.INVALID_JSON, "noSuchOption"),
        ({"headers": ["x"]}, Status.INVALID_JSON, "headers"),
        ({"fetchFn": "x"}, Status.INVALID_JSON, "fetchFn"),
        ({"retries": -1}, Status.INVALID_ARGUMENT, "retries"),
        ({"baseUrl": "ftp://example.com"}, Status.INVALID_ARGUMENT, "baseUrl"),
        ({"secret": "sk_line\nbreak"}, Status.INVALID_ARGUMENT, "secret"),
    ],
)
def test_bad_options(cls, options, status, names):
    with pytest.raises(ChatBotKitError) as info:
        cls(**options)
    e = info.value
    assert e.status == status
    assert e.code == status.name
    assert e.http_status == 0
    assert names in e.message
    assert "sk_line" not in e.message


def test_bad_options_extend(opts):
    client = BotSessionClient(**opts)
    with pytest.raises(ChatBotKitError) as info:
        client.extend(retries="many")
    assert info.value.status == Status.INVALID_JSON
    assert "retries" in info.value.message
    assert client.create("bot_py_after_bad_extend")["token"]  # unchanged


def test_options_not_json_serialisable():
    with pytest.raises(ChatBotKitError) as info:
        ConversationSessionClient(timeout=object())
    assert info.value.status == Status.INVALID_JSON


def test_bad_ids(opts):
    with ConversationSessionClient(**opts) as client:
        # The documented choice: a non-str id, None included, is a TypeError.
        with pytest.raises(TypeError, match="conversation_id"):
            client.create(None)
        with pytest.raises(TypeError):
            client.create(123)
        with pytest.raises(TypeError):
            client.create(b"cnv")
        # Empty, ".", "..": the library's INVALID_ARGUMENT, nothing sent.
        for ident in ("", ".", ".."):
            with pytest.raises(ChatBotKitError) as info:
                client.create(ident)
            assert info.value.status == Status.INVALID_ARGUMENT
            assert info.value.code == "INVALID_ARGUMENT"
        # A NUL character could not reach the C API intact.
        with pytest.raises(ChatBotKitError) as info:
            client.create("cnv\x00x")
        assert info.value.status == Status.INVALID_ARGUMENT
        assert "conversation_id" in info.value.message
        # A lone surrogate reaches the library as invalid UTF-8.
        with pytest.raises(ChatBotKitError) as info:
            client.create("cnv\udc80")
        assert info.value.status == Status.INVALID_ARGUMENT
        # A request that is not a JSON object.
        with pytest.raises(ChatBotKitError) as info:
            client.create("cnv_py", "[1]")
        assert info.value.status == Status.INVALID_JSON
    with BotSessionClient(**opts) as bot:
        with pytest.raises(TypeError, match="bot_id"):
            bot.create(None)


# ---------------------------------------------------------------------------
# Lifetime


def test_context_manager(opts):
    with ConversationSessionClient(**opts) as client:
        assert not client.closed
        assert client.create("cnv_py_with")["token"]
    assert client.closed
    with pytest.raises(ValueError, match="closed"):
        client.create("cnv_py_with")
    with pytest.raises(ValueError):
        client.options()
    with pytest.raises(ValueError):
        client.extend()
    client.close()  # idempotent
    with pytest.raises(ValueError):
        with client:
            pass

    # Closed on the way out of an exception too.
    with pytest.raises(RuntimeError):
        with BotSessionClient(**opts) as bot:
            raise RuntimeError("boom")
    assert bot.closed


def _count_frees(client):
    calls = []
    real = client._fns["free"]

    def counting(handle):
        calls.append(handle)
        real(handle)

    client._fns = dict(client._fns, free=counting)
    return calls


def test_handles_freed_once(opts):
    # close(), then garbage collection: one free.
    client = ConversationSessionClient(**opts)
    frees = _count_frees(client)
    client.close()
    client.close()
    del client
    gc.collect()
    assert len(frees) == 1

    # Garbage collection alone frees too.
    client = BotSessionClient(**opts)
    frees = _count_frees(client)
    ref = weakref.ref(client)
    del client
    gc.collect()
    assert ref() is None
    assert len(frees) == 1


def test_close_while_in_use(opts):
    client = ConversationSessionClient(**opts)
    frees = _count_frees(client)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        slow = pool.submit(client.create, "slow-500")
        deadline = time.monotonic() + 10
        while client._busy == 0:  # wait until the call is in flight
            assert time.monotonic() < deadline, "the call did not start"
            time.sleep(0.01)
        client.close()
        assert client.closed
        assert frees == []  # deferred until the call returns
        assert slow.result(timeout=30)["token"]
    assert len(frees) == 1
    with pytest.raises(ValueError):
        client.create("cnv_py_after_close")


def test_not_copyable(opts):
    import copy

    client = ConversationSessionClient(**opts)
    with pytest.raises(TypeError):
        copy.copy(client)
    with pytest.raises(TypeError):
        pickle.dumps(client)


# ---------------------------------------------------------------------------
# Threads and async


def test_eight_threads(opts):
    conv = ConversationSessionClient(**opts)
    bot = BotSessionClient(**opts)
    barrier = threading.Barrier(8)

    def work(i):
        barrier.wait(timeout=10)
        tokens = []
        for j in range(6):
            if j % 2:
                tokens.append(conv.create(f"cnv_py_thread_{i}_{j}")["token"])
            else:
                tokens.append(bot.create(f"bot_py_thread_{i}_{j}")["token"])
            child = conv.extend(retries=0)
            assert child.options()["retries"] == 0
            with pytest.raises(ChatBotKitError) as info:
                child.create("fail-404")
            assert info.value.http_status == 404
            child.close()
        return tokens

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(8), timeout=120))
    tokens = [t for r in results for t in r]
    assert len(tokens) == 48
    assert len(set(tokens)) == 48
    conv.close()
    bot.close()


def test_threads_run_in_parallel(opts):
    # ctypes releases the GIL: 8 slow calls of 400 ms take far less than 3.2 s.
    with ConversationSessionClient(**opts) as client:
        start = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda i: client.create("slow-400"), range(8)))
        elapsed = time.monotonic() - start
    assert all(r["token"] for r in results)
    assert elapsed < 2.5, elapsed


def test_async(opts):
    with ConversationSessionClient(**opts) as client:
        with client.create_async("cnv_py_async") as task:
            assert isinstance(task, Task)
            first = task.wait()
            assert first["token"]
            assert task.wait() == first

        failing = client.create_async("fail-404")
        with pytest.raises(ChatBotKitError) as info:
            failing.wait()
        assert info.value.code == "NOT_FOUND"
        failing.close()

        slow = client.create_async("slow-3000")
        slow.cancel()
        with pytest.raises(ChatBotKitError) as info:
            slow.wait()
        assert info.value.status == Status.CANCELLED
        assert info.value.code == "CANCELLED"
        slow.close()
        with pytest.raises(ValueError):
            slow.wait()

        with pytest.raises(ChatBotKitError) as info:
            client.create_async("")
        assert info.value.status == Status.INVALID_ARGUMENT

    # The client may go before its task.
    bot = BotSessionClient(**opts)
    task = bot.create_async("bot_py_async")
    bot.close()
    assert task.wait()["conversationId"]


# ---------------------------------------------------------------------------
# Finding the library (fresh interpreters)


def _run(code, env_extra, cwd, unset=("CHATBOTKIT_LIB",)):
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=60)


def _copy_package(dest):
    shutil.copytree(PACKAGE_ROOT / "chatbotkit_c", Path(dest) / "chatbotkit_c",
                    ignore=shutil.ignore_patterns("__pycache__"))


PROBE = (
    "import sys; sys.path.insert(0, '.')\n"
    "import chatbotkit_c\n"
    "try:\n"
    "    print('version', chatbotkit_c.version())\n"
    "except chatbotkit_c.LibraryNotFoundError as e:\n"
    "    print('notfound', e)\n"
)


def test_library_from_env(tmp_path):
    _copy_package(tmp_path)
    r = _run(PROBE, {"CHATBOTKIT_LIB": LIB}, tmp_path)
    assert r.stdout.strip() == "version 0.1.0", r.stderr

    r = _run(PROBE, {"CHATBOTKIT_LIB": str(tmp_path / "nope.so")}, tmp_path)
    assert r.stdout.startswith("notfound CHATBOTKIT_LIB="), r.stdout + r.stderr
    assert "nope.so" in r.stdout


def test_library_explicit_load_wins(tmp_path):
    _copy_package(tmp_path)
    code = ("import sys; sys.path.insert(0, '.')\nimport chatbotkit_c\n"
            f"chatbotkit_c.load({LIB!r})\nprint(chatbotkit_c.version())\n")
    r = _run(code, {"CHATBOTKIT_LIB": str(tmp_path / "nope.so")}, tmp_path)
    assert r.stdout.strip() == "0.1.0", r.stderr

    code = ("import sys; sys.path.insert(0, '.')\nimport chatbotkit_c\n"
            "try:\n    chatbotkit_c.load('/nonexistent/libchatbotkit.so')\n"
            "except OSError as e:\n    print(type(e).__name__, e)\n")
    r = _run(code, {}, tmp_path)
    assert r.stdout.startswith("LibraryNotFoundError"), r.stdout + r.stderr
    assert "/nonexistent/libchatbotkit.so" in r.stdout


def test_library_not_libchatbotkit(tmp_path):
    _copy_package(tmp_path)
    import ctypes.util
    libc = ctypes.util.find_library("c")
    if not libc:
        pytest.skip("no libc name to load")
    r = _run(PROBE, {"CHATBOTKIT_LIB": libc}, tmp_path)
    assert r.stdout.startswith("notfound") and "not libchatbotkit" in r.stdout, r.stdout + r.stderr


def test_library_next_to_package(tmp_path):
    import ctypes.util
    if ctypes.util.find_library("chatbotkit"):
        pytest.skip("a libchatbotkit is installed system-wide; it would be found first")
    _copy_package(tmp_path)

    r = _run(PROBE, {}, tmp_path)
    assert r.stdout.startswith("notfound libchatbotkit not found"), r.stdout + r.stderr
    assert "CHATBOTKIT_LIB" in r.stdout and "Tried:" in r.stdout

    shutil.copy(LIB, tmp_path / "libchatbotkit.so")  # next to the package
    r = _run(PROBE, {}, tmp_path)
    assert r.stdout.strip() == "version 0.1.0", r.stdout + r.stderr

    os.remove(tmp_path / "libchatbotkit.so")
    shutil.copy(LIB, tmp_path / "chatbotkit_c" / "libchatbotkit.so")  # inside the package
    r = _run(PROBE, {}, tmp_path)
    assert r.stdout.strip() == "version 0.1.0", r.stdout + r.stderr


def test_pip_installable(tmp_path):
    """Builds a wheel offline (no build isolation) and imports the installed copy."""
    import importlib.util
    if importlib.util.find_spec("setuptools") is None:
        pytest.skip("setuptools is not installed")
    if (importlib.util.find_spec("setuptools.command.bdist_wheel") is None
            and importlib.util.find_spec("wheel") is None):
        pytest.skip("neither setuptools>=70.1 nor wheel is installed (needed offline to build a wheel)")
    src = tmp_path / "src"
    shutil.copytree(PACKAGE_ROOT, src, ignore=shutil.ignore_patterns(
        "__pycache__", "build", "*.egg-info", ".pytest_cache"))
    wheels, target = tmp_path / "wheels", tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(wheels), str(src)], check=True, timeout=300)
    built = list(wheels.glob("chatbotkit_c-0.1.0-*.whl"))
    assert len(built) == 1, built
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    "--target", str(target), str(built[0])], check=True, timeout=300)
    assert (target / "chatbotkit_c" / "py.typed").exists()
    code = ("import sys; sys.path.insert(0, sys.argv[1])\nimport chatbotkit_c\n"
            "print(chatbotkit_c.__file__)\nprint(chatbotkit_c.version())\n")
    r = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True, text=True,
                       env=dict(os.environ, CHATBOTKIT_LIB=LIB), cwd=tmp_path, timeout=60)
    lines = r.stdout.split()
    assert lines[0].startswith(str(target)), r.stdout + r.stderr
    assert lines[1] == "0.1.0"
