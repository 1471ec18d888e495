//! Strings across the boundary: borrowing C arguments (NULL and invalid
//! UTF-8 refused with the argument's name) and handing out owned strings
//! that the caller frees with `cbk_string_free`.

use std::ffi::{CStr, CString};
use std::os::raw::c_char;

use super::panic::guard_or;
use crate::client::{Error, Result};

/// Borrow a required string argument.
///
/// # Safety
/// `p` is NULL or a NUL-terminated string valid for `'a`.
pub(crate) unsafe fn arg_str<'a>(p: *const c_char, name: &str) -> Result<&'a str> {
    // SAFETY: forwarded from the caller.
    unsafe { arg_opt_str(p, name) }?
        .ok_or_else(|| Error::invalid_argument(format!("`{name}` is NULL")))
}

/// Borrow an optional string argument (NULL is `None`).
///
/// # Safety
/// `p` is NULL or a NUL-terminated string valid for `'a`.
pub(crate) unsafe fn arg_opt_str<'a>(p: *const c_char, name: &str) -> Result<Option<&'a str>> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: not NULL, and NUL-terminated by the caller's contract.
    let bytes = unsafe { CStr::from_ptr(p) };
    bytes
        .to_str()
        .map(Some)
        .map_err(|_| Error::invalid_argument(format!("`{name}` is not valid UTF-8")))
}

/// Borrow a required handle argument.
///
/// # Safety
/// `p` is NULL or a live handle of type `T` made by this library.
pub(crate) unsafe fn arg_ref<'a, T>(p: *const T, name: &str) -> Result<&'a T> {
    // SAFETY: forwarded from the caller.
    unsafe { p.as_ref() }.ok_or_else(|| Error::invalid_argument(format!("`{name}` is NULL")))
}

/// Hand a string to C. NUL bytes cannot cross as C strings; text that
/// holds one (never JSON) is replaced by U+FFFD at that byte.
pub(crate) fn to_c_string(s: String) -> CString {
    CString::new(s).unwrap_or_else(|e| {
        let text = String::from_utf8_lossy(&e.into_vec()).replace('\0', "\u{FFFD}");
        CString::new(text).unwrap_or_default()
    })
}

/// An owned string for the caller, freed with `cbk_string_free`.
pub(crate) fn into_raw_string(s: String) -> *mut c_char {
    to_c_string(s).into_raw()
}

/// Free a string returned by this library.
///
/// Every `char *` the library returns is owned by the caller and must be
/// released exactly once with this function: never with `free()`, since the
/// library's allocator need not be the caller's.
///
/// @param s The string, given up here; NULL is accepted and ignored.
#[no_mangle]
pub unsafe extern "C" fn cbk_string_free(s: *mut c_char) {
    if s.is_null() {
        return;
    }
    guard_or((), || {
        // `s` came from `CString::into_raw` in this library.
        // SAFETY: and the caller gives up ownership here.
        drop(unsafe { CString::from_raw(s) })
    })
}

/// The library's version, e.g. `"0.1.0"`: what was loaded at run time, which
/// may be newer than the header a program was compiled with
/// (`CHATBOTKIT_VERSION`).
///
/// @return A static string: never NULL, never freed.
#[no_mangle]
pub extern "C" fn cbk_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

// The header's version macros are text in cbindgen.toml (cbindgen writes no
// string constant): this test fails when they drift from Cargo.toml.
#[cfg(test)]
mod version_tests {
    #[test]
    fn header_version_macros_follow_cargo_toml() {
        let header = include_str!("../../include/chatbotkit.h");
        for (name, value) in [
            (
                "CHATBOTKIT_VERSION",
                format!("\"{}\"", env!("CARGO_PKG_VERSION")),
            ),
            (
                "CHATBOTKIT_VERSION_MAJOR",
                env!("CARGO_PKG_VERSION_MAJOR").to_owned(),
            ),
            (
                "CHATBOTKIT_VERSION_MINOR",
                env!("CARGO_PKG_VERSION_MINOR").to_owned(),
            ),
            (
                "CHATBOTKIT_VERSION_PATCH",
                env!("CARGO_PKG_VERSION_PATCH").to_owned(),
            ),
        ] {
            let line = format!("#define {name} {value}\n");
            assert!(header.contains(&line), "include/chatbotkit.h lacks `{line}`: update cbindgen.toml's after_includes and run `make header`");
        }
    }
}
