#ifndef ROVE_SHARED_WIRE_H
#define ROVE_SHARED_WIRE_H

/*
 * Bounds-checked CBOR (RFC 8949) writer and pull reader, on top of libcbor's
 * encoder and streaming decoder. All network bytes in Rove are read and written
 * through these functions; nothing else does pointer arithmetic on wire data.
 *
 * The reader accepts the subset Rove writes: unsigned and negative integers
 * that fit int64, text and byte strings of definite length, definite-length
 * arrays and maps, booleans, null, and floats. Indefinite lengths, tags,
 * undefined and simple values are refused with ROVE_EPROTO. A container whose
 * declared count could not fit in the remaining bytes is refused at once, so a
 * hostile count never drives an allocation.
 */

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Writer: appends to a rove__buf; errors are sticky (rove__buf_status). */
void rove__w_map(rove__buf *b, size_t npairs);
void rove__w_array(rove__buf *b, size_t n);
void rove__w_int(rove__buf *b, int64_t v);
void rove__w_real(rove__buf *b, double v);
void rove__w_bool(rove__buf *b, int v);
void rove__w_null(rove__buf *b);
/* NULL s writes null. */
void rove__w_text(rove__buf *b, const char *s);
void rove__w_textn(rove__buf *b, const char *s, size_t len);
void rove__w_bytes(rove__buf *b, const void *p, size_t len);

typedef enum rove__kind {
    ROVE__K_NULL = 0,
    ROVE__K_INT,
    ROVE__K_REAL,
    ROVE__K_TEXT,
    ROVE__K_BYTES,
    ROVE__K_BOOL,
    ROVE__K_ARRAY,
    ROVE__K_MAP
} rove__kind;

typedef struct rove__item {
    rove__kind kind;
    int64_t i;       /* INT, BOOL (0/1) */
    double d;        /* REAL */
    const char *s;   /* TEXT/BYTES: borrowed from the input, NOT NUL-terminated */
    size_t len;      /* TEXT/BYTES length; ARRAY element count; MAP pair count */
} rove__item;

#define ROVE__MAX_DEPTH 16

typedef struct rove__reader {
    const unsigned char *p;
    size_t len;
    size_t off;
} rove__reader;

void rove__r_init(rove__reader *r, const void *p, size_t len);
/* 1 when every byte has been consumed. */
int rove__r_done(const rove__reader *r);
/* Reads the next item header (a scalar, or the start of a container).
 * 0, or ROVE_EPROTO on truncated, malformed or unsupported input. */
int rove__r_next(rove__reader *r, rove__item *it);
/* Skips the contents of `it` if it is a container just returned by
 * rove__r_next (recursively, at most ROVE__MAX_DEPTH deep); scalars: no-op. */
int rove__r_skip(rove__reader *r, const rove__item *it);
/* Reads one whole value and discards it. */
int rove__r_skip_value(rove__reader *r);

/* Typed reads: ROVE_EPROTO when the next item is not of the wanted kind. */
int rove__r_map(rove__reader *r, size_t *npairs);
int rove__r_array(rove__reader *r, size_t *n);
int rove__r_int(rove__reader *r, int64_t *v);
int rove__r_text(rove__reader *r, const char **s, size_t *len);
/* Text or null (*s = NULL). */
int rove__r_text_or_null(rove__reader *r, const char **s, size_t *len);
int rove__r_bool(rove__reader *r, int *v);

/* 1 when s[0..len) is well-formed UTF-8 with no NUL byte. */
int rove__utf8_valid(const char *s, size_t len);

/* 1 when text item s[0..len) equals the C string lit. */
int rove__text_eq(const char *s, size_t len, const char *lit);

#endif
