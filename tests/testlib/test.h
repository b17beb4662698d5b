#ifndef ROVE_TESTS_TESTLIB_TEST_H
#define ROVE_TESTS_TESTLIB_TEST_H

/*
 * A tiny test harness in the spirit of libgit2's clar.
 *
 * A suite is one file tests/<kind>/<module>_test.c whose cases are functions
 * `void test_<module>__<case>(void)` written at the start of a line. CMake
 * (tests/testlib/rove_test.cmake) finds them, generates the case table and
 * registers each case as its own ctest test named test_<module>__<case>.
 *
 * The ASSERT macros do not use assert(3), so they still check under NDEBUG. A
 * failed assertion prints file:line, the expression and the values, and ends
 * the process with status 1: every case runs in its own process under ctest.
 *
 * Helpers here are for tests only; they abort on out-of-memory.
 */

#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "rove/errors.h"

typedef struct rove_test_case {
    const char *name;
    void (*fn)(void);
} rove_test_case;

/* Reports a failure and ends the process with status 1. */
void rove_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));

/* Returns a copy of p[0..len) in fresh heap memory (freed by the harness at
 * the end of the case), so that ASan notices any read past len. */
void *rove_test_dup(const void *p, size_t len);

/* Prints one line of progress to stderr (shown by ctest --output-on-failure). */
void rove_test_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define ROVE_TEST_FAIL_(...) rove_test_fail(__FILE__, __LINE__, __VA_ARGS__)

#define ASSERT(expr)                                                                           \
    do {                                                                                       \
        if (!(expr))                                                                           \
            ROVE_TEST_FAIL_("ASSERT(%s)", #expr);                                              \
    } while (0)

#define ASSERT_EQ_INT(a, b)                                                                    \
    do {                                                                                       \
        long long a_ = (long long)(a), b_ = (long long)(b);                                    \
        if (a_ != b_)                                                                          \
            ROVE_TEST_FAIL_("ASSERT_EQ_INT(%s, %s): %lld != %lld", #a, #b, a_, b_);            \
    } while (0)

#define ASSERT_EQ_UINT(a, b)                                                                   \
    do {                                                                                       \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                                       \
        if (a_ != b_)                                                                          \
            ROVE_TEST_FAIL_("ASSERT_EQ_UINT(%s, %s): %" PRIu64 " != %" PRIu64, #a, #b, a_,     \
                            b_);                                                               \
    } while (0)

/* Compares ROVE_E* codes and prints their wire names when they differ. */
#define ASSERT_RC(expr, code)                                                                  \
    do {                                                                                       \
        int a_ = (int)(expr), b_ = (int)(code);                                                \
        if (a_ != b_)                                                                          \
            ROVE_TEST_FAIL_("ASSERT_RC(%s, %s): got %d (%s), want %d (%s)", #expr, #code, a_,  \
                            rove_error_name(a_), b_, rove_error_name(b_));                     \
    } while (0)

#define ASSERT_OK(expr) ASSERT_RC(expr, 0)

#define ASSERT_EQ_STR(a, b)                                                                    \
    do {                                                                                       \
        const char *a_ = (a), *b_ = (b);                                                       \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0)                                   \
            ROVE_TEST_FAIL_("ASSERT_EQ_STR(%s, %s): \"%s\" != \"%s\"", #a, #b,                 \
                            a_ ? a_ : "(null)", b_ ? b_ : "(null)");                           \
    } while (0)

/* p[0..len) (not NUL-terminated) equals the C string s. */
#define ASSERT_EQ_STRN(p, len, s)                                                              \
    do {                                                                                       \
        const char *a_ = (const char *)(p), *b_ = (s);                                         \
        size_t la_ = (len), lb_ = strlen(b_);                                                  \
        if (a_ == NULL || la_ != lb_ || memcmp(a_, b_, lb_) != 0)                              \
            ROVE_TEST_FAIL_("ASSERT_EQ_STRN(%s, %s, %s): \"%.*s\" != \"%s\"", #p, #len, #s,    \
                            a_ ? (int)la_ : 6, a_ ? a_ : "(null)", b_);                        \
    } while (0)

#define ASSERT_EQ_MEM(a, alen, b, blen)                                                        \
    do {                                                                                       \
        size_t la_ = (alen), lb_ = (blen);                                                     \
        if (la_ != lb_ || (la_ > 0 && memcmp((a), (b), la_) != 0))                             \
            ROVE_TEST_FAIL_("ASSERT_EQ_MEM(%s, %s): lengths %zu and %zu or bytes "             \
                            "differ",                                                          \
                            #a, #b, la_, lb_);                                                 \
    } while (0)

#endif
