/* sim_truth.c - the ground truth of a finished run (docs/TRUTH.md) and the
 * platform definitions of the markets it deployed (docs/PLATFORMS.md).
 *
 * The truth is built from the simulator's model, which every transaction's
 * receipt has already been checked against: addresses with their entity,
 * kind, role and final balances; proxy wallets with beneficiary and
 * typology; every payment with its chain position; and per platform and
 * day the gross volume and the volume net of self-dealing and circular
 * flows.  Everything is ordered (payments by chain position) or keyed
 * (objects are dumped with sorted keys), so a seed gives the same bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gpuledger/platform.h"
#include "gpuledger/sim_world.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                              */

/* Civil date of a day count since 1970-01-01 (Howard Hinnant's
 * civil_from_days). */
static void civil(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

static void day_str(uint64_t t, char out[16])
{
    int y;
    unsigned m, d;
    civil((int64_t)(t / 86400), &y, &m, &d);
    snprintf(out, 16, "%04d-%02u-%02u", y, m, d);
}

static void time_str(uint64_t t, char out[32])
{
    int y;
    unsigned m, d;
    civil((int64_t)(t / 86400), &y, &m, &d);
    unsigned s = (unsigned)(t % 86400);
    snprintf(out, 32, "%04d-%02u-%02uT%02u:%02u:%02uZ", y, m, d, s / 3600, s / 60 % 60, s % 60);
}

static json_t *hexj(const uint8_t *b, size_t n)
{
    char buf[67];
    return json_string(gl_hex_encode(b, n, true, buf));
}

/* ------------------------------------------------------------------ */
/* Payments                                                             */

static int cmp_paid(const void *a, const void *b, void *ctx)
{
    const sim_world *w = ctx;
    const sim_purchase *x = &w->purch.v[*(const uint32_t *)a], *y = &w->purch.v[*(const uint32_t *)b];
    if (x->block != y->block)
        return x->block < y->block ? -1 : 1;
    if (x->log_index != y->log_index)
        return x->log_index < y->log_index ? -1 : 1;
    return 0;
}

static json_t *payment_json(sim_world *w, const sim_purchase *p, const uint32_t *pos_of)
{
    char day[16];
    day_str(p->time, day);
    uint32_t prov_ent = w->addrs.v[p->provider_wallet].entity;
    uint32_t payer_ent = w->addrs.v[p->payer].entity;
    sim_asset as = (sim_asset)p->asset;
    json_t *o = json_object();
    json_object_set_new(o, "platform", json_string(gl_sim_platform_name((gl_sim_platform)p->platform)));
    json_object_set_new(o, "kind", json_string(gl_sims_paykind_name((sim_paykind)p->kind)));
    json_object_set_new(o, "block", json_integer((json_int_t)p->block));
    json_object_set_new(o, "tx", hexj(p->tx, 32));
    json_object_set_new(o, "log_index", json_integer((json_int_t)p->log_index));
    json_object_set_new(o, "time", json_integer((json_int_t)p->time));
    json_object_set_new(o, "day", json_string(day));
    json_object_set_new(o, "payer", gl_simw_addr_json(w, p->payer));
    json_object_set_new(o, "payer_entity", json_string(w->ents.v[payer_ent].id));
    bool named = p->platform == GL_SIM_GPUMARKET || p->platform == GL_SIM_BAZAAR; /* a beneficiary on chain */
    uint32_t bw = named ? (p->beneficiary_wallet != SIM_NONE ? p->beneficiary_wallet : p->payer)
                        : p->beneficiary_wallet;
    if (p->platform == GL_SIM_GPUMARKET && p->kind == PK_EXTENSION && p->lease != SIM_NONE)
        bw = w->leases.v[p->lease].beneficiary;
    json_object_set_new(o, "beneficiary", gl_simw_addr_json(w, bw));
    json_object_set_new(o, "beneficiary_entity", json_string(w->ents.v[p->beneficiary].id));
    json_object_set_new(o, "provider", gl_simw_addr_json(w, p->provider_wallet));
    json_object_set_new(o, "provider_entity", json_string(w->ents.v[prov_ent].id));
    if (p->platform == GL_SIM_BAZAAR) {
        /* minutes on chain: exact minutes, hours as a number (fractional
         * when the minutes are not whole hours), and the milli-GPU-hours
         * the indexer stores (rounded down) */
        json_object_set_new(o, "gpu_model", json_string(gl_sim_bazaar_models[p->model]));
        json_object_set_new(o, "gpu_count", json_integer(p->gpus));
        json_object_set_new(o, "minutes", json_integer(p->minutes));
        json_object_set_new(o, "hours", p->minutes % 60 ? json_real(p->minutes / 60.0)
                                                         : json_integer(p->minutes / 60));
        uint64_t gm = (uint64_t)p->gpus * p->minutes;
        json_object_set_new(o, "gpu_hours", gm % 60 ? json_real((double)gm / 60.0) : json_integer((json_int_t)(gm / 60)));
        json_object_set_new(o, "gpu_mhours", json_integer((json_int_t)(gm * 1000 / 60)));
    } else {
        json_object_set_new(o, "gpu_model", json_string(gl_sim_models[p->model].name));
        json_object_set_new(o, "gpu_count", json_integer(p->gpus));
        json_object_set_new(o, "hours", json_integer(p->hours));
        json_object_set_new(o, "gpu_hours", json_integer((json_int_t)p->gpus * p->hours));
    }
    json_object_set_new(o, "amount", gl_simw_amt_json(p->amount));
    json_object_set_new(o, "token", json_string(gl_sims_asset_name(as)));
    json_object_set_new(o, "token_address", gl_simw_addr_json(w, gl_simw_token(w, as)));
    bool has_id = p->platform == GL_SIM_GPUMARKET || p->platform == GL_SIM_SPHERON;
    char idbuf[24];
    snprintf(idbuf, sizeof idbuf, "%llu", (unsigned long long)p->chain_id_of);
    if (p->platform == GL_SIM_BAZAAR)
        json_object_set_new(o, "lease_id", hexj(p->rental_id, 32)); /* the bytes32 rental id */
    else
        json_object_set_new(o, "lease_id", has_id ? json_string(idbuf) : json_null());
    json_object_set_new(o, "self_dealing", json_boolean(payer_ent == prov_ent || (p->flags & PF_SELF)));
    json_object_set_new(o, "circular", json_boolean(p->flags & PF_CIRCULAR));
    json_object_set_new(o, "typology", p->typology ? json_string(gl_sims_typology_name((sim_typology)p->typology))
                                                   : json_null());
    json_object_set_new(o, "resale_of", p->resale_of != SIM_NONE && pos_of[p->resale_of] != SIM_NONE
                                            ? json_integer(pos_of[p->resale_of]) : json_null());
    json_object_set_new(o, "order_group", p->group != SIM_NONE ? json_integer(p->group) : json_null());
    return o;
}

/* Add amount to obj[key] (decimal strings). */
static void add_amount(json_t *obj, const char *key, sim_amt v)
{
    json_t *cur = json_object_get(obj, key);
    sim_amt have = 0;
    if (cur)
        for (const char *s = json_string_value(cur); s && *s; s++)
            have = have * 10 + (sim_amt)(*s - '0');
    json_object_set_new(obj, key, gl_simw_amt_json(have + v));
}

static json_t *volume_json(json_t *payments)
{
    json_t *vol = json_object();
    size_t i;
    json_t *p;
    json_array_foreach(payments, i, p) {
        const char *plat = json_string_value(json_object_get(p, "platform"));
        const char *day = json_string_value(json_object_get(p, "day"));
        const char *tok = json_string_value(json_object_get(p, "token"));
        sim_amt amt = 0;
        for (const char *s = json_string_value(json_object_get(p, "amount")); s && *s; s++)
            amt = amt * 10 + (sim_amt)(*s - '0');
        json_t *pv = json_object_get(vol, plat);
        if (!pv) {
            pv = json_object();
            json_object_set_new(vol, plat, pv);
        }
        json_t *dv = json_object_get(pv, day);
        if (!dv) {
            dv = json_pack("{s:{}, s:{}, s:i, s:i}", "gross", "net", "payments", 0, "excluded_payments", 0);
            json_object_set_new(pv, day, dv);
        }
        add_amount(json_object_get(dv, "gross"), tok, amt);
        bool excluded = json_is_true(json_object_get(p, "self_dealing")) || json_is_true(json_object_get(p, "circular"));
        if (!excluded)
            add_amount(json_object_get(dv, "net"), tok, amt);
        else if (!json_object_get(json_object_get(dv, "net"), tok))
            json_object_set_new(json_object_get(dv, "net"), tok, json_string("0"));
        const char *cnt = excluded ? "excluded_payments" : "payments";
        json_object_set_new(dv, cnt, json_integer(json_integer_value(json_object_get(dv, cnt)) + 1));
    }
    return vol;
}

/* ------------------------------------------------------------------ */
/* The truth                                                            */

static json_t *contracts_json(sim_world *w)
{
    json_t *c = json_object();
    for (int i = 0; i < CT_N; i++) {
        uint32_t a = w->contract[i];
        if (a == SIM_NONE)
            continue;
        json_object_set_new(c, gl_sims_contract_name((sim_contract)i),
                            json_pack("{s:o, s:I, s:s}", "address", gl_simw_addr_json(w, a), "block",
                                      (json_int_t)w->contract_block[i], "entity",
                                      w->ents.v[w->addrs.v[a].entity].id));
    }
    for (size_t h = 0; h < w->hubs.n; h++) {
        if (w->hubs.v[h] == SIM_NONE)
            continue;
        char name[32];
        snprintf(name, sizeof name, "hub_%zu", h + 1);
        json_object_set_new(c, name, json_pack("{s:o, s:I, s:s}", "address", gl_simw_addr_json(w, w->hubs.v[h]),
                                               "block", (json_int_t)w->hub_blocks.v[h], "entity",
                                               w->ents.v[w->hub_ents.v[h]].id));
    }
    return c;
}

static json_t *tokens_json(sim_world *w)
{
    json_t *t = json_object();
    for (int as = 0; as < gl_simw_nassets(w); as++)
        json_object_set_new(t, gl_sims_asset_name((sim_asset)as),
                            json_pack("{s:o, s:i}", "address", gl_simw_addr_json(w, gl_simw_token(w, (sim_asset)as)),
                                      "decimals", (int)gl_sims_asset_decimals((sim_asset)as)));
    return t;
}

static json_t *address_json(sim_world *w, uint32_t i)
{
    const sim_addr *a = &w->addrs.v[i];
    const sim_entity *e = &w->ents.v[a->entity];
    json_t *bal = json_object();
    for (int as = 0; as < gl_simw_nassets(w); as++)
        json_object_set_new(bal, gl_sims_asset_name((sim_asset)as), gl_simw_amt_json(a->bal[as]));
    json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:b}", "entity", e->id, "kind", gl_sims_kind_name((sim_ekind)e->kind),
                          "role", gl_sims_role_name((sim_role)a->role), "balances", bal, "contract", !a->has_key);
    if (a->role == RO_PROXY_WALLET)
        json_object_set_new(o, "proxy", json_pack("{s:s, s:s}", "typology",
                                                  gl_sims_typology_name((sim_typology)a->typology), "beneficiary",
                                                  w->ents.v[a->beneficiary].id));
    if (a->customer != SIM_NONE)
        json_object_set_new(o, "customer", json_string(w->ents.v[a->customer].id));
    if (a->role == RO_OPERATOR)
        json_object_set_new(o, "initial_balances", json_pack("{s:o}", "ETH", gl_simw_amt_json(a->initial_eth)));
    return o;
}

/* provider_claims: the providers whose claims do not hold (`provider_frauds`)
 * and the honest ones that sit near a line (`provider_edge_cases`), each
 * with its wallets and GpuMarket offers (bazaar listings) as listed; and
 * the providers sweeping to a collector (`provider_sweeps`). */
static void claims_json(sim_world *w, json_t *t)
{
    static const char *const names[] = {"honest", "cheap", "busy", "relabelled", "oversold"};
    json_t *frauds = json_array(), *edges = json_array();
    for (size_t i = 0; i < w->provs.n; i++) {
        const sim_provider *p = &w->provs.v[i];
        if (p->claim == PC_HONEST || p->claim > PC_OVERSOLD)
            continue;
        json_t *wal = json_array(), *offers = json_array();
        for (unsigned k = 0; k < p->nwallets; k++)
            json_array_append_new(wal, gl_simw_addr_json(w, p->wallets[k]));
        uint64_t listed = 0;
        for (size_t o = 0; o < w->offers.n; o++) {
            const sim_offer *of = &w->offers.v[o];
            if (of->provider != i)
                continue;
            listed += of->count;
            json_array_append_new(offers, json_pack("{s:s, s:i, s:o, s:s}", "gpu_model", gl_sim_models[of->model].name,
                                                    "gpu_count", (int)of->count, "price_per_gpu_hour",
                                                    gl_simw_amt_json(of->price), "token",
                                                    of->asset == AS_ETH ? "ETH" : "USDC"));
        }
        for (size_t l = 0; l < w->listings.n; l++) { /* the bazaar's, when GpuMarket is off */
            const sim_listing *li = &w->listings.v[l];
            if (li->provider != i)
                continue;
            listed += li->units;
            json_array_append_new(offers, json_pack("{s:s, s:i, s:o, s:s}", "gpu_model", gl_sim_models[li->model].name,
                                                    "gpu_count", (int)li->units, "price_per_gpu_hour",
                                                    gl_simw_amt_json(li->rate), "token", "USDT"));
        }
        json_t *rec = json_pack("{s:s, s:s, s:o, s:o, s:I}", "entity", w->ents.v[p->entity].id,
                                p->claim >= PC_RELABELLED ? "typology" : "case", names[p->claim], "wallets", wal,
                                "offers", offers, "gpus_listed", (json_int_t)listed);
        if (p->claim == PC_OVERSOLD)
            json_object_set_new(rec, "gpus_leased_at_once", json_integer((json_int_t)p->burst));
        json_array_append_new(p->claim >= PC_RELABELLED ? frauds : edges, rec);
    }
    json_object_set_new(t, "provider_frauds", frauds);
    json_object_set_new(t, "provider_edge_cases", edges);
    /* providers whose payout wallets sweep to one collector of theirs */
    json_t *sweeps = json_array();
    for (size_t i = 0; i < w->provs.n; i++) {
        const sim_provider *p = &w->provs.v[i];
        if (p->collector == SIM_NONE)
            continue;
        json_t *wal = json_array();
        for (unsigned k = 0; k < p->nwallets; k++)
            json_array_append_new(wal, gl_simw_addr_json(w, p->wallets[k]));
        json_array_append_new(sweeps, json_pack("{s:s, s:o, s:o}", "entity", w->ents.v[p->entity].id, "wallets", wal,
                                                "collector", gl_simw_addr_json(w, p->collector)));
    }
    json_object_set_new(t, "provider_sweeps", sweeps);
}

gl_code gl_simt_build(sim_world *w, json_t **out, gl_err *err)
{
    *out = NULL;
    const gl_sim_scenario *sc = w->sc;
    json_t *t = json_object();
    if (!t)
        return gl_err_set(err, GL_ENOMEM, "out of memory building the truth");
    char buf[96];
    json_object_set_new(t, "format", json_string(GL_SIM_TRUTH_FORMAT));
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)w->opts->seed);
    json_object_set_new(t, "seed", json_string(buf));
    char start[32];
    time_str(sc->start, start);
    json_object_set_new(t, "scenario", json_pack("{s:s, s:o, s:s, s:i}", "name", sc->name, "hash", hexj(sc->hash, 32),
                                                 "start", start, "days", (int)sc->days));
    json_object_set_new(t, "chain", json_pack("{s:I, s:I, s:I, s:o, s:I, s:I, s:I}", "chain_id", (json_int_t)w->chain_id,
                                              "first_block", (json_int_t)w->first_block, "last_block",
                                              (json_int_t)w->last_block, "head_hash", hexj(w->head_hash, 32),
                                              "last_time", (json_int_t)w->last_time, "transactions",
                                              (json_int_t)w->ntxs, "market_events", (json_int_t)w->market_events));
    json_object_set_new(t, "contracts", contracts_json(w));
    json_object_set_new(t, "tokens", tokens_json(w));

    json_t *ents = json_object();
    for (size_t e = 0; e < w->ents.n; e++) {
        const sim_entity *en = &w->ents.v[e];
        json_t *wal = json_array();
        for (size_t k = 0; k < en->nwallets; k++)
            json_array_append_new(wal, gl_simw_addr_json(w, en->wallets[k]));
        json_object_set_new(ents, en->id, json_pack("{s:s, s:i, s:o}", "kind", gl_sims_kind_name((sim_ekind)en->kind),
                                                    "tz", (int)en->tz, "addresses", wal));
    }
    bool dup = json_object_size(ents) != w->ents.n;
    json_object_set_new(t, "entities", ents);
    if (dup) {
        json_decref(t);
        return gl_err_set(err, GL_EINVAL, "simulator: two entities share an id");
    }

    json_t *addrs = json_object();
    for (size_t i = 0; i < w->addrs.n; i++) {
        char hex[43];
        json_object_set_new(addrs, gl_hex_encode(w->addrs.v[i].a, 20, true, hex), address_json(w, (uint32_t)i));
    }
    json_object_set_new(t, "addresses", addrs);

    /* payments in chain order */
    size_t np = 0;
    for (size_t i = 0; i < w->purch.n; i++)
        np += w->purch.v[i].paid;
    uint32_t *order = malloc((np ? np : 1) * sizeof *order);
    uint32_t *pos_of = malloc((w->purch.n ? w->purch.n : 1) * sizeof *pos_of);
    if (!order || !pos_of) {
        free(order);
        free(pos_of);
        json_decref(t);
        return gl_err_set(err, GL_ENOMEM, "out of memory building the truth");
    }
    np = 0;
    for (size_t i = 0; i < w->purch.n; i++) {
        pos_of[i] = SIM_NONE;
        if (w->purch.v[i].paid)
            order[np++] = (uint32_t)i;
    }
    qsort_r(order, np, sizeof *order, cmp_paid, w);
    for (size_t k = 0; k < np; k++)
        pos_of[order[k]] = (uint32_t)k;
    json_t *pays = json_array();
    for (size_t k = 0; k < np; k++)
        json_array_append_new(pays, payment_json(w, &w->purch.v[order[k]], pos_of));
    free(order);
    free(pos_of);
    json_object_set_new(t, "volume", volume_json(pays));
    json_object_set_new(t, "payments", pays);
    /* only with the section, so that older scenarios keep their truth bytes */
    if (sc->provider_claims.any)
        claims_json(w, t);
    if (json_object_size(t) != (sc->provider_claims.any ? 13u : 10u)) {
        json_decref(t);
        return gl_err_set(err, GL_ENOMEM, "out of memory building the truth");
    }
    *out = t;
    return GL_OK;
}

gl_code gl_sim_truth_write(const json_t *truth, const char *path, gl_err *err)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return gl_err_set(err, GL_EIO, "cannot write truth '%s': %s", path, strerror(errno));
    /* reals (the bazaar's fractional hours) with 12 significant digits:
     * 0.833333333333 rather than 0.83333333333333337 */
    int rc = json_dumpf(truth, f, JSON_SORT_KEYS | JSON_INDENT(1) | JSON_REAL_PRECISION(12));
    if (rc == 0 && fputc('\n', f) == EOF)
        rc = -1;
    if (fclose(f) != 0)
        rc = -1;
    if (rc)
        return gl_err_set(err, GL_EIO, "cannot write truth '%s'", path);
    return GL_OK;
}

/* ------------------------------------------------------------------ */
/* Platform definitions                                                 */

/* Event declarations, as the contracts in fixtures/contracts declare them
 * (which are the real platforms' where the platform has them). */
static const char *const ev_gpumarket[] = {
    "event OfferRegistered(uint256 indexed offerId, address indexed provider, string gpuModel, uint32 gpuCount, "
    "uint256 pricePerGpuHour, string region, address token)",
    "event OfferUpdated(uint256 indexed offerId, address indexed provider, uint32 gpuCount, uint256 pricePerGpuHour)",
    "event OfferClosed(uint256 indexed offerId, address indexed provider)",
    "event LeaseOpened(uint256 indexed leaseId, address indexed buyer, address indexed beneficiary, address provider, "
    "uint256 offerId, string gpuModel, uint32 gpuCount, uint32 durationHours, uint256 amount, address token)",
    "event LeaseExtended(uint256 indexed leaseId, address indexed payer, address indexed beneficiary, address provider, "
    "uint32 addedHours, uint32 totalHours, uint256 amount, address token)",
    "event LeaseEnded(uint256 indexed leaseId, address indexed buyer, address indexed provider, uint32 usedHours, "
    "uint256 providerAmount, uint256 refund, address token)",
    "event Withdrawal(address indexed provider, address indexed token, uint256 amount)",
    NULL};
static const char *const ev_livepeer[] = {
    "event DepositFunded(address indexed sender, uint256 amount)",
    "event ReserveFunded(address indexed reserveHolder, uint256 amount)",
    "event WinningTicketTransfer(address indexed sender, address indexed recipient, uint256 amount)",
    "event WinningTicketRedeemed(address indexed sender, address indexed recipient, uint256 faceValue, "
    "uint256 winProb, uint256 senderNonce, uint256 recipientRand, bytes auxData)",
    "event ReserveClaimed(address indexed reserveHolder, address claimant, uint256 amount)",
    "event Withdrawal(address indexed sender, uint256 deposit, uint256 reserve)",
    NULL};
/* The patterns of the built-in spheron-base definition
 * (fixtures/platforms/spheron-base.json): the look-alike writes the
 * compressed specs Spheron's SDK writes, so the same patterns read them. */
#define GL_SPHERON_GPU_MODEL_RE "vendor/[A-Za-z0-9_-]+/model/([A-Za-z0-9_.+-]+)"
#define GL_SPHERON_GPU_COUNT_RE \
    "[{,]g:\\{a:\\[[^]]*\\],u:([0-9]+)|\"GPU\":\\{\"Attributes\":\\[[^]]*\\],\"Units\":([0-9]+)"

static const char *const ev_glm[] = {
    "event Transfer(address indexed from, address indexed to, uint256 value)",
    "event Approval(address indexed owner, address indexed spender, uint256 value)",
    NULL};
static const char *const ev_lock[] = {
    "event DepositCreated(uint256 indexed id, address spender)",
    "event DepositExtended(uint256 indexed id, address spender)",
    "event DepositClosed(uint256 indexed id, address spender)",
    "event DepositTerminated(uint256 indexed id, address spender)",
    "event DepositFeeTransfer(uint256 indexed id, address spender, uint128 amount)",
    "event DepositTransfer(uint256 indexed id, address spender, address recipient, uint128 amount)",
    NULL};
static const char *const ev_order[] = {
    "event OrderCreated(uint64 orderId, address creator, uint256 maxPrice, uint64 numOfBlocks, address token, "
    "string specs, uint16 version, uint8 mode)",
    "event OrderMatched(uint64 orderId, address providerAddress, uint256 acceptedPrice, uint256 leaseId)",
    "event OrderClosed(uint64 orderId)",
    NULL};
static const char *const ev_clease[] = {
    "event LeaseCreated(uint256 leaseId, uint256 fizzId, uint64 requestId, uint256 acceptedPrice, "
    "address providerAddress, address tenantAddress, uint32 startBlock, uint32 startTime, uint32 endTime, uint8 state)",
    "event LeaseClosed(uint256 leaseId, address providerAddress, address tenantAddress, uint256 providerAmount, "
    "uint256 refund)",
    NULL};
static const char *const ev_swan[] = {
    "event TaskCreated(string indexed taskUid, address[] cpList, address user, uint256 reward, uint256 duration)",
    "event RewardReleased(string indexed taskUid, address indexed cpAccount, address beneficiary, uint256 rewardAmount)",
    "event TaskCompleted(string indexed taskUid)",
    "event TaskTerminated(string indexed taskUid, uint256 terminateTimestamp)",
    NULL};
static const char *const ev_factory[] = {
    "event DealCreated(address indexed owner, address deal, uint256 createdAtEpoch, address paymentToken, "
    "uint256 minWorkers, uint256 targetWorkers, uint256 maxWorkersPerProvider, uint256 pricePerWorkerEpoch, "
    "(bytes4 prefixes, bytes32 hash)[] effectors, (bytes4 prefixes, bytes32 hash) appCID, "
    "uint8 providersAccessType_, address[] providersAccessList_, uint256 protocolVersion_)",
    NULL};
static const char *const ev_deal[] = {
    "event Deposited(uint256 amount)",
    "event Withdrawn(uint256 amount)",
    "event ProviderPaid(address indexed provider, uint256 amount)",
    NULL};

static const char *const ev_bazaar[] = {
    "event CapacityListed(bytes32 indexed listingId, address indexed host, bytes32 gpu, uint16 units, "
    "uint256 ratePerUnitHour)",
    "event CapacityWithdrawn(bytes32 indexed listingId, address indexed host)",
    "event Rented(bytes32 indexed rentalId, address indexed renter, address indexed host, address payer, "
    "bytes32 gpu, uint16 units, uint32 rentMinutes, uint256 cost)",
    NULL};

static json_t *decls(const char *const *d)
{
    json_t *a = json_array();
    for (; *d; d++)
        json_array_append_new(a, json_string(*d));
    return a;
}

/* One followed contract from the truth's "contracts". */
static json_t *contract_def(const json_t *contracts, const char *key, const char *name, const char *const *events,
                            json_int_t *start)
{
    const json_t *c = json_object_get(contracts, key);
    const char *addr = json_string_value(json_object_get(c, "address"));
    json_int_t blk = json_integer_value(json_object_get(c, "block"));
    if (!addr || blk <= 0)
        return NULL;
    if (start)
        *start = blk;
    return json_pack("{s:s, s:s, s:I, s:[{s:I, s:n, s:o}]}", "name", name, "address", addr, "start_block", blk,
                     "abis", "from_block", blk, "to_block", "events", decls(events));
}

static const char *taddr(const json_t *truth, const char *tok)
{
    return json_string_value(json_object_get(json_object_get(json_object_get(truth, "tokens"), tok), "address"));
}

static json_t *def_base(const char *platform, json_int_t chain_id, const char *description)
{
    char name[64];
    snprintf(name, sizeof name, "%s-sim-%lld", platform, (long long)chain_id);
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:i, s:i, s:[s]}", "format", GL_PLATFORM_FORMAT, "name", name,
                     "platform", platform, "description", description, "chain_id", chain_id, "confirmations", 0,
                     "block_time_seconds", 12, "sources", "gpuledger simulate (fixtures/contracts)");
}

static json_t *tokens_map(const json_t *truth, const char *const *syms)
{
    json_t *t = json_object();
    for (; *syms; syms++) {
        if (!strcmp(*syms, "ETH")) {
            json_object_set_new(t, "native", json_pack("{s:s, s:i}", "symbol", "ETH", "decimals",
                                                       (int)gl_sims_asset_decimals(AS_ETH)));
            continue;
        }
        for (int as = AS_ETH + 1; as < AS_N; as++)
            if (!strcmp(gl_sims_asset_name((sim_asset)as), *syms) && taddr(truth, *syms))
                json_object_set_new(t, taddr(truth, *syms),
                                    json_pack("{s:s, s:i}", "symbol", *syms, "decimals",
                                              (int)gl_sims_asset_decimals((sim_asset)as)));
    }
    return t;
}

/* Attach a role mapping; false when json_pack failed (a template bug or
 * out of memory). */
static bool set_events(json_t *def, json_t *events)
{
    return events && json_object_set_new(def, "events", events) == 0;
}

gl_code gl_sim_platform_defs(const json_t *truth, json_t **out, gl_err *err)
{
    *out = NULL;
    const json_t *contracts = json_object_get(truth, "contracts");
    json_int_t cid = json_integer_value(json_object_get(json_object_get(truth, "chain"), "chain_id"));
    const char *usdc = taddr(truth, "USDC"), *glm = taddr(truth, "GLM"), *swan = taddr(truth, "SWAN");
    if (!contracts || cid <= 0 || !usdc || !glm || !swan)
        return gl_err_set(err, GL_EINVAL, "truth lacks chain id, contracts or tokens");
    json_t *all = json_object();
    json_t *d = NULL, *c1 = NULL, *c2 = NULL;
    json_int_t s1 = 0;

    /* GpuMarket */
    d = def_base("gpumarket", cid, "gpuledger's reference GPU marketplace, deployed by gpuledger simulate");
    c1 = contract_def(contracts, "gpumarket", "GpuMarket", ev_gpumarket, NULL);
    if (!d || !c1)
        goto missing;
    json_object_set_new(d, "contracts", json_pack("[o]", c1));
    c1 = NULL;
    json_object_set_new(d, "tokens", tokens_map(truth, (const char *const[]){"USDC", "ETH", NULL}));
    if (!set_events(d, json_pack(
        "{s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s}, s:{s:s, s:s},"
        " s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s},"
        " s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s},"
        " s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s}}",
        "OfferRegistered", "kind", "offer", "lease_id", "offerId", "provider", "provider", "gpu_model", "gpuModel",
        "gpu_count", "gpuCount", "amount", "pricePerGpuHour", "token", "token",
        "OfferUpdated", "kind", "offer", "provider", "provider", "amount", "pricePerGpuHour",
        "OfferClosed", "kind", "offer", "provider", "provider",
        "LeaseOpened", "kind", "lease", "buyer", "buyer", "beneficiary", "beneficiary", "provider", "provider",
        "amount", "amount", "token", "token", "lease_id", "leaseId", "gpu_model", "gpuModel", "gpu_count",
        "gpuCount", "hours", "durationHours",
        "LeaseExtended", "kind", "extension", "payer", "payer", "beneficiary", "beneficiary", "provider", "provider",
        "amount", "amount", "token", "token", "lease_id", "leaseId", "hours", "addedHours",
        "LeaseEnded", "kind", "settlement", "buyer", "buyer", "provider", "provider", "amount", "providerAmount",
        "token", "token", "lease_id", "leaseId", "hours", "usedHours",
        "Withdrawal", "kind", "withdrawal", "provider", "provider", "amount", "amount", "token", "token")))
        goto missing;
    json_object_set_new(all, "gpumarket-sim.json", d);

    /* Livepeer */
    d = def_base("livepeer", cid, "Livepeer TicketBroker look-alike, deployed by gpuledger simulate");
    c1 = contract_def(contracts, "livepeer_ticket_broker", "TicketBroker", ev_livepeer, NULL);
    if (!d || !c1)
        goto missing;
    json_object_set_new(d, "contracts", json_pack("[o]", c1));
    c1 = NULL;
    json_object_set_new(d, "tokens", tokens_map(truth, (const char *const[]){"ETH", NULL}));
    if (!set_events(d, json_pack(
        "{s:{s:s, s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:s},"
        " s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s}}",
        "DepositFunded", "kind", "deposit", "buyer", "sender", "payer", "tx.from", "amount", "amount", "token", "native",
        "ReserveFunded", "kind", "deposit", "buyer", "reserveHolder", "payer", "tx.from", "amount", "amount", "token",
        "native",
        "WinningTicketTransfer", "kind", "payment", "buyer", "sender", "provider", "recipient", "amount", "amount",
        "token", "native",
        "WinningTicketRedeemed", "kind", "other", "buyer", "sender", "provider", "recipient",
        "ReserveClaimed", "kind", "other", "buyer", "reserveHolder", "provider", "claimant", "amount", "amount",
        "token", "native",
        "Withdrawal", "kind", "withdrawal", "buyer", "sender", "amount", "deposit", "token", "native")))
        goto missing;
    json_object_set_new(all, "livepeer-sim.json", d);

    /* Golem: GLM transfers (the batch payer emits nothing) and LockPayment */
    d = def_base("golem", cid, "Golem look-alike, deployed by gpuledger simulate: GLM transfers (batch payments "
                 "through GolemBatchPayer, which emits no events, show as transfers out of it) and LockPayment "
                 "deposits");
    c1 = contract_def(contracts, "glm", "GLM", ev_glm, NULL);
    c2 = contract_def(contracts, "golem_lock_payment", "LockPayment", ev_lock, NULL);
    if (!d || !c1 || !c2)
        goto missing;
    json_object_set_new(d, "contracts", json_pack("[oo]", c1, c2));
    c1 = c2 = NULL;
    json_object_set_new(d, "tokens", tokens_map(truth, (const char *const[]){"GLM", NULL}));
    if (!set_events(d, json_pack(
        "{s:{s:s, s:s, s:s, s:s, s:s, s:s}, s:{s:s}, s:{s:s, s:s, s:s}, s:{s:s, s:s}, s:{s:s, s:s}, s:{s:s, s:s},"
        " s:{s:s, s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s}}",
        "Transfer", "kind", "transfer", "payer", "from", "provider", "to", "buyer", "tx.from", "amount", "value",
        "token", glm,
        "Approval", "kind", "other",
        "DepositCreated", "kind", "deposit", "buyer", "id>>96", "payer", "spender",
        "DepositExtended", "kind", "deposit", "buyer", "id>>96",
        "DepositClosed", "kind", "other", "buyer", "id>>96",
        "DepositTerminated", "kind", "other", "buyer", "id>>96",
        "DepositFeeTransfer", "kind", "other", "buyer", "id>>96", "payer", "spender", "amount", "amount", "token", glm,
        "DepositTransfer", "kind", "payment", "buyer", "id>>96", "payer", "spender", "provider", "recipient",
        "amount", "amount", "token", glm, "lease_id", "id")))
        goto missing;
    json_object_set_new(all, "golem-sim.json", d);

    /* Spheron */
    d = def_base("spheron", cid, "Spheron OrderRequest and ComputeLease look-alikes, deployed by gpuledger simulate; "
                 "prices are rates per block in 18-decimal units (amount = rate x the order's blocks, scaled to the "
                 "token's decimals); specs are compressed as Spheron's SDK writes them");
    c1 = contract_def(contracts, "spheron_order_request", "OrderRequest", ev_order, NULL);
    c2 = contract_def(contracts, "spheron_compute_lease", "ComputeLease", ev_clease, NULL);
    if (!d || !c1 || !c2)
        goto missing;
    json_object_set_new(d, "contracts", json_pack("[oo]", c1, c2));
    c1 = c2 = NULL;
    json_object_set_new(d, "tokens", tokens_map(truth, (const char *const[]){"USDC", NULL}));
    json_object_set_new(d, "block_time_seconds", json_integer(2));
    if (!set_events(d, json_pack(
        "{s:{s:s, s:s, s:{s:s, s:s, s:i}, s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:s},"
        " s:{s:s, s:s}, s:{s:s},"
        " s:{s:s, s:s, s:s, s:{s:s, s:s, s:i}, s:s, s:{s:s, s:{s:s}, s:s}, s:{s:s, s:{s:s}, s:s}},"
        " s:{s:s, s:s, s:s, s:s}}",
        "OrderCreated", "kind", "deposit", "buyer", "creator", "amount", "field", "maxPrice", "per", "block",
        "scale_decimals", 18, "token", "token", "lease_id", "orderId", "gpu_model", "field", "specs", "pattern",
        GL_SPHERON_GPU_MODEL_RE, "gpu_count", "field", "specs", "pattern", GL_SPHERON_GPU_COUNT_RE,
        "duration_blocks", "numOfBlocks",
        "OrderMatched", "kind", "other", "provider", "providerAddress",
        "OrderClosed", "kind", "other",
        "LeaseCreated", "kind", "lease", "buyer", "tenantAddress", "provider", "providerAddress", "amount",
        "field", "acceptedPrice", "per", "block", "scale_decimals", 18, "lease_id", "leaseId", "token", "join",
        "OrderCreated", "on", "orderId", "requestId", "field", "token", "duration_blocks", "join", "OrderCreated",
        "on", "orderId", "requestId", "field", "numOfBlocks",
        "LeaseClosed", "kind", "settlement", "buyer", "tenantAddress", "provider", "providerAddress", "amount",
        "providerAmount")))
        goto missing;
    json_object_set_new(all, "spheron-sim.json", d);

    /* Swan */
    d = def_base("swan", cid, "Swan TaskManager look-alike, deployed by gpuledger simulate; providers are CP account "
                 "contracts, their wallets are RewardReleased.beneficiary");
    c1 = contract_def(contracts, "swan_task_manager", "TaskManager", ev_swan, NULL);
    if (!d || !c1)
        goto missing;
    json_object_set_new(d, "contracts", json_pack("[o]", c1));
    c1 = NULL;
    json_object_set_new(d, "tokens", tokens_map(truth, (const char *const[]){"SWAN", NULL}));
    if (!set_events(d, json_pack(
        "{s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s}, s:{s:s}, s:{s:s}}",
        "TaskCreated", "kind", "lease", "buyer", "user", "payer", "tx.from", "provider", "cpList[0]", "amount",
        "reward", "token", swan, "lease_id", "taskUid", "duration_seconds", "duration",
        "RewardReleased", "kind", "settlement", "provider", "beneficiary", "amount", "rewardAmount", "token", swan,
        "TaskCompleted", "kind", "other",
        "TaskTerminated", "kind", "other")))
        goto missing;
    json_object_set_new(all, "swan-sim.json", d);

    /* Fluence */
    d = def_base("fluence", cid, "Fluence DealFactory look-alike, deployed by gpuledger simulate; one contract per "
                 "deal, epochs of one hour");
    c1 = contract_def(contracts, "fluence_deal_factory", "DealFactory", ev_factory, &s1);
    if (!d || !c1)
        goto missing;
    json_object_set_new(d, "contracts", json_pack("[o]", c1));
    c1 = NULL;
    json_object_set_new(d, "factories", json_pack("[{s:s, s:s, s:s, s:s, s:[{s:I, s:n, s:o}]}]", "name", "Deal",
                                                  "factory", "DealFactory", "event", "DealCreated", "address_field",
                                                  "deal", "abis", "from_block", s1, "to_block", "events",
                                                  decls(ev_deal)));
    json_object_set_new(d, "tokens", tokens_map(truth, (const char *const[]){"USDC", NULL}));
    if (!set_events(d, json_pack(
        "{s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:s}}",
        "DealCreated", "kind", "registration", "buyer", "owner", "lease_id", "deal",
        "Deposited", "kind", "payment", "buyer", "tx.from", "amount", "amount", "token", usdc, "lease_id", "log.address",
        "Withdrawn", "kind", "withdrawal", "buyer", "tx.from", "amount", "amount", "token", usdc,
        "ProviderPaid", "kind", "settlement", "provider", "provider", "amount", "amount", "token", usdc, "lease_id",
        "log.address")))
        goto missing;
    json_object_set_new(all, "fluence-sim.json", d);
    d = NULL;

    /* ComputeBazaar, in scenarios that have it: a bytes32 model read as
     * text, durations in minutes, one token (USDT) */
    if (json_object_get(contracts, "bazaar")) {
        const char *usdt = taddr(truth, "USDT");
        d = def_base("bazaar", cid, "ComputeBazaar, gpuledger's second test market (unlike GpuMarket: bytes32 GPU "
                     "models, rentals in minutes paid straight to the host in USDT, rentFor), deployed by gpuledger "
                     "simulate");
        c1 = contract_def(contracts, "bazaar", "ComputeBazaar", ev_bazaar, NULL);
        if (!d || !c1 || !usdt)
            goto missing;
        json_object_set_new(d, "contracts", json_pack("[o]", c1));
        c1 = NULL;
        json_object_set_new(d, "tokens", tokens_map(truth, (const char *const[]){"USDT", NULL}));
        if (!set_events(d, json_pack(
            "{s:{s:s, s:s, s:s, s:{s:s, s:s}, s:s, s:s, s:s}, s:{s:s, s:s, s:s},"
            " s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:s, s:{s:s, s:s}}}",
            "CapacityListed", "kind", "offer", "lease_id", "listingId", "provider", "host", "gpu_model", "field", "gpu",
            "as", "text", "gpu_count", "units", "amount", "ratePerUnitHour", "token", usdt,
            "CapacityWithdrawn", "kind", "offer", "lease_id", "listingId", "provider", "host",
            "Rented", "kind", "lease", "buyer", "payer", "payer", "payer", "beneficiary", "renter", "provider", "host",
            "amount", "cost", "token", usdt, "lease_id", "rentalId", "gpu_model", "field", "gpu", "as", "text",
            "gpu_count", "units", "duration", "field", "rentMinutes", "unit", "minutes")))
            goto missing;
        json_object_set_new(all, "bazaar-sim.json", d);
    }
    *out = all;
    return GL_OK;

missing:
    json_decref(c1);
    json_decref(c2);
    json_decref(d);
    json_decref(all);
    return gl_err_set(err, GL_EINVAL, "truth lacks a contract of a market (or out of memory)");
}

gl_code gl_sim_platforms_write(const json_t *truth, const char *dir, gl_err *err)
{
    json_t *defs = NULL;
    gl_code rc = gl_sim_platform_defs(truth, &defs, err);
    if (rc)
        return rc;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        json_decref(defs);
        return gl_err_set(err, GL_EIO, "cannot create directory '%s': %s", dir, strerror(errno));
    }
    const char *name;
    json_t *d;
    json_object_foreach(defs, name, d) {
        /* only what the indexer's loader accepts is written */
        gl_platform *p = NULL;
        rc = gl_platform_load_json(&p, d, name, err);
        gl_platform_free(p);
        if (rc)
            break;
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        if (json_dump_file(d, path, JSON_SORT_KEYS | JSON_INDENT(2)) != 0) {
            rc = gl_err_set(err, GL_EIO, "cannot write platform definition '%s'", path);
            break;
        }
    }
    json_decref(defs);
    return rc;
}
