/* fuzz_labels.c - libFuzzer target: the label file parsers
 * (labels_import.h): our CSV, GraphSense TagPack (YAML, libyaml), the OFAC
 * SDN list as sdn.csv and as sdn.xml (libxml2), and format detection.
 *
 * Input: byte 0 picks the parser (low 3 bits: csv, tagpack, ofac-csv,
 * ofac-xml, auto) and whether --source is given (bit 3); the rest is the
 * file.  Oracles (any mismatch traps), when a parse succeeds:
 *   - the summary counts what was appended (labels == n, by_category sums
 *     to it), and a failed parse leaves the vector as it was;
 *   - differential: the labels, written out as our CSV (every field
 *     quoted), parse back with the CSV parser to the same labels, in order
 *     (an address and source given twice with other values is an error in
 *     CSV: skipped then);
 *   - every label holds a valid category name and a confidence <= 1000. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuledger/labels_import.h"

#include "fuzz.h"

static void put_quoted(gl_buf *b, const char *s)
{
    gl_err err;
    CHECK(gl_buf_push(b, '"', &err) == GL_OK);
    for (; *s; s++) {
        if (*s == '"')
            CHECK(gl_buf_push(b, '"', &err) == GL_OK);
        CHECK(gl_buf_push(b, (uint8_t)*s, &err) == GL_OK);
    }
    CHECK(gl_buf_push(b, '"', &err) == GL_OK);
}

static bool repeated_key(const gl_labels_vec *v)
{
    for (size_t i = 0; i < v->n; i++)
        for (size_t j = i + 1; j < v->n; j++)
            if (!memcmp(v->labels[i].addr, v->labels[j].addr, GL_STORE_ADDR_LEN) &&
                !strcmp(v->labels[i].source, v->labels[j].source))
                return true;
    return false;
}

static void as_csv(const gl_labels_vec *v)
{
    gl_err err;
    gl_buf b = GL_BUF_INIT;
    const char *hdr = "address,label,category,source,confidence\n";
    CHECK(gl_buf_append(&b, hdr, strlen(hdr), &err) == GL_OK);
    for (size_t i = 0; i < v->n; i++) {
        const gl_store_label *l = &v->labels[i];
        char a[43] = "0x";
        for (int k = 0; k < 20; k++)
            snprintf(a + 2 + 2 * k, 3, "%02x", l->addr[k]);
        char conf[16];
        snprintf(conf, sizeof conf, "%u.%03u", l->confidence / 1000, l->confidence % 1000);
        CHECK(gl_buf_append(&b, a, 42, &err) == GL_OK && gl_buf_push(&b, ',', &err) == GL_OK);
        put_quoted(&b, l->label);
        CHECK(gl_buf_push(&b, ',', &err) == GL_OK);
        put_quoted(&b, l->category);
        CHECK(gl_buf_push(&b, ',', &err) == GL_OK);
        put_quoted(&b, l->source);
        CHECK(gl_buf_push(&b, ',', &err) == GL_OK);
        CHECK(gl_buf_append(&b, conf, strlen(conf), &err) == GL_OK && gl_buf_push(&b, '\n', &err) == GL_OK);
    }
    gl_labels_vec back = GL_LABELS_VEC_INIT;
    gl_labels_summary sum;
    CHECK(gl_labels_parse_csv(&back, &sum, "again.csv", (const char *)b.data, b.len, NULL, &err) == GL_OK);
    CHECK(back.n == v->n);
    for (size_t i = 0; i < v->n; i++)
        CHECK(!memcmp(&back.labels[i], &v->labels[i], sizeof back.labels[i]));
    gl_labels_vec_release(&back);
    gl_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const gl_labels_format fmts[] = {GL_LABELS_FMT_CSV, GL_LABELS_FMT_TAGPACK, GL_LABELS_FMT_OFAC_CSV,
                                            GL_LABELS_FMT_OFAC_XML, GL_LABELS_FMT_AUTO};
    gl_labels_format fmt = fmts[(data[0] & 7) % 5];
    gl_labels_opts o = {.source = "fuzz-source"};
    const gl_labels_opts *op = (data[0] & 8) ? &o : NULL;
    /* a copy of exactly the file's bytes, so that a read past its end is caught */
    char *file = malloc(size - 1 ? size - 1 : 1);
    CHECK(file);
    memcpy(file, data + 1, size - 1);

    gl_err err;
    gl_labels_vec v = GL_LABELS_VEC_INIT;
    gl_labels_summary sum;
    /* one label already there: a failure must leave it alone */
    gl_labels_vec pre = GL_LABELS_VEC_INIT;
    CHECK(gl_labels_parse_csv(&pre, NULL, "pre.csv",
                              "address,label,category,source,confidence\n"
                              "0x00000000000000000000000000000000000000aa,pre,other,pre,1\n",
                              99, NULL, &err) == GL_OK &&
          pre.n == 1);
    v = pre;
    gl_code rc = gl_labels_parse(&v, &sum, fmt, fmt == GL_LABELS_FMT_AUTO ? "input" : "input.x", file, size - 1, op,
                                 &err);
    if (rc != GL_OK) {
        CHECK(v.n == 1 && !strcmp(v.labels[0].label, "pre"));
    } else {
        CHECK(sum.labels == v.n - 1 && sum.format != GL_LABELS_FMT_AUTO);
        uint64_t t = 0;
        for (int c = 0; c < GL_LABELS_NCAT; c++)
            t += sum.by_category[c];
        CHECK(t == sum.labels);
        for (size_t i = 0; i < v.n; i++) {
            gl_labels_category c;
            CHECK(gl_labels_category_parse(v.labels[i].category, strlen(v.labels[i].category), &c, NULL) == GL_OK);
            CHECK(v.labels[i].confidence <= 1000 && v.labels[i].label[0] && v.labels[i].source[0]);
            CHECK(!op || i == 0 || !strcmp(v.labels[i].source, "fuzz-source"));
        }
        if (!repeated_key(&v))
            as_csv(&v);
    }
    gl_labels_vec_release(&v);
    free(file);
    return 0;
}
