//! `append_query`: any JSON object as a fetch `query` never panics, and the
//! query string form-decodes to one pair per non-null scalar (one level of
//! nesting flattened, deeper values sent as their JSON text).
#![no_main]

use chatbotkit::client::url::append_query;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use url::Url;

fn pairs_expected(q: &serde_json::Map<String, Value>) -> usize {
    q.values()
        .map(|v| match v {
            Value::Null => 0,
            Value::Object(m) => m.values().filter(|v| !v.is_null()).count(),
            Value::Array(a) => a.iter().filter(|v| !v.is_null()).count(),
            _ => 1,
        })
        .sum()
}

fuzz_target!(|data: &[u8]| {
    let Ok(Value::Object(q)) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let mut url = Url::parse("http://h/p").unwrap();
    append_query(&mut url, &q);
    let got = url.query_pairs().count();
    assert_eq!(got, pairs_expected(&q), "{url}");
    assert_eq!(url.path(), "/p");
    assert!(url.fragment().is_none());
});
