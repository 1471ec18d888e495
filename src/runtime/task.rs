//! Tasks: a future on the workers, carried to exactly one completion.
//!
//! The rules, each tested below:
//! - The completion runs exactly once, on a worker, with the outcome: the
//!   future's; `CANCELLED` when [`Task::cancel`] came before the completion
//!   started (even if the future had finished); `INTERNAL` if the future
//!   panicked.
//! - [`Task::wait`] returns what the completion got, once it has returned,
//!   to any number of threads. It is refused (`INVALID_ARGUMENT`) where it
//!   could never return: inside the task's own completion, and in a forked
//!   child on a task started before the fork.
//! - Dropping a [`Task`] neither cancels it nor loses its completion.

use std::cell::Cell;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use super::generation;
use crate::error::{Error, Result};

/// A handle on a spawned task. Cheap to share between threads by reference.
pub struct Task<T> {
    shared: Arc<Shared<T>>,
}

struct Shared<T> {
    /// The process generation the task runs in (see `runtime` on fork).
    generation: u64,
    outcome: Mutex<Waiting<T>>,
    done: Condvar,
    cancel: tokio::sync::Notify,
    cancelled: AtomicBool,
}

struct Waiting<T> {
    /// What the completion got, once it returned.
    outcome: Option<Result<T>>,
    /// Threads in `wait` (a condvar notify is a system call: made only when
    /// someone waits).
    waiters: usize,
}

thread_local! {
    /// The task whose completion runs on this thread, if any.
    static COMPLETING: Cell<*const ()> = const { Cell::new(std::ptr::null()) };
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, Waiting<T>> {
        self.outcome.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn id(self: &Arc<Self>) -> *const () {
        Arc::as_ptr(self).cast()
    }
}

/// Runs the completion when dropped: with the future's output when it
/// finished, or with `INTERNAL` when the task was dropped unfinished (its
/// future panicked).
struct Completion<T, C: FnOnce(&Result<T>)> {
    shared: Arc<Shared<T>>,
    complete: Option<C>,
    output: Option<Result<T>>,
}

impl<T, C: FnOnce(&Result<T>)> Drop for Completion<T, C> {
    fn drop(&mut self) {
        let Some(complete) = self.complete.take() else {
            return;
        };
        let shared = &self.shared;
        let outcome = if shared.cancelled.load(Ordering::Acquire) {
            Err(Error::cancelled())
        } else {
            self.output
                .take()
                .unwrap_or_else(|| Err(Error::internal("the request ended unexpectedly")))
        };
        let previous = COMPLETING.with(|c| c.replace(shared.id()));
        // Should it panic, the waiters still get the outcome.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| complete(&outcome)));
        COMPLETING.with(|c| c.set(previous));
        let mut waiting = shared.lock();
        waiting.outcome = Some(outcome);
        if waiting.waiters > 0 {
            shared.done.notify_all();
        }
    }
}

impl<T: Clone + Send + 'static> Task<T> {
    /// Start `fut` on the workers. `complete` runs once with the outcome (see
    /// the module's rules); `on_cancel` runs when a cancel stops the future.
    pub fn spawn<F, C>(
        fut: F,
        on_cancel: impl FnOnce() + Send + 'static,
        complete: C,
    ) -> Result<Task<T>>
    where
        F: Future<Output = Result<T>> + Send + 'static,
        C: FnOnce(&Result<T>) + Send + 'static,
    {
        // The workers first: should they fail to start, nothing has been
        // made that would run `complete`.
        let workers = super::workers()?;
        let shared = Arc::new(Shared {
            generation: generation(),
            outcome: Mutex::new(Waiting {
                outcome: None,
                waiters: 0,
            }),
            done: Condvar::new(),
            cancel: tokio::sync::Notify::new(),
            cancelled: AtomicBool::new(false),
        });
        let mut completion = Completion {
            shared: shared.clone(),
            complete: Some(complete),
            output: None,
        };
        // Boxed: the task then moves a pointer, not the whole request state.
        let fut = Box::pin(fut);
        workers.spawn(async move {
            let shared = completion.shared.clone();
            let output = tokio::select! {
                biased;
                _ = shared.cancel.notified() => {
                    on_cancel();
                    Err(Error::cancelled())
                }
                output = fut => output,
            };
            completion.output = Some(output);
            drop(completion);
        });
        Ok(Task { shared })
    }

    /// Cancel: a completion that has not started yet gets `CANCELLED`, as
    /// soon as possible (the future is dropped at its next await). A no-op
    /// once the completion started, and in a forked child on a task of the
    /// parent (which runs, if anywhere, in the parent).
    pub fn cancel(&self) {
        if self.shared.generation != generation() {
            return;
        }
        self.shared.cancelled.store(true, Ordering::Release);
        self.shared.cancel.notify_one();
    }

    /// Block until the completion has returned; a copy of what it got.
    pub fn wait(&self) -> Result<T> {
        super::may_block()?;
        let shared = &self.shared;
        if shared.generation != generation() {
            return Err(Error::invalid_argument(
                "the task was started before fork() and runs in the parent process only",
            ));
        }
        if COMPLETING.with(Cell::get) == shared.id() {
            return Err(Error::invalid_argument(
                "cbk_task_wait was called from inside that task's own callback, \
                 where it could never return",
            ));
        }
        if let Some(outcome) = &shared.lock().outcome {
            return outcome.clone();
        }
        super::wait(|| {
            let mut waiting = shared.lock();
            waiting.waiters += 1;
            let outcome = loop {
                if let Some(outcome) = &waiting.outcome {
                    break outcome.clone();
                }
                waiting = shared.done.wait(waiting).unwrap_or_else(|p| p.into_inner());
            };
            waiting.waiters -= 1;
            outcome
        })?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Status;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    fn counter() -> Arc<AtomicUsize> {
        Arc::new(AtomicUsize::new(0))
    }

    #[test]
    fn completes_exactly_once_and_wait_returns_its_outcome() {
        let calls = counter();
        let c = calls.clone();
        let task = Task::spawn(
            async { Ok(7u32) },
            || {},
            move |o: &Result<u32>| {
                assert_eq!(o, &Ok(7));
                c.fetch_add(1, Ordering::SeqCst);
            },
        )
        .unwrap();
        assert_eq!(task.wait(), Ok(7));
        assert_eq!(task.wait(), Ok(7));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn wait_from_many_threads() {
        let task = Task::spawn(
            async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                Ok("done".to_owned())
            },
            || {},
            |_: &Result<String>| {},
        )
        .unwrap();
        std::thread::scope(|s| {
            let waiters: Vec<_> = (0..8).map(|_| s.spawn(|| task.wait())).collect();
            for w in waiters {
                assert_eq!(w.join().unwrap(), Ok("done".to_owned()));
            }
        });
    }

    #[test]
    fn a_cancel_before_the_completion_wins() {
        let cancels = counter();
        let c = cancels.clone();
        let task = Task::spawn(
            std::future::pending::<Result<u32>>(),
            move || {
                c.fetch_add(1, Ordering::SeqCst);
            },
            |o: &Result<u32>| assert_eq!(o.as_ref().unwrap_err().status, Status::Cancelled),
        )
        .unwrap();
        task.cancel();
        assert_eq!(task.wait().unwrap_err().status, Status::Cancelled);
        assert_eq!(cancels.load(Ordering::SeqCst), 1);
        // Cancelled after the completion: nothing changes.
        task.cancel();
        assert_eq!(task.wait().unwrap_err().status, Status::Cancelled);
    }

    #[test]
    fn a_cancel_after_the_future_finished_but_before_the_completion_still_wins() {
        let (finished_tx, finished_rx) = std::sync::mpsc::channel::<()>();
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let task = Task::spawn(
            async move {
                let _ = finished_tx.send(());
                Ok(1u32)
            },
            || {},
            move |_: &Result<u32>| {
                // Hold the completion until the test has cancelled: the
                // cancel flag is read before this runs, so release it first.
                let _ = go_rx.recv_timeout(Duration::from_secs(5));
            },
        );
        let task = task.unwrap();
        finished_rx.recv_timeout(Duration::from_secs(5)).unwrap();
        task.cancel();
        let _ = go_tx.send(());
        // Either the cancel came before the completion read the flag (then
        // CANCELLED) or just after (then the value): never anything else.
        match task.wait() {
            Ok(1) => {}
            Err(e) => assert_eq!(e.status, Status::Cancelled),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_panicking_future_completes_with_internal() {
        let calls = counter();
        let c = calls.clone();
        let task = Task::spawn(
            async move {
                if c.load(Ordering::SeqCst) == 0 {
                    panic!("test panic in a task");
                }
                Ok(0u8)
            },
            || {},
            {
                let calls = calls.clone();
                move |o: &Result<u8>| {
                    assert_eq!(o.as_ref().unwrap_err().status, Status::Internal);
                    calls.fetch_add(1, Ordering::SeqCst);
                }
            },
        )
        .unwrap();
        assert_eq!(task.wait().unwrap_err().status, Status::Internal);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn dropping_the_handle_keeps_the_completion() {
        let (tx, rx) = std::sync::mpsc::channel();
        let task = Task::spawn(
            async {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Ok(5u8)
            },
            || {},
            move |o: &Result<u8>| {
                let _ = tx.send(o.clone());
            },
        )
        .unwrap();
        drop(task);
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), Ok(5));
    }

    #[test]
    fn waiting_inside_the_own_completion_is_refused_and_on_another_task_works() {
        let other = Arc::new(
            Task::spawn(
                async {
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    Ok(2u8)
                },
                || {},
                |_: &Result<u8>| {},
            )
            .unwrap(),
        );
        let slot: Arc<Mutex<Option<Arc<Task<u8>>>>> = Arc::new(Mutex::new(None));
        let (tx, rx) = std::sync::mpsc::channel();
        let own = slot.clone();
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let task = Arc::new(
            Task::spawn(
                async move {
                    let _ = go_rx.recv_timeout(Duration::from_secs(5));
                    Ok(1u8)
                },
                || {},
                move |_: &Result<u8>| {
                    let me = own.lock().unwrap().clone().unwrap();
                    let _ = tx.send((me.wait(), other.wait()));
                },
            )
            .unwrap(),
        );
        *slot.lock().unwrap() = Some(task.clone());
        go_tx.send(()).unwrap();
        let (mine, theirs) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(mine.unwrap_err().status, Status::InvalidArgument);
        assert_eq!(theirs, Ok(2));
        assert_eq!(task.wait(), Ok(1));
        slot.lock().unwrap().take();
    }

    #[test]
    fn completions_run_at_the_same_time_on_different_workers() {
        // Two completions that each wait for the other to have started:
        // they only both finish if they run at once.
        let started = Arc::new((Mutex::new(0), Condvar::new()));
        let alone = Arc::new(AtomicBool::new(false));
        let make = || {
            let (started, alone) = (started.clone(), alone.clone());
            Task::spawn(
                async { Ok(()) },
                || {},
                move |_: &Result<()>| {
                    let (lock, cv) = &*started;
                    let mut n = lock.lock().unwrap();
                    *n += 1;
                    cv.notify_all();
                    let (_n, timeout) = cv
                        .wait_timeout_while(n, Duration::from_secs(5), |n| *n < 2)
                        .unwrap();
                    alone.fetch_or(timeout.timed_out(), Ordering::SeqCst);
                },
            )
            .unwrap()
        };
        let (a, b) = (make(), make());
        assert_eq!(a.wait(), Ok(()));
        assert_eq!(b.wait(), Ok(()));
        assert!(
            !alone.load(Ordering::SeqCst),
            "the completions ran one at a time"
        );
    }
}
