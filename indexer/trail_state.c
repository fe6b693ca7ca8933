/* trail_state.c - the funding trail's state file: what has been fetched
 * for each address, saved after commits so that a run that stops anywhere
 * resumes without fetching it again, and loaded at the start.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "gpuledger/block.h"
#include "gpuledger/bytes.h"
#include "gpuledger/range_plan.h"
#include "gpuledger/secp.h"
#include "gpuledger/trail.h"
#include "gpuledger/tx.h"
#include "gpuledger/tx_check.h"
#include "gpuledger/u256.h"
#include "trail_int.h"

/* ---------------------------------------------------------------- state */

void tr_state_path(const trail *t, char *out, size_t cap)
{
    snprintf(out, cap, "%s/trail-%" PRIu64 ".json", gl_store_dir(t->s), t->chain);
}

static json_t *iv_json(bool has, iv v)
{
    return has ? json_pack("[II]", (json_int_t)v.lo, (json_int_t)v.hi) : json_null();
}

static bool iv_from_json(const json_t *j, bool *has, iv *v)
{
    if (!j || json_is_null(j)) {
        *has = false;
        return true;
    }
    uint64_t lo, hi;
    if (!json_is_array(j) || json_array_size(j) != 2 || !json_is_integer(json_array_get(j, 0)) ||
        !json_is_integer(json_array_get(j, 1)) || !tr_q_u64(json_array_get(j, 0), &lo) ||
        !tr_q_u64(json_array_get(j, 1), &hi) || lo > hi)
        return false;
    *has = true;
    v->lo = lo;
    v->hi = hi;
    return true;
}

static const char *node_status(const node *n)
{
    if (n->skip >= 0)
        return gl_trail_skip_name((gl_trail_skip)n->skip);
    if (n->expanded)
        return "expanded";
    return n->depth >= 0 ? "pending" : "not reached";
}

/* Write the state file: a temporary file synced, then renamed over it. */
gl_code tr_save_state(trail *t, gl_err *err)
{
    json_t *addrs = json_object();
    json_t *root = json_pack("{s:s, s:I, s:I, s:{s:I, s:I, s:I}, s:o}", "format", STATE_FORMAT, "chain_id",
                             (json_int_t)t->chain, "safe_head", (json_int_t)t->safe, "params", "depth",
                             (json_int_t)t->o.depth, "window", (json_int_t)t->o.window, "hub_degree",
                             (json_int_t)t->o.hub_degree, "addresses", addrs);
    if (!root)
        return gl_err_set(err, GL_ENOMEM, "out of memory writing the trail state");
    for (size_t i = 0; i < t->map.n; i++) {
        const node *n = &t->map.nodes[i];
        if (n->depth < 0 && !n->has_tok && !n->has_nat && !n->fetch_hub)
            continue;
        char hex[43];
        gl_hex_encode(n->addr, 20, true, hex);
        json_t *o = json_pack("{s:o, s:s, s:o, s:o, s:o, s:o, s:I, s:b}", "depth",
                              n->depth >= 0 ? json_integer(n->depth) : json_null(), "status", node_status(n),
                              "reason", n->note ? json_string(n->note) : json_null(), "need",
                              iv_json(n->has_need, n->need), "token", iv_json(n->has_tok, n->tok), "native",
                              iv_json(n->has_nat, n->nat), "degree", (json_int_t)n->degree, "fetch_hub",
                              n->fetch_hub);
        if (!o || json_object_set_new(addrs, hex, o)) {
            json_decref(root);
            return gl_err_set(err, GL_ENOMEM, "out of memory writing the trail state");
        }
    }
    char *text = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS);
    json_decref(root);
    if (!text)
        return gl_err_set(err, GL_ENOMEM, "out of memory writing the trail state");
    char path[1024], tmp[1100];
    tr_state_path(t, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    gl_code rc = GL_OK;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = gl_err_set(err, GL_EIO, "cannot write trail state '%s': %s", tmp, strerror(errno));
    } else {
        size_t len = strlen(text), off = 0;
        while (off < len && !rc) {
            ssize_t w = write(fd, text + off, len - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                rc = gl_err_set(err, GL_EIO, "cannot write trail state '%s': %s", tmp, strerror(errno));
            else
                off += (size_t)w;
        }
        if (!rc && (write(fd, "\n", 1) != 1 || fsync(fd) != 0))
            rc = gl_err_set(err, GL_EIO, "cannot write trail state '%s': %s", tmp, strerror(errno));
        if (close(fd) != 0 && !rc)
            rc = gl_err_set(err, GL_EIO, "cannot write trail state '%s': %s", tmp, strerror(errno));
        if (!rc && rename(tmp, path) != 0)
            rc = gl_err_set(err, GL_EIO, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
        if (rc)
            unlink(tmp);
        else {
            int dfd = open(gl_store_dir(t->s), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dfd >= 0) {
                fsync(dfd);
                close(dfd);
            }
        }
    }
    free(text);
    t->last_save = time(NULL);
    return rc;
}

gl_code tr_save_maybe(trail *t, gl_err *err)
{
    if (time(NULL) - t->last_save < SAVE_EVERY_S)
        return GL_OK;
    return tr_save_state(t, err);
}

/* Read what earlier runs fetched.  A missing file is a first run. */
gl_code tr_load_state(trail *t, gl_err *err)
{
    char path[1024];
    tr_state_path(t, path, sizeof path);
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        struct stat st;
        if (stat(path, &st) != 0 && errno == ENOENT)
            return GL_OK;
        return gl_err_set(err, GL_EINVAL, "trail state '%s' is unreadable (%s, line %d): remove it to start over",
                          path, je.text, je.line);
    }
    gl_code rc = GL_OK;
    uint64_t chain = 0;
    const json_t *addrs = json_object_get(root, "addresses");
    const char *format = json_string_value(json_object_get(root, "format"));
    if (!json_is_object(root) || !format || strcmp(format, STATE_FORMAT) ||
        !tr_q_u64(json_object_get(root, "chain_id"), &chain) || chain != t->chain || !json_is_object(addrs))
        rc = gl_err_set(err, GL_EINVAL,
                        "trail state '%s' is not a %s file for chain %" PRIu64 ": remove it to start over", path,
                        STATE_FORMAT, t->chain);
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)addrs, key, v)
    {
        if (rc)
            break;
        uint8_t a[20];
        node *n;
        bool has_tok, has_nat;
        iv tok, nat;
        uint64_t degree = 0;
        const json_t *deg = json_object_get(v, "degree");
        if (gl_hex_decode_exact(key, a, 20, NULL) || !json_is_object(v) ||
            !iv_from_json(json_object_get(v, "token"), &has_tok, &tok) ||
            !iv_from_json(json_object_get(v, "native"), &has_nat, &nat) || (deg && !tr_q_u64(deg, &degree))) {
            rc = gl_err_set(err, GL_EINVAL, "trail state '%s': bad entry '%.60s': remove the file to start over",
                            path, key);
            break;
        }
        rc = tr_map_get(&t->map, a, &n, err);
        if (rc)
            break;
        n->has_tok = has_tok;
        n->tok = tok;
        n->has_nat = has_nat;
        n->nat = nat;
        n->fetch_hub = json_is_true(json_object_get(v, "fetch_hub"));
        n->degree = degree;
    }
    json_decref(root);
    return rc;
}
