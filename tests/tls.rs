//! TLS through the C ABI, against loopback TLS servers whose certificates
//! are made here (rcgen): what `caCertificatePem` trusts (a pinned
//! certificate, CA or not; a root), the dates and host names that are
//! still checked, and the words a TLS failure is reported in.
//!
//! The system's trust store (`SSL_CERT_FILE`, `SSL_CERT_DIR`) is in
//! tls_system_store.rs: it is read once per process.

mod common;

mod tls_support;

use std::io::Read;
use std::net::TcpStream;
use std::time::Duration;

use common::*;
use rcgen::{BasicConstraints, IsCa, Issuer, KeyPair};
use serde_json::json;
use tls_support::*;

// ---------------------------------------------------------------------------
// What caCertificatePem trusts
// ---------------------------------------------------------------------------

#[test]
fn pinned_self_signed_ca_certificate_is_trusted() {
    // What `openssl req -x509` makes: CA:TRUE, presented by the server.
    let cert = self_signed("pinned", &["127.0.0.1"], LONG_AGO, FAR_AHEAD, true);
    let server = TlsServer::start(&[&cert], 2);
    accepted(&server.url(), Some(&cert.pem));
    assert_eq!(server.served(), 1);
    // Without it, the same server is not trusted, and says why.
    refused(
        &server.url(),
        None,
        "certificate for 127.0.0.1 is a CA certificate, not trusted as a server's own \
         (give it in `caCertificatePem` to pin it)",
    );
    assert_eq!(server.served(), 1);
}

#[test]
fn pinned_self_signed_leaf_is_trusted() {
    let cert = self_signed("pinned", &["127.0.0.1"], LONG_AGO, FAR_AHEAD, false);
    let server = TlsServer::start(&[&cert], 2);
    accepted(&server.url(), Some(&cert.pem));
    refused(
        &server.url(),
        None,
        "certificate for 127.0.0.1 is signed by an unknown authority",
    );
    assert_eq!(server.served(), 1);
}

#[test]
fn root_in_ca_certificate_pem_is_trusted_with_its_chain() {
    let ca = root("test root", LONG_AGO, FAR_AHEAD);
    let middle = {
        let mut p = params("intermediate", &[], LONG_AGO, FAR_AHEAD, true);
        p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        let key = KeyPair::generate().expect("key");
        let cert = p
            .signed_by(&key, &Issuer::from_params(&ca.params, &ca.key))
            .expect("signed");
        Cert {
            der: cert.der().clone(),
            pem: cert.pem(),
            params: p,
            key,
        }
    };
    let direct = leaf(&ca, &["127.0.0.1"], LONG_AGO, FAR_AHEAD);
    let chained = leaf(&middle, &["127.0.0.1"], LONG_AGO, FAR_AHEAD);
    let direct_server = TlsServer::start(&[&direct], 1);
    let chained_server = TlsServer::start(&[&chained, &middle], 1);
    accepted(&direct_server.url(), Some(&ca.pem));
    accepted(&chained_server.url(), Some(&ca.pem));
    assert_eq!((direct_server.served(), chained_server.served()), (1, 1));
}

#[test]
fn several_certificates_in_one_pem_are_all_trusted() {
    let a = self_signed("a", &["127.0.0.1"], LONG_AGO, FAR_AHEAD, true);
    let ca = root("b root", LONG_AGO, FAR_AHEAD);
    let b = leaf(&ca, &["127.0.0.1"], LONG_AGO, FAR_AHEAD);
    let pem = format!("{}{}", a.pem, ca.pem);
    let (sa, sb) = (TlsServer::start(&[&a], 1), TlsServer::start(&[&b], 1));
    accepted(&sa.url(), Some(&pem));
    accepted(&sb.url(), Some(&pem));
}

// ---------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------

#[test]
fn expired_pinned_certificate_is_refused() {
    for ca in [true, false] {
        let cert = self_signed("pinned", &["127.0.0.1"], LONG_AGO, EXPIRED, ca);
        let server = TlsServer::start(&[&cert], 1);
        refused(
            &server.url(),
            Some(&cert.pem),
            "certificate for 127.0.0.1 expired on 2025-01-01 00:00:00 UTC",
        );
        assert_eq!(server.served(), 0, "CA:{ca}");
    }
}

#[test]
fn not_yet_valid_pinned_certificate_is_refused() {
    for ca in [true, false] {
        let cert = self_signed("pinned", &["127.0.0.1"], NOT_YET, FAR_AHEAD, ca);
        let server = TlsServer::start(&[&cert], 1);
        refused(
            &server.url(),
            Some(&cert.pem),
            "certificate for 127.0.0.1 is not valid before 2090-01-01 00:00:00 UTC",
        );
        assert_eq!(server.served(), 0, "CA:{ca}");
    }
}

#[test]
fn out_of_date_root_in_ca_certificate_pem_is_refused() {
    // webpki never looks at a trust anchor's dates; OpenSSL does.
    for (from, to, words) in [
        (LONG_AGO, EXPIRED, "expired on 2025-01-01 00:00:00 UTC"),
        (
            NOT_YET,
            FAR_AHEAD,
            "is not valid before 2090-01-01 00:00:00 UTC",
        ),
    ] {
        let ca = root("dated root", from, to);
        let server_cert = leaf(&ca, &["127.0.0.1"], LONG_AGO, FAR_AHEAD);
        let server = TlsServer::start(&[&server_cert], 1);
        refused(
            &server.url(),
            Some(&ca.pem),
            &format!("certificate for 127.0.0.1 {words}"),
        );
        assert_eq!(server.served(), 0);
    }
}

#[test]
fn out_of_date_server_certificate_under_a_given_root_is_refused() {
    let ca = root("root", LONG_AGO, FAR_AHEAD);
    for (from, to, words) in [
        (LONG_AGO, EXPIRED, "expired on 2025-01-01 00:00:00 UTC"),
        (
            NOT_YET,
            FAR_AHEAD,
            "is not valid before 2090-01-01 00:00:00 UTC",
        ),
    ] {
        let server_cert = leaf(&ca, &["127.0.0.1"], from, to);
        let server = TlsServer::start(&[&server_cert], 1);
        refused(
            &server.url(),
            Some(&ca.pem),
            &format!("certificate for 127.0.0.1 {words}"),
        );
    }
}

#[test]
fn expired_root_beside_its_renewed_twin_is_no_error() {
    // The same name and key, issued again with new dates: a chain ending
    // at that name is trusted through the valid one.
    let old = root("renewed root", LONG_AGO, EXPIRED);
    let renewed_params = params("renewed root", &[], LONG_AGO, FAR_AHEAD, true);
    let renewed = renewed_params.self_signed(&old.key).expect("renewed");
    let server_cert = leaf(&old, &["127.0.0.1"], LONG_AGO, FAR_AHEAD);
    let server = TlsServer::start(&[&server_cert], 2);
    for pem in [
        format!("{}{}", old.pem, renewed.pem()),
        format!("{}{}", renewed.pem(), old.pem),
    ] {
        accepted(&server.url(), Some(&pem));
    }
    assert_eq!(server.served(), 2);
}

// ---------------------------------------------------------------------------
// Host names, issuers
// ---------------------------------------------------------------------------

#[test]
fn certificate_for_another_host_is_refused_naming_both() {
    // Pinned (CA:TRUE, the openssl req -x509 kind) and through a root: the
    // host name is checked either way.
    let pinned = self_signed(
        "pinned",
        &["localhost", "api.example"],
        LONG_AGO,
        FAR_AHEAD,
        true,
    );
    let server = TlsServer::start(&[&pinned], 1);
    refused(
        &server.url(),
        Some(&pinned.pem),
        "certificate is not valid for host 127.0.0.1 (it is for localhost, api.example)",
    );
    let ca = root("root", LONG_AGO, FAR_AHEAD);
    let other = leaf(&ca, &["10.1.2.3"], LONG_AGO, FAR_AHEAD);
    let server = TlsServer::start(&[&other], 1);
    refused(
        &server.url(),
        Some(&ca.pem),
        "certificate is not valid for host 127.0.0.1 (it is for 10.1.2.3)",
    );
    assert_eq!(server.served(), 0);
}

#[test]
fn certificate_from_an_unknown_authority_is_refused() {
    let known = root("known root", LONG_AGO, FAR_AHEAD);
    let unknown = root("unknown root", LONG_AGO, FAR_AHEAD);
    let server_cert = leaf(&unknown, &["127.0.0.1"], LONG_AGO, FAR_AHEAD);
    let server = TlsServer::start(&[&server_cert], 2);
    let words = "certificate for 127.0.0.1 is signed by an unknown authority";
    refused(&server.url(), Some(&known.pem), words);
    // The system's store does not know it either.
    refused(&server.url(), None, words);
    assert_eq!(server.served(), 0);
}

#[test]
fn expired_pinned_certificate_from_an_unknown_authority_names_the_date() {
    // Pinning trusts the exact certificate, whoever issued it, but not
    // outside its dates.
    let unknown = root("unknown root", LONG_AGO, FAR_AHEAD);
    let server_cert = leaf(&unknown, &["127.0.0.1"], LONG_AGO, EXPIRED);
    let server = TlsServer::start(&[&server_cert], 1);
    refused(
        &server.url(),
        Some(&server_cert.pem),
        "certificate for 127.0.0.1 expired on 2025-01-01 00:00:00 UTC",
    );
    let fresh = leaf(&unknown, &["127.0.0.1"], LONG_AGO, FAR_AHEAD);
    let server = TlsServer::start(&[&fresh], 1);
    accepted(&server.url(), Some(&fresh.pem));
}

// ---------------------------------------------------------------------------
// Servers that do not speak TLS
// ---------------------------------------------------------------------------

#[test]
fn plain_http_answer_to_https_is_named() {
    let server = RawServer::respond_with(
        1,
        b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_vec(),
    );
    let url = format!("https://{}", server.addr);
    refused(
        &url,
        None,
        "server 127.0.0.1 answered plain HTTP to a TLS request",
    );
    assert_eq!(server.connections(), 1);
}

#[test]
fn server_closing_during_the_handshake_is_named() {
    let server = RawServer::start(1, |_, stream: &mut TcpStream| {
        // Take the ClientHello, then close without a word.
        let _ = stream.set_read_timeout(Some(Duration::from_secs(3)));
        let _ = stream.read(&mut [0u8; 4096]);
        let _ = stream.shutdown(std::net::Shutdown::Both);
    });
    let url = format!("https://{}", server.addr);
    refused(
        &url,
        None,
        "server 127.0.0.1 closed the connection during the TLS handshake",
    );
}

// ---------------------------------------------------------------------------
// The options themselves
// ---------------------------------------------------------------------------

#[test]
fn out_of_date_certificates_are_accepted_as_options_and_refused_at_the_call() {
    // Whether a certificate is in its dates depends on when it is used;
    // `_new` checks only that it can be read.
    let cert = self_signed("pinned", &["127.0.0.1"], LONG_AGO, EXPIRED, true);
    let server = TlsServer::start(&[&cert], 1);
    let client = Client::of(
        Kind::Bot,
        &opts(
            &server.url(),
            json!({"caCertificatePem": cert.pem, "retries": 0}),
        ),
    );
    let e = client
        .create("bot_1", None)
        .expect_err("refused at the call");
    e.assert_is(NETWORK, "NETWORK_ERROR");
    assert!(e.message.contains("expired on 2025-01-01"), "{e:?}");
}

#[test]
fn extend_with_a_new_certificate_trusts_the_new_one() {
    let a = self_signed("a", &["127.0.0.1"], LONG_AGO, FAR_AHEAD, true);
    let b = self_signed("b", &["127.0.0.1"], LONG_AGO, FAR_AHEAD, true);
    let (sa, sb) = (TlsServer::start(&[&a], 2), TlsServer::start(&[&b], 2));
    let client = Client::of(
        Kind::Conversation,
        &opts(&sa.url(), json!({"caCertificatePem": a.pem, "retries": 0})),
    );
    client.create("c", None).expect("a trusted");
    let to_b = client
        .extend(Some(
            &json!({"baseUrl": sb.url(), "caCertificatePem": b.pem}).to_string(),
        ))
        .expect("extend");
    to_b.create("c", None)
        .expect("b trusted by the derived client");
    // The derived client trusts b instead of a, not as well as it.
    let back_to_a = to_b
        .extend(Some(&json!({"baseUrl": sa.url()}).to_string()))
        .expect("extend");
    let e = back_to_a
        .create("c", None)
        .expect_err("a is no longer given");
    e.assert_is(NETWORK, "NETWORK_ERROR");
    assert!(e.message.contains("is a CA certificate"), "{e:?}");
    assert_eq!((sa.served(), sb.served()), (1, 1));
}
