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
#include <stdlib.h>
#include <string.h>

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
    char *token = json_get_string(response, "token");
    if (token == NULL) {
        fprintf(stderr, "error: the response has no \"token\": %s\n", response);
        cbk_string_free(response);
        return 1;
    }
    printf("conversation session token (%s): %s\n", label, token);
    free(token);
    cbk_string_free(response);
    return 0;
}

int main(int argc, char **argv)
{
    char *base_options = NULL; /* {"secret", "baseUrl"} from the environment */
    int rc = example_options_from_env(argc > 0 ? argv[0] : "extend", "[CONVERSATION_ID]", &base_options);
    if (rc != 0)
        return rc;
    const char *secret = env_nonempty("CHATBOTKIT_API_SECRET"); /* set: checked above */
    const char *conversation_id = argc > 1 ? argv[1] : env_nonempty("CHATBOTKIT_CONVERSATION_ID");
    if (conversation_id == NULL)
        conversation_id = "conv_demo";

    printf("libchatbotkit %s\n", cbk_version());

    int exit_code = 1;
    cbk_error *error = NULL;
    char *effective = NULL, *masked = NULL;
    cbk_conversation_session_client *base = NULL, *derived = NULL;

    /* 1. The base client: credentials and (optionally) the base URL. */
    base = cbk_conversation_session_client_new(base_options, &error);
    if (base == NULL) {
        print_cbk_error("cbk_conversation_session_client_new", error);
        goto done;
    }

    /* 2. The extension: only the options to add or change.  Here the values
     *    are constants, so a literal is fine; build it with the escaping
     *    helpers as above when values come from outside the program.
     *    Sent on every request of the derived client:
     *        x-example: extend
     *        x-timezone: Europe/London                                    */
    const char *extension = "{\"headers\":{\"x-example\":\"extend\"},\"timezone\":\"Europe/London\"}";
    derived = cbk_conversation_session_client_extend(base, extension, &error);
    if (derived == NULL) {
        print_cbk_error("cbk_conversation_session_client_extend", error);
        goto done;
    }

    /* 3. The derived client's effective options.  This JSON is the one
     *    library output that contains the secret (it is valid input for
     *    cbk_conversation_session_client_new), so mask it before printing. */
    effective = cbk_conversation_session_client_options(derived, &error);
    if (effective == NULL) {
        print_cbk_error("cbk_conversation_session_client_options", error);
        goto done;
    }
    masked = json_mask_credentials(effective);
    if (masked == NULL) {
        fprintf(stderr, "error: out of memory\n");
        goto done;
    }
    /* Belt and braces: never print anything that still contains the secret
     * (only meaningful for secrets long enough not to occur by chance). */
    if (strlen(secret) >= 8 && strstr(masked, secret) != NULL) {
        fprintf(stderr, "error: refusing to print options that still contain the secret\n");
        goto done;
    }
    printf("derived client options (secret masked): %s\n", masked);

    /* 4. A session through the derived client: the request carries the base
     *    client's secret and base URL plus the extension's header and timezone. */
    if (mint_and_print(derived, conversation_id, "derived client") != 0)
        goto done;

    /* 5. Free the base client first; the derived client keeps working. */
    cbk_conversation_session_client_free(base);
    base = NULL;
    printf("base client freed; using the derived client again\n");
    if (mint_and_print(derived, conversation_id, "derived client, base freed") != 0)
        goto done;

    exit_code = 0;

done:
    /* Everything below accepts NULL. */
    free(masked);
    cbk_string_free(effective);
    cbk_conversation_session_client_free(derived);
    cbk_conversation_session_client_free(base);
    cbk_error_free(error);
    free(base_options);
    return exit_code;
}
