//! `cbk_task`: the C face of [`runtime::task::Task`], which holds every
//! rule (one completion, cancel, wait, free); this file converts pointers
//! and calls the host's callback.

use std::os::raw::{c_char, c_void};

use super::error::cbk_error;
use super::panic::{guard, guard_or};
use super::strings::{arg_ref, into_raw_string, to_c_string};
use crate::client::Result;
use crate::runtime::task::Task;

/// Receives the outcome of an async call, exactly once, on a library thread:
/// `response_json` on success (and `error` NULL), or `error` on failure
/// (and `response_json` NULL); a cancelled task gets `CBK_ERROR_CANCELLED`.
/// Both are borrowed for the call only: copy what you keep (cbk_task_wait()
/// returns copies).
///
/// The callback may run before the `_async` call that started the task has
/// returned, on another thread: have `user_data` ready before the call, and
/// do not expect the task handle to be stored yet.
///
/// Callbacks run on the library's worker threads (one per core, 8 MiB
/// stacks), as their tasks finish: callbacks of different tasks may run at
/// the same time, on different threads. A callback that blocks holds up
/// only its own worker. It may call the library's blocking functions (the
/// creates, the fetches, cbk_task_wait() on another task): its worker's
/// other work is first handed to another thread, so nothing stalls.
/// cbk_task_wait() on its own task fails with `CBK_ERROR_INVALID_ARGUMENT`.
pub type cbk_callback = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        response_json: *const c_char,
        error: *const cbk_error,
    ),
>;

/// An async call in flight or done. Owned by the caller and released with
/// cbk_task_free() (which does not cancel). Safe to use from many threads.
pub struct cbk_task {
    task: Task<String>,
}

/// The host's callback and its user data, moved to a worker thread.
struct Callback {
    function: cbk_callback,
    user_data: *mut c_void,
}
// SAFETY: the host hands the pointer to a callback that the header documents
// as running on a library thread; passing it there is the contract.
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

/// Start `work` on the runtime and return its task handle. `what` names the
/// request (`POST /path`) for the log line of a cancellation.
pub(crate) fn spawn<F>(
    work: F,
    what: String,
    callback: cbk_callback,
    user_data: *mut c_void,
) -> Result<*mut cbk_task>
where
    F: std::future::Future<Output = Result<String>> + Send + 'static,
{
    let callback = Callback {
        function: callback,
        user_data,
    };
    let task = Task::spawn(
        work,
        move || crate::log::cancelled(&what),
        // A panicking callback cannot happen (C cannot unwind into Rust);
        // the guard keeps a Rust-side panic from going further.
        move |outcome| guard_or((), || callback.call(outcome)),
    )?;
    Ok(Box::into_raw(Box::new(cbk_task { task })))
}

/// Cancel a task.
///
/// If its callback has not started yet, it runs with `CBK_ERROR_CANCELLED`
/// (code `CANCELLED`) as soon as possible: before the request is sent, while
/// waiting for the server, during a retry delay, or while a stream is read.
/// If it already started, nothing happens. In a forked child, a task started
/// before the fork is not affected. The handle stays the caller's: free it
/// with cbk_task_free().
///
/// @param task The task; borrowed, NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn cbk_task_cancel(task: *mut cbk_task) {
    guard_or((), || {
        // SAFETY: NULL or a live task (caller's contract).
        if let Some(task) = unsafe { task.as_ref() } {
            task.task.cancel();
        }
    })
}

/// Block until the task is done (its callback, if any, has returned) and
/// return a copy of what the callback got.
///
/// May be called any number of times, from many threads at once, with or
/// without a callback, and from another task's callback.
///
/// @param task The task; borrowed for the call.
/// @param[out] error NULL, or where to store a copy of the task's error (owned
///     by the caller, freed with cbk_error_free()); left untouched on success.
/// @return A copy of the response JSON, owned by the caller and freed with
///     cbk_string_free(); NULL when the task failed, with `*error` set.
///
/// @par Errors
/// The task's own error (see the call that started it), including
/// `CBK_ERROR_CANCELLED`. `CBK_ERROR_INVALID_ARGUMENT` at once for a NULL
/// `task`, and where the wait could never return: from the task's own
/// callback, from the log callback or a stream's `on_item`, and in a forked
/// child on a task started before the fork.
#[no_mangle]
pub unsafe extern "C" fn cbk_task_wait(
    task: *mut cbk_task,
    error: *mut *mut cbk_error,
) -> *mut c_char {
    guard(error, || {
        // SAFETY: NULL or a live task (caller's contract).
        let task = unsafe { arg_ref(task as *const cbk_task, "task") }?;
        Ok(into_raw_string(task.task.wait()?))
    })
}

/// Release a task handle. Does not cancel: the call goes on, its callback
/// still runs, and its resources are released when it finishes.
///
/// @param task The task, owned by the caller and given up here; NULL is
///     ignored. Other threads must be done with it (a cbk_task_wait() on it
///     returned). It may be freed from its own callback.
#[no_mangle]
pub unsafe extern "C" fn cbk_task_free(task: *mut cbk_task) {
    if task.is_null() {
        return;
    }
    guard_or((), || {
        // SAFETY: made by Box::into_raw in `spawn`; the caller gives up ownership.
        drop(unsafe { Box::from_raw(task) })
    })
}
