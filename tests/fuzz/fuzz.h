#ifndef ROVE_TESTS_FUZZ_FUZZ_H
#define ROVE_TESTS_FUZZ_FUZZ_H

/*
 * Shared by the fuzz targets. A target must be able to fail on more than a
 * crash: FUZZ_CHECK aborts (which libFuzzer and the replay driver both report
 * as a finding) when a decoder's promise about its output does not hold.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(expr)                                                                       \
    do {                                                                                       \
        if (!(expr)) {                                                                         \
            fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #expr);  \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Folds bytes into a sink the compiler cannot drop, so every byte a decoder
 * hands out is really read (and ASan checks the read). */
static inline void fuzz_touch(const void *p, size_t len)
{
    static volatile unsigned sink;
    const unsigned char *s = p;
    unsigned h = sink;
    for (size_t i = 0; i < len; i++)
        h = h * 31u + s[i];
    sink = h;
}

#endif
