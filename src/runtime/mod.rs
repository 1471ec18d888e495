//! The shared tokio runtime, fork-aware, and how calls use it.
//!
//! One current-thread runtime, started on first use, serves every handle.
//! A blocking call runs its request inside `Runtime::block_on` on the
//! caller's own thread: when no other thread is driving the runtime, that
//! thread takes the runtime's core and does the I/O itself, so a call costs
//! what a hand-written libcurl call costs (write, wait, read; no wake-up of
//! another thread). While another thread drives, the caller's future is
//! polled on its own thread and its I/O is done by the driving one. Async
//! tasks are driven by the callback thread (`driver`), which also runs their
//! callbacks.
//!
//! Threads do not survive `fork()`, so a `pthread_atfork` child handler
//! bumps a generation counter; the first call in the child sees the old
//! generation and builds a new runtime and callback thread (the parent's
//! are leaked in the child, never touched again). Connection pools
//! (`transport`) are keyed by generation too, so a child never reuses its
//! parent's sockets.
//!
//! The runtime is never shut down: the library is not unloadable.

mod driver;
mod transport;

use std::cell::Cell;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, Once, Weak};

use crate::client::options::TransportSettings;
use crate::client::{Error, Result};

pub use driver::on_callback_thread;
pub use transport::Transport;

/// Bumped in the child after every `fork()`.
static GENERATION: AtomicU64 = AtomicU64::new(0);
/// The current generation's state, leaked on purpose (one per process
/// generation).
static CURRENT: AtomicPtr<State> = AtomicPtr::new(std::ptr::null_mut());
static INIT: Mutex<()> = Mutex::new(());
static ATFORK: Once = Once::new();

/// How many threads are inside the runtime's `block_on` (see `call`).
static DRIVING_THREADS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// True while this thread is inside the runtime's `block_on`: the only
    /// host code that can run then is the log callback.
    static DRIVING: Cell<bool> = const { Cell::new(false) };
}

struct State {
    generation: u64,
    /// The state this one replaced after a fork, kept reachable: it is never
    /// used in this process again, but it is not garbage either.
    _previous: Option<&'static State>,
    runtime: tokio::runtime::Runtime,
    driver: driver::Driver,
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
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name("chatbotkit-blocking")
        .build()
        .map_err(|e| Error::internal(format!("the runtime could not start: {e}")))?;
    // SAFETY: as above.
    let previous = unsafe { current.as_ref() };
    let state: &'static State = Box::leak(Box::new(State {
        generation,
        _previous: previous,
        runtime,
        driver: driver::Driver::default(),
        pools: Mutex::new(HashMap::new()),
    }));
    CURRENT.store(state as *const State as *mut State, Ordering::Release);
    Ok(state)
}

/// Run `fut` inside the runtime's `block_on` on this thread, marked as
/// driving for the duration.
fn drive<F: Future>(runtime: &tokio::runtime::Runtime, fut: F) -> F::Output {
    struct Driving;
    impl Drop for Driving {
        fn drop(&mut self) {
            DRIVING.with(|d| d.set(false));
            DRIVING_THREADS.fetch_sub(1, Ordering::Relaxed);
        }
    }
    DRIVING_THREADS.fetch_add(1, Ordering::Relaxed);
    DRIVING.with(|d| d.set(true));
    let _driving = Driving;
    runtime.block_on(fut)
}

/// Run a blocking call's future to completion on this thread.
///
/// When no other thread is inside the runtime, this thread takes its core
/// and does the call's I/O itself. When another thread drives it (another
/// blocking call, or the callback thread with tasks in flight), polling the
/// future here would bounce every step of the exchange (send, head, body)
/// between this thread and the driving one; the call runs as a task there
/// instead, and this thread is woken once, when it is done (or takes the
/// core over, should the other thread leave first).
///
/// A failed call gives the tasks it woke on its way out one turn before the
/// runtime may be left idle: hyper's connection task then closes at once a
/// connection whose response was refused (a successful call's connection is
/// already back in the pool).
fn call<T, F>(runtime: &tokio::runtime::Runtime, fut: F) -> Result<T>
where
    F: Future<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let fut = async move {
        let output = fut.await;
        if output.is_err() {
            tokio::task::yield_now().await;
        }
        output
    };
    if DRIVING_THREADS.load(Ordering::Relaxed) == 0 {
        return drive(runtime, fut);
    }
    let task = runtime.spawn(fut);
    drive(runtime, task).map_err(|_| Error::internal("the request task panicked"))?
}

/// Refuse to block where blocking would deadlock: on a thread inside the
/// runtime, which only the log callback can be.
fn may_block() -> Result<()> {
    if DRIVING.with(|d| d.get()) {
        return Err(Error::invalid_argument(
            "a blocking library call cannot be made from inside the log callback",
        ));
    }
    Ok(())
}

/// Run `fut` to completion on the shared runtime, from any thread.
///
/// From a plain thread (and from a callback) this is `Runtime::block_on`. A
/// thread of the host's own tokio runtime cannot enter another runtime
/// directly: a worker of a multi-thread runtime hands its other work away
/// with `block_in_place` first, and any other runtime thread waits on a
/// scoped helper thread.
pub fn block_on<T, F>(fut: F) -> Result<T>
where
    F: Future<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
{
    may_block()?;
    let state = state()?;
    state.driver.hand_off(&state.runtime)?;
    match tokio::runtime::Handle::try_current() {
        Err(_) => call(&state.runtime, fut),
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            blocking(|| call(&state.runtime, fut))
        }
        Ok(_) => std::thread::scope(|s| {
            s.spawn(|| call(&state.runtime, fut))
                .join()
                .map_err(|_| Error::internal("the request thread panicked"))?
        }),
    }
}

/// Run a blocking closure (a condition-variable wait) from a host thread. On
/// a worker of the host's multi-thread tokio runtime, the worker's other
/// tasks are handed to another thread first.
fn blocking<R>(f: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// Block in `wait` (a condition-variable wait for another task's outcome),
/// from any thread. On the callback thread, its role is handed to another
/// thread first: the awaited task's callback has to run there.
pub fn wait<R>(wait: impl FnOnce() -> R) -> Result<R> {
    may_block()?;
    if on_callback_thread() {
        let state = state()?;
        state.driver.hand_off(&state.runtime)?;
    }
    Ok(blocking(wait))
}

/// Spawn `fut` on the shared runtime; when it finishes, `then` runs on the
/// callback thread with its output, outside the runtime. Should the task be
/// dropped unfinished (its future panicked), `then` gets `None`.
pub fn spawn_then<F, T>(fut: F, then: T) -> Result<()>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    T: FnOnce(Option<F::Output>) + Send + 'static,
{
    /// Queues `then` when dropped: with the output when the future
    /// finished, with `None` when the task was dropped before that.
    struct Completion<O: Send + 'static, T: FnOnce(Option<O>) + Send + 'static> {
        driver: &'static driver::Driver,
        then: Option<T>,
        output: Option<O>,
    }
    impl<O: Send + 'static, T: FnOnce(Option<O>) + Send + 'static> Drop for Completion<O, T> {
        fn drop(&mut self) {
            if let Some(then) = self.then.take() {
                let output = self.output.take();
                self.driver.task_done(Box::new(move || then(output)));
            }
        }
    }

    let state = state()?;
    state.driver.task_started(&state.runtime)?;
    let mut completion = Completion {
        driver: &state.driver,
        then: Some(then),
        output: None,
    };
    // Boxed: the task then moves a pointer, not the whole request state.
    let fut = Box::pin(fut);
    let task = async move {
        completion.output = Some(fut.await);
        drop(completion);
    };
    state.runtime.spawn(task);
    Ok(())
}
