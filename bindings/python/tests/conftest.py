"""Fixtures of the chatbotkit_c tests.

The package under test is the installed one (bindings/python/test.sh installs
the wheel into a fresh venv), with the library it bundles. Without an
installed copy, the source tree is imported instead, with the library from
$CHATBOTKIT_LIB or target/release (after `make build`).

The stand-in is the one scripts/with-standin.sh started
($CHATBOTKIT_API_BASE_URL, $CHATBOTKIT_API_SECRET), else one started here.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import urllib.request
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
PACKAGE_ROOT = HERE.parent  # bindings/python
REPO = PACKAGE_ROOT.parent.parent
sys.path.insert(0, str(REPO / "standin"))
from launcher import running_standin  # noqa: E402

try:
    import chatbotkit_c  # noqa: E402
    INSTALLED = True
except ImportError:
    sys.path.insert(0, str(PACKAGE_ROOT))
    import chatbotkit_c  # noqa: E402
    INSTALLED = False
    if not os.environ.get("CHATBOTKIT_LIB"):
        chatbotkit_c.load(REPO / "target" / "release" / "libchatbotkit.so")

#: A library to point CHATBOTKIT_LIB at in the tests that check it overrides.
BUILT_LIB = os.environ.get("CHATBOTKIT_LIB") or str(REPO / "target" / "release" / "libchatbotkit.so")


def _audit(text: str) -> None:
    # `make test` scans this file for every test secret (scripts/check-secrets.sh).
    path = os.environ.get("CHATBOTKIT_TEST_AUDIT")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write("python package: %s\n" % text.replace("\n", "\\n"))


class _AuditHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        _audit(record.getMessage())


_error_init = chatbotkit_c.ChatBotKitError.__init__


def _audited_init(self, *args, **kwargs):
    _error_init(self, *args, **kwargs)
    _audit(self.message)


if os.environ.get("CHATBOTKIT_TEST_AUDIT"):
    chatbotkit_c.ChatBotKitError.__init__ = _audited_init  # type: ignore[method-assign]
    logging.getLogger("chatbotkit").addHandler(_AuditHandler())


@pytest.fixture(scope="session")
def standin():
    """(base_url, secret) of a running stand-in."""
    url = os.environ.get("CHATBOTKIT_API_BASE_URL")
    secret = os.environ.get("CHATBOTKIT_API_SECRET")
    if url and secret:
        yield url.rstrip("/"), secret
        return
    secret = "sk_pypkg_STANDIN_r8Nd3Qz"
    with running_standin(secret) as url:
        yield url, secret


@pytest.fixture
def base_url(standin):
    return standin[0]


@pytest.fixture
def secret(standin):
    return standin[1]


@pytest.fixture
def opts(standin):
    """Keyword options for a client of the stand-in (short retry waits)."""
    return {"secret": standin[1], "base_url": standin[0], "retry_delay": 0.001}


@pytest.fixture
def recorded(base_url):
    """Clears the stand-in's request log; returns a function reading it."""
    req = urllib.request.Request(base_url + "/_standin/requests", method="DELETE")
    urllib.request.urlopen(req, timeout=5).close()

    def read():
        with urllib.request.urlopen(base_url + "/_standin/requests", timeout=5) as r:
            return json.load(r)

    return read


COMPLETE = "/api/v1/conversation/cnv_stream/complete"


def words(n: int) -> str:
    """A text the stand-in streams back as about n tokens, 20 ms apart."""
    return " ".join(f"w{i}" for i in range(n))
