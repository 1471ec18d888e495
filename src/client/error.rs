//! The Node SDK's mapping of a non-2xx response onto [`Error`]
//! (`ResponsePromise.getRequest` in `@chatbotkit/sdk`).

pub use crate::error::{Error, Result, Status, TIMEOUT_ERROR};

impl Error {
    /// The error for a final non-2xx response, exactly as the SDK builds it
    /// (`ResponsePromise.getRequest` in `@chatbotkit/sdk`).
    ///
    /// `reason` is the reason phrase the server sent, if any.
    pub fn from_response(http_status: u16, reason: Option<&str>, body: &[u8]) -> Error {
        // The SDK decodes the body with a TextDecoder, which drops a
        // leading BOM, before JSON.parse: the server's code and message
        // survive it, as a success body's JSON does.
        let body = body.strip_prefix(b"\xef\xbb\xbf").unwrap_or(body);
        let parsed = serde_json::from_slice::<serde_json::Value>(body).ok();
        let (code, message) = match parsed {
            // `JSON.parse("null").message` throws, so the SDK falls through to
            // its table of standard errors, as for a body that is not JSON.
            None | Some(serde_json::Value::Null) => standard_error(http_status),
            Some(value) => {
                let field = |name: &str| {
                    value
                        .get(name)
                        .and_then(|v| v.as_str())
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                };
                let code = field("code").unwrap_or_else(|| format!("ERROR_{http_status}"));
                let message = field("message").unwrap_or_else(|| {
                    let reason = reason
                        .filter(|r| !r.is_empty())
                        .or_else(|| {
                            http::StatusCode::from_u16(http_status)
                                .ok()
                                .and_then(|s| s.canonical_reason())
                        })
                        .unwrap_or("");
                    format!("HTTP Error: {reason}")
                });
                (code, message)
            }
        };
        Error {
            status: Status::Api,
            code,
            message,
            http_status,
        }
    }
}

/// The SDK's `standardErrors` table, used when an error body is not JSON.
fn standard_error(http_status: u16) -> (String, String) {
    let (code, message) = match http_status {
        413 => (
            "CONTENT_TOO_LARGE",
            "Client request is too large to be processed by the web server.",
        ),
        _ => ("GENERIC_ERROR", "There was a generic error"),
    };
    (code.to_owned(), message.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_body_with_code_and_message() {
        let e = Error::from_response(404, None, br#"{"message":"Nope","code":"NOT_FOUND"}"#);
        assert_eq!((e.code.as_str(), e.message.as_str()), ("NOT_FOUND", "Nope"));
        assert_eq!((e.status, e.http_status), (Status::Api, 404));
    }

    #[test]
    fn codeless_json_uses_status_and_reason() {
        let e = Error::from_response(418, None, b"{}");
        assert_eq!(e.code, "ERROR_418");
        assert_eq!(e.message, "HTTP Error: I'm a teapot");
        let e = Error::from_response(500, Some("Oops"), br#"[1,2]"#);
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("ERROR_500", "HTTP Error: Oops")
        );
        let e = Error::from_response(400, None, br#"{"code":"","message":7}"#);
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("ERROR_400", "HTTP Error: Bad Request")
        );
    }

    #[test]
    fn a_leading_bom_is_not_part_of_the_json() {
        let e = Error::from_response(400, None, b"\xef\xbb\xbf{\"code\":\"C\",\"message\":\"M\"}");
        assert_eq!((e.code.as_str(), e.message.as_str()), ("C", "M"));
        // Only one BOM is dropped, as TextDecoder drops one.
        let e = Error::from_response(400, None, b"\xef\xbb\xbf\xef\xbb\xbf{}");
        assert_eq!(e.code, "GENERIC_ERROR");
    }

    #[test]
    fn non_json_and_null_bodies_use_standard_errors() {
        let e = Error::from_response(413, None, b"<html>too big</html>");
        assert_eq!(e.code, "CONTENT_TOO_LARGE");
        let e = Error::from_response(502, None, b"null");
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("GENERIC_ERROR", "There was a generic error")
        );
    }
}
