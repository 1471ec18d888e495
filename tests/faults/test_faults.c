/*
 * test_faults.c - the server fault matrix: how cbk_conversation_session_client_create
 * behaves against a misbehaving server (fault_server.py).
 *
 * Table-driven: each row of ROWS names a scenario (the conversation id, which
 * selects the server's behaviour), the client options (a template, see
 * expand()), and what the call must give: cbk_status, code, HTTP status and
 * the number of attempts. The attempts are checked twice: as the server
 * counted them (requests on the scenario's route, or connections for the
 * rows where the server cannot see the path) and as the library's log
 * reported them (the highest "attempt N"). Some rows add a check of their
 * own (timing, what reached a redirect target, how much of a huge body was
 * sent).
 *
 * Environment (run.sh sets both):
 *   FAULTS_PORT_FILE     the server's port file: "name port" lines for
 *                        main, other, tls, tls-leaf, closed
 *   FAULTS_CA_FILE       the tls listener's self-signed certificate (PEM),
 *                        as `openssl req -x509` makes it (CA:TRUE)
 *   FAULTS_LEAF_CA_FILE  the tls-leaf listener's one (CA:FALSE)
 *
 * Prints "ok N - name" / "not ok N - name" per row and "P passed, F failed";
 * exits nonzero when a row failed.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "chatbotkit.h"
#include "../audit.h"

#define SECRET "sk_faults_SECRET_q7ZtW3"

/* ------------------------------------------------------------------ */
/* The rows                                                            */

struct row;
typedef void (*row_check)(const struct row *row, long elapsed_ms);

struct row {
    const char *name;
    const char *scenario;  /* the conversation id: the server's behaviour */
    const char *counter;   /* the server counter to read; NULL: `scenario`; "": none */
    const char *options;   /* options JSON template, see expand() */
    cbk_status status;
    const char *code;      /* NULL for CBK_OK */
    int http_status;
    int attempts;
    row_check check;       /* optional extra check */
};

static void check_waited_retry_after(const struct row *row, long elapsed_ms);
static void check_refused_early(const struct row *row, long elapsed_ms);
static void check_auth_kept(const struct row *row, long elapsed_ms);
static void check_auth_dropped(const struct row *row, long elapsed_ms);

/* Small retries, so attempts are countable and rows are quick. */
#define BASE(url) "{\"secret\":\"" SECRET "\",\"baseUrl\":\"" url "\",\"retries\":1,\"retryDelay\":10"

static const struct row ROWS[] = {
    /* Baseline: the server and the harness work. */
    {"baseline 200 JSON", "ok", NULL, BASE("{main}") "}",
     CBK_OK, NULL, 0, 1, NULL},

    /* Network failures before the response headers: retried. */
    {"reset before the status line (RST) is a network error, retried", "reset-before-status", NULL,
     BASE("{main}") "}", CBK_ERROR_NETWORK, "NETWORK_ERROR", 0, 2, NULL},
    {"close before the status line (FIN, empty reply) is a network error, retried",
     "close-before-status", NULL, BASE("{main}") "}", CBK_ERROR_NETWORK, "NETWORK_ERROR", 0, 2, NULL},
    {"connection refused is a network error, retried", "ok-refused", "",
     BASE("{closed}") "}", CBK_ERROR_NETWORK, "NETWORK_ERROR", 0, 2, NULL},

    /* Failures while reading the body: the HTTP status kept, not retried. */
    {"reset mid-body (content-length 1000, 10 bytes, RST)", "reset-mid-body", NULL,
     BASE("{main}") "}", CBK_ERROR_NETWORK, "NETWORK_ERROR", 200, 1, NULL},
    {"body shorter than its content-length, then FIN", "short-body", NULL,
     BASE("{main}") "}", CBK_ERROR_NETWORK, "NETWORK_ERROR", 200, 1, NULL},
    {"invalid chunked encoding", "bad-chunked", NULL,
     BASE("{main}") "}", CBK_ERROR_NETWORK, "NETWORK_ERROR", 200, 1, NULL},

    /* Timeouts: retried only with retryTimeout. */
    {"headers trickled past timeout 300 ms, retryTimeout false", "trickle-headers-noretry", NULL,
     BASE("{main}") ",\"timeout\":300,\"retryTimeout\":false}",
     CBK_ERROR_TIMEOUT, "TimeoutError", 0, 1, NULL},
    {"headers trickled past timeout 300 ms, retryTimeout true", "trickle-headers-retry", NULL,
     BASE("{main}") ",\"timeout\":300,\"retryTimeout\":true}",
     CBK_ERROR_TIMEOUT, "TimeoutError", 0, 2, NULL},
    {"body trickled past timeout 300 ms: a body failure, not retried", "trickle-body", NULL,
     BASE("{main}") ",\"timeout\":300,\"retryTimeout\":true}",
     CBK_ERROR_TIMEOUT, "TimeoutError", 200, 1, NULL},

    /* Bodies over maxResponseBytes: refused without being read. */
    {"content-length 10 MB over maxResponseBytes 1024, refused at once", "huge-content-length", NULL,
     BASE("{main}") ",\"maxResponseBytes\":1024}",
     CBK_ERROR_INVALID_RESPONSE, "INVALID_RESPONSE", 200, 1, check_refused_early},
    {"endless chunked body over maxResponseBytes 1024, refused early", "endless-chunked", NULL,
     BASE("{main}") ",\"maxResponseBytes\":1024}",
     CBK_ERROR_INVALID_RESPONSE, "INVALID_RESPONSE", 200, 1, check_refused_early},

    /* 2xx that is not what create returns. */
    {"invalid JSON, 200 application/json", "invalid-json", NULL, BASE("{main}") "}",
     CBK_ERROR_INVALID_RESPONSE, "INVALID_RESPONSE", 200, 1, NULL},
    {"HTML with a JSON content type", "html-json-ct", NULL, BASE("{main}") "}",
     CBK_ERROR_INVALID_RESPONSE, "INVALID_RESPONSE", 200, 1, NULL},
    {"200 JSON body without a content type", "no-content-type", NULL, BASE("{main}") "}",
     CBK_ERROR_INVALID_RESPONSE, "INVALID_RESPONSE", 200, 1, NULL},

    /* Redirects. */
    {"302 to the same origin is followed, authorization kept", "redirect-same", NULL,
     BASE("{main}") "}", CBK_OK, NULL, 0, 1, check_auth_kept},
    {"302 to another origin is followed, authorization dropped", "redirect-other", NULL,
     BASE("{main}") "}", CBK_OK, NULL, 0, 1, check_auth_dropped},

    /* TLS. */
    {"plain HTTP server behind an https: base URL", "ok-plain-behind-https", "_garbage",
     BASE("{https-main}") "}", CBK_ERROR_NETWORK, "NETWORK_ERROR", 0, 2, NULL},
    {"self-signed TLS certificate refused by default", "ok-tls-untrusted", "_tls_conn",
     BASE("{tls}") "}", CBK_ERROR_NETWORK, "NETWORK_ERROR", 0, 2, NULL},
    {"self-signed TLS certificate accepted with caCertificatePem", "ok-tls-trusted", NULL,
     BASE("{tls}") ",\"caCertificatePem\":{ca}}", CBK_OK, NULL, 0, 1, NULL},
    /* The same with a certificate marked CA:FALSE: tells a refusal of
     * caCertificatePem as such from one of a CA:TRUE end-entity certificate. */
    {"self-signed CA:FALSE TLS certificate accepted with caCertificatePem", "ok-tls-leaf", NULL,
     BASE("{tls-leaf}") ",\"caCertificatePem\":{ca-leaf}}", CBK_OK, NULL, 0, 1, NULL},

    /* Retry-After. */
    {"429 with Retry-After: 1 and retryDelay 10 waits about 1 s", "retry-after-seconds", NULL,
     BASE("{main}") "}", CBK_OK, NULL, 0, 2, check_waited_retry_after},
    {"503 with an HTTP-date Retry-After waits until that date", "retry-after-date", NULL,
     BASE("{main}") "}", CBK_OK, NULL, 0, 2, check_waited_retry_after},
    {"503 every time: the last response is the error", "always-503", NULL,
     BASE("{main}") "}", CBK_ERROR_API, "SERVICE_UNAVAILABLE", 503, 2, NULL},
};

#define NROWS ((int)(sizeof ROWS / sizeof ROWS[0]))

/* ------------------------------------------------------------------ */
/* Harness                                                             */

static int row_failed;
static int port_main, port_other, port_tls, port_tls_leaf, port_closed;
/* the certificates as JSON string literals, quotes included */
static char *ca_json, *ca_leaf_json;

static void fail(const char *fmt, ...)
{
    va_list ap;
    printf("#   ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    row_failed = 1;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Append to a growable string. */
struct buf {
    char *p;
    size_t len, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            perror("realloc");
            exit(2);
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s) { buf_add(b, s, strlen(s)); }

/* The options template with {main} {other} {https-main} {tls} {tls-leaf}
 * {closed} (base URLs) and {ca} {ca-leaf} (the certificates as JSON
 * strings) filled in.
 * The caller frees the result. */
static char *expand(const char *tmpl)
{
    struct buf b = {0};
    char tmp[64];
    const char *p = tmpl;
    while (*p) {
        const char *open = strchr(p, '{');
        const char *close = open ? strchr(open, '}') : NULL;
        if (!open || !close) {
            buf_str(&b, p);
            break;
        }
        buf_add(&b, p, (size_t)(open - p));
        size_t n = (size_t)(close - open + 1);
        if (n == 6 && !strncmp(open, "{main}", n)) {
            snprintf(tmp, sizeof tmp, "http://127.0.0.1:%d", port_main);
            buf_str(&b, tmp);
        } else if (n == 7 && !strncmp(open, "{other}", n)) {
            snprintf(tmp, sizeof tmp, "http://127.0.0.1:%d", port_other);
            buf_str(&b, tmp);
        } else if (n == 12 && !strncmp(open, "{https-main}", n)) {
            snprintf(tmp, sizeof tmp, "https://127.0.0.1:%d", port_main);
            buf_str(&b, tmp);
        } else if (n == 5 && !strncmp(open, "{tls}", n)) {
            snprintf(tmp, sizeof tmp, "https://127.0.0.1:%d", port_tls);
            buf_str(&b, tmp);
        } else if (n == 10 && !strncmp(open, "{tls-leaf}", n)) {
            snprintf(tmp, sizeof tmp, "https://127.0.0.1:%d", port_tls_leaf);
            buf_str(&b, tmp);
        } else if (n == 9 && !strncmp(open, "{ca-leaf}", n)) {
            buf_str(&b, ca_leaf_json ? ca_leaf_json : "null");
        } else if (n == 8 && !strncmp(open, "{closed}", n)) {
            snprintf(tmp, sizeof tmp, "http://127.0.0.1:%d", port_closed);
            buf_str(&b, tmp);
        } else if (n == 4 && !strncmp(open, "{ca}", n)) {
            buf_str(&b, ca_json ? ca_json : "null");
        } else {
            /* a literal brace (JSON): copy it and go on after it */
            buf_add(&b, open, 1);
            p = open + 1;
            continue;
        }
        p = close + 1;
    }
    return b.p;
}

/* ------------------------------------------------------------------ */
/* The server's control routes, over a raw socket (not the library).   */

/* Send a request to the main listener and return the response body
 * (malloc'd), or NULL. */
static char *control(const char *method, const char *target)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return NULL;
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)port_main);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return NULL;
    }
    char req[512];
    int n = snprintf(req, sizeof req,
                     "%s %s HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                     method, target);
    if (n < 0 || (size_t)n >= sizeof req || send(fd, req, (size_t)n, 0) != n) {
        close(fd);
        return NULL;
    }
    struct buf b = {0};
    char chunk[4096];
    ssize_t got;
    while ((got = recv(fd, chunk, sizeof chunk, 0)) > 0)
        buf_add(&b, chunk, (size_t)got);
    close(fd);
    char *body = b.p ? strstr(b.p, "\r\n\r\n") : NULL;
    if (!body || strncmp(b.p, "HTTP/1.1 200 ", 13) != 0) {
        free(b.p);
        return NULL;
    }
    char *out = strdup(body + 4);
    free(b.p);
    return out;
}

static long server_stat(const char *scenario, const char *key)
{
    char target[256];
    snprintf(target, sizeof target, "/_faults/stat?scenario=%s&key=%s", scenario, key);
    char *body = control("GET", target);
    if (!body)
        return -1;
    long v = strtol(body, NULL, 10);
    free(body);
    return v;
}

static int server_reset(void)
{
    char *body = control("POST", "/_faults/reset");
    int ok = body != NULL;
    free(body);
    return ok;
}

/* Wait (up to 10 s) until the server has finished handling every attempt
 * it counted for `counter`, and at least `want` of them; return the count. */
static long settled_attempts(const char *counter, int want)
{
    long attempts = -1;
    for (int i = 0; i < 200; i++) {
        attempts = server_stat(counter, "attempts");
        long done = server_stat(counter, "done");
        if (attempts >= want && done >= attempts)
            break;
        sleep_ms(50);
    }
    return attempts;
}

/* ------------------------------------------------------------------ */
/* The library's log: the highest attempt number reported.             */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_max_attempt;
static int log_secret_seen;

static void on_log(void *user_data, cbk_log_level level, const char *message)
{
    (void)user_data;
    (void)level;
    const char *a = strstr(message, " attempt ");
    pthread_mutex_lock(&log_lock);
    if (a) {
        int n = atoi(a + 9);
        if (n > log_max_attempt)
            log_max_attempt = n;
    }
    audit_line("log line", message);
    if (strstr(message, SECRET))
        log_secret_seen = 1;
    pthread_mutex_unlock(&log_lock);
}

static int log_attempts(void)
{
    pthread_mutex_lock(&log_lock);
    int n = log_max_attempt;
    pthread_mutex_unlock(&log_lock);
    return n;
}

static void log_reset(void)
{
    pthread_mutex_lock(&log_lock);
    log_max_attempt = 0;
    pthread_mutex_unlock(&log_lock);
}

/* ------------------------------------------------------------------ */
/* Extra checks                                                        */

static void check_waited_retry_after(const struct row *row, long elapsed_ms)
{
    (void)row;
    if (elapsed_ms < 900)
        fail("the retry did not wait for Retry-After: %ld ms elapsed, want >= 900", elapsed_ms);
}

static void check_refused_early(const struct row *row, long elapsed_ms)
{
    long bytes = server_stat(row->scenario, "body.bytes");
    long disconnected = server_stat(row->scenario, "body.disconnected");
    long completed = server_stat(row->scenario, "body.completed");
    printf("#   %ld ms, the server sent %ld body bytes before the client went away\n", elapsed_ms,
           bytes);
    /* A generous bound (valgrind): reading the whole body would take far
     * longer (the 10 MB one is paced to ~6 s, the chunked one is 50 MB). */
    if (elapsed_ms >= 5000)
        fail("the oversized body was not refused quickly: %ld ms", elapsed_ms);
    if (completed != 0)
        fail("the server sent the whole body (body.completed=%ld)", completed);
    if (disconnected != 1)
        fail("the server did not see the client disconnect (body.disconnected=%ld)", disconnected);
}

static void check_redirect(const struct row *row, long want_auth, long want_other)
{
    long requests = server_stat(row->scenario, "target.requests");
    long with_auth = server_stat(row->scenario, "target.with_auth");
    long other = server_stat(row->scenario, "target.other");
    if (requests != 1)
        fail("the redirect target got %ld requests, want 1", requests);
    if (other != want_other)
        fail("requests on the other origin: got %ld, want %ld", other, want_other);
    if (with_auth != want_auth)
        fail("requests with an authorization header at the redirect target: got %ld, want %ld",
             with_auth, want_auth);
}

static void check_auth_kept(const struct row *row, long elapsed_ms)
{
    (void)elapsed_ms;
    check_redirect(row, 1, 0);
}

static void check_auth_dropped(const struct row *row, long elapsed_ms)
{
    (void)elapsed_ms;
    check_redirect(row, 0, 1);
}

/* ------------------------------------------------------------------ */

static const char *status_name(cbk_status s)
{
    return cbk_status_name(s);
}

static void run_row(const struct row *row)
{
    const char *counter = row->counter ? row->counter : row->scenario;

    if (!server_reset()) {
        fail("the fault server did not answer /_faults/reset");
        return;
    }
    log_reset();

    char *options = expand(row->options);
    cbk_error *err = NULL;
    cbk_conversation_session_client *client = cbk_conversation_session_client_new(options, &err);
    free(options);
    if (!client) {
        fail("cbk_conversation_session_client_new failed: %s %s", cbk_error_code(err),
             cbk_error_message(err));
        cbk_error_free(err);
        return;
    }

    long t0 = now_ms();
    char *resp = cbk_conversation_session_client_create(client, row->scenario, "{}", &err);
    long elapsed = now_ms() - t0;

    cbk_status status = resp ? CBK_OK : cbk_error_status(err);
    const char *code = resp ? NULL : cbk_error_code(err);
    int http = resp ? 0 : cbk_error_http_status(err);

    if (status != row->status)
        fail("status: got %s, want %s", status_name(status), status_name(row->status));
    if (row->code && (!code || strcmp(code, row->code) != 0))
        fail("code: got \"%s\", want \"%s\"", code ? code : "(none)", row->code);
    if (http != row->http_status)
        fail("http status: got %d, want %d", http, row->http_status);
    if (resp) {
        if (!strstr(resp, "\"token\""))
            fail("the response has no token: %s", resp);
    } else if (err) {
        audit_line("error message", cbk_error_message(err));
        if (strstr(cbk_error_message(err), SECRET))
            fail("the error message contains the secret");
        if (row_failed)
            printf("#   error: %s %s (http %d): %s\n", status_name(status), code, http,
                   cbk_error_message(err));
    } else {
        fail("NULL result without an error");
    }

    if (*counter) {
        long attempts = settled_attempts(counter, row->attempts);
        if (attempts != row->attempts)
            fail("attempts counted by the server (%s): got %ld, want %d", counter, attempts,
                 row->attempts);
    }
    int logged = log_attempts();
    if (logged != row->attempts)
        fail("attempts reported by the library's log: got %d, want %d", logged, row->attempts);

    if (row->check)
        row->check(row, elapsed);

    cbk_string_free(resp);
    cbk_error_free(err);
    cbk_conversation_session_client_free(client);
}

static int read_ports(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char name[32];
    int port;
    while (fscanf(f, "%31s %d", name, &port) == 2) {
        if (!strcmp(name, "main"))
            port_main = port;
        else if (!strcmp(name, "other"))
            port_other = port;
        else if (!strcmp(name, "tls"))
            port_tls = port;
        else if (!strcmp(name, "tls-leaf"))
            port_tls_leaf = port;
        else if (!strcmp(name, "closed"))
            port_closed = port;
    }
    fclose(f);
    return port_main && port_other && port_tls && port_tls_leaf && port_closed;
}

/* The PEM file's text as a JSON string literal. */
static char *read_pem_json(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    struct buf b = {0};
    buf_str(&b, "\"");
    int c;
    while ((c = fgetc(f)) != EOF) {
        if (c == '\n')
            buf_str(&b, "\\n");
        else if (c == '\r')
            continue;
        else {
            char ch = (char)c;
            buf_add(&b, &ch, 1);
        }
    }
    fclose(f);
    buf_str(&b, "\"");
    return b.p;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *port_file = getenv("FAULTS_PORT_FILE");
    const char *ca_file = getenv("FAULTS_CA_FILE");
    const char *ca_leaf_file = getenv("FAULTS_LEAF_CA_FILE");
    if (!port_file || !read_ports(port_file)) {
        fprintf(stderr, "test_faults: set FAULTS_PORT_FILE to fault_server.py's port file "
                        "(with main, other, tls, tls-leaf, closed); run it through run.sh\n");
        return 2;
    }
    if (!ca_file || !(ca_json = read_pem_json(ca_file)) || !ca_leaf_file ||
        !(ca_leaf_json = read_pem_json(ca_leaf_file))) {
        fprintf(stderr, "test_faults: set FAULTS_CA_FILE and FAULTS_LEAF_CA_FILE to the TLS "
                        "listeners' certificates; run it through run.sh\n");
        free(ca_json);
        return 2;
    }

    cbk_set_log_callback(CBK_LOG_DEBUG, on_log, NULL);

    int passed = 0, failed = 0;
    for (int i = 0; i < NROWS; i++) {
        row_failed = 0;
        run_row(&ROWS[i]);
        printf("%s %d - %s\n", row_failed ? "not ok" : "ok", i + 1, ROWS[i].name);
        if (row_failed)
            failed++;
        else
            passed++;
    }

    cbk_set_log_callback(CBK_LOG_DEBUG, NULL, NULL);
    if (log_secret_seen) {
        printf("# the secret appeared in a log line\n");
        failed++;
    }
    free(ca_json);
    free(ca_leaf_json);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
