//! The library's own log: one optional sink set by the host (through
//! `cbk_set_log_callback`), never a global Rust logger.
//!
//! Lines name the method, the URL path (no host credentials, no query), the
//! attempt, the status or failure and the elapsed time. Headers are never
//! logged, so neither is the secret.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::RwLock;
use std::time::Duration;

use crate::client::http::{Request, Response};
use crate::client::{Error, Result};

/// Log levels, most severe first (numbers as `cbk_log_level`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
}

pub type Sink = Box<dyn Fn(Level, &str) + Send + Sync>;

/// The most verbose level the sink wants; 0 when there is no sink.
static MAX_LEVEL: AtomicU8 = AtomicU8::new(0);
static SINK: RwLock<Option<Sink>> = RwLock::new(None);

/// Install (or with `None`, remove) the sink.
pub fn set_sink(max_level: Level, sink: Option<Sink>) {
    let mut slot = SINK.write().unwrap_or_else(|p| p.into_inner());
    let level = if sink.is_some() { max_level as u8 } else { 0 };
    *slot = sink;
    MAX_LEVEL.store(level, Ordering::Release);
}

fn enabled(level: Level) -> bool {
    level as u8 <= MAX_LEVEL.load(Ordering::Acquire)
}

fn emit(level: Level, message: impl FnOnce() -> String) {
    if !enabled(level) {
        return;
    }
    let slot = SINK.read().unwrap_or_else(|p| p.into_inner());
    if let Some(sink) = slot.as_ref() {
        sink(level, &message());
    }
}

/// Report one attempt of a request and what happens next.
pub fn attempt(
    req: &Request,
    attempt: u32,
    elapsed: Duration,
    outcome: &Result<Response>,
    retry_in: Option<Duration>,
) {
    let level = match (outcome, retry_in) {
        (_, Some(_)) => Level::Warn,
        (Ok(r), None) if r.status.is_success() => Level::Info,
        _ => Level::Error,
    };
    emit(level, || {
        let what = match outcome {
            Ok(r) => format!("HTTP {}", r.status.as_u16()),
            Err(Error { code, message, .. }) => format!("{code}: {message}"),
        };
        let next = match retry_in {
            Some(d) => format!("; retrying in {} ms", d.as_millis()),
            None => String::new(),
        };
        format!(
            "{} {} attempt {} -> {} in {} ms{}",
            req.method,
            req.url.path(),
            attempt,
            what,
            elapsed.as_millis(),
            next
        )
    });
}

/// Report that an async request was cancelled (`what`: method and path).
pub fn cancelled(what: &str) {
    emit(Level::Warn, || format!("{what} cancelled"));
}
