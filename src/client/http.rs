//! One request, as the SDK's `withRetry(withTimeout(fetch))` sends it:
//! attempts, per-attempt timeout, retries with a doubling delay, bounded body
//! reads, and the mapping of transport failures onto [`Error`].

use std::time::Duration;

use http::{HeaderMap, Method, StatusCode};
use url::Url;

use super::error::{Error, Result, Status};
use super::redact::Redactor;
use crate::log;

/// Statuses the SDK retries (`DEFAULT_RETRY_STATUSES`).
const RETRY_STATUSES: [u16; 5] = [429, 500, 502, 503, 504];
/// The longest wait a `Retry-After` header can ask for.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// A request body. Kept as data so that each attempt can build its own.
#[derive(Clone, Debug)]
pub enum Body {
    Empty,
    Bytes(bytes::Bytes),
    /// A multipart form with one file field named `file`.
    File {
        name: String,
        mime: String,
        data: bytes::Bytes,
    },
}

/// Everything needed to send a request, built once per call.
#[derive(Debug)]
pub struct Request {
    pub method: Method,
    pub url: Url,
    pub headers: std::sync::Arc<HeaderMap>,
    pub body: Body,
    /// The client's credentials, kept out of every error and log line.
    pub redact: Redactor,
    /// For a fetch with `cache`: its key in the handle's store (the cache
    /// key, the method and the URL).
    pub cache: Option<String>,
}

/// How attempts are made and retried.
#[derive(Clone, Debug)]
pub struct Policy {
    pub timeout: Option<Duration>,
    pub retries: u32,
    pub retry_delay: Duration,
    pub retry_timeout: bool,
    pub max_response_bytes: u64,
}

/// A final response with its body read.
#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    /// The reason phrase the server sent, when it differs from the canonical one.
    pub reason: Option<String>,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
    /// A 2xx body left unread for the caller to stream (see [`send`]).
    pub unread: Option<reqwest::Body>,
}

impl Response {
    /// The SDK's test for a JSON response: the media type of `content-type`,
    /// lowercased and trimmed, is `application/json`.
    pub fn is_json(&self) -> bool {
        self.headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
    }

    /// The `content-encoding` of the body, when it is anything but
    /// `identity` (the library asks for none and decodes none).
    pub fn content_coding(&self) -> Option<String> {
        let mut codings = Vec::new();
        for value in self.headers.get_all(http::header::CONTENT_ENCODING) {
            for coding in String::from_utf8_lossy(value.as_bytes()).split(',') {
                let coding = coding.trim();
                if !coding.is_empty() && !coding.eq_ignore_ascii_case("identity") {
                    codings.push(coding.to_owned());
                }
            }
        }
        (!codings.is_empty()).then(|| codings.join(", "))
    }

    /// Turn a non-2xx response into the SDK's error.
    pub fn into_error(self) -> Error {
        Error::from_response(self.status.as_u16(), self.reason.as_deref(), &self.body)
    }
}

/// Names the proxy (`host:port`) that a request to a URL goes through, if
/// any: for the message of a failed connection.
pub type ProxyOf<'a> = &'a (dyn Fn(&Url) -> Option<String> + Sync);

/// Send `req` with retries. Returns the final response, 2xx or not. With
/// `stream`, a 2xx body is left unread, in [`Response::unread`], for the
/// caller to read as it arrives; only failures before the response headers
/// are retried either way (a body is never read twice).
pub async fn send(
    http: &reqwest::Client,
    proxy_of: ProxyOf<'_>,
    req: &Request,
    policy: &Policy,
    stream: bool,
) -> Result<Response> {
    let mut delay = policy.retry_delay;
    let mut attempt: u32 = 0;
    loop {
        attempt += 1;
        let started = std::time::Instant::now();
        // Redacted before it is logged: a failure may quote the server.
        let outcome = req
            .redact
            .outcome(attempt_once(http, proxy_of, req, policy, stream).await);
        let retries_left = attempt <= policy.retries;
        let wait = match &outcome {
            Ok(resp) if RETRY_STATUSES.contains(&resp.status.as_u16()) && retries_left => {
                Some(delay.max(retry_after(resp).unwrap_or_default()))
            }
            Err(e) if retries_left && retryable(e, policy) => Some(delay),
            _ => None,
        };
        log::attempt(req, attempt, started.elapsed(), &outcome, wait);
        match wait {
            Some(wait) => {
                tokio::time::sleep(wait).await;
                delay = delay.saturating_mul(2);
            }
            None => {
                let streaming = matches!(&outcome, Ok(r) if r.unread.is_some());
                if !streaming && outcome.as_ref().map_or(true, closes_connection) {
                    // One turn for the connection task before the caller may
                    // leave the runtime (a lane is driven only during calls):
                    // a connection that must not be reused is then closed
                    // now, not at the next call.
                    tokio::task::yield_now().await;
                }
                return outcome.map_err(|e| timed_out_where(e, req, attempt));
            }
        }
    }
}

/// A timeout says which request it ended and after how many attempts: the
/// limit alone does not tell a slow server from a dead one.
fn timed_out_where(mut e: Error, req: &Request, attempts: u32) -> Error {
    if e.status == Status::Timeout {
        e.message = format!(
            "{} {}: {}, after {attempts} attempt{}",
            req.method,
            log::target(&req.url),
            e.message,
            if attempts == 1 { "" } else { "s" }
        );
    }
    e
}

/// Whether the server said it closes the connection after this response.
fn closes_connection(resp: &Response) -> bool {
    resp.headers
        .get_all(http::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|token| token.trim().eq_ignore_ascii_case("close"))
}

/// Network errors are retried; timeouts only when `retryTimeout` is on;
/// nothing else (a response over `maxResponseBytes`, a cancellation).
fn retryable(e: &Error, policy: &Policy) -> bool {
    match e.status {
        Status::Network => e.http_status == 0,
        Status::Timeout => policy.retry_timeout && e.http_status == 0,
        _ => false,
    }
}

/// The wait a 429 or 503 asks for in `Retry-After` (seconds or an HTTP
/// date), capped at [`MAX_RETRY_AFTER`].
fn retry_after(resp: &Response) -> Option<Duration> {
    if !matches!(resp.status.as_u16(), 429 | 503) {
        return None;
    }
    let value = resp.headers.get(http::header::RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value, std::time::SystemTime::now()).map(|w| w.min(MAX_RETRY_AFTER))
}

/// RFC 9110 `Retry-After`: `delay-seconds` (`1*DIGIT`, so no sign, point
/// or exponent), else an HTTP date, measured from `now`. A number of
/// seconds too large for a `u64` is still a delay, the longest there is.
fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim_matches([' ', '\t']);
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(
            value.parse::<u64>().unwrap_or(u64::MAX),
        ));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or_default())
}

/// One attempt: headers within `timeout`, then the body within `timeout`
/// again and within `max_response_bytes`.
async fn attempt_once(
    http: &reqwest::Client,
    proxy_of: ProxyOf<'_>,
    req: &Request,
    policy: &Policy,
    stream: bool,
) -> Result<Response> {
    // The timeout covers the redirects too, as the SDK's covers fetch.
    let resp = within(
        policy.timeout,
        "the response headers",
        follow_redirects(http, proxy_of, req),
    )
    .await??;

    // Taken apart, so that the head is moved out rather than copied.
    let (head, body) = http::Response::<reqwest::Body>::from(resp).into_parts();
    let status = head.status;
    let reason = head
        .extensions
        .get::<hyper::ext::ReasonPhrase>()
        .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned());
    let headers = head.headers;
    if stream && status.is_success() {
        return Ok(Response {
            status,
            reason,
            headers,
            body: bytes::Bytes::new(),
            unread: Some(body),
        });
    }
    let body = within(
        policy.timeout,
        "the response body",
        read_body(body, policy.max_response_bytes),
    )
    .await
    .map_err(|e| Error {
        http_status: status.as_u16(),
        ..e
    })?
    .map_err(|e| Error {
        http_status: status.as_u16(),
        ..e
    })?;
    Ok(Response {
        status,
        reason,
        headers,
        body,
        unread: None,
    })
}

/// The most redirects one attempt follows, as fetch.
const MAX_REDIRECTS: usize = 20;

/// Send `req`, following redirects as fetch does (`redirect: 'follow'`):
/// 303, and 301/302 after a POST, turn into a GET without a body; 307 and 308
/// resend the request as is; a redirect to another origin (scheme, host or
/// port) drops the credentials (`authorization`, `cookie`,
/// `proxy-authorization`) for that hop and every later one. reqwest's own
/// policy compares hosts only, so an https-to-http redirect on the same host
/// would carry the secret in clear text: hence this loop.
async fn follow_redirects(
    http: &reqwest::Client,
    proxy_of: ProxyOf<'_>,
    req: &Request,
) -> Result<reqwest::Response> {
    use http::header::{
        AUTHORIZATION, CONTENT_ENCODING, CONTENT_LANGUAGE, CONTENT_LOCATION, CONTENT_TYPE, COOKIE,
        LOCATION, PROXY_AUTHORIZATION,
    };
    let mut method = req.method.clone();
    let mut url = req.url.clone();
    // The request's own headers until a hop has to drop some: one copy per hop.
    let mut headers = std::borrow::Cow::Borrowed(&*req.headers);
    let mut body = Some(&req.body);
    for _ in 0..=MAX_REDIRECTS {
        // Built as a request, not through reqwest's builder, whose header
        // merge would copy every header once more.
        let mut request = reqwest::Request::new(method.clone(), url.clone());
        *request.headers_mut() = headers.clone().into_owned();
        match body {
            None | Some(Body::Empty) => {}
            Some(Body::Bytes(b)) => *request.body_mut() = Some(b.clone().into()),
            Some(Body::File { name, mime, data }) => {
                let part = reqwest::multipart::Part::stream(data.clone())
                    .file_name(form_data_escape(name))
                    .mime_str(mime)
                    .map_err(|_| {
                        Error::invalid_argument("`file.type` is not a valid media type")
                    })?;
                request = reqwest::RequestBuilder::from_parts(http.clone(), request)
                    .multipart(reqwest::multipart::Form::new().part("file", part))
                    .build()
                    .map_err(|e| transport_error(&method, &url, e, proxy_of))?;
            }
        }
        if log::enabled(log::Level::Debug) {
            if let Some(proxy) = proxy_of(&url) {
                log::debug(|| {
                    req.redact.text(format!(
                        "{method} {} goes through proxy {proxy}",
                        log::target(&url)
                    ))
                });
            }
        }
        let resp = http
            .execute(request)
            .await
            .map_err(|e| transport_error(&method, &url, e, proxy_of))?;
        log::connection(&url, &resp, |line| req.redact.text(line));
        let status = resp.status().as_u16();
        let location = resp.headers().get(LOCATION).and_then(|v| v.to_str().ok());
        let (true, Some(location)) = (matches!(status, 301 | 302 | 303 | 307 | 308), location)
        else {
            return Ok(resp);
        };
        let next = url
            .join(location)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| {
                Error::network(format!(
                    "{method} {}: redirected to a location that is not an http: or https: URL",
                    url.path()
                ))
            })?;
        if (status == 303 && method != Method::HEAD)
            || (matches!(status, 301 | 302) && method == Method::POST)
        {
            method = Method::GET;
            body = None;
            for name in [
                CONTENT_TYPE,
                CONTENT_ENCODING,
                CONTENT_LANGUAGE,
                CONTENT_LOCATION,
            ] {
                headers.to_mut().remove(name);
            }
        }
        let cross_origin = next.origin() != url.origin();
        if cross_origin {
            for name in [AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION] {
                headers.to_mut().remove(name);
            }
        }
        // Redacted: a hostile server may echo the credential into Location.
        log::debug(|| {
            req.redact.text(format!(
                "{} {}: {status} redirect to {method} {}{}",
                req.method,
                log::target(&url),
                log::target(&next),
                if cross_origin {
                    " (another origin: credentials dropped)"
                } else {
                    ""
                }
            ))
        });
        url = next;
    }
    Err(Error::network(format!(
        "{method} {}: more than {MAX_REDIRECTS} redirects",
        url.path()
    )))
}

/// A file name as fetch's `FormData` writes it into the part header: CR, LF
/// and `"` become `%0D`, `%0A` and `%22`. (reqwest would escape them with a
/// backslash, leaving CR and LF raw: a header injection inside the part.)
fn form_data_escape(name: &str) -> String {
    name.replace('\r', "%0D")
        .replace('\n', "%0A")
        .replace('"', "%22")
}

/// Run `fut` within `limit`, mapping the elapsed limit onto the SDK's
/// `TimeoutError`.
pub(crate) async fn within<F: std::future::Future>(
    limit: Option<Duration>,
    awaited: &str,
    fut: F,
) -> Result<F::Output> {
    match limit {
        None => Ok(fut.await),
        Some(limit) => tokio::time::timeout(limit, fut).await.map_err(|_| {
            Error::timeout(format!(
                "{awaited} did not arrive within `timeout` ({} ms)",
                limit.as_millis()
            ))
        }),
    }
}

/// Read the body, refusing it as soon as it is known to exceed `max` bytes
/// (by its `content-length`, or while streaming) without buffering the rest.
async fn read_body(mut body: reqwest::Body, max: u64) -> Result<bytes::Bytes> {
    use hyper::body::Body as _;
    let too_large = || {
        Error::invalid_response(
            0,
            format!("the response body is larger than maxResponseBytes ({max} bytes)"),
        )
    };
    if body.size_hint().exact().is_some_and(|n| n > max) {
        return Err(too_large());
    }
    // A body that arrives in one chunk (a session's always does) is kept as
    // it came, without a copy.
    let Some(first) = next_chunk(&mut body).await? else {
        return Ok(bytes::Bytes::new());
    };
    if first.len() as u64 > max {
        return Err(too_large());
    }
    let Some(second) = next_chunk(&mut body).await? else {
        return Ok(first);
    };
    let mut all = bytes::BytesMut::from(&first[..]);
    let mut next = Some(second);
    while let Some(chunk) = next {
        if (all.len() + chunk.len()) as u64 > max {
            return Err(too_large());
        }
        all.extend_from_slice(&chunk);
        next = next_chunk(&mut body).await?;
    }
    Ok(all.freeze())
}

/// The next non-empty data chunk of `body` (trailers are skipped).
pub(crate) async fn next_chunk(body: &mut reqwest::Body) -> Result<Option<bytes::Bytes>> {
    use http_body_util::BodyExt as _;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            Error::network(format!("reading the response body failed: {}", chain(&e)))
        })?;
        if let Ok(data) = frame.into_data() {
            if !data.is_empty() {
                return Ok(Some(data));
            }
        }
    }
    Ok(None)
}

/// Map a reqwest failure before the response headers.
fn transport_error(method: &Method, url: &Url, e: reqwest::Error, proxy_of: ProxyOf<'_>) -> Error {
    if e.is_timeout() {
        return Error::timeout(format!(
            "the connection to {} was not made within `connectTimeout`",
            url.host_str().unwrap_or("")
        ));
    }
    let connecting = e.is_connect();
    let detail = crate::tls::describe_failure(&e, url.host_str().unwrap_or(""))
        .unwrap_or_else(|| chain(&e.without_url()));
    // A connection that could not be made through a proxy failed at the
    // proxy: name it (host and port only, never its credentials).
    let detail = match connecting.then(|| proxy_of(url)).flatten() {
        Some(proxy) => format!("could not connect through proxy {proxy}: {detail}"),
        None => detail,
    };
    Error::network(format!(
        "{} {}://{}{}: {}",
        method,
        url.scheme(),
        url.host_str().unwrap_or(""),
        url.port().map(|p| format!(":{p}")).unwrap_or_default(),
        detail
    ))
}

/// An error and its sources, joined, without repeating a message that a
/// wrapper already quoted.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = describe(e);
    let mut source = e.source();
    while let Some(s) = source {
        let text = describe(s);
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// One error's own text, in words that say what happened where hyper's do
/// not: its "message head is too large" is, almost always, a response with
/// more headers than it parses. (hyper tells that error apart only to
/// servers: `is_parse_too_large` needs its server feature; its text is
/// fixed, and tests/hostile_input.rs would notice a change.)
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let text = e.to_string();
    match e.downcast_ref::<hyper::Error>() {
        Some(_) if text == "message head is too large" => format!(
            "the response has more than {MAX_RESPONSE_HEADERS} headers, or a head over {} KiB, more than the library reads",
            MAX_RESPONSE_HEAD / 1024
        ),
        _ => text,
    }
}

/// hyper's limits on a response head: header count and bytes.
const MAX_RESPONSE_HEADERS: usize = 100;
const MAX_RESPONSE_HEAD: usize = 8192 + 4096 * 100;

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    fn after(value: &str) -> Option<Duration> {
        parse_retry_after(value, SystemTime::UNIX_EPOCH)
    }

    #[test]
    fn retry_after_is_delay_seconds_or_a_date() {
        assert_eq!(after("7"), Some(Duration::from_secs(7)));
        assert_eq!(after(" 007 "), Some(Duration::from_secs(7)));
        assert_eq!(
            after("18446744073709551615"),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(
            after("18446744073709551616"),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(after(&"9".repeat(400)), Some(Duration::from_secs(u64::MAX)));
        assert_eq!(
            after("Thu, 01 Jan 1970 00:01:00 GMT"),
            Some(Duration::from_secs(60))
        );
        for loose in [
            "+1", "-1", "1.5", "1e3", "0x10", "", " ", "1 2", "\u{661}", "soon",
        ] {
            assert_eq!(after(loose), None, "{loose:?}");
        }
    }

    #[test]
    fn form_data_file_names_are_percent_escaped() {
        assert_eq!(form_data_escape("a\"b\r\nc\\d.txt"), "a%22b%0D%0Ac\\d.txt");
    }
}
