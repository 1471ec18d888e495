/*
 * chatbotkit.h - libchatbotkit, the ChatBotKit session clients for C.
 *
 * Mint short-lived ChatBotKit client tokens (conversation sessions and bot
 * sessions) from C, C++ or any language with a C FFI. The reference
 * behaviour is the official Node SDK, @chatbotkit/sdk: the same options,
 * URLs, headers, bodies, retries and error codes.
 *
 * Conventions
 * -----------
 * - Data goes in and out as UTF-8 JSON text. Invalid UTF-8 is refused.
 * - Every function that can fail takes `cbk_error **error` last. On failure
 *   it returns NULL and, when `error` is not NULL, stores a new error there,
 *   owned by the caller and freed with cbk_error_free(). On success `*error`
 *   is left untouched. Passing NULL for `error` is allowed.
 * - Every `char *` the library returns is owned by the caller and freed with
 *   cbk_string_free(). `const char *` results are borrowed (see each one).
 * - Every `_free` function, cbk_string_free() and cbk_error_free() accept NULL.
 * - A NULL or invalid argument is an error (CBK_ERROR_INVALID_ARGUMENT,
 *   naming the argument), never a crash. No panic crosses this boundary.
 * - The secret never appears in an error message or a log line; only
 *   cbk_*_options() returns it.
 *
 * Thread safety
 * -------------
 * - Every handle is immutable once made and safe to use from many threads
 *   at once. Errors are immutable too.
 * - Blocking calls (the creates, the fetches, cbk_task_wait) may be made
 *   from any thread, including from inside a task callback, without
 *   deadlock. Blocking calls from many threads run in parallel, on as many
 *   cores: no thread's request waits for another thread's I/O.
 * - A blocking call does its own I/O on the calling thread, with no hand-off
 *   to a library thread, as a libcurl easy handle does. It borrows one of
 *   the library's "lanes" (event loops that hold the connection pools: up
 *   to four per core, 8 to 256) for the length of the call. So connections
 *   are shared between threads, and a thread made for one call reuses the
 *   connection of an earlier one. When every lane is busy, the call runs on
 *   the worker threads instead while the caller waits; so does a call from
 *   a thread of a tokio current-thread runtime of your own (its
 *   spawn_blocking threads included), which cannot enter another runtime.
 * - Async tasks run on the worker threads: one per core (two at least),
 *   started by the first async call. Task callbacks run on the worker that
 *   finished the task, so callbacks of different tasks may run at the same
 *   time on different threads; each task's callback runs exactly once.
 *   Keep callbacks short. One that makes a blocking library call (a create,
 *   cbk_task_wait) first hands its worker's other work to another thread,
 *   so nothing stalls (up to 4096 callbacks may block at once). One that
 *   blocks any other way (sleeps, waits on your own lock) holds up its
 *   worker and the one task that worker set aside to run next, which is
 *   often a task the callback itself just started: to wait for the library
 *   from a callback, use cbk_task_wait, never your own lock.
 * - Every library thread that runs your code (workers, and the threads that
 *   stand in for them) has an 8 MiB stack, as a glibc thread does.
 * - Pooled connections are checked before reuse: one that the server closed,
 *   or that received bytes while idle, is never used for a request. While
 *   lanes hold idle connections (or their pools' idle timers), a
 *   housekeeping thread looks at them once a second, so that connections
 *   the server closed are closed within a second, and connections idle for
 *   90 seconds within 90 more, even when no call comes; with nothing to
 *   watch, it sleeps.
 *   Freeing the last handle that uses a pool closes its idle connections,
 *   and a response with `Connection: close` has its socket closed before
 *   the call returns.
 * - fork(): the child may use the library, with handles made in the parent:
 *   its first call builds new lanes, workers and connection pools (which it
 *   then reuses); the parent is unaffected. No lock or counter of a
 *   library thread is used in the child, so a fork while other threads
 *   are inside library calls (or the log callback) is safe, except while
 *   one is inside _new, _extend or cbk_set_log_callback, whose locks would
 *   stay held in the child. Tasks started before fork() run and call back
 *   in the parent only: in the child, cbk_task_wait on such a task fails at
 *   once with CBK_ERROR_INVALID_ARGUMENT and cbk_task_cancel does nothing.
 *   A child forked from inside a library callback must exec() or _exit()
 *   before it returns from the callback.
 * - The log callback may run on any thread, several at once, possibly while
 *   the library drives requests on that thread: the blocking functions fail
 *   there with CBK_ERROR_INVALID_ARGUMENT. It may call
 *   cbk_set_log_callback (the change applies from the next line on).
 * - SIGPIPE: the library never raises it in your process, whatever its
 *   disposition (a write to a connection the server has closed would). It
 *   blocks SIGPIPE on a calling thread for the length of a call, taking off
 *   any SIGPIPE the call raised before it returns (a SIGPIPE sent to the
 *   whole process meanwhile is taken too; where your thread already blocks
 *   SIGPIPE, the library leaves it so). It changes no signal's disposition
 *   and leaves your threads' masks as it found them (a blocking call costs
 *   three system calls for this). The library's own threads block every
 *   asynchronous signal, so your handlers and sigwait() never see them.
 * - The library is marked not unloadable (-z nodelete): dlclose() leaves it
 *   loaded, with its threads and pools, so loading and unloading it again
 *   and again leaks nothing.
 *
 * Requests, retries and timeouts
 * ------------------------------
 * - Ids are percent-encoded as one path segment (`/ ? # % \`, spaces,
 *   controls and non-ASCII are encoded); "", "." and ".." are refused and
 *   nothing is sent. (The Node SDK pastes ids raw: a deliberate difference.)
 * - Headers, later wins, names compared case-insensitively:
 *   `cache-control: max-age=0`; the options' `headers`; `authorization`,
 *   `x-runas-user-id`, `x-runas-child-user-email` (not for a fetch with
 *   `external`); `x-timezone`; `content-type`; the fetch call's `headers`.
 *   Within the options' `headers`, a later `extend` wins over an earlier
 *   generation whatever the letter case of either name, and `null` removes
 *   the name in any letter case. (Node joins values whose names differ only
 *   in case; we keep the later.)
 * - An attempt that fails with a network error before the response headers,
 *   or answers 429, 500, 502, 503 or 504, is retried up to `retries` times,
 *   waiting `retryDelay`, then twice that, and so on. A `Retry-After` on a
 *   429 or 503 (seconds or an HTTP date) makes a wait longer, never shorter,
 *   capped at 60 s. A timed-out attempt is retried only when `retryTimeout`
 *   is true. Failures while reading a body, bodies over `maxResponseBytes`
 *   and cancellations are never retried. When retries run out on a
 *   retryable status, the error is made from that last response.
 * - Redirects are followed as fetch follows them, at most 20: 303, and
 *   301/302 after a POST, become a GET without a body; 307/308 resend the
 *   request. A redirect that leaves the origin (scheme, host or port) drops
 *   `authorization` and cookies for that hop and every later one.
 * - `timeout` bounds each attempt up to the response headers; reading the
 *   body gets the same duration again. `0` or absent: no timeout.
 *
 * Proxies and HTTP/2
 * ------------------
 * - `proxy` (an http://, https:// or socks5:// URL, optionally with
 *   user:password@): every request goes through it; "" = none; absent: the
 *   environment's HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and NO_PROXY, as
 *   libcurl reads them. https requests tunnel through CONNECT, so the proxy
 *   never sees the bearer token. Proxy credentials never appear in an error
 *   or a log line. A connection that cannot be made through the proxy is
 *   CBK_ERROR_NETWORK, naming the proxy's host and port.
 * - `http2` (default true): HTTP/2 is offered to TLS servers through ALPN;
 *   requests in flight to one host then share one connection. Async
 *   requests to a host not heard from in the last 90 seconds wait until the
 *   first of them is connected (the handshake tells whether the server
 *   speaks HTTP/2), then all go at once. false = HTTP/1.1. Plain http: is
 *   always HTTP/1.1.
 *
 * TLS
 * ---
 * - Trusted by default: the system's trust store, what OpenSSL-based tools
 *   on the machine (curl) trust, with SSL_CERT_FILE and SSL_CERT_DIR
 *   honoured; read once per process, at the first TLS connection, on the
 *   thread that makes it (no thread is started). Only where it holds no
 *   usable certificate are the bundled Mozilla roots used.
 * - `caCertificatePem` (one or more PEM certificates) adds to that set: each
 *   is a root, and a server presenting exactly one of them is trusted too
 *   (pinned), even when it is marked as a CA. Text that is not a readable
 *   certificate fails at _new with CBK_ERROR_INVALID_ARGUMENT.
 * - A certificate is refused when it is expired or not yet valid (a
 *   `caCertificatePem` one too, pinned or the root a chain ends at), is for
 *   another host name, or chains to no trusted root: CBK_ERROR_NETWORK, with
 *   a message that says which and names the host, e.g. "certificate for
 *   127.0.0.1 expired on 2025-01-01 00:00:00 UTC", "certificate is not
 *   valid for host 127.0.0.1 (it is for localhost)", "server 127.0.0.1
 *   answered plain HTTP to a TLS request".
 *
 * Ownership and shutdown order
 * ----------------------------
 * Free strings and errors when done with them; free handles in any order
 * (a derived handle does not depend on its parent). Nothing needs to be
 * called at exit.
 */


#ifndef CHATBOTKIT_H
#define CHATBOTKIT_H

/* Generated by cbindgen from the Rust sources (`make header`). Do not edit by hand. */

#include <stddef.h>
#include <stdint.h>

/** The version of this header, as text; cbk_version() gives the library's. */
#define CHATBOTKIT_VERSION "0.1.0"
/** The major version of this header: a new major version is a new soname. */
#define CHATBOTKIT_VERSION_MAJOR 0
/** The minor version of this header: a minor release only adds. */
#define CHATBOTKIT_VERSION_MINOR 1
/** The patch version of this header. */
#define CHATBOTKIT_VERSION_PATCH 0


/**
 * What kind of failure a `cbk_error` reports. The numbers are part of the
 * ABI and are never reused.
 */
typedef enum cbk_status {
  /**
   * No error.
   */
  CBK_OK = 0,
  /**
   * NULL where a value is needed, invalid UTF-8, an empty or unsafe id, or
   * an option value of the right JSON type that is out of range or
   * malformed (negative `retries`, CR/LF in a header value, a bad URL, a
   * URL with credentials, a header that frames the message); a request
   * fetch forbids (`CONNECT`, `TRACE`, `TRACK`) or too large to send (a
   * URL over 65,534 bytes, more than 10,000 header names). Nothing is sent.
   */
  CBK_ERROR_INVALID_ARGUMENT = 1,
  /**
   * Options or request text that is not JSON or not a JSON object, an
   * option of the wrong JSON type, an unknown option.
   */
  CBK_ERROR_INVALID_JSON = 2,
  /**
   * The server answered non-2xx (after retries); see the code and HTTP status.
   */
  CBK_ERROR_API = 3,
  /**
   * An attempt took longer than `timeout` (or `connectTimeout`).
   */
  CBK_ERROR_TIMEOUT = 4,
  /**
   * DNS, connect, TLS, a reset, a truncated body.
   */
  CBK_ERROR_NETWORK = 5,
  /**
   * A 2xx whose body is not what the call returns (not JSON for create, or
   * JSON the server content-encoded, which the library does not decode),
   * or any body over `maxResponseBytes`.
   */
  CBK_ERROR_INVALID_RESPONSE = 6,
  /**
   * The call was cancelled.
   */
  CBK_ERROR_CANCELLED = 7,
  /**
   * A caught panic (a bug) or a runtime that could not start. Never a crash.
   */
  CBK_ERROR_INTERNAL = 8,
} cbk_status;

/**
 * Log levels, most severe first.
 */
typedef enum cbk_log_level {
  /**
   * A request failed for good.
   */
  CBK_LOG_ERROR = 1,
  /**
   * An attempt failed and will be retried.
   */
  CBK_LOG_WARN = 2,
  /**
   * A request succeeded.
   */
  CBK_LOG_INFO = 3,
  /**
   * Details.
   */
  CBK_LOG_DEBUG = 4,
} cbk_log_level;

/**
 * A bot session client (the SDK's `BotSessionClient`, formerly
 * `SessionClient`).
 *
 * Made by `cbk_bot_session_client_new` or `_extend`, released by
 * `cbk_bot_session_client_free`. Immutable once made: safe to use from many
 * threads at once.
 */
typedef struct cbk_bot_session_client cbk_bot_session_client;

/**
 * A conversation session client (the SDK's `ConversationSessionClient`).
 *
 * Made by `cbk_conversation_session_client_new` or `_extend`, released by
 * `cbk_conversation_session_client_free`. Immutable once made: safe to use
 * from many threads at once.
 */
typedef struct cbk_conversation_session_client cbk_conversation_session_client;

/**
 * An error: status, the SDK's code string, a message and the HTTP status.
 * Owned by the caller; free with `cbk_error_free`. Immutable, so it may be
 * read from any thread.
 */
typedef struct cbk_error cbk_error;

/**
 * An async call in flight or done. Owned by the caller and released with
 * cbk_task_free() (which does not cancel). Safe to use from many threads.
 */
typedef struct cbk_task cbk_task;

/**
 * Receives one log line. `message` is borrowed for the call only. Called
 * on whichever thread made the attempt, possibly several at once.
 */
typedef void (*cbk_log_callback)(void *user_data,
                                 enum cbk_log_level level,
                                 const char *message);

/**
 * Receives the outcome of an async call, exactly once, on a library thread:
 * `response_json` on success (and `error` NULL), or `error` on failure
 * (and `response_json` NULL); a cancelled task gets `CBK_ERROR_CANCELLED`.
 * Both are borrowed for the call only: copy what you keep (cbk_task_wait()
 * returns copies).
 *
 * The callback may run before the `_async` call that started the task has
 * returned, on another thread: have `user_data` ready before the call, and
 * do not expect the task handle to be stored yet.
 *
 * Callbacks run on the library's worker threads (one per core, 8 MiB
 * stacks), as their tasks finish: callbacks of different tasks may run at
 * the same time, on different threads. A callback that blocks holds up
 * only its own worker. It may call the library's blocking functions (the
 * creates, the fetches, cbk_task_wait() on another task): its worker's
 * other work is first handed to another thread, so nothing stalls.
 * cbk_task_wait() on its own task fails with `CBK_ERROR_INVALID_ARGUMENT`.
 */
typedef void (*cbk_callback)(void *user_data,
                             const char *response_json,
                             const struct cbk_error *error);

/**
 * Receives one item of a stream: `item_json` is the JSON text of one line
 * of the body, borrowed for the call only (copy what you keep). Runs on the
 * thread that drives the stream, where the library's blocking functions
 * fail with `CBK_ERROR_INVALID_ARGUMENT`. Return 0 to go on, non-zero to
 * stop reading.
 */
typedef int (*cbk_stream_callback)(void *user_data,
                                   const char *item_json);

/**
 * The SDK's pre-2024 name for the bot session client.
 */
typedef struct cbk_bot_session_client cbk_session_client;

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

/**
 * The name of a status, as cbk_error_to_json() spells it: "OK",
 * "INVALID_ARGUMENT", "INVALID_JSON", "API", "TIMEOUT", "NETWORK",
 * "INVALID_RESPONSE", "CANCELLED", "INTERNAL"; "UNKNOWN" for any other
 * value.
 *
 * @param status A ::cbk_status, taken as an `int` (the same ABI) so that
 *     any value from C is safe.
 * @return A static string: never NULL, never freed.
 */
const char *cbk_status_name(int status);

/**
 * The error's status.
 *
 * @param error The error; borrowed, NULL allowed.
 * @return The ::cbk_status of `error`; `CBK_ERROR_INVALID_ARGUMENT` for a
 *     NULL `error`.
 */
enum cbk_status cbk_error_status(const struct cbk_error *error);

/**
 * The error's code: the SDK's code (the server's own, such as `NOT_FOUND`
 * or `NOT_AUTHENTICATED`; else `ERROR_500` and the like, `CONTENT_TOO_LARGE`,
 * `GENERIC_ERROR`, `TimeoutError`) or one of ours (`NETWORK_ERROR`,
 * `INVALID_ARGUMENT`, `INVALID_JSON`, `INVALID_RESPONSE`, `CANCELLED`,
 * `INTERNAL_ERROR`); the error table of libchatbotkit(3) says which goes with
 * which status. A server's code that holds the client's secret or token has
 * it replaced by `[REDACTED]`, as in the message.
 *
 * @param error The error; borrowed, NULL allowed.
 * @return The code, borrowed from `error`: valid until it is freed, never
 *     freed by the caller. `""` for a NULL `error`.
 */
const char *cbk_error_code(const struct cbk_error *error);

/**
 * The error's message, for people. Never contains the client's secret or
 * token: where the message quotes a server (an error body's `message`, a
 * reason phrase, a redirect location) that echoed it, in any letter case
 * or percent-encoded, it reads `[REDACTED]` (`Bearer [REDACTED]`). A
 * credential shorter than 4 characters is replaced only after `Bearer `.
 *
 * @param error The error; borrowed, NULL allowed.
 * @return The message, borrowed from `error`: valid until it is freed, never
 *     freed by the caller. `""` for a NULL `error`.
 */
const char *cbk_error_message(const struct cbk_error *error);

/**
 * The HTTP status of the response the error was made from.
 *
 * @param error The error; borrowed, NULL allowed.
 * @return The HTTP status (e.g. 404 for a `CBK_ERROR_API`); 0 when there was
 *     no HTTP response, or for a NULL `error`.
 */
int cbk_error_http_status(const struct cbk_error *error);

/**
 * The error as JSON:
 * `{"status":"API","code":"NOT_FOUND","message":"...","httpStatus":404}`,
 * `status` spelt as cbk_status_name() spells it.
 *
 * @param error The error; borrowed, NULL allowed.
 * @return The JSON text, owned by the caller and freed with
 *     cbk_string_free(); NULL for a NULL `error`.
 */
char *cbk_error_to_json(const struct cbk_error *error);

/**
 * Free an error.
 *
 * @param error The error, owned by the caller and given up here (strings
 *     borrowed from it become invalid); NULL is accepted and ignored.
 */
void cbk_error_free(struct cbk_error *error);

/**
 * Install the process's log callback.
 *
 * It receives every line at `max_level` or more severe:
 * - `CBK_LOG_ERROR`: a request failed for good;
 * - `CBK_LOG_WARN`: an attempt failed and will be retried;
 * - `CBK_LOG_INFO`: a request succeeded. These three name the method, the
 *   URL without its query (scheme, host, port, path), the attempt number,
 *   the status or failure and the elapsed time;
 * - `CBK_LOG_DEBUG`: which connection answered (host, addresses, opened or
 *   reused, HTTP version, ALPN), the TLS version and certificate check,
 *   each redirect hop and the proxy a request goes through.
 *
 * Lines never contain a header or a query, so never the secret; a line
 * that quotes a server which echoed the secret or token shows `[REDACTED]`
 * instead, as error messages do. The library never installs a global Rust
 * logger. With no callback set (never set, or turned off with NULL), the
 * environment variable `CHATBOTKIT_LOG` (`error`, `warn`, `info` or
 * `debug`) sends the lines at that level and above to standard error.
 *
 * The callback may run on any thread, including several at once, possibly
 * while the library drives requests on that thread: the blocking functions
 * (the creates, the fetches, cbk_task_wait()) fail there with
 * `CBK_ERROR_INVALID_ARGUMENT`. It may call cbk_set_log_callback(): the
 * change applies from the next line on. A callback that was replaced may
 * still receive lines that other threads were already logging. The library
 * keeps each distinct (callback, user data, level) it was given until the
 * process exits (a few dozen bytes each), which is what makes replacing a
 * callback safe while other threads log: `user_data` must stay valid for
 * as long as the process may log.
 *
 * @param max_level The most verbose level wanted, a ::cbk_log_level; an
 *     `int` so that any value is safe: below 1 is `CBK_LOG_ERROR`, above 4
 *     `CBK_LOG_DEBUG`.
 * @param callback The callback, or NULL to turn logging off.
 * @param user_data Passed to `callback` untouched, from any thread.
 */
void cbk_set_log_callback(int max_level,
                          cbk_log_callback callback,
                          void *user_data);

/**
 * Create a conversation session client (`new ConversationSessionClient(options)`).
 *
 * Every option is checked here, so that no later call fails on one.
 *
 * @param options_json A JSON object of options (the options table of
 *     libchatbotkit(3)), or NULL for `{}`. Borrowed for the call only.
 * @param[out] error NULL, or where to store a new error on failure (owned
 *     by the caller, freed with cbk_error_free()); left untouched on success.
 * @return A new handle, owned by the caller and freed with
 *     cbk_conversation_session_client_free(); NULL on failure, with `*error` set.
 *
 * @par Errors
 * `CBK_ERROR_INVALID_JSON` for text that is not a JSON object, an unknown
 * option or a wrong type; `CBK_ERROR_INVALID_ARGUMENT` for invalid UTF-8 or
 * a value out of range or malformed, among them a `baseUrl` or `endpoints`
 * URL with credentials in it (`user:password@`, or `user@`), a header in
 * `headers` that frames the message (`content-length`, `transfer-encoding`,
 * `host`, `connection`, `keep-alive`, `upgrade`, `te`, `trailer`, in any
 * letter case) and more than 10,000 names in `headers`; `CBK_ERROR_INTERNAL`
 * for a bug. The message names the option, never its value; control
 * characters in a key it quotes are escaped (`\r`, `\n`, `\u{1b}`).
 */
struct cbk_conversation_session_client *cbk_conversation_session_client_new(const char *options_json,
                                                                            struct cbk_error **error);

/**
 * Derive a client with merged options (`client.extend(options)`).
 *
 * The merge is the SDK's: a shallow merge of `options_json` over the
 * client's effective options, except `headers` and `endpoints`, which merge
 * key by key. A `null` value resets that option to its default; a `null`
 * inside `headers` or `endpoints` removes that key.
 *
 * The new handle is independent (free either, in any order) and shares the
 * connection pool when the transport options (`connectTimeout`,
 * `caCertificatePem`, `userAgent`, `proxy`, `http2`) are equal.
 *
 * @param client The client to derive from; borrowed, and left unchanged.
 * @param options_json A JSON object of options to merge (the options table
 *     of libchatbotkit(3)), or NULL for `{}` (a copy). Borrowed for the call.
 * @param[out] error NULL, or where to store a new error on failure (owned
 *     by the caller, freed with cbk_error_free()); left untouched on success.
 * @return A new handle, owned by the caller and freed with
 *     cbk_conversation_session_client_free(); NULL on failure, with `*error` set.
 *
 * @par Errors
 * Those of cbk_conversation_session_client_new(), checked on the merged
 * options; `CBK_ERROR_INVALID_ARGUMENT` for a NULL `client`.
 */
struct cbk_conversation_session_client *cbk_conversation_session_client_extend(const struct cbk_conversation_session_client *client,
                                                                               const char *options_json,
                                                                               struct cbk_error **error);

/**
 * Mint a conversation session (`client.create(conversationId, request)`).
 *
 * Sends `POST {base}/api/v1/conversation/{conversation_id}/session/create`
 * with `request_json` as the body and blocks until the answer, retries
 * included. May be called from any thread, including from inside a task
 * callback (not from the log callback or a stream's `on_item`).
 *
 * @param client The client; borrowed for the call.
 * @param conversation_id The conversation's id, percent-encoded as one path
 *     segment. Borrowed for the call.
 * @param request_json The request body, a JSON object (the API's
 *     `durationInSeconds`; see libchatbotkit(3)), sent as given; NULL sends
 *     `{}`. Borrowed for the call.
 * @param[out] error NULL, or where to store a new error on failure (owned
 *     by the caller, freed with cbk_error_free()); left untouched on success.
 * @return The response JSON text as the server sent it (e.g.
 *     `{"id":...,"token":...,"expiresAt":...}`), owned by the caller and
 *     freed with cbk_string_free(); NULL on failure, with `*error` set.
 *
 * @par Errors
 * `CBK_ERROR_INVALID_ARGUMENT` (nothing is sent) for a NULL `client` or
 * `conversation_id`, invalid UTF-8, an id that is `""`, `"."` or `".."`, or
 * one that would make the URL longer than 65,534 bytes;
 * `CBK_ERROR_INVALID_JSON` for a `request_json` that is not a JSON object;
 * `CBK_ERROR_API` for a non-2xx answer after retries (the server's code and
 * HTTP status); `CBK_ERROR_TIMEOUT`, `CBK_ERROR_NETWORK`;
 * `CBK_ERROR_INVALID_RESPONSE` for a 2xx that is not JSON or is over
 * `maxResponseBytes`; `CBK_ERROR_INTERNAL` for a bug.
 */
char *cbk_conversation_session_client_create(const struct cbk_conversation_session_client *client,
                                             const char *conversation_id,
                                             const char *request_json,
                                             struct cbk_error **error);

/**
 * Mint a conversation session without blocking.
 *
 * Checks the arguments now, then sends the request on the library's worker
 * threads and returns at once. The request and the outcome are those of
 * cbk_conversation_session_client_create().
 *
 * @param client The client; borrowed for the call only (it may be freed
 *     while the task is in flight).
 * @param conversation_id The conversation's id, as for
 *     cbk_conversation_session_client_create(). Copied.
 * @param request_json The request body, a JSON object, or NULL for `{}`.
 *     Copied.
 * @param callback Runs exactly once on a library thread with the outcome
 *     (see ::cbk_callback); may be NULL, to collect the outcome with
 *     cbk_task_wait() instead.
 * @param user_data Passed back to `callback` untouched.
 * @param[out] error NULL, or where to store a new error on failure (owned
 *     by the caller, freed with cbk_error_free()); left untouched on success.
 * @return A task handle, owned by the caller and released with
 *     cbk_task_free() (which does not cancel); wait for it with
 *     cbk_task_wait() and cancel it with cbk_task_cancel(). NULL when the
 *     arguments are refused, with `*error` set: the callback then never runs.
 *
 * @par Errors
 * Returned at once: the argument errors of
 * cbk_conversation_session_client_create() (`CBK_ERROR_INVALID_ARGUMENT`,
 * `CBK_ERROR_INVALID_JSON`), or `CBK_ERROR_INTERNAL` when the worker threads
 * cannot start. Delivered to the callback: the request's errors, as for
 * cbk_conversation_session_client_create(), and `CBK_ERROR_CANCELLED`.
 */
struct cbk_task *cbk_conversation_session_client_create_async(const struct cbk_conversation_session_client *client,
                                                              const char *conversation_id,
                                                              const char *request_json,
                                                              cbk_callback callback,
                                                              void *user_data,
                                                              struct cbk_error **error);

/**
 * A raw SDK request (`client.clientFetch(path, options)`), blocking.
 *
 * `options_json` takes `method`, `headers`, `query`, `record` (or `data`),
 * `buffer` (base64), `file` (`{name, type, data}` with base64 `data`),
 * `external`, `endpoint`, `timeout`, `retries`, `retryDelay`,
 * `retryTimeout` and `cache`. With both `record` and `data`, `record` is the
 * body, whatever the key order. `external` true leaves out `authorization`
 * and the run-as headers. A full URL as `path` (or as an `endpoints` target)
 * is requested as it is, with the client's credential, as the SDK sends it:
 * only ever pass one for an origin that may see your secret, or set
 * `external`.
 *
 * `cache` (a string key) is the SDK's `cache(key)`: the first call with a
 * given key, method and URL on this handle sends the request; later ones
 * return the stored result and send nothing. Only successes are stored (the
 * SDK stores failures too: a deliberate difference), at most 1,000 per
 * handle, the least recently used dropped first; a handle made by
 * `_extend` starts with none.
 *
 * Sent as fetch sends it: `method` as given, except that `delete`, `get`,
 * `head`, `options`, `post` and `put` (any letter case) are upper-cased
 * (`patch` stays `patch`); CR, LF and double quotes in a `file.name` as
 * `%0D`, `%0A` and `%22`, as `FormData` writes them; a `file.type` absent
 * or empty as `application/octet-stream`.
 *
 * @param client The client; borrowed for the call.
 * @param path The request path (e.g. `/api/v1/bot/list`), resolved against
 *     the base URL or replaced through `endpoints`; or a full URL. Borrowed.
 * @param options_json A JSON object of fetch options, or NULL for `{}`.
 *     Borrowed for the call.
 * @param[out] error NULL, or where to store a new error on failure (owned
 *     by the caller, freed with cbk_error_free()); left untouched on success.
 * @return The body of a JSON response; for any other 2xx,
 *     `{"headers":{...},"data":"...","encoding":"base64"}` with the body
 *     in base64 as `data`. Owned by the caller and freed with
 *     cbk_string_free(); NULL on failure, with `*error` set.
 *
 * @par Errors
 * `CBK_ERROR_INVALID_ARGUMENT`, with nothing sent, for a NULL `client` or
 * `path`, invalid UTF-8, and what fetch refuses: the methods `CONNECT`,
 * `TRACE` and `TRACK` (any letter case); a body (`record`, `data`, `buffer`
 * or `file`) with the method `GET` or `HEAD` (any letter case); a header in
 * `headers` that frames the message (the list of
 * cbk_conversation_session_client_new()), or more than 10,000 names there; a
 * `path` that resolves to a URL with credentials in it (`user:password@`) or
 * longer than 65,534 bytes (`query` included). `CBK_ERROR_INVALID_JSON` for
 * options that are not a JSON object, an unknown option or a wrong type.
 * `CBK_ERROR_INVALID_RESPONSE` for a JSON response whose body is
 * content-encoded (gzip, ...: the library asks for no compression and
 * decodes none), invalid JSON under a JSON content type, or a body over
 * `maxResponseBytes`. The request errors of
 * cbk_conversation_session_client_create() otherwise.
 */
char *cbk_conversation_session_client_fetch(const struct cbk_conversation_session_client *client,
                                            const char *path,
                                            const char *options_json,
                                            struct cbk_error **error);

/**
 * Stream a raw SDK request's body as JSON Lines (`clientFetch(...).stream()`).
 *
 * The request is that of cbk_conversation_session_client_fetch(), plus
 * `accept: application/jsonl` (over the call's own `accept`). The body is
 * read as JSON Lines whatever its content type: each line holding a JSON
 * value is passed to `on_item` as soon as it has arrived, as its text
 * without surrounding whitespace; a last line without a newline counts;
 * blank lines are skipped (the SDK throws on them); a UTF-8 character split
 * across network reads arrives whole.
 *
 * `maxResponseBytes` bounds one line. `timeout` bounds the wait for the
 * response headers, then each wait for the next line. A non-2xx answer is
 * retried as for cbk_conversation_session_client_fetch(); nothing is retried
 * once the body is being read.
 *
 * @param client The client; borrowed for the call.
 * @param path The request path or full URL, as for
 *     cbk_conversation_session_client_fetch(). Borrowed.
 * @param options_json Fetch options, as for
 *     cbk_conversation_session_client_fetch(), or NULL for `{}`. Borrowed.
 * @param on_item Called once per item, in order (see ::cbk_stream_callback);
 *     must not be NULL. It runs on the calling thread (on a library thread
 *     only when every lane of the library is busy, or when called from a
 *     thread of a tokio current-thread runtime) and must not call the
 *     library's blocking functions, which fail there with
 *     `CBK_ERROR_INVALID_ARGUMENT`.
 * @param user_data Passed back to `on_item` untouched.
 * @param[out] error NULL, or where to store a new error on failure (owned
 *     by the caller, freed with cbk_error_free()); left untouched on success.
 * @return `CBK_OK` when the body ended or `on_item` returned non-zero (the
 *     connection is then closed, not read to the end); any other status with
 *     `*error` set.
 *
 * @par Errors
 * Those of cbk_conversation_session_client_fetch();
 * `CBK_ERROR_INVALID_ARGUMENT` for a NULL `on_item`;
 * `CBK_ERROR_INVALID_RESPONSE` for a line that is not JSON (after the items
 * before it) or longer than `maxResponseBytes`.
 */
enum cbk_status cbk_conversation_session_client_fetch_stream(const struct cbk_conversation_session_client *client,
                                                             const char *path,
                                                             const char *options_json,
                                                             cbk_stream_callback on_item,
                                                             void *user_data,
                                                             struct cbk_error **error);

/**
 * A raw SDK request without blocking: the request and result of
 * cbk_conversation_session_client_fetch(), delivered as
 * cbk_conversation_session_client_create_async() delivers a session.
 *
 * @param client The client; borrowed for the call only (it may be freed
 *     while the task is in flight).
 * @param path The request path or full URL, as for
 *     cbk_conversation_session_client_fetch(). Copied.
 * @param options_json Fetch options, or NULL for `{}`. Copied.
 * @param callback Runs exactly once on a library thread with the result
 *     JSON or the error (see ::cbk_callback); may be NULL.
 * @param user_data Passed back to `callback` untouched.
 * @param[out] error NULL, or where to store a new error on failure (owned
 *     by the caller, freed with cbk_error_free()); left untouched on success.
 * @return A task handle, owned by the caller and released with
 *     cbk_task_free(); wait with cbk_task_wait(), cancel with
 *     cbk_task_cancel(). NULL when the arguments are refused, with `*error`
 *     set: the callback then never runs.
 *
 * @par Errors
 * Returned at once: the argument errors of
 * cbk_conversation_session_client_fetch(). Delivered to the callback: its
 * request errors, and `CBK_ERROR_CANCELLED`.
 */
struct cbk_task *cbk_conversation_session_client_fetch_async(const struct cbk_conversation_session_client *client,
                                                             const char *path,
                                                             const char *options_json,
                                                             cbk_callback callback,
                                                             void *user_data,
                                                             struct cbk_error **error);

/**
 * cbk_conversation_session_client_fetch_stream() without blocking.
 *
 * `on_item` runs once per item, in order, on a library thread; then
 * `on_done` runs exactly once, as a cbk_conversation_session_client_create_async()
 * callback: on success with `{"items":N,"stopped":true|false}` (N counts
 * every `on_item` call, the one that asked to stop included), else with the
 * error. cbk_task_wait() returns what `on_done` got.
 *
 * @param client The client; borrowed for the call only (it may be freed
 *     while the task is in flight).
 * @param path The request path or full URL. Copied.
 * @param options_json Fetch options, or NULL for `{}`. Copied.
 * @param on_item Called once per item (see ::cbk_stream_callback); must not
 *     be NULL, and must not call the library's blocking functions.
 * @param on_done Called once at the end (see ::cbk_callback); may be NULL.
 * @param user_data Passed back to `on_item` and `on_done` untouched.
 * @param[out] error NULL, or where to store a new error on failure (owned
 *     by the caller, freed with cbk_error_free()); left untouched on success.
 * @return A task handle, owned by the caller and released with
 *     cbk_task_free(). cbk_task_cancel() stops the reading and closes the
 *     connection. NULL when the arguments are refused, with `*error` set:
 *     neither callback then runs.
 *
 * @par Errors
 * Returned at once: the argument errors of
 * cbk_conversation_session_client_fetch_stream(). Delivered to `on_done`:
 * its request and stream errors, and `CBK_ERROR_CANCELLED` after
 * cbk_task_cancel().
 */
struct cbk_task *cbk_conversation_session_client_fetch_stream_async(const struct cbk_conversation_session_client *client,
                                                                    const char *path,
                                                                    const char *options_json,
                                                                    cbk_stream_callback on_item,
                                                                    cbk_callback on_done,
                                                                    void *user_data,
                                                                    struct cbk_error **error);

/**
 * The client's effective options as JSON (the SDK's `url` and `secret`
 * properties, and the rest): `baseUrl` with `host`/`protocol` applied,
 * merged `headers` and `endpoints`, defaults filled in. Valid input for
 * cbk_conversation_session_client_new().
 *
 * This is the one output that contains the secret (and a proxy's
 * password): handle it as such.
 *
 * @param client The client; borrowed for the call.
 * @param[out] error NULL, or where to store a new error on failure (owned
 *     by the caller, freed with cbk_error_free()); left untouched on success.
 * @return The options JSON text, owned by the caller and freed with
 *     cbk_string_free(); NULL on failure, with `*error` set.
 *
 * @par Errors
 * `CBK_ERROR_INVALID_ARGUMENT` for a NULL `client`.
 */
char *cbk_conversation_session_client_options(const struct cbk_conversation_session_client *client,
                                              struct cbk_error **error);

/**
 * Free a conversation session client.
 *
 * Tasks started from it go on, and handles derived from it with
 * cbk_conversation_session_client_extend() stay valid. The last handle that
 * uses a connection pool closes its idle connections.
 *
 * @param client The handle, owned by the caller and given up here; NULL is
 *     accepted and ignored. Never free a handle twice.
 */
void cbk_conversation_session_client_free(struct cbk_conversation_session_client *client);

/**
 * Create a bot session client (`new BotSessionClient(options)`).
 *
 * The options, and the rules for them, are those of
 * cbk_conversation_session_client_new().
 *
 * @param options_json A JSON object of options (the options table of
 *     libchatbotkit(3)), or NULL for `{}`. Borrowed for the call only.
 * @param[out] error NULL, or where to store a new error on failure (owned
 *     by the caller, freed with cbk_error_free()); left untouched on success.
 * @return A new handle, owned by the caller and freed with
 *     cbk_bot_session_client_free(); NULL on failure, with `*error` set.
 *
 * @par Errors
 * Those of cbk_conversation_session_client_new().
 */
struct cbk_bot_session_client *cbk_bot_session_client_new(const char *options_json,
                                                          struct cbk_error **error);

/**
 * Derive a bot session client with merged options (`client.extend(options)`);
 * the merge is that of cbk_conversation_session_client_extend().
 *
 * @param client The client to derive from; borrowed, and left unchanged.
 * @param options_json A JSON object of options to merge, or NULL for `{}`
 *     (a copy). Borrowed for the call.
 * @param[out] error NULL, or where to store a new error on failure (owned
 *     by the caller, freed with cbk_error_free()); left untouched on success.
 * @return A new, independent handle, owned by the caller and freed with
 *     cbk_bot_session_client_free(); NULL on failure, with `*error` set.
 *
 * @par Errors
 * Those of cbk_conversation_session_client_extend().
 */
struct cbk_bot_session_client *cbk_bot_session_client_extend(const struct cbk_bot_session_client *client,
                                                             const char *options_json,
                                                             struct cbk_error **error);

/**
 * Mint a bot session (`client.create(botId, request)`), blocking.
 *
 * Sends `POST {base}/api/v1/bot/{bot_id}/session/create`; otherwise the
 * same rules as cbk_conversation_session_client_create().
 *
 * @param client The client; borrowed for the call.
 * @param bot_id The bot's id, percent-encoded as one path segment. Borrowed.
 * @param request_json The request body, a JSON object (the API's
 *     `durationInSeconds`, `messages`, `meta`; see libchatbotkit(3)), sent as
 *     given; NULL sends `{}`. Borrowed for the call.
 * @param[out] error NULL, or where to store a new error on failure (owned
 *     by the caller, freed with cbk_error_free()); left untouched on success.
 * @return The response JSON text as the server sent it (e.g.
 *     `{"id":...,"conversationId":...,"token":...,"expiresAt":...}`: the
 *     session is for a new conversation), owned by the caller and freed with
 *     cbk_string_free(); NULL on failure, with `*error` set.
 *
 * @par Errors
 * Those of cbk_conversation_session_client_create(), for `bot_id`.
 */
char *cbk_bot_session_client_create(const struct cbk_bot_session_client *client,
                                    const char *bot_id,
                                    const char *request_json,
                                    struct cbk_error **error);

/**
 * Mint a bot session without blocking; the same rules as
 * cbk_conversation_session_client_create_async(), for the request of
 * cbk_bot_session_client_create().
 *
 * @param client The client; borrowed for the call only (it may be freed
 *     while the task is in flight).
 * @param bot_id The bot's id. Copied.
 * @param request_json The request body, a JSON object, or NULL for `{}`.
 *     Copied.
 * @param callback Runs exactly once on a library thread with the outcome
 *     (see ::cbk_callback); may be NULL.
 * @param user_data Passed back to `callback` untouched.
 * @param[out] error NULL, or where to store a new error on failure (owned
 *     by the caller, freed with cbk_error_free()); left untouched on success.
 * @return A task handle, owned by the caller and released with
 *     cbk_task_free(); NULL when the arguments are refused, with `*error`
 *     set: the callback then never runs.
 *
 * @par Errors
 * Those of cbk_conversation_session_client_create_async().
 */
struct cbk_task *cbk_bot_session_client_create_async(const struct cbk_bot_session_client *client,
                                                     const char *bot_id,
                                                     const char *request_json,
                                                     cbk_callback callback,
                                                     void *user_data,
                                                     struct cbk_error **error);

/**
 * A raw SDK request (`client.clientFetch(path, options)`), blocking; the
 * same rules as cbk_conversation_session_client_fetch(), including that a
 * full URL as `path` is sent the client's credential unless `external` is
 * set.
 *
 * @param client The client; borrowed for the call.
 * @param path The request path, or a full URL. Borrowed.
 * @param options_json A JSON object of fetch options, or NULL for `{}`.
 *     Borrowed.
 * @param[out] error NULL, or where to store a new error on failure (owned
 *     by the caller, freed with cbk_error_free()); left untouched on success.
 * @return The body of a JSON response, or the base64 form of any other 2xx
 *     (see cbk_conversation_session_client_fetch()); owned by the caller and
 *     freed with cbk_string_free(). NULL on failure, with `*error` set.
 *
 * @par Errors
 * Those of cbk_conversation_session_client_fetch().
 */
char *cbk_bot_session_client_fetch(const struct cbk_bot_session_client *client,
                                   const char *path,
                                   const char *options_json,
                                   struct cbk_error **error);

/**
 * Stream a raw SDK request's body as JSON Lines, blocking; the same rules as
 * cbk_conversation_session_client_fetch_stream().
 *
 * @param client The client; borrowed for the call.
 * @param path The request path, or a full URL. Borrowed.
 * @param options_json Fetch options, or NULL for `{}`. Borrowed.
 * @param on_item Called once per item, in order (see ::cbk_stream_callback);
 *     must not be NULL, and must not call the library's blocking functions.
 * @param user_data Passed back to `on_item` untouched.
 * @param[out] error NULL, or where to store a new error on failure (owned
 *     by the caller, freed with cbk_error_free()); left untouched on success.
 * @return `CBK_OK` when the body ended or `on_item` returned non-zero; any
 *     other status with `*error` set.
 *
 * @par Errors
 * Those of cbk_conversation_session_client_fetch_stream().
 */
enum cbk_status cbk_bot_session_client_fetch_stream(const struct cbk_bot_session_client *client,
                                                    const char *path,
                                                    const char *options_json,
                                                    cbk_stream_callback on_item,
                                                    void *user_data,
                                                    struct cbk_error **error);

/**
 * A raw SDK request without blocking; the same rules as
 * cbk_conversation_session_client_fetch_async().
 *
 * @param client The client; borrowed for the call only (it may be freed
 *     while the task is in flight).
 * @param path The request path, or a full URL. Copied.
 * @param options_json Fetch options, or NULL for `{}`. Copied.
 * @param callback Runs exactly once on a library thread with the result
 *     JSON or the error (see ::cbk_callback); may be NULL.
 * @param user_data Passed back to `callback` untouched.
 * @param[out] error NULL, or where to store a new error on failure (owned
 *     by the caller, freed with cbk_error_free()); left untouched on success.
 * @return A task handle, owned by the caller and released with
 *     cbk_task_free(); NULL when the arguments are refused, with `*error`
 *     set: the callback then never runs.
 *
 * @par Errors
 * Those of cbk_conversation_session_client_fetch_async().
 */
struct cbk_task *cbk_bot_session_client_fetch_async(const struct cbk_bot_session_client *client,
                                                    const char *path,
                                                    const char *options_json,
                                                    cbk_callback callback,
                                                    void *user_data,
                                                    struct cbk_error **error);

/**
 * A JSON Lines stream without blocking; the same rules as
 * cbk_conversation_session_client_fetch_stream_async().
 *
 * @param client The client; borrowed for the call only (it may be freed
 *     while the task is in flight).
 * @param path The request path, or a full URL. Copied.
 * @param options_json Fetch options, or NULL for `{}`. Copied.
 * @param on_item Called once per item (see ::cbk_stream_callback); must not
 *     be NULL, and must not call the library's blocking functions.
 * @param on_done Called once at the end (see ::cbk_callback); may be NULL.
 * @param user_data Passed back to `on_item` and `on_done` untouched.
 * @param[out] error NULL, or where to store a new error on failure (owned
 *     by the caller, freed with cbk_error_free()); left untouched on success.
 * @return A task handle, owned by the caller and released with
 *     cbk_task_free(); NULL when the arguments are refused, with `*error`
 *     set: neither callback then runs.
 *
 * @par Errors
 * Those of cbk_conversation_session_client_fetch_stream_async().
 */
struct cbk_task *cbk_bot_session_client_fetch_stream_async(const struct cbk_bot_session_client *client,
                                                           const char *path,
                                                           const char *options_json,
                                                           cbk_stream_callback on_item,
                                                           cbk_callback on_done,
                                                           void *user_data,
                                                           struct cbk_error **error);

/**
 * The client's effective options as JSON; the same rules as
 * cbk_conversation_session_client_options(). This output contains the
 * secret: handle it as such.
 *
 * @param client The client; borrowed for the call.
 * @param[out] error NULL, or where to store a new error on failure (owned
 *     by the caller, freed with cbk_error_free()); left untouched on success.
 * @return The options JSON text, owned by the caller and freed with
 *     cbk_string_free(); NULL on failure, with `*error` set.
 *
 * @par Errors
 * `CBK_ERROR_INVALID_ARGUMENT` for a NULL `client`.
 */
char *cbk_bot_session_client_options(const struct cbk_bot_session_client *client,
                                     struct cbk_error **error);

/**
 * Free a bot session client; the same rules as
 * cbk_conversation_session_client_free().
 *
 * @param client The handle, owned by the caller and given up here; NULL is
 *     accepted and ignored. Never free a handle twice.
 */
void cbk_bot_session_client_free(struct cbk_bot_session_client *client);

/**
 * Free a string returned by this library.
 *
 * Every `char *` the library returns is owned by the caller and must be
 * released exactly once with this function: never with `free()`, since the
 * library's allocator need not be the caller's.
 *
 * @param s The string, given up here; NULL is accepted and ignored.
 */
void cbk_string_free(char *s);

/**
 * The library's version, e.g. `"0.1.0"`: what was loaded at run time, which
 * may be newer than the header a program was compiled with
 * (`CHATBOTKIT_VERSION`).
 *
 * @return A static string: never NULL, never freed.
 */
const char *cbk_version(void);

/**
 * Cancel a task.
 *
 * If its callback has not started yet, it runs with `CBK_ERROR_CANCELLED`
 * (code `CANCELLED`) as soon as possible: before the request is sent, while
 * waiting for the server, during a retry delay, or while a stream is read.
 * If it already started, nothing happens. In a forked child, a task started
 * before the fork is not affected. The handle stays the caller's: free it
 * with cbk_task_free().
 *
 * @param task The task; borrowed, NULL is ignored.
 */
void cbk_task_cancel(struct cbk_task *task);

/**
 * Block until the task is done (its callback, if any, has returned) and
 * return a copy of what the callback got.
 *
 * May be called any number of times, from many threads at once, with or
 * without a callback, and from another task's callback.
 *
 * @param task The task; borrowed for the call.
 * @param[out] error NULL, or where to store a copy of the task's error (owned
 *     by the caller, freed with cbk_error_free()); left untouched on success.
 * @return A copy of the response JSON, owned by the caller and freed with
 *     cbk_string_free(); NULL when the task failed, with `*error` set.
 *
 * @par Errors
 * The task's own error (see the call that started it), including
 * `CBK_ERROR_CANCELLED`. `CBK_ERROR_INVALID_ARGUMENT` at once for a NULL
 * `task`, and where the wait could never return: from the task's own
 * callback, from the log callback or a stream's `on_item`, and in a forked
 * child on a task started before the fork.
 */
char *cbk_task_wait(struct cbk_task *task,
                    struct cbk_error **error);

/**
 * Release a task handle. Does not cancel: the call goes on, its callback
 * still runs, and its resources are released when it finishes.
 *
 * @param task The task, owned by the caller and given up here; NULL is
 *     ignored. Other threads must be done with it (a cbk_task_wait() on it
 *     returned). It may be freed from its own callback.
 */
void cbk_task_free(struct cbk_task *task);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* CHATBOTKIT_H */
