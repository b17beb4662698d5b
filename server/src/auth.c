/* Password hashing, tokens and the login limiter (see auth.h). */
#include "auth.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>

#include "rove/errors.h"
#include "util.h"

#define SALT_LEN 16
#define HASH_LEN 32

static int pbkdf2(unsigned char out[HASH_LEN], const char *password, const unsigned char *salt,
                  size_t salt_len, unsigned iterations)
{
    mbedtls_md_context_t md;
    mbedtls_md_init(&md);
    int rc = mbedtls_md_setup(&md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1);
    if (rc == 0)
        rc = mbedtls_pkcs5_pbkdf2_hmac(&md, (const unsigned char *)password, strlen(password),
                                       salt, salt_len, iterations, HASH_LEN, out);
    mbedtls_md_free(&md);
    return rc == 0 ? 0 : ROVE_EGENERIC;
}

int roved_auth_hash_password(char *out, size_t size, const char *password, int iterations)
{
    unsigned char salt[SALT_LEN], hash[HASH_LEN];
    char salt_hex[2 * SALT_LEN + 1], hash_hex[2 * HASH_LEN + 1];
    int rc = roved_util_random(salt, sizeof(salt));
    if (rc == 0)
        rc = pbkdf2(hash, password, salt, sizeof(salt), (unsigned)iterations);
    if (rc != 0)
        return rc;
    roved_util_hex(salt_hex, salt, sizeof(salt));
    roved_util_hex(hash_hex, hash, sizeof(hash));
    int n = snprintf(out, size, "pbkdf2-sha256$%d$%s$%s", iterations, salt_hex, hash_hex);
    memset(hash, 0, sizeof(hash));
    memset(hash_hex, 0, sizeof(hash_hex));
    return n > 0 && (size_t)n < size ? 0 : ROVE_EINVAL;
}

int roved_auth_verify_password(const char *stored, const char *password)
{
    char copy[200];
    if (stored == NULL || strlen(stored) >= sizeof(copy))
        return 0;
    strcpy(copy, stored);
    char *save = NULL;
    const char *scheme = strtok_r(copy, "$", &save);
    const char *iter_s = strtok_r(NULL, "$", &save);
    const char *salt_hex = strtok_r(NULL, "$", &save);
    const char *hash_hex = strtok_r(NULL, "$", &save);
    if (scheme == NULL || strcmp(scheme, "pbkdf2-sha256") != 0 || iter_s == NULL ||
        salt_hex == NULL || hash_hex == NULL)
        return 0;
    long iterations = strtol(iter_s, NULL, 10);
    unsigned char salt[SALT_LEN], want[HASH_LEN], got[HASH_LEN];
    if (iterations < 1 || iterations > 100000000 ||
        roved_util_unhex(salt, sizeof(salt), salt_hex) != 0 ||
        roved_util_unhex(want, sizeof(want), hash_hex) != 0)
        return 0;
    if (pbkdf2(got, password, salt, sizeof(salt), (unsigned)iterations) != 0)
        return 0;
    int ok = roved_util_ct_equal(got, want, HASH_LEN);
    memset(got, 0, sizeof(got));
    return ok;
}

void roved_auth_verify_dummy(const char *password, int iterations)
{
    static const unsigned char salt[SALT_LEN] = {0};
    unsigned char out[HASH_LEN];
    pbkdf2(out, password, salt, sizeof(salt), (unsigned)iterations);
}

int roved_auth_new_token(char *token, char *hash)
{
    unsigned char raw[32];
    int rc = roved_util_random(raw, sizeof(raw));
    if (rc != 0)
        return rc;
    roved_util_hex(token, raw, sizeof(raw));
    roved_util_sha256_hex(hash, token, ROVED_TOKEN_HEX);
    memset(raw, 0, sizeof(raw));
    return 0;
}

int roved_auth_bearer_hash(const char *authorization, char *hash)
{
    if (authorization == NULL)
        return ROVE_EAUTH;
    if (strncmp(authorization, "Bearer ", 7) != 0)
        return ROVE_EAUTH;
    const char *tok = authorization + 7;
    while (*tok == ' ')
        tok++;
    size_t n = strlen(tok);
    while (n > 0 && tok[n - 1] == ' ')
        n--;
    if (n != ROVED_TOKEN_HEX)
        return ROVE_EAUTH;
    for (size_t i = 0; i < n; i++) {
        char c = tok[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return ROVE_EAUTH;
    }
    roved_util_sha256_hex(hash, tok, n);
    return 0;
}

int roved_auth_device(roved_db *db, const char *authorization, roved_device *dev,
                      roved_user *user)
{
    char hash[65];
    int rc = roved_auth_bearer_hash(authorization, hash);
    if (rc != 0)
        return rc;
    rc = roved_store_device_by_token(db, hash, dev);
    if (rc == ROVE_ENOTFOUND)
        return ROVE_EAUTH;
    if (rc != 0)
        return rc;
    /* A revoked device may still upload during its drain window, whatever
     * its user's status (a leaver is deactivated); afterwards it is refused. */
    int draining = dev->status != ROVED_DEVICE_ACTIVE;
    if (draining && roved_util_now_ms() >= dev->drain_until)
        return ROVE_EREVOKED;
    rc = roved_store_user_by_id(db, dev->user_id, user);
    if (rc == ROVE_ENOTFOUND)
        return ROVE_EAUTH;
    if (rc != 0)
        return rc;
    memset(user->password_hash, 0, sizeof(user->password_hash));
    if (!draining && user->status != ROVED_USER_ACTIVE)
        return ROVE_EFORBIDDEN;
    return 0;
}

/* ---- failed-login limiter ----------------------------------------------
 * A small fixed table keyed by a hash of the user name: enough to slow down
 * password guessing against one account without growing with the input. Two
 * names sharing a slot share a budget, which errs on the safe side. */

#define LIMIT_SLOTS 1024
#define LIMIT_WINDOW_MS (5 * 60 * 1000)

static struct {
    uint32_t key;
    int failures;
    int64_t window_start;
} limits[LIMIT_SLOTS];
static pthread_mutex_t limit_lock = PTHREAD_MUTEX_INITIALIZER;

static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h | 1u;
}

int roved_auth_limit_ok(const char *username, int max_failures)
{
    uint32_t h = name_hash(username);
    int64_t now = roved_util_now_ms();
    pthread_mutex_lock(&limit_lock);
    int ok = 1;
    unsigned i = h % LIMIT_SLOTS;
    if (limits[i].key == h && now - limits[i].window_start < LIMIT_WINDOW_MS &&
        limits[i].failures >= max_failures)
        ok = 0;
    pthread_mutex_unlock(&limit_lock);
    return ok;
}

void roved_auth_limit_fail(const char *username)
{
    uint32_t h = name_hash(username);
    int64_t now = roved_util_now_ms();
    pthread_mutex_lock(&limit_lock);
    unsigned i = h % LIMIT_SLOTS;
    if (limits[i].key != h || now - limits[i].window_start >= LIMIT_WINDOW_MS) {
        limits[i].key = h;
        limits[i].failures = 0;
        limits[i].window_start = now;
    }
    limits[i].failures++;
    pthread_mutex_unlock(&limit_lock);
}

void roved_auth_limit_reset(const char *username)
{
    uint32_t h = name_hash(username);
    pthread_mutex_lock(&limit_lock);
    unsigned i = h % LIMIT_SLOTS;
    if (limits[i].key == h)
        limits[i].failures = 0;
    pthread_mutex_unlock(&limit_lock);
}
