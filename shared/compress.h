#ifndef ROVE_SHARED_COMPRESS_H
#define ROVE_SHARED_COMPRESS_H

/* zlib (RFC 1950) framing for sync bodies. */

#include <stddef.h>

#include "buf.h"

/* Appends the zlib-compressed form of in[0..len) to out. level: 0..9, or -1. */
int rove__deflate(rove__buf *out, const void *in, size_t len, int level);

/*
 * Appends the decompressed form of in[0..len) to out. Fails with ROVE_ETOOBIG as
 * soon as the output would exceed max_out bytes (a decompression bomb is cut
 * off, never fully inflated), and with ROVE_EPROTO on corrupt, truncated or
 * trailing data.
 */
int rove__inflate(rove__buf *out, const void *in, size_t len, size_t max_out);

#endif
