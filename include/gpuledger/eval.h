/* eval.h - the stored analysis scored against a simulator's truth.
 *
 * Reads the truth file (docs/TRUTH.md) and the store's analysis records and
 * measures: proxy flags' precision, recall and F1, overall and per typology
 * (recall by the truth's typology, precision by the analyzer's guess), how
 * often the named beneficiary is the true one; entities' pairwise precision,
 * recall and F1 over the addresses both know; and every entity that merges
 * addresses of different kinds of truth entity (an exchange or a provider
 * in a buyer's entity), listed; purchase marks; volume per platform, day
 * and token, its net against the truth's net and against the net as far as
 * the chain shows (docs/VOLUME.md, eval), and GPU-hours by model.
 */
#ifndef GPULEDGER_EVAL_H
#define GPULEDGER_EVAL_H

#include <jansson.h>

#include "gpuledger/err.h"
#include "gpuledger/store.h"

/* The figures as a JSON object (*out, caller owns).  min_score: flags are the
 * stored flagged wallets with a score at least this (0: the stored flag).
 * GL_EINVAL naming the file and path for a truth file that is not one;
 * GL_EDB when the store holds no analysis. */
gl_code gl_eval_run(gl_store *s, const char *truth_path, double min_score, json_t **out, gl_err *err);

#endif
