/*
 * test_dlclose.c - a host that loads the library with dlopen(), uses it and
 * dlclose()s it, 100 times. The library is marked not unloadable
 * (-z nodelete): dlclose() leaves it loaded, so every cycle finds the same
 * runtime, lanes and pools, and nothing grows from cycle to cycle (file
 * descriptors are counted).
 *
 * Not linked against the library (so test.h, which calls it, is not used):
 * CBK_LIB names the file to dlopen().
 */
#include <dirent.h>
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CYCLES 100

typedef void *(*new_fn)(const char *, void **);
typedef char *(*create_fn)(const void *, const char *, const char *, void **);
typedef void (*free_fn)(void *);

static const char *g_lib;
static char g_options[512];

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return -1;
    int n = 0;
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n;
}

/* One cycle: load, make a client (and with `call`, mint a session), free
 * everything, unload. Returns 1 when that worked. A cycle without a call
 * starts no library thread: nothing else would keep glibc from unloading. */
static int cycle(int call)
{
    void *h = dlopen(g_lib, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        printf("# dlopen: %s\n", dlerror());
        return 0;
    }
    new_fn new_client = (new_fn)(uintptr_t)dlsym(h, "cbk_conversation_session_client_new");
    create_fn create = (create_fn)(uintptr_t)dlsym(h, "cbk_conversation_session_client_create");
    free_fn free_client = (free_fn)(uintptr_t)dlsym(h, "cbk_conversation_session_client_free");
    free_fn free_string = (free_fn)(uintptr_t)dlsym(h, "cbk_string_free");
    free_fn free_error = (free_fn)(uintptr_t)dlsym(h, "cbk_error_free");
    int ok = 0;
    if (new_client && create && free_client && free_string && free_error) {
        void *err = NULL;
        void *c = new_client(g_options, &err);
        free_error(err);
        err = NULL;
        char *json = c && call ? create(c, "conv_dlclose", NULL, &err) : NULL;
        ok = c != NULL && (!call || (json != NULL && strstr(json, "\"token\"") != NULL));
        free_string(json);
        free_error(err);
        free_client(c);
    }
    dlclose(h);
    return ok;
}

static int failures;

static void check(int ok, const char *what)
{
    if (!ok) {
        printf("#   %s\n", what);
        failures++;
    }
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    g_lib = getenv("CBK_LIB");
    const char *base = getenv("CHATBOTKIT_API_BASE_URL");
    const char *secret = getenv("CHATBOTKIT_API_SECRET");
    if (g_lib == NULL || base == NULL || secret == NULL) {
        printf("Bail out! set CBK_LIB, CHATBOTKIT_API_BASE_URL and CHATBOTKIT_API_SECRET\n");
        return 2;
    }
    snprintf(g_options, sizeof g_options, "{\"secret\":\"%s\",\"baseUrl\":\"%s\"}", secret, base);

    check(cycle(0), "the first cycle failed");
    /* Still loaded after dlclose: nodelete. */
    void *still = dlopen(g_lib, RTLD_NOW | RTLD_NOLOAD);
    check(still != NULL, "the library was unloaded by dlclose");
    if (still != NULL)
        dlclose(still);
    int after_first = open_fds();
    int ok = 1;
    for (int i = 1; i < CYCLES; i++)
        ok &= cycle(0);
    check(ok, "a later cycle failed");
    int after_all = open_fds();
    if (after_all != after_first)
        printf("#   open file descriptors: %d after the first cycle, %d after %d\n", after_first, after_all,
               CYCLES);
    check(after_all == after_first, "file descriptors grew from cycle to cycle");
    /* And with calls: the same runtime serves every cycle. */
    check(cycle(1), "no session after the cycles");
    int after_call = open_fds();
    ok = 1;
    for (int i = 0; i < 10; i++)
        ok &= cycle(1);
    check(ok, "a cycle with a call failed");
    check(open_fds() == after_call, "file descriptors grew across cycles with calls");
    printf("%s 1 - dlopen_use_dlclose_%d_times\n", failures ? "not ok" : "ok", CYCLES);
    printf("%d passed, %d failed\n", failures ? 0 : 1, failures ? 1 : 0);
    return failures ? 1 : 0;
}
