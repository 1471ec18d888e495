/*
 * curl_bench.c - the libcurl baseline of the performance benchmark.
 *
 * The same requests as libchatbotkit sends (POST, body "{}", authorization,
 * content-type and cache-control headers) to the same nginx, the way a
 * careful libcurl program would send them: handles reused (keep-alive), one
 * body buffer per handle, the status and the body checked on every call.
 *
 * Usage (one mode per process; each prints one RESULT line, see common.h):
 *   curl_bench seq     BASE_URL N          one easy handle, N sequential POSTs
 *   curl_bench threads BASE_URL T N        T threads, one easy handle each, N in all
 *   curl_bench async   BASE_URL C N        curl_multi with C easy handles in
 *                                          flight, re-added as they finish (the
 *                                          baseline of every libchatbotkit async
 *                                          pattern: a multi loop is already one
 *                                          host thread that waits and restarts)
 *   curl_bench extend  BASE_URL N STATUS_URL D
 *                                          the nearest analogue of extend:
 *                                          curl_easy_duphandle + a new header
 *                                          list + cleanup, N times (timed); then
 *                                          the new-connection check with D
 *                                          duplicates sharing the parent's
 *                                          connection cache (CURLSH)
 *   curl_bench cold    BASE_URL            time from main() (and from exec, when
 *                                          run by coldrun) to the first session
 *   curl_bench status  STATUS_URL          print nginx's stub_status (exit 0
 *                                          when it answered)
 *   curl_bench version                     print libcurl's version (where
 *                                          curl-config is not installed)
 */
#include "common.h"

#include <curl/curl.h>
#include <pthread.h>

#define PATH "/api/v1/conversation/cnv_bench/session/create"
#define BODY_CAP 4096

struct conn {
    CURL *h;
    size_t len;
    char body[BODY_CAP];
};

static char g_url[512];
static struct curl_slist *g_headers;

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
    struct conn *c = ud;
    size_t n = size * nmemb;
    if (c->len + n >= BODY_CAP)
        return 0; /* far larger than any session: an error */
    memcpy(c->body + c->len, data, n);
    c->len += n;
    c->body[c->len] = '\0';
    return n;
}

static struct curl_slist *base_headers(void)
{
    struct curl_slist *l = NULL;
    l = curl_slist_append(l, "cache-control: max-age=0");
    l = curl_slist_append(l, "authorization: Bearer sk_bench_0123456789");
    l = curl_slist_append(l, "content-type: application/json");
    return l;
}

static void setup(struct conn *c)
{
    c->h = curl_easy_init();
    if (c->h == NULL)
        die("curl_easy_init");
    curl_easy_setopt(c->h, CURLOPT_URL, g_url);
    curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, g_headers);
    curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, "{}");
    curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE, 2L);
    curl_easy_setopt(c->h, CURLOPT_USERAGENT, "curl-bench/1.0");
    curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c->h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(c->h, CURLOPT_PRIVATE, c);
    curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->h, CURLOPT_PROXY, ""); /* never a proxy from the environment */
}

static int check(struct conn *c, CURLcode rc)
{
    static int reported;
    long code = 0;
    curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
    int ok = rc == CURLE_OK && code == 200 && strstr(c->body, "\"token\"") != NULL;
    if (!ok && !reported) {
        reported = 1;
        fprintf(stderr, "request failed: %s, HTTP %ld, body %.200s\n", curl_easy_strerror(rc), code, c->body);
    }
    return ok;
}

static int perform_one(struct conn *c)
{
    c->len = 0;
    c->body[0] = '\0';
    return check(c, curl_easy_perform(c->h));
}

static void init(const char *base)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        die("curl_global_init");
    snprintf(g_url, sizeof g_url, "%s%s", base, PATH);
    g_headers = base_headers();
}

/* ---- seq ------------------------------------------------------------- */

static int run_seq(const char *base, long n)
{
    init(base);
    struct conn *c = calloc(1, sizeof *c);
    setup(c);
    long w = warmup_calls(n);
    for (long i = 0; i < w; i++)
        perform_one(c);
    const char *status_url = getenv("BENCH_STATUS_URL");
    long a0 = status_url ? stub_accepts(status_url, NULL) : -1;
    CG_DUMP("startup+warmup");
    long ok = 0;
    long long c0 = cpu_ns(), t0 = now_ns();
    for (long i = 0; i < n; i++)
        ok += perform_one(c);
    long long t1 = now_ns(), c1 = cpu_ns();
    CG_DUMP("timed-loop");
    long a1 = status_url ? stub_accepts(status_url, NULL) : -1;
    char extra[64];
    snprintf(extra, sizeof extra, "new_conns=%ld", a0 >= 0 && a1 >= 0 ? a1 - a0 - 1 : -1);
    print_result("curl", "seq", 1, n, t1 - t0, c1 - c0, ok, n - ok, extra);
    curl_easy_cleanup(c->h);
    free(c);
    return ok == n ? 0 : 1;
}

/* ---- threads ---------------------------------------------------------- */

static pthread_barrier_t g_barrier;

struct thr {
    pthread_t tid;
    long n, ok;
    struct conn *c;
};

static void *thread_main(void *arg)
{
    struct thr *t = arg;
    for (int i = 0; i < 20; i++) /* warm-up: this handle's connection */
        perform_one(t->c);
    pthread_barrier_wait(&g_barrier); /* warmed up */
    pthread_barrier_wait(&g_barrier); /* go */
    for (long i = 0; i < t->n; i++)
        t->ok += perform_one(t->c);
    return NULL;
}

static int run_threads(const char *base, int nthreads, long n)
{
    init(base);
    struct thr *ts = calloc((size_t)nthreads, sizeof *ts);
    pthread_barrier_init(&g_barrier, NULL, (unsigned)nthreads + 1);
    for (int i = 0; i < nthreads; i++) {
        ts[i].n = n / nthreads + (i < n % nthreads ? 1 : 0);
        ts[i].c = calloc(1, sizeof *ts[i].c);
        setup(ts[i].c);
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
    print_result("curl", "threads", nthreads, n, t1 - t0, c1 - c0, ok, n - ok, extra);
    for (int i = 0; i < nthreads; i++) {
        curl_easy_cleanup(ts[i].c->h);
        free(ts[i].c);
    }
    free(ts);
    return ok == n ? 0 : 1;
}

/* ---- async (multi) ------------------------------------------------------- */

static long long multi_phase(CURLM *m, struct conn *cs, long c, long total, long *ok_out)
{
    long started = 0, done = 0, ok = 0;
    long long t0 = now_ns(), deadline = t0 + (long long)BENCH_WAIT_LIMIT_S * 1000000000LL;
    for (long i = 0; i < c && started < total; i++, started++) {
        cs[i].len = 0;
        cs[i].body[0] = '\0';
        curl_multi_add_handle(m, cs[i].h);
    }
    while (done < total) {
        int running = 0;
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int queued;
        while ((msg = curl_multi_info_read(m, &queued)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            CURL *h = msg->easy_handle;
            CURLcode rc = msg->data.result;
            struct conn *cn = NULL;
            curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&cn);
            ok += check(cn, rc);
            done++;
            curl_multi_remove_handle(m, h);
            if (started < total) {
                cn->len = 0;
                cn->body[0] = '\0';
                curl_multi_add_handle(m, h);
                started++;
            }
        }
        if (done >= total)
            break;
        if (now_ns() > deadline) {
            fprintf(stderr, "timeout: %ld of %ld transfers after %d s\n", done, total, BENCH_WAIT_LIMIT_S);
            exit(1);
        }
        curl_multi_poll(m, NULL, 0, 1000, NULL);
    }
    *ok_out = ok;
    return now_ns() - t0;
}

static int run_async(const char *base, long c, long n)
{
    raise_nofile();
    init(base);
    CURLM *m = curl_multi_init();
    struct conn *cs = calloc((size_t)c, sizeof *cs);
    for (long i = 0; i < c; i++)
        setup(&cs[i]);
    long ok = 0;
    long w = warmup_calls(n);
    if (w < 2 * c)
        w = 2 * c; /* opens the C connections */
    multi_phase(m, cs, c, w, &ok);
    const char *status_url = getenv("BENCH_STATUS_URL");
    long a0 = status_url ? stub_accepts(status_url, NULL) : -1;
    long long c0 = cpu_ns();
    long long ns = multi_phase(m, cs, c, n, &ok);
    long long c1 = cpu_ns();
    long a1 = status_url ? stub_accepts(status_url, NULL) : -1;
    char extra[64];
    snprintf(extra, sizeof extra, "new_conns=%ld", a0 >= 0 && a1 >= 0 ? a1 - a0 - 1 : -1);
    print_result("curl", "async", c, n, ns, c1 - c0, ok, n - ok, extra);
    for (long i = 0; i < c; i++)
        curl_easy_cleanup(cs[i].h);
    curl_multi_cleanup(m);
    free(cs);
    return ok == n ? 0 : 1;
}

/* ---- extend (duphandle) -------------------------------------------------- */

static int run_extend(const char *base, long n, const char *status_url, long derived)
{
    init(base);
    CURLSH *sh = curl_share_init();
    curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    struct conn *c = calloc(1, sizeof *c);
    setup(c);
    curl_easy_setopt(c->h, CURLOPT_SHARE, sh);
    perform_one(c);
    long long t0 = 0, c0 = 0;
    for (int pass = 0; pass < 2; pass++) { /* warm-up, then timed */
        long count = pass ? n : 1000;
        if (pass) {
            c0 = cpu_ns();
            t0 = now_ns();
        }
        for (long i = 0; i < count; i++) {
            CURL *d = curl_easy_duphandle(c->h);
            struct curl_slist *l = curl_slist_append(base_headers(), "x-a: 1");
            curl_easy_setopt(d, CURLOPT_SHARE, sh); /* a duplicate does not inherit it */
            curl_easy_setopt(d, CURLOPT_HTTPHEADER, l);
            curl_easy_cleanup(d);
            curl_slist_free_all(l);
        }
    }
    long long t1 = now_ns(), c1 = cpu_ns();

    long a0 = stub_accepts(status_url, NULL);
    long parent_ok = 0;
    for (int i = 0; i < 100; i++) {
        parent_ok += perform_one(c);
        usleep(CHECK_PAUSE_US);
    }
    long a1 = stub_accepts(status_url, NULL);
    long derived_ok = 0;
    struct conn *dc = calloc(1, sizeof *dc);
    for (long i = 0; i < derived; i++) {
        dc->h = curl_easy_duphandle(c->h);
        struct curl_slist *l = curl_slist_append(base_headers(), "x-a: 1");
        curl_easy_setopt(dc->h, CURLOPT_SHARE, sh);
        curl_easy_setopt(dc->h, CURLOPT_HTTPHEADER, l);
        curl_easy_setopt(dc->h, CURLOPT_WRITEDATA, dc);
        curl_easy_setopt(dc->h, CURLOPT_PRIVATE, dc);
        derived_ok += perform_one(dc);
        usleep(CHECK_PAUSE_US);
        curl_easy_cleanup(dc->h);
        curl_slist_free_all(l);
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
    print_result("curl", "extend", 1, n, t1 - t0, c1 - c0, n, 0, extra);
    curl_easy_cleanup(c->h);
    curl_share_cleanup(sh);
    free(c);
    free(dc);
    return (parent_ok == 100 && derived_ok == derived) ? 0 : 1;
}

/* ---- cold ------------------------------------------------------------------ */

static int run_cold(const char *base, long long t_main)
{
    init(base);
    struct conn *c = calloc(1, sizeof *c);
    setup(c);
    int ok = perform_one(c);
    long long t1 = now_ns();
    long long t0_exec = (long long)env_long("BENCH_EXEC_NS", 0);
    char extra[160];
    snprintf(extra, sizeof extra, "main_to_first_us=%.1f exec_to_first_us=%.1f", (double)(t1 - t_main) / 1e3,
             t0_exec > 0 ? (double)(t1 - t0_exec) / 1e3 : -1.0);
    print_result("curl", "cold", 1, 1, t1 - t_main, cpu_ns(), ok, !ok, extra);
    curl_easy_cleanup(c->h);
    free(c);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    long long t_main = now_ns();
    if (argc == 2 && strcmp(argv[1], "version") == 0) {
        puts(curl_version_info(CURLVERSION_NOW)->version);
        return 0;
    }
    if (argc < 3) {
        fprintf(stderr, "usage: %s seq|threads|async|extend|cold BASE_URL ARGS... | status STATUS_URL | version\n",
                argv[0]);
        return 2;
    }
    const char *mode = argv[1], *base = argv[2];
    if (strcmp(mode, "seq") == 0)
        return run_seq(base, argc > 3 ? atol(argv[3]) : 20000);
    if (strcmp(mode, "threads") == 0 && argc > 3)
        return run_threads(base, atoi(argv[3]), argc > 4 ? atol(argv[4]) : 20000);
    if (strcmp(mode, "async") == 0 && argc > 3)
        return run_async(base, atol(argv[3]), argc > 4 ? atol(argv[4]) : 20000);
    if (strcmp(mode, "extend") == 0 && argc > 4)
        return run_extend(base, atol(argv[3]), argv[4], argc > 5 ? atol(argv[5]) : 1000);
    if (strcmp(mode, "cold") == 0)
        return run_cold(base, t_main);
    if (strcmp(mode, "status") == 0) {
        char buf[2048];
        if (http_get_raw(base, buf, sizeof buf) <= 0 || strstr(buf, "Active connections") == NULL)
            return 1;
        fputs(buf, stdout);
        return 0;
    }
    fprintf(stderr, "%s: bad mode or arguments\n", argv[0]);
    return 2;
}
