//! The options of `clientFetch` (`cbk_*_fetch`) and the shape of its result.

use base64::Engine as _;
use http::Method;
use serde_json::{Map, Value};

use super::error::{Error, Result};
use super::http::{Body, Response};
use super::options::{millis, parse_object, timeout_millis, whole, Key, StrMap, MAX_RETRIES};

/// A parsed `clientFetch` options object.
#[derive(Debug, Default)]
pub struct FetchOptions {
    pub method: Option<Method>,
    pub headers: StrMap,
    pub query: Option<Map<String, Value>>,
    /// The body and the `content-type` the SDK gives it, if any.
    pub body: Option<(Body, Option<http::HeaderValue>)>,
    pub external: bool,
    pub endpoint: Option<String>,
    /// `Some(None)` is an explicit "no timeout".
    pub timeout: Option<Option<std::time::Duration>>,
    pub retries: Option<u32>,
    pub retry_delay: Option<std::time::Duration>,
    pub retry_timeout: Option<bool>,
    /// `cache(key)`: the key of the handle's store of results.
    pub cache: Option<String>,
}

fn want<'a>(
    key: &str,
    v: &'a Value,
    what: &str,
    ok: impl Fn(&'a Value) -> bool,
) -> Result<&'a Value> {
    if ok(v) {
        Ok(v)
    } else {
        Err(Error::invalid_json(format!(
            "fetch option `{}` must be {what}",
            Key(key)
        )))
    }
}

fn str_of<'a>(key: &str, v: &'a Value) -> Result<&'a str> {
    Ok(want(key, v, "a string", Value::is_string)?
        .as_str()
        .unwrap_or_default())
}

fn num_of(key: &str, v: &Value) -> Result<f64> {
    Ok(want(key, v, "a number", Value::is_number)?
        .as_f64()
        .unwrap_or(f64::NAN))
}

fn base64_of(key: &str, v: &Value) -> Result<bytes::Bytes> {
    base64::engine::general_purpose::STANDARD
        .decode(str_of(key, v)?)
        .map(bytes::Bytes::from)
        .map_err(|_| Error::invalid_argument(format!("fetch option `{key}` is not valid base64")))
}

impl FetchOptions {
    /// Parse the options JSON of a fetch call. `None` is `{}`.
    pub fn parse(json: Option<&str>) -> Result<FetchOptions> {
        let mut out = FetchOptions::default();
        let Some(json) = json else {
            return Ok(out);
        };
        let mut record = None;
        let mut data = None;
        let mut buffer = None;
        let mut file = None;
        for (key, v) in parse_object(json, "options_json")? {
            let k = key.as_str();
            // `null` is "not set" for every key.
            if v.is_null() {
                continue;
            }
            match k {
                "method" => out.method = Some(method(str_of(k, &v)?)?),
                "headers" => {
                    let obj = want(k, &v, "an object of strings", Value::is_object)?;
                    let names = obj.as_object().map_or(0, |o| o.len());
                    // Counted first: each name below is looked up among the
                    // ones before it.
                    if names > super::headers::MAX_NAMES {
                        return Err(Error::invalid_argument(format!(
                            "fetch option `headers` has {names} header names, more than the {} allowed",
                            super::headers::MAX_NAMES
                        )));
                    }
                    for (name, value) in obj.as_object().into_iter().flatten() {
                        if value.is_null() {
                            continue;
                        }
                        let value = str_of(&format!("headers.{name}"), value)?;
                        out.headers.set_header(name.clone(), value.to_owned());
                    }
                }
                "query" => {
                    let obj = want(k, &v, "an object", Value::is_object)?;
                    out.query = obj.as_object().cloned();
                }
                // The SDK reads `record` only; `data`, its pre-2024 name,
                // stands in when `record` is absent, whatever the key order.
                "record" => record = Some(v),
                "data" => {
                    data.get_or_insert(v);
                }
                "buffer" => buffer = Some(base64_of(k, &v)?),
                "file" => file = Some(file_body(&v)?),
                "external" => {
                    out.external = want(k, &v, "a boolean", Value::is_boolean)?
                        .as_bool()
                        .unwrap_or_default()
                }
                "endpoint" => out.endpoint = Some(str_of(k, &v)?.to_owned()),
                "cache" => out.cache = Some(str_of(k, &v)?.to_owned()),
                "timeout" => out.timeout = Some(timeout_millis("timeout", num_of(k, &v)?)?),
                "retries" => {
                    out.retries = Some(whole("retries", num_of(k, &v)?, MAX_RETRIES as f64)? as u32)
                }
                "retryDelay" => out.retry_delay = Some(millis("retryDelay", num_of(k, &v)?)?),
                "retryTimeout" => {
                    out.retry_timeout = Some(
                        want(k, &v, "a boolean", Value::is_boolean)?
                            .as_bool()
                            .unwrap_or_default(),
                    )
                }
                "fetchFn" | "abortSignal" => {
                    return Err(Error::invalid_json(format!(
                        "fetch option `{k}` has no C equivalent"
                    )))
                }
                _ => {
                    return Err(Error::invalid_json(format!(
                        "unknown fetch option `{}`",
                        Key(k)
                    )))
                }
            }
        }
        // The SDK's precedence: record, then buffer, then file.
        out.body = if let Some(record) = record.or(data) {
            Some((
                Body::Bytes(record.to_string().into()),
                Some(super::headers::APPLICATION_JSON),
            ))
        } else if let Some(buffer) = buffer {
            Some((Body::Bytes(buffer), Some(super::headers::OCTET_STREAM)))
        } else {
            file.map(|f| (f, None))
        };
        Ok(out)
    }

    /// The method: as given, else POST with a body and GET without. A body
    /// with GET or HEAD is refused, as fetch throws on it before sending.
    pub fn effective_method(&self) -> Result<Method> {
        match (&self.method, &self.body) {
            (Some(m), Some(_)) if *m == Method::GET || *m == Method::HEAD => {
                Err(Error::invalid_argument(format!(
                    "fetch option `method` {m} cannot have a body (`record`, `data`, `buffer` or `file`): fetch refuses it"
                )))
            }
            (Some(m), _) => Ok(m.clone()),
            (None, Some(_)) => Ok(Method::POST),
            (None, None) => Ok(Method::GET),
        }
    }
}

/// A method name, normalised as `fetch` does for the standard ones. The
/// methods fetch forbids are refused, as fetch refuses them: CONNECT would
/// turn the connection into a tunnel, TRACE and TRACK echo the request
/// (credentials included) back.
fn method(name: &str) -> Result<Method> {
    let normalised = match name.to_ascii_uppercase().as_str() {
        // fetch normalises only these; `patch` goes out lower-case, and a
        // server that matches methods exactly sees what the SDK sends.
        m @ ("DELETE" | "GET" | "HEAD" | "OPTIONS" | "POST" | "PUT") => m.to_owned(),
        "CONNECT" | "TRACE" | "TRACK" => {
            return Err(Error::invalid_argument(
                "fetch option `method` cannot be CONNECT, TRACE or TRACK (fetch forbids them)",
            ))
        }
        _ => name.to_owned(),
    };
    Method::from_bytes(normalised.as_bytes())
        .map_err(|_| Error::invalid_argument("fetch option `method` is not a valid HTTP method"))
}

/// `file: {name, type, data}` with `data` as base64 text.
fn file_body(v: &Value) -> Result<Body> {
    let Some(obj) = v.as_object() else {
        return Err(Error::invalid_json(
            "fetch option `file` must be an object {name, type, data}",
        ));
    };
    for key in obj.keys() {
        if !matches!(key.as_str(), "name" | "type" | "data") {
            return Err(Error::invalid_json(format!(
                "unknown fetch option `file.{}`",
                Key(key)
            )));
        }
    }
    let field = |k: &str| obj.get(k).cloned().unwrap_or(Value::Null);
    let name = match field("name") {
        Value::Null => "blob".to_owned(),
        v => str_of("file.name", &v)?.to_owned(),
    };
    // A Blob with the empty type goes into FormData as
    // `application/octet-stream`, which is what fetch then sends.
    let mime = match field("type") {
        Value::Null => "application/octet-stream".to_owned(),
        v => match str_of("file.type", &v)? {
            "" => "application/octet-stream".to_owned(),
            t => t.to_owned(),
        },
    };
    let data = base64_of("file.data", &field("data"))?;
    Ok(Body::File { name, mime, data })
}

/// The result of a fetch that is not JSON: the SDK's `{headers, data}` with
/// the bytes as base64.
pub fn binary_result(resp: &Response) -> Value {
    let mut headers = Map::new();
    for (name, value) in &resp.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match headers.get_mut(name.as_str()) {
            Some(Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(&value);
            }
            _ => {
                headers.insert(name.as_str().to_owned(), Value::String(value));
            }
        }
    }
    let mut out = Map::new();
    out.insert("headers".into(), Value::Object(headers));
    out.insert(
        "data".into(),
        Value::String(base64::engine::general_purpose::STANDARD.encode(&resp.body)),
    );
    out.insert("encoding".into(), Value::String("base64".into()));
    Value::Object(out)
}
