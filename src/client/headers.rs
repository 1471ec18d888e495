//! Request headers in the SDK's order of precedence.
//!
//! Later wins, names compared case-insensitively: `cache-control: max-age=0`
//! (what fetch adds for the SDK's `cache: 'no-cache'`); the options' `headers`;
//! then `authorization`, `x-runas-user-id`, `x-runas-child-user-email` (left
//! out for `external` requests); then `x-timezone`; then the call's
//! `content-type`; then the call's own headers. The first two layers depend
//! only on the options, so they are built once per client.

use http::header::{
    HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE,
};

use super::error::{Error, Result};
use super::options::{Key, Options, StrMap};

const RUN_AS_USER_ID: HeaderName = HeaderName::from_static("x-runas-user-id");
const RUN_AS_CHILD_USER_EMAIL: HeaderName = HeaderName::from_static("x-runas-child-user-email");
const TIMEZONE: HeaderName = HeaderName::from_static("x-timezone");

const NO_CACHE: HeaderValue = HeaderValue::from_static("max-age=0");
pub const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");
pub const OCTET_STREAM: HeaderValue = HeaderValue::from_static("application/octet-stream");

/// The headers that frame a message or manage its connection. hyper writes
/// them to match the body and the connection it really uses; one from the
/// caller would override that: a wrong `content-length` truncates the body
/// or stalls the request until the timeout, a `transfer-encoding` is sent
/// beside the real one. So they cannot be set, in any letter case.
pub(crate) const FRAMING: [&str; 8] = [
    "content-length",
    "transfer-encoding",
    "host",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
];

/// Why a framing header is refused, after the key that names it.
pub(crate) const FRAMING_REFUSED: &str = "frames the message, which the library does itself: \
     content-length, transfer-encoding, host, connection, keep-alive, upgrade, te and trailer \
     cannot be set";

/// The most names one `headers` object (the options', or a call's) may
/// hold. Both at their most, with the library's own headers, still fit in
/// one request's header table, which holds 24,576 and panics beyond.
pub(crate) const MAX_NAMES: usize = 10_000;

pub fn is_framing(name: &str) -> bool {
    FRAMING.iter().any(|f| f.eq_ignore_ascii_case(name))
}

/// The per-client header layers, for ordinary and `external` requests.
#[derive(Clone, Debug)]
pub struct ClientHeaders {
    pub internal: HeaderMap,
    pub external: HeaderMap,
    /// `internal` plus `content-type: application/json`: the session calls'
    /// headers, complete; shared, so that a call's request does not copy it.
    pub internal_json: std::sync::Arc<HeaderMap>,
}

/// Insert `map`'s entries in order, each replacing any earlier value of the
/// same name. `map` holds one entry per name in any letter case (built with
/// `StrMap::set_header`), so its order cannot bring an earlier generation's
/// value back over a later one. `what` names the source in error messages. Framing headers
/// are refused, and more than [`MAX_NAMES`] names.
pub fn overlay(headers: &mut HeaderMap, map: &StrMap, what: &str) -> Result<()> {
    if map.len() > MAX_NAMES {
        return Err(Error::invalid_argument(format!(
            "`{what}` has {} header names, more than the {MAX_NAMES} allowed",
            map.len()
        )));
    }
    for (name, value) in map.iter() {
        let bad = || {
            Error::invalid_argument(format!(
                "`{what}.{}` is not a valid HTTP header name or value",
                Key(name)
            ))
        };
        if is_framing(name) {
            return Err(Error::invalid_argument(format!(
                "`{what}.{}` {FRAMING_REFUSED}",
                Key(name)
            )));
        }
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad())?;
        let mut value = HeaderValue::from_bytes(value.as_bytes()).map_err(|_| bad())?;
        // A caller's header may carry a credential of its own: keep every
        // such value out of `Debug` output.
        value.set_sensitive(true);
        headers.insert(name, value);
    }
    Ok(())
}

/// A header value from an option already checked by the options layer.
fn value(option: &str, v: &str) -> Result<HeaderValue> {
    HeaderValue::from_bytes(v.as_bytes()).map_err(|_| {
        Error::invalid_argument(format!(
            "option `{option}` cannot be sent in an HTTP header"
        ))
    })
}

impl ClientHeaders {
    pub fn new(options: &Options) -> Result<ClientHeaders> {
        let mut internal = HeaderMap::new();
        // The SDK calls fetch with `cache: 'no-cache'`, which sends this
        // header unless the request already has one.
        internal.insert(CACHE_CONTROL, NO_CACHE);
        overlay(&mut internal, &options.headers, "headers")?;
        let mut external = internal.clone();

        if let Some(credential) = options.credential() {
            let mut v = value("secret", &format!("Bearer {credential}"))?;
            v.set_sensitive(true);
            internal.insert(AUTHORIZATION, v);
        }
        // The SDK tests each of these for truthiness: an empty string sends
        // no header.
        let non_empty = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
        if let Some(v) = non_empty(&options.run_as_user_id) {
            internal.insert(RUN_AS_USER_ID, value("runAsUserId", &v)?);
        }
        if let Some(v) = non_empty(&options.run_as_child_user_email) {
            internal.insert(RUN_AS_CHILD_USER_EMAIL, value("runAsChildUserEmail", &v)?);
        }
        if let Some(v) = non_empty(&options.timezone) {
            let v = value("timezone", &v)?;
            internal.insert(TIMEZONE, v.clone());
            external.insert(TIMEZONE, v);
        }
        let mut internal_json = internal.clone();
        internal_json.insert(CONTENT_TYPE, APPLICATION_JSON);
        Ok(ClientHeaders {
            internal,
            external,
            internal_json: internal_json.into(),
        })
    }
}
