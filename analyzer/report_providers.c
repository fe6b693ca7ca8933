/* report_providers.c - the report's "Providers' claims" section: each
 * finding of `gpuledger providers` (oversold capacity, a model priced
 * below its market) as one table row with its figures and the leases
 * behind it, so that an investigator can open every one. */
#include <string.h>
#include <time.h>

#include "gpuledger/market.h"
#include "report_int.h"

/* A lease of a finding: chain:block:log N, linked to the explorer where
 * one is set for its chain; data-tx holds the tx hash for scripts. */
static void lease_link(gl_rw *w, const gl_report_opts *o, json_t *ev)
{
    uint64_t chain = (uint64_t)json_integer_value(json_object_get(ev, "chain_id"));
    const char *tx = json_string_value(json_object_get(ev, "tx"));
    const char *base = tx ? gl_report_explorer_for(o, chain) : NULL;
    if (base)
        gl_rw_tx_link_open(w, base, tx);
    else
        gl_rw_raw(w, "<span");
    gl_rw_raw(w, " data-tx=\"");
    gl_rw_esc(w, tx);
    gl_rw_printf(w, "\">%llu:%lld:log %lld%s", (unsigned long long)chain,
                 (long long)json_integer_value(json_object_get(ev, "block")),
                 (long long)json_integer_value(json_object_get(ev, "log_index")), base ? "</a>" : "</span>");
}

/* The row's first cells: which provider (entity, else wallet) and the finding. */
static void row_start(gl_rw *w, json_t *rec, const char *finding)
{
    json_t *ent = json_object_get(rec, "entity");
    gl_rw_raw(w, "<tr><td class=\"mono c-prov\">");
    if (json_is_integer(ent))
        gl_rw_printf(w, "entity %lld", (long long)json_integer_value(ent));
    else
        gl_rw_esc(w, json_string_value(json_object_get(rec, "wallet")));
    gl_rw_raw(w, "</td><td class=\"c-finding\">");
    gl_rw_raw(w, finding);
    gl_rw_raw(w, "</td><td class=\"c-fig\">");
}

static void oversold_row(gl_rw *w, const gl_report_opts *o, json_t *rec)
{
    row_start(w, rec, "oversold");
    time_t at = (time_t)json_integer_value(json_object_get(rec, "max_at"));
    struct tm tm;
    char when[32] = "?";
    if (gmtime_r(&at, &tm))
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
    gl_rw_printf(w, "%lld GPUs listed, %lld leased at once at %s", (long long)json_integer_value(json_object_get(rec, "gpus_listed")),
                 (long long)json_integer_value(json_object_get(rec, "max_gpus_leased_at_once")), when);
    gl_rw_raw(w, "</td><td class=\"ev c-ev\">");
    json_t *ev = json_object_get(rec, "oversold_evidence");
    json_t *offers = json_object_get(ev, "offers"), *held = json_object_get(ev, "held_at_max"), *x;
    size_t i;
    gl_rw_raw(w, "listed: ");
    json_array_foreach(offers, i, x) {
        gl_rw_raw(w, i ? " " : "");
        lease_link(w, o, x);
        gl_rw_printf(w, " (%lld)", (long long)json_integer_value(json_object_get(x, "gpus")));
    }
    gl_rw_raw(w, "<br>held: ");
    json_array_foreach(held, i, x) {
        gl_rw_raw(w, i ? " " : "");
        lease_link(w, o, x);
        gl_rw_printf(w, " (%lld)", (long long)json_integer_value(json_object_get(x, "gpus")));
    }
    gl_rw_raw(w, "</td></tr>");
}

static void price_row(gl_rw *w, const gl_report_opts *o, json_t *rec, json_t *p)
{
    row_start(w, rec, "priced below model");
    gl_rw_esc(w, json_string_value(json_object_get(p, "model")));
    gl_rw_raw(w, " in ");
    gl_rw_esc(w, json_string_value(json_object_get(p, "token")));
    gl_rw_printf(w, ": median %.6g per GPU-hour, %.3f of its %lld peers' median %.6g, a step of %.2f above it",
                 json_real_value(json_object_get(p, "median_price_per_gpu_hour")),
                 json_real_value(json_object_get(p, "ratio")), (long long)json_integer_value(json_object_get(p, "peers")),
                 json_real_value(json_object_get(p, "peer_median")), json_real_value(json_object_get(p, "gap_above")));
    const char *like = json_string_value(json_object_get(p, "priced_like"));
    if (like) {
        gl_rw_raw(w, "; priced like ");
        gl_rw_esc(w, like);
    }
    gl_rw_raw(w, "</td><td class=\"ev c-ev\">");
    json_t *x;
    size_t i;
    json_array_foreach(json_object_get(p, "evidence"), i, x) {
        gl_rw_raw(w, i ? " " : "");
        lease_link(w, o, x);
    }
    gl_rw_raw(w, "</td></tr>");
}

gl_code gl_report_providers_section(gl_rw *w, gl_store *s, const gl_market *m, gl_market_defs *defs,
                                    const gl_report_opts *o, size_t *rows, gl_err *err)
{
    json_t *recs = NULL;
    gl_code rc = gl_providers_run(&recs, s, m, gl_market_def, defs, NULL, err);
    if (rc)
        return rc;
    size_t n = 0, i, k;
    json_t *rec, *p;
    json_array_foreach(recs, i, rec) {
        n += json_is_true(json_object_get(rec, "oversold"));
        json_array_foreach(json_object_get(rec, "prices"), k, p) n += json_object_get(p, "evidence") != NULL;
    }
    gl_rw_printf(w, "<section id=\"providers\"><h2>Providers' claims</h2><p>%zu finding(s) over %zu provider "
                    "record(s), as <code>gpuledger providers</code> reports them: <b>oversold</b>, more GPUs leased "
                    "at once than its offers ever listed (capacity sold twice, or hardware that is not there), with "
                    "the offers' listing events and the leases held at that moment; <b>priced below model</b>, a "
                    "model sold under 0.6 of its other sellers' median and set apart from them by a step of 1/0.6 "
                    "(an H100 priced like an A100: a relabelled card), with the leases priced. Prices are compared "
                    "within a token here (<code>gpuledger providers --prices</code> compares them in USD). "
                    "Payout sweeps to one collector are links between the provider's wallets (entities).</p>",
                 n, json_array_size(recs));
    gl_rw_raw(w, "<table class=\"sortable\" id=\"providers-table\"><thead><tr><th data-key=\"provider\">provider</th>"
                 "<th data-key=\"finding\">finding</th><th data-key=\"figures\">figures</th>"
                 "<th data-key=\"evidence\">evidence (chain:block:log)</th></tr></thead><tbody>");
    json_array_foreach(recs, i, rec) {
        if (json_is_true(json_object_get(rec, "oversold")))
            oversold_row(w, o, rec);
        json_array_foreach(json_object_get(rec, "prices"), k, p) if (json_object_get(p, "evidence"))
            price_row(w, o, rec, p);
    }
    gl_rw_raw(w, "</tbody></table></section>");
    json_decref(recs);
    if (rows)
        *rows = n;
    return GL_OK;
}
