/*
 * inflight_curl.c - inflight.c through libcurl: N session creations in
 *                   flight at once on one curl_multi handle.
 *
 * The libcurl counterpart of inflight.c, for its peak RSS: the same N
 * (default 10,000) POSTs (body "{}", authorization, content-type and
 * cache-control headers) against bench/hold_server.py, all added to one
 * multi handle at once, one easy handle each (HTTP/1.1 holds a connection
 * per request in flight). It is driven the way libcurl's documentation
 * recommends for thousands of transfers: curl_multi_socket_action() with
 * epoll, so no call walks every transfer. It prints the same lines as
 * inflight.c, ending with
 *
 *   INFLIGHT prog=curl n=.. ok=.. fail=.. rss_kb=.. start_ms=.. last_ms=..
 *            peak_threads=.. cpu_us=..
 *
 * Usage:
 *     inflight_curl BASE_URL [N]   (or CHATBOTKIT_API_BASE_URL=... inflight_curl [N])
 *
 * The open-file soft limit is raised to its hard limit first, as in
 * inflight.c. Exit status: 0 when every request succeeded, 1 otherwise, 2 on
 * usage errors.
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "inflight_common.h"

#define DEFAULT_N 10000
#define WAIT_LIMIT_S 300 /* bound on the whole wait, as inflight.c */
#define PATH "/api/v1/conversation/conv/session/create"
#define BODY_CAP 256 /* a session is about 90 bytes */

struct req {
    CURL *h;
    size_t len;
    char body[BODY_CAP];
};

static atomic_int g_baseline_threads;
static int g_epoll;
static long long g_timer_due_ms = -1; /* libcurl's timer: when to call it, -1 for none */

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
    struct req *r = ud;
    size_t n = size * nmemb;
    if (r->len + n >= BODY_CAP)
        return 0; /* far larger than a session: an error */
    memcpy(r->body + r->len, data, n);
    r->len += n;
    r->body[r->len] = '\0';
    return n;
}

/* CURLMOPT_SOCKETFUNCTION: mirror libcurl's interest in each socket into
 * the epoll set. MOD first: a socket libcurl already told us about is the
 * common case. */
static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)e;
    (void)userp;
    (void)socketp;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(g_epoll, EPOLL_CTL_DEL, s, NULL); /* may already be closed: ignored */
        return 0;
    }
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.data.fd = s;
    ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
    if (epoll_ctl(g_epoll, EPOLL_CTL_MOD, s, &ev) != 0 && errno == ENOENT &&
        epoll_ctl(g_epoll, EPOLL_CTL_ADD, s, &ev) != 0)
        perror("epoll_ctl(ADD)");
    return 0;
}

static int on_timer(CURLM *m, long timeout_ms, void *userp)
{
    (void)m;
    (void)userp;
    g_timer_due_ms = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    return 0;
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

    atomic_store(&g_baseline_threads, thread_count());
    atomic_store(&g_peak_threads, thread_count());
    pthread_t sampler;
    if (pthread_create(&sampler, NULL, sampler_main, NULL) != 0) {
        fprintf(stderr, "pthread_create failed\n");
        return 1;
    }

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "curl_global_init failed\n");
        return 1;
    }
    char url[512], stats_url[512];
    snprintf(url, sizeof url, "%s%s", base_url, PATH);
    snprintf(stats_url, sizeof stats_url, "%s/_stats", base_url);
    struct curl_slist *headers = NULL;
    headers = curl_slist_append(headers, "cache-control: max-age=0");
    headers = curl_slist_append(headers, "authorization: Bearer sk_bench");
    headers = curl_slist_append(headers, "content-type: application/json");

    g_epoll = epoll_create1(EPOLL_CLOEXEC);
    if (g_epoll < 0) {
        perror("epoll_create1");
        return 1;
    }
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_timer);

    /* Warm up, as inflight.c does: one request on a handle of its own,
     * through the same multi handle, so libcurl's first-use costs are not in
     * the burst. */
    struct req *reqs = calloc((size_t)n + 1, sizeof *reqs);
    if (reqs == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    for (int i = 0; i <= n; i++) {
        struct req *r = &reqs[i];
        r->h = curl_easy_init();
        if (r->h == NULL) {
            fprintf(stderr, "curl_easy_init failed at %d\n", i);
            return 1;
        }
        curl_easy_setopt(r->h, CURLOPT_URL, url);
        curl_easy_setopt(r->h, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(r->h, CURLOPT_POSTFIELDS, "{}");
        curl_easy_setopt(r->h, CURLOPT_POSTFIELDSIZE, 2L);
        curl_easy_setopt(r->h, CURLOPT_USERAGENT, "curl-bench/1.0");
        curl_easy_setopt(r->h, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(r->h, CURLOPT_WRITEDATA, r);
        curl_easy_setopt(r->h, CURLOPT_PRIVATE, r);
        curl_easy_setopt(r->h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(r->h, CURLOPT_PROXY, "");
    }

    int ok = 0, failed = 0, done = 0, target = 1;
    long long t0 = 0, t_started = 0, t_last = 0;
    char first_error[512] = "";
    struct rusage ru_before;
    memset(&ru_before, 0, sizeof ru_before);
    int threads_after_warmup = 0;
    struct epoll_event evs[1024];
    for (int phase = 0; phase < 2; phase++) {
        if (phase == 1) {
            threads_after_warmup = thread_count();
            getrusage(RUSAGE_SELF, &ru_before);
            printf("starting %d curl_multi transfers against %s\n", n, base_url);
            fflush(stdout);
            ok = failed = done = 0;
            target = n;
        }
        t0 = now_ms();
        for (int i = 0; i < target; i++)
            curl_multi_add_handle(m, reqs[phase ? i + 1 : 0].h);
        t_started = now_ms();
        int running = 0;
        long long deadline = t0 + WAIT_LIMIT_S * 1000LL;
        curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running);
        while (done < target && now_ms() < deadline) {
            int wait = 1000;
            if (g_timer_due_ms >= 0) {
                long long left = g_timer_due_ms - now_ms();
                wait = left < 0 ? 0 : (left < wait ? (int)left : wait);
            }
            int k = epoll_wait(g_epoll, evs, (int)(sizeof evs / sizeof evs[0]), wait);
            if (k < 0 && errno != EINTR) {
                perror("epoll_wait");
                break;
            }
            for (int j = 0; j < k; j++) {
                int flags = ((evs[j].events & EPOLLIN) ? CURL_CSELECT_IN : 0) |
                            ((evs[j].events & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
                            ((evs[j].events & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
                curl_multi_socket_action(m, evs[j].data.fd, flags, &running);
            }
            if (g_timer_due_ms >= 0 && now_ms() >= g_timer_due_ms) {
                g_timer_due_ms = -1;
                curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running);
            }
            CURLMsg *msg;
            int queued;
            while ((msg = curl_multi_info_read(m, &queued)) != NULL) {
                if (msg->msg != CURLMSG_DONE)
                    continue;
                struct req *r = NULL;
                long code = 0;
                CURLcode rc = msg->data.result;
                CURL *h = msg->easy_handle;
                curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&r);
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
                if (rc == CURLE_OK && code == 200 && strstr(r->body, "\"token\"") != NULL) {
                    ok++;
                } else {
                    failed++;
                    if (first_error[0] == '\0')
                        snprintf(first_error, sizeof first_error, "%s, HTTP %ld, body %.200s", curl_easy_strerror(rc),
                                 code, r->body);
                }
                curl_multi_remove_handle(m, h);
                if (phase == 1) { /* as inflight.c frees its tasks */
                    curl_easy_cleanup(h);
                    r->h = NULL;
                }
                if (++done == target)
                    t_last = now_ms();
            }
        }
        if (done < target) {
            printf("TIMEOUT: only %d of %d transfers finished within %d s\n", done, target, WAIT_LIMIT_S);
            t_last = now_ms();
            break;
        }
        if (phase == 0 && ok != 1) {
            fprintf(stderr, "warm-up request failed: %s\n", first_error);
            return 1;
        }
    }
    struct rusage ru_burst;
    getrusage(RUSAGE_SELF, &ru_burst);
    atomic_store(&g_sampling, 0);
    pthread_join(sampler, NULL);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);

    /* What the server saw, on the warm-up's handle (outside the multi
     * handle, so over a connection of its own). */
    struct req *w = &reqs[0];
    w->len = 0;
    w->body[0] = '\0';
    curl_easy_setopt(w->h, CURLOPT_URL, stats_url);
    curl_easy_setopt(w->h, CURLOPT_HTTPGET, 1L);
    CURLcode src = curl_easy_perform(w->h);

    printf("tasks:            %d started, %d ok, %d failed\n", n, ok, failed);
    if (first_error[0] != '\0')
        printf("first failure:    %s\n", first_error);
    printf("start all:        %lld ms (%.1f us per curl_multi_add_handle)\n", t_started - t0,
           (double)(t_started - t0) * 1000.0 / n);
    printf("all callbacks:    %lld ms after the first curl_multi_add_handle\n", t_last - t0);
    printf("peak RSS:         %ld KiB (%ld KiB after warm-up, %d easy handles made)\n", ru.ru_maxrss,
           ru_before.ru_maxrss, n + 1);
    printf("peak threads:     %d (%d before libcurl started, %d after warm-up)\n", atomic_load(&g_peak_threads),
           atomic_load(&g_baseline_threads), threads_after_warmup);
    printf("server stats:     %s\n", src == CURLE_OK ? w->body : "(unavailable)");
    double cpu_us = (double)(ru_burst.ru_utime.tv_sec + ru_burst.ru_stime.tv_sec - ru_before.ru_utime.tv_sec -
                             ru_before.ru_stime.tv_sec) * 1e6 +
                    (double)(ru_burst.ru_utime.tv_usec + ru_burst.ru_stime.tv_usec - ru_before.ru_utime.tv_usec -
                             ru_before.ru_stime.tv_usec);
    printf("INFLIGHT prog=curl n=%d ok=%d fail=%d rss_kb=%ld start_ms=%lld last_ms=%lld peak_threads=%d cpu_us=%.1f\n",
           n, ok, n - ok, ru.ru_maxrss, t_started - t0, t_last - t0, atomic_load(&g_peak_threads),
           cpu_us / n);
    fflush(stdout);

    int fds_done = fd_count();
    for (int i = 0; i <= n; i++) /* after a timeout, the unfinished ones too */
        if (reqs[i].h != NULL) {
            curl_multi_remove_handle(m, reqs[i].h);
            curl_easy_cleanup(reqs[i].h);
        }
    curl_multi_cleanup(m);
    close(g_epoll);
    curl_slist_free_all(headers);
    free(reqs);
    curl_global_cleanup();
    printf("open fds:         %d after all transfers (idle cached connections), %d after curl_multi_cleanup\n",
           fds_done, fd_count());
    return (ok == n) ? 0 : 1;
}
