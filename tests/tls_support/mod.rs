//! Certificates made at test time (rcgen), a loopback TLS server that
//! presents them, and calls that must succeed or fail with given words:
//! shared by tls.rs and tls_system_store.rs.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::json;

use crate::common::*;

pub type Ymd = (i32, u8, u8);

pub const LONG_AGO: Ymd = (2020, 1, 1);
pub const FAR_AHEAD: Ymd = (2099, 1, 1);
/// A date in the past of any machine running these tests.
pub const EXPIRED: Ymd = (2025, 1, 1);
/// A date in the future of any machine running these tests.
pub const NOT_YET: Ymd = (2090, 1, 1);

// ---------------------------------------------------------------------------
// Certificates
// ---------------------------------------------------------------------------

/// A certificate and its key.
pub struct Cert {
    pub params: CertificateParams,
    pub key: KeyPair,
    pub der: CertificateDer<'static>,
    pub pem: String,
}

pub fn params(cn: &str, names: &[&str], from: Ymd, to: Ymd, ca: bool) -> CertificateParams {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut p = CertificateParams::new(names).expect("names");
    p.distinguished_name.push(DnType::CommonName, cn);
    p.not_before = rcgen::date_time_ymd(from.0, from.1, from.2);
    p.not_after = rcgen::date_time_ymd(to.0, to.1, to.2);
    if ca {
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    }
    p
}

/// A self-signed certificate for `names`: a root when `ca`, else a leaf
/// as `openssl req -x509 -addext basicConstraints=CA:FALSE` makes one.
pub fn self_signed(cn: &str, names: &[&str], from: Ymd, to: Ymd, ca: bool) -> Cert {
    let params = params(cn, names, from, to, ca);
    let key = KeyPair::generate().expect("key");
    let cert = params.self_signed(&key).expect("self-signed");
    Cert {
        der: cert.der().clone(),
        pem: cert.pem(),
        params,
        key,
    }
}

pub fn root(cn: &str, from: Ymd, to: Ymd) -> Cert {
    self_signed(cn, &[], from, to, true)
}

/// A server certificate for `names` issued by `by`.
pub fn leaf(by: &Cert, names: &[&str], from: Ymd, to: Ymd) -> Cert {
    let params = params("server", names, from, to, false);
    let key = KeyPair::generate().expect("key");
    let issuer = Issuer::from_params(&by.params, &by.key);
    let cert = params.signed_by(&key, &issuer).expect("signed");
    Cert {
        der: cert.der().clone(),
        pem: cert.pem(),
        params,
        key,
    }
}

// ---------------------------------------------------------------------------
// A loopback TLS server
// ---------------------------------------------------------------------------

/// A TLS server on 127.0.0.1 presenting `chain` (the first is the
/// server's): each connection that completes a handshake and sends a
/// request gets a 200 session answer. `served()` counts those.
pub struct TlsServer {
    pub raw: RawServer,
    served: Arc<AtomicUsize>,
}

impl TlsServer {
    pub fn start(chain: &[&Cert], max_connections: usize) -> TlsServer {
        let certs: Vec<CertificateDer<'static>> = chain.iter().map(|c| c.der.clone()).collect();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(chain[0].key.serialize_der()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .expect("server certificate");
        let config = Arc::new(config);
        let served = Arc::new(AtomicUsize::new(0));
        let count = served.clone();
        let raw = RawServer::start(max_connections, move |_, stream| {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let mut conn = rustls::ServerConnection::new(config.clone()).expect("connection");
            let mut tls = rustls::Stream::new(&mut conn, stream);
            if !read_head(&mut tls) {
                return;
            }
            let body = ok_body().to_string();
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            if tls.write_all(response.as_bytes()).is_ok() && tls.flush().is_ok() {
                count.fetch_add(1, Ordering::SeqCst);
            }
            tls.conn.send_close_notify();
            let _ = tls.flush();
        });
        TlsServer { raw, served }
    }

    pub fn url(&self) -> String {
        format!("https://{}", self.raw.addr)
    }

    pub fn served(&self) -> usize {
        self.served.load(Ordering::SeqCst)
    }
}

/// Reads a request head (the handshake happens on the first read); false
/// when the handshake or the read failed.
pub fn read_head(stream: &mut impl Read) -> bool {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 1 << 16 {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    true
}

// ---------------------------------------------------------------------------
// Calls
// ---------------------------------------------------------------------------

/// A create against `url`, trusting `pem` when given, with no retries (a
/// TLS failure is a network error, which is retried otherwise).
pub fn create(url: &str, pem: Option<&str>) -> Result<String, ErrInfo> {
    let extra = match pem {
        Some(pem) => json!({"caCertificatePem": pem, "retries": 0}),
        None => json!({"retries": 0}),
    };
    let client = Client::of(Kind::Conversation, &opts(url, extra));
    client.create("cnv_1", None)
}

/// The failure of a create that must fail with a TLS message containing
/// `words`; the message starts with the request and shows no Rust `Debug`
/// text.
pub fn refused(url: &str, pem: Option<&str>, words: &str) -> String {
    let e = create(url, pem).expect_err("the TLS connection must be refused");
    e.assert_is(NETWORK, "NETWORK_ERROR");
    let prefix = format!("POST {url}: ");
    assert!(
        e.message.starts_with(&prefix),
        "message names the request: {e:?}"
    );
    assert!(
        e.message.contains(words),
        "message {:?} lacks {words:?}",
        e.message
    );
    for debug in ["Error(", "Context", "Other", "{", "::"] {
        assert!(!e.message.contains(debug), "Debug text in {:?}", e.message);
    }
    e.message
}

pub fn accepted(url: &str, pem: Option<&str>) {
    let out = create(url, pem).unwrap_or_else(|e| panic!("refused: {e:?}"));
    assert_eq!(parse(&out), ok_body());
}
