//! The callback thread: drives the runtime while async tasks are in flight,
//! and runs their completions (the host's callbacks) outside it.
//!
//! The runtime is a current-thread runtime: whichever thread is inside
//! `Runtime::block_on` and holds its core does all the I/O. A blocking call
//! made while nothing else is running takes the core itself, so its request
//! is written, awaited and read on the caller's own thread with no hand-off
//! to another thread (the hop libcurl never pays either). Async tasks need a
//! thread of their own: the callback thread, started on the first async
//! call. It holds the core only while tasks are in flight, and lets go of it
//! whenever a completion is queued, so callbacks run on it *outside* the
//! runtime.
//!
//! A callback that makes a blocking library call (a create, or
//! `cbk_task_wait`) first hands the callback thread's role to another thread
//! (a parked spare, or a new one), as tokio's `block_in_place` hands a
//! worker's: other callbacks and tasks go on meanwhile, and a wait on a task
//! whose callback is still queued cannot deadlock. When its callback
//! returns, the thread that gave the role away parks as a spare for a while,
//! then exits.

use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use crate::client::{Error, Result};

/// A completion to run on the callback thread.
pub type Job = Box<dyn FnOnce() + Send>;

/// How long a thread that handed its role away waits to be reused.
const SPARE_LINGER: Duration = Duration::from_secs(10);

thread_local! {
    /// True on the thread that holds the callback thread's role.
    static HOLDS_ROLE: Cell<bool> = const { Cell::new(false) };
    /// True on a callback-loop thread that gave the role away during the
    /// job it is running.
    static GAVE_ROLE_AWAY: Cell<bool> = const { Cell::new(false) };
}

/// True when the current thread is the library's callback thread.
pub fn on_callback_thread() -> bool {
    HOLDS_ROLE.with(|c| c.get())
}

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    /// Tasks started and not yet completed (their job not yet queued).
    in_flight: usize,
    /// Whether some thread holds (or is about to take) the role, and
    /// whether it is waiting for work on `work`.
    has_holder: bool,
    holder_idle: bool,
    /// Threads parked as spares, and role hand-offs waiting for one.
    spares: usize,
    handoffs: usize,
}

#[derive(Default)]
pub struct Driver {
    queue: Mutex<Queue>,
    /// Wakes the idle role holder when a task is spawned.
    work: Condvar,
    /// Wakes a spare when the role is handed off.
    spare: Condvar,
    /// Wakes the role holder's `block_on` when a job is queued.
    ready: tokio::sync::Notify,
}

impl Driver {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Count a task in (before it is spawned), starting the callback thread
    /// on first use.
    pub fn task_started(&'static self, runtime: &'static tokio::runtime::Runtime) -> Result<()> {
        let mut q = self.lock();
        if !q.has_holder {
            self.start_thread(runtime)?;
            q.has_holder = true;
        }
        q.in_flight += 1;
        if q.holder_idle {
            q.holder_idle = false;
            self.work.notify_one();
        }
        Ok(())
    }

    /// Queue a task's completion (called from the task, inside the runtime).
    pub fn task_done(&self, job: Job) {
        {
            let mut q = self.lock();
            q.jobs.push_back(job);
            q.in_flight -= 1;
        }
        self.ready.notify_one();
    }

    /// On the callback thread, before it blocks in a library call: give the
    /// role to a spare or a new thread. Anywhere else, nothing to do.
    pub fn hand_off(&'static self, runtime: &'static tokio::runtime::Runtime) -> Result<()> {
        if !on_callback_thread() {
            return Ok(());
        }
        let mut q = self.lock();
        if q.spares > q.handoffs {
            q.handoffs += 1;
            self.spare.notify_one();
        } else {
            self.start_thread(runtime)?;
        }
        drop(q);
        HOLDS_ROLE.with(|c| c.set(false));
        GAVE_ROLE_AWAY.with(|c| c.set(true));
        Ok(())
    }

    fn start_thread(&'static self, runtime: &'static tokio::runtime::Runtime) -> Result<()> {
        std::thread::Builder::new()
            .name("chatbotkit-callbacks".into())
            .spawn(move || self.run(runtime))
            .map(drop)
            .map_err(|e| Error::internal(format!("the callback thread could not start: {e}")))
    }

    fn pop(&self) -> Option<Job> {
        self.lock().jobs.pop_front()
    }

    /// Resolves once a job is queued. Run inside `block_on`, it drives every
    /// task until then.
    async fn job_queued(&self) {
        loop {
            let notified = self.ready.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if !self.lock().jobs.is_empty() {
                return;
            }
            notified.await;
        }
    }

    /// A callback-loop thread: hold the role until it is handed away, then
    /// linger as a spare, and take the role again if a hand-off comes.
    fn run(&'static self, runtime: &'static tokio::runtime::Runtime) {
        loop {
            HOLDS_ROLE.with(|c| c.set(true));
            self.hold_role(runtime);
            GAVE_ROLE_AWAY.with(|c| c.set(false));
            let mut q = self.lock();
            q.spares += 1;
            let (mut q, _) = self
                .spare
                .wait_timeout_while(q, SPARE_LINGER, |q| q.handoffs == 0)
                .unwrap_or_else(|p| p.into_inner());
            q.spares -= 1;
            if q.handoffs == 0 {
                return;
            }
            q.handoffs -= 1;
        }
    }

    /// Run jobs and drive the runtime while tasks are in flight; return once
    /// a job handed the role away.
    fn hold_role(&'static self, runtime: &'static tokio::runtime::Runtime) {
        loop {
            while let Some(job) = self.pop() {
                run(job);
                if GAVE_ROLE_AWAY.with(|c| c.get()) {
                    return;
                }
            }
            {
                let mut q = self.lock();
                while q.jobs.is_empty() && q.in_flight == 0 {
                    q.holder_idle = true;
                    q = self.work.wait(q).unwrap_or_else(|p| p.into_inner());
                }
                q.holder_idle = false;
                if !q.jobs.is_empty() {
                    continue;
                }
            }
            super::drive(runtime, self.job_queued());
        }
    }
}

/// Run a job; a panic in it (there should be none: host callbacks cannot
/// unwind into Rust, and the rest is the library's) must not end the thread.
fn run(job: Job) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
}
