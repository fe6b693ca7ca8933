/* json_scan.h - a fast first reading of JSON answers, with yajl behind it.
 *
 * An eth_getLogs answer is megabytes of one plain shape: objects, arrays,
 * strings without escapes (hex), integers, true/false/null.  yajl reads it
 * at ~0.8 GB/s here and was ~14% of indexing's CPU; this scanner reads that
 * shape several times faster and hands the same events to the same
 * yajl_callbacks (numbers as text: the callbacks' yajl_number, which must
 * be set).  It is strict JSON, and it gives up on whatever it does not
 * take (an escape, a control character or a non-ASCII byte in a string, a
 * number that is not a plain integer, nesting past 64, anything malformed)
 * without judging it: the caller then undoes what the callbacks were told
 * and reads the text with yajl, whose verdict and messages stand.  So this
 * decides nothing yajl would not have decided the same way, and no error
 * message comes from here.
 */
#ifndef GPULEDGER_JSON_SCAN_H
#define GPULEDGER_JSON_SCAN_H

#include <stddef.h>

#include <yajl/yajl_parse.h>

typedef enum gl_json_scan_result {
    GL_JSON_SCAN_OK,        /* one complete value, every event delivered */
    GL_JSON_SCAN_CANCELED,  /* a callback returned 0 (as yajl_status_client_canceled) */
    GL_JSON_SCAN_GIVE_UP,   /* not taken: undo, then read it with yajl */
} gl_json_scan_result;

/* Read the n bytes at p as one JSON value, calling cb with ctx. */
gl_json_scan_result gl_json_scan(const unsigned char *p, size_t n, const yajl_callbacks *cb, void *ctx);

#endif
