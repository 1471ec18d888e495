//! fork() in plain Rust, through the C API: a child uses a handle made in
//! its parent and pools its own connection; waiting in the child on a task
//! started before the fork fails at once; a fork taken while another thread
//! is inside the log callback leaves nothing locked in the child; and the
//! log callback may replace itself.
//!
//! One test per file: fork() copies only the calling thread, so this binary
//! keeps its other threads out of the library while it forks.

mod common;

use std::ffi::CStr;
use std::io::Write;
use std::os::raw::{c_char, c_void};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chatbotkit::cbk_log_level;
use common::*;
use serde_json::json;

static LINES: AtomicUsize = AtomicUsize::new(0);
/// While set, the log callback holds its thread inside it.
static HOLD: AtomicBool = AtomicBool::new(false);
static INSIDE: AtomicBool = AtomicBool::new(false);

unsafe extern "C" fn holding_log(_: *mut c_void, _: cbk_log_level, _: *const c_char) {
    LINES.fetch_add(1, Ordering::SeqCst);
    INSIDE.store(true, Ordering::SeqCst);
    let start = Instant::now();
    while HOLD.load(Ordering::SeqCst) && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(5));
    }
    INSIDE.store(false, Ordering::SeqCst);
}

unsafe extern "C" fn counting_log(_: *mut c_void, _: cbk_log_level, _: *const c_char) {
    LINES.fetch_add(1, Ordering::SeqCst);
}

static REPLACED: AtomicUsize = AtomicUsize::new(0);

/// Replaces itself with `counting_log` from inside its first call.
unsafe extern "C" fn replacing_log(_: *mut c_void, _: cbk_log_level, _: *const c_char) {
    REPLACED.fetch_add(1, Ordering::SeqCst);
    chatbotkit::cbk_set_log_callback(3, Some(counting_log), std::ptr::null_mut());
}

/// A keep-alive server that records, per connection, the ids it served.
fn recording_server() -> (RawServer, Arc<Mutex<Vec<Vec<String>>>>) {
    let served = Arc::new(Mutex::new(Vec::new()));
    let record = served.clone();
    let server = RawServer::start(32, move |index, stream| {
        for _ in 0..64 {
            let head = read_request(stream);
            let Some(path) = head.split_whitespace().nth(1) else {
                return;
            };
            let id = path.split('/').nth(4).unwrap_or("").to_owned();
            {
                let mut served = record.lock().unwrap();
                while served.len() <= index {
                    served.push(Vec::new());
                }
                served[index].push(id.clone());
            }
            if id == "slow" {
                std::thread::sleep(Duration::from_millis(1500));
            }
            let body = r#"{"id":"s","token":"t","expiresAt":1}"#;
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            if stream.write_all(reply.as_bytes()).is_err() {
                return;
            }
        }
    });
    (server, served)
}

/// Runs `child` in a forked child (bounded by 20 s); the exit status.
fn in_child(child: impl FnOnce() -> i32) -> i32 {
    // SAFETY: the child only runs `child` and then `_exit`s.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(child)).unwrap_or(99);
        // SAFETY: ends the child without running the parent's exit handlers.
        unsafe { libc::_exit(code) };
    }
    let start = Instant::now();
    let mut status = 0;
    loop {
        // SAFETY: waits for our own child.
        let got = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if got == pid {
            break;
        }
        if start.elapsed() > Duration::from_secs(20) {
            // SAFETY: our own child, hung.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("the child hung");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(libc::WIFEXITED(status), "the child died: status {status}");
    libc::WEXITSTATUS(status)
}

#[test]
fn fork_child_pools_refuses_old_tasks_and_inherits_no_lock() {
    let (server, served) = recording_server();
    let client = Client::conv(&opts(&server.uri(), json!({"retries": 0})));
    client.create("parent", None).expect("parent call");

    // A task of the parent, in flight across the fork.
    let mut err = std::ptr::null_mut();
    let id = c("slow");
    // SAFETY: a live handle and C strings; the task is freed below.
    let task = unsafe {
        chatbotkit::cbk_conversation_session_client_create_async(
            client.conv_ptr(),
            id.as_ptr(),
            std::ptr::null(),
            None,
            std::ptr::null_mut(),
            &mut err,
        )
    };
    assert!(!task.is_null());

    // Another thread sits inside the log callback while we fork.
    HOLD.store(true, Ordering::SeqCst);
    chatbotkit::cbk_set_log_callback(3, Some(holding_log), std::ptr::null_mut());
    let logger = {
        let client = Client::conv(&opts(&server.uri(), json!({"retries": 0})));
        std::thread::spawn(move || client.create("logged", None).map(drop))
    };
    let start = Instant::now();
    while !INSIDE.load(Ordering::SeqCst) && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(INSIDE.load(Ordering::SeqCst), "the logger never logged");

    let task_addr = task as usize;
    let client_ref = &client;
    let code = in_child(move || {
        // Nothing the logging thread held stops the child.
        chatbotkit::cbk_set_log_callback(3, Some(counting_log), std::ptr::null_mut());
        let before = LINES.load(Ordering::SeqCst);
        for _ in 0..3 {
            if client_ref.create("child", None).is_err() {
                return 1;
            }
        }
        if LINES.load(Ordering::SeqCst) != before + 3 {
            return 2;
        }
        // The parent's task: cancelling it does nothing here (it runs in
        // the parent), and waiting is refused at once.
        // SAFETY: a live task handle inherited from the parent.
        unsafe { chatbotkit::cbk_task_cancel(task_addr as *mut _) };
        let started = Instant::now();
        let mut err = std::ptr::null_mut();
        // SAFETY: a live task handle inherited from the parent.
        let json = unsafe { chatbotkit::cbk_task_wait(task_addr as *mut _, &mut err) };
        if !json.is_null() || err.is_null() || started.elapsed() > Duration::from_secs(1) {
            return 3;
        }
        // SAFETY: the error we were given.
        let status = unsafe { chatbotkit::cbk_error_status(err) };
        // SAFETY: freed once.
        unsafe { chatbotkit::cbk_error_free(err) };
        if status as i32 != INVALID_ARGUMENT {
            return 4;
        }
        chatbotkit::cbk_set_log_callback(3, None, std::ptr::null_mut());
        0
    });
    HOLD.store(false, Ordering::SeqCst);
    assert_eq!(code, 0, "the child failed its check number {code}");
    logger.join().unwrap().expect("the logged call");

    // The child's three calls shared one connection of its own.
    let served = served.lock().unwrap().clone();
    let child_connections: Vec<_> = served
        .iter()
        .filter(|ids| ids.contains(&"child".to_owned()))
        .collect();
    assert_eq!(child_connections.len(), 1, "served: {served:?}");
    assert_eq!(
        child_connections[0]
            .iter()
            .filter(|id| *id == "child")
            .count(),
        3
    );

    // The parent's task is unaffected by the child.
    let mut err = std::ptr::null_mut();
    // SAFETY: our own task handle.
    let json = unsafe { chatbotkit::cbk_task_wait(task, &mut err) };
    assert!(!json.is_null(), "the parent's task failed");
    // SAFETY: each freed once.
    unsafe {
        let _ = CStr::from_ptr(json);
        chatbotkit::cbk_string_free(json);
        chatbotkit::cbk_task_free(task);
    }

    // The log callback may replace itself from inside its own call.
    chatbotkit::cbk_set_log_callback(3, Some(replacing_log), std::ptr::null_mut());
    let before = LINES.load(Ordering::SeqCst);
    client.create("replaced-1", None).expect("call");
    client.create("replaced-2", None).expect("call");
    assert_eq!(REPLACED.load(Ordering::SeqCst), 1);
    assert_eq!(LINES.load(Ordering::SeqCst), before + 1);
    chatbotkit::cbk_set_log_callback(3, None, std::ptr::null_mut());
}
