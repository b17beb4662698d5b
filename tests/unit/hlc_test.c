/* Tests of the hybrid logical clock (shared/hlc.c). */
#include <stdint.h>

#include "hlc.h"
#include "test.h"

#define T0 1700000000000ull /* a plausible wall clock, ms */

void test_hlc__pack_and_unpack(void)
{
    uint64_t h = rove__hlc_pack(T0, 7);
    ASSERT_EQ_UINT(rove__hlc_ms(h), T0);
    ASSERT_EQ_UINT(rove__hlc_counter(h), 7);
    /* The counter is masked to 16 bits and never spills into the ms. */
    ASSERT_EQ_UINT(rove__hlc_pack(T0, 0x1FFFF), rove__hlc_pack(T0, 0xFFFF));
    ASSERT_EQ_UINT(rove__hlc_counter(rove__hlc_pack(T0, ROVE__HLC_COUNTER_MAX)), 0xFFFF);
    /* Values order as (ms, counter). */
    ASSERT(rove__hlc_pack(T0, 0xFFFF) < rove__hlc_pack(T0 + 1, 0));
    ASSERT(rove__hlc_pack(T0, 1) > rove__hlc_pack(T0, 0));
}

void test_hlc__now_follows_the_wall_clock(void)
{
    rove__hlc c = {0};
    ASSERT_EQ_UINT(rove__hlc_now(&c, T0), rove__hlc_pack(T0, 0));
    ASSERT_EQ_UINT(rove__hlc_now(&c, T0 + 5), rove__hlc_pack(T0 + 5, 0));
}

void test_hlc__now_is_strictly_monotonic(void)
{
    rove__hlc c = {0};
    uint64_t prev = rove__hlc_now(&c, T0);
    /* Same millisecond: the counter ticks. */
    for (uint32_t i = 1; i <= 100; i++) {
        uint64_t h = rove__hlc_now(&c, T0);
        ASSERT(h > prev);
        ASSERT_EQ_UINT(h, rove__hlc_pack(T0, i));
        prev = h;
    }
    /* Wall clock stepping backwards (NTP, user change): still increasing. */
    for (uint64_t back = 1; back < 50; back++) {
        uint64_t h = rove__hlc_now(&c, T0 - back * 1000);
        ASSERT(h > prev);
        ASSERT_EQ_UINT(rove__hlc_ms(h), T0);
        prev = h;
    }
}

void test_hlc__counter_overflow_stays_monotonic(void)
{
    rove__hlc c = {rove__hlc_pack(T0, ROVE__HLC_COUNTER_MAX - 1)};
    uint64_t a = rove__hlc_now(&c, T0);
    ASSERT_EQ_UINT(a, rove__hlc_pack(T0, ROVE__HLC_COUNTER_MAX));
    uint64_t b = rove__hlc_now(&c, T0);
    ASSERT(b > a);
    /* The carry moves into the next millisecond. */
    ASSERT_EQ_UINT(b, rove__hlc_pack(T0 + 1, 0));
    /* The real wall clock catching up does not go backwards. */
    uint64_t d = rove__hlc_now(&c, T0 + 1);
    ASSERT(d > b);
    ASSERT_EQ_UINT(d, rove__hlc_pack(T0 + 1, 1));
    /* Receive at the counter limit also carries. */
    rove__hlc r = {0};
    uint64_t e = rove__hlc_recv(&r, rove__hlc_pack(T0, 0xFFFF), T0, 1000, NULL);
    ASSERT_EQ_UINT(e, rove__hlc_pack(T0 + 1, 0));
}

void test_hlc__recv_remote_ahead(void)
{
    rove__hlc c = {0};
    rove__hlc_now(&c, T0);
    int clamped = -1;
    uint64_t remote = rove__hlc_pack(T0 + 500, 3);
    uint64_t h = rove__hlc_recv(&c, remote, T0, 60000, &clamped);
    ASSERT_EQ_INT(clamped, 0);
    ASSERT(h > remote);
    ASSERT_EQ_UINT(h, remote + 1);
    /* Later local events stay ahead of what was received. */
    uint64_t n = rove__hlc_now(&c, T0 + 1);
    ASSERT(n > h);
}

void test_hlc__recv_remote_behind(void)
{
    rove__hlc c = {0};
    rove__hlc_now(&c, T0);
    int clamped = -1;
    uint64_t h = rove__hlc_recv(&c, rove__hlc_pack(T0 - 10000, 9), T0 + 3, 60000, &clamped);
    ASSERT_EQ_INT(clamped, 0);
    ASSERT_EQ_UINT(h, rove__hlc_pack(T0 + 3, 0));
    /* Remote behind and wall behind the clock: the clock's own value + 1. */
    uint64_t last = h;
    h = rove__hlc_recv(&c, rove__hlc_pack(T0 - 1, 0), T0 - 100, 60000, &clamped);
    ASSERT_EQ_UINT(h, last + 1);
    /* Remote equal to the clock. */
    last = h;
    h = rove__hlc_recv(&c, last, T0 - 100, 60000, &clamped);
    ASSERT_EQ_UINT(h, last + 1);
}

void test_hlc__recv_clamps_far_future(void)
{
    rove__hlc c = {0};
    uint64_t skew = 60000;
    int clamped = 0;
    uint64_t remote = rove__hlc_pack(T0 + 365ull * 24 * 3600 * 1000, 0); /* a year ahead */
    uint64_t h = rove__hlc_recv(&c, remote, T0, skew, &clamped);
    ASSERT_EQ_INT(clamped, 1);
    ASSERT(h < remote);
    uint64_t limit = rove__hlc_pack(T0 + skew, ROVE__HLC_COUNTER_MAX);
    ASSERT_EQ_UINT(h, limit + 1);
    /* The far-future value was not adopted: local time is still near now. */
    ASSERT(rove__hlc_ms(rove__hlc_now(&c, T0)) <= T0 + skew + 1);
    /* The clamped flag may be NULL. */
    rove__hlc d = {0};
    ASSERT_EQ_UINT(rove__hlc_recv(&d, UINT64_MAX, T0, skew, NULL), limit + 1);
}

void test_hlc__clamp_boundary(void)
{
    uint64_t skew = 1000;
    uint64_t limit = rove__hlc_pack(T0 + skew, ROVE__HLC_COUNTER_MAX);
    ASSERT_EQ_UINT(rove__hlc_clamp(limit, T0, skew), limit);
    ASSERT_EQ_UINT(rove__hlc_clamp(limit - 1, T0, skew), limit - 1);
    ASSERT_EQ_UINT(rove__hlc_clamp(limit + 1, T0, skew), limit);
    ASSERT_EQ_UINT(rove__hlc_clamp(0, T0, skew), 0);
    int clamped = -1;
    rove__hlc c = {0};
    rove__hlc_recv(&c, limit, T0, skew, &clamped);
    ASSERT_EQ_INT(clamped, 0);
    rove__hlc_recv(&c, limit + 1, T0, skew, &clamped);
    ASSERT_EQ_INT(clamped, 1);
    /* Zero skew: anything past this millisecond is clamped. */
    ASSERT_EQ_UINT(rove__hlc_clamp(rove__hlc_pack(T0 + 1, 0), T0, 0),
                   rove__hlc_pack(T0, ROVE__HLC_COUNTER_MAX));
}

void test_hlc__random_walk_is_monotonic(void)
{
    rove__hlc c = {0};
    uint64_t prev = 0, wall = T0;
    uint32_t x = 88172645u;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        /* The wall clock jitters back and forth by up to +-2 s. */
        wall = wall + (x % 4001) - 2000;
        uint64_t h;
        if (x & 0x10000) {
            uint64_t remote = rove__hlc_pack(wall + (x % 7000) - 3500, x & 0xFF);
            int clamped;
            h = rove__hlc_recv(&c, remote, wall, 3000, &clamped);
            ASSERT(clamped || h > remote);
        } else {
            h = rove__hlc_now(&c, wall);
        }
        if (h <= prev)
            ROVE_TEST_FAIL_("step %d: %" PRIu64 " after %" PRIu64, i, h, prev);
        prev = h;
    }
}

void test_hlc__huge_skew_does_not_wrap(void)
{
    /* hlc.h: only a remote value more than max_skew_ms ahead is clamped. A
     * skew so large that wall_ms + max_skew_ms leaves the 48-bit millisecond
     * range (UINT64_MAX as "no limit") must clamp nothing, not wrap around
     * and clamp everything to the past. */
    uint64_t remote = rove__hlc_pack(T0 + 10, 0);
    ASSERT_EQ_UINT(rove__hlc_clamp(remote, T0, UINT64_MAX), remote);
    ASSERT_EQ_UINT(rove__hlc_clamp(remote, T0, 1ull << 48), remote);
    int clamped = -1;
    rove__hlc c = {0};
    uint64_t h = rove__hlc_recv(&c, remote, T0, UINT64_MAX, &clamped);
    ASSERT_EQ_INT(clamped, 0);
    ASSERT(h > remote);
}
