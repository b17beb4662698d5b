#ifndef ROVE_SHARED_TESTHOOK_H
#define ROVE_SHARED_TESTHOOK_H

/*
 * Test-only hooks, for the deterministic simulation (tests/sim). Both are NULL
 * in every real program, and then nothing changes: the SDK and roved read the
 * system clock and draw from their CTR-DRBG as usual. A test that sets them
 * owns time and randomness: the wall clock of the SDK (rove__platform_now_ms)
 * and of roved (roved_util_now_ms) returns rove__test_clock(), and random
 * bytes (ULIDs, tokens, salts) come from rove__test_random, so a run is a
 * function of its seed. Set them before any other call and only from a
 * single-threaded test; nothing here is API.
 */

#include <stddef.h>
#include <stdint.h>

extern int64_t (*rove__test_clock)(void);
extern void (*rove__test_random)(void *p, size_t n);

#endif
