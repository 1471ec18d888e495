/*
 * tests/strutil.h - string helpers shared by the C test programs.
 */
#ifndef CHATBOTKIT_TESTS_STRUTIL_H
#define CHATBOTKIT_TESTS_STRUTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline char *xstrdup(const char *s)
{
    if (s == NULL)
        return NULL;
    char *d = malloc(strlen(s) + 1);
    if (d == NULL) {
        fprintf(stderr, "out of memory\n");
        abort();
    }
    return strcpy(d, s);
}

/* printf into a new malloc'd string (free it). */
static inline char *fmt(const char *format, ...)
{
    va_list ap, ap2;
    va_start(ap, format);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, format, ap);
    va_end(ap);
    char *s = malloc((size_t)n + 1);
    if (s == NULL) {
        fprintf(stderr, "out of memory\n");
        abort();
    }
    vsnprintf(s, (size_t)n + 1, format, ap2);
    va_end(ap2);
    return s;
}

/* `s` as a quoted, escaped JSON string literal (free it). */
static inline char *json_str(const char *s)
{
    static const char hex[] = "0123456789abcdef";
    char *out = malloc(strlen(s) * 6 + 3);
    if (out == NULL) {
        fprintf(stderr, "out of memory\n");
        abort();
    }
    char *o = out;
    *o++ = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            *o++ = '\\';
            *o++ = (char)*p;
        } else if (*p < 0x20) {
            *o++ = '\\'; *o++ = 'u'; *o++ = '0'; *o++ = '0';
            *o++ = hex[*p >> 4]; *o++ = hex[*p & 0xf];
        } else {
            *o++ = (char)*p;
        }
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

/* Number of non-overlapping occurrences of `needle` in `hay`. */
static inline int count_occurrences(const char *hay, const char *needle)
{
    int n = 0;
    size_t len = strlen(needle);
    if (hay == NULL || len == 0)
        return 0;
    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + len, needle))
        n++;
    return n;
}

#endif
