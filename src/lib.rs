//! libchatbotkit: the ChatBotKit session clients behind a C ABI.
//!
//! Three layers, each in its own place:
//! - [`client`]: the SDK in plain Rust (options, `extend`, URLs, headers,
//!   retries, error mapping, the session calls). No raw pointers.
//! - [`runtime`]: the one shared tokio runtime and the connection pools,
//!   fork-aware.
//! - [`ffi`]: the C boundary (handles, strings, errors, the panic guard).
//!   Every `cbk_*` symbol lives there and is re-exported here, so Rust tests
//!   can call the C API as `chatbotkit::cbk_...`.

#![deny(unsafe_op_in_unsafe_fn)]

pub mod client;
pub mod error;
pub mod ffi;
pub mod log;
pub mod runtime;
mod tls;

pub use ffi::*;
