/* test_cli_store.c - the store-facing commands as a user runs them:
 * `gpuledger export`, `gpuledger db stats`, `gpuledger platforms`.
 *
 * A store is filled through the store API with records written by hand
 * (two chains, a platform name with a comma and a quote, a GPU model with a
 * comma and quotes, a 256-bit amount, blocks, a tx, cursors, a label, a
 * finding); the CLI exports it; python3's csv and json modules (an
 * independent parser) read the files, check that the CSV and the JSON Lines
 * say the same thing, and hand the rows back as JSON, which is compared
 * with the values written.  db stats is checked against the record counts
 * put (docs/STORE.md says which meta keys exist); platforms against the
 * definition files in fixtures/platforms/ read here with jansson.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <rocksdb/c.h>

#include "gpuledger/bytes.h"
#include "gpuledger/store.h"

#include "../support/storefiles.h"
#include "../support/testutil.h"

#define U256_MAX_DEC "115792089237316195423570985008687907853269984665640564039457584007913129639935"
#define TWO_POW_200 "1606938044258990275541962092341162602522202993782792835301376"
#define PLAT_A "gpumarket-local"
#define PLAT_B "golem,\"x\"" /* a legal store name: printable ASCII, no space */
#define MODEL "NVIDIA H100 80GB, \"SXM5\""

/* ------------------------------------------------------------- helpers */

typedef struct env {
    char root[4096];
    char bin[4200];
    char tmp[512];
    char db[600];
    char empty_db[600];
    bool filled;
} env;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return strdup("");
    gl_buf b = GL_BUF_INIT;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        assert_int_equal(gl_buf_append(&b, buf, n, NULL), GL_OK);
    fclose(f);
    gl_buf_push(&b, 0, NULL);
    char *s = (char *)b.data;
    return s ? s : strdup("");
}

static void spit(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    fclose(f);
}

/* Run a shell command line with stdout and stderr captured; returns the
 * exit status.  *out and *errs (may be NULL) are heap strings. */
static int run(env *e, char **out, char **errs, const char *fmt, ...)
{
    char cmd[8192], o[700], er[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    snprintf(o, sizeof o, "%s/stdout", e->tmp);
    snprintf(er, sizeof er, "%s/stderr", e->tmp);
    char full[8192 + 2 * 700 + 16];
    snprintf(full, sizeof full, "%s >'%s' 2>'%s'", cmd, o, er);
    int st = system(full);
    assert_true(st != -1 && WIFEXITED(st));
    if (out)
        *out = slurp(o);
    if (errs)
        *errs = slurp(er);
    return WEXITSTATUS(st);
}

static void hexfill(uint8_t *p, uint8_t b, size_t n) { memset(p, b, n); }

static const char *hex(uint8_t b, size_t n)
{
    static char bufs[16][70];
    static int k;
    char *s = bufs[k++ % 16];
    uint8_t tmp[32];
    memset(tmp, b, n);
    return gl_hex_encode(tmp, n, true, s);
}

/* ------------------------------------------------------------ the store */

static void put_ok(gl_code rc, gl_err *err)
{
    if (rc)
        fail_msg("store: %s", err->msg);
}

static void fill_store(const char *dir)
{
    gl_err err;
    gl_store_open_opts oo = {.create = true, .created_by = "test_cli_store"};
    gl_store *s = gl_store_open(dir, &oo, &err);
    if (!s)
        fail_msg("open: %s", err.msg);
    gl_store_batch *b = gl_store_batch_new(s, &err);
    assert_non_null(b);

    gl_store_event ev;
    memset(&ev, 0, sizeof ev);
    ev.chain_id = 31337;
    ev.block = 10;
    ev.log_index = 0;
    strcpy(ev.platform, PLAT_A);
    strcpy(ev.name, "LeaseOpened");
    hexfill(ev.contract, 0x5f, 20);
    hexfill(ev.tx_hash, 0x01, 32);
    ev.tx_index = 0;
    ev.has_tx_from = true;
    hexfill(ev.tx_from, 0xa0, 20);
    ev.n_roles = 2;
    ev.roles[0] = (gl_store_role_addr){GL_STORE_ROLE_BUYER, {0}};
    hexfill(ev.roles[0].addr, 0xa0, 20);
    ev.roles[1] = (gl_store_role_addr){GL_STORE_ROLE_PROVIDER, {0}};
    hexfill(ev.roles[1].addr, 0xbf, 20);
    ev.has_amount = true;
    ev.amount = (gl_u256){{UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX}};
    ev.has_token = true;
    hexfill(ev.token, 0x70, 20);
    ev.n_ids = 1;
    strcpy(ev.ids[0].name, "leaseId");
    ev.ids[0].value[31] = 1;
    strcpy(ev.gpu_model, MODEL);
    ev.gpu_count = 8;
    ev.duration_s = 7200;
    ev.gpu_mhours = 16000;
    ev.verified = GL_STORE_EVENT_SENDER_OK;
    put_ok(gl_store_batch_put_event(b, &ev, &err), &err);

    memset(&ev, 0, sizeof ev);
    ev.chain_id = 31337;
    ev.block = 12;
    ev.log_index = 5;
    strcpy(ev.platform, PLAT_A);
    strcpy(ev.name, "LeaseExtended");
    hexfill(ev.contract, 0x5f, 20);
    hexfill(ev.tx_hash, 0x02, 32);
    ev.tx_index = 1;
    ev.n_roles = 1;
    ev.roles[0] = (gl_store_role_addr){GL_STORE_ROLE_PAYER, {0}};
    hexfill(ev.roles[0].addr, 0xc1, 20);
    ev.has_amount = true; /* native coin */
    ev.amount = gl_u256_from_u64(12345);
    ev.verified = GL_STORE_EVENT_SENDER_OK | GL_STORE_EVENT_PROVEN;
    put_ok(gl_store_batch_put_event(b, &ev, &err), &err);

    memset(&ev, 0, sizeof ev);
    ev.chain_id = 137;
    ev.block = 500;
    ev.log_index = 2;
    strcpy(ev.platform, PLAT_B);
    strcpy(ev.name, "Transfer");
    hexfill(ev.contract, 0x0b, 20);
    hexfill(ev.tx_hash, 0x03, 32);
    ev.tx_index = 4;
    ev.n_roles = 2;
    ev.roles[0] = (gl_store_role_addr){GL_STORE_ROLE_BUYER, {0}};
    hexfill(ev.roles[0].addr, 0xb0, 20);
    ev.roles[1] = (gl_store_role_addr){GL_STORE_ROLE_PROVIDER, {0}};
    hexfill(ev.roles[1].addr, 0xc0, 20);
    ev.has_amount = true;
    ev.amount = gl_u256_from_u64(1000000000000000000ULL);
    ev.has_token = true;
    hexfill(ev.token, 0x0b, 20);
    ev.verified = GL_STORE_EVENT_DISPUTED;
    put_ok(gl_store_batch_put_event(b, &ev, &err), &err);

    gl_store_block blk = {.chain_id = 31337, .number = 10, .timestamp = 1700000000, .verified = GL_STORE_BLOCK_HASH_OK};
    hexfill(blk.hash, 0x0a, 32);
    hexfill(blk.parent_hash, 0x09, 32);
    put_ok(gl_store_batch_put_block(b, &blk, &err), &err);
    blk = (gl_store_block){.chain_id = 137, .number = 500, .timestamp = 1700003600,
                           .verified = GL_STORE_BLOCK_HASH_OK | GL_STORE_BLOCK_PARENT_OK | GL_STORE_BLOCK_SENDERS_OK};
    hexfill(blk.hash, 0x50, 32);
    hexfill(blk.parent_hash, 0x49, 32);
    put_ok(gl_store_batch_put_block(b, &blk, &err), &err);

    gl_store_tx tx = {.chain_id = 31337, .block = 10, .index = 0, .has_to = true, .flags = GL_STORE_TX_SENDER_OK};
    hexfill(tx.hash, 0x01, 32);
    hexfill(tx.from, 0xa0, 20);
    hexfill(tx.to, 0x5f, 20);
    put_ok(gl_store_batch_put_tx(b, &tx, &err), &err);

    gl_store_transfer t;
    memset(&t, 0, sizeof t);
    t.pos = (gl_store_pos){31337, 10, GL_STORE_POS_LOG, 1, 0};
    t.asset = GL_STORE_ASSET_ERC20;
    hexfill(t.token, 0x70, 20);
    hexfill(t.from, 0xa0, 20);
    hexfill(t.to, 0x5f, 20);
    t.amount = (gl_u256){{0, 0, 0, (uint64_t)1 << 8}}; /* 2^200 */
    hexfill(t.tx_hash, 0x01, 32);
    put_ok(gl_store_batch_put_transfer(b, &t, &err), &err);
    memset(&t, 0, sizeof t);
    t.pos = (gl_store_pos){31337, 11, GL_STORE_POS_TX, 0, 0};
    t.asset = GL_STORE_ASSET_NATIVE;
    hexfill(t.from, 0xa0, 20);
    hexfill(t.to, 0xb0, 20);
    t.amount = gl_u256_from_u64(1000000000000000000ULL);
    hexfill(t.tx_hash, 0x04, 32);
    put_ok(gl_store_batch_put_transfer(b, &t, &err), &err);
    memset(&t, 0, sizeof t);
    t.pos = (gl_store_pos){137, 500, GL_STORE_POS_TRACE, 3, 2};
    t.asset = GL_STORE_ASSET_NATIVE;
    hexfill(t.from, 0xc0, 20);
    hexfill(t.to, 0xb0, 20);
    t.amount = gl_u256_from_u64(7);
    hexfill(t.tx_hash, 0x05, 32);
    t.flags = GL_STORE_TX_FAILED;
    put_ok(gl_store_batch_put_transfer(b, &t, &err), &err);

    /* The store derived the appearances of the records above (counted in
     * test_db_stats). */
    assert_int_equal(gl_store_batch_appearances(b), 17);

    gl_store_label l = {.confidence = 900};
    hexfill(l.addr, 0xee, 20);
    strcpy(l.source, "test.csv");
    strcpy(l.label, "Exchange 1");
    strcpy(l.category, "exchange");
    put_ok(gl_store_batch_put_label(b, &l, &err), &err);
    json_t *finding = json_pack("{s:s}", "kind", "test");
    put_ok(gl_store_batch_put_finding(b, 31337, 10, finding, NULL, &err), &err);
    json_decref(finding);
    uint8_t h[32];
    hexfill(h, 0x0c, 32);
    put_ok(gl_store_batch_set_cursor(b, 31337, PLAT_A, 12, h, &err), &err);
    hexfill(h, 0x50, 32);
    put_ok(gl_store_batch_set_cursor(b, 137, PLAT_B, 500, h, &err), &err);
    put_ok(gl_store_batch_commit(b, &err), &err);
    gl_store_batch_free(b);
    gl_store_close(s);
}

static void ensure_filled(env *e)
{
    if (!e->filled)
        fill_store(e->db);
    e->filled = true;
}

static int group_setup(void **state)
{
    static env e;
    if (!gl_test_root(e.root, sizeof e.root)) {
        fprintf(stderr, "cannot find the repository root\n");
        return -1;
    }
    const char *bin = getenv("GPULEDGER_BIN");
    if (bin && *bin)
        snprintf(e.bin, sizeof e.bin, "%s", bin);
    else
        snprintf(e.bin, sizeof e.bin, "%s/build/release/gpuledger", e.root);
    if (access(e.bin, X_OK) != 0) {
        fprintf(stderr, "no gpuledger binary at %s (set GPULEDGER_BIN)\n", e.bin);
        return -1;
    }
    const char *base = getenv("TMPDIR");
    snprintf(e.tmp, sizeof e.tmp, "%s/gl_cli_XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(e.tmp))
        return -1;
    snprintf(e.db, sizeof e.db, "%s/db", e.tmp);
    snprintf(e.empty_db, sizeof e.empty_db, "%s/empty", e.tmp);
    *state = &e;
    return 0;
}

static int group_teardown(void **state)
{
    env *e = *state;
    if (e)
        nftw(e->tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* --------------------------------------------------- the python oracle */

static const char *const columns =
    "record,chain_id,block,block_hash,timestamp,time,tx_hash,tx_index,log_index,position,sub,platform,event,"
    "contract,tx_from,buyer,beneficiary,provider,payer,funder,spender,owner,other_roles,from,to,asset,token,"
    "amount,token_id,lease_id,ids,gpu_model,gpu_count,duration_s,hours,gpu_hours,failed,sender_verified,"
    "sender_mismatch,proven,disputed,block_checks,verification,imported";

static const char *columns_crlf(void)
{
    static char buf[2048];
    snprintf(buf, sizeof buf, "%s\r\n", columns);
    return buf;
}

/* Reads CSV (argv[1]) and JSON Lines (argv[2]) with the standard library,
 * checks the header (argv[3]), RFC 4180 line ends, that both files hold the
 * same records with the same values (JSON typed: integers for counts,
 * booleans, numbers, null for unknown), and prints the CSV rows as a JSON
 * list of objects. */
static const char *const oracle_py =
    "import csv, json, sys, decimal\n"
    "cols = sys.argv[3].split(',')\n"
    "raw = open(sys.argv[1], 'rb').read().decode('utf-8')\n"
    "assert raw.endswith('\\r\\n'), 'CSV must end with CRLF'\n"
    "rows = list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8'), strict=True))\n"
    "assert rows[0] == cols, 'header %r' % rows[0]\n"
    "body = rows[1:]\n"
    "quoted_lf = sum(f.count('\\n') for r in body for f in r)\n"
    "assert raw.count('\\n') == raw.count('\\r\\n') + quoted_lf, 'bare LF outside quotes'\n"
    "lines = open(sys.argv[2], encoding='utf-8').read().split('\\n')\n"
    "assert lines[-1] == '', 'JSONL must end with a newline'\n"
    "objs = [json.loads(l, parse_float=decimal.Decimal) for l in lines[:-1]]\n"
    "assert len(objs) == len(body), 'csv %d rows, jsonl %d' % (len(body), len(objs))\n"
    "ints = {'chain_id','block','timestamp','tx_index','log_index','sub','gpu_count','duration_s'}\n"
    "nums = {'hours','gpu_hours'}\n"
    "bools = {'failed','sender_verified','sender_mismatch','proven','disputed','imported'}\n"
    "out = []\n"
    "for r, o in zip(body, objs):\n"
    "    assert list(o.keys()) == cols, 'keys %r' % list(o.keys())\n"
    "    for c, v in zip(cols, r):\n"
    "        j = o[c]\n"
    "        if j is None: assert v == '', (c, v)\n"
    "        elif c in bools: assert isinstance(j, bool) and v == ('true' if j else 'false'), (c, j, v)\n"
    "        elif c in ints: assert type(j) is int and v == str(j), (c, j, v)\n"
    "        elif c in nums: assert isinstance(j, (int, decimal.Decimal)) and v == str(j), (c, j, v)\n"
    "        else: assert isinstance(j, str) and v == j, (c, j, v)\n"
    "    out.append(dict(zip(cols, r)))\n"
    "print(json.dumps(out))\n";

/* Export `kind` both ways (extra CLI args in `args`) and return the rows
 * the oracle read. */
static json_t *export_both(env *e, const char *kind, const char *args)
{
    char csv[700], jsonl[700], py[700];
    snprintf(csv, sizeof csv, "%s/out.csv", e->tmp);
    snprintf(jsonl, sizeof jsonl, "%s/out.jsonl", e->tmp);
    snprintf(py, sizeof py, "%s/oracle.py", e->tmp);
    spit(py, oracle_py);
    char *errs = NULL;
    int st = run(e, NULL, &errs, "'%s' export %s --db '%s' --format csv --out '%s' %s", e->bin, kind, e->db, csv,
                 args);
    if (st)
        fail_msg("export csv: exit %d: %s", st, errs);
    free(errs);
    char *text = NULL; /* JSON Lines through stdout */
    st = run(e, &text, &errs, "'%s' export %s --db '%s' --format jsonl %s", e->bin, kind, e->db, args);
    if (st)
        fail_msg("export jsonl: exit %d: %s", st, errs);
    spit(jsonl, text);
    free(text);
    free(errs);
    char *out = NULL;
    st = run(e, &out, &errs, "python3 '%s' '%s' '%s' '%s'", py, csv, jsonl, columns);
    if (st)
        fail_msg("python3 oracle: exit %d: %s", st, errs);
    free(errs);
    json_error_t je;
    json_t *rows = json_loads(out, 0, &je);
    if (!json_is_array(rows))
        fail_msg("oracle output: %s", je.text);
    free(out);
    return rows;
}

static void expect(const json_t *row, const char *col, const char *want)
{
    const char *got = json_string_value(json_object_get(row, col));
    if (!got)
        fail_msg("no column %s", col);
    if (strcmp(got, want))
        fail_msg("%s: got '%s', want '%s'", col, got, want);
}

/* ---------------------------------------------------------------- tests */

static void test_export_events(void **state)
{
    env *e = *state;
    ensure_filled(e);
    json_t *rows = export_both(e, "events", "");
    assert_int_equal(json_array_size(rows), 3);
    /* chains in ascending order: 137 first */
    const json_t *r = json_array_get(rows, 0);
    expect(r, "record", "event");
    expect(r, "chain_id", "137");
    expect(r, "block", "500");
    expect(r, "block_hash", hex(0x50, 32));
    expect(r, "timestamp", "1700003600");
    expect(r, "time", "2023-11-14T23:13:20Z");
    expect(r, "tx_hash", hex(0x03, 32));
    expect(r, "tx_index", "4");
    expect(r, "log_index", "2");
    expect(r, "platform", PLAT_B);
    expect(r, "buyer", hex(0xb0, 20));
    expect(r, "provider", hex(0xc0, 20));
    expect(r, "amount", "1000000000000000000");
    expect(r, "token", hex(0x0b, 20));
    expect(r, "block_checks", "hash;parent;senders");
    expect(r, "disputed", "true");
    expect(r, "verification", "disputed");
    expect(r, "imported", "false");
    r = json_array_get(rows, 1);
    expect(r, "chain_id", "31337");
    expect(r, "block", "10");
    expect(r, "block_hash", hex(0x0a, 32));
    expect(r, "time", "2023-11-14T22:13:20Z");
    expect(r, "platform", PLAT_A);
    expect(r, "event", "LeaseOpened");
    expect(r, "contract", hex(0x5f, 20));
    expect(r, "tx_from", hex(0xa0, 20));
    expect(r, "buyer", hex(0xa0, 20));
    expect(r, "provider", hex(0xbf, 20));
    expect(r, "payer", "");
    expect(r, "amount", U256_MAX_DEC);
    expect(r, "token", hex(0x70, 20));
    expect(r, "lease_id", "1");
    expect(r, "ids", "leaseId=1");
    expect(r, "gpu_model", MODEL);
    expect(r, "gpu_count", "8");
    expect(r, "duration_s", "7200");
    expect(r, "hours", "2");
    expect(r, "gpu_hours", "16");
    expect(r, "sender_verified", "true");
    expect(r, "sender_mismatch", "false");
    expect(r, "block_checks", "hash");
    expect(r, "verification", "sender_verified");
    expect(r, "imported", "false");
    r = json_array_get(rows, 2);
    expect(r, "block", "12");
    expect(r, "block_hash", "");
    expect(r, "timestamp", "");
    expect(r, "event", "LeaseExtended");
    expect(r, "payer", hex(0xc1, 20));
    expect(r, "buyer", "");
    expect(r, "amount", "12345");
    expect(r, "asset", "native");
    expect(r, "token", "");
    expect(r, "gpu_count", "");
    expect(r, "proven", "true");
    expect(r, "verification", "proven");
    expect(r, "imported", "false");
    json_decref(rows);

    /* every address and hash is lowercase hex */
    char *out = NULL;
    assert_int_equal(run(e, &out, NULL, "'%s' export events --db '%s' --format csv", e->bin, e->db), 0);
    for (const char *p = strstr(out, "0x"); p; p = strstr(p + 2, "0x"))
        for (const char *q = p + 2; (*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z');
             q++)
            if (*q >= 'A' && *q <= 'Z')
                fail_msg("uppercase in hex: %.50s", p);
    free(out);
}

static void test_export_transfers(void **state)
{
    env *e = *state;
    ensure_filled(e);
    json_t *rows = export_both(e, "transfers", "");
    assert_int_equal(json_array_size(rows), 3);
    const json_t *r = json_array_get(rows, 0);
    expect(r, "record", "transfer");
    expect(r, "chain_id", "137");
    expect(r, "position", "trace");
    expect(r, "tx_index", "3");
    expect(r, "sub", "2");
    expect(r, "log_index", "");
    expect(r, "from", hex(0xc0, 20));
    expect(r, "to", hex(0xb0, 20));
    expect(r, "asset", "native");
    expect(r, "token", "");
    expect(r, "amount", "7");
    expect(r, "failed", "true");
    expect(r, "time", "2023-11-14T23:13:20Z");
    r = json_array_get(rows, 1);
    expect(r, "chain_id", "31337");
    expect(r, "block", "10");
    expect(r, "position", "log");
    expect(r, "log_index", "1");
    expect(r, "tx_index", "0"); /* from the stored tx, found by hash */
    expect(r, "tx_from", hex(0xa0, 20));
    expect(r, "asset", "erc20");
    expect(r, "token", hex(0x70, 20));
    expect(r, "amount", TWO_POW_200);
    expect(r, "sender_verified", "true");
    expect(r, "verification", "sender_verified");
    expect(r, "imported", "false");
    r = json_array_get(rows, 2);
    expect(r, "block", "11");
    expect(r, "position", "tx");
    expect(r, "tx_index", "0");
    expect(r, "block_hash", "");
    expect(r, "amount", "1000000000000000000");
    expect(r, "verification", "unverified");
    expect(r, "imported", "false");
    json_decref(rows);
}

static void test_export_filters(void **state)
{
    env *e = *state;
    ensure_filled(e);
    json_t *rows = export_both(e, "events", "--platform " PLAT_A);
    assert_int_equal(json_array_size(rows), 2);
    json_decref(rows);
    rows = export_both(e, "events", "--platform '" PLAT_B "'");
    assert_int_equal(json_array_size(rows), 1);
    expect(json_array_get(rows, 0), "chain_id", "137");
    json_decref(rows);
    rows = export_both(e, "events", "--from 11 --to 12");
    assert_int_equal(json_array_size(rows), 1);
    expect(json_array_get(rows, 0), "block", "12");
    json_decref(rows);
    rows = export_both(e, "transfers", "--chain 31337 --to 10");
    assert_int_equal(json_array_size(rows), 1);
    expect(json_array_get(rows, 0), "block", "10");
    json_decref(rows);
    rows = export_both(e, "transfers", "--platform " PLAT_A);
    assert_int_equal(json_array_size(rows), 2);
    json_decref(rows);
    /* empty result: the CSV still has its header */
    rows = export_both(e, "events", "--from 600");
    assert_int_equal(json_array_size(rows), 0);
    json_decref(rows);
    char *errs = NULL;
    assert_int_equal(run(e, NULL, &errs, "'%s' export events --db '%s' --platform nosuch", e->bin, e->db), 2);
    assert_non_null(strstr(errs, "'nosuch'"));
    free(errs);
    assert_int_equal(run(e, NULL, &errs, "'%s' export events --db '%s' --from 9 --to 8", e->bin, e->db), 2);
    free(errs);
    assert_int_equal(run(e, NULL, &errs, "'%s' export blocks --db '%s'", e->bin, e->db), 2);
    free(errs);
    assert_int_equal(run(e, NULL, &errs, "'%s' export events --db '%s' --format xml", e->bin, e->db), 2);
    assert_non_null(strstr(errs, "xml"));
    free(errs);
}

/* docs/EXPORT.md's column table and the CLI's CSV header agree. */
static void test_docs_match_header(void **state)
{
    env *e = *state;
    ensure_filled(e);
    char path[4300];
    snprintf(path, sizeof path, "%s/docs/EXPORT.md", e->root);
    char *doc = slurp(path);
    gl_buf cols = GL_BUF_INIT;
    size_t want_no = 1;
    for (char *line = strtok(doc, "\n"); line; line = strtok(NULL, "\n")) {
        unsigned no;
        char name[64];
        if (sscanf(line, "| %u | `%63[a-z_]` |", &no, name) != 2)
            continue;
        assert_int_equal(no, want_no++);
        if (cols.len)
            gl_buf_push(&cols, ',', NULL);
        gl_buf_append(&cols, name, strlen(name), NULL);
    }
    gl_buf_append(&cols, "\r\n", 3, NULL);
    free(doc);
    assert_true(want_no > 40);
    char *out = NULL;
    assert_int_equal(run(e, &out, NULL, "'%s' export events --db '%s' --format csv --chain 1", e->bin, e->db), 0);
    assert_string_equal(out, (const char *)cols.data);
    assert_string_equal(out, columns_crlf());
    free(out);
    gl_buf_release(&cols);
}

static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static void test_export_out_is_atomic(void **state)
{
    env *e = *state;
    ensure_filled(e);
    char dir[700], file[800];
    snprintf(dir, sizeof dir, "%s/outdir", e->tmp);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(file, sizeof file, "%s/x.csv", dir);
    spit(file, "old content\n");
    char *errs = NULL;
    assert_int_equal(run(e, NULL, &errs, "'%s' export events --db '%s' --format csv --out '%s'", e->bin, e->db, file),
                     0);
    free(errs);
    char *got = slurp(file);
    assert_null(strstr(got, "old content"));
    assert_true(strncmp(got, "record,chain_id,", 16) == 0);
    free(got);
    assert_int_equal(count_entries(dir), 1); /* no temporary file left */
    /* a store that cannot be read: the old file stays as it was */
    spit(file, "old content\n");
    assert_int_equal(run(e, NULL, &errs, "'%s' export events --db '%s/nosuch' --out '%s'", e->bin, e->tmp, file), 2);
    free(errs);
    got = slurp(file);
    assert_string_equal(got, "old content\n");
    free(got);
    assert_int_equal(count_entries(dir), 1);
    /* a directory that does not exist */
    assert_int_equal(run(e, NULL, &errs, "'%s' export events --db '%s' --out '%s/no/dir/x.csv'", e->bin, e->db, e->tmp),
                     2);
    assert_non_null(strstr(errs, "no/dir"));
    free(errs);
}

static json_t *stats_json(env *e, const char *db)
{
    char *out = NULL, *errs = NULL;
    int st = run(e, &out, &errs, "'%s' db stats --db '%s' --json", e->bin, db);
    if (st)
        fail_msg("db stats: exit %d: %s", st, errs);
    json_error_t je;
    json_t *o = json_loads(out, 0, &je);
    if (!o)
        fail_msg("db stats --json: %s: %s", je.text, out);
    free(out);
    free(errs);
    return o;
}

static json_int_t family(const json_t *o, const char *name, const char *field)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(o, "families"), i, f)
        if (!strcmp(json_string_value(json_object_get(f, "family")), name))
            return json_integer_value(json_object_get(f, field));
    fail_msg("no family %s", name);
    return -1;
}

static void test_db_stats(void **state)
{
    env *e = *state;
    ensure_filled(e);
    /* an empty store */
    gl_err err;
    gl_store_open_opts oo = {.create = true};
    gl_store *s = gl_store_open(e->empty_db, &oo, &err);
    assert_non_null(s);
    gl_store_close(s);
    json_t *o = stats_json(e, e->empty_db);
    assert_int_equal(json_integer_value(json_object_get(o, "schema_version")), 3);
    static const char *const fams[] = {"meta", "blocks", "txs", "txhash", "events", "transfers",
                                       "appearances", "cursors", "findings", "labels", "analysis"};
    for (size_t i = 0; i < sizeof fams / sizeof fams[0]; i++)
        assert_int_equal(family(o, fams[i], "records"), i == 0 ? 3 : 0); /* magic, schema_version, created_by */
    /* schema 3: exactly these families (appear_pos is gone) */
    assert_int_equal(json_array_size(json_object_get(o, "families")), sizeof fams / sizeof fams[0]);
    assert_int_equal(json_array_size(json_object_get(o, "cursors")), 0);
    assert_int_equal(json_array_size(json_object_get(o, "bindings")), 0);
    assert_int_equal(json_integer_value(json_object_get(o, "findings")), 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "imported_unverified"), "txs")), 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "imported_unverified"), "transfers")), 0);
    json_decref(o);

    /* the filled one: what fill_store put */
    o = stats_json(e, e->db);
    assert_string_equal(json_string_value(json_object_get(o, "created_by")), "test_cli_store");
    assert_int_equal(family(o, "meta", "records"), 5); /* + chain/<name> for both platforms */
    assert_int_equal(family(o, "blocks", "records"), 2);
    assert_int_equal(family(o, "txs", "records"), 1);
    assert_int_equal(family(o, "txhash", "records"), 1);
    assert_int_equal(family(o, "events", "records"), 3);
    assert_int_equal(family(o, "transfers", "records"), 3);
    /* derived by the store, by hand: events 3 + 2 + 3 (contract and roles),
     * the tx 2 (from, to), the ERC-20 transfer 3 (from, to, token), the two
     * native ones 2 each */
    assert_int_equal(family(o, "appearances", "records"), 17);
    assert_int_equal(family(o, "cursors", "records"), 2);
    assert_int_equal(family(o, "findings", "records"), 1);
    assert_int_equal(family(o, "labels", "records"), 1);
    assert_int_equal(json_integer_value(json_object_get(o, "findings")), 1);
    json_t *curs = json_object_get(o, "cursors");
    assert_int_equal(json_array_size(curs), 2);
    json_t *c = json_array_get(curs, 0); /* chain 137 first: keys are chain | name */
    assert_int_equal(json_integer_value(json_object_get(c, "chain_id")), 137);
    assert_string_equal(json_string_value(json_object_get(c, "platform")), PLAT_B);
    assert_int_equal(json_integer_value(json_object_get(c, "block")), 500);
    assert_string_equal(json_string_value(json_object_get(c, "hash")), hex(0x50, 32));
    c = json_array_get(curs, 1);
    assert_int_equal(json_integer_value(json_object_get(c, "chain_id")), 31337);
    assert_int_equal(json_integer_value(json_object_get(c, "block")), 12);
    assert_string_equal(json_string_value(json_object_get(c, "hash")), hex(0x0c, 32));
    json_t *binds = json_object_get(o, "bindings");
    assert_int_equal(json_array_size(binds), 2);
    bool seen_a = false, seen_b = false;
    size_t i;
    json_t *bv;
    json_array_foreach(binds, i, bv)
    {
        const char *p = json_string_value(json_object_get(bv, "platform"));
        json_int_t ch = json_integer_value(json_object_get(bv, "chain_id"));
        if (!strcmp(p, PLAT_A) && ch == 31337)
            seen_a = true;
        if (!strcmp(p, PLAT_B) && ch == 137)
            seen_b = true;
    }
    assert_true(seen_a && seen_b);
    json_t *chains = json_object_get(o, "chains");
    assert_int_equal(json_array_size(chains), 2);
    json_decref(o);

    char *out = NULL, *errs = NULL;
    assert_int_equal(run(e, &out, &errs, "'%s' db stats --db '%s'", e->bin, e->db), 0);
    assert_non_null(strstr(out, "cursors (2)"));
    assert_non_null(strstr(out, PLAT_B));
    assert_non_null(strstr(out, "findings        1"));
    free(out);
    free(errs);
}

/* A store whose meta says schema 4, written with plain RocksDB. */
static void make_newer(const char *dir)
{
    gl_err err;
    gl_store_open_opts oo = {.create = true};
    gl_store *s = gl_store_open(dir, &oo, &err);
    assert_non_null(s);
    gl_store_close(s);
    gl_test_raw r;
    gl_test_raw_open(&r, dir, false);
    char *e = NULL;
    rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create();
    rocksdb_put_cf(r.db, wo, gl_test_raw_cf(&r, "meta"), "schema_version", 14, "\0\0\0\x04", 4, &e);
    assert_null(e);
    rocksdb_writeoptions_destroy(wo);
    gl_test_raw_close(&r);
}

static void test_store_errors(void **state)
{
    env *e = *state;
    ensure_filled(e);
    char foreign[700], newer[700];
    snprintf(foreign, sizeof foreign, "%s/foreign", e->tmp);
    assert_int_equal(mkdir(foreign, 0755), 0);
    char f[800];
    snprintf(f, sizeof f, "%s/notes.txt", foreign);
    spit(f, "not a database\n");
    snprintf(newer, sizeof newer, "%s/newer", e->tmp);
    make_newer(newer);
    static const char *const cmds[] = {"db stats", "db check", "export events", "export transfers"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char *out = NULL, *errs = NULL;
        assert_int_equal(run(e, &out, &errs, "'%s' %s", e->bin, cmds[i]), 2);
        assert_non_null(strstr(errs, "--db DIR is required"));
        assert_string_equal(out, "");
        free(out);
        free(errs);
        assert_int_equal(run(e, &out, &errs, "'%s' %s --db '%s/missing'", e->bin, cmds[i], e->tmp), 2);
        assert_non_null(strstr(errs, "missing"));
        assert_string_equal(out, "");
        free(out);
        free(errs);
        assert_int_equal(run(e, &out, &errs, "'%s' %s --db '%s'", e->bin, cmds[i], foreign), 2);
        assert_non_null(strstr(errs, "not a gpuledger store"));
        assert_string_equal(out, "");
        free(out);
        free(errs);
        assert_int_equal(run(e, &out, &errs, "'%s' %s --db '%s'", e->bin, cmds[i], newer), 2);
        assert_non_null(strstr(errs, "newer"));
        assert_string_equal(out, "");
        free(out);
        free(errs);
    }
    /* the foreign directory was not touched */
    assert_int_equal(count_entries(foreign), 1);
    char *errs = NULL;
    assert_int_equal(run(e, NULL, &errs, "'%s' db frobnicate --db '%s'", e->bin, e->db), 2);
    free(errs);
}

/* ------------------------------------------------------------ platforms */

static void test_platforms(void **state)
{
    env *e = *state;
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/fixtures/platforms", e->root);
    DIR *d = opendir(dir);
    assert_non_null(d);
    json_t *want = json_object(); /* name -> chain id, from the files */
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n < 6 || strcmp(de->d_name + n - 5, ".json"))
            continue;
        char path[4500];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        json_t *doc = json_load_file(path, 0, NULL);
        assert_non_null(doc);
        json_object_set(want, json_string_value(json_object_get(doc, "name")), json_object_get(doc, "chain_id"));
        json_decref(doc);
    }
    closedir(d);
    assert_true(json_object_size(want) > 0);

    char *out = NULL, *errs = NULL;
    int st = run(e, &out, &errs, "'%s' platforms --json", e->bin);
    if (st)
        fail_msg("platforms --json: exit %d: %s", st, errs);
    json_t *list = json_loads(out, 0, NULL);
    assert_true(json_is_array(list));
    assert_int_equal(json_array_size(list), json_object_size(want));
    size_t i;
    json_t *p;
    json_array_foreach(list, i, p)
    {
        const char *name = json_string_value(json_object_get(p, "name"));
        json_t *chain = json_object_get(want, name);
        if (!chain)
            fail_msg("platform %s is not in fixtures/platforms", name ? name : "(null)");
        assert_int_equal(json_integer_value(json_object_get(p, "chain_id")), json_integer_value(chain));
        assert_true(json_array_size(json_object_get(p, "contracts")) > 0);
        json_t *c0 = json_array_get(json_object_get(p, "contracts"), 0);
        const char *addr = json_string_value(json_object_get(c0, "address"));
        assert_non_null(addr);
        assert_int_equal(strlen(addr), 42);
        assert_true(json_is_integer(json_object_get(c0, "start_block")));
        assert_true(json_object_size(json_object_get(p, "events")) > 0);
    }
    json_decref(list);
    free(out);
    free(errs);

    assert_int_equal(run(e, &out, &errs, "'%s' platforms", e->bin), 0);
    const char *name;
    json_t *v;
    json_object_foreach(want, name, v)
    {
        if (!strstr(out, name))
            fail_msg("text listing lacks %s", name);
        char *o2 = NULL, *e2 = NULL;
        int st2 = run(e, &o2, &e2, "'%s' platforms show '%s'", e->bin, name);
        if (st2)
            fail_msg("platforms show %s: exit %d: %s", name, st2, e2);
        assert_non_null(strstr(o2, "valid"));
        free(o2);
        free(e2);
    }
    free(out);
    free(errs);
    json_decref(want);

    /* the livepeer definition from DESIGN.md: its address and start block */
    assert_int_equal(run(e, &out, &errs, "'%s' platforms show livepeer-arbitrum --json", e->bin), 0);
    json_t *lp = json_loads(out, 0, NULL);
    assert_non_null(lp);
    json_t *c0 = json_array_get(json_object_get(lp, "contracts"), 0);
    assert_string_equal(json_string_value(json_object_get(c0, "address")),
                        "0xa8bb618b1520e284046f3dfc448851a1ff26e41b");
    assert_int_equal(json_integer_value(json_object_get(c0, "start_block")), 5856357);
    assert_true(json_is_object(json_object_get(lp, "definition")));
    json_decref(lp);
    free(out);
    free(errs);

    /* a broken file: the error names the field */
    char bad[700];
    snprintf(bad, sizeof bad, "%s/bad.json", e->tmp);
    spit(bad, "{\"format\": \"gpuledger-platform/1\", \"name\": \"bad\", \"platform\": \"x\", \"chain_id\": 1,"
              " \"contracts\": [{\"name\": \"C\", \"address\": \"0x12\", \"start_block\": 0,"
              " \"abis\": [{\"from_block\": 0, \"to_block\": null, \"events\": [\"event E(uint256 a)\"]}]}],"
              " \"events\": {\"E\": {\"kind\": \"other\"}}}");
    assert_int_equal(run(e, &out, &errs, "'%s' platforms show '%s'", e->bin, bad), 2);
    assert_non_null(strstr(errs, "bad.json: contracts[0]"));
    assert_non_null(strstr(errs, "address \"0x12\""));
    assert_string_equal(out, "");
    free(out);
    free(errs);
    assert_int_equal(run(e, &out, &errs, "'%s' platforms show nosuch", e->bin), 2);
    assert_non_null(strstr(errs, "nosuch"));
    free(out);
    free(errs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_export_events),
        cmocka_unit_test(test_export_transfers),
        cmocka_unit_test(test_export_filters),
        cmocka_unit_test(test_export_out_is_atomic),
        cmocka_unit_test(test_docs_match_header),
        cmocka_unit_test(test_db_stats),
        cmocka_unit_test(test_store_errors),
        cmocka_unit_test(test_platforms),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
