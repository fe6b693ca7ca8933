/* receipts_fetch.c - the receipts of whole blocks (receipts_fetch.h). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "gpuledger/receipts_fetch.h"

static void release(json_t **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        json_decref(v[i]);
        v[i] = NULL;
    }
}

/* One eth_getBlockReceipts per block.  *fatal: the failure returned was
 * the endpoint refusing the method for good. */
static gl_code by_block(gl_endpoints *e, size_t nb, const uint64_t *nums, json_t **out, bool *fatal, gl_err *err)
{
    *fatal = false;
    const char **m = calloc(nb ? nb : 1, sizeof *m);
    json_t **p = calloc(nb ? nb : 1, sizeof *p);
    gl_call_outcome *oc = calloc(nb ? nb : 1, sizeof *oc);
    gl_code rc = m && p && oc ? GL_OK : gl_err_set(err, GL_ENOMEM, "out of memory asking for receipts");
    for (size_t j = 0; j < nb && !rc; j++) {
        m[j] = "eth_getBlockReceipts";
        char q[24];
        snprintf(q, sizeof q, "0x%" PRIx64, nums[j]);
        if (!(p[j] = json_pack("[s]", q)))
            rc = gl_err_set(err, GL_ENOMEM, "out of memory asking for receipts");
    }
    if (!rc && !(rc = gl_endpoints_call_each(e, nb, m, p, out, oc, err)))
        /* the first fatal failure decides, else the first failure */
        for (size_t j = 0; j < nb && !*fatal; j++) {
            bool f = oc[j].code == GL_ERPC && oc[j].info.cls == GL_RPC_ERR_FATAL;
            if (!oc[j].code || (rc && !f))
                continue;
            rc = oc[j].code;
            *fatal = f;
            if (err)
                *err = oc[j].err;
        }
    if (rc)
        release(out, nb);
    for (size_t j = 0; j < nb && !rc; j++)
        if (!json_is_array(out[j])) {
            json_decref(out[j]);
            out[j] = NULL;
        }
    release(p, nb);
    free(m);
    free(p);
    free(oc);
    return rc;
}

/* One eth_getTransactionReceipt per transaction of every block. */
static gl_code by_tx(gl_endpoints *e, size_t nb, const json_t *const *txs, json_t **out, gl_err *err)
{
    size_t n = 0;
    for (size_t j = 0; j < nb; j++)
        n += json_array_size(txs[j]);
    const char **m = calloc(n ? n : 1, sizeof *m);
    json_t **p = calloc(n ? n : 1, sizeof *p), **r = calloc(n ? n : 1, sizeof *r);
    gl_code rc = m && p && r ? GL_OK : gl_err_set(err, GL_ENOMEM, "out of memory asking for receipts");
    for (size_t j = 0, k = 0; j < nb && !rc; j++)
        for (size_t i = 0; i < json_array_size(txs[j]) && !rc; i++, k++) {
            const json_t *tx = json_array_get(txs[j], i);
            json_t *h = json_is_object(tx) ? json_object_get(tx, "hash") : (json_t *)tx;
            m[k] = "eth_getTransactionReceipt";
            if (!(p[k] = json_pack("[O]", h ? h : json_null())))
                rc = gl_err_set(err, GL_ENOMEM, "out of memory asking for receipts");
        }
    if (!rc)
        rc = gl_endpoints_call_many(e, n, m, p, r, err);
    for (size_t j = 0, k = 0; j < nb && !rc; j++) {
        if (!(out[j] = json_array()))
            rc = gl_err_set(err, GL_ENOMEM, "out of memory for receipts");
        for (size_t i = 0; i < json_array_size(txs[j]) && !rc; i++, k++) {
            if (json_array_append_new(out[j], r[k] ? r[k] : json_null()))
                rc = gl_err_set(err, GL_ENOMEM, "out of memory for receipts");
            r[k] = NULL;
        }
    }
    if (rc)
        release(out, nb);
    release(p, n);
    release(r, n);
    free(m);
    free(p);
    free(r);
    return rc;
}

gl_code gl_receipts_fetch(gl_endpoints *e, size_t nb, const uint64_t *nums, const json_t *const *txs, bool *per_tx,
                          gl_err *switched, json_t **out, gl_err *err)
{
    for (size_t j = 0; j < nb; j++)
        out[j] = NULL;
    if (!*per_tx) {
        bool fatal;
        gl_err e2;
        gl_code rc = by_block(e, nb, nums, out, &fatal, &e2);
        if (!rc)
            return GL_OK;
        if (!fatal) {
            if (err)
                *err = e2;
            return rc;
        }
        *per_tx = true;
        if (switched)
            *switched = e2;
    }
    return by_tx(e, nb, txs, out, err);
}
