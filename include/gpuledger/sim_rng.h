/* sim_rng.h - the simulator's deterministic pseudo-random numbers.
 *
 * xoshiro256** (Blackman and Vigna), seeded through splitmix64 from a seed
 * and a stream number, so that independent parts of a run draw from
 * independent streams.  No global state: every generator is a value the
 * caller owns.  Only integer arithmetic and exactly representable double
 * comparisons are used, so a seed gives the same draws on every machine.
 */
#ifndef GPULEDGER_SIM_RNG_H
#define GPULEDGER_SIM_RNG_H

#include <stdbool.h>
#include <stdint.h>

typedef struct gl_sim_rng {
    uint64_t s[4];
} gl_sim_rng;

/* Seed from (seed, stream).  Cannot fail. */
void gl_sim_rng_seed(gl_sim_rng *r, uint64_t seed, uint64_t stream);

/* The next 64 random bits.  Cannot fail. */
uint64_t gl_sim_rng_next(gl_sim_rng *r);

/* Uniform in [0, n); 0 when n == 0.  Unbiased (rejection). */
uint64_t gl_sim_rng_below(gl_sim_rng *r, uint64_t n);

/* Uniform in [lo, hi] (inclusive); lo when hi <= lo. */
uint64_t gl_sim_rng_range(gl_sim_rng *r, uint64_t lo, uint64_t hi);

/* True with probability p (p <= 0: never, p >= 1: always). */
bool gl_sim_rng_chance(gl_sim_rng *r, double p);

/* A count with mean `mean` (>= 0): floor(mean) or one more, plus a
 * symmetric spread of about sqrt(mean), never negative.  Not a true Poisson
 * draw, but free of libm so that every machine draws the same. */
uint64_t gl_sim_rng_count(gl_sim_rng *r, double mean);

/* Index drawn with probability weight[i] / sum(weights); n when the
 * weights are all zero. */
unsigned gl_sim_rng_weighted(gl_sim_rng *r, const unsigned *weights, unsigned n);

#endif
