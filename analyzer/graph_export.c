/* graph_export.c - a gl_flow as JSON, CSV, Graphviz DOT, GEXF 1.3 and
 * GraphML (graph_export.h; layouts in docs/TRACE.md).
 *
 * Text formats are built in a gl_buf; the two XML formats with libxml2's
 * xmlTextWriter into an xmlBuffer, then copied, so that every attribute and
 * text node is escaped by libxml2.  Strings in a flow are valid UTF-8
 * (gl_utf8_clean, applied when the flow is built).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/xmlwriter.h>

#include "gpuledger/graph_export.h"

/* ------------------------------------------------------------- helpers */

void gl_flow_free(gl_flow *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n_edges; i++) {
        free(f->edges[i].amounts);
        free(f->edges[i].transfers);
    }
    free(f->edges);
    free(f->nodes);
    free(f->tokens);
    json_decref(f->query);
    free(f);
}

gl_code gl_flow_format_parse(const char *name, gl_flow_format *out, gl_err *err)
{
    static const char *const names[] = {"json", "csv", "dot", "gexf", "graphml"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (name && !strcmp(name, names[i])) {
            *out = (gl_flow_format)i;
            return GL_OK;
        }
    return gl_err_set(err, GL_EINVAL, "unknown format '%s' (json, csv, dot, gexf, graphml)", name ? name : "");
}

char *gl_utf8_clean(const char *in, char *out, size_t cap)
{
    if (!cap)
        return out;
    const unsigned char *s = (const unsigned char *)in;
    size_t o = 0;
    while (*s) {
        size_t n = 0;
        unsigned c = *s;
        uint32_t cp = 0;
        if (c < 0x80)
            n = 1;
        else if (c >= 0xc2 && c <= 0xdf)
            n = 2, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            n = 3, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            n = 4, cp = c & 0x07;
        bool ok = n > 0;
        for (size_t k = 1; ok && k < n; k++) {
            if ((s[k] & 0xc0) != 0x80)
                ok = false;
            else
                cp = (cp << 6) | (s[k] & 0x3f);
        }
        /* Overlong 3/4-byte forms, surrogates and values past U+10FFFF. */
        if (ok && ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
                   (n == 4 && (cp < 0x10000 || cp > 0x10ffff))))
            ok = false;
        if (!ok)
            n = 1;
        if (o + n >= cap)
            break;
        if (ok)
            memcpy(out + o, s, n);
        else
            out[o] = '?';
        o += n;
        s += n;
    }
    out[o] = 0;
    return out;
}

static gl_code bprintf(gl_buf *b, gl_err *err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static gl_code bprintf(gl_buf *b, gl_err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return gl_err_set(err, GL_EINVAL, "bad format");
    if (gl_buf_reserve(b, (size_t)n + 1, err))
        return GL_ENOMEM;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return GL_OK;
}

static char *short_addr(const uint8_t a[20], char out[16])
{
    char hex[43];
    gl_hex_encode(a, 20, true, hex);
    snprintf(out, 16, "%.6s..%.4s", hex, hex + 38);
    return out;
}

static const char *pos_kind_name(gl_store_pos_kind k)
{
    switch (k) {
    case GL_STORE_POS_TX: return "tx";
    case GL_STORE_POS_LOG: return "log";
    case GL_STORE_POS_TRACE: return "trace";
    }
    return "?";
}

/* "native" or the token's label or its address. */
static const char *token_name(const gl_flow *f, uint32_t t, char out[43])
{
    if (t == 0 || t >= f->n_tokens)
        return "native";
    if (f->tokens[t].label[0])
        return f->tokens[t].label;
    return gl_hex_encode(f->tokens[t].addr, 20, true, out);
}

static const gl_flow_amount *edge_amount(const gl_flow_edge *e, uint32_t token)
{
    for (size_t i = 0; i < e->n_amounts; i++)
        if (e->amounts[i].token == token)
            return &e->amounts[i];
    return NULL;
}

/* "AMOUNT TOKEN; AMOUNT TOKEN" (token addresses in full). */
static gl_code amounts_text(const gl_flow *f, const gl_flow_edge *e, gl_buf *b, gl_err *err)
{
    for (size_t i = 0; i < e->n_amounts; i++) {
        char dec[GL_U256_DEC_MAX], hex[43];
        const gl_flow_amount *a = &e->amounts[i];
        const char *tok = a->token ? gl_hex_encode(f->tokens[a->token].addr, 20, true, hex) : "native";
        if (bprintf(b, err, "%s%s %s", i ? "; " : "", gl_u256_to_dec(&a->amount, dec), tok))
            return GL_ENOMEM;
    }
    return gl_buf_push(b, 0, err) ? GL_ENOMEM : GL_OK;
}

/* ---------------------------------------------------------------- JSON */

static json_t *transfer_json(const gl_flow *f, const gl_flow_transfer *t)
{
    char hex[67], dec[GL_U256_DEC_MAX];
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "chain_id", json_integer((json_int_t)t->pos.chain_id));
    json_object_set_new(o, "block", json_integer((json_int_t)t->pos.block));
    json_object_set_new(o, "time", t->time ? json_integer((json_int_t)t->time) : json_null());
    json_object_set_new(o, "tx_hash", t->has_tx_hash ? json_string(gl_hex_encode(t->tx_hash, 32, true, hex)) : json_null());
    json_object_set_new(o, "position", json_string(pos_kind_name(t->pos.kind)));
    if (t->pos.kind == GL_STORE_POS_LOG) {
        json_object_set_new(o, "log_index", json_integer(t->pos.index));
        if (t->pos.sub)
            json_object_set_new(o, "item", json_integer(t->pos.sub));
    } else {
        json_object_set_new(o, "tx_index", json_integer(t->pos.index));
        if (t->pos.kind == GL_STORE_POS_TRACE)
            json_object_set_new(o, "trace", json_integer(t->pos.sub));
    }
    json_object_set_new(o, "token", t->token ? json_string(gl_hex_encode(f->tokens[t->token].addr, 20, true, hex))
                                             : json_string("native"));
    json_object_set_new(o, "amount", json_string(gl_u256_to_dec(&t->amount, dec)));
    if (t->unverified)
        json_object_set_new(o, "unverified", json_true());
    return o;
}

static json_t *node_json(const gl_flow_node *n)
{
    char hex[43];
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "address", json_string(gl_hex_encode(n->addr, 20, true, hex)));
    json_object_set_new(o, "hop", json_integer(n->hop));
    json_object_set_new(o, "root", json_boolean(n->root));
    json_object_set_new(o, "hub", json_boolean(n->hub));
    json_object_set_new(o, "expanded", json_boolean(n->expanded));
    json_object_set_new(o, "entity", n->entity >= 0 ? json_integer(n->entity) : json_null());
    json_object_set_new(o, "kind", n->kind[0] ? json_string(n->kind) : json_null());
    json_object_set_new(o, "kind_source",
                        n->kind[0] ? json_string(n->kind_from_analysis ? "analysis" : "heuristic") : json_null());
    json_object_set_new(o, "label", n->label[0] ? json_string(n->label) : json_null());
    json_object_set_new(o, "label_category", n->category[0] ? json_string(n->category) : json_null());
    json_object_set_new(o, "flag_score", n->scored ? json_real(n->score) : json_null());
    json_object_set_new(o, "flagged", json_boolean(n->flagged));
    return o;
}

json_t *gl_flow_json(const gl_flow *f)
{
    json_t *root = json_object(), *nodes = json_array(), *edges = json_array();
    if (!root || !nodes || !edges) {
        json_decref(root);
        json_decref(nodes);
        json_decref(edges);
        return NULL;
    }
    json_object_set(root, "query", f->query ? f->query : json_null());
    json_object_set_new(root, "analysis", json_boolean(f->analysis));
    json_object_set_new(root, "truncated", json_boolean(f->truncated));
    for (size_t i = 0; i < f->n_nodes; i++)
        json_array_append_new(nodes, node_json(&f->nodes[i]));
    for (size_t i = 0; i < f->n_edges; i++) {
        const gl_flow_edge *e = &f->edges[i];
        char a[43], b[43], dec[GL_U256_DEC_MAX], th[43];
        json_t *am = json_array(), *tr = json_array();
        for (size_t k = 0; k < e->n_amounts; k++) {
            const gl_flow_amount *x = &e->amounts[k];
            json_t *o = json_pack("{s:s,s:s,s:I}", "token",
                                  x->token ? gl_hex_encode(f->tokens[x->token].addr, 20, true, th) : "native",
                                  "amount", gl_u256_to_dec(&x->amount, dec), "transfers", (json_int_t)x->n_transfers);
            if (o && x->token && f->tokens[x->token].label[0])
                json_object_set_new(o, "token_label", json_string(f->tokens[x->token].label));
            if (o && x->overflow)
                json_object_set_new(o, "overflow", json_true());
            json_array_append_new(am, o);
        }
        for (size_t k = 0; k < e->n_transfers; k++)
            json_array_append_new(tr, transfer_json(f, &e->transfers[k]));
        json_array_append_new(
            edges, json_pack("{s:s,s:s,s:I,s:o,s:o,s:o,s:o}", "source",
                             gl_hex_encode(f->nodes[e->src].addr, 20, true, a), "target",
                             gl_hex_encode(f->nodes[e->dst].addr, 20, true, b), "transfer_count",
                             (json_int_t)e->n_transfers, "first_time",
                             e->first_time ? json_integer((json_int_t)e->first_time) : json_null(), "last_time",
                             e->last_time ? json_integer((json_int_t)e->last_time) : json_null(), "amounts", am,
                             "transfers", tr));
    }
    json_object_set_new(root, "nodes", nodes);
    json_object_set_new(root, "edges", edges);
    return root;
}

static gl_code write_json(const gl_flow *f, gl_buf *out, gl_err *err)
{
    json_t *j = gl_flow_json(f);
    char *txt = j ? json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    if (!txt)
        return gl_err_set(err, GL_ENOMEM, "out of memory writing JSON");
    gl_code rc = bprintf(out, err, "%s\n", txt);
    free(txt);
    return rc;
}

/* ----------------------------------------------------------------- CSV */

static gl_code csv_field(gl_buf *b, const char *s, gl_err *err)
{
    if (!strpbrk(s, ",\"\r\n"))
        return bprintf(b, err, "%s", s);
    if (gl_buf_push(b, '"', err))
        return GL_ENOMEM;
    for (; *s; s++)
        if ((*s == '"' && gl_buf_push(b, '"', err)) || gl_buf_push(b, (uint8_t)*s, err))
            return GL_ENOMEM;
    return gl_buf_push(b, '"', err);
}

static gl_code write_csv(const gl_flow *f, gl_buf *out, gl_err *err)
{
    gl_code rc = bprintf(out, err,
                         "source,target,source_label,target_label,token,edge_amount,edge_transfers,amount,chain_id,"
                         "block,time,tx_hash,position,index,sub,unverified\r\n");
    for (size_t i = 0; !rc && i < f->n_edges; i++) {
        const gl_flow_edge *e = &f->edges[i];
        for (size_t k = 0; !rc && k < e->n_transfers; k++) {
            const gl_flow_transfer *t = &e->transfers[k];
            const gl_flow_amount *tot = edge_amount(e, t->token);
            char a[43], b[43], tok[43], d1[GL_U256_DEC_MAX], d2[GL_U256_DEC_MAX], th[67];
            rc = bprintf(out, err, "%s,%s,", gl_hex_encode(f->nodes[e->src].addr, 20, true, a),
                         gl_hex_encode(f->nodes[e->dst].addr, 20, true, b));
            rc = rc ? rc : csv_field(out, f->nodes[e->src].label, err);
            rc = rc ? rc : bprintf(out, err, ",");
            rc = rc ? rc : csv_field(out, f->nodes[e->dst].label, err);
            rc = rc ? rc
                    : bprintf(out, err, ",%s,%s,%u,%s,%llu,%llu,", t->token ? gl_hex_encode(f->tokens[t->token].addr, 20, true, tok) : "native",
                              tot ? gl_u256_to_dec(&tot->amount, d1) : "", tot ? tot->n_transfers : 0,
                              gl_u256_to_dec(&t->amount, d2), (unsigned long long)t->pos.chain_id,
                              (unsigned long long)t->pos.block);
            if (!rc && t->time)
                rc = bprintf(out, err, "%llu", (unsigned long long)t->time);
            rc = rc ? rc
                    : bprintf(out, err, ",%s,%s,%u,%u,%s\r\n", t->has_tx_hash ? gl_hex_encode(t->tx_hash, 32, true, th) : "",
                              pos_kind_name(t->pos.kind), t->pos.index, t->pos.sub, t->unverified ? "true" : "false");
        }
    }
    return rc;
}

/* ----------------------------------------------------------------- DOT */

/* A DOT quoted string: '"' and '\' escaped, newlines as \n. */
static gl_code dot_str(gl_buf *b, const char *s, gl_err *err)
{
    if (gl_buf_push(b, '"', err))
        return GL_ENOMEM;
    for (; *s; s++) {
        if (*s == '\n') {
            if (bprintf(b, err, "\\n"))
                return GL_ENOMEM;
            continue;
        }
        if ((*s == '"' || *s == '\\') && gl_buf_push(b, '\\', err))
            return GL_ENOMEM;
        if (gl_buf_push(b, (uint8_t)*s, err))
            return GL_ENOMEM;
    }
    return gl_buf_push(b, '"', err);
}

static gl_code write_dot(const gl_flow *f, gl_buf *out, gl_err *err)
{
    gl_code rc = bprintf(out, err,
                         "digraph gpuledger {\n"
                         "  graph [rankdir=LR, fontname=\"Helvetica\"];\n"
                         "  node [shape=ellipse, fontname=\"Helvetica\", fontsize=10];\n"
                         "  edge [fontname=\"Helvetica\", fontsize=9];\n");
    gl_buf lab = GL_BUF_INIT;
    for (size_t i = 0; !rc && i < f->n_nodes; i++) {
        const gl_flow_node *n = &f->nodes[i];
        char hex[43], sh[16];
        gl_buf_reset(&lab);
        rc = bprintf(&lab, err, "%s", short_addr(n->addr, sh));
        if (!rc && n->label[0])
            rc = bprintf(&lab, err, "\n%s", n->label);
        if (!rc && (n->kind[0] || n->entity >= 0)) {
            rc = bprintf(&lab, err, "\n%s", n->kind[0] ? n->kind : "unknown");
            if (!rc && n->entity >= 0)
                rc = bprintf(&lab, err, " (entity %lld)", (long long)n->entity);
        }
        if (!rc && n->scored)
            rc = bprintf(&lab, err, "\nscore %.2f%s", n->score, n->flagged ? " FLAGGED" : "");
        rc = rc ? rc : gl_buf_push(&lab, 0, err);
        rc = rc ? rc : bprintf(out, err, "  ");
        rc = rc ? rc : dot_str(out, gl_hex_encode(n->addr, 20, true, hex), err);
        rc = rc ? rc : bprintf(out, err, " [label=");
        rc = rc ? rc : dot_str(out, (const char *)lab.data, err);
        if (!rc && n->root)
            rc = bprintf(out, err, ", shape=doublecircle");
        else if (!rc && n->hub)
            rc = bprintf(out, err, ", shape=box, style=dashed");
        if (!rc && n->flagged)
            rc = bprintf(out, err, ", color=red, fontcolor=red");
        rc = rc ? rc : bprintf(out, err, "];\n");
    }
    for (size_t i = 0; !rc && i < f->n_edges; i++) {
        const gl_flow_edge *e = &f->edges[i];
        char a[43], b[43];
        gl_buf_reset(&lab);
        for (size_t k = 0; !rc && k < e->n_amounts; k++) {
            char dec[GL_U256_DEC_MAX], tn[43], sh[16];
            const gl_flow_amount *x = &e->amounts[k];
            const char *name = token_name(f, x->token, tn);
            if (x->token && !f->tokens[x->token].label[0])
                name = short_addr(f->tokens[x->token].addr, sh);
            rc = bprintf(&lab, err, "%s%s %s", k ? "\n" : "", gl_u256_to_dec(&x->amount, dec), name);
        }
        rc = rc ? rc : bprintf(&lab, err, "\n(%zu transfer%s)", e->n_transfers, e->n_transfers == 1 ? "" : "s");
        rc = rc ? rc : gl_buf_push(&lab, 0, err);
        rc = rc ? rc : bprintf(out, err, "  ");
        rc = rc ? rc : dot_str(out, gl_hex_encode(f->nodes[e->src].addr, 20, true, a), err);
        rc = rc ? rc : bprintf(out, err, " -> ");
        rc = rc ? rc : dot_str(out, gl_hex_encode(f->nodes[e->dst].addr, 20, true, b), err);
        rc = rc ? rc : bprintf(out, err, " [label=");
        rc = rc ? rc : dot_str(out, (const char *)lab.data, err);
        rc = rc ? rc : bprintf(out, err, ", weight=%zu];\n", e->n_transfers);
    }
    gl_buf_release(&lab);
    return rc ? rc : bprintf(out, err, "}\n");
}

/* ----------------------------------------------------------------- XML */

/* Node and edge attributes shared by GEXF and GraphML: id, type per format. */
typedef struct xattr {
    const char *id;
    const char *gexf_type;
    const char *graphml_type;
} xattr;

static const xattr node_attrs[] = {
    {"address", "string", "string"}, {"entity", "long", "long"},   {"kind", "string", "string"},
    {"label", "string", "string"},   {"category", "string", "string"}, {"flag_score", "double", "double"},
    {"flagged", "boolean", "boolean"}, {"hub", "boolean", "boolean"}, {"root", "boolean", "boolean"},
    {"hop", "integer", "int"},
};
#define N_NODE_ATTRS (sizeof node_attrs / sizeof *node_attrs)

static const xattr edge_attrs[] = {
    {"amounts", "string", "string"}, {"transfers", "integer", "int"},
    {"first_time", "long", "long"},  {"last_time", "long", "long"},
};
#define N_EDGE_ATTRS (sizeof edge_attrs / sizeof *edge_attrs)

/* The value of node attribute i as text; NULL when absent (not written). */
static const char *node_attr_value(const gl_flow_node *n, size_t i, char buf[96])
{
    switch (i) {
    case 0: return gl_hex_encode(n->addr, 20, true, buf);
    case 1:
        if (n->entity < 0)
            return NULL;
        snprintf(buf, 96, "%lld", (long long)n->entity);
        return buf;
    case 2: return n->kind[0] ? n->kind : NULL;
    case 3: return n->label[0] ? n->label : NULL;
    case 4: return n->category[0] ? n->category : NULL;
    case 5:
        if (!n->scored)
            return NULL;
        /* 17 significant digits: the double itself, as the JSON has it
         * (a reader must not see a different score in Gephi). */
        snprintf(buf, 96, "%.17g", n->score);
        return buf;
    case 6: return n->flagged ? "true" : "false";
    case 7: return n->hub ? "true" : "false";
    case 8: return n->root ? "true" : "false";
    case 9: snprintf(buf, 96, "%u", n->hop); return buf;
    default: return NULL;
    }
}

static const char *edge_attr_value(const gl_flow *f, const gl_flow_edge *e, size_t i, char buf[96], gl_buf *tmp,
                                   gl_err *err)
{
    switch (i) {
    case 0:
        gl_buf_reset(tmp);
        return amounts_text(f, e, tmp, err) ? NULL : (const char *)tmp->data;
    case 1: snprintf(buf, 96, "%zu", e->n_transfers); return buf;
    case 2:
        if (!e->first_time)
            return NULL;
        snprintf(buf, 96, "%llu", (unsigned long long)e->first_time);
        return buf;
    case 3:
        if (!e->last_time)
            return NULL;
        snprintf(buf, 96, "%llu", (unsigned long long)e->last_time);
        return buf;
    default: return NULL;
    }
}

#define X(call)                                                                                                        \
    do {                                                                                                               \
        if ((call) < 0)                                                                                                \
            goto fail;                                                                                                 \
    } while (0)
#define XS(s) BAD_CAST(s)

static gl_code write_gexf(const gl_flow *f, xmlTextWriterPtr w, gl_err *err)
{
    char buf[96], hex[43], sh[16];
    gl_buf tmp = GL_BUF_INIT;
    X(xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL));
    X(xmlTextWriterStartElement(w, XS("gexf")));
    X(xmlTextWriterWriteAttribute(w, XS("xmlns"), XS("http://gexf.net/1.3")));
    X(xmlTextWriterWriteAttribute(w, XS("xmlns:xsi"), XS("http://www.w3.org/2001/XMLSchema-instance")));
    X(xmlTextWriterWriteAttribute(w, XS("xsi:schemaLocation"), XS("http://gexf.net/1.3 http://gexf.net/1.3/gexf.xsd")));
    X(xmlTextWriterWriteAttribute(w, XS("version"), XS("1.3")));
    X(xmlTextWriterStartElement(w, XS("meta")));
    X(xmlTextWriterWriteElement(w, XS("creator"), XS("gpuledger")));
    X(xmlTextWriterWriteElement(w, XS("description"), XS("fund flows between wallets (gpuledger trace/path)")));
    X(xmlTextWriterEndElement(w));
    X(xmlTextWriterStartElement(w, XS("graph")));
    X(xmlTextWriterWriteAttribute(w, XS("defaultedgetype"), XS("directed")));
    X(xmlTextWriterWriteAttribute(w, XS("mode"), XS("static")));
    for (int cls = 0; cls < 2; cls++) {
        const xattr *at = cls ? edge_attrs : node_attrs;
        size_t na = cls ? N_EDGE_ATTRS : N_NODE_ATTRS;
        X(xmlTextWriterStartElement(w, XS("attributes")));
        X(xmlTextWriterWriteAttribute(w, XS("class"), XS(cls ? "edge" : "node")));
        X(xmlTextWriterWriteAttribute(w, XS("mode"), XS("static")));
        for (size_t i = 0; i < na; i++) {
            X(xmlTextWriterStartElement(w, XS("attribute")));
            X(xmlTextWriterWriteAttribute(w, XS("id"), XS(at[i].id)));
            X(xmlTextWriterWriteAttribute(w, XS("title"), XS(at[i].id)));
            X(xmlTextWriterWriteAttribute(w, XS("type"), XS(at[i].gexf_type)));
            X(xmlTextWriterEndElement(w));
        }
        X(xmlTextWriterEndElement(w));
    }
    X(xmlTextWriterStartElement(w, XS("nodes")));
    for (size_t i = 0; i < f->n_nodes; i++) {
        const gl_flow_node *n = &f->nodes[i];
        X(xmlTextWriterStartElement(w, XS("node")));
        X(xmlTextWriterWriteAttribute(w, XS("id"), XS(gl_hex_encode(n->addr, 20, true, hex))));
        X(xmlTextWriterWriteAttribute(w, XS("label"), XS(n->label[0] ? n->label : short_addr(n->addr, sh))));
        X(xmlTextWriterStartElement(w, XS("attvalues")));
        for (size_t k = 0; k < N_NODE_ATTRS; k++) {
            const char *v = node_attr_value(n, k, buf);
            if (!v)
                continue;
            X(xmlTextWriterStartElement(w, XS("attvalue")));
            X(xmlTextWriterWriteAttribute(w, XS("for"), XS(node_attrs[k].id)));
            X(xmlTextWriterWriteAttribute(w, XS("value"), XS(v)));
            X(xmlTextWriterEndElement(w));
        }
        X(xmlTextWriterEndElement(w));
        X(xmlTextWriterEndElement(w));
    }
    X(xmlTextWriterEndElement(w));
    X(xmlTextWriterStartElement(w, XS("edges")));
    for (size_t i = 0; i < f->n_edges; i++) {
        const gl_flow_edge *e = &f->edges[i];
        X(xmlTextWriterStartElement(w, XS("edge")));
        snprintf(buf, sizeof buf, "e%zu", i);
        X(xmlTextWriterWriteAttribute(w, XS("id"), XS(buf)));
        X(xmlTextWriterWriteAttribute(w, XS("source"), XS(gl_hex_encode(f->nodes[e->src].addr, 20, true, hex))));
        X(xmlTextWriterWriteAttribute(w, XS("target"), XS(gl_hex_encode(f->nodes[e->dst].addr, 20, true, hex))));
        snprintf(buf, sizeof buf, "%zu", e->n_transfers);
        X(xmlTextWriterWriteAttribute(w, XS("weight"), XS(buf)));
        X(xmlTextWriterStartElement(w, XS("attvalues")));
        for (size_t k = 0; k < N_EDGE_ATTRS; k++) {
            const char *v = edge_attr_value(f, e, k, buf, &tmp, err);
            if (!v && k == 0)
                goto fail_mem;
            if (!v)
                continue;
            X(xmlTextWriterStartElement(w, XS("attvalue")));
            X(xmlTextWriterWriteAttribute(w, XS("for"), XS(edge_attrs[k].id)));
            X(xmlTextWriterWriteAttribute(w, XS("value"), XS(v)));
            X(xmlTextWriterEndElement(w));
        }
        X(xmlTextWriterEndElement(w));
        X(xmlTextWriterEndElement(w));
    }
    X(xmlTextWriterEndDocument(w));
    gl_buf_release(&tmp);
    return GL_OK;
fail:
    gl_buf_release(&tmp);
    return gl_err_set(err, GL_EIO, "libxml2 could not write the GEXF document");
fail_mem:
    gl_buf_release(&tmp);
    return GL_ENOMEM;
}

static gl_code write_graphml(const gl_flow *f, xmlTextWriterPtr w, gl_err *err)
{
    char buf[96], hex[43], kid[32];
    gl_buf tmp = GL_BUF_INIT;
    X(xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL));
    X(xmlTextWriterStartElement(w, XS("graphml")));
    X(xmlTextWriterWriteAttribute(w, XS("xmlns"), XS("http://graphml.graphdrawing.org/xmlns")));
    X(xmlTextWriterWriteAttribute(w, XS("xmlns:xsi"), XS("http://www.w3.org/2001/XMLSchema-instance")));
    X(xmlTextWriterWriteAttribute(w, XS("xsi:schemaLocation"),
                                  XS("http://graphml.graphdrawing.org/xmlns "
                                     "http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd")));
    for (int cls = 0; cls < 2; cls++) {
        const xattr *at = cls ? edge_attrs : node_attrs;
        size_t na = cls ? N_EDGE_ATTRS : N_NODE_ATTRS;
        for (size_t i = 0; i < na; i++) {
            snprintf(kid, sizeof kid, "%s_%s", cls ? "e" : "n", at[i].id);
            X(xmlTextWriterStartElement(w, XS("key")));
            X(xmlTextWriterWriteAttribute(w, XS("id"), XS(kid)));
            X(xmlTextWriterWriteAttribute(w, XS("for"), XS(cls ? "edge" : "node")));
            X(xmlTextWriterWriteAttribute(w, XS("attr.name"), XS(at[i].id)));
            X(xmlTextWriterWriteAttribute(w, XS("attr.type"), XS(at[i].graphml_type)));
            X(xmlTextWriterEndElement(w));
        }
    }
    X(xmlTextWriterStartElement(w, XS("key")));
    X(xmlTextWriterWriteAttribute(w, XS("id"), XS("e_weight")));
    X(xmlTextWriterWriteAttribute(w, XS("for"), XS("edge")));
    X(xmlTextWriterWriteAttribute(w, XS("attr.name"), XS("weight")));
    X(xmlTextWriterWriteAttribute(w, XS("attr.type"), XS("double")));
    X(xmlTextWriterEndElement(w));
    X(xmlTextWriterStartElement(w, XS("graph")));
    X(xmlTextWriterWriteAttribute(w, XS("id"), XS("gpuledger")));
    X(xmlTextWriterWriteAttribute(w, XS("edgedefault"), XS("directed")));
    for (size_t i = 0; i < f->n_nodes; i++) {
        const gl_flow_node *n = &f->nodes[i];
        X(xmlTextWriterStartElement(w, XS("node")));
        X(xmlTextWriterWriteAttribute(w, XS("id"), XS(gl_hex_encode(n->addr, 20, true, hex))));
        for (size_t k = 0; k < N_NODE_ATTRS; k++) {
            const char *v = node_attr_value(n, k, buf);
            if (!v)
                continue;
            snprintf(kid, sizeof kid, "n_%s", node_attrs[k].id);
            X(xmlTextWriterStartElement(w, XS("data")));
            X(xmlTextWriterWriteAttribute(w, XS("key"), XS(kid)));
            X(xmlTextWriterWriteString(w, XS(v)));
            X(xmlTextWriterEndElement(w));
        }
        X(xmlTextWriterEndElement(w));
    }
    for (size_t i = 0; i < f->n_edges; i++) {
        const gl_flow_edge *e = &f->edges[i];
        X(xmlTextWriterStartElement(w, XS("edge")));
        snprintf(buf, sizeof buf, "e%zu", i);
        X(xmlTextWriterWriteAttribute(w, XS("id"), XS(buf)));
        X(xmlTextWriterWriteAttribute(w, XS("source"), XS(gl_hex_encode(f->nodes[e->src].addr, 20, true, hex))));
        X(xmlTextWriterWriteAttribute(w, XS("target"), XS(gl_hex_encode(f->nodes[e->dst].addr, 20, true, hex))));
        for (size_t k = 0; k <= N_EDGE_ATTRS; k++) {
            const char *v;
            if (k == N_EDGE_ATTRS) {
                snprintf(buf, sizeof buf, "%zu", e->n_transfers);
                v = buf;
                snprintf(kid, sizeof kid, "e_weight");
            } else {
                v = edge_attr_value(f, e, k, buf, &tmp, err);
                if (!v && k == 0)
                    goto fail_mem;
                snprintf(kid, sizeof kid, "e_%s", edge_attrs[k].id);
            }
            if (!v)
                continue;
            X(xmlTextWriterStartElement(w, XS("data")));
            X(xmlTextWriterWriteAttribute(w, XS("key"), XS(kid)));
            X(xmlTextWriterWriteString(w, XS(v)));
            X(xmlTextWriterEndElement(w));
        }
        X(xmlTextWriterEndElement(w));
    }
    X(xmlTextWriterEndDocument(w));
    gl_buf_release(&tmp);
    return GL_OK;
fail:
    gl_buf_release(&tmp);
    return gl_err_set(err, GL_EIO, "libxml2 could not write the GraphML document");
fail_mem:
    gl_buf_release(&tmp);
    return GL_ENOMEM;
}

static gl_code write_xml(const gl_flow *f, bool gexf, gl_buf *out, gl_err *err)
{
    xmlBufferPtr xb = xmlBufferCreate();
    xmlTextWriterPtr w = xb ? xmlNewTextWriterMemory(xb, 0) : NULL;
    if (!w) {
        if (xb)
            xmlBufferFree(xb);
        return gl_err_set(err, GL_ENOMEM, "out of memory starting an XML writer");
    }
    xmlTextWriterSetIndent(w, 1);
    xmlTextWriterSetIndentString(w, BAD_CAST "  ");
    gl_code rc = gexf ? write_gexf(f, w, err) : write_graphml(f, w, err);
    xmlFreeTextWriter(w); /* flushes into xb */
    if (!rc)
        rc = gl_buf_append(out, xmlBufferContent(xb), (size_t)xmlBufferLength(xb), err);
    xmlBufferFree(xb);
    return rc;
}

gl_code gl_flow_write(const gl_flow *f, gl_flow_format fmt, gl_buf *out, gl_err *err)
{
    switch (fmt) {
    case GL_FLOW_JSON: return write_json(f, out, err);
    case GL_FLOW_CSV: return write_csv(f, out, err);
    case GL_FLOW_DOT: return write_dot(f, out, err);
    case GL_FLOW_GEXF: return write_xml(f, true, out, err);
    case GL_FLOW_GRAPHML: return write_xml(f, false, out, err);
    }
    return gl_err_set(err, GL_EINVAL, "unknown format %d", (int)fmt);
}

gl_code gl_flow_write_file(const gl_flow *f, gl_flow_format fmt, FILE *out, gl_err *err)
{
    gl_buf b = GL_BUF_INIT;
    gl_code rc = gl_flow_write(f, fmt, &b, err);
    if (!rc && b.len && fwrite(b.data, 1, b.len, out) != b.len)
        rc = gl_err_set(err, GL_EIO, "cannot write the output");
    gl_buf_release(&b);
    return rc;
}
