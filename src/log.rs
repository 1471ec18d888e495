//! The library's own log: one optional sink set by the host (through
//! `cbk_set_log_callback`), never a global Rust logger.
//!
//! Lines name the method, the URL path (no host credentials, no query), the
//! attempt, the status or failure and the elapsed time. Headers are never
//! logged, so neither is the secret.

use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Mutex;
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

/// An installed sink and the most verbose level it wants.
struct Installed {
    key: SinkKey,
    sink: Sink,
}

/// What tells two sinks apart: the level and whatever the installer uses
/// to identify its sink (the C callback and user data).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SinkKey {
    pub max_level: Level,
    pub id: (usize, usize),
}

/// The sink in use, read without a lock: a line is never held up by
/// another thread, a sink may replace itself from inside its own call, and
/// no lock can be left held across fork() by a thread that was logging.
static CURRENT: AtomicPtr<Installed> = AtomicPtr::new(std::ptr::null_mut());
/// Every sink ever installed. They are never freed, because another
/// thread may still be inside one that was just replaced; installing the
/// same one again reuses it, so this grows only with distinct sinks.
static INSTALLED: Mutex<Vec<&'static Installed>> = Mutex::new(Vec::new());

/// Install the sink `key` identifies (made by `make` the first time), or
/// with `None`, remove the sink.
pub fn set_sink(install: Option<(SinkKey, &dyn Fn() -> Sink)>) {
    let Some((key, make)) = install else {
        CURRENT.store(std::ptr::null_mut(), Ordering::Release);
        return;
    };
    let mut installed = INSTALLED.lock().unwrap_or_else(|p| p.into_inner());
    let found = installed.iter().copied().find(|i| i.key == key);
    let sink = found.unwrap_or_else(|| {
        let new: &'static Installed = Box::leak(Box::new(Installed { key, sink: make() }));
        installed.push(new);
        new
    });
    CURRENT.store(
        sink as *const Installed as *mut Installed,
        Ordering::Release,
    );
}

fn current(level: Level) -> Option<&'static Installed> {
    // CURRENT is null or a pointer leaked in `set_sink`, never freed.
    // SAFETY: so it is valid for 'static.
    unsafe { CURRENT.load(Ordering::Acquire).as_ref() }.filter(|i| level <= i.key.max_level)
}

fn emit(level: Level, message: impl FnOnce() -> String) {
    if let Some(installed) = current(level) {
        let message = message();
        crate::runtime::no_blocking("the log callback", || (installed.sink)(level, &message));
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
