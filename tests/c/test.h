/*
 * test.h - a tiny TAP-ish test harness for the libchatbotkit C tests.
 *
 * Each test is a `static void test_xxx(void)`; main() runs them with
 * RUN(test_xxx), which prints "ok N - xxx" or "not ok N - xxx", and ends with
 * `return test_summary();`, which prints "P passed, F failed" and returns
 * nonzero when anything failed.
 *
 * CHECK*() record a failure with file:line and keep going; REQUIRE*() record
 * it and return from the test function (use them when continuing would
 * dereference NULL).  Diagnostics go to stdout prefixed with "# ".
 *
 * EXPECT_ERROR() checks a cbk_error against the expected status, code, HTTP
 * status and a message fragment, checks that neither its message nor its
 * JSON form contains any registered secret, and frees it.
 */
#ifndef CBK_TEST_H
#define CBK_TEST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatbotkit.h"
#include "../audit.h"
#include "../strutil.h"

static int t_number, t_passed, t_failed, t_current_failed;

static void t_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    printf("#   %s:%d: ", file, line);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    t_current_failed = 1;
}

#define CHECK(cond) \
    do { if (!(cond)) t_fail(__FILE__, __LINE__, "check failed: %s", #cond); } while (0)
#define REQUIRE(cond) \
    do { if (!(cond)) { t_fail(__FILE__, __LINE__, "requirement failed: %s", #cond); return; } } while (0)

#define CHECK_STR_EQ(got, want) t_check_str_eq(__FILE__, __LINE__, #got, (got), (want))
#define CHECK_INT_EQ(got, want) t_check_int_eq(__FILE__, __LINE__, #got, (long)(got), (long)(want))
#define CHECK_CONTAINS(hay, needle) t_check_contains(__FILE__, __LINE__, #hay, (hay), (needle), 1)
#define CHECK_NOT_CONTAINS(hay, needle) t_check_contains(__FILE__, __LINE__, #hay, (hay), (needle), 0)
#define REQUIRE_NOT_NULL(p) \
    do { if ((p) == NULL) { t_fail(__FILE__, __LINE__, "%s is NULL", #p); return; } } while (0)

static inline int t_check_str_eq(const char *file, int line, const char *expr, const char *got, const char *want)
{
    if (got == NULL || want == NULL || strcmp(got, want) != 0) {
        t_fail(file, line, "%s: got \"%s\", want \"%s\"", expr, got ? got : "(NULL)", want ? want : "(NULL)");
        return 0;
    }
    return 1;
}

static inline int t_check_int_eq(const char *file, int line, const char *expr, long got, long want)
{
    if (got != want) {
        t_fail(file, line, "%s: got %ld, want %ld", expr, got, want);
        return 0;
    }
    return 1;
}

static inline int t_check_contains(const char *file, int line, const char *expr, const char *hay,
                                   const char *needle, int want)
{
    int found = hay != NULL && strstr(hay, needle) != NULL;
    if (hay == NULL || found != want) {
        t_fail(file, line, "%s (\"%s\") %s \"%s\"", expr, hay ? hay : "(NULL)",
               want ? "does not contain" : "contains", needle);
        return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------------ */

#define RUN(fn) t_run(#fn, fn)

static void t_run(const char *name, void (*fn)(void))
{
    if (strncmp(name, "test_", 5) == 0)
        name += 5;
    t_current_failed = 0;
    fn();
    t_number++;
    if (t_current_failed) {
        t_failed++;
        printf("not ok %d - %s\n", t_number, name);
    } else {
        t_passed++;
        printf("ok %d - %s\n", t_number, name);
    }
    fflush(stdout);
}

static int test_summary(void)
{
    printf("1..%d\n", t_number);
    printf("%d passed, %d failed\n", t_passed, t_failed);
    fflush(stdout);
    return t_failed == 0 ? 0 : 1;
}

/* ------------------------------------------------------------------------ */
/* Secrets that must never appear in an error message                       */
/* ------------------------------------------------------------------------ */

/* A recognisable secret used in options that never reach a server. */
#define TEST_LITERAL_SECRET "sk_ctest_LITERAL_Zq8vY3pK"

static const char *t_secrets[8];
static int t_secret_count;
static long t_messages_scanned, t_secret_leaks;

static inline void register_secret(const char *secret)
{
    if (secret != NULL && secret[0] != '\0' && t_secret_count < 8)
        t_secrets[t_secret_count++] = secret;
}

/* Checks that `text` (an error message or error JSON) has no secret in it. */
static inline void t_check_no_secret(const char *file, int line, const char *what, const char *text)
{
    if (text == NULL)
        return;
    audit_line(what, text);
    t_messages_scanned++;
    for (int i = 0; i < t_secret_count; i++) {
        if (strstr(text, t_secrets[i]) != NULL) {
            t_secret_leaks++;
            t_fail(file, line, "%s contains a secret: \"%s\"", what, text);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Error expectations                                                       */
/* ------------------------------------------------------------------------ */

/* code: NULL = don't check; http: -1 = don't check; msg_part: NULL = don't check. */
#define EXPECT_ERROR(err, status, code, http, msg_part) \
    t_expect_error(__FILE__, __LINE__, #err, (err), (status), (code), (http), (msg_part))

static inline void t_expect_error(const char *file, int line, const char *expr, cbk_error *err,
                                  cbk_status status, const char *code, int http, const char *msg_part)
{
    if (err == NULL) {
        t_fail(file, line, "%s: no error was reported (want status %d)", expr, (int)status);
        return;
    }
    const char *got_code = cbk_error_code(err);
    const char *got_msg = cbk_error_message(err);
    int got_status = (int)cbk_error_status(err);
    int got_http = cbk_error_http_status(err);
    if (got_status != (int)status || (code != NULL && (got_code == NULL || strcmp(got_code, code) != 0)) ||
        (http >= 0 && got_http != http) ||
        (msg_part != NULL && (got_msg == NULL || strstr(got_msg, msg_part) == NULL))) {
        t_fail(file, line,
               "%s: got status=%d code=\"%s\" http=%d message=\"%s\"; "
               "want status=%d code=\"%s\" http=%d message containing \"%s\"",
               expr, got_status, got_code ? got_code : "(NULL)", got_http, got_msg ? got_msg : "(NULL)",
               (int)status, code ? code : "*", http, msg_part ? msg_part : "*");
    }
    t_check_no_secret(file, line, "error message", got_msg);
    t_check_no_secret(file, line, "error code", got_code);
    char *json = cbk_error_to_json(err);
    if (json == NULL)
        t_fail(file, line, "%s: cbk_error_to_json returned NULL", expr);
    t_check_no_secret(file, line, "error JSON", json);
    cbk_string_free(json);
    cbk_error_free(err);
}

/* ------------------------------------------------------------------------ */
/* Strings                                                                  */
/* ------------------------------------------------------------------------ */

/* ------------------------------------------------------------------------ */
/* The stand-in                                                             */
/* ------------------------------------------------------------------------ */

/* The log callback of every stand-in test: checks and audits each line. */
static void t_audit_log(void *user_data, cbk_log_level level, const char *message)
{
    (void)user_data;
    (void)level;
    t_check_no_secret(__FILE__, __LINE__, "log line", message);
}

static const char *g_base_url; /* CHATBOTKIT_API_BASE_URL */
static const char *g_secret;   /* CHATBOTKIT_API_SECRET */

/* Reads the stand-in's environment (set by scripts/with-standin.sh).
 * Returns 0 and prints "Bail out!" when it is missing. */
static inline int standin_env(void)
{
    g_base_url = getenv("CHATBOTKIT_API_BASE_URL");
    g_secret = getenv("CHATBOTKIT_API_SECRET");
    if (g_base_url == NULL || g_base_url[0] == '\0' || g_secret == NULL || g_secret[0] == '\0') {
        printf("Bail out! CHATBOTKIT_API_BASE_URL and CHATBOTKIT_API_SECRET must be set "
               "(run under scripts/with-standin.sh)\n");
        return 0;
    }
    register_secret(g_secret);
    /* Every log line of the program's library calls goes to the audit too. */
    cbk_set_log_callback(CBK_LOG_DEBUG, t_audit_log, NULL);
    return 1;
}

/* Options JSON {"secret":<env secret>,"baseUrl":<env base URL>[,extra]} (free it).
 * `extra` is more members, e.g. "\"retries\":0", or NULL. */
static inline char *standin_options(const char *extra)
{
    char *secret = json_str(g_secret);
    char *base = json_str(g_base_url);
    char *s = fmt("{\"secret\":%s,\"baseUrl\":%s%s%s}", secret, base, extra ? "," : "", extra ? extra : "");
    free(secret);
    free(base);
    return s;
}

/* A conversation client on the stand-in, or NULL (after a failed check). */
static inline cbk_conversation_session_client *standin_conversation_client(const char *extra)
{
    char *opts = standin_options(extra);
    cbk_error *err = NULL;
    cbk_conversation_session_client *c = cbk_conversation_session_client_new(opts, &err);
    if (c == NULL) {
        t_fail(__FILE__, __LINE__, "cbk_conversation_session_client_new(%s) failed: %s", extra ? extra : "",
               err ? cbk_error_message(err) : "(no error)");
        cbk_error_free(err);
    }
    free(opts);
    return c;
}

static inline cbk_bot_session_client *standin_bot_client(const char *extra)
{
    char *opts = standin_options(extra);
    cbk_error *err = NULL;
    cbk_bot_session_client *c = cbk_bot_session_client_new(opts, &err);
    if (c == NULL) {
        t_fail(__FILE__, __LINE__, "cbk_bot_session_client_new(%s) failed: %s", extra ? extra : "",
               err ? cbk_error_message(err) : "(no error)");
        cbk_error_free(err);
    }
    free(opts);
    return c;
}

/* The stand-in's request log (GET /_standin/requests) as JSON text, fetched
 * through the library's own clientFetch; free with cbk_string_free. */
static inline char *standin_requests(const cbk_conversation_session_client *c)
{
    cbk_error *err = NULL;
    char *log = cbk_conversation_session_client_fetch(c, "/_standin/requests", "{\"method\":\"GET\"}", &err);
    if (log == NULL) {
        t_fail(__FILE__, __LINE__, "GET /_standin/requests failed: %s", err ? cbk_error_message(err) : "(no error)");
        cbk_error_free(err);
    }
    return log;
}

/* Clears the stand-in's request log (DELETE /_standin/requests). */
static inline void standin_clear(const cbk_conversation_session_client *c)
{
    cbk_error *err = NULL;
    char *r = cbk_conversation_session_client_fetch(c, "/_standin/requests", "{\"method\":\"DELETE\"}", &err);
    if (r == NULL) {
        t_fail(__FILE__, __LINE__, "DELETE /_standin/requests failed: %s", err ? cbk_error_message(err) : "(no error)");
        cbk_error_free(err);
    }
    cbk_string_free(r);
}

/* A final test every program runs: every error message seen was scanned
 * for the secrets and none contained one. */
static void test_no_message_contained_a_secret(void)
{
    CHECK(t_secret_count > 0);
    CHECK(t_messages_scanned > 0);
    CHECK_INT_EQ(t_secret_leaks, 0);
    printf("# scanned %ld error strings for %d secrets\n", t_messages_scanned, t_secret_count);
}

#endif /* CBK_TEST_H */
