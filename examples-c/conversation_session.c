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
 *        -L../target/release -lchatbotkit).
 */
#include <stdio.h>
#include <stdlib.h>

#include "chatbotkit.h"
#include "common.h"

int main(int argc, char **argv)
{
    /* 1. Options from the environment (see common.h): the secret is
     *    required, the base URL optional, both escaped into the JSON. */
    char *options_json = NULL;
    int rc = example_options_from_env(argc > 0 ? argv[0] : "conversation_session", "[CONVERSATION_ID]", &options_json);
    if (rc != 0)
        return rc;
    const char *base_url = env_nonempty("CHATBOTKIT_API_BASE_URL"); /* for messages */

    /* The conversation to open a session for: argv[1], else the environment,
     * else a demo id (which the real API will answer with NOT_FOUND). */
    const char *conversation_id = argc > 1 ? argv[1] : env_nonempty("CHATBOTKIT_CONVERSATION_ID");
    if (conversation_id == NULL)
        conversation_id = "conv_demo";

    printf("libchatbotkit %s\n", cbk_version());

    int exit_code = 1;
    cbk_error *error = NULL;   /* set by the library only when a call fails */
    char *response = NULL;     /* library-owned strings: free with cbk_string_free */
    char *token = NULL;        /* ours: free with free */

    /* 3. Create the client.  A handle is cheap to keep around, safe to use
     *    from many threads, and should be reused for many requests. */
    cbk_conversation_session_client *client =
        cbk_conversation_session_client_new(options_json, &error);
    if (client == NULL) {
        print_cbk_error("cbk_conversation_session_client_new", error);
        goto done;
    }

    /* 4. Mint the session.  NULL request JSON means "{}".  This call blocks
     *    until the API answers (retrying 429/5xx answers as the SDK does). */
    printf("creating a session for conversation \"%s\"%s%s\n", conversation_id,
           base_url ? " at " : "", base_url ? base_url : "");
    response = cbk_conversation_session_client_create(client, conversation_id, NULL, &error);
    if (response == NULL) {
        print_cbk_error("cbk_conversation_session_client_create", error);
        goto done;
    }

    /* 5. The response is the API's JSON object as is:
     *    {"id": "...", "token": "...", "expiresAt": ...} */
    token = json_get_string(response, "token");
    if (token == NULL) {
        fprintf(stderr, "error: the response has no \"token\": %s\n", response);
        goto done;
    }
    printf("conversation session token: %s\n", token);
    printf("full response: %s\n", response);
    exit_code = 0;

done:
    /* 6. Free everything.  All of these accept NULL. */
    free(token);
    cbk_string_free(response);
    cbk_error_free(error);
    cbk_conversation_session_client_free(client);
    free(options_json);
    return exit_code;
}
