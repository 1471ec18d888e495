//! The `cache` fetch option (`ResponsePromise.cache(key)`): per handle,
//! successes only, keyed by (key, method, URL), at most 1,000 entries with
//! the least recently used dropped first; a handle made by `extend` starts
//! empty; a stream refuses it.

mod common;

use common::*;
use serde_json::json;
use wiremock::matchers::any;
use wiremock::{Mock, ResponseTemplate};

fn fetch(client: &Client, path: &str, options: serde_json::Value) -> Result<String, ErrInfo> {
    client.fetch(path, Some(&options.to_string()))
}

#[test]
fn the_same_key_method_and_url_is_answered_from_the_store() {
    let server = ok_server();
    let client = Client::conv(&opts(&server.uri(), json!({})));
    let first = fetch(&client, "/api/v1/a", json!({"cache": "k"})).unwrap();
    let again = fetch(&client, "/api/v1/a", json!({"cache": "k"})).unwrap();
    assert_eq!(first, again);
    assert_eq!(received(&server).len(), 1);
    // Another key, another URL, another method: each sent.
    fetch(&client, "/api/v1/a", json!({"cache": "other"})).unwrap();
    fetch(
        &client,
        "/api/v1/a",
        json!({"cache": "k", "query": {"p": 1}}),
    )
    .unwrap();
    fetch(&client, "/api/v1/a", json!({"cache": "k", "method": "PUT"})).unwrap();
    // Without `cache`: always sent.
    fetch(&client, "/api/v1/a", json!({})).unwrap();
    assert_eq!(received(&server).len(), 5);
}

#[test]
fn failures_are_not_stored() {
    let server = start_server();
    mount(
        &server,
        Mock::given(any())
            .respond_with(ResponseTemplate::new(500).set_body_json(json!({"message": "no"})))
            .up_to_n_times(1),
    );
    mount_ok(&server);
    let client = Client::conv(&opts(&server.uri(), json!({"retries": 0})));
    fetch(&client, "/api/v1/a", json!({"cache": "k"})).unwrap_err();
    fetch(&client, "/api/v1/a", json!({"cache": "k"})).unwrap();
    fetch(&client, "/api/v1/a", json!({"cache": "k"})).unwrap();
    assert_eq!(received(&server).len(), 2);
}

#[test]
fn a_handle_made_by_extend_starts_empty() {
    let server = ok_server();
    let client = Client::conv(&opts(&server.uri(), json!({})));
    fetch(&client, "/api/v1/a", json!({"cache": "k"})).unwrap();
    let derived = client.extend(Some("{}")).unwrap();
    fetch(&derived, "/api/v1/a", json!({"cache": "k"})).unwrap();
    fetch(&derived, "/api/v1/a", json!({"cache": "k"})).unwrap();
    fetch(&client, "/api/v1/a", json!({"cache": "k"})).unwrap();
    assert_eq!(received(&server).len(), 2);
}

#[test]
fn at_most_1000_entries_least_recently_used_out_first() {
    let server = ok_server();
    let client = Client::conv(&opts(&server.uri(), json!({})));
    for i in 0..1000 {
        fetch(&client, "/api/v1/a", json!({"cache": format!("k{i}")})).unwrap();
    }
    // k0 used again: now k1 is the least recently used.
    fetch(&client, "/api/v1/a", json!({"cache": "k0"})).unwrap();
    assert_eq!(received(&server).len(), 1000);
    fetch(&client, "/api/v1/a", json!({"cache": "k1000"})).unwrap();
    fetch(&client, "/api/v1/a", json!({"cache": "k0"})).unwrap();
    assert_eq!(received(&server).len(), 1001, "k0 was dropped");
    fetch(&client, "/api/v1/a", json!({"cache": "k1"})).unwrap();
    assert_eq!(received(&server).len(), 1002, "k1 was kept");
}

#[test]
fn a_stream_refuses_cache() {
    let server = ok_server();
    let client = Client::conv(&opts(&server.uri(), json!({})));
    let path = c("/api/v1/a");
    let options = c(r#"{"cache":"k"}"#);
    let mut err = std::ptr::null_mut();
    unsafe extern "C" fn on_item(
        _: *mut std::os::raw::c_void,
        _: *const std::os::raw::c_char,
    ) -> i32 {
        0
    }
    // SAFETY: live handle and C strings.
    let status = unsafe {
        chatbotkit::cbk_conversation_session_client_fetch_stream(
            client.conv_ptr(),
            path.as_ptr(),
            options.as_ptr(),
            Some(on_item),
            std::ptr::null_mut(),
            &mut err,
        )
    };
    assert_eq!(status as i32, INVALID_ARGUMENT);
    // SAFETY: the error the call stored, freed by take_error.
    let err = unsafe { take_error(err) };
    assert!(err.message.contains("`cache`"), "{}", err.message);
    assert_eq!(received(&server).len(), 0);
}
