/* Clock, randomness, hex and hashing helpers (see util.h). */
#include "util.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/sha256.h>

#include "id.h"
#include "rove/errors.h"
#include "testhook.h"

static pthread_mutex_t rng_lock = PTHREAD_MUTEX_INITIALIZER;
static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;
static int rng_ready;

int roved_util_init(void)
{
    pthread_mutex_lock(&rng_lock);
    if (!rng_ready) {
        mbedtls_entropy_init(&entropy);
        mbedtls_ctr_drbg_init(&drbg);
        static const char pers[] = "roved";
        if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
                                  (const unsigned char *)pers, sizeof(pers) - 1) != 0) {
            pthread_mutex_unlock(&rng_lock);
            return ROVE_EGENERIC;
        }
        rng_ready = 1;
    }
    pthread_mutex_unlock(&rng_lock);
    return 0;
}

void roved_util_cleanup(void)
{
    pthread_mutex_lock(&rng_lock);
    if (rng_ready) {
        mbedtls_ctr_drbg_free(&drbg);
        mbedtls_entropy_free(&entropy);
        rng_ready = 0;
    }
    pthread_mutex_unlock(&rng_lock);
}

int64_t roved_util_now_ms(void)
{
    if (rove__test_clock != NULL)
        return rove__test_clock(); /* tests/sim owns time */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void roved_util_iso8601(char *out, size_t size, int64_t ms)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

int roved_util_random(void *p, size_t n)
{
    if (rove__test_random != NULL) {
        rove__test_random(p, n); /* tests/sim: a run depends only on its seed */
        return 0;
    }
    int rc = 0;
    pthread_mutex_lock(&rng_lock);
    if (!rng_ready)
        rc = ROVE_EGENERIC;
    /* CTR-DRBG hands out at most MBEDTLS_CTR_DRBG_MAX_REQUEST bytes per call. */
    for (size_t off = 0; rc == 0 && off < n;) {
        size_t chunk = n - off;
        if (chunk > MBEDTLS_CTR_DRBG_MAX_REQUEST)
            chunk = MBEDTLS_CTR_DRBG_MAX_REQUEST;
        if (mbedtls_ctr_drbg_random(&drbg, (unsigned char *)p + off, chunk) != 0)
            rc = ROVE_EGENERIC;
        off += chunk;
    }
    pthread_mutex_unlock(&rng_lock);
    return rc;
}

void roved_util_hex(char *out, const unsigned char *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int roved_util_unhex(unsigned char *out, size_t n, const char *hex)
{
    if (strlen(hex) != 2 * n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

void roved_util_sha256_hex(char *out, const void *p, size_t n)
{
    unsigned char digest[32];
    mbedtls_sha256_ret((const unsigned char *)p, n, digest, 0);
    roved_util_hex(out, digest, sizeof(digest));
}

int roved_util_ct_equal(const void *a, const void *b, size_t n)
{
    const volatile unsigned char *x = a, *y = b;
    unsigned char diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= x[i] ^ y[i];
    return diff == 0;
}

void roved_util_new_id(char *out)
{
    unsigned char rnd[10];
    if (roved_util_random(rnd, sizeof(rnd)) != 0)
        memset(rnd, 0, sizeof(rnd)); /* only before init; never in service */
    rove__id_make(out, (uint64_t)roved_util_now_ms(), rnd);
}

void roved_util_copy(char *dst, size_t size, const char *src)
{
    if (size == 0)
        return;
    if (src == NULL)
        src = "";
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}
