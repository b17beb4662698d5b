#ifndef ROVE_SERVER_AUTH_H
#define ROVE_SERVER_AUTH_H

/*
 * Passwords (PBKDF2-HMAC-SHA256, stored as "pbkdf2-sha256$ITER$SALT$HASH" with
 * hex salt and hash), bearer tokens (32 random bytes as 64 hex digits; only
 * their SHA-256 is stored) and a per-user-name limiter for failed logins.
 * All functions are thread-safe.
 */

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define ROVED_TOKEN_HEX 64

/* Hashes password with a fresh 16-byte salt; out: at least 160 bytes. */
int roved_auth_hash_password(char *out, size_t size, const char *password, int iterations);
/* 1 when password matches the stored hash (constant-time compare), else 0. */
int roved_auth_verify_password(const char *stored, const char *password);
/* Burns the time of one verification, so a missing user is not told apart. */
void roved_auth_verify_dummy(const char *password, int iterations);

/* A new token and the hash to store: token[65], hash[65]. */
int roved_auth_new_token(char *token, char *hash);
/* Extracts "Bearer <token>" from an Authorization header and hashes the token.
 * ROVE_EAUTH when absent or malformed. */
int roved_auth_bearer_hash(const char *authorization, char *hash);

/*
 * Authenticates a device request on db: the device and its user. A revoked
 * device inside its drain window is let through (dev->status says revoked:
 * the caller lets it upload only). Errors: ROVE_EAUTH (no or unknown token),
 * ROVE_EREVOKED (device revoked, drain over), ROVE_EFORBIDDEN (user frozen or
 * deactivated), ROVE_ESTORE.
 */
int roved_auth_device(roved_db *db, const char *authorization, roved_device *dev,
                      roved_user *user);

/*
 * Failed-login limiter, shared by device and admin login (auth.c states the
 * rule). source is the client address. check: 0 when the attempt may go to
 * the password check now, else ROVE_ERATELIMIT with *retry_ms (may be NULL)
 * the wait. fail: records a failed password check; returns the
 * ROVED_LIMIT_* bits of the counters it locked (for the audit trail).
 * success: forgets the pair's failures.
 */
enum { ROVED_LIMIT_PAIR = 1, ROVED_LIMIT_SOURCE = 2, ROVED_LIMIT_USER = 4 };
int roved_auth_limit_check(const char *username, const char *source, int max_failures,
                           int64_t *retry_ms);
int roved_auth_limit_fail(const char *username, const char *source, int max_failures);
void roved_auth_limit_success(const char *username, const char *source);

#endif
