#ifndef ROVE_SERVER_UTIL_H
#define ROVE_SERVER_UTIL_H

/*
 * Small helpers used across roved: wall clock, cryptographic randomness,
 * hex, SHA-256 and new record ids. The random generator is one Mbed TLS
 * CTR-DRBG guarded by a mutex, so every function here is thread-safe.
 */

#include <stddef.h>
#include <stdint.h>

/* Seeds the random generator; call once before any worker thread starts. */
int roved_util_init(void);
void roved_util_cleanup(void);

/* Milliseconds since the Unix epoch (UTC). */
int64_t roved_util_now_ms(void);
/* Writes "2026-11-22T22:00:00.123Z" into out (at least 25 bytes). */
void roved_util_iso8601(char *out, size_t size, int64_t ms);

/* Fills p with n cryptographically random bytes; 0 or ROVE_EGENERIC. */
int roved_util_random(void *p, size_t n);
/* Writes 2n lower-case hex digits and a NUL into out. */
void roved_util_hex(char *out, const unsigned char *p, size_t n);
/* 0 and n bytes in out, or -1 when hex is not exactly 2n hex digits. */
int roved_util_unhex(unsigned char *out, size_t n, const char *hex);
/* SHA-256 of p[0..n) as 64 hex digits and a NUL (out: at least 65 bytes). */
void roved_util_sha256_hex(char *out, const void *p, size_t n);
/* 1 when a[0..n) equals b[0..n), in time independent of the contents. */
int roved_util_ct_equal(const void *a, const void *b, size_t n);
/* A fresh ULID (out: at least 27 bytes). */
void roved_util_new_id(char *out);
/* Copies src into dst (size bytes), always NUL-terminated; truncates. */
void roved_util_copy(char *dst, size_t size, const char *src);

#endif
