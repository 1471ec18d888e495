//! `_fetch_stream` against raw loopback servers that write JSON lines with
//! pauses between them: items arrive before the body ends, and every rule of
//! the header's streaming section holds.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::os::raw::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

/// What the item callback saw; `stop_after` items, then it asks to stop.
#[derive(Default)]
struct Seen {
    items: Mutex<Vec<String>>,
    stop_after: Option<usize>,
    first_seen: AtomicBool,
}

unsafe extern "C" fn on_item(user_data: *mut c_void, item: *const c_char) -> c_int {
    // SAFETY: the test passes a live `Seen` and the library a C string.
    let (seen, item) = unsafe { (&*(user_data as *const Seen), std::ffi::CStr::from_ptr(item)) };
    let mut items = seen.items.lock().unwrap();
    items.push(item.to_str().unwrap().to_owned());
    seen.first_seen.store(true, Ordering::SeqCst);
    c_int::from(seen.stop_after.is_some_and(|n| items.len() >= n))
}

/// Streams `path` on `client`; the status, the error (if any) and the items.
fn stream(client: &Client, options: serde_json::Value, seen: &Seen) -> (i32, Option<ErrInfo>) {
    let path = c("/api/v1/stream");
    let options = c(&options.to_string());
    let mut err = std::ptr::null_mut();
    // SAFETY: live handle and C strings; `seen` outlives the call.
    let status = unsafe {
        chatbotkit::cbk_conversation_session_client_fetch_stream(
            client.conv_ptr(),
            path.as_ptr(),
            options.as_ptr(),
            Some(on_item),
            seen as *const Seen as *mut c_void,
            &mut err,
        )
    };
    // SAFETY: a live error the call stored, freed by take_error.
    (
        status as i32,
        (!err.is_null()).then(|| unsafe { take_error(err) }),
    )
}

fn items(seen: &Seen) -> Vec<String> {
    seen.items.lock().unwrap().clone()
}

/// Writes a chunked 200 head, then `parts` as chunks, `pause` before each.
fn chunked(stream: &mut TcpStream, parts: &[&[u8]], pause: Duration) {
    let _ = stream.write_all(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/jsonl\r\ntransfer-encoding: chunked\r\n\r\n",
    );
    for part in parts {
        std::thread::sleep(pause);
        let mut chunk = format!("{:x}\r\n", part.len()).into_bytes();
        chunk.extend_from_slice(part);
        chunk.extend_from_slice(b"\r\n");
        if stream.write_all(&chunk).is_err() {
            return;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n");
}

fn server(parts: Vec<Vec<u8>>, pause: Duration) -> RawServer {
    RawServer::start(8, move |_, stream| {
        let _ = read_request(stream);
        let parts: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        chunked(stream, &parts, pause);
    })
}

fn client(server: &RawServer, extra: serde_json::Value) -> Client {
    Client::conv(&opts(&server.uri(), extra))
}

#[test]
fn items_arrive_before_the_body_ends() {
    let seen = Arc::new(Seen::default());
    let watched = seen.clone();
    let waited = Arc::new(Mutex::new(None));
    let took = waited.clone();
    let server = RawServer::start(2, move |_, stream| {
        let head = read_request(stream);
        assert!(
            head.to_ascii_lowercase()
                .contains("accept: application/jsonl"),
            "{head}"
        );
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/jsonl\r\ntransfer-encoding: chunked\r\n\r\n",
        );
        let _ = stream.write_all(b"8\r\n{\"a\":1}\n\r\n");
        // The second line only once the first was handed on: a library that
        // waited for the body's end would never get there.
        let start = Instant::now();
        while !watched.first_seen.load(Ordering::SeqCst) && start.elapsed() < Duration::from_secs(5)
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        *took.lock().unwrap() = Some(start.elapsed());
        let _ = stream.write_all(b"8\r\n{\"b\":2}\n\r\n0\r\n\r\n");
    });
    let (status, err) = stream(&client(&server, json!({})), json!({}), &seen);
    assert_eq!(status, OK, "{err:?}");
    assert_eq!(items(&seen), vec![r#"{"a":1}"#, r#"{"b":2}"#]);
    assert!(waited.lock().unwrap().unwrap() < Duration::from_secs(4));
}

#[test]
fn a_character_split_across_writes_arrives_whole_and_blank_lines_are_skipped() {
    let server = server(
        vec![
            b"{\"t\":\"h\xC3".to_vec(),
            b"\xA9llo\"}\r\n   \n\n".to_vec(),
            b"  [1,2]  \n\"last, no newline\"".to_vec(),
        ],
        Duration::from_millis(30),
    );
    let seen = Seen::default();
    let (status, err) = stream(&client(&server, json!({})), json!({}), &seen);
    assert_eq!(status, OK, "{err:?}");
    assert_eq!(
        items(&seen),
        vec!["{\"t\":\"h\u{e9}llo\"}", "[1,2]", "\"last, no newline\""]
    );
}

#[test]
fn a_bad_line_ends_the_stream_after_the_items_before_it() {
    let server = server(
        vec![b"{\"a\":1}\nnot json\n{\"b\":2}\n".to_vec()],
        Duration::ZERO,
    );
    let seen = Seen::default();
    let (status, err) = stream(&client(&server, json!({})), json!({}), &seen);
    assert_eq!(status, INVALID_RESPONSE);
    assert_eq!(err.unwrap().http_status, 200);
    assert_eq!(items(&seen), vec![r#"{"a":1}"#]);
}

#[test]
fn max_response_bytes_bounds_one_line() {
    // Exactly the limit is fine, across many lines (more than the limit in
    // all); one byte more is refused.
    let server = server(
        vec![b"\"12345678\"\n\"abcdefgh\"\r\n\"ABCDEFGH\"\n\"123456789\"\n".to_vec()],
        Duration::ZERO,
    );
    let seen = Seen::default();
    let (status, err) = stream(
        &client(&server, json!({"maxResponseBytes": 10})),
        json!({}),
        &seen,
    );
    assert_eq!(status, INVALID_RESPONSE);
    assert!(err.unwrap().message.contains("maxResponseBytes"));
    assert_eq!(items(&seen).len(), 3);
}

#[test]
fn timeout_is_an_idle_limit_between_lines() {
    let lines: Vec<Vec<u8>> = (0..5).map(|i| format!("{i}\n").into_bytes()).collect();
    // 5 pauses of 150 ms: 750 ms in all, each under the 400 ms timeout.
    let server_ok = server(lines.clone(), Duration::from_millis(150));
    let seen = Seen::default();
    let (status, err) = stream(
        &client(&server_ok, json!({"timeout": 400})),
        json!({}),
        &seen,
    );
    assert_eq!(status, OK, "{err:?}");
    assert_eq!(items(&seen).len(), 5);
    // One pause over it: TIMEOUT, after the items before it.
    let server_slow = RawServer::start(2, |_, stream| {
        let _ = read_request(stream);
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/jsonl\r\ntransfer-encoding: chunked\r\n\r\n2\r\n1\n\r\n",
        );
        std::thread::sleep(Duration::from_millis(900));
        let _ = stream.write_all(b"2\r\n2\n\r\n0\r\n\r\n");
    });
    let seen = Seen::default();
    let (status, _) = stream(
        &client(&server_slow, json!({"timeout": 300, "retryTimeout": true})),
        json!({}),
        &seen,
    );
    assert_eq!(status, TIMEOUT);
    assert_eq!(items(&seen), vec!["1"]);
    assert_eq!(
        server_slow.connections(),
        1,
        "a stream being read was retried"
    );
}

#[test]
fn a_500_is_retried_before_the_stream_and_then_streams() {
    let server = RawServer::start(4, |i, stream| {
        let _ = read_request(stream);
        if i == 0 {
            let _ = stream.write_all(
                b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
            );
        } else {
            chunked(stream, &[b"{\"ok\":true}\n"], Duration::ZERO);
        }
    });
    let seen = Seen::default();
    let (status, err) = stream(
        &client(&server, json!({"retries": 1, "retryDelay": 10})),
        json!({}),
        &seen,
    );
    assert_eq!(status, OK, "{err:?}");
    assert_eq!(items(&seen), vec![r#"{"ok":true}"#]);
    // Without retries, the 500 is fetch's error.
    let server = RawServer::respond_with(
        2,
        b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-length: 32\r\n\r\n{\"message\":\"boom\",\"code\":\"BOOM\"}".to_vec(),
    );
    let seen = Seen::default();
    let (status, err) = stream(&client(&server, json!({"retries": 0})), json!({}), &seen);
    assert_eq!(status, API);
    err.unwrap().assert_is(API, "BOOM");
}

#[test]
fn an_early_stop_closes_the_connection() {
    let closed = Arc::new(Mutex::new(None));
    let seen_closed = closed.clone();
    let server = RawServer::start(2, move |_, stream| {
        let _ = read_request(stream);
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/jsonl\r\ntransfer-encoding: chunked\r\n\r\n8\r\n{\"a\":1}\n\r\n8\r\n{\"b\":2}\n\r\n",
        );
        // Keep the body open; the client must hang up by itself.
        let start = Instant::now();
        let mut buf = [0u8; 64];
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let eof = matches!(std::io::Read::read(stream, &mut buf), Ok(0));
        *seen_closed.lock().unwrap() = Some((eof, start.elapsed()));
    });
    let seen = Seen {
        stop_after: Some(1),
        ..Seen::default()
    };
    let (status, err) = stream(&client(&server, json!({})), json!({}), &seen);
    assert_eq!(status, OK, "{err:?}");
    assert_eq!(items(&seen), vec![r#"{"a":1}"#]);
    let deadline = Instant::now() + Duration::from_secs(6);
    while closed.lock().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let (eof, after) = closed.lock().unwrap().expect("the server saw nothing");
    assert!(
        eof && after < Duration::from_secs(2),
        "eof {eof} after {after:?}"
    );
}

#[test]
fn a_null_item_callback_is_refused() {
    let server = server(vec![b"1\n".to_vec()], Duration::ZERO);
    let client = client(&server, json!({}));
    let path = c("/x");
    let mut err = std::ptr::null_mut();
    // SAFETY: live handle and C strings; NULL callback on purpose.
    let status = unsafe {
        chatbotkit::cbk_conversation_session_client_fetch_stream(
            client.conv_ptr(),
            path.as_ptr(),
            std::ptr::null(),
            None,
            std::ptr::null_mut(),
            &mut err,
        )
    };
    assert_eq!(status as i32, INVALID_ARGUMENT);
    // SAFETY: the error the call stored, freed by take_error.
    unsafe { take_error(err) }.assert_is(INVALID_ARGUMENT, "INVALID_ARGUMENT");
    assert_eq!(server.connections(), 0);
}

/// Waits for a task; its result JSON, or the error.
fn wait(task: *mut chatbotkit::cbk_task) -> Result<String, ErrInfo> {
    let mut err = std::ptr::null_mut();
    // SAFETY: our own live task; the string and the error are freed here,
    // and the task after.
    unsafe {
        let json = chatbotkit::cbk_task_wait(task, &mut err);
        chatbotkit::cbk_task_free(task);
        if json.is_null() {
            return Err(take_error(err));
        }
        let text = std::ffi::CStr::from_ptr(json).to_str().unwrap().to_owned();
        chatbotkit::cbk_string_free(json);
        Ok(text)
    }
}

#[test]
fn fetch_async_gives_fetchs_result() {
    let server = RawServer::respond_with(
        2,
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{\"ok\":true}".to_vec(),
    );
    let client = client(&server, json!({}));
    let path = c("/api/v1/x");
    // SAFETY: live handle and C strings; no callback: the task is waited on.
    let task = unsafe {
        chatbotkit::cbk_conversation_session_client_fetch_async(
            client.conv_ptr(),
            path.as_ptr(),
            std::ptr::null(),
            None,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    assert!(!task.is_null());
    assert_eq!(wait(task).expect("fetched"), r#"{"ok":true}"#);
}

fn stream_async(client: &Client, seen: &Seen) -> *mut chatbotkit::cbk_task {
    let path = c("/api/v1/stream");
    // SAFETY: live handle and C strings; `seen` outlives the task (the
    // caller waits on it).
    let task = unsafe {
        chatbotkit::cbk_conversation_session_client_fetch_stream_async(
            client.conv_ptr(),
            path.as_ptr(),
            std::ptr::null(),
            Some(on_item),
            None,
            seen as *const Seen as *mut c_void,
            std::ptr::null_mut(),
        )
    };
    assert!(!task.is_null());
    task
}

#[test]
fn fetch_stream_async_hands_on_items_then_a_summary() {
    let server = server(
        vec![b"{\"a\":1}\n".to_vec(), b"{\"b\":2}\n".to_vec()],
        Duration::from_millis(20),
    );
    let client = client(&server, json!({}));
    let seen = Seen::default();
    let done = wait(stream_async(&client, &seen)).expect("streamed");
    assert_eq!(done, r#"{"items":2,"stopped":false}"#);
    assert_eq!(items(&seen), vec![r#"{"a":1}"#, r#"{"b":2}"#]);
    let seen = Seen {
        stop_after: Some(1),
        ..Seen::default()
    };
    let done = wait(stream_async(&client, &seen)).expect("stopped");
    assert_eq!(done, r#"{"items":1,"stopped":true}"#);
}

#[test]
fn a_cancel_mid_stream_stops_the_reading() {
    let closed = Arc::new(AtomicBool::new(false));
    let saw_close = closed.clone();
    let server = RawServer::start(2, move |_, stream| {
        let _ = read_request(stream);
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/jsonl\r\ntransfer-encoding: chunked\r\n\r\n",
        );
        // A line every 100 ms, up to 50: the client goes away first.
        for i in 0..50 {
            let line = format!("{i}\n");
            if stream
                .write_all(format!("{:x}\r\n{line}\r\n", line.len()).as_bytes())
                .is_err()
            {
                saw_close.store(true, Ordering::SeqCst);
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let client = client(&server, json!({}));
    let seen = Seen::default();
    let task = stream_async(&client, &seen);
    let start = Instant::now();
    while items(&seen).len() < 2 && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    // SAFETY: our own live task.
    unsafe { chatbotkit::cbk_task_cancel(task) };
    let err = wait(task).expect_err("cancelled");
    err.assert_is(CANCELLED, "CANCELLED");
    let n = items(&seen).len();
    assert!((2..10).contains(&n), "{n} items");
    let start = Instant::now();
    while !closed.load(Ordering::SeqCst) && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(closed.load(Ordering::SeqCst), "the server kept writing");
}
