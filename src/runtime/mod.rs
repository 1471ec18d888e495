//! Where the library's futures run. This layer knows nothing of HTTP or of
//! the SDK: it runs futures, keeps per-runtime values (in practice the HTTP
//! clients, which own connection pools) beside the runtime that drives them,
//! and carries async tasks to exactly one completion.
//!
//! # The design, in one place
//!
//! Two kinds of tokio runtime serve a process:
//!
//! - **Lanes** ([`lanes`]) serve blocking calls. A lane is a current-thread
//!   runtime that a calling thread borrows for one call and drives itself,
//!   inside `Runtime::block_on`: the request is written, awaited and read on
//!   the caller's own thread, as a libcurl easy handle does it, with no
//!   hand-off to another thread. T threads calling at once borrow T lanes
//!   and run on T cores. Lanes outlive the threads that borrow them, so
//!   their pooled connections serve whichever thread comes next: a thread
//!   per request still reuses connections. A call that finds every lane
//!   busy (there are at most [`lanes::max_lanes`]) runs on the workers.
//! - **Workers** serve async tasks: one multi-thread runtime with a worker
//!   per core, started on the first async call. A task's completion (the
//!   host's callback) runs on the worker that finished it, so callbacks may
//!   run several at once. A callback that makes a blocking call first hands
//!   its worker's other work to another thread (`block_in_place`), so
//!   nothing else stalls and nothing deadlocks. A callback that blocks any
//!   other way keeps its worker, and with it the one task that worker has
//!   set aside to run next (tokio's LIFO slot, which other workers cannot
//!   take): often a task the callback itself just started.
//!
//! Every thread that runs host code (the workers and the threads that take
//! their place) has an 8 MiB stack, glibc's default. No thread doing the
//! library's I/O can be killed by SIGPIPE ([`signals`]).
//!
//! To *turn* a lane is to run its event loop without waiting: collect what
//! its sockets and timers have to say (a zero-timeout poll) and run the
//! tasks that woke. A lane is driven only while borrowed, so its idle
//! connections are looked after in three ways (see [`lanes`]): each call first lets the lane's
//! connection tasks see what arrived while it was idle (a zero-timeout
//! poll, as libcurl checks a connection before reuse), so a connection that
//! the server closed or wrote to is never used; a housekeeping thread turns
//! idle lanes once a second while they hold connections, so idle timeouts
//! and server closes are acted on even if no call comes; and freeing a
//! [`PerRuntime`] value turns its lanes at once, closing its connections.
//!
//! # Fork
//!
//! Threads do not survive `fork()`. A `pthread_atfork` child handler bumps a
//! generation counter; the first call in the child sees a new generation
//! and builds new lanes, workers and per-runtime values. Everything of the
//! parent's generation is leaked in the child, never touched again: its
//! sockets and epoll instances are shared with the parent, and closing them
//! would break the parent's connections. No lock or counter of the old
//! generation is consulted in the child.
//!
//! The runtime is never shut down: the library is not unloadable.

mod lanes;
mod local;
mod signals;
pub mod task;

use std::cell::Cell;
use std::future::Future;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::sync::{Mutex, Once, OnceLock};

use crate::error::{Error, Result};

pub use local::PerRuntime;

/// The stack size of every library thread that may run host code.
pub(crate) const STACK_SIZE: usize = 8 << 20;

/// Bumped in the child after every `fork()`.
static GENERATION: AtomicU64 = AtomicU64::new(0);
/// The current generation's state (see [`state`]).
static CURRENT: AtomicPtr<State> = AtomicPtr::new(std::ptr::null_mut());
static ATFORK: Once = Once::new();

thread_local! {
    /// Set while this thread runs code that must not block in the library
    /// (the log callback): a blocking call there is refused, not deadlocked.
    static NO_BLOCKING: Cell<Option<&'static str>> = const { Cell::new(None) };
}

/// One process generation's runtimes. Every lock a library thread can take
/// lives in here, so a forked child, which gets a new `State`, never meets
/// a lock that a thread of its parent held.
struct State {
    generation: u64,
    lanes: lanes::Lanes,
    workers: OnceLock<tokio::runtime::Runtime>,
    /// Held while the workers start, so that only one set starts.
    starting_workers: Mutex<()>,
}

// Shared through an AtomicPtr, which the compiler does not check.
const _: () = {
    const fn shared_between_threads<T: Send + Sync>() {}
    shared_between_threads::<State>();
};

extern "C" fn after_fork_in_child() {
    GENERATION.fetch_add(1, Ordering::AcqRel);
}

/// The generation of this process (0 until the first fork).
pub fn generation() -> u64 {
    GENERATION.load(Ordering::Acquire)
}

/// How many threads run at once here: the worker count, and the measure of
/// how many lanes to allow.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// The state of the current process generation, made on first use and
/// published without a lock (a fork can strand no lock here): two threads
/// that race both make one, and the one that loses drops its own (nothing
/// has started in it yet). The state it replaces, the parent's, is kept
/// reachable and never used again.
fn state() -> &'static State {
    let generation = generation();
    loop {
        let current = CURRENT.load(Ordering::Acquire);
        // CURRENT is null or a pointer from Box::into_raw below, never freed.
        // SAFETY: so it is valid for 'static.
        let old = unsafe { current.as_ref() };
        if let Some(state) = old.filter(|s| s.generation == generation) {
            return state;
        }
        ATFORK.call_once(|| {
            // The handler only touches an atomic, which is async-signal-safe.
            // SAFETY: as a child handler must be.
            unsafe {
                libc::pthread_atfork(None, None, Some(after_fork_in_child));
            }
        });
        let new = Box::into_raw(Box::new(State {
            generation,
            lanes: lanes::Lanes::new(),
            workers: OnceLock::new(),
            starting_workers: Mutex::new(()),
        }));
        match CURRENT.compare_exchange(current, new, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => {
                if let Some(old) = old {
                    keep_forever(old);
                }
                // SAFETY: just published, never freed.
                return unsafe { &*new };
            }
            // Another thread published this generation's state first.
            // SAFETY: `new` was never published: it is still ours alone.
            Err(_) => drop(unsafe { Box::from_raw(new) }),
        }
    }
}

impl State {
    /// The worker runtime, started on first use.
    fn workers(&self) -> Result<&tokio::runtime::Runtime> {
        if let Some(rt) = self.workers.get() {
            return Ok(rt);
        }
        let _guard = self
            .starting_workers
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(rt) = self.workers.get() {
            return Ok(rt);
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            // Two at least, so that one slow callback never holds up the rest.
            .worker_threads(cores().max(2))
            .thread_name("chatbotkit-worker")
            .thread_stack_size(STACK_SIZE)
            .on_thread_start(signals::library_thread)
            // Threads that take a worker's place while its callback blocks.
            .max_blocking_threads(4096)
            .enable_all()
            .build()
            .map_err(|e| Error::internal(format!("the worker threads could not start: {e}")))?;
        Ok(self.workers.get_or_init(|| rt))
    }

    /// Run `fut` on a worker and wait for it on this thread.
    fn on_workers<T, F>(&self, fut: F) -> Result<T>
    where
        F: Future<Output = Result<T>> + Send + 'static,
        T: Send + 'static,
    {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.workers()?.spawn(async move {
            let _ = tx.send(fut.await);
        });
        rx.recv()
            .map_err(|_| Error::internal("the request task panicked"))?
    }

    /// Run a blocking call on a lane of its own, or on the workers when
    /// every lane is busy.
    fn call<T, F>(&'static self, fut: F) -> Result<T>
    where
        F: Future<Output = Result<T>> + Send + 'static,
        T: Send + 'static,
    {
        match self.lanes.borrow() {
            Some(lane) => lane.run(fut),
            None => self.on_workers(fut),
        }
    }
}

/// A value of an earlier generation, on the list of [`keep_forever`].
struct Kept {
    _value: Box<dyn Send>,
    next: *mut Kept,
}

static KEPT: AtomicPtr<Kept> = AtomicPtr::new(std::ptr::null_mut());

/// Keep `value` reachable, never used or dropped, until the process exits:
/// for what a forked child inherited from its parent's generation (a state,
/// an HTTP client whose sockets the parent still uses). A lock-free list,
/// so that no lock is involved that a fork could leave held.
fn keep_forever<T: Send + 'static>(value: T) {
    let node = Box::into_raw(Box::new(Kept {
        _value: Box::new(value),
        next: std::ptr::null_mut(),
    }));
    let mut head = KEPT.load(Ordering::Acquire);
    loop {
        // SAFETY: `node` is ours until the exchange below publishes it.
        unsafe { (*node).next = head };
        match KEPT.compare_exchange_weak(head, node, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return,
            Err(now) => head = now,
        }
    }
}

/// Refuse to block where blocking is not allowed (see [`no_blocking`]).
fn may_block() -> Result<()> {
    match NO_BLOCKING.with(Cell::get) {
        Some(why) => Err(Error::invalid_argument(format!(
            "a blocking library call cannot be made from inside {why}"
        ))),
        None => Ok(()),
    }
}

/// Run `f` with blocking library calls refused on this thread; `why` names
/// the place for the error message ("the log callback").
pub fn no_blocking<R>(why: &'static str, f: impl FnOnce() -> R) -> R {
    struct Reset(Option<&'static str>);
    impl Drop for Reset {
        fn drop(&mut self) {
            NO_BLOCKING.with(|c| c.set(self.0));
        }
    }
    let _reset = Reset(NO_BLOCKING.with(|c| c.replace(Some(why))));
    f()
}

/// The tokio runtime, if any, whose thread this is: it decides how this
/// thread may block.
fn host_runtime() -> Option<tokio::runtime::RuntimeFlavor> {
    tokio::runtime::Handle::try_current()
        .ok()
        .map(|h| h.runtime_flavor())
}

/// Run `fut` to completion for a blocking call, from any thread.
///
/// From a plain thread this borrows a lane and drives it here. A thread of a
/// multi-thread runtime (a worker running a callback, or the host's own
/// tokio worker) first hands its other work away with `block_in_place`. A
/// thread of a host's current-thread runtime cannot enter another runtime:
/// its call runs on the workers while it waits.
pub fn block_on<T, F>(fut: F) -> Result<T>
where
    F: Future<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
{
    may_block()?;
    let state = state();
    // Boxed once: the future is then moved as a pointer, not copied on its
    // way down to the runtime's poll loop.
    let fut = Box::pin(fut);
    match host_runtime() {
        None => state.call(fut),
        Some(tokio::runtime::RuntimeFlavor::MultiThread) => {
            tokio::task::block_in_place(|| state.call(fut))
        }
        Some(_) => state.on_workers(fut),
    }
}

/// Block in `wait` (a wait for another thread's work), from any thread: a
/// worker of a multi-thread runtime hands its other work away first.
pub fn wait<R>(wait: impl FnOnce() -> R) -> Result<R> {
    may_block()?;
    Ok(match host_runtime() {
        Some(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(wait),
        _ => wait(),
    })
}

/// Whether this thread is driving a lane: a blocking call's own event loop,
/// where requests come one at a time.
pub fn on_a_lane() -> bool {
    lanes::current().is_some()
}

/// The workers, started if need be: where async tasks are spawned.
fn workers() -> Result<&'static tokio::runtime::Runtime> {
    state().workers()
}
