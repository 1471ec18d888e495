#!/usr/bin/env python3
"""Runs the parity cases through libchatbotkit (ctypes) against the recorder.

    python3 lib_runner.py CASES_JSON RECORDER_PORT OUT_JSON

Library: env CHATBOTKIT_LIB, default <repo>/target/release/libchatbotkit.so.

For each case: clear the recorder, cbk_*_session_client_new(options), then
cbk_*_session_client_extend() with each object of `extend` in order, then
cbk_*_session_client_create(id, request) (request null -> NULL), or for a case
with `fetch` ({path, options, stream, stop_after, repeat})
cbk_*_session_client_fetch(path, options), or _fetch_stream when `stream` is
true, `repeat` times on the same handle (see run_fetch), then read what the
recorder received. Like sdk_runner.js, `retries: 0` and `timeout: 10000`
are added to `options` unless the case sets them. Same string templates:
"{BASE}", "{HOSTPORT}", "{PORT}".

Output JSON: {"runner": "lib", "library": path, "version": cbk_version(),
"cases": [{"name", "result" (parsed JSON or null), "result_text", "error"
({"status", "status_name", "code", "message", "http_status", "json"} or null),
"stage" (where the error happened: "new", "extend[i]", "create", "fetch"),
"requests": [recorded requests]}]}
"""

import ctypes
import json
import os
import sys
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_LIB = os.path.join(REPO, "target", "release", "libchatbotkit.so")

STREAM_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p)


def library_path():
    return os.environ.get("CHATBOTKIT_LIB") or DEFAULT_LIB


class Lib:
    def __init__(self, path):
        self.path = path
        lib = ctypes.CDLL(path)
        self.lib = lib
        vp, cp, pp = ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)

        def sig(name, res, args):
            fn = getattr(lib, name)
            fn.restype = res
            fn.argtypes = args
            return fn

        self.clients = {}
        for kind in ("conversation", "bot"):
            prefix = "cbk_%s_session_client" % kind
            self.clients[kind] = {
                "new": sig(prefix + "_new", vp, [cp, pp]),
                "extend": sig(prefix + "_extend", vp, [vp, cp, pp]),
                "create": sig(prefix + "_create", vp, [vp, cp, cp, pp]),
                "fetch": sig(prefix + "_fetch", vp, [vp, cp, cp, pp]),
                "fetch_stream": sig(prefix + "_fetch_stream", ctypes.c_int, [vp, cp, cp, STREAM_CALLBACK, vp, pp]),
                "free": sig(prefix + "_free", None, [vp]),
            }
        self.error_status = sig("cbk_error_status", ctypes.c_int, [vp])
        self.error_code = sig("cbk_error_code", vp, [vp])
        self.error_message = sig("cbk_error_message", vp, [vp])
        self.error_http_status = sig("cbk_error_http_status", ctypes.c_int, [vp])
        self.error_to_json = sig("cbk_error_to_json", vp, [vp])
        self.error_free = sig("cbk_error_free", None, [vp])
        self.string_free = sig("cbk_string_free", None, [vp])
        self.version_fn = sig("cbk_version", vp, [])
        self.status_name = sig("cbk_status_name", vp, [ctypes.c_int])

    @staticmethod
    def _borrowed(ptr):
        return None if not ptr else ctypes.string_at(ptr).decode("utf-8", errors="replace")

    def _owned(self, ptr):
        if not ptr:
            return None
        try:
            return ctypes.string_at(ptr).decode("utf-8", errors="replace")
        finally:
            self.string_free(ptr)

    def version(self):
        return self._borrowed(self.version_fn())

    def take_error(self, err):
        """Describe and free a cbk_error* (a c_void_p)."""
        if not err.value:
            return None
        e = err.value
        try:
            status = self.error_status(e)
            out = {
                "status": self._borrowed(self.status_name(status)),
                "status_code": status,
                "code": self._borrowed(self.error_code(e)),
                "message": self._borrowed(self.error_message(e)),
                "http_status": self.error_http_status(e),
            }
            text = self._owned(self.error_to_json(e))
            try:
                out["json"] = json.loads(text) if text is not None else None
            except ValueError:
                out["json"] = text
            return out
        finally:
            self.error_free(e)
            err.value = None


def encode(value):
    return None if value is None else value.encode("utf-8")


def make_template(port):
    base = "http://127.0.0.1:%d" % port

    def template(value):
        if isinstance(value, str):
            return (value.replace("{BASE}", base)
                    .replace("{HOSTPORT}", "127.0.0.1:%d" % port)
                    .replace("{PORT}", str(port)))
        if isinstance(value, list):
            return [template(v) for v in value]
        if isinstance(value, dict):
            return {template(k): template(v) for k, v in value.items()}
        return value

    return template


def control(port, method):
    req = urllib.request.Request("http://127.0.0.1:%d/_recorder/requests" % port, method=method)
    with urllib.request.urlopen(req, timeout=10) as res:
        data = res.read()
    return json.loads(data) if method == "GET" else None


def run_fetch(lib, fns, client, fetch, out, err):
    """One fetch call (as sdk_runner.js's runFetch): `stream` collects the
    items, stopping after `stop_after`; the result and error are this call's."""
    out["result"] = out["result_text"] = out["error"] = out["stage"] = None
    options = fetch.get("options")
    options_json = encode(None if options is None else json.dumps(options, ensure_ascii=False))
    path = encode(fetch["path"])
    if fetch.get("stream"):
        items = []

        def on_item(_user_data, item):
            items.append(json.loads(item.decode("utf-8")))
            return 1 if fetch.get("stop_after") and len(items) >= fetch["stop_after"] else 0

        status = fns["fetch_stream"](ctypes.c_void_p(client), path, options_json, STREAM_CALLBACK(on_item), None,
                                     ctypes.byref(err))
        if status != 0:
            out["stage"] = "fetch_stream"
            out["error"] = lib.take_error(err) or {"status": "status %d without error" % status}
        else:
            out["result"] = items
        return
    res = fns["fetch"](ctypes.c_void_p(client), path, options_json, ctypes.byref(err))
    if not res:
        out["stage"] = "fetch"
        out["error"] = lib.take_error(err) or {"status": "NULL without error"}
        return
    out["result_text"] = lib._owned(res)
    try:
        out["result"] = json.loads(out["result_text"])
    except ValueError:
        out["result"] = None


def run_case(lib, case, port, template):
    control(port, "DELETE")
    out = {"name": case["name"], "result": None, "result_text": None, "error": None,
           "stage": None, "requests": []}
    fns = lib.clients["bot" if case.get("client") == "bot" else "conversation"]
    options = {"retries": 0, "timeout": 10000}
    options.update(template(case.get("options") or {}))
    err = ctypes.c_void_p()
    handles = []
    try:
        client = fns["new"](encode(json.dumps(options, ensure_ascii=False)), ctypes.byref(err))
        if not client:
            out["stage"] = "new"
            out["error"] = lib.take_error(err) or {"status": "NULL without error"}
            return out
        handles.append(client)
        for i, ext in enumerate(case.get("extend") or []):
            client = fns["extend"](ctypes.c_void_p(client), encode(json.dumps(template(ext), ensure_ascii=False)),
                                   ctypes.byref(err))
            if not client:
                out["stage"] = "extend[%d]" % i
                out["error"] = lib.take_error(err) or {"status": "NULL without error"}
                return out
            handles.append(client)
        fetch = case.get("fetch")
        if fetch is not None:
            fetch = template(fetch)
            for _ in range(fetch.get("repeat", 1)):
                run_fetch(lib, fns, client, fetch, out, err)
            return out
        stage = "create"
        request = case.get("request")
        request_json = None if request is None else json.dumps(request, ensure_ascii=False)
        res = fns["create"](ctypes.c_void_p(client), encode(case["id"]), encode(request_json), ctypes.byref(err))
        if not res:
            out["stage"] = stage
            out["error"] = lib.take_error(err) or {"status": "NULL without error"}
        else:
            text = lib._owned(res)
            out["result_text"] = text
            try:
                out["result"] = json.loads(text)
            except ValueError:
                out["result"] = None
        return out
    finally:
        for h in reversed(handles):
            fns["free"](ctypes.c_void_p(h))
        out["requests"] = control(port, "GET")


def main(argv):
    if len(argv) != 4:
        sys.stderr.write("usage: python3 lib_runner.py CASES_JSON RECORDER_PORT OUT_JSON\n")
        return 2
    cases_path, port, out_path = argv[1], int(argv[2]), argv[3]
    path = library_path()
    if not os.path.exists(path):
        sys.stderr.write("lib_runner: %s not found (build with `cargo build --release` "
                         "or set CHATBOTKIT_LIB)\n" % path)
        return 3
    lib = Lib(path)
    with open(cases_path, encoding="utf-8") as f:
        cases = json.load(f)
    template = make_template(port)
    results = [run_case(lib, c, port, template) for c in cases]
    doc = {"runner": "lib", "library": path, "version": lib.version(), "cases": results}
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
