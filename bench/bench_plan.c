/* bench_plan.c - eth_getLogs requests needed behind a 10,000-log cap.
 *
 * The yardstick: 200k logs spread evenly over 4,000 blocks (50 per
 * block) behind a 10,000-log cap; the minimum is 20 requests, Ponder spends
 * 34-36.  A simulated endpoint answers each planned range with success or
 * with the real refusal text of one provider style, which goes through the
 * same classifier (rpc_errors.c) the indexer uses.  Prints requests and
 * refusals per style.  The end-to-end figure against anvil behind the fault
 * proxy comes from bench_index.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "gpuledger/range_plan.h"
#include "gpuledger/rpc_errors.h"

#define FIRST 19000000ull
#define BLOCKS 4000ull
#define PER_BLOCK 50ull
#define CAP 10000ull

enum style { INFURA, ALCHEMY, COUNT_ONLY, LIMIT_ONLY, SPAN_2000 };

static const char *style_name[] = {
    "infura (suggested range)", "alchemy (suggested range)", "count cap, no suggestion",
    "\"logs matched by query exceeds limit of 10000\"", "2,000-block span cap",
};

/* Refusal message for [lo,hi], or NULL when the endpoint answers. */
static int refuse(enum style s, uint64_t lo, uint64_t hi, char *msg, size_t cap, long *code)
{
    uint64_t n = (hi - lo + 1) * PER_BLOCK;
    uint64_t fit_hi = lo + CAP / PER_BLOCK - 1;
    switch (s) {
    case INFURA:
        *code = -32005;
        snprintf(msg, cap, "query returned more than 10000 results. Try with this block range [0x%" PRIx64
                 ", 0x%" PRIx64 "].", lo, fit_hi);
        return n > CAP;
    case ALCHEMY:
        *code = -32602;
        snprintf(msg, cap, "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block "
                 "range and no limit on the response size, or you can request any block range with a cap of 10K "
                 "logs in the response. Based on your parameters, this block range should work: [0x%" PRIx64
                 ", 0x%" PRIx64 "]", lo, fit_hi);
        return n > CAP;
    case COUNT_ONLY:
        *code = -32005;
        snprintf(msg, cap, "query returned more than 10000 results");
        return n > CAP;
    case LIMIT_ONLY:
        *code = -32000;
        snprintf(msg, cap, "logs matched by query exceeds limit of 10000");
        return n > CAP;
    case SPAN_2000:
        *code = -32600;
        snprintf(msg, cap, "exceed maximum block range: 2000");
        return hi - lo + 1 > 2000;
    }
    return 0;
}

int main(void)
{
    printf("eth_getLogs for %llu logs over %llu blocks behind a 10,000-log cap (minimum %llu requests)\n",
           (unsigned long long)(BLOCKS * PER_BLOCK), (unsigned long long)BLOCKS,
           (unsigned long long)(BLOCKS * PER_BLOCK / CAP));
    for (int s = INFURA; s <= SPAN_2000; s++) {
        gl_range_plan plan;
        gl_range_plan_config cfg;
        memset(&cfg, 0, sizeof cfg);
        gl_err err;
        if (gl_range_plan_init(&plan, FIRST, FIRST + BLOCKS - 1, &cfg, &err)) {
            fprintf(stderr, "bench_plan: %s\n", err.msg);
            return 1;
        }
        uint64_t lo, hi;
        while (gl_range_plan_next(&plan, &lo, &hi)) {
            char msg[512];
            long code;
            gl_code rc;
            if (refuse((enum style)s, lo, hi, msg, sizeof msg, &code)) {
                gl_rpc_errinfo info;
                gl_rpc_classify(200, code, true, msg, NULL, 0, &info);
                rc = gl_range_plan_on_too_large(&plan, lo, hi, &info, &err);
            } else {
                rc = gl_range_plan_on_success(&plan, lo, hi, (hi - lo + 1) * PER_BLOCK, &err);
            }
            if (rc) {
                fprintf(stderr, "bench_plan: %s\n", err.msg);
                return 1;
            }
        }
        gl_range_plan_stats st;
        gl_range_plan_stats_get(&plan, &st);
        printf("eth_getLogs requests, %s: %" PRIu64 " (%" PRIu64 " refused)\n", style_name[s], st.requests,
               st.refused);
    }
    return 0;
}
