//! The shared tokio runtime and the connection pools, both fork-aware.
//!
//! One multi-thread runtime, started on first use, serves every handle. Its
//! worker threads do not survive `fork()`, so a `pthread_atfork` child
//! handler bumps a generation counter; the first call in the child sees the
//! old generation and builds a new runtime (the parent's is leaked in the
//! child, never touched again). Connection pools are keyed by transport
//! settings and generation, so a child never reuses its parent's sockets.
//!
//! The runtime is never shut down: the library is not unloadable.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once, Weak};

use crate::client::options::TransportSettings;
use crate::client::{Error, Result};

/// Bumped in the child after every `fork()`.
static GENERATION: AtomicU64 = AtomicU64::new(0);
/// The current generation's state, leaked on purpose (one per process
/// generation).
static CURRENT: AtomicPtr<State> = AtomicPtr::new(std::ptr::null_mut());
static INIT: Mutex<()> = Mutex::new(());
static ATFORK: Once = Once::new();

/// How many threads may be blocked in library calls made from callbacks at
/// once (each holds a thread; see the header's thread-safety notes).
pub(crate) const MAX_BLOCKED_CALLBACKS: usize = 4096;

struct State {
    generation: u64,
    /// The state this one replaced after a fork, kept reachable: it is never
    /// used in this process again, but it is not garbage either.
    _previous: Option<&'static State>,
    runtime: tokio::runtime::Runtime,
    pools: Mutex<HashMap<TransportSettings, Weak<reqwest::Client>>>,
}

extern "C" fn after_fork_in_child() {
    GENERATION.fetch_add(1, Ordering::AcqRel);
}

/// The state of the current process generation, built on first use.
fn state() -> Result<&'static State> {
    let generation = GENERATION.load(Ordering::Acquire);
    let current = CURRENT.load(Ordering::Acquire);
    // CURRENT is either null or a pointer from Box::leak below, never freed.
    // SAFETY: so it is valid for 'static.
    if let Some(state) = unsafe { current.as_ref() } {
        if state.generation == generation {
            return Ok(state);
        }
    }
    let _guard = INIT.lock().unwrap_or_else(|p| p.into_inner());
    let current = CURRENT.load(Ordering::Acquire);
    // SAFETY: as above.
    if let Some(state) = unsafe { current.as_ref() } {
        if state.generation == generation {
            return Ok(state);
        }
    }
    ATFORK.call_once(|| {
        // The handler only touches an atomic, which is async-signal-safe.
        // SAFETY: as a child handler must be.
        unsafe {
            libc::pthread_atfork(None, None, Some(after_fork_in_child));
        }
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("chatbotkit-worker")
        // A callback blocked in a library call hands its worker to a
        // blocking-pool thread; this bounds how many may block at once.
        .max_blocking_threads(MAX_BLOCKED_CALLBACKS)
        .build()
        .map_err(|e| Error::internal(format!("the runtime could not start: {e}")))?;
    // SAFETY: as above.
    let previous = unsafe { current.as_ref() };
    let state: &'static State = Box::leak(Box::new(State {
        generation,
        _previous: previous,
        runtime,
        pools: Mutex::new(HashMap::new()),
    }));
    CURRENT.store(state as *const State as *mut State, Ordering::Release);
    Ok(state)
}

/// Run `fut` to completion on the shared runtime, from any thread.
///
/// From a plain thread this is `Runtime::block_on`. From a thread that is
/// already inside a tokio runtime (a library callback, or a host that embeds
/// its own tokio), plain `block_on` would panic; a worker of a multi-thread
/// runtime hands its other work away with `block_in_place` first, and any
/// other runtime thread waits on a scoped helper thread.
pub fn block_on<F>(fut: F) -> Result<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    let state = state()?;
    match tokio::runtime::Handle::try_current() {
        Err(_) => Ok(state.runtime.block_on(fut)),
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            Ok(blocking(|| state.runtime.block_on(fut)))
        }
        Ok(_) => std::thread::scope(|s| {
            s.spawn(|| state.runtime.block_on(fut))
                .join()
                .map_err(|_| Error::internal("the request thread panicked"))
        }),
    }
}

/// Run a blocking closure (a condition-variable wait) from any thread. On a
/// worker of a multi-thread runtime, the worker's other tasks are handed to
/// another thread first, so a wait inside a callback cannot starve them.
pub fn blocking<R>(f: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// Spawn `fut` on the shared runtime.
pub fn spawn<F>(fut: F) -> Result<tokio::task::JoinHandle<F::Output>>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    Ok(state()?.runtime.spawn(fut))
}

/// A client's handle on the connection pool for its transport settings.
/// Clients with equal settings share one pool (one `reqwest::Client`).
#[derive(Debug)]
pub struct Transport {
    settings: TransportSettings,
    generation: u64,
    client: Arc<reqwest::Client>,
}

impl Transport {
    pub fn for_settings(settings: &TransportSettings) -> Result<Transport> {
        let state = state()?;
        Ok(Transport {
            settings: settings.clone(),
            generation: state.generation,
            client: pooled(state, settings)?,
        })
    }

    pub fn settings(&self) -> &TransportSettings {
        &self.settings
    }

    /// The HTTP client to use now: this transport's own, unless the process
    /// forked since it was made, in which case the child's pool.
    pub fn client(&self) -> Result<Arc<reqwest::Client>> {
        if self.generation == GENERATION.load(Ordering::Acquire) {
            return Ok(self.client.clone());
        }
        pooled(state()?, &self.settings)
    }
}

impl Drop for Transport {
    /// In a forked child, a parent-generation client is never dropped:
    /// closing its sockets would deregister them from the epoll instance the
    /// child shares with the parent, and break the parent's connections.
    fn drop(&mut self) {
        if self.generation != GENERATION.load(Ordering::Acquire) {
            std::mem::forget(self.client.clone());
        }
    }
}

fn pooled(state: &State, settings: &TransportSettings) -> Result<Arc<reqwest::Client>> {
    let mut pools = state.pools.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(client) = pools.get(settings).and_then(Weak::upgrade) {
        return Ok(client);
    }
    pools.retain(|_, weak| weak.strong_count() > 0);
    let client = Arc::new(build_client(settings)?);
    pools.insert(settings.clone(), Arc::downgrade(&client));
    Ok(client)
}

fn build_client(settings: &TransportSettings) -> Result<reqwest::Client> {
    let user_agent = settings
        .user_agent
        .clone()
        .unwrap_or_else(|| concat!("libchatbotkit/", env!("CARGO_PKG_VERSION")).to_owned());
    // Environment proxies are not used, as Node's fetch does not use them.
    let mut builder = reqwest::Client::builder()
        .no_proxy()
        .http1_only()
        // The library retries as the SDK does (client::http); reqwest's own
        // retry layer would only clone every request for nothing.
        .retry(reqwest::retry::never())
        // Redirects are followed by the library, as fetch follows them
        // (client::http::follow_redirects).
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(user_agent);
    if let Some(t) = settings.connect_timeout {
        builder = builder.connect_timeout(t);
    }
    if let Some(pem) = &settings.ca_certificate_pem {
        builder = builder.use_preconfigured_tls(crate::tls::client_config(pem)?);
    }
    builder
        .build()
        .map_err(|e| Error::internal(format!("the HTTP client could not be built: {e}")))
}
