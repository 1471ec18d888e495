//! The `proxy` option against a loopback proxy: plain http requests go in
//! absolute form, https ones through a CONNECT tunnel (so the proxy never
//! sees the bearer token); the proxy's credentials reach it and nothing
//! else; an unreachable proxy is a network error naming the proxy; `""`
//! goes direct.

mod common;
mod proxy_support;
mod tls_support;

use common::*;
use proxy_support::{session_server, Proxy};
use serde_json::json;

#[test]
fn a_plain_http_request_goes_to_the_proxy_in_absolute_form() {
    let server = session_server();
    let proxy = Proxy::start(4);
    let client = Client::conv(&opts(&server.uri(), json!({"proxy": proxy.url()})));
    client.create("c1", None).expect("through the proxy");
    let heads = proxy.heads();
    assert_eq!(heads.len(), 1, "{heads:?}");
    let want = format!(
        "POST {}/api/v1/conversation/c1/session/create HTTP/1.1",
        server.uri()
    );
    assert!(heads[0].starts_with(&want), "{}", heads[0]);
}

#[test]
fn an_https_request_tunnels_and_the_proxy_never_sees_the_token() {
    use tls_support::{leaf, root, TlsServer, FAR_AHEAD, LONG_AGO};
    let ca = root("proxy-test-root", LONG_AGO, FAR_AHEAD);
    let cert = leaf(&ca, &["127.0.0.1"], LONG_AGO, FAR_AHEAD);
    let server = TlsServer::start(&[&cert], 4);
    let proxy = Proxy::start(4);
    let client = Client::conv(&opts(
        &server.url(),
        json!({"proxy": proxy.url(), "caCertificatePem": ca.pem}),
    ));
    client.create("c1", None).expect("through the tunnel");
    let heads = proxy.heads();
    assert_eq!(heads.len(), 1, "{heads:?}");
    assert!(
        heads[0].starts_with(&format!("CONNECT {} HTTP/1.1", server.raw.addr)),
        "{}",
        heads[0]
    );
    assert!(!heads[0]
        .to_ascii_lowercase()
        .contains("authorization: bearer"));
    assert!(!heads[0].contains(SECRET_MARKER));
}

#[test]
fn proxy_credentials_reach_the_proxy_and_nothing_else() {
    let server = session_server();
    let proxy = Proxy::start(4);
    let with_credentials = format!("http://proxyuser:PROXYPASS_x1@127.0.0.1:{}", proxy.port);
    let client = Client::conv(&opts(&server.uri(), json!({"proxy": with_credentials})));
    client.create("c1", None).expect("through the proxy");
    let heads = proxy.heads();
    // base64("proxyuser:PROXYPASS_x1")
    assert!(
        heads[0].contains("cHJveHl1c2VyOlBST1hZUEFTU194MQ=="),
        "{}",
        heads[0]
    );
    // Not in Debug output of the options, nor in an error.
    let value = client.options_value();
    assert_eq!(value["proxy"], json!(with_credentials + "/"));
    let dead = Client::conv(&opts(
        &server.uri(),
        json!({"proxy": "http://u:PROXYPASS_x1@127.0.0.1:1", "retries": 0}),
    ));
    let err = dead.create("c1", None).unwrap_err();
    assert!(!err.message.contains("PROXYPASS"), "{}", err.message);
}

#[test]
fn an_unreachable_proxy_is_a_network_error_naming_it() {
    let server = session_server();
    let port = closed_port_uri().rsplit(':').next().unwrap().to_owned();
    let client = Client::conv(&opts(
        &server.uri(),
        json!({"proxy": format!("http://127.0.0.1:{port}"), "retries": 0}),
    ));
    let err = client.create("c1", None).unwrap_err();
    err.assert_is(NETWORK, "NETWORK_ERROR");
    assert!(
        err.message.contains(&format!("proxy 127.0.0.1:{port}")),
        "{}",
        err.message
    );
    assert_eq!(server.connections(), 0);
}

#[test]
fn an_empty_proxy_goes_direct_and_bad_ones_are_refused() {
    let server = session_server();
    let client = Client::conv(&opts(&server.uri(), json!({"proxy": ""})));
    client.create("c1", None).expect("direct");
    assert_eq!(server.connections(), 1);
    for bad in [
        "ftp://127.0.0.1:1",
        "127.0.0.1:8080",
        "http://",
        "http://h:1/path",
    ] {
        let err = Client::new(
            Kind::Conversation,
            Some(&opts(&server.uri(), json!({"proxy": bad}))),
        )
        .err()
        .unwrap_or_else(|| panic!("{bad} accepted"));
        err.assert_is(INVALID_ARGUMENT, "INVALID_ARGUMENT");
        assert!(err.message.contains("`proxy`"), "{}", err.message);
    }
}
