//! Client options: parsing and validation of the options JSON, the SDK's
//! `extend` merge, and the effective options as JSON.
//!
//! Parsing happens in two steps. [`OptionsPatch::parse`] checks the JSON and
//! every key's *type* (`INVALID_JSON`, naming the key); [`Options::apply`]
//! lays a patch over a base (the defaults for `new`, the parent for `extend`)
//! and checks every *value* (`INVALID_ARGUMENT`, naming the key). Both run in
//! `_new`/`_extend`, so a call never fails on an option.
//!
//! Error messages name keys, never values: a bad secret is reported as
//! "option `secret` ...", not quoted.

use std::fmt::{self, Write as _};
use std::time::Duration;

use serde_json::{Map, Value};
use url::Url;

use super::error::{Error, Result};
use super::headers;

/// The SDK's default base URL.
pub(crate) const DEFAULT_BASE_URL: &str = "https://api.chatbotkit.com";
pub(crate) const DEFAULT_RETRIES: u32 = 3;
pub(crate) const DEFAULT_RETRY_DELAY: Duration = Duration::from_millis(250);
pub(crate) const DEFAULT_MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;

/// Largest `retries` accepted. Each retry at least doubles the wait, so more
/// than this is a loop, not a retry policy.
pub(crate) const MAX_RETRIES: u64 = 100;
/// Largest millisecond value accepted for durations: what a JavaScript timer
/// can hold (2^31 - 1 ms, about 24.8 days).
pub(crate) const MAX_MILLIS: f64 = 2_147_483_647.0;
/// Largest `maxResponseBytes` accepted: JavaScript's largest safe integer.
pub(crate) const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// String map that keeps insertion order and replaces a key in place, like a
/// JavaScript object (`{...a, ...b}`). Keys compare exactly, except through
/// the `*_header` methods.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct StrMap(Vec<(String, String)>);

/// Shows keys only: header values may carry credentials.
impl fmt::Debug for StrMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(k, _)| k))
            .finish()
    }
}

impl StrMap {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn set(&mut self, key: String, value: String) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }

    pub fn remove(&mut self, key: &str) {
        self.0.retain(|(k, _)| k != key);
    }

    /// `set` for a header name: any letter case replaces, so that the map
    /// holds one entry per header and the later value is the one sent
    /// (two spellings kept side by side would be overlaid in map order,
    /// where an earlier value could come last).
    pub fn set_header(&mut self, key: String, value: String) {
        self.remove_header(&key);
        self.0.push((key, value));
    }

    /// `remove` for a header name, in any letter case.
    pub fn remove_header(&mut self, key: &str) {
        self.0.retain(|(k, _)| !k.eq_ignore_ascii_case(key));
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn to_json(&self) -> Value {
        Value::Object(
            self.iter()
                .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
                .collect(),
        )
    }
}

/// A key as messages quote it: control characters (CR, LF, ESC, ...)
/// escaped, so that a key can neither break a message into lines nor forge
/// a log line or terminal output.
pub struct Key<'a>(pub &'a str);

impl fmt::Display for Key<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '\r' => f.write_str("\\r")?,
                '\n' => f.write_str("\\n")?,
                '\t' => f.write_str("\\t")?,
                c if c.is_control() => write!(f, "\\u{{{:x}}}", u32::from(c))?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// What one key of an options object says.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Patch<T> {
    /// The key is absent: keep the base's value.
    #[default]
    Keep,
    /// The key is `null`: back to the default (the SDK's spread of
    /// `undefined` over a value).
    Clear,
    Set(T),
}

impl<T: Clone> Patch<T> {
    fn over(&self, base: &Option<T>) -> Option<T> {
        match self {
            Patch::Keep => base.clone(),
            Patch::Clear => None,
            Patch::Set(v) => Some(v.clone()),
        }
    }
}

/// A parsed, type-checked options object, not yet applied.
#[derive(Clone, Default)]
pub struct OptionsPatch {
    secret: Patch<String>,
    token: Patch<String>,
    base_url: Patch<String>,
    host: Patch<String>,
    protocol: Patch<String>,
    endpoints: Vec<(String, Option<String>)>,
    run_as_user_id: Patch<String>,
    run_as_child_user_email: Patch<String>,
    timezone: Patch<String>,
    headers: Vec<(String, Option<String>)>,
    timeout: Patch<f64>,
    retries: Patch<f64>,
    retry_delay: Patch<f64>,
    retry_timeout: Patch<bool>,
    max_response_bytes: Patch<f64>,
    connect_timeout: Patch<f64>,
    ca_certificate_pem: Patch<String>,
    user_agent: Patch<String>,
    proxy: Patch<String>,
    http2: Patch<bool>,
}

/// The JSON type names used in messages.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn wrong_type(key: &str, want: &str, got: &Value) -> Error {
    Error::invalid_json(format!(
        "option `{key}` must be {want}, not {}",
        type_name(got)
    ))
}

fn string(key: &str, v: Value) -> Result<Patch<String>> {
    match v {
        Value::Null => Ok(Patch::Clear),
        Value::String(s) => Ok(Patch::Set(s)),
        other => Err(wrong_type(key, "a string", &other)),
    }
}

fn number(key: &str, v: Value) -> Result<Patch<f64>> {
    match v {
        Value::Null => Ok(Patch::Clear),
        Value::Number(n) => n
            .as_f64()
            .map(Patch::Set)
            .ok_or_else(|| Error::invalid_argument(format!("option `{key}` is out of range"))),
        other => Err(wrong_type(key, "a number", &other)),
    }
}

fn boolean(key: &str, v: Value) -> Result<Patch<bool>> {
    match v {
        Value::Null => Ok(Patch::Clear),
        Value::Bool(b) => Ok(Patch::Set(b)),
        other => Err(wrong_type(key, "a boolean", &other)),
    }
}

/// An object of strings; a `null` member means "remove this key".
fn string_map(key: &str, v: Value) -> Result<Vec<(String, Option<String>)>> {
    match v {
        // `extensionOptions.headers || {}`: null changes nothing.
        Value::Null => Ok(Vec::new()),
        Value::Object(map) => map
            .into_iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k, Some(s))),
                Value::Null => Ok((k, None)),
                other => Err(Error::invalid_json(format!(
                    "option `{key}.{}` must be a string, not {}",
                    Key(&k),
                    type_name(&other)
                ))),
            })
            .collect(),
        other => Err(wrong_type(key, "an object of strings", &other)),
    }
}

/// Parse a JSON text into an object, with the messages every entry point
/// shares. `what` names the argument (`options_json`, `request_json`).
pub fn parse_object(json: &str, what: &str) -> Result<Map<String, Value>> {
    match serde_json::from_str::<Value>(json) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(Error::invalid_json(format!(
            "`{what}` must be a JSON object, not {}",
            type_name(&other)
        ))),
        // serde_json's messages quote no input, only positions and token
        // kinds ("expected value at line 1 column 2"), so a secret in a
        // malformed text does not leak through them.
        Err(e) => Err(Error::invalid_json(format!(
            "`{what}` is not valid JSON: {e}"
        ))),
    }
}

impl OptionsPatch {
    /// Parse and type-check an options JSON text. `None` is `{}`.
    pub fn parse(json: Option<&str>) -> Result<OptionsPatch> {
        let Some(json) = json else {
            return Ok(OptionsPatch::default());
        };
        let mut patch = OptionsPatch::default();
        for (key, value) in parse_object(json, "options_json")? {
            let k = key.as_str();
            match k {
                "secret" => patch.secret = string(k, value)?,
                "token" => patch.token = string(k, value)?,
                "baseUrl" => patch.base_url = string(k, value)?,
                "host" => patch.host = string(k, value)?,
                "protocol" => patch.protocol = string(k, value)?,
                "endpoints" => patch.endpoints = string_map(k, value)?,
                "runAsUserId" => patch.run_as_user_id = string(k, value)?,
                "runAsChildUserEmail" => patch.run_as_child_user_email = string(k, value)?,
                "timezone" => patch.timezone = string(k, value)?,
                "headers" => {
                    patch.headers = string_map(k, value)?;
                    check_header_count(k, patch.headers.len())?;
                }
                "timeout" => patch.timeout = number(k, value)?,
                "retries" => patch.retries = number(k, value)?,
                "retryDelay" => patch.retry_delay = number(k, value)?,
                "retryTimeout" => patch.retry_timeout = boolean(k, value)?,
                "maxResponseBytes" => patch.max_response_bytes = number(k, value)?,
                "connectTimeout" => patch.connect_timeout = number(k, value)?,
                "caCertificatePem" => patch.ca_certificate_pem = string(k, value)?,
                "userAgent" => patch.user_agent = string(k, value)?,
                "proxy" => patch.proxy = string(k, value)?,
                "http2" => patch.http2 = boolean(k, value)?,
                "fetchFn" => {
                    return Err(Error::invalid_json(
                        "option `fetchFn` has no C equivalent: the library does its own HTTP",
                    ))
                }
                _ => {
                    return Err(Error::invalid_json(format!(
                        "unknown option `{}`",
                        Key(&key)
                    )))
                }
            }
        }
        Ok(patch)
    }
}

/// The settings that decide how connections are made. Clients whose
/// transports are equal share one connection pool.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TransportSettings {
    pub connect_timeout: Option<Duration>,
    pub ca_certificate_pem: Option<String>,
    pub user_agent: Option<String>,
    pub proxy: ProxySetting,
    /// Offer HTTP/2 to TLS servers (ALPN).
    pub http2: bool,
}

impl Default for TransportSettings {
    fn default() -> Self {
        TransportSettings {
            connect_timeout: None,
            ca_certificate_pem: None,
            user_agent: None,
            proxy: ProxySetting::FromEnvironment,
            http2: true,
        }
    }
}

/// Where requests go through, from the `proxy` option.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum ProxySetting {
    /// No `proxy` option: the environment's (`HTTPS_PROXY`, `NO_PROXY`...).
    FromEnvironment,
    /// `proxy: ""`: straight to the server, whatever the environment says.
    Direct,
    /// Every request through this proxy (checked: http, https or socks5).
    Url(url::Url),
}

impl fmt::Debug for ProxySetting {
    /// Never shows the proxy's credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxySetting::FromEnvironment => f.write_str("FromEnvironment"),
            ProxySetting::Direct => f.write_str("Direct"),
            ProxySetting::Url(u) => write!(
                f,
                "Url({}://{}:{})",
                u.scheme(),
                u.host_str().unwrap_or(""),
                u.port_or_known_default().unwrap_or(0)
            ),
        }
    }
}

impl ProxySetting {
    fn parse(text: &str) -> Result<ProxySetting> {
        if text.is_empty() {
            return Ok(ProxySetting::Direct);
        }
        // The value may hold credentials: it is never quoted.
        let bad = || {
            Error::invalid_argument(
                "option `proxy` must be an http://, https:// or socks5:// URL with a host, or \"\"",
            )
        };
        let url = url::Url::parse(text).map_err(|_| bad())?;
        if !matches!(url.scheme(), "http" | "https" | "socks5" | "socks5h")
            || url.host_str().map_or(true, str::is_empty)
            || !matches!(url.path(), "" | "/")
            || url.query().is_some()
            || url.fragment().is_some()
        {
            return Err(bad());
        }
        Ok(ProxySetting::Url(url))
    }

    fn to_json(&self) -> Option<Value> {
        match self {
            ProxySetting::FromEnvironment => None,
            ProxySetting::Direct => Some(Value::String(String::new())),
            ProxySetting::Url(u) => Some(Value::String(u.to_string())),
        }
    }
}

/// Validated, effective options of one client.
#[derive(Clone, PartialEq)]
pub struct Options {
    pub secret: Option<String>,
    pub token: Option<String>,
    /// The base URL with `host` and `protocol` already applied, as the SDK
    /// keeps it (and passes it on in `extend`).
    pub base_url: Url,
    pub endpoints: StrMap,
    pub run_as_user_id: Option<String>,
    pub run_as_child_user_email: Option<String>,
    pub timezone: Option<String>,
    pub headers: StrMap,
    /// Per-attempt timeout; `None` (or `0` in the JSON) is no timeout.
    pub timeout: Option<Duration>,
    pub retries: u32,
    pub retry_delay: Duration,
    pub retry_timeout: bool,
    pub max_response_bytes: u64,
    pub transport: TransportSettings,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            secret: None,
            token: None,
            base_url: default_base_url(),
            endpoints: StrMap::default(),
            run_as_user_id: None,
            run_as_child_user_email: None,
            timezone: None,
            headers: StrMap::default(),
            timeout: None,
            retries: DEFAULT_RETRIES,
            retry_delay: DEFAULT_RETRY_DELAY,
            retry_timeout: true,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            transport: TransportSettings::default(),
        }
    }
}

/// The default base URL, parsed once: every client without `baseUrl`
/// starts from it.
fn default_base_url() -> Url {
    static PARSED: std::sync::LazyLock<Url> = std::sync::LazyLock::new(|| {
        // A constant, covered by the unit tests: it cannot fail to parse.
        Url::parse(DEFAULT_BASE_URL).expect("DEFAULT_BASE_URL is a valid URL")
    });
    PARSED.clone()
}

/// A millisecond duration in `0..=MAX_MILLIS`; 0 is kept as zero.
pub fn millis(key: &str, ms: f64) -> Result<Duration> {
    if !(0.0..=MAX_MILLIS).contains(&ms) {
        return Err(Error::invalid_argument(format!(
            "option `{key}` must be between 0 and {MAX_MILLIS} milliseconds"
        )));
    }
    // Kept to the microsecond, so that the effective options' JSON reads
    // back as exactly the same duration.
    Ok(Duration::from_micros((ms * 1000.0).round() as u64))
}

/// A timeout: like [`millis`], but 0 means "none", as in the SDK.
pub fn timeout_millis(key: &str, ms: f64) -> Result<Option<Duration>> {
    let d = millis(key, ms)?;
    if d.is_zero() && ms > 0.0 {
        // Too short to count in microseconds, yet a timeout: the shortest
        // there is, not "none", which would wait forever.
        return Ok(Some(Duration::from_micros(1)));
    }
    Ok(Some(d).filter(|d| !d.is_zero()))
}

/// A whole number in `0..=max`.
pub fn whole(key: &str, n: f64, max: f64) -> Result<u64> {
    if n.fract() != 0.0 || !(0.0..=max).contains(&n) {
        return Err(Error::invalid_argument(format!(
            "option `{key}` must be a whole number between 0 and {max}"
        )));
    }
    Ok(n as u64)
}

/// Refuse what cannot go into an HTTP header (CR, LF, NUL, other controls).
/// The value is never quoted in the message.
pub fn check_header_value(key: &str, value: &str) -> Result<()> {
    http::HeaderValue::from_bytes(value.as_bytes())
        .map(drop)
        .map_err(|_| {
            Error::invalid_argument(format!(
                "option `{}` contains a character that cannot be sent in an HTTP header (CR, LF or another control character)",
                Key(key)
            ))
        })
}

/// A name of the options' `headers`: a valid token, and not one of the
/// headers the library frames the message with.
pub fn check_header_name(key: &str, name: &str) -> Result<()> {
    if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Err(Error::invalid_argument(format!(
            "option `{}` has a header name that is not a valid HTTP token",
            Key(key)
        )));
    }
    if headers::is_framing(name) {
        return Err(Error::invalid_argument(format!(
            "option `{}` {}",
            Key(key),
            headers::FRAMING_REFUSED
        )));
    }
    Ok(())
}

/// At most [`headers::MAX_NAMES`] names in a `headers` object: more could
/// not fit in one request's header table (which holds 24,576), and no
/// server takes a fraction of that many.
pub fn check_header_count(key: &str, names: usize) -> Result<()> {
    if names > headers::MAX_NAMES {
        return Err(Error::invalid_argument(format!(
            "option `{key}` has {names} header names, more than the {} allowed",
            headers::MAX_NAMES
        )));
    }
    Ok(())
}

fn check_http_url(key: &str, url: &Url) -> Result<()> {
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(Error::invalid_argument(format!(
            "option `{}` must be an absolute http: or https: URL",
            Key(key)
        )));
    }
    if super::url::has_credentials(url) {
        // fetch refuses to send such a URL; so does the library, at once.
        // The message never quotes the URL: it holds a password.
        return Err(Error::invalid_argument(format!(
            "option `{}` must not contain credentials (user:password@): send them in a header",
            Key(key)
        )));
    }
    Ok(())
}

/// Merge a string map patch key by key (`{...current, ...(ext || {})}`).
fn merge_map(base: &StrMap, patch: &[(String, Option<String>)]) -> StrMap {
    let mut out = base.clone();
    for (k, v) in patch {
        match v {
            Some(v) => out.set(k.clone(), v.clone()),
            None => out.remove(k),
        }
    }
    out
}

/// [`merge_map`] for header names, which HTTP compares in any letter case:
/// a later generation's `X-A` replaces (or with `null` removes) an earlier
/// `x-a`.
fn merge_headers(base: &StrMap, patch: &[(String, Option<String>)]) -> StrMap {
    let mut out = base.clone();
    for (k, v) in patch {
        match v {
            Some(v) => out.set_header(k.clone(), v.clone()),
            None => out.remove_header(k),
        }
    }
    out
}

impl Options {
    /// Options for `new`: the patch over the defaults.
    pub fn new(patch: &OptionsPatch) -> Result<Options> {
        Options::default().apply(patch)
    }

    /// The SDK's `extend`: a shallow merge of the patch over these options,
    /// except `headers` and `endpoints`, which merge key by key. Values are
    /// validated again, so the result is as checked as a new client.
    pub fn apply(&self, p: &OptionsPatch) -> Result<Options> {
        // baseUrl: the SDK writes `options.baseUrl || default`, then applies
        // host and protocol over it.
        let mut base_url = match &p.base_url {
            Patch::Keep => self.base_url.clone(),
            Patch::Clear => default_base_url(),
            Patch::Set(s) if s.is_empty() => default_base_url(),
            Patch::Set(s) => Url::parse(s).map_err(|_| {
                Error::invalid_argument("option `baseUrl` must be an absolute http: or https: URL")
            })?,
        };
        check_http_url("baseUrl", &base_url)?;
        if let Patch::Set(host) = &p.host {
            if !host.is_empty() {
                set_host(&mut base_url, host)?;
            }
        }
        if let Patch::Set(protocol) = &p.protocol {
            if !protocol.is_empty() {
                set_protocol(&mut base_url, protocol)?;
            }
        }

        let endpoints = merge_map(&self.endpoints, &p.endpoints);
        for (name, target) in endpoints.iter() {
            let resolved = base_url.join(target).map_err(|_| {
                Error::invalid_argument(format!(
                    "option `endpoints.{}` is not a valid path or URL",
                    Key(name)
                ))
            })?;
            check_http_url(&format!("endpoints.{name}"), &resolved)?;
        }
        let headers = merge_headers(&self.headers, &p.headers);
        check_header_count("headers", headers.len())?;
        for (name, value) in headers.iter() {
            check_header_name(&format!("headers.{name}"), name)?;
            check_header_value(&format!("headers.{name}"), value)?;
        }

        let checked = |key: &str, patch: &Patch<String>, base: &Option<String>| {
            let v = patch.over(base);
            if let Some(s) = &v {
                check_header_value(key, s)?;
            }
            Ok::<_, Error>(v)
        };
        let secret = checked("secret", &p.secret, &self.secret)?;
        let token = checked("token", &p.token, &self.token)?;
        let run_as_user_id = checked("runAsUserId", &p.run_as_user_id, &self.run_as_user_id)?;
        let run_as_child_user_email = checked(
            "runAsChildUserEmail",
            &p.run_as_child_user_email,
            &self.run_as_child_user_email,
        )?;
        let timezone = checked("timezone", &p.timezone, &self.timezone)?;
        let user_agent = checked("userAgent", &p.user_agent, &self.transport.user_agent)?;

        let timeout = match p.timeout {
            Patch::Keep => self.timeout,
            Patch::Clear => None,
            Patch::Set(ms) => timeout_millis("timeout", ms)?,
        };
        let connect_timeout = match p.connect_timeout {
            Patch::Keep => self.transport.connect_timeout,
            Patch::Clear => None,
            Patch::Set(ms) => timeout_millis("connectTimeout", ms)?,
        };
        let retries = match p.retries {
            Patch::Keep => self.retries,
            Patch::Clear => DEFAULT_RETRIES,
            Patch::Set(n) => whole("retries", n, MAX_RETRIES as f64)? as u32,
        };
        let retry_delay = match p.retry_delay {
            Patch::Keep => self.retry_delay,
            Patch::Clear => DEFAULT_RETRY_DELAY,
            Patch::Set(ms) => millis("retryDelay", ms)?,
        };
        let max_response_bytes = match p.max_response_bytes {
            Patch::Keep => self.max_response_bytes,
            Patch::Clear => DEFAULT_MAX_RESPONSE_BYTES,
            Patch::Set(n) => {
                let n = whole("maxResponseBytes", n, MAX_SAFE_INTEGER)?;
                if n == 0 {
                    return Err(Error::invalid_argument(
                        "option `maxResponseBytes` must be at least 1",
                    ));
                }
                n
            }
        };
        let proxy = match &p.proxy {
            Patch::Keep => self.transport.proxy.clone(),
            Patch::Clear => ProxySetting::FromEnvironment,
            Patch::Set(text) => ProxySetting::parse(text)?,
        };
        let ca_certificate_pem = p
            .ca_certificate_pem
            .over(&self.transport.ca_certificate_pem);
        if let Some(pem) = &ca_certificate_pem {
            check_pem(pem)?;
        }

        Ok(Options {
            secret,
            token,
            base_url,
            endpoints,
            run_as_user_id,
            run_as_child_user_email,
            timezone,
            headers,
            timeout,
            retries,
            retry_delay,
            retry_timeout: match p.retry_timeout {
                Patch::Keep => self.retry_timeout,
                Patch::Clear => true,
                Patch::Set(b) => b,
            },
            max_response_bytes,
            transport: TransportSettings {
                connect_timeout,
                ca_certificate_pem,
                user_agent,
                proxy,
                http2: match p.http2 {
                    Patch::Keep => self.transport.http2,
                    Patch::Clear => true,
                    Patch::Set(b) => b,
                },
            },
        })
    }

    /// The credential sent as `authorization: Bearer ...`: `token` when it is
    /// a non-empty string, else `secret` when non-empty (the SDK sends no
    /// header for an empty secret).
    pub fn credential(&self) -> Option<&str> {
        [&self.token, &self.secret]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .find(|s| !s.is_empty())
    }

    /// The effective options as a JSON object, valid input for `new`. This is
    /// the only output of the library that contains the secret.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        put_str_into(&mut m, "secret", &self.secret);
        put_str_into(&mut m, "token", &self.token);
        m.insert("baseUrl".into(), Value::String(self.base_url.to_string()));
        m.insert("endpoints".into(), self.endpoints.to_json());
        put_str_into(&mut m, "runAsUserId", &self.run_as_user_id);
        put_str_into(&mut m, "runAsChildUserEmail", &self.run_as_child_user_email);
        put_str_into(&mut m, "timezone", &self.timezone);
        m.insert("headers".into(), self.headers.to_json());
        if let Some(t) = self.timeout {
            m.insert("timeout".into(), ms_json(t));
        }
        m.insert("retries".into(), self.retries.into());
        m.insert("retryDelay".into(), ms_json(self.retry_delay));
        m.insert("retryTimeout".into(), self.retry_timeout.into());
        m.insert("maxResponseBytes".into(), self.max_response_bytes.into());
        if let Some(t) = self.transport.connect_timeout {
            m.insert("connectTimeout".into(), ms_json(t));
        }
        put_str_into(
            &mut m,
            "caCertificatePem",
            &self.transport.ca_certificate_pem,
        );
        put_str_into(&mut m, "userAgent", &self.transport.user_agent);
        if let Some(proxy) = self.transport.proxy.to_json() {
            m.insert("proxy".into(), proxy);
        }
        m.insert("http2".into(), self.transport.http2.into());
        Value::Object(m)
    }
}

fn put_str_into(m: &mut Map<String, Value>, k: &str, v: &Option<String>) {
    if let Some(v) = v {
        m.insert(k.to_owned(), Value::String(v.clone()));
    }
}

/// Milliseconds as JSON: a whole number when whole, else a fraction.
fn ms_json(d: Duration) -> Value {
    let ms = d.as_micros() as f64 / 1000.0;
    if ms.fract() == 0.0 {
        Value::from(ms as u64)
    } else {
        Value::from(ms)
    }
}

/// The WHATWG `url.host = value` setter, strictly: `host` or `host:port`.
/// Unlike the browser setter, which ignores a value it cannot parse, a bad
/// value is an error.
fn set_host(url: &mut Url, host: &str) -> Result<()> {
    let bad =
        || Error::invalid_argument("option `host` must be a host name with an optional :port");
    let probe = Url::parse(&format!("http://{host}/")).map_err(|_| bad())?;
    if probe.path() != "/"
        || probe.query().is_some()
        || probe.fragment().is_some()
        || !probe.username().is_empty()
        || probe.password().is_some()
        || host.contains(['/', '\\', '?', '#', '@'])
    {
        return Err(bad());
    }
    url.set_host(probe.host_str()).map_err(|_| bad())?;
    // `probe` is http, so an explicit ":80" was dropped by the parser;
    // recover it from the text.
    let port = probe.port().or_else(|| {
        host.rsplit_once(':')
            .filter(|(_, p)| !p.contains(']'))
            .and_then(|(_, p)| p.parse::<u16>().ok())
    });
    if let Some(port) = port {
        url.set_port(Some(port)).map_err(|_| bad())?;
    }
    Ok(())
}

/// The WHATWG `url.protocol = value` setter for `http:` and `https:`.
fn set_protocol(url: &mut Url, protocol: &str) -> Result<()> {
    let scheme = match protocol.trim_end_matches(':') {
        s if s.eq_ignore_ascii_case("http") => "http",
        s if s.eq_ignore_ascii_case("https") => "https",
        _ => {
            return Err(Error::invalid_argument(
                "option `protocol` must be \"http:\" or \"https:\"",
            ))
        }
    };
    url.set_scheme(scheme)
        .map_err(|_| Error::invalid_argument("option `protocol` cannot be applied to `baseUrl`"))
}

fn check_pem(pem: &str) -> Result<()> {
    crate::tls::parse_pem(pem).map(drop)
}

impl fmt::Debug for Options {
    /// Shows option names and non-sensitive values only: credentials and
    /// header values (which may carry credentials of their own) are redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("Options")
            .field("secret", &redact(&self.secret))
            .field("token", &redact(&self.token))
            .field("base_url", &self.base_url.as_str())
            .field("endpoints", &self.endpoints.iter().collect::<Vec<_>>())
            .field("run_as_user_id", &self.run_as_user_id)
            .field("run_as_child_user_email", &self.run_as_child_user_email)
            .field("timezone", &self.timezone)
            .field("headers", &self.headers)
            .field("timeout", &self.timeout)
            .field("retries", &self.retries)
            .field("retry_delay", &self.retry_delay)
            .field("retry_timeout", &self.retry_timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("transport", &self.transport)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(json: &str) -> Result<Options> {
        Options::new(&OptionsPatch::parse(Some(json))?)
    }

    #[test]
    fn defaults() {
        let o = opts("{}").unwrap();
        assert_eq!(o.base_url.as_str(), "https://api.chatbotkit.com/");
        assert_eq!(o.retries, 3);
        assert_eq!(o.retry_delay, Duration::from_millis(250));
        assert!(o.retry_timeout);
    }

    #[test]
    fn host_and_protocol_rewrite_the_base() {
        let o = opts(
            r#"{"baseUrl":"https://example.com:8443/x","host":"127.0.0.1:9","protocol":"http:"}"#,
        )
        .unwrap();
        assert_eq!(o.base_url.as_str(), "http://127.0.0.1:9/x");
        let o = opts(r#"{"baseUrl":"http://a:81/","host":"b"}"#).unwrap();
        assert_eq!(o.base_url.as_str(), "http://b:81/");
        assert!(opts(r#"{"host":"a/b"}"#).is_err());
        assert!(opts(r#"{"protocol":"ftp:"}"#).is_err());
    }

    #[test]
    fn unknown_and_wrong_types_name_the_key() {
        let e = opts(r#"{"secrte":"x"}"#).unwrap_err();
        assert!(e.message.contains("secrte"), "{}", e.message);
        let e = opts(r#"{"retries":"3"}"#).unwrap_err();
        assert!(e.message.contains("retries") && e.message.contains("number"));
        let e = opts(r#"{"headers":{"a":1}}"#).unwrap_err();
        assert!(e.message.contains("headers.a"));
    }

    #[test]
    fn secret_is_never_quoted() {
        let e = opts(r#"{"secret":"sk_live_XYZ\nfoo"}"#).unwrap_err();
        assert!(!e.message.contains("sk_live_XYZ"));
        let e = opts(r#"{"secret":["sk_live_XYZ"]}"#).unwrap_err();
        assert!(!e.message.contains("sk_live_XYZ"));
        let o =
            opts(r#"{"secret":"sk_live_XYZ","headers":{"authorization":"Bearer sk_live_XYZ"}}"#)
                .unwrap();
        assert!(!format!("{o:?}").contains("sk_live_XYZ"));
    }

    #[test]
    fn extend_merges_like_the_sdk() {
        let parent = opts(
            r#"{"secret":"a","headers":{"x":"1","y":"2"},"endpoints":{"/p":"/q"},"retries":1}"#,
        )
        .unwrap();
        let child = parent
            .apply(
                &OptionsPatch::parse(Some(r#"{"headers":{"y":"3","z":"4"},"retries":null}"#))
                    .unwrap(),
            )
            .unwrap();
        let h: Vec<_> = child.headers.iter().collect();
        assert_eq!(h, vec![("x", "1"), ("y", "3"), ("z", "4")]);
        assert_eq!(child.endpoints.get("/p"), Some("/q"));
        assert_eq!(child.retries, 3);
        assert_eq!(child.secret.as_deref(), Some("a"));
        let grandchild = child
            .apply(&OptionsPatch::parse(Some(r#"{"headers":{"x":null}}"#)).unwrap())
            .unwrap();
        assert_eq!(grandchild.headers.get("x"), None);
    }

    #[test]
    fn options_json_round_trips() {
        let o = opts(r#"{"secret":"s","timeout":1500,"host":"h:1","protocol":"http"}"#).unwrap();
        let again = opts(&o.to_json().to_string()).unwrap();
        assert_eq!(o, again);
    }

    #[test]
    fn ranges() {
        assert!(opts(r#"{"retries":-1}"#).is_err());
        assert!(opts(r#"{"retries":1.5}"#).is_err());
        assert!(opts(r#"{"timeout":1e300}"#).is_err());
        assert_eq!(opts(r#"{"timeout":0}"#).unwrap().timeout, None);
        assert!(opts(r#"{"maxResponseBytes":0}"#).is_err());
    }
}
