/* bench_rng.h - the benchmark programs' deterministic random numbers (splitmix64): the same
 * seed gives the same corpus and the same queries on every machine. */
#ifndef SEOGO_BENCH_RNG_H
#define SEOGO_BENCH_RNG_H

#include <stddef.h>
#include <stdint.h>

static uint64_t rng_state;

static inline uint64_t rng_next(void) {
  uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static inline size_t rng_below(size_t n) { return n ? (size_t)(rng_next() % n) : 0; }

#endif
