/* labels_import.h - address labels from public lists into the store.
 *
 * Reads attribution lists (our own CSV, GraphSense TagPack YAML, the US
 * Treasury OFAC SDN list as sdn.csv or sdn.xml) into gl_store_label records
 * and writes them into the store's `labels` family.  docs/LABELS.md gives
 * every format, the category and confidence mappings and their sources.
 *
 * Two layers, kept apart so that the parsers can be fuzzed without a store:
 *   - gl_labels_parse_*: bytes in memory -> a gl_labels_vec of validated
 *     labels (address checked, EIP-55 when mixed case; texts within the
 *     store's limits and valid UTF-8; category one of ours; confidence in
 *     thousandths).  No I/O, no store.
 *   - gl_labels_import: reads files, parses every one of them fully, and
 *     only when all are valid writes all their labels in ONE store batch.
 *     Any error leaves the store exactly as it was.
 *
 * Errors name the place: "FILE:LINE[:COL]: what" (LINE and COL 1-based),
 * with the column or field name when there is one.  Parsers never print
 * (libxml2 and libyaml messages are captured into the gl_err).
 *
 * Ownership: a gl_labels_vec owns its arrays (gl_labels_vec_release).
 * Nothing here keeps global state beyond libxml2's own one-time init.
 */
#ifndef GPULEDGER_LABELS_IMPORT_H
#define GPULEDGER_LABELS_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "gpuledger/err.h"
#include "gpuledger/store.h"

/* ------------------------------------------------------------ categories */

/* Our categories, in this order (docs/LABELS.md says what each means). */
typedef enum gl_labels_category {
    GL_LABELS_EXCHANGE = 0,
    GL_LABELS_BRIDGE,
    GL_LABELS_ROUTER,
    GL_LABELS_MIXER,
    GL_LABELS_DEX,
    GL_LABELS_CONTRACT,
    GL_LABELS_SANCTIONED,
    GL_LABELS_PROVIDER,
    GL_LABELS_PLATFORM,
    GL_LABELS_SCAM,
    GL_LABELS_OTHER,
} gl_labels_category;
#define GL_LABELS_NCAT 11

/* "exchange", ...; NULL when out of range. */
const char *gl_labels_category_name(gl_labels_category c);

/* One of our names, any case ("Exchange" -> GL_LABELS_EXCHANGE), n bytes
 * of s.  GL_EINVAL naming the value and the accepted set otherwise. */
gl_code gl_labels_category_parse(const char *s, size_t n, gl_labels_category *out /* OUT */,
                                 gl_err *err);

/* A TagPack concept (GraphSense taxonomy id) or one of our names, any
 * case, mapped to ours (docs/LABELS.md has the table).  GL_EINVAL for a
 * word that is in neither. */
gl_code gl_labels_category_from_tagpack(const char *s, size_t n,
                                        gl_labels_category *out /* OUT */, gl_err *err);

/* --------------------------------------------------------------- values */

/* n bytes of text as an address: "0x" and 40 hex digits, all lower case,
 * all upper case, or mixed case that is a valid EIP-55 checksum.  Fills
 * out (raw bytes) or fails with GL_EINVAL saying which rule broke. */
gl_code gl_labels_address_parse(const char *s, size_t n, uint8_t out[GL_STORE_ADDR_LEN],
                                gl_err *err);

/* A confidence written as a number 0..1 ("1", "0.9", ".25", "0.925"; more
 * than three decimals are rounded half up) -> thousandths.  GL_EINVAL for
 * anything else, GL_ERANGE above 1. */
gl_code gl_labels_confidence_parse(const char *s, size_t n, uint16_t *out /* OUT */,
                                   gl_err *err);

/* The thousandths of a TagPack confidence level name ("ownership" ->
 * 1000, "forensic" -> 500, ...: the level 0..100 of graphsense-tagpack-tool's
 * confidence.csv times ten).  GL_EINVAL for an unknown name. */
gl_code gl_labels_confidence_tagpack(const char *s, size_t n, uint16_t *out /* OUT */,
                                     gl_err *err);

/* CSV's default when the confidence column is empty: 500 ("not stated",
 * neither vouched for nor doubted). */
#define GL_LABELS_CONFIDENCE_DEFAULT 500
/* What an OFAC listing is worth: the authority itself says so. */
#define GL_LABELS_CONFIDENCE_OFAC 1000
/* Source of OFAC labels when --source is not given. */
#define GL_LABELS_OFAC_SOURCE "ofac-sdn"
/* Files larger than this are refused (the real sdn.xml is a few tens of MB). */
#define GL_LABELS_FILE_MAX ((size_t)1 << 30)

/* ---------------------------------------------------------------- formats */

typedef enum gl_labels_format {
    GL_LABELS_FMT_AUTO = 0,
    GL_LABELS_FMT_CSV,
    GL_LABELS_FMT_TAGPACK,
    GL_LABELS_FMT_OFAC_CSV,
    GL_LABELS_FMT_OFAC_XML,
} gl_labels_format;

/* "auto", "csv", "tagpack", "ofac-csv", "ofac-xml". */
const char *gl_labels_format_name(gl_labels_format f);
gl_code gl_labels_format_parse(const char *s, gl_labels_format *out /* OUT */, gl_err *err);

/* Guess a file's format from its first bytes (and its name's extension
 * when the bytes do not tell).  GL_LABELS_FMT_AUTO when it cannot tell. */
gl_labels_format gl_labels_detect(const char *name, const char *data, size_t len);

/* ------------------------------------------------------------ the vector */

/* Labels as parsed, with the 1-based line each came from (lines[i] for
 * labels[i]).  GL_LABELS_VEC_INIT or zeroed = empty. */
typedef struct gl_labels_vec {
    gl_store_label *labels;
    uint32_t *lines;
    size_t n, cap;
} gl_labels_vec;
#define GL_LABELS_VEC_INIT {NULL, NULL, 0, 0}

void gl_labels_vec_release(gl_labels_vec *v);

/* What one file gave. */
typedef struct gl_labels_summary {
    gl_labels_format format;            /* as parsed (never AUTO) */
    uint64_t by_category[GL_LABELS_NCAT]; /* labels kept, by category */
    uint64_t labels;                    /* their sum */
    uint64_t skipped_currency;          /* tags or ids of other currencies */
    uint64_t skipped_no_address;        /* TagPack tags without an address */
    uint64_t duplicates;                /* same address and source as an earlier label: dropped */
} gl_labels_summary;

typedef struct gl_labels_opts {
    const char *source; /* when not NULL: the source of every label, whatever
                           the file says (1..127 bytes of text) */
} gl_labels_opts;

/* The parsers.  `name` is the file name used in messages.  On success
 * labels are appended to `out` and `sum` (when not NULL) is overwritten
 * with what was kept and skipped; exact duplicates within the file are
 * dropped and counted.  On failure `out` is left as it was, and err says
 * "NAME:LINE[:COL]: ...".  Every malformed input is an error: bad
 * address or checksum, wrong column count, unterminated quote, text too
 * long or not UTF-8 or with control characters, unknown category or
 * confidence, invalid YAML or XML, an empty file.
 *
 * csv        header `address,label,category,source,confidence` (any order,
 *            each once), RFC 4180.  Two rows with one address and source
 *            but different values are an error naming both lines.
 * tagpack    a GraphSense TagPack: ETH tags kept (tag currency, or the
 *            header's when the tag has none); others counted as skipped.
 * ofac_csv   the SDN list's sdn.csv (12 columns, no header): the ETH (and
 *            0x USDT/USDC/ETC/ARB/BSC) addresses in Remarks.
 * ofac_xml   the SDN list's sdn.xml: idList ids of those types.
 * For the OFAC lists an address listed under two entries keeps the first
 * entry's label and counts the second as a duplicate. */
gl_code gl_labels_parse_csv(gl_labels_vec *out, gl_labels_summary *sum, const char *name,
                            const char *data, size_t len, const gl_labels_opts *o, gl_err *err);
gl_code gl_labels_parse_tagpack(gl_labels_vec *out, gl_labels_summary *sum, const char *name,
                                const char *data, size_t len, const gl_labels_opts *o,
                                gl_err *err);
gl_code gl_labels_parse_ofac_csv(gl_labels_vec *out, gl_labels_summary *sum, const char *name,
                                 const char *data, size_t len, const gl_labels_opts *o,
                                 gl_err *err);
gl_code gl_labels_parse_ofac_xml(gl_labels_vec *out, gl_labels_summary *sum, const char *name,
                                 const char *data, size_t len, const gl_labels_opts *o,
                                 gl_err *err);
/* One of the above by format; AUTO detects it (GL_EINVAL when it cannot). */
gl_code gl_labels_parse(gl_labels_vec *out, gl_labels_summary *sum, gl_labels_format fmt,
                        const char *name, const char *data, size_t len,
                        const gl_labels_opts *o, gl_err *err);

/* ------------------------------------------------------------- importing */

/* Read every file of `files` whole (GL_EIO naming it when it cannot be
 * read, GL_ERANGE above GL_LABELS_FILE_MAX), parse it with `fmt` (AUTO: per
 * file), and when every file parsed write all the labels in one batch:
 * each (address, source) replaces what the store held for it, so importing
 * a file again changes nothing.  The same (address, source) in two files
 * is kept once when the values agree, an error naming both places when
 * they do not (the OFAC formats: the first is kept).  sums (nfiles
 * entries, may be NULL) get each file's summary.  On any failure nothing
 * is written. */
gl_code gl_labels_import(gl_store *s, const char *const *files, size_t nfiles,
                         gl_labels_format fmt, const gl_labels_opts *o,
                         gl_labels_summary *sums /* OUT, nfiles */, gl_err *err);

#endif
