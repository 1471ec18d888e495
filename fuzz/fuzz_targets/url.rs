//! `encode_id` + `resolve`: an id is one path segment whatever it holds, and
//! resolving any path (through any endpoint mapping) never panics.
//!
//! Input: id, 0xFF, base URL, 0xFF, path, 0xFF, endpoint target.
#![no_main]

use chatbotkit::client::options::StrMap;
use chatbotkit::client::url::{encode_id, resolve};
use libfuzzer_sys::fuzz_target;
use percent_encoding::percent_decode_str;
use url::Url;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|b| *b == 0xff).map(std::str::from_utf8);
    let id = match parts.next() {
        Some(Ok(s)) => s,
        _ => return,
    };
    let base = parts
        .next()
        .and_then(Result::ok)
        .and_then(|s| Url::parse(s).ok());
    let path = parts.next().and_then(Result::ok);
    let target = parts.next().and_then(Result::ok);

    // Ids: refused exactly for "", "." and ".."; otherwise one segment.
    let http_base = Url::parse("http://127.0.0.1:9/base/").unwrap();
    match encode_id(id, "conversation_id") {
        Err(_) => assert!(matches!(id, "" | "." | ".."), "refused {id:?}"),
        Ok(enc) => {
            assert!(!matches!(id, "" | "." | ".."), "accepted {id:?}");
            let p = format!("/api/v1/conversation/{enc}/session/create");
            let url = resolve(&http_base, &StrMap::default(), &p, None).expect("resolves");
            let segs: Vec<&str> = url.path_segments().unwrap().collect();
            assert_eq!(segs.len(), 6, "{url}");
            assert_eq!(segs[3], enc, "{url}");
            let decoded = percent_decode_str(segs[3]).decode_utf8().unwrap();
            assert_eq!(decoded, id, "{url}");
            assert!(url.query().is_none() && url.fragment().is_none(), "{url}");
        }
    }

    // Any base, path and endpoint mapping: an http(s) URL or an error.
    if let (Some(base), Some(path)) = (base, path) {
        let mut endpoints = StrMap::default();
        if let Some(t) = target {
            endpoints.set(path.to_owned(), t.to_owned());
        }
        if let Ok(url) = resolve(&base, &endpoints, path, None) {
            assert!(matches!(url.scheme(), "http" | "https"), "{url}");
        }
        let _ = resolve(&base, &endpoints, "/x", Some(path));
    }
});
