/*
 * common.h - helpers shared by curl_bench.c and cbk_bench.c (header-only).
 *
 *   now_ns()           CLOCK_MONOTONIC in nanoseconds
 *   peak_rss_kb()      getrusage(RUSAGE_SELF).ru_maxrss (KiB on Linux)
 *   cpu_ns()           user + system time of the whole process (every thread)
 *   raise_nofile()     soft open-file limit -> hard limit
 *   http_get_raw()     one GET over a fresh TCP connection (Connection: close),
 *                      used to read nginx's stub_status without libcurl
 *   stub_accepts()     the "accepts" counter of nginx's stub_status page
 *   print_result()     the one machine-readable line each run prints:
 *     RESULT prog=.. mode=.. param=.. calls=.. secs=.. cps=.. us=.. cpu_us=.. rss_kb=.. ok=.. fail=..
 *     (us: wall time per call; csw: the process's context switches per
 *     call over the timed phase; cpu_us: the process's user + system time
 *     over the same timed phase, per call)
 *   callgrind markers  CG_DUMP("name"): a no-op outside valgrind
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define CG_DUMP(name) CALLGRIND_DUMP_STATS_AT(name)
#endif
#endif
#ifndef CG_DUMP
#define CG_DUMP(name) ((void)0)
#endif

/* Bound on any single wait inside a run (seconds); run.sh also wraps each
 * process in timeout(1). */
#define BENCH_WAIT_LIMIT_S 120

/* Pause between the calls of the new-connection checks (extend rows), so
 * that each connection is back in its pool before the next call: the check
 * is about which pool a handle uses, not about the race between a pool
 * checkout and a connection that is still finishing its previous response. */
#define CHECK_PAUSE_US 200

static inline long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline long peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* Context switches (voluntary + involuntary) of the process at the last
 * two cpu_ns() calls: the timed phase's count, for print_result. */
static long long csw_prev, csw_last;

static inline long long cpu_ns(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    csw_prev = csw_last;
    csw_last = (long long)ru.ru_nvcsw + ru.ru_nivcsw;
    return ((long long)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
           ((long long)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
}

static inline void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static inline void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static inline long env_long(const char *name, long dflt)
{
    const char *v = getenv(name);
    return (v && *v) ? strtol(v, NULL, 10) : dflt;
}

/* Parse "http://127.0.0.1:PORT[/path]" into host, port and path. Only
 * numeric IPv4 hosts: the benchmarks only ever talk to 127.0.0.1. */
static inline int parse_url(const char *url, char host[64], int *port, const char **path)
{
    const char *p = url;
    if (strncmp(p, "http://", 7) != 0)
        return -1;
    p += 7;
    const char *colon = strchr(p, ':');
    const char *slash = strchr(p, '/');
    if (colon == NULL || (slash && slash < colon) || colon - p >= 63)
        return -1;
    memcpy(host, p, (size_t)(colon - p));
    host[colon - p] = '\0';
    *port = atoi(colon + 1);
    *path = slash ? slash : "/";
    return *port > 0 ? 0 : -1;
}

/* GET url over a new connection; the response (headers and body) goes into
 * buf. Returns the number of bytes read, -1 on failure. */
static inline int http_get_raw(const char *url, char *buf, size_t cap)
{
    char host[64];
    int port;
    const char *path;
    if (parse_url(url, host, &port, &path) != 0)
        return -1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = { 10, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n", path, host, port);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    size_t got = 0;
    for (;;) {
        ssize_t r = read(fd, buf + got, cap - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
        if (got >= cap - 1)
            break;
    }
    buf[got] = '\0';
    close(fd);
    return (int)got;
}

/* nginx stub_status:
 *   Active connections: 2
 *   server accepts handled requests
 *    17 17 20017
 *   Reading: 0 Writing: 1 Waiting: 1
 * Returns "accepts" (which counts the status request's own connection),
 * -1 on failure; *active gets "Active connections" when not NULL. */
static inline long stub_accepts(const char *status_url, long *active)
{
    char buf[2048];
    if (http_get_raw(status_url, buf, sizeof buf) <= 0)
        return -1;
    const char *a = strstr(buf, "Active connections:");
    const char *h = strstr(buf, "requests");
    if (a == NULL || h == NULL)
        return -1;
    if (active)
        *active = strtol(a + 19, NULL, 10);
    return strtol(h + 8, NULL, 10);
}

/* ns: wall time of the timed phase; cpu: cpu_ns() spent over that phase. */
static inline void print_result(const char *prog, const char *mode, long param, long calls, long long ns,
                                long long cpu, long ok, long fail, const char *extra)
{
    double secs = (double)ns / 1e9;
    printf("RESULT prog=%s mode=%s param=%ld calls=%ld secs=%.4f cps=%.1f us=%.2f cpu_us=%.2f rss_kb=%ld ok=%ld "
           "fail=%ld csw=%.3f%s%s\n",
           prog, mode, param, calls, secs, secs > 0 ? (double)calls / secs : 0.0,
           calls > 0 ? (double)ns / 1e3 / (double)calls : 0.0, calls > 0 ? (double)cpu / 1e3 / (double)calls : 0.0,
           peak_rss_kb(), ok, fail, calls > 0 ? (double)(csw_last - csw_prev) / (double)calls : 0.0,
           extra ? " " : "", extra ? extra : "");
    fflush(stdout);
}

/* Warm-up size for a run of n timed calls: a tenth, between 100 and 2000. */
static inline long warmup_calls(long n)
{
    long w = n / 10;
    return w < 100 ? 100 : (w > 2000 ? 2000 : w);
}

#endif
