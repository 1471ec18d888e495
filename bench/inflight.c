/*
 * inflight.c - how libchatbotkit copes with thousands of async session
 *              creations in flight at once.
 *
 * Starts N (default 10,000) cbk_conversation_session_client_create_async
 * tasks at once, each with a callback, against bench/hold_server.py (which
 * holds every response for --hold-ms), waits for all of them, and prints:
 *
 *   - the time to start all N tasks and the time until the last callback,
 *   - the peak resident set size (getrusage ru_maxrss),
 *   - the peak thread count (Threads: in /proc/self/status, sampled every
 *     10 ms by a sampler thread),
 *   - successes and failures (and the first failure's code and message),
 *   - what the server saw (GET /_stats: connections, peak open, requests),
 *   - one machine-readable line for bench/perf/run.sh:
 *       INFLIGHT prog=cbk n=.. ok=.. fail=.. rss_kb=.. start_ms=.. last_ms=..
 *                peak_threads=.. cpu_us=..   (cpu_us: user + system time of
 *                the process from the first create_async to the last callback,
 *                per task)
 *
 * inflight_curl.c is the same benchmark through libcurl's multi interface.
 *
 * Usage:
 *     inflight BASE_URL [N]        (or CHATBOTKIT_API_BASE_URL=... inflight [N])
 *
 * The process's open-file soft limit is raised to its hard limit first:
 * every request in flight over HTTP/1.1 holds its own connection.
 * Exit status: 0 when every task succeeded, 1 otherwise, 2 on usage errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "inflight_common.h"

#include "chatbotkit.h"

#define DEFAULT_N 10000
#define WAIT_LIMIT_S 300 /* bound on the whole wait */

static atomic_int g_ok, g_failed, g_done;
static atomic_int g_baseline_threads;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv;
static char g_first_error[512];
static long long g_last_callback_ms;

static int g_total;

static void on_done(void *user_data, const char *response_json, const cbk_error *error)
{
    (void)user_data;
    if (response_json != NULL && strstr(response_json, "\"token\"") != NULL) {
        atomic_fetch_add(&g_ok, 1);
    } else {
        atomic_fetch_add(&g_failed, 1);
        pthread_mutex_lock(&g_mu);
        if (g_first_error[0] == '\0')
            snprintf(g_first_error, sizeof g_first_error, "%s: %s", error ? cbk_error_code(error) : "?",
                     error ? cbk_error_message(error) : "no token in the response");
        pthread_mutex_unlock(&g_mu);
    }
    if (atomic_fetch_add(&g_done, 1) + 1 == g_total) {
        pthread_mutex_lock(&g_mu);
        g_last_callback_ms = now_ms();
        pthread_cond_broadcast(&g_cv);
        pthread_mutex_unlock(&g_mu);
    }
}

/* The PEM file at `path` as the inside of a JSON string (newlines as \n);
 * 0 when it cannot be read or does not fit. */
static int read_pem_json(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    size_t n = 0;
    int c;
    while ((c = fgetc(f)) != EOF && n + 3 < cap) {
        if (c == '\n') {
            out[n++] = '\\';
            out[n++] = 'n';
        } else if (c != '\r') {
            out[n++] = (char)c;
        }
    }
    out[n] = '\0';
    int whole = c == EOF;
    fclose(f);
    return whole;
}

int main(int argc, char **argv)
{
    const char *base_url = getenv("CHATBOTKIT_API_BASE_URL");
    int argi = 1;
    if (argc > 1 && strncmp(argv[1], "http", 4) == 0)
        base_url = argv[argi++];
    int n = argc > argi ? atoi(argv[argi]) : DEFAULT_N;
    if (base_url == NULL || n <= 0) {
        fprintf(stderr, "usage: %s BASE_URL [N]   (or CHATBOTKIT_API_BASE_URL=... %s [N])\n", argv[0], argv[0]);
        return 2;
    }
    g_total = n;

    /* Every HTTP/1.1 request in flight holds a connection: raise the soft
     * open-file limit to the hard limit. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rlim_t before = rl.rlim_cur;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            perror("setrlimit(RLIMIT_NOFILE)");
        getrlimit(RLIMIT_NOFILE, &rl);
        printf("open files: soft limit %llu -> %llu (hard %llu)\n", (unsigned long long)before,
               (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
        if (rl.rlim_cur != RLIM_INFINITY && (long long)rl.rlim_cur < (long long)n + 64)
            printf("warning: %d requests need about %d descriptors; the limit is %llu\n", n, n + 64,
                   (unsigned long long)rl.rlim_cur);
    }

    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g_cv, &ca);
    pthread_condattr_destroy(&ca);

    atomic_store(&g_baseline_threads, thread_count());
    atomic_store(&g_peak_threads, thread_count());
    pthread_t sampler;
    if (pthread_create(&sampler, NULL, sampler_main, NULL) != 0) {
        fprintf(stderr, "pthread_create failed\n");
        return 1;
    }

    /* CBK_CA_FILE: a PEM certificate to trust (the HTTP/2 server's). */
    char pem[8192] = "";
    const char *ca_file = getenv("CBK_CA_FILE");
    if (ca_file != NULL && !read_pem_json(ca_file, pem, sizeof pem)) {
        fprintf(stderr, "cannot read %s\n", ca_file);
        return 1;
    }
    char options[10240];
    snprintf(options, sizeof options, "{\"secret\":\"sk_bench\",\"baseUrl\":\"%s\"%s%s%s}", base_url,
             pem[0] ? ",\"caCertificatePem\":\"" : "", pem, pem[0] ? "\"" : "");
    cbk_error *err = NULL;
    cbk_conversation_session_client *client = cbk_conversation_session_client_new(options, &err);
    if (client == NULL) {
        fprintf(stderr, "client_new: %s\n", cbk_error_message(err));
        cbk_error_free(err);
        return 1;
    }
    /* Warm up: start the runtime and check the server answers. */
    char *warm = cbk_conversation_session_client_create(client, "warmup", NULL, &err);
    if (warm == NULL) {
        fprintf(stderr, "warm-up request failed: %s: %s\n", cbk_error_code(err), cbk_error_message(err));
        cbk_error_free(err);
        return 1;
    }
    cbk_string_free(warm);
    int threads_after_warmup = thread_count();
    struct rusage ru_before;
    getrusage(RUSAGE_SELF, &ru_before);

    cbk_task **tasks = calloc((size_t)n, sizeof *tasks);
    if (tasks == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    printf("starting %d create_async tasks against %s\n", n, base_url);
    fflush(stdout);
    long long t0 = now_ms();
    int started = 0;
    for (int i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "conv_%d", i);
        tasks[i] = cbk_conversation_session_client_create_async(client, id, NULL, on_done, NULL, &err);
        if (tasks[i] == NULL) {
            fprintf(stderr, "create_async %d: %s\n", i, cbk_error_message(err));
            cbk_error_free(err);
            err = NULL;
            break;
        }
        started++;
    }
    long long t_started = now_ms();
    if (started < n)
        g_total = started; /* never reached when all start */

    /* Wait (bounded) for every callback. */
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += WAIT_LIMIT_S;
    pthread_mutex_lock(&g_mu);
    int rc = 0;
    while (atomic_load(&g_done) < g_total && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&g_cv, &g_mu, &dl);
    long long t_last = g_last_callback_ms ? g_last_callback_ms : now_ms();
    pthread_mutex_unlock(&g_mu);
    struct rusage ru_burst;
    getrusage(RUSAGE_SELF, &ru_burst);
    int done = atomic_load(&g_done);
    if (done < g_total)
        printf("TIMEOUT: only %d of %d callbacks ran within %d s\n", done, g_total, WAIT_LIMIT_S);

    /* Every task is done now: cbk_task_wait returns at once; free them. */
    int wait_mismatch = 0;
    for (int i = 0; i < started && done >= g_total; i++) {
        cbk_error *werr = NULL;
        char *json = cbk_task_wait(tasks[i], &werr);
        if (json == NULL && werr == NULL)
            wait_mismatch++;
        cbk_string_free(json);
        cbk_error_free(werr);
    }
    for (int i = 0; i < started; i++)
        cbk_task_free(tasks[i]);
    free(tasks);

    atomic_store(&g_sampling, 0);
    pthread_join(sampler, NULL);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);

    /* What the server saw. */
    char *stats = cbk_conversation_session_client_fetch(client, "/_stats", "{\"method\":\"GET\"}", &err);
    if (stats == NULL) {
        fprintf(stderr, "GET /_stats: %s\n", cbk_error_message(err));
        cbk_error_free(err);
        err = NULL;
    }

    printf("tasks:            %d started, %d ok, %d failed\n", started, atomic_load(&g_ok), atomic_load(&g_failed));
    if (g_first_error[0] != '\0')
        printf("first failure:    %s\n", g_first_error);
    printf("start all:        %lld ms (%.1f us per create_async)\n", t_started - t0,
           started ? (double)(t_started - t0) * 1000.0 / started : 0.0);
    printf("all callbacks:    %lld ms after the first create_async\n", t_last - t0);
    printf("peak RSS:         %ld KiB (%ld KiB after warm-up)\n", ru.ru_maxrss, ru_before.ru_maxrss);
    printf("peak threads:     %d (%d before the library started, %d after warm-up)\n",
           atomic_load(&g_peak_threads), atomic_load(&g_baseline_threads), threads_after_warmup);
    printf("server stats:     %s\n", stats ? stats : "(unavailable)");
    if (wait_mismatch)
        printf("cbk_task_wait gave neither a result nor an error for %d tasks\n", wait_mismatch);
    cbk_string_free(stats);
    double cpu_us = (double)(ru_burst.ru_utime.tv_sec + ru_burst.ru_stime.tv_sec - ru_before.ru_utime.tv_sec -
                             ru_before.ru_stime.tv_sec) * 1e6 +
                    (double)(ru_burst.ru_utime.tv_usec + ru_burst.ru_stime.tv_usec - ru_before.ru_utime.tv_usec -
                             ru_before.ru_stime.tv_usec);
    printf("INFLIGHT prog=cbk n=%d ok=%d fail=%d rss_kb=%ld start_ms=%lld last_ms=%lld peak_threads=%d cpu_us=%.1f\n",
           n, atomic_load(&g_ok), n - atomic_load(&g_ok), ru.ru_maxrss, t_started - t0, t_last - t0,
           atomic_load(&g_peak_threads), started ? cpu_us / started : 0.0);
    fflush(stdout);
    int fds_done = fd_count();
    cbk_conversation_session_client_free(client);
    struct timespec settle = { 0, 500 * 1000000L };
    nanosleep(&settle, NULL);
    printf("open fds:         %d after all callbacks (idle pooled connections), %d 500 ms after the client was freed\n",
           fds_done, fd_count());
    return (started == n && atomic_load(&g_ok) == n && wait_mismatch == 0) ? 0 : 1;
}
