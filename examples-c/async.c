/*
 * async.c - mint many conversation sessions concurrently with libchatbotkit's
 *           async API: cbk_conversation_session_client_create_async, a
 *           completion callback, and cbk_task_wait.
 *
 * The Node SDK equivalent:
 *
 *     const client = new ConversationSessionClient({ secret, baseUrl })
 *     const sessions = await Promise.allSettled(
 *         Array.from({ length: 100 }, () => client.create(conversationId, {})))
 *
 * All 100 requests are in flight at once on the library's internal runtime;
 * no thread of this program blocks until every one has been started.
 *
 * What the example shows:
 *   1. create_async returns at once with a task handle; the request runs on
 *      a library thread,
 *   2. the callback runs exactly once per task, on a library thread, with
 *      either the response JSON or an error -- both borrowed for the call,
 *      so it copies what it keeps,
 *   3. cbk_task_wait blocks until the task is done (its callback has
 *      returned) and hands back a copy of the same outcome,
 *   4. every task, string, error and client is freed.
 *
 * No locks are needed here: each callback writes only to its own slot, and
 * the main thread reads a slot only after cbk_task_wait on that slot's task
 * returned, which happens after the callback returned.
 *
 * Usage:
 *     CHATBOTKIT_API_SECRET=sk_... ./async [CONVERSATION_ID]
 *
 * Environment:
 *     CHATBOTKIT_API_SECRET       required: your ChatBotKit API secret
 *     CHATBOTKIT_API_BASE_URL     optional: another API base URL (e.g. a local stand-in)
 *     CHATBOTKIT_CONVERSATION_ID  optional: used when no argument is given
 *
 * Exit status: 0 when every session was minted, 1 when any failed (or a
 * library call failed), 2 on a usage error (e.g. the secret is not set).
 *
 * Build: cc -std=c99 async.c -I../include -L../target/release -lchatbotkit
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatbotkit.h"
#include "common.h"

/* How many sessions to mint at once. */
#define SESSION_COUNT 100

/* One request's bookkeeping.  The callback fills it in; main() reads it
 * after cbk_task_wait on the same task has returned. */
typedef struct session_slot {
    int index;          /* which request this is, 0..SESSION_COUNT-1 */
    int callback_calls; /* how many times the callback ran (always 1) */
    int ok;             /* 1 when a session was minted */
    char *token;        /* the session token (ours: free with free) */
    char *error_text;   /* "CODE: message" on failure (ours: free with free) */
} session_slot;

/* The completion callback.  Runs on a library thread, exactly once per
 * task.  `response_json` and `error` are borrowed: they are only valid
 * during this call, so copy what you need. */
static void on_session_created(void *user_data, const char *response_json, const cbk_error *error)
{
    session_slot *slot = user_data;
    slot->callback_calls++;
    if (response_json != NULL) {
        /* {"id": "...", "token": "...", "expiresAt": ...} */
        slot->token = json_get_string(response_json, "token");
        slot->ok = slot->token != NULL;
        if (!slot->ok) {
            const char *why = "the response has no \"token\"";
            slot->error_text = malloc(strlen(why) + 1);
            if (slot->error_text != NULL)
                strcpy(slot->error_text, why);
        }
    } else {
        /* cbk_error_code/message are borrowed from `error`: copy them. */
        const char *code = cbk_error_code(error);
        const char *message = cbk_error_message(error);
        size_t size = strlen(code) + strlen(message) + 3;
        slot->error_text = malloc(size);
        if (slot->error_text != NULL)
            snprintf(slot->error_text, size, "%s: %s", code, message);
    }
    /* A real program could also signal a condition variable, push to a
     * queue, or start the next piece of work here.  Blocking library calls
     * are allowed in a callback; cbk_task_wait on its own task is not. */
}

int main(int argc, char **argv)
{
    /* 1. Options from the environment (see common.h): the secret is
     *    required, the base URL optional, both escaped into the JSON. */
    char *options_json = NULL;
    int rc = example_options_from_env(argc > 0 ? argv[0] : "async", "[CONVERSATION_ID]", &options_json);
    if (rc != 0)
        return rc;
    const char *base_url = env_nonempty("CHATBOTKIT_API_BASE_URL"); /* for messages */
    const char *conversation_id = argc > 1 ? argv[1] : env_nonempty("CHATBOTKIT_CONVERSATION_ID");
    if (conversation_id == NULL)
        conversation_id = "conv_demo";

    printf("libchatbotkit %s\n", cbk_version());

    int exit_code = 1;
    cbk_error *error = NULL;
    session_slot slots[SESSION_COUNT];
    cbk_task *tasks[SESSION_COUNT];
    int started = 0; /* how many tasks were started (and must be waited for and freed) */
    memset(slots, 0, sizeof slots);
    memset(tasks, 0, sizeof tasks);

    /* 3. One client for all requests: handles are safe to share between
     *    threads and reuse one connection pool. */
    cbk_conversation_session_client *client = cbk_conversation_session_client_new(options_json, &error);
    if (client == NULL) {
        print_cbk_error("cbk_conversation_session_client_new", error);
        goto done;
    }

    /* 4. Start every request.  create_async checks its arguments now (a bad
     *    one returns NULL with `error` set, and the callback never runs),
     *    then returns at once. */
    printf("minting %d conversation sessions for \"%s\" concurrently%s%s\n", SESSION_COUNT, conversation_id,
           base_url ? " at " : "", base_url ? base_url : "");
    for (int i = 0; i < SESSION_COUNT; i++) {
        slots[i].index = i;
        tasks[i] = cbk_conversation_session_client_create_async(client, conversation_id, NULL, on_session_created,
                                                                &slots[i], &error);
        if (tasks[i] == NULL) {
            print_cbk_error("cbk_conversation_session_client_create_async", error);
            break; /* the ones already started are still waited for below */
        }
        started++;
    }

    /* The client may be freed now: tasks in flight keep what they need. */
    cbk_conversation_session_client_free(client);
    client = NULL;

    /* 5. Wait for each task.  cbk_task_wait returns after the task's
     *    callback has returned, with a copy of its outcome: the response JSON
     *    (free with cbk_string_free), or NULL and a copy of the error (free
     *    with cbk_error_free).  The callback already recorded everything, so
     *    the copies are just freed here. */
    for (int i = 0; i < started; i++) {
        cbk_error *task_error = NULL;
        char *response = cbk_task_wait(tasks[i], &task_error);
        cbk_string_free(response);
        cbk_error_free(task_error);
        cbk_task_free(tasks[i]); /* release the handle */
        tasks[i] = NULL;
    }

    /* 6. Report: how many succeeded, the first token, the first failure. */
    int succeeded = 0, failed = 0, first_ok = -1, first_failed = -1;
    for (int i = 0; i < started; i++) {
        if (slots[i].callback_calls != 1)
            fprintf(stderr, "warning: the callback of request %d ran %d times\n", i, slots[i].callback_calls);
        if (slots[i].ok) {
            succeeded++;
            if (first_ok < 0)
                first_ok = i;
        } else {
            failed++;
            if (first_failed < 0)
                first_failed = i;
        }
    }
    printf("%d of %d sessions minted, %d failed\n", succeeded, SESSION_COUNT, failed + (SESSION_COUNT - started));
    if (first_ok >= 0)
        printf("first token (request %d): %s\n", first_ok, slots[first_ok].token);
    if (first_failed >= 0)
        fprintf(stderr, "first failure (request %d): %s\n", first_failed,
                slots[first_failed].error_text ? slots[first_failed].error_text : "(out of memory)");
    exit_code = (succeeded == SESSION_COUNT) ? 0 : 1;

done:
    /* 7. Free everything.  All of these accept NULL. */
    for (int i = 0; i < SESSION_COUNT; i++) {
        free(slots[i].token);
        free(slots[i].error_text);
    }
    cbk_error_free(error);
    cbk_conversation_session_client_free(client);
    free(options_json);
    return exit_code;
}
