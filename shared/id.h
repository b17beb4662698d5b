#ifndef ROVE_SHARED_ID_H
#define ROVE_SHARED_ID_H

/*
 * Record and change ids are ULIDs: 48 bits of milliseconds and 80 random bits,
 * written as 26 characters of Crockford base32 (upper case). Devices create
 * them offline. The random bytes come from the caller (Mbed TLS CTR-DRBG on
 * both sides), so this file has no platform code.
 */

#include <stddef.h>
#include <stdint.h>

#define ROVE__ID_LEN 26

/* Writes a NUL-terminated ULID into out (at least ROVE__ID_LEN + 1 bytes). */
void rove__id_make(char *out, uint64_t ms, const unsigned char rnd[10]);

/* 1 when s[0..len) is a well-formed ULID (exact length, alphabet, range). */
int rove__id_valid(const char *s, size_t len);

#endif
