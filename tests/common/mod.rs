//! Shared helpers for the Rust integration tests that drive libchatbotkit
//! through its C ABI (`chatbotkit::cbk_...`).
//!
//! * A dedicated tokio runtime ([`block_on`]) runs wiremock; the library's
//!   blocking calls are made from the plain test thread, never from a runtime
//!   thread.
//! * [`Client`] is a safe, owning wrapper over both session client handles;
//!   every returned string, error and handle is freed here.
//! * [`RawServer`] is a tiny `std::net::TcpListener` server for the cases
//!   wiremock cannot produce (custom reason phrases, stalled or truncated
//!   bodies, dropped connections).
//!
//! Every error read through [`take_error`] is checked never to contain the
//! test secret.

#![allow(dead_code)]

use std::ffi::{CStr, CString};
use std::future::Future;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::raw::c_char;
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use chatbotkit::{cbk_bot_session_client, cbk_conversation_session_client, cbk_error, cbk_status};
use serde_json::{json, Value};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// A recognisable secret: no error message may ever contain it.
pub const SECRET: &str = "sk_live_SUPERSECRET_123";
/// The part of [`SECRET`] that is searched for in messages.
pub const SECRET_MARKER: &str = "SUPERSECRET";

pub const OK: i32 = cbk_status::CBK_OK as i32;
pub const INVALID_ARGUMENT: i32 = cbk_status::CBK_ERROR_INVALID_ARGUMENT as i32;
pub const INVALID_JSON: i32 = cbk_status::CBK_ERROR_INVALID_JSON as i32;
pub const API: i32 = cbk_status::CBK_ERROR_API as i32;
pub const TIMEOUT: i32 = cbk_status::CBK_ERROR_TIMEOUT as i32;
pub const NETWORK: i32 = cbk_status::CBK_ERROR_NETWORK as i32;
pub const INVALID_RESPONSE: i32 = cbk_status::CBK_ERROR_INVALID_RESPONSE as i32;
pub const CANCELLED: i32 = cbk_status::CBK_ERROR_CANCELLED as i32;
pub const INTERNAL: i32 = cbk_status::CBK_ERROR_INTERNAL as i32;

/// The name `cbk_error_to_json` uses for a status value.
pub fn status_name(status: i32) -> &'static str {
    // SAFETY: cbk_status_name returns a static C string, for any value.
    unsafe { CStr::from_ptr(chatbotkit::cbk_status_name(status)) }
        .to_str()
        .expect("ASCII")
}

// ---------------------------------------------------------------------------
// Runtime for wiremock
// ---------------------------------------------------------------------------

/// The tests' own runtime (wiremock's API is async). Library calls are never
/// made from inside it.
pub fn rt() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("test runtime")
    })
}

pub fn block_on<F: Future>(future: F) -> F::Output {
    rt().block_on(future)
}

pub fn start_server() -> MockServer {
    block_on(MockServer::start())
}

pub fn mount(server: &MockServer, mock: Mock) {
    block_on(mock.mount(server));
}

/// The JSON a successful session create answers with in these tests.
pub fn ok_body() -> Value {
    json!({"id": "sess_1", "token": "tok_1", "expiresAt": 1700000000000u64})
}

/// Any request answers 200 with [`ok_body`].
pub fn mount_ok(server: &MockServer) {
    mount(
        server,
        Mock::given(any()).respond_with(ResponseTemplate::new(200).set_body_json(ok_body())),
    );
}

/// A fresh server that answers every request with 200 [`ok_body`].
pub fn ok_server() -> MockServer {
    let server = start_server();
    mount_ok(&server);
    server
}

pub fn received(server: &MockServer) -> Vec<Request> {
    block_on(server.received_requests()).expect("request recording is on")
}

/// The single request the server got (panics when it got another number).
pub fn only_request(server: &MockServer) -> Request {
    let mut requests = received(server);
    assert_eq!(
        requests.len(),
        1,
        "expected exactly one request, got {}",
        requests.len()
    );
    requests.remove(0)
}

/// The raw (still percent-encoded) path of a received request.
pub fn raw_path(request: &Request) -> String {
    request.url.path().to_owned()
}

/// One header's value; panics if the header is repeated.
pub fn header(request: &Request, name: &str) -> Option<String> {
    let values: Vec<_> = request.headers.get_all(name).iter().collect();
    assert!(
        values.len() <= 1,
        "header {name} sent {} times: {values:?}",
        values.len()
    );
    values
        .first()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

pub fn header_count(request: &Request, name: &str) -> usize {
    request.headers.get_all(name).iter().count()
}

pub fn body_text(request: &Request) -> String {
    String::from_utf8(request.body.clone()).expect("request body is UTF-8")
}

pub fn body_json(request: &Request) -> Value {
    serde_json::from_slice(&request.body).expect("request body is JSON")
}

// ---------------------------------------------------------------------------
// Options builders
// ---------------------------------------------------------------------------

/// `{"secret": SECRET, "baseUrl": base}` merged with `extra` (an object).
pub fn opts_value(base: &str, extra: Value) -> Value {
    let mut v = json!({"secret": SECRET, "baseUrl": base});
    if let Value::Object(map) = extra {
        for (k, val) in map {
            v[k] = val;
        }
    } else {
        panic!("extra options must be an object");
    }
    v
}

pub fn opts(base: &str, extra: Value) -> String {
    opts_value(base, extra).to_string()
}

// ---------------------------------------------------------------------------
// C strings and library-owned values
// ---------------------------------------------------------------------------

/// A C string from text (panics on an interior NUL).
pub fn c(s: &str) -> CString {
    CString::new(s).expect("no interior NUL")
}

/// A C string from arbitrary bytes (e.g. invalid UTF-8).
pub fn c_bytes(b: &[u8]) -> CString {
    CString::new(b.to_vec()).expect("no interior NUL")
}

fn ptr_of(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(ptr::null(), |s| s.as_ptr())
}

/// A copy of a borrowed C string (None for NULL).
///
/// # Safety
/// `p` is NULL or a valid NUL-terminated string.
pub unsafe fn borrowed_str(p: *const c_char) -> Option<String> {
    if p.is_null() {
        None
    } else {
        // SAFETY: caller guarantees a valid NUL-terminated string.
        Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    }
}

/// Copies and frees a string returned by the library.
///
/// # Safety
/// `p` is a non-NULL string returned by the library, not yet freed.
pub unsafe fn take_string(p: *mut c_char) -> String {
    assert!(
        !p.is_null(),
        "library returned NULL where a string was expected"
    );
    // SAFETY: a valid library string, copied before it is freed.
    let s = unsafe { CStr::from_ptr(p) }
        .to_str()
        .expect("library strings are UTF-8")
        .to_owned();
    // SAFETY: freed once, by the function meant for it.
    unsafe { chatbotkit::cbk_string_free(p) };
    s
}

/// Appends one line of library output (an error message, a log line, a
/// `Debug` text) to the suite-wide audit file named by
/// `CHATBOTKIT_TEST_AUDIT`, which `make test` scans for every test secret at
/// the end (scripts/check-secrets.sh).
pub fn audit(what: &str, text: &str) {
    use std::io::Write as _;
    let Some(path) = std::env::var_os("CHATBOTKIT_TEST_AUDIT") else {
        return;
    };
    let line = format!("rust {what}: {}\n", text.replace('\n', "\\n"));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path);
    if let Ok(mut file) = file {
        let _ = file.write_all(line.as_bytes());
    }
}

/// Every line the library handed to [`record_log`] in this test binary.
pub static LOG_LINES: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// A `cbk_log_callback` that audits each line and keeps it in [`LOG_LINES`].
pub extern "C" fn record_log(
    _user_data: *mut std::os::raw::c_void,
    _level: chatbotkit::cbk_log_level,
    message: *const c_char,
) {
    if message.is_null() {
        return;
    }
    // SAFETY: the library passes a NUL-terminated string valid for the call.
    let line = unsafe { CStr::from_ptr(message) }
        .to_string_lossy()
        .into_owned();
    audit("log", &line);
    if let Ok(mut lines) = LOG_LINES.lock() {
        lines.push(line);
    }
}

/// Sends every log line, debug ones included, to [`record_log`]; `false`
/// turns logging off (a NULL callback).
pub fn record_log_lines(on: bool) {
    chatbotkit::cbk_set_log_callback(
        chatbotkit::cbk_log_level::CBK_LOG_DEBUG as i32,
        if on { Some(record_log) } else { None },
        ptr::null_mut(),
    );
}

/// Everything an error object exposes.
#[derive(Debug, Clone)]
pub struct ErrInfo {
    pub status: i32,
    pub code: String,
    pub message: String,
    pub http_status: i32,
    /// The text of `cbk_error_to_json`.
    pub json: String,
}

impl ErrInfo {
    pub fn status_name(&self) -> &'static str {
        status_name(self.status)
    }

    /// Asserts status and code in one go, with a readable failure.
    pub fn assert_is(&self, status: i32, code: &str) {
        assert_eq!(
            (self.status_name(), self.code.as_str()),
            (status_name(status), code),
            "unexpected error: {self:?}"
        );
    }

    pub fn json_value(&self) -> Value {
        serde_json::from_str(&self.json).expect("cbk_error_to_json gives JSON")
    }
}

/// Reads every accessor of an error, checks that nothing shows the secret,
/// and frees it.
///
/// # Safety
/// `err` is a non-NULL error returned by the library, not yet freed.
pub unsafe fn take_error(err: *mut cbk_error) -> ErrInfo {
    assert!(!err.is_null(), "call failed but stored no error");
    // SAFETY: `err` is a live error object; the borrowed strings are copied
    // before it is freed.
    let info = unsafe {
        let status = chatbotkit::cbk_error_status(err) as i32;
        let code = borrowed_str(chatbotkit::cbk_error_code(err)).expect("code is never NULL");
        let message =
            borrowed_str(chatbotkit::cbk_error_message(err)).expect("message is never NULL");
        let http_status = chatbotkit::cbk_error_http_status(err) as i32;
        let json = take_string(chatbotkit::cbk_error_to_json(err));
        chatbotkit::cbk_error_free(err);
        ErrInfo {
            status,
            code,
            message,
            http_status,
            json,
        }
    };
    assert!(
        !info.message.contains(SECRET_MARKER) && !info.json.contains(SECRET_MARKER),
        "an error shows the secret: {info:?}"
    );
    audit("error", &info.message);
    audit("error json", &info.json);
    let v = info.json_value();
    assert_eq!(
        v["status"],
        json!(info.status_name()),
        "to_json status: {info:?}"
    );
    assert_eq!(v["code"], json!(info.code), "to_json code: {info:?}");
    assert_eq!(
        v["message"],
        json!(info.message),
        "to_json message: {info:?}"
    );
    assert_eq!(
        v["httpStatus"],
        json!(info.http_status),
        "to_json httpStatus: {info:?}"
    );
    info
}

/// Turns a (pointer, error) pair into a Result, freeing the error, and
/// checking that exactly one of them is set.
///
/// # Safety
/// Both come straight from one library call.
unsafe fn outcome<T>(value: *mut T, err: *mut cbk_error) -> Result<*mut T, ErrInfo> {
    if value.is_null() {
        // SAFETY: a failed call stored a fresh error.
        Err(unsafe { take_error(err) })
    } else {
        assert!(err.is_null(), "call succeeded but also stored an error");
        Ok(value)
    }
}

// ---------------------------------------------------------------------------
// Safe client wrapper
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Conversation,
    Bot,
}

impl Kind {
    pub const ALL: [Kind; 2] = [Kind::Conversation, Kind::Bot];

    /// The request path for `create` with an already encoded id.
    pub fn create_path(self, encoded_id: &str) -> String {
        match self {
            Kind::Conversation => format!("/api/v1/conversation/{encoded_id}/session/create"),
            Kind::Bot => format!("/api/v1/bot/{encoded_id}/session/create"),
        }
    }

    /// The name of the id argument, as error messages name it.
    pub fn id_arg(self) -> &'static str {
        match self {
            Kind::Conversation => "conversation_id",
            Kind::Bot => "bot_id",
        }
    }
}

enum Raw {
    Conversation(*mut cbk_conversation_session_client),
    Bot(*mut cbk_bot_session_client),
}

/// An owned client handle of either kind; freed on drop.
pub struct Client {
    raw: Raw,
}

// SAFETY: the header: every handle is safe to use from many threads at once.
unsafe impl Send for Client {}
// SAFETY: as above.
unsafe impl Sync for Client {}

impl Client {
    pub fn new(kind: Kind, options: Option<&str>) -> Result<Client, ErrInfo> {
        Self::new_bytes(kind, options.map(str::as_bytes))
    }

    pub fn new_bytes(kind: Kind, options: Option<&[u8]>) -> Result<Client, ErrInfo> {
        let options = options.map(c_bytes);
        let mut err: *mut cbk_error = ptr::null_mut();
        // SAFETY: valid C string or NULL; `err` is a valid out-pointer.
        unsafe {
            match kind {
                Kind::Conversation => {
                    let h =
                        chatbotkit::cbk_conversation_session_client_new(ptr_of(&options), &mut err);
                    outcome(h, err).map(|h| Client {
                        raw: Raw::Conversation(h),
                    })
                }
                Kind::Bot => {
                    let h = chatbotkit::cbk_bot_session_client_new(ptr_of(&options), &mut err);
                    outcome(h, err).map(|h| Client { raw: Raw::Bot(h) })
                }
            }
        }
    }

    pub fn conv(options: &str) -> Client {
        Self::new(Kind::Conversation, Some(options)).expect("new conversation client")
    }

    pub fn bot(options: &str) -> Client {
        Self::new(Kind::Bot, Some(options)).expect("new bot client")
    }

    /// `new(kind, options)` that must succeed.
    pub fn of(kind: Kind, options: &str) -> Client {
        Self::new(kind, Some(options)).unwrap_or_else(|e| panic!("new {kind:?} client: {e:?}"))
    }

    pub fn kind(&self) -> Kind {
        match self.raw {
            Raw::Conversation(_) => Kind::Conversation,
            Raw::Bot(_) => Kind::Bot,
        }
    }

    pub fn extend(&self, options: Option<&str>) -> Result<Client, ErrInfo> {
        self.extend_bytes(options.map(str::as_bytes))
    }

    pub fn extend_bytes(&self, options: Option<&[u8]>) -> Result<Client, ErrInfo> {
        let options = options.map(c_bytes);
        let mut err: *mut cbk_error = ptr::null_mut();
        // SAFETY: live handle, valid C string or NULL, valid out-pointer.
        unsafe {
            match self.raw {
                Raw::Conversation(h) => {
                    let d = chatbotkit::cbk_conversation_session_client_extend(
                        h,
                        ptr_of(&options),
                        &mut err,
                    );
                    outcome(d, err).map(|d| Client {
                        raw: Raw::Conversation(d),
                    })
                }
                Raw::Bot(h) => {
                    let d =
                        chatbotkit::cbk_bot_session_client_extend(h, ptr_of(&options), &mut err);
                    outcome(d, err).map(|d| Client { raw: Raw::Bot(d) })
                }
            }
        }
    }

    pub fn create(&self, id: &str, request: Option<&str>) -> Result<String, ErrInfo> {
        self.create_bytes(id.as_bytes(), request.map(str::as_bytes))
    }

    pub fn create_bytes(&self, id: &[u8], request: Option<&[u8]>) -> Result<String, ErrInfo> {
        let id = c_bytes(id);
        let request = request.map(c_bytes);
        let mut err: *mut cbk_error = ptr::null_mut();
        // SAFETY: live handle, valid C strings or NULL, valid out-pointer;
        // the returned string is copied and freed by `take_string`.
        unsafe {
            let s = match self.raw {
                Raw::Conversation(h) => chatbotkit::cbk_conversation_session_client_create(
                    h,
                    id.as_ptr(),
                    ptr_of(&request),
                    &mut err,
                ),
                Raw::Bot(h) => chatbotkit::cbk_bot_session_client_create(
                    h,
                    id.as_ptr(),
                    ptr_of(&request),
                    &mut err,
                ),
            };
            outcome(s, err).map(|s| take_string(s))
        }
    }

    pub fn fetch(&self, path: &str, options: Option<&str>) -> Result<String, ErrInfo> {
        self.fetch_bytes(path.as_bytes(), options.map(str::as_bytes))
    }

    pub fn fetch_bytes(&self, path: &[u8], options: Option<&[u8]>) -> Result<String, ErrInfo> {
        let path = c_bytes(path);
        let options = options.map(c_bytes);
        let mut err: *mut cbk_error = ptr::null_mut();
        // SAFETY: live handle, valid C strings or NULL, valid out-pointer.
        unsafe {
            let s = match self.raw {
                Raw::Conversation(h) => chatbotkit::cbk_conversation_session_client_fetch(
                    h,
                    path.as_ptr(),
                    ptr_of(&options),
                    &mut err,
                ),
                Raw::Bot(h) => chatbotkit::cbk_bot_session_client_fetch(
                    h,
                    path.as_ptr(),
                    ptr_of(&options),
                    &mut err,
                ),
            };
            outcome(s, err).map(|s| take_string(s))
        }
    }

    /// `cbk_*_options` as text.
    pub fn options(&self) -> Result<String, ErrInfo> {
        let mut err: *mut cbk_error = ptr::null_mut();
        // SAFETY: live handle, valid out-pointer.
        unsafe {
            let s = match self.raw {
                Raw::Conversation(h) => {
                    chatbotkit::cbk_conversation_session_client_options(h, &mut err)
                }
                Raw::Bot(h) => chatbotkit::cbk_bot_session_client_options(h, &mut err),
            };
            outcome(s, err).map(|s| take_string(s))
        }
    }

    /// `cbk_*_options` parsed.
    pub fn options_value(&self) -> Value {
        let text = self.options().expect("options");
        serde_json::from_str(&text).expect("options output is JSON")
    }

    /// The raw conversation handle (panics for a bot client).
    pub fn conv_ptr(&self) -> *mut cbk_conversation_session_client {
        match self.raw {
            Raw::Conversation(h) => h,
            Raw::Bot(_) => panic!("not a conversation client"),
        }
    }

    /// The raw bot handle (panics for a conversation client).
    pub fn bot_ptr(&self) -> *mut cbk_bot_session_client {
        match self.raw {
            Raw::Bot(h) => h,
            Raw::Conversation(_) => panic!("not a bot client"),
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        // SAFETY: the handle is owned by this wrapper and freed exactly once.
        unsafe {
            match self.raw {
                Raw::Conversation(h) => chatbotkit::cbk_conversation_session_client_free(h),
                Raw::Bot(h) => chatbotkit::cbk_bot_session_client_free(h),
            }
        }
    }
}

/// Parses a successful call's output.
pub fn parse(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

// ---------------------------------------------------------------------------
// Raw TCP servers
// ---------------------------------------------------------------------------

/// `http://127.0.0.1:<port>` where nothing listens: a listener is bound to
/// an ephemeral port and closed again.
pub fn closed_port_uri() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// Reads an HTTP/1.1 request head (and a Content-Length body) from a stream,
/// with a short read timeout. Returns the head text ("" when nothing came).
pub fn read_request(stream: &mut TcpStream) -> String {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(3)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        if buf.len() > 1 << 20 {
            return String::from_utf8_lossy(&buf).into_owned();
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return String::from_utf8_lossy(&buf).into_owned(),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0)
        .min(1 << 20);
    let mut have = buf.len() - head_end;
    while have < length {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => have += n,
        }
    }
    head
}

/// A bare `std::net` HTTP server: each accepted connection is handed to
/// `handler(index, stream)` on its own thread. It stops accepting after
/// `max_connections` or 20 seconds, whichever comes first.
pub struct RawServer {
    pub addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
}

impl RawServer {
    pub fn start<F>(max_connections: usize, handler: F) -> RawServer
    where
        F: Fn(usize, &mut TcpStream) + Send + Sync + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let accepted = Arc::new(AtomicUsize::new(0));
        let handler = Arc::new(handler);
        let acc = accepted.clone();
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline && acc.load(Ordering::SeqCst) < max_connections {
                match listener.accept() {
                    Ok((mut stream, _)) => {
                        let index = acc.fetch_add(1, Ordering::SeqCst);
                        let _ = stream.set_nonblocking(false);
                        let handler = handler.clone();
                        std::thread::spawn(move || {
                            handler(index, &mut stream);
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        RawServer { addr, accepted }
    }

    /// A server answering every connection with the same raw bytes (after
    /// reading the request), then closing it.
    pub fn respond_with(max_connections: usize, response: Vec<u8>) -> RawServer {
        RawServer::start(max_connections, move |_, stream| {
            let _ = read_request(stream);
            let _ = stream.write_all(&response);
            let _ = stream.flush();
        })
    }

    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// Milliseconds since `start`.
pub fn elapsed_ms(start: Instant) -> u128 {
    start.elapsed().as_millis()
}
