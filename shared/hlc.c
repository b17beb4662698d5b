/* Hybrid logical clock (see hlc.h). */
#include <stddef.h>

#include "hlc.h"

uint64_t rove__hlc_now(rove__hlc *c, uint64_t wall_ms)
{
    uint64_t wall = rove__hlc_pack(wall_ms, 0);
    if (wall > c->last)
        c->last = wall;
    else
        c->last += 1; /* counter overflow carries into the ms part: still monotonic */
    return c->last;
}

uint64_t rove__hlc_clamp(uint64_t remote, uint64_t wall_ms, uint64_t max_skew_ms)
{
    /* Saturate: a bound beyond the 48-bit millisecond range means no bound. */
    const uint64_t ms_max = (1ull << (64 - ROVE__HLC_COUNTER_BITS)) - 1;
    if (wall_ms >= ms_max || max_skew_ms >= ms_max - wall_ms)
        return remote;
    uint64_t limit = rove__hlc_pack(wall_ms + max_skew_ms, ROVE__HLC_COUNTER_MAX);
    return remote > limit ? limit : remote;
}

uint64_t rove__hlc_recv(rove__hlc *c, uint64_t remote, uint64_t wall_ms, uint64_t max_skew_ms,
                        int *clamped)
{
    uint64_t r = rove__hlc_clamp(remote, wall_ms, max_skew_ms);
    if (clamped != NULL)
        *clamped = r != remote;
    uint64_t wall = rove__hlc_pack(wall_ms, 0);
    uint64_t m = c->last;
    if (r > m)
        m = r;
    if (wall > m)
        c->last = wall;
    else
        c->last = m + 1;
    return c->last;
}
