//! A panic inside the guard comes back as CBK_ERROR_INTERNAL with a message,
//! and the process (and the library) live on. Needs `--features test-panic`.
#![cfg(feature = "test-panic")]

use std::ffi::CStr;
use std::ptr;

use chatbotkit::*;

#[test]
fn a_panic_becomes_an_internal_error() {
    for _ in 0..3 {
        let mut err: *mut cbk_error = ptr::null_mut();
        // SAFETY: a valid out-pointer for the error.
        let out = unsafe { cbk_test_panic(&mut err) };
        assert!(out.is_null());
        assert!(!err.is_null());
        // SAFETY: `err` is a live error made by the library.
        unsafe {
            assert_eq!(cbk_error_status(err), cbk_status::CBK_ERROR_INTERNAL);
            let code = CStr::from_ptr(cbk_error_code(err)).to_str().unwrap();
            let message = CStr::from_ptr(cbk_error_message(err)).to_str().unwrap();
            assert_eq!(code, "INTERNAL_ERROR");
            assert!(message.contains("cbk_test_panic was called"), "{message}");
            cbk_error_free(err);
        }
    }
    // The library still works after the panics.
    // SAFETY: NULL options are allowed; the handle is freed once.
    unsafe {
        let client = cbk_conversation_session_client_new(ptr::null(), ptr::null_mut());
        assert!(!client.is_null());
        cbk_conversation_session_client_free(client);
    }
}
