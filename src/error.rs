//! The library's error value: what kind of failure, the SDK's code string,
//! a human message and the HTTP status when a response was seen. It sits at
//! the bottom of the crate so that every layer (the runtime, the SDK logic,
//! the C boundary) speaks it; the SDK's mapping of responses onto it lives
//! in `client::error`.
//!
//! Messages never hold a credential: no constructor takes an option value,
//! only option *names*.

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
    pub(crate) fn default_code(self) -> &'static str {
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
    pub(crate) fn new(status: Status, message: impl Into<String>) -> Error {
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

    /// The SDK's `TimeoutError` (its code), saying which limit was hit.
    pub fn timeout(message: impl Into<String>) -> Error {
        Error::new(Status::Timeout, message)
    }
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
