/*
 * conversation_session.c - mint a conversation session token with libchatbotkit.
 *
 * A conversation session token lets an untrusted client (a browser, a mobile
 * app) talk to one conversation without ever seeing your API secret.  This is
 * the C equivalent of the Node SDK's
 *
 *     const client = new ConversationSessionClient({ secret, baseUrl })
 *     const session = await client.create(conversationId, {})
 *
 * Usage:
 *     CHATBOTKIT_API_SECRET=sk_... ./conversation_session [CONVERSATION_ID]
 *
 * Environment:
 *     CHATBOTKIT_API_SECRET       required: your ChatBotKit API secret
 *     CHATBOTKIT_API_BASE_URL     optional: another API base URL (e.g. a local stand-in)
 *     CHATBOTKIT_CONVERSATION_ID  optional: used when no argument is given
 *
 * Exit status: 0 on success, 1 when the library reports an error, 2 on a
 * usage error (e.g. the secret is not set).
 *
 * Build: see Makefile (cc -std=c99 conversation_session.c -I../include
 *        $(pkg-config --cflags --libs libcjson) -L../target/release -lchatbotkit).
 */
#include <stdio.h>

#include <cJSON.h>

#include "chatbotkit.h"
#include "common.h"

int main(int argc, char **argv)
{
    const char *secret = secret_from_env(argv[0], "[CONVERSATION_ID]");
    if (secret == NULL)
        return 2;
    const char *base_url = env_nonempty("CHATBOTKIT_API_BASE_URL");
    /* The demo id gets NOT_FOUND from the real API, a session from the stand-in. */
    const char *conversation_id = arg_or_env(argc, argv, 1, "CHATBOTKIT_CONVERSATION_ID", "conv_demo");

    printf("libchatbotkit %s\n", cbk_version());

    /* 1. The options as JSON, built by cJSON (common.h). */
    char *options_json = client_options_json(secret, base_url);
    if (options_json == NULL) {
        fprintf(stderr, "error: out of memory\n");
        return 1;
    }

    int exit_code = 1;
    cbk_error *error = NULL; /* set by the library only when a call fails */
    char *response = NULL;   /* the library's: free with cbk_string_free */
    cJSON *session = NULL;   /* cJSON's: free with cJSON_Delete */

    /* 2. The client.  Keep it for many requests (from many threads if you
     *    like): it holds the connection pool. */
    cbk_conversation_session_client *client = cbk_conversation_session_client_new(options_json, &error);
    if (client == NULL) {
        print_cbk_error("cbk_conversation_session_client_new", error);
        goto done;
    }

    /* 3. Mint the session: NULL request JSON means "{}".  Blocks until the
     *    API answers, retrying 429/5xx answers as the SDK does. */
    printf("creating a session for conversation \"%s\"%s%s\n", conversation_id,
           base_url ? " at " : "", base_url ? base_url : "");
    response = cbk_conversation_session_client_create(client, conversation_id, NULL, &error);
    if (response == NULL) {
        print_cbk_error("cbk_conversation_session_client_create", error);
        goto done;
    }

    /* 4. The answer is the API's JSON as is: {"id":...,"token":...,"expiresAt":...}.
     *    cJSON_GetObjectItemCaseSensitive because JSON keys are case-sensitive
     *    (cJSON_GetObjectItem is not); cJSON_GetStringValue is NULL for a
     *    missing member or one that is not a string. */
    session = cJSON_Parse(response);
    const char *token = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(session, "token"));
    if (token == NULL) {
        fprintf(stderr, "error: the response has no \"token\": %s\n", response);
        goto done;
    }
    printf("conversation session token: %s\n", token);
    printf("full response: %s\n", response);
    exit_code = 0;

done:
    /* 5. Free everything; each of these accepts NULL. */
    cJSON_Delete(session);
    cbk_string_free(response);
    cbk_error_free(error);
    cbk_conversation_session_client_free(client);
    cJSON_free(options_json);
    return exit_code;
}
