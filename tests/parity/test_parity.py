"""Parity test: libchatbotkit sends, request for request, what @chatbotkit/sdk sends.

One recorder (recorder.py) on 127.0.0.1; every case of cases.json is run once
through the real Node SDK (sdk_runner.js, version pinned in package.json) and
once through libchatbotkit (lib_runner.py, ctypes; CHATBOTKIT_LIB or
<repo>/target/release/libchatbotkit.so). Each case is one pytest item.

Compared per case: number of requests, method, raw path, raw query, body (as
parsed JSON), the returned JSON, and the headers the SDK itself sets
(authorization, x-runas-user-id, x-runas-child-user-email, x-timezone,
content-type and every header named in the case's `headers` options),
including their absence. Headers that differ by HTTP client (user-agent,
accept, ...) are ignored; other headers seen on one side only are reported by
test_uncompared_headers_report as a warning, not a failure.

A case with `fetch` ({path, options}) calls clientFetch / cbk_*_fetch instead
of create (`buffer` and `file.data` are base64 text; the SDK runner decodes
them). With `stream: true` it reads `clientFetch(...).stream()` /
cbk_*_fetch_stream, and the result is the list of items (`stop_after` stops
early); `accept` is then compared too. A `cache` key in the options becomes
`clientFetch(...).cache(key)` on the SDK side. `repeat` makes the same call
that many times on one client, to count what `cache` sends. A multipart body is compared with its random boundary replaced by
BOUNDARY, in the body and in content-type.

Case fields: `expect` is checked on both sides (expect_same true).
For expect_same false the difference is documented: `sdk_expect` pins what Node
does, `lib_expect` what libchatbotkit must do; the fields named in `lib_expect`
are exempt from the side-by-side comparison, every other field must still match.
A spec may hold: requests (count), error ({status, code}; null: the call
succeeds), method, path, query, body, headers ({name: value or null for
absent}), result.
"""

import json
import os
import shutil
import subprocess
import sys
import warnings

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import recorder  # noqa: E402
import lib_runner  # noqa: E402

CASES_PATH = os.path.join(HERE, "cases.json")
with open(CASES_PATH, encoding="utf-8") as _f:
    CASES = json.load(_f)

PINNED_SDK_VERSION = "1.36.0"

SDK_SET_HEADERS = ["authorization", "x-runas-user-id", "x-runas-child-user-email", "x-timezone", "content-type",
                   # fetch adds it for the SDK's `cache: "no-cache"`; the library sends it too.
                   "cache-control"]
TRANSPORT_HEADERS = {
    "user-agent", "accept", "accept-encoding", "accept-language", "sec-fetch-mode",
    "connection", "content-length", "host", "transfer-encoding", "keep-alive",
}


# --------------------------------------------------------------------------- running


def _node_ready():
    """Return None when node and the pinned SDK are usable, else a skip reason."""
    node = shutil.which("node")
    if not node:
        return "node is not installed (the parity test needs Node.js and npm)"
    sdk_dir = os.path.join(HERE, "node_modules", "@chatbotkit", "sdk")
    if not os.path.isdir(sdk_dir):
        npm = shutil.which("npm")
        if not npm:
            return "npm is not installed and tests/parity/node_modules is missing"
        cmd = [npm, "ci" if os.path.exists(os.path.join(HERE, "package-lock.json")) else "install",
               "--no-audit", "--no-fund", "--loglevel=error"]
        proc = subprocess.run(cmd, cwd=HERE, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0 or not os.path.isdir(sdk_dir):
            return "could not install @chatbotkit/sdk with `%s`: %s" % (" ".join(cmd[1:2]), proc.stderr[-2000:])
    return None


def _run(cmd, what):
    proc = subprocess.run(cmd, cwd=HERE, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        how = ("killed by signal %d" % -proc.returncode) if proc.returncode < 0 else ("exit %d" % proc.returncode)
        raise RuntimeError("%s failed (%s)\nstdout:\n%s\nstderr:\n%s" % (what, how, proc.stdout[-4000:], proc.stderr[-4000:]))


@pytest.fixture(scope="session")
def rec():
    r = recorder.Recorder().start()
    yield r
    r.stop()


@pytest.fixture(scope="session")
def sdk_runs(rec, tmp_path_factory):
    reason = _node_ready()
    if reason:
        pytest.skip(reason)
    out = str(tmp_path_factory.mktemp("parity") / "sdk.json")
    _run(["node", os.path.join(HERE, "sdk_runner.js"), CASES_PATH, str(rec.port), out], "sdk_runner.js")
    with open(out, encoding="utf-8") as f:
        doc = json.load(f)
    doc["by_name"] = {c["name"]: c for c in doc["cases"]}
    return doc


@pytest.fixture(scope="session")
def lib_runs(rec, sdk_runs, tmp_path_factory):
    path = lib_runner.library_path()
    if not os.path.exists(path):
        pytest.fail("libchatbotkit not found at %s: build it (cargo build --release) or set CHATBOTKIT_LIB" % path)
    out = str(tmp_path_factory.mktemp("parity") / "lib.json")
    try:
        _run([sys.executable, os.path.join(HERE, "lib_runner.py"), CASES_PATH, str(rec.port), out], "lib_runner.py")
    except RuntimeError as e:
        pytest.fail(str(e))
    with open(out, encoding="utf-8") as f:
        doc = json.load(f)
    doc["by_name"] = {c["name"]: c for c in doc["cases"]}
    return doc


# --------------------------------------------------------------------------- comparing


def _case_header_names(case):
    names = list(SDK_SET_HEADERS)
    if (case.get("fetch") or {}).get("stream"):
        names.append("accept")  # stream() asks for JSON Lines
    call = [(case.get("fetch") or {}).get("options") or {}]
    for opts in [case.get("options") or {}] + list(case.get("extend") or []) + call:
        for name in (opts.get("headers") or {}):
            if name.lower() not in names:
                names.append(name.lower())
    return names


MULTIPART_PREFIX = "multipart/form-data; boundary="


def _boundary(req):
    """The multipart boundary of a request, which each HTTP client draws at random."""
    ct = req["headers"].get("content-type") or ""
    return ct[len(MULTIPART_PREFIX):] if ct.startswith(MULTIPART_PREFIX) else None


def _body(req):
    boundary = _boundary(req)
    if boundary:
        return {"<multipart>": req["body"].replace(boundary, "BOUNDARY")}
    try:
        return json.loads(req["body"])
    except ValueError:
        return {"<not JSON>": req["body"]}


def _field(run, field):
    """The value of one compared field of a runner's result for a case."""
    reqs = run["requests"]
    if field == "requests":
        return len(reqs)
    if field == "error":
        return None if run["error"] is None else "error"
    if field == "result":
        return run["result"]
    if not reqs:
        return "<no request>"
    req = reqs[0]
    if field in ("method", "path", "query"):
        return req[field]
    if field == "body":
        return _body(req)
    if field == "headers.content-type" and _boundary(req):
        return MULTIPART_PREFIX + "BOUNDARY"
    if field.startswith("headers."):
        return req["headers"].get(field[len("headers."):])
    raise KeyError(field)


def _check_spec(run, spec, side):
    """Mismatches between a runner's result and a case spec (sdk_expect/lib_expect/expect)."""
    problems = []
    if "requests" in spec and len(run["requests"]) != spec["requests"]:
        problems.append("%s: expected %d request(s), got %d: %s" % (
            side, spec["requests"], len(run["requests"]), [r["target"] for r in run["requests"]]))
    if spec.get("error") is not None:
        err = run["error"]
        if err is None:
            problems.append("%s: expected an error %s, the call succeeded" % (side, spec["error"]))
        else:
            for k, v in spec["error"].items():
                if err.get(k) != v:
                    problems.append("%s: error.%s expected %r, got %r (error: %s)" % (side, k, v, err.get(k), err))
    elif run["error"] is not None:
        problems.append("%s: call failed: %s" % (side, run["error"]))
    if "requests" not in spec and len(run["requests"]) != 1:
        problems.append("%s: expected exactly 1 request, got %d: %s" % (
            side, len(run["requests"]), [r["target"] for r in run["requests"]]))
    if len(run["requests"]) != 1:
        return problems  # per-request fields below are checked on exactly one request
    for field in ("method", "path", "query", "body"):
        if field in spec:
            got = _field(run, field)
            if got != spec[field]:
                problems.append("%s: %s expected %r, got %r" % (side, field, spec[field], got))
    if "result" in spec and run["result"] != spec["result"]:
        problems.append("%s: result expected %r, got %r" % (side, spec["result"], run["result"]))
    for name, value in (spec.get("headers") or {}).items():
        got = _field(run, "headers." + name.lower())
        if got != value:
            problems.append("%s: header %s expected %r, got %r" % (side, name.lower(), value, got))
    return problems


def _exempt_fields(spec):
    fields = set()
    for k in spec:
        if k == "headers":
            fields.update("headers." + n.lower() for n in spec["headers"])
        else:
            fields.add(k)
    return fields


def _compare(case, sdk, lib):
    problems = []
    if case["expect_same"]:
        exempt = set()
        spec = case.get("expect") or {}
        # A wrong case description is reported as such, not as a library bug.
        sdk_problems = _check_spec(sdk, spec, "SDK (case spec `expect`)")
        problems += _check_spec(lib, spec, "libchatbotkit (case spec `expect`)")
    else:
        sdk_problems = _check_spec(sdk, case.get("sdk_expect") or {}, "SDK (case spec `sdk_expect`)")
        lib_spec = case.get("lib_expect") or {}
        problems += _check_spec(lib, lib_spec, "libchatbotkit (documented behaviour `lib_expect`)")
        exempt = _exempt_fields(lib_spec)
        if lib_spec.get("requests", 1) == 0:
            return sdk_problems, problems  # nothing sent: nothing to compare side by side
    fields = ["requests", "error", "method", "path", "query", "body", "result"]
    fields += ["headers." + n for n in _case_header_names(case)]
    if len(sdk["requests"]) != len(lib["requests"]):
        if "requests" in exempt:
            return sdk_problems, problems
        problems.append("requests differ: SDK sent %d %s, libchatbotkit sent %d %s" % (
            len(sdk["requests"]), [r["target"] for r in sdk["requests"]],
            len(lib["requests"]), [r["target"] for r in lib["requests"]]))
        return sdk_problems, problems
    for field in fields:
        if field in exempt:
            continue
        if field == "result" and (sdk["error"] or lib["error"]):
            continue
        want, got = _field(sdk, field), _field(lib, field)
        if want != got:
            problems.append("%s differs: SDK sent %r, libchatbotkit sent %r" % (field, want, got))
    return sdk_problems, problems


# --------------------------------------------------------------------------- tests


def test_pinned_sdk_version(sdk_runs):
    assert sdk_runs["sdk"]["version"] == PINNED_SDK_VERSION, sdk_runs["sdk"]


def test_cases_are_well_formed():
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    for c in CASES:
        assert c["client"] in ("conversation", "bot"), c["name"]
        assert isinstance(c["options"], dict), c["name"]
        if "fetch" in c:
            assert isinstance(c["fetch"]["path"], str), c["name"]
            assert set(c["fetch"]) <= {"path", "options", "stream", "stop_after", "repeat"}, c["name"]
            assert c["fetch"].get("options") is None or isinstance(c["fetch"]["options"], dict), c["name"]
        else:
            assert isinstance(c["id"], str), c["name"]
            assert c["request"] is None or isinstance(c["request"], dict), c["name"]
        assert isinstance(c["expect_same"], bool), c["name"]
        if not c["expect_same"]:
            assert c.get("lib_expect") and c.get("sdk_expect"), "%s: expect_same false needs sdk_expect and lib_expect" % c["name"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_parity(case, sdk_runs, lib_runs):
    sdk = sdk_runs["by_name"][case["name"]]
    lib = lib_runs["by_name"][case["name"]]
    sdk_problems, problems = _compare(case, sdk, lib)
    if sdk_problems:
        pytest.fail("the case does not describe what @chatbotkit/sdk %s does (fix cases.json):\n  %s"
                    % (sdk_runs["sdk"]["version"], "\n  ".join(sdk_problems)))
    if problems:
        detail = {
            "sdk": {"error": sdk["error"], "requests": [
                {k: r[k] for k in ("method", "target", "headers", "body")} for r in sdk["requests"]]},
            "lib": {"error": lib["error"], "stage": lib.get("stage"), "requests": [
                {k: r[k] for k in ("method", "target", "headers", "body")} for r in lib["requests"]]},
        }
        pytest.fail("%s (%s)\n  %s\n%s" % (case["name"], case.get("note", ""), "\n  ".join(problems),
                                           json.dumps(detail, indent=2, ensure_ascii=False)))


def test_uncompared_headers_report(sdk_runs, lib_runs):
    """Headers outside the compared and the ignored sets that only one side sends (warning only)."""
    only = {}
    for case in CASES:
        sdk, lib = sdk_runs["by_name"][case["name"]], lib_runs["by_name"][case["name"]]
        if len(sdk["requests"]) != 1 or len(lib["requests"]) != 1:
            continue
        compared = set(_case_header_names(case))
        s = {n for n in sdk["requests"][0]["headers"] if n not in TRANSPORT_HEADERS and n not in compared}
        l = {n for n in lib["requests"][0]["headers"] if n not in TRANSPORT_HEADERS and n not in compared}
        for n in s - l:
            only.setdefault(("SDK only", n, sdk["requests"][0]["headers"][n]), []).append(case["name"])
        for n in l - s:
            only.setdefault(("libchatbotkit only", n, lib["requests"][0]["headers"][n]), []).append(case["name"])
    if only:
        lines = ["%s: %s: %s (%d case(s))" % (side, n, v, len(names)) for (side, n, v), names in sorted(only.items())]
        warnings.warn("headers not compared, sent by one side only:\n  " + "\n  ".join(lines))
