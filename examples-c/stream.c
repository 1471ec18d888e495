/*
 * stream.c - a conversation reply printed token by token as it arrives,
 *            then the final result, with
 *            cbk_conversation_session_client_fetch_stream.
 *
 * The Node SDK equivalent:
 *
 *     const client = new ConversationSessionClient({ secret, baseUrl })
 *     for await (const item of client.clientFetch(
 *             `/api/v1/conversation/${id}/complete`, { record: { text } }).stream()) {
 *         if (item.type === 'token') process.stdout.write(item.data.token)
 *         else if (item.type === 'result') console.log('\n' + JSON.stringify(item.data))
 *     }
 *
 * What the example shows:
 *   1. each JSON line of the body reaches the callback as soon as it has
 *      arrived, on this thread (the callback borrows the text: it keeps a
 *      parsed copy of what it needs);
 *   2. the callback returns 0 to go on (non-zero would stop the stream and
 *      close the connection);
 *   3. the call returns CBK_OK when the body ended, or an error.
 *
 * Usage:
 *     CHATBOTKIT_API_SECRET=sk_... ./stream [CONVERSATION_ID [TEXT]]
 *
 * Environment:
 *     CHATBOTKIT_API_SECRET       required: your ChatBotKit API secret
 *     CHATBOTKIT_API_BASE_URL     optional: another API base URL (e.g. a local stand-in)
 *     CHATBOTKIT_CONVERSATION_ID  optional: used when no argument is given
 *
 * Exit status: 0 when the reply was streamed, 1 when a library call failed,
 * 2 on a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "chatbotkit.h"
#include "common.h"

struct progress {
    int tokens;
    cJSON *result; /* the "result" item, parsed: ours to keep */
};

/* One line of the body: {"type":"token","data":{"token":"..."}} for each
 * piece of the reply, then {"type":"result","data":{...}}. */
static int on_item(void *user_data, const char *item_json)
{
    struct progress *p = user_data;
    cJSON *item = cJSON_Parse(item_json);
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "type"));
    if (type != NULL && strcmp(type, "token") == 0) {
        cJSON *data = cJSON_GetObjectItemCaseSensitive(item, "data");
        const char *token = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(data, "token"));
        if (token != NULL) {
            fputs(token, stdout);
            fflush(stdout); /* as it arrives, not when stdout's buffer fills */
            p->tokens++;
        }
    } else if (type != NULL && strcmp(type, "result") == 0) {
        cJSON_Delete(p->result);
        p->result = item;
        item = NULL; /* kept: not deleted below */
    }
    cJSON_Delete(item);
    return 0;
}

int main(int argc, char **argv)
{
    const char *secret = secret_from_env(argv[0], "[CONVERSATION_ID [TEXT]]");
    if (secret == NULL)
        return 2;
    const char *base_url = env_nonempty("CHATBOTKIT_API_BASE_URL");
    const char *id = arg_or_env(argc, argv, 1, "CHATBOTKIT_CONVERSATION_ID", "conv_example");
    const char *text = argc > 2 ? argv[2] : "Hello from C, one token at a time";

    /* The options (common.h) and the request body {"record":{"text":...}},
     * escaped by cJSON: `text` comes from the command line. */
    char *options_json = client_options_json(secret, base_url);
    cJSON *request = cJSON_CreateObject();
    cJSON *record = cJSON_AddObjectToObject(request, "record");
    cJSON_AddStringToObject(record, "text", text);
    char *request_json = cJSON_PrintUnformatted(request);
    cJSON_Delete(request);

    /* A fetch takes a path, not an id: unlike _create, the library does not
     * percent-encode the id here, so it has to be URL-safe (ChatBotKit's
     * ids are). */
    static const char path_format[] = "/api/v1/conversation/%s/complete";
    size_t path_size = sizeof path_format + strlen(id);
    char *path = malloc(path_size);

    int rc = 1;
    cbk_error *err = NULL;
    struct progress p = { 0, NULL };
    char *result_json = NULL;
    cbk_conversation_session_client *client = NULL;
    if (options_json == NULL || request_json == NULL || path == NULL) {
        fprintf(stderr, "error: out of memory\n");
        goto done;
    }
    snprintf(path, path_size, path_format, id);

    client = cbk_conversation_session_client_new(options_json, &err);
    if (client == NULL) {
        print_cbk_error("cbk_conversation_session_client_new", err);
        goto done;
    }

    printf("reply: ");
    cbk_status st = cbk_conversation_session_client_fetch_stream(client, path, request_json, on_item, &p, &err);
    printf("\n");
    if (st != CBK_OK) {
        print_cbk_error("cbk_conversation_session_client_fetch_stream", err);
        goto done;
    }
    result_json = cJSON_PrintUnformatted(p.result);
    printf("%d tokens; result: %s\n", p.tokens, result_json ? result_json : "(none)");
    rc = result_json != NULL ? 0 : 1;

done:
    /* Each of these accepts NULL. */
    cJSON_free(result_json);
    cJSON_Delete(p.result);
    cbk_error_free(err);
    cbk_conversation_session_client_free(client);
    free(path);
    cJSON_free(request_json);
    cJSON_free(options_json);
    return rc;
}
