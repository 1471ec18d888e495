/*
 * test_session.c - minting sessions against the stand-in: success paths,
 * extend, handle independence, what goes on the wire, and the async API.
 *
 * Run under scripts/with-standin.sh (CHATBOTKIT_API_BASE_URL and
 * CHATBOTKIT_API_SECRET point at the stand-in).  The stand-in's request log
 * (GET /_standin/requests) is read through the library's own clientFetch.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatbotkit.h"
#include "test.h"

/* Whether `json` has the member "key": "value" (with or without a space
 * after the colon: the stand-in writes Python's json.dumps output). */
static int has_member(const char *json, const char *key, const char *value)
{
    if (json == NULL)
        return 0;
    char *a = fmt("\"%s\":\"%s\"", key, value);
    char *b = fmt("\"%s\": \"%s\"", key, value);
    int found = strstr(json, a) != NULL || strstr(json, b) != NULL;
    free(a);
    free(b);
    return found;
}
#define CHECK_MEMBER(json, key, value) \
    do { if (!has_member((json), (key), (value))) \
        t_fail(__FILE__, __LINE__, "%s has no \"%s\": \"%s\": %s", #json, (key), (value), \
               (json) ? (json) : "(NULL)"); } while (0)
#define CHECK_NO_MEMBER(json, key, value) \
    do { if (has_member((json), (key), (value))) \
        t_fail(__FILE__, __LINE__, "%s has \"%s\": \"%s\"", #json, (key), (value)); } while (0)

/* ------------------------------------------------------------------------ */

static void test_conversation_create_success(void)
{
    cbk_conversation_session_client *c = standin_conversation_client(NULL);
    REQUIRE_NOT_NULL(c);
    cbk_error *err = NULL;
    char *r = cbk_conversation_session_client_create(c, "conv_123", NULL, &err);
    CHECK(err == NULL);
    if (err != NULL)
        printf("#   error: %s\n", cbk_error_message(err));
    CHECK_CONTAINS(r, "\"token\"");
    CHECK_CONTAINS(r, "\"expiresAt\"");
    if (r != NULL)
        CHECK(r[0] == '{');
    cbk_string_free(r);
    cbk_error_free(err);

    /* an explicit request object */
    err = NULL;
    r = cbk_conversation_session_client_create(c, "conv_123", "{}", &err);
    CHECK(err == NULL);
    CHECK_CONTAINS(r, "\"token\"");
    cbk_string_free(r);
    cbk_error_free(err);
    cbk_conversation_session_client_free(c);
}

static void test_bot_create_success(void)
{
    cbk_bot_session_client *b = standin_bot_client(NULL);
    REQUIRE_NOT_NULL(b);
    cbk_error *err = NULL;
    char *r = cbk_bot_session_client_create(b, "bot_123", NULL, &err);
    CHECK(err == NULL);
    if (err != NULL)
        printf("#   error: %s\n", cbk_error_message(err));
    CHECK_CONTAINS(r, "\"token\"");
    CHECK_CONTAINS(r, "\"conversationId\"");
    cbk_string_free(r);
    cbk_error_free(err);

    /* through the pre-2024 name */
    cbk_session_client *s = b;
    r = cbk_bot_session_client_create(s, "bot_456", "{}", NULL);
    CHECK_CONTAINS(r, "\"token\"");
    cbk_string_free(r);
    cbk_bot_session_client_free(b);
}

static void test_error_untouched_on_successful_create(void)
{
    static int sentinel_storage;
    cbk_error *const sentinel = (cbk_error *)(void *)&sentinel_storage;
    cbk_conversation_session_client *c = standin_conversation_client(NULL);
    cbk_bot_session_client *b = standin_bot_client(NULL);
    REQUIRE(c != NULL && b != NULL);
    cbk_error *err = sentinel;
    char *r = cbk_conversation_session_client_create(c, "conv_1", NULL, &err);
    CHECK(r != NULL);
    CHECK(err == sentinel);
    cbk_string_free(r);
    r = cbk_bot_session_client_create(b, "bot_1", NULL, &err);
    CHECK(r != NULL);
    CHECK(err == sentinel);
    cbk_string_free(r);
    r = cbk_conversation_session_client_fetch(c, "/_standin/requests", "{\"method\":\"GET\"}", &err);
    CHECK(r != NULL);
    CHECK(err == sentinel);
    cbk_string_free(r);
    cbk_conversation_session_client_free(c);
    cbk_bot_session_client_free(b);
}

static void test_extend_merges_options(void)
{
    cbk_conversation_session_client *base =
        standin_conversation_client("\"headers\":{\"x-a\":\"1\",\"x-b\":\"base\"},\"retries\":1");
    REQUIRE_NOT_NULL(base);
    cbk_error *err = NULL;
    cbk_conversation_session_client *derived = cbk_conversation_session_client_extend(
        base, "{\"headers\":{\"x-b\":\"derived\",\"x-example\":\"extend\"},\"timezone\":\"Europe/London\"}", &err);
    CHECK(err == NULL);
    cbk_error_free(err);
    if (derived == NULL) {
        cbk_conversation_session_client_free(base);
        REQUIRE_NOT_NULL(derived);
    }

    char *d = cbk_conversation_session_client_options(derived, NULL);
    char *p = cbk_conversation_session_client_options(base, NULL);
    /* derived: base URL and secret inherited, headers merged key by key */
    CHECK_CONTAINS(d, "\"baseUrl\":\"");
    char *host = strstr(g_base_url, "127.0.0.1");
    CHECK_CONTAINS(d, host ? host : g_base_url);
    CHECK_CONTAINS(d, g_secret);
    CHECK_MEMBER(d, "x-a", "1");
    CHECK_MEMBER(d, "x-b", "derived");
    CHECK_MEMBER(d, "x-example", "extend");
    CHECK_MEMBER(d, "timezone", "Europe/London");
    CHECK_CONTAINS(d, "\"retries\":1");
    /* the parent is unchanged */
    CHECK_MEMBER(p, "x-b", "base");
    CHECK_NO_MEMBER(p, "x-example", "extend");
    CHECK_NOT_CONTAINS(p, "Europe/London");
    cbk_string_free(d);
    cbk_string_free(p);

    /* a null inside headers removes that key; a null scalar resets to the default */
    cbk_conversation_session_client *d2 =
        cbk_conversation_session_client_extend(derived, "{\"headers\":{\"x-a\":null},\"retries\":null}", NULL);
    CHECK(d2 != NULL);
    char *o2 = d2 ? cbk_conversation_session_client_options(d2, NULL) : NULL;
    CHECK_NOT_CONTAINS(o2, "\"x-a\"");
    CHECK_MEMBER(o2, "x-b", "derived");
    CHECK_CONTAINS(o2, "\"retries\":3");
    cbk_string_free(o2);
    cbk_conversation_session_client_free(d2);

    cbk_conversation_session_client_free(derived);
    cbk_conversation_session_client_free(base);
}

static void test_extend_sends_merged_headers(void)
{
    cbk_conversation_session_client *base = standin_conversation_client("\"headers\":{\"x-a\":\"1\"}");
    REQUIRE_NOT_NULL(base);
    cbk_conversation_session_client *derived = cbk_conversation_session_client_extend(
        base, "{\"headers\":{\"x-example\":\"extend\"},\"timezone\":\"Europe/London\"}", NULL);
    if (derived == NULL) {
        cbk_conversation_session_client_free(base);
        REQUIRE_NOT_NULL(derived);
    }
    standin_clear(base);
    char *r = cbk_conversation_session_client_create(derived, "conv_hdr", "{\"x\":1}", NULL);
    CHECK_CONTAINS(r, "\"token\"");
    cbk_string_free(r);

    char *log = standin_requests(base);
    char *auth = fmt("Bearer %s", g_secret);
    CHECK_CONTAINS(log, "/api/v1/conversation/conv_hdr/session/create");
    CHECK_MEMBER(log, "method", "POST");
    CHECK_MEMBER(log, "authorization", auth);
    CHECK_MEMBER(log, "x-a", "1");
    CHECK_MEMBER(log, "x-example", "extend");
    CHECK_MEMBER(log, "x-timezone", "Europe/London");
    CHECK_MEMBER(log, "content-type", "application/json");
    CHECK_MEMBER(log, "user-agent", "libchatbotkit/" CHATBOTKIT_VERSION);
    /* the body is the request JSON as given */
    CHECK(has_member(log, "body", "{\\\"x\\\":1}") || has_member(log, "body", "{\\\"x\\\": 1}"));
    free(auth);
    cbk_string_free(log);

    /* the parent does not send the derived client's headers */
    standin_clear(base);
    r = cbk_conversation_session_client_create(base, "conv_parent", NULL, NULL);
    CHECK_CONTAINS(r, "\"token\"");
    cbk_string_free(r);
    log = standin_requests(base);
    CHECK_CONTAINS(log, "/conv_parent/");
    CHECK_MEMBER(log, "body", "{}");
    CHECK_NOT_CONTAINS(log, "x-example");
    CHECK_NOT_CONTAINS(log, "x-timezone");
    cbk_string_free(log);

    cbk_conversation_session_client_free(derived);
    cbk_conversation_session_client_free(base);
}

static void test_free_parent_then_use_child(void)
{
    cbk_conversation_session_client *base = standin_conversation_client(NULL);
    REQUIRE_NOT_NULL(base);
    cbk_conversation_session_client *child =
        cbk_conversation_session_client_extend(base, "{\"headers\":{\"x-child\":\"1\"}}", NULL);
    cbk_conversation_session_client_free(base);
    REQUIRE_NOT_NULL(child);

    cbk_error *err = NULL;
    char *r = cbk_conversation_session_client_create(child, "conv_child", NULL, &err);
    CHECK(err == NULL);
    CHECK_CONTAINS(r, "\"token\"");
    cbk_string_free(r);
    cbk_error_free(err);
    char *o = cbk_conversation_session_client_options(child, NULL);
    CHECK_MEMBER(o, "x-child", "1");
    cbk_string_free(o);

    /* a grandchild of a freed parent works too */
    cbk_conversation_session_client *grandchild = cbk_conversation_session_client_extend(child, "{}", NULL);
    cbk_conversation_session_client_free(child);
    REQUIRE_NOT_NULL(grandchild);
    r = cbk_conversation_session_client_create(grandchild, "conv_grandchild", NULL, NULL);
    CHECK_CONTAINS(r, "\"token\"");
    cbk_string_free(r);
    cbk_conversation_session_client_free(grandchild);

    /* the same for bot clients */
    cbk_bot_session_client *bbase = standin_bot_client(NULL);
    REQUIRE_NOT_NULL(bbase);
    cbk_bot_session_client *bchild = cbk_bot_session_client_extend(bbase, "{\"timezone\":\"UTC\"}", NULL);
    cbk_bot_session_client_free(bbase);
    REQUIRE_NOT_NULL(bchild);
    r = cbk_bot_session_client_create(bchild, "bot_child", NULL, NULL);
    CHECK_CONTAINS(r, "\"token\"");
    cbk_string_free(r);
    cbk_bot_session_client_free(bchild);
}

static void test_free_child_then_use_parent(void)
{
    cbk_conversation_session_client *base = standin_conversation_client(NULL);
    REQUIRE_NOT_NULL(base);
    cbk_conversation_session_client *child = cbk_conversation_session_client_extend(base, "{}", NULL);
    CHECK(child != NULL);
    cbk_conversation_session_client_free(child);
    char *r = cbk_conversation_session_client_create(base, "conv_parent_again", NULL, NULL);
    CHECK_CONTAINS(r, "\"token\"");
    cbk_string_free(r);
    cbk_conversation_session_client_free(base);
}

static void test_ids_percent_encoded(void)
{
    cbk_conversation_session_client *c = standin_conversation_client(NULL);
    cbk_bot_session_client *b = standin_bot_client(NULL);
    if (c == NULL || b == NULL) {
        cbk_conversation_session_client_free(c);
        cbk_bot_session_client_free(b);
        REQUIRE(c != NULL && b != NULL);
    }
    standin_clear(c);
    char *r = cbk_conversation_session_client_create(c, "a/b?c#d %\xc3\xa9", NULL, NULL);
    CHECK_CONTAINS(r, "\"token\"");
    cbk_string_free(r);
    r = cbk_bot_session_client_create(b, "../../x", NULL, NULL);
    CHECK_CONTAINS(r, "\"token\"");
    cbk_string_free(r);

    char *log = standin_requests(c);
    CHECK_CONTAINS(log, "/api/v1/conversation/a%2Fb%3Fc%23d%20%25%C3%A9/session/create");
    CHECK_CONTAINS(log, "/api/v1/bot/..%2F..%2Fx/session/create");
    cbk_string_free(log);
    cbk_conversation_session_client_free(c);
    cbk_bot_session_client_free(b);
}

static void test_invalid_ids_send_nothing(void)
{
    static const char *const bad[] = { "", ".", ".." };
    cbk_conversation_session_client *c = standin_conversation_client(NULL);
    cbk_bot_session_client *b = standin_bot_client(NULL);
    if (c == NULL || b == NULL) {
        cbk_conversation_session_client_free(c);
        cbk_bot_session_client_free(b);
        REQUIRE(c != NULL && b != NULL);
    }
    standin_clear(c);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cbk_error *err = NULL;
        CHECK(cbk_conversation_session_client_create(c, bad[i], NULL, &err) == NULL);
        EXPECT_ERROR(err, CBK_ERROR_INVALID_ARGUMENT, "INVALID_ARGUMENT", 0, "conversation_id");
        err = NULL;
        CHECK(cbk_bot_session_client_create(b, bad[i], NULL, &err) == NULL);
        EXPECT_ERROR(err, CBK_ERROR_INVALID_ARGUMENT, "INVALID_ARGUMENT", 0, "bot_id");
    }
    char *log = standin_requests(c);
    CHECK_NOT_CONTAINS(log, "session/create");
    cbk_string_free(log);
    cbk_conversation_session_client_free(c);
    cbk_bot_session_client_free(b);
}

/* ------------------------------------------------------------------------ */
/* async                                                                     */

struct async_result {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    int calls;
    int had_token;
    int had_error;
};

static void on_done(void *user_data, const char *response_json, const cbk_error *error)
{
    struct async_result *res = user_data;
    pthread_mutex_lock(&res->mutex);
    res->calls++;
    res->had_token = response_json != NULL && strstr(response_json, "\"token\"") != NULL;
    res->had_error = error != NULL;
    pthread_cond_signal(&res->cond);
    pthread_mutex_unlock(&res->mutex);
}

static void test_async_create_wait(void)
{
    struct async_result res = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0 };
    cbk_conversation_session_client *c = standin_conversation_client(NULL);
    REQUIRE_NOT_NULL(c);
    cbk_error *err = NULL;
    cbk_task *task = cbk_conversation_session_client_create_async(c, "conv_async", NULL, on_done, &res, &err);
    CHECK(task != NULL);
    CHECK(err == NULL);
    cbk_error_free(err);
    /* the client may be freed while the task is in flight */
    cbk_conversation_session_client_free(c);
    if (task != NULL) {
        err = NULL;
        char *r = cbk_task_wait(task, &err);
        CHECK(err == NULL);
        CHECK_CONTAINS(r, "\"token\"");
        cbk_string_free(r);
        cbk_error_free(err);
        cbk_task_free(task);
        pthread_mutex_lock(&res.mutex);
        while (res.calls == 0)
            pthread_cond_wait(&res.cond, &res.mutex);
        CHECK_INT_EQ(res.calls, 1);
        CHECK(res.had_token);
        CHECK(!res.had_error);
        pthread_mutex_unlock(&res.mutex);
    }
    pthread_mutex_destroy(&res.mutex);
    pthread_cond_destroy(&res.cond);
}

static void test_async_error_reported_once(void)
{
    struct async_result res = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0 };
    cbk_bot_session_client *b = standin_bot_client("\"retries\":0");
    REQUIRE_NOT_NULL(b);
    cbk_task *task = cbk_bot_session_client_create_async(b, "fail-404", NULL, on_done, &res, NULL);
    CHECK(task != NULL);
    if (task != NULL) {
        cbk_error *err = NULL;
        char *r = cbk_task_wait(task, &err);
        CHECK(r == NULL);
        EXPECT_ERROR(err, CBK_ERROR_API, "NOT_FOUND", 404, NULL);
        cbk_string_free(r);
        cbk_task_free(task);
        pthread_mutex_lock(&res.mutex);
        while (res.calls == 0)
            pthread_cond_wait(&res.cond, &res.mutex);
        CHECK_INT_EQ(res.calls, 1);
        CHECK(res.had_error);
        pthread_mutex_unlock(&res.mutex);
    }
    cbk_bot_session_client_free(b);
    pthread_mutex_destroy(&res.mutex);
    pthread_cond_destroy(&res.cond);
}

static void test_async_cancel(void)
{
    struct async_result res = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0 };
    cbk_conversation_session_client *c = standin_conversation_client("\"retries\":0");
    REQUIRE_NOT_NULL(c);
    cbk_task *task = cbk_conversation_session_client_create_async(c, "slow-3000", NULL, on_done, &res, NULL);
    CHECK(task != NULL);
    if (task != NULL) {
        cbk_task_cancel(task);
        cbk_task_cancel(task); /* a second cancel is harmless */
        cbk_error *err = NULL;
        char *r = cbk_task_wait(task, &err);
        CHECK(r == NULL);
        cbk_string_free(r);
        EXPECT_ERROR(err, CBK_ERROR_CANCELLED, "CANCELLED", 0, NULL);
        /* waiting again gives the same outcome */
        err = NULL;
        r = cbk_task_wait(task, &err);
        CHECK(r == NULL);
        cbk_string_free(r);
        EXPECT_ERROR(err, CBK_ERROR_CANCELLED, "CANCELLED", 0, NULL);
        cbk_task_free(task);
        pthread_mutex_lock(&res.mutex);
        CHECK_INT_EQ(res.calls, 1); /* wait returns after the callback has returned */
        CHECK(res.had_error);
        pthread_mutex_unlock(&res.mutex);
    }
    cbk_task_cancel(NULL); /* ignored */
    cbk_conversation_session_client_free(c);
    pthread_mutex_destroy(&res.mutex);
    pthread_cond_destroy(&res.cond);
}

static void test_async_without_callback(void)
{
    cbk_bot_session_client *b = standin_bot_client(NULL);
    REQUIRE_NOT_NULL(b);
    cbk_task *task = cbk_bot_session_client_create_async(b, "bot_async", "{}", NULL, NULL, NULL);
    cbk_bot_session_client_free(b);
    REQUIRE_NOT_NULL(task);
    char *r = cbk_task_wait(task, NULL);
    CHECK_CONTAINS(r, "\"conversationId\"");
    cbk_string_free(r);
    cbk_task_free(task);

    /* bad input is reported at once and no task is made */
    cbk_bot_session_client *b2 = standin_bot_client(NULL);
    REQUIRE_NOT_NULL(b2);
    cbk_error *err = NULL;
    CHECK(cbk_bot_session_client_create_async(b2, "..", NULL, NULL, NULL, &err) == NULL);
    EXPECT_ERROR(err, CBK_ERROR_INVALID_ARGUMENT, "INVALID_ARGUMENT", 0, "bot_id");
    err = NULL;
    CHECK(cbk_conversation_session_client_create_async(NULL, "x", NULL, NULL, NULL, &err) == NULL);
    EXPECT_ERROR(err, CBK_ERROR_INVALID_ARGUMENT, "INVALID_ARGUMENT", 0, "client");
    cbk_bot_session_client_free(b2);
}

int main(void)
{
    register_secret(TEST_LITERAL_SECRET);
    if (!standin_env())
        return 1;

    RUN(test_conversation_create_success);
    RUN(test_bot_create_success);
    RUN(test_error_untouched_on_successful_create);
    RUN(test_extend_merges_options);
    RUN(test_extend_sends_merged_headers);
    RUN(test_free_parent_then_use_child);
    RUN(test_free_child_then_use_parent);
    RUN(test_ids_percent_encoded);
    RUN(test_invalid_ids_send_nothing);
    RUN(test_async_create_wait);
    RUN(test_async_error_reported_once);
    RUN(test_async_cancel);
    RUN(test_async_without_callback);
    RUN(test_no_message_contained_a_secret);
    return test_summary();
}
