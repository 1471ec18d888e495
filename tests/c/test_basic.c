/*
 * test_basic.c - argument validation, options parsing, error objects and the
 * version, i.e. everything that does not need a server.
 *
 * Clients here point at http://127.0.0.1:1 with retries 0, so a request the
 * library should have refused before sending shows up as a quick
 * CBK_ERROR_NETWORK instead of a hang.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatbotkit.h"
#include "test.h"

/* Options for a client that can never reach a server. */
#define OFFLINE_OPTIONS \
    "{\"secret\":\"" TEST_LITERAL_SECRET "\",\"baseUrl\":\"http://127.0.0.1:1\",\"retries\":0}"

static cbk_conversation_session_client *offline_conversation(void)
{
    cbk_error *err = NULL;
    cbk_conversation_session_client *c = cbk_conversation_session_client_new(OFFLINE_OPTIONS, &err);
    if (c == NULL) {
        t_fail(__FILE__, __LINE__, "offline client: %s", err ? cbk_error_message(err) : "(no error)");
        cbk_error_free(err);
    }
    return c;
}

static cbk_bot_session_client *offline_bot(void)
{
    cbk_error *err = NULL;
    cbk_bot_session_client *c = cbk_bot_session_client_new(OFFLINE_OPTIONS, &err);
    if (c == NULL) {
        t_fail(__FILE__, __LINE__, "offline bot client: %s", err ? cbk_error_message(err) : "(no error)");
        cbk_error_free(err);
    }
    return c;
}

/* Both _new functions must refuse `options`, with `status` and a message
 * naming `name`; extend must refuse it the same way. */
static void expect_options_rejected(const char *file, int line, const char *options, cbk_status status,
                                    const char *code, const char *name)
{
    cbk_error *err = NULL;
    cbk_conversation_session_client *c = cbk_conversation_session_client_new(options, &err);
    if (c != NULL)
        t_fail(file, line, "conversation _new accepted %s", options);
    t_expect_error(file, line, "conversation _new error", err, status, code, 0, name);
    cbk_conversation_session_client_free(c);

    err = NULL;
    cbk_bot_session_client *b = cbk_bot_session_client_new(options, &err);
    if (b != NULL)
        t_fail(file, line, "bot _new accepted %s", options);
    t_expect_error(file, line, "bot _new error", err, status, code, 0, name);
    cbk_bot_session_client_free(b);

    cbk_conversation_session_client *base = offline_conversation();
    if (base != NULL) {
        err = NULL;
        c = cbk_conversation_session_client_extend(base, options, &err);
        if (c != NULL)
            t_fail(file, line, "conversation _extend accepted %s", options);
        t_expect_error(file, line, "conversation _extend error", err, status, code, 0, name);
        cbk_conversation_session_client_free(c);
        cbk_conversation_session_client_free(base);
    }
    cbk_bot_session_client *bbase = offline_bot();
    if (bbase != NULL) {
        err = NULL;
        b = cbk_bot_session_client_extend(bbase, options, &err);
        if (b != NULL)
            t_fail(file, line, "bot _extend accepted %s", options);
        t_expect_error(file, line, "bot _extend error", err, status, code, 0, name);
        cbk_bot_session_client_free(b);
        cbk_bot_session_client_free(bbase);
    }
}
#define EXPECT_OPTIONS_REJECTED(options, status, code, name) \
    expect_options_rejected(__FILE__, __LINE__, (options), (status), (code), (name))

/* ------------------------------------------------------------------------ */

static void test_version_matches_header(void)
{
    REQUIRE_NOT_NULL(cbk_version());
    CHECK_STR_EQ(cbk_version(), CHATBOTKIT_VERSION);
    char buf[64];
    snprintf(buf, sizeof buf, "%d.%d.%d", (int)CHATBOTKIT_VERSION_MAJOR, (int)CHATBOTKIT_VERSION_MINOR,
             (int)CHATBOTKIT_VERSION_PATCH);
    CHECK_STR_EQ(buf, CHATBOTKIT_VERSION);
    /* a static string: the same pointer every time, nothing to free */
    CHECK(cbk_version() == cbk_version());
}

static void test_free_null_is_noop(void)
{
    cbk_conversation_session_client_free(NULL);
    cbk_bot_session_client_free(NULL);
    cbk_string_free(NULL);
    cbk_error_free(NULL);
    cbk_task_free(NULL);
    cbk_task_cancel(NULL);
    CHECK(1); /* reaching this line is the test */
}

static void test_new_accepts_null_options(void)
{
    cbk_error *err = NULL;
    cbk_conversation_session_client *c = cbk_conversation_session_client_new(NULL, &err);
    CHECK(c != NULL);
    CHECK(err == NULL);
    if (c != NULL) {
        char *opts = cbk_conversation_session_client_options(c, &err);
        CHECK_CONTAINS(opts, "\"baseUrl\":\"https://api.chatbotkit.com");
        CHECK_CONTAINS(opts, "\"retries\":3");
        CHECK_CONTAINS(opts, "\"retryDelay\":250");
        cbk_string_free(opts);
    }
    cbk_error_free(err);
    cbk_conversation_session_client_free(c);

    err = NULL;
    cbk_bot_session_client *b = cbk_bot_session_client_new(NULL, &err);
    CHECK(b != NULL);
    CHECK(err == NULL);
    cbk_error_free(err);
    cbk_bot_session_client_free(b);

    /* "{}" means the same */
    c = cbk_conversation_session_client_new("{}", NULL);
    CHECK(c != NULL);
    cbk_conversation_session_client_free(c);
}

static void test_session_client_alias(void)
{
    /* cbk_session_client is the pre-2024 name of the bot session client. */
    cbk_session_client *s = cbk_bot_session_client_new(OFFLINE_OPTIONS, NULL);
    CHECK(s != NULL);
    char *opts = cbk_bot_session_client_options(s, NULL);
    CHECK_CONTAINS(opts, "\"baseUrl\":\"http://127.0.0.1:1");
    cbk_string_free(opts);
    cbk_bot_session_client_free(s);
}

static void test_null_error_out_param_allowed(void)
{
    /* every failure path with error == NULL: just NULL back, no crash */
    CHECK(cbk_conversation_session_client_new("not json", NULL) == NULL);
    CHECK(cbk_bot_session_client_new("{\"bogus\":1}", NULL) == NULL);
    CHECK(cbk_conversation_session_client_extend(NULL, "{}", NULL) == NULL);
    CHECK(cbk_bot_session_client_extend(NULL, "{}", NULL) == NULL);
    CHECK(cbk_conversation_session_client_create(NULL, "x", NULL, NULL) == NULL);
    CHECK(cbk_bot_session_client_create(NULL, "x", NULL, NULL) == NULL);
    CHECK(cbk_conversation_session_client_options(NULL, NULL) == NULL);
    CHECK(cbk_bot_session_client_options(NULL, NULL) == NULL);
    CHECK(cbk_conversation_session_client_fetch(NULL, "/x", NULL, NULL) == NULL);

    cbk_conversation_session_client *c = offline_conversation();
    REQUIRE_NOT_NULL(c);
    CHECK(cbk_conversation_session_client_create(c, NULL, NULL, NULL) == NULL);
    CHECK(cbk_conversation_session_client_create(c, "", NULL, NULL) == NULL);
    CHECK(cbk_conversation_session_client_extend(c, "[]", NULL) == NULL);
    /* and a network failure */
    CHECK(cbk_conversation_session_client_create(c, "conv_1", NULL, NULL) == NULL);
    cbk_conversation_session_client_free(c);
}

static void test_null_client_argument(void)
{
    cbk_error *err = NULL;
    CHECK(cbk_conversation_session_client_create(NULL, "conv_1", NULL, &err) == NULL);
    EXPECT_ERROR(err, CBK_ERROR_INVALID_ARGUMENT, "INVALID_ARGUMENT", 0, "client");

    err = NULL;
    CHECK(cbk_bot_session_client_create(NULL, "bot_1", NULL, &err) == NULL);
    EXPECT_ERROR(err, CBK_ERROR_INVALID_ARGUMENT, "INVALID_ARGUMENT", 0, "client");

    err = NULL;
    CHECK(cbk_conversation_session_client_extend(NULL, "{}", &err) == NULL);
    EXPECT_ERROR(err, CBK_ERROR_INVALID_ARGUMENT, "INVALID_ARGUMENT", 0, "client");

    err = NULL;
    CHECK(cbk_bot_session_client_extend(NULL, "{}", &err) == NULL);
    EXPECT_ERROR(err, CBK_ERROR_INVALID_ARGUMENT, "INVALID_ARGUMENT", 0, "client");

    err = NULL;
    CHECK(cbk_conversation_session_client_options(NULL, &err) == NULL);
    EXPECT_ERROR(err, CBK_ERROR_INVALID_ARGUMENT, "INVALID_ARGUMENT", 0, "client");

    err = NULL;
    CHECK(cbk_bot_session_client_options(NULL, &err) == NULL);
    EXPECT_ERROR(err, CBK_ERROR_INVALID_ARGUMENT, "INVALID_ARGUMENT", 0, "client");
}

static void test_null_id_argument(void)
{
    cbk_conversation_session_client *c = offline_conversation();
    cbk_bot_session_client *b = offline_bot();
    if (c != NULL) {
        cbk_error *err = NULL;
        CHECK(cbk_conversation_session_client_create(c, NULL, NULL, &err) == NULL);
        EXPECT_ERROR(err, CBK_ERROR_INVALID_ARGUMENT, "INVALID_ARGUMENT", 0, "conversation_id");
    }
    if (b != NULL) {
        cbk_error *err = NULL;
        CHECK(cbk_bot_session_client_create(b, NULL, NULL, &err) == NULL);
        EXPECT_ERROR(err, CBK_ERROR_INVALID_ARGUMENT, "INVALID_ARGUMENT", 0, "bot_id");
    }
    cbk_conversation_session_client_free(c);
    cbk_bot_session_client_free(b);
}

static void test_empty_and_dot_ids_rejected(void)
{
    static const char *const bad[] = { "", ".", ".." };
    cbk_conversation_session_client *c = offline_conversation();
    cbk_bot_session_client *b = offline_bot();
    REQUIRE(c != NULL && b != NULL);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cbk_error *err = NULL;
        CHECK(cbk_conversation_session_client_create(c, bad[i], NULL, &err) == NULL);
        EXPECT_ERROR(err, CBK_ERROR_INVALID_ARGUMENT, "INVALID_ARGUMENT", 0, "conversation_id");
        err = NULL;
        CHECK(cbk_bot_session_client_create(b, bad[i], NULL, &err) == NULL);
        EXPECT_ERROR(err, CBK_ERROR_INVALID_ARGUMENT, "INVALID_ARGUMENT", 0, "bot_id");
    }
    cbk_conversation_session_client_free(c);
    cbk_bot_session_client_free(b);
}

static void test_invalid_utf8_id(void)
{
    cbk_conversation_session_client *c = offline_conversation();
    cbk_bot_session_client *b = offline_bot();
    REQUIRE(c != NULL && b != NULL);
    cbk_error *err = NULL;
    CHECK(cbk_conversation_session_client_create(c, "conv_\xff\xfe", NULL, &err) == NULL);
    EXPECT_ERROR(err, CBK_ERROR_INVALID_ARGUMENT, "INVALID_ARGUMENT", 0, "conversation_id");
    err = NULL;
    CHECK(cbk_bot_session_client_create(b, "bot_\xc3\x28", NULL, &err) == NULL);
    EXPECT_ERROR(err, CBK_ERROR_INVALID_ARGUMENT, "INVALID_ARGUMENT", 0, "bot_id");
    cbk_conversation_session_client_free(c);
    cbk_bot_session_client_free(b);
}

static void test_invalid_utf8_options(void)
{
    EXPECT_OPTIONS_REJECTED("{\"timezone\":\"Europe/\xff\"}", CBK_ERROR_INVALID_ARGUMENT, "INVALID_ARGUMENT",
                            "options_json");
}

static void test_invalid_request_json(void)
{
    cbk_conversation_session_client *c = offline_conversation();
    REQUIRE_NOT_NULL(c);
    cbk_error *err = NULL;
    CHECK(cbk_conversation_session_client_create(c, "conv_1", "{\"a\":\"\xff\"}", &err) == NULL);
    EXPECT_ERROR(err, CBK_ERROR_INVALID_ARGUMENT, "INVALID_ARGUMENT", 0, "request_json");
    err = NULL;
    CHECK(cbk_conversation_session_client_create(c, "conv_1", "not json", &err) == NULL);
    EXPECT_ERROR(err, CBK_ERROR_INVALID_JSON, "INVALID_JSON", 0, NULL);
    err = NULL;
    CHECK(cbk_conversation_session_client_create(c, "conv_1", "[1,2]", &err) == NULL);
    EXPECT_ERROR(err, CBK_ERROR_INVALID_JSON, "INVALID_JSON", 0, NULL);
    cbk_conversation_session_client_free(c);
}

static void test_non_json_options(void)
{
    EXPECT_OPTIONS_REJECTED("not json", CBK_ERROR_INVALID_JSON, "INVALID_JSON", NULL);
    EXPECT_OPTIONS_REJECTED("{\"secret\":", CBK_ERROR_INVALID_JSON, "INVALID_JSON", NULL);
    EXPECT_OPTIONS_REJECTED("", CBK_ERROR_INVALID_JSON, "INVALID_JSON", NULL);
}

static void test_non_object_options(void)
{
    EXPECT_OPTIONS_REJECTED("[]", CBK_ERROR_INVALID_JSON, "INVALID_JSON", NULL);
    EXPECT_OPTIONS_REJECTED("42", CBK_ERROR_INVALID_JSON, "INVALID_JSON", NULL);
    EXPECT_OPTIONS_REJECTED("\"" TEST_LITERAL_SECRET "\"", CBK_ERROR_INVALID_JSON, "INVALID_JSON", NULL);
}

static void test_unknown_option_key_named(void)
{
    EXPECT_OPTIONS_REJECTED("{\"secret\":\"" TEST_LITERAL_SECRET "\",\"bogusOption\":1}", CBK_ERROR_INVALID_JSON,
                            "INVALID_JSON", "bogusOption");
}

static void test_fetchFn_refused(void)
{
    EXPECT_OPTIONS_REJECTED("{\"fetchFn\":\"x\"}", CBK_ERROR_INVALID_JSON, "INVALID_JSON", "fetchFn");
}

static void test_wrong_option_type_named(void)
{
    EXPECT_OPTIONS_REJECTED("{\"timeout\":\"fast\"}", CBK_ERROR_INVALID_JSON, "INVALID_JSON", "timeout");
    EXPECT_OPTIONS_REJECTED("{\"retries\":true}", CBK_ERROR_INVALID_JSON, "INVALID_JSON", "retries");
    EXPECT_OPTIONS_REJECTED("{\"headers\":[\"x\"]}", CBK_ERROR_INVALID_JSON, "INVALID_JSON", "headers");
    EXPECT_OPTIONS_REJECTED("{\"secret\":42}", CBK_ERROR_INVALID_JSON, "INVALID_JSON", "secret");
    EXPECT_OPTIONS_REJECTED("{\"retryTimeout\":\"yes\"}", CBK_ERROR_INVALID_JSON, "INVALID_JSON", "retryTimeout");
}

static void test_out_of_range_options_invalid_argument(void)
{
    EXPECT_OPTIONS_REJECTED("{\"secret\":\"" TEST_LITERAL_SECRET "\",\"retries\":-1}", CBK_ERROR_INVALID_ARGUMENT,
                            "INVALID_ARGUMENT", "retries");
    EXPECT_OPTIONS_REJECTED("{\"timeout\":-5}", CBK_ERROR_INVALID_ARGUMENT, "INVALID_ARGUMENT", "timeout");
    EXPECT_OPTIONS_REJECTED("{\"baseUrl\":\"not a url\"}", CBK_ERROR_INVALID_ARGUMENT, "INVALID_ARGUMENT",
                            "baseUrl");
    EXPECT_OPTIONS_REJECTED("{\"protocol\":\"ftp:\"}", CBK_ERROR_INVALID_ARGUMENT, "INVALID_ARGUMENT", "protocol");
}

static void test_bad_secret_value_not_echoed(void)
{
    /* A secret that cannot be sent as a header value: the message names the
     * option but must not repeat its value. */
    EXPECT_OPTIONS_REJECTED("{\"secret\":\"" TEST_LITERAL_SECRET "\\r\\nx-injected: 1\"}",
                            CBK_ERROR_INVALID_ARGUMENT, "INVALID_ARGUMENT", "secret");
    EXPECT_OPTIONS_REJECTED("{\"token\":\"" TEST_LITERAL_SECRET "\\n\"}", CBK_ERROR_INVALID_ARGUMENT,
                            "INVALID_ARGUMENT", "token");
    /* the secret next to a bad option */
    EXPECT_OPTIONS_REJECTED("{\"secret\":\"" TEST_LITERAL_SECRET "\",\"headers\":{\"x-a\":\"1\\r\\n2\"}}",
                            CBK_ERROR_INVALID_ARGUMENT, "INVALID_ARGUMENT", NULL);
}

static void test_error_to_json(void)
{
    cbk_error *err = NULL;
    CHECK(cbk_conversation_session_client_new("{\"bogusOption\":1}", &err) == NULL);
    REQUIRE_NOT_NULL(err);
    CHECK_INT_EQ(cbk_error_status(err), CBK_ERROR_INVALID_JSON);
    CHECK_STR_EQ(cbk_error_code(err), "INVALID_JSON");
    CHECK_INT_EQ(cbk_error_http_status(err), 0);
    char *json = cbk_error_to_json(err);
    CHECK_CONTAINS(json, "\"status\":\"INVALID_JSON\"");
    CHECK_CONTAINS(json, "\"code\":\"INVALID_JSON\"");
    CHECK_CONTAINS(json, "\"httpStatus\":0");
    CHECK_CONTAINS(json, "\"message\":\"");
    CHECK_CONTAINS(json, "bogusOption");
    if (json != NULL)
        CHECK(json[0] == '{' && json[strlen(json) - 1] == '}');
    cbk_string_free(json);
    /* the accessors return the same strings while the error lives */
    CHECK(cbk_error_code(err) == cbk_error_code(err));
    cbk_error_free(err);

    err = NULL;
    CHECK(cbk_conversation_session_client_create(NULL, "x", NULL, &err) == NULL);
    REQUIRE_NOT_NULL(err);
    json = cbk_error_to_json(err);
    CHECK_CONTAINS(json, "\"status\":\"INVALID_ARGUMENT\"");
    CHECK_CONTAINS(json, "\"code\":\"INVALID_ARGUMENT\"");
    cbk_string_free(json);
    cbk_error_free(err);

    /* a message with characters that need escaping still gives valid JSON text */
    err = NULL;
    CHECK(cbk_conversation_session_client_new("{\"bo\\\"gus\\\\\":1}", &err) == NULL);
    REQUIRE_NOT_NULL(err);
    json = cbk_error_to_json(err);
    REQUIRE_NOT_NULL(json);
    CHECK_NOT_CONTAINS(json, "bo\"gus"); /* the quote must be escaped */
    cbk_string_free(json);
    cbk_error_free(err);
}

static void test_error_accessors_on_null(void)
{
    /* Not a crash; whatever they return must be usable. */
    (void)cbk_error_status(NULL);
    (void)cbk_error_http_status(NULL);
    (void)cbk_error_code(NULL);
    (void)cbk_error_message(NULL);
    char *json = cbk_error_to_json(NULL);
    cbk_string_free(json);
    CHECK(1);
}

static void test_error_untouched_on_success(void)
{
    static int sentinel_storage;
    cbk_error *const sentinel = (cbk_error *)(void *)&sentinel_storage;

    cbk_error *err = sentinel;
    cbk_conversation_session_client *c = cbk_conversation_session_client_new(OFFLINE_OPTIONS, &err);
    CHECK(c != NULL);
    CHECK(err == sentinel);
    REQUIRE_NOT_NULL(c);

    cbk_conversation_session_client *d = cbk_conversation_session_client_extend(c, "{\"timezone\":\"UTC\"}", &err);
    CHECK(d != NULL);
    CHECK(err == sentinel);

    char *opts = cbk_conversation_session_client_options(d ? d : c, &err);
    CHECK(opts != NULL);
    CHECK(err == sentinel);
    cbk_string_free(opts);

    cbk_bot_session_client *b = cbk_bot_session_client_new(NULL, &err);
    CHECK(b != NULL);
    CHECK(err == sentinel);
    cbk_bot_session_client *bd = b ? cbk_bot_session_client_extend(b, "{}", &err) : NULL;
    CHECK(bd != NULL);
    CHECK(err == sentinel);
    opts = bd ? cbk_bot_session_client_options(bd, &err) : NULL;
    CHECK(opts != NULL);
    CHECK(err == sentinel);
    cbk_string_free(opts);

    cbk_bot_session_client_free(bd);
    cbk_bot_session_client_free(b);
    cbk_conversation_session_client_free(d);
    cbk_conversation_session_client_free(c);
}

static void test_options_roundtrip(void)
{
    /* The options JSON is valid input for _new and gives the same options. */
    cbk_conversation_session_client *c = cbk_conversation_session_client_new(
        "{\"secret\":\"" TEST_LITERAL_SECRET "\",\"baseUrl\":\"http://127.0.0.1:1\",\"retries\":0,"
        "\"headers\":{\"x-a\":\"1\"},\"timezone\":\"UTC\"}",
        NULL);
    REQUIRE_NOT_NULL(c);
    char *opts = cbk_conversation_session_client_options(c, NULL);
    CHECK_CONTAINS(opts, TEST_LITERAL_SECRET); /* the one output that has it */
    CHECK_CONTAINS(opts, "\"x-a\":\"1\"");
    CHECK_CONTAINS(opts, "\"timezone\":\"UTC\"");
    cbk_conversation_session_client *c2 = opts ? cbk_conversation_session_client_new(opts, NULL) : NULL;
    CHECK(c2 != NULL);
    char *opts2 = c2 ? cbk_conversation_session_client_options(c2, NULL) : NULL;
    CHECK_STR_EQ(opts2, opts);
    cbk_string_free(opts2);
    cbk_string_free(opts);
    cbk_conversation_session_client_free(c2);
    cbk_conversation_session_client_free(c);
}

int main(void)
{
    register_secret(TEST_LITERAL_SECRET);
    register_secret(getenv("CHATBOTKIT_API_SECRET"));

    RUN(test_version_matches_header);
    RUN(test_free_null_is_noop);
    RUN(test_new_accepts_null_options);
    RUN(test_session_client_alias);
    RUN(test_null_error_out_param_allowed);
    RUN(test_null_client_argument);
    RUN(test_null_id_argument);
    RUN(test_empty_and_dot_ids_rejected);
    RUN(test_invalid_utf8_id);
    RUN(test_invalid_utf8_options);
    RUN(test_invalid_request_json);
    RUN(test_non_json_options);
    RUN(test_non_object_options);
    RUN(test_unknown_option_key_named);
    RUN(test_fetchFn_refused);
    RUN(test_wrong_option_type_named);
    RUN(test_out_of_range_options_invalid_argument);
    RUN(test_bad_secret_value_not_echoed);
    RUN(test_error_to_json);
    RUN(test_error_accessors_on_null);
    RUN(test_error_untouched_on_success);
    RUN(test_options_roundtrip);
    RUN(test_no_message_contained_a_secret);
    return test_summary();
}
