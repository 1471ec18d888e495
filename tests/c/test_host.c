/*
 * test_host.c - what the library does to its host process: it never raises
 * SIGPIPE there (the disposition stays the C default, which would end this
 * program with status 141), and it changes neither the signal's disposition
 * nor the calling thread's signal mask.
 *
 * A server in this process (a thread on 127.0.0.1) reads the start of each
 * upload, then resets the connection while the client is still writing (or
 * answers, or streams JSON lines: the stream test, for ownership under
 * valgrind, sits here for that server).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

/* ---- a server that resets uploads ---------------------------------------- */

static int g_listener = -1;
static int g_port;
static volatile int g_stop;

/* What each connection does: read this much of the request, then RST (or,
 * for keep-alive connections, answer, wait, then RST while idle). */
enum mode { RESET_MID_UPLOAD, ANSWER_THEN_RESET_IDLE, STREAM_LINES };
static volatile enum mode g_mode;

static const char ANSWER[] = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 36\r\n\r\n"
                             "{\"id\":\"s\",\"token\":\"t\",\"expiresAt\":1}";

static void reset_close(int fd)
{
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Reads until the end of a request (head and content-length body), at most
 * `cap` bytes in all; returns the bytes read. */
static long read_some(int fd, long cap)
{
    static char buf[65536];
    long got = 0;
    while (got < cap) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            break;
        got += n;
    }
    return got;
}

static void *serve(void *arg)
{
    (void)arg;
    /* Only library threads may be left to take a process-wide SIGUSR1 in
     * the signal test. */
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &usr1, NULL);
    /* Bounded: 64 connections at most; the test closes the listener. */
    for (int i = 0; i < 64 && !g_stop; i++) {
        int fd = accept(g_listener, NULL, NULL);
        if (fd < 0)
            break;
        struct timeval tv = {5, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (g_mode == RESET_MID_UPLOAD) {
            read_some(fd, 64 * 1024);
            reset_close(fd);
        } else if (g_mode == STREAM_LINES) {
            /* Three JSON lines, 20 ms apart, in chunks. */
            char buf[4096];
            static const char *const chunks[] = {"8\r\n{\"n\":1}\n\r\n", "8\r\n{\"n\":2}\n\r\n",
                                                 "8\r\n{\"n\":3}\n\r\n0\r\n\r\n"};
            static const char head[] = "HTTP/1.1 200 OK\r\ncontent-type: application/jsonl\r\n"
                                       "transfer-encoding: chunked\r\n\r\n";
            if (recv(fd, buf, sizeof buf, 0) > 0 && send(fd, head, sizeof head - 1, MSG_NOSIGNAL) > 0)
                for (int k = 0; k < 3; k++) {
                    sleep_ms(20);
                    if (send(fd, chunks[k], strlen(chunks[k]), MSG_NOSIGNAL) < 0)
                        break;
                }
            close(fd);
        } else {
            /* A small request: its head and body come in one read. */
            char buf[4096];
            if (recv(fd, buf, sizeof buf, 0) > 0 && send(fd, ANSWER, sizeof ANSWER - 1, MSG_NOSIGNAL) > 0)
                sleep_ms(50);
            reset_close(fd);
        }
    }
    return NULL;
}

static pthread_t g_server;

static int start_server(void)
{
    g_listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (g_listener < 0 || bind(g_listener, (struct sockaddr *)&a, sizeof a) != 0 || listen(g_listener, 16) != 0 ||
        getsockname(g_listener, (struct sockaddr *)&a, &len) != 0)
        return 0;
    g_port = ntohs(a.sin_port);
    return pthread_create(&g_server, NULL, serve, NULL) == 0;
}

static void stop_server(void)
{
    g_stop = 1;
    shutdown(g_listener, SHUT_RDWR);
    close(g_listener);
    pthread_join(g_server, NULL);
}

/* ---- helpers ---------------------------------------------------------------- */

#define SECRET "sk_host_SECRET_Zq81"

static cbk_conversation_session_client *client(void)
{
    char opts[256];
    snprintf(opts, sizeof opts, "{\"secret\":\"" SECRET "\",\"baseUrl\":\"http://127.0.0.1:%d\",\"retries\":0}",
             g_port);
    cbk_error *err = NULL;
    cbk_conversation_session_client *c = cbk_conversation_session_client_new(opts, &err);
    cbk_error_free(err);
    return c;
}

/* A request JSON of about `bytes` bytes. */
static char *big_request(size_t bytes)
{
    char *s = malloc(bytes + 16);
    if (s == NULL)
        return NULL;
    strcpy(s, "{\"pad\":\"");
    memset(s + 8, 'x', bytes);
    strcpy(s + 8 + bytes, "\"}");
    return s;
}

static int sigpipe_is_default(void)
{
    struct sigaction sa;
    return sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL;
}

static int sigpipe_blocked_here(void)
{
    sigset_t now;
    pthread_sigmask(SIG_BLOCK, NULL, &now);
    return sigismember(&now, SIGPIPE);
}

/* ---- tests ---------------------------------------------------------------------- */

/* Copies each item (borrowed for the call only); stops after `stop_after`. */
struct items {
    char *got[8];
    int n, stop_after;
};

static int collect(void *user_data, const char *item_json)
{
    struct items *it = user_data;
    if (it->n < 8)
        it->got[it->n++] = strdup(item_json);
    return it->stop_after > 0 && it->n >= it->stop_after;
}

static void free_items(struct items *it)
{
    for (int i = 0; i < it->n; i++)
        free(it->got[i]);
}

static void test_stream_hands_items_to_the_calling_thread(void)
{
    g_mode = STREAM_LINES;
    cbk_conversation_session_client *c = client();
    REQUIRE(c != NULL);
    struct items all = {{0}, 0, 0};
    cbk_error *err = NULL;
    cbk_status st = cbk_conversation_session_client_fetch_stream(c, "/stream", NULL, collect, &all, &err);
    CHECK(st == CBK_OK && err == NULL);
    CHECK_INT_EQ(all.n, 3);
    if (all.n == 3) {
        CHECK_STR_EQ(all.got[0], "{\"n\":1}");
        CHECK_STR_EQ(all.got[2], "{\"n\":3}");
    }
    free_items(&all);
    /* Stop after the first: CBK_OK, one item. */
    struct items one = {{0}, 0, 1};
    st = cbk_conversation_session_client_fetch_stream(c, "/stream", NULL, collect, &one, &err);
    CHECK(st == CBK_OK && err == NULL);
    CHECK_INT_EQ(one.n, 1);
    free_items(&one);
    /* Async: items on a library thread, then the summary; and async fetch. */
    struct items async_items = {{0}, 0, 0};
    cbk_task *t = cbk_conversation_session_client_fetch_stream_async(c, "/stream", NULL, collect, NULL,
                                                                     &async_items, &err);
    REQUIRE(t != NULL);
    char *summary = cbk_task_wait(t, &err);
    CHECK_STR_EQ(summary, "{\"items\":3,\"stopped\":false}");
    CHECK_INT_EQ(async_items.n, 3);
    cbk_string_free(summary);
    cbk_task_free(t);
    free_items(&async_items);
    t = cbk_conversation_session_client_fetch_async(c, "/stream", NULL, NULL, NULL, &err);
    REQUIRE(t != NULL);
    char *fetched = cbk_task_wait(t, &err);
    /* Not JSON as a whole (three lines): fetch's base64 envelope. */
    CHECK(fetched != NULL && strstr(fetched, "\"encoding\":\"base64\"") != NULL);
    cbk_string_free(fetched);
    cbk_task_free(t);
    /* Cancelled before it could finish: CANCELLED, and its items freed. */
    struct items cancelled = {{0}, 0, 0};
    t = cbk_conversation_session_client_fetch_stream_async(c, "/stream", NULL, collect, NULL, &cancelled, &err);
    REQUIRE(t != NULL);
    cbk_task_cancel(t);
    char *none = cbk_task_wait(t, &err);
    CHECK(none == NULL);
    EXPECT_ERROR(err, CBK_ERROR_CANCELLED, "CANCELLED", -1, NULL);
    err = NULL;
    cbk_task_free(t);
    free_items(&cancelled);
        /* No callback: refused, nothing sent. */
    st = cbk_conversation_session_client_fetch_stream(c, "/stream", NULL, NULL, NULL, &err);
    CHECK(st == CBK_ERROR_INVALID_ARGUMENT);
    EXPECT_ERROR(err, CBK_ERROR_INVALID_ARGUMENT, "INVALID_ARGUMENT", -1, "on_item");
    cbk_conversation_session_client_free(c);
}

static volatile sig_atomic_t g_usr1_handled;

static void on_usr1(int sig)
{
    (void)sig;
    g_usr1_handled = 1;
}

static void test_library_threads_take_no_signal_meant_for_the_host(void)
{
    /* Library threads start while this thread's mask lets SIGUSR1 through:
     * they must block it themselves. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    REQUIRE(sigaction(SIGUSR1, &sa, NULL) == 0);
    g_mode = ANSWER_THEN_RESET_IDLE;
    cbk_conversation_session_client *c = client();
    REQUIRE(c != NULL);
    cbk_task *t = cbk_conversation_session_client_create_async(c, "start-workers", NULL, NULL, NULL, NULL);
    REQUIRE(t != NULL);
    char *json = cbk_task_wait(t, NULL);
    cbk_string_free(json);
    cbk_task_free(t);
    json = cbk_conversation_session_client_create(c, "start-housekeeper", NULL, NULL);
    cbk_string_free(json);
    /* Now only library threads and the server thread remain that could take
     * a process-wide SIGUSR1; the server thread and this one block it. */
    sigset_t usr1, old;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &usr1, &old);
    g_usr1_handled = 0;
    for (int i = 0; i < 20; i++) {
        kill(getpid(), SIGUSR1);
        sleep_ms(5);
        struct timespec zero = {0, 0};
        sigtimedwait(&usr1, NULL, &zero);
    }
    CHECK(!g_usr1_handled);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    signal(SIGUSR1, SIG_DFL);
    cbk_conversation_session_client_free(c);
}

static void test_blocking_upload_reset_by_the_server_is_a_network_error(void)
{
    g_mode = RESET_MID_UPLOAD;
    cbk_conversation_session_client *c = client();
    char *req = big_request(4 << 20);
    REQUIRE(c != NULL && req != NULL);
    for (int i = 0; i < 3; i++) {
        cbk_error *err = NULL;
        char *json = cbk_conversation_session_client_create(c, "upload", req, &err);
        CHECK(json == NULL);
        EXPECT_ERROR(err, CBK_ERROR_NETWORK, "NETWORK_ERROR", -1, NULL);
        cbk_string_free(json);
    }
    /* Still alive, and nothing about SIGPIPE changed for the host. */
    CHECK(sigpipe_is_default());
    CHECK(!sigpipe_blocked_here());
    free(req);
    cbk_conversation_session_client_free(c);
}

static void test_async_upload_reset_by_the_server_is_a_network_error(void)
{
    g_mode = RESET_MID_UPLOAD;
    cbk_conversation_session_client *c = client();
    char *req = big_request(4 << 20);
    REQUIRE(c != NULL && req != NULL);
    cbk_task *t = cbk_conversation_session_client_create_async(c, "upload-async", req, NULL, NULL, NULL);
    REQUIRE(t != NULL);
    cbk_error *err = NULL;
    char *json = cbk_task_wait(t, &err);
    CHECK(json == NULL);
    EXPECT_ERROR(err, CBK_ERROR_NETWORK, "NETWORK_ERROR", -1, NULL);
    cbk_string_free(json);
    cbk_task_free(t);
    CHECK(sigpipe_is_default());
    free(req);
    cbk_conversation_session_client_free(c);
}

static void test_big_upload_after_the_server_reset_an_idle_connection(void)
{
    /* The pooled connection is reset while idle; the next call uploads 1 MB.
     * It must not be written to the dead connection (nor raise SIGPIPE). */
    g_mode = ANSWER_THEN_RESET_IDLE;
    cbk_conversation_session_client *c = client();
    char *req = big_request(1 << 20);
    REQUIRE(c != NULL && req != NULL);
    cbk_error *err = NULL;
    char *json = cbk_conversation_session_client_create(c, "first", NULL, &err);
    CHECK(json != NULL);
    cbk_string_free(json);
    cbk_error_free(err);
    sleep_ms(200);
    err = NULL;
    json = cbk_conversation_session_client_create(c, "second", req, &err);
    /* The server answers without reading the whole upload, then resets: an
     * answer or a network error are both fine; dying of SIGPIPE is not. */
    CHECK(json != NULL || (err != NULL && cbk_error_status(err) == CBK_ERROR_NETWORK));
    cbk_string_free(json);
    cbk_error_free(err);
    CHECK(sigpipe_is_default());
    CHECK(!sigpipe_blocked_here());
    free(req);
    cbk_conversation_session_client_free(c);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!start_server()) {
        printf("Bail out! the test server could not start\n");
        return 2;
    }
    /* The C default; say so, in case the environment ignored it. */
    signal(SIGPIPE, SIG_DFL);
    register_secret(SECRET);
    RUN(test_blocking_upload_reset_by_the_server_is_a_network_error);
    RUN(test_async_upload_reset_by_the_server_is_a_network_error);
    RUN(test_big_upload_after_the_server_reset_an_idle_connection);
    RUN(test_library_threads_take_no_signal_meant_for_the_host);
    RUN(test_stream_hands_items_to_the_calling_thread);
    RUN(test_no_message_contained_a_secret);
    stop_server();
    return test_summary();
}
