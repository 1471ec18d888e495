//! The panic boundary. Every export runs its body through one of these
//! guards, so no panic unwinds into C and every failure is reported the same
//! way: the failure value of the return type (NULL), and a `cbk_error` stored
//! through the `error` out-parameter when the caller gave one.

use std::os::raw::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::error::{cbk_error, store_error};
use crate::client::{Error, Result};

/// What a fallible export returns on failure.
pub(crate) trait Failure {
    fn failure() -> Self;
}

impl<T> Failure for *mut T {
    fn failure() -> Self {
        std::ptr::null_mut()
    }
}

impl<T> Failure for *const T {
    fn failure() -> Self {
        std::ptr::null()
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> Error {
    let detail = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    Error::internal(format!("internal error (a bug in libchatbotkit): {detail}"))
}

/// Run a fallible export body. On `Err` or panic, store the error through
/// `error` (when not NULL) and return the failure value. On success `*error`
/// is left untouched.
pub(crate) fn guard<T: Failure>(error: *mut *mut cbk_error, body: impl FnOnce() -> Result<T>) -> T {
    let outcome = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|p| Err(panic_message(p)));
    match outcome {
        Ok(value) => value,
        Err(e) => {
            // Every `cbk_error **error` argument is NULL or valid for one write.
            // SAFETY: that is the caller's contract.
            unsafe { store_error(error, e) };
            T::failure()
        }
    }
}

/// Run a fallible export body that returns a status: `CBK_OK` on success;
/// on `Err` or panic, the error's status, with the error stored through
/// `error` (when not NULL).
pub(crate) fn guard_status(
    error: *mut *mut cbk_error,
    body: impl FnOnce() -> Result<()>,
) -> super::error::cbk_status {
    let outcome = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|p| Err(panic_message(p)));
    match outcome {
        Ok(()) => super::error::cbk_status::CBK_OK,
        Err(e) => {
            let status = e.status.into();
            // Every `cbk_error **error` argument is NULL or valid for one write.
            // SAFETY: that is the caller's contract.
            unsafe { store_error(error, e) };
            status
        }
    }
}

/// Run an export body that cannot report errors; a panic gives `fallback`.
pub(crate) fn guard_or<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// A static C string, for accessors that must return something.
pub(crate) const EMPTY: *const c_char = c"".as_ptr();

#[cfg(feature = "test-panic")]
/// Test-only export: panics inside the guard.
#[no_mangle]
pub unsafe extern "C" fn cbk_test_panic(error: *mut *mut cbk_error) -> *mut c_char {
    guard(error, || -> Result<*mut c_char> {
        panic!("cbk_test_panic was called")
    })
}
