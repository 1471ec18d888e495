//! HTTP/2: offered to TLS servers through ALPN (`http2`, on by default), so
//! that many requests in flight to one host share a few connections;
//! `http2: false` and plain `http:` stay HTTP/1.1.

mod common;
mod tls_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;
use tls_support::{leaf, root, Cert, FAR_AHEAD, LONG_AGO};

/// A TLS server that speaks HTTP/2 when the client offers it (ALPN) and
/// HTTP/1.1 otherwise, answering every request with a session; it counts
/// connections and records each request's HTTP version.
struct Server {
    port: u16,
    connections: Arc<AtomicUsize>,
    versions: Arc<Mutex<Vec<http::Version>>>,
}

impl Server {
    fn start(cert: &Cert) -> Server {
        use hyper_util::rt::{TokioExecutor, TokioIo};
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(
            rustls::pki_types::PrivatePkcs8KeyDer::from(cert.key.serialize_der()),
        );
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert.der.clone()], key)
        .expect("certificate");
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let connections = Arc::new(AtomicUsize::new(0));
        let versions = Arc::new(Mutex::new(Vec::new()));
        let (count, seen) = (connections.clone(), versions.clone());
        rt().spawn(async move {
            // Bounded: 64 connections, or 30 s.
            let deadline = Instant::now() + Duration::from_secs(30);
            for _ in 0..64 {
                let left = deadline.saturating_duration_since(Instant::now());
                let Ok(Ok((tcp, _))) = tokio::time::timeout(left, listener.accept()).await else {
                    return;
                };
                count.fetch_add(1, Ordering::SeqCst);
                let (acceptor, seen) = (acceptor.clone(), seen.clone());
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
                    let service = hyper::service::service_fn(
                        move |req: hyper::Request<hyper::body::Incoming>| {
                            seen.lock().unwrap().push(req.version());
                            async move {
                                let body = ok_body().to_string();
                                hyper::Response::builder()
                                    .header("content-type", "application/json")
                                    .body(http_body_util::Full::new(bytes::Bytes::from(body)))
                            }
                        },
                    );
                    let io = TokioIo::new(tls);
                    if h2 {
                        let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                            .serve_connection(io, service)
                            .await;
                    } else {
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(io, service)
                            .await;
                    }
                });
            }
        });
        Server {
            port,
            connections,
            versions,
        }
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    fn versions(&self) -> Vec<http::Version> {
        self.versions.lock().unwrap().clone()
    }
}

fn certificate() -> (Cert, Cert) {
    let ca = root("http2-test-root", LONG_AGO, FAR_AHEAD);
    let cert = leaf(&ca, &["127.0.0.1"], LONG_AGO, FAR_AHEAD);
    (ca, cert)
}

#[test]
fn five_hundred_async_creates_at_once_over_tls_share_a_few_http2_connections() {
    let (ca, cert) = certificate();
    let server = Server::start(&cert);
    let client = Client::conv(&opts(&server.url(), json!({"caCertificatePem": ca.pem})));
    // Cold: all 500 start before any connection is up.
    let tasks: Vec<_> = (0..500)
        .map(|i| {
            let id = c(&format!("c{i}"));
            // SAFETY: a live handle and C strings; each task is freed below.
            let task = unsafe {
                chatbotkit::cbk_conversation_session_client_create_async(
                    client.conv_ptr(),
                    id.as_ptr(),
                    std::ptr::null(),
                    None,
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                )
            };
            assert!(!task.is_null());
            task
        })
        .collect();
    for task in tasks {
        let mut err = std::ptr::null_mut();
        // SAFETY: our own task; the results are freed here.
        unsafe {
            let json = chatbotkit::cbk_task_wait(task, &mut err);
            assert!(!json.is_null(), "a create failed");
            chatbotkit::cbk_string_free(json);
            chatbotkit::cbk_task_free(task);
        }
    }
    let versions = server.versions();
    assert_eq!(versions.len(), 500);
    assert!(versions.iter().all(|v| *v == http::Version::HTTP_2));
    let n = server.connections.load(Ordering::SeqCst);
    assert!(n <= 4, "{n} connections for 500 requests");
}

#[test]
fn blocking_creates_use_http2_too() {
    let (ca, cert) = certificate();
    let server = Server::start(&cert);
    let client = Client::conv(&opts(&server.url(), json!({"caCertificatePem": ca.pem})));
    for i in 0..3 {
        client.create(&format!("c{i}"), None).expect("create");
    }
    assert_eq!(server.versions(), vec![http::Version::HTTP_2; 3]);
    assert_eq!(server.connections.load(Ordering::SeqCst), 1);
}

#[test]
fn http2_false_speaks_http_1_1() {
    let (ca, cert) = certificate();
    let server = Server::start(&cert);
    let client = Client::conv(&opts(
        &server.url(),
        json!({"caCertificatePem": ca.pem, "http2": false}),
    ));
    client.create("c1", None).expect("create");
    assert_eq!(server.versions(), vec![http::Version::HTTP_11]);
    assert_eq!(client.options_value()["http2"], json!(false));
}
