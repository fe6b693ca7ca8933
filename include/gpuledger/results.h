/* results.h - the analysis as JSON records, kept in the store.
 *
 * Records (docs/STORE.md, family `analysis`): one per entity, one per scored
 * wallet, the parameters and a stamp of what the analysis was computed from.
 * Evidence positions are resolved to tx hashes through the store.
 * Every json_t returned is a new reference the caller owns (NULL: out of
 * memory).
 */
#ifndef GPULEDGER_RESULTS_H
#define GPULEDGER_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gpuledger/analysis.h"
#include "gpuledger/err.h"
#include "gpuledger/graph.h"
#include "gpuledger/store.h"

/* Entities' members and links, grouped (CSR by entity id). */
typedef struct gl_results_groups {
    size_t *mem_off;  /* members of e: members[mem_off[e] .. mem_off[e+1]) */
    uint32_t *members;
    size_t *link_off; /* links touching e: links[link_off[e] .. link_off[e+1]) */
    size_t *links;    /* indices into a->links */
} gl_results_groups;

gl_code gl_results_group(const gl_analysis *a, gl_results_groups *out /* OUT */, gl_err *err);
void gl_results_groups_release(gl_results_groups *g);

/* An evidence position as JSON (chain_id, block, record, log_index or
 * tx_index, trace): the object entity records hold, parsed from the same
 * text writer, so the two cannot drift.  NULL when out of memory.  With a
 * store, also its tx_hash and, for a transfer, sender_verified and
 * imported_unverified; without (s NULL: how records are stored, so that
 * writing a million of them needs no reads), those are added when the
 * record is read back (gl_results_hydrate). */
json_t *gl_results_evidence_json(gl_store *s, const gl_graph *g, const gl_evidence *ev);
/* Resolve every evidence object inside j (see above) through the store. */
void gl_results_hydrate(gl_store *s, json_t *j);
/* A growing text (malloc'd p, NUL-terminated at len). */
typedef struct gl_textbuf {
    char *p;
    size_t len, cap;
} gl_textbuf;
void gl_textbuf_release(gl_textbuf *t);

/* Each link rule's parameters as compact JSON text (malloc'd; free each):
 * the same for every link of a run.  False when out of memory. */
bool gl_results_params_texts(const gl_analysis_params *P, char *out[GL_LINK_RULE_COUNT]);

/* Entity e's record as JSON text into t (replacing what t held): id, kind,
 * label and label_category when a member is labelled, size, addresses,
 * and its links (rule, strength, a, b, confidence, merged, parameters,
 * evidence_count, evidence positions without tx hashes: see
 * gl_results_evidence_json).  False when out of memory. */
bool gl_results_entity_text(gl_textbuf *t, const gl_graph *g, const gl_analysis *a, uint32_t e,
                            const uint32_t *members, size_t n_members, const size_t *links, size_t n_links,
                            char *const params[GL_LINK_RULE_COUNT]);
json_t *gl_results_score_json(gl_store *s, const gl_graph *g, const gl_analysis *a,
                              const gl_wallet_score *w);

/* What an analysis was computed from: the record counts the graph read,
 * every cursor (chain, name, block) and each platform's definition hash.
 * gl_results_write adds the store's sequence number as of the stamp's own
 * write, which gl_results_status compares with the store's latest. */
json_t *gl_results_stamp(gl_store *s, const gl_graph *g, gl_err *err);

/* Replace the store's analysis with this one (one batch). */
gl_code gl_results_write(gl_store *s, const gl_graph *g, const gl_analysis *a, gl_err *err);

/* The stored stamp (NULL with *found false when the store holds no
 * analysis), and whether the store changed since (stale). */
gl_code gl_results_status(gl_store *s, bool *found /* OUT */, bool *stale /* OUT */,
                          json_t **stamp /* OUT, may be NULL */, gl_err *err);

/* Read back: the entity id of an address (found false: not analysed), an
 * entity record, a wallet record (NULL: not scored). */
gl_code gl_results_entity_of(gl_store *s, const uint8_t addr[20], uint32_t *entity /* OUT */,
                             bool *found /* OUT */, gl_err *err);
gl_code gl_results_get_entity(gl_store *s, uint32_t entity, json_t **out /* OUT */, gl_err *err);
gl_code gl_results_get_wallet(gl_store *s, const uint8_t addr[20], json_t **out /* OUT */, gl_err *err);

/* The marks (GL_MARK_SELF_DEALING, GL_MARK_CIRCULAR) of the purchase event
 * at (chain, block, log index); found false when the analysis did not read
 * it (not a purchase, or indexed after the analysis). */
gl_code gl_results_purchase_marks(gl_store *s, uint64_t chain_id, uint64_t block, uint32_t log_index,
                                  uint8_t *marks /* OUT */, bool *found /* OUT */, gl_err *err);

/* Iterate stored records: which = 'e' entities, 'f' wallet scores.  The
 * callback returns non-zero to stop (that value is returned as GL_ECANCELED). */
typedef int (*gl_results_each_fn)(void *ctx, json_t *record);
gl_code gl_results_each(gl_store *s, char which, gl_results_each_fn fn, void *ctx, gl_err *err);

#endif
