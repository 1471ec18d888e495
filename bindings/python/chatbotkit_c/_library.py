"""Finding, loading and declaring libchatbotkit."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import threading
from typing import Any, Callable, List, Optional, Tuple, Union

__all__ = ["LibraryNotFoundError", "load", "library", "library_path", "version", "status_name"]


class LibraryNotFoundError(OSError):
    """libchatbotkit could not be found or loaded (the message says what was tried)."""


_c_char_p = ctypes.c_char_p
_c_void_p = ctypes.c_void_p
_c_int = ctypes.c_int
_err_pp = ctypes.POINTER(ctypes.c_void_p)

# Returned `char *` stays c_void_p so that it can be handed back to
# cbk_string_free; borrowed `const char *` is c_char_p (ctypes copies it).
# Callback arguments are c_void_p: the package passes ctypes.cast() pointers
# to module-level trampolines (see _calls.py).
_SIGNATURES: List[Tuple[str, Any, List[Any]]] = [
    ("cbk_version", _c_char_p, []),
    ("cbk_status_name", _c_char_p, [_c_int]),
    ("cbk_string_free", None, [_c_void_p]),
    ("cbk_error_status", _c_int, [_c_void_p]),
    ("cbk_error_code", _c_char_p, [_c_void_p]),
    ("cbk_error_message", _c_char_p, [_c_void_p]),
    ("cbk_error_http_status", _c_int, [_c_void_p]),
    ("cbk_error_free", None, [_c_void_p]),
    ("cbk_error_to_json", _c_void_p, [_c_void_p]),
    ("cbk_task_wait", _c_void_p, [_c_void_p, _err_pp]),
    ("cbk_task_cancel", None, [_c_void_p]),
    ("cbk_task_free", None, [_c_void_p]),
    ("cbk_set_log_callback", None, [_c_int, _c_void_p, _c_void_p]),
]
for _kind in ("conversation", "bot"):
    _p = f"cbk_{_kind}_session_client_"
    _SIGNATURES += [
        (_p + "new", _c_void_p, [_c_char_p, _err_pp]),
        (_p + "extend", _c_void_p, [_c_void_p, _c_char_p, _err_pp]),
        (_p + "create", _c_void_p, [_c_void_p, _c_char_p, _c_char_p, _err_pp]),
        (_p + "create_async", _c_void_p,
         [_c_void_p, _c_char_p, _c_char_p, _c_void_p, _c_void_p, _err_pp]),
        (_p + "fetch", _c_void_p, [_c_void_p, _c_char_p, _c_char_p, _err_pp]),
        (_p + "fetch_async", _c_void_p,
         [_c_void_p, _c_char_p, _c_char_p, _c_void_p, _c_void_p, _err_pp]),
        (_p + "fetch_stream_async", _c_void_p,
         [_c_void_p, _c_char_p, _c_char_p, _c_void_p, _c_void_p, _c_void_p, _err_pp]),
        (_p + "options", _c_void_p, [_c_void_p, _err_pp]),
        (_p + "free", None, [_c_void_p]),
    ]
del _kind, _p

_lock = threading.Lock()
_lib: Optional[ctypes.CDLL] = None
_lib_path: Optional[str] = None
# Run once per loaded library (logging installs its callback there); set by
# the modules that need it, so that this one imports none of them.
on_load: List[Callable[[ctypes.CDLL], None]] = []


def _library_file_names() -> List[str]:
    if sys.platform == "darwin":
        return ["libchatbotkit.dylib", "libchatbotkit.0.dylib"]
    if sys.platform == "win32":
        return ["chatbotkit.dll", "libchatbotkit.dll"]
    return ["libchatbotkit.so", "libchatbotkit.so.0"]


def _open(path: str) -> ctypes.CDLL:
    lib = ctypes.CDLL(path)
    try:
        for name, restype, argtypes in _SIGNATURES:
            fn = getattr(lib, name)
            fn.restype = restype
            fn.argtypes = argtypes
    except AttributeError as e:
        raise LibraryNotFoundError(
            f"{path} is not libchatbotkit (or too old a version): {e}") from None
    return lib


def _installed(lib: ctypes.CDLL, path: str) -> ctypes.CDLL:
    global _lib, _lib_path
    _lib, _lib_path = lib, path
    for hook in on_load:
        hook(lib)
    return lib


def load(path: Union[str, "os.PathLike[str]"]) -> ctypes.CDLL:
    """Loads libchatbotkit from ``path`` and uses it for every client made from now on.

    Clients made before keep the library they were made with. Raises
    :class:`LibraryNotFoundError` when ``path`` cannot be loaded. Returns the
    ``ctypes.CDLL``.
    """
    path = os.fspath(path)
    try:
        lib = _open(path)
    except LibraryNotFoundError:
        raise
    except OSError as e:
        raise LibraryNotFoundError(f"cannot load libchatbotkit from {path!r}: {e}") from None
    with _lock:
        return _installed(lib, path)


def _find() -> Tuple[ctypes.CDLL, str]:
    tried = []
    env = os.environ.get("CHATBOTKIT_LIB")
    if env:
        try:
            return _open(env), env
        except OSError as e:
            raise LibraryNotFoundError(f"CHATBOTKIT_LIB={env!r} cannot be loaded: {e}") from None
    tried.append("CHATBOTKIT_LIB (not set)")

    # The copy the wheel bundles comes before any other: it is the version
    # this package was built and tested with.
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [os.path.join(here, name) for name in _library_file_names()]
    found = ctypes.util.find_library("chatbotkit")
    if found:
        candidates.append(found)
    else:
        tried.append("ctypes.util.find_library('chatbotkit') (nothing)")
    candidates += [os.path.join(os.path.dirname(here), name) for name in _library_file_names()]

    for candidate in candidates:
        if os.sep in candidate and not os.path.exists(candidate):
            tried.append(f"{candidate} (absent)")
            continue
        try:
            return _open(candidate), candidate
        except OSError as e:
            tried.append(f"{candidate}: {e}")

    raise LibraryNotFoundError(
        "libchatbotkit not found. Install the chatbotkit-c wheel (it bundles the library), "
        "or call chatbotkit_c.load('/path/to/libchatbotkit.so'), or set CHATBOTKIT_LIB to "
        "that path. Tried: " + "; ".join(tried))


def library() -> ctypes.CDLL:
    """The loaded library, loading it on first use."""
    lib = _lib
    if lib is not None:
        return lib
    with _lock:
        if _lib is None:
            lib, path = _find()
            return _installed(lib, path)
        return _lib


def library_path() -> str:
    """Where the library in use was loaded from (loading it on first use): the
    bundled copy inside the package, ``$CHATBOTKIT_LIB``, the path given to
    :func:`load`, or the name the system linker resolved."""
    library()
    assert _lib_path is not None
    return _lib_path


def version() -> str:
    """The library version, e.g. ``"0.1.0"`` (``cbk_version()``)."""
    text: bytes = library().cbk_version()
    return text.decode("utf-8")


def status_name(status: int, lib: Optional[ctypes.CDLL] = None) -> str:
    """The library's name for a ``cbk_status`` number (``cbk_status_name()``):
    ``"API"``, ``"TIMEOUT"``, ...; ``"UNKNOWN"`` for a number it does not know."""
    name: bytes = (lib or library()).cbk_status_name(int(status))
    return name.decode("ascii", "replace")
