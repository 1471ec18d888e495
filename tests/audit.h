/*
 * tests/audit.h - the suite-wide secret audit, for the C and C++ tests.
 *
 * audit_line() appends one line of library output (an error message, an
 * error's JSON, a log line) to the file named by CHATBOTKIT_TEST_AUDIT, when
 * set. `make test` ends with scripts/check-secrets.sh, which fails when any
 * secret used by any test appears in that file.
 */
#ifndef CHATBOTKIT_TESTS_AUDIT_H
#define CHATBOTKIT_TESTS_AUDIT_H

#include <stdio.h>
#include <stdlib.h>

static inline void audit_line(const char *what, const char *text)
{
    const char *path = getenv("CHATBOTKIT_TEST_AUDIT");
    FILE *f = (path != NULL && path[0] != '\0' && text != NULL) ? fopen(path, "a") : NULL;
    if (f == NULL)
        return;
    fprintf(f, "c %s: ", what);
    for (const char *p = text; *p != '\0'; p++) {
        if (*p == '\n')
            fputs("\\n", f);
        else
            fputc(*p, f);
    }
    fputc('\n', f);
    fclose(f);
}

#endif
