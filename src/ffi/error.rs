//! `cbk_status` and `cbk_error`: how failures reach C.

use std::ffi::CString;
use std::os::raw::{c_char, c_int};

use super::panic::{guard_or, EMPTY};
use super::strings::{into_raw_string, to_c_string};
use crate::client::{Error, Status};

/// What kind of failure a `cbk_error` reports. The numbers are part of the
/// ABI and are never reused.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum cbk_status {
    /// No error.
    CBK_OK = 0,
    /// NULL where a value is needed, invalid UTF-8, an empty or unsafe id, or
    /// an option value of the right JSON type that is out of range or
    /// malformed (negative `retries`, CR/LF in a header value, a bad URL, a
    /// URL with credentials, a header that frames the message); a request
    /// fetch forbids (`CONNECT`, `TRACE`, `TRACK`) or too large to send (a
    /// URL over 65,534 bytes, more than 10,000 header names). Nothing is sent.
    CBK_ERROR_INVALID_ARGUMENT = 1,
    /// Options or request text that is not JSON or not a JSON object, an
    /// option of the wrong JSON type, an unknown option.
    CBK_ERROR_INVALID_JSON = 2,
    /// The server answered non-2xx (after retries); see the code and HTTP status.
    CBK_ERROR_API = 3,
    /// An attempt took longer than `timeout` (or `connectTimeout`).
    CBK_ERROR_TIMEOUT = 4,
    /// DNS, connect, TLS, a reset, a truncated body.
    CBK_ERROR_NETWORK = 5,
    /// A 2xx whose body is not what the call returns (not JSON for create, or
    /// JSON the server content-encoded, which the library does not decode),
    /// or any body over `maxResponseBytes`.
    CBK_ERROR_INVALID_RESPONSE = 6,
    /// The call was cancelled.
    CBK_ERROR_CANCELLED = 7,
    /// A caught panic (a bug) or a runtime that could not start. Never a crash.
    CBK_ERROR_INTERNAL = 8,
}

impl From<Status> for cbk_status {
    fn from(s: Status) -> cbk_status {
        match s {
            Status::InvalidArgument => cbk_status::CBK_ERROR_INVALID_ARGUMENT,
            Status::InvalidJson => cbk_status::CBK_ERROR_INVALID_JSON,
            Status::Api => cbk_status::CBK_ERROR_API,
            Status::Timeout => cbk_status::CBK_ERROR_TIMEOUT,
            Status::Network => cbk_status::CBK_ERROR_NETWORK,
            Status::InvalidResponse => cbk_status::CBK_ERROR_INVALID_RESPONSE,
            Status::Cancelled => cbk_status::CBK_ERROR_CANCELLED,
            Status::Internal => cbk_status::CBK_ERROR_INTERNAL,
        }
    }
}

/// The name of a status, as cbk_error_to_json() spells it: "OK",
/// "INVALID_ARGUMENT", "INVALID_JSON", "API", "TIMEOUT", "NETWORK",
/// "INVALID_RESPONSE", "CANCELLED", "INTERNAL"; "UNKNOWN" for any other
/// value.
///
/// @param status A ::cbk_status, taken as an `int` (the same ABI) so that
///     any value from C is safe.
/// @return A static string: never NULL, never freed.
#[no_mangle]
pub extern "C" fn cbk_status_name(status: c_int) -> *const c_char {
    let name: &'static std::ffi::CStr = match status {
        0 => c"OK",
        1 => c"INVALID_ARGUMENT",
        2 => c"INVALID_JSON",
        3 => c"API",
        4 => c"TIMEOUT",
        5 => c"NETWORK",
        6 => c"INVALID_RESPONSE",
        7 => c"CANCELLED",
        8 => c"INTERNAL",
        _ => c"UNKNOWN",
    };
    name.as_ptr()
}

/// An error: status, the SDK's code string, a message and the HTTP status.
/// Owned by the caller; free with `cbk_error_free`. Immutable, so it may be
/// read from any thread.
pub struct cbk_error {
    error: Error,
    code: CString,
    message: CString,
}

impl cbk_error {
    pub(crate) fn new(error: Error) -> cbk_error {
        cbk_error {
            code: to_c_string(error.code.clone()),
            message: to_c_string(error.message.clone()),
            error,
        }
    }
}

/// Store `e` as a new `cbk_error` through `out`, when `out` is not NULL.
///
/// # Safety
/// `out` is NULL or valid for one pointer write.
pub(crate) unsafe fn store_error(out: *mut *mut cbk_error, e: Error) {
    if !out.is_null() {
        let boxed = Box::into_raw(Box::new(cbk_error::new(e)));
        // SAFETY: `out` is not NULL and writable by the caller's contract.
        unsafe { out.write(boxed) };
    }
}

/// The error's status.
///
/// @param error The error; borrowed, NULL allowed.
/// @return The ::cbk_status of `error`; `CBK_ERROR_INVALID_ARGUMENT` for a
///     NULL `error`.
#[no_mangle]
pub unsafe extern "C" fn cbk_error_status(error: *const cbk_error) -> cbk_status {
    guard_or(cbk_status::CBK_ERROR_INTERNAL, || {
        // SAFETY: NULL or a live error from this library (caller's contract).
        match unsafe { error.as_ref() } {
            Some(e) => e.error.status.into(),
            None => cbk_status::CBK_ERROR_INVALID_ARGUMENT,
        }
    })
}

/// The error's code: the SDK's code (the server's own, such as `NOT_FOUND`
/// or `NOT_AUTHENTICATED`; else `ERROR_500` and the like, `CONTENT_TOO_LARGE`,
/// `GENERIC_ERROR`, `TimeoutError`) or one of ours (`NETWORK_ERROR`,
/// `INVALID_ARGUMENT`, `INVALID_JSON`, `INVALID_RESPONSE`, `CANCELLED`,
/// `INTERNAL_ERROR`); the error table of libchatbotkit(3) says which goes with
/// which status. A server's code that holds the client's secret or token has
/// it replaced by `[REDACTED]`, as in the message.
///
/// @param error The error; borrowed, NULL allowed.
/// @return The code, borrowed from `error`: valid until it is freed, never
///     freed by the caller. `""` for a NULL `error`.
#[no_mangle]
pub unsafe extern "C" fn cbk_error_code(error: *const cbk_error) -> *const c_char {
    guard_or(EMPTY, || {
        // SAFETY: NULL or a live error from this library (caller's contract).
        unsafe { error.as_ref() }.map_or(EMPTY, |e| e.code.as_ptr())
    })
}

/// The error's message, for people. Never contains the client's secret or
/// token: where the message quotes a server (an error body's `message`, a
/// reason phrase, a redirect location) that echoed it, in any letter case
/// or percent-encoded, it reads `[REDACTED]` (`Bearer [REDACTED]`). A
/// credential shorter than 4 characters is replaced only after `Bearer `.
///
/// @param error The error; borrowed, NULL allowed.
/// @return The message, borrowed from `error`: valid until it is freed, never
///     freed by the caller. `""` for a NULL `error`.
#[no_mangle]
pub unsafe extern "C" fn cbk_error_message(error: *const cbk_error) -> *const c_char {
    guard_or(EMPTY, || {
        // SAFETY: NULL or a live error from this library (caller's contract).
        unsafe { error.as_ref() }.map_or(EMPTY, |e| e.message.as_ptr())
    })
}

/// The HTTP status of the response the error was made from.
///
/// @param error The error; borrowed, NULL allowed.
/// @return The HTTP status (e.g. 404 for a `CBK_ERROR_API`); 0 when there was
///     no HTTP response, or for a NULL `error`.
#[no_mangle]
pub unsafe extern "C" fn cbk_error_http_status(error: *const cbk_error) -> c_int {
    guard_or(0, || {
        // SAFETY: NULL or a live error from this library (caller's contract).
        unsafe { error.as_ref() }.map_or(0, |e| c_int::from(e.error.http_status))
    })
}

/// The error as JSON:
/// `{"status":"API","code":"NOT_FOUND","message":"...","httpStatus":404}`,
/// `status` spelt as cbk_status_name() spells it.
///
/// @param error The error; borrowed, NULL allowed.
/// @return The JSON text, owned by the caller and freed with
///     cbk_string_free(); NULL for a NULL `error`.
#[no_mangle]
pub unsafe extern "C" fn cbk_error_to_json(error: *const cbk_error) -> *mut c_char {
    guard_or(std::ptr::null_mut(), || {
        // SAFETY: NULL or a live error from this library (caller's contract).
        let Some(e) = (unsafe { error.as_ref() }) else {
            return std::ptr::null_mut();
        };
        let json = serde_json::json!({
            "status": e.error.status.name(),
            "code": e.error.code,
            "message": e.error.message,
            "httpStatus": e.error.http_status,
        });
        into_raw_string(json.to_string())
    })
}

/// Free an error.
///
/// @param error The error, owned by the caller and given up here (strings
///     borrowed from it become invalid); NULL is accepted and ignored.
#[no_mangle]
pub unsafe extern "C" fn cbk_error_free(error: *mut cbk_error) {
    if error.is_null() {
        return;
    }
    guard_or((), || {
        // `error` came from Box::into_raw in `store_error`.
        // SAFETY: the caller gives up ownership here, once.
        drop(unsafe { Box::from_raw(error) })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_names_are_the_json_names() {
        use crate::client::Status::*;
        let name = |code: i32| {
            // SAFETY: cbk_status_name returns a static C string.
            unsafe { std::ffi::CStr::from_ptr(cbk_status_name(code)) }
                .to_str()
                .unwrap()
        };
        for status in [
            InvalidArgument,
            InvalidJson,
            Api,
            Timeout,
            Network,
            InvalidResponse,
            Cancelled,
            Internal,
        ] {
            assert_eq!(name(cbk_status::from(status) as i32), status.name());
        }
        assert_eq!(name(0), "OK");
        assert_eq!(name(9), "UNKNOWN");
        assert_eq!(name(-1), "UNKNOWN");
    }
}
