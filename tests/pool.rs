//! Handles with equal transport settings share one connection pool: an
//! `extend`-derived client reuses its parent's keep-alive connection, also
//! after the parent is freed; other transport settings get their own pool.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::*;
use serde_json::json;

/// A keep-alive HTTP/1.1 server on 127.0.0.1 that answers every request with
/// a session and counts the connections it accepted.
fn counting_server() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(16) {
            let Ok(stream) = stream else { break };
            count.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || serve(stream));
        }
    });
    (url, accepted)
}

fn serve(stream: std::net::TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut out = stream;
    // At most 64 requests per connection: the loop is bounded.
    for _ in 0..64 {
        let mut length = 0usize;
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let lower = line.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let reply = r#"{"id":"s","token":"t","expiresAt":1}"#;
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{reply}",
            reply.len()
        );
        if out.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

#[test]
fn derived_clients_reuse_the_parents_connection() {
    let (url, accepted) = counting_server();
    let parent = Client::conv(&opts(&url, json!({})));
    parent.create("c1", None).expect("parent");
    assert_eq!(accepted.load(Ordering::SeqCst), 1);

    let derived = parent
        .extend(Some(
            &json!({"headers": {"x-a": "1"}, "timezone": "UTC"}).to_string(),
        ))
        .expect("derived");
    derived.create("c1", None).expect("derived");
    drop(parent);
    derived.create("c1", None).expect("derived, parent freed");
    let grandchild = derived
        .extend(Some(&json!({"retries": 1}).to_string()))
        .expect("grandchild");
    grandchild.create("c1", None).expect("grandchild");
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "every derived client reused the parent's connection"
    );

    // Other transport settings: another pool, so another connection.
    let other = derived
        .extend(Some(&json!({"userAgent": "another-agent"}).to_string()))
        .expect("other transport");
    other.create("c1", None).expect("other");
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
}
