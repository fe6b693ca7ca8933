/* platform.h - GPU marketplace definitions: which contracts to follow on
 * which chain, their event ABIs per block range, and what each event field
 * means (buyer, provider, amount, GPU model, ...).  The format is documented
 * in docs/PLATFORMS.md; this module loads and validates it, and applies a
 * role mapping to one decoded log.
 *
 * Ownership: a gl_platform is immutable after loading and owns everything it
 * points to; gl_platform_free releases it.  Built-in definitions are the
 * files of fixtures/platforms/, compiled into the library.
 */
#ifndef GPULEDGER_PLATFORM_H
#define GPULEDGER_PLATFORM_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gpuledger/abi.h"
#include "gpuledger/err.h"
#include "gpuledger/u256.h"

#define GL_PLATFORM_FORMAT "gpuledger-platform/1"
#define GL_BLOCK_OPEN UINT64_MAX /* to_block of an open-ended ABI range */

typedef enum gl_role {
    GL_ROLE_BUYER,
    GL_ROLE_BENEFICIARY,
    GL_ROLE_PROVIDER,
    GL_ROLE_PAYER,
    GL_ROLE_AMOUNT,
    GL_ROLE_TOKEN,
    GL_ROLE_LEASE_ID,
    GL_ROLE_GPU_MODEL,
    GL_ROLE_GPU_COUNT,
    GL_ROLE_HOURS,
    GL_ROLE_DURATION_SECONDS,
    GL_ROLE_DURATION_BLOCKS,
    GL_ROLE_DURATION, /* {"field", "unit"}: a duration in the unit the source names */
    GL_ROLE_COUNT
} gl_role;

typedef enum gl_event_kind {
    GL_EVENT_OFFER,
    GL_EVENT_LEASE,
    GL_EVENT_EXTENSION,
    GL_EVENT_SETTLEMENT,
    GL_EVENT_PAYMENT,
    GL_EVENT_DEPOSIT,
    GL_EVENT_WITHDRAWAL,
    GL_EVENT_TRANSFER,
    GL_EVENT_REGISTRATION,
    GL_EVENT_OTHER,
} gl_event_kind;

typedef enum gl_source_kind {
    GL_SRC_NONE,          /* role not mapped */
    GL_SRC_FIELD,         /* "name" */
    GL_SRC_FIELD_INDEX,   /* "name[k]" */
    GL_SRC_FIELD_SHR,     /* "name>>k", taken as an address */
    GL_SRC_TX_FROM,       /* "tx.from" */
    GL_SRC_TX_TO,         /* "tx.to" */
    GL_SRC_LOG_ADDRESS,   /* "log.address" */
    GL_SRC_NATIVE,        /* "native" (token role only) */
    GL_SRC_CONST_ADDRESS, /* "0x..." (token role only) */
    GL_SRC_PATTERN,       /* {"field", "pattern"} */
    GL_SRC_JOIN,          /* {"join", "on", "field"} */
} gl_source_kind;

/* The unit of a "duration" role's field. */
typedef enum gl_duration_unit {
    GL_UNIT_NONE,
    GL_UNIT_SECONDS,
    GL_UNIT_MINUTES,
    GL_UNIT_HOURS,
    GL_UNIT_BLOCKS, /* needs the definition's block_time_seconds */
} gl_duration_unit;

typedef struct gl_role_source {
    gl_source_kind kind;
    char *field;          /* FIELD, FIELD_INDEX, FIELD_SHR, PATTERN, JOIN (the joined event's field) */
    unsigned arg;         /* FIELD_INDEX: index; FIELD_SHR: shift */
    uint8_t address[20];  /* CONST_ADDRESS */
    regex_t re;           /* PATTERN (compiled) */
    char *join_event;     /* JOIN: the earlier event's name */
    char *join_key;       /* JOIN: field of the earlier event ... */
    char *join_on;        /* JOIN: ... that must equal this event's field */
    bool as_text;         /* FIELD from {"field", "as": "text"}: bytesN/bytes read as right-padded ASCII */
    gl_duration_unit unit; /* FIELD from {"field", "unit"} (the duration role) */
    gl_duration_unit per; /* FIELD from {"field", "per": "block", "scale_decimals"} (the amount role):
                             a rate per block, GL_UNIT_BLOCKS; GL_UNIT_NONE for a plain amount */
    unsigned scale_decimals; /* ... the rate's fixed-point decimals (Spheron: 18) */
} gl_role_source;

typedef struct gl_event_map {
    char *event;          /* event name, as declared in an ABI */
    gl_event_kind kind;
    uint64_t block_time_ms; /* the platform's block_time_seconds in ms (0 =
                               unknown): turns duration_blocks into time */
    gl_role_source roles[GL_ROLE_COUNT];
} gl_event_map;

typedef struct gl_abi_range {
    uint64_t from_block;
    uint64_t to_block;    /* inclusive; GL_BLOCK_OPEN when open */
    gl_abi_sig *events;
    size_t nevents;
} gl_abi_range;

typedef struct gl_contract_def {
    char *name;
    uint8_t address[20];
    uint64_t start_block;
    gl_abi_range *abis;
    size_t nabis;
} gl_contract_def;

typedef struct gl_factory_def {
    char *name;           /* name given to the created contracts */
    size_t factory;       /* index into contracts[] */
    char *event;          /* factory event announcing a new contract */
    char *address_field;  /* its field holding the new address */
    gl_abi_range *abis;
    size_t nabis;
} gl_factory_def;

typedef struct gl_platform {
    char *origin;         /* file path or "builtin:NAME", for messages */
    char *name;
    char *platform;
    char *description;
    uint64_t chain_id;
    uint64_t confirmations;
    uint64_t block_time_ms; /* block_time_seconds in milliseconds, 0 = not given */
    gl_contract_def *contracts;
    size_t ncontracts;
    gl_factory_def *factories;
    size_t nfactories;
    gl_event_map *events;
    size_t nevents;
    json_t *tokens;       /* as given, or NULL */
    uint8_t digest[32];   /* keccak of the compact, key-sorted JSON: identifies the definition */
    char *canonical;      /* that JSON text, NUL-terminated: exactly the bytes hashed into
                             digest (the store keeps it beside the hash, meta def/<name>) */
} gl_platform;

/* Load and validate.  On failure *out is NULL and the error names the origin,
 * the JSON path of the field and the problem. */
gl_code gl_platform_load_file(gl_platform **out, const char *path, gl_err *err);
gl_code gl_platform_load_json(gl_platform **out, const json_t *root, const char *origin, gl_err *err);
void gl_platform_free(gl_platform *p);

/* A built-in definition by name, or a file when `name_or_path` contains a
 * '/' or ends in ".json".  GL_EINVAL naming the known names when unknown. */
gl_code gl_platform_resolve(gl_platform **out, const char *name_or_path, gl_err *err);

/* The built-in definitions (compiled from fixtures/platforms/). */
typedef struct gl_platform_builtin {
    const char *file;     /* e.g. "livepeer-arbitrum.json" */
    const char *json;     /* file contents, NUL-terminated */
} gl_platform_builtin;
const gl_platform_builtin *gl_platform_builtins(size_t *count /* OUT */);

/* The ABI that applies to `address` at `block` with this topic0 (NULL when
 * the log is not one the definition follows).  `contract_name` (may be NULL)
 * receives the contract's name. Factory-made contracts are looked up through
 * `factory`: pass its index when the caller knows the address came from one,
 * or SIZE_MAX. */
const gl_abi_sig *gl_platform_find_event(const gl_platform *p, const uint8_t address[20], size_t factory,
                                         uint64_t block, const uint8_t topic0[32]);
const gl_event_map *gl_platform_event_map(const gl_platform *p, const char *event_name);

const char *gl_role_name(gl_role role);
const char *gl_event_kind_name(gl_event_kind kind);

/* Context of one log for the sources that are not event fields. */
typedef struct gl_log_context {
    const uint8_t *tx_from;     /* 20 bytes, or NULL when unknown */
    const uint8_t *tx_to;       /* 20 bytes, or NULL (creation / unknown) */
    const uint8_t *log_address; /* 20 bytes */
} gl_log_context;

/* The text a bytesN or bytes value holds (`hex`: "0x" + hex, as decoded):
 * the bytes before the first zero byte, when there is at least one, all of
 * them are printable ASCII (0x20..0x7e) and every byte after it is zero
 * (right-padded, as Solidity's bytes32("H100") is).  Writes a NUL-terminated
 * string into out (cap bytes); false when the value is not such a text or
 * does not fit.  Cannot fail otherwise. */
bool gl_platform_bytes_text(const char *hex, char *out, size_t cap);

/* Seconds per unit of a duration role: 1, 60, 3600, or the block time in
 * milliseconds / 1000 for blocks (0 when the definition has none).  The
 * result is in milliseconds so that fractional block times stay exact. */
uint64_t gl_platform_unit_ms(gl_duration_unit unit, uint64_t block_time_ms);

/* Apply `map` to one decoded log (`fields`: the object gl_abi_decode_log
 * returned).  *roles gets a new JSON object: role name -> value (addresses
 * as lowercase 0x-hex, integers as decimal strings, strings as given), and
 * for JOIN sources an entry {"join": EVENT, "key": FIELD, "value": V,
 * "field": F} that the caller resolves against stored events.  A source that
 * cannot be read for this log (missing field, pattern not matching) leaves
 * the role out and lists it under "unknown". Fails only on GL_ENOMEM. */
gl_code gl_platform_apply_roles(json_t **roles, const gl_event_map *map, const json_t *fields,
                                const gl_log_context *ctx, gl_err *err);

/* A rate amount's total (see docs/PLATFORMS.md, "rate amounts"):
 *   rate x blocks x 10^token_decimals / 10^scale_decimals, rounded down,
 * in the token's base units.  False when the result (or rate x blocks, or
 * that times 10^token_decimals) does not fit in 256 bits, or a count of
 * decimals exceeds 77; *out is then zero.  Cannot fail otherwise. */
bool gl_platform_rate_total(gl_u256 *out, const gl_u256 *rate, uint64_t blocks, unsigned scale_decimals,
                            unsigned token_decimals);

/* The decimals the definition's `tokens` gives for `token` ("native" or a
 * 0x address, any case); false when the token is not listed. */
bool gl_platform_token_decimals(const gl_platform *p, const char *token, unsigned *decimals);

/* Replace a rate amount in `roles` (the {"rate", "per", "scale_decimals"}
 * object gl_platform_apply_roles gives for an amount mapped with "per") by
 * its total, once joins are resolved: the blocks are the event's
 * duration_blocks role (or a "duration" in blocks) and the decimals those
 * of its token role in the definition's `tokens`.  When one of them is
 * unknown, or the total overflows, the amount is removed and *why (if not
 * NULL) names the reason; otherwise *why is NULL.  Roles without a rate
 * amount are left alone.  Fails only on GL_ENOMEM. */
gl_code gl_platform_resolve_rate(json_t *roles, const gl_platform *p, const gl_event_map *map, const char **why,
                                 gl_err *err);

#endif
