/* prices.c - daily USD prices from CoinGecko exports or date,token,usd CSV
 * (prices.h).  Entries are (day, token) -> price, token lowercased, kept
 * sorted for lookups; a (day, token) given twice must agree.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuledger/prices.h"

typedef struct entry {
    char day[11];
    char token[48];
    double usd;
} entry;

struct gl_prices {
    entry *v;
    size_t n, cap;
    bool sorted;
};

gl_code gl_prices_new(gl_prices **out, gl_err *err)
{
    *out = calloc(1, sizeof **out);
    return *out ? GL_OK : gl_err_set(err, GL_ENOMEM, "out of memory");
}

void gl_prices_free(gl_prices *p)
{
    if (p)
        free(p->v);
    free(p);
}

size_t gl_prices_count(const gl_prices *p) { return p ? p->n : 0; }

static int entry_cmp(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    int c = strcmp(x->token, y->token);
    return c ? c : strcmp(x->day, y->day);
}

static void lower_copy(char *dst, size_t cap, const char *s, size_t n)
{
    size_t i = 0;
    for (; i < n && i + 1 < cap; i++)
        dst[i] = (char)tolower((unsigned char)s[i]);
    dst[i] = 0;
}

static bool is_day(const char *s)
{
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? s[i] != '-' : !isdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* Split a CSV line (no quoting: neither layout quotes) into up to 4 fields. */
static size_t split(char *line, char **f, size_t max)
{
    size_t n = 0;
    char *s = line;
    while (n < max) {
        f[n++] = s;
        char *c = strchr(s, ',');
        if (!c)
            break;
        *c = 0;
        s = c + 1;
    }
    for (size_t i = 0; i < n; i++) {
        while (*f[i] == ' ' || *f[i] == '"')
            f[i]++;
        size_t l = strlen(f[i]);
        while (l && (f[i][l - 1] == ' ' || f[i][l - 1] == '"' || f[i][l - 1] == '\r'))
            f[i][--l] = 0;
    }
    return n;
}

static gl_code add(gl_prices *p, const char *day, const char *token, double usd, const char *origin, size_t line,
                   gl_err *err)
{
    for (size_t i = 0; i < p->n; i++) /* files are small (a few thousand days) */
        /* the day's first 10 characters: a CoinGecko row gives a time too
         * ("2024-03-04 00:00:00 UTC"), the entry keeps the day */
        if (!memcmp(p->v[i].day, day, 10) && !strcmp(p->v[i].token, token)) {
            if (p->v[i].usd != usd)
                return gl_err_set(err, GL_EINVAL, "%s:%zu: %s on %s priced twice (%.10g and %.10g)", origin, line,
                                  token, day, p->v[i].usd, usd);
            return GL_OK;
        }
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 256;
        entry *t = realloc(p->v, nc * sizeof *t);
        if (!t)
            return gl_err_set(err, GL_ENOMEM, "out of memory");
        p->v = t;
        p->cap = nc;
    }
    entry *e = &p->v[p->n++];
    memcpy(e->day, day, 10);
    e->day[10] = 0;
    snprintf(e->token, sizeof e->token, "%s", token);
    e->usd = usd;
    p->sorted = false;
    return GL_OK;
}

static bool parse_usd(const char *s, double *out)
{
    if (!*s)
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v < 0)
        return false;
    *out = v;
    return true;
}

gl_code gl_prices_load_text(gl_prices *p, const char *text, const char *origin, const char *token, gl_err *err)
{
    char *buf = strdup(text);
    if (!buf)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    gl_code rc = GL_OK;
    int layout = 0; /* 1 coingecko, 2 plain */
    char tok[48] = "";
    if (token)
        lower_copy(tok, sizeof tok, token, strlen(token));
    else {
        const char *b = strrchr(origin, '/');
        b = b ? b + 1 : origin;
        size_t n = strcspn(b, "-.");
        lower_copy(tok, sizeof tok, b, n);
    }
    size_t lineno = 0, before = p->n;
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line && !rc; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        char *f[4];
        size_t nf = split(line, f, 4);
        if (nf == 1 && !f[0][0])
            continue;
        if (!layout) {
            if (nf == 4 && !strcmp(f[0], "snapped_at") && !strcmp(f[1], "price"))
                layout = 1;
            else if (nf == 3 && !strcmp(f[0], "date") && !strcmp(f[1], "token") && !strcmp(f[2], "usd"))
                layout = 2;
            else
                rc = gl_err_set(err, GL_EINVAL, "%s:1: unknown price file: expected the header "
                                "'snapped_at,price,market_cap,total_volume' (CoinGecko) or 'date,token,usd'", origin);
            if (layout == 1 && !tok[0])
                rc = gl_err_set(err, GL_EINVAL, "%s: a CoinGecko file needs its token (TOKEN=FILE)", origin);
            continue;
        }
        double usd;
        if (layout == 1) {
            if (nf < 2 || strlen(f[0]) < 10 || !is_day(f[0]))
                rc = gl_err_set(err, GL_EINVAL, "%s:%zu: expected a snapped_at date and a price", origin, lineno);
            else if (!f[1][0])
                continue; /* a day CoinGecko has no price for: none */
            else if (!parse_usd(f[1], &usd))
                rc = gl_err_set(err, GL_EINVAL, "%s:%zu: price '%s' is not a non-negative number", origin, lineno, f[1]);
            else
                rc = add(p, f[0], tok, usd, origin, lineno, err);
        } else {
            char t[48];
            if (nf != 3 || strlen(f[0]) != 10 || !is_day(f[0]) || !f[1][0])
                rc = gl_err_set(err, GL_EINVAL, "%s:%zu: expected date (YYYY-MM-DD),token,usd", origin, lineno);
            else if (!parse_usd(f[2], &usd))
                rc = gl_err_set(err, GL_EINVAL, "%s:%zu: usd '%s' is not a non-negative number", origin, lineno, f[2]);
            else {
                lower_copy(t, sizeof t, f[1], strlen(f[1]));
                rc = add(p, f[0], t, usd, origin, lineno, err);
            }
        }
    }
    if (!rc && !layout)
        rc = gl_err_set(err, GL_EINVAL, "%s: empty price file", origin);
    if (rc)
        p->n = before; /* a file is taken whole or not at all: add() only appends */
    free(buf);
    return rc;
}

gl_code gl_prices_load_file(gl_prices *p, const char *path, const char *token, gl_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return gl_err_set(err, GL_EIO, "cannot read '%s': %s", path, strerror(errno));
    char *txt = NULL;
    size_t n = 0, cap = 0;
    char chunk[65536];
    size_t r;
    while ((r = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (n + r + 1 > cap) {
            size_t nc = (n + r + 1) * 2;
            char *t = realloc(txt, nc);
            if (!t) {
                free(txt);
                fclose(f);
                return gl_err_set(err, GL_ENOMEM, "out of memory");
            }
            txt = t;
            cap = nc;
        }
        memcpy(txt + n, chunk, r);
        n += r;
    }
    fclose(f);
    if (!txt)
        return gl_err_set(err, GL_EINVAL, "%s: empty price file", path);
    txt[n] = 0;
    gl_code rc = gl_prices_load_text(p, txt, path, token, err);
    free(txt);
    return rc;
}

static bool find(const gl_prices *p, const char *day, const char *tok, double *usd)
{
    if (!tok || !*tok)
        return false;
    entry key;
    memcpy(key.day, day, 10);
    key.day[10] = 0;
    lower_copy(key.token, sizeof key.token, tok, strlen(tok));
    const entry *e = bsearch(&key, p->v, p->n, sizeof *p->v, entry_cmp);
    if (e)
        *usd = e->usd;
    return e != NULL;
}

bool gl_prices_get(const gl_prices *p, const char *day, const char *symbol, const char *address, double *usd)
{
    if (!p || !day || strlen(day) < 10)
        return false;
    if (!p->sorted) { /* logically const: the order is a cache */
        gl_prices *q = (gl_prices *)p;
        qsort(q->v, q->n, sizeof *q->v, entry_cmp);
        q->sorted = true;
    }
    return find(p, day, symbol, usd) || find(p, day, address, usd);
}
