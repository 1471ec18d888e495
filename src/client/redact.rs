//! The client's own credential, kept out of what a server can make us say.
//!
//! A server, or a proxy in front of it, may echo the request's
//! `authorization` header back: into an error body's `message` or `code`, a
//! reason phrase, a header the library quotes, or a redirect `Location`
//! whose URL ends up in a message. Nothing the library says may carry the
//! credential, so every error made from what a server sent passes through
//! [`Redactor::error`]: `http::send` applies it to each attempt's failure
//! before it is logged, and `Client` to the outcome of each call, which
//! covers the errors made from a response. The rule itself lives here only.

use std::fmt;
use std::sync::Arc;

use super::error::Error;

/// What stands where a credential was.
pub(crate) const REDACTED: &str = "[REDACTED]";

/// A credential shorter than this is redacted only where it follows
/// `Bearer `: bare, it would match ordinary words and garble every message,
/// and a string that short protects nothing a guess would not find.
const MIN_BARE_LEN: usize = 4;

/// The credentials of one client, and how each is replaced. Cheap to clone.
#[derive(Clone, Default)]
pub struct Redactor {
    needles: Option<Arc<[Needle]>>,
}

struct Needle {
    text: Box<str>,
    replacement: &'static str,
}

/// Shows how many credentials it hides, never one of them.
impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.needles.as_ref().map_or(0, |n| n.len());
        write!(f, "Redactor({n} credentials)")
    }
}

impl Redactor {
    /// A redactor for these credentials (the secret and the token; empty
    /// ones are skipped, as they are never sent).
    pub fn new<'a>(credentials: impl IntoIterator<Item = &'a str>) -> Redactor {
        let mut needles: Vec<Needle> = Vec::new();
        for credential in credentials.into_iter().filter(|c| !c.is_empty()) {
            let needle = if credential.len() >= MIN_BARE_LEN {
                Needle {
                    text: credential.into(),
                    replacement: REDACTED,
                }
            } else {
                Needle {
                    text: format!("Bearer {credential}").into(),
                    replacement: "Bearer [REDACTED]",
                }
            };
            if !needles.iter().any(|n| n.text == needle.text) {
                needles.push(needle);
            }
        }
        // The longest first, so that a credential that contains the other
        // is replaced whole.
        needles.sort_by_key(|n| std::cmp::Reverse(n.text.len()));
        Redactor {
            needles: (!needles.is_empty()).then(|| needles.into()),
        }
    }

    /// `e` with every credential in its code and message replaced.
    pub fn error(&self, e: Error) -> Error {
        if self.needles.is_none() {
            return e;
        }
        Error {
            code: self.text(e.code),
            message: self.text(e.message),
            ..e
        }
    }

    /// `r` with its error, if any, redacted.
    pub fn outcome<T>(&self, r: Result<T, Error>) -> Result<T, Error> {
        r.map_err(|e| self.error(e))
    }

    /// `text` with every credential replaced: as written, in any ASCII
    /// letter case, and percent-encoded (`%XX`, or `+` for a space) as a URL
    /// carries it.
    pub fn text(&self, text: String) -> String {
        let Some(needles) = &self.needles else {
            return text;
        };
        let mut text = text;
        for needle in needles.iter() {
            for decode in [false, true] {
                if let Some(replaced) = replace(&text, needle, decode) {
                    text = replaced;
                }
            }
        }
        text
    }
}

/// `text` with each match of `needle` replaced, or `None` when there is
/// none. With `decode`, a `%XX` escape in `text` matches the byte it
/// encodes and `+` matches a space.
fn replace(text: &str, needle: &Needle, decode: bool) -> Option<String> {
    let hay = text.as_bytes();
    let want = needle.text.as_bytes();
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0;
    let mut i = 0;
    while i < hay.len() {
        match match_at(hay, i, want, decode) {
            Some(end) => {
                let buf = out.get_or_insert_with(|| Vec::with_capacity(hay.len()));
                buf.extend_from_slice(&hay[copied..i]);
                buf.extend_from_slice(needle.replacement.as_bytes());
                copied = end;
                i = end;
            }
            None => i += 1,
        }
    }
    let mut buf = out?;
    buf.extend_from_slice(&hay[copied..]);
    // A match starts and ends on character boundaries (the needle is UTF-8
    // and only ASCII letters compare loosely), so this is never lossy; the
    // fallback only keeps that reasoning from being load-bearing.
    Some(
        String::from_utf8(buf)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
    )
}

/// Where a match of `want` starting at `hay[i]` ends, if there is one.
fn match_at(hay: &[u8], mut i: usize, want: &[u8], decode: bool) -> Option<usize> {
    for &w in want {
        let (got, used) = if decode {
            unit(hay, i)?
        } else {
            (*hay.get(i)?, 1)
        };
        let plus_for_space = decode && used == 1 && got == b'+' && w == b' ';
        if !got.eq_ignore_ascii_case(&w) && !plus_for_space {
            return None;
        }
        i += used;
    }
    Some(i)
}

/// The byte at `hay[i]`, with a `%XX` escape decoded: the byte and how many
/// bytes of `hay` it took.
fn unit(hay: &[u8], i: usize) -> Option<(u8, usize)> {
    let b = *hay.get(i)?;
    let hex = |at: usize| hay.get(at).and_then(|c| (*c as char).to_digit(16));
    match (b, hex(i + 1), hex(i + 2)) {
        (b'%', Some(hi), Some(lo)) => Some(((hi * 16 + lo) as u8, 3)),
        _ => Some((b, 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: &str = "sk_live_Abc 123";

    fn r(s: &str) -> String {
        Redactor::new([S, "tok_xyz_987"]).text(s.to_owned())
    }

    #[test]
    fn every_spelling_of_a_credential_is_replaced() {
        assert_eq!(r("Bearer sk_live_Abc 123!"), "Bearer [REDACTED]!");
        assert_eq!(r("SK_LIVE_ABC 123"), "[REDACTED]");
        assert_eq!(
            r("/x/Bearer%20sk_live_Abc%20123/y"),
            "/x/Bearer%20[REDACTED]/y"
        );
        assert_eq!(r("q=sk%5flive%5FAbc+123&z"), "q=[REDACTED]&z");
        assert_eq!(
            r("a tok_xyz_987 b sk_live_Abc 123"),
            "a [REDACTED] b [REDACTED]"
        );
        assert_eq!(r("é sk_live_Abc 123 ü"), "é [REDACTED] ü");
        assert_eq!(r("sk_live_Abc 12"), "sk_live_Abc 12");
        assert_eq!(r("100% sure"), "100% sure");
    }

    #[test]
    fn a_credential_with_a_percent_sign_is_found_as_written() {
        let r = Redactor::new(["ab%41cd"]);
        assert_eq!(r.text("x ab%41cd y".into()), "x [REDACTED] y");
        assert_eq!(r.text("x ab%2541cd y".into()), "x [REDACTED] y");
    }

    #[test]
    fn a_short_credential_is_replaced_only_after_bearer() {
        let r = Redactor::new(["ab"]);
        assert_eq!(
            r.text("Bearer ab: a tab".into()),
            "Bearer [REDACTED]: a tab"
        );
        let none = Redactor::new([""]);
        assert_eq!(none.text("Bearer ".into()), "Bearer ");
        assert_eq!(
            format!("{none:?} {r:?}"),
            "Redactor(0 credentials) Redactor(1 credentials)"
        );
    }

    #[test]
    fn errors_lose_the_credential_in_code_and_message() {
        let e = Error::network(format!("GET /{S}: nope"));
        let e = Error {
            code: S.to_owned(),
            ..e
        };
        let e = Redactor::new([S]).error(e);
        assert_eq!(e.code, REDACTED);
        assert_eq!(e.message, "GET /[REDACTED]: nope");
    }
}
