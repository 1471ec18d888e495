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
 *      so it keeps a parsed copy,
 *   3. cbk_task_wait blocks until the task is done (its callback has
 *      returned) and hands back a copy of the same outcome,
 *   4. every task, string, error, JSON tree and client is freed.
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
 */
#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "chatbotkit.h"
#include "common.h"

/* How many sessions to mint at once. */
#define SESSION_COUNT 100

/* One request's outcome.  The callback fills it in; main() reads it after
 * cbk_task_wait on the same task has returned. */
typedef struct session_slot {
    int callback_calls; /* how many times the callback ran (always 1) */
    cJSON *session;     /* on success: {"id":...,"token":...,"expiresAt":...} */
    cJSON *failure;     /* on failure: {"status":...,"code":...,"message":...,"httpStatus":...} */
} session_slot;

/* The completion callback: on a library thread, exactly once per task.
 * Callbacks of different tasks may run at once, and cJSON allows parsing
 * on several threads as long as the program leaves cJSON_GetErrorPtr,
 * cJSON_InitHooks and setlocale alone meanwhile (its README's conditions). */
static void on_session_created(void *user_data, const char *response_json, const cbk_error *error)
{
    session_slot *slot = user_data;
    slot->callback_calls++;
    if (response_json != NULL) {
        slot->session = cJSON_Parse(response_json);
    } else {
        /* No function copies a cbk_error, and `error` dies when this
         * returns: its JSON form is the copy we keep. */
        char *error_json = cbk_error_to_json(error);
        slot->failure = cJSON_Parse(error_json);
        cbk_string_free(error_json);
    }
    /* A real program could also signal a condition variable, push to a
     * queue, or start the next piece of work here.  Blocking library calls
     * are allowed in a callback; cbk_task_wait on its own task is not. */
}

/* The member `key` of `object` if it is a string, else NULL. */
static const char *string_member(const cJSON *object, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(object, key));
}

int main(int argc, char **argv)
{
    const char *secret = secret_from_env(argv[0], "[CONVERSATION_ID]");
    if (secret == NULL)
        return 2;
    const char *base_url = env_nonempty("CHATBOTKIT_API_BASE_URL");
    const char *conversation_id = arg_or_env(argc, argv, 1, "CHATBOTKIT_CONVERSATION_ID", "conv_demo");

    printf("libchatbotkit %s\n", cbk_version());

    /* 1. The options as JSON, built by cJSON (common.h). */
    char *options_json = client_options_json(secret, base_url);
    if (options_json == NULL) {
        fprintf(stderr, "error: out of memory\n");
        return 1;
    }

    int exit_code = 1;
    cbk_error *error = NULL;
    session_slot slots[SESSION_COUNT];
    cbk_task *tasks[SESSION_COUNT];
    int started = 0; /* tasks started, each to be waited for and freed */
    memset(slots, 0, sizeof slots);

    /* 2. One client for all requests: handles are safe to share between
     *    threads and reuse one connection pool. */
    cbk_conversation_session_client *client = cbk_conversation_session_client_new(options_json, &error);
    if (client == NULL) {
        print_cbk_error("cbk_conversation_session_client_new", error);
        goto done;
    }

    /* 3. Start every request.  create_async checks its arguments now (a bad
     *    one returns NULL with `error` set, and the callback never runs),
     *    then returns at once. */
    printf("minting %d conversation sessions for \"%s\" concurrently%s%s\n", SESSION_COUNT, conversation_id,
           base_url ? " at " : "", base_url ? base_url : "");
    for (int i = 0; i < SESSION_COUNT; i++) {
        tasks[i] = cbk_conversation_session_client_create_async(client, conversation_id, NULL, on_session_created,
                                                                &slots[i], &error);
        if (tasks[i] == NULL) {
            print_cbk_error("cbk_conversation_session_client_create_async", error);
            break; /* the ones already started are still waited for below */
        }
        started++;
    }

    /* Tasks in flight keep what they need, so the client may go now. */
    cbk_conversation_session_client_free(client);
    client = NULL;

    /* 4. Wait for each task.  cbk_task_wait returns after the callback has
     *    returned, with its own copy of the outcome; the callback already
     *    kept what matters, so the copies are just freed. */
    for (int i = 0; i < started; i++) {
        cbk_error *task_error = NULL;
        char *response = cbk_task_wait(tasks[i], &task_error);
        cbk_string_free(response);
        cbk_error_free(task_error);
        cbk_task_free(tasks[i]);
    }

    /* 5. Report: how many succeeded, the first token, the first failure. */
    int succeeded = 0, first_ok = -1, first_failed = -1;
    for (int i = 0; i < started; i++) {
        if (slots[i].callback_calls != 1)
            fprintf(stderr, "warning: the callback of request %d ran %d times\n", i, slots[i].callback_calls);
        if (string_member(slots[i].session, "token") != NULL) {
            succeeded++;
            if (first_ok < 0)
                first_ok = i;
        } else if (first_failed < 0) {
            first_failed = i;
        }
    }
    printf("%d of %d sessions minted, %d failed\n", succeeded, SESSION_COUNT, SESSION_COUNT - succeeded);
    if (first_ok >= 0)
        printf("first token (request %d): %s\n", first_ok, string_member(slots[first_ok].session, "token"));
    if (first_failed >= 0) {
        const session_slot *slot = &slots[first_failed];
        if (slot->failure != NULL)
            fprintf(stderr, "first failure (request %d): %s: %s\n", first_failed,
                    string_member(slot->failure, "code"), string_member(slot->failure, "message"));
        else if (slot->session != NULL)
            fprintf(stderr, "first failure (request %d): the response has no \"token\"\n", first_failed);
        else
            fprintf(stderr, "first failure (request %d): (out of memory)\n", first_failed);
    }
    exit_code = (succeeded == SESSION_COUNT) ? 0 : 1;

done:
    /* 6. Free everything; each of these accepts NULL. */
    for (int i = 0; i < SESSION_COUNT; i++) {
        cJSON_Delete(slots[i].session);
        cJSON_Delete(slots[i].failure);
    }
    cbk_error_free(error);
    cbk_conversation_session_client_free(client);
    cJSON_free(options_json);
    return exit_code;
}
