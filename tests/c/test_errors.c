/*
 * test_errors.c - failures against the stand-in: API errors, HTML error
 * pages, retries, connection refused, timeouts and a wrong secret.
 *
 * The stand-in's fault hooks are chosen by id: fail-<status>, html-<status>,
 * slow-<ms>, flaky-<n> (see standin/standin.py).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chatbotkit.h"
#include "test.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* The stand-in records a request when it arrives, before sleeping, so the
 * log shows every attempt as soon as the call returns. */
static int attempts_for(const char *id)
{
    cbk_conversation_session_client *c = standin_conversation_client(NULL);
    if (c == NULL)
        return -1;
    char *log = standin_requests(c);
    char *needle = fmt("/%s/session/create", id);
    int n = count_occurrences(log, needle);
    free(needle);
    cbk_string_free(log);
    cbk_conversation_session_client_free(c);
    return n;
}

/* ------------------------------------------------------------------------ */

static void test_api_error_404(void)
{
    cbk_conversation_session_client *c = standin_conversation_client(NULL);
    REQUIRE_NOT_NULL(c);
    cbk_error *err = NULL;
    char *r = cbk_conversation_session_client_create(c, "fail-404", NULL, &err);
    CHECK(r == NULL);
    EXPECT_ERROR(err, CBK_ERROR_API, "NOT_FOUND", 404, NULL);
    cbk_string_free(r);
    cbk_conversation_session_client_free(c);

    cbk_bot_session_client *b = standin_bot_client(NULL);
    REQUIRE_NOT_NULL(b);
    err = NULL;
    r = cbk_bot_session_client_create(b, "fail-404", NULL, &err);
    CHECK(r == NULL);
    EXPECT_ERROR(err, CBK_ERROR_API, "NOT_FOUND", 404, NULL);
    cbk_string_free(r);
    cbk_bot_session_client_free(b);
}

static void test_api_error_to_json(void)
{
    cbk_conversation_session_client *c = standin_conversation_client(NULL);
    REQUIRE_NOT_NULL(c);
    cbk_error *err = NULL;
    CHECK(cbk_conversation_session_client_create(c, "fail-404", NULL, &err) == NULL);
    cbk_conversation_session_client_free(c);
    REQUIRE_NOT_NULL(err);
    char *json = cbk_error_to_json(err);
    CHECK_CONTAINS(json, "\"status\":\"API\"");
    CHECK_CONTAINS(json, "\"code\":\"NOT_FOUND\"");
    CHECK_CONTAINS(json, "\"httpStatus\":404");
    char *msg = fmt("\"message\":%s", cbk_error_message(err) ? "\"" : "null");
    CHECK_CONTAINS(json, msg);
    free(msg);
    cbk_string_free(json);
    cbk_error_free(err);
}

static void test_html_error_500(void)
{
    cbk_conversation_session_client *c = standin_conversation_client("\"retries\":0");
    REQUIRE_NOT_NULL(c);
    cbk_error *err = NULL;
    char *r = cbk_conversation_session_client_create(c, "html-500", NULL, &err);
    CHECK(r == NULL);
    cbk_string_free(r);
    REQUIRE_NOT_NULL(err);
    CHECK_STR_EQ(cbk_error_message(err), "There was a generic error");
    EXPECT_ERROR(err, CBK_ERROR_API, "GENERIC_ERROR", 500, "There was a generic error");
    cbk_conversation_session_client_free(c);
}

static void test_html_error_413(void)
{
    cbk_bot_session_client *b = standin_bot_client("\"retries\":0");
    REQUIRE_NOT_NULL(b);
    cbk_error *err = NULL;
    CHECK(cbk_bot_session_client_create(b, "html-413", NULL, &err) == NULL);
    EXPECT_ERROR(err, CBK_ERROR_API, "CONTENT_TOO_LARGE", 413,
                 "Client request is too large to be processed by the web server.");
    cbk_bot_session_client_free(b);
}

static void test_retry_then_success(void)
{
    cbk_conversation_session_client *c = standin_conversation_client("\"retryDelay\":10");
    REQUIRE_NOT_NULL(c);
    standin_clear(c);
    cbk_error *err = NULL;
    char *r = cbk_conversation_session_client_create(c, "flaky-2", NULL, &err);
    CHECK(err == NULL);
    if (err != NULL)
        printf("#   error: %s\n", cbk_error_message(err));
    cbk_error_free(err);
    CHECK_CONTAINS(r, "\"token\"");
    cbk_string_free(r);
    /* two 503s, then the success: three attempts */
    char *log = standin_requests(c);
    CHECK_INT_EQ(count_occurrences(log, "/conversation/flaky-2/session/create"), 3);
    cbk_string_free(log);
    cbk_conversation_session_client_free(c);
}

static void test_retries_exhausted(void)
{
    cbk_bot_session_client *b = standin_bot_client("\"retries\":1,\"retryDelay\":10");
    REQUIRE_NOT_NULL(b);
    cbk_error *err = NULL;
    CHECK(cbk_bot_session_client_create(b, "flaky-5", NULL, &err) == NULL);
    /* the last 503 is what the error is made from */
    EXPECT_ERROR(err, CBK_ERROR_API, "SERVICE_UNAVAILABLE", 503, NULL);
    CHECK_INT_EQ(attempts_for("flaky-5"), 2);
    cbk_bot_session_client_free(b);
}

static void test_connection_refused(void)
{
    char *secret = json_str(g_secret);
    char *opts = fmt("{\"secret\":%s,\"baseUrl\":\"http://127.0.0.1:1\",\"retries\":0}", secret);
    cbk_error *err = NULL;
    cbk_conversation_session_client *c = cbk_conversation_session_client_new(opts, &err);
    free(opts);
    free(secret);
    CHECK(err == NULL);
    cbk_error_free(err);
    REQUIRE_NOT_NULL(c);
    err = NULL;
    char *r = cbk_conversation_session_client_create(c, "conv_1", NULL, &err);
    CHECK(r == NULL);
    cbk_string_free(r);
    EXPECT_ERROR(err, CBK_ERROR_NETWORK, "NETWORK_ERROR", 0, NULL);
    cbk_conversation_session_client_free(c);
}

static void test_timeout(void)
{
    cbk_conversation_session_client *c = standin_conversation_client("\"timeout\":200,\"retries\":0");
    REQUIRE_NOT_NULL(c);
    cbk_error *err = NULL;
    double start = now_ms();
    char *r = cbk_conversation_session_client_create(c, "slow-2000", NULL, &err);
    double elapsed = now_ms() - start;
    CHECK(r == NULL);
    cbk_string_free(r);
    EXPECT_ERROR(err, CBK_ERROR_TIMEOUT, "TimeoutError", 0, "did not arrive within `timeout` (200 ms), after 1 attempt");
    /* well before the stand-in's 2 s answer, even under valgrind */
    if (elapsed >= 1800.0)
        t_fail(__FILE__, __LINE__, "timed out after %.0f ms, want ~200 ms", elapsed);
    cbk_conversation_session_client_free(c);
}

static void test_timeout_retried_by_default(void)
{
    cbk_bot_session_client *b = standin_bot_client("\"timeout\":200,\"retries\":1,\"retryDelay\":10");
    REQUIRE_NOT_NULL(b);
    cbk_error *err = NULL;
    CHECK(cbk_bot_session_client_create(b, "slow-1501", NULL, &err) == NULL);
    EXPECT_ERROR(err, CBK_ERROR_TIMEOUT, "TimeoutError", 0, "after 2 attempts");
    CHECK_INT_EQ(attempts_for("slow-1501"), 2);
    cbk_bot_session_client_free(b);
}

static void test_timeout_not_retried_when_disabled(void)
{
    cbk_bot_session_client *b = standin_bot_client("\"timeout\":200,\"retries\":2,\"retryDelay\":10,"
                                                   "\"retryTimeout\":false");
    REQUIRE_NOT_NULL(b);
    cbk_error *err = NULL;
    CHECK(cbk_bot_session_client_create(b, "slow-1500", NULL, &err) == NULL);
    EXPECT_ERROR(err, CBK_ERROR_TIMEOUT, "TimeoutError", 0, "after 1 attempt");
    CHECK_INT_EQ(attempts_for("slow-1500"), 1);
    cbk_bot_session_client_free(b);
}

static void test_wrong_secret_not_echoed(void)
{
    cbk_conversation_session_client *c = cbk_conversation_session_client_new(NULL, NULL);
    REQUIRE_NOT_NULL(c);
    char *base = json_str(g_base_url);
    char *opts = fmt("{\"secret\":\"" TEST_LITERAL_SECRET "\",\"baseUrl\":%s,\"retries\":0}", base);
    free(base);
    cbk_conversation_session_client *wrong = cbk_conversation_session_client_extend(c, opts, NULL);
    free(opts);
    cbk_conversation_session_client_free(c);
    REQUIRE_NOT_NULL(wrong);
    cbk_error *err = NULL;
    CHECK(cbk_conversation_session_client_create(wrong, "conv_1", NULL, &err) == NULL);
    EXPECT_ERROR(err, CBK_ERROR_API, "NOT_AUTHENTICATED", 401, NULL);
    cbk_conversation_session_client_free(wrong);
}

static void test_request_json_rejected_before_sending(void)
{
    cbk_conversation_session_client *c = standin_conversation_client(NULL);
    REQUIRE_NOT_NULL(c);
    standin_clear(c);
    cbk_error *err = NULL;
    CHECK(cbk_conversation_session_client_create(c, "conv_1", "[\"not an object\"]", &err) == NULL);
    EXPECT_ERROR(err, CBK_ERROR_INVALID_JSON, "INVALID_JSON", 0, NULL);
    char *log = standin_requests(c);
    CHECK_NOT_CONTAINS(log, "session/create");
    cbk_string_free(log);
    cbk_conversation_session_client_free(c);
}

/* cbk_status_name: the names cbk_error_to_json writes, static, for any
 * value (an int out of the enum's range included). */
static void test_status_names(void)
{
    static const struct { cbk_status status; const char *name; } want[] = {
        {CBK_OK, "OK"},
        {CBK_ERROR_INVALID_ARGUMENT, "INVALID_ARGUMENT"},
        {CBK_ERROR_INVALID_JSON, "INVALID_JSON"},
        {CBK_ERROR_API, "API"},
        {CBK_ERROR_TIMEOUT, "TIMEOUT"},
        {CBK_ERROR_NETWORK, "NETWORK"},
        {CBK_ERROR_INVALID_RESPONSE, "INVALID_RESPONSE"},
        {CBK_ERROR_CANCELLED, "CANCELLED"},
        {CBK_ERROR_INTERNAL, "INTERNAL"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        CHECK_STR_EQ(cbk_status_name(want[i].status), want[i].name);
    CHECK_STR_EQ(cbk_status_name(9), "UNKNOWN");
    CHECK_STR_EQ(cbk_status_name(-1), "UNKNOWN");
    /* The same name as in the error's JSON. */
    cbk_error *err = NULL;
    cbk_conversation_session_client *c = cbk_conversation_session_client_new("{\"retries\":-1}", &err);
    CHECK(c == NULL && err != NULL);
    if (err != NULL) {
        char *json = cbk_error_to_json(err);
        char want_field[64];
        snprintf(want_field, sizeof want_field, "\"status\":\"%s\"", cbk_status_name(cbk_error_status(err)));
        CHECK(json != NULL && strstr(json, want_field) != NULL);
        cbk_string_free(json);
        cbk_error_free(err);
    }
}

int main(void)
{
    register_secret(TEST_LITERAL_SECRET);
    if (!standin_env())
        return 1;

    RUN(test_api_error_404);
    RUN(test_api_error_to_json);
    RUN(test_html_error_500);
    RUN(test_html_error_413);
    RUN(test_retry_then_success);
    RUN(test_retries_exhausted);
    RUN(test_connection_refused);
    RUN(test_timeout);
    RUN(test_timeout_retried_by_default);
    RUN(test_timeout_not_retried_when_disabled);
    RUN(test_wrong_secret_not_echoed);
    RUN(test_request_json_rejected_before_sending);
    RUN(test_status_names);
    RUN(test_no_message_contained_a_secret);
    return test_summary();
}
