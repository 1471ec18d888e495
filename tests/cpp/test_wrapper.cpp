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
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <set>
#include <stdexcept>
#include <string>
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
    CHECK_EQ(cbk::version(), std::string(CHATBOTKIT_VERSION));
    CHECK_EQ(cbk::version(), std::string(cbk_version()));
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

void test_async()
{
    cbk::conversation_session_client client(g_options);
    cbk::task t = client.create_async("cnv_cpp_async");
    REQUIRE(t);
    std::string first = t.wait();
    CHECK(!string_member(first, "token").empty());
    CHECK_EQ(t.wait(), first); // any number of times

    cbk::task failing = client.create_async("fail-404");
    cbk::error e = EXPECT_ERROR(failing.wait());
    CHECK_EQ(e.status(), CBK_ERROR_API);
    CHECK_EQ(e.code(), std::string("NOT_FOUND"));
    CHECK_EQ(e.http_status(), 404);

    cbk::task slow = client.create_async("slow-3000");
    slow.cancel();
    cbk::error c = EXPECT_ERROR(slow.wait());
    CHECK_EQ(c.status(), CBK_ERROR_CANCELLED);
    CHECK_EQ(c.code(), std::string("CANCELLED"));

    // Bad arguments throw at once.
    CHECK_EQ(EXPECT_ERROR(client.create_async("")).status(), CBK_ERROR_INVALID_ARGUMENT);

    // The client may go before its task.
    cbk::task orphan;
    {
        cbk::bot_session_client bot(g_options);
        orphan = bot.create_async("bot_cpp_async");
    }
    CHECK(!string_member(orphan.wait(), "conversationId").empty());
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
    RUN(test_async);
    RUN(test_threads);

    std::printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
}
