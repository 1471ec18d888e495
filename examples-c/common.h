/*
 * common.h - small helpers shared by the libchatbotkit C examples.
 *
 * Nothing here is part of libchatbotkit itself; these are the few lines of
 * plumbing every C program using the library needs:
 *
 *   - a growable string buffer, used to build the options JSON,
 *   - a JSON string escaper, so that a secret or URL containing quotes,
 *     backslashes or control characters still produces valid JSON,
 *   - a tiny reader that pulls one top-level string field (e.g. "token")
 *     out of a JSON object returned by the library,
 *   - a masker that hides the "secret"/"token" values of an options JSON
 *     before it is printed,
 *   - a printer for cbk_error.
 *
 * Every function is `static inline` so that each example can include this
 * header without "defined but not used" warnings.  Plain C99, no
 * dependencies beyond the C standard library.
 */
#ifndef CHATBOTKIT_EXAMPLES_COMMON_H
#define CHATBOTKIT_EXAMPLES_COMMON_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatbotkit.h"

/* ------------------------------------------------------------------------ */
/* Environment                                                              */
/* ------------------------------------------------------------------------ */

/* getenv() that treats an empty variable like an unset one. */
static inline const char *env_nonempty(const char *name)
{
    const char *value = getenv(name);
    return (value != NULL && value[0] != '\0') ? value : NULL;
}

/* ------------------------------------------------------------------------ */
/* A growable, always NUL-terminated string buffer                          */
/* ------------------------------------------------------------------------ */

typedef struct strbuf {
    char *data;   /* NUL-terminated contents (NULL until the first append) */
    size_t len;   /* bytes used, excluding the NUL */
    size_t cap;   /* bytes allocated */
    int failed;   /* set when an allocation failed; sb_take() then returns NULL */
} strbuf;

#define STRBUF_INIT { NULL, 0, 0, 0 }

static inline void sb_append_n(strbuf *sb, const char *s, size_t n)
{
    if (sb->failed)
        return;
    if (sb->len + n + 1 > sb->cap) {
        size_t cap = sb->cap ? sb->cap : 64;
        while (sb->len + n + 1 > cap)
            cap *= 2;
        char *grown = realloc(sb->data, cap);
        if (grown == NULL) {
            sb->failed = 1;
            return;
        }
        sb->data = grown;
        sb->cap = cap;
    }
    memcpy(sb->data + sb->len, s, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
}

static inline void sb_append(strbuf *sb, const char *s)
{
    sb_append_n(sb, s, strlen(s));
}

/* Appends `s` as a JSON string literal: quoted, with '"', '\\' and every
 * control character escaped.  Bytes >= 0x80 are copied as they are, so `s`
 * must be UTF-8 (the library rejects invalid UTF-8 with
 * CBK_ERROR_INVALID_ARGUMENT). */
static inline void sb_append_json_string(strbuf *sb, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    sb_append(sb, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        switch (*p) {
        case '"':  sb_append(sb, "\\\""); break;
        case '\\': sb_append(sb, "\\\\"); break;
        case '\b': sb_append(sb, "\\b"); break;
        case '\f': sb_append(sb, "\\f"); break;
        case '\n': sb_append(sb, "\\n"); break;
        case '\r': sb_append(sb, "\\r"); break;
        case '\t': sb_append(sb, "\\t"); break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                char esc[7] = { '\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 0xf], '\0' };
                sb_append(sb, esc);
            } else {
                sb_append_n(sb, (const char *)p, 1);
            }
        }
    }
    sb_append(sb, "\"");
}

/* Appends `"key":"value"` to an object being built in `sb`, preceded by a
 * comma unless it is the object's first member. */
static inline void sb_append_member_string(strbuf *sb, const char *key, const char *value)
{
    if (sb->len > 0 && sb->data[sb->len - 1] != '{')
        sb_append(sb, ",");
    sb_append_json_string(sb, key);
    sb_append(sb, ":");
    sb_append_json_string(sb, value);
}

/* Hands the contents over to the caller (free() it), or NULL when an
 * allocation failed. */
static inline char *sb_take(strbuf *sb)
{
    char *data = sb->failed ? NULL : sb->data;
    if (sb->failed)
        free(sb->data);
    sb->data = NULL;
    sb->len = sb->cap = 0;
    sb->failed = 0;
    return data;
}

/* ------------------------------------------------------------------------ */
/* Reading JSON returned by the library (just enough for the examples)      */
/* ------------------------------------------------------------------------ */

/* Index of the closing quote of the JSON string whose opening quote is at
 * s[start], or (size_t)-1 if the string is unterminated. */
static inline size_t json_string_end(const char *s, size_t start)
{
    size_t i = start + 1;
    while (s[i] != '\0') {
        if (s[i] == '\\') {
            if (s[i + 1] == '\0')
                return (size_t)-1;
            i += 2;
            continue;
        }
        if (s[i] == '"')
            return i;
        i++;
    }
    return (size_t)-1;
}

/* Whether the string ending at s[end] is an object key (followed by ':'). */
static inline int json_is_key(const char *s, size_t end)
{
    size_t k = end + 1;
    while (s[k] == ' ' || s[k] == '\t' || s[k] == '\n' || s[k] == '\r')
        k++;
    return s[k] == ':';
}

/* Whether the raw JSON string s[start..end] (quotes included) equals `lit`. */
static inline int json_string_is(const char *s, size_t start, size_t end, const char *lit)
{
    size_t n = end - start - 1;
    return strlen(lit) == n && memcmp(s + start + 1, lit, n) == 0;
}

static inline void utf8_append(strbuf *sb, unsigned long cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp; n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xc0 | (cp >> 6)); b[1] = (char)(0x80 | (cp & 0x3f)); n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xe0 | (cp >> 12)); b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f)); n = 3;
    } else {
        b[0] = (char)(0xf0 | (cp >> 18)); b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3f)); b[3] = (char)(0x80 | (cp & 0x3f)); n = 4;
    }
    sb_append_n(sb, b, n);
}

static inline unsigned long json_hex4(const char *p)
{
    unsigned long v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned long)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned long)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned long)(c - 'A' + 10);
        else return 0xfffd; /* malformed: U+FFFD REPLACEMENT CHARACTER */
    }
    return v;
}

/* Decodes the contents of a JSON string literal (without its quotes). */
static inline char *json_unescape(const char *p, size_t n)
{
    strbuf out = STRBUF_INIT;
    sb_append(&out, ""); /* so that an empty string gives "" rather than NULL */
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '\\' || i + 1 >= n) {
            sb_append_n(&out, p + i, 1);
            continue;
        }
        char e = p[++i];
        switch (e) {
        case 'b': sb_append(&out, "\b"); break;
        case 'f': sb_append(&out, "\f"); break;
        case 'n': sb_append(&out, "\n"); break;
        case 'r': sb_append(&out, "\r"); break;
        case 't': sb_append(&out, "\t"); break;
        case 'u':
            if (i + 4 < n) {
                unsigned long cp = json_hex4(p + i + 1);
                i += 4;
                /* a surrogate pair encodes one code point above U+FFFF */
                if (cp >= 0xd800 && cp <= 0xdbff && i + 6 < n && p[i + 1] == '\\' && p[i + 2] == 'u') {
                    unsigned long lo = json_hex4(p + i + 3);
                    if (lo >= 0xdc00 && lo <= 0xdfff) {
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                        i += 6;
                    }
                }
                if (cp >= 0xd800 && cp <= 0xdfff)
                    cp = 0xfffd; /* lone surrogate */
                utf8_append(&out, cp);
            }
            break;
        default: /* '"', '\\', '/' stand for themselves */
            sb_append_n(&out, &e, 1);
        }
    }
    return sb_take(&out);
}

/* Returns the value of the top-level string member `key` of the JSON object
 * `json`, decoded, as a new string to free(); NULL when there is none (or it
 * is not a string).  Not a validating parser: it relies on the library
 * having produced well-formed JSON. */
static inline char *json_get_string(const char *json, const char *key)
{
    size_t i = 0;
    int depth = 0, wanted = 0;
    while (json[i] != '\0') {
        char c = json[i];
        if (c == '"') {
            size_t end = json_string_end(json, i);
            if (end == (size_t)-1)
                return NULL;
            if (json_is_key(json, end))
                wanted = depth == 1 && json_string_is(json, i, end, key);
            else if (wanted)
                return json_unescape(json + i + 1, end - i - 1);
            i = end + 1;
            continue;
        }
        if (c == '{' || c == '[')
            depth++;
        else if (c == '}' || c == ']')
            depth--;
        else if (c == ',')
            wanted = 0;
        i++;
    }
    return NULL;
}

/* Returns a copy of the options JSON `json` (as returned by
 * cbk_*_session_client_options) in which the values of the top-level
 * credential members "secret" and "token" are replaced by "***".  Free the
 * result with free(); NULL on allocation failure. */
static inline char *json_mask_credentials(const char *json)
{
    strbuf out = STRBUF_INIT;
    size_t i = 0;
    int depth = 0, sensitive = 0;
    sb_append(&out, "");
    while (json[i] != '\0') {
        char c = json[i];
        if (c == '"') {
            size_t end = json_string_end(json, i);
            if (end == (size_t)-1)
                end = strlen(json) - 1; /* malformed: copy the rest verbatim */
            if (json_is_key(json, end)) {
                sensitive = depth == 1 && (json_string_is(json, i, end, "secret") ||
                                           json_string_is(json, i, end, "token"));
                sb_append_n(&out, json + i, end - i + 1);
            } else if (sensitive) {
                sb_append(&out, "\"***\"");
                sensitive = 0;
            } else {
                sb_append_n(&out, json + i, end - i + 1);
            }
            i = end + 1;
            continue;
        }
        if (c == '{' || c == '[')
            depth++;
        else if (c == '}' || c == ']')
            depth--;
        else if (c == ',')
            sensitive = 0;
        sb_append_n(&out, &c, 1);
        i++;
    }
    return sb_take(&out);
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

/* Prints a library error to stderr: what failed, the status, the SDK error
 * code, the message and the HTTP status (0 when no response was received).
 * The library guarantees that none of these contain the secret. */
static inline void print_cbk_error(const char *what, const cbk_error *error)
{
    if (error == NULL) {
        fprintf(stderr, "%s failed (no error details)\n", what);
        return;
    }
    const char *code = cbk_error_code(error);
    const char *message = cbk_error_message(error);
    fprintf(stderr, "%s failed:\n", what);
    fprintf(stderr, "  status:      %s (%d)\n", cbk_status_name(cbk_error_status(error)),
            (int)cbk_error_status(error));
    fprintf(stderr, "  code:        %s\n", code ? code : "(none)");
    fprintf(stderr, "  message:     %s\n", message ? message : "(none)");
    fprintf(stderr, "  http status: %d\n", cbk_error_http_status(error));
}

/* The options JSON every example starts from:
 *     {"secret": $CHATBOTKIT_API_SECRET, "baseUrl": $CHATBOTKIT_API_BASE_URL}
 * (baseUrl only when set). The values come from outside the program, so they
 * are escaped rather than pasted into a format string. Never hard-code the
 * secret.
 *
 * Returns 0 and sets *options_json (free it with free()); 2 when the secret is
 * not set, after telling the user how to set it (`usage_args` shows the
 * program's arguments); 1 when out of memory. */
static inline int example_options_from_env(const char *program, const char *usage_args,
                                           char **options_json)
{
    const char *secret = env_nonempty("CHATBOTKIT_API_SECRET");
    if (secret == NULL) {
        fprintf(stderr,
                "error: CHATBOTKIT_API_SECRET is not set.\n"
                "Set it to your ChatBotKit API secret, e.g.\n"
                "    CHATBOTKIT_API_SECRET=sk_... %s %s\n",
                program, usage_args);
        return 2;
    }
    const char *base_url = env_nonempty("CHATBOTKIT_API_BASE_URL"); /* may be NULL */
    strbuf sb = STRBUF_INIT;
    sb_append(&sb, "{");
    sb_append_member_string(&sb, "secret", secret);
    if (base_url != NULL)
        sb_append_member_string(&sb, "baseUrl", base_url);
    sb_append(&sb, "}");
    *options_json = sb_take(&sb);
    if (*options_json == NULL) {
        fprintf(stderr, "error: out of memory\n");
        return 1;
    }
    return 0;
}


#endif /* CHATBOTKIT_EXAMPLES_COMMON_H */
