//! The library's own log: one optional sink set by the host (through
//! `cbk_set_log_callback`), never a global Rust logger.
//!
//! Lines name the method, the URL without its query (scheme, host, port and
//! path), the attempt, the status or failure and the elapsed time. Headers
//! are never logged, so neither is the secret.
//!
//! With no sink set, `CHATBOTKIT_LOG` (`error`, `warn`, `info`, `debug`)
//! sends the lines to standard error: a way to look inside an application
//! without changing it.

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicU8, Ordering};
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

/// Where a line at `level` goes, if anywhere.
enum Destination {
    Sink(&'static Installed),
    Stderr,
}

fn destination(level: Level) -> Option<Destination> {
    // CURRENT is null or a pointer leaked in `set_sink`, never freed.
    // SAFETY: so it is valid for 'static.
    match unsafe { CURRENT.load(Ordering::Acquire).as_ref() } {
        Some(installed) => {
            (level <= installed.key.max_level).then_some(Destination::Sink(installed))
        }
        None => (Some(level) <= environment_level()).then_some(Destination::Stderr),
    }
}

/// Whether a line at `level` would go anywhere: what a costly line checks
/// before it gathers what it says.
pub fn enabled(level: Level) -> bool {
    destination(level).is_some()
}

/// `CHATBOTKIT_LOG`, read once: an atomic rather than a lock, so that
/// fork() cannot leave it held.
fn environment_level() -> Option<Level> {
    const UNREAD: u8 = u8::MAX;
    static LEVEL: AtomicU8 = AtomicU8::new(UNREAD);
    let level = match LEVEL.load(Ordering::Relaxed) {
        UNREAD => {
            let level = std::env::var("CHATBOTKIT_LOG")
                .ok()
                .and_then(|v| parse_level(&v))
                .map_or(0, |l| l as u8);
            LEVEL.store(level, Ordering::Relaxed);
            level
        }
        level => level,
    };
    [Level::Error, Level::Warn, Level::Info, Level::Debug]
        .into_iter()
        .find(|l| *l as u8 == level)
}

/// A `CHATBOTKIT_LOG` value: a level's name in any letter case, or its number.
fn parse_level(value: &str) -> Option<Level> {
    match value.trim().to_ascii_lowercase().as_str() {
        "error" | "1" => Some(Level::Error),
        "warn" | "warning" | "2" => Some(Level::Warn),
        "info" | "3" => Some(Level::Info),
        "debug" | "4" => Some(Level::Debug),
        _ => None,
    }
}

fn emit(level: Level, message: impl FnOnce() -> String) {
    match destination(level) {
        None => {}
        Some(Destination::Sink(installed)) => {
            let message = message();
            crate::runtime::no_blocking("the log callback", || (installed.sink)(level, &message));
        }
        Some(Destination::Stderr) => {
            let name = match level {
                Level::Error => "error",
                Level::Warn => "warn",
                Level::Info => "info",
                Level::Debug => "debug",
            };
            let line = format!("chatbotkit: {name}: {}\n", message());
            // One write(2) per line, without Rust's stderr lock: lines of
            // different threads do not interleave, and a fork() while
            // another thread logs leaves no lock held in the child. fd 2
            // may be closed: the write then fails, harmlessly.
            // SAFETY: the pointer and length are those of a live String.
            unsafe { libc::write(2, line.as_ptr().cast(), line.len()) };
        }
    }
}

/// A detail (`CBK_LOG_DEBUG`), made only when someone reads it.
pub fn debug(message: impl FnOnce() -> String) {
    emit(Level::Debug, message);
}

/// The URL as lines and messages show it: no query (it may carry anything)
/// and no credentials (requests never have any).
pub fn target(url: &url::Url) -> String {
    format!(
        "{}://{}{}{}",
        url.scheme(),
        url.host_str().unwrap_or(""),
        url.port().map(|p| format!(":{p}")).unwrap_or_default(),
        url.path()
    )
}

/// Report whether a response came over a new connection or a pooled one
/// (`CBK_LOG_DEBUG`), with what TLS negotiated through ALPN. `redact` is
/// the request's: after a redirect, the server chose the host.
pub fn connection(url: &url::Url, resp: &reqwest::Response, redact: impl Fn(String) -> String) {
    if !enabled(Level::Debug) {
        return;
    }
    use hyper_util::client::legacy::connect::HttpInfo;
    let Some(info) = resp.extensions().get::<HttpInfo>() else {
        return;
    };
    /// Connections seen, by a hash of their two ends, in a table of atomics:
    /// no lock for a fork() to strand, and no growth. A collision or a
    /// port the system reused only mislabels a debug line.
    static SEEN: [AtomicU64; 1024] = [const { AtomicU64::new(0) }; 1024];
    let ends = (info.local_addr(), info.remote_addr());
    let hash = {
        let mut hasher = std::hash::DefaultHasher::new();
        ends.hash(&mut hasher);
        hasher.finish() | 1
    };
    let new = SEEN[hash as usize % SEEN.len()].swap(hash, Ordering::Relaxed) != hash;
    let protocol = match resp.version() {
        http::Version::HTTP_2 => "HTTP/2",
        http::Version::HTTP_10 => "HTTP/1.0",
        _ => "HTTP/1.1",
    };
    let alpn = match (url.scheme(), resp.version()) {
        ("https", http::Version::HTTP_2) => ", ALPN h2",
        ("https", _) => ", ALPN http/1.1 or none",
        _ => "",
    };
    emit(Level::Debug, || {
        redact(format!(
            "connection to {} ({}) from {} {}: {protocol}{alpn}",
            url.host_str().unwrap_or(""),
            ends.1,
            ends.0,
            if new { "opened" } else { "reused" },
        ))
    });
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
            target(&req.url),
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
