#include "shim.h"
#include "_cgo_export.h"

/* Counts the Go callbacks running on this thread: a Go request method called
 * from one would wait on a library thread for work that thread may have to
 * do itself, so the Go side refuses it instead of deadlocking. */
static __thread int depth;

int cbkgo_in_callback(void) { return depth > 0; }

static void on_done(void *user_data, const char *response_json, const cbk_error *error)
{
    cbkgoDone((uintptr_t)user_data, (char *)response_json, (cbk_error *)error);
}

static int on_item(void *user_data, const char *item_json)
{
    int stop;
    depth++;
    stop = cbkgoItem((uintptr_t)user_data, (char *)item_json);
    depth--;
    return stop;
}

static void on_log(void *user_data, cbk_log_level level, const char *message)
{
    (void)user_data;
    depth++;
    cbkgoLog((int)level, (char *)message);
    depth--;
}

void *cbkgo_new(int bot, const char *options_json, cbk_error **error)
{
    if (bot)
        return cbk_bot_session_client_new(options_json, error);
    return cbk_conversation_session_client_new(options_json, error);
}

void *cbkgo_extend(int bot, const void *client, const char *options_json, cbk_error **error)
{
    if (bot)
        return cbk_bot_session_client_extend(client, options_json, error);
    return cbk_conversation_session_client_extend(client, options_json, error);
}

char *cbkgo_options(int bot, const void *client, cbk_error **error)
{
    if (bot)
        return cbk_bot_session_client_options(client, error);
    return cbk_conversation_session_client_options(client, error);
}

void cbkgo_free(int bot, void *client)
{
    if (bot)
        cbk_bot_session_client_free(client);
    else
        cbk_conversation_session_client_free(client);
}

char *cbkgo_create(int bot, const void *client, const char *id, const char *request_json,
                   cbk_error **error)
{
    if (bot)
        return cbk_bot_session_client_create(client, id, request_json, error);
    return cbk_conversation_session_client_create(client, id, request_json, error);
}

char *cbkgo_fetch(int bot, const void *client, const char *path, const char *options_json,
                  cbk_error **error)
{
    if (bot)
        return cbk_bot_session_client_fetch(client, path, options_json, error);
    return cbk_conversation_session_client_fetch(client, path, options_json, error);
}

cbk_status cbkgo_fetch_stream(int bot, const void *client, const char *path,
                              const char *options_json, int with_item, uintptr_t call,
                              cbk_error **error)
{
    cbk_stream_callback item = with_item ? on_item : NULL;
    if (bot)
        return cbk_bot_session_client_fetch_stream(client, path, options_json, item,
                                                   (void *)call, error);
    return cbk_conversation_session_client_fetch_stream(client, path, options_json, item,
                                                        (void *)call, error);
}

cbk_task *cbkgo_create_async(int bot, const void *client, const char *id,
                             const char *request_json, uintptr_t call, cbk_error **error)
{
    if (bot)
        return cbk_bot_session_client_create_async(client, id, request_json, on_done,
                                                   (void *)call, error);
    return cbk_conversation_session_client_create_async(client, id, request_json, on_done,
                                                        (void *)call, error);
}

cbk_task *cbkgo_fetch_async(int bot, const void *client, const char *path,
                            const char *options_json, uintptr_t call, cbk_error **error)
{
    if (bot)
        return cbk_bot_session_client_fetch_async(client, path, options_json, on_done,
                                                  (void *)call, error);
    return cbk_conversation_session_client_fetch_async(client, path, options_json, on_done,
                                                       (void *)call, error);
}

cbk_task *cbkgo_fetch_stream_async(int bot, const void *client, const char *path,
                                   const char *options_json, int with_item, uintptr_t call,
                                   cbk_error **error)
{
    cbk_stream_callback item = with_item ? on_item : NULL;
    if (bot)
        return cbk_bot_session_client_fetch_stream_async(client, path, options_json, item,
                                                         on_done, (void *)call, error);
    return cbk_conversation_session_client_fetch_stream_async(client, path, options_json, item,
                                                              on_done, (void *)call, error);
}

void cbkgo_task_settle(cbk_task *task)
{
    cbk_error *error = NULL;
    cbk_string_free(cbk_task_wait(task, &error));
    cbk_error_free(error);
}

void cbkgo_set_log_callback(int max_level, int on)
{
    cbk_set_log_callback(max_level, on ? on_log : NULL, NULL);
}
