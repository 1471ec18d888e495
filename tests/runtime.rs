//! The runtime in plain Rust, without the SDK: blocking calls from many
//! threads at once, each on its own thread; blocking and waiting from
//! inside a task's completion; a per-runtime HTTP client whose idle
//! connection is closed when it times out, with no call after it.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use chatbotkit::error::{Error, Result};
use chatbotkit::runtime::{self, task::Task, PerRuntime};

/// One test at a time: the first counts on free lanes for its threads.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// Waits (up to 5 s) until `n` threads are inside it at once; true if they
/// all got there.
struct Rendezvous {
    count: Mutex<usize>,
    cv: Condvar,
    n: usize,
}

impl Rendezvous {
    fn new(n: usize) -> Arc<Rendezvous> {
        Arc::new(Rendezvous {
            count: Mutex::new(0),
            cv: Condvar::new(),
            n,
        })
    }

    fn arrive(&self) -> bool {
        let mut count = self.count.lock().unwrap();
        *count += 1;
        self.cv.notify_all();
        let (count, _) = self
            .cv
            .wait_timeout_while(count, Duration::from_secs(5), |c| *c < self.n)
            .unwrap();
        *count >= self.n
    }
}

#[test]
fn blocking_calls_run_at_once_each_on_its_callers_thread() {
    let _serial = serial();
    // Fewer than the 8 lanes there are at least, so that each gets one.
    const THREADS: usize = 6;
    let rendezvous = Rendezvous::new(THREADS);
    std::thread::scope(|s| {
        let calls: Vec<_> = (0..THREADS)
            .map(|_| {
                let rendezvous = rendezvous.clone();
                s.spawn(move || {
                    let caller = std::thread::current().id();
                    // The future blocks its thread until all are in: only
                    // futures polled on their own threads at once get out.
                    let (polled_on, met) = runtime::block_on(async move {
                        Ok((std::thread::current().id(), rendezvous.arrive()))
                    })
                    .unwrap();
                    (caller == polled_on, met)
                })
            })
            .collect();
        for call in calls {
            assert_eq!(call.join().unwrap(), (true, true));
        }
    });
}

#[test]
fn a_completion_may_block_and_wait() {
    let _serial = serial();
    let other = Arc::new(
        Task::spawn(
            async {
                tokio::time::sleep(Duration::from_millis(30)).await;
                Ok(2u32)
            },
            || {},
            |_: &Result<u32>| {},
        )
        .unwrap(),
    );
    let (tx, rx) = std::sync::mpsc::channel();
    let waited_on = other.clone();
    let task = Task::spawn(
        async { Ok(1u32) },
        || {},
        move |_: &Result<u32>| {
            let blocked = runtime::block_on(async {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Ok::<_, Error>(3u32)
            });
            let _ = tx.send((blocked, waited_on.wait()));
        },
    )
    .unwrap();
    let (blocked, waited) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(blocked, Ok(3));
    assert_eq!(waited, Ok(2));
    assert_eq!(task.wait(), Ok(1));
}

#[test]
fn many_completions_may_block_at_once() {
    let _serial = serial();
    // More completions blocked in blocking calls than there are workers
    // (and lanes): each one's worker hands its other work away, so all of
    // them get through. The calls meet at an async barrier, which they can
    // only pass together.
    const TASKS: usize = 32;
    let barrier = Arc::new(tokio::sync::Barrier::new(TASKS));
    let (tx, rx) = std::sync::mpsc::channel();
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let (barrier, tx) = (barrier.clone(), tx.clone());
            Task::spawn(
                async { Ok(()) },
                || {},
                move |_: &Result<()>| {
                    let met = runtime::block_on(async move {
                        let wait = barrier.wait();
                        Ok(tokio::time::timeout(Duration::from_secs(5), wait)
                            .await
                            .is_ok())
                    });
                    let _ = tx.send(met);
                },
            )
            .unwrap()
        })
        .collect();
    for task in &tasks {
        assert_eq!(task.wait(), Ok(()));
    }
    let met: Vec<_> = rx.try_iter().collect();
    assert_eq!(met, vec![Ok(true); TASKS]);
}

#[test]
fn an_idle_connection_is_closed_when_it_times_out_with_no_call_after_it() {
    let _serial = serial();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4096];
        let _ = stream.read(&mut buf);
        stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
            .unwrap();
        let answered = Instant::now();
        stream
            .set_read_timeout(Some(Duration::from_secs(6)))
            .unwrap();
        // Keep-alive: the next read ends only when the client closes.
        let eof = matches!(stream.read(&mut buf), Ok(0));
        (eof, answered.elapsed())
    });
    let clients: Arc<PerRuntime<reqwest::Client>> = Arc::default();
    let per_runtime = clients.clone();
    let body = runtime::block_on(async move {
        // Made here, inside the call: the client of the lane it runs on.
        let http = per_runtime.get_or_try_init(|| {
            reqwest::Client::builder()
                .pool_idle_timeout(Duration::from_millis(300))
                .build()
                .map_err(|e| Error::internal(e.to_string()))
        })?;
        let resp = http
            .get(url)
            .send()
            .await
            .map_err(|e| Error::network(e.to_string()))?;
        resp.text().await.map_err(|e| Error::network(e.to_string()))
    });
    assert_eq!(body, Ok("ok".to_owned()));
    let (eof, after) = server.join().unwrap();
    assert!(eof, "the idle connection was never closed");
    // The pool's timeout, checked when the housekeeper turns the lane (once
    // a second), at most two timeouts late: well under the 6 s limit.
    assert!(after < Duration::from_secs(3), "closed after {after:?}");
    drop(clients);
}
