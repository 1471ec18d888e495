/*
 * test_async_log.c - cbk_set_log_callback: each attempt, retry and failure
 * is reported with the method and path, never the secret; NULL turns it off.
 *
 * Against the stand-in (run under scripts/with-standin.sh, with a
 * recognisable CHATBOTKIT_API_SECRET: see the Makefile).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "async_test.h"

/* A secret that is only ever sent to a closed port, and one put in a header. */
#define LITERAL_SECRET "sk_asynctest_LITERAL_v8Nq2Rx"
#define HEADER_SECRET "hdr_asynctest_HEADER_t5Wm1Zc"

/* ------------------------------------------------------------------------ */
/* The log sink                                                             */
/* ------------------------------------------------------------------------ */

#define MAX_LINES 4096

typedef struct line {
    cbk_log_level level;
    char *text;
} line_t;

typedef struct logbuf {
    pthread_mutex_t mu;
    line_t lines[MAX_LINES];
    int count;
    int dropped;
    atomic_int calls;
    atomic_int wrong_user_data;
    atomic_int null_message;
    atomic_int bad_level;
} logbuf_t;

static logbuf_t g_log = { .mu = PTHREAD_MUTEX_INITIALIZER };
static logbuf_t g_other; /* only its address is used */

static void log_callback(void *user_data, cbk_log_level level, const char *message)
{
    atomic_fetch_add(&g_log.calls, 1);
    if (user_data != &g_log)
        atomic_fetch_add(&g_log.wrong_user_data, 1);
    if (message == NULL) {
        atomic_fetch_add(&g_log.null_message, 1);
        return;
    }
    if (level < CBK_LOG_ERROR || level > CBK_LOG_DEBUG)
        atomic_fetch_add(&g_log.bad_level, 1);
    pthread_mutex_lock(&g_log.mu);
    if (g_log.count < MAX_LINES) {
        g_log.lines[g_log.count].level = level;
        g_log.lines[g_log.count].text = xstrdup(message);
        g_log.count++;
    } else {
        g_log.dropped++;
    }
    pthread_mutex_unlock(&g_log.mu);
}

static void log_clear(void)
{
    pthread_mutex_lock(&g_log.mu);
    for (int i = 0; i < g_log.count; i++)
        free(g_log.lines[i].text);
    g_log.count = 0;
    pthread_mutex_unlock(&g_log.mu);
}

static int log_count(void)
{
    pthread_mutex_lock(&g_log.mu);
    int n = g_log.count;
    pthread_mutex_unlock(&g_log.mu);
    return n;
}

static void log_dump(void)
{
    pthread_mutex_lock(&g_log.mu);
    for (int i = 0; i < g_log.count; i++)
        note("log[%d] level %d: %s", i, (int)g_log.lines[i].level, g_log.lines[i].text);
    pthread_mutex_unlock(&g_log.mu);
}

/* How many lines at `level` (0: any) contain every one of the fragments. */
static int log_matching(cbk_log_level level, const char *a, const char *b, const char *c, const char *d)
{
    int n = 0;
    pthread_mutex_lock(&g_log.mu);
    for (int i = 0; i < g_log.count; i++) {
        const char *t = g_log.lines[i].text;
        audit_line("log line", t);
        if ((level == 0 || g_log.lines[i].level == level) && (a == NULL || strstr(t, a)) &&
            (b == NULL || strstr(t, b)) && (c == NULL || strstr(t, c)) && (d == NULL || strstr(t, d)))
            n++;
    }
    pthread_mutex_unlock(&g_log.mu);
    return n;
}

/* Every line so far: no secret, no header, not empty. */
static void check_lines_clean(void)
{
    pthread_mutex_lock(&g_log.mu);
    for (int i = 0; i < g_log.count; i++) {
        const char *t = g_log.lines[i].text;
        audit_line("log line", t);
        if (strstr(t, g_secret) || strstr(t, LITERAL_SECRET) || strstr(t, HEADER_SECRET) ||
            strstr(t, "sk_asynctest") || strstr(t, "Bearer") || strstr(t, "earer ") ||
            strstr(t, "authorization"))
            FAIL("log line %d carries a credential: %s", i, t);
        if (t[0] == '\0')
            FAIL("log line %d is empty", i);
    }
    pthread_mutex_unlock(&g_log.mu);
    CHECK_INT_EQ(atomic_load(&g_log.wrong_user_data), 0);
    CHECK_INT_EQ(atomic_load(&g_log.null_message), 0);
    CHECK_INT_EQ(atomic_load(&g_log.bad_level), 0);
}

/* ------------------------------------------------------------------------ */

static char *create(cbk_conversation_session_client *c, const char *id, cbk_error **err)
{
    return cbk_conversation_session_client_create(c, id, NULL, err);
}

#define CONV_PATH(id) "/api/v1/conversation/" id "/session/create"
#define BOT_PATH(id) "/api/v1/bot/" id "/session/create"

static void test_success_is_logged(void)
{
    cbk_set_log_callback(CBK_LOG_DEBUG, log_callback, &g_log);
    log_clear();
    cbk_conversation_session_client *c = conv_client(NULL);
    REQUIRE(c != NULL);
    char *json = create(c, "conv_logged", NULL);
    CHECK(is_session(json));
    cbk_string_free(json);
    CHECK_INT_EQ(log_matching(CBK_LOG_INFO, "POST", CONV_PATH("conv_logged"), "attempt 1", "200"), 1);
    CHECK_INT_EQ(log_matching(CBK_LOG_WARN, NULL, NULL, NULL, NULL), 0);
    CHECK_INT_EQ(log_matching(CBK_LOG_ERROR, NULL, NULL, NULL, NULL), 0);
    check_lines_clean();
    if (atomic_load(&t_current_failed))
        log_dump();
    cbk_conversation_session_client_free(c);
}

static void test_retries_and_failures_are_logged(void)
{
    cbk_set_log_callback(CBK_LOG_DEBUG, log_callback, &g_log);
    log_clear();
    char *extra = fmt("\"retries\":2,\"retryDelay\":20,\"headers\":{\"x-custom\":\"%s\"}", HEADER_SECRET);
    cbk_conversation_session_client *c = conv_client(extra);
    free(extra);
    REQUIRE(c != NULL);
    cbk_error *err = NULL;

    /* flaky-1: one 503, retried, then 200. */
    char *json = create(c, "flaky-1", &err);
    CHECK(is_session(json));
    cbk_string_free(json);
    CHECK_INT_EQ(log_matching(CBK_LOG_WARN, "POST", CONV_PATH("flaky-1"), "attempt 1", "503"), 1);
    CHECK_INT_EQ(log_matching(CBK_LOG_WARN, CONV_PATH("flaky-1"), "retrying", NULL, NULL), 1);
    CHECK_INT_EQ(log_matching(CBK_LOG_INFO, "POST", CONV_PATH("flaky-1"), "attempt 2", "200"), 1);

    /* fail-503: three attempts, two retries, then the failure. */
    json = create(c, "fail-503", &err);
    CHECK(json == NULL);
    EXPECT_ERROR(err, CBK_ERROR_API, "SERVICE_UNAVAILABLE", 503, NULL);
    err = NULL;
    CHECK_INT_EQ(log_matching(CBK_LOG_WARN, "POST", CONV_PATH("fail-503"), "attempt 1", "503"), 1);
    CHECK_INT_EQ(log_matching(CBK_LOG_WARN, "POST", CONV_PATH("fail-503"), "attempt 2", "503"), 1);
    CHECK_INT_EQ(log_matching(CBK_LOG_ERROR, "POST", CONV_PATH("fail-503"), "attempt 3", "503"), 1);
    CHECK_INT_EQ(log_matching(0, CONV_PATH("fail-503"), NULL, NULL, NULL), 3);

    /* fail-404: not retryable, one failure line. */
    json = create(c, "fail-404", &err);
    CHECK(json == NULL);
    EXPECT_ERROR(err, CBK_ERROR_API, "NOT_FOUND", 404, NULL);
    err = NULL;
    CHECK_INT_EQ(log_matching(CBK_LOG_ERROR, "POST", CONV_PATH("fail-404"), "attempt 1", "404"), 1);
    CHECK_INT_EQ(log_matching(0, CONV_PATH("fail-404"), NULL, NULL, NULL), 1);

    check_lines_clean();
    if (atomic_load(&t_current_failed))
        log_dump();
    cbk_conversation_session_client_free(c);
}

/* A port on 127.0.0.1 with nothing listening (bound, then closed). */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return 9; /* discard: nothing listens there either */
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = 9;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static void test_network_failure_is_logged(void)
{
    cbk_set_log_callback(CBK_LOG_DEBUG, log_callback, &g_log);
    log_clear();
    char *opts = fmt("{\"secret\":\"%s\",\"baseUrl\":\"http://127.0.0.1:%d\",\"retries\":1,\"retryDelay\":10}",
                     LITERAL_SECRET, closed_port());
    cbk_error *err = NULL;
    cbk_bot_session_client *b = cbk_bot_session_client_new(opts, &err);
    free(opts);
    REQUIRE(b != NULL);
    char *json = cbk_bot_session_client_create(b, "bot_unreachable", NULL, &err);
    CHECK(json == NULL);
    EXPECT_ERROR(err, CBK_ERROR_NETWORK, "NETWORK_ERROR", 0, NULL);
    CHECK_INT_EQ(log_matching(CBK_LOG_WARN, "POST", BOT_PATH("bot_unreachable"), "attempt 1", "retrying"), 1);
    CHECK_INT_EQ(log_matching(CBK_LOG_ERROR, "POST", BOT_PATH("bot_unreachable"), "attempt 2", NULL), 1);
    check_lines_clean();
    if (atomic_load(&t_current_failed))
        log_dump();
    cbk_bot_session_client_free(b);
}

/* Attempts made by async tasks are logged too (on library threads). */
static void test_async_attempts_are_logged(void)
{
    cbk_set_log_callback(CBK_LOG_DEBUG, log_callback, &g_log);
    log_clear();
    cbk_bot_session_client *b = bot_client("\"retries\":1,\"retryDelay\":10");
    cbk_conversation_session_client *probe = conv_client(NULL);
    REQUIRE(b != NULL && probe != NULL);
    standin_clear(probe); /* resets the stand-in's flaky-<n> counters */
    cbk_conversation_session_client_free(probe);
    log_clear();
    rec_t r1, r2;
    rec_init(&r1);
    rec_init(&r2);
    cbk_task *t1 = cbk_bot_session_client_create_async(b, "flaky-1", NULL, rec_callback, &r1, NULL);
    cbk_task *t2 = cbk_bot_session_client_create_async(b, "fail-500", NULL, rec_callback, &r2, NULL);
    REQUIRE(t1 != NULL && t2 != NULL);
    REC_WAIT(&r1);
    REC_WAIT(&r2);
    CHECK(is_session(r1.json));
    EXPECT_REC_ERROR(&r2, CBK_ERROR_API, "INTERNAL_SERVER_ERROR", 500);
    CHECK_INT_EQ(log_matching(CBK_LOG_WARN, "POST", BOT_PATH("flaky-1"), "attempt 1", "503"), 1);
    CHECK_INT_EQ(log_matching(CBK_LOG_INFO, "POST", BOT_PATH("flaky-1"), "attempt 2", "200"), 1);
    CHECK_INT_EQ(log_matching(CBK_LOG_WARN, "POST", BOT_PATH("fail-500"), "attempt 1", "500"), 1);
    CHECK_INT_EQ(log_matching(CBK_LOG_ERROR, "POST", BOT_PATH("fail-500"), "attempt 2", "500"), 1);
    check_lines_clean();
    if (atomic_load(&t_current_failed))
        log_dump();
    cbk_task_free(t1);
    cbk_task_free(t2);
    rec_destroy(&r1);
    rec_destroy(&r2);
    cbk_bot_session_client_free(b);
}

/* A cancelled attempt: no line claims it succeeded. */
static void test_cancelled_task_is_not_logged_as_success(void)
{
    cbk_set_log_callback(CBK_LOG_DEBUG, log_callback, &g_log);
    log_clear();
    cbk_conversation_session_client *c = conv_client(NULL);
    REQUIRE(c != NULL);
    rec_t r;
    rec_init(&r);
    cbk_task *t = cbk_conversation_session_client_create_async(c, "slow-2000", NULL, rec_callback, &r, NULL);
    REQUIRE(t != NULL);
    sleep_ms(150);
    cbk_task_cancel(t);
    REC_WAIT(&r);
    EXPECT_REC_ERROR(&r, CBK_ERROR_CANCELLED, "CANCELLED", 0);
    sleep_ms(100);
    CHECK_INT_EQ(log_matching(CBK_LOG_INFO, CONV_PATH("slow-2000"), NULL, NULL, NULL), 0);
    note("%d line(s) for the cancelled task", log_matching(0, CONV_PATH("slow-2000"), NULL, NULL, NULL));
    check_lines_clean();
    cbk_task_free(t);
    rec_destroy(&r);
    cbk_conversation_session_client_free(c);
}

static void test_max_level_filters(void)
{
    cbk_set_log_callback(CBK_LOG_WARN, log_callback, &g_log);
    log_clear();
    cbk_conversation_session_client *c = conv_client("\"retries\":1,\"retryDelay\":10");
    REQUIRE(c != NULL);
    char *json = create(c, "conv_filtered", NULL);
    CHECK(is_session(json));
    cbk_string_free(json);
    CHECK_INT_EQ(log_count(), 0); /* INFO is above WARN */
    json = create(c, "fail-502", NULL);
    CHECK(json == NULL);
    CHECK_INT_EQ(log_matching(CBK_LOG_WARN, CONV_PATH("fail-502"), "attempt 1", NULL, NULL), 1);
    CHECK_INT_EQ(log_matching(CBK_LOG_ERROR, CONV_PATH("fail-502"), "attempt 2", NULL, NULL), 1);
    CHECK_INT_EQ(log_count(), 2);

    cbk_set_log_callback(CBK_LOG_ERROR, log_callback, &g_log);
    log_clear();
    json = create(c, "fail-502", NULL);
    CHECK(json == NULL);
    CHECK_INT_EQ(log_count(), 1);
    CHECK_INT_EQ(log_matching(CBK_LOG_ERROR, CONV_PATH("fail-502"), NULL, NULL, NULL), 1);
    check_lines_clean();
    cbk_conversation_session_client_free(c);
}

/* The log callback may run while the library drives requests on its thread:
 * a blocking call from it fails with INVALID_ARGUMENT instead of deadlocking,
 * whether the line comes from a blocking call or from an async task. */
static struct {
    atomic_int calls, refused, other;
    pthread_t first_thread; /* the thread the first line came on */
    cbk_conversation_session_client *client;
    cbk_task *task;
} g_reentrant;

static void reentrant_log_callback(void *user_data, cbk_log_level level, const char *message)
{
    (void)user_data;
    (void)level;
    (void)message;
    int n = atomic_fetch_add(&g_reentrant.calls, 1);
    if (n == 0)
        g_reentrant.first_thread = pthread_self();
    if (n >= 4)
        return;
    cbk_error *err = NULL;
    char *json = cbk_conversation_session_client_create(g_reentrant.client, "conv_from_log", NULL, &err);
    if (json == NULL && err != NULL && cbk_error_status(err) == CBK_ERROR_INVALID_ARGUMENT &&
        strstr(cbk_error_message(err), "log callback") != NULL)
        atomic_fetch_add(&g_reentrant.refused, 1);
    else
        atomic_fetch_add(&g_reentrant.other, 1);
    cbk_string_free(json);
    cbk_error_free(err);
    if (g_reentrant.task != NULL) {
        err = NULL;
        json = cbk_task_wait(g_reentrant.task, &err);
        if (json == NULL && err != NULL && cbk_error_status(err) == CBK_ERROR_INVALID_ARGUMENT)
            atomic_fetch_add(&g_reentrant.refused, 1);
        else
            atomic_fetch_add(&g_reentrant.other, 1);
        cbk_string_free(json);
        cbk_error_free(err);
    }
}

static void test_blocking_calls_from_the_log_callback_are_refused(void)
{
    memset(&g_reentrant, 0, sizeof g_reentrant);
    g_reentrant.client = conv_client(NULL);
    REQUIRE(g_reentrant.client != NULL);
    cbk_set_log_callback(CBK_LOG_INFO, reentrant_log_callback, NULL);
    /* A line from a blocking call on this thread: create refused. */
    char *json = create(g_reentrant.client, "conv_logged_blocking", NULL);
    CHECK(is_session(json));
    cbk_string_free(json);
    CHECK_INT_EQ(atomic_load(&g_reentrant.calls), 1);
    CHECK_INT_EQ(atomic_load(&g_reentrant.refused), 1);
    /* With no other thread in the library, the blocking call did its I/O,
     * and so logged its attempt, on this very thread: no hand-off. */
    CHECK(atomic_load(&g_reentrant.calls) >= 1 && pthread_equal(g_reentrant.first_thread, pthread_self()));
    /* A line from an async task, with a task to wait on: both refused. */
    rec_t r;
    rec_init(&r);
    cbk_task *slow = cbk_conversation_session_client_create_async(g_reentrant.client, "slow-300", NULL, NULL,
                                                                  NULL, NULL);
    REQUIRE(slow != NULL);
    g_reentrant.task = slow;
    cbk_task *t = cbk_conversation_session_client_create_async(g_reentrant.client, "conv_logged_async", NULL,
                                                               rec_callback, &r, NULL);
    REQUIRE(t != NULL);
    REC_WAIT(&r);
    CHECK(is_session(r.json));
    char *done = TASK_WAIT(slow, NULL);
    CHECK(is_session(done));
    cbk_string_free(done);
    cbk_set_log_callback(CBK_LOG_ERROR, NULL, NULL);
    CHECK(atomic_load(&g_reentrant.calls) >= 2);
    CHECK_INT_EQ(atomic_load(&g_reentrant.other), 0);
    CHECK(atomic_load(&g_reentrant.refused) >= 3);
    note("log callback: %d lines, %d blocking calls refused", atomic_load(&g_reentrant.calls),
         atomic_load(&g_reentrant.refused));
    cbk_task_free(t);
    cbk_task_free(slow);
    rec_destroy(&r);
    cbk_conversation_session_client_free(g_reentrant.client);
}

/* Many threads logging at once: one line per attempt, none torn. */
#define LOGGERS 8
#define LOGGER_CALLS 6

static void *logger_main(void *arg)
{
    joiner_t *j = ((void **)arg)[0];
    cbk_conversation_session_client *c = ((void **)arg)[1];
    for (int i = 0; i < LOGGER_CALLS; i++) {
        char *json = create(c, i % 2 ? "flaky-0" : "conv_concurrent", NULL);
        cbk_string_free(json);
    }
    joiner_done(j);
    return NULL;
}

static void test_concurrent_logging(void)
{
    /* INFO: one line per call; DEBUG adds connection lines. */
    cbk_set_log_callback(CBK_LOG_INFO, log_callback, &g_log);
    log_clear();
    cbk_conversation_session_client *c = conv_client(NULL);
    REQUIRE(c != NULL);
    joiner_t j;
    joiner_init(&j);
    void *arg[2] = { &j, c };
    pthread_t th[LOGGERS];
    for (int i = 0; i < LOGGERS; i++)
        if (pthread_create(&th[i], NULL, logger_main, arg) != 0)
            abort();
    JOINER_WAIT(&j, LOGGERS, 2L * WAIT_MS, "the logging threads");
    for (int i = 0; i < LOGGERS; i++)
        pthread_join(th[i], NULL);
    CHECK_INT_EQ(log_count(), LOGGERS * LOGGER_CALLS);
    CHECK_INT_EQ(log_matching(CBK_LOG_INFO, "POST", "/session/create", "attempt 1", "200"), LOGGERS * LOGGER_CALLS);
    check_lines_clean();
    joiner_destroy(&j);
    cbk_conversation_session_client_free(c);
}

static void test_null_callback_turns_logging_off(void)
{
    /* INFO: one line per call; DEBUG adds connection lines. */
    cbk_set_log_callback(CBK_LOG_INFO, log_callback, &g_log);
    log_clear();
    cbk_conversation_session_client *c = conv_client("\"retries\":1,\"retryDelay\":10");
    REQUIRE(c != NULL);
    char *json = create(c, "conv_on", NULL);
    cbk_string_free(json);
    CHECK_INT_EQ(log_count(), 1);

    cbk_set_log_callback(CBK_LOG_DEBUG, NULL, &g_log);
    int calls_before = atomic_load(&g_log.calls);
    json = create(c, "conv_off", NULL);
    CHECK(is_session(json));
    cbk_string_free(json);
    json = create(c, "fail-503", NULL); /* retried and failed: WARN + ERROR if logging were on */
    CHECK(json == NULL);
    rec_t r;
    rec_init(&r);
    cbk_task *t = cbk_conversation_session_client_create_async(c, "flaky-1", NULL, rec_callback, &r, NULL);
    REQUIRE(t != NULL);
    REC_WAIT(&r);
    cbk_task_free(t);
    rec_destroy(&r);
    sleep_ms(100);
    CHECK_INT_EQ(atomic_load(&g_log.calls), calls_before);
    CHECK_INT_EQ(log_count(), 1);

    /* NULL callback with a non-NULL user data, any level, is fine too. */
    cbk_set_log_callback(CBK_LOG_ERROR, NULL, &g_other);
    cbk_set_log_callback(CBK_LOG_DEBUG, NULL, NULL);
    json = create(c, "fail-404", NULL);
    CHECK(json == NULL);
    CHECK_INT_EQ(atomic_load(&g_log.calls), calls_before);

    /* And it can be turned on again. */
    cbk_set_log_callback(CBK_LOG_DEBUG, log_callback, &g_log);
    json = create(c, "conv_on_again", NULL);
    cbk_string_free(json);
    CHECK_INT_EQ(log_matching(CBK_LOG_INFO, CONV_PATH("conv_on_again"), NULL, NULL, NULL), 1);
    cbk_set_log_callback(CBK_LOG_DEBUG, NULL, NULL);
    check_lines_clean();
    cbk_conversation_session_client_free(c);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!standin_env())
        return 1;
    printf("# libchatbotkit %s, log callback, against %s\n", cbk_version(), g_base_url);
    RUN(test_success_is_logged);
    RUN(test_retries_and_failures_are_logged);
    RUN(test_network_failure_is_logged);
    RUN(test_async_attempts_are_logged);
    RUN(test_cancelled_task_is_not_logged_as_success);
    RUN(test_max_level_filters);
    RUN(test_blocking_calls_from_the_log_callback_are_refused);
    RUN(test_concurrent_logging);
    RUN(test_null_callback_turns_logging_off);
    note("%d log calls in all", atomic_load(&g_log.calls));
    log_clear();
    return test_summary();
}
