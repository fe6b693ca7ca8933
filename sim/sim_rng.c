/* sim_rng.c - xoshiro256** seeded by splitmix64 (see sim_rng.h). */
#include "gpuledger/sim_rng.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void gl_sim_rng_seed(gl_sim_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xd1342543de82ef95ULL);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
        r->s[0] = 1; /* the all-zero state is the one fixed point */
}

uint64_t gl_sim_rng_next(gl_sim_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t gl_sim_rng_below(gl_sim_rng *r, uint64_t n)
{
    if (n == 0)
        return 0;
    uint64_t limit = UINT64_MAX - UINT64_MAX % n; /* values >= limit are biased */
    for (;;) {
        uint64_t v = gl_sim_rng_next(r);
        if (v < limit)
            return v % n;
    }
}

uint64_t gl_sim_rng_range(gl_sim_rng *r, uint64_t lo, uint64_t hi)
{
    if (hi <= lo)
        return lo;
    if (lo == 0 && hi == UINT64_MAX)
        return gl_sim_rng_next(r);
    return lo + gl_sim_rng_below(r, hi - lo + 1);
}

bool gl_sim_rng_chance(gl_sim_rng *r, double p)
{
    if (p <= 0)
        return false;
    if (p >= 1)
        return true;
    /* 53 random bits as an exact double in [0, 1) */
    double u = (double)(gl_sim_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
    return u < p;
}

uint64_t gl_sim_rng_count(gl_sim_rng *r, double mean)
{
    if (!(mean > 0))
        return 0;
    uint64_t base = (uint64_t)mean;
    uint64_t n = base + (gl_sim_rng_chance(r, mean - (double)base) ? 1 : 0);
    /* spread: k fair +-1 steps, k ~ mean (at most 64), keeps the mean */
    uint64_t k = base < 64 ? base : 64;
    int64_t walk = 0;
    for (uint64_t i = 0; i < k; i++)
        walk += (gl_sim_rng_next(r) & 1) ? 1 : -1;
    walk /= 2;
    if (walk < 0 && (uint64_t)(-walk) > n)
        return 0;
    return (uint64_t)((int64_t)n + walk);
}

unsigned gl_sim_rng_weighted(gl_sim_rng *r, const unsigned *weights, unsigned n)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < n; i++)
        total += weights[i];
    if (total == 0)
        return n;
    uint64_t x = gl_sim_rng_below(r, total);
    for (unsigned i = 0; i < n; i++) {
        if (x < weights[i])
            return i;
        x -= weights[i];
    }
    return n - 1;
}
