//! The C boundary: handles, strings, errors and the panic guard. Nothing
//! here knows HTTP; it checks pointers, converts strings and calls
//! [`crate::client`].

#![allow(non_camel_case_types)]
// Every export's pointer contract is the same (NULL, or a live value of the
// declared type made by this library) and is stated once in the header's
// "Conventions" section rather than in a `# Safety` section per function.
#![allow(clippy::missing_safety_doc)]

pub mod error;
pub mod log;
pub mod panic;
pub mod session;
pub mod strings;
pub mod task;

pub use self::error::*;
pub use self::log::*;
#[cfg(feature = "test-panic")]
pub use self::panic::cbk_test_panic;
pub use self::session::*;
pub use self::strings::*;
pub use self::task::*;
