//! Hostile servers and hostile input, through the C ABI: servers that echo
//! the credential back into errors and redirects, framing headers and
//! methods that fetch forbids, multipart file names that would break the
//! part header, over-long URLs, too many header names, sub-microsecond
//! timeouts, control characters in option keys, encoded bodies, too many
//! response headers, loose `Retry-After` values and URLs with credentials.
//!
//! Every server is a raw `std::net` listener on 127.0.0.1, so that the bytes
//! on the wire are exactly what the test writes and reads. Every error goes
//! through `common::take_error` (which fails on the test secret and feeds the
//! suite's secret audit); log lines go to the audit too.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::ptr;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chatbotkit::cbk_error;
use common::*;
use serde_json::{json, Value};

/// A second credential, sent as `token`: it must be redacted like the secret.
const TOKEN: &str = "sk_hostile_TOKEN_4Jw8Qe";
const REDACTED: &str = "[REDACTED]";

// ---------------------------------------------------------------------------
// Raw requests and responses
// ---------------------------------------------------------------------------

/// One request as a raw server read it.
#[derive(Debug, Clone)]
struct Seen {
    /// The request head, request line included, up to the blank line.
    head: String,
    body: Vec<u8>,
}

impl Seen {
    fn request_line(&self) -> &str {
        self.head.lines().next().unwrap_or("")
    }

    /// The request target of the request line.
    fn target(&self) -> &str {
        self.request_line().split(' ').nth(1).unwrap_or("")
    }

    fn header(&self, name: &str) -> Option<String> {
        self.head
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_owned())
    }

    /// The `authorization` header, "" when there was none.
    fn auth(&self) -> String {
        self.header("authorization").unwrap_or_default()
    }
}

/// Reads a request head and its `content-length` body (bounded: 8 MB, and a
/// 3-second read timeout).
fn read_full(stream: &mut TcpStream) -> Seen {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(3)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        if buf.len() > 8 << 20 {
            break buf.len();
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break buf.len(),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut seen = Seen {
        head,
        body: buf[head_end..].to_vec(),
    };
    let length = seen
        .header("content-length")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0)
        .min(8 << 20);
    while seen.body.len() < length {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.body.extend_from_slice(&chunk[..n]),
        }
    }
    seen
}

/// A complete response that closes its connection.
fn response(status_line: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status_line}\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

fn json_response(status_line: &str, body: &Value) -> Vec<u8> {
    response(
        status_line,
        &[("content-type", "application/json")],
        body.to_string().as_bytes(),
    )
}

fn ok_response() -> Vec<u8> {
    json_response("200 OK", &ok_body())
}

/// A raw server that answers each request with `answer(index, request)`
/// and keeps every request it read.
struct Recorder {
    server: RawServer,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Recorder {
    fn start<F>(max_connections: usize, answer: F) -> Recorder
    where
        F: Fn(usize, &Seen) -> Vec<u8> + Send + Sync + 'static,
    {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let server = RawServer::start(max_connections, move |index, stream| {
            let request = read_full(stream);
            if request.head.is_empty() {
                return;
            }
            log.lock().unwrap().push(request.clone());
            let _ = stream.write_all(&answer(index, &request));
            let _ = stream.flush();
        });
        Recorder { server, seen }
    }

    fn uri(&self) -> String {
        self.server.uri()
    }

    fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Asserts that nothing reached the server, not even a connection.
    fn assert_nothing_sent(&self, what: &str) {
        assert_eq!(
            self.server.connections(),
            0,
            "{what}: a connection was made"
        );
    }
}

/// The bare credential of an `authorization` value.
fn bare(auth: &str) -> &str {
    auth.strip_prefix("Bearer ").unwrap_or(auth)
}

/// The credential as it can stand in a URL path (its space encoded).
fn in_path(auth: &str) -> String {
    auth.replace(' ', "%20")
}

/// Asserts that `text` shows neither credential, and feeds the audit.
fn assert_clean(what: &str, text: &str) {
    audit(what, text);
    for credential in [SECRET, TOKEN] {
        assert!(
            !text.contains(credential) && !text.contains(SECRET_MARKER),
            "{what} shows a credential: {text}"
        );
    }
}

fn err_of(result: Result<String, ErrInfo>, what: &str) -> ErrInfo {
    let err = result.expect_err(what);
    assert_clean("error code", &err.code);
    assert_clean("error message", &err.message);
    assert_clean("error json", &err.json);
    err
}

// ---------------------------------------------------------------------------
// 1. A credential echoed by the server is redacted
// ---------------------------------------------------------------------------

#[test]
fn an_echoed_credential_is_redacted_from_a_json_error_message_and_code() {
    for (credential, extra) in [
        (SECRET, json!({"retries": 0})),
        (TOKEN, json!({"retries": 0, "secret": null, "token": TOKEN})),
    ] {
        let server = Recorder::start(2, |_, req| {
            let auth = req.auth();
            json_response(
                "401 Unauthorized",
                &json!({
                    "message": format!("{auth} is not valid (bare: {})", bare(&auth)),
                    "code": bare(&auth),
                }),
            )
        });
        let client = Client::conv(&opts(&server.uri(), extra));
        let err = err_of(client.create("cnv_echo", None), "a 401 fails");
        let fetched = err_of(
            client.fetch("/api/v1/echo", Some(r#"{"method":"POST"}"#)),
            "a 401 fails",
        );
        let requests = server.requests();
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[0].auth(), format!("Bearer {credential}"));
        for err in [err, fetched] {
            err.assert_is(API, REDACTED);
            assert_eq!(
                err.message,
                format!("Bearer {REDACTED} is not valid (bare: {REDACTED})")
            );
            assert_eq!(err.http_status, 401);
        }
    }
}

#[test]
fn an_echoed_credential_is_redacted_from_the_reason_phrase() {
    let server = Recorder::start(1, |_, req| {
        response(
            &format!("400 {}", req.auth()),
            &[("content-type", "application/json")],
            b"{}",
        )
    });
    let client = Client::bot(&opts(&server.uri(), json!({"retries": 0})));
    let err = err_of(client.create("bot_echo", None), "a 400 fails");
    assert_eq!(server.requests()[0].auth(), format!("Bearer {SECRET}"));
    err.assert_is(API, "ERROR_400");
    assert_eq!(err.message, format!("HTTP Error: Bearer {REDACTED}"));
}

#[test]
fn an_echoed_credential_in_a_non_json_body_or_header_never_shows() {
    // Bodies that are not JSON never reach a message; a content-encoding
    // does, and it is server text like any other.
    let server = Recorder::start(4, |index, req| {
        let auth = req.auth();
        match index {
            0 => response(
                "500 Internal Server Error",
                &[("content-type", "text/html")],
                format!("<p>{auth}</p>").as_bytes(),
            ),
            1 => response(
                "200 OK",
                &[("content-type", "application/json")],
                format!("not json {auth}").as_bytes(),
            ),
            _ => response(
                "200 OK",
                &[
                    ("content-type", "application/json"),
                    ("content-encoding", bare(&auth)),
                ],
                b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03",
            ),
        }
    });
    let client = Client::conv(&opts(&server.uri(), json!({"retries": 0})));
    let html = err_of(client.create("cnv_1", None), "a 500 fails");
    html.assert_is(API, "GENERIC_ERROR");
    let not_json = err_of(client.create("cnv_2", None), "not JSON");
    not_json.assert_is(INVALID_RESPONSE, "INVALID_RESPONSE");
    let encoded = err_of(client.create("cnv_3", None), "encoded");
    encoded.assert_is(INVALID_RESPONSE, "INVALID_RESPONSE");
    assert!(
        encoded.message.contains(REDACTED) && encoded.message.contains("content-encoding"),
        "{encoded:?}"
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert!(requests
        .iter()
        .all(|r| r.auth() == format!("Bearer {SECRET}")));
}

/// A server whose every answer redirects to `/loop/<authorization>`.
fn redirect_loop() -> Recorder {
    Recorder::start(64, |_, req| {
        let location = format!("/loop/{}", in_path(&req.auth()));
        response("302 Found", &[("location", &location)], b"")
    })
}

#[test]
fn an_echoed_credential_in_a_followed_redirect_is_redacted_from_errors() {
    // A redirect loop: the error names the last location.
    let server = redirect_loop();
    let client = Client::conv(&opts(&server.uri(), json!({"retries": 0})));
    let err = err_of(client.create("cnv_loop", None), "a loop fails");
    err.assert_is(NETWORK, "NETWORK_ERROR");
    assert!(err.message.contains("more than 20 redirects"), "{err:?}");
    assert!(
        err.message.contains(&format!("/loop/Bearer%20{REDACTED}")),
        "{err:?}"
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 21);
    assert!(requests[20].target().contains(SECRET), "{:?}", requests[20]);

    // A followed redirect, then one to a location that is not http:.
    let server = Recorder::start(2, |index, req| {
        let location = match index {
            0 => format!("/hop/{}", bare(&req.auth())),
            _ => "ftp://127.0.0.1/x".to_owned(),
        };
        response("307 Temporary Redirect", &[("location", &location)], b"")
    });
    let client = Client::bot(&opts(&server.uri(), json!({"retries": 0})));
    let err = err_of(client.fetch("/v1/start", None), "ftp: is refused");
    err.assert_is(NETWORK, "NETWORK_ERROR");
    assert!(err.message.contains(&format!("/hop/{REDACTED}")), "{err:?}");
    assert_eq!(server.requests()[1].target(), format!("/hop/{SECRET}"));

    // A followed redirect whose target answers with an error that quotes
    // its own path.
    let server = Recorder::start(2, |index, req| match index {
        0 => response(
            "303 See Other",
            &[("location", &format!("/after/{}", bare(&req.auth())))],
            b"",
        ),
        _ => json_response(
            "404 Not Found",
            &json!({"message": format!("no route {}", req.target()), "code": "NOT_FOUND"}),
        ),
    });
    let client = Client::conv(&opts(&server.uri(), json!({"retries": 0})));
    let err = err_of(client.create("cnv_after", None), "a 404 fails");
    err.assert_is(API, "NOT_FOUND");
    assert_eq!(err.message, format!("no route /after/{REDACTED}"));
}

#[test]
fn an_echoed_credential_is_redacted_from_log_lines() {
    let server = redirect_loop();
    record_log_lines(true);
    let client = Client::conv(&opts(&server.uri(), json!({"retries": 1, "retryDelay": 1})));
    let result = client.create("log-echo-id", None);
    record_log_lines(false);
    err_of(result, "a loop fails").assert_is(NETWORK, "NETWORK_ERROR");
    assert!(server
        .requests()
        .iter()
        .any(|r| r.target().contains(SECRET)));
    let lines = LOG_LINES.lock().unwrap().clone();
    let ours: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("log-echo-id") && l.contains(" attempt "))
        .collect();
    assert_eq!(ours.len(), 2, "a retry and a failure: {lines:#?}");
    assert!(
        lines.iter().any(|l| l.contains(" redirect to ")),
        "the redirect hops are logged (redacted, checked below): {lines:#?}"
    );
    for line in &lines {
        assert_clean("log line", line);
    }
    for line in ours {
        assert!(
            line.contains(&format!("/loop/Bearer%20{REDACTED}")),
            "the failure is reported, redacted: {line}"
        );
    }
}

// ---------------------------------------------------------------------------
// 2. Framing headers cannot be set
// ---------------------------------------------------------------------------

const FRAMING: [&str; 8] = [
    "Content-Length",
    "transfer-encoding",
    "HOST",
    "Connection",
    "keep-alive",
    "Upgrade",
    "TE",
    "trailer",
];

#[test]
fn framing_headers_in_the_options_are_refused() {
    let server = Recorder::start(1, |_, _| ok_response());
    for kind in Kind::ALL {
        let parent = Client::of(kind, &opts(&server.uri(), json!({})));
        for name in FRAMING {
            let named = format!("`headers.{name}`");
            let options = opts(&server.uri(), json!({"headers": {name: "0"}}));
            let err = Client::new(kind, Some(&options))
                .err()
                .unwrap_or_else(|| panic!("{kind:?}: options header {name} must be refused"));
            err.assert_is(INVALID_ARGUMENT, "INVALID_ARGUMENT");
            assert!(err.message.contains(&named), "{err:?}");
            let err = parent
                .extend(Some(
                    &json!({"headers": {"x-ok": "1", name: "1"}}).to_string(),
                ))
                .err()
                .unwrap_or_else(|| panic!("{kind:?}: extend with header {name} must fail"));
            err.assert_is(INVALID_ARGUMENT, "INVALID_ARGUMENT");
            assert!(err.message.contains(&named), "{err:?}");
        }
    }
    server.assert_nothing_sent("options");
}

#[test]
fn framing_headers_in_a_fetch_are_refused_and_nothing_is_sent() {
    let server = Recorder::start(1, |_, _| ok_response());
    let client = Client::conv(&opts(&server.uri(), json!({"retries": 0})));
    for name in FRAMING {
        for value in ["0", "1", "100", "gzip", "chunked", "close"] {
            let options = json!({"record": {"a": 1}, "headers": {name: value}});
            let err = err_of(
                client.fetch("/v1/framing", Some(&options.to_string())),
                "refused",
            );
            err.assert_is(INVALID_ARGUMENT, "INVALID_ARGUMENT");
            assert!(
                err.message.contains(&format!("`headers.{name}`")),
                "{err:?}"
            );
        }
    }
    server.assert_nothing_sent("fetch");
}

// ---------------------------------------------------------------------------
// 3. Multipart file names are encoded as fetch's FormData encodes them
// ---------------------------------------------------------------------------

#[test]
fn multipart_file_names_are_percent_encoded_like_fetch() {
    let (tx, rx) = mpsc::channel::<Seen>();
    let tx = Mutex::new(tx);
    let server = RawServer::start(1, move |_, stream| {
        let seen = read_full(stream);
        let _ = tx.lock().unwrap().send(seen);
        let _ = stream.write_all(&ok_response());
    });
    let client = Client::conv(&opts(&server.uri(), json!({"retries": 0})));
    let options = json!({
        "file": {"name": "a\"b\r\nContent-Type: evil\r\n\r\nc\n.txt", "type": "text/plain", "data": "aGVsbG8="}
    });
    client
        .fetch("/api/v1/file/upload", Some(&options.to_string()))
        .expect("the upload is sent");
    let seen = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("the server got the upload");
    let content_type = seen.header("content-type").expect("content-type");
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .unwrap_or_else(|| panic!("{content_type}"));
    let expected = format!(
        "--{boundary}\r\n\
         Content-Disposition: form-data; name=\"file\"; \
         filename=\"a%22b%0D%0AContent-Type: evil%0D%0A%0D%0Ac%0A.txt\"\r\n\
         Content-Type: text/plain\r\n\r\n\
         hello\r\n\
         --{boundary}--\r\n"
    );
    assert_eq!(
        String::from_utf8_lossy(&seen.body),
        expected,
        "the multipart body, byte for byte"
    );
}

// ---------------------------------------------------------------------------
// 4. Over-long URLs are refused before anything is sent
// ---------------------------------------------------------------------------

/// The longest URL a request can carry.
const MAX_URL: usize = 65_534;

#[test]
fn a_url_longer_than_the_limit_is_refused_at_call_time() {
    let server = Recorder::start(1, |_, _| ok_response());
    let client = Client::conv(&opts(&server.uri(), json!({"retries": 2})));
    let base = server.uri();

    let long_path = format!("/{}", "a".repeat(MAX_URL + 1 - base.len()));
    let err = err_of(client.fetch(&long_path, None), "refused");
    err.assert_is(INVALID_ARGUMENT, "INVALID_ARGUMENT");
    assert!(err.message.contains("`path`"), "{err:?}");
    assert!(err.message.contains("65534"), "{err:?}");

    let long_query = json!({"query": {"q": "x".repeat(70_000)}});
    let err = err_of(
        client.fetch("/v1/q", Some(&long_query.to_string())),
        "refused",
    );
    err.assert_is(INVALID_ARGUMENT, "INVALID_ARGUMENT");

    let long_id = "i".repeat(70_000);
    for kind in Kind::ALL {
        let client = Client::of(kind, &opts(&server.uri(), json!({"retries": 2})));
        let err = err_of(client.create(&long_id, None), "refused");
        err.assert_is(INVALID_ARGUMENT, "INVALID_ARGUMENT");
        assert!(err.message.contains(kind.id_arg()), "{err:?}");
    }

    // The async call fails before a task exists.
    let id = c(&long_id);
    let mut err: *mut cbk_error = ptr::null_mut();
    // SAFETY: a live handle, valid C strings, a valid out-pointer.
    let task = unsafe {
        chatbotkit::cbk_conversation_session_client_create_async(
            client.conv_ptr(),
            id.as_ptr(),
            ptr::null(),
            None,
            ptr::null_mut(),
            &mut err,
        )
    };
    assert!(task.is_null(), "no task for an over-long URL");
    // SAFETY: the failed call stored a fresh error.
    unsafe { take_error(err) }.assert_is(INVALID_ARGUMENT, "INVALID_ARGUMENT");
    server.assert_nothing_sent("over-long URLs");
}

#[test]
fn a_url_of_exactly_the_limit_is_sent() {
    let server = Recorder::start(1, |_, _| ok_response());
    let client = Client::conv(&opts(&server.uri(), json!({"retries": 0})));
    let path = format!("/{}", "b".repeat(MAX_URL - 1 - server.uri().len()));
    assert_eq!(server.uri().len() + path.len(), MAX_URL);
    client.fetch(&path, None).expect("the longest URL is sent");
    assert_eq!(server.requests()[0].target(), path);
}

// ---------------------------------------------------------------------------
// 5. Too many header names: refused, and nothing printed
// ---------------------------------------------------------------------------

/// Largest number of names a `headers` object may hold.
const MAX_HEADER_NAMES: usize = 10_000;

fn many_headers(n: usize, prefix: &str) -> Value {
    Value::Object(
        (0..n)
            .map(|i| (format!("{prefix}{i}"), Value::from("1")))
            .collect(),
    )
}

/// Runs the test named `name` again in a child process with
/// `HOSTILE_CHILD` set, and returns its stderr once it passed.
fn run_as_child(name: &str) -> String {
    let out = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env("HOSTILE_CHILD", "1")
        .output()
        .expect("the child runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "the child failed:\n{stdout}\n{stderr}"
    );
    stderr
}

#[test]
fn too_many_header_names_are_refused_and_nothing_is_printed() {
    const NAME: &str = "too_many_header_names_are_refused_and_nothing_is_printed";
    if std::env::var_os("HOSTILE_CHILD").is_none() {
        let stderr = run_as_child(NAME);
        assert!(stderr.trim().is_empty(), "stderr: {stderr}");
        return;
    }
    let server = Recorder::start(1, |_, _| ok_response());
    for n in [MAX_HEADER_NAMES + 1, 32_767, 32_768, 40_000] {
        let options = opts(&server.uri(), json!({"headers": many_headers(n, "x-h")}));
        let err = Client::new(Kind::Conversation, Some(&options))
            .err()
            .unwrap_or_else(|| panic!("{n} header names must be refused"));
        err.assert_is(INVALID_ARGUMENT, "INVALID_ARGUMENT");
        assert!(err.message.contains("`headers`"), "{err:?}");

        let client = Client::conv(&opts(&server.uri(), json!({"retries": 0})));
        let fetch = json!({"headers": many_headers(n, "x-f")});
        let err = err_of(client.fetch("/v1/h", Some(&fetch.to_string())), "refused");
        err.assert_is(INVALID_ARGUMENT, "INVALID_ARGUMENT");
        assert!(err.message.contains("`headers`"), "{err:?}");
    }
    // extend counts the merged names.
    let half = opts(
        &server.uri(),
        json!({"headers": many_headers(6_000, "x-a")}),
    );
    let parent = Client::conv(&half);
    let more = json!({"headers": many_headers(6_000, "x-b")});
    let err = parent
        .extend(Some(&more.to_string()))
        .err()
        .expect("refused");
    err.assert_is(INVALID_ARGUMENT, "INVALID_ARGUMENT");
    server.assert_nothing_sent("refused header names");

    // The most of both at once is still a request.
    let full = opts(
        &server.uri(),
        json!({"retries": 0, "headers": many_headers(MAX_HEADER_NAMES, "x-o")}),
    );
    let client = Client::conv(&full);
    let fetch = json!({"headers": many_headers(MAX_HEADER_NAMES, "x-f")});
    client
        .fetch("/v1/h", Some(&fetch.to_string()))
        .expect("the largest request is sent");
    let seen = &server.requests()[0];
    assert!(seen.header("x-o9999").is_some() && seen.header("x-f9999").is_some());
}

// ---------------------------------------------------------------------------
// 6. A positive timeout below 1 µs is 1 µs, never "none"
// ---------------------------------------------------------------------------

#[test]
fn a_timeout_below_one_microsecond_rounds_up() {
    let server = ok_server();
    let client = Client::conv(&opts(
        &server.uri(),
        json!({"timeout": 0.0001, "connectTimeout": 0.0004}),
    ));
    let options = client.options_value();
    assert_eq!(options["timeout"], json!(0.001), "{options}");
    assert_eq!(options["connectTimeout"], json!(0.001), "{options}");
    let derived = client
        .extend(Some(r#"{"timeout":1e-300}"#))
        .expect("extend");
    assert_eq!(derived.options_value()["timeout"], json!(0.001));
}

#[test]
fn a_timeout_below_one_microsecond_still_times_out() {
    // The server holds every request for 2 s, then hangs up.
    let server = RawServer::start(4, |_, stream| {
        let _ = read_full(stream);
        std::thread::sleep(Duration::from_secs(2));
    });
    let client = Client::conv(&opts(
        &server.uri(),
        json!({"timeout": 0.0001, "retries": 0}),
    ));
    let start = Instant::now();
    let err = err_of(client.create("cnv_t", None), "times out");
    err.assert_is(TIMEOUT, "TimeoutError");
    assert!(elapsed_ms(start) < 1500, "took {} ms", elapsed_ms(start));

    let client = Client::conv(&opts(&server.uri(), json!({"retries": 0})));
    let start = Instant::now();
    let err = err_of(
        client.fetch("/v1/t", Some(r#"{"timeout":0.0000001}"#)),
        "times out",
    );
    err.assert_is(TIMEOUT, "TimeoutError");
    assert!(elapsed_ms(start) < 1500, "took {} ms", elapsed_ms(start));
}

// ---------------------------------------------------------------------------
// 7. Keys quoted in messages have their control characters escaped
// ---------------------------------------------------------------------------

fn assert_escaped(err: &ErrInfo, shown: &str) {
    assert!(
        !err.message.chars().any(char::is_control),
        "a raw control character in {:?}",
        err.message
    );
    assert!(err.message.contains(shown), "{shown} in {:?}", err.message);
}

#[test]
fn control_characters_in_quoted_keys_are_escaped() {
    let server = Recorder::start(1, |_, _| ok_response());
    let base = server.uri();
    let option_cases = [
        (json!({"bad\r\nkey": 1}), "`bad\\r\\nkey`"),
        (json!({"tab\tbell\u{7}": 1}), "`tab\\tbell\\u{7}`"),
        (json!({"headers": {"x\r\ny": "1"}}), "`headers.x\\r\\ny`"),
        (json!({"headers": {"a\u{0}b": 1}}), "`headers.a\\u{0}b`"),
        (
            json!({"endpoints": {"/p\n": "ftp://h/"}}),
            "`endpoints./p\\n`",
        ),
        (
            json!({"headers": {"\u{1b}[31m": "1"}}),
            "`headers.\\u{1b}[31m`",
        ),
        (json!({"next\u{85}line": 1}), "`next\\u{85}line`"),
    ];
    for (extra, shown) in option_cases {
        let err = Client::new(Kind::Bot, Some(&opts(&base, extra.clone())))
            .err()
            .unwrap_or_else(|| panic!("{extra} must be refused"));
        assert_escaped(&err, shown);
    }
    let client = Client::conv(&opts(&base, json!({})));
    let fetch_cases = [
        (json!({"a\nb": 1}), "`a\\nb`"),
        (json!({"headers": {"x\ry": "1"}}), "`headers.x\\ry`"),
        (json!({"headers": {"x\ny": 1}}), "`headers.x\\ny`"),
        (json!({"file": {"data": "", "\r": 1}}), "`file.\\r`"),
    ];
    for (options, shown) in fetch_cases {
        let err = err_of(client.fetch("/v1/k", Some(&options.to_string())), "refused");
        assert_escaped(&err, shown);
    }
    server.assert_nothing_sent("refused keys");
}

// ---------------------------------------------------------------------------
// 8. Encoded bodies and too many response headers say what happened
// ---------------------------------------------------------------------------

#[test]
fn a_content_encoded_json_body_is_reported_as_such() {
    let server = Recorder::start(2, |_, _| {
        response(
            "200 OK",
            &[
                ("content-type", "application/json"),
                ("content-encoding", "gzip"),
            ],
            // `{}`, gzipped.
            b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xab\xae\x05\x00\x43\xbf\xa6\xa3\x02\x00\x00\x00",
        )
    });
    let client = Client::conv(&opts(&server.uri(), json!({"retries": 0})));
    for result in [client.create("cnv_gz", None), client.fetch("/v1/gz", None)] {
        let err = err_of(result, "refused");
        err.assert_is(INVALID_RESPONSE, "INVALID_RESPONSE");
        assert_eq!(err.http_status, 200);
        assert!(
            err.message
                .contains("the response is gzip-encoded (content-encoding), which the library does not decode"),
            "{err:?}"
        );
        assert!(!err.message.contains("UTF-8"), "{err:?}");
    }
}

/// A 200 JSON answer with `extra` more headers, 2 of its own.
fn with_headers(extra: usize) -> Vec<u8> {
    let names: Vec<String> = (0..extra).map(|i| format!("x-h{i}")).collect();
    let headers: Vec<(&str, &str)> = std::iter::once(("content-type", "application/json"))
        .chain(names.iter().map(|n| (n.as_str(), "1")))
        .collect();
    // `response` adds content-length and connection.
    response("200 OK", &headers, ok_body().to_string().as_bytes())
}

#[test]
fn more_than_100_response_headers_are_reported_as_such() {
    let server = Recorder::start(2, |index, _| {
        // 100 in all, then 101.
        with_headers(if index == 0 { 97 } else { 98 })
    });
    let client = Client::conv(&opts(&server.uri(), json!({"retries": 0})));
    client
        .create("cnv_100", None)
        .expect("100 headers are read");
    let err = err_of(client.create("cnv_101", None), "refused");
    err.assert_is(NETWORK, "NETWORK_ERROR");
    assert!(
        err.message
            .contains("the response has more than 100 headers"),
        "{err:?}"
    );
    assert!(
        !err.message.contains("message head is too large"),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------
// 9. Retry-After is parsed strictly
// ---------------------------------------------------------------------------

fn retry_after_server(value: &'static str) -> Recorder {
    Recorder::start(8, move |_, _| {
        response(
            "503 Service Unavailable",
            &[("content-type", "application/json"), ("retry-after", value)],
            b"{}",
        )
    })
}

#[test]
fn a_retry_after_that_is_not_all_digits_is_no_delay() {
    for value in ["+1", "1.5", "0x2", "1e1", "-1", "\u{661}"] {
        let server = retry_after_server(value);
        let client = Client::conv(&opts(
            &server.uri(),
            json!({"retries": 1, "retryDelay": 10}),
        ));
        let start = Instant::now();
        let err = err_of(client.create("cnv_ra", None), "503");
        err.assert_is(API, "ERROR_503");
        assert_eq!(server.requests().len(), 2);
        assert!(
            elapsed_ms(start) < 800,
            "Retry-After: {value} is not a delay, took {} ms",
            elapsed_ms(start)
        );
    }
}

#[test]
fn a_retry_after_beyond_u64_is_still_a_capped_delay() {
    let server = retry_after_server("18446744073709551616");
    let client = Client::conv(&opts(
        &server.uri(),
        json!({"retries": 1, "retryDelay": 10}),
    ));
    let id = c("cnv_ra_big");
    let mut err: *mut cbk_error = ptr::null_mut();
    // SAFETY: a live handle, valid C strings, a valid out-pointer.
    let task = unsafe {
        chatbotkit::cbk_conversation_session_client_create_async(
            client.conv_ptr(),
            id.as_ptr(),
            ptr::null(),
            None,
            ptr::null_mut(),
            &mut err,
        )
    };
    assert!(!task.is_null(), "the task starts");
    std::thread::sleep(Duration::from_millis(1500));
    let seen = server.requests().len();
    // SAFETY: a live task, cancelled, waited for and freed once.
    let outcome = unsafe {
        chatbotkit::cbk_task_cancel(task);
        let r = chatbotkit::cbk_task_wait(task, &mut err);
        chatbotkit::cbk_task_free(task);
        r
    };
    assert!(outcome.is_null());
    // SAFETY: the failed wait stored a fresh error.
    unsafe { take_error(err) }.assert_is(CANCELLED, "CANCELLED");
    assert_eq!(seen, 1, "the retry waits for the (capped) Retry-After");
}

// ---------------------------------------------------------------------------
// 10. Methods fetch forbids, and URLs with credentials
// ---------------------------------------------------------------------------

#[test]
fn forbidden_methods_are_refused_and_nothing_is_sent() {
    let server = Recorder::start(1, |_, _| ok_response());
    let client = Client::bot(&opts(&server.uri(), json!({"retries": 0})));
    for method in ["CONNECT", "connect", "TRACE", "Trace", "TRACK", "tRaCk"] {
        let options = json!({"method": method});
        let err = err_of(client.fetch("/v1/m", Some(&options.to_string())), "refused");
        err.assert_is(INVALID_ARGUMENT, "INVALID_ARGUMENT");
        assert!(err.message.contains("`method`"), "{err:?}");
    }
    server.assert_nothing_sent("forbidden methods");
}

#[test]
fn urls_with_credentials_are_refused() {
    let server = Recorder::start(1, |_, _| ok_response());
    let hostport = server.uri().trim_start_matches("http://").to_owned();
    for userinfo in ["user:p4ss_word@", "user@", ":p4ss_word@"] {
        let url = format!("http://{userinfo}{hostport}");
        for kind in Kind::ALL {
            let err = Client::new(kind, Some(&opts(&url, json!({}))))
                .err()
                .unwrap_or_else(|| panic!("baseUrl {url} must be refused"));
            err.assert_is(INVALID_ARGUMENT, "INVALID_ARGUMENT");
            assert!(err.message.contains("`baseUrl`"), "{err:?}");
            assert!(!err.message.contains("p4ss_word"), "{err:?}");

            let parent = Client::of(kind, &opts(&server.uri(), json!({})));
            let err = parent
                .extend(Some(&json!({"baseUrl": url}).to_string()))
                .err()
                .expect("refused");
            assert!(err.message.contains("`baseUrl`"), "{err:?}");
            let endpoint = json!({"endpoints": {"/p": format!("{url}/x")}});
            let err = parent
                .extend(Some(&endpoint.to_string()))
                .err()
                .expect("refused");
            err.assert_is(INVALID_ARGUMENT, "INVALID_ARGUMENT");
            assert!(err.message.contains("`endpoints./p`"), "{err:?}");

            let err = err_of(parent.fetch(&format!("{url}/v1/x"), None), "refused");
            err.assert_is(INVALID_ARGUMENT, "INVALID_ARGUMENT");
            assert!(err.message.contains("`path`"), "{err:?}");
            assert!(!err.message.contains("p4ss_word"), "{err:?}");
        }
    }
    server.assert_nothing_sent("credentials in URLs");
}
