/*
 * bot_session.c - mint a bot session token with libchatbotkit.
 *
 * A bot session starts a new conversation with a bot and returns a token an
 * untrusted client (a browser, a mobile app) can use for that conversation
 * without ever seeing your API secret.  This is the C equivalent of the Node
 * SDK's
 *
 *     const client = new BotSessionClient({ secret, baseUrl })
 *     const session = await client.create(botId, {})
 *
 * (`SessionClient` is the older name of the same class; in C it is the
 * typedef `cbk_session_client`.)
 *
 * Usage:
 *     CHATBOTKIT_API_SECRET=sk_... ./bot_session [BOT_ID]
 *
 * Environment:
 *     CHATBOTKIT_API_SECRET    required: your ChatBotKit API secret
 *     CHATBOTKIT_API_BASE_URL  optional: another API base URL (e.g. a local stand-in)
 *     CHATBOTKIT_BOT_ID        optional: used when no argument is given
 *
 * Exit status: 0 on success, 1 when the library reports an error, 2 on a
 * usage error (e.g. the secret is not set).
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
    int rc = example_options_from_env(argc > 0 ? argv[0] : "bot_session", "[BOT_ID]", &options_json);
    if (rc != 0)
        return rc;
    const char *base_url = env_nonempty("CHATBOTKIT_API_BASE_URL"); /* for messages */

    /* The bot to open a session with: argv[1], else the environment, else a
     * demo id (which the real API will answer with NOT_FOUND). */
    const char *bot_id = argc > 1 ? argv[1] : env_nonempty("CHATBOTKIT_BOT_ID");
    if (bot_id == NULL)
        bot_id = "bot_demo";

    printf("libchatbotkit %s\n", cbk_version());

    int exit_code = 1;
    cbk_error *error = NULL;   /* set by the library only when a call fails */
    char *response = NULL;     /* library-owned: free with cbk_string_free */
    char *token = NULL;        /* ours: free with free */
    char *conversation_id = NULL;

    /* 3. Create the client (cbk_session_client is the same type under its
     *    pre-2024 name; either spelling works). */
    cbk_bot_session_client *client = cbk_bot_session_client_new(options_json, &error);
    if (client == NULL) {
        print_cbk_error("cbk_bot_session_client_new", error);
        goto done;
    }

    /* 4. Mint the session.  NULL request JSON means "{}". */
    printf("creating a session for bot \"%s\"%s%s\n", bot_id,
           base_url ? " at " : "", base_url ? base_url : "");
    response = cbk_bot_session_client_create(client, bot_id, NULL, &error);
    if (response == NULL) {
        print_cbk_error("cbk_bot_session_client_create", error);
        goto done;
    }

    /* 5. The response is the API's JSON object as is:
     *    {"id": "...", "token": "...", "expiresAt": ..., "conversationId": "..."} */
    token = json_get_string(response, "token");
    if (token == NULL) {
        fprintf(stderr, "error: the response has no \"token\": %s\n", response);
        goto done;
    }
    conversation_id = json_get_string(response, "conversationId");
    printf("bot session token: %s\n", token);
    if (conversation_id != NULL)
        printf("conversation id:   %s\n", conversation_id);
    printf("full response: %s\n", response);
    exit_code = 0;

done:
    /* 6. Free everything.  All of these accept NULL. */
    free(conversation_id);
    free(token);
    cbk_string_free(response);
    cbk_error_free(error);
    cbk_bot_session_client_free(client);
    free(options_json);
    return exit_code;
}
