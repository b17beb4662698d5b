/* Password hashing, tokens and the login limiter (see auth.h). */
#include "auth.h"

#include <arpa/inet.h>
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
 * Three counters of failed password checks, each under its exact key: the
 * pair (user name, source), the source alone and the user name alone. A
 * counter that reaches its threshold locks for BASE, and every further
 * failure doubles the lock, up to CAP. The rule an attempt meets
 * (docs/operations.md, "Login limits and tokens"):
 *   - refused while its pair is locked (guessing one user from one place);
 *   - refused while its source is locked (one place guessing many users);
 *   - refused while its user name is locked, but only from a source that has
 *     failed itself within the window: a clean source still reaches the
 *     password check, so nobody can lock a user out from elsewhere.
 * Entries are held in a bounded table and are dropped only once dead (no
 * lock and no failure for WINDOW), so filling the table cannot reset a live
 * counter; when it is full of live entries, failures from untracked sources
 * cannot be counted and such sources are refused until it drains. */

#define LIMIT_CAP 16384
#define LIMIT_BUCKETS 4096
#define LIMIT_KEY 136
#define LIMIT_BASE_MS (30 * 1000)
#define LIMIT_CAP_MS (15 * 60 * 1000)
#define LIMIT_WINDOW_MS (15 * 60 * 1000)

typedef struct limit_entry {
    char key[LIMIT_KEY];
    int failures;
    int64_t last_fail;
    int64_t locked_until;
    int next; /* chain in a bucket, or in the free list; -1 ends it */
} limit_entry;

static limit_entry limits[LIMIT_CAP];
static int buckets[LIMIT_BUCKETS];
static int free_head = -1, limit_used;
static int limit_ready;
static int64_t overflow_until; /* table full of live entries: refuse the untracked */
static pthread_mutex_t limit_lock = PTHREAD_MUTEX_INITIALIZER;

static uint32_t key_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static void limit_init(void)
{
    if (limit_ready)
        return;
    for (int i = 0; i < LIMIT_BUCKETS; i++)
        buckets[i] = -1;
    limit_ready = 1;
}

static int entry_dead(const limit_entry *e, int64_t now)
{
    int64_t last = e->locked_until > e->last_fail ? e->locked_until : e->last_fail;
    return now - last >= LIMIT_WINDOW_MS;
}

static limit_entry *limit_find(const char *key)
{
    for (int i = buckets[key_hash(key) % LIMIT_BUCKETS]; i >= 0; i = limits[i].next)
        if (strcmp(limits[i].key, key) == 0)
            return &limits[i];
    return NULL;
}

/* Drops every dead entry (only when the table runs out of room). */
static void limit_sweep(int64_t now)
{
    for (int b = 0; b < LIMIT_BUCKETS; b++) {
        int *link = &buckets[b];
        while (*link >= 0) {
            limit_entry *e = &limits[*link];
            if (entry_dead(e, now)) {
                int i = *link;
                *link = e->next;
                e->next = free_head;
                free_head = i;
            } else {
                link = &e->next;
            }
        }
    }
}

static limit_entry *limit_get(const char *key, int64_t now)
{
    limit_entry *e = limit_find(key);
    if (e != NULL)
        return e;
    if (free_head < 0 && limit_used == LIMIT_CAP)
        limit_sweep(now);
    int i;
    if (free_head >= 0) {
        i = free_head;
        free_head = limits[i].next;
    } else if (limit_used < LIMIT_CAP) {
        i = limit_used++;
    } else {
        return NULL;
    }
    e = &limits[i];
    memset(e, 0, sizeof(*e));
    roved_util_copy(e->key, sizeof(e->key), key);
    uint32_t b = key_hash(key) % LIMIT_BUCKETS;
    e->next = buckets[b];
    buckets[b] = i;
    return e;
}

/* The source as counted: an IPv6 address by its /64 (one subscriber). */
static void source_key(char *out, size_t size, const char *source)
{
    unsigned char a[16];
    if (source != NULL && inet_pton(AF_INET6, source, a) == 1) {
        char text[INET6_ADDRSTRLEN];
        memset(a + 8, 0, 8);
        if (inet_ntop(AF_INET6, a, text, sizeof(text)) != NULL) {
            snprintf(out, size, "%s/64", text);
            return;
        }
    }
    roved_util_copy(out, size, source ? source : "-");
}

static void keys(char pair[LIMIT_KEY], char src[LIMIT_KEY], char user[LIMIT_KEY],
                 const char *username, const char *source)
{
    char s[64];
    source_key(s, sizeof(s), source);
    snprintf(pair, LIMIT_KEY, "p\x1f%.63s\x1f%s", username, s);
    snprintf(src, LIMIT_KEY, "s\x1f%s", s);
    snprintf(user, LIMIT_KEY, "u\x1f%.63s", username);
}

static int64_t locked_left(const limit_entry *e, int64_t now)
{
    return e != NULL && e->locked_until > now ? e->locked_until - now : 0;
}

int roved_auth_limit_check(const char *username, const char *source, int max_failures,
                           int64_t *retry_ms)
{
    (void)max_failures;
    char kp[LIMIT_KEY], ks[LIMIT_KEY], ku[LIMIT_KEY];
    keys(kp, ks, ku, username, source);
    int64_t now = roved_util_now_ms();
    pthread_mutex_lock(&limit_lock);
    limit_init();
    limit_entry *s = limit_find(ks);
    int64_t wait = locked_left(limit_find(kp), now);
    int64_t w = locked_left(s, now);
    if (w > wait)
        wait = w;
    /* The user's own lock binds only sources that have failed themselves. */
    if (s != NULL && !entry_dead(s, now) && s->failures > 0) {
        w = locked_left(limit_find(ku), now);
        if (w > wait)
            wait = w;
    }
    if (s == NULL && overflow_until > now && overflow_until - now > wait)
        wait = overflow_until - now;
    pthread_mutex_unlock(&limit_lock);
    if (retry_ms != NULL)
        *retry_ms = wait;
    return wait > 0 ? ROVE_ERATELIMIT : 0;
}

/* Counts one failure on e; 1 when it locks e from now. */
static int count_fail(limit_entry *e, int threshold, int64_t now)
{
    if (entry_dead(e, now))
        e->failures = 0;
    e->failures++;
    e->last_fail = now;
    if (e->failures < threshold)
        return 0;
    int shift = e->failures - threshold;
    int64_t lock = shift >= 5 ? LIMIT_CAP_MS : (int64_t)LIMIT_BASE_MS << shift;
    if (lock > LIMIT_CAP_MS)
        lock = LIMIT_CAP_MS;
    e->locked_until = now + lock;
    return 1;
}

int roved_auth_limit_fail(const char *username, const char *source, int max_failures)
{
    char kp[LIMIT_KEY], ks[LIMIT_KEY], ku[LIMIT_KEY];
    keys(kp, ks, ku, username, source);
    int64_t now = roved_util_now_ms();
    int locked = 0;
    pthread_mutex_lock(&limit_lock);
    limit_init();
    const char *k[3] = {kp, ks, ku};
    const int threshold[3] = {max_failures, 3 * max_failures, 3 * max_failures};
    const int bit[3] = {ROVED_LIMIT_PAIR, ROVED_LIMIT_SOURCE, ROVED_LIMIT_USER};
    for (int i = 0; i < 3; i++) {
        limit_entry *e = limit_get(k[i], now);
        if (e == NULL) {
            overflow_until = now + LIMIT_BASE_MS;
            continue;
        }
        if (count_fail(e, threshold[i], now))
            locked |= bit[i];
    }
    pthread_mutex_unlock(&limit_lock);
    return locked;
}

void roved_auth_limit_success(const char *username, const char *source)
{
    char kp[LIMIT_KEY], ks[LIMIT_KEY], ku[LIMIT_KEY];
    keys(kp, ks, ku, username, source);
    pthread_mutex_lock(&limit_lock);
    limit_init();
    limit_entry *e = limit_find(kp);
    if (e != NULL) {
        e->failures = 0;
        e->locked_until = 0;
    }
    pthread_mutex_unlock(&limit_lock);
}
