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
 *      arrived, on this thread (the callback borrows the text: it copies
 *      what it keeps);
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
 *
 * Build: cc -std=c99 stream.c -I../include -L../target/release -lchatbotkit
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatbotkit.h"
#include "common.h"

struct progress {
    int tokens;
    char *result; /* the result item's JSON, copied */
};

static int on_item(void *user_data, const char *item_json)
{
    struct progress *p = user_data;
    char *type = json_get_string(item_json, "type");
    if (type != NULL && strcmp(type, "token") == 0) {
        /* {"type":"token","data":{"token":"..."}}: the token is a member of
         * "data", the object that follows its key. */
        const char *data = strstr(item_json, "\"data\":");
        data = data != NULL ? strchr(data, '{') : NULL;
        char *token = data != NULL ? json_get_string(data, "token") : NULL;
        if (token != NULL) {
            fputs(token, stdout);
            fflush(stdout); /* as it arrives */
            p->tokens++;
        }
        free(token);
    } else if (type != NULL && strcmp(type, "result") == 0) {
        free(p->result);
        size_t n = strlen(item_json) + 1;
        p->result = malloc(n);
        if (p->result != NULL)
            memcpy(p->result, item_json, n);
    }
    free(type);
    return 0;
}

int main(int argc, char **argv)
{
    char *options = NULL;
    int rc = example_options_from_env(argv[0], "[CONVERSATION_ID [TEXT]]", &options);
    if (rc != 0)
        return rc;
    const char *id = argc > 1 ? argv[1] : env_nonempty("CHATBOTKIT_CONVERSATION_ID");
    if (id == NULL)
        id = "conv_example";
    const char *text = argc > 2 ? argv[2] : "Hello from C, one token at a time";

    cbk_error *err = NULL;
    cbk_conversation_session_client *client = cbk_conversation_session_client_new(options, &err);
    free(options);
    if (client == NULL) {
        print_cbk_error("cbk_conversation_session_client_new", err);
        cbk_error_free(err);
        return 1;
    }

    strbuf path = STRBUF_INIT, request = STRBUF_INIT;
    sb_append(&path, "/api/v1/conversation/");
    sb_append(&path, id);
    sb_append(&path, "/complete");
    sb_append(&request, "{\"record\":{");
    sb_append_member_string(&request, "text", text);
    sb_append(&request, "}}");
    char *path_s = sb_take(&path), *request_s = sb_take(&request);

    struct progress p = {0, NULL};
    printf("reply: ");
    cbk_status st = cbk_conversation_session_client_fetch_stream(client, path_s, request_s, on_item, &p, &err);
    printf("\n");
    if (st != CBK_OK) {
        print_cbk_error("cbk_conversation_session_client_fetch_stream", err);
        cbk_error_free(err);
        rc = 1;
    } else {
        printf("%d tokens; result: %s\n", p.tokens, p.result ? p.result : "(none)");
        rc = p.result != NULL ? 0 : 1;
    }
    free(p.result);
    free(path_s);
    free(request_s);
    cbk_conversation_session_client_free(client);
    return rc;
}
