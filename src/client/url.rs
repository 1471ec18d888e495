//! Request URLs: endpoint overrides, resolution against the base URL, the
//! `/api` strip, id encoding and the SDK's query encoding.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{Map, Value};
use url::Url;

use super::error::{Error, Result};
use super::options::StrMap;

/// The host whose `/api/...` paths lose their `/api` prefix.
const API_HOST: &str = "api.chatbotkit.com";

/// The longest URL a request can carry (http's `Uri` limit, just under
/// 64 KiB): a longer one would be refused only when sent, as a network
/// error, after every retry.
pub(crate) const MAX_URL_BYTES: usize = 65_534;

/// What stays raw in an id: RFC 3986 `pchar` without `%`. Everything else,
/// `/ ? # % \` and every non-ASCII byte included, is percent-encoded, so an id
/// is always exactly one path segment.
const ID_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b':')
    .remove(b'@');

/// Encode an id as one path segment. `""`, `.` and `..` are refused: they
/// would name no resource or climb out of the route. `what` names the
/// argument in the message.
pub fn encode_id(id: &str, what: &str) -> Result<String> {
    match id {
        "" => Err(Error::invalid_argument(format!("`{what}` is empty"))),
        "." | ".." => Err(Error::invalid_argument(format!(
            "`{what}` cannot be \".\" or \"..\""
        ))),
        _ => Ok(utf8_percent_encode(id, ID_ENCODE).to_string()),
    }
}

/// The SDK's URL for a request: `new URL(endpoints[endpoint || path] || path,
/// baseUrl)`, then the `/api` strip for `api.chatbotkit.com`.
pub fn resolve(base: &Url, endpoints: &StrMap, path: &str, endpoint: Option<&str>) -> Result<Url> {
    let key = endpoint.filter(|e| !e.is_empty()).unwrap_or(path);
    let target = endpoints.get(key).filter(|t| !t.is_empty()).unwrap_or(path);
    let mut url = base
        .join(target)
        .map_err(|_| Error::invalid_argument("`path` is not a valid path or URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::invalid_argument(
            "`path` resolves to a URL that is not http: or https:",
        ));
    }
    if has_credentials(&url) {
        // fetch refuses such a URL too (a TypeError): credentials go in
        // headers, never in a URL that servers log.
        return Err(Error::invalid_argument(
            "`path` resolves to a URL with credentials in it (user:password@), which cannot be sent",
        ));
    }
    if url.host_str() == Some(API_HOST) && url.path().starts_with("/api/") {
        let stripped = url.path()[4..].to_owned();
        url.set_path(&stripped);
    }
    Ok(url)
}

/// Whether `url` has a user name or a password (`http://user:pass@host`).
pub fn has_credentials(url: &Url) -> bool {
    !url.username().is_empty() || url.password().is_some()
}

/// Refuse a request URL longer than [`MAX_URL_BYTES`]; `what` names the
/// argument that made it.
pub fn check_length(url: &Url, what: &str) -> Result<()> {
    let len = url.as_str().len();
    if len > MAX_URL_BYTES {
        return Err(Error::invalid_argument(format!(
            "`{what}` makes a request URL of {len} bytes, more than the {MAX_URL_BYTES} a request can carry"
        )));
    }
    Ok(())
}

/// Append the SDK's query encoding of `query` to `url`: keys in order,
/// `null` skipped at any level, one level of nesting flattened as `a.b`
/// (arrays as `a.0`), anything deeper sent as its JSON text; form encoding.
pub fn append_query(url: &mut Url, query: &Map<String, Value>) {
    let pairs: Vec<(String, String)> = query
        .iter()
        .flat_map(|(key, value)| match value {
            Value::Object(inner) => inner
                .iter()
                .filter_map(|(k, v)| scalar(v).map(|v| (format!("{key}.{k}"), v)))
                .collect::<Vec<_>>(),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, v)| scalar(v).map(|v| (format!("{key}.{i}"), v)))
                .collect(),
            other => scalar(other)
                .map(|v| (key.clone(), v))
                .into_iter()
                .collect(),
        })
        .collect();
    if pairs.is_empty() {
        return;
    }
    url.query_pairs_mut().extend_pairs(pairs);
}

/// A query value as `URLSearchParams.append` would stringify it, except that
/// objects and arrays become their JSON text instead of `[object Object]`.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(super::json::js_number(n)),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_stay_in_their_segment() {
        assert_eq!(encode_id("a/b", "id").unwrap(), "a%2Fb");
        assert_eq!(encode_id("?x#y", "id").unwrap(), "%3Fx%23y");
        assert_eq!(encode_id("100%", "id").unwrap(), "100%25");
        assert_eq!(encode_id("a b", "id").unwrap(), "a%20b");
        assert_eq!(encode_id("é", "id").unwrap(), "%C3%A9");
        assert_eq!(encode_id("a\\b", "id").unwrap(), "a%5Cb");
        assert_eq!(encode_id("cnv_1-2.x~y", "id").unwrap(), "cnv_1-2.x~y");
        assert!(encode_id("..", "id").is_err());
        assert!(encode_id("", "id").is_err());
    }

    #[test]
    fn resolution_and_api_strip() {
        let base = Url::parse("https://api.chatbotkit.com/").unwrap();
        let u = resolve(&base, &StrMap::default(), "/api/v1/x", None).unwrap();
        assert_eq!(u.as_str(), "https://api.chatbotkit.com/v1/x");
        let base = Url::parse("http://127.0.0.1:9/proxy/").unwrap();
        let u = resolve(&base, &StrMap::default(), "/api/v1/x", None).unwrap();
        assert_eq!(u.as_str(), "http://127.0.0.1:9/api/v1/x");
        let mut eps = StrMap::default();
        eps.set(
            "/api/v1/x".into(),
            "https://api.chatbotkit.com/api/v2/y".into(),
        );
        let u = resolve(&base, &eps, "/api/v1/x", None).unwrap();
        assert_eq!(u.as_str(), "https://api.chatbotkit.com/v2/y");
    }

    #[test]
    fn query_encoding() {
        let mut u = Url::parse("http://h/p").unwrap();
        let q: Value = serde_json::from_str(
            r#"{"a":"x y","n":null,"b":true,"o":{"k":1,"z":null,"d":{"e":2}},"ids":["p","q"],"f":1.5}"#,
        )
        .unwrap();
        append_query(&mut u, q.as_object().unwrap());
        assert_eq!(
            u.query().unwrap(),
            "a=x+y&b=true&o.k=1&o.d=%7B%22e%22%3A2%7D&ids.0=p&ids.1=q&f=1.5"
        );
    }
}
