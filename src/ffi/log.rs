//! `cbk_set_log_callback`: the library's log lines, handed to the host.

use std::os::raw::{c_char, c_int, c_void};

use super::panic::guard_or;
use super::strings::to_c_string;
use crate::log::{set_sink, Level, Sink, SinkKey};

/// Log levels, most severe first.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum cbk_log_level {
    /// A request failed for good.
    CBK_LOG_ERROR = 1,
    /// An attempt failed and will be retried.
    CBK_LOG_WARN = 2,
    /// A request succeeded.
    CBK_LOG_INFO = 3,
    /// Details.
    CBK_LOG_DEBUG = 4,
}

/// Receives one log line. `message` is borrowed for the call only. Called
/// on whichever thread made the attempt, possibly several at once.
#[allow(non_camel_case_types)]
pub type cbk_log_callback = Option<
    unsafe extern "C" fn(user_data: *mut c_void, level: cbk_log_level, message: *const c_char),
>;

/// The user data pointer, passed back untouched. The host promises it may
/// be used from any thread.
struct UserData(*mut c_void);
// SAFETY: the pointer is only handed back to the host's callback; the host
// vouches for its thread safety by installing the callback.
unsafe impl Send for UserData {}
// SAFETY: as above.
unsafe impl Sync for UserData {}

/// Install the process's log callback.
///
/// It receives every line at `max_level` or more severe:
/// - `CBK_LOG_ERROR`: a request failed for good;
/// - `CBK_LOG_WARN`: an attempt failed and will be retried;
/// - `CBK_LOG_INFO`: a request succeeded. These three name the method, the
///   URL without its query (scheme, host, port, path), the attempt number,
///   the status or failure and the elapsed time;
/// - `CBK_LOG_DEBUG`: which connection answered (host, addresses, opened or
///   reused, HTTP version, ALPN), the TLS version and certificate check,
///   each redirect hop and the proxy a request goes through.
///
/// Lines never contain a header or a query, so never the secret; a line
/// that quotes a server which echoed the secret or token shows `[REDACTED]`
/// instead, as error messages do. The library never installs a global Rust
/// logger. With no callback set (never set, or turned off with NULL), the
/// environment variable `CHATBOTKIT_LOG` (`error`, `warn`, `info` or
/// `debug`) sends the lines at that level and above to standard error.
///
/// The callback may run on any thread, including several at once, possibly
/// while the library drives requests on that thread: the blocking functions
/// (the creates, the fetches, cbk_task_wait()) fail there with
/// `CBK_ERROR_INVALID_ARGUMENT`. It may call cbk_set_log_callback(): the
/// change applies from the next line on. A callback that was replaced may
/// still receive lines that other threads were already logging. The library
/// keeps each distinct (callback, user data, level) it was given until the
/// process exits (a few dozen bytes each), which is what makes replacing a
/// callback safe while other threads log: `user_data` must stay valid for
/// as long as the process may log.
///
/// @param max_level The most verbose level wanted, a ::cbk_log_level; an
///     `int` so that any value is safe: below 1 is `CBK_LOG_ERROR`, above 4
///     `CBK_LOG_DEBUG`.
/// @param callback The callback, or NULL to turn logging off.
/// @param user_data Passed to `callback` untouched, from any thread.
#[no_mangle]
pub extern "C" fn cbk_set_log_callback(
    max_level: c_int,
    callback: cbk_log_callback,
    user_data: *mut c_void,
) {
    guard_or((), || {
        let level = match max_level {
            i32::MIN..=1 => Level::Error,
            2 => Level::Warn,
            3 => Level::Info,
            _ => Level::Debug,
        };
        let Some(callback) = callback else {
            set_sink(None);
            return;
        };
        let key = SinkKey {
            max_level: level,
            id: (callback as usize, user_data as usize),
        };
        let make = || -> Sink {
            let user_data = UserData(user_data);
            Box::new(move |level: Level, message: &str| {
                let c_level = match level {
                    Level::Error => cbk_log_level::CBK_LOG_ERROR,
                    Level::Warn => cbk_log_level::CBK_LOG_WARN,
                    Level::Info => cbk_log_level::CBK_LOG_INFO,
                    Level::Debug => cbk_log_level::CBK_LOG_DEBUG,
                };
                let text = to_c_string(message.to_owned());
                let user_data = &user_data;
                // The host's callback, with its own user data.
                // SAFETY: and a string valid for the call.
                unsafe { callback(user_data.0, c_level, text.as_ptr()) };
            })
        };
        set_sink(Some((key, &make)));
    })
}
