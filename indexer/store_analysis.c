/* store_analysis.c - the analysis family replaced by sorted table files.
 *
 * An analyze run writes millions of records (an entity each, an address
 * each, a score per buying wallet).  Through batches each went into the
 * write-ahead log and a memtable, then a flush wrote them again and
 * compactions merged the flushed files: at 10M transfers more time than
 * reading the store.  The analyzer can give its records in key order, so
 * they go straight into table files (RocksDB's SstFileWriter), which
 * RocksDB takes in at commit: nothing of the new analysis is visible
 * before, all of it after.
 *
 * Crash safety: the files are private until ingested (a crash leaves only
 * files named ANALYSIS_FILE_PREFIX*, removed by the next writer); the
 * commit first clears the family (a logged range delete), then ingests
 * every file in one call (RocksDB takes all or none).  A crash between the
 * two leaves no stamp, which readers take as "no analysis".
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rocksdb/c.h>

#include "gpuledger/store.h"
#include "store_int.h"

#define ANALYSIS_FILE_PREFIX "gpuledger-analysis-"
/* Keys per table file: files of a few hundred MB at most, so that later
 * compactions of the family move bounded pieces. */
#define ANALYSIS_FILE_KEYS (1u << 20)

struct gl_store_analysis_writer {
    gl_store *s;
    rocksdb_envoptions_t *eo;
    rocksdb_sstfilewriter_t *w; /* the file being written, NULL between files */
    size_t in_file;             /* keys in it */
    char **paths;               /* every file begun */
    size_t n_paths;
    uint8_t last[GL_STORE_ANALYSIS_KEY_MAX];
    size_t last_len;            /* 0: no key yet */
    bool failed;
};

/* Remove what a crashed writer left in the store's directory. */
static void remove_leftovers(const gl_store *s)
{
    DIR *d = opendir(s->dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)))
        if (!strncmp(de->d_name, ANALYSIS_FILE_PREFIX, sizeof ANALYSIS_FILE_PREFIX - 1)) {
            char path[4096];
            if ((size_t)snprintf(path, sizeof path, "%s/%s", s->dir, de->d_name) < sizeof path)
                unlink(path);
        }
    closedir(d);
}

gl_store_analysis_writer *gl_store_analysis_writer_new(gl_store *s, gl_err *err)
{
    if (!s->cf[GL_STORE_CF_ANALYSIS]) {
        gl_err_set(err, GL_EINVAL, "store '%s' has no analysis family (open it read-write to migrate it)", s->dir);
        return NULL;
    }
    gl_store_analysis_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->eo = rocksdb_envoptions_create())) {
        free(w);
        gl_err_set(err, GL_ENOMEM, "out of memory");
        return NULL;
    }
    w->s = s;
    remove_leftovers(s);
    return w;
}

static gl_code fail(gl_store_analysis_writer *w, gl_err *err, char *e, const char *what)
{
    w->failed = true;
    return db_fail(err, w->s->dir, e, what);
}

/* Finish the file being written (if any). */
static gl_code close_file(gl_store_analysis_writer *w, gl_err *err)
{
    if (!w->w)
        return GL_OK;
    char *e = NULL;
    rocksdb_sstfilewriter_finish(w->w, &e);
    rocksdb_sstfilewriter_destroy(w->w);
    w->w = NULL;
    w->in_file = 0;
    return e ? fail(w, err, e, "finishing an analysis table file") : GL_OK;
}

static gl_code open_file(gl_store_analysis_writer *w, gl_err *err)
{
    char **p = realloc(w->paths, (w->n_paths + 1) * sizeof *p);
    if (!p)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    w->paths = p;
    size_t n = strlen(w->s->dir) + sizeof "/" ANALYSIS_FILE_PREFIX + 32;
    char *path = malloc(n);
    if (!path)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    snprintf(path, n, "%s/%s%ld-%zu.sst", w->s->dir, ANALYSIS_FILE_PREFIX, (long)getpid(), w->n_paths);
    w->paths[w->n_paths++] = path;
    if (!(w->w = rocksdb_sstfilewriter_create(w->eo, w->s->opts)))
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    char *e = NULL;
    rocksdb_sstfilewriter_open(w->w, path, &e);
    if (e) {
        rocksdb_sstfilewriter_destroy(w->w);
        w->w = NULL;
        return fail(w, err, e, "creating an analysis table file");
    }
    return GL_OK;
}

gl_code gl_store_analysis_writer_put(gl_store_analysis_writer *w, const void *key, size_t klen, const void *val,
                                     size_t vlen, gl_err *err)
{
    if (w->failed)
        return gl_err_set(err, GL_EINVAL, "analysis writer of store '%s' failed before", w->s->dir);
    if (!analysis_key_ok(key, klen))
        return gl_err_set(err, GL_EINVAL, "an analysis key has 1 to %d bytes, not %zu", GL_STORE_ANALYSIS_KEY_MAX,
                          key ? klen : (size_t)0);
    if (!val && vlen)
        return gl_err_set(err, GL_EINVAL, "no analysis value given");
    if (w->last_len) {
        size_t m = klen < w->last_len ? klen : w->last_len;
        int c = memcmp(w->last, key, m);
        if (c > 0 || (c == 0 && w->last_len >= klen)) {
            w->failed = true;
            return gl_err_set(err, GL_EINVAL, "analysis records must come in ascending key order (a key repeats or "
                              "goes back)");
        }
    }
    gl_code rc = GL_OK;
    if (w->in_file >= ANALYSIS_FILE_KEYS)
        rc = close_file(w, err);
    if (!rc && !w->w)
        rc = open_file(w, err);
    if (rc)
        return rc;
    char *e = NULL;
    rocksdb_sstfilewriter_put(w->w, key, klen, val ? val : "", vlen, &e);
    if (e)
        return fail(w, err, e, "writing an analysis table file");
    memcpy(w->last, key, klen);
    w->last_len = klen;
    w->in_file++;
    return GL_OK;
}

gl_code gl_store_analysis_writer_commit(gl_store_analysis_writer *w, gl_err *err)
{
    if (w->failed)
        return gl_err_set(err, GL_EINVAL, "analysis writer of store '%s' failed before", w->s->dir);
    gl_code rc = close_file(w, err);
    if (rc)
        return rc;
    gl_store_batch *b = gl_store_batch_new(w->s, err);
    if (!b)
        return GL_EDB;
    rc = gl_store_batch_clear_analysis(b, err);
    rc = rc ? rc : gl_store_batch_commit(b, err);
    gl_store_batch_free(b);
    if (rc || !w->n_paths)
        return rc;
    rocksdb_ingestexternalfileoptions_t *io = rocksdb_ingestexternalfileoptions_create();
    if (!io)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    rocksdb_ingestexternalfileoptions_set_move_files(io, 1);
    char *e = NULL;
    pthread_mutex_lock(&w->s->lock);
    rocksdb_ingest_external_file_cf(w->s->db, w->s->cf[GL_STORE_CF_ANALYSIS], (const char *const *)w->paths,
                                    w->n_paths, io, &e);
    pthread_mutex_unlock(&w->s->lock);
    rocksdb_ingestexternalfileoptions_destroy(io);
    return e ? fail(w, err, e, "taking in the analysis table files") : GL_OK;
}

void gl_store_analysis_writer_free(gl_store_analysis_writer *w)
{
    if (!w)
        return;
    if (w->w) {
        char *e = NULL;
        rocksdb_sstfilewriter_finish(w->w, &e);
        free(e);
        rocksdb_sstfilewriter_destroy(w->w);
    }
    for (size_t i = 0; i < w->n_paths; i++) {
        unlink(w->paths[i]); /* moved in by a link, or never taken: gone either way */
        free(w->paths[i]);
    }
    free(w->paths);
    rocksdb_envoptions_destroy(w->eo);
    free(w);
}
