/*
 * chatbotkit.hpp - a small header-only C++17 wrapper over chatbotkit.h.
 *
 * Mint ChatBotKit conversation and bot session tokens from C++ with RAII
 * handles and exceptions instead of raw pointers and error out-parameters:
 *
 *     #include <chatbotkit.hpp>
 *
 *     chatbotkit::conversation_session_client client(R"({"secret":"sk_..."})");
 *     try {
 *         std::string session = client.create("cnv_123");   // {"id":..,"token":..,"expiresAt":..}
 *     } catch (const chatbotkit::error &e) {
 *         std::cerr << e.code() << ": " << e.message() << " (HTTP " << e.http_status() << ")\n";
 *     }
 *
 * Build: g++ -std=c++17 app.cpp -Iinclude -Ltarget/release
 *        -Wl,-rpath,$PWD/target/release -lchatbotkit
 *
 * Conventions
 * -----------
 * - Everything the C API takes or returns as JSON text is a std::string of
 *   UTF-8 JSON here; this header does not parse JSON (use your own JSON
 *   library on the results). Defaults follow the C API: options "{}",
 *   request "{}".
 * - Every failure throws chatbotkit::error (a std::runtime_error) carrying
 *   the library's status, code, message and HTTP status; see the C header for
 *   which status means what. std::bad_alloc may also be thrown.
 * - A std::string argument containing a NUL byte cannot be passed to the C
 *   API without being cut short, so it is refused with an error of status
 *   CBK_ERROR_INVALID_ARGUMENT (code "INVALID_ARGUMENT") and nothing is sent.
 * - Every string and error the library returns is freed here (with
 *   cbk_string_free / cbk_error_free); every handle is freed by its owner's
 *   destructor. Nothing leaks, also when an exception is thrown.
 *
 * Ownership and threads
 * ---------------------
 * - The client classes own one library handle each. They are move-only: a
 *   move transfers the handle and leaves the source empty (operator bool is
 *   false); calling a method on an empty client throws chatbotkit::error
 *   with CBK_ERROR_INVALID_ARGUMENT. Moves never throw.
 * - A client made by extend() is independent of its parent: destroy them in
 *   any order.
 * - The const member functions (create, extend, fetch, options,
 *   create_async) may be called on one client from many threads at once, as
 *   the library's handles are thread-safe. Moving, assigning or destroying a
 *   client while another thread uses it is, as for any C++ object, a race.
 * - chatbotkit::error is immutable and cheap to copy (its copy never throws).
 *
 * This header adds no symbols to the library: it is all inline, in
 * namespace chatbotkit, and needs only chatbotkit.h and the C++17 standard
 * library.
 */
#ifndef CHATBOTKIT_HPP
#define CHATBOTKIT_HPP

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "chatbotkit.h"

namespace chatbotkit {

/** The library version, e.g. "0.1.0" (cbk_version(); the same text as CHATBOTKIT_VERSION). */
inline std::string version() { return std::string(cbk_version()); }

/**
 * The name of a status, as cbk_error_to_json spells it: "OK",
 * "INVALID_ARGUMENT", "INVALID_JSON", "API", "TIMEOUT", "NETWORK",
 * "INVALID_RESPONSE", "CANCELLED", "INTERNAL"; "UNKNOWN" for any other value.
 * A static string: never freed.
 */
inline const char *status_name(cbk_status status) noexcept
{
    return ::cbk_status_name(status);
}

/**
 * A failed library call: a copy of the cbk_error the library reported (the
 * library's own error object is freed before this is thrown).
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
    /** Makes an error by hand (the library's errors are made by this header). */
    error(cbk_status status, const std::string &code, const std::string &message, int http_status)
        : std::runtime_error(message),
          status_(status),
          code_(std::make_shared<const std::string>(code)),
          http_status_(http_status)
    {
    }

    /** The error's status. */
    cbk_status status() const noexcept { return status_; }
    /** The status's name, e.g. "API" (see status_name()). */
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

namespace detail {

/** Deleter for strings the library returns. */
struct string_deleter {
    void operator()(char *s) const noexcept { cbk_string_free(s); }
};
/** Deleter for library errors. */
struct error_deleter {
    void operator()(cbk_error *e) const noexcept { cbk_error_free(e); }
};
using unique_string = std::unique_ptr<char, string_deleter>;
using unique_error = std::unique_ptr<cbk_error, error_deleter>;

/**
 * Converts a library error to chatbotkit::error. Does not take ownership.
 * A NULL error (a failure reported without one, which the library does not
 * do) becomes CBK_ERROR_INTERNAL.
 */
inline chatbotkit::error to_exception(const cbk_error *e, const char *what_failed)
{
    if (e == nullptr) {
        return chatbotkit::error(CBK_ERROR_INTERNAL, "INTERNAL_ERROR",
                                 std::string(what_failed) + " failed without an error", 0);
    }
    const char *code = cbk_error_code(e);
    const char *message = cbk_error_message(e);
    return chatbotkit::error(cbk_error_status(e), code ? code : "", message ? message : "",
                             cbk_error_http_status(e));
}

/** The C string of `s`, or an INVALID_ARGUMENT error when it holds a NUL byte. */
inline const char *c_str(const std::string &s, const char *name)
{
    if (s.find('\0') != std::string::npos) {
        throw chatbotkit::error(CBK_ERROR_INVALID_ARGUMENT, "INVALID_ARGUMENT",
                                std::string("`") + name + "` contains a NUL byte", 0);
    }
    return s.c_str();
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
        throw to_exception(err.get(), what_failed);
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
        throw to_exception(err.get(), what_failed);
    }
    return h;
}

/** The C functions of the conversation session client. */
struct conversation_traits {
    using handle = cbk_conversation_session_client;
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
    static cbk_task *create_async(const handle *c, const char *id, const char *r, cbk_error **e)
    {
        return cbk_conversation_session_client_create_async(c, id, r, nullptr, nullptr, e);
    }
    static char *fetch(const handle *c, const char *p, const char *o, cbk_error **e)
    {
        return cbk_conversation_session_client_fetch(c, p, o, e);
    }
    static char *options(const handle *c, cbk_error **e) { return cbk_conversation_session_client_options(c, e); }
    static void free(handle *c) noexcept { cbk_conversation_session_client_free(c); }
};

/** The C functions of the bot session client. */
struct bot_traits {
    using handle = cbk_bot_session_client;
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
    static cbk_task *create_async(const handle *c, const char *id, const char *r, cbk_error **e)
    {
        return cbk_bot_session_client_create_async(c, id, r, nullptr, nullptr, e);
    }
    static char *fetch(const handle *c, const char *p, const char *o, cbk_error **e)
    {
        return cbk_bot_session_client_fetch(c, p, o, e);
    }
    static char *options(const handle *c, cbk_error **e) { return cbk_bot_session_client_options(c, e); }
    static void free(handle *c) noexcept { cbk_bot_session_client_free(c); }
};

} // namespace detail

/**
 * An async create in flight or done (cbk_task). Move-only; the destructor
 * releases the handle without cancelling (the request goes on and its
 * resources are released when it finishes).
 */
class task {
public:
    /** An empty task (operator bool is false). */
    task() noexcept = default;
    /** Adopts a task handle (may be NULL). */
    explicit task(cbk_task *t) noexcept : t_(t) {}
    task(task &&other) noexcept : t_(std::exchange(other.t_, nullptr)) {}
    task &operator=(task &&other) noexcept
    {
        if (this != &other) {
            reset();
            t_ = std::exchange(other.t_, nullptr);
        }
        return *this;
    }
    task(const task &) = delete;
    task &operator=(const task &) = delete;
    ~task() { reset(); }

    /**
     * Blocks until the call is done and returns the response JSON, or throws
     * chatbotkit::error (CBK_ERROR_CANCELLED after cancel()). May be called
     * any number of times, from many threads at once.
     */
    std::string wait() const
    {
        return detail::call_string([&](cbk_error **e) { return cbk_task_wait(t_, e); }, "cbk_task_wait");
    }
    /** Cancels the call unless it is already done. Does nothing on an empty task. */
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
     * `new ...SessionClient(options)`. Throws chatbotkit::error:
     * CBK_ERROR_INVALID_JSON for text that is not a JSON object, an unknown
     * option or a wrong type; CBK_ERROR_INVALID_ARGUMENT for a value out of
     * range. The message names the option, never its value.
     */
    explicit basic_session_client(const std::string &options_json = "{}")
        : h_(detail::call_handle<handle_type>(
              [&](cbk_error **e) { return Traits::make(detail::c_str(options_json, "options_json"), e); },
              "new"))
    {
    }

    /** Adopts a C handle (may be NULL, giving an empty client); it is freed by this object. */
    static basic_session_client adopt(handle_type *h) noexcept { return basic_session_client(h, adopt_tag{}); }

    basic_session_client(basic_session_client &&other) noexcept : h_(std::exchange(other.h_, nullptr)) {}
    basic_session_client &operator=(basic_session_client &&other) noexcept
    {
        if (this != &other) {
            Traits::free(h_);
            h_ = std::exchange(other.h_, nullptr);
        }
        return *this;
    }
    basic_session_client(const basic_session_client &) = delete;
    basic_session_client &operator=(const basic_session_client &) = delete;
    ~basic_session_client() { Traits::free(h_); }

    /**
     * A new client with `options_json` merged over this one's options (the
     * SDK's `extend`): shallow, except `headers` and `endpoints`, merged key
     * by key; `null` resets an option (or removes a header/endpoint). The
     * result is independent of this client. Throws as the constructor.
     */
    basic_session_client extend(const std::string &options_json = "{}") const
    {
        return basic_session_client(
            detail::call_handle<handle_type>(
                [&](cbk_error **e) {
                    return Traits::extend(h_, detail::c_str(options_json, "options_json"), e);
                },
                "extend"),
            adopt_tag{});
    }

    /**
     * Mints a session for the conversation (or bot) `id` and returns the
     * response JSON as the server sent it, e.g.
     * `{"id":"...","token":"...","expiresAt":...}` (a bot session also has
     * "conversationId"). `request_json` is the request body, a JSON object.
     * Blocks until the answer, retries included. Throws chatbotkit::error:
     * CBK_ERROR_API with the server's code and HTTP status for a non-2xx
     * answer; CBK_ERROR_INVALID_ARGUMENT for an empty, "." or ".." id (nothing
     * is sent); CBK_ERROR_INVALID_JSON for a request that is not a JSON
     * object; CBK_ERROR_TIMEOUT, CBK_ERROR_NETWORK, CBK_ERROR_INVALID_RESPONSE.
     */
    std::string create(const std::string &id, const std::string &request_json = "{}") const
    {
        return detail::call_string(
            [&](cbk_error **e) {
                return Traits::create(h_, detail::c_str(id, Traits::id_name),
                                      detail::c_str(request_json, "request_json"), e);
            },
            "create");
    }

    /**
     * Starts create() without blocking and returns its task; wait() on it
     * for the response (or the error). Bad arguments throw here, and then
     * nothing is sent. This client may be destroyed while the task runs.
     */
    task create_async(const std::string &id, const std::string &request_json = "{}") const
    {
        cbk_error *raw = nullptr;
        task t(Traits::create_async(h_, detail::c_str(id, Traits::id_name),
                                    detail::c_str(request_json, "request_json"), &raw));
        detail::unique_error err(raw);
        if (!t) {
            throw detail::to_exception(err.get(), "create_async");
        }
        return t;
    }

    /**
     * A raw request (the SDK's `clientFetch(path, options)`); `options_json`
     * takes `method`, `headers`, `query`, `record`, `buffer`, `file`,
     * `external`, `endpoint`, `timeout`, `retries`, `retryDelay`,
     * `retryTimeout`. Returns the body of a JSON response, or for another
     * 2xx `{"headers":{...},"data":"<base64>","encoding":"base64"}`.
     */
    std::string fetch(const std::string &path, const std::string &options_json = "{}") const
    {
        return detail::call_string(
            [&](cbk_error **e) {
                return Traits::fetch(h_, detail::c_str(path, "path"), detail::c_str(options_json, "options_json"),
                                     e);
            },
            "fetch");
    }

    /**
     * The effective options as JSON (`baseUrl` with `host`/`protocol`
     * applied, defaults filled in), valid input for the constructor. It
     * contains the secret: handle it as such.
     */
    std::string options() const
    {
        return detail::call_string([&](cbk_error **e) { return Traits::options(h_, e); }, "options");
    }

    /** Whether this client holds a handle (false after it was moved from). */
    explicit operator bool() const noexcept { return h_ != nullptr; }
    /** The C handle, still owned by this object (for calls this header does not wrap). */
    handle_type *native_handle() const noexcept { return h_; }
    /** Gives up ownership of the C handle; the caller frees it. The client is left empty. */
    handle_type *release() noexcept { return std::exchange(h_, nullptr); }
    /** Exchanges the handles of two clients. */
    void swap(basic_session_client &other) noexcept { std::swap(h_, other.h_); }
    friend void swap(basic_session_client &a, basic_session_client &b) noexcept { a.swap(b); }

private:
    struct adopt_tag {};
    basic_session_client(handle_type *h, adopt_tag) noexcept : h_(h) {}

    handle_type *h_ = nullptr;
};

/** The SDK's ConversationSessionClient: mints conversation session tokens. */
using conversation_session_client = basic_session_client<detail::conversation_traits>;
/** The SDK's BotSessionClient: mints bot session tokens (each opens a new conversation). */
using bot_session_client = basic_session_client<detail::bot_traits>;
/** The SDK's pre-2024 name for the bot session client (cbk_session_client). */
using session_client = bot_session_client;

static_assert(!std::is_copy_constructible_v<conversation_session_client>, "clients are move-only");
static_assert(std::is_nothrow_move_constructible_v<conversation_session_client>, "moves never throw");
static_assert(std::is_nothrow_move_assignable_v<bot_session_client>, "moves never throw");
static_assert(std::is_nothrow_copy_constructible_v<error>, "exceptions copy without throwing");

} // namespace chatbotkit

#endif /* CHATBOTKIT_HPP */
