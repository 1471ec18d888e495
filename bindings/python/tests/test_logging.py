"""The library's log lines in logging.getLogger("chatbotkit")."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import chatbotkit_c
from chatbotkit_c import APIError, ConversationSessionClient


def _lines(caplog, text):
    return [r for r in caplog.records if r.name == "chatbotkit" and text in r.getMessage()]


def _wait_for(caplog, text, n=1, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(_lines(caplog, text)) < n:
        time.sleep(0.02)
    return _lines(caplog, text)


def test_levels_map(opts, caplog, secret):
    chatbotkit_c.enable_logging(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="chatbotkit")
    try:
        with ConversationSessionClient(**opts) as client:
            client.create("cnv_py_log_ok")
            try:
                client.extend(retries=1).create("fail-503")
            except APIError:
                pass
        ok = _wait_for(caplog, "cnv_py_log_ok/session/create attempt 1 -> HTTP 200")
        assert ok and ok[0].levelno == logging.INFO
        retried = _lines(caplog, "fail-503/session/create attempt 1")
        assert retried and retried[0].levelno == logging.WARNING
        failed = _lines(caplog, "fail-503/session/create attempt 2")
        assert failed and failed[0].levelno == logging.ERROR
        assert any(r.levelno == logging.DEBUG for r in caplog.records if r.name == "chatbotkit")
        assert all(secret not in r.getMessage() for r in caplog.records)
    finally:
        chatbotkit_c.enable_logging(logging.NOTSET)


def test_only_what_the_logger_lets_through(opts, caplog):
    caplog.set_level(logging.ERROR, logger="chatbotkit")
    chatbotkit_c.enable_logging()  # the library is asked for errors only now
    with ConversationSessionClient(**opts) as client:
        client.create("cnv_py_quiet")
        try:
            client.create("fail-404")
        except APIError:
            pass
    assert _wait_for(caplog, "fail-404")
    assert not _lines(caplog, "cnv_py_quiet")


def test_disable_logging(opts, caplog):
    caplog.set_level(logging.DEBUG, logger="chatbotkit")
    chatbotkit_c.disable_logging()
    try:
        with ConversationSessionClient(**opts) as client:
            client.create("cnv_py_silent")
        time.sleep(0.1)
        assert not _lines(caplog, "cnv_py_silent")
    finally:
        chatbotkit_c.enable_logging()


def test_lines_from_library_threads(opts, caplog):
    caplog.set_level(logging.INFO, logger="chatbotkit")
    chatbotkit_c.enable_logging()

    async def main():
        with ConversationSessionClient(**opts) as client:
            await client.acreate("cnv_py_async_log")

    asyncio.run(main())
    lines = _wait_for(caplog, "cnv_py_async_log")
    assert lines and lines[0].threadName != threading.main_thread().name


def test_no_output_without_configuration(tmp_path, opts):
    # A program that never configures logging prints nothing for the library's
    # warnings and errors (the logger has a NullHandler).
    import subprocess
    import sys
    code = (
        "import chatbotkit_c, sys\n"
        f"c = chatbotkit_c.ConversationSessionClient(secret={opts['secret']!r}, "
        f"base_url={opts['base_url']!r}, retries=1, retry_delay=0.001)\n"
        "try:\n    c.create('fail-503')\nexcept chatbotkit_c.APIError:\n    print('ok')\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                       cwd=tmp_path, env=_child_env())
    assert r.stdout.strip() == "ok", r.stderr
    assert r.stderr == ""


def _child_env():
    import os
    env = dict(os.environ)
    import conftest
    if not conftest.INSTALLED:
        env["PYTHONPATH"] = str(conftest.PACKAGE_ROOT)
        env.setdefault("CHATBOTKIT_LIB", conftest.BUILT_LIB)
    return env
