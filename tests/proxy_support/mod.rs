//! A loopback HTTP proxy for the proxy tests: CONNECT tunnels (what an
//! https request uses) and absolute-form requests (what a plain http one
//! uses), recording the head of every request it was sent.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{read_request, RawServer};

/// A server answering each connection's one request with a session.
pub fn session_server() -> RawServer {
    RawServer::start(16, |_, stream| {
        let _ = read_request(stream);
        let body = r#"{"id":"s","token":"t","expiresAt":1}"#;
        let _ = stream.write_all(
            format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        );
    })
}

pub struct Proxy {
    pub port: u16,
    heads: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    /// A proxy on 127.0.0.1 serving up to `max_connections` connections
    /// (or 20 s).
    pub fn start(max_connections: usize) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let seen = heads.clone();
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(20);
            let mut served = 0;
            while served < max_connections && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        served += 1;
                        let seen = seen.clone();
                        std::thread::spawn(move || serve(stream, seen));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Proxy { port, heads }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The request heads the proxy was sent, in order.
    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

/// Reads up to the end of a request head; the head, and what came after it.
fn read_head(stream: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while buf.len() < 1 << 20 {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return Some((String::from_utf8_lossy(&buf).into_owned(), rest));
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    None
}

/// Copies `from` to `to` until EOF, then half-closes `to`.
fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let _ = std::io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Write);
}

fn serve(mut client: TcpStream, heads: Arc<Mutex<Vec<String>>>) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(10)));
    let Some((head, rest)) = read_head(&mut client) else {
        return;
    };
    heads.lock().unwrap().push(head.clone());
    let mut words = head.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    if method == "CONNECT" {
        let Ok(upstream) = TcpStream::connect(target) else {
            let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
            return;
        };
        let _ = client.write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n");
        let _ = upstream.set_read_timeout(Some(Duration::from_secs(10)));
        let (c2, u2) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
        let up = std::thread::spawn(move || pipe(c2, u2));
        pipe(upstream, client);
        let _ = up.join();
        return;
    }
    // Absolute form: "POST http://host:port/path HTTP/1.1". Forwarded in
    // origin form, one request per connection.
    let Some(rest_of_url) = target.strip_prefix("http://") else {
        let _ = client.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
        return;
    };
    let (authority, path) =
        rest_of_url.split_at(rest_of_url.find('/').unwrap_or(rest_of_url.len()));
    let Ok(mut upstream) = TcpStream::connect(authority) else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
        return;
    };
    let mut forwarded = head.replacen(target, if path.is_empty() { "/" } else { path }, 1);
    forwarded = forwarded.replace("\r\n\r\n", "\r\nconnection: close\r\n\r\n");
    let _ = upstream.write_all(forwarded.as_bytes());
    let _ = upstream.write_all(&rest);
    let _ = upstream.set_read_timeout(Some(Duration::from_secs(10)));
    let (c2, u2) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
    let up = std::thread::spawn(move || pipe(c2, u2));
    pipe(upstream, client);
    let _ = up.join();
}
