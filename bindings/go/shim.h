/*
 * C glue between the Go package and libchatbotkit. cgo cannot call through C
 * function pointers or take the address of an exported Go function with the
 * right const-qualified signature, so the callbacks handed to the library
 * live here, as do one-call wrappers that pick the conversation or the bot
 * variant of a function, which keeps the Go side free of duplicated cgo
 * calls.
 */
#ifndef CHATBOTKIT_GO_SHIM_H
#define CHATBOTKIT_GO_SHIM_H

#include <stdint.h>
#include <stdlib.h>
#include <chatbotkit.h>

/* Non-zero while this thread runs a Go onItem or log callback. */
int cbkgo_in_callback(void);

void *cbkgo_new(int bot, const char *options_json, cbk_error **error);
void *cbkgo_extend(int bot, const void *client, const char *options_json, cbk_error **error);
char *cbkgo_options(int bot, const void *client, cbk_error **error);
void cbkgo_free(int bot, void *client);

char *cbkgo_create(int bot, const void *client, const char *id, const char *request_json,
                   cbk_error **error);
char *cbkgo_fetch(int bot, const void *client, const char *path, const char *options_json,
                  cbk_error **error);
cbk_status cbkgo_fetch_stream(int bot, const void *client, const char *path,
                              const char *options_json, int with_item, uintptr_t call,
                              cbk_error **error);

cbk_task *cbkgo_create_async(int bot, const void *client, const char *id,
                             const char *request_json, uintptr_t call, cbk_error **error);
cbk_task *cbkgo_fetch_async(int bot, const void *client, const char *path,
                            const char *options_json, uintptr_t call, cbk_error **error);
cbk_task *cbkgo_fetch_stream_async(int bot, const void *client, const char *path,
                                   const char *options_json, int with_item, uintptr_t call,
                                   cbk_error **error);

/* cbk_task_wait, discarding the copies it returns. */
void cbkgo_task_settle(cbk_task *task);

/* cbk_set_log_callback with the Go trampoline, or off. */
void cbkgo_set_log_callback(int max_level, int on);

#endif
