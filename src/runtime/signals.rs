//! SIGPIPE. A write to a socket whose peer has gone raises SIGPIPE in the
//! writing thread, and its default action ends the process. Rust's std
//! writes with `send(MSG_NOSIGNAL)`, but vectored writes (`writev`, which
//! hyper and rustls use) have no such flag, and neither reqwest nor hyper
//! lets the library choose its socket calls. So every thread that does the
//! library's I/O has SIGPIPE blocked while it does: the library's own
//! threads for good, a host thread for the length of its call. A SIGPIPE
//! that a call raised is then taken off the host thread before its own
//! signal mask comes back. No signal's disposition is ever changed.

use std::cell::Cell;

thread_local! {
    /// SIGPIPE is blocked on this thread for good (a library thread).
    static BLOCKED_FOR_GOOD: Cell<bool> = const { Cell::new(false) };
}

fn sigpipe_set() -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the zeroed set it is given.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGPIPE);
        set
    }
}

/// Set up a thread the library starts: every asynchronous signal blocked
/// for good, SIGPIPE included. A thread inherits its creator's mask, a host
/// thread's; without this, a signal sent to the process (SIGINT, SIGCHLD,
/// ...) could run the host's handler on a library thread, or be taken from
/// a host that waits for it with sigwait() or a signalfd. Faults (SIGSEGV,
/// SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS) stay deliverable, and so does
/// SIGPROF, for profilers.
pub fn library_thread() {
    // sigfillset/sigdelset initialise and edit a set we own.
    // SAFETY: and pthread_sigmask changes only this thread's mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut set);
        for keep in [
            libc::SIGSEGV,
            libc::SIGBUS,
            libc::SIGFPE,
            libc::SIGILL,
            libc::SIGTRAP,
            libc::SIGSYS,
            libc::SIGPROF,
        ] {
            libc::sigdelset(&mut set, keep);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
    BLOCKED_FOR_GOOD.with(|b| b.set(true));
}

/// SIGPIPE blocked on this thread while it lives (see the module). When
/// the host thread already blocks SIGPIPE, nothing is done, and a SIGPIPE
/// the call raises stays pending there, as the host chose.
pub struct Blocked {
    /// Whether this guard blocked SIGPIPE (and so must unblock it).
    blocked_here: bool,
}

impl Blocked {
    pub fn new() -> Blocked {
        if BLOCKED_FOR_GOOD.with(Cell::get) {
            return Blocked {
                blocked_here: false,
            };
        }
        let set = sigpipe_set();
        // SAFETY: a zeroed sigset_t is a valid out-parameter.
        let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: changes only this thread's mask; both sets are valid.
        unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old) };
        // SAFETY: `old` was filled in above.
        let was_blocked = unsafe { libc::sigismember(&old, libc::SIGPIPE) } == 1;
        Blocked {
            blocked_here: !was_blocked,
        }
    }
}

impl Drop for Blocked {
    fn drop(&mut self) {
        if !self.blocked_here {
            return;
        }
        let set = sigpipe_set();
        let zero = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // Take off a SIGPIPE our writes raised, so that unblocking does not
        // deliver it (zero timeout: EAGAIN when there is none). A SIGPIPE
        // sent to the whole process with kill() meanwhile is taken too.
        // Signals do not queue: one pending per thread, one per process.
        for _ in 0..2 {
            // SAFETY: valid set and timeout; a null siginfo is allowed.
            let taken = unsafe { libc::sigtimedwait(&set, std::ptr::null_mut(), &zero) };
            if taken != libc::SIGPIPE {
                break;
            }
        }
        // Unblock SIGPIPE only: a change the host made to its mask meanwhile
        // (in the log callback) stays.
        // SAFETY: changes only this thread's mask; the set is valid.
        unsafe { libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut()) };
    }
}
