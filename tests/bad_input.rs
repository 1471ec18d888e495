//! Bad input through the C ABI: NULL pointers, invalid UTF-8, bad JSON,
//! wrong option types, out-of-range values, header injection, and the
//! out-parameter and freeing rules. No message may ever show the secret
//! (checked for every error by `common::take_error`).

mod common;

use std::ffi::CStr;
use std::ptr;

use chatbotkit::cbk_error;
use common::*;
use serde_json::{json, Value};

/// Runs a raw call that must fail and returns its (freed) error.
fn must_fail<T>(call: impl FnOnce(*mut *mut cbk_error) -> *mut T) -> ErrInfo {
    let mut err: *mut cbk_error = ptr::null_mut();
    let out = call(&mut err);
    assert!(out.is_null(), "the call must fail and return NULL");
    // SAFETY: a failed call stored a fresh error that we own.
    unsafe { take_error(err) }
}

fn assert_names(err: &ErrInfo, status: i32, name: &str) {
    assert_eq!(
        err.status_name(),
        status_name(status),
        "expected {} naming `{name}`, got {err:?}",
        status_name(status)
    );
    let code = status_name(status);
    assert_eq!(err.code, code, "{err:?}");
    assert_eq!(err.http_status, 0, "{err:?}");
    assert!(
        err.message.contains(name),
        "message must name `{name}`: {:?}",
        err.message
    );
}

fn new_err(kind: Kind, options: &str) -> ErrInfo {
    match Client::new(kind, Some(options)) {
        Ok(_) => panic!("{kind:?}: options {options} must be refused"),
        Err(e) => e,
    }
}

// ---------------------------------------------------------------------------
// NULL arguments
// ---------------------------------------------------------------------------

#[test]
fn null_client_is_refused_everywhere() {
    let opts_c = c("{}");
    let id = c("id1");
    let path = c("/x");

    let errors = vec![
        // SAFETY: NULL handles are the bad input under test; every other
        // argument is a valid C string and `e` a valid out-pointer.
        must_fail(|e| unsafe {
            chatbotkit::cbk_conversation_session_client_extend(ptr::null_mut(), opts_c.as_ptr(), e)
        }),
        // SAFETY: as above.
        must_fail(|e| unsafe {
            chatbotkit::cbk_bot_session_client_extend(ptr::null_mut(), opts_c.as_ptr(), e)
        }),
        // SAFETY: as above.
        must_fail(|e| unsafe {
            chatbotkit::cbk_conversation_session_client_create(
                ptr::null_mut(),
                id.as_ptr(),
                ptr::null(),
                e,
            )
        }),
        // SAFETY: as above.
        must_fail(|e| unsafe {
            chatbotkit::cbk_bot_session_client_create(ptr::null_mut(), id.as_ptr(), ptr::null(), e)
        }),
        // SAFETY: as above.
        must_fail(|e| unsafe {
            chatbotkit::cbk_conversation_session_client_fetch(
                ptr::null_mut(),
                path.as_ptr(),
                opts_c.as_ptr(),
                e,
            )
        }),
        // SAFETY: as above.
        must_fail(|e| unsafe {
            chatbotkit::cbk_bot_session_client_fetch(
                ptr::null_mut(),
                path.as_ptr(),
                opts_c.as_ptr(),
                e,
            )
        }),
        // SAFETY: as above.
        must_fail(|e| unsafe {
            chatbotkit::cbk_conversation_session_client_options(ptr::null_mut(), e)
        }),
        // SAFETY: as above.
        must_fail(|e| unsafe { chatbotkit::cbk_bot_session_client_options(ptr::null_mut(), e) }),
    ];
    for err in &errors {
        assert_names(err, INVALID_ARGUMENT, "client");
    }
}

#[test]
fn null_id_and_path_are_refused_and_nothing_is_sent() {
    let server = ok_server();
    let conv = Client::conv(&opts(&server.uri(), json!({})));
    let bot = Client::bot(&opts(&server.uri(), json!({})));
    let request = c("{}");
    let fetch_opts = c("{}");

    // SAFETY: live handles; the NULL id/path is the bad input under test.
    let err = must_fail(|e| unsafe {
        chatbotkit::cbk_conversation_session_client_create(
            conv.conv_ptr(),
            ptr::null(),
            request.as_ptr(),
            e,
        )
    });
    assert_names(&err, INVALID_ARGUMENT, "conversation_id");

    // SAFETY: as above.
    let err = must_fail(|e| unsafe {
        chatbotkit::cbk_bot_session_client_create(bot.bot_ptr(), ptr::null(), request.as_ptr(), e)
    });
    assert_names(&err, INVALID_ARGUMENT, "bot_id");

    // SAFETY: as above.
    let err = must_fail(|e| unsafe {
        chatbotkit::cbk_conversation_session_client_fetch(
            conv.conv_ptr(),
            ptr::null(),
            fetch_opts.as_ptr(),
            e,
        )
    });
    assert_names(&err, INVALID_ARGUMENT, "path");

    // SAFETY: as above.
    let err = must_fail(|e| unsafe {
        chatbotkit::cbk_bot_session_client_fetch(bot.bot_ptr(), ptr::null(), fetch_opts.as_ptr(), e)
    });
    assert_names(&err, INVALID_ARGUMENT, "path");

    assert_eq!(received(&server).len(), 0, "nothing may be sent");
}

#[test]
fn null_request_json_means_empty_object() {
    let server = ok_server();
    for kind in Kind::ALL {
        let client = Client::of(kind, &opts(&server.uri(), json!({})));
        client.create("id1", None).expect("NULL request_json is {}");
    }
    for req in received(&server) {
        assert_eq!(body_text(&req), "{}");
    }
}

/// Whatever NULL options_json means for extend and fetch,
/// either "{}" or a clear INVALID_ARGUMENT naming it is acceptable, a crash
/// or another error is not.
#[test]
fn null_options_for_extend_and_fetch_are_handled() {
    let server = ok_server();
    for kind in Kind::ALL {
        let client = Client::of(kind, &opts(&server.uri(), json!({})));
        match client.extend(None) {
            Ok(child) => assert_eq!(child.options_value(), client.options_value()),
            Err(e) => assert_names(&e, INVALID_ARGUMENT, "options_json"),
        }
        let before = received(&server).len();
        match client.fetch("/api/v1/x", None) {
            Ok(out) => {
                assert_eq!(parse(&out), ok_body());
                let requests = received(&server);
                assert_eq!(requests.len(), before + 1);
                assert_eq!(requests[before].method.as_str(), "GET");
            }
            Err(e) => {
                assert_names(&e, INVALID_ARGUMENT, "options_json");
                assert_eq!(received(&server).len(), before);
            }
        }
    }
}

#[test]
fn free_functions_accept_null() {
    // SAFETY: every free function is documented to accept NULL.
    unsafe {
        chatbotkit::cbk_conversation_session_client_free(ptr::null_mut());
        chatbotkit::cbk_bot_session_client_free(ptr::null_mut());
        chatbotkit::cbk_string_free(ptr::null_mut());
        chatbotkit::cbk_error_free(ptr::null_mut());
    }
}

#[test]
fn error_accessors_survive_null() {
    // SAFETY: NULL is the bad input under test; the library must not crash.
    unsafe {
        let _ = chatbotkit::cbk_error_status(ptr::null());
        let _ = chatbotkit::cbk_error_code(ptr::null());
        let _ = chatbotkit::cbk_error_message(ptr::null());
        assert_eq!(chatbotkit::cbk_error_http_status(ptr::null()), 0);
        let json = chatbotkit::cbk_error_to_json(ptr::null());
        chatbotkit::cbk_string_free(json);
    }
}

// ---------------------------------------------------------------------------
// Invalid UTF-8
// ---------------------------------------------------------------------------

#[test]
fn invalid_utf8_is_refused_naming_the_argument() {
    let server = ok_server();
    for kind in Kind::ALL {
        let err = Client::new_bytes(kind, Some(b"{\"secret\":\"\xff\xfe\"}"))
            .err()
            .expect("invalid UTF-8 options");
        assert_names(&err, INVALID_ARGUMENT, "options_json");

        let client = Client::of(kind, &opts(&server.uri(), json!({})));
        let err = client
            .extend_bytes(Some(b"{\"timezone\":\"\xc3\x28\"}"))
            .err()
            .expect("invalid UTF-8 extend options");
        assert_names(&err, INVALID_ARGUMENT, "options_json");

        let err = client
            .create_bytes(b"id\xff", None)
            .expect_err("invalid UTF-8 id");
        assert_names(&err, INVALID_ARGUMENT, kind.id_arg());

        let err = client
            .create_bytes(b"id1", Some(b"{\"a\":\"\x80\"}"))
            .expect_err("invalid UTF-8 request");
        assert_names(&err, INVALID_ARGUMENT, "request_json");

        let err = client
            .fetch_bytes(b"/x\xff", Some(b"{}"))
            .expect_err("path");
        assert_names(&err, INVALID_ARGUMENT, "path");

        let err = client
            .fetch_bytes(b"/x", Some(b"{\"method\":\"\xff\"}"))
            .expect_err("fetch options");
        assert_names(&err, INVALID_ARGUMENT, "options_json");
    }
    assert_eq!(received(&server).len(), 0, "nothing may be sent");
}

// ---------------------------------------------------------------------------
// Not JSON, not an object
// ---------------------------------------------------------------------------

const NOT_JSON: &[&str] = &["{not json", "", "   ", "{\"a\":1", "{'a':1}", "{\"a\":1} x"];
const NOT_OBJECT: &[&str] = &["[1]", "\"str\"", "42", "null", "true", "[]"];

#[test]
fn options_that_are_not_a_json_object_are_refused() {
    for kind in Kind::ALL {
        let parent = Client::of(kind, "{}");
        for text in NOT_JSON.iter().chain(NOT_OBJECT) {
            let err = new_err(kind, text);
            err.assert_is(INVALID_JSON, "INVALID_JSON");
            assert_eq!(err.http_status, 0);
            let err = parent
                .extend(Some(text))
                .err()
                .unwrap_or_else(|| panic!("extend {text:?} must be refused"));
            err.assert_is(INVALID_JSON, "INVALID_JSON");
        }
    }
}

#[test]
fn request_and_fetch_options_that_are_not_a_json_object_are_refused() {
    let server = ok_server();
    for kind in Kind::ALL {
        let client = Client::of(kind, &opts(&server.uri(), json!({})));
        for text in NOT_JSON.iter().chain(NOT_OBJECT) {
            let err = client
                .create("id1", Some(text))
                .expect_err("request must be an object");
            err.assert_is(INVALID_JSON, "INVALID_JSON");
            let err = client.fetch("/x", Some(text)).expect_err("fetch options");
            err.assert_is(INVALID_JSON, "INVALID_JSON");
        }
    }
    assert_eq!(received(&server).len(), 0, "nothing may be sent");
}

// ---------------------------------------------------------------------------
// Wrong types, unknown keys, fetchFn
// ---------------------------------------------------------------------------

fn wrong_types() -> Vec<(&'static str, Value)> {
    vec![
        ("secret", json!(12)),
        ("secret", json!([SECRET])),
        ("token", json!(true)),
        ("baseUrl", json!(12)),
        ("host", json!(12)),
        ("protocol", json!(["http:"])),
        ("endpoints", json!("x")),
        ("endpoints", json!({"/a": 1})),
        ("runAsUserId", json!(1)),
        ("runAsChildUserEmail", json!({})),
        ("timezone", json!(1)),
        ("headers", json!("x")),
        ("headers", json!(["a", "b"])),
        ("headers", json!({"x-a": 1})),
        ("headers", json!({"x-a": {"b": "c"}})),
        ("timeout", json!("100")),
        ("retries", json!("3")),
        ("retries", json!(true)),
        ("retryDelay", json!("250")),
        ("retryTimeout", json!("true")),
        ("retryTimeout", json!(1)),
        ("maxResponseBytes", json!("1")),
        ("connectTimeout", json!("1")),
        ("caCertificatePem", json!(1)),
        ("userAgent", json!(1)),
    ]
}

#[test]
fn each_option_with_a_wrong_type_is_refused_naming_it() {
    for kind in Kind::ALL {
        let parent = Client::of(kind, &json!({"secret": SECRET}).to_string());
        for (key, value) in wrong_types() {
            let mut options = json!({"secret": SECRET});
            options[key] = value.clone();
            let err = new_err(kind, &options.to_string());
            assert_names(&err, INVALID_JSON, key);

            let extension = json!({ key: value }).to_string();
            let err = parent
                .extend(Some(&extension))
                .err()
                .unwrap_or_else(|| panic!("extend {extension} must be refused"));
            assert_names(&err, INVALID_JSON, key);
        }
    }
}

#[test]
fn each_fetch_option_with_a_wrong_type_is_refused_naming_it() {
    let server = ok_server();
    let client = Client::conv(&opts(&server.uri(), json!({})));
    let cases = vec![
        ("method", json!(1)),
        ("headers", json!("x")),
        ("headers", json!({"x-a": 1})),
        ("query", json!("a=1")),
        ("external", json!("yes")),
        ("endpoint", json!(1)),
        ("timeout", json!("1")),
        ("retries", json!("1")),
        ("retryDelay", json!("1")),
        ("retryTimeout", json!("no")),
        ("buffer", json!(12)),
        ("file", json!("x")),
    ];
    for (key, value) in cases {
        let options = json!({ key: value }).to_string();
        let err = client
            .fetch("/x", Some(&options))
            .expect_err(&format!("fetch {options} must be refused"));
        assert_names(&err, INVALID_JSON, key);
    }
    assert_eq!(received(&server).len(), 0, "nothing may be sent");
}

#[test]
fn unknown_keys_are_refused_naming_them() {
    let server = ok_server();
    for kind in Kind::ALL {
        let err = new_err(kind, &json!({"secret": SECRET, "secrett": "x"}).to_string());
        assert_names(&err, INVALID_JSON, "secrett");
        let err = new_err(kind, r#"{"baseURL": "http://127.0.0.1:1"}"#);
        assert_names(&err, INVALID_JSON, "baseURL");

        let client = Client::of(kind, &opts(&server.uri(), json!({})));
        let err = client
            .extend(Some(r#"{"retry": 1}"#))
            .err()
            .expect("unknown extend key");
        assert_names(&err, INVALID_JSON, "retry");

        let err = client
            .fetch("/x", Some(r#"{"bogusOption": 1}"#))
            .expect_err("unknown fetch key");
        assert_names(&err, INVALID_JSON, "bogusOption");
    }
    assert_eq!(received(&server).len(), 0);
}

#[test]
fn unknown_key_with_odd_characters_still_gives_valid_error_json() {
    let err = new_err(Kind::Conversation, r#"{"we\"ird\nkey\u0001": 1}"#);
    err.assert_is(INVALID_JSON, "INVALID_JSON");
    // take_error has parsed cbk_error_to_json and compared it field by field
    assert!(err.json_value().is_object());
}

#[test]
fn fetch_fn_is_refused() {
    let server = ok_server();
    for kind in Kind::ALL {
        for value in [json!("function () {}"), json!({}), json!(true)] {
            let err = new_err(
                kind,
                &json!({"secret": SECRET, "fetchFn": value}).to_string(),
            );
            assert_names(&err, INVALID_JSON, "fetchFn");
        }
        let client = Client::of(kind, &opts(&server.uri(), json!({})));
        let err = client
            .extend(Some(r#"{"fetchFn": "x"}"#))
            .err()
            .expect("extend fetchFn");
        assert_names(&err, INVALID_JSON, "fetchFn");
        let err = client
            .fetch("/x", Some(r#"{"fetchFn": "x"}"#))
            .expect_err("fetch fetchFn");
        assert_names(&err, INVALID_JSON, "fetchFn");
    }
    assert_eq!(received(&server).len(), 0);
}

// ---------------------------------------------------------------------------
// Right type, bad value
// ---------------------------------------------------------------------------

fn out_of_range() -> Vec<(&'static str, Value)> {
    vec![
        ("retries", json!(-1)),
        ("retryDelay", json!(-1)),
        ("timeout", json!(-1)),
        ("timeout", json!(2147483648u64)),
        ("connectTimeout", json!(-5)),
        ("maxResponseBytes", json!(-1)),
        ("baseUrl", json!("not a url")),
        ("protocol", json!("ftp:")),
        ("headers", json!({"bad name": "v"})),
        ("headers", json!({"": "v"})),
        ("headers", json!({"x-a": "v\r\nx-injected: 1"})),
        ("headers", json!({"x-a": "v\n"})),
        ("headers", json!({"x-a": "\rv"})),
        ("timezone", json!("UTC\r\nx-injected: 1")),
        ("runAsUserId", json!("u1\n")),
        ("runAsChildUserEmail", json!("a@example.com\r")),
        ("token", json!("tok_abc\r\nx-injected: 1")),
        (
            "caCertificatePem",
            json!("-----BEGIN CERTIFICATE-----\nnot base64 !!\n-----END CERTIFICATE-----\n"),
        ),
        ("caCertificatePem", json!("not a pem at all")),
    ]
}

#[test]
fn out_of_range_values_are_invalid_arguments_naming_the_key() {
    for kind in Kind::ALL {
        let parent = Client::of(kind, &json!({"secret": SECRET}).to_string());
        for (key, value) in out_of_range() {
            let options = json!({"secret": SECRET, key: value.clone()}).to_string();
            let err = new_err(kind, &options);
            assert_names(&err, INVALID_ARGUMENT, key);

            let extension = json!({ key: value }).to_string();
            let err = parent
                .extend(Some(&extension))
                .err()
                .unwrap_or_else(|| panic!("extend {extension} must be refused"));
            assert_names(&err, INVALID_ARGUMENT, key);
        }
    }
}

#[test]
fn largest_timeout_is_accepted() {
    let client = Client::conv(&json!({"timeout": 2147483647u64, "retries": 0}).to_string());
    assert_eq!(client.options_value()["timeout"], json!(2147483647u64));
}

#[test]
fn secret_with_a_line_break_is_refused_without_showing_it() {
    for bad in [
        format!("{SECRET}\n"),
        format!("{SECRET}\r\nx-injected: 1"),
        format!("\r{SECRET}"),
    ] {
        for kind in Kind::ALL {
            // take_error asserts the secret is in neither message nor JSON
            let err = new_err(kind, &json!({"secret": bad}).to_string());
            assert_names(&err, INVALID_ARGUMENT, "secret");

            let parent = Client::of(kind, "{}");
            let err = parent
                .extend(Some(&json!({"secret": bad}).to_string()))
                .err()
                .expect("extend with a bad secret");
            assert_names(&err, INVALID_ARGUMENT, "secret");
        }
    }
}

#[test]
fn other_errors_never_show_the_secret() {
    // A valid secret next to a bad value: the message names the bad key only.
    for (key, value) in out_of_range().into_iter().chain(wrong_types()) {
        if key == "secret" {
            continue;
        }
        let err = new_err(
            Kind::Bot,
            &json!({"secret": SECRET, "token": SECRET, key: value}).to_string(),
        );
        assert!(!err.message.contains(SECRET_MARKER), "{err:?}");
    }
    // The secret placed where another value belongs.
    let err = new_err(
        Kind::Conversation,
        &json!({"timezone": [SECRET]}).to_string(),
    );
    assert!(!err.message.contains(SECRET_MARKER), "{err:?}");
}

#[test]
fn fetch_out_of_range_values_are_invalid_arguments() {
    let server = ok_server();
    let client = Client::conv(&opts(&server.uri(), json!({})));
    for (key, value) in [
        ("headers", json!({"x-a": "v\r\nx-injected: 1"})),
        ("headers", json!({"bad name": "v"})),
        ("timeout", json!(-1)),
        ("retries", json!(-1)),
        ("retryDelay", json!(-1)),
    ] {
        let options = json!({ key: value }).to_string();
        let err = client
            .fetch("/x", Some(&options))
            .expect_err(&format!("fetch {options} must be refused"));
        assert_names(&err, INVALID_ARGUMENT, key);
    }
    assert_eq!(received(&server).len(), 0, "nothing may be sent");
}

// ---------------------------------------------------------------------------
// Out-parameter rules
// ---------------------------------------------------------------------------

/// A real error object, for use as a sentinel in `*error`.
fn some_error() -> *mut cbk_error {
    let bad = c("{bad json");
    let mut err: *mut cbk_error = ptr::null_mut();
    // SAFETY: valid C string and out-pointer.
    let h = unsafe { chatbotkit::cbk_conversation_session_client_new(bad.as_ptr(), &mut err) };
    assert!(h.is_null() && !err.is_null());
    err
}

#[test]
fn error_out_param_is_untouched_on_success() {
    let server = ok_server();
    let sentinel = some_error();
    let options = c(&opts(&server.uri(), json!({})));
    let ext = c(r#"{"timezone":"UTC"}"#);
    let id = c("id1");
    let path = c("/api/v1/x");
    let fetch_opts = c("{}");
    let mut err = sentinel;

    // SAFETY: valid C strings, `err` a valid out-pointer holding a live
    // error the library must neither read nor replace; every returned
    // value is freed once.
    unsafe {
        let conv = chatbotkit::cbk_conversation_session_client_new(options.as_ptr(), &mut err);
        assert!(!conv.is_null());
        assert_eq!(err, sentinel, "new touched *error");
        let bot = chatbotkit::cbk_bot_session_client_new(options.as_ptr(), &mut err);
        assert!(!bot.is_null());
        assert_eq!(err, sentinel, "bot new touched *error");

        let child =
            chatbotkit::cbk_conversation_session_client_extend(conv, ext.as_ptr(), &mut err);
        assert!(!child.is_null());
        assert_eq!(err, sentinel, "extend touched *error");
        let bot_child = chatbotkit::cbk_bot_session_client_extend(bot, ext.as_ptr(), &mut err);
        assert!(!bot_child.is_null());
        assert_eq!(err, sentinel, "bot extend touched *error");

        let out = chatbotkit::cbk_conversation_session_client_create(
            child,
            id.as_ptr(),
            ptr::null(),
            &mut err,
        );
        assert!(!out.is_null());
        assert_eq!(err, sentinel, "create touched *error");
        chatbotkit::cbk_string_free(out);

        let out =
            chatbotkit::cbk_bot_session_client_create(bot, id.as_ptr(), ptr::null(), &mut err);
        assert!(!out.is_null());
        assert_eq!(err, sentinel, "bot create touched *error");
        chatbotkit::cbk_string_free(out);

        let out = chatbotkit::cbk_conversation_session_client_fetch(
            conv,
            path.as_ptr(),
            fetch_opts.as_ptr(),
            &mut err,
        );
        assert!(!out.is_null());
        assert_eq!(err, sentinel, "fetch touched *error");
        chatbotkit::cbk_string_free(out);

        let out = chatbotkit::cbk_bot_session_client_fetch(
            bot_child,
            path.as_ptr(),
            fetch_opts.as_ptr(),
            &mut err,
        );
        assert!(!out.is_null());
        assert_eq!(err, sentinel, "bot fetch touched *error");
        chatbotkit::cbk_string_free(out);

        let out = chatbotkit::cbk_conversation_session_client_options(conv, &mut err);
        assert!(!out.is_null());
        assert_eq!(err, sentinel, "options touched *error");
        chatbotkit::cbk_string_free(out);
        let out = chatbotkit::cbk_bot_session_client_options(bot, &mut err);
        assert!(!out.is_null());
        assert_eq!(err, sentinel, "bot options touched *error");
        chatbotkit::cbk_string_free(out);

        chatbotkit::cbk_conversation_session_client_free(child);
        chatbotkit::cbk_conversation_session_client_free(conv);
        chatbotkit::cbk_bot_session_client_free(bot_child);
        chatbotkit::cbk_bot_session_client_free(bot);
    }
    // the sentinel is still a valid error
    // SAFETY: the sentinel was never handed over to the library.
    let info = unsafe { take_error(sentinel) };
    info.assert_is(INVALID_JSON, "INVALID_JSON");
    assert_eq!(received(&server).len(), 4);
}

#[test]
fn null_error_out_param_is_allowed() {
    let server = ok_server();
    let bad = c("{bad");
    let good = c(&opts(&server.uri(), json!({})));
    let id = c("id1");
    let empty_id = c("");
    let path = c("/x");
    let bad_fetch = c(r#"{"bogus": 1}"#);
    // SAFETY: valid C strings; NULL for `error` is allowed by the contract;
    // every returned value is freed once.
    unsafe {
        assert!(
            chatbotkit::cbk_conversation_session_client_new(bad.as_ptr(), ptr::null_mut())
                .is_null()
        );
        assert!(chatbotkit::cbk_bot_session_client_new(bad.as_ptr(), ptr::null_mut()).is_null());

        let conv = chatbotkit::cbk_conversation_session_client_new(good.as_ptr(), ptr::null_mut());
        assert!(!conv.is_null());
        let bot = chatbotkit::cbk_bot_session_client_new(good.as_ptr(), ptr::null_mut());
        assert!(!bot.is_null());

        assert!(chatbotkit::cbk_conversation_session_client_extend(
            conv,
            bad.as_ptr(),
            ptr::null_mut()
        )
        .is_null());
        assert!(
            chatbotkit::cbk_bot_session_client_extend(bot, bad.as_ptr(), ptr::null_mut()).is_null()
        );
        assert!(chatbotkit::cbk_conversation_session_client_create(
            conv,
            empty_id.as_ptr(),
            ptr::null(),
            ptr::null_mut()
        )
        .is_null());
        assert!(chatbotkit::cbk_bot_session_client_create(
            bot,
            id.as_ptr(),
            bad.as_ptr(),
            ptr::null_mut()
        )
        .is_null());
        assert!(chatbotkit::cbk_conversation_session_client_fetch(
            conv,
            path.as_ptr(),
            bad_fetch.as_ptr(),
            ptr::null_mut()
        )
        .is_null());
        assert!(
            chatbotkit::cbk_bot_session_client_options(ptr::null_mut(), ptr::null_mut()).is_null()
        );

        let out = chatbotkit::cbk_conversation_session_client_create(
            conv,
            id.as_ptr(),
            ptr::null(),
            ptr::null_mut(),
        );
        assert!(!out.is_null());
        chatbotkit::cbk_string_free(out);
        let out = chatbotkit::cbk_bot_session_client_options(bot, ptr::null_mut());
        assert!(!out.is_null());
        chatbotkit::cbk_string_free(out);

        chatbotkit::cbk_conversation_session_client_free(conv);
        chatbotkit::cbk_bot_session_client_free(bot);
    }
    assert_eq!(
        received(&server).len(),
        1,
        "only the one good create is sent"
    );
}

// ---------------------------------------------------------------------------
// Version and error JSON
// ---------------------------------------------------------------------------

#[test]
fn version_is_the_crate_version_and_static() {
    // SAFETY: cbk_version returns a static NUL-terminated string.
    #[allow(unused_unsafe)]
    let (a, b) = unsafe { (chatbotkit::cbk_version(), chatbotkit::cbk_version()) };
    assert!(!a.is_null());
    assert_eq!(a, b, "the same static string every time");
    // SAFETY: non-NULL static string.
    let v = unsafe { CStr::from_ptr(a) }.to_str().expect("UTF-8");
    assert_eq!(v, env!("CARGO_PKG_VERSION"));
}

#[test]
fn error_to_json_shape() {
    let err = new_err(Kind::Conversation, r#"{"retries": "3"}"#);
    let v = err.json_value();
    let obj = v.as_object().expect("object");
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, vec!["code", "httpStatus", "message", "status"]);
    assert_eq!(v["status"], json!("INVALID_JSON"));
    assert_eq!(v["code"], json!("INVALID_JSON"));
    assert_eq!(v["httpStatus"], json!(0));
    assert_eq!(v["message"], json!(err.message));
    assert!(err.message.contains("retries"));

    let err = new_err(Kind::Bot, r#"{"retries": -1}"#);
    let v = err.json_value();
    assert_eq!(v["status"], json!("INVALID_ARGUMENT"));
    assert_eq!(v["code"], json!("INVALID_ARGUMENT"));
    assert_eq!(v["httpStatus"], json!(0));
    assert_eq!(v.as_object().unwrap().len(), 4);
}

#[test]
fn error_json_is_a_fresh_string_each_time() {
    let bad = c("[]");
    let mut err: *mut cbk_error = ptr::null_mut();
    // SAFETY: valid C string and out-pointer; both JSON strings and the error
    // are freed once.
    unsafe {
        let h = chatbotkit::cbk_bot_session_client_new(bad.as_ptr(), &mut err);
        assert!(h.is_null() && !err.is_null());
        let a = chatbotkit::cbk_error_to_json(err);
        let b = chatbotkit::cbk_error_to_json(err);
        assert!(!a.is_null() && !b.is_null());
        assert_ne!(a, b, "each call returns a new string the caller frees");
        let (sa, sb) = (take_string(a), take_string(b));
        assert_eq!(sa, sb);
        chatbotkit::cbk_error_free(err);
    }
}
