/*
 * test_async_fork.c - the library in a forked child.
 *
 * The parent uses the library (blocking and async, so its runtime and
 * connection pool exist), forks while no other thread is inside a library
 * call, and the child creates sessions with the parent's handle and with a
 * new one, blocking and async; the child exits 0 only when all of that
 * worked.  After waitpid the parent creates again with its handles.
 *
 * Against the stand-in (run under scripts/with-standin.sh).  Runs under
 * valgrind (which follows fork() and checks the child as well) and natively.
 */
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "async_test.h"

static cbk_conversation_session_client *g_conv;
static cbk_bot_session_client *g_bot;

/* The child's checks: print diagnostics, count failures. */
static int child_failures;

static void child_check(int ok, const char *what, const char *json, cbk_error *err)
{
    if (!ok) {
        child_failures++;
        printf("#   child (pid %ld): %s failed: json=%s error=%s/%s\n", (long)getpid(), what,
               json ? json : "(NULL)", err ? cbk_error_code(err) : "-", err ? cbk_error_message(err) : "-");
        fflush(stdout);
    }
}

/* Everything the child does.  Returns its exit status. */
static int child_main(int round)
{
    cbk_error *err = NULL;

    /* 1. The parent's handle, blocking. */
    char *json = cbk_conversation_session_client_create(g_conv, "conv_child_parent_handle", "{}", &err);
    child_check(is_session(json), "create with the parent's handle", json, err);
    cbk_string_free(json);
    cbk_error_free(err);
    err = NULL;

    /* 2. A new handle, blocking. */
    cbk_conversation_session_client *mine = conv_client(NULL);
    child_check(mine != NULL, "client_new in the child", NULL, NULL);
    json = cbk_conversation_session_client_create(mine, "conv_child_new_handle", "{}", &err);
    child_check(is_session(json), "create with a new handle", json, err);
    cbk_string_free(json);
    cbk_error_free(err);
    err = NULL;

    /* 3. A handle derived in the child from the parent's. */
    cbk_conversation_session_client *derived = cbk_conversation_session_client_extend(g_conv, "{\"retries\":1}", &err);
    child_check(derived != NULL, "extend in the child", NULL, err);
    cbk_error_free(err);
    err = NULL;
    json = cbk_conversation_session_client_create(derived, "conv_child_derived", NULL, &err);
    child_check(is_session(json), "create with a derived handle", json, err);
    cbk_string_free(json);
    cbk_error_free(err);
    err = NULL;

    /* 4. Async with callbacks, on the parent's handles and the new one. */
    rec_t r1, r2, r3;
    rec_init(&r1);
    rec_init(&r2);
    rec_init(&r3);
    cbk_task *t1 = cbk_conversation_session_client_create_async(g_conv, "slow-100", NULL, rec_callback, &r1, NULL);
    cbk_task *t2 = cbk_bot_session_client_create_async(g_bot, "bot_child", NULL, rec_callback, &r2, NULL);
    cbk_task *t3 = cbk_conversation_session_client_create_async(mine, "conv_child_async", NULL, rec_callback, &r3, NULL);
    child_check(t1 != NULL && t2 != NULL && t3 != NULL, "create_async in the child", NULL, NULL);
    if (t1 != NULL && t2 != NULL && t3 != NULL) {
        int done = rec_wait(&r1, 1, WAIT_MS) && rec_wait(&r2, 1, WAIT_MS) && rec_wait(&r3, 1, WAIT_MS);
        if (!done)
            t_hung(__FILE__, __LINE__, "a callback in the forked child");
        child_check(is_session(r1.json), "async create (parent's handle)", r1.json, NULL);
        child_check(is_session(r2.json) && strstr(r2.json, "conversationId") != NULL, "async bot create (parent's handle)",
                    r2.json, NULL);
        child_check(is_session(r3.json), "async create (new handle)", r3.json, NULL);
        /* cbk_task_wait on every task: it returns only once the library is
         * done with the task (its callback has returned), so that no
         * library thread is busy when this child forks again below. */
        cbk_task *all[3] = { t1, t2, t3 };
        rec_t *recs[3] = { &r1, &r2, &r3 };
        for (int i = 0; i < 3; i++) {
            json = TASK_WAIT(all[i], &err);
            child_check(json != NULL && recs[i]->json != NULL && strcmp(json, recs[i]->json) == 0,
                        "cbk_task_wait in the child", json, err);
            cbk_string_free(json);
            cbk_error_free(err);
            err = NULL;
        }
        sleep_ms(100);
        child_check(atomic_load(&r1.calls) == 1 && atomic_load(&r2.calls) == 1 && atomic_load(&r3.calls) == 1,
                    "each callback ran exactly once", NULL, NULL);
    }
    cbk_task_free(t1);
    cbk_task_free(t2);
    cbk_task_free(t3);
    rec_destroy(&r1);
    rec_destroy(&r2);
    rec_destroy(&r3);

    /* 5. Cancel works in the child too. */
    rec_t rc;
    rec_init(&rc);
    cbk_task *tc = cbk_conversation_session_client_create_async(mine, "slow-3000", NULL, rec_callback, &rc, NULL);
    child_check(tc != NULL, "create_async (to cancel) in the child", NULL, NULL);
    if (tc != NULL) {
        sleep_ms(100);
        cbk_task_cancel(tc);
        if (!rec_wait(&rc, 1, WAIT_MS))
            t_hung(__FILE__, __LINE__, "a cancelled task's callback in the forked child");
        child_check(rc.had_error && rc.status == CBK_ERROR_CANCELLED, "cancel in the child", rc.json, NULL);
        json = TASK_WAIT(tc, &err);
        child_check(json == NULL && err != NULL && cbk_error_status(err) == CBK_ERROR_CANCELLED,
                    "cbk_task_wait on a cancelled task in the child", json, err);
        cbk_string_free(json);
        cbk_error_free(err);
        err = NULL;
        cbk_task_free(tc);
    }
    rec_destroy(&rc);

    /* 6. A grandchild: fork again from the child, after the child's runtime exists. */
    if (round == 0) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            int status = child_main(1);
            fflush(stdout);
            exit(status);
        }
        child_check(pid > 0, "fork in the child", NULL, NULL);
        if (pid > 0) {
            int status = 0;
            long long until = now_ms() + 3L * WAIT_MS;
            pid_t got = 0;
            while ((got = waitpid(pid, &status, WNOHANG)) == 0 && now_ms() < until)
                sleep_ms(20);
            if (got == 0) {
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
                child_check(0, "the grandchild finished in time", NULL, NULL);
            } else {
                if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
                    printf("#   the grandchild's wait status is %d (exit status %d; under valgrind, 1 is also "
                           "valgrind's --error-exitcode: see its LEAK SUMMARY above)\n",
                           status, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
                    child_check(0, "the grandchild", NULL, NULL);
                }
            }
        }
    }

    /* Free the parent's handles in the child too, as a program would. */
    cbk_conversation_session_client_free(derived);
    cbk_conversation_session_client_free(mine);
    cbk_conversation_session_client_free(g_conv);
    cbk_bot_session_client_free(g_bot);
    g_conv = NULL;
    g_bot = NULL;
    if (child_failures == 0)
        printf("# %s (pid %ld): all checks passed\n", round == 0 ? "child" : "grandchild", (long)getpid());
    return child_failures == 0 ? 0 : 1;
}

/* Forks and waits (bounded) for the child; returns its wait status. */
static int fork_and_wait(int *status)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        FAIL("fork failed");
        return 0;
    }
    if (pid == 0) {
        int rc = child_main(0);
        fflush(stdout);
        exit(rc);
    }
    long long until = now_ms() + 4L * WAIT_MS;
    pid_t got = 0;
    while ((got = waitpid(pid, status, WNOHANG)) == 0 && now_ms() < until)
        sleep_ms(20);
    if (got == 0) {
        printf("#   the child (pid %ld) did not finish within %d ms\n", (long)pid, 4 * WAIT_MS);
        const char *hang = getenv("CBK_TEST_HANG");
        if (hang == NULL || hang[0] != '1')
            kill(pid, SIGKILL);
        waitpid(pid, status, 0);
        return 0;
    }
    return 1;
}

static void check_child_status(int status)
{
    if (WIFSIGNALED(status))
        FAIL("the child died of signal %d", WTERMSIG(status));
    else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        FAIL("the child exited with status %d (under valgrind, 1 is also valgrind's --error-exitcode: "
             "see the child's LEAK SUMMARY above)", WEXITSTATUS(status));
}

static void test_parent_uses_library_before_fork(void)
{
    g_conv = conv_client(NULL);
    g_bot = bot_client(NULL);
    REQUIRE(g_conv != NULL && g_bot != NULL);
    char *json = cbk_conversation_session_client_create(g_conv, "conv_parent_before", NULL, NULL);
    CHECK(is_session(json));
    cbk_string_free(json);
    /* Async too, so that runtime threads and pooled connections exist. */
    rec_t r;
    rec_init(&r);
    cbk_task *t = cbk_bot_session_client_create_async(g_bot, "bot_parent_before", NULL, rec_callback, &r, NULL);
    REQUIRE(t != NULL);
    REC_WAIT(&r);
    CHECK(is_session(r.json));
    char *again = TASK_WAIT(t, NULL);
    CHECK_STR_EQ(again, r.json);
    cbk_string_free(again);
    cbk_task_free(t);
    rec_destroy(&r);
}

static void test_child_creates_with_old_and_new_handles(void)
{
    REQUIRE(g_conv != NULL && g_bot != NULL);
    int status = 0;
    if (!fork_and_wait(&status)) {
        FAIL("the forked child hung");
        return;
    }
    check_child_status(status);
}

static void test_parent_creates_after_waitpid(void)
{
    REQUIRE(g_conv != NULL && g_bot != NULL);
    cbk_error *err = NULL;
    char *json = cbk_conversation_session_client_create(g_conv, "conv_parent_after", NULL, &err);
    CHECK(is_session(json));
    if (json == NULL)
        EXPECT_ERROR(err, CBK_OK, NULL, -1, NULL);
    cbk_string_free(json);
    rec_t r;
    rec_init(&r);
    cbk_task *t = cbk_bot_session_client_create_async(g_bot, "bot_parent_after", NULL, rec_callback, &r, NULL);
    REQUIRE(t != NULL);
    REC_WAIT(&r);
    CHECK(is_session(r.json));
    CHECK_ONCE(&r);
    cbk_task_free(t);
    rec_destroy(&r);
    cbk_conversation_session_client *fresh = conv_client(NULL);
    json = cbk_conversation_session_client_create(fresh, "conv_parent_fresh", NULL, NULL);
    CHECK(is_session(json));
    cbk_string_free(json);
    cbk_conversation_session_client_free(fresh);
}

/* Fork while an async task of the parent is still waiting on the server (no
 * thread is inside a library call: the request is on the runtime).  The
 * parent's task still completes; the child does its own work. */
static void test_fork_with_a_task_in_flight(void)
{
    REQUIRE(g_conv != NULL && g_bot != NULL);
    rec_t r;
    rec_init(&r);
    cbk_task *t = cbk_conversation_session_client_create_async(g_conv, "slow-1000", NULL, rec_callback, &r, NULL);
    REQUIRE(t != NULL);
    sleep_ms(200);
    int status = 0;
    if (!fork_and_wait(&status))
        FAIL("the forked child hung");
    else
        check_child_status(status);
    REC_WAIT(&r);
    CHECK(is_session(r.json));
    CHECK_ONCE(&r);
    cbk_task_free(t);
    rec_destroy(&r);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!standin_env())
        return 1;
    printf("# libchatbotkit %s, fork, against %s\n", cbk_version(), g_base_url);
    RUN(test_parent_uses_library_before_fork);
    RUN(test_child_creates_with_old_and_new_handles);
    RUN(test_parent_creates_after_waitpid);
    RUN(test_fork_with_a_task_in_flight);
    cbk_conversation_session_client_free(g_conv);
    cbk_bot_session_client_free(g_bot);
    return test_summary();
}
