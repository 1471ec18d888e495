// test_wrapper.cpp - tests of include/chatbotkit.hpp, the C++17 wrapper.
//
// Runs against the loopback stand-in (tests/cpp/Makefile starts it through
// ../../scripts/with-standin.sh, which exports CHATBOTKIT_API_BASE_URL and
// CHATBOTKIT_API_SECRET) and under valgrind, so every handle, string and
// error the wrapper touches must be freed.
//
// Prints "ok N - name" / "not ok N - name" per test and "P passed, F failed";
// exits nonzero when a test failed.

#include <chatbotkit.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <future>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace cbk = chatbotkit;

// ---------------------------------------------------------------------------
// A tiny harness.

namespace {

int g_number = 0, g_passed = 0, g_failed = 0;
bool g_current_failed = false;

void fail(const char *file, int line, const std::string &what)
{
    std::printf("#   %s:%d: %s\n", file, line, what.c_str());
    std::fflush(stdout);
    g_current_failed = true;
}

struct require_failed {};

#define CHECK(cond) \
    do { if (!(cond)) fail(__FILE__, __LINE__, "check failed: " #cond); } while (0)
#define REQUIRE(cond) \
    do { if (!(cond)) { fail(__FILE__, __LINE__, "requirement failed: " #cond); throw require_failed{}; } } while (0)
#define CHECK_EQ(got, want) check_eq(__FILE__, __LINE__, #got, (got), (want))
#define CHECK_CONTAINS(hay, needle) check_contains(__FILE__, __LINE__, #hay, (hay), (needle), true)
#define CHECK_NOT_CONTAINS(hay, needle) check_contains(__FILE__, __LINE__, #hay, (hay), (needle), false)

std::string show(const std::string &s) { return "\"" + s + "\""; }
std::string show(int v) { return std::to_string(v); }
std::string show(cbk_status v) { return std::string(cbk::status_name(v)) + " (" + std::to_string(int(v)) + ")"; }

template <class A, class B>
void check_eq(const char *file, int line, const char *expr, const A &got, const B &want)
{
    if (!(got == want)) {
        fail(file, line, std::string(expr) + ": got " + show(got) + ", want " + show(want));
    }
}

void check_contains(const char *file, int line, const char *expr, const std::string &hay, const std::string &needle,
                    bool want)
{
    bool found = hay.find(needle) != std::string::npos;
    if (found != want) {
        fail(file, line, std::string(expr) + " (" + show(hay) + ") " + (want ? "does not contain " : "contains ") +
                             show(needle));
    }
}

void run(const char *name, const std::function<void()> &fn)
{
    g_current_failed = false;
    try {
        fn();
    } catch (const require_failed &) {
    } catch (const cbk::error &e) {
        fail(__FILE__, __LINE__,
             std::string("unexpected chatbotkit::error ") + e.status_name() + " " + e.code() + ": " + e.what());
    } catch (const std::exception &e) {
        fail(__FILE__, __LINE__, std::string("unexpected exception: ") + e.what());
    }
    ++g_number;
    if (g_current_failed) {
        ++g_failed;
        std::printf("not ok %d - %s\n", g_number, name);
    } else {
        ++g_passed;
        std::printf("ok %d - %s\n", g_number, name);
    }
    std::fflush(stdout);
}

#define RUN(fn) run(#fn, fn)

// Runs `fn`, which must throw chatbotkit::error; returns it (or fails the test).
template <class F>
cbk::error expect_error(const char *file, int line, F &&fn)
{
    try {
        fn();
    } catch (const cbk::error &e) {
        return e;
    } catch (const std::exception &e) {
        fail(file, line, std::string("threw another exception: ") + e.what());
        throw require_failed{};
    }
    fail(file, line, "did not throw");
    throw require_failed{};
}
#define EXPECT_ERROR(...) expect_error(__FILE__, __LINE__, [&] { __VA_ARGS__; })

// ---------------------------------------------------------------------------
// Environment and small JSON helpers (just enough for these checks).

std::string env(const char *name)
{
    const char *v = std::getenv(name);
    return v ? v : "";
}

std::string json_escape(const std::string &s)
{
    std::string out = "\"";
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += char(c);
        } else if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += char(c);
        }
    }
    return out + "\"";
}

std::string g_secret, g_base_url, g_options;

// The value of a top-level string member, for the flat JSON the stand-in sends.
std::string string_member(const std::string &json, const std::string &key)
{
    std::string needle = "\"" + key + "\":\"";
    auto at = json.find(needle);
    if (at == std::string::npos) {
        return "";
    }
    at += needle.size();
    auto end = json.find('"', at);
    return end == std::string::npos ? "" : json.substr(at, end - at);
}

// ---------------------------------------------------------------------------
// Tests.

void test_version()
{
    CHECK_EQ(cbk::version(), std::string(cbk_version()));
    // The library loaded may be newer than the header, but not of another major version.
    CHECK_EQ(cbk::version().substr(0, cbk::version().find('.')), std::to_string(CHATBOTKIT_VERSION_MAJOR));
    CHECK_EQ(std::string(cbk::status_name(CBK_ERROR_API)), std::string("API"));
    CHECK_EQ(std::string(cbk::status_name(CBK_ERROR_INVALID_JSON)), std::string("INVALID_JSON"));
}

void test_types()
{
    static_assert(std::is_same_v<cbk::session_client, cbk::bot_session_client>);
    static_assert(!std::is_same_v<cbk::conversation_session_client, cbk::bot_session_client>);
    static_assert(!std::is_copy_constructible_v<cbk::conversation_session_client>);
    static_assert(!std::is_copy_assignable_v<cbk::bot_session_client>);
    static_assert(std::is_nothrow_move_constructible_v<cbk::bot_session_client>);
    static_assert(std::is_nothrow_move_assignable_v<cbk::conversation_session_client>);
    static_assert(!std::is_copy_constructible_v<cbk::task>);
    static_assert(std::is_nothrow_move_constructible_v<cbk::task>);
    static_assert(std::is_base_of_v<std::runtime_error, cbk::error>);
    static_assert(std::is_same_v<cbk::session_client::handle_type, cbk_session_client>);
    // No implicit conversion from a string to a client.
    static_assert(!std::is_convertible_v<std::string, cbk::conversation_session_client>);
    // One class per status, all chatbotkit::error.
    static_assert(std::is_base_of_v<cbk::error, cbk::invalid_argument>);
    static_assert(std::is_base_of_v<cbk::error, cbk::invalid_json>);
    static_assert(std::is_base_of_v<cbk::error, cbk::api_error>);
    static_assert(std::is_base_of_v<cbk::error, cbk::timeout_error>);
    static_assert(std::is_base_of_v<cbk::error, cbk::network_error>);
    static_assert(std::is_base_of_v<cbk::error, cbk::invalid_response>);
    static_assert(std::is_base_of_v<cbk::error, cbk::cancelled>);
    static_assert(std::is_base_of_v<cbk::error, cbk::internal_error>);
    static_assert(std::is_nothrow_copy_constructible_v<cbk::network_error>);
    // The async shapes.
    using conv = cbk::conversation_session_client;
    static_assert(std::is_same_v<decltype(std::declval<const conv &>().create_async("x")), std::future<std::string>>);
    static_assert(std::is_same_v<decltype(std::declval<const conv &>().fetch_async("/x", "{}")),
                                 std::future<std::string>>);
    auto on_done = [](std::string, const cbk::error *) {};
    static_assert(std::is_same_v<decltype(std::declval<const conv &>().create_async("x", on_done)), cbk::task>);
    static_assert(std::is_same_v<decltype(std::declval<const conv &>().fetch_async("/x", "{}", on_done)), cbk::task>);
    // A stream callable returns bool (true = go on) or void, never an int
    // (C's 0 = go on would mean the opposite).
    auto by_bool = [](std::string_view) { return true; };
    auto by_void = [](std::string_view) {};
    auto by_int = [](std::string_view) { return 0; };
    static_assert(cbk::detail::is_item_callable_v<decltype(by_bool)>);
    static_assert(cbk::detail::is_item_callable_v<decltype(by_void) &>);
    static_assert(!cbk::detail::is_item_callable_v<decltype(by_int)>);
    static_assert(!cbk::detail::is_item_callable_v<const char *>);
}

void test_conversation_create()
{
    cbk::conversation_session_client client(g_options);
    REQUIRE(client);
    std::string session = client.create("cnv_cpp_1");
    CHECK_EQ(session.front(), '{');
    CHECK(!string_member(session, "token").empty());
    CHECK(!string_member(session, "id").empty());
    CHECK_CONTAINS(session, "\"expiresAt\":");

    // With an explicit request body; two sessions get two tokens.
    std::string again = client.create("cnv_cpp_1", R"({"expiresIn":60})");
    CHECK(string_member(again, "token") != string_member(session, "token"));

    // The request went where the SDK sends it, with the body as given.
    std::string log = client.fetch("/_standin/requests", R"({"method":"GET"})");
    CHECK_CONTAINS(log, "/api/v1/conversation/cnv_cpp_1/session/create");
    CHECK_CONTAINS(log, "expiresIn");
}

void test_bot_create()
{
    cbk::bot_session_client client(g_options);
    std::string session = client.create("bot_cpp_1", "{}");
    CHECK(!string_member(session, "token").empty());
    CHECK(!string_member(session, "conversationId").empty());

    cbk::session_client old_name(g_options);
    CHECK(!string_member(old_name.create("bot_cpp_2"), "token").empty());

    std::string log = client.fetch("/_standin/requests", R"({"method":"GET"})");
    CHECK_CONTAINS(log, "/api/v1/bot/bot_cpp_1/session/create");
    CHECK_CONTAINS(log, "/api/v1/bot/bot_cpp_2/session/create");
}

void test_default_options()
{
    // "{}" by default: no secret, the real API's URL; nothing is sent.
    cbk::conversation_session_client client;
    std::string options = client.options();
    CHECK_CONTAINS(options, "\"baseUrl\":\"https://api.chatbotkit.com");
    CHECK_NOT_CONTAINS(options, "\"secret\"");
    CHECK_CONTAINS(options, "\"retries\":3");
}

void test_options()
{
    cbk::conversation_session_client client(g_options);
    std::string options = client.options();
    CHECK_EQ(string_member(options, "secret"), g_secret);
    CHECK_CONTAINS(options, "\"baseUrl\":\"" + g_base_url);
    CHECK_CONTAINS(options, "\"retries\":3");

    // The options JSON is valid input for the constructor.
    cbk::conversation_session_client copy(options);
    CHECK_EQ(copy.options(), options);
    CHECK(!string_member(copy.create("cnv_cpp_options"), "token").empty());

    cbk::bot_session_client bot(g_options);
    CHECK_EQ(string_member(bot.options(), "secret"), g_secret);
}

void test_extend()
{
    auto parent = std::make_unique<cbk::conversation_session_client>(g_options);
    cbk::conversation_session_client child =
        parent->extend(R"({"headers":{"x-cpp-test":"yes"},"timezone":"Europe/London","retries":1})");
    std::string child_options = child.options();
    CHECK_CONTAINS(child_options, "\"x-cpp-test\":\"yes\"");
    CHECK_CONTAINS(child_options, "\"timezone\":\"Europe/London\"");
    CHECK_CONTAINS(child_options, "\"retries\":1");
    CHECK_EQ(string_member(child_options, "secret"), g_secret); // inherited
    // The parent is unchanged.
    std::string parent_options = parent->options();
    CHECK_NOT_CONTAINS(parent_options, "x-cpp-test");
    CHECK_CONTAINS(parent_options, "\"retries\":3");

    // A null resets an option; a null inside headers removes that header.
    auto grandchild = child.extend(R"({"retries":null,"headers":{"x-cpp-test":null}})");
    CHECK_CONTAINS(grandchild.options(), "\"retries\":3");
    CHECK_NOT_CONTAINS(grandchild.options(), "x-cpp-test");

    // Independent: the parent goes first, the child still works and sends its headers.
    parent.reset();
    CHECK(!string_member(child.create("cnv_cpp_extend"), "token").empty());
    std::string log = child.fetch("/_standin/requests", R"({"method":"GET"})");
    CHECK_CONTAINS(log, "\"x-cpp-test\":\"yes\"");
    CHECK_CONTAINS(log, "\"x-timezone\":\"Europe/London\"");

    // Extending with the default "{}" copies.
    cbk::bot_session_client bot(g_options);
    auto bot_copy = bot.extend();
    CHECK_EQ(bot_copy.options(), bot.options());
    CHECK(!string_member(bot_copy.create("bot_cpp_extend"), "conversationId").empty());
}

void test_api_error_fields()
{
    cbk::conversation_session_client client(g_options);
    cbk::error e = EXPECT_ERROR(client.create("fail-404"));
    CHECK_EQ(e.status(), CBK_ERROR_API);
    CHECK_EQ(std::string(e.status_name()), std::string("API"));
    CHECK_EQ(e.code(), std::string("NOT_FOUND"));
    CHECK_EQ(e.http_status(), 404);
    CHECK(!e.message().empty());
    CHECK_EQ(e.message(), std::string(e.what()));
    CHECK_NOT_CONTAINS(e.message(), g_secret);

    // Also for the bot client, and catchable as std::runtime_error.
    cbk::bot_session_client bot(g_options);
    bool caught = false;
    try {
        bot.create("fail-500", "{}");
    } catch (const std::runtime_error &re) {
        caught = true;
        auto *ce = dynamic_cast<const cbk::error *>(&re);
        REQUIRE(ce != nullptr);
        CHECK_EQ(ce->status(), CBK_ERROR_API);
        CHECK_EQ(ce->http_status(), 500);
        CHECK(!ce->code().empty());
    }
    CHECK(caught);

    // A copy of the exception keeps every field.
    cbk::error copy = e;
    CHECK_EQ(copy.status(), e.status());
    CHECK_EQ(copy.code(), e.code());
    CHECK_EQ(copy.message(), e.message());
    CHECK_EQ(copy.http_status(), e.http_status());

    // An unknown route through fetch: the stand-in's 404 JSON.
    cbk::error f = EXPECT_ERROR(client.fetch("/api/v1/nowhere", R"({"method":"GET"})"));
    CHECK_EQ(f.status(), CBK_ERROR_API);
    CHECK_EQ(f.code(), std::string("NOT_FOUND"));
    CHECK_EQ(f.http_status(), 404);
}

void test_bad_options()
{
    struct bad {
        const char *options;
        cbk_status status;
        const char *code;
        const char *names;
    };
    const bad cases[] = {
        {"not json", CBK_ERROR_INVALID_JSON, "INVALID_JSON", ""},
        {"[1,2]", CBK_ERROR_INVALID_JSON, "INVALID_JSON", ""},
        {R"({"timeout":"soon"})", CBK_ERROR_INVALID_JSON, "INVALID_JSON", "timeout"},
        {R"({"noSuchOption":1})", CBK_ERROR_INVALID_JSON, "INVALID_JSON", "noSuchOption"},
        {R"({"fetchFn":"x"})", CBK_ERROR_INVALID_JSON, "INVALID_JSON", "fetchFn"},
        {R"({"retries":-1})", CBK_ERROR_INVALID_ARGUMENT, "INVALID_ARGUMENT", "retries"},
        {R"({"baseUrl":"ftp://example.com"})", CBK_ERROR_INVALID_ARGUMENT, "INVALID_ARGUMENT", "baseUrl"},
    };
    for (const bad &c : cases) {
        cbk::error e = EXPECT_ERROR(cbk::conversation_session_client client(c.options));
        CHECK_EQ(e.status(), c.status);
        CHECK_EQ(e.code(), std::string(c.code));
        CHECK_EQ(e.http_status(), 0);
        CHECK_CONTAINS(e.message(), c.names);

        cbk::error b = EXPECT_ERROR(cbk::bot_session_client client(c.options));
        CHECK_EQ(b.status(), c.status);
        CHECK_EQ(b.code(), std::string(c.code));
    }

    // Bad options to extend: the same errors, and the parent is untouched.
    cbk::bot_session_client client(g_options);
    cbk::error e = EXPECT_ERROR(client.extend(R"({"retries":"many"})"));
    CHECK_EQ(e.status(), CBK_ERROR_INVALID_JSON);
    CHECK_EQ(e.code(), std::string("INVALID_JSON"));
    CHECK_CONTAINS(e.message(), "retries");
    CHECK(!string_member(client.create("bot_cpp_after_bad_extend"), "token").empty());

    // The secret never shows up in a message.
    cbk::error s = EXPECT_ERROR(cbk::conversation_session_client bad_secret(
        "{\"secret\":\"sk_line\\nbreak_" + g_secret + "\"}"));
    CHECK_EQ(s.status(), CBK_ERROR_INVALID_ARGUMENT);
    CHECK_CONTAINS(s.message(), "secret");
    CHECK_NOT_CONTAINS(s.message(), g_secret);
}

void test_bad_arguments()
{
    cbk::conversation_session_client client(g_options);
    for (const char *id : {"", ".", ".."}) {
        cbk::error e = EXPECT_ERROR(client.create(id));
        CHECK_EQ(e.status(), CBK_ERROR_INVALID_ARGUMENT);
        CHECK_EQ(e.code(), std::string("INVALID_ARGUMENT"));
        CHECK_EQ(e.http_status(), 0);
    }
    cbk::error r = EXPECT_ERROR(client.create("cnv_cpp", "[]"));
    CHECK_EQ(r.status(), CBK_ERROR_INVALID_JSON);

    // Embedded NUL bytes are refused by the wrapper before the C call.
    const std::string nul_id("cnv\0x", 5);
    cbk::error n = EXPECT_ERROR(client.create(nul_id));
    CHECK_EQ(n.status(), CBK_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(n.code(), std::string("INVALID_ARGUMENT"));
    CHECK_CONTAINS(n.message(), "conversation_id");
    cbk::bot_session_client bot(g_options);
    cbk::error nb = EXPECT_ERROR(bot.create(nul_id));
    CHECK_CONTAINS(nb.message(), "bot_id");
    cbk::error no = EXPECT_ERROR(cbk::conversation_session_client c(std::string("{}\0{", 4)));
    CHECK_EQ(no.status(), CBK_ERROR_INVALID_ARGUMENT);
    CHECK_CONTAINS(no.message(), "options_json");

    // An id is one path segment.
    CHECK(!string_member(client.create("a/b?c#d"), "token").empty());
    std::string log = client.fetch("/_standin/requests", R"({"method":"GET"})");
    CHECK_CONTAINS(log, "/api/v1/conversation/a%2Fb%3Fc%23d/session/create");
}

void test_move_semantics()
{
    cbk::conversation_session_client a(g_options);
    cbk_conversation_session_client *raw = a.native_handle();
    REQUIRE(raw != nullptr);

    // Move construction transfers the handle and empties the source.
    cbk::conversation_session_client b(std::move(a));
    CHECK(!a); // NOLINT(bugprone-use-after-move): checking the moved-from state is the point
    CHECK(a.native_handle() == nullptr);
    CHECK(b.native_handle() == raw);
    CHECK(!string_member(b.create("cnv_cpp_moved"), "token").empty());

    // A moved-from client throws INVALID_ARGUMENT, never crashes.
    cbk::error e = EXPECT_ERROR(a.create("cnv_cpp_moved"));
    CHECK_EQ(e.status(), CBK_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(e.code(), std::string("INVALID_ARGUMENT"));
    CHECK_EQ(EXPECT_ERROR(a.options()).status(), CBK_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(EXPECT_ERROR(a.extend("{}")).status(), CBK_ERROR_INVALID_ARGUMENT);
    CHECK_EQ(EXPECT_ERROR(a.fetch("/x")).status(), CBK_ERROR_INVALID_ARGUMENT);

    // Move assignment frees the target's old handle (valgrind checks) and takes the new one.
    cbk::conversation_session_client c(R"({"secret":"other"})");
    c = std::move(b);
    CHECK(!b);
    CHECK(c.native_handle() == raw);
    CHECK_EQ(string_member(c.options(), "secret"), g_secret);

    // A moved-from client can be assigned to again.
    a = c.extend(R"({"retries":2})");
    CHECK(a);
    CHECK_CONTAINS(a.options(), "\"retries\":2");

    // Self-move-assignment keeps the handle.
    cbk::conversation_session_client &alias = c;
    c = std::move(alias);
    CHECK(c.native_handle() == raw);

    // swap.
    swap(a, c);
    CHECK(a.native_handle() == raw);
    CHECK_CONTAINS(c.options(), "\"retries\":2");

    // Into containers (reallocation moves them), and out by return value.
    std::vector<cbk::bot_session_client> bots;
    for (int i = 0; i < 5; i++) {
        bots.emplace_back(g_options);
    }
    bots.push_back(bots.front().extend("{}"));
    for (const auto &bot : bots) {
        CHECK(!string_member(bot.create("bot_cpp_vector"), "token").empty());
    }

    // release() / adopt() hand the C handle over.
    cbk_bot_session_client *released = bots.back().release();
    CHECK(!bots.back());
    auto adopted = cbk::bot_session_client::adopt(released);
    CHECK(!string_member(adopted.create("bot_cpp_adopted"), "conversationId").empty());
}

// What an on_done callable saw, recorded on the library thread.
struct outcome {
    std::string result;
    bool failed = false;
    cbk_status status = CBK_OK;
    std::string code;
    int http_status = 0;
    std::string kind; // the most derived chatbotkit::error class, by dynamic_cast
    std::thread::id thread;
};

std::string kind_of(const cbk::error &e)
{
    if (dynamic_cast<const cbk::invalid_argument *>(&e)) return "invalid_argument";
    if (dynamic_cast<const cbk::invalid_json *>(&e)) return "invalid_json";
    if (dynamic_cast<const cbk::api_error *>(&e)) return "api_error";
    if (dynamic_cast<const cbk::timeout_error *>(&e)) return "timeout_error";
    if (dynamic_cast<const cbk::network_error *>(&e)) return "network_error";
    if (dynamic_cast<const cbk::invalid_response *>(&e)) return "invalid_response";
    if (dynamic_cast<const cbk::cancelled *>(&e)) return "cancelled";
    if (dynamic_cast<const cbk::internal_error *>(&e)) return "internal_error";
    return "error";
}

// An on_done callable that owns a std::promise: move-only on purpose, since
// the wrapper must not need to copy it.
struct recorder {
    std::promise<outcome> promise;
    void operator()(std::string result, const cbk::error *err)
    {
        outcome o;
        o.result = std::move(result);
        o.thread = std::this_thread::get_id();
        if (err != nullptr) {
            o.failed = true;
            o.status = err->status();
            o.code = err->code();
            o.http_status = err->http_status();
            o.kind = kind_of(*err);
        }
        promise.set_value(std::move(o));
    }
};
static_assert(!std::is_copy_constructible_v<recorder>);

// Runs `fn`, which must throw exactly E (a chatbotkit::error subclass) for
// its status; checks that the status and its name agree with the C library.
template <class E, class F>
E expect_kind(const char *file, int line, F &&fn)
{
    try {
        fn();
    } catch (const E &e) {
        if (e.status() != E::status_value) {
            fail(file, line, std::string("status ") + show(e.status()) + " in a " + kind_of(e));
        }
        if (std::string(e.status_name()) != cbk_status_name(e.status())) {
            fail(file, line, std::string("status_name ") + e.status_name());
        }
        if (kind_of(e) != kind_of(E("", "", 0))) {
            fail(file, line, "caught as a base of " + kind_of(e));
        }
        return e;
    } catch (const cbk::error &e) {
        fail(file, line, "threw " + kind_of(e) + " " + e.status_name() + " " + e.code() + ": " + e.what());
        throw require_failed{};
    } catch (const std::exception &e) {
        fail(file, line, std::string("threw another exception: ") + e.what());
        throw require_failed{};
    }
    fail(file, line, "did not throw");
    throw require_failed{};
}
#define EXPECT_KIND(E, ...) expect_kind<E>(__FILE__, __LINE__, [&] { __VA_ARGS__; })

// How many requests the stand-in has recorded: to show that nothing was sent.
std::size_t request_count(const cbk::conversation_session_client &client)
{
    std::string log = client.fetch("/_standin/requests", R"({"method":"GET"})");
    std::size_t n = 0;
    for (std::size_t at = 0; (at = log.find("\"bodyBase64\"", at)) != std::string::npos; at++) {
        n++;
    }
    return n;
}

// The stand-in's streaming route: JSON Lines of tokens, then the result.
const char *const k_stream_options = R"({"method":"POST","record":{"text":"one two three"}})";
// "You said: one two three" -> 5 tokens + 1 result line.
const std::size_t k_stream_items = 6;

void test_async_future()
{
    cbk::conversation_session_client client(g_options);
    std::future<std::string> f = client.create_async("cnv_cpp_async");
    REQUIRE(f.valid());
    std::string first = f.get();
    CHECK(!string_member(first, "token").empty());

    // An API failure arrives through the future, as its subclass.
    std::future<std::string> failing = client.create_async("fail-404", R"({"expiresIn":60})");
    cbk::api_error e = EXPECT_KIND(cbk::api_error, failing.get());
    CHECK_EQ(e.code(), std::string("NOT_FOUND"));
    CHECK_EQ(e.http_status(), 404);

    // fetch_async: the result, and an error.
    std::string log = client.fetch_async("/_standin/requests", R"({"method":"GET"})").get();
    CHECK_CONTAINS(log, "/api/v1/conversation/cnv_cpp_async/session/create");
    std::future<std::string> nowhere = client.fetch_async("/api/v1/nowhere", R"({"method":"GET"})");
    CHECK_EQ(EXPECT_KIND(cbk::api_error, nowhere.get()).http_status(), 404);

    // Bad arguments throw at once, not through a future, and send nothing.
    std::size_t before = request_count(client);
    EXPECT_KIND(cbk::invalid_argument, (void)client.create_async(""));
    EXPECT_KIND(cbk::invalid_json, (void)client.create_async("cnv_cpp_async", "[]"));
    EXPECT_KIND(cbk::invalid_json, (void)client.fetch_async("/x", "not json"));
    CHECK_EQ(request_count(client), before);

    // Many in flight at once, from a bot client that goes before its futures.
    std::vector<std::future<std::string>> futures;
    {
        cbk::bot_session_client bot(g_options);
        for (int i = 0; i < 8; i++) {
            futures.push_back(bot.create_async("bot_cpp_async_" + std::to_string(i)));
        }
    }
    std::set<std::string> tokens;
    for (auto &fut : futures) {
        std::string s = fut.get();
        CHECK(!string_member(s, "conversationId").empty());
        tokens.insert(string_member(s, "token"));
    }
    CHECK_EQ(int(tokens.size()), 8);

    // A dropped future does not cancel: the request still completes (seen
    // through the log), and its state is freed by the callback (valgrind).
    std::mutex m;
    std::condition_variable cv;
    bool seen = false;
    cbk::set_log_callback(CBK_LOG_INFO, [&](cbk_log_level, std::string_view line) {
        if (line.find("cnv_cpp_dropped") != std::string_view::npos) {
            std::lock_guard<std::mutex> lock(m);
            seen = true;
            cv.notify_all();
        }
    });
    (void)client.create_async("cnv_cpp_dropped");
    {
        std::unique_lock<std::mutex> lock(m);
        CHECK(cv.wait_for(lock, std::chrono::seconds(30), [&] { return seen; }));
    }
    cbk::set_log_callback(CBK_LOG_INFO, nullptr);
    CHECK_CONTAINS(client.fetch("/_standin/requests", R"({"method":"GET"})"), "cnv_cpp_dropped");
}

void test_async_callable()
{
    cbk::conversation_session_client client(g_options);

    // Success: the response and a null error, on a library thread.
    recorder ok;
    std::future<outcome> ok_done = ok.promise.get_future();
    cbk::task t = client.create_async("cnv_cpp_callable", "{}", std::move(ok));
    REQUIRE(t);
    outcome o = ok_done.get();
    CHECK(!o.failed);
    CHECK(!string_member(o.result, "token").empty());
    CHECK(o.thread != std::this_thread::get_id());
    CHECK_EQ(t.wait(), o.result); // the task gives what the callable got, any number of times
    CHECK_EQ(t.wait(), o.result);

    // Failure: "" and the error, as its subclass; wait() throws the same.
    recorder bad;
    std::future<outcome> bad_done = bad.promise.get_future();
    cbk::task failing = client.create_async("fail-404", std::move(bad)); // the default request
    outcome b = bad_done.get();
    CHECK(b.failed);
    CHECK(b.result.empty());
    CHECK_EQ(b.kind, std::string("api_error"));
    CHECK_EQ(b.status, CBK_ERROR_API);
    CHECK_EQ(b.code, std::string("NOT_FOUND"));
    CHECK_EQ(b.http_status, 404);
    EXPECT_KIND(cbk::api_error, failing.wait());

    // Cancel: the callable gets chatbotkit::cancelled.
    recorder slow;
    std::future<outcome> slow_done = slow.promise.get_future();
    cbk::task cancellable = client.create_async("slow-3000", "{}", std::move(slow));
    cancellable.cancel();
    outcome c = slow_done.get();
    CHECK_EQ(c.kind, std::string("cancelled"));
    CHECK_EQ(c.code, std::string("CANCELLED"));
    EXPECT_KIND(cbk::cancelled, cancellable.wait());

    // A dropped task does not cancel: the callable still runs.
    recorder dropped;
    std::future<outcome> dropped_done = dropped.promise.get_future();
    (void)client.create_async("cnv_cpp_dropped_task", "{}", std::move(dropped));
    CHECK(!string_member(dropped_done.get().result, "token").empty());

    // A lambda, copied in as an lvalue; fetch_async's shapes; a bot client.
    auto shared = std::make_shared<std::promise<outcome>>();
    auto lambda = [shared](std::string result, const cbk::error *err) {
        outcome x;
        x.result = std::move(result);
        x.failed = err != nullptr;
        shared->set_value(std::move(x));
    };
    cbk::bot_session_client bot(g_options);
    cbk::task lt = bot.fetch_async("/_standin/requests", R"({"method":"GET"})", lambda);
    CHECK_CONTAINS(shared->get_future().get().result, "bot_cpp_");
    recorder nowhere;
    std::future<outcome> nowhere_done = nowhere.promise.get_future();
    cbk::task nt = bot.fetch_async("/api/v1/nowhere", std::move(nowhere)); // default options: a POST
    CHECK_EQ(nowhere_done.get().http_status, 404);

    // Bad arguments throw at once; the callable never runs (and is freed).
    std::atomic<int> calls{0};
    auto counting = [&calls](std::string, const cbk::error *) { calls++; };
    EXPECT_KIND(cbk::invalid_argument, (void)client.create_async("..", "{}", counting));
    EXPECT_KIND(cbk::invalid_argument, (void)client.create_async(std::string("a\0b", 3), counting));
    EXPECT_KIND(cbk::invalid_json, (void)bot.fetch_async("/x", "{", counting));
    CHECK_EQ(calls.load(), 0);

    // An empty task: wait() says so in C++ terms; cancel() does nothing.
    cbk::task empty;
    empty.cancel();
    cbk::invalid_argument ee = EXPECT_KIND(cbk::invalid_argument, empty.wait());
    CHECK_CONTAINS(ee.message(), "chatbotkit::task is empty");
    cbk::task moved_to = std::move(t);
    CHECK(!t); // NOLINT(bugprone-use-after-move)
    CHECK_EQ(moved_to.wait(), o.result);

    // A blocking call from inside on_done is allowed by the C API.
    auto nested = std::make_shared<std::promise<std::string>>();
    cbk::task outer = client.create_async("cnv_cpp_outer", "{}", [&client, nested](std::string, const cbk::error *) {
        try {
            nested->set_value(client.create("cnv_cpp_inner"));
        } catch (...) {
            nested->set_exception(std::current_exception());
        }
    });
    CHECK(!string_member(nested->get_future().get(), "token").empty());
}

void test_stream()
{
    cbk::conversation_session_client client(g_options);
    const std::string path = "/api/v1/conversation/cnv_cpp_stream/complete";

    // Every item, in order; the callable is the caller's own object (an lvalue).
    std::vector<std::string> items;
    auto collect = [&items](std::string_view item) {
        items.emplace_back(item);
        return true;
    };
    cbk::stream_result all = client.fetch_stream(path, k_stream_options, collect);
    CHECK_EQ(int(all.items), int(k_stream_items));
    CHECK(!all.stopped);
    REQUIRE(items.size() == k_stream_items);
    CHECK_CONTAINS(items.front(), "\"type\":\"token\"");
    CHECK_CONTAINS(items.front(), "You ");
    CHECK_CONTAINS(items.back(), "\"type\":\"result\"");
    CHECK_CONTAINS(items.back(), "You said: one two three");

    // Early stop: false after two items; the connection is closed.
    int seen = 0;
    cbk::stream_result two = client.fetch_stream(path, k_stream_options, [&seen](std::string_view) {
        return ++seen < 2;
    });
    CHECK_EQ(seen, 2);
    CHECK_EQ(int(two.items), 2);
    CHECK(two.stopped);

    // A const callable works (it is called, never copied, by the blocking call).
    const auto keep_going = [](std::string_view) { return true; };
    CHECK_EQ(int(client.fetch_stream(path, k_stream_options, keep_going).items), int(k_stream_items));

    // A void callable takes everything.
    std::size_t bytes = 0;
    cbk::stream_result v = client.fetch_stream(path, k_stream_options, [&bytes](std::string_view item) {
        bytes += item.size();
    });
    CHECK_EQ(int(v.items), int(k_stream_items));
    CHECK(bytes > 0);

    // An exception from the callable stops the stream and is rethrown here, as it was.
    struct boom : std::runtime_error {
        int at;
        explicit boom(int n) : std::runtime_error("boom"), at(n) {}
    };
    int calls = 0;
    bool caught = false;
    try {
        client.fetch_stream(path, k_stream_options, [&calls](std::string_view) -> bool {
            if (++calls == 3) {
                throw boom(calls);
            }
            return true;
        });
    } catch (const boom &b) {
        caught = true;
        CHECK_EQ(b.at, 3);
    }
    CHECK(caught);
    CHECK_EQ(calls, 3);
    // ... also a chatbotkit::error of the caller's own, keeping its class.
    cbk::timeout_error own = EXPECT_KIND(cbk::timeout_error, client.fetch_stream(path, k_stream_options, [](std::string_view) -> bool {
        throw cbk::timeout_error("MINE", "the caller's own", 0);
    }));
    CHECK_EQ(own.code(), std::string("MINE"));

    // The client still works afterwards (the stopped connections were closed).
    CHECK_EQ(int(client.fetch_stream(path, k_stream_options, collect).items), int(k_stream_items));

    // A failed request: its subclass, and no item.
    int none = 0;
    cbk::api_error e = EXPECT_KIND(cbk::api_error, client.fetch_stream("/api/v1/nowhere", [&none](std::string_view) {
        ++none;
        return true;
    }));
    CHECK_EQ(e.http_status(), 404);
    CHECK_EQ(none, 0);
    EXPECT_KIND(cbk::invalid_json, client.fetch_stream(path, "[]", collect));

    // The bot client streams too (the stand-in's route is a conversation one).
    cbk::bot_session_client bot(g_options);
    CHECK_EQ(int(bot.fetch_stream(path, k_stream_options, collect).items), int(k_stream_items));
}

void test_stream_async()
{
    cbk::conversation_session_client client(g_options);
    const std::string path = "/api/v1/conversation/cnv_cpp_stream_async/complete";

    auto items = std::make_shared<std::vector<std::string>>();
    std::future<cbk::stream_result> f = client.fetch_stream_async(path, k_stream_options, [items](std::string_view item) {
        items->emplace_back(item);
        return true;
    });
    cbk::stream_result r = f.get();
    CHECK_EQ(int(r.items), int(k_stream_items));
    CHECK(!r.stopped);
    CHECK_EQ(int(items->size()), int(k_stream_items));
    CHECK_CONTAINS(items->back(), "\"type\":\"result\"");

    // Stopping early.
    auto count = std::make_shared<std::atomic<int>>(0);
    cbk::stream_result one = client.fetch_stream_async(path, k_stream_options, [count](std::string_view) {
                                      return ++*count < 1;
                                  }).get();
    CHECK_EQ(int(one.items), 1);
    CHECK(one.stopped);
    CHECK_EQ(count->load(), 1);

    // An exception from on_item arrives through the future.
    std::future<cbk::stream_result> thrown = client.fetch_stream_async(path, k_stream_options, [](std::string_view) -> bool {
        throw std::logic_error("from on_item");
    });
    bool caught = false;
    try {
        thrown.get();
    } catch (const std::logic_error &le) {
        caught = std::string(le.what()) == "from on_item";
    }
    CHECK(caught);

    // A failure, as its subclass; bad arguments throw at once.
    std::future<cbk::stream_result> nowhere = client.fetch_stream_async("/api/v1/nowhere", [](std::string_view) {});
    CHECK_EQ(EXPECT_KIND(cbk::api_error, nowhere.get()).http_status(), 404);
    EXPECT_KIND(cbk::invalid_argument, (void)client.fetch_stream_async(std::string("/a\0", 3), [](std::string_view) {}));
}

void test_log_callback()
{
    cbk::conversation_session_client client(g_options);
    std::mutex m;
    std::vector<std::pair<cbk_log_level, std::string>> lines;
    cbk::set_log_callback(CBK_LOG_DEBUG, [&](cbk_log_level level, std::string_view line) {
        std::lock_guard<std::mutex> lock(m);
        lines.emplace_back(level, std::string(line));
    });
    CHECK(!string_member(client.create("cnv_cpp_logged"), "token").empty());
    EXPECT_KIND(cbk::api_error, client.create("fail-404"));
    {
        std::lock_guard<std::mutex> lock(m);
        REQUIRE(!lines.empty());
        bool named = false, error_line = false;
        for (const auto &l : lines) {
            CHECK(l.first >= CBK_LOG_ERROR && l.first <= CBK_LOG_DEBUG);
            CHECK_NOT_CONTAINS(l.second, g_secret);
            named = named || l.second.find("cnv_cpp_logged") != std::string::npos;
            error_line = error_line || (l.first == CBK_LOG_ERROR && l.second.find("fail-404") != std::string::npos);
        }
        CHECK(named);
        CHECK(error_line);
    }

    // The level filters: at CBK_LOG_ERROR a success is not logged.
    std::size_t before;
    {
        std::lock_guard<std::mutex> lock(m);
        before = lines.size();
    }
    cbk::set_log_callback(CBK_LOG_ERROR, [&](cbk_log_level level, std::string_view line) {
        std::lock_guard<std::mutex> lock(m);
        lines.emplace_back(level, std::string(line));
    });
    client.create("cnv_cpp_quiet");
    {
        std::lock_guard<std::mutex> lock(m);
        CHECK_EQ(int(lines.size()), int(before));
    }

    // A throwing callable never reaches the library: the call goes on.
    std::atomic<int> throws{0};
    cbk::set_log_callback(CBK_LOG_DEBUG, [&throws](cbk_log_level, std::string_view) {
        throws++;
        throw std::runtime_error("a log callable that throws");
    });
    CHECK(!string_member(client.create("cnv_cpp_log_throw"), "token").empty());
    CHECK(throws.load() > 0);

    // Replaced from many threads while others log: no crash, no leak, no lost callable.
    std::atomic<int> a{0}, b{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> loggers;
    for (int i = 0; i < 3; i++) {
        loggers.emplace_back([&, i] {
            for (int j = 0; !stop.load() || j < 2; j++) {
                try {
                    client.create("cnv_cpp_log_" + std::to_string(i));
                } catch (...) {
                }
            }
        });
    }
    for (int k = 0; k < 20; k++) {
        if (k % 2) {
            cbk::set_log_callback(CBK_LOG_DEBUG, [&a](cbk_log_level, std::string_view) { a++; });
        } else {
            cbk::set_log_callback(CBK_LOG_INFO, [&b](cbk_log_level, std::string_view) { b++; });
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    stop = true;
    for (auto &t : loggers) {
        t.join();
    }

    // An empty function turns it off.
    cbk::set_log_callback(CBK_LOG_DEBUG, [&](cbk_log_level level, std::string_view line) {
        std::lock_guard<std::mutex> lock(m);
        lines.emplace_back(level, std::string(line));
    });
    cbk::set_log_callback(CBK_LOG_DEBUG, cbk::log_function{});
    {
        std::lock_guard<std::mutex> lock(m);
        before = lines.size();
    }
    client.create("cnv_cpp_unlogged");
    EXPECT_KIND(cbk::api_error, client.create("fail-500"));
    {
        std::lock_guard<std::mutex> lock(m);
        CHECK_EQ(int(lines.size()), int(before));
    }
    cbk::set_log_callback(CBK_LOG_DEBUG, nullptr); // nullptr works too
}

void test_string_view()
{
    cbk::conversation_session_client client(g_options);

    // A view into the middle of a larger string: only the view is sent.
    const std::string text = "xxcnv_cpp_viewyy";
    std::string_view id = std::string_view(text).substr(2, 12);
    REQUIRE(id == "cnv_cpp_view");
    const std::string body = R"({"expiresIn":61}trailing junk)";
    CHECK(!string_member(client.create(id, std::string_view(body).substr(0, 16)), "token").empty());
    std::string log = client.fetch("/_standin/requests", R"({"method":"GET"})");
    CHECK_CONTAINS(log, "/conversation/cnv_cpp_view/session/create");
    CHECK_NOT_CONTAINS(log, "cnv_cpp_viewyy");
    CHECK_CONTAINS(log, "expiresIn\\\":61}\"");

    // A char array without a terminating NUL.
    const char raw[] = {'c', 'n', 'v', '_', 'a', 'r', 'r'};
    CHECK(!string_member(client.create(std::string_view(raw, sizeof raw)), "token").empty());

    // const char *, std::string and views everywhere.
    const char *c_id = "cnv_cpp_cstr";
    const std::string s_id = "cnv_cpp_string";
    CHECK(!string_member(client.create(c_id, "{}"), "token").empty());
    CHECK(!string_member(client.create(s_id, std::string("{}")), "token").empty());
    const std::string opts = g_options + "  ";
    cbk::bot_session_client bot(std::string_view(opts).substr(0, g_options.size()));
    auto child = bot.extend(std::string_view(R"({"retries":1}XX)").substr(0, 13));
    CHECK_CONTAINS(child.options(), "\"retries\":1");
    const std::string fetch_path = "/_standin/requests?x";
    CHECK_CONTAINS(child.fetch(std::string_view(fetch_path).substr(0, 18), std::string_view(R"({"method":"GET"})")),
                   "cnv_arr");
    CHECK(!string_member(client.create_async(id.substr(0, 3)).get(), "token").empty());
}

void test_embedded_nul()
{
    cbk::conversation_session_client client(g_options);
    cbk::bot_session_client bot(g_options);
    std::size_t before = request_count(client);
    const std::string nul_id("cnv\0x", 5);
    const std::string nul_json("{}\0{", 4);

    cbk::invalid_argument e = EXPECT_KIND(cbk::invalid_argument, client.create(nul_id));
    CHECK_EQ(e.code(), std::string("INVALID_ARGUMENT"));
    CHECK_EQ(e.http_status(), 0);
    CHECK_CONTAINS(e.message(), "`conversation_id` contains a NUL byte (at offset 3)");
    CHECK_CONTAINS(EXPECT_KIND(cbk::invalid_argument, bot.create(nul_id)).message(), "bot_id");
    CHECK_CONTAINS(EXPECT_KIND(cbk::invalid_argument, client.create("cnv", nul_json)).message(), "request_json");
    CHECK_CONTAINS(EXPECT_KIND(cbk::invalid_argument, client.fetch(nul_id)).message(), "path");
    CHECK_CONTAINS(EXPECT_KIND(cbk::invalid_argument, client.fetch("/x", nul_json)).message(), "options_json");
    CHECK_CONTAINS(EXPECT_KIND(cbk::invalid_argument, client.extend(nul_json)).message(), "options_json");
    CHECK_CONTAINS(EXPECT_KIND(cbk::invalid_argument, cbk::bot_session_client b(nul_json)).message(),
                   "options_json");
    EXPECT_KIND(cbk::invalid_argument, (void)client.create_async(nul_id));
    EXPECT_KIND(cbk::invalid_argument, (void)client.fetch_async("/x", nul_json));
    EXPECT_KIND(cbk::invalid_argument, client.fetch_stream(nul_id, [](std::string_view) {}));
    // A NUL just past a view's end is not in the view: accepted.
    const std::string padded("cnv_cpp_pad\0zz", 14);
    CHECK(!string_member(client.create(std::string_view(padded).substr(0, 11)), "token").empty());
    // Nothing was sent for the refused ones (the one accepted call is the only new request).
    CHECK_EQ(request_count(client), before + 1);
}

void test_moved_from_message()
{
    cbk::conversation_session_client a(g_options);
    cbk::conversation_session_client b(std::move(a));
    const std::string want = "chatbotkit::conversation_session_client used after move";
    // NOLINTBEGIN(bugprone-use-after-move): using the moved-from client is the point
    CHECK_EQ(EXPECT_KIND(cbk::invalid_argument, a.create("cnv")).message(), want);
    CHECK_EQ(EXPECT_KIND(cbk::invalid_argument, a.create("")).message(), want); // the handle is checked first
    CHECK_EQ(EXPECT_KIND(cbk::invalid_argument, a.options()).message(), want);
    CHECK_EQ(EXPECT_KIND(cbk::invalid_argument, a.extend()).message(), want);
    CHECK_EQ(EXPECT_KIND(cbk::invalid_argument, a.fetch("/x")).message(), want);
    CHECK_EQ(EXPECT_KIND(cbk::invalid_argument, (void)a.create_async("cnv")).message(), want);
    CHECK_EQ(EXPECT_KIND(cbk::invalid_argument, (void)a.fetch_async("/x")).message(), want);
    CHECK_EQ(EXPECT_KIND(cbk::invalid_argument, (void)a.create_async("cnv", recorder{})).message(), want);
    CHECK_EQ(EXPECT_KIND(cbk::invalid_argument, a.fetch_stream("/x", [](std::string_view) {})).message(), want);
    CHECK_EQ(EXPECT_KIND(cbk::invalid_argument, (void)a.fetch_stream_async("/x", [](std::string_view) {})).message(),
             want);
    CHECK_NOT_CONTAINS(EXPECT_KIND(cbk::invalid_argument, a.create("cnv")).message(), "NULL");

    cbk::bot_session_client bot(g_options);
    cbk::bot_session_client other = std::move(bot);
    CHECK_EQ(EXPECT_KIND(cbk::invalid_argument, bot.create("bot")).message(),
             std::string("chatbotkit::bot_session_client used after move"));
    // NOLINTEND(bugprone-use-after-move)
    CHECK(!string_member(b.create("cnv_cpp_after_move"), "token").empty());
}

void test_exception_kinds()
{
    cbk::conversation_session_client client(g_options);

    // Each status, provoked for real, is caught as its own class.
    EXPECT_KIND(cbk::invalid_argument, client.create("."));
    EXPECT_KIND(cbk::invalid_json, client.create("cnv", "[1]"));
    EXPECT_KIND(cbk::invalid_json, cbk::conversation_session_client c(R"({"noSuchOption":1})"));
    cbk::api_error api = EXPECT_KIND(cbk::api_error, client.create("fail-503"));
    CHECK_EQ(api.http_status(), 503);
    auto impatient = client.extend(R"({"timeout":200,"retries":0})");
    EXPECT_KIND(cbk::timeout_error, impatient.create("slow-3000"));
    // A closed port: connection refused.
    cbk::conversation_session_client unreachable(R"({"secret":"x","baseUrl":"http://127.0.0.1:1","retries":0})");
    cbk::network_error net = EXPECT_KIND(cbk::network_error, unreachable.create("cnv"));
    CHECK_EQ(net.http_status(), 0);
    // A 2xx that is not JSON.
    cbk::invalid_response html = EXPECT_KIND(cbk::invalid_response, client.create("html-200"));
    CHECK_EQ(html.http_status(), 200);
    recorder slow;
    std::future<outcome> slow_done = slow.promise.get_future();
    cbk::task t = client.create_async("slow-3000", "{}", std::move(slow));
    t.cancel();
    EXPECT_KIND(cbk::cancelled, t.wait());
    (void)slow_done.get();

    // Every one is a chatbotkit::error and a std::runtime_error.
    bool caught = false;
    try {
        impatient.create("slow-3000");
    } catch (const std::runtime_error &e) {
        caught = dynamic_cast<const cbk::timeout_error *>(&e) != nullptr;
    }
    CHECK(caught);

    // throw_error maps every status of the header to its class, with the
    // library's name for it; INTERNAL cannot be provoked from outside.
    EXPECT_KIND(cbk::invalid_argument, cbk::throw_error(CBK_ERROR_INVALID_ARGUMENT, "C", "m"));
    EXPECT_KIND(cbk::invalid_json, cbk::throw_error(CBK_ERROR_INVALID_JSON, "C", "m"));
    EXPECT_KIND(cbk::api_error, cbk::throw_error(CBK_ERROR_API, "C", "m", 418));
    EXPECT_KIND(cbk::timeout_error, cbk::throw_error(CBK_ERROR_TIMEOUT, "C", "m"));
    EXPECT_KIND(cbk::network_error, cbk::throw_error(CBK_ERROR_NETWORK, "C", "m"));
    EXPECT_KIND(cbk::invalid_response, cbk::throw_error(CBK_ERROR_INVALID_RESPONSE, "C", "m"));
    EXPECT_KIND(cbk::cancelled, cbk::throw_error(CBK_ERROR_CANCELLED, "C", "m"));
    cbk::internal_error internal = EXPECT_KIND(cbk::internal_error, cbk::throw_error(CBK_ERROR_INTERNAL, "C", "m", 7));
    CHECK_EQ(internal.code(), std::string("C"));
    CHECK_EQ(internal.message(), std::string("m"));
    CHECK_EQ(internal.http_status(), 7);
    CHECK_EQ(std::string(internal.status_name()), std::string("INTERNAL"));
    // A status from a newer library: the base class, named by the library.
    cbk::error unknown = EXPECT_ERROR(cbk::throw_error(static_cast<cbk_status>(99), "NEW", "newer"));
    CHECK_EQ(kind_of(unknown), std::string("error"));
    CHECK_EQ(std::string(unknown.status_name()), std::string("UNKNOWN"));
    CHECK_EQ(int(unknown.status()), 99);
    // The names come from the library, whatever the status.
    for (int s = 0; s <= 9; s++) {
        CHECK_EQ(std::string(cbk::status_name(static_cast<cbk_status>(s))), std::string(cbk_status_name(s)));
    }
}

void test_threads()
{
    const cbk::conversation_session_client client(g_options);
    const cbk::bot_session_client bot(g_options);
    std::atomic<int> ok{0}, bad{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; i++) {
        threads.emplace_back([&, i] {
            for (int j = 0; j < 4; j++) {
                try {
                    std::string id = "cpp_thread_" + std::to_string(i) + "_" + std::to_string(j);
                    std::string s = (j % 2 ? client.create(id) : bot.create(id));
                    (string_member(s, "token").empty() ? bad : ok)++;
                    auto child = client.extend(R"({"retries":0})");
                    (void)child.options();
                    try {
                        child.create("fail-404");
                        bad++;
                    } catch (const cbk::error &e) {
                        (e.http_status() == 404 ? ok : bad)++;
                    }
                } catch (...) {
                    bad++;
                }
            }
        });
    }
    for (auto &t : threads) {
        t.join();
    }
    CHECK_EQ(ok.load(), 64);
    CHECK_EQ(bad.load(), 0);
}

} // namespace

int main()
{
    g_secret = env("CHATBOTKIT_API_SECRET");
    g_base_url = env("CHATBOTKIT_API_BASE_URL");
    if (g_secret.empty() || g_base_url.empty()) {
        std::fprintf(stderr, "test_wrapper: run under scripts/with-standin.sh (CHATBOTKIT_API_SECRET and "
                             "CHATBOTKIT_API_BASE_URL must be set)\n");
        return 2;
    }
    // Fail fast instead of retrying: the stand-in is local.
    g_options = "{\"secret\":" + json_escape(g_secret) + ",\"baseUrl\":" + json_escape(g_base_url) +
                ",\"retryDelay\":1}";

    RUN(test_version);
    RUN(test_types);
    RUN(test_conversation_create);
    RUN(test_bot_create);
    RUN(test_default_options);
    RUN(test_options);
    RUN(test_extend);
    RUN(test_api_error_fields);
    RUN(test_bad_options);
    RUN(test_bad_arguments);
    RUN(test_move_semantics);
    RUN(test_async_future);
    RUN(test_async_callable);
    RUN(test_stream);
    RUN(test_stream_async);
    RUN(test_log_callback);
    RUN(test_string_view);
    RUN(test_embedded_nul);
    RUN(test_moved_from_message);
    RUN(test_exception_kinds);
    RUN(test_threads);

    std::printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
}
