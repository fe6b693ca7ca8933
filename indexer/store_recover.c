/* store_recover.c - a damaged write-ahead log: what a check finds (the
 * cursors before and after the damage), gl_store_recover (old logs kept,
 * what was lost recorded in meta), and the spans a recovery lost.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <rocksdb/c.h>

#include "gpuledger/keccak.h"
#include "gpuledger/store.h"
#include "store_int.h"

/* --------------------------------------------- a damaged log, recovery */

/* A read-only look at `dir` with the log replayed in `mode`: every family
 * attached, nothing checked.  NULL with err when RocksDB refuses. */
static gl_store *peek(const char *dir, int mode, gl_err *err)
{
    gl_store *s = store_alloc(dir, err);
    if (!s)
        return NULL;
    s->wal_mode = mode;
    s->read_only = true;
    char **listed = NULL;
    size_t n = 0;
    gl_code rc = list_families(s, &listed, &n, err);
    if (!rc) {
        rc = attach(s, (const char *const *)listed, n, true, false, err);
        rocksdb_list_column_families_destroy(listed, n);
    }
    if (rc) {
        store_free(s);
        return NULL;
    }
    return s;
}

static gl_store_wal_cursor *report_cursor(gl_store_wal_report *r, uint64_t chain, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->cursors[i].chain_id == chain && !strcmp(r->cursors[i].name, name))
            return &r->cursors[i];
    if (r->n == GL_STORE_REPORT_CURSORS) {
        r->n_more++;
        return NULL;
    }
    gl_store_wal_cursor *c = &r->cursors[r->n++];
    memset(c, 0, sizeof *c);
    c->chain_id = chain;
    snprintf(c->name, sizeof c->name, "%s", name);
    return c;
}

/* The cursors and record counts of a peek, as kept (before the damage) or
 * reached (with the records past it). */
static gl_code report_fill(gl_store *s, gl_store_wal_report *r, bool kept, gl_err *err)
{
    gl_store_stats st;
    gl_code rc = gl_store_stats_get(s, &st, err);
    if (rc)
        return rc;
    memcpy(kept ? r->kept_records : r->later_records, st.records, sizeof st.records);
    gl_store_iter *it = gl_store_iter_cursors(s, err);
    if (!it)
        return GL_ENOMEM;
    for (bool end = false; !rc;) {
        gl_store_cursor cur;
        if ((rc = gl_store_next_cursor(it, &cur, &end, err)) || end)
            break;
        gl_store_wal_cursor *c = report_cursor(r, cur.chain_id, cur.name);
        if (c && kept) {
            c->kept = true;
            c->kept_block = cur.block;
        } else if (c) {
            c->reached = true;
            c->reached_block = cur.block;
        }
    }
    gl_store_iter_free(it);
    return rc;
}

/* Is the log of `dir` damaged before its end, and what is on either side
 * of the damage?  GL_OK with r->damaged false when a tail-tolerant open
 * works; the error of that open when the damage is not (only) in the log. */
gl_code wal_survey(const char *dir, gl_store_wal_report *r, gl_err *err)
{
    memset(r, 0, sizeof *r);
    gl_err e0 = {0};
    gl_store *s = peek(dir, WAL_TOLERATE_TAIL, &e0);
    if (s) {
        store_free(s);
        return GL_OK;
    }
    if (!strstr(e0.msg, "Corruption") || !(s = peek(dir, WAL_POINT_IN_TIME, NULL))) {
        if (err)
            *err = e0;
        return e0.code ? e0.code : GL_EDB;
    }
    r->damaged = true;
    snprintf(r->damage, sizeof r->damage, "%s", strstr(e0.msg, "Corruption"));
    gl_code rc = report_fill(s, r, true, err);
    store_free(s);
    if (rc)
        return rc;
    if ((s = peek(dir, WAL_SKIP_ANY, NULL))) {
        gl_err e1 = {0};
        r->later_known = report_fill(s, r, false, &e1) == GL_OK;
        store_free(s);
    }
    return GL_OK;
}

/* "store 'X' is damaged: its write-ahead log ..." with what the readable
 * part holds and the commands to run, into err. */
void wal_message(const char *dir, const gl_store_wal_report *r, gl_err *err)
{
    char kept[240] = "no platform's cursor is readable (what is lost is no index run's)";
    if (r->n) {
        const gl_store_wal_cursor *c = &r->cursors[0];
        int l = c->kept ? snprintf(kept, sizeof kept, "platform %s (chain %" PRIu64 ") is recovered up to block %" PRIu64
                                   " and what the log held after it is lost",
                                   c->name, c->chain_id, c->kept_block)
                        : snprintf(kept, sizeof kept, "platform %s (chain %" PRIu64 ") is lost entirely", c->name,
                                   c->chain_id);
        if (l > 0 && (size_t)l < sizeof kept && c->reached && c->kept && c->reached_block > c->kept_block)
            l += snprintf(kept + l, sizeof kept - (size_t)l, " (it had reached block %" PRIu64 " at least)",
                          c->reached_block);
        if (l > 0 && (size_t)l < sizeof kept && r->n + r->n_more > 1)
            snprintf(kept + l, sizeof kept - (size_t)l, "; %zu more platforms", r->n + r->n_more - 1);
    }
    gl_err_set(err, GL_EDB,
               "store '%s' is damaged: its write-ahead log is corrupt (%s), and opening it would keep only "
               "what comes before the damage: %s. Nothing was changed. Run 'gpuledger db recover --db %s' "
               "to keep what is readable, then 'gpuledger index' to fetch the rest again",
               dir, r->damage, kept, dir);
}

gl_code gl_store_wal_check(const char *dir, gl_store_wal_report *out, gl_err *err)
{
    if (!dir || !dir[0] || !out)
        return gl_err_set(err, GL_EINVAL, "no store directory given");
    memset(out, 0, sizeof *out);
    dir_state st = DIR_MISSING;
    gl_code rc = probe_dir(dir, &st, err);
    if (rc)
        return rc;
    if (st != DIR_ROCKSDB)
        return gl_err_set(err, GL_EDB,
                          st == DIR_MISSING ? "store '%s' does not exist"
                          : st == DIR_EMPTY ? "store '%s' is an empty directory, not a store"
                                            : "the creation of store '%s' was interrupted: open it with create "
                                              "to finish it",
                          dir);
    return wal_survey(dir, out, err);
}

/* Copy every write-ahead log file of `dir` into a new directory
 * dir/damaged-wal-<UTC time>[-n]; its name into out. */
static gl_code keep_logs(const char *dir, char *out, size_t cap, gl_err *err)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    char path[4096];
    for (int i = 0;; i++) {
        snprintf(out, cap, i ? "damaged-wal-%s-%d" : "damaged-wal-%s", stamp, i);
        snprintf(path, sizeof path, "%s/%s", dir, out);
        if (mkdir(path, 0755) == 0)
            break;
        if (errno != EEXIST || i > 100)
            return gl_err_set(err, GL_EIO, "store '%s': cannot make '%s' to keep the damaged log: %s", dir, path,
                              strerror(errno));
    }
    DIR *d = opendir(dir);
    if (!d)
        return gl_err_set(err, GL_EIO, "store '%s': cannot list: %s", dir, strerror(errno));
    gl_code rc = GL_OK;
    struct dirent *e;
    while (!rc && (e = readdir(d)) != NULL) {
        if (!numbered(e->d_name, "", ".log"))
            continue;
        char from[4400], to[4400];
        snprintf(from, sizeof from, "%s/%s", dir, e->d_name);
        snprintf(to, sizeof to, "%s/%s", path, e->d_name);
        FILE *in = fopen(from, "rb"), *o = fopen(to, "wb");
        char buf[65536];
        size_t k;
        while (in && o && (k = fread(buf, 1, sizeof buf, in)) > 0)
            if (fwrite(buf, 1, k, o) != k)
                break;
        bool ok = in && o && !ferror(in) && !ferror(o);
        if (in)
            fclose(in);
        if (o && fclose(o) != 0)
            ok = false;
        if (!ok)
            rc = gl_err_set(err, GL_EIO, "store '%s': cannot copy the damaged log '%s' to '%s': %s", dir, from,
                            to, strerror(errno));
    }
    closedir(d);
    return rc;
}

/* The recovery's entry for meta 'recovered': when, what, where the log
 * was kept, and each platform's span that may be lost: every block after
 * the one its cursor holds before the damage (to the block the readable
 * records past it reach, when they reach further; else open-ended). */
static json_t *recovery_entry(const gl_store_wal_report *r)
{
    char at[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *lost = json_array();
    for (size_t i = 0; i < r->n; i++) {
        const gl_store_wal_cursor *c = &r->cursors[i];
        uint64_t first = c->kept ? c->kept_block + 1 : 0;
        json_t *last = c->reached && c->reached_block >= first ? json_integer((json_int_t)c->reached_block)
                                                                 : json_null();
        json_array_append_new(lost, json_pack("{s:I, s:s, s:I, s:o}", "chain_id", (json_int_t)c->chain_id,
                                              "platform", c->name, "first", (json_int_t)first, "last", last));
    }
    return json_pack("{s:s, s:s, s:s, s:o}", "at", at, "damage", r->damage, "kept_log", r->kept_log, "lost", lost);
}

/* In one batch, after point-in-time recovery: make the appearances of
 * every chain from its lowest kept cursor on exactly those its records
 * imply (a bulk writer writes appearances and records as table files,
 * outside the log, so some may belong to records the damage took, and
 * some records may lack theirs), and append the recovery to meta
 * 'recovered'.  Records are kept as they are: what is readable is
 * evidence, and an index run puts the same keys again. */
static gl_code recover_commit(gl_store *s, const gl_store_wal_report *r, gl_err *err)
{
    uint64_t chains[GL_STORE_REPORT_CURSORS], from[GL_STORE_REPORT_CURSORS];
    size_t nch = 0;
    for (size_t i = 0; i < r->n; i++) {
        const gl_store_wal_cursor *c = &r->cursors[i];
        uint64_t f = c->kept ? c->kept_block + 1 : 0;
        size_t j = 0;
        while (j < nch && chains[j] != c->chain_id)
            j++;
        if (j == nch) {
            chains[nch] = c->chain_id;
            from[nch++] = f;
        } else if (f < from[j])
            from[j] = f;
    }
    gl_store_batch *b = gl_store_batch_new(s, err);
    if (!b)
        return err ? err->code : GL_ENOMEM;
    gl_code rc = GL_OK;
    if (nch) {
        rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, s->ro, s->cf[GL_STORE_CF_APPEARANCES]);
        for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
            size_t kl;
            const uint8_t *k = (const uint8_t *)rocksdb_iter_key(it, &kl);
            if (kl != GL_STORE_APPEARANCE_KEY_LEN)
                continue; /* damage, for gl_store_verify to name */
            uint64_t ch = gl_store_be64_get(k + 20), blk = gl_store_be64_get(k + 28);
            for (size_t j = 0; j < nch; j++)
                if (ch == chains[j] && blk >= from[j])
                    wb_del(b, GL_STORE_CF_APPEARANCES, k, kl);
        }
        char *e = NULL;
        rocksdb_iter_get_error(it, &e);
        rocksdb_iter_destroy(it);
        if (e)
            rc = db_fail(err, s->dir, e, "reading the appearances");
    }
    for (size_t j = 0; j < nch && !rc; j++) {
        uint8_t lo[16], hi[8];
        gl_store_be64_put(lo, chains[j]);
        gl_store_be64_put(lo + 8, from[j]);
        gl_store_be64_put(hi, chains[j] + 1); /* chain ids below 2^64-1 */
        rc = derive_range(b, lo, sizeof lo, hi, sizeof hi, false, 0, err);
    }
    /* The marker: the entries before, and this one. */
    json_t *all = NULL;
    if (!rc) {
        char *val = NULL;
        size_t vl = 0;
        rc = meta_get(s, META_RECOVERED_KEY, &val, &vl, err);
        all = val ? json_loadb(val, vl, 0, NULL) : json_array();
        free(val);
        if (!rc && !json_is_array(all))
            rc = gl_err_set(err, GL_EDB, "store '%s' is damaged: meta '%s' is not a JSON array", s->dir,
                            META_RECOVERED_KEY);
    }
    if (!rc) {
        json_array_append_new(all, recovery_entry(r));
        char *text = json_dumps(all, JSON_COMPACT | JSON_SORT_KEYS);
        if (!text)
            rc = gl_err_set(err, GL_ENOMEM, "out of memory recovering");
        else {
            wb_put(b, GL_STORE_CF_META, META_RECOVERED_KEY, strlen(META_RECOVERED_KEY), text, strlen(text));
            rc = gl_store_batch_commit(b, err);
        }
        free(text);
    }
    json_decref(all);
    gl_store_batch_free(b);
    return rc;
}

gl_code gl_store_recover(const char *dir, gl_store_wal_report *out, gl_err *err)
{
    gl_code rc = gl_store_wal_check(dir, out, err);
    if (rc || !out->damaged)
        return rc;
    if ((rc = keep_logs(dir, out->kept_log, sizeof out->kept_log, err)))
        return rc;
    const gl_store_open_opts o = {0};
    gl_store *s = open_mode(dir, &o, WAL_POINT_IN_TIME, err);
    if (!s)
        return err ? err->code : GL_EDB;
    rc = recover_commit(s, out, err);
    gl_store_close(s);
    if (rc)
        return rc;
    /* What an ordinary open sees now: a sound log, a store that verifies. */
    s = gl_store_open(dir, &o, err);
    if (!s)
        return gl_err_prefix(err, "after recovery: ");
    rc = gl_store_verify(s, err);
    gl_store_close(s);
    return rc ? gl_err_prefix(err, "after recovery: ") : GL_OK;
}

gl_code gl_store_lost_spans(gl_store *s, gl_store_lost *out, size_t max, size_t *n, size_t *open_spans,
                            gl_err *err)
{
    *n = 0;
    if (open_spans)
        *open_spans = 0;
    char *val = NULL;
    size_t vl = 0;
    gl_code rc = meta_get(s, META_RECOVERED_KEY, &val, &vl, err);
    if (rc || !val)
        return rc;
    json_t *all = json_loadb(val, vl, 0, NULL);
    free(val);
    if (!json_is_array(all)) {
        json_decref(all);
        return gl_err_set(err, GL_EDB, "store '%s' is damaged: meta '%s' is not a JSON array", s->dir,
                          META_RECOVERED_KEY);
    }
    size_t i, j;
    json_t *rec, *l;
    json_array_foreach(all, i, rec)
    {
        json_array_foreach(json_object_get(rec, "lost"), j, l)
        {
            const char *name = json_string_value(json_object_get(l, "platform"));
            json_t *ch = json_object_get(l, "chain_id"), *first = json_object_get(l, "first"),
                   *last = json_object_get(l, "last");
            if (!name || !gl_store_name_ok(name) || !json_is_integer(ch) || !json_is_integer(first) ||
                !(json_is_integer(last) || json_is_null(last))) {
                json_decref(all);
                return gl_err_set(err, GL_EDB, "store '%s' is damaged: meta '%s' has a malformed entry", s->dir,
                                  META_RECOVERED_KEY);
            }
            gl_store_lost x;
            memset(&x, 0, sizeof x);
            x.chain_id = (uint64_t)json_integer_value(ch);
            snprintf(x.platform, sizeof x.platform, "%s", name);
            x.first = (uint64_t)json_integer_value(first);
            x.last_known = json_is_integer(last);
            x.last = x.last_known ? (uint64_t)json_integer_value(last) : 0;
            gl_store_cursor cur;
            if ((rc = gl_store_get_cursor(s, x.chain_id, name, &cur, &x.has_cursor, err))) {
                json_decref(all);
                return rc;
            }
            x.cursor = x.has_cursor ? cur.block : 0;
            x.covered = x.has_cursor && (x.last_known ? x.cursor >= x.last : x.cursor + 1 > x.first);
            if (!x.covered && open_spans)
                (*open_spans)++;
            if (*n < max)
                out[*n] = x;
            (*n)++;
        }
    }
    json_decref(all);
    if (*n > max)
        *n = max;
    return GL_OK;
}
