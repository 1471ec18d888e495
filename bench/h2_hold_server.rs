//! A TLS server for the 10,000-in-flight-over-HTTP/2 benchmark: HTTP/2
//! (ALPN h2, HTTP/1.1 otherwise) on 127.0.0.1, holding every request
//! `--hold-ms` before answering with a session, with a certificate made at
//! start. Built by `make -C bench inflight-h2` as a cargo example (it uses
//! the crate's dev-dependencies).
//!
//!   h2_hold_server --port-file FILE --ca-file FILE [--hold-ms 1000] [--seconds 600]
//!
//! Writes the certificate (PEM) to the ca file, then the port to the port
//! file once it listens; exits after `--seconds`.

use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(port_file), Some(ca_file)) = (arg(&args, "--port-file"), arg(&args, "--ca-file"))
    else {
        eprintln!(
            "usage: h2_hold_server --port-file FILE --ca-file FILE [--hold-ms MS] [--seconds S]"
        );
        std::process::exit(2);
    };
    let hold = Duration::from_millis(
        arg(&args, "--hold-ms").map_or(1000, |v| v.parse().expect("--hold-ms")),
    );
    let seconds: u64 = arg(&args, "--seconds").map_or(600, |v| v.parse().expect("--seconds"));

    let key = rcgen::KeyPair::generate().expect("key");
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .expect("params")
        .self_signed(&key)
        .expect("certificate");
    std::fs::write(&ca_file, cert.pem()).expect("write the certificate");
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(
        vec![cert.der().clone()],
        rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    )
    .expect("server certificate");
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::fs::write(&port_file, format!("{port}\n")).expect("write the port");

    let serve = async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
                let service = hyper::service::service_fn(move |_req| async move {
                    tokio::time::sleep(hold).await;
                    let body =
                        r#"{"id":"cs_hold","token":"cbk_ct_hold","expiresAt":4102444800000}"#;
                    hyper::Response::builder()
                        .header("content-type", "application/json")
                        .body(http_body_util::Full::new(bytes::Bytes::from_static(
                            body.as_bytes(),
                        )))
                });
                let io = TokioIo::new(tls);
                if h2 {
                    let mut builder =
                        hyper::server::conn::http2::Builder::new(TokioExecutor::new());
                    // Room for every request of the benchmark on one connection.
                    builder.max_concurrent_streams(100_000);
                    let _ = builder.serve_connection(io, service).await;
                } else {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await;
                }
            });
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(seconds), serve).await;
}
