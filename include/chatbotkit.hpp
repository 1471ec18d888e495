/*
 * chatbotkit.hpp - a small header-only C++17 wrapper over chatbotkit.h.
 *
 * Mint ChatBotKit conversation and bot session tokens from C++ with RAII
 * handles, exceptions and futures instead of raw pointers, error
 * out-parameters and C callbacks:
 *
 *     #include <chatbotkit.hpp>
 *
 *     chatbotkit::conversation_session_client client(R"({"secret":"sk_..."})");
 *     try {
 *         std::string session = client.create("cnv_123");   // {"id":..,"token":..,"expiresAt":..}
 *         std::future<std::string> later = client.create_async("cnv_456");
 *         std::string other = later.get();                    // throws as create() does
 *     } catch (const chatbotkit::api_error &e) {
 *         std::cerr << e.code() << ": " << e.message() << " (HTTP " << e.http_status() << ")\n";
 *     } catch (const chatbotkit::error &e) {
 *         std::cerr << e.status_name() << ": " << e.message() << "\n";
 *     }
 *
 * Build: g++ -std=c++17 app.cpp -Iinclude -Ltarget/release
 *        -Wl,-rpath,$PWD/target/release -lchatbotkit -pthread
 *
 * Conventions
 * -----------
 * - Everything the C API takes or returns as JSON text is UTF-8 JSON here
 *   too; this header does not parse JSON (use your own JSON library on the
 *   results). Defaults follow the C API: options "{}", request "{}".
 * - Strings go in as std::string_view, so a std::string, a string literal,
 *   a const char * (not NULL) or a substring view all work without the
 *   caller making a copy. The C API wants NUL-terminated text, so the header
 *   copies each one into a std::string first; an argument holding a NUL byte
 *   would be cut short by the C side, so it is refused instead with
 *   chatbotkit::invalid_argument (code "INVALID_ARGUMENT", the message names
 *   the argument) and nothing is sent.
 * - Every failure throws a subclass of chatbotkit::error (itself a
 *   std::runtime_error) chosen by the library's status, so a caller can catch
 *   just the kinds it handles: invalid_argument, invalid_json, api_error,
 *   timeout_error, network_error, invalid_response, cancelled,
 *   internal_error. A status this header does not know (a newer library)
 *   throws chatbotkit::error itself. std::bad_alloc may also be thrown.
 * - Every string and error the library returns is freed here (with
 *   cbk_string_free / cbk_error_free); every handle is freed by its owner's
 *   destructor. Nothing leaks, also when an exception is thrown.
 *
 * Async calls
 * -----------
 * Each async call comes in two shapes; both check their arguments at once
 * (bad input throws from the call itself and nothing is sent):
 * - create_async(id, request) / fetch_async(path, options) return a
 *   std::future<std::string>: get() returns the response or throws the
 *   error, as the blocking call would. Dropping the future neither cancels
 *   nor blocks: the request runs to its end and its result is discarded.
 *   (A std::future has no cancel; use the callable shape to cancel.)
 * - create_async(id, request, on_done) / fetch_async(path, options, on_done)
 *   call on_done(std::string result, const chatbotkit::error *err) exactly
 *   once on a library thread, and return a chatbotkit::task to cancel() or
 *   wait() on. Destroying the task neither cancels nor waits, as
 *   cbk_task_free: the request goes on and on_done still runs.
 * The callables are moved (or copied, from an lvalue) into a heap state
 * that the library's callback frees once it has run, on the library thread,
 * so their captures must stay valid until then (capture by value, or wait
 * for the result). Move-only callables are fine.
 *
 * Streams and logging
 * -------------------
 * - fetch_stream(path, options, on_item) calls on_item(std::string_view)
 *   per JSON Lines item; it returns true to go on, false to stop (or void).
 *   An exception it throws stops the stream and is rethrown from
 *   fetch_stream() once the C call is over. fetch_stream_async() delivers
 *   the same through a std::future<stream_result>.
 * - set_log_callback(level, fn) sends the library's log lines to a
 *   std::function; an empty one turns logging off.
 *
 * Ownership and threads
 * ---------------------
 * - The client classes own one library handle each. They are move-only: a
 *   move transfers the handle and leaves the source empty (operator bool is
 *   false); calling a method on an empty client throws
 *   chatbotkit::invalid_argument with the message
 *   "chatbotkit::conversation_session_client used after move" (or
 *   bot_session_client). Moves never throw.
 * - A client made by extend() is independent of its parent: destroy them in
 *   any order. A client may be destroyed while its async calls run.
 * - The const member functions may be called on one client from many
 *   threads at once, as the library's handles are thread-safe. Moving,
 *   assigning or destroying a client while another thread uses it is, as for
 *   any C++ object, a race.
 * - chatbotkit::error and its subclasses are immutable and cheap to copy
 *   (a copy never throws).
 * - No exception ever crosses into the C library: the header's C callbacks
 *   catch what your callables throw (see each function for where it goes).
 *
 * This header adds no symbols to the library: it is all inline, in
 * namespace chatbotkit, and needs only chatbotkit.h and the C++17 standard
 * library (link with -pthread for std::future).
 */
#ifndef CHATBOTKIT_HPP
#define CHATBOTKIT_HPP

#include <cstddef>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "chatbotkit.h"

namespace chatbotkit {

/**
 * The version of the library loaded at run time, e.g. "0.1.0"
 * (cbk_version()): it may be newer than the header compiled against
 * (CHATBOTKIT_VERSION_MAJOR/_MINOR/_PATCH), which is why it is asked for.
 */
inline std::string version() { return std::string(cbk_version()); }

/**
 * The name of a status, as the library spells it (cbk_status_name): "OK",
 * "INVALID_ARGUMENT", "API", ...; "UNKNOWN" for a value it does not know.
 * Asked of the library rather than tabled here so that the names can never
 * drift from cbk_error_to_json's. A static string: never freed.
 */
inline const char *status_name(cbk_status status) noexcept { return ::cbk_status_name(status); }

/**
 * A failed library call: a copy of the cbk_error the library reported (the
 * library's own error object is freed before this is thrown). Every error
 * this header throws is one of the subclasses below, picked by status();
 * catch chatbotkit::error to handle them all.
 *
 * - status():      the cbk_status (CBK_ERROR_API for a non-2xx answer, ...)
 * - code():        the SDK's code string ("NOT_FOUND", "ERROR_500",
 *                  "TimeoutError", "INVALID_JSON", ...)
 * - message():     the message, for people; also what(). Never the secret.
 * - http_status(): the HTTP status the error was made from, 0 when no
 *                  response was seen (e.g. bad options, a network error).
 */
class error : public std::runtime_error {
public:
    /**
     * Makes an error by hand, of this base class whatever the status; use
     * chatbotkit::throw_error() to get the subclass for a status.
     */
    error(cbk_status status, std::string_view code, std::string_view message, int http_status)
        : std::runtime_error(std::string(message)),
          status_(status),
          code_(std::make_shared<const std::string>(code)),
          http_status_(http_status)
    {
    }

    /** The error's status. */
    cbk_status status() const noexcept { return status_; }
    /** The status's name, e.g. "API" (see chatbotkit::status_name()). */
    const char *status_name() const noexcept { return chatbotkit::status_name(status_); }
    /** The SDK's error code, e.g. "NOT_FOUND". */
    const std::string &code() const noexcept { return *code_; }
    /** The message; the same text as what(). */
    std::string message() const { return std::string(what()); }
    /** The HTTP status; 0 when there was no HTTP response. */
    int http_status() const noexcept { return http_status_; }

private:
    cbk_status status_;
    std::shared_ptr<const std::string> code_; /* shared: copying an exception must not throw */
    int http_status_;
};

/**
 * CBK_ERROR_INVALID_ARGUMENT: a bad id, NULL-like or malformed input, an
 * option value out of range, a NUL byte in a string, a moved-from client.
 * Nothing was sent. (Not std::invalid_argument: it derives from
 * chatbotkit::error like every error here.)
 */
class invalid_argument : public error {
public:
    /** The status this class stands for. */
    static constexpr cbk_status status_value = CBK_ERROR_INVALID_ARGUMENT;
    /** Makes one by hand; the status is fixed. */
    invalid_argument(std::string_view code, std::string_view message, int http_status = 0)
        : error(status_value, code, message, http_status)
    {
    }
};

/** CBK_ERROR_INVALID_JSON: options or a request that is not a JSON object, an unknown option, a wrong type. */
class invalid_json : public error {
public:
    /** The status this class stands for. */
    static constexpr cbk_status status_value = CBK_ERROR_INVALID_JSON;
    /** Makes one by hand; the status is fixed. */
    invalid_json(std::string_view code, std::string_view message, int http_status = 0)
        : error(status_value, code, message, http_status)
    {
    }
};

/** CBK_ERROR_API: the server answered non-2xx (after retries); code() and http_status() say what. */
class api_error : public error {
public:
    /** The status this class stands for. */
    static constexpr cbk_status status_value = CBK_ERROR_API;
    /** Makes one by hand; the status is fixed. */
    api_error(std::string_view code, std::string_view message, int http_status)
        : error(status_value, code, message, http_status)
    {
    }
};

/** CBK_ERROR_TIMEOUT: an attempt took longer than the `timeout` (or `connectTimeout`) option. */
class timeout_error : public error {
public:
    /** The status this class stands for. */
    static constexpr cbk_status status_value = CBK_ERROR_TIMEOUT;
    /** Makes one by hand; the status is fixed. */
    timeout_error(std::string_view code, std::string_view message, int http_status = 0)
        : error(status_value, code, message, http_status)
    {
    }
};

/** CBK_ERROR_NETWORK: DNS, connect, TLS, a reset, a truncated body. */
class network_error : public error {
public:
    /** The status this class stands for. */
    static constexpr cbk_status status_value = CBK_ERROR_NETWORK;
    /** Makes one by hand; the status is fixed. */
    network_error(std::string_view code, std::string_view message, int http_status = 0)
        : error(status_value, code, message, http_status)
    {
    }
};

/** CBK_ERROR_INVALID_RESPONSE: a 2xx whose body is not what the call returns, or a body too large. */
class invalid_response : public error {
public:
    /** The status this class stands for. */
    static constexpr cbk_status status_value = CBK_ERROR_INVALID_RESPONSE;
    /** Makes one by hand; the status is fixed. */
    invalid_response(std::string_view code, std::string_view message, int http_status = 0)
        : error(status_value, code, message, http_status)
    {
    }
};

/** CBK_ERROR_CANCELLED: the call was cancelled (task::cancel()). */
class cancelled : public error {
public:
    /** The status this class stands for. */
    static constexpr cbk_status status_value = CBK_ERROR_CANCELLED;
    /** Makes one by hand; the status is fixed. */
    cancelled(std::string_view code, std::string_view message, int http_status = 0)
        : error(status_value, code, message, http_status)
    {
    }
};

/** CBK_ERROR_INTERNAL: a bug caught inside the library, or a runtime that could not start. */
class internal_error : public error {
public:
    /** The status this class stands for. */
    static constexpr cbk_status status_value = CBK_ERROR_INTERNAL;
    /** Makes one by hand; the status is fixed. */
    internal_error(std::string_view code, std::string_view message, int http_status = 0)
        : error(status_value, code, message, http_status)
    {
    }
};

namespace detail {

/**
 * Builds the exception class for `status` and hands it to `f` as its
 * concrete type, so that callers can throw it, store it in an
 * exception_ptr or pass a pointer to it without slicing it to the base.
 */
template <class F>
decltype(auto) visit_error(cbk_status status, std::string_view code, std::string_view message, int http_status,
                           F &&f)
{
    switch (status) {
    case CBK_ERROR_INVALID_ARGUMENT: return f(invalid_argument(code, message, http_status));
    case CBK_ERROR_INVALID_JSON: return f(invalid_json(code, message, http_status));
    case CBK_ERROR_API: return f(api_error(code, message, http_status));
    case CBK_ERROR_TIMEOUT: return f(timeout_error(code, message, http_status));
    case CBK_ERROR_NETWORK: return f(network_error(code, message, http_status));
    case CBK_ERROR_INVALID_RESPONSE: return f(invalid_response(code, message, http_status));
    case CBK_ERROR_CANCELLED: return f(cancelled(code, message, http_status));
    case CBK_ERROR_INTERNAL: return f(internal_error(code, message, http_status));
    default: return f(error(status, code, message, http_status));
    }
}

/**
 * visit_error for a library error (not taken over). A failure reported
 * without an error, which the library promises never to do, still becomes
 * an exception rather than a silent success.
 */
template <class F>
decltype(auto) visit_error(const cbk_error *e, const char *what_failed, F &&f)
{
    if (e == nullptr) {
        return visit_error(CBK_ERROR_INTERNAL, "INTERNAL_ERROR",
                           std::string(what_failed) + " failed without an error", 0, std::forward<F>(f));
    }
    const char *code = cbk_error_code(e);
    const char *message = cbk_error_message(e);
    return visit_error(cbk_error_status(e), code ? code : "", message ? message : "", cbk_error_http_status(e),
                       std::forward<F>(f));
}

} // namespace detail

/**
 * Throws the chatbotkit::error subclass that stands for `status`
 * (api_error for CBK_ERROR_API, ...; chatbotkit::error itself for a status
 * it does not know). For code that reports its own failures the way this
 * header does, and for tests of handlers.
 */
[[noreturn]] inline void throw_error(cbk_status status, std::string_view code, std::string_view message,
                                     int http_status = 0)
{
    detail::visit_error(status, code, message, http_status, [](const auto &e) -> void { throw e; });
    std::terminate(); /* unreachable: every branch above throws */
}

/**
 * What a stream delivered: the number of on_item calls (the one that
 * stopped it included, as the C API counts) and whether on_item stopped it
 * (false: the body ended).
 */
struct stream_result {
    /** How many items on_item was called with. */
    std::size_t items = 0;
    /** True when on_item returned false (or threw); false when the body ended. */
    bool stopped = false;
};

namespace detail {

/** Deleter for strings the library returns. */
struct string_deleter {
    void operator()(char *s) const noexcept { cbk_string_free(s); }
};
/** Deleter for library errors. */
struct error_deleter {
    void operator()(cbk_error *e) const noexcept { cbk_error_free(e); }
};
/** A string the library returned, freed with cbk_string_free. */
using unique_string = std::unique_ptr<char, string_deleter>;
/** An error the library returned, freed with cbk_error_free. */
using unique_error = std::unique_ptr<cbk_error, error_deleter>;

/** Throws the exception for a library error (not taken over). */
[[noreturn]] inline void throw_from(const cbk_error *e, const char *what_failed)
{
    visit_error(e, what_failed, [](const auto &ex) -> void { throw ex; });
    std::terminate(); /* unreachable: every branch above throws */
}

/** The exception for a library error, for a promise (not taken over; never throws). */
inline std::exception_ptr exception_from(const cbk_error *e, const char *what_failed) noexcept
{
    try {
        return visit_error(e, what_failed, [](const auto &ex) { return std::make_exception_ptr(ex); });
    } catch (...) {
        return std::current_exception(); /* std::bad_alloc while copying the texts */
    }
}

/**
 * `s` as NUL-terminated text for the C API. A view is not NUL-terminated,
 * so it is copied; a NUL inside it would silently cut the text short on the
 * C side (an id, say, would name another conversation), so it is refused.
 */
inline std::string to_c(std::string_view s, const char *name)
{
    auto nul = s.find('\0');
    if (nul != std::string_view::npos) {
        throw invalid_argument("INVALID_ARGUMENT", std::string("`") + name + "` contains a NUL byte (at offset " +
                                                       std::to_string(nul) + ")");
    }
    return std::string(s);
}

/**
 * Calls `f(cbk_error **)`, which returns a library-owned `char *`; returns
 * it as a std::string or throws. The string and any error are freed.
 */
template <class F>
std::string call_string(F &&f, const char *what_failed)
{
    cbk_error *raw = nullptr;
    unique_string s(f(&raw));
    unique_error err(raw);
    if (!s) {
        throw_from(err.get(), what_failed);
    }
    return std::string(s.get());
}

/** Calls `f(cbk_error **)`, which returns a new handle; returns it or throws. */
template <class Handle, class F>
Handle *call_handle(F &&f, const char *what_failed)
{
    cbk_error *raw = nullptr;
    Handle *h = f(&raw);
    unique_error err(raw);
    if (h == nullptr) {
        throw_from(err.get(), what_failed);
    }
    return h;
}

/**
 * Starts an async call: `start(user_data, cbk_error **)` returns the task.
 * On success the library's callback owns `state` (it frees it, exactly
 * once), so ownership is given up only then; on failure the callback never
 * runs and `state` is still freed here, by its unique_ptr.
 */
template <class State, class Start>
cbk_task *start_async(std::unique_ptr<State> &state, Start &&start, const char *what_failed)
{
    cbk_error *raw = nullptr;
    cbk_task *t = start(static_cast<void *>(state.get()), &raw);
    unique_error err(raw);
    if (t == nullptr) {
        throw_from(err.get(), what_failed);
    }
    (void)state.release(); /* the callback frees it; it may already have */
    return t;
}

/** Settles `p` from a library outcome; never throws (a failure to copy goes into `p` instead). */
template <class T, class Value>
void settle(std::promise<T> &p, const char *json, const cbk_error *err, Value &&value) noexcept
{
    try {
        if (json != nullptr) {
            p.set_value(value());
        } else {
            p.set_exception(exception_from(err, "async call"));
        }
    } catch (...) {
        try {
            p.set_exception(std::current_exception());
        } catch (...) { /* already satisfied: nothing left to tell */
        }
    }
}

/** The user data of create_async/fetch_async's future shape. */
struct promise_state {
    std::promise<std::string> promise;

    /** The cbk_callback: runs once, on a library thread, and frees the state. */
    static void on_done(void *user_data, const char *json, const cbk_error *err) noexcept
    {
        std::unique_ptr<promise_state> self(static_cast<promise_state *>(user_data));
        settle(self->promise, json, err, [&] { return std::string(json); });
    }
};

/** Whether `F` can be create_async/fetch_async's on_done. */
template <class F>
inline constexpr bool is_done_callable_v = std::is_invocable_v<std::decay_t<F> &, std::string, const error *>;

/** The user data of create_async/fetch_async's callable shape. */
template <class F>
struct callable_state {
    F fn;

    /**
     * The cbk_callback: runs once, on a library thread, and frees the state
     * (the callable with it). noexcept: an exception out of the callable has
     * no caller to go to on a library thread, so it ends the program, as it
     * would from a std::thread's function, rather than unwinding into C.
     */
    static void on_done(void *user_data, const char *json, const cbk_error *err) noexcept
    {
        std::unique_ptr<callable_state> self(static_cast<callable_state *>(user_data));
        if (json != nullptr) {
            std::invoke(self->fn, std::string(json), static_cast<const error *>(nullptr));
        } else {
            visit_error(err, "async call",
                        [&](const auto &e) { std::invoke(self->fn, std::string(), static_cast<const error *>(&e)); });
        }
    }
};

/**
 * Whether `F` can be fetch_stream's on_item: callable (as the lvalue the
 * trampoline holds) with a string_view, returning bool or void. Exactly
 * bool: an int would let C habits (0 = go on) silently mean the opposite.
 */
template <class F, class = void>
struct is_item_callable : std::false_type {};
template <class F>
struct is_item_callable<F, std::enable_if_t<std::is_invocable_v<std::remove_reference_t<F> &, std::string_view>>>
    : std::bool_constant<
          std::is_same_v<std::invoke_result_t<std::remove_reference_t<F> &, std::string_view>, bool> ||
          std::is_void_v<std::invoke_result_t<std::remove_reference_t<F> &, std::string_view>>> {};
/** is_item_callable's value. */
template <class F>
inline constexpr bool is_item_callable_v = is_item_callable<F>::value;

/**
 * What a stream's on_item trampoline keeps: the callable (a reference for
 * the blocking call, where it lives on the caller's stack; owned for the
 * async one), the count, and the first exception the callable threw.
 */
template <class F>
struct stream_state {
    F fn;
    stream_result result;
    std::exception_ptr failure;

    /**
     * The cbk_stream_callback. The exception must not unwind through the C
     * library, so it is kept, the stream is stopped (non-zero), and the
     * caller's side rethrows it once the C call is over.
     */
    static int on_item(void *user_data, const char *item) noexcept
    {
        auto *self = static_cast<stream_state *>(user_data);
        ++self->result.items;
        try {
            std::string_view view(item != nullptr ? item : "");
            using R = std::invoke_result_t<std::remove_reference_t<F> &, std::string_view>;
            if constexpr (std::is_void_v<R>) {
                std::invoke(self->fn, view);
            } else if (!std::invoke(self->fn, view)) {
                self->result.stopped = true;
                return 1;
            }
            return 0;
        } catch (...) {
            self->failure = std::current_exception();
            self->result.stopped = true;
            return 1;
        }
    }
};

/** The user data of fetch_stream_async: the stream's state plus the promise on_done settles. */
template <class F>
struct async_stream_state {
    stream_state<F> stream;
    std::promise<stream_result> promise;

    /** The on_item cbk_stream_callback: stream_state's, on the member (user_data is this object). */
    static int on_item(void *user_data, const char *item) noexcept
    {
        return stream_state<F>::on_item(&static_cast<async_stream_state *>(user_data)->stream, item);
    }

    /** The on_done cbk_callback: runs once, after every on_item, and frees the state. */
    static void on_done(void *user_data, const char *json, const cbk_error *err) noexcept
    {
        std::unique_ptr<async_stream_state> self(static_cast<async_stream_state *>(user_data));
        if (self->stream.failure) {
            try {
                self->promise.set_exception(self->stream.failure);
            } catch (...) { /* already satisfied: nothing left to tell */
            }
            return;
        }
        settle(self->promise, json, err, [&] { return self->stream.result; });
    }
};

/** The C functions of the conversation session client. */
struct conversation_traits {
    using handle = cbk_conversation_session_client;
    static constexpr const char *class_name = "chatbotkit::conversation_session_client";
    static constexpr const char *id_name = "conversation_id";
    static handle *make(const char *o, cbk_error **e) { return cbk_conversation_session_client_new(o, e); }
    static handle *extend(const handle *c, const char *o, cbk_error **e)
    {
        return cbk_conversation_session_client_extend(c, o, e);
    }
    static char *create(const handle *c, const char *id, const char *r, cbk_error **e)
    {
        return cbk_conversation_session_client_create(c, id, r, e);
    }
    static cbk_task *create_async(const handle *c, const char *id, const char *r, cbk_callback cb, void *ud,
                                  cbk_error **e)
    {
        return cbk_conversation_session_client_create_async(c, id, r, cb, ud, e);
    }
    static char *fetch(const handle *c, const char *p, const char *o, cbk_error **e)
    {
        return cbk_conversation_session_client_fetch(c, p, o, e);
    }
    static cbk_task *fetch_async(const handle *c, const char *p, const char *o, cbk_callback cb, void *ud,
                                 cbk_error **e)
    {
        return cbk_conversation_session_client_fetch_async(c, p, o, cb, ud, e);
    }
    static cbk_status fetch_stream(const handle *c, const char *p, const char *o, cbk_stream_callback on_item,
                                   void *ud, cbk_error **e)
    {
        return cbk_conversation_session_client_fetch_stream(c, p, o, on_item, ud, e);
    }
    static cbk_task *fetch_stream_async(const handle *c, const char *p, const char *o, cbk_stream_callback on_item,
                                        cbk_callback on_done, void *ud, cbk_error **e)
    {
        return cbk_conversation_session_client_fetch_stream_async(c, p, o, on_item, on_done, ud, e);
    }
    static char *options(const handle *c, cbk_error **e) { return cbk_conversation_session_client_options(c, e); }
    static void free(handle *c) noexcept { cbk_conversation_session_client_free(c); }
};

/** The C functions of the bot session client. */
struct bot_traits {
    using handle = cbk_bot_session_client;
    static constexpr const char *class_name = "chatbotkit::bot_session_client";
    static constexpr const char *id_name = "bot_id";
    static handle *make(const char *o, cbk_error **e) { return cbk_bot_session_client_new(o, e); }
    static handle *extend(const handle *c, const char *o, cbk_error **e)
    {
        return cbk_bot_session_client_extend(c, o, e);
    }
    static char *create(const handle *c, const char *id, const char *r, cbk_error **e)
    {
        return cbk_bot_session_client_create(c, id, r, e);
    }
    static cbk_task *create_async(const handle *c, const char *id, const char *r, cbk_callback cb, void *ud,
                                  cbk_error **e)
    {
        return cbk_bot_session_client_create_async(c, id, r, cb, ud, e);
    }
    static char *fetch(const handle *c, const char *p, const char *o, cbk_error **e)
    {
        return cbk_bot_session_client_fetch(c, p, o, e);
    }
    static cbk_task *fetch_async(const handle *c, const char *p, const char *o, cbk_callback cb, void *ud,
                                 cbk_error **e)
    {
        return cbk_bot_session_client_fetch_async(c, p, o, cb, ud, e);
    }
    static cbk_status fetch_stream(const handle *c, const char *p, const char *o, cbk_stream_callback on_item,
                                   void *ud, cbk_error **e)
    {
        return cbk_bot_session_client_fetch_stream(c, p, o, on_item, ud, e);
    }
    static cbk_task *fetch_stream_async(const handle *c, const char *p, const char *o, cbk_stream_callback on_item,
                                        cbk_callback on_done, void *ud, cbk_error **e)
    {
        return cbk_bot_session_client_fetch_stream_async(c, p, o, on_item, on_done, ud, e);
    }
    static char *options(const handle *c, cbk_error **e) { return cbk_bot_session_client_options(c, e); }
    static void free(handle *c) noexcept { cbk_bot_session_client_free(c); }
};

} // namespace detail

/**
 * An async call in flight or done (a cbk_task), returned by the callable
 * shapes of create_async and fetch_async. Move-only. Destroying it (or
 * reset()) releases the handle without cancelling, as cbk_task_free does:
 * the request goes on and its callable still runs, so forgetting a task is
 * a fire-and-forget, never a silent cancel.
 */
class task {
public:
    /** An empty task (operator bool is false). */
    task() noexcept = default;
    /** Adopts a task handle (may be NULL); it is freed by this object. */
    explicit task(cbk_task *t) noexcept : t_(t) {}
    /** Takes the handle; `other` is left empty. */
    task(task &&other) noexcept : t_(std::exchange(other.t_, nullptr)) {}
    /** Releases this task's handle (without cancelling) and takes `other`'s. */
    task &operator=(task &&other) noexcept
    {
        if (this != &other) {
            reset();
            t_ = std::exchange(other.t_, nullptr);
        }
        return *this;
    }
    /** Not copyable: exactly one owner frees the handle. */
    task(const task &) = delete;
    /** Not copyable: exactly one owner frees the handle. */
    task &operator=(const task &) = delete;
    /** Releases the handle without cancelling. */
    ~task() { reset(); }

    /**
     * Blocks until the call is done (its callable has returned) and returns
     * the response JSON, or throws its chatbotkit::error subclass
     * (chatbotkit::cancelled after cancel()). May be called any number of
     * times, from many threads at once. Throws invalid_argument on an empty
     * task, and from the task's own callable, where it could never return.
     */
    std::string wait() const
    {
        if (t_ == nullptr) {
            throw invalid_argument("INVALID_ARGUMENT",
                                   "chatbotkit::task is empty (moved from, released or default-constructed)");
        }
        return detail::call_string([&](cbk_error **e) { return cbk_task_wait(t_, e); }, "cbk_task_wait");
    }
    /**
     * Cancels the call unless its callable already started; the callable
     * then gets chatbotkit::cancelled. Does nothing on an empty task.
     */
    void cancel() const noexcept { cbk_task_cancel(t_); }

    /** Whether this task holds a handle. */
    explicit operator bool() const noexcept { return t_ != nullptr; }
    /** The C handle (still owned by this object). */
    cbk_task *native_handle() const noexcept { return t_; }
    /** Gives up ownership of the C handle; free it with cbk_task_free. */
    cbk_task *release() noexcept { return std::exchange(t_, nullptr); }
    /** Releases the handle now (without cancelling). */
    void reset() noexcept
    {
        cbk_task_free(t_);
        t_ = nullptr;
    }

private:
    cbk_task *t_ = nullptr;
};

/**
 * A session client: owns one library handle. Use it through the aliases
 * conversation_session_client, bot_session_client and session_client.
 */
template <class Traits>
class basic_session_client {
public:
    /** The C handle type (cbk_conversation_session_client or cbk_bot_session_client). */
    using handle_type = typename Traits::handle;

    /**
     * Makes a client from an options JSON object (`{"secret":"sk_...",
     * "baseUrl":...}`; see the README's table), the SDK's
     * `new ...SessionClient(options)`. Throws invalid_json for text that is
     * not a JSON object, an unknown option or a wrong type; invalid_argument
     * for a value out of range. The message names the option, never its
     * value.
     */
    explicit basic_session_client(std::string_view options_json = "{}")
        : h_(detail::call_handle<handle_type>(
              [c_options = detail::to_c(options_json, "options_json")](cbk_error **e) {
                  return Traits::make(c_options.c_str(), e);
              },
              "new"))
    {
    }

    /** Adopts a C handle (may be NULL, giving an empty client); it is freed by this object. */
    static basic_session_client adopt(handle_type *h) noexcept { return basic_session_client(h, adopt_tag{}); }

    /** Takes the handle; `other` is left empty (its methods throw "... used after move"). */
    basic_session_client(basic_session_client &&other) noexcept : h_(std::exchange(other.h_, nullptr)) {}
    /** Frees this client's handle and takes `other`'s. */
    basic_session_client &operator=(basic_session_client &&other) noexcept
    {
        if (this != &other) {
            Traits::free(h_);
            h_ = std::exchange(other.h_, nullptr);
        }
        return *this;
    }
    /** Not copyable: exactly one owner frees the handle (use extend() for another client). */
    basic_session_client(const basic_session_client &) = delete;
    /** Not copyable: exactly one owner frees the handle. */
    basic_session_client &operator=(const basic_session_client &) = delete;
    /** Frees the handle; async calls already started go on. */
    ~basic_session_client() { Traits::free(h_); }

    /**
     * A new client with `options_json` merged over this one's options (the
     * SDK's `extend`): shallow, except `headers` and `endpoints`, merged key
     * by key; `null` resets an option (or removes a header/endpoint). The
     * result is independent of this client. Throws as the constructor.
     */
    basic_session_client extend(std::string_view options_json = "{}") const
    {
        const handle_type *h = handle();
        const std::string options = detail::to_c(options_json, "options_json");
        return basic_session_client(
            detail::call_handle<handle_type>([&](cbk_error **e) { return Traits::extend(h, options.c_str(), e); },
                                             "extend"),
            adopt_tag{});
    }

    /**
     * Mints a session for the conversation (or bot) `id` and returns the
     * response JSON as the server sent it, e.g.
     * `{"id":"...","token":"...","expiresAt":...}` (a bot session also has
     * "conversationId"). `request_json` is the request body, a JSON object.
     * Blocks until the answer, retries included. Throws api_error with the
     * server's code and HTTP status for a non-2xx answer; invalid_argument
     * for an empty, "." or ".." id (nothing is sent); invalid_json for a
     * request that is not a JSON object; timeout_error, network_error,
     * invalid_response.
     */
    std::string create(std::string_view id, std::string_view request_json = "{}") const
    {
        const handle_type *h = handle();
        const std::string c_id = detail::to_c(id, Traits::id_name);
        const std::string request = detail::to_c(request_json, "request_json");
        return detail::call_string([&](cbk_error **e) { return Traits::create(h, c_id.c_str(), request.c_str(), e); },
                                   "create");
    }

    /**
     * Starts create() without blocking. The future's get() returns the
     * response or throws what create() would have. Bad arguments throw here
     * instead, and then nothing is sent. Dropping the future does not cancel
     * (a future cannot): the request runs to its end and the result is
     * discarded; use the on_done shape for a cancellable task.
     */
    std::future<std::string> create_async(std::string_view id, std::string_view request_json = "{}") const
    {
        const handle_type *h = handle();
        const std::string c_id = detail::to_c(id, Traits::id_name);
        const std::string request = detail::to_c(request_json, "request_json");
        auto state = std::make_unique<detail::promise_state>();
        std::future<std::string> result = state->promise.get_future();
        /* Freed at once, which does not cancel: the promise, not the task, carries the result. */
        cbk_task_free(detail::start_async(
            state,
            [&](void *ud, cbk_error **e) {
                return Traits::create_async(h, c_id.c_str(), request.c_str(), &detail::promise_state::on_done, ud, e);
            },
            "create_async"));
        return result;
    }

    /**
     * Starts create() without blocking; `on_done(std::string result, const
     * chatbotkit::error *err)` runs exactly once on a library thread: with
     * the response and a null `err`, or with "" and the error (`err` points
     * to the subclass for its status, valid for the call only: copy it to
     * keep it). Returns the task, to cancel() (on_done then gets
     * chatbotkit::cancelled unless it already started) or wait() on. `on_done`
     * is moved into the call (move-only callables are fine) and destroyed
     * on the library thread after it ran. It may call the blocking functions
     * (even create()); an exception out of it calls std::terminate, as from
     * a std::thread, since no caller is left to receive it. Bad arguments
     * throw here, and then `on_done` never runs.
     */
    template <class F, class = std::enable_if_t<detail::is_done_callable_v<F>>>
    task create_async(std::string_view id, std::string_view request_json, F &&on_done) const
    {
        const handle_type *h = handle();
        const std::string c_id = detail::to_c(id, Traits::id_name);
        const std::string request = detail::to_c(request_json, "request_json");
        using state_type = detail::callable_state<std::decay_t<F>>;
        auto state = std::unique_ptr<state_type>(new state_type{std::forward<F>(on_done)});
        return task(detail::start_async(
            state,
            [&](void *ud, cbk_error **e) {
                return Traits::create_async(h, c_id.c_str(), request.c_str(), &state_type::on_done, ud, e);
            },
            "create_async"));
    }

    /** create_async(id, "{}", on_done): the on_done shape with the default request. */
    template <class F, class = std::enable_if_t<detail::is_done_callable_v<F>>>
    task create_async(std::string_view id, F &&on_done) const
    {
        return create_async(id, "{}", std::forward<F>(on_done));
    }

    /**
     * A raw request (the SDK's `clientFetch(path, options)`); `options_json`
     * takes `method`, `headers`, `query`, `record`, `buffer`, `file`,
     * `external`, `endpoint`, `timeout`, `retries`, `retryDelay`,
     * `retryTimeout`, `cache`. Returns the body of a JSON response, or for
     * another 2xx `{"headers":{...},"data":"<base64>","encoding":"base64"}`.
     */
    std::string fetch(std::string_view path, std::string_view options_json = "{}") const
    {
        const handle_type *h = handle();
        const std::string c_path = detail::to_c(path, "path");
        const std::string options = detail::to_c(options_json, "options_json");
        return detail::call_string(
            [&](cbk_error **e) { return Traits::fetch(h, c_path.c_str(), options.c_str(), e); }, "fetch");
    }

    /** fetch() without blocking, as a future: see create_async(id, request). */
    std::future<std::string> fetch_async(std::string_view path, std::string_view options_json = "{}") const
    {
        const handle_type *h = handle();
        const std::string c_path = detail::to_c(path, "path");
        const std::string options = detail::to_c(options_json, "options_json");
        auto state = std::make_unique<detail::promise_state>();
        std::future<std::string> result = state->promise.get_future();
        cbk_task_free(detail::start_async( /* freed at once, as in create_async */
            state,
            [&](void *ud, cbk_error **e) {
                return Traits::fetch_async(h, c_path.c_str(), options.c_str(), &detail::promise_state::on_done, ud, e);
            },
            "fetch_async"));
        return result;
    }

    /** fetch() without blocking, calling `on_done`: see create_async(id, request, on_done). */
    template <class F, class = std::enable_if_t<detail::is_done_callable_v<F>>>
    task fetch_async(std::string_view path, std::string_view options_json, F &&on_done) const
    {
        const handle_type *h = handle();
        const std::string c_path = detail::to_c(path, "path");
        const std::string options = detail::to_c(options_json, "options_json");
        using state_type = detail::callable_state<std::decay_t<F>>;
        auto state = std::unique_ptr<state_type>(new state_type{std::forward<F>(on_done)});
        return task(detail::start_async(
            state,
            [&](void *ud, cbk_error **e) {
                return Traits::fetch_async(h, c_path.c_str(), options.c_str(), &state_type::on_done, ud, e);
            },
            "fetch_async"));
    }

    /** fetch_async(path, "{}", on_done). */
    template <class F, class = std::enable_if_t<detail::is_done_callable_v<F>>>
    task fetch_async(std::string_view path, F &&on_done) const
    {
        return fetch_async(path, "{}", std::forward<F>(on_done));
    }

    /**
     * Streams a raw request's body as JSON Lines (`clientFetch(...).stream()`),
     * blocking: `on_item(std::string_view item)` gets each line's JSON text
     * as it arrives (the view is valid for the call only) and returns true to
     * go on, false to stop (the connection is then closed); one returning
     * void takes every item. It runs on the calling thread (on a library
     * thread only when every lane is busy) and must not call the library's
     * blocking functions, which fail there.
     *
     * An exception thrown by on_item stops the stream and is rethrown here,
     * as it was, once the C call has returned: it never unwinds through the
     * library. Otherwise a failure throws its chatbotkit::error subclass
     * (after the items before it). Returns how many items there were and
     * whether on_item stopped the stream.
     */
    template <class F, class = std::enable_if_t<detail::is_item_callable_v<F>>>
    stream_result fetch_stream(std::string_view path, std::string_view options_json, F &&on_item) const
    {
        const handle_type *h = handle();
        const std::string c_path = detail::to_c(path, "path");
        const std::string options = detail::to_c(options_json, "options_json");
        detail::stream_state<F &> state{on_item, {}, nullptr};
        cbk_error *raw = nullptr;
        cbk_status status = Traits::fetch_stream(h, c_path.c_str(), options.c_str(),
                                                 &detail::stream_state<F &>::on_item, &state, &raw);
        detail::unique_error err(raw);
        if (state.failure) {
            std::rethrow_exception(state.failure);
        }
        if (status != CBK_OK) {
            detail::throw_from(err.get(), "fetch_stream");
        }
        return state.result;
    }

    /** fetch_stream(path, "{}", on_item). */
    template <class F, class = std::enable_if_t<detail::is_item_callable_v<F>>>
    stream_result fetch_stream(std::string_view path, F &&on_item) const
    {
        return fetch_stream(path, "{}", std::forward<F>(on_item));
    }

    /**
     * fetch_stream() without blocking: `on_item` (moved into the call) runs
     * once per item, in order, on library threads, returning true to go on or
     * false to stop; the future then gets the stream_result, or the error,
     * or the exception on_item threw (which stopped the stream). To cancel,
     * have on_item return false: dropping the future does not stop the
     * stream, and on_item keeps running until the body ends, so what it
     * captures must outlive the stream. Bad arguments throw here.
     */
    template <class F, class = std::enable_if_t<detail::is_item_callable_v<F>>>
    std::future<stream_result> fetch_stream_async(std::string_view path, std::string_view options_json,
                                                  F &&on_item) const
    {
        const handle_type *h = handle();
        const std::string c_path = detail::to_c(path, "path");
        const std::string options = detail::to_c(options_json, "options_json");
        using state_type = detail::async_stream_state<std::decay_t<F>>;
        auto state = std::unique_ptr<state_type>(new state_type{{std::forward<F>(on_item), {}, nullptr}, {}});
        std::future<stream_result> result = state->promise.get_future();
        cbk_task_free(detail::start_async( /* freed at once: on_item returning false is the way to stop */
            state,
            [&](void *ud, cbk_error **e) {
                return Traits::fetch_stream_async(h, c_path.c_str(), options.c_str(), &state_type::on_item,
                                                  &state_type::on_done, ud, e);
            },
            "fetch_stream_async"));
        return result;
    }

    /** fetch_stream_async(path, "{}", on_item). */
    template <class F, class = std::enable_if_t<detail::is_item_callable_v<F>>>
    std::future<stream_result> fetch_stream_async(std::string_view path, F &&on_item) const
    {
        return fetch_stream_async(path, "{}", std::forward<F>(on_item));
    }

    /**
     * The effective options as JSON (`baseUrl` with `host`/`protocol`
     * applied, defaults filled in), valid input for the constructor. It
     * contains the secret: handle it as such.
     */
    std::string options() const
    {
        const handle_type *h = handle();
        return detail::call_string([&](cbk_error **e) { return Traits::options(h, e); }, "options");
    }

    /** Whether this client holds a handle (false after it was moved from or released). */
    explicit operator bool() const noexcept { return h_ != nullptr; }
    /** The C handle, still owned by this object (for calls this header does not wrap). */
    handle_type *native_handle() const noexcept { return h_; }
    /** Gives up ownership of the C handle; the caller frees it. The client is left empty. */
    handle_type *release() noexcept { return std::exchange(h_, nullptr); }
    /** Exchanges the handles of two clients. */
    void swap(basic_session_client &other) noexcept { std::swap(h_, other.h_); }
    /** Exchanges the handles of two clients. */
    friend void swap(basic_session_client &a, basic_session_client &b) noexcept { a.swap(b); }

private:
    struct adopt_tag {};
    basic_session_client(handle_type *h, adopt_tag) noexcept : h_(h) {}

    /**
     * The handle, checked first: the C library would report an empty one as
     * "`client` is NULL", which names no C++ mistake; the usual cause here
     * is a use after std::move.
     */
    const handle_type *handle() const
    {
        if (h_ == nullptr) {
            throw invalid_argument("INVALID_ARGUMENT", std::string(Traits::class_name) + " used after move");
        }
        return h_;
    }

    handle_type *h_ = nullptr;
};

/** The SDK's ConversationSessionClient: mints conversation session tokens. */
using conversation_session_client = basic_session_client<detail::conversation_traits>;
/** The SDK's BotSessionClient: mints bot session tokens (each opens a new conversation). */
using bot_session_client = basic_session_client<detail::bot_traits>;
/** The SDK's pre-2024 name for the bot session client (cbk_session_client). */
using session_client = bot_session_client;

/** A log callable: the line's level and text (the view is valid for the call only). */
using log_function = std::function<void(cbk_log_level level, std::string_view message)>;

namespace detail {

/** The installed log callable, shared by every thread that logs. */
struct log_state {
    /** Guards `fn` for the moment it takes to copy or swap the pointer. */
    std::mutex fn_mutex;
    /**
     * Shared so that a line being delivered on another thread keeps the
     * callable it started with alive, even while it is replaced.
     */
    std::shared_ptr<const log_function> fn;
    /**
     * Serialises set_log_callback, so that the callable and the level the
     * library holds always come from the same call. Recursive in case the
     * library logs from inside cbk_set_log_callback on this thread and the
     * callable calls set_log_callback.
     */
    std::recursive_mutex set_mutex;
};

/**
 * The one log_state. Never destroyed, on purpose: library threads may log
 * while static destructors run at exit, and must not find it gone.
 */
inline log_state &log_state_instance()
{
    static log_state *state = new log_state();
    return *state;
}

/**
 * The cbk_log_callback. noexcept and catching everything: an exception
 * must not unwind into the library, and a failure to log is no reason to
 * end the program, so the line is dropped instead.
 */
inline void log_trampoline(void *, cbk_log_level level, const char *message) noexcept
{
    try {
        std::shared_ptr<const log_function> fn;
        {
            log_state &s = log_state_instance();
            std::lock_guard<std::mutex> lock(s.fn_mutex);
            fn = s.fn;
        }
        if (fn && *fn) {
            (*fn)(level, message != nullptr ? std::string_view(message) : std::string_view());
        }
    } catch (...) {
    }
}

} // namespace detail

/**
 * Sends the library's log lines at `max_level` or more severe
 * (CBK_LOG_ERROR .. CBK_LOG_DEBUG) to `fn(level, message)`; an empty `fn`
 * (or nullptr) turns logging off. Replaces any earlier callable, also one
 * set through cbk_set_log_callback. Lines never contain the secret.
 *
 * `fn` may run on any thread, several at once, while the library drives a
 * request there: it must be thread-safe, and must not call the library's
 * blocking functions (they fail there). It may call set_log_callback. An
 * exception out of it is swallowed (the line is lost). Safe to call from
 * many threads; a line that another thread was already delivering may still
 * reach the callable being replaced, which is kept alive until it returns,
 * or reach the new callable at the level in force before.
 */
inline void set_log_callback(cbk_log_level max_level, log_function fn)
{
    detail::log_state &s = detail::log_state_instance();
    std::lock_guard<std::recursive_mutex> set_lock(s.set_mutex);
    std::shared_ptr<const log_function> next;
    if (fn) {
        next = std::make_shared<const log_function>(std::move(fn));
    } else {
        ::cbk_set_log_callback(max_level, nullptr, nullptr); /* off before the callable goes */
    }
    {
        std::lock_guard<std::mutex> lock(s.fn_mutex);
        s.fn.swap(next);
    }
    if (s.fn) {
        /* One (callback, user data) for every callable: the library keeps each distinct one until exit. */
        ::cbk_set_log_callback(max_level, &detail::log_trampoline, nullptr);
    }
    /* `next` now holds the old callable, destroyed here, outside fn_mutex. */
}

static_assert(!std::is_copy_constructible_v<conversation_session_client>, "clients are move-only");
static_assert(std::is_nothrow_move_constructible_v<conversation_session_client>, "moves never throw");
static_assert(std::is_nothrow_move_assignable_v<bot_session_client>, "moves never throw");
static_assert(std::is_nothrow_copy_constructible_v<error>, "exceptions copy without throwing");
static_assert(std::is_nothrow_copy_constructible_v<api_error>, "exceptions copy without throwing");

} // namespace chatbotkit

#endif /* CHATBOTKIT_HPP */
