//! What the library tells a developer who looks: the debug lines
//! (connections, TLS, redirects, proxies, hosts), `CHATBOTKIT_LOG` on
//! standard error, and timeout messages that say which limit was hit.
//!
//! The log sink is process-wide, so every callback check is in one test;
//! `CHATBOTKIT_LOG` is read once per process, so its checks run this test
//! binary again as a child with the variable set.

mod common;
mod tls_support;

use std::process::Command;

use common::*;
use serde_json::json;
use tls_support::*;
use wiremock::matchers::{any, path};
use wiremock::{Mock, ResponseTemplate};

fn take_lines() -> Vec<String> {
    std::mem::take(&mut *LOG_LINES.lock().unwrap())
}

fn has(lines: &[String], words: &[&str]) -> bool {
    lines.iter().any(|l| words.iter().all(|w| l.contains(w)))
}

#[test]
fn debug_lines_name_connections_tls_redirects_and_proxies() {
    record_log_lines(true);

    // Connections: the first call opens one, the second reuses it; every
    // line names the host.
    let server = ok_server();
    let host = server.address().to_string();
    let client = Client::conv(&opts(&server.uri(), json!({"retries": 0})));
    client.create("cnv_log", None).expect("first");
    client.create("cnv_log", None).expect("second");
    let lines = take_lines();
    assert!(
        has(
            &lines,
            &["connection to 127.0.0.1 (", &host, "opened: HTTP/1.1"]
        ),
        "{lines:#?}"
    );
    assert!(
        has(
            &lines,
            &["connection to 127.0.0.1 (", &host, "reused: HTTP/1.1"]
        ),
        "{lines:#?}"
    );
    assert!(
        has(
            &lines,
            &[
                &format!("POST http://{host}/"),
                "cnv_log",
                "attempt 1 -> HTTP 200"
            ]
        ),
        "attempt lines name the host: {lines:#?}"
    );

    // Each redirect hop.
    let server = start_server();
    let host = server.address().to_string();
    let client = Client::conv(&opts(&server.uri(), json!({"retries": 0})));
    mount(
        &server,
        Mock::given(path("/from"))
            .respond_with(ResponseTemplate::new(302).insert_header("location", "/to?secret=no")),
    );
    mount(
        &server,
        Mock::given(path("/to")).respond_with(ResponseTemplate::new(200).set_body_json(ok_body())),
    );
    client.fetch("/from?q=1", None).expect("redirected");
    let lines = take_lines();
    assert!(
        has(
            &lines,
            &[&format!(
                "GET http://{host}/from: 302 redirect to GET http://{host}/to"
            )]
        ),
        "{lines:#?}"
    );
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("secret=no") || l.contains("q=1")),
        "queries are never logged: {lines:#?}"
    );

    // The proxy a request goes through (a plain HTTP proxy answers the
    // absolute-form request itself).
    let proxy = start_server();
    mount(
        &proxy,
        Mock::given(any()).respond_with(ResponseTemplate::new(200).set_body_json(ok_body())),
    );
    let through = Client::conv(&opts(
        "http://api.example.invalid",
        json!({"retries": 0, "proxy": proxy.uri()}),
    ));
    through
        .create("cnv_proxy", None)
        .expect("through the proxy");
    let lines = take_lines();
    assert!(
        has(
            &lines,
            &[
                "POST http://api.example.invalid/",
                &format!("goes through proxy {}", proxy.address())
            ]
        ),
        "{lines:#?}"
    );

    // TLS: the version negotiated and the certificate checked.
    let ca = root("diagnostics root", LONG_AGO, FAR_AHEAD);
    let cert = leaf(&ca, &["127.0.0.1"], LONG_AGO, FAR_AHEAD);
    let tls = TlsServer::start(&[&cert], 1);
    create(&tls.url(), Some(&ca.pem)).expect("over TLS");
    let lines = take_lines();
    assert!(has(&lines, &["TLS 1.3 handshake"]), "{lines:#?}");
    assert!(
        has(
            &lines,
            &["TLS: the server's certificate is valid for its name"]
        ),
        "{lines:#?}"
    );
    assert!(
        has(
            &lines,
            &["connection to 127.0.0.1", "opened: HTTP/1.1, ALPN"]
        ),
        "{lines:#?}"
    );

    record_log_lines(false);
}

/// Runs this binary again, only `child_calls_a_server`, with `env` set.
fn child(env: &[(&str, &str)], server: &str) -> String {
    let out = Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            "--exact",
            "child_calls_a_server",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("CBK_DIAGNOSTICS_CHILD", server)
        .envs(env.iter().copied())
        .output()
        .expect("the child runs");
    assert!(out.status.success(), "child failed: {out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    audit("stderr", &stderr);
    stderr
}

/// The child's part: two calls and a refused one. `CBK_DIAGNOSTICS_CALLBACK`
/// sets a log callback first (`on`), or sets one and turns it off again
/// (`off`). Does nothing in a normal test run.
#[test]
fn child_calls_a_server() {
    let Ok(server) = std::env::var("CBK_DIAGNOSTICS_CHILD") else {
        return;
    };
    match std::env::var("CBK_DIAGNOSTICS_CALLBACK").as_deref() {
        Ok("on") => record_log_lines(true),
        Ok("off") => {
            record_log_lines(true);
            record_log_lines(false);
        }
        _ => {}
    }
    let client = Client::conv(&opts(&server, json!({"retries": 0})));
    client.create("cnv_env", None).expect("first");
    client.create("cnv_env", None).expect("second");
    let refused = Client::conv(&opts(&closed_port_uri(), json!({"retries": 0})));
    refused.create("cnv_env", None).expect_err("refused");
}

#[test]
fn chatbotkit_log_sends_lines_to_stderr_when_no_callback_is_set() {
    let server = ok_server();
    let uri = server.uri();

    let debug = child(&[("CHATBOTKIT_LOG", "debug")], &uri);
    assert!(
        debug.contains("chatbotkit: info: POST http://127.0.0.1:")
            && debug.contains("attempt 1 -> HTTP 200"),
        "{debug}"
    );
    assert!(
        debug.contains("chatbotkit: debug: connection to 127.0.0.1"),
        "{debug}"
    );
    assert!(debug.contains("chatbotkit: error: POST"), "{debug}");

    let warn = child(&[("CHATBOTKIT_LOG", "WARN")], &uri);
    assert!(!warn.contains("chatbotkit: info:"), "{warn}");
    assert!(!warn.contains("chatbotkit: debug:"), "{warn}");
    assert!(warn.contains("chatbotkit: error: POST"), "{warn}");

    let none = child(&[("CHATBOTKIT_LOG", "verbose-please")], &uri);
    assert!(
        !none.contains("chatbotkit:"),
        "an unknown level logs nothing: {none}"
    );

    let unset = child(&[], &uri);
    assert!(!unset.contains("chatbotkit:"), "{unset}");

    // A callback, once set, takes every line.
    let callback = child(
        &[
            ("CHATBOTKIT_LOG", "debug"),
            ("CBK_DIAGNOSTICS_CALLBACK", "on"),
        ],
        &uri,
    );
    assert!(!callback.contains("chatbotkit:"), "{callback}");

    // Turned off with NULL, there is no callback again: the variable applies.
    let off = child(
        &[
            ("CHATBOTKIT_LOG", "info"),
            ("CBK_DIAGNOSTICS_CALLBACK", "off"),
        ],
        &uri,
    );
    assert!(
        off.contains("chatbotkit: info: POST http://127.0.0.1:"),
        "{off}"
    );
    assert!(!off.contains("chatbotkit: debug:"), "{off}");
}
