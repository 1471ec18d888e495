/*
 * test_async_threads.c - handles shared by many threads, and blocking
 * library calls made from inside task callbacks.
 *
 * Against the stand-in (run under scripts/with-standin.sh).  Every join is
 * bounded; a hang ends the program with "Bail out!".
 */
#include "async_test.h"

/* ------------------------------------------------------------------------ */
/* 16 threads creating on one client while 4 others extend and free        */
/* ------------------------------------------------------------------------ */

#define CREATORS 16
#define CREATES_EACH 8
#define EXTENDERS 4
#define EXTENDS_EACH 100

typedef struct shared {
    cbk_conversation_session_client *client;
    pthread_barrier_t start;
    joiner_t joiner;
    atomic_int created_ok, created_failed;
    atomic_int extends_ok, extends_failed, derived_creates_ok, derived_creates_failed;
    atomic_int index;
    char first_failure[512];
    pthread_mutex_t failure_mu;
} shared_t;

static void record_failure(shared_t *s, const char *what, cbk_error *err)
{
    pthread_mutex_lock(&s->failure_mu);
    if (s->first_failure[0] == '\0')
        snprintf(s->first_failure, sizeof s->first_failure, "%s: status %d code %s: %s", what,
                 (int)cbk_error_status(err), cbk_error_code(err), cbk_error_message(err));
    pthread_mutex_unlock(&s->failure_mu);
}

static void *creator_main(void *arg)
{
    shared_t *s = arg;
    int me = atomic_fetch_add(&s->index, 1);
    pthread_barrier_wait(&s->start);
    for (int i = 0; i < CREATES_EACH; i++) {
        char id[64];
        snprintf(id, sizeof id, "conv_t%d_%d", me, i);
        cbk_error *err = NULL;
        char *json = cbk_conversation_session_client_create(s->client, id, "{}", &err);
        if (json != NULL && is_session(json)) {
            atomic_fetch_add(&s->created_ok, 1);
        } else {
            atomic_fetch_add(&s->created_failed, 1);
            record_failure(s, "create", err);
        }
        cbk_string_free(json);
        cbk_error_free(err);
    }
    joiner_done(&s->joiner);
    return NULL;
}

static void *extender_main(void *arg)
{
    shared_t *s = arg;
    int me = atomic_fetch_add(&s->index, 1);
    pthread_barrier_wait(&s->start);
    for (int i = 0; i < EXTENDS_EACH; i++) {
        char opts[160];
        snprintf(opts, sizeof opts, "{\"headers\":{\"x-extender\":\"%d-%d\"},\"timezone\":\"UTC\"}", me, i);
        cbk_error *err = NULL;
        cbk_conversation_session_client *d = cbk_conversation_session_client_extend(s->client, opts, &err);
        if (d == NULL) {
            atomic_fetch_add(&s->extends_failed, 1);
            record_failure(s, "extend", err);
            cbk_error_free(err);
            continue;
        }
        /* A grandchild, freed in either order. */
        cbk_conversation_session_client *g = cbk_conversation_session_client_extend(d, "{\"retries\":1}", &err);
        if (g == NULL) {
            atomic_fetch_add(&s->extends_failed, 1);
            record_failure(s, "extend (grandchild)", err);
            cbk_error_free(err);
        } else {
            atomic_fetch_add(&s->extends_ok, 1);
        }
        char *options = cbk_conversation_session_client_options(g ? g : d, NULL);
        if (options == NULL || strstr(options, "x-extender") == NULL)
            atomic_fetch_add(&s->extends_failed, 1);
        cbk_string_free(options);
        /* Every 10th round, a create through the derived handle too. */
        if (i % 10 == 0 && g != NULL) {
            char *json = cbk_conversation_session_client_create(g, "conv_derived", NULL, &err);
            if (json != NULL && is_session(json)) {
                atomic_fetch_add(&s->derived_creates_ok, 1);
            } else {
                atomic_fetch_add(&s->derived_creates_failed, 1);
                record_failure(s, "create (derived)", err);
            }
            cbk_string_free(json);
            cbk_error_free(err);
            err = NULL;
        }
        if (i % 2 == 0) {
            cbk_conversation_session_client_free(d);
            cbk_conversation_session_client_free(g);
        } else {
            cbk_conversation_session_client_free(g);
            cbk_conversation_session_client_free(d);
        }
        atomic_fetch_add(&s->extends_ok, 1);
    }
    joiner_done(&s->joiner);
    return NULL;
}

static void test_16_creators_4_extenders_share_one_client(void)
{
    static shared_t s; /* big enough to keep off the stack */
    memset(&s, 0, sizeof s);
    s.client = conv_client(NULL);
    REQUIRE(s.client != NULL);
    joiner_init(&s.joiner);
    pthread_mutex_init(&s.failure_mu, NULL);
    pthread_barrier_init(&s.start, NULL, CREATORS + EXTENDERS);
    pthread_t th[CREATORS + EXTENDERS];
    long long started = now_ms();
    for (int i = 0; i < CREATORS + EXTENDERS; i++)
        if (pthread_create(&th[i], NULL, i < CREATORS ? creator_main : extender_main, &s) != 0)
            abort();
    /* 128 creates and 400 extend rounds: allow 3 x WAIT_MS under valgrind. */
    JOINER_WAIT(&s.joiner, CREATORS + EXTENDERS, 3L * WAIT_MS, "the creator/extender threads");
    for (int i = 0; i < CREATORS + EXTENDERS; i++)
        pthread_join(th[i], NULL);
    note("%d creates ok, %d failed; %d extends ok, %d failed; %d derived creates ok, %d failed; %lld ms",
         atomic_load(&s.created_ok), atomic_load(&s.created_failed), atomic_load(&s.extends_ok),
         atomic_load(&s.extends_failed), atomic_load(&s.derived_creates_ok), atomic_load(&s.derived_creates_failed),
         now_ms() - started);
    if (s.first_failure[0] != '\0')
        FAIL("first failure: %s", s.first_failure);
    CHECK_INT_EQ(atomic_load(&s.created_ok), CREATORS * CREATES_EACH);
    CHECK_INT_EQ(atomic_load(&s.created_failed), 0);
    CHECK_INT_EQ(atomic_load(&s.extends_ok), 2 * EXTENDERS * EXTENDS_EACH);
    CHECK_INT_EQ(atomic_load(&s.extends_failed), 0);
    CHECK_INT_EQ(atomic_load(&s.derived_creates_ok), EXTENDERS * (EXTENDS_EACH / 10));
    /* The shared client still works. */
    char *json = cbk_conversation_session_client_create(s.client, "conv_after", NULL, NULL);
    CHECK(is_session(json));
    cbk_string_free(json);
    pthread_barrier_destroy(&s.start);
    pthread_mutex_destroy(&s.failure_mu);
    joiner_destroy(&s.joiner);
    cbk_conversation_session_client_free(s.client);
}

/* ------------------------------------------------------------------------ */
/* Blocking calls inside callbacks                                          */
/* ------------------------------------------------------------------------ */

typedef struct inner_ctx {
    cbk_conversation_session_client *conv;
    cbk_bot_session_client *bot;
    cbk_task *other;          /* a task started elsewhere to wait on, or NULL */
    const char *id;           /* the id the inner create uses */
    char *blocking_json;      /* blocking create's result */
    char *bot_json;           /* blocking bot create's result */
    char *async_json;         /* nested create_async + cbk_task_wait */
    char *other_json;         /* cbk_task_wait(other) */
    char failure[512];
} inner_ctx_t;

static void inner_failure(inner_ctx_t *ctx, const char *what, cbk_error *err)
{
    if (ctx->failure[0] == '\0')
        snprintf(ctx->failure, sizeof ctx->failure, "%s: status %d code %s: %s", what, (int)cbk_error_status(err),
                 cbk_error_code(err), cbk_error_message(err));
}

/* Runs inside the callback: a blocking create on each client. */
static void inner_blocking_create(rec_t *r)
{
    inner_ctx_t *ctx = r->inner_arg;
    cbk_error *err = NULL;
    ctx->blocking_json = cbk_conversation_session_client_create(ctx->conv, ctx->id, "{}", &err);
    if (ctx->blocking_json == NULL)
        inner_failure(ctx, "blocking create in a callback", err);
    cbk_error_free(err);
    err = NULL;
    if (ctx->bot != NULL) {
        ctx->bot_json = cbk_bot_session_client_create(ctx->bot, "bot_inner", NULL, &err);
        if (ctx->bot_json == NULL)
            inner_failure(ctx, "blocking bot create in a callback", err);
        cbk_error_free(err);
    }
}

/* Runs inside the callback: create_async + cbk_task_wait on that new task,
 * and cbk_task_wait on a task started by the main thread. */
static void inner_async_and_wait(rec_t *r)
{
    inner_ctx_t *ctx = r->inner_arg;
    cbk_error *err = NULL;
    cbk_task *t = cbk_conversation_session_client_create_async(ctx->conv, ctx->id, NULL, NULL, NULL, &err);
    if (t == NULL) {
        inner_failure(ctx, "create_async in a callback", err);
        cbk_error_free(err);
    } else {
        ctx->async_json = cbk_task_wait(t, &err);
        if (ctx->async_json == NULL)
            inner_failure(ctx, "cbk_task_wait in a callback", err);
        cbk_error_free(err);
        cbk_task_free(t);
    }
    err = NULL;
    if (ctx->other != NULL) {
        ctx->other_json = cbk_task_wait(ctx->other, &err);
        if (ctx->other_json == NULL)
            inner_failure(ctx, "cbk_task_wait(other task) in a callback", err);
        cbk_error_free(err);
    }
}

static void inner_ctx_free(inner_ctx_t *ctx)
{
    cbk_string_free(ctx->blocking_json);
    cbk_string_free(ctx->bot_json);
    cbk_string_free(ctx->async_json);
    cbk_string_free(ctx->other_json);
}

static void test_blocking_create_inside_callback(void)
{
    cbk_conversation_session_client *c = conv_client(NULL);
    cbk_bot_session_client *b = bot_client(NULL);
    REQUIRE(c != NULL && b != NULL);
    inner_ctx_t ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.conv = c;
    ctx.bot = b;
    ctx.id = "conv_inner";
    rec_t r;
    rec_init(&r);
    r.inner = inner_blocking_create;
    r.inner_arg = &ctx;
    cbk_task *t = cbk_conversation_session_client_create_async(c, "conv_outer", NULL, rec_callback, &r, NULL);
    REQUIRE(t != NULL);
    REC_WAIT(&r);
    if (ctx.failure[0])
        FAIL("%s", ctx.failure);
    CHECK(is_session(r.json));
    CHECK(is_session(ctx.blocking_json));
    CHECK(is_session(ctx.bot_json));
    char *json = TASK_WAIT(t, NULL);
    CHECK_STR_EQ(json, r.json);
    cbk_string_free(json);
    CHECK_ONCE(&r);
    cbk_task_free(t);
    inner_ctx_free(&ctx);
    rec_destroy(&r);
    cbk_bot_session_client_free(b);
    cbk_conversation_session_client_free(c);
}

/* Callbacks run on library threads with glibc-sized stacks (8 MiB): a
 * callback may use 3 MB of stack, as it could on a thread of its own. */
static void use_3mb_of_stack(rec_t *r)
{
    volatile unsigned char big[3 << 20];
    for (size_t i = 0; i < sizeof big; i += 4096)
        big[i] = (unsigned char)i;
    size_t sum = 0;
    for (size_t i = 0; i < sizeof big; i += 4096)
        sum += big[i];
    r->inner_arg = (void *)(sum + 1);
}

static void test_callback_may_use_3mb_of_stack(void)
{
    cbk_conversation_session_client *c = conv_client(NULL);
    REQUIRE(c != NULL);
    rec_t r;
    rec_init(&r);
    r.inner = use_3mb_of_stack;
    cbk_task *t = cbk_conversation_session_client_create_async(c, "conv_big_stack", NULL, rec_callback, &r, NULL);
    REQUIRE(t != NULL);
    REC_WAIT(&r);
    CHECK(is_session(r.json));
    CHECK(r.inner_arg != NULL);
    CHECK_ONCE(&r);
    cbk_task_free(t);
    rec_destroy(&r);
    cbk_conversation_session_client_free(c);
}

static void test_async_and_wait_inside_callback(void)
{
    cbk_conversation_session_client *c = conv_client(NULL);
    REQUIRE(c != NULL);
    /* ANOTHER task, still in flight when the callback waits on it. */
    cbk_task *other = cbk_conversation_session_client_create_async(c, "slow-600", NULL, NULL, NULL, NULL);
    REQUIRE(other != NULL);
    inner_ctx_t ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.conv = c;
    ctx.other = other;
    ctx.id = "slow-100";
    rec_t r;
    rec_init(&r);
    r.inner = inner_async_and_wait;
    r.inner_arg = &ctx;
    cbk_task *t = cbk_conversation_session_client_create_async(c, "conv_outer2", NULL, rec_callback, &r, NULL);
    REQUIRE(t != NULL);
    REC_WAIT(&r);
    if (ctx.failure[0])
        FAIL("%s", ctx.failure);
    CHECK(is_session(r.json));
    CHECK(is_session(ctx.async_json));
    CHECK(is_session(ctx.other_json));
    char *json = TASK_WAIT(other, NULL);
    CHECK_STR_EQ(json, ctx.other_json);
    cbk_string_free(json);
    CHECK_ONCE(&r);
    cbk_task_free(t);
    cbk_task_free(other);
    inner_ctx_free(&ctx);
    rec_destroy(&r);
    cbk_conversation_session_client_free(c);
}

/* More callbacks blocking at once than the runtime has worker threads:
 * every one of them makes a blocking create that itself needs the runtime. */
#define BLOCKERS 12

static void test_many_callbacks_blocking_at_once(void)
{
    cbk_conversation_session_client *c = conv_client(NULL);
    cbk_bot_session_client *b = bot_client(NULL);
    REQUIRE(c != NULL && b != NULL);
    static inner_ctx_t ctx[BLOCKERS];
    static rec_t r[BLOCKERS];
    cbk_task *t[BLOCKERS];
    memset(ctx, 0, sizeof ctx);
    for (int i = 0; i < BLOCKERS; i++) {
        ctx[i].conv = c;
        ctx[i].bot = (i % 3 == 0) ? b : NULL;
        ctx[i].id = "slow-300";
        rec_init(&r[i]);
        r[i].inner = (i % 2 == 0) ? inner_blocking_create : inner_async_and_wait;
        r[i].inner_arg = &ctx[i];
        t[i] = cbk_conversation_session_client_create_async(c, "conv_blocker", NULL, rec_callback, &r[i], NULL);
        if (t[i] == NULL)
            abort();
    }
    long long started = now_ms();
    for (int i = 0; i < BLOCKERS; i++) {
        REC_WAIT(&r[i]);
        if (ctx[i].failure[0])
            FAIL("callback %d: %s", i, ctx[i].failure);
        CHECK(is_session(i % 2 == 0 ? ctx[i].blocking_json : ctx[i].async_json));
        if (ctx[i].bot != NULL && i % 2 == 0)
            CHECK(is_session(ctx[i].bot_json));
    }
    note("%d callbacks, each blocked on a 300 ms request, all done %lld ms after the first wait", BLOCKERS,
         now_ms() - started);
    for (int i = 0; i < BLOCKERS; i++) {
        char *json = TASK_WAIT(t[i], NULL);
        CHECK_STR_EQ(json, r[i].json);
        cbk_string_free(json);
        CHECK_INT_EQ(atomic_load(&r[i].entered), 1);
        cbk_task_free(t[i]);
        inner_ctx_free(&ctx[i]);
        rec_destroy(&r[i]);
    }
    cbk_bot_session_client_free(b);
    cbk_conversation_session_client_free(c);
}

/* A callback that frees the client its task was made with (the task does
 * not need it any more) and then starts new work on another handle. */
typedef struct free_ctx {
    cbk_conversation_session_client *to_free;
    cbk_conversation_session_client *other;
    char *json;
} free_ctx_t;

static void inner_free_client(rec_t *r)
{
    free_ctx_t *f = r->inner_arg;
    cbk_conversation_session_client_free(f->to_free);
    f->json = cbk_conversation_session_client_create(f->other, "conv_after_free", NULL, NULL);
}

static void test_callback_frees_its_client(void)
{
    cbk_conversation_session_client *c = conv_client(NULL);
    cbk_conversation_session_client *o = conv_client(NULL);
    REQUIRE(c != NULL && o != NULL);
    free_ctx_t f = { c, o, NULL };
    rec_t r;
    rec_init(&r);
    r.inner = inner_free_client;
    r.inner_arg = &f;
    cbk_task *t = cbk_conversation_session_client_create_async(c, "conv_freer", NULL, rec_callback, &r, NULL);
    REQUIRE(t != NULL);
    REC_WAIT(&r);
    CHECK(is_session(r.json));
    CHECK(is_session(f.json));
    cbk_string_free(f.json);
    CHECK_ONCE(&r);
    cbk_task_free(t);
    rec_destroy(&r);
    cbk_conversation_session_client_free(o);
}

/* Threads racing cbk_task_cancel, cbk_task_wait and the completion itself:
 * still exactly one callback per task. */
#define RACES 40
#define RACE_SLACK_US 1000

typedef struct race {
    cbk_task *task;
    joiner_t *joiner;
    char *json;
    cbk_error *error;
    long long cancel_done_us;
} race_t;

static void *race_cancel_main(void *arg)
{
    race_t *x = arg;
    cbk_task_cancel(x->task);
    x->cancel_done_us = now_us();
    joiner_done(x->joiner);
    return NULL;
}

static void *race_wait_main(void *arg)
{
    race_t *x = arg;
    x->json = cbk_task_wait(x->task, &x->error);
    joiner_done(x->joiner);
    return NULL;
}

static void test_cancel_wait_completion_races(void)
{
    cbk_conversation_session_client *c = conv_client(NULL);
    REQUIRE(c != NULL);
    static rec_t r[RACES];
    int cancelled = 0, succeeded = 0;
    for (int i = 0; i < RACES; i++) {
        rec_init(&r[i]);
        cbk_task *t = cbk_conversation_session_client_create_async(c, "conv_race", NULL, rec_callback, &r[i], NULL);
        REQUIRE(t != NULL);
        joiner_t j;
        joiner_init(&j);
        race_t canceller = { t, &j, NULL, NULL, 0 }, waiter = { t, &j, NULL, NULL, 0 };
        pthread_t a, b;
        /* Vary when the cancel lands: at once, or after 1..9 ms. */
        sleep_ms(i % 10);
        if (pthread_create(&b, NULL, race_wait_main, &waiter) != 0 ||
            pthread_create(&a, NULL, race_cancel_main, &canceller) != 0)
            abort();
        JOINER_WAIT(&j, 2, WAIT_MS, "a cancel / wait race");
        pthread_join(a, NULL);
        pthread_join(b, NULL);
        CHECK_INT_EQ(atomic_load(&r[i].calls), 1);
        if (waiter.json != NULL) {
            CHECK_STR_EQ(waiter.json, r[i].json);
            /* A success is only right when the request had finished before
             * cbk_task_cancel returned; the library calls the callback right
             * after that, so its start may trail the cancel by a moment
             * (allowed: RACE_SLACK_US), never by more. */
            if (r[i].at_us > canceller.cancel_done_us + RACE_SLACK_US)
                FAIL("race %d: the callback got a success %lld us after cbk_task_cancel returned", i,
                     r[i].at_us - canceller.cancel_done_us);
            succeeded++;
        } else {
            CHECK_INT_EQ(cbk_error_status(waiter.error), CBK_ERROR_CANCELLED);
            CHECK_INT_EQ(r[i].status, CBK_ERROR_CANCELLED);
            cancelled++;
        }
        cbk_string_free(waiter.json);
        cbk_error_free(waiter.error);
        cbk_task_free(t);
        joiner_destroy(&j);
    }
    sleep_ms(150);
    for (int i = 0; i < RACES; i++) {
        CHECK_INT_EQ(atomic_load(&r[i].entered), 1);
        rec_destroy(&r[i]);
    }
    note("%d races: %d cancelled, %d completed first", RACES, cancelled, succeeded);
    cbk_conversation_session_client_free(c);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!standin_env())
        return 1;
    printf("# libchatbotkit %s, threads and callbacks, against %s\n", cbk_version(), g_base_url);
    RUN(test_16_creators_4_extenders_share_one_client);
    RUN(test_blocking_create_inside_callback);
    RUN(test_async_and_wait_inside_callback);
    RUN(test_callback_may_use_3mb_of_stack);
    RUN(test_many_callbacks_blocking_at_once);
    RUN(test_callback_frees_its_client);
    RUN(test_cancel_wait_completion_races);
    return test_summary();
}
