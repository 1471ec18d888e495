/*
 * inflight_common.h - what inflight.c (libchatbotkit) and inflight_curl.c
 * (libcurl-multi) measure alike: the clock, the process's threads (sampled
 * every 10 ms for their peak) and its open file descriptors.
 */
#ifndef INFLIGHT_COMMON_H
#define INFLIGHT_COMMON_H

#include <dirent.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static atomic_int g_peak_threads;
static atomic_int g_sampling = 1;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int thread_count(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        return -1;
    char line[256];
    int n = -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "Threads:", 8) == 0) {
            n = atoi(line + 8);
            break;
        }
    }
    fclose(f);
    return n;
}

/* Open file descriptors of this process (entries of /proc/self/fd). */
static int fd_count(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

/* A thread that keeps g_peak_threads up to date until g_sampling is 0. */
static void *sampler_main(void *arg)
{
    (void)arg;
    while (atomic_load(&g_sampling)) {
        int n = thread_count();
        int peak = atomic_load(&g_peak_threads);
        while (n > peak && !atomic_compare_exchange_weak(&g_peak_threads, &peak, n)) {
        }
        struct timespec ts = { 0, 10 * 1000000L };
        nanosleep(&ts, NULL);
    }
    return NULL;
}

#endif
