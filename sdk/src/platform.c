/*
 * Everything OS-specific in librove lives here: clocks, local time and memory
 * zeroing. Ports (Android, iOS, bare-metal boards) replace or extend this
 * one file.
 */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <string.h>
#include <time.h>

#include "internal.h"
#include "testhook.h"

int64_t rove__platform_now_ms(void)
{
    if (rove__test_clock != NULL)
        return rove__test_clock(); /* tests/sim owns time */
    struct timespec ts;
#if defined(CLOCK_REALTIME)
    /* POSIX first: older Android NDK levels lack C11 timespec_get. */
    if (clock_gettime(CLOCK_REALTIME, &ts) == 0)
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
#else
    if (timespec_get(&ts, TIME_UTC) == TIME_UTC)
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
#endif
    return (int64_t)time(NULL) * 1000;
}

int64_t rove__platform_mono_ms(void)
{
#if defined(CLOCK_MONOTONIC)
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0)
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
#endif
    return rove__platform_now_ms();
}

void rove__platform_local_day(int64_t t_ms, int64_t *start, int64_t *end)
{
    time_t t = (time_t)(t_ms / 1000);
    struct tm tm;
#if defined(_WIN32)
    localtime_s(&tm, &t);
#else
    localtime_r(&t, &tm);
#endif
    tm.tm_hour = 0;
    tm.tm_min = 0;
    tm.tm_sec = 0;
    tm.tm_isdst = -1;
    time_t s = mktime(&tm);
    tm.tm_mday += 1;
    tm.tm_hour = 0;
    tm.tm_min = 0;
    tm.tm_sec = 0;
    tm.tm_isdst = -1;
    time_t e = mktime(&tm);
    *start = (int64_t)s * 1000;
    *end = (int64_t)e * 1000;
}

void rove__platform_zero(void *p, size_t n)
{
    /* A volatile function pointer keeps the compiler from eliding the call. */
    static void *(*const volatile zero)(void *, int, size_t) = memset;
    if (p != NULL && n > 0)
        zero(p, 0, n);
}
