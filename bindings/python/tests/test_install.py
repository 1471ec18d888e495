"""The installed package: the bundled library, CHATBOTKIT_LIB, load()."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import chatbotkit_c
from conftest import BUILT_LIB, INSTALLED, PACKAGE_ROOT

installed_only = pytest.mark.skipif(not INSTALLED, reason="needs the installed wheel")
PROBE = "import chatbotkit_c\nprint(chatbotkit_c.library_path())\nprint(chatbotkit_c.version())\n"


def _python(code, env, cwd):
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=60)


def _bare_env(**extra):
    """No CHATBOTKIT_* variable, nothing on PYTHONPATH: as in a fresh venv."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CHATBOTKIT_", "PYTHON", "LD_"))}
    env.update(extra)
    return env


def _package_dir():
    return Path(chatbotkit_c.__file__).resolve().parent


@installed_only
def test_the_installed_copy_is_tested():
    assert PACKAGE_ROOT not in _package_dir().parents
    assert (_package_dir() / "py.typed").exists()


@installed_only
@pytest.mark.skipif(bool(os.environ.get("CHATBOTKIT_LIB")), reason="CHATBOTKIT_LIB is set")
def test_bundled_library_in_use():
    assert Path(chatbotkit_c.library_path()) == _package_dir() / "libchatbotkit.so"


@installed_only
def test_works_with_no_environment(tmp_path):
    r = _python(PROBE, _bare_env(), tmp_path)
    assert r.returncode == 0, r.stderr
    path, version = r.stdout.split()
    assert Path(path) == _package_dir() / "libchatbotkit.so"
    assert version == "0.1.0"


def _lib_copy(tmp_path):
    source = BUILT_LIB if os.path.exists(BUILT_LIB) else chatbotkit_c.library_path()
    dest = tmp_path / "elsewhere" / "libchatbotkit.so"
    dest.parent.mkdir()
    shutil.copy(source, dest)
    return str(dest)


def _env_for_source(env):
    if not INSTALLED:
        env["PYTHONPATH"] = str(PACKAGE_ROOT)
    return env


def test_env_overrides_the_bundled_library(tmp_path):
    lib = _lib_copy(tmp_path)
    r = _python(PROBE, _env_for_source(_bare_env(CHATBOTKIT_LIB=lib)), tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0] == lib


def test_env_that_cannot_load(tmp_path):
    code = ("import chatbotkit_c\ntry:\n    chatbotkit_c.version()\n"
            "except chatbotkit_c.LibraryNotFoundError as e:\n    print('notfound', e)\n")
    r = _python(code, _env_for_source(_bare_env(CHATBOTKIT_LIB=str(tmp_path / "nope.so"))),
                tmp_path)
    assert r.stdout.startswith("notfound CHATBOTKIT_LIB="), r.stdout + r.stderr
    assert isinstance(chatbotkit_c.LibraryNotFoundError("x"), OSError)


def test_not_libchatbotkit(tmp_path):
    import ctypes.util
    libc = ctypes.util.find_library("c")
    if not libc:
        pytest.skip("no libc name to load")
    code = ("import chatbotkit_c\ntry:\n    chatbotkit_c.version()\n"
            "except chatbotkit_c.LibraryNotFoundError as e:\n    print('notfound', e)\n")
    r = _python(code, _env_for_source(_bare_env(CHATBOTKIT_LIB=libc)), tmp_path)
    assert "not libchatbotkit" in r.stdout, r.stdout + r.stderr


def test_explicit_load_wins(tmp_path):
    lib = _lib_copy(tmp_path)
    code = (f"import chatbotkit_c\nchatbotkit_c.load({lib!r})\n"
            "print(chatbotkit_c.library_path())\n")
    r = _python(code, _env_for_source(_bare_env(CHATBOTKIT_LIB=str(tmp_path / "nope.so"))),
                tmp_path)
    assert r.stdout.strip() == lib, r.stderr
    code = ("import chatbotkit_c\ntry:\n    chatbotkit_c.load('/nonexistent/libchatbotkit.so')\n"
            "except OSError as e:\n    print(type(e).__name__, e)\n")
    r = _python(code, _env_for_source(_bare_env()), tmp_path)
    assert r.stdout.startswith("LibraryNotFoundError"), r.stdout + r.stderr


def test_exit_with_calls_in_flight(tmp_path, opts):
    # Calls still running at exit are cancelled and settled before the
    # interpreter finalizes: no library thread may enter Python after that.
    code = (
        "import asyncio, chatbotkit_c\n"
        f"c = chatbotkit_c.ConversationSessionClient(secret={opts['secret']!r}, "
        f"base_url={opts['base_url']!r})\n"
        "tasks = [c.create_async('slow-5000') for _ in range(20)]\n"
        "s = c.stream('/api/v1/conversation/x/complete', record={'text': 'a ' * 500})\n"
        "next(s)\n"
        "c.create_async('slow-5000').close()\n"
        "print('bye')\n"
    )
    env = _env_for_source(_bare_env())
    if not INSTALLED:
        env["CHATBOTKIT_LIB"] = BUILT_LIB
    r = _python(code, env, tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "bye" and r.stderr == ""
