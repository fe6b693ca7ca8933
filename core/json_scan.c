/* json_scan.c - a fast first reading of JSON answers (json_scan.h). */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "gpuledger/json_scan.h"

enum { MAX_DEPTH = 64 };

/* What may follow a complete value (a literal or a number). */
static bool delimiter(const unsigned char *p, const unsigned char *e)
{
    return p == e || *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ',' || *p == '}' || *p == ']';
}

/* A string from the opening quote at *pp: its text (without quotes) in
 * *s, *len; *pp past the closing quote.  False when it is not one this
 * scanner takes (an escape, a control or non-ASCII byte, no end). */
static bool scan_string(const unsigned char **pp, const unsigned char *e, const unsigned char **s, size_t *len)
{
    const unsigned char *p = *pp + 1, *start = p;
    /* Eight bytes at a time while none is a quote, a backslash, a control
     * or a non-ASCII byte (the classic bit tricks: a byte of x is zero, or
     * below 0x20, when its top bit survives; a false alarm only follows a
     * true one, and the bytes are then looked at one by one). */
    const uint64_t ones = 0x0101010101010101ull, tops = 0x8080808080808080ull;
    while (e - p >= 8) {
        uint64_t w, q, b;
        memcpy(&w, p, 8);
        q = w ^ (ones * '"');
        b = w ^ (ones * '\\');
        if ((((q - ones) & ~q) | ((b - ones) & ~b) | ((w - ones * 0x20) & ~w) | w) & tops)
            break;
        p += 8;
    }
    for (; p < e; p++) {
        unsigned char c = *p;
        if (c == '"') {
            *s = start;
            *len = (size_t)(p - start);
            *pp = p + 1;
            return true;
        }
        if (c == '\\' || c < 0x20 || c >= 0x80)
            return false;
    }
    return false;
}

/* A plain integer: -?(0|[1-9][0-9]*), then a delimiter. */
static bool scan_integer(const unsigned char **pp, const unsigned char *e)
{
    const unsigned char *p = *pp;
    if (p < e && *p == '-')
        p++;
    if (p == e || *p < '0' || *p > '9')
        return false;
    if (*p == '0')
        p++;
    else
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    if (!delimiter(p, e))
        return false;
    *pp = p;
    return true;
}

static bool literal(const unsigned char *p, const unsigned char *e, const char *word, size_t n)
{
    if ((size_t)(e - p) < n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)word[i])
            return false;
    return delimiter(p + n, e);
}

gl_json_scan_result gl_json_scan(const unsigned char *p, size_t n, const yajl_callbacks *cb, void *ctx)
{
    if (!cb->yajl_number)
        return GL_JSON_SCAN_GIVE_UP;
    const unsigned char *e = p + n;
    unsigned char stack[MAX_DEPTH]; /* '{' or '[' */
    int depth = 0;
    enum { VALUE, VALUE_OR_END, KEY, KEY_OR_END, COLON, COMMA_OR_END, DONE } st = VALUE;
#define CALL(f, ...)                                                                                               \
    do {                                                                                                           \
        if (cb->f && !cb->f(ctx, ##__VA_ARGS__))                                                                   \
            return GL_JSON_SCAN_CANCELED;                                                                          \
    } while (0)
    for (;;) {
        while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
            p++;
        if (p == e)
            return st == DONE ? GL_JSON_SCAN_OK : GL_JSON_SCAN_GIVE_UP;
        unsigned char c = *p;
        switch (st) {
        case DONE:
            return GL_JSON_SCAN_GIVE_UP; /* something after the value */
        case COLON:
            if (c != ':')
                return GL_JSON_SCAN_GIVE_UP;
            p++;
            st = VALUE;
            continue;
        case COMMA_OR_END:
            if (c == ',') {
                p++;
                st = stack[depth - 1] == '{' ? KEY : VALUE;
                continue;
            }
            if (c != (stack[depth - 1] == '{' ? '}' : ']'))
                return GL_JSON_SCAN_GIVE_UP;
            break; /* the close, below */
        case KEY_OR_END:
            if (c == '}')
                break;
            /* fall through */
        case KEY: {
            const unsigned char *s;
            size_t len;
            if (c != '"' || !scan_string(&p, e, &s, &len))
                return GL_JSON_SCAN_GIVE_UP;
            CALL(yajl_map_key, s, len);
            st = COLON;
            continue;
        }
        case VALUE_OR_END:
            if (c == ']')
                break;
            /* fall through */
        case VALUE:
            if (c == '{' || c == '[') {
                if (depth == MAX_DEPTH)
                    return GL_JSON_SCAN_GIVE_UP;
                stack[depth++] = c;
                p++;
                if (c == '{') {
                    CALL(yajl_start_map);
                    st = KEY_OR_END;
                } else {
                    CALL(yajl_start_array);
                    st = VALUE_OR_END;
                }
                continue;
            }
            if (c == '"') {
                const unsigned char *s;
                size_t len;
                if (!scan_string(&p, e, &s, &len))
                    return GL_JSON_SCAN_GIVE_UP;
                CALL(yajl_string, s, len);
            } else if (c == '-' || (c >= '0' && c <= '9')) {
                const unsigned char *s = p;
                if (!scan_integer(&p, e))
                    return GL_JSON_SCAN_GIVE_UP;
                CALL(yajl_number, (const char *)s, (size_t)(p - s));
            } else if (c == 't' && literal(p, e, "true", 4)) {
                p += 4;
                CALL(yajl_boolean, 1);
            } else if (c == 'f' && literal(p, e, "false", 5)) {
                p += 5;
                CALL(yajl_boolean, 0);
            } else if (c == 'n' && literal(p, e, "null", 4)) {
                p += 4;
                CALL(yajl_null);
            } else {
                return GL_JSON_SCAN_GIVE_UP;
            }
            st = depth ? COMMA_OR_END : DONE;
            continue;
        }
        /* c closes the innermost object or array */
        p++;
        if (stack[--depth] == '{')
            CALL(yajl_end_map);
        else
            CALL(yajl_end_array);
        st = depth ? COMMA_OR_END : DONE;
    }
#undef CALL
}
