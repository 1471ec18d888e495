//! What goes on the wire: URLs, headers, bodies, options, extend and
//! `_fetch`, checked on a wiremock server through the C ABI
//! (the header's "Requests, retries and timeouts" section).

mod common;

use base64::Engine as _;
use common::*;
use serde_json::{json, Value};
use wiremock::matchers::any;
use wiremock::{Mock, ResponseTemplate};

// ---------------------------------------------------------------------------
// create: method, path, body, returned JSON
// ---------------------------------------------------------------------------

#[test]
fn create_posts_to_session_create_with_empty_object_for_null_request() {
    for kind in Kind::ALL {
        let server = ok_server();
        let client = Client::of(kind, &opts(&server.uri(), json!({})));
        let out = client.create("c1", None).expect("create");
        assert_eq!(parse(&out), ok_body(), "{kind:?}: returned body");

        let req = only_request(&server);
        assert_eq!(req.method.as_str(), "POST", "{kind:?}");
        assert_eq!(raw_path(&req), kind.create_path("c1"), "{kind:?}");
        assert_eq!(req.url.query(), None, "{kind:?}: no query");
        assert_eq!(body_text(&req), "{}", "{kind:?}: NULL request sends {{}}");
        assert_eq!(
            header(&req, "content-type").as_deref(),
            Some("application/json"),
            "{kind:?}"
        );
        assert_eq!(
            header(&req, "authorization"),
            Some(format!("Bearer {SECRET}")),
            "{kind:?}"
        );
    }
}

#[test]
fn create_sends_the_request_body_as_given() {
    let request = r#"{"expiresIn": 3600, "b": {"nested": [1, "x", null, true]}, "a": "é"}"#;
    for kind in Kind::ALL {
        let server = ok_server();
        let client = Client::of(kind, &opts(&server.uri(), json!({})));
        client.create("c1", Some(request)).expect("create");
        let req = only_request(&server);
        assert_eq!(
            body_json(&req),
            serde_json::from_str::<Value>(request).unwrap(),
            "{kind:?}: same JSON"
        );
        assert_eq!(body_text(&req), request, "{kind:?}: the text as given");
    }
}

#[test]
fn create_with_explicit_empty_request_sends_empty_object() {
    let server = ok_server();
    let client = Client::conv(&opts(&server.uri(), json!({})));
    client.create("c1", Some("{}")).expect("create");
    assert_eq!(body_json(&only_request(&server)), json!({}));
}

#[test]
fn create_returns_the_response_body_with_every_field() {
    let body = json!({
        "id": "s1", "token": "t1", "expiresAt": 1234567890123u64,
        "conversationId": "conv9", "extra": {"nested": [1, 2.5, null, "x"], "flag": false}
    });
    for kind in Kind::ALL {
        let server = start_server();
        mount(
            &server,
            Mock::given(any()).respond_with(ResponseTemplate::new(200).set_body_json(body.clone())),
        );
        let client = Client::of(kind, &opts(&server.uri(), json!({})));
        let out = client.create("b1", None).expect("create");
        assert_eq!(parse(&out), body, "{kind:?}");
    }
}

#[test]
fn api_prefix_is_kept_for_other_hosts() {
    let server = ok_server();
    let client = Client::bot(&opts(&server.uri(), json!({})));
    client.create("b1", None).expect("create");
    assert_eq!(
        raw_path(&only_request(&server)),
        "/api/v1/bot/b1/session/create"
    );
}

// ---------------------------------------------------------------------------
// Ids
// ---------------------------------------------------------------------------

const ENCODED_IDS: &[(&str, &str)] = &[
    ("plain-id_1", "plain-id_1"),
    ("a/b", "a%2Fb"),
    ("?x", "%3Fx"),
    ("#", "%23"),
    ("a b", "a%20b"),
    ("%", "%25"),
    ("50%2Fx", "50%252Fx"),
    ("é", "%C3%A9"),
    ("日本", "%E6%97%A5%E6%9C%AC"),
    ("../../v1/secret", "..%2F..%2Fv1%2Fsecret"),
    ("...", "..."),
    ("x\"<>\\", "x%22%3C%3E%5C"),
    ("{}|^`[]", "%7B%7D%7C%5E%60%5B%5D"),
    ("AZaz09-._~!$&'()*+,;=:@", "AZaz09-._~!$&'()*+,;=:@"),
];

#[test]
fn ids_are_one_percent_encoded_segment() {
    for kind in Kind::ALL {
        let server = ok_server();
        let client = Client::of(kind, &opts(&server.uri(), json!({})));
        for (id, _) in ENCODED_IDS {
            client
                .create(id, None)
                .unwrap_or_else(|e| panic!("{kind:?} id {id:?}: {e:?}"));
        }
        let requests = received(&server);
        assert_eq!(requests.len(), ENCODED_IDS.len(), "{kind:?}");
        for ((id, encoded), req) in ENCODED_IDS.iter().zip(&requests) {
            assert_eq!(
                raw_path(req),
                kind.create_path(encoded),
                "{kind:?}: id {id:?}"
            );
            assert_eq!(req.url.query(), None, "{kind:?}: id {id:?} made a query");
            assert_eq!(req.url.fragment(), None, "{kind:?}: id {id:?}");
        }
    }
}

#[test]
fn empty_and_dot_ids_are_refused_and_nothing_is_sent() {
    for kind in Kind::ALL {
        let server = ok_server();
        let client = Client::of(kind, &opts(&server.uri(), json!({})));
        for id in ["", ".", ".."] {
            let err = client
                .create(id, None)
                .expect_err(&format!("{kind:?} id {id:?} must be refused"));
            err.assert_is(INVALID_ARGUMENT, "INVALID_ARGUMENT");
            assert_eq!(err.http_status, 0);
        }
        assert_eq!(received(&server).len(), 0, "{kind:?}: nothing may be sent");
    }
}

// ---------------------------------------------------------------------------
// Credentials and run-as headers
// ---------------------------------------------------------------------------

fn single_create_request(kind: Kind, extra: Value) -> wiremock::Request {
    let server = ok_server();
    let client = Client::of(kind, &opts(&server.uri(), extra));
    client.create("c1", None).expect("create");
    only_request(&server)
}

fn single_create_without_secret(extra: Value) -> wiremock::Request {
    let server = ok_server();
    let mut options = json!({"baseUrl": server.uri()});
    for (k, v) in extra.as_object().unwrap() {
        options[k] = v.clone();
    }
    let client = Client::conv(&options.to_string());
    client.create("c1", None).expect("create");
    only_request(&server)
}

#[test]
fn authorization_from_secret() {
    for kind in Kind::ALL {
        let req = single_create_request(kind, json!({}));
        assert_eq!(
            header(&req, "authorization"),
            Some(format!("Bearer {SECRET}"))
        );
    }
}

#[test]
fn authorization_from_token() {
    let req = single_create_without_secret(json!({"token": "tok_ABC"}));
    assert_eq!(
        header(&req, "authorization").as_deref(),
        Some("Bearer tok_ABC")
    );
}

#[test]
fn token_wins_over_secret() {
    for kind in Kind::ALL {
        let req = single_create_request(kind, json!({"token": "tok_WINS"}));
        assert_eq!(
            header(&req, "authorization").as_deref(),
            Some("Bearer tok_WINS"),
            "{kind:?}"
        );
        assert_eq!(header_count(&req, "authorization"), 1);
    }
}

#[test]
fn no_credentials_no_authorization() {
    let req = single_create_without_secret(json!({}));
    assert_eq!(header(&req, "authorization"), None);
}

#[test]
fn empty_secret_sends_no_authorization() {
    let req = single_create_request(Kind::Conversation, json!({"secret": ""}));
    assert_eq!(header(&req, "authorization"), None);
}

#[test]
fn null_secret_means_not_set() {
    let req = single_create_request(Kind::Conversation, json!({"secret": null}));
    assert_eq!(header(&req, "authorization"), None);
}

#[test]
fn runas_and_timezone_headers() {
    for kind in Kind::ALL {
        let req = single_create_request(
            kind,
            json!({
                "runAsUserId": "user_42",
                "runAsChildUserEmail": "child@example.com",
                "timezone": "Europe/Sofia"
            }),
        );
        assert_eq!(header(&req, "x-runas-user-id").as_deref(), Some("user_42"));
        assert_eq!(
            header(&req, "x-runas-child-user-email").as_deref(),
            Some("child@example.com")
        );
        assert_eq!(header(&req, "x-timezone").as_deref(), Some("Europe/Sofia"));
    }
}

#[test]
fn no_runas_or_timezone_headers_by_default() {
    let req = single_create_request(Kind::Conversation, json!({}));
    assert_eq!(header(&req, "x-runas-user-id"), None);
    assert_eq!(header(&req, "x-runas-child-user-email"), None);
    assert_eq!(header(&req, "x-timezone"), None);
}

#[test]
fn empty_string_values_are_left_out() {
    let req = single_create_request(
        Kind::Conversation,
        json!({"runAsUserId": "", "runAsChildUserEmail": "", "timezone": ""}),
    );
    assert_eq!(header(&req, "x-runas-user-id"), None);
    assert_eq!(header(&req, "x-runas-child-user-email"), None);
    assert_eq!(header(&req, "x-timezone"), None);
}

// ---------------------------------------------------------------------------
// Option headers and the later-wins order
// ---------------------------------------------------------------------------

#[test]
fn options_headers_are_sent() {
    for kind in Kind::ALL {
        let req = single_create_request(
            kind,
            json!({"headers": {"X-Custom-One": "1", "x-custom-two": "two words"}}),
        );
        assert_eq!(header(&req, "x-custom-one").as_deref(), Some("1"));
        assert_eq!(header(&req, "x-custom-two").as_deref(), Some("two words"));
    }
}

#[test]
fn secret_overrides_an_options_authorization_header_any_case() {
    for name in ["authorization", "Authorization", "AUTHORIZATION"] {
        let req = single_create_request(
            Kind::Conversation,
            json!({"headers": {name: "Bearer from-headers"}}),
        );
        assert_eq!(header_count(&req, "authorization"), 1, "{name}");
        assert_eq!(
            header(&req, "authorization"),
            Some(format!("Bearer {SECRET}")),
            "{name}"
        );
    }
}

#[test]
fn token_overrides_an_options_authorization_header() {
    let req = single_create_without_secret(
        json!({"token": "tok_1", "headers": {"Authorization": "Bearer other"}}),
    );
    assert_eq!(
        header(&req, "authorization").as_deref(),
        Some("Bearer tok_1")
    );
}

#[test]
fn options_authorization_header_kept_without_credentials() {
    let req = single_create_without_secret(json!({"headers": {"Authorization": "Bearer custom"}}));
    assert_eq!(
        header(&req, "authorization").as_deref(),
        Some("Bearer custom")
    );
}

#[test]
fn content_type_overrides_an_options_content_type_header() {
    for name in ["Content-Type", "content-type", "CONTENT-TYPE"] {
        let req = single_create_request(Kind::Bot, json!({"headers": {name: "text/plain"}}));
        assert_eq!(header_count(&req, "content-type"), 1, "{name}");
        assert_eq!(
            header(&req, "content-type").as_deref(),
            Some("application/json"),
            "{name}"
        );
    }
}

#[test]
fn runas_and_timezone_override_options_headers() {
    let req = single_create_request(
        Kind::Conversation,
        json!({
            "runAsUserId": "u_opt",
            "runAsChildUserEmail": "opt@example.com",
            "timezone": "UTC",
            "headers": {
                "X-RunAs-User-Id": "u_hdr",
                "X-RUNAS-CHILD-USER-EMAIL": "hdr@example.com",
                "X-Timezone": "Asia/Tokyo"
            }
        }),
    );
    assert_eq!(header(&req, "x-runas-user-id").as_deref(), Some("u_opt"));
    assert_eq!(
        header(&req, "x-runas-child-user-email").as_deref(),
        Some("opt@example.com")
    );
    assert_eq!(header(&req, "x-timezone").as_deref(), Some("UTC"));
}

#[test]
fn options_headers_kept_when_the_option_is_unset() {
    let req = single_create_request(
        Kind::Conversation,
        json!({"headers": {"X-Timezone": "Asia/Tokyo", "x-runas-user-id": "u_hdr"}}),
    );
    assert_eq!(header(&req, "x-timezone").as_deref(), Some("Asia/Tokyo"));
    assert_eq!(header(&req, "x-runas-user-id").as_deref(), Some("u_hdr"));
}

#[test]
fn default_user_agent_and_user_agent_option() {
    let req = single_create_request(Kind::Conversation, json!({}));
    assert_eq!(
        header(&req, "user-agent"),
        Some(format!("libchatbotkit/{}", env!("CARGO_PKG_VERSION")))
    );
    let req = single_create_request(Kind::Conversation, json!({"userAgent": "my-app/2.0"}));
    assert_eq!(header(&req, "user-agent").as_deref(), Some("my-app/2.0"));
}

// ---------------------------------------------------------------------------
// Base URL, host, protocol, endpoints
// ---------------------------------------------------------------------------

#[test]
fn base_url_sub_path_is_replaced_by_the_absolute_request_path() {
    for base_suffix in ["/prefix/sub/", "/prefix/sub"] {
        let server = ok_server();
        let base = format!("{}{base_suffix}", server.uri());
        let client = Client::conv(&opts(&base, json!({})));
        client.create("c1", None).expect("create");
        assert_eq!(
            raw_path(&only_request(&server)),
            "/api/v1/conversation/c1/session/create",
            "base {base}"
        );
    }
}

#[test]
fn base_url_with_trailing_slash_and_without_are_equal() {
    let server = ok_server();
    let client = Client::bot(&opts(&format!("{}/", server.uri()), json!({})));
    client.create("b1", None).expect("create");
    assert_eq!(
        raw_path(&only_request(&server)),
        "/api/v1/bot/b1/session/create"
    );
}

#[test]
fn host_option_replaces_host_and_port() {
    let server = ok_server();
    let options = json!({
        "secret": SECRET,
        "baseUrl": "http://unreachable.invalid:9",
        "host": server.address().to_string(),
    });
    let client = Client::conv(&options.to_string());
    client
        .create("c1", None)
        .expect("create through host option");
    assert_eq!(
        raw_path(&only_request(&server)),
        "/api/v1/conversation/c1/session/create"
    );
    assert_eq!(
        client.options_value()["baseUrl"],
        json!(format!("http://{}/", server.address()))
    );
}

#[test]
fn protocol_option_replaces_scheme() {
    let server = ok_server();
    let options = json!({
        "secret": SECRET,
        "baseUrl": format!("https://{}", server.address()),
        "protocol": "http:",
    });
    let client = Client::bot(&options.to_string());
    client
        .create("b1", None)
        .expect("create through protocol option");
    assert_eq!(
        raw_path(&only_request(&server)),
        "/api/v1/bot/b1/session/create"
    );
    assert_eq!(
        client.options_value()["baseUrl"],
        json!(format!("http://{}/", server.address()))
    );
}

#[test]
fn host_and_protocol_together() {
    let server = ok_server();
    let options = json!({
        "secret": SECRET,
        "baseUrl": "https://unreachable.invalid",
        "host": server.address().to_string(),
        "protocol": "http:",
    });
    let client = Client::conv(&options.to_string());
    client.create("c1", None).expect("create");
    assert_eq!(received(&server).len(), 1);
}

#[test]
fn endpoints_replace_the_path() {
    for kind in Kind::ALL {
        let server = ok_server();
        let client = Client::of(
            kind,
            &opts(
                &server.uri(),
                json!({"endpoints": {kind.create_path("x1"): "/custom/create/here"}}),
            ),
        );
        client.create("x1", Some(r#"{"k":1}"#)).expect("create");
        // an id without an endpoint entry still uses the normal path
        client.create("x2", None).expect("create");
        let requests = received(&server);
        assert_eq!(requests.len(), 2);
        assert_eq!(raw_path(&requests[0]), "/custom/create/here", "{kind:?}");
        assert_eq!(requests[0].method.as_str(), "POST");
        assert_eq!(body_json(&requests[0]), json!({"k": 1}));
        assert_eq!(
            header(&requests[0], "authorization"),
            Some(format!("Bearer {SECRET}"))
        );
        assert_eq!(raw_path(&requests[1]), kind.create_path("x2"), "{kind:?}");
    }
}

#[test]
fn endpoints_may_be_a_full_url() {
    let main = ok_server();
    let other = ok_server();
    let client = Client::conv(&opts(
        &main.uri(),
        json!({"endpoints": {
            "/api/v1/conversation/c1/session/create": format!("{}/elsewhere/create", other.uri())
        }}),
    ));
    client.create("c1", None).expect("create");
    assert_eq!(received(&main).len(), 0, "main server must not be called");
    let req = only_request(&other);
    assert_eq!(raw_path(&req), "/elsewhere/create");
    assert_eq!(req.method.as_str(), "POST");
}

#[test]
fn relative_endpoint_resolves_against_the_base_url() {
    let server = ok_server();
    let client = Client::conv(&opts(
        &format!("{}/base/dir/", server.uri()),
        json!({"endpoints": {"/api/v1/conversation/c1/session/create": "rel/create"}}),
    ));
    client.create("c1", None).expect("create");
    assert_eq!(raw_path(&only_request(&server)), "/base/dir/rel/create");
}

// ---------------------------------------------------------------------------
// Options output
// ---------------------------------------------------------------------------

#[test]
fn options_output_shows_defaults() {
    for kind in Kind::ALL {
        let client = Client::of(kind, &json!({"secret": SECRET}).to_string());
        let v = client.options_value();
        assert_eq!(v["secret"], json!(SECRET), "{kind:?}");
        assert_eq!(
            v["baseUrl"],
            json!("https://api.chatbotkit.com/"),
            "{kind:?}"
        );
        assert_eq!(v["endpoints"], json!({}), "{kind:?}");
        assert_eq!(v["headers"], json!({}), "{kind:?}");
        assert_eq!(v["retries"], json!(3), "{kind:?}");
        assert_eq!(v["retryDelay"], json!(250), "{kind:?}");
        assert_eq!(v["retryTimeout"], json!(true), "{kind:?}");
        assert_eq!(v["maxResponseBytes"], json!(16777216), "{kind:?}");
        for unset in [
            "timeout",
            "runAsUserId",
            "runAsChildUserEmail",
            "timezone",
            "token",
        ] {
            assert!(
                v.get(unset).map_or(true, Value::is_null),
                "{kind:?}: {unset} unset but shown as {}",
                v[unset]
            );
        }
    }
}

#[test]
fn new_with_null_options_is_empty_options() {
    for kind in Kind::ALL {
        let client = Client::new(kind, None).expect("NULL options mean {}");
        let v = client.options_value();
        assert_eq!(v["baseUrl"], json!("https://api.chatbotkit.com/"));
        assert_eq!(v["retries"], json!(3));
    }
}

fn all_options(base: &str) -> Value {
    json!({
        "secret": SECRET,
        "token": "tok_all",
        "baseUrl": format!("{base}/"),
        "endpoints": {"/a": "/b"},
        "runAsUserId": "u1",
        "runAsChildUserEmail": "c@example.com",
        "timezone": "UTC",
        "headers": {"x-one": "1"},
        "timeout": 1500,
        "retries": 2,
        "retryDelay": 10,
        "retryTimeout": false,
        "maxResponseBytes": 4096,
        "connectTimeout": 700,
        "userAgent": "ua/1"
    })
}

#[test]
fn options_output_keeps_every_set_option_and_round_trips() {
    let server = ok_server();
    let given = all_options(&server.uri());
    for kind in Kind::ALL {
        let client = Client::of(kind, &given.to_string());
        let out = client.options().expect("options");
        let v = parse(&out);
        for (key, value) in given.as_object().unwrap() {
            assert_eq!(&v[key], value, "{kind:?}: option {key}");
        }
        // the output is valid input for _new, and gives the same options
        let again = Client::new(kind, Some(&out)).expect("options output is valid input");
        assert_eq!(again.options_value(), v, "{kind:?}: round trip");
        // and the recreated client behaves the same
        again.create("c1", None).expect("create");
    }
    let requests = received(&server);
    assert_eq!(requests.len(), 2);
    for req in &requests {
        assert_eq!(
            header(req, "authorization").as_deref(),
            Some("Bearer tok_all")
        );
        assert_eq!(header(req, "x-runas-user-id").as_deref(), Some("u1"));
        assert_eq!(header(req, "x-one").as_deref(), Some("1"));
        assert_eq!(header(req, "user-agent").as_deref(), Some("ua/1"));
    }
}

#[test]
fn null_option_values_mean_not_set() {
    let server = ok_server();
    let options = json!({
        "secret": SECRET, "baseUrl": server.uri(), "token": null, "host": null,
        "protocol": null, "endpoints": null, "runAsUserId": null, "runAsChildUserEmail": null,
        "timezone": null, "headers": null, "timeout": null, "retries": null, "retryDelay": null,
        "retryTimeout": null, "maxResponseBytes": null, "connectTimeout": null,
        "caCertificatePem": null, "userAgent": null
    });
    let client = Client::conv(&options.to_string());
    let v = client.options_value();
    assert_eq!(v["retries"], json!(3));
    assert_eq!(v["retryDelay"], json!(250));
    assert_eq!(v["headers"], json!({}));
    client.create("c1", None).expect("create");
    let req = only_request(&server);
    assert_eq!(
        header(&req, "authorization"),
        Some(format!("Bearer {SECRET}"))
    );
    assert_eq!(header(&req, "x-timezone"), None);
}

// ---------------------------------------------------------------------------
// extend
// ---------------------------------------------------------------------------

#[test]
fn extend_merges_headers_key_by_key_and_leaves_parent_unchanged() {
    let server = ok_server();
    let parent = Client::conv(&opts(
        &server.uri(),
        json!({"headers": {"x-a": "1", "x-b": "2"}}),
    ));
    let child = parent
        .extend(Some(r#"{"headers": {"x-b": "3", "x-c": "4"}}"#))
        .expect("extend");
    child.create("c1", None).expect("child create");
    parent.create("c1", None).expect("parent create");
    let requests = received(&server);
    assert_eq!(requests.len(), 2);
    let (c, p) = (&requests[0], &requests[1]);
    assert_eq!(header(c, "x-a").as_deref(), Some("1"));
    assert_eq!(header(c, "x-b").as_deref(), Some("3"));
    assert_eq!(header(c, "x-c").as_deref(), Some("4"));
    assert_eq!(header(p, "x-a").as_deref(), Some("1"));
    assert_eq!(header(p, "x-b").as_deref(), Some("2"));
    assert_eq!(header(p, "x-c"), None, "parent must be unchanged");
    assert_eq!(
        child.options_value()["headers"],
        json!({"x-a": "1", "x-b": "3", "x-c": "4"})
    );
    assert_eq!(
        parent.options_value()["headers"],
        json!({"x-a": "1", "x-b": "2"})
    );
}

#[test]
fn extend_merges_endpoints_key_by_key() {
    let server = ok_server();
    let parent = Client::conv(&opts(
        &server.uri(),
        json!({"endpoints": {
            "/api/v1/conversation/c1/session/create": "/p/one",
            "/api/v1/conversation/c2/session/create": "/p/two"
        }}),
    ));
    let child = parent
        .extend(Some(
            &json!({"endpoints": {
                "/api/v1/conversation/c2/session/create": "/c/two",
                "/api/v1/conversation/c3/session/create": "/c/three"
            }})
            .to_string(),
        ))
        .expect("extend");
    for id in ["c1", "c2", "c3"] {
        child.create(id, None).expect("child create");
    }
    for id in ["c1", "c2", "c3"] {
        parent.create(id, None).expect("parent create");
    }
    let paths: Vec<String> = received(&server).iter().map(raw_path).collect();
    assert_eq!(
        paths,
        vec![
            "/p/one".to_string(),
            "/c/two".to_string(),
            "/c/three".to_string(),
            "/p/one".to_string(),
            "/p/two".to_string(),
            "/api/v1/conversation/c3/session/create".to_string(),
        ]
    );
}

#[test]
fn extend_overrides_scalars() {
    let first = ok_server();
    let second = ok_server();
    let parent = Client::bot(&opts(
        &first.uri(),
        json!({"timezone": "UTC", "runAsUserId": "u_parent"}),
    ));
    let child = parent
        .extend(Some(
            &json!({
                "baseUrl": second.uri(),
                "secret": "sk_child",
                "timezone": "Europe/Paris",
            })
            .to_string(),
        ))
        .expect("extend");
    child.create("b1", None).expect("child create");
    parent.create("b1", None).expect("parent create");

    let c = only_request(&second);
    assert_eq!(
        header(&c, "authorization").as_deref(),
        Some("Bearer sk_child")
    );
    assert_eq!(header(&c, "x-timezone").as_deref(), Some("Europe/Paris"));
    assert_eq!(header(&c, "x-runas-user-id").as_deref(), Some("u_parent"));
    assert_eq!(
        raw_path(&c),
        "/api/v1/bot/b1/session/create",
        "bot stays bot"
    );

    let p = only_request(&first);
    assert_eq!(
        header(&p, "authorization"),
        Some(format!("Bearer {SECRET}"))
    );
    assert_eq!(header(&p, "x-timezone").as_deref(), Some("UTC"));
}

#[test]
fn extend_with_token_overrides_parent_secret() {
    let server = ok_server();
    let parent = Client::conv(&opts(&server.uri(), json!({})));
    let child = parent
        .extend(Some(r#"{"token":"tok_child"}"#))
        .expect("extend");
    child.create("c1", None).expect("create");
    assert_eq!(
        header(&only_request(&server), "authorization").as_deref(),
        Some("Bearer tok_child")
    );
}

#[test]
fn extend_null_resets_scalar_and_removes_header_key() {
    let server = ok_server();
    let parent = Client::conv(&opts(
        &server.uri(),
        json!({"timezone": "UTC", "retries": 1, "headers": {"x-keep": "k", "x-drop": "d"}}),
    ));
    let child = parent
        .extend(Some(
            r#"{"timezone": null, "retries": null, "headers": {"x-drop": null}}"#,
        ))
        .expect("extend");
    child.create("c1", None).expect("create");
    let req = only_request(&server);
    assert_eq!(header(&req, "x-timezone"), None);
    assert_eq!(header(&req, "x-keep").as_deref(), Some("k"));
    assert_eq!(header(&req, "x-drop"), None);
    let v = child.options_value();
    assert_eq!(v["retries"], json!(3), "null resets to the default");
    assert_eq!(v["headers"], json!({"x-keep": "k"}));
}

#[test]
fn extend_with_empty_object_copies_everything() {
    let server = ok_server();
    let parent = Client::conv(&opts(
        &server.uri(),
        json!({"timezone": "UTC", "retries": 1}),
    ));
    let child = parent.extend(Some("{}")).expect("extend");
    assert_eq!(child.options_value(), parent.options_value());
}

#[test]
fn derived_client_works_after_the_parent_is_freed() {
    for kind in Kind::ALL {
        let server = ok_server();
        let parent = Client::of(kind, &opts(&server.uri(), json!({"headers": {"x-p": "1"}})));
        let child = parent
            .extend(Some(r#"{"timezone":"UTC"}"#))
            .expect("extend");
        drop(parent);
        child
            .create("id1", None)
            .expect("child create after parent free");
        let req = only_request(&server);
        assert_eq!(raw_path(&req), kind.create_path("id1"));
        assert_eq!(header(&req, "x-p").as_deref(), Some("1"));
        assert_eq!(header(&req, "x-timezone").as_deref(), Some("UTC"));
    }
}

#[test]
fn parent_works_after_the_derived_client_is_freed() {
    let server = ok_server();
    let parent = Client::bot(&opts(&server.uri(), json!({})));
    let child = parent
        .extend(Some(r#"{"timezone":"UTC"}"#))
        .expect("extend");
    child.create("b1", None).expect("child");
    drop(child);
    parent.create("b1", None).expect("parent after child free");
    let requests = received(&server);
    assert_eq!(requests.len(), 2);
    assert_eq!(header(&requests[1], "x-timezone"), None);
}

#[test]
fn extend_chain_accumulates() {
    let server = ok_server();
    let c1 = Client::conv(&opts(&server.uri(), json!({"headers": {"x-1": "a"}})));
    let c2 = c1
        .extend(Some(r#"{"headers": {"x-2": "b"}, "timezone": "UTC"}"#))
        .expect("extend 2");
    let c3 = c2
        .extend(Some(
            r#"{"headers": {"x-1": "z", "x-3": "c"}, "runAsUserId": "u3"}"#,
        ))
        .expect("extend 3");
    drop(c2);
    drop(c1);
    c3.create("c1", None).expect("create");
    let req = only_request(&server);
    assert_eq!(header(&req, "x-1").as_deref(), Some("z"));
    assert_eq!(header(&req, "x-2").as_deref(), Some("b"));
    assert_eq!(header(&req, "x-3").as_deref(), Some("c"));
    assert_eq!(header(&req, "x-timezone").as_deref(), Some("UTC"));
    assert_eq!(header(&req, "x-runas-user-id").as_deref(), Some("u3"));
    assert_eq!(
        header(&req, "authorization"),
        Some(format!("Bearer {SECRET}"))
    );
}

#[test]
fn extend_host_and_protocol_fold_into_base_url() {
    let server = ok_server();
    let parent = Client::conv(
        &json!({"secret": SECRET, "baseUrl": "https://unreachable.invalid/"}).to_string(),
    );
    let child = parent
        .extend(Some(
            &json!({"host": server.address().to_string(), "protocol": "http:"}).to_string(),
        ))
        .expect("extend");
    child.create("c1", None).expect("create");
    assert_eq!(received(&server).len(), 1);
    assert_eq!(
        child.options_value()["baseUrl"],
        json!(format!("http://{}/", server.address()))
    );
    assert_eq!(
        parent.options_value()["baseUrl"],
        json!("https://unreachable.invalid/")
    );
}

// ---------------------------------------------------------------------------
// _fetch
// ---------------------------------------------------------------------------

#[test]
fn fetch_is_get_by_default_without_body_or_content_type() {
    for kind in Kind::ALL {
        let server = ok_server();
        let client = Client::of(kind, &opts(&server.uri(), json!({"timezone": "UTC"})));
        let out = client.fetch("/api/v1/bot/list", Some("{}")).expect("fetch");
        assert_eq!(parse(&out), ok_body());
        let req = only_request(&server);
        assert_eq!(req.method.as_str(), "GET");
        assert_eq!(raw_path(&req), "/api/v1/bot/list");
        assert!(req.body.is_empty(), "GET has no body");
        assert_eq!(header(&req, "content-type"), None);
        assert_eq!(
            header(&req, "authorization"),
            Some(format!("Bearer {SECRET}"))
        );
        assert_eq!(header(&req, "x-timezone").as_deref(), Some("UTC"));
    }
}

#[test]
fn fetch_relative_path_resolves_against_base_path() {
    let server = ok_server();
    let client = Client::conv(&opts(&format!("{}/root/dir/", server.uri()), json!({})));
    client.fetch("v1/thing", Some("{}")).expect("fetch");
    assert_eq!(raw_path(&only_request(&server)), "/root/dir/v1/thing");
}

#[test]
fn fetch_query_encoding() {
    let server = ok_server();
    let client = Client::conv(&opts(&server.uri(), json!({})));
    let options = r#"{"query": {
        "a": 1,
        "skip": null,
        "t": true,
        "f": false,
        "e": "",
        "s": "x y&z=1",
        "o": {"p": 1, "q": null, "r": "v w", "b": true},
        "ids": ["x", null, "y"],
        "deep": {"k": {"z": 1}},
        "n": 1.5
    }}"#;
    client.fetch("/api/v1/list", Some(options)).expect("fetch");
    let req = only_request(&server);
    assert_eq!(req.method.as_str(), "GET");
    assert_eq!(raw_path(&req), "/api/v1/list");
    assert_eq!(
        req.url.query(),
        Some(
            "a=1&t=true&f=false&e=&s=x+y%26z%3D1&o.p=1&o.r=v+w&o.b=true\
             &ids.0=x&ids.2=y&deep.k=%7B%22z%22%3A1%7D&n=1.5"
        )
    );
}

#[test]
fn fetch_empty_query_adds_nothing() {
    let server = ok_server();
    let client = Client::conv(&opts(&server.uri(), json!({})));
    client
        .fetch("/api/v1/list", Some(r#"{"query": {"gone": null}}"#))
        .expect("fetch");
    let req = only_request(&server);
    assert!(
        req.url.query().map_or(true, str::is_empty),
        "query: {:?}",
        req.url.query()
    );
}

#[test]
fn fetch_record_posts_json() {
    for key in ["record", "data"] {
        let server = ok_server();
        let client = Client::bot(&opts(&server.uri(), json!({})));
        let options = json!({ key: {"name": "x", "n": [1, 2]} }).to_string();
        client
            .fetch("/api/v1/thing/create", Some(&options))
            .expect("fetch");
        let req = only_request(&server);
        assert_eq!(req.method.as_str(), "POST", "{key}");
        assert_eq!(
            header(&req, "content-type").as_deref(),
            Some("application/json"),
            "{key}"
        );
        assert_eq!(body_json(&req), json!({"name": "x", "n": [1, 2]}), "{key}");
    }
}

#[test]
fn fetch_method_option() {
    let server = ok_server();
    let client = Client::conv(&opts(&server.uri(), json!({})));
    client
        .fetch("/api/v1/thing/1", Some(r#"{"method":"DELETE"}"#))
        .expect("delete");
    client
        .fetch(
            "/api/v1/thing/1",
            Some(r#"{"method":"PUT","record":{"a":1}}"#),
        )
        .expect("put");
    let requests = received(&server);
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].method.as_str(), "DELETE");
    assert!(requests[0].body.is_empty());
    assert_eq!(requests[1].method.as_str(), "PUT");
    assert_eq!(body_json(&requests[1]), json!({"a": 1}));
}

#[test]
fn fetch_buffer_posts_octet_stream() {
    let server = ok_server();
    let client = Client::conv(&opts(&server.uri(), json!({})));
    let bytes: &[u8] = b"hello\x00\xff";
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    client
        .fetch("/api/v1/upload", Some(&json!({"buffer": b64}).to_string()))
        .expect("fetch");
    let req = only_request(&server);
    assert_eq!(req.method.as_str(), "POST");
    assert_eq!(
        header(&req, "content-type").as_deref(),
        Some("application/octet-stream")
    );
    assert_eq!(req.body, bytes);
}

#[test]
fn fetch_file_posts_multipart() {
    let server = ok_server();
    let client = Client::conv(&opts(&server.uri(), json!({})));
    let options = json!({"file": {"name": "a.txt", "type": "text/plain", "data": "aGVsbG8="}});
    client
        .fetch("/api/v1/file/upload", Some(&options.to_string()))
        .expect("fetch");
    let req = only_request(&server);
    assert_eq!(req.method.as_str(), "POST");
    let ct = header(&req, "content-type").expect("content-type");
    assert!(ct.starts_with("multipart/form-data; boundary="), "{ct}");
    let body = String::from_utf8_lossy(&req.body).to_ascii_lowercase();
    assert!(body.contains("name=\"file\""), "{body}");
    assert!(body.contains("filename=\"a.txt\""), "{body}");
    assert!(body.contains("content-type: text/plain"), "{body}");
    assert!(
        body.contains("hello") || body.contains("agvsbg8="),
        "{body}"
    );
}

#[test]
fn fetch_external_drops_credentials_and_runas_but_keeps_timezone() {
    let server = ok_server();
    let client = Client::conv(&opts(
        &server.uri(),
        json!({"runAsUserId": "u1", "runAsChildUserEmail": "c@example.com", "timezone": "UTC",
               "headers": {"x-extra": "e"}}),
    ));
    client
        .fetch("/hook", Some(r#"{"external": true}"#))
        .expect("fetch");
    let req = only_request(&server);
    assert_eq!(header(&req, "authorization"), None);
    assert_eq!(header(&req, "x-runas-user-id"), None);
    assert_eq!(header(&req, "x-runas-child-user-email"), None);
    assert_eq!(header(&req, "x-timezone").as_deref(), Some("UTC"));
    assert_eq!(header(&req, "x-extra").as_deref(), Some("e"));
}

#[test]
fn fetch_external_false_keeps_credentials() {
    let server = ok_server();
    let client = Client::conv(&opts(&server.uri(), json!({"runAsUserId": "u1"})));
    client
        .fetch("/hook", Some(r#"{"external": false}"#))
        .expect("fetch");
    let req = only_request(&server);
    assert_eq!(
        header(&req, "authorization"),
        Some(format!("Bearer {SECRET}"))
    );
    assert_eq!(header(&req, "x-runas-user-id").as_deref(), Some("u1"));
}

#[test]
fn fetch_endpoint_name_is_looked_up_in_endpoints() {
    let server = ok_server();
    let client = Client::conv(&opts(
        &server.uri(),
        json!({"endpoints": {"myEndpoint": "/mapped/path", "/direct": "/direct/mapped"}}),
    ));
    client
        .fetch("/original/path", Some(r#"{"endpoint": "myEndpoint"}"#))
        .expect("endpoint fetch");
    client.fetch("/direct", Some("{}")).expect("path fetch");
    client
        .fetch("/unmapped", Some(r#"{"endpoint": "nope"}"#))
        .expect("unknown endpoint name falls back to the path");
    let paths: Vec<String> = received(&server).iter().map(raw_path).collect();
    assert_eq!(paths, vec!["/mapped/path", "/direct/mapped", "/unmapped"]);
}

#[test]
fn fetch_headers_override_everything() {
    let server = ok_server();
    let client = Client::conv(&opts(
        &server.uri(),
        json!({"timezone": "UTC", "runAsUserId": "u1", "headers": {"x-h": "opt"}}),
    ));
    let options = json!({
        "record": {"a": 1},
        "headers": {
            "Authorization": "Bearer from-fetch",
            "CONTENT-TYPE": "application/vnd.custom+json",
            "X-Timezone": "Asia/Tokyo",
            "x-RunAs-User-Id": "u_fetch",
            "X-H": "fetch"
        }
    });
    client
        .fetch("/api/v1/x", Some(&options.to_string()))
        .expect("fetch");
    let req = only_request(&server);
    for (name, value) in [
        ("authorization", "Bearer from-fetch"),
        ("content-type", "application/vnd.custom+json"),
        ("x-timezone", "Asia/Tokyo"),
        ("x-runas-user-id", "u_fetch"),
        ("x-h", "fetch"),
    ] {
        assert_eq!(header_count(&req, name), 1, "{name}");
        assert_eq!(header(&req, name).as_deref(), Some(value), "{name}");
    }
}

#[test]
fn fetch_non_json_success_is_base64_with_headers() {
    let server = start_server();
    let bytes: &[u8] = b"hello \x00\xff world";
    mount(
        &server,
        Mock::given(any()).respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-extra", "yes")
                .set_body_raw(bytes.to_vec(), "application/pdf"),
        ),
    );
    let client = Client::conv(&opts(&server.uri(), json!({})));
    let out = parse(&client.fetch("/files/1", Some("{}")).expect("fetch"));
    let obj = out.as_object().expect("object");
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, vec!["data", "encoding", "headers"]);
    assert_eq!(out["encoding"], json!("base64"));
    let data = base64::engine::general_purpose::STANDARD
        .decode(out["data"].as_str().expect("data is a string"))
        .expect("data is base64");
    assert_eq!(data, bytes);
    assert_eq!(out["headers"]["content-type"], json!("application/pdf"));
    assert_eq!(out["headers"]["x-extra"], json!("yes"));
}

#[test]
fn fetch_json_content_type_variants_parse() {
    for ct in [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
    ] {
        let server = start_server();
        mount(
            &server,
            Mock::given(any())
                .respond_with(ResponseTemplate::new(200).set_body_raw(r#"{"ok":true}"#, ct)),
        );
        let client = Client::conv(&opts(&server.uri(), json!({})));
        let out = client.fetch("/x", Some("{}")).expect("fetch");
        assert_eq!(parse(&out), json!({"ok": true}), "{ct}");
        let out = client.create("c1", None).expect("create");
        assert_eq!(parse(&out), json!({"ok": true}), "{ct}");
    }
}

#[test]
fn fetch_keeps_api_prefix_for_other_hosts() {
    let server = ok_server();
    let client = Client::bot(&opts(&server.uri(), json!({})));
    client.fetch("/api/v1/usage", Some("{}")).expect("fetch");
    assert_eq!(raw_path(&only_request(&server)), "/api/v1/usage");
}

// ---------------------------------------------------------------------------
// Transport options and threads
// ---------------------------------------------------------------------------

/// A self-signed test root (EC P-256, valid until 2126), generated for
/// these tests only.
const TEST_ROOT_PEM: &str = "-----BEGIN CERTIFICATE-----
MIIBmjCCAUGgAwIBAgIULGgmFLpLV9fOxWqF9/dHpm/KnMQwCgYIKoZIzj0EAwIw
IjEgMB4GA1UEAwwXbGliY2hhdGJvdGtpdCB0ZXN0IHJvb3QwIBcNMjYxMTIxMTU1
MDQ3WhgPMjEyNjEwMjgxNTUwNDdaMCIxIDAeBgNVBAMMF2xpYmNoYXRib3RraXQg
dGVzdCByb290MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE/Si3dPm5uIsLhOTc
jY0RTK6NXOafwVrgZCkpS4/PLP5CTBuZ2GfVCX9pX/0YM4mYAAemVaqMcaZ6tNu3
0LWxcaNTMFEwHQYDVR0OBBYEFJ5LagmTSXvfslTnj6wJ/fyuUukTMB8GA1UdIwQY
MBaAFJ5LagmTSXvfslTnj6wJ/fyuUukTMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZI
zj0EAwIDRwAwRAIgG5nbsOP5LxfU+JSrAgnytFWx8AJJmJ4AogZ6+WMu4lkCIDh6
eFOMsEyWg/Nb2IxtXTbxnNwfyeCoYILpSwQimtj0
-----END CERTIFICATE-----
";

#[test]
fn transport_options_are_accepted_and_requests_still_work() {
    let server = ok_server();
    let client = Client::conv(&opts(
        &server.uri(),
        json!({"caCertificatePem": TEST_ROOT_PEM, "connectTimeout": 2000}),
    ));
    let v = client.options_value();
    assert_eq!(v["caCertificatePem"], json!(TEST_ROOT_PEM));
    assert_eq!(v["connectTimeout"], json!(2000));
    client.create("c1", None).expect("create");
    let child = client
        .extend(Some(r#"{"connectTimeout": 1000}"#))
        .expect("extend transport settings");
    child
        .create("c2", None)
        .expect("create through derived client");
    assert_eq!(received(&server).len(), 2);
}

#[test]
fn one_client_from_many_threads() {
    let server = ok_server();
    let client = Client::bot(&opts(&server.uri(), json!({})));
    std::thread::scope(|scope| {
        for t in 0..8 {
            let client = &client;
            scope.spawn(move || {
                for i in 0..5 {
                    let id = format!("t{t}-{i}");
                    let out = client.create(&id, None).expect("create");
                    assert_eq!(parse(&out), ok_body());
                }
            });
        }
    });
    let mut paths: Vec<String> = received(&server).iter().map(raw_path).collect();
    paths.sort();
    let mut expected: Vec<String> = (0..8)
        .flat_map(|t| (0..5).map(move |i| Kind::Bot.create_path(&format!("t{t}-{i}"))))
        .collect();
    expected.sort();
    assert_eq!(paths, expected);
}

// ---------------------------------------------------------------------------
// _fetch: where Node's fetch decides what goes on the wire
// ---------------------------------------------------------------------------

#[test]
fn fetch_record_wins_over_data_in_either_key_order() {
    for options in [
        r#"{"record": {"from": "record"}, "data": {"from": "data"}}"#,
        r#"{"data": {"from": "data"}, "record": {"from": "record"}}"#,
        r#"{"data": {"from": "data"}, "record": null, "record": {"from": "record"}}"#,
    ] {
        let server = ok_server();
        let client = Client::conv(&opts(&server.uri(), json!({})));
        client
            .fetch("/api/v1/thing/create", Some(options))
            .expect("fetch");
        let req = only_request(&server);
        assert_eq!(body_json(&req), json!({"from": "record"}), "{options}");
    }
}

#[test]
fn fetch_data_is_the_body_when_record_is_null() {
    let server = ok_server();
    let client = Client::conv(&opts(&server.uri(), json!({})));
    client
        .fetch(
            "/api/v1/thing/create",
            Some(r#"{"record": null, "data": {"from": "data"}}"#),
        )
        .expect("fetch");
    assert_eq!(body_json(&only_request(&server)), json!({"from": "data"}));
}

#[test]
fn fetch_file_with_empty_type_is_sent_as_octet_stream() {
    let server = ok_server();
    let client = Client::conv(&opts(&server.uri(), json!({})));
    let options = json!({"file": {"name": "a.bin", "type": "", "data": "aGVsbG8="}});
    client
        .fetch("/api/v1/file/upload", Some(&options.to_string()))
        .expect("an empty type is sent, not refused");
    let req = only_request(&server);
    let ct = header(&req, "content-type").expect("content-type");
    let boundary = ct
        .strip_prefix("multipart/form-data; boundary=")
        .unwrap_or_else(|| panic!("{ct}"));
    let expected = format!(
        "--{boundary}\r\n\
         Content-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n\
         hello\r\n\
         --{boundary}--\r\n"
    );
    assert_eq!(String::from_utf8_lossy(&req.body), expected);
}

#[test]
fn fetch_upper_cases_only_the_methods_fetch_normalises() {
    let cases = [
        ("delete", "DELETE"),
        ("Get", "GET"),
        ("head", "HEAD"),
        ("oPtIoNs", "OPTIONS"),
        ("post", "POST"),
        ("put", "PUT"),
        ("PATCH", "PATCH"),
        ("patch", "patch"),
        ("Patch", "Patch"),
        ("purge", "purge"),
    ];
    for (given, sent) in cases {
        let server = ok_server();
        let client = Client::conv(&opts(&server.uri(), json!({})));
        let options = json!({ "method": given }).to_string();
        // A HEAD answer has no body, so its result is not JSON: only the
        // request matters here.
        let _ = client.fetch("/api/v1/thing/1", Some(&options));
        let req = only_request(&server);
        assert_eq!(req.method.as_str(), sent, "method {given:?}");
    }
}

#[test]
fn fetch_body_with_get_or_head_is_refused_and_nothing_is_sent() {
    let bodies = [
        json!({"record": {"a": 1}}),
        json!({"data": {"a": 1}}),
        json!({"buffer": "aGVsbG8="}),
        json!({"file": {"name": "a.txt", "type": "text/plain", "data": "aGVsbG8="}}),
    ];
    let server = ok_server();
    let client = Client::conv(&opts(&server.uri(), json!({})));
    for method in ["GET", "get", "HEAD", "hEaD"] {
        for body in &bodies {
            let mut options = body.clone();
            options["method"] = json!(method);
            let err = client
                .fetch("/api/v1/thing/1", Some(&options.to_string()))
                .expect_err("a body with GET or HEAD is refused");
            err.assert_is(INVALID_ARGUMENT, "INVALID_ARGUMENT");
            assert!(err.message.contains("body"), "{}", err.message);
        }
    }
    assert!(received(&server).is_empty(), "nothing was sent");
    // The same bodies go out with any other method.
    let mut options = bodies[0].clone();
    options["method"] = json!("delete");
    client
        .fetch("/api/v1/thing/1", Some(&options.to_string()))
        .expect("DELETE with a body");
    assert_eq!(only_request(&server).method.as_str(), "DELETE");
}

#[test]
fn fetch_header_names_differing_in_case_later_wins_across_extend() {
    let server = ok_server();
    let parent = Client::conv(&opts(
        &server.uri(),
        json!({"headers": {"X-Gen": "new", "x-other": "o1"}}),
    ));
    let child = parent
        .extend(Some(
            r#"{"headers": {"x-gen": "extend1", "X-OTHER": "o2"}}"#,
        ))
        .expect("extend 1");
    let grandchild = child
        // The first generation's spelling again: it must not bring the
        // first generation's place back ahead of `x-gen`.
        .extend(Some(r#"{"headers": {"X-Gen": "extend2"}}"#))
        .expect("extend 2");

    grandchild.create("c1", None).expect("create");
    let req = only_request(&server);
    assert_eq!(header(&req, "x-gen").as_deref(), Some("extend2"));
    assert_eq!(header(&req, "x-other").as_deref(), Some("o2"));

    // The call's own headers come last of all, in any letter case.
    block_on(server.reset());
    mount_ok(&server);
    grandchild
        .fetch(
            "/api/v1/thing",
            Some(r#"{"headers": {"x-GEN": "call", "X-Call": "1", "x-call": "2"}}"#),
        )
        .expect("fetch");
    let req = only_request(&server);
    assert_eq!(header(&req, "x-gen").as_deref(), Some("call"));
    assert_eq!(header(&req, "x-call").as_deref(), Some("2"));

    // One entry per header in the effective options, the later spelling.
    let headers = grandchild.options_value()["headers"].clone();
    assert_eq!(headers, json!({"X-OTHER": "o2", "X-Gen": "extend2"}));

    // A `null` removes the header whatever its letter case.
    let removed = grandchild
        .extend(Some(r#"{"headers": {"x-gen": null}}"#))
        .expect("extend 3");
    block_on(server.reset());
    mount_ok(&server);
    removed.create("c1", None).expect("create");
    assert_eq!(header(&only_request(&server), "x-gen"), None);
}

#[test]
fn error_body_with_a_bom_keeps_the_servers_code_and_message() {
    for kind in Kind::ALL {
        let server = start_server();
        let mut body = b"\xef\xbb\xbf".to_vec();
        body.extend_from_slice(br#"{"code":"BOM_CODE","message":"behind a BOM"}"#);
        mount(
            &server,
            Mock::given(any())
                .respond_with(ResponseTemplate::new(400).set_body_raw(body, "application/json")),
        );
        let client = Client::of(kind, &opts(&server.uri(), json!({"retries": 0})));
        let err = client.create("c1", None).expect_err("400");
        err.assert_is(API, "BOM_CODE");
        assert_eq!(
            (err.message.as_str(), err.http_status),
            ("behind a BOM", 400)
        );
        let err = client.fetch("/api/v1/x", None).expect_err("400");
        err.assert_is(API, "BOM_CODE");
        assert_eq!(err.message, "behind a BOM");
    }
}
