/* Test-only clock and randomness hooks (see testhook.h). */
#include "testhook.h"

int64_t (*rove__test_clock)(void);
void (*rove__test_random)(void *p, size_t n);
