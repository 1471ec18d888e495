//! TLS: what the library trusts, how a server's certificate is checked, and
//! how a TLS failure reads in an error message.
//!
//! **Trust.** The system's trust store, as OpenSSL-based tools on the
//! machine see it (`SSL_CERT_FILE` and `SSL_CERT_DIR` honoured, through
//! rustls-native-certs), read once per process at the first TLS handshake:
//! the store is a property of the machine, and a client that never speaks
//! TLS never pays for reading it. Only where it yields no usable
//! certificate are the bundled Mozilla roots (webpki-roots) used, so that
//! a bare container still reaches the public API.
//!
//! `caCertificatePem` adds to that set; it never replaces it. Each of its
//! certificates is a root, and a server presenting exactly one of them is
//! trusted as well (a pinned certificate), even when it is marked as a CA
//! (as `openssl req -x509` makes them), which webpki alone refuses
//! (`CaUsedAsEndEntity`) and OpenSSL-based clients (curl, Node) accept.
//!
//! **Dates.** webpki checks the dates of the server's certificate and of
//! the intermediates, but not of a trust anchor, and a pinned certificate
//! is never looked at by webpki at all. OpenSSL checks every certificate of
//! the chain, anchor included, so a `caCertificatePem` certificate that is
//! expired or not yet valid is refused here when the connection relies on
//! it: as a pinned certificate, or as the root the chain ends at.
//!
//! **Fork.** The store is read lazily, on the thread that first needs it,
//! and kept in a lock-free cell: a `fork()` while another thread reads it
//! cannot leave the child waiting on a lock that nobody will release (the
//! child simply reads the store again). No thread is started for it. The
//! price: threads making their first handshakes at the same moment may
//! each read the store; one copy is kept.

use std::fmt::Write as _;
use std::sync::Arc;

use once_cell::race::OnceBox;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{verify_server_cert_signed_by_trust_anchor, verify_server_name};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{
    AlertDescription, CertificateError, DigitallySignedStruct, InvalidMessage, RootCertStore,
    SignatureScheme,
};

use crate::client::{Error, Result};

fn bad_pem() -> Error {
    Error::invalid_argument("option `caCertificatePem` is not valid PEM certificate text")
}

/// The certificates of a PEM text; at least one.
pub fn parse_pem(pem: &str) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|_| bad_pem())?;
    if certs.is_empty() {
        return Err(Error::invalid_argument(
            "option `caCertificatePem` holds no certificate",
        ));
    }
    Ok(certs)
}

/// The rustls client configuration of one transport: the system's trust
/// store, plus `pem` when given. Everything in `pem` is checked here, so
/// that a bad certificate fails when the client is made, not at its first
/// request.
pub fn client_config(pem: Option<&str>) -> Result<rustls::ClientConfig> {
    let extra = match pem {
        Some(pem) => parse_pem(pem)?
            .into_iter()
            .map(Extra::new)
            .collect::<Result<Vec<_>>>()?,
        None => Vec::new(),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(Verifier {
        provider: provider.clone(),
        extra,
        roots: OnceBox::new(),
    });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::internal(format!("TLS configuration: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    // What to offer through ALPN is a transport setting (`http2`):
    // client::transport sets it.
    Ok(config)
}

/// The system's trust store, read on first use (see the module comment).
fn system_roots() -> &'static RootCertStore {
    static ROOTS: OnceBox<RootCertStore> = OnceBox::new();
    ROOTS.get_or_init(|| {
        // Unreadable files are skipped, as OpenSSL skips them; what could be
        // read is trusted.
        Box::new(roots_or_bundled(
            rustls_native_certs::load_native_certs().certs,
        ))
    })
}

/// A store of the usable certificates among `certs`, or of the bundled
/// Mozilla roots when there is none.
fn roots_or_bundled(certs: Vec<CertificateDer<'static>>) -> RootCertStore {
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(certs);
    if roots.is_empty() {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    roots
}

/// One certificate of `caCertificatePem`.
struct Extra {
    der: CertificateDer<'static>,
    not_before: UnixTime,
    not_after: UnixTime,
    /// A store holding only this certificate, to tell whether a chain
    /// ends at it.
    alone: RootCertStore,
}

impl Extra {
    fn new(der: CertificateDer<'static>) -> Result<Extra> {
        let (not_before, not_after) = validity(&der).ok_or_else(bad_pem)?;
        let mut alone = RootCertStore::empty();
        alone.add(der.clone()).map_err(|_| bad_pem())?;
        Ok(Extra {
            der,
            not_before,
            not_after,
            alone,
        })
    }

    /// The error OpenSSL would give for this certificate at `now`, if any.
    fn check_dates(&self, now: UnixTime) -> std::result::Result<(), rustls::Error> {
        // The same comparisons as webpki's for the other certificates.
        if now < self.not_before {
            return Err(CertificateError::NotValidYetContext {
                time: now,
                not_before: self.not_before,
            }
            .into());
        }
        if now > self.not_after {
            return Err(CertificateError::ExpiredContext {
                time: now,
                not_after: self.not_after,
            }
            .into());
        }
        Ok(())
    }
}

/// webpki's checks against the system's roots and `caCertificatePem`, plus
/// pinning and the dates of `caCertificatePem` (see the module comment).
struct Verifier {
    provider: Arc<CryptoProvider>,
    extra: Vec<Extra>,
    /// The system's roots with `extra` added, made at the first handshake
    /// (unused without `extra`: the system's store serves as it is).
    roots: OnceBox<RootCertStore>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("extra", &self.extra.len())
            .finish_non_exhaustive()
    }
}

impl Verifier {
    fn roots(&self) -> &RootCertStore {
        if self.extra.is_empty() {
            return system_roots();
        }
        self.roots
            .get_or_init(|| Box::new(self.roots_with(|_| true)))
    }

    /// The system's roots with those of `extra` that `keep` chooses.
    fn roots_with(&self, keep: impl Fn(&Extra) -> bool) -> RootCertStore {
        let mut roots = system_roots().clone();
        for extra in self.extra.iter().filter(|x| keep(x)) {
            roots.roots.extend(extra.alone.roots.iter().cloned());
        }
        roots
    }

    fn chain(
        &self,
        cert: &ParsedCertificate<'_>,
        roots: &RootCertStore,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> std::result::Result<(), rustls::Error> {
        verify_server_cert_signed_by_trust_anchor(
            cert,
            roots,
            intermediates,
            now,
            self.provider.signature_verification_algorithms.all,
        )
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        let cert = ParsedCertificate::try_from(end_entity)?;
        if let Some(pinned) = self
            .extra
            .iter()
            .find(|x| x.der.as_ref() == end_entity.as_ref())
        {
            pinned.check_dates(now)?;
            verify_server_name(&cert, server_name)?;
            // The name is left out: after a redirect the server chose it,
            // and this layer cannot redact; the connection line names it.
            crate::log::debug(|| {
                "TLS: the server's certificate is the one pinned by `caCertificatePem`".to_owned()
            });
            return Ok(ServerCertVerified::assertion());
        }
        let stale: Vec<&Extra> = self
            .extra
            .iter()
            .filter(|x| x.check_dates(now).is_err())
            .collect();
        if stale.is_empty() {
            self.chain(&cert, self.roots(), intermediates, now)?;
        } else {
            // Rare (a configuration error), so the store is made per
            // handshake rather than kept: which certificates are stale
            // changes with the clock.
            let fresh = self.roots_with(|x| x.check_dates(now).is_ok());
            self.chain(&cert, &fresh, intermediates, now).map_err(|e| {
                // Say why when the chain would have ended at a stale
                // one, rather than "unknown authority".
                stale
                    .iter()
                    .find(|x| self.chain(&cert, &x.alone, intermediates, now).is_ok())
                    .and_then(|x| x.check_dates(now).err())
                    .unwrap_or(e)
            })?;
        }
        verify_server_name(&cert, server_name)?;
        crate::log::debug(|| {
            format!(
                "TLS: the server's certificate is valid for its name ({})",
                if self.extra.is_empty() {
                    "system trust store"
                } else {
                    "system trust store and `caCertificatePem`"
                }
            )
        });
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        // rustls asks for this check only in a TLS 1.2 handshake: the one
        // place that tells the version negotiated.
        crate::log::debug(|| format!("TLS 1.2 handshake ({:?})", dss.scheme));
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        // Asked only in a TLS 1.3 handshake, as above.
        crate::log::debug(|| format!("TLS 1.3 handshake ({:?})", dss.scheme));
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

// ---------------------------------------------------------------------------
// Certificate dates
// ---------------------------------------------------------------------------

/// The `notBefore` and `notAfter` of a DER certificate (RFC 5280 4.1), or
/// None when it cannot be read. webpki keeps them to itself.
fn validity(der: &[u8]) -> Option<(UnixTime, UnixTime)> {
    let (0x30, cert, _) = der_item(der)? else {
        return None;
    };
    let (0x30, mut tbs, _) = der_item(cert)? else {
        return None;
    };
    // [0] version (optional), serialNumber, signature, issuer.
    let mut skipped = 0;
    while skipped < 3 {
        let (tag, _, rest) = der_item(tbs)?;
        tbs = rest;
        if tag != 0xa0 {
            skipped += 1;
        }
    }
    let (0x30, validity, _) = der_item(tbs)? else {
        return None;
    };
    let (tag, not_before, rest) = der_item(validity)?;
    let not_before = der_time(tag, not_before)?;
    let (tag, not_after, _) = der_item(rest)?;
    Some((not_before, der_time(tag, not_after)?))
}

/// One DER item: its tag, its contents and what follows it.
fn der_item(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// A UTCTime (`YYMMDDHHMMSSZ`) or GeneralizedTime (`YYYYMMDDHHMMSSZ`), as
/// RFC 5280 4.1.2.5 allows them in certificates.
fn der_time(tag: u8, text: &[u8]) -> Option<UnixTime> {
    let digits = |s: &[u8]| -> Option<u64> {
        s.iter().try_fold(0u64, |acc, &b| {
            b.is_ascii_digit().then(|| acc * 10 + u64::from(b - b'0'))
        })
    };
    let (year, rest) = match (tag, text.len()) {
        (0x17, 13) => {
            let yy = digits(&text[..2])?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &text[2..])
        }
        (0x18, 15) => (digits(&text[..4])?, &text[4..]),
        _ => return None,
    };
    if rest[10] != b'Z' {
        return None;
    }
    let field = |i: usize| digits(&rest[i..i + 2]);
    let (month, day) = (field(0)?, field(2)?);
    let (hour, minute, second) = (field(4)?, field(6)?, field(8)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    // webpki refuses dates before 1970 too.
    let days = u64::try_from(days_from_civil(year, month, day)).ok()?;
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second;
    Some(UnixTime::since_unix_epoch(std::time::Duration::from_secs(
        seconds,
    )))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm).
fn days_from_civil(year: u64, month: u64, day: u64) -> i64 {
    let y = year as i64 - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD HH:MM:SS UTC`.
fn format_time(t: UnixTime) -> String {
    let secs = t.as_secs();
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // The inverse of `days_from_civil`.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

// ---------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------

/// What went wrong, in words, when `e` (an HTTP client's error) comes from
/// TLS with `host`; None when it does not. rustls's own texts are its
/// `Debug` output (`Other(OtherError(CaUsedAsEndEntity))`), which tells a
/// user little.
pub fn describe_failure(e: &(dyn std::error::Error + 'static), host: &str) -> Option<String> {
    let mut next = Some(e);
    while let Some(e) = next {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(describe(tls, host));
        }
        let io = e.downcast_ref::<std::io::Error>();
        // tokio-rustls's words for a peer that closed mid-handshake.
        if io.is_some_and(|io| {
            io.kind() == std::io::ErrorKind::UnexpectedEof && io.to_string() == "tls handshake eof"
        }) {
            return Some(format!(
                "server {host} closed the connection during the TLS handshake"
            ));
        }
        // An io::Error hides what it wraps from `source()` (the HTTP client
        // nests one in another), so it is unwrapped by hand.
        next = match io.and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    None
}

fn describe(e: &rustls::Error, host: &str) -> String {
    use rustls::Error as E;
    match e {
        E::InvalidCertificate(c) => describe_certificate(c, host),
        // An HTTP answer starts with "HTTP/", which is no TLS record type.
        E::InvalidMessage(InvalidMessage::InvalidContentType) => {
            format!("server {host} answered plain HTTP to a TLS request (is it an http: server?)")
        }
        E::InvalidMessage(_) | E::InappropriateMessage { .. } => {
            format!("server {host} sent a malformed TLS message")
        }
        E::InappropriateHandshakeMessage { .. } | E::PeerMisbehaved(_) => {
            format!("server {host} broke the TLS protocol")
        }
        E::PeerIncompatible(_) => {
            format!("server {host} has no TLS version or cipher suite in common with this client")
        }
        E::AlertReceived(alert) => format!(
            "server {host} refused the TLS connection ({} alert)",
            alert_words(*alert)
        ),
        E::NoCertificatesPresented => format!("server {host} presented no certificate"),
        E::DecryptError => format!("TLS decryption with server {host} failed"),
        _ => format!("TLS connection to {host} failed"),
    }
}

fn describe_certificate(e: &CertificateError, host: &str) -> String {
    use CertificateError as C;
    match e {
        C::ExpiredContext { not_after, .. } => {
            format!(
                "certificate for {host} expired on {}",
                format_time(*not_after)
            )
        }
        C::Expired => format!("certificate for {host} has expired"),
        C::NotValidYetContext { not_before, .. } => format!(
            "certificate for {host} is not valid before {}",
            format_time(*not_before)
        ),
        C::NotValidYet => format!("certificate for {host} is not valid yet"),
        C::NotValidForNameContext { presented, .. } => {
            let names = presented_names(presented);
            if names.is_empty() {
                format!("certificate is not valid for host {host} (it names no host)")
            } else {
                format!("certificate is not valid for host {host} (it is for {names})")
            }
        }
        C::NotValidForName => format!("certificate is not valid for host {host}"),
        C::UnknownIssuer => format!("certificate for {host} is signed by an unknown authority"),
        C::BadSignature => format!("certificate for {host} has a bad signature"),
        C::BadEncoding => format!("certificate for {host} is malformed"),
        C::Revoked => format!("certificate for {host} has been revoked"),
        C::UnhandledCriticalExtension => {
            format!("certificate for {host} has a critical extension this client does not know")
        }
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
            format!("certificate for {host} is not meant for a TLS server")
        }
        #[allow(deprecated)]
        C::UnsupportedSignatureAlgorithm
        | C::UnsupportedSignatureAlgorithmContext { .. }
        | C::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
            format!("certificate for {host} is signed with an unsupported algorithm")
        }
        C::Other(other) => match other.0.downcast_ref::<webpki::Error>() {
            Some(webpki::Error::CaUsedAsEndEntity) => format!(
                "certificate for {host} is a CA certificate, not trusted as a server's own \
                 (give it in `caCertificatePem` to pin it)"
            ),
            Some(webpki::Error::EndEntityUsedAsCa) => {
                format!("certificate for {host} is signed by a certificate that is not a CA")
            }
            Some(webpki::Error::NameConstraintViolation) => {
                format!("certificate for {host} breaks its issuer's name constraints")
            }
            Some(webpki::Error::PathLenConstraintViolated) => {
                format!("certificate chain for {host} is longer than its CA allows")
            }
            Some(webpki::Error::CertDistrusted) => {
                format!("certificate for {host} is signed by a distrusted authority")
            }
            _ => format!("certificate for {host} is not trusted"),
        },
        _ => format!("certificate for {host} is not trusted"),
    }
}

/// The names a certificate presents, as webpki lists them
/// (`DnsName("a.example")`, `IpAddress(10.0.0.1)`), made plain. They come
/// from the server, so they are bounded and kept to printable ASCII.
fn presented_names(presented: &[String]) -> String {
    const MAX: usize = 4;
    let names: Vec<&str> = presented
        .iter()
        .filter_map(|p| {
            p.strip_prefix("DnsName(\"")
                .and_then(|n| n.strip_suffix("\")"))
                .or_else(|| p.strip_prefix("IpAddress(")?.strip_suffix(')'))
        })
        .collect();
    let mut out = String::new();
    for (i, name) in names.iter().take(MAX).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.extend(name.chars().take(100).map(|c| match c {
            '!'..='~' => c,
            _ => '?',
        }));
    }
    if names.len() > MAX {
        let _ = write!(out, " and {} more", names.len() - MAX);
    }
    out
}

/// `HandshakeFailure` as "handshake failure".
fn alert_words(alert: AlertDescription) -> String {
    let name = format!("{alert:?}");
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() && !out.is_empty() {
            out.push(' ');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> UnixTime {
        // "YYYY-MM-DD HH:MM:SS"
        let n = |r: std::ops::Range<usize>| s[r].parse::<u64>().unwrap();
        let days = days_from_civil(n(0..4), n(5..7), n(8..10)) as u64;
        UnixTime::since_unix_epoch(std::time::Duration::from_secs(
            days * 86_400 + n(11..13) * 3600 + n(14..16) * 60 + n(17..19),
        ))
    }

    #[test]
    fn times_read_and_print() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        for t in [
            "1970-01-01 00:00:00",
            "2000-02-29 23:59:59",
            "2025-01-01 00:00:00",
            "2049-12-31 12:34:56",
            "2100-03-01 00:00:01",
            "4096-01-01 00:00:00",
        ] {
            assert_eq!(format_time(at(t)), format!("{t} UTC"));
        }
        assert_eq!(
            der_time(0x17, b"250101000000Z"),
            Some(at("2025-01-01 00:00:00"))
        );
        assert_eq!(der_time(0x17, b"500101000000Z"), None, "1950: before 1970");
        assert_eq!(
            der_time(0x18, b"20500615083000Z"),
            Some(at("2050-06-15 08:30:00"))
        );
        for bad in [
            &b"250101000000"[..],
            b"2501010000000",
            b"251301000000Z",
            b"25010100000xZ",
            b"",
        ] {
            assert_eq!(der_time(0x17, bad), None, "{bad:?}");
        }
        assert_eq!(der_time(0x04, b"250101000000Z"), None);
    }

    fn cert(not_before: (i32, u8, u8), not_after: (i32, u8, u8)) -> CertificateDer<'static> {
        let mut params = rcgen::CertificateParams::new(vec!["127.0.0.1".into()]).unwrap();
        params.not_before = rcgen::date_time_ymd(not_before.0, not_before.1, not_before.2);
        params.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().clone()
    }

    #[test]
    fn validity_of_generated_certificates() {
        // UTCTime on both sides, then GeneralizedTime from 2050 on.
        assert_eq!(
            validity(&cert((2020, 2, 3), (2025, 1, 1))),
            Some((at("2020-02-03 00:00:00"), at("2025-01-01 00:00:00")))
        );
        assert_eq!(
            validity(&cert((1975, 1, 1), (4096, 1, 1))),
            Some((at("1975-01-01 00:00:00"), at("4096-01-01 00:00:00")))
        );
        let der = cert((2020, 1, 1), (2030, 1, 1));
        for cut in [0, 1, 10, 40, der.len() / 2] {
            assert_eq!(validity(&der[..cut]), None, "cut at {cut}");
        }
    }

    #[test]
    fn pem_checked_when_the_config_is_made() {
        assert!(client_config(None).is_ok());
        // An expired or not yet valid certificate is refused at the
        // handshake, not here: the clock decides, and it moves.
        for (from, to) in [((2020, 1, 1), (2021, 1, 1)), ((2090, 1, 1), (2091, 1, 1))] {
            let der = cert(from, to);
            let text = format!(
                "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
                base64_of(&der)
            );
            assert!(client_config(Some(&text)).is_ok());
        }
        for bad in [
            "",
            "not pem",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        ] {
            let e = client_config(Some(bad)).unwrap_err();
            assert!(e.to_string().contains("`caCertificatePem`"), "{e}");
        }
    }

    fn base64_of(der: &[u8]) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(der)
    }

    #[test]
    fn bundled_roots_only_without_system_ones() {
        let bundled = webpki_roots::TLS_SERVER_ROOTS.len();
        assert_eq!(roots_or_bundled(Vec::new()).len(), bundled);
        // Unusable certificates count as none.
        assert_eq!(
            roots_or_bundled(vec![CertificateDer::from(vec![1, 2, 3])]).len(),
            bundled
        );
        assert_eq!(
            roots_or_bundled(vec![cert((2020, 1, 1), (2030, 1, 1))]).len(),
            1
        );
    }

    #[test]
    fn messages_are_words() {
        let t = at("2025-01-01 00:00:00");
        let cases: Vec<(rustls::Error, &str)> = vec![
            (
                CertificateError::ExpiredContext {
                    time: t,
                    not_after: t,
                }
                .into(),
                "certificate for h expired on 2025-01-01 00:00:00 UTC",
            ),
            (
                CertificateError::NotValidYetContext {
                    time: t,
                    not_before: t,
                }
                .into(),
                "certificate for h is not valid before 2025-01-01 00:00:00 UTC",
            ),
            (
                CertificateError::NotValidForNameContext {
                    expected: ServerName::try_from("h").unwrap(),
                    presented: vec![
                        "DnsName(\"a.example\")".into(),
                        "IpAddress(10.0.0.1)".into(),
                        "DnsName(\"b\u{7}\")".into(),
                        "DirectoryName".into(),
                    ],
                }
                .into(),
                "certificate is not valid for host h (it is for a.example, 10.0.0.1, b?)",
            ),
            (
                CertificateError::NotValidForNameContext {
                    expected: ServerName::try_from("h").unwrap(),
                    presented: vec![],
                }
                .into(),
                "certificate is not valid for host h (it names no host)",
            ),
            (
                CertificateError::UnknownIssuer.into(),
                "certificate for h is signed by an unknown authority",
            ),
            (
                CertificateError::Other(rustls::OtherError(Arc::new(
                    webpki::Error::CaUsedAsEndEntity,
                )))
                .into(),
                "certificate for h is a CA certificate, not trusted as a server's own \
                 (give it in `caCertificatePem` to pin it)",
            ),
            (
                CertificateError::Other(rustls::OtherError(Arc::new(
                    webpki::Error::MaximumPathDepthExceeded,
                )))
                .into(),
                "certificate for h is not trusted",
            ),
            (
                rustls::Error::InvalidMessage(InvalidMessage::InvalidContentType),
                "server h answered plain HTTP to a TLS request (is it an http: server?)",
            ),
            (
                rustls::Error::AlertReceived(AlertDescription::HandshakeFailure),
                "server h refused the TLS connection (handshake failure alert)",
            ),
            (
                rustls::Error::General("x".into()),
                "TLS connection to h failed",
            ),
        ];
        for (error, want) in cases {
            assert_eq!(describe(&error, "h"), want);
            // As the HTTP client passes it on: inside an io::Error.
            let io = std::io::Error::new(std::io::ErrorKind::InvalidData, error);
            assert_eq!(describe_failure(&io, "h").as_deref(), Some(want));
        }
        let many: Vec<String> = (0..6).map(|i| format!("DnsName(\"n{i}\")")).collect();
        assert_eq!(presented_names(&many), "n0, n1, n2, n3 and 2 more");
        let other = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        assert_eq!(describe_failure(&other, "h"), None);
    }
}
