/*
 * test_async.c - cbk_*_create_async, cbk_task_wait / _cancel / _free.
 *
 * Against the stand-in (run under scripts/with-standin.sh).  Every callback
 * is counted with atomics: it must run exactly once, on a library thread,
 * with exactly one of response_json / error set.
 */
#include "async_test.h"

static pthread_t g_main_thread;

/* Checks what every callback must satisfy once it ran. */
#define CHECK_CALLBACK_SHAPE(r) \
    do { \
        CHECK(!(r)->both_or_neither); \
        CHECK(!pthread_equal((r)->thread, g_main_thread)); \
    } while (0)

/* ------------------------------------------------------------------------ */

static void test_success_callback_runs_once(void)
{
    cbk_conversation_session_client *c = conv_client(NULL);
    REQUIRE(c != NULL);
    rec_t r;
    rec_init(&r);
    cbk_error *err = NULL;
    cbk_task *t = cbk_conversation_session_client_create_async(c, "conv_async_ok", "{}", rec_callback, &r, &err);
    CHECK(err == NULL);
    if (t != NULL) {
        REC_WAIT(&r);
        CHECK_CALLBACK_SHAPE(&r);
        CHECK(!r.had_error);
        CHECK(is_session(r.json));
        /* cbk_task_wait after the callback ran: a copy of the same JSON. */
        char *json = TASK_WAIT(t, &err);
        CHECK(err == NULL);
        CHECK_STR_EQ(json, r.json);
        CHECK(json != r.json);
        /* ... any number of times. */
        char *again = TASK_WAIT(t, NULL);
        CHECK_STR_EQ(again, r.json);
        CHECK(again != json);
        cbk_string_free(json);
        cbk_string_free(again);
        CHECK_ONCE(&r);
        cbk_task_free(t);
    } else {
        FAIL("create_async returned NULL: %s", cbk_error_message(err));
        cbk_error_free(err);
    }
    rec_destroy(&r);
    cbk_conversation_session_client_free(c);
}

static void test_bot_success_callback_runs_once(void)
{
    cbk_bot_session_client *c = bot_client(NULL);
    REQUIRE(c != NULL);
    rec_t r;
    rec_init(&r);
    cbk_error *err = NULL;
    cbk_task *t = cbk_bot_session_client_create_async(c, "bot_async_ok", NULL, rec_callback, &r, &err);
    if (t == NULL) {
        FAIL("bot create_async returned NULL: %s", cbk_error_message(err));
        cbk_error_free(err);
    } else {
        REC_WAIT(&r);
        CHECK_CALLBACK_SHAPE(&r);
        CHECK(is_session(r.json));
        CHECK_CONTAINS(r.json, "\"conversationId\":");
        char *json = TASK_WAIT(t, &err);
        CHECK_STR_EQ(json, r.json);
        cbk_string_free(json);
        CHECK_ONCE(&r);
        cbk_task_free(t);
    }
    rec_destroy(&r);
    cbk_bot_session_client_free(c);
}

static void test_api_error_callback_runs_once(void)
{
    cbk_conversation_session_client *c = conv_client(NULL);
    REQUIRE(c != NULL);
    rec_t r;
    rec_init(&r);
    cbk_task *t = cbk_conversation_session_client_create_async(c, "fail-404", "{}", rec_callback, &r, NULL);
    REQUIRE(t != NULL);
    REC_WAIT(&r);
    CHECK_CALLBACK_SHAPE(&r);
    EXPECT_REC_ERROR(&r, CBK_ERROR_API, "NOT_FOUND", 404);
    /* cbk_task_wait returns NULL and a copy of the same error. */
    cbk_error *err = NULL;
    char *json = TASK_WAIT(t, &err);
    CHECK(json == NULL);
    EXPECT_ERROR(err, CBK_ERROR_API, "NOT_FOUND", 404, r.message);
    /* A NULL error pointer is allowed. */
    json = TASK_WAIT(t, NULL);
    CHECK(json == NULL);
    CHECK_ONCE(&r);
    cbk_task_free(t);
    rec_destroy(&r);
    cbk_conversation_session_client_free(c);
}

static void test_cancel_before_send(void)
{
    cbk_conversation_session_client *c = conv_client(NULL);
    REQUIRE(c != NULL);
    rec_t r;
    rec_init(&r);
    cbk_task *t = cbk_conversation_session_client_create_async(c, "cancel_early", "{}", rec_callback, &r, NULL);
    REQUIRE(t != NULL);
    cbk_task_cancel(t);
    long long cancel_done = now_us();
    REC_WAIT(&r);
    CHECK_CALLBACK_SHAPE(&r);
    cbk_error *err = NULL;
    char *json = TASK_WAIT(t, &err);
    if (!r.had_error && r.at_us < cancel_done) {
        /* The whole request completed before (or while) cbk_task_cancel ran,
         * e.g. because this thread was descheduled: the cancel is rightly a
         * no-op.  After cbk_task_cancel returned, only CANCELLED is right. */
        note("the request completed %lld us before the cancel returned: no cancellation to check this time",
             cancel_done - r.at_us);
        CHECK(is_session(json));
        cbk_string_free(json);
        cbk_error_free(err);
    } else {
        EXPECT_REC_ERROR(&r, CBK_ERROR_CANCELLED, "CANCELLED", 0);
        CHECK(json == NULL);
        EXPECT_ERROR(err, CBK_ERROR_CANCELLED, "CANCELLED", 0, NULL);
    }
    /* Cancelling again changes nothing. */
    cbk_task_cancel(t);
    CHECK_ONCE(&r);
    cbk_task_free(t);
    note("the stand-in saw %d request(s) for the task cancelled at once",
         standin_count(c, "/conversation/cancel_early/"));
    rec_destroy(&r);
    cbk_conversation_session_client_free(c);
}

static void test_cancel_during_request(void)
{
    cbk_conversation_session_client *c = conv_client(NULL);
    REQUIRE(c != NULL);
    rec_t r;
    rec_init(&r);
    long long started = now_ms();
    cbk_task *t = cbk_conversation_session_client_create_async(c, "slow-3000", "{}", rec_callback, &r, NULL);
    REQUIRE(t != NULL);
    sleep_ms(200);
    long long cancelled = now_ms();
    cbk_task_cancel(t);
    REC_WAIT(&r);
    CHECK_CALLBACK_SHAPE(&r);
    EXPECT_REC_ERROR(&r, CBK_ERROR_CANCELLED, "CANCELLED", 0);
    long long after_cancel = r.at_ms - cancelled, total = r.at_ms - started;
    note("callback %lld ms after cancel, %lld ms after create (the server holds 3000 ms)", after_cancel, total);
    CHECK(after_cancel < 1000);
    CHECK(total < 2500);
    CHECK_ONCE(&r);
    cbk_task_free(t);
    rec_destroy(&r);
    cbk_conversation_session_client_free(c);
}

/* Set by test_cancel_during_retry_delay, checked by the last test (so that
 * the 5 s retry delay does not stall the run). */
static long long g_retry_cancelled_at = -1;

static void test_cancel_during_retry_delay(void)
{
    cbk_conversation_session_client *probe = conv_client(NULL);
    cbk_conversation_session_client *c = conv_client("\"retryDelay\":5000,\"retries\":3");
    REQUIRE(probe != NULL && c != NULL);
    rec_t r;
    rec_init(&r);
    cbk_task *t = cbk_conversation_session_client_create_async(c, "fail-503", "{}", rec_callback, &r, NULL);
    REQUIRE(t != NULL);
    /* Wait until the stand-in recorded the first attempt ... */
    long long until = now_ms() + WAIT_MS;
    int seen = 0;
    while ((seen = standin_count(probe, "/conversation/fail-503/")) < 1 && now_ms() < until)
        sleep_ms(20);
    REQUIRE(seen == 1);
    /* ... and its 503 answer reached the library: it is now in its 5 s delay. */
    sleep_ms(500);
    CHECK_INT_EQ(atomic_load(&r.calls), 0);
    long long cancelled = now_ms();
    cbk_task_cancel(t);
    REC_WAIT(&r);
    g_retry_cancelled_at = now_ms();
    CHECK_CALLBACK_SHAPE(&r);
    EXPECT_REC_ERROR(&r, CBK_ERROR_CANCELLED, "CANCELLED", 0);
    note("callback %lld ms after cancel (the retry delay is 5000 ms)", r.at_ms - cancelled);
    CHECK(r.at_ms - cancelled < 1000);
    CHECK_INT_EQ(standin_count(probe, "/conversation/fail-503/"), 1);
    CHECK_ONCE(&r);
    cbk_task_free(t);
    rec_destroy(&r);
    cbk_conversation_session_client_free(c);
    cbk_conversation_session_client_free(probe);
}

typedef struct canceller {
    cbk_task *task;
    long delay_ms;
} canceller_t;

static void *canceller_main(void *arg)
{
    canceller_t *k = arg;
    sleep_ms(k->delay_ms);
    cbk_task_cancel(k->task);
    return NULL;
}

/* A thread blocked in cbk_task_wait is released by a cancel from another. */
static void test_cancel_from_another_thread_releases_wait(void)
{
    cbk_conversation_session_client *c = conv_client(NULL);
    REQUIRE(c != NULL);
    cbk_task *t = cbk_conversation_session_client_create_async(c, "slow-3000", NULL, NULL, NULL, NULL);
    REQUIRE(t != NULL);
    canceller_t k = { t, 200 };
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, canceller_main, &k) == 0);
    long long started = now_ms();
    cbk_error *err = NULL;
    char *json = TASK_WAIT(t, &err);
    long long took = now_ms() - started;
    pthread_join(th, NULL);
    CHECK(json == NULL);
    cbk_string_free(json);
    EXPECT_ERROR(err, CBK_ERROR_CANCELLED, "CANCELLED", 0, NULL);
    note("cbk_task_wait returned %lld ms after it started (cancel at 200 ms)", took);
    CHECK(took < 2500);
    cbk_task_free(t);
    cbk_conversation_session_client_free(c);
}

static void test_cancel_after_completion_is_a_no_op(void)
{
    cbk_conversation_session_client *c = conv_client(NULL);
    REQUIRE(c != NULL);
    rec_t r;
    rec_init(&r);
    cbk_task *t = cbk_conversation_session_client_create_async(c, "conv_done", NULL, rec_callback, &r, NULL);
    REQUIRE(t != NULL);
    REC_WAIT(&r);
    cbk_task_cancel(t);
    cbk_task_cancel(t);
    char *json = TASK_WAIT(t, NULL);
    CHECK(is_session(json));
    CHECK_STR_EQ(json, r.json);
    cbk_string_free(json);
    CHECK_ONCE(&r);
    cbk_task_free(t);
    rec_destroy(&r);
    cbk_conversation_session_client_free(c);
}

static void test_wait_without_callback(void)
{
    cbk_conversation_session_client *c = conv_client(NULL);
    REQUIRE(c != NULL);
    cbk_error *err = NULL;
    cbk_task *t = cbk_conversation_session_client_create_async(c, "conv_nocb", "{\"x\":1}", NULL, NULL, &err);
    REQUIRE(t != NULL);
    char *json = TASK_WAIT(t, &err);
    CHECK(err == NULL);
    CHECK(is_session(json));
    cbk_string_free(json);
    cbk_task_free(t);

    /* An error, without a callback. */
    t = cbk_conversation_session_client_create_async(c, "fail-404", NULL, NULL, NULL, NULL);
    REQUIRE(t != NULL);
    json = TASK_WAIT(t, &err);
    CHECK(json == NULL);
    EXPECT_ERROR(err, CBK_ERROR_API, "NOT_FOUND", 404, NULL);
    cbk_task_free(t);

    /* A bot session, without a callback. */
    cbk_bot_session_client *b = bot_client(NULL);
    REQUIRE(b != NULL);
    t = cbk_bot_session_client_create_async(b, "bot_nocb", NULL, NULL, NULL, NULL);
    REQUIRE(t != NULL);
    json = TASK_WAIT(t, NULL);
    CHECK(is_session(json));
    CHECK_CONTAINS(json, "\"conversationId\":");
    cbk_string_free(json);
    cbk_task_free(t);
    cbk_bot_session_client_free(b);
    cbk_conversation_session_client_free(c);
}

/* Eight threads in cbk_task_wait on one task at once. */
#define WAITERS 8

typedef struct shared_wait {
    cbk_task *task;
    pthread_barrier_t start;
    joiner_t joiner;
    char *json[WAITERS];
    cbk_error *error[WAITERS];
    atomic_int index;
} shared_wait_t;

static void *shared_waiter_main(void *arg)
{
    shared_wait_t *s = arg;
    int i = atomic_fetch_add(&s->index, 1);
    pthread_barrier_wait(&s->start);
    s->json[i] = cbk_task_wait(s->task, &s->error[i]);
    joiner_done(&s->joiner);
    return NULL;
}

static void test_wait_from_8_threads(void)
{
    cbk_conversation_session_client *c = conv_client(NULL);
    REQUIRE(c != NULL);
    rec_t r;
    rec_init(&r);
    cbk_task *t = cbk_conversation_session_client_create_async(c, "slow-500", NULL, rec_callback, &r, NULL);
    REQUIRE(t != NULL);
    shared_wait_t s;
    memset(&s, 0, sizeof s);
    s.task = t;
    atomic_init(&s.index, 0);
    joiner_init(&s.joiner);
    pthread_barrier_init(&s.start, NULL, WAITERS);
    pthread_t th[WAITERS];
    for (int i = 0; i < WAITERS; i++)
        if (pthread_create(&th[i], NULL, shared_waiter_main, &s) != 0)
            abort();
    JOINER_WAIT(&s.joiner, WAITERS, WAIT_MS, "8 threads in cbk_task_wait on one task");
    for (int i = 0; i < WAITERS; i++)
        pthread_join(th[i], NULL);
    /* The callback returned before any wait did. */
    CHECK_INT_EQ(atomic_load(&r.calls), 1);
    CHECK(is_session(r.json));
    for (int i = 0; i < WAITERS; i++) {
        CHECK(s.error[i] == NULL);
        CHECK_STR_EQ(s.json[i], r.json);
        for (int j = 0; j < i; j++)
            CHECK(s.json[i] != s.json[j]);
    }
    for (int i = 0; i < WAITERS; i++) {
        cbk_string_free(s.json[i]);
        cbk_error_free(s.error[i]);
    }
    CHECK_ONCE(&r);
    pthread_barrier_destroy(&s.start);
    joiner_destroy(&s.joiner);
    cbk_task_free(t);
    rec_destroy(&r);
    cbk_conversation_session_client_free(c);
}

static void test_free_task_before_completion(void)
{
    cbk_conversation_session_client *c = conv_client(NULL);
    REQUIRE(c != NULL);
    rec_t r;
    rec_init(&r);
    cbk_task *t = cbk_conversation_session_client_create_async(c, "slow-500", NULL, rec_callback, &r, NULL);
    REQUIRE(t != NULL);
    cbk_task_free(t); /* does not cancel */
    REC_WAIT(&r);
    CHECK_CALLBACK_SHAPE(&r);
    CHECK(!r.had_error);
    CHECK(is_session(r.json));
    CHECK_ONCE(&r);
    rec_destroy(&r);

    /* Freed at once, without a callback: nothing to observe but valgrind.
     * Error and success; give both time to finish. */
    t = cbk_conversation_session_client_create_async(c, "slow-300", NULL, NULL, NULL, NULL);
    REQUIRE(t != NULL);
    cbk_task_free(t);
    t = cbk_conversation_session_client_create_async(c, "fail-404", NULL, NULL, NULL, NULL);
    REQUIRE(t != NULL);
    cbk_task_free(t);
    /* And a cancelled one, freed before its cancellation ran. */
    t = cbk_conversation_session_client_create_async(c, "slow-300", NULL, NULL, NULL, NULL);
    REQUIRE(t != NULL);
    cbk_task_cancel(t);
    cbk_task_free(t);
    sleep_ms(1500);
    cbk_conversation_session_client_free(c);
}

#define IN_FLIGHT_AFTER_FREE 6

static void test_client_freed_while_tasks_in_flight(void)
{
    cbk_conversation_session_client *c = conv_client(NULL);
    cbk_bot_session_client *b = bot_client(NULL);
    REQUIRE(c != NULL && b != NULL);
    rec_t r[IN_FLIGHT_AFTER_FREE];
    cbk_task *t[IN_FLIGHT_AFTER_FREE];
    for (int i = 0; i < IN_FLIGHT_AFTER_FREE; i++) {
        rec_init(&r[i]);
        if (i % 2 == 0)
            t[i] = cbk_conversation_session_client_create_async(c, "slow-400", NULL, rec_callback, &r[i], NULL);
        else
            t[i] = cbk_bot_session_client_create_async(b, "slow-400", NULL, rec_callback, &r[i], NULL);
        if (t[i] == NULL)
            abort();
    }
    cbk_conversation_session_client_free(c);
    cbk_bot_session_client_free(b);
    for (int i = 0; i < IN_FLIGHT_AFTER_FREE; i++) {
        REC_WAIT(&r[i]);
        CHECK_CALLBACK_SHAPE(&r[i]);
        CHECK(is_session(r[i].json));
        char *json = TASK_WAIT(t[i], NULL);
        CHECK_STR_EQ(json, r[i].json);
        cbk_string_free(json);
    }
    for (int i = 0; i < IN_FLIGHT_AFTER_FREE; i++) {
        CHECK_ONCE(&r[i]);
        cbk_task_free(t[i]);
        rec_destroy(&r[i]);
    }
}

/* Many tasks at once on one client, each callback once. */
#define MANY 200

static atomic_int g_many_ok, g_many_err, g_many_calls;

static void many_callback(void *user_data, const char *json, const cbk_error *error)
{
    atomic_int *mine = user_data;
    atomic_fetch_add(mine, 1);
    atomic_fetch_add(&g_many_calls, 1);
    if (json != NULL && error == NULL && is_session(json))
        atomic_fetch_add(&g_many_ok, 1);
    else
        atomic_fetch_add(&g_many_err, 1);
}

static void test_many_tasks_in_flight(void)
{
    cbk_conversation_session_client *c = conv_client(NULL);
    REQUIRE(c != NULL);
    static atomic_int per_task[MANY];
    static cbk_task *tasks[MANY];
    for (int i = 0; i < MANY; i++)
        atomic_init(&per_task[i], 0);
    long long started = now_ms();
    for (int i = 0; i < MANY; i++) {
        tasks[i] = cbk_conversation_session_client_create_async(c, i % 4 == 0 ? "slow-200" : "conv_many", NULL,
                                                                many_callback, &per_task[i], NULL);
        if (tasks[i] == NULL)
            abort();
    }
    for (int i = 0; i < MANY; i++) {
        char *json = TASK_WAIT(tasks[i], NULL);
        CHECK(is_session(json));
        cbk_string_free(json);
        cbk_task_free(tasks[i]);
    }
    note("%d tasks: %d ok, %d failed, in %lld ms", MANY, atomic_load(&g_many_ok), atomic_load(&g_many_err),
         now_ms() - started);
    sleep_ms(150);
    CHECK_INT_EQ(atomic_load(&g_many_ok), MANY);
    CHECK_INT_EQ(atomic_load(&g_many_calls), MANY);
    for (int i = 0; i < MANY; i++)
        if (atomic_load(&per_task[i]) != 1)
            FAIL("task %d: callback ran %d times", i, atomic_load(&per_task[i]));
    cbk_conversation_session_client_free(c);
}

static void test_bad_input(void)
{
    cbk_conversation_session_client *c = conv_client(NULL);
    cbk_bot_session_client *b = bot_client(NULL);
    REQUIRE(c != NULL && b != NULL);
    rec_t r;
    rec_init(&r);
    cbk_error *err = NULL;

    CHECK(cbk_conversation_session_client_create_async(NULL, "x", NULL, rec_callback, &r, &err) == NULL);
    EXPECT_ERROR(err, CBK_ERROR_INVALID_ARGUMENT, "INVALID_ARGUMENT", 0, "client");
    err = NULL;
    CHECK(cbk_conversation_session_client_create_async(c, NULL, NULL, rec_callback, &r, &err) == NULL);
    EXPECT_ERROR(err, CBK_ERROR_INVALID_ARGUMENT, "INVALID_ARGUMENT", 0, "conversation_id");
    err = NULL;
    CHECK(cbk_conversation_session_client_create_async(c, "", NULL, rec_callback, &r, &err) == NULL);
    EXPECT_ERROR(err, CBK_ERROR_INVALID_ARGUMENT, NULL, 0, NULL);
    err = NULL;
    CHECK(cbk_conversation_session_client_create_async(c, "..", NULL, rec_callback, &r, &err) == NULL);
    EXPECT_ERROR(err, CBK_ERROR_INVALID_ARGUMENT, NULL, 0, NULL);
    err = NULL;
    CHECK(cbk_conversation_session_client_create_async(c, "\xff\xfe", NULL, rec_callback, &r, &err) == NULL);
    EXPECT_ERROR(err, CBK_ERROR_INVALID_ARGUMENT, NULL, 0, "conversation_id");
    err = NULL;
    CHECK(cbk_conversation_session_client_create_async(c, "x", "[1]", rec_callback, &r, &err) == NULL);
    EXPECT_ERROR(err, CBK_ERROR_INVALID_JSON, NULL, 0, NULL);
    err = NULL;
    CHECK(cbk_conversation_session_client_create_async(c, "x", "{", rec_callback, &r, &err) == NULL);
    EXPECT_ERROR(err, CBK_ERROR_INVALID_JSON, NULL, 0, NULL);
    err = NULL;
    /* error == NULL is allowed. */
    CHECK(cbk_conversation_session_client_create_async(NULL, NULL, NULL, rec_callback, &r, NULL) == NULL);

    CHECK(cbk_bot_session_client_create_async(NULL, "x", NULL, rec_callback, &r, &err) == NULL);
    EXPECT_ERROR(err, CBK_ERROR_INVALID_ARGUMENT, "INVALID_ARGUMENT", 0, "client");
    err = NULL;
    CHECK(cbk_bot_session_client_create_async(b, NULL, NULL, rec_callback, &r, &err) == NULL);
    EXPECT_ERROR(err, CBK_ERROR_INVALID_ARGUMENT, "INVALID_ARGUMENT", 0, "bot_id");
    err = NULL;
    CHECK(cbk_bot_session_client_create_async(b, ".", NULL, rec_callback, &r, &err) == NULL);
    EXPECT_ERROR(err, CBK_ERROR_INVALID_ARGUMENT, NULL, 0, NULL);
    err = NULL;
    CHECK(cbk_bot_session_client_create_async(NULL, NULL, NULL, NULL, NULL, NULL) == NULL);

    sleep_ms(300);
    CHECK_INT_EQ(atomic_load(&r.entered), 0);
    CHECK_INT_EQ(atomic_load(&r.calls), 0);
    rec_destroy(&r);
    cbk_bot_session_client_free(b);
    cbk_conversation_session_client_free(c);
}

static void test_null_task_functions(void)
{
    cbk_task_cancel(NULL);
    cbk_task_free(NULL);
    cbk_error *err = NULL;
    CHECK(cbk_task_wait(NULL, &err) == NULL);
    EXPECT_ERROR(err, CBK_ERROR_INVALID_ARGUMENT, "INVALID_ARGUMENT", 0, "task");
    CHECK(cbk_task_wait(NULL, NULL) == NULL);
}

/* The cancelled fail-503 task of test_cancel_during_retry_delay never sent
 * its retry: 5.5 s after the cancel the stand-in still saw one request. */
static void test_cancelled_retry_never_sent(void)
{
    REQUIRE(g_retry_cancelled_at >= 0);
    long long wait = g_retry_cancelled_at + 5500 - now_ms();
    if (wait > 0)
        sleep_ms((long)wait);
    cbk_conversation_session_client *probe = conv_client(NULL);
    REQUIRE(probe != NULL);
    CHECK_INT_EQ(standin_count(probe, "/conversation/fail-503/"), 1);
    cbk_conversation_session_client_free(probe);
}

/* Tests whose callback acts on its own task. The callback may run before
 * _async returns, so the handle is published here and the callback waits
 * for it. */
static _Atomic(cbk_task *) g_own_task;

static cbk_task *own_task(void)
{
    cbk_task *self = NULL;
    for (int i = 0; i < 2000 && (self = atomic_load(&g_own_task)) == NULL; i++)
        sleep_ms(1);
    return self;
}

static cbk_task *start_own_task(cbk_conversation_session_client *c, rec_t *r, void (*inner)(rec_t *),
                                const char *id)
{
    rec_init(r);
    r->inner = inner;
    atomic_store(&g_own_task, NULL);
    cbk_task *t = cbk_conversation_session_client_create_async(c, id, NULL, rec_callback, r, NULL);
    atomic_store(&g_own_task, t);
    return t;
}

/* cbk_task_wait on a task from inside that task's own callback could never
 * return: it fails with INVALID_ARGUMENT instead. */
static atomic_int g_own_refused, g_own_other;

static void wait_on_own_task(rec_t *r)
{
    (void)r;
    cbk_task *self = own_task();
    if (self == NULL) {
        atomic_fetch_add(&g_own_other, 1);
        return;
    }
    cbk_error *err = NULL;
    char *json = cbk_task_wait(self, &err);
    if (json == NULL && err != NULL && cbk_error_status(err) == CBK_ERROR_INVALID_ARGUMENT &&
        strstr(cbk_error_message(err), "own callback") != NULL)
        atomic_fetch_add(&g_own_refused, 1);
    else
        atomic_fetch_add(&g_own_other, 1);
    cbk_string_free(json);
    cbk_error_free(err);
}

static void test_wait_on_own_task_from_its_callback_fails(void)
{
    cbk_conversation_session_client *c = conv_client(NULL);
    REQUIRE(c != NULL);
    rec_t r;
    cbk_task *t = start_own_task(c, &r, wait_on_own_task, "slow-100");
    REQUIRE(t != NULL);
    REC_WAIT(&r);
    CHECK(is_session(r.json));
    CHECK_INT_EQ(atomic_load(&g_own_refused), 1);
    CHECK_INT_EQ(atomic_load(&g_own_other), 0);
    /* From outside the callback, the same wait works. */
    char *json = TASK_WAIT(t, NULL);
    CHECK_STR_EQ(json, r.json);
    cbk_string_free(json);
    cbk_task_free(t);
    rec_destroy(&r);
    cbk_conversation_session_client_free(c);
}

/* The handle is freed from its own callback, as the header allows (valgrind
 * checks that nothing is used after it or leaked). */
static atomic_int g_freed_in_callback;

static void free_own_task(rec_t *r)
{
    (void)r;
    cbk_task *self = own_task();
    if (self != NULL) {
        cbk_task_free(self);
        atomic_fetch_add(&g_freed_in_callback, 1);
    }
}

static void test_free_task_from_its_own_callback(void)
{
    cbk_conversation_session_client *c = conv_client(NULL);
    REQUIRE(c != NULL);
    rec_t r;
    REQUIRE(start_own_task(c, &r, free_own_task, "slow-50") != NULL);
    REC_WAIT(&r);
    CHECK(is_session(r.json));
    CHECK_INT_EQ(atomic_load(&g_freed_in_callback), 1);
    rec_destroy(&r);
    cbk_conversation_session_client_free(c);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!standin_env())
        return 1;
    g_main_thread = pthread_self();
    printf("# libchatbotkit %s, async tasks, against %s\n", cbk_version(), g_base_url);
    RUN(test_success_callback_runs_once);
    RUN(test_bot_success_callback_runs_once);
    RUN(test_api_error_callback_runs_once);
    RUN(test_cancel_before_send);
    RUN(test_cancel_during_request);
    RUN(test_cancel_during_retry_delay);
    RUN(test_cancel_from_another_thread_releases_wait);
    RUN(test_cancel_after_completion_is_a_no_op);
    RUN(test_wait_without_callback);
    RUN(test_wait_from_8_threads);
    RUN(test_free_task_before_completion);
    RUN(test_client_freed_while_tasks_in_flight);
    RUN(test_many_tasks_in_flight);
    RUN(test_bad_input);
    RUN(test_null_task_functions);
    RUN(test_cancelled_retry_never_sent);
    RUN(test_wait_on_own_task_from_its_callback_fails);
    RUN(test_free_task_from_its_own_callback);
    return test_summary();
}
