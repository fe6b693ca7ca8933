/* trie.h - Merkle-Patricia trie roots, as Ethereum commits to them.
 *
 * Only roots are computed: there is no node database, no proof and no
 * lookup.  A gl_trie collects key/value writes (an empty value deletes the
 * key, as in Ethereum) and gl_trie_root() hashes the final key/value set.
 * The result does not depend on the order of writes to different keys; for
 * one key the last write wins.
 *
 * Node encoding follows the yellow paper (appendix D): hex-prefix paths,
 * 17-item branches, and any node whose RLP is under 32 bytes embedded in its
 * parent instead of hashed.  The root is always hashed, so the empty trie's
 * root is keccak(rlp("")) = GL_TRIE_EMPTY_ROOT.
 *
 * A "secure" trie (the state and storage tries) keys every entry by
 * keccak256(key) instead of the key itself.
 *
 * Ordered tries (transactionsRoot, receiptsRoot, withdrawalsRoot) map
 * rlp(index) to the index-th value: gl_trie_ordered_root() builds one.
 *
 * Memory: the trie holds one copy of each write's key and value, compacted
 * (overwritten and deleted entries dropped) whenever dead entries outnumber
 * live ones, so usage stays within a small multiple of the live data plus
 * the RLP nodes on one root-to-leaf path while hashing.  Recursion depth
 * while hashing is at most 4 * GL_TRIE_KEY_MAX + 1 frames of a few dozen
 * bytes each.
 */
#ifndef GPULEDGER_TRIE_H
#define GPULEDGER_TRIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpuledger/bytes.h"
#include "gpuledger/err.h"

/* keccak(rlp("")): the root of a trie with no entries. */
#define GL_TRIE_EMPTY_ROOT_HEX "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421"
extern const uint8_t GL_TRIE_EMPTY_ROOT[32];

/* Longest key accepted (bytes).  Ethereum's tries use 32-byte hashed keys or
 * rlp(index) (at most 9 bytes); the cap bounds the hashing recursion. */
#ifndef GL_TRIE_KEY_MAX
#define GL_TRIE_KEY_MAX 256
#endif

typedef struct gl_trie gl_trie;

/* A new, empty trie; `secure` hashes every key with keccak-256 first.
 * Returns NULL (GL_ENOMEM in err) when out of memory. */
gl_trie *gl_trie_new(bool secure, gl_err *err);
/* Free the trie and everything it holds.  NULL is a no-op. */
void gl_trie_free(gl_trie *t);

/* Set key -> value (both copied); vlen == 0 deletes the key.  Fails with
 * GL_ERANGE for a key longer than GL_TRIE_KEY_MAX, GL_ENOMEM when out of
 * memory; the trie is unchanged on failure. */
gl_code gl_trie_put(gl_trie *t, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                    gl_err *err);

/* Number of keys with a non-empty value.  Cannot fail (compacts in place
 * when it can; on allocation failure it counts without compacting). */
size_t gl_trie_count(gl_trie *t);

/* The root hash of the current key/value set into root[32].  Fails only
 * with GL_ENOMEM (root is then zeroed); the trie is unchanged and still
 * usable either way. */
gl_code gl_trie_root(gl_trie *t, uint8_t root[32] /* OUT */, gl_err *err);

/* Root of the ordered trie {rlp(i) -> values[i].data} for i < n, as
 * transactionsRoot / receiptsRoot / withdrawalsRoot are built.  Values are
 * not copied.  An empty value (len 0) at any index is GL_EINVAL, since
 * Ethereum never stores one and the trie would silently drop it.
 * GL_ENOMEM when out of memory; root is zeroed on failure. */
gl_code gl_trie_ordered_root(uint8_t root[32] /* OUT */, const gl_buf *values, size_t n, gl_err *err);

#endif
