/* store_recover_swap.c - gl_store_recover on a copy, then one atomic
 * exchange of directories (store_recover_swap.h says why).
 *
 * Steps, each safe to be killed in:
 *   1. lock dir/LOCK (fcntl, as RocksDB does: a writer is refused, and we
 *      are refused while one writes);
 *   2. remove what a killed run left at the working path;
 *   3. gl_store_wal_check: a sound log or damage outside it ends here,
 *      nothing changed;
 *   4. copy the store into the working path (table files hard-linked,
 *      everything else copied and synced, subdirectories too: earlier
 *      damaged-wal-* evidence and the trail's state files come along);
 *   5. gl_store_recover on the copy (RocksDB syncs what it writes);
 *   6. renameat2(RENAME_EXCHANGE) of the store and the copy, the parent
 *      directory synced: the one moment the store changes;
 *   7. remove the working path, now the damaged store (its log is kept
 *      inside the recovered one).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gpuledger/store_recover_swap.h"

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) != 0 && errno != ENOENT;
}

/* Remove `path` and everything under it; a missing path is fine. */
static gl_code rm_tree(const char *path, gl_err *err)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? GL_OK
                               : gl_err_set(err, GL_EIO, "cannot look at '%s': %s", path, strerror(errno));
    if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        return gl_err_set(err, GL_EIO, "cannot remove '%s' (left by an earlier, interrupted recovery): %s", path,
                          strerror(errno));
    return GL_OK;
}

static gl_code sync_path(const char *path, bool dir, gl_err *err)
{
    int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
    if (fd < 0)
        return gl_err_set(err, GL_EIO, "cannot open '%s' to sync it: %s", path, strerror(errno));
    int r = fsync(fd);
    int e = errno;
    close(fd);
    return r ? gl_err_set(err, GL_EIO, "cannot sync '%s': %s", path, strerror(e)) : GL_OK;
}

static gl_code copy_file(const char *from, const char *to, gl_err *err)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return gl_err_set(err, GL_EIO, "cannot read '%s': %s", from, strerror(errno));
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out < 0) {
        int e = errno;
        close(in);
        return gl_err_set(err, GL_EIO, "cannot create '%s': %s", to, strerror(e));
    }
    gl_code rc = GL_OK;
    char buf[65536];
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = gl_err_set(err, GL_EIO, "cannot read '%s': %s", from, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        for (ssize_t off = 0; off < n && !rc;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                rc = gl_err_set(err, GL_EIO, "cannot write '%s': %s", to, strerror(errno));
            else
                off += w;
        }
        if (rc)
            break;
    }
    if (!rc && fsync(out) != 0)
        rc = gl_err_set(err, GL_EIO, "cannot sync '%s': %s", to, strerror(errno));
    if (close(out) != 0 && !rc)
        rc = gl_err_set(err, GL_EIO, "cannot write '%s': %s", to, strerror(errno));
    close(in);
    return rc;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t l = strlen(s), n = strlen(suffix);
    return l >= n && !strcmp(s + l - n, suffix);
}

/* Copy directory `from` into the new directory `to`: *.sst hard-linked
 * (immutable in RocksDB; copied where the file system refuses the link),
 * the LOCK file left out (the copy's open makes its own), every other file
 * copied, subdirectories recursively. */
static gl_code copy_tree(const char *from, const char *to, int depth, gl_err *err)
{
    if (depth > 8)
        return gl_err_set(err, GL_EIO, "'%s': directories nested too deep to copy", from);
    if (mkdir(to, 0755) != 0)
        return gl_err_set(err, GL_EIO, "cannot make '%s': %s", to, strerror(errno));
    DIR *d = opendir(from);
    if (!d)
        return gl_err_set(err, GL_EIO, "cannot list '%s': %s", from, strerror(errno));
    gl_code rc = GL_OK;
    struct dirent *e;
    while (!rc && (e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        if (!strcmp(name, ".") || !strcmp(name, "..") || (depth == 0 && !strcmp(name, "LOCK")))
            continue;
        char src[PATH_MAX], dst[PATH_MAX];
        if ((size_t)snprintf(src, sizeof src, "%s/%s", from, name) >= sizeof src ||
            (size_t)snprintf(dst, sizeof dst, "%s/%s", to, name) >= sizeof dst) {
            rc = gl_err_set(err, GL_EIO, "'%s/%s': path too long", from, name);
            break;
        }
        struct stat st;
        if (lstat(src, &st) != 0)
            rc = gl_err_set(err, GL_EIO, "cannot look at '%s': %s", src, strerror(errno));
        else if (S_ISDIR(st.st_mode))
            rc = copy_tree(src, dst, depth + 1, err);
        else if (!S_ISREG(st.st_mode))
            rc = gl_err_set(err, GL_EIO, "'%s' is neither a file nor a directory: not copied into a store", src);
        else if (!(ends_with(name, ".sst") && link(src, dst) == 0))
            rc = copy_file(src, dst, err);
    }
    closedir(d);
    return rc ? rc : sync_path(to, true, err);
}

/* A write lock on dir/LOCK, as RocksDB takes it (fcntl, whole file): fd
 * into *fd, or the reason it cannot be had. */
static gl_code lock_store(const char *dir, int *fd, gl_err *err)
{
    char path[PATH_MAX + 8];
    snprintf(path, sizeof path, "%s/LOCK", dir);
    *fd = open(path, O_RDWR | O_CLOEXEC);
    if (*fd < 0)
        return errno == ENOENT ? GL_OK /* not a store: gl_store_wal_check says so */
                               : gl_err_set(err, GL_EDB, "store '%s': cannot open its LOCK file: %s", dir,
                                            strerror(errno));
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(*fd, F_SETLK, &fl) != 0) {
        int e = errno;
        close(*fd);
        *fd = -1;
        return gl_err_set(err, GL_EDB, "store '%s' is in use by another process%s%s", dir,
                          e == EAGAIN || e == EACCES ? "" : ": ", e == EAGAIN || e == EACCES ? "" : strerror(e));
    }
    return GL_OK;
}

/* renameat2 is in glibc 2.28 and later; through syscall() it needs nothing
 * more than the kernel's 3.15. */
#include <sys/syscall.h>
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static int exchange(const char *a, const char *b)
{
    return (int)syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE);
}

static gl_code recover_in(const char *real, const char *work, gl_store_wal_report *out, gl_err *err)
{
    gl_code rc = rm_tree(work, err);
    if (rc)
        return rc;
    if ((rc = gl_store_wal_check(real, out, err)) || !out->damaged)
        return rc;
    gl_err ignored = {0};
    if ((rc = copy_tree(real, work, 0, err))) {
        rm_tree(work, &ignored);
        return gl_err_prefix(err, "store '%s': copying it to recover it: ", real);
    }
    gl_store_wal_report r2;
    if ((rc = gl_store_recover(work, &r2, err)) || !r2.damaged) {
        rm_tree(work, &ignored);
        return rc ? gl_err_prefix(err, "store '%s', recovered in a copy: ", real)
                  /* the copy must show the damage the store shows */
                  : gl_err_set(err, GL_EDB, "store '%s': its copy reads as sound: nothing changed", real);
    }
    snprintf(out->kept_log, sizeof out->kept_log, "%s", r2.kept_log);
    if (exchange(work, real) != 0)
        return gl_err_set(err, GL_EIO,
                          "store '%s': the recovered copy is in '%s', but the two cannot be exchanged in one "
                          "step (%s): the store is unchanged; move it away and the copy in its place",
                          real, work, strerror(errno));
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", real);
    char *slash = strrchr(parent, '/');
    if (slash)
        *(slash == parent ? slash + 1 : slash) = 0;
    if ((rc = sync_path(slash ? parent : ".", true, err)))
        return gl_err_prefix(err, "store '%s' recovered, but: ", real);
    /* The damaged store now; left behind, the next run removes it. */
    rm_tree(work, &ignored);
    return GL_OK;
}

gl_code gl_store_recover_swap(const char *dir, gl_store_wal_report *out, gl_err *err)
{
    if (!dir || !dir[0] || !out)
        return gl_err_set(err, GL_EINVAL, "no store directory given");
    memset(out, 0, sizeof *out);
    char real[PATH_MAX], work[PATH_MAX + 64];
    if (!realpath(dir, real))
        return gl_store_wal_check(dir, out, err); /* missing: its words */
    snprintf(work, sizeof work, "%s%s", real, GL_STORE_RECOVER_WORK_SUFFIX);
    int fd = -1;
    gl_code rc = lock_store(real, &fd, err);
    if (rc)
        return rc;
    rc = recover_in(real, work, out, err);
    if (fd >= 0)
        close(fd);
    return rc;
}
