/*
 * test_badinput.c - the bad-input matrix of libchatbotkit, through the C ABI.
 *
 * Every exported function of include/chatbotkit.h is fed what a careless or
 * hostile caller could pass: NULL in each pointer argument, invalid UTF-8 in
 * each string, text that is not JSON or not an object, every option with a
 * wrong type, unknown options, `fetchFn`, unsafe ids, CR/LF and other control
 * characters in every value that becomes a header, JSON nested 10,000 deep,
 * numbers out of range, bad URLs, hosts, protocols and certificates, URLs
 * with credentials or over 64 KiB, headers that frame the message, 32,768
 * header names, the methods fetch forbids, control characters in keys (which
 * messages must show escaped), and a 10 MB request body.
 *
 * The rows are tables (arrays of structs below, plus loops over the option
 * keys); each table row runs through every function it applies to. Each
 * refused row checks:
 *   - the call returns NULL and stores an error (and also returns NULL, without
 *     crashing, when `error` is NULL);
 *   - the error's status, code (the status's own code) and HTTP status 0;
 *   - the message names the problem (the argument or the option key);
 *   - neither the message nor cbk_error_to_json() holds a secret (the
 *     stand-in's secret and LIT, a recognisable secret written into rows);
 *   - nothing reached the server: the stand-in's request log, cleared before
 *     the row (DELETE /_standin/requests), is empty after it (GET). A separate
 *     "probe" client does that; the stand-in never records /_standin/ itself.
 * Rows whose input is legal but odd (ids with '/', '?', '#', '%', controls...)
 * check instead that the request was sent once, to exactly the raw path the
 * stand-in recorded.
 *
 * Output: "ok N - row" / "not ok N - row" with "#" diagnostics, then
 * "P passed, F failed"; the exit status is nonzero when a row failed.
 *
 * Run under scripts/with-standin.sh (CHATBOTKIT_API_BASE_URL and
 * CHATBOTKIT_API_SECRET), normally under valgrind: see the Makefile.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatbotkit.h"
#include "../audit.h"

/* A recognisable secret written into options rows: it must never be quoted
 * back in a message, a JSON error or a log line. */
#define LIT "sk_badinput_LITERAL_Vq7Zr2Kd"

#define ARG CBK_ERROR_INVALID_ARGUMENT
#define JSN CBK_ERROR_INVALID_JSON

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ======================================================================== */
/* Harness                                                                  */
/* ======================================================================== */

static int n_rows, n_passed, n_failed;
static int row_failed;
static char row_label[400];
static long messages_scanned;

static const char *g_base;   /* CHATBOTKIT_API_BASE_URL */
static const char *g_secret; /* CHATBOTKIT_API_SECRET */

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) {
        printf("Bail out! out of memory\n");
        exit(2);
    }
    return p;
}

/* Every string the tables generate lives here until the end of the run. */
static char **arena;
static size_t arena_len, arena_cap;

static char *keep(char *s)
{
    if (arena_len == arena_cap) {
        arena_cap = arena_cap ? arena_cap * 2 : 256;
        char **grown = realloc(arena, arena_cap * sizeof *arena);
        if (grown == NULL) {
            printf("Bail out! out of memory\n");
            exit(2);
        }
        arena = grown;
    }
    arena[arena_len++] = s;
    return s;
}

static void arena_free(void)
{
    for (size_t i = 0; i < arena_len; i++)
        free(arena[i]);
    free(arena);
    arena = NULL;
    arena_len = arena_cap = 0;
}

/* printf into a string owned by the arena. */
static char *fmt(const char *format, ...)
{
    va_list ap, ap2;
    va_start(ap, format);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, format, ap);
    va_end(ap);
    char *s = xmalloc((size_t)n + 1);
    vsnprintf(s, (size_t)n + 1, format, ap2);
    va_end(ap2);
    return keep(s);
}

/* `s` for a row name or a diagnostic: controls and non-ASCII as \xNN, long
 * text cut with its length shown. Returns a static buffer (one of four). */
static const char *show(const char *s)
{
    static char bufs[4][200];
    static int next;
    char *out = bufs[next++ & 3];
    if (s == NULL)
        return "NULL";
    size_t len = strlen(s), o = 0;
    out[o++] = '"';
    for (size_t i = 0; i < len && o < 150; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            o += (size_t)sprintf(out + o, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            o += (size_t)sprintf(out + o, "\\x%02X", c);
        else
            out[o++] = (char)c;
    }
    out[o++] = '"';
    out[o] = '\0';
    if (len > 60 && o >= 150)
        snprintf(out + o, sizeof bufs[0] - o, "...(%zu bytes)", len);
    return out;
}

static void row_start(const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    vsnprintf(row_label, sizeof row_label, format, ap);
    va_end(ap);
    row_failed = 0;
}

static void fail(const char *format, ...)
{
    va_list ap;
    printf("#   ");
    va_start(ap, format);
    vprintf(format, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    row_failed = 1;
}

static void row_end(void)
{
    n_rows++;
    if (row_failed) {
        n_failed++;
        printf("not ok %d - %s\n", n_rows, row_label);
    } else {
        n_passed++;
        printf("ok %d - %s\n", n_rows, row_label);
    }
    fflush(stdout);
}

/* A message, code or JSON must hold no secret. */
static void check_no_secret(const char *what, const char *text)
{
    if (text == NULL)
        return;
    audit_line(what, text);
    messages_scanned++;
    if (strstr(text, LIT) != NULL || strstr(text, g_secret) != NULL)
        fail("%s contains a secret: %s", what, show(text));
}

static const char *status_name(cbk_status s)
{
    switch (s) {
    case CBK_OK: return "OK";
    case CBK_ERROR_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case CBK_ERROR_INVALID_JSON: return "INVALID_JSON";
    case CBK_ERROR_API: return "API";
    case CBK_ERROR_TIMEOUT: return "TIMEOUT";
    case CBK_ERROR_NETWORK: return "NETWORK";
    case CBK_ERROR_INVALID_RESPONSE: return "INVALID_RESPONSE";
    case CBK_ERROR_CANCELLED: return "CANCELLED";
    case CBK_ERROR_INTERNAL: return "INTERNAL";
    }
    return "?";
}

/* Checks a refusal's error and frees it. */
static void expect_error(cbk_error *err, cbk_status want, const char *names)
{
    if (err == NULL) {
        fail("no error stored (want %s naming %s)", status_name(want), names);
        return;
    }
    cbk_status got = cbk_error_status(err);
    const char *code = cbk_error_code(err);
    const char *msg = cbk_error_message(err);
    int http = cbk_error_http_status(err);
    if (got != want)
        fail("status: got %s, want %s (message %s)", status_name(got), status_name(want), show(msg));
    /* Our own failures carry the status's name as their code. */
    const char *want_code = want == CBK_ERROR_INVALID_ARGUMENT ? "INVALID_ARGUMENT" : "INVALID_JSON";
    if (code == NULL || strcmp(code, want_code) != 0)
        fail("code: got %s, want \"%s\"", show(code), want_code);
    if (http != 0)
        fail("http status: got %d, want 0", http);
    if (msg == NULL || strstr(msg, names) == NULL)
        fail("message %s does not name %s", show(msg), names);
    check_no_secret("message", msg);
    check_no_secret("code", code);
    char *json = cbk_error_to_json(err);
    if (json == NULL) {
        fail("cbk_error_to_json returned NULL");
    } else {
        char *want_status = fmt("\"status\":\"%s\"", status_name(want));
        if (strstr(json, want_status) == NULL)
            fail("error JSON %s lacks %s", show(json), want_status);
        check_no_secret("error JSON", json);
        cbk_string_free(json);
    }
    cbk_error_free(err);
}

/* ======================================================================== */
/* Log lines and async callbacks (both run on library threads)              */
/* ======================================================================== */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long log_lines, log_leaks, callbacks;
static char first_leak[200];

static void on_log(void *user_data, cbk_log_level level, const char *message)
{
    (void)user_data;
    (void)level;
    pthread_mutex_lock(&mu);
    audit_line("log line", message);
    log_lines++;
    if (message != NULL && (strstr(message, LIT) != NULL || strstr(message, g_secret) != NULL)) {
        if (log_leaks++ == 0)
            snprintf(first_leak, sizeof first_leak, "%s", message);
    }
    pthread_mutex_unlock(&mu);
}

static void on_done(void *user_data, const char *response_json, const cbk_error *error)
{
    (void)user_data;
    (void)response_json;
    (void)error;
    pthread_mutex_lock(&mu);
    callbacks++;
    pthread_mutex_unlock(&mu);
}

static long tasks_made; /* tasks that were handed out: each callback runs once */

/* ======================================================================== */
/* The stand-in, through a separate probe client                            */
/* ======================================================================== */

static cbk_conversation_session_client *probe;
static cbk_conversation_session_client *g_conv; /* the clients under test */
static cbk_bot_session_client *g_bot;

/* The probe keeps its connection: the stand-in turns Nagle's algorithm off,
 * so a kept-alive read waits for no delayed ACK. (A `connection` header,
 * which would ask for a fresh connection, is refused: it frames the
 * message.) */
#define PROBE_GET "{}"
#define PROBE_DELETE "{\"method\":\"DELETE\"}"

/* Set when the last GET of the log found it empty: nothing has been sent
 * since, so the next clear need not DELETE. */
static int log_known_empty;

/* Clears the stand-in's request log. */
static void standin_clear(void)
{
    if (log_known_empty) {
        log_known_empty = 0;
        return;
    }
    cbk_error *err = NULL;
    char *r = cbk_conversation_session_client_fetch(probe, "/_standin/requests", PROBE_DELETE, &err);
    if (r == NULL) {
        fail("probe: DELETE /_standin/requests failed: %s", show(cbk_error_message(err)));
        cbk_error_free(err);
    }
    cbk_string_free(r);
}

/* The stand-in's request log (JSON text; free with cbk_string_free). */
static char *standin_log(void)
{
    cbk_error *err = NULL;
    char *r = cbk_conversation_session_client_fetch(probe, "/_standin/requests", PROBE_GET, &err);
    if (r == NULL) {
        fail("probe: GET /_standin/requests failed: %s", show(cbk_error_message(err)));
        cbk_error_free(err);
    }
    return r;
}

/* Entries of the log: each one starts with {"method": (the stand-in writes
 * compact JSON; inside string values quotes are escaped, so this marker only
 * starts entries). */
#define ENTRY "{\"method\":"

static int log_count(const char *log)
{
    int n = 0;
    if (log == NULL)
        return -1;
    for (const char *p = strstr(log, ENTRY); p != NULL; p = strstr(p + 1, ENTRY))
        n++;
    return n;
}

/* The string field `name` of the first entry, unescaped into `out`; for
 * bodyBase64 (long) only its length matters, so `len` gets the length. */
static int log_field(const char *log, const char *name, char *out, size_t cap, size_t *len)
{
    const char *e = log ? strstr(log, ENTRY) : NULL;
    if (e == NULL)
        return 0;
    char key[64];
    snprintf(key, sizeof key, "\"%s\":\"", name);
    const char *p = strstr(e, key);
    if (p == NULL)
        return 0;
    p += strlen(key);
    size_t o = 0, n = 0;
    while (*p && *p != '"') {
        char c = *p++;
        if (c == '\\' && *p) {
            char x = *p++;
            if (x == 'u' && p[0] && p[1] && p[2] && p[3]) {
                char hex[5] = {p[0], p[1], p[2], p[3], 0};
                c = (char)strtol(hex, NULL, 16);
                p += 4;
            } else {
                c = x == 'n' ? '\n' : x == 'r' ? '\r' : x == 't' ? '\t' : x;
            }
        }
        if (out != NULL && o + 1 < cap)
            out[o++] = c;
        n++;
    }
    if (out != NULL)
        out[o] = '\0';
    if (len != NULL)
        *len = n;
    return 1;
}

/* Nothing reached the server since standin_clear(). */
static void expect_nothing_sent(void)
{
    char *log = standin_log();
    int n = log_count(log);
    if (n != 0) {
        char path[300] = "";
        log_field(log, "path", path, sizeof path, NULL);
        fail("%d request(s) reached the server (first: %s)", n, show(path));
    }
    log_known_empty = n == 0;
    cbk_string_free(log);
}

/* Exactly one request reached the server, with this method, raw path and
 * no query; returns the log (free it) for further checks. */
static char *expect_one_sent(const char *method, const char *path)
{
    char *log = standin_log();
    int n = log_count(log);
    if (n != 1)
        fail("%d requests reached the server, want 1", n);
    char got[600] = "", query[100] = "", m[16] = "";
    if (n >= 1) {
        log_field(log, "method", m, sizeof m, NULL);
        log_field(log, "path", got, sizeof got, NULL);
        log_field(log, "query", query, sizeof query, NULL);
        if (strcmp(m, method) != 0)
            fail("method: got %s, want %s", show(m), method);
        if (strcmp(got, path) != 0)
            fail("raw path: got %s, want %s", show(got), show(path));
        if (query[0] != '\0')
            fail("query: got %s, want none", show(query));
    }
    return log;
}

/* ======================================================================== */
/* Shared tables of bad text                                                */
/* ======================================================================== */

typedef struct {
    const char *label;
    const char *text;
} text_case;

/* Invalid UTF-8, byte sequences a C string can hold. */
static const text_case BAD_UTF8[] = {
    {"lone 0xFF byte",          "\xff"},
    {"bad continuation byte",   "\xc3\x28"},
    {"overlong '/'",            "\xc0\xaf"},
    {"UTF-16 surrogate",        "\xed\xa0\x80"},
    {"truncated sequence",      "\xe2\x82"},
    {"beyond U+10FFFF",         "\xf4\x90\x80\x80"},
    {"lone continuation byte",  "\x80"},
};

/* Text that is not JSON. The first one holds LIT, unterminated: a parser
 * message must not quote it back. */
static const text_case NOT_JSON[] = {
    {"unterminated, holding a secret", "{\"secret\":\"" LIT},
    {"raw LF inside a string",   "{\"secret\":\"" LIT "\nx\"}"},
    {"raw CR inside a string",   "{\"timezone\":\"UTC\r\"}"},
    {"raw TAB inside a string",  "{\"userAgent\":\"a\tb\"}"},
    {"empty text",               ""},
    {"blanks only",              "  \t\n "},
    {"lone brace",               "{"},
    {"single quotes",            "{'retries':1}"},
    {"bare key",                 "{retries:1}"},
    {"trailing comma",           "{\"retries\":1,}"},
    {"two objects",              "{} {}"},
    {"trailing garbage",         "{}x"},
    {"comment",                  "{/* c */}"},
    {"NaN",                      "{\"timeout\":NaN}"},
    {"Infinity",                 "{\"timeout\":Infinity}"},
    {"hex number",               "{\"retries\":0x10}"},
    {"leading plus",             "{\"retries\":+1}"},
    {"leading zero",             "{\"retries\":01}"},
    {"bad escape",               "{\"secret\":\"\\x41\"}"},
    {"leading BOM",              "\xef\xbb\xbf{}"},
    {"missing value",            "{\"retries\":}"},
    {"missing colon",            "{\"retries\" 1}"},
    {"unclosed array value",     "{\"headers\":[}"},
};

/* JSON by the grammar, but not representable: a number beyond a double, a
 * lone UTF-16 surrogate. Options and fetch options are parsed into values and
 * refuse these; request_json is forwarded as text (checked to be an object,
 * not materialised), so there they are legal and sent, as JSON.parse takes
 * them. */
static const text_case NOT_REPRESENTABLE[] = {
    {"number beyond a double",   "{\"timeout\":1e400}"},
    {"lone surrogate escape",    "{\"secret\":\"\\ud800\"}"},
};

/* JSON that is not an object. */
static const text_case NOT_OBJECT[] = {
    {"array",               "[]"},
    {"array of an object",  "[{}]"},
    {"string",              "\"" LIT "\""},
    {"empty string",        "\"\""},
    {"number",              "42"},
    {"negative number",     "-1.5e3"},
    {"null",                "null"},
    {"true",                "true"},
    {"false",               "false"},
};

/* JSON nested 10,000 deep (generated). */
#define DEEP 10000
static text_case DEEP_CASES[5];

static char *nest(const char *head, const char *open, const char *core, const char *close, const char *tail)
{
    size_t lo = strlen(open), lc = strlen(close);
    size_t n = strlen(head) + DEEP * (lo + lc) + strlen(core) + strlen(tail) + 1;
    char *s = xmalloc(n), *p = s;
    p += sprintf(p, "%s", head);
    for (int i = 0; i < DEEP; i++, p += lo)
        memcpy(p, open, lo);
    p += sprintf(p, "%s", core);
    for (int i = 0; i < DEEP; i++, p += lc)
        memcpy(p, close, lc);
    sprintf(p, "%s", tail);
    return keep(s);
}

static void make_deep_cases(const char *member)
{
    /* `member` is the key to bury the nesting under: an option, a fetch
     * option, or any key of a request. */
    DEEP_CASES[0] = (text_case){"10,000 nested arrays", nest("", "[", "", "]", "")};
    DEEP_CASES[1] = (text_case){"10,000 nested objects", nest("", "{\"a\":", "1", "}", "")};
    DEEP_CASES[2] = (text_case){fmt("`%s` holding 10,000 nested arrays", member),
                                nest(fmt("{\"%s\":", member), "[", "", "]", "}")};
    DEEP_CASES[3] = (text_case){fmt("`%s` holding 10,000 nested objects", member),
                                nest(fmt("{\"%s\":", member), "{\"a\":", "null", "}", "}")};
    DEEP_CASES[4] = (text_case){"10,000 unclosed arrays", nest("", "[", "", "", "")};
}

/* `{"headers":{"x-h0":"1",...}}` with `n` names: options and fetch options
 * alike. */
static char *many_headers(int n)
{
    size_t cap = 32 + (size_t)n * 20, o = 0;
    char *s = xmalloc(cap);
    o += (size_t)sprintf(s, "{\"headers\":{");
    for (int i = 0; i < n; i++)
        o += (size_t)sprintf(s + o, "%s\"x-h%d\":\"1\"", i ? "," : "", i);
    sprintf(s + o, "}}");
    return keep(s);
}

/* `n` copies of `c`, between `head` and `tail`. */
static char *repeat(const char *head, char c, size_t n, const char *tail)
{
    size_t lh = strlen(head);
    char *s = xmalloc(lh + n + strlen(tail) + 1);
    memcpy(s, head, lh);
    memset(s + lh, c, n);
    strcpy(s + lh + n, tail);
    return keep(s);
}

/* More than a request URL can carry (65,534 bytes). */
#define LONG_URL_PART 70000

/* ======================================================================== */
/* 1. Options: _new and _extend of both clients                             */
/* ======================================================================== */

typedef struct {
    const char *label;
    const char *json;
    cbk_status want;
    const char *names; /* the message must contain this */
} opt_case;

/* The options table, part one: fixed rows. */
static const opt_case OPTION_ROWS[] = {
    /* label                                   options_json                                         status names */
    {"unknown option",                         "{\"bogus\":1}",                                      JSN, "`bogus`"},
    {"unknown option: wrong case",             "{\"Secret\":\"x\"}",                                 JSN, "`Secret`"},
    {"unknown option: snake_case",             "{\"base_url\":\"http://x/\"}",                       JSN, "`base_url`"},
    {"unknown option: trailing blank",         "{\"retries \":1}",                                   JSN, "`retries `"},
    {"unknown option: empty key",              "{\"\":1}",                                           JSN, "``"},
    {"unknown option: __proto__",              "{\"__proto__\":{\"secret\":\"x\"}}",                 JSN, "`__proto__`"},
    {"unknown option: a fetch option",         "{\"method\":\"GET\"}",                               JSN, "`method`"},
    {"unknown option after valid ones",        "{\"secret\":\"" LIT "\",\"retries\":1,\"retrys\":2}", JSN, "`retrys`"},
    {"unknown option: null value",             "{\"bogus\":null}",                                   JSN, "`bogus`"},
    {"fetchFn: a string",                      "{\"fetchFn\":\"fetch\"}",                            JSN, "`fetchFn`"},
    {"fetchFn: an object",                     "{\"fetchFn\":{}}",                                   JSN, "`fetchFn`"},
    {"fetchFn: null",                          "{\"fetchFn\":null}",                                 JSN, "`fetchFn`"},
    {"fetchFn among valid options",            "{\"secret\":\"" LIT "\",\"fetchFn\":true}",          JSN, "`fetchFn`"},
    /* numbers out of range */
    {"retries -1",                             "{\"retries\":-1}",                                   ARG, "`retries`"},
    {"retries 1.5",                            "{\"retries\":1.5}",                                  ARG, "`retries`"},
    {"retries 101",                            "{\"retries\":101}",                                  ARG, "`retries`"},
    {"retries -0.5",                           "{\"retries\":-0.5}",                                 ARG, "`retries`"},
    {"retries 1e300",                          "{\"retries\":1e300}",                                ARG, "`retries`"},
    {"retries 2^64",                           "{\"retries\":18446744073709551616}",                 ARG, "`retries`"},
    {"timeout -1",                             "{\"timeout\":-1}",                                   ARG, "`timeout`"},
    {"timeout -1e-9",                          "{\"timeout\":-1e-9}",                                ARG, "`timeout`"},
    {"timeout 2147483648",                     "{\"timeout\":2147483648}",                           ARG, "`timeout`"},
    {"timeout 1e300",                          "{\"timeout\":1e300}",                                ARG, "`timeout`"},
    {"retryDelay -1",                          "{\"retryDelay\":-1}",                                ARG, "`retryDelay`"},
    {"retryDelay 2147483648",                  "{\"retryDelay\":2147483648}",                        ARG, "`retryDelay`"},
    {"retryDelay 1e300",                       "{\"retryDelay\":1e300}",                             ARG, "`retryDelay`"},
    {"maxResponseBytes 0",                     "{\"maxResponseBytes\":0}",                           ARG, "`maxResponseBytes`"},
    {"maxResponseBytes -1",                    "{\"maxResponseBytes\":-1}",                          ARG, "`maxResponseBytes`"},
    {"maxResponseBytes 1.5",                   "{\"maxResponseBytes\":1.5}",                         ARG, "`maxResponseBytes`"},
    {"maxResponseBytes 2^53",                  "{\"maxResponseBytes\":9007199254740992}",            ARG, "`maxResponseBytes`"},
    {"maxResponseBytes 1e300",                 "{\"maxResponseBytes\":1e300}",                       ARG, "`maxResponseBytes`"},
    {"connectTimeout -1",                      "{\"connectTimeout\":-1}",                            ARG, "`connectTimeout`"},
    {"connectTimeout 2147483648",              "{\"connectTimeout\":2147483648}",                    ARG, "`connectTimeout`"},
    {"connectTimeout 1e300",                   "{\"connectTimeout\":1e300}",                         ARG, "`connectTimeout`"},
    {"out of range with a secret beside it",   "{\"secret\":\"" LIT "\",\"retries\":-1}",            ARG, "`retries`"},
    /* bad baseUrl */
    {"baseUrl \"not a url\"",                  "{\"baseUrl\":\"not a url\"}",                        ARG, "`baseUrl`"},
    {"baseUrl ftp://x",                        "{\"baseUrl\":\"ftp://x\"}",                          ARG, "`baseUrl`"},
    {"baseUrl http://",                        "{\"baseUrl\":\"http://\"}",                          ARG, "`baseUrl`"},
    {"baseUrl https://",                       "{\"baseUrl\":\"https://\"}",                         ARG, "`baseUrl`"},
    {"baseUrl relative path",                  "{\"baseUrl\":\"/api/\"}",                            ARG, "`baseUrl`"},
    {"baseUrl file:",                          "{\"baseUrl\":\"file:///etc/passwd\"}",               ARG, "`baseUrl`"},
    {"baseUrl mailto:",                        "{\"baseUrl\":\"mailto:a@b.c\"}",                     ARG, "`baseUrl`"},
    {"baseUrl data:",                          "{\"baseUrl\":\"data:text/plain,x\"}",                ARG, "`baseUrl`"},
    {"baseUrl ws:",                            "{\"baseUrl\":\"ws://h/\"}",                          ARG, "`baseUrl`"},
    {"baseUrl unclosed IPv6",                  "{\"baseUrl\":\"http://[::1/\"}",                     ARG, "`baseUrl`"},
    {"baseUrl space in host",                  "{\"baseUrl\":\"http://a b/\"}",                      ARG, "`baseUrl`"},
    {"baseUrl port out of range",              "{\"baseUrl\":\"http://h:65536/\"}",                  ARG, "`baseUrl`"},
    {"baseUrl holding the secret",             "{\"baseUrl\":\"" LIT "\"}",                          ARG, "`baseUrl`"},
    /* bad host */
    {"host a/b",                               "{\"host\":\"a/b\"}",                                 ARG, "`host`"},
    {"host \"a b\"",                           "{\"host\":\"a b\"}",                                 ARG, "`host`"},
    {"host a?b",                               "{\"host\":\"a?b\"}",                                 ARG, "`host`"},
    {"host a#b",                               "{\"host\":\"a#b\"}",                                 ARG, "`host`"},
    {"host user@h",                            "{\"host\":\"user@h\"}",                              ARG, "`host`"},
    {"host a\\b",                              "{\"host\":\"a\\\\b\"}",                              ARG, "`host`"},
    {"host port 99999",                        "{\"host\":\"h:99999\"}",                             ARG, "`host`"},
    {"host port not a number",                 "{\"host\":\"h:x\"}",                                 ARG, "`host`"},
    {"host unclosed IPv6",                     "{\"host\":\"[::1\"}",                                ARG, "`host`"},
    /* bad protocol */
    {"protocol ftp:",                          "{\"protocol\":\"ftp:\"}",                            ARG, "`protocol`"},
    {"protocol file:",                         "{\"protocol\":\"file:\"}",                           ARG, "`protocol`"},
    {"protocol ws:",                           "{\"protocol\":\"ws:\"}",                             ARG, "`protocol`"},
    {"protocol javascript:",                   "{\"protocol\":\"javascript:\"}",                     ARG, "`protocol`"},
    {"protocol https:x",                       "{\"protocol\":\"https:x\"}",                         ARG, "`protocol`"},
    {"protocol http:/",                        "{\"protocol\":\"http:/\"}",                          ARG, "`protocol`"},
    /* bad caCertificatePem */
    {"caCertificatePem not PEM",               "{\"caCertificatePem\":\"not pem\"}",                 ARG, "`caCertificatePem`"},
    {"caCertificatePem empty",                 "{\"caCertificatePem\":\"\"}",                        ARG, "`caCertificatePem`"},
    {"caCertificatePem bad base64",            "{\"caCertificatePem\":\"-----BEGIN CERTIFICATE-----\\nnot base64!!\\n-----END CERTIFICATE-----\\n\"}", ARG, "`caCertificatePem`"},
    {"caCertificatePem not a certificate",     "{\"caCertificatePem\":\"-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----\\n\"}", ARG, "`caCertificatePem`"},
    {"caCertificatePem unterminated",          "{\"caCertificatePem\":\"-----BEGIN CERTIFICATE-----\\nAAAA\\n\"}", ARG, "`caCertificatePem`"},
    {"caCertificatePem a private key",         "{\"caCertificatePem\":\"-----BEGIN PRIVATE KEY-----\\nAAAA\\n-----END PRIVATE KEY-----\\n\"}", ARG, "`caCertificatePem`"},
    {"caCertificatePem holding the secret",    "{\"caCertificatePem\":\"" LIT "\"}",                 ARG, "`caCertificatePem`"},
    /* bad header names */
    {"header name with a space",               "{\"headers\":{\"a b\":\"1\"}}",                      ARG, "`headers.a b`"},
    {"header name empty",                      "{\"headers\":{\"\":\"1\"}}",                         ARG, "`headers.`"},
    {"header name with a colon",               "{\"headers\":{\"x:y\":\"1\"}}",                      ARG, "`headers.x:y`"},
    {"header name non-ASCII",                  "{\"headers\":{\"\xc3\xa9\":\"1\"}}",                 ARG, "`headers.\xc3\xa9`"},
    {"header name with CRLF",                  "{\"headers\":{\"x\\r\\ny\":\"1\"}}",                 ARG, "`headers.x"},
    {"header name with NUL",                   "{\"headers\":{\"x\\u0000\":\"1\"}}",                 ARG, "`headers.x"},
    /* bad endpoints */
    {"endpoint to ftp:",                       "{\"endpoints\":{\"/p\":\"ftp://h/x\"}}",              ARG, "`endpoints./p`"},
    {"endpoint to http://",                    "{\"endpoints\":{\"/p\":\"http://\"}}",               ARG, "`endpoints./p`"},
    {"endpoint to an unclosed IPv6 URL",       "{\"endpoints\":{\"/p\":\"http://[::1/x\"}}",         ARG, "`endpoints./p`"},
    {"endpoint to javascript:",                "{\"endpoints\":{\"/p\":\"javascript:alert(1)\"}}",   ARG, "`endpoints./p`"},
    {"endpoint to mailto:",                    "{\"endpoints\":{\"/p\":\"mailto:a@b.c\"}}",          ARG, "`endpoints./p`"},
    {"endpoint to //",                         "{\"endpoints\":{\"/p\":\"//\"}}",                    ARG, "`endpoints./p`"},
    /* credentials in a URL */
    {"baseUrl with user:password@",            "{\"baseUrl\":\"http://user:" LIT "@127.0.0.1:1/\"}", ARG, "`baseUrl`"},
    {"baseUrl with user@",                     "{\"baseUrl\":\"http://user@127.0.0.1:1/\"}",       ARG, "`baseUrl`"},
    {"baseUrl with :password@",                "{\"baseUrl\":\"https://:" LIT "@h/\"}",            ARG, "`baseUrl`"},
    {"endpoint with user:password@",           "{\"endpoints\":{\"/p\":\"http://u:" LIT "@h/x\"}}", ARG, "`endpoints./p`"},
    /* headers that frame the message, in any letter case */
    {"framing header Content-Length",          "{\"headers\":{\"Content-Length\":\"0\"}}",           ARG, "`headers.Content-Length`"},
    {"framing header transfer-encoding",       "{\"headers\":{\"transfer-encoding\":\"gzip\"}}",     ARG, "`headers.transfer-encoding`"},
    {"framing header HOST",                    "{\"headers\":{\"HOST\":\"evil\"}}",                  ARG, "`headers.HOST`"},
    {"framing header Connection",              "{\"headers\":{\"Connection\":\"close\"}}",           ARG, "`headers.Connection`"},
    {"framing header keep-alive",              "{\"headers\":{\"keep-alive\":\"timeout=5\"}}",       ARG, "`headers.keep-alive`"},
    {"framing header Upgrade",                 "{\"headers\":{\"Upgrade\":\"h2c\"}}",                ARG, "`headers.Upgrade`"},
    {"framing header TE",                      "{\"headers\":{\"TE\":\"trailers\"}}",                ARG, "`headers.TE`"},
    {"framing header trailer",                 "{\"headers\":{\"trailer\":\"x\"}}",                  ARG, "`headers.trailer`"},
    /* control characters in quoted keys are escaped */
    {"unknown option with CRLF, escaped",      "{\"bad\\r\\nkey\":1}",                                 JSN, "`bad\\r\\nkey`"},
    {"unknown option with ESC, escaped",       "{\"\\u001b[2J\":1}",                                    JSN, "`\\u{1b}[2J`"},
    {"header name with LF, escaped",           "{\"headers\":{\"x\\ny\":\"1\"}}",                      ARG, "`headers.x\\ny`"},
};

/* Part two: every key of the options table, by JSON type. */
enum { T_STR, T_NUM, T_BOOL, T_MAP, T_OBJ };

typedef struct {
    const char *key;
    int type;
} key_type;

static const key_type OPTION_KEYS[] = {
    {"secret", T_STR},      {"token", T_STR},         {"baseUrl", T_STR},          {"host", T_STR},
    {"protocol", T_STR},    {"endpoints", T_MAP},     {"runAsUserId", T_STR},      {"runAsChildUserEmail", T_STR},
    {"timezone", T_STR},    {"headers", T_MAP},       {"timeout", T_NUM},          {"retries", T_NUM},
    {"retryDelay", T_NUM},  {"retryTimeout", T_BOOL}, {"maxResponseBytes", T_NUM}, {"connectTimeout", T_NUM},
    {"caCertificatePem", T_STR}, {"userAgent", T_STR},
};

/* Values of the wrong JSON type, by the type wanted. NULL ends a list. */
static const char *const WRONG_VALUES[][9] = {
    [T_STR]  = {"1", "0", "true", "false", "[]", "{}", "[\"" LIT "\"]", "{\"value\":\"" LIT "\"}", NULL},
    [T_NUM]  = {"\"1\"", "\"\"", "\"NaN\"", "true", "false", "[]", "[1]", "{}", NULL},
    [T_BOOL] = {"\"true\"", "\"false\"", "1", "0", "[]", "{}", NULL},
    [T_MAP]  = {"\"x\"", "1", "true", "[]", "[[\"x-a\",\"1\"]]", "[\"" LIT "\"]", NULL},
    [T_OBJ]  = {"\"x\"", "1", "true", "[]", "[{}]", NULL},
};

/* Wrong members of a string map (headers, endpoints). */
static const char *const WRONG_MEMBERS[] = {"1", "true", "false", "[]", "{}", "[\"" LIT "\"]", "{\"v\":\"" LIT "\"}"};

/* Options whose value becomes a header, and the characters that cannot go
 * into one, written as JSON escapes (valid JSON, refused by the library). */
static const char *const HEADER_OPTIONS[] = {
    "secret", "token", "runAsUserId", "runAsChildUserEmail", "timezone", "userAgent",
    "headers.x-custom", "headers.authorization",
};

static const text_case HEADER_BREAKERS[] = {
    {"CR",      "\\r"},     {"LF",      "\\n"},     {"CRLF",    "\\r\\n"},  {"NUL",     "\\u0000"},
    {"U+0001",  "\\u0001"}, {"VT",      "\\u000b"}, {"U+001F",  "\\u001f"}, {"DEL",     "\\u007f"},
};

static opt_case *option_cases;
static size_t n_option_cases;

static void add_option_case(const char *label, const char *json, cbk_status want, const char *names)
{
    option_cases = realloc(option_cases, (n_option_cases + 1) * sizeof *option_cases);
    if (option_cases == NULL) {
        printf("Bail out! out of memory\n");
        exit(2);
    }
    option_cases[n_option_cases++] = (opt_case){label, json, want, names};
}

static void build_option_cases(void)
{
    for (size_t i = 0; i < COUNT(NOT_JSON); i++)
        add_option_case(fmt("not JSON: %s", NOT_JSON[i].label), NOT_JSON[i].text, JSN, "`options_json`");
    for (size_t i = 0; i < COUNT(NOT_REPRESENTABLE); i++)
        add_option_case(fmt("not representable: %s", NOT_REPRESENTABLE[i].label), NOT_REPRESENTABLE[i].text, JSN,
                        "`options_json`");
    for (size_t i = 0; i < COUNT(NOT_OBJECT); i++)
        add_option_case(fmt("not an object: %s", NOT_OBJECT[i].label), NOT_OBJECT[i].text, JSN, "`options_json`");
    make_deep_cases("headers");
    for (size_t i = 0; i < COUNT(DEEP_CASES); i++)
        add_option_case(fmt("deep: %s", DEEP_CASES[i].label), DEEP_CASES[i].text, JSN, "`options_json`");
    for (size_t i = 0; i < COUNT(BAD_UTF8); i++) {
        add_option_case(fmt("invalid UTF-8: %s", BAD_UTF8[i].label), BAD_UTF8[i].text, ARG, "`options_json`");
        add_option_case(fmt("invalid UTF-8 in userAgent: %s", BAD_UTF8[i].label),
                        fmt("{\"userAgent\":\"ua%s\"}", BAD_UTF8[i].text), ARG, "`options_json`");
    }
    for (size_t i = 0; i < COUNT(OPTION_ROWS); i++)
        add_option_case(OPTION_ROWS[i].label, OPTION_ROWS[i].json, OPTION_ROWS[i].want, OPTION_ROWS[i].names);
    /* More header names than allowed (32,768 was once a caught panic). */
    add_option_case("headers with 10,001 names", many_headers(10001), ARG, "`headers`");
    add_option_case("headers with 32,768 names", many_headers(32768), ARG, "`headers`");
    /* Every key with every wrong type. */
    for (size_t k = 0; k < COUNT(OPTION_KEYS); k++) {
        const char *key = OPTION_KEYS[k].key;
        const char *const *wrong = WRONG_VALUES[OPTION_KEYS[k].type];
        for (size_t w = 0; wrong[w] != NULL; w++)
            add_option_case(fmt("wrong type: %s = %s", key, wrong[w]), fmt("{\"%s\":%s}", key, wrong[w]), JSN,
                            fmt("`%s`", key));
        if (OPTION_KEYS[k].type == T_MAP)
            for (size_t w = 0; w < COUNT(WRONG_MEMBERS); w++)
                add_option_case(fmt("wrong member type: %s.x-a = %s", key, WRONG_MEMBERS[w]),
                                fmt("{\"%s\":{\"x-a\":\"ok\",\"x-b\":%s}}", key, WRONG_MEMBERS[w]), JSN,
                                fmt("`%s.x-b`", key));
    }
    /* Header injection: every header-bound option with every breaker. */
    for (size_t k = 0; k < COUNT(HEADER_OPTIONS); k++) {
        const char *key = HEADER_OPTIONS[k];
        const char *dot = strchr(key, '.');
        for (size_t b = 0; b < COUNT(HEADER_BREAKERS); b++) {
            const char *value = fmt("%s%sx-injected: 1", LIT, HEADER_BREAKERS[b].text);
            const char *json = dot ? fmt("{\"headers\":{\"%s\":\"%s\"}}", dot + 1, value)
                                   : fmt("{\"%s\":\"%s\"}", key, value);
            add_option_case(fmt("%s in %s", HEADER_BREAKERS[b].label, key), json, ARG, fmt("`%s`", key));
        }
    }
}

enum { VIA_CONV_NEW, VIA_BOT_NEW, VIA_CONV_EXTEND, VIA_BOT_EXTEND };
static const char *const OPT_VIA[] = {
    "cbk_conversation_session_client_new", "cbk_bot_session_client_new",
    "cbk_conversation_session_client_extend", "cbk_bot_session_client_extend",
};

/* Calls one options entry point; frees what it wrongly returned. */
static int call_options(int via, const char *json, cbk_error **err)
{
    void *h = NULL;
    switch (via) {
    case VIA_CONV_NEW: h = cbk_conversation_session_client_new(json, err); break;
    case VIA_BOT_NEW: h = cbk_bot_session_client_new(json, err); break;
    case VIA_CONV_EXTEND: h = cbk_conversation_session_client_extend(g_conv, json, err); break;
    case VIA_BOT_EXTEND: h = cbk_bot_session_client_extend(g_bot, json, err); break;
    }
    if (h == NULL)
        return 0;
    if (via == VIA_CONV_NEW || via == VIA_CONV_EXTEND)
        cbk_conversation_session_client_free(h);
    else
        cbk_bot_session_client_free(h);
    return 1;
}

static void run_option_rows(void)
{
    for (int via = 0; via < 4; via++) {
        for (size_t i = 0; i < n_option_cases; i++) {
            const opt_case *c = &option_cases[i];
            row_start("%s: %s", OPT_VIA[via], c->label);
            standin_clear();
            cbk_error *err = NULL;
            if (call_options(via, c->json, &err))
                fail("accepted options %s (want %s naming %s)", show(c->json), status_name(c->want), c->names);
            expect_error(err, c->want, c->names);
            if (call_options(via, c->json, NULL))
                fail("accepted options %s with a NULL error argument", show(c->json));
            expect_nothing_sent();
            row_end();
        }
    }
}

/* ======================================================================== */
/* 2. Session calls: create and create_async of both clients                */
/* ======================================================================== */

#define ID_NAME NULL /* the message names the id argument of the call */

typedef struct {
    const char *label;
    const char *id;
    const char *request_json;
    cbk_status want;
    const char *names;
} create_case;

static const create_case CREATE_ROWS[] = {
    /* label                          id      request_json  status names */
    {"NULL id",                       NULL,   NULL,         ARG,   ID_NAME},
    {"NULL id with a request",        NULL,   "{}",         ARG,   ID_NAME},
    {"empty id",                      "",     NULL,         ARG,   ID_NAME},
    {"id \".\"",                      ".",    NULL,         ARG,   ID_NAME},
    {"id \"..\"",                     "..",   NULL,         ARG,   ID_NAME},
    {"id \"..\" with a request",      "..",   "{\"a\":1}",  ARG,   ID_NAME},
};

static create_case *create_cases;
static size_t n_create_cases;

static void add_create_case(const char *label, const char *id, const char *req, cbk_status want, const char *names)
{
    create_cases = realloc(create_cases, (n_create_cases + 1) * sizeof *create_cases);
    if (create_cases == NULL) {
        printf("Bail out! out of memory\n");
        exit(2);
    }
    create_cases[n_create_cases++] = (create_case){label, id, req, want, names};
}

static void build_create_cases(void)
{
    for (size_t i = 0; i < COUNT(CREATE_ROWS); i++)
        add_create_case(CREATE_ROWS[i].label, CREATE_ROWS[i].id, CREATE_ROWS[i].request_json, CREATE_ROWS[i].want,
                        CREATE_ROWS[i].names);
    for (size_t i = 0; i < COUNT(BAD_UTF8); i++) {
        add_create_case(fmt("invalid UTF-8 id: %s", BAD_UTF8[i].label), fmt("cnv_%s", BAD_UTF8[i].text), NULL, ARG,
                        ID_NAME);
        add_create_case(fmt("invalid UTF-8 request_json: %s", BAD_UTF8[i].label), "ok",
                        fmt("{\"a\":\"%s\"}", BAD_UTF8[i].text), ARG, "`request_json`");
    }
    for (size_t i = 0; i < COUNT(NOT_JSON); i++)
        add_create_case(fmt("request_json not JSON: %s", NOT_JSON[i].label), "ok", NOT_JSON[i].text, JSN,
                        "`request_json`");
    for (size_t i = 0; i < COUNT(NOT_OBJECT); i++)
        add_create_case(fmt("request_json not an object: %s", NOT_OBJECT[i].label), "ok", NOT_OBJECT[i].text, JSN,
                        "`request_json`");
    make_deep_cases("messages");
    for (size_t i = 0; i < COUNT(DEEP_CASES); i++)
        add_create_case(fmt("request_json deep: %s", DEEP_CASES[i].label), "ok", DEEP_CASES[i].text, JSN,
                        "`request_json`");
    /* Refused at call time, before a task exists, with nothing sent. */
    add_create_case("id making a URL over 64 KiB", repeat("", 'i', LONG_URL_PART, ""), NULL, ARG, ID_NAME);
}

enum { VIA_CONV_CREATE, VIA_BOT_CREATE, VIA_CONV_ASYNC, VIA_BOT_ASYNC };
static const char *const CREATE_VIA[] = {
    "cbk_conversation_session_client_create", "cbk_bot_session_client_create",
    "cbk_conversation_session_client_create_async", "cbk_bot_session_client_create_async",
};

/* Calls one session entry point and, for the async ones, waits for the
 * task. Returns the response (free it) or NULL with *err set. `accepted`
 * tells whether the call itself took the arguments (returned non-NULL). */
static char *call_create(int via, const char *id, const char *req, cbk_error **err, int *accepted)
{
    cbk_task *task = NULL;
    char *r = NULL;
    *accepted = 0;
    switch (via) {
    case VIA_CONV_CREATE: r = cbk_conversation_session_client_create(g_conv, id, req, err); break;
    case VIA_BOT_CREATE: r = cbk_bot_session_client_create(g_bot, id, req, err); break;
    case VIA_CONV_ASYNC: task = cbk_conversation_session_client_create_async(g_conv, id, req, on_done, NULL, err); break;
    case VIA_BOT_ASYNC: task = cbk_bot_session_client_create_async(g_bot, id, req, on_done, NULL, err); break;
    }
    if (via == VIA_CONV_ASYNC || via == VIA_BOT_ASYNC) {
        if (task == NULL)
            return NULL;
        tasks_made++;
        *accepted = 1;
        r = cbk_task_wait(task, err);
        cbk_task_free(task);
        return r;
    }
    *accepted = r != NULL;
    return r;
}

static void run_create_rows(void)
{
    for (int via = 0; via < 4; via++) {
        const char *id_name = via == VIA_CONV_CREATE || via == VIA_CONV_ASYNC ? "`conversation_id`" : "`bot_id`";
        for (size_t i = 0; i < n_create_cases; i++) {
            const create_case *c = &create_cases[i];
            const char *names = c->names ? c->names : id_name;
            row_start("%s: %s", CREATE_VIA[via], c->label);
            standin_clear();
            cbk_error *err = NULL;
            int accepted;
            char *r = call_create(via, c->id, c->request_json, &err, &accepted);
            if (accepted)
                fail("accepted id %s, request %s (want %s naming %s)", show(c->id), show(c->request_json),
                     status_name(c->want), names);
            cbk_string_free(r);
            expect_error(err, c->want, names);
            r = call_create(via, c->id, c->request_json, NULL, &accepted);
            if (accepted)
                fail("accepted with a NULL error argument");
            cbk_string_free(r);
            expect_nothing_sent();
            row_end();
        }
    }
}

/* Ids that are legal but odd: percent-encoded as one segment and sent. */
typedef struct {
    const char *id;
    const char *segment; /* the raw path segment the server must see */
} id_case;

static const id_case SENT_IDS[] = {
    /* id                          raw segment sent */
    {"cnv_123",                    "cnv_123"},
    {"a/b",                        "a%2Fb"},
    {"/",                          "%2F"},
    {"//",                         "%2F%2F"},
    {"../x",                       "..%2Fx"},
    {"../../v1/bot/x",             "..%2F..%2Fv1%2Fbot%2Fx"},
    {"a/../b",                     "a%2F..%2Fb"},
    {"./x",                        ".%2Fx"},
    {"...",                        "..."},
    {". ",                         ".%20"},
    {" ..",                        "%20.."},
    {"%2e%2e",                     "%252e%252e"},
    {".%2E",                       ".%252E"},
    {"%2F",                        "%252F"},
    {"?",                          "%3F"},
    {"a?b=c",                      "a%3Fb=c"},
    {"#",                          "%23"},
    {"a#frag",                     "a%23frag"},
    {"%",                          "%25"},
    {"100%",                       "100%25"},
    {"%00",                        "%2500"},
    {"\r",                         "%0D"},
    {"\n",                         "%0A"},
    {"\r\n",                       "%0D%0A"},
    {"x\r\nHost: evil",            "x%0D%0AHost:%20evil"},
    {"\t",                         "%09"},
    {"\x01",                       "%01"},
    {"\x1f",                       "%1F"},
    {"\x7f",                       "%7F"},
    {"\x1b[31m",                   "%1B%5B31m"},
    {" ",                          "%20"},
    {"a b",                        "a%20b"},
    {"\\",                         "%5C"},
    {"..\\x",                      "..%5Cx"},
    {"\xc3\xa9",                   "%C3%A9"},
    {"\xe6\x97\xa5\xe6\x9c\xac",   "%E6%97%A5%E6%9C%AC"},
    {"\xf0\x9f\x98\x80",           "%F0%9F%98%80"},
    {"\"<>`{}|^[]",                "%22%3C%3E%60%7B%7D%7C%5E%5B%5D"},
    {"-._~!$&'()*+,;=:@",          "-._~!$&'()*+,;=:@"},
};

static void run_sent_id_rows(void)
{
    for (int via = 0; via < 4; via++) {
        const char *route = via == VIA_CONV_CREATE || via == VIA_CONV_ASYNC ? "conversation" : "bot";
        for (size_t i = 0; i < COUNT(SENT_IDS); i++) {
            const id_case *c = &SENT_IDS[i];
            row_start("%s: id %s is sent as segment %s", CREATE_VIA[via], show(c->id), c->segment);
            standin_clear();
            cbk_error *err = NULL;
            int accepted;
            char *r = call_create(via, c->id, NULL, &err, &accepted);
            if (r == NULL) {
                fail("refused: %s %s", status_name(cbk_error_status(err)), show(cbk_error_message(err)));
            } else if (strstr(r, "\"token\"") == NULL) {
                fail("response without a token: %s", show(r));
            }
            check_no_secret("error message", err ? cbk_error_message(err) : NULL);
            cbk_error_free(err);
            cbk_string_free(r);
            char *path = fmt("/api/v1/%s/%s/session/create", route, c->segment);
            char *log = expect_one_sent("POST", path);
            char body[64] = "";
            log_field(log, "body", body, sizeof body, NULL);
            if (strcmp(body, "{}") != 0)
                fail("body: got %s, want {}", show(body));
            cbk_string_free(log);
            row_end();
        }
    }
}

/* A request_json of 10 MB: a valid object, so it is sent. The stand-in takes
 * bodies up to 64 MB; the behaviour is reported on a "#" line. */
static void run_large_request_rows(void)
{
    const size_t size = 10u * 1024 * 1024;
    char *req = xmalloc(size + 1);
    const char *head = "{\"pad\":\"";
    size_t hl = strlen(head);
    memcpy(req, head, hl);
    memset(req + hl, 'a', size - hl - 2);
    memcpy(req + size - 2, "\"}", 3);
    for (int via = 0; via < 4; via++) {
        row_start("%s: request_json of 10 MB (valid object)", CREATE_VIA[via]);
        standin_clear();
        cbk_error *err = NULL;
        int accepted;
        char *r = call_create(via, "big", req, &err, &accepted);
        const char *route = via == VIA_CONV_CREATE || via == VIA_CONV_ASYNC ? "conversation" : "bot";
        if (r != NULL) {
            char *log = expect_one_sent("POST", fmt("/api/v1/%s/big/session/create", route));
            size_t b64 = 0;
            log_field(log, "bodyBase64", NULL, 0, &b64);
            if (b64 != (size + 2) / 3 * 4)
                fail("the server got %zu base64 characters, want %zu (the whole body)", b64, (size + 2) / 3 * 4);
            printf("# behaviour: the 10 MB request_json was sent whole (%zu bytes) and answered 200\n", size);
            cbk_string_free(log);
        } else {
            printf("# behaviour: 10 MB request_json refused: %s %s\n", status_name(cbk_error_status(err)),
                   show(cbk_error_message(err)));
            fail("a 10 MB valid request was not minted (the stand-in accepts up to 64 MB)");
        }
        if (err != NULL) {
            check_no_secret("message", cbk_error_message(err));
            cbk_error_free(err);
        }
        cbk_string_free(r);
        standin_clear(); /* keep the next log reads small */
        row_end();
    }
    free(req);
}

/* ======================================================================== */
/* 3. clientFetch of both clients                                           */
/* ======================================================================== */

#define P "/v1/badinput" /* a path the stand-in would answer 404 (and record) */

typedef struct {
    const char *label;
    const char *path;
    const char *options_json;
    cbk_status want;
    const char *names;
} fetch_case;

static const fetch_case FETCH_ROWS[] = {
    /* label                              path                    options_json                                   status names */
    {"NULL path",                         NULL,                   NULL,                                          ARG, "`path`"},
    {"NULL path with options",            NULL,                   "{\"method\":\"GET\"}",                        ARG, "`path`"},
    {"path with an unclosed IPv6 host",   "http://[::1/x",        NULL,                                          ARG, "`path`"},
    {"path to ftp:",                      "ftp://127.0.0.1/x",    NULL,                                          ARG, "`path`"},
    {"path to file:",                     "file:///etc/passwd",   NULL,                                          ARG, "`path`"},
    {"path to javascript:",               "javascript:alert(1)",  NULL,                                          ARG, "`path`"},
    {"path to mailto:",                   "mailto:a@b.c",         NULL,                                          ARG, "`path`"},
    {"path http://",                      "http://",              NULL,                                          ARG, "`path`"},
    {"path with a bad port",              "http://h:65536/",      NULL,                                          ARG, "`path`"},
    {"unknown fetch option",              P,                      "{\"bogus\":1}",                               JSN, "`bogus`"},
    {"unknown fetch option: wrong case",  P,                      "{\"Method\":\"GET\"}",                        JSN, "`Method`"},
    {"client option in a fetch",          P,                      "{\"secret\":\"" LIT "\"}",                    JSN, "`secret`"},
    {"fetchFn",                           P,                      "{\"fetchFn\":\"f\"}",                         JSN, "`fetchFn`"},
    {"abortSignal",                       P,                      "{\"abortSignal\":{}}",                        JSN, "`abortSignal`"},
    {"file: unknown member",              P,                      "{\"file\":{\"data\":\"\",\"x\":1}}",          JSN, "`file.x`"},
    {"file: name not a string",           P,                      "{\"file\":{\"name\":1,\"data\":\"\"}}",       JSN, "`file.name`"},
    {"file: type not a string",           P,                      "{\"file\":{\"type\":true,\"data\":\"\"}}",    JSN, "`file.type`"},
    {"file: data not a string",           P,                      "{\"file\":{\"data\":1}}",                     JSN, "`file.data`"},
    {"file: data missing",                P,                      "{\"file\":{}}",                               JSN, "`file.data`"},
    {"file: data not base64",             P,                      "{\"file\":{\"data\":\"***\"}}",               ARG, "`file.data`"},
    {"buffer not base64",                 P,                      "{\"buffer\":\"***\"}",                        ARG, "`buffer`"},
    {"buffer with a secret, not base64",  P,                      "{\"buffer\":\"" LIT "!\"}",                   ARG, "`buffer`"},
    {"method with a space",               P,                      "{\"method\":\"GE T\"}",                       ARG, "`method`"},
    {"method empty",                      P,                      "{\"method\":\"\"}",                           ARG, "`method`"},
    {"method with CRLF",                  P,                      "{\"method\":\"GET\\r\\nX: 1\"}",              ARG, "`method`"},
    {"method non-ASCII",                  P,                      "{\"method\":\"G\xc3\x89T\"}",                 ARG, "`method`"},
    {"header value with CR",              P,                      "{\"headers\":{\"x-a\":\"a\\rb\"}}",           ARG, "`headers.x-a`"},
    {"header value with LF",              P,                      "{\"headers\":{\"x-a\":\"a\\nb\"}}",           ARG, "`headers.x-a`"},
    {"header value with NUL",             P,                      "{\"headers\":{\"x-a\":\"a\\u0000b\"}}",       ARG, "`headers.x-a`"},
    {"header value with DEL",             P,                      "{\"headers\":{\"x-a\":\"a\\u007fb\"}}",       ARG, "`headers.x-a`"},
    {"authorization with CRLF",           P,                      "{\"headers\":{\"authorization\":\"Bearer " LIT "\\r\\nx: 1\"}}", ARG, "`headers.authorization`"},
    {"header name with a space",          P,                      "{\"headers\":{\"a b\":\"1\"}}",               ARG, "`headers.a b`"},
    {"header name empty",                 P,                      "{\"headers\":{\"\":\"1\"}}",                  ARG, "`headers.`"},
    {"timeout -1",                        P,                      "{\"timeout\":-1}",                            ARG, "`timeout`"},
    {"timeout 2147483648",                P,                      "{\"timeout\":2147483648}",                    ARG, "`timeout`"},
    {"timeout 1e300",                     P,                      "{\"timeout\":1e300}",                         ARG, "`timeout`"},
    {"retries -1",                        P,                      "{\"retries\":-1}",                            ARG, "`retries`"},
    {"retries 1.5",                       P,                      "{\"retries\":1.5}",                           ARG, "`retries`"},
    {"retries 101",                       P,                      "{\"retries\":101}",                           ARG, "`retries`"},
    {"retries 1e300",                     P,                      "{\"retries\":1e300}",                         ARG, "`retries`"},
    {"retryDelay -1",                     P,                      "{\"retryDelay\":-1}",                         ARG, "`retryDelay`"},
    {"retryDelay 1e300",                  P,                      "{\"retryDelay\":1e300}",                      ARG, "`retryDelay`"},
    /* methods fetch forbids, in any letter case */
    {"method CONNECT",                    P,                      "{\"method\":\"CONNECT\"}",                  ARG, "`method`"},
    {"method connect",                    P,                      "{\"method\":\"connect\"}",                  ARG, "`method`"},
    {"method TRACE",                      P,                      "{\"method\":\"TRACE\"}",                    ARG, "`method`"},
    {"method Trace",                      P,                      "{\"method\":\"Trace\"}",                    ARG, "`method`"},
    {"method TRACK",                      P,                      "{\"method\":\"TRACK\"}",                    ARG, "`method`"},
    {"method track",                      P,                      "{\"method\":\"track\"}",                    ARG, "`method`"},
    /* credentials in the URL */
    {"path with user:password@",          "http://user:" LIT "@127.0.0.1:1/x", NULL,                         ARG, "`path`"},
    {"path with user@",                   "http://user@127.0.0.1:1/x", NULL,                                 ARG, "`path`"},
    /* headers that frame the message, in any letter case */
    {"framing header content-length 0",   P,                      "{\"record\":{},\"headers\":{\"content-length\":\"0\"}}", ARG, "`headers.content-length`"},
    {"framing header Content-Length 100", P,                      "{\"record\":{},\"headers\":{\"Content-Length\":\"100\"}}", ARG, "`headers.Content-Length`"},
    {"framing header Transfer-Encoding",  P,                      "{\"record\":{},\"headers\":{\"Transfer-Encoding\":\"gzip\"}}", ARG, "`headers.Transfer-Encoding`"},
    {"framing header host",               P,                      "{\"headers\":{\"host\":\"evil\"}}",           ARG, "`headers.host`"},
    {"framing header CONNECTION",         P,                      "{\"headers\":{\"CONNECTION\":\"close\"}}",    ARG, "`headers.CONNECTION`"},
    {"framing header Keep-Alive",         P,                      "{\"headers\":{\"Keep-Alive\":\"1\"}}",        ARG, "`headers.Keep-Alive`"},
    {"framing header upgrade",            P,                      "{\"headers\":{\"upgrade\":\"websocket\"}}",   ARG, "`headers.upgrade`"},
    {"framing header te",                 P,                      "{\"headers\":{\"te\":\"trailers\"}}",         ARG, "`headers.te`"},
    {"framing header Trailer",            P,                      "{\"headers\":{\"Trailer\":\"x\"}}",           ARG, "`headers.Trailer`"},
    /* control characters in quoted keys are escaped */
    {"unknown fetch option with LF",      P,                      "{\"a\\nb\":1}",                               JSN, "`a\\nb`"},
    {"header name with CR, escaped",      P,                      "{\"headers\":{\"x\\ry\":\"1\"}}",           ARG, "`headers.x\\ry`"},
};

static const key_type FETCH_KEYS[] = {
    {"method", T_STR},   {"headers", T_MAP},  {"query", T_OBJ},      {"buffer", T_STR},
    {"file", T_OBJ},     {"external", T_BOOL}, {"endpoint", T_STR},  {"timeout", T_NUM},
    {"retries", T_NUM},  {"retryDelay", T_NUM}, {"retryTimeout", T_BOOL},
};

static fetch_case *fetch_cases;
static size_t n_fetch_cases;

static void add_fetch_case(const char *label, const char *path, const char *json, cbk_status want, const char *names)
{
    fetch_cases = realloc(fetch_cases, (n_fetch_cases + 1) * sizeof *fetch_cases);
    if (fetch_cases == NULL) {
        printf("Bail out! out of memory\n");
        exit(2);
    }
    fetch_cases[n_fetch_cases++] = (fetch_case){label, path, json, want, names};
}

static void build_fetch_cases(void)
{
    for (size_t i = 0; i < COUNT(FETCH_ROWS); i++)
        add_fetch_case(FETCH_ROWS[i].label, FETCH_ROWS[i].path, FETCH_ROWS[i].options_json, FETCH_ROWS[i].want,
                       FETCH_ROWS[i].names);
    for (size_t i = 0; i < COUNT(BAD_UTF8); i++) {
        add_fetch_case(fmt("invalid UTF-8 path: %s", BAD_UTF8[i].label), fmt("/v1/%s", BAD_UTF8[i].text), NULL, ARG,
                       "`path`");
        add_fetch_case(fmt("invalid UTF-8 options_json: %s", BAD_UTF8[i].label), P,
                       fmt("{\"method\":\"%s\"}", BAD_UTF8[i].text), ARG, "`options_json`");
    }
    for (size_t i = 0; i < COUNT(NOT_JSON); i++)
        add_fetch_case(fmt("options_json not JSON: %s", NOT_JSON[i].label), P, NOT_JSON[i].text, JSN,
                       "`options_json`");
    for (size_t i = 0; i < COUNT(NOT_REPRESENTABLE); i++)
        add_fetch_case(fmt("options_json not representable: %s", NOT_REPRESENTABLE[i].label), P,
                       NOT_REPRESENTABLE[i].text, JSN, "`options_json`");
    for (size_t i = 0; i < COUNT(NOT_OBJECT); i++)
        add_fetch_case(fmt("options_json not an object: %s", NOT_OBJECT[i].label), P, NOT_OBJECT[i].text, JSN,
                       "`options_json`");
    make_deep_cases("record");
    for (size_t i = 0; i < COUNT(DEEP_CASES); i++)
        add_fetch_case(fmt("options_json deep: %s", DEEP_CASES[i].label), P, DEEP_CASES[i].text, JSN,
                       "`options_json`");
    add_fetch_case("options_json deep: `query` holding 10,000 nested objects", P,
                   nest("{\"query\":", "{\"a\":", "1", "}", "}"), JSN, "`options_json`");
    add_fetch_case("path making a URL over 64 KiB", repeat(P "/", 'a', LONG_URL_PART, ""), NULL, ARG, "`path`");
    add_fetch_case("query making a URL over 64 KiB", P, repeat("{\"query\":{\"q\":\"", 'q', LONG_URL_PART, "\"}}"), ARG,
                   "`path`");
    add_fetch_case("headers with 10,001 names", P, many_headers(10001), ARG, "`headers`");
    add_fetch_case("headers with 32,768 names", P, many_headers(32768), ARG, "`headers`");
    for (size_t k = 0; k < COUNT(FETCH_KEYS); k++) {
        const char *key = FETCH_KEYS[k].key;
        const char *const *wrong = WRONG_VALUES[FETCH_KEYS[k].type];
        for (size_t w = 0; wrong[w] != NULL; w++)
            add_fetch_case(fmt("wrong type: %s = %s", key, wrong[w]), P, fmt("{\"%s\":%s}", key, wrong[w]), JSN,
                           fmt("`%s`", key));
        if (FETCH_KEYS[k].type == T_MAP)
            for (size_t w = 0; w < COUNT(WRONG_MEMBERS); w++)
                add_fetch_case(fmt("wrong member type: %s.x-b = %s", key, WRONG_MEMBERS[w]), P,
                               fmt("{\"%s\":{\"x-a\":\"ok\",\"x-b\":%s}}", key, WRONG_MEMBERS[w]), JSN,
                               fmt("`%s.x-b`", key));
    }
}

static const char *const FETCH_VIA[] = {"cbk_conversation_session_client_fetch", "cbk_bot_session_client_fetch"};

static char *call_fetch(int via, const char *path, const char *json, cbk_error **err)
{
    return via == 0 ? cbk_conversation_session_client_fetch(g_conv, path, json, err)
                    : cbk_bot_session_client_fetch(g_bot, path, json, err);
}

static void run_fetch_rows(void)
{
    for (int via = 0; via < 2; via++) {
        for (size_t i = 0; i < n_fetch_cases; i++) {
            const fetch_case *c = &fetch_cases[i];
            row_start("%s: %s", FETCH_VIA[via], c->label);
            standin_clear();
            cbk_error *err = NULL;
            char *r = call_fetch(via, c->path, c->options_json, &err);
            if (r != NULL) {
                fail("accepted path %s, options %s (want %s naming %s)", show(c->path), show(c->options_json),
                     status_name(c->want), c->names);
                cbk_string_free(r);
            }
            expect_error(err, c->want, c->names);
            r = call_fetch(via, c->path, c->options_json, NULL);
            if (r != NULL) {
                fail("accepted with a NULL error argument");
                cbk_string_free(r);
            }
            expect_nothing_sent();
            row_end();
        }
    }
}

/* ======================================================================== */
/* 4. NULL in every pointer argument                                        */
/* ======================================================================== */

/* Each call passes NULL where a value is needed; the message names the
 * first NULL argument. Wrongly returned pointers are leaked on purpose
 * (their type is unknown here) and the row fails. */
#define NULL_CALL(fn, expr) \
    static void *fn(cbk_error **e) { return (void *)(expr); }

NULL_CALL(n_conv_extend, cbk_conversation_session_client_extend(NULL, "{}", e))
NULL_CALL(n_conv_extend2, cbk_conversation_session_client_extend(NULL, NULL, e))
NULL_CALL(n_conv_create, cbk_conversation_session_client_create(NULL, "ok", "{}", e))
NULL_CALL(n_conv_create2, cbk_conversation_session_client_create(NULL, NULL, NULL, e))
NULL_CALL(n_conv_create3, cbk_conversation_session_client_create(g_conv, NULL, "{}", e))
NULL_CALL(n_conv_async, cbk_conversation_session_client_create_async(NULL, "ok", NULL, on_done, NULL, e))
NULL_CALL(n_conv_async2, cbk_conversation_session_client_create_async(NULL, NULL, NULL, NULL, NULL, e))
NULL_CALL(n_conv_async3, cbk_conversation_session_client_create_async(g_conv, NULL, NULL, on_done, NULL, e))
NULL_CALL(n_conv_fetch, cbk_conversation_session_client_fetch(NULL, P, NULL, e))
NULL_CALL(n_conv_fetch2, cbk_conversation_session_client_fetch(NULL, NULL, NULL, e))
NULL_CALL(n_conv_fetch3, cbk_conversation_session_client_fetch(g_conv, NULL, NULL, e))
NULL_CALL(n_conv_options, cbk_conversation_session_client_options(NULL, e))
NULL_CALL(n_bot_extend, cbk_bot_session_client_extend(NULL, "{}", e))
NULL_CALL(n_bot_extend2, cbk_bot_session_client_extend(NULL, NULL, e))
NULL_CALL(n_bot_create, cbk_bot_session_client_create(NULL, "ok", "{}", e))
NULL_CALL(n_bot_create2, cbk_bot_session_client_create(NULL, NULL, NULL, e))
NULL_CALL(n_bot_create3, cbk_bot_session_client_create(g_bot, NULL, "{}", e))
NULL_CALL(n_bot_async, cbk_bot_session_client_create_async(NULL, "ok", NULL, on_done, NULL, e))
NULL_CALL(n_bot_async2, cbk_bot_session_client_create_async(NULL, NULL, NULL, NULL, NULL, e))
NULL_CALL(n_bot_async3, cbk_bot_session_client_create_async(g_bot, NULL, NULL, on_done, NULL, e))
NULL_CALL(n_bot_fetch, cbk_bot_session_client_fetch(NULL, P, NULL, e))
NULL_CALL(n_bot_fetch2, cbk_bot_session_client_fetch(NULL, NULL, NULL, e))
NULL_CALL(n_bot_fetch3, cbk_bot_session_client_fetch(g_bot, NULL, NULL, e))
NULL_CALL(n_bot_options, cbk_bot_session_client_options(NULL, e))
NULL_CALL(n_task_wait, cbk_task_wait(NULL, e))

static const struct {
    const char *label;
    void *(*call)(cbk_error **);
    const char *names;
} NULL_ROWS[] = {
    /* label                                                          call             names */
    {"cbk_conversation_session_client_extend(client NULL)",           n_conv_extend,   "`client`"},
    {"cbk_conversation_session_client_extend(NULL, NULL)",            n_conv_extend2,  "`client`"},
    {"cbk_conversation_session_client_create(client NULL)",           n_conv_create,   "`client`"},
    {"cbk_conversation_session_client_create(NULL, NULL, NULL)",      n_conv_create2,  "`client`"},
    {"cbk_conversation_session_client_create(conversation_id NULL)",  n_conv_create3,  "`conversation_id`"},
    {"cbk_conversation_session_client_create_async(client NULL)",     n_conv_async,    "`client`"},
    {"cbk_conversation_session_client_create_async(all NULL)",        n_conv_async2,   "`client`"},
    {"cbk_conversation_session_client_create_async(conversation_id NULL)", n_conv_async3, "`conversation_id`"},
    {"cbk_conversation_session_client_fetch(client NULL)",            n_conv_fetch,    "`client`"},
    {"cbk_conversation_session_client_fetch(NULL, NULL, NULL)",       n_conv_fetch2,   "`client`"},
    {"cbk_conversation_session_client_fetch(path NULL)",              n_conv_fetch3,   "`path`"},
    {"cbk_conversation_session_client_options(client NULL)",          n_conv_options,  "`client`"},
    {"cbk_bot_session_client_extend(client NULL)",                    n_bot_extend,    "`client`"},
    {"cbk_bot_session_client_extend(NULL, NULL)",                     n_bot_extend2,   "`client`"},
    {"cbk_bot_session_client_create(client NULL)",                    n_bot_create,    "`client`"},
    {"cbk_bot_session_client_create(NULL, NULL, NULL)",               n_bot_create2,   "`client`"},
    {"cbk_bot_session_client_create(bot_id NULL)",                    n_bot_create3,   "`bot_id`"},
    {"cbk_bot_session_client_create_async(client NULL)",              n_bot_async,     "`client`"},
    {"cbk_bot_session_client_create_async(all NULL)",                 n_bot_async2,    "`client`"},
    {"cbk_bot_session_client_create_async(bot_id NULL)",              n_bot_async3,    "`bot_id`"},
    {"cbk_bot_session_client_fetch(client NULL)",                     n_bot_fetch,     "`client`"},
    {"cbk_bot_session_client_fetch(NULL, NULL, NULL)",                n_bot_fetch2,    "`client`"},
    {"cbk_bot_session_client_fetch(path NULL)",                       n_bot_fetch3,    "`path`"},
    {"cbk_bot_session_client_options(client NULL)",                   n_bot_options,   "`client`"},
    {"cbk_task_wait(task NULL)",                                      n_task_wait,     "`task`"},
};

static void run_null_rows(void)
{
    for (size_t i = 0; i < COUNT(NULL_ROWS); i++) {
        row_start("NULL argument: %s", NULL_ROWS[i].label);
        standin_clear();
        cbk_error *err = NULL;
        if (NULL_ROWS[i].call(&err) != NULL)
            fail("returned non-NULL");
        expect_error(err, ARG, NULL_ROWS[i].names);
        if (NULL_ROWS[i].call(NULL) != NULL)
            fail("returned non-NULL with a NULL error argument");
        expect_nothing_sent();
        row_end();
    }
}

/* ======================================================================== */
/* 5. The functions without an error argument, and NULLs that are allowed   */
/* ======================================================================== */

static void run_misc_rows(void)
{
    /* The error accessors and the freeing functions take NULL. */
    row_start("cbk_error_status(NULL) is CBK_ERROR_INVALID_ARGUMENT");
    if (cbk_error_status(NULL) != ARG)
        fail("got %s", status_name(cbk_error_status(NULL)));
    row_end();

    row_start("cbk_error_code(NULL) is \"\"");
    if (cbk_error_code(NULL) == NULL || cbk_error_code(NULL)[0] != '\0')
        fail("got %s", show(cbk_error_code(NULL)));
    row_end();

    row_start("cbk_error_message(NULL) is \"\"");
    if (cbk_error_message(NULL) == NULL || cbk_error_message(NULL)[0] != '\0')
        fail("got %s", show(cbk_error_message(NULL)));
    row_end();

    row_start("cbk_error_http_status(NULL) is 0");
    if (cbk_error_http_status(NULL) != 0)
        fail("got %d", cbk_error_http_status(NULL));
    row_end();

    row_start("cbk_error_to_json(NULL) is NULL");
    char *j = cbk_error_to_json(NULL);
    if (j != NULL)
        fail("got %s", show(j));
    cbk_string_free(j);
    row_end();

    row_start("cbk_error_free(NULL), cbk_string_free(NULL), cbk_task_free(NULL), cbk_task_cancel(NULL)");
    cbk_error_free(NULL);
    cbk_string_free(NULL);
    cbk_task_free(NULL);
    cbk_task_cancel(NULL);
    row_end();

    row_start("cbk_conversation_session_client_free(NULL), cbk_bot_session_client_free(NULL)");
    cbk_conversation_session_client_free(NULL);
    cbk_bot_session_client_free(NULL);
    row_end();

    row_start("cbk_task_wait(NULL, NULL) is NULL");
    char *w = cbk_task_wait(NULL, NULL);
    if (w != NULL)
        fail("got %s", show(w));
    cbk_string_free(w);
    row_end();

    row_start("cbk_version() is CHATBOTKIT_VERSION");
    if (cbk_version() == NULL || strcmp(cbk_version(), CHATBOTKIT_VERSION) != 0)
        fail("got %s, want %s", show(cbk_version()), CHATBOTKIT_VERSION);
    row_end();

    /* NULL options_json is {} for _new and a copy for _extend. */
    const char *const new_via[] = {"cbk_conversation_session_client_new(NULL)", "cbk_bot_session_client_new(NULL)"};
    for (int v = 0; v < 2; v++) {
        row_start("allowed NULL: %s makes a client with the defaults", new_via[v]);
        standin_clear();
        cbk_error *err = NULL;
        char *o = NULL;
        if (v == 0) {
            cbk_conversation_session_client *c = cbk_conversation_session_client_new(NULL, &err);
            o = c ? cbk_conversation_session_client_options(c, NULL) : NULL;
            cbk_conversation_session_client_free(c);
        } else {
            cbk_bot_session_client *c = cbk_bot_session_client_new(NULL, &err);
            o = c ? cbk_bot_session_client_options(c, NULL) : NULL;
            cbk_bot_session_client_free(c);
        }
        if (err != NULL) {
            fail("refused: %s", show(cbk_error_message(err)));
            cbk_error_free(err);
        }
        if (o == NULL || strstr(o, "\"baseUrl\":\"https://api.chatbotkit.com/\"") == NULL)
            fail("options: %s", show(o));
        cbk_string_free(o);
        expect_nothing_sent();
        row_end();
    }

    const char *const ext_via[] = {"cbk_conversation_session_client_extend(client, NULL)",
                                   "cbk_bot_session_client_extend(client, NULL)"};
    for (int v = 0; v < 2; v++) {
        row_start("allowed NULL: %s is a copy", ext_via[v]);
        standin_clear();
        char *a = NULL, *b = NULL;
        if (v == 0) {
            cbk_conversation_session_client *c = cbk_conversation_session_client_extend(g_conv, NULL, NULL);
            a = cbk_conversation_session_client_options(g_conv, NULL);
            b = c ? cbk_conversation_session_client_options(c, NULL) : NULL;
            cbk_conversation_session_client_free(c);
        } else {
            cbk_bot_session_client *c = cbk_bot_session_client_extend(g_bot, NULL, NULL);
            a = cbk_bot_session_client_options(g_bot, NULL);
            b = c ? cbk_bot_session_client_options(c, NULL) : NULL;
            cbk_bot_session_client_free(c);
        }
        if (a == NULL || b == NULL || strcmp(a, b) != 0)
            fail("the copy's options differ from the parent's");
        cbk_string_free(a);
        cbk_string_free(b);
        expect_nothing_sent();
        row_end();
    }

    /* NULL request_json is {}; NULL callback and user_data are allowed. */
    for (int via = 0; via < 4; via++) {
        row_start("allowed NULL: %s(request_json NULL, callback NULL) sends {}", CREATE_VIA[via]);
        standin_clear();
        cbk_error *err = NULL;
        char *r = NULL;
        if (via == VIA_CONV_CREATE) {
            r = cbk_conversation_session_client_create(g_conv, "nullreq", NULL, &err);
        } else if (via == VIA_BOT_CREATE) {
            r = cbk_bot_session_client_create(g_bot, "nullreq", NULL, &err);
        } else {
            cbk_task *t = via == VIA_CONV_ASYNC
                              ? cbk_conversation_session_client_create_async(g_conv, "nullreq", NULL, NULL, NULL, &err)
                              : cbk_bot_session_client_create_async(g_bot, "nullreq", NULL, NULL, NULL, &err);
            if (t != NULL) {
                r = cbk_task_wait(t, &err);
                cbk_task_free(t);
            }
        }
        if (r == NULL)
            fail("failed: %s", show(err ? cbk_error_message(err) : NULL));
        cbk_error_free(err);
        cbk_string_free(r);
        const char *route = via == VIA_CONV_CREATE || via == VIA_CONV_ASYNC ? "conversation" : "bot";
        char *log = expect_one_sent("POST", fmt("/api/v1/%s/nullreq/session/create", route));
        char body[32] = "";
        log_field(log, "body", body, sizeof body, NULL);
        if (strcmp(body, "{}") != 0)
            fail("body: got %s, want {}", show(body));
        cbk_string_free(log);
        row_end();
    }

    for (int via = 0; via < 2; via++) {
        row_start("allowed NULL: %s(options_json NULL) is a GET", FETCH_VIA[via]);
        standin_clear();
        cbk_error *err = NULL;
        char *r = call_fetch(via, "/v1/nullopts", NULL, &err);
        /* The stand-in answers 404 to this path: the request was made. */
        if (r != NULL || err == NULL || cbk_error_status(err) != CBK_ERROR_API || cbk_error_http_status(err) != 404)
            fail("want the stand-in's 404, got %s", r ? show(r) : show(cbk_error_message(err)));
        if (err)
            check_no_secret("message", cbk_error_message(err));
        cbk_error_free(err);
        cbk_string_free(r);
        cbk_string_free(expect_one_sent("GET", "/v1/nullopts"));
        row_end();
    }

    row_start("allowed NULL: error NULL on success, *error untouched on success");
    {
        cbk_conversation_session_client *c = cbk_conversation_session_client_new("{}", NULL);
        cbk_error *sentinel = (cbk_error *)(uintptr_t)0x1;
        cbk_error *err = sentinel;
        char *o = c ? cbk_conversation_session_client_options(c, &err) : NULL;
        if (c == NULL || o == NULL)
            fail("a valid call failed");
        if (err != sentinel)
            fail("*error was written on success");
        cbk_string_free(o);
        cbk_conversation_session_client_free(c);
    }
    row_end();
}

/* cbk_set_log_callback: no error argument; NULL callback turns logging off;
 * a level outside the enum must not crash. Each step makes one request. */
static void run_log_rows(void)
{
    static const struct {
        const char *label;
        int level;
        int with_callback;
    } LOG_ROWS[] = {
        {"callback NULL (logging off)", CBK_LOG_DEBUG, 0},
        {"callback NULL with level 0", 0, 0},
        {"level 0 (below CBK_LOG_ERROR)", 0, 1},
        {"level 99 (above CBK_LOG_DEBUG)", 99, 1},
        {"level -1", -1, 1},
        {"back to CBK_LOG_DEBUG", CBK_LOG_DEBUG, 1},
    };
    for (size_t i = 0; i < COUNT(LOG_ROWS); i++) {
        row_start("cbk_set_log_callback: %s", LOG_ROWS[i].label);
        standin_clear();
        cbk_set_log_callback((cbk_log_level)LOG_ROWS[i].level, LOG_ROWS[i].with_callback ? on_log : NULL, NULL);
        cbk_error *err = NULL;
        char *r = cbk_conversation_session_client_create(g_conv, "logrow", NULL, &err);
        if (r == NULL)
            fail("a call after it failed: %s", show(cbk_error_message(err)));
        cbk_error_free(err);
        cbk_string_free(r);
        cbk_string_free(expect_one_sent("POST", "/api/v1/conversation/logrow/session/create"));
        row_end();
    }
    cbk_set_log_callback(CBK_LOG_DEBUG, on_log, NULL);
}

/* ======================================================================== */

int main(void)
{
    g_base = getenv("CHATBOTKIT_API_BASE_URL");
    g_secret = getenv("CHATBOTKIT_API_SECRET");
    if (g_base == NULL || g_base[0] == '\0' || g_secret == NULL || strlen(g_secret) < 8) {
        printf("Bail out! run under scripts/with-standin.sh (CHATBOTKIT_API_BASE_URL, CHATBOTKIT_API_SECRET)\n");
        return 2;
    }
    cbk_set_log_callback(CBK_LOG_DEBUG, on_log, NULL);

    cbk_error *err = NULL;
    const char *opts = fmt("{\"secret\":\"%s\",\"baseUrl\":\"%s\",\"retries\":0}", g_secret, g_base);
    /* The probe reads logs that may hold a 10 MB body twice (text, base64). */
    const char *probe_opts =
        fmt("{\"secret\":\"%s\",\"baseUrl\":\"%s\",\"retries\":0,\"maxResponseBytes\":268435456}", g_secret, g_base);
    probe = cbk_conversation_session_client_new(probe_opts, &err);
    g_conv = cbk_conversation_session_client_new(opts, &err);
    g_bot = cbk_bot_session_client_new(opts, &err);
    if (probe == NULL || g_conv == NULL || g_bot == NULL) {
        printf("Bail out! cannot make the clients: %s\n", err ? cbk_error_message(err) : "?");
        return 2;
    }

    build_option_cases();
    build_create_cases();
    build_fetch_cases();

    run_null_rows();
    run_misc_rows();
    run_option_rows();
    run_create_rows();
    run_fetch_rows();
    run_sent_id_rows();
    run_large_request_rows();
    run_log_rows();

    row_start("every async callback ran exactly once (%ld tasks)", tasks_made);
    pthread_mutex_lock(&mu);
    long cbs = callbacks;
    pthread_mutex_unlock(&mu);
    if (cbs != tasks_made)
        fail("%ld callbacks for %ld tasks", cbs, tasks_made);
    row_end();

    cbk_conversation_session_client_free(g_conv);
    cbk_bot_session_client_free(g_bot);
    cbk_conversation_session_client_free(probe);

    row_start("no log line held a secret (%ld lines)", log_lines);
    cbk_set_log_callback(CBK_LOG_DEBUG, NULL, NULL);
    if (log_lines == 0)
        fail("no log line was seen");
    if (log_leaks != 0)
        fail("%ld log lines held a secret, e.g. %s", log_leaks, show(first_leak));
    row_end();

    free(option_cases);
    free(create_cases);
    free(fetch_cases);
    arena_free();

    printf("# %ld messages scanned for secrets\n", messages_scanned);
    printf("1..%d\n", n_rows);
    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed == 0 ? 0 : 1;
}
