//! Redirects are followed as fetch follows them: 303 (and 301/302 after a
//! POST) become a GET without a body; 307/308 resend the POST with its body;
//! credentials never cross to another origin; loops end with an error.

mod common;

use common::*;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

fn redirect(status: u16, to: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).insert_header("location", to)
}

/// The requests `server` received at `at`, as (method, body, authorization).
fn seen(server: &wiremock::MockServer, at: &str) -> Vec<(String, String, Option<String>)> {
    received(server)
        .iter()
        .filter(|r| r.url.path() == at)
        .map(|r| {
            (
                r.method.to_string(),
                body_text(r),
                header(r, "authorization"),
            )
        })
        .collect()
}

fn mount_target(server: &wiremock::MockServer) {
    mount(
        server,
        Mock::given(path("/target"))
            .respond_with(ResponseTemplate::new(200).set_body_json(ok_body())),
    );
}

#[test]
fn status_303_and_301_after_post_become_a_get_without_body() {
    for status in [301, 302, 303] {
        let server = start_server();
        mount(
            &server,
            Mock::given(method("POST"))
                .and(path("/api/v1/conversation/c1/session/create"))
                .respond_with(redirect(status, "/target")),
        );
        mount_target(&server);
        let client = Client::conv(&opts(&server.uri(), json!({"retries": 0})));
        client
            .create("c1", Some(r#"{"a":1}"#))
            .expect("the redirect is followed");
        let hops = seen(&server, "/target");
        assert_eq!(hops.len(), 1, "{status}: {hops:?}");
        assert_eq!(hops[0].0, "GET", "{status}");
        assert_eq!(hops[0].1, "", "{status}: the body is dropped");
        assert!(
            hops[0].2.is_some(),
            "{status}: same origin keeps authorization"
        );
    }
}

#[test]
fn status_307_and_308_resend_the_post_with_its_body() {
    for status in [307, 308] {
        let server = start_server();
        mount(
            &server,
            Mock::given(method("POST"))
                .and(path("/api/v1/conversation/c1/session/create"))
                .respond_with(redirect(status, "/target")),
        );
        mount_target(&server);
        let client = Client::conv(&opts(&server.uri(), json!({"retries": 0})));
        client
            .create("c1", Some(r#"{"a":1}"#))
            .expect("the redirect is followed");
        let hops = seen(&server, "/target");
        assert_eq!(hops.len(), 1, "{status}: {hops:?}");
        assert_eq!(
            (hops[0].0.as_str(), hops[0].1.as_str()),
            ("POST", r#"{"a":1}"#),
            "{status}"
        );
    }
}

#[test]
fn credentials_do_not_cross_to_another_origin_even_back_again() {
    let a = start_server();
    let b = start_server();
    // a -> b (another origin: authorization dropped) -> a (still dropped).
    mount(
        &a,
        Mock::given(path("/api/v1/conversation/c1/session/create"))
            .respond_with(redirect(307, &format!("{}/hop", b.uri()))),
    );
    mount(
        &b,
        Mock::given(path("/hop")).respond_with(redirect(307, &format!("{}/target", a.uri()))),
    );
    mount_target(&a);
    let client = Client::conv(&opts(&a.uri(), json!({"retries": 0})));
    client.create("c1", None).expect("followed");
    assert_eq!(seen(&b, "/hop").len(), 1);
    assert_eq!(
        seen(&b, "/hop")[0].2,
        None,
        "no authorization at the other origin"
    );
    assert_eq!(seen(&a, "/target")[0].2, None, "nor after coming back");
}

#[test]
fn a_redirect_loop_ends_with_a_network_error() {
    let server = start_server();
    mount(
        &server,
        Mock::given(path("/api/v1/conversation/c1/session/create"))
            .respond_with(redirect(302, "/api/v1/conversation/c1/session/create")),
    );
    let client = Client::conv(&opts(&server.uri(), json!({"retries": 0})));
    let err = client.create("c1", None).unwrap_err();
    err.assert_is(NETWORK, "NETWORK_ERROR");
    assert!(err.message.contains("redirects"), "{}", err.message);
    assert_eq!(
        received(&server).len(),
        21,
        "the first request and 20 redirects"
    );
}
