/*
 * coldrun.c - cold-start timer: runs a program RUNS times, one after the
 * other, and prints the medians of
 *
 *   wall      fork() to waitpid(): the whole process, exit included
 *   exec      execv() to the first minted session (the child reads
 *             BENCH_EXEC_NS, set to CLOCK_MONOTONIC just before execv, and
 *             prints exec_to_first_us=): dynamic loading, constructors,
 *             client set-up and the first request
 *   main      main() to the first minted session (main_to_first_us=)
 *   cpu       the child's user + system time, exit included (cpu_us=)
 *
 * Usage: coldrun PROG_NAME RUNS PROGRAM ARGS...
 * Prints: RESULT prog=PROG_NAME mode=cold param=RUNS ... wall_ms=.. exec_ms=.. main_ms=.. (medians)
 * Exit status 1 when any run failed.
 */
#include "common.h"

#include <sys/wait.h>

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double field(const char *out, const char *key)
{
    const char *p = strstr(out, key);
    return p ? strtod(p + strlen(key), NULL) : -1;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s PROG_NAME RUNS PROGRAM ARGS...\n", argv[0]);
        return 2;
    }
    const char *name = argv[1];
    int runs = atoi(argv[2]);
    if (runs <= 0 || runs > 1000)
        return 2;
    double *wall = calloc((size_t)runs, sizeof *wall), *exec = calloc((size_t)runs, sizeof *exec),
           *mainv = calloc((size_t)runs, sizeof *mainv), *cpu = calloc((size_t)runs, sizeof *cpu);
    long max_rss = 0;
    int failed = 0;
    for (int i = 0; i < runs; i++) {
        int fds[2];
        if (pipe(fds) != 0)
            die("pipe");
        long long t0 = now_ns();
        pid_t pid = fork();
        if (pid < 0)
            die("fork");
        if (pid == 0) {
            dup2(fds[1], 1);
            close(fds[0]);
            close(fds[1]);
            char env[64];
            snprintf(env, sizeof env, "%lld", now_ns());
            setenv("BENCH_EXEC_NS", env, 1);
            execv(argv[3], argv + 3);
            _exit(127);
        }
        close(fds[1]);
        char out[4096];
        size_t got = 0;
        ssize_t r;
        while (got < sizeof out - 1 && (r = read(fds[0], out + got, sizeof out - 1 - got)) != 0) {
            if (r < 0) {
                if (errno == EINTR)
                    continue;
                break;
            }
            got += (size_t)r;
        }
        out[got] = '\0';
        close(fds[0]);
        int st;
        struct rusage ru;
        while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR) {
        }
        long long t1 = now_ns();
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || strstr(out, "ok=1") == NULL) {
            fprintf(stderr, "run %d failed (status %d): %s\n", i, st, out);
            failed = 1;
        }
        if (ru.ru_maxrss > max_rss)
            max_rss = ru.ru_maxrss;
        wall[i] = (double)(t1 - t0) / 1e6;
        exec[i] = field(out, "exec_to_first_us=") / 1e3;
        mainv[i] = field(out, "main_to_first_us=") / 1e3;
        cpu[i] = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
                 (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
    }
    double mw = median(wall, runs), me = median(exec, runs), mm = median(mainv, runs), mc = median(cpu, runs);
    printf("RESULT prog=%s mode=cold param=%d calls=%d secs=%.4f cps=%.1f us=%.2f cpu_us=%.2f rss_kb=%ld ok=%d "
           "fail=%d wall_ms=%.3f exec_ms=%.3f main_ms=%.3f wall_min_ms=%.3f exec_min_ms=%.3f\n",
           name, runs, runs, me / 1e3, me > 0 ? 1e3 / me : 0, me * 1e3, mc, max_rss, failed ? 0 : runs, failed, mw,
           me, mm, wall[0], exec[0]);
    return failed;
}
