#ifndef ROVE_SHARED_HLC_H
#define ROVE_SHARED_HLC_H

/*
 * Hybrid logical clock (Kulkarni et al.): a 64-bit value whose high 48 bits are
 * milliseconds since the Unix epoch and low 16 bits a logical counter. Values
 * compare as plain integers. A clock is not thread-safe; guard it if shared.
 */

#include <stdint.h>

#define ROVE__HLC_COUNTER_BITS 16
#define ROVE__HLC_COUNTER_MAX 0xFFFFu

typedef struct rove__hlc {
    uint64_t last;
} rove__hlc;

static inline uint64_t rove__hlc_pack(uint64_t ms, uint32_t counter)
{
    return (ms << ROVE__HLC_COUNTER_BITS) | (counter & ROVE__HLC_COUNTER_MAX);
}
static inline uint64_t rove__hlc_ms(uint64_t h) { return h >> ROVE__HLC_COUNTER_BITS; }
static inline uint32_t rove__hlc_counter(uint64_t h)
{
    return (uint32_t)(h & ROVE__HLC_COUNTER_MAX);
}

/* A new timestamp for a local event at wall-clock time wall_ms; strictly greater
 * than every value this clock has returned or received. */
uint64_t rove__hlc_now(rove__hlc *c, uint64_t wall_ms);

/*
 * Merges a remote timestamp into the clock and returns a timestamp for the
 * receive event. A remote value more than max_skew_ms ahead of wall_ms is
 * clamped to wall_ms + max_skew_ms first, so one device with a clock far in the
 * future cannot drag every other clock with it; *clamped (if not NULL) is set
 * to 1 when that happened.
 */
uint64_t rove__hlc_recv(rove__hlc *c, uint64_t remote, uint64_t wall_ms,
                        uint64_t max_skew_ms, int *clamped);

/* Clamps a remote timestamp to at most wall_ms + max_skew_ms (as rove__hlc_recv
 * does) without touching any clock. */
uint64_t rove__hlc_clamp(uint64_t remote, uint64_t wall_ms, uint64_t max_skew_ms);

#endif
