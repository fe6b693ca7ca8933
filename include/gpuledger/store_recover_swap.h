/* store_recover_swap.h - `gpuledger db recover` without a window in which a
 * kill leaves the store damaged or silently short.
 *
 * gl_store_recover works in place: its point-in-time open replaces the
 * damaged log with a sound one before its batch records what was lost, so
 * a kill in between leaves a store that opens as healthy, lacks blocks and
 * says nothing (and `db recover` run again finds nothing to recover).
 * gl_store_recover_swap runs it on a copy beside the store and exchanges
 * the two directories in one rename (renameat2 RENAME_EXCHANGE): until the
 * exchange the store is untouched (still refused as damaged, so the next
 * `db recover` starts over), after it the store is the whole recovery.
 * docs/STORE.md, "A damaged write-ahead log".
 */
#ifndef GPULEDGER_STORE_RECOVER_SWAP_H
#define GPULEDGER_STORE_RECOVER_SWAP_H

#include "gpuledger/err.h"
#include "gpuledger/store.h"

/* The working directory's name is the store's (symbolic links resolved)
 * with this appended, in the same parent directory.  Whatever a killed
 * run left under that name is removed when the next one starts: before
 * the exchange it is a partial copy, after it the damaged store, whose log
 * the recovered one keeps in damaged-wal-<time>/. */
#define GL_STORE_RECOVER_WORK_SUFFIX ".gpuledger-recover-tmp"

/* gl_store_recover's contract (out, return codes), with the store in `dir`
 * changed in one atomic step or not at all.  The store's LOCK is held the
 * whole time, so a writer cannot slip in between the copy and the exchange
 * ("in use by another process").  Table files are hard-linked into the copy
 * (RocksDB never changes one), the rest copied and synced. */
gl_code gl_store_recover_swap(const char *dir, gl_store_wal_report *out /* OUT */, gl_err *err);

#endif
