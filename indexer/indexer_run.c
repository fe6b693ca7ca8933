/* indexer_run.c - run and follow: the range loop of a pass (plan, the
 * next range's logs prefetched on a thread), head targets, gl_indexer_run
 * and gl_indexer_follow (passes at the head, waiting out outages).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpuledger/abi.h"
#include "gpuledger/block.h"
#include "gpuledger/indexer.h"
#include "gpuledger/log_reader.h"
#include "gpuledger/range_plan.h"
#include "gpuledger/secp.h"
#include "gpuledger/trie.h"
#include "gpuledger/tx.h"
#include "gpuledger/tx_check.h"
#include "indexer_int.h"

/* ---------------------------------------------------------- run and follow */

static uint64_t next_block(const gl_indexer *ix)
{
    if (ix->has_cursor)
        return ix->cur.block + 1;
    return ix->o.has_from ? ix->o.from : ix->start_block;
}

/* ------------------------------------------------------------ prefetch */

/* The next range's eth_getLogs, run on a thread with its own endpoint pool
 * and its own copy of the addresses and topics, so that nothing it reads
 * changes under it. */
typedef struct ix_prefetch {
    pthread_t thread;
    bool running;
    uint64_t lo, hi;
    size_t naddrs_at_start;    /* the indexer's address count when it started */
    ix_addr *addrs;            /* copies */
    uint8_t (*topics)[32];
    ix_fetch f;
    gl_logs logs;
    gl_call_info info;
    gl_code rc;
    gl_err err;
    ix_ahead ahead;            /* the range's first blocks, fetched after its logs */
} ix_prefetch;

static void *prefetch_main(void *arg)
{
    ix_prefetch *p = arg;
    memset(&p->info, 0, sizeof p->info);
    p->rc = ix_get_logs(&p->f, p->lo, p->hi, &p->logs, &p->info, &p->err);
    if (p->rc == GL_OK)
        ix_ahead_fetch(&p->ahead, &p->logs);
    return NULL;
}

/* Start fetching [lo, hi]; false when it could not start (then the range
 * is fetched the ordinary way). */
static bool prefetch_start(gl_indexer *ix, ix_prefetch *p, gl_endpoints *e, uint64_t lo, uint64_t hi)
{
    if (!e || p->running)
        return false;
    ix_addr *a = realloc(p->addrs, (ix->naddrs ? ix->naddrs : 1) * sizeof *a);
    if (a)
        p->addrs = a;
    uint8_t(*t)[32] = realloc(p->topics, (ix->ntopics ? ix->ntopics : 1) * sizeof *t);
    if (t)
        p->topics = t;
    if (!a || !t)
        return false;
    memcpy(p->addrs, ix->addrs, ix->naddrs * sizeof *a);
    memcpy(p->topics, ix->topics, ix->ntopics * sizeof *t);
    p->f = (ix_fetch){e,           p->addrs,           ix->naddrs,          (const uint8_t(*)[32])p->topics,
                      ix->ntopics, ix_per_request(ix), ix_answer_bytes(ix), 0,
                      0};
    p->lo = lo;
    p->hi = hi;
    p->naddrs_at_start = ix->naddrs;
    gl_logs_clear(&p->logs);
    gl_err_clear(&p->err);
    ix_ahead_prepare(ix, &p->ahead, e, lo);
    if (pthread_create(&p->thread, NULL, prefetch_main, p)) {
        ix_ahead_drop(&p->ahead);
        return false;
    }
    p->running = true;
    return true;
}

/* Wait for the prefetch.  It answers for the range from lo (true, its
 * outcome in p, *hi set to where its range ends) only when that is where
 * its range starts and no address was added since it started; otherwise
 * its work is dropped. */
static bool prefetch_take(gl_indexer *ix, ix_prefetch *p, uint64_t lo, uint64_t *hi)
{
    if (!p->running)
        return false;
    pthread_join(p->thread, NULL);
    p->running = false;
    ix_fetch_settle(ix, &p->f, p->lo, p->hi);
    if (p->lo == lo && p->naddrs_at_start == ix->naddrs) {
        *hi = p->hi;
        return true;
    }
    gl_logs_clear(&p->logs);
    ix_ahead_drop(&p->ahead);
    return false;
}

static void prefetch_release(gl_indexer *ix, ix_prefetch *p)
{
    uint64_t hi;
    prefetch_take(ix, p, UINT64_MAX, &hi);
    gl_logs_free(&p->logs);
    ix_ahead_drop(&p->ahead);
    free(p->addrs);
    free(p->topics);
}

/* The range after [lo, hi] as the plan would give it if [lo, hi] held as
 * many logs per block as the last range (n logs over `blocks`): a copy of
 * the plan is told so.  Only while the endpoint has refused nothing (a
 * capped endpoint's plan sizes each request from the one before, and a
 * guess there could cost a refusal), and not after the first range alone:
 * it is small on purpose and its blocks may be unlike the rest (a deploy
 * block, a quiet start), so a guess from it alone overshoots. */
static bool plan_guess(const gl_range_plan *plan, uint64_t lo, uint64_t hi, uint64_t n, uint64_t blocks,
                       uint64_t *glo, uint64_t *ghi)
{
    gl_range_plan_stats st;
    gl_range_plan_stats_get(plan, &st);
    if (st.refused || st.succeeded < 2 || !blocks)
        return false;
    gl_range_plan guess = *plan; /* a plan owns no memory */
    uint64_t est = (uint64_t)((double)n / (double)blocks * (double)(hi - lo + 1));
    return gl_range_plan_on_success(&guess, lo, hi, est, NULL) == GL_OK && gl_range_plan_next(&guess, glo, ghi);
}

/* Plan [from, to] and process it range by range.  With opts.prefetch the
 * next range's logs are fetched while the current one is processed, and,
 * while the endpoint refuses nothing, the one after that as well (its
 * range guessed, see plan_guess): the node then always has a request to
 * answer, instead of waiting while the fetching thread reads an answer. */
static gl_code run_range(gl_indexer *ix, uint64_t from, uint64_t to, gl_err *err)
{
    gl_range_plan plan;
    gl_range_plan_config cfg;
    ix_plan_config(ix, &cfg);
    gl_code rc = gl_range_plan_init(&plan, from, to, &cfg, err);
    gl_logs logs = {NULL, 0, 0};
    ix_prefetch pf[2];
    memset(pf, 0, sizeof pf);
    ix_fetch f = ix_fetch_of(ix, NULL, 0);
    uint64_t lo, hi;
    while (!rc && gl_range_plan_next(&plan, &lo, &hi)) {
        gl_call_info info;
        memset(&info, 0, sizeof info);
        gl_logs_clear(&logs);
        ix_prefetch *got = NULL;
        ix_ahead *ahead = NULL, taken;
        for (int i = 0; i < 2 && !got; i++)
            if (pf[i].running && pf[i].lo == lo && prefetch_take(ix, &pf[i], lo, &hi))
                got = &pf[i];
        if (got) {
            gl_logs tmp = logs;
            logs = got->logs;
            got->logs = tmp;
            info = got->info;
            /* moved out, as the logs are: the slot may start the next
             * prefetch before this range is processed */
            taken = got->ahead;
            memset(&got->ahead, 0, sizeof got->ahead);
            ahead = &taken;
            if ((rc = got->rc) && err)
                *err = got->err;
        } else {
            /* The first range is small (it measures the density), and the
             * plan sizes the next from its answer: meanwhile the node may
             * as well answer for as many blocks after it, which the plan
             * then takes as its second range (fetching less than it
             * offers); a guess may follow from then on (plan_guess). */
            gl_range_plan_stats pst;
            gl_range_plan_stats_get(&plan, &pst);
            if (!pst.requests && hi < to)
                prefetch_start(ix, &pf[0], ix->pf_logs[0], hi + 1, hi + 1 + (hi - lo) < to ? hi + 1 + (hi - lo) : to);
            f = ix_fetch_of(ix, NULL, 0); /* the address list may have moved */
            rc = ix_get_logs(&f, lo, hi, &logs, &info, err);
            ix_fetch_settle(ix, &f, lo, hi);
        }
        if (rc == GL_ERPC && info.cls == GL_RPC_ERR_RANGE_TOO_LARGE && lo == hi) {
            /* one block: no plan can cut it (logs_refused_block) */
            f = ix_fetch_of(ix, NULL, 0);
            gl_logs_clear(&logs);
            rc = logs_refused_block(ix, &f, lo, &logs, err);
            ix_fetch_settle(ix, &f, lo, hi);
        }
        if (rc == GL_ERPC && info.cls == GL_RPC_ERR_RANGE_TOO_LARGE && lo != hi) {
            for (int i = 0; i < 2; i++) { /* what ran ahead starts at the wrong block now */
                uint64_t unused;
                prefetch_take(ix, &pf[i], UINT64_MAX, &unused);
            }
            ix->st.log_splits++;
            ixlog(ix, 0, "eth_getLogs [%" PRIu64 ", %" PRIu64 "] too large (%s): split", lo, hi,
                  info.err.rule ? info.err.rule : "no reason given");
            rc = gl_range_plan_on_too_large(&plan, lo, hi, &info.err, err);
            continue;
        }
        if (rc || (rc = gl_range_plan_on_success(&plan, lo, hi, logs.n, err)))
            break;
        uint64_t nlo, nhi;
        bool more = gl_range_plan_next(&plan, &nlo, &nhi);
        /* the last range: the address-index keys so far go to a file meanwhile */
        if (!more && (rc = gl_store_write_gathered_begin(ix->s, err)))
            break;
        if (more) {
            ix_prefetch *next = pf[0].running && pf[0].lo == nlo ? &pf[0] : pf[1].running && pf[1].lo == nlo ? &pf[1] : NULL;
            for (int i = 0; i < 2 && !next; i++)
                if (!pf[i].running && prefetch_start(ix, &pf[i], ix->pf_logs[i], nlo, nhi))
                    next = &pf[i];
            uint64_t glo, ghi;
            ix_prefetch *free_slot = next == &pf[0] ? &pf[1] : &pf[0];
            if (next && !free_slot->running && plan_guess(&plan, next->lo, next->hi, logs.n, hi - lo + 1, &glo, &ghi))
                prefetch_start(ix, free_slot, ix->pf_logs[free_slot - pf], glo, ghi);
        }
        rc = ix_do_range(ix, lo, hi, &logs, ahead, err);
        if (ahead)
            ix_ahead_drop(ahead);
        if (rc || ix->signal != IX_NONE)
            break;
        if (ix->o.progress)
            ix->o.progress(ix->o.ctx, from, ix->cur.block, to, ix->st.events);
        else
            ixlog(ix, 0, "indexed to block %" PRIu64 " (%" PRIu64 " events so far)", ix->cur.block, ix->st.events);
        if (ix_want_stop(ix)) {
            ix->signal = IX_STOP;
            break;
        }
    }
    prefetch_release(ix, &pf[0]);
    prefetch_release(ix, &pf[1]);
    gl_logs_free(&logs);
    if (!rc && ix->signal == IX_NONE)
        rc = gl_range_plan_status(&plan, err);
    return rc;
}

/* Index up to `target`, handling reorgs on the way. */
static gl_code pass(gl_indexer *ix, uint64_t target, gl_err *err)
{
    unsigned strikes = 0;
    for (;;) {
        ix->signal = IX_NONE;
        bool rolled;
        gl_code rc = ix_reorg_check(ix, &rolled, err);
        if (rc)
            return rc;
        if (rolled)
            strikes = 0;
        uint64_t start = next_block(ix);
        if (start > target)
            return GL_OK;
        if (!ix->st.has_range) {
            ix->st.has_range = true;
            ix->st.first_block = start;
        }
        ix->parent_lenient = strikes >= GL_INDEXER_RETRIES;
        rc = run_range(ix, start, target, err);
        ix->parent_lenient = false;
        if (rc || ix->signal != IX_REORG)
            return rc;
        /* A parent link broke against a stored hash.  The reorg check above
         * looks for a fork first; if the cursor still stands, the range is
         * fetched again, and after RETRIES times the broken link is indexed
         * as a finding (an endpoint that keeps contradicting itself). */
        strikes++;
        ix->st.retries++;
    }
}

static gl_code head_target(gl_indexer *ix, uint64_t *head, bool *has_target, uint64_t *target, gl_err *err)
{
    json_t *res = NULL;
    gl_code rc = gl_endpoints_call(ix->e, "eth_blockNumber", NULL, &res, NULL, err);
    if (rc)
        return rc;
    bool ok = ix_get_qty(res, head);
    json_decref(res);
    if (!ok)
        return gl_err_set(err, GL_ERPC, "eth_blockNumber: the answer is not a quantity");
    *has_target = *head >= ix->conf;
    *target = *has_target ? *head - ix->conf : 0;
    return GL_OK;
}

gl_code gl_indexer_run(gl_indexer *ix, gl_err *err)
{
    uint64_t head, target;
    bool has;
    gl_code rc = head_target(ix, &head, &has, &target, err);
    if (rc)
        return rc == GL_ECANCELED && ix_want_stop(ix) ? GL_OK : rc;
    if (ix->o.has_to) {
        if (has && ix->o.to > target)
            ixlog(ix, 0, "block %" PRIu64 " is not %" PRIu64 " blocks deep yet: indexing to %" PRIu64, ix->o.to,
                  ix->conf, target);
        else {
            target = ix->o.to;
        }
    }
    if (!has)
        return GL_OK;
    rc = pass(ix, target, err);
    ix->st.cursor = ix->has_cursor ? ix->cur.block : 0;
    if (rc == GL_ECANCELED && ix_want_stop(ix))
        rc = GL_OK; /* interrupted while waiting for an endpoint: what is committed stays */
    return rc;
}

/* Follow outlives its endpoints' outages: a pass that failed because the
 * endpoints could not answer (no answer, rate limits or garbage past every
 * retry, a lagging node) is waited out and tried again, for as long as it
 * takes; what is committed stays committed.  Anything else (the store, a
 * bad definition, memory) ends it. */
static bool outage(gl_code rc) { return rc == GL_EIO || rc == GL_ERPC || rc == GL_ERANGE; }

gl_code gl_indexer_follow(gl_indexer *ix, gl_err *err)
{
    if (ix->o.has_to)
        return gl_err_set(err, GL_EINVAL, "follow does not stop at a block: drop --to");
    uint64_t poll = ix->o.poll_ms ? ix->o.poll_ms : GL_INDEXER_POLL_MS_DEFAULT;
    uint64_t wait = poll;
    for (;;) {
        if (ix_want_stop(ix))
            return GL_OK;
        uint64_t head, target;
        bool has;
        gl_err e2;
        gl_code rc = head_target(ix, &head, &has, &target, &e2);
        if (!rc && has)
            rc = pass(ix, target, &e2);
        ix->st.cursor = ix->has_cursor ? ix->cur.block : 0;
        if (rc == GL_ECANCELED && ix_want_stop(ix))
            return GL_OK;
        if (rc && !outage(rc)) {
            if (err)
                *err = e2;
            return rc;
        }
        if (rc) {
            ix->st.outages++;
            ixlog(ix, 1, "the endpoints failed (%s); trying again in %" PRIu64 " ms, at block %" PRIu64, e2.msg, wait,
                  ix->st.cursor);
            ix_nap(ix, wait);
            wait = wait * 2 < GL_INDEXER_OUTAGE_WAIT_MAX_MS ? wait * 2 : GL_INDEXER_OUTAGE_WAIT_MAX_MS;
            continue;
        }
        wait = poll;
        if (ix->signal == IX_STOP || ix_want_stop(ix))
            return GL_OK;
        if (ix->o.on_head && !ix->o.on_head(ix->o.ctx, ix->has_cursor ? ix->cur.block : 0, head))
            return GL_OK;
        ix_nap(ix, poll);
    }
}
