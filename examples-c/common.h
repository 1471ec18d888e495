/*
 * common.h - the few lines every libchatbotkit C example shares: reading
 * its settings from the environment and printing a library error.
 *
 * JSON is read with cJSON in each example itself.  Functions are
 * `static inline` so that an example using only some of them still compiles
 * without "defined but not used" warnings.
 */
#ifndef CHATBOTKIT_EXAMPLES_COMMON_H
#define CHATBOTKIT_EXAMPLES_COMMON_H

#include <stdio.h>
#include <stdlib.h>

#include <cJSON.h>

#include "chatbotkit.h"

/* The client options, {"secret": ..., "baseUrl": ...} (baseUrl only when
 * given).  cJSON escapes the values, so a secret or URL holding quotes or
 * backslashes still makes valid JSON, which pasting it into a format string
 * would not.  NULL when out of memory; free with cJSON_free(). */
static inline char *client_options_json(const char *secret, const char *base_url)
{
    cJSON *options = cJSON_CreateObject();
    if (options == NULL || cJSON_AddStringToObject(options, "secret", secret) == NULL ||
        (base_url != NULL && cJSON_AddStringToObject(options, "baseUrl", base_url) == NULL)) {
        cJSON_Delete(options);
        return NULL;
    }
    char *json = cJSON_PrintUnformatted(options);
    cJSON_Delete(options);
    return json;
}

/* getenv(), with an empty variable treated as unset so that `VAR= ./prog`
 * falls back to the default. */
static inline const char *env_nonempty(const char *name)
{
    const char *value = getenv(name);
    return (value != NULL && value[0] != '\0') ? value : NULL;
}

/* argv[index] when given, else $env_name when set, else `fallback`. */
static inline const char *arg_or_env(int argc, char **argv, int index, const char *env_name,
                                     const char *fallback)
{
    const char *value = argc > index ? argv[index] : env_nonempty(env_name);
    return value != NULL ? value : fallback;
}

/* $CHATBOTKIT_API_SECRET, or NULL after telling the user how to set it
 * (`program` is argv[0], NULL when argc is 0).  The secret comes from the
 * environment because source code and command lines (visible in `ps`) are
 * no place for it. */
static inline const char *secret_from_env(const char *program, const char *usage_args)
{
    const char *secret = env_nonempty("CHATBOTKIT_API_SECRET");
    if (secret == NULL)
        fprintf(stderr,
                "error: CHATBOTKIT_API_SECRET is not set.\n"
                "Set it to your ChatBotKit API secret, e.g.\n"
                "    CHATBOTKIT_API_SECRET=sk_... %s %s\n",
                program != NULL ? program : "example", usage_args);
    return secret;
}

/* Prints a library error to stderr.  None of its fields ever holds the
 * secret, so it is safe to log as is. */
static inline void print_cbk_error(const char *what, const cbk_error *error)
{
    if (error == NULL) {
        fprintf(stderr, "%s failed (no error details)\n", what);
        return;
    }
    fprintf(stderr, "%s failed:\n", what);
    fprintf(stderr, "  status:      %s (%d)\n", cbk_status_name(cbk_error_status(error)),
            (int)cbk_error_status(error));
    fprintf(stderr, "  code:        %s\n", cbk_error_code(error));
    fprintf(stderr, "  message:     %s\n", cbk_error_message(error));
    fprintf(stderr, "  http status: %d\n", cbk_error_http_status(error));
}

#endif /* CHATBOTKIT_EXAMPLES_COMMON_H */
