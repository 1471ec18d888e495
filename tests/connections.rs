//! Connection hygiene against hostile loopback servers: a pooled connection
//! that the server closed, or wrote to, while it sat idle is never used;
//! connections are closed when their pool goes, when the server closes them
//! (even if no call comes), and at once after `Connection: close`; blocking
//! calls from many threads run at once and share connections.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

const SESSION: &str = r#"{"id":"s","token":"good","expiresAt":1}"#;

fn session_response(extra_headers: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{extra_headers}\r\n{SESSION}",
        SESSION.len()
    )
    .into_bytes()
}

/// Reads from `stream` until EOF (or `limit`); how long it took, or None.
fn wait_for_eof(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut buf = [0u8; 1024];
    while start.elapsed() < limit {
        let _ = stream.set_read_timeout(Some(Duration::from_millis(50)));
        match stream.read(&mut buf) {
            Ok(0) => return Some(start.elapsed()),
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return Some(start.elapsed()),
        }
    }
    None
}

/// What the server of [`eof_server`] saw: how long after it started
/// watching the client closed its side, `None` inside when it never did.
struct Eof(Arc<Mutex<Option<Option<Duration>>>>);

impl Eof {
    /// Waits (up to 6 s) for the server's verdict.
    fn wait(&self) -> Option<Duration> {
        let deadline = Instant::now() + Duration::from_secs(6);
        while self.0.lock().unwrap().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        self.0.lock().unwrap().flatten()
    }

    fn seen(&self) -> bool {
        self.0.lock().unwrap().is_some()
    }
}

/// A server that answers one request with `reply`, runs `then` on the
/// connection, then watches (up to 5 s) for the client to close it.
fn eof_server(
    reply: Vec<u8>,
    then: impl Fn(&mut TcpStream) + Send + Sync + 'static,
) -> (RawServer, Eof) {
    let eof = Arc::new(Mutex::new(None));
    let seen = eof.clone();
    let server = RawServer::start(4, move |_, stream| {
        let _ = read_request(stream);
        let _ = stream.write_all(&reply);
        then(stream);
        *seen.lock().unwrap() = Some(wait_for_eof(stream, Duration::from_secs(5)));
    });
    (server, Eof(eof))
}

/// One test at a time: each counts connections or lanes, which another
/// test's calls running at the same time would disturb.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

fn no_retries(server: &RawServer) -> String {
    opts(&server.uri(), json!({"retries": 0}))
}

#[test]
fn a_connection_the_server_closed_while_idle_is_never_reused() {
    let _serial = serial();
    // Every connection answers one request, then is closed 20 ms later
    // without a `Connection: close`: a keep-alive timeout, as servers do.
    let server = RawServer::start(64, |_, stream| {
        let _ = read_request(stream);
        let _ = stream.write_all(&session_response(""));
        std::thread::sleep(Duration::from_millis(20));
    });
    let client = Client::conv(&no_retries(&server));
    for i in 0..20 {
        client
            .create("c", None)
            .unwrap_or_else(|e| panic!("call {i} used a closed connection: {e:?}"));
        std::thread::sleep(Duration::from_millis(60));
    }
    assert_eq!(server.connections(), 20);
}

#[test]
fn bytes_sent_on_an_idle_connection_never_become_the_next_answer() {
    let _serial = serial();
    // After its answer, the server writes an unsolicited response on the
    // idle connection: once a 200 with another token, once a 408 and close.
    for stray in [
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 33\r\n\r\n{}",
            r#"{"id":"x","token":"EVIL","e":1}  "#
        ),
        "HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n".to_owned(),
    ] {
        let server = RawServer::start(16, move |_, stream| {
            let _ = read_request(stream);
            let _ = stream.write_all(&session_response(""));
            std::thread::sleep(Duration::from_millis(20));
            let _ = stream.write_all(stray.as_bytes());
            std::thread::sleep(Duration::from_millis(500));
        });
        let client = Client::conv(&no_retries(&server));
        for _ in 0..3 {
            let answer = client.create("c", None).expect("a real answer");
            assert!(answer.contains("\"good\""), "got {answer}");
            std::thread::sleep(Duration::from_millis(80));
        }
    }
}

#[test]
fn a_connection_close_response_is_closed_at_once() {
    let _serial = serial();
    let (server, eof) = eof_server(session_response("connection: close\r\n"), |_| {});
    let client = Client::conv(&no_retries(&server));
    client.create("c", None).expect("answer");
    let took = eof.wait().expect("the client closed the socket");
    // No call follows, and the housekeeper would take up to a second: well
    // under that means the call closed it on its way out.
    assert!(took < Duration::from_millis(500), "closed after {took:?}");
}

#[test]
fn freeing_the_last_handle_closes_its_idle_connections() {
    let _serial = serial();
    // The server waits for a request that never comes, then for EOF.
    let (server, eof) = eof_server(session_response(""), |_| {});
    // Settings of its own, so that no other test's handle shares the pool.
    let client = Client::conv(&opts(&server.uri(), json!({"userAgent": "free-closes"})));
    let derived = client
        .extend(Some(r#"{"timezone":"UTC"}"#))
        .expect("extend");
    client.create("c", None).expect("answer");
    drop(client);
    std::thread::sleep(Duration::from_millis(200));
    assert!(!eof.seen(), "closed while a derived handle lives");
    let freed = Instant::now();
    drop(derived);
    assert!(eof.wait().is_some(), "the socket stayed open");
    assert!(
        freed.elapsed() < Duration::from_millis(500),
        "closed {:?} after the free",
        freed.elapsed()
    );
}

#[test]
fn a_connection_the_server_closes_is_closed_here_too_without_another_call() {
    let _serial = serial();
    // FIN 50 ms after the answer: the client's side would sit in
    // CLOSE_WAIT until closed.
    let (server, eof) = eof_server(session_response(""), |stream| {
        std::thread::sleep(Duration::from_millis(50));
        let _ = stream.shutdown(Shutdown::Write);
    });
    let client = Client::conv(&no_retries(&server));
    client.create("c", None).expect("answer");
    assert!(eof.wait().is_some(), "the client never closed its side");
    drop(client);
}

/// A server that holds every request until `n` are in flight at once (or
/// 5 s passed), then answers them all: calls made one at a time would
/// never get there.
fn rendezvous_server(n: usize) -> (RawServer, Arc<AtomicUsize>) {
    let in_flight = Arc::new((Mutex::new(0usize), Condvar::new()));
    let most = Arc::new(AtomicUsize::new(0));
    let peak = most.clone();
    let server = RawServer::start(4 * n, move |_, stream| loop {
        let head = read_request(stream);
        if head.is_empty() {
            return;
        }
        let (lock, cv) = &*in_flight;
        let mut count = lock.lock().unwrap();
        *count += 1;
        peak.fetch_max(*count, Ordering::SeqCst);
        cv.notify_all();
        let (mut count, _) = cv
            .wait_timeout_while(count, Duration::from_secs(5), |c| {
                *c < n && peak.load(Ordering::SeqCst) < n
            })
            .unwrap();
        *count -= 1;
        drop(count);
        if stream.write_all(&session_response("")).is_err() {
            return;
        }
    });
    (server, most)
}

#[test]
fn blocking_calls_from_many_threads_run_at_once() {
    let _serial = serial();
    const THREADS: usize = 8;
    let (server, most) = rendezvous_server(THREADS);
    let client = Client::conv(&no_retries(&server));
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| client.create("c", None).expect("answer"));
        }
    });
    assert_eq!(
        most.load(Ordering::SeqCst),
        THREADS,
        "calls waited for each other"
    );
}

#[test]
fn short_lived_threads_share_connections() {
    let _serial = serial();
    let server = RawServer::start(64, |_, stream| {
        for _ in 0..100 {
            if read_request(stream).is_empty() || stream.write_all(&session_response("")).is_err() {
                return;
            }
        }
    });
    let client = Client::conv(&opts(
        &server.uri(),
        json!({"userAgent": "thread-per-call"}),
    ));
    for _ in 0..20 {
        std::thread::scope(|s| {
            s.spawn(|| client.create("c", None).expect("answer"));
        });
    }
    // One, or two should the housekeeper have held the first lane just as
    // a thread came.
    assert!(
        server.connections() <= 2,
        "{} connections for 20 threads",
        server.connections()
    );
}
