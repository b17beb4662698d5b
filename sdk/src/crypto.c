/* Randomness (CTR-DRBG seeded from the Mbed TLS entropy pool) and hashing. */
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/sha256.h>
#include <mbedtls/version.h>

#include "id.h"
#include "internal.h"
#include "testhook.h"

struct rove__rng {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
};

int rove__rng_new(rove__rng **out, const char *personal)
{
    *out = NULL;
    rove__rng *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return ROVE_ENOMEM;
    mbedtls_entropy_init(&r->entropy);
    mbedtls_ctr_drbg_init(&r->drbg);
    const char *pers = personal ? personal : "librove";
    if (mbedtls_ctr_drbg_seed(&r->drbg, mbedtls_entropy_func, &r->entropy,
                              (const unsigned char *)pers, strlen(pers)) != 0) {
        rove__rng_free(r);
        return ROVE_EGENERIC;
    }
    *out = r;
    return 0;
}

void rove__rng_free(rove__rng *r)
{
    if (r == NULL)
        return;
    mbedtls_ctr_drbg_free(&r->drbg);
    mbedtls_entropy_free(&r->entropy);
    rove__platform_zero(r, sizeof(*r));
    free(r);
}

int rove__rng_bytes(rove__rng *r, unsigned char *out, size_t n)
{
    if (rove__test_random != NULL) {
        rove__test_random(out, n); /* tests/sim: a run depends only on its seed */
        return 0;
    }
    return mbedtls_ctr_drbg_random(&r->drbg, out, n) == 0 ? 0 : ROVE_EGENERIC;
}

int rove__rng_ulid(rove__rng *r, char *out, int64_t now_ms)
{
    unsigned char rnd[10];
    int rc = rove__rng_bytes(r, rnd, sizeof(rnd));
    if (rc != 0)
        return rc;
    rove__id_make(out, (uint64_t)now_ms, rnd);
    return 0;
}

int rove__sha256(const void *p, size_t n, unsigned char out[32])
{
#if MBEDTLS_VERSION_MAJOR >= 3
    return mbedtls_sha256(p, n, out, 0) == 0 ? 0 : ROVE_EGENERIC;
#else
    return mbedtls_sha256_ret(p, n, out, 0) == 0 ? 0 : ROVE_EGENERIC;
#endif
}
