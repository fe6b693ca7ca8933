/* fuzz_platform.c - libFuzzer target: platform definitions (platform.h),
 * which a user may take from anywhere (gpuledger index --platform FILE).
 *
 * The input is parsed by jansson, as gl_platform_load_file does, and loaded
 * with gl_platform_load_json.  Oracle (canonical form is a fixed point): a
 * definition that loads has a canonical JSON text whose keccak-256 is its
 * digest; that text loads again to a definition with the same canonical
 * text and digest, the same contracts, factories and event maps.  Its
 * event lookups run on every ABI range it declares.  Any mismatch traps. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gpuledger/keccak.h"
#include "gpuledger/platform.h"

#include "fuzz.h"

static void lookups(const gl_platform *p)
{
    for (size_t c = 0; c < p->ncontracts; c++) {
        const gl_contract_def *cd = &p->contracts[c];
        for (size_t a = 0; a < cd->nabis; a++)
            for (size_t e = 0; e < cd->abis[a].nevents; e++) {
                const gl_abi_sig *s = &cd->abis[a].events[e];
                if (s->anonymous)
                    continue;
                const gl_abi_sig *f =
                    gl_platform_find_event(p, cd->address, SIZE_MAX, cd->abis[a].from_block, s->hash);
                CHECK(f); /* some ABI of this contract has it at that block */
                (void)gl_platform_event_map(p, s->name);
            }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc = json_loadb((const char *)data, size, 0, NULL);
    if (!doc)
        return 0;
    gl_err err;
    gl_platform *p = NULL;
    if (gl_platform_load_json(&p, doc, "fuzz", &err) != GL_OK) {
        CHECK(!p);
        json_decref(doc);
        return 0;
    }
    CHECK(p && p->canonical);
    uint8_t h[32];
    gl_keccak256(p->canonical, strlen(p->canonical), h);
    CHECK(!memcmp(h, p->digest, 32));
    lookups(p);

    json_t *again = json_loads(p->canonical, 0, NULL);
    CHECK(again);
    gl_platform *q = NULL;
    CHECK(gl_platform_load_json(&q, again, "fuzz-canonical", &err) == GL_OK);
    CHECK(!strcmp(p->canonical, q->canonical) && !memcmp(p->digest, q->digest, 32));
    CHECK(p->ncontracts == q->ncontracts && p->nfactories == q->nfactories && p->nevents == q->nevents);
    CHECK(p->chain_id == q->chain_id && p->confirmations == q->confirmations &&
          p->block_time_ms == q->block_time_ms);
    gl_platform_free(q);
    json_decref(again);
    gl_platform_free(p);
    json_decref(doc);
    return 0;
}
