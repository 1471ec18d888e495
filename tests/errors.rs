//! Error mapping, retries, timeouts and transport failures, as the header
//! (include/chatbotkit.h) specifies them after the Node SDK (`@chatbotkit/sdk` ResponsePromise and
//! `@chatbotkit/fetch` withRetry/withTimeout).

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn server_with(template: ResponseTemplate) -> MockServer {
    let server = start_server();
    mount(&server, Mock::given(any()).respond_with(template));
    server
}

fn create_err(kind: Kind, base: &str, extra: Value) -> ErrInfo {
    let client = Client::of(kind, &opts(base, extra));
    client.create("id1", None).expect_err("the call must fail")
}

fn json_error(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

fn raw_error(status: u16, body: &str, mime: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.as_bytes().to_vec(), mime)
}

// ---------------------------------------------------------------------------
// Mapping of a final non-2xx response
// ---------------------------------------------------------------------------

#[test]
fn api_error_uses_json_message_and_code() {
    for kind in Kind::ALL {
        let server = server_with(json_error(
            400,
            json!({"message": "Conversation is locked", "code": "CONVERSATION_LOCKED", "extra": 1}),
        ));
        let err = create_err(kind, &server.uri(), json!({}));
        err.assert_is(API, "CONVERSATION_LOCKED");
        assert_eq!(err.message, "Conversation is locked");
        assert_eq!(err.http_status, 400);
        assert_eq!(
            err.json_value(),
            json!({"status": "API", "code": "CONVERSATION_LOCKED",
                   "message": "Conversation is locked", "httpStatus": 400})
        );
        assert_eq!(received(&server).len(), 1, "{kind:?}: 400 is not retried");
    }
}

#[test]
fn codeless_json_object_gives_error_status_and_reason() {
    let cases: &[(u16, Value, &str, &str)] = &[
        (404, json!({}), "ERROR_404", "HTTP Error: Not Found"),
        (
            409,
            json!({"message": "Already there"}),
            "ERROR_409",
            "Already there",
        ),
        (
            422,
            json!({"code": "BAD_FIELD"}),
            "BAD_FIELD",
            "HTTP Error: Unprocessable Entity",
        ),
        (
            400,
            json!({"message": "", "code": ""}),
            "ERROR_400",
            "HTTP Error: Bad Request",
        ),
        (
            403,
            json!({"message": null, "code": null}),
            "ERROR_403",
            "HTTP Error: Forbidden",
        ),
    ];
    for (status, body, code, message) in cases {
        let server = server_with(json_error(*status, body.clone()));
        let err = create_err(Kind::Conversation, &server.uri(), json!({}));
        err.assert_is(API, code);
        assert_eq!(&err.message, message, "status {status} body {body}");
        assert_eq!(err.http_status, *status as i32);
    }
}

#[test]
fn json_array_string_or_number_body_is_treated_as_codeless() {
    for body in ["[1,2]", r#"["a"]"#, r#""oops""#, "42", "true"] {
        let server = server_with(raw_error(400, body, "application/json"));
        let err = create_err(Kind::Bot, &server.uri(), json!({}));
        err.assert_is(API, "ERROR_400");
        assert_eq!(err.message, "HTTP Error: Bad Request", "body {body}");
        assert_eq!(err.http_status, 400);
    }
}

#[test]
fn json_null_body_is_treated_as_non_json() {
    let server = server_with(raw_error(400, "null", "application/json"));
    let err = create_err(Kind::Conversation, &server.uri(), json!({}));
    err.assert_is(API, "GENERIC_ERROR");
    assert_eq!(err.message, "There was a generic error");
    assert_eq!(err.http_status, 400);
}

#[test]
fn non_json_body_is_a_generic_error() {
    let html = "<html><body><h1>502 Bad Gateway</h1></body></html>";
    let cases: &[(u16, &str, &str)] = &[
        (500, html, "text/html"),
        (404, html, "text/html"),
        (403, "", "text/plain"),
        (400, "{not json", "application/json"),
    ];
    for (status, body, mime) in cases {
        let server = server_with(raw_error(*status, body, mime));
        let err = create_err(Kind::Conversation, &server.uri(), json!({"retries": 0}));
        err.assert_is(API, "GENERIC_ERROR");
        assert_eq!(err.message, "There was a generic error", "status {status}");
        assert_eq!(err.http_status, *status as i32);
    }
}

#[test]
fn status_413_without_json_is_content_too_large() {
    let server = server_with(raw_error(
        413,
        "<html>Request Entity Too Large</html>",
        "text/html",
    ));
    let err = create_err(Kind::Bot, &server.uri(), json!({}));
    err.assert_is(API, "CONTENT_TOO_LARGE");
    assert_eq!(
        err.message,
        "Client request is too large to be processed by the web server."
    );
    assert_eq!(err.http_status, 413);
    assert_eq!(received(&server).len(), 1, "413 is not retried");
}

#[test]
fn status_413_with_json_uses_the_json() {
    let server = server_with(json_error(
        413,
        json!({"message": "Too big", "code": "TOO_BIG"}),
    ));
    let err = create_err(Kind::Bot, &server.uri(), json!({}));
    err.assert_is(API, "TOO_BIG");
    assert_eq!(err.message, "Too big");
}

#[test]
fn servers_own_reason_phrase_is_used() {
    let server = RawServer::respond_with(
        4,
        b"HTTP/1.1 422 Totally Custom Reason\r\nContent-Type: application/json\r\n\
          Content-Length: 2\r\nConnection: close\r\n\r\n{}"
            .to_vec(),
    );
    let err = create_err(Kind::Conversation, &server.uri(), json!({"retries": 0}));
    err.assert_is(API, "ERROR_422");
    assert_eq!(err.message, "HTTP Error: Totally Custom Reason");
    assert_eq!(err.http_status, 422);
}

#[test]
fn fetch_maps_errors_the_same_way() {
    let server = server_with(json_error(
        404,
        json!({"message": "No such bot", "code": "NOT_FOUND"}),
    ));
    let client = Client::bot(&opts(&server.uri(), json!({})));
    let err = client
        .fetch("/api/v1/bot/x/fetch", Some("{}"))
        .expect_err("404");
    err.assert_is(API, "NOT_FOUND");
    assert_eq!(err.message, "No such bot");
    assert_eq!(err.http_status, 404);
    let server = server_with(raw_error(400, "nope", "text/plain"));
    let client = Client::conv(&opts(&server.uri(), json!({})));
    let err = client.fetch("/x", Some("{}")).expect_err("400");
    err.assert_is(API, "GENERIC_ERROR");
}

// ---------------------------------------------------------------------------
// Retries
// ---------------------------------------------------------------------------

#[test]
fn retry_then_success() {
    for kind in Kind::ALL {
        let server = start_server();
        mount(
            &server,
            Mock::given(any())
                .respond_with(json_error(
                    503,
                    json!({"message": "busy", "code": "SERVICE_UNAVAILABLE"}),
                ))
                .up_to_n_times(2)
                .with_priority(1),
        );
        mount(
            &server,
            Mock::given(any()).respond_with(ResponseTemplate::new(200).set_body_json(ok_body())),
        );
        let client = Client::of(
            kind,
            &opts(&server.uri(), json!({"retries": 3, "retryDelay": 5})),
        );
        let out = client
            .create("id1", Some(r#"{"k":"v"}"#))
            .expect("succeeds on the third attempt");
        assert_eq!(parse(&out), ok_body());
        let requests = received(&server);
        assert_eq!(requests.len(), 3, "{kind:?}: two 503s then 200");
        for req in &requests {
            assert_eq!(
                body_json(req),
                json!({"k": "v"}),
                "every attempt sends the body"
            );
            assert_eq!(raw_path(req), kind.create_path("id1"));
        }
    }
}

#[test]
fn retries_exhausted_error_comes_from_the_last_response() {
    let server = start_server();
    mount(
        &server,
        Mock::given(any())
            .respond_with(json_error(
                503,
                json!({"message": "first", "code": "FIRST"}),
            ))
            .up_to_n_times(2)
            .with_priority(1),
    );
    mount(
        &server,
        Mock::given(any())
            .respond_with(json_error(500, json!({"message": "last", "code": "LAST"}))),
    );
    let err = create_err(
        Kind::Conversation,
        &server.uri(),
        json!({"retries": 2, "retryDelay": 5}),
    );
    err.assert_is(API, "LAST");
    assert_eq!(err.message, "last");
    assert_eq!(err.http_status, 500);
    assert_eq!(received(&server).len(), 3, "retries + 1 attempts");
}

#[test]
fn retries_exhausted_with_html_gives_generic_error() {
    let server = server_with(raw_error(502, "<html>bad gateway</html>", "text/html"));
    let err = create_err(
        Kind::Bot,
        &server.uri(),
        json!({"retries": 1, "retryDelay": 1}),
    );
    err.assert_is(API, "GENERIC_ERROR");
    assert_eq!(err.http_status, 502);
    assert_eq!(received(&server).len(), 2);
}

#[test]
fn retries_zero_means_one_attempt() {
    let server = server_with(json_error(503, json!({"message": "busy", "code": "BUSY"})));
    let err = create_err(
        Kind::Conversation,
        &server.uri(),
        json!({"retries": 0, "retryDelay": 1}),
    );
    err.assert_is(API, "BUSY");
    assert_eq!(err.http_status, 503);
    assert_eq!(received(&server).len(), 1);
}

#[test]
fn default_retries_is_three() {
    let server = server_with(json_error(500, json!({"message": "boom", "code": "BOOM"})));
    let err = create_err(Kind::Conversation, &server.uri(), json!({"retryDelay": 1}));
    err.assert_is(API, "BOOM");
    assert_eq!(
        received(&server).len(),
        4,
        "3 retries after the first attempt"
    );
}

#[test]
fn retryable_statuses_are_retried() {
    for status in [429u16, 500, 502, 503, 504] {
        let server = server_with(json_error(status, json!({"message": "m", "code": "C"})));
        let err = create_err(
            Kind::Bot,
            &server.uri(),
            json!({"retries": 1, "retryDelay": 1}),
        );
        err.assert_is(API, "C");
        assert_eq!(err.http_status, status as i32);
        assert_eq!(
            received(&server).len(),
            2,
            "status {status} is retried once"
        );
    }
}

#[test]
fn other_statuses_are_not_retried() {
    for status in [400u16, 401, 402, 403, 404, 405, 408, 409, 422, 501] {
        let server = server_with(json_error(status, json!({"message": "m", "code": "C"})));
        let err = create_err(
            Kind::Conversation,
            &server.uri(),
            json!({"retries": 3, "retryDelay": 1}),
        );
        err.assert_is(API, "C");
        assert_eq!(err.http_status, status as i32);
        assert_eq!(received(&server).len(), 1, "status {status} is not retried");
    }
}

#[test]
fn retry_delay_doubles() {
    let server = server_with(json_error(503, json!({})));
    let start = Instant::now();
    let err = create_err(
        Kind::Conversation,
        &server.uri(),
        json!({"retries": 2, "retryDelay": 120}),
    );
    let ms = elapsed_ms(start);
    err.assert_is(API, "ERROR_503");
    assert_eq!(received(&server).len(), 3);
    assert!(ms >= 355, "waits 120 then 240 ms, took {ms} ms");
    assert!(ms < 3000, "took {ms} ms");
}

#[test]
fn retry_after_makes_the_wait_longer() {
    let server = server_with(
        json_error(503, json!({"message": "later", "code": "LATER"}))
            .insert_header("Retry-After", "1"),
    );
    let start = Instant::now();
    let err = create_err(
        Kind::Conversation,
        &server.uri(),
        json!({"retries": 1, "retryDelay": 10}),
    );
    let ms = elapsed_ms(start);
    err.assert_is(API, "LATER");
    assert_eq!(received(&server).len(), 2);
    assert!(ms >= 950, "Retry-After: 1 must be honoured, took {ms} ms");
    assert!(ms < 5000, "took {ms} ms");
}

#[test]
fn retry_after_never_shortens_the_wait() {
    let server = server_with(json_error(429, json!({})).insert_header("Retry-After", "0"));
    let start = Instant::now();
    let err = create_err(
        Kind::Bot,
        &server.uri(),
        json!({"retries": 1, "retryDelay": 300}),
    );
    let ms = elapsed_ms(start);
    err.assert_is(API, "ERROR_429");
    assert_eq!(received(&server).len(), 2);
    assert!(ms >= 290, "retryDelay still applies, took {ms} ms");
}

#[test]
fn fetch_level_retries_override_client_retries() {
    let server = server_with(json_error(503, json!({})));
    let client = Client::conv(&opts(&server.uri(), json!({"retries": 0, "retryDelay": 1})));
    let err = client
        .fetch("/x", Some(r#"{"retries": 2, "retryDelay": 1}"#))
        .expect_err("503");
    err.assert_is(API, "ERROR_503");
    assert_eq!(received(&server).len(), 3);

    let server = server_with(json_error(503, json!({})));
    let client = Client::conv(&opts(&server.uri(), json!({"retries": 3, "retryDelay": 1})));
    client
        .fetch("/x", Some(r#"{"retries": 0}"#))
        .expect_err("503");
    assert_eq!(received(&server).len(), 1);
}

// ---------------------------------------------------------------------------
// Timeouts
// ---------------------------------------------------------------------------

fn slow_server(delay_ms: u64) -> MockServer {
    server_with(
        ResponseTemplate::new(200)
            .set_body_json(ok_body())
            .set_delay(Duration::from_millis(delay_ms)),
    )
}

#[test]
fn timeout_is_retried_when_retry_timeout_is_true() {
    for kind in Kind::ALL {
        let server = slow_server(600);
        let start = Instant::now();
        let err = create_err(
            kind,
            &server.uri(),
            json!({"timeout": 120, "retries": 2, "retryDelay": 5, "retryTimeout": true}),
        );
        let ms = elapsed_ms(start);
        err.assert_is(TIMEOUT, "TimeoutError");
        // Which limit, which request, how many attempts: the SDK's bare
        // "TimeoutError" tells none of it.
        let tail = "/id1/session/create: the response headers did not arrive within `timeout` (120 ms), after 3 attempts";
        assert!(
            err.message.starts_with(&format!("POST {}/", server.uri()))
                && err.message.ends_with(tail),
            "{}",
            err.message
        );
        assert_eq!(err.http_status, 0);
        assert_eq!(err.json_value()["status"], json!("TIMEOUT"));
        assert_eq!(received(&server).len(), 3, "{kind:?}: 1 + 2 retries");
        assert!(ms >= 350, "three 120 ms attempts took {ms} ms");
        assert!(ms < 1700, "each attempt is bounded, took {ms} ms");
    }
}

#[test]
fn timeout_is_not_retried_when_retry_timeout_is_false() {
    let server = slow_server(600);
    let start = Instant::now();
    let err = create_err(
        Kind::Conversation,
        &server.uri(),
        json!({"timeout": 120, "retries": 3, "retryDelay": 5, "retryTimeout": false}),
    );
    let ms = elapsed_ms(start);
    err.assert_is(TIMEOUT, "TimeoutError");
    assert!(
        err.message
            .ends_with("within `timeout` (120 ms), after 1 attempt"),
        "{}",
        err.message
    );
    assert_eq!(received(&server).len(), 1);
    assert!(ms < 550, "one 120 ms attempt took {ms} ms");
}

#[test]
fn retry_timeout_defaults_to_true() {
    let server = slow_server(500);
    let err = create_err(
        Kind::Bot,
        &server.uri(),
        json!({"timeout": 100, "retries": 1, "retryDelay": 1}),
    );
    err.assert_is(TIMEOUT, "TimeoutError");
    assert_eq!(received(&server).len(), 2);
}

#[test]
fn a_slow_answer_within_the_timeout_succeeds() {
    let server = slow_server(50);
    let client = Client::conv(&opts(&server.uri(), json!({"timeout": 2000, "retries": 0})));
    assert_eq!(
        parse(&client.create("c1", None).expect("in time")),
        ok_body()
    );
}

#[test]
fn fetch_level_timeout_overrides_client_timeout() {
    let server = slow_server(500);
    let client = Client::conv(&opts(&server.uri(), json!({"timeout": 5000, "retries": 0})));
    let start = Instant::now();
    let err = client
        .fetch("/x", Some(r#"{"timeout": 100, "retryTimeout": false}"#))
        .expect_err("times out");
    err.assert_is(TIMEOUT, "TimeoutError");
    assert!(elapsed_ms(start) < 450);
    assert_eq!(received(&server).len(), 1);
}

#[test]
fn a_stalled_body_is_bounded_by_the_timeout_too() {
    let server = RawServer::start(2, |_, stream| {
        let _ = read_request(stream);
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"id\":",
        );
        let _ = stream.flush();
        std::thread::sleep(Duration::from_millis(2500));
    });
    let start = Instant::now();
    let err = create_err(
        Kind::Conversation,
        &server.uri(),
        json!({"timeout": 200, "retries": 0}),
    );
    let ms = elapsed_ms(start);
    err.assert_is(TIMEOUT, "TimeoutError");
    assert!(
        err.message
            .contains("the response body did not arrive within `timeout` (200 ms)"),
        "{}",
        err.message
    );
    assert!(ms < 1500, "body read must be bounded, took {ms} ms");
}

// ---------------------------------------------------------------------------
// Transport failures
// ---------------------------------------------------------------------------

#[test]
fn connection_refused_is_a_network_error() {
    for kind in Kind::ALL {
        let err = create_err(kind, &closed_port_uri(), json!({"retries": 0}));
        err.assert_is(NETWORK, "NETWORK_ERROR");
        assert_eq!(err.http_status, 0);
        assert!(!err.message.is_empty());
        assert_eq!(err.json_value()["status"], json!("NETWORK"));
    }
}

#[test]
fn connection_refused_is_retried_with_delay() {
    let start = Instant::now();
    let err = create_err(
        Kind::Conversation,
        &closed_port_uri(),
        json!({"retries": 2, "retryDelay": 100}),
    );
    let ms = elapsed_ms(start);
    err.assert_is(NETWORK, "NETWORK_ERROR");
    assert!(
        ms >= 290,
        "waits 100 then 200 ms between attempts, took {ms} ms"
    );
    assert!(ms < 3000, "took {ms} ms");
}

#[test]
fn dropped_connections_are_retried() {
    let server = RawServer::start(10, |_, stream| {
        let _ = read_request(stream);
        // close without answering
    });
    let err = create_err(
        Kind::Bot,
        &server.uri(),
        json!({"retries": 2, "retryDelay": 5}),
    );
    err.assert_is(NETWORK, "NETWORK_ERROR");
    assert_eq!(server.connections(), 3, "1 + 2 retries");
}

#[test]
fn truncated_body_is_a_network_error() {
    let server = RawServer::respond_with(
        4,
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\
          Connection: close\r\n\r\n{\"id\":\"abc"
            .to_vec(),
    );
    let err = create_err(Kind::Conversation, &server.uri(), json!({"retries": 0}));
    err.assert_is(NETWORK, "NETWORK_ERROR");
}

#[test]
fn transport_errors_never_show_the_secret() {
    // take_error checks every message and to_json text for the secret; this
    // puts the secret in the request to places where a careless message could
    // copy it from (headers, the base URL's user info, which is refused).
    let base = closed_port_uri().replace("http://", &format!("http://user:{SECRET}@"));
    let refused = Client::new(Kind::Conversation, Some(&opts(&base, json!({}))))
        .err()
        .expect("credentials in baseUrl are refused");
    refused.assert_is(INVALID_ARGUMENT, "INVALID_ARGUMENT");
    let client = Client::conv(&opts(
        &closed_port_uri(),
        json!({"retries": 0, "headers": {"x-copy": SECRET}}),
    ));
    let err = client.create("c1", None).expect_err("refused");
    assert!(!err.message.contains(SECRET_MARKER));
    let server = slow_server(500);
    let err = create_err(
        Kind::Bot,
        &server.uri(),
        json!({"timeout": 100, "retries": 0}),
    );
    assert!(!err.message.contains(SECRET_MARKER));
}

// ---------------------------------------------------------------------------
// Success bodies that are not what the call returns
// ---------------------------------------------------------------------------

#[test]
fn create_non_json_success_is_invalid_response_with_status_kept() {
    let cases: &[(u16, &str, &str)] = &[
        (200, "hello", "text/plain"),
        (201, "<html>created</html>", "text/html"),
        (200, r#"{"id":"looks like json"}"#, "text/plain"),
        (202, r#"{"id":"x"}"#, "application/jsonx"),
    ];
    for kind in Kind::ALL {
        for (status, body, mime) in cases {
            let server = server_with(raw_error(*status, body, mime));
            let err = create_err(kind, &server.uri(), json!({}));
            err.assert_is(INVALID_RESPONSE, "INVALID_RESPONSE");
            assert_eq!(err.http_status, *status as i32, "{kind:?} {mime}");
            assert_eq!(err.json_value()["status"], json!("INVALID_RESPONSE"));
            assert_eq!(received(&server).len(), 1, "a 2xx is never retried");
        }
    }
}

#[test]
fn create_success_without_content_type_is_invalid_response() {
    let server = server_with(ResponseTemplate::new(200).set_body_bytes(b"{}".to_vec()));
    let err = create_err(Kind::Conversation, &server.uri(), json!({}));
    err.assert_is(INVALID_RESPONSE, "INVALID_RESPONSE");
    assert_eq!(err.http_status, 200);
}

#[test]
fn invalid_json_under_json_content_type_is_invalid_response() {
    for body in ["{\"id\": ", "", "not json at all", "{\"a\":1} trailing"] {
        let server = server_with(raw_error(200, body, "application/json"));
        let err = create_err(Kind::Bot, &server.uri(), json!({}));
        err.assert_is(INVALID_RESPONSE, "INVALID_RESPONSE");
        assert_eq!(err.http_status, 200, "body {body:?}");

        let client = Client::conv(&opts(&server.uri(), json!({})));
        let err = client
            .fetch("/x", Some("{}"))
            .expect_err("fetch invalid JSON");
        err.assert_is(INVALID_RESPONSE, "INVALID_RESPONSE");
        assert_eq!(err.http_status, 200);
    }
}

#[test]
fn max_response_bytes_is_enforced() {
    let body = json!({"id": "x".repeat(200), "token": "t"});
    let len = body.to_string().len();
    let server = server_with(ResponseTemplate::new(200).set_body_json(body.clone()));

    let err = create_err(
        Kind::Conversation,
        &server.uri(),
        json!({"maxResponseBytes": 64}),
    );
    err.assert_is(INVALID_RESPONSE, "INVALID_RESPONSE");

    let client = Client::bot(&opts(&server.uri(), json!({"maxResponseBytes": 64})));
    let err = client.fetch("/x", Some("{}")).expect_err("too big");
    err.assert_is(INVALID_RESPONSE, "INVALID_RESPONSE");

    let client = Client::conv(&opts(&server.uri(), json!({"maxResponseBytes": len})));
    let out = client.create("c1", None).expect("exactly at the limit");
    assert_eq!(parse(&out), body);
}

#[test]
fn max_response_bytes_applies_to_a_non_json_fetch_body() {
    let server = server_with(raw_error(
        200,
        &"z".repeat(1000),
        "application/octet-stream",
    ));
    let client = Client::conv(&opts(&server.uri(), json!({"maxResponseBytes": 100})));
    let err = client.fetch("/blob", Some("{}")).expect_err("too big");
    err.assert_is(INVALID_RESPONSE, "INVALID_RESPONSE");
}

// ---------------------------------------------------------------------------
// Log lines
// ---------------------------------------------------------------------------

#[test]
fn log_lines_report_attempts_and_never_show_the_secret() {
    let server = start_server();
    mount(
        &server,
        Mock::given(any())
            .respond_with(json_error(503, json!({})))
            .up_to_n_times(1)
            .with_priority(1),
    );
    mount(
        &server,
        Mock::given(any()).respond_with(ResponseTemplate::new(200).set_body_json(ok_body())),
    );
    record_log_lines(true);
    let client = Client::conv(&opts(
        &server.uri(),
        json!({"retries": 2, "retryDelay": 5, "token": SECRET}),
    ));
    let result = client.create("log-check-id", None);
    let refused = create_err(Kind::Bot, &closed_port_uri(), json!({"retries": 0}));
    record_log_lines(false);
    result.expect("succeeds on the second attempt");
    refused.assert_is(NETWORK, "NETWORK_ERROR");
    let lines = LOG_LINES.lock().unwrap().clone();
    for line in &lines {
        assert!(
            !line.contains(SECRET_MARKER),
            "a log line shows the secret: {line}"
        );
    }
    let ours: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("log-check-id"))
        .collect();
    assert!(ours.len() >= 2, "each attempt is reported: {lines:#?}");
    assert!(
        ours.iter().any(|l| l.contains("503")),
        "the failed attempt's status is reported: {ours:#?}"
    );
}
