/* config.c - the user's configuration file: endpoints per chain (config.h).
 *
 * Read with jansson (duplicate keys rejected), checked completely, then
 * kept as a sorted array of chains with heap copies of their URLs.  Every
 * URL that reaches a message goes through gl_rpc_redact_url first.
 */
#include "gpuledger/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "gpuledger/rpc.h"

/* ------------------------------------------------------------ location */

static const char *env_or_null(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

void gl_config_env_from_process(gl_config_env *env)
{
    env->gpuledger_config = env_or_null("GPULEDGER_CONFIG");
    env->xdg_config_home = env_or_null("XDG_CONFIG_HOME");
    env->home = env_or_null("HOME");
    env->eth_rpc_url = env_or_null("ETH_RPC_URL");
}

gl_code gl_config_locate(const gl_config_env *env, char path[GL_CONFIG_PATH_MAX], const char **why, gl_err *err)
{
    int n;
    path[0] = 0;
    if (env->gpuledger_config && *env->gpuledger_config) {
        n = snprintf(path, GL_CONFIG_PATH_MAX, "%s", env->gpuledger_config);
        if (why)
            *why = "GPULEDGER_CONFIG";
    } else if (env->xdg_config_home && env->xdg_config_home[0] == '/') {
        /* the XDG base directory spec: a relative value is to be ignored */
        n = snprintf(path, GL_CONFIG_PATH_MAX, "%s/gpuledger/config.json", env->xdg_config_home);
        if (why)
            *why = "XDG_CONFIG_HOME";
    } else if (env->home && *env->home) {
        n = snprintf(path, GL_CONFIG_PATH_MAX, "%s/.config/gpuledger/config.json", env->home);
        if (why)
            *why = "HOME";
    } else {
        if (why)
            *why = NULL;
        return gl_err_set(err, GL_EINVAL, "no config file location: GPULEDGER_CONFIG, XDG_CONFIG_HOME and HOME are unset");
    }
    if (n < 0 || n >= GL_CONFIG_PATH_MAX) {
        path[0] = 0;
        return gl_err_set(err, GL_EINVAL, "config file path too long");
    }
    return GL_OK;
}

/* ------------------------------------------------------------- records */

void gl_config_init(gl_config *cfg) { memset(cfg, 0, sizeof *cfg); }

static void free_chains(gl_config_chain *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < c[i].n_urls; k++)
            free(c[i].urls[k]);
        free(c[i].urls);
    }
    free(c);
}

void gl_config_release(gl_config *cfg)
{
    if (!cfg)
        return;
    free_chains(cfg->chains, cfg->n_chains);
    cfg->chains = NULL;
    cfg->n_chains = 0;
}

const gl_config_chain *gl_config_chain_get(const gl_config *cfg, uint64_t chain_id)
{
    for (size_t i = 0; cfg && i < cfg->n_chains; i++)
        if (cfg->chains[i].chain_id == chain_id)
            return &cfg->chains[i];
    return NULL;
}

/* -------------------------------------------------------------- parsing */

static bool parse_chain_id(const char *s, uint64_t *out)
{
    if (!*s || *s == '0' || strlen(s) > 20)
        return false;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9' || v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *out = v;
    return true;
}

static bool is_http_url(const char *s)
{
    size_t n = !strncasecmp(s, "http://", 7) ? 7 : !strncasecmp(s, "https://", 8) ? 8 : 0;
    return n && s[n] && s[n] != '/';
}

/* One URL at rpc.KEY[i]: checked and copied into *dst. */
static gl_code take_url(json_t *v, const char *origin, const char *key, size_t i, bool single, char **dst,
                        gl_err *err)
{
    char where[128];
    if (single)
        snprintf(where, sizeof where, "rpc.%s", key);
    else
        snprintf(where, sizeof where, "rpc.%s[%zu]", key, i);
    if (!json_is_string(v))
        return gl_err_set(err, GL_EINVAL, "%s: %s: must be a URL string", origin, where);
    const char *s = json_string_value(v);
    if (!is_http_url(s)) {
        char *red = gl_rpc_redact_url(s);
        gl_err_set(err, GL_EINVAL, "%s: %s: '%s' is not an http:// or https:// URL", origin, where,
                   red ? red : "***");
        free(red);
        return GL_EINVAL;
    }
    if (!(*dst = strdup(s)))
        return gl_err_set(err, GL_ENOMEM, "out of memory reading %s", origin);
    return GL_OK;
}

static int cmp_chain(const void *a, const void *b)
{
    uint64_t x = ((const gl_config_chain *)a)->chain_id, y = ((const gl_config_chain *)b)->chain_id;
    return x < y ? -1 : x > y;
}

static gl_code parse_rpc(gl_config *cfg, json_t *rpc, const char *origin, gl_err *err)
{
    if (!json_is_object(rpc))
        return gl_err_set(err, GL_EINVAL, "%s: rpc: must be an object of chain id -> [URL, ...]", origin);
    size_t n = json_object_size(rpc);
    gl_config_chain *chains = n ? calloc(n, sizeof *chains) : NULL;
    if (n && !chains)
        return gl_err_set(err, GL_ENOMEM, "out of memory reading %s", origin);
    size_t k = 0;
    const char *key;
    json_t *v;
    gl_code rc = GL_OK;
    json_object_foreach(rpc, key, v) {
        gl_config_chain *c = &chains[k++];
        if (!parse_chain_id(key, &c->chain_id)) {
            rc = gl_err_set(err, GL_EINVAL, "%s: rpc.%s: not a chain id (a decimal number such as \"1\" or \"42161\")",
                            origin, key);
            break;
        }
        bool single = json_is_string(v);
        size_t m = single ? 1 : json_is_array(v) ? json_array_size(v) : 0;
        if (!single && !json_is_array(v)) {
            rc = gl_err_set(err, GL_EINVAL, "%s: rpc.%s: must be an array of URLs", origin, key);
            break;
        }
        if (!m) {
            rc = gl_err_set(err, GL_EINVAL, "%s: rpc.%s: no URL (remove the chain or list at least one)", origin, key);
            break;
        }
        if (!(c->urls = calloc(m, sizeof *c->urls))) {
            rc = gl_err_set(err, GL_ENOMEM, "out of memory reading %s", origin);
            break;
        }
        for (size_t i = 0; i < m && !rc; i++)
            if (!(rc = take_url(single ? v : json_array_get(v, i), origin, key, i, single, &c->urls[i], err)))
                c->n_urls++;
        if (rc)
            break;
    }
    if (rc) {
        free_chains(chains, k);
        return rc;
    }
    if (k)
        qsort(chains, k, sizeof *chains, cmp_chain);
    cfg->chains = chains;
    cfg->n_chains = k;
    return GL_OK;
}

gl_code gl_config_parse(gl_config *cfg, const char *text, const char *origin, gl_err *err)
{
    json_error_t je;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return gl_err_set(err, GL_EINVAL, "%s: line %d, column %d: %s", origin, je.line, je.column, je.text);
    gl_code rc = GL_OK;
    if (!json_is_object(root)) {
        rc = gl_err_set(err, GL_EINVAL, "%s: the top level must be an object, {\"rpc\": {...}}", origin);
    } else {
        const char *key;
        json_t *v;
        json_object_foreach(root, key, v) {
            if (strcmp(key, "rpc")) {
                rc = gl_err_set(err, GL_EINVAL, "%s: %s: unknown key (known: rpc)", origin, key);
                break;
            }
        }
        json_t *rpc = json_object_get(root, "rpc");
        if (!rc && rpc)
            rc = parse_rpc(cfg, rpc, origin, err);
    }
    json_decref(root);
    return rc;
}

gl_code gl_config_load(gl_config *cfg, const gl_config_env *env, gl_err *err)
{
    if (gl_config_locate(env, cfg->path, &cfg->why, NULL) != GL_OK)
        return GL_OK; /* nowhere to look: no file */
    FILE *f = fopen(cfg->path, "rb");
    if (!f) {
        bool explicit = cfg->why && !strcmp(cfg->why, "GPULEDGER_CONFIG");
        if (errno == ENOENT && !explicit)
            return GL_OK;
        return gl_err_set(err, GL_EIO, "%s: %s%s", cfg->path, strerror(errno),
                          explicit ? " (named by GPULEDGER_CONFIG)" : "");
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    char buf[8192];
    size_t n;
    gl_code rc = GL_OK;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        if (len + n + 1 > cap) {
            size_t nc = (len + n + 1) * 2;
            char *t = realloc(text, nc);
            if (!t) {
                rc = gl_err_set(err, GL_ENOMEM, "out of memory reading %s", cfg->path);
                break;
            }
            text = t;
            cap = nc;
        }
        memcpy(text + len, buf, n);
        len += n;
    }
    if (!rc && ferror(f))
        rc = gl_err_set(err, GL_EIO, "%s: cannot read: %s", cfg->path, strerror(errno));
    fclose(f);
    if (!rc) {
        if (text)
            text[len] = 0;
        rc = gl_config_parse(cfg, text ? text : "", cfg->path, err);
        cfg->found = true;
    }
    free(text);
    return rc;
}

/* ------------------------------------------------------------ endpoints */

const char *gl_rpc_source_name(gl_rpc_source src)
{
    switch (src) {
    case GL_RPC_SRC_OPTION: return "--rpc";
    case GL_RPC_SRC_ENV: return "ETH_RPC_URL";
    case GL_RPC_SRC_CONFIG: return "config file";
    case GL_RPC_SRC_NONE: break;
    }
    return "none";
}

void gl_config_urls_release(gl_config_urls *u)
{
    if (!u)
        return;
    for (size_t i = 0; i < u->n; i++)
        free(u->urls[i]);
    free(u->urls);
    memset(u, 0, sizeof *u);
}

static gl_code add_url(gl_config_urls *u, const char *s, size_t len, gl_err *err)
{
    char **t = realloc(u->urls, (u->n + 1) * sizeof *t);
    if (!t)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    u->urls = t;
    if (!(u->urls[u->n] = strndup(s, len)))
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    u->n++;
    return GL_OK;
}

gl_code gl_config_urls_add_list(gl_config_urls *u, const char *list, gl_err *err)
{
    const char *p = list ? list : "";
    while (*p) {
        size_t len = strcspn(p, ",");
        gl_code rc = len ? add_url(u, p, len, err) : GL_OK;
        if (rc)
            return rc;
        p += len;
        if (*p == ',')
            p++;
    }
    return GL_OK;
}

gl_code gl_config_endpoints(const gl_config *cfg, uint64_t chain_id, const char *const *opt_urls, size_t n_opt,
                            const char *env_rpc, gl_config_urls *out, gl_err *err)
{
    memset(out, 0, sizeof *out);
    gl_code rc = GL_OK;
    for (size_t i = 0; i < n_opt && !rc; i++)
        rc = gl_config_urls_add_list(out, opt_urls[i], err);
    if (!rc && out->n) {
        out->src = GL_RPC_SRC_OPTION;
        return GL_OK;
    }
    if (!rc && env_rpc)
        rc = gl_config_urls_add_list(out, env_rpc, err);
    if (!rc && out->n) {
        out->src = GL_RPC_SRC_ENV;
        return GL_OK;
    }
    const gl_config_chain *c = rc ? NULL : gl_config_chain_get(cfg, chain_id);
    for (size_t i = 0; c && i < c->n_urls && !rc; i++)
        rc = add_url(out, c->urls[i], strlen(c->urls[i]), err);
    if (!rc && out->n) {
        out->src = GL_RPC_SRC_CONFIG;
        return GL_OK;
    }
    if (!rc) {
        const char *path = cfg && cfg->path[0] ? cfg->path : "the config file (gpuledger config show)";
        rc = gl_err_set(err, GL_EINVAL,
                        "no JSON-RPC endpoint for chain %llu: give --rpc URL, set ETH_RPC_URL, or list it under "
                        "rpc.\"%llu\" in %s",
                        (unsigned long long)chain_id, (unsigned long long)chain_id, path);
    }
    gl_config_urls_release(out);
    return rc;
}
