/* fuzz_prices.c - libFuzzer target: the price files (prices.h: CoinGecko's
 * daily export and the plain date,token,usd), read into a table that
 * already holds one known price.
 *
 * Input: byte 0 picks whether the CoinGecko token is given (bit 0) and the
 * file's name (bit 1: "glm-usd-max.csv", else "prices.csv"); the rest is
 * the file.  Oracles (any mismatch traps):
 *   - a file that fails adds nothing: the count is what it was, the known
 *     price is still there, and the message names the file;
 *   - a file that loads loads again into the same table (a day priced
 *     twice with the same value is no conflict) without adding a price,
 *     and into a fresh table with as many prices as it added the first
 *     time;
 *   - the known price is unchanged whatever the file said. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gpuledger/prices.h"

#include "fuzz.h"

static const char KNOWN[] = "date,token,usd\n1999-12-31,zzz,0.25\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *token = (data[0] & 1) ? "GLM" : NULL;
    const char *origin = (data[0] & 2) ? "/tmp/glm-usd-max.csv" : "prices.csv";
    char *text = malloc(size);
    CHECK(text);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0'; /* the text stops at its first NUL, as a C string */
    gl_prices *p, *fresh;
    gl_err err;
    double usd;
    CHECK(gl_prices_new(&p, &err) == GL_OK && gl_prices_new(&fresh, &err) == GL_OK);
    CHECK(gl_prices_load_text(p, KNOWN, "known.csv", NULL, &err) == GL_OK);
    size_t n0 = gl_prices_count(p);
    gl_code rc = gl_prices_load_text(p, text, origin, token, &err);
    size_t n1 = gl_prices_count(p);
    if (rc) {
        CHECK(n1 == n0);
        CHECK(strstr(err.msg, origin) != NULL);
    } else {
        CHECK(gl_prices_load_text(p, text, origin, token, &err) == GL_OK);
        CHECK(gl_prices_count(p) == n1);
        CHECK(gl_prices_load_text(fresh, text, origin, token, &err) == GL_OK);
        /* one more when the file repeats the known price itself */
        CHECK(gl_prices_count(fresh) == n1 - n0 || gl_prices_count(fresh) == n1 - n0 + 1);
    }
    CHECK(gl_prices_get(p, "1999-12-31", "zzz", NULL, &usd) && usd == 0.25);
    gl_prices_free(p);
    gl_prices_free(fresh);
    free(text);
    return 0;
}
