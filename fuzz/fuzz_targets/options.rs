//! `OptionsPatch::parse` + `Options::new` + `apply` (extend) + `to_json`.
//!
//! The input is two JSON texts split at the first 0xFF byte (which UTF-8
//! never holds): the options of `new`, then an extension. Checked: nothing
//! panics; every failure is INVALID_JSON or INVALID_ARGUMENT; the effective
//! options JSON is accepted by `new` again; no error message quotes the
//! secret or token of the input.
#![no_main]

use chatbotkit::client::error::Status;
use chatbotkit::client::options::{Options, OptionsPatch};
use chatbotkit::client::Error;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn split(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|b| *b == 0xff) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, b"{}"),
    }
}

/// Secrets of the input: `secret` and `token` values that start with
/// `sk_` (text the library's own words never hold) and are 8+ bytes long.
fn secrets(v: &Value) -> Vec<String> {
    let Value::Object(m) = v else {
        return Vec::new();
    };
    ["secret", "token"]
        .iter()
        .filter_map(|k| m.get(*k).and_then(Value::as_str))
        .filter(|s| s.len() >= 8 && s.starts_with("sk_"))
        .map(str::to_owned)
        .collect()
}

/// Every object key in `v`, at any depth: messages may name those.
fn keys(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                out.push(k.clone());
                keys(v, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| keys(v, out)),
        _ => {}
    }
}

fn check(e: &Error, secrets: &[String], keys: &[String]) {
    assert!(
        matches!(e.status, Status::InvalidJson | Status::InvalidArgument),
        "unexpected status {:?}: {}",
        e.status,
        e.message
    );
    // Messages name keys; a secret must not show up in what is left.
    let mut rest = e.message.clone();
    for k in keys.iter().filter(|k| !k.is_empty()) {
        rest = rest.replace(k.as_str(), "");
    }
    for s in secrets {
        assert!(
            !rest.contains(s.as_str()),
            "message quotes a secret: {}",
            e.message
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let (a, b) = split(data);
    let (Ok(a), Ok(b)) = (std::str::from_utf8(a), std::str::from_utf8(b)) else {
        return;
    };
    let docs: Vec<Value> = [a, b]
        .iter()
        .filter_map(|t| serde_json::from_str(t).ok())
        .collect();
    let mut secrets = Vec::new();
    let mut names = Vec::new();
    for d in &docs {
        secrets.extend(self::secrets(d));
        keys(d, &mut names);
    }
    // A secret whose text also stands elsewhere in the input (say, inside a
    // key that a message names) cannot be told apart from it.
    secrets.retain(|s| a.matches(s.as_str()).count() + b.matches(s.as_str()).count() == 1);
    let secrets = &secrets;
    let names = &names;
    let base = match OptionsPatch::parse(Some(a)).and_then(|p| Options::new(&p)) {
        Ok(o) => o,
        Err(e) => return check(&e, secrets, names),
    };
    let extended = match OptionsPatch::parse(Some(b)).and_then(|p| base.apply(&p)) {
        Ok(o) => o,
        Err(e) => return check(&e, secrets, names),
    };
    for o in [&base, &extended] {
        let json = o.to_json().to_string();
        let again = OptionsPatch::parse(Some(&json)).and_then(|p| Options::new(&p));
        assert!(
            again.is_ok(),
            "to_json is refused by new: {:?}",
            again.err()
        );
        let debug = format!("{o:?}");
        for s in secrets {
            assert!(!debug.contains(s.as_str()), "Debug shows a secret");
        }
    }
});
