//! The C boundary: handles, strings, errors and the panic guard. Nothing
//! here knows HTTP; it checks pointers, converts strings and calls
//! [`crate::client`].

#![allow(non_camel_case_types)]

pub mod error;
pub mod log;
pub mod panic;
pub mod session;
pub mod strings;

pub use self::error::*;
pub use self::log::*;
pub use self::session::*;
pub use self::strings::*;
