//! Proxies from the environment, as libcurl takes them: `HTTP_PROXY` for
//! http requests, `NO_PROXY` to bypass it, and an explicit `proxy` option
//! (`""` included) over both. One test in its own binary: it sets the
//! process's environment, which every thread shares.

mod common;
mod proxy_support;

use common::*;
use proxy_support::{session_server, Proxy};
use serde_json::json;

#[test]
fn the_environments_proxy_is_used_unless_no_proxy_or_the_option_says_otherwise() {
    let server = session_server();
    let proxy = Proxy::start(8);
    // Each client below has settings of its own (userAgent), so each
    // builds its HTTP client, and reads the environment, anew.
    let with = |agent: &str, extra: serde_json::Value| {
        let mut o = opts_value(&server.uri(), extra);
        o["userAgent"] = json!(agent);
        Client::conv(&o.to_string())
    };
    std::env::set_var("HTTP_PROXY", proxy.url());
    std::env::remove_var("NO_PROXY");
    std::env::remove_var("no_proxy");
    with("env-1", json!({}))
        .create("c1", None)
        .expect("via HTTP_PROXY");
    assert_eq!(proxy.heads().len(), 1);

    with("env-2", json!({"proxy": ""}))
        .create("c2", None)
        .expect("direct");
    assert_eq!(proxy.heads().len(), 1, "proxy: \"\" went through the proxy");

    std::env::set_var("NO_PROXY", "127.0.0.1");
    with("env-3", json!({}))
        .create("c3", None)
        .expect("NO_PROXY");
    assert_eq!(proxy.heads().len(), 1, "NO_PROXY was not honoured");

    // An explicit proxy applies to every request, NO_PROXY or not.
    with("env-4", json!({"proxy": proxy.url()}))
        .create("c4", None)
        .expect("explicit");
    assert_eq!(proxy.heads().len(), 2);
    std::env::remove_var("HTTP_PROXY");
    std::env::remove_var("NO_PROXY");
}
