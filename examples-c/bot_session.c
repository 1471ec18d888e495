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

#include <cJSON.h>

#include "chatbotkit.h"
#include "common.h"

int main(int argc, char **argv)
{
    const char *secret = secret_from_env(argv[0], "[BOT_ID]");
    if (secret == NULL)
        return 2;
    const char *base_url = env_nonempty("CHATBOTKIT_API_BASE_URL");
    /* The demo id gets NOT_FOUND from the real API, a session from the stand-in. */
    const char *bot_id = arg_or_env(argc, argv, 1, "CHATBOTKIT_BOT_ID", "bot_demo");

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

    /* 2. The client (cbk_session_client is the same type under its pre-2024
     *    name; either spelling works). */
    cbk_bot_session_client *client = cbk_bot_session_client_new(options_json, &error);
    if (client == NULL) {
        print_cbk_error("cbk_bot_session_client_new", error);
        goto done;
    }

    /* 3. Mint the session: NULL request JSON means "{}". */
    printf("creating a session for bot \"%s\"%s%s\n", bot_id,
           base_url ? " at " : "", base_url ? base_url : "");
    response = cbk_bot_session_client_create(client, bot_id, NULL, &error);
    if (response == NULL) {
        print_cbk_error("cbk_bot_session_client_create", error);
        goto done;
    }

    /* 4. The answer: {"id":...,"token":...,"expiresAt":...,"conversationId":...}.
     *    The strings stay inside `session`: they live until cJSON_Delete. */
    session = cJSON_Parse(response);
    const char *token = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(session, "token"));
    const char *conversation_id =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(session, "conversationId"));
    if (token == NULL) {
        fprintf(stderr, "error: the response has no \"token\": %s\n", response);
        goto done;
    }
    printf("bot session token: %s\n", token);
    if (conversation_id != NULL)
        printf("conversation id:   %s\n", conversation_id);
    printf("full response: %s\n", response);
    exit_code = 0;

done:
    /* 5. Free everything; each of these accepts NULL. */
    cJSON_Delete(session);
    cbk_string_free(response);
    cbk_error_free(error);
    cbk_bot_session_client_free(client);
    cJSON_free(options_json);
    return exit_code;
}
