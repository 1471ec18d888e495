/*
 * async_test.h - the harness of libchatbotkit's async / threads / fork / log
 * C tests.
 *
 * Each test is a `static void test_xxx(void)`; main() runs them with
 * RUN(test_xxx), which prints "ok N - xxx" or "not ok N - xxx", and ends with
 * `return test_summary();`, which prints "P passed, F failed" and returns
 * nonzero when anything failed.
 *
 * CHECK*() record a failure with file:line and keep going; REQUIRE*() record
 * it and return from the test function.  Diagnostics go to stdout with "# ".
 *
 * Every wait is bounded.  The library's own blocking calls (cbk_task_wait,
 * a blocking create) cannot be interrupted, so they are made on a helper
 * thread and the test waits for that thread with a deadline.  When a
 * deadline passes the test prints why, "not ok", "Bail out!" and the
 * summary, and exits the whole program with status 3 (a hung library call cannot be recovered from); with
 * CBK_TEST_HANG=1 in the environment it sleeps instead, so that
 * `gdb -p PID -batch -ex 'thread apply all bt'` can show where it hangs.
 */
#ifndef CBK_ASYNC_TEST_H
#define CBK_ASYNC_TEST_H

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chatbotkit.h"
#include "../../audit.h"
#include "../../strutil.h"

/* The bound on every wait, in ms.  Generous because valgrind runs the
 * program 20-50 times slower and one thread at a time. */
#ifndef WAIT_MS
#define WAIT_MS 20000
#endif

/* ------------------------------------------------------------------------ */
/* Results                                                                  */
/* ------------------------------------------------------------------------ */

static int t_number, t_passed, t_failed;
static atomic_int t_current_failed;
static const char *t_current_name = "(setup)";

static inline void t_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    flockfile(stdout);
    printf("#   %s:%d: ", file, line);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    funlockfile(stdout);
    atomic_store(&t_current_failed, 1);
}

static inline void note(const char *fmt, ...)
{
    va_list ap;
    flockfile(stdout);
    printf("# ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    funlockfile(stdout);
}

#define FAIL(...) t_fail(__FILE__, __LINE__, __VA_ARGS__)
#define CHECK(cond) \
    do { if (!(cond)) t_fail(__FILE__, __LINE__, "check failed: %s", #cond); } while (0)
#define REQUIRE(cond) \
    do { if (!(cond)) { t_fail(__FILE__, __LINE__, "requirement failed: %s", #cond); return; } } while (0)
#define CHECK_INT_EQ(got, want) t_check_int_eq(__FILE__, __LINE__, #got, (long)(got), (long)(want))
#define CHECK_STR_EQ(got, want) t_check_str_eq(__FILE__, __LINE__, #got, (got), (want))
#define CHECK_CONTAINS(hay, needle) t_check_contains(__FILE__, __LINE__, #hay, (hay), (needle), 1)
#define CHECK_NOT_CONTAINS(hay, needle) t_check_contains(__FILE__, __LINE__, #hay, (hay), (needle), 0)

static inline int t_check_int_eq(const char *file, int line, const char *expr, long got, long want)
{
    if (got != want) {
        t_fail(file, line, "%s: got %ld, want %ld", expr, got, want);
        return 0;
    }
    return 1;
}

static inline int t_check_str_eq(const char *file, int line, const char *expr, const char *got,
                                 const char *want)
{
    if (got == NULL || want == NULL || strcmp(got, want) != 0) {
        t_fail(file, line, "%s: got \"%s\", want \"%s\"", expr, got ? got : "(NULL)", want ? want : "(NULL)");
        return 0;
    }
    return 1;
}

static inline int t_check_contains(const char *file, int line, const char *expr, const char *hay,
                                   const char *needle, int want)
{
    int found = hay != NULL && strstr(hay, needle) != NULL;
    if ((hay == NULL && want) || found != want) {
        t_fail(file, line, "%s (\"%s\") %s \"%s\"", expr, hay ? hay : "(NULL)",
               want ? "does not contain" : "contains", needle);
        return 0;
    }
    return 1;
}

#define RUN(fn) t_run(#fn, fn)

static inline void t_run(const char *name, void (*fn)(void))
{
    if (strncmp(name, "test_", 5) == 0)
        name += 5;
    atomic_store(&t_current_failed, 0);
    t_current_name = name;
    fn();
    t_number++;
    if (atomic_load(&t_current_failed)) {
        t_failed++;
        printf("not ok %d - %s\n", t_number, name);
    } else {
        t_passed++;
        printf("ok %d - %s\n", t_number, name);
    }
    fflush(stdout);
}

static inline int test_summary(void)
{
    printf("1..%d\n", t_number);
    printf("%d passed, %d failed\n", t_passed, t_failed);
    fflush(stdout);
    return t_failed == 0 ? 0 : 1;
}

/* A deadline passed inside a library call: nothing sensible can follow. */
static inline void t_hung(const char *file, int line, const char *what)
{
    printf("#   %s:%d: %s did not finish in time (pid %ld)\n", file, line, what, (long)getpid());
    printf("not ok %d - %s\n", t_number + 1, t_current_name);
    printf("Bail out! a library call hung\n");
    printf("%d passed, %d failed\n", t_passed, t_failed + 1);
    fflush(stdout);
    const char *hang = getenv("CBK_TEST_HANG");
    if (hang != NULL && hang[0] == '1') {
        printf("# CBK_TEST_HANG=1: sleeping so that gdb can attach to pid %ld\n", (long)getpid());
        fflush(stdout);
        for (int i = 0; i < 3600; i++)
            sleep(1);
    }
    _exit(3);
}

/* ------------------------------------------------------------------------ */
/* Time                                                                     */
/* ------------------------------------------------------------------------ */

static inline long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static inline void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

/* A condition variable that measures its timeouts on CLOCK_MONOTONIC. */
static inline void mono_cond_init(pthread_cond_t *cv)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &attr);
    pthread_condattr_destroy(&attr);
}

static inline struct timespec deadline_after(long ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* ------------------------------------------------------------------------ */
/* Strings                                                                  */
/* ------------------------------------------------------------------------ */

/* ------------------------------------------------------------------------ */
/* Recording callbacks                                                      */
/* ------------------------------------------------------------------------ */

/* What a task's callback saw.  `calls` counts every invocation; the rest
 * is the first invocation's outcome (copied: the arguments are borrowed). */
typedef struct rec {
    atomic_int entered;   /* invocations started */
    atomic_int calls;     /* invocations returned */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *json;           /* response_json, copied; NULL on error */
    int had_error;        /* error was not NULL */
    int both_or_neither;  /* set when json and error were both NULL or both set */
    cbk_status status;
    char code[64];
    char message[512];
    int http;
    long long at_ms;      /* now_ms() when it ran */
    long long at_us;      /* now_us() when it was entered */
    pthread_t thread;     /* the thread it ran on */
    /* Optional work done inside the callback, after recording. */
    void (*inner)(struct rec *);
    void *inner_arg;
} rec_t;

static inline void rec_init(rec_t *r)
{
    memset(r, 0, sizeof *r);
    atomic_init(&r->entered, 0);
    atomic_init(&r->calls, 0);
    pthread_mutex_init(&r->mu, NULL);
    mono_cond_init(&r->cv);
    r->status = CBK_OK;
}

static inline void rec_destroy(rec_t *r)
{
    free(r->json);
    r->json = NULL;
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
}

/* The cbk_callback: user_data is a rec_t. */
static inline void rec_callback(void *user_data, const char *response_json, const cbk_error *error)
{
    rec_t *r = user_data;
    long long entered_us = now_us();
    int first = atomic_fetch_add(&r->entered, 1) == 0;
    pthread_mutex_lock(&r->mu);
    if (first) {
        r->thread = pthread_self();
        r->at_ms = now_ms();
        r->at_us = entered_us;
        r->both_or_neither = (response_json == NULL) == (error == NULL);
        r->json = xstrdup(response_json);
        r->had_error = error != NULL;
        if (error != NULL) {
            r->status = cbk_error_status(error);
            snprintf(r->code, sizeof r->code, "%s", cbk_error_code(error));
            snprintf(r->message, sizeof r->message, "%s", cbk_error_message(error));
            audit_line("callback error message", cbk_error_message(error));
            r->http = cbk_error_http_status(error);
        }
    }
    pthread_mutex_unlock(&r->mu);
    if (first && r->inner != NULL)
        r->inner(r);
    pthread_mutex_lock(&r->mu);
    atomic_fetch_add(&r->calls, 1);
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

/* Waits until the callback ran `n` times (and returned); 0 on timeout. */
static inline int rec_wait(rec_t *r, int n, long timeout_ms)
{
    struct timespec dl = deadline_after(timeout_ms);
    pthread_mutex_lock(&r->mu);
    int rc = 0;
    while (atomic_load(&r->calls) < n && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&r->cv, &r->mu, &dl);
    int ok = atomic_load(&r->calls) >= n;
    pthread_mutex_unlock(&r->mu);
    return ok;
}

/* After a grace period, the callback must have run exactly once. */
#define CHECK_ONCE(r) \
    do { \
        sleep_ms(150); \
        CHECK_INT_EQ(atomic_load(&(r)->entered), 1); \
        CHECK_INT_EQ(atomic_load(&(r)->calls), 1); \
    } while (0)

#define REC_WAIT(r) \
    do { if (!rec_wait((r), 1, WAIT_MS)) t_hung(__FILE__, __LINE__, "the task's callback"); } while (0)

/* ------------------------------------------------------------------------ */
/* Bounded cbk_task_wait                                                    */
/* ------------------------------------------------------------------------ */

typedef struct waiter {
    cbk_task *task;
    char *json;
    cbk_error *error;
    int done;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} waiter_t;

static inline void *waiter_main(void *arg)
{
    waiter_t *w = arg;
    cbk_error *err = NULL;
    char *json = cbk_task_wait(w->task, &err);
    pthread_mutex_lock(&w->mu);
    w->json = json;
    w->error = err;
    w->done = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* cbk_task_wait(task, error) on a helper thread, bounded by WAIT_MS. */
static inline char *t_task_wait_bounded(const char *file, int line, cbk_task *task, cbk_error **error)
{
    waiter_t w;
    memset(&w, 0, sizeof w);
    w.task = task;
    pthread_mutex_init(&w.mu, NULL);
    mono_cond_init(&w.cv);
    pthread_t th;
    if (pthread_create(&th, NULL, waiter_main, &w) != 0) {
        t_fail(file, line, "pthread_create failed");
        return NULL;
    }
    struct timespec dl = deadline_after(WAIT_MS);
    pthread_mutex_lock(&w.mu);
    int rc = 0;
    while (!w.done && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&w.cv, &w.mu, &dl);
    int done = w.done;
    pthread_mutex_unlock(&w.mu);
    if (!done)
        t_hung(file, line, "cbk_task_wait");
    pthread_join(th, NULL);
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.cv);
    if (error != NULL)
        *error = w.error;
    else
        cbk_error_free(w.error);
    return w.json;
}

#define TASK_WAIT(task, errp) t_task_wait_bounded(__FILE__, __LINE__, (task), (errp))

/* Joins `n` threads that each set done[i] (under mu, signalling cv) when
 * finished, bounded by timeout_ms; exits the program when one hangs. */
typedef struct joiner {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int finished;
} joiner_t;

static inline void joiner_init(joiner_t *j)
{
    pthread_mutex_init(&j->mu, NULL);
    mono_cond_init(&j->cv);
    j->finished = 0;
}

static inline void joiner_done(joiner_t *j)
{
    pthread_mutex_lock(&j->mu);
    j->finished++;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

static inline void t_joiner_wait(const char *file, int line, joiner_t *j, int n, long timeout_ms,
                                 const char *what)
{
    struct timespec dl = deadline_after(timeout_ms);
    pthread_mutex_lock(&j->mu);
    int rc = 0;
    while (j->finished < n && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&j->cv, &j->mu, &dl);
    int finished = j->finished;
    pthread_mutex_unlock(&j->mu);
    if (finished < n) {
        printf("#   %d of %d threads finished\n", finished, n);
        t_hung(file, line, what);
    }
}

#define JOINER_WAIT(j, n, ms, what) t_joiner_wait(__FILE__, __LINE__, (j), (n), (ms), (what))

static inline void joiner_destroy(joiner_t *j)
{
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->cv);
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

/* code: NULL = don't check; http: -1 = don't check; msg_part: NULL = don't check.
 * Frees `err`. */
#define EXPECT_ERROR(err, status, code, http, msg_part) \
    t_expect_error(__FILE__, __LINE__, #err, (err), (status), (code), (http), (msg_part))

static const char *g_secret; /* CHATBOTKIT_API_SECRET */

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
    if (got_status != (int)status || (code != NULL && strcmp(got_code, code) != 0) ||
        (http >= 0 && got_http != http) || (msg_part != NULL && strstr(got_msg, msg_part) == NULL)) {
        t_fail(file, line,
               "%s: got status=%d code=\"%s\" http=%d message=\"%s\"; "
               "want status=%d code=\"%s\" http=%d message containing \"%s\"",
               expr, got_status, got_code, got_http, got_msg, (int)status, code ? code : "*", http,
               msg_part ? msg_part : "*");
    }
    audit_line("error message", got_msg);
    if (g_secret != NULL && strstr(got_msg, g_secret) != NULL)
        t_fail(file, line, "%s: the message contains the secret", expr);
    cbk_error_free(err);
}

/* Checks a rec_t's recorded error outcome. */
#define EXPECT_REC_ERROR(r, st, cd, ht) \
    t_expect_rec_error(__FILE__, __LINE__, (r), (st), (cd), (ht))

static inline void t_expect_rec_error(const char *file, int line, rec_t *r, cbk_status status,
                                      const char *code, int http)
{
    if (!r->had_error || r->json != NULL) {
        t_fail(file, line, "callback: want an error (status %d), got json=%s", (int)status,
               r->json ? r->json : "(NULL)");
        return;
    }
    if (r->status != status || (code != NULL && strcmp(r->code, code) != 0) || (http >= 0 && r->http != http))
        t_fail(file, line, "callback: got status=%d code=\"%s\" http=%d message=\"%s\"; want status=%d code=\"%s\" http=%d",
               (int)r->status, r->code, r->http, r->message, (int)status, code ? code : "*", http);
}

/* ------------------------------------------------------------------------ */
/* The stand-in                                                             */
/* ------------------------------------------------------------------------ */

static const char *g_base_url; /* CHATBOTKIT_API_BASE_URL */

/* Reads the stand-in's environment (set by scripts/with-standin.sh). */
static inline int standin_env(void)
{
    g_base_url = getenv("CHATBOTKIT_API_BASE_URL");
    g_secret = getenv("CHATBOTKIT_API_SECRET");
    if (g_base_url == NULL || g_base_url[0] == '\0' || g_secret == NULL || g_secret[0] == '\0') {
        printf("Bail out! CHATBOTKIT_API_BASE_URL and CHATBOTKIT_API_SECRET must be set "
               "(run under scripts/with-standin.sh)\n");
        return 0;
    }
    return 1;
}

/* {"secret":<env secret>,"baseUrl":<env base URL>[,extra]} (free it). */
static inline char *standin_options(const char *extra)
{
    char *secret = json_str(g_secret);
    char *base = json_str(g_base_url);
    char *s = fmt("{\"secret\":%s,\"baseUrl\":%s%s%s}", secret, base, extra ? "," : "", extra ? extra : "");
    free(secret);
    free(base);
    return s;
}

static inline cbk_conversation_session_client *conv_client(const char *extra)
{
    char *opts = standin_options(extra);
    cbk_error *err = NULL;
    cbk_conversation_session_client *c = cbk_conversation_session_client_new(opts, &err);
    if (c == NULL) {
        FAIL("cbk_conversation_session_client_new(%s) failed: %s", opts, cbk_error_message(err));
        cbk_error_free(err);
    }
    free(opts);
    return c;
}

static inline cbk_bot_session_client *bot_client(const char *extra)
{
    char *opts = standin_options(extra);
    cbk_error *err = NULL;
    cbk_bot_session_client *c = cbk_bot_session_client_new(opts, &err);
    if (c == NULL) {
        FAIL("cbk_bot_session_client_new(%s) failed: %s", opts, cbk_error_message(err));
        cbk_error_free(err);
    }
    free(opts);
    return c;
}

/* GET /_standin/requests through clientFetch (free with cbk_string_free). */
static inline char *standin_requests(const cbk_conversation_session_client *c)
{
    cbk_error *err = NULL;
    char *log = cbk_conversation_session_client_fetch(c, "/_standin/requests", "{\"method\":\"GET\"}", &err);
    if (log == NULL) {
        FAIL("GET /_standin/requests failed: %s", cbk_error_message(err));
        cbk_error_free(err);
    }
    return log;
}

/* DELETE /_standin/requests: clears the log and the flaky-<n> counters. */
static inline void standin_clear(const cbk_conversation_session_client *c)
{
    cbk_error *err = NULL;
    char *r = cbk_conversation_session_client_fetch(c, "/_standin/requests", "{\"method\":\"DELETE\"}", &err);
    if (r == NULL) {
        FAIL("DELETE /_standin/requests failed: %s", cbk_error_message(err));
        cbk_error_free(err);
    }
    cbk_string_free(r);
}

/* How many recorded requests have a path containing `needle`. */
static inline int standin_count(const cbk_conversation_session_client *c, const char *needle)
{
    char *log = standin_requests(c);
    int n = count_occurrences(log, needle);
    cbk_string_free(log);
    return n;
}

/* A successful session response: an object with a token. */
static inline int is_session(const char *json)
{
    return json != NULL && json[0] == '{' && strstr(json, "\"token\":\"") != NULL &&
           strstr(json, "\"expiresAt\":") != NULL;
}

#endif /* CBK_ASYNC_TEST_H */
