//! `FetchOptions::parse` (the options of `cbk_*_fetch`): any text never
//! panics, and every failure is INVALID_JSON or INVALID_ARGUMENT.
#![no_main]

use chatbotkit::client::error::Status;
use chatbotkit::client::fetch::FetchOptions;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match FetchOptions::parse(Some(text)) {
        Ok(fo) => {
            let _ = fo.effective_method();
        }
        Err(e) => assert!(
            matches!(e.status, Status::InvalidJson | Status::InvalidArgument),
            "unexpected status {:?}: {}",
            e.status,
            e.message
        ),
    }
});
