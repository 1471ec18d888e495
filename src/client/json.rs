//! JSON helpers with the rules the SDK (JavaScript) implies: checking a text
//! is one object without building it, and numbers spelled as `String(n)`.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use super::error::{Error, Result};

/// Check that `text` is exactly one JSON object, without building it.
/// Nesting is limited as for every JSON text the library reads (serde_json's
/// 128 levels). The message never quotes the text: `what` names the argument.
pub fn check_object(text: &str, what: &str) -> Result<()> {
    serde_json::from_str::<ObjectOnly>(text)
        .map(drop)
        .map_err(|e| {
            if e.is_data() {
                // serde's data errors quote the value ("invalid type: string
                // \"...\""), which may be a credential: say only what it is.
                Error::invalid_json(format!("`{what}` must be a JSON object"))
            } else {
                // Syntax errors name positions and token kinds only.
                Error::invalid_json(format!("`{what}` is not valid JSON: {e}"))
            }
        })
}

/// A JSON object, skipped.
struct ObjectOnly;

impl<'de> Deserialize<'de> for ObjectOnly {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ObjectOnly;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<ObjectOnly, A::Error> {
                while map.next_entry::<Skip, Skip>()?.is_some() {}
                Ok(ObjectOnly)
            }
        }
        d.deserialize_map(V)
    }
}

/// Any JSON value, skipped through `deserialize_any` so that the parser's
/// nesting limit applies (serde's `IgnoredAny` skips without one).
struct Skip;

impl<'de> Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(SkipVisitor)
    }
}

struct SkipVisitor;

impl<'de> Visitor<'de> for SkipVisitor {
    type Value = Skip;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> std::result::Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_i64<E>(self, _: i64) -> std::result::Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_u64<E>(self, _: u64) -> std::result::Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_f64<E>(self, _: f64) -> std::result::Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_str<E>(self, _: &str) -> std::result::Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_unit<E>(self) -> std::result::Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Skip, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Skip)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Skip, A::Error> {
        while map.next_entry::<Skip, Skip>()?.is_some() {}
        Ok(Skip)
    }
}

/// A JSON number as JavaScript's `String(n)` spells it: integers without a
/// fraction, `1e+21` and `1e-7` past JavaScript's exponent thresholds, the
/// shortest digits that round-trip otherwise. Integers that are exact in
/// JSON (i64/u64) keep all their digits (JavaScript would round past 2^53).
pub fn js_number(n: &serde_json::Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    let f = n.as_f64().unwrap_or(f64::NAN);
    if f == 0.0 {
        return "0".to_owned();
    }
    let abs = f.abs();
    if (1e-6..1e21).contains(&abs) {
        // Rust's `Display` for f64 is the shortest round-tripping decimal
        // without an exponent, as JavaScript's in this range.
        return format!("{f}");
    }
    let s = format!("{f:e}");
    match s.split_once('e') {
        Some((mantissa, exp)) if !exp.starts_with('-') => format!("{mantissa}e+{exp}"),
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_only_and_depth_limited() {
        assert!(check_object(r#"{"a":[1,{"b":null}]}"#, "x").is_ok());
        let e = check_object(r#""sk_secret""#, "request_json").unwrap_err();
        assert!(!e.message.contains("sk_secret"), "{}", e.message);
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(check_object(&deep, "x").is_err());
    }

    #[test]
    fn numbers_as_javascript() {
        let js = |t: &str| js_number(&serde_json::from_str::<serde_json::Number>(t).unwrap());
        assert_eq!(js("0.0"), "0");
        assert_eq!(js("-0.0"), "0");
        assert_eq!(js("1.0"), "1");
        assert_eq!(js("1.5"), "1.5");
        assert_eq!(js("1e21"), "1e+21");
        assert_eq!(js("1e20"), "100000000000000000000");
        assert_eq!(js("1e-7"), "1e-7");
        assert_eq!(js("0.000001"), "0.000001");
        assert_eq!(js("-2.5e30"), "-2.5e+30");
        assert_eq!(js("12345678901234567890"), "12345678901234567890");
    }
}
