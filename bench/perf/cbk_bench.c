/*
 * cbk_bench.c - libchatbotkit side of the performance benchmark.
 *
 * Usage (one mode per process; each prints one RESULT line, see common.h):
 *   cbk_bench seq       BASE_URL N         N sequential creates on one client
 *   cbk_bench threads   BASE_URL T N       T threads share ONE client, N in all
 *   cbk_bench async-chain BASE_URL C N     create_async, C in flight; each
 *                                          callback starts the next call
 *                                          (`async` is the same)
 *   cbk_bench async-wait BASE_URL C N      create_async without a callback, C
 *                                          in flight; the host thread waits for
 *                                          the oldest (cbk_task_wait), frees it
 *                                          and starts the next
 *   cbk_bench async-drv BASE_URL C N       create_async, C in flight; the host
 *                                          thread starts calls as a semaphore
 *                                          of C slots allows, callbacks post it
 *   cbk_bench extend    BASE_URL N STATUS_URL D
 *                                          N extend+free pairs (timed), then
 *                                          new-connection check: 100 creates
 *                                          on the parent, then one create on
 *                                          each of D derived handles, with
 *                                          nginx's accepts counter read around
 *   cbk_bench cold      BASE_URL           time from main() (and from exec, when
 *                                          run by coldrun) to the first session
 *   cbk_bench version                      print the library's version
 *
 * BASE_URL is the nginx on 127.0.0.1 (http://127.0.0.1:PORT). Every timed
 * phase is preceded by an untimed warm-up in the same process. Under
 * callgrind, `seq` dumps its counters before and after the timed loop.
 */
#include "common.h"

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>

#include "chatbotkit.h"

#define ID "cnv_bench"

static cbk_conversation_session_client *g_client;

static cbk_conversation_session_client *make_client(const char *base)
{
    char opts[512];
    snprintf(opts, sizeof opts, "{\"secret\":\"sk_bench_0123456789\",\"baseUrl\":\"%s\"}", base);
    cbk_error *err = NULL;
    cbk_conversation_session_client *c = cbk_conversation_session_client_new(opts, &err);
    if (c == NULL)
        die("cbk_conversation_session_client_new: %s", cbk_error_message(err));
    return c;
}

/* One blocking create; returns 1 on a session, 0 otherwise (first error
 * printed to stderr). */
static int create_one(const cbk_conversation_session_client *c)
{
    static atomic_int reported;
    cbk_error *err = NULL;
    char *s = cbk_conversation_session_client_create(c, ID, NULL, &err);
    int ok = s != NULL && strstr(s, "\"token\"") != NULL;
    if (!ok && atomic_exchange(&reported, 1) == 0)
        fprintf(stderr, "create failed: %s: %s\n", err ? cbk_error_code(err) : "?",
                err ? cbk_error_message(err) : (s ? s : "no body"));
    cbk_string_free(s);
    cbk_error_free(err);
    return ok;
}

/* ---- seq ------------------------------------------------------------- */

static int run_seq(const char *base, long n)
{
    g_client = make_client(base);
    long w = warmup_calls(n);
    for (long i = 0; i < w; i++)
        create_one(g_client);
    const char *status_url = getenv("BENCH_STATUS_URL");
    long a0 = status_url ? stub_accepts(status_url, NULL) : -1;
    CG_DUMP("startup+warmup");
    long ok = 0;
    long long c0 = cpu_ns(), t0 = now_ns();
    for (long i = 0; i < n; i++)
        ok += create_one(g_client);
    long long t1 = now_ns(), c1 = cpu_ns();
    CG_DUMP("timed-loop");
    long a1 = status_url ? stub_accepts(status_url, NULL) : -1;
    char extra[64];
    snprintf(extra, sizeof extra, "new_conns=%ld", a0 >= 0 && a1 >= 0 ? a1 - a0 - 1 : -1);
    print_result("cbk", "seq", 1, n, t1 - t0, c1 - c0, ok, n - ok, extra);
    cbk_conversation_session_client_free(g_client);
    return ok == n ? 0 : 1;
}

/* ---- threads ---------------------------------------------------------- */

static pthread_barrier_t g_barrier;
struct thr {
    pthread_t tid;
    long n;
    long ok;
};

static void *thread_main(void *arg)
{
    struct thr *t = arg;
    for (int i = 0; i < 20; i++) /* warm-up: this thread's connection */
        create_one(g_client);
    pthread_barrier_wait(&g_barrier); /* warmed up */
    pthread_barrier_wait(&g_barrier); /* go */
    for (long i = 0; i < t->n; i++)
        t->ok += create_one(g_client);
    return NULL;
}

static int run_threads(const char *base, int nthreads, long n)
{
    g_client = make_client(base);
    long w = warmup_calls(n);
    for (long i = 0; i < w; i++)
        create_one(g_client);
    struct thr *ts = calloc((size_t)nthreads, sizeof *ts);
    pthread_barrier_init(&g_barrier, NULL, (unsigned)nthreads + 1);
    for (int i = 0; i < nthreads; i++) {
        ts[i].n = n / nthreads + (i < n % nthreads ? 1 : 0);
        if (pthread_create(&ts[i].tid, NULL, thread_main, &ts[i]) != 0)
            die("pthread_create");
    }
    const char *status_url = getenv("BENCH_STATUS_URL");
    pthread_barrier_wait(&g_barrier); /* every thread has warmed up */
    long a0 = status_url ? stub_accepts(status_url, NULL) : -1;
    pthread_barrier_wait(&g_barrier);
    long long c0 = cpu_ns(), t0 = now_ns();
    long ok = 0;
    for (int i = 0; i < nthreads; i++) {
        pthread_join(ts[i].tid, NULL);
        ok += ts[i].ok;
    }
    long long t1 = now_ns(), c1 = cpu_ns();
    long a1 = status_url ? stub_accepts(status_url, NULL) : -1;
    char extra[64];
    snprintf(extra, sizeof extra, "new_conns=%ld", a0 >= 0 && a1 >= 0 ? a1 - a0 - 1 : -1);
    print_result("cbk", "threads", nthreads, n, t1 - t0, c1 - c0, ok, n - ok, extra);
    free(ts);
    cbk_conversation_session_client_free(g_client);
    return ok == n ? 0 : 1;
}

/* ---- async -------------------------------------------------------------- */

static atomic_long g_started, g_done, g_ok;
static long g_total;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static sem_t g_slots;
static int g_use_sem;
static atomic_int g_err_reported;

static void finish_one(int ok)
{
    if (ok)
        atomic_fetch_add(&g_ok, 1);
    if (atomic_fetch_add(&g_done, 1) + 1 == g_total) {
        pthread_mutex_lock(&g_mu);
        pthread_cond_broadcast(&g_cv);
        pthread_mutex_unlock(&g_mu);
    }
}

static void on_done(void *ud, const char *json, const cbk_error *err);

static void launch(void)
{
    cbk_error *err = NULL;
    cbk_task *t = cbk_conversation_session_client_create_async(g_client, ID, NULL, on_done, NULL, &err);
    if (t == NULL) {
        if (atomic_exchange(&g_err_reported, 1) == 0)
            fprintf(stderr, "create_async failed: %s\n", cbk_error_message(err));
        cbk_error_free(err);
        if (g_use_sem)
            sem_post(&g_slots);
        finish_one(0);
        return;
    }
    cbk_task_free(t); /* does not cancel: the callback still runs */
}

static void on_done(void *ud, const char *json, const cbk_error *err)
{
    (void)ud;
    int ok = json != NULL && strstr(json, "\"token\"") != NULL;
    if (!ok && atomic_exchange(&g_err_reported, 1) == 0)
        fprintf(stderr, "async create failed: %s: %s\n", err ? cbk_error_code(err) : "?",
                err ? cbk_error_message(err) : "no token");
    if (g_use_sem) {
        sem_post(&g_slots);
    } else if (atomic_fetch_add(&g_started, 1) < g_total) {
        launch(); /* keep C in flight */
    }
    finish_one(ok);
}

/* Run `total` calls with `c` in flight; returns the nanoseconds taken. */
static long long async_phase(long c, long total)
{
    atomic_store(&g_done, 0);
    atomic_store(&g_ok, 0);
    g_total = total;
    if (c > total)
        c = total;
    long long t0 = now_ns();
    if (g_use_sem) {
        sem_init(&g_slots, 0, (unsigned)c);
        for (long i = 0; i < total; i++) {
            while (sem_wait(&g_slots) != 0 && errno == EINTR) {
            }
            launch();
        }
    } else {
        atomic_store(&g_started, c);
        for (long i = 0; i < c; i++)
            launch();
    }
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += BENCH_WAIT_LIMIT_S;
    pthread_mutex_lock(&g_mu);
    int rc = 0;
    while (atomic_load(&g_done) < total && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&g_cv, &g_mu, &dl);
    pthread_mutex_unlock(&g_mu);
    long long t1 = now_ns();
    if (atomic_load(&g_done) < total) {
        fprintf(stderr, "timeout: %ld of %ld callbacks after %d s\n", atomic_load(&g_done), total,
                BENCH_WAIT_LIMIT_S);
        fflush(stderr);
        _exit(1);
    }
    if (g_use_sem)
        sem_destroy(&g_slots);
    return t1 - t0;
}

/* The host thread keeps `c` tasks in flight in a ring and waits for the
 * oldest: every request takes about as long as the others, so completions
 * come roughly in start order and the oldest is the next to finish. Tasks
 * have no callback, as a program that only waits would start them.
 * cbk_task_wait has no time limit: run.sh's timeout(1) bounds the process.
 * Returns the nanoseconds taken; the successes go to g_ok. */
static long long wait_phase(long c, long total)
{
    if (c > total)
        c = total;
    cbk_task **ring = calloc((size_t)c, sizeof *ring);
    if (ring == NULL)
        die("out of memory");
    long started = 0, ok = 0;
    long long t0 = now_ns();
    for (; started < c; started++)
        ring[started] = cbk_conversation_session_client_create_async(g_client, ID, NULL, NULL, NULL, NULL);
    for (long done = 0, head = 0; done < total; done++, head = (head + 1) % c) {
        cbk_error *err = NULL;
        char *json = ring[head] ? cbk_task_wait(ring[head], &err) : NULL;
        int one = json != NULL && strstr(json, "\"token\"") != NULL;
        if (!one && atomic_exchange(&g_err_reported, 1) == 0)
            fprintf(stderr, "async create failed: %s: %s\n", ring[head] ? cbk_error_code(err) : "?",
                    ring[head] ? cbk_error_message(err) : "create_async returned NULL");
        ok += one;
        cbk_string_free(json);
        cbk_error_free(err);
        cbk_task_free(ring[head]);
        ring[head] = NULL;
        if (started < total) {
            ring[head] = cbk_conversation_session_client_create_async(g_client, ID, NULL, NULL, NULL, NULL);
            started++;
        }
    }
    long long t1 = now_ns();
    free(ring);
    atomic_store(&g_ok, ok);
    return t1 - t0;
}

enum async_kind { ASYNC_CHAIN, ASYNC_WAIT, ASYNC_DRV };

static int run_async(const char *base, long c, long n, enum async_kind kind)
{
    static const char *const names[] = { "async-chain", "async-wait", "async-drv" };
    raise_nofile();
    g_use_sem = kind == ASYNC_DRV;
    g_client = make_client(base);
    create_one(g_client);
    long w = warmup_calls(n);
    if (w < 2 * c)
        w = 2 * c; /* opens the C connections */
    long long (*phase)(long, long) = kind == ASYNC_WAIT ? wait_phase : async_phase;
    phase(c, w);
    const char *status_url = getenv("BENCH_STATUS_URL");
    long a0 = status_url ? stub_accepts(status_url, NULL) : -1;
    long long c0 = cpu_ns();
    long long ns = phase(c, n);
    long long c1 = cpu_ns();
    long a1 = status_url ? stub_accepts(status_url, NULL) : -1;
    long ok = atomic_load(&g_ok);
    char extra[64];
    snprintf(extra, sizeof extra, "new_conns=%ld", a0 >= 0 && a1 >= 0 ? a1 - a0 - 1 : -1);
    print_result("cbk", names[kind], c, n, ns, c1 - c0, ok, n - ok, extra);
    cbk_conversation_session_client_free(g_client);
    return ok == n ? 0 : 1;
}

/* ---- extend ------------------------------------------------------------ */

static int run_extend(const char *base, long n, const char *status_url, long derived)
{
    g_client = make_client(base);
    create_one(g_client);
    const char *ext = "{\"headers\":{\"x-a\":\"1\"}}";
    cbk_error *err = NULL;
    for (long i = 0; i < 1000; i++) { /* warm-up */
        cbk_conversation_session_client *d = cbk_conversation_session_client_extend(g_client, ext, &err);
        if (d == NULL)
            die("extend: %s", cbk_error_message(err));
        cbk_conversation_session_client_free(d);
    }
    long long c0 = cpu_ns(), t0 = now_ns();
    long ok = 0;
    for (long i = 0; i < n; i++) {
        cbk_conversation_session_client *d = cbk_conversation_session_client_extend(g_client, ext, &err);
        if (d == NULL)
            die("extend: %s", cbk_error_message(err));
        ok++;
        cbk_conversation_session_client_free(d);
    }
    long long t1 = now_ns(), c1 = cpu_ns();

    /* New TCP connections: accepts counts each stub_status read's own
     * connection, hence the -1s. */
    long a0 = stub_accepts(status_url, NULL);
    long parent_ok = 0;
    for (int i = 0; i < 100; i++) {
        parent_ok += create_one(g_client);
        usleep(CHECK_PAUSE_US);
    }
    long a1 = stub_accepts(status_url, NULL);
    long derived_ok = 0;
    for (long i = 0; i < derived; i++) {
        cbk_conversation_session_client *d = cbk_conversation_session_client_extend(g_client, ext, &err);
        if (d == NULL)
            die("extend: %s", cbk_error_message(err));
        derived_ok += create_one(d);
        usleep(CHECK_PAUSE_US);
        cbk_conversation_session_client_free(d);
    }
    long a2 = stub_accepts(status_url, NULL);
    char extra[256];
    if (a0 < 0 || a1 < 0 || a2 < 0)
        snprintf(extra, sizeof extra, "ns_per=%.1f parent_new_conns=? derived_new_conns=? derived=%ld derived_ok=%ld",
                 (double)(t1 - t0) / (double)n, derived, derived_ok);
    else
        snprintf(extra, sizeof extra,
                 "ns_per=%.1f parent_new_conns=%ld derived_new_conns=%ld derived=%ld derived_ok=%ld",
                 (double)(t1 - t0) / (double)n, a1 - a0 - 1, a2 - a1 - 1, derived, derived_ok);
    print_result("cbk", "extend", 1, n, t1 - t0, c1 - c0, ok, n - ok, extra);
    cbk_conversation_session_client_free(g_client);
    return (parent_ok == 100 && derived_ok == derived) ? 0 : 1;
}

/* ---- cold ------------------------------------------------------------------ */

static int run_cold(const char *base, long long t_main)
{
    cbk_conversation_session_client *c = make_client(base);
    int ok = create_one(c);
    long long t1 = now_ns();
    long long t0_exec = (long long)env_long("BENCH_EXEC_NS", 0);
    char extra[160];
    snprintf(extra, sizeof extra, "main_to_first_us=%.1f exec_to_first_us=%.1f", (double)(t1 - t_main) / 1e3,
             t0_exec > 0 ? (double)(t1 - t0_exec) / 1e3 : -1.0);
    print_result("cbk", "cold", 1, 1, t1 - t_main, cpu_ns(), ok, !ok, extra);
    cbk_conversation_session_client_free(c);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    long long t_main = now_ns();
    if (argc == 2 && strcmp(argv[1], "version") == 0) {
        puts(cbk_version());
        return 0;
    }
    if (argc < 3) {
        fprintf(stderr,
                "usage: %s seq|threads|async-chain|async-wait|async-drv|extend|cold BASE_URL ARGS... (see the "
                "source) | version\n",
                argv[0]);
        return 2;
    }
    const char *mode = argv[1], *base = argv[2];
    if (strcmp(mode, "seq") == 0)
        return run_seq(base, argc > 3 ? atol(argv[3]) : 20000);
    if (strcmp(mode, "threads") == 0 && argc > 3)
        return run_threads(base, atoi(argv[3]), argc > 4 ? atol(argv[4]) : 20000);
    if ((strcmp(mode, "async") == 0 || strcmp(mode, "async-chain") == 0) && argc > 3)
        return run_async(base, atol(argv[3]), argc > 4 ? atol(argv[4]) : 20000, ASYNC_CHAIN);
    if (strcmp(mode, "async-wait") == 0 && argc > 3)
        return run_async(base, atol(argv[3]), argc > 4 ? atol(argv[4]) : 20000, ASYNC_WAIT);
    if (strcmp(mode, "async-drv") == 0 && argc > 3)
        return run_async(base, atol(argv[3]), argc > 4 ? atol(argv[4]) : 20000, ASYNC_DRV);
    if (strcmp(mode, "extend") == 0 && argc > 4)
        return run_extend(base, atol(argv[3]), argv[4], argc > 5 ? atol(argv[5]) : 1000);
    if (strcmp(mode, "cold") == 0)
        return run_cold(base, t_main);
    fprintf(stderr, "%s: bad mode or arguments\n", argv[0]);
    return 2;
}
