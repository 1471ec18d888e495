//! Property tests over the plain-Rust layer (no C ABI): options parsing,
//! `extend`, the options JSON round trip, id encoding and URL resolution,
//! and the query encoding.
//!
//! Every property runs 256 generated cases (proptest's default) with
//! failure persistence turned off, so the suite writes no files.
//!
//! 1. `unknown_key_is_always_refused`: an object holding any right-typed
//!    known options plus one unknown key is refused by
//!    `OptionsPatch::parse` (INVALID_JSON) and the message names that key.
//! 2. `extend_is_the_sdk_merge`: `o.apply(A).apply(B)` equals
//!    `o.apply(merge(A, B))`, where `merge` is the SDK's
//!    `{...a, ...b, headers: {...a.headers, ...b.headers}, endpoints: ...}`
//!    with the JSON `null` rules of `_extend`.
//! 3. `options_json_round_trips`: `Options::new(parse(o.to_json())) == o`.
//! 4. `ids_stay_one_segment`: `encode_id` refuses exactly `""`, `"."` and
//!    `".."`; anything else resolves to a 6-segment path whose 4th segment
//!    percent-decodes back to the id, with no query and no fragment.
//! 5. `query_encoding_parses_back`: `append_query` output form-decodes to
//!    the documented flattening of the query object.
//! 6. `query_numbers_are_javascript_strings`: a number in the query is sent
//!    as the SDK's `String(n)` would send it.

use std::collections::BTreeMap;

use chatbotkit::client::error::Status;
use chatbotkit::client::options::{Options, OptionsPatch, StrMap};
use chatbotkit::client::url::{append_query, encode_id, resolve};
use percent_encoding::percent_decode_str;
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Map, Number, Value};
use url::Url;

/// Every key `OptionsPatch::parse` knows, with its JSON type.
const KNOWN: &[(&str, Ty)] = &[
    ("secret", Ty::Str),
    ("token", Ty::Str),
    ("baseUrl", Ty::Str),
    ("host", Ty::Str),
    ("protocol", Ty::Str),
    ("endpoints", Ty::Map),
    ("runAsUserId", Ty::Str),
    ("runAsChildUserEmail", Ty::Str),
    ("timezone", Ty::Str),
    ("headers", Ty::Map),
    ("timeout", Ty::Num),
    ("retries", Ty::Num),
    ("retryDelay", Ty::Num),
    ("retryTimeout", Ty::Bool),
    ("maxResponseBytes", Ty::Num),
    ("connectTimeout", Ty::Num),
    ("caCertificatePem", Ty::Str),
    ("userAgent", Ty::Str),
];

#[derive(Clone, Copy, Debug)]
enum Ty {
    Str,
    Num,
    Bool,
    Map,
}

fn config() -> Config {
    Config {
        failure_persistence: None,
        ..Config::default()
    }
}

fn parse(v: &Value) -> Result<OptionsPatch, chatbotkit::client::Error> {
    OptionsPatch::parse(Some(&v.to_string()))
}

fn obj(pairs: Vec<(String, Value)>) -> Value {
    Value::Object(pairs.into_iter().collect())
}

// ---------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------

/// Any JSON value of the given type (right type, any content: values need
/// not be in range, since parse only checks types), or null.
fn right_typed(ty: Ty) -> BoxedStrategy<Value> {
    let v = match ty {
        Ty::Str => any::<String>().prop_map(Value::String).boxed(),
        Ty::Num => prop_oneof![
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
        ]
        .boxed(),
        Ty::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Ty::Map => prop::collection::vec(
            (
                any::<String>(),
                prop::option::of(any::<String>().prop_map(Value::String)),
            ),
            0..4,
        )
        .prop_map(|members| {
            obj(members
                .into_iter()
                .map(|(k, v)| (k, v.unwrap_or(Value::Null)))
                .collect())
        })
        .boxed(),
    };
    prop_oneof![1 => Just(Value::Null), 6 => v].boxed()
}

/// A key that is none of the known ones (nor `fetchFn`, refused on its own).
fn unknown_key() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        // Near misses of real keys: case, separators, prefixes.
        prop::sample::select(KNOWN.iter().map(|(k, _)| *k).collect::<Vec<_>>()).prop_flat_map(
            |k| prop_oneof![
                Just(k.to_uppercase()),
                Just(format!("{k} ")),
                Just(format!(" {k}")),
                Just(format!("{k}s")),
                Just(k.replace(|c: char| c.is_uppercase(), "_")),
                Just(format!("__proto__{k}")),
            ]
        ),
        Just("__proto__".to_owned()),
        Just("constructor".to_owned()),
        Just(String::new()),
    ]
    .prop_filter("not a known key", |k| {
        k != "fetchFn" && !KNOWN.iter().any(|(known, _)| known == k)
    })
}

/// A subset of the known keys with right-typed values, in random order.
fn known_members() -> impl Strategy<Value = Vec<(String, Value)>> {
    let per_key: Vec<_> = KNOWN
        .iter()
        .map(|(k, ty)| prop::option::of(right_typed(*ty).prop_map(move |v| (k.to_string(), v))))
        .collect();
    (per_key, any::<prop::sample::Index>()).prop_map(|(members, rot)| {
        let mut members: Vec<_> = members.into_iter().flatten().collect();
        if !members.is_empty() {
            let n = rot.index(members.len());
            members.rotate_left(n);
        }
        members
    })
}

/// Header names: distinct tokens, all lower case, so that merging by name
/// is unambiguous (names differing only in case are a separate matter: the
/// effective header then depends on map order, as with a JS object).
fn header_name() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["x-a", "x-b", "x-c", "x-d", "accept", "x-trace-id"])
        .prop_map(str::to_owned)
}

fn header_value() -> impl Strategy<Value = String> {
    "[ -~]{0,12}"
}

fn endpoint_name() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "/api/v1/conversation/x/session/create",
        "/api/v1/bot/y/session/create",
        "/p",
        "/q",
        "list",
    ])
    .prop_map(str::to_owned)
}

fn endpoint_target() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "/other",
        "relative/path",
        "/a/b?c=d",
        "http://127.0.0.1:9/x",
        "https://example.com/api/v2/y",
        "",
    ])
    .prop_map(str::to_owned)
}

/// A string-map member update: a value, or null (remove the key).
fn map_patch<K, V>(k: K, v: V) -> impl Strategy<Value = Value>
where
    K: Strategy<Value = String>,
    V: Strategy<Value = String>,
{
    prop::collection::vec((k, prop::option::of(v)), 0..5).prop_map(|members| {
        obj(members
            .into_iter()
            .map(|(k, v)| (k, v.map(Value::String).unwrap_or(Value::Null)))
            .collect())
    })
}

/// Header-safe text: printable ASCII and some non-ASCII (no controls).
fn header_text() -> impl Strategy<Value = String> {
    "[ -~é日]{0,16}"
}

fn millis() -> BoxedStrategy<Value> {
    prop_oneof![
        (0u64..=2_147_483_647).prop_map(Value::from),
        (0u64..=100_000).prop_map(Value::from),
        // Fractional milliseconds are valid JSON numbers and in range.
        (0.0f64..=100_000.0).prop_map(Value::from),
        (0.0f64..=2_147_483_647.0).prop_map(Value::from),
        prop::sample::select(vec![
            1e-7,
            0.1,
            0.3,
            1.0000001,
            1_872_889_776.137774,
            2_147_483_646.9999998,
            2_147_483_647.0
        ])
        .prop_map(Value::from),
    ]
    .boxed()
}

/// A valid value (in range, well formed) for each scalar option, as JSON.
fn valid_scalar(key: &'static str) -> BoxedStrategy<Value> {
    match key {
        "secret" | "token" | "runAsUserId" | "runAsChildUserEmail" | "timezone" | "userAgent" => {
            header_text().prop_map(Value::String).boxed()
        }
        "baseUrl" => prop::sample::select(vec![
            "http://127.0.0.1:9/",
            "https://api.chatbotkit.com",
            "https://example.com:8443/base/",
            "http://[::1]:8080/x/y",
            "",
        ])
        .prop_map(|s| Value::String(s.to_owned()))
        .boxed(),
        "timeout" | "retryDelay" | "connectTimeout" => millis(),
        "retries" => (0u64..=100).prop_map(Value::from).boxed(),
        "retryTimeout" => any::<bool>().prop_map(Value::Bool).boxed(),
        "maxResponseBytes" => prop_oneof![
            (1u64..=1 << 40).prop_map(Value::from),
            Just(Value::from(9_007_199_254_740_991u64)),
        ]
        .boxed(),
        other => unreachable!("no strategy for {other}"),
    }
}

/// Scalars covered by the merge property. `host` and `protocol` are left
/// out: they rewrite `baseUrl` when applied, so in the SDK too
/// `{host}` then `{baseUrl}` differs from `{host, baseUrl}`.
const MERGE_SCALARS: &[&str] = &[
    "secret",
    "token",
    "baseUrl",
    "runAsUserId",
    "runAsChildUserEmail",
    "timezone",
    "userAgent",
    "timeout",
    "retries",
    "retryDelay",
    "retryTimeout",
    "maxResponseBytes",
    "connectTimeout",
];

/// A valid options patch: some scalars (a value or null), maybe headers and
/// endpoints (members set or null, or the whole map null).
fn valid_patch() -> impl Strategy<Value = Value> {
    let scalars: Vec<_> = MERGE_SCALARS
        .iter()
        .map(|k| {
            prop::option::of(prop_oneof![
                1 => Just(Value::Null),
                4 => valid_scalar(k),
            ])
            .prop_map(move |v| v.map(|v| (k.to_string(), v)))
        })
        .collect();
    let headers = prop::option::of(prop_oneof![
        1 => Just(Value::Null),
        6 => map_patch(header_name(), header_value()),
    ]);
    let endpoints = prop::option::of(prop_oneof![
        1 => Just(Value::Null),
        6 => map_patch(endpoint_name(), endpoint_target()),
    ]);
    (scalars, headers, endpoints).prop_map(|(scalars, headers, endpoints)| {
        let mut m = Map::new();
        for (k, v) in scalars.into_iter().flatten() {
            m.insert(k, v);
        }
        if let Some(h) = headers {
            m.insert("headers".into(), h);
        }
        if let Some(e) = endpoints {
            m.insert("endpoints".into(), e);
        }
        Value::Object(m)
    })
}

/// The SDK's merge of two extension objects, with the `_extend` null rules:
/// a null scalar in `b` overrides `a` (and then resets the option); a null
/// member of `b.headers` overrides `a`'s (and then removes the key); a null
/// `headers` is `{}`.
fn sdk_merge(a: &Value, b: &Value) -> Value {
    let (a, b) = (a.as_object().unwrap(), b.as_object().unwrap());
    let mut out = a.clone();
    for (k, v) in b {
        out.insert(k.clone(), v.clone());
    }
    for key in ["headers", "endpoints"] {
        let member = |o: &Map<String, Value>| match o.get(key) {
            Some(Value::Object(m)) => Some(m.clone()),
            _ => None,
        };
        let merged = match (member(a), member(b)) {
            (None, None) => {
                // Neither holds an object: keep whatever `{...a, ...b}` left
                // (absent, or a null that changes nothing).
                continue;
            }
            (Some(x), None) | (None, Some(x)) => x,
            (Some(mut x), Some(y)) => {
                for (k, v) in y {
                    x.insert(k, v);
                }
                x
            }
        };
        out.insert(key.into(), Value::Object(merged));
    }
    Value::Object(out)
}

/// What an options value means, with map order left out: headers as the
/// lower-cased name → value map that would be sent (later wins), endpoints
/// as key → target.
#[derive(Debug, PartialEq)]
struct Meaning {
    scalars: Value,
    headers: BTreeMap<String, String>,
    endpoints: BTreeMap<String, String>,
}

fn meaning(o: &Options) -> Meaning {
    let mut scalars = o.to_json();
    let m = scalars.as_object_mut().unwrap();
    m.remove("headers");
    m.remove("endpoints");
    let map = |s: &StrMap, lower: bool| {
        s.iter()
            .map(|(k, v)| {
                let k = if lower {
                    k.to_ascii_lowercase()
                } else {
                    k.to_owned()
                };
                (k, v.to_owned())
            })
            .collect::<BTreeMap<_, _>>()
    };
    Meaning {
        scalars,
        headers: map(&o.headers, true),
        endpoints: map(&o.endpoints, false),
    }
}

/// Ids, weighted towards the characters that could break out of a segment.
fn any_id() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[./?#%\\\\ ;:@&=+$,\t\r\n\u{0}-\u{1f}\u{7f}]{0,8}",
        "(\\.|\\.\\.|%2[eE]|%2[fF]|/|\\\\|\\?|#|%|%00|é|\u{1F600}){0,6}",
        prop::sample::select(vec![
            "", ".", "..", "...", "./", "../", "/..", "%2e", "%2e%2e", ".%2E", "a/../b", "?", "#",
            "%", "\r\n", "\u{0}", "x y",
        ])
        .prop_map(str::to_owned),
    ]
}

/// A JSON scalar for a query object.
fn query_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<String>().prop_map(Value::String),
        "[a-z &=+?#%/.]{0,8}".prop_map(Value::String),
        // Integers a double holds exactly: their text is the same in Rust
        // and JavaScript. Other numbers are property (f)'s business.
        (-(1i64 << 53)..=(1i64 << 53)).prop_map(Value::from),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
    ]
}

/// A value nested deeper than one level (sent as its JSON text).
fn deep_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::collection::vec(query_scalar(), 0..3).prop_map(Value::Array),
        prop::collection::vec(("[a-z]{1,3}", query_scalar()), 0..3)
            .prop_map(|m| Value::Object(m.into_iter().collect())),
    ]
}

fn query_member() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => query_scalar(),
        1 => deep_value(),
    ]
}

fn query_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => query_scalar(),
        1 => prop::collection::vec(("[a-z0-9_ ]{0,4}", query_member()), 0..4)
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        1 => prop::collection::vec(query_member(), 0..4).prop_map(Value::Array),
    ]
}

fn query_object() -> impl Strategy<Value = Map<String, Value>> {
    // Keys start with a letter: keys that look like array indices are
    // ordered first by a JavaScript object, a separate question.
    prop::collection::vec(("[a-zA-Z][a-zA-Z0-9_. é%&=+]{0,6}", query_value()), 0..6)
        .prop_map(|m| m.into_iter().collect())
}

/// The documented text of a query scalar (numbers are handled by
/// `js_number`, strings and booleans as themselves, deeper values as JSON).
fn query_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(js_number(n)),
        other => Some(other.to_string()),
    }
}

/// The documented flattening: `k=v` in key order, null skipped at any
/// level, one level of nesting as `a.b` / `a.0`, anything deeper as JSON.
fn flatten(q: &Map<String, Value>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (k, v) in q {
        match v {
            Value::Object(inner) => {
                for (k2, v2) in inner {
                    if let Some(t) = query_text(v2) {
                        out.push((format!("{k}.{k2}"), t));
                    }
                }
            }
            Value::Array(items) => {
                for (i, v2) in items.iter().enumerate() {
                    if let Some(t) = query_text(v2) {
                        out.push((format!("{k}.{i}"), t));
                    }
                }
            }
            other => {
                if let Some(t) = query_text(other) {
                    out.push((k.clone(), t));
                }
            }
        }
    }
    out
}

/// JavaScript's `String(n)` for a JSON number (ECMA-262 Number::toString):
/// what `URLSearchParams.append` sends for a number in the SDK.
fn js_number(n: &Number) -> String {
    // Integers a double holds exactly print as themselves.
    if let Some(i) = n.as_i64() {
        if i.unsigned_abs() <= 1u64 << 53 {
            return i.to_string();
        }
    }
    if let Some(u) = n.as_u64() {
        if u <= 1u64 << 53 {
            return u.to_string();
        }
    }
    let x = n.as_f64().expect("a JSON number");
    if x == 0.0 {
        return "0".into();
    }
    if x < 0.0 {
        return format!("-{}", js_number(&Number::from_f64(-x).unwrap()));
    }
    // Shortest round-trip digits and exponent, from Rust's `{:e}`.
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap();
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let k = digits.len() as i32;
    let n = exp.parse::<i32>().unwrap() + 1;
    if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let sign = if n - 1 < 0 { '-' } else { '+' };
        let rest = if k > 1 {
            format!(".{}", &digits[1..])
        } else {
            String::new()
        };
        format!("{}{rest}e{sign}{}", &digits[..1], (n - 1).abs())
    }
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    /// (a) An unknown key is refused whatever else the object holds.
    #[test]
    fn unknown_key_is_always_refused(
        members in known_members(),
        key in unknown_key(),
        at in any::<prop::sample::Index>(),
        value in prop_oneof![
            Just(Value::Null),
            any::<String>().prop_map(Value::String),
            any::<i64>().prop_map(Value::from),
            any::<bool>().prop_map(Value::Bool),
            Just(serde_json::json!({"secret": "x"})),
        ],
    ) {
        let mut members = members;
        let at = at.index(members.len() + 1);
        members.insert(at, (key.clone(), value));
        let text = obj(members).to_string();
        let err = match OptionsPatch::parse(Some(&text)) {
            Ok(_) => return Err(TestCaseError::fail(format!("accepted unknown key {key:?} in {text}"))),
            Err(e) => e,
        };
        prop_assert_eq!(err.status, Status::InvalidJson, "{}: {}", text, err.message);
        prop_assert!(
            err.message.contains(&format!("`{key}`")),
            "message {:?} does not name key {:?}", err.message, key
        );
    }

    /// (b) Extend is the SDK's merge: A then B equals merge(A, B).
    #[test]
    fn extend_is_the_sdk_merge(base in valid_patch(), a in valid_patch(), b in valid_patch()) {
        let o = Options::new(&parse(&base).unwrap()).unwrap();
        let pa = parse(&a).unwrap();
        let pb = parse(&b).unwrap();
        let merged = sdk_merge(&a, &b);
        let pm = parse(&merged).unwrap();
        let stepwise = o.apply(&pa).unwrap().apply(&pb).unwrap();
        let at_once = o.apply(&pm).unwrap();
        prop_assert_eq!(
            meaning(&stepwise), meaning(&at_once),
            "base {} A {} B {} merge {}", base, a, b, merged
        );
    }

    /// (c) The options JSON is valid input for `_new` and means the same.
    #[test]
    fn options_json_round_trips(
        patch in valid_patch(),
        host in prop::option::of(prop::sample::select(vec![
            "example.org", "127.0.0.1:9", "h:80", "h:443", "[::1]:8", "xn--bcher-kva.example",
        ])),
        protocol in prop::option::of(prop::sample::select(vec!["http:", "https:", "HTTP", "https"])),
    ) {
        let mut patch = patch;
        let m = patch.as_object_mut().unwrap();
        if let Some(h) = host { m.insert("host".into(), Value::from(h)); }
        if let Some(p) = protocol { m.insert("protocol".into(), Value::from(p)); }
        let o = Options::new(&parse(&patch).unwrap()).unwrap();
        let json = o.to_json();
        let again = Options::new(&parse(&json).unwrap());
        prop_assert!(again.is_ok(), "to_json {} is refused: {:?}", json, again.err());
        let again = again.unwrap();
        prop_assert!(
            again == o,
            "input {}\nto_json {}\nagain   {}", patch, json, again.to_json()
        );
    }

    /// (d) An id is one path segment, whatever it holds.
    #[test]
    fn ids_stay_one_segment(id in any_id(), base in prop::sample::select(vec![
        "http://127.0.0.1:9/", "https://example.com/proxy/base/", "http://h:1/a?b=c#d",
    ])) {
        let refused = matches!(id.as_str(), "" | "." | "..");
        let enc = encode_id(&id, "conversation_id");
        match (&enc, refused) {
            (Err(e), true) => {
                prop_assert_eq!(e.status, Status::InvalidArgument);
                prop_assert!(e.message.contains("conversation_id"), "{}", e.message);
            }
            (Err(e), false) => return Err(TestCaseError::fail(format!("refused {id:?}: {}", e.message))),
            (Ok(s), true) => return Err(TestCaseError::fail(format!("accepted {id:?} as {s:?}"))),
            (Ok(enc), false) => {
                let base = Url::parse(base).unwrap();
                let path = format!("/api/v1/conversation/{enc}/session/create");
                let url = resolve(&base, &StrMap::default(), &path, None)
                    .map_err(|e| TestCaseError::fail(format!("{id:?}: {}", e.message)))?;
                let segments: Vec<&str> = url.path_segments().unwrap().collect();
                prop_assert_eq!(segments.len(), 6, "{:?} -> {}", id, url);
                prop_assert_eq!(&segments[..3], &["api", "v1", "conversation"][..], "{}", url);
                prop_assert_eq!(&segments[4..], &["session", "create"][..], "{}", url);
                prop_assert_eq!(segments[3], enc.as_str(), "{}", url);
                let decoded = percent_decode_str(segments[3]).decode_utf8();
                prop_assert!(decoded.is_ok(), "{}", url);
                let decoded = decoded.unwrap().into_owned();
                prop_assert_eq!(decoded, id, "{}", url);
                prop_assert_eq!(url.query(), None, "{}", url);
                prop_assert_eq!(url.fragment(), None, "{}", url);
            }
        }
    }

    /// (e) The query string form-decodes to the documented flattening.
    #[test]
    fn query_encoding_parses_back(q in query_object()) {
        let mut url = Url::parse("http://h/p").unwrap();
        append_query(&mut url, &q);
        let want = flatten(&q);
        let got: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        prop_assert_eq!(&got, &want, "query {}", url);
        prop_assert_eq!(url.query().is_none(), want.is_empty(), "{}", url);
        prop_assert_eq!(url.path(), "/p");
        prop_assert_eq!(url.fragment(), None);
    }

    /// (f) Numbers in a query are sent as `String(n)` in the SDK.
    #[test]
    fn query_numbers_are_javascript_strings(x in prop_oneof![
        any::<f64>().prop_filter("finite", |f| f.is_finite()),
        (-1000i32..1000).prop_map(f64::from),
        prop::sample::select(vec![1.0, -0.0, 0.5, 1e21, 1e-7, 123456789012345680000.0, 2f64.powi(60)]),
    ]) {
        let n = Number::from_f64(x).unwrap();
        let mut q = Map::new();
        q.insert("n".into(), Value::Number(n.clone()));
        let mut url = Url::parse("http://h/p").unwrap();
        append_query(&mut url, &q);
        let got: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        prop_assert_eq!(got, vec![("n".to_owned(), js_number(&n))], "{}", x);
    }
}

/// The reference `String(n)` itself, on values whose JavaScript text is known.
#[test]
fn js_number_reference() {
    let cases: &[(f64, &str)] = &[
        (1.0, "1"),
        (-0.0, "0"),
        (0.5, "0.5"),
        (1.5e-7, "1.5e-7"),
        (1e-6, "0.000001"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (123.456, "123.456"),
        (-2.5e300, "-2.5e+300"),
        (2f64.powi(60), "1152921504606847000"),
    ];
    for (x, want) in cases {
        assert_eq!(js_number(&Number::from_f64(*x).unwrap()), *want, "{x}");
    }
    assert_eq!(js_number(&Number::from(u64::MAX)), "18446744073709552000");
}
