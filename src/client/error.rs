//! The library's error value and the Node SDK's error mapping.
//!
//! Every failure, from a bad argument to a 503 after retries, ends up as one
//! [`Error`]: a [`Status`] (what kind of failure), the SDK's `code` string, a
//! human message and the HTTP status when a response was seen. Messages are
//! written here and nowhere else from server data, so the rule "the secret
//! never appears in an error" is checked in one place: no constructor takes an
//! option value, only option *names*.

use std::fmt;

/// The kind of failure. The C layer maps it one to one onto `cbk_status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    InvalidArgument,
    InvalidJson,
    Api,
    Timeout,
    Network,
    InvalidResponse,
    Cancelled,
    Internal,
}

impl Status {
    /// The name used in `cbk_error_to_json` (`"status":"API"`).
    pub fn name(self) -> &'static str {
        match self {
            Status::InvalidArgument => "INVALID_ARGUMENT",
            Status::InvalidJson => "INVALID_JSON",
            Status::Api => "API",
            Status::Timeout => "TIMEOUT",
            Status::Network => "NETWORK",
            Status::InvalidResponse => "INVALID_RESPONSE",
            Status::Cancelled => "CANCELLED",
            Status::Internal => "INTERNAL",
        }
    }

    /// Our code string for failures the SDK has no code for.
    fn default_code(self) -> &'static str {
        match self {
            Status::InvalidArgument => "INVALID_ARGUMENT",
            Status::InvalidJson => "INVALID_JSON",
            Status::Api => "GENERIC_ERROR",
            Status::Timeout => TIMEOUT_ERROR,
            Status::Network => "NETWORK_ERROR",
            Status::InvalidResponse => "INVALID_RESPONSE",
            Status::Cancelled => "CANCELLED",
            Status::Internal => "INTERNAL_ERROR",
        }
    }
}

/// The SDK's code and message for a timed-out request (`TimeoutError`).
pub const TIMEOUT_ERROR: &str = "TimeoutError";

/// A failed call. `Debug` and `Display` show only these fields, none of
/// which ever holds a credential.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    pub status: Status,
    pub code: String,
    pub message: String,
    /// The HTTP status of the response the error was made from, 0 when none.
    pub http_status: u16,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    fn new(status: Status, message: impl Into<String>) -> Error {
        Error {
            status,
            code: status.default_code().to_owned(),
            message: message.into(),
            http_status: 0,
        }
    }

    pub fn invalid_argument(message: impl Into<String>) -> Error {
        Error::new(Status::InvalidArgument, message)
    }

    pub fn invalid_json(message: impl Into<String>) -> Error {
        Error::new(Status::InvalidJson, message)
    }

    pub fn network(message: impl Into<String>) -> Error {
        Error::new(Status::Network, message)
    }

    pub fn invalid_response(http_status: u16, message: impl Into<String>) -> Error {
        Error {
            http_status,
            ..Error::new(Status::InvalidResponse, message)
        }
    }

    pub fn internal(message: impl Into<String>) -> Error {
        Error::new(Status::Internal, message)
    }

    pub fn cancelled() -> Error {
        Error::new(Status::Cancelled, "the request was cancelled")
    }

    /// The SDK's `TimeoutError`: code and message are both the name.
    pub fn timeout() -> Error {
        Error::new(Status::Timeout, TIMEOUT_ERROR)
    }

    /// The error for a final non-2xx response, exactly as the SDK builds it
    /// (`ResponsePromise.getRequest` in `@chatbotkit/sdk`).
    ///
    /// `reason` is the reason phrase the server sent, if any.
    pub fn from_response(http_status: u16, reason: Option<&str>, body: &[u8]) -> Error {
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

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.code,
            self.status.name(),
            self.message
        )?;
        if self.http_status != 0 {
            write!(f, " [HTTP {}]", self.http_status)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("status", &self.status)
            .field("code", &self.code)
            .field("message", &self.message)
            .field("http_status", &self.http_status)
            .finish()
    }
}

impl std::error::Error for Error {}

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
