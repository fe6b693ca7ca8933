/* gpu_models.c - the GPU name table (gpu_models.h): parse fixtures/gpus.json,
 * normalise names, look them up.
 *
 * Aliases are kept normalised (lowercase letters and digits only, a leading
 * "nvidia" dropped) in one sorted array, so a lookup is a binary search.
 * Two models claiming one alias is an error in the table, reported.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gpuledger/gpu_models.h"

typedef struct alias {
    char *key;    /* normalised */
    size_t model; /* index into models */
} alias;

struct gl_gpu_models {
    json_t *root;           /* owns the strings models point to */
    gl_gpu_model *models;
    size_t n_models;
    alias *aliases;
    size_t n_aliases;
};

/* Lowercase letters and digits of s, without a leading "nvidia"; malloc'd. */
static char *normalise(const char *s)
{
    size_t n = strlen(s);
    char *o = malloc(n + 1), *w = o;
    if (!o)
        return NULL;
    for (; *s; s++)
        if (isalnum((unsigned char)*s))
            *w++ = (char)tolower((unsigned char)*s);
    *w = 0;
    if (!strncmp(o, "nvidia", 6) && o[6])
        memmove(o, o + 6, strlen(o + 6) + 1);
    return o;
}

static int alias_cmp(const void *a, const void *b)
{
    return strcmp(((const alias *)a)->key, ((const alias *)b)->key);
}

void gl_gpu_models_free(gl_gpu_models *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_aliases; i++)
        free(m->aliases[i].key);
    free(m->aliases);
    free(m->models);
    json_decref(m->root);
    free(m);
}

static gl_code add_alias(gl_gpu_models *m, const char *name, size_t model, size_t *cap, gl_err *err)
{
    if (m->n_aliases == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        alias *t = realloc(m->aliases, nc * sizeof *t);
        if (!t)
            return gl_err_set(err, GL_ENOMEM, "out of memory");
        m->aliases = t;
        *cap = nc;
    }
    char *k = normalise(name);
    if (!k)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    m->aliases[m->n_aliases++] = (alias){k, model};
    return GL_OK;
}

gl_code gl_gpu_models_load_text(gl_gpu_models **out, const char *text, const char *origin, gl_err *err)
{
    *out = NULL;
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    if (!root)
        return gl_err_set(err, GL_EINVAL, "%s:%d:%d: %s", origin, je.line, je.column, je.text);
    gl_gpu_models *m = calloc(1, sizeof *m);
    if (!m) {
        json_decref(root);
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    }
    m->root = root;
    const char *fmt = json_string_value(json_object_get(root, "format"));
    json_t *classes = json_object_get(root, "classes"), *models = json_object_get(root, "models");
    gl_code rc = GL_OK;
    if (!fmt || strcmp(fmt, GL_GPUS_FORMAT))
        rc = gl_err_set(err, GL_EINVAL, "%s: format: expected \"%s\"", origin, GL_GPUS_FORMAT);
    else if (!json_is_object(classes) || !json_is_array(models))
        rc = gl_err_set(err, GL_EINVAL, "%s: needs \"classes\" (object) and \"models\" (array)", origin);
    size_t n = rc ? 0 : json_array_size(models), cap = 0;
    if (!rc && !(m->models = calloc(n + 1, sizeof *m->models)))
        rc = gl_err_set(err, GL_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < n; i++) {
        json_t *o = json_array_get(models, i);
        gl_gpu_model *g = &m->models[i];
        g->canonical = json_string_value(json_object_get(o, "canonical"));
        g->family = json_string_value(json_object_get(o, "family"));
        g->vendor = json_string_value(json_object_get(o, "vendor"));
        g->eccn = json_string_value(json_object_get(o, "class"));
        json_t *mem = json_object_get(o, "memory_gb"), *cls = g->eccn ? json_object_get(classes, g->eccn) : NULL;
        json_t *al = json_object_get(o, "aliases");
        if (!g->canonical || !g->family || !g->eccn || !json_is_array(al)) {
            rc = gl_err_set(err, GL_EINVAL, "%s: models[%zu]: needs canonical, family, class and aliases", origin, i);
            break;
        }
        if (!json_is_object(cls)) {
            rc = gl_err_set(err, GL_EINVAL, "%s: models[%zu].class: '%s' is not in \"classes\"", origin, i, g->eccn);
            break;
        }
        g->controlled = json_is_true(json_object_get(cls, "controlled"));
        if (json_is_integer(mem) && json_integer_value(mem) > 0)
            g->memory_gb = (unsigned)json_integer_value(mem);
        else if (mem && !json_is_null(mem)) {
            rc = gl_err_set(err, GL_EINVAL, "%s: models[%zu].memory_gb: a positive integer or null", origin, i);
            break;
        }
        rc = add_alias(m, g->canonical, i, &cap, err);
        for (size_t j = 0; !rc && j < json_array_size(al); j++) {
            const char *a = json_string_value(json_array_get(al, j));
            rc = a ? add_alias(m, a, i, &cap, err)
                   : gl_err_set(err, GL_EINVAL, "%s: models[%zu].aliases[%zu]: not a string", origin, i, j);
        }
        m->n_models++;
    }
    if (!rc) {
        qsort(m->aliases, m->n_aliases, sizeof *m->aliases, alias_cmp);
        /* drop exact repeats within one model, refuse an alias two models claim */
        size_t w = 0, i = 0;
        for (; i < m->n_aliases; i++) {
            if (w && !strcmp(m->aliases[w - 1].key, m->aliases[i].key)) {
                if (m->aliases[w - 1].model != m->aliases[i].model) {
                    rc = gl_err_set(err, GL_EINVAL, "%s: alias '%s' names both '%s' and '%s'", origin,
                                    m->aliases[i].key, m->models[m->aliases[w - 1].model].canonical,
                                    m->models[m->aliases[i].model].canonical);
                    break;
                }
                free(m->aliases[i].key);
                continue;
            }
            m->aliases[w++] = m->aliases[i];
        }
        if (!rc)
            m->n_aliases = w;
        else /* [w, i) were moved down or freed; [i, n) are still owned */
            for (size_t j = w; j < i; j++)
                m->aliases[j].key = NULL;
    }
    if (rc) {
        gl_gpu_models_free(m);
        return rc;
    }
    *out = m;
    return GL_OK;
}

gl_code gl_gpu_models_load_file(gl_gpu_models **out, const char *path, gl_err *err)
{
    *out = NULL;
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j)
        return gl_err_set(err, GL_EINVAL, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    char *txt = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!txt)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    gl_code rc = gl_gpu_models_load_text(out, txt, path, err);
    free(txt);
    return rc;
}

gl_code gl_gpu_models_builtin(gl_gpu_models **out, gl_err *err)
{
    return gl_gpu_models_load_text(out, gl_gpu_models_builtin_text(), "builtin:gpus.json", err);
}

const gl_gpu_model *gl_gpu_models_lookup(const gl_gpu_models *m, const char *name)
{
    if (!m || !name || !name[0])
        return NULL;
    char *k = normalise(name);
    if (!k || !k[0]) {
        free(k);
        return NULL;
    }
    alias key = {k, 0};
    const alias *a = bsearch(&key, m->aliases, m->n_aliases, sizeof *m->aliases, alias_cmp);
    free(k);
    return a ? &m->models[a->model] : NULL;
}

size_t gl_gpu_models_count(const gl_gpu_models *m) { return m ? m->n_models : 0; }

const gl_gpu_model *gl_gpu_models_at(const gl_gpu_models *m, size_t i)
{
    return m && i < m->n_models ? &m->models[i] : NULL;
}
