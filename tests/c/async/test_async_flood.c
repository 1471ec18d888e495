/*
 * test_async_flood.c - many task callbacks making blocking library calls at
 * the same time.
 *
 * The header promises both "thousands of tasks may be in flight at once" and
 * "blocking calls may be made from any thread, including from inside a
 * callback, without deadlock".  Here FLOOD tasks complete at about the same
 * time and every callback makes a blocking create (of a session the server
 * holds for INNER_ID's 3 s), so several hundred callbacks are blocked in the
 * library at once.  All of them must finish.
 *
 * Runs natively only (not under valgrind, whose default --max-threads is
 * 500).  Against the stand-in (run under scripts/with-standin.sh).
 */
#include "async_test.h"

#define FLOOD 600
#define INNER_ID "slow-3000"
#define FLOOD_WAIT_MS 45000

static cbk_conversation_session_client *g_client;
static atomic_int g_entered, g_finished, g_inner_ok, g_outer_ok, g_blocked_now, g_peak_blocked;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv;

static void flood_callback(void *user_data, const char *json, const cbk_error *error)
{
    (void)user_data;
    (void)error;
    atomic_fetch_add(&g_entered, 1);
    if (json != NULL)
        atomic_fetch_add(&g_outer_ok, 1);
    int now = atomic_fetch_add(&g_blocked_now, 1) + 1;
    int peak = atomic_load(&g_peak_blocked);
    while (now > peak && !atomic_compare_exchange_weak(&g_peak_blocked, &peak, now)) {
    }
    char *inner = cbk_conversation_session_client_create(g_client, INNER_ID, NULL, NULL);
    if (is_session(inner))
        atomic_fetch_add(&g_inner_ok, 1);
    cbk_string_free(inner);
    atomic_fetch_sub(&g_blocked_now, 1);
    pthread_mutex_lock(&g_mu);
    atomic_fetch_add(&g_finished, 1);
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
}

static int thread_count(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        return -1;
    char line[256];
    int n = -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, "Threads:", 8) == 0)
            n = atoi(line + 8);
    fclose(f);
    return n;
}

static void test_blocking_creates_from_many_callbacks_at_once(void)
{
    g_client = conv_client(NULL);
    REQUIRE(g_client != NULL);
    mono_cond_init(&g_cv);
    static cbk_task *tasks[FLOOD];
    long long started = now_ms();
    for (int i = 0; i < FLOOD; i++) {
        tasks[i] = cbk_conversation_session_client_create_async(g_client, "conv_flood", NULL, flood_callback, NULL,
                                                                NULL);
        if (tasks[i] == NULL)
            abort();
    }
    int peak_threads = 0;
    long long until = now_ms() + FLOOD_WAIT_MS, last_note = 0;
    pthread_mutex_lock(&g_mu);
    while (atomic_load(&g_finished) < FLOOD && now_ms() < until) {
        struct timespec dl = deadline_after(100);
        pthread_cond_timedwait(&g_cv, &g_mu, &dl);
        int th = thread_count();
        if (th > peak_threads)
            peak_threads = th;
        if (now_ms() - last_note >= 5000) {
            last_note = now_ms();
            note("t=%llds: %d callbacks entered, %d finished, %d blocked in a create now, %d threads",
                 (now_ms() - started) / 1000, atomic_load(&g_entered), atomic_load(&g_finished),
                 atomic_load(&g_blocked_now), th);
        }
    }
    pthread_mutex_unlock(&g_mu);
    note("%d tasks: %d callbacks entered, %d finished (%d outer ok, %d inner ok); at most %d callbacks blocked at "
         "once; peak %d threads; %lld ms",
         FLOOD, atomic_load(&g_entered), atomic_load(&g_finished), atomic_load(&g_outer_ok),
         atomic_load(&g_inner_ok), atomic_load(&g_peak_blocked), peak_threads, now_ms() - started);
    if (atomic_load(&g_finished) < FLOOD) {
        FAIL("deadlock: %d of %d callbacks still blocked in cbk_conversation_session_client_create after %d s",
             atomic_load(&g_blocked_now), FLOOD, FLOOD_WAIT_MS / 1000);
        t_hung(__FILE__, __LINE__, "the flood of blocking creates in callbacks");
    }
    CHECK_INT_EQ(atomic_load(&g_outer_ok), FLOOD);
    CHECK_INT_EQ(atomic_load(&g_inner_ok), FLOOD);
    for (int i = 0; i < FLOOD; i++)
        cbk_task_free(tasks[i]);
    cbk_conversation_session_client_free(g_client);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!standin_env())
        return 1;
    printf("# libchatbotkit %s, %d callbacks blocking at once, against %s\n", cbk_version(), FLOOD, g_base_url);
    RUN(test_blocking_creates_from_many_callbacks_at_once);
    return test_summary();
}
