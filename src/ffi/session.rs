//! The two client handles and their functions. Each export is a one-line
//! call into the generic helpers at the bottom, which hold the argument
//! checks and the ownership rules once for both handle types.

use std::os::raw::{c_char, c_int, c_void};

use super::error::{cbk_error, cbk_status};
use super::panic::{guard, guard_or, guard_status};
use super::strings::{arg_opt_str, arg_ref, arg_str, into_raw_string, to_c_string};
use super::task::{cbk_callback, cbk_task};
use crate::client::{Client, OptionsPatch, Result, SessionKind};
use crate::runtime::block_on;

/// A conversation session client (the SDK's `ConversationSessionClient`).
///
/// Made by `cbk_conversation_session_client_new` or `_extend`, released by
/// `cbk_conversation_session_client_free`. Immutable once made: safe to use
/// from many threads at once.
pub struct cbk_conversation_session_client {
    client: Client,
}

/// A bot session client (the SDK's `BotSessionClient`, formerly
/// `SessionClient`).
///
/// Made by `cbk_bot_session_client_new` or `_extend`, released by
/// `cbk_bot_session_client_free`. Immutable once made: safe to use from many
/// threads at once.
pub struct cbk_bot_session_client {
    client: Client,
}

/// The SDK's pre-2024 name for the bot session client.
#[allow(non_camel_case_types)]
pub type cbk_session_client = cbk_bot_session_client;

/// What the generic helpers need from a handle type.
pub(crate) trait Handle: Sized + Send + Sync + 'static {
    const KIND: SessionKind;
    fn wrap(client: Client) -> Self;
    fn client(&self) -> &Client;
}

impl Handle for cbk_conversation_session_client {
    const KIND: SessionKind = SessionKind::Conversation;
    fn wrap(client: Client) -> Self {
        Self { client }
    }
    fn client(&self) -> &Client {
        &self.client
    }
}

impl Handle for cbk_bot_session_client {
    const KIND: SessionKind = SessionKind::Bot;
    fn wrap(client: Client) -> Self {
        Self { client }
    }
    fn client(&self) -> &Client {
        &self.client
    }
}

// ---- conversation session client -------------------------------------

/// Create a conversation session client (`new ConversationSessionClient(options)`).
///
/// Every option is checked here, so that no later call fails on one.
///
/// @param options_json A JSON object of options (the options table of
///     libchatbotkit(3)), or NULL for `{}`. Borrowed for the call only.
/// @param[out] error NULL, or where to store a new error on failure (owned
///     by the caller, freed with cbk_error_free()); left untouched on success.
/// @return A new handle, owned by the caller and freed with
///     cbk_conversation_session_client_free(); NULL on failure, with `*error` set.
///
/// @par Errors
/// `CBK_ERROR_INVALID_JSON` for text that is not a JSON object, an unknown
/// option or a wrong type; `CBK_ERROR_INVALID_ARGUMENT` for invalid UTF-8 or
/// a value out of range or malformed, among them a `baseUrl` or `endpoints`
/// URL with credentials in it (`user:password@`, or `user@`), a header in
/// `headers` that frames the message (`content-length`, `transfer-encoding`,
/// `host`, `connection`, `keep-alive`, `upgrade`, `te`, `trailer`, in any
/// letter case) and more than 10,000 names in `headers`; `CBK_ERROR_INTERNAL`
/// for a bug. The message names the option, never its value; control
/// characters in a key it quotes are escaped (`\r`, `\n`, `\u{1b}`).
#[no_mangle]
pub unsafe extern "C" fn cbk_conversation_session_client_new(
    options_json: *const c_char,
    error: *mut *mut cbk_error,
) -> *mut cbk_conversation_session_client {
    // SAFETY: the caller passes NULL or a NUL-terminated string.
    guard(error, || unsafe { new_handle(options_json) })
}

/// Derive a client with merged options (`client.extend(options)`).
///
/// The merge is the SDK's: a shallow merge of `options_json` over the
/// client's effective options, except `headers` and `endpoints`, which merge
/// key by key. A `null` value resets that option to its default; a `null`
/// inside `headers` or `endpoints` removes that key.
///
/// The new handle is independent (free either, in any order) and shares the
/// connection pool when the transport options (`connectTimeout`,
/// `caCertificatePem`, `userAgent`, `proxy`, `http2`) are equal.
///
/// @param client The client to derive from; borrowed, and left unchanged.
/// @param options_json A JSON object of options to merge (the options table
///     of libchatbotkit(3)), or NULL for `{}` (a copy). Borrowed for the call.
/// @param[out] error NULL, or where to store a new error on failure (owned
///     by the caller, freed with cbk_error_free()); left untouched on success.
/// @return A new handle, owned by the caller and freed with
///     cbk_conversation_session_client_free(); NULL on failure, with `*error` set.
///
/// @par Errors
/// Those of cbk_conversation_session_client_new(), checked on the merged
/// options; `CBK_ERROR_INVALID_ARGUMENT` for a NULL `client`.
#[no_mangle]
pub unsafe extern "C" fn cbk_conversation_session_client_extend(
    client: *const cbk_conversation_session_client,
    options_json: *const c_char,
    error: *mut *mut cbk_error,
) -> *mut cbk_conversation_session_client {
    // SAFETY: the caller passes NULL or live pointers of these types.
    guard(error, || unsafe { extend_handle(client, options_json) })
}

/// Mint a conversation session (`client.create(conversationId, request)`).
///
/// Sends `POST {base}/api/v1/conversation/{conversation_id}/session/create`
/// with `request_json` as the body and blocks until the answer, retries
/// included. May be called from any thread, including from inside a task
/// callback (not from the log callback or a stream's `on_item`).
///
/// @param client The client; borrowed for the call.
/// @param conversation_id The conversation's id, percent-encoded as one path
///     segment. Borrowed for the call.
/// @param request_json The request body, a JSON object (the API's
///     `durationInSeconds`; see libchatbotkit(3)), sent as given; NULL sends
///     `{}`. Borrowed for the call.
/// @param[out] error NULL, or where to store a new error on failure (owned
///     by the caller, freed with cbk_error_free()); left untouched on success.
/// @return The response JSON text as the server sent it (e.g.
///     `{"id":...,"token":...,"expiresAt":...}`), owned by the caller and
///     freed with cbk_string_free(); NULL on failure, with `*error` set.
///
/// @par Errors
/// `CBK_ERROR_INVALID_ARGUMENT` (nothing is sent) for a NULL `client` or
/// `conversation_id`, invalid UTF-8, an id that is `""`, `"."` or `".."`, or
/// one that would make the URL longer than 65,534 bytes;
/// `CBK_ERROR_INVALID_JSON` for a `request_json` that is not a JSON object;
/// `CBK_ERROR_API` for a non-2xx answer after retries (the server's code and
/// HTTP status); `CBK_ERROR_TIMEOUT`, `CBK_ERROR_NETWORK`;
/// `CBK_ERROR_INVALID_RESPONSE` for a 2xx that is not JSON or is over
/// `maxResponseBytes`; `CBK_ERROR_INTERNAL` for a bug.
#[no_mangle]
pub unsafe extern "C" fn cbk_conversation_session_client_create(
    client: *const cbk_conversation_session_client,
    conversation_id: *const c_char,
    request_json: *const c_char,
    error: *mut *mut cbk_error,
) -> *mut c_char {
    // SAFETY: the caller passes NULL or live pointers of these types.
    guard(error, || unsafe {
        create(client, conversation_id, request_json)
    })
}

/// Mint a conversation session without blocking.
///
/// Checks the arguments now, then sends the request on the library's worker
/// threads and returns at once. The request and the outcome are those of
/// cbk_conversation_session_client_create().
///
/// @param client The client; borrowed for the call only (it may be freed
///     while the task is in flight).
/// @param conversation_id The conversation's id, as for
///     cbk_conversation_session_client_create(). Copied.
/// @param request_json The request body, a JSON object, or NULL for `{}`.
///     Copied.
/// @param callback Runs exactly once on a library thread with the outcome
///     (see ::cbk_callback); may be NULL, to collect the outcome with
///     cbk_task_wait() instead.
/// @param user_data Passed back to `callback` untouched.
/// @param[out] error NULL, or where to store a new error on failure (owned
///     by the caller, freed with cbk_error_free()); left untouched on success.
/// @return A task handle, owned by the caller and released with
///     cbk_task_free() (which does not cancel); wait for it with
///     cbk_task_wait() and cancel it with cbk_task_cancel(). NULL when the
///     arguments are refused, with `*error` set: the callback then never runs.
///
/// @par Errors
/// Returned at once: the argument errors of
/// cbk_conversation_session_client_create() (`CBK_ERROR_INVALID_ARGUMENT`,
/// `CBK_ERROR_INVALID_JSON`), or `CBK_ERROR_INTERNAL` when the worker threads
/// cannot start. Delivered to the callback: the request's errors, as for
/// cbk_conversation_session_client_create(), and `CBK_ERROR_CANCELLED`.
#[no_mangle]
pub unsafe extern "C" fn cbk_conversation_session_client_create_async(
    client: *const cbk_conversation_session_client,
    conversation_id: *const c_char,
    request_json: *const c_char,
    callback: cbk_callback,
    user_data: *mut c_void,
    error: *mut *mut cbk_error,
) -> *mut cbk_task {
    // SAFETY: the caller passes NULL or live pointers of these types.
    guard(error, || unsafe {
        create_async(client, conversation_id, request_json, callback, user_data)
    })
}

/// A raw SDK request (`client.clientFetch(path, options)`), blocking.
///
/// `options_json` takes `method`, `headers`, `query`, `record` (or `data`),
/// `buffer` (base64), `file` (`{name, type, data}` with base64 `data`),
/// `external`, `endpoint`, `timeout`, `retries`, `retryDelay`,
/// `retryTimeout` and `cache`. With both `record` and `data`, `record` is the
/// body, whatever the key order. `external` true leaves out `authorization`
/// and the run-as headers. A full URL as `path` (or as an `endpoints` target)
/// is requested as it is, with the client's credential, as the SDK sends it:
/// only ever pass one for an origin that may see your secret, or set
/// `external`.
///
/// `cache` (a string key) is the SDK's `cache(key)`: the first call with a
/// given key, method and URL on this handle sends the request; later ones
/// return the stored result and send nothing. Only successes are stored (the
/// SDK stores failures too: a deliberate difference), at most 1,000 per
/// handle, the least recently used dropped first; a handle made by
/// `_extend` starts with none.
///
/// Sent as fetch sends it: `method` as given, except that `delete`, `get`,
/// `head`, `options`, `post` and `put` (any letter case) are upper-cased
/// (`patch` stays `patch`); CR, LF and double quotes in a `file.name` as
/// `%0D`, `%0A` and `%22`, as `FormData` writes them; a `file.type` absent
/// or empty as `application/octet-stream`.
///
/// @param client The client; borrowed for the call.
/// @param path The request path (e.g. `/api/v1/bot/list`), resolved against
///     the base URL or replaced through `endpoints`; or a full URL. Borrowed.
/// @param options_json A JSON object of fetch options, or NULL for `{}`.
///     Borrowed for the call.
/// @param[out] error NULL, or where to store a new error on failure (owned
///     by the caller, freed with cbk_error_free()); left untouched on success.
/// @return The body of a JSON response; for any other 2xx,
///     `{"headers":{...},"data":"...","encoding":"base64"}` with the body
///     in base64 as `data`. Owned by the caller and freed with
///     cbk_string_free(); NULL on failure, with `*error` set.
///
/// @par Errors
/// `CBK_ERROR_INVALID_ARGUMENT`, with nothing sent, for a NULL `client` or
/// `path`, invalid UTF-8, and what fetch refuses: the methods `CONNECT`,
/// `TRACE` and `TRACK` (any letter case); a body (`record`, `data`, `buffer`
/// or `file`) with the method `GET` or `HEAD` (any letter case); a header in
/// `headers` that frames the message (the list of
/// cbk_conversation_session_client_new()), or more than 10,000 names there; a
/// `path` that resolves to a URL with credentials in it (`user:password@`) or
/// longer than 65,534 bytes (`query` included). `CBK_ERROR_INVALID_JSON` for
/// options that are not a JSON object, an unknown option or a wrong type.
/// `CBK_ERROR_INVALID_RESPONSE` for a JSON response whose body is
/// content-encoded (gzip, ...: the library asks for no compression and
/// decodes none), invalid JSON under a JSON content type, or a body over
/// `maxResponseBytes`. The request errors of
/// cbk_conversation_session_client_create() otherwise.
#[no_mangle]
pub unsafe extern "C" fn cbk_conversation_session_client_fetch(
    client: *const cbk_conversation_session_client,
    path: *const c_char,
    options_json: *const c_char,
    error: *mut *mut cbk_error,
) -> *mut c_char {
    // SAFETY: the caller passes NULL or live pointers of these types.
    guard(error, || unsafe { fetch(client, path, options_json) })
}

/// Receives one item of a stream: `item_json` is the JSON text of one line
/// of the body, borrowed for the call only (copy what you keep). Runs on the
/// thread that drives the stream, where the library's blocking functions
/// fail with `CBK_ERROR_INVALID_ARGUMENT`. Return 0 to go on, non-zero to
/// stop reading.
pub type cbk_stream_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, item_json: *const c_char) -> c_int>;

/// Stream a raw SDK request's body as JSON Lines (`clientFetch(...).stream()`).
///
/// The request is that of cbk_conversation_session_client_fetch(), plus
/// `accept: application/jsonl` (over the call's own `accept`). The body is
/// read as JSON Lines whatever its content type: each line holding a JSON
/// value is passed to `on_item` as soon as it has arrived, as its text
/// without surrounding whitespace; a last line without a newline counts;
/// blank lines are skipped (the SDK throws on them); a UTF-8 character split
/// across network reads arrives whole.
///
/// `maxResponseBytes` bounds one line. `timeout` bounds the wait for the
/// response headers, then each wait for the next line. A non-2xx answer is
/// retried as for cbk_conversation_session_client_fetch(); nothing is retried
/// once the body is being read.
///
/// @param client The client; borrowed for the call.
/// @param path The request path or full URL, as for
///     cbk_conversation_session_client_fetch(). Borrowed.
/// @param options_json Fetch options, as for
///     cbk_conversation_session_client_fetch(), or NULL for `{}`. Borrowed.
/// @param on_item Called once per item, in order (see ::cbk_stream_callback);
///     must not be NULL. It runs on the calling thread (on a library thread
///     only when every lane of the library is busy, or when called from a
///     thread of a tokio current-thread runtime) and must not call the
///     library's blocking functions, which fail there with
///     `CBK_ERROR_INVALID_ARGUMENT`.
/// @param user_data Passed back to `on_item` untouched.
/// @param[out] error NULL, or where to store a new error on failure (owned
///     by the caller, freed with cbk_error_free()); left untouched on success.
/// @return `CBK_OK` when the body ended or `on_item` returned non-zero (the
///     connection is then closed, not read to the end); any other status with
///     `*error` set.
///
/// @par Errors
/// Those of cbk_conversation_session_client_fetch();
/// `CBK_ERROR_INVALID_ARGUMENT` for a NULL `on_item`;
/// `CBK_ERROR_INVALID_RESPONSE` for a line that is not JSON (after the items
/// before it) or longer than `maxResponseBytes`.
#[no_mangle]
pub unsafe extern "C" fn cbk_conversation_session_client_fetch_stream(
    client: *const cbk_conversation_session_client,
    path: *const c_char,
    options_json: *const c_char,
    on_item: cbk_stream_callback,
    user_data: *mut c_void,
    error: *mut *mut cbk_error,
) -> cbk_status {
    // SAFETY: the caller passes NULL or live pointers of these types.
    guard_status(error, || unsafe {
        fetch_stream(client, path, options_json, on_item, user_data)
    })
}

/// A raw SDK request without blocking: the request and result of
/// cbk_conversation_session_client_fetch(), delivered as
/// cbk_conversation_session_client_create_async() delivers a session.
///
/// @param client The client; borrowed for the call only (it may be freed
///     while the task is in flight).
/// @param path The request path or full URL, as for
///     cbk_conversation_session_client_fetch(). Copied.
/// @param options_json Fetch options, or NULL for `{}`. Copied.
/// @param callback Runs exactly once on a library thread with the result
///     JSON or the error (see ::cbk_callback); may be NULL.
/// @param user_data Passed back to `callback` untouched.
/// @param[out] error NULL, or where to store a new error on failure (owned
///     by the caller, freed with cbk_error_free()); left untouched on success.
/// @return A task handle, owned by the caller and released with
///     cbk_task_free(); wait with cbk_task_wait(), cancel with
///     cbk_task_cancel(). NULL when the arguments are refused, with `*error`
///     set: the callback then never runs.
///
/// @par Errors
/// Returned at once: the argument errors of
/// cbk_conversation_session_client_fetch(). Delivered to the callback: its
/// request errors, and `CBK_ERROR_CANCELLED`.
#[no_mangle]
pub unsafe extern "C" fn cbk_conversation_session_client_fetch_async(
    client: *const cbk_conversation_session_client,
    path: *const c_char,
    options_json: *const c_char,
    callback: cbk_callback,
    user_data: *mut c_void,
    error: *mut *mut cbk_error,
) -> *mut cbk_task {
    // SAFETY: the caller passes NULL or live pointers of these types.
    guard(error, || unsafe {
        fetch_async(client, path, options_json, callback, user_data)
    })
}

/// cbk_conversation_session_client_fetch_stream() without blocking.
///
/// `on_item` runs once per item, in order, on a library thread; then
/// `on_done` runs exactly once, as a cbk_conversation_session_client_create_async()
/// callback: on success with `{"items":N,"stopped":true|false}` (N counts
/// every `on_item` call, the one that asked to stop included), else with the
/// error. cbk_task_wait() returns what `on_done` got.
///
/// @param client The client; borrowed for the call only (it may be freed
///     while the task is in flight).
/// @param path The request path or full URL. Copied.
/// @param options_json Fetch options, or NULL for `{}`. Copied.
/// @param on_item Called once per item (see ::cbk_stream_callback); must not
///     be NULL, and must not call the library's blocking functions.
/// @param on_done Called once at the end (see ::cbk_callback); may be NULL.
/// @param user_data Passed back to `on_item` and `on_done` untouched.
/// @param[out] error NULL, or where to store a new error on failure (owned
///     by the caller, freed with cbk_error_free()); left untouched on success.
/// @return A task handle, owned by the caller and released with
///     cbk_task_free(). cbk_task_cancel() stops the reading and closes the
///     connection. NULL when the arguments are refused, with `*error` set:
///     neither callback then runs.
///
/// @par Errors
/// Returned at once: the argument errors of
/// cbk_conversation_session_client_fetch_stream(). Delivered to `on_done`:
/// its request and stream errors, and `CBK_ERROR_CANCELLED` after
/// cbk_task_cancel().
#[no_mangle]
pub unsafe extern "C" fn cbk_conversation_session_client_fetch_stream_async(
    client: *const cbk_conversation_session_client,
    path: *const c_char,
    options_json: *const c_char,
    on_item: cbk_stream_callback,
    on_done: cbk_callback,
    user_data: *mut c_void,
    error: *mut *mut cbk_error,
) -> *mut cbk_task {
    // SAFETY: the caller passes NULL or live pointers of these types.
    guard(error, || unsafe {
        fetch_stream_async(client, path, options_json, on_item, on_done, user_data)
    })
}

/// The client's effective options as JSON (the SDK's `url` and `secret`
/// properties, and the rest): `baseUrl` with `host`/`protocol` applied,
/// merged `headers` and `endpoints`, defaults filled in. Valid input for
/// cbk_conversation_session_client_new().
///
/// This is the one output that contains the secret (and a proxy's
/// password): handle it as such.
///
/// @param client The client; borrowed for the call.
/// @param[out] error NULL, or where to store a new error on failure (owned
///     by the caller, freed with cbk_error_free()); left untouched on success.
/// @return The options JSON text, owned by the caller and freed with
///     cbk_string_free(); NULL on failure, with `*error` set.
///
/// @par Errors
/// `CBK_ERROR_INVALID_ARGUMENT` for a NULL `client`.
#[no_mangle]
pub unsafe extern "C" fn cbk_conversation_session_client_options(
    client: *const cbk_conversation_session_client,
    error: *mut *mut cbk_error,
) -> *mut c_char {
    // SAFETY: the caller passes NULL or a live handle.
    guard(error, || unsafe { options(client) })
}

/// Free a conversation session client.
///
/// Tasks started from it go on, and handles derived from it with
/// cbk_conversation_session_client_extend() stay valid. The last handle that
/// uses a connection pool closes its idle connections.
///
/// @param client The handle, owned by the caller and given up here; NULL is
///     accepted and ignored. Never free a handle twice.
#[no_mangle]
pub unsafe extern "C" fn cbk_conversation_session_client_free(
    client: *mut cbk_conversation_session_client,
) {
    // SAFETY: the caller passes NULL or a handle it owns.
    unsafe { free(client) }
}

// ---- bot session client ----------------------------------------------

/// Create a bot session client (`new BotSessionClient(options)`).
///
/// The options, and the rules for them, are those of
/// cbk_conversation_session_client_new().
///
/// @param options_json A JSON object of options (the options table of
///     libchatbotkit(3)), or NULL for `{}`. Borrowed for the call only.
/// @param[out] error NULL, or where to store a new error on failure (owned
///     by the caller, freed with cbk_error_free()); left untouched on success.
/// @return A new handle, owned by the caller and freed with
///     cbk_bot_session_client_free(); NULL on failure, with `*error` set.
///
/// @par Errors
/// Those of cbk_conversation_session_client_new().
#[no_mangle]
pub unsafe extern "C" fn cbk_bot_session_client_new(
    options_json: *const c_char,
    error: *mut *mut cbk_error,
) -> *mut cbk_bot_session_client {
    // SAFETY: the caller passes NULL or a NUL-terminated string.
    guard(error, || unsafe { new_handle(options_json) })
}

/// Derive a bot session client with merged options (`client.extend(options)`);
/// the merge is that of cbk_conversation_session_client_extend().
///
/// @param client The client to derive from; borrowed, and left unchanged.
/// @param options_json A JSON object of options to merge, or NULL for `{}`
///     (a copy). Borrowed for the call.
/// @param[out] error NULL, or where to store a new error on failure (owned
///     by the caller, freed with cbk_error_free()); left untouched on success.
/// @return A new, independent handle, owned by the caller and freed with
///     cbk_bot_session_client_free(); NULL on failure, with `*error` set.
///
/// @par Errors
/// Those of cbk_conversation_session_client_extend().
#[no_mangle]
pub unsafe extern "C" fn cbk_bot_session_client_extend(
    client: *const cbk_bot_session_client,
    options_json: *const c_char,
    error: *mut *mut cbk_error,
) -> *mut cbk_bot_session_client {
    // SAFETY: the caller passes NULL or live pointers of these types.
    guard(error, || unsafe { extend_handle(client, options_json) })
}

/// Mint a bot session (`client.create(botId, request)`), blocking.
///
/// Sends `POST {base}/api/v1/bot/{bot_id}/session/create`; otherwise the
/// same rules as cbk_conversation_session_client_create().
///
/// @param client The client; borrowed for the call.
/// @param bot_id The bot's id, percent-encoded as one path segment. Borrowed.
/// @param request_json The request body, a JSON object (the API's
///     `durationInSeconds`, `messages`, `meta`; see libchatbotkit(3)), sent as
///     given; NULL sends `{}`. Borrowed for the call.
/// @param[out] error NULL, or where to store a new error on failure (owned
///     by the caller, freed with cbk_error_free()); left untouched on success.
/// @return The response JSON text as the server sent it (e.g.
///     `{"id":...,"conversationId":...,"token":...,"expiresAt":...}`: the
///     session is for a new conversation), owned by the caller and freed with
///     cbk_string_free(); NULL on failure, with `*error` set.
///
/// @par Errors
/// Those of cbk_conversation_session_client_create(), for `bot_id`.
#[no_mangle]
pub unsafe extern "C" fn cbk_bot_session_client_create(
    client: *const cbk_bot_session_client,
    bot_id: *const c_char,
    request_json: *const c_char,
    error: *mut *mut cbk_error,
) -> *mut c_char {
    // SAFETY: the caller passes NULL or live pointers of these types.
    guard(error, || unsafe { create(client, bot_id, request_json) })
}

/// Mint a bot session without blocking; the same rules as
/// cbk_conversation_session_client_create_async(), for the request of
/// cbk_bot_session_client_create().
///
/// @param client The client; borrowed for the call only (it may be freed
///     while the task is in flight).
/// @param bot_id The bot's id. Copied.
/// @param request_json The request body, a JSON object, or NULL for `{}`.
///     Copied.
/// @param callback Runs exactly once on a library thread with the outcome
///     (see ::cbk_callback); may be NULL.
/// @param user_data Passed back to `callback` untouched.
/// @param[out] error NULL, or where to store a new error on failure (owned
///     by the caller, freed with cbk_error_free()); left untouched on success.
/// @return A task handle, owned by the caller and released with
///     cbk_task_free(); NULL when the arguments are refused, with `*error`
///     set: the callback then never runs.
///
/// @par Errors
/// Those of cbk_conversation_session_client_create_async().
#[no_mangle]
pub unsafe extern "C" fn cbk_bot_session_client_create_async(
    client: *const cbk_bot_session_client,
    bot_id: *const c_char,
    request_json: *const c_char,
    callback: cbk_callback,
    user_data: *mut c_void,
    error: *mut *mut cbk_error,
) -> *mut cbk_task {
    // SAFETY: the caller passes NULL or live pointers of these types.
    guard(error, || unsafe {
        create_async(client, bot_id, request_json, callback, user_data)
    })
}

/// A raw SDK request (`client.clientFetch(path, options)`), blocking; the
/// same rules as cbk_conversation_session_client_fetch(), including that a
/// full URL as `path` is sent the client's credential unless `external` is
/// set.
///
/// @param client The client; borrowed for the call.
/// @param path The request path, or a full URL. Borrowed.
/// @param options_json A JSON object of fetch options, or NULL for `{}`.
///     Borrowed.
/// @param[out] error NULL, or where to store a new error on failure (owned
///     by the caller, freed with cbk_error_free()); left untouched on success.
/// @return The body of a JSON response, or the base64 form of any other 2xx
///     (see cbk_conversation_session_client_fetch()); owned by the caller and
///     freed with cbk_string_free(). NULL on failure, with `*error` set.
///
/// @par Errors
/// Those of cbk_conversation_session_client_fetch().
#[no_mangle]
pub unsafe extern "C" fn cbk_bot_session_client_fetch(
    client: *const cbk_bot_session_client,
    path: *const c_char,
    options_json: *const c_char,
    error: *mut *mut cbk_error,
) -> *mut c_char {
    // SAFETY: the caller passes NULL or live pointers of these types.
    guard(error, || unsafe { fetch(client, path, options_json) })
}

/// Stream a raw SDK request's body as JSON Lines, blocking; the same rules as
/// cbk_conversation_session_client_fetch_stream().
///
/// @param client The client; borrowed for the call.
/// @param path The request path, or a full URL. Borrowed.
/// @param options_json Fetch options, or NULL for `{}`. Borrowed.
/// @param on_item Called once per item, in order (see ::cbk_stream_callback);
///     must not be NULL, and must not call the library's blocking functions.
/// @param user_data Passed back to `on_item` untouched.
/// @param[out] error NULL, or where to store a new error on failure (owned
///     by the caller, freed with cbk_error_free()); left untouched on success.
/// @return `CBK_OK` when the body ended or `on_item` returned non-zero; any
///     other status with `*error` set.
///
/// @par Errors
/// Those of cbk_conversation_session_client_fetch_stream().
#[no_mangle]
pub unsafe extern "C" fn cbk_bot_session_client_fetch_stream(
    client: *const cbk_bot_session_client,
    path: *const c_char,
    options_json: *const c_char,
    on_item: cbk_stream_callback,
    user_data: *mut c_void,
    error: *mut *mut cbk_error,
) -> cbk_status {
    // SAFETY: the caller passes NULL or live pointers of these types.
    guard_status(error, || unsafe {
        fetch_stream(client, path, options_json, on_item, user_data)
    })
}

/// A raw SDK request without blocking; the same rules as
/// cbk_conversation_session_client_fetch_async().
///
/// @param client The client; borrowed for the call only (it may be freed
///     while the task is in flight).
/// @param path The request path, or a full URL. Copied.
/// @param options_json Fetch options, or NULL for `{}`. Copied.
/// @param callback Runs exactly once on a library thread with the result
///     JSON or the error (see ::cbk_callback); may be NULL.
/// @param user_data Passed back to `callback` untouched.
/// @param[out] error NULL, or where to store a new error on failure (owned
///     by the caller, freed with cbk_error_free()); left untouched on success.
/// @return A task handle, owned by the caller and released with
///     cbk_task_free(); NULL when the arguments are refused, with `*error`
///     set: the callback then never runs.
///
/// @par Errors
/// Those of cbk_conversation_session_client_fetch_async().
#[no_mangle]
pub unsafe extern "C" fn cbk_bot_session_client_fetch_async(
    client: *const cbk_bot_session_client,
    path: *const c_char,
    options_json: *const c_char,
    callback: cbk_callback,
    user_data: *mut c_void,
    error: *mut *mut cbk_error,
) -> *mut cbk_task {
    // SAFETY: the caller passes NULL or live pointers of these types.
    guard(error, || unsafe {
        fetch_async(client, path, options_json, callback, user_data)
    })
}

/// A JSON Lines stream without blocking; the same rules as
/// cbk_conversation_session_client_fetch_stream_async().
///
/// @param client The client; borrowed for the call only (it may be freed
///     while the task is in flight).
/// @param path The request path, or a full URL. Copied.
/// @param options_json Fetch options, or NULL for `{}`. Copied.
/// @param on_item Called once per item (see ::cbk_stream_callback); must not
///     be NULL, and must not call the library's blocking functions.
/// @param on_done Called once at the end (see ::cbk_callback); may be NULL.
/// @param user_data Passed back to `on_item` and `on_done` untouched.
/// @param[out] error NULL, or where to store a new error on failure (owned
///     by the caller, freed with cbk_error_free()); left untouched on success.
/// @return A task handle, owned by the caller and released with
///     cbk_task_free(); NULL when the arguments are refused, with `*error`
///     set: neither callback then runs.
///
/// @par Errors
/// Those of cbk_conversation_session_client_fetch_stream_async().
#[no_mangle]
pub unsafe extern "C" fn cbk_bot_session_client_fetch_stream_async(
    client: *const cbk_bot_session_client,
    path: *const c_char,
    options_json: *const c_char,
    on_item: cbk_stream_callback,
    on_done: cbk_callback,
    user_data: *mut c_void,
    error: *mut *mut cbk_error,
) -> *mut cbk_task {
    // SAFETY: the caller passes NULL or live pointers of these types.
    guard(error, || unsafe {
        fetch_stream_async(client, path, options_json, on_item, on_done, user_data)
    })
}

/// The client's effective options as JSON; the same rules as
/// cbk_conversation_session_client_options(). This output contains the
/// secret: handle it as such.
///
/// @param client The client; borrowed for the call.
/// @param[out] error NULL, or where to store a new error on failure (owned
///     by the caller, freed with cbk_error_free()); left untouched on success.
/// @return The options JSON text, owned by the caller and freed with
///     cbk_string_free(); NULL on failure, with `*error` set.
///
/// @par Errors
/// `CBK_ERROR_INVALID_ARGUMENT` for a NULL `client`.
#[no_mangle]
pub unsafe extern "C" fn cbk_bot_session_client_options(
    client: *const cbk_bot_session_client,
    error: *mut *mut cbk_error,
) -> *mut c_char {
    // SAFETY: the caller passes NULL or a live handle.
    guard(error, || unsafe { options(client) })
}

/// Free a bot session client; the same rules as
/// cbk_conversation_session_client_free().
///
/// @param client The handle, owned by the caller and given up here; NULL is
///     accepted and ignored. Never free a handle twice.
#[no_mangle]
pub unsafe extern "C" fn cbk_bot_session_client_free(client: *mut cbk_bot_session_client) {
    // SAFETY: the caller passes NULL or a handle it owns.
    unsafe { free(client) }
}

// ---- the generic helpers -----------------------------------------------

/// # Safety
/// `options_json` is NULL or a NUL-terminated string.
unsafe fn new_handle<H: Handle>(options_json: *const c_char) -> Result<*mut H> {
    // SAFETY: forwarded from the caller.
    let json = unsafe { arg_opt_str(options_json, "options_json") }?;
    let client = Client::new(&OptionsPatch::parse(json)?)?;
    Ok(Box::into_raw(Box::new(H::wrap(client))))
}

/// # Safety
/// `client` is NULL or a live handle; `options_json` NULL or a C string.
unsafe fn extend_handle<H: Handle>(
    client: *const H,
    options_json: *const c_char,
) -> Result<*mut H> {
    // SAFETY: forwarded from the caller.
    let (handle, json) = unsafe {
        (
            arg_ref(client, "client")?,
            arg_opt_str(options_json, "options_json")?,
        )
    };
    let derived = handle.client().extend(&OptionsPatch::parse(json)?)?;
    Ok(Box::into_raw(Box::new(H::wrap(derived))))
}

/// # Safety
/// `client` is NULL or a live handle; the strings NULL or C strings.
unsafe fn create<H: Handle>(
    client: *const H,
    id: *const c_char,
    request_json: *const c_char,
) -> Result<*mut c_char> {
    // SAFETY: forwarded from the caller.
    let (handle, id, request_json) = unsafe {
        (
            arg_ref(client, "client")?,
            arg_str(id, H::KIND.id_name())?,
            arg_opt_str(request_json, "request_json")?,
        )
    };
    let client = handle.client();
    let request = client.session_request(H::KIND, id, request_json)?;
    let client = client.clone();
    Ok(into_raw_string(block_on(async move {
        client.create_session(request).await
    })?))
}

/// # Safety
/// `client` is NULL or a live handle; the strings NULL or C strings.
unsafe fn create_async<H: Handle>(
    client: *const H,
    id: *const c_char,
    request_json: *const c_char,
    callback: cbk_callback,
    user_data: *mut c_void,
) -> Result<*mut cbk_task> {
    // SAFETY: forwarded from the caller.
    let (handle, id, request_json) = unsafe {
        (
            arg_ref(client, "client")?,
            arg_str(id, H::KIND.id_name())?,
            arg_opt_str(request_json, "request_json")?,
        )
    };
    let client = handle.client().clone();
    let request = client.session_request(H::KIND, id, request_json)?;
    let what = format!("{} {}", request.method, request.url.path());
    super::task::spawn(
        async move { client.create_session(request).await },
        what,
        callback,
        user_data,
    )
}

/// # Safety
/// `client` is NULL or a live handle; the strings NULL or C strings.
unsafe fn fetch<H: Handle>(
    client: *const H,
    path: *const c_char,
    options_json: *const c_char,
) -> Result<*mut c_char> {
    // SAFETY: forwarded from the caller.
    let (handle, path, options_json) = unsafe {
        (
            arg_ref(client, "client")?,
            arg_str(path, "path")?,
            arg_opt_str(options_json, "options_json")?,
        )
    };
    let client = handle.client();
    let (request, policy) = client.fetch_request(path, options_json)?;
    let client = client.clone();
    Ok(into_raw_string(block_on(async move {
        client.fetch(request, policy).await
    })?))
}

/// The host's item callback and its user data, moved into the request's
/// future (which runs on the calling thread, see the export's doc).
struct OnItem {
    function: unsafe extern "C" fn(*mut c_void, *const c_char) -> c_int,
    user_data: *mut c_void,
}
// SAFETY: the host hands the pointer to a callback that the header documents
// as running on the calling thread, or a library thread; that is the contract.
unsafe impl Send for OnItem {}

impl OnItem {
    /// Hand `item` to the host; true to go on.
    fn call(&self, item: &str) -> bool {
        let text = to_c_string(item.to_owned());
        crate::runtime::no_blocking("a stream callback", || {
            // The host's callback, with its own user data.
            // SAFETY: and a string valid for the call.
            unsafe { (self.function)(self.user_data, text.as_ptr()) == 0 }
        })
    }
}

/// # Safety
/// `client` is NULL or a live handle; the strings NULL or C strings.
unsafe fn fetch_stream<H: Handle>(
    client: *const H,
    path: *const c_char,
    options_json: *const c_char,
    on_item: cbk_stream_callback,
    user_data: *mut c_void,
) -> Result<()> {
    // SAFETY: forwarded from the caller.
    let (handle, path, options_json) = unsafe {
        (
            arg_ref(client, "client")?,
            arg_str(path, "path")?,
            arg_opt_str(options_json, "options_json")?,
        )
    };
    let Some(function) = on_item else {
        return Err(crate::client::Error::invalid_argument("`on_item` is NULL"));
    };
    let client = handle.client();
    let (request, policy) = client.stream_request(path, options_json)?;
    let client = client.clone();
    let host = OnItem {
        function,
        user_data,
    };
    block_on(async move {
        let mut on_item = move |item: &str| host.call(item);
        client.stream(request, policy, &mut on_item).await.map(drop)
    })
}

/// # Safety
/// `client` is NULL or a live handle; the strings NULL or C strings.
unsafe fn fetch_async<H: Handle>(
    client: *const H,
    path: *const c_char,
    options_json: *const c_char,
    callback: cbk_callback,
    user_data: *mut c_void,
) -> Result<*mut cbk_task> {
    // SAFETY: forwarded from the caller.
    let (handle, path, options_json) = unsafe {
        (
            arg_ref(client, "client")?,
            arg_str(path, "path")?,
            arg_opt_str(options_json, "options_json")?,
        )
    };
    let client = handle.client().clone();
    let (request, policy) = client.fetch_request(path, options_json)?;
    let what = format!("{} {}", request.method, request.url.path());
    super::task::spawn(
        async move { client.fetch(request, policy).await },
        what,
        callback,
        user_data,
    )
}

/// # Safety
/// `client` is NULL or a live handle; the strings NULL or C strings.
unsafe fn fetch_stream_async<H: Handle>(
    client: *const H,
    path: *const c_char,
    options_json: *const c_char,
    on_item: cbk_stream_callback,
    on_done: cbk_callback,
    user_data: *mut c_void,
) -> Result<*mut cbk_task> {
    // SAFETY: forwarded from the caller.
    let (handle, path, options_json) = unsafe {
        (
            arg_ref(client, "client")?,
            arg_str(path, "path")?,
            arg_opt_str(options_json, "options_json")?,
        )
    };
    let Some(function) = on_item else {
        return Err(crate::client::Error::invalid_argument("`on_item` is NULL"));
    };
    let client = handle.client().clone();
    let (request, policy) = client.stream_request(path, options_json)?;
    let what = format!("{} {}", request.method, request.url.path());
    let host = OnItem {
        function,
        user_data,
    };
    super::task::spawn(
        async move {
            let mut on_item = move |item: &str| host.call(item);
            let done = client.stream(request, policy, &mut on_item).await?;
            Ok(format!(
                "{{\"items\":{},\"stopped\":{}}}",
                done.items, done.stopped
            ))
        },
        what,
        on_done,
        user_data,
    )
}

/// # Safety
/// `client` is NULL or a live handle.
unsafe fn options<H: Handle>(client: *const H) -> Result<*mut c_char> {
    // SAFETY: forwarded from the caller.
    let handle = unsafe { arg_ref(client, "client") }?;
    Ok(into_raw_string(
        handle.client().options().to_json().to_string(),
    ))
}

/// # Safety
/// `client` is NULL or a handle the caller owns and gives up.
unsafe fn free<H: Handle>(client: *mut H) {
    if client.is_null() {
        return;
    }
    guard_or((), || {
        // Made by Box::into_raw in new_handle/extend_handle.
        // SAFETY: the caller gives up ownership here, once.
        drop(unsafe { Box::from_raw(client) })
    })
}

// The handles are shared across threads by C callers.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<cbk_conversation_session_client>();
    assert_send_sync::<cbk_bot_session_client>();
    assert_send_sync::<cbk_error>();
};
