/*
 * extend.c - derive a client with extra options, as the Node SDK's
 *            `client.extend(options)` does.
 *
 *     const base = new ConversationSessionClient({ secret, baseUrl })
 *     const derived = base.extend({ headers: { 'x-example': 'extend' }, timezone: 'Europe/London' })
 *
 * `extend` merges the new options over the current ones (shallowly, except
 * `headers` and `endpoints`, which merge key by key) and returns a new,
 * independent handle: freeing either one leaves the other working.
 *
 * This example:
 *   1. creates a base client from the environment,
 *   2. derives a client that adds a header and a timezone,
 *   3. prints the derived client's effective options, with the secret masked,
 *   4. mints a conversation session through the derived client,
 *   5. frees the base client, then mints another session through the derived
 *      one to show that it does not depend on its parent.
 *
 * Usage:
 *     CHATBOTKIT_API_SECRET=sk_... ./extend [CONVERSATION_ID]
 *
 * Environment: CHATBOTKIT_API_SECRET (required), CHATBOTKIT_API_BASE_URL and
 * CHATBOTKIT_CONVERSATION_ID (optional).  Exit status: 0 on success, 1 on a
 * library error, 2 on a usage error.
 */
#include <stdio.h>

#include <cJSON.h>

#include "chatbotkit.h"
#include "common.h"

/* Mints a session for `conversation_id` through `client` and prints the token.
 * Returns 0 on success, 1 on failure (after printing the error). */
static int mint_and_print(const cbk_conversation_session_client *client,
                          const char *conversation_id, const char *label)
{
    cbk_error *error = NULL;
    char *response = cbk_conversation_session_client_create(client, conversation_id, NULL, &error);
    if (response == NULL) {
        print_cbk_error("cbk_conversation_session_client_create", error);
        cbk_error_free(error);
        return 1;
    }
    cJSON *session = cJSON_Parse(response);
    const char *token = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(session, "token"));
    if (token != NULL)
        printf("conversation session token (%s): %s\n", label, token);
    else
        fprintf(stderr, "error: the response has no \"token\": %s\n", response);
    cJSON_Delete(session);
    cbk_string_free(response);
    return token != NULL ? 0 : 1;
}

/* Turns the effective options JSON into printable text: the values that
 * can hold a credential become "***" ("secret", and "token", its newer
 * name; "proxy" may carry user:password@).  Free the result with cJSON_free;
 * NULL when out of memory. */
static char *masked_options(const char *options_json)
{
    static const char *const credentials[] = { "secret", "token", "proxy" };
    cJSON *options = cJSON_Parse(options_json);
    for (size_t i = 0; options != NULL && i < sizeof credentials / sizeof credentials[0]; i++) {
        cJSON *value = cJSON_GetObjectItemCaseSensitive(options, credentials[i]);
        /* When "***" is longer than the value, cJSON_SetValuestring allocates,
         * and fails by returning NULL with the value left as it was. */
        if (cJSON_IsString(value) && cJSON_SetValuestring(value, "***") == NULL) {
            cJSON_Delete(options);
            return NULL;
        }
    }
    char *masked = cJSON_PrintUnformatted(options);
    cJSON_Delete(options);
    return masked;
}

int main(int argc, char **argv)
{
    const char *secret = secret_from_env(argv[0], "[CONVERSATION_ID]");
    if (secret == NULL)
        return 2;
    const char *base_url = env_nonempty("CHATBOTKIT_API_BASE_URL");
    const char *conversation_id = arg_or_env(argc, argv, 1, "CHATBOTKIT_CONVERSATION_ID", "conv_demo");

    printf("libchatbotkit %s\n", cbk_version());

    /* The base options: credentials and (optionally) the base URL.
     * The extension: only the options to add or change, sent on every
     * request of the derived client as
     *     x-example: extend
     *     x-timezone: Europe/London                                       */
    cJSON *base = cJSON_CreateObject();
    cJSON_AddStringToObject(base, "secret", secret);
    if (base_url != NULL)
        cJSON_AddStringToObject(base, "baseUrl", base_url);
    cJSON *extension = cJSON_CreateObject();
    cJSON *headers = cJSON_AddObjectToObject(extension, "headers");
    cJSON_AddStringToObject(headers, "x-example", "extend");
    cJSON_AddStringToObject(extension, "timezone", "Europe/London");
    char *base_json = cJSON_PrintUnformatted(base);
    char *extension_json = cJSON_PrintUnformatted(extension);
    cJSON_Delete(base);
    cJSON_Delete(extension);

    int exit_code = 1;
    cbk_error *error = NULL;
    char *effective = NULL, *masked = NULL;
    cbk_conversation_session_client *base_client = NULL, *derived = NULL;
    if (base_json == NULL || extension_json == NULL) {
        fprintf(stderr, "error: out of memory\n");
        goto done;
    }

    /* 1. The base client. */
    base_client = cbk_conversation_session_client_new(base_json, &error);
    if (base_client == NULL) {
        print_cbk_error("cbk_conversation_session_client_new", error);
        goto done;
    }

    /* 2. The derived client. */
    derived = cbk_conversation_session_client_extend(base_client, extension_json, &error);
    if (derived == NULL) {
        print_cbk_error("cbk_conversation_session_client_extend", error);
        goto done;
    }

    /* 3. The derived client's effective options.  This is the one library
     *    output that holds the secret (it is valid input for _new), so it
     *    is masked before printing. */
    effective = cbk_conversation_session_client_options(derived, &error);
    if (effective == NULL) {
        print_cbk_error("cbk_conversation_session_client_options", error);
        goto done;
    }
    masked = masked_options(effective);
    if (masked == NULL) {
        fprintf(stderr, "error: out of memory\n");
        goto done;
    }
    printf("derived client options (secret masked): %s\n", masked);

    /* 4. A session through the derived client: the request carries the base
     *    client's secret and base URL plus the extension's header and timezone. */
    if (mint_and_print(derived, conversation_id, "derived client") != 0)
        goto done;

    /* 5. Free the base client first; the derived client keeps working. */
    cbk_conversation_session_client_free(base_client);
    base_client = NULL;
    printf("base client freed; using the derived client again\n");
    if (mint_and_print(derived, conversation_id, "derived client, base freed") != 0)
        goto done;

    exit_code = 0;

done:
    /* Each of these accepts NULL. */
    cJSON_free(masked);
    cbk_string_free(effective);
    cbk_conversation_session_client_free(derived);
    cbk_conversation_session_client_free(base_client);
    cbk_error_free(error);
    cJSON_free(extension_json);
    cJSON_free(base_json);
    return exit_code;
}
