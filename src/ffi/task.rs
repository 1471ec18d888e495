//! `cbk_task`: a session call running on the shared runtime, with a
//! callback that runs exactly once, cancellation, and a blocking wait.

use std::os::raw::{c_char, c_void};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex};

use super::error::cbk_error;
use super::panic::{guard, guard_or};
use super::strings::{arg_ref, into_raw_string, to_c_string};
use crate::client::{Error, Result};
use crate::runtime;

/// Receives the outcome of an async call, exactly once, on a library thread:
/// `response_json` on success (and `error` NULL), or `error` on failure
/// (and `response_json` NULL); a cancelled task gets `CBK_ERROR_CANCELLED`.
/// Both are borrowed for the call only: copy what you keep.
///
/// Callbacks run one at a time on the library's callback thread, which also
/// drives async requests, so keep them short: a callback that sleeps or
/// waits on your own locks holds up other callbacks and requests. It may
/// call the library's blocking functions (`_create`, `cbk_task_wait` on
/// another task): the callback thread's work is handed to another library
/// thread first, so nothing stalls. `cbk_task_wait` on its own task fails
/// with `CBK_ERROR_INVALID_ARGUMENT`.
pub type cbk_callback = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        response_json: *const c_char,
        error: *const cbk_error,
    ),
>;

/// An async call in flight or done. Owned by the caller and released with
/// `cbk_task_free` (which does not cancel). Safe to use from many threads.
pub struct cbk_task {
    shared: Arc<Shared>,
}

struct Shared {
    slot: Mutex<Slot>,
    done: Condvar,
    cancel: tokio::sync::Notify,
    /// Set by `cbk_task_cancel`: a callback that has not run yet gets
    /// `CANCELLED`, even when the request finished in the meantime.
    cancelled: std::sync::atomic::AtomicBool,
}

/// What waiters wait for.
#[derive(Default)]
struct Slot {
    /// What the callback got, once it returned.
    outcome: Option<Result<String>>,
    /// Threads in `cbk_task_wait` (a condvar notify is a system call: it is
    /// made only when someone waits).
    waiters: usize,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(|p| p.into_inner())
    }
}

thread_local! {
    /// The task whose callback is running on this thread, if any (callbacks
    /// never nest: one that blocks hands the callback thread's role away).
    static RUNNING: std::cell::Cell<*const Shared> = const { std::cell::Cell::new(std::ptr::null()) };
}

/// Marks a task's callback as running on this thread while it lives.
struct RunningCallback;

impl RunningCallback {
    fn enter(shared: &Arc<Shared>) -> RunningCallback {
        RUNNING.with(|r| r.set(Arc::as_ptr(shared)));
        RunningCallback
    }

    fn is_running(shared: &Arc<Shared>) -> bool {
        RUNNING.with(|r| std::ptr::eq(r.get(), Arc::as_ptr(shared)))
    }
}

impl Drop for RunningCallback {
    fn drop(&mut self) {
        RUNNING.with(|r| r.set(std::ptr::null()));
    }
}

/// The host's callback and its user data, moved to the callback thread.
struct Callback {
    function: cbk_callback,
    user_data: *mut c_void,
}
// SAFETY: the host hands the pointer to a callback that API.md documents as
// running on a library thread; passing it there is the contract.
unsafe impl Send for Callback {}

impl Callback {
    fn call(&self, outcome: &Result<String>) {
        let Some(function) = self.function else {
            return;
        };
        match outcome {
            Ok(json) => {
                let text = to_c_string(json.clone());
                // The host's callback, with its own user data.
                // SAFETY: the string is valid for the call.
                unsafe { function(self.user_data, text.as_ptr(), std::ptr::null()) }
            }
            Err(e) => {
                let error = cbk_error::new(e.clone());
                // SAFETY: as above, with an error valid for the call.
                unsafe { function(self.user_data, std::ptr::null(), &error) }
            }
        }
    }
}

/// Start `work` on the runtime and return its task handle. The callback
/// runs when `work` finishes or the task is cancelled, whichever is first;
/// waiters are woken after it returns.
/// `what` names the request (`POST /path`) for the log line of a cancellation.
pub(crate) fn spawn<F>(
    work: F,
    what: String,
    callback: cbk_callback,
    user_data: *mut c_void,
) -> Result<*mut cbk_task>
where
    F: std::future::Future<Output = Result<String>> + Send + 'static,
{
    let shared = Arc::new(Shared {
        slot: Mutex::new(Slot::default()),
        done: Condvar::new(),
        cancel: tokio::sync::Notify::new(),
        cancelled: std::sync::atomic::AtomicBool::new(false),
    });
    let task_shared = shared.clone();
    let callback = Callback {
        function: callback,
        user_data,
    };
    let work = async move {
        tokio::select! {
            biased;
            _ = task_shared.cancel.notified() => {
                crate::log::cancelled(&what);
                Err(Error::cancelled())
            }
            outcome = work => outcome,
        }
    };
    let finished = shared.clone();
    runtime::spawn_then(work, move |outcome| {
        // A cancel that came before the callback wins over any outcome.
        let outcome = if finished.cancelled.load(Ordering::Acquire) {
            Err(Error::cancelled())
        } else {
            outcome.unwrap_or_else(|| Err(Error::internal("the request ended unexpectedly")))
        };
        {
            let _running = RunningCallback::enter(&finished);
            // A panicking callback cannot happen (C cannot unwind into
            // Rust); the guard keeps a Rust-side panic from going further.
            guard_or((), || callback.call(&outcome));
        }
        let mut slot = finished.lock();
        slot.outcome = Some(outcome);
        if slot.waiters > 0 {
            finished.done.notify_all();
        }
    })?;
    Ok(Box::into_raw(Box::new(cbk_task { shared })))
}

/// Cancel a task. If its callback has not run yet, it runs with
/// `CBK_ERROR_CANCELLED` (code `CANCELLED`) as soon as possible: before the
/// request is sent, while waiting for the server, or during a retry delay.
/// If it already ran, nothing happens. NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn cbk_task_cancel(task: *mut cbk_task) {
    guard_or((), || {
        // SAFETY: NULL or a live task (caller's contract).
        if let Some(task) = unsafe { task.as_ref() } {
            task.shared.cancelled.store(true, Ordering::Release);
            task.shared.cancel.notify_one();
        }
    })
}

/// Block until the task is done (its callback, if any, has returned) and
/// return a copy of what the callback got: the response JSON (free it with
/// `cbk_string_free`), or NULL with a copy of the error stored in `*error`.
/// May be called any number of times, from many threads at once, with or
/// without a callback, and from another task's callback. From the task's own
/// callback (where it could never return) it fails with
/// `CBK_ERROR_INVALID_ARGUMENT`, as it does from the log callback.
#[no_mangle]
pub unsafe extern "C" fn cbk_task_wait(
    task: *mut cbk_task,
    error: *mut *mut cbk_error,
) -> *mut c_char {
    guard(error, || {
        // SAFETY: NULL or a live task (caller's contract).
        let task = unsafe { arg_ref(task as *const cbk_task, "task") }?;
        if RunningCallback::is_running(&task.shared) {
            return Err(Error::invalid_argument(
                "cbk_task_wait was called from inside that task's own callback, \
                 where it could never return",
            ));
        }
        let shared = &task.shared;
        let done = shared.lock().outcome.clone();
        let outcome = match done {
            Some(outcome) => outcome,
            None => runtime::wait(|| {
                let mut slot = shared.lock();
                slot.waiters += 1;
                while slot.outcome.is_none() {
                    slot = shared.done.wait(slot).unwrap_or_else(|p| p.into_inner());
                }
                slot.waiters -= 1;
                slot.outcome.clone()
            })?
            .unwrap_or_else(|| Err(Error::internal("task finished without an outcome"))),
        };
        Ok(into_raw_string(outcome?))
    })
}

/// Release a task handle. Does not cancel: the call goes on, its callback
/// still runs, and its resources are released when it finishes. NULL is
/// ignored.
#[no_mangle]
pub unsafe extern "C" fn cbk_task_free(task: *mut cbk_task) {
    if task.is_null() {
        return;
    }
    guard_or((), || {
        // SAFETY: made by Box::into_raw in `spawn`; the caller gives it up.
        drop(unsafe { Box::from_raw(task) })
    })
}
