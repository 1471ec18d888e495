"""The library's log lines, sent to ``logging.getLogger("chatbotkit")``."""

from __future__ import annotations

import ctypes
import logging
import os
from typing import Optional, Union

from . import _calls, _library

__all__ = ["disable_logging", "enable_logging", "logger"]

#: The logger that receives the library's lines (and ``chatbotkit.callbacks``,
#: exceptions raised by your done callbacks).
logger = logging.getLogger("chatbotkit")
# A library does not print by itself: without this, Python's last-resort
# handler would write warnings to stderr in programs that never set up logging.
logger.addHandler(logging.NullHandler())

# cbk_log_level -> logging level.
_LEVELS = {1: logging.ERROR, 2: logging.WARNING, 3: logging.INFO, 4: logging.DEBUG}

_LOG_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p)


def _on_log(user_data: Optional[int], level: int, message: Optional[bytes]) -> None:
    try:
        py_level = _LEVELS.get(level, logging.DEBUG)
        if logger.isEnabledFor(py_level):
            logger.log(py_level, "%s", (message or b"").decode("utf-8", "replace"))
    except BaseException:  # nothing may unwind into the library
        pass


# Made once and never freed: the library may call it from any thread at any
# time, and keeps every callback it was given until the process exits.
_ON_LOG = _LOG_TYPE(_on_log)
_ON_LOG_PTR = ctypes.cast(_ON_LOG, ctypes.c_void_p)


def _library_level(py_level: int) -> int:
    """The most verbose cbk_log_level that a logger at ``py_level`` shows; 0: none."""
    for cbk_level in (4, 3, 2, 1):
        if py_level <= _LEVELS[cbk_level]:
            return cbk_level
    return 0


def _install(lib: ctypes.CDLL) -> None:
    wanted = _library_level(logger.getEffectiveLevel()) if not logger.disabled else 0
    if wanted:
        lib.cbk_set_log_callback(wanted, _ON_LOG_PTR, None)
    else:
        lib.cbk_set_log_callback(0, None, None)


def enable_logging(level: Union[int, str, None] = None) -> None:
    """Sends the library's log lines to the ``chatbotkit`` logger at the
    matching level (ERROR: a request failed for good; WARNING: an attempt
    failed and will be retried; INFO: a request succeeded; DEBUG: details).

    With ``level``, sets that logger's level first. The library is asked
    only for the lines the logger's effective level lets through, so call
    this again after changing levels. It is done once automatically when
    the library loads (at the first client), with the levels configured by
    then; by default (root at WARNING) that is warnings and errors, which go
    nowhere unless your application configures logging. When the
    environment sets ``CHATBOTKIT_LOG``, the library writes its lines to
    standard error instead, and nothing is installed until this is called.

    The library has one log callback per process: this replaces any other
    one (another binding's, or C code's in the same process).

    Lines come from library threads, possibly several at once; they never
    contain the secret.
    """
    if level is not None:
        logger.setLevel(level)
    _install(_library.library())


def disable_logging() -> None:
    """Stops sending log lines into Python (``cbk_set_log_callback(0, NULL, NULL)``)."""
    _library.library().cbk_set_log_callback(0, None, None)


def _off_at_exit() -> None:
    lib = _library._lib
    if lib is not None:
        lib.cbk_set_log_callback(0, None, None)


def _install_on_load(lib: ctypes.CDLL) -> None:
    # CHATBOTKIT_LOG asks the library itself for lines on stderr, which a
    # callback would silence: then only an explicit enable_logging() wins.
    if os.environ.get("CHATBOTKIT_LOG"):
        return
    _install(lib)


_library.on_load.append(_install_on_load)
_calls.at_shutdown.append(_off_at_exit)
