//! Lanes: current-thread runtimes that blocking calls borrow, one call at a
//! time, and the housekeeper that turns them while they are idle.
//!
//! A lane is free or borrowed (its `busy` flag). A borrower, whether a
//! calling thread or the housekeeper, is the only thread inside the lane's
//! `block_on`, so it does all of the lane's I/O itself. A thread tries the
//! lane it used last, then the others in order, then makes a new one; only
//! when [`max_lanes`] are all busy does its call go to the workers. Lanes
//! are never freed within a generation.
//!
//! A lane's connection tasks run only while it is borrowed. So that a
//! connection the server closed (or wrote to) while the lane was idle is
//! never used, [`Lane::run`] first turns the lane twice without waiting
//! (two zero-timeout polls): the first collects what the sockets reported,
//! the second lets the woken connection tasks act on it (hyper closes a
//! connection on EOF or on bytes it did not ask for) before the request
//! checks a connection out of the pool.

use std::cell::Cell;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

use crate::error::{Error, Result};

/// How often the housekeeper turns idle lanes that hold connections.
const SWEEP: Duration = Duration::from_secs(1);

/// The most lanes a process generation makes: enough for every core to run
/// a few blocking calls, few enough that idle lanes cost little (a lane is
/// an epoll instance, an eventfd and a timer wheel).
/// Computed once per process, so that it never changes under a
/// [`PerRuntime`](super::PerRuntime) sized by it.
pub fn max_lanes() -> usize {
    static MAX: OnceLock<usize> = OnceLock::new();
    *MAX.get_or_init(|| (4 * super::cores()).clamp(8, 256))
}

thread_local! {
    /// The lane this thread used last: tried first next time, so that a
    /// thread keeps its lane (and its warm connections) while it can.
    static HOME: Cell<usize> = const { Cell::new(0) };
    /// The lane this thread is driving now, if any (see [`current`]).
    static DRIVING: Cell<Option<usize>> = const { Cell::new(None) };
}

/// The lane the calling thread is driving, `None` outside a lane.
pub fn current() -> Option<usize> {
    DRIVING.with(Cell::get)
}

struct Lane {
    runtime: tokio::runtime::Runtime,
    busy: AtomicBool,
}

impl Lane {
    /// Whether anything lives on the lane: connection tasks, or a pool's
    /// idle timer (which outlives its connections by up to its timeout).
    fn has_tasks(&self) -> bool {
        self.runtime.metrics().num_alive_tasks() > 0
    }
}

pub struct Lanes {
    lanes: Box<[OnceLock<Lane>]>,
    /// How many of `lanes` exist (a prefix; grows under `grow`).
    count: AtomicUsize,
    grow: Mutex<()>,
    housekeeper: Housekeeper,
}

/// A lane borrowed by this thread; given back when dropped.
pub struct Borrowed<'a> {
    lanes: &'a Lanes,
    lane: &'a Lane,
    index: usize,
}

impl Lanes {
    pub fn new() -> Lanes {
        Lanes {
            lanes: (0..max_lanes()).map(|_| OnceLock::new()).collect(),
            count: AtomicUsize::new(0),
            grow: Mutex::new(()),
            housekeeper: Housekeeper::default(),
        }
    }

    fn try_take(&self, index: usize) -> Option<Borrowed<'_>> {
        let lane = self.lanes.get(index)?.get()?;
        // A relaxed look first: a busy lane is skipped without taking its
        // cache line exclusively.
        if lane.busy.load(Ordering::Relaxed)
            || lane
                .busy
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
        {
            return None;
        }
        Some(Borrowed {
            lanes: self,
            lane,
            index,
        })
    }

    /// Borrow a free lane, making one if none is free; `None` when all
    /// [`max_lanes`] are busy, or a new lane could not be made.
    pub fn borrow(&'static self) -> Option<Borrowed<'static>> {
        let count = self.count.load(Ordering::Acquire);
        let home = HOME.with(Cell::get);
        let found = (home < count)
            .then(|| self.try_take(home))
            .flatten()
            .or_else(|| (0..count).find_map(|i| self.try_take(i)))
            .or_else(|| self.add());
        if let Some(lane) = &found {
            HOME.with(|h| h.set(lane.index));
        }
        found
    }

    /// Make a new lane, borrowed.
    fn add(&'static self) -> Option<Borrowed<'static>> {
        let _guard = self.grow.lock().unwrap_or_else(|p| p.into_inner());
        let index = self.count.load(Ordering::Acquire);
        if index == self.lanes.len() {
            return None;
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            // The lane's own threads (name lookups) are library threads.
            .on_thread_start(super::signals::library_thread)
            .build()
            .ok()?;
        if index == 0 && self.housekeeper.start(self).is_err() {
            return None;
        }
        let lane = Lane {
            runtime,
            busy: AtomicBool::new(true),
        };
        // Under `grow`, slot `index` is still empty.
        let lane = self.lanes[index].get_or_init(|| lane);
        self.count.store(index + 1, Ordering::Release);
        Some(Borrowed {
            lanes: self,
            lane,
            index,
        })
    }

    /// Turn lane `index` now if it is free, so that connection tasks it was
    /// just told to close (their pool was dropped) close their sockets. A
    /// busy lane is turned by its borrower; from inside a runtime (where a
    /// lane cannot be entered) the housekeeper does it.
    pub fn turn_now(&'static self, index: usize) {
        if index >= self.count.load(Ordering::Acquire) {
            return;
        }
        if tokio::runtime::Handle::try_current().is_err() {
            if let Some(lane) = self.try_take(index) {
                lane.run(std::future::ready(()));
                return;
            }
        }
        self.housekeeper.sweep_soon();
    }
}

impl Borrowed<'_> {
    /// Drive `fut` to completion on this lane, on this thread.
    pub fn run<F: Future>(self, fut: F) -> F::Output {
        struct Driving(Option<usize>);
        impl Drop for Driving {
            fn drop(&mut self) {
                DRIVING.with(|d| d.set(self.0));
            }
        }
        let lane = self.lane;
        let _driving = Driving(DRIVING.with(|d| d.replace(Some(self.index))));
        let _sigpipe = super::signals::Blocked::new();
        let has_tasks = lane.has_tasks();
        lane.runtime.block_on(async move {
            if has_tasks {
                tokio::task::yield_now().await;
                tokio::task::yield_now().await;
            }
            fut.await
        })
    }
}

impl Drop for Borrowed<'_> {
    fn drop(&mut self) {
        let lane = self.lane;
        let has_tasks = lane.has_tasks();
        lane.busy.store(false, Ordering::Release);
        if has_tasks {
            self.lanes.housekeeper.watch();
        }
    }
}

/// The housekeeping thread: while some lane may hold connections, it turns
/// every free lane once per [`SWEEP`], so that timers (the pool's idle
/// timeout) fire and connections the server closed are closed here too,
/// even when no call comes. With nothing to watch it sleeps until a lane is
/// given back with tasks on it. It never runs host code.
#[derive(Default)]
struct Housekeeper {
    /// Some lane may hold tasks: set on give-back, cleared before a sweep
    /// (a lane still holding tasks sets it again as the sweep gives it back).
    watching: AtomicBool,
    /// A sweep is wanted now (a pool was dropped inside a runtime).
    now: AtomicBool,
    lock: Mutex<()>,
    cv: Condvar,
}

impl Housekeeper {
    // Never inlined: the fork test's valgrind suppressions name this frame
    // (the thread's start closure is lost in a forked child).
    #[inline(never)]
    fn start(&self, lanes: &'static Lanes) -> Result<()> {
        std::thread::Builder::new()
            .name("chatbotkit-housekeeper".into())
            .spawn(move || {
                super::signals::library_thread();
                lanes.housekeeper.run(lanes)
            })
            .map(drop)
            .map_err(|e| Error::internal(format!("the housekeeping thread could not start: {e}")))
    }

    /// A lane was given back with tasks on it.
    fn watch(&self) {
        if !self.watching.swap(true, Ordering::AcqRel) {
            let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
            self.cv.notify_one();
        }
    }

    /// Sweep now, not at the next period.
    fn sweep_soon(&self) {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        self.watching.store(true, Ordering::Release);
        self.now.store(true, Ordering::Release);
        self.cv.notify_one();
    }

    fn run(&self, lanes: &'static Lanes) {
        loop {
            {
                let mut guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
                while !self.watching.load(Ordering::Acquire) {
                    guard = self.cv.wait(guard).unwrap_or_else(|p| p.into_inner());
                }
                if !self.now.swap(false, Ordering::AcqRel) {
                    let _ = self
                        .cv
                        .wait_timeout_while(guard, SWEEP, |_| !self.now.load(Ordering::Acquire))
                        .unwrap_or_else(|p| p.into_inner());
                    self.now.store(false, Ordering::Release);
                }
                self.watching.store(false, Ordering::Release);
            }
            // A lane given back still holding tasks sets `watching` again
            // (Borrowed's drop); a busy one is its borrower's to give back.
            let mut busy = false;
            for index in 0..lanes.count.load(Ordering::Acquire) {
                match lanes.try_take(index) {
                    Some(lane) => lane.run(std::future::ready(())),
                    None => busy = true,
                }
            }
            if busy {
                self.watching.store(true, Ordering::Release);
            }
        }
    }
}
